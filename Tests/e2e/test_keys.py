"""End to end: cpk-wrap and cpk-keyfetch against the real openssl command line, the file key
store, the test HTTP key service (Tests/keyserver/server.py), inline keys and device twins.

Every tool run goes through `Tools.run`, which logs its argv and stderr and checks that the
test key's base64 appears in neither; the last test greps those logs (and the key server's) to
show the key is found only in test.json.
"""

import base64
import hashlib
import json
import os
import pathlib
import pty
import shutil
import socket
import stat
import subprocess
import sys
import time
import urllib.request

import cbor2
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(os.environ.get("CPK_BIN", ".build/debug"))
BIN = BIN if BIN.is_absolute() else REPO / BIN
SERVER = REPO / "Tests" / "keyserver" / "server.py"
TEST_JSON = REPO / "test.json"
TEST_KEY_B64 = json.loads(TEST_JSON.read_text())["test"]
TEST_KEY = base64.b64decode(TEST_KEY_B64)
PADDINGS = ["pkcs1v15", "oaep-sha256"]
OPENSSL_PADDING = {
    "pkcs1v15": [],
    "oaep-sha256": ["-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256",
                    "-pkeyopt", "rsa_mgf1_md:sha256"],
}
KEY_SOURCE_VARIABLES = ("CP_FILE_KEY_SOURCE", "CP_CLOUD_KEY_SOURCE")


# ---------------------------------------------------------------------------------------------
# Running the tools, with a log of every argv and stderr


class Tools:
    def __init__(self, log_path):
        self.log_path = log_path
        # A clean environment: no key store chosen behind a test's back, no proxy for 127.0.0.1.
        self.env = {k: v for k, v in os.environ.items()
                    if k not in KEY_SOURCE_VARIABLES and "proxy" not in k.lower()}

    def run(self, tool, *args, input=None, env=None, stdout=subprocess.PIPE, expect_ok=True):
        argv = [str(BIN / tool), *map(str, args)]
        assert TEST_KEY_B64 not in " ".join(argv), "the test key must never be on a command line"
        proc = subprocess.run(argv, input=input, stdout=stdout, stderr=subprocess.PIPE,
                              env={**self.env, **(env or {})}, timeout=60)
        with open(self.log_path, "ab") as log:
            log.write(b"$ " + " ".join(argv).encode() + b"\n" + proc.stderr)
        assert TEST_KEY_B64.encode() not in proc.stderr
        if expect_ok:
            assert proc.returncode == 0, proc.stderr.decode()
        return proc

    def fails(self, tool, *args, contains, status=None, **kwargs):
        """Runs a tool that must fail with one line on stderr; returns that line."""
        proc = self.run(tool, *args, expect_ok=False, **kwargs)
        message = proc.stderr.decode()
        assert proc.returncode != 0, f"{tool} {args} succeeded"
        if status is not None:
            assert proc.returncode == status, message
        assert message.count("\n") == 1 and message.endswith("\n"), f"not one line: {message!r}"
        assert message.startswith(f"{tool}: "), message
        assert contains.lower() in message.lower(), message
        return message.strip()


@pytest.fixture(scope="session")
def keys_logs(tmp_path_factory):
    return tmp_path_factory.mktemp("keys-logs")


@pytest.fixture(scope="session")
def tools(keys_logs):
    return Tools(keys_logs / "tools.log")


def openssl(*args, input=None):
    return subprocess.run(["openssl", *map(str, args)], input=input, capture_output=True, check=True).stdout


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class KeyPair:
    def __init__(self, directory, tools, bits=2048):
        directory.mkdir(parents=True, exist_ok=True)
        self.private = directory / "wrapping.pem"
        self.public = directory / "wrapping.pub"
        tools.run("cpk-wrap", "keygen", "--bits", bits, "-o", self.private, "--public-out", self.public)
        self.spki_der = openssl("pkey", "-in", self.private, "-pubout", "-outform", "DER")


@pytest.fixture(scope="module")
def pair(tmp_path_factory, tools):
    return KeyPair(tmp_path_factory.mktemp("pair"), tools)


@pytest.fixture(scope="module")
def other_pair(tmp_path_factory, tools):
    return KeyPair(tmp_path_factory.mktemp("other"), tools)


def unwrap(tools, pair, wrapped, out_dir, *extra):
    """Unwraps a wrapped key (a path) to a 0600 file and returns the raw key."""
    out = out_dir / f"unwrapped-{time.monotonic_ns()}.key"
    tools.run("cpk-wrap", "unwrap", "--key", pair.private, "-o", out, *extra, wrapped)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    return out.read_bytes()


@pytest.fixture
def key_file(tmp_path):
    """test.json's key as a raw file, the way a key reaches openssl and cpk-wrap: never argv."""
    path = tmp_path / "class.key"
    path.write_bytes(TEST_KEY)
    return path


# ---------------------------------------------------------------------------------------------
# The test key service


class KeyServer:
    def __init__(self, store, log, *extra):
        self.store = store
        self.log = open(log, "ab")
        self.process = subprocess.Popen(
            [sys.executable, str(SERVER), "--store", str(store), "--host", "127.0.0.1", "--port", "0", *extra],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.process.stdout.readline()
        assert line.startswith("listening on "), f"key server did not start: {line!r}"
        self.url = line.split()[-1]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        self.log.close()


@pytest.fixture(scope="module")
def key_server(tmp_path_factory, keys_logs):
    directory = tmp_path_factory.mktemp("keyserver")
    store = directory / "keys.json"
    shutil.copy(TEST_JSON, store)
    server = KeyServer(store, keys_logs / "keyserver.log", "--slow-seconds", "5")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tls_key_server(tmp_path_factory, keys_logs):
    directory = tmp_path_factory.mktemp("tls")
    store = directory / "keys.json"
    shutil.copy(TEST_JSON, store)
    cert, key = directory / "tls.crt", directory / "tls.key"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "2")
    server = KeyServer(store, keys_logs / "tls-keyserver.log", "--tls-cert", cert, "--tls-key", key)
    yield server
    server.stop()


def make_private_ca(directory: pathlib.Path) -> pathlib.Path:
    """A CA of the test's own (made with the openssl command line); returns its certificate."""
    directory.mkdir(parents=True, exist_ok=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", directory / "ca.key", "-out", directory / "ca.crt",
            "-subj", "/CN=cpk test key service CA", "-days", "2",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return directory / "ca.crt"


def issue_server_certificate(ca: pathlib.Path, name: str, subject_alt_names: str) -> tuple[pathlib.Path, pathlib.Path]:
    """A server certificate from the CA at `ca` for the given SANs; returns (certificate, key)."""
    directory = ca.parent
    key, request, cert = directory / f"{name}.key", directory / f"{name}.csr", directory / f"{name}.crt"
    extensions = directory / f"{name}.ext"
    extensions.write_text(f"subjectAltName={subject_alt_names}\nbasicConstraints=CA:FALSE\n"
                          "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", request, "-subj", f"/CN={name}")
    openssl("x509", "-req", "-in", request, "-CA", ca, "-CAkey", directory / "ca.key", "-CAcreateserial",
            "-out", cert, "-days", "2", "-extfile", extensions)
    return cert, key


@pytest.fixture(scope="module")
def private_ca_servers(tmp_path_factory, keys_logs):
    """Two https key services with certificates from one private CA: `good` names 127.0.0.1 and
    localhost, `other` names only other.example."""
    directory = tmp_path_factory.mktemp("private-ca")
    store = directory / "keys.json"
    shutil.copy(TEST_JSON, store)
    ca = make_private_ca(directory / "ca")
    servers = {}
    for name, sans in {"good": "IP:127.0.0.1,DNS:localhost", "other": "DNS:other.example"}.items():
        cert, key = issue_server_certificate(ca, name, sans)
        servers[name] = KeyServer(store, keys_logs / f"ca-{name}-keyserver.log", "--tls-cert", cert, "--tls-key", key)
    yield ca, servers
    for server in servers.values():
        server.stop()


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# cpk-wrap: key pairs, public key forms, openssl interop


def test_help_has_examples_and_exit_status(tools):
    for tool in ("cpk-wrap", "cpk-keyfetch"):
        text = tools.run(tool, "--help").stdout.decode()
        assert "Examples:" in text and "Exit status:" in text


@pytest.mark.parametrize("bits", [2048, 3072])
def test_keygen_makes_a_private_key_openssl_accepts(tmp_path, tools, bits):
    pair = KeyPair(tmp_path, tools, bits)
    assert stat.S_IMODE(pair.private.stat().st_mode) == 0o600
    assert pair.private.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    text = openssl("pkey", "-in", pair.private, "-check", "-noout", "-text").decode()
    assert f"Private-Key: ({bits} bit" in text
    assert openssl("pkey", "-pubin", "-in", pair.public, "-outform", "DER") == pair.spki_der


def test_public_forms_load_in_openssl(tmp_path, tools, pair):
    def public(fmt, source=pair.private):
        return tools.run("cpk-wrap", "public", "--format", fmt, source).stdout

    der = pair.spki_der
    forms = {fmt: tmp_path / f"key.{fmt}" for fmt in ("pem", "der", "pkcs1", "pkcs1-pem")}
    for fmt, path in forms.items():
        path.write_bytes(public(fmt))
    assert openssl("pkey", "-pubin", "-in", forms["pem"], "-outform", "DER") == der
    assert openssl("pkey", "-pubin", "-inform", "DER", "-in", forms["der"], "-outform", "DER") == der
    assert openssl("rsa", "-RSAPublicKey_in", "-inform", "DER", "-in", forms["pkcs1"], "-pubout", "-outform", "DER") == der
    assert openssl("rsa", "-RSAPublicKey_in", "-in", forms["pkcs1-pem"], "-pubout", "-outform", "DER") == der
    assert base64.b64decode(public("base64")) == der
    assert public("fingerprint").decode().strip() == sha256(der)
    # and each form reads back, from a file or standard input
    for path in forms.values():
        assert tools.run("cpk-wrap", "public", "--format", "der", path).stdout == der
        assert tools.run("cpk-wrap", "public", "--format", "der", input=path.read_bytes()).stdout == der


def test_openssl_made_keys_and_certificates_load(tmp_path, tools):
    key = tmp_path / "openssl.pem"
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key)
    der = openssl("pkey", "-in", key, "-pubout", "-outform", "DER")
    made = {
        "pkcs8.pem": key.read_bytes(),
        "traditional.pem": openssl("rsa", "-in", key, "-traditional"),
        "private.der": openssl("pkey", "-in", key, "-outform", "DER"),
        "spki.pem": openssl("pkey", "-in", key, "-pubout"),
        "spki.der": der,
        "pkcs1.pem": openssl("rsa", "-in", key, "-RSAPublicKey_out"),
        "pkcs1.der": openssl("rsa", "-in", key, "-RSAPublicKey_out", "-outform", "DER"),
        "spki.b64": base64.b64encode(der) + b"\n",
    }
    cert = tmp_path / "cert.pem"
    openssl("req", "-x509", "-new", "-key", key, "-subj", "/CN=device", "-days", "2", "-out", cert)
    made["cert.pem"] = cert.read_bytes()
    made["cert.der"] = openssl("x509", "-in", cert, "-outform", "DER")
    for name, content in made.items():
        path = tmp_path / name
        path.write_bytes(content)
        out = tools.run("cpk-wrap", "public", "--format", "fingerprint", path).stdout.decode().strip()
        assert out == sha256(der), name
    # wrap to the certificate, unwrap with the traditional-format private key
    key_path = tmp_path / "k.bin"
    key_path.write_bytes(os.urandom(32))
    doc = tmp_path / "k.wkey"
    tools.run("cpk-wrap", "wrap", "--to", tmp_path / "cert.der", "--key-name", "k", "-o", doc, key_path)
    out = tmp_path / "k.out"
    tools.run("cpk-wrap", "unwrap", "--key", tmp_path / "traditional.pem", "-o", out, doc)
    assert out.read_bytes() == key_path.read_bytes()


@pytest.mark.parametrize("padding", PADDINGS)
def test_openssl_wrapped_keys_unwrap_with_cpk_wrap(tmp_path, tools, pair, key_file, padding):
    wrapped = tmp_path / "wrapped.bin"
    openssl("pkeyutl", "-encrypt", "-pubin", "-inkey", pair.public, "-in", key_file, "-out", wrapped,
            *OPENSSL_PADDING[padding])
    assert unwrap(tools, pair, wrapped, tmp_path, "--padding", padding) == TEST_KEY
    as_base64 = tmp_path / "wrapped.b64"
    as_base64.write_bytes(base64.b64encode(wrapped.read_bytes()) + b"\n")
    assert unwrap(tools, pair, as_base64, tmp_path, "--padding", padding) == TEST_KEY


@pytest.mark.parametrize("padding", PADDINGS)
def test_cpk_wrap_wrapped_keys_decrypt_with_openssl(tmp_path, tools, pair, key_file, padding):
    wrapped = tmp_path / "wrapped.bin"
    tools.run("cpk-wrap", "wrap", "--to", pair.public, "--padding", padding, "--format", "raw", "-o", wrapped, key_file)
    assert len(wrapped.read_bytes()) == 256
    plain = openssl("pkeyutl", "-decrypt", "-inkey", pair.private, "-in", wrapped, *OPENSSL_PADDING[padding])
    assert plain == TEST_KEY


@pytest.mark.parametrize("padding", PADDINGS)
def test_the_wrapped_key_document(tmp_path, tools, pair, key_file, padding):
    doc = tmp_path / "test.wkey"
    tools.run("cpk-wrap", "wrap", "--to", pair.public, "--key-name", "test", "--padding", padding, "-o", doc, key_file)
    raw = doc.read_bytes()
    assert raw[:3] == b"\xd9\xd9\xf7"  # the self-describe tag, which cbor2 reads through
    fields = cbor2.loads(raw)
    assert list(fields) == ["cpk-wrapped-key", "key-name", "algorithm", "wrapped", "wrapping-key-sha256"]
    assert fields["cpk-wrapped-key"] == 1 and fields["key-name"] == "test"
    assert fields["algorithm"] == {"pkcs1v15": "rsa-pkcs1v15", "oaep-sha256": "rsa-oaep-sha256"}[padding]
    assert len(fields["wrapped"]) == 256
    assert fields["wrapping-key-sha256"].hex() == sha256(pair.spki_der)
    shown = json.loads(tools.run("cpk-wrap", "show", doc).stdout)
    assert shown["wrapped-size"] == 256 and shown["key-name"] == "test"
    assert unwrap(tools, pair, doc, tmp_path) == TEST_KEY
    # the key comes from standard input as well
    piped = tools.run("cpk-wrap", "wrap", "--to", pair.public, "--key-name", "test", input=TEST_KEY).stdout
    assert tools.run("cpk-wrap", "unwrap", "--key", pair.private, "-o", "-", input=piped).stdout == TEST_KEY


def test_secrets_never_go_to_a_terminal(tmp_path, tools, pair, key_file):
    doc = tmp_path / "test.wkey"
    tools.run("cpk-wrap", "wrap", "--to", pair.public, "--key-name", "test", "-o", doc, key_file)
    master, slave = pty.openpty()
    try:
        tools.fails("cpk-wrap", "unwrap", "--key", pair.private, "-o", "-", doc, stdout=slave, contains="terminal", status=2)
        tools.fails("cpk-wrap", "keygen", "-o", "-", stdout=slave, contains="terminal", status=2)
        tools.fails("cpk-wrap", "wrap", "--to", pair.public, "--key-name", "t", key_file, stdout=slave, contains="terminal")
    finally:
        os.close(slave)
        os.close(master)
    # and there is no way to pass a key value as an argument
    tools.fails("cpk-wrap", "unwrap", "--key", pair.private, doc, contains="--output")


# ---------------------------------------------------------------------------------------------
# cpk-keyfetch: round trips through every kind of store


@pytest.mark.parametrize("padding", PADDINGS)
def test_file_store_round_trip(tmp_path, tools, pair, padding):
    doc = tmp_path / "test.wkey"
    tools.run("cpk-keyfetch", "--key-name", "test", "--file-store", TEST_JSON, "--to", pair.public, "--padding", padding, "-o", doc)
    assert unwrap(tools, pair, doc, tmp_path) == TEST_KEY


@pytest.mark.parametrize("padding", PADDINGS)
def test_http_store_round_trip(tmp_path, tools, pair, key_server, padding):
    doc = tmp_path / "test.wkey"
    tools.run("cpk-keyfetch", "fetch", "--key-name", "test", "--url", key_server.url + "/WrapKey", "--to", pair.public,
              "--padding", padding, "-o", doc)
    assert unwrap(tools, pair, doc, tmp_path) == TEST_KEY


@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("place", ["properties.desired", "top level"])
def test_device_twin_round_trip(tmp_path, tools, pair, key_file, padding, place):
    wrapped = openssl("pkeyutl", "-encrypt", "-pubin", "-inkey", pair.public, "-in", key_file, *OPENSSL_PADDING[padding])
    keys = {"confidential_package_keys": {"test": base64.b64encode(wrapped).decode()}, "$version": 4}
    twin = {"deviceId": "edge-1", "properties": {"desired": keys, "reported": {"device_public_key": ""}}}
    document = tmp_path / "twin.json"
    document.write_text(json.dumps(twin if place == "properties.desired" else keys))
    doc = tmp_path / "test.wkey"
    tools.run("cpk-keyfetch", "--key-name", "test", "--twin", document, "--to", pair.public, "--padding", padding, "-o", doc)
    assert unwrap(tools, pair, doc, tmp_path) == TEST_KEY


@pytest.mark.parametrize("padding", PADDINGS)
def test_inline_wrapped_key_round_trip(tmp_path, tools, pair, key_file, padding):
    wrapped = openssl("pkeyutl", "-encrypt", "-pubin", "-inkey", pair.public, "-in", key_file, *OPENSSL_PADDING[padding])
    doc = tools.run("cpk-keyfetch", "--key-name", "test", "--inline", "-", "--to", pair.public, "--padding", padding,
                    input=base64.b64encode(wrapped) + b"\n").stdout
    (tmp_path / "test.wkey").write_bytes(doc)
    assert unwrap(tools, pair, tmp_path / "test.wkey", tmp_path) == TEST_KEY


def test_a_device_public_key_can_be_piped_in(tmp_path, tools, pair):
    # what the Package Manager exports: DER RSAPublicKey (PKCS#1)
    device_key = tools.run("cpk-wrap", "public", "--format", "pkcs1", pair.public).stdout
    doc = tools.run("cpk-keyfetch", "--key-name", "test", "--file-store", TEST_JSON, input=device_key).stdout
    (tmp_path / "test.wkey").write_bytes(doc)
    assert unwrap(tools, pair, tmp_path / "test.wkey", tmp_path) == TEST_KEY


def test_store_from_the_environment(tmp_path, tools, pair, key_server):
    for variables in ({"CP_FILE_KEY_SOURCE": str(TEST_JSON)}, {"CP_CLOUD_KEY_SOURCE": key_server.url + "/WrapKey"}):
        doc = tmp_path / "test.wkey"
        tools.run("cpk-keyfetch", "--key-name", "test", "--to", pair.public, "-o", doc, env=variables)
        assert unwrap(tools, pair, doc, tmp_path) == TEST_KEY
    both = {"CP_FILE_KEY_SOURCE": str(TEST_JSON), "CP_CLOUD_KEY_SOURCE": key_server.url}
    tools.fails("cpk-keyfetch", "--key-name", "test", "--to", pair.public, env=both, contains="both", status=2)
    tools.fails("cpk-keyfetch", "--key-name", "test", "--to", pair.public, contains="no key store", status=2)
    # a flag wins over the environment
    doc = tools.run("cpk-keyfetch", "--key-name", "test", "--file-store", TEST_JSON, "--to", pair.public,
                    env={"CP_CLOUD_KEY_SOURCE": f"http://127.0.0.1:{closed_port()}/"}).stdout
    assert doc[:3] == b"\xd9\xd9\xf7"


def test_kbs_resource_names(tmp_path, tools, pair):
    key = os.urandom(32)
    store = tmp_path / "aa-offline_fs_kbc-keys.json"
    store.write_text(json.dumps({"default/key/key_id1": base64.b64encode(key).decode(), "test": TEST_KEY_B64}))
    for name in ("kbs:///default/key/key_id1", "kbs://kbs.example:8080/default/key/key_id1",
                 "kbs.example/default/key/key_id1", "/default/key/key_id1", "default/key/key_id1"):
        doc = tmp_path / "k.wkey"
        tools.run("cpk-keyfetch", "--key-name", name, "--file-store", store, "--to", pair.public, "-o", doc)
        assert unwrap(tools, pair, doc, tmp_path) == key, name


def test_the_key_server_accepts_a_certificate(tmp_path, tools, pair, key_server):
    cert = tmp_path / "device.der"
    openssl("req", "-x509", "-new", "-key", pair.private, "-subj", "/CN=device", "-days", "2", "-outform", "DER", "-out", cert)
    request = json.dumps({"key_name": "test", "client_public_key": base64.b64encode(cert.read_bytes()).decode()})
    with urllib.request.urlopen(urllib.request.Request(key_server.url + "/WrapKey", request.encode(),
                                                       {"Content-Type": "application/json"})) as answer:
        wrapped = base64.b64decode(json.load(answer)["wrapped_key"])
    assert openssl("pkeyutl", "-decrypt", "-inkey", pair.private, input=wrapped) == TEST_KEY
    doc = tmp_path / "test.wkey"
    tools.run("cpk-keyfetch", "--key-name", "test", "--url", key_server.url + "/WrapKey", "--to", cert, "-o", doc)
    assert unwrap(tools, pair, doc, tmp_path) == TEST_KEY


# ---------------------------------------------------------------------------------------------
# Provisioning


def test_provision_into_a_file_store(tmp_path, tools, pair):
    store = tmp_path / "keys.json"
    shutil.copy(TEST_JSON, store)
    store.chmod(0o644)
    quiet = tools.run("cpk-keyfetch", "provision", "--key-name", "app", "--file-store", store)
    assert quiet.stdout == b"" and quiet.stderr == b""
    keys = json.loads(store.read_text())
    assert list(keys) == ["test", "app"] and keys["test"] == TEST_KEY_B64
    assert len(base64.b64decode(keys["app"])) == 32
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys.json"], "no temporary file left"

    tools.fails("cpk-keyfetch", "provision", "--key-name", "app", "--file-store", store, contains="--force", status=2)
    assert json.loads(store.read_text()) == keys
    tools.run("cpk-keyfetch", "provision", "--key-name", "app", "--file-store", store, "--force")
    replaced = json.loads(store.read_text())
    assert replaced["app"] != keys["app"] and replaced["test"] == TEST_KEY_B64

    doc = tmp_path / "app.wkey"
    tools.run("cpk-keyfetch", "--key-name", "app", "--file-store", store, "--to", pair.public, "-o", doc)
    assert unwrap(tools, pair, doc, tmp_path) == base64.b64decode(replaced["app"])

    fresh = tmp_path / "new" / "keys.json"
    fresh.parent.mkdir()
    tools.run("cpk-keyfetch", "provision", "--key-name", "kbs:///default/key/k1", "--file-store", fresh)
    assert list(json.loads(fresh.read_text())) == ["default/key/k1"]
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600


def test_provision_through_the_key_service(tmp_path, tools, pair, key_server):
    tools.run("cpk-keyfetch", "provision", "--key-name", "fresh-app", "--url", key_server.url)
    stored = json.loads(key_server.store.read_text())
    assert len(base64.b64decode(stored["fresh-app"])) == 32 and stored["test"] == TEST_KEY_B64
    doc = tmp_path / "fresh.wkey"
    tools.run("cpk-keyfetch", "--key-name", "fresh-app", "--url", key_server.url + "/WrapKey", "--to", pair.public, "-o", doc)
    assert unwrap(tools, pair, doc, tmp_path) == base64.b64decode(stored["fresh-app"])
    # a WrapKey endpoint (as in CP_CLOUD_KEY_SOURCE) is accepted as the base too
    tools.fails("cpk-keyfetch", "provision", "--key-name", "fresh-app", "--url", key_server.url + "/WrapKey",
                contains="409: a key named 'fresh-app' already exists")


# ---------------------------------------------------------------------------------------------
# Bad input: one line, nonzero exit, nothing written


def bad_store(tmp_path, text):
    path = tmp_path / "store.json"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, expected", [
    ("{not json", "not JSON"),
    ('["test"]', "must be a JSON object"),
    ('{"test": "not base64!"}', 'value of "test" is not valid base64'),
    ('{"test": "AAAAAAAAAAAAAAAAAAAAAA=="}', "16 bytes; an AES-256 key is 32"),
    ('{"other": "AAAA"}', 'no key named "test"'),
])
def test_bad_file_stores(tmp_path, tools, pair, text, expected):
    out = tmp_path / "test.wkey"
    tools.fails("cpk-keyfetch", "--key-name", "test", "--file-store", bad_store(tmp_path, text), "--to", pair.public,
                "-o", out, contains=expected, status=1)
    assert not out.exists()


def test_missing_or_empty_key_name(tools, pair):
    tools.fails("cpk-keyfetch", "--file-store", TEST_JSON, "--to", pair.public, contains="--key-name", status=2)
    tools.fails("cpk-keyfetch", "--key-name", "", "--file-store", TEST_JSON, "--to", pair.public, contains="key name is empty", status=2)
    tools.fails("cpk-keyfetch", "provision", "--file-store", TEST_JSON, contains="--key-name", status=2)
    tools.fails("cpk-wrap", "wrap", "--to", pair.public, "-", contains="--key-name", status=2, input=b"k" * 32)


def test_wrong_private_key(tmp_path, tools, pair, other_pair, key_file):
    doc = tmp_path / "test.wkey"
    tools.run("cpk-keyfetch", "--key-name", "test", "--file-store", TEST_JSON, "--to", pair.public, "-o", doc)
    out = tmp_path / "out.key"
    tools.fails("cpk-wrap", "unwrap", "--key", other_pair.private, "-o", out, doc, contains="matching private key", status=1)
    raw = tmp_path / "raw.bin"
    tools.run("cpk-wrap", "wrap", "--to", pair.public, "--format", "raw", "-o", raw, key_file)
    tools.fails("cpk-wrap", "unwrap", "--key", other_pair.private, "-o", out, raw, contains="not wrapped to this private key", status=1)
    assert not out.exists()


def test_truncated_wrapped_keys(tmp_path, tools, pair, key_file):
    doc = tmp_path / "test.wkey"
    tools.run("cpk-wrap", "wrap", "--to", pair.public, "--key-name", "test", "-o", doc, key_file)
    fields = dict(cbor2.loads(doc.read_bytes()))
    fields["wrapped"] = fields["wrapped"][:200]
    short_wrapped = tmp_path / "short-wrapped.wkey"
    short_wrapped.write_bytes(cbor2.dumps(cbor2.CBORTag(55799, fields)))
    cut_document = tmp_path / "cut.wkey"
    cut_document.write_bytes(doc.read_bytes()[:-10])
    raw = tmp_path / "raw.bin"
    tools.run("cpk-wrap", "wrap", "--to", pair.public, "--format", "raw", "-o", raw, key_file)
    cut_raw = tmp_path / "cut.bin"
    cut_raw.write_bytes(raw.read_bytes()[:128])
    out = tmp_path / "out.key"
    for path in (short_wrapped, cut_document, cut_raw):
        tools.fails("cpk-wrap", "unwrap", "--key", pair.private, "-o", out, path, contains="truncated", status=1)
    assert not out.exists()


@pytest.mark.parametrize("path, expected, status", [
    ("/simulate/500/WrapKey", "answered 500: Internal Server Error: simulated failure", 2),
    ("/simulate/nonjson/WrapKey", "not a JSON object", 1),
    ("/simulate/short/WrapKey", "255-byte wrapped key", 1),
])
def test_key_service_failures(tmp_path, tools, pair, key_server, path, expected, status):
    out = tmp_path / "test.wkey"
    tools.fails("cpk-keyfetch", "--key-name", "test", "--url", key_server.url + path, "--to", pair.public, "-o", out,
                contains=expected, status=status)
    assert not out.exists()


def test_key_service_errors_show_the_servers_message(tools, pair, key_server):
    tools.fails("cpk-keyfetch", "--key-name", "absent", "--url", key_server.url + "/WrapKey", "--to", pair.public,
                contains="answered 404: no key named 'absent'", status=1)


def test_a_service_ignoring_oaep_is_caught(tools, pair, key_server):
    tools.fails("cpk-keyfetch", "--key-name", "test", "--url", key_server.url + "/simulate/ignore-oaep/WrapKey",
                "--to", pair.public, "--padding", "oaep-sha256", contains="--padding pkcs1v15", status=1)


def test_key_service_down(tools, pair):
    url = f"http://127.0.0.1:{closed_port()}/WrapKey"
    tools.fails("cpk-keyfetch", "--key-name", "test", "--url", url, "--to", pair.public, contains="connection refused", status=2)


def test_key_service_too_slow(tools, pair, key_server):
    started = time.monotonic()
    tools.fails("cpk-keyfetch", "--key-name", "test", "--url", key_server.url + "/simulate/slow/WrapKey", "--to", pair.public,
                "--timeout", "1", contains="no answer", status=2)
    assert time.monotonic() - started < 4


def test_key_service_tls_failure(tools, pair, tls_key_server):
    # a self-signed certificate the system does not trust
    tools.fails("cpk-keyfetch", "--key-name", "test", "--url", tls_key_server.url + "/WrapKey", "--to", pair.public,
                contains="TLS failure", status=2)


def localhost_url(server) -> str:
    return server.url.replace("127.0.0.1", "localhost")


def test_https_fetch_trusting_a_private_ca(tmp_path, tools, pair, private_ca_servers):
    ca, servers = private_ca_servers
    # by IP address (IP SAN) and by name (DNS SAN, SNI), with --ca-file and with the variable
    for url, how in [(servers["good"].url, ["--ca-file", ca]), (localhost_url(servers["good"]), ["--ca-file", ca]),
                     (servers["good"].url, [])]:
        doc = tmp_path / f"tls-{time.monotonic_ns()}.wkey"
        env = None if how else {"CPK_KEY_SERVICE_CA": str(ca)}
        tools.run("cpk-keyfetch", "--key-name", "test", "--url", url + "/WrapKey", "--to", pair.public, *how, "-o", doc, env=env)
        assert unwrap(tools, pair, doc, tmp_path) == TEST_KEY


def test_https_without_the_ca_names_the_certificate_problem(tools, pair, private_ca_servers):
    _, servers = private_ca_servers
    message = tools.fails("cpk-keyfetch", "--key-name", "test", "--url", servers["good"].url + "/WrapKey", "--to", pair.public,
                          contains="TLS failure", status=2)
    assert "certificate verify failed: unable to get local issuer certificate" in message, message


def test_https_certificate_for_another_name_fails_hostname_verification(tools, pair, private_ca_servers):
    ca, servers = private_ca_servers
    for url, reason in [(localhost_url(servers["other"]), "hostname mismatch"), (servers["other"].url, "IP address mismatch")]:
        message = tools.fails("cpk-keyfetch", "--key-name", "test", "--url", url + "/WrapKey", "--to", pair.public,
                              "--ca-file", ca, contains="TLS failure", status=2)
        assert f"certificate verify failed: {reason}" in message, message


def test_an_unusable_ca_file_is_one_line(tmp_path, tools, pair, private_ca_servers):
    _, servers = private_ca_servers
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    for path in (tmp_path / "absent.pem", junk):
        tools.fails("cpk-keyfetch", "--key-name", "test", "--url", servers["good"].url + "/WrapKey", "--to", pair.public,
                    "--ca-file", path, contains=f"cannot use {path} as the key service's CA", status=2)


def test_key_service_url_secret_is_not_shown(tools, pair):
    url = f"http://127.0.0.1:{closed_port()}/api/WrapKey?code=VERYSECRETCODE"
    message = tools.fails("cpk-keyfetch", "--key-name", "test", "--url", url, "--to", pair.public, contains="connection refused")
    assert "VERYSECRETCODE" not in message


@pytest.fixture(scope="module")
def unusable_public_keys(tmp_path_factory):
    directory = tmp_path_factory.mktemp("unusable")
    made = {}
    for name, args in {"ec": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
                       "ed25519": ["-algorithm", "ed25519"],
                       "rsa1024": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"]}.items():
        private = openssl("genpkey", *args)
        made[name] = directory / f"{name}.pub"
        made[name].write_bytes(openssl("pkey", "-pubout", input=private))
    return made


@pytest.mark.parametrize("kind, expected", [("ec", "not RSA"), ("ed25519", "not RSA"), ("rsa1024", "1024-bit")])
def test_public_keys_that_cannot_wrap(tmp_path, tools, unusable_public_keys, key_file, kind, expected):
    public = unusable_public_keys[kind]
    tools.fails("cpk-wrap", "wrap", "--to", public, "--key-name", "test", key_file, contains=expected, status=1)
    tools.fails("cpk-keyfetch", "--key-name", "test", "--file-store", TEST_JSON, "--to", public, contains=expected, status=1)
    tools.fails("cpk-wrap", "public", public, contains=expected, status=1)


def test_other_bad_inputs(tmp_path, tools, pair):
    junk = tmp_path / "junk"
    junk.write_bytes(b"\x00\x01junk")
    tools.fails("cpk-wrap", "public", junk, contains="not a public key", status=1)
    tools.fails("cpk-wrap", "unwrap", "--key", pair.public, "-o", tmp_path / "o", junk, contains="private key", status=1)
    tools.fails("cpk-keyfetch", "--key-name", "test", "--file-store", tmp_path / "absent.json", "--to", pair.public,
                contains="cannot open", status=2)
    tools.fails("cpk-keyfetch", "--key-name", "test", "--file-store", TEST_JSON, "--url", "http://x", "--to", pair.public,
                contains="one key store", status=2)
    tools.fails("cpk-keyfetch", "--key-name", "test", "--inline", "-", contains="standard input", status=2)
    tools.fails("cpk-keyfetch", "--key-name", "test", "--url", "ftp://x/y", "--to", pair.public, contains="http://", status=2)
    tools.fails("cpk-wrap", "keygen", "--bits", "1024", "-o", tmp_path / "k.pem", contains="2048", status=2)


# ---------------------------------------------------------------------------------------------
# Last: the test key is found only in test.json


def test_the_key_is_found_only_in_test_json(keys_logs):
    logs = [p for p in keys_logs.iterdir() if p.is_file()]
    assert any(p.name == "tools.log" for p in logs)
    hits = [p for p in [TEST_JSON, *logs] if TEST_KEY_B64.encode() in p.read_bytes()]
    assert hits == [TEST_JSON]
