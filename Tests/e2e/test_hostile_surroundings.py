"""End to end: hostile surroundings (issue 11). Not hostile packages, but a hostile machine:
another user who plants FIFOs and symlinks where secrets are written, text that tries to reach
the terminal, a key service that answers without end or redirects, a ps-reader, a damaged
state directory, and concurrent writers of one key store.

The attacker runs as another user (nobody, through setpriv), as on a shared machine; the tests
need root for that, as CI runs them.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from cpk import BIN, REPO, TIMEOUT, assert_clean_failure, check, env_with, run, run_with_rusage, sh

TEST_JSON = REPO / "test.json"
NOBODY_UID = 65534
AS_NOBODY = ["setpriv", f"--reuid={NOBODY_UID}", f"--regid={NOBODY_UID}", "--clear-groups"]

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the attacker side needs root to become another user")


def as_nobody(*argv, **kwargs):
    return subprocess.run([*AS_NOBODY, *map(str, argv)], check=True, timeout=TIMEOUT, **kwargs)


@pytest.fixture
def shared(tmp_path):
    """A directory like /tmp: sticky and world-writable, where another user can plant names.
    Under /tmp itself, since pytest's own tmp_path is private to root."""
    path = Path(tempfile.mkdtemp(prefix="cpk-shared-", dir="/tmp"))
    path.chmod(0o1777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


class Eavesdropper:
    """The attacker reading a FIFO as nobody, in the background, for as long as the test runs."""

    def __init__(self, fifo: Path):
        self.process = subprocess.Popen([*AS_NOBODY, "cat", str(fifo)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.received = b""
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        time.sleep(0.2)  # blocked in open(2) before the tool runs

    def _read(self):
        self.received = self.process.stdout.read()

    def stop(self) -> bytes:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self.thread.join(timeout=10)
        return self.received


def plant(kind: str, target: Path):
    """Plants `target` as the attacker; returns what to check afterwards: an eavesdropper on a
    FIFO, or the attacker's own file that must stay empty."""
    if kind == "fifo":
        as_nobody("mkfifo", "-m", "666", target)
        return Eavesdropper(target)
    if kind == "symlink-to-fifo":
        trap = target.parent / "trap.fifo"
        as_nobody("mkfifo", "-m", "666", trap)
        as_nobody("ln", "-s", trap, target)
        return Eavesdropper(trap)
    if kind == "symlink-to-file":
        loot = target.parent / "loot"
        as_nobody("sh", "-c", f"umask 0; : > '{loot}'")
        as_nobody("ln", "-s", loot, target)
        return loot
    raise ValueError(kind)


def received(planted) -> bytes:
    return planted.stop() if isinstance(planted, Eavesdropper) else planted.read_bytes()


# --- fixtures: a key pair, a wrapped key, a sealed package, an installed application ----------

@pytest.fixture(scope="module")
def material(tmp_path_factory):
    """What the secret-writing tools need, made once: a wrapping key pair, the test key wrapped
    to it, a sealed package, and a simulator state with that package installed."""
    directory = tmp_path_factory.mktemp("material")
    env = env_with(CPK_CPM_STATE=str(directory / "cpm"))
    check(run("cpk-wrap", "keygen", "-o", directory / "agent.pem", "--public-out", directory / "agent.pub"))
    check(run("cpk-keyfetch", "--key-name", "test", "--file-store", TEST_JSON, "--to", directory / "agent.pub",
              "-o", directory / "test.wkey"))
    (directory / "app.bin").write_bytes(b"confidential plaintext " * 100)
    check(sh(f"cpk-pack --id test app.bin | cpk-seal --file-store {TEST_JSON} --quiet | cpk-pack finish -o sealed.cpk",
             cwd=directory))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "signer.key",
                    "-out", "signer.crt", "-subj", "/CN=Test Signer", "-days", "2"],
                   cwd=directory, check=True, capture_output=True)
    check(sh("cpk-sign --key signer.key --cert signer.crt --cpk -o app.cpk sealed.cpk", cwd=directory))
    check(run("cpk-install", "sync", "--id", "test", "--file-store", TEST_JSON, env=env))
    check(run("cpk-install", "app.cpk", cwd=directory, env=env))
    return directory, env


def secret_writers(material, target: Path, shared: Path):
    directory, env = material
    return {
        "cpk-wrap keygen": (["cpk-wrap", "keygen", "-o", target, "--public-out", shared / "agent.pub"], None),
        "cpk-wrap unwrap": (["cpk-wrap", "unwrap", "--key", directory / "agent.pem", "-o", target,
                             directory / "test.wkey"], None),
        "cpk-unpack payload": (["cpk-unpack", "payload", "--file-store", TEST_JSON, "--quiet", "-o", target,
                                directory / "sealed.cpk"], None),
        "cpk-install dev-export-plaintext": (["cpk-install", "dev-export-plaintext", "test", "-o", target], env),
        "cpk-keyfetch provision": (["cpk-keyfetch", "provision", "--key-name", "new-app", "--file-store", target], None),
    }


WRITERS = ["cpk-wrap keygen", "cpk-wrap unwrap", "cpk-unpack payload", "cpk-install dev-export-plaintext",
           "cpk-keyfetch provision"]


# --- 1. secrets never go into a planted file -------------------------------------------------

@pytest.mark.parametrize("kind", ["fifo", "symlink-to-fifo", "symlink-to-file"])
@pytest.mark.parametrize("writer", WRITERS)
def test_a_secret_never_reaches_a_file_another_user_planted(material, shared, writer, kind):
    target = shared / "secret.out"
    planted = plant(kind, target)
    before = set(os.listdir(shared))
    argv, env = secret_writers(material, target, shared)[writer]
    try:
        proc = run(*argv, env=env)
    finally:
        got = received(planted)
    assert got == b"", f"{writer} wrote {len(got)} bytes to the attacker"
    assert_clean_failure(proc, ["refusing", "symbolic link", "fifo"], code=2)
    assert set(os.listdir(shared)) == before, "a refused secret must leave nothing behind"
    assert os.lstat(target).st_uid == NOBODY_UID, "the planted name is left as it was"


@pytest.mark.parametrize("writer", WRITERS)
def test_a_secret_into_a_new_name_is_0600_and_the_callers(material, shared, writer):
    target = shared / "secret.out"
    argv, env = secret_writers(material, target, shared)[writer]
    check(run(*argv, env=env))
    info = os.lstat(target)
    assert stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == os.geteuid()


def test_ordinary_output_into_another_users_fifo_is_refused_but_ones_own_works(material, shared):
    directory, _ = material
    theirs = shared / "theirs.pub"
    planted = plant("fifo", theirs)
    proc = run("cpk-wrap", "public", "-o", theirs, directory / "agent.pem")
    assert received(planted) == b""
    assert_clean_failure(proc, "owned by uid 65534", code=2)

    mine = shared / "mine.fifo"
    os.mkfifo(mine, 0o600)
    reader = subprocess.Popen(["cat", str(mine)], stdout=subprocess.PIPE)
    check(run("cpk-wrap", "public", "-o", mine, directory / "agent.pem"))
    assert reader.communicate(timeout=TIMEOUT)[0].startswith(b"-----BEGIN PUBLIC KEY-----")


def test_standard_output_dev_stdout_and_process_substitution_keep_working_for_secrets(material, tmp_path):
    directory, _ = material
    unwrap = f"cpk-wrap unwrap --key {directory}/agent.pem {directory}/test.wkey"
    key = base64.b64decode(json.loads(TEST_JSON.read_text())["test"])
    assert check(sh(f"{unwrap} -o - | cat", cwd=tmp_path)).stdout == key
    assert check(sh(f"{unwrap} -o /dev/stdout | cat", cwd=tmp_path)).stdout == key
    check(sh(f"{unwrap} -o >(cat > got.key); wait", cwd=tmp_path))
    deadline = time.monotonic() + TIMEOUT
    while (not (tmp_path / "got.key").exists() or (tmp_path / "got.key").stat().st_size < 32) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (tmp_path / "got.key").read_bytes() == key
    # not a planted name: the descriptor the shell opened, redirected into the caller's own file
    check(sh(f"exec 3> fd3.key; {unwrap} -o /dev/fd/3", cwd=tmp_path))
    assert (tmp_path / "fd3.key").read_bytes() == key


# --- 5. plaintext is 0600 whatever the umask -------------------------------------------------

@pytest.mark.parametrize("mask", ["000", "022"])
def test_decrypted_plaintext_is_0600_under_any_umask(material, tmp_path, mask):
    directory, env = material
    check(sh(f"umask {mask}; cpk-unpack payload --file-store {TEST_JSON} --quiet -o plain.out {directory}/sealed.cpk",
             cwd=tmp_path))
    assert stat.S_IMODE((tmp_path / "plain.out").stat().st_mode) == 0o600
    assert (tmp_path / "plain.out").read_bytes() == (directory / "app.bin").read_bytes()
    check(sh(f"umask {mask}; cpk-install dev-export-plaintext test -o exported.out", cwd=tmp_path, env=env))
    assert stat.S_IMODE((tmp_path / "exported.out").stat().st_mode) == 0o600


# --- 7. concurrent provisions keep every key ---------------------------------------------------

def test_eight_concurrent_provisions_into_one_store_keep_all_eight_keys(tmp_path):
    store = tmp_path / "keys.json"
    shutil.copy(TEST_JSON, store)
    names = [f"app-{i}" for i in range(8)]
    processes = [subprocess.Popen([str(BIN / "cpk-keyfetch"), "provision", "--key-name", name, "--file-store", str(store)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_with())
                 for name in names]
    for process in processes:
        _, err = process.communicate(timeout=TIMEOUT)
        assert process.returncode == 0, err
    keys = json.loads(store.read_text())
    assert set(names) <= set(keys), f"lost: {sorted(set(names) - set(keys))}"
    assert keys["test"] == json.loads(TEST_JSON.read_text())["test"]
    assert len({keys[name] for name in names}) == 8
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["keys.json"], "no lock or temporary file is left"


# --- 2. package-derived text never reaches the terminal raw ----------------------------------

HOSTILE_NAME = "Evil\nSigner check PASSED (trusted CN=Acme Release CA)\x1b]0;owned\x07\x1b[8m\x00\u202egpj.exe"
HOSTILE_VENDOR = "Acme\r\n\x07\x1b[2J\u202e\u200b\u2066"
RAW_FORBIDDEN = [b"\x1b", b"\x07", b"\x00", "\u202e".encode(), "\u200b".encode(), "\u2066".encode(), b"\r"]


def assert_no_raw_controls(output: bytes, lines: int | None = None):
    for raw in RAW_FORBIDDEN:
        assert raw not in output, f"{raw!r} reached the terminal: {output!r}"
    if lines is not None:
        assert output.rstrip(b"\n").count(b"\n") + 1 == lines, f"a name made a line of its own: {output!r}"


@pytest.fixture(scope="module")
def hostile_package(material):
    """A sealed, payload-signed package whose manifest name and vendor were changed afterwards
    (a payload signature does not cover them): newline, ESC, BEL, NUL, bidi and zero-width."""
    from cpk import build_cpk, compact, parse_cpk
    directory, env = material
    check(sh(f"cpk-pack --id test app.bin | cpk-seal --file-store {TEST_JSON} --quiet"
             " | cpk-sign --payload --key signer.key --cert signer.crt --cpk -o evil-signed.cpk", cwd=directory))
    package = parse_cpk((directory / "evil-signed.cpk").read_bytes())
    document = json.loads(package.streams[package.manifest_index])
    document["cp-name"], document["cp-vendor"] = HOSTILE_NAME, HOSTILE_VENDOR
    streams = list(package.streams)
    streams[package.manifest_index] = compact(document)
    path = directory / "evil.cpk"
    path.write_bytes(build_cpk(streams, package.manifest_index))
    assert b"\\u0000" in streams[package.manifest_index], "the manifest carries NUL as JSON's \\u0000"
    return path


def test_hostile_text_is_escaped_by_cpk_unpack(hostile_package):
    summary = check(run("cpk-unpack", hostile_package)).stdout
    assert_no_raw_controls(summary)
    assert summary.count(b"\nName:") == 1 and b"Signer check PASSED" in summary
    name_line = next(line for line in summary.split(b"\n") if line.startswith(b"Name:"))
    assert b"PASSED" in name_line, "the forged line stays inside the Name line"
    assert b"\\u{202e}" in name_line and b"\\u{1b}" in name_line and b"\\u{0}" in name_line
    listing_text = check(run("cpk-unpack", "list", hostile_package)).stdout
    assert_no_raw_controls(listing_text)
    # JSON stays exact: the same text, in JSON escapes
    info = json.loads(check(run("cpk-unpack", "info", "--json", hostile_package)).stdout)
    assert info["name"] == HOSTILE_NAME and info["vendor"] == HOSTILE_VENDOR


def test_hostile_text_is_escaped_by_cpk_verify(hostile_package, material):
    directory, _ = material
    proc = run("cpk-verify", "--file-store", TEST_JSON, "--quiet", hostile_package)
    assert proc.returncode in (0, 1), proc.stderr
    assert_no_raw_controls(proc.stdout + proc.stderr)


def test_hostile_text_is_escaped_by_cpk_install_and_its_list(hostile_package, tmp_path):
    env = env_with(CPK_CPM_STATE=str(tmp_path / "cpm"))
    check(run("cpk-install", "sync", "--id", "test", "--file-store", TEST_JSON, env=env))
    installed = run("cpk-install", hostile_package, env=env)  # development mode: nothing authenticated
    assert installed.returncode == 0, installed.stderr
    assert_no_raw_controls(installed.stdout + installed.stderr)
    assert b"\nSigner check PASSED (trusted" not in installed.stdout, "a name forged a line of the report"
    listed = check(run("cpk-install", "list", env=env)).stdout
    assert_no_raw_controls(listed, lines=2)
    assert b"\\u{202e}gpj.exe" in listed
    as_json = json.loads(check(run("cpk-install", "list", "--json", env=env)).stdout)
    assert as_json[0]["name"] == HOSTILE_NAME


def test_a_key_service_message_is_escaped(tmp_path):
    """A key service's error text (bidi override, ESC) is shown escaped in the one-line error."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Hostile(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.dumps({"error": "denied\u202e\x1b[2Jlin\ne"}).encode()
            self.send_response(403)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        (tmp_path / "pub.pem").write_bytes(b"")
        check(run("cpk-wrap", "keygen", "-o", tmp_path / "k.pem", "--public-out", tmp_path / "k.pub"))
        proc = run("cpk-keyfetch", "--key-name", "test", "--url", f"http://127.0.0.1:{server.server_port}/WrapKey",
                   "--to", tmp_path / "k.pub")
    finally:
        server.shutdown()
    err = assert_clean_failure(proc, "denied", code=1)
    assert_no_raw_controls(proc.stderr)
    assert "\\u{202e}" in err


# --- 4. no secret on a child's command line --------------------------------------------------

def test_sync_puts_no_credential_on_any_command_line(tmp_path):
    from test_keys import KeyServer
    store = tmp_path / "keys.json"
    shutil.copy(TEST_JSON, store)
    server = KeyServer(store, tmp_path / "server.log", "--slow-seconds", "2")
    secret_code, password = "s3cr3t-c0de-4711", "hunter2-pw"
    host = server.url.split("://", 1)[1]
    url = f"http://keyuser:{password}@{host}/simulate/slow/WrapKey?code={secret_code}"
    # the user's own command line gets the URL from the environment, as documented
    env = env_with(CPK_CPM_STATE=str(tmp_path / "cpm"), CP_CLOUD_KEY_SOURCE=url)
    try:
        sync = subprocess.Popen([str(BIN / "cpk-install"), "sync", "--id", "test"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        seen_child, leaks = False, []
        while sync.poll() is None:
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    continue
                seen_child |= b"cpk-keyfetch" in cmdline
                if secret_code.encode() in cmdline or password.encode() in cmdline:
                    leaks.append(cmdline)
            time.sleep(0.01)
        _, err = sync.communicate(timeout=TIMEOUT)
    finally:
        server.stop()
    assert sync.returncode == 0, err
    assert seen_child, "the cpk-keyfetch child was never seen running: the test proves nothing"
    assert leaks == [], f"a credential on a command line: {leaks!r}"
    assert secret_code.encode() not in err and password.encode() not in err


# --- 3. a hostile key service: huge, endless, trickling answers, redirects --------------------

class HostileKeyService:
    """Answers every POST according to its path; counts requests so a followed redirect shows."""

    def __init__(self):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        outer = self
        self.requests = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                outer.requests.append(self.path)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    getattr(self, "answer_" + self.path.strip("/").split("?")[0].replace("-", "_"))()
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def answer_huge(self):  # 100 MB, announced
                self.send_response(200)
                self.send_header("Content-Length", str(100 * 1000 * 1000))
                self.end_headers()
                piece = b"x" * (1 << 20)
                for _ in range(100):
                    self.wfile.write(piece[: 1000 * 1000])

            def answer_huge_unannounced(self):  # 100 MB, no length: read until the connection ends
                self.send_response(200)
                self.send_header("Connection", "close")
                self.end_headers()
                for _ in range(100):
                    self.wfile.write(b"y" * 1000 * 1000)

            def answer_endless(self):  # chunked, never ends
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                piece = b"z" * 65536
                while True:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))

            def answer_trickle(self):  # a byte every 50 ms: every read timeout is met, never the end
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                while True:
                    self.wfile.write(b"1\r\n \r\n")
                    self.wfile.flush()
                    time.sleep(0.05)

            def answer_redirect(self):
                self.send_response(307)
                self.send_header("Location", outer.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def answer_WrapKey(self):
                body = b'{"error": "the redirect was followed"}'
                self.send_response(500)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.redirect_to = self.url + "/WrapKey"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def hostile_service():
    services = HostileKeyService(), HostileKeyService()
    yield services
    for service in services:
        service.stop()


def keyfetch_with_rusage(url: str, public: Path, timeout: float, *extra: str) -> tuple[int, bytes, float, int]:
    return run_with_rusage([str(BIN / "cpk-keyfetch"), "--key-name", "test", "--url", url, "--to", str(public),
                            "--timeout", str(timeout), *extra])


def test_the_rusage_launcher_floor_is_low():
    """The measurement itself: a program that uses no memory is reported small."""
    _, _, _, rss = run_with_rusage(["/bin/true"])
    print(f"launcher floor: {rss} KiB")
    assert rss < 16 * 1024


# The bound: the client reads the socket itself into one small buffer, keeps at most
# 1 MiB of body and closes the connection at the limit, so no hostile answer can grow it. Since
# cpk-keyfetch also links the key provider's gRPC server (SwiftNIO, BoringSSL, Foundation), its
# start-up RSS alone is near 27 MiB in a debug build (about 17 in release): the bound is what a
# hostile answer adds to the RSS of the same binary doing nothing (`--version`, same launcher).
GROWTH_LIMIT_KIB = 12 * 1024


@pytest.fixture(scope="module")
def keyfetch_floor():
    code, _, _, rss = run_with_rusage([str(BIN / "cpk-keyfetch"), "--version"])
    assert code == 0
    print(f"cpk-keyfetch --version: peak RSS {rss} KiB")
    return rss


@pytest.mark.parametrize("path, needle", [
    ("/huge", "more than 1048576 bytes"),
    ("/huge-unannounced", "more than 1048576 bytes"),
    ("/endless", "more than 1048576 bytes"),
    ("/trickle", "within 3 seconds"),
])
def test_a_hostile_answer_is_cut_at_the_limit_or_the_deadline(material, hostile_service, keyfetch_floor, path, needle):
    directory, _ = material
    code, err, seconds, rss = keyfetch_with_rusage(hostile_service[0].url + path, directory / "agent.pub", timeout=3)
    print(f"{path}: exit {code} in {seconds:.2f}s, peak RSS {rss} KiB")
    text = err.decode(errors="replace")
    assert code in (1, 2) and text.count("\n") == 1 and needle in text, text
    assert seconds < 3 + 5, f"{path}: took {seconds:.1f}s with --timeout 3"
    assert rss - keyfetch_floor < GROWTH_LIMIT_KIB, \
        f"{path}: peak RSS {rss} KiB, {rss - keyfetch_floor} KiB over the tool's {keyfetch_floor} KiB at rest"


@pytest.mark.parametrize("where", ["cross-origin", "same-origin"])
def test_a_redirect_is_not_followed(material, hostile_service, keyfetch_floor, where):
    directory, _ = material
    first, second = hostile_service
    first.redirect_to = (second.url if where == "cross-origin" else first.url) + "/WrapKey"
    before = list(second.requests), list(first.requests)
    code, err, _, rss = keyfetch_with_rusage(first.url + "/redirect?code=s3cret", directory / "agent.pub", timeout=5)
    print(f"{where} redirect: peak RSS {rss} KiB")
    text = err.decode(errors="replace")
    assert rss - keyfetch_floor < GROWTH_LIMIT_KIB, f"peak RSS {rss} KiB, the tool at rest {keyfetch_floor} KiB"
    assert code == 1 and text.count("\n") == 1 and "redirect" in text and "not followed" in text, text
    assert "s3cret" not in text
    assert "/WrapKey" not in [*second.requests[len(before[0]):], *first.requests[len(before[1]):]], "the redirect was followed"


# --- 6. the simulator checks what it reads from its state directory ---------------------------

def hex_name(cp_id: str) -> str:
    return cp_id.encode().hex()


@pytest.fixture
def state(material, tmp_path):
    """A copy of the material's state (test installed), modes kept, for this test to damage."""
    directory, _ = material
    path = tmp_path / "cpm"
    shutil.copytree(directory / "cpm", path, symlinks=True)
    return path, env_with(CPK_CPM_STATE=str(path))


def install_tool(env, *args, timeout=15):
    return run("cpk-install", *args, env=env, timeout=timeout)


@pytest.mark.parametrize("damage, command, needle", [
    ("world-writable storage.key", ["list"], "storage.key can be written by other users"),
    ("world-writable device key", ["public-key", "--format", "fingerprint"], "device-key.pem can be written by other users"),
    ("storage.key of another user", ["list"], "storage.key belongs to uid 65534"),
    ("storage.key a symlink", ["list"], "storage.key is a symbolic link"),
    ("trust/ 0777", ["list"], "trust can be written by other users"),
    ("trust/ a symlink", ["list"], "trust is not a directory"),
    ("trust anchor a symlink to a world-writable file", ["trust", "list"], None),
    ("class key world-writable", ["check-state"], "can be written by other users"),
])
def test_a_damaged_state_is_refused_in_one_line_naming_the_file(state, material, damage, command, needle):
    path, env = state
    if damage == "world-writable storage.key":
        (path / "storage.key").chmod(0o666)
    elif damage == "world-writable device key":
        (path / "device-key.pem").chmod(0o666)
    elif damage == "storage.key of another user":
        os.chown(path / "storage.key", NOBODY_UID, NOBODY_UID)
    elif damage == "storage.key a symlink":
        os.rename(path / "storage.key", path / "real.key")
        os.symlink(path / "real.key", path / "storage.key")
    elif damage == "trust/ 0777":
        (path / "trust").chmod(0o777)
    elif damage == "trust/ a symlink":
        os.rmdir(path / "trust")
        elsewhere = path.parent / "elsewhere"
        elsewhere.mkdir(mode=0o700)
        os.symlink(elsewhere, path / "trust")
    elif damage == "trust anchor a symlink to a world-writable file":
        planted = path.parent / "planted.pem"
        shutil.copy(material[0] / "signer.crt", planted)
        planted.chmod(0o666)
        os.symlink(planted, path / "trust" / "anchor.pem")
        # listing shows what the anchors are, so it reads them too: both refuse
        assert_clean_failure(install_tool(env, *command), "anchor.pem is a symbolic link", code=2)
        proc = install_tool(env, material[0] / "app.cpk")
        assert_clean_failure(proc, "anchor.pem is a symbolic link", code=2)
        return
    elif damage == "class key world-writable":
        (path / "keys" / f"{hex_name('test')}.key").chmod(0o666)
    proc = install_tool(env, *command)
    err = assert_clean_failure(proc, needle, code=1 if command == ["check-state"] else 2)
    assert "chmod" in err or "remove" in err or "chown" in err, f"no repair named: {err}"


def test_a_fifo_in_apps_never_blocks_and_only_marks_its_own_id(state):
    path, env = state
    fifo = path / "apps" / f"{hex_name('ghost')}.app"
    os.mkfifo(fifo, 0o600)
    (path / "apps" / f"{hex_name('broken')}.app").write_bytes(b"not an application record")
    os.chmod(path / "apps" / f"{hex_name('broken')}.app", 0o600)
    proc = install_tool(env, "list", timeout=10)
    out = proc.stdout.decode()
    assert proc.returncode == 2, proc.stderr  # the damaged records' own error, after the listing
    lines = out.splitlines()
    assert lines[0].startswith("ID") and any(line.startswith("test ") for line in lines), out
    assert any(line.startswith("ghost") and "DAMAGED" in line for line in lines), out
    assert any(line.startswith("broken") and "DAMAGED" in line for line in lines), out
    assert proc.stderr.count(b"\n") == 1
    as_json = {entry["id"]: entry for entry in json.loads(install_tool(env, "list", "--json", timeout=10).stdout)}
    assert as_json["test"]["name"] and "not a regular file" in as_json["ghost"]["damaged"]
    checked = install_tool(env, "check-state", timeout=10)
    assert checked.returncode == 1 and b"not a regular file" in checked.stderr and b"damaged" in checked.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.fixture
def silent_dns(tmp_path):
    """A DNS server on 127.0.0.1:53 that takes every query and never answers, and a
    resolv.conf naming it with long retries (20 s x 3): without a deadline on the lookup, a
    request would hang a minute."""
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        server.bind(("127.0.0.1", 53))
    except OSError as error:
        server.close()
        pytest.fail(f"cannot bind 127.0.0.1:53 for the silent DNS server: {error}")
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.1\noptions timeout:20 attempts:3\n")
    yield resolv
    server.close()


def test_a_dns_server_that_never_answers_meets_the_deadline(material, silent_dns):
    """The name lookup is inside --timeout: cpk-keyfetch gives up on it at the deadline. The
    tool runs in a private mount namespace whose /etc/resolv.conf names the silent server."""
    directory, _ = material
    tool = [str(BIN / "cpk-keyfetch"), "--key-name", "test", "--url", "http://keys.silent-dns.example:8080/WrapKey",
            "--to", str(directory / "agent.pub"), "--timeout", "2"]
    script = 'mount --bind "$0" /etc/resolv.conf && exec "$@"'
    code, err, seconds, _ = run_with_rusage([shutil.which("unshare") or "/usr/bin/unshare", "-m", "/bin/sh", "-c", script, str(silent_dns), *tool], timeout=60)
    text = err.decode(errors="replace")
    print(f"silent DNS: exit {code} in {seconds:.2f}s: {text.strip()}")
    assert code == 2 and text.count("\n") == 1 and "within 2 seconds" in text, text
    assert seconds < 2 + 3, f"took {seconds:.1f}s with --timeout 2"
