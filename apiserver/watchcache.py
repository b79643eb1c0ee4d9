"""The watch cache: one store watch per resource, fanned out to every HTTP watcher.

Like kube's cacher, it keeps the current objects of one resource and a bounded history of
recent events. Gets, lists and watches are served from it; each event is encoded once and
shared by all watchers. A watcher whose buffer fills is closed (the client re-watches from
its last resourceVersion), so one slow client never slows the others or grows memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

from apiserver.objects import Obj, from_kv, from_storage
from machinery import Expired, Timeout
from storage import Event, Store, StoreError

log = logging.getLogger("apiserver.watchcache")

# kube's watch cache history grows between 100 and 102,400 events (watch_cache.go); we keep a
# fixed window per resource, large enough for the resumes an integration test makes.
HISTORY = 10_000
# Events a watcher may have unread before it is closed: about a second of busy traffic, as
# kube sizes cacheWatcher input channels (10-1000 events).
WATCHER_BUFFER = 1_000


@dataclass(slots=True)
class CacheEvent:
    type: str  # ADDED | MODIFIED | DELETED
    key: str
    obj: Obj  # for DELETED: the last state, at the delete's resourceVersion
    prev: Obj | None
    revision: int
    _json: bytes | None = None

    def json(self) -> bytes:
        """The object encoded once, whoever asks first; shared by every watcher."""
        if self._json is None:
            # a copy: orjson's result over-allocates (~16 KiB for a 1 KiB object) and the history keeps it
            self._json = bytes(memoryview(orjson.dumps(self.obj)))
        return self._json


Filter = Callable[[str, Obj], bool]  # (key, object) -> does this watcher want it


@dataclass(eq=False)
class Watcher:
    filter: Filter
    events: deque[tuple[str, CacheEvent]] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False
    internal: bool = False

    def offer(self, event: CacheEvent) -> None:
        """Queue the event as this watcher sees it: selectors turn transitions into ADDED/DELETED.

        As kube's cacheWatcher: an object that stops matching is DELETED with its previous content
        at the event's resourceVersion.
        """
        now = event.type != "DELETED" and self.filter(event.key, event.obj)
        before = event.prev is not None and self.filter(event.key, event.prev)
        if event.type == "DELETED":
            if not (before or self.filter(event.key, event.obj)):
                return
            item = ("DELETED", event)
        elif now:
            item = ("MODIFIED" if before else "ADDED", event)
        elif before and event.prev is not None:
            gone = {**event.prev, "metadata": {**event.prev.get("metadata", {}),
                                               "resourceVersion": str(event.revision)}}
            item = ("DELETED", CacheEvent("DELETED", event.key, gone, None, event.revision))
        else:
            return
        if len(self.events) >= WATCHER_BUFFER:
            self.close()
            return
        self.events.append(item)
        self.wake.set()

    def close(self) -> None:
        self.closed = True
        self.wake.set()


class WatchCache:
    def __init__(self, store: Store, prefix: str) -> None:
        self.store = store
        self.prefix = prefix
        self.objects: dict[str, Obj] = {}
        self.revision = 0
        self.history: deque[CacheEvent] = deque(maxlen=HISTORY)
        self.oldest = 0  # events after this revision are all in history
        self.watchers: set[Watcher] = set()
        self._ready = asyncio.Event()
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []  # heap by revision
        self._tiebreak = itertools.count()
        self._task: asyncio.Task[None] | None = None
        self._sorted_keys: list[str] | None = None
        self.closing = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"watchcache {self.prefix}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for w in list(self.watchers):
            w.close()

    async def ready(self) -> None:
        self.start()
        await self._ready.wait()

    async def _run(self) -> None:
        while True:
            try:
                await self._load_and_follow()
            except asyncio.CancelledError:
                raise
            except StoreError as err:  # the store cut us off (overflow) or failed: reload
                log.warning("watch cache %s restarting: %s", self.prefix, err)
            except Exception:
                log.exception("watch cache %s failed; restarting", self.prefix)
            await asyncio.sleep(0.1)

    async def _load_and_follow(self) -> None:
        items, revision, _ = await self.store.range(self.prefix)
        self.objects = {kv.key: from_kv(kv) for kv in items}
        self._sorted_keys = None
        self.history.clear()
        self.oldest = self.revision = revision
        self._notify()
        for w in list(self.watchers):  # they may have missed events while we were away
            w.close()
        self._ready.set()
        async for event in self.store.watch(self.prefix, since=revision):
            self._apply(event)

    def _apply(self, event: Event) -> None:
        key = event.kv.key
        prev = self.objects.get(key)
        if event.type == "DELETE":
            base = event.prev.value if event.prev else b"{}"
            obj = from_storage(base, event.revision)
            self.objects.pop(key, None)
            self._sorted_keys = None
            ce = CacheEvent("DELETED", key, obj, prev, event.revision)
        else:
            obj = from_kv(event.kv)
            if prev is None:
                self._sorted_keys = None
            self.objects[key] = obj
            ce = CacheEvent("MODIFIED" if prev is not None else "ADDED", key, obj, prev, event.revision)
        if len(self.history) == self.history.maxlen:
            self.oldest = self.history[0].revision
        self.history.append(ce)
        self.revision = event.revision
        for w in list(self.watchers):
            w.offer(ce)
            if w.closed:
                self.watchers.discard(w)
        self._notify()

    def _notify(self) -> None:
        while self._waiters and self._waiters[0][0] <= self.revision:
            fut = heapq.heappop(self._waiters)[2]
            if not fut.done():
                fut.set_result(None)

    async def wait_for(self, revision: int, *, timeout: float = 3.0) -> None:
        """Wait until the cache has applied `revision` (kube waits up to 3 s, then 'Too large')."""
        await self.ready()
        if self.revision >= revision:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (revision, next(self._tiebreak), fut))
        try:
            await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            raise Timeout(
                f"Too large resource version: {revision}, current: {self.revision}", retry_after=1
            ) from None

    def sorted_keys(self) -> list[str]:
        if self._sorted_keys is None:
            self._sorted_keys = sorted(self.objects)
        return self._sorted_keys

    def events_after(self, revision: int) -> list[CacheEvent]:
        """History after `revision`; Expired when it is older than what the cache remembers."""
        if revision < self.oldest:
            raise Expired(f"too old resource version: {revision} ({self.oldest})")
        return [e for e in self.history if e.revision > revision]

    def add_watcher(self, flt: Filter, *, internal: bool = False) -> Watcher:
        """A watcher of every later event; `internal` ones (the server's controllers) outlive shutdown."""
        w = Watcher(flt, internal=internal)
        if self.closing and not internal:  # shutting down: a watch that starts now ends at once, cleanly
            w.close()
            return w
        self.watchers.add(w)
        return w

    def remove_watcher(self, w: Watcher) -> None:
        self.watchers.discard(w)


class Caches:
    """One WatchCache per storage prefix, created on first use."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._caches: dict[str, WatchCache] = {}
        self.closing = False

    def get(self, prefix: str) -> WatchCache:
        cache = self._caches.get(prefix)
        if cache is None:
            cache = self._caches[prefix] = WatchCache(self.store, prefix)
            cache.closing = self.closing
            cache.start()
        return cache

    async def stop(self) -> None:
        for cache in self._caches.values():
            await cache.stop()

    def close_watchers(self) -> None:
        """End every watch now and every one that starts from here on (server shutdown)."""
        self.closing = True
        for cache in self._caches.values():
            cache.closing = True
            for w in list(cache.watchers):
                if not w.internal:
                    w.close()
