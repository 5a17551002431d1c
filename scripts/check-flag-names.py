#!/usr/bin/env python3
"""Flag names only in the command-line layer (issue 13): no string literal in a library target
names a command-line option (`--flag`). A library reports what is wrong with a typed error
(CPKError with a Reason); the command-line layer and the tools add which flag would help.

Scans the string literals (plain, multi-line and raw) of every Swift file under Sources/CPK*
except the command-line layer (Sources/CPKCLI, Sources/CPKKeyfetchCLI); comments are skipped. Exit 1 with one line per literal naming a flag.
"""
import os
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
# The command-line layer: the shared CLI module; the tools are Sources/cpk-* (not scanned).
CLI_LAYER = {"CPKCLI", "CPKKeyfetchCLI"}


def literals(text: str):
    """Yields (line number, contents) of each string literal in Swift source `text`."""
    i, n, line = 0, len(text), 1
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            line += text.count("\n", i, end)
            i = end
        elif c == "#" or c == '"':
            hashes = 0
            j = i
            while j < n and text[j] == "#":
                hashes += 1
                j += 1
            if j >= n or text[j] != '"':
                i = j if hashes else i + 1
                continue
            multi = text.startswith('"""', j)
            opener = '"""' if multi else '"'
            closer = opener + "#" * hashes
            start = j + len(opener)
            k = start
            while k < n:
                if hashes == 0 and text[k] == "\\" :
                    k += 2
                    continue
                if text.startswith(closer, k):
                    break
                if not multi and text[k] == "\n":
                    break
                k += 1
            yield line, text[start:k]
            line += text.count("\n", i, k)
            i = k + len(closer)
        else:
            i += 1


def main() -> int:
    root = Path(os.environ.get("CHECK_FLAGS_ROOT", REPO))
    problems = []
    files = 0
    for target in sorted((root / "Sources").glob("CPK*")):
        if target.name in CLI_LAYER:
            continue
        for source in sorted(target.rglob("*.swift")):
            files += 1
            for number, contents in literals(source.read_text()):
                for flag in FLAG.findall(contents):
                    problems.append(f"{source.relative_to(root)}:{number}: a library message names the flag {flag}")
    for problem in problems:
        print(f"check-flag-names: {problem}", file=sys.stderr)
    if not problems:
        print(f"check-flag-names: no string literal in the {files} library sources names a --flag")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
