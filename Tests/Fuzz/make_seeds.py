#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets: Tests/Fuzz/corpus/<target>/<name>.

Small valid inputs, made by the tools themselves (CPK_BIN, default .build/debug) and by the
independent writer of the end-to-end tests (Tests/e2e/cpk.py), plus near-valid variants that
stop at each check. Keys are wrapped to the fixed fuzzing key pair of
Sources/cpk-fuzz/FuzzKey.swift, so the fuzzer reaches the unwrapping code. The corpus is
committed; run this again (`Tests/Fuzz/fuzz.sh seeds`) after a format change. Inputs the fuzzer
found are kept beside them as `regression-<what>` and are not touched here.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "Tests" / "e2e"))

import cbor2  # noqa: E402
import cpk  # noqa: E402

CORPUS = HERE / "corpus"
TEST_KEY = "suAWDWNySJO7M94wBw91NHMJyof4Q71rx6LBw6PMQfQ="


def fuzz_key_pem() -> bytes:
    source = (HERE / "Sources" / "cpk-fuzz" / "FuzzKey.swift").read_text()
    start = source.index("-----BEGIN PRIVATE KEY-----")
    end = source.index("-----END PRIVATE KEY-----") + len("-----END PRIVATE KEY-----")
    return (source[start:end] + "\n").encode()


class Seeds:
    def __init__(self, work: Path):
        self.work = work
        self.counts: dict[str, int] = {}

    def add(self, target: str, name: str, data: bytes):
        directory = CORPUS / target
        directory.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(data)
        self.counts[target] = self.counts.get(target, 0) + 1

    def tool(self, *args, input: bytes | None = None) -> bytes:
        env = cpk.env_with(SOURCE_DATE_EPOCH="0")
        proc = subprocess.run([cpk.tool(args[0]), *map(str, args[1:])], input=input, cwd=self.work,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=60)
        if proc.returncode != 0:
            raise RuntimeError(f"{args}: {proc.stderr.decode(errors='replace')}")
        return proc.stdout

    def openssl(self, *args, input: bytes | None = None) -> bytes:
        return subprocess.run(["openssl", *args], input=input, cwd=self.work, check=True,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout


def make_keys(s: Seeds):
    (s.work / "fuzz.pem").write_bytes(fuzz_key_pem())
    s.openssl("pkey", "-in", "fuzz.pem", "-pubout", "-out", "fuzz.pub")
    s.openssl("req", "-x509", "-new", "-key", "fuzz.pem", "-subj", "/CN=cpk fuzz signer", "-days", "36500",
              "-out", "fuzz.crt")
    (s.work / "test.json").write_text(json.dumps({"test": TEST_KEY}))


def package_seeds(s: Seeds) -> dict[str, bytes]:
    """Packages in both forms, each from a real pipeline; returns envelopes by name."""
    (s.work / "hello.txt").write_bytes(b"hello\n")
    (s.work / "empty").write_bytes(b"")
    envelopes = {
        "plain": s.tool("cpk-pack", "--id", "test", "hello.txt"),
        "from-pipe": s.tool("cpk-pack", "--id", "test", "--name", "Demo", "--vendor", "Acme", "--version",
                            "1.2.3", "-", input=b"hello from a pipe\n"),
        "empty": s.tool("cpk-pack", "--id", "default/key/key_id1", "empty"),
    }
    envelopes["sealed"] = s.tool("cpk-seal", "--file-store", "test.json", "--quiet", input=envelopes["plain"])
    try:
        envelopes["signed"] = s.tool("cpk-sign", "--key", "fuzz.pem", "--cert", "fuzz.crt",
                                     input=envelopes["sealed"])
        envelopes["package-signed"] = s.tool("cpk-sign", "--key", "fuzz.pem", "--embed-public-key", "--payload",
                                             "--package", input=envelopes["plain"])
    except RuntimeError as error:
        print(f"note: no signed seeds ({error})", file=sys.stderr)
    for name, envelope in envelopes.items():
        s.add("envelope", name, envelope)
        finished = s.tool("cpk-pack", "finish", input=envelope)
        s.add("cpk", name, finished)
        s.add("manifest", name, cpk.parse_cpk(finished).streams[cpk.parse_cpk(finished).manifest_index])
    return envelopes


def other_writer_seeds(s: Seeds):
    """.cpk files from the independent writer: any order, padding, the manifest first."""
    payload = b"payload bytes"
    s.add("cpk", "padded", cpk.package(payload, padding=5, lead=3, trailing=b"tail"))
    s.add("cpk", "reordered", cpk.package(payload, order=[2, 0, 1]))
    document = cpk.manifest(data=1, digest=2, stream_map=[1, 2, 0])
    s.add("cpk", "manifest-first",
          cpk.build_cpk([cpk.compact(document), payload, hashlib.sha256(payload).digest()], 0))
    # reference layout: payload, nonce, tag, digest, signature, certificate, manifest
    reference = cpk.manifest(stream_map=list(range(7)))
    reference["payload"]["enc"] = {"aes-gcm": {"key_name": "test", "key_strength": 256, "nonce": 1, "tag": 2}}
    reference["payload"]["dig"] = {"sha256": {"data": 3}}
    reference["payload"]["sig"] = {"rsa-pkcs1v15": {"key_strength": 2048, "data": 4}}
    reference["payload"]["cert"] = {"embedded-x509-pem": {"data": 5}}
    reference["payload"]["ver"]["date"] = "2026-11-26 08:23:15.309608734 UTC"
    certificate = (s.work / "fuzz.crt").read_bytes()
    streams = [payload, b"\1" * 12, b"\2" * 16, b"\3" * 32, b"\4" * 256, certificate, cpk.compact(reference)]
    s.add("cpk", "reference-layout", cpk.build_cpk(streams, 6))
    s.add("manifest", "reference-layout", cpk.compact(reference))
    # near-valid: each stops at one check of format.md section 5
    good = cpk.package(payload)
    s.add("cpk", "truncated-table", good[:30])
    s.add("cpk", "overflowing-offset", cpk.package(payload, entries={0: (2**64 - 1, 2)}))
    s.add("cpk", "overlap", cpk.package(payload, entries={1: (1, 32)}))
    s.add("cpk", "manifest-beyond-end", cpk.package(payload, entries={2: (0, 10**6)}))
    s.add("cpk", "three-declared-two-given", cpk.package(payload, count=3)[:16 + 32])
    unknown = cpk.manifest()
    unknown["payload"]["sig"] = {"rsa-pss-2099": {"data": 1}}
    s.add("cpk", "unknown-scheme", cpk.package(payload, unknown))


def manifest_seeds(s: Seeds):
    """One manifest for each scheme variant, and a few that each break one rule."""
    base = cpk.manifest(stream_map=[0, 1, 2, 3, 4])
    variants = {
        "sig-rsa-pss": ("sig", {"rsa-pss": {"key_strength": 3072, "data": 3}}),
        "sig-ecdsa-p256": ("sig", {"ecdsa-p256": {"data": 3}}),
        "sig-ecdsa-p384": ("sig", {"ecdsa-p384": {"data": 3}}),
        "sig-ed25519": ("sig", {"ed25519": {"data": 3}}),
        "cert-target": ("cert", {"target": {"domain": "devices.example"}}),
        "cert-url": ("cert", {"url": {"url": "https://pki.example/signer.crt"}}),
        "cert-x509-der": ("cert", {"embedded-x509-der": {"data": 4}}),
        "cert-public-key-pem": ("cert", {"embedded-public-key-pem": {"data": 4}}),
        "cert-public-key-der": ("cert", {"embedded-public-key-der": {"data": 4}}),
    }
    for name, (slot, scheme) in variants.items():
        document = json.loads(json.dumps(base))
        document["payload"][slot] = scheme
        s.add("manifest", name, cpk.compact(document))
    package_signed = json.loads(json.dumps(base))
    package_signed["package"] = {"map": [0, 1, 2], "dig": {"sha256": {"data": 3}},
                                 "sig": {"ed25519": {"data": 4}}, "cert": {"embedded-public-key-der": {"data": 5}}}
    s.add("manifest", "package-signed", cpk.compact(package_signed))
    s.add("manifest", "pretty-unicode", json.dumps(cpk.manifest(name="Démo \u2603", vendor="A\"c\\me\n"),
                                                   indent=2, ensure_ascii=True).encode())
    broken = {
        "duplicate-key": cpk.compact(cpk.manifest())[:-1] + b',"cp-id":"x"}',
        "float-index": cpk.compact(cpk.manifest()).replace(b'"data":0', b'"data":0.0'),
        "missing-package": cpk.compact({k: v for k, v in cpk.manifest().items() if k != "package"}),
        "two-roles": cpk.compact(cpk.manifest(digest=0)),
        "deep": b"[" * 40 + b"]" * 40,
    }
    for name, data in broken.items():
        s.add("manifest", name, data)


def envelope_seeds(s: Seeds, envelopes: dict[str, bytes]):
    """Envelopes from the independent writer: small chunks, a log; and near-valid ones."""
    payload = b"0123456789abcdef" * 5
    chunked = cpk.Envelope.of(payload, chunk=7)
    chunked.header["log"] = [{"tool": "cpk-pack", "action": "packed", "time": "1970-01-01T00:00:00Z"}]
    s.add("envelope", "small-chunks", chunked.encode())
    unknown_size = cpk.Envelope.of(payload)
    unknown_size.header["payload-size"] = None
    s.add("envelope", "unknown-size", unknown_size.encode())
    plain = envelopes["plain"]
    s.add("envelope", "truncated", plain[:-10])
    s.add("envelope", "no-trailer", cpk.Envelope.of(payload).encode_header() + cbor2.dumps(payload))
    huge = cpk.Envelope.of(b"")
    s.add("envelope", "huge-chunk-length", huge.encode_header() + b"\x5b\x00\x00\x00\x10\x00\x00\x00\x00")
    extra = cpk.Envelope.of(payload)
    extra.extra = cbor2.dumps({"more": 1})
    s.add("envelope", "data-after-trailer", extra.encode())
    s.add("envelope", "indefinite", cpk.Envelope.of(payload).encode_header() + b"\x5f\x41a\xff")


def key_seeds(s: Seeds):
    documents = {
        "pkcs1v15": s.tool("cpk-keyfetch", "--name", "test", "--file-store", "test.json", "--to", "fuzz.pub"),
        "oaep": s.tool("cpk-keyfetch", "--name", "test", "--file-store", "test.json", "--to", "fuzz.pub",
                       "--padding", "oaep-sha256"),
    }
    for name, document in documents.items():
        s.add("wrapped-key", name, document)
    document = cbor2.loads(documents["pkcs1v15"])
    wrapped = document["wrapped"]
    s.add("wrapped-key", "raw", wrapped)
    s.add("wrapped-key", "base64", base64.b64encode(wrapped) + b"\n")
    s.add("wrapped-key", "truncated", documents["pkcs1v15"][:-40])
    wrong = dict(document)
    wrong["algorithm"] = "rsa-oaep-sha512"
    s.add("wrapped-key", "unknown-algorithm", cbor2.dumps(cbor2.CBORTag(55799, wrong)))
    s.add("wrapped-key", "kbs-name", s.tool("cpk-wrap", "wrap", "--name", "kbs:///default/key/key_id1",
                                            "--to", "fuzz.pub", input=b"\x07" * 32))

    stores = {
        "test": {"test": TEST_KEY},
        "kbs": {"default/key/key_id1": TEST_KEY, "default/key/key_id2": base64.b64encode(b"\x01" * 32).decode()},
        "bad-values": {"short": base64.b64encode(b"\x01" * 16).decode(), "notb64": "%%%", "number": 7,
                       "test": TEST_KEY},
        "ambiguous": {"a/key/k": TEST_KEY, "kbs:///a/key/k": TEST_KEY, "host/a/key/k": TEST_KEY},
    }
    for name, store in stores.items():
        s.add("key-store", name, json.dumps(store, indent=2).encode())
    s.add("key-store", "not-an-object", b'["test"]')

    encoded = base64.b64encode(wrapped).decode()
    oaep = cbor2.loads(documents["oaep"])["wrapped"]
    answers = {
        "ok": b"\x00\x00" + json.dumps({"wrapped_key": encoded}).encode(),
        "oaep-echo": b"\x00\x01" + json.dumps({"wrapped_key": base64.b64encode(oaep).decode(),
                                               "wrapping_algorithm": "rsa-oaep-sha256"}).encode(),
        "oaep-ignored": b"\x00\x01" + json.dumps({"wrapped_key": encoded}).encode(),
        "400-json": bytes([0x80 + 4, 0]) + json.dumps({"error": "unknown key", "detail": "x"}).encode(),
        "500-text": bytes([0x80 + 11, 0]) + b"Internal Server Error\r\nretry later",
        "short": b"\x00\x00" + json.dumps({"wrapped_key": encoded[:40]}).encode(),
        "not-json": b"\x00\x00<html>hello</html>",
    }
    for name, answer in answers.items():
        s.add("key-service", name, answer)

    public = base64.b64encode(s.openssl("pkey", "-in", "fuzz.pem", "-pubout", "-outform", "DER")).decode()
    twins = {
        "desired": {"properties": {"desired": {"confidential_package_keys": {"test": encoded}},
                                   "reported": {"device_public_key": public}}},
        "short-form": {"desired": {"confidential_package_keys": {"kbs:///default/key/key_id1": encoded}}},
        "top-level": {"confidential_package_keys": {"test": encoded, "other": "AAAA"}},
        "not-an-object": {"confidential_package_keys": ["test", encoded]},
    }
    for name, twin in twins.items():
        s.add("twin", name, json.dumps(twin).encode())

    forms = {
        "spki.pem": ("pkey", "-in", "fuzz.pem", "-pubout"),
        "spki.der": ("pkey", "-in", "fuzz.pem", "-pubout", "-outform", "DER"),
        "pkcs1.der": ("rsa", "-in", "fuzz.pem", "-RSAPublicKey_out", "-outform", "DER"),
        "pkcs1.pem": ("rsa", "-in", "fuzz.pem", "-RSAPublicKey_out"),
        "traditional.pem": ("rsa", "-in", "fuzz.pem", "-traditional"),
        "pkcs8.der": ("pkey", "-in", "fuzz.pem", "-outform", "DER"),
        "cert.der": ("x509", "-in", "fuzz.crt", "-outform", "DER"),
    }
    for name, args in forms.items():
        s.add("public-key", name, s.openssl(*args))
    s.add("public-key", "cert.pem", (s.work / "fuzz.crt").read_bytes())
    s.add("public-key", "pkcs8.pem", fuzz_key_pem())
    s.add("public-key", "spki.b64", base64.b64encode(s.openssl(*forms["spki.der"])) + b"\n")
    ec = s.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")
    s.add("public-key", "ec-private.pem", ec)
    s.add("public-key", "rsa-1024.pem", s.openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"))


def fleet_seeds(s: Seeds):
    """A device's report (from cpk-install report, with and without a certificate) and the
    desired-state documents distribute writes, plus near-valid variants."""
    state = s.work / "device-state"
    report = s.tool("cpk-install", "report", "--state", state, "--device-id", "fuzz-device")
    s.add("fleet-report", "report.json", report)
    reported = json.loads(report)
    der = base64.b64decode(reported["reported_properties"]["device_public_key"])
    for name, change in {
        "no-device-id": lambda r: r.pop("device_id"),
        "bad-device-id": lambda r: r.update(device_id="a/../b"),
        "no-key": lambda r: r["reported_properties"].pop("device_public_key"),
        "key-not-base64": lambda r: r["reported_properties"].update(device_public_key="%%%"),
        "cert-not-der": lambda r: r["reported_properties"].update(device_cert=base64.b64encode(b"nope").decode()),
        "version-2": lambda r: r.update(cpk_reported_state=2),
    }.items():
        variant = json.loads(report)
        change(variant)
        s.add("fleet-report", f"{name}.json", json.dumps(variant).encode())
    wrapped = base64.b64encode(os.urandom(256)).decode()
    desired = {"device_id": "fuzz-device", "desired": {
        "confidential_package_keys": {"test": wrapped, "other": wrapped},
        "confidential_package_keys_wrapping": {"algorithm": "rsa-oaep-sha256",
                                               "device_public_key_sha256": hashlib.sha256(der).hexdigest()}}}
    s.add("desired-state", "desired.json", json.dumps(desired).encode())
    s.add("desired-state", "reference-twin.json",
          json.dumps({"properties": {"desired": {"confidential_package_keys": {"test": wrapped}}}}).encode())
    s.add("desired-state", "top-level.json", json.dumps({"confidential_package_keys": {"test": wrapped}}).encode())
    s.add("desired-state", "bad-name.json", json.dumps({"confidential_package_keys": {"../x": wrapped, "y": 3}}).encode())
    s.add("desired-state", "bad-wrapping.json", json.dumps({"confidential_package_keys": {"test": wrapped},
          "confidential_package_keys_wrapping": {"algorithm": "ROT13"}}).encode())


def release_seeds(s: Seeds):
    """Statements of a key release as the fuzz target signs them (docs/keys.md §4.4): one the
    device takes, and near-valid variants; plus the release vectors as whole documents."""
    base = {"cpk_key_release": 1, "device_id": "fuzz-device", "device_public_key_sha256": "ab" * 32,
            "generation": 5, "issued_at": "2026-12-01T00:00:00Z", "expires_at": "2027-12-01T00:00:00Z",
            "algorithm": "rsa-oaep-sha256", "keys": {"test": base64.b64encode(os.urandom(256)).decode()}}
    s.add("key-release", "statement.json", json.dumps(base, separators=(",", ":")).encode())
    for name, change in {"replayed": {"generation": 4}, "other-device": {"device_id": "dev-02"},
                         "expired": {"expires_at": "2020-01-01T00:00:00Z"}, "pkcs1": {"algorithm": "rsa-pkcs1v15"},
                         "no-keys": {"keys": {}}, "bad-name": {"keys": {"": "AAAA"}}}.items():
        s.add("key-release", f"{name}.json", json.dumps({**base, **change}, separators=(",", ":")).encode())
    vectors = Path(__file__).resolve().parents[1] / "vectors" / "release"
    for path in sorted(vectors.glob("*.json"))[:6]:
        s.add("key-release", f"vector-{path.name}", path.read_bytes())


def policy_seeds(s: Seeds):
    """Release policies and allow lists as distribute reads them, and near-valid variants."""
    policy = {"cpk_release_policy": 1, "rules": [
        {"match": {"any": True}, "keys": ["app"]}, {"match": {"group": "canary"}, "keys": ["app", "beta"]},
        {"match": {"ou": "Line A"}, "keys": ["line-a"]}, {"match": {"san-uri": "urn:fleet:x"}, "keys": ["x"]},
        {"match": {"device_id": "dev-01"}, "keys": ["kbs:///default/key/1"]}]}
    s.add("release-policy", "policy.json", json.dumps(policy).encode())
    s.add("release-policy", "two-matches.json", json.dumps({"cpk_release_policy": 1, "rules": [
        {"match": {"any": True, "group": "g"}, "keys": ["app"]}]}).encode())
    s.add("release-policy", "no-keys.json", json.dumps({"cpk_release_policy": 1, "rules": [
        {"match": {"any": True}, "keys": []}]}).encode())
    s.add("release-policy", "unknown-member.json", json.dumps({**policy, "default": "all"}).encode())
    s.add("release-policy", "allow-list.json", json.dumps({"cpk_device_allow_list": 1, "devices": [
        {"device_id": "dev-01", "device_public_key_sha256": "ab" * 32, "groups": ["canary"]}]}).encode())
    s.add("release-policy", "allow-list-bad-hash.json", json.dumps({"cpk_device_allow_list": 1, "devices": [
        {"device_id": "dev-01", "device_public_key_sha256": "xyz"}]}).encode())


def protocol_seeds(s: Seeds):
    """HTTP answers of a key service (the first byte chooses the piece size), key-provider
    requests as ocicrypt sends them, and PKCS#11 URIs."""
    body = json.dumps({"wrapped_key": base64.b64encode(os.urandom(256)).decode()}).encode()
    answers = {
        "length": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body),
        "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x;ext=1\r\n%s\r\n0\r\nTrailer: x\r\n\r\n"
                   % (len(body), body),
        "until-close": b"HTTP/1.0 200 OK\r\n\r\n" + body,
        "interim": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
        "redirect": b"HTTP/1.1 302 Found\r\nLocation: http://user:pw@elsewhere.example/x?q=1\r\n\r\n",
        "smuggling": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "too-long": b"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n",
        "truncated": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
    }
    for name, answer in answers.items():
        s.add("http-response", name, bytes([len(name)]) + answer)

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    keyid = b64(b"keyid=kbs:///default/key/fuzz::algorithm=A256GCM")
    wrap = {"op": "keywrap", "keywrapparams": {"ec": {"Parameters": {"cpk": [keyid]}, "DecryptConfig": {"Parameters": {}}},
                                               "optsdata": b64(b'{"cipher":"AES_256_CTR_HMAC_SHA256","key":"k"}')}}
    s.add("key-provider", "wrap.json", json.dumps(wrap).encode())
    s.add("key-provider", "wrap-other-provider.json", json.dumps(
        {"op": "keywrap", "keywrapparams": {"ec": {"Parameters": {"other": [keyid]}}, "optsdata": b64(b"x")}}).encode())
    annotation = {"kid": "kbs:///default/key/fuzz", "wrapped_data": b64(os.urandom(48)), "iv": b64(os.urandom(12)),
                  "wrap_type": "A256GCM"}
    s.add("key-provider", "unwrap.json", json.dumps({"op": "keyunwrap", "keyunwrapparams": {
        "dc": {"Parameters": {"cpk": [b64(b"Enabled")]}}, "annotation": b64(json.dumps(annotation).encode())}}).encode())
    s.add("key-provider", "unwrap-no-dc.json", json.dumps({"op": "keyunwrap", "keyunwrapparams": {
        "annotation": b64(json.dumps(annotation).encode())}}).encode())
    s.add("key-provider", "unknown-op.json", b'{"op":"keyshred"}')
    for name, uri in {
        "token-object": "pkcs11:token=cpk%20test;object=signing-key;type=private",
        "id": "pkcs11:token=cpk;id=%01%02%ff;type=private",
        "query": "pkcs11:object=k?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin",
        "all": "pkcs11:token=t;manufacturer=m;model=mo;serial=s;object=o;id=%00;type=cert",
        "pin-value": "pkcs11:object=k?pin-value=1234",
        "unsupported": "pkcs11:slot-id=1;object=k",
        "bad-escape": "pkcs11:object=%zz",
    }.items():
        s.add("pkcs11-uri", name, uri.encode())


def tpm_seeds(s: Seeds):
    """The committed TPM vectors (Tests/vectors/tpm, made by swtpm): public areas sized and bare,
    attestations, signatures."""
    vectors = HERE.parents[0] / "vectors" / "tpm"
    for path in sorted(vectors.iterdir()):
        data = path.read_bytes()
        if path.suffix == ".pub":
            s.add("tpm-public", path.name, data)
            s.add("tpm-public", path.stem + ".tpmt", data[2:])
        elif path.suffix == ".attest":
            s.add("tpm-attest", path.name, data)
        elif path.suffix == ".sig":
            s.add("tpm-signature", path.name, data)
    # The documents of docs/keys.md §4.8 around the same vectors.
    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    def compact(document: dict) -> bytes:
        return json.dumps(document, separators=(",", ":")).encode()

    device = (vectors / "device.pub").read_bytes()[2:]
    ak = (vectors / "ak-rsassa.pub").read_bytes()[2:]
    name = (b"\x00\x0b" + hashlib.sha256(ak).digest()).hex()
    head = {"version": 1, "device_id": "dev-01"}
    s.add("tpm-enrollment", "request.json", compact({"cpk_tpm_enrollment": "request", **head,
                                                     "ek_certificate": b64(b"\x30\x03\x02\x01\x01"),
                                                     "ek_public": b64(device), "ak_public": b64(ak)}))
    s.add("tpm-enrollment", "challenge.json", compact({"cpk_tpm_enrollment": "challenge", **head, "ak_name": name,
                                                       "credential_blob": b64(bytes(68)),
                                                       "encrypted_secret": b64(bytes(256))}))
    s.add("tpm-enrollment", "response.json", compact({"cpk_tpm_enrollment": "response", **head, "ak_name": name,
                                                      "secret": b64(bytes(32))}))
    for key in ("ak-rsassa", "ak-ecdsa"):
        key_name = (b"\x00\x0b" + hashlib.sha256((vectors / f"{key}.pub").read_bytes()[2:]).digest()).hex()
        evidence = {"device_key_public": b64(device), "ak_name": key_name,
                    "certify": {"attest": b64((vectors / f"{key}-certify.attest").read_bytes()),
                                "signature": b64((vectors / f"{key}-certify.sig").read_bytes())}}
        s.add("tpm-evidence", f"{key}-certify.json", compact(evidence))
        evidence["quote"] = {"attest": b64((vectors / f"{key}-quote.attest").read_bytes()),
                             "signature": b64((vectors / f"{key}-quote.sig").read_bytes())}
        s.add("tpm-evidence", f"{key}-quote.json", compact(evidence))


def main():
    # Regenerated seeds replace the old ones; the inputs the fuzzer found (regression-*) stay.
    for seed in CORPUS.glob("*/*"):
        if not seed.name.startswith("regression-"):
            seed.unlink()
    with tempfile.TemporaryDirectory(prefix="cpk-seeds-") as work:
        s = Seeds(Path(work))
        make_keys(s)
        envelopes = package_seeds(s)
        other_writer_seeds(s)
        manifest_seeds(s)
        envelope_seeds(s, envelopes)
        key_seeds(s)
        fleet_seeds(s)
        release_seeds(s)
        policy_seeds(s)
        protocol_seeds(s)
        tpm_seeds(s)
    for target, count in sorted(s.counts.items()):
        print(f"{target}: {count} seeds")


if __name__ == "__main__":
    main()
