"""Crash and resource safety of every tool that writes files (issue 7, item 3).

The writers: cpk-pack (a .cpk or an envelope, from a file or a pipe), cpk-pack finish,
cpk-seal, cpk-unpack payload (decrypting) and envelope, cpk-wrap keygen and unwrap,
cpk-keyfetch -o, and cpk-keyfetch provision rewriting a file key store. For each:

- kill -9 at random moments, and at chosen points of the output write: the tool is stopped
  (SIGSTOP) once its anonymous output file holds part of the output, the output's name is
  checked then and after the SIGKILL. The name only ever shows nothing, the previous content,
  or the complete new output; no temporary file is left beside it;
- a full disk (a small tmpfs; RLIMIT_FSIZE with SIGXFSZ ignored, where a mount is impossible
  too): one clear line naming the reason, exit status 2, the previous content intact, nothing
  left behind, the space given back;
- an unwritable output directory (a read-only tmpfs, since root ignores permission bits; a
  path under /proc; a missing directory): the same.

Random choices come from a seeded generator (CPK_CRASH_SEED, printed on failure), so a
failure can be replayed. Large files are only ever hashed here, in pieces: the test process
stays small, since every process it starts inherits its peak RSS as a starting point (the
kernel's accounting), which other tests measure.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import re
import resource
import shutil
import signal
import stat
import struct
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

import cpk
from cpk import REPO, check, env_with, listing, run

STORE = REPO / "test.json"
TEST_KEY = base64.b64decode(json.loads(STORE.read_text())["test"])
PAYLOAD_SIZE = 24 << 20
SEED = int(os.environ.get("CPK_CRASH_SEED", "7"))
PREVIOUS = b"the previous content of the output, which must survive any failure\n"


# --- the material the writers read -------------------------------------------------------------

@dataclass
class Material:
    directory: Path
    payload: Path
    envelope: Path  # plaintext envelope of the payload
    package: Path  # plaintext .cpk of the payload
    sealed: Path  # sealed .cpk of the payload
    agent_key: Path
    agent_public: Path
    wrapped_key: Path  # the test key, wrapped to agent_public
    store: bytes  # a file key store: test.json plus one more key


@pytest.fixture(scope="module")
def material(tmp_path_factory) -> Material:
    d = tmp_path_factory.mktemp("crash-material")
    generator = random.Random(SEED)
    with open(d / "payload", "wb") as payload:
        for _ in range(PAYLOAD_SIZE >> 20):
            payload.write(generator.randbytes(1 << 20))
    env = env_with(SOURCE_DATE_EPOCH="0")
    check(run("cpk-pack", "--id", "test", "-o", d / "plain.env", d / "payload", env=env))
    check(run("cpk-pack", "--id", "test", "--cpk", "-o", d / "plain.cpk", d / "payload", env=env))
    check(run("cpk-seal", "--file-store", STORE, "--quiet", "--cpk", "-o", d / "sealed.cpk", d / "plain.env", env=env))
    check(run("cpk-wrap", "keygen", "-o", d / "agent.pem", "--public-out", d / "agent.pub"))
    check(run("cpk-keyfetch", "--key-name", "test", "--file-store", STORE, "--to", d / "agent.pub", "-o", d / "test.wkey"))
    store = {"test": json.loads(STORE.read_text())["test"], "other": base64.b64encode(b"\x01" * 32).decode()}
    return Material(d, d / "payload", d / "plain.env", d / "plain.cpk", d / "sealed.cpk", d / "agent.pem",
                    d / "agent.pub", d / "test.wkey", json.dumps(store, indent=2).encode())


# --- the writers ---------------------------------------------------------------------------------

def digest(path: Path) -> str:
    """SHA-256 of a file, read in pieces."""
    hasher = hashlib.sha256()
    with open(path, "rb") as file:
        while piece := file.read(1 << 20):
            hasher.update(piece)
    return hasher.hexdigest()


def holds(path: Path, content: bytes) -> bool:
    """True when a file holds exactly `content` (small), without reading a large file."""
    return path.stat().st_size == len(content) and path.read_bytes() == content


def same_as_reference(writer: "Writer", m: Material, out: Path):
    assert digest(out) == digest(writer.reference(m)), f"{out.name} differs from an uninterrupted run's output"


def decrypts_to_payload(writer: "Writer", m: Material, out: Path):
    plain = out.parent.parent / f"decrypted-{out.parent.name}-{out.name}"
    try:
        check(run("cpk-unpack", "payload", "--file-store", STORE, "--quiet", "-o", plain, out))
        assert digest(plain) == digest(m.payload)
    finally:
        plain.unlink(missing_ok=True)


def is_private_key(writer: "Writer", m: Material, out: Path):
    check(run("cpk-wrap", "public", out))
    assert out.stat().st_mode & 0o077 == 0, "a private key readable by others"


def is_public_key(writer: "Writer", m: Material, out: Path):
    check(run("cpk-wrap", "public", out))


def unwraps_to_test_key(writer: "Writer", m: Material, out: Path):
    proc = check(run("cpk-wrap", "unwrap", "--key", m.agent_key, "-o", "-", out))
    assert proc.stdout == TEST_KEY


def holds_test_key(writer: "Writer", m: Material, out: Path):
    assert holds(out, TEST_KEY)
    assert out.stat().st_mode & 0o077 == 0, "an unwrapped key readable by others"


def store_with_new_key(writer: "Writer", m: Material, out: Path):
    store = json.loads(out.read_text())
    previous = json.loads(m.store)
    assert {k: store[k] for k in previous if k in store} == previous or list(store) == ["new-app"]
    assert len(base64.b64decode(store["new-app"])) == 32
    assert out.stat().st_mode & 0o077 == 0, "a key store readable by others"


@dataclass
class Writer:
    name: str
    tool: str
    args: Callable[[Material, Path], list]
    complete: Callable[["Writer", Material, Path], None]
    big: bool = True  # large enough to be stopped in the middle of its output write
    stdin: Callable[[Material], Path] | None = None  # a file given as standard input
    piped: bool = False  # standard input fed through a pipe instead
    also: Callable[[Path], list[tuple[Path, Callable]]] = lambda out: []  # other outputs
    previous: Callable[[Material], bytes] = lambda m: PREVIOUS
    _reference: Path | None = field(default=None, repr=False)
    duration: float = 0.0

    def argv(self, m: Material, out: Path) -> list[str]:
        return [cpk.tool(self.tool), *map(str, self.args(m, out))]

    def outputs(self, out: Path) -> list[tuple[Path, Callable]]:
        return [(out, self.complete)] + self.also(out)

    def start(self, m: Material, out: Path, **popen) -> tuple[subprocess.Popen, Feeder | None]:
        if self.piped:
            proc = subprocess.Popen(self.argv(m, out), stdin=subprocess.PIPE, env=env_with(SOURCE_DATE_EPOCH="0"),
                                    **popen)
            return proc, Feeder(proc.stdin, m.payload)
        stdin = open(self.stdin(m), "rb") if self.stdin else subprocess.DEVNULL
        try:
            return subprocess.Popen(self.argv(m, out), stdin=stdin, env=env_with(SOURCE_DATE_EPOCH="0"), **popen), None
        finally:
            if stdin is not subprocess.DEVNULL:
                stdin.close()

    def run(self, m: Material, out: Path, **popen) -> subprocess.CompletedProcess:
        """Runs to the end; stderr goes through a file, so a feeder keeps standard input open."""
        with tempfile.TemporaryFile() as err:
            proc, feeder = self.start(m, out, stdout=subprocess.DEVNULL, stderr=err, **popen)
            proc.wait(timeout=cpk.TIMEOUT)
            if feeder:
                feeder.join(expect_whole=proc.returncode == 0)
            err.seek(0)
            return subprocess.CompletedProcess(proc.args, proc.returncode, b"", err.read())

    def reference(self, m: Material) -> Path:
        """The output of an uninterrupted run (made once), and how long that run took."""
        if self._reference is None or not self._reference.is_relative_to(m.directory):
            directory = m.directory / f"reference-{self.name}"
            directory.mkdir()
            out = directory / "out"
            if self.name == "keyfetch-provision":
                out.write_bytes(m.store)
            started = time.monotonic()
            check(self.run(m, out))
            self.duration = time.monotonic() - started
            self._reference = out
        return self._reference


class Feeder:
    """Writes a file into a tool's standard input from a thread, until it ends or the tool dies."""

    def __init__(self, pipe, path: Path):
        self.pipe, self.path, self.failure = pipe, path, None
        self.thread = threading.Thread(target=self.feed, daemon=True)
        self.thread.start()

    def feed(self):
        try:
            with open(self.path, "rb") as source:
                while chunk := source.read(1 << 20):
                    self.pipe.write(chunk)
        except OSError as error:  # the tool died (was killed) before reading it all
            self.failure = error
        finally:
            try:
                self.pipe.close()
            except OSError:
                pass

    def join(self, expect_whole: bool = False):
        self.thread.join(timeout=cpk.TIMEOUT)
        assert not self.thread.is_alive(), "the feeder is stuck"
        if expect_whole:
            assert self.failure is None, f"the tool succeeded without reading all its input: {self.failure}"


WRITERS = [
    Writer("pack-cpk", "cpk-pack", lambda m, o: ["--id", "test", "--cpk", "-o", o, m.payload], same_as_reference),
    Writer("pack-envelope", "cpk-pack", lambda m, o: ["--id", "test", "-o", o, m.payload], same_as_reference),
    Writer("pack-cpk-from-pipe", "cpk-pack", lambda m, o: ["--id", "test", "--cpk", "-o", o, "-"], same_as_reference,
           piped=True),
    Writer("pack-finish", "cpk-pack", lambda m, o: ["finish", "-o", o, m.envelope], same_as_reference),
    Writer("seal", "cpk-seal", lambda m, o: ["--file-store", STORE, "--quiet", "--cpk", "-o", o, "-"],
           decrypts_to_payload, stdin=lambda m: m.envelope),
    Writer("unpack-payload", "cpk-unpack",
           lambda m, o: ["payload", "--wrapped-key", m.wrapped_key, "--key", m.agent_key, "-o", o, m.sealed],
           same_as_reference),
    Writer("unpack-envelope", "cpk-unpack", lambda m, o: ["envelope", "-o", o, m.package], same_as_reference),
    Writer("wrap-keygen", "cpk-wrap", lambda m, o: ["keygen", "-o", o, "--public-out", f"{o}.pub"], is_private_key,
           big=False, also=lambda o: [(Path(f"{o}.pub"), is_public_key)]),
    Writer("wrap-unwrap", "cpk-wrap", lambda m, o: ["unwrap", "--key", m.agent_key, "-o", o, m.wrapped_key],
           holds_test_key, big=False),
    Writer("keyfetch", "cpk-keyfetch",
           lambda m, o: ["--key-name", "test", "--file-store", STORE, "--to", m.agent_public, "-o", o],
           unwraps_to_test_key, big=False),
    Writer("keyfetch-provision", "cpk-keyfetch", lambda m, o: ["provision", "--key-name", "new-app", "--file-store", o],
           store_with_new_key, big=False, previous=lambda m: m.store),
]
BIG = [w for w in WRITERS if w.big]


def writer_ids(writers):
    return [w.name for w in writers]


def test_uninterrupted_outputs_are_whole(material):
    """The references the kill tests compare with hold the whole payload, whichever way it came."""
    by_name = {w.name: w.reference(material) for w in BIG}
    payload = digest(material.payload)
    released = material.directory / "released"
    check(run("cpk-unpack", "payload", "-o", released, by_name["pack-cpk"]))
    assert digest(released) == payload
    assert digest(by_name["pack-cpk-from-pipe"]) == digest(by_name["pack-cpk"]) == digest(by_name["pack-finish"])
    assert digest(by_name["unpack-payload"]) == payload
    for name in ("pack-envelope", "unpack-envelope"):
        assert by_name[name].stat().st_size > PAYLOAD_SIZE


# --- what may be visible -------------------------------------------------------------------------

def commit_window_leftovers(writer: Writer, m: Material, out: Path, strays: set[str]) -> set[str]:
    """Replacing an existing file takes two system calls (OutputFile.commit: link the finished
    file under a temporary name, then rename it over the old one); a kill -9 between them, a
    window of microseconds, leaves the complete output under that temporary name. The strays
    that are exactly that: named .NAME.PID.RANDOM.tmp and complete."""
    allowed = set()
    for stray in strays:
        if re.fullmatch(rf"\.{re.escape(out.name)}\.\d+\.[0-9a-z]+\.tmp", stray):
            writer.complete(writer, m, out.parent / stray)
            allowed.add(stray)
    return allowed


def assert_nothing_partial(writer: Writer, m: Material, out: Path, previous: bytes | None, before: set[str],
                           context: str):
    """Each output is absent, its previous content, or complete; and nothing else appeared."""
    names = {path.name for path, _ in writer.outputs(out)}
    strays = listing(out.parent) - before - names
    if previous is not None and strays:
        strays -= commit_window_leftovers(writer, m, out, strays)
    # A killed provision may leave its key store's lock file (issue 24): empty, private, and
    # taken as it is by the next provision; it holds no key and no partial output.
    lock = out.parent / f".{out.name}.lock"
    if lock.name in strays and lock.stat().st_size == 0 and lock.stat().st_mode & 0o777 == 0o600:
        strays.discard(lock.name)
    assert not strays, f"{context}: left behind {sorted(strays)}"
    for path, complete in writer.outputs(out):
        if not path.exists():
            assert previous is None or path != out, f"{context}: {path.name} (which existed) is gone"
            continue
        if path == out and previous is not None and holds(path, previous):
            continue
        try:
            complete(writer, m, path)
        except AssertionError as error:
            raise AssertionError(f"{context}: {path.name} is visible but not complete ({path.stat().st_size} "
                                 f"bytes): {error}") from None


def unnamed_output_size(pid: int, directory: Path) -> int | None:
    """The size of a file the process has open in `directory` under no name there (its
    anonymous output), or None when there is none (yet, or any more)."""
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd")
    except (FileNotFoundError, ProcessLookupError):
        return None
    for fd in descriptors:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith(f"{directory}/") and target.endswith(" (deleted)"):
                return os.stat(f"/proc/{pid}/fd/{fd}").st_size
        except OSError:
            continue
    return None


def stop(proc: subprocess.Popen) -> bool:
    """Sends SIGSTOP and waits until the process has really stopped (delivery is not
    immediate); False if it ended first."""
    os.kill(proc.pid, signal.SIGSTOP)
    while True:
        try:
            state = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return False
        if state in ("T", "t"):
            return True
        if state in ("Z", "X"):
            return False
        time.sleep(0.0001)


def stop_mid_write(proc: subprocess.Popen, out: Path, at_least: int, previous: bytes | None,
                   deadline: float) -> int | None:
    """Stops the process once its anonymous output holds `at_least` bytes (or, for a writer
    that is not atomic, once that much shows under the output's own name); returns the size
    seen while it is stopped, or None if it ended or committed first."""
    while time.monotonic() < deadline and proc.poll() is None:
        size = unnamed_output_size(proc.pid, out.parent)
        if size is not None and size >= at_least:
            return unnamed_output_size(proc.pid, out.parent) if stop(proc) else None
        try:
            if out.stat().st_size >= at_least and (previous is None or out.stat().st_size != len(previous)):
                return out.stat().st_size if stop(proc) else None
        except FileNotFoundError:
            pass
        time.sleep(0.0002)
    return None


def kill(proc: subprocess.Popen, feeder: Feeder | None):
    try:
        os.kill(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=cpk.TIMEOUT)
    if feeder:
        feeder.join()


# --- kill -9 -------------------------------------------------------------------------------------

@pytest.mark.parametrize("writer", BIG, ids=writer_ids(BIG))
def test_kill_9_in_the_middle_of_the_output_write(writer, material, tmp_path):
    """Stopped at random points of its output write, then killed: the name never shows a byte of it."""
    rng = random.Random(f"{SEED}-{writer.name}-mid")
    size = writer.reference(material).stat().st_size
    caught = []
    for attempt in range(4):
        directory = tmp_path / f"attempt-{attempt}"
        directory.mkdir()
        out = directory / "out"
        previous = writer.previous(material) if attempt % 2 else None
        if previous is not None:
            out.write_bytes(previous)
        before = listing(directory)
        fraction = rng.uniform(0.02, 0.9)
        context = f"{writer.name}, attempt {attempt} (seed {SEED}, stop at {fraction:.0%} of {size} bytes)"
        proc, feeder = writer.start(material, out, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            seen = stop_mid_write(proc, out, int(size * fraction), previous, time.monotonic() + cpk.TIMEOUT)
            # Stopped with fewer bytes than the output has: still writing, so not committed.
            # (A stop after the last byte may fall after the commit, which is fine.)
            mid_write = seen is not None and seen < size
            if mid_write:
                caught.append(seen)
                assert_nothing_partial(writer, material, out, previous, before, context + ", stopped")
                assert not out.exists() or holds(out, previous), f"{context}: stopped mid-write, yet replaced"
        finally:
            kill(proc, feeder)
        assert_nothing_partial(writer, material, out, previous, before, context + ", killed")
        if mid_write:
            assert not out.exists() or holds(out, previous), f"{context}: killed mid-write, yet replaced"
    assert caught, f"{writer.name}: never caught in the middle of its output write; nothing was tested"


@pytest.mark.parametrize("writer", WRITERS, ids=writer_ids(WRITERS))
def test_kill_9_at_random_moments(writer, material, tmp_path):
    """Killed at random times from start to finish: never a partial output, never a stray file."""
    rng = random.Random(f"{SEED}-{writer.name}-random")
    writer.reference(material)
    window = max(writer.duration, 0.05) * 1.2
    for attempt in range(5):
        directory = tmp_path / f"attempt-{attempt}"
        directory.mkdir()
        out = directory / "out"
        previous = writer.previous(material) if attempt % 2 == 0 else None
        if previous is not None:
            out.write_bytes(previous)
        before = listing(directory)
        delay = rng.uniform(0, window)
        context = f"{writer.name}, attempt {attempt} (seed {SEED}, kill after {delay * 1000:.1f} ms)"
        proc, feeder = writer.start(material, out, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        kill(proc, feeder)
        assert_nothing_partial(writer, material, out, previous, before, context)


# --- full disk -----------------------------------------------------------------------------------

class Mounts:
    """tmpfs mounts made by a test, always unmounted after it."""

    def __init__(self):
        self.points: list[Path] = []

    def tmpfs(self, point: Path, size: str, populate: Callable[[Path], None] | None = None,
              read_only: bool = False) -> Path:
        point.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(point)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip() or proc.returncode}); "
                        "this test needs root and a kernel that allows it")
        self.points.append(point)
        if populate:
            populate(point)
        if read_only:
            subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True, capture_output=True)
        return point

    def unmount_all(self):
        for point in reversed(self.points):
            subprocess.run(["umount", "-l", str(point)], capture_output=True)


@pytest.fixture
def mounts():
    made = Mounts()
    yield made
    made.unmount_all()


def assert_clear_failure(proc: subprocess.CompletedProcess, writer: Writer, reasons: list[str], names: list[str]):
    """Exit status 2, one line on stderr from the tool, giving the reason and the file."""
    err = proc.stderr.decode(errors="replace")
    assert proc.returncode == 2, f"{writer.name}: exit {proc.returncode}, expected 2; stderr: {err!r}"
    assert err.endswith("\n") and err.count("\n") == 1, f"{writer.name}: not one line: {err!r}"
    assert err.startswith(f"{writer.tool}: "), err
    assert any(r in err for r in reasons), f"{writer.name}: none of {reasons} in {err!r}"
    assert any(n in err for n in names), f"{writer.name}: the message names none of {names}: {err!r}"


def fill(directory: Path):
    """Fills the file system of `directory` to the last byte."""
    with open(directory / "filler", "wb", buffering=0) as filler:
        block = b"\0" * 4096
        try:
            while filler.write(block):
                pass
        except OSError:
            pass


def free_blocks(directory: Path) -> int:
    return os.statvfs(directory).f_bfree


@pytest.mark.parametrize("previous", [False, True], ids=["new", "replacing"])
@pytest.mark.parametrize("writer", WRITERS, ids=writer_ids(WRITERS))
def test_full_disk(writer, previous, material, tmp_path, mounts):
    """The output's file system fills up during the write (a 4 MiB tmpfs for the big outputs,
    a full one for the small): one clear line, nothing left, the space given back."""
    directory = mounts.tmpfs(tmp_path / "disk", "4m" if writer.big else "1m")
    out = directory / "out"
    prior = writer.previous(material) if previous else None
    if prior is not None:
        out.write_bytes(prior)
    if not writer.big:
        fill(directory)
    before = listing(directory)
    free = free_blocks(directory)
    proc = writer.run(material, out)
    assert_clear_failure(proc, writer, ["No space left on device"], [str(out)])
    assert listing(directory) == before, f"left behind {sorted(listing(directory) - before)}"
    if prior is not None:
        assert holds(out, prior), "the previous content changed"
    assert free_blocks(directory) == free, "space still held after the tool ended"


@pytest.mark.parametrize("writer", BIG, ids=writer_ids(BIG))
def test_file_size_limit(writer, material, tmp_path):
    """RLIMIT_FSIZE (ulimit -f) of 1 MiB with SIGXFSZ ignored, so writes fail with EFBIG: the
    way to run out of room without a mount."""
    directory = tmp_path / "limited"
    directory.mkdir()
    out = directory / "out"
    out.write_bytes(PREVIOUS)
    before = listing(directory)

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # ignored stays ignored across exec
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))

    proc = writer.run(material, out, preexec_fn=limit)
    # A payload from a pipe is spooled to a temporary file first, which hits the limit there.
    names = [str(out), "temporary"] if writer.piped else [str(out)]
    assert_clear_failure(proc, writer, ["File too large"], names)
    assert listing(directory) == before, f"left behind {sorted(listing(directory) - before)}"
    assert holds(out, PREVIOUS)


# --- unwritable output directory -----------------------------------------------------------------

@pytest.mark.parametrize("writer", WRITERS, ids=writer_ids(WRITERS))
def test_read_only_directory(writer, material, tmp_path, mounts):
    """A read-only file system holding the previous output (root ignores chmod 0500, so the
    directory is a read-only tmpfs): a clear line, the previous content untouched."""
    prior = writer.previous(material)
    directory = mounts.tmpfs(tmp_path / "ro", "1m", populate=lambda d: (d / "out").write_bytes(prior),
                             read_only=True)
    out = directory / "out"
    proc = writer.run(material, out)
    assert_clear_failure(proc, writer, ["Read-only file system"], [str(out)])
    assert listing(directory) == {"out"}
    assert holds(out, prior)


@pytest.mark.parametrize("writer", WRITERS, ids=writer_ids(WRITERS))
def test_unwritable_and_missing_directories(writer, material, tmp_path):
    """Under /proc nothing can be created, whoever runs the tool; a missing directory is named."""
    for out, reasons in [(Path(f"/proc/cpk-crash-safety-{os.getpid()}"), ["No such file or directory",
                                                                          "Permission denied",
                                                                          "Operation not permitted"]),
                         (tmp_path / "missing" / "out", ["No such file or directory"])]:
        proc = writer.run(material, out)
        assert_clear_failure(proc, writer, reasons, [str(out)])
        assert not out.exists()
    assert listing(tmp_path) == set()


# --- outputs that are not files to replace -------------------------------------------------------

FILE_WRITERS = [w for w in WRITERS if w.name != "keyfetch-provision"]  # a key store is a file
# Writers of secrets (plaintext, private or class keys): never into a device or FIFO by name,
# only into a new file or a descriptor the caller opened (issue 11, test_hostile_surroundings).
SECRET_WRITERS = {"unpack-payload", "wrap-keygen", "wrap-unwrap", "keyfetch-provision"}


@pytest.mark.parametrize("writer", FILE_WRITERS, ids=writer_ids(FILE_WRITERS))
def test_a_device_named_as_output_is_written_in_place(writer, material, tmp_path):
    """`-o /dev/null` must not replace the device with a file (as root, renaming over it would);
    a null device made here stands in for /dev/null. A secret goes there too (issue 27: only
    root or the caller can make a device node, so it is the caller's choice); a FIFO or a link
    for a secret stays refused (test_hostile_surroundings)."""
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root")
    check(writer.run(material, device))
    assert stat.S_ISCHR(os.lstat(device).st_mode), "the device was replaced by a file"
    assert listing(tmp_path) <= {"null", "null.pub"}


class PipeReader:
    """Reads a FIFO to its end from a thread, as the other end of `-o FIFO`: how many bytes
    came through, and their SHA-256."""

    def __init__(self, path: Path):
        self.path, self.size, self.hasher = path, 0, hashlib.sha256()
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def read(self):
        with open(self.path, "rb") as pipe:
            while piece := pipe.read(1 << 20):
                self.size += len(piece)
                self.hasher.update(piece)

    def result(self) -> tuple[int, str]:
        """What came through, once the writer has exited (a writer that never opened the FIFO
        sent nothing)."""
        self.thread.join(timeout=1)
        if self.thread.is_alive():
            try:
                os.close(os.open(self.path, os.O_WRONLY | os.O_NONBLOCK))  # unblock the reader's open
            except OSError:
                pass
            self.thread.join(timeout=cpk.TIMEOUT)
        assert not self.thread.is_alive(), "the pipe was never closed"
        return self.size, self.hasher.hexdigest()


@pytest.mark.parametrize("writer", BIG, ids=writer_ids(BIG))
def test_a_pipe_named_as_output_receives_the_output(writer, material, tmp_path):
    """A FIFO (or bash's `>(...)`, a pipe under /dev/fd) gets the output streamed, and stays a FIFO."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    if writer.name in SECRET_WRITERS:
        # by name a secret is refused; through the descriptor the caller opened, as bash's
        # >(...) passes it, it streams
        refused = writer.run(material, fifo)
        assert refused.returncode == 2 and b"refusing" in refused.stderr, refused.stderr
        reader = PipeReader(fifo)
        end = os.open(fifo, os.O_WRONLY)
        try:
            check(writer.run(material, Path(f"/dev/fd/{end}"), pass_fds=(end,)))
        finally:
            os.close(end)
    else:
        reader = PipeReader(fifo)
        check(writer.run(material, fifo))
    size, received = reader.result()
    reference = writer.reference(material)
    if writer.complete is same_as_reference:
        assert received == digest(reference)
    else:
        assert size == reference.stat().st_size
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_process_substitution_as_output(material, tmp_path):
    proc = cpk.sh(f"cpk-pack --id test --cpk -o >(sha256sum > {tmp_path}/sum) {material.package.parent}/payload"
                  " && wait $!", env=env_with(SOURCE_DATE_EPOCH="0"))
    check(proc)
    expected = digest(material.package)
    assert (tmp_path / "sum").read_text().split()[0] == expected


def test_no_unauthenticated_byte_reaches_a_pipe_named_as_output(material, tmp_path):
    """Decrypting to a pipe, a tampered ciphertext must release nothing: with `-o /dev/fd/N` the
    payload is checked before the first byte is written, as on standard output."""
    tampered = tmp_path / "tampered.cpk"
    shutil.copyfile(material.sealed, tampered)
    with open(tampered, "r+b") as package:
        count = struct.unpack("<H", package.read(16)[8:10])[0]
        offset = struct.unpack("<Q", package.read(8))[0]  # stream 0, the ciphertext
        package.seek(16 + 16 * count + offset + PAYLOAD_SIZE // 2)
        byte = package.read(1)[0]
        package.seek(-1, os.SEEK_CUR)
        package.write(bytes([byte ^ 0x01]))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = PipeReader(fifo)
    end = os.open(fifo, os.O_WRONLY)  # plaintext goes only to a pipe the caller opened (>(...))
    try:
        proc = subprocess.run([cpk.tool("cpk-unpack"), "payload", "--wrapped-key", material.wrapped_key,
                               "--key", material.agent_key, "-o", f"/dev/fd/{end}", tampered],
                              pass_fds=(end,), capture_output=True, env=env_with(), timeout=cpk.TIMEOUT)
    finally:
        os.close(end)
    size, _ = reader.result()
    assert proc.returncode == 1, proc.stderr
    assert size == 0, f"{size} unauthenticated bytes reached the pipe"
