"""The performance suite: the real server beside same-run baselines, one table, one JSON file.

    python -m bench [--quick] [--out PATH]

Starts `python -m apiserver serve` on a SQLite file (default settings) as a user does, and on the same
uvicorn settings a bare FastAPI app and a raw ASGI app (bench/suite_baselines.py). The load generator
(bench/suite_client.py: raw asyncio streams, HTTP/1.1 keep-alive) runs in its own processes. Every figure
is printed beside its baseline as a ratio, with the issue's target and a met / not-met verdict.
--quick scales every size and duration down (a smoke run of well under a minute: not figures).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import platform
import random
import signal
import string
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bench.suite_client import RV, Conn, percentile, request_bytes

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "suite.json"
MIB = 1024 * 1024
BLOB = "".join(random.Random(0).choices(string.ascii_letters + string.digits, k=900))  # ~1 KiB ConfigMaps


@dataclass
class Sizes:
    seconds: float  # per load measurement
    warmup: float
    concurrency: tuple[int, ...]
    store_n: int  # items 2 and 3
    growth: tuple[int, ...]
    watchers_per_proc: int
    watch_procs: int
    watch_seconds: float
    watch_rates: tuple[int, ...]
    cold_trials: int
    pairs: int = 3  # items 1-2: the server and its FastAPI baseline measured alternately, this many times each


FULL = Sizes(3.0, 0.5, (1, 32, 128), 10_000, (1_000, 10_000, 100_000), 500, 2, 5.0, (100, 500), 3)
QUICK = Sizes(0.5, 0.2, (1, 32, 128), 3_000, (1_000, 3_000), 50, 2, 1.0, (100, 500), 2, pairs=1)


def log(msg: str) -> None:
    print(f"  {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def configmap(ns: str) -> str:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "{name}", "namespace": ns},
           "data": {"blob": BLOB}}
    return orjson.dumps(obj).decode()


# ---- processes -------------------------------------------------------------------------------


class Server:
    """A server process, started and timed to its first 200 on `ready_path`, stopped with SIGTERM."""

    def __init__(self, command: list[str], port: int, log_path: Path, ready_path: str) -> None:
        self.command, self.port, self.log_path, self.ready_path = command, port, log_path, ready_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.startup_s = 0.0

    def start(self) -> Server:
        with self.log_path.open("ab") as out:
            t0 = time.perf_counter()
            self.proc = subprocess.Popen(self.command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        deadline = t0 + 120
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text(errors='replace')[-2000:]}")
            if time.perf_counter() > deadline:
                raise RuntimeError(f"server not ready in 120 s: {self.command}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", self.ready_path)
                if conn.getresponse().status == 200:
                    self.startup_s = time.perf_counter() - t0
                    conn.close()
                    return self
                conn.close()
            except OSError:
                pass
            time.sleep(0.005)

    def rss_bytes(self) -> int:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def apiserver(workdir: Path, db: Path) -> Server:
    port = free_port()
    cmd = [sys.executable, "-m", "apiserver", "serve", "--port", str(port), "--database", f"sqlite:///{db}"]
    return Server(cmd, port, workdir / "apiserver.log", "/readyz")


def baseline(workdir: Path, kind: str) -> Server:
    port = free_port()
    cmd = [sys.executable, "-m", "bench.suite_baselines", kind, str(port)]
    return Server(cmd, port, workdir / f"{kind}.log", "/object")


def loadgen(spec: dict[str, Any]) -> dict[str, Any]:
    timeout = spec.get("warmup", 0.3) + spec["seconds"] + 120
    proc = subprocess.run([sys.executable, "-m", "bench.suite_client", json.dumps({"mode": "load", **spec})],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"load generator failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def posts(port: int, path: str, body: str, clients: int, s: Sizes, prefix: str) -> dict[str, Any]:
    return loadgen({"port": port, "method": "POST", "paths": [path], "body": body, "concurrency": clients,
                    "seconds": s.seconds, "warmup": s.warmup, "prefix": prefix})


def gets(port: int, paths: list[str], clients: int, s: Sizes) -> dict[str, Any]:
    return loadgen({"port": port, "method": "GET", "paths": paths, "concurrency": clients,
                    "seconds": s.seconds, "warmup": s.warmup})


def bulk_create(port: int, ns: str, count: int, prefix: str) -> float:
    """Creates `count` ConfigMaps named prefix-0 .. prefix-(count-1) with 64 concurrent clients; creates/s."""
    if count <= 0:
        return 0.0
    r = loadgen({"port": port, "method": "POST", "paths": [f"/api/v1/namespaces/{ns}/configmaps"],
                 "body": configmap(ns), "concurrency": 64, "seconds": 900, "warmup": 0.0, "prefix": prefix,
                 "max_requests": count})
    if r["ok_total"] != count:
        raise RuntimeError(f"bulk load: {r['statuses']}")
    return float(r["rps"])


# ---- single requests from the bench process ------------------------------------------------


async def fetch(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes, float]:
    conn = await Conn.open(port)
    try:
        t0 = time.perf_counter()
        status, data = await conn.request(request_bytes(method, path, body))
        return status, data, time.perf_counter() - t0
    finally:
        conn.close()


def call(method: str, port: int, path: str, body: bytes | None = None) -> tuple[int, bytes, float]:
    return asyncio.run(fetch(port, method, path, body))


class BigGets:
    """GETs of megabytes on one keep-alive connection.

    Keep-alive, as the load generator's other clients and as informers and kubectl are: on a new connection
    the kernel's receive window starts small and grows over the first megabytes, so a fresh connection per
    request times TCP's ramp-up (~7 ms for 10 MiB here, the raw ASGI app's included) more than either server.
    recv_into one reused buffer, because an asyncio stream's buffer copies would be much of what is timed.
    """

    def __init__(self, port: int) -> None:
        import socket

        self.sock = socket.create_connection((HOST, port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = bytearray()  # reused: a new one per response would time the page faults that fill it

    def __enter__(self) -> BigGets:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def get(self, path: str) -> tuple[int, bytes, float]:
        """Status, body, and seconds from sending the request to the body's last byte."""
        sock = self.sock
        t0 = time.perf_counter()
        sock.sendall(request_bytes("GET", path))
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(1 << 16)
            if not chunk:
                raise RuntimeError(f"connection closed in the response head: {head[:200]!r}")
            head += chunk
        head, _, rest = head.partition(b"\r\n\r\n")
        lower = head.lower()
        i = lower.find(b"content-length:")
        if i < 0:
            raise RuntimeError(f"response without a content-length: {head[:200]!r}")
        length = int(lower[i + 15 : lower.index(b"\r\n", i) if b"\r\n" in lower[i:] else None])
        if len(self.buffer) < length:
            self.buffer = bytearray(length)
        view = memoryview(self.buffer)[:length]
        view[: len(rest)] = rest
        got = len(rest)
        while got < length:
            n = sock.recv_into(view[got:])
            if not n:
                raise RuntimeError("connection closed in the response body")
            got += n
        elapsed = time.perf_counter() - t0
        return int(head[9:12]), bytes(view), elapsed


def namespace(port: int, name: str) -> None:
    body = orjson.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    status, data, _ = call("POST", port, "/api/v1/namespaces", body)
    if status not in (201, 409):
        raise RuntimeError(f"namespace {name}: {status} {data[:300]!r}")


def median_time(fn: Any, n: int) -> float:
    return percentile([fn() for _ in range(n)], 0.5) or 0.0


def serialization_floor(items: list[Any], n: int = 5) -> float:
    def once() -> float:
        t0 = time.perf_counter()
        orjson.dumps({"apiVersion": "v1", "kind": "ConfigMapList", "metadata": {"resourceVersion": "1"},
                      "items": items})
        return time.perf_counter() - t0

    return median_time(once, n)


def page_walk(port: int, ns: str) -> dict[str, Any]:
    """Every page of limit=500; per-page latencies and the total JSON size of the items."""
    times: list[float] = []
    json_bytes = count = 0
    token = ""
    first_items: list[Any] = []
    for _ in range(10_000):
        path = f"/api/v1/namespaces/{ns}/configmaps?limit=500" + (f"&continue={token}" if token else "")
        status, data, t = call("GET", port, path)
        if status != 200:
            raise RuntimeError(f"list page: {status} {data[:300]!r}")
        times.append(t)
        page = orjson.loads(data)
        if not first_items:
            first_items = page["items"]
        count += len(page["items"])
        json_bytes += sum(len(orjson.dumps(item)) for item in page["items"])
        token = page["metadata"].get("continue", "")
        if not token:
            break
    return {"pages": len(times), "items": count, "json_bytes": json_bytes,
            "page_p50_ms": 1000 * (percentile(times, 0.5) or 0.0),
            "page_p99_ms": 1000 * (percentile(times, 0.99) or 0.0),
            "walk_s": sum(times), "page_floor_ms": 1000 * serialization_floor(first_items)}


def first_page_ms(port: int, ns: str, n: int = 5) -> float:
    return 1000 * median_time(lambda: call("GET", port, f"/api/v1/namespaces/{ns}/configmaps?limit=500")[2], n)


def sample_get_paths(ns: str, prefix: str, count: int, k: int = 500) -> list[str]:
    rng = random.Random(count)
    return [f"/api/v1/namespaces/{ns}/configmaps/{prefix}-{rng.randrange(count)}" for _ in range(k)]


# ---- sections --------------------------------------------------------------------------------


def section_baselines(workdir: Path, s: Sizes) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in ("fastapi", "asgi"):
        log(f"baseline {kind}")
        with baseline(workdir, kind) as srv:
            body = configmap("default")
            out[kind] = {
                "post": {str(c): posts(srv.port, "/echo", body, c, s, "e") for c in s.concurrency},
                "get": {str(c): gets(srv.port, ["/object"], c, s) for c in (1, 32)},
            }
    return out


def byte_compile() -> None:
    """Compile the project's modules as an install does (site-packages already are): a user's server starts
    from .pyc files, but an editable checkout run with PYTHONDONTWRITEBYTECODE=1 would recompile every start."""
    import compileall

    for package in ("apiserver", "storage", "machinery", "crd", "admission"):
        compileall.compile_dir(ROOT / package, quiet=1)


def section_cold_empty(workdir: Path, s: Sizes) -> list[float]:
    byte_compile()
    times = []
    for i in range(s.cold_trials):
        log(f"cold start, empty store ({i + 1}/{s.cold_trials})")
        srv = apiserver(workdir, workdir / f"cold-{i}.db").start()
        times.append(srv.startup_s)
        srv.stop()
    return times


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median req/s, with every run's req/s beside it."""
    ranked = sorted(runs, key=lambda r: r["rps"])
    return {**ranked[len(ranked) // 2], "runs_rps": [r["rps"] for r in runs]}


def paired(ours: Any, base: Any, pairs: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The server's figure and its baseline's, measured alternately `pairs` times each (medians), so that a
    slow or fast spell of this shared machine falls on both sides of the ratio."""
    a: list[dict[str, Any]] = []
    b: list[dict[str, Any]] = []
    for _ in range(pairs):
        b.append(base())
        a.append(ours())
    return median_run(a), median_run(b)


def section_creates(workdir: Path, s: Sizes) -> dict[str, Any]:
    log("creates at 1/32/128 clients, alternating with the FastAPI POST echo")
    out: dict[str, Any] = {}
    with apiserver(workdir, workdir / "creates.db") as srv, baseline(workdir, "fastapi") as fa:
        namespace(srv.port, "bench")
        for c in s.concurrency:
            runs = iter(range(1_000))  # each run's names are new
            ours, base = paired(
                lambda c=c, runs=runs: posts(srv.port, "/api/v1/namespaces/bench/configmaps", configmap("bench"),
                                             c, s, f"c{c}-{next(runs)}"),
                lambda c=c: posts(fa.port, "/echo", configmap("default"), c, s, "e"),
                s.pairs)
            out[str(c)] = {**ours, "fastapi": base}
    return out


async def paced_creates(port: int, ns: str, rate: float, seconds: float, prefix: str) -> dict[str, Any]:
    """`rate` creates/s for `seconds` (at most 64 in flight); (resourceVersion, monotonic ack time) of each."""
    conns = await asyncio.gather(*(Conn.open(port) for _ in range(64)))
    pool: asyncio.Queue[Conn] = asyncio.Queue()
    for c in conns:
        pool.put_nowait(c)
    template = configmap(ns)
    acks: list[tuple[int, float]] = []
    errors = 0

    async def one(k: int) -> None:
        nonlocal errors
        conn = await pool.get()
        try:
            body = template.replace("{name}", f"{prefix}-{k}").encode()
            status, data = await conn.request(request_bytes("POST", f"/api/v1/namespaces/{ns}/configmaps", body))
            t = time.monotonic()
            m = RV.search(data)
            if status == 201 and m:
                acks.append((int(m.group(1)), t))
            else:
                errors += 1
        finally:
            pool.put_nowait(conn)

    total = int(rate * seconds)
    tasks = []
    t0 = time.monotonic()
    for k in range(total):
        delay = t0 + k / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(k)))
    await asyncio.wait_for(asyncio.gather(*tasks), 120)
    elapsed = time.monotonic() - t0
    for c in conns:
        c.close()
    return {"acks": acks, "errors": errors, "achieved_per_s": len(acks) / elapsed}


def section_watch(workdir: Path, s: Sizes) -> dict[str, Any]:
    n = s.watchers_per_proc * s.watch_procs
    log(f"watch fan-out: {n} watchers")
    with apiserver(workdir, workdir / "watch.db") as srv:
        namespace(srv.port, "watch")
        _status, data, _ = call("GET", srv.port, "/api/v1/namespaces/watch/configmaps?limit=1")
        rv = orjson.loads(data)["metadata"]["resourceVersion"]
        path = f"/api/v1/namespaces/watch/configmaps?watch=1&resourceVersion={rv}&timeoutSeconds=900"
        spec = {"mode": "watch", "port": srv.port, "path": path, "n": s.watchers_per_proc, "max_seconds": 300}
        procs = [subprocess.Popen([sys.executable, "-m", "bench.suite_client", json.dumps(spec)], cwd=ROOT,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                 for _ in range(s.watch_procs)]
        try:
            for p in procs:
                assert p.stdout is not None
                line = p.stdout.readline()  # "ready" once every watch has its response headers
                if line.strip() != "ready":
                    raise RuntimeError(f"watchers did not start: {line!r}")
            phases: dict[str, Any] = {}
            for rate in s.watch_rates:
                log(f"  {rate} writes/s for {s.watch_seconds:g} s")
                phases[str(rate)] = asyncio.run(paced_creates(srv.port, "watch", rate, s.watch_seconds, f"w{rate}"))
            message = json.dumps({"phases": {k: v["acks"] for k, v in phases.items()}, "drain": 10.0}) + "\n"
            results = []
            for p in procs:
                out, _ = p.communicate(message, timeout=120)
                results.append(json.loads(out.strip().splitlines()[-1]))
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
    out: dict[str, Any] = {"watchers": n, "ended_early": sum(r["ended_early"] for r in results)}
    for k, ph in phases.items():
        parts = [r["phases"][k] for r in results]
        lat = [x for p in parts for x in p["latencies_s"]]
        delivered = sum(p["delivered"] for p in parts)
        spans = [p["span_s"] for p in parts if p["span_s"]]
        out[k] = {"writes": len(ph["acks"]), "write_errors": ph["errors"],
                  "achieved_writes_per_s": ph["achieved_per_s"],
                  "delivered": delivered, "expected": sum(p["expected"] for p in parts),
                  "missed": sum(p["missed"] for p in parts),
                  "events_per_s": delivered / max(spans) if spans else 0.0,
                  "p50_ms": 1000 * (percentile(lat, 0.5) or 0.0), "p99_ms": 1000 * (percentile(lat, 0.99) or 0.0)}
    return out


WRITES = "grow-writes"  # the namespace of a growth stage's measured creates, emptied after each run


def stage_creates(port: int, s: Sizes, prefix: str) -> dict[str, Any]:
    """Creates at 32 clients in their own namespace, then deleted: the stage's store holds its n objects again."""
    r = posts(port, f"/api/v1/namespaces/{WRITES}/configmaps", configmap(WRITES), 32, s, prefix)
    status, body, _ = call("DELETE", port, f"/api/v1/namespaces/{WRITES}/configmaps")
    if status != 200:
        raise RuntimeError(f"deleting the measured creates: {status} {body[:300]!r}")
    return r


def list_figures(workdir: Path, port: int, ns: str) -> dict[str, Any]:
    """Item 2's pages and item 3's list of all in one response, beside the floor and a raw transfer."""
    pages = page_walk(port, ns)
    full: list[float] = []
    floors: list[float] = []
    items: list[Any] = []
    path = f"/api/v1/namespaces/{ns}/configmaps"
    with BigGets(port) as conn:
        conn.get(path)  # the warm-up: the connection's receive window grows to the list's size
        for _ in range(9):  # each list beside a floor measured right after it: drift falls on both sides
            _status, data, t = conn.get(path)
            full.append(t)
            items = items or orjson.loads(data)["items"]
            floors.append(serialization_floor(items, 3))
    with baseline(workdir, "asgi") as raw, BigGets(raw.port) as conn:
        conn.get(f"/blob/{len(data)}")
        moved = [conn.get(f"/blob/{len(data)}")[2] for _ in range(9)]
    return {"pages": pages, "list_all": {"items": len(items), "bytes": len(data),
                                         "ms": 1000 * (percentile(full, 0.5) or 0.0),
                                         "floor_ms": 1000 * (percentile(floors, 0.5) or 0.0),
                                         "transfer_ms": 1000 * (percentile(moved, 0.5) or 0.0)}}


def _per(value: float, baseline: float) -> float:
    return value / baseline if baseline else 0.0


def section_growth(workdir: Path, s: Sizes) -> dict[str, Any]:
    """Item 5 (and 2-3 at store_n objects). Beside the growing server runs a reference server that holds the
    first stage's objects throughout: each stage's gets and creates alternate with the reference's, so the
    ratio is the slow-down due to the store's size alone, measured at the same time, whatever the machine's
    speed does between stages minutes apart. (At the first stage both hold the same: the ratio shows the
    noise.)"""
    db = workdir / "growth.db"
    out: dict[str, Any] = {"stages": {}}
    count = 0  # the ConfigMaps in namespace "grow": all the store holds when a stage measures
    srv = apiserver(workdir, db).start()
    ref = apiserver(workdir, workdir / "growth-reference.db").start()
    try:
        for server in (srv, ref):
            namespace(server.port, "grow")
            namespace(server.port, WRITES)
        first = s.growth[0]
        log(f"growth: the reference server, at {first:,} objects")
        bulk_create(ref.port, "grow", first, f"b{first}")
        ref_paths = sample_get_paths("grow", f"b{first}", first)
        ref_runs = iter(range(1_000))
        for n in s.growth:
            log(f"growth: bulk-loading to {n:,} objects")
            rate = bulk_create(srv.port, "grow", n - count, f"b{n}")
            if n > count:  # gets go to objects of this stage's bulk load
                bulk_paths = sample_get_paths("grow", f"b{n}", n - count)
            count = max(count, n)
            log(f"growth: measuring at {n:,} (gets and creates alternating with the reference's)")
            stage: dict[str, Any] = {"objects": count, "bulk_creates_per_s": rate,
                                     "list_page_ms": first_page_ms(srv.port, "grow"),
                                     "list_page_ms_reference": first_page_ms(ref.port, "grow")}
            ours, base = paired(lambda paths=bulk_paths: gets(srv.port, paths, 1, s),
                                lambda: gets(ref.port, ref_paths, 1, s), s.pairs)
            stage["get1"] = {**ours, "reference": base}
            runs = iter(range(1_000))  # each run's names are new
            ours, base = paired(lambda n=n, runs=runs: stage_creates(srv.port, s, f"g{n}-{next(runs)}"),
                                lambda: stage_creates(ref.port, s, f"r{next(ref_runs)}"), s.pairs)
            stage["create32"] = {**ours, "reference": base}
            if n == s.store_n:
                log(f"items 2-3 at {count:,} objects (gets alternating with the FastAPI GET)")
                with baseline(workdir, "fastapi") as fa:
                    for c in (1, 32):
                        ours, base = paired(lambda c=c, paths=bulk_paths: gets(srv.port, paths, c, s),
                                            lambda c=c: gets(fa.port, ["/object"], c, s), s.pairs)
                        stage[f"get{c}_vs_fastapi"] = {**ours, "fastapi": base}
                stage.update(list_figures(workdir, srv.port, "grow"))
            out["stages"][str(n)] = stage
        log(f"RSS and JSON size at {count:,} objects, after the growth runs")
        walk = page_walk(srv.port, "grow")
        out["rss_bytes_after_runs"] = srv.rss_bytes()
        out["json_bytes"] = walk["json_bytes"]
        out["objects"] = walk["items"]
    finally:
        srv.stop()
        ref.stop()
    out["cold_start_s"] = []
    byte_compile()
    for i in range(s.cold_trials):
        log(f"cold start at {out['objects']:,} objects ({i + 1}/{s.cold_trials})")
        srv = apiserver(workdir, db).start()
        out["cold_start_s"].append(srv.startup_s)
        if i == 0:  # the memory of a server holding the objects, each listed once (so their JSON is kept)
            page_walk(srv.port, "grow")
            out["rss_bytes"] = srv.rss_bytes()
        srv.stop()
    return out


def section_store(workdir: Path, quick: bool) -> dict[str, Any]:
    log("store vs raw sqlite3 (python -m bench.store)")
    out = workdir / "store.json"
    cmd = [sys.executable, "-m", "bench.store", "--dir", str(workdir), "--out", str(out)]
    cmd += ["--quick"] if quick else []
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"bench.store failed: {proc.stderr[-2000:]}")
    return dict(json.loads(out.read_text()))


# ---- report ----------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {"cores": os.cpu_count(), "cpu": model, "loadavg": list(os.getloadavg()),
            "python": platform.python_version(), "platform": platform.platform()}


def row(rows: list[dict[str, Any]], figure: str, value: float | None, base: float | None = None,
        base_label: str = "", target: str = "", met: bool | None = None, unit: str = "") -> None:
    ratio = value / base if value is not None and base else None
    rows.append({"figure": figure, "value": value, "unit": unit, "baseline": base, "baseline_of": base_label,
                 "ratio": ratio, "target": target, "met": met})


def build_rows(r: dict[str, Any], s: Sizes) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    fa, asgi = r["baselines"]["fastapi"], r["baselines"]["asgi"]
    for c in s.concurrency:
        cr, ap = r["creates"][str(c)], asgi["post"][str(c)]
        fp = cr.get("fastapi") or fa["post"][str(c)]  # the alternately measured baseline
        ratio = cr["rps"] / fp["rps"] if fp["rps"] else 0.0
        tgt, met = ("≥ 1.0x FastAPI POST", ratio >= 1.0) if c == 32 else ("", None)
        row(rows, f"1. create @{c} req/s", cr["rps"], fp["rps"], "FastAPI POST echo", tgt, met)
        row(rows, f"1. create @{c} req/s (vs raw ASGI)", cr["rps"], ap["rps"], "raw ASGI POST echo")
        row(rows, f"1. create @{c} p50 ms", cr["p50_ms"], fp["p50_ms"], "FastAPI POST echo")
        row(rows, f"1. create @{c} p99 ms", cr["p99_ms"], fp["p99_ms"], "FastAPI POST echo")
    st = r["growth"]["stages"][str(s.store_n)]
    n = st["objects"]
    for c in (1, 32):
        g = st[f"get{c}_vs_fastapi"]
        fg, ag = g.get("fastapi") or fa["get"][str(c)], asgi["get"][str(c)]
        ratio = g["rps"] / fg["rps"] if fg["rps"] else 0.0
        row(rows, f"2. get @{c} req/s ({n:,} objs)", g["rps"], fg["rps"], "FastAPI GET", "≥ 1.0x FastAPI GET",
            ratio >= 1.0)
        row(rows, f"2. get @{c} req/s (vs raw ASGI)", g["rps"], ag["rps"], "raw ASGI GET")
        row(rows, f"2. get @{c} p50 ms", g["p50_ms"], fg["p50_ms"], "FastAPI GET")
        row(rows, f"2. get @{c} p99 ms", g["p99_ms"], fg["p99_ms"], "FastAPI GET")
    pages = st["pages"]
    row(rows, f"2. list page (limit=500) p50 ms, {pages['pages']} pages", pages["page_p50_ms"],
        pages["page_floor_ms"], "orjson.dumps of 500")
    row(rows, "2. list page (limit=500) p99 ms", pages["page_p99_ms"], pages["page_floor_ms"], "orjson.dumps of 500")
    la = st["list_all"]
    ratio = la["ms"] / la["floor_ms"] if la["floor_ms"] else 0.0
    row(rows, f"3. list all {la['items']:,} in one response ms", la["ms"], la["floor_ms"], "orjson.dumps floor",
        "≤ 2.0x floor", ratio <= 2.0)
    if "transfer_ms" in la:
        row(rows, f"3. list all: raw ASGI sending {la['bytes'] / MIB:.1f} MiB ms", la["transfer_ms"], la["floor_ms"],
            "orjson.dumps floor")
        row(rows, "3. list all vs floor + raw transfer", la["ms"], la["floor_ms"] + la["transfer_ms"],
            "floor + raw ASGI transfer")
        row(rows, "3. list all minus the raw transfer (server's own) ms", la["ms"] - la["transfer_ms"], la["floor_ms"],
            "orjson.dumps floor")
    w = r["watch"]
    top = str(max(s.watch_rates))
    for rate in s.watch_rates:
        ph = w[str(rate)]
        last = str(rate) == top
        row(rows, f"4. watch {w['watchers']} @ {rate} w/s: writes/s", ph["achieved_writes_per_s"], rate, "asked rate")
        row(rows, f"4. watch {w['watchers']} @ {rate} w/s: events/s", ph["events_per_s"],
            ph["achieved_writes_per_s"] * w["watchers"], "writes/s x watchers")
        row(rows, f"4. watch {w['watchers']} @ {rate} w/s: p50 ms", ph["p50_ms"])
        row(rows, f"4. watch {w['watchers']} @ {rate} w/s: p99 ms", ph["p99_ms"], None, "",
            "≤ 100 ms" if last else "", ph["p99_ms"] <= 100 if last else None)
        row(rows, f"4. watch {w['watchers']} @ {rate} w/s: missed", ph["missed"], ph["expected"], "events expected",
            "0, at >= 0.95x asked rate" if last else "",
            (ph["missed"] == 0 and ph["write_errors"] == 0 and ph["achieved_writes_per_s"] >= 0.95 * rate)
            if last else None)
    g = r["growth"]
    first, lastn = str(s.growth[0]), str(s.growth[-1])
    for n_ in s.growth:
        stg = g["stages"][str(n_)]
        end = str(n_) == lastn
        at = f"5. at {stg['objects']:,}:"
        ref_of = f"at {int(first):,}, same time"
        cr = stg["create32"]
        row(rows, f"{at} create @32 req/s", cr["rps"], cr["reference"]["rps"], ref_of,
            "≥ 0.8x at 1k" if end else "", _per(cr["rps"], cr["reference"]["rps"]) >= 0.8 if end else None)
        gt = stg["get1"]
        row(rows, f"{at} get @1 p50 ms", gt["p50_ms"], gt["reference"]["p50_ms"], ref_of,
            "≤ 1.25x at 1k" if end else "", _per(gt["p50_ms"], gt["reference"]["p50_ms"]) <= 1.25 if end else None)
        row(rows, f"{at} list page (500) ms", stg["list_page_ms"], stg["list_page_ms_reference"], ref_of)
        row(rows, f"{at} bulk-load creates/s (64 clients)", stg["bulk_creates_per_s"])
    cold = percentile(r["cold_empty_s"], 0.5) or 0.0
    row(rows, "6. cold start, empty store s", cold, None, "", "≤ 0.5 s", cold <= 0.5)
    cold_n = percentile(g["cold_start_s"], 0.5) or 0.0
    row(rows, f"6. cold start at {g['objects']:,} objects s", cold_n, None, "", "≤ 3 s", cold_n <= 3.0)
    budget = 2.5 * g["json_bytes"] + 100 * MIB
    row(rows, f"6. RSS at {g['objects']:,} objects MiB (started on them, all listed)", g["rss_bytes"] / MIB,
        budget / MIB, f"2.5 x JSON ({g['json_bytes'] / MIB:.1f} MiB) + 100", "≤ 1.0x budget", g["rss_bytes"] <= budget)
    if "rss_bytes_after_runs" in g:
        row(rows, f"6. RSS at {g['objects']:,} objects MiB (after the growth runs)", g["rss_bytes_after_runs"] / MIB,
            budget / MIB, f"2.5 x JSON ({g['json_bytes'] / MIB:.1f} MiB) + 100")
    st7 = r["store"]
    raw = st7["raw"]
    batch = raw["writes_per_s_100_rows_per_commit_same_keys"]
    for c, fig in st7["store"].items():
        t = st7["target"]
        last = c == max(st7["store"], key=int)
        row(rows, f"7. store writes/s, {c} writers", fig["writes_per_s"], batch, "raw sqlite3 100/commit, same keys",
            "≥ 0.5x (bench.store)" if last else "", t["met"] if last else None)
        row(rows, f"7. store reads/s, {c} readers", fig["reads_per_s"], raw["reads_per_s"], "raw sqlite3 reads")
    sequential = raw.get("writes_per_s_100_rows_per_commit_sequential_keys")
    if sequential:
        top_c = max(st7["store"], key=int)
        row(rows, f"7. store writes/s, {top_c} writers (vs sequential keys)", st7["store"][top_c]["writes_per_s"],
            sequential, "raw sqlite3 100/commit, sequential keys (context)")
    row(rows, "load generator CPU µs/request (raw ASGI GET @1)", asgi["get"]["1"]["client_cpu_us_per_request"])
    return rows


def fmt(v: float | None) -> str:
    if v is None:
        return "-"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}" if abs(v) < 1 else f"{v:.2f}"


def table(rows: list[dict[str, Any]]) -> str:
    header = f"{'figure':58}{'value':>12}{'baseline':>12}{'ratio':>10}  {'target':26}{'verdict':9}baseline is"
    lines = [header, "-" * len(header)]
    for x in rows:
        ratio = f"{x['ratio']:.2f}x" if x["ratio"] is not None else "-"
        verdict = "" if x["met"] is None else ("met" if x["met"] else "NOT MET")
        lines.append(f"{x['figure']:58}{fmt(x['value']):>12}{fmt(x['baseline']):>12}{ratio:>10}  "
                     f"{x['target']:26}{verdict:9}{x['baseline_of']}")
    return "\n".join(lines)


SECTIONS: dict[str, Any] = {
    "baselines": lambda w, s, q: section_baselines(w, s),
    "cold": lambda w, s, q: section_cold_empty(w, s),
    "creates": lambda w, s, q: section_creates(w, s),
    "watch": lambda w, s, q: section_watch(w, s),
    "growth": lambda w, s, q: section_growth(w, s),
    "store": lambda w, s, q: section_store(w, q),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="scaled-down sizes, well under a minute: a smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results JSON (default %(default)s)")
    parser.add_argument("--only", choices=sorted(SECTIONS), action="append",
                        help="run just this section (repeatable) and print its raw results as JSON, no table: "
                             "for profiling one figure")
    args = parser.parse_args(argv)
    s = QUICK if args.quick else FULL
    if args.only:
        with tempfile.TemporaryDirectory(prefix="bench-suite-") as tmp:
            part = {name: SECTIONS[name](Path(tmp), s, args.quick) for name in args.only}
        print(json.dumps(part, indent=1))
        return 0
    started = time.perf_counter()
    results: dict[str, Any] = {"quick": args.quick, "machine_at_start": machine(), "sizes": s.__dict__}
    with tempfile.TemporaryDirectory(prefix="bench-suite-") as tmp:
        workdir = Path(tmp)
        results["baselines"] = section_baselines(workdir, s)
        results["cold_empty_s"] = section_cold_empty(workdir, s)
        results["creates"] = section_creates(workdir, s)
        results["watch"] = section_watch(workdir, s)
        results["growth"] = section_growth(workdir, s)
        results["store"] = section_store(workdir, args.quick)
    results["machine_at_end"] = machine()
    results["elapsed_s"] = time.perf_counter() - started
    rows = build_rows(results, s)
    results["rows"] = rows
    m0, m1 = results["machine_at_start"], results["machine_at_end"]
    print(f"mini-apiserver performance suite{' (--quick: scaled-down sizes, not figures)' if args.quick else ''}")
    print(f"machine: {m0['cores']} cores, {m0['cpu']}, python {m0['python']}; load average "
          f"{' '.join(f'{x:.2f}' for x in m0['loadavg'])} at start, {' '.join(f'{x:.2f}' for x in m1['loadavg'])} "
          f"at end; {results['elapsed_s']:.0f} s")
    print()
    print(table(rows))
    met = [x for x in rows if x["met"] is not None]
    print(f"\ntargets met: {sum(bool(x['met']) for x in met)}/{len(met)}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0
