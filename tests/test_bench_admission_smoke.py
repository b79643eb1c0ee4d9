"""`python -m bench.admission --quick` runs end to end and prints its table (no timing asserted)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_admission_benchmark_runs_and_prints_its_table(tmp_path: Path) -> None:
    out = tmp_path / "admission.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.admission", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert any(line.startswith("clients  webhooks") for line in lines), proc.stdout
    number = r"\d+\.\d+"
    for clients in (8, 32):
        for label in ("none", r"1 mutating\+1 valid\."):
            pattern = rf"^\s*{clients}\s+{label}\s+{number}\s+{number}\s+{number}$"
            assert any(re.match(pattern, line) for line in lines), (pattern, proc.stdout)
        assert any(re.match(rf"^ratio \(b\)/\(a\), {clients} clients: {number}x$", line) for line in lines), proc.stdout
    results = json.loads(out.read_text())
    assert results["quick"] is True
    assert set(results["creates"]) == {"8", "32"}
    for cell in results["creates"].values():
        assert cell["none"]["requests"] > 0 and cell["webhooks"]["requests"] > 0
