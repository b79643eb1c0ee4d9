"""Watch streams: one JSON WatchEvent per line, from the watch cache.

The start of a watch (initial ADDED events or replayed history) and its registration for live
events happen in one synchronous step, so nothing is missed or repeated in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson

from apiserver.listing import Selection
from apiserver.objects import Obj
from apiserver.registry import ResourceType
from apiserver.watchcache import CacheEvent, WatchCache
from machinery import ApiError, Timeout

BOOKMARK_INTERVAL = 60.0  # kube sends a bookmark about once a minute (cache_watcher.go)
MIN_REQUEST_TIMEOUT = 1800  # kube-apiserver's --min-request-timeout; watches last 1-2x this
INITIAL_EVENTS_END = "k8s.io/initial-events-end"

Encoder = Callable[[str, CacheEvent | None, Obj | None], bytes]


def line(kind: str, obj_json: bytes) -> bytes:
    return b'{"type":"' + kind.encode() + b'","object":' + obj_json + b"}\n"


def error_line(err: ApiError) -> bytes:
    return line("ERROR", orjson.dumps(err.status()))


def bookmark(rt: ResourceType, revision: int, *, initial_end: bool = False) -> bytes:
    meta: dict[str, Any] = {"resourceVersion": str(revision)}
    if initial_end:
        meta["annotations"] = {INITIAL_EVENTS_END: "true"}
    return line("BOOKMARK", orjson.dumps({"kind": rt.kind, "apiVersion": rt.api_version, "metadata": meta}))


async def stream(
    cache: WatchCache,
    rt: ResourceType,
    sel: Selection,
    params: dict[str, Any],
    render: Callable[[CacheEvent], Awaitable[bytes]] | None = None,
) -> AsyncIterator[bytes]:
    """The body of a watch response. `render` turns an event's object into JSON (tables, conversion)."""

    async def plain(ev: CacheEvent) -> bytes:
        return ev.json()

    render = render or plain
    await cache.ready()
    rv: int = params["rv"]
    if params["rv_given"] and rv > cache.store.revision:
        yield error_line(Timeout(f"Too large resource version: {rv}, current: {cache.store.revision}",
                                 retry_after=1))
        return
    prefix = rt.prefix(sel.namespace)
    match = sel.matcher()

    def selected(key: str, obj: Obj) -> bool:
        return key.startswith(prefix) and match(key, obj)

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
        probe = cache.add_watcher(selected)
        cache.remove_watcher(probe)
        for ev in history:
            probe.offer(ev)
        start = list(probe.events)
        snapshot_rev = cache.revision
    watcher = cache.add_watcher(selected)
    # --------------------------------------------------------------------------------------
    timeout = params["timeout"]
    if timeout is None:  # kube picks a random deadline in [min-request-timeout, 2x] to spread re-watches
        timeout = min(random.uniform(MIN_REQUEST_TIMEOUT, 2 * MIN_REQUEST_TIMEOUT),
                      params.get("max_timeout", 2 * MIN_REQUEST_TIMEOUT))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    bookmarks = params["bookmarks"]
    last_rev = snapshot_rev
    try:
        for kind, ev in start:
            yield line(kind, await render(ev))
        if initial and bookmarks:
            yield bookmark(rt, snapshot_rev, initial_end=True)
        next_bookmark = loop.time() + BOOKMARK_INTERVAL
        while True:
            while watcher.events:
                kind, ev = watcher.events.popleft()
                last_rev = ev.revision
                yield line(kind, await render(ev))
            if watcher.closed:
                return
            now = loop.time()
            if now >= deadline:
                if bookmarks:
                    yield bookmark(rt, max(last_rev, cache.revision))
                return
            if bookmarks and now >= next_bookmark:
                yield bookmark(rt, max(last_rev, cache.revision))
                next_bookmark = now + BOOKMARK_INTERVAL
            watcher.wake.clear()
            wait = min(deadline, next_bookmark if bookmarks else deadline) - now
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(watcher.wake.wait(), timeout=max(wait, 0.001))
    finally:
        cache.remove_watcher(watcher)
