"""The watch cache: one store watch per resource, fanned out to every HTTP watcher.

Like kube's cacher, it keeps the current objects of one resource and a bounded history of
recent events. Gets, lists and watches are served from it; each event is encoded once and
shared by all watchers. A watcher whose buffer fills is closed (the client re-watches from
its last resourceVersion), so one slow client never slows the others or grows memory.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import heapq
import itertools
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

from apiserver.objects import Obj, at_revision, from_kv, from_storage
from machinery import Expired, Timeout
from storage import Event, Store, StoreError

log = logging.getLogger("apiserver.watchcache")

# kube's watch cache history grows between 100 and 102,400 events (watch_cache.go); we keep a
# fixed window per resource, large enough for the resumes an integration test makes.
HISTORY = 10_000
# Events a watcher may have unread before it is closed: about a second of busy traffic, as
# kube sizes cacheWatcher input channels (10-1000 events).
WATCHER_BUFFER = 1_000
# Wake-ups are paced: after waking N watchers the cache waits N x WAKE_SPACING seconds (at most
# MAX_WAKE_INTERVAL) before the next round, and events queued in between go out in one write per
# watcher. A wake-up costs ~10-15 us (a task switch and a socket write), so rounds take about a third
# of the event loop however fast events come (up to half at the cap); a quiet cache wakes its watchers
# at once. kube gets the same coalescing from serveWatch flushing only when its channel is empty, at
# Go's lower cost per wake-up. 1,000 watchers: a round at most every 30 ms. With 1,000 watchers at 500
# events/s on 2 cores, p99 delivery was 90-115 ms with 50 ms rounds, 55-86 ms with 30 ms, and 90-113 ms
# with 20 ms (rounds that often cost more than they save).
WAKE_SPACING = 50e-6
MAX_WAKE_INTERVAL = 0.03
# A feed forgets the events all its watchers have read in steps of this many, not every round
# (its items are references to events the history keeps anyway).
FEED_TRIM = 1024
# A cache (re)loads its objects from the store this many at a time.
LOAD_PAGE = 1_000
# The JSON of current objects, once encoded for an answer (a list, a get, a write's), is kept for the
# next (a list joins it instead of encoding every item again), up to this many bytes over all
# resources; an object that changes or goes drops its own. 32 MiB holds about 30k ConfigMaps of 1 KiB.
JSON_BUDGET = 32 << 20


def exact(data: bytes) -> bytes:
    """A copy of orjson's result the size of its content: orjson over-allocates (~8 KiB for 1 KiB)."""
    return bytes(memoryview(data))


class JsonBudget:
    """The bytes of kept JSON, shared by every resource's cache."""

    __slots__ = ("limit", "used")

    def __init__(self, limit: int = JSON_BUDGET) -> None:
        self.limit = limit
        self.used = 0


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
            self._json = exact(orjson.dumps(self.obj))  # the history keeps it
        return self._json


Filter = Callable[[str, Obj], bool]  # (key, object) -> does this watcher want it
Item = tuple[str, CacheEvent]  # (the type this watcher sees, the event)


def view(flt: Filter, event: CacheEvent) -> Item | None:
    """The event as a watcher with this filter sees it, or None: selectors turn transitions into ADDED/DELETED.

    As kube's cacheWatcher: an object that stops matching is DELETED with its previous content
    at the event's resourceVersion.
    """
    now = event.type != "DELETED" and flt(event.key, event.obj)
    before = event.prev is not None and flt(event.key, event.prev)
    if event.type == "DELETED":
        if not (before or flt(event.key, event.obj)):
            return None
        return ("DELETED", event)
    if now:
        return ("MODIFIED" if before else "ADDED", event)
    if before and event.prev is not None:
        return ("DELETED", CacheEvent("DELETED", event.key, at_revision(event.prev, event.revision), None,
                                      event.revision))
    return None


class Wake:
    """asyncio.Event's set/clear/wait for ONE waiter at a time (a watch stream), at half its cost.

    A round wakes a thousand streams; Event keeps a list of waiters and a loop-bound mixin each time.
    """

    __slots__ = ("_fut", "_set")

    def __init__(self) -> None:
        self._set = False
        self._fut: asyncio.Future[None] | None = None

    def set(self) -> None:
        if not self._set:
            self._set = True
            fut = self._fut
            if fut is not None and not fut.done():
                fut.set_result(None)

    def clear(self) -> None:
        self._set = False

    def is_set(self) -> bool:
        return self._set

    async def wait(self) -> bool:
        if not self._set:
            fut = self._fut = asyncio.get_running_loop().create_future()
            try:
                await fut
            finally:
                self._fut = None
        return True


def _expire(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_exception(TimeoutError())


@dataclass(eq=False)
class Watcher:
    """A queue of events for one consumer, woken when there is something to read.

    A watcher with a `feed` has no queue of its own: it reads the feed's shared log from `pos`.
    """

    filter: Filter
    events: deque[Item] = field(default_factory=deque)
    wake: asyncio.Event | Wake = field(default_factory=asyncio.Event)
    closed: bool = False
    internal: bool = False
    feed: Feed | None = None
    pos: int = 0  # with a feed: the sequence number of the next event to read

    def view(self, event: CacheEvent) -> Item | None:
        return view(self.filter, event)

    def queue(self, item: Item, pending: list[Watcher]) -> None:
        """Queue an event; a watcher too far behind is closed. The wake-up is left to the cache: the
        watcher joins `pending` when its queue was empty."""
        events = self.events
        if len(events) >= WATCHER_BUFFER:
            self.close()
            return
        events.append(item)
        if len(events) == 1:
            pending.append(self)

    def close(self) -> None:
        self.closed = True
        self.wake.set()


class Feed:
    """The events of every watcher with one filter key (an unfiltered watch of one prefix), stored once.

    Each watcher keeps a read position, so an event costs one filter call and one append whatever
    the number of watchers; and watchers at the same position send the same bytes, which the
    stream encodes once (`chunks`, cleared every wake-up round).
    """

    def __init__(self, key: str, flt: Filter) -> None:
        self.key = key
        self.filter = flt
        self.items: list[Item] = []
        self.base = 0  # the sequence number of items[0]
        self.watchers: set[Watcher] = set()
        self.chunks: dict[tuple[int, int, str | None], bytes | None] = {}
        self.dirty = False  # events appended since the last wake-up round

    @property
    def end(self) -> int:
        return self.base + len(self.items)

    def read(self, start: int, end: int) -> list[Item]:
        return self.items[start - self.base:end - self.base]

    def wake_behind(self, gone: list[Watcher]) -> int:
        """Wake every watcher with events to read; close those more than WATCHER_BUFFER behind.

        Returns how many were woken; forgets the events every watcher has read.
        """
        end = self.end
        low = end
        woken = 0
        for w in self.watchers:
            pos = w.pos
            if pos < end:
                if end - pos > WATCHER_BUFFER:
                    w.close()
                    gone.append(w)
                    continue
                w.wake.set()
                woken += 1
                low = min(low, pos)
        self.chunks.clear()
        if low == end or low - self.base >= FEED_TRIM:
            del self.items[:low - self.base]
            self.base = low
        return woken


@dataclass(slots=True)
class Ordered:
    """The cache's objects in key order, as parallel lists: a list is a slice of them. Built when first
    needed after a key came or went; while only objects change, they are updated in place."""

    keys: list[str]
    objs: list[Obj]
    json: list[bytes | None]  # each object's kept JSON (WatchCache._json), None where none is kept

    def at(self, key: str) -> int | None:
        i = bisect.bisect_left(self.keys, key)
        return i if i < len(self.keys) and self.keys[i] == key else None


class WatchCache:
    def __init__(self, store: Store, prefix: str, budget: JsonBudget | None = None) -> None:
        self.store = store
        self.prefix = prefix
        self.objects: dict[str, Obj] = {}
        self._json: dict[str, bytes] = {}  # the kept JSON of objects (see encoded)
        self._budget = budget or JsonBudget()
        self.revision = 0
        self.history: deque[CacheEvent] = deque(maxlen=HISTORY)
        self.oldest = 0  # events after this revision are all in history
        self.watchers: set[Watcher] = set()
        self._ready = asyncio.Event()
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []  # heap by revision
        self._tiebreak = itertools.count()
        self._task: asyncio.Task[None] | None = None
        self._ordered: Ordered | None = None
        self.closing = False
        self._plain: set[Watcher] = set()  # the watchers with their own queue (no feed)
        self.feeds: dict[str, Feed] = {}
        self._pending: list[Watcher] = []  # watchers with events queued since the last wake-up
        self._dirty: list[Feed] = []  # feeds with events appended since the last wake-up
        self._wake_handle: asyncio.Handle | None = None
        self._last_wake = 0.0
        self._interval = 0.0  # after the last round: its size x WAKE_SPACING
        self._hints: dict[str, tuple[bytes, Obj]] = {}  # see hint()

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

    @property
    def loaded(self) -> bool:
        """Whether `ready()` would return at once."""
        return self._ready.is_set()

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
        # read in pages: the stored values of one page at a time, not of every object, sit beside the
        # decoded objects (at 100k objects, ~110 MB less at the peak, which the heap keeps after)
        items, revision, more = await self.store.range(self.prefix, limit=LOAD_PAGE)
        objects = {kv.key: from_kv(kv) for kv in items}
        while more:
            items, _, more = await self.store.range(self.prefix, revision=revision, limit=LOAD_PAGE,
                                                    after=items[-1].key)
            objects.update((kv.key, from_kv(kv)) for kv in items)
        del items
        self.objects = objects
        self._ordered = None
        for key in list(self._json):
            self._forget(key)
        self.history.clear()
        self.oldest = self.revision = revision
        self._notify()
        for w in list(self.watchers):  # they may have missed events while we were away
            w.close()
        self.feeds.clear()  # their watchers are closed; new watchers start new feeds
        self._dirty.clear()
        self._ready.set()
        async for event in self.store.watch(self.prefix, since=revision):
            self._apply(event)

    def _apply(self, event: Event) -> None:
        key = event.kv.key
        prev = self.objects.get(key)
        self._forget(key)
        ordered = self._ordered
        if event.type == "DELETE":
            self._hints.pop(key, None)
            if prev is not None:  # the last state is the cache's object: share its content, not a decoded copy
                obj = at_revision(prev, event.revision)
            else:
                obj = from_storage(event.prev.value if event.prev else b"{}", event.revision)
            self.objects.pop(key, None)
            self._ordered = None
            ce = CacheEvent("DELETED", key, obj, prev, event.revision)
        else:
            hinted = self._hints.pop(key, None)
            if hinted is not None and hinted[0] is event.kv.value:  # this write's own object: no decode
                obj = hinted[1]
                obj.setdefault("metadata", {})["resourceVersion"] = str(event.revision)
            else:
                obj = from_kv(event.kv)
            if prev is None:
                self._ordered = None
            elif ordered is not None and (i := ordered.at(key)) is not None:
                ordered.objs[i] = obj
                ordered.json[i] = None
            self.objects[key] = obj
            ce = CacheEvent("MODIFIED" if prev is not None else "ADDED", key, obj, prev, event.revision)
        if len(self.history) == self.history.maxlen:
            self.oldest = self.history[0].revision
        self.history.append(ce)
        self.revision = event.revision
        self._fan_out(ce)
        self._notify()

    def _fan_out(self, ce: CacheEvent) -> None:
        """One append per feed, one per watcher of its own; wake-ups are batched into paced rounds.

        A watcher woken after several events sends them all in one write.
        """
        for feed in self.feeds.values():
            item = view(feed.filter, ce)
            if item is not None:
                feed.items.append(item)
                if not feed.dirty:
                    feed.dirty = True
                    self._dirty.append(feed)
        gone = []
        pending = self._pending
        for w in self._plain:
            item = w.view(ce)
            if item is not None:
                w.queue(item, pending)
            if w.closed:
                gone.append(w)
        for w in gone:
            self.remove_watcher(w)
        if (pending or self._dirty) and self._wake_handle is None:
            loop = asyncio.get_running_loop()
            at = self._last_wake + self._interval
            self._wake_handle = (loop.call_soon(self._wake) if at <= loop.time()
                                 else loop.call_at(at, self._wake))

    def _wake(self) -> None:
        self._wake_handle = None
        self._last_wake = asyncio.get_running_loop().time()
        pending, self._pending = self._pending, []
        for w in pending:
            w.wake.set()
        woken = len(pending)
        feeds, self._dirty = self._dirty, []
        gone: list[Watcher] = []
        for feed in feeds:
            feed.dirty = False
            woken += feed.wake_behind(gone)
        for w in gone:
            self.remove_watcher(w)
        self._interval = min(woken * WAKE_SPACING, MAX_WAKE_INTERVAL)

    def _notify(self) -> None:
        while self._waiters and self._waiters[0][0] <= self.revision:
            fut = heapq.heappop(self._waiters)[2]
            if not fut.done():
                fut.set_result(None)

    def hint(self, key: str, value: bytes, obj: Obj) -> None:
        """A write of `value` (the encoding of `obj`) to `key` is on its way to the store: when its event
        arrives carrying that very bytes object, the cache keeps `obj` (given up by the writer) instead of
        decoding the value again. Any other event for the key drops the hint."""
        self._hints[key] = (value, obj)

    def unhint(self, key: str, value: bytes) -> None:
        """The write of `value` failed: forget its hint (unless another write's replaced it)."""
        hinted = self._hints.get(key)
        if hinted is not None and hinted[0] is value:
            del self._hints[key]

    async def wait_for(self, revision: int, *, timeout: float = 3.0) -> None:
        """Wait until the cache has applied `revision` (kube waits up to 3 s, then 'Too large')."""
        if not self.loaded:
            await self.ready()
        if self.revision >= revision:
            return
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._waiters, (revision, next(self._tiebreak), fut))
        timer = loop.call_later(timeout, _expire, fut)  # every write waits here: cheaper than asyncio.wait_for
        try:
            await fut
        except TimeoutError:
            raise Timeout(
                f"Too large resource version: {revision}, current: {self.revision}", retry_after=1
            ) from None
        finally:
            timer.cancel()

    def ordered(self) -> Ordered:
        """The objects in key order (see Ordered); read it with no await in between, as it changes."""
        ordered = self._ordered
        if ordered is None:
            keys = sorted(self.objects)
            ordered = self._ordered = Ordered(keys, list(map(self.objects.__getitem__, keys)),
                                              list(map(self._json.get, keys)))
        return ordered

    def sorted_keys(self) -> list[str]:
        return self.ordered().keys

    def encoded(self, at: slice | list[int]) -> list[bytes]:
        """The JSON of the objects at these positions of `ordered()`, which must not have changed since they
        were taken: kept from earlier answers, else encoded now and kept while the budget allows."""
        ordered = self.ordered()
        kept = ordered.json
        out = kept[at] if isinstance(at, slice) else [kept[i] for i in at]
        if not all(out):
            positions = range(len(kept))[at] if isinstance(at, slice) else at
            for n, i in enumerate(positions):
                if out[n] is None:
                    out[n] = self._keep(ordered.keys[i], exact(orjson.dumps(ordered.objs[i])), i)
        return out  # type: ignore[return-value]  # no None left

    def json(self, key: str, obj: Obj, *, keep: bool = True) -> bytes:
        """`obj` as JSON: when it is the cache's current object at `key` (a get, or a write's answer), its kept
        encoding, encoded and kept now if need be and `keep`.

        A write's answer is not kept: a list joins the kept encodings, and those made one by one among the
        writes' other allocations lie scattered over the heap, while a list that encodes what isn't kept
        allocates them one after another (a list of 10,000 written one by one over HTTP took 5.0-5.7 ms that way,
        4.2-4.8 ms this way). It also spares each write a copy of its answer."""
        if self.objects.get(key) is not obj:
            return orjson.dumps(obj)
        data = self._json.get(key)
        if data is not None:
            return data
        return self._keep(key, exact(orjson.dumps(obj))) if keep else orjson.dumps(obj)

    def _keep(self, key: str, data: bytes, at: int | None = None) -> bytes:
        """Keep `data` as the JSON of the current object at `key` (position `at` of `ordered()`, if known),
        while the budget allows; returns `data`."""
        budget = self._budget
        if budget.used + len(data) <= budget.limit:
            self._json[key] = data
            budget.used += len(data)
            ordered = self._ordered
            if ordered is not None:
                at = ordered.at(key) if at is None else at
                if at is not None:
                    ordered.json[at] = data
        return data

    def _forget(self, key: str) -> None:
        """Drop the kept JSON of `key` (its object changed or went)."""
        data = self._json.pop(key, None)
        if data is not None:
            self._budget.used -= len(data)

    def events_after(self, revision: int) -> list[CacheEvent]:
        """History after `revision`; Expired when it is older than what the cache remembers."""
        if revision < self.oldest:
            raise Expired(f"too old resource version: {revision} ({self.oldest})")
        return [e for e in self.history if e.revision > revision]

    def add_watcher(self, flt: Filter, *, internal: bool = False, key: str | None = None) -> Watcher:
        """A watcher of every later event; `internal` ones (the server's controllers) outlive shutdown.

        With a `key` (which names the filter: equal keys, equal filters) the watcher reads a feed
        shared with every other watcher of that key instead of a queue of its own.
        """
        w = Watcher(flt, internal=internal) if key is None else Watcher(flt, internal=internal, wake=Wake())
        if self.closing and not internal:  # shutting down: a watch that starts now ends at once, cleanly
            w.close()
            return w
        self.watchers.add(w)
        if key is None:
            self._plain.add(w)
        else:
            feed = self.feeds.get(key)
            if feed is None:
                feed = self.feeds[key] = Feed(key, flt)
            w.feed, w.pos = feed, feed.end
            feed.watchers.add(w)
        return w

    def remove_watcher(self, w: Watcher) -> None:
        self.watchers.discard(w)
        self._plain.discard(w)
        feed = w.feed
        if feed is not None:
            feed.watchers.discard(w)
            if not feed.watchers and self.feeds.get(feed.key) is feed:
                del self.feeds[feed.key]


class Caches:
    """One WatchCache per storage prefix, created on first use."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._caches: dict[str, WatchCache] = {}
        self.closing = False
        self.budget = JsonBudget()

    def get(self, prefix: str) -> WatchCache:
        cache = self._caches.get(prefix)
        if cache is None:
            cache = self._caches[prefix] = WatchCache(self.store, prefix, self.budget)
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
