"""CustomResourceDefinitions registered by JSON are served at once, through the generic path."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from apiserver.app import create_app
from apiserver.settings import Settings

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
WIDGETS = "/apis/example.com/v1/namespaces/default/widgets"

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["size"],
            "x-kubernetes-validations": [
                {"rule": "self.size <= self.maxSize", "message": "size must not exceed maxSize"},
            ],
            "properties": {
                "size": {"type": "integer", "minimum": 1},
                "maxSize": {"type": "integer", "default": 10},
                "color": {"type": "string", "enum": ["red", "blue"], "default": "red"},
                "replicas": {"type": "integer"},
                "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
            },
        },
        "status": {
            "type": "object",
            "properties": {"ready": {"type": "boolean"}, "replicas": {"type": "integer"}},
        },
    },
}


def widget_crd(**version_extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"],
                      "categories": ["all"]},
            "versions": [{
                "name": "v1", "served": True, "storage": True,
                "schema": {"openAPIV3Schema": copy.deepcopy(SCHEMA)},
                "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                                                         "statusReplicasPath": ".status.replicas"}},
                "additionalPrinterColumns": [{"name": "Size", "type": "integer", "jsonPath": ".spec.size"}],
                **version_extra,
            }],
        },
    }


def widget(name: str = "w", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name},
            "spec": {"size": 3, **spec}}


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.02)


async def register(api: httpx.AsyncClient, crd: dict[str, Any] | None = None) -> dict[str, Any]:
    resp = await api.post(CRDS, json=crd or widget_crd())
    assert resp.status_code == 201, resp.text

    async def established() -> bool:
        got = (await api.get(f"{CRDS}/widgets.example.com")).json()
        return any(c["type"] == "Established" and c["status"] == "True"
                   for c in got.get("status", {}).get("conditions", []))

    await eventually(established, "the CRD is Established")
    return (await api.get(f"{CRDS}/widgets.example.com")).json()


async def test_a_crd_registered_by_json_is_established_and_served(api: httpx.AsyncClient) -> None:
    crd = await register(api)
    status = crd["status"]
    assert status["acceptedNames"]["kind"] == "Widget" and status["acceptedNames"]["plural"] == "widgets"
    conditions = {c["type"]: c["status"] for c in status["conditions"]}
    assert conditions["NamesAccepted"] == "True" and conditions["Established"] == "True"
    assert status["storedVersions"] == ["v1"]
    resp = await api.post(WIDGETS, json=widget())
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert created["metadata"]["generation"] == 1 and created["metadata"]["uid"]
    listed = (await api.get(WIDGETS)).json()
    assert listed["kind"] == "WidgetList" and [i["metadata"]["name"] for i in listed["items"]] == ["w"]


async def test_discovery_lists_the_new_group_with_short_names_and_categories(api: httpx.AsyncClient) -> None:
    await register(api)
    resources = (await api.get("/apis/example.com/v1")).json()["resources"]
    widgets = next(r for r in resources if r["name"] == "widgets")
    assert widgets["kind"] == "Widget" and widgets["shortNames"] == ["wd"] and widgets["categories"] == ["all"]
    assert {r["name"] for r in resources} == {"widgets", "widgets/status", "widgets/scale"}
    groups = (await api.get("/apis")).json()["groups"]
    assert "example.com" in [g["name"] for g in groups]


async def test_defaults_are_applied_and_unknown_fields_pruned(api: httpx.AsyncClient) -> None:
    await register(api)
    body = widget(extra="dropped")
    body["unknownTop"] = 1
    created = (await api.post(WIDGETS, json=body)).json()
    assert created["spec"] == {"size": 3, "maxSize": 10, "color": "red"}
    assert "unknownTop" not in created


@pytest.mark.parametrize(("spec", "field", "message"), [
    ({"size": 0}, "spec.size", "spec.size in body should be greater than or equal to 1"),
    ({"size": "big"}, "spec.size", 'spec.size in body must be of type integer: "string"'),
    ({"size": 3, "color": "green"}, "spec.color", 'Unsupported value: "green": supported values: "red", "blue"'),
    ({"size": 20}, "spec", "size must not exceed maxSize"),
])
async def test_invalid_instances_are_422_with_kubes_causes(
    api: httpx.AsyncClient, spec: dict[str, Any], field: str, message: str
) -> None:
    await register(api)
    resp = await api.post(WIDGETS, json={**widget(), "spec": spec})
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["reason"] == "Invalid" and body["details"]["kind"] == "Widget"
    assert any(c["field"] == field and message in c["message"] for c in body["details"]["causes"]), body
    assert (await api.get(f"{WIDGETS}/w")).status_code == 404


async def test_a_missing_required_field_is_422(api: httpx.AsyncClient) -> None:
    await register(api)
    resp = await api.post(WIDGETS, json={**widget(), "spec": {"color": "red"}})
    assert resp.status_code == 422
    assert {"reason": "FieldValueRequired", "field": "spec.size", "message": "Required value"} in \
        resp.json()["details"]["causes"]


async def test_status_and_scale_subresources(api: httpx.AsyncClient) -> None:
    await register(api)
    created = (await api.post(WIDGETS, json=widget(replicas=2))).json()
    created["status"] = {"ready": True, "replicas": 2}
    main = (await api.put(f"{WIDGETS}/w", json=created)).json()
    assert "status" not in main, "a write of the main resource keeps the stored status"
    main["status"] = {"ready": True, "replicas": 2}
    status = (await api.put(f"{WIDGETS}/w/status", json=main)).json()
    assert status["status"] == {"ready": True, "replicas": 2}
    assert status["metadata"]["generation"] == 1
    scale = (await api.get(f"{WIDGETS}/w/scale")).json()
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 2 and scale["status"]["replicas"] == 2
    patched = await api.patch(f"{WIDGETS}/w/scale", content=b'{"spec":{"replicas":5}}',
                              headers={"Content-Type": "application/merge-patch+json"})
    assert patched.status_code == 200, patched.text
    got = (await api.get(f"{WIDGETS}/w")).json()
    assert got["spec"]["replicas"] == 5 and got["metadata"]["generation"] == 2


async def test_strategic_merge_patch_is_415_for_custom_resources(api: httpx.AsyncClient) -> None:
    await register(api)
    await api.post(WIDGETS, json=widget())
    resp = await api.patch(f"{WIDGETS}/w", content=b'{"spec":{"size":4}}',
                           headers={"Content-Type": "application/strategic-merge-patch+json"})
    assert resp.status_code == 415


async def test_a_cel_transition_rule_sees_old_self(api: httpx.AsyncClient) -> None:
    crd = widget_crd()
    spec_schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    spec_schema["properties"]["color"]["x-kubernetes-validations"] = [
        {"rule": "self == oldSelf", "message": "color is immutable"}]
    await register(api, crd)
    created = (await api.post(WIDGETS, json=widget(color="blue"))).json()
    created["spec"]["color"] = "red"
    resp = await api.put(f"{WIDGETS}/w", json=created)
    assert resp.status_code == 422
    assert resp.json()["details"]["causes"][0]["field"] == "spec.color"
    assert "color is immutable" in resp.json()["message"]


async def test_an_invalid_crd_is_422(api: httpx.AsyncClient) -> None:
    bad = widget_crd()
    bad["metadata"]["name"] = "wrong.example.com"
    resp = await api.post(CRDS, json=bad)
    assert resp.status_code == 422, resp.text
    assert any(c["field"] == "metadata.name" for c in resp.json()["details"]["causes"])


async def test_deleting_the_crd_deletes_its_instances_then_its_routes(api: httpx.AsyncClient) -> None:
    await register(api)
    for name in ("a", "b"):
        assert (await api.post(WIDGETS, json=widget(name))).status_code == 201
    assert (await api.delete(f"{CRDS}/widgets.example.com")).status_code == 200

    async def gone() -> bool:
        return (await api.get(f"{CRDS}/widgets.example.com")).status_code == 404

    await eventually(gone, "the CRD is deleted")
    assert (await api.get(WIDGETS)).status_code == 404
    assert "example.com" not in [g["name"] for g in (await api.get("/apis")).json()["groups"]]
    # registering it again starts empty: the instances went with it
    await register(api)
    assert (await api.get(WIDGETS)).json()["items"] == []


async def test_a_restart_serves_the_crds_and_their_instances_again(tmp_path: Path) -> None:
    settings = Settings(database=f"sqlite:///{tmp_path / 'store.db'}", compact_interval=0)
    for round_ in range(2):
        app = create_app(settings)
        server = app.state.server
        await server.start()
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as api:
                if round_ == 0:
                    await register(api)
                    assert (await api.post(WIDGETS, json=widget())).status_code == 201
                else:
                    got = await api.get(f"{WIDGETS}/w")
                    assert got.status_code == 200, got.text
                    assert got.json()["spec"]["size"] == 3
        finally:
            await server.stop()


async def test_a_second_crd_claiming_a_served_kind_is_not_accepted(api: httpx.AsyncClient) -> None:
    await register(api)
    other = widget_crd()
    other["metadata"]["name"] = "gizmos.example.com"
    other["spec"]["names"] = {"plural": "gizmos", "singular": "gizmo", "kind": "Widget"}
    resp = await api.post(CRDS, json=other)
    assert resp.status_code == 201, resp.text

    async def names_refused() -> bool:
        got = (await api.get(f"{CRDS}/gizmos.example.com")).json()
        return any(c["type"] == "NamesAccepted" and c["status"] == "False"
                   for c in got.get("status", {}).get("conditions", []))

    await eventually(names_refused, "the clashing CRD's names are refused")
    assert (await api.get("/apis/example.com/v1/namespaces/default/gizmos")).status_code == 404
    assert (await api.get(WIDGETS)).status_code == 200


async def test_printer_columns_are_served_as_a_table(api: httpx.AsyncClient) -> None:
    await register(api)
    await api.post(WIDGETS, json=widget())
    resp = await api.get(WIDGETS, headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"})
    assert resp.status_code == 200, resp.text
    table = resp.json()
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Size"]
    assert table["rows"][0]["cells"] == ["w", 3]


async def test_selectable_fields_work_in_field_selectors(api: httpx.AsyncClient) -> None:
    await register(api, widget_crd(selectableFields=[{"jsonPath": ".spec.color"}]))
    await api.post(WIDGETS, json=widget("r", color="red"))
    await api.post(WIDGETS, json=widget("b", color="blue"))
    resp = await api.get(WIDGETS, params={"fieldSelector": "spec.color=blue"})
    assert resp.status_code == 200, resp.text
    assert [i["metadata"]["name"] for i in resp.json()["items"]] == ["b"]
    bad = await api.get(WIDGETS, params={"fieldSelector": "spec.size=3"})
    assert bad.status_code == 400
