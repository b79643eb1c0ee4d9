"""Slow and idle watchers against the real server, run as a subprocess on 127.0.0.1.

    python -m bench.watchers [--quick] [--seconds N] [--rate R] [--idle N] [--out PATH]

(a) Slow watcher. A writer creates and then patches ~1 KiB ConfigMaps at a steady rate while ten
normal watchers read every event. The phase runs twice on the same server: a baseline, then
again with one more watcher that opens its stream on a raw socket and never reads. The watch
cache closes a watcher whose buffer of unread events fills (apiserver/watchcache.py
WATCHER_BUFFER); when the writes stop, the slow client reads what it can to find out whether,
and after which event, its stream was cut. Reported: the cut, the server's RSS over time, and
the normal watchers' delivery latency (write acknowledged -> event received) in both runs.

(b) Idle watchers. Opens N watches (1,000 by default) that see no events, then samples the
server's CPU time (/proc/PID/stat utime+stime) over a stretch of idleness, beside the same
figure with no watchers; reports the RSS each watcher costs and how long one event takes to
reach all of them.

The server and every client live on 127.0.0.1; every loop is bounded in count and time.
BENCH_SERVER_ROOT, when set, is the checkout the server runs from (e.g. a `git archive` of HEAD
while the working tree is mid-edit); the default is this one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import random
import resource
import signal
import string
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.finish import finish

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[1]
SERVER_ROOT = Path(os.environ.get("BENCH_SERVER_ROOT") or ROOT)
RESULTS = Path(__file__).parent / "results" / "watchers.json"
CLK_TCK = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024
BLOB = "".join(random.Random(0).choices(string.ascii_letters + string.digits, k=1000))  # ~1 KiB objects
NORMAL_WATCHERS = 10
KEYS = 500  # ConfigMaps in the slow-watcher phases: created once, then patched round-robin
HISTORY = 10_000  # apiserver/watchcache.py HISTORY: events the cache keeps; the warm-up fills it
WRITERS_IN_FLIGHT = 64  # the steady writer's bound on concurrent requests


# ---- the server under test -----------------------------------------------------------------


class ServerProcess:
    """`python -m apiserver serve` on a SQLite file in `workdir`; stopped with SIGTERM."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.db = workdir / "store.db"
        self.out = workdir / "server.out"
        self.err = workdir / "server.err"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.exit_code: int | None = None
        self.died_early = False

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    async def __aenter__(self) -> ServerProcess:
        raise_fd_limit()
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "apiserver", "serve", "--host", HOST, "--port", "0",
                 "--database", f"sqlite:///{self.db}", "--log-level", "info"],
                cwd=SERVER_ROOT, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 30
        while not self.port:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{self.err.read_text()[-2000:]}")
            for line in self.out.read_text().splitlines():
                if "listening on http://" in line:
                    self.port = int(line.rsplit(":", 1)[1])
            await asyncio.sleep(0.05)
        async with httpx.AsyncClient(base_url=self.url) as client:
            while (await client.get("/readyz")).status_code != 200:
                if time.monotonic() > deadline:
                    raise RuntimeError("the server never became ready")
                await asyncio.sleep(0.05)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.died_early = self.proc.poll() is not None  # someone else stopped it
        if self.died_early:
            print(f"the server (pid {self.pid}) exited by itself with {self.proc.returncode}; its log ends:\n"
                  f"{self.err.read_text(errors='replace')[-1500:]}", file=sys.stderr)
        if not self.died_early:
            self.proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            while self.proc.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if self.proc.poll() is None:
                self.proc.kill()
        self.exit_code = self.proc.wait()

    def check(self) -> None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"the server exited ({self.proc.returncode}) during the bench:\n"
                               f"{self.err.read_text(errors='replace')[-1500:]}")

    def rss_kib(self) -> int:
        self.check()
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self) -> float:
        self.check()
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ": fields[0] is field 3, state
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)

    def log_problems(self) -> list[str]:
        """Lines of the server's log that show an error or a traceback."""
        text = self.err.read_text(errors="replace")
        return [ln for ln in text.splitlines() if "Traceback" in ln or "ERROR" in ln or "Exception" in ln]


def raise_fd_limit() -> None:
    """Thousands of sockets on each side: lift the soft limit (the server inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


async def create_namespace(client: httpx.AsyncClient, name: str) -> None:
    resp = await client.post("/api/v1/namespaces", json={"metadata": {"name": name}})
    resp.raise_for_status()


async def list_rv(client: httpx.AsyncClient, ns: str) -> tuple[int, list[str]]:
    resp = await client.get(f"/api/v1/namespaces/{ns}/configmaps")
    resp.raise_for_status()
    body = resp.json()
    return int(body["metadata"]["resourceVersion"]), [i["metadata"]["name"] for i in body["items"]]


# ---- watches on raw sockets ----------------------------------------------------------------


class WatchRefused(Exception):
    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"watch answered {status}: {body[:300]!r}")
        self.status = status


class RawWatch:
    """One watch over a plain socket: HTTP/1.1 by hand and chunked decoding, economical by the
    thousand, and able to stop reading altogether (a client that never reads)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.ended = "open"  # how the stream ended: end-of-stream | eof | reset

    @classmethod
    async def open(cls, port: int, target: str, *, timeout: float = 10.0) -> RawWatch:
        reader, writer = await asyncio.open_connection(HOST, port, limit=1 << 20)
        try:
            writer.write(f"GET {target} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: application/json\r\n\r\n"
                         .encode())
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
            if status != 200 or headers.get("transfer-encoding") != "chunked":
                length = int(headers.get("content-length", "0"))
                body = await asyncio.wait_for(reader.readexactly(length), timeout) if length else b""
                raise WatchRefused(status, body)
        except BaseException:
            writer.close()
            raise
        return cls(reader, writer)

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            while True:
                size_line = await self.reader.readline()
                if not size_line:
                    self.ended = "eof"
                    return
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()
                    self.ended = "end-of-stream"
                    return
                data = await self.reader.readexactly(size + 2)
                yield data[:-2]
        except asyncio.IncompleteReadError:
            self.ended = "eof"
        except ConnectionResetError:
            self.ended = "reset"

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        pending = b""
        async for chunk in self.chunks():
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                if raw.strip():
                    yield orjson.loads(raw)

    def stop_reading(self) -> None:
        """Read nothing more: not even the event loop's buffering takes bytes off the socket, so
        the kernel's buffers fill and the server's writes block, as with a stuck client."""
        self.writer.transport.pause_reading()  # type: ignore[attr-defined]

    def resume_reading(self) -> None:
        self.writer.transport.resume_reading()  # type: ignore[attr-defined]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


def tcp_queues(client_port: int) -> dict[str, int]:
    """Bytes the kernel holds for one loopback connection (from /proc/net/tcp): received but unread
    by the client (its Recv-Q) and not yet taken by the client (the server's Send-Q)."""
    out = {"client_recv_q": 0, "server_send_q": 0}
    for row in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = row.split()
        tx, rx = (int(x, 16) for x in parts[4].split(":"))
        if int(parts[1].split(":")[1], 16) == client_port:
            out["client_recv_q"] = rx
        elif int(parts[2].split(":")[1], 16) == client_port:
            out["server_send_q"] = tx
    return out


def watch_target(ns: str, rv: int) -> str:
    return f"/api/v1/namespaces/{ns}/configmaps?watch=1&resourceVersion={rv}"


@dataclass(eq=False)
class Follower:
    """A well-behaved watcher: reads every event, re-watches from its last resourceVersion when a
    stream ends, re-lists on 410, and checks what it sees (order, per-object transitions)."""

    port: int
    ns: str
    rv: int
    record_times: bool = False
    received: array = field(default_factory=lambda: array("q"))  # resourceVersions in arrival order
    times: array = field(default_factory=lambda: array("d"))  # perf_counter at arrival, if recorded
    present: set[str] = field(default_factory=set)
    deleted: int = 0
    out_of_order: int = 0
    anomalies: int = 0  # ADDED for an object already there, MODIFIED/DELETED for one that is not
    restarts: int = 0
    expired: int = 0
    errors: list[str] = field(default_factory=list)
    holes: list[tuple[int, int]] = field(default_factory=list)  # (from, to] skipped by a re-list
    watch: RawWatch | None = None
    relist_pending: bool = False

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                self.watch = await RawWatch.open(self.port, watch_target(self.ns, self.rv))
            except (OSError, TimeoutError, WatchRefused) as err:
                self.errors.append(repr(err))
                await asyncio.sleep(0.2)
                continue
            try:
                async for ev in self.watch.events():
                    self.handle(ev)
            finally:
                self.watch.close()
            if stop.is_set():
                return
            self.restarts += 1
            await asyncio.sleep(0.05)  # a re-watch backs off a little, as reflectors do
            if self.relist_pending:
                self.relist_pending = False
                await self.relist()

    async def relist(self) -> None:
        async with httpx.AsyncClient(base_url=f"http://{HOST}:{self.port}") as client:
            rv, names = await list_rv(client, self.ns)
        self.holes.append((self.rv, rv))
        self.rv, self.present = rv, set(names)

    def handle(self, ev: dict[str, Any]) -> None:
        kind, obj = ev["type"], ev["object"]
        if kind == "ERROR":
            if obj.get("code") == 410:
                self.expired += 1
                self.relist_pending = True
            else:
                self.errors.append(str(obj.get("message")))
            return
        rv = int(obj["metadata"]["resourceVersion"])
        if kind == "BOOKMARK":
            self.rv = max(self.rv, rv)
            return
        if self.record_times:
            self.times.append(time.perf_counter())
        if rv <= self.rv:
            self.out_of_order += 1
        self.rv = max(self.rv, rv)
        self.received.append(rv)
        name = obj["metadata"]["name"]
        if kind == "ADDED":
            self.anomalies += name in self.present
            self.present.add(name)
        else:
            self.anomalies += name not in self.present
            if kind == "DELETED":
                self.deleted += 1
                self.present.discard(name)

    def missing(self, acked: Iterable[int], since: int) -> int:
        """How many acknowledged revisions after `since` this watcher never received."""
        got = set(self.received)
        return sum(1 for rv in acked if rv > since and rv not in got
                   and not any(lo < rv <= hi for lo, hi in self.holes))


async def wait_until(cond: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


# ---- figures -------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q / 100 * len(s)) - 1))]


def fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


class RssSampler:
    """The server's RSS every `every` seconds while running, as (seconds since start, KiB)."""

    def __init__(self, server: ServerProcess, every: float) -> None:
        self.server, self.every = server, every
        self.samples: list[tuple[float, int]] = []
        self.t0 = time.perf_counter()
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            self.samples.append((round(time.perf_counter() - self.t0, 2), self.server.rss_kib()))
            await asyncio.sleep(self.every)

    def start(self) -> RssSampler:
        self._task = asyncio.create_task(self._run())
        return self

    async def stop(self) -> list[tuple[float, int]]:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self.samples.append((round(time.perf_counter() - self.t0, 2), self.server.rss_kib()))
        return self.samples


# ---- (a) the slow watcher ------------------------------------------------------------------


async def write_steadily(client: httpx.AsyncClient, ns: str, rate: float, seconds: float,
                         acks: dict[int, float], sends: dict[int, float]) -> tuple[float, list[str]]:
    """Create KEYS ConfigMaps, then patch them round-robin, `rate` writes a second for `seconds`.
    Records when each write was sent and acknowledged, by its resourceVersion; returns the start."""
    gate = asyncio.Semaphore(WRITERS_IN_FLIGHT)
    failures: list[str] = []

    async def one(i: int) -> None:
        name = f"cm-{i % KEYS}"
        async with gate:
            sent = time.perf_counter()
            try:
                if i < KEYS:
                    resp = await client.post(f"/api/v1/namespaces/{ns}/configmaps",
                                             json={"metadata": {"name": name}, "data": {"seq": str(i), "blob": BLOB}})
                else:
                    resp = await client.patch(f"/api/v1/namespaces/{ns}/configmaps/{name}",
                                              content=orjson.dumps({"data": {"seq": str(i)}}),
                                              headers={"content-type": "application/merge-patch+json"})
            except httpx.HTTPError as err:
                failures.append(repr(err))
                return
            now = time.perf_counter()
        if resp.is_success:
            rv = int(resp.json()["metadata"]["resourceVersion"])
            acks[rv], sends[rv] = now, sent
        else:
            failures.append(f"{resp.status_code} {resp.text[:200]}")

    tasks = []
    t0 = time.perf_counter()
    for i in range(int(rate * seconds)):
        delay = t0 + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    return t0, failures


async def slow_watcher_phase(server: ServerProcess, ns: str, *, rate: float, seconds: float,
                             with_slow: bool, drain_timeout: float) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=WRITERS_IN_FLIGHT, max_keepalive_connections=WRITERS_IN_FLIGHT)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=30) as client:
        await create_namespace(client, ns)
        rv0, _ = await list_rv(client, ns)
        stop = asyncio.Event()
        followers = [Follower(server.port, ns, rv0, record_times=True) for _ in range(NORMAL_WATCHERS)]
        tasks = [asyncio.create_task(f.run(stop)) for f in followers]
        slow = await RawWatch.open(server.port, watch_target(ns, rv0)) if with_slow else None
        if slow is not None:
            slow.stop_reading()
        await wait_until(lambda: all(f.watch is not None for f in followers), 10)
        rss = RssSampler(server, 0.5).start()
        acks: dict[int, float] = {}
        sends: dict[int, float] = {}
        cpu0 = server.cpu_seconds()
        t0, failures = await write_steadily(client, ns, rate, seconds, acks, sends)
        last = max(acks, default=rv0)
        caught_up = await wait_until(lambda: all(f.rv >= last for f in followers), 30)
        cpu = server.cpu_seconds() - cpu0
        samples = await rss.stop()
        stop.set()
        for f, task in zip(followers, tasks, strict=True):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            if f.watch:
                f.watch.close()

        # The server publishes a write to watchers before it answers the writer, so an event often
        # arrives before its acknowledgement: delivery is measured from the write's sending, and
        # the time from acknowledgement to event is kept too (negative: the event came first).
        latencies: list[float] = []
        after_ack: list[float] = []
        for f in followers:
            for rv, t in zip(f.received, f.times, strict=True):
                if rv in acks:
                    latencies.append((t - sends[rv]) * 1000)
                    after_ack.append((t - acks[rv]) * 1000)
        write_ms = [(acks[rv] - sends[rv]) * 1000 for rv in acks]
        result: dict[str, Any] = {
            "namespace": ns,
            "writes": len(acks),
            "write_failures": len(failures),
            "write_failure_samples": failures[:5],
            "write_seconds": round(time.perf_counter() - t0, 2),
            "events_per_watcher": [len(f.received) for f in followers],
            "watchers_caught_up": caught_up,
            "missing_events": sum(f.missing(acks, rv0) for f in followers),
            "out_of_order": sum(f.out_of_order for f in followers),
            "restarts": sum(f.restarts for f in followers),
            "latency_ms": {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
                           "max": max(latencies, default=None), "n": len(latencies)},
            "ack_to_event_ms": {"p50": percentile(after_ack, 50), "p99": percentile(after_ack, 99),
                                "share_before_ack": round(sum(x < 0 for x in after_ack) / max(1, len(after_ack)), 3)},
            "write_ms": {"p50": percentile(write_ms, 50), "p99": percentile(write_ms, 99)},
            # the server's own CPU per write (writing, fanning out): immune to other load on the machine
            "server_cpu_ms_per_write": round(1000 * cpu / max(1, len(acks)), 2),
            "rss_kib": samples,
        }
        if slow is not None:
            queued = tcp_queues(slow.writer.get_extra_info("sockname")[1])
            result["slow_watcher"] = await drain_slow(slow, acks, t0, drain_timeout) | {"kernel_queued_bytes": queued}
        return result


async def drain_slow(slow: RawWatch, acks: dict[int, float], t0: float, timeout: float) -> dict[str, Any]:
    """The slow client finally reads. A cut stream ends before the last write; the first write it
    never saw is when the server gave up on it."""
    got: list[int] = []
    started = time.perf_counter()
    final = max(acks, default=0)
    slow.resume_reading()

    async def read() -> None:
        async for ev in slow.events():
            if ev["type"] in ("ADDED", "MODIFIED", "DELETED"):
                got.append(int(ev["object"]["metadata"]["resourceVersion"]))
                if got[-1] >= final:  # everything arrived: not cut
                    return

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(read(), timeout)
    slow.close()
    written = sorted(acks)
    last_seen = got[-1] if got else 0
    after = [rv for rv in written if rv > last_seen]
    cut = slow.ended != "open" and bool(after)
    return {
        "cut": cut,
        "ended_by": slow.ended,
        "events_received": len(got),
        "events_written": len(written),
        "cut_at_write": len(written) - len(after) + 1 if cut else None,
        "cut_at_s": round(acks[after[0]] - t0, 2) if cut else None,
        "read_seconds": round(time.perf_counter() - started, 2),
    }


# ---- (b) idle watchers ---------------------------------------------------------------------


async def cpu_percent(server: ServerProcess, seconds: float) -> float:
    cpu0, t0 = server.cpu_seconds(), time.perf_counter()
    await asyncio.sleep(seconds)
    return 100 * (server.cpu_seconds() - cpu0) / (time.perf_counter() - t0)


async def idle_watchers(server: ServerProcess, n: int, idle_seconds: float) -> dict[str, Any]:
    ns = "bench-idle"
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        await create_namespace(client, ns)
        rv0, _ = await list_rv(client, ns)
        await asyncio.sleep(1)  # let the writes above settle
        cpu_none = await cpu_percent(server, idle_seconds)
        rss_before = server.rss_kib()
        started = time.perf_counter()
        watches: list[RawWatch] = []
        for batch in range(0, n, 100):
            watches += await asyncio.gather(*(RawWatch.open(server.port, watch_target(ns, rv0))
                                              for _ in range(min(100, n - batch))))
        open_s = time.perf_counter() - started
        await asyncio.sleep(1)
        rss_open = server.rss_kib()
        cpu_idle = await cpu_percent(server, idle_seconds)

        async def first_event(w: RawWatch) -> float:
            async for _ in w.events():
                return time.perf_counter()
            return math.nan

        readers = [asyncio.create_task(first_event(w)) for w in watches]
        sent = time.perf_counter()
        resp = await client.post(f"/api/v1/namespaces/{ns}/configmaps",
                                 json={"metadata": {"name": "ping"}, "data": {"blob": BLOB}})
        resp.raise_for_status()
        done, pending = await asyncio.wait(readers, timeout=30)
        for task in pending:
            task.cancel()
        arrivals = [t.result() for t in done if not math.isnan(t.result())]
        for w in watches:
            w.close()
        await asyncio.sleep(1)
        return {
            "watchers": n,
            "open_seconds": round(open_s, 2),
            "idle_seconds": idle_seconds,
            "cpu_percent_no_watchers": round(cpu_none, 3),
            "cpu_percent_idle_watchers": round(cpu_idle, 3),
            "rss_kib_before": rss_before,
            "rss_kib_open": rss_open,
            "rss_kib_per_watcher": round((rss_open - rss_before) / n, 1),
            "rss_kib_after_close": server.rss_kib(),
            "fanout_delivered": len(arrivals),
            "fanout_ms_all": round((max(arrivals) - sent) * 1000, 1) if arrivals else None,
        }


# ---- report --------------------------------------------------------------------------------


def rss_line(samples: list[tuple[float, int]], every: float) -> str:
    picked, next_t = [], 0.0
    for t, kib in samples:
        if t >= next_t:
            picked.append(f"{kib / 1024:.0f}")
            next_t = t + every
    return " ".join(picked)


def report(results: dict[str, Any]) -> str:
    a = results["slow_watcher_bench"]
    base, slow = a["baseline"], a["with_slow_watcher"]
    lines = [
        f"slow watcher bench: {NORMAL_WATCHERS} normal watchers, {a['rate']:g} writes/s for {a['seconds']:g} s, "
        f"~1 KiB ConfigMaps; server pid {results['server_pid']}",
        *([f"warm-up (fills the watch cache history): {a['warmup']['writes']} writes in "
           f"{a['warmup']['write_seconds']:.0f} s, RSS after {a['warmup']['rss_kib_end'] / 1024:.1f} MiB"]
          if a["warmup"] else []),
        "delivery = write sent -> event read by a normal watcher; write = sent -> acknowledged (ms); "
        "ev<ack = events read before their write's answer; CPU/write = server CPU ms per write",
        f"{'phase':<18}{'writes':>7}{'missed':>7}{'deliv p50':>10}{'p99':>7}{'max':>7}{'write p50':>10}{'p99':>7}"
        f"{'ev<ack':>7}{'CPU/write':>10}{'RSS start':>10}{'peak':>7}{'end':>7} MiB",
    ]
    for label, ph in (("baseline", base), ("with slow watcher", slow)):
        lat, w, rss = ph["latency_ms"], ph["write_ms"], [k for _, k in ph["rss_kib"]]
        before = ph["ack_to_event_ms"]["share_before_ack"]
        lines.append(f"{label:<18}{ph['writes']:>7}{ph['missing_events']:>7}{fmt(lat['p50']):>10}"
                     f"{fmt(lat['p99']):>7}{fmt(lat['max']):>7}{fmt(w['p50']):>10}{fmt(w['p99']):>7}"
                     f"{before:>7.0%}{ph['server_cpu_ms_per_write']:>10.2f}"
                     f"{rss[0] / 1024:>10.1f}{max(rss) / 1024:>7.1f}{rss[-1] / 1024:>7.1f}")
    for label, ph in (("baseline", base), ("with slow watcher", slow)):
        lines.append(f"RSS MiB every 2 s, {label}: {rss_line(ph['rss_kib'], 2.0)}")
    sw = slow["slow_watcher"]
    q = sw["kernel_queued_bytes"]
    lines.append(f"slow watcher, when the writes stopped: kernel held {q['client_recv_q'] / 1024:.0f} KiB unread "
                 f"by the client + {q['server_send_q'] / 1024:.0f} KiB in the server's send queue")
    if sw["cut"]:
        lines.append(f"slow watcher: cut after {sw['events_received']} of {sw['events_written']} events "
                     f"(at write #{sw['cut_at_write']}, {sw['cut_at_s']:.1f} s into the writes); "
                     f"stream ended by {sw['ended_by']} once the client read")
    else:
        lines.append(f"slow watcher: not cut; received {sw['events_received']} of {sw['events_written']} events, "
                     f"stream {sw['ended_by']}")
    b = results["idle_watchers_bench"]
    lines += [
        "",
        f"idle watchers bench: CPU over {b['idle_seconds']:g} s of idleness",
        f"{'watchers':>8}{'open s':>8}{'CPU % none':>12}{'CPU % idle':>12}{'RSS before':>12}{'RSS open':>10}"
        f"{'KiB/watcher':>13}{'fan-out ms':>12}{'delivered':>11}",
        f"{b['watchers']:>8}{b['open_seconds']:>8.2f}{b['cpu_percent_no_watchers']:>12.2f}"
        f"{b['cpu_percent_idle_watchers']:>12.2f}{b['rss_kib_before'] / 1024:>12.1f}{b['rss_kib_open'] / 1024:>10.1f}"
        f"{b['rss_kib_per_watcher']:>13.1f}{fmt(b['fanout_ms_all']):>12}{b['fanout_delivered']:>11}",
        "",
        f"server log problems: {len(results['server_log_problems'])}; server exit code {results['server_exit_code']}; "
        f"load average before/after: {results['loadavg_before'][0]:.1f}/{results['loadavg_after'][0]:.1f} "
        f"on {results['cpus']} CPUs",
    ]
    return "\n".join(lines)


async def run(*, rate: float, seconds: float, idle: int, idle_seconds: float, drain_timeout: float,
              warmup: int) -> dict[str, Any]:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-watchers-") as tmp:
        server = ServerProcess(Path(tmp))
        async with server:
            warm = None
            if warmup:  # fill the watch cache's history first, so RSS compares steady states
                print(f"  warm-up: {warmup} writes with {NORMAL_WATCHERS} watchers ...", file=sys.stderr, flush=True)
                warm = await slow_watcher_phase(server, "bench-warm", rate=1000, seconds=warmup / 1000,
                                                with_slow=False, drain_timeout=drain_timeout)
            print("  slow watcher: baseline ...", file=sys.stderr, flush=True)
            base = await slow_watcher_phase(server, "bench-base", rate=rate, seconds=seconds, with_slow=False,
                                            drain_timeout=drain_timeout)
            print("  slow watcher: with a client that never reads ...", file=sys.stderr, flush=True)
            slow = await slow_watcher_phase(server, "bench-slow", rate=rate, seconds=seconds, with_slow=True,
                                            drain_timeout=drain_timeout)
            print(f"  {idle} idle watchers ...", file=sys.stderr, flush=True)
            idle_res = await idle_watchers(server, idle, idle_seconds)
        return {
            "server_pid": server.pid,
            "cpus": os.cpu_count(),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
            "slow_watcher_bench": {"rate": rate, "seconds": seconds, "normal_watchers": NORMAL_WATCHERS,
                                   "warmup": warm and {"writes": warm["writes"], "write_seconds": warm["write_seconds"],
                                                       "rss_kib_end": warm["rss_kib"][-1][1]},
                                   "baseline": base, "with_slow_watcher": slow},
            "idle_watchers_bench": idle_res,
            "server_log_problems": server.log_problems()[:20],
            "server_exit_code": server.exit_code,
            "server_died_early": server.died_early,
        }


def failures(results: dict[str, Any]) -> list[str]:
    """What makes the run fail (correctness only, never timing)."""
    found = []
    a = results["slow_watcher_bench"]
    for label in ("baseline", "with_slow_watcher"):
        ph = a[label]
        if ph["missing_events"] or ph["out_of_order"] or ph["write_failures"]:
            found.append(f"{label}: {ph['missing_events']} missed, {ph['out_of_order']} out of order, "
                         f"{ph['write_failures']} failed writes")
    b = results["idle_watchers_bench"]
    if b["fanout_delivered"] != b["watchers"]:
        found.append(f"idle watchers: only {b['fanout_delivered']} of {b['watchers']} got the event")
    if results["server_died_early"]:
        found.append("the server stopped before the bench ended")
    if results["server_exit_code"] != 0:
        found.append(f"server exit code {results['server_exit_code']}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.watchers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds: a smoke run, not figures")
    parser.add_argument("--seconds", type=float, help="writing time of each slow-watcher phase (default 60)")
    parser.add_argument("--rate", type=float, help="writes per second (default 100)")
    parser.add_argument("--idle", type=int, help="idle watchers (default 1000)")
    parser.add_argument("--out", type=Path,
                        help=f"results JSON (default {RESULTS}; a --quick run writes none unless asked)")
    args = parser.parse_args(argv)
    quick = args.quick
    results = asyncio.run(run(
        rate=args.rate or 100,
        seconds=args.seconds or (2 if quick else 60),
        warmup=0 if quick else HISTORY + KEYS,
        idle=args.idle or (100 if quick else 1000),
        idle_seconds=1 if quick else 10,
        drain_timeout=5 if quick else 30,
    ))
    return finish(results, quick=quick, out=args.out, default_out=RESULTS, report=report, failures=failures)


if __name__ == "__main__":
    sys.exit(main())
