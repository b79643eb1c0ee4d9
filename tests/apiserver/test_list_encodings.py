"""Lists answered from the watch cache's kept item encodings (WatchCache.ordered/encoded, JoinedReply).

A JSON list of the cache's objects joins each object's JSON, encoded once and kept for later lists
within a byte budget; an object that changes or goes drops its own. These tests check that what such
a list says is always what the objects are now, and that the budget's count is exact.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

import apiserver.messages
from apiserver.messages import JoinedReply
from apiserver.server import Server
from apiserver.watchcache import WatchCache

CM = "/api/v1/namespaces/default/configmaps"


def _cache(srv: Server) -> WatchCache:
    rt = srv.registry.lookup("", "v1", "configmaps")
    assert rt is not None
    return srv.resources.cache(rt)


def _kept_bytes(cache: WatchCache) -> int:
    return sum(map(len, cache._json.values()))


async def _create(api: httpx.AsyncClient, name: str, **labels: str) -> None:
    body = {"metadata": {"name": name, "labels": labels},
            "data": {"text": f"{name} ünïcödé \u2603 \"quoted\" \\ back", "n": str(len(name))}}
    resp = await api.post(CM, json=body)
    assert resp.status_code == 201, resp.text


async def _items(api: httpx.AsyncClient, query: str = "") -> list[dict[str, Any]]:
    resp = await api.get(CM + query)
    assert resp.status_code == 200, resp.text
    assert int(resp.headers["content-length"]) == len(resp.content)
    listed = orjson.loads(resp.content)
    assert listed["kind"] == "ConfigMapList" and listed["apiVersion"] == "v1"
    return list(listed["items"])


async def _one_by_one(api: httpx.AsyncClient, names: list[str]) -> list[dict[str, Any]]:
    out = []
    for name in sorted(names):
        resp = await api.get(f"{CM}/{name}")
        assert resp.status_code == 200, resp.text
        out.append(resp.json())
    return out


async def test_a_repeated_list_is_the_objects_as_gets_show_them(api_and_server: tuple[httpx.AsyncClient, Server]
                                                                ) -> None:
    api, srv = api_and_server
    names = [f"cm-{i:02d}" for i in range(25)]
    for name in names:
        await _create(api, name)
    first = await _items(api)
    cache = _cache(srv)
    assert len(cache._json) == 25  # the creates' answers and the first list kept every item's JSON...
    second = await _items(api)  # ...and the second joins them
    assert first == second == await _one_by_one(api, names)


async def test_a_list_after_changes_shows_the_objects_as_they_are_now(
        api_and_server: tuple[httpx.AsyncClient, Server]) -> None:
    api, srv = api_and_server
    names = [f"cm-{i}" for i in range(8)]
    for name in names:
        await _create(api, name)
    await _items(api)  # keeps every item's JSON
    current = (await api.get(f"{CM}/cm-1")).json()
    current["data"] = {"replaced": "yes"}
    assert (await api.put(f"{CM}/cm-1", json=current)).status_code == 200
    resp = await api.patch(f"{CM}/cm-2", content=b'{"data":{"patched":"1"}}',
                           headers={"content-type": "application/merge-patch+json"})
    assert resp.status_code == 200, resp.text
    assert (await api.delete(f"{CM}/cm-3")).status_code == 200
    await _create(api, "cm-new")
    names = [n for n in names if n != "cm-3"] + ["cm-new"]
    listed = await _items(api)
    assert listed == await _one_by_one(api, names)
    by_name = {o["metadata"]["name"]: o for o in listed}
    assert by_name["cm-1"]["data"] == {"replaced": "yes"}
    assert by_name["cm-2"]["data"]["patched"] == "1"
    assert _kept_bytes(_cache(srv)) == _cache(srv)._budget.used


async def test_selected_lists_and_pages_are_the_current_objects(api_and_server: tuple[httpx.AsyncClient, Server]
                                                                ) -> None:
    api, _srv = api_and_server
    for i in range(12):
        await _create(api, f"cm-{i:02d}", tier="front" if i % 3 == 0 else "back")
    await _items(api)
    await _items(api, "?labelSelector=tier%3Dfront")
    resp = await api.patch(f"{CM}/cm-03", content=b'{"metadata":{"labels":{"tier":"back"}},"data":{"x":"y"}}',
                           headers={"content-type": "application/merge-patch+json"})
    assert resp.status_code == 200, resp.text
    front = await _items(api, "?labelSelector=tier%3Dfront")
    assert [o["metadata"]["name"] for o in front] == ["cm-00", "cm-06", "cm-09"]
    assert front == await _one_by_one(api, ["cm-00", "cm-06", "cm-09"])
    back = await _items(api, "?labelSelector=tier%3Dback")
    assert next(o for o in back if o["metadata"]["name"] == "cm-03")["data"]["x"] == "y"
    pages: list[dict[str, Any]] = []
    token = ""
    while True:
        resp = await api.get(CM, params={"limit": "5", **({"continue": token} if token else {})})
        assert resp.status_code == 200, resp.text
        pages += resp.json()["items"]
        token = resp.json()["metadata"].get("continue", "")
        if not token:
            break
    assert pages == await _items(api)


async def test_the_budget_bounds_the_kept_json_and_counts_it_exactly(
        api_and_server: tuple[httpx.AsyncClient, Server]) -> None:
    api, srv = api_and_server
    cache = _cache(srv)
    names = [f"cm-{i:02d}" for i in range(10)]
    await _create(api, names[0])
    size = len((await api.get(f"{CM}/{names[0]}")).content)  # kept by its create's answer or by this get
    cache._budget.limit = cache._budget.used + 2 * size + size // 2  # room for three objects' JSON
    for name in names[1:]:
        await _create(api, name)
    assert await _items(api) == await _one_by_one(api, names)
    assert len(cache._json) == 3 and cache._budget.used == _kept_bytes(cache) <= cache._budget.limit
    assert await _items(api) == await _one_by_one(api, names)  # kept and fresh encodings mixed
    for name in names:
        assert (await api.delete(f"{CM}/{name}")).status_code == 200
    assert await _items(api) == []
    assert cache._budget.used == 0 and cache._json == {}


async def test_yaml_and_table_lists_are_not_joined(api: httpx.AsyncClient) -> None:
    await _create(api, "only")
    await _items(api)
    resp = await api.get(CM, headers={"accept": "application/yaml"})
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/yaml"
    assert b"name: only" in resp.content
    resp = await api.get(CM, headers={"accept": "application/json;as=Table;v=v1;g=meta.k8s.io"})
    assert resp.status_code == 200 and resp.json()["kind"] == "Table"
    assert [row["cells"][0] for row in resp.json()["rows"]] == ["only"]


# ---- JoinedReply ------------------------------------------------------------------------------


async def _sent(reply: JoinedReply) -> tuple[list[dict[str, Any]], bytes]:
    messages: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        messages.append(message)

    await reply({"type": "http"}, None, send)
    body = b"".join(m.get("body", b"") for m in messages[1:])
    return messages, body


@pytest.mark.parametrize("count", [0, 1, 2, 7, 100])
async def test_a_joined_reply_sends_head_parts_and_tail_in_pieces_of_the_stated_length(
        count: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(apiserver.messages, "PIECE", 64)  # a piece every few parts
    parts = [orjson.dumps({"i": i, "pad": "x" * (i % 13)}) for i in range(count)]
    reply = JoinedReply(b'{"kind":"L","items":[', parts, b"]}", 200, "application/json")
    messages, body = await _sent(reply)
    assert orjson.loads(body) == {"kind": "L", "items": [{"i": i, "pad": "x" * (i % 13)} for i in range(count)]}
    headers = dict(messages[0]["headers"])
    assert int(headers[b"content-length"]) == len(body)
    assert messages[0]["type"] == "http.response.start" and messages[0]["status"] == 200
    assert all(m["more_body"] for m in messages[1:-1]) and not messages[-1].get("more_body", False)
    if count >= 7:
        assert len(messages) > 4  # more than one piece of parts


async def test_gets_keep_the_json_of_the_current_object_and_write_answers_leave_it_to_them(
        api_and_server: tuple[httpx.AsyncClient, Server]) -> None:
    api, srv = api_and_server
    cache = _cache(srv)
    # The cache follows live writes once it is loaded and a write made after that is acknowledged (see
    # test_write_hint._following). A write made before could be acknowledged by the load itself, while the
    # watch's replay from the database, which can carry the next write too (with bytes of its own, so its
    # hint can't match), is still to come.
    await cache.ready()
    await _create(api, "warm-up")
    key = "/registry/configmaps/default/one"
    resp = await api.post(CM, json={"metadata": {"name": "one"}, "data": {"a": "1"}})
    assert resp.status_code == 201 and key not in cache._json  # a write's answer is not kept (WatchCache.json)
    got = await api.get(f"{CM}/one")
    assert got.content == resp.content == cache._json[key]  # the get's is, and is the same JSON
    body = got.json()
    body["data"] = {"a": "2"}
    put = await api.put(f"{CM}/one", json=body)
    assert put.status_code == 200 and put.json()["data"] == {"a": "2"} and key not in cache._json
    assert (await api.get(f"{CM}/one")).content == put.content == cache._json[key]
    patched = await api.patch(f"{CM}/one", json={"data": {"a": "3"}},
                              headers={"content-type": "application/merge-patch+json"})
    assert patched.status_code == 200 and key not in cache._json
    assert (await api.get(f"{CM}/one")).content == patched.content == cache._json[key]
    dry = await api.post(CM + "?dryRun=All", json={"metadata": {"name": "two"}})
    assert dry.status_code == 201 and "/registry/configmaps/default/two" not in cache._json
    assert (await api.get(f"{CM}/one", headers={"accept": "application/yaml"})).text.count("a: '3'") == 1
    assert cache._budget.used == _kept_bytes(cache)
