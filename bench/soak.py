"""Soak: mixed CRUD and watches against the real server for minutes; memory flat, p99 steady.

    python -m bench.soak [--minutes M] [--quick] [--out PATH]

Sixteen clients run create/get/list/update/patch/delete of ~1 KiB ConfigMaps over 2,000 keys
(closed loop, no think time) while twenty watches, opened before the first write, read every
event and check it: resourceVersions strictly increase, transitions make sense per object
(ADDED for a new one, MODIFIED/DELETED for a present one), and at the end every acknowledged
create/update/patch was seen by every watcher and every acknowledged delete gave each a DELETED.
A warm-up first fills the watch cache's history (its memory is bounded by design: HISTORY events),
so the series compares steady states. Every 30 s: the server's RSS (/proc/PID/status), the size
of its SQLite files, throughput and p50/p99 latency per verb. The verdict: memory flat (mean of
the last third of samples vs the first third), p99 steady (same thirds), zero 5xx, zero gaps.
Exit 1 when a 5xx or a watch gap happened (correctness); the timing verdicts never fail the run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import tempfile
import time
from array import array
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.finish import finish
from bench.watchers import (
    BLOB,
    HISTORY,
    Follower,
    ServerProcess,
    create_namespace,
    fmt,
    list_rv,
    percentile,
    wait_until,
)

RESULTS = Path(__file__).parent / "results" / "soak.json"
NS = "soak"
CLIENTS = 16
WATCHERS = 20
KEYS = 2000
LIST_LIMIT = 100  # one page, as kubectl and informers page their lists
VERBS = ("get", "list", "create", "update", "patch", "delete")
EXPECTED = {  # answers that are part of the game with racing clients; anything else is counted
    "get": {200, 404},
    "list": {200},
    "create": {201, 409},
    "update": {200, 404, 409},
    "patch": {200, 404},
    "delete": {200, 404},
}
GROWTH_FLAT = 10.0  # % of RSS growth, last third vs first third, still called flat
P99_STEADY = 1.5  # last-third p99 / first-third p99 still called steady ...
P99_SLACK_MS = 5.0  # ... or within this many ms of it (tiny p99s jitter by whole factors)


class KeyPool:
    """Names that exist (as far as the clients know) and names that do not: O(1) pick and move."""

    def __init__(self, names: list[str]) -> None:
        self.items = list(names)
        self.index = {n: i for i, n in enumerate(self.items)}

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, name: str) -> bool:
        return name in self.index

    def pick(self, rng: random.Random) -> str:
        return self.items[rng.randrange(len(self.items))]

    def add(self, name: str) -> None:
        if name not in self.index:
            self.index[name] = len(self.items)
            self.items.append(name)

    def remove(self, name: str) -> None:
        i = self.index.pop(name, None)
        if i is None:
            return
        last = self.items.pop()
        if i < len(self.items):
            self.items[i] = last
            self.index[last] = i


class Load:
    """The clients' shared state: which keys exist, what the server acknowledged, and figures."""

    def __init__(self) -> None:
        self.present = KeyPool([])
        self.absent = KeyPool([f"cm-{i:04d}" for i in range(KEYS)])
        self.acked = array("q")  # resourceVersions of acknowledged creates, updates and patches
        self.deletes_acked = 0
        self.seq = 0
        self.deadline = float("inf")  # set when the warm-up ends
        self.interval: dict[str, list[float]] = {v: [] for v in VERBS}
        self.whole: dict[str, list[float]] = {v: [] for v in VERBS}
        self.statuses: Counter[str] = Counter()
        self.server_errors: list[str] = []
        self.unexpected: list[str] = []
        self.transport_errors: Counter[str] = Counter()
        self.ops = 0

    def choose(self, rng: random.Random) -> tuple[str, str]:
        r = rng.random() * 100
        if r < 30:
            verb = "get"
        elif r < 35:
            verb = "list"
        elif r < 55:
            verb = "update"
        elif r < 75:
            verb = "patch"
        else:  # create or delete, drawn toward half the keys existing
            verb = "create" if rng.random() < len(self.absent) / KEYS else "delete"
        if verb == "create":
            if not self.absent:
                verb = "delete"
        elif verb != "list" and not self.present:
            verb = "create"
        pool = self.absent if verb == "create" else self.present
        return verb, pool.pick(rng) if verb != "list" else ""

    def exists(self, name: str, yes: bool) -> None:
        (self.present if yes else self.absent).add(name)
        (self.absent if yes else self.present).remove(name)

    def record(self, verb: str, name: str, resp: httpx.Response, ms: float) -> None:
        self.ops += 1
        self.interval[verb].append(ms)
        self.whole[verb].append(ms)
        code = resp.status_code
        self.statuses[f"{verb} {code}"] += 1
        if code >= 500:
            self.server_errors.append(f"{verb} {name}: {code} {resp.text[:300]}")
            return
        if code not in EXPECTED[verb]:
            self.unexpected.append(f"{verb} {name}: {code} {resp.text[:300]}")
            return
        if code == 404:
            self.exists(name, False)
        elif code == 409 and verb == "create":
            self.exists(name, True)
        elif verb == "delete":
            self.deletes_acked += 1
            self.exists(name, False)
        elif verb in ("create", "update", "patch") and code < 300:
            self.acked.append(int(resp.json()["metadata"]["resourceVersion"]))
            self.exists(name, True)

    def take_interval(self) -> dict[str, list[float]]:
        taken, self.interval = self.interval, {v: [] for v in VERBS}
        return taken


async def request(client: httpx.AsyncClient, load: Load, verb: str, name: str) -> httpx.Response:
    base = f"/api/v1/namespaces/{NS}/configmaps"
    if verb == "get":
        return await client.get(f"{base}/{name}")
    if verb == "list":
        return await client.get(base, params={"limit": LIST_LIMIT})
    if verb == "delete":
        return await client.delete(f"{base}/{name}")
    load.seq += 1
    seq = str(load.seq)  # every write changes the object, so each one is a new revision and event
    if verb == "create":
        return await client.post(base, json={"metadata": {"name": name}, "data": {"seq": seq, "blob": BLOB}})
    if verb == "update":  # unconditional, as kubectl replace without a resourceVersion
        return await client.put(f"{base}/{name}", json={"metadata": {"name": name}, "data": {"seq": seq, "blob": BLOB}})
    return await client.patch(f"{base}/{name}", content=orjson.dumps({"data": {"seq": seq}}),
                              headers={"content-type": "application/merge-patch+json"})


async def client_loop(client: httpx.AsyncClient, load: Load, seed: int) -> None:
    rng = random.Random(seed)
    while time.perf_counter() < load.deadline:
        verb, name = load.choose(rng)
        started = time.perf_counter()
        try:
            resp = await request(client, load, verb, name)
        except httpx.HTTPError as err:
            load.transport_errors[f"{verb} {type(err).__name__}"] += 1
            await asyncio.sleep(0.05)
            continue
        load.record(verb, name, resp, (time.perf_counter() - started) * 1000)


def db_bytes(server: ServerProcess) -> int:
    return sum(p.stat().st_size for p in server.workdir.glob("store.db*"))


def sample(server: ServerProcess, load: Load, t: float, seconds: float, ops_before: int) -> dict[str, Any]:
    taken = load.take_interval()
    return {
        "t": round(t, 1),
        "rss_kib": server.rss_kib(),
        "db_bytes": db_bytes(server),
        "ops_per_s": round((load.ops - ops_before) / seconds, 1) if seconds else None,
        "latency_ms": {v: {"n": len(ms), "p50": percentile(ms, 50), "p99": percentile(ms, 99)}
                       for v, ms in taken.items()},
    }


def thirds(values: list[float]) -> tuple[float, float] | None:
    """Means of the first and the last third of a series (None below three values)."""
    n = len(values) // 3
    if n == 0:
        return None
    return sum(values[:n]) / n, sum(values[-n:]) / n


async def soak(*, minutes: float, interval: float, warmup_writes: int, warmup_limit: float) -> dict[str, Any]:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        server = ServerProcess(Path(tmp))
        async with server:
            limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
            async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) as client:
                await create_namespace(client, NS)
                rv0, _ = await list_rv(client, NS)
                stop = asyncio.Event()
                followers = [Follower(server.port, NS, rv0) for _ in range(WATCHERS)]
                watch_tasks = [asyncio.create_task(f.run(stop)) for f in followers]
                await wait_until(lambda: all(f.watch is not None for f in followers), 10)
                load = Load()
                clients = [asyncio.create_task(client_loop(client, load, seed)) for seed in range(CLIENTS)]

                warm_started = time.perf_counter()
                if warmup_writes:
                    print(f"  warm-up: {warmup_writes} writes (at most {warmup_limit:.0f} s) ...", file=sys.stderr,
                          flush=True)
                    await wait_until(lambda: len(load.acked) >= warmup_writes, warmup_limit)
                warmup = {"writes": len(load.acked), "seconds": round(time.perf_counter() - warm_started, 1),
                          "rss_kib": server.rss_kib()}
                load.take_interval()
                started = time.perf_counter()
                load.deadline = started + minutes * 60
                print(f"  soak: {minutes:g} min ...", file=sys.stderr, flush=True)
                series = [sample(server, load, 0.0, 0, load.ops)]
                ops_before = load.ops
                while (now := time.perf_counter()) < load.deadline:
                    await asyncio.sleep(min(interval, load.deadline - now))
                    now = time.perf_counter()
                    last_t = series[-1]["t"]
                    series.append(sample(server, load, now - started, now - started - last_t, ops_before))
                    ops_before = load.ops
                    print(f"  t={now - started:.0f} s rss={series[-1]['rss_kib'] / 1024:.1f} MiB "
                          f"ops/s={series[-1]['ops_per_s']}", file=sys.stderr, flush=True)
                await asyncio.gather(*clients)
                soak_seconds = time.perf_counter() - started

                # one last write: when every watcher has it, they have had everything before it
                resp = await client.post(f"/api/v1/namespaces/{NS}/configmaps",
                                         json={"metadata": {"name": "soak-end"}, "data": {}})
                resp.raise_for_status()
                end_rv = int(resp.json()["metadata"]["resourceVersion"])
                caught_up = await wait_until(lambda: all(f.rv >= end_rv for f in followers), 60)
                stop.set()
                for f, task in zip(followers, watch_tasks, strict=True):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                    if f.watch:
                        f.watch.close()
        acked = list(load.acked)
        missing = [f.missing(acked, rv0) for f in followers]
        watch: dict[str, Any] = {
            "watchers": WATCHERS,
            "caught_up": caught_up,
            "events_per_watcher": [len(f.received) for f in followers],
            "missing": missing,
            "deleted_seen": [f.deleted for f in followers],
            "deletes_acked": load.deletes_acked,
            "out_of_order": sum(f.out_of_order for f in followers),
            "anomalies": sum(f.anomalies for f in followers),
            "restarts": sum(f.restarts for f in followers),
            "expired": sum(f.expired for f in followers),
            "errors": [e for f in followers for e in f.errors][:10],
        }
        delete_gaps = sum(abs(f.deleted - load.deletes_acked) for f in followers if not f.holes)
        watch["gaps"] = sum(missing) + delete_gaps
        return {
            "minutes": minutes,
            "soak_seconds": round(soak_seconds, 1),
            "interval_s": interval,
            "clients": CLIENTS,
            "keys": KEYS,
            "cpus": os.cpu_count(),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
            "server_pid": server.pid,
            "warmup": warmup,
            "series": series,
            "totals": {v: {"n": len(ms), "p50": percentile(ms, 50), "p99": percentile(ms, 99),
                           "max": max(ms, default=None)} for v, ms in load.whole.items()},
            "ops": load.ops,
            "statuses": dict(sorted(load.statuses.items())),
            "server_errors": len(load.server_errors),
            "server_error_samples": load.server_errors[:10],
            "unexpected": len(load.unexpected),
            "unexpected_samples": load.unexpected[:10],
            "transport_errors": dict(load.transport_errors),
            "acked_writes": len(acked),
            "reused_resource_versions": len(acked) - len(set(acked)),
            "watch": watch,
            "verdict": verdict(series),
            "server_log_problems": server.log_problems()[:20],
            "server_exit_code": server.exit_code,
            "server_died_early": server.died_early,
        }


def slope_per_minute(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, value) points, per minute: a steady creep shows here even
    when the thirds compare within the threshold."""
    if len(points) < 2:
        return None
    n = len(points)
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    return 60 * sum((t - mt) * (v - mv) for t, v in points) / var if var else None


def verdict(series: list[dict[str, Any]]) -> dict[str, Any]:
    timed = series[1:]  # the t=0 sample has no latencies
    out: dict[str, Any] = {}
    rss = thirds([s["rss_kib"] for s in timed])
    if rss:
        growth = 100 * (rss[1] - rss[0]) / rss[0]
        half = timed[len(timed) // 2:]
        out["memory"] = {"first_third_kib": rss[0], "last_third_kib": rss[1], "growth_percent": round(growth, 2),
                         "flat": growth <= GROWTH_FLAT,
                         "trend_kib_per_min_second_half": slope_per_minute([(s["t"], s["rss_kib"]) for s in half])}
    p99: dict[str, Any] = {}
    for verb in VERBS:
        values = [s["latency_ms"][verb]["p99"] for s in timed if s["latency_ms"][verb]["p99"] is not None]
        pair = thirds(values)
        if pair:
            ratio = pair[1] / pair[0] if pair[0] else None
            p99[verb] = {"first_third_ms": pair[0], "last_third_ms": pair[1], "ratio": ratio,
                         "steady": pair[1] <= pair[0] * P99_STEADY or pair[1] - pair[0] <= P99_SLACK_MS}
    if p99:
        out["p99"] = p99
    return out


def report(r: dict[str, Any]) -> str:
    head = f"{'t s':>6}{'RSS MiB':>9}{'DB MiB':>8}{'ops/s':>8}" + "".join(f"{v + ' p50/p99':>18}" for v in VERBS)
    lines = [
        f"soak: {r['clients']} clients, {r['watch']['watchers']} watchers, {r['keys']} keys, ~1 KiB ConfigMaps, "
        f"{r['soak_seconds']:.0f} s, a sample every {r['interval_s']:g} s; server pid {r['server_pid']}",
        f"warm-up: {r['warmup']['writes']} writes in {r['warmup']['seconds']:.0f} s, "
        f"RSS after {r['warmup']['rss_kib'] / 1024:.1f} MiB",
        head,
    ]
    for s in r["series"]:
        lat = "".join(f"{fmt(s['latency_ms'][v]['p50']) + '/' + fmt(s['latency_ms'][v]['p99']):>18}" for v in VERBS)
        lines.append(f"{s['t']:>6.0f}{s['rss_kib'] / 1024:>9.1f}{s['db_bytes'] / 2**20:>8.1f}"
                     f"{fmt(s['ops_per_s']):>8}{lat}")
    lines.append("totals (ms)  " + "  ".join(
        f"{v} n={t['n']} p50={fmt(t['p50'])} p99={fmt(t['p99'])}" for v, t in r["totals"].items()))
    v = r["verdict"]
    mem = v.get("memory")
    if mem:
        lines.append(f"memory: first third {mem['first_third_kib'] / 1024:.1f} MiB, last third "
                     f"{mem['last_third_kib'] / 1024:.1f} MiB, growth {mem['growth_percent']:+.1f} % -> "
                     f"{'flat' if mem['flat'] else 'GROWING'}; trend over the second half "
                     f"{fmt(_mib(mem['trend_kib_per_min_second_half']), '+.2f')} MiB/min")
    else:
        lines.append("memory: too few samples for a verdict")
    if "p99" in v:
        steady = all(x["steady"] for x in v["p99"].values())
        lines.append("p99: last third / first third: " + ", ".join(
            f"{verb} {fmt(x['first_third_ms'])}->{fmt(x['last_third_ms'])} ms" for verb, x in v["p99"].items())
            + f" -> {'steady' if steady else 'NOT STEADY'}")
    else:
        lines.append("p99: too few samples for a verdict")
    lines.append(f"5xx: {r['server_errors']} (must be 0); unexpected answers: {r['unexpected']}; "
                 f"transport errors: {sum(r['transport_errors'].values())}; acknowledged writes: {r['acked_writes']}; "
                 f"reused resourceVersions: {r['reused_resource_versions']}")
    w = r["watch"]
    lines.append(f"watch gaps: {w['gaps']} (must be 0); events per watcher {min(w['events_per_watcher'])}-"
                 f"{max(w['events_per_watcher'])}; out of order {w['out_of_order']}; transitions that make no sense "
                 f"{w['anomalies']}; restarts {w['restarts']}; expired {w['expired']}; caught up {w['caught_up']}")
    lines.append(f"statuses: {', '.join(f'{k}: {n}' for k, n in r['statuses'].items())}")
    lines.append(f"server log problems: {len(r['server_log_problems'])}; server exit code {r['server_exit_code']}; "
                 f"load average before/after: {r['loadavg_before'][0]:.1f}/{r['loadavg_after'][0]:.1f} "
                 f"on {r['cpus']} CPUs")
    return "\n".join(lines)


def _mib(kib: float | None) -> float | None:
    return None if kib is None else kib / 1024


def failures(r: dict[str, Any]) -> list[str]:
    """What fails the run: correctness only, never timing."""
    w = r["watch"]
    found = []
    if r["server_errors"]:
        found.append(f"{r['server_errors']} answers were 5xx")
    if w["gaps"] or w["out_of_order"] or w["anomalies"] or not w["caught_up"]:
        found.append(f"watches: {w['gaps']} gaps, {w['out_of_order']} out of order, {w['anomalies']} anomalies, "
                     f"caught up {w['caught_up']}")
    if r["reused_resource_versions"]:
        found.append(f"{r['reused_resource_versions']} resourceVersions acknowledged twice")
    if r["server_died_early"] or r["server_exit_code"] != 0:
        found.append(f"the server stopped early or exited {r['server_exit_code']}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="soak time after the warm-up (default 10)")
    parser.add_argument("--quick", action="store_true", help="3 s, no warm-up: a smoke run, not figures")
    parser.add_argument("--out", type=Path,
                        help=f"results JSON (default {RESULTS}; a --quick run writes none unless asked)")
    args = parser.parse_args(argv)
    quick = args.quick
    results = asyncio.run(soak(
        minutes=0.05 if quick else args.minutes,
        interval=1.0 if quick else 30.0,
        warmup_writes=0 if quick else HISTORY + KEYS,
        warmup_limit=0 if quick else 240.0,
    ))
    return finish(results, quick=quick, out=args.out, default_out=RESULTS, report=report, failures=failures)


if __name__ == "__main__":
    sys.exit(main())
