"""Hostile and unusual input: every malformed package or envelope is refused cleanly.

A clean refusal: exit status 1 (invalid input), exactly one line on stderr naming the problem,
no crash or signal, no output file and no stray temporary file; a named output that existed
before is left untouched. Valid packages from "another writer" (other stream order, padding,
unreferenced streams) are read.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from dataclasses import dataclass
from typing import Callable

import cbor2
import pytest

import cpk
from cpk import build_cpk, check, compact, manifest, run, sh

PAYLOAD = bytes(range(256)) * 4 + b"tail"  # 1028 bytes
DIGEST = hashlib.sha256(PAYLOAD).digest()
MiB = 1 << 20


# --- building blocks ----------------------------------------------------------------------------

def streams(document: dict | None = None, payload: bytes = PAYLOAD, digest: bytes | None = None) -> list[bytes]:
    document = manifest() if document is None else document
    return [payload, hashlib.sha256(payload).digest() if digest is None else digest, compact(document)]


def pkg(document: dict | None = None, **layout) -> bytes:
    return build_cpk(streams(document), 2, **layout)


def with_manifest(mutate: Callable[[dict], object], *, extra: list[bytes] = (), **layout) -> bytes:
    document = manifest()
    mutate(document)
    return build_cpk(streams(document) + list(extra), 2, **layout)


def set_path(path: str, value):
    """A mutator that sets a dotted path of the manifest (or deletes it when value is DELETE)."""
    keys = path.split(".")

    def mutate(document):
        node = document
        for key in keys[:-1]:
            node = node[key]
        if value is DELETE:
            del node[keys[-1]]
        else:
            node[keys[-1]] = value
    return mutate


DELETE = object()


def patch(data: bytes, offset: int, replacement: bytes) -> bytes:
    return data[:offset] + replacement + data[offset + len(replacement):]


def header_field(data: bytes, offset: int, value: int) -> bytes:
    return patch(data, offset, value.to_bytes(2, "little"))


MANIFEST_SIZE = len(compact(manifest()))


@dataclass
class Case:
    id: str
    make: Callable[["Context"], bytes]
    needle: str | list[str]
    xfail: str | None = None

    def param(self):
        marks = [pytest.mark.xfail(reason=self.xfail, strict=True)] if self.xfail else []
        return pytest.param(self, id=self.id, marks=marks)


@dataclass
class Context:
    """A tool-made envelope (SOURCE_DATE_EPOCH=0) split into items, for envelope cases."""
    payload: bytes
    envelope: bytes
    items: list[cpk.Item]

    @property
    def header_end(self) -> int:
        return self.items[0].end

    @property
    def trailer(self) -> cpk.Item:
        return self.items[-1]

    @property
    def chunks(self) -> list[cpk.Item]:
        return self.items[1:-1]

    def header_value(self) -> dict:
        return cpk.plain(self.items[0].value)

    def trailer_value(self) -> dict:
        return cpk.plain(self.trailer.value)

    def with_header(self, mutate: Callable[[dict], object] | None = None, raw: bytes | None = None) -> bytes:
        """The envelope with its header re-encoded (after `mutate`) or replaced by `raw`."""
        if raw is None:
            header = self.header_value()
            if mutate:
                mutate(header)
            raw = cbor2.dumps(cbor2.CBORTag(cpk.SELF_DESCRIBE, header))
        return raw + self.envelope[self.header_end:]

    def with_trailer(self, mutate: Callable[[dict], object] | None = None, raw: bytes | None = None) -> bytes:
        if raw is None:
            trailer = self.trailer_value()
            if mutate:
                mutate(trailer)
            raw = cbor2.dumps(trailer)
        return self.envelope[:self.trailer.start] + raw


@pytest.fixture(scope="session")
def ctx(tmp_path_factory) -> Context:
    directory = tmp_path_factory.mktemp("base")
    payload = bytes((i * 7 + 3) % 251 for i in range(MiB + MiB // 2))  # two chunks
    (directory / "payload.bin").write_bytes(payload)
    envelope = check(run("cpk-pack", "--id", "test", "payload.bin", cwd=directory,
                         env=cpk.env_with(SOURCE_DATE_EPOCH="0"))).stdout
    items = cpk.envelope_items(envelope)
    assert len(items) == 4, "expected header, two chunks, trailer"
    return Context(payload, envelope, items)


def assert_rejected(proc, needle, directory, before: set[str], code: int = 1):
    cpk.assert_clean_failure(proc, needle, code=code)
    assert cpk.listing(directory) == before, "an output or temporary file was left behind"


# --- how hostile input reaches the tools -----------------------------------------------------------

def via_file_argument(directory):
    return run("cpk-unpack", "payload", "-o", "out", "bad", cwd=directory)


def via_shell_pipe(directory):
    return sh("cat bad | cpk-pack finish -o out.cpk", cwd=directory)


def via_redirected_stdin(directory):
    with open(directory / "bad", "rb") as stdin:
        return run("cpk-unpack", "list", "-", stdin=stdin, cwd=directory)


def via_python_pipe_manifest(directory):
    return run("cpk-unpack", "manifest", input=(directory / "bad").read_bytes(), cwd=directory)


RUNNERS = {
    "file-arg-payload": via_file_argument,
    "pipe-finish": via_shell_pipe,
    "redirect-list": via_redirected_stdin,
    "pipe-manifest": via_python_pipe_manifest,
}


def check_case(case: Case, runner, ctx: Context, directory):
    (directory / "bad").write_bytes(case.make(ctx))
    before = cpk.listing(directory)
    proc = RUNNERS[runner](directory)
    assert_rejected(proc, case.needle, directory, before)
    assert proc.stdout == b""


# --- hostile .cpk files --------------------------------------------------------------------------

CPK_CASES = [
    Case("empty-file", lambda c: b"", "empty"),
    Case("truncated-header-10", lambda c: pkg()[:10], "too short"),
    Case("header-only", lambda c: pkg()[:16], "stream table truncated"),
    Case("table-cut", lambda c: pkg()[:40], "stream table truncated"),
    Case("wrong-magic", lambda c: patch(pkg(), 0, b"\x0D\xF0\xCC\x0F"), ["neither an envelope", "0D F0 CC 0E"]),
    Case("zip-file", lambda c: b"PK\x03\x04" + bytes(100), ["neither an envelope", "0D F0 CC 0E"]),
    Case("frame-version-2", lambda c: pkg(version=2), "frame version 2"),
    Case("frame-version-0", lambda c: pkg(version=0), "frame version 0"),
    Case("nonzero-flags", lambda c: pkg(flags=1), "flags"),
    Case("manifest-type-2", lambda c: pkg(manifest_type=2), "manifest type 2"),
    Case("manifest-version-2", lambda c: pkg(manifest_version=2), "manifest version 2"),
    Case("stream-count-0", lambda c: pkg(count=0), "0 stream"),
    Case("stream-count-1", lambda c: pkg(count=1), "1 stream"),
    Case("manifest-index-3", lambda c: header_field(pkg(), 10, 3), "manifest stream index 3"),
    Case("manifest-index-65535", lambda c: header_field(pkg(), 10, 65535), "manifest stream index 65535"),
    Case("65535-streams-short-file", lambda c: pkg(count=65535), "stream table truncated"),
    Case("stream-beyond-end", lambda c: pkg(entries={2: (1028 + 32, MANIFEST_SIZE + 1)}), "beyond the end"),
    Case("file-cut-short", lambda c: pkg()[:-1], "beyond the end"),
    Case("payload-beyond-end", lambda c: pkg(entries={0: (0, 1 << 40)}), "beyond the end"),
    Case("offset-overflow", lambda c: pkg(entries={1: (2**64 - 1, 32)}), "overflow"),
    Case("size-overflow", lambda c: pkg(entries={0: (16, 2**64 - 1)}), "overflow"),
    Case("overlapping-streams", lambda c: pkg(entries={1: (1000, 32)}), "overlap"),
    Case("manifest-overlaps-payload", lambda c: pkg(entries={2: (500, MANIFEST_SIZE)}), "overlap"),
    Case("manifest-not-json", lambda c: build_cpk(streams()[:2] + [b"this is not JSON"], 2), "not valid JSON"),
    Case("manifest-empty", lambda c: build_cpk(streams()[:2] + [b""], 2), "not valid JSON"),
    Case("manifest-json-array", lambda c: build_cpk(streams()[:2] + [b"[0,1,2]"], 2), "JSON object"),
    Case("manifest-trailing-garbage", lambda c: build_cpk(streams()[:2] + [compact(manifest()) + b"}"], 2),
         "not valid JSON"),
    Case("manifest-nested-deeply", lambda c: build_cpk(streams()[:2] + [b"[" * 100000 + b"]" * 100000], 2),
         "nested too deeply"),
    Case("manifest-duplicate-key",
         lambda c: build_cpk(streams()[:2] + [compact(manifest()).replace(b'{"cp-id":"test"', b'{"cp-id":"test","cp-id":"evil"')], 2),
         "duplicate"),
    Case("manifest-invalid-utf8",
         lambda c: build_cpk(streams()[:2] + [compact(manifest()).replace(b'"test"', b'"te\xffst"')], 2), "UTF-8"),
    Case("manifest-over-limit", lambda c: build_cpk(streams()[:2] + [compact(manifest()) + b" " * MiB], 2), "limit"),
    Case("manifest-missing-cp-id", lambda c: with_manifest(set_path("cp-id", DELETE)), '"cp-id"'),
    Case("manifest-missing-ver", lambda c: with_manifest(set_path("payload.ver", DELETE)), '"ver"'),
    Case("manifest-missing-package", lambda c: with_manifest(set_path("package", DELETE)), '"package"'),
    Case("manifest-unknown-key", lambda c: with_manifest(set_path("payload.extra", 1)), '"extra"'),
    Case("manifest-cp-id-number", lambda c: with_manifest(set_path("cp-id", 7)), "cp-id must be a string"),
    Case("payload-data-9", lambda c: with_manifest(set_path("payload.data", 9)), "stream 9"),
    Case("payload-data-float", lambda c: with_manifest(set_path("payload.data", 0.0)), "whole number"),
    Case("payload-data-negative", lambda c: with_manifest(set_path("payload.data", -1)), "outside"),
    Case("payload-data-huge", lambda c: with_manifest(set_path("payload.data", 2**70)), "whole number"),
    Case("payload-is-manifest", lambda c: with_manifest(set_path("payload.data", 2)), "two roles"),
    Case("digest-is-payload", lambda c: with_manifest(set_path("payload.dig", {"sha256": {"data": 0}})), "two roles"),
    Case("enc-chacha", lambda c: with_manifest(set_path("payload.enc", "chacha")), 'unknown scheme "chacha"'),
    Case("enc-chacha-object",
         lambda c: with_manifest(set_path("payload.enc", {"chacha20-poly1305": {"key_name": "k", "nonce": 3}})),
         'unknown scheme "chacha20-poly1305"'),
    Case("dig-md5", lambda c: with_manifest(set_path("payload.dig", {"md5": {"data": 1}})), 'unknown scheme "md5"'),
    Case("sig-rsa-pss-xyz",
         lambda c: with_manifest(set_path("payload.sig", {"rsa-pss-xyz": {"key_strength": 2048, "data": 3}}),
                                 extra=[bytes(256)]),
         'unknown scheme "rsa-pss-xyz"'),
    Case("cert-unknown", lambda c: with_manifest(set_path("payload.cert", {"x509-magic": {"data": 3}})),
         'unknown scheme "x509-magic"'),
    Case("package-dig-sha3", lambda c: with_manifest(set_path("package.dig", {"sha3-256": {"data": 3}})),
         'unknown scheme "sha3-256"'),
    Case("scheme-two-variants",
         lambda c: with_manifest(set_path("payload.dig", {"sha256": {"data": 1}, "md5": {"data": 1}})),
         "one scheme"),
    Case("aes-gcm-128",
         lambda c: with_manifest(set_path("payload.enc", {"aes-gcm": {"key_name": "k", "key_strength": 128, "nonce": 3, "tag": 4}}),
                                 extra=[bytes(12), bytes(16)]),
         "only 256"),
    Case("digest-31-bytes", lambda c: build_cpk(streams(digest=DIGEST[:31]), 2), "31 bytes; 32 expected"),
    Case("digest-33-bytes", lambda c: build_cpk(streams(digest=DIGEST + b"\0"), 2), "33 bytes; 32 expected"),
    Case("signature-wrong-size",
         lambda c: with_manifest(set_path("payload.sig", {"rsa-pkcs1v15": {"key_strength": 2048, "data": 3}}),
                                 extra=[bytes(255)]),
         "255 bytes; 256 expected"),
    Case("signature-without-digest",
         lambda c: with_manifest(lambda d: d["payload"].update(
             dig="none", sig={"rsa-pkcs1v15": {"key_strength": 2048, "data": 3}}), extra=[bytes(256)]),
         "no payload digest"),
    Case("map-twice", lambda c: with_manifest(set_path("package.map", [0, 1, 1])), "twice"),
    Case("map-out-of-range", lambda c: with_manifest(set_path("package.map", [0, 1, 2, 7])), "stream 7"),
    Case("map-not-array", lambda c: with_manifest(set_path("package.map", "all")), "package.map"),
]


@pytest.mark.parametrize("runner", RUNNERS.keys())
@pytest.mark.parametrize("case", [c.param() for c in CPK_CASES])
def test_hostile_cpk(case, runner, ctx, workdir):
    check_case(case, runner, ctx, workdir)


# --- hostile envelopes ---------------------------------------------------------------------------

def raw_header_map(ctx: Context, replace: dict[str, bytes], count_head: bytes | None = None) -> bytes:
    """The tagged header with some values given as raw CBOR bytes (for encodings cbor2 will
    not produce, e.g. indefinite lengths or lying counts)."""
    header = ctx.header_value()
    body = b"".join(cbor2.dumps(k) + (replace[k] if k in replace else cbor2.dumps(v)) for k, v in header.items())
    head = count_head if count_head is not None else bytes([0xA0 + len(header)])
    return b"\xD9\xD9\xF7" + head + body


def lying_count(major: int) -> bytes:
    """A CBOR head of the given major type declaring 2**64-1 items."""
    return bytes([(major << 5) | 27]) + b"\xFF" * 8


def envelope_of(header: dict, chunks: list[bytes], trailer: dict) -> bytes:
    return cpk.Envelope(header, chunks, trailer).encode()


ENVELOPE_CASES = [
    # truncation at several points
    Case("cut-inside-tag", lambda c: c.envelope[:5], "truncated"),
    Case("cut-inside-header", lambda c: c.envelope[:c.header_end // 2], "truncated"),
    Case("cut-header-last-byte", lambda c: c.envelope[:c.header_end - 1], "truncated"),
    Case("cut-after-header", lambda c: c.envelope[:c.header_end], "truncated"),
    Case("cut-inside-chunk-head", lambda c: c.envelope[:c.chunks[0].start + 2], "truncated"),
    Case("cut-inside-chunk", lambda c: c.envelope[:c.chunks[0].start + 1000], "truncated"),
    Case("cut-between-chunks", lambda c: c.envelope[:c.chunks[0].end], "truncated"),
    Case("cut-inside-last-chunk", lambda c: c.envelope[:c.chunks[-1].end - 1], "truncated"),
    Case("cut-before-trailer", lambda c: c.envelope[:c.trailer.start], "truncated"),
    Case("cut-inside-trailer", lambda c: c.envelope[:c.trailer.end - 1], "truncated"),
    # items of the wrong type
    Case("text-instead-of-chunk",
         lambda c: c.envelope[:c.header_end] + cbor2.dumps("a chunk") + c.envelope[c.header_end:],
         "expected a payload chunk or the trailer"),
    Case("text-instead-of-trailer", lambda c: c.with_trailer(raw=cbor2.dumps("trailer")),
         "expected a payload chunk or the trailer"),
    Case("integer-instead-of-trailer", lambda c: c.with_trailer(raw=cbor2.dumps(0)),
         "expected a payload chunk or the trailer"),
    Case("array-instead-of-trailer", lambda c: c.with_trailer(raw=cbor2.dumps([1, 2])),
         "expected a payload chunk or the trailer"),
    Case("header-not-tagged", lambda c: c.with_header(raw=cbor2.dumps(c.header_value())),
         ["neither an envelope", "tagged 55799"]),
    Case("header-tagged-array", lambda c: c.with_header(raw=b"\xD9\xD9\xF7" + cbor2.dumps([1])), "map tagged 55799"),
    Case("header-tagged-integer", lambda c: b"\xD9\xD9\xF7\x00", "map tagged 55799"),
    Case("header-tagged-twice",
         lambda c: c.with_header(raw=b"\xD9\xD9\xF7" + cbor2.dumps(cbor2.CBORTag(55799, c.header_value()))),
         "map tagged 55799"),
    Case("header-version-2", lambda c: c.with_header(lambda h: h.update({"cpk-envelope": 2})), "version 2"),
    Case("header-version-text", lambda c: c.with_header(lambda h: h.update({"cpk-envelope": "1"})), "version"),
    Case("header-missing-streams", lambda c: c.with_header(lambda h: h.pop("streams")), '"streams"'),
    Case("header-missing-manifest", lambda c: c.with_header(lambda h: h.pop("manifest")), '"manifest"'),
    Case("header-unknown-key", lambda c: c.with_header(lambda h: h.update({"x-extra": 1})), "unknown"),
    Case("header-integer-key", lambda c: c.with_header(lambda h: h.update({5: 1})), "unknown"),
    Case("header-repeated-key",
         lambda c: raw_header_map(c, {}, count_head=bytes([0xA0 + len(c.header_value()) + 1]))
         + cbor2.dumps("log") + cbor2.dumps([]) + c.envelope[c.header_end:],
         "repeated"),
    Case("header-stream-entry-integer",
         lambda c: c.with_header(lambda h: h.update({"streams": ["payload", 5, "manifest"]})), "must be bytes"),
    Case("header-two-payloads",
         lambda c: c.with_header(lambda h: h.update({"streams": ["payload", "payload", "manifest"]})), "payload"),
    Case("header-manifest-stream-7", lambda c: c.with_header(lambda h: h.update({"manifest-stream": 7})), "manifest"),
    Case("header-deferred-huge",
         lambda c: c.with_header(lambda h: h.update({"streams": ["payload", {"deferred": 2**64 - 1}, "manifest"]})),
         "deferred"),
    Case("header-digest-deferred-31",
         lambda c: c.with_header(lambda h: h.update({"streams": ["payload", {"deferred": 31}, "manifest"]})),
         "31 bytes; 32 expected"),
    Case("header-manifest-unknown-scheme",
         lambda c: c.with_header(lambda h: h["manifest"]["payload"].update(enc="chacha")), 'unknown scheme "chacha"'),
    Case("header-manifest-missing-cp-id", lambda c: c.with_header(lambda h: h["manifest"].pop("cp-id")), '"cp-id"'),
    Case("header-manifest-float", lambda c: c.with_header(lambda h: h["manifest"]["payload"].update(data=float("nan"))),
         "float"),
    Case("header-manifest-tag", lambda c: c.with_header(lambda h: h["manifest"].update({"cp-name": cbor2.CBORTag(0, "x")})),
         "tag 0"),
    Case("header-nested-deeply", lambda c: c.with_header(lambda h: h.update({"log": eval("[" * 40 + "]" * 40)})),
         "nested too deeply"),
    Case("header-invalid-utf8", lambda c: c.with_header(raw=b"\xD9\xD9\xF7\xA1\x62\xFF\xFE\x01"), "UTF-8"),
    Case("header-undefined", lambda c: c.with_header(raw=b"\xD9\xD9\xF7\xA1\x61a\xF7"), "undefined"),
    Case("payload-size-too-small", lambda c: c.with_header(lambda h: h.update({"payload-size": 10})), "longer than"),
    Case("payload-size-too-large", lambda c: c.with_header(lambda h: h.update({"payload-size": len(c.payload) + 1})),
         "announced"),
    Case("payload-size-text", lambda c: c.with_header(lambda h: h.update({"payload-size": "big"})), "payload-size"),
    Case("empty-chunk",
         lambda c: c.envelope[:c.header_end] + b"\x40" + c.envelope[c.header_end:], "empty payload chunk"),
    Case("trailer-missing-digest", lambda c: c.with_trailer(lambda t: t.update(streams={})), "differ"),
    Case("trailer-extra-stream", lambda c: c.with_trailer(lambda t: t["streams"].update({5: b"x"})), "differ"),
    Case("trailer-digest-31", lambda c: c.with_trailer(lambda t: t["streams"].update({1: bytes(31)})),
         "announced size"),
    Case("trailer-digest-text", lambda c: c.with_trailer(lambda t: t["streams"].update({1: "digest"})),
         "stream indexes to bytes"),
    Case("trailer-wrong-payload-size", lambda c: c.with_trailer(lambda t: t.update({"payload-size": 5})),
         "trailer counts"),
    Case("trailer-unknown-key", lambda c: c.with_trailer(lambda t: t.update({"x": 1})), "unknown"),
    Case("data-after-trailer", lambda c: c.envelope + cbor2.dumps(0), "after the trailer"),
    Case("envelope-twice", lambda c: c.envelope + c.envelope, "after the trailer"),
    Case("reserved-byte-after-trailer", lambda c: c.envelope + b"\x1C", "malformed"),
    # indefinite lengths
    Case("indefinite-chunk",
         lambda c: c.envelope[:c.header_end] + b"\x5F\x41a\xFF" + c.envelope[c.header_end:], "indefinite"),
    Case("indefinite-header-map", lambda c: b"\xD9\xD9\xF7\xBF\x61a\x01\xFF", "indefinite"),
    Case("indefinite-streams-array",
         lambda c: raw_header_map(c, {"streams": b"\x9F" + b"".join(cbor2.dumps(s) for s in c.header_value()["streams"]) + b"\xFF"})
         + c.envelope[c.header_end:],
         "indefinite"),
    Case("indefinite-text",
         lambda c: raw_header_map(c, {"log": b"\x81\xA3" + cbor2.dumps("tool") + b"\x7F\x61a\xFF"
                                      + cbor2.dumps("action") + cbor2.dumps("y") + cbor2.dumps("time") + cbor2.dumps("z")})
         + c.envelope[c.header_end:],
         "indefinite"),
    # declared sizes far beyond the input
    Case("chunk-declares-2**40",
         lambda c: c.envelope[:c.header_end] + b"\x5B" + (2**40).to_bytes(8, "big") + b"x" * 100, ["limit", "truncated"]),
    Case("chunk-declares-4GiB",
         lambda c: c.envelope[:c.header_end] + b"\x5A" + (2**32 - 1).to_bytes(4, "big") + b"x" * 100, ["limit", "truncated"]),
    Case("chunk-declares-16MiB",
         lambda c: c.envelope[:c.header_end] + b"\x5A" + (16 * MiB).to_bytes(4, "big") + b"x" * 100,
         # a pass-through step reads only the chunk's head and refuses it at once
         ["limit", "truncated", "longer than the"]),
    Case("header-array-declares-2**40", lambda c: b"\xD9\xD9\xF7\x9B" + (2**40).to_bytes(8, "big") + b"\x01" * 100,
         ["limit", "truncated"]),
    Case("header-text-declares-2**40", lambda c: b"\xD9\xD9\xF7\xA1\x7B" + (2**40).to_bytes(8, "big") + b"a" * 100,
         ["limit", "truncated"]),
    Case("header-map-declares-2**63", lambda c: b"\xD9\xD9\xF7\xBB" + (2**63).to_bytes(8, "big") + b"\x61a" * 10,
         ["declares", "limit", "truncated"]),
    # a count of 2**64-1 reaches Swift as -1 through size_t -> Int (once a crash, now rejected)
    Case("header-map-declares-2**64-1", lambda c: b"\xD9\xD9\xF7" + lying_count(5) + b"\x61a",
         ["declares", "limit", "truncated"]),
    Case("log-array-declares-2**64-1",
         lambda c: raw_header_map(c, {"log": lying_count(4) + cbor2.dumps({"tool": "x", "action": "y", "time": "z"})})
         + c.envelope[c.header_end:],
         ["declares", "limit", "truncated"]),
]


@pytest.mark.parametrize("runner", RUNNERS.keys())
@pytest.mark.parametrize("case", [c.param() for c in ENVELOPE_CASES])
def test_hostile_envelope(case, runner, ctx, workdir):
    check_case(case, runner, ctx, workdir)


def test_python_envelope_split_matches_tool_envelope(ctx):
    """The envelope cases edit the tool's own envelope: make sure the split is faithful."""
    assert ctx.items[0].start == 0 and ctx.trailer.end == len(ctx.envelope)
    assert b"".join(i.value for i in ctx.chunks) == ctx.payload
    assert ctx.with_header() == ctx.envelope  # re-encoding the header with cbor2 is byte-exact
    assert ctx.with_trailer() == ctx.envelope


def test_map_count_message_is_not_negative(workdir):
    (workdir / "bad").write_bytes(b"\xD9\xD9\xF7\xBB" + (2**63).to_bytes(8, "big") + b"\x61a" * 10)
    proc = run("cpk-unpack", "info", "bad", cwd=workdir)
    err = cpk.assert_clean_failure(proc, ["declares", "limit", "truncated"])
    assert "-9223372036854775808" not in err, err


# --- resources: declared lengths cost neither time nor memory --------------------------------------

def run_measured(args, stdin_path, cwd, timeout: float = 20):
    """Runs a process and returns (exit status, stderr, peak RSS in KiB, seconds)."""
    try:
        status, stderr, seconds, rss = cpk.run_with_rusage(args, stdin_path, cwd, timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{args} did not finish within {timeout}s")
    return status, stderr, rss, seconds


@pytest.mark.parametrize("declared", [2**40, 2**32 - 1, 2**62], ids=["2**40", "4GiB", "2**62"])
@pytest.mark.parametrize("where", ["chunk", "header-text"])
def test_huge_declared_length_is_cheap(ctx, workdir, declared, where):
    if where == "chunk":
        data = ctx.envelope[:ctx.header_end] + b"\x5B" + declared.to_bytes(8, "big") + b"x" * 1000
    else:
        data = b"\xD9\xD9\xF7\xA1\x7B" + declared.to_bytes(8, "big") + b"a" * 1000
    (workdir / "bad").write_bytes(data)
    status, stderr, rss_kib, seconds = run_measured(
        [cpk.tool("cpk-unpack"), "payload", "-o", "out", "-"], workdir / "bad", workdir)
    assert status == 1, stderr
    text = stderr.decode()
    assert text.count("\n") == 1 and ("limit" in text or "truncated" in text), text
    assert rss_kib < 96 * 1024, f"peak RSS {rss_kib} KiB for a {len(data)}-byte input"
    assert seconds < 10  # terminates promptly (milliseconds alone; generous for a loaded machine)
    assert cpk.listing(workdir) == {"bad"}


@pytest.mark.parametrize("data", [
    pytest.param(lambda c: c.envelope[:c.header_end] + b"\x5B" + (2**63).to_bytes(8, "big") + b"x" * 100, id="chunk-2**63"),
    pytest.param(lambda c: b"\xD9\xD9\xF7\xA1\x7B" + b"\xFF" * 8 + b"a" * 100, id="header-text-2**64-1"),
])
def test_string_length_beyond_int_max_terminates(ctx, workdir, data):
    (workdir / "bad").write_bytes(data(ctx))
    try:
        proc = run("cpk-unpack", "payload", "-o", "out", "bad", cwd=workdir, timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail("cpk-unpack did not terminate within 10 s (killed)")
    cpk.assert_clean_failure(proc, ["limit", "truncated", "declares"])
    assert cpk.listing(workdir) == {"bad"}


# --- the payload check -------------------------------------------------------------------------

def tampered_cpk(directory) -> tuple[bytes, bytes]:
    payload = bytes(range(256)) * 64
    (directory / "in.bin").write_bytes(payload)
    check(run("cpk-pack", "--id", "t", "--cpk", "-o", "good.cpk", "in.bin", cwd=directory))
    data = bytearray((directory / "good.cpk").read_bytes())
    origin = 16 + 16 * 3
    data[origin + 5000] ^= 0x01
    (directory / "bad.cpk").write_bytes(bytes(data))
    return payload, bytes(data)


def test_tampered_payload_byte_is_caught(workdir):
    tampered_cpk(workdir)
    before = cpk.listing(workdir)
    proc = run("cpk-unpack", "payload", "-o", "out", "bad.cpk", cwd=workdir)
    assert_rejected(proc, "digest mismatch", workdir, before)
    # to a pipe: not a single byte before the check fails
    proc = sh("cpk-unpack payload bad.cpk | cat > piped.out", cwd=workdir)
    cpk.assert_clean_failure(proc, "digest mismatch")
    assert (workdir / "piped.out").read_bytes() == b""
    (workdir / "piped.out").unlink()
    proc = run("cpk-unpack", "payload", "bad.cpk", cwd=workdir)
    cpk.assert_clean_failure(proc, "digest mismatch")
    assert proc.stdout == b""
    # from stdin, and through extract of the payload stream
    proc = sh("cat bad.cpk | cpk-unpack payload -o out", cwd=workdir)
    cpk.assert_clean_failure(proc, "digest mismatch")
    proc = run("cpk-unpack", "extract", "0", "bad.cpk", cwd=workdir)
    cpk.assert_clean_failure(proc, "digest mismatch")
    assert proc.stdout == b""
    assert cpk.listing(workdir) == before


def test_tampered_payload_keeps_existing_output(workdir):
    tampered_cpk(workdir)
    (workdir / "out").write_bytes(b"previous contents")
    before = cpk.listing(workdir)
    proc = run("cpk-unpack", "payload", "-o", "out", "bad.cpk", cwd=workdir)
    assert_rejected(proc, "digest mismatch", workdir, before)
    assert (workdir / "out").read_bytes() == b"previous contents"


def test_tampered_envelope_chunk_is_caught(ctx, workdir):
    data = bytearray(ctx.envelope)
    data[ctx.chunks[1].start + 100] ^= 0x80
    (workdir / "bad.env").write_bytes(bytes(data))
    before = cpk.listing(workdir)
    assert_rejected(run("cpk-unpack", "payload", "-o", "out", "bad.env", cwd=workdir), "digest mismatch", workdir, before)
    proc = run("cpk-unpack", "payload", input=bytes(data), cwd=workdir)
    cpk.assert_clean_failure(proc, "digest mismatch")
    assert proc.stdout == b""


def test_tampered_trailer_digest_is_caught(ctx, workdir):
    data = ctx.with_trailer(lambda t: t["streams"].update({1: bytes(32)}))
    (workdir / "bad.env").write_bytes(data)
    before = cpk.listing(workdir)
    assert_rejected(run("cpk-unpack", "payload", "-o", "out", "bad.env", cwd=workdir), "digest mismatch", workdir, before)
    proc = sh("cat bad.env | cpk-unpack payload | cat > piped.out", cwd=workdir)
    cpk.assert_clean_failure(proc, "digest mismatch")
    assert (workdir / "piped.out").read_bytes() == b""


def test_package_without_payload_digest_releases_nothing(workdir):
    document = manifest()
    document["payload"]["dig"] = "none"
    document["package"]["map"] = [0, 1]
    (workdir / "nodig.cpk").write_bytes(build_cpk([PAYLOAD, compact(document)], 1))
    before = cpk.listing(workdir)
    proc = run("cpk-unpack", "payload", "-o", "out", "nodig.cpk", cwd=workdir)
    assert_rejected(proc, "no payload digest", workdir, before)
    # it is still a readable package
    info = json.loads(check(run("cpk-unpack", "info", "--json", "nodig.cpk", cwd=workdir)).stdout)
    assert info["payload-digest"] is None and info["payload-size"] == len(PAYLOAD)


def test_failed_finish_keeps_existing_output(ctx, workdir):
    (workdir / "bad.env").write_bytes(ctx.envelope[:ctx.trailer.start])
    (workdir / "out.cpk").write_bytes(b"previous contents")
    before = cpk.listing(workdir)
    proc = run("cpk-pack", "finish", "-o", "out.cpk", "bad.env", cwd=workdir)
    assert_rejected(proc, "truncated", workdir, before)
    assert (workdir / "out.cpk").read_bytes() == b"previous contents"


@pytest.mark.parametrize("size", [2**64 - 1, 2**64 - 40], ids=["2**64-1", "2**64-40"])
def test_finish_with_absurd_announced_payload_size(ctx, workdir, size):
    (workdir / "bad.env").write_bytes(ctx.with_header(lambda h: h.update({"payload-size": size})))
    before = cpk.listing(workdir)
    proc = run("cpk-pack", "finish", "-o", "out.cpk", "bad.env", cwd=workdir)
    assert_rejected(proc, ["payload", "announced", "size"], workdir, before)


def test_unpack_with_absurd_announced_payload_size(ctx, workdir):
    (workdir / "bad.env").write_bytes(ctx.with_header(lambda h: h.update({"payload-size": 2**64 - 1})))
    before = cpk.listing(workdir)
    proc = run("cpk-unpack", "payload", "-o", "out", "bad.env", cwd=workdir)
    assert_rejected(proc, "announced", workdir, before)


# --- valid packages from another writer ---------------------------------------------------------

def other_writer_packages():
    empty_digest = hashlib.sha256(b"").digest()
    manifest_first = manifest(data=2, digest=1)
    unreferenced = manifest(stream_map=[0, 1, 2, 3])
    return {
        "reversed-order-padded": build_cpk(streams(), 2, order=[2, 1, 0], padding=[7, 0, 13], lead=5),
        "manifest-first-payload-last": build_cpk(
            [compact(manifest_first), DIGEST, PAYLOAD], 0, order=[0, 1, 2], padding=3),
        "trailing-bytes": build_cpk(streams(), 2, trailing=b"\0" * 100),
        "pretty-manifest": build_cpk(streams()[:2] + [json.dumps(manifest(), indent=4).encode() + b"\n"], 2),
        "reference-date-text": build_cpk(
            streams(manifest(date="2026-11-26 08:23:15.309608734 UTC")), 2, order=[1, 0, 2]),
        "unreferenced-stream": build_cpk(streams(unreferenced) + [b"extra bytes"], 2, order=[3, 0, 1, 2], padding=1),
        "empty-payload-shares-offset": build_cpk(
            [b"", empty_digest, compact(manifest())], 2, entries={0: (32, 0)}),
        "empty-payload-at-end": build_cpk(
            [b"", empty_digest, compact(manifest())], 2, entries={0: (32 + MANIFEST_SIZE, 0)}),
    }


OTHER_WRITER = other_writer_packages()


@pytest.mark.parametrize("name", OTHER_WRITER.keys())
def test_package_from_another_writer_is_read(workdir, name):
    data = OTHER_WRITER[name]
    (workdir / "x.cpk").write_bytes(data)
    parsed = cpk.parse_cpk(data)
    document = json.loads(parsed.streams[parsed.manifest_index])
    payload = parsed.streams[document["payload"]["data"]]

    check(run("cpk-unpack", "payload", "-o", "out", "x.cpk", cwd=workdir))
    assert (workdir / "out").read_bytes() == payload
    assert check(sh("cat x.cpk | cpk-unpack payload", cwd=workdir)).stdout == payload

    listed = json.loads(check(run("cpk-unpack", "list", "--json", "x.cpk", cwd=workdir)).stdout)
    assert [s["offset"] for s in listed] == [offset for offset, _ in parsed.entries]
    # sizes as stored (the manifest's stored size is checked in test_list_reports_stored_manifest_size)
    assert [s["size"] for i, s in enumerate(listed) if i != parsed.manifest_index] == [
        size for i, (_, size) in enumerate(parsed.entries) if i != parsed.manifest_index]
    roles = {s["index"]: s["role"] for s in listed}
    assert roles[document["payload"]["data"]] == "payload"
    assert roles[parsed.manifest_index] == "manifest"
    assert roles[document["payload"]["dig"]["sha256"]["data"]] == "payload-digest"

    printed = json.loads(check(run("cpk-unpack", "manifest", "x.cpk", cwd=workdir)).stdout)
    assert printed == document

    # rewriting it through an envelope keeps every stream's contents and the payload
    check(sh("cpk-unpack envelope x.cpk | cpk-pack finish -o y.cpk", cwd=workdir))
    rewritten = cpk.parse_cpk((workdir / "y.cpk").read_bytes())
    assert rewritten.count == parsed.count
    for index in range(parsed.count):
        if index != parsed.manifest_index:
            assert rewritten.streams[index] == parsed.streams[index]
    assert json.loads(rewritten.streams[rewritten.manifest_index]) == document
    check(run("cpk-unpack", "payload", "-o", "out2", "y.cpk", cwd=workdir))
    assert (workdir / "out2").read_bytes() == payload


def test_zero_length_payload_sharing_offset_is_accepted(workdir):
    data = OTHER_WRITER["empty-payload-shares-offset"]
    parsed = cpk.parse_cpk(data)
    assert parsed.entries[0] == (parsed.entries[2][0], 0)  # really at the manifest's offset
    (workdir / "x.cpk").write_bytes(data)
    proc = run("cpk-unpack", "payload", "-o", "out", "x.cpk", cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert (workdir / "out").read_bytes() == b""


PRETTY = build_cpk(streams()[:2] + [json.dumps(manifest(), indent=4).encode() + b"\n"], 2)


def test_list_reports_stored_manifest_size(workdir):
    (workdir / "x.cpk").write_bytes(PRETTY)
    parsed = cpk.parse_cpk(PRETTY)
    listed = json.loads(check(run("cpk-unpack", "list", "--json", "x.cpk", cwd=workdir)).stdout)
    assert [(s["offset"], s["size"]) for s in listed] == parsed.entries


def test_extract_manifest_gives_stored_bytes(workdir):
    (workdir / "x.cpk").write_bytes(PRETTY)
    parsed = cpk.parse_cpk(PRETTY)
    out = check(run("cpk-unpack", "extract", "2", "x.cpk", cwd=workdir)).stdout
    assert out == parsed.streams[2]
