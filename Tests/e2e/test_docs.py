"""Every option a tool accepts is documented in its man page, and every working tool has one."""

import json
import re
import os
import shutil
import subprocess
import sys

import pytest

from cpk import REPO, check, documented_openssl_commands, env_with as cpk_env, run, scheme_table

DOCUMENTED = ["cpk-pack", "cpk-unpack", "cpk-seal", "cpk-wrap", "cpk-keyfetch", "cpk-install", "cpk-sign", "cpk-verify"]


def long_options(command: dict) -> set[str]:
    names = set()
    for argument in command.get("arguments", []):
        if argument.get("shouldDisplay", True) is False:
            continue
        for name in argument.get("names") or []:
            if name["kind"] == "long" and name["name"] not in ("help", "version"):
                names.add(name["name"])
    for sub in command.get("subcommands", []):
        if sub["commandName"] != "help":
            names |= long_options(sub)
    return names


@pytest.mark.parametrize("tool", DOCUMENTED)
def test_man_page_documents_every_long_option(tool):
    page = (REPO / "man" / f"{tool}.1").read_text()
    dump = json.loads(check(run(tool, "--experimental-dump-help")).stdout)
    options = long_options(dump["command"])
    assert options, "no options found: the help dump changed shape"
    missing = sorted(o for o in options if f"Fl -{o}" not in page)
    assert not missing, f"{tool}.1 does not document: {missing}"
    assert ".Sh EXIT STATUS" in page and ".Sh EXAMPLES" in page


def rendered(tool: str) -> list[str]:
    """The man page as a reader sees it: mandoc's UTF-8 output, overstrike removed."""
    text = check(subprocess.run(["mandoc", "-Tutf8", str(REPO / "man" / f"{tool}.1")], capture_output=True)).stdout.decode()
    return re.sub(r".\x08", "", text).splitlines()


@pytest.mark.parametrize("tool", DOCUMENTED)
def test_man_pages_render_without_stray_dashes_or_lost_quotes(tool):
    """Lint passes on pages that still render wrongly: words after `Fl` in one macro line each
    get a dash (`(--device-id, -default -the -host -name)`), and a quoted JSON key in a macro
    line loses its quotes (`{"a": 1, b: 2}`). Both are looked for in what mandoc renders."""
    for number, line in enumerate(rendered(tool), 1):
        assert not re.search(r"--[a-z-]+, -[a-z]{2,}", line), f"{tool}(1) line {number}: {line.strip()}"
        if "openssl" not in line and "pkeyutl" not in line:
            assert not re.search(r"(^|\s)-[a-z]{2,} -[a-z]{2,} -[a-z]{2,}", line), f"{tool}(1) line {number}: {line.strip()}"
        if '{"' in line:
            assert not re.search(r"[{,]\s*[a-z_][a-z_-]*:\s", line), f"{tool}(1) line {number} lost quotes: {line.strip()}"


def test_the_import_check_catches_an_undeclared_import(tmp_path):
    """scripts/check-imports.py passes on the repo, and fails, naming the target and module,
    on a copy whose source imports a module its target does not declare."""
    script = REPO / "scripts" / "check-imports.py"
    dump = subprocess.run(["swift", "package", "dump-package"], cwd=REPO, check=True, capture_output=True).stdout
    (tmp_path / "dump.json").write_bytes(dump)
    env = dict(os.environ, CHECK_IMPORTS_DUMP=str(tmp_path / "dump.json"))
    good = subprocess.run([sys.executable, script], env=dict(env, CHECK_IMPORTS_ROOT=str(REPO)), capture_output=True)
    assert good.returncode == 0, good.stderr
    copy = tmp_path / "tree"
    shutil.copytree(REPO / "Sources", copy / "Sources")
    shutil.copytree(REPO / "Tests", copy / "Tests", ignore=shutil.ignore_patterns("corpus", "__pycache__"))
    (copy / "Sources" / "CPKFormat" / "Mistake.swift").write_text("import CPKCrypto\n")
    bad = subprocess.run([sys.executable, script], env=dict(env, CHECK_IMPORTS_ROOT=str(copy)), capture_output=True)
    assert bad.returncode == 1
    assert b"CPKFormat imports CPKCrypto but does not declare it" in bad.stderr


def test_the_flag_check_catches_a_flag_in_a_library_message(tmp_path):
    """scripts/check-flag-names.py passes on the repo, and fails on a copy where a library
    message names a flag (a comment, the CLI layer and the tools may)."""
    script = REPO / "scripts" / "check-flag-names.py"
    good = subprocess.run([sys.executable, script], capture_output=True)
    assert good.returncode == 0, good.stderr
    copy = tmp_path / "tree"
    shutil.copytree(REPO / "Sources", copy / "Sources")
    allowed = '// give --force\nlet a = "fine"\n'
    (copy / "Sources" / "CPKCLI" / "Fine.swift").write_text('let hint = "use --force"\n')
    (copy / "Sources" / "CPKFormat" / "Fine.swift").write_text(allowed)
    env = dict(os.environ, CHECK_FLAGS_ROOT=str(copy))
    assert subprocess.run([sys.executable, script], env=env, capture_output=True).returncode == 0
    (copy / "Sources" / "CPKFormat" / "Mistake.swift").write_text(
        'let m = """\n    give \\(x) --allow-downgrade\n    """\n')
    bad = subprocess.run([sys.executable, script], env=env, capture_output=True)
    assert bad.returncode == 1
    assert b"Sources/CPKFormat/Mistake.swift:1: a library message names the flag --allow-downgrade" in bad.stderr


@pytest.mark.parametrize("tool", DOCUMENTED)
def test_every_tool_answers_version(tool):
    """--version: the tool, the project version (one place: CPKCLI's ToolVersion) and the
    OpenSSL and libcbor versions, on stdout, exit 0."""
    out = check(run(tool, "--version")).stdout.decode()
    assert re.fullmatch(rf"{tool} \d+\.\d+\.\d+ \(cpk-tools; OpenSSL \d+\.\d+\.\d+[^;]*; libcbor \d+\.\d+\.\d+\)\n", out), out
    versions = {check(run(other, "--version")).stdout.decode().split()[1] for other in DOCUMENTED}
    assert len(versions) == 1, versions


@pytest.mark.parametrize("tool, args", [
    ("cpk-verify", ["--json", "--ca", "/nonexistent/ca.pem", "x.cpk"]),
    ("cpk-install", ["install", "--json", "/nonexistent/app.cpk"]),
])
def test_json_errors_are_json_too(tool, args, tmp_path):
    """With --json, a failure before any report (exit 2) still gives one JSON document on
    stdout, so `| jq` never reads nothing; the one-line message stays on stderr."""
    proc = run(tool, *args, env=dict(os.environ, CPK_CPM_STATE=str(tmp_path / "cpm")))
    assert proc.returncode == 2
    document = json.loads(proc.stdout)
    assert document[tool] == 1 and document["error"]["exit"] == 2 and document["error"]["kind"] == "io"
    assert "/nonexistent" in document["error"]["message"]
    assert proc.stderr.decode().count("\n") == 1


def worked_signing_commands(text: str) -> list[list[str]]:
    """The example openssl signing commands of a text (continuations joined), as argument lists."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [line.split()[1:] for line in joined.splitlines() if line.strip().startswith("openssl pkeyutl -sign -inkey signer.pem")]


def test_offline_signing_commands_agree_with_the_scheme_table():
    """The openssl commands that sign a digest offline are one table, SignatureScheme in CPKCrypto,
    from which `cpk-sign prepare --help` is generated; cpk-sign.1 and the guide's offline-signing
    block must say the same, scheme by scheme and argument by argument, and their worked example
    must be the rsa-pkcs1v15 row with real file names."""
    table = documented_openssl_commands()
    assert len(table) == 5, table

    page = (REPO / "man" / "cpk-sign.1").read_text()
    block = page.split("The signer signs those bytes elsewhere", 1)[1].split(".Bd -literal", 1)[1].split(".Ed", 1)[0]
    assert scheme_table(block.replace("\\e", "\\")) == table, "man/cpk-sign.1 disagrees with cpk-sign prepare --help"

    guide = (REPO / "docs" / "guide" / "release-engineering.md").read_text()
    section = guide.split("### Offline signing", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    comments = "\n".join(line.lstrip("#") for line in section.splitlines() if line.startswith("#   "))
    assert scheme_table(comments) == table, "the guide's offline-signing comments disagree with cpk-sign prepare --help"

    example = [a.replace("K", "signer.pem").replace("D", "app.dig") if a in ("K", "D") else a
               for a in table["rsa-pkcs1v15"]] + ["-out", "app.sig"]
    top_help = check(run("cpk-sign", "--help")).stdout.decode()
    for name, text in [("docs/guide/release-engineering.md", section), ("man/cpk-sign.1", page.replace("\\e", "\\")), ("cpk-sign --help", top_help)]:
        # the guide signs twice (the payload's digest, then the package's): the same command
        worked = [[{"pkg.dig": "app.dig", "pkg.sig": "app.sig"}.get(a, a) for a in command]
                  for command in worked_signing_commands(text)]
        assert worked and all(command == example for command in worked), (name, worked, example)


def help_pages():
    for tool in DOCUMENTED:
        def walk(command, path):
            yield path
            for sub in command.get("subcommands", []):
                if sub["commandName"] != "help":
                    yield from walk(sub, path + [sub["commandName"]])
        yield from walk(json.loads(check(run(tool, "--experimental-dump-help")).stdout)["command"], [tool])


HELP_PAGES = list(help_pages())


@pytest.mark.parametrize("path", HELP_PAGES, ids=[" ".join(p) for p in HELP_PAGES])
def test_help_examples_copy_and_paste(path):
    """A trailing comment never wraps onto a line of its own (copy-paste would run it), and
    --help claims no environment default a tool ignores."""
    text = check(run(*path, "--help")).stdout.decode()
    wrapped = [line for line in text.splitlines() if line.strip().startswith("#")]
    lines = text.splitlines()
    for start, line in enumerate(lines):
        if line.strip().startswith("Example"):
            for example in lines[start + 1:]:
                if not example.strip():
                    break
                if not example.startswith(" "):
                    wrapped.append(example)
    assert not wrapped, f"{' '.join(path)} --help: an example wraps onto a line of its own: {wrapped}"
    if path[0] == "cpk-verify":
        assert "CP_FILE_KEY_SOURCE" not in text and "CP_CLOUD_KEY_SOURCE" not in text


def test_no_file_cites_a_design_document_the_repository_lacks():
    cited = subprocess.run(["grep", "-rln", "DESIGN.md", "Sources", "Tests", "docs", "man", "README.md", "scripts"],
                           cwd=REPO, capture_output=True, text=True).stdout.split()
    assert [p for p in cited if p != "Tests/e2e/test_docs.py"] == []
