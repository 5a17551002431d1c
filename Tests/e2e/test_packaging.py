"""The release artifacts (make dist, make deb) work where they are used: on a clean Debian 12
with no Swift toolchain.

The module builds both (`make dist deb`: the release build, stripped, packed) while
scripts/clean-debian.sh makes, once, a minimal Debian 12 (debootstrap --variant=minbase
bookworm, kept in .build/debian-bookworm). Then, each in a fresh copy of that system:

- the .deb installed by apt, which fetches its dependencies from Debian: every tool's
  --version, the reference quick test (pack, seal, sign, sync, install, the plaintext back),
  man cpk-pack, bash completion, the documents; then dpkg --purge, which leaves nothing;
- the tarball unpacked, beside the libraries the README tells to install: its
  SHA256SUMS, every --version, the quick test, bash completion.

On the host: the contents of both, the Depends computed from the binaries, no library of the
Swift toolchain in any binary's ldd, lintian without errors (each warning explained in the
README), and the tarball built again gives the same bytes.
"""

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import tarfile

import pytest

from cpk import REPO, TOOLS

DIST = REPO / ".build" / "dist"
CLEAN = str(REPO / "scripts" / "clean-debian.sh")
SYSTEMS = REPO / ".build" / "packaging-test"
VERSION = (REPO / "VERSION").read_text().strip()
ARCH = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, check=True, text=True).stdout.strip()
TARBALL_NAME = f"cpk-tools-{VERSION}-linux-{os.uname().machine}"
# What the README tells a tarball user to install (and what the .deb's Depends adds to minbase).
TARBALL_DEPENDS = ["libssl3", "libcbor0.8", "libp11-3", "libtss2-esys-3.0.2-0", "libtss2-tctildr0", "libtss2-mu0", "libtss2-rc0"]
# Bookkeeping of apt, dpkg and man-db, which any package operation changes.
BOOKKEEPING = ("/var/lib/dpkg/", "/var/lib/apt/", "/var/cache/apt/", "/var/cache/debconf/", "/var/cache/man/",
               "/var/cache/ldconfig/", "/var/log/")


def toolchain_root() -> str:
    """/opt/swift for /opt/swift/usr/bin/swiftc."""
    swiftc = shutil.which("swiftc")
    assert swiftc, "swiftc is not on PATH"
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(swiftc))))


def inside(root, script: str, check: bool = True, timeout: int = 600) -> str:
    """Runs a bash script as root in the clean system at root; its standard output."""
    proc = subprocess.run([CLEAN, "run", str(root), "bash", "-c", "set -euo pipefail\n" + script],
                          capture_output=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, (f"inside {root.name}, exit {proc.returncode}:\n{script}\n"
                                      f"--- stdout\n{proc.stdout.decode()[-3000:]}\n--- stderr\n{proc.stderr.decode()[-3000:]}")
    return proc.stdout.decode()


def new_system(name: str):
    root = SYSTEMS / name
    if root.exists():
        subprocess.run([CLEAN, "remove", str(root)], check=True)
    SYSTEMS.mkdir(parents=True, exist_ok=True)
    subprocess.run([CLEAN, "new", str(root)], check=True)
    inside(root, "apt-get update -qq")
    return root


def remove_system(root):
    if os.environ.get("CPK_KEEP_SYSTEMS"):
        return
    subprocess.run([CLEAN, "remove", str(root)], check=True)


def files_of(root) -> set[str]:
    """Every path of the system but /proc, /dev and apt's, dpkg's and man-db's bookkeeping."""
    listing = inside(root, "find / -xdev -path /proc -prune -o -path /dev -prune -o -print")
    return {path for path in listing.splitlines() if not path.startswith(BOOKKEEPING)}


@pytest.fixture(scope="module")
def artifacts():
    """The release tarball and .deb, built by make (the clean system made meanwhile)."""
    base = subprocess.Popen([CLEAN, "base"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    make = subprocess.run(["make", "--no-print-directory", "-C", str(REPO), "dist", "deb"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=3600)
    base_output = base.communicate(timeout=3600)[0].decode()
    assert make.returncode == 0, make.stdout.decode()[-5000:]
    assert base.returncode == 0, base_output
    debs = sorted(DIST.glob(f"cpk-tools_{VERSION}-*_{ARCH}.deb"))
    assert len(debs) == 1, debs
    tarball = DIST / f"{TARBALL_NAME}.tar.gz"
    assert tarball.is_file()
    return {"deb": debs[0], "tarball": tarball, "log": make.stdout.decode()}


def deb_field(deb, field: str) -> str:
    return subprocess.run(["dpkg-deb", "-f", str(deb), field], capture_output=True, check=True, text=True).stdout.strip()


def expected_tarball_files() -> set[str]:
    names = {"README.md", "SHA256SUMS"}
    names |= {f"bin/{tool}" for tool in TOOLS}
    names |= {f"man/{p.name}" for p in (REPO / "man").glob("*.1")}
    names |= {f"completions/{p.name}" for p in (REPO / "completions").iterdir()}
    names |= {f"docs/{p.name}" for p in (REPO / "docs").glob("*.md")}
    names |= {f"docs/guide/{p.name}" for p in (REPO / "docs" / "guide").glob("*.md")}
    return {f"{TARBALL_NAME}/{name}" for name in names}


def expected_deb_files() -> set[str]:
    names = {f"/usr/bin/{tool}" for tool in TOOLS}
    names |= {f"/usr/share/man/man1/{p.name}.gz" for p in (REPO / "man").glob("*.1")}
    names |= {f"/usr/share/bash-completion/completions/{tool}" for tool in TOOLS}
    names |= {f"/usr/share/zsh/vendor-completions/_{tool}" for tool in TOOLS}
    names |= {f"/usr/share/fish/vendor_completions.d/{tool}.fish" for tool in TOOLS}
    doc = "/usr/share/doc/cpk-tools/"
    names |= {doc + p.name for p in (REPO / "docs").glob("*.md")}
    names |= {doc + "guide/" + p.name for p in (REPO / "docs" / "guide").glob("*.md")}
    names |= {doc + "README.md", doc + "copyright", doc + "changelog.Debian.gz"}
    return names


def test_tarball_contents_and_checksums(artifacts, tmp_path):
    with tarfile.open(artifacts["tarball"]) as tar:
        members = tar.getmembers()
        files = {m.name for m in members if m.isfile()}
        assert files == expected_tarball_files()
        assert {(m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, "", "")}
        assert {m.mode for m in members if m.isfile() and "/bin/" in m.name} == {0o755}
        assert {m.mode for m in members if m.isfile() and "/bin/" not in m.name} == {0o644}
        tar.extractall(tmp_path, filter="data")
    top = tmp_path / TARBALL_NAME
    sums = subprocess.run(["sha256sum", "--check", "--strict", "SHA256SUMS"], cwd=top, capture_output=True, text=True)
    assert sums.returncode == 0, sums.stdout + sums.stderr
    assert len(sums.stdout.splitlines()) == len(files) - 1  # every file but SHA256SUMS itself
    assert (top / "README.md").read_bytes() == (REPO / "README.md").read_bytes()
    assert (top / "man/cpk-pack.1").read_bytes() == (REPO / "man/cpk-pack.1").read_bytes()


def test_deb_contents_and_control(artifacts, tmp_path):
    deb = artifacts["deb"]
    listing = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True, check=True, text=True).stdout
    entries = [line.split() for line in listing.splitlines()]
    assert {e[1] for e in entries} == {"root/root"}
    files = {e[5].lstrip(".") for e in entries if e[0].startswith("-")}
    assert files == expected_deb_files()
    assert {e[0] for e in entries if e[5].startswith("./usr/bin/cpk-")} == {"-rwxr-xr-x"}
    assert {e[0] for e in entries if not e[5].startswith("./usr/bin/cpk-")} == {"-rw-r--r--", "drwxr-xr-x"}

    assert deb_field(deb, "Package") == "cpk-tools"
    version = deb_field(deb, "Version")
    assert re.fullmatch(rf"{re.escape(VERSION)}-\d+", version), version
    assert deb.name == f"cpk-tools_{version}_{ARCH}.deb"
    depends = [d.split()[0] for d in deb_field(deb, "Depends").split(", ")]
    for needed in TARBALL_DEPENDS + ["libc6"]:
        assert needed in depends, depends
    assert not [d for d in depends if "swift" in d.lower()], depends
    readme = (REPO / "README.md").read_text()
    assert "apt-get install " + " ".join(TARBALL_DEPENDS) in readme

    subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp_path)], check=True)
    page = subprocess.run(["gzip", "-dc", str(tmp_path / "usr/share/man/man1/cpk-pack.1.gz")],
                          capture_output=True, check=True, text=True).stdout
    assert ".Pa /usr/share/doc/cpk-tools/format.md" in page and ".Pa docs/" not in page
    changelog = subprocess.run(["gzip", "-dc", str(tmp_path / "usr/share/doc/cpk-tools/changelog.Debian.gz")],
                               capture_output=True, check=True, text=True).stdout
    assert changelog.startswith(f"cpk-tools ({version}) ")
    assert not (tmp_path / "usr/share/bash-completion/completions/cpk-pack").read_text().startswith("#!")


def test_no_binary_loads_the_swift_toolchain(artifacts, tmp_path):
    """ldd of every released binary, in both artifacts: system libraries only."""
    subprocess.run(["dpkg-deb", "-x", str(artifacts["deb"]), str(tmp_path / "deb")], check=True)
    (tmp_path / "tar").mkdir()
    subprocess.run(["tar", "-C", str(tmp_path / "tar"), "-xzf", str(artifacts["tarball"])], check=True)
    toolchain = toolchain_root()
    binaries = [tmp_path / "deb/usr/bin" / tool for tool in TOOLS]
    binaries += [tmp_path / "tar" / TARBALL_NAME / "bin" / tool for tool in TOOLS]
    for binary in binaries:
        ldd = subprocess.run(["ldd", str(binary)], capture_output=True, check=True, text=True).stdout
        assert toolchain + "/" not in ldd, f"{binary} loads from {toolchain}:\n{ldd}"
        assert "not found" not in ldd and "libswift" not in ldd and "Foundation" not in ldd, ldd
        assert "libssl.so.3" in ldd and "libcbor.so.0.8" in ldd
    # the tarball's and the .deb's binaries are the same
    for tool in TOOLS:
        assert (tmp_path / "deb/usr/bin" / tool).read_bytes() == (tmp_path / "tar" / TARBALL_NAME / "bin" / tool).read_bytes()


def test_lintian_finds_no_error_and_each_warning_is_explained(artifacts):
    report = artifacts["deb"].with_suffix(".lintian").read_text()
    assert not [line for line in report.splitlines() if line.startswith("E:")], report
    tags = {line.split()[2] for line in report.splitlines() if line.startswith(("W:", "I:"))}
    readme = (REPO / "README.md").read_text() + (REPO / "docs" / "guide" / "packaging.md").read_text()
    unexplained = sorted(tag for tag in tags if f"`{tag}`" not in readme)
    assert not unexplained, f"lintian warnings the release guide does not explain: {unexplained}\n{report}"


def test_tarball_is_reproducible(artifacts, tmp_path):
    """The same binaries packed again (another time, another directory) give the same bytes."""
    env = dict(os.environ, CPK_TOOLS=" ".join(TOOLS))
    subprocess.run([str(REPO / "scripts/package.sh"), "tarball", str(REPO / ".build/release"), str(tmp_path)],
                   check=True, env=env, capture_output=True)
    again = tmp_path / artifacts["tarball"].name
    assert hashlib.sha256(again.read_bytes()).hexdigest() == hashlib.sha256(artifacts["tarball"].read_bytes()).hexdigest()


def test_completion_places_are_where_debian_shells_look():
    """zsh's and fish's own search paths on Debian 12 name the .deb's folders."""
    zsh = subprocess.run(["zsh", "-fc", "print -l $fpath"], capture_output=True, check=True, text=True).stdout
    assert "/usr/share/zsh/vendor-completions" in zsh.split()
    fish = subprocess.run(["fish", "-c", "string join \\n $fish_complete_path"],
                          capture_output=True, check=True, text=True).stdout
    assert "/usr/share/fish/vendor_completions.d" in fish.split()


# The reference quick test, with what the package installed only: a class key provisioned into
# a file store, a development signer, pack | seal | sign, the key synced into the Package
# Manager (simulator), the package installed (its signer trusted), the plaintext back.
QUICK_TEST = """
work=$(mktemp -d)
cd "$work"
export CPK_CPM_STATE=$work/state
head -c 300000 /dev/urandom > input
cpk-keyfetch provision --key-name test --file-store keys.json
cpk-sign keygen --bits 2048 --common-name Release -o signer.pem --cert-out signer.crt --quiet
cpk-pack --id test --display-name Demo --vendor Acme --app-version 1.2.0 input \\
  | cpk-seal --file-store keys.json --quiet \\
  | cpk-sign --key signer.pem --cert signer.crt --cpk -o app.cpk
cpk-verify --ca signer.crt --file-store keys.json --quiet app.cpk
cpk-install sync --id test --file-store keys.json
cpk-install trust add signer.crt > /dev/null
cpk-install app.cpk
cpk-install dev-export-plaintext test | cmp - input
echo "quick test: the installed plaintext is the input"
cd / && rm -rf "$work"
"""


def check_versions(root, prefix: str = ""):
    out = inside(root, "; ".join(f"{prefix}{tool} --version" for tool in TOOLS))
    lines = out.splitlines()
    assert len(lines) == len(TOOLS)
    for tool, line in zip(TOOLS, lines):
        assert re.fullmatch(rf"{tool} {re.escape(VERSION)} \(cpk-tools; OpenSSL 3\.\d+\.\d+[^;]*; libcbor 0\.8\.\d+\)", line), line


def check_no_swift(root):
    found = inside(root, "test ! -e /opt/swift; ! command -v swift; find / -xdev \\( -name 'libswift*' -o -name 'libFoundation*' "
                         "-o -name 'swift-frontend' \\) -print")
    assert found == "", found


@pytest.fixture(scope="module")
def debian_with_deb(artifacts):
    """A clean Debian 12 with man-db and bash-completion, its file list, then the .deb installed."""
    root = new_system("deb")
    try:
        inside(root, "apt-get install -y -qq --no-install-recommends man-db bash-completion > /dev/null")
        shutil.copy(artifacts["deb"], root / "root" / artifacts["deb"].name)
        before = files_of(root)
        out = inside(root, f"apt-get install -y --no-install-recommends /root/{artifacts['deb'].name}")
        assert "cpk-tools" in out
        yield root, before
    finally:
        remove_system(root)


def test_deb_installs_and_every_tool_runs(debian_with_deb):
    root, _ = debian_with_deb
    check_no_swift(root)
    version = inside(root, "dpkg-query -W -f '${Version} ${Status}' cpk-tools")
    assert re.fullmatch(rf"{re.escape(VERSION)}-\d+ install ok installed", version), version
    assert inside(root, "command -v cpk-pack").strip() == "/usr/bin/cpk-pack"
    ldd = inside(root, "for t in /usr/bin/cpk-*; do ldd $t; done")
    assert "not found" not in ldd and "swift" not in ldd
    check_versions(root)


def test_deb_quick_test(debian_with_deb):
    root, _ = debian_with_deb
    out = inside(root, QUICK_TEST)
    assert "Installed test 1.2.0" in out and "quick test: the installed plaintext is the input" in out
    assert "NOT AUTHENTICATED" not in out  # the signer was trusted: the device authenticated it


def test_deb_man_pages_render(debian_with_deb):
    root, _ = debian_with_deb
    assert inside(root, "man -w cpk-pack").strip() == "/usr/share/man/man1/cpk-pack.1.gz"
    page = inside(root, "MANWIDTH=80 man -P cat cpk-pack")
    assert "cpk-pack" in page and "SYNOPSIS" in page and "/usr/share/doc/cpk-tools/format.md" in page
    for tool in TOOLS:
        page = inside(root, f"man -P cat {tool}")
        assert page.count(tool) > 3 and "DESCRIPTION" in page and "EXIT STATUS" in page, page[:500]
    docs = inside(root, "ls /usr/share/doc/cpk-tools").split()
    assert {"README.md", "format.md", "envelope.md", "keys.md", "copyright", "changelog.Debian.gz"} <= set(docs)


def test_deb_bash_completion_loads(debian_with_deb):
    root, _ = debian_with_deb
    out = inside(root, "bash -c 'source /usr/share/bash-completion/completions/cpk-pack && complete -p cpk-pack'")
    assert "-F _cpk-pack cpk-pack" in out
    # as an interactive shell finds it: bash-completion's loader, on first use of the command
    offered = inside(root, """bash --norc -c '
source /usr/share/bash-completion/bash_completion
_completion_loader cpk-pack
complete -p cpk-pack
COMP_WORDS=(cpk-pack --displ); COMP_CWORD=1; COMP_LINE="cpk-pack --displ"; COMP_POINT=${#COMP_LINE}
_cpk-pack cpk-pack --displ cpk-pack
printf "%s\\n" "${COMPREPLY[@]}"'""")
    assert "--display-name" in offered.split()


def test_deb_purge_leaves_nothing(debian_with_deb):
    """After dpkg --purge, what is new since before the install belongs to the dependencies
    apt brought (nothing of cpk-tools); after apt's autoremove of those, nothing is new."""
    root, before = debian_with_deb
    inside(root, "dpkg --purge cpk-tools")
    new = sorted(files_of(root) - before)
    assert new and not [path for path in new if "cpk" in path], new
    owners = inside(root, "dpkg -S " + " ".join(shlex.quote(p) for p in new) + " 2>/dev/null | cut -d: -f1 | sort -u",
                    check=False).split()
    assert "cpk-tools" not in owners and "libcbor0.8" in owners, owners
    inside(root, "apt-get autoremove --purge -y -qq > /dev/null")
    after = files_of(root)
    # tpm-udev (a dependency of libtss2-tctildr0) adds the system user "tss" with adduser; Debian
    # never removes system users on purge, so adduser's backups of the user files and its lock
    # stay: a dependency's, and the only exception
    added_user = {"/etc/shadow-", "/etc/gshadow-", "/run/adduser"}
    assert after - before - added_user == set(), sorted(after - before)
    assert "tss:" in inside(root, "getent passwd tss", check=False)
    assert before - after == set(), sorted(before - after)


@pytest.fixture(scope="module")
def debian_with_tarball(artifacts):
    root = new_system("tarball")
    try:
        # What the README tells tarball users to install: the .deb's Depends, but for what
        # even a minimal Debian has.
        depends = {d.split()[0] for d in deb_field(artifacts["deb"], "Depends").split(", ")}
        present = set(inside(root, "dpkg-query -W -f '${Status} ${Package}\\n' | awk '/^install ok installed / { print $4 }'").split())
        assert depends - present == set(TARBALL_DEPENDS), "the README's list is not the .deb's Depends"
        inside(root, f"apt-get install -y -qq --no-install-recommends {' '.join(TARBALL_DEPENDS)} > /dev/null")
        shutil.copy(artifacts["tarball"], root / "root" / artifacts["tarball"].name)
        inside(root, f"tar -C /opt -xzf /root/{artifacts['tarball'].name}")
        yield root
    finally:
        remove_system(root)


def test_tarball_runs_on_a_clean_system(debian_with_tarball):
    root = debian_with_tarball
    check_no_swift(root)
    top = f"/opt/{TARBALL_NAME}"
    inside(root, f"cd {top} && sha256sum --check --strict --quiet SHA256SUMS")
    ldd = inside(root, f"for t in {top}/bin/*; do ldd $t; done")
    assert "not found" not in ldd and "swift" not in ldd
    check_versions(root, prefix=f"{top}/bin/")
    out = inside(root, f"export PATH={top}/bin:$PATH\n" + QUICK_TEST)
    assert "quick test: the installed plaintext is the input" in out
    out = inside(root, f"bash -c 'source {top}/completions/cpk-install.bash && complete -p cpk-install'")
    assert "-F _cpk-install cpk-install" in out
