"""A software TPM 2.0 (swtpm) for the tests, and the TPM structures made with tpm2-tools.

Each SwTPM has its own state and socket in a directory the caller gives, is manufactured by
swtpm_setup with an EK certificate signed by a test manufacturer CA (swtpm_localca, its key
in a separate directory the caller gives), and is stopped by stop(). There is no resource
manager: swtpm's socket is the TPM itself, so every transient object a tpm2-tools command
leaves loaded is flushed after it (a TPM has three object slots).
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import struct
import subprocess
import time
from pathlib import Path

MODULE = "/usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so"
# the vendor attribute in which tpm2-pkcs11 keeps a key's TPM2B_PUBLIC (CKA_TPM2_PUB_BLOB)
CKA_TPM2_PUB_BLOB = 0x8F000002


class SwTPM:
    def __init__(self, root: Path, manufacturer: Path):
        self.root = root
        self.state = root / "tpm-state"
        self.state.mkdir(parents=True)
        self.socket = root / "tpm.sock"
        self.pidfile = root / "swtpm.pid"
        self.store = root / "pkcs11-store"
        self.store.mkdir()
        self.manufacturer = manufacturer
        self.manufacture(manufacturer)
        self.start()

    def manufacture(self, ca: Path):
        """swtpm_setup: EK (RSA and ECC) with certificates from the test manufacturer CA."""
        ca.mkdir(parents=True, exist_ok=True)
        config = ca / "swtpm-localca.conf"
        config.write_text(f"statedir = {ca}\nsigningkey = {ca}/signkey.pem\nissuercert = {ca}/issuercert.pem\n"
                          f"certserial = {ca}/certserial\n")
        (ca / "swtpm-localca.options").write_text("--platform-manufacturer cpk-tests\n--platform-version 1\n"
                                                  "--platform-model swtpm\n")
        setup = self.root / "swtpm_setup.conf"
        setup.write_text(f"create_certs_tool = swtpm_localca\ncreate_certs_tool_config = {config}\n"
                         f"create_certs_tool_options = {ca}/swtpm-localca.options\n")
        proc = subprocess.run(["swtpm_setup", "--tpm2", "--tpmstate", str(self.state), "--create-ek-cert",
                               "--create-platform-cert", "--lock-nvram", "--config", str(setup), "--overwrite"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        assert proc.returncode == 0, "swtpm_setup failed: " + proc.stdout.decode(errors="replace")

    def start(self):
        proc = subprocess.run(["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={self.state}",
                               "--server", f"type=unixio,path={self.socket}",
                               "--ctrl", f"type=unixio,path={self.socket}.ctrl",
                               "--flags", "not-need-init,startup-clear", "--daemon", "--pid", f"file={self.pidfile}"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        assert proc.returncode == 0, "swtpm cannot start: " + proc.stdout.decode(errors="replace")
        for _ in range(100):
            if self.socket.exists() and self.pidfile.exists():
                break
            time.sleep(0.05)
        assert self.socket.exists(), "swtpm started but made no socket"
        self.tool("tpm2_getrandom", "8")

    def stop(self):
        if self.pidfile.exists():
            pid = int(self.pidfile.read_text().strip())
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
            self.pidfile.unlink(missing_ok=True)

    @property
    def tcti(self) -> str:
        return f"swtpm:path={self.socket}"

    def env(self) -> dict:
        return {"TPM2TOOLS_TCTI": self.tcti, "TPM2_PKCS11_TCTI": self.tcti, "TPM2_PKCS11_STORE": str(self.store),
                "TSS2_LOG": "all+NONE"}

    def tool(self, *args, cwd=None, ok=True) -> subprocess.CompletedProcess:
        proc = subprocess.run(list(map(str, args)), cwd=cwd, env={**os.environ, **self.env()},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        if ok:
            assert proc.returncode == 0, f"{args}: {proc.stderr.decode(errors='replace')}"
        # no resource manager: what the command left loaded is flushed, or the TPM fills up
        subprocess.run(["tpm2_flushcontext", "-t"], env={**os.environ, **self.env()}, capture_output=True, timeout=60)
        return proc

    def pkcs11_public_blob(self, label: str) -> bytes:
        """The TPM2B_PUBLIC tpm2-pkcs11 keeps for the private key `label` (from its SQLite store)."""
        database = sqlite3.connect(self.store / "tpm2_pkcs11.sqlite3")
        try:
            rows = [row[0] for row in database.execute("select attrs from tobjects")]
        finally:
            database.close()
        for attributes in rows:
            values = parse_tpm2_pkcs11_attributes(attributes)
            # CKA_CLASS 3 is CKO_PRIVATE_KEY, CKA_LABEL is hex
            if values.get(0) == "3" and bytes.fromhex(values.get(3, "")) == label.encode():
                return bytes.fromhex(values[CKA_TPM2_PUB_BLOB])
        raise AssertionError(f"no private key {label} in the tpm2-pkcs11 store")


def parse_tpm2_pkcs11_attributes(text: str) -> dict[int, str]:
    """tpm2-pkcs11 keeps attributes as a YAML map of int to scalar: read without a YAML library."""
    values = {}
    lines = text.splitlines()
    for index, line in enumerate(lines):
        line = line.strip()
        if line.startswith('? !!int "') and index + 1 < len(lines):
            key = int(line.split('"')[1])
            value = lines[index + 1].strip()
            if value.startswith(": !!"):
                values[key] = value.split('"')[1] if '"' in value else ""
    return values


def make_vectors(tpm: SwTPM, out: Path, nonce: bytes = bytes(range(16))) -> dict[str, Path]:
    """AKs (RSA with RSASSA, RSA with RSAPSS, ECC P-256 with ECDSA) under the endorsement
    hierarchy's primary; a hardware-bound RSA-2048 decryption key; each AK certifies the key
    and quotes PCRs 0-7 of the SHA-256 bank over `nonce`. Files (tpm2-tools' tss formats):
    <ak>.pub (TPM2B_PUBLIC), device.pub, <ak>-certify.attest (TPMS_ATTEST), <ak>-certify.sig
    (TPMT_SIGNATURE), <ak>-quote.attest, <ak>-quote.sig, <ak>-quote.pcrs, nonce.bin; ek.pub,
    ek-cert.der, manufacturer-ca.pem, makecredential.json."""
    out.mkdir(parents=True, exist_ok=True)
    t = tpm.tool
    (out / "nonce.bin").write_bytes(nonce)
    t("tpm2_createprimary", "-C", "o", "-g", "sha256", "-G", "rsa2048:aes128cfb", "-c", out / "primary.ctx")
    fixed = "fixedtpm|fixedparent|sensitivedataorigin|userwithauth"
    t("tpm2_create", "-C", out / "primary.ctx", "-G", "rsa2048:null:null", "-a", fixed + "|decrypt",
      "-u", out / "device.pub", "-r", out / "device.priv")
    aks = {"ak-rsassa": "rsa2048:rsassa-sha256:null", "ak-rsapss": "rsa2048:rsapss-sha256:null",
           "ak-ecdsa": "ecc256:ecdsa-sha256:null"}
    schemes = {"ak-rsassa": "rsassa", "ak-rsapss": "rsapss", "ak-ecdsa": "ecdsa"}
    for name, algorithm in aks.items():
        t("tpm2_create", "-C", out / "primary.ctx", "-G", algorithm, "-a", fixed + "|restricted|sign",
          "-u", out / f"{name}.pub", "-r", out / f"{name}.priv")
    for name in aks:
        t("tpm2_load", "-C", out / "primary.ctx", "-u", out / "device.pub", "-r", out / "device.priv",
          "-c", out / "device.ctx")
        t("tpm2_load", "-C", out / "primary.ctx", "-u", out / f"{name}.pub", "-r", out / f"{name}.priv",
          "-c", out / f"{name}.ctx")
        t("tpm2_certify", "-c", out / "device.ctx", "-C", out / f"{name}.ctx", "-g", "sha256",
          "--scheme", schemes[name], "-o", out / f"{name}-certify.attest", "-s", out / f"{name}-certify.sig", "-f", "tss")
        t("tpm2_quote", "-c", out / f"{name}.ctx", "-l", "sha256:0,1,2,3,4,5,6,7", "-q", nonce.hex(),
          "-m", out / f"{name}-quote.attest", "-s", out / f"{name}-quote.sig", "-o", out / f"{name}-quote.pcrs",
          "-g", "sha256", "--scheme", schemes[name])
    # The EK (TCG default RSA-2048 template), its certificate and the manufacturer CA that issued
    # it; a MakeCredential vector for ak-rsassa's Name with a fixed secret and seed.
    t("tpm2_createek", "-c", out / "ek.ctx", "-G", "rsa", "-u", out / "ek.pub")
    (out / "ek-cert.der").write_bytes(t("tpm2_nvread", "0x01c00002").stdout)
    shutil.copy(tpm.manufacturer / "issuercert.pem", out / "manufacturer-ca.pem")
    import hashlib
    import json
    name = b"\x00\x0b" + hashlib.sha256((out / "ak-rsassa.pub").read_bytes()[2:]).digest()
    secret, seed = bytes(range(0x20, 0x40)), bytes(range(0x40, 0x60))
    (out / "makecredential.json").write_text(json.dumps(
        {"ek": "ek.pub", "ak": "ak-rsassa.pub", "secret": secret.hex(), "seed": seed.hex(),
         "credential_blob": credential_blob(secret, name, seed).hex()}, indent=1) + "\n")
    for leftover in out.glob("*.ctx"):
        leftover.unlink()
    for leftover in out.glob("*.priv"):
        leftover.unlink()  # TPM-wrapped private areas: useless off this TPM, and not vectors
    return {path.name: path for path in out.iterdir()}


def kdfa(key: bytes, label: bytes, context_u: bytes, context_v: bytes, bits: int) -> bytes:
    """KDFa with HMAC-SHA256 (TPM 2.0 Part 1, §11.4.10.2), written from the specification to
    check the Swift one against: counter, label, a zero byte, the contexts, the length in bits."""
    import hmac
    out, counter = b"", 1
    while len(out) * 8 < bits:
        out += hmac.new(key, struct.pack(">I", counter) + label + b"\0" + context_u + context_v + struct.pack(">I", bits),
                        "sha256").digest()
        counter += 1
    return out[:bits // 8]


def credential_blob(secret: bytes, name: bytes, seed: bytes, aes_bits: int = 128) -> bytes:
    """TPM2_MakeCredential's credential blob (a TPM2B_ID_OBJECT's buffer) for an EK with a SHA-256
    Name algorithm and an AES-CFB symmetric, from a given seed (Part 1, §24)."""
    import hmac
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
    try:  # where cryptography keeps CFB since 43
        from cryptography.hazmat.decrepit.ciphers.modes import CFB
    except ImportError:
        from cryptography.hazmat.primitives.ciphers.modes import CFB
    key = kdfa(seed, b"STORAGE", name, b"", aes_bits)
    encryptor = Cipher(algorithms.AES(key), CFB(bytes(16))).encryptor()
    enc_identity = encryptor.update(struct.pack(">H", len(secret)) + secret) + encryptor.finalize()
    integrity = hmac.new(kdfa(seed, b"INTEGRITY", b"", b"", 256), enc_identity + name, "sha256").digest()
    return struct.pack(">H", len(integrity)) + integrity + enc_identity
