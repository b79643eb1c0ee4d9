"""The controllers' informer loop: events in order, and a relist after falling behind."""

from __future__ import annotations

import asyncio

import pytest

from apiserver import watchcache
from apiserver.controllers import follow, stop_tasks
from apiserver.resources import Ctx
from apiserver.watchcache import CacheEvent


@pytest.fixture
def server(api_and_server):  # type: ignore[no-untyped-def]
    return api_and_server[1]


async def _create(srv, name: str) -> None:  # type: ignore[no-untyped-def]
    rt = srv.registry.lookup("", "v1", "configmaps")
    await srv.resources.create(Ctx(rt, "default", name), {"metadata": {"name": name}, "data": {"k": name}})


async def test_follow_sees_each_event_in_order_then_relists_after_falling_behind(server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(watchcache, "WATCHER_BUFFER", 5)
    rt = server.registry.lookup("", "v1", "configmaps")
    cache = server.resources.cache(rt)
    seen: list[str] = []
    relists: list[list[str]] = []
    gate = asyncio.Event()
    gate.set()

    async def on_event(kind: str, ev: CacheEvent) -> None:
        seen.append(f"{kind} {ev.obj['metadata']['name']}")
        await gate.wait()

    async def on_relist(objs: list[dict]) -> None:  # type: ignore[type-arg]
        relists.append(sorted(o["metadata"]["name"] for o in objs))

    task = asyncio.create_task(follow(cache, lambda k, _o: k.startswith("/registry/configmaps/default/"),
                                      on_event, on_relist))
    try:
        await asyncio.sleep(0.05)
        await _create(server, "a")
        await _create(server, "b")
        for _ in range(100):
            if len(seen) == 2:
                break
            await asyncio.sleep(0.01)
        assert seen == ["ADDED a", "ADDED b"] and relists == []

        gate.clear()  # the controller is stuck in its handler while 10 more objects arrive
        await _create(server, "c")
        await asyncio.sleep(0.05)
        for i in range(10):
            await _create(server, f"n{i}")
        gate.set()
        for _ in range(200):
            if relists:
                break
            await asyncio.sleep(0.01)
        assert relists, "a watcher closed for falling behind must be replaced and the objects listed again"
        assert relists[0] == sorted(["a", "b", "c", *(f"n{i}" for i in range(10))])
    finally:
        await stop_tasks([task])
    assert task.cancelled()
