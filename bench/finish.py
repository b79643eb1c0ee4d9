"""The end every bench script shares: print the report and the failures, write the figures, exit status."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def finish(results: dict[str, Any], *, quick: bool, out: Path | None, default_out: Path,
           report: Callable[[dict[str, Any]], str], failures: Callable[[dict[str, Any]], list[str]]) -> int:
    results["quick"] = quick
    print(report(results))
    bad = failures(results)
    for line in bad:
        print(f"FAIL: {line}")
    out = out or (None if quick else default_out)  # a smoke run never overwrites the figures
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=1) + "\n")
    return 1 if bad else 0
