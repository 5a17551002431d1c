"""Keys that never leave hardware (issue 16): every private-key option takes a PKCS#11 URI.

A SoftHSM2 token is made in a temporary directory (SOFTHSM2_CONF points at a private
configuration), its keys made inside it with pkcs11-tool (OpenSC) and cpk-wrap keygen; then the
tools sign, unwrap and install with them. The counterparts are independent: certificates made by
the openssl command line through libp11's engine, signatures checked with Python cryptography,
the offline signature made by `openssl pkeyutl` with the engine and by `pkcs11-tool --sign`.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import PyKCS11
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

import cpk
from cpk import REPO, assert_clean_failure, check, env_with, parse_cpk, run, sh
from test_sign_verify import check_with_cryptography

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "1234"
STORE = REPO / "test.json"
TEST_KEY_NAME = "test"

pytestmark = pytest.mark.skipif(
    not os.path.exists(MODULE) or shutil.which("pkcs11-tool") is None,
    reason="SoftHSM2 and OpenSC are installed by `make deps` (softhsm2, opensc); CI has them")


class Token:
    """A SoftHSM2 token "cpk" in its own directory, with PIN 1234 in a 0600 file."""

    def __init__(self, root: Path):
        self.root = root
        self.tokens = root / "tokens"
        self.tokens.mkdir()
        self.conf = root / "softhsm2.conf"
        self.conf.write_text(f"directories.tokendir = {self.tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
        self.pin = root / "pin"
        self.pin.write_text(PIN + "\n")
        self.pin.chmod(0o600)
        # the openssl command line finds the engine's module through a private configuration,
        # never the system's openssl.cnf
        self.openssl_conf = root / "openssl.cnf"
        self.openssl_conf.write_text(
            "openssl_conf = conf\n[conf]\nengines = engines\n[engines]\npkcs11 = pkcs11\n"
            f"[pkcs11]\nengine_id = pkcs11\nMODULE_PATH = {MODULE}\n")
        self.external("softhsm2-util", "--init-token", "--free", "--label", "cpk", "--so-pin", "5678", "--pin", PIN)

    def env(self, **extra) -> dict:
        return env_with(SOFTHSM2_CONF=str(self.conf), OPENSSL_CONF=str(self.openssl_conf), **extra)

    def external(self, *args, input: bytes | None = None, ok=True, env=None) -> subprocess.CompletedProcess:
        proc = subprocess.run(list(map(str, args)), input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=self.env(**(env or {})), timeout=60)
        if ok:
            assert proc.returncode == 0, f"{args}: {proc.stderr.decode(errors='replace')}"
        return proc

    def tool(self, module=MODULE, *args) -> subprocess.CompletedProcess:
        # the PIN through the environment (pkcs11-tool's env:NAME), as the tools take it
        return self.external("pkcs11-tool", "--module", module, "--token-label", "cpk", "--login", "--pin",
                             "env:TOKEN_PIN", *args, env={"TOKEN_PIN": PIN})

    def keypair(self, label: str, key_type: str, key_id: str):
        self.tool(MODULE, "--keypairgen", "--key-type", key_type, "--label", label, "--id", key_id, "--usage-sign",
                  "--usage-decrypt")

    def session(self):
        """A logged-in PyKCS11 session with the token (SoftHSM reads SOFTHSM2_CONF when loaded)."""
        os.environ["SOFTHSM2_CONF"] = str(self.conf)
        library = PyKCS11.PyKCS11Lib()
        library.load(MODULE)
        slot = next(s for s in library.getSlotList(tokenPresent=True) if library.getTokenInfo(s).label.strip() == "cpk")
        session = library.openSession(slot, PyKCS11.CKF_SERIAL_SESSION | PyKCS11.CKF_RW_SESSION)
        session.login(PIN)
        return library, session

    def private_key_attributes(self) -> dict[str, dict]:
        """label -> the private key's CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_NEVER_EXTRACTABLE, as the token says."""
        library, session = self.session()
        names = [PyKCS11.CKA_LABEL, PyKCS11.CKA_SENSITIVE, PyKCS11.CKA_EXTRACTABLE, PyKCS11.CKA_NEVER_EXTRACTABLE]
        found = {}
        for handle in session.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY)]):
            label, sensitive, extractable, never = session.getAttributeValue(handle, names)
            found[label] = {"sensitive": bool(sensitive), "extractable": bool(extractable), "never-extractable": bool(never)}
        session.logout()
        session.closeSession()
        return found

    def rsa_key_that_cannot_sign(self, label: str, key_id: int):
        """An RSA key pair with CKA_SIGN false (pkcs11-tool cannot make one): only for decrypting."""
        self.rsa_key_pair(label, key_id, sign=False, decrypt=True)

    def rsa_key_that_cannot_decrypt(self, label: str, key_id: int):
        """An RSA key pair with CKA_DECRYPT false: only for signing."""
        self.rsa_key_pair(label, key_id, sign=True, decrypt=False)

    def rsa_key_pair(self, label: str, key_id: int, sign: bool, decrypt: bool):
        library, session = self.session()
        public = [(PyKCS11.CKA_CLASS, PyKCS11.CKO_PUBLIC_KEY), (PyKCS11.CKA_TOKEN, True),
                  (PyKCS11.CKA_MODULUS_BITS, 2048), (PyKCS11.CKA_PUBLIC_EXPONENT, (1, 0, 1)),
                  (PyKCS11.CKA_ENCRYPT, decrypt), (PyKCS11.CKA_VERIFY, sign),
                  (PyKCS11.CKA_LABEL, label), (PyKCS11.CKA_ID, (key_id,))]
        private = [(PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY), (PyKCS11.CKA_TOKEN, True),
                   (PyKCS11.CKA_PRIVATE, True), (PyKCS11.CKA_SENSITIVE, True), (PyKCS11.CKA_EXTRACTABLE, False),
                   (PyKCS11.CKA_DECRYPT, decrypt), (PyKCS11.CKA_SIGN, sign),
                   (PyKCS11.CKA_LABEL, label), (PyKCS11.CKA_ID, (key_id,))]
        session.generateKeyPair(public, private)
        session.logout()
        session.closeSession()

    def run(self, name, *args, cwd=None, **extra) -> subprocess.CompletedProcess:
        return run(name, *args, cwd=cwd, env=self.env(**extra))

    def certificate(self, label: str, directory: Path) -> Path:
        """A self-signed certificate of the token key `label`, made by openssl through the engine."""
        out = directory / f"{label}.crt"
        if not out.exists():
            self.external("openssl", "req", "-new", "-x509", "-engine", "pkcs11", "-keyform", "engine",
                          "-key", uri(label), "-passin", f"file:{self.pin}", "-subj", f"/CN=token {label}",
                          "-days", "30", "-out", out)
        return out


def uri(label: str, **query) -> str:
    text = f"pkcs11:token=cpk;object={label};type=private"
    return text + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.fixture(scope="module")
def token(tmp_path_factory):
    token = Token(tmp_path_factory.mktemp("hsm"))
    token.keypair("rsa", "rsa:2048", "01")
    token.keypair("p256", "EC:prime256v1", "02")
    token.keypair("p384", "EC:secp384r1", "03")
    token.keypair("k1", "EC:secp256k1", "04")
    token.rsa_key_that_cannot_sign("nosign", 5)
    token.rsa_key_that_cannot_decrypt("nodecrypt", 6)
    return token


def private_key_files(*directories: Path) -> list[Path]:
    """Every file under the directories that holds a private key in any form a key file takes."""
    found = []
    for directory in directories:
        for path in directory.rglob("*"):
            if not path.is_file() or path.stat().st_size > 1 << 20:
                continue
            data = path.read_bytes()
            if b"PRIVATE KEY" in data:
                found.append(path)
                continue
            for loader in (serialization.load_der_private_key, serialization.load_pem_private_key):
                try:
                    loader(data, None)
                except Exception:
                    continue
                found.append(path)
    return found


def pack(workdir: Path, payload: bytes = b"token-signed payload") -> Path:
    (workdir / "app.bin").write_bytes(payload)
    check(run("cpk-pack", "--id", TEST_KEY_NAME, "-o", "app.env", "app.bin", cwd=workdir))
    return workdir / "app.env"


def payload_signature(cpk_bytes: bytes, scheme: str) -> tuple[bytes, bytes]:
    """The payload signature of `scheme` and the digest it covers, read from a .cpk."""
    package = parse_cpk(cpk_bytes)
    document = json.loads(package.streams[package.manifest_index])
    signature = package.streams[document["payload"]["sig"][scheme]["data"]]
    digest = package.streams[document["payload"]["dig"]["sha256"]["data"]]
    return signature, digest


# --- signing ------------------------------------------------------------------------------------

@pytest.mark.parametrize("label,scheme", [
    ("rsa", "rsa-pkcs1v15"), ("rsa", "rsa-pss"), ("p256", "ecdsa-p256"), ("p384", "ecdsa-p384"),
])
def test_a_token_key_signs_and_the_certificate_verifies(workdir, token, label, scheme):
    pack(workdir)
    cert = token.certificate(label, workdir.parent)
    check(token.run("cpk-sign", "--key", uri(label), "--pin-file", token.pin, "--scheme", scheme,
                    "--cert", cert, "--cpk", "-o", "app.cpk", "app.env", cwd=workdir))
    verified = token.run("cpk-verify", "--ca", cert, "app.cpk", cwd=workdir)
    assert verified.returncode == 0, verified.stdout.decode() + verified.stderr.decode()
    results = cpk.verify_results(verified.stdout.decode())
    assert results["payload-signature"][0] == "PASSED" and results["package-signature"][0] == "PASSED"
    signature, digest = payload_signature((workdir / "app.cpk").read_bytes(), scheme)
    public = x509.load_pem_x509_certificate(cert.read_bytes()).public_key()
    check_with_cryptography(public, scheme, signature, digest)  # an independent verifier
    assert private_key_files(workdir) == []


def test_the_pin_comes_from_a_descriptor_the_environment_or_the_uri(workdir, token):
    pack(workdir)
    sign = ["cpk-sign", "--key"]
    check(sh(f"cpk-sign --key '{uri('rsa')}' --pin-fd 3 --embed-public-key -o fd.env app.env 3< {token.pin}",
             cwd=workdir, env=token.env()))
    check(token.run(*sign, uri("rsa"), "--embed-public-key", "-o", "env.env", "app.env", cwd=workdir,
                    CPK_PKCS11_PIN=PIN))
    # one URI says everything: the module and the PIN file
    check(token.run(*sign, uri("rsa", **{"module-path": MODULE, "pin-source": f"file:{token.pin}"}),
                    "--embed-public-key", "-o", "uri.env", "app.env", cwd=workdir, CPK_PKCS11_MODULE="/nonexistent.so"))
    # the module from the environment, when neither the option nor the URI names one
    check(token.run(*sign, uri("rsa"), "--pin-file", token.pin, "--embed-public-key", "-o", "mod.env", "app.env",
                    cwd=workdir, CPK_PKCS11_MODULE=MODULE))
    for name in ("fd.env", "env.env", "uri.env", "mod.env"):
        check(run("cpk-verify", "--integrity-only", name, cwd=workdir))


def test_offline_signing_with_the_token_as_the_air_gapped_signer(workdir, token):
    """prepare on the build machine, the token signs the digest (openssl pkeyutl through the
    engine for RSA, pkcs11-tool for ECDSA), stitch puts the signature in."""
    pack(workdir)
    for label, scheme in (("rsa", "rsa-pkcs1v15"), ("p256", "ecdsa-p256")):
        cert = token.certificate(label, workdir.parent)
        check(run("cpk-sign", "prepare", "--cert", cert, "--scheme", scheme, "--digest-out", f"{label}.tbs",
                  "-o", f"{label}.pending", "app.env", cwd=workdir))
        if label == "rsa":
            token.external("openssl", "pkeyutl", "-sign", "-engine", "pkcs11", "-keyform", "engine",
                           "-inkey", uri(label), "-passin", f"file:{token.pin}", "-pkeyopt", "digest:sha256",
                           "-in", workdir / f"{label}.tbs", "-out", workdir / f"{label}.sig")
        else:
            # by --id: this pkcs11-tool's --sign does not select by --label
            token.tool(MODULE, "--sign", "--mechanism", "ECDSA", "--id", "02",
                       "--input-file", workdir / f"{label}.tbs", "--output-file", workdir / f"{label}.sig")
        check(run("cpk-sign", "stitch", "--signature", f"{label}.sig", "--cpk", "-o", f"{label}.cpk",
                  f"{label}.pending", cwd=workdir))
        check(run("cpk-verify", "--ca", cert, f"{label}.cpk", cwd=workdir))
        signature, digest = payload_signature((workdir / f"{label}.cpk").read_bytes(), scheme)
        check_with_cryptography(x509.load_pem_x509_certificate(cert.read_bytes()).public_key(), scheme, signature,
                                digest)


# --- unwrapping ---------------------------------------------------------------------------------

def test_keygen_in_the_token_then_keyfetch_seal_unpack(workdir, token):
    """The wrapping key pair is made inside the token; only its public half comes out."""
    check(token.run("cpk-wrap", "keygen", "--key", "pkcs11:token=cpk;object=agent", "--pin-file", token.pin,
                    "--public-out", "agent.pub", cwd=workdir))
    public = serialization.load_pem_public_key((workdir / "agent.pub").read_bytes())
    assert public.key_size == 2048
    listing = token.tool(MODULE, "--list-objects", "--type", "privkey").stdout.decode()
    block = listing[listing.index("label:      agent"):].split("Private Key Object")[0]
    assert "sensitive" in block and "never extractable" in block, block
    # a second key with the same label is refused: the first is never replaced
    again = token.run("cpk-wrap", "keygen", "--key", "pkcs11:token=cpk;object=agent", "--pin-file", token.pin,
                      cwd=workdir)
    assert_clean_failure(again, "already holds a private key", code=2)

    key_uri = "pkcs11:token=cpk;object=agent;type=private"
    for padding in ("oaep-sha256", "pkcs1v15"):
        check(run("cpk-keyfetch", "--key-name", TEST_KEY_NAME, "--file-store", STORE, "--to", "agent.pub",
                  "--padding", padding, "-o", f"{padding}.wkey", cwd=workdir))
        (workdir / "app.bin").write_bytes(b"sealed for the token " + padding.encode())
        check(sh(f"cpk-pack --id {TEST_KEY_NAME} app.bin | cpk-seal --wrapped-key {padding}.wkey "
                 f"--key '{key_uri}' --pin-file {token.pin} --cpk -o {padding}.cpk", cwd=workdir, env=token.env()))
        check(token.run("cpk-unpack", "payload", "--wrapped-key", f"{padding}.wkey", "--key", key_uri,
                        "--pin-file", token.pin, "-o", f"{padding}.out", f"{padding}.cpk", cwd=workdir))
        assert (workdir / f"{padding}.out").read_bytes() == b"sealed for the token " + padding.encode()
        # unsigned, so "not verified" (status 1), but the tag and the digest of the decrypted payload check
        verified = token.run("cpk-verify", "--integrity-only", "--wrapped-key", f"{padding}.wkey", "--key",
                             key_uri, "--pin-file", token.pin, f"{padding}.cpk", cwd=workdir)
        results = cpk.verify_results(verified.stdout.decode())
        assert results["payload-tag"][0] == "PASSED" and results["payload-digest"][0] == "PASSED", verified.stdout
        check(token.run("cpk-wrap", "unwrap", "--key", key_uri, "--pin-file", token.pin, "-o", f"{padding}.key",
                        f"{padding}.wkey", cwd=workdir))
        expected = json.loads(STORE.read_text())[TEST_KEY_NAME]
        assert (workdir / f"{padding}.key").read_bytes() == base64.b64decode(expected)
    assert private_key_files(workdir) == []


def test_the_private_key_scan_finds_key_files(workdir):
    """The scan the other tests rely on finds a key file when there is one."""
    check(run("cpk-wrap", "keygen", "-o", "plain.pem", cwd=workdir))
    check(sh("openssl pkey -in plain.pem -outform DER -out plain.der", cwd=workdir))
    assert sorted(p.name for p in private_key_files(workdir)) == ["plain.der", "plain.pem"]


def test_the_token_object_is_sensitive_and_cannot_be_read_out(token):
    listing = token.tool(MODULE, "--list-objects", "--type", "privkey").stdout.decode()
    blocks = listing.split("Private Key Object")[1:]
    assert len(blocks) >= 4
    for block in blocks:
        assert "Access:     sensitive, always sensitive, never extractable" in block, block
    # and the token itself says so, attribute by attribute
    attributes = token.private_key_attributes()
    assert {"rsa", "p256", "p384", "nosign"} <= set(attributes)
    for label, values in attributes.items():
        assert values == {"sensitive": True, "extractable": False, "never-extractable": True}, label
    # and nothing the tools wrote holds one: the token directory holds only SoftHSM's encrypted objects
    assert private_key_files(token.root) == []


# --- the simulator's device key ---------------------------------------------------------------

def test_an_install_with_the_device_key_in_the_token(workdir, token):
    state = workdir / "cpm"
    device = "pkcs11:token=cpk;object=device"
    check(token.run("cpk-wrap", "keygen", "--key", device, "--pin-file", token.pin, "--public-out", "device.pub",
                    cwd=workdir))
    common = ["--state", state, "--device-key", f"{device}?pin-source=file:{token.pin}"]
    check(token.run("cpk-install", "public-key", *common, "--format", "pem", "-o", "exported.pem", cwd=workdir))
    assert (workdir / "exported.pem").read_bytes() == (workdir / "device.pub").read_bytes()
    # the class key wrapped to the device's public key, a package signed with a token key
    check(sh(f"cpk-install public-key --state {state} | cpk-keyfetch --key-name {TEST_KEY_NAME} --padding pkcs1v15 --file-store {STORE} "
             f"| cpk-install add-key --state {state}", cwd=workdir, env=token.env()))
    (workdir / "app.bin").write_bytes(b"installed through a token-held device key")
    cert = token.certificate("rsa", workdir.parent)
    check(sh(f"cpk-pack --id {TEST_KEY_NAME} app.bin | cpk-seal --file-store {STORE} --quiet "
             f"| cpk-sign --key '{uri('rsa')}' --pin-file {token.pin} --cert {cert} --cpk -o app.cpk",
             cwd=workdir, env=token.env()))
    check(token.run("cpk-install", "--state", state, "install", "app.cpk", cwd=workdir))
    check(token.run("cpk-install", "--state", state, "dev-export-plaintext", TEST_KEY_NAME, "-o", "out.bin",
                    cwd=workdir))
    assert (workdir / "out.bin").read_bytes() == b"installed through a token-held device key"
    assert not (state / "device-key.pem").exists()
    assert (state / "device-key.uri").read_text().startswith(device)
    assert private_key_files(workdir) == []
    # a different key for an existing state is refused; so is a token key for a state with a key file
    other = token.run("cpk-install", "--state", state, "--device-key", uri("rsa"), "--pin-file", token.pin,
                      "public-key", cwd=workdir)
    assert_clean_failure(other, "device key is already", code=2)
    filed = workdir / "filed"
    check(token.run("cpk-install", "--state", filed, "public-key", "-o", "/dev/null", cwd=workdir))
    refused = token.run("cpk-install", "--state", filed, "--device-key", device, "--pin-file", token.pin,
                        "public-key", cwd=workdir)
    assert_clean_failure(refused, "already has a device key", code=2)


# --- failures: one line naming which, the documented status ----------------------------------

def test_failures_are_named(workdir, token):
    pack(workdir)
    wrong = workdir / "wrong-pin"
    wrong.write_text("9999\n")

    def sign(key, *args, **extra):
        return token.run("cpk-sign", "--key", key, *args, "--embed-public-key", "-o", "out.env", "app.env",
                         cwd=workdir, **extra)

    assert_clean_failure(sign(uri("rsa"), "--pin-file", wrong), "wrong PIN", code=2)
    assert_clean_failure(sign("pkcs11:token=absent;object=rsa", "--pin-file", token.pin),
                         'no token matches pkcs11:token=absent;object=rsa', code=2)
    assert_clean_failure(sign(uri("absent"), "--pin-file", token.pin), "holds no private key", code=2)
    assert_clean_failure(sign(uri("rsa"), "--pin-file", token.pin, "--pkcs11-module", "/nonexistent/module.so"),
                         "module /nonexistent/module.so is missing", code=2)
    assert_clean_failure(sign(uri("rsa")), "needs a PIN", code=2)
    assert_clean_failure(sign(uri("rsa") + "?pin-value=1234"), "would be on the command line", code=2)
    assert_clean_failure(sign(uri("rsa"), "--passphrase-file", token.pin), "takes a PIN", code=2)
    assert_clean_failure(sign(uri("rsa"), "--pin-file", token.pin, "--pin-fd", "0"), "not both", code=2)
    assert_clean_failure(sign("pkcs11:token=cpk;object=rsa;colour=red", "--pin-file", token.pin),
                         'unknown path attribute "colour"', code=2)
    # a key the token holds but that does not fit: status 1
    assert_clean_failure(sign(uri("k1"), "--pin-file", token.pin), "signing takes RSA, EC P-256", code=1)
    (workdir / "class.key").write_bytes(os.urandom(32))
    check(run("cpk-wrap", "public", "--format", "pem", "-o", "rsa.pub",
              token.certificate("rsa", workdir.parent), cwd=workdir))
    check(run("cpk-wrap", "wrap", "--to", "rsa.pub", "--key-name", "x", "-o", "x.wkey", "class.key", cwd=workdir))
    assert_clean_failure(token.run("cpk-wrap", "unwrap", "--key", uri("p256"), "--pin-file", token.pin,
                                   "-o", "x.key", "x.wkey", cwd=workdir), "is not RSA", code=1)
    # a mechanism the token refuses for the key (CKA_SIGN false): status 1, saying so
    assert_clean_failure(sign(uri("nosign"), "--pin-file", token.pin), "the token refused rsa-pkcs1v15", code=1)
    # and decryption with a key that may only sign (CKA_DECRYPT false): not "wrapped to another key"
    check(run("cpk-wrap", "public", "--format", "pem", "-o", "nodecrypt.pub",
              token.certificate("nodecrypt", workdir.parent), cwd=workdir))
    check(run("cpk-wrap", "wrap", "--to", "nodecrypt.pub", "--key-name", "x", "-o", "nd.wkey", "class.key", cwd=workdir))
    assert_clean_failure(token.run("cpk-wrap", "unwrap", "--key", uri("nodecrypt"), "--pin-file", token.pin,
                                   "-o", "x.key", "nd.wkey", cwd=workdir),
                         "the token refused decryption with this key", code=1)
    # a scheme the key cannot make: it does not fit (status 1), as for a key file
    assert_clean_failure(sign(uri("p256"), "--pin-file", token.pin, "--scheme", "rsa-pss"), "rsa-pss", code=1)
    assert not (workdir / "out.env").exists() and not (workdir / "x.key").exists()


def test_a_token_holding_an_ed25519_key_is_named(workdir, token):
    """libp11 0.4.12 cannot list a token that holds an EdDSA key: said so, in one line."""
    token.external("softhsm2-util", "--init-token", "--free", "--label", "ed", "--so-pin", "5678", "--pin", PIN)
    token.external("pkcs11-tool", "--module", MODULE, "--token-label", "ed", "--login", "--pin", "env:TOKEN_PIN",
                   "--keypairgen", "--key-type", "EC:edwards25519", "--label", "ed", "--id", "01", "--usage-sign",
                   env={"TOKEN_PIN": PIN})
    pack(workdir)
    proc = token.run("cpk-sign", "--key", "pkcs11:token=ed;object=ed", "--pin-file", token.pin, "--embed-public-key",
                     "-o", "out.env", "app.env", cwd=workdir)
    assert_clean_failure(proc, "key type it does not know (e.g. Ed25519)", code=2)
    # the other token is unaffected
    check(token.run("cpk-sign", "--key", uri("rsa"), "--pin-file", token.pin, "--embed-public-key", "-o", "out.env",
                    "app.env", cwd=workdir))


def test_the_readme_recipe_runs_as_written(tmp_path):
    """The "Keys in an HSM" recipe a user pastes, run as it stands (in a private HOME)."""
    readme = (REPO / "docs" / "guide" / "hsm.md").read_text()
    section = readme[readme.index("## Keys in an HSM"):]
    start = section.index("```sh\n") + len("```sh\n")
    script = section[start:section.index("```", start)]
    home = tmp_path / "home"
    (home / "hsm").mkdir(parents=True)
    shutil.copy(STORE, home / "hsm" / "test.json")
    (home / "hsm" / "app.bin").write_bytes(b"the recipe's payload")
    env = env_with(HOME=str(home))
    for name in ("SOFTHSM2_CONF", "OPENSSL_CONF", "CPK_PKCS11_PIN", "CPK_PKCS11_MODULE"):
        env.pop(name, None)
    proc = sh("set -e\n" + script, cwd=home, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-3000:]
    out = home / "hsm"
    assert (out / "app.out").read_bytes() == b"the recipe's payload"
    assert (out / "cpm" / "device-key.uri").exists() and not (out / "cpm" / "device-key.pem").exists()
    assert private_key_files(home) == []


def test_a_pin_descriptor_that_is_a_terminal_is_refused_at_once(workdir, token):
    pack(workdir)
    master, slave = os.openpty()
    try:
        proc = subprocess.run([cpk.tool("cpk-sign"), "--key", uri("rsa"), "--pin-fd", str(slave), "--embed-public-key",
                               "-o", "out.env", "app.env"], cwd=workdir, env=token.env(), pass_fds=(slave,),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    finally:
        os.close(master)
        os.close(slave)
    assert_clean_failure(proc, "is a terminal", code=2)
