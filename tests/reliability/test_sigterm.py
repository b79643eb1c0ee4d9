"""SIGTERM: in-flight requests finish, watches end cleanly, nothing acknowledged is lost, a prompt exit 0.

Requests are made certainly in flight with `Expect: 100-continue`: the server answers
`100 Continue` only once the handler reads the body, so a request that got it is inside the
server when the signal arrives; its body is sent only after the server has stopped listening.
Fifty ordinary creates are fired around the signal as well. Watchers behave as informers do:
when a stream ends they re-watch at once from the last resourceVersion they saw.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.reliability.harness import CONFIGMAPS, ServerProcess, configmap, namespace, rv_of

NAMESPACE = "term"
COLLECTION = CONFIGMAPS.format(namespace=NAMESPACE)
CREATES = 50  # ordinary creates fired around the signal
ANSWERED_BEFORE_SIGNAL = 10  # of those, how many are answered before SIGTERM is sent
SLOW = 5  # requests held inside the server (after 100 Continue) across the signal
WATCHERS = 3
EXIT_TIMEOUT = 8.0  # hard limit; uvicorn's own graceful-shutdown timeout is 5 s
PROMPT_EXIT = 4.0  # "within a few seconds": nothing here should take near the 5 s graceful timeout
GRACE_EXCEEDED = "timeout graceful shutdown exceeded"  # what uvicorn logs when it cancels what is left
HTTP_TIMEOUT = httpx.Timeout(20.0)
WATCH_TIMEOUT = httpx.Timeout(20.0, read=30.0)
SETTLE_TIMEOUT = 20.0


@dataclass
class Stream:
    """One watch connection."""

    from_rv: int
    events: list[tuple[str, str, int, str | None]] = field(default_factory=list)  # (type, name, rv, token)
    headers: bool = False  # the server answered (200) and started the stream
    end: str = "open"  # clean | refused | not served | status N | garbled | cut: <error>
    error: dict[str, Any] | None = None  # an ERROR event's Status
    started: float = 0.0
    ended: float = 0.0

    @property
    def last_rv(self) -> int:
        return self.events[-1][2] if self.events else self.from_rv


@dataclass(eq=False)
class Watcher:
    """Watches, and on a clean end re-watches at once from its last resourceVersion (as informers do)."""

    index: int
    last_rv: int
    streams: list[Stream] = field(default_factory=list)

    async def run(self, url: str, *, once: bool = False) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=WATCH_TIMEOUT, verify=False) as client:
            while True:
                stream = Stream(self.last_rv)
                self.streams.append(stream)
                await self.follow(client, stream)
                stream.ended = time.monotonic()
                if once or stream.end != "clean" or stream.error is not None:
                    return

    async def follow(self, client: httpx.AsyncClient, stream: Stream) -> None:
        params = {"watch": "1", "resourceVersion": str(stream.from_rv)}
        stream.started = time.monotonic()
        try:
            async with client.stream("GET", COLLECTION, params=params) as response:
                if response.status_code != 200:
                    stream.end = f"status {response.status_code}"
                    return
                stream.headers = True
                async for line in response.aiter_lines():
                    try:
                        event = json.loads(line)
                        kind, obj = event["type"], event["object"]
                    except (ValueError, KeyError, TypeError):
                        stream.end = f"garbled: {line[:200]!r}"
                        return
                    if kind == "ERROR":
                        stream.error = obj
                        continue  # the stream should end right after it
                    rv = rv_of(obj)
                    stream.events.append((kind, obj["metadata"]["name"], rv, (obj.get("data") or {}).get("token")))
                    self.last_rv = rv
                stream.end = "clean"
        except httpx.ConnectError:
            stream.end = "refused"
        except httpx.TransportError as err:
            # Before the answer began, the server just never took the request (a connection it closed
            # while idle); after, the stream was cut off mid-way.
            stream.end = f"cut: {type(err).__name__}: {err}" if stream.headers else "not served"


@dataclass
class Create:
    name: str
    token: str
    outcome: str = "pending"  # acked | unknown
    status: int | None = None
    rv: int | None = None
    answered: float = 0.0


def check_streams(watchers: list[Watcher], creates: dict[str, Create], failures: list[str]) -> None:
    """Events in order, each one a create that committed at that rv, none missing up to where each stream got."""
    acked = sorted((c for c in creates.values() if c.rv is not None), key=lambda c: c.rv or 0)
    by_token = {c.token: c for c in creates.values()}
    for w in watchers:
        for s in w.streams:
            source = f"watcher {w.index}'s stream from {s.from_rv} (ended {s.end})"
            last = s.from_rv
            for kind, name, rv, token in s.events:
                c = by_token.get(token or "")
                if kind != "ADDED" or c is None or c.name != name:
                    failures.append(f"{source}: {kind} {name} at {rv} with token {token} is not one of the creates")
                elif c.rv is None:
                    c.rv = rv  # an unanswered create that committed
                elif c.rv != rv:
                    failures.append(f"{source}: {name} at {rv}, created at {c.rv}")
                if rv <= last:
                    failures.append(f"{source}: {name} at {rv} after {last} (repeated or out of order)")
                last = rv
            seen = {rv for _, _, rv, _ in s.events}
            for c in acked:
                if s.from_rv < (c.rv or 0) <= s.last_rv and c.rv not in seen:
                    failures.append(f"{source}: missed {c.name} created at {c.rv}; it saw up to {s.last_rv}")


async def raw_create_held(host: str, port: int, name: str, body: bytes) -> tuple[asyncio.StreamReader,
                                                                                  asyncio.StreamWriter]:
    """Send a create's headers with `Expect: 100-continue` and wait for `100 Continue`: the handler is running."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"POST {COLLECTION} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n".encode())
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), SETTLE_TIMEOUT)
    assert status.startswith(b"HTTP/1.1 100"), f"{name}: expected 100 Continue, got {status!r}"
    assert await reader.readline() == b"\r\n"
    return reader, writer


async def raw_finish(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, body: bytes) -> tuple[int, bytes]:
    """Send the body; the response's status and body."""
    try:
        writer.write(body)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), SETTLE_TIMEOUT)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        length = int({k.lower(): v for k, v in headers.items()}.get("content-length", "0"))
        content = await asyncio.wait_for(reader.readexactly(length), SETTLE_TIMEOUT)
        return status, content
    finally:
        writer.close()
        await writer.wait_closed()


async def listening(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


async def until(what: str, done: Any, timeout: float = SETTLE_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"not done within {timeout}s: {what}"
        await asyncio.sleep(0.01)


def grace_exceeded(server: ServerProcess) -> bool:
    return GRACE_EXCEEDED in server.stderr_path.read_text(errors="replace")


@pytest.mark.slow
async def test_sigterm_finishes_in_flight_requests_ends_watches_and_loses_nothing(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "store.db", tmp_path)
    creates: dict[str, Create] = {}
    failures: list[str] = []
    try:
        server.start()
        url = await server.wait_ready()
        host, port = urlsplit(url).hostname or "", urlsplit(url).port or 0
        async with httpx.AsyncClient(base_url=url, timeout=HTTP_TIMEOUT, verify=False) as client:
            assert (await client.post("/api/v1/namespaces", json=namespace(NAMESPACE))).status_code == 201

            async def create(name: str, http: httpx.AsyncClient) -> None:
                c = creates[name] = Create(name, f"token-{name}")
                try:
                    response = await http.post(COLLECTION, json=configmap(name, {"token": c.token}))
                except httpx.TransportError:
                    c.outcome = "unknown"
                    return
                c.status, c.answered = response.status_code, time.monotonic()
                if response.status_code == 201:
                    c.outcome, c.rv = "acked", rv_of(response.json())
                else:
                    c.outcome = "unknown"
                    failures.append(f"create {name}: {response.status_code} {response.text[:300]}")

            # Watchers from a list's resourceVersion, established once they see a first create.
            listed = rv_of((await client.get(COLLECTION)).json())
            watchers = [Watcher(i, listed) for i in range(WATCHERS)]
            watch_tasks = [asyncio.create_task(w.run(url)) for w in watchers]
            await create("first", client)
            first = creates["first"]
            assert first.rv is not None, first
            await until("the watchers see the first create", lambda: all(w.last_rv >= (first.rv or 0) for w in watchers))

            # Requests inside the server when the signal comes, and more fired around it.
            held = []
            for i in range(SLOW):
                name = f"held-{i}"
                creates[name] = Create(name, f"token-{name}")
                body = json.dumps(configmap(name, {"token": creates[name].token})).encode()
                held.append((name, body, await raw_create_held(host, port, name, body)))
            clients = [httpx.AsyncClient(base_url=url, timeout=HTTP_TIMEOUT, verify=False) for _ in range(10)]
            try:
                fired = [asyncio.create_task(create(f"burst-{i}", clients[i % len(clients)])) for i in range(CREATES)]
                await until("some of the burst is answered",
                            lambda: sum(c.answered > 0 for c in creates.values()) >= ANSWERED_BEFORE_SIGNAL + 1)
                signalled = server.terminate()
                deadline = time.monotonic() + EXIT_TIMEOUT
                while await listening(host, port):
                    assert time.monotonic() < deadline, "the server still accepts connections long after SIGTERM"
                    await asyncio.sleep(0.01)
                # Shutdown has begun; the held requests send their bodies only now.
                for name, body, (reader, writer) in held:
                    try:
                        status, content = await raw_finish(reader, writer, body)
                    except (OSError, asyncio.IncompleteReadError, TimeoutError) as err:
                        failures.append(f"{name}, in flight at SIGTERM, got no answer: {type(err).__name__}: {err}")
                        creates[name].outcome = "unknown"
                        continue
                    if status != 201:
                        failures.append(f"{name}, in flight at SIGTERM, was answered {status}: {content[:300]!r}")
                        creates[name].outcome = "unknown"
                        continue
                    creates[name].outcome, creates[name].rv = "acked", rv_of(json.loads(content))
                    creates[name].answered = time.monotonic()
                await asyncio.gather(*fired)
            finally:
                for http in clients:
                    await http.aclose()
            code = await server.wait_exit(EXIT_TIMEOUT)
            took = time.monotonic() - signalled
            await asyncio.wait_for(asyncio.gather(*watch_tasks), SETTLE_TIMEOUT)

        assert code is not None, f"still running {EXIT_TIMEOUT}s after SIGTERM\n{server.logs()}"
        assert code == 0, f"exit {code} after SIGTERM\n{server.logs()}"
        answered_after = sum(c.answered > signalled for c in creates.values() if c.outcome == "acked")
        assert answered_after >= SLOW, f"only {answered_after} creates were answered after SIGTERM"
        for w in watchers:
            for n, s in enumerate(w.streams):
                if s.end.startswith(("cut", "garbled")) or (s.headers and s.end != "clean"):
                    what = "open at SIGTERM" if n == 0 else f"a re-watch opened {s.started - signalled:+.3f}s after it"
                    failures.append(f"watcher {w.index}: its stream #{n} from {s.from_rv} ({what}) ended badly "
                                    f"{s.ended - signalled:.2f}s after SIGTERM: {s.end}")
                elif s.error is not None:
                    failures.append(f"watcher {w.index}: ERROR event {s.error} on the stream from {s.from_rv}")
            if w.streams[0].end != "clean":
                failures.append(f"watcher {w.index}: its first stream, open at SIGTERM, ended {w.streams[0].end}")
        if grace_exceeded(server):
            failures.append("the server hit uvicorn's graceful-shutdown timeout and cancelled what was left "
                            f"(something stayed open after SIGTERM): exit took {took:.2f}s")
        elif took > PROMPT_EXIT:
            failures.append(f"the server took {took:.2f}s to exit after SIGTERM")

        # Restart on the same database: everything acknowledged is there, as acknowledged.
        server.start()
        url = await server.wait_ready()
        async with httpx.AsyncClient(base_url=url, timeout=HTTP_TIMEOUT, verify=False) as client:
            response = await client.get(COLLECTION)
            assert response.status_code == 200, response.text
            head = rv_of(response.json())
            stored = {item["metadata"]["name"]: item for item in response.json()["items"]}
            check_streams(watchers, creates, failures)
            for name in sorted(set(stored) - set(creates)):
                failures.append(f"after the restart: {name} is stored but was never created")
            for c in creates.values():
                item = stored.get(c.name)
                if c.outcome == "acked" and item is None:
                    failures.append(f"after the restart: {c.name}, answered 201 at {c.rv}, is gone")
                elif item is not None and c.rv is not None and rv_of(item) != c.rv:
                    failures.append(f"after the restart: {c.name} is at {rv_of(item)}, created at {c.rv}")
                elif item is not None and (item.get("data") or {}).get("token") != c.token:
                    failures.append(f"after the restart: {c.name} holds {item.get('data')}")
            known = max(c.rv or 0 for c in creates.values())
            if head < known:
                failures.append(f"after the restart the store is at {head}, below {known}, which was acknowledged")

            # Watchers resume from where they got: a 410, or exactly the changes they missed.
            resumed = [Watcher(w.index, w.last_rv) for w in watchers]
            resume_tasks = [asyncio.create_task(w.run(url, once=True)) for w in resumed]
            await until("the resumed watches are open", lambda: all(w.streams and (w.streams[0].headers or
                                                                                  w.streams[0].end != "open")
                                                                    for w in resumed))
            await create("after-restart", client)
            after = creates["after-restart"]
            assert after.rv is not None and after.rv > known, f"first write after the restart: {after}, known {known}"
            await until("the resumed watchers see the new create or expire",
                        lambda: all(w.last_rv >= (after.rv or 0) or w.streams[0].error is not None
                                    or w.streams[0].end != "open" for w in resumed))
            for w in resumed:
                error = w.streams[0].error
                if error is not None and error.get("code") != 410:
                    failures.append(f"resumed watcher {w.index}: ERROR {error}")
            check_streams(resumed, creates, failures)

            # A second SIGTERM with the resumed (idle) watches still open.
            signalled = server.terminate()
            code = await server.wait_exit(EXIT_TIMEOUT)
            took = time.monotonic() - signalled
            await asyncio.wait_for(asyncio.gather(*resume_tasks), SETTLE_TIMEOUT)
        assert code == 0, f"the restarted server: exit {code} after SIGTERM\n{server.logs()}"
        for w in resumed:
            s = w.streams[0]
            if s.error is None and s.end != "clean":
                failures.append(f"resumed watcher {w.index}: its stream ended {s.end} at the second SIGTERM")
        if grace_exceeded(server) or took > PROMPT_EXIT:
            failures.append(f"the restarted server took {took:.2f}s to exit after SIGTERM with idle watches open")
        if server.tracebacks():
            failures.append(f"tracebacks in the server's logs: {server.tracebacks()}")
    finally:
        server.kill()
    assert not failures, "\n".join(failures) + f"\n{server.logs(40)}"
