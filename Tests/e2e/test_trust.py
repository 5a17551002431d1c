"""The trust model end to end (issue 10, "Must show"): a device installs, and cpk-verify passes,
only what a trusted signer vouched for.

Every attack of the issue is replayed as an attacker would: the bad package is written by an
independent writer (cpk.py's build_cpk, Python `cryptography` for RSA PKCS#1 v1.5 signatures
and for certificates with a chosen validity) wherever the tools refuse to make it. Each is
refused with one line on stderr naming the reason and exit 1; nothing is installed, recorded
or moved (`cpk-install list --json` and the stored files before and after), and the genuine
next version still installs afterwards without --allow-downgrade.

Certificates are made by the `openssl` command line: a vendor CA, code-signing leaves under it
(RSA-2048, EC P-256, P-384, Ed25519), a TLS-server-only and an e-mail-protection leaf under the
same CA, an attacker's self-signed code-signing certificate, and a short-lived leaf.
"""

import datetime
import hashlib
import json
import os
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import cpk
from cpk import assert_clean_failure, build_cpk, check, compact, parse_cpk, run, sh
from test_install import (STORE, TEST_KEY, cpk_install, exported, install_env, listed, openssl,
                          reference_writer_cpk, state)  # noqa: F401  (state is a fixture)

CA_EXT = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n"
LEAF_EXT = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
CODE_SIGNING = LEAF_EXT + "extendedKeyUsage=codeSigning\n"
GENPKEY = {
    "rsa": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    "p256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    "p384": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
    "ed25519": ["-algorithm", "ed25519"],
}
SCHEME_LEAF = {"rsa-pkcs1v15": "release", "rsa-pss": "release", "ecdsa-p256": "p256", "ecdsa-p384": "p384",
               "ed25519": "ed25519"}
CONTRACT_CALL = {"rsa-pss": "verify_application_sha256_rsa_pss", "ecdsa-p256": "verify_application_sha256_ecdsa_p256",
                 "ecdsa-p384": "verify_application_sha256_ecdsa_p384", "ed25519": "verify_application_sha256_ed25519"}


# --- certificates ----------------------------------------------------------------------------

class Cert:
    """A key (openssl genpkey) and its certificate (openssl req / x509 -req), as files; signs
    digests with RSA PKCS#1 v1.5 for the Python writer (duck-types test_install.Signer)."""

    def __init__(self, directory: Path, slug: str, subject: str, *, issuer: "Cert | None" = None,
                 extensions: str = CODE_SIGNING, kind: str = "rsa", days: int = 10):
        self.slug, self.kind = slug, kind
        self.key, self.cert = directory / f"{slug}.key", directory / f"{slug}.crt"
        ext = directory / f"{slug}.ext"
        ext.write_text(extensions)
        openssl("genpkey", *GENPKEY[kind], "-out", self.key)
        if issuer is None:
            openssl("req", "-x509", "-key", self.key, "-subj", subject, "-days", days, "-out", self.cert,
                    *sum((["-addext", line] for line in extensions.splitlines()), []))
        else:
            csr = directory / f"{slug}.csr"
            openssl("req", "-new", "-key", self.key, "-subj", subject, "-out", csr)
            openssl("x509", "-req", "-in", csr, "-CA", issuer.cert, "-CAkey", issuer.key, "-CAcreateserial",
                    "-days", days, "-extfile", ext, "-out", self.cert)
        self.private = serialization.load_pem_private_key(self.key.read_bytes(), None)

    def sign_digest(self, digest: bytes) -> bytes:
        return self.private.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))


class PythonCert(Cert):
    """A code-signing RSA leaf issued by `issuer` with a chosen validity, by `cryptography`
    (the openssl command line cannot back-date a certificate)."""

    def __init__(self, directory: Path, slug: str, common_name: str, issuer: Cert, not_before, not_after):
        self.slug, self.kind = slug, "rsa"
        self.key, self.cert = directory / f"{slug}.key", directory / f"{slug}.crt"
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ca = x509.load_pem_x509_certificate(issuer.cert.read_bytes())
        ca_key = serialization.load_pem_private_key(issuer.key.read_bytes(), None)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(ca.subject).public_key(self.private.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
            .sign(ca_key, hashes.SHA256()))
        self.cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        self.key.write_bytes(self.private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("trust-pki")
    ca = Cert(d, "vendor-ca", "/O=Acme/CN=Vendor CA", extensions=CA_EXT, days=30)
    now = datetime.datetime.now(datetime.timezone.utc)
    intermediate = Cert(d, "intermediate", "/O=Acme/CN=Acme Signing CA", issuer=ca, extensions=CA_EXT, days=20)
    return {
        "ca": ca,
        "intermediate": intermediate,
        "deep": Cert(d, "deep", "/O=Acme/CN=Deep Signer", issuer=intermediate),
        "other-ca": Cert(d, "other-ca", "/CN=Other CA", extensions=CA_EXT, days=30),
        "release": Cert(d, "release", "/O=Acme/CN=Release", issuer=ca,
                        extensions=CODE_SIGNING + "subjectAltName=email:release@acme.example\n"),
        "nightly": Cert(d, "nightly", "/O=Acme/CN=Nightly", issuer=ca,
                        extensions=CODE_SIGNING + "subjectAltName=email:nightly@acme.example,DNS:nightly.acme.example,"
                                                "URI:https://acme.example/signers/nightly\n"),
        "p256": Cert(d, "p256", "/O=Acme/CN=Release P-256", issuer=ca, kind="p256"),
        "p384": Cert(d, "p384", "/O=Acme/CN=Release P-384", issuer=ca, kind="p384"),
        "ed25519": Cert(d, "ed25519", "/O=Acme/CN=Release Ed25519", issuer=ca, kind="ed25519"),
        "short": Cert(d, "short", "/O=Acme/CN=Short Lived", issuer=ca, days=1),
        "tls": Cert(d, "tls", "/CN=www.acme.example", issuer=ca,
                    extensions=LEAF_EXT + "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:www.acme.example\n"),
        "email": Cert(d, "email", "/CN=Mail Signer", issuer=ca,
                      extensions=LEAF_EXT + "extendedKeyUsage=emailProtection\nsubjectAltName=email:mail@acme.example\n"),
        "no-eku": Cert(d, "no-eku", "/O=Acme/CN=Plain Signer", issuer=ca, extensions=LEAF_EXT),
        "comma": Cert(d, "comma", "/CN=Release,O=Acme", issuer=ca),  # one CN that reads like the release subject
        "attacker": Cert(d, "attacker", "/O=Acme/CN=Release", extensions=CODE_SIGNING),  # self-signed look-alike
        "expired": PythonCert(d, "expired", "Expired Signer", ca, now - datetime.timedelta(days=20),
                              now - datetime.timedelta(days=1)),
    }


def later(days: float) -> str:
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- genuine packages (the tools) and bad ones (the Python writer) ---------------------------

def sealed(workdir: Path, version: str, *, cp_id="test", payload: bytes | None = None, name="Demo", vendor="Acme",
           store=STORE, out=None) -> tuple[Path, bytes]:
    """cpk-pack | cpk-seal: an unsigned sealed envelope, and its plaintext. Without the key check
    stream: the attacks here rebuild the reference layout stream by stream (the key check stream
    decides nothing, docs/format.md §4.1; the tamper matrix covers it)."""
    payload = f"{cp_id} {version} ".encode() * 500 if payload is None else payload
    out = workdir / (out or f"{cp_id.replace('/', '_')}-{version}.env")
    source = out.with_suffix(".bin")
    source.write_bytes(payload)
    check(sh(f"cpk-pack --id {cp_id} --app-version {version} --display-name '{name}' --vendor '{vendor}' {source}"
             f" | cpk-seal --file-store {store} --quiet --no-key-check > {out}", cwd=workdir))
    return out, payload


def genuine(workdir: Path, signer: Cert, version: str, *, mode: tuple = (), scheme=None, cp_id="test",
            store=STORE, out=None, payload=None) -> Path:
    """pack | seal | cpk-sign: by default payload and package signatures; mode ("--payload",)
    gives the reference 7-stream layout."""
    envelope, _ = sealed(workdir, version, cp_id=cp_id, store=store, payload=payload)
    out = workdir / (out or f"{cp_id.replace('/', '_')}-{version}-{signer.slug}.cpk")
    extra = ["--scheme", scheme] if scheme else []
    check(run("cpk-sign", "--key", signer.key, "--cert", signer.cert, *mode, *extra, "--cpk", "-o", out, envelope,
              cwd=workdir))
    return out


def relabel(version: str, name: str | None = None):
    """A manifest edit: another version (and name)."""
    major, minor, revision = map(int, version.split("."))

    def edit(document):
        document["payload"]["ver"].update({"maj": major, "min": minor, "rev": revision})
        if name is not None:
            document["cp-name"] = name
    return edit


def rewrite(data: bytes, *, payload_signer: Cert | None = None, package_signer: Cert | None = None,
            edit=None, map_manifest=True, payload_signature: bytes | None = None) -> bytes:
    """The independent writer. From a sealed (5-stream) or signed package of these tools,
    keeps the payload streams (ciphertext, nonce, tag, digest) and either the payload signature
    and certificate it has or new ones by `payload_signer` (or the bytes `payload_signature`);
    drops any package signature; edits the manifest; then, with `package_signer`, adds a
    package signature (RSA PKCS#1 v1.5 over SHA-256 of the map's streams, in map order) whose
    map is every stream but the package digest and signature, the manifest included unless
    map_manifest is False. Layout: 0 payload, 1 nonce, 2 tag, 3 digest, 4 signature,
    5 certificate, [6 package digest, 7 package signature, 8 package certificate,] manifest."""
    package = parse_cpk(data)
    document = json.loads(package.streams[package.manifest_index])
    payload = document["payload"]
    assert (payload["data"], payload["enc"]["aes-gcm"]["nonce"], payload["enc"]["aes-gcm"]["tag"],
            payload["dig"]["sha256"]["data"]) == (0, 1, 2, 3)
    streams = list(package.streams[:4])
    if payload_signer is not None:
        streams += [payload_signer.sign_digest(streams[3]), payload_signer.cert.read_bytes()]
    else:
        assert list(payload["sig"]) == ["rsa-pkcs1v15"] and payload["sig"]["rsa-pkcs1v15"]["data"] == 4
        assert payload["cert"]["embedded-x509-pem"]["data"] == 5
        streams += package.streams[4:6]
    if payload_signature is not None:
        streams[4] = payload_signature
    payload["sig"] = {"rsa-pkcs1v15": {"key_strength": 2048, "data": 4}}
    payload["cert"] = {"embedded-x509-pem": {"data": 5}}
    if edit is not None:
        edit(document)
    if package_signer is None:
        document["package"] = {"map": list(range(7)), "dig": "none", "sig": "none", "cert": "none"}
        return build_cpk(streams + [compact(document)], 6)
    stream_map = [0, 1, 2, 3, 4, 5, 8] + ([9] if map_manifest else [])
    document["package"] = {"map": stream_map, "dig": {"sha256": {"data": 6}},
                           "sig": {"rsa-pkcs1v15": {"key_strength": 2048, "data": 7}},
                           "cert": {"embedded-x509-pem": {"data": 8}}}
    manifest = compact(document)
    certificate = package_signer.cert.read_bytes()
    laid_out = streams + [b"", b"", certificate, manifest]
    digest = hashlib.sha256(b"".join(laid_out[i] for i in stream_map)).digest()
    laid_out[6], laid_out[7] = digest, package_signer.sign_digest(digest)
    return build_cpk(laid_out, 9)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --- the device ------------------------------------------------------------------------------

def synced(workdir, cp_id="test", store=STORE):
    check(cpk_install("sync", "--id", cp_id, "--file-store", store, cwd=workdir))


def device(state: Path, workdir: Path):
    """What a refused install must leave alone: what list records, and the stored bytes."""
    apps = {name: (state / "apps" / name).read_bytes() for name in sorted(os.listdir(state / "apps"))}
    return json.loads(check(cpk_install("list", "--json", cwd=workdir)).stdout), apps, os.listdir(state / "staging")


def refused(proc, needle, *also):
    """An install refused as promised: exit 1, one line on stderr naming the reason."""
    err = assert_clean_failure(proc, needle, code=1)
    for text in also:
        assert text in err, (text, err)
    assert "NOT INSTALLED" in proc.stdout.decode() or proc.stdout == b"" or proc.stdout.startswith(b"{")
    return err


def installs(workdir, package, *args, env=None) -> dict:
    """cpk-install --json; the report, after checking it says installed."""
    proc = check(cpk_install("install", "--json", *args, package, cwd=workdir, **({"env": env} if env else {})))
    report = json.loads(proc.stdout)
    assert report["installed"] is True, report
    return report


def verify(workdir, *args, code=0):
    proc = run("cpk-verify", *args, cwd=workdir)
    out = proc.stdout.decode()
    assert proc.returncode == code, f"exit {proc.returncode}, expected {code}\n{out}{proc.stderr.decode()}"
    return out


checks = cpk.verify_results


def verify_json(workdir, *args, code=0) -> dict:
    document = json.loads(verify(workdir, "--json", *args, code=code))
    document["by-name"] = {c["check"]: c for c in document["checks"]}
    return document


# --- attack 1: an attacker's package signature over an edited manifest -----------------------

def test_attack1_package_signature_by_an_untrusted_signer_is_refused(workdir, state, pki):
    synced(workdir)
    ca = pki["ca"].cert
    installs(workdir, genuine(workdir, pki["release"], "1.2.0"), "--ca", ca)
    vendor = genuine(workdir, pki["release"], "1.2.1")
    assert verify_json(workdir, "--ca", ca, vendor)["manifest-authenticated"] is True
    # the payload signature stays the vendor's; the package signature is the attacker's
    evil = write(workdir / "evil.cpk", rewrite(vendor.read_bytes(), package_signer=pki["attacker"],
                                               edit=relabel("99.0.0", name="Totally Legit")))
    assert verify_json(workdir, "--integrity-only", evil)["verdict"] == "intact"  # well formed, only untrusted
    before = device(state, workdir)
    err = refused(cpk_install("--ca", ca, evil, cwd=workdir), "Signer check FAILED")
    assert "does not chain to a trusted anchor" in err
    assert device(state, workdir) == before
    check(cpk_install("trust", "add", ca, cwd=workdir))
    refused(cpk_install(evil, cwd=workdir), "Signer check FAILED", "does not chain to a trusted anchor")
    report = json.loads(cpk_install("install", "--json", evil, cwd=workdir).stdout)
    assert report["installed"] is False and report["checks"]["signer"] == "failed"
    assert device(state, workdir) == before
    out = verify(workdir, "--ca", ca, evil, code=1)
    assert checks(out)["package-trust"][0] == "FAILED" and checks(out)["payload-trust"][0] == "PASSED"
    assert checks(out)["manifest"][0] != "PASSED" and out.splitlines()[-1].startswith("NOT VERIFIED")
    # the genuine next version still installs, without --allow-downgrade
    report = installs(workdir, genuine(workdir, pki["release"], "1.3.0"))
    assert report["version"] == "1.3.0" and report["checks"]["manifest"] == "passed"
    assert listed(workdir)["test"]["version"] == "1.3.0" and listed(workdir)["test"]["name"] == "Demo"


# --- attack 2: a payload-only package relabelled ---------------------------------------------

def test_attack2_relabelled_payload_only_package_needs_an_authenticated_manifest(workdir, state, pki):
    synced(workdir)
    ca = pki["ca"].cert
    check(cpk_install("trust", "add", ca, cwd=workdir))
    installs(workdir, genuine(workdir, pki["release"], "1.2.0"))
    old = genuine(workdir, pki["release"], "1.1.0", mode=("--payload",))
    assert parse_cpk(old.read_bytes()).count == 7
    relabelled = write(workdir / "relabelled.cpk", rewrite(old.read_bytes(), edit=relabel("99.0.0")))
    before = device(state, workdir)
    refused(cpk_install(relabelled, cwd=workdir), "Manifest check FAILED")
    refused(cpk_install("--ca", ca, relabelled, cwd=workdir), "Manifest check FAILED")
    assert device(state, workdir) == before
    # cpk-verify: the payload is authenticated, the manifest is not, and the verdict says so
    out = verify(workdir, "--ca", ca, "--require", "payload-signature,payload-trust", relabelled)
    assert checks(out)["payload-trust"][0] == "PASSED" and checks(out)["manifest"][0] == "SKIPPED"
    assert "manifest NOT authenticated" in out.splitlines()[-1] and out.splitlines()[-1].startswith("VERIFIED")
    document = verify_json(workdir, "--ca", ca, relabelled)
    assert document["verdict"] == "authenticated" and document["manifest-authenticated"] is False
    out = verify(workdir, "--ca", ca, "--require", "manifest", relabelled, code=1)
    assert "manifest is required but was skipped" in out
    # accepted explicitly: installed, but the anti-rollback floor does not move
    report = installs(workdir, relabelled, "--accept-unauthenticated-manifest")
    assert report["version"] == "99.0.0" and report["manifest-authenticated"] is False
    assert report["checks"]["manifest"] != "passed"
    report = installs(workdir, genuine(workdir, pki["release"], "1.3.0"))
    assert report["version"] == "1.3.0" and report["manifest-authenticated"] is True
    assert listed(workdir)["test"]["version"] == "1.3.0"


def test_attack2_list_says_the_manifest_was_not_authenticated(workdir, state, pki):
    synced(workdir)
    check(cpk_install("trust", "add", pki["ca"].cert, cwd=workdir))
    installs(workdir, genuine(workdir, pki["release"], "1.2.0"))
    assert listed(workdir)["test"].get("manifest-authenticated") is True
    old = genuine(workdir, pki["release"], "1.1.0", mode=("--payload",))
    relabelled = write(workdir / "relabelled.cpk", rewrite(old.read_bytes(), edit=relabel("99.0.0")))
    installs(workdir, relabelled, "--accept-unauthenticated-manifest")
    app = listed(workdir)["test"]
    assert app["version"] == "99.0.0" and app.get("manifest-authenticated") is False


# --- attack 3: a package map without the manifest --------------------------------------------

def test_attack3_a_package_map_without_the_manifest_does_not_authenticate_it(workdir, state, pki):
    synced(workdir)
    ca = pki["ca"].cert
    check(cpk_install("trust", "add", ca, cwd=workdir))
    installs(workdir, genuine(workdir, pki["release"], "1.2.0"))
    base = genuine(workdir, pki["release"], "1.1.0")
    partial = write(workdir / "partial.cpk", rewrite(base.read_bytes(), package_signer=pki["release"],
                                                     map_manifest=False, edit=relabel("99.0.0")))
    document = json.loads(check(run("cpk-unpack", "manifest", partial, cwd=workdir)).stdout)
    assert 9 not in document["package"]["map"] and document["payload"]["ver"]["maj"] == 99
    out = verify(workdir, "--ca", ca, partial)  # every signature is trusted ...
    assert checks(out)["package-trust"][0] == "PASSED" and checks(out)["package-digest"][0] == "PASSED"
    assert checks(out)["manifest"][0] == "SKIPPED" and "manifest NOT authenticated" in out  # ... but not the manifest
    verify(workdir, "--ca", ca, "--require", "manifest", partial, code=1)
    before = device(state, workdir)
    refused(cpk_install(partial, cwd=workdir), "Manifest check FAILED")
    assert device(state, workdir) == before
    assert installs(workdir, genuine(workdir, pki["release"], "1.3.0"))["version"] == "1.3.0"


# --- attack 4: expired signer certificates ---------------------------------------------------

def test_attack4_an_expired_signer_is_refused_unless_allowed(workdir, state, pki):
    synced(workdir)
    ca, leaf = pki["ca"].cert, pki["expired"]
    installs(workdir, genuine(workdir, pki["release"], "1.2.0"), "--ca", ca)
    envelope, payload = sealed(workdir, "1.2.5")
    check(run("cpk-pack", "finish", "-o", "sealed.cpk", envelope, cwd=workdir))
    expired = write(workdir / "expired.cpk", rewrite((workdir / "sealed.cpk").read_bytes(), payload_signer=leaf,
                                                     package_signer=leaf))
    out = verify(workdir, "--ca", ca, expired, code=1)
    assert "CN=Expired Signer expired on" in checks(out)["payload-certificate"][1]
    out = verify(workdir, "--ca", ca, "--allow-expired", expired)
    assert "manifest authenticated" in out.splitlines()[-1]
    before = device(state, workdir)
    for trust in (["--ca", ca], ["--public-key", leaf.cert], ["--ca", ca, "--public-key", leaf.cert]):
        refused(cpk_install(*trust, "--allow-signer-change", expired, cwd=workdir), "Signer check FAILED", "expired on")
    assert device(state, workdir) == before
    report = installs(workdir, expired, "--public-key", leaf.cert, "--allow-expired", "--allow-signer-change")
    assert report["version"] == "1.2.5" and report["checks"]["signer"] == "passed"
    assert exported(workdir) == payload


def test_attack4_a_short_lived_signer_checked_later_with_at(workdir, state, pki):
    synced(workdir)
    ca = pki["ca"].cert
    short = genuine(workdir, pki["short"], "1.2.0")
    verify(workdir, "--ca", ca, short)
    out = verify(workdir, "--ca", ca, "--at", later(2), short, code=1)
    assert "CN=Short Lived,O=Acme expired on" in out
    verify(workdir, "--ca", ca, "--at", later(2), "--allow-expired", short)
    before = device(state, workdir)
    refused(cpk_install("--ca", ca, "--at", later(2), short, cwd=workdir), "Signer check FAILED", "expired on")
    refused(cpk_install("--public-key", pki["short"].cert, "--at", later(2), short, cwd=workdir),
            "Signer check FAILED", "expired on")
    assert device(state, workdir) == before
    installs(workdir, short, "--ca", ca, "--at", later(2), "--allow-expired")
    assert listed(workdir)["test"]["version"] == "1.2.0"


# --- attack 5: certificates not for code signing ---------------------------------------------

@pytest.mark.parametrize("leaf", ["tls", "email"])
def test_attack5_a_leaf_not_for_code_signing_is_refused(workdir, state, pki, leaf):
    synced(workdir)
    ca, signer = pki["ca"].cert, pki[leaf]
    envelope, _ = sealed(workdir, "1.2.0")
    assert_clean_failure(run("cpk-sign", "--key", signer.key, "--cert", signer.cert, "-o", "x.env", envelope,
                             cwd=workdir), "extended key usage does not allow code signing")
    assert not (workdir / "x.env").exists()
    check(run("cpk-pack", "finish", "-o", "sealed.cpk", envelope, cwd=workdir))
    bad = write(workdir / "bad.cpk", rewrite((workdir / "sealed.cpk").read_bytes(), payload_signer=signer,
                                             package_signer=signer))
    out = verify(workdir, "--ca", ca, bad, code=1)
    assert "extended key usage does not allow code signing" in checks(out)["payload-trust"][1] + \
        checks(out)["payload-certificate"][1]
    check(cpk_install("trust", "add", ca, cwd=workdir))
    before = device(state, workdir)
    refused(cpk_install(bad, cwd=workdir), "Signer check FAILED", "extended key usage does not allow code signing")
    refused(cpk_install("--public-key", signer.cert, bad, cwd=workdir), "Signer check FAILED")
    assert device(state, workdir) == before
    assert installs(workdir, genuine(workdir, pki["release"], "1.2.0"))["version"] == "1.2.0"


# --- identity, scoped anchors, signer continuity ---------------------------------------------

def test_certificate_identity_selects_the_signer(workdir, pki):
    ca = pki["ca"].cert
    release, nightly = genuine(workdir, pki["release"], "1.2.0"), genuine(workdir, pki["nightly"], "1.2.0")
    for identity in ("CN=Release,O=Acme", "Release", "release@acme.example"):
        out = verify(workdir, "--ca", ca, "--certificate-identity", identity, release)
        assert "VERIFIED: authenticated" in out and "manifest authenticated" in out
        out = verify(workdir, "--ca", ca, "--certificate-identity", identity, nightly, code=1)
        assert "matches none of the expected identities" in out
    for near_miss in ("CN=Release", "release@acme", "Releas", "O=Acme,CN=Release"):
        verify(workdir, "--ca", ca, "--certificate-identity", near_miss, release, code=1)
    verify(workdir, "--ca", ca, "--certificate-identity", "nobody", "--certificate-identity", "Release", release)
    for pattern in ("CN=Rel.*,O=Acme", r"[a-z]+@acme\.example", "Release"):
        verify(workdir, "--ca", ca, "--certificate-identity-regexp", pattern, release)
    verify(workdir, "--ca", ca, "--certificate-identity-regexp", "nightly@.*", release, code=1)
    verify(workdir, "--ca", ca, "--certificate-identity-regexp", "Rel", release, code=1)  # the whole name must match
    verify(workdir, "--ca", ca, "--certificate-identity-regexp", "Night.*", nightly)
    for san in ("nightly.acme.example", "https://acme.example/signers/nightly"):  # DNS and URI names
        verify(workdir, "--ca", ca, "--certificate-identity", san, nightly)
        verify(workdir, "--ca", ca, "--certificate-identity", san, release, code=1)
    # a single common name "Release,O=Acme" is not the subject CN=Release,O=Acme
    comma = genuine(workdir, pki["comma"], "1.2.0")
    for rule in (["--certificate-identity", "CN=Release,O=Acme"], ["--certificate-identity-regexp", "CN=Release,O=Acme"]):
        verify(workdir, "--ca", ca, *rule, comma, code=1)
    verify(workdir, "--ca", ca, "--certificate-identity", "Release,O=Acme", comma)


def test_cpk_install_matches_the_certificate_identity(workdir, state, pki):
    synced(workdir)
    nightly = genuine(workdir, pki["nightly"], "1.2.0")
    before = device(state, workdir)
    refused(cpk_install("--ca", pki["ca"].cert, "--certificate-identity", "release@acme.example", nightly,
                        cwd=workdir), "Signer check FAILED", "matches none of the expected identities")
    assert device(state, workdir) == before
    installs(workdir, nightly, "--ca", pki["ca"].cert, "--certificate-identity", "nightly@acme.example")


def test_an_anchor_scoped_to_an_application_does_not_authorise_another(workdir, state, pki, tmp_path):
    keys = tmp_path / "keys.json"
    for cp_id in ("alpha", "beta"):
        check(run("cpk-keyfetch", "provision", "--key-name", cp_id, "--file-store", keys))
        synced(workdir, cp_id, keys)
    name = check(cpk_install("trust", "add", "--id", "alpha", pki["ca"].cert, cwd=workdir)).stdout.decode().strip()
    anchors = json.loads(check(cpk_install("trust", "list", "--json", cwd=workdir)).stdout)
    assert [(a["name"], a["kind"], a["ids"], a["subjects"]) for a in anchors] == [
        (name, "ca", ["alpha"], ["CN=Vendor CA,O=Acme"])]
    text = check(cpk_install("trust", "list", cwd=workdir)).stdout.decode()
    assert "alpha" in text and "CN=Vendor CA,O=Acme" in text and "sha256:" in text
    beta = genuine(workdir, pki["release"], "1.0.0", cp_id="beta", store=keys)
    before = device(state, workdir)
    refused(cpk_install(beta, cwd=workdir), "Signer check FAILED", "not trusted for the application \"beta\"")
    assert device(state, workdir) == before
    verify(workdir, "--ca", pki["ca"].cert, beta)  # the same package is fine by an unscoped anchor
    report = installs(workdir, genuine(workdir, pki["release"], "1.0.0", cp_id="alpha", store=keys))
    assert report["id"] == "alpha" and report["signer"]["identity"] == "subject:CN=Release,O=Acme"
    assert sorted(listed(workdir)) == ["alpha"]


def test_an_upgrade_by_another_trusted_signer_is_refused_unless_allowed(workdir, state, pki):
    synced(workdir)
    check(cpk_install("trust", "add", pki["ca"].cert, cwd=workdir))
    installs(workdir, genuine(workdir, pki["release"], "1.2.0"))
    upgrade = genuine(workdir, pki["nightly"], "1.3.0")
    verify(workdir, "--ca", pki["ca"].cert, upgrade)  # a trusted signer, only not the installed version's
    before = device(state, workdir)
    refused(cpk_install(upgrade, cwd=workdir), "Signer check FAILED",
            "the installed test 1.2.0 was signed by CN=Release,O=Acme, this package by CN=Nightly,O=Acme")
    assert device(state, workdir) == before
    report = installs(workdir, upgrade, "--allow-signer-change")
    assert report["version"] == "1.3.0"
    assert report["signer"]["identity"] == "subject:CN=Nightly,O=Acme"
    assert report["previous-signer"] == "subject:CN=Release,O=Acme"
    proc = check(cpk_install("--allow-signer-change", genuine(workdir, pki["release"], "1.4.0"), cwd=workdir))
    signer_line = next(line for line in proc.stdout.decode().splitlines() if line.startswith("Signer check PASSED"))
    assert "CN=Release,O=Acme" in signer_line and "was signed by CN=Nightly,O=Acme (" in signer_line and "under the anchor" in signer_line
    assert "subject:" not in signer_line  # the recorded form stays in the JSON
    # and now the release signer is the installed one again: nightly is refused once more
    refused(cpk_install(genuine(workdir, pki["nightly"], "1.5.0"), cwd=workdir), "Signer check FAILED")


def test_an_upgrade_signed_by_another_pinned_key_is_refused(workdir, state, pki):
    """Bare keys: the identity is the key's fingerprint."""
    synced(workdir)
    keys = {}
    for who in ("release", "nightly"):
        keys[who] = workdir / f"{who}.pub"
        openssl("pkey", "-in", pki[who].key, "-pubout", "-out", keys[who])
    pins = ["--public-key", keys["release"], "--public-key", keys["nightly"]]
    installs(workdir, genuine(workdir, pki["release"], "1.2.0"), *pins)
    upgrade = genuine(workdir, pki["nightly"], "1.3.0")
    before = device(state, workdir)
    refused(cpk_install(*pins, upgrade, cwd=workdir), "Signer check FAILED", "was signed by")
    assert device(state, workdir) == before
    installs(workdir, upgrade, *pins, "--allow-signer-change")


# --- cpk-verify needs a trust input ----------------------------------------------------------

def test_cpk_verify_without_trust_input_fails_and_says_why(workdir, pki):
    package = genuine(workdir, pki["attacker"], "1.2.0")  # self-signed: intact, vouched for by nobody
    proc = run("cpk-verify", package, cwd=workdir)
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert err.count("\n") == 1 and "no trust input" in err and "--integrity-only" in err
    assert proc.stdout.decode().splitlines()[-1].startswith("NOT VERIFIED: no trust input")
    proc = run("cpk-verify", "--json", package, cwd=workdir)
    assert proc.returncode == 1 and json.loads(proc.stdout)["verdict"] != "authenticated"
    out = verify(workdir, "--integrity-only", package)
    assert out.splitlines()[-1].startswith("VERIFIED: intact") and "manifest NOT authenticated" in out
    document = verify_json(workdir, "--integrity-only", package)
    assert document["verdict"] == "intact" and document["manifest-authenticated"] is False
    assert document["by-name"]["manifest"]["result"] == "skipped"
    # with a trust input that does not vouch for it: still a failure
    verify(workdir, "--ca", pki["ca"].cert, package, code=1)
    document = verify_json(workdir, "--ca", pki["ca"].cert, genuine(workdir, pki["release"], "1.2.0"))
    assert document["verdict"] == "authenticated" and document["manifest-authenticated"] is True
    assert document["by-name"]["manifest"]["result"] == "passed"


# --- every scheme installs; the reference Package Manager only PKCS#1 v1.5 -------------------

@pytest.mark.parametrize("scheme", ["rsa-pkcs1v15", "rsa-pss", "ecdsa-p256", "ecdsa-p384", "ed25519"])
def test_every_scheme_installs_from_a_code_signing_leaf(workdir, state, pki, scheme):
    synced(workdir)
    signer = pki[SCHEME_LEAF[scheme]]
    envelope, payload = sealed(workdir, "1.2.0", payload=os.urandom(150_000))
    proc = check(run("cpk-sign", "--key", signer.key, "--cert", signer.cert, "--scheme", scheme, "--cpk", "-o",
                     "app.cpk", envelope, cwd=workdir))
    warning = "warning: the reference Package Manager verifies only rsa-pkcs1v15"
    assert (warning in proc.stderr.decode()) == (scheme != "rsa-pkcs1v15"), proc.stderr
    document = json.loads(check(run("cpk-unpack", "manifest", "app.cpk", cwd=workdir)).stdout)
    assert list(document["payload"]["sig"]) == [scheme] and list(document["package"]["sig"]) == [scheme]
    check(cpk_install("trust", "add", pki["ca"].cert, cwd=workdir))
    status = json.loads(check(cpk_install("status", "--json", cwd=workdir)).stdout)
    assert set(CONTRACT_CALL.values()) <= set(status["operations"])
    reference = install_env(CPK_CPM_CONTRACT="reference")
    if scheme != "rsa-pkcs1v15":
        before = device(state, workdir)
        refused(run("cpk-install", "app.cpk", cwd=workdir, env=reference), scheme, CONTRACT_CALL[scheme])
        assert device(state, workdir) == before
        operations = json.loads(check(run("cpk-install", "status", "--json", env=reference)).stdout)["operations"]
        assert CONTRACT_CALL[scheme] not in operations and "verify_application_sha256_rsa_pkcs1_v15" in operations
    report = installs(workdir, "app.cpk")
    assert report["checks"]["signer"] == "passed" and report["checks"]["manifest"] == "passed"
    assert report["development-mode"] is False and report["signer"]["trusted-by"] == "anchor"
    assert exported(workdir) == payload
    if scheme == "rsa-pkcs1v15":  # the reference Package Manager installs it too
        installs(workdir, "app.cpk", env=reference)
        assert exported(workdir) == payload


# --- attack 8: cpk-unpack payload checks the payload signature --------------------------------

def test_attack8_unpack_payload_refuses_a_failing_payload_signature(workdir, pki):
    package = genuine(workdir, pki["release"], "1.2.0", mode=("--payload",), payload=b"the real application" * 99)
    data = package.read_bytes()
    check(run("cpk-unpack", "payload", "--quiet", "--file-store", STORE, "--ca", pki["ca"].cert, "-o", "good.bin", package,
              cwd=workdir))
    assert (workdir / "good.bin").read_bytes() == b"the real application" * 99
    # the signature replaced by the same signer's signature over another digest
    other = hashlib.sha256(b"another application").digest()
    bad = write(workdir / "bad.cpk", rewrite(data, payload_signature=pki["release"].sign_digest(other)))
    for trust in ([], ["--ca", pki["ca"].cert]):
        proc = run("cpk-unpack", "payload", "--quiet", "--file-store", STORE, *trust, "-o", "out.bin", bad, cwd=workdir)
        assert_clean_failure(proc, "signature")
        assert not (workdir / "out.bin").exists()
        proc = run("cpk-unpack", "payload", "--quiet", "--file-store", STORE, *trust, bad, cwd=workdir)
        assert_clean_failure(proc, "signature")
        assert proc.stdout == b""
    proc = check(run("cpk-unpack", "payload", "--quiet", "--file-store", STORE, "--skip-signatures", "-o", "out.bin", bad,
                     cwd=workdir))
    assert (workdir / "out.bin").read_bytes() == b"the real application" * 99
    # digest and signature swapped for another payload's (a consistent pair): the digest is still checked
    swapped = bytearray(data)
    parsed = parse_cpk(data)
    for index, value in ((3, other), (4, pki["release"].sign_digest(other))):
        start = parsed.origin + parsed.entries[index][0]
        swapped[start:start + len(value)] = value
    write(workdir / "swapped.cpk", bytes(swapped))
    for extra in ([], ["--skip-signatures"]):
        proc = run("cpk-unpack", "payload", "--quiet", "--file-store", STORE, *extra, "-o", "out2.bin", "swapped.cpk",
                   cwd=workdir)
        assert_clean_failure(proc, "digest")
        assert not (workdir / "out2.bin").exists()
    # a broken tag is never skipped either
    tagged = bytearray(data)
    tagged[parsed.origin + parsed.entries[2][0]] ^= 1
    write(workdir / "tag.cpk", bytes(tagged))
    assert_clean_failure(run("cpk-unpack", "payload", "--quiet", "--file-store", STORE, "--skip-signatures", "-o", "out3.bin",
                             "tag.cpk", cwd=workdir), "tag")
    assert not (workdir / "out3.bin").exists()


# --- the reference layout in development mode ------------------------------------------------

def test_a_reference_writer_package_installs_in_development_mode(workdir, state, pki):
    payload = os.urandom(100_000)
    reference = write(workdir / "ref.cpk", reference_writer_cpk(payload, pki["release"], TEST_KEY))
    synced(workdir)
    proc = check(cpk_install("ref.cpk", cwd=workdir))
    text = proc.stdout.decode()
    assert "NOT AUTHENTICATED" in text and "development mode" in text and "Installed test 2.1.7" in text
    report = json.loads(check(cpk_install("install", "--json", reference, cwd=workdir)).stdout)
    assert report["development-mode"] is True and report["manifest-authenticated"] is False
    assert report["checks"]["signer"] == "not-authenticated"
    assert exported(workdir) == payload
    # the same package on a device with a trust policy: its payload signer is trusted, its manifest is not
    refused(cpk_install("--ca", pki["ca"].cert, reference, cwd=workdir), "Manifest check FAILED")
    installs(workdir, reference, "--ca", pki["ca"].cert, "--accept-unauthenticated-manifest")
    assert exported(workdir) == payload


# --- more of the same trust decision ---------------------------------------------------------

def test_untrusted_intermediates_complete_a_chain_without_becoming_anchors(workdir, state, pki):
    synced(workdir)
    ca, intermediate = pki["ca"].cert, pki["intermediate"].cert
    package = genuine(workdir, pki["deep"], "1.2.0")  # embeds the leaf only
    out = verify(workdir, "--ca", ca, package, code=1)
    assert "does not chain to a trusted anchor" in checks(out)["payload-trust"][1]
    out = verify(workdir, "--ca", ca, "--untrusted", intermediate, package)
    assert "CN=Deep Signer,O=Acme <- CN=Acme Signing CA,O=Acme <- CN=Vendor CA,O=Acme" in checks(out)["payload-trust"][1]
    proc = run("cpk-verify", "--untrusted", intermediate, package, cwd=workdir)  # an intermediate is no trust input
    assert proc.returncode == 1 and "no trust input" in proc.stderr.decode()
    before = device(state, workdir)
    refused(cpk_install("--ca", ca, package, cwd=workdir), "Signer check FAILED", "does not chain to a trusted anchor")
    assert device(state, workdir) == before
    installs(workdir, package, "--ca", ca, "--untrusted", intermediate)


def test_a_code_signing_leaf_cannot_issue_certificates(workdir, state, pki):
    """The holder of a trusted leaf (not a CA) makes itself a certificate named like another
    signer, and ships it with its own leaf as the 'intermediate'."""
    d = workdir
    openssl("genpkey", *GENPKEY["rsa"], "-out", d / "forged.key")
    openssl("req", "-new", "-key", d / "forged.key", "-subj", "/O=Acme/CN=Release", "-out", d / "forged.csr")
    (d / "forged.ext").write_text(CODE_SIGNING)
    openssl("x509", "-req", "-in", d / "forged.csr", "-CA", pki["nightly"].cert, "-CAkey", pki["nightly"].key,
            "-CAcreateserial", "-days", "5", "-extfile", d / "forged.ext", "-out", d / "forged.crt")
    (d / "forged-chain.pem").write_bytes((d / "forged.crt").read_bytes() + pki["nightly"].cert.read_bytes())
    envelope, _ = sealed(workdir, "1.2.0")
    check(run("cpk-sign", "--key", d / "forged.key", "--cert", d / "forged-chain.pem", "--cpk", "-o", "forged.cpk",
              envelope, cwd=workdir))
    ca = pki["ca"].cert
    verify(workdir, "--ca", ca, "forged.cpk", code=1)
    verify(workdir, "--ca", ca, "--certificate-identity", "CN=Release,O=Acme", "forged.cpk", code=1)
    synced(workdir)
    refused(cpk_install("--ca", ca, "forged.cpk", cwd=workdir), "Signer check FAILED")
    assert listed(workdir) == {}


def test_identity_rules_apply_to_the_package_signer_too(workdir, pki):
    ca = pki["ca"].cert
    mixed = write(workdir / "mixed.cpk", rewrite(genuine(workdir, pki["release"], "1.2.0").read_bytes(),
                                                 package_signer=pki["nightly"]))
    verify(workdir, "--ca", ca, mixed)  # both trusted
    out = verify(workdir, "--ca", ca, "--certificate-identity", "CN=Release,O=Acme", mixed, code=1)
    assert checks(out)["payload-trust"][0] == "PASSED" and checks(out)["package-trust"][0] == "FAILED"
    verify(workdir, "--ca", ca, "--certificate-identity", "CN=Release,O=Acme",
           "--certificate-identity", "CN=Nightly,O=Acme", mixed)


def test_a_leaf_without_extended_key_usage_is_a_code_signer(workdir, state, pki):
    """codeSigning, or no extended key usage at all."""
    synced(workdir)
    package = genuine(workdir, pki["no-eku"], "1.2.0")
    verify(workdir, "--ca", pki["ca"].cert, "--require", "manifest", package)
    installs(workdir, package, "--ca", pki["ca"].cert)


def test_not_yet_valid_is_never_forgiven(workdir, state, pki):
    synced(workdir)
    package = genuine(workdir, pki["release"], "1.2.0")
    ca = pki["ca"].cert
    out = verify(workdir, "--ca", ca, "--at", later(-1), "--allow-expired", package, code=1)
    assert "is not valid before" in out
    refused(cpk_install("--ca", ca, "--at", later(-1), "--allow-expired", package, cwd=workdir),
            "Signer check FAILED", "is not valid before")
    assert listed(workdir) == {}


def test_the_floor_stays_at_the_last_authenticated_version(workdir, state, pki):
    """After an accepted unauthenticated 99.0.0, the floor is still the authenticated 1.2.0:
    an authenticated 1.1.0 is refused, 1.2.0 and 1.2.1 install."""
    synced(workdir)
    check(cpk_install("trust", "add", pki["ca"].cert, cwd=workdir))
    installs(workdir, genuine(workdir, pki["release"], "1.2.0"))
    older = genuine(workdir, pki["release"], "1.1.0")
    relabelled = write(workdir / "relabelled.cpk", rewrite(older.read_bytes(), edit=relabel("99.0.0")))
    installs(workdir, relabelled, "--accept-unauthenticated-manifest")
    before = device(state, workdir)
    refused(cpk_install(older, cwd=workdir), "Version check FAILED")
    assert device(state, workdir) == before
    installs(workdir, genuine(workdir, pki["release"], "1.2.1"))
    assert listed(workdir)["test"]["version"] == "1.2.1"


def test_a_pinned_key_scoped_to_an_application(workdir, state, pki, tmp_path):
    keys = tmp_path / "keys.json"
    for cp_id in ("alpha", "beta"):
        check(run("cpk-keyfetch", "provision", "--key-name", cp_id, "--file-store", keys))
        synced(workdir, cp_id, keys)
    openssl("pkey", "-in", pki["release"].key, "-pubout", "-out", workdir / "release.pub")
    check(cpk_install("trust", "add", "--id", "alpha", workdir / "release.pub", cwd=workdir))
    assert [a["kind"] for a in json.loads(check(cpk_install("trust", "list", "--json", cwd=workdir)).stdout)] != ["ca"]
    refused(cpk_install(genuine(workdir, pki["release"], "1.0.0", cp_id="beta", store=keys), cwd=workdir),
            "Signer check FAILED", "not trusted for the application \"beta\"")
    installs(workdir, genuine(workdir, pki["release"], "1.0.0", cp_id="alpha", store=keys))
    assert sorted(listed(workdir)) == ["alpha"]


def test_unpack_payload_judges_the_signer_with_a_trust_input(workdir, pki):
    package = genuine(workdir, pki["release"], "1.2.0")
    proc = run("cpk-unpack", "payload", "--quiet", "--file-store", STORE, "--ca", pki["other-ca"].cert, "-o", "out.bin",
               package, cwd=workdir)
    assert_clean_failure(proc, "does not chain to a trusted anchor")
    assert not (workdir / "out.bin").exists()
    check(run("cpk-unpack", "payload", "--quiet", "--file-store", STORE, "--ca", pki["ca"].cert, "-o", "out.bin",
              package, cwd=workdir))
    assert (workdir / "out.bin").exists()


def test_attack2_a_relabelled_default_package_keeps_a_signature_that_no_longer_matches(workdir, state, pki):
    """The default layout relabelled, the vendor's package digest and signature kept: the
    package digest no longer matches, so nothing is installed, even when the unauthenticated
    manifest would be accepted."""
    synced(workdir)
    ca = pki["ca"].cert
    check(cpk_install("trust", "add", ca, cwd=workdir))
    installs(workdir, genuine(workdir, pki["release"], "1.2.0"))
    package = parse_cpk(genuine(workdir, pki["release"], "1.1.0").read_bytes())
    document = json.loads(package.streams[package.manifest_index])
    relabel("99.0.0")(document)
    edited = write(workdir / "edited.cpk", build_cpk(package.streams[:9] + [compact(document)], 9))
    out = verify(workdir, "--ca", ca, edited, code=1)
    assert checks(out)["package-digest"][0] == "FAILED" and checks(out)["manifest"][0] != "PASSED"
    before = device(state, workdir)
    for extra in ([], ["--accept-unauthenticated-manifest"]):
        proc = cpk_install(*extra, edited, cwd=workdir)
        assert_clean_failure(proc, ["package digest", "package-digest", "Package signature check FAILED"])
        assert device(state, workdir) == before
    installs(workdir, genuine(workdir, pki["release"], "1.3.0"))


def test_certificate_rules_hold_for_a_pinned_certificate_too(workdir, pki):
    envelope, _ = sealed(workdir, "1.2.0")
    check(run("cpk-pack", "finish", "-o", "sealed.cpk", envelope, cwd=workdir))
    tls = write(workdir / "tls.cpk", rewrite((workdir / "sealed.cpk").read_bytes(), payload_signer=pki["tls"],
                                             package_signer=pki["tls"]))
    out = verify(workdir, "--public-key", pki["tls"].cert, tls, code=1)
    assert "extended key usage does not allow code signing" in out
    out = verify(workdir, "--public-key", pki["expired"].cert, write(workdir / "expired.cpk", rewrite(
        (workdir / "sealed.cpk").read_bytes(), payload_signer=pki["expired"], package_signer=pki["expired"])), code=1)
    assert "expired on" in out
    verify(workdir, "--public-key", pki["expired"].cert, "--allow-expired", "expired.cpk")


def test_a_refused_install_does_not_report_a_tampered_manifest_as_authenticated(workdir, state, pki):
    synced(workdir)
    check(cpk_install("trust", "add", pki["ca"].cert, cwd=workdir))
    package = parse_cpk(genuine(workdir, pki["release"], "1.1.0").read_bytes())
    document = json.loads(package.streams[package.manifest_index])
    relabel("99.0.0")(document)
    write(workdir / "edited.cpk", build_cpk(package.streams[:9] + [compact(document)], 9))
    proc = cpk_install("install", "--json", "edited.cpk", cwd=workdir)
    report = json.loads(proc.stdout)
    assert proc.returncode == 1 and report["installed"] is False and report["checks"]["package"] == "failed"
    assert report["manifest-authenticated"] is False and report["checks"]["manifest"] != "passed", report
    text = cpk_install("edited.cpk", cwd=workdir).stdout.decode()
    assert "Manifest check PASSED" not in text, text
