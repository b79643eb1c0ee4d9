"""Built-in kinds through the HTTP API: every kind of issue 3 at its kube path, defaults, validation.

Defaults follow kube's `pkg/apis/*/v1/defaults.go`; validation messages `pkg/apis/*/validation`.
"""

from __future__ import annotations

import base64
import ipaddress
from typing import Any

import httpx
import pytest

CORE = "/api/v1"
APPS = "/apis/apps/v1"
POD_SPEC = {"containers": [{"name": "c", "image": "nginx:1.27"}]}


def assert_status(resp: httpx.Response, code: int, reason: str) -> dict[str, Any]:
    assert resp.status_code == code, resp.text
    body = resp.json()
    assert (body["kind"], body["apiVersion"], body["status"]) == ("Status", "v1", "Failure"), body
    assert body["reason"] == reason, body
    assert body["code"] == code, body
    return body


def template(labels: dict[str, str], **spec: Any) -> dict[str, Any]:
    return {"metadata": {"labels": labels}, "spec": {**POD_SPEC, **spec}}


def causes(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c.get("field", ""), c.get("reason", "")) for c in body["details"].get("causes", [])]


# ---- every built-in kind, created and listed at its kube path -------------------------------------

SEL = {"matchLabels": {"app": "a"}}
KINDS: list[tuple[str, str, str, bool, dict[str, Any]]] = [
    # (group/version prefix, plural, kind, namespaced, minimal body without apiVersion/kind/metadata)
    (CORE, "namespaces", "Namespace", False, {}),
    (CORE, "configmaps", "ConfigMap", True, {"data": {"k": "v"}}),
    (CORE, "secrets", "Secret", True, {"data": {"k": "dg=="}}),
    (CORE, "pods", "Pod", True, {"spec": POD_SPEC}),
    (CORE, "services", "Service", True, {"spec": {"ports": [{"port": 80}], "selector": {"app": "a"}}}),
    (CORE, "serviceaccounts", "ServiceAccount", True, {}),
    (CORE, "endpoints", "Endpoints", True,
     {"subsets": [{"addresses": [{"ip": "10.1.2.3"}], "ports": [{"port": 80}]}]}),
    (CORE, "events", "Event", True,
     {"involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"}, "reason": "Started",
      "message": "m", "type": "Normal"}),
    (CORE, "nodes", "Node", False, {}),
    (CORE, "persistentvolumeclaims", "PersistentVolumeClaim", True,
     {"spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
    (CORE, "limitranges", "LimitRange", True,
     {"spec": {"limits": [{"type": "Container", "default": {"cpu": "100m"}}]}}),
    (CORE, "resourcequotas", "ResourceQuota", True, {"spec": {"hard": {"pods": "10"}}}),
    (APPS, "deployments", "Deployment", True, {"spec": {"selector": SEL, "template": template({"app": "a"})}}),
    (APPS, "replicasets", "ReplicaSet", True, {"spec": {"selector": SEL, "template": template({"app": "a"})}}),
    (APPS, "statefulsets", "StatefulSet", True,
     {"spec": {"serviceName": "s", "selector": SEL, "template": template({"app": "a"})}}),
    (APPS, "daemonsets", "DaemonSet", True, {"spec": {"selector": SEL, "template": template({"app": "a"})}}),
    ("/apis/batch/v1", "jobs", "Job", True,
     {"spec": {"template": {"spec": {**POD_SPEC, "restartPolicy": "Never"}}}}),
    ("/apis/batch/v1", "cronjobs", "CronJob", True,
     {"spec": {"schedule": "*/5 * * * *",
               "jobTemplate": {"spec": {"template": {"spec": {**POD_SPEC, "restartPolicy": "OnFailure"}}}}}}),
    ("/apis/coordination.k8s.io/v1", "leases", "Lease", True,
     {"spec": {"holderIdentity": "me", "leaseDurationSeconds": 15}}),
    ("/apis/events.k8s.io/v1", "events", "Event", True,
     {"eventTime": "2025-01-01T00:00:00.000000Z", "reportingController": "example.com/ctl",
      "reportingInstance": "ctl-1", "action": "Start", "reason": "Started", "type": "Normal",
      "regarding": {"kind": "Pod", "name": "p", "namespace": "default"}}),
    ("/apis/rbac.authorization.k8s.io/v1", "roles", "Role", True,
     {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
    ("/apis/rbac.authorization.k8s.io/v1", "rolebindings", "RoleBinding", True,
     {"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
      "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "default"}]}),
    ("/apis/rbac.authorization.k8s.io/v1", "clusterroles", "ClusterRole", False,
     {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]}),
    ("/apis/rbac.authorization.k8s.io/v1", "clusterrolebindings", "ClusterRoleBinding", False,
     {"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "r"},
      "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"}]}),
    ("/apis/networking.k8s.io/v1", "ingresses", "Ingress", True,
     {"spec": {"defaultBackend": {"service": {"name": "s", "port": {"number": 80}}}}}),
    ("/apis/networking.k8s.io/v1", "networkpolicies", "NetworkPolicy", True, {"spec": {"podSelector": {}}}),
    ("/apis/policy/v1", "poddisruptionbudgets", "PodDisruptionBudget", True,
     {"spec": {"minAvailable": 1, "selector": SEL}}),
    ("/apis/autoscaling/v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", True,
     {"spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "d"},
               "minReplicas": 1, "maxReplicas": 3}}),
]


def kind_params() -> list[Any]:
    return [pytest.param(*k, id=f"{k[0].rsplit('/', 2)[-2] if k[0] != CORE else 'core'}-{k[1]}") for k in KINDS]


def collection(prefix: str, plural: str, namespaced: bool, namespace: str = "default") -> str:
    return f"{prefix}/namespaces/{namespace}/{plural}" if namespaced else f"{prefix}/{plural}"


def api_version(prefix: str) -> str:
    return prefix.removeprefix("/apis/").removeprefix("/api/")


@pytest.mark.parametrize(("prefix", "plural", "kind", "namespaced", "body"), kind_params())
async def test_each_builtin_kind_is_created_read_and_listed_at_its_kube_path(
    api: httpx.AsyncClient, prefix: str, plural: str, kind: str, namespaced: bool, body: dict[str, Any]
) -> None:
    path = collection(prefix, plural, namespaced)
    obj = {"apiVersion": api_version(prefix), "kind": kind, "metadata": {"name": "x1"}, **body}
    resp = await api.post(path, json=obj)
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert (created["apiVersion"], created["kind"]) == (api_version(prefix), kind)
    assert created["metadata"]["name"] == "x1"
    assert created["metadata"].get("namespace") == ("default" if namespaced else None)

    got = await api.get(f"{path}/x1")
    assert got.status_code == 200, got.text
    assert got.json()["metadata"]["uid"] == created["metadata"]["uid"]

    listed = await api.get(path)
    assert listed.status_code == 200, listed.text
    assert listed.json()["kind"] == f"{kind}List"
    assert listed.json()["apiVersion"] == api_version(prefix)
    assert "x1" in [i["metadata"]["name"] for i in listed.json()["items"]]

    deleted = await api.delete(f"{path}/x1")
    assert deleted.is_success, deleted.text


@pytest.mark.parametrize(("prefix", "plural", "kind", "namespaced", "body"),
                         [p for p in kind_params() if p.values[3]])
async def test_each_namespaced_kind_lists_across_namespaces(
    api: httpx.AsyncClient, prefix: str, plural: str, kind: str, namespaced: bool, body: dict[str, Any]
) -> None:
    await api.post(f"{CORE}/namespaces", json={"metadata": {"name": "other"}})
    for ns in ("default", "other"):
        obj = {"metadata": {"name": "x2"}, **body}
        if plural == "events" and prefix == CORE:
            obj["involvedObject"] = {**body["involvedObject"], "namespace": ns}
        if plural == "events" and prefix != CORE:
            obj["regarding"] = {**body["regarding"], "namespace": ns}
        resp = await api.post(collection(prefix, plural, True, ns), json=obj)
        assert resp.status_code == 201, resp.text
    resp = await api.get(f"{prefix}/{plural}")
    assert resp.status_code == 200, resp.text
    found = {(i["metadata"]["namespace"], i["metadata"]["name"]) for i in resp.json()["items"]}
    assert {("default", "x2"), ("other", "x2")} <= found


@pytest.mark.parametrize(("prefix", "plural", "kind", "namespaced", "body"),
                         [p for p in kind_params() if not p.values[3]])
async def test_a_cluster_scoped_kind_is_not_served_under_a_namespace(
    api: httpx.AsyncClient, prefix: str, plural: str, kind: str, namespaced: bool, body: dict[str, Any]
) -> None:
    if plural == "namespaces":
        pytest.skip("/namespaces/{name} addresses the namespace itself")
    resp = await api.get(f"{prefix}/namespaces/default/{plural}")
    assert_status(resp, 404, "NotFound")


async def test_a_namespaced_kind_has_no_cluster_scoped_object_path(api: httpx.AsyncClient) -> None:
    assert_status(await api.get(f"{CORE}/configmaps/foo"), 404, "NotFound")


async def test_a_cluster_scoped_object_has_no_namespace(api: httpx.AsyncClient) -> None:
    resp = await api.post(f"{CORE}/nodes", json={"metadata": {"name": "n1", "namespace": "default"}})
    # kube clears the namespace of a cluster-scoped object (EnsureObjectNamespaceMatchesRequestNamespace
    # with an empty request namespace) and stores it without one.
    assert resp.status_code == 201, resp.text
    assert "namespace" not in resp.json()["metadata"]


# ---- defaults --------------------------------------------------------------------------------------


async def test_a_pod_reads_back_with_kube_defaults(api: httpx.AsyncClient) -> None:
    resp = await api.post(f"{CORE}/namespaces/default/pods", json={"metadata": {"name": "p"}, "spec": POD_SPEC})
    assert resp.status_code == 201, resp.text
    pod = resp.json()
    spec = pod["spec"]
    assert pod["status"]["phase"] == "Pending"
    assert spec["restartPolicy"] == "Always"
    assert spec["dnsPolicy"] == "ClusterFirst"
    assert spec["terminationGracePeriodSeconds"] == 30
    assert spec["schedulerName"] == "default-scheduler"
    assert spec["securityContext"] == {}
    assert spec["enableServiceLinks"] is True
    container = spec["containers"][0]
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert container["terminationMessagePolicy"] == "File"


@pytest.mark.parametrize(("image", "policy"), [("nginx", "Always"), ("nginx:latest", "Always"),
                                               ("nginx:1.27", "IfNotPresent"),
                                               ("nginx@sha256:" + "a" * 64, "IfNotPresent")])
async def test_image_pull_policy_defaults_from_the_tag(api: httpx.AsyncClient, image: str, policy: str) -> None:
    body = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": image}]}}
    pod = (await api.post(f"{CORE}/namespaces/default/pods", json=body)).json()
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == policy


async def test_a_pod_status_sent_on_create_is_replaced_by_pending(api: httpx.AsyncClient) -> None:
    body = {"metadata": {"name": "p"}, "spec": POD_SPEC, "status": {"phase": "Running"}}
    pod = (await api.post(f"{CORE}/namespaces/default/pods", json=body)).json()
    assert pod["status"]["phase"] == "Pending"


async def test_a_service_gets_cluster_ip_defaults(api: httpx.AsyncClient) -> None:
    body = {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}], "selector": {"app": "a"}}}
    resp = await api.post(f"{CORE}/namespaces/default/services", json=body)
    assert resp.status_code == 201, resp.text
    spec = resp.json()["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["sessionAffinity"] == "None"
    assert ipaddress.ip_address(spec["clusterIP"]) in ipaddress.ip_network("10.96.0.0/12")
    assert spec["clusterIPs"] == [spec["clusterIP"]]
    assert spec["ipFamilies"] == ["IPv4"]
    assert spec["ipFamilyPolicy"] == "SingleStack"
    assert spec["internalTrafficPolicy"] == "Cluster"
    assert spec["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}]


async def test_every_service_gets_its_own_cluster_ip(api: httpx.AsyncClient) -> None:
    ips = {"10.96.0.1"}  # default/kubernetes
    for i in range(12):
        body = {"metadata": {"name": f"s{i}"}, "spec": {"ports": [{"port": 80}]}}
        resp = await api.post(f"{CORE}/namespaces/default/services", json=body)
        assert resp.status_code == 201, resp.text
        ips.add(resp.json()["spec"]["clusterIP"])
    assert len(ips) == 13


async def test_a_headless_service_gets_no_cluster_ip(api: httpx.AsyncClient) -> None:
    body = {"metadata": {"name": "h"}, "spec": {"clusterIP": "None", "ports": [{"port": 80}]}}
    resp = await api.post(f"{CORE}/namespaces/default/services", json=body)
    assert resp.status_code == 201, resp.text
    assert resp.json()["spec"]["clusterIP"] == "None"
    assert resp.json()["spec"]["clusterIPs"] == ["None"]


async def test_a_deployment_reads_back_with_kube_defaults(api: httpx.AsyncClient) -> None:
    body = {"metadata": {"name": "d"}, "spec": {"selector": SEL, "template": template({"app": "a"})}}
    resp = await api.post(f"{APPS}/namespaces/default/deployments", json=body)
    assert resp.status_code == 201, resp.text
    spec = resp.json()["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    pod_spec = spec["template"]["spec"]
    assert pod_spec["restartPolicy"] == "Always"
    assert pod_spec["dnsPolicy"] == "ClusterFirst"
    assert pod_spec["terminationGracePeriodSeconds"] == 30
    assert pod_spec["schedulerName"] == "default-scheduler"


async def test_a_secret_merges_string_data_into_base64_data(api: httpx.AsyncClient) -> None:
    body = {"metadata": {"name": "s"}, "data": {"kept": base64.b64encode(b"old").decode(),
                                                 "over": base64.b64encode(b"old").decode()},
            "stringData": {"over": "new", "plain": "text"}}
    resp = await api.post(f"{CORE}/namespaces/default/secrets", json=body)
    assert resp.status_code == 201, resp.text
    secret = resp.json()
    assert "stringData" not in secret
    assert secret["type"] == "Opaque"
    assert {k: base64.b64decode(v).decode() for k, v in secret["data"].items()} == {
        "kept": "old", "over": "new", "plain": "text"}
    stored = (await api.get(f"{CORE}/namespaces/default/secrets/s")).json()
    assert stored["data"] == secret["data"]
    assert "stringData" not in stored


async def test_secret_data_that_is_not_base64_is_400(api: httpx.AsyncClient) -> None:
    # Decoding []byte from JSON fails before validation: kube answers 400 BadRequest.
    resp = await api.post(f"{CORE}/namespaces/default/secrets", json={"metadata": {"name": "s"}, "data": {"k": "%%%"}})
    assert_status(resp, 400, "BadRequest")


# ---- immutability ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("plural", "data"), [("configmaps", {"k": "v"}), ("secrets", {"k": "dg=="})])
async def test_an_immutable_object_refuses_data_changes(api: httpx.AsyncClient, plural: str, data: dict[str, str]) -> None:
    path = f"{CORE}/namespaces/default/{plural}"
    resp = await api.post(path, json={"metadata": {"name": "frozen"}, "immutable": True, "data": data})
    assert resp.status_code == 201, resp.text
    obj = resp.json()
    changed = dict(obj, data={"k": "dzI="})
    body = assert_status(await api.put(f"{path}/frozen", json=changed), 422, "Invalid")
    assert ("data", "FieldValueForbidden") in causes(body)
    assert "field is immutable when `immutable` is set" in body["message"]
    assert (await api.get(f"{path}/frozen")).json()["data"] == data


@pytest.mark.parametrize("plural", ["configmaps", "secrets"])
async def test_an_immutable_object_cannot_become_mutable(api: httpx.AsyncClient, plural: str) -> None:
    path = f"{CORE}/namespaces/default/{plural}"
    obj = (await api.post(path, json={"metadata": {"name": "frozen"}, "immutable": True})).json()
    body = assert_status(await api.put(f"{path}/frozen", json=dict(obj, immutable=False)), 422, "Invalid")
    assert ("immutable", "FieldValueForbidden") in causes(body)


async def test_an_immutable_configmap_still_accepts_label_changes_and_deletion(api: httpx.AsyncClient) -> None:
    path = f"{CORE}/namespaces/default/configmaps"
    obj = (await api.post(path, json={"metadata": {"name": "frozen"}, "immutable": True, "data": {"k": "v"}})).json()
    obj["metadata"]["labels"] = {"x": "y"}
    resp = await api.put(f"{path}/frozen", json=obj)
    assert resp.status_code == 200, resp.text
    assert (await api.delete(f"{path}/frozen")).status_code == 200


async def test_a_mutable_configmap_may_become_immutable(api: httpx.AsyncClient) -> None:
    path = f"{CORE}/namespaces/default/configmaps"
    obj = (await api.post(path, json={"metadata": {"name": "c"}, "data": {"k": "v"}})).json()
    resp = await api.put(f"{path}/c", json=dict(obj, immutable=True))
    assert resp.status_code == 200, resp.text
    assert resp.json()["immutable"] is True


# ---- validation --------------------------------------------------------------------------------


INVALID = [
    pytest.param(
        f"{CORE}/namespaces/default/pods", {"metadata": {"name": "p"}, "spec": {"containers": []}},
        'Pod "p" is invalid: spec.containers: Required value', [("spec.containers", "FieldValueRequired")],
        id="pod-without-containers"),
    pytest.param(
        f"{CORE}/namespaces/default/pods", {"metadata": {"name": "p"}, "spec": {"containers": [{"image": "i"}]}},
        'Pod "p" is invalid: spec.containers[0].name: Required value',
        [("spec.containers[0].name", "FieldValueRequired")], id="pod-nameless-container"),
    pytest.param(
        f"{CORE}/namespaces/default/pods", {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}},
        'Pod "p" is invalid: spec.containers[0].image: Required value',
        [("spec.containers[0].image", "FieldValueRequired")], id="pod-imageless-container"),
    pytest.param(
        f"{CORE}/namespaces/default/pods",
        {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}, {"name": "c", "image": "i"}]}},
        'Pod "p" is invalid: spec.containers[1].name: Duplicate value: "c"',
        [("spec.containers[1].name", "FieldValueDuplicate")], id="pod-duplicate-container-names"),
    pytest.param(
        f"{APPS}/namespaces/default/deployments",
        {"metadata": {"name": "d"}, "spec": {"selector": SEL, "template": template({"app": "b"})}},
        None, [("spec.template.metadata.labels", "FieldValueInvalid")], id="deployment-selector-mismatch"),
    pytest.param(
        f"{CORE}/namespaces/default/services", {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 0, "targetPort": 8080}]}},
        'Service "s" is invalid: spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
        [("spec.ports[0].port", "FieldValueInvalid")], id="service-port-zero"),
    pytest.param(
        f"{CORE}/namespaces/default/services", {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 70000, "targetPort": 8080}]}},
        'Service "s" is invalid: spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive',
        [("spec.ports[0].port", "FieldValueInvalid")], id="service-port-too-big"),
    pytest.param(
        f"{CORE}/namespaces/default/configmaps", {"metadata": {"name": "c", "labels": {"bad key!": "v"}}},
        None, [("metadata.labels", "FieldValueInvalid")], id="bad-label-key"),
    pytest.param(
        f"{CORE}/namespaces/default/configmaps", {"metadata": {"name": "c", "labels": {"k": "bad value!"}}},
        None, [("metadata.labels", "FieldValueInvalid")], id="bad-label-value"),
    pytest.param(
        f"{CORE}/namespaces/default/configmaps", {"metadata": {"name": "c", "annotations": {"bad key!": "v"}}},
        None, [("metadata.annotations", "FieldValueInvalid")], id="bad-annotation-key"),
]


@pytest.mark.parametrize(("path", "body", "message", "expected"), INVALID)
async def test_invalid_builtins_are_422_with_kube_field_causes(
    api: httpx.AsyncClient, path: str, body: dict[str, Any], message: str | None, expected: list[tuple[str, str]]
) -> None:
    status = assert_status(await api.post(path, json=body), 422, "Invalid")
    if message is not None:
        assert status["message"] == message
    assert causes(status) == expected
    name = body["metadata"]["name"]
    assert status["details"]["name"] == name
    assert (await api.get(f"{path}/{name}")).status_code == 404


async def test_a_deployment_selector_mismatch_uses_kube_wording(api: httpx.AsyncClient) -> None:
    body = {"metadata": {"name": "d"}, "spec": {"selector": SEL, "template": template({"app": "b"})}}
    status = assert_status(await api.post(f"{APPS}/namespaces/default/deployments", json=body), 422, "Invalid")
    assert status["message"].startswith('Deployment.apps "d" is invalid: spec.template.metadata.labels: Invalid value: ')
    assert status["message"].endswith("`selector` does not match template `labels`")
    assert status["details"]["group"] == "apps"
    assert status["details"]["kind"] == "Deployment"


async def test_an_invalid_update_is_422_and_changes_nothing(api: httpx.AsyncClient) -> None:
    path = f"{CORE}/namespaces/default/pods"
    pod = (await api.post(path, json={"metadata": {"name": "p"}, "spec": POD_SPEC})).json()
    pod["spec"]["containers"][0]["image"] = ""
    status = assert_status(await api.put(f"{path}/p", json=pod), 422, "Invalid")
    assert ("spec.containers[0].image", "FieldValueRequired") in causes(status)
    assert (await api.get(f"{path}/p")).json()["spec"]["containers"][0]["image"] == "nginx:1.27"


async def test_a_deployment_selector_is_immutable(api: httpx.AsyncClient) -> None:
    path = f"{APPS}/namespaces/default/deployments"
    d = (await api.post(path, json={"metadata": {"name": "d"},
                                    "spec": {"selector": SEL, "template": template({"app": "a", "v": "1"})}})).json()
    d["spec"]["selector"] = {"matchLabels": {"app": "a", "v": "1"}}
    status = assert_status(await api.put(f"{path}/d", json=d), 422, "Invalid")
    assert ("spec.selector", "FieldValueInvalid") in causes(status)


# ---- scale subresource --------------------------------------------------------------------------------


@pytest.mark.parametrize("plural", ["deployments", "replicasets", "statefulsets"])
async def test_the_scale_subresource_reads_and_writes_replicas(api: httpx.AsyncClient, plural: str) -> None:
    path = f"{APPS}/namespaces/default/{plural}"
    spec: dict[str, Any] = {"replicas": 2, "selector": SEL, "template": template({"app": "a"})}
    if plural == "statefulsets":
        spec["serviceName"] = "s"
    created = await api.post(path, json={"metadata": {"name": "w"}, "spec": spec})
    assert created.status_code == 201, created.text

    scale = await api.get(f"{path}/w/scale")
    assert scale.status_code == 200, scale.text
    body = scale.json()
    assert (body["apiVersion"], body["kind"]) == ("autoscaling/v1", "Scale")
    assert body["metadata"]["name"] == "w"
    assert body["metadata"]["namespace"] == "default"
    assert body["metadata"]["uid"] == created.json()["metadata"]["uid"]
    assert body["spec"]["replicas"] == 2

    body["spec"]["replicas"] = 5
    put = await api.put(f"{path}/w/scale", json=body)
    assert put.status_code == 200, put.text
    assert put.json()["spec"]["replicas"] == 5
    assert (await api.get(f"{path}/w")).json()["spec"]["replicas"] == 5

    patched = await api.patch(f"{path}/w/scale", content=b'{"spec":{"replicas":1}}',
                              headers={"Content-Type": "application/merge-patch+json"})
    assert patched.status_code == 200, patched.text
    assert (await api.get(f"{path}/w")).json()["spec"]["replicas"] == 1


async def test_scale_of_a_kind_without_it_is_404(api: httpx.AsyncClient) -> None:
    await api.post(f"{CORE}/namespaces/default/configmaps", json={"metadata": {"name": "c"}})
    assert_status(await api.get(f"{CORE}/namespaces/default/configmaps/c/scale"), 404, "NotFound")


async def test_a_negative_scale_is_422(api: httpx.AsyncClient) -> None:
    path = f"{APPS}/namespaces/default/deployments"
    await api.post(path, json={"metadata": {"name": "w"}, "spec": {"selector": SEL, "template": template({"app": "a"})}})
    scale = (await api.get(f"{path}/w/scale")).json()
    scale["spec"]["replicas"] = -1
    status = assert_status(await api.put(f"{path}/w/scale", json=scale), 422, "Invalid")
    assert ("spec.replicas", "FieldValueInvalid") in causes(status)
