"""List: label and field selectors, pagination with consistent continue tokens, resourceVersion.

kube's ListResource (k8s.io/apiserver `pkg/endpoints/handlers/get.go`), the list options validation
(apimachinery `pkg/apis/meta/internalversion/validation`), field label conversions
(`pkg/apis/core/v1/conversion.go`) and storage's continue tokens (`pkg/storage/continue.go`).
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx
import pytest

NS = "/api/v1/namespaces"
CM = f"{NS}/lst/configmaps"
PODS = f"{NS}/lst/pods"

LABELLED = {
    "a": {"app": "web", "tier": "fe"},
    "b": {"app": "web", "tier": "be"},
    "c": {"app": "db"},
    "d": {},
}


def assert_status(resp: httpx.Response, code: int, reason: str) -> dict[str, Any]:
    assert resp.status_code == code, resp.text
    body = resp.json()
    assert (body["kind"], body["apiVersion"], body["status"]) == ("Status", "v1", "Failure"), body
    assert body["reason"] == reason, body
    assert body["code"] == code, body
    return body


def names(body: dict[str, Any]) -> list[str]:
    return [i["metadata"]["name"] for i in body["items"]]


async def namespace(api: httpx.AsyncClient, name: str = "lst") -> None:
    resp = await api.post(NS, json={"metadata": {"name": name}})
    assert resp.status_code == 201, resp.text


async def labelled(api: httpx.AsyncClient) -> None:
    await namespace(api)
    for name, labels in LABELLED.items():
        resp = await api.post(CM, json={"metadata": {"name": name, "labels": labels}})
        assert resp.status_code == 201, resp.text


async def make_cms(api: httpx.AsyncClient, count: int, ns: str = "lst") -> list[dict[str, Any]]:
    out = []
    for i in range(count):
        resp = await api.post(f"{NS}/{ns}/configmaps", json={"metadata": {"name": f"cm-{i:02d}"}})
        assert resp.status_code == 201, resp.text
        out.append(resp.json())
    return out


# ---- list shape ----------------------------------------------------------------------------------


async def test_a_list_has_kind_api_version_and_a_resource_version(api: httpx.AsyncClient) -> None:
    await labelled(api)
    resp = await api.get(CM)
    assert resp.status_code == 200
    body = resp.json()
    assert (body["kind"], body["apiVersion"]) == ("ConfigMapList", "v1")
    rv = int(body["metadata"]["resourceVersion"])
    assert rv >= max(int(i["metadata"]["resourceVersion"]) for i in body["items"])
    assert "continue" not in body["metadata"]
    assert names(body) == ["a", "b", "c", "d"]  # kube lists in key order


async def test_each_listed_item_has_its_own_resource_version(api: httpx.AsyncClient) -> None:
    await namespace(api)
    created = await make_cms(api, 3)
    listed = (await api.get(CM)).json()["items"]
    assert [i["metadata"]["resourceVersion"] for i in listed] == [c["metadata"]["resourceVersion"] for c in created]


async def test_an_empty_list_has_an_empty_items_array(api: httpx.AsyncClient) -> None:
    await namespace(api)
    body = (await api.get(CM)).json()
    assert body["items"] == []
    assert body["metadata"]["resourceVersion"]


async def test_a_list_resource_version_is_later_than_a_write_just_made(api: httpx.AsyncClient) -> None:
    await namespace(api)
    created = (await make_cms(api, 1))[0]
    body = (await api.get(CM)).json()
    assert int(body["metadata"]["resourceVersion"]) >= int(created["metadata"]["resourceVersion"])


# ---- label selectors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=web", ["a", "b"]),
        ("app==web", ["a", "b"]),
        ("app!=web", ["c", "d"]),
        ("app in (web,db)", ["a", "b", "c"]),
        ("app in (db)", ["c"]),
        ("app notin (web)", ["c", "d"]),
        ("tier", ["a", "b"]),
        ("!tier", ["c", "d"]),
        ("app=web,tier=be", ["b"]),
        ("app,!tier", ["c"]),
        ("app in (web),tier notin (fe)", ["b"]),
        (" app = web ", ["a", "b"]),
        ("", ["a", "b", "c", "d"]),
        ("app=nothing", []),
    ],
)
async def test_label_selectors_pick_what_kube_picks(api: httpx.AsyncClient, selector: str, expected: list[str]) -> None:
    await labelled(api)
    resp = await api.get(CM, params={"labelSelector": selector})
    assert resp.status_code == 200, resp.text
    assert names(resp.json()) == expected


@pytest.mark.parametrize("selector", ["app in (web", "app=web=x", "-bad=x", "app in ()x", "a b"])
async def test_a_malformed_label_selector_is_400(api: httpx.AsyncClient, selector: str) -> None:
    await labelled(api)
    assert_status(await api.get(CM, params={"labelSelector": selector}), 400, "BadRequest")


# ---- field selectors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("metadata.name=a", ["a"]),
        ("metadata.name==a", ["a"]),
        ("metadata.name!=a", ["b", "c", "d"]),
        ("metadata.name!=a,metadata.name!=b", ["c", "d"]),
        ("metadata.namespace=lst", ["a", "b", "c", "d"]),
        ("metadata.namespace!=lst", []),
    ],
)
async def test_metadata_field_selectors(api: httpx.AsyncClient, selector: str, expected: list[str]) -> None:
    await labelled(api)
    resp = await api.get(CM, params={"fieldSelector": selector})
    assert resp.status_code == 200, resp.text
    assert names(resp.json()) == expected


async def test_label_and_field_selectors_combine(api: httpx.AsyncClient) -> None:
    await labelled(api)
    resp = await api.get(CM, params={"labelSelector": "app=web", "fieldSelector": "metadata.name!=a"})
    assert names(resp.json()) == ["b"]


async def _pods(api: httpx.AsyncClient) -> None:
    await namespace(api)
    for name, node in [("p1", "node-1"), ("p2", "node-2"), ("p3", None)]:
        spec: dict[str, Any] = {"containers": [{"name": "c", "image": "i"}]}
        if node:
            spec["nodeName"] = node
        resp = await api.post(PODS, json={"metadata": {"name": name}, "spec": spec})
        assert resp.status_code == 201, resp.text
    pod = (await api.get(f"{PODS}/p2")).json()
    pod["status"] = {"phase": "Running"}
    resp = await api.put(f"{PODS}/p2/status", json=pod)
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("status.phase=Pending", ["p1", "p3"]),
        ("status.phase=Running", ["p2"]),
        ("status.phase!=Running", ["p1", "p3"]),
        ("spec.nodeName=node-1", ["p1"]),
        ("spec.nodeName=", ["p3"]),
        ("spec.nodeName!=", ["p1", "p2"]),
        ("spec.restartPolicy=Always", ["p1", "p2", "p3"]),
        ("spec.schedulerName=default-scheduler,status.phase=Pending", ["p1", "p3"]),
        ("spec.host=node-2", ["p2"]),  # the old v1 name of spec.nodeName, still converted
    ],
)
async def test_pod_field_selectors(api: httpx.AsyncClient, selector: str, expected: list[str]) -> None:
    await _pods(api)
    resp = await api.get(PODS, params={"fieldSelector": selector})
    assert resp.status_code == 200, resp.text
    assert names(resp.json()) == expected


async def test_secret_type_field_selector(api: httpx.AsyncClient) -> None:
    await namespace(api)
    for name, kind in [("s1", None), ("s2", "example.com/custom"), ("s3", "Opaque")]:
        body: dict[str, Any] = {"metadata": {"name": name}}
        if kind:
            body["type"] = kind
        resp = await api.post(f"{NS}/lst/secrets", json=body)
        assert resp.status_code == 201, resp.text
    resp = await api.get(f"{NS}/lst/secrets", params={"fieldSelector": "type=Opaque"})
    assert names(resp.json()) == ["s1", "s3"]
    resp = await api.get(f"{NS}/lst/secrets", params={"fieldSelector": "type!=Opaque"})
    assert names(resp.json()) == ["s2"]


async def test_service_field_selectors(api: httpx.AsyncClient) -> None:
    # AddFieldLabelConversionsForService: metadata.*, spec.clusterIP, spec.type
    await namespace(api)
    for name, spec in [("s1", {"ports": [{"port": 80}]}),
                       ("s2", {"type": "NodePort", "ports": [{"port": 80}]}),
                       ("s3", {"clusterIP": "None", "ports": [{"port": 80}]})]:
        resp = await api.post(f"{NS}/lst/services", json={"metadata": {"name": name}, "spec": spec})
        assert resp.status_code == 201, resp.text
    resp = await api.get(f"{NS}/lst/services", params={"fieldSelector": "spec.type=NodePort"})
    assert resp.status_code == 200, resp.text
    assert names(resp.json()) == ["s2"]
    resp = await api.get(f"{NS}/lst/services", params={"fieldSelector": "spec.clusterIP=None"})
    assert names(resp.json()) == ["s3"]


async def test_event_involved_object_field_selectors(api: httpx.AsyncClient) -> None:
    await namespace(api)
    for name, target in [("e1", "p1"), ("e2", "p2")]:
        body = {"metadata": {"name": name}, "reason": "R", "message": "m", "type": "Normal",
                "involvedObject": {"kind": "Pod", "name": target, "namespace": "lst"}}
        resp = await api.post(f"{NS}/lst/events", json=body)
        assert resp.status_code == 201, resp.text
    resp = await api.get(f"{NS}/lst/events",
                         params={"fieldSelector": "involvedObject.name=p2,involvedObject.kind=Pod"})
    assert resp.status_code == 200, resp.text
    assert names(resp.json()) == ["e2"]


async def test_namespace_status_phase_field_selector(api: httpx.AsyncClient) -> None:
    resp = await api.get(NS, params={"fieldSelector": "status.phase=Active"})
    assert resp.status_code == 200, resp.text
    assert {"default", "kube-system"} <= set(names(resp.json()))


async def test_node_unschedulable_field_selector(api: httpx.AsyncClient) -> None:
    await api.post("/api/v1/nodes", json={"metadata": {"name": "n1"}, "spec": {"unschedulable": True}})
    await api.post("/api/v1/nodes", json={"metadata": {"name": "n2"}})
    resp = await api.get("/api/v1/nodes", params={"fieldSelector": "spec.unschedulable=false"})
    assert resp.status_code == 200, resp.text
    assert names(resp.json()) == ["n2"]


@pytest.mark.parametrize(
    ("path", "selector", "message"),
    [
        (PODS, "spec.foo=x", "field label not supported: spec.foo"),
        (f"{NS}/lst/secrets", "data.k=x", "field label not supported: data.k"),
        (f"{NS}/lst/services", "spec.ports=x", "field label not supported: spec.ports"),
        # Kinds without their own conversion: runtime.DefaultMetaV1FieldSelectorConversion
        (CM, "data.k=x", '"data.k" is not a known field selector: only "metadata.name", "metadata.namespace"'),
        ("/apis/apps/v1/namespaces/lst/deployments", "spec.replicas=1",
         '"spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"'),
    ],
)
async def test_an_unsupported_field_label_is_400(api: httpx.AsyncClient, path: str, selector: str, message: str) -> None:
    await namespace(api)
    body = assert_status(await api.get(path, params={"fieldSelector": selector}), 400, "BadRequest")
    assert body["message"] == message


@pytest.mark.parametrize("selector", ["metadata.name", "metadata.name in (a)", "=a"])
async def test_a_malformed_field_selector_is_400(api: httpx.AsyncClient, selector: str) -> None:
    await labelled(api)
    assert_status(await api.get(CM, params={"fieldSelector": selector}), 400, "BadRequest")


# ---- all namespaces ---------------------------------------------------------------------------------


async def test_a_cluster_wide_list_of_a_namespaced_kind_spans_namespaces(api: httpx.AsyncClient) -> None:
    await namespace(api, "n1")
    await namespace(api, "n2")
    await make_cms(api, 2, "n1")
    await make_cms(api, 1, "n2")
    body = (await api.get("/api/v1/configmaps")).json()
    assert body["kind"] == "ConfigMapList"
    found = [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in body["items"]]
    assert [f for f in found if f[0] in ("n1", "n2")] == [("n1", "cm-00"), ("n1", "cm-01"), ("n2", "cm-00")]


async def test_a_cluster_wide_list_filters_by_namespace_field(api: httpx.AsyncClient) -> None:
    await namespace(api, "n1")
    await namespace(api, "n2")
    await make_cms(api, 2, "n1")
    await make_cms(api, 1, "n2")
    body = (await api.get("/api/v1/configmaps", params={"fieldSelector": "metadata.namespace=n2"})).json()
    assert [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in body["items"]] == [("n2", "cm-00")]


async def test_a_namespace_list_does_not_see_a_prefix_sharing_namespace(api: httpx.AsyncClient) -> None:
    await namespace(api, "ab")
    await namespace(api, "abc")
    await make_cms(api, 1, "ab")
    await make_cms(api, 2, "abc")
    assert len((await api.get(f"{NS}/ab/configmaps")).json()["items"]) == 1


# ---- pagination -------------------------------------------------------------------------------------


async def test_limit_and_continue_walk_every_object_once(api: httpx.AsyncClient) -> None:
    await namespace(api)
    await make_cms(api, 7)
    seen: list[str] = []
    pages = 0
    params: dict[str, Any] = {"limit": 3}
    while True:
        body = (await api.get(CM, params=params)).json()
        pages += 1
        seen += names(body)
        token = body["metadata"].get("continue")
        if not token:
            break
        params = {"limit": 3, "continue": token}
    assert seen == [f"cm-{i:02d}" for i in range(7)]
    assert pages == 3


async def test_the_first_page_reports_the_remaining_item_count(api: httpx.AsyncClient) -> None:
    await namespace(api)
    await make_cms(api, 7)
    first = (await api.get(CM, params={"limit": 3})).json()
    assert first["metadata"]["remainingItemCount"] == 4
    second = (await api.get(CM, params={"limit": 3, "continue": first["metadata"]["continue"]})).json()
    assert second["metadata"]["remainingItemCount"] == 1
    last = (await api.get(CM, params={"limit": 3, "continue": second["metadata"]["continue"]})).json()
    assert "remainingItemCount" not in last["metadata"]
    assert "continue" not in last["metadata"]


async def test_a_limit_at_least_the_size_gives_one_page(api: httpx.AsyncClient) -> None:
    await namespace(api)
    await make_cms(api, 3)
    body = (await api.get(CM, params={"limit": 3})).json()
    assert names(body) == ["cm-00", "cm-01", "cm-02"]
    assert "continue" not in body["metadata"]


async def test_later_pages_are_read_from_the_first_pages_snapshot(api: httpx.AsyncClient) -> None:
    await namespace(api)
    await make_cms(api, 6)
    first = (await api.get(CM, params={"limit": 2})).json()
    snapshot_rv = first["metadata"]["resourceVersion"]
    # Between pages: delete one not yet listed, change another, add a new one.
    assert (await api.delete(f"{CM}/cm-03")).status_code == 200
    await api.patch(f"{CM}/cm-04", content=b'{"data":{"changed":"yes"}}',
                    headers={"Content-Type": "application/merge-patch+json"})
    assert (await api.post(CM, json={"metadata": {"name": "cm-99"}})).status_code == 201

    seen = names(first)
    token = first["metadata"]["continue"]
    items: list[dict[str, Any]] = []
    while token:
        body = (await api.get(CM, params={"limit": 2, "continue": token})).json()
        assert body["metadata"]["resourceVersion"] == snapshot_rv
        items += body["items"]
        token = body["metadata"].get("continue")
    seen += [i["metadata"]["name"] for i in items]
    assert seen == [f"cm-{i:02d}" for i in range(6)], "the snapshot: cm-03 still there, cm-99 not yet"
    cm04 = next(i for i in items if i["metadata"]["name"] == "cm-04")
    assert "data" not in cm04, "cm-04 as it was at the snapshot"
    # A fresh list sees the present.
    assert names((await api.get(CM)).json()) == ["cm-00", "cm-01", "cm-02", "cm-04", "cm-05", "cm-99"]


async def test_pagination_with_a_label_selector_fills_pages_with_matches(api: httpx.AsyncClient) -> None:
    await namespace(api)
    for i in range(10):
        body = {"metadata": {"name": f"cm-{i:02d}", "labels": {"even": str(i % 2 == 0).lower()}}}
        await api.post(CM, json=body)
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2, "labelSelector": "even=true"}
    while True:
        body = (await api.get(CM, params=params)).json()
        assert len(body["items"]) <= 2
        seen += names(body)
        if not body["metadata"].get("continue"):
            break
        params = {"limit": 2, "labelSelector": "even=true", "continue": body["metadata"]["continue"]}
    assert seen == ["cm-00", "cm-02", "cm-04", "cm-06", "cm-08"]


async def test_a_cluster_wide_list_pages_across_namespaces(api: httpx.AsyncClient) -> None:
    await namespace(api, "n1")
    await namespace(api, "n2")
    await make_cms(api, 3, "n1")
    await make_cms(api, 3, "n2")
    seen: list[tuple[str, str]] = []
    params: dict[str, Any] = {"limit": 4, "fieldSelector": "metadata.namespace!=kube-system"}
    while True:
        body = (await api.get("/api/v1/configmaps", params=params)).json()
        seen += [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in body["items"]]
        if not body["metadata"].get("continue"):
            break
        params = {**params, "continue": body["metadata"]["continue"]}
    mine = [s for s in seen if s[0] in ("n1", "n2")]
    assert mine == [("n1", "cm-00"), ("n1", "cm-01"), ("n1", "cm-02"), ("n2", "cm-00"), ("n2", "cm-01"),
                    ("n2", "cm-02")]
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "%%%",
        base64.urlsafe_b64encode(b'{"v":"meta.k8s.io/v1","rv":5}').decode(),
        base64.urlsafe_b64encode(b'{"v":"other/v9","rv":5,"start":"x"}').decode(),
        base64.urlsafe_b64encode(b'{"v":"meta.k8s.io/v1","rv":5,"start":"../../secrets/"}').decode(),
    ],
)
async def test_a_garbage_continue_token_is_400(api: httpx.AsyncClient, token: str) -> None:
    await namespace(api)
    await make_cms(api, 3)
    body = assert_status(await api.get(CM, params={"limit": 2, "continue": token}), 400, "BadRequest")
    # storage.ValidateListOptions: "invalid continue token: <DecodeContinue's error>"
    assert body["message"].startswith("invalid continue token: ")


async def test_a_continue_token_with_a_resource_version_is_400(api: httpx.AsyncClient) -> None:
    await namespace(api)
    await make_cms(api, 3)
    first = (await api.get(CM, params={"limit": 1})).json()
    resp = await api.get(CM, params={"limit": 1, "continue": first["metadata"]["continue"],
                                     "resourceVersion": first["metadata"]["resourceVersion"]})
    body = assert_status(resp, 400, "BadRequest")
    assert body["message"] == "specifying resource version is not allowed when using continue"


@pytest.mark.parametrize("limit", ["x", "1.5", str(2**63), str(-(2**63) - 1)])
@pytest.mark.parametrize("rv", [None, "1"])
async def test_a_limit_that_is_no_64_bit_integer_is_400(api: httpx.AsyncClient, limit: str, rv: str | None) -> None:
    await namespace(api)
    params = {"limit": limit, **({"resourceVersion": rv} if rv else {})}  # with one: read from the store
    assert_status(await api.get(CM, params=params), 400, "BadRequest")


@pytest.mark.parametrize("limit", [str(2**63 - 1), str(2**62 + 1)])
async def test_the_largest_64_bit_limits_give_one_page(api: httpx.AsyncClient, limit: str) -> None:
    await namespace(api)
    for name in ("a", "b"):
        await api.post(CM, json={"metadata": {"name": name}})
    body = (await api.get(CM, params={"limit": limit})).json()
    assert names(body) == ["a", "b"] and "continue" not in body["metadata"], body
    at = body["metadata"]["resourceVersion"]  # an exact resourceVersion: the store's range, LIMIT n + 1
    body = (await api.get(CM, params={"limit": limit, "resourceVersion": at})).json()
    assert names(body) == ["a", "b"] and "continue" not in body["metadata"], body


# ---- resourceVersion semantics -------------------------------------------------------------------------


async def test_exact_resource_version_returns_the_state_at_that_revision(api: httpx.AsyncClient) -> None:
    await namespace(api)
    a = (await api.post(CM, json={"metadata": {"name": "a"}, "data": {"v": "1"}})).json()
    then = (await api.get(CM)).json()["metadata"]["resourceVersion"]
    await api.patch(f"{CM}/a", content=b'{"data":{"v":"2"}}', headers={"Content-Type": "application/merge-patch+json"})
    await api.post(CM, json={"metadata": {"name": "b"}})

    resp = await api.get(CM, params={"resourceVersion": then, "resourceVersionMatch": "Exact"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["metadata"]["resourceVersion"] == then
    assert names(body) == ["a"]
    assert body["items"][0]["data"] == {"v": "1"}
    assert body["items"][0]["metadata"]["resourceVersion"] == a["metadata"]["resourceVersion"]


async def test_exact_resource_version_with_limit_pages_the_old_state(api: httpx.AsyncClient) -> None:
    await namespace(api)
    await make_cms(api, 3)
    then = (await api.get(CM)).json()["metadata"]["resourceVersion"]
    await api.delete(f"{CM}/cm-01")
    first = (await api.get(CM, params={"resourceVersion": then, "resourceVersionMatch": "Exact", "limit": 2})).json()
    assert names(first) == ["cm-00", "cm-01"]
    rest = (await api.get(CM, params={"limit": 2, "continue": first["metadata"]["continue"]})).json()
    assert names(rest) == ["cm-02"]


async def test_not_older_than_returns_at_least_that_revision(api: httpx.AsyncClient) -> None:
    await namespace(api)
    created = (await make_cms(api, 2))[-1]
    rv = created["metadata"]["resourceVersion"]
    resp = await api.get(CM, params={"resourceVersion": rv, "resourceVersionMatch": "NotOlderThan"})
    assert resp.status_code == 200, resp.text
    assert int(resp.json()["metadata"]["resourceVersion"]) >= int(rv)
    assert names(resp.json()) == ["cm-00", "cm-01"]


async def test_resource_version_zero_lists_from_the_cache(api: httpx.AsyncClient) -> None:
    await namespace(api)
    await make_cms(api, 2)
    resp = await api.get(CM, params={"resourceVersion": "0"})
    assert resp.status_code == 200, resp.text
    assert names(resp.json()) == ["cm-00", "cm-01"]


async def test_resource_version_match_without_resource_version_is_422(api: httpx.AsyncClient) -> None:
    # get.go: ValidateListOptions errors -> NewInvalid(ListOptions.meta.k8s.io, "", errs)
    await namespace(api)
    body = assert_status(await api.get(CM, params={"resourceVersionMatch": "Exact"}), 422, "Invalid")
    assert body["message"] == ('ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
                               "resourceVersionMatch is forbidden unless resourceVersion is provided")


async def test_an_unknown_resource_version_match_is_422(api: httpx.AsyncClient) -> None:
    await namespace(api)
    resp = await api.get(CM, params={"resourceVersion": "1", "resourceVersionMatch": "Sometime"})
    body = assert_status(resp, 422, "Invalid")
    assert [c["field"] for c in body["details"]["causes"]] == ["resourceVersionMatch"]


async def test_exact_match_at_resource_version_zero_is_422(api: httpx.AsyncClient) -> None:
    await namespace(api)
    resp = await api.get(CM, params={"resourceVersion": "0", "resourceVersionMatch": "Exact"})
    assert_status(resp, 422, "Invalid")


async def test_send_initial_events_on_a_plain_list_is_422(api: httpx.AsyncClient) -> None:
    await namespace(api)
    body = assert_status(await api.get(CM, params={"sendInitialEvents": "true"}), 422, "Invalid")
    assert [c["field"] for c in body["details"]["causes"]] == ["sendInitialEvents"]


async def test_a_non_numeric_resource_version_is_refused(api: httpx.AsyncClient) -> None:
    await namespace(api)
    resp = await api.get(CM, params={"resourceVersion": "abc", "resourceVersionMatch": "Exact"})
    assert resp.status_code in (400, 422), resp.text
    assert resp.json()["kind"] == "Status"


async def test_a_future_resource_version_is_a_504_timeout(api: httpx.AsyncClient) -> None:
    # The cacher waits up to 3 s for a revision it has not seen, then answers "Too large resource version".
    await namespace(api)
    current = int((await api.get(CM)).json()["metadata"]["resourceVersion"])
    resp = await asyncio.wait_for(api.get(CM, params={"resourceVersion": str(current + 1000)}), 10)
    body = assert_status(resp, 504, "Timeout")
    assert body["message"].startswith(f"Too large resource version: {current + 1000}, current: ")
