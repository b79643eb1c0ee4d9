"""Crash safety: the real server is SIGKILLed at random moments under load and restarted on its database.

Each cycle starts the server, resumes the watchers, drives concurrent ConfigMap writes (creates,
updates with and without a resourceVersion precondition, merge patches, deletes with and without
preconditions, compare-and-swap increments of shared counters), kills the server with SIGKILL
at a random moment (compaction runs every 0.2 s, so kills land during it too) and then checks,
on the restarted server, everything the clients were told:

- every write answered 2xx is there with the resourceVersion it was given, unless a later write
  to the same key replaced it; a write whose answer was lost in the crash either took effect or
  didn't, nothing else; a write answered 4xx never shows up anywhere;
- a resourceVersion always names one write: none is reused and none goes backwards (a write
  sent after another was answered, or after a watcher saw it, gets a higher one; the first
  after a restart is above everything that was committed before);
- each watch stream delivers every change after the resourceVersion it started from exactly
  once, in order, with no gap (or a 410 `Expired`, after which a re-list covers the state);
  watchers resume from their last resourceVersion after each restart.

Keys are owned by one load task each, so the acknowledged history of a key is a sequence and
the expected state is exact; the shared counters are written by every task with preconditions
only, so lost updates show up as a counter that lags the acknowledged increments.

Set RELIABILITY_SEED to replay a run's random choices (the timing of a crash never replays exactly).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import math
import os
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.reliability.harness import CONFIGMAPS, ServerProcess, configmap, namespace, rv_of

NAMESPACE = "crash"
COLLECTION = CONFIGMAPS.format(namespace=NAMESPACE)
CYCLES = 20  # SIGKILLs (the issue asks for at least 20)
TASKS = 12  # concurrent writers
OWNED_KEYS = 4  # keys per writer
SHARED_KEYS = 3  # counters every writer increments with compare-and-swap
WATCHERS = 3
KILL_AFTER = (0.05, 1.2)  # seconds of load before the SIGKILL, uniformly random
FINAL_LOAD = 0.5  # seconds of load on the last start, which is stopped with SIGTERM instead
RECONNECT_AFTER = (20, 300)  # a watcher drops its stream after this many events and resumes
# Compaction every 0.2 s keeping 0.5 s of history: several runs per cycle, so kills hit it too.
SERVER_ENV = {"MINI_APISERVER_COMPACT_WINDOW": "0.5", "MINI_APISERVER_COMPACT_INTERVAL": "0.2"}
HTTP_TIMEOUT = httpx.Timeout(20.0)  # one request on a busy CI runner
WATCH_TIMEOUT = httpx.Timeout(20.0, read=60.0)  # a quiet watch is not a dead one
SETTLE_TIMEOUT = 20.0  # seconds for watchers to resume, or to catch up at the end
STOP_TIMEOUT = 10.0  # seconds the server may take to exit after SIGTERM (no watches open then)
MAX_REPORTED = 25  # failures listed in the assertion message


class ServerGone(Exception):
    """A request failed without an answer: the server died (or is dying). The task stops."""


# ---- what the clients were told -----------------------------------------------------------------


@dataclass(eq=False)
class Op:
    """One write as the client sent it and what it learned of its fate."""

    seq: int
    key: str
    kind: str  # create | update | delete
    token: str | None  # unique, written into data.token by a create or update; None for a delete
    cycle: int
    sent: float
    floor: int  # the highest resourceVersion known committed when it was sent: its own must be higher
    base_rv: int | None  # the resourceVersion of the state it replaces (known for owned keys and CAS)
    base_token: str | None
    precondition: bool = False
    expect_conflict: bool = False  # a deliberately stale precondition: must be 409 and change nothing
    counter: int | None = None  # the shared counter value it writes
    outcome: str = "pending"  # acked | rejected | unknown | void (unanswered, and found not applied)
    status: int | None = None
    done: float = math.inf
    rv: int | None = None  # the revision it committed at, once known (answer, watch event or read)
    committed: bool = False

    def __str__(self) -> str:
        pre = " with stale precondition" if self.expect_conflict else " with precondition" if self.precondition else ""
        return (f"#{self.seq} {self.kind} {self.key}{pre} (cycle {self.cycle}, token {self.token}, "
                f"base rv {self.base_rv}, outcome {self.outcome}/{self.status}, rv {self.rv})")


@dataclass
class State:
    rv: int
    token: str
    uid: str


@dataclass(eq=False)
class OwnedKey:
    """A key only one task writes: its acknowledged history is a sequence."""

    name: str
    state: State | None = None  # None: absent
    pending: Op | None = None  # a write whose answer never came (at most one: the owner then stops)


@dataclass(eq=False)
class SharedKey:
    """A counter every task increments with a resourceVersion precondition."""

    name: str
    state: State  # the newest state known committed
    base_counter: int = 0  # the counter as read after the last restart
    acked: int = 0  # increments acknowledged since then
    pending: list[Op] = field(default_factory=list)


class History:
    """Every write, every revision seen, every failure; the checks that need the whole picture."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.ops: list[Op] = []
        self.by_token: dict[str, Op] = {}
        self.deletes: dict[tuple[str, str | None], list[Op]] = {}  # (key, token of the value deleted) -> deletes
        self.revisions: dict[int, tuple[str, str, str | None]] = {}  # rv -> (PUT | DELETE, key, token)
        self.max_known = 0  # highest revision known committed
        self.restart_head: dict[int, int] = {}  # cycle -> the store's revision right after the restart
        self.failures: list[str] = []
        self.tokens = 0

    def fail(self, message: str) -> None:
        self.failures.append(message)

    def new_token(self, cycle: int) -> str:
        self.tokens += 1
        return f"c{cycle}-{self.tokens}"

    def send(self, key: str, kind: str, cycle: int, *, token: str | None = None, base: State | None = None,
             precondition: bool = False, expect_conflict: bool = False, counter: int | None = None) -> Op:
        op = Op(len(self.ops), key, kind, token, cycle, time.monotonic(), self.max_known,
                base.rv if base else None, base.token if base else None, precondition, expect_conflict, counter)
        self.ops.append(op)
        if token is not None:
            self.by_token[token] = op
        if kind == "delete":
            self.deletes.setdefault((key, op.base_token), []).append(op)
        return op

    # -- outcomes --

    def ack(self, op: Op, response: httpx.Response) -> dict[str, Any]:
        op.outcome, op.status, op.done, op.committed = "acked", response.status_code, time.monotonic(), True
        body: dict[str, Any] = response.json()
        if op.kind == "delete":
            if body.get("kind") != "Status" or body.get("status") != "Success":
                self.fail(f"{op}: a delete answered {response.status_code} with {body}")
            return body
        rv = rv_of(body)
        token = (body.get("data") or {}).get("token")
        if token != op.token:
            self.fail(f"{op}: answered with data.token {token}")
        if op.rv is not None and op.rv != rv:
            self.fail(f"{op}: answered with resourceVersion {rv}, but a watcher or read saw it at {op.rv}")
        op.rv = rv
        if rv <= op.floor:
            self.fail(f"{op}: got resourceVersion {rv}, not above {op.floor}, which was known committed "
                      "before it was sent (a resourceVersion went backwards)")
        head = self.restart_head.get(op.cycle)
        if head is not None and rv <= head:
            self.fail(f"{op}: got resourceVersion {rv} after a restart whose store was already at {head} "
                      "(a resourceVersion was reused)")
        self.claim(rv, ("PUT", op.key, op.token), f"the answer to {op}")
        return body

    def reject(self, op: Op, status: int | None) -> None:
        op.outcome, op.status, op.done = "rejected", status, time.monotonic()
        if op.committed:
            self.fail(f"{op}: answered {status}, but it was seen committed at {op.rv}")

    def unknown(self, op: Op, status: int | None = None) -> None:
        op.outcome, op.status, op.done = "unknown", status, time.monotonic()

    # -- what reads and watches saw --

    def claim(self, rv: int, what: tuple[str, str, str | None], source: str) -> None:
        seen = self.revisions.setdefault(rv, what)
        if seen != what:
            self.fail(f"resourceVersion {rv} names two writes: {seen} and, from {source}, {what}")
        self.max_known = max(self.max_known, rv)

    def observe(self, key: str, rv: int, token: str | None, source: str) -> None:
        """`key` held the value written by the write with `token` at revision `rv`."""
        op = self.by_token.get(token or "")
        if op is None or op.key != key or op.kind == "delete":
            self.fail(f"{source}: {key} at {rv} holds token {token}, which no write to {key} carried")
            return
        if op.outcome in ("rejected", "void"):
            self.fail(f"{source}: {key} at {rv} holds the write {op}, which was refused or found not applied")
        if op.rv is None:
            op.rv = rv
        elif op.rv != rv:
            self.fail(f"{source}: {key} holds the write {op} at {rv}, which was answered or seen at {op.rv}")
        op.committed = True
        self.claim(rv, ("PUT", key, token), source)

    def observe_delete(self, key: str, rv: int, last_token: str | None, source: str) -> None:
        """`key` was deleted at `rv`, its last value being the one written with `last_token`."""
        self.claim(rv, ("DELETE", key, last_token), source)
        candidates = [op for op in self.deletes.get((key, last_token), [])
                      if op.outcome not in ("rejected", "void")]
        if len(candidates) != 1:
            self.fail(f"{source}: {key} deleted at {rv} (last token {last_token}), matching deletes: "
                      f"{[str(c) for c in candidates]}")
            return
        [op] = candidates
        if op.rv is not None and op.rv != rv:
            self.fail(f"{source}: {op} seen deleting at {rv} and at {op.rv}")
        op.rv, op.committed = rv, True

    def check_list(self, rv: int, items: list[dict[str, Any]], floor: int, source: str) -> dict[str, State]:
        if rv < floor:
            self.fail(f"{source}: list at resourceVersion {rv}, below {floor}, known committed before it was sent")
        listed: dict[str, State] = {}
        for item in items:
            meta = item["metadata"]
            item_rv, token = int(meta["resourceVersion"]), (item.get("data") or {}).get("token")
            if item_rv > rv:
                self.fail(f"{source}: {meta['name']} at {item_rv} in a list at {rv}")
            self.observe(meta["name"], item_rv, token, source)
            listed[meta["name"]] = State(item_rv, token or "", meta.get("uid", ""))
        return listed


# ---- the model of what must be stored ----------------------------------------------------------


class Model:
    def __init__(self, history: History) -> None:
        self.h = history
        self.owned = [[OwnedKey(f"t{t}-k{k}") for k in range(OWNED_KEYS)] for t in range(TASKS)]
        self.marker = OwnedKey("marker")  # written by the test itself, once per start
        self.shared: list[SharedKey] = []

    def all_owned(self) -> Iterable[OwnedKey]:
        for keys in self.owned:
            yield from keys
        yield self.marker

    def names(self) -> list[str]:
        return [k.name for k in self.all_owned()] + [s.name for s in self.shared]

    def expected(self) -> dict[str, State]:
        """What a quiet store holds (no write in flight, none unresolved)."""
        present = {k.name: k.state for k in self.all_owned() if k.state is not None}
        present.update({s.name: s.state for s in self.shared})
        return present

    def compare(self, got: dict[str, State], source: str) -> None:
        want = self.expected()
        for name in sorted(set(want) | set(got)):
            w, g = want.get(name), got.get(name)
            if w is None or g is None or (w.rv, w.token, w.uid) != (g.rv, g.token, g.uid):
                self.h.fail(f"{source}: {name} is {g}, expected {w}")

    def resolve_owned(self, key: OwnedKey, got: State | None, source: str) -> None:
        """After a restart: the key holds its last acknowledged state, or that of the unanswered write."""
        op, before = key.pending, key.state
        if op is not None and op.outcome == "rejected":  # never reached the server
            op = None
        unchanged = (got is None and before is None) or (
            got is not None and before is not None and (got.rv, got.token, got.uid) == (before.rv, before.token, before.uid))
        if op is None:
            if not unchanged:
                self.h.fail(f"{source}: {key.name} is {got}, but its last acknowledged state is {before}")
        else:
            if op.kind == "delete":
                applied = got is None and before is not None
            elif got is not None and got.token == op.token:
                applied = got.rv > max(op.floor, before.rv if before else 0) and (
                    op.kind == "create" or (before is not None and got.uid == before.uid))
            else:
                applied = False
            if op.expect_conflict and applied:
                self.h.fail(f"{source}: {op}, a write that must fail its precondition, took effect: {got}")
            if op.committed and not applied:
                self.h.fail(f"{source}: {op} was seen committed, but after the restart {key.name} is {got}")
            if not (applied or unchanged):
                self.h.fail(f"{source}: {key.name} is {got}; expected its last acknowledged state {before} "
                            f"or the result of the unanswered {op}")
            if applied:
                op.committed = True
            else:
                op.outcome = "void"
        key.state, key.pending = got, None

    def resolve_shared(self, key: SharedKey, got: State | None, counter: int | None, source: str) -> None:
        known = key.state
        key.pending = [op for op in key.pending if op.outcome != "rejected"]  # those never reached the server
        if got is None or counter is None:
            self.h.fail(f"{source}: the shared counter {key.name} is gone")
            return
        if got.rv < known.rv:
            self.h.fail(f"{source}: {key.name} is at {got.rv}, older than {known.rv}, acknowledged or seen before")
        elif got.rv == known.rv and got.token != known.token:
            self.h.fail(f"{source}: {key.name} at {got.rv} holds {got.token}, expected {known.token}")
        elif got.rv > known.rv and got.token not in {op.token for op in key.pending}:
            self.h.fail(f"{source}: {key.name} is at {got.rv} with {got.token}, newer than anything acknowledged, "
                        "and not one of the unanswered writes")
        low = key.base_counter + key.acked
        high = low + len(key.pending)
        if not low <= counter <= high:
            self.h.fail(f"{source}: counter {key.name} is {counter}; {key.acked} increments were acknowledged "
                        f"after it was {key.base_counter} and {len(key.pending)} were unanswered (lost update)")
        writer = self.h.by_token.get(got.token)
        if writer is not None and writer.counter != counter:
            self.h.fail(f"{source}: {key.name} holds counter {counter} from {writer}, which wrote {writer.counter}")
        key.state, key.base_counter, key.acked, key.pending = got, counter, 0, []


def data(token: str, rng: random.Random) -> dict[str, str]:
    return {"token": token, "pad": "x" * rng.choice([0, 0, 64, 1024, 4096])}


def state_of(body: dict[str, Any]) -> State:
    meta = body["metadata"]
    return State(int(meta["resourceVersion"]), (body.get("data") or {}).get("token", ""), meta.get("uid", ""))


# ---- load ------------------------------------------------------------------------------------


class Writer:
    """One load task: random writes to its own keys and increments of the shared counters."""

    def __init__(self, h: History, model: Model, client: httpx.AsyncClient, cycle: int, rng: random.Random,
                 keys: list[OwnedKey], stop: asyncio.Event) -> None:
        self.h, self.model, self.client, self.cycle, self.rng, self.keys, self.stop = (
            h, model, client, cycle, rng, keys, stop)

    async def run(self) -> None:
        try:
            while not self.stop.is_set():
                if self.rng.random() < 0.2:
                    await self.increment(self.rng.choice(self.model.shared))
                else:
                    await self.write(self.rng.choice(self.keys))
        except ServerGone:
            pass

    async def send(self, op: Op, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self.client.request(method, url, **kwargs)
        except httpx.ConnectError:  # never reached the server
            self.h.reject(op, None)
            raise ServerGone() from None
        except httpx.TransportError:
            self.h.unknown(op)
            raise ServerGone() from None
        if response.status_code >= 500:  # may or may not have been applied
            self.h.unknown(op, response.status_code)
            if response.status_code == 500:
                self.h.fail(f"{op}: 500 {response.text}")
            raise ServerGone()
        return response

    async def write(self, key: OwnedKey) -> None:
        url = f"{COLLECTION}/{key.name}"
        before = key.state
        if before is None:
            op = self.h.send(key.name, "create", self.cycle, token=self.h.new_token(self.cycle))
            assert op.token
            key.pending = op
            response = await self.send(op, "POST", COLLECTION, json=configmap(key.name, data(op.token, self.rng)))
            self.finish(key, op, response, 201)
            return
        roll = self.rng.random()
        if roll < 0.50:
            precondition = roll < 0.30
            stale = roll >= 0.45
            op = self.h.send(key.name, "update", self.cycle, token=self.h.new_token(self.cycle), base=before,
                             precondition=precondition or stale, expect_conflict=stale)
            assert op.token
            rv = before.rv - 1 if stale else before.rv if precondition else None
            key.pending = op
            response = await self.send(op, "PUT", url, json=configmap(key.name, data(op.token, self.rng),
                                                                      resource_version=rv))
        elif roll < 0.62:
            op = self.h.send(key.name, "update", self.cycle, token=self.h.new_token(self.cycle), base=before)
            key.pending = op
            response = await self.send(op, "PATCH", url, content=json.dumps({"data": {"token": op.token}}),
                                       headers={"content-type": "application/merge-patch+json"})
        else:
            precondition = roll >= 0.80
            stale = roll >= 0.93
            op = self.h.send(key.name, "delete", self.cycle, base=before, precondition=precondition,
                             expect_conflict=stale)
            options: dict[str, Any] = {"apiVersion": "v1", "kind": "DeleteOptions"}
            if precondition:
                options["preconditions"] = {"resourceVersion": str(before.rv - 1 if stale else before.rv)}
            key.pending = op
            response = await self.send(op, "DELETE", url, json=options)
        self.finish(key, op, response, 200)

    def finish(self, key: OwnedKey, op: Op, response: httpx.Response, success: int) -> None:
        key.pending = None
        if op.expect_conflict:
            if response.status_code != 409:
                self.h.fail(f"{op}: answered {response.status_code} instead of 409: {response.text[:300]}")
            if 200 <= response.status_code < 300:
                self.h.ack(op, response)
                key.state = None if op.kind == "delete" else state_of(response.json())
            else:
                self.h.reject(op, response.status_code)
            return
        if response.status_code != success:
            self.h.fail(f"{op}: answered {response.status_code}, expected {success}: {response.text[:300]}")
            self.h.unknown(op, response.status_code)
            key.pending = op
            raise ServerGone()  # the model of this key is in doubt: stop writing it
        body = self.h.ack(op, response)
        if op.kind == "delete":
            key.state = None
            return
        new = state_of(body)
        if key.state is not None and new.uid != key.state.uid:
            self.h.fail(f"{op}: the update changed the uid from {key.state.uid} to {new.uid}")
        key.state = new

    async def increment(self, key: SharedKey) -> None:
        url = f"{COLLECTION}/{key.name}"
        try:
            read = await self.client.get(url)
        except httpx.TransportError:
            raise ServerGone() from None
        if read.status_code != 200:
            if read.status_code < 500:
                self.h.fail(f"GET {key.name}: {read.status_code} {read.text[:300]}")
            raise ServerGone()
        body = read.json()
        current = state_of(body)
        counter = int(body["data"]["counter"])
        self.h.observe(key.name, current.rv, current.token, f"GET {key.name}")
        writer = self.h.by_token.get(current.token)
        if writer is not None and writer.counter != counter:
            self.h.fail(f"GET {key.name}: counter {counter} from {writer}, which wrote {writer.counter}")
        if current.rv > key.state.rv:
            key.state = current
        op = self.h.send(key.name, "update", self.cycle, token=self.h.new_token(self.cycle), base=current,
                         precondition=True, counter=counter + 1)
        assert op.token
        key.pending.append(op)
        response = await self.send(op, "PUT", url, json=configmap(
            key.name, {"token": op.token, "counter": str(counter + 1)}, resource_version=current.rv))
        key.pending.remove(op)
        if response.status_code == 409:
            self.h.reject(op, 409)
        elif response.status_code == 200:
            new = state_of(self.h.ack(op, response))
            key.acked += 1
            if new.rv > key.state.rv:
                key.state = new
        else:
            self.h.fail(f"{op}: answered {response.status_code}: {response.text[:300]}")
            self.h.unknown(op, response.status_code)
            key.pending.append(op)
            raise ServerGone()


# ---- watchers ---------------------------------------------------------------------------------


@dataclass
class Segment:
    """One watch connection: the revision it started from and every event it delivered."""

    watcher: int
    cycle: int
    from_rv: int
    events: list[tuple[str, str, int, str | None]] = field(default_factory=list)  # (type, name, rv, token)
    end: str = "open"  # client | server | expired | transport: ... | error: ...
    resumed: bool = False  # started from where an earlier stream stopped (not from a list)

    @property
    def last_rv(self) -> int:
        return self.events[-1][2] if self.events else self.from_rv


@dataclass(eq=False)
class Watcher:
    index: int
    rng: random.Random
    last_rv: int | None = None  # None: list first
    segments: list[Segment] = field(default_factory=list)
    relists: int = 0

    async def run(self, h: History, model: Model, client: httpx.AsyncClient, cycle: int,
                  quiet: Callable[[], bool]) -> None:
        """Watch until the server goes away, resuming after every end and re-listing after a 410."""
        try:
            while True:
                resumed = self.last_rv is not None
                if self.last_rv is None:
                    await self.relist(h, model, client, cycle, quiet())
                assert self.last_rv is not None
                segment = Segment(self.index, cycle, self.last_rv, resumed=resumed)
                self.segments.append(segment)
                await self.follow(h, client, segment)
                if segment.end.startswith(("transport", "error")):
                    return
                if segment.end == "expired":
                    self.last_rv = None
        except httpx.TransportError:  # the server went away during a re-list
            return

    async def relist(self, h: History, model: Model, client: httpx.AsyncClient, cycle: int, quiet: bool) -> None:
        floor = h.max_known
        response = await client.get(COLLECTION)
        if response.status_code != 200:
            h.fail(f"watcher {self.index}: re-list answered {response.status_code}: {response.text[:300]}")
            raise httpx.TransportError("re-list failed")
        body = response.json()
        rv = rv_of(body)
        source = f"watcher {self.index}'s re-list at {rv} (cycle {cycle})"
        listed = h.check_list(rv, body["items"], floor, source)
        if quiet:  # nothing is being written: the list is exactly the model
            model.compare(listed, source)
        self.relists += 1
        self.last_rv = rv

    async def follow(self, h: History, client: httpx.AsyncClient, segment: Segment) -> None:
        params = {"watch": "1", "resourceVersion": str(segment.from_rv), "allowWatchBookmarks": "true"}
        reconnect_after = self.rng.randint(*RECONNECT_AFTER)
        source = f"watcher {self.index} (cycle {segment.cycle}, from {segment.from_rv})"
        try:
            async with client.stream("GET", COLLECTION, params=params) as response:
                if response.status_code != 200:
                    await response.aread()
                    h.fail(f"{source}: watch answered {response.status_code}: {response.text[:300]}")
                    segment.end = f"error: {response.status_code}"
                    return
                async for line in response.aiter_lines():
                    if not self.on_line(h, segment, line, source):
                        return
                    if len(segment.events) >= reconnect_after:
                        segment.end = "client"
                        return
                segment.end = "server"
        except httpx.TransportError as err:
            segment.end = f"transport: {type(err).__name__}"

    def on_line(self, h: History, segment: Segment, line: str, source: str) -> bool:
        try:
            event = json.loads(line)
            kind, obj = event["type"], event["object"]
        except (ValueError, KeyError, TypeError):
            h.fail(f"{source}: a garbled watch line: {line[:300]!r}")
            segment.end = "error: garbled"
            return False
        if kind == "ERROR":
            if obj.get("code") == 410:
                segment.end = "expired"
            else:
                h.fail(f"{source}: ERROR event {obj}")
                segment.end = f"error: {obj.get('code')}"
            return False
        rv = rv_of(obj)
        if kind == "BOOKMARK":
            if rv < segment.last_rv:
                h.fail(f"{source}: bookmark at {rv} after an event at {segment.last_rv}")
            return True
        if rv <= segment.last_rv:
            h.fail(f"{source}: {kind} at {rv} after {segment.last_rv} (repeated or out of order)")
        name, token = obj["metadata"]["name"], (obj.get("data") or {}).get("token")
        segment.events.append((kind, name, rv, token))
        if kind == "DELETED":
            h.observe_delete(name, rv, token, source)
        else:
            h.observe(name, rv, token, source)
        self.last_rv = max(self.last_rv or 0, rv)
        return True


def check_streams(h: History, watchers: list[Watcher]) -> None:
    """Every stream delivered every committed change after its start, up to where it got, exactly once."""
    puts = sorted((op for op in h.ops if op.kind != "delete" and op.committed and op.rv is not None),
                  key=lambda op: op.rv or 0)
    put_rvs = [op.rv or 0 for op in puts]
    by_sent = sorted(puts, key=lambda op: op.sent)
    sent_times = [op.sent for op in by_sent]
    suffix_min = [math.inf] * (len(by_sent) + 1)
    for i in range(len(by_sent) - 1, -1, -1):
        suffix_min[i] = min(suffix_min[i + 1], by_sent[i].rv or 0)
    deletes = [op for op in h.ops if op.kind == "delete" and op.outcome not in ("rejected", "void")]

    def bounds(op: Op) -> tuple[float, float]:
        """The open interval a delete's revision lies in: after its base and whatever was known when it was
        sent; before every write sent after it was answered."""
        if op.rv is not None:
            return op.rv - 1, op.rv + 1
        upper = suffix_min[bisect.bisect_right(sent_times, op.done)] if op.outcome == "acked" else math.inf
        return max(op.floor, op.base_rv or 0), upper

    delete_bounds = [(op, *bounds(op)) for op in deletes]
    for w in watchers:
        for seg in w.segments:
            source = f"watcher {w.index}'s stream from {seg.from_rv} (cycle {seg.cycle}, ended {seg.end})"
            seen = {rv: (kind, name, token) for kind, name, rv, token in seg.events}
            last = seg.last_rv
            for op in puts[bisect.bisect_right(put_rvs, seg.from_rv):bisect.bisect_right(put_rvs, last)]:
                kind = "ADDED" if op.kind == "create" else "MODIFIED"
                got = seen.get(op.rv or 0)
                if got != (kind, op.key, op.token):
                    h.fail(f"{source}: at {op.rv} expected {kind} {op.key} ({op}), got {got}; it saw up to {last}")
            for op, low, high in delete_bounds:
                if op.rv is not None and seg.from_rv < op.rv <= last:
                    if seen.get(op.rv) != ("DELETED", op.key, op.base_token):
                        h.fail(f"{source}: missed {op}, deleted at {op.rv}; it saw up to {last}")
                elif op.rv is None and op.outcome == "acked" and low >= seg.from_rv and high <= last:
                    h.fail(f"{source}: missed {op}, acknowledged and deleted between {low} and {high}, "
                           f"and it saw up to {last}")
            for kind, name, rv, token in seg.events:
                writer = h.by_token.get(token or "")
                if kind == "ADDED" and (writer is None or writer.kind != "create"):
                    h.fail(f"{source}: ADDED {name} at {rv} for {writer}")
                if kind == "MODIFIED" and (writer is None or writer.kind != "update"):
                    h.fail(f"{source}: MODIFIED {name} at {rv} for {writer}")


# ---- the test ---------------------------------------------------------------------------------


class Run:
    def __init__(self, seed: int, server: ServerProcess) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.server = server
        self.h = History(seed)
        self.model = Model(self.h)
        self.watchers = [Watcher(i, random.Random(self.rng.random())) for i in range(WATCHERS)]
        self.quiet = True
        self.stats = {"acked": 0, "unknown": 0, "kills": 0}

    def check(self, where: str) -> None:
        if self.h.failures:
            shown = "\n".join(self.h.failures[:MAX_REPORTED])
            more = len(self.h.failures) - MAX_REPORTED
            raise AssertionError(f"seed={self.seed} (RELIABILITY_SEED to replay), {where}: "
                                 f"{len(self.h.failures)} failure(s)\n{shown}"
                                 + (f"\n... and {more} more" if more > 0 else "")
                                 + f"\n{self.server.logs(30)}")

    async def setup(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/namespaces", json=namespace(NAMESPACE))
        assert response.status_code == 201, response.text
        for i in range(SHARED_KEYS):
            name = f"shared-{i}"
            op = self.h.send(name, "create", 0, token=self.h.new_token(0), counter=0)
            assert op.token
            response = await client.post(COLLECTION, json=configmap(name, {"token": op.token, "counter": "0"}))
            assert response.status_code == 201, response.text
            self.model.shared.append(SharedKey(name, state_of(self.h.ack(op, response))))

    async def verify(self, client: httpx.AsyncClient, cycle: int, *, restart: bool = True) -> None:
        """With nothing else running: the store holds exactly what the clients were told, give or take
        the writes whose answers were lost (in a crash)."""
        source = f"after restart {cycle}" if restart else "at the end"
        response = await client.get(COLLECTION)
        assert response.status_code == 200, response.text
        head = rv_of(response.json())
        if head < self.h.max_known:
            self.h.fail(f"{source}: the store is at {head}, below {self.h.max_known}, which was acknowledged "
                        "or seen before (committed writes were lost)")
        if restart:
            self.h.restart_head[cycle] = head
        listed = {item["metadata"]["name"]: item for item in response.json()["items"]}

        async def get(name: str) -> dict[str, Any] | None:
            r = await client.get(f"{COLLECTION}/{name}")
            if r.status_code == 404:
                return None
            assert r.status_code == 200, f"GET {name}: {r.status_code} {r.text}"
            body: dict[str, Any] = r.json()
            return body

        names = self.model.names()
        bodies = dict(zip(names, await asyncio.gather(*(get(n) for n in names)), strict=True))
        for name in sorted(set(listed) - set(names)):
            self.h.fail(f"{source}: the list has {name}, which nobody created")
        for name, body in bodies.items():
            if (body is None) != (name not in listed) or (body and rv_of(body) != rv_of(listed[name])):
                self.h.fail(f"{source}: GET {name} gives {body and rv_of(body)}, the list "
                            f"{name in listed and rv_of(listed[name])}")
            if body is not None:
                got = state_of(body)
                self.h.observe(name, got.rv, got.token, f"GET {name} {source}")
        for key in self.model.all_owned():
            body = bodies[key.name]
            self.model.resolve_owned(key, None if body is None else state_of(body), f"GET {key.name} {source}")
        for shared in self.model.shared:
            body = bodies[shared.name]
            counter = int(body["data"]["counter"]) if body else None
            self.model.resolve_shared(shared, None if body is None else state_of(body), counter,
                                      f"GET {shared.name} {source}")
        await self.compare_store_list(client, head, source)
        self.h.max_known = max(self.h.max_known, head)

    async def compare_store_list(self, client: httpx.AsyncClient, rv: int, source: str) -> None:
        """A paginated list read from the store itself (not the watch cache) at `rv` equals the model."""
        got: dict[str, State] = {}
        params = {"resourceVersion": str(rv), "resourceVersionMatch": "Exact", "limit": "7"}
        while True:
            response = await client.get(COLLECTION, params=params)
            assert response.status_code == 200, f"{source}: exact list at {rv}: {response.status_code} {response.text}"
            body = response.json()
            got.update({item["metadata"]["name"]: state_of(item) for item in body["items"]})
            token = body["metadata"].get("continue")
            if not token:
                break
            params = {"continue": token, "limit": "7"}
        self.model.compare(got, f"{source}: the store's own list at {rv}")

    async def write_marker(self, client: httpx.AsyncClient, cycle: int) -> int:
        """The first write of a start: watchers that resume see it (or expire and re-list past it)."""
        key = self.model.marker
        op = self.h.send(key.name, "create" if key.state is None else "update", cycle,
                         token=self.h.new_token(cycle), base=key.state, precondition=key.state is not None)
        assert op.token
        body = configmap(key.name, {"token": op.token}, resource_version=key.state.rv if key.state else None)
        if key.state is None:
            response = await client.post(COLLECTION, json=body)
        else:
            response = await client.put(f"{COLLECTION}/{key.name}", json=body)
        assert response.status_code in (200, 201), f"marker write: {response.status_code} {response.text}"
        key.state = state_of(self.h.ack(op, response))
        return key.state.rv

    async def settle(self, what: str, done: Callable[[], bool], tasks: list[asyncio.Task[None]]) -> None:
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while not done():
            self.check(what)
            for task in tasks:
                if task.done():
                    task.result()
                    raise AssertionError(f"seed={self.seed}: a watcher ended while {what}: "
                                         f"{[w.segments[-1].end for w in self.watchers if w.segments]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"seed={self.seed}: not done {what} within {SETTLE_TIMEOUT}s: watchers at "
                                     f"{[w.last_rv for w in self.watchers]}\n{self.server.logs()}")
            await asyncio.sleep(0.02)

    async def cycle(self, cycle: int, *, final: bool = False) -> None:
        self.server.start()
        url = await self.server.wait_ready()
        async with contextlib.AsyncExitStack() as stack:
            # A client (and so a connection pool) per task: one shared pool queues requests on the
            # client side, and a request still queued when the server dies tells nothing.
            def client(timeout: httpx.Timeout) -> httpx.AsyncClient:
                return httpx.AsyncClient(base_url=url, timeout=timeout, verify=False)  # plain http: no CA bundle

            main = await stack.enter_async_context(client(HTTP_TIMEOUT))
            if cycle == 0:
                await self.setup(main)
            else:
                await self.verify(main, cycle)
            self.check(f"verifying restart {cycle}")
            marker = await self.write_marker(main, cycle)
            self.quiet = True
            watch_tasks = []
            for w in self.watchers:
                watch_client = await stack.enter_async_context(client(WATCH_TIMEOUT))
                watch_tasks.append(asyncio.create_task(w.run(self.h, self.model, watch_client, cycle,
                                                             lambda: self.quiet)))
            await self.settle(f"resuming watches in cycle {cycle}",
                              lambda: all((w.last_rv or 0) >= marker for w in self.watchers), watch_tasks)
            self.quiet = False
            stop = asyncio.Event()
            writers = []
            for keys in self.model.owned:
                writer = Writer(self.h, self.model, await stack.enter_async_context(client(HTTP_TIMEOUT)), cycle,
                                random.Random(self.rng.random()), keys, stop)
                writers.append(asyncio.create_task(writer.run()))
            await asyncio.sleep(FINAL_LOAD if final else self.rng.uniform(*KILL_AFTER))
            if final:
                stop.set()
                await asyncio.gather(*writers)
                await self.settle("catching up at the end",
                                  lambda: all((w.last_rv or 0) >= self.h.max_known for w in self.watchers),
                                  watch_tasks)
                for task in watch_tasks:
                    task.cancel()
                await asyncio.gather(*watch_tasks, return_exceptions=True)
                for w in self.watchers:
                    if w.segments and w.segments[-1].end == "open":
                        w.segments[-1].end = "client"
                await self.finish(main, cycle)
            else:
                self.server.kill()
                self.stats["kills"] += 1
                stop.set()
                await asyncio.wait_for(asyncio.gather(*writers, *watch_tasks), timeout=SETTLE_TIMEOUT)
        self.check(f"cycle {cycle}")

    async def finish(self, client: httpx.AsyncClient, cycle: int) -> None:
        """The last start, its load stopped: the store is as told, compaction did run, SIGTERM exits 0."""
        await self.verify(client, cycle, restart=False)
        self.check("at the end")
        response = await client.get(COLLECTION, params={"resourceVersion": "2", "resourceVersionMatch": "Exact"})
        assert response.status_code == 410, (
            f"seed={self.seed}: the store still has revision 2 after {CYCLES} kill cycles: compaction never ran, "
            f"so no kill landed during it ({response.status_code} {response.text[:200]})")
        self.server.terminate()
        code = await self.server.wait_exit(STOP_TIMEOUT)
        if code is None:
            self.server.kill()
        assert code == 0, f"exit {code} after SIGTERM\n{self.server.logs()}"


@pytest.mark.slow
async def test_nothing_acknowledged_is_lost_across_sigkills_under_load(tmp_path: Path) -> None:
    seed = int(os.environ.get("RELIABILITY_SEED") or random.SystemRandom().randrange(2**32))
    print(f"RELIABILITY_SEED={seed}")
    server = ServerProcess(tmp_path / "store.db", tmp_path, SERVER_ENV)
    run = Run(seed, server)
    started = time.monotonic()
    try:
        for cycle in range(CYCLES):
            await run.cycle(cycle)
        await run.cycle(CYCLES, final=True)
    finally:
        server.kill()
    check_streams(run.h, run.watchers)
    run.check("checking the watch streams")
    ops = run.h.ops
    acked = sum(op.outcome == "acked" for op in ops)
    unknown = sum(op.outcome == "unknown" for op in ops)
    applied_unknown = sum(op.outcome == "unknown" and op.committed for op in ops)
    events = sum(len(s.events) for w in run.watchers for s in w.segments)
    relists = sum(w.relists for w in run.watchers)
    resumed = sum(s.resumed and s.end != "expired" for w in run.watchers for s in w.segments)
    print(f"{time.monotonic() - started:.1f}s, {run.stats['kills']} kills, {len(ops)} writes: {acked} acknowledged, "
          f"{unknown} unanswered ({applied_unknown} of them took effect); {events} watch events, "
          f"{relists} re-lists, {resumed} resumed streams")
    assert acked >= CYCLES * 20, f"seed={seed}: only {acked} writes were acknowledged: the load hardly ran"
    assert unknown > 0, f"seed={seed}: no kill ever caught a write in flight"
    assert server.tracebacks() == [], f"seed={seed}: tracebacks in {server.tracebacks()}"
