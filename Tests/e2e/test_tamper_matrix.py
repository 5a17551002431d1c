"""The tamper matrix (issue 7, item 2): every region of a sealed, payload- and package-signed
.cpk, one byte flipped and the file truncated there, through cpk-verify, cpk-unpack payload and
cpk-install. Each must fail (exit 1, never a signal or a Swift "Fatal error") with a named reason,
release no plaintext byte, leave no temporary file behind, and install nothing.

The package is built with the tools: `cpk-pack | cpk-seal --file-store test.json | cpk-sign
--payload --package --cert signer.crt --cpk`, signed with an RSA-2048 key whose certificate is
made by `openssl req -x509` (PKCS#1 v1.5, embedded PEM). Ten streams, the manifest last:

    0 payload (ciphertext)   1 nonce   2 tag   3 payload-digest   4 payload-signature
    5 payload-certificate    6 package-digest   7 package-signature   8 package-certificate
    9 manifest               package.map = [0, 1, 2, 3, 4, 5, 8, 9]

Regions: the 7 header fields, the offset and the size of each of the 10 table entries, the
first, middle and last byte of each stream, 16 semantic positions in the manifest (values,
stream indexes, key and scheme names), and 16 positions of the payload (first, last and 14 spread
in between; the first and last are also the stream-0 rows, which the table shows as a check). Variants:

- `flip`: one byte changed. Header fields and table offsets: XOR 0x01 of the field's first
  (least significant) byte; a shifted offset makes the stream overlap its neighbour or run past
  the end. Table sizes: the lowest set bit cleared (in whichever byte holds it), so the stream
  *shrinks* and leaves a gap, which the format allows (docs/format.md section 4): the frame stays
  valid and the tools' semantic checks must catch it. Stream, manifest and payload bytes: XOR 0x01.
- `truncate`: the file cut just before that byte.

Key source: the class key `test` from test.json, fetched once with cpk-keyfetch as a wrapped-key
document for a wrapping key made by cpk-wrap, and given as `--wrapped-key/--key`. The
`--file-store` source reads the key from the store as it is; test_file_store_key_source_agrees
checks a sample with it.
Trust: the signer's certificate is the anchor (`--ca`) for cpk-verify and cpk-install; cpk-verify
runs with `--require` on every check, both signatures among them.

The matrix is run once, by a module fixture, on two workers (2 cores), each with its own
simulator state (key synced once, and checked after every attempt: `list --json` empty, no file
in apps/ or staging/, `check-state` passes). The tests then assert per region, variant and tool,
and every tool must refuse every variant. The table is printed
by the last test and saved as tamper-matrix.txt in pytest's base temporary directory.

Bytes not covered by any check: none in this layout. The writer emits the streams contiguous,
with no padding, and the last one ends at the end of the file (asserted in the fixture), so every
byte is header, table or stream. Every header field is checked for its only valid value (magic,
version, flags, manifest type and version) or fixes the layout (stream count, manifest index), so
no header flip gives a valid package. Every stream but the package digest and signature is in
package.map, and those two are checked by the package signature over the digest; so a flip
anywhere breaks at least the package digest, unless the frame or manifest check rejects first.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import os
import queue
import random
import re
import subprocess
import time
from pathlib import Path

import pytest

import cpk
from cpk import REPO, check, env_with, listing, parse_cpk, run, sh

STORE = REPO / "test.json"
PAYLOAD_SIZE = 64 * 1024
PAYLOAD = random.Random("tamper-matrix").randbytes(PAYLOAD_SIZE)
EPOCH = "1764000000"  # SOURCE_DATE_EPOCH for cpk-pack: the manifest's date, so its bytes are the same every run
ROLES = ["payload", "nonce", "tag", "payload-digest", "payload-signature", "payload-certificate",
         "package-digest", "package-signature", "package-certificate", "manifest", "key-check"]
MANIFEST = ROLES.index("manifest")
COVERED_BY_MAP = [0, 1, 2, 3, 4, 5, 8, 9, 10]
CHECKS = ["structure", "payload-tag", "payload-digest", "payload-signature", "payload-certificate", "payload-trust",
          "package-digest", "package-signature", "package-certificate", "package-trust"]
HEADER_FIELDS = [("magic", 0), ("frame-version", 4), ("flags", 6), ("stream-count", 8), ("manifest-index", 10),
                 ("manifest-type", 12), ("manifest-version", 14)]
# (label, text in the manifest, index of the byte to flip within it, what the flip makes of it)
MANIFEST_FIELDS = [
    ("cp-id", b'"cp-id":"test"', 9, "cp-id test -> uest"),
    ("cp-name", b'"cp-name":"Demo"', 11, "name Demo -> Eemo"),
    ("cp-vendor", b'"cp-vendor":"Acme"', 13, "vendor Acme -> @cme"),
    ("target-arch", b'"arch":"aarch64"', 8, "arch aarch64 -> `arch64"),
    ("ver-maj", b'"maj":1', 6, "version 1.2.0 -> 0.2.0"),
    ("ver-date", b'"date":"2', 8, "date 2025 -> 3025"),
    ("payload-data", b'"data":0', 7, "payload stream 0 -> 1"),
    ("key-name", b'"key_name":"test"', 12, "key_name test -> uest"),
    ("aes-key-strength", b'"key_strength":256', 15, "AES key_strength 256 -> 356"),
    ("nonce-index", b'"nonce":1', 8, "nonce stream 1 -> 0"),
    ("digest-index", b'"data":3', 7, "payload digest stream 3 -> 2"),
    ("rsa-key-strength", b'"key_strength":2048', 15, "RSA key_strength 2048 -> 3048"),
    ("map-entry", b'"map":[0', 7, "package.map [0,... -> [1,..."),
    ("key-spelling", b'"cp-name"', 4, 'key "cp-name" -> "cp-oame"'),
    ("scheme-name", b'"aes-gcm"', 7, "scheme aes-gcm -> aes-gcl"),
    ("package-sig-index", b'"data":7', 7, "package signature stream 7 -> 6"),
]
# first, last, and 14 spread in between
PAYLOAD_SAMPLE = sorted({0, PAYLOAD_SIZE - 1} | {k * PAYLOAD_SIZE // 15 + 16 * k + 5 for k in range(1, 15)})
assert len(PAYLOAD_SAMPLE) == 16
VARIANTS = ["flip", "truncate"]
TOOLS = ["cpk-verify", "cpk-unpack", "cpk-install"]


# --- the regions, by name (the byte positions are found in the built package) -----------------

@dataclasses.dataclass(frozen=True)
class Region:
    key: str          # test id
    label: str        # for the table
    kind: str         # header, table-offset, table-size, stream, manifest, payload
    stream: int | None = None
    where: object = None  # header: byte offset; stream: first/middle/last; manifest: index in MANIFEST_FIELDS; payload: offset


def regions() -> list[Region]:
    found = [Region(f"header-{name}", f"header {name}", "header", where=offset) for name, offset in HEADER_FIELDS]
    for index, role in enumerate(ROLES):
        found.append(Region(f"table-{index}-offset", f"table[{index}] {role} offset", "table-offset", index))
        found.append(Region(f"table-{index}-size", f"table[{index}] {role} size", "table-size", index))
    for index, role in enumerate(ROLES):
        for where in ("first", "middle", "last"):
            found.append(Region(f"stream-{index}-{where}", f"stream {index} {role} {where}", "stream", index, where))
    for number, (name, _, _, meaning) in enumerate(MANIFEST_FIELDS):
        found.append(Region(f"manifest-{name}", f"manifest {meaning}", "manifest", MANIFEST, number))
    for position in PAYLOAD_SAMPLE:
        found.append(Region(f"payload-{position}", f"payload byte {position}", "payload", 0, position))
    return found


REGIONS = regions()


# --- what each tool is expected to name ------------------------------------------------------

def expected(region: Region, variant: str) -> dict:
    """What each tool must name. verify: FAILED checks of which at least one must appear (a
    structure failure may instead be a one-line error); unpack, install: stderr needles, any
    of which must appear. Empty: any named reason will do."""
    structural = {"verify": {"structure"}, "unpack": [], "install": []}
    if variant == "truncate" or region.kind in ("header", "table-offset"):
        return structural
    stream = region.stream
    if region.kind == "table-size":
        # the shrunk stream: a fixed-size one no longer has its size, the PEM loses its END line,
        # the manifest its closing brace, the payload everything (size 0: the tag fails)
        return {0: {"verify": {"payload-tag"}, "unpack": ["AES-GCM"], "install": ["Tag check FAILED"]},
                5: {"verify": {"payload-signature", "payload-certificate"}, "unpack": [],
                    "install": ["certificate", "Signer check FAILED"]},
                8: {"verify": {"package-digest", "package-signature", "package-certificate"}, "unpack": [],
                    "install": []},
                10: {"verify": {"package-digest"}, "unpack": [], "install": []}}.get(stream, structural)
    if region.kind == "payload" or stream in (0, 1, 2):
        return {"verify": {"payload-tag"}, "unpack": ["AES-GCM authentication failed"], "install": ["Tag check FAILED"]}
    if stream == 3:
        return {"verify": {"payload-digest"}, "unpack": ["digest"], "install": ["Digest check FAILED"]}
    if stream == 4:
        return {"verify": {"payload-signature"}, "unpack": [], "install": ["Signature check FAILED"]}
    if stream == 5:
        return {"verify": {"payload-signature", "payload-certificate", "payload-trust"}, "unpack": [],
                "install": ["Signer check FAILED", "certificate", "Signature check FAILED"]}
    if stream == 6:
        return {"verify": {"package-digest"}, "unpack": [], "install": []}
    if stream == 7:
        return {"verify": {"package-signature"}, "unpack": [], "install": []}
    if stream == 8:
        return {"verify": {"package-digest", "package-certificate", "package-signature"}, "unpack": [], "install": []}
    if stream == 10:
        # the key check stream decides nothing (format.md §4.1); the package digest covers it
        return {"verify": {"package-digest"}, "unpack": [], "install": []}
    # the manifest: a change the parser or the consistency checks reject is a structure failure;
    # one they accept (a name, a version, the date) is caught by the package digest
    return {"verify": {"structure", "package-digest"}, "unpack": [], "install": []}


# --- building the package --------------------------------------------------------------------

def openssl(*args, cwd):
    proc = subprocess.run(["openssl", *map(str, args)], cwd=cwd, capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()


@dataclasses.dataclass
class Setup:
    directory: Path
    data: bytes
    package: cpk.ParsedCPK
    cert: Path
    wrapped_key: Path
    unwrap_key: Path
    states: list[Path]

    @property
    def key_source(self) -> list[str]:
        return ["--wrapped-key", str(self.wrapped_key), "--key", str(self.unwrap_key)]


def build(directory: Path) -> Setup:
    # A fixed serial, subject and configuration: the certificate's length is the same on every
    # run (only the key and the signature bytes differ), so the regions mean the same every run.
    (directory / "req.cnf").write_text("[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "signer.pem", "-out", "signer.crt",
            "-subj", "/CN=CPK Tamper Matrix", "-days", "30", "-set_serial", "1", "-config", "req.cnf",
            "-addext", "keyUsage=critical,digitalSignature", cwd=directory)
    (directory / "payload.bin").write_bytes(PAYLOAD)
    check(sh(f"cpk-pack --id test --display-name Demo --vendor Acme --app-version 1.2.0 payload.bin"
             f" | cpk-seal --file-store {STORE} --quiet"
             f" | cpk-sign --key signer.pem --cert signer.crt --payload --package --cpk -o app.cpk",
             cwd=directory, env=env_with(SOURCE_DATE_EPOCH=EPOCH)))
    # the key source: test.json's key, wrapped once to a key pair of our own
    check(run("cpk-wrap", "keygen", "-o", "agent.pem", "--public-out", "agent.pub", cwd=directory))
    check(run("cpk-keyfetch", "--key-name", "test", "--file-store", STORE, "--to", "agent.pub", "-o", "test.wkey",
              cwd=directory))
    data = (directory / "app.cpk").read_bytes()
    package = parse_cpk(data)
    setup = Setup(directory, data, package, directory / "signer.crt", directory / "test.wkey",
                  directory / "agent.pem", [])

    # The layout the regions are named after.
    roles = [s["role"] for s in json.loads(check(run("cpk-unpack", "list", "--json", "app.cpk",
                                                     cwd=directory)).stdout)]
    assert roles == ROLES
    document = json.loads(package.streams[MANIFEST])
    assert document["package"]["map"] == COVERED_BY_MAP
    assert package.manifest_index == MANIFEST
    # No padding, no trailing bytes: every byte is header, table or a stream.
    placed = sorted(package.entries)
    assert placed[0][0] == 0 and all(a[0] + a[1] == b[0] for a, b in zip(placed, placed[1:]))
    assert package.origin + placed[-1][0] + placed[-1][1] == len(data)
    # Clearing the lowest set bit of the certificate's size must cut into its END line (an even
    # size loses at least "-\n"), so that table-5-size gives an unreadable certificate.
    assert package.entries[5][1] % 2 == 0, f"certificate of {package.entries[5][1]} bytes: the matrix expects an even size"
    for _, text, _, _ in MANIFEST_FIELDS:
        assert package.streams[MANIFEST].count(text) >= 1, text
    return setup


def make_state(directory: Path, setup: Setup) -> Path:
    state = directory / "state"
    check(run("cpk-install", "sync", "--state", state, "--id", "test", "--file-store", STORE, cwd=directory))
    return state


# --- the variants ------------------------------------------------------------------------------

def position(region: Region, package: cpk.ParsedCPK) -> tuple[int, int]:
    """The byte to change and the XOR mask that changes it."""
    if region.kind == "header":
        return region.where, 0x01
    if region.kind == "table-offset":
        return 16 + 16 * region.stream, 0x01
    if region.kind == "table-size":
        size = package.entries[region.stream][1]
        bit = (size & -size).bit_length() - 1  # the lowest set bit: clearing it shrinks the stream
        return 16 + 16 * region.stream + 8 + bit // 8, 1 << (bit % 8)
    offset, size = package.entries[region.stream]
    start = package.origin + offset
    if region.kind == "stream":
        return start + {"first": 0, "middle": size // 2, "last": size - 1}[region.where], 0x01
    if region.kind == "manifest":
        _, text, within, _ = MANIFEST_FIELDS[region.where]
        return start + package.streams[MANIFEST].index(text) + within, 0x01
    return start + region.where, 0x01


def variant_bytes(data: bytes, package: cpk.ParsedCPK, region: Region, variant: str) -> tuple[int, bytes]:
    at, mask = position(region, package)
    if variant == "truncate":
        # a table size cut where the flip is: at its first byte, as for every other field
        at = 16 + 16 * region.stream + 8 if region.kind == "table-size" else at
        return at, data[:at]
    changed = bytearray(data)
    changed[at] ^= mask
    return at, bytes(changed)


# --- running the tools on one variant ------------------------------------------------------------

REQUIRE = ",".join(CHECKS)


@dataclasses.dataclass
class Outcome:
    code: int | None
    stdout: bytes = b""
    stderr: bytes = b""


@dataclasses.dataclass
class Result:
    region: Region
    variant: str
    at: int
    verify: Outcome = None
    unpack_file: Outcome = None
    unpack_pipe: Outcome = None
    piped_bytes: int | None = None
    output_file: bool = False
    left: dict = dataclasses.field(default_factory=dict)  # tool -> files it left (next to the package, in TMPDIR)
    install: Outcome = None
    installed: list = dataclasses.field(default_factory=list)
    state_files: list = dataclasses.field(default_factory=list)
    check_state: Outcome = None


def outcome(proc: subprocess.CompletedProcess) -> Outcome:
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


def attempt(setup: Setup, state: Path, region: Region, variant: str) -> Result:
    at, bad = variant_bytes(setup.data, setup.package, region, variant)
    case = setup.directory / "cases" / f"{region.key}-{variant}"
    temporary = case / "tmp"
    temporary.mkdir(parents=True)
    (case / "bad.cpk").write_bytes(bad)
    env = env_with(TMPDIR=str(temporary))
    result = Result(region, variant, at)
    seen: set = set()

    def left_by(tool: str):
        now = {f"tmp/{n}" for n in listing(temporary)} | (listing(case) - {"bad.cpk", "tmp", "out.bin"})
        result.left[tool] = sorted(now - seen)
        seen.update(now)

    result.verify = outcome(run("cpk-verify", *setup.key_source, "--ca", setup.cert, "--require", REQUIRE, "bad.cpk",
                                cwd=case, env=env))
    left_by("cpk-verify")
    result.unpack_file = outcome(run("cpk-unpack", "payload", *setup.key_source, "-o", "out.bin", "bad.cpk",
                                     cwd=case, env=env))
    result.output_file = (case / "out.bin").exists()
    pipe = sh(f"cpk-unpack payload {' '.join(setup.key_source)} bad.cpk | wc -c", cwd=case, env=env)
    counted = pipe.stdout.decode().strip()
    result.piped_bytes = int(counted) if counted.isdigit() else None
    result.unpack_pipe = Outcome(pipe.returncode, b"", pipe.stderr)
    left_by("cpk-unpack")
    result.install = outcome(run("cpk-install", "install", "--state", state, "--ca", setup.cert, "bad.cpk",
                                 cwd=case, env=env))
    left_by("cpk-install")
    listed = run("cpk-install", "list", "--state", state, "--json", cwd=case, env=env)
    result.installed = json.loads(listed.stdout) if listed.returncode == 0 else [f"list failed: {listed.stderr!r}"]
    result.state_files = sorted(f"{sub}/{name}" for sub in ("apps", "staging") for name in os.listdir(state / sub))
    result.check_state = outcome(run("cpk-install", "check-state", "--state", state, cwd=case, env=env))
    if result.installed or result.state_files:
        # a bug let it in: take it out again, so that the next attempt on this state starts clean
        run("cpk-install", "remove", "--forget-history", "--state", state, "test", cwd=case, env=env)
        assert run("cpk-install", "list", "--state", state, "--json", cwd=case).stdout.strip() == b"[]"
    return result


def baseline(setup: Setup, state: Path):
    """The untampered package passes every tool: the failures below are the tampering's."""
    case = setup.directory / "cases" / "untampered"
    case.mkdir(parents=True)
    (case / "app.cpk").write_bytes(setup.data)
    proc = check(run("cpk-verify", *setup.key_source, "--ca", setup.cert, "--require", REQUIRE, "app.cpk", cwd=case))
    assert proc.stdout.decode().splitlines()[-1].startswith("VERIFIED"), proc.stdout.decode()
    check(run("cpk-unpack", "payload", *setup.key_source, "-o", "out.bin", "app.cpk", cwd=case))
    assert (case / "out.bin").read_bytes() == PAYLOAD
    assert check(sh(f"cpk-unpack payload {' '.join(setup.key_source)} app.cpk", cwd=case)).stdout == PAYLOAD
    for state in setup.states:
        text = check(run("cpk-install", "install", "--state", state, "--ca", setup.cert, "app.cpk", cwd=case)).stdout
        assert b"Installed test 1.2.0" in text and b"Signer check PASSED" in text
        check(run("cpk-install", "remove", "--forget-history", "--state", state, "test", cwd=case))  # a clean device again
        assert check(run("cpk-install", "list", "--state", state, "--json", cwd=case)).stdout.strip() == b"[]"


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    started = time.monotonic()
    directory = tmp_path_factory.mktemp("tamper-matrix")
    setup = build(directory)
    workers = 2
    for number in range(workers):
        (directory / f"worker-{number}").mkdir()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        setup.states = list(pool.map(lambda n: make_state(directory / f"worker-{n}", setup), range(workers)))
    baseline(setup, setup.states[0])
    free: queue.Queue = queue.Queue()
    for state in setup.states:
        free.put(state)

    def one(job):
        state = free.get()
        try:
            return attempt(setup, state, *job)
        finally:
            free.put(state)

    jobs = [(region, variant) for region in REGIONS for variant in VARIANTS]
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        results = {(r.region.key, r.variant): r for r in pool.map(one, jobs)}
    return {"setup": setup, "results": results, "seconds": time.monotonic() - started}


# --- the assertions ----------------------------------------------------------------------------

def assert_no_crash(name: str, result: Outcome, *, shell: bool = False):
    err = result.stderr.decode(errors="replace")
    assert result.code is not None and result.code >= 0, f"{name} killed by signal {result.code}: {err[:2000]}"
    if shell:
        assert result.code < 128, f"{name} killed by signal {result.code - 128} (in the pipe): {err[:2000]}"
    assert "Fatal error" not in err and "crashed" not in err, f"{name} crashed: {err[:2000]}"
    assert b"Fatal error" not in result.stdout


REPEATED_PREFIX = re.compile(r"(?:^|: )([^:]+): \1: ")


def assert_no_repeated_prefix(name: str, err: str):
    """No message repeats its prefix ("cpk-install: app.cpk: app.cpk: ...")."""
    for line in err.splitlines():
        assert not REPEATED_PREFIX.search(line), f"{name}: a prefix repeats in {line!r}"


def one_line_reason(name: str, result: Outcome, needles: list[str]) -> str:
    err = result.stderr.decode(errors="replace")
    assert_no_repeated_prefix(name, err)
    assert err.endswith("\n") and err.count("\n") == 1, f"{name}: not exactly one line on stderr: {err!r}"
    assert err.startswith(f"{name.split()[0]}: ") and len(err.strip()) > len(name) + 4, f"{name}: no reason: {err!r}"
    if needles:
        assert any(n.lower() in err.lower() for n in needles), f"{name}: none of {needles!r} in {err!r}"
    return err


def failed_checks(stdout: bytes) -> dict:
    found = {}
    for line in stdout.decode(errors="replace").splitlines():
        name, _, rest = line.partition(" ")
        if rest.startswith("FAILED"):
            found[name] = rest.partition(": ")[2]
    return found


def no_plaintext(text: bytes) -> bool:
    return all(PAYLOAD[at:at + 16] not in text for at in range(0, PAYLOAD_SIZE, 4096))


def check_verify(result: Result, expect: dict):
    v = result.verify
    assert_no_crash("cpk-verify", v)
    out = v.stdout.decode(errors="replace")
    assert v.code == 1, f"cpk-verify exit {v.code}, expected 1\n{out}{v.stderr.decode(errors='replace')}"
    assert no_plaintext(v.stdout) and no_plaintext(v.stderr)
    assert not result.left["cpk-verify"], f"cpk-verify left files: {result.left['cpk-verify']}"
    failed = failed_checks(v.stdout)
    assert_no_repeated_prefix("cpk-verify", out + v.stderr.decode(errors="replace"))
    if out:  # a report: at least one check FAILED, and the verdict says so
        assert v.stderr == b"", v.stderr
        assert failed, f"no FAILED check in the report:\n{out}"
        assert out.splitlines()[-1].startswith("NOT VERIFIED"), out
        assert failed.keys() & expect["verify"], f"none of {sorted(expect['verify'])} FAILED:\n{out}"
        if "structure" not in failed and result.region.stream in COVERED_BY_MAP:
            # the package signature covers this stream: its digest must fail, whatever else does
            assert "package-digest" in failed, f"package-digest did not fail:\n{out}"
    else:  # or a one-line error, for what cannot be read as a package at all
        one_line_reason("cpk-verify", v, [])
        assert "structure" in expect["verify"], f"a one-line error where a check should have failed: {v.stderr!r}"


def check_unpack(result: Result, expect: dict):
    for name, proc in (("cpk-unpack -o", result.unpack_file), ("cpk-unpack | wc -c", result.unpack_pipe)):
        assert_no_crash(name, proc, shell=name.endswith("wc -c"))
        assert proc.code == 1, f"{name}: exit {proc.code}, expected 1; stderr: {proc.stderr.decode(errors='replace')}"
        one_line_reason(name, proc, expect["unpack"])
    assert not result.output_file, "cpk-unpack -o left the output file"
    assert result.piped_bytes == 0, f"{result.piped_bytes} plaintext bytes reached the pipe"
    assert result.unpack_file.stdout == b""
    assert not result.left["cpk-unpack"], f"cpk-unpack left files: {result.left['cpk-unpack']}"


def check_install(result: Result, expect: dict):
    i = result.install
    assert_no_crash("cpk-install", i)
    assert i.code == 1, f"cpk-install exit {i.code}, expected 1\n{i.stdout.decode(errors='replace')}{i.stderr.decode(errors='replace')}"
    one_line_reason("cpk-install", i, expect["install"])
    assert no_plaintext(i.stdout) and no_plaintext(i.stderr)
    assert result.installed == [], f"installed: {result.installed}"
    assert result.state_files == [], f"left in the state: {result.state_files}"
    assert result.check_state.code == 0, result.check_state.stdout + result.check_state.stderr
    assert not result.left["cpk-install"], f"cpk-install left files: {result.left['cpk-install']}"


def cases():
    for region in REGIONS:
        for variant in VARIANTS:
            for tool in TOOLS:
                yield pytest.param(region, variant, tool, id=f"{region.key}-{variant}-{tool}")


@pytest.mark.parametrize("region, variant, tool", cases())
def test_tampered_package_is_refused(matrix, region, variant, tool):
    result = matrix["results"][(region.key, variant)]
    expect = expected(region, variant)
    {"cpk-verify": check_verify, "cpk-unpack": check_unpack, "cpk-install": check_install}[tool](result, expect)


# --- the other key source -------------------------------------------------------------------------

@pytest.mark.parametrize("region_key, variant", [
    ("stream-0-middle", "flip"), ("stream-2-last", "flip"), ("stream-3-first", "flip"),
    ("manifest-key-name", "flip"), ("stream-1-first", "truncate"),
])
def test_file_store_key_source_agrees(matrix, region_key, variant):
    """The same refusals with the key fetched from test.json by an ephemeral agent key."""
    setup = matrix["setup"]
    region = next(r for r in REGIONS if r.key == region_key)
    _, bad = variant_bytes(setup.data, setup.package, region, variant)
    case = setup.directory / "cases" / f"file-store-{region_key}-{variant}"
    temporary = case / "tmp"
    temporary.mkdir(parents=True)
    (case / "bad.cpk").write_bytes(bad)
    env = env_with(TMPDIR=str(temporary))
    source = ["--file-store", str(STORE), "--quiet"]
    verified = run("cpk-verify", *source, "--ca", setup.cert, "--require", REQUIRE, "bad.cpk", cwd=case, env=env)
    assert_no_crash("cpk-verify", outcome(verified))
    assert verified.returncode == 1, verified.stdout + verified.stderr
    # -q: the verdict line alone (issue 27), which names the failed checks
    assert verified.stdout.startswith(b"NOT VERIFIED: ") or verified.stderr.count(b"\n") == 1
    unpacked = run("cpk-unpack", "payload", *source, "-o", "out.bin", "bad.cpk", cwd=case, env=env)
    assert_no_crash("cpk-unpack", outcome(unpacked))
    assert unpacked.returncode == 1
    one_line_reason("cpk-unpack", outcome(unpacked), [])
    piped = sh(f"cpk-unpack payload {' '.join(source)} bad.cpk | wc -c", cwd=case, env=env)
    assert piped.returncode == 1 and piped.stdout.strip() == b"0"
    assert listing(case) == {"bad.cpk", "tmp"} and listing(temporary) == set()


# --- the table ------------------------------------------------------------------------------------

def short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "~"


def reason_of(err: bytes, tool: str) -> str:
    text = err.decode(errors="replace").strip()
    for prefix in (f"{tool}: ", "bad.cpk: ", "bad.cpk: "):
        text = text.removeprefix(prefix)
    return text


def cells(result: Result) -> tuple[str, str, str, str]:
    v = result.verify
    failed = failed_checks(v.stdout)
    if failed:
        name = next(iter(failed))
        detail = failed[name].removeprefix("bad.cpk: ")
        verify = f"{v.code} {name} FAILED" + (f" +{len(failed) - 1}" if len(failed) > 1 else "") + f": {detail}"
    else:
        verify = f"{v.code} {reason_of(v.stderr, 'cpk-verify') or v.stdout.decode(errors='replace')[-60:]}"
    u = result.unpack_file
    unpack = f"{u.code} " + (reason_of(u.stderr, "cpk-unpack") if u.code else "RELEASED the plaintext to out.bin")
    pipe = f"{result.unpack_pipe.code}, {result.piped_bytes} B"
    i = result.install
    if result.installed:
        install = f"{i.code} INSTALLED (then removed by the test)"
    else:
        install = f"{i.code} {reason_of(i.stderr, 'cpk-install')}"
    return verify, unpack, pipe, install


def table(matrix) -> str:
    results = matrix["results"]
    widths = [38, 8, 7, 52, 44, 10, 52]
    head = ["region", "variant", "byte", "cpk-verify (exit, first FAILED check)", "cpk-unpack payload -o",
            "| wc -c", "cpk-install (exit, reason)"]
    lines = [" ".join(h.ljust(w) for h, w in zip(head, widths)), " ".join("-" * w for w in widths)]
    for region in REGIONS:
        for variant in VARIANTS:
            result = results[(region.key, variant)]
            row = [region.label, variant, str(result.at), *cells(result)]
            lines.append(" ".join(short(c, w).ljust(w) for c, w in zip(row, widths)).rstrip())
    total = len(REGIONS) * len(VARIANTS)
    refused = {t: 0 for t in TOOLS}
    for result in results.values():
        refused["cpk-verify"] += result.verify.code == 1
        refused["cpk-unpack"] += result.unpack_file.code == 1 and result.unpack_pipe.code == 1 and not result.piped_bytes
        refused["cpk-install"] += result.install.code == 1 and not result.installed
    lines.append("")
    lines.append(f"{len(REGIONS)} regions x {len(VARIANTS)} variants = {total} tampered packages "
                 f"({PAYLOAD_SIZE}-byte payload, {len(matrix['setup'].data)}-byte .cpk); refused with exit 1: "
                 + ", ".join(f"{t} {n}/{total}" for t, n in refused.items())
                 + f"; matrix run in {matrix['seconds']:.1f} s")
    return "\n".join(lines) + "\n"


def test_print_the_matrix(matrix, capsys, tmp_path_factory):
    text = table(matrix)
    (tmp_path_factory.getbasetemp() / "tamper-matrix.txt").write_text(text)
    with capsys.disabled():
        print("\n\nTamper matrix (saved as " + str(tmp_path_factory.getbasetemp() / "tamper-matrix.txt") + ")\n")
        print(text)
