#!/usr/bin/env python3
"""Every target declares exactly what it imports (issue 13): the modules a target's sources
import must be its declared dependencies, and every declared dependency must be imported.

Reads the package graph from `swift package dump-package` (the manifest as SwiftPM sees it)
and the `import` lines of each target's sources. System modules (Foundation, Glibc, XCTest, ...)
are not targets and are ignored. Exit 1 with one line per mismatch.
"""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SYSTEM = {"Foundation", "FoundationNetworking", "FoundationEssentials", "Glibc", "Darwin", "Dispatch", "XCTest",
          "Swift", "_StringProcessing"}
IMPORT = re.compile(r"^\s*(?:@testable\s+|@_implementationOnly\s+)?import\s+(?:(?:struct|class|enum|func|protocol)\s+)?(\w+)",
                    re.MULTILINE)


def dependencies(target: dict) -> set[str]:
    names = set()
    for dependency in target.get("dependencies", []):
        for kind in ("byName", "target", "product"):
            if kind in dependency:
                value = dependency[kind]
                names.add(value[0] if kind != "product" else value[0])
    # products are imported by module name; ArgumentParser is the only one here
    return {"ArgumentParser" if n == "ArgumentParser" else n for n in names}


def main() -> int:
    # CHECK_IMPORTS_ROOT and CHECK_IMPORTS_DUMP (a saved dump) let a test check another tree.
    root = Path(os.environ.get("CHECK_IMPORTS_ROOT", REPO))
    if "CHECK_IMPORTS_DUMP" in os.environ:
        dump = json.loads(Path(os.environ["CHECK_IMPORTS_DUMP"]).read_text())
    else:
        dump = json.loads(subprocess.run(["swift", "package", "dump-package"], cwd=root, check=True,
                                         capture_output=True, text=True).stdout)
    problems = []
    for target in dump["targets"]:
        if target["type"] == "system":
            continue
        name = target["name"]
        path = root / (target.get("path") or ("Tests" if target["type"] == "test" else "Sources") + "/" + name)
        imported = set()
        for source in path.rglob("*.swift"):
            imported |= set(IMPORT.findall(source.read_text()))
        imported -= SYSTEM
        imported.discard(name)
        declared = dependencies(target)
        for module in sorted(imported - declared):
            problems.append(f"{name} imports {module} but does not declare it in Package.swift")
        for module in sorted(declared - imported):
            problems.append(f"{name} declares {module} in Package.swift but does not import it")
    for line in problems:
        print(f"check-imports: {line}", file=sys.stderr)
    if not problems:
        print(f"check-imports: every one of {len(dump['targets'])} targets declares exactly what it imports")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
