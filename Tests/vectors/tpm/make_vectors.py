#!/usr/bin/env python3
"""Makes the TPM 2.0 vectors in this directory with a fresh swtpm and tpm2-tools
(Tests/e2e/swtpm.py): three attestation keys, a hardware-bound device key, a certify and a
quote by each key. Run from anywhere; needs swtpm, swtpm-tools and tpm2-tools (`make deps`).
The swtpm and its manufacturer CA live in a temporary directory, removed after."""

import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "e2e"))

import swtpm  # noqa: E402


def main():
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        tpm = swtpm.SwTPM(scratch / "tpm", scratch / "manufacturer")
        try:
            made = swtpm.make_vectors(tpm, scratch / "out")
        finally:
            tpm.stop()
        for name, path in made.items():
            shutil.copy(path, HERE / name)
    print(f"{len(made)} files in {HERE}")


if __name__ == "__main__":
    main()
