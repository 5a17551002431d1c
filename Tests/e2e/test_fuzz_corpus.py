"""End to end: every input of the fuzz corpus (Tests/Fuzz/corpus), fed to the tool that reads
that kind of input, succeeds or fails cleanly: exit status 1 or 2 (never a signal), exactly one
line on stderr, naming the tool, with no control character a hostile input could have put
there. The `regression-*` inputs are what the fuzzer found (Tests/Fuzz/fuzz.sh); these tests
keep the tools, not just the libraries, honest about them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import http.server
import subprocess
import threading
from pathlib import Path

import pytest

import cpk

CORPUS = cpk.REPO / "Tests" / "Fuzz" / "corpus"
FUZZ_KEY_SOURCE = cpk.REPO / "Tests" / "Fuzz" / "Sources" / "cpk-fuzz" / "FuzzKey.swift"
# The key-service target's input: a status byte (below 128 means 200), a padding byte, the body.
STATUSES = [201, 204, 299, 301, 400, 401, 403, 404, 409, 429, 500, 502, 503, 0, 99, 600, 999]


def corpus(target: str) -> list[Path]:
    return sorted((CORPUS / target).iterdir())


def ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


@pytest.fixture(scope="module")
def fuzz_public_key(tmp_path_factory) -> Path:
    """The public half of the fixed fuzzing key, to which the corpus's keys are wrapped."""
    source = FUZZ_KEY_SOURCE.read_text()
    pem = source[source.index("-----BEGIN PRIVATE KEY-----"):source.index("-----END PRIVATE KEY-----") + 25]
    public = tmp_path_factory.mktemp("fuzz-key") / "fuzz.pub"
    subprocess.run(["openssl", "pkey", "-pubout", "-out", str(public)], input=pem.encode() + b"\n",
                   check=True, capture_output=True)
    return public


def assert_clean(proc: subprocess.CompletedProcess, tool: str):
    err = proc.stderr.decode(errors="replace")
    assert proc.returncode in (0, 1, 2), f"{tool}: exit {proc.returncode}; stderr: {err[:2000]}"
    if proc.returncode == 0:
        return
    assert err.endswith("\n") and err.count("\n") == 1, f"{tool}: not one line: {err!r}"
    assert err.startswith(f"{tool}: "), err
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in err[:-1]), f"control character: {err!r}"


@pytest.mark.parametrize("path", corpus("cpk"), ids=ids(corpus("cpk")))
def test_cpk_inputs(path):
    assert_clean(cpk.run("cpk-unpack", path), "cpk-unpack")


@pytest.mark.parametrize("path", corpus("envelope"), ids=ids(corpus("envelope")))
def test_envelope_inputs_on_a_pipe(path):
    assert_clean(cpk.run("cpk-unpack", "-", input=path.read_bytes()), "cpk-unpack")


@pytest.mark.parametrize("path", corpus("manifest"), ids=ids(corpus("manifest")))
def test_manifest_inputs_in_a_package(path, workdir):
    payload = b"payload"
    package = cpk.build_cpk([payload, hashlib.sha256(payload).digest(), path.read_bytes()], 2)
    (workdir / "in.cpk").write_bytes(package)
    assert_clean(cpk.run("cpk-unpack", "in.cpk"), "cpk-unpack")


@pytest.mark.parametrize("path", corpus("wrapped-key"), ids=ids(corpus("wrapped-key")))
def test_wrapped_key_inputs(path):
    assert_clean(cpk.run("cpk-wrap", "show", path), "cpk-wrap")


@pytest.mark.parametrize("path", corpus("public-key"), ids=ids(corpus("public-key")))
def test_public_key_inputs(path):
    assert_clean(cpk.run("cpk-wrap", "public", path), "cpk-wrap")


@pytest.mark.parametrize("path", corpus("key-store"), ids=ids(corpus("key-store")))
def test_key_store_inputs(path, fuzz_public_key):
    for name in ("test", "kbs:///default/key/key_id1"):
        proc = cpk.run("cpk-keyfetch", "--key-name", name, "--file-store", path, "--to", fuzz_public_key)
        assert_clean(proc, "cpk-keyfetch")


@pytest.mark.parametrize("path", corpus("twin"), ids=ids(corpus("twin")))
def test_twin_inputs(path, fuzz_public_key):
    proc = cpk.run("cpk-keyfetch", "--key-name", "test", "--twin", path, "--to", fuzz_public_key)
    assert_clean(proc, "cpk-keyfetch")


class CannedService(http.server.BaseHTTPRequestHandler):
    """Answers every POST with the status and body it is given."""
    answer: tuple[int, bytes] = (200, b"")

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status, body = self.answer
        self.send_response_only(status if 100 <= status <= 599 else 502)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def canned_service():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CannedService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


@pytest.mark.parametrize("path", corpus("key-service"), ids=ids(corpus("key-service")))
def test_key_service_answers(path, canned_service, fuzz_public_key):
    data = path.read_bytes()
    status = 200 if data[0] < 128 else STATUSES[(data[0] - 128) % len(STATUSES)]
    CannedService.answer = (status, data[2:])
    padding = "oaep-sha256" if data[1] & 1 else "pkcs1v15"
    url = f"http://127.0.0.1:{canned_service.server_address[1]}/api/WrapKey"
    env = {k: v for k, v in cpk.env_with().items() if "proxy" not in k.lower()}
    proc = cpk.run("cpk-keyfetch", "--key-name", "test", "--url", url, "--to", fuzz_public_key,
                   "--padding", padding, env=env)
    assert_clean(proc, "cpk-keyfetch")


@pytest.fixture(scope="module")
def class_key_store(tmp_path_factory) -> Path:
    """A file key store with the key the corpus's documents name (`test`) and the provider's KEK."""
    store = tmp_path_factory.mktemp("fuzz-store") / "keys.json"
    key = "suAWDWNySJO7M94wBw91NHMJyof4Q71rx6LBw6PMQfQ="
    store.write_text(f'{{"test": "{key}", "kbs:///default/key/fuzz": "{key}"}}')
    store.chmod(0o600)
    return store


@pytest.fixture(scope="module")
def release_signing_key(tmp_path_factory) -> Path:
    """A throwaway key that signs distribute's releases."""
    path = tmp_path_factory.mktemp("fuzz-signer") / "release.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path],
                   check=True, capture_output=True)
    return path


@pytest.mark.parametrize("path", corpus("fleet-report"), ids=ids(corpus("fleet-report")))
def test_fleet_report_inputs(path, class_key_store, release_signing_key, tmp_path):
    """distribute serves the report or refuses it by name; --json says which, on stdout.
    Any device is served here: the parsing of the report is what is exercised."""
    proc = cpk.run("cpk-keyfetch", "distribute", "--file-store", class_key_store, "--key-name", "test",
                   "--insecure-any-device", "--key", release_signing_key, "--json", "--output-dir", tmp_path, path)
    assert proc.returncode in (0, 1), proc.stderr
    summary = json.loads(proc.stdout)
    assert len(summary["served"]) + len(summary["refused"]) == 1, summary
    assert not any(ord(c) < 0x20 for c in proc.stderr.decode().replace("\n", "")), proc.stderr


@pytest.mark.parametrize("path", corpus("desired-state"), ids=ids(corpus("desired-state")))
def test_desired_state_inputs(path, tmp_path):
    proc = cpk.run("cpk-install", "sync", "--state", tmp_path / "state", "--twin", path)
    assert_clean(proc, "cpk-install")


@pytest.mark.parametrize("path", corpus("key-release"), ids=ids(corpus("key-release")))
def test_key_release_inputs(path, tmp_path):
    """A whole document (none is signed by an anchor the device has): refused in one line."""
    proc = cpk.run("cpk-install", "sync", "--state", tmp_path / "state", "--twin", path)
    assert proc.returncode == 1, proc.stderr
    assert_clean(proc, "cpk-install")


@pytest.mark.parametrize("path", corpus("release-policy"), ids=ids(corpus("release-policy")))
def test_release_policy_inputs(path, class_key_store, tmp_path):
    """A policy (or an allow list) distribute reads: refused in one line, or read (and then its
    keys, which the store lacks, refused before any work)."""
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-out", str(tmp_path / "op.pem")], check=True, capture_output=True)
    for option in ("--policy", "--allow-list"):
        selection = ["--key-name", "test"] if option == "--allow-list" else []
        proc = cpk.run("cpk-keyfetch", "distribute", "--file-store", class_key_store, option, path, *selection,
                       "--key", tmp_path / "op.pem", "--output-dir", tmp_path / "out", "-", input=b"")
        assert proc.returncode in (0, 1, 2)
        if proc.returncode == 2:
            assert_clean(proc, "cpk-keyfetch")


@pytest.mark.parametrize("path", corpus("key-provider"), ids=ids(corpus("key-provider")))
def test_key_provider_requests(path, class_key_store):
    proc = cpk.run("cpk-keyfetch", "keyprovider", "--file-store", class_key_store, input=path.read_bytes())
    assert_clean(proc, "cpk-keyfetch")
    if proc.returncode == 0:
        assert set(json.loads(proc.stdout)) <= {"keywrapresults", "keyunwrapresults"}


TPM_VECTORS = cpk.REPO / "Tests" / "vectors" / "tpm"


@pytest.mark.parametrize("path", corpus("tpm-enrollment"), ids=ids(corpus("tpm-enrollment")))
def test_tpm_enrollment_documents(path, tmp_path):
    """Any enrollment document given to challenge and to finish: refused in one line (the seeds'
    certificate is no certificate, and no challenge waits for a response)."""
    for args in (["challenge", "--ek-ca", TPM_VECTORS / "manufacturer-ca.pem"], ["finish"]):
        proc = cpk.run("cpk-keyfetch", "enroll", *args, "--registry", tmp_path / "registry", path)
        assert proc.returncode in (1, 2), proc.stderr
        assert_clean(proc, "cpk-keyfetch")


@pytest.mark.parametrize("path", corpus("tpm-evidence"), ids=ids(corpus("tpm-evidence")))
def test_tpm_evidence_in_a_report(path, class_key_store, release_signing_key, tmp_path):
    """Evidence in a report under a policy requiring attestation: the device is refused by name
    (no enrollment here), the run goes on."""
    try:
        evidence = json.loads(path.read_bytes())
    except ValueError:
        evidence = path.read_bytes().decode(errors="replace")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                    "-out", str(tmp_path / "device.pem")], check=True, capture_output=True)
    der = subprocess.run(["openssl", "pkey", "-in", str(tmp_path / "device.pem"), "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    report = {"cpk_reported_state": 1, "device_id": "dev-01",
              "reported_properties": {"device_public_key": base64.b64encode(der).decode(), "tpm_evidence": evidence}}
    (tmp_path / "r.json").write_text(json.dumps(report))
    (tmp_path / "policy.json").write_text(json.dumps({"cpk_release_policy": 1, "attestation": {"tpm": True},
                                                      "rules": [{"match": {"any": True}, "keys": ["test"]}]}))
    proc = cpk.run("cpk-keyfetch", "distribute", "--file-store", class_key_store, "--policy", tmp_path / "policy.json",
                   "--insecure-any-device", "--tpm-registry", tmp_path / "registry", "--ek-ca",
                   TPM_VECTORS / "manufacturer-ca.pem", "--key", release_signing_key, "--json", "--quiet",
                   "--output-dir", tmp_path / "out", tmp_path / "r.json")
    assert proc.returncode == 1, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["served"] == [] and len(summary["refused"]) == 1, summary
    assert summary["refused"][0]["reason"].startswith("tpm."), summary
