#!/usr/bin/env python3
"""Prints how many XCTest tests ran per library test target, from `swift test` output on stdin
(XCTest reports per class; the class -> target map comes from the Tests/ folders)."""
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
owner = {}
for folder in sorted((REPO / "Tests").glob("CPK*Tests")):
    for source in folder.glob("*.swift"):
        for name in re.findall(r"class\s+(\w+)\s*:\s*XCTestCase", source.read_text()):
            owner[name] = folder.name
counts = {folder.name: 0 for folder in sorted((REPO / "Tests").glob("CPK*Tests"))}
for line in sys.stdin:
    match = re.match(r"Test Case '-?\[?(?:\w+\.)?(\w+)[ .](\w+)\]?' (passed|failed)", line)
    if match and match.group(1) in owner:
        counts[owner[match.group(1)]] += 1
print("unit tests per target: " + ", ".join(f"{target} {count}" for target, count in counts.items()))
