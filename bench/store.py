"""Store throughput beside raw SQLite ceilings measured in the same run, on the same disk.

    python -m bench.store [--quick] [--duration SECONDS] [--dir DIR] [--out PATH]

Writes/s through the Store interface with 1, 32 and 256 concurrent writers (each creating
distinct keys with 1 KiB values for a fixed time), then reads/s (get of a random written key)
with as many concurrent readers. The ceilings use the stdlib `sqlite3` on a table of the same
shape as the store's log (same DDL, same indexes), WAL and synchronous=NORMAL as the store runs:
(a) one row per commit, (b) 100 rows per commit of the very keys the 256 store writers create, and
point reads with the store's get query. The target: at 256 writers, at least half of ceiling (b).

A ceiling does the store's work minus the store: the same rows, keys included. 256 writers' keys land
on about one page of the name index per row, where consecutive keys share a page; sequential keys would
make (b) a ceiling of another workload (about 2.5x faster here), so they are shown as context only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.schema import CreateIndex, CreateTable

from storage import open_store
from storage.schema import kv as kv_table

VALUE = bytes(random.Random(0).randrange(256) for _ in range(1024))  # 1 KiB, incompressible
CONCURRENCY = (1, 32, 256)
ROWS_PER_BATCH = 100  # ceiling (b)
TARGET = 0.5  # store writes at 256 writers / ceiling (b)
RESULTS = Path(__file__).parent / "results" / "store.json"


# ---- raw sqlite3 ceilings ------------------------------------------------------------------


def _raw_connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    dialect = sqlite_dialect.dialect()
    conn.execute(str(CreateTable(kv_table, if_not_exists=True).compile(dialect=dialect)))
    for index in kv_table.indexes:
        conn.execute(str(CreateIndex(index, if_not_exists=True).compile(dialect=dialect)))
    return conn


INSERT = "INSERT INTO kv (id, name, create_revision, prev_revision, deleted, value) VALUES (?, ?, ?, ?, 0, ?)"


def raw_writes(path: Path, duration: float, rows_per_commit: int, spread: int = 1) -> float:
    """Rows/s inserting `rows_per_commit` fresh keys per transaction, as the store's writer would.

    `spread` > 1 names the keys as that many store-bench writers do (`/<spread>/<writer>/<i>`, writers
    interleaved), so a commit's rows land all over the name index as the store's do.
    """
    conn = _raw_connect(path)
    rev = int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM kv").fetchone()[0])
    rows = 0
    start = time.perf_counter()
    deadline = start + duration
    while time.perf_counter() < deadline:
        revs = range(rev + 1, rev + rows_per_commit + 1)
        batch = [(r, f"/raw/{rows_per_commit}/{r}" if spread == 1 else f"/raw/s{spread}/{r % spread}/{r // spread}",
                  r, 0, VALUE) for r in revs]
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(INSERT, batch)
        conn.execute("COMMIT")
        rev += rows_per_commit
        rows += rows_per_commit
    elapsed = time.perf_counter() - start
    conn.close()
    return rows / elapsed


def raw_reads(path: Path, duration: float) -> float:
    """Point reads/s of a key's newest row (the store's get query), one connection."""
    conn = _raw_connect(path)
    names = [r[0] for r in conn.execute("SELECT name FROM kv ORDER BY random() LIMIT 10000")]
    rng = random.Random(1)
    query = "SELECT id, create_revision, deleted, value FROM kv WHERE name = ? ORDER BY id DESC LIMIT 1"
    reads = 0
    start = time.perf_counter()
    deadline = start + duration
    while time.perf_counter() < deadline:
        for _ in range(100):
            conn.execute("BEGIN")
            conn.execute(query, (rng.choice(names),)).fetchone()
            conn.execute("COMMIT")
        reads += 100
    elapsed = time.perf_counter() - start
    conn.close()
    return reads / elapsed


# ---- through the Store ---------------------------------------------------------------------


async def store_figures(path: Path, duration: float, concurrency: int) -> tuple[float, float]:
    """(writes/s, reads/s) with `concurrency` writers, then as many readers, on a fresh store."""
    store = open_store(f"sqlite:///{path}")
    await store.start()
    try:
        written: list[str] = []
        deadline = time.perf_counter() + duration

        async def writer(w: int) -> None:
            i = 0
            while time.perf_counter() < deadline:
                kv = await store.create(f"/bench/{concurrency}/{w}/{i}", VALUE)
                written.append(kv.key)
                i += 1

        start = time.perf_counter()
        await asyncio.gather(*(writer(w) for w in range(concurrency)))
        writes = len(written) / (time.perf_counter() - start)

        reads = 0
        deadline = time.perf_counter() + duration

        async def reader(r: int) -> None:
            nonlocal reads
            rng = random.Random(r)
            while time.perf_counter() < deadline:
                await store.get(rng.choice(written))
                reads += 1

        start = time.perf_counter()
        await asyncio.gather(*(reader(r) for r in range(concurrency)))
        return writes, reads / (time.perf_counter() - start)
    finally:
        await store.close()


# ---- report --------------------------------------------------------------------------------


def measure(label: str, fn: Callable[[], Any]) -> Any:
    print(f"  measuring {label} ...", file=sys.stderr, flush=True)
    return fn()


def run(duration: float, workdir: Path) -> dict[str, Any]:
    raw_one = measure("raw sqlite3, 1 row/commit", lambda: raw_writes(workdir / "raw.db", duration, 1))
    top = max(CONCURRENCY)
    raw_batch = measure(
        f"raw sqlite3, {ROWS_PER_BATCH} rows/commit, keys of {top} writers",
        lambda: raw_writes(workdir / "raw.db", duration, ROWS_PER_BATCH, spread=top),
    )
    raw_sequential = measure(
        f"raw sqlite3, {ROWS_PER_BATCH} rows/commit, sequential keys",
        lambda: raw_writes(workdir / "raw.db", duration, ROWS_PER_BATCH),
    )
    raw_read = measure("raw sqlite3 point reads", lambda: raw_reads(workdir / "raw.db", duration))
    store: dict[int, tuple[float, float]] = {}
    for c in CONCURRENCY:
        store[c] = measure(
            f"store, {c} writers/readers",
            lambda c=c: asyncio.run(store_figures(workdir / f"store-{c}.db", duration, c)),  # type: ignore[misc]
        )
    return {
        "duration_s": duration,
        "value_bytes": len(VALUE),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
        "raw": {
            "writes_per_s_1_row_per_commit": raw_one,
            f"writes_per_s_{ROWS_PER_BATCH}_rows_per_commit_same_keys": raw_batch,  # the 256 store writers' keys
            f"writes_per_s_{ROWS_PER_BATCH}_rows_per_commit_sequential_keys": raw_sequential,
            "reads_per_s": raw_read,
        },
        "store": {
            str(c): {
                "writes_per_s": w,
                "reads_per_s": r,
                "writes_vs_raw_1_row_per_commit": w / raw_one,
                f"writes_vs_raw_{ROWS_PER_BATCH}_rows_per_commit": w / raw_batch,
                "reads_vs_raw": r / raw_read,
            }
            for c, (w, r) in store.items()
        },
        "target": {
            "what": f"store writes at 256 writers >= {TARGET} x raw {ROWS_PER_BATCH} rows/commit of the same keys",
            "ratio": store[256][0] / raw_batch,
            "met": store[256][0] / raw_batch >= TARGET,
            # context: raw inserting sequential keys, SQLite's best case, which the store's writers don't write
            "ratio_vs_sequential_keys": store[256][0] / raw_sequential,
        },
    }


def report(results: dict[str, Any]) -> str:
    raw = results["raw"]
    one = raw["writes_per_s_1_row_per_commit"]
    batch = raw[f"writes_per_s_{ROWS_PER_BATCH}_rows_per_commit_same_keys"]
    lines = [
        f"Store vs raw sqlite3 {results['sqlite']} (WAL, synchronous=NORMAL), 1 KiB values, "
        f"{results['duration_s']:g} s per figure, python {results['python']}, {results['cpus']} CPUs",
        "",
        f"{'':32}{'ops/s':>12}{'vs raw 1/commit':>18}{f'vs raw {ROWS_PER_BATCH}/commit':>20}",
        f"{'raw writes, 1 row/commit':32}{one:>12,.0f}{1:>17.2f}x{one / batch:>19.2f}x",
        f"{f'raw writes, {ROWS_PER_BATCH} rows/commit':32}{batch:>12,.0f}{batch / one:>17.2f}x{1:>19.2f}x",
    ]
    sequential = raw.get(f"writes_per_s_{ROWS_PER_BATCH}_rows_per_commit_sequential_keys")
    if sequential:
        lines.append(f"{'  (context) sequential keys':32}{sequential:>12,.0f}{sequential / one:>17.2f}x"
                     f"{sequential / batch:>19.2f}x")
    for c, fig in results["store"].items():
        lines.append(
            f"{f'store writes, {c} writers':32}{fig['writes_per_s']:>12,.0f}"
            f"{fig['writes_vs_raw_1_row_per_commit']:>17.2f}x"
            f"{fig[f'writes_vs_raw_{ROWS_PER_BATCH}_rows_per_commit']:>19.2f}x"
        )
    lines += [
        "",
        f"{'':32}{'ops/s':>12}{'vs raw reads':>18}",
        f"{'raw point reads, 1 conn':32}{raw['reads_per_s']:>12,.0f}{1:>17.2f}x",
    ]
    for c, fig in results["store"].items():
        lines.append(f"{f'store reads, {c} readers':32}{fig['reads_per_s']:>12,.0f}{fig['reads_vs_raw']:>17.2f}x")
    target = results["target"]
    verdict = "MET" if target["met"] else "NOT MET"
    lines += ["", f"target: {target['what']}: {target['ratio']:.2f}x -> {verdict}"]
    if "ratio_vs_sequential_keys" in target:
        lines.append(f"context: vs raw sqlite3 inserting sequential keys {ROWS_PER_BATCH} per commit (SQLite's best "
                     f"case, not the store's workload): {target['ratio_vs_sequential_keys']:.2f}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.store", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few-second smoke run (0.3 s per figure)")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per figure (default 3)")
    parser.add_argument("--dir", type=Path, help="where the databases go (default: a temporary directory)")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"results JSON (default {RESULTS})")
    args = parser.parse_args(argv)
    duration = 0.3 if args.quick else args.duration
    with tempfile.TemporaryDirectory(prefix="bench-store-", dir=args.dir) as workdir:
        results = run(duration, Path(workdir))
    results["quick"] = args.quick
    print(report(results))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
