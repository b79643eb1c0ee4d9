"""What the server's own controllers share: following a watch cache as an informer does, and stopping.

A controller sees every event its filter keeps, in order; if it falls so far behind that its watcher
is closed, it gets a fresh watcher and the cache's current objects again (a relist).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable

from apiserver.objects import Obj
from apiserver.watchcache import CacheEvent, Filter, WatchCache

OnEvent = Callable[[str, CacheEvent], Awaitable[None]]  # (ADDED | MODIFIED | DELETED as the filter saw it, event)
OnRelist = Callable[[list[Obj]], Awaitable[None]]


async def follow(cache: WatchCache, keep: Filter, on_event: OnEvent, on_relist: OnRelist, *,
                 relist_first: bool = False) -> None:
    """Run until cancelled: each event the filter keeps to `on_event`, every object to `on_relist` after a
    watcher was closed for falling behind (and first, if `relist_first`)."""
    await cache.ready()
    watcher = cache.add_watcher(keep, internal=True)
    try:
        if relist_first:
            await on_relist(list(cache.objects.values()))
        while True:
            while watcher.events:
                kind, ev = watcher.events.popleft()
                await on_event(kind, ev)
            if watcher.closed:
                cache.remove_watcher(watcher)
                watcher = cache.add_watcher(keep, internal=True)
                await on_relist(list(cache.objects.values()))
            watcher.wake.clear()
            await watcher.wake.wait()
    finally:
        cache.remove_watcher(watcher)


async def stop_tasks(tasks: Iterable[asyncio.Task[None] | None]) -> None:
    """Cancel the tasks and wait until each has ended."""
    running = [t for t in tasks if t is not None]
    for t in running:
        t.cancel()
    for t in running:
        with contextlib.suppress(asyncio.CancelledError):
            await t
