"""The completion scripts, driven as the shells drive them.

bash: the checked-in script is sourced, COMP_WORDS/COMP_CWORD/COMP_LINE/COMP_POINT are set as
bash sets them, the tool's completion function is called, and COMPREPLY is read. fish: its
own `complete -C` completes a command line with the checked-in script loaded. zsh: every
script parses (zsh -n) and loads under compinit, and an interactive zsh on a pseudo-terminal
(zsh/zpty) is sent a line and a TAB, its matches captured. The scripts must be what the tools generate
(check-docs diffs them), so this tests the tools' completion, not a hand-edited copy.
"""

import os
import shlex
import subprocess

import pytest

from cpk import REPO, TOOLS, check, env_with, run

STORE_PATH = REPO / "test.json"

COMPLETIONS = REPO / "completions"


def bash_complete(line: str, cwd, env=None) -> list[str]:
    """What bash offers for `line` (the cursor at its end): COMPREPLY of the tool's function."""
    words = shlex.split(line) + ([""] if line.endswith(" ") else [])
    tool = words[0]
    script = f"""
source {shlex.quote(str(COMPLETIONS / (tool + '.bash')))}
COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})
COMP_CWORD={len(words) - 1}
COMP_LINE={shlex.quote(line)}
COMP_POINT=${{#COMP_LINE}}
_{tool} {shlex.quote(tool)} {shlex.quote(words[-1])} {shlex.quote(words[-2] if len(words) > 1 else '')}
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], cwd=cwd, env=env or env_with(),
                          capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    return [w for w in proc.stdout.decode().split("\n") if w]


@pytest.fixture
def files(workdir):
    for name in ("app.bin", "app.cpk", "signer.pem"):
        (workdir / name).write_bytes(b"x")
    (workdir / "layouts").mkdir()
    return workdir


def test_the_default_subcommands_options_at_the_top_level(files):
    offered = bash_complete("cpk-pack --", files)
    assert {"--id", "--display-name", "--output", "--cpk", "--quiet", "--verbose", "--progress"} <= set(offered), offered
    assert bash_complete("cpk-pack --dis", files) == ["--display-name"]
    first = bash_complete("cpk-pack ", files)
    assert {"create", "finish", "app.bin", "app.cpk"} <= set(first), first
    assert "--verify" not in bash_complete("cpk-install --", files)
    assert {"--ca", "--public-key", "--json", "--state"} <= set(bash_complete("cpk-install --", files))
    assert bash_complete("cpk-keyfetch --key-n", files) == ["--key-name"]


def test_file_names_for_file_options_and_inputs(files):
    assert set(bash_complete("cpk-pack --id test ap", files)) == {"app.bin", "app.cpk"}
    assert set(bash_complete("cpk-pack --id test -o ap", files)) == {"app.bin", "app.cpk"}
    assert bash_complete("cpk-sign --key sig", files) == ["signer.pem"]
    assert bash_complete("cpk-install app.c", files) == ["app.cpk"]
    assert bash_complete("cpk-unpack payload --key sig", files) == ["signer.pem"]
    assert bash_complete("cpk-verify --ca sig", files) == ["signer.pem"]
    assert bash_complete("cpk-pack --id test --oci lay", files) == ["layouts"]
    # a value that is not a file is not completed as one
    assert bash_complete("cpk-pack --id ap", files) == []


@pytest.mark.parametrize("line,values", [
    ("cpk-sign --scheme ", ["rsa-pkcs1v15", "rsa-pss", "ecdsa-p256", "ecdsa-p384", "ed25519"]),
    ("cpk-sign prepare --format ", ["raw", "hex", "base64"]),
    ("cpk-sign stitch --format ", ["raw", "hex", "base64"]),
    ("cpk-verify --padding ", ["oaep-sha256", "pkcs1v15"]),
    ("cpk-seal --padding ", ["oaep-sha256", "pkcs1v15"]),
    ("cpk-keyfetch --padding ", ["oaep-sha256", "pkcs1v15"]),
    ("cpk-keyfetch --format ", ["document", "raw", "base64"]),
    ("cpk-wrap keygen --bits ", ["2048", "3072", "4096"]),
    ("cpk-install public-key --format ", ["pem", "der", "pkcs1", "pkcs1-pem", "base64", "fingerprint"]),
])
def test_enumerated_values(files, line, values):
    assert bash_complete(line, files) == values


def test_require_offers_the_check_names(files):
    offered = bash_complete("cpk-verify --require ", files)
    assert {"payload-signature", "package-trust", "manifest", "structure"} <= set(offered), offered
    assert "create" not in offered and "app.bin" not in offered


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A simulator state with the application "test" installed."""
    d = tmp_path_factory.mktemp("completion-state")
    (d / "app.bin").write_bytes(b"payload")
    check(subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                          "-out", str(d / "signer.pem")], capture_output=True))
    check(run("cpk-pack", "--id", "test", "-q", "-o", d / "plain.env", d / "app.bin"))
    check(run("cpk-seal", "--file-store", STORE_PATH, "-q", "-o", d / "sealed.env", d / "plain.env"))
    check(run("cpk-sign", "--key", d / "signer.pem", "--embed-public-key", "-q", "--cpk", "-o", d / "app.cpk",
              d / "sealed.env"))
    check(run("cpk-install", "--state", d / "state", "sync", "--id", "test", "--file-store", STORE_PATH, "-q"))
    check(run("cpk-install", "--state", d / "state", "-q", d / "app.cpk"))
    return d / "state"


def test_installed_ids_for_remove(files, installed):
    assert bash_complete(f"cpk-install remove --state {installed} ", files) == ["test"]
    assert bash_complete(f"cpk-install remove --state {installed} te", files) == ["test"]
    assert bash_complete(f"cpk-install remove --state {installed} x", files) == []
    assert bash_complete(f"cpk-install dev-export-plaintext --state {installed} ", files) == ["test"]
    from_environment = env_with(CPK_CPM_STATE=str(installed))
    assert bash_complete("cpk-install remove ", files, env=from_environment) == ["test"]


def test_completing_never_creates_a_state(files):
    absent = files / "no-state"
    assert bash_complete(f"cpk-install remove --state {absent} ", files) == []
    assert not absent.exists()


def fish(command: str, cwd) -> list[str]:
    script = "".join(f"source {shlex.quote(str(COMPLETIONS / (t + '.fish')))}\n" for t in TOOLS)
    script += f"complete -C {shlex.quote(command)}\n"
    proc = subprocess.run(["fish", "--no-config", "-c", script], cwd=cwd, env=env_with(),
                          capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    return [line.split("\t")[0] for line in proc.stdout.decode().splitlines()]


def test_fish_loads_and_completes(files):
    for tool in TOOLS:
        check(subprocess.run(["fish", "--no-config", "-n", str(COMPLETIONS / f"{tool}.fish")], capture_output=True))
    assert "--display-name" in fish("cpk-pack create --dis", files)
    assert fish("cpk-sign sign --scheme ed", files) == ["ed25519"]
    assert "signer.pem" in fish("cpk-sign sign --key sig", files)
    # (installed ids through fish need `commandline -C`, which fish refuses outside an
    # interactive session; bash's test above covers the tool's side of it)


def test_fish_offers_the_default_subcommands_words_at_the_top_level(files):
    """`cpk-pack --id` is `cpk-pack create --id`: its options, values and files are offered
    without the subcommand's name, and an option before a subcommand's name keeps it that one."""
    assert "--display-name" in fish("cpk-pack --dis", files)
    assert "--cpk" in fish("cpk-pack app.cpk --cp", files)
    assert fish("cpk-sign --scheme ed", files) == ["ed25519"]
    assert "--allow-downgrade" in fish("cpk-install --allow-d", files)
    assert fish("cpk-install --state /tmp li", files) == ["list"]
    assert fish("cpk-install --state /tmp list --js", files) == ["--json"]
    assert "create" in fish("cpk-pack cre", files)


# Drives an interactive zsh on a pseudo-terminal: loads compinit with the checked-in scripts,
# wraps compadd to print every match it is given, and once the line editor shows its prompt,
# types the line and a TAB. Markers are typed split ("<"'x'">") so the echo of what is typed
# never matches what the shell prints.
ZSH_CAPTURE = r"""
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z 'compadd () { builtin compadd -O __hits "$@"; print -l -- "<"hit">"${^__hits}; builtin compadd "$@" }'
zpty -w z "PROMPT='<''prompt''>'"
zpty -r z line '*<prompt>*'
zpty -w -n z "$2"$'\t'
zpty -w z $'\C-u''print -- "<"done">"'
while zpty -r z line; do
  [[ $line == *"<done>"* ]] && break
  [[ $line == *"<hit>"* ]] && print -r -- "${${line##*<hit>}%%$'\r'}"
done
zpty -d z
"""


def zsh(line: str, cwd) -> set[str]:
    proc = subprocess.run(["zsh", "-f", "-c", ZSH_CAPTURE, "zsh", str(COMPLETIONS), line], cwd=cwd, env=env_with(),
                          capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    return {hit for hit in proc.stdout.decode().splitlines() if hit}


def test_zsh_completes_subcommands_and_the_default_subcommands_words(files):
    assert "--display-name" in zsh("cpk-pack create --dis", files)
    assert "create" in zsh("cpk-pack cre", files)
    assert "--display-name" in zsh("cpk-pack --dis", files)
    assert "--cpk" in zsh("cpk-pack app.cpk --cp", files)
    assert zsh("cpk-sign --scheme ed", files) == {"ed25519"}
    assert "--allow-downgrade" in zsh("cpk-install --allow-d", files)
    assert zsh("cpk-install --state /tmp list --js", files) == {"--json"}


@pytest.mark.parametrize("tool", TOOLS)
def test_zsh_parses_and_loads(tool, tmp_path):
    path = COMPLETIONS / f"_{tool}"
    check(subprocess.run(["zsh", "-n", str(path)], capture_output=True))
    script = f"autoload -Uz compinit && compinit -u -d {tmp_path}/zcompdump && source {shlex.quote(str(path))}" \
             f" && (( $+functions[_{tool}] ))"
    proc = subprocess.run(["zsh", "-f", "-c", script], capture_output=True, env=env_with(), timeout=60)
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr.decode()


def test_key_names_from_the_file_store(files):
    store = files / "keys.json"
    store.write_text('{"test": "suAWDWNySJO7M94wBw91NHMJyof4Q71rx6LBw6PMQfQ=", '
                     '"team-app": "suAWDWNySJO7M94wBw91NHMJyof4Q71rx6LBw6PMQfQ="}')
    assert bash_complete(f"cpk-keyfetch --file-store {store} --key-name ", files) == ["test", "team-app"]
    assert bash_complete(f"cpk-keyfetch --file-store {store} --key-name tea", files) == ["team-app"]
    assert bash_complete(f"cpk-seal --file-store {store} --key-name te", files) == ["test", "team-app"]
    assert bash_complete(f"cpk-install sync --file-store {store} --id t", files) == ["test", "team-app"]
    from_environment = env_with(CP_FILE_KEY_SOURCE=str(store))
    assert bash_complete("cpk-unpack payload --key-name ", files, env=from_environment) == ["test", "team-app"]
    assert bash_complete(f"cpk-keyfetch --file-store {files / 'absent.json'} --key-name ", files) == []
