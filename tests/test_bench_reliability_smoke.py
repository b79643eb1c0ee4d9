"""The slow/idle watcher bench and the soak run end to end in their quick modes (no timing asserted).

Both start the real server as a subprocess; exit 0 also means no 5xx, no watch gap, no event
missed by a watcher that reads, and every idle watcher alive.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_bench(module: str, out: Path) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-m", module, "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.splitlines()


def one(lines: list[str], prefix: str) -> str:
    found = [x for x in lines if x.startswith(prefix)]
    assert len(found) == 1, (prefix, lines)
    return found[0]


def test_the_watcher_bench_reports_the_slow_watcher_and_the_idle_watchers(tmp_path: Path) -> None:
    out = tmp_path / "watchers.json"
    lines = run_bench("bench.watchers", out)
    one(lines, "slow watcher bench: ")
    assert one(lines, "phase ").split()[1:3] == ["writes", "missed"]
    for phase in ("baseline ", "with slow watcher "):
        assert one(lines, phase)[18:].split()[1] == "0"  # no event missed by a watcher that reads
    one(lines, "slow watcher: ")  # cut or not: a quick run writes too little to fill the buffers
    one(lines, "slow watcher, when the writes stopped: kernel held ")
    one(lines, "idle watchers bench: ")
    assert one(lines, "watchers ").split()[-1] == "delivered"
    assert one(lines, "     100 ").split()[-1] == "100"  # the event reached every idle watcher
    results = json.loads(out.read_text())
    assert results["quick"] is True
    assert results["idle_watchers_bench"]["watchers"] == 100
    assert results["slow_watcher_bench"]["with_slow_watcher"]["slow_watcher"]["events_written"] > 0


def test_the_soak_reports_a_series_and_a_verdict(tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    lines = run_bench("bench.soak", out)
    one(lines, "soak: ")
    assert one(lines, "   t s").split()[7::2] == ["get", "list", "create", "update", "patch", "delete"]
    one(lines, "totals (ms) ")
    one(lines, "memory: ")
    one(lines, "p99: ")
    assert one(lines, "5xx: ").startswith("5xx: 0 ")
    assert one(lines, "watch gaps: ").startswith("watch gaps: 0 ")
    results = json.loads(out.read_text())
    assert results["quick"] is True
    assert results["server_errors"] == 0
    assert len(results["series"]) >= 2
    assert results["acked_writes"] > 0
