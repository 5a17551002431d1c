"""Fleets: the DistributeKey desired-state model end to end (issue 17).

Fifty simulated devices (fifty simulator state directories) each write their reported-state
document (`cpk-install report`); one `cpk-keyfetch distribute` run serves them all from one
file store, wrapping the class key to each device's key; each device applies its desired-state
document (`cpk-install sync --twin`) and installs the same sealed, signed package. Device
certificates are issued by a fleet CA made with Python `cryptography`; one device's certificate
comes from another CA and one device's report is malformed: both are refused by name while the
other 48 are served. Then the class key is rotated. Every output is checked to round-trip
through Python `json` unchanged, and no class key ever appears in clear in any output or
message.
"""

import base64
import hashlib
import datetime
import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from cpk import BIN, check, env_with

DEVICES = [f"dev-{n:02d}" for n in range(50)]
MALFORMED, OUTSIDER = "dev-13", "dev-27"
APP = "fleet-app"
KEY_V1, KEY_V2 = os.urandom(32), os.urandom(32)


class Fleet:
    """Runs the tools, logging every argv, stdout and stderr for the leak check at the end."""

    def __init__(self, root: Path):
        self.root = root
        self.outputs: list[bytes] = []

    def run(self, tool: str, *args, input: bytes | None = None, ok=True) -> subprocess.CompletedProcess:
        argv = [str(BIN / tool), *map(str, args)]
        proc = subprocess.run(argv, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=self.root,
                              env=env_with(), timeout=60)
        self.outputs += [" ".join(argv).encode(), proc.stdout, proc.stderr]
        return check(proc) if ok else proc

    def state(self, device: str) -> Path:
        return self.root / "devices" / device


def make_ca(name: str):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def issue(ca, device: str, public_der: bytes) -> bytes:
    ca_key, ca_cert = ca
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, device)]))
            .issuer_name(ca_cert.subject).public_key(serialization.load_der_public_key(public_der))
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(ca_key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


def assert_round_trips(text: bytes):
    """The document is one compact JSON line, which Python's json writes back byte for byte."""
    line = text.decode()
    assert line.endswith("\n") and line.count("\n") == 1
    assert json.dumps(json.loads(line), separators=(",", ":"), ensure_ascii=False) == line[:-1]


def build_package(fleet: Fleet, store: Path, signer, version: str, out: str) -> Path:
    payload = fleet.root / f"{out}.payload"
    payload.write_bytes(f"the fleet application, version {version}\n".encode() * 100)
    key_path, cert_path = signer
    script = (f"cpk-pack --id {APP} --app-version {version} {payload} | cpk-seal --file-store {store} --quiet"
              f" | cpk-sign --key {key_path} --cert {cert_path} --cpk -o {out}")
    proc = subprocess.run(["bash", "-c", "set -o pipefail\n" + script], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, cwd=fleet.root, env=env_with(), timeout=60)
    fleet.outputs += [proc.stdout, proc.stderr]
    check(proc)
    return fleet.root / out


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    return Fleet(tmp_path_factory.mktemp("fleet"))


@pytest.fixture(scope="module")
def signer(fleet):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Fleet Release Signer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    key_path, cert_path = fleet.root / "signer.key", fleet.root / "signer.crt"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def signing(signer) -> list:
    """distribute's release-signing options: the fleet's signer signs every document."""
    key_path, cert_path = signer
    return ["--key", key_path, "--cert", cert_path]


def parallel(function, items):
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(function, items))


def statement(document: dict) -> dict:
    return json.loads(document["desired"]["confidential_package_keys_release"]["statement"])


def test_a_fleet_of_fifty_devices(fleet, signer):
    root = fleet.root
    (root / "devices").mkdir()
    (root / "reports").mkdir()
    (root / "desired").mkdir()
    store = root / "keys.json"
    store.write_text(json.dumps({APP: base64.b64encode(KEY_V1).decode()}))
    os.chmod(store, 0o600)
    fleet_ca, other_ca = make_ca("Fleet CA"), make_ca("Some Other CA")
    (root / "fleet-ca.pem").write_bytes(fleet_ca[1].public_bytes(serialization.Encoding.PEM))

    # Each device makes its key pair, gets a certificate for it, is provisioned with the fleet
    # operator's certificate (the anchor of its key releases) and its id, and reports.
    def report(device):
        state = fleet.state(device)
        fleet.run("cpk-install", "trust", "add", "--fleet", signer[1], "--device-id", device, "--state", state)
        der = fleet.run("cpk-install", "public-key", "--format", "der", "--state", state).stdout
        cert = root / f"{device}.crt"
        cert.write_bytes(issue(other_ca if device == OUTSIDER else fleet_ca, device, der))
        out = root / "reports" / f"{device}.json"
        fleet.run("cpk-install", "report", "--state", state, "--device-cert", cert, "-o", out)
        return der

    public_keys = dict(zip(DEVICES, parallel(report, DEVICES)))
    for device in DEVICES:
        text = (root / "reports" / f"{device}.json").read_bytes()
        assert_round_trips(text)
        reported = json.loads(text)
        assert reported["device_id"] == device and reported["cpk_reported_state"] == 1
        properties = reported["reported_properties"]
        assert base64.b64decode(properties["device_public_key"]) == public_keys[device]
        assert x509.load_der_x509_certificate(base64.b64decode(properties["device_cert"])).subject.rfc4514_string() == f"CN={device}"
        assert properties["contract_version"] >= 1 and properties["applications"] == [] and properties["class_keys"] == []
    # One report damaged on its way to the cloud.
    malformed = root / "reports" / f"{MALFORMED}.json"
    malformed.write_bytes(malformed.read_bytes()[:200])

    # One distribute run serves the whole fleet; two devices are refused by name.
    proc = fleet.run("cpk-keyfetch", "distribute", "--file-store", store, "--key-name", APP, "--device-ca", "fleet-ca.pem",
                     *signing(signer), "--output-dir", "desired", "--json", "reports", ok=False)
    assert proc.returncode == 1, proc.stderr
    summary = json.loads(proc.stdout)
    served = [d for d in DEVICES if d not in (MALFORMED, OUTSIDER)]
    assert sorted(summary["served"]) == served and summary["wraps"] == 48
    refused = {r["source"]: r for r in summary["refused"]}
    assert set(refused) == {f"reports/{MALFORMED}.json", f"reports/{OUTSIDER}.json"}
    assert refused[f"reports/{MALFORMED}.json"]["reason"] == "fleet.malformed-report"
    assert refused[f"reports/{OUTSIDER}.json"]["reason"] == "fleet.untrusted-device"
    assert refused[f"reports/{OUTSIDER}.json"]["device_id"] == OUTSIDER
    lines = proc.stderr.decode().splitlines()
    assert any(line.startswith(f"cpk-keyfetch: refused reports/{MALFORMED}.json:") for line in lines)
    assert any(line.startswith(f"cpk-keyfetch: refused {OUTSIDER} (reports/{OUTSIDER}.json): ") and "fleet CA" in line
               for line in lines)
    assert sorted(os.listdir(root / "desired")) == [f"{d}.json" for d in served]

    # Every document is a release signed by the fleet operator, for its own device and key,
    # wrapped with OAEP-SHA256 by default.
    first_wraps, first_documents, generations = {}, {}, set()
    signer_public = x509.load_pem_x509_certificate(signer[1].read_bytes()).public_key()
    for device in served:
        text = (root / "desired" / f"{device}.json").read_bytes()
        assert_round_trips(text)
        first_documents[device] = text
        document = json.loads(text)
        assert document["device_id"] == device
        release = document["desired"]["confidential_package_keys_release"]
        signer_public.verify(base64.b64decode(release["signature"]["value"]), release["statement"].encode(),
                             padding.PKCS1v15(), hashes.SHA256())
        said = statement(document)
        assert said["device_id"] == device and said["algorithm"] == "rsa-oaep-sha256"
        assert said["device_public_key_sha256"] == hashlib.sha256(public_keys[device]).hexdigest()
        public = serialization.load_der_public_key(public_keys[device])
        first_wraps[device] = said["keys"][APP]
        assert list(said["keys"]) == [APP] and len(base64.b64decode(first_wraps[device])) == public.key_size // 8
        generations.add(said["generation"])
    assert len(set(first_wraps.values())) == 48

    # Each device applies its document and installs the same sealed, signed package.
    package = build_package(fleet, store, signer, "1.0.0", "app-v1.cpk")

    def apply_and_install(device):
        state = fleet.state(device)
        proc = fleet.run("cpk-install", "sync", "--twin", root / "desired" / f"{device}.json", "--json", "--state", state)
        result = json.loads(proc.stdout)
        assert result["applied"] == [APP] and result["refused"] == [] and result["generation"] in generations
        fleet.run("cpk-install", "install", "--state", state, "--ca", signer[1], package)
        return json.loads(fleet.run("cpk-install", "list", "--json", "--state", state).stdout)

    for listing in parallel(apply_and_install, served):
        assert [app["id"] for app in listing] == [APP] and listing[0]["version"] == "1.0.0"
        assert listing[0]["signer"] and "Fleet Release Signer" in listing[0]["signer"]

    # A document applied on the wrong device is refused as such, and installs nothing.
    proc = fleet.run("cpk-install", "sync", "--twin", root / "desired" / f"{served[0]}.json", "--state",
                     fleet.state(served[1]), ok=False)
    assert proc.returncode == 1 and f"the release is for the device \"{served[0]}\"".encode() in proc.stderr

    # The refused devices got nothing, and cannot install the package.
    for device in (MALFORMED, OUTSIDER):
        proc = fleet.run("cpk-install", "install", "--state", fleet.state(device), package, ok=False)
        assert proc.returncode == 1 and b"Class key check FAILED" in proc.stderr

    # Rotation: a new class key for the application; a second run replaces every wrapped key.
    store.write_text(json.dumps({APP: base64.b64encode(KEY_V2).decode()}))
    proc = fleet.run("cpk-keyfetch", "distribute", "--file-store", store, "--key-name", APP, "--device-ca", "fleet-ca.pem",
                     *signing(signer), "--output-dir", "desired", "reports", ok=False)
    assert proc.returncode == 1 and b"served 48 device(s), refused 2" in proc.stderr
    for device in served:
        said = statement(json.loads((root / "desired" / f"{device}.json").read_text()))
        assert list(said["keys"]) == [APP] and said["keys"][APP] != first_wraps[device]
        assert said["generation"] > max(generations)
    package_v2 = build_package(fleet, store, signer, "2.0.0", "app-v2.cpk")

    # A device that has not applied the new document cannot open the new package, and is told
    # why (the package's key check value, docs/format.md §4.1)...
    stale = served[-1]
    proc = fleet.run("cpk-install", "install", "--state", fleet.state(stale), package_v2, ok=False)
    assert proc.returncode == 1 and b"sealed with another class key than the installed one" in proc.stderr

    # ...the others apply it (a sample of them installs version 2 and says so in its next
    # report: every install is the same code path, and the test must stay short).
    def rotate(device):
        state = fleet.state(device)
        fleet.run("cpk-install", "sync", "--twin", root / "desired" / f"{device}.json", "--state", state)
        if device not in served[:-1:6]:
            return None
        before = json.loads(fleet.run("cpk-install", "report", "--state", state, "--device-id", device).stdout)
        fleet.run("cpk-install", "install", "--state", state, "--ca", signer[1], package_v2)
        after = fleet.run("cpk-install", "report", "--state", state, "--device-id", device).stdout
        assert_round_trips(after)
        return before, json.loads(after)

    rotated = [pair for pair in parallel(rotate, served[:-1]) if pair]
    assert len(rotated) == 8

    # The old genuine document, replayed after the rotation, is refused and changes nothing.
    replayed_on = served[0]
    old = root / "replayed.json"
    old.write_bytes(first_documents[replayed_on])
    before = fleet.run("cpk-install", "report", "--state", fleet.state(replayed_on)).stdout
    proc = fleet.run("cpk-install", "sync", "--twin", old, "--json", "--state", fleet.state(replayed_on), ok=False)
    assert proc.returncode == 1 and json.loads(proc.stdout)["error"]["reason"] == "fleet.replayed-document"
    assert fleet.run("cpk-install", "report", "--state", fleet.state(replayed_on)).stdout == before
    for before, after in rotated:
        (old,) = before["reported_properties"]["applications"]
        (new,) = after["reported_properties"]["applications"]
        assert old["version"] == "1.0.0" and new["version"] == "2.0.0" and old["sha256"] != new["sha256"]
        assert new["sha256"] == hashlib.sha256((root / "app-v2.cpk.payload").read_bytes()).hexdigest()
        assert new["signer"] is not None and new["signer"] == old["signer"]
        (key,) = after["reported_properties"]["class_keys"]
        assert key["name"] == APP and key["installed_at"] >= before["reported_properties"]["class_keys"][0]["installed_at"]


def test_json_lines_on_standard_input_and_the_refusal_rules(fleet, signer):
    """Reports as a JSON-lines stream; a weak key, a certificate for another key, two reports
    under one id (both), and a non-RSA key are each refused by name; the rest are served."""
    root = fleet.root / "lines"
    root.mkdir()
    store = root / "keys.json"
    store.write_text(json.dumps({"a": base64.b64encode(os.urandom(32)).decode(),
                                 "b": base64.b64encode(os.urandom(32)).decode()}))

    def spki(key):
        return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    def line(device, der, cert=None):
        properties = {"device_public_key": base64.b64encode(der).decode()}
        if cert is not None:
            properties["device_cert"] = base64.b64encode(cert).decode()
        return json.dumps({"device_id": device, "reported_properties": properties})

    good = {name: rsa.generate_private_key(public_exponent=65537, key_size=2048) for name in ("ok-1", "ok-2")}
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    ca = make_ca("Lines CA")
    other = issue(ca, "x", spki(good["ok-2"]))
    other_der = x509.load_pem_x509_certificate(other).public_bytes(serialization.Encoding.DER)
    from cryptography.hazmat.primitives.asymmetric import ec
    ec_key = ec.generate_private_key(ec.SECP256R1())
    stream = "\n".join([
        line("ok-1", spki(good["ok-1"])),
        line("weak", spki(weak)),
        line("mismatch", spki(good["ok-1"]), other_der),
        "",
        line("ok-2", spki(good["ok-2"])),
        line("ok-1", spki(good["ok-2"])),
        line("ec", spki(ec_key)),
        "not json",
    ]) + "\n"
    proc = fleet.run("cpk-keyfetch", "distribute", "--file-store", store, "--key-name", "a", "--key-name", "b",
                     "--insecure-any-device", *signing(signer), "--padding", "pkcs1v15", "-", input=stream.encode(), ok=False)
    assert proc.returncode == 1
    documents = [json.loads(text) for text in proc.stdout.decode().splitlines()]
    assert [d["device_id"] for d in documents] == ["ok-2"]
    for text in proc.stdout.decode().splitlines(keepends=True):
        assert_round_trips(text.encode())
    for document in documents:
        statement = json.loads(document["desired"]["confidential_package_keys_release"]["statement"])
        assert statement["algorithm"] == "rsa-pkcs1v15"
        private = good[document["device_id"]]
        keys = json.loads(store.read_text())
        assert list(statement["keys"]) == ["a", "b"]
        for name, wrapped in statement["keys"].items():
            assert private.decrypt(base64.b64decode(wrapped), padding.PKCS1v15()) == base64.b64decode(keys[name])
    errors = proc.stderr.decode()
    assert "refused weak (standard input line 2): device_public_key: " in errors and "2048" in errors
    assert "refused mismatch (standard input line 3): device_cert certifies another key" in errors
    assert "refused ok-1 (standard input line 1): another authenticated report" in errors
    assert "refused ok-1 (standard input line 6): another authenticated report" in errors
    assert "refused ec (standard input line 7): device_public_key: " in errors
    assert "refused standard input line 8: the report is not JSON" in errors
    assert "served 1 device(s), refused 6" in errors


def test_usage_and_io_errors(fleet, signer, tmp_path):
    store = tmp_path / "keys.json"
    store.write_text(json.dumps({APP: base64.b64encode(os.urandom(32)).decode()}))
    report = tmp_path / "r.json"
    report.write_text("{}")
    ca = tmp_path / "ca.pem"
    ca.write_bytes(make_ca("Usage CA")[1].public_bytes(serialization.Encoding.PEM))
    distribute = ["cpk-keyfetch", "distribute", "--file-store", store, *signing(signer)]
    served = [*distribute, "--device-ca", ca, "--key-name", APP]
    cases = [
        ([*served, "--output-dir", report, report], 2, "not a directory"),
        ([*served, "--output-dir", tmp_path, "-o", "x", report], 2, "not both"),
        ([*served, "--json", report], 2, "standard output free"),
        ([*distribute, "--device-ca", ca, "--key-name", "nope", report], 1, "no key named"),
        ([*served, tmp_path / "absent.json"], 2, "cannot read"),
        ([*distribute, "--key-name", APP, report], 2, "--insecure-any-device"),
        ([*distribute, "--insecure-any-device", report], 2, "--policy"),
        (["cpk-install", "sync", "--state", tmp_path / "st"], 2, "--twin FILE alone"),
        (["cpk-install", "report", "--state", tmp_path / "st", "--device-id", "../up"], 2, "device id"),
    ]
    for argv, code, needle in cases:
        proc = fleet.run(argv[0], *argv[1:], ok=False)
        assert proc.returncode == code, (argv, proc.stderr)
        lines = proc.stderr.decode().splitlines()
        assert len(lines) == 1 and needle in lines[0], (argv, lines)
    proc = fleet.run(*served, "--json", "--output-dir", report, report, ok=False)
    assert proc.returncode == 2 and json.loads(proc.stdout)["error"]["kind"] == "io"


def test_a_report_file_name_is_shown_escaped(fleet, signer, tmp_path):
    """A file name in a reports directory is chosen by whoever put it there: its controls never
    reach the terminal in the refusal line."""
    store = tmp_path / "keys.json"
    store.write_text(json.dumps({APP: base64.b64encode(os.urandom(32)).decode()}))
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "a\x1b]0;owned\x07.json").write_text("{}")
    (tmp_path / "out").mkdir()
    proc = fleet.run("cpk-keyfetch", "distribute", "--file-store", store, "--key-name", APP, "--insecure-any-device",
                     *signing(signer), "--output-dir", tmp_path / "out", reports, ok=False)
    assert proc.returncode == 1, proc.stderr
    assert b"\x1b" not in proc.stderr and b"\x07" not in proc.stderr, proc.stderr
    assert b"refused " in proc.stderr and b"\\u{1b}" in proc.stderr, proc.stderr


def test_planted_entries_in_a_reports_directory_are_refused_not_followed(fleet, signer, tmp_path):
    """Whoever can write the reports directory may plant a FIFO (opening it would wait for a
    writer forever) or a symbolic link to a file they cannot read themselves: each is refused by
    name, without blocking or following it, and the real report beside them is served."""
    store = tmp_path / "keys.json"
    store.write_text(json.dumps({APP: base64.b64encode(os.urandom(32)).decode()}))
    reports = tmp_path / "reports"
    reports.mkdir()
    state = tmp_path / "device"
    fleet.run("cpk-install", "report", "--state", state, "--device-id", "real-device", "-o", reports / "real.json")
    os.mkfifo(reports / "fifo.json")
    secret = tmp_path / "secret.json"
    secret.write_text("{}")
    (reports / "link.json").symlink_to(secret)
    (tmp_path / "out").mkdir()
    proc = fleet.run("cpk-keyfetch", "distribute", "--file-store", store, "--key-name", APP, "--insecure-any-device",
                     *signing(signer), "--output-dir", tmp_path / "out", "--json", reports, ok=False)
    assert proc.returncode == 1, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["served"] == ["real-device"], summary
    refused = {entry["source"]: entry for entry in summary["refused"]}
    assert set(refused) == {f"{reports}/fifo.json", f"{reports}/link.json"}, summary
    assert "not a regular file" in refused[f"{reports}/fifo.json"]["message"]
    assert "symbolic link" in refused[f"{reports}/link.json"]["message"]
    assert (tmp_path / "out" / "real-device.json").is_file()


def test_no_class_key_in_clear_anywhere(fleet):
    """Runs last in this file: every argv, stdout and stderr of the fleet, and every file it
    wrote except the key stores, is searched for the class keys, raw and in base64."""
    secrets = [KEY_V1, KEY_V2, base64.b64encode(KEY_V1), base64.b64encode(KEY_V2), KEY_V1.hex().encode(), KEY_V2.hex().encode()]
    assert fleet.outputs, "the fleet test ran first"
    for output in fleet.outputs:
        for secret in secrets:
            assert secret not in output
    for path in fleet.root.rglob("*"):
        if path.is_file() and path.name != "keys.json" and not path.is_relative_to(fleet.root / "devices"):
            data = path.read_bytes()
            for secret in secrets:
                assert secret not in data, path
