"""A CRD with several versions: each served version reads and writes through conversion, stored at one."""

from __future__ import annotations

import copy
from typing import Any

import httpx

from tests.apiserver.test_api_crds import CRDS, eventually
from tests.apiserver.test_conversion import Server, bundle, ca, server  # noqa: F401 - fixtures

OPEN = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def versions_crd(conversion: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [
                {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": copy.deepcopy(OPEN)}},
                {"name": "v2", "served": True, "storage": False, "schema": {"openAPIV3Schema": copy.deepcopy(OPEN)}},
            ],
            **({"conversion": conversion} if conversion else {}),
        },
    }


async def established(api: httpx.AsyncClient) -> None:
    async def check() -> bool:
        got = (await api.get(f"{CRDS}/widgets.example.com")).json()
        return any(c["type"] == "Established" and c["status"] == "True"
                   for c in got.get("status", {}).get("conditions", []))

    await eventually(check, "the CRD is Established")


async def test_strategy_none_serves_every_version_by_rewriting_the_api_version(api: httpx.AsyncClient) -> None:
    assert (await api.post(CRDS, json=versions_crd())).status_code == 201
    await established(api)
    v1 = "/apis/example.com/v1/namespaces/default/widgets"
    v2 = "/apis/example.com/v2/namespaces/default/widgets"
    created = await api.post(v2, json={"apiVersion": "example.com/v2", "kind": "Widget", "metadata": {"name": "w"},
                                       "spec": {"size": 3}})
    assert created.status_code == 201, created.text
    assert created.json()["apiVersion"] == "example.com/v2"
    assert (await api.get(f"{v1}/w")).json()["apiVersion"] == "example.com/v1"
    listed = (await api.get(v2)).json()
    assert [i["apiVersion"] for i in listed["items"]] == ["example.com/v2"]


async def test_webhook_conversion_reads_and_writes_through_the_webhook(
    server: Server, api: httpx.AsyncClient  # noqa: F811 - the webhook outlives the apiserver's pooled client
) -> None:
    crd = versions_crd({"strategy": "Webhook", "webhook": {
        "clientConfig": {"url": f"{server.url}/convert", "caBundle": bundle(server.ca)},
        "conversionReviewVersions": ["v1"]}})
    resp = await api.post(CRDS, json=crd)
    assert resp.status_code == 201, resp.text
    await established(api)
    v1 = "/apis/example.com/v1/namespaces/default/widgets"
    v2 = "/apis/example.com/v2/namespaces/default/widgets"
    created = await api.post(v1, json={"apiVersion": "example.com/v1", "kind": "Widget",
                                       "metadata": {"name": "w"}, "spec": {"size": 3}})
    assert created.status_code == 201, created.text
    at_v2 = (await api.get(f"{v2}/w")).json()
    assert at_v2["apiVersion"] == "example.com/v2"
    assert at_v2["spec"] == {"dimensions": {"size": 3}}, "the webhook's v2 shape"
    # written at v2, stored at v1 (through the webhook), read back at either version
    at_v2["spec"]["dimensions"]["size"] = 5
    updated = await api.put(f"{v2}/w", json=at_v2)
    assert updated.status_code == 200, updated.text
    assert (await api.get(f"{v1}/w")).json()["spec"] == {"size": 5}
    assert server.hook.calls, "the webhook was called"
