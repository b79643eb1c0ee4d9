"""Create, read, update, patch and delete through the HTTP API, as kube-apiserver 1.35 answers them.

Messages and codes follow k8s.io/apiserver `pkg/endpoints/handlers/{create,update,patch,delete,rest}.go`,
`pkg/registry/generic/registry/store.go` and k8s.io/apimachinery `pkg/api/errors/errors.go`.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

CM = "/api/v1/namespaces/default/configmaps"
DEPLOY = "/apis/apps/v1/namespaces/default/deployments"
CONFLICT_MESSAGE = (
    'Operation cannot be fulfilled on configmaps "c": the object has been modified; '
    "please apply your changes to the latest version and try again"
)


def configmap(name: str = "c", **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, **extra.pop("metadata", {})}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"a": "1"}, **extra}


def deployment(name: str = "d", replicas: int = 1) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}},
        },
    }


def assert_status(resp: httpx.Response, code: int, reason: str) -> dict[str, Any]:
    """The body is a metav1.Status failure with this code and reason."""
    assert resp.status_code == code, resp.text
    body = resp.json()
    assert body["kind"] == "Status", body
    assert body["apiVersion"] == "v1", body
    assert body["status"] == "Failure", body
    assert body["reason"] == reason, body
    assert body["code"] == code, body
    assert isinstance(body.get("message"), str) and body["message"], body
    return body


async def create_cm(api: httpx.AsyncClient, body: dict[str, Any] | None = None) -> dict[str, Any]:
    resp = await api.post(CM, json=body or configmap())
    assert resp.status_code == 201, resp.text
    return resp.json()


# ---- create ------------------------------------------------------------------------------


async def test_create_answers_201_with_server_set_metadata(api: httpx.AsyncClient) -> None:
    resp = await api.post(CM, json=configmap())
    assert resp.status_code == 201, resp.text
    obj = resp.json()
    meta = obj["metadata"]
    assert meta["name"] == "c"
    assert meta["namespace"] == "default"
    assert len(meta["uid"]) == 36
    assert meta["creationTimestamp"].endswith("Z")
    assert int(meta["resourceVersion"]) > 0
    assert obj["data"] == {"a": "1"}


async def test_created_object_reads_back_identically(api: httpx.AsyncClient) -> None:
    created = await create_cm(api)
    got = await api.get(f"{CM}/c")
    assert got.status_code == 200
    assert got.json() == created


async def test_create_of_a_workload_sets_generation_to_one(api: httpx.AsyncClient) -> None:
    resp = await api.post(DEPLOY, json=deployment())
    assert resp.status_code == 201, resp.text
    assert resp.json()["metadata"]["generation"] == 1


async def test_create_ignores_server_owned_metadata_in_the_body(api: httpx.AsyncClient) -> None:
    body = deployment()
    body["metadata"].update(
        uid="00000000-0000-0000-0000-000000000001",
        creationTimestamp="2001-01-01T00:00:00Z",
        generation=7,
        deletionTimestamp="2001-01-01T00:00:00Z",
        deletionGracePeriodSeconds=5,
    )
    resp = await api.post(DEPLOY, json=body)
    assert resp.status_code == 201, resp.text
    meta = resp.json()["metadata"]
    assert meta["uid"] != "00000000-0000-0000-0000-000000000001"
    assert meta["creationTimestamp"] != "2001-01-01T00:00:00Z"
    assert meta["generation"] == 1
    assert "deletionTimestamp" not in meta
    assert "deletionGracePeriodSeconds" not in meta


async def test_create_ignores_status_of_a_kind_with_a_status_subresource(api: httpx.AsyncClient) -> None:
    body = deployment()
    body["status"] = {"replicas": 42, "readyReplicas": 42}
    resp = await api.post(DEPLOY, json=body)
    assert resp.status_code == 201, resp.text
    assert resp.json().get("status", {}).get("replicas") in (None, 0)


async def test_generate_name_gets_a_random_suffix(api: httpx.AsyncClient) -> None:
    body = configmap()
    body["metadata"] = {"generateName": "gen-"}
    first = await api.post(CM, json=body)
    second = await api.post(CM, json=body)
    assert first.status_code == second.status_code == 201, first.text
    names = {first.json()["metadata"]["name"], second.json()["metadata"]["name"]}
    assert len(names) == 2
    for name in names:
        assert name.startswith("gen-") and len(name) == len("gen-") + 5
    assert first.json()["metadata"]["generateName"] == "gen-"


async def test_create_fills_api_version_and_kind_when_absent(api: httpx.AsyncClient) -> None:
    resp = await api.post(CM, json={"metadata": {"name": "bare"}, "data": {"x": "y"}})
    assert resp.status_code == 201, resp.text
    assert resp.json()["apiVersion"] == "v1"
    assert resp.json()["kind"] == "ConfigMap"
    resp = await api.post(DEPLOY, json={k: v for k, v in deployment("bare").items() if k not in ("apiVersion", "kind")})
    assert resp.status_code == 201, resp.text
    assert (resp.json()["apiVersion"], resp.json()["kind"]) == ("apps/v1", "Deployment")


async def test_create_twice_is_409_already_exists(api: httpx.AsyncClient) -> None:
    await create_cm(api)
    body = assert_status(await api.post(CM, json=configmap()), 409, "AlreadyExists")
    assert body["message"] == 'configmaps "c" already exists'
    assert body["details"] == {"name": "c", "kind": "configmaps"}


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [
        ("v1", "Secret"),
        ("apps/v1", "ConfigMap"),
        ("v2", "ConfigMap"),
    ],
)
async def test_create_with_the_wrong_kind_or_api_version_is_400(
    api: httpx.AsyncClient, api_version: str, kind: str
) -> None:
    body = configmap()
    body.update(apiVersion=api_version, kind=kind)
    assert_status(await api.post(CM, json=body), 400, "BadRequest")
    assert (await api.get(f"{CM}/c")).status_code == 404


async def test_create_with_another_namespace_in_the_body_is_400(api: httpx.AsyncClient) -> None:
    await api.post("/api/v1/namespaces", json={"metadata": {"name": "other"}})
    body = assert_status(await api.post(CM, json=configmap(metadata={"namespace": "other"})), 400, "BadRequest")
    # rest.EnsureObjectNamespaceMatchesRequestNamespace
    assert body["message"] == "the namespace of the provided object does not match the namespace sent on the request"


async def test_create_takes_the_namespace_from_the_url_when_the_body_has_none(api: httpx.AsyncClient) -> None:
    obj = await create_cm(api)
    assert obj["metadata"]["namespace"] == "default"


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("Upper", "metadata.name"),
        ("under_score", "metadata.name"),
        ("", "metadata.name"),
    ],
)
async def test_create_with_an_invalid_name_is_422(api: httpx.AsyncClient, name: str, field: str) -> None:
    body = assert_status(await api.post(CM, json=configmap(name)), 422, "Invalid")
    assert field in [c.get("field") for c in body["details"]["causes"]]


# ---- get -----------------------------------------------------------------------------------


async def test_get_of_a_missing_object_is_a_404_status(api: httpx.AsyncClient) -> None:
    body = assert_status(await api.get(f"{CM}/nope"), 404, "NotFound")
    assert body["message"] == 'configmaps "nope" not found'
    assert body["details"] == {"name": "nope", "kind": "configmaps"}


async def test_not_found_in_a_named_group_qualifies_the_resource(api: httpx.AsyncClient) -> None:
    body = assert_status(await api.get(f"{DEPLOY}/nope"), 404, "NotFound")
    assert body["message"] == 'deployments.apps "nope" not found'
    assert body["details"] == {"name": "nope", "group": "apps", "kind": "deployments"}


# ---- update ----------------------------------------------------------------------------------


async def test_update_with_the_current_resource_version_succeeds(api: httpx.AsyncClient) -> None:
    obj = await create_cm(api)
    obj["data"] = {"a": "2"}
    resp = await api.put(f"{CM}/c", json=obj)
    assert resp.status_code == 200, resp.text
    new = resp.json()
    assert new["data"] == {"a": "2"}
    assert int(new["metadata"]["resourceVersion"]) > int(obj["metadata"]["resourceVersion"])
    assert new["metadata"]["uid"] == obj["metadata"]["uid"]
    assert new["metadata"]["creationTimestamp"] == obj["metadata"]["creationTimestamp"]


async def test_update_with_a_stale_resource_version_is_409_conflict(api: httpx.AsyncClient) -> None:
    stale = await create_cm(api)
    fresh = dict(stale, data={"a": "2"})
    assert (await api.put(f"{CM}/c", json=fresh)).status_code == 200
    stale["data"] = {"a": "3"}
    body = assert_status(await api.put(f"{CM}/c", json=stale), 409, "Conflict")
    assert body["message"] == CONFLICT_MESSAGE
    assert body["details"] == {"name": "c", "kind": "configmaps"}
    assert (await api.get(f"{CM}/c")).json()["data"] == {"a": "2"}


async def test_update_without_a_resource_version_is_unconditional(api: httpx.AsyncClient) -> None:
    await create_cm(api)
    await api.put(f"{CM}/c", json=configmap(data={"a": "2"}))
    resp = await api.put(f"{CM}/c", json=configmap(data={"a": "3"}))
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"] == {"a": "3"}


async def test_update_keeps_the_creation_timestamp_whatever_the_body_says(api: httpx.AsyncClient) -> None:
    obj = await create_cm(api)
    resp = await api.put(f"{CM}/c", json=configmap(metadata={"creationTimestamp": "2001-01-01T00:00:00Z"},
                                                       data={"a": "2"}))
    assert resp.status_code == 200, resp.text
    assert resp.json()["metadata"]["creationTimestamp"] == obj["metadata"]["creationTimestamp"]
    assert resp.json()["metadata"]["uid"] == obj["metadata"]["uid"]


async def test_update_with_another_uid_in_the_body_is_a_409_precondition_failure(api: httpx.AsyncClient) -> None:
    # rest.defaultUpdatedObjectInfo.Preconditions: a uid in the body is a precondition.
    obj = await create_cm(api)
    other = "11111111-1111-1111-1111-111111111111"
    resp = await api.put(f"{CM}/c", json=configmap(metadata={"uid": other}, data={"a": "2"}))
    body = assert_status(resp, 409, "Conflict")
    assert body["message"] == (f'Operation cannot be fulfilled on configmaps "c": Precondition failed: '
                               f'UID in precondition: {other}, UID in object meta: {obj["metadata"]["uid"]}')
    assert (await api.get(f"{CM}/c")).json()["data"] == {"a": "1"}


async def test_update_with_a_different_name_in_the_body_is_400(api: httpx.AsyncClient) -> None:
    await create_cm(api)
    body = assert_status(await api.put(f"{CM}/c", json=configmap("other")), 400, "BadRequest")
    assert body["message"] == "the name of the object (other) does not match the name on the URL (c)"


async def test_update_of_a_missing_object_is_404(api: httpx.AsyncClient) -> None:
    body = assert_status(await api.put(f"{CM}/ghost", json=configmap("ghost")), 404, "NotFound")
    assert body["message"] == 'configmaps "ghost" not found'
    assert (await api.get(f"{CM}/ghost")).status_code == 404


async def test_update_that_changes_nothing_keeps_the_resource_version(api: httpx.AsyncClient) -> None:
    obj = await create_cm(api)
    resp = await api.put(f"{CM}/c", json=obj)
    assert resp.status_code == 200
    assert resp.json()["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]


# ---- generation and the status subresource -----------------------------------------------------


async def test_kinds_without_a_spec_to_observe_carry_no_generation(api: httpx.AsyncClient) -> None:
    obj = await create_cm(api)
    assert "generation" not in obj["metadata"]
    obj["data"] = {"a": "2"}
    updated = (await api.put(f"{CM}/c", json=obj)).json()
    assert "generation" not in updated["metadata"]


async def test_generation_is_bumped_by_spec_changes_only(api: httpx.AsyncClient) -> None:
    resp = await api.post(DEPLOY, json=deployment())
    obj = resp.json()
    assert obj["metadata"]["generation"] == 1

    obj["metadata"]["labels"] = {"touched": "yes"}
    obj = (await api.put(f"{DEPLOY}/d", json=obj)).json()
    assert obj["metadata"]["generation"] == 1, "a metadata change is not a spec change"

    obj["spec"]["replicas"] = 3
    obj = (await api.put(f"{DEPLOY}/d", json=obj)).json()
    assert obj["metadata"]["generation"] == 2

    obj["status"] = {"replicas": 3, "observedGeneration": 2}
    obj = (await api.put(f"{DEPLOY}/d/status", json=obj)).json()
    assert obj["metadata"]["generation"] == 2, "a status write is not a spec change"

    patched = await api.patch(f"{DEPLOY}/d", content=b'{"spec":{"replicas":5}}',
                              headers={"Content-Type": "application/merge-patch+json"})
    assert patched.json()["metadata"]["generation"] == 3


async def test_update_of_the_main_resource_keeps_the_stored_status(api: httpx.AsyncClient) -> None:
    await api.post(DEPLOY, json=deployment())
    current = (await api.get(f"{DEPLOY}/d")).json()
    current["status"] = {"replicas": 1, "observedGeneration": 1}
    resp = await api.put(f"{DEPLOY}/d/status", json=current)
    assert resp.status_code == 200, resp.text
    obj = resp.json()
    obj["status"] = {"replicas": 99}
    obj["spec"]["replicas"] = 2
    resp = await api.put(f"{DEPLOY}/d", json=obj)
    assert resp.status_code == 200, resp.text
    assert resp.json()["spec"]["replicas"] == 2
    assert resp.json()["status"]["replicas"] == 1
    assert (await api.get(f"{DEPLOY}/d")).json()["status"]["replicas"] == 1


async def test_update_of_status_changes_only_status(api: httpx.AsyncClient) -> None:
    await api.post(DEPLOY, json=deployment())
    obj = (await api.get(f"{DEPLOY}/d")).json()
    obj["spec"]["replicas"] = 7
    obj["metadata"]["labels"] = {"sneaky": "yes"}
    obj["status"] = {"replicas": 1, "availableReplicas": 1}
    resp = await api.put(f"{DEPLOY}/d/status", json=obj)
    assert resp.status_code == 200, resp.text
    stored = (await api.get(f"{DEPLOY}/d")).json()
    assert stored["spec"]["replicas"] == 1
    assert "sneaky" not in (stored["metadata"].get("labels") or {})
    assert stored["status"]["availableReplicas"] == 1


async def test_get_of_the_status_subresource_returns_the_whole_object(api: httpx.AsyncClient) -> None:
    await api.post(DEPLOY, json=deployment())
    resp = await api.get(f"{DEPLOY}/d/status")
    assert resp.status_code == 200
    assert resp.json()["kind"] == "Deployment"
    assert resp.json()["spec"]["replicas"] == 1


async def test_a_subresource_the_kind_lacks_is_404(api: httpx.AsyncClient) -> None:
    await create_cm(api)
    assert_status(await api.get(f"{CM}/c/status"), 404, "NotFound")


# ---- patch -------------------------------------------------------------------------------------

PATCHES = [
    pytest.param("application/json-patch+json", b'[{"op":"add","path":"/data/b","value":"2"}]',
                 {"a": "1", "b": "2"}, id="json-patch-add"),
    pytest.param("application/json-patch+json", b'[{"op":"replace","path":"/data/a","value":"9"}]',
                 {"a": "9"}, id="json-patch-replace"),
    pytest.param("application/json-patch+json",
                 b'[{"op":"test","path":"/data/a","value":"1"},{"op":"remove","path":"/data/a"}]',
                 None, id="json-patch-test-then-remove"),
    pytest.param("application/merge-patch+json", b'{"data":{"b":"2"}}', {"a": "1", "b": "2"}, id="merge-add"),
    pytest.param("application/merge-patch+json", b'{"data":{"a":null,"c":"3"}}', {"c": "3"}, id="merge-null-deletes"),
    pytest.param("application/merge-patch+json; charset=utf-8", b'{"data":{"a":"5"}}', {"a": "5"},
                 id="merge-with-charset"),
]


@pytest.mark.parametrize(("content_type", "patch", "data"), PATCHES)
async def test_patch_applies_to_the_stored_object(
    api: httpx.AsyncClient, content_type: str, patch: bytes, data: dict[str, str] | None
) -> None:
    created = await create_cm(api)
    resp = await api.patch(f"{CM}/c", content=patch, headers={"Content-Type": content_type})
    assert resp.status_code == 200, resp.text
    assert resp.json().get("data") == data
    assert (await api.get(f"{CM}/c")).json().get("data") == data
    assert int(resp.json()["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])


async def test_a_failing_json_patch_test_operation_changes_nothing(api: httpx.AsyncClient) -> None:
    await create_cm(api)
    resp = await api.patch(f"{CM}/c", content=b'[{"op":"test","path":"/data/a","value":"nope"}]',
                           headers={"Content-Type": "application/json-patch+json"})
    assert_status(resp, 422, "Invalid")  # patch.go applyJSPatch: NewGenericServerResponse(422, ...)
    assert (await api.get(f"{CM}/c")).json()["data"] == {"a": "1"}


async def test_merge_patch_with_a_stale_resource_version_is_409(api: httpx.AsyncClient) -> None:
    obj = await create_cm(api)
    await api.patch(f"{CM}/c", content=b'{"data":{"a":"2"}}', headers={"Content-Type": "application/merge-patch+json"})
    patch = b'{"metadata":{"resourceVersion":"%s"},"data":{"a":"3"}}' % obj["metadata"]["resourceVersion"].encode()
    resp = await api.patch(f"{CM}/c", content=patch, headers={"Content-Type": "application/merge-patch+json"})
    body = assert_status(resp, 409, "Conflict")
    assert body["message"] == CONFLICT_MESSAGE


@pytest.mark.parametrize("content_type", ["application/x-unknown-patch", "text/plain", "application/xml"])
async def test_an_unknown_patch_type_is_415(api: httpx.AsyncClient, content_type: str) -> None:
    await create_cm(api)
    resp = await api.patch(f"{CM}/c", content=b'{"data":{"a":"2"}}', headers={"Content-Type": content_type})
    body = assert_status(resp, 415, "UnsupportedMediaType")
    assert "application/merge-patch+json" in body["message"]
    assert (await api.get(f"{CM}/c")).json()["data"] == {"a": "1"}


async def test_patch_of_a_missing_object_is_404(api: httpx.AsyncClient) -> None:
    resp = await api.patch(f"{CM}/ghost", content=b'{"data":{"a":"2"}}',
                           headers={"Content-Type": "application/merge-patch+json"})
    assert_status(resp, 404, "NotFound")


async def test_patch_that_renames_the_object_is_400(api: httpx.AsyncClient) -> None:
    await create_cm(api)
    resp = await api.patch(f"{CM}/c", content=b'{"metadata":{"name":"other"}}',
                           headers={"Content-Type": "application/merge-patch+json"})
    assert_status(resp, 400, "BadRequest")


# ---- delete ------------------------------------------------------------------------------------


async def test_delete_answers_200_with_a_success_status_and_details(api: httpx.AsyncClient) -> None:
    obj = await create_cm(api)
    resp = await api.delete(f"{CM}/c")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["kind"] == "Status"
    assert body["apiVersion"] == "v1"
    assert body["status"] == "Success"
    assert body["details"] == {"name": "c", "kind": "configmaps", "uid": obj["metadata"]["uid"]}
    assert (await api.get(f"{CM}/c")).status_code == 404


async def test_delete_in_a_named_group_reports_the_group(api: httpx.AsyncClient) -> None:
    await api.post(DEPLOY, json=deployment())
    body = (await api.delete(f"{DEPLOY}/d")).json()
    assert body["details"]["group"] == "apps"
    assert body["details"]["kind"] == "deployments"


async def test_delete_of_a_missing_object_is_404(api: httpx.AsyncClient) -> None:
    body = assert_status(await api.delete(f"{CM}/ghost"), 404, "NotFound")
    assert body["message"] == 'configmaps "ghost" not found'


@pytest.mark.parametrize(
    ("field", "message_start"),
    [
        ("uid", "Precondition failed: UID in precondition: "),
        ("resourceVersion", "Precondition failed: ResourceVersion in precondition: "),
    ],
)
async def test_delete_with_a_failed_precondition_is_409(api: httpx.AsyncClient, field: str, message_start: str) -> None:
    await create_cm(api)
    value = "00000000-0000-0000-0000-000000000000" if field == "uid" else "1"
    options = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {field: value}}
    resp = await api.request("DELETE", f"{CM}/c", json=options)
    body = assert_status(resp, 409, "Conflict")
    assert body["message"].startswith('Operation cannot be fulfilled on configmaps "c": ' + message_start), body
    assert (await api.get(f"{CM}/c")).status_code == 200


async def test_delete_with_matching_preconditions_deletes(api: httpx.AsyncClient) -> None:
    obj = await create_cm(api)
    pre = {"uid": obj["metadata"]["uid"], "resourceVersion": obj["metadata"]["resourceVersion"]}
    resp = await api.request("DELETE", f"{CM}/c", json={"preconditions": pre})
    assert resp.status_code == 200, resp.text
    assert (await api.get(f"{CM}/c")).status_code == 404


@pytest.mark.parametrize("policy", ["Foreground", "Background", "Orphan"])
async def test_delete_accepts_a_propagation_policy(api: httpx.AsyncClient, policy: str) -> None:
    await create_cm(api)
    resp = await api.request("DELETE", f"{CM}/c", json={"propagationPolicy": policy, "gracePeriodSeconds": 0})
    assert resp.is_success, resp.text
    got = await api.get(f"{CM}/c")
    # Foreground deletion adds the foregroundDeletion finalizer in kube until a GC removes it;
    # with no dependents it is gone shortly after. Others delete at once.
    if policy != "Foreground":
        assert got.status_code == 404


async def test_deletecollection_deletes_only_what_the_label_selector_picks(api: httpx.AsyncClient) -> None:
    for name, app in [("a", "x"), ("b", "x"), ("c", "y")]:
        await create_cm(api, configmap(name, metadata={"labels": {"app": app}}))
    resp = await api.delete(CM, params={"labelSelector": "app=x"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["kind"] == "ConfigMapList"
    assert sorted(i["metadata"]["name"] for i in body["items"]) == ["a", "b"]
    left = (await api.get(CM)).json()["items"]
    assert [i["metadata"]["name"] for i in left] == ["c"]


async def test_deletecollection_with_a_field_selector(api: httpx.AsyncClient) -> None:
    for name in ("a", "b"):
        await create_cm(api, configmap(name))
    resp = await api.delete(CM, params={"fieldSelector": "metadata.name=a"})
    assert resp.status_code == 200, resp.text
    assert [i["metadata"]["name"] for i in (await api.get(CM)).json()["items"]] == ["b"]


# ---- dry run -----------------------------------------------------------------------------------


async def test_dry_run_create_answers_201_and_stores_nothing(api: httpx.AsyncClient) -> None:
    resp = await api.post(CM, params={"dryRun": "All"}, json=configmap())
    assert resp.status_code == 201, resp.text
    assert resp.json()["metadata"]["name"] == "c"
    assert resp.json()["metadata"]["uid"]
    assert (await api.get(f"{CM}/c")).status_code == 404


async def test_dry_run_create_still_validates(api: httpx.AsyncClient) -> None:
    assert_status(await api.post(CM, params={"dryRun": "All"}, json=configmap("Bad_Name")), 422, "Invalid")


async def test_dry_run_update_returns_the_result_and_stores_nothing(api: httpx.AsyncClient) -> None:
    obj = await create_cm(api)
    obj["data"] = {"a": "2"}
    resp = await api.put(f"{CM}/c", params={"dryRun": "All"}, json=obj)
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"] == {"a": "2"}
    stored = (await api.get(f"{CM}/c")).json()
    assert stored["data"] == {"a": "1"}
    assert stored["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]


async def test_dry_run_patch_returns_the_result_and_stores_nothing(api: httpx.AsyncClient) -> None:
    await create_cm(api)
    resp = await api.patch(f"{CM}/c", params={"dryRun": "All"}, content=b'{"data":{"a":"2"}}',
                           headers={"Content-Type": "application/merge-patch+json"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"] == {"a": "2"}
    assert (await api.get(f"{CM}/c")).json()["data"] == {"a": "1"}


async def test_dry_run_delete_keeps_the_object(api: httpx.AsyncClient) -> None:
    await create_cm(api)
    resp = await api.delete(f"{CM}/c", params={"dryRun": "All"})
    assert resp.status_code == 200, resp.text
    assert (await api.get(f"{CM}/c")).status_code == 200


async def test_dry_run_deletecollection_keeps_the_objects(api: httpx.AsyncClient) -> None:
    await create_cm(api)
    resp = await api.delete(CM, params={"dryRun": "All"})
    assert resp.status_code == 200, resp.text
    assert (await api.get(f"{CM}/c")).status_code == 200


async def test_an_unknown_dry_run_value_is_refused(api: httpx.AsyncClient) -> None:
    resp = await api.post(CM, params={"dryRun": "Some"}, json=configmap())
    # create.go: ValidateCreateOptions -> NewInvalid(CreateOptions.meta.k8s.io, "", errs)
    body = assert_status(resp, 422, "Invalid")
    assert body["details"]["causes"][0]["field"] == "dryRun"
    assert (await api.get(f"{CM}/c")).status_code == 404


# ---- finalizers ------------------------------------------------------------------------------


async def _held(api: httpx.AsyncClient) -> dict[str, Any]:
    return await create_cm(api, configmap(metadata={"finalizers": ["example.com/hold"]}))


async def test_delete_of_an_object_with_finalizers_marks_it_and_keeps_it(api: httpx.AsyncClient) -> None:
    await _held(api)
    resp = await api.delete(f"{CM}/c")
    assert resp.is_success, resp.text
    marked = resp.json()
    assert marked["kind"] == "ConfigMap"
    assert marked["metadata"]["deletionTimestamp"]
    stored = (await api.get(f"{CM}/c")).json()
    assert stored["metadata"]["deletionTimestamp"] == marked["metadata"]["deletionTimestamp"]
    assert stored["metadata"]["finalizers"] == ["example.com/hold"]


async def test_delete_of_an_object_with_finalizers_answers_200(api: httpx.AsyncClient) -> None:
    # delete.go: 202 only when not deleted at once *and* orphanDependents=false was asked for.
    await _held(api)
    resp = await api.delete(f"{CM}/c")
    assert resp.status_code == 200, resp.text


async def test_deleting_again_keeps_the_first_deletion_timestamp(api: httpx.AsyncClient) -> None:
    await _held(api)
    first = (await api.delete(f"{CM}/c")).json()
    second = await api.delete(f"{CM}/c")
    assert second.is_success, second.text
    assert second.json()["metadata"]["deletionTimestamp"] == first["metadata"]["deletionTimestamp"]


async def test_removing_the_last_finalizer_deletes_the_object(api: httpx.AsyncClient) -> None:
    await create_cm(api, configmap(metadata={"finalizers": ["example.com/a", "example.com/b"]}))
    await api.delete(f"{CM}/c")
    resp = await api.patch(f"{CM}/c", content=b'[{"op":"remove","path":"/metadata/finalizers/0"}]',
                           headers={"Content-Type": "application/json-patch+json"})
    assert resp.status_code == 200, resp.text
    assert (await api.get(f"{CM}/c")).json()["metadata"]["finalizers"] == ["example.com/b"]
    resp = await api.patch(f"{CM}/c", content=b'{"metadata":{"finalizers":null}}',
                           headers={"Content-Type": "application/merge-patch+json"})
    assert resp.status_code == 200, resp.text
    assert (await api.get(f"{CM}/c")).status_code == 404


async def test_removing_finalizers_of_an_object_not_being_deleted_keeps_it(api: httpx.AsyncClient) -> None:
    await _held(api)
    resp = await api.patch(f"{CM}/c", content=b'{"metadata":{"finalizers":null}}',
                           headers={"Content-Type": "application/merge-patch+json"})
    assert resp.status_code == 200, resp.text
    assert (await api.get(f"{CM}/c")).status_code == 200


async def test_no_new_finalizer_can_be_added_while_the_object_is_being_deleted(api: httpx.AsyncClient) -> None:
    await _held(api)
    await api.delete(f"{CM}/c")
    patch = b'{"metadata":{"finalizers":["example.com/hold","example.com/more"]}}'
    resp = await api.patch(f"{CM}/c", content=patch, headers={"Content-Type": "application/merge-patch+json"})
    body = assert_status(resp, 422, "Invalid")
    # apimachinery ValidateNoNewFinalizers
    causes = body["details"]["causes"]
    assert [c["field"] for c in causes] == ["metadata.finalizers"]
    assert causes[0]["reason"] == "FieldValueForbidden"
    assert "no new finalizers can be added if the object is being deleted" in causes[0]["message"]
    assert (await api.get(f"{CM}/c")).json()["metadata"]["finalizers"] == ["example.com/hold"]


async def test_deletion_timestamp_cannot_be_cleared_by_an_update(api: httpx.AsyncClient) -> None:
    await _held(api)
    marked = (await api.delete(f"{CM}/c")).json()
    marked["metadata"].pop("deletionTimestamp")
    marked["data"] = {"a": "2"}
    await api.put(f"{CM}/c", json=marked)
    assert (await api.get(f"{CM}/c")).json()["metadata"]["deletionTimestamp"]


# ---- malformed requests, size limits, and the Status shape -------------------------------------


@pytest.mark.parametrize("raw", [b"{", b"not json", b'{"metadata": {"name": "x"}', b"[1, 2"])
async def test_malformed_json_is_400(api: httpx.AsyncClient, raw: bytes) -> None:
    resp = await api.post(CM, content=raw, headers={"Content-Type": "application/json"})
    assert_status(resp, 400, "BadRequest")


async def test_a_json_value_that_is_not_an_object_is_400(api: httpx.AsyncClient) -> None:
    resp = await api.post(CM, content=b'"a string"', headers={"Content-Type": "application/json"})
    assert_status(resp, 400, "BadRequest")


async def test_a_body_over_3_mib_is_413(api: httpx.AsyncClient) -> None:
    big = configmap(data={"a": "x" * (3 * 1024 * 1024)})
    body = assert_status(await api.post(CM, json=big), 413, "RequestEntityTooLarge")
    # handlers/rest.go limitedReadBody -> errors.NewRequestEntityTooLargeError("limit is 3145728")
    assert body["message"] == "Request entity too large: limit is 3145728"


async def test_a_one_mib_body_is_stored(api: httpx.AsyncClient) -> None:
    big = configmap(data={"a": "x" * (1024 * 1024)})
    resp = await api.post(CM, json=big)
    assert resp.status_code == 201, resp.text


async def test_a_create_body_in_yaml_is_accepted(api: httpx.AsyncClient) -> None:
    raw = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\ndata:\n  k: v\n"
    resp = await api.post(CM, content=raw, headers={"Content-Type": "application/yaml"})
    assert resp.status_code == 201, resp.text
    assert resp.json()["data"] == {"k": "v"}


@pytest.mark.parametrize(("value", "go"), [(".inf", "+Inf"), ("-.inf", "-Inf"), (".nan", "NaN")])
async def test_a_yaml_float_json_cannot_hold_is_400(api: httpx.AsyncClient, value: str, go: str) -> None:
    """kube's YAML-to-JSON conversion fails on them (encoding/json); stored, they would read back as null."""
    raw = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n  annotations: {{a: {value}}}\n".encode()
    body = assert_status(await api.post(CM, content=raw, headers={"Content-Type": "application/yaml"}), 400,
                         "BadRequest")
    assert body["message"] == f"error converting YAML to JSON: json: unsupported value: {go}"
    assert (await api.get(f"{CM}/y")).status_code == 404


async def test_a_create_body_in_an_unknown_media_type_is_415(api: httpx.AsyncClient) -> None:
    resp = await api.post(CM, content=b"<x/>", headers={"Content-Type": "application/xml"})
    assert_status(resp, 415, "UnsupportedMediaType")


async def test_a_method_the_collection_does_not_serve_is_405(api: httpx.AsyncClient) -> None:
    resp = await api.put(CM, json=configmap())
    assert_status(resp, 405, "MethodNotAllowed")


ERRORS = [
    pytest.param("GET", f"{CM}/missing", None, 404, "NotFound", id="get-missing"),
    pytest.param("POST", CM, b"{oops", 400, "BadRequest", id="malformed"),
    pytest.param("POST", "/api/v1/namespaces/nowhere/configmaps", b'{"metadata":{"name":"x"}}', 404, "NotFound",
                 id="missing-namespace"),
    pytest.param("POST", CM, b'{"metadata":{"name":"UPPER"}}', 422, "Invalid", id="invalid"),
    pytest.param("GET", "/apis/nope.example.com/v1/things", None, 404, "NotFound", id="unknown-group"),
    pytest.param("GET", "/api/v1/namespaces/default/widgets", None, 404, "NotFound", id="unknown-resource"),
    pytest.param("DELETE", "/api/v1/namespaces/default", None, 403, "Forbidden", id="immortal-namespace"),
    pytest.param("GET", CM + "?labelSelector=a%20in%20(", None, 400, "BadRequest", id="bad-selector"),
]


@pytest.mark.parametrize(("method", "path", "content", "code", "reason"), ERRORS)
async def test_every_error_body_is_a_status(
    api: httpx.AsyncClient, method: str, path: str, content: bytes | None, code: int, reason: str
) -> None:
    headers = {"Content-Type": "application/json"} if content is not None else {}
    resp = await api.request(method, path, content=content, headers=headers)
    body = assert_status(resp, code, reason)
    assert resp.headers["content-type"].startswith("application/json")
    assert set(body) <= {"kind", "apiVersion", "metadata", "status", "message", "reason", "details", "code"}
    assert "detail" not in body
    assert "Traceback" not in resp.text


# ---- fieldValidation -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["Warn", "Ignore"])
async def test_unknown_fields_of_a_builtin_kind_are_dropped_as_go_decoding_drops_them(
    api: httpx.AsyncClient, mode: str
) -> None:
    body = configmap(dataa={"x": "y"})
    body["metadata"]["labelz"] = {"a": "b"}
    resp = await api.post(CM, params={"fieldValidation": mode}, json=body)
    assert resp.status_code == 201, resp.text
    stored = (await api.get(f"{CM}/c")).json()
    assert "dataa" not in stored and "labelz" not in stored["metadata"]
    assert stored["data"] == {"a": "1"}
    warned = resp.headers.get_list("warning")
    if mode == "Warn":
        # in document order, as kube reports them
        assert warned == ['299 - "unknown field \\"metadata.labelz\\""', '299 - "unknown field \\"dataa\\""']
    else:
        assert warned == []


async def test_strict_field_validation_refuses_unknown_and_duplicate_fields(api: httpx.AsyncClient) -> None:
    raw = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","name":"c"},"dataa":{}}'
    resp = await api.post(CM, params={"fieldValidation": "Strict"}, content=raw,
                          headers={"Content-Type": "application/json"})
    body = assert_status(resp, 400, "BadRequest")
    assert body["message"] == ('ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: '
                               'duplicate field "metadata.name", unknown field "dataa"')
    assert (await api.get(f"{CM}/c")).status_code == 404


@pytest.mark.parametrize("path", [f"{CM}/c%00", f"{CM}/c%00x", "/api/v1/namespaces/default%00/configmaps/c",
                                  "/api/v1/namespaces/c%00", "/api/v1/namespaces/default%00"])
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
async def test_a_name_or_namespace_with_a_nul_is_not_found(api: httpx.AsyncClient, method: str, path: str) -> None:
    """No stored key holds a NUL (the store refuses them, as PostgreSQL's text must): such an object can't exist."""
    assert (await api.post(CM, json=configmap())).status_code == 201
    before = (await api.get(CM)).json()["metadata"]["resourceVersion"]
    body = {"apiVersion": "v1", "kind": "Namespace" if "/configmaps/" not in path else "ConfigMap",
            "metadata": {"name": path.rsplit("/", 1)[-1].replace("%00", "\x00")}}
    headers = {"content-type": "application/merge-patch+json"} if method == "PATCH" else {}
    resp = await api.request(method, path, json=body if method != "GET" else None, headers=headers)
    assert resp.status_code == 404, resp.text
    status = resp.json()
    assert (status["kind"], status["reason"], status["code"]) == ("Status", "NotFound", 404)
    assert (await api.get(CM)).json()["metadata"]["resourceVersion"] == before  # nothing written


async def test_a_continue_token_start_key_ends_at_its_first_nul(api: httpx.AsyncClient) -> None:
    """kube's token holds the last key + NUL; whatever follows a NUL changes nothing, as no key holds one."""
    import base64
    import json

    for name in ("a", "b", "c"):
        await api.post(CM, json=configmap(name))
    first = (await api.get(CM, params={"limit": 1})).json()
    token = json.loads(base64.urlsafe_b64decode(first["metadata"]["continue"] + "=="))
    assert token["start"] == "a\u0000"

    def with_start(start: str) -> str:
        return base64.urlsafe_b64encode(json.dumps({**token, "start": start}).encode()).decode().rstrip("=")

    for start in ("a\u0000", "a\u0000b", "a\u0000\u0000z"):
        page = (await api.get(CM, params={"limit": 1, "continue": with_start(start)})).json()
        assert [i["metadata"]["name"] for i in page["items"]] == ["b"], start
    await api.post(CM, json=configmap("d"))  # the prefix changed: the next pages come from the store
    for start in ("a\u0000", "a\u0000b"):
        page = (await api.get(CM, params={"limit": 5, "continue": with_start(start)})).json()
        assert [i["metadata"]["name"] for i in page["items"]] == ["b", "c"], start


@pytest.mark.parametrize("params", [{}, {"resourceVersion": "1", "resourceVersionMatch": "Exact"},
                                    {"resourceVersion": "1", "limit": "5"}])
async def test_a_list_in_a_namespace_with_a_nul_is_empty(api: httpx.AsyncClient, params: dict[str, str]) -> None:
    await api.post(CM, json=configmap())
    resp = await api.get("/api/v1/namespaces/default%00/configmaps", params=params)
    assert resp.status_code == 200, resp.text
    assert resp.json()["items"] == []


async def test_a_name_with_a_nul_is_refused_where_kubes_name_rule_lets_it_through(api: httpx.AsyncClient) -> None:
    """RBAC names follow the path-segment rule, which allows a NUL; no store key can hold one: 422, nothing stored."""
    roles = "/apis/rbac.authorization.k8s.io/v1/clusterroles"
    before = (await api.get(roles)).json()["metadata"]["resourceVersion"]
    for query in ("", "?dryRun=All"):
        resp = await api.post(roles + query, json={"metadata": {"name": "a\u0000b"}, "rules": []})
        assert resp.status_code == 422, resp.text
        cause = resp.json()["details"]["causes"][0]
        assert cause["field"] == "metadata.name" and cause["message"].endswith(": may not contain a NUL character")
    resp = await api.post(roles, json={"metadata": {"generateName": "a\u0000"}, "rules": []})
    assert resp.status_code == 422, resp.text
    resp = await api.patch(f"{roles}/a%00b", params={"fieldManager": "t"}, content=b'{"apiVersion": '
                           b'"rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "a\\u0000b"}}',
                           headers={"content-type": "application/apply-patch+yaml"})
    assert resp.status_code == 422, resp.text  # apply creates: the same validation
    resp = await api.patch(f"{CM}/c%00", params={"fieldManager": "t"}, content=b'{"apiVersion": "v1", "kind": '
                           b'"ConfigMap", "metadata": {"name": "c\\u0000"}}',
                           headers={"content-type": "application/apply-patch+yaml"})
    assert resp.status_code == 422, resp.text  # a DNS name: its own rule refuses it, as kube's does
    assert (await api.get(roles)).json()["metadata"]["resourceVersion"] == before
