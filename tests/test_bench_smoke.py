"""`python -m bench.store --quick` runs end to end and reports every ratio (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_store_benchmark_runs_and_reports_its_ratios(tmp_path: Path) -> None:
    out = tmp_path / "store.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.store", "--quick", "--dir", str(tmp_path), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    for writers in (1, 32, 256):
        [line] = [x for x in lines if x.startswith(f"store writes, {writers} writers")]
        assert line.count("x") == 2  # its ratio to both raw ceilings
        [line] = [x for x in lines if x.startswith(f"store reads, {writers} readers")]
        assert line.endswith("x")
    assert any(x.startswith("target: ") for x in lines)
    results = json.loads(out.read_text())
    assert set(results["store"]) == {"1", "32", "256"}
    assert results["quick"] is True
