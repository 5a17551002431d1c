"""The device side of fleet key release (issue 23): signed desired-state documents, and no
unwrap that answers differently by cause.

Each attack is played as it was found against the earlier `cpk-install sync --twin`: a
padding-oracle campaign of crafted entries, forged, replayed, expired and misdirected
documents, a 16 MiB document, a key name of 512 bytes. Releases are made here with Python
`cryptography`, independently of `cpk-keyfetch distribute`, following docs/keys.md §4.4.
"""

import base64
import datetime
import hashlib
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from cpk import BIN, env_with, run_with_rusage

KEY = os.urandom(32)


def cpk_install(state: Path, *args, input: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "cpk-install"), "--state", str(state), *map(str, args)], input=input,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_with(), timeout=60)


def ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, proc.stderr.decode()
    return proc


def rfc3339(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(int(seconds), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Operator:
    """A fleet operator with an ECDSA P-256 key, signing releases as docs/keys.md §4.4 says."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)

    def release(self, device_id: str, device_key_sha256: str, keys: dict[str, bytes], generation: int,
                expires_in: float = 3600, algorithm: str = "rsa-oaep-sha256") -> bytes:
        now = time.time()
        statement = json.dumps({
            "cpk_key_release": 1, "device_id": device_id, "device_public_key_sha256": device_key_sha256,
            "generation": generation, "issued_at": rfc3339(now), "expires_at": rfc3339(now + expires_in),
            "algorithm": algorithm, "keys": {name: base64.b64encode(block).decode() for name, block in keys.items()},
        }, separators=(",", ":"))
        digest = hashlib.sha256(statement.encode()).digest()
        r, s = utils.decode_dss_signature(self.key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256()))))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        document = {"device_id": device_id, "desired": {"confidential_package_keys_release": {
            "statement": statement,
            "signature": {"scheme": "ecdsa-p256", "value": base64.b64encode(signature).decode(), "certificates": []},
        }}}
        return json.dumps(document, separators=(",", ":")).encode() + b"\n"


class Device:
    def __init__(self, root: Path, name: str):
        self.state = root / name
        self.name = name
        der = ok(cpk_install(self.state, "public-key", "--format", "der", "-o", "-")).stdout
        self.public = serialization.load_der_public_key(der)
        self.fingerprint = hashlib.sha256(der).hexdigest()

    def oaep(self, key: bytes) -> bytes:
        return self.public.encrypt(key, padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None))

    def raw(self, block: bytes) -> bytes:
        """RSA without padding: the attacker's crafted ciphertext for an encoded block."""
        numbers = self.public.public_numbers()
        size = (numbers.n.bit_length() + 7) // 8
        return pow(int.from_bytes(block, "big"), numbers.e, numbers.n).to_bytes(size, "big")

    def sync(self, document: bytes, *extra) -> subprocess.CompletedProcess:
        return cpk_install(self.state, "sync", "--twin", "-", "--json", *extra, input=document)

    def class_keys(self) -> dict[str, str]:
        report = json.loads(ok(cpk_install(self.state, "report", "--device-id", self.name)).stdout)
        return {k["name"]: k["installed_at"] for k in report["reported_properties"]["class_keys"]}


@pytest.fixture
def operator():
    return Operator()


@pytest.fixture
def device(tmp_path, operator):
    device = Device(tmp_path, "dev-01")
    anchor = tmp_path / "fleet.pub"
    anchor.write_bytes(operator.public_pem())
    ok(cpk_install(device.state, "trust", "add", "--fleet", anchor, "--device-id", "dev-01"))
    return device


def crafted_blocks(device: Device, count: int) -> list[bytes]:
    """PKCS#1 v1.5 encoded blocks of known plaintext, as a Bleichenbacher campaign sends them:
    valid padding with the right and wrong message lengths, and every kind of broken padding."""
    size = device.public.key_size // 8
    blocks = []
    for index in range(count):
        kind = index % 6
        if kind == 0:    # valid, 32 bytes
            message = os.urandom(32)
        elif kind == 1:  # valid padding, wrong lengths
            message = os.urandom([0, 1, 16, 31, 33, 48][index % 6])
        else:
            message = None
        if message is not None:
            pad = bytes(b or 1 for b in os.urandom(size - 3 - len(message)))
            blocks.append(b"\x00\x02" + pad + b"\x00" + message)
        elif kind == 2:  # 00 02 without a separator
            blocks.append(b"\x00\x02" + bytes(b or 1 for b in os.urandom(size - 2)))
        elif kind == 3:  # wrong block type
            blocks.append(b"\x00\x01" + bytes(b or 1 for b in os.urandom(size - 35)) + b"\x00" + os.urandom(32))
        elif kind == 4:  # separator too early (under eight bytes of padding)
            blocks.append(b"\x00\x02\x01\x02\x03\x00" + os.urandom(size - 6))
        else:            # no structure at all
            blocks.append(b"\x00" + os.urandom(size - 1))
    return [device.raw(block) for block in blocks]


def test_unsigned_twin_documents_are_refused_before_any_decryption(device):
    """The campaign as found: documents without a signature, one crafted entry each. Every
    answer is the same line, nothing is installed, no entry is named."""
    answers = set()
    for index, block in enumerate(crafted_blocks(device, 300)):
        document = json.dumps({"desired": {"confidential_package_keys": {
            "test": base64.b64encode(block).decode()}}}).encode()
        proc = device.sync(document)
        answers.add((proc.returncode, proc.stdout, proc.stderr))
    assert len(answers) == 1, answers
    code, stdout, stderr = answers.pop()
    assert code == 1 and b"not signed" in stderr and b"test" not in stderr
    assert json.loads(stdout)["error"]["reason"] == "fleet.unsigned-document"
    assert device.class_keys() == {}


def test_wrongly_signed_documents_are_refused_alike(device, operator):
    forger = Operator()
    answers = set()
    for block in crafted_blocks(device, 60):
        document = forger.release("dev-01", device.fingerprint, {"test": block}, generation=int(time.time() * 1000),
                                  algorithm="rsa-pkcs1v15")
        proc = device.sync(document)
        answers.add((proc.returncode, proc.stdout, proc.stderr))
    assert len(answers) == 1, answers
    code, stdout, _ = answers.pop()
    assert code == 1 and json.loads(stdout)["error"]["reason"] == "fleet.untrusted-document"
    assert device.class_keys() == {}


def test_every_unwrap_failure_reads_the_same(device, operator):
    """Even a signed release cannot make the device an oracle: 300 crafted entries (broken and
    valid PKCS#1 v1.5 blocks sent as OAEP, OAEP blocks of the wrong length, blocks of the wrong
    size) are refused in one identical way, and the one genuine key beside them is applied."""
    blocks = crafted_blocks(device, 280) + [device.oaep(os.urandom(n)) for n in (0, 1, 16, 31, 33, 64) * 3]
    blocks += [os.urandom(255), os.urandom(257)]
    entries = {f"crafted-{index:03d}": block for index, block in enumerate(blocks)}
    entries["genuine"] = device.oaep(KEY)
    proc = device.sync(operator.release("dev-01", device.fingerprint, entries, generation=1))
    assert proc.returncode == 1
    result = json.loads(proc.stdout)
    assert result["applied"] == ["genuine"]
    assert len(result["refused"]) == len(blocks) >= 300
    assert len({(r["reason"], r["message"]) for r in result["refused"]}) == 1, result["refused"][:3]


def test_pkcs1v15_add_key_answers_alike_whatever_the_padding(device):
    """The reference contract's add-key keeps PKCS#1 v1.5: with implicit rejection, every crafted
    block gets the same answer, and a bad one leaves a key that opens nothing."""
    answers = set()
    for block in crafted_blocks(device, 300):
        proc = cpk_install(device.state, "add-key", "--id", "test", "--json", "-", input=block)
        answers.add((proc.returncode, proc.stdout, proc.stderr))
    assert len(answers) == 1, list(answers)[:2]
    assert answers.pop()[0] == 0


def test_forged_replayed_expired_and_misdirected_releases_change_nothing(device, operator, tmp_path):
    first = operator.release("dev-01", device.fingerprint, {"app": device.oaep(KEY)}, generation=100)
    ok(device.sync(first))
    installed = device.class_keys()
    assert list(installed) == ["app"]
    time.sleep(1.1)  # installed_at has one-second steps
    rotated = operator.release("dev-01", device.fingerprint, {"app": device.oaep(os.urandom(32))}, generation=200)
    ok(device.sync(rotated))
    after_rotation = device.class_keys()
    time.sleep(1.1)  # a change would show in installed_at

    cases = {
        "fleet.replayed-document": first,  # the old genuine document after a rotation
        "fleet.untrusted-document": Operator().release("dev-01", device.fingerprint, {"app": device.oaep(KEY)}, 300),
        "fleet.expired-document": operator.release("dev-01", device.fingerprint, {"app": device.oaep(KEY)}, 400,
                                                   expires_in=-10),
        "fleet.other-device": operator.release("dev-02", device.fingerprint, {"app": device.oaep(KEY)}, 500),
    }
    other_key = hashlib.sha256(b"another device").hexdigest()
    for reason, document in list(cases.items()) + [("fleet.other-device", operator.release(
            "dev-01", other_key, {"app": device.oaep(KEY)}, 600))]:
        proc = device.sync(document)
        assert proc.returncode == 1, (reason, proc.stderr)
        assert json.loads(proc.stdout)["error"]["reason"] == reason
        assert len(proc.stderr.decode().strip().splitlines()) == 1
        assert device.class_keys() == after_rotation, reason
    # The same release twice is a replay too.
    assert json.loads(device.sync(rotated).stdout)["error"]["reason"] == "fleet.replayed-document"
    # A document made from the report's public key alone (no signature) replaces nothing.
    unsigned = json.dumps({"desired": {"confidential_package_keys": {"app": base64.b64encode(
        device.oaep(os.urandom(32))).decode()}, "confidential_package_keys_wrapping": {
        "algorithm": "rsa-oaep-sha256", "device_public_key_sha256": device.fingerprint}}}).encode()
    assert json.loads(device.sync(unsigned).stdout)["error"]["reason"] == "fleet.unsigned-document"
    assert device.class_keys() == after_rotation != installed


def test_without_a_fleet_anchor_only_the_development_option_applies(tmp_path):
    device = Device(tmp_path, "dev-09")
    signed = Operator().release("dev-09", device.fingerprint, {"app": device.oaep(KEY)}, generation=1)
    proc = device.sync(signed)
    assert proc.returncode == 1 and json.loads(proc.stdout)["error"]["reason"] == "fleet.no-anchor"
    assert b"trust add --fleet" in proc.stderr
    block = device.public.encrypt(KEY, padding.PKCS1v15())
    unsigned = json.dumps({"confidential_package_keys": {"app": base64.b64encode(block).decode()}}).encode()
    proc = device.sync(unsigned)
    assert proc.returncode == 1 and b"--insecure-unsigned-twin" in proc.stderr
    proc = ok(device.sync(unsigned, "--insecure-unsigned-twin"))
    assert b"warning" in proc.stderr and json.loads(proc.stdout)["applied"] == ["app"]


def test_a_16_mib_document_is_refused_in_bounded_memory(device, tmp_path):
    big = tmp_path / "big.json"
    entry = base64.b64encode(os.urandom(256)).decode()
    with big.open("w") as out:
        out.write('{"desired":{"confidential_package_keys":{')
        out.write(",".join(f'"k{index}":"{entry}"' for index in range(48_000)))
        out.write("}}}")
    assert big.stat().st_size >= 16 << 20
    code, stderr, _, rss_kib = run_with_rusage(
        [str(BIN / "cpk-install"), "--state", str(device.state), "sync", "--twin", "-"], stdin_path=big)
    assert code == 1 and b"larger than" in stderr
    assert rss_kib < 32 << 10, rss_kib


def test_a_512_byte_key_name_installs_and_one_bad_entry_stops_nothing(device, operator):
    long_name = "k" * 512
    entries = {"first": device.oaep(KEY), "broken": os.urandom(256), long_name: device.oaep(KEY),
               "last": device.oaep(KEY)}
    proc = device.sync(operator.release("dev-01", device.fingerprint, entries, generation=7))
    result = json.loads(proc.stdout)
    assert result["applied"] == ["first", long_name, "last"] and [r["name"] for r in result["refused"]] == ["broken"]
    assert set(device.class_keys()) == {"first", long_name, "last"}
    check = cpk_install(device.state, "check-state")
    assert check.returncode == 0, check.stdout + check.stderr
