"""Server-side apply through the API: create by apply, managedFields, conflicts, force, removal."""

from __future__ import annotations

import httpx
import yaml

CM = "/api/v1/namespaces/default/configmaps"
APPLY = {"Content-Type": "application/apply-patch+yaml"}


def config(data: dict[str, str]) -> bytes:
    return yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": data}).encode()


async def apply(api: httpx.AsyncClient, data: dict[str, str], manager: str, **params: str) -> httpx.Response:
    return await api.patch(f"{CM}/c", content=config(data), headers=APPLY, params={"fieldManager": manager, **params})


async def test_apply_creates_the_object_and_records_the_manager(api: httpx.AsyncClient) -> None:
    resp = await apply(api, {"a": "1"}, "alice")
    assert resp.status_code == 201, resp.text
    managed = resp.json()["metadata"]["managedFields"]
    assert [(m["manager"], m["operation"]) for m in managed] == [("alice", "Apply")]
    assert managed[0]["fieldsV1"] == {"f:data": {"f:a": {}}}
    assert managed[0]["fieldsType"] == "FieldsV1" and managed[0]["apiVersion"] == "v1"


async def test_a_field_the_manager_stops_applying_is_removed(api: httpx.AsyncClient) -> None:
    await apply(api, {"a": "1", "b": "2"}, "alice")
    resp = await apply(api, {"a": "1"}, "alice")
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"] == {"a": "1"}


async def test_another_managers_different_value_is_a_409_conflict_unless_forced(api: httpx.AsyncClient) -> None:
    await apply(api, {"a": "1"}, "alice")
    resp = await apply(api, {"a": "2"}, "bob")
    assert resp.status_code == 409
    body = resp.json()
    assert body["reason"] == "Conflict"
    assert body["message"] == 'Apply failed with 1 conflict: conflict with "alice": .data.a'
    assert body["details"]["causes"] == [
        {"reason": "FieldManagerConflict", "message": 'conflict with "alice"', "field": ".data.a"}]
    assert (await api.get(f"{CM}/c")).json()["data"] == {"a": "1"}
    forced = await apply(api, {"a": "2"}, "bob", force="true")
    assert forced.status_code == 200, forced.text
    assert forced.json()["data"] == {"a": "2"}
    assert [m["manager"] for m in forced.json()["metadata"]["managedFields"]] == ["bob"]


async def test_an_update_by_a_named_manager_is_recorded_and_owns_its_fields(api: httpx.AsyncClient) -> None:
    await apply(api, {"a": "1"}, "alice")
    patched = await api.patch(f"{CM}/c", content=b'{"data":{"a":"9"}}', params={"fieldManager": "editor"},
                              headers={"Content-Type": "application/merge-patch+json"})
    assert patched.status_code == 200
    owners = {(m["manager"], m["operation"]) for m in patched.json()["metadata"]["managedFields"]}
    assert ("editor", "Update") in owners
    resp = await apply(api, {"a": "1"}, "alice")
    assert resp.status_code == 409, "alice no longer owns .data.a alone and the values differ"


async def test_apply_needs_a_field_manager(api: httpx.AsyncClient) -> None:
    resp = await api.patch(f"{CM}/c", content=config({"a": "1"}), headers=APPLY)
    assert resp.status_code == 422
    assert resp.json()["message"] == ('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
                                      "is required for apply patch")


async def test_force_on_a_non_apply_patch_is_refused(api: httpx.AsyncClient) -> None:
    await apply(api, {"a": "1"}, "alice")
    resp = await api.patch(f"{CM}/c", content=b'{"data":{"a":"2"}}', params={"force": "true"},
                           headers={"Content-Type": "application/merge-patch+json"})
    assert resp.status_code == 422


async def test_apply_merges_containers_by_name(api: httpx.AsyncClient) -> None:
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
              "spec": {"selector": {"matchLabels": {"app": "d"}}, "template": {
                  "metadata": {"labels": {"app": "d"}},
                  "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}
    path = "/apis/apps/v1/namespaces/default/deployments/d"
    resp = await api.patch(path, content=yaml.safe_dump(deploy).encode(), headers=APPLY,
                           params={"fieldManager": "a"})
    assert resp.status_code == 201, resp.text
    sidecar = {**deploy, "spec": {**deploy["spec"], "template": {**deploy["spec"]["template"], "spec": {
        "containers": [{"name": "sidecar", "image": "busybox"}]}}}}
    resp = await api.patch(path, content=yaml.safe_dump(sidecar).encode(), headers=APPLY,
                           params={"fieldManager": "b"})
    assert resp.status_code == 200, resp.text
    names = [c["name"] for c in resp.json()["spec"]["template"]["spec"]["containers"]]
    assert sorted(names) == ["sidecar", "web"]
