"""Helpers for the end-to-end tests: run the tools, read and write .cpk files and envelopes.

The .cpk writer here is deliberately independent of the Swift code (docs/format.md), so
the tests can build packages "from another writer": any stream order, padding, and hostile
headers and tables.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cbor2

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("CPK_BIN") or REPO / ".build" / "debug").resolve()

TOOLS = [
    "cpk-pack", "cpk-unpack", "cpk-seal", "cpk-sign", "cpk-verify",
    "cpk-keyfetch", "cpk-wrap", "cpk-install",
]

MAGIC = b"\x0D\xF0\xCC\x0E"
ENVELOPE_MAGIC = b"\xD9\xD9\xF7"
SELF_DESCRIBE = 55799

# Generous for a debug build on a busy 2-core machine; a healthy run takes milliseconds.
TIMEOUT = 30


def tool(name: str) -> str:
    return str(BIN / name)


def env_with(**extra: str) -> dict:
    env = dict(os.environ)
    env.pop("SOURCE_DATE_EPOCH", None)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env



# Starts a program and reports its exit status and peak RSS from wait4. A separate small
# process, because Linux carries the RSS high-water mark of the forking process over fork and
# exec into the child's ru_maxrss: spawned straight from pytest (40 MB, and hundreds after a
# test that held a big payload), every child "peaks" at pytest's size. From this launcher the
# floor is its own few MB, and the figure is max(floor, the tool's real peak): never lower
# than the truth.
RUSAGE_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def run_with_rusage(argv: list[str], stdin_path: Path | None = None, cwd: Path | None = None,
                    timeout: float | None = None) -> tuple[int, bytes, float, int]:
    """Runs argv (its stdout discarded); returns exit status, stderr, seconds taken and peak
    RSS in KiB. A run longer than `timeout` is killed with its launcher and raises
    subprocess.TimeoutExpired."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as err, open(stdin_path or os.devnull, "rb") as stdin:
        proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", RUSAGE_LAUNCHER, *argv], stdin=stdin,
                                stdout=subprocess.PIPE, stderr=err, cwd=cwd, env=env_with(), start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        report = out.split()
        err.seek(0)
        return int(report[0]), err.read(), time.monotonic() - started, int(report[1])

def run(name: str, *args, input: bytes | None = None, stdin=None, cwd=None, env=None,
        timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    """Runs one tool as a real process; stdout and stderr are captured as bytes."""
    if input is not None and stdin is not None:
        raise ValueError("input and stdin are exclusive")
    return subprocess.run(
        [tool(name), *map(str, args)],
        input=input, stdin=stdin if input is None else None,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=cwd, env=env if env is not None else env_with(), timeout=timeout)


def sh(script: str, cwd=None, env=None, input: bytes | None = None,
       timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    """Runs a real bash pipeline (set -o pipefail) with the tools first on PATH."""
    return subprocess.run(
        ["bash", "-c", "set -o pipefail\n" + script],
        input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=cwd, env=env if env is not None else env_with(), timeout=timeout)


def check(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, (
        f"exit {proc.returncode}: {proc.args!r}\nstderr: {proc.stderr.decode(errors='replace')}")
    return proc


# --- the offline-signing table ------------------------------------------------------------

def scheme_table(text: str) -> dict[str, list[str]]:
    """The `scheme  openssl ARGS` lines of a text, continuation lines (a trailing backslash)
    joined: scheme name -> openssl's arguments, K the private key file and D the digest file."""
    joined = re.sub(r"\\\n\s*", " ", text)
    table = {}
    for line in joined.splitlines():
        match = re.fullmatch(r"\s*([a-z][a-z0-9-]*[a-z0-9])\s+openssl\s+(.*?)\s*", line)
        if match:
            table[match.group(1)] = match.group(2).split()
    return table


def documented_openssl_commands() -> dict[str, list[str]]:
    """The openssl commands that sign a digest offline, as `cpk-sign prepare --help` gives them
    (generated from CPKCrypto's SignatureScheme, the one table); the man page and README are
    checked against it, and the e2e tests sign with it."""
    table = scheme_table(check(run("cpk-sign", "prepare", "--help", env=env_with(COLUMNS="80"))).stdout.decode())
    assert table, "cpk-sign prepare --help lists no openssl commands"
    return table


# --- assertions about failures ---------------------------------------------------------------

def assert_clean_failure(proc: subprocess.CompletedProcess, needle: str | list[str], code: int = 1):
    """A failure as the tools promise it: the documented exit code, not a signal, exactly one
    line on stderr that contains `needle` (case-insensitive; any of a list)."""
    err = proc.stderr.decode(errors="replace")
    assert proc.returncode >= 0, f"killed by signal {-proc.returncode}; stderr: {err[:2000]}"
    assert "Fatal error" not in err and "crashed" not in err, f"crash: {err[:2000]}"
    assert proc.returncode == code, f"exit {proc.returncode}, expected {code}; stderr: {err[:2000]}"
    assert err.endswith("\n") and err.count("\n") == 1, f"not exactly one line on stderr: {err!r}"
    needles = [needle] if isinstance(needle, str) else needle
    assert any(n.lower() in err.lower() for n in needles), f"{needles!r} not in stderr: {err!r}"
    return err


def listing(directory: Path) -> set[str]:
    return set(os.listdir(directory))


# --- the .cpk frame ---------------------------------------------------------------------------

HEADER = struct.Struct("<IHHHHHH")


@dataclass
class ParsedCPK:
    magic: int
    version: int
    flags: int
    count: int
    manifest_index: int
    manifest_type: int
    manifest_version: int
    entries: list[tuple[int, int]]
    origin: int
    streams: list[bytes]


def parse_cpk(data: bytes) -> ParsedCPK:
    magic, version, flags, count, mindex, mtype, mversion = HEADER.unpack_from(data, 0)
    origin = 16 + 16 * count
    entries = [struct.unpack_from("<QQ", data, 16 + 16 * i) for i in range(count)]
    streams = [data[origin + off: origin + off + size] for off, size in entries]
    for (off, size), stream in zip(entries, streams):
        assert len(stream) == size, "stream outside the file"
    return ParsedCPK(magic, version, flags, count, mindex, mtype, mversion, entries, origin, streams)


def build_cpk(streams: list[bytes], manifest_index: int, *, order: list[int] | None = None,
              padding: int | list[int] = 0, lead: int = 0, trailing: bytes = b"",
              magic: int = 0x0ECCF00D, version: int = 1, flags: int = 0, count: int | None = None,
              manifest_type: int = 1, manifest_version: int = 1,
              entries: dict[int, tuple[int, int]] | None = None, pad_byte: bytes = b"\xA5") -> bytes:
    """Writes a .cpk: header, table, then the streams laid out in `order` (default index
    order) with `lead` bytes before the first and `padding` bytes after each. `entries`
    overrides table entries (index -> (offset, size)); `count` overrides the header's count
    without changing the table."""
    order = list(range(len(streams))) if order is None else order
    pads = padding if isinstance(padding, list) else [padding] * len(order)
    table = [(0, 0)] * len(streams)
    body = bytearray(pad_byte * lead)
    for position, index in enumerate(order):
        table[index] = (len(body), len(streams[index]))
        body += streams[index]
        body += pad_byte * pads[position]
    body += trailing
    for index, entry in (entries or {}).items():
        table[index] = entry
    header = HEADER.pack(magic, version, flags, len(streams) if count is None else count,
                         manifest_index, manifest_type, manifest_version)
    return header + b"".join(struct.pack("<QQ", off, size) for off, size in table) + bytes(body)


# --- the manifest -----------------------------------------------------------------------------

def manifest(cp_id: str = "test", *, name: str = "Unknown", vendor: str = "Unknown",
             date: str = "1970-01-01T00:00:00Z", data: int = 0, digest: int = 1,
             stream_map: list[int] | None = None) -> dict:
    """The manifest cpk-pack writes, as a dict in the reference key order."""
    return {
        "cp-id": cp_id, "cp-name": name, "cp-vendor": vendor,
        "payload": {
            "data": data,
            "target": {"arch": "aarch64", "os": "OP-TEE"},
            "ver": {"maj": 1, "min": 0, "rev": 0, "date": date},
            "enc": "none",
            "dig": {"sha256": {"data": digest}},
            "sig": "none",
            "cert": "none",
        },
        "package": {"map": [0, 1, 2] if stream_map is None else stream_map,
                    "dig": "none", "sig": "none", "cert": "none"},
    }


def compact(document) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def package(payload: bytes, document: dict | None = None, **layout) -> bytes:
    """A valid 3-stream package (payload 0, digest 1, manifest 2) written by this module."""
    document = manifest() if document is None else document
    return build_cpk([payload, hashlib.sha256(payload).digest(), compact(document)], 2, **layout)


# --- envelopes --------------------------------------------------------------------------------

@dataclass
class Item:
    start: int
    end: int
    value: object


def envelope_items(data: bytes) -> list[Item]:
    """Splits a CBOR sequence into items with their byte ranges, using cbor2 only."""
    stream = io.BytesIO(data)
    decoder = cbor2.CBORDecoder(stream)
    items = []
    while stream.tell() < len(data):
        start = stream.tell()
        value = decoder.decode()
        items.append(Item(start, stream.tell(), value))
    return items


def plain(value):
    """cbor2's frozen containers as ordinary dicts and lists, for comparing and editing."""
    if isinstance(value, cbor2.CBORTag):
        return cbor2.CBORTag(value.tag, plain(value.value))
    if hasattr(value, "items"):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


@dataclass
class Envelope:
    """An envelope as three editable parts; `encode()` writes them with cbor2."""
    header: dict
    chunks: list[bytes]
    trailer: dict
    tag: int | None = SELF_DESCRIBE
    extra: bytes = b""

    @staticmethod
    def of(payload: bytes, cp_id: str = "test", chunk: int = 1 << 20) -> "Envelope":
        header = {
            "cpk-envelope": 1,
            "manifest": manifest(cp_id),
            "manifest-stream": 2,
            "streams": ["payload", {"deferred": 32}, "manifest"],
            "payload-size": len(payload),
            "log": [],
        }
        chunks = [payload[i:i + chunk] for i in range(0, len(payload), chunk)]
        trailer = {"payload-size": len(payload), "streams": {1: hashlib.sha256(payload).digest()}}
        return Envelope(header, chunks, trailer)

    def encode_header(self) -> bytes:
        return cbor2.dumps(self.header if self.tag is None else cbor2.CBORTag(self.tag, self.header))

    def encode(self) -> bytes:
        return (self.encode_header() + b"".join(cbor2.dumps(c) for c in self.chunks)
                + cbor2.dumps(self.trailer) + self.extra)


def verify_results(out: str) -> dict:
    """check name -> (PASSED|FAILED|SKIPPED, detail), from cpk-verify's text lines."""
    found = {}
    for line in out.splitlines():
        name, _, rest = line.partition(" ")
        status, _, detail = rest.partition(": ")
        if status in ("PASSED", "FAILED", "SKIPPED"):
            found[name] = (status, detail)
    return found
