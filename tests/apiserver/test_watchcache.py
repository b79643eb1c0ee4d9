"""The watch cache on its own: fan-out, slow watchers, history limits, read-your-writes."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from apiserver import watchcache
from apiserver.app import create_app
from apiserver.settings import Settings
from apiserver.watchcache import WatchCache
from storage import Store

PREFIX = "/registry/configmaps/"


async def test_a_watcher_that_never_reads_is_closed_and_the_others_get_every_event(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watchcache, "WATCHER_BUFFER", 10)
    cache = WatchCache(store, PREFIX)
    await cache.ready()
    slow = cache.add_watcher(lambda _k, _o: True)
    fast = cache.add_watcher(lambda _k, _o: True)
    seen: list[int] = []
    for i in range(25):
        kv = await store.create(f"{PREFIX}ns/c{i}", b'{"metadata":{"name":"c%d"}}' % i)
        await cache.wait_for(kv.mod_revision)
        while fast.events:  # the fast watcher keeps up
            seen.append(fast.events.popleft()[1].revision)
    assert slow.closed and slow not in cache.watchers
    assert len(slow.events) == 10, "the slow watcher's buffer stopped growing at its bound"
    assert not fast.closed and len(seen) == 25
    await cache.stop()


async def test_a_resource_version_older_than_the_history_window_is_expired(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watchcache, "HISTORY", 5)
    cache = WatchCache(store, PREFIX)
    await cache.ready()
    first = await store.create(f"{PREFIX}ns/a", b"{}")
    for i in range(10):
        kv = await store.create(f"{PREFIX}ns/b{i}", b"{}")
    await cache.wait_for(kv.mod_revision)
    assert [e.revision for e in cache.events_after(kv.mod_revision - 2)] == [kv.mod_revision - 1, kv.mod_revision]
    with pytest.raises(Exception, match="too old resource version"):
        cache.events_after(first.mod_revision)
    await cache.stop()


async def test_every_acknowledged_write_is_readable_at_once(store: Store) -> None:
    app = create_app(Settings(database="sqlite://"), None)
    server = app.state.server
    await server.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            path = "/api/v1/namespaces/default/configmaps"

            async def write_then_read(i: int) -> None:
                created = await client.post(path, json={"metadata": {"name": f"c{i}"}})
                assert created.status_code == 201
                got = await client.get(f"{path}/c{i}")
                assert got.status_code == 200
                assert got.json()["metadata"]["resourceVersion"] == created.json()["metadata"]["resourceVersion"]

            await asyncio.gather(*(write_then_read(i) for i in range(50)))
    finally:
        await server.stop()


async def test_a_continue_token_whose_revision_was_compacted_is_410() -> None:
    app = create_app(Settings(database="sqlite://", compact_interval=0))
    server = app.state.server
    await server.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            path = "/api/v1/namespaces/default/configmaps"
            for i in range(3):
                assert (await client.post(path, json={"metadata": {"name": f"c{i}"}})).status_code == 201
            page = (await client.get(path, params={"limit": 1})).json()
            token = page["metadata"]["continue"]
            await client.post(path, json={"metadata": {"name": "later"}})
            await server.store.compact(server.store.revision)
            resp = await client.get(path, params={"limit": 1, "continue": token})
            assert resp.status_code == 410
            assert resp.json()["reason"] == "Expired"
            assert resp.json()["message"].startswith("The provided continue parameter is too old")
    finally:
        await server.stop()


async def test_a_deleted_event_carries_the_last_state_at_the_delete_revision(store: Store) -> None:
    cache = WatchCache(store, PREFIX)
    await cache.ready()
    w = cache.add_watcher(lambda _k, _o: True)
    key = f"{PREFIX}ns/gone"
    created = await store.create(key, b'{"metadata":{"name":"gone","labels":{"a":"b"}},"data":{"k":"v"}}')
    updated = await store.update(key, b'{"metadata":{"name":"gone","labels":{"a":"c"}},"data":{"k":"w"}}',
                                 revision=created.mod_revision)
    await cache.wait_for(updated.mod_revision)
    last = cache.objects[key]
    deleted = await store.delete(key, revision=updated.mod_revision)
    await cache.wait_for(deleted.mod_revision)
    kinds = [(item[0], item[1]) for item in w.events]
    assert [k for k, _ in kinds] == ["ADDED", "MODIFIED", "DELETED"]
    gone = kinds[-1][1]
    assert gone.obj == {"metadata": {"name": "gone", "labels": {"a": "c"}, "resourceVersion": str(gone.revision)},
                        "data": {"k": "w"}}
    assert gone.prev is last and last["metadata"]["resourceVersion"] == str(updated.mod_revision)
    assert key not in cache.objects
    await cache.stop()


async def test_a_cache_loads_every_object_page_by_page(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watchcache, "LOAD_PAGE", 3)
    written = {}
    for i in range(10):
        kv = await store.create(f"{PREFIX}ns{i % 3}/c{i}", b'{"metadata":{"name":"c%d"}}' % i)
        written[kv.key] = kv.mod_revision
    await store.create("/registry/configmapsx/other", b"{}")  # past the prefix: not the cache's
    cache = WatchCache(store, PREFIX)
    await cache.ready()
    assert {k: int(o["metadata"]["resourceVersion"]) for k, o in cache.objects.items()} == written
    assert cache.sorted_keys() == sorted(written)
    kv = await store.create(f"{PREFIX}ns0/after", b"{}")  # and it follows from the revision it loaded at
    await cache.wait_for(kv.mod_revision)
    assert f"{PREFIX}ns0/after" in cache.objects
    await cache.stop()
