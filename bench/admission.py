"""ConfigMap create throughput through the admission chain: no webhooks against one mutating + one validating.

    python -m bench.admission [--quick] [--seconds N] [--out PATH]

The real server runs as a subprocess on 127.0.0.1 (SQLite file in a temp dir); the webhooks are a
small uvicorn app in another process on 127.0.0.1, over plain HTTP (the mutating one adds a label with
a JSONPatch, the validating one allows). For 8 and 32 concurrent clients, ConfigMaps are created for a
fixed time (a) in a namespace no webhook intercepts and (b) in one both webhooks intercept (a
namespaceSelector), on the same server in the same run. Reported: requests/s, p50 and p99 latency,
and the ratio (b)/(a) of the throughputs; written to bench/results/admission.json.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "admission.json"
CONCURRENCY = (8, 32)
READY_TIMEOUT = 20.0
REQUEST_TIMEOUT = 30.0
NS_PLAIN, NS_HOOKED = "bench-plain", "bench-webhooks"
LABEL = "bench.example.com/admitted"
PATCH = base64.b64encode(orjson.dumps([{"op": "add", "path": "/metadata/labels", "value": {LABEL: "yes"}}])).decode()


# --- the webhooks (run with --serve-webhooks PORT in a process of their own) ---


async def webhook_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    request = orjson.loads(body)["request"]
    response: dict[str, Any] = {"uid": request["uid"], "allowed": True}
    if scope["path"] == "/mutate":
        response.update(patchType="JSONPatch", patch=PATCH)
    answer = orjson.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response})
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": answer})


def serve_webhooks(port: int) -> None:
    import uvicorn

    uvicorn.run(webhook_app, host=HOST, port=port, log_level="warning", access_log=False, lifespan="off")


# --- processes ---


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    async with httpx.AsyncClient(timeout=1.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"{url}: process exited {process.returncode}\n{log.read_text(errors='replace')}")
            try:
                await client.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise SystemExit(f"{url}: not up within {READY_TIMEOUT}s\n{log.read_text(errors='replace')}")


# --- the measurement ---


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def creates(client: httpx.AsyncClient, namespace: str, clients: int, seconds: float, tag: str) -> dict[str, Any]:
    """`clients` loops creating ConfigMaps back to back for `seconds`; throughput and latency of the 201s."""
    latencies: list[float] = []
    errors: list[str] = []
    body = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"key": "x" * 64}}
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    started = time.perf_counter()
    deadline = started + seconds

    async def loop(worker: int) -> None:
        i = 0
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            response = await client.post(path, json={**body, "metadata": {"name": f"{tag}-{worker}-{i}"}})
            if response.status_code != 201:
                errors.append(f"{response.status_code} {response.text[:200]}")
                return
            latencies.append(time.perf_counter() - t0)
            i += 1

    await asyncio.gather(*(loop(w) for w in range(clients)))
    elapsed = time.perf_counter() - started
    if errors or not latencies:
        raise SystemExit(f"creates in {namespace} failed: {errors[:3]}")
    return {"requests": len(latencies), "seconds": round(elapsed, 3), "rps": round(len(latencies) / elapsed, 1),
            "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 2)}


def configuration(kind: str, name: str, url: str) -> dict[str, Any]:
    hook = {"name": f"{name}.bench.example.com", "clientConfig": {"url": url},
            "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"],
                       "resources": ["configmaps"]}],
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": NS_HOOKED}},
            "sideEffects": "None", "admissionReviewVersions": ["v1"], "failurePolicy": "Fail"}
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": {"name": name},
            "webhooks": [hook]}


async def setup(client: httpx.AsyncClient, webhooks: str) -> None:
    for ns in (NS_PLAIN, NS_HOOKED):
        response = await client.post("/api/v1/namespaces", json={"metadata": {"name": ns}})
        assert response.status_code == 201, response.text
    reg = "/apis/admissionregistration.k8s.io/v1"
    hooks = (("mutatingwebhookconfigurations", "MutatingWebhookConfiguration", "label", "/mutate"),
             ("validatingwebhookconfigurations", "ValidatingWebhookConfiguration", "allow", "/validate"))
    for plural, kind, name, path in hooks:
        response = await client.post(f"{reg}/{plural}", json=configuration(kind, name, webhooks + path))
        assert response.status_code == 201, response.text
    # the chain follows the stored configurations: probe with dry runs until the label shows up
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        response = await client.post(f"/api/v1/namespaces/{NS_HOOKED}/configmaps", params={"dryRun": "All"},
                                     json={"metadata": {"name": "probe"}})
        if response.status_code == 201 and LABEL in (response.json()["metadata"].get("labels") or {}):
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"the webhooks never took effect: {response.status_code} {response.text[:300]}")
        await asyncio.sleep(0.05)


async def run(seconds: float, warmup: float, workdir: Path) -> dict[str, Any]:
    server_port, webhook_port = free_port(), free_port()
    server_log, webhook_log = workdir / "server.log", workdir / "webhooks.log"
    server = start([sys.executable, "-m", "apiserver", "serve", "--host", HOST, "--port", str(server_port),
                    "--database", f"sqlite:///{workdir / 'db.sqlite'}", "--log-level", "warning"], server_log)
    webhooks = start([sys.executable, "-m", "bench.admission", "--serve-webhooks", str(webhook_port)], webhook_log)
    url, webhooks_url = f"http://{HOST}:{server_port}", f"http://{HOST}:{webhook_port}"
    try:
        await wait_until_up(f"{url}/readyz", server, server_log)
        await wait_until_up(webhooks_url, webhooks, webhook_log)
        limits = httpx.Limits(max_connections=max(CONCURRENCY), max_keepalive_connections=max(CONCURRENCY))
        async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT, limits=limits, trust_env=False) as client:
            await setup(client, webhooks_url)
            await creates(client, NS_PLAIN, 8, warmup, "warm")
            await creates(client, NS_HOOKED, 8, warmup, "warm")
            cells: dict[str, Any] = {}
            for clients in CONCURRENCY:
                plain = await creates(client, NS_PLAIN, clients, seconds, f"c{clients}")
                hooked = await creates(client, NS_HOOKED, clients, seconds, f"c{clients}")
                cells[str(clients)] = {"none": plain, "webhooks": hooked,
                                       "ratio": round(hooked["rps"] / plain["rps"], 3)}
            sample = (await client.get(f"/api/v1/namespaces/{NS_HOOKED}/configmaps/c8-0-0")).json()
            if (sample["metadata"].get("labels") or {}).get(LABEL) != "yes":
                raise SystemExit(f"the mutating webhook's label is missing: {sample}")
        if server.poll() is not None:
            raise SystemExit(f"the server exited {server.returncode}\n{server_log.read_text(errors='replace')}")
        return cells
    finally:
        stop(webhooks)
        stop(server)


def table(cells: dict[str, Any]) -> list[str]:
    lines = ["clients  webhooks              req/s    p50 ms   p99 ms"]
    for clients, cell in cells.items():
        for label, key in (("none", "none"), ("1 mutating+1 valid.", "webhooks")):
            row = cell[key]
            lines.append(f"{clients:>7}  {label:<20} {row['rps']:>7.1f} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f}")
    for clients, cell in cells.items():
        lines.append(f"ratio (b)/(a), {clients} clients: {cell['ratio']:.2f}x")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.admission", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short run (seconds), for the smoke test")
    parser.add_argument("--seconds", type=float, help="seconds per measurement (default 10, 1 with --quick)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results JSON (default %(default)s)")
    parser.add_argument("--serve-webhooks", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_webhooks is not None:
        serve_webhooks(args.serve_webhooks)
        return
    seconds = args.seconds or (1.0 if args.quick else 10.0)
    warmup = 0.3 if args.quick else 2.0
    with tempfile.TemporaryDirectory(prefix="bench-admission-") as tmp:
        cells = asyncio.run(run(seconds, warmup, Path(tmp)))
    print(f"admission: ConfigMap creates for {seconds:g}s each, (a) no webhooks, (b) 1 mutating + 1 validating "
          f"webhook (HTTP, 127.0.0.1)")
    for line in table(cells):
        print(line)
    results = {"quick": args.quick, "seconds": seconds, "cpus": os.cpu_count(), "creates": cells}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
