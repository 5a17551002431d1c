"""The README and the guide (docs/guide/) are executable documentation: every ```sh block
runs, in order, in one scratch directory, with the built tools first on PATH; where a ```text
block follows one, it is what the block prints on standard output (… stands for any text
within a line).

Each persona's first hour is a walk through the documents the README's "Your path" table
sends them to, in that order, from a fresh scratch directory: the README, then the guide's
pages, nothing else (issue 27). The whole guide also runs end to end, in the order of PAGES.

A block preceded by `<!-- not run: why -->` is skipped (it needs a server, root or the
network); the test insists each says why. The scratch directory starts with what a reader
has: the development key store test.json, a payload app.bin, a directory app/, and README.md.
"""

import os
import re
import shutil
import subprocess
from dataclasses import dataclass

import pytest

from cpk import BIN, REPO

README = REPO / "README.md"
GUIDE = REPO / "docs" / "guide"
# The guide's pages in reading order: a later page may use what an earlier one made.
PAGES = ["release-engineering", "trust", "devices", "fleets", "hsm", "tpm", "testing", "containers", "packaging", "benchmarks"]
# Each persona's walk: the README, then these pages (a page a walk needs before its own, first).
PERSONAS = {
    "release-engineer": ["release-engineering", "hsm"],
    "device-integrator": ["release-engineering", "trust", "devices"],
    "fleet-operator": ["release-engineering", "trust", "devices", "fleets"],
    "containers-operator": ["release-engineering", "containers"],
}
SKIP = re.compile(r"<!-- not run: (.+?) -->\s*$")


@dataclass
class Block:
    line: int
    code: str
    expected: str | None = None
    skipped: str | None = None
    end: int = 0  # the index of its closing fence


def blocks(path=README) -> list[Block]:
    lines = path.read_text().splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("```"):
            info = line[3:].strip()
            end = index + 1
            while not lines[end].startswith("```"):
                end += 1
            body = "\n".join(lines[index + 1:end])
            if info == "sh":
                before = lines[index - 1] if index else ""
                skipped = SKIP.match(before)
                found.append(Block(index + 1, body, skipped=skipped.group(1) if skipped else None, end=end))
            elif info == "text" and found and found[-1].expected is None and found[-1].skipped is None:
                gap = lines[found[-1].end + 1:index]
                if all(not g.strip() for g in gap):
                    found[-1].expected = body
            index = end
        index += 1
    return found


def walk(pages: list[str]) -> list[Block]:
    return blocks() + [block for page in pages for block in blocks(GUIDE / f"{page}.md")]


BLOCKS = walk(PAGES)


def matches(expected: str, actual: str) -> bool:
    want = expected.splitlines()
    got = actual.rstrip("\n").splitlines()
    if len(want) != len(got):
        return False
    for pattern, line in zip(want, got):
        regex = "^" + ".*".join(re.escape(part) for part in pattern.rstrip().split("…")) + "$"
        if not re.match(regex, line.rstrip()):
            return False
    return True


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return make_scratch(tmp_path_factory)


def make_scratch(tmp_path_factory):
    d = tmp_path_factory.mktemp("readme")
    shutil.copy(REPO / "test.json", d / "test.json")
    shutil.copy(README, d / "README.md")
    (d / "app.bin").write_bytes(os.urandom(200_000))
    (d / "app").mkdir()
    (d / "app" / "run.sh").write_text("#!/bin/sh\necho hello\n")
    (d / "home").mkdir()
    return d


def environment(scratch) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CP_", "CPK_")) and k != "SOURCE_DATE_EPOCH"}
    env.update(PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", HOME=str(scratch / "home"),
               XDG_STATE_HOME=str(scratch / "home" / "state"), LC_ALL="C")
    return env


def test_every_example_runs_in_order(scratch):
    """One test, in order: a later block uses what an earlier one made (keys, packages, state)."""
    run_blocks(scratch, BLOCKS)


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_personas_first_hour_walk(persona, tmp_path_factory):
    """From a fresh scratch directory, the README then the persona's pages, as written."""
    run_blocks(make_scratch(tmp_path_factory), walk(PERSONAS[persona]))


def test_the_readme_is_a_front_door():
    text = README.read_text()
    assert len(text.splitlines()) <= 300, "the README is the front door: the manual is docs/guide/"
    assert text.index("make demo") < text.index("## Quick start") < text.index("## Your path")
    for page in PAGES:
        assert f"docs/guide/{page}.md" in text, f"the README sends no one to {page}.md"


def test_the_readme_has_runnable_examples():
    run = [b for b in BLOCKS if b.skipped is None]
    assert len(run) >= 8, f"only {len(run)} runnable blocks"
    assert len(BLOCKS) - len(run) <= 8, "skipping blocks is for servers, root and the network only"
    assert any(b.expected for b in run), "no output block is compared"
    for block in BLOCKS:
        if block.skipped is not None:
            assert len(block.skipped) > 10, f"README line {block.line}: say why it is not run"


def run_blocks(scratch, blocks_to_run: list[Block]):
    env = environment(scratch)
    for block in blocks_to_run:
        if block.skipped is not None:
            continue
        proc = subprocess.run(["bash", "--norc", "--noprofile", "-e", "-o", "pipefail", "-c", block.code],
                              cwd=scratch, env=env, capture_output=True, timeout=300)
        where = f"line {block.line}"
        assert proc.returncode == 0, (
            f"{where} failed (exit {proc.returncode}):\n{block.code}\n--- stderr:\n{proc.stderr.decode(errors='replace')}")
        if block.expected is not None:
            out = proc.stdout.decode(errors="replace")
            assert matches(block.expected, out), f"{where}: the output differs from the README's:\n{out}"
