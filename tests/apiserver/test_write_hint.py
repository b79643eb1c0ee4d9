"""Writes hand the watch cache the object they encoded (WatchCache.hint, Resources._encode/_write).

The cache keeps a write's own object only when the event carries that very bytes object; any other
event for the key, or a failed write, drops the hint, and the cache then decodes the store's value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest

import apiserver.objects
import apiserver.watchcache
from apiserver.objects import Obj
from apiserver.resources import Ctx
from apiserver.server import Server
from apiserver.watchcache import WatchCache
from storage import KeyValue

CM = "/api/v1/namespaces/default/configmaps"
KEY = "/registry/configmaps/default/c"

Setup = tuple[httpx.AsyncClient, Server, WatchCache]


@pytest.fixture
async def setup(api_and_server: tuple[httpx.AsyncClient, Server]) -> Setup:
    client, srv = api_and_server
    cache = _cache(srv)
    await _following(client, cache, CM)
    return client, srv, cache


async def _following(client: httpx.AsyncClient, cache: WatchCache, collection: str) -> None:
    """Wait until `cache` applies live events. Until its watch has replayed the store's history (events read
    back from the database, with bytes objects of their own), no write's hint can match."""
    await cache.ready()
    # a write is acknowledged once the cache has it: by then the replay is over
    resp = await client.post(collection, json={"metadata": {"name": "warm-up"}})
    assert resp.status_code == 201, resp.text


def _cache(srv: Server) -> WatchCache:
    rt = srv.registry.lookup("", "v1", "configmaps")
    assert rt is not None
    return srv.resources.cache(rt)


@dataclass
class Spy:
    """What the writes encoded, and who decoded which key."""

    encoded: list[tuple[bytes, Obj]] = field(default_factory=list)  # (value, stored) per Resources._encode
    cache_decodes: list[str] = field(default_factory=list)  # keys the watch cache decoded (from_kv, from_storage)
    server_decodes: list[str] = field(default_factory=list)  # keys decoded through apiserver.objects.from_kv

    def cache_decoded(self, key: str) -> int:
        return self.cache_decodes.count(key)

    def server_decoded(self, key: str) -> int:
        return self.server_decodes.count(key)


def _spy(srv: Server, monkeypatch: pytest.MonkeyPatch) -> Spy:
    spy = Spy()
    real_encode = srv.resources._encode

    def encode(ctx: Ctx, obj: Obj) -> tuple[bytes, Obj]:
        value, stored = real_encode(ctx, obj)
        spy.encoded.append((value, stored))
        return value, stored

    monkeypatch.setattr(srv.resources, "_encode", encode)

    real_cache_from_kv = apiserver.watchcache.from_kv
    real_cache_from_storage = apiserver.watchcache.from_storage
    real_from_kv = apiserver.objects.from_kv

    def cache_from_kv(kv: KeyValue) -> Obj:
        spy.cache_decodes.append(kv.key)
        return real_cache_from_kv(kv)

    def cache_from_storage(value: bytes, revision: int) -> Obj:
        spy.cache_decodes.append("<from_storage>")
        return real_cache_from_storage(value, revision)

    def server_from_kv(kv: KeyValue) -> Obj:
        spy.server_decodes.append(kv.key)
        return real_from_kv(kv)

    monkeypatch.setattr(apiserver.watchcache, "from_kv", cache_from_kv)
    monkeypatch.setattr(apiserver.watchcache, "from_storage", cache_from_storage)
    monkeypatch.setattr(apiserver.objects, "from_kv", server_from_kv)
    return spy


def _before_store(srv: Server, method: str, monkeypatch: pytest.MonkeyPatch,
                  action: Callable[[str, bytes], None]) -> list[tuple[str, bytes]]:
    """Run `action(key, value)` as the store's `method` (create or update) is called, before it runs."""
    calls: list[tuple[str, bytes]] = []
    real = getattr(srv.store, method)

    async def wrapped(key: str, value: bytes, **kw: Any) -> KeyValue:
        calls.append((key, value))
        action(key, value)
        result: KeyValue = await real(key, value, **kw)
        return result

    monkeypatch.setattr(srv.store, method, wrapped)
    return calls


def _decoded(value: bytes, revision: int) -> Obj:
    obj: Obj = orjson.loads(value)
    obj["metadata"]["resourceVersion"] = str(revision)
    return obj


async def _stored(srv: Server, key: str = KEY) -> Obj:
    """The store's copy of `key`, as a read serves it."""
    kv = await srv.store.get(key)
    return _decoded(kv.value, kv.mod_revision)


# ---- create -----------------------------------------------------------------------------------


async def test_a_create_hands_the_cache_the_object_it_encoded(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    client, srv, cache = setup
    spy = _spy(srv, monkeypatch)
    hinted: list[Any] = []
    _before_store(srv, "create", monkeypatch, lambda key, value: hinted.append(cache._hints.get(key)))

    resp = await client.post(CM, json={"metadata": {"name": "c", "labels": {"a": "b"}}, "data": {"k": "v"}})

    assert resp.status_code == 201, resp.text
    assert len(spy.encoded) == 1
    value, stored = spy.encoded[0]
    assert len(hinted) == 1 and hinted[0] is not None
    assert hinted[0][0] is value and hinted[0][1] is stored  # the write hinted its own bytes and object
    cached = cache.objects[KEY]
    assert cached is stored  # the very dict the write encoded
    assert spy.cache_decoded(KEY) == 0  # the cache did not decode this write's value
    assert spy.server_decoded(KEY) == 0  # nor did the answer (_write kept `stored`)
    assert KEY not in cache._hints

    body = resp.json()
    assert body == cached
    assert body["data"] == {"k": "v"} and body["metadata"]["labels"] == {"a": "b"}
    rv = body["metadata"]["resourceVersion"]
    assert cached["metadata"]["resourceVersion"] == rv
    kv = await srv.store.get(KEY)
    assert kv.mod_revision == int(rv)
    assert kv.value == value
    assert _decoded(kv.value, kv.mod_revision) == cached  # the kept object is what the store holds
    event = cache.history[-1]
    assert (event.type, event.key, event.revision) == ("ADDED", KEY, int(rv))
    assert event.obj is cached

    got = await client.get(f"{CM}/c")
    assert got.json() == body


async def test_a_failed_create_leaves_no_hint(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    client, srv, cache = setup
    first = await client.post(CM, json={"metadata": {"name": "c"}, "data": {"k": "1"}})
    assert first.status_code == 201, first.text
    before = cache.objects[KEY]
    before_json = orjson.dumps(before)
    spy = _spy(srv, monkeypatch)
    hinted: list[Any] = []
    _before_store(srv, "create", monkeypatch, lambda key, value: hinted.append(cache._hints.get(key)))

    again = await client.post(CM, json={"metadata": {"name": "c"}, "data": {"k": "2"}})

    assert again.status_code == 409, again.text
    assert again.json()["reason"] == "AlreadyExists"
    assert len(spy.encoded) == 1  # the write got as far as the store, with a hint ...
    assert hinted[0] is not None and hinted[0][0] is spy.encoded[0][0]
    assert KEY not in cache._hints  # ... which it took back
    assert cache._hints == {}
    assert cache.objects[KEY] is before  # the cache is untouched
    assert orjson.dumps(cache.objects[KEY]) == before_json
    assert cache.objects[KEY] == await _stored(srv)
    assert cache.objects[KEY]["data"] == {"k": "1"}


async def test_a_hint_the_write_replaces_is_never_used(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    client, srv, cache = setup
    bogus: Obj = {"bogus": True, "metadata": {"name": "c"}}
    cache.hint(KEY, b'{"other": "bytes"}', bogus)
    spy = _spy(srv, monkeypatch)

    resp = await client.post(CM, json={"metadata": {"name": "c"}, "data": {"k": "v"}})

    assert resp.status_code == 201, resp.text
    assert cache.objects[KEY] is not bogus
    assert cache.objects[KEY] is spy.encoded[0][1]
    assert cache.objects[KEY] == resp.json() == await _stored(srv)
    assert bogus == {"bogus": True, "metadata": {"name": "c"}}  # not stamped with a resourceVersion
    assert KEY not in cache._hints


async def test_a_hint_for_other_bytes_is_not_used_the_cache_decodes(setup: Setup,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Another write's hint in place when this write's event arrives (two writers of one key)."""
    client, srv, cache = setup
    spy = _spy(srv, monkeypatch)
    bogus: Obj = {"bogus": True, "metadata": {"name": "c"}}
    other = b'{"metadata":{"name":"c"},"other":"bytes"}'
    calls = _before_store(srv, "create", monkeypatch, lambda key, value: cache.hint(key, other, bogus))

    resp = await client.post(CM, json={"metadata": {"name": "c"}, "data": {"k": "v"}})

    assert resp.status_code == 201, resp.text
    assert len(calls) == 1 and calls[0][1] is spy.encoded[0][0]
    cached = cache.objects[KEY]
    assert cached is not bogus
    assert cached is not spy.encoded[0][1]  # the write's object wasn't hinted any more: not taken
    assert spy.cache_decoded(KEY) == 1  # the cache decoded the event's value
    assert cached == await _stored(srv)
    assert cached["data"] == {"k": "v"}
    assert "bogus" not in cached
    assert bogus == {"bogus": True, "metadata": {"name": "c"}}
    assert KEY not in cache._hints  # the event dropped the hint
    # the answer is the store's object too, decoded since the cache didn't take the write's
    assert spy.server_decoded(KEY) == 1
    assert resp.json() == cached
    assert "resourceVersion" not in spy.encoded[0][1]["metadata"]


async def test_an_equal_but_different_bytes_object_is_not_a_match(setup: Setup,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _client, srv, cache = setup
    spy = _spy(srv, monkeypatch)
    obj: Obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"},
                "data": {"k": "v"}}
    value = orjson.dumps(obj)
    copy = bytes(bytearray(value))
    assert copy == value and copy is not value
    bogus: Obj = {"bogus": True, "metadata": {}}
    cache.hint(KEY, copy, bogus)

    kv = await srv.store.create(KEY, value)
    await cache.wait_for(kv.mod_revision)

    assert cache.objects[KEY] is not bogus
    assert cache.objects[KEY] == {**obj, "metadata": {**obj["metadata"], "resourceVersion": str(kv.mod_revision)}}
    assert spy.cache_decoded(KEY) == 1
    assert KEY not in cache._hints
    assert bogus == {"bogus": True, "metadata": {}}


async def test_the_very_bytes_object_is_a_match(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    """The other side of the previous test: the same bytes object hinted is taken without a decode."""
    _client, srv, cache = setup
    spy = _spy(srv, monkeypatch)
    obj: Obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"},
                "data": {"k": "v"}}
    value = orjson.dumps(obj)
    cache.hint(KEY, value, obj)

    kv = await srv.store.create(KEY, value)
    await cache.wait_for(kv.mod_revision)

    assert cache.objects[KEY] is obj
    assert obj["metadata"]["resourceVersion"] == str(kv.mod_revision)
    assert spy.cache_decoded(KEY) == 0
    assert KEY not in cache._hints


async def test_a_delete_drops_a_hint(setup: Setup) -> None:
    client, _srv, cache = setup
    created = (await client.post(CM, json={"metadata": {"name": "c"}, "data": {"k": "v"}})).json()
    bogus: Obj = {"bogus": True}
    cache.hint(KEY, b"{}", bogus)
    resp = await client.delete(f"{CM}/c")
    assert resp.status_code == 200, resp.text
    assert KEY not in cache.objects
    assert KEY not in cache._hints
    event = cache.history[-1]
    assert (event.type, event.key) == ("DELETED", KEY)
    assert event.obj is not bogus
    assert event.obj["data"] == {"k": "v"} and event.obj["metadata"]["uid"] == created["metadata"]["uid"]


# ---- update -----------------------------------------------------------------------------------


async def test_an_update_hands_the_cache_the_object_it_encoded(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    client, srv, cache = setup
    first = (await client.post(CM, json={"metadata": {"name": "c"}, "data": {"k": "1"}})).json()
    old = cache.objects[KEY]
    old_json = orjson.dumps(old)
    spy = _spy(srv, monkeypatch)

    resp = await client.put(f"{CM}/c", json={**first, "data": {"k": "2"}})

    assert resp.status_code == 200, resp.text
    assert len(spy.encoded) == 1
    value, stored = spy.encoded[0]
    cached = cache.objects[KEY]
    assert cached is stored
    assert cached is not old
    assert spy.cache_decoded(KEY) == 0
    assert spy.server_decoded(KEY) == 0
    assert KEY not in cache._hints
    body = resp.json()
    assert body == cached
    assert body["data"] == {"k": "2"}
    rv = body["metadata"]["resourceVersion"]
    assert rv != first["metadata"]["resourceVersion"]
    assert cached["metadata"]["resourceVersion"] == rv
    kv = await srv.store.get(KEY)
    assert (kv.value, kv.mod_revision) == (value, int(rv))
    # the previous object (the event's prev, served to watchers) is unchanged by the new one's stamping
    assert orjson.dumps(old) == old_json
    event = cache.history[-1]
    assert (event.type, event.revision) == ("MODIFIED", int(rv))
    assert event.obj is cached and event.prev is old
    assert event.prev["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]


async def test_an_update_with_another_writers_hint_in_place_decodes(setup: Setup,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    client, srv, cache = setup
    first = (await client.post(CM, json={"metadata": {"name": "c"}, "data": {"k": "1"}})).json()
    spy = _spy(srv, monkeypatch)
    bogus: Obj = {"bogus": True, "metadata": {"name": "c"}}
    _before_store(srv, "update", monkeypatch, lambda key, value: cache.hint(key, b'{"x":1}', bogus))

    resp = await client.put(f"{CM}/c", json={**first, "data": {"k": "2"}})

    assert resp.status_code == 200, resp.text
    cached = cache.objects[KEY]
    assert cached is not bogus and cached is not spy.encoded[0][1]
    assert spy.cache_decoded(KEY) == 1
    assert cached == await _stored(srv)
    assert cached["data"] == {"k": "2"}
    assert resp.json() == cached
    assert KEY not in cache._hints
    assert bogus == {"bogus": True, "metadata": {"name": "c"}}


async def test_a_put_with_a_stale_resource_version_is_409_and_changes_nothing(setup: Setup,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    client, srv, cache = setup
    first = (await client.post(CM, json={"metadata": {"name": "c"}, "data": {"k": "1"}})).json()
    second = (await client.put(f"{CM}/c", json={**first, "data": {"k": "2"}})).json()
    current = cache.objects[KEY]
    spy = _spy(srv, monkeypatch)

    resp = await client.put(f"{CM}/c", json={**first, "data": {"k": "3"}})

    assert resp.status_code == 409, resp.text
    assert resp.json()["reason"] == "Conflict"
    assert spy.encoded == []  # refused before anything was encoded or hinted
    assert cache._hints == {}
    assert cache.objects[KEY] is current
    assert current == second == await _stored(srv)


async def test_a_put_that_loses_the_compare_and_swap_is_409_and_leaves_no_hint(
        setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache is behind (it still has the first version), so the PUT's stale resourceVersion passes
    the check against it: the write is encoded and hinted, and the store's compare-and-swap refuses it."""
    client, srv, cache = setup
    first = (await client.post(CM, json={"metadata": {"name": "c"}, "data": {"k": "1"}})).json()
    second = (await client.put(f"{CM}/c", json={**first, "data": {"k": "2"}})).json()
    cache.objects[KEY] = {**first}
    spy = _spy(srv, monkeypatch)
    hinted: list[Any] = []
    _before_store(srv, "update", monkeypatch, lambda key, value: hinted.append(cache._hints.get(key)))

    resp = await client.put(f"{CM}/c", json={**first, "data": {"k": "3"}})

    assert resp.status_code == 409, resp.text
    assert len(spy.encoded) == 1
    assert len(hinted) == 1 and hinted[0] is not None and hinted[0][0] is spy.encoded[0][0]
    assert KEY not in cache._hints  # taken back when the swap failed
    assert await _stored(srv) == second  # nothing written

    # the next write of the key is applied from its own object, not a left-over one
    resp = await client.put(f"{CM}/c", json={**second, "data": {"k": "4"}})
    assert resp.status_code == 200, resp.text
    assert cache.objects[KEY] is spy.encoded[-1][1]
    assert cache.objects[KEY] == resp.json() == await _stored(srv)
    assert cache.objects[KEY]["data"] == {"k": "4"}
    assert cache._hints == {}


async def test_a_patch_retried_after_a_lost_swap_hints_only_its_last_attempt(
        setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    """A patch has no precondition: the lost swap (against the cache's stale copy) is retried on the store's."""
    client, srv, cache = setup
    first = (await client.post(CM, json={"metadata": {"name": "c"}, "data": {"k": "1"}})).json()
    await client.put(f"{CM}/c", json={**first, "data": {"k": "2"}})
    cache.objects[KEY] = {**first}
    spy = _spy(srv, monkeypatch)
    hinted: list[Any] = []
    _before_store(srv, "update", monkeypatch, lambda key, value: hinted.append(cache._hints.get(key)))

    resp = await client.patch(f"{CM}/c", json={"data": {"p": "x"}},
                              headers={"content-type": "application/merge-patch+json"})

    assert resp.status_code == 200, resp.text
    assert len(spy.encoded) == 2  # the attempt on the stale copy, then the one on the store's
    assert [h[0] for h in hinted] == [spy.encoded[0][0], spy.encoded[1][0]]
    (_, lost), (_, won) = spy.encoded
    assert lost["data"] == {"k": "1", "p": "x"}
    assert won["data"] == {"k": "2", "p": "x"}
    assert cache.objects[KEY] is won
    assert spy.cache_decoded(KEY) == 0
    assert cache.objects[KEY] == resp.json() == await _stored(srv)
    assert "resourceVersion" not in lost["metadata"]  # the lost attempt's object was never stamped
    assert cache._hints == {}


async def test_a_status_update_hands_the_cache_its_object(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    client, srv, _ = setup
    ns = (await client.get("/api/v1/namespaces/default")).json()
    rt = srv.registry.lookup("", "v1", "namespaces")
    assert rt is not None
    cache = srv.resources.cache(rt)
    await _following(client, cache, "/api/v1/namespaces")
    key = "/registry/namespaces/default"
    spy = _spy(srv, monkeypatch)

    resp = await client.put("/api/v1/namespaces/default/status",
                            json={**ns, "status": {**ns.get("status", {}), "phase": "Active",
                                                   "conditions": [{"type": "T", "status": "True"}]}})

    assert resp.status_code == 200, resp.text
    assert cache.objects[key] is spy.encoded[-1][1]
    assert spy.cache_decoded(key) == 0
    assert cache.objects[key] == resp.json() == await _stored(srv, key)
    assert cache.objects[key]["status"]["conditions"] == [{"type": "T", "status": "True"}]
    assert key not in cache._hints
