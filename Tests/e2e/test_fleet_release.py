"""Signed key releases from `cpk-keyfetch distribute` (issue 23, the cloud side), checked
directly in Python: each document's signature over its statement verifies with the release
signer's certificate, the statement names the device, its key, a generation and an expiry,
and the wrapped keys decrypt with the device's private key to the store's keys.

Each attack of the issue is played as found: distribute by default (no way to authenticate a
device), a report planted by another local user, device id takeover and duplicates, planted
entries in the reports and output directories, hostile device keys; then the release policy
and the generation across runs.
"""

import base64
import datetime
import hashlib
import json
import os
import shutil
import socket
import stat
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from test_fleet import make_ca  # noqa: E402  (one fleet CA maker for both files)
from cpk import BIN, env_with

NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


@lru_cache(maxsize=None)
def device_key(name: str) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def spki(public) -> bytes:
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def issue(ca, cn: str, public, ou: str | None = None, uris=()) -> bytes:
    """A device certificate (DER) for `public` under `ca`, with subject CN (and OU), SAN URIs."""
    ca_key, ca_cert = ca
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if ou:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(x509.Name(attributes)).issuer_name(ca_cert.subject)
               .public_key(public).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30)))
    if uris:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(u) for u in uris]),
                                        critical=False)
    return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def report(device_id: str, public_der: bytes, cert: bytes | None = None) -> str:
    properties = {"contract_version": 1, "device_public_key": base64.b64encode(public_der).decode(),
                  "class_keys": [], "applications": []}
    if cert is not None:
        properties["device_cert"] = base64.b64encode(cert).decode()
    return json.dumps({"cpk_reported_state": 1, "device_id": device_id, "reported_properties": properties})


class Cloud:
    """A fleet operator's working directory: a key store, a fleet CA, a release signer."""

    def __init__(self, root: Path):
        self.root = root
        root.chmod(0o755)
        self.keys = {"app": os.urandom(32), "app-next": os.urandom(32), "container-kek": os.urandom(32)}
        self.store = root / "keys.json"
        self.store.write_text(json.dumps({name: base64.b64encode(key).decode() for name, key in self.keys.items()}))
        self.ca = make_ca("Fleet CA")
        self.ca_file = root / "fleet-ca.pem"
        self.ca_file.write_bytes(self.ca[1].public_bytes(serialization.Encoding.PEM))
        signer_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        signer_ca = make_ca("Release Signer")
        self.signer_cert = signer_ca[1]
        self.signer_key_file, self.signer_cert_file = root / "release.key", root / "release.crt"
        # The signer is its own CA here: a self-signed certificate for the signing key.
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Release Signer")])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.signer_cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                            .public_key(signer_key.public_key()).serial_number(x509.random_serial_number())
                            .not_valid_before(now - datetime.timedelta(days=1))
                            .not_valid_after(now + datetime.timedelta(days=30)).sign(signer_key, hashes.SHA256()))
        self.signer_key_file.write_bytes(signer_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        self.signer_cert_file.write_bytes(self.signer_cert.public_bytes(serialization.Encoding.PEM))
        for path in (self.store, self.signer_key_file):
            path.chmod(0o644)  # read by distribute running as nobody in the EACCES test (throwaway keys)

    def certified(self, device_id: str, key_name: str | None = None, **names) -> str:
        public = device_key(key_name or device_id).public_key()
        return report(device_id, spki(public), issue(self.ca, names.pop("cn", device_id), public, **names))

    def distribute(self, *args, as_user=None, input=None) -> subprocess.CompletedProcess:
        argv = [*(as_user or []), str(BIN / "cpk-keyfetch"), "distribute", "--file-store", self.store,
                "--key", self.signer_key_file, "--cert", self.signer_cert_file, *args]
        return subprocess.run(list(map(str, argv)), input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              cwd=self.root, env=env_with(), timeout=60)

    def open_release(self, text: bytes | str, device: str, key_name: str | None = None) -> dict:
        """Checks one document as a device would and returns its statement with the keys unwrapped."""
        document = json.loads(text)
        release = document["desired"]["confidential_package_keys_release"]
        assert "confidential_package_keys" not in document["desired"], "never an unsigned copy beside it"
        statement_text = release["statement"]
        signature = release["signature"]
        assert signature["scheme"] == "rsa-pkcs1v15"
        chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in signature["certificates"]]
        assert chain[0] == self.signer_cert
        chain[0].public_key().verify(base64.b64decode(signature["value"]), statement_text.encode(), padding.PKCS1v15(),
                                     hashes.SHA256())
        statement = json.loads(statement_text)
        assert list(statement) == ["cpk_key_release", "device_id", "device_public_key_sha256", "generation",
                                   "issued_at", "expires_at", "algorithm", "keys"]
        assert statement["cpk_key_release"] == 1 and statement["device_id"] == device == document["device_id"]
        private = device_key(key_name or device)
        assert statement["device_public_key_sha256"] == hashlib.sha256(spki(private.public_key())).hexdigest()
        assert statement["algorithm"] == "rsa-oaep-sha256"
        oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
        statement["keys"] = {name: private.decrypt(base64.b64decode(wrapped), oaep)
                             for name, wrapped in statement["keys"].items()}
        for name, key in statement["keys"].items():
            assert key == self.keys[name]
        return statement




@pytest.fixture
def shared():
    """A directory outside pytest's private tmp tree, so that another user can reach it."""
    path = Path(tempfile.mkdtemp(prefix="cpk-fleet-release-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


@pytest.fixture
def cloud(shared):
    return Cloud(shared)


def reports_dir(cloud: Cloud, entries: dict[str, str], name="reports") -> Path:
    directory = cloud.root / name
    directory.mkdir()
    for file_name, text in entries.items():
        (directory / file_name).write_text(text + "\n")
    return directory


def refusals(proc) -> dict:
    return {entry["source"]: entry for entry in json.loads(proc.stdout)["refused"]}


def test_distribute_by_default_refuses_to_run(cloud):
    """(a) No way to tell a device from anyone: distribute refuses, unless told to serve anyone,
    which it then says on every run, even with --quiet, and in the JSON summary."""
    reports = reports_dir(cloud, {"dev-01.json": report("dev-01", spki(device_key("dev-01").public_key()))})
    proc = cloud.distribute("--key-name", "app", "--output-dir", "desired", reports)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1 and "--device-ca" in lines[0] and "--allow-list" in lines[0] and "--insecure-any-device" in lines[0]
    assert not (cloud.root / "desired").exists()

    proc = cloud.distribute("--key-name", "app", "--insecure-any-device", "--quiet", "--json", "--output-dir", "desired",
                            reports)
    assert proc.returncode == 0, proc.stderr
    assert b"warning: --insecure-any-device" in proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["insecure-any-device"] is True and summary["served"] == ["dev-01"]
    statement = cloud.open_release((cloud.root / "desired" / "dev-01.json").read_bytes(), "dev-01")
    assert list(statement["keys"]) == ["app"]
    assert stat.S_IMODE((cloud.root / "desired").stat().st_mode) == 0o700

    # Which keys go out is never a default either.
    proc = cloud.distribute("--device-ca", cloud.ca_file, "--output-dir", "desired", reports)
    assert proc.returncode == 2 and b"--key-name" in proc.stderr and b"--policy" in proc.stderr


def test_a_report_planted_by_another_user_gets_nothing(cloud):
    """(b) A local user drops a report with their own key into the shared reports directory:
    refused as unauthenticated, nothing is wrapped to their key; the certified devices are
    served, and the container KEK in the store is never sent since nobody named it."""
    # A shared spool directory, like /tmp: its path is reachable by every user.
    reports = cloud.root / "reports"
    reports.mkdir(mode=0o1777)
    reports.chmod(0o1777)
    for n in (1, 2):
        (reports / f"dev-0{n}.json").write_text(cloud.certified(f"dev-0{n}"))
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    planted = report("dev-99", spki(attacker.public_key()))
    subprocess.run([*NOBODY, "sh", "-c", f"cat > {reports}/aaa-planted.json"], input=planted.encode(), check=True)
    assert (reports / "aaa-planted.json").stat().st_uid != os.getuid()

    proc = cloud.distribute("--device-ca", cloud.ca_file, "--key-name", "app", "--json", "--output-dir", "desired", reports)
    assert proc.returncode == 1, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["served"] == ["dev-01", "dev-02"] and summary["insecure-any-device"] is False
    refused = refusals(proc)[f"{reports}/aaa-planted.json"]
    assert refused["reason"] == "fleet.untrusted-device" and refused["device_id"] == "dev-99"
    assert sorted(os.listdir(cloud.root / "desired")) == ["dev-01.json", "dev-02.json"]
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    for device in ("dev-01", "dev-02"):
        text = (cloud.root / "desired" / f"{device}.json").read_bytes()
        statement = cloud.open_release(text, device)
        assert list(statement["keys"]) == ["app"], "the container KEK is never sent unless named"
        for wrapped in json.loads(json.loads(text)["desired"]["confidential_package_keys_release"]["statement"])["keys"].values():
            with pytest.raises(ValueError):
                attacker.decrypt(base64.b64decode(wrapped), oaep)


def test_a_device_id_is_bound_to_its_certificate(cloud):
    """(c) A certified dev-02 reporting as dev-01 is refused (its certificate names dev-02) and
    the genuine dev-01 is served; an uncertified report claiming dev-03, sorted first, does not
    block the genuine dev-03; two authenticated reports under one id are both refused, in a
    directory and in JSON lines."""
    reports = reports_dir(cloud, {
        "a-impostor.json": cloud.certified("dev-01", key_name="dev-02", cn="dev-02"),
        "b-dev-01.json": cloud.certified("dev-01"),
        "c-claims-dev-03.json": report("dev-03", spki(device_key("intruder").public_key())),
        "d-dev-03.json": cloud.certified("dev-03"),
        "e-dev-04.json": cloud.certified("dev-04"),
        "f-dev-04-again.json": cloud.certified("dev-04", key_name="dev-04b"),
        "g-dev-05.json": cloud.certified("dev-05", cn="someone", uris=["urn:fleet:dev-05"]),
    })
    (reports / "g-dev-05.json").write_text(cloud.certified("dev-05", cn="x", uris=["dev-05"]))  # a SAN URI naming it
    proc = cloud.distribute("--device-ca", cloud.ca_file, "--key-name", "app", "--json", "--output-dir", "desired", reports)
    assert proc.returncode == 1, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["served"] == ["dev-01", "dev-03", "dev-05"], summary
    refused = refusals(proc)
    impostor = refused[f"{reports}/a-impostor.json"]
    assert impostor["reason"] == "fleet.untrusted-device" and '"dev-02"' in impostor["message"]
    assert refused[f"{reports}/c-claims-dev-03.json"]["reason"] == "fleet.untrusted-device"
    for name in ("e-dev-04.json", "f-dev-04-again.json"):
        assert refused[f"{reports}/{name}"]["reason"] == "fleet.duplicate-device"
        assert refused[f"{reports}/{name}"]["device_id"] == "dev-04"
    errors = proc.stderr.decode()
    assert f"refused dev-04 ({reports}/e-dev-04.json)" in errors and f"refused dev-04 ({reports}/f-dev-04-again.json)" in errors
    assert sorted(os.listdir(cloud.root / "desired")) == ["dev-01.json", "dev-03.json", "dev-05.json"]
    cloud.open_release((cloud.root / "desired" / "dev-01.json").read_bytes(), "dev-01")
    cloud.open_release((cloud.root / "desired" / "dev-03.json").read_bytes(), "dev-03")

    # JSON lines: the first dev-04 line is staged, then taken back; the others come out whole.
    stream = "\n".join([cloud.certified("dev-04"), cloud.certified("dev-01"), cloud.certified("dev-04", key_name="dev-04b"),
                        cloud.certified("dev-06")]) + "\n"
    proc = cloud.distribute("--device-ca", cloud.ca_file, "--key-name", "app", "-", input=stream.encode())
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.decode().splitlines()
    assert [json.loads(line)["device_id"] for line in lines] == ["dev-01", "dev-06"]
    for line in lines:
        cloud.open_release(line, json.loads(line)["device_id"])
    assert b"refused dev-04 (standard input line 1)" in proc.stderr and b"refused dev-04 (standard input line 3)" in proc.stderr


def test_planted_entries_refuse_only_themselves(cloud):
    """(d) A UNIX socket, a FIFO, an unreadable file, a symbolic link and a directory named
    *.json in the reports directory, and a symbolic link where one device's document goes: each
    refuses that entry or device by name, the target is never written, the others are served.
    distribute runs as nobody so that the unreadable file really fails with EACCES."""
    work = cloud.root
    reports = work / "reports"
    reports.mkdir()
    for device in ("dev-01", "dev-05", "dev-06"):
        (reports / f"{device}.json").write_text(cloud.certified(device))
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(reports / "socket.json"))
    os.mkfifo(reports / "fifo.json")
    (reports / "unreadable.json").write_text(cloud.certified("dev-07"))
    (reports / "unreadable.json").chmod(0)
    (reports / "link.json").symlink_to(reports / "dev-01.json")
    (reports / "dir.json").mkdir()
    desired = work / "desired"
    desired.mkdir()
    elsewhere = work / "precious.txt"
    elsewhere.write_text("not a document\n")
    (desired / "dev-05.json").symlink_to(elsewhere)
    shutil.chown(desired, "nobody")
    proc = cloud.distribute("--device-ca", cloud.ca_file, "--key-name", "app", "--json", "--output-dir", desired, reports,
                            as_user=NOBODY)
    server.close()
    assert proc.returncode == 1, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["served"] == ["dev-01", "dev-06"], summary
    refused = refusals(proc)
    for name in ("socket.json", "fifo.json", "unreadable.json", "link.json", "dir.json"):
        assert refused[f"{reports}/{name}"]["reason"] == "fleet.unreadable-report", refused
    assert "Permission denied" in refused[f"{reports}/unreadable.json"]["message"]
    assert "symbolic link" in refused[f"{reports}/link.json"]["message"]
    output = refused[f"{reports}/dev-05.json"]
    assert output["reason"] == "fleet.output-refused" and output["device_id"] == "dev-05"
    assert elsewhere.read_text() == "not a document\n" and (desired / "dev-05.json").is_symlink()
    for device in ("dev-01", "dev-06"):
        cloud.open_release((desired / f"{device}.json").read_bytes(), device)
    assert b"refused " + str(reports / "socket.json").encode() in proc.stderr


def hostile_public_key(e: int, bits: int) -> bytes:
    """SubjectPublicKeyInfo DER for modulus size `bits` and exponent `e` (no private key needed)."""
    n = (1 << (bits - 1)) | int.from_bytes(os.urandom(bits // 8), "big") | 1
    n &= (1 << bits) - 1
    return spki(rsa.RSAPublicNumbers(e, n).public_key())


def test_hostile_device_keys_are_refused_by_name(cloud):
    """(e) A 3,070-bit public exponent (each encryption to it slow), a 1024-bit and a 16384-bit
    modulus: each refused as an unusable device key before anything is wrapped."""
    allow = {"cpk_device_allow_list": 1, "devices": []}
    keys = {
        "big-e": hostile_public_key((1 << 3069) | int.from_bytes(os.urandom(383), "big") | 1, 4096),
        "small-n": hostile_public_key(65537, 1024),
        "huge-n": hostile_public_key(65537, 16384),
        "e-3": hostile_public_key(3, 2048),
        "dev-01": spki(device_key("dev-01").public_key()),
    }
    for device, der in keys.items():
        allow["devices"].append({"device_id": device, "device_public_key_sha256": hashlib.sha256(der).hexdigest()})
    (cloud.root / "allow.json").write_text(json.dumps(allow))
    stream = "\n".join(report(device, der) for device, der in keys.items()) + "\n"
    proc = cloud.distribute("--allow-list", "allow.json", "--key-name", "app", "--json", "-o", "out.jsonl", "-",
                            input=stream.encode())
    assert proc.returncode == 1, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["served"] == ["dev-01"] and summary["wraps"] == 1
    by_device = {entry["device_id"]: entry for entry in summary["refused"]}
    assert set(by_device) == {"big-e", "small-n", "huge-n", "e-3"}
    for entry in by_device.values():
        assert entry["reason"] == "fleet.unusable-device-key", entry
    assert "exponent" in by_device["big-e"]["message"] and "16384-bit" in by_device["huge-n"]["message"]
    cloud.open_release((cloud.root / "out.jsonl").read_bytes(), "dev-01")


def test_a_release_policy_gives_each_device_its_keys(cloud):
    """(f) Groups of the allow list and OUs of device certificates choose the keys: the canary
    group gets two, line A one, a device matching no rule is refused as not entitled; a policy
    naming a key the store lacks stops the run before any work."""
    policy = {"cpk_release_policy": 1, "rules": [
        {"match": {"group": "canary"}, "keys": ["app-next", "app"]},
        {"match": {"ou": "Line A"}, "keys": ["app"]},
        {"match": {"device_id": "dev-09"}, "keys": ["app"]},
    ]}
    (cloud.root / "policy.json").write_text(json.dumps(policy))
    allow = {"cpk_device_allow_list": 1, "devices": [
        {"device_id": "canary-1", "device_public_key_sha256": hashlib.sha256(spki(device_key("canary-1").public_key())).hexdigest(),
         "groups": ["canary"]},
        {"device_id": "dev-10", "device_public_key_sha256": hashlib.sha256(spki(device_key("dev-10").public_key())).hexdigest()},
    ]}
    (cloud.root / "allow.json").write_text(json.dumps(allow))
    reports = reports_dir(cloud, {
        "canary-1.json": report("canary-1", spki(device_key("canary-1").public_key())),
        "line-a.json": cloud.certified("line-a", ou="Line A"),
        "line-b.json": cloud.certified("line-b", ou="Line B"),
        "dev-09.json": cloud.certified("dev-09"),
        "dev-10.json": report("dev-10", spki(device_key("dev-10").public_key())),
    })
    proc = cloud.distribute("--device-ca", cloud.ca_file, "--allow-list", "allow.json", "--policy", "policy.json", "--json",
                            "--output-dir", "desired", reports)
    assert proc.returncode == 1, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["served"] == ["canary-1", "dev-09", "line-a"] and summary["wraps"] == 4
    refused = {entry["device_id"]: entry for entry in summary["refused"]}
    assert set(refused) == {"line-b", "dev-10"}
    assert all(entry["reason"] == "fleet.not-entitled" for entry in refused.values())
    canary = cloud.open_release((cloud.root / "desired" / "canary-1.json").read_bytes(), "canary-1")
    assert list(canary["keys"]) == ["app", "app-next"], "store order"
    assert list(cloud.open_release((cloud.root / "desired" / "line-a.json").read_bytes(), "line-a")["keys"]) == ["app"]

    policy["rules"].append({"match": {"any": True}, "keys": ["missing-key"]})
    (cloud.root / "policy.json").write_text(json.dumps(policy))
    proc = cloud.distribute("--device-ca", cloud.ca_file, "--policy", "policy.json", "--output-dir", "desired2", reports)
    assert proc.returncode == 2 and b"missing-key" in proc.stderr and not (cloud.root / "desired2").exists()
    (cloud.root / "policy.json").write_text(json.dumps({"cpk_release_policy": 1, "rules": [{"match": {"groups": "x"},
                                                                                           "keys": ["app"]}]}))
    proc = cloud.distribute("--device-ca", cloud.ca_file, "--policy", "policy.json", "--output-dir", "desired2", reports)
    lines = proc.stderr.decode().splitlines()
    assert proc.returncode == 1 and len(lines) == 1 and "unknown member \"groups\"" in lines[0], lines


def test_generation_grows_and_expiry_follows_valid_for(cloud):
    """(g) A second run for the same device gives a higher generation; expiry is issue time
    plus --valid-for; --generation fixes it."""
    reports = reports_dir(cloud, {"dev-01.json": cloud.certified("dev-01")})
    args = ["--device-ca", cloud.ca_file, "--key-name", "app", "--output-dir", "desired", reports]
    assert cloud.distribute(*args, "--valid-for", "90m").returncode == 0
    first = cloud.open_release((cloud.root / "desired" / "dev-01.json").read_bytes(), "dev-01")
    # A generation far in the future in the existing document: the next run goes above it.
    assert cloud.distribute(*args, "--generation", str(first["generation"] + 10**9)).returncode == 0
    fixed = cloud.open_release((cloud.root / "desired" / "dev-01.json").read_bytes(), "dev-01")
    assert fixed["generation"] == first["generation"] + 10**9
    assert cloud.distribute(*args, "--valid-for", "2d").returncode == 0
    second = cloud.open_release((cloud.root / "desired" / "dev-01.json").read_bytes(), "dev-01")
    assert second["generation"] == fixed["generation"] + 1

    def seconds(text):
        return int(datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp())

    assert seconds(first["expires_at"]) - seconds(first["issued_at"]) == 90 * 60
    assert seconds(second["expires_at"]) - seconds(second["issued_at"]) == 2 * 86400
    for bad in ("0", "367d", "7w", "-5", "1.5h"):
        proc = cloud.distribute(*args, "--valid-for", bad)
        assert proc.returncode == 2 and b"--valid-for" in proc.stderr, (bad, proc.stderr)
