"""Updates and deletes start from the watch cache's copy (kube's GuaranteedUpdate with a cached object);
a stale copy must never change an answer: the swap fails and the store's copy decides."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

CM = "/api/v1/namespaces/default/configmaps"


@pytest.fixture
def setup(api_and_server: tuple[httpx.AsyncClient, Any]) -> tuple[httpx.AsyncClient, Any]:
    return api_and_server


async def _stale_cache(client: httpx.AsyncClient, srv: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Create `c`, keep its first version, update it, then put the first version back into the cache."""
    first = (await client.post(CM, json={"metadata": {"name": "c"}, "data": {"v": "1"}})).json()
    second = (await client.put(f"{CM}/c", json={**first, "data": {"v": "2"}})).json()
    cache = srv.resources.cache(srv.registry.lookup("", "v1", "configmaps"))
    cache.objects["/registry/configmaps/default/c"] = first
    return first, second


async def test_put_with_the_current_resource_version_succeeds_though_the_cache_is_behind(setup) -> None:  # type: ignore[no-untyped-def]
    client, srv = setup
    _first, second = await _stale_cache(client, srv)
    resp = await client.put(f"{CM}/c", json={**second, "data": {"v": "3"}})
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"] == {"v": "3"}


async def test_put_with_a_stale_resource_version_is_still_a_conflict(setup) -> None:  # type: ignore[no-untyped-def]
    client, srv = setup
    first, _second = await _stale_cache(client, srv)
    resp = await client.put(f"{CM}/c", json={**first, "data": {"v": "3"}})
    assert resp.status_code == 409, resp.text


async def test_patch_from_a_stale_cache_applies_to_the_stored_object(setup) -> None:  # type: ignore[no-untyped-def]
    client, srv = setup
    await _stale_cache(client, srv)
    resp = await client.patch(f"{CM}/c", json={"data": {"w": "x"}},
                              headers={"content-type": "application/merge-patch+json"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"] == {"v": "2", "w": "x"}  # v from the store's copy, not the cache's "1"


async def test_a_no_op_update_answers_with_the_stored_object(setup) -> None:  # type: ignore[no-untyped-def]
    client, srv = setup
    _first, second = await _stale_cache(client, srv)
    resp = await client.put(f"{CM}/c", json=second)
    assert resp.status_code == 200, resp.text
    assert resp.json()["metadata"]["resourceVersion"] == second["metadata"]["resourceVersion"]
    assert resp.json()["data"] == {"v": "2"}


async def test_delete_with_the_current_resource_version_precondition_succeeds(setup) -> None:  # type: ignore[no-untyped-def]
    client, srv = setup
    _first, second = await _stale_cache(client, srv)
    body = {"preconditions": {"resourceVersion": second["metadata"]["resourceVersion"]}}
    resp = await client.request("DELETE", f"{CM}/c", json=body)
    assert resp.status_code == 200, resp.text
    assert (await client.get(f"{CM}/c")).status_code == 404
