"""Namespaces: the ones a cluster starts with, lifecycle admission and the namespace controller.

kube's NamespaceLifecycle admission plugin
(k8s.io/apiserver `pkg/admission/plugin/namespace/lifecycle/admission.go`) and the namespace
controller of kube-controller-manager, which empties a terminating namespace and finalizes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

NS = "/api/v1/namespaces"
POLL_SECONDS = 5.0


def assert_status(resp: httpx.Response, code: int, reason: str) -> dict[str, Any]:
    assert resp.status_code == code, resp.text
    body = resp.json()
    assert (body["kind"], body["apiVersion"], body["status"]) == ("Status", "v1", "Failure"), body
    assert body["reason"] == reason, body
    assert body["code"] == code, body
    return body


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = POLL_SECONDS) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        await asyncio.sleep(0.05)


async def make_namespace(api: httpx.AsyncClient, name: str) -> dict[str, Any]:
    resp = await api.post(NS, json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    assert resp.status_code == 201, resp.text
    return resp.json()


async def gone(api: httpx.AsyncClient, path: str) -> bool:
    return (await api.get(path)).status_code == 404


# ---- what a fresh cluster has ----------------------------------------------------------------


async def test_a_fresh_server_has_the_four_initial_namespaces(api: httpx.AsyncClient) -> None:
    resp = await api.get(NS)
    assert resp.status_code == 200
    items = {i["metadata"]["name"]: i for i in resp.json()["items"]}
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= set(items)
    for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
        assert items[name]["status"]["phase"] == "Active"
        assert items[name]["metadata"]["uid"]


@pytest.mark.parametrize("name", ["default", "kube-system", "kube-public", "kube-node-lease"])
async def test_each_initial_namespace_can_be_read(api: httpx.AsyncClient, name: str) -> None:
    resp = await api.get(f"{NS}/{name}")
    assert resp.status_code == 200
    assert resp.json()["kind"] == "Namespace"
    assert resp.json()["metadata"]["name"] == name


async def test_the_default_kubernetes_service_exists(api: httpx.AsyncClient) -> None:
    resp = await api.get(f"{NS}/default/services/kubernetes")
    assert resp.status_code == 200, resp.text
    svc = resp.json()
    assert svc["spec"]["type"] == "ClusterIP"
    assert svc["spec"]["clusterIP"] == "10.96.0.1"  # the first address of the service range
    assert [(p["name"], p["port"], p["protocol"]) for p in svc["spec"]["ports"]] == [("https", 443, "TCP")]
    assert svc["metadata"]["labels"] == {"component": "apiserver", "provider": "kubernetes"}


# ---- creating namespaces ----------------------------------------------------------------------


async def test_a_new_namespace_is_active_with_the_kubernetes_finalizer(api: httpx.AsyncClient) -> None:
    ns = await make_namespace(api, "fresh")
    assert ns["status"]["phase"] == "Active"
    assert ns["spec"]["finalizers"] == ["kubernetes"]
    assert "namespace" not in ns["metadata"]


async def test_a_namespace_is_labelled_with_its_name(api: httpx.AsyncClient) -> None:
    # NamespaceDefaultLabelName (GA since 1.22): kubernetes.io/metadata.name is set on every namespace.
    ns = await make_namespace(api, "labelled")
    assert ns["metadata"]["labels"]["kubernetes.io/metadata.name"] == "labelled"


@pytest.mark.parametrize("name", ["Upper", "has.dot", "-lead", "x" * 64])
async def test_a_namespace_name_must_be_a_dns_label(api: httpx.AsyncClient, name: str) -> None:
    resp = await api.post(NS, json={"metadata": {"name": name}})
    body = assert_status(resp, 422, "Invalid")
    assert "metadata.name" in [c["field"] for c in body["details"]["causes"]]


async def test_creating_in_a_missing_namespace_is_404(api: httpx.AsyncClient) -> None:
    resp = await api.post(f"{NS}/nowhere/configmaps", json={"metadata": {"name": "c"}})
    body = assert_status(resp, 404, "NotFound")
    assert body["message"] == 'namespaces "nowhere" not found'
    assert body["details"] == {"name": "nowhere", "kind": "namespaces"}


async def test_creating_in_a_namespace_made_just_before_succeeds(api: httpx.AsyncClient) -> None:
    await make_namespace(api, "quick")
    resp = await api.post(f"{NS}/quick/configmaps", json={"metadata": {"name": "c"}})
    assert resp.status_code == 201, resp.text


# ---- immortal namespaces ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["default", "kube-system", "kube-public"])
async def test_system_namespaces_cannot_be_deleted(api: httpx.AsyncClient, name: str) -> None:
    body = assert_status(await api.delete(f"{NS}/{name}"), 403, "Forbidden")
    assert body["message"] == f'namespaces "{name}" is forbidden: this namespace may not be deleted'
    assert body["details"] == {"name": name, "kind": "namespaces"}
    ns = (await api.get(f"{NS}/{name}")).json()
    assert "deletionTimestamp" not in ns["metadata"]
    assert ns["status"]["phase"] == "Active"


# ---- deletion ------------------------------------------------------------------------------------


async def test_deleting_a_namespace_answers_200_with_the_terminating_namespace(api: httpx.AsyncClient) -> None:
    await make_namespace(api, "bye")
    await api.post(f"{NS}/bye/configmaps", json={"metadata": {"name": "c", "finalizers": ["example.com/hold"]}})
    resp = await api.delete(f"{NS}/bye")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["kind"] == "Namespace"
    assert body["metadata"]["deletionTimestamp"]
    assert body["status"]["phase"] == "Terminating"


async def test_an_empty_namespace_goes_away_after_delete(api: httpx.AsyncClient) -> None:
    await make_namespace(api, "empty")
    assert (await api.delete(f"{NS}/empty")).is_success
    await eventually(lambda: gone(api, f"{NS}/empty"), "the empty namespace is deleted")
    names = [i["metadata"]["name"] for i in (await api.get(NS)).json()["items"]]
    assert "empty" not in names


async def test_deleting_a_namespace_deletes_its_contents_then_the_namespace(api: httpx.AsyncClient) -> None:
    await make_namespace(api, "full")
    paths = []
    contents: list[tuple[str, dict[str, Any]]] = [
        (f"{NS}/full/configmaps", {"metadata": {"name": "c"}}),
        (f"{NS}/full/secrets", {"metadata": {"name": "s"}, "stringData": {"k": "v"}}),
        (f"{NS}/full/serviceaccounts", {"metadata": {"name": "sa"}}),
        ("/apis/apps/v1/namespaces/full/deployments", {
            "metadata": {"name": "d"},
            "spec": {"selector": {"matchLabels": {"a": "b"}},
                     "template": {"metadata": {"labels": {"a": "b"}},
                                  "spec": {"containers": [{"name": "c", "image": "i"}]}}}}),
    ]
    for path, body in contents:
        resp = await api.post(path, json=body)
        assert resp.status_code == 201, resp.text
        paths.append(f"{path}/{body['metadata']['name']}")
    # Another namespace's objects are not touched.
    await make_namespace(api, "bystander")
    await api.post(f"{NS}/bystander/configmaps", json={"metadata": {"name": "c"}})

    assert (await api.delete(f"{NS}/full")).is_success
    await eventually(lambda: gone(api, f"{NS}/full"), "the namespace is deleted")
    for path in paths:
        assert await gone(api, path), path
    assert (await api.get("/api/v1/configmaps", params={"fieldSelector": "metadata.namespace=full"})).json()[
        "items"] == []
    assert (await api.get(f"{NS}/bystander/configmaps/c")).status_code == 200


async def test_a_finalizer_on_content_keeps_the_namespace_terminating_until_it_is_removed(
    api: httpx.AsyncClient,
) -> None:
    await make_namespace(api, "held")
    held = f"{NS}/held/configmaps/pinned"
    resp = await api.post(f"{NS}/held/configmaps",
                          json={"metadata": {"name": "pinned", "finalizers": ["example.com/hold"]}})
    assert resp.status_code == 201, resp.text
    await api.post(f"{NS}/held/configmaps", json={"metadata": {"name": "loose"}})

    assert (await api.delete(f"{NS}/held")).is_success
    await eventually(lambda: gone(api, f"{NS}/held/configmaps/loose"), "unfinalized content is deleted")

    async def pinned_marked() -> bool:
        return bool((await api.get(held)).json()["metadata"].get("deletionTimestamp"))

    await eventually(pinned_marked, "the finalized object is marked for deletion")
    await asyncio.sleep(0.3)  # the controller retries; the namespace must stay
    ns = await api.get(f"{NS}/held")
    assert ns.status_code == 200
    assert ns.json()["status"]["phase"] == "Terminating"
    assert ns.json()["metadata"]["deletionTimestamp"]
    assert "kubernetes" in ns.json()["spec"]["finalizers"]

    resp = await api.patch(held, content=b'{"metadata":{"finalizers":null}}',
                           headers={"Content-Type": "application/merge-patch+json"})
    assert resp.status_code == 200, resp.text
    await eventually(lambda: gone(api, f"{NS}/held"), "the namespace is deleted once its content is gone")
    assert await gone(api, held)


async def _terminating(api: httpx.AsyncClient, name: str) -> None:
    await make_namespace(api, name)
    resp = await api.post(f"{NS}/{name}/configmaps",
                          json={"metadata": {"name": "pinned", "finalizers": ["example.com/hold"]}})
    assert resp.status_code == 201, resp.text
    assert (await api.delete(f"{NS}/{name}")).is_success


async def test_creating_in_a_terminating_namespace_is_403(api: httpx.AsyncClient) -> None:
    await _terminating(api, "ending")
    resp = await api.post(f"{NS}/ending/configmaps", json={"metadata": {"name": "late"}})
    body = assert_status(resp, 403, "Forbidden")
    assert body["message"] == (
        'configmaps "late" is forbidden: unable to create new content in namespace ending because it is being '
        "terminated"
    )
    assert body["details"]["name"] == "late"
    assert body["details"]["kind"] == "configmaps"
    assert (await api.get(f"{NS}/ending/configmaps/late")).status_code == 404


async def test_the_terminating_refusal_names_the_namespace_terminating_cause(api: httpx.AsyncClient) -> None:
    # admission.go appends StatusCause{Type: NamespaceTerminating, Field: metadata.namespace}.
    await _terminating(api, "ending2")
    body = (await api.post(f"{NS}/ending2/configmaps", json={"metadata": {"name": "late"}})).json()
    assert {"reason": "NamespaceTerminating", "message": "namespace ending2 is being terminated",
            "field": "metadata.namespace"} in body["details"].get("causes", [])


async def test_creating_in_a_terminating_namespace_is_refused_for_every_kind(api: httpx.AsyncClient) -> None:
    await _terminating(api, "ending3")
    resp = await api.post("/apis/rbac.authorization.k8s.io/v1/namespaces/ending3/roles",
                          json={"metadata": {"name": "r"}, "rules": []})
    body = assert_status(resp, 403, "Forbidden")
    assert body["message"].startswith('roles.rbac.authorization.k8s.io "r" is forbidden: ')


async def test_objects_in_a_terminating_namespace_can_still_be_updated(api: httpx.AsyncClient) -> None:
    await _terminating(api, "ending4")
    resp = await api.patch(f"{NS}/ending4/configmaps/pinned", content=b'{"data":{"k":"v"}}',
                           headers={"Content-Type": "application/merge-patch+json"})
    assert resp.status_code == 200, resp.text


async def test_a_namespace_can_be_made_again_after_it_is_gone(api: httpx.AsyncClient) -> None:
    first = await make_namespace(api, "phoenix")
    await api.delete(f"{NS}/phoenix")
    await eventually(lambda: gone(api, f"{NS}/phoenix"), "the namespace is deleted")
    second = await make_namespace(api, "phoenix")
    assert second["metadata"]["uid"] != first["metadata"]["uid"]
    assert second["status"]["phase"] == "Active"
