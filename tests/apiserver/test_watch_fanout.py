"""Many watchers of one resource: the shared feed, paced wake-ups, hang-ups and shutdown.

Unfiltered watches of one prefix share one log in the watch cache (apiserver/watchcache.py Feed)
and are woken in paced rounds; these tests hold them to the same semantics as a watcher with a
queue of its own: every event exactly once and in order, slow watchers closed, a client that goes
away frees its watcher.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from apiserver import watchcache
from apiserver.watchcache import WatchCache
from storage import Store

PREFIX = "/registry/configmaps/"
CM = "/api/v1/namespaces/default/configmaps"


def configmaps(app: Any) -> WatchCache:
    return app.state.server.caches.get(PREFIX)


@contextlib.asynccontextmanager
async def open_watches(client: httpx.AsyncClient, count: int, params: dict[str, str]
                       ) -> AsyncIterator[list[httpx.Response]]:
    responses: list[httpx.Response] = []
    try:
        for _ in range(count):
            resp = await client.send(client.build_request("GET", CM, params=params), stream=True)
            responses.append(resp)
            assert resp.status_code == 200
        yield responses
    finally:
        for resp in responses:
            await resp.aclose()


async def read_events(resp: httpx.Response, count: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    async for line in resp.aiter_lines():
        if line.strip():
            out.append(json.loads(line))
            if len(out) == count:
                break
    return out


async def test_watchers_of_one_prefix_share_a_feed_and_a_slow_one_is_closed(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watchcache, "WATCHER_BUFFER", 10)
    monkeypatch.setattr(watchcache, "FEED_TRIM", 4)
    cache = WatchCache(store, PREFIX)
    await cache.ready()
    slow = cache.add_watcher(lambda _k, _o: True, key=PREFIX)
    fast = cache.add_watcher(lambda _k, _o: True, key=PREFIX)
    assert slow.feed is fast.feed is not None
    feed = fast.feed
    seen: list[int] = []
    for i in range(25):
        kv = await store.create(f"{PREFIX}ns/c{i}", b'{"metadata":{"name":"c%d"}}' % i)
        await cache.wait_for(kv.mod_revision)
        await asyncio.sleep(0.002)  # a wake-up round
        seen += [ev.revision for _, ev in feed.read(fast.pos, feed.end)]  # the fast watcher keeps up
        fast.pos = feed.end
    assert slow.closed and slow not in cache.watchers
    assert not fast.closed and seen == sorted(seen) and len(seen) == 25
    assert len(feed.items) <= 4 + 1, "events every watcher has read are forgotten"
    await cache.stop()


async def test_many_watchers_each_get_every_event_once_and_in_order(served: tuple[str, Any]) -> None:
    base, _app = served
    async with httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10.0, read=None)) as client:
        rv = (await client.get(CM)).json()["metadata"]["resourceVersion"]
        params = {"watch": "1", "resourceVersion": rv}
        async with open_watches(client, 20, params) as streams:
            writes = await asyncio.gather(*(client.post(CM, json={"metadata": {"name": f"c{i}"}})
                                            for i in range(60)))
            expected = sorted(int(w.json()["metadata"]["resourceVersion"]) for w in writes)
            got = await asyncio.wait_for(asyncio.gather(*(read_events(s, 60) for s in streams)), 10)
    for events in got:
        assert [int(e["object"]["metadata"]["resourceVersion"]) for e in events] == expected
        assert {e["type"] for e in events} == {"ADDED"}


async def test_a_client_that_goes_away_frees_its_watcher(served: tuple[str, Any]) -> None:
    base, app = served
    async with httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10.0, read=None)) as client:
        await client.get(CM)
        cache = configmaps(app)
        before = len(cache.watchers)
        async with client.stream("GET", CM, params={"watch": "1"}) as resp:
            assert resp.status_code == 200
            for _ in range(100):
                if len(cache.watchers) > before:
                    break
                await asyncio.sleep(0.01)
            assert len(cache.watchers) == before + 1
        for _ in range(200):  # an idle watch: only the hang-up can tell the server
            if len(cache.watchers) == before:
                break
            await asyncio.sleep(0.01)
        assert len(cache.watchers) == before


async def test_shutdown_ends_idle_watches(served: tuple[str, Any]) -> None:
    base, app = served
    async with httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10.0, read=None)) as client:
        await client.get(CM)
        async with client.stream("GET", CM, params={"watch": "1"}) as resp:
            assert resp.status_code == 200
            app.state.server.end_watches()
            body = await asyncio.wait_for(resp.aread(), 5)
    assert body == b""


async def test_a_busy_watch_still_ends_at_its_timeout(served: tuple[str, Any]) -> None:
    base, _app = served
    async with httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10.0, read=None)) as client:
        stop = asyncio.Event()

        async def writer() -> None:
            i = 0
            while not stop.is_set():
                await client.post(CM, json={"metadata": {"name": f"busy{i}"}})
                i += 1

        task = asyncio.create_task(writer())
        try:
            loop = asyncio.get_running_loop()
            started = loop.time()
            async with client.stream("GET", CM, params={"watch": "1", "timeoutSeconds": "1"}) as resp:
                events = [line async for line in resp.aiter_lines() if line.strip()]
            assert loop.time() - started < 5
            assert events, "the writes were seen while the watch lasted"
        finally:
            stop.set()
            await task
