"""The conformance vectors of Tests/vectors through the built tools, and through a small
independent reader of the frame and table rules, each held to its `.expect` line
(grammar: Tests/vectors/README.md). The XCTest twin is CPKPackageTests/VectorTests.swift."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import cbor2
import pytest

from cpk import REPO, HEADER, assert_clean_failure, build_cpk, check, run

VECTORS = REPO / "Tests" / "vectors"
KINDS = {"format": "cpk", "envelope": "cbor", "manifest": "json"}
CITATION = re.compile(r"(format )?§(\d+(?:\.\d+)?) rule (\d+)")

# Rules that only permit something: nothing violates them, so they have accept vectors only.
ACCEPT_ONLY = {("format", "4", 1), ("format", "4", 2), ("format", "4", 4), ("format", "6.1", 4),
               ("format", "4.1", 1), ("format", "4.1", 2), ("format", "4.1", 3)}
# Rules whose reject vector would break the ~4 KiB size of a vector: a manifest above 1 MiB.
TOO_LARGE = {("format", "5", 12)}


class Expect:
    def __init__(self, path: Path):
        line = path.read_text(encoding="utf-8")
        assert line.endswith("\n") and line.count("\n") == 1, f"{path.name}: not one line"
        head, reasons = line.rstrip("\n").split(" ; ", 1)
        words = head.split(" ")
        assert words[0] in ("accept", "reject"), path.name
        self.accept = words[0] == "accept"
        self.fields = dict(word.split("=", 1) for word in words[1:])
        self.citations = reasons.split(": ", 1)[0]
        self.reason = reasons.split(": ", 1)[1]

    def rules(self, kind: str) -> list[tuple[str, str, int]]:
        """(document, section, rule) for each citation; envelope vectors cite envelope.md
        unless a citation says `format §…`."""
        found = []
        for part in self.citations.split(", "):
            match = CITATION.fullmatch(part)
            assert match, f"bad citation {part!r}"
            doc = "envelope" if kind == "envelope" and not match.group(1) else "format"
            found.append((doc, match.group(2), int(match.group(3))))
        return found

    @property
    def checked(self) -> dict[str, str]:
        return {k: v for k, v in self.fields.items() if k != "sizes"}


def all_vectors() -> list[tuple[str, Path]]:
    return [(kind, path) for kind, suffix in KINDS.items() for path in sorted((VECTORS / kind).glob(f"*.{suffix}"))]


VECTOR_LIST = all_vectors()


def rendered(key: str, value) -> str:
    """A value of `cpk-unpack info --json` as an expect line writes it."""
    if key == "streams":
        return str(len(value))
    if value is None:
        return "null"
    if isinstance(value, list):
        return ",".join(rendered("", v) for v in value)
    return str(value)


def wrapped(manifest: bytes, sizes: str) -> bytes:
    """A package around a manifest vector: filler streams of the sizes given, the manifest at M."""
    entries = sizes.split(",")
    streams = [manifest if e == "M" else bytes([0x5A]) * int(e) for e in entries]
    return build_cpk(streams, entries.index("M"))


def frame_verdict(data: bytes) -> int | None:
    """An independent reader of format.md §5 rules 1–11 (and §3's origin): the number of the
    first rule the file breaks, or None when the frame and table are sound."""
    if len(data) < 16:
        return 1
    magic, version, flags, count, manifest_index, manifest_type, manifest_version = HEADER.unpack_from(data)
    for rule, ok in [(2, magic == 0x0ECCF00D), (3, version == 1), (4, flags == 0), (5, count >= 2),
                     (6, manifest_index < count), (7, manifest_type == 1), (8, manifest_version == 1)]:
        if not ok:
            return rule
    origin = 16 + 16 * count
    if len(data) < origin:
        return 9
    table = [struct.unpack_from("<QQ", data, 16 + 16 * i) for i in range(count)]
    for offset, size in table:
        if offset + size >= 1 << 64 or offset + size > len(data) - origin:
            return 10
    spans = sorted((o, o + s) for o, s in table if s > 0)
    if any(a[1] > b[0] for a, b in zip(spans, spans[1:])):
        return 11
    return None


@pytest.mark.parametrize("kind,path", VECTOR_LIST, ids=[f"{k}/{p.stem}" for k, p in VECTOR_LIST])
def test_vector_through_cpk_unpack(kind, path, tmp_path):
    expect = Expect(path.with_suffix(".expect"))
    target = path
    if kind == "manifest":
        target = tmp_path / "wrapped.cpk"
        target.write_bytes(wrapped(path.read_bytes(), expect.fields["sizes"]))
    proc = run("cpk-unpack", "info", "--json", target)
    if expect.accept:
        info = json.loads(check(proc).stdout)
        for key, value in expect.checked.items():
            assert rendered(key, info[key]) == value, f"{key}: {info[key]!r}"
    else:
        assert_clean_failure(proc, "cpk-unpack")


@pytest.mark.parametrize("path", sorted((VECTORS / "format").glob("*.cpk")), ids=lambda p: p.stem)
def test_format_vector_through_an_independent_frame_reader(path):
    expect = Expect(path.with_suffix(".expect"))
    frame_rules = {rule for doc, section, rule in expect.rules("format") if section == "5" and rule <= 11}
    verdict = frame_verdict(path.read_bytes())
    if expect.accept or not frame_rules and not any(s in ("3", "4") for _, s, _ in expect.rules("format")):
        # accepted, or rejected by a rule beyond the frame (manifest, consistency)
        assert verdict is None, f"frame rule {verdict}"
    else:
        assert verdict is not None, "the frame reader accepted it"
        if frame_rules:
            assert verdict in frame_rules, f"rule {verdict}, cited {sorted(frame_rules)}"


@pytest.mark.parametrize("path", sorted((VECTORS / "envelope").glob("*.cbor")), ids=lambda p: p.stem)
def test_accepted_envelope_decodes_with_cbor2(path):
    """An accepted envelope is plain CBOR to a generic decoder: header, chunks, trailer, and the
    payload size the trailer states is the chunks' and the expect line's."""
    expect = Expect(path.with_suffix(".expect"))
    if not expect.accept:
        pytest.skip("rejects are judged by the tools")
    data = path.read_bytes()
    assert data.startswith(b"\xD9\xD9\xF7")
    items = list(cbor2.loads(data[i:j]) for i, j in item_bounds(data))
    header, chunks, trailer = items[0], items[1:-1], items[-1]
    assert header["cpk-envelope"] == 1 and all(isinstance(c, bytes) and c for c in chunks)
    assert trailer["payload-size"] == sum(map(len, chunks))
    if "payload-size" in expect.fields:
        assert str(trailer["payload-size"]) == expect.fields["payload-size"]


def item_bounds(data: bytes):
    import io
    stream = io.BytesIO(data)
    decoder = cbor2.CBORDecoder(stream)
    while stream.tell() < len(data):
        start = stream.tell()
        decoder.decode()
        yield start, stream.tell()


def numbered_rules(document: str) -> dict[str, int]:
    """For each section heading of a spec (`## 5.` or `### 6.1`; an appendix heading ends the count), how many numbered list items
    (`1. `) it holds before the next heading: the rules vectors may cite."""
    counts: dict[str, int] = {}
    section = None
    for line in (REPO / "docs" / f"{document}.md").read_text().splitlines():
        heading = re.match(r"#{2,3} (\d+(?:\.\d+)?)\.? ", line)
        if heading:
            section = heading.group(1)
            counts[section] = 0
        elif line.startswith("#"):
            section = None
        elif section and re.match(r"\d+\. ", line):
            counts[section] += 1
    return counts


def test_every_cited_rule_exists_and_every_rule_has_an_accept_and_a_reject():
    seen: dict[tuple[str, str, int], set[bool]] = {}
    for kind, path in VECTOR_LIST:
        expect = Expect(path.with_suffix(".expect"))
        for rule in expect.rules(kind):
            seen.setdefault(rule, set()).add(expect.accept)
    rules = {doc: numbered_rules(doc) for doc in ("format", "envelope")}
    for doc, section, number in seen:
        assert number <= rules[doc].get(section, 0), f"{doc}.md §{section} has no rule {number}"
    # every rule of a section the vectors test is tested both ways
    for doc, section in {(d, s) for d, s, _ in seen}:
        for number in range(1, rules[doc][section] + 1):
            rule = (doc, section, number)
            want = {True} if rule in ACCEPT_ONLY else {True, False} - ({False} if rule in TOO_LARGE else set())
            assert want <= seen.get(rule, set()), f"{doc}.md §{section} rule {number}: vectors {seen.get(rule)}"
