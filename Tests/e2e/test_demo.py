"""`make demo`'s script (scripts/demo.sh) runs the whole mission: it must keep running as the
tools change, and its output must never show a secret: the class key of test.json, the HSM's
PIN file's contents aside (the demo's PIN is a fixed development value on its own token)."""

import base64
import json
import subprocess

from cpk import BIN, REPO, env_with


def test_the_demo_runs_the_whole_mission():
    proc = subprocess.run(["bash", "scripts/demo.sh", str(BIN)], cwd=REPO, capture_output=True,
                          env=env_with(), timeout=600)
    out = proc.stdout.decode(errors="replace")
    err = proc.stderr.decode(errors="replace")
    assert proc.returncode == 0, out[-4000:] + err[-4000:]
    assert out.rstrip().endswith("demo: the whole mission ran"), out[-2000:]
    for act in ("1. release", "2. device", "3. registry", "4. container", "5. fleet"):
        assert f"=== {act}" in out, act
    assert "VERIFIED: authenticated" in out
    assert "Installed test 1.3.0" in out and "served 3 device(s), refused 0" in err
    assert "+encrypted" in out and "the layer round-trips through the key provider" in out
    key = json.loads((REPO / "test.json").read_text())["test"]
    for secret in (key, base64.b64decode(key).hex()):
        assert secret not in out and secret not in err
