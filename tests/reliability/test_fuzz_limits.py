"""Limits as kube-apiserver has them, hit head-on: body size, stored object size, name and label
lengths, nesting depth, and amplification (YAML aliases, JSON patch copies).

Each refused write leaves the store as it was, and each answer is a `metav1.Status`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from apiserver.app import create_app
from apiserver.settings import Settings

KIB = 1024
MIB = 1024 * KIB
MAX_BODY = 3 * MIB  # kube-apiserver's MaxRequestBodyBytes
MAX_OBJECT = 1_572_864  # etcd's request limit (1.5 MiB), which kube inherits as the stored object bound
CM = "/api/v1/namespaces/default/configmaps"
CR = "/apis/rbac.authorization.k8s.io/v1/clusterroles"
PODS = "/api/v1/namespaces/default/pods"
DEPLOY = "/apis/apps/v1/namespaces/default/deployments"
JSON = {"content-type": "application/json"}
MERGE = {"content-type": "application/merge-patch+json"}
JSON_PATCH = {"content-type": "application/json-patch+json"}
YAML = {"content-type": "application/yaml"}


@pytest.fixture
async def api() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database="sqlite://", compact_interval=0))
    server = app.state.server
    await server.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            yield client
    finally:
        await server.stop()


def assert_status(resp: httpx.Response, code: int, reason: str | None = None) -> dict[str, Any]:
    assert resp.status_code == code, resp.text[:500]
    body = resp.json()
    assert body["kind"] == "Status" and body["apiVersion"] == "v1" and body["status"] == "Failure", body
    assert body["code"] == code and body["message"], body
    if reason is not None:
        assert body["reason"] == reason, body
    return body


def assert_4xx_status(resp: httpx.Response) -> None:
    assert 400 <= resp.status_code < 500, resp.text[:500]
    assert_status(resp, resp.status_code)


async def create(api: httpx.AsyncClient, url: str, obj: dict[str, Any]) -> dict[str, Any]:
    resp = await api.post(url, content=orjson.dumps(obj), headers=JSON)
    assert resp.status_code == 201, resp.text[:500]
    return resp.json()


async def unchanged(api: httpx.AsyncClient, url: str, before: dict[str, Any]) -> None:
    resp = await api.get(url)
    assert resp.status_code == 200, resp.text[:300]
    assert resp.json() == before


def configmap(name: str, **extra: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"a": "1"}, **extra}


def padded(size: int) -> bytes:
    """A well-formed configmap of exactly `size` bytes: only its size is wrong."""
    head, tail = b'{"metadata":{"name":"big"},"data":{"a":"', b'"}}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


# ---- request bodies ---------------------------------------------------------------------------

OVER = MAX_BODY + 1


@pytest.mark.parametrize(("method", "url", "headers"), [
    ("POST", CM, JSON),
    ("POST", CM, YAML),
    ("PUT", f"{CM}/c", JSON),
    ("PATCH", f"{CM}/c", MERGE),
    ("PATCH", f"{CM}/c", JSON_PATCH),
    ("DELETE", f"{CM}/c", JSON),
    ("DELETE", CM, JSON),
    ("POST", CR, JSON),
], ids=["create", "create-yaml", "update", "merge-patch", "json-patch", "delete", "deletecollection",
        "create-cluster-scoped"])
async def test_request_bodies_over_3_mib_are_413(api: httpx.AsyncClient, method: str, url: str,
                                                 headers: dict[str, str]) -> None:
    before = await create(api, CM, configmap("c"))
    resp = await api.request(method, url, content=padded(OVER), headers=headers)
    assert_status(resp, 413, "RequestEntityTooLarge")
    await unchanged(api, f"{CM}/c", before)


async def test_a_chunked_body_over_3_mib_is_413(api: httpx.AsyncClient) -> None:
    """No Content-Length to trust: the limit holds for what arrives."""
    body = padded(OVER)

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(body), 64 * KIB):
            yield body[i:i + 64 * KIB]

    resp = await api.post(CM, content=chunks(), headers=JSON)
    assert_status(resp, 413, "RequestEntityTooLarge")
    assert (await api.get(f"{CM}/big")).status_code == 404


async def test_a_json_patch_of_more_than_10000_operations_is_413(api: httpx.AsyncClient) -> None:
    before = await create(api, CM, configmap("c"))
    ops = [{"op": "test", "path": "/data/a", "value": "1"}] * 10_001
    resp = await api.patch(f"{CM}/c", content=orjson.dumps(ops), headers=JSON_PATCH)
    assert_status(resp, 413, "RequestEntityTooLarge")
    await unchanged(api, f"{CM}/c", before)


# ---- stored objects ---------------------------------------------------------------------------
# ConfigMaps and Secrets can't reach 1.5 MiB: their data is bounded at 1 MiB (422) and annotations
# at 256 KiB (422). A ClusterRole's rules and a Pod's args have no such bound, so they can.


def big_clusterrole(name: str, size: int) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": name},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"],
                       "resourceNames": ["x" * size]}]}


def big_pod(name: str, size: int) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "nginx:1", "args": ["x" * size]}]}}


GROWTHS = [  # (id, method, headers, body): each takes a 1.4 MiB object past 1.5 MiB
    ("merge-patch", "PATCH", MERGE, {"metadata": {"annotations": {"grown": "y" * (200 * KIB)}}}),
    ("json-patch-add", "PATCH", JSON_PATCH, [{"op": "add", "path": "/metadata/annotations",
                                              "value": {"grown": "y" * (200 * KIB)}}]),
    ("json-patch-copy", "PATCH", JSON_PATCH, [{"op": "copy", "from": "/rules/0", "path": "/rules/-"}]),  # 2.8 MiB
    ("update-add-rule", "PUT", JSON, None),  # the object with one more 200 KiB rule
]


@pytest.mark.parametrize(("method", "headers", "body"), [g[1:] for g in GROWTHS], ids=[g[0] for g in GROWTHS])
async def test_a_clusterrole_grown_past_1_5_mib_is_413_and_stays_as_it_was(
    api: httpx.AsyncClient, method: str, headers: dict[str, str], body: Any
) -> None:
    before = await create(api, CR, big_clusterrole("big", 1400 * KIB))
    if body is None:
        body = big_clusterrole("big", 1400 * KIB)
        body["rules"].append({"apiGroups": [""], "resources": ["pods"], "verbs": ["get"],
                              "resourceNames": ["z" * (200 * KIB)]})
    resp = await api.request(method, f"{CR}/big", content=orjson.dumps(body), headers=headers)
    assert_status(resp, 413, "RequestEntityTooLarge")
    await unchanged(api, f"{CR}/big", before)


async def test_a_pod_grown_past_1_5_mib_by_a_merge_patch_is_413(api: httpx.AsyncClient) -> None:
    before = await create(api, PODS, big_pod("big", 1400 * KIB))
    grow = {"metadata": {"annotations": {"grown": "y" * (200 * KIB)}}}
    resp = await api.patch(f"{PODS}/big", content=orjson.dumps(grow), headers=MERGE)
    assert_status(resp, 413, "RequestEntityTooLarge")
    await unchanged(api, f"{PODS}/big", before)


@pytest.mark.parametrize("url", [CR, PODS])
async def test_creating_an_object_over_1_5_mib_is_413(api: httpx.AsyncClient, url: str) -> None:
    obj = big_clusterrole("big", 1600 * KIB) if url == CR else big_pod("big", 1600 * KIB)
    resp = await api.post(url, content=orjson.dumps(obj), headers=JSON)
    assert_status(resp, 413, "RequestEntityTooLarge")
    assert (await api.get(f"{url}/big")).status_code == 404


async def test_a_configmap_grown_past_its_1_mib_of_data_is_422_and_stays_as_it_was(api: httpx.AsyncClient) -> None:
    before = await create(api, CM, configmap("c", data={"a": "x" * (900 * KIB)}))
    grow = {"data": {"b": "y" * (200 * KIB)}}
    resp = await api.patch(f"{CM}/c", content=orjson.dumps(grow), headers=MERGE)
    assert_status(resp, 422, "Invalid")
    await unchanged(api, f"{CM}/c", before)


# ---- names and labels -------------------------------------------------------------------------

NAMES = [  # (collection, the longest valid name, the rule)
    (CM, 253, "DNS subdomain"),
    (PODS, 253, "DNS subdomain"),
    (DEPLOY, 253, "DNS subdomain"),
    ("/api/v1/namespaces/default/secrets", 253, "DNS subdomain"),
    ("/api/v1/namespaces/default/services", 63, "DNS-1035 label"),
    ("/api/v1/namespaces", 63, "DNS label"),
]


def named(url: str, name: str) -> dict[str, Any]:
    containers = [{"name": "c", "image": "nginx:1"}]
    if url == PODS:
        return {"metadata": {"name": name}, "spec": {"containers": containers}}
    if url == DEPLOY:
        labels = {"app": "x"}
        return {"metadata": {"name": name}, "spec": {"selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels}, "spec": {"containers": containers}}}}
    if url.endswith("/services"):
        return {"metadata": {"name": name}, "spec": {"ports": [{"port": 80}]}}
    return {"metadata": {"name": name}}


def long_name(length: int) -> str:
    """A valid name of `length` characters: DNS labels of 63 joined by dots, where dots are allowed."""
    return "n" * length if length <= 63 else ".".join(["n" * 63] * (length // 64) + ["n" * (length % 64 or 1)])[:length]


@pytest.mark.parametrize(("url", "longest", "rule"), NAMES, ids=[n[0].rsplit("/", 1)[-1] for n in NAMES])
async def test_names_longer_than_kube_allows_are_422(api: httpx.AsyncClient, url: str, longest: int,
                                                     rule: str) -> None:
    ok = long_name(longest)
    assert len(ok) == longest
    resp = await api.post(url, content=orjson.dumps(named(url, ok)), headers=JSON)
    assert resp.status_code == 201, f"{rule}: {longest} characters: {resp.text[:300]}"
    too_long = ok.replace("n", "m", 1) + "n"
    resp = await api.post(url, content=orjson.dumps(named(url, too_long)), headers=JSON)
    body = assert_status(resp, 422, "Invalid")
    assert any(c.get("field") == "metadata.name" for c in body["details"]["causes"]), body
    assert (await api.get(f"{url}/{too_long}")).status_code == 404


@pytest.mark.parametrize(("labels", "ok"), [
    ({"k" * 63: "v"}, True),
    ({"k" * 64: "v"}, False),
    ({"p" * 253 + "/k": "v"}, True),  # a prefix is a DNS subdomain (IsDNS1123Subdomain): 253 characters
    ({"p" * 254 + "/k": "v"}, False),
    ({".".join(["p" * 63] * 3) + "." + "p" * 61 + "/k": "v"}, True),
    ({"p" * 63 + "/" + "k" * 64: "v"}, False),
    ({"k": "v" * 63}, True),
    ({"k": "v" * 64}, False),
    ({"k": "-v"}, False),
    ({"k": ""}, True),
    ({"": "v"}, False),
    ({"/k": "v"}, False),
    ({"a/b/c": "v"}, False),
    ({"Example.com/k": "v"}, False),
    ({"k": "v w"}, False),
    ({"kubernetes.io/k": "v"}, True),
], ids=lambda v: str(v)[:40])
async def test_label_keys_and_values_follow_kubes_length_and_character_rules(
        api: httpx.AsyncClient, labels: dict[str, str], ok: bool) -> None:
    resp = await api.post(CM, content=orjson.dumps(configmap("c", metadata={"name": "c", "labels": labels})),
                          headers=JSON)
    if ok:
        assert resp.status_code == 201, resp.text[:400]
    else:
        assert_status(resp, 422, "Invalid")
        assert (await api.get(f"{CM}/c")).status_code == 404


async def test_annotations_over_256_kib_are_422(api: httpx.AsyncClient) -> None:
    annotations = {"a": "x" * (128 * KIB), "b": "x" * (128 * KIB)}
    resp = await api.post(CM, content=orjson.dumps(configmap("c", metadata={"name": "c", "annotations": annotations})),
                          headers=JSON)
    assert_status(resp, 422, "Invalid")


# ---- nesting and amplification ----------------------------------------------------------------


def nested(depth: int, shape: str) -> bytes:
    if shape == "list":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


DEPTHS = [100, 300, 2000, 100_000]


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("shape", ["list", "object"])
@pytest.mark.parametrize("verb", ["create", "update", "merge-patch", "json-patch", "delete", "yaml"])
async def test_deep_json_never_crashes_the_server(api: httpx.AsyncClient, depth: int, shape: str, verb: str) -> None:
    before = await create(api, CM, configmap("c"))
    deep = nested(depth, shape)
    requests = {
        "create": ("POST", CM, b'{"metadata":{"name":"d"},"x":' + deep + b"}", JSON),
        "update": ("PUT", f"{CM}/c", b'{"metadata":{"name":"c"},"x":' + deep + b"}", JSON),
        "merge-patch": ("PATCH", f"{CM}/c", b'{"metadata":{"annotations":{"a":' + deep + b"}}}", MERGE),
        "json-patch": ("PATCH", f"{CM}/c", b'[{"op":"add","path":"/x","value":' + deep + b"}]", JSON_PATCH),
        "delete": ("DELETE", f"{CM}/c", b'{"preconditions":' + deep + b"}", JSON),
        "yaml": ("POST", CM, b"metadata: {name: d}\nx: " + deep, YAML),
    }
    method, url, body, headers = requests[verb]
    resp = await api.request(method, url, content=body, headers=headers)
    assert resp.status_code < 500, resp.text[:500]
    if resp.status_code >= 400:
        assert_4xx_status(resp)
        await unchanged(api, f"{CM}/c", before)
    assert (await api.get("/healthz")).status_code == 200


async def test_a_json_patch_cannot_nest_the_object_deeper_than_a_body_may_be(api: httpx.AsyncClient) -> None:
    before = await create(api, CM, configmap("c"))
    ops = [{"op": "add", "path": "/x" + "/a" * i, "value": {}} for i in range(300)]
    resp = await api.patch(f"{CM}/c", content=orjson.dumps(ops), headers=JSON_PATCH)
    assert_4xx_status(resp)
    await unchanged(api, f"{CM}/c", before)


def alias_bomb(levels: int) -> bytes:
    """The billion laughs: `levels` lists of nine aliases of the list before; 9**levels strings."""
    lines = [b"metadata: {name: lol}", b'l0: &l0 ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"l{i}: &l{i} [{','.join([f'*l{i - 1}'] * 9)}]".encode() for i in range(1, levels)]
    return b"\n".join(lines)


async def test_yaml_alias_amplification_is_refused_as_kube_refuses_it(api: httpx.AsyncClient) -> None:
    """sigs.k8s.io/yaml (go-yaml) refuses excessive aliasing: 9**7 strings from a 500-byte body is 400.

    Expanded, each further level costs nine times the time and memory (9 levels: minutes, gigabytes).
    """
    resp = await api.post(CM, content=alias_bomb(7), headers=YAML)
    assert_status(resp, 400, "BadRequest")
    assert (await api.get(f"{CM}/lol")).status_code == 404


async def test_yaml_aliases_in_moderation_are_fine(api: httpx.AsyncClient) -> None:
    body = b"metadata: {name: ok, labels: &l {app: x}}\ndata: {a: &v hello, b: *v}"
    resp = await api.post(CM, content=body, headers=YAML)
    assert resp.status_code == 201, resp.text[:300]
    assert resp.json()["data"] == {"a": "hello", "b": "hello"}


async def test_json_patch_copies_are_bounded_as_kube_bounds_them(api: httpx.AsyncClient) -> None:
    """kube caps the bytes `copy` operations add at 3 MiB (JSONPatchMaxCopyBytes) and answers 422.

    Each copy here doubles the object: unbounded, 25 operations in a 1 KiB body need gigabytes.
    """
    before = await create(api, CM, configmap("c"))
    ops = [{"op": "add", "path": "/x", "value": {"k": "v" * KIB}}]
    ops += [{"op": "copy", "from": "/x", "path": f"/x/c{i}"} for i in range(14)]  # 16 MiB if unbounded
    resp = await api.patch(f"{CM}/c", content=json.dumps(ops).encode(), headers=JSON_PATCH)
    assert_status(resp, 422, "Invalid")
    await unchanged(api, f"{CM}/c", before)
