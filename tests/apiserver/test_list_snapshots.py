"""Continue pages and exact-resourceVersion lists come from the watch cache when nothing under the listed
prefix changed since the snapshot's revision, and from the store (the snapshot) when something did."""

from __future__ import annotations

from typing import Any

import httpx
import pytest


@pytest.fixture
async def setup(api_and_server: tuple[httpx.AsyncClient, Any]) -> tuple[httpx.AsyncClient, Any]:
    client, srv = api_and_server
    for ns in ("a", "b"):
        assert (await client.post("/api/v1/namespaces", json={"metadata": {"name": ns}})).status_code == 201
    for i in range(5):
        body = {"metadata": {"name": f"c{i}"}, "data": {"v": "1"}}
        assert (await client.post("/api/v1/namespaces/a/configmaps", json=body)).status_code == 201
    return client, srv


def _count_store_ranges(srv: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = srv.store.range

    async def counting(prefix: str, **kw: Any) -> Any:
        calls.append(prefix)
        return await real(prefix, **kw)

    monkeypatch.setattr(srv.store, "range", counting)
    return calls


async def test_pages_come_from_the_cache_while_the_prefix_is_unchanged(setup, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    client, srv = setup
    calls = _count_store_ranges(srv, monkeypatch)
    first = (await client.get("/api/v1/namespaces/a/configmaps?limit=2")).json()
    # a write elsewhere (another namespace) doesn't touch this list's snapshot
    await client.post("/api/v1/namespaces/b/configmaps", json={"metadata": {"name": "other"}})
    names, token = [o["metadata"]["name"] for o in first["items"]], first["metadata"]["continue"]
    assert first["metadata"]["remainingItemCount"] == 3
    while token:
        page = (await client.get(f"/api/v1/namespaces/a/configmaps?limit=2&continue={token}")).json()
        names += [o["metadata"]["name"] for o in page["items"]]
        token = page["metadata"].get("continue")
        assert page["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    assert names == [f"c{i}" for i in range(5)]
    assert calls == []


async def test_pages_after_a_change_under_the_prefix_show_the_snapshot_from_the_store(setup, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    client, srv = setup
    calls = _count_store_ranges(srv, monkeypatch)
    first = (await client.get("/api/v1/namespaces/a/configmaps?limit=2")).json()
    c4 = (await client.get("/api/v1/namespaces/a/configmaps/c4")).json()
    resp = await client.put("/api/v1/namespaces/a/configmaps/c4", json={**c4, "data": {"v": "2"}})
    assert resp.status_code == 200
    page = (await client.get(f"/api/v1/namespaces/a/configmaps?continue={first['metadata']['continue']}")).json()
    assert [o["data"]["v"] for o in page["items"]] == ["1", "1", "1"]  # c4 as it was at the snapshot
    assert calls, "a changed prefix must be read from the store at the snapshot's revision"


async def test_an_exact_resource_version_list_is_the_snapshot(setup) -> None:  # type: ignore[no-untyped-def]
    client, _srv = setup
    rv = (await client.get("/api/v1/namespaces/a/configmaps")).json()["metadata"]["resourceVersion"]
    await client.delete("/api/v1/namespaces/a/configmaps/c0")
    exact = (await client.get(f"/api/v1/namespaces/a/configmaps?resourceVersion={rv}"
                              "&resourceVersionMatch=Exact")).json()
    assert [o["metadata"]["name"] for o in exact["items"]] == [f"c{i}" for i in range(5)]
    unchanged = (await client.get("/api/v1/namespaces/b/configmaps?resourceVersion="
                                  f"{rv}&resourceVersionMatch=Exact")).json()
    assert unchanged["items"] == [] and unchanged["metadata"]["resourceVersion"] == rv
