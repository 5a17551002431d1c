"""-q, -v and progress, the same on every tool (README, "Conventions (all tools)").

Progress is checked where users see it: on a terminal (a pty from Python's pty module, the
tool's standard error its slave end) and forced into a pipe with --progress; -q silences it
and every warning, note and confirmation; cpk-install prints the package's identity before
its payload flows.
"""

import os
import pty
import re
import select
import subprocess
import tempfile

import pytest

from cpk import REPO, check, env_with, run, tool

STORE = REPO / "test.json"
PROGRESS = re.compile(rb"\d+% \([\d.]+ (B|KiB|MiB) of [\d.]+ (B|KiB|MiB), [\d.]+ (B|KiB|MiB|GiB)/s")


def on_a_terminal(*args, cwd, both=False, timeout=60):
    """Runs a tool with its standard error (and, with both, its standard output) on a pty;
    returns (exit status, what the terminal received, standard output when not on the pty)."""
    master, slave = pty.openpty()
    # Standard output to a file, as a user's `-o FILE` or `> FILE` leaves it: a pipe there
    # would make the tool a middle stage of a pipeline, which draws no progress.
    captured = tempfile.TemporaryFile()
    program = "bash" if args[0] == "bash" else tool(args[0])  # bash: a pipeline of the tools (on PATH)
    proc = subprocess.Popen([program, *map(str, args[1:])], cwd=cwd, env=env_with(),
                            stdin=subprocess.DEVNULL, stdout=slave if both else captured, stderr=slave)
    os.close(slave)
    seen = b""
    while True:
        ready, _, _ = select.select([master], [], [], timeout)
        if not ready:
            proc.kill()
            raise AssertionError(f"{args[0]} hung; the terminal got {seen!r}")
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the slave end is closed, the tool has exited
            break
        if not data:
            break
        seen += data
    os.close(master)
    status = proc.wait(timeout=timeout)
    captured.seek(0)
    out = b"" if both else captured.read()
    captured.close()
    return status, seen, out


@pytest.fixture(scope="module")
def material(tmp_path_factory):
    """A 6 MiB payload packed, sealed and signed (with a key made by openssl)."""
    d = tmp_path_factory.mktemp("messages")
    (d / "app.bin").write_bytes(os.urandom(6 << 20))
    check(subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                          "-out", str(d / "signer.pem")], capture_output=True))
    check(subprocess.run(["openssl", "pkey", "-in", str(d / "signer.pem"), "-pubout", "-out", str(d / "signer.pub")],
                         capture_output=True))
    check(run("cpk-pack", "--id", "test", "-q", "--cpk", "-o", d / "plain.cpk", d / "app.bin"))
    check(run("cpk-seal", "--file-store", STORE, "-q", "--cpk", "-o", d / "sealed.cpk", d / "plain.cpk"))
    check(run("cpk-sign", "--key", d / "signer.pem", "--embed-public-key", "-q", "--cpk", "-o", d / "app.cpk",
              d / "sealed.cpk"))
    return d


def commands(d):
    """One long-running command per tool that streams a payload (the key tools have none)."""
    return {
        "cpk-pack": ["cpk-pack", "--id", "test", "--cpk", "-o", d / "out-pack.cpk", d / "app.bin"],
        "cpk-pack finish": ["cpk-pack", "finish", "-o", d / "out-finish.cpk", d / "plain.cpk"],
        "cpk-seal": ["cpk-seal", "--file-store", STORE, "--cpk", "-o", d / "out-seal.cpk", d / "plain.cpk"],
        "cpk-sign": ["cpk-sign", "--key", d / "signer.pem", "--embed-public-key", "--cpk", "-o", d / "out-sign.cpk",
                     d / "sealed.cpk"],
        "cpk-verify": ["cpk-verify", "--public-key", d / "signer.pub", d / "app.cpk"],
        "cpk-unpack payload": ["cpk-unpack", "payload", "--file-store", STORE, "-o", d / "out.bin", d / "app.cpk"],
        "cpk-unpack envelope": ["cpk-unpack", "envelope", "-o", d / "out.env", d / "app.cpk"],
    }


NAMES = list(commands(REPO))


@pytest.mark.parametrize("name", NAMES)
def test_progress_on_a_terminal_and_off_with_q(material, name):
    command = commands(material)[name]
    status, seen, _ = on_a_terminal(*command, cwd=material)
    assert status == 0, seen
    assert PROGRESS.search(seen), f"{name}: no progress on the terminal: {seen!r}"
    assert b"\r\x1b[K" in seen and b"100%" in seen, seen  # rewritten in place, and it ends
    status, seen, _ = on_a_terminal(*command, "-q", cwd=material)
    assert status == 0, seen
    assert seen == b"", f"{name} -q still said {seen!r}"


@pytest.mark.parametrize("name", NAMES)
def test_progress_is_forced_into_a_pipe_and_absent_otherwise(material, name):
    command = commands(material)[name]
    quiet = run(*command, "-q")
    assert quiet.returncode in (0, 1) and quiet.stderr == b"", quiet.stderr
    forced = run(*command, "--progress")
    lines = forced.stderr.splitlines()
    shown = [line for line in lines if PROGRESS.search(line)]
    assert shown, f"{name} --progress showed nothing: {forced.stderr!r}"
    assert b"\r" not in forced.stderr, "a log gets whole lines"
    assert shown[-1].count(b"100%") == 1 and len([s for s in shown if b"100%" in s]) == 1, shown
    assert len(shown) <= 12, "a line per 10% at most"


def test_a_pipeline_draws_one_progress_line(material):
    """On a terminal, only the last tool of a pipeline draws: its standard output is not a pipe."""
    script = (f"cpk-pack --id test app.bin | cpk-seal --file-store {STORE} "
              f"| cpk-sign --key signer.pem --embed-public-key --cpk -o piped.cpk")
    status, seen, _ = on_a_terminal("bash", "-c", "set -o pipefail; " + script, cwd=material)
    assert status == 0, seen
    drawn = {line.split(b":")[0].strip(b"\r\x1b[K") for line in re.split(rb"\r\x1b\[K|\n", seen) if PROGRESS.search(line)}
    assert drawn == {b"cpk-sign"}, seen


def test_install_prints_the_identity_before_the_payload_flows(material, tmp_path):
    state = tmp_path / "state"
    check(run("cpk-install", "--state", state, "sync", "--id", "test", "--file-store", STORE, "-q"))
    status, seen, _ = on_a_terminal("cpk-install", "--state", state, "--public-key", material / "signer.pub",
                                    material / "app.cpk", cwd=tmp_path, both=True)
    assert status == 0, seen
    identity = seen.index(b"Package:   test")
    assert seen.index(b"Size:") < seen.index(b"deploying test:") < seen.index(b"Signer check"), seen
    assert identity < seen.index(b"deploying test:")
    assert seen.count(b"Package:") == 1 and b"Installed test" in seen


def test_q_silences_warnings_notes_and_confirmations(material, tmp_path):
    state = tmp_path / "state"
    loud = check(run("cpk-seal", "--file-store", STORE, "-o", tmp_path / "x.env", material / "plain.cpk"))
    assert b"warning: reading the key \"test\" in clear" in loud.stderr
    assert check(run("cpk-seal", "--file-store", STORE, "-q", "-o", tmp_path / "x.env", material / "plain.cpk")).stderr == b""
    synced = check(run("cpk-install", "--state", state, "sync", "--id", "test", "--file-store", STORE))
    assert synced.stderr.startswith(b"cpk-install: fetched and installed the class key of test")
    assert check(run("cpk-install", "--state", state, "sync", "--id", "test", "--file-store", STORE, "-q")).stderr == b""
    check(run("cpk-install", "--state", state, "--public-key", material / "signer.pub", "-q", material / "app.cpk"))
    assert check(run("cpk-install", "--state", state, "remove", "-q", "test")).stderr == b""
    unsigned = run("cpk-sign", "--key", material / "signer.pem", "-q", "-o", tmp_path / "y.env", material / "sealed.cpk")
    assert unsigned.returncode == 0 and unsigned.stderr == b"", unsigned.stderr


def test_v_says_each_step(material, tmp_path):
    packed = check(run("cpk-pack", "--id", "test", "-v", "-o", tmp_path / "p.env", material / "app.bin"))
    assert re.search(rb"^cpk-pack: packed .*app\.bin as test 1\.0\.0$", packed.stderr, re.M), packed.stderr
    sealed = check(run("cpk-seal", "--file-store", STORE, "-v", "-o", tmp_path / "s.env", tmp_path / "p.env"))
    assert b"cpk-seal: encrypted the payload" in sealed.stderr and b"key test" in sealed.stderr
    check(run("cpk-wrap", "keygen", "-o", tmp_path / "agent.pem", "--public-out", tmp_path / "agent.pub"))
    fetched = check(run("cpk-keyfetch", "--key-name", "test", "--file-store", STORE, "--to", tmp_path / "agent.pub",
                        "-v", "-o", tmp_path / "test.wkey"))
    assert re.search(rb"^cpk-keyfetch: wrote test from the key store .*test\.json, wrapped with rsa-oaep-sha256 "
                     rb"to the public key sha256:[0-9a-f]{64}$", fetched.stderr, re.M), fetched.stderr
    released = check(run("cpk-unpack", "payload", "--file-store", STORE, "-v", "-o", tmp_path / "out.bin",
                         material / "app.cpk"))
    assert b"cpk-unpack: released the payload of" in released.stderr
    contradiction = run("cpk-pack", "--id", "test", "-q", "-v", material / "app.bin")
    assert contradiction.returncode == 2 and b"contradict" in contradiction.stderr


def test_the_message_flags_may_come_before_the_subcommand(tmp_path):
    check(run("cpk-wrap", "-q", "keygen", "-o", tmp_path / "k.pem", "--public-out", tmp_path / "k.pub"))
    assert (tmp_path / "k.pem").exists()
    check(run("cpk-install", "-q", "--state", tmp_path / "state", "public-key", "--format", "fingerprint"))
    listed = check(run("cpk-install", "-q", "--state", tmp_path / "state", "list"))
    assert listed.stdout.startswith(b"ID") and listed.stderr == b""
    check(run("cpk-install", "--state", tmp_path / "state", "--progress", "list"))
    assert run("cpk-wrap", "-q").returncode == 2
