"""Pass-through steps move the payload without copying it through the process (issue 15).

`cpk-pack finish`, `cpk-unpack envelope` and `cpk-sign --payload` pass a payload on unchanged.
Where a pipe is on either side the kernel moves it (`splice(2)`): counted with strace, the
bytes the tool's `read` calls return stay far below the payload while `splice` moves all of it.
Where splice does not apply (a regular file to a file, to or from a socket) the bytes go through
a buffer, and every route gives the same output byte for byte as the others. Not a timing.
"""

import hashlib
import os
import re
import shutil
import socket
import subprocess
import threading

import pytest

from cpk import ENVELOPE_MAGIC, check, env_with, envelope_items, parse_cpk, run, sh, tool

MiB = 1 << 20
PAYLOAD_SIZE = 64 * MiB
STORE = os.path.join(os.path.dirname(__file__), "..", "..", "test.json")

# strace is installed by `make deps` (APT_PACKAGES): missing, the tests fail, never skip.
STRACE = shutil.which("strace")

READS = {"read", "readv", "pread64", "preadv", "preadv2"}
MOVES = {"splice", "copy_file_range", "sendfile", "sendfile64"}
CALL = re.compile(r"^\d+\s+(?:(\w+)\(.*?|<\.\.\. (\w+) resumed>.*?)\)\s+=\s+(-?\d+)")


def traced_bytes(trace: str) -> dict[str, int]:
    """Bytes returned per system call in an `strace -f -o` file (unfinished calls are counted
    on their `resumed` line)."""
    totals: dict[str, int] = {}
    for line in trace.splitlines():
        match = CALL.match(line)
        if match and "<unfinished" not in line:
            name = match.group(1) or match.group(2)
            totals[name] = totals.get(name, 0) + max(0, int(match.group(3)))
    return totals


def strace(command: str) -> str:
    """strace -f around one tool in a pipeline: `command` holds {tool}, replaced by the traced
    tool's command line."""
    assert STRACE, "strace is missing: make deps installs it"
    return f"{STRACE} -f -qq -s 0 -o trace -e trace=read,readv,pread64,preadv,preadv2,splice,copy_file_range,sendfile {command}"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pass-through")
    payload = os.urandom(PAYLOAD_SIZE)
    (directory / "payload").write_bytes(payload)
    check(run("cpk-pack", "--id", "test", "-o", "app.env", "payload", cwd=directory))
    check(sh(f"cpk-pack --id test payload | cpk-seal --file-store {STORE} --quiet -o sealed.env", cwd=directory, timeout=120))
    check(run("cpk-pack", "finish", "-o", "sealed.cpk", "sealed.env", cwd=directory))
    check(subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                          "-out", "signer.pem"], cwd=directory, capture_output=True))
    # References made file to file (no pipe anywhere, so no splice).
    check(run("cpk-pack", "finish", "-o", "app.cpk", "app.env", cwd=directory))
    check(run("cpk-sign", "--payload", "--key", "signer.pem", "--cpk", "-o", "signed.cpk", "sealed.env", cwd=directory))
    assert parse_cpk((directory / "app.cpk").read_bytes()).streams[0] == payload
    # The payload a .cpk made from the sealed envelope carries: its ciphertext.
    return directory, envelope_payload_digest((directory / "sealed.env").read_bytes())


def envelope_payload_digest(data: bytes) -> bytes:
    assert data.startswith(ENVELOPE_MAGIC)
    digest = hashlib.sha256()
    for item in envelope_items(data)[1:-1]:
        digest.update(item.value)
    return digest.digest()


CASES = [
    # (name, pipeline with {tool}, the output file, how to compare it)
    ("pack-finish pipe to pipe", "cat app.env | {tool} | cat > out", "cpk-pack finish", "app.cpk"),
    ("pack-finish pipe to file", "cat app.env | {tool} -o out", "cpk-pack finish", "app.cpk"),
    ("unpack-envelope file to pipe", "{tool} sealed.cpk | cat > out", "cpk-unpack envelope", "envelope"),
    ("sign-payload pipe to pipe", "cat sealed.env | {tool} | cat > out",
     "cpk-sign --payload --key signer.pem --cpk", "signed.cpk"),
]


@pytest.mark.parametrize("name,pipeline,command,reference", CASES, ids=[c[0] for c in CASES])
def test_splice_moves_the_payload_in_the_kernel(inputs, name, pipeline, command, reference):
    directory, sealed_digest = inputs
    words = command.split()
    traced = strace(f"{tool(words[0])} {' '.join(words[1:])}")
    check(sh("set -o pipefail; " + pipeline.format(tool=traced), cwd=directory, env=env_with(), timeout=120))
    totals = traced_bytes((directory / "trace").read_text())
    read = sum(totals.get(call, 0) for call in READS)
    moved = sum(totals.get(call, 0) for call in MOVES)
    # The head, the stream table and 9 bytes per chunk head are read; the program's own start
    # (shared libraries, locale) reads a few hundred KiB at most.
    assert read < 2 * MiB, f"{name}: {read} bytes read through user space ({totals})"
    assert moved >= PAYLOAD_SIZE - 64 * 1024, f"{name}: only {moved} bytes moved by the kernel ({totals})"
    out = (directory / "out").read_bytes()
    if reference == "envelope":
        assert envelope_payload_digest(out) == sealed_digest
    else:
        assert out == (directory / reference).read_bytes()


def test_identical_output_where_splice_does_not_apply(inputs, workdir):
    """File to file, to a FIFO, to and from a socket: the same bytes by every route."""
    directory, sealed_digest = inputs
    for name in ("app.env", "sealed.env", "sealed.cpk", "signer.pem"):
        os.symlink(directory / name, workdir / name)
    expected_cpk = (directory / "app.cpk").read_bytes()
    expected_signed = (directory / "signed.cpk").read_bytes()

    # A regular file to a regular file.
    check(run("cpk-pack", "finish", "-o", "file.cpk", "app.env"))
    assert (workdir / "file.cpk").read_bytes() == expected_cpk
    check(run("cpk-sign", "--payload", "--key", "signer.pem", "--cpk", "-o", "file-signed.cpk", "sealed.env"))
    assert (workdir / "file-signed.cpk").read_bytes() == expected_signed
    check(run("cpk-unpack", "envelope", "-o", "file.env", "sealed.cpk"))
    assert envelope_payload_digest((workdir / "file.env").read_bytes()) == sealed_digest

    # A FIFO as the output, read by another process.
    os.mkfifo(workdir / "fifo")
    reader = subprocess.Popen(["sh", "-c", "cat fifo > fifo.cpk"], cwd=workdir)
    check(run("cpk-pack", "finish", "-o", "fifo", "app.env"))
    assert reader.wait(timeout=60) == 0
    assert (workdir / "fifo.cpk").read_bytes() == expected_cpk

    # A socket as the output (from a regular file: neither side a pipe), and as the input.
    assert socket_output(["cpk-pack", "finish", "app.env"], workdir) == expected_cpk
    assert envelope_payload_digest(socket_output(["cpk-unpack", "envelope", "sealed.cpk"], workdir)) == sealed_digest
    assert socket_input(["cpk-sign", "--payload", "--key", "signer.pem", "--cpk", "-o", "socket-signed.cpk", "-"],
                        workdir, (directory / "sealed.env").read_bytes()) == 0
    assert (workdir / "socket-signed.cpk").read_bytes() == expected_signed


def test_pack_splices_a_file_payload_into_a_pipe(inputs, workdir):
    """cpk-pack reads a file payload to hash it, then splices the same range of the file into
    its output pipe: nothing is copied into the pipe (the writes carry only the header, chunk
    heads and trailer). Every other route (a file, a socket) copies, with the same bytes; a
    reader that is slow to start changes nothing (no buffer is lent to the pipe)."""
    directory, _ = inputs
    os.symlink(directory / "payload", workdir / "payload")
    fixed = env_with(SOURCE_DATE_EPOCH="0")
    check(run("cpk-pack", "--id", "test", "-o", "file.env", "payload", env=fixed))
    expected = (workdir / "file.env").read_bytes()
    assert len(expected) > PAYLOAD_SIZE

    traced = f"{STRACE} -f -qq -s 0 -o trace -e trace=write,writev,splice {tool('cpk-pack')} --id test payload"
    check(sh(f"set -o pipefail; {traced} | cat > piped.env", cwd=workdir, env=fixed, timeout=120))
    totals = traced_bytes((workdir / "trace").read_text())
    written = totals.get("write", 0) + totals.get("writev", 0)
    assert written < MiB, f"{written} bytes written through user space ({totals})"
    assert totals.get("splice", 0) >= PAYLOAD_SIZE, totals
    assert (workdir / "piped.env").read_bytes() == expected

    check(sh("set -o pipefail; cpk-pack --id test payload | (sleep 1; cat) > slow.env", cwd=workdir, env=fixed, timeout=120))
    assert (workdir / "slow.env").read_bytes() == expected
    os.mkfifo(workdir / "fifo")
    reader = subprocess.Popen(["sh", "-c", "sleep 0.5; cat fifo > fifo.env"], cwd=workdir)
    check(run("cpk-pack", "--id", "test", "-o", "fifo", "payload", env=fixed))
    assert reader.wait(timeout=60) == 0
    assert (workdir / "fifo.env").read_bytes() == expected
    assert socket_output(["cpk-pack", "--id", "test", "payload"], workdir, env=fixed) == expected


def socket_output(command: list[str], cwd, env=None) -> bytes:
    ours, theirs = socket.socketpair()
    received = bytearray()

    def drain():
        while chunk := ours.recv(1 << 20):
            received.extend(chunk)

    thread = threading.Thread(target=drain)
    thread.start()
    proc = subprocess.run([tool(command[0]), *command[1:]], stdout=theirs, stderr=subprocess.PIPE, cwd=cwd,
                          env=env or env_with(), timeout=120)
    theirs.close()
    thread.join(timeout=60)
    ours.close()
    assert proc.returncode == 0, proc.stderr
    return bytes(received)


def socket_input(command: list[str], cwd, data: bytes) -> int:
    ours, theirs = socket.socketpair()

    def feed():
        ours.sendall(data)
        ours.shutdown(socket.SHUT_WR)

    thread = threading.Thread(target=feed)
    thread.start()
    proc = subprocess.run([tool(command[0]), *command[1:]], stdin=theirs, stderr=subprocess.PIPE, cwd=cwd,
                          env=env_with(), timeout=120)
    theirs.close()
    thread.join(timeout=60)
    ours.close()
    assert proc.returncode == 0, proc.stderr
    return proc.returncode
