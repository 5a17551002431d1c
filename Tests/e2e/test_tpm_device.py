"""The device side of TPM attestation (issue 26, milestone 2), through tpm2-tss ESAPI: the
device key pair made and kept in the TPM (decrypt-only, persistent, no blob anywhere), the
enrollment steps (request, activate) and the evidence in the reported state, each checked by
tpm2-tools and openssl, not by this code.

The module starts its own swtpm (manufactured with an EK certificate under a test CA kept in
another directory) and stops it in the fixture's teardown. A machine where swtpm cannot start
fails these tests.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from cpk import check, env_with, run, sh
from swtpm import SwTPM
from test_pkcs11 import STORE, TEST_KEY_NAME, private_key_files

DEVICE_HANDLE = "0x81010010"
AK_HANDLE = "0x81010011"
NONCE = bytes(range(1, 21))


@pytest.fixture(scope="module")
def tpm(tmp_path_factory):
    machine = SwTPM(tmp_path_factory.mktemp("swtpm"), tmp_path_factory.mktemp("manufacturer-ca"))
    try:
        yield machine
    finally:
        machine.stop()


@pytest.fixture(scope="module")
def device(tpm, tmp_path_factory):
    """A state whose device key is made in the TPM on first use (public-key)."""
    state = tmp_path_factory.mktemp("device") / "cpm"
    out = state.parent / "device.pem"
    uri = f"tpm:{DEVICE_HANDLE}?tcti={tpm.tcti}"
    check(run("cpk-install", "--state", state, "--device-key", uri, "public-key", "--format", "pem", "-o", out,
              env=env_with(TSS2_LOG="all+NONE")))
    return state, out


def tenv(tpm: SwTPM) -> dict:
    return env_with(**tpm.env())


def tpm2b(tpmt: bytes) -> bytes:
    return struct.pack(">H", len(tpmt)) + tpmt


def attributes(printed: str) -> set[str]:
    return set(printed.split("attributes:")[1].split("value:")[1].splitlines()[0].strip().split("|"))


def name_of(tpmt: bytes) -> bytes:
    return b"\x00\x0b" + hashlib.sha256(tpmt).digest()


def tpm_private_blobs(*directories: Path, skip: Path | None = None) -> list[Path]:
    """Files that hold a TPM-wrapped private area or a saved context: named as tpm2-tools names
    them, or shaped as a marshalled TPM2B_PRIVATE (a size, then the integrity HMAC as a
    TPM2B_DIGEST of a SHA-256 size) or a TPMS_CONTEXT (tpm2-tools' magic 0xBADCC0DE)."""
    found = []
    for directory in directories:
        for path in directory.rglob("*"):
            if not path.is_file() or (skip is not None and skip in path.parents):
                continue
            data = path.read_bytes()[:1 << 16]
            if path.suffix in (".priv", ".ctx", ".tss") or data[:4] == bytes.fromhex("badcc0de"):
                found.append(path)
            elif len(data) > 36 and int.from_bytes(data[:2], "big") == len(data) - 2 and data[2:4] == b"\x00\x20":
                found.append(path)
    return found


def no_transient_objects(tpm: SwTPM):
    assert "0x80" not in tpm.tool("tpm2_getcap", "handles-transient").stdout.decode()


# --- the device key in the TPM -------------------------------------------------------------------

def test_the_device_key_is_decrypt_only_persistent_and_installs_a_package(workdir, tpm, device):
    state, exported = device
    # the TPM's own view of the key at its persistent handle
    tpm.tool("tpm2_readpublic", "-c", DEVICE_HANDLE, "-o", workdir / "device.tpm2b")
    printed = tpm.tool("tpm2_print", "-t", "TPM2B_PUBLIC", workdir / "device.tpm2b").stdout.decode()
    assert attributes(printed) == {"fixedtpm", "fixedparent", "sensitivedataorigin", "userwithauth", "decrypt"}, printed
    assert "sign" not in attributes(printed)
    assert "bits: 2048" in printed
    modulus = printed.split("rsa: ")[1].split()[0]
    public = serialization.load_pem_public_key(exported.read_bytes())
    assert int(modulus, 16) == public.public_numbers().n
    assert (state / "device-key.uri").read_text() == f"tpm:{DEVICE_HANDLE}?tcti={tpm.tcti}\n"
    assert not (state / "device-key.pem").exists()

    # class keys: sync (OAEP), add-key with OAEP and with PKCS#1 v1.5; every unwrap in the TPM
    env = env_with(TSS2_LOG="all+NONE")
    # a bare PKCS#1 v1.5 block that is not one for this key installs a key that opens nothing
    # (implicit rejection: the raw decryption is the TPM's, the padding check ours), it is no
    # error; one not below the modulus is refused with the one unwrap answer
    (workdir / "junk.b64").write_text(base64.b64encode(b"\x00" + bytes(range(255))).decode())
    check(run("cpk-install", "--state", state, "add-key", "--id", "junk", "junk.b64", cwd=workdir, env=env))
    (workdir / "big.b64").write_text(base64.b64encode(b"\xff" * 256).decode())
    refused = run("cpk-install", "--state", state, "add-key", "--id", "junk", "big.b64", cwd=workdir, env=env)
    assert refused.returncode == 1 and "cannot unwrap" in refused.stderr.decode(), refused.stderr
    check(run("cpk-install", "--state", state, "sync", "--id", TEST_KEY_NAME, "--file-store", STORE, env=env))
    check(sh(f"cpk-install public-key --state {state} | cpk-keyfetch --key-name {TEST_KEY_NAME} "
             f"--file-store {STORE} | cpk-install add-key --state {state}", cwd=workdir, env=env))
    check(sh(f"cpk-install public-key --state {state} | cpk-keyfetch --key-name {TEST_KEY_NAME} "
             f"--padding pkcs1v15 --file-store {STORE} | cpk-install add-key --state {state}", cwd=workdir, env=env))

    # a signed package, installed and read back
    (workdir / "app.bin").write_bytes(b"installed through an ESAPI device key")
    signer = workdir.parent / "publisher.key"
    check(sh(f"openssl req -new -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout {signer} "
             f"-subj /CN=tpm-test-publisher -days 30 -out publisher.crt 2>/dev/null", cwd=workdir))
    check(sh(f"cpk-pack --id {TEST_KEY_NAME} app.bin | cpk-seal --file-store {STORE} --quiet "
             f"| cpk-sign --key {signer} --cert publisher.crt --cpk -o app.cpk", cwd=workdir))
    signer.unlink()
    check(run("cpk-install", "--state", state, "install", "app.cpk", cwd=workdir, env=env))
    check(run("cpk-install", "--state", state, "dev-export-plaintext", TEST_KEY_NAME, "-o", "out.bin", cwd=workdir, env=env))
    assert (workdir / "out.bin").read_bytes() == b"installed through an ESAPI device key"

    # no private key and no TPM private blob anywhere: not in the state, the work directory or
    # the swtpm's directory (its tpm-state is libtpms' own NVRAM: it is the TPM)
    places = [workdir, state.parent, tpm.store]
    assert private_key_files(*places) == []
    assert tpm_private_blobs(*places, tpm.root, skip=tpm.state) == []
    assert [p.name for p in state.rglob("device-key*")] == ["device-key.uri"], "only the configuration names the device key"
    no_transient_objects(tpm)


def test_a_handle_holding_another_key_is_refused(tmp_path, tpm):
    """A key that also signs, made by tpm2-tools at another handle, is not taken as a device key."""
    tpm.tool("tpm2_createprimary", "-C", "o", "-c", tmp_path / "primary.ctx")
    tpm.tool("tpm2_create", "-C", tmp_path / "primary.ctx", "-G", "rsa2048:null:null",
             "-a", "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|decrypt|sign",
             "-u", tmp_path / "k.pub", "-r", tmp_path / "k.priv")
    tpm.tool("tpm2_createprimary", "-C", "o", "-c", tmp_path / "primary.ctx")
    tpm.tool("tpm2_load", "-C", tmp_path / "primary.ctx", "-u", tmp_path / "k.pub", "-r", tmp_path / "k.priv",
             "-c", tmp_path / "k.ctx")
    tpm.tool("tpm2_createprimary", "-C", "o", "-c", tmp_path / "primary.ctx")
    tpm.tool("tpm2_load", "-C", tmp_path / "primary.ctx", "-u", tmp_path / "k.pub", "-r", tmp_path / "k.priv",
             "-c", tmp_path / "k.ctx")
    tpm.tool("tpm2_evictcontrol", "-C", "o", "-c", tmp_path / "k.ctx", "0x81010020")
    proc = run("cpk-install", "--state", tmp_path / "cpm", "--device-key", f"tpm:0x81010020?tcti={tpm.tcti}",
               "public-key", "-o", "/dev/null")
    assert proc.returncode == 1 and "can also sign" in proc.stderr.decode(), proc.stderr
    assert len(proc.stderr.decode().splitlines()) == 1, proc.stderr
    tpm.tool("tpm2_evictcontrol", "-C", "o", "-c", "0x81010020")
    # the blob detector the no-private-file check relies on finds tpm2-tools' files, whatever their names
    (tmp_path / "k.priv").rename(tmp_path / "innocent")
    (tmp_path / "k.ctx").rename(tmp_path / "harmless")
    assert sorted(p.name for p in tpm_private_blobs(tmp_path)) == ["harmless", "innocent", "primary.ctx"]
    # an unreachable TPM is named, with the TSS's reading of the failure
    proc = run("cpk-install", "--state", tmp_path / "cpm3", "--device-key", f"tpm:?tcti=swtpm:path={tmp_path}/none",
               "public-key", "-o", "/dev/null")
    assert proc.returncode == 2 and "cannot reach the TPM" in proc.stderr.decode(), proc.stderr
    assert len(proc.stderr.decode().splitlines()) == 1, "the TSS's own log lines are silenced: " + proc.stderr.decode()
    # a TCTI that would run a command (tctildr's cmd:) is refused before tctildr sees it
    marker = tmp_path / "ran"
    proc = run("cpk-install", "--state", tmp_path / "cpm4", "--device-key", f"tpm:?tcti=cmd:touch {marker}",
               "public-key", "-o", "/dev/null")
    assert proc.returncode == 2 and "is not one of" in proc.stderr.decode() and not marker.exists(), proc.stderr
    no_transient_objects(tpm)


def test_the_tcti_comes_from_the_environment_and_a_file_key_state_refuses_a_tpm_key(tmp_path, tpm, device):
    """`tpm:HANDLE` without tcti= reaches the TPM of TPM2TOOLS_TCTI (as tpm2-tools do), and names
    the same key; a state that already has a device key file takes no TPM key."""
    _, exported = device
    state = tmp_path / "cpm"
    check(run("cpk-install", "--state", state, "--device-key", f"tpm:{DEVICE_HANDLE}", "public-key", "--format", "pem",
              "-o", tmp_path / "same.pem", env=env_with(TPM2TOOLS_TCTI=tpm.tcti)))
    assert (tmp_path / "same.pem").read_bytes() == exported.read_bytes()
    assert (state / "device-key.uri").read_text() == f"tpm:{DEVICE_HANDLE}\n"
    # without the environment the default TCTI is tried (no /dev/tpmrm0 here): one line, status 2
    proc = run("cpk-install", "--state", state, "public-key", "-o", "/dev/null",
               env={k: v for k, v in env_with().items() if k != "TPM2TOOLS_TCTI"})
    assert proc.returncode == 2 and len(proc.stderr.decode().splitlines()) == 1, proc.stderr
    file_state = tmp_path / "file-state"
    check(run("cpk-install", "--state", file_state, "public-key", "-o", "/dev/null"))
    proc = run("cpk-install", "--state", file_state, "--device-key", f"tpm:{DEVICE_HANDLE}?tcti={tpm.tcti}",
               "public-key", "-o", "/dev/null")
    assert proc.returncode == 2 and "already has a device key" in proc.stderr.decode(), proc.stderr
    no_transient_objects(tpm)


# --- enrollment -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def request_document(tpm, device, tmp_path_factory):
    state, _ = device
    out = tmp_path_factory.mktemp("enroll") / "request.json"
    check(run("cpk-install", "--state", state, "attest", "enroll-request", "--device-id", "dev-01", "-o", out,
              env=env_with(TSS2_LOG="all+NONE")))
    return json.loads(out.read_text())


def test_the_enrollment_request_carries_the_certified_ek_and_the_ak(tmp_path, tpm, request_document):
    doc = request_document
    assert set(doc) == {"cpk_tpm_enrollment", "version", "device_id", "ek_certificate", "ek_public", "ak_public"}
    assert (doc["cpk_tpm_enrollment"], doc["version"], doc["device_id"]) == ("request", 1, "dev-01")
    # the EK certificate chains to the test manufacturer CA, and certifies the EK we sent
    der = base64.b64decode(doc["ek_certificate"], validate=True)
    (tmp_path / "ek.der").write_bytes(der)
    check(sh(f"openssl x509 -inform DER -in {tmp_path}/ek.der -out {tmp_path}/ek.pem"))
    issuer = next(Path(tpm.root).parent.glob("manufacturer-ca*/issuercert.pem"))
    check(sh(f"openssl verify -partial_chain -CAfile {issuer} {tmp_path}/ek.pem"))
    certified = x509.load_der_x509_certificate(der).public_key().public_numbers().n
    ek = base64.b64decode(doc["ek_public"], validate=True)
    (tmp_path / "ek.tpm2b").write_bytes(tpm2b(ek))
    printed = tpm.tool("tpm2_print", "-t", "TPM2B_PUBLIC", tmp_path / "ek.tpm2b").stdout.decode()
    assert int(printed.split("rsa: ")[1].split()[0], 16) == certified
    assert {"fixedtpm", "fixedparent", "sensitivedataorigin", "adminwithpolicy", "restricted", "decrypt"} == attributes(printed)
    # the AK: a restricted RSASSA-SHA256 signing key, the one at its persistent handle
    ak = base64.b64decode(doc["ak_public"], validate=True)
    (tmp_path / "ak.tpm2b").write_bytes(tpm2b(ak))
    printed = tpm.tool("tpm2_print", "-t", "TPM2B_PUBLIC", tmp_path / "ak.tpm2b").stdout.decode()
    assert attributes(printed) == {"fixedtpm", "fixedparent", "sensitivedataorigin", "userwithauth", "restricted", "sign"}
    assert "rsassa" in printed.lower()
    tpm.tool("tpm2_readpublic", "-c", AK_HANDLE, "-n", tmp_path / "ak.name")
    assert (tmp_path / "ak.name").read_bytes() == name_of(ak)
    no_transient_objects(tpm)


def read_credential(path: Path) -> tuple[bytes, bytes]:
    """tpm2-tools' credential file: magic 0xBADCC0DE, version 1, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET."""
    data = path.read_bytes()
    magic, version = struct.unpack(">II", data[:8])
    assert (magic, version) == (0xBADCC0DE, 1)
    size = struct.unpack(">H", data[8:10])[0]
    blob = data[10:10 + size]
    rest = data[10 + size:]
    secret_size = struct.unpack(">H", rest[:2])[0]
    assert len(rest) == 2 + secret_size
    return blob, rest[2:]


def test_activate_opens_a_credential_made_by_tpm2_makecredential(tmp_path, tpm, device, request_document):
    state, _ = device
    ek = base64.b64decode(request_document["ek_public"])
    ak_name = name_of(base64.b64decode(request_document["ak_public"]))
    (tmp_path / "ek.tpm2b").write_bytes(tpm2b(ek))
    secret = bytes(range(100, 132))
    (tmp_path / "secret.bin").write_bytes(secret)
    check(sh(f"tpm2_makecredential -T none -u {tmp_path}/ek.tpm2b -s {tmp_path}/secret.bin -n {ak_name.hex()} "
             f"-o {tmp_path}/cred.out"))
    blob, encrypted = read_credential(tmp_path / "cred.out")
    challenge = {"cpk_tpm_enrollment": "challenge", "version": 1, "device_id": "dev-01", "ak_name": ak_name.hex(),
                 "credential_blob": base64.b64encode(blob).decode(), "encrypted_secret": base64.b64encode(encrypted).decode()}
    (tmp_path / "challenge.json").write_text(json.dumps(challenge, separators=(",", ":")))
    proc = check(run("cpk-install", "--state", state, "attest", "activate", tmp_path / "challenge.json",
                     env=env_with(TSS2_LOG="all+NONE")))
    response = json.loads(proc.stdout)
    assert response == {"cpk_tpm_enrollment": "response", "version": 1, "device_id": "dev-01",
                        "ak_name": ak_name.hex(), "secret": base64.b64encode(secret).decode()}
    # a credential for another Name does not open (the TPM checks the AK's Name), nor a forged one
    other = b"\x00\x0b" + hashlib.sha256(b"another key").digest()
    check(sh(f"tpm2_makecredential -T none -u {tmp_path}/ek.tpm2b -s {tmp_path}/secret.bin -n {other.hex()} "
             f"-o {tmp_path}/other.out"))
    blob, encrypted = read_credential(tmp_path / "other.out")
    challenge.update(credential_blob=base64.b64encode(blob).decode(), encrypted_secret=base64.b64encode(encrypted).decode())
    proc = run("cpk-install", "--state", state, "attest", "activate", "-",
               input=json.dumps(challenge).encode(), env=env_with(TSS2_LOG="all+NONE"))
    assert proc.returncode != 0 and proc.stdout == b"", proc.stderr
    assert "activate the credential" in proc.stderr.decode(), proc.stderr
    # a challenge naming another AK is refused before the TPM
    challenge["ak_name"] = other.hex()
    proc = run("cpk-install", "--state", state, "attest", "activate", "-", input=json.dumps(challenge).encode())
    assert proc.returncode == 1 and "not this TPM's" in proc.stderr.decode(), proc.stderr
    no_transient_objects(tpm)


# --- evidence in the reported state -------------------------------------------------------------

def test_the_report_carries_a_certify_and_a_quote_the_tpm_tools_accept(tmp_path, tpm, device, request_document):
    state, exported = device
    proc = check(run("cpk-install", "--state", state, "report", "--device-id", "dev-01", "--nonce", NONCE.hex(),
                     "--pcrs", "sha256:0,1,7", env=env_with(TSS2_LOG="all+NONE")))
    report = json.loads(proc.stdout)
    evidence = report["reported_properties"]["tpm_evidence"]
    assert set(evidence) == {"device_key_public", "ak_name", "certify", "quote"}
    key = base64.b64decode(evidence["device_key_public"])
    spki = base64.b64decode(report["reported_properties"]["device_public_key"])
    public = serialization.load_der_public_key(spki)
    assert public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo) \
        == exported.read_bytes()
    assert int.from_bytes(key[-256:], "big") == public.public_numbers().n
    tpm.tool("tpm2_readpublic", "-c", DEVICE_HANDLE, "-o", tmp_path / "device.tpm2b")
    assert (tmp_path / "device.tpm2b").read_bytes() == tpm2b(key)
    ak = base64.b64decode(request_document["ak_public"])
    assert evidence["ak_name"] == name_of(ak).hex()

    for kind in ("certify", "quote"):
        (tmp_path / f"{kind}.attest").write_bytes(base64.b64decode(evidence[kind]["attest"], validate=True))
        (tmp_path / f"{kind}.sig").write_bytes(base64.b64decode(evidence[kind]["signature"], validate=True))
    quote = tpm.tool("tpm2_print", "-t", "TPMS_ATTEST", tmp_path / "quote.attest").stdout.decode()
    assert "type: 8018" in quote and f"extraData: {NONCE.hex()}" in quote, quote
    assert "pcrSelect: 830000" in quote, quote
    # the certify (tpm2_print 5.4 reads only its header) names the device key, over the nonce
    certify = (tmp_path / "certify.attest").read_bytes()
    assert certify[:6] == bytes.fromhex("ff5443478017")
    assert name_of(key) in certify and NONCE in certify
    assert (tmp_path / "certify.sig").read_bytes()[:4] == bytes.fromhex("0014000b")  # RSASSA, SHA-256
    # tpm2_checkquote: the AK's signature and the nonce
    (tmp_path / "ak.tpm2b").write_bytes(tpm2b(ak))
    tpm.tool("tpm2_checkquote", "-u", tmp_path / "ak.tpm2b", "-m", tmp_path / "quote.attest", "-s", tmp_path / "quote.sig",
             "-g", "sha256", "-q", NONCE.hex())
    bad = tpm.tool("tpm2_checkquote", "-u", tmp_path / "ak.tpm2b", "-m", tmp_path / "quote.attest",
                   "-s", tmp_path / "quote.sig", "-g", "sha256", "-q", "00" + NONCE.hex()[2:], ok=False)
    assert bad.returncode != 0
    # the certify's signature, checked with openssl over the attest bytes
    (tmp_path / "ak.pem").write_bytes(ak_pem(ak))
    (tmp_path / "certify.rsassa").write_bytes((tmp_path / "certify.sig").read_bytes()[6:])
    check(sh(f"openssl dgst -sha256 -verify {tmp_path}/ak.pem -signature {tmp_path}/certify.rsassa {tmp_path}/certify.attest"))

    # without --pcrs: a certify only; and with no nonce, an empty qualifyingData
    report = json.loads(check(run("cpk-install", "--state", state, "report", "--device-id", "dev-01",
                                  env=env_with(TSS2_LOG="all+NONE"))).stdout)
    assert set(report["reported_properties"]["tpm_evidence"]) == {"device_key_public", "ak_name", "certify"}
    no_transient_objects(tpm)


def ak_pem(tpmt: bytes) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers
    return RSAPublicNumbers(65537, int.from_bytes(tpmt[-256:], "big")).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_a_file_key_has_no_evidence(tmp_path):
    state = tmp_path / "cpm"
    report = json.loads(check(run("cpk-install", "--state", state, "report", "--device-id", "dev-02")).stdout)
    assert "tpm_evidence" not in report["reported_properties"]
    proc = run("cpk-install", "--state", state, "report", "--device-id", "dev-02", "--nonce", "00ff")
    assert proc.returncode == 2 and "not held in a TPM" in proc.stderr.decode()


# --- the whole loop: this device's tools against the cloud's ----------------------------------

def test_enrolled_device_gets_an_attested_release_and_unwraps_it_in_the_tpm(tmp_path, tpm, device):
    """enroll-request -> cpk-keyfetch enroll challenge -> attest activate -> enroll finish; then a
    report with a quote over the cloud's nonce -> distribute with a policy requiring TPM
    attestation -> sync --twin, whose OAEP unwrap happens in the TPM."""
    from test_fleet_release import Cloud

    state, _ = device
    env = env_with(TSS2_LOG="all+NONE")
    issuer = next(Path(tpm.root).parent.glob("manufacturer-ca*/issuercert.pem"))
    registry = tmp_path / "registry"
    check(run("cpk-install", "--state", state, "attest", "enroll-request", "--device-id", "dev-01", "-o",
              tmp_path / "request.json", env=env))
    check(run("cpk-keyfetch", "enroll", "challenge", "--registry", registry, "--ek-ca", issuer,
              "-o", tmp_path / "challenge.json", tmp_path / "request.json"))
    check(run("cpk-install", "--state", state, "attest", "activate", "-o", tmp_path / "response.json",
              tmp_path / "challenge.json", env=env))
    check(run("cpk-keyfetch", "enroll", "finish", "--registry", registry, tmp_path / "response.json"))
    assert check(run("cpk-keyfetch", "enroll", "list", "--registry", registry)).stdout.decode().split() == ["dev-01"]

    # the report, quoted over the cloud's nonce, served by a policy that requires attestation
    nonce = bytes(range(40, 60))
    reports = tmp_path / "reports"
    reports.mkdir()
    check(run("cpk-install", "--state", state, "report", "--device-id", "dev-01", "--nonce", nonce.hex(),
              "--pcrs", "sha256:0,1,7", "-o", reports / "dev-01.json", env=env))
    pcrs = tpm.tool("tpm2_pcrread", "sha256:0,1,7").stdout.decode()
    values = {line.split(":")[0].strip(): line.split(":")[1].strip()[2:].lower()
              for line in pcrs.splitlines() if line.strip().startswith(("0 ", "1 ", "7 "))}
    assert set(values) == {"0", "1", "7"}, pcrs
    (tmp_path / "cloud").mkdir()
    cloud = Cloud(tmp_path / "cloud")
    policy = {"cpk_release_policy": 1, "rules": [{"match": {"any": True}, "keys": ["app"],
                                                  "attestation": {"tpm": True, "pcrs": {"sha256": values}}}]}
    (tmp_path / "policy.json").write_text(json.dumps(policy))
    spki = base64.b64decode(json.loads((reports / "dev-01.json").read_text())["reported_properties"]["device_public_key"])
    (tmp_path / "allow.json").write_text(json.dumps({"cpk_device_allow_list": 1, "devices": [
        {"device_id": "dev-01", "device_public_key_sha256": hashlib.sha256(spki).hexdigest()}]}))
    common = ["--policy", tmp_path / "policy.json", "--allow-list", tmp_path / "allow.json", "--tpm-registry", registry,
              "--ek-ca", issuer, "--json", "--quiet"]
    proc = cloud.distribute(*common, "--nonce", nonce.hex(), "--output-dir", tmp_path / "out", reports / "dev-01.json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["served"] == ["dev-01"]
    # the same report for another nonce is stale: refused
    proc = cloud.distribute(*common, "--nonce", "ab" * 20, "--output-dir", tmp_path / "stale", reports / "dev-01.json")
    assert proc.returncode == 1 and [r["reason"] for r in json.loads(proc.stdout)["refused"]] == ["tpm.stale-nonce"]

    # the device applies the signed release: the key is unwrapped (OAEP) by the TPM
    check(run("cpk-install", "trust", "add", "--fleet", cloud.signer_cert_file, "--device-id", "dev-01",
              "--state", state, env=env))
    check(run("cpk-install", "sync", "--twin", tmp_path / "out" / "dev-01.json", "--state", state, env=env))
    listed = json.loads(check(run("cpk-install", "report", "--device-id", "dev-01", "--state", state, env=env)).stdout)
    assert "app" in [k["name"] for k in listed["reported_properties"]["class_keys"]]

    # ...and installs a package sealed with that class key and signed: decrypted with the key
    # the TPM unwrapped, its plaintext back
    payload = os.urandom(50_000)
    (tmp_path / "app.payload").write_bytes(payload)
    check(sh(f"cpk-pack --id app --app-version 1.0.0 app.payload | cpk-seal --file-store {cloud.store} --quiet"
             f" | cpk-sign --key {cloud.signer_key_file} --cert {cloud.signer_cert_file} --cpk -o app.cpk", cwd=tmp_path))
    check(run("cpk-install", "--state", state, "--ca", cloud.signer_cert_file, "-q", tmp_path / "app.cpk", env=env))
    assert check(run("cpk-install", "--state", state, "dev-export-plaintext", "app", env=env)).stdout == payload
    no_transient_objects(tpm)
