"""One command-line language across the eight tools (README, "Conventions (all tools)").

Walks every tool's and subcommand's options, from the tools' own help dump (what --help
prints), and checks the vocabulary table: the same concept under the same flag with the same
default, no old spelling as a visible flag, -o beside every --output, the messages flags on
every command, and --version on every tool.
"""

import json
import re

import pytest

from cpk import REPO, TOOLS, check, run

# Spellings the tools used before they shared one vocabulary, and others a newcomer might
# expect: none may be a visible flag (--unwrap-key and --trusted-key stay as hidden aliases).
FORBIDDEN = {
    "unwrap-key", "trusted-key", "name", "digest-format", "signature-format", "private-key",
    "signing-key", "signer-key", "key-file", "out", "output-file", "quiet-warnings", "app-name",
}

# Flags with one meaning, one value name and one default wherever they appear
# (None: no default shown).
SAME_EVERYWHERE = {
    "key": ("file", None),
    "key-name": ("name", None),
    "public-key": ("file", None),
    "to": ("public-key", "-"),
    "ca": ("file", None),
    "file-store": ("file", None),
    "url": ("url", None),
    "twin": ("file", None),
    "wrapped-key": ("file", None),
    "timeout": ("seconds", "30.0"),
    "state": ("dir", None),
    "padding": ("padding", "oaep-sha256"),
    "at": ("time", None),
}


# Every visible flag of every tool, with its one meaning: a pattern the help text of each of
# its occurrences must match (case-insensitive). A new flag must be added here, and a flag
# reused for another meaning fails (issue 27: --ca was also the fleet CA, --cert also the
# device's certificate).
MEANINGS = {
    "accept-unauthenticated-manifest": "no trusted signature covers", "allow-downgrade": "older",
    "allow-expired": "validity period", "allow-list": "device allow list", "allow-signer-change": "another signer",
    "app-version": "application's version", "arch": "architecture", "at": "^check certificates at",
    "bits": "modulus size", "ca": "^a trust anchor: signer", "ca-file": "https key service",
    "cert": "^(the signer's certificate|embed this x\\.509 certificate|the signing key's certificate)",
    "cert-domain": "target domain", "cert-out": "self-signed certificate", "cert-url": "by url",
    "certificate-identity": "signer's certificate must name", "certificate-identity-regexp": "regular expression",
    "common-name": "common name", "cpk": "finished \\.cpk", "date": "build date", "days": "days the certificate",
    "device-ca": "fleet ca of device certificates", "device-cert": "device certificate",
    "device-id": "(device's name in the fleet|this device's id in the fleet)",
    "device-key": "device key pair in a token", "digest-out": "bytes to sign", "display-name": "display name",
    "embed-form": "form of an embedded", "embed-public-key": "embed the signer's public key",
    "ek-ca": "trusted tpm manufacturer ca", "nonce": "the nonce \\(hex\\)", "registry": "enrollment registry",
    "tpm-registry": "tpm enrollment registry",
    "file-store": "key store", "fleet": "fleet operator", "force": "replace a key", "format": ".",
    "forget-history": "forget its rollback floor and signer",
    "listen": "grpc key-provider service", "tls-cert": "pem certificate", "tls-key": "private key of --tls-cert",
    "insecure-listen-any": "non-loopback address", "allow-sample-key": "sample=true",
    "generation": "generation of every release", "help": ".", "id": "application id",
    "inline": "base64 wrapped key", "insecure-any-device": "without authenticating",
    "insecure-unsigned-twin": "unsigned desired-state", "integrity-only": "integrity only", "json": "json",
    "key": "private key", "key-name": "key", "no-key-check": "no key check stream", "oci": "oci artifact",
    "os": "operating system",
    "output": "^write", "output-dir": "per device into this directory", "package": "package",
    "padding": "(padding|oaep-sha256)", "passphrase-env": "passphrase from the environment",
    "passphrase-file": "passphrase from the first line", "payload": "payload", "pin-fd": "pin",
    "pin-file": "pin", "pkcs11-module": "pkcs#11 module", "policy": "release policy", "pretty": "indent",
    "progress": "progress", "provider": "provider's name", "public-key": "(signer's|public key)",
    "public-out": "public key", "quiet": "nothing on standard error", "replace": "replace the signatures",
    "require": "checks that must run", "scheme": "rsa-pkcs1v15", "signature": "detached signature",
    "skip-signatures": "do not check", "state": "state directory", "timeout": "seconds to wait",
    "to": "public key or certificate to wrap to", "twin": "device-twin", "untrusted": "intermediate certificates",
    "url": "http key service", "valid-for": "how long each release is valid", "vendor": "vendor",
    "verbose": "each step", "version": "version", "wrapped-key": "wrapped key",
    "pcrs": "pcrs to quote", "tcti": "tpm's tcti",
    "ak-handle": "persistent handle of the attestation key",
}


# Options that name a token object to create, so take a pkcs11: URI and never a file.
URI_ONLY = {(("cpk-wrap", "keygen"), "key")}


def dump(tool: str) -> dict:
    return json.loads(check(run(tool, "--experimental-dump-help")).stdout)["command"]


def commands(command: dict, path: tuple[str, ...] = ()):
    """Every command of a tool, with its path (the tool, then subcommand names)."""
    path = path + (command["commandName"],)
    yield path, command
    for sub in command.get("subcommands", []):
        if sub["commandName"] != "help":
            yield from commands(sub, path)


def options(command: dict):
    for argument in command.get("arguments", []):
        if argument["kind"] in ("option", "flag"):
            yield argument


def longs(argument: dict) -> list[str]:
    return [n["name"] for n in argument.get("names", []) if n["kind"] in ("long", "longWithSingleDash")]


def shorts(argument: dict) -> list[str]:
    return [n["name"] for n in argument.get("names", []) if n["kind"] == "short"]


ALL = [(path, command) for tool in TOOLS for path, command in commands(dump(tool))]
LEAVES = [(path, command) for path, command in ALL if not command.get("subcommands")
          or all(s["commandName"] == "help" for s in command["subcommands"])]


def name(path) -> str:
    return " ".join(path)


@pytest.mark.parametrize("path,command", ALL, ids=[name(p) for p, _ in ALL])
def test_no_old_spelling_is_a_visible_flag(path, command):
    visible = {n for a in options(command) if a.get("shouldDisplay", True) for n in longs(a)}
    assert not visible & FORBIDDEN, f"{name(path)} shows {sorted(visible & FORBIDDEN)}"
    assert not any(n.endswith("-format") for n in visible), f"{name(path)}: an encoding is --format"


@pytest.mark.parametrize("path,command", ALL, ids=[name(p) for p, _ in ALL])
def test_same_concept_same_flag_same_default(path, command):
    for argument in options(command):
        if not argument.get("shouldDisplay", True):
            continue
        for flag in longs(argument):
            if flag == "output":
                assert "o" in shorts(argument), f"{name(path)}: --output without -o"
                assert argument.get("defaultValue") in ("-", None)
            if flag in SAME_EVERYWHERE:
                value_name, default = SAME_EVERYWHERE[flag]
                if (path[-2:], flag) in URI_ONLY:
                    value_name = "uri"

                assert argument.get("valueName") == value_name, f"{name(path)} --{flag}: {argument.get('valueName')}"
                shown = argument.get("defaultValue")
                # a required option, or an optional one whose help states the same default
                assert shown == default or (shown is None and (
                    not argument.get("isOptional") or f"default {default}" in argument.get("abstract", ""))), (
                    f"{name(path)} --{flag} defaults to {shown!r}, not {default!r}")
            if flag == "key":
                assert "private key" in argument["abstract"], f"{name(path)}: --key is the private key"
            if flag == "padding":
                completion = argument.get("completionKind", {}).get("list", {}).get("values")
                assert completion == ["oaep-sha256", "pkcs1v15"], f"{name(path)} --padding offers {completion}"
            if flag in ("json", "quiet", "verbose", "progress"):
                assert argument["kind"] == "flag", f"{name(path)} --{flag} takes no value"
        # a private key is --key, whatever the command
        text = argument.get("abstract", "").lower()
        if text.startswith("the private key") and argument.get("shouldDisplay", True):
            assert longs(argument) == ["key"], f"{name(path)}: {longs(argument)} names a private key"


@pytest.mark.parametrize("path,command", ALL, ids=[name(p) for p, _ in ALL])
def test_every_flag_has_one_meaning(path, command):
    for argument in options(command):
        if not argument.get("shouldDisplay", True):
            continue
        for flag in longs(argument):
            assert flag in MEANINGS, f"{name(path)} --{flag} is in no row of MEANINGS: add its one meaning"
            text = argument.get("abstract", "")
            assert re.search(MEANINGS[flag], text, re.IGNORECASE), f"{name(path)} --{flag} means something else: {text!r}"


def test_old_meanings_moved_to_distinct_flags_stay_accepted(tmp_path):
    """distribute's --ca is --device-ca, report's --cert is --device-cert: hidden aliases."""
    assert "--ca " not in check(run("cpk-keyfetch", "distribute", "--help")).stdout.decode()
    proc = run("cpk-keyfetch", "distribute", "--ca", tmp_path / "absent.pem", "--key-name", "x", "--key",
               tmp_path / "absent.key", tmp_path / "absent.json")
    assert proc.returncode == 2 and b"Unknown option" not in proc.stderr, proc.stderr
    proc = run("cpk-install", "--state", tmp_path / "state", "report", "--cert", tmp_path / "absent.crt")
    assert proc.returncode == 2 and b"absent.crt" in proc.stderr, proc.stderr


@pytest.mark.parametrize("path,command", LEAVES, ids=[name(p) for p, _ in LEAVES])
def test_every_command_has_the_message_flags(path, command):
    found = {}
    for argument in options(command):
        for flag in longs(argument):
            found[flag] = argument
    for flag, short in (("quiet", "q"), ("verbose", "v"), ("progress", None)):
        assert flag in found, f"{name(path)} has no --{flag}"
        if short:
            assert short in shorts(found[flag]), f"{name(path)}: --{flag} without -{short}"


@pytest.mark.parametrize("tool", TOOLS)
def test_every_tool_answers_version(tool):
    proc = check(run(tool, "--version"))
    line = proc.stdout.decode().strip()
    assert re.fullmatch(rf"{tool} \d+\.\d+\.\d+ \(cpk-tools; OpenSSL 3[^;]*; libcbor \d+\.\d+\.\d+\)", line), line


def test_the_readme_table_names_flags_the_tools_have():
    readme = (REPO / "README.md").read_text()
    section = readme.split("### Conventions (all tools)", 1)[1].split("\n#", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| concept")]
    assert len(rows) >= 12, "the Conventions table is missing or cut"
    every = {n for _, command in ALL for a in options(command) for n in longs(a)}
    for row in rows:
        flag_cell = row.split(" | ")[1]
        for flag in re.findall(r"`-?-?[a-z]*,? ?--([a-z][a-z-]*)", flag_cell):
            assert flag in every, f"the README's table names --{flag}, which no tool has"
    for flag, (_, default) in SAME_EVERYWHERE.items():
        if default == "oaep-sha256":
            assert "default `oaep-sha256`" in section


def test_every_man_page_refers_to_the_conventions():
    pages = {tool: (REPO / "man" / f"{tool}.1").read_text() for tool in TOOLS}
    sections = {tool: page.split(".Sh CONVENTIONS", 1)[1].split(".Sh ", 1)[0] for tool, page in pages.items()
                if ".Sh CONVENTIONS" in page}
    assert sorted(sections) == sorted(TOOLS), f"no CONVENTIONS section in {set(TOOLS) - set(sections)}"
    assert len(set(sections.values())) == 1, "the man pages' CONVENTIONS sections differ"
    assert "README" in next(iter(sections.values()))


def test_old_spellings_still_work_where_they_cost_nothing(tmp_path):
    """--unwrap-key and --trusted-key are hidden aliases: accepted, not shown."""
    check(run("cpk-wrap", "keygen", "-o", tmp_path / "agent.pem", "--public-out", tmp_path / "agent.pub"))
    help_text = check(run("cpk-seal", "--help")).stdout.decode()
    assert "--unwrap-key" not in help_text
    proc = run("cpk-seal", "--wrapped-key", tmp_path / "absent.wkey", "--unwrap-key", tmp_path / "agent.pem",
               tmp_path / "absent.env")
    assert proc.returncode == 2 and b"absent.env" in proc.stderr, proc.stderr
    proc = run("cpk-seal", "--wrapped-key", tmp_path / "absent.wkey", "--unwrap-key", tmp_path / "agent.pem",
               "--key", tmp_path / "agent.pem")
    assert proc.returncode == 2 and b"--key once" in proc.stderr, proc.stderr
    assert "--trusted-key" not in check(run("cpk-install", "install", "--help")).stdout.decode()
    proc = run("cpk-verify", "--trusted-key", tmp_path / "agent.pub", tmp_path / "absent.cpk")
    assert proc.returncode == 2 and b"absent.cpk" in proc.stderr, proc.stderr
