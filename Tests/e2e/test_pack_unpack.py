"""End-to-end behaviour of cpk-pack and cpk-unpack on valid input (docs/format.md)."""

import collections.abc
import hashlib
import io
import json
import os
import time
import pty
import random
import select
import subprocess

import cbor2
import pytest

import cpk
from cpk import check, run, sh

MiB = 1 << 20
SIZES = {"empty": 0, "one-byte": 1, "1MiB+1": MiB + 1, "3MiB": 3 * MiB}
KEY_ORDER = ["cp-id", "cp-name", "cp-vendor", "payload", "package"]
PAYLOAD_KEY_ORDER = ["data", "target", "ver", "enc", "dig", "sig", "cert"]


def random_bytes(size: int, seed: int = 0) -> bytes:
    return random.Random(f"{seed}/{size}").randbytes(size)


def write_payload(directory, size: int, name: str = "payload.bin") -> bytes:
    data = random_bytes(size)
    (directory / name).write_bytes(data)
    return data


def pack_cpk(directory, payload: bytes = b"hello, package\n", *args, epoch: str | None = "0",
             name: str = "x.cpk") -> bytes:
    (directory / "in.bin").write_bytes(payload)
    env = cpk.env_with(SOURCE_DATE_EPOCH=epoch) if epoch is not None else None
    check(run("cpk-pack", "--id", "test", *args, "--cpk", "-o", name, "in.bin", cwd=directory, env=env))
    return (directory / name).read_bytes()


# --- round trips ------------------------------------------------------------------------------

ROUTES = {
    # name: (pipeline producing out.cpk or out.env from payload.bin, the package file it leaves)
    "envelope|finish": ("cpk-pack --id test payload.bin | cpk-pack finish -o out.cpk", "out.cpk"),
    "--cpk -o": ("cpk-pack --id test --cpk -o out.cpk payload.bin", "out.cpk"),
    "stdin --cpk -o": ("cat payload.bin | cpk-pack --id test --cpk -o out.cpk -", "out.cpk"),
    "stdin|finish": ("cat payload.bin | cpk-pack --id test - | cpk-pack finish -o out.cpk", "out.cpk"),
    "stdin > envelope": ("cat payload.bin | cpk-pack --id test - > out.env", "out.env"),
    "envelope file": ("cpk-pack --id test payload.bin > out.env", "out.env"),
}


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
@pytest.mark.parametrize("route", ROUTES.keys())
def test_round_trip(workdir, route, size):
    payload = write_payload(workdir, size)
    script, produced = ROUTES[route]
    check(sh(script, cwd=workdir))
    package = (workdir / produced).read_bytes()
    if produced.endswith(".cpk"):
        assert package[:4] == cpk.MAGIC
    else:
        assert package[:3] == cpk.ENVELOPE_MAGIC
    check(sh(f"cpk-unpack payload -o out {produced}", cwd=workdir))
    assert (workdir / "out").read_bytes() == payload
    # the same package on a pipe, and the payload on a pipe
    released = check(sh(f"cat {produced} | cpk-unpack payload", cwd=workdir)).stdout
    assert released == payload


@pytest.mark.parametrize("size", [0, 1, MiB + 1], ids=["empty", "one-byte", "1MiB+1"])
def test_pack_piped_straight_into_unpack(workdir, size):
    payload = write_payload(workdir, size)
    check(sh("cpk-pack --id test payload.bin | cpk-unpack payload -o out", cwd=workdir))
    assert (workdir / "out").read_bytes() == payload
    out = check(sh("cat payload.bin | cpk-pack --id test - | cpk-unpack payload", cwd=workdir)).stdout
    assert out == payload


def test_every_route_writes_the_same_bytes_as_an_independent_writer(workdir):
    """With SOURCE_DATE_EPOCH fixed, every route gives the reference layout byte for byte, the
    same bytes this test suite's own writer produces from docs/format.md."""
    payload = write_payload(workdir, MiB + 1)
    env = cpk.env_with(SOURCE_DATE_EPOCH="0")
    outputs = {}
    for route, (script, produced) in ROUTES.items():
        if not produced.endswith(".cpk"):
            continue
        check(sh(script, cwd=workdir, env=env))
        outputs[route] = (workdir / produced).read_bytes()
        (workdir / produced).unlink()
    expected = cpk.package(payload, cpk.manifest("test", date="1970-01-01T00:00:00Z"))
    for route, data in outputs.items():
        assert data == expected, f"{route} differs from the reference layout"


# --- the manifest -----------------------------------------------------------------------------

def test_manifest_defaults(workdir):
    pack_cpk(workdir, b"abc", epoch=None)
    proc = check(run("cpk-unpack", "manifest", "x.cpk", cwd=workdir))
    text = proc.stdout.decode()
    assert text.endswith("\n") and text.count("\n") == 1
    doc = json.loads(text)
    assert doc["cp-id"] == "test"
    assert doc["cp-name"] == "Unknown"
    assert doc["cp-vendor"] == "Unknown"
    p = doc["payload"]
    assert p["data"] == 0
    assert p["target"] == {"arch": "aarch64", "os": "OP-TEE"}
    assert (p["ver"]["maj"], p["ver"]["min"], p["ver"]["rev"]) == (1, 0, 0)
    assert isinstance(p["ver"]["date"], str) and p["ver"]["date"].endswith("Z")
    assert p["enc"] == "none"
    assert p["dig"]["sha256"]["data"] == 1
    assert p["sig"] == "none"
    assert p["cert"] == "none"
    assert doc["package"]["map"] == [0, 1, 2]
    assert list(doc) == KEY_ORDER
    assert list(p) == PAYLOAD_KEY_ORDER


def test_manifest_options_are_honoured(workdir):
    pack_cpk(workdir, b"abc", "--display-name", "Demo App", "--vendor", "Acme Corp.", "--app-version", "2.13.407",
             "--arch", "x86_64", "--os", "Linux", "--date", "2026-11-26T08:00:00Z")
    doc = json.loads(check(run("cpk-unpack", "manifest", "x.cpk", cwd=workdir)).stdout)
    assert doc["cp-id"] == "test"
    assert doc["cp-name"] == "Demo App"
    assert doc["cp-vendor"] == "Acme Corp."
    assert doc["payload"]["target"] == {"arch": "x86_64", "os": "Linux"}
    assert doc["payload"]["ver"] == {"maj": 2, "min": 13, "rev": 407, "date": "2026-11-26T08:00:00Z"}


def test_manifest_of_envelope_and_pretty(workdir):
    (workdir / "in.bin").write_bytes(b"xyz")
    env = cpk.env_with(SOURCE_DATE_EPOCH="0")
    check(run("cpk-pack", "--id", "app.one/v2:x_y-z", "--display-name", "N", "in.bin", "-o", "x.env", cwd=workdir, env=env))
    compact = json.loads(check(run("cpk-unpack", "manifest", "x.env", cwd=workdir)).stdout)
    pretty = check(run("cpk-unpack", "manifest", "--pretty", "x.env", cwd=workdir)).stdout.decode()
    assert pretty.count("\n") > 5
    assert json.loads(pretty) == compact
    assert compact["cp-id"] == "app.one/v2:x_y-z"
    assert compact["cp-name"] == "N"


def test_manifest_printed_equals_manifest_stream(workdir):
    data = pack_cpk(workdir, b"abc")
    parsed = cpk.parse_cpk(data)
    printed = check(run("cpk-unpack", "manifest", "x.cpk", cwd=workdir)).stdout
    assert printed == parsed.streams[2] + b"\n"


@pytest.mark.parametrize("bad_id", ["", "has space", "x" * 129, "é"])
def test_invalid_id_is_a_usage_error(workdir, bad_id):
    (workdir / "in.bin").write_bytes(b"abc")
    proc = run("cpk-pack", "--id", bad_id, "--cpk", "-o", "x.cpk", "in.bin", cwd=workdir)
    assert proc.returncode == 2
    assert b"--id" in proc.stderr
    assert not (workdir / "x.cpk").exists()


@pytest.mark.parametrize("bad_version", ["1.2", "1.2.3.4", "a.b.c", "1.-2.3"])
def test_invalid_version_is_a_usage_error(workdir, bad_version):
    (workdir / "in.bin").write_bytes(b"abc")
    proc = run("cpk-pack", "--id", "t", "--app-version", bad_version, "in.bin", "-o", "x.env", cwd=workdir)
    assert proc.returncode == 2
    assert b"--app-version" in proc.stderr
    assert cpk.listing(workdir) == {"in.bin"}


# --- the .cpk bytes ---------------------------------------------------------------------------

def test_cpk_frame(workdir):
    payload = random_bytes(5000)
    data = pack_cpk(workdir, payload)
    assert data[:4] == bytes([0x0D, 0xF0, 0xCC, 0x0E])
    parsed = cpk.parse_cpk(data)
    assert parsed.magic == 0x0ECCF00D
    assert parsed.version == 1
    assert parsed.flags == 0
    assert parsed.count == 3
    assert parsed.manifest_index == 2
    assert parsed.manifest_type == 1
    assert parsed.manifest_version == 1
    assert parsed.origin == 16 + 16 * 3
    assert parsed.streams[0] == payload
    assert parsed.streams[1] == hashlib.sha256(payload).digest()
    manifest_bytes = parsed.streams[2]
    assert b" " not in manifest_bytes and b"\n" not in manifest_bytes
    doc = json.loads(manifest_bytes)
    assert list(doc) == KEY_ORDER
    assert list(doc["payload"]) == PAYLOAD_KEY_ORDER
    assert manifest_bytes == cpk.compact(doc)
    # reference layout: streams in index order, no padding, nothing after the last stream
    assert parsed.entries == [(0, 5000), (5000, 32), (5032, len(manifest_bytes))]
    assert len(data) == parsed.origin + 5032 + len(manifest_bytes)


# --- the envelope -----------------------------------------------------------------------------

def test_envelope_items_decode_with_cbor2(workdir):
    payload = random_bytes(2 * MiB + 12345)
    (workdir / "in.bin").write_bytes(payload)
    check(run("cpk-pack", "--id", "env-test", "in.bin", "-o", "x.env", cwd=workdir))
    raw = (workdir / "x.env").read_bytes()
    assert raw[:3] == bytes([0xD9, 0xD9, 0xF7])

    decoder = cbor2.CBORDecoder(io.BytesIO(raw))
    items = []
    while True:
        try:
            items.append(decoder.decode())
        except cbor2.CBORDecodeEOF:
            break
    assert len(items) >= 3
    header, chunks, trailer = items[0], items[1:-1], items[-1]

    assert isinstance(header, collections.abc.Mapping)  # the 55799 tag is stripped by cbor2
    assert header["cpk-envelope"] == 1
    assert isinstance(header["manifest"], collections.abc.Mapping)
    assert header["manifest"]["cp-id"] == "env-test"
    assert isinstance(header["streams"], (list, tuple)) and len(header["streams"]) == 3
    assert header["payload-size"] == len(payload)

    assert all(isinstance(c, bytes) and c for c in chunks)
    assert len(chunks) >= 3  # the payload flows in bounded chunks
    assert b"".join(chunks) == payload

    assert isinstance(trailer, collections.abc.Mapping)
    assert trailer["payload-size"] == len(payload)
    assert dict(trailer["streams"]) == {1: hashlib.sha256(payload).digest()}


def test_envelope_from_stdin_has_no_announced_size(workdir):
    payload = random_bytes(1000)
    out = check(run("cpk-pack", "--id", "t", "-", input=payload)).stdout
    items = cpk.envelope_items(out)
    assert items[0].value["payload-size"] is None
    assert b"".join(i.value for i in items[1:-1]) == payload
    assert items[-1].value["payload-size"] == 1000


def test_envelope_written_by_another_writer_is_read(workdir):
    """An envelope made by cbor2 from the documented shape is accepted and finished."""
    payload = random_bytes(3000)
    envelope = cpk.Envelope.of(payload, chunk=1000)
    (workdir / "py.env").write_bytes(envelope.encode())
    check(run("cpk-pack", "finish", "-o", "x.cpk", "py.env", cwd=workdir))
    assert (workdir / "x.cpk").read_bytes() == cpk.package(payload)
    check(run("cpk-unpack", "payload", "-o", "out", "py.env", cwd=workdir))
    assert (workdir / "out").read_bytes() == payload


# --- reproducibility and dates ----------------------------------------------------------------

def test_source_date_epoch_reproducible(workdir):
    payload = random_bytes(10000)
    first = pack_cpk(workdir, payload, epoch="0", name="a.cpk")
    second = pack_cpk(workdir, payload, epoch="0", name="b.cpk")
    assert first == second
    doc = json.loads(check(run("cpk-unpack", "manifest", "a.cpk", cwd=workdir)).stdout)
    assert doc["payload"]["ver"]["date"] == "1970-01-01T00:00:00Z"
    env = cpk.env_with(SOURCE_DATE_EPOCH="0")
    e1 = check(run("cpk-pack", "--id", "test", "in.bin", cwd=workdir, env=env)).stdout
    e2 = check(run("cpk-pack", "--id", "test", "in.bin", cwd=workdir, env=env)).stdout
    assert e1 == e2  # envelopes too, log time included


def test_source_date_epoch_value(workdir):
    pack_cpk(workdir, b"a", epoch="1764145395")
    doc = json.loads(check(run("cpk-unpack", "manifest", "x.cpk", cwd=workdir)).stdout)
    assert doc["payload"]["ver"]["date"] == "2025-11-26T08:23:15Z"


def test_source_date_epoch_garbage_is_rejected(workdir):
    (workdir / "in.bin").write_bytes(b"a")
    proc = run("cpk-pack", "--id", "t", "--cpk", "-o", "x.cpk", "in.bin", cwd=workdir,
               env=cpk.env_with(SOURCE_DATE_EPOCH="yesterday"))
    cpk.assert_clean_failure(proc, "SOURCE_DATE_EPOCH", code=2)
    assert cpk.listing(workdir) == {"in.bin"}


@pytest.mark.parametrize("date", ["2026-11-26T08:23:15Z", "2026-11-26T08:23:15.309608734Z",
                                  "2026-11-26T09:23:15+01:00"])
def test_date_accepts_rfc3339(workdir, date):
    pack_cpk(workdir, b"a", "--date", date)
    doc = json.loads(check(run("cpk-unpack", "manifest", "x.cpk", cwd=workdir)).stdout)
    assert doc["payload"]["ver"]["date"] == date


@pytest.mark.parametrize("date", ["yesterday", "2026-11-26", "2026-11-26 08:23:15", "2026-11-26T08:23:15"])
def test_date_rejects_non_rfc3339(workdir, date):
    (workdir / "in.bin").write_bytes(b"a")
    proc = run("cpk-pack", "--id", "t", "--date", date, "--cpk", "-o", "x.cpk", "in.bin", cwd=workdir)
    assert proc.returncode == 2
    assert b"--date" in proc.stderr
    assert cpk.listing(workdir) == {"in.bin"}


# --- list, info, extract ------------------------------------------------------------------------

def test_list_text_and_json(workdir):
    payload = random_bytes(777)
    data = pack_cpk(workdir, payload)
    manifest_size = len(cpk.parse_cpk(data).streams[2])
    text = check(run("cpk-unpack", "list", "x.cpk", cwd=workdir)).stdout.decode()
    rows = [line.split() for line in text.splitlines()]
    assert rows[0] == ["INDEX", "ROLE", "OFFSET", "SIZE"]
    assert rows[1:] == [["0", "payload", "0", "777"], ["1", "payload-digest", "777", "32"],
                        ["2", "manifest", "809", str(manifest_size)]]
    expected = [
        {"index": 0, "role": "payload", "offset": 0, "size": 777},
        {"index": 1, "role": "payload-digest", "offset": 777, "size": 32},
        {"index": 2, "role": "manifest", "offset": 809, "size": manifest_size},
    ]
    assert json.loads(check(run("cpk-unpack", "list", "--json", "x.cpk", cwd=workdir)).stdout) == expected
    # from a pipe
    assert json.loads(check(sh("cat x.cpk | cpk-unpack list --json", cwd=workdir)).stdout) == expected
    assert check(sh("cat x.cpk | cpk-unpack list", cwd=workdir)).stdout.decode() == text


def test_list_of_envelope(workdir):
    (workdir / "in.bin").write_bytes(random_bytes(777))
    out = check(sh("cpk-pack --id t in.bin | cpk-unpack list --json", cwd=workdir)).stdout
    streams = json.loads(out)
    assert [(s["index"], s["role"], s["offset"]) for s in streams] == [
        (0, "payload", None), (1, "payload-digest", None), (2, "manifest", None)]
    assert [s["size"] for s in streams[:2]] == [777, 32]


def test_info_text_and_json(workdir):
    payload = random_bytes(4242)
    pack_cpk(workdir, payload, "--display-name", "Demo", "--vendor", "Acme")
    digest = hashlib.sha256(payload).hexdigest()
    info = json.loads(check(run("cpk-unpack", "info", "--json", "x.cpk", cwd=workdir)).stdout)
    assert info["id"] == "test"
    assert info["payload-size"] == 4242
    assert info["payload-digest"] == digest
    assert info["name"] == "Demo" and info["vendor"] == "Acme"
    assert info["encryption"] == "none"
    text = check(run("cpk-unpack", "info", "x.cpk", cwd=workdir)).stdout.decode()
    assert "test" in text and "4242" in text and digest in text and "Demo" in text
    # info is the default subcommand
    assert check(run("cpk-unpack", "x.cpk", cwd=workdir)).stdout.decode() == text
    # an envelope on a pipe gives the same facts
    info_env = json.loads(check(sh("cpk-pack --id test in.bin | cpk-unpack info --json", cwd=workdir)).stdout)
    assert (info_env["id"], info_env["payload-size"], info_env["payload-digest"]) == ("test", 4242, digest)


def test_extract_streams(workdir):
    payload = random_bytes(3000)
    data = pack_cpk(workdir, payload)
    parsed = cpk.parse_cpk(data)
    digest = check(run("cpk-unpack", "extract", "1", "x.cpk", cwd=workdir)).stdout
    assert digest == hashlib.sha256(payload).digest()
    assert check(run("cpk-unpack", "extract", "0", "x.cpk", cwd=workdir)).stdout == payload
    assert check(run("cpk-unpack", "extract", "2", "x.cpk", cwd=workdir)).stdout == parsed.streams[2]
    check(run("cpk-unpack", "extract", "1", "-o", "d.bin", "x.cpk", cwd=workdir))
    assert (workdir / "d.bin").read_bytes() == digest
    # from an envelope on a pipe, the digest arrives after the payload
    out = check(sh("cpk-pack --id t in.bin | cpk-unpack extract 1", cwd=workdir)).stdout
    assert out == digest


@pytest.mark.parametrize("index", ["3", "65535", "99999999"])
def test_extract_out_of_range(workdir, index):
    pack_cpk(workdir, b"abc")
    before = cpk.listing(workdir)
    proc = run("cpk-unpack", "extract", index, "-o", "out", "x.cpk", cwd=workdir)
    assert proc.returncode == 2
    assert b"no stream" in proc.stderr
    assert proc.stdout == b""
    assert cpk.listing(workdir) == before


def test_envelope_then_finish_reproduces_cpk(workdir):
    data = pack_cpk(workdir, random_bytes(MiB + 5), "--display-name", "Round", "--vendor", "Trip")
    check(sh("cpk-unpack envelope x.cpk | cpk-pack finish -o y.cpk", cwd=workdir))
    assert (workdir / "y.cpk").read_bytes() == data
    check(run("cpk-unpack", "envelope", "-o", "x.env", "x.cpk", cwd=workdir))
    items = cpk.envelope_items((workdir / "x.env").read_bytes())
    assert [e["tool"] for e in items[0].value["log"]] == ["cpk-unpack"]
    check(run("cpk-pack", "finish", "-o", "z.cpk", "x.env", cwd=workdir))
    assert (workdir / "z.cpk").read_bytes() == data
    # finishing a .cpk is the identity too
    check(sh("cat x.cpk | cpk-pack finish > w.cpk", cwd=workdir))
    assert (workdir / "w.cpk").read_bytes() == data


# --- terminals ----------------------------------------------------------------------------------

def run_with_terminal_stdout(args, cwd):
    master, slave = pty.openpty()
    try:
        proc = subprocess.run(args, stdout=slave, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                              cwd=cwd, env=cpk.env_with(), timeout=cpk.TIMEOUT)
        written = b""
        while select.select([master], [], [], 0.2)[0]:
            chunk = os.read(master, 65536)
            if not chunk:
                break
            written += chunk
        return proc, written
    finally:
        os.close(slave)
        os.close(master)


@pytest.mark.parametrize("command", [
    ["cpk-pack", "--id", "t", "in.bin"],
    ["cpk-pack", "finish", "x.cpk"],
    ["cpk-unpack", "payload", "x.cpk"],
    ["cpk-unpack", "extract", "1", "x.cpk"],
    ["cpk-unpack", "envelope", "x.cpk"],
])
def test_refuses_binary_to_terminal(workdir, command):
    pack_cpk(workdir, b"secret payload bytes")
    proc, written = run_with_terminal_stdout([cpk.tool(command[0]), *command[1:]], workdir)
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert "terminal" in err and err.count("\n") == 1
    assert written == b""


def test_text_output_to_terminal_is_allowed(workdir):
    pack_cpk(workdir, b"abc")
    proc, written = run_with_terminal_stdout([cpk.tool("cpk-unpack"), "list", "x.cpk"], workdir)
    assert proc.returncode == 0
    assert b"payload-digest" in written


# --- the other tools, help, exit codes -----------------------------------------------------------

@pytest.mark.parametrize("name", cpk.TOOLS)
def test_every_tool_has_help_and_none_claims_to_be_unimplemented(workdir, name):
    """Every tool answers --help, and none says it is not implemented (the placeholder error of
    earlier rounds is gone); run without input, each fails or works, never crashes."""
    helped = run(name, "--help", cwd=workdir)
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.strip() and b"not implemented" not in helped.stdout.lower()
    proc = run(name, stdin=subprocess.DEVNULL, cwd=workdir)
    assert proc.returncode in (0, 1, 2), proc.returncode


@pytest.mark.parametrize("name", cpk.TOOLS)
def test_help_exits_zero(name):
    proc = run(name, "--help")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.decode()
    assert "USAGE" in text.upper()
    if name in ("cpk-pack", "cpk-unpack"):
        assert "Examples" in text


@pytest.mark.parametrize("args", [["cpk-pack", "finish"], ["cpk-unpack", "payload"], ["cpk-unpack", "list"],
                                  ["cpk-unpack", "extract"], ["cpk-unpack", "manifest"], ["cpk-unpack", "envelope"],
                                  ["cpk-unpack", "info"]])
def test_subcommand_help_exits_zero(args):
    proc = run(*args, "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()


def test_missing_id_is_usage_error(workdir):
    (workdir / "in.bin").write_bytes(b"abc")
    proc = run("cpk-pack", "in.bin", "--cpk", "-o", "x.cpk", cwd=workdir)
    assert proc.returncode == 2
    assert b"--id" in proc.stderr
    assert cpk.listing(workdir) == {"in.bin"}


@pytest.mark.parametrize("command", [
    ["cpk-pack", "--id", "t", "--cpk", "-o", "x.cpk", "missing.bin"],
    ["cpk-pack", "finish", "-o", "x.cpk", "missing.cpk"],
    ["cpk-unpack", "payload", "-o", "x.out", "missing.cpk"],
    ["cpk-unpack", "info", "missing.cpk"],
])
def test_nonexistent_input_is_exit_2(workdir, command):
    proc = run(*command, cwd=workdir)
    cpk.assert_clean_failure(proc, "missing", code=2)
    assert cpk.listing(workdir) == set()


def test_directory_input_is_exit_2(workdir):
    (workdir / "d").mkdir()
    proc = run("cpk-pack", "--id", "t", "--cpk", "-o", "x.cpk", "d", cwd=workdir)
    cpk.assert_clean_failure(proc, "directory", code=2)
    assert cpk.listing(workdir) == {"d"}


def test_output_in_missing_directory_is_exit_2(workdir):
    (workdir / "in.bin").write_bytes(b"abc")
    proc = run("cpk-pack", "--id", "t", "--cpk", "-o", "nowhere/x.cpk", "in.bin", cwd=workdir)
    cpk.assert_clean_failure(proc, "nowhere", code=2)


def test_invalid_package_is_exit_1(workdir):
    (workdir / "junk.cpk").write_bytes(b"this is not a package at all")
    for command in (["cpk-unpack", "info", "junk.cpk"], ["cpk-unpack", "payload", "-o", "out", "junk.cpk"],
                    ["cpk-pack", "finish", "-o", "out", "junk.cpk"]):
        proc = run(*command, cwd=workdir)
        cpk.assert_clean_failure(proc, "neither an envelope", code=1)
    assert cpk.listing(workdir) == {"junk.cpk"}


def test_unknown_option_is_exit_2(workdir):
    proc = run("cpk-unpack", "list", "--bogus", "x.cpk", cwd=workdir)
    assert proc.returncode == 2
    assert proc.stderr.strip()


@pytest.mark.parametrize("argv", [["cpk-verify", "--integrity-only"], ["cpk-unpack"], ["cpk-unpack", "list"],
                                  ["cpk-install", "--state", "st"], ["cpk-pack", "finish"]])
def test_a_package_is_never_read_from_a_terminal(workdir, argv):
    """With standard input a terminal, a tool that reads a package says so at once (exit 2)
    instead of waiting there in silence."""
    import pty
    import select
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(workdir)
        os.execv(cpk.tool(argv[0]), argv)
    out, deadline = b"", time.monotonic() + 10
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 2, out
    assert b"standard input is a terminal" in out, out
