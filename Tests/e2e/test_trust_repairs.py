"""Trust decisions that survive a change of policy, a look-alike name and a removal (issue 24).

Each finding of the issue is played as it was found, with the tools for genuine packages and
the independent Python writer of test_trust.py (`rewrite`) for bad ones; each is refused or
reported as specified, with nothing installed, recorded or moved that should not be
(`device()` before and after), and the genuine next version still installs afterwards.
"""

import json
import subprocess

import pytest

from cpk import assert_clean_failure, check, run
from test_install import cpk_install, listed, state  # noqa: F401  (state is a fixture)
from test_trust import (CA_EXT, CODE_SIGNING, Cert, device, genuine, installs, pki, refused, relabel,  # noqa: F401
                        rewrite, synced, write)


# --- finding 1: a floor poisoned in development mode -----------------------------------------

def test_1_a_development_mode_floor_does_not_bind_under_a_trust_policy(workdir, state, pki):
    synced(workdir)
    release, ca = pki["release"], pki["ca"].cert
    old = genuine(workdir, release, "1.2.0", mode=("--payload",))
    poisoned = write(workdir / "poisoned.cpk", rewrite(old.read_bytes(), edit=relabel("99.0.0")))
    # development mode: nothing is authenticated, the edited version installs and is the floor
    report = installs(workdir, poisoned)
    assert report["development-mode"] is True and report["version"] == "99.0.0"
    app = listed(workdir)["test"]
    assert app["rollback-floor"] == "99.0.0" and app["authenticated-floor"] is None
    upgrade = genuine(workdir, release, "1.3.0")
    before = device(state, workdir)
    refused(cpk_install(upgrade, cwd=workdir), "Version check FAILED", "older than the installed 99.0.0")
    assert device(state, workdir) == before  # in development mode the floor is still the safety net
    # a trust policy: the floor nobody authenticated does not bind, and the report says so
    check(cpk_install("trust", "add", ca, cwd=workdir))
    report = installs(workdir, upgrade)
    assert report["version"] == "1.3.0" and report["manifest-authenticated"] is True
    assert report["set-aside-floor"] == "99.0.0" and report["checks"]["version"] == "passed"
    text = check(cpk_install("install", genuine(workdir, release, "1.3.1"), cwd=workdir)).stdout.decode()
    assert "Version check PASSED" in text
    app = listed(workdir)["test"]
    assert (app["version"], app["rollback-floor"], app["authenticated-floor"]) == ("1.3.1", "1.3.1", "1.3.1")
    # the authenticated floor binds: the genuine older version is refused, nothing moves
    before = device(state, workdir)
    refused(cpk_install(genuine(workdir, release, "1.2.5"), cwd=workdir), "Version check FAILED",
            "older than the installed 1.3.1")
    assert device(state, workdir) == before
    # and the poisoned package again: refused under the trust policy (its manifest is unauthenticated)
    refused(cpk_install(poisoned, cwd=workdir), "Manifest check FAILED")
    assert device(state, workdir) == before
    assert installs(workdir, genuine(workdir, release, "1.4.0"))["set-aside-floor"] is None


def test_1_an_accepted_unauthenticated_version_keeps_the_authenticated_floor(workdir, state, pki):
    synced(workdir)
    release = pki["release"]
    check(cpk_install("trust", "add", pki["ca"].cert, cwd=workdir))
    installs(workdir, genuine(workdir, release, "1.2.0"))
    old = genuine(workdir, release, "1.1.0", mode=("--payload",))
    relabelled = write(workdir / "relabelled.cpk", rewrite(old.read_bytes(), edit=relabel("99.0.0")))
    installs(workdir, relabelled, "--accept-unauthenticated-manifest")
    app = listed(workdir)["test"]
    assert (app["version"], app["rollback-floor"], app["authenticated-floor"]) == ("99.0.0", "1.2.0", "1.2.0")
    report = installs(workdir, genuine(workdir, release, "1.3.0"))
    assert report["set-aside-floor"] is None and listed(workdir)["test"]["authenticated-floor"] == "1.3.0"


# --- finding 2: signer continuity by the subject name only -----------------------------------

@pytest.fixture(scope="module")
def lookalikes(tmp_path_factory, pki):
    """A self-signed CN=Release the device trusts, and another key named CN=Release by another
    CA the device also trusts for every application."""
    d = tmp_path_factory.mktemp("lookalikes")
    other_ca = Cert(d, "second-ca", "/CN=Second CA", extensions=CA_EXT, days=30)
    return {
        "self": Cert(d, "self-release", "/CN=Release", extensions=CODE_SIGNING),
        "second-ca": other_ca,
        "lookalike": Cert(d, "lookalike", "/CN=Release", issuer=other_ca),
    }


def test_2_the_same_name_under_another_anchor_is_another_signer(workdir, state, lookalikes):
    synced(workdir)
    genuine_signer, lookalike = lookalikes["self"], lookalikes["lookalike"]
    check(cpk_install("trust", "add", genuine_signer.cert, cwd=workdir))
    check(cpk_install("trust", "add", lookalikes["second-ca"].cert, cwd=workdir))
    first = installs(workdir, genuine(workdir, genuine_signer, "1.2.0"))
    assert first["signer"]["identity"] == "subject:CN=Release"
    app = listed(workdir)["test"]
    assert app["signer"] == "subject:CN=Release" and app["version"] == "1.2.0"
    evil = genuine(workdir, lookalike, "1.3.0")
    before = device(state, workdir)
    err = refused(cpk_install(evil, cwd=workdir), "Signer check FAILED", "--allow-signer-change")
    # both signers are named, with what vouched for each: the same subject, two anchors
    assert err.count("CN=Release") >= 2 and "CN=Second CA" in err and err.count("under the anchor") == 2, err
    report = json.loads(cpk_install("install", "--json", evil, cwd=workdir).stdout)
    assert report["installed"] is False and report["checks"]["signer"] == "failed"
    assert device(state, workdir) == before
    # the genuine next version still installs, by the same key under the same anchor
    report = installs(workdir, genuine(workdir, genuine_signer, "1.3.0"))
    assert report["previous-signer"] is None and listed(workdir)["test"]["version"] == "1.3.0"
    # the change, when wanted, is explicit and reported
    report = installs(workdir, genuine(workdir, lookalike, "1.4.0"), "--allow-signer-change")
    assert report["previous-signer"] == "subject:CN=Release"
    assert report["signer"]["anchor-sha256"] != first["signer"]["anchor-sha256"]


# --- finding 3: remove forgot the floor and the signer ---------------------------------------

def test_3_remove_keeps_the_floor_and_the_signer_under_a_trust_policy(workdir, state, pki):
    synced(workdir)
    release, nightly = pki["release"], pki["nightly"]
    check(cpk_install("trust", "add", pki["ca"].cert, cwd=workdir))
    installs(workdir, genuine(workdir, release, "1.3.0"))
    proc = check(cpk_install("remove", "test", cwd=workdir))
    message = proc.stderr.decode()
    assert "rollback floor 1.3.0" in message and "CN=Release,O=Acme" in message and "--forget-history" in message
    assert "test" not in listed(workdir)
    check(cpk_install("check-state", cwd=workdir))  # what the removal kept is part of the state
    # remove then install: no downgrade, no change of signer that an upgrade would not allow
    older, other = genuine(workdir, release, "1.2.0"), genuine(workdir, nightly, "1.4.0")
    before = device(state, workdir)
    refused(cpk_install(older, cwd=workdir), "Version check FAILED", "older than the installed 1.3.0")
    refused(cpk_install(other, cwd=workdir), "Signer check FAILED", "--allow-signer-change")
    assert device(state, workdir) == before
    # the genuine next version installs, and the history is carried by its record
    installs(workdir, genuine(workdir, release, "1.3.1"))
    app = listed(workdir)["test"]
    assert (app["version"], app["authenticated-floor"]) == ("1.3.1", "1.3.1")
    assert sorted(p.suffix for p in (state / "apps").iterdir()) == [".app"]
    # forgetting is explicit, and said
    proc = check(cpk_install("remove", "--forget-history", "test", cwd=workdir))
    assert "forgotten" in proc.stderr.decode() or "forgot" in proc.stderr.decode(), proc.stderr
    assert list((state / "apps").iterdir()) == []
    installs(workdir, older)
    assert listed(workdir)["test"]["version"] == "1.2.0"


def test_3_forget_history_after_a_plain_remove(workdir, state, pki):
    synced(workdir)
    check(cpk_install("trust", "add", pki["ca"].cert, cwd=workdir))
    installs(workdir, genuine(workdir, pki["release"], "1.3.0"))
    check(cpk_install("remove", "test", cwd=workdir))
    assert_clean_failure(cpk_install("remove", "test", cwd=workdir), "is not installed", code=2)
    proc = check(cpk_install("remove", "--forget-history", "test", cwd=workdir))
    assert "forgotten" in proc.stderr.decode()
    installs(workdir, genuine(workdir, pki["nightly"], "1.0.0"))


# --- finding 5: check-state did not look at trust/ -------------------------------------------

@pytest.mark.parametrize("plant, needle", [
    ("symlink", "symbolic link"),
    ("fifo", "not a regular file"),
    ("world-writable", "can be written by other users"),
    ("junk", "is not an anchor this device provisioned"),
    ("bad-anchor", "cannot be read"),
])
def test_5_check_state_checks_trust_like_an_install(workdir, state, pki, plant, needle):
    import os
    synced(workdir)
    check(cpk_install("trust", "add", pki["ca"].cert, cwd=workdir))
    installs(workdir, genuine(workdir, pki["release"], "1.2.0"))
    out = check(cpk_install("check-state", cwd=workdir)).stdout.decode()
    assert "consistent" in out and "NOT" not in out
    trust = state / "trust"
    target = {"symlink": trust / "0123456789abcdef.crt", "fifo": trust / "fedcba9876543210.crt",
              "world-writable": next(trust.glob("*.crt")), "junk": trust / "notes.txt",
              "bad-anchor": trust / "00000000000000aa.crt"}[plant]
    if plant == "symlink":
        os.symlink(pki["other-ca"].cert, target)
    elif plant == "fifo":
        os.mkfifo(target, 0o600)
    elif plant == "world-writable":
        os.chmod(target, 0o666)
    elif plant == "junk":
        target.write_text("not an anchor\n")
        os.chmod(target, 0o600)
    else:
        target.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
        os.chmod(target, 0o600)
    # an install is refused because of it ...
    before = device(state, workdir)
    refused_proc = cpk_install(genuine(workdir, pki["release"], "1.3.0"), cwd=workdir)
    assert refused_proc.returncode != 0 and needle in refused_proc.stderr.decode(), refused_proc.stderr
    assert device(state, workdir) == before
    # ... and check-state says so: NOT consistent, exit 1, the file and the problem named
    proc = cpk_install("check-state", cwd=workdir)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    text = proc.stdout.decode() + proc.stderr.decode()
    assert "not consistent" in text.lower() and needle in text and target.name in text, text
    report = json.loads(cpk_install("check-state", "--json", cwd=workdir).stdout)
    assert any(needle in problem for problem in report["problems"]), report
    # repaired, the genuine next version installs
    if plant == "world-writable":
        os.chmod(target, 0o600)
    else:
        os.unlink(target)
    check(cpk_install("check-state", cwd=workdir))
    installs(workdir, genuine(workdir, pki["release"], "1.3.0"))


# --- finding 4: a lock any user could hold -----------------------------------------------------

BLOCKER = ("import fcntl,os,sys,time; fd=os.open(sys.argv[1],os.O_RDONLY | (os.O_CREAT if len(sys.argv) > 2 else 0), 0o600);"
           " fcntl.flock(fd, fcntl.LOCK_EX if len(sys.argv) > 2 else fcntl.LOCK_SH); print('locked', flush=True); time.sleep(30)")


def _blocker(*args, user=True):
    prefix = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] if user else []
    proc = subprocess.Popen([*prefix, "python3", "-c", BLOCKER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"locked", proc.stderr.read()
    return proc


@pytest.fixture
def shared_dir():
    """A store directory other users can open (0755), as a home or project directory is."""
    import os
    import shutil
    import tempfile
    path = tempfile.mkdtemp(prefix="cpk-store-", dir="/tmp")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_4_another_user_cannot_block_provision(workdir, shared_dir):
    import os
    import time
    if os.geteuid() != 0:
        pytest.skip("running the blocker as another user needs root (setpriv)")
    store = os.path.join(shared_dir, "keys.json")
    check(run("cpk-keyfetch", "provision", "--key-name", "first", "--file-store", store))
    blocker = _blocker(shared_dir)  # a shared flock on the store's directory, as nobody
    try:
        started = time.monotonic()
        check(run("cpk-keyfetch", "provision", "--key-name", "second", "--file-store", store))
        assert time.monotonic() - started < 10
    finally:
        blocker.kill()
        blocker.wait()
    assert sorted(json.loads(open(store).read())) == ["first", "second"]
    assert sorted(os.listdir(shared_dir)) == ["keys.json"]  # the lock file goes with its holder


def test_4_a_lock_file_planted_by_another_user_is_refused(workdir, shared_dir):
    import os
    if os.geteuid() != 0:
        pytest.skip("planting as another user needs root (setpriv)")
    os.chmod(shared_dir, 0o1777)  # like /tmp
    store = os.path.join(shared_dir, "keys.json")
    check(subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "python3", "-c",
                          f"import os; os.close(os.open({shared_dir + '/.keys.json.lock'!r}, os.O_CREAT | os.O_RDWR, 0o600))"],
                         capture_output=True))
    err = assert_clean_failure(run("cpk-keyfetch", "provision", "--key-name", "app", "--file-store", store),
                               ".keys.json.lock", code=2)
    assert "not a private regular file of this user" in err and len(err.strip().splitlines()) == 1
    assert not os.path.exists(store)


def test_4_waiting_for_a_live_holder_is_bounded(workdir, shared_dir):
    import os
    import time
    store = os.path.join(shared_dir, "keys.json")
    check(run("cpk-keyfetch", "provision", "--key-name", "first", "--file-store", store))
    before = open(store, "rb").read()
    holder = _blocker(os.path.join(shared_dir, ".keys.json.lock"), "create", user=False)  # another provision, stuck
    try:
        started = time.monotonic()
        err = assert_clean_failure(run("cpk-keyfetch", "provision", "--key-name", "second", "--file-store", store),
                                   ".keys.json.lock", code=2)
        elapsed = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert 9 <= elapsed < 20 and "gave up after 10 s" in err and len(err.strip().splitlines()) == 1
    assert open(store, "rb").read() == before
    check(run("cpk-keyfetch", "provision", "--key-name", "second", "--file-store", store))


# --- finding 6: the JSON of a refused install named the wrong signer -------------------------

def test_6_the_json_names_each_signer_with_its_own_verdict(workdir, state, pki):
    synced(workdir)
    release, attacker = pki["release"], pki["attacker"]
    # the payload signature is the vendor's; the package signature is by an untrusted key
    vendor = genuine(workdir, release, "1.2.0")
    mixed = write(workdir / "mixed.cpk", rewrite(vendor.read_bytes(), package_signer=attacker))
    before = device(state, workdir)
    proc = cpk_install("install", "--json", "--ca", release.cert, mixed, cwd=workdir)
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["installed"] is False and report["checks"]["signer"] == "failed"
    payload, package = report["signer"], report["package-signer"]
    assert payload["verdict"] == "trusted" and payload["identity"] == "subject:CN=Release,O=Acme"
    assert payload["trusted-by"] == "anchor"
    assert package is not None and package["verdict"] == "untrusted", package
    assert package["identity"] == "subject:CN=Release,O=Acme" and package["reason"] == "untrusted-chain"
    assert package["key-sha256"] != payload["key-sha256"]  # the look-alike is another key
    assert "does not chain to a trusted anchor" in package["message"] and package["message"] in report["error"]
    assert device(state, workdir) == before
    # the genuine package: both trusted, each with its verdict
    report = installs(workdir, genuine(workdir, release, "1.2.1"), "--ca", pki["ca"].cert)
    assert report["signer"]["verdict"] == "trusted" and report["package-signer"]["verdict"] == "trusted"


# --- finding 7: one expiry rule, and summaries that do not contradict themselves -------------

def test_7_one_expiry_rule_for_sign_verify_and_install(workdir, state, pki):
    from test_trust import sealed, verify_json
    synced(workdir)
    expired, ca = pki["expired"], pki["ca"].cert
    envelope, _ = sealed(workdir, "1.2.0")
    # cpk-sign embeds an expired certificate, and says so
    proc = run("cpk-sign", "--key", expired.key, "--cert", expired.cert, "--cpk", "-o", "expired.cpk", envelope,
               cwd=workdir)
    check(proc)
    err = proc.stderr.decode()
    assert "warning: the embedded certificate CN=Expired Signer expired on" in err, err
    package = workdir / "expired.cpk"
    # integrity only: intact, the validity reported and not judged, as a development-mode install does
    document = verify_json(workdir, "--integrity-only", package)
    assert document["verdict"] == "intact", document
    detail = document["by-name"]["payload-certificate"]["detail"]
    assert document["by-name"]["payload-certificate"]["result"] == "passed"
    assert "expired on" in detail and "not judged" in detail
    assert document["certificates"][0]["validity"] == "expired"
    # with a trust input: refused unless allowed, by verify and install alike
    assert verify_json(workdir, "--ca", ca, package, code=1)["by-name"]["payload-certificate"]["result"] == "failed"
    before = device(state, workdir)
    refused(cpk_install("--ca", ca, package, cwd=workdir), "Signer check FAILED", "expired on")
    assert device(state, workdir) == before
    # development mode accepts it, aloud
    proc = check(cpk_install("install", package, cwd=workdir))
    text = proc.stdout.decode()
    assert "Signer certificate: the payload signer's certificate CN=Expired Signer expired on" in text, text
    assert "development mode judges no validity" in text
    check(cpk_install("remove", "test", cwd=workdir))
    report = installs(workdir, package)
    assert any("expired on" in note and "development mode" in note for note in report["validity-notes"]), report
    # allowed explicitly under a trust policy: said too
    report = installs(workdir, package, "--ca", ca, "--allow-expired", "--allow-signer-change")
    assert any("accepted as asked" in note for note in report["validity-notes"]), report
    # the genuine next version, by a valid signer: no note
    report = installs(workdir, genuine(workdir, pki["release"], "1.3.0"), "--ca", ca, "--allow-signer-change")
    assert report["validity-notes"] == []


def test_7_a_swapped_signature_summary_does_not_contradict_itself(workdir, pki):
    from test_trust import verify
    release, other = pki["release"], pki["nightly"]
    base = genuine(workdir, release, "1.2.0", mode=("--payload",))
    swapped = write(workdir / "swapped.cpk", rewrite(base.read_bytes(), payload_signature=other.sign_digest(b"\0" * 32)))
    out = verify(workdir, "--integrity-only", swapped, code=1)
    last = out.strip().splitlines()[-1]
    assert "payload-signature failed" in last and "no signature was checked" not in last, out
