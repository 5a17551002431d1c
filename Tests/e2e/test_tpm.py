"""Hardware-bound device keys (issue 26, first milestone): the simulator's device key pair made
and kept in a TPM 2.0 (swtpm, through tpm2-pkcs11 and the PKCS#11 device-key code of issue 16),
and the TPM structures the cloud side reads, made here by tpm2-tools and checked by them.

Each module starts its own swtpm (state and socket in a temporary directory, manufactured with
an EK certificate under a test CA kept in another directory) and stops it in the fixture's
teardown. A machine where swtpm cannot start fails these tests: `make deps` installs it.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers

from cpk import REPO, check, env_with, run, sh
from swtpm import MODULE, SwTPM
import swtpm
from test_pkcs11 import STORE, TEST_KEY_NAME, private_key_files

PIN = "1234"
NONCE = bytes(range(16))


class TPMToken:
    """A tpm2-pkcs11 token "cpk" in the swtpm, its store in the swtpm's directory."""

    def __init__(self, tpm: SwTPM):
        self.tpm = tpm
        self.pin = tpm.root / "pin"
        self.pin.write_text(PIN + "\n")
        self.pin.chmod(0o600)
        self.external("pkcs11-tool", "--module", MODULE, "--init-token", "--label", "cpk", "--so-pin", "5678")
        self.external("pkcs11-tool", "--module", MODULE, "--token-label", "cpk", "--login", "--login-type", "so",
                      "--so-pin", "5678", "--init-pin", "--pin", PIN)

    def env(self, **extra) -> dict:
        return env_with(**self.tpm.env(), **extra)

    def external(self, *args) -> subprocess.CompletedProcess:
        proc = subprocess.run(list(map(str, args)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env(),
                              timeout=120)
        assert proc.returncode == 0, f"{args}: {proc.stderr.decode(errors='replace')}"
        return proc

    def uri(self, label: str) -> str:
        return f"pkcs11:token=cpk;object={label}?module-path={MODULE}&pin-source=file:{self.pin}"

    def run(self, name, *args, cwd=None) -> subprocess.CompletedProcess:
        return run(name, *args, cwd=cwd, env=self.env())

    def sh(self, script: str, cwd=None) -> subprocess.CompletedProcess:
        return sh(script, cwd=cwd, env=self.env(), timeout=120)


@pytest.fixture(scope="module")
def tpm(tmp_path_factory):
    machine = SwTPM(tmp_path_factory.mktemp("swtpm"), tmp_path_factory.mktemp("manufacturer-ca"))
    try:
        yield machine
    finally:
        machine.stop()


@pytest.fixture(scope="module")
def token(tpm):
    return TPMToken(tpm)


def tpm2_print(tpm: SwTPM, kind: str, path: Path) -> str:
    return tpm.tool("tpm2_print", "-t", kind, path).stdout.decode()


# --- the device key in the TPM -------------------------------------------------------------------

def test_the_device_key_is_made_in_the_tpm_and_installs_a_package(workdir, token, tpm):
    state = workdir / "cpm"
    device = token.uri("device")
    check(token.run("cpk-wrap", "keygen", "--key", device, "--public-out", "device.pub", cwd=workdir))
    check(token.run("cpk-install", "--state", state, "--device-key", device, "public-key", "--format", "pem",
                    "-o", "exported.pem", cwd=workdir))
    assert (workdir / "exported.pem").read_bytes() == (workdir / "device.pub").read_bytes()

    # the TPM's own view of the key: made in this TPM, never to leave it, a 2048-bit RSA key
    blob = workdir / "device.tpm2b"
    blob.write_bytes(tpm.pkcs11_public_blob("device"))
    printed = tpm2_print(tpm, "TPM2B_PUBLIC", blob)
    attributes = printed.split("attributes:")[1].split("value:")[1].splitlines()[0].strip().split("|")
    assert {"fixedtpm", "fixedparent", "sensitivedataorigin", "decrypt"} <= set(attributes), printed
    assert "bits: 2048" in printed
    # and it is the key the simulator exports
    modulus = printed.split("rsa: ")[1].split()[0]
    public = serialization.load_pem_public_key((workdir / "device.pub").read_bytes())
    assert int(modulus, 16) == public.public_numbers().n

    # class keys reach the device both ways; every unwrap happens in the TPM
    check(token.run("cpk-install", "--state", state, "sync", "--id", TEST_KEY_NAME, "--file-store", STORE,
                    cwd=workdir))
    check(token.sh(f"cpk-install public-key --state {state} | cpk-keyfetch --key-name {TEST_KEY_NAME} "
                   f"--file-store {STORE} | cpk-install add-key --state {state}", cwd=workdir))
    check(token.sh(f"cpk-install public-key --state {state} | cpk-keyfetch --key-name {TEST_KEY_NAME} "
                   f"--padding pkcs1v15 --file-store {STORE} | cpk-install add-key --state {state}", cwd=workdir))

    # a signed package, installed and read back
    (workdir / "app.bin").write_bytes(b"installed through a TPM-held device key")
    # the signer's key is the publisher's, not the device's: kept outside the scanned directory
    signer = workdir.parent / "publisher.key"
    check(sh(f"openssl req -new -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout {signer} "
             f"-subj /CN=tpm-test-publisher -days 30 -out publisher.crt", cwd=workdir))
    check(sh(f"cpk-pack --id {TEST_KEY_NAME} app.bin | cpk-seal --file-store {STORE} --quiet "
             f"| cpk-sign --key {signer} --cert publisher.crt --cpk -o app.cpk", cwd=workdir))
    check(token.run("cpk-install", "--state", state, "install", "app.cpk", cwd=workdir))
    check(token.run("cpk-install", "--state", state, "dev-export-plaintext", TEST_KEY_NAME, "-o", "out.bin",
                    cwd=workdir))
    assert (workdir / "out.bin").read_bytes() == b"installed through a TPM-held device key"

    # no private key anywhere: not in the state, the work directory, the swtpm's directory or
    # the tpm2-pkcs11 store (the TPM's state is libtpms' own, encrypted under nothing we hold,
    # and is skipped: it is the TPM)
    assert not (state / "device-key.pem").exists()
    assert (state / "device-key.uri").read_text().startswith("pkcs11:token=cpk;object=device")
    assert private_key_files(workdir) == []
    assert private_key_files(tpm.store) == []
    # and the TPM is left as it was found: no object a process forgot to flush
    assert "0x80" not in tpm.tool("tpm2_getcap", "handles-transient").stdout.decode()


# --- the structures the cloud side reads ----------------------------------------------------------

def tpmt_public(tpm2b: bytes) -> bytes:
    size = int.from_bytes(tpm2b[:2], "big")
    assert len(tpm2b) == 2 + size
    return tpm2b[2:]


def test_fresh_vectors_agree_with_the_reference_tools_and_the_committed_ones(tmp_path, tpm):
    """make_vectors (as Tests/vectors/tpm/make_vectors.py runs it) on this module's TPM: the
    quotes check with tpm2_checkquote, the certified Name is the device key's Name computed
    from its public area, and the committed vectors have the same shape."""
    out = tmp_path / "vectors"
    swtpm.make_vectors(tpm, out, NONCE)
    device_name = b"\x00\x0b" + hashlib.sha256(tpmt_public((out / "device.pub").read_bytes())).digest()
    device = tpm2_print(tpm, "TPM2B_PUBLIC", out / "device.pub")
    assert "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|decrypt" in device
    for ak in ("ak-rsassa", "ak-rsapss", "ak-ecdsa"):
        printed = tpm2_print(tpm, "TPMS_ATTEST", out / f"{ak}-quote.attest")
        assert "type: 8018" in printed and f"extraData: {NONCE.hex()}" in printed, printed
        assert "pcrSelect: ff0000" in printed
        if ak != "ak-rsapss":  # tpm2-tools 5.4 cannot check this TPM's PSS salt (Tests/vectors/tpm/README.md)
            tpm.tool("tpm2_checkquote", "-u", out / f"{ak}.pub", "-m", out / f"{ak}-quote.attest",
                     "-s", out / f"{ak}-quote.sig", "-f", out / f"{ak}-quote.pcrs", "-g", "sha256", "-q", NONCE.hex())
        # the certify attestation (which tpm2_print 5.4 cannot print past its header) names the device key
        attest = (out / f"{ak}-certify.attest").read_bytes()
        assert attest[:6] == bytes.fromhex("ff5443478017")
        assert device_name in attest
    # the PSS signatures verify independently (salt length read from the signature)
    ak = tpmt_public((out / "ak-rsapss.pub").read_bytes())
    modulus = int.from_bytes(ak[-256:], "big")
    key = RSAPublicNumbers(65537, modulus).public_key()
    for kind in ("quote", "certify"):
        signature = (out / f"ak-rsapss-{kind}.sig").read_bytes()
        assert signature[:4] == bytes.fromhex("0016000b")
        key.verify(signature[6:], (out / f"ak-rsapss-{kind}.attest").read_bytes(),
                   padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO), hashes.SHA256())
        with pytest.raises(InvalidSignature):
            key.verify(signature[6:], (out / f"ak-rsapss-{kind}.attest").read_bytes() + b"x",
                       padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO), hashes.SHA256())
    committed = REPO / "Tests" / "vectors" / "tpm"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        p.name for p in committed.iterdir() if p.suffix not in (".py", ".md"))
    for name in ("device.pub", "ak-rsassa.pub", "ak-ecdsa.pub", "ak-rsassa-certify.attest", "ak-rsassa-quote.sig"):
        assert len((out / name).read_bytes()) == len((committed / name).read_bytes()), name


def test_the_tpm_was_manufactured_under_the_test_ca(tpm, tmp_path):
    """swtpm_setup wrote the RSA EK certificate into NV (0x01c00002), signed by the test CA."""
    der = tmp_path / "ek.der"
    tpm.tool("tpm2_nvread", "0x01c00002", "-o", der)
    pem = tmp_path / "ek.pem"
    check(sh(f"openssl x509 -inform DER -in {der} -out {pem}"))
    ca = Path(tpm.root).parent
    issuers = list(ca.glob("manufacturer-ca*/issuercert.pem"))
    roots = list(ca.glob("manufacturer-ca*/swtpm-localca-rootca-cert.pem"))
    assert issuers and roots
    check(sh(f"openssl verify -partial_chain -CAfile {issuers[0]} {pem}"))
