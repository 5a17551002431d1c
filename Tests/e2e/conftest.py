"""End-to-end tests of the cpk tools, run as real processes.

The binaries come from $CPK_BIN (a directory), default <repo>/.build/debug. Missing binaries
are an error, never a skip: build first (`swift build`).
"""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cpk  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def binaries():
    """Every tool must exist and be executable; otherwise every test errors, loudly."""
    missing = [name for name in cpk.TOOLS if not os.access(cpk.BIN / name, os.X_OK)]
    if missing:
        pytest.fail(
            f"cpk binaries missing in {cpk.BIN}: {', '.join(missing)} "
            "(run `swift build`, or set CPK_BIN to the directory holding them)",
            pytrace=False)
    return cpk.BIN


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """tmp_path as the current directory, so relative names stay inside it."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
