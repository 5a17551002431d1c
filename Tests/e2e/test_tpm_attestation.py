"""TPM attestation, the cloud side (issue 26, milestone 2): `cpk-keyfetch enroll` and the release
policy's attestation requirement in `cpk-keyfetch distribute`.

The DEVICE side is played by tpm2-tools against swtpm (two TPMs, each manufactured under its
own test manufacturer CA), the documents assembled here in Python exactly as docs/keys.md §4.8
says: enrollment request (EK certificate from NV, EK and AK public areas), the cloud's challenge
opened by tpm2_activatecredential (so our software MakeCredential is what a real TPM accepts),
the response; then reports whose evidence is a tpm2_certify of the device key and a tpm2_quote,
served or refused, each refusal one line naming the rule. A machine where swtpm cannot start
fails these tests.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from cpk import BIN, env_with
from swtpm import SwTPM
from test_fleet_release import Cloud
from test_pkcs11 import MODULE as SOFTHSM_MODULE, Token

NONCE = bytes(range(16))
OLD_NONCE = b"\xee" * 16
# swtpm_setup persists its own EK at 0x81010001: these handles are free
EK_HANDLE, AK_HANDLE, SRK_HANDLE = "0x81010011", "0x81010012", "0x81000011"
FIXED = "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|decrypt"
DUPLICABLE = "sensitivedataorigin|userwithauth|decrypt"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def tpmt(tpm2b: bytes) -> bytes:
    """The TPMT_PUBLIC inside a TPM2B_PUBLIC (tpm2-tools' tss output)."""
    (size,) = struct.unpack(">H", tpm2b[:2])
    assert len(tpm2b) == 2 + size
    return tpm2b[2:]


def name_of(public: bytes) -> bytes:
    return b"\x00\x0b" + hashlib.sha256(public).digest()


class Device:
    """One swtpm with a persistent EK and AK (tpm2_createek, tpm2_createak RSASSA-SHA256) and an
    SRK for device keys; files in its directory."""

    def __init__(self, root: Path, ca: Path, device_id: str):
        self.tpm = SwTPM(root / "tpm", ca)
        self.dir = root
        self.device_id = device_id
        self.ca_file = ca / "issuercert.pem"
        t, d = self.tpm.tool, root
        t("tpm2_createek", "-c", EK_HANDLE, "-G", "rsa", "-u", d / "ek.pub")
        t("tpm2_createak", "-C", EK_HANDLE, "-c", d / "ak.ctx", "-G", "rsa", "-g", "sha256", "-s", "rsassa",
          "-u", d / "ak.pub", "-n", d / "ak.name")
        t("tpm2_evictcontrol", "-C", "o", "-c", d / "ak.ctx", AK_HANDLE)
        t("tpm2_createprimary", "-C", "o", "-g", "sha256", "-G", "rsa2048:aes128cfb", "-c", d / "srk.ctx")
        t("tpm2_evictcontrol", "-C", "o", "-c", d / "srk.ctx", SRK_HANDLE)
        self.ek_cert = t("tpm2_nvread", "0x01c00002").stdout
        self.ek_public = tpmt((d / "ek.pub").read_bytes())
        self.ak_public = tpmt((d / "ak.pub").read_bytes())
        assert (d / "ak.name").read_bytes() == name_of(self.ak_public)

    def stop(self):
        self.tpm.stop()

    def request(self) -> bytes:
        return json.dumps({"cpk_tpm_enrollment": "request", "version": 1, "device_id": self.device_id,
                           "ek_certificate": b64(self.ek_cert), "ek_public": b64(self.ek_public),
                           "ak_public": b64(self.ak_public)}, separators=(",", ":")).encode()

    def activate(self, challenge: dict) -> bytes:
        """tpm2_activatecredential on the challenge (tpm2-tools' credential file: magic, version,
        TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET), the EK authorised by PolicySecret(endorsement)."""
        blob, secret = base64.b64decode(challenge["credential_blob"]), base64.b64decode(challenge["encrypted_secret"])
        credential = self.dir / "credential.bin"
        credential.write_bytes(struct.pack(">II", 0xBADCC0DE, 1) + struct.pack(">H", len(blob)) + blob
                               + struct.pack(">H", len(secret)) + secret)
        t, d = self.tpm.tool, self.dir
        t("tpm2_startauthsession", "--policy-session", "-S", d / "session.ctx")
        t("tpm2_policysecret", "-S", d / "session.ctx", "-c", "e")
        t("tpm2_activatecredential", "-c", AK_HANDLE, "-C", EK_HANDLE, "-i", credential, "-o", d / "secret.bin",
          "-P", f"session:{d / 'session.ctx'}")
        t("tpm2_flushcontext", d / "session.ctx")
        return (d / "secret.bin").read_bytes()

    def device_key(self, label: str, attributes: str = FIXED) -> tuple[bytes, bytes]:
        """A TPM RSA-2048 key under the SRK: its TPMT_PUBLIC and its DER SubjectPublicKeyInfo."""
        t, d = self.tpm.tool, self.dir
        t("tpm2_create", "-C", SRK_HANDLE, "-G", "rsa2048:null:null", "-a", attributes,
          "-u", d / f"{label}.pub", "-r", d / f"{label}.priv")
        t("tpm2_load", "-C", SRK_HANDLE, "-u", d / f"{label}.pub", "-r", d / f"{label}.priv", "-c", d / f"{label}.ctx")
        t("tpm2_readpublic", "-c", d / f"{label}.ctx", "-f", "der", "-o", d / f"{label}.spki")
        return tpmt((d / f"{label}.pub").read_bytes()), (d / f"{label}.spki").read_bytes()

    def evidence(self, label: str, nonce: bytes | None, pcrs: str = "sha256:0,1,7") -> dict:
        """tpm2_certify of the key `label` by the AK and, with a nonce, a tpm2_quote of `pcrs`
        over it."""
        t, d = self.tpm.tool, self.dir
        t("tpm2_load", "-C", SRK_HANDLE, "-u", d / f"{label}.pub", "-r", d / f"{label}.priv", "-c", d / f"{label}.ctx")
        certify = ["tpm2_certify", "-c", d / f"{label}.ctx", "-C", AK_HANDLE, "-g", "sha256", "--scheme", "rsassa",
                   "-o", d / "certify.attest", "-s", d / "certify.sig", "-f", "tss"]
        # tpm2_certify 5.4 takes no qualifying data: the certify's is empty here (allowed)
        t(*certify)
        evidence = {"device_key_public": b64(tpmt((d / f"{label}.pub").read_bytes())),
                    "ak_name": name_of(self.ak_public).hex(),
                    "certify": {"attest": b64((d / "certify.attest").read_bytes()),
                                "signature": b64((d / "certify.sig").read_bytes())}}
        if nonce is not None:
            t("tpm2_quote", "-c", AK_HANDLE, "-l", pcrs, "-q", nonce.hex(), "-m", d / "quote.attest",
              "-s", d / "quote.sig", "-o", d / "quote.pcrs", "-g", "sha256", "--scheme", "rsassa")
            evidence["quote"] = {"attest": b64((d / "quote.attest").read_bytes()),
                                 "signature": b64((d / "quote.sig").read_bytes())}
        return evidence


def keyfetch(*args, input: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "cpk-keyfetch"), *map(str, args)], input=input, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env_with(), timeout=60)


def report(device_id: str, spki_der: bytes, evidence: dict | None) -> str:
    properties = {"contract_version": 1, "device_public_key": b64(spki_der), "class_keys": [], "applications": []}
    if evidence is not None:
        properties["tpm_evidence"] = evidence
    return json.dumps({"cpk_reported_state": 1, "device_id": device_id, "reported_properties": properties})


@pytest.fixture(scope="module")
def devices(tmp_path_factory):
    """Two TPMs: A (dev-01) under manufacturer CA 1, B (dev-02) under manufacturer CA 2."""
    made = []
    try:
        made.append(Device(tmp_path_factory.mktemp("tpm-a"), tmp_path_factory.mktemp("manufacturer-1"), "dev-01"))
        made.append(Device(tmp_path_factory.mktemp("tpm-b"), tmp_path_factory.mktemp("manufacturer-2"), "dev-02"))
        yield made
    finally:
        for device in made:
            device.stop()


def enroll(device: Device, registry: Path, *ek_cas: Path) -> subprocess.CompletedProcess:
    args = [a for ca in ek_cas for a in ("--ek-ca", ca)]
    proc = keyfetch("enroll", "challenge", "--registry", registry, *args, "-", input=device.request())
    if proc.returncode != 0:
        return proc
    challenge = json.loads(proc.stdout)
    assert list(challenge) == ["cpk_tpm_enrollment", "version", "device_id", "ak_name", "credential_blob",
                               "encrypted_secret"]
    assert challenge["ak_name"] == name_of(device.ak_public).hex()
    secret = device.activate(challenge)
    assert len(secret) == 32
    response = {"cpk_tpm_enrollment": "response", "version": 1, "device_id": device.device_id,
                "ak_name": challenge["ak_name"], "secret": b64(secret)}
    return keyfetch("enroll", "finish", "--registry", registry, "-", input=json.dumps(response).encode())


def test_enrollment_through_a_real_tpm_and_its_refusals(devices, tmp_path):
    a, b = devices
    registry = tmp_path / "registry"
    proc = enroll(a, registry, a.ca_file)
    assert proc.returncode == 0, proc.stderr
    record = json.loads((registry / "devices" / "dev-01.json").read_text())
    assert record["ak_name"] == name_of(a.ak_public).hex()
    assert (registry / "devices" / "dev-01.json").stat().st_mode & 0o777 == 0o600
    assert not (registry / "pending" / "dev-01.json").exists()
    listed = keyfetch("enroll", "list", "--registry", registry)
    assert listed.stdout.decode().split() == ["dev-01"]
    # an EK certificate from a manufacturer not trusted: refused before any challenge
    proc = keyfetch("enroll", "challenge", "--registry", registry, "--ek-ca", a.ca_file, "-", input=b.request())
    assert proc.returncode == 1 and b"does not chain to a trusted manufacturer CA" in proc.stderr
    assert proc.stderr.count(b"\n") == 1
    # the EK certificate of TPM A with TPM B's EK: refused
    request = json.loads(b.request())
    request["ek_certificate"] = b64(a.ek_cert)
    proc = keyfetch("enroll", "challenge", "--registry", registry, "--ek-ca", a.ca_file, "-",
                    input=json.dumps(request).encode())
    assert proc.returncode == 1 and b"certifies another key" in proc.stderr
    # a response replayed after its finish, and a wrong secret
    proc = keyfetch("enroll", "challenge", "--registry", registry, "--ek-ca", b.ca_file, "-", input=b.request())
    assert proc.returncode == 0, proc.stderr
    challenge = json.loads(proc.stdout)
    pending = registry / "pending" / "dev-02.json"
    assert pending.stat().st_mode & 0o777 == 0o600
    secret = b.activate(challenge)
    assert b64(secret) not in pending.read_text(), "never the secret in clear"
    wrong = {"cpk_tpm_enrollment": "response", "version": 1, "device_id": "dev-02", "ak_name": challenge["ak_name"],
             "secret": b64(bytes(32))}
    proc = keyfetch("enroll", "finish", "--registry", registry, "--json", "-", input=json.dumps(wrong).encode())
    assert proc.returncode == 1 and json.loads(proc.stdout)["error"]["reason"] == "tpm.wrong-secret"
    good = dict(wrong, secret=b64(secret))
    assert keyfetch("enroll", "finish", "--registry", registry, "-", input=json.dumps(good).encode()).returncode == 0
    proc = keyfetch("enroll", "finish", "--registry", registry, "--json", "-", input=json.dumps(good).encode())
    assert proc.returncode == 1 and json.loads(proc.stdout)["error"]["reason"] == "tpm.no-challenge"


def test_distribute_serves_attested_devices_and_refuses_each_attack(devices, tmp_path):
    a, b = devices
    registry = tmp_path / "registry"
    assert enroll(a, registry, a.ca_file).returncode == 0
    assert enroll(b, registry, b.ca_file).returncode == 0
    (tmp_path / "cloud").mkdir()
    cloud = Cloud(tmp_path / "cloud")
    zero = "00" * 32
    policy = {"cpk_release_policy": 1,
              "rules": [{"match": {"any": True}, "keys": ["app"],
                         "attestation": {"tpm": True, "pcrs": {"sha256": {"0": zero, "1": zero, "7": zero}}}}]}
    (tmp_path / "policy.json").write_text(json.dumps(policy))

    reports: dict[str, str] = {}
    # served: dev-01, a fixedTPM key certified by its enrolled AK, quote over this run's nonce
    tpm_public, spki = a.device_key("good")
    reports["dev-01"] = report("dev-01", spki, a.evidence("good", NONCE))
    # no evidence: a key in a file
    file_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    file_spki = file_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    reports["file-key"] = report("file-key", file_spki, None)
    # no evidence: a key in a SoftHSM2 token (hardware-style, but no TPM vouches for it)
    (tmp_path / "hsm").mkdir()
    hsm = Token(tmp_path / "hsm")
    hsm.tool(SOFTHSM_MODULE, "--keypairgen", "--key-type", "rsa:2048", "--label", "dev", "--id", "01", "--usage-decrypt")
    hsm.tool(SOFTHSM_MODULE, "--read-object", "--type", "pubkey", "--label", "dev", "-o", tmp_path / "hsm.der")
    hsm_spki = serialization.load_der_public_key((tmp_path / "hsm.der").read_bytes()).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    reports["hsm-key"] = report("hsm-key", hsm_spki, None)
    # a duplicable TPM key (no fixedTPM/fixedParent), honestly certified
    _, dup_spki = a.device_key("dup", DUPLICABLE)
    reports["dev-dup"] = report("dev-01", dup_spki, a.evidence("dup", NONCE))
    # TPM B's AK certifying TPM B's key, reported as dev-01: not dev-01's enrolled AK
    _, b_spki = b.device_key("b-good")
    reports["other-ak"] = report("dev-01", b_spki, b.evidence("b-good", NONCE))
    # the old nonce replayed
    reports["stale"] = report("dev-01", spki, a.evidence("good", OLD_NONCE))
    # dev-02, enrolled with TPM B, whose manufacturer CA 2 distribute does not trust
    reports["dev-02"] = report("dev-02", b_spki, b.evidence("b-good", NONCE))

    allow = {"cpk_device_allow_list": 1, "devices": [
        {"device_id": "dev-01", "device_public_key_sha256": hashlib.sha256(spki).hexdigest()},
        {"device_id": "file-key", "device_public_key_sha256": hashlib.sha256(file_spki).hexdigest()},
        {"device_id": "hsm-key", "device_public_key_sha256": hashlib.sha256(hsm_spki).hexdigest()},
        {"device_id": "dev-02", "device_public_key_sha256": hashlib.sha256(b_spki).hexdigest()}]}
    (tmp_path / "allow.json").write_text(json.dumps(allow))
    expected = {"dev-01": None, "file-key": "tpm.no-evidence", "hsm-key": "tpm.no-evidence", "dev-dup": "tpm.not-hardware-bound",
                "other-ak": "tpm.not-enrolled", "stale": "tpm.stale-nonce", "dev-02": "tpm.untrusted-ek"}
    for name, text in reports.items():
        folder = tmp_path / f"reports-{name}"
        folder.mkdir()
        (folder / "r.json").write_text(text)
        allow_entries = allow["devices"]
        if name in ("dev-dup", "other-ak"):
            # the allow list names the key of this report, so only the attestation can refuse it
            key = json.loads(text)["reported_properties"]["device_public_key"]
            allow_entries = [{"device_id": "dev-01",
                              "device_public_key_sha256": hashlib.sha256(base64.b64decode(key)).hexdigest()}]
        (folder / "allow.json").write_text(json.dumps({"cpk_device_allow_list": 1, "devices": allow_entries}))
        out = tmp_path / f"out-{name}"
        proc = cloud.distribute("--policy", tmp_path / "policy.json", "--allow-list", folder / "allow.json",
                                "--tpm-registry", registry, "--ek-ca", a.ca_file, "--nonce", NONCE.hex(),
                                "--output-dir", out, "--json", "--quiet", folder / "r.json")
        summary = json.loads(proc.stdout)
        if expected[name] is None:
            assert proc.returncode == 0, proc.stderr
            assert summary["served"] == ["dev-01"]
            release = json.loads((out / "dev-01.json").read_text())["desired"]["confidential_package_keys_release"]
            statement = json.loads(release["statement"])
            assert statement["device_public_key_sha256"] == hashlib.sha256(spki).hexdigest()
            assert list(statement["keys"]) == ["app"]
        else:
            assert proc.returncode == 1, (name, proc.stderr)
            assert [r["reason"] for r in summary["refused"]] == [expected[name]], (name, summary)
            lines = proc.stderr.decode().strip().splitlines()
            assert len(lines) == 1 and "rules[0] requires TPM attestation" in lines[0], (name, lines)

    # other PCR values: PCR 7 extended, then quoted
    a.tpm.tool("tpm2_pcrextend", "7:sha256=" + "11" * 32)
    folder = tmp_path / "reports-pcr"
    folder.mkdir()
    (folder / "r.json").write_text(report("dev-01", spki, a.evidence("good", NONCE)))
    proc = cloud.distribute("--policy", tmp_path / "policy.json", "--allow-list", tmp_path / "allow.json",
                            "--tpm-registry", registry, "--ek-ca", a.ca_file, "--nonce", NONCE.hex(),
                            "--output-dir", tmp_path / "out-pcr", "--json", folder / "r.json")
    assert proc.returncode == 1
    assert [r["reason"] for r in json.loads(proc.stdout)["refused"]] == ["tpm.pcr-mismatch"]

    # all in one run: the good device served, the others refused, one line each
    everything = tmp_path / "all.jsonl"
    everything.write_text("\n".join([report("dev-01", spki, json.loads(reports["dev-01"])["reported_properties"]["tpm_evidence"]),
                                     reports["file-key"], reports["dev-02"]]) + "\n")
    proc = cloud.distribute("--policy", tmp_path / "policy.json", "--allow-list", tmp_path / "allow.json",
                            "--tpm-registry", registry, "--ek-ca", a.ca_file, "--nonce", NONCE.hex(),
                            "--output-dir", tmp_path / "out-all", "--quiet", everything)
    assert proc.returncode == 1
    assert (tmp_path / "out-all" / "dev-01.json").exists()
    assert len(proc.stderr.decode().strip().splitlines()) == 2


def test_a_rule_without_attestation_serves_as_before(devices, tmp_path):
    (tmp_path / "cloud").mkdir()
    cloud = Cloud(tmp_path / "cloud")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "r.json").write_text(report("plain", der, None))
    (tmp_path / "allow.json").write_text(json.dumps({"cpk_device_allow_list": 1, "devices": [
        {"device_id": "plain", "device_public_key_sha256": hashlib.sha256(der).hexdigest()}]}))
    (tmp_path / "policy.json").write_text(json.dumps({"cpk_release_policy": 1,
                                                      "rules": [{"match": {"any": True}, "keys": ["app"]}]}))
    proc = cloud.distribute("--policy", tmp_path / "policy.json", "--allow-list", tmp_path / "allow.json",
                            "--output-dir", tmp_path / "out", tmp_path / "r.json")
    assert proc.returncode == 0, proc.stderr
    # attestation flags without a policy that needs them: a usage error
    proc = cloud.distribute("--policy", tmp_path / "policy.json", "--allow-list", tmp_path / "allow.json",
                            "--tpm-registry", tmp_path, "--output-dir", tmp_path / "out", tmp_path / "r.json")
    assert proc.returncode == 2 and b"--tpm-registry" in proc.stderr


def test_tpm2_tools_agree_with_what_we_accept(devices, tmp_path):
    """tpm2_checkquote accepts the quote our verifier accepted; tpm2_print reads the same quote."""
    a, _ = devices
    a.device_key("checked")
    a.evidence("checked", NONCE)
    d = a.dir
    a.tpm.tool("tpm2_readpublic", "-c", AK_HANDLE, "-f", "pem", "-o", d / "ak.pem")
    check = subprocess.run(["tpm2_checkquote", "-u", d / "ak.pem", "-m", d / "quote.attest", "-s", d / "quote.sig",
                            "-f", d / "quote.pcrs", "-g", "sha256", "-q", NONCE.hex()], capture_output=True)
    assert check.returncode == 0, check.stderr
    # tpm2_print reads the quote as our parser does: the nonce, the selection and the digest
    # distribute checked (the digest of the values tpm2_pcrread reads)
    printed = a.tpm.tool("tpm2_print", "-t", "TPMS_ATTEST", d / "quote.attest").stdout.decode()
    fields = {}
    for line in printed.splitlines():
        key, _, value = line.strip().partition(":")
        if value.strip():
            fields[key] = value.strip()
    assert fields["magic"] == "ff544347" and fields["type"] == "8018"
    assert fields["extraData"] == NONCE.hex()
    a.tpm.tool("tpm2_pcrread", "sha256:0,1,7", "-o", d / "pcrs.bin")
    values = (d / "pcrs.bin").read_bytes()  # the three values, concatenated
    assert len(values) == 3 * 32
    assert fields["pcrSelect"] == "830000"  # PCRs 0, 1 and 7 of the sha256 bank
    assert fields["pcrDigest"] == hashlib.sha256(values).hexdigest()
    # and our verifier accepts this very evidence with those values as the policy's
    registry = tmp_path / "registry"
    assert enroll(a, registry, a.ca_file).returncode == 0
    (tmp_path / "cloud").mkdir()
    cloud = Cloud(tmp_path / "cloud")
    _, spki = a.device_key("checked2")
    evidence = a.evidence("checked2", NONCE)
    policy = {"cpk_release_policy": 1, "rules": [{"match": {"any": True}, "keys": ["app"], "attestation": {
        "tpm": True, "pcrs": {"sha256": {str(i): values[n * 32:(n + 1) * 32].hex() for n, i in enumerate((0, 1, 7))}}}}]}
    (tmp_path / "policy.json").write_text(json.dumps(policy))
    (tmp_path / "r.json").write_text(report("dev-01", spki, evidence))
    proc = cloud.distribute("--policy", tmp_path / "policy.json", "--insecure-any-device", "--tpm-registry", registry,
                            "--ek-ca", a.ca_file, "--nonce", NONCE.hex(), "--output-dir", tmp_path / "out",
                            tmp_path / "r.json")
    assert proc.returncode == 0, proc.stderr
    check = subprocess.run(["tpm2_checkquote", "-u", d / "ak.pem", "-m", d / "quote.attest", "-s", d / "quote.sig",
                            "-f", d / "quote.pcrs", "-g", "sha256", "-q", NONCE.hex()], capture_output=True)
    assert check.returncode == 0, check.stderr
