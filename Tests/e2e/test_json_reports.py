"""--json where a tool reports a result (issue 14 item 8): cpk-sign, cpk-keyfetch,
cpk-install add-key, trust list and check-state print one JSON document on stdout, checked
here against what hashlib, Python `cryptography` and cbor2 say independently; on exit 1 or 2,
a JSON error object takes its place."""

import hashlib
import json
import os

import cbor2
import pytest
from cryptography.hazmat.primitives import serialization

from cpk import check, env_with, run, sh


@pytest.fixture
def world(tmp_path):
    env = env_with(CPK_CPM_STATE=str(tmp_path / "cpm"))
    env.pop("CP_FILE_KEY_SOURCE", None)
    env.pop("CP_CLOUD_KEY_SOURCE", None)
    (tmp_path / "app.bin").write_bytes(b"json report payload " * 64)
    return tmp_path, env


def document(proc) -> dict:
    lines = proc.stdout.decode().splitlines()
    assert len(lines) == 1, proc.stdout
    return json.loads(lines[0])


def test_cpk_sign_json_names_the_digests_and_the_signer(world):
    d, env = world
    check(run("cpk-sign", "keygen", "--scheme", "ecdsa-p256", "-o", "k.pem", "--cert-out", "k.crt", cwd=d, env=env))
    proc = check(sh("cpk-pack --id app app.bin | cpk-sign --key k.pem --cert k.crt --json -o app.env", cwd=d, env=env))
    report = document(proc)
    assert report["signatures"] == ["payload", "package"] and report["scheme"] == "ecdsa-p256"
    assert report["payload-digest"] == hashlib.sha256((d / "app.bin").read_bytes()).hexdigest()
    # the package digest the envelope carries, read with cbor2
    trailer = None
    with open(d / "app.env", "rb") as f:
        decoder = cbor2.CBORDecoder(f)
        header = decoder.decode()
        header = getattr(header, "value", header)  # cbor2 may strip the self-describe tag
        while True:
            item = decoder.decode()
            if isinstance(item, dict):
                trailer = item
                break
    manifest = header["manifest"]
    digest_stream = manifest["package"]["dig"]["sha256"]["data"]
    assert trailer["streams"][digest_stream].hex() == report["package-digest"]
    spki = serialization.load_pem_private_key((d / "k.pem").read_bytes(), None).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert report["signer"]["key-sha256"] == hashlib.sha256(spki).hexdigest()
    assert report["signer"]["named-by"] == "x509" and report["signer"]["subject"] == "CN=cpk development signer"


def test_cpk_sign_stitch_json_reports_the_offline_signature(world):
    """prepare --json and stitch --json report the same signature: one digest, made offline,
    then stitched; the signature openssl made over that digest verifies in the package."""
    d, env = world
    check(run("cpk-sign", "keygen", "--scheme", "ecdsa-p256", "-o", "k.pem", "--cert-out", "k.crt", cwd=d, env=env))
    prepared = document(check(sh("cpk-pack --id app app.bin | cpk-sign prepare --payload --cert k.crt "
                                 "--digest-out digest.bin --json -o pending.env", cwd=d, env=env)))
    check(sh("openssl pkeyutl -sign -inkey k.pem -in digest.bin -out sig.der", cwd=d, env=env))
    stitched = document(check(run("cpk-sign", "stitch", "--signature", "sig.der", "--json", "-o", "signed.env",
                                  "pending.env", cwd=d, env=env)))
    assert prepared["offline"] is True and stitched["offline"] is True
    assert stitched["signatures"] == ["payload"] and stitched["scheme"] == "ecdsa-p256"
    assert stitched["payload-digest"] == prepared["payload-digest"] == hashlib.sha256((d / "app.bin").read_bytes()).hexdigest()
    assert stitched["package-digest"] is None
    assert stitched["signer"] == prepared["signer"] and stitched["signer"]["subject"] == "CN=cpk development signer"
    assert (d / "digest.bin").read_bytes() == bytes.fromhex(stitched["payload-digest"])
    check(run("cpk-verify", "--integrity-only", "--require", "payload-signature", "signed.env", cwd=d, env=env))
    # the package would go to standard output with the report: refused before anything is read
    proc = run("cpk-sign", "stitch", "--signature", "sig.der", "--json", "pending.env", cwd=d, env=env)
    assert proc.returncode == 2 and document(proc)["error"]["kind"] == "usage"


def test_cpk_sign_json_errors_are_documents(world):
    d, env = world
    for args, status, kind in [
        (["--json", "--key", "k.pem", "app.bin"], 2, "usage"),  # the package would go to stdout
        (["--json", "--key", "/nonexistent/k.pem", "-o", "x.env", "app.bin"], 2, "io"),
    ]:
        proc = run("cpk-sign", *args, cwd=d, env=env)
        assert proc.returncode == status, proc.stderr
        error = document(proc)
        assert error["cpk-sign"] == 1 and error["error"]["kind"] == kind and error["error"]["exit"] == status
        assert proc.stderr.decode().count("\n") == 1


def test_keyfetch_add_key_trust_list_and_check_state(world):
    d, env = world
    check(run("cpk-keyfetch", "provision", "--key-name", "app", "--file-store", "keys.json", cwd=d, env=env))
    public = check(run("cpk-install", "public-key", cwd=d, env=env)).stdout
    (d / "device.pub").write_bytes(public)
    fetched = document(check(run("cpk-keyfetch", "--key-name", "app", "--file-store", "keys.json", "--to", "device.pub",
                                 "--padding", "pkcs1v15", "--json", "-o", "app.wkey", cwd=d, env=env)))
    der = serialization.load_pem_public_key(public).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) if public.startswith(b"-----") else \
        serialization.load_der_public_key(public).public_bytes(serialization.Encoding.DER,
                                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    fingerprint = hashlib.sha256(der).hexdigest()
    assert fetched == {"key-name": "app", "algorithm": "rsa-pkcs1v15", "wrapped-size": 256,
                       "wrapping-key-sha256": fingerprint, "padding": "pkcs1v15", "store": "file"}
    key = json.loads((d / "keys.json").read_text())["app"]
    assert key not in json.dumps(fetched)
    assert cbor2.loads((d / "app.wkey").read_bytes())["wrapping-key-sha256"].hex() == fingerprint
    installed = document(check(run("cpk-install", "add-key", "--json", "app.wkey", cwd=d, env=env)))
    assert installed == {"installed": "app", "form": "document", "padding": "pkcs1v15", "device-key-sha256": fingerprint}
    assert document(check(run("cpk-install", "trust", "list", "--json", cwd=d, env=env))) == []
    state = document(check(run("cpk-install", "check-state", "--json", cwd=d, env=env)))
    assert state == {"consistent": True, "applications": [], "class-keys": ["app"], "staging-in-use": 0, "problems": []}
    # failures are documents too
    for tool, args in [("cpk-keyfetch", ["--key-name", "nope", "--file-store", "keys.json", "--to", "device.pub", "--json",
                                         "-o", "x.wkey"]),
                       ("cpk-install", ["add-key", "--json", "/nonexistent/k.wkey"]),
                       ("cpk-keyfetch", ["--key-name", "app", "--file-store", "keys.json", "--json"])]:
        proc = run(tool, *args, cwd=d, env=env)
        assert proc.returncode in (1, 2), proc.stderr
        error = document(proc)
        assert error[tool] == 1 and error["error"]["exit"] == proc.returncode
