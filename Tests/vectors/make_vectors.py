#!/usr/bin/env python3
"""Writes the conformance vectors: Tests/vectors/{format,envelope,manifest}/NAME.{cpk,cbor,json}
and beside each a one-line NAME.expect saying what a reader must do (grammar: README.md here).

Independent of the Swift code on purpose (docs/format.md): the bytes come from the spec
(docs/format.md, docs/envelope.md), cbor2 and hashlib, so a second implementation can test itself
against vectors that this project's writer did not shape. Deterministic: fixed dates, no
randomness, signature and tag streams are fixed filler bytes (a reader does no cryptography).
Run it again after a spec change, and commit what it writes; it prints the rule coverage.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import shutil
import struct
import sys
from pathlib import Path

import cbor2

HERE = Path(__file__).resolve().parent
HEADER = struct.Struct("<IHHHHHH")
MAGIC = 0x0ECCF00D
PAYLOAD = b"hello\n"
DIGEST = hashlib.sha256(PAYLOAD).digest()
DATE = "1970-01-01T00:00:00Z"
# A certificate stream is opaque to a reader (cpk-verify parses it); a short PEM-looking text keeps vectors small.
CERT = b"-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n"
MAX_VECTOR = 4096 + 512

written: list[tuple[str, str]] = []   # (path, expect line)


def expect_line(verdict: str, fields: dict, cite: str, why: str) -> str:
    parts = [verdict] + [f"{k}={v}" for k, v in fields.items()]
    return " ".join(parts) + f" ; {cite}: {why}"


def emit(kind: str, name: str, data: bytes, verdict: str, cite: str, why: str, /, **fields):
    suffix = {"format": "cpk", "envelope": "cbor", "manifest": "json"}[kind]
    directory = HERE / kind
    directory.mkdir(parents=True, exist_ok=True)
    assert len(data) <= MAX_VECTOR, f"{name}: {len(data)} bytes"
    assert not any(n == name for n, _ in ((Path(p).stem, e) for p, e in written if p.startswith(kind))), name
    (directory / f"{name}.{suffix}").write_bytes(data)
    line = expect_line(verdict, {k.replace("_", "-"): v for k, v in fields.items()}, cite, why)
    (directory / f"{name}.expect").write_text(line + "\n")
    written.append((f"{kind}/{name}.{suffix}", line))


# --- manifests --------------------------------------------------------------------------------

def manifest(**payload_overrides) -> dict:
    """The manifest `cpk-pack --id test` writes (format.md §6.2), in the writers' key order."""
    m = {
        "cp-id": "test", "cp-name": "Unknown", "cp-vendor": "Unknown",
        "payload": {
            "data": 0,
            "target": {"arch": "aarch64", "os": "OP-TEE"},
            "ver": {"maj": 1, "min": 0, "rev": 0, "date": DATE},
            "enc": "none",
            "dig": {"sha256": {"data": 1}},
            "sig": "none",
            "cert": "none",
        },
        "package": {"map": [0, 1, 2], "dig": "none", "sig": "none", "cert": "none"},
    }
    m["payload"].update(payload_overrides)
    return m


def reference_manifest() -> dict:
    """The reference 7-stream layout (format.md §9.2)."""
    m = manifest(
        enc={"aes-gcm": {"key_name": "test", "key_strength": 256, "nonce": 1, "tag": 2}},
        dig={"sha256": {"data": 3}},
        sig={"rsa-pkcs1v15": {"key_strength": 2048, "data": 4}},
        cert={"embedded-x509-pem": {"data": 5}})
    m["package"]["map"] = list(range(7))
    return m


REFERENCE_SIZES = [len(PAYLOAD), 12, 16, 32, 256, len(CERT), "M"]
PLAIN_SIZES = [len(PAYLOAD), 32, "M"]


def compact(document) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def sizes_field(sizes) -> str:
    return ",".join(str(s) for s in sizes)


def manifest_vectors():
    def accept(name, doc, cite, why, /, sizes=PLAIN_SIZES, **fields):
        data = doc if isinstance(doc, bytes) else compact(doc)
        emit("manifest", name, data, "accept", cite, why, sizes=sizes_field(sizes), **fields)

    def reject(name, doc, cite, why, sizes=PLAIN_SIZES):
        data = doc if isinstance(doc, bytes) else compact(doc)
        emit("manifest", name, data, "reject", cite, why, sizes=sizes_field(sizes))

    # §6.1 encoding
    accept("pack", manifest(), "§6.1 rule 1, §6.2 rule 1, §7 rule 1",
           "the manifest cpk-pack writes", id="test", name="Unknown", vendor="Unknown", version="1.0.0")
    pretty = json.dumps(manifest(), indent=2).encode()
    accept("whitespace", pretty, "§6.1 rule 1", "insignificant whitespace (RFC 8259) is allowed", id="test")
    reject("bad-utf8", compact(manifest()).replace(b'"Unknown"', b'"Unkn\xffown"', 1), "§6.1 rule 1",
           "invalid UTF-8 inside a string")
    reject("lone-surrogate", compact(manifest()).replace(b'"Unknown"', b'"\\ud800"', 1), "§6.1 rule 1",
           "an unpaired surrogate escape")
    reject("control-char", compact(manifest()).replace(b'"Unknown"', b'"Unk\nown"', 1), "§6.1 rule 1",
           "a raw control character inside a string")
    reject("leading-zero", compact(manifest()).replace(b'"data":0', b'"data":00', 1), "§6.1 rule 1",
           "a number with a leading zero")
    reject("trailing-text", compact(manifest()) + b" {}", "§6.1 rule 1", "text after the document")
    reject("date-number", manifest(ver={"maj": 1, "min": 0, "rev": 0, "date": 0}), "§6.2 rule 2",
           "the date is opaque text, not a number")
    reject("not-object", compact([manifest()]), "§6.2 rule 1", "the document is an array, not an object")
    accept("escapes", compact(manifest()).replace(b'"cp-name":"Unknown"', b'"cp-name":"D\\u00e9mo\\u0021"', 1),
           "§6.1 rule 1", "escapes in strings decode", name="Démo!")
    accept("utf8-name", compact(manifest()).replace(b'"cp-vendor":"Unknown"', '"cp-vendor":"Ünïcode"'.encode(), 1),
           "§6.1 rule 1", "non-ASCII UTF-8 text", vendor="Ünïcode")
    reject("duplicate-top", compact(manifest()).replace(b'{"cp-id":"test"', b'{"cp-id":"test","cp-id":"test"', 1),
           "§6.1 rule 2", "a duplicate key at top level, even with the same value")
    reject("duplicate-nested", compact(manifest()).replace(b'"maj":1', b'"maj":1,"maj":2', 1), "§6.1 rule 2",
           "a duplicate key in payload.ver")
    accept("no-duplicates", manifest(), "§6.1 rule 2", "every key once", id="test")
    deep = manifest()
    deep["cp-id"] = json.loads("[" * 40 + "]" * 40)
    reject("too-deep", deep, "§6.1 rule 3", "nesting beyond 32 levels")
    accept("depth-ok", manifest(), "§6.1 rule 3", "the manifest needs 4 levels", id="test")

    def reordered(value):
        if isinstance(value, dict):
            return {k: reordered(value[k]) for k in reversed(list(value))}
        return value
    accept("key-order", reordered(reference_manifest()), "§6.1 rule 4",
           "every object's keys in reverse order", sizes=REFERENCE_SIZES, id="test")
    # §6.2 shape: every key present with its type
    accept("reference", reference_manifest(), "§6.2 rule 1, §6.3 rule 3, §7 rule 3",
           "the reference 7-stream layout", sizes=REFERENCE_SIZES, id="test")
    accept("opaque-date", manifest(ver={"maj": 4294967295, "min": 0, "rev": 7,
                                        "date": "2026-11-26 08:23:15.309608734 UTC"}),
           "§6.2 rule 2, §6.4 rule 4", "the reference's date text and the largest version", version="4294967295.0.7")
    # §6.3 schemes: every variant name is accepted in its slot
    variants = [
        ("sig-rsa-pss", {"sig": {"rsa-pss": {"key_strength": 3072, "data": 2}}}, [6, 32, 384, "M"]),
        ("sig-ecdsa-p256", {"sig": {"ecdsa-p256": {"data": 2}}}, [6, 32, 64, "M"]),
        ("sig-ecdsa-p384", {"sig": {"ecdsa-p384": {"data": 2}}}, [6, 32, 96, "M"]),
        ("sig-ed25519", {"sig": {"ed25519": {"data": 2}}}, [6, 32, 64, "M"]),
        ("sig-rsa-1024", {"sig": {"rsa-pkcs1v15": {"key_strength": 1024, "data": 2}}}, [6, 32, 128, "M"]),
        ("cert-target", {"cert": {"target": {"domain": "example.com"}}}, PLAIN_SIZES),
        ("cert-url", {"cert": {"url": {"url": "https://example.com/cert.pem"}}}, PLAIN_SIZES),
        ("cert-x509-der", {"cert": {"embedded-x509-der": {"data": 2}}}, [6, 32, 3, "M"]),
        ("cert-public-key-pem", {"cert": {"embedded-public-key-pem": {"data": 2}}}, [6, 32, 3, "M"]),
        ("cert-public-key-der", {"cert": {"embedded-public-key-der": {"data": 2}}}, [6, 32, 3, "M"]),
    ]
    for name, fields, sizes in variants:
        doc = manifest(**fields)
        doc["package"]["map"] = list(range(len(sizes)))
        accept(name, doc, "§6.3 rule 2", f"the variant {next(iter(next(iter(fields.values()))))}", sizes=sizes, id="test")
    big = manifest(sig={"rsa-pss": {"key_strength": 16384, "data": 2}})
    big["package"]["map"] = [0, 1, 2, 3]
    accept("sig-rsa-16384", big, "§6.4 rule 4, §7 rule 3", "the largest RSA key strength", sizes=[6, 32, 2048, "M"])
    accept("none-strings", manifest(), "§6.3 rule 1", '"none" in enc, sig, cert of both parts', id="test")
    reject("none-capital", manifest(enc="None"), "§6.3 rule 1", 'only the exact string "none" means absent')
    reject("none-empty", manifest(sig=""), "§6.3 rule 1", "an empty string is not a scheme")
    reject("scheme-unknown-string", manifest(enc="aes-256"), "§6.3 rule 3", "an unknown scheme name as a string")
    reject("scheme-unknown-variant", manifest(dig={"sha512": {"data": 1}}), "§6.3 rule 3", "an unknown variant sha512")
    reject("scheme-snake-case", manifest(cert={"embedded_x509_pem": {"data": 1}}), "§6.3 rule 2",
           "variant names are kebab-case")
    reject("scheme-upper-case", manifest(dig={"SHA256": {"data": 1}}), "§6.3 rule 2", "variant names are lower case")
    reject("scheme-no-member", manifest(sig={}), "§6.3 rule 2", "a scheme object with no member")
    reject("scheme-two-members", manifest(dig={"sha256": {"data": 1}, "sha384": {"data": 1}}), "§6.3 rule 2",
           "a scheme object with two members")
    # §6.4 strictness
    doc = manifest(); doc["extra"] = 1
    reject("unknown-key-top", doc, "§6.4 rule 1", "unknown key at top level")
    doc = manifest(); doc["payload"]["size"] = 6
    reject("unknown-key-payload", doc, "§6.4 rule 1", "unknown key payload.size")
    doc = manifest(); doc["payload"]["target"]["abi"] = "gnu"
    reject("unknown-key-target", doc, "§6.4 rule 1", "unknown key payload.target.abi")
    doc = manifest(); doc["payload"]["ver"]["build"] = 1
    reject("unknown-key-ver", doc, "§6.4 rule 1", "unknown key payload.ver.build")
    doc = manifest(); doc["package"]["note"] = "x"
    reject("unknown-key-package", doc, "§6.4 rule 1", "unknown key package.note")
    reject("unknown-key-variant", manifest(dig={"sha256": {"data": 1, "salt": 0}}), "§6.4 rule 1",
           "unknown key in the sha256 fields")
    accept("all-keys", manifest(), "§6.4 rule 1, §6.4 rule 2", "exactly the keys of §6.2", id="test")
    doc = manifest(); del doc["cp-name"]
    reject("missing-name", doc, "§6.4 rule 2", "cp-name is missing")
    doc = manifest(); del doc["payload"]["cert"]
    reject("missing-cert", doc, "§6.4 rule 2", 'payload.cert is missing; absent schemes are "none"')
    reject("missing-variant-field", manifest(enc={"aes-gcm": {"key_name": "test", "key_strength": 256, "nonce": 1}}),
           "§6.4 rule 2", "aes-gcm without tag")
    doc = manifest(); doc["cp-id"] = 7
    reject("type-id-number", doc, "§6.4 rule 3", "cp-id is a number")
    reject("type-data-string", manifest(data="0"), "§6.4 rule 3", "payload.data is a string")
    doc = manifest(); doc["package"]["map"] = {"0": 0}
    reject("type-map-object", doc, "§6.4 rule 3", "package.map is an object")
    reject("type-null", manifest(enc=None), "§6.4 rule 3", "a scheme slot holding null")
    accept("types", manifest(), "§6.4 rule 3", "every value of its type", id="test")
    reject("range-index", manifest(data=65536), "§6.4 rule 4", "a stream index above 65535")
    reject("range-negative", manifest(data=-1), "§6.4 rule 4", "a negative stream index")
    reject("range-version", manifest(ver={"maj": 4294967296, "min": 0, "rev": 0, "date": DATE}), "§6.4 rule 4",
           "ver.maj above 4294967295")
    reject("range-aes-128", manifest(enc={"aes-gcm": {"key_name": "test", "key_strength": 128, "nonce": 1, "tag": 2}}),
           "§6.4 rule 4", "aes-gcm key_strength other than 256")
    reject("range-rsa-small", manifest(sig={"rsa-pkcs1v15": {"key_strength": 1016, "data": 2}}), "§6.4 rule 4",
           "RSA key_strength below 1024", sizes=[6, 32, 127, "M"])
    reject("range-rsa-large", manifest(sig={"rsa-pss": {"key_strength": 16392, "data": 2}}), "§6.4 rule 4",
           "RSA key_strength above 16384", sizes=[6, 32, 2049, "M"])
    reject("range-rsa-odd", manifest(sig={"rsa-pkcs1v15": {"key_strength": 2047, "data": 2}}), "§6.4 rule 4",
           "RSA key_strength not a multiple of 8", sizes=[6, 32, 256, "M"])
    reject("number-fraction", compact(manifest()).replace(b'"maj":1', b'"maj":1.0', 1), "§6.4 rule 5",
           "1.0 is not a plain integer")
    reject("number-exponent", compact(manifest()).replace(b'"maj":1', b'"maj":1e0', 1), "§6.4 rule 5",
           "1e0 is not a plain integer")
    accept("number-plain", manifest(), "§6.4 rule 5", "plain decimal integers", version="1.0.0")

    # §7 consistency with the streams (sizes= gives the package's streams; M is the manifest)
    reject("range-payload", manifest(data=3), "§7 rule 1", "payload.data is 3 of 3 streams")
    reject("range-nonce", manifest(enc={"aes-gcm": {"key_name": "test", "key_strength": 256, "nonce": 9, "tag": 2}}),
           "§7 rule 1", "the nonce names stream 9 of 7", sizes=REFERENCE_SIZES)
    reject("role-digest-is-payload", manifest(dig={"sha256": {"data": 0}}), "§7 rule 2",
           "the digest stream is the payload stream", sizes=[32, 32, "M"])
    reject("role-digest-is-manifest", manifest(dig={"sha256": {"data": 2}}), "§7 rule 2",
           "the digest stream is the manifest stream")
    reject("role-nonce-is-tag", manifest(enc={"aes-gcm": {"key_name": "test", "key_strength": 256, "nonce": 1, "tag": 1}},
                                         dig={"sha256": {"data": 2}}),
           "§7 rule 2", "nonce and tag share a stream", sizes=[6, 12, 32, "M"])
    accept("roles-distinct", reference_manifest(), "§7 rule 2", "one role per stream", sizes=REFERENCE_SIZES)
    for name, sizes, why in [
        ("size-nonce", [6, 11, 16, 32, 256, len(CERT), "M"], "an 11-byte nonce"),
        ("size-tag", [6, 12, 15, 32, 256, len(CERT), "M"], "a 15-byte tag"),
        ("size-digest", [6, 12, 16, 31, 256, len(CERT), "M"], "a 31-byte SHA-256 digest"),
        ("size-rsa", [6, 12, 16, 32, 255, len(CERT), "M"], "a 255-byte RSA-2048 signature"),
    ]:
        reject(name, reference_manifest(), "§7 rule 3", why, sizes=sizes)
    for scheme, size in [("ecdsa-p256", 63), ("ecdsa-p384", 95), ("ed25519", 65)]:
        reject(f"size-{scheme}", manifest(sig={scheme: {"data": 2}}), "§7 rule 3",
               f"a {size}-byte {scheme} signature", sizes=[6, 32, size, "M"])
    pkg = manifest()
    pkg["package"].update(map=[0, 1, 2], dig={"sha256": {"data": 3}}, sig={"ed25519": {"data": 4}})
    accept("package-signed", pkg, "§7 rule 3, §7 rule 5, §7 rule 6", "package digest and signature outside the map",
           sizes=[6, 32, "M", 32, 64])
    reject("size-package-digest", pkg, "§7 rule 3", "a 33-byte package digest", sizes=[6, 32, "M", 33, 64])
    doc = manifest(); doc["package"]["map"] = [0, 3]
    reject("map-range", doc, "§7 rule 4", "package.map names stream 3 of 3")
    doc = manifest(); doc["package"]["map"] = [0, 1, 1, 2]
    reject("map-duplicate", doc, "§7 rule 4", "stream 1 twice in package.map")
    doc = manifest(); doc["package"]["map"] = [2, 0]
    accept("map-partial", doc, "§7 rule 4", "a map in any order that leaves a stream out", id="test")
    doc = manifest(); doc["package"]["map"] = []
    accept("map-empty", doc, "§7 rule 4", "an empty map", id="test")
    bad = copy.deepcopy(pkg); bad["package"]["map"] = [0, 1, 2, 4]
    reject("map-has-signature", bad, "§7 rule 5", "package.map covers the package signature", sizes=[6, 32, "M", 32, 64])
    bad = copy.deepcopy(pkg); bad["package"]["map"] = [0, 1, 2, 3]
    reject("map-has-digest", bad, "§7 rule 5", "package.map covers the package digest", sizes=[6, 32, "M", 32, 64])
    bad = copy.deepcopy(pkg); bad["package"]["dig"] = "none"
    reject("package-sig-no-digest", bad, "§7 rule 6", "a package signature without a package digest",
           sizes=[6, 32, "M", 32, 64])
    reject("payload-sig-no-digest", manifest(dig="none", sig={"ed25519": {"data": 1}}), "§7 rule 6",
           "a payload signature without a payload digest", sizes=[6, 64, "M"])
    accept("signature-without-cert", manifest(sig={"ed25519": {"data": 2}}), "§7 rule 6",
           "a signature needs a digest, not a certificate", sizes=[6, 32, 64, "M"])


# --- .cpk packages ----------------------------------------------------------------------------

def build(streams: list[bytes], manifest_index: int, *, order=None, padding=0, trailing=b"", magic=MAGIC,
          version=1, flags=0, count=None, mtype=1, mversion=1, entries=None) -> bytes:
    """Header, table, then the streams in `order` with `padding` filler bytes after each
    (format.md §1–§3); `entries` overrides table entries, `count` the header's count."""
    order = list(range(len(streams))) if order is None else order
    table = [(0, 0)] * len(streams)
    body = bytearray()
    for index in order:
        table[index] = (len(body), len(streams[index]))
        body += streams[index] + b"\xA5" * padding
    body += trailing
    for index, entry in (entries or {}).items():
        table[index] = entry
    head = HEADER.pack(magic, version, flags, len(streams) if count is None else count, manifest_index, mtype, mversion)
    return head + b"".join(struct.pack("<QQ", o, s) for o, s in table) + bytes(body)


def plain(doc=None, payload=PAYLOAD) -> list[bytes]:
    return [payload, hashlib.sha256(payload).digest(), compact(manifest() if doc is None else doc)]


def format_vectors():
    def accept(name, data, cite, why, /, **fields):
        emit("format", name, data, "accept", cite, why, format="cpk", **fields)

    def reject(name, data, cite, why):
        emit("format", name, data, "reject", cite, why)

    ok = build(plain(), 2)
    digest = DIGEST.hex()
    accept("pack", ok, "§3 rule 1, §5 rule 1, §5 rule 12", "the 3-stream package of §10",
           id="test", streams=3, payload_size=6, payload_digest=digest)
    assert len(ok) == 419, len(ok)
    absolute = {i: (64 + o, n) for i, (o, n) in enumerate([(0, 6), (6, 32), (38, 317)])}
    reject("absolute-offsets", build(plain(), 2, entries=absolute), "§3 rule 1",
           "offsets counted from the start of the file, not from the origin")
    reject("short", ok[:15], "§5 rule 1", "15 bytes, less than a header")
    reject("empty", b"", "§5 rule 1", "an empty file")
    reject("magic", b"\x0E\xCC\xF0\x0D" + ok[4:], "§5 rule 2", "the magic in big-endian byte order")
    accept("magic-ok", ok, "§5 rule 2", "magic 0D F0 CC 0E", id="test")
    reject("frame-version-2", build(plain(), 2, version=2), "§5 rule 3", "frame version 2")
    reject("frame-version-0", build(plain(), 2, version=0), "§5 rule 3", "frame version 0")
    accept("frame-version-1", ok, "§5 rule 3", "frame version 1", id="test")
    reject("flags", build(plain(), 2, flags=1), "§5 rule 4", "flag bit 0 set")
    reject("flags-high", build(plain(), 2, flags=0x8000), "§5 rule 4", "flag bit 15 set")
    accept("flags-zero", ok, "§5 rule 4", "flags 0", id="test")
    reject("count-1", build([compact(manifest())], 0), "§5 rule 5", "one stream")
    reject("count-0", HEADER.pack(MAGIC, 1, 0, 0, 0, 1, 1), "§5 rule 5", "no streams")
    two = manifest(dig="none"); two["package"]["map"] = [0, 1]
    accept("count-2", build([PAYLOAD, compact(two)], 1), "§5 rule 5", "two streams: payload and manifest",
           id="test", streams=2, payload_digest="null")
    reject("manifest-index", build(plain(), 3), "§5 rule 6", "manifest index 3 of 3 streams")
    m0 = manifest(data=1, dig={"sha256": {"data": 2}})
    accept("manifest-first", build([compact(m0), PAYLOAD, DIGEST], 0), "§5 rule 6", "the manifest is stream 0",
           id="test", streams=3, payload_size=6)
    reject("manifest-type", build(plain(), 2, mtype=2), "§5 rule 7", "manifest type 2")
    reject("manifest-type-0", build(plain(), 2, mtype=0), "§5 rule 7", "manifest type 0")
    accept("manifest-type-json", ok, "§5 rule 7", "manifest type 1 (JSON)", id="test")
    reject("manifest-version", build(plain(), 2, mversion=2), "§5 rule 8", "manifest version 2")
    accept("manifest-version-1", ok, "§5 rule 8", "manifest version 1", id="test")
    reject("table-truncated", ok[:16 + 16 * 3 - 1], "§5 rule 9", "the table ends one byte early")
    reject("count-large", build(plain(), 2, count=300), "§5 rule 9", "300 streams announced, the file is too short")
    accept("table-exact", build([b"", compact(two)], 1), "§5 rule 9, §4 rule 3",
           "an empty payload: the file is the table and the manifest", id="test", payload_size=0)
    size = len(plain()[2])
    reject("stream-past-end", build(plain(), 2, entries={2: (38, size + 1)}), "§5 rule 10",
           "the manifest ends one byte after the file")
    reject("stream-overflow", build(plain(), 2, entries={0: (0xFFFFFFFFFFFFFFFF, 6)}), "§5 rule 10",
           "offset + size overflows a u64")
    reject("empty-past-end", build([b"", DIGEST, compact(manifest())], 2, entries={0: (1000, 0)}), "§5 rule 10, §4 rule 3",
           "an empty stream at an offset beyond the stream data")
    accept("stream-to-end", ok, "§5 rule 10", "the last stream ends exactly at the end of the file", id="test")
    reject("overlap", build(plain(), 2, entries={1: (4, 32)}), "§5 rule 11", "payload and digest overlap by 2 bytes")
    reject("overlap-same", build(plain(), 2, entries={0: (6, 32)}), "§5 rule 11",
           "payload and digest at the same place (roles then also clash)")
    empty_shared = build([b"", hashlib.sha256(b"").digest(), compact(manifest())], 2)
    assert struct.unpack_from("<QQ", empty_shared, 16) == (0, 0)
    accept("overlap-empty", empty_shared, "§5 rule 11, §4 rule 3", "an empty payload at offset 0, as the digest after it",
           id="test", payload_size=0, payload_digest=hashlib.sha256(b"").hexdigest())
    end = len(DIGEST) + len(compact(manifest()))
    accept("empty-at-end", build([b"", DIGEST, compact(manifest())], 2, order=[1, 2, 0], entries={0: (end, 0)}),
           "§4 rule 3, §5 rule 10", "an empty stream at the very end of the stream data", payload_size=0)
    reject("manifest-not-json", build([PAYLOAD, DIGEST, b"not json"], 2), "§5 rule 13", "the manifest is not JSON")
    reject("manifest-unknown-scheme", build(plain(manifest(enc="rot13")), 2), "§5 rule 13, §6.3 rule 3",
           "an unknown encryption scheme")
    reject("manifest-empty", build([PAYLOAD, DIGEST, b""], 2), "§5 rule 13", "an empty manifest stream")
    accept("manifest-json", ok, "§5 rule 13", "a valid manifest", name="Unknown", vendor="Unknown")
    reject("inconsistent-digest", build([PAYLOAD, DIGEST[:31], compact(manifest())], 2), "§5 rule 14, §7 rule 3",
           "a 31-byte payload digest")
    reject("inconsistent-range", build(plain(manifest(data=5)), 2), "§5 rule 14, §7 rule 1", "payload.data is 5 of 3")
    accept("consistent", ok, "§5 rule 14", "manifest and streams agree", id="test")
    # §4: what a reader allows
    accept("reverse-order", build(plain(), 2, order=[2, 1, 0]), "§4 rule 1", "streams stored in reverse order",
           id="test", streams=3, payload_size=6, payload_digest=digest)
    accept("padding", build(plain(), 2, padding=5, trailing=b"tail"), "§4 rule 2",
           "filler bytes between streams and after the last", id="test", payload_size=6, payload_digest=digest)
    extra = manifest()
    accept("unreferenced", build(plain(extra) + [b"carried along"], 2), "§4 rule 4", "a fourth stream nothing refers to",
           id="test", streams=4)
    ref = reference_manifest()
    streams = [b"\x00" * 6, bytes(range(12)), bytes(range(16)), DIGEST, b"\x5A" * 256, CERT, compact(ref)]
    accept("reference", build(streams, 6), "§5 rule 14, §7 rule 3", "the reference 7-stream layout (filler crypto bytes)",
           id="test", streams=7, payload_size=6, payload_digest=digest, key_check="null")
    # §4.1: the key check stream, under the class key 00 01 .. 1f
    value = hmac.new(bytes(range(32)), b"cpk class key check value v1", "sha256").digest()[:8]
    kcv = b"cpk-kcv1" + value
    accept("key-check", build(streams + [kcv], 6), "§4.1 rule 3, §4.1 rule 1, §4.1 rule 2",
           "the reference layout and a key check stream after the manifest", streams=8, key_check=value.hex())
    accept("key-check-two", build(streams + [kcv, kcv], 6), "§4.1 rule 3", "two key check streams: none is taken",
           streams=9, key_check="null")
    accept("key-check-long", build(streams + [kcv + b"\x00"], 6), "§4.1 rule 3",
           "a 17-byte stream that starts like one is not a key check stream", streams=8, key_check="null")
    named = manifest()
    accept("key-check-named", build(plain(named, payload=kcv), 2), "§4.1 rule 3",
           "the payload, named by the manifest, is never a key check stream even with that content",
           payload_size=16, key_check="null")


# --- envelopes --------------------------------------------------------------------------------

def header(doc=None, streams=None, payload_size=None, manifest_stream=2, log=None, **extra) -> dict:
    h = {
        "cpk-envelope": 1,
        "manifest": manifest() if doc is None else doc,
        "manifest-stream": manifest_stream,
        "streams": ["payload", {"deferred": 32}, "manifest"] if streams is None else streams,
        "payload-size": payload_size,
        "log": [{"tool": "cpk-pack", "action": "packed test", "time": DATE}] if log is None else log,
    }
    h.update(extra)
    return h


def trailer(size=6, streams=None) -> dict:
    return {"payload-size": size, "streams": {1: DIGEST} if streams is None else streams}


def tagged(value) -> bytes:
    return cbor2.dumps(cbor2.CBORTag(55799, value))


def seq(*items) -> bytes:
    """A CBOR sequence: bytes items are taken as they are, others are encoded."""
    return b"".join(i if isinstance(i, bytes) else cbor2.dumps(i) for i in items)


def chunk(data: bytes) -> bytes:
    return cbor2.dumps(data)


def envelope_vectors():
    def accept(name, data, cite, why, /, **fields):
        emit("envelope", name, data, "accept", cite, why, format="envelope", **fields)

    def reject(name, data, cite, why):
        emit("envelope", name, data, "reject", cite, why)

    digest = DIGEST.hex()
    ok = seq(tagged(header()), chunk(PAYLOAD), trailer())
    accept("pack-pipe", ok, "§2 rule 1, §3.1 rule 1, §3.1 rule 2, §3.1 rule 3, §3.1 rule 4, §3.3 rule 1", "cpk-pack from a pipe: size unknown, digest deferred",
           id="test", streams=3, payload_size=6, payload_digest=digest)
    accept("pack-file", seq(tagged(header(payload_size=6)), chunk(PAYLOAD), trailer()), "§5 rule 3",
           "header payload-size equals the chunks", id="test", payload_size=6)
    reject("not-envelope", b"{\"cpk-envelope\":1}", "§2 rule 1", "neither D9 D9 F7 nor the frame magic")
    reject("json-array", b"[1]", "§2 rule 1", "a JSON text")
    # §3.2 chunks
    accept("chunks-three", seq(tagged(header()), chunk(b"he"), chunk(b"l"), chunk(b"lo\n"), trailer()), "§3.2 rule 1",
           "three chunks of any size concatenate", payload_size=6, payload_digest=digest)
    reject("chunk-empty", seq(tagged(header()), chunk(b""), chunk(PAYLOAD), trailer()), "§3.2 rule 2", "an empty chunk")
    empty = seq(tagged(header(payload_size=0)), trailer(0, {1: hashlib.sha256(b"").digest()}))
    accept("payload-empty", empty, "§3.2 rule 1", "an empty payload has no chunks", payload_size=0)
    reject("chunk-too-large", seq(tagged(header()), b"\x5A\x01\x00\x00\x01" + b"\x00" * 16), "§3.2 rule 2, §6 rule 6",
           "a chunk announcing 16 MiB + 1 bytes")
    # §3.3 trailer
    reject("trailer-missing", seq(tagged(header()), chunk(PAYLOAD)), "§3.3 rule 1, §6 rule 7", "input ends before the trailer")
    reject("trailer-size-short", seq(tagged(header()), chunk(PAYLOAD), trailer(5)), "§5 rule 4",
           "the trailer says 5 payload bytes, the chunks hold 6")
    reject("trailer-size-missing", seq(tagged(header()), chunk(PAYLOAD), {"streams": {1: DIGEST}}), "§3.3 rule 1",
           "the trailer lacks payload-size")
    reject("trailer-unknown-key", seq(tagged(header()), chunk(PAYLOAD), {**trailer(), "extra": 0}), "§6 rule 10",
           "an unknown trailer key")
    finished = header(payload_size=6, streams=["payload", DIGEST, "manifest"])
    accept("finished", seq(tagged(finished), chunk(PAYLOAD), trailer(6, {})), "§3.3 rule 2",
           "every stream in the header, an empty trailer map", payload_size=6, payload_digest=digest)
    # §3.1 header
    def reorder(h):
        return {k: h[k] for k in reversed(list(h))}
    accept("header-key-order", seq(tagged(reorder(header())), chunk(PAYLOAD), {"streams": {1: DIGEST}, "payload-size": 6}),
           "§3.1 rule 1", "header and trailer keys in reverse order", id="test", payload_size=6)
    h = header(); del h["log"]
    reject("header-missing-log", seq(tagged(h), chunk(PAYLOAD), trailer()), "§3.1 rule 1, §6 rule 10", "the header lacks log")
    reject("header-unknown-key", seq(tagged(header(extra=1)), chunk(PAYLOAD), trailer()), "§3.1 rule 1, §6 rule 10",
           "an unknown header key")
    reject("header-one-stream", seq(tagged(header(streams=["payload"], manifest_stream=0,
                                                  doc=manifest(dig="none")))), "§3.1 rule 2",
           "a streams array of one entry")
    reject("deferred-too-large", seq(tagged(header(streams=["payload", {"deferred": 16777217}, "manifest"])),
                                     chunk(PAYLOAD), trailer()), "§3.1 rule 3", "a deferred stream above 16 MiB")
    reject("deferred-extra-key", seq(tagged(header(streams=["payload", {"deferred": 32, "x": 1}, "manifest"])),
                                     chunk(PAYLOAD), trailer()), "§6 rule 10", "a deferred entry with a second key")
    reject("log-missing-time", seq(tagged(header(log=[{"tool": "t", "action": "a"}])), chunk(PAYLOAD), trailer()),
           "§6 rule 10", "a log entry without time")
    accept("log-empty", seq(tagged(header(log=[])), chunk(PAYLOAD), trailer()), "§3.1 rule 1", "an empty log", id="test")
    reject("stream-entry-unknown", seq(tagged(header(streams=["payload", "digest", "manifest"])), chunk(PAYLOAD),
                                       trailer(6, {})), "§3.1 rule 4", 'an unknown stream entry "digest"')
    # pending signatures
    sig = manifest(sig={"ed25519": {"data": 2}})
    sig["package"]["map"] = [0, 1, 2, 3]
    pending = header(doc=sig, streams=["payload", {"deferred": 32}, b"\x00" * 64, "manifest"], manifest_stream=3,
                     **{"pending-signatures": [2]})
    accept("pending-signature", seq(tagged(pending), chunk(PAYLOAD), trailer()), "§5 rule 8, §3.1 rule 5",
           "a payload signature awaited offline", id="test", streams=4, pending_signatures="2")
    bad = dict(pending, **{"pending-signatures": [1]})
    reject("pending-not-signature", seq(tagged(bad), chunk(PAYLOAD), trailer()), "§5 rule 8",
           "the pending stream is the digest, not a signature")
    bad = dict(pending, **{"pending-signatures": []})
    reject("pending-empty", seq(tagged(bad), chunk(PAYLOAD), trailer()), "§3.1 rule 5", "an empty pending-signatures")
    # §5 constraints
    reject("payload-marker-missing", seq(tagged(header(streams=[b"x", {"deferred": 32}, "manifest"])), chunk(PAYLOAD),
                                         trailer()), "§5 rule 1", 'no "payload" entry at manifest.payload.data')
    reject("payload-marker-twice", seq(tagged(header(streams=["payload", {"deferred": 32}, "manifest", "payload"],
                                                     doc=dict(manifest(), package={**manifest()["package"], "map": [0, 1, 2, 3]}))),
                                       chunk(PAYLOAD), trailer()), "§5 rule 1", 'a second "payload" entry')
    reject("manifest-marker-wrong", seq(tagged(header(manifest_stream=1)), chunk(PAYLOAD), trailer()), "§5 rule 1",
           'manifest-stream 1, but the "manifest" entry is at 2')
    reject("deferred-digest-size", seq(tagged(header(streams=["payload", {"deferred": 31}, "manifest"])), chunk(PAYLOAD),
                                       trailer(6, {1: DIGEST[:31]})), "§5 rule 2, format §7 rule 3",
           "the digest announced as 31 bytes")
    reject("manifest-unknown-scheme", seq(tagged(header(doc=manifest(enc="rot13"))), chunk(PAYLOAD), trailer()),
           "§5 rule 2, §6 rule 10", "an unknown scheme in the manifest")
    reject("header-size-mismatch", seq(tagged(header(payload_size=5)), chunk(PAYLOAD), trailer()), "§5 rule 3",
           "the header announces 5 payload bytes, the chunks hold 6")
    reject("trailer-stream-missing", seq(tagged(header()), chunk(PAYLOAD), trailer(6, {})), "§5 rule 5, §3.3 rule 2",
           "the deferred digest is not in the trailer")
    reject("trailer-stream-extra", seq(tagged(header()), chunk(PAYLOAD), trailer(6, {1: DIGEST, 0: b"x"})), "§5 rule 5",
           "the trailer carries stream 0, which is not deferred")
    reject("trailer-stream-size", seq(tagged(header()), chunk(PAYLOAD), trailer(6, {1: DIGEST + b"\x00"})), "§5 rule 5",
           "the deferred digest is 33 bytes, 32 announced")
    # a repeated key cannot be made by cbor2 from a dict: splice the bytes
    t = cbor2.dumps(trailer())
    dup_trailer = b"\xA3" + t[1:] + cbor2.dumps("payload-size") + cbor2.dumps(6)
    reject("trailer-duplicate-key", seq(tagged(header()), chunk(PAYLOAD), dup_trailer), "§5 rule 6, §6 rule 10",
           "payload-size twice in the trailer")
    dup_streams = cbor2.dumps({"payload-size": 6}).replace(b"\xA1", b"\xA2", 1) + cbor2.dumps("streams") + \
        b"\xA2" + cbor2.dumps(1) + cbor2.dumps(DIGEST) + cbor2.dumps(1) + cbor2.dumps(DIGEST)
    reject("trailer-stream-twice", seq(tagged(header()), chunk(PAYLOAD), dup_streams), "§5 rule 5, §5 rule 6",
           "stream 1 twice in the trailer")
    reject("after-trailer", ok + chunk(b"x"), "§5 rule 7", "a chunk after the trailer")
    reject("after-trailer-byte", ok + b"\x00", "§5 rule 7", "a byte after the trailer")
    # §6 encoding
    h = cbor2.dumps(header())
    assert h[0] == 0xA6
    reject("indefinite-map", seq(b"\xD9\xD9\xF7\xBF" + h[1:] + b"\xFF", chunk(PAYLOAD), trailer()), "§6 rule 2",
           "the header map has indefinite length")
    reject("indefinite-chunk", seq(tagged(header()), b"\x5F\x43hel\x43lo\n\xFF", trailer()), "§6 rule 2",
           "a chunk of indefinite length")
    reject("undefined", seq(tagged(header(payload_size=cbor2.undefined)), chunk(PAYLOAD), trailer()), "§6 rule 3",
           "payload-size is undefined")
    reject("float", seq(tagged(header(payload_size=6.0)), chunk(PAYLOAD), trailer()), "§6 rule 3",
           "payload-size is a float")
    reject("simple-value", seq(tagged(header(payload_size=cbor2.CBORSimpleValue(99))), chunk(PAYLOAD), trailer()),
           "§6 rule 3", "payload-size is simple value 99")
    deep = header()
    deep["log"] = [{"tool": "t", "action": "a", "time": json.loads("[" * 20 + "]" * 20)}]
    reject("too-deep", seq(tagged(deep), chunk(PAYLOAD), trailer()), "§6 rule 4", "nesting of 24 levels")
    reject("huge-count", b"\xD9\xD9\xF7\xBB\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", "§6 rule 5",
           "a map declaring 2^64-1 pairs")
    reject("huge-array", seq(tagged(header()), b"\x9B\x00\x00\x00\x01\x00\x00\x00\x00"), "§6 rule 5",
           "an item declaring 2^32 elements")
    reject("truncated-header", ok[:100], "§6 rule 7", "input ends inside the header")
    reject("truncated-chunk", seq(tagged(header()), chunk(PAYLOAD))[:-2], "§6 rule 7", "input ends inside a chunk")
    reject("bad-utf8", tagged(header()).replace(b"cpk-pack", b"cpk-pa\xffk", 1) + chunk(PAYLOAD) + cbor2.dumps(trailer()),
           "§6 rule 1", "a text string of invalid UTF-8")
    # §6 structure
    reject("untagged", seq(header(), chunk(PAYLOAD), trailer()), "§6 rule 8, §2 rule 1", "the header map has no tag")
    reject("tag-other", seq(b"\xD9\xD9\xF7" + cbor2.dumps(cbor2.CBORTag(24, header())), chunk(PAYLOAD), trailer()),
           "§6 rule 8", "tag 55799 around another tag")
    reject("tag-doubled", seq(b"\xD9\xD9\xF7" + tagged(header()), chunk(PAYLOAD), trailer()), "§6 rule 8",
           "tag 55799 twice")
    reject("tag-not-map", seq(tagged([1, 2]), chunk(PAYLOAD), trailer()), "§6 rule 8", "the tagged item is an array")
    reject("version-2", seq(tagged(header(**{"cpk-envelope": 2})), chunk(PAYLOAD), trailer()), "§7 rule 1",
           "envelope version 2")
    reject("version-0", seq(tagged(header(**{"cpk-envelope": 0})), chunk(PAYLOAD), trailer()), "§7 rule 1",
           "envelope version 0")
    reject("version-text", seq(tagged(header(**{"cpk-envelope": "1"})), chunk(PAYLOAD), trailer()), "§6 rule 9",
           "the version is a text string")
    accept("version-1", ok, "§7 rule 1, §6 rule 8, §6 rule 9, §6 rule 10, §6 rule 11", "envelope version 1", id="test")
    int_key = cbor2.dumps({**header(), 7: 1})
    reject("header-int-key", seq(b"\xD9\xD9\xF7" + int_key, chunk(PAYLOAD), trailer()), "§6 rule 10",
           "a header key that is not text")
    reject("type-manifest-stream", seq(tagged(header(manifest_stream="2")), chunk(PAYLOAD), trailer()), "§6 rule 11",
           "manifest-stream is a text string")
    reject("item-text", seq(tagged(header()), "hello", trailer()), "§6 rule 12, §3.2 rule 1", "a text string after the header")
    reject("item-array", seq(tagged(header()), [PAYLOAD], trailer()), "§6 rule 12", "an array after the header")
    accept("constraints", ok, "§5 rule 1, §5 rule 2, §5 rule 4, §5 rule 5, §5 rule 6, §5 rule 7",
           "markers, sizes and deferred streams agree; nothing follows", payload_size=6)
    accept("items", ok, "§6 rule 12, §3.2 rule 2", "chunks are byte strings, the trailer a map", payload_size=6)
    accept("encoding", ok, "§6 rule 1, §6 rule 2, §6 rule 3, §6 rule 4, §6 rule 5, §6 rule 6, §6 rule 7",
           "definite lengths, no floats, shallow, complete", id="test")
    accept("reference", seq(tagged(header(doc=reference_manifest(), manifest_stream=6,
                                          streams=["payload", bytes(range(12)), {"deferred": 16}, {"deferred": 32},
                                                   {"deferred": 256}, CERT, "manifest"])),
                            chunk(b"\x00" * 6), trailer(6, {2: bytes(range(16)), 3: DIGEST, 4: b"\x5A" * 256})),
           "§5 rule 2, §5 rule 5", "the reference layout with tag, digest and signature deferred",
           id="test", streams=7, payload_size=6, payload_digest=digest)


def main():
    for kind in ("format", "envelope", "manifest"):
        shutil.rmtree(HERE / kind, ignore_errors=True)
    manifest_vectors()
    format_vectors()
    envelope_vectors()
    # coverage: per document section and rule, how many accept and reject vectors cite it
    coverage: dict[tuple[str, str], list[int]] = {}
    import re
    for path, line in written:
        kind = path.split("/")[0]
        verdict, _, rest = line.partition(" ")
        cites = line.split(" ; ", 1)[1].split(": ", 1)[0]
        for cite in cites.split(", "):
            doc = "envelope" if kind == "envelope" and not cite.startswith("format ") else "format"
            cite = cite.removeprefix("format ")
            assert re.fullmatch(r"§\d+(\.\d+)? rule \d+", cite), (path, cite)
            counts = coverage.setdefault((doc, cite), [0, 0])
            counts[0 if verdict == "accept" else 1] += 1
    key = lambda item: (item[0][0], [int(x) for x in re.findall(r"\d+", item[0][1])])
    for (doc, cite), (a, r) in sorted(coverage.items(), key=key):
        print(f"{doc}.md {cite}: {a} accept, {r} reject")
    print(f"{len(written)} vectors", file=sys.stderr)


if __name__ == "__main__":
    main()
