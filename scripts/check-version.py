#!/usr/bin/env python3
"""The version has one source: the VERSION file. The tools' --version (ToolVersion.project in
Sources/CPKCLI/ToolVersion.swift) and the Debian package (the newest entry of
packaging/debian/changelog, VERSION-REVISION) must say the same; this says what disagrees.

To release a new version: edit VERSION, ToolVersion.project, and add a changelog entry
(`dch -c packaging/debian/changelog -v VERSION-1`); make check-docs runs this check."""
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    version = (REPO / "VERSION").read_text().strip()
    problems = []
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        problems.append(f"VERSION: {version!r} is not MAJOR.MINOR.PATCH")
    swift = REPO / "Sources/CPKCLI/ToolVersion.swift"
    found = re.search(r'static let project = "([^"]*)"', swift.read_text())
    if not found or found.group(1) != version:
        problems.append(f"{swift.relative_to(REPO)}: project is {found.group(1) if found else 'missing'}, VERSION is {version}")
    changelog = REPO / "packaging/debian/changelog"
    top = re.match(r"cpk-tools \(([^)]+)\)", changelog.read_text())
    if not top or top.group(1).rsplit("-", 1)[0] != version or "-" not in top.group(1):
        problems.append(f"{changelog.relative_to(REPO)}: the newest entry is {top.group(1) if top else 'unreadable'}, "
                        f"not {version}-REVISION")
    for problem in problems:
        print(f"check-version: {problem}", file=sys.stderr)
    if not problems:
        print(f"version {version}: VERSION, ToolVersion.swift and packaging/debian/changelog agree")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
