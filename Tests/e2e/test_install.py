"""cpk-install and the Package Manager simulator, end to end (issue 6).

Packages are built with the real pipeline (cpk-pack | cpk-seal | cpk-sign) and also signed by
an independent Python writer (cpk.py's build_cpk, `cryptography` for RSA PKCS#1 v1.5 and
AES-GCM) with certificates made by the `openssl` command line, so the installer is checked
against another writer too. Every test has its own simulator state (CPK_CPM_STATE).
"""

import base64
import fcntl
import hashlib
import json
import os
import random
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, utils
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import cpk
from cpk import REPO, assert_clean_failure, build_cpk, check, compact, env_with, parse_cpk, run, sh

STORE = REPO / "test.json"
TEST_KEY = base64.b64decode(json.loads(STORE.read_text())["test"])


# --- signers: certificates from the openssl command line -----------------------------------

def openssl(*args, cwd=None):
    proc = subprocess.run(["openssl", *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


class Signer:
    """An RSA-2048 key and its certificate (PEM), as files."""

    def __init__(self, directory: Path, name: str, issuer: "Signer | None" = None):
        slug = name.lower().replace(" ", "-")
        self.key, self.cert = directory / f"{slug}.key", directory / f"{slug}.crt"
        if issuer is None:
            openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.key, "-out", self.cert,
                    "-subj", f"/CN={name}", "-days", "30")
        else:
            csr = directory / f"{slug}.csr"
            openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", self.key, "-out", csr,
                    "-subj", f"/CN={name}")
            openssl("x509", "-req", "-in", csr, "-CA", issuer.cert, "-CAkey", issuer.key, "-CAcreateserial",
                    "-out", self.cert, "-days", "30")
        self.private = serialization.load_pem_private_key(self.key.read_bytes(), None)

    def sign_digest(self, digest: bytes) -> bytes:
        return self.private.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))


@pytest.fixture(scope="module")
def signers(tmp_path_factory):
    directory = tmp_path_factory.mktemp("signers")
    ca = Signer(directory, "Test CA")
    return {
        "self": Signer(directory, "Release Signer"),
        "ca": ca,
        "issued": Signer(directory, "Issued Signer", issuer=ca),
        "other": Signer(directory, "Someone Else"),
    }


@pytest.fixture
def state(workdir, monkeypatch):
    """A private simulator state for this test, through the environment as a user would set it."""
    path = workdir / "cpm"
    monkeypatch.setenv("CPK_CPM_STATE", str(path))
    return path


def install_env(**extra):
    return env_with(CPK_CPM_STATE=os.environ["CPK_CPM_STATE"], **extra)


def cpk_install(*args, **kwargs):
    return run("cpk-install", *args, env=kwargs.pop("env", None) or install_env(), **kwargs)


# --- building packages -------------------------------------------------------------------------

def python_sign(sealed: bytes, signer: Signer) -> bytes:
    """Adds an RSA PKCS#1 v1.5 signature of the digest and the PEM certificate to a sealed
    5-stream package from cpk-seal, giving the reference 7-stream layout; cpk-seal's key check
    stream, when there is one, stays last (docs/format.md §4.1)."""
    package = parse_cpk(sealed)
    assert package.count in (5, 6) and package.manifest_index == 4
    key_check = package.streams[5:]
    document = json.loads(package.streams[4])
    document["payload"]["sig"] = {"rsa-pkcs1v15": {"key_strength": 2048, "data": 4}}
    document["payload"]["cert"] = {"embedded-x509-pem": {"data": 5}}
    document["package"]["map"] = list(range(7 + len(key_check)))
    streams = package.streams[:4] + [signer.sign_digest(package.streams[3]), signer.cert.read_bytes(), compact(document)]
    return build_cpk(streams + key_check, 6)


def build(workdir: Path, payload: bytes, signer: Signer, *, cp_id="test", version="1.0.0", name=None, vendor=None,
          store=STORE, out="app.cpk", use_cpk_sign=False) -> Path:
    """pack -> seal (key store) -> sign -> .cpk, the reference quick test's build."""
    source = workdir / f"{out}.payload"
    source.write_bytes(payload)
    meta = f"--id {cp_id} --app-version {version}" + (f" --display-name '{name}'" if name else "") + (f" --vendor '{vendor}'" if vendor else "")
    pack_seal = f"cpk-pack {meta} {source} | cpk-seal --file-store {store} --quiet"
    if use_cpk_sign:
        check(sh(f"{pack_seal} | cpk-sign --key {signer.key} --cert {signer.cert} --cpk -o {out}", cwd=workdir))
    else:
        check(sh(f"{pack_seal} | cpk-pack finish -o {out}.sealed", cwd=workdir))
        (workdir / out).write_bytes(python_sign((workdir / f"{out}.sealed").read_bytes(), signer))
    return workdir / out


def reference_writer_cpk(payload: bytes, signer: Signer, key: bytes, cp_id="test") -> bytes:
    """A package written entirely in Python the way the reference writer lays it out: AES-GCM
    with a 16-byte tag stream, the reference date text, compact JSON in the reference key order."""
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, payload, None)
    ciphertext, tag = sealed[:-16], sealed[-16:]
    digest = hashlib.sha256(payload).digest()
    document = {
        "cp-id": cp_id, "cp-name": "Unknown", "cp-vendor": "Unknown",
        "payload": {
            "data": 0, "target": {"arch": "aarch64", "os": "OP-TEE"},
            "ver": {"maj": 2, "min": 1, "rev": 7, "date": "2026-11-26 08:23:15.309608734 UTC"},
            "enc": {"aes-gcm": {"key_name": cp_id, "key_strength": 256, "nonce": 1, "tag": 2}},
            "dig": {"sha256": {"data": 3}},
            "sig": {"rsa-pkcs1v15": {"key_strength": 2048, "data": 4}},
            "cert": {"embedded-x509-pem": {"data": 5}},
        },
        "package": {"map": [0, 1, 2, 3, 4, 5, 6], "dig": "none", "sig": "none", "cert": "none"},
    }
    streams = [ciphertext, nonce, tag, digest, signer.sign_digest(digest), signer.cert.read_bytes(), compact(document)]
    return build_cpk(streams, 6)


def exported(workdir: Path, cp_id="test") -> bytes:
    out = workdir / f"exported-{cp_id.replace('/', '_')}"
    check(cpk_install("dev-export-plaintext", cp_id, "-o", out, cwd=workdir))
    return out.read_bytes()


def listed(workdir: Path) -> dict:
    """The installed applications; none when there is no state (list never makes one)."""
    if not Path(os.environ["CPK_CPM_STATE"]).exists():
        return {}
    return {app["id"]: app for app in json.loads(check(cpk_install("list", "--json", cwd=workdir)).stdout)}


def assert_no_trace(state: Path, workdir: Path, cp_id="test"):
    assert cp_id not in listed(workdir)
    assert os.listdir(state / "apps") == []
    assert os.listdir(state / "staging") == []


# --- the quick test ------------------------------------------------------------------------------

@pytest.mark.parametrize("payload_name", ["empty", "README.md"])
@pytest.mark.parametrize("sign_with", ["cpk-sign", "python"])
def test_quick_test(workdir, state, signers, payload_name, sign_with):
    """The reference quick test with these tools: build README.md (and a 0-byte file) with
    test.json, sync the key, install; the Package Manager's copy is the original."""
    payload = b"" if payload_name == "empty" else (REPO / "README.md").read_bytes()
    package = build(workdir, payload, signers["self"], name="Demo", vendor="Acme", version="1.2.0",
                    use_cpk_sign=sign_with == "cpk-sign")
    check(cpk_install("sync", "--id", "test", "--file-store", STORE, cwd=workdir))
    proc = check(cpk_install(package.name, cwd=workdir))
    text = proc.stdout.decode()
    for line in ["Package:   test (app.cpk)", "Name:      Demo", "Vendor:    Acme", "Target:    aarch64 / OP-TEE",
                 "Version:   1.2.0 (", f"Size:      {len(payload)} bytes", "Tag check PASSED", "Digest check PASSED",
                 "Signature check PASSED", "Installed test 1.2.0"]:
        assert line in text, f"{line!r} not in:\n{text}"
    assert "NOT AUTHENTICATED" in text and "not who signed it" in text
    assert proc.stderr == b""
    assert exported(workdir) == payload
    app = listed(workdir)["test"]
    assert (app["name"], app["version"], app["size"]) == ("Demo", "1.2.0", len(payload))
    assert app["sha256"] == hashlib.sha256(payload).hexdigest()


def test_a_package_from_the_reference_writer_installs(workdir, state, signers):
    payload = os.urandom(200_000)
    (workdir / "ref.cpk").write_bytes(reference_writer_cpk(payload, signers["self"], TEST_KEY))
    check(cpk_install("sync", "--id", "test", "--file-store", STORE, cwd=workdir))
    proc = check(cpk_install("install", "--json", "ref.cpk", cwd=workdir))
    report = json.loads(proc.stdout)
    assert report["installed"] is True
    assert report["version"] == "2.1.7" and report["date"] == "2026-11-26 08:23:15.309608734 UTC"
    assert report["checks"] == {"signer": "not-authenticated", "manifest": "not-authenticated", "version": "passed",
                                "class-key": "passed", "tag": "passed", "digest": "passed", "signature": "passed",
                                "package": "absent"}
    assert report["development-mode"] is True and report["signer"] is None and report["manifest-authenticated"] is False
    assert exported(workdir) == payload


def test_an_envelope_on_standard_input_installs(workdir, state, signers):
    payload = os.urandom((3 << 20) + 11)
    build(workdir, payload, signers["self"])
    check(cpk_install("sync", "--id", "test", "--file-store", STORE, cwd=workdir))
    check(sh("cpk-unpack envelope app.cpk | cpk-install install -", cwd=workdir, env=install_env()))
    check(sh("cat app.cpk | cpk-install install --allow-downgrade", cwd=workdir, env=install_env()))
    assert exported(workdir) == payload


def test_progress_is_shown_when_asked(workdir, state, signers):
    build(workdir, os.urandom(5 << 20), signers["self"])
    check(cpk_install("sync", "--id", "test", "--file-store", STORE, cwd=workdir))
    proc = check(cpk_install("--progress", "app.cpk", cwd=workdir))
    lines = proc.stderr.decode().splitlines()
    assert lines[0].startswith("cpk-install: deploying test: 0%") and lines[-1].startswith("cpk-install: deploying test: 100%")


# --- the device key and class keys ---------------------------------------------------------------

def test_device_public_key_in_every_form(workdir, state):
    check(cpk_install("public-key", "-o", "device.pkcs1", cwd=workdir))
    check(cpk_install("public-key", "--format", "der", "-o", "device.der", cwd=workdir))
    pkcs1, spki = (workdir / "device.pkcs1").read_bytes(), (workdir / "device.der").read_bytes()
    # DER RSAPublicKey by default, as export_device_public_key gives it; openssl reads each form
    assert b"2048 bit" in openssl("rsa", "-RSAPublicKey_in", "-inform", "DER", "-in", "device.pkcs1", "-noout", "-text",
                                  cwd=workdir)
    assert openssl("rsa", "-RSAPublicKey_in", "-inform", "DER", "-in", "device.pkcs1", "-pubout", "-outform", "DER",
                   cwd=workdir) == spki
    pem = check(cpk_install("public-key", "--format", "pem", cwd=workdir)).stdout
    assert openssl("pkey", "-pubin", "-inform", "DER", "-in", "device.der", "-outform", "PEM", cwd=workdir) == pem
    pkcs1_pem = check(cpk_install("public-key", "--format", "pkcs1-pem", cwd=workdir)).stdout
    assert pkcs1_pem.startswith(b"-----BEGIN RSA PUBLIC KEY-----")
    assert base64.b64decode(check(cpk_install("public-key", "--format", "base64", cwd=workdir)).stdout) == spki
    fingerprint = check(cpk_install("public-key", "--format", "fingerprint", cwd=workdir)).stdout.decode().strip()
    assert fingerprint == hashlib.sha256(spki).hexdigest()
    # made once: the same key on the next run; the private half is 0600 and never printed
    assert check(cpk_install("public-key", "--format", "der", cwd=workdir)).stdout == spki
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(state / "device-key.pem").st_mode) == 0o600


def test_binary_key_forms_are_not_written_to_a_terminal(workdir, state):
    from test_pack_unpack import run_with_terminal_stdout
    proc, written = run_with_terminal_stdout([cpk.tool("cpk-install"), "public-key"], workdir)
    assert proc.returncode == 2 and b"terminal" in proc.stderr and written == b""


def test_key_sync_as_a_pipe_then_install(workdir, state, signers):
    """The reference's "sync" as a pipe: the device key out, a key store wraps, the key in."""
    build(workdir, b"piped", signers["self"])
    check(sh(f"cpk-install public-key | cpk-keyfetch --key-name test --padding pkcs1v15 --file-store {STORE} | cpk-install add-key",
             cwd=workdir, env=install_env()))
    check(cpk_install("app.cpk", cwd=workdir))
    assert exported(workdir) == b"piped"


def test_a_key_wrapped_by_openssl_as_base64_installs(workdir, state, signers):
    """The reference's "commandline" method: a base64 wrapped key in a file, made here by
    openssl pkeyutl with the exported device key."""
    build(workdir, b"commandline", signers["self"])
    check(cpk_install("public-key", "--format", "pem", "-o", "device.pem", cwd=workdir))
    (workdir / "class.key").write_bytes(TEST_KEY)
    wrapped = openssl("pkeyutl", "-encrypt", "-pubin", "-inkey", "device.pem", "-in", "class.key", cwd=workdir)
    (workdir / "wrapped.b64").write_bytes(base64.b64encode(wrapped) + b"\n")
    check(cpk_install("add-key", "--id", "test", "wrapped.b64", cwd=workdir))
    check(cpk_install("app.cpk", cwd=workdir))
    assert exported(workdir) == b"commandline"


def test_sync_through_the_http_key_service(workdir, state, signers, tmp_path):
    from test_keys import KeyServer
    store = tmp_path / "keys.json"
    store.write_text(STORE.read_text())
    server = KeyServer(store, tmp_path / "server.log")
    try:
        check(cpk_install("sync", "--id", "test", "--url", f"{server.url}/WrapKey", cwd=workdir))
        missing = cpk_install("sync", "--id", "nope", "--url", f"{server.url}/WrapKey", cwd=workdir)
        assert_clean_failure(missing, "nope", code=1)
    finally:
        server.stop()
    build(workdir, b"over http", signers["self"])
    check(cpk_install("app.cpk", cwd=workdir))


def test_sync_through_an_https_key_service_with_a_private_ca(workdir, state, signers, tmp_path):
    """--ca-file reaches the cpk-keyfetch child (through its environment)."""
    from test_keys import KeyServer, issue_server_certificate, make_private_ca
    store = tmp_path / "keys.json"
    store.write_text(STORE.read_text())
    ca = make_private_ca(tmp_path / "ca")
    cert, key = issue_server_certificate(ca, "server", "IP:127.0.0.1,DNS:localhost")
    server = KeyServer(store, tmp_path / "server.log", "--tls-cert", cert, "--tls-key", key)
    try:
        untrusted = cpk_install("sync", "--id", "test", "--url", f"{server.url}/WrapKey", cwd=workdir)
        assert_clean_failure(untrusted, "unable to get local issuer certificate", code=2)
        check(cpk_install("sync", "--id", "test", "--url", f"{server.url}/WrapKey", "--ca-file", ca, cwd=workdir))
    finally:
        server.stop()
    build(workdir, b"over https", signers["self"])
    check(cpk_install("app.cpk", cwd=workdir))
    assert exported(workdir) == b"over https"


def test_sync_from_a_device_twin(workdir, state, signers):
    spki = check(cpk_install("public-key", "--format", "der", cwd=workdir)).stdout
    device = serialization.load_der_public_key(spki)
    wrapped = device.encrypt(TEST_KEY, padding.PKCS1v15())
    twin = {"properties": {"desired": {"confidential_package_keys": {"test": base64.b64encode(wrapped).decode()}}}}
    (workdir / "twin.json").write_text(json.dumps(twin))
    check(cpk_install("sync", "--id", "test", "--twin", "twin.json", cwd=workdir))
    build(workdir, b"twin", signers["self"])
    check(cpk_install("app.cpk", cwd=workdir))


def test_add_key_refusals(workdir, state):
    check(run("cpk-wrap", "keygen", "-o", "other.pem", "--public-out", "other.pub", cwd=workdir))
    elsewhere = check(run("cpk-keyfetch", "--key-name", "test", "--padding", "pkcs1v15", "--file-store", STORE, "--to", "other.pub", cwd=workdir)).stdout
    assert_clean_failure(cpk_install("add-key", input=elsewhere, cwd=workdir), "wrapped to another public key", code=1)
    device = check(cpk_install("public-key", cwd=workdir)).stdout
    oaep = check(run("cpk-keyfetch", "--key-name", "test", "--file-store", STORE, "--padding", "oaep-sha256",
                     input=device, cwd=workdir)).stdout
    bare = check(run("cpk-keyfetch", "--key-name", "test", "--file-store", STORE, "--format", "base64",
                     input=device, cwd=workdir)).stdout
    assert_clean_failure(cpk_install("add-key", input=bare, cwd=workdir), "--id", code=2)
    assert_clean_failure(cpk_install("add-key", "--id", "test", input=b"c2hvcnQ=\n", cwd=workdir), "truncated", code=1)
    assert os.listdir(state / "keys") == []
    # The Package Manager posing as the reference takes PKCS#1 v1.5 only, and says so.
    proc = run("cpk-install", "add-key", input=oaep, cwd=workdir, env=install_env(CPK_CPM_CONTRACT="reference"))
    assert_clean_failure(proc, "PKCS#1 v1.5", code=1)
    assert os.listdir(state / "keys") == []


def test_the_documented_default_key_sync_works_end_to_end(workdir, state, signers):
    """The README's pipeline with every default (RSA-OAEP-SHA256) installs the key."""
    proc = check(sh(f"cpk-install public-key | cpk-keyfetch --key-name test --file-store {STORE} "
                    f"| cpk-install add-key --json", cwd=workdir, env=install_env()))
    assert json.loads(proc.stdout)["padding"] == "oaep-sha256"
    build(workdir, b"oaep", signers["self"])
    check(cpk_install("app.cpk", cwd=workdir))


def test_the_class_key_rests_sealed(workdir, state):
    check(cpk_install("sync", "--id", "test", "--file-store", STORE, cwd=workdir))
    (path,) = (state / "keys").iterdir()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert TEST_KEY not in path.read_bytes()
    for name, data in files_under(state).items():
        assert TEST_KEY not in data and base64.b64encode(TEST_KEY) not in data, name


# --- failures leave no trace -----------------------------------------------------------------------

def tamper(data: bytes, index: int, position: int) -> bytes:
    package = parse_cpk(data)
    offset, size = package.entries[index]
    out = bytearray(data)
    out[package.origin + offset + position % size] ^= 0x01
    return bytes(out)


@pytest.mark.parametrize("region, stream, check_name", [
    ("ciphertext", 0, "Tag check FAILED"),
    ("tag", 2, "Tag check FAILED"),
    ("digest", 3, "Digest check FAILED"),
    ("signature", 4, "Signature check FAILED"),
])
def test_tampered_packages_fail_the_named_check_and_leave_no_trace(workdir, state, signers, region, stream, check_name):
    package = build(workdir, os.urandom(300_000), signers["self"])
    (workdir / "bad.cpk").write_bytes(tamper(package.read_bytes(), stream, 150_000 if stream == 0 else 7))
    check(cpk_install("sync", "--id", "test", "--file-store", STORE, cwd=workdir))
    proc = cpk_install("bad.cpk", cwd=workdir)
    err = assert_clean_failure(proc, check_name, code=1)
    assert "nothing was installed" in err
    assert check_name in proc.stdout.decode() and "NOT INSTALLED" in proc.stdout.decode()
    assert_no_trace(state, workdir)
    as_json = cpk_install("install", "--json", "bad.cpk", cwd=workdir)
    report = json.loads(as_json.stdout)
    assert report["installed"] is False and check_name.split()[0].lower() in json.dumps(report["checks"]).lower()
    assert check_name in report["error"]
    assert_no_trace(state, workdir)


def test_without_the_class_key_the_class_key_check_fails(workdir, state, signers):
    build(workdir, b"no key", signers["self"])
    proc = cpk_install("app.cpk", cwd=workdir)
    assert_clean_failure(proc, "Class key check FAILED", code=1)
    assert "cpk-install sync" in proc.stderr.decode()
    assert_no_trace(state, workdir)


def test_a_wrong_class_key_fails_the_tag_check(workdir, state, signers, tmp_path):
    """A device holding another class key (a rotation it has not synced): the package's key
    check value lets it say so (docs/format.md §4.1), with the sync as the hint; a package
    without one gets the tag check's words. An altered package with the right key is called
    altered (the tamper matrix)."""
    other_store = tmp_path / "other.json"
    check(run("cpk-keyfetch", "provision", "--key-name", "test", "--file-store", other_store))
    build(workdir, b"sealed with test.json", signers["self"])
    check(cpk_install("sync", "--id", "test", "--file-store", other_store, cwd=workdir))
    proc = cpk_install("--json", "app.cpk", cwd=workdir)
    assert_clean_failure(proc, "sealed with another class key than the installed one", code=1)
    assert "sync --id test" in proc.stderr.decode()
    report = json.loads(proc.stdout)
    assert report["checks"]["class-key"] == "failed" and report["checks"]["tag"] == "failed"
    check(sh(f"cpk-pack --id test app.cpk.payload | cpk-seal --file-store {STORE} --quiet --no-key-check"
             f" | cpk-sign --key {signers['self'].key} --cert {signers['self'].cert} --cpk -o unchecked.cpk", cwd=workdir))
    assert_clean_failure(cpk_install("unchecked.cpk", cwd=workdir), "Tag check FAILED", code=1)
    assert_no_trace(state, workdir)


@pytest.mark.parametrize("case, needle", [
    ("unsigned", "not signed"),
    ("unencrypted", "not encrypted"),
    ("not-a-package", "neither an envelope"),
    ("truncated", "beyond the end of the file"),
])
def test_packages_that_cannot_be_installed(workdir, state, signers, case, needle):
    (workdir / "payload").write_bytes(b"x" * 1000)
    if case == "unsigned":
        check(sh(f"cpk-pack --id test payload | cpk-seal --file-store {STORE} --quiet | cpk-pack finish -o in.cpk", cwd=workdir))
    elif case == "unencrypted":
        check(run("cpk-pack", "--id", "test", "--cpk", "-o", "in.cpk", "payload", cwd=workdir))
    elif case == "not-a-package":
        (workdir / "in.cpk").write_bytes(b"hello world")
    else:
        data = build(workdir, b"y" * 5000, signers["self"]).read_bytes()
        (workdir / "in.cpk").write_bytes(data[:200])
    check(cpk_install("sync", "--id", "test", "--file-store", STORE, cwd=workdir))
    assert_clean_failure(cpk_install("in.cpk", cwd=workdir), needle, code=1)
    assert_no_trace(state, workdir)


def test_usage_and_io_errors_exit_2(workdir, state):
    assert_clean_failure(cpk_install("missing.cpk", cwd=workdir), "cannot open", code=2)
    assert_clean_failure(cpk_install("remove", "nothing", cwd=workdir), "no device state at", code=2)
    check(cpk_install("public-key", "--format", "fingerprint", cwd=workdir))
    assert_clean_failure(cpk_install("remove", "nothing", cwd=workdir), "not installed", code=2)
    assert_clean_failure(cpk_install("dev-export-plaintext", "nothing", cwd=workdir), "not installed", code=2)
    assert_clean_failure(cpk_install("sync", "--id", "test", env=install_env(CP_FILE_KEY_SOURCE="", CP_CLOUD_KEY_SOURCE=""),
                                     cwd=workdir), "key store", code=2)
    assert_clean_failure(cpk_install("--frobnicate", cwd=workdir), "frobnicate", code=2)


def test_a_state_directory_others_can_read_is_refused(workdir):
    open_state = workdir / "open"
    open_state.mkdir(mode=0o755)
    os.chmod(open_state, 0o755)
    assert_clean_failure(run("cpk-install", "status", "--state", open_state, cwd=workdir), "chmod 700", code=2)
    assert os.listdir(open_state) == []


def test_where_the_state_lives(workdir, monkeypatch):
    """Where a device's state is made (by its first public-key), and where status then finds it."""
    monkeypatch.delenv("CPK_CPM_STATE", raising=False)
    env = env_with(XDG_STATE_HOME=str(workdir / "xdg"), HOME=str(workdir / "home"))
    env.pop("CPK_CPM_STATE", None)

    def status(*extra):
        check(run("cpk-install", "public-key", "--format", "fingerprint", *extra, env=env, cwd=workdir))
        return json.loads(check(run("cpk-install", "status", "--json", *extra, env=env, cwd=workdir)).stdout)

    assert status()["state"] == str(workdir / "xdg" / "cpk" / "cpm")
    assert stat.S_IMODE(os.stat(workdir / "xdg" / "cpk" / "cpm").st_mode) == 0o700
    env.pop("XDG_STATE_HOME")
    assert status()["state"] == str(workdir / "home" / ".local" / "state" / "cpk" / "cpm")
    env["CPK_CPM_STATE"] = str(workdir / "from-env")
    assert status()["state"] == env["CPK_CPM_STATE"]
    flagged = status("--state", workdir / "flag")
    assert flagged["state"] == str(workdir / "flag")
    assert flagged["contract-version"] >= 1 and "verify_application_sha256_rsa_pkcs1_v15" in flagged["operations"]


# --- trust ---------------------------------------------------------------------------------------

def test_trust_anchors_authenticate_the_signer(workdir, state, signers):
    check(cpk_install("sync", "--id", "test", "--file-store", STORE, cwd=workdir))
    build(workdir, b"issued", signers["issued"], use_cpk_sign=True)  # payload and package signatures
    ca = signers["ca"].cert
    text = check(cpk_install("--ca", ca, "app.cpk", cwd=workdir)).stdout.decode()
    assert "Signer check PASSED" in text and "CN=Test CA" in text and "NOT AUTHENTICATED" not in text
    proc = cpk_install("--ca", signers["other"].cert, "app.cpk", cwd=workdir)
    assert_clean_failure(proc, "Signer check FAILED", code=1)
    assert "Signer check FAILED" in proc.stdout.decode()
    # a trusted key: the signer's own certificate or public key
    text = check(cpk_install("--public-key", signers["issued"].cert, "app.cpk", cwd=workdir)).stdout.decode()
    assert "Signer check PASSED (CN=Issued Signer: the signer's key is a pinned key" in text
    assert "Manifest check PASSED" in text
    assert_clean_failure(cpk_install("--public-key", signers["other"].cert, "app.cpk", cwd=workdir), "FAILED")
    # provisioned in the state: used by every install
    name = check(cpk_install("trust", "add", ca, cwd=workdir)).stdout.decode().strip()
    listing = check(cpk_install("trust", "list", cwd=workdir)).stdout.decode()
    assert listing.split()[:4] == [name, "ca", "for", "every"] and "CN=Test CA" in listing and "sha256:" in listing
    build(workdir, b"self-signed", signers["self"], out="self.cpk")
    assert_clean_failure(cpk_install("self.cpk", cwd=workdir), "does not chain to a trusted anchor", code=1)
    assert "Signer check PASSED" in check(cpk_install("app.cpk", cwd=workdir)).stdout.decode()
    check(cpk_install("trust", "remove", name, cwd=workdir))
    assert "NOT AUTHENTICATED" in check(cpk_install("self.cpk", cwd=workdir)).stdout.decode()


# --- versions, list, remove --------------------------------------------------------------------

def test_anti_rollback(workdir, state, signers):
    check(cpk_install("sync", "--id", "test", "--file-store", STORE, cwd=workdir))
    build(workdir, b"new", signers["self"], version="1.3.0", out="new.cpk")
    build(workdir, b"old", signers["self"], version="1.2.0", out="old.cpk")
    check(cpk_install("new.cpk", cwd=workdir))
    proc = cpk_install("old.cpk", cwd=workdir)
    assert_clean_failure(proc, "Version check FAILED", code=1)
    assert "1.2.0 is older than the installed 1.3.0" in proc.stderr.decode()
    assert listed(workdir)["test"]["version"] == "1.3.0" and exported(workdir) == b"new"
    assert os.listdir(state / "staging") == []
    check(cpk_install("new.cpk", cwd=workdir))  # the same version again
    check(cpk_install("--allow-downgrade", "old.cpk", cwd=workdir))
    assert listed(workdir)["test"]["version"] == "1.2.0" and exported(workdir) == b"old"


def test_list_and_remove(workdir, state, signers, tmp_path):
    keys = tmp_path / "keys.json"
    for cp_id in ["alpha", "default/key/beta"]:
        check(run("cpk-keyfetch", "provision", "--key-name", cp_id, "--file-store", keys))
        check(cpk_install("sync", "--id", cp_id, "--file-store", keys, cwd=workdir))
        build(workdir, cp_id.encode() * 100, signers["self"], cp_id=cp_id, store=keys, name=f"App {cp_id}", out="x.cpk")
        check(cpk_install("x.cpk", cwd=workdir))
    text = check(cpk_install("list", cwd=workdir)).stdout.decode().splitlines()
    assert text[0].split() == ["ID", "NAME", "VERSION", "SIZE", "INSTALLED", "AT"]
    assert [line.split()[0] for line in text[1:]] == ["alpha", "default/key/beta"]
    apps = listed(workdir)
    assert apps["default/key/beta"]["size"] == 1600 and apps["alpha"]["name"] == "App alpha"
    assert all(app["installed-at"].endswith("Z") for app in apps.values())
    check(cpk_install("remove", "alpha", cwd=workdir))
    assert list(listed(workdir)) == ["default/key/beta"]
    assert exported(workdir, "default/key/beta") == b"default/key/beta" * 100


def test_stored_bytes_are_neither_the_plaintext_nor_the_shipped_ciphertext(workdir, state, signers):
    marker = b"CPK-MARKER-7f3e9a: this text must never rest on the device in clear. "
    payload = marker * 20_000
    package = build(workdir, payload, signers["self"])
    check(cpk_install("sync", "--id", "test", "--file-store", STORE, cwd=workdir))
    check(cpk_install("app.cpk", cwd=workdir))
    grep = subprocess.run(["grep", "-r", "-l", "-F", "CPK-MARKER-7f3e9a", str(state)], stdout=subprocess.PIPE)
    assert grep.returncode == 1, f"the plaintext marker is in {grep.stdout!r}"
    parsed = parse_cpk(package.read_bytes())
    shipped = parsed.streams[0]
    stored = files_under(state)
    (app_file,) = [data for name, data in stored.items() if name.startswith("apps/")]
    assert len(app_file) > len(payload)
    for start in range(0, len(shipped) - 64, len(shipped) // 16):
        window = shipped[start:start + 64]
        assert all(window not in data for data in stored.values()), f"shipped ciphertext at {start} is stored"
    assert exported(workdir) == payload


def files_under(directory: Path) -> dict:
    return {str(path.relative_to(directory)): path.read_bytes() for path in directory.rglob("*") if path.is_file()}


# --- concurrency and crashes -----------------------------------------------------------------------

def test_eight_concurrent_installs(workdir, state, signers, tmp_path):
    keys = tmp_path / "keys.json"
    payloads = {}
    for n in range(8):
        cp_id = f"app{n}"
        check(run("cpk-keyfetch", "provision", "--key-name", cp_id, "--file-store", keys))
        payloads[cp_id] = os.urandom((4 << 20) + n)
        build(workdir, payloads[cp_id], signers["self"], cp_id=cp_id, version=f"1.{n}.0", store=keys, out=f"{cp_id}.cpk")
    syncs = [subprocess.Popen([cpk.tool("cpk-install"), "sync", "--id", cp_id, "--file-store", str(keys)],
                              env=install_env(), stderr=subprocess.PIPE) for cp_id in payloads]
    assert [p.wait(timeout=60) for p in syncs] == [0] * 8, [p.stderr.read() for p in syncs]
    installs = [subprocess.Popen([cpk.tool("cpk-install"), f"{cp_id}.cpk"], cwd=workdir, env=install_env(),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE) for cp_id in payloads]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in installs]
    assert all(code == 0 for code, _, _ in results), results
    apps = listed(workdir)
    assert sorted(apps) == sorted(payloads)
    for n, cp_id in enumerate(payloads):
        assert apps[cp_id]["version"] == f"1.{n}.0" and apps[cp_id]["size"] == len(payloads[cp_id])
        assert exported(workdir, cp_id) == payloads[cp_id]
    assert "consistent" in check(cpk_install("check-state", cwd=workdir)).stdout.decode()
    assert os.listdir(state / "staging") == []


def test_killed_installs_leave_a_consistent_state(workdir, state, signers):
    """SIGKILL at random points during 20 installs of a large package that upgrades an
    installed one: afterwards the installed application is always whole (the old or the new
    version), the state checks out, and a clean install succeeds."""
    rng = random.Random(int.from_bytes(os.urandom(4), "little"))
    old, new = os.urandom(1 << 20), os.urandom(96 << 20)
    build(workdir, old, signers["self"], version="1.0.0", out="old.cpk")
    build(workdir, new, signers["self"], version="1.1.0", out="new.cpk")
    check(cpk_install("sync", "--id", "test", "--file-store", STORE, cwd=workdir))
    check(cpk_install("old.cpk", cwd=workdir))
    durations = []
    for _ in range(2):  # the second run, with the package in the page cache, is what the kills face
        started = time.monotonic()
        check(cpk_install("new.cpk", cwd=workdir))
        durations.append(time.monotonic() - started)
        check(cpk_install("--allow-downgrade", "old.cpk", cwd=workdir))
    duration = min(durations)
    outcomes = []
    for _ in range(20):
        process = subprocess.Popen([cpk.tool("cpk-install"), "new.cpk"], cwd=workdir, env=install_env(),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, duration * 1.25))
        process.send_signal(signal.SIGKILL)
        code = process.wait(timeout=60)
        version = listed(workdir)["test"]["version"]  # opening the state cleans up what the kill left
        outcomes.append((code, version))
        assert os.listdir(state / "staging") == []
        assert "consistent" in check(cpk_install("check-state", cwd=workdir)).stdout.decode()
        assert exported(workdir) == (new if version == "1.1.0" else old)
        if version == "1.1.0":
            check(cpk_install("--allow-downgrade", "old.cpk", cwd=workdir))
    assert sum(code == -signal.SIGKILL for code, _ in outcomes) >= 5, outcomes
    check(cpk_install("new.cpk", cwd=workdir))
    assert listed(workdir)["test"]["version"] == "1.1.0" and exported(workdir) == new


def test_a_named_staging_file_left_by_a_killed_writer_is_removed(workdir, state):
    """Where the file system has no anonymous files, staging files have names; one a killed
    process left is removed by the next run, one a live process holds stays."""
    check(cpk_install("public-key", "--format", "fingerprint", cwd=workdir))
    abandoned = state / "staging" / "4242.abc.tmp"
    abandoned.write_bytes(b"half an application")
    held = state / "staging" / "4343.def.tmp"
    held.write_bytes(b"being written")
    with open(held, "rb") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)  # as a live writer holds its staging file
        check(cpk_install("list", cwd=workdir))
        assert not abandoned.exists() and held.exists()
    check(cpk_install("list", cwd=workdir))
    assert os.listdir(state / "staging") == []


# --- no secret on any output ------------------------------------------------------------------------

def test_no_key_is_ever_printed(workdir, state, signers):
    build(workdir, b"secret app", signers["self"])
    outputs = b""
    for args in [("sync", "--id", "test", "--file-store", STORE), ("status",), ("public-key", "--format", "pem"),
                 ("app.cpk",), ("install", "--json", "app.cpk"), ("list",), ("list", "--json"), ("check-state",)]:
        proc = check(cpk_install(*args, cwd=workdir))
        outputs += proc.stdout + proc.stderr
    private = (state / "device-key.pem").read_bytes()
    body = b"".join(private.splitlines()[1:-1])
    for secret in [TEST_KEY, base64.b64encode(TEST_KEY), (state / "storage.key").read_bytes(), body[:64]]:
        assert secret not in outputs


def test_a_package_without_its_signer_certificate_needs_a_trusted_key(workdir, state, signers):
    """cert "none" (or a URL, or a target domain): the package does not carry its signer's key,
    so only a key given with --public-key can check it."""
    payload = b"no certificate inside"
    data = reference_writer_cpk(payload, signers["self"], TEST_KEY)
    package = parse_cpk(data)
    document = json.loads(package.streams[6])
    document["payload"]["cert"] = {"url": {"url": "https://example.com/signer.crt"}}
    document["package"]["map"] = list(range(6))
    (workdir / "nocert.cpk").write_bytes(build_cpk(package.streams[:5] + [compact(document)], 5))
    check(cpk_install("sync", "--id", "test", "--file-store", STORE, cwd=workdir))
    assert_clean_failure(cpk_install("nocert.cpk", cwd=workdir), "does not carry its signer's certificate", code=1)
    assert_clean_failure(cpk_install("--public-key", signers["other"].cert, "nocert.cpk", cwd=workdir),
                         "Signer check FAILED", code=1)
    assert_no_trace(state, workdir)
    refused = cpk_install("--public-key", signers["other"].cert, "--public-key", signers["self"].cert,
                          "nocert.cpk", cwd=workdir)
    assert_clean_failure(refused, "Manifest check FAILED", code=1)  # a payload signature alone
    text = check(cpk_install("--public-key", signers["other"].cert, "--public-key", signers["self"].cert,
                             "--accept-unauthenticated-manifest", "nocert.cpk", cwd=workdir)).stdout.decode()
    assert "is a pinned key" in text and "Signature check PASSED" in text
    assert exported(workdir) == payload


def test_a_damaged_installed_application_is_reported_and_can_be_replaced(workdir, state, signers):
    payload = b"will be damaged" * 1000
    build(workdir, payload, signers["self"])
    check(cpk_install("sync", "--id", "test", "--file-store", STORE, cwd=workdir))
    check(cpk_install("app.cpk", cwd=workdir))
    (app_file,) = (state / "apps").iterdir()
    good = app_file.read_bytes()

    def damage(position):
        data = bytearray(good)
        data[position] ^= 0xFF
        app_file.write_bytes(bytes(data))

    damage(100)  # in the stored payload: found by its tag, replaced by installing again
    assert_clean_failure(cpk_install("check-state", cwd=workdir), "not consistent", code=1)
    assert_clean_failure(cpk_install("dev-export-plaintext", "test", "-o", "out", cwd=workdir), "damaged", code=2)
    assert not (workdir / "out").exists()
    check(cpk_install("app.cpk", cwd=workdir))
    assert exported(workdir) == payload
    damage(len(good) - 20)  # in its sealed record: nothing about it can be trusted, not even its version
    assert_clean_failure(cpk_install("list", cwd=workdir), "cpk-install remove test", code=2)
    assert_clean_failure(cpk_install("app.cpk", cwd=workdir), "cpk-install remove test", code=2)
    check(cpk_install("remove", "test", cwd=workdir))
    check(cpk_install("app.cpk", cwd=workdir))
    assert exported(workdir) == payload


def test_global_state_option_before_the_subcommand(workdir, state, signers):
    """`cpk-install --state DIR list` (and `--state=DIR`) mean the list subcommand with that
    state, not the default install subcommand reading a file named "list"."""
    elsewhere = workdir / "other-state"
    check(run("cpk-install", "--state", elsewhere, "sync", "--id", "test", "--file-store", STORE, cwd=workdir))
    build(workdir, b"global", signers["self"], use_cpk_sign=True)
    check(run("cpk-install", f"--state={elsewhere}", "app.cpk", cwd=workdir))
    listed_there = json.loads(check(run("cpk-install", "--state", elsewhere, "list", "--json", cwd=workdir)).stdout)
    assert [app["id"] for app in listed_there] == ["test"]
    assert not state.exists(), "the default state was not touched"
    assert check(run("cpk-install", "--state", elsewhere, "trust", "list", cwd=workdir)).stdout == b""
