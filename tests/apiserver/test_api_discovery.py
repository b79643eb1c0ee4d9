"""Discovery, version, health, content negotiation and the habits of real clients, over HTTP.

Shapes follow kube-apiserver 1.35 (`/api`, `/apis`, `/apis/<group>[/<version>]`, aggregated
discovery `apidiscovery.k8s.io/v2`) and the query-parameter conversions of apimachinery.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import httpx
import pytest
import yaml

AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
KUBECTL_ACCEPT = (AGGREGATED + ",application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
                  "application/json")
ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

# (group, version, plural, kind, namespaced, subresources) for every kind issue 3 lists.
BUILTINS = [
    ("", "v1", "namespaces", "Namespace", False, {"status"}),
    ("", "v1", "configmaps", "ConfigMap", True, set()),
    ("", "v1", "secrets", "Secret", True, set()),
    ("", "v1", "pods", "Pod", True, {"status"}),
    ("", "v1", "services", "Service", True, {"status"}),
    ("", "v1", "serviceaccounts", "ServiceAccount", True, set()),
    ("", "v1", "endpoints", "Endpoints", True, set()),
    ("", "v1", "events", "Event", True, set()),
    ("", "v1", "nodes", "Node", False, {"status"}),
    ("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, {"status"}),
    ("", "v1", "limitranges", "LimitRange", True, set()),
    ("", "v1", "resourcequotas", "ResourceQuota", True, {"status"}),
    ("apps", "v1", "deployments", "Deployment", True, {"status", "scale"}),
    ("apps", "v1", "replicasets", "ReplicaSet", True, {"status", "scale"}),
    ("apps", "v1", "statefulsets", "StatefulSet", True, {"status", "scale"}),
    ("apps", "v1", "daemonsets", "DaemonSet", True, {"status"}),
    ("batch", "v1", "jobs", "Job", True, {"status"}),
    ("batch", "v1", "cronjobs", "CronJob", True, {"status"}),
    ("coordination.k8s.io", "v1", "leases", "Lease", True, set()),
    ("events.k8s.io", "v1", "events", "Event", True, set()),
    ("rbac.authorization.k8s.io", "v1", "roles", "Role", True, set()),
    ("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True, set()),
    ("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False, set()),
    ("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False, set()),
    ("networking.k8s.io", "v1", "ingresses", "Ingress", True, {"status"}),
    ("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, set()),
    ("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, {"status"}),
    ("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", True, {"status"}),
]


def assert_status(resp: httpx.Response, code: int, reason: str) -> dict[str, Any]:
    assert resp.status_code == code, resp.text
    body = resp.json()
    assert (body["kind"], body["apiVersion"], body["status"]) == ("Status", "v1", "Failure"), body
    assert body["reason"] == reason, body
    assert body["code"] == code, body
    return body


def resource_list_path(group: str, version: str) -> str:
    return f"/api/{version}" if not group else f"/apis/{group}/{version}"


# ---- legacy discovery ---------------------------------------------------------------------------------


async def test_api_lists_the_core_versions(api: httpx.AsyncClient) -> None:
    resp = await api.get("/api")
    assert resp.status_code == 200
    body = resp.json()
    assert body["kind"] == "APIVersions"
    assert body["versions"] == ["v1"]
    assert body["serverAddressByClientCIDRs"][0]["clientCIDR"] == "0.0.0.0/0"


async def test_apis_lists_every_builtin_group_with_its_preferred_version(api: httpx.AsyncClient) -> None:
    resp = await api.get("/apis")
    assert resp.status_code == 200
    body = resp.json()
    assert (body["kind"], body["apiVersion"]) == ("APIGroupList", "v1")
    groups = {g["name"]: g for g in body["groups"]}
    for group, version, *_ in BUILTINS:
        if not group:
            continue
        assert group in groups, group
        gv = {"groupVersion": f"{group}/{version}", "version": version}
        assert gv in groups[group]["versions"]
    assert groups["apps"]["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}
    assert "" not in groups, "the core group is served under /api only"


async def test_a_group_document_names_its_versions(api: httpx.AsyncClient) -> None:
    resp = await api.get("/apis/apps")
    assert resp.status_code == 200
    body = resp.json()
    assert (body["kind"], body["apiVersion"], body["name"]) == ("APIGroup", "v1", "apps")
    assert body["versions"] == [{"groupVersion": "apps/v1", "version": "v1"}]
    assert body["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}


async def test_core_v1_resource_list_describes_pods(api: httpx.AsyncClient) -> None:
    resp = await api.get("/api/v1")
    assert resp.status_code == 200
    body = resp.json()
    assert (body["kind"], body["groupVersion"]) == ("APIResourceList", "v1")
    by_name = {r["name"]: r for r in body["resources"]}
    pods = by_name["pods"]
    assert pods["singularName"] == "pod"
    assert pods["namespaced"] is True
    assert pods["kind"] == "Pod"
    assert sorted(pods["verbs"]) == ALL_VERBS
    assert pods["shortNames"] == ["po"]
    assert pods["categories"] == ["all"]
    assert sorted(by_name["pods/status"]["verbs"]) == ["get", "patch", "update"]
    assert by_name["pods/status"]["kind"] == "Pod"
    assert by_name["namespaces"]["namespaced"] is False
    assert by_name["namespaces"]["shortNames"] == ["ns"]


async def test_apps_v1_resource_list_describes_the_scale_subresource(api: httpx.AsyncClient) -> None:
    resp = await api.get("/apis/apps/v1")
    assert resp.status_code == 200
    body = resp.json()
    assert (body["kind"], body["groupVersion"]) == ("APIResourceList", "apps/v1")
    by_name = {r["name"]: r for r in body["resources"]}
    assert by_name["deployments"]["shortNames"] == ["deploy"]
    assert by_name["deployments"]["singularName"] == "deployment"
    scale = by_name["deployments/scale"]
    assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")
    assert sorted(scale["verbs"]) == ["get", "patch", "update"]


@pytest.mark.parametrize(("group", "version", "plural", "kind", "namespaced", "subresources"), BUILTINS,
                         ids=[f"{b[0] or 'core'}-{b[2]}" for b in BUILTINS])
async def test_every_builtin_is_discoverable(
    api: httpx.AsyncClient, group: str, version: str, plural: str, kind: str, namespaced: bool,
    subresources: set[str],
) -> None:
    body = (await api.get(resource_list_path(group, version))).json()
    by_name = {r["name"]: r for r in body["resources"]}
    assert plural in by_name
    assert by_name[plural]["kind"] == kind
    assert by_name[plural]["namespaced"] is namespaced
    # kube serves no deletecollection on namespaces
    expected = [v for v in ALL_VERBS if v != "deletecollection"] if plural == "namespaces" else ALL_VERBS
    assert sorted(by_name[plural]["verbs"]) == expected
    listed = {name.split("/", 1)[1] for name in by_name if name.startswith(plural + "/")}
    assert subresources <= listed


@pytest.mark.parametrize("path", ["/api/", "/apis/", "/apis/apps/", "/api/v1/", "/apis/apps/v1/"])
async def test_discovery_paths_answer_with_a_trailing_slash_without_redirecting(
    api: httpx.AsyncClient, path: str
) -> None:
    resp = await api.get(path)
    assert resp.status_code == 200, resp.text
    assert resp.json()["kind"] in ("APIVersions", "APIGroupList", "APIGroup", "APIResourceList")


# ---- aggregated discovery -------------------------------------------------------------------------------


@pytest.mark.parametrize("accept", [AGGREGATED, KUBECTL_ACCEPT])
async def test_aggregated_discovery_answers_with_its_content_type(api: httpx.AsyncClient, accept: str) -> None:
    resp = await api.get("/apis", headers={"Accept": accept})
    assert resp.status_code == 200
    assert resp.headers["content-type"].replace(" ", "") == AGGREGATED
    body = resp.json()
    assert (body["kind"], body["apiVersion"]) == ("APIGroupDiscoveryList", "apidiscovery.k8s.io/v2")
    groups = {g["metadata"]["name"]: g for g in body["items"]}
    apps = groups["apps"]
    v1 = next(v for v in apps["versions"] if v["version"] == "v1")
    assert v1.get("freshness", "Current") == "Current"
    deployments = next(r for r in v1["resources"] if r["resource"] == "deployments")
    assert deployments["scope"] == "Namespaced"
    assert deployments["singularResource"] == "deployment"
    assert deployments["responseKind"]["kind"] == "Deployment"
    assert sorted(deployments["verbs"]) == ALL_VERBS
    scale = next(s for s in deployments["subresources"] if s["subresource"] == "scale")
    assert scale["responseKind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}


async def test_aggregated_discovery_of_the_core_group(api: httpx.AsyncClient) -> None:
    resp = await api.get("/api", headers={"Accept": AGGREGATED})
    assert resp.status_code == 200
    assert resp.headers["content-type"].replace(" ", "") == AGGREGATED
    items = resp.json()["items"]
    assert len(items) == 1
    assert items[0].get("metadata", {}).get("name", "") == ""
    resources = {r["resource"]: r for r in items[0]["versions"][0]["resources"]}
    assert resources["nodes"]["scope"] == "Cluster"
    assert resources["pods"]["scope"] == "Namespaced"


async def test_plain_json_accept_gets_legacy_discovery(api: httpx.AsyncClient) -> None:
    resp = await api.get("/apis", headers={"Accept": "application/json"})
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.json()["kind"] == "APIGroupList"


# ---- version and health ---------------------------------------------------------------------------------


async def test_version_reports_1_35(api: httpx.AsyncClient) -> None:
    resp = await api.get("/version")
    assert resp.status_code == 200
    body = resp.json()
    assert body["major"] == "1"
    assert body["minor"] == "35"
    assert body["gitVersion"].startswith("v1.35.")
    for key in ("gitCommit", "gitTreeState", "buildDate", "goVersion", "compiler", "platform"):
        assert key in body


@pytest.mark.parametrize("path", ["/healthz", "/livez", "/readyz"])
async def test_health_endpoints_answer_ok(api: httpx.AsyncClient, path: str) -> None:
    resp = await api.get(path)
    assert resp.status_code == 200
    assert resp.text == "ok"


# ---- unknown paths ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/nothing",
        "/api/v2",
        "/api/v1/widgets",
        "/apis/nope.example.com",
        "/apis/nope.example.com/v1",
        "/apis/nope.example.com/v1/things",
        "/apis/apps/v9",
        "/apis/apps/v9/deployments",
        "/api/v1/namespaces/default/widgets/x",
    ],
)
async def test_unknown_paths_are_a_404_status(api: httpx.AsyncClient, path: str) -> None:
    body = assert_status(await api.get(path), 404, "NotFound")
    assert "detail" not in body


# ---- content negotiation ------------------------------------------------------------------------------------


async def test_yaml_is_served_for_accept_application_yaml(api: httpx.AsyncClient) -> None:
    await api.post("/api/v1/namespaces/default/configmaps", json={"metadata": {"name": "y"}, "data": {"k": "v"}})
    resp = await api.get("/api/v1/namespaces/default/configmaps/y", headers={"Accept": "application/yaml"})
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/yaml")
    obj = yaml.safe_load(resp.text)
    assert obj["kind"] == "ConfigMap"
    assert obj["data"] == {"k": "v"}
    listed = await api.get("/api/v1/namespaces/default/configmaps", headers={"Accept": "application/yaml"})
    assert yaml.safe_load(listed.text)["kind"] == "ConfigMapList"


async def test_an_error_asked_for_in_yaml_is_a_yaml_status(api: httpx.AsyncClient) -> None:
    resp = await api.get("/api/v1/namespaces/default/configmaps/none", headers={"Accept": "application/yaml"})
    assert resp.status_code == 404
    body = yaml.safe_load(resp.text)
    assert (body["kind"], body["reason"], body["code"]) == ("Status", "NotFound", 404)


async def test_a_protobuf_first_client_gets_json(api: httpx.AsyncClient) -> None:
    accept = "application/vnd.kubernetes.protobuf,application/json"
    resp = await api.get("/api/v1/namespaces/default/services/kubernetes", headers={"Accept": accept})
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.json()["kind"] == "Service"


async def test_an_unacceptable_accept_header_is_406(api: httpx.AsyncClient) -> None:
    resp = await api.get("/api/v1/namespaces/default/configmaps", headers={"Accept": "text/html"})
    assert_status(resp, 406, "NotAcceptable")


async def test_a_wildcard_accept_gets_json(api: httpx.AsyncClient) -> None:
    resp = await api.get("/api/v1/namespaces", headers={"Accept": "*/*"})
    assert resp.status_code == 200
    assert resp.json()["kind"] == "NamespaceList"


# ---- query parameter habits -------------------------------------------------------------------------------


async def _first_line(base: str, path: str, params: dict[str, str]) -> str:
    async with (
        httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(5.0, read=None)) as c,
        c.stream("GET", path, params=params) as resp,
    ):
        lines = resp.aiter_lines()
        line = ""
        with contextlib.suppress(StopAsyncIteration):
            while not line.strip():
                line = await asyncio.wait_for(anext(lines), 5)
        return line


@pytest.mark.parametrize("value", ["true", "True", "1", "TRUE"])
async def test_watch_true_may_be_spelled_several_ways(live_server: str, value: str) -> None:
    line = await _first_line(live_server, "/api/v1/namespaces", {"watch": value})
    event = json.loads(line)
    assert event["type"] == "ADDED"
    assert event["object"]["kind"] == "Namespace"


@pytest.mark.parametrize("value", ["false", "False", "0"])
async def test_watch_false_is_a_plain_list(api: httpx.AsyncClient, value: str) -> None:
    resp = await api.get("/api/v1/namespaces", params={"watch": value})
    assert resp.status_code == 200
    assert resp.json()["kind"] == "NamespaceList"


@pytest.mark.parametrize("value", ["true", "True", "1"])
async def test_allow_watch_bookmarks_may_be_spelled_several_ways(api: httpx.AsyncClient, value: str) -> None:
    resp = await api.get("/api/v1/namespaces", params={
        "watch": "1", "sendInitialEvents": value, "resourceVersionMatch": "NotOlderThan",
        "allowWatchBookmarks": value, "timeoutSeconds": "1"})
    assert resp.status_code == 200, resp.text
    events = [json.loads(line) for line in resp.text.splitlines() if line.strip()]
    bookmarks = [e for e in events if e["type"] == "BOOKMARK"]
    assert bookmarks and bookmarks[0]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"] == "true"
