"""Watch streams: one JSON WatchEvent per line, from the watch cache.

The start of a watch (initial ADDED events or replayed history) and its registration for live
events happen in one synchronous step, so nothing is missed or repeated in between.

As kube's serveWatch flushes only when its result channel is empty, a watcher sends everything
queued since it last ran as one chunk: under load, events coalesce into fewer, larger writes, so
1,000 watchers cost 1,000 writes per wake-up rather than per event.
"""

from __future__ import annotations

import asyncio
import collections
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import orjson
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from apiserver.listing import Selection
from apiserver.objects import Obj
from apiserver.registry import ResourceType
from apiserver.watchcache import CacheEvent, Item, WatchCache, view
from machinery import ApiError, Timeout

BOOKMARK_INTERVAL = 60.0  # kube sends a bookmark about once a minute (cache_watcher.go)
MIN_REQUEST_TIMEOUT = 1800  # kube-apiserver's --min-request-timeout; watches last 1-2x this
INITIAL_EVENTS_END = "k8s.io/initial-events-end"

Encoder = Callable[[str, CacheEvent | None, Obj | None], bytes]


def line(kind: str, obj_json: bytes) -> bytes:
    return b'{"type":"' + kind.encode() + b'","object":' + obj_json + b"}\n"


_OPEN = {kind: b'{"type":"' + kind.encode() + b'","object":' for kind in ("ADDED", "MODIFIED", "DELETED")}
_CLOSE = b"}\n"
ALL_STORED = "*"  # a stream without `render`: every event goes out as stored


def stored_chunk(items: list[Item], as_stored: str) -> bytes | None:
    """The events as one chunk, objects as the cache encoded them; None if one needs rendering."""
    parts: list[bytes] = []
    for kind, ev in items:
        if as_stored is not ALL_STORED and ev.obj.get("apiVersion") not in (as_stored, None):
            return None
        parts += (_OPEN[kind], ev.json(), _CLOSE)
    return b"".join(parts)


def error_line(err: ApiError) -> bytes:
    return line("ERROR", orjson.dumps(err.status()))


def bookmark(rt: ResourceType, revision: int, *, initial_end: bool = False) -> bytes:
    meta: dict[str, Any] = {"resourceVersion": str(revision)}
    if initial_end:
        meta["annotations"] = {INITIAL_EVENTS_END: "true"}
    return line("BOOKMARK", orjson.dumps({"kind": rt.kind, "apiVersion": rt.api_version, "metadata": meta}))


class Hangup:
    """Fired when the client goes away: the stream's watcher is closed, which ends the stream."""

    def __init__(self) -> None:
        self.gone = False
        self._callbacks: list[Callable[[], None]] = []

    def on(self, callback: Callable[[], None]) -> None:
        if self.gone:
            callback()
        else:
            self._callbacks.append(callback)

    def fire(self) -> None:
        self.gone = True
        for callback in self._callbacks:
            callback()
        self._callbacks.clear()


class WatchResponse(StreamingResponse):
    """A chunked response straight onto the ASGI send, with one idle task watching for the client's hang-up.

    What Starlette's StreamingResponse does with an anyio task group, minus its layers per chunk. The
    listener is needed: uvicorn's send returns silently once the client has left, so only receive()
    tells an idle watch that its client is gone.
    """

    def __init__(self, body: AsyncIterator[bytes], hangup: Hangup, headers: dict[str, str]) -> None:
        super().__init__(body, media_type="application/json", headers=headers)
        self.hangup = hangup

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def listen() -> None:
            try:
                while (await receive())["type"] != "http.disconnect":
                    pass
            finally:
                self.hangup.fire()

        listener = asyncio.create_task(listen())
        body = self.body_iterator
        try:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            async for chunk in body:
                if self.hangup.gone:
                    break
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            if not self.hangup.gone:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            listener.cancel()
            if hasattr(body, "aclose"):
                await body.aclose()


async def stream(
    cache: WatchCache,
    rt: ResourceType,
    sel: Selection,
    params: dict[str, Any],
    render: Callable[[CacheEvent], Awaitable[bytes]] | None = None,
    *,
    as_stored: str | None = None,
    hangup: Hangup | None = None,
) -> AsyncIterator[bytes]:
    """The body of a watch response, one chunk per wake-up.

    `render` turns an event's object into JSON (tables, conversion); events whose apiVersion is
    `as_stored` (or missing) skip it and go out as the cache encoded them. `hangup` ends the stream.
    """
    if render is None:
        as_stored = None
    await cache.ready()
    rv: int = params["rv"]
    if params["rv_given"] and rv > cache.store.revision:
        yield error_line(Timeout(f"Too large resource version: {rv}, current: {cache.store.revision}",
                                 retry_after=1))
        return
    prefix = rt.prefix(sel.namespace)
    match = sel.matcher()
    stored_versions = (as_stored, None)

    def selected(key: str, obj: Obj) -> bool:
        return key.startswith(prefix) and match(key, obj)

    async def encode(events: Iterable[Item]) -> bytes:
        parts: list[bytes] = []
        for kind, ev in events:
            if render is None or (as_stored is not None and ev.obj.get("apiVersion") in stored_versions):
                parts += (_OPEN[kind], ev.json(), _CLOSE)
            else:
                parts.append(line(kind, await render(ev)))
        return b"".join(parts)

    # -- synchronous from here to add_watcher: the snapshot and the live feed meet exactly --
    start: list[tuple[str, CacheEvent]] = []
    initial = params["initial"]
    if initial or (initial is None and rv == 0):
        for key in cache.sorted_keys():
            obj = cache.objects[key]
            if selected(key, obj):
                start.append(("ADDED", CacheEvent("ADDED", key, obj, None, cache.revision)))
        snapshot_rev = cache.revision
    else:
        try:
            history = cache.events_after(rv)
        except ApiError as err:
            yield error_line(err)
            return
        start = [item for ev in history if (item := view(selected, ev)) is not None]
        snapshot_rev = cache.revision
    watcher = cache.add_watcher(selected, key=None if sel.filtered else prefix)
    # --------------------------------------------------------------------------------------
    if hangup is not None:
        hangup.on(watcher.close)
    timeout = params["timeout"]
    if timeout is None:  # kube picks a random deadline in [min-request-timeout, 2x] to spread re-watches
        timeout = min(random.uniform(MIN_REQUEST_TIMEOUT, 2 * MIN_REQUEST_TIMEOUT),
                      params.get("max_timeout", 2 * MIN_REQUEST_TIMEOUT))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    bookmarks = params["bookmarks"]
    last_rev = snapshot_rev
    wake = watcher.wake
    alarm: asyncio.TimerHandle | None = None

    def ring() -> None:  # one loop timer for the next deadline or bookmark, not one per wait
        nonlocal alarm
        alarm = None
        wake.set()

    try:
        for i in range(0, len(start), 500):  # the initial list in chunks of a few hundred objects
            yield await encode(start[i:i + 500])
        if initial and bookmarks:
            yield bookmark(rt, snapshot_rev, initial_end=True)
        next_bookmark = loop.time() + BOOKMARK_INTERVAL
        feed = watcher.feed
        mode = ALL_STORED if render is None else as_stored
        while True:
            wake.clear()
            sent = False
            if feed is not None:  # the shared log: read from our position
                pos, end = watcher.pos, feed.end
                if pos < end and not watcher.closed:
                    watcher.pos = end
                    items = feed.read(pos, end)
                    last_rev = items[-1][1].revision
                    shared = (pos, end, mode)  # watchers at the same position send the same bytes
                    chunk = feed.chunks.get(shared, b"")
                    if chunk == b"":
                        chunk = feed.chunks[shared] = None if mode is None else stored_chunk(items, mode)
                    yield chunk if chunk is not None else await encode(items)
                    sent = True
            elif watcher.events:
                batch, watcher.events = watcher.events, collections.deque()
                last_rev = batch[-1][1].revision
                yield await encode(batch)
                sent = True
            if watcher.closed and (feed is not None or not watcher.events):  # a queue is drained first
                return
            now = loop.time()  # checked after every chunk: a busy stream still ends on time
            if now >= deadline:
                if bookmarks:
                    yield bookmark(rt, max(last_rev, cache.revision))
                return
            if bookmarks and now >= next_bookmark:
                yield bookmark(rt, max(last_rev, cache.revision))
                next_bookmark = now + BOOKMARK_INTERVAL
                continue
            if sent:  # more may have come while we sent
                continue
            if alarm is None:
                alarm = loop.call_at(min(deadline, next_bookmark) if bookmarks else deadline, ring)
            await wake.wait()
    finally:
        if alarm is not None:
            alarm.cancel()
        cache.remove_watcher(watcher)
