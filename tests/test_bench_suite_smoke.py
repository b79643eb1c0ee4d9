"""`python -m bench --quick` runs end to end and prints every row of the table (no timing asserted)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

ROWS = [
    "1. create @1 req/s", "1. create @32 req/s", "1. create @128 req/s", "1. create @32 p99 ms",
    "2. get @1 req/s", "2. get @32 req/s", "2. list page (limit=500) p50 ms",
    "3. list all ",
    "4. watch 100 @ 100 w/s: events/s", "4. watch 100 @ 500 w/s: p99 ms", "4. watch 100 @ 500 w/s: missed",

    "6. cold start, empty store s", "6. cold start at ", "6. RSS at ",
    "7. store writes/s, 256 writers", "7. store reads/s, 256 readers",
    "load generator CPU",
]


@pytest.mark.slow
def test_the_suite_runs_and_prints_every_row(tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    out = tmp_path / "suite.json"
    proc = subprocess.run([sys.executable, "-m", "bench", "--quick", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert any(x.startswith("machine: ") for x in lines)
    for prefix in ROWS:
        assert any(x.startswith(prefix) for x in lines), prefix
    # growth stages are labelled with the number of objects actually stored, which the run decides
    for metric in ("create @32 req/s", "get @1 p50 ms", "list page (500) ms"):
        stages = [x for x in lines if re.match(r"5\. at [\d,]+: " + re.escape(metric), x)]
        assert len(stages) >= 2, metric
    targets = [x for x in lines if x.rstrip().endswith(("met", "NOT MET")) or " met " in x or " NOT MET " in x]
    assert len(targets) == 12  # every target of the issue has its verdict
    results = json.loads(out.read_text())
    assert results["quick"] is True
    assert len(results["rows"]) == sum(1 for x in lines if x[:2] in {f"{i}." for i in range(1, 8)}) + 1
