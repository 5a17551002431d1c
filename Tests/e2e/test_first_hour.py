"""A new user's first hour (issue 27): each stumble of the trial, played with the trial's own
command, now doing what the issue specifies; and the --json error contract walked over every
subcommand of every tool with a bad input."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from cpk import MAGIC, REPO, TOOLS, check, env_with, run, sh

STORE = REPO / "test.json"


@pytest.fixture(scope="module")
def material(tmp_path_factory):
    d = tmp_path_factory.mktemp("first-hour")
    (d / "app.bin").write_bytes(b"the first hour\n" * 100)
    check(subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                          "-out", str(d / "signer.pem")], capture_output=True))
    check(subprocess.run(["openssl", "pkey", "-in", str(d / "signer.pem"), "-pubout", "-out", str(d / "signer.pub")],
                         capture_output=True))
    check(sh(f"cpk-pack --id test app.bin | cpk-seal --file-store {STORE} -q > t.env", cwd=d))
    check(run("cpk-sign", "--key", "signer.pem", "--embed-public-key", "-q", "--cpk", "-o", "app.cpk", "t.env", cwd=d))
    return d


@pytest.mark.parametrize("tool, option", [("cpk-pack", "--app-version"), ("cpk-sign", "--embed-form"),
                                          ("cpk-install", "--allow-downgrade"), ("cpk-keyfetch", "--key-name")])
def test_help_shows_the_default_subcommand_and_each_default_once(tool, option):
    text = check(run(tool, "--help")).stdout.decode()
    assert option in text, text
    assert "The default subcommand" in text
    assert "). (default" not in text and "(default 1.0.0)" not in text


def test_every_option_prints_its_default_once():
    for tool in TOOLS:
        dump = json.loads(check(run(tool, "--experimental-dump-help")).stdout)["command"]
        stack = [dump]
        while stack:
            command = stack.pop()
            stack += command.get("subcommands", [])
            for argument in command.get("arguments", []):
                if argument.get("defaultValue") is not None:
                    assert "(default" not in argument.get("abstract", ""), (tool, command["commandName"], argument)


def test_a_mistyped_option_gets_the_nearest_known_ones(material):
    proc = run("cpk-sign", "--key", "signer.pem", "--certificate", "x.crt", "t.env", cwd=material)
    assert proc.returncode == 2 and b"did you mean --cert" in proc.stderr, proc.stderr
    assert len(proc.stderr.splitlines()) == 1


def test_quiet_verify_and_install_print_the_verdict_line_only(material, tmp_path):
    proc = check(run("cpk-verify", "-q", "--public-key", "signer.pub", "app.cpk", cwd=material))
    assert proc.stdout.decode().splitlines() == [proc.stdout.decode().strip()] and proc.stdout.startswith(b"VERIFIED")
    assert proc.stderr == b""
    state = tmp_path / "state"
    check(run("cpk-install", "--state", state, "sync", "--id", "test", "--file-store", STORE, "-q"))
    proc = check(run("cpk-install", "--state", state, "-q", "--public-key", "signer.pub", "app.cpk", cwd=material))
    assert proc.stdout.decode().splitlines() == ["Installed test 1.0.0"], proc.stdout
    assert proc.stderr == b""


def test_a_mistyped_state_is_an_error_not_a_new_device(tmp_path):
    missing = tmp_path / "nonexistent" / "x"
    for command in (["list", "--json"], ["status"], ["check-state"], ["trust", "list"], ["remove", "test"]):
        proc = run("cpk-install", "--state", missing, *command)
        assert proc.returncode == 2 and b"no device state at" in proc.stderr, (command, proc.stderr)
    assert not (tmp_path / "nonexistent").exists()


def test_an_output_named_cpk_is_never_an_envelope(material):
    check(run("cpk-sign", "--key", "signer.pem", "--embed-public-key", "-q", "-o", "t.cpk", "t.env", cwd=material))
    assert (material / "t.cpk").read_bytes().startswith(MAGIC)
    proc = run("cpk-unpack", "envelope", "-o", "back.cpk", "app.cpk", cwd=material)
    assert proc.returncode == 2 and b"named like a finished .cpk" in proc.stderr
    proc = run("cpk-sign", "prepare", "--public-key", "signer.pub", "--digest-out", "d.bin", "-o", "p.cpk", "t.env",
               cwd=material)
    assert proc.returncode == 2 and b"named like a finished .cpk" in proc.stderr
    assert not (material / "back.cpk").exists() and not (material / "p.cpk").exists()


def test_plaintext_may_go_to_dev_null(material):
    check(run("cpk-unpack", "payload", "--file-store", STORE, "-q", "-o", "/dev/null", "app.cpk", cwd=material))


def test_after_a_rotation_a_device_that_has_not_synced_is_told_so(material, tmp_path):
    """The trial: the class key rotated, the device not yet synced, and the new package blamed on
    tampering. Now the package's key check value names the stale key, and the sync fixes it."""
    state = tmp_path / "state"
    check(run("cpk-install", "--state", state, "sync", "--id", "test", "--file-store", STORE, "-q"))
    check(run("cpk-keyfetch", "provision", "--key-name", "test", "--file-store", tmp_path / "rotated.json"))
    check(sh(f"cpk-pack --id test --app-version 2.0.0 app.bin | cpk-seal --file-store {tmp_path / 'rotated.json'} -q"
             f" | cpk-sign --key signer.pem --embed-public-key -q --cpk -o {tmp_path / 'v2.cpk'}", cwd=material))
    proc = run("cpk-install", "--state", state, "--public-key", "signer.pub", tmp_path / "v2.cpk", cwd=material)
    assert proc.returncode == 1
    assert b"sealed with another class key than the installed one" in proc.stderr and b"sync" in proc.stderr
    assert b"altered" not in proc.stderr, proc.stderr
    check(run("cpk-install", "--state", state, "sync", "--id", "test", "--file-store", tmp_path / "rotated.json", "-q"))
    check(run("cpk-install", "--state", state, "-q", "--public-key", "signer.pub", tmp_path / "v2.cpk", cwd=material))


def test_distribute_makes_its_output_directory(tmp_path):
    state = tmp_path / "device"
    check(run("cpk-install", "--state", state, "report", "--device-id", "dev-01", "-o", tmp_path / "r.json"))
    check(subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                          "-out", str(tmp_path / "op.pem")], capture_output=True))
    proc = run("cpk-keyfetch", "distribute", "--file-store", STORE, "--key-name", "test", "--insecure-any-device",
               "--key", tmp_path / "op.pem", "--output-dir", tmp_path / "new" / "desired", tmp_path / "r.json")
    check(proc)
    assert (tmp_path / "new" / "desired" / "dev-01.json").exists()


def json_commands():
    """Every subcommand of every tool that takes --json, by its path."""
    found = []
    for tool in TOOLS:
        dump = json.loads(check(run(tool, "--experimental-dump-help")).stdout)["command"]
        stack = [((tool,), dump)]
        while stack:
            path, command = stack.pop()
            for sub in command.get("subcommands", []):
                if sub["commandName"] != "help":
                    stack.append((path + (sub["commandName"],), sub))
            arguments = command.get("arguments", [])
            names = {n["name"] for a in arguments for n in a.get("names", [])}
            if "json" in names and not command.get("subcommands"):
                positional = any(a["kind"] == "positional" for a in arguments)
                found.append((path, positional))
            elif "json" in names:  # a root whose default subcommand takes --json
                found.append((path, True))
    return sorted(found)


@pytest.mark.parametrize("path, positional", json_commands(), ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_json_keeps_its_error_contract_everywhere(path, positional, tmp_path):
    """With --json, a bad input still gives one JSON document on standard output, and an error
    document has one shape in every tool: {TOOL: 1, "error": {kind, exit, message[, reason]}}."""
    tool, *sub = path
    argv = [*sub, "--json"] + ([str(tmp_path / "no-such-input")] if positional else [])
    proc = run(tool, *argv, cwd=tmp_path, env=env_with(CPK_CPM_STATE=str(tmp_path / "state")))
    assert proc.returncode != 0, (path, proc.stdout, proc.stderr)
    document = json.loads(proc.stdout)
    assert isinstance(document, dict), proc.stdout
    if "error" in document and isinstance(document["error"], dict):
        error = document["error"]
        assert document.get(tool) == 1, document
        assert list(error)[:3] == ["kind", "exit", "message"] and set(error) <= {"kind", "exit", "message", "reason"}
        assert error["exit"] == proc.returncode
    assert len(proc.stderr.decode().strip().splitlines()) >= 1
