"""The suite's load generator: raw asyncio streams writing HTTP/1.1 on keep-alive connections.

    python -m bench.suite_client '<json spec>'

Run as its own process by `bench.suite`, so its CPU is not the server's. Two modes:
- "load": `concurrency` clients, each on one keep-alive connection, send requests back to back for
  `seconds` (after `warmup` seconds not counted); prints req/s, p50/p99 and the client's own CPU per request.
- "watch": opens `n` watches, prints "ready", timestamps every event's resourceVersion as it arrives,
  then reads the writer's acknowledgements (JSON on stdin) and prints delivery figures.
Every loop is bounded by a deadline; the process exits on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import resource
import select
import sys
import time
from array import array
from typing import Any

HOST = "127.0.0.1"
RV = re.compile(rb'"resourceVersion":"(\d+)"')
RV_KEY = b'"resourceVersion":"'


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def request_bytes(method: str, path: str, body: bytes | None = None) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nAccept: application/json\r\n"
    if body is None:
        return (head + "\r\n").encode()
    head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


class Conn:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Conn:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port, limit=1 << 20), 10)
        return cls(reader, writer)

    async def head(self) -> tuple[int, bytes]:
        head = await self.reader.readuntil(b"\r\n\r\n")
        return int(head[9:12]), head.lower()

    async def request(self, data: bytes) -> tuple[int, bytes]:
        self.writer.write(data)
        status, head = await self.head()
        i = head.find(b"content-length:")
        if i >= 0:
            return status, await self.reader.readexactly(int(head[i + 15:head.index(b"\r\n", i)]))
        if b"chunked" in head:
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    return status, b"".join(parts)
                parts.append((await self.reader.readexactly(size + 2))[:-2])
        raise RuntimeError(f"response without a length: {head[:200]!r}")

    def close(self) -> None:
        self.writer.close()


# ---- load ------------------------------------------------------------------------------------


async def load(spec: dict[str, Any]) -> dict[str, Any]:
    port, method, concurrency = spec["port"], spec["method"], spec["concurrency"]
    paths: list[str] = spec["paths"]  # GET: chosen at random; POST: the collection
    body_template: str | None = spec.get("body")  # "{name}" is replaced by a unique name
    prefix = spec.get("prefix", "n")
    warmup, seconds = spec.get("warmup", 0.3), spec["seconds"]
    max_requests = spec.get("max_requests", 10_000_000)
    conns = await asyncio.gather(*(Conn.open(port) for _ in range(concurrency)))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    sent = ok_total = 0
    t_start = time.perf_counter()
    t_measure = t_start + warmup
    t_end = t_measure + seconds
    cpu_measure: list[float] = []

    async def client(c: int, conn: Conn) -> None:
        nonlocal sent, ok_total
        rng = random.Random(c)
        while sent < max_requests:
            t0 = time.perf_counter()
            if t0 >= t_end:
                return
            if body_template is None:
                data = request_bytes(method, rng.choice(paths))
            else:
                body = body_template.replace("{name}", f"{prefix}-{sent}").encode()  # prefix-0 .. prefix-(n-1)
                data = request_bytes(method, paths[0], body)
            sent += 1
            status, _ = await conn.request(data)
            t1 = time.perf_counter()
            if 200 <= status < 300:
                ok_total += 1
            if t0 >= t_measure:
                latencies.append(t1 - t0)
                statuses[status] = statuses.get(status, 0) + 1

    async def mark_cpu() -> None:
        await asyncio.sleep(max(0.0, t_measure - time.perf_counter()))
        cpu_measure.append(time.process_time())

    marker = asyncio.create_task(mark_cpu())
    await asyncio.gather(*(client(c, conn) for c, conn in enumerate(conns)))
    elapsed = min(time.perf_counter(), t_end) - t_measure
    cpu = time.process_time() - (cpu_measure[0] if cpu_measure else 0.0)
    marker.cancel()
    for conn in conns:
        conn.close()
    n = len(latencies)
    return {
        "requests": n, "seconds": elapsed, "rps": n / elapsed if elapsed > 0 else 0.0,
        "p50_ms": 1000 * (percentile(latencies, 0.5) or 0.0), "p99_ms": 1000 * (percentile(latencies, 0.99) or 0.0),
        "statuses": {str(k): v for k, v in statuses.items()}, "ok_total": ok_total,
        "client_cpu_us_per_request": 1e6 * cpu / n if n else None,
    }


# ---- watch -----------------------------------------------------------------------------------


class Watch(asyncio.Protocol):
    """One watch connection, parsed in data_received: no stream reader or task switch per read.

    Each read is timestamped as its bytes arrive; every event's resourceVersion in it gets that time.
    The server sends whole lines per chunk, but a read may end mid-line: the complete lines are
    parsed, the rest waits for the next read.
    """

    def __init__(self) -> None:
        self.rvs = array("q")
        self.times = array("d")  # time.monotonic() (system-wide on Linux) at arrival
        self.ended = False  # the server closed the watch
        self.closing = False  # we did
        self.transport: asyncio.Transport | None = None
        self.head = b""
        self.started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.carry = b""

    async def open(self, port: int, path: str) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.wait_for(loop.create_connection(lambda: self, HOST, port), 10)
        assert self.transport is not None
        self.transport.write(request_bytes("GET", path))
        status = await asyncio.wait_for(self.started, 30)
        if status != 200:
            raise RuntimeError(f"watch refused: {status}")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's transports don't subclass asyncio's

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        if not self.started.done():
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            data = self.head[end + 4:]
            self.started.set_result(int(self.head[9:12]))
        buf = self.carry + data if self.carry else data
        cut = buf.rfind(b"\n") + 1
        self.carry = buf[cut:]
        found = buf[:cut].split(RV_KEY)  # C-speed search; int() fails loudly on anything but digits
        if len(found) > 1:
            self.rvs.extend([int(p[:p.find(b'"')]) for p in found[1:]])
            self.times.extend([now] * (len(found) - 1))

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = not self.closing
        if not self.started.done():
            self.started.set_exception(ConnectionError("watch connection closed before its response"))

    def close(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.close()


async def watch(spec: dict[str, Any]) -> dict[str, Any]:
    port, path, n = spec["port"], spec["path"], spec["n"]
    deadline = time.monotonic() + spec.get("max_seconds", 300)
    watches = [Watch() for _ in range(n)]
    gate = asyncio.Semaphore(50)

    async def opened(w: Watch) -> None:
        async with gate:
            await w.open(port, path)

    await asyncio.gather(*(opened(w) for w in watches))
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    line = await asyncio.wait_for(loop.run_in_executor(None, sys.stdin.readline), deadline - time.monotonic())
    acks_msg = json.loads(line)
    phases: dict[str, dict[int, float]] = {k: {int(rv): t for rv, t in v} for k, v in acks_msg["phases"].items()}
    wanted = set().union(*(set(p) for p in phases.values())) if phases else set()
    drain_end = min(deadline, time.monotonic() + acks_msg.get("drain", 5.0))
    while time.monotonic() < drain_end:  # until every watcher has every acknowledged event, or the drain ends
        if all(w.ended or (len(w.rvs) >= len(wanted) and wanted <= set(w.rvs)) for w in watches):
            break
        await asyncio.sleep(0.1)
    for w in watches:
        w.close()
    out: dict[str, Any] = {"watchers": n, "ended_early": sum(w.ended for w in watches), "phases": {}}
    rng = random.Random(0)
    for name, acks in phases.items():
        lat: list[float] = []
        delivered = missed = 0
        first, last = float("inf"), float("-inf")
        for w in watches:
            seen = set()
            for rv, t in zip(w.rvs, w.times, strict=True):
                ack = acks.get(rv)
                if ack is None or rv in seen:
                    continue
                seen.add(rv)
                delivered += 1
                lat.append(t - ack)
                last = max(last, t)
            missed += len(acks) - len(seen)
        if acks:
            first = min(acks.values())
        sample = lat if len(lat) <= 100_000 else rng.sample(lat, 100_000)
        out["phases"][name] = {"delivered": delivered, "missed": missed, "expected": len(acks) * n,
                               "span_s": (last - first) if delivered else None, "latencies_s": sample}
    return out


def main() -> None:
    run: Any = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop

        run = uvloop.run
    spec = json.loads(sys.argv[1])
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    result = run(load(spec) if spec["mode"] == "load" else watch(spec))
    write_all(sys.stdout.fileno(), (json.dumps(result) + "\n").encode())


def write_all(fd: int, data: bytes) -> None:
    """All of `data` to `fd`, even where the event loop left the pipe non-blocking: a watch client's result
    (100k latencies) is far more than a pipe holds, and print's buffered write lost the rest in a CI run."""
    os.set_blocking(fd, True)
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            select.select([], [fd], [])


if __name__ == "__main__":
    main()
