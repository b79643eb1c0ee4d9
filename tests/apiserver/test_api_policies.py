"""ValidatingAdmissionPolicy through the API: stored policies and bindings drive the next request."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

REG = "/apis/admissionregistration.k8s.io/v1"
DEPLOYMENTS = "/apis/apps/v1/namespaces/{ns}/deployments"


def deployment(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}


def policy(name: str, expression: str = "object.spec.replicas <= 5", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": name},
            "spec": {"matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"],
                                                             "operations": ["CREATE", "UPDATE"],
                                                             "resources": ["deployments"]}]},
                     "validations": [{"expression": expression}], **spec}}


def binding(name: str, policy_name: str, *actions: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": name},
            "spec": {"policyName": policy_name, "validationActions": list(actions) or ["Deny"], **spec}}


async def setup(api: httpx.AsyncClient, *objects: dict[str, Any]) -> None:
    for obj in objects:
        plural = ("validatingadmissionpolicies" if obj["kind"] == "ValidatingAdmissionPolicy"
                  else "validatingadmissionpolicybindings")
        resp = await api.post(f"{REG}/{plural}", json=obj)
        assert resp.status_code == 201, resp.text
    await asyncio.sleep(0.05)  # the projection follows the watch cache


async def test_a_policy_denies_too_many_replicas(api: httpx.AsyncClient) -> None:
    await setup(api, policy("max-replicas"), binding("max-replicas-b", "max-replicas"))
    stored = (await api.get(f"{REG}/validatingadmissionpolicies/max-replicas")).json()
    assert stored["spec"]["failurePolicy"] == "Fail"
    assert stored["spec"]["matchConstraints"]["matchPolicy"] == "Equivalent"
    resp = await api.post(DEPLOYMENTS.format(ns="default"), json=deployment("big", 6))
    assert resp.status_code == 422, resp.text
    status = resp.json()
    assert status["reason"] == "Invalid"
    assert status["message"] == ('deployments.apps "big" is forbidden: ValidatingAdmissionPolicy \'max-replicas\' '
                                 "with binding 'max-replicas-b' denied request: failed expression: "
                                 "object.spec.replicas <= 5")
    resp = await api.post(DEPLOYMENTS.format(ns="default"), json=deployment("small", 5))
    assert resp.status_code == 201, resp.text


async def test_warn_allows_with_a_warning_header(api: httpx.AsyncClient) -> None:
    await setup(api, policy("p"), binding("b", "p", "Warn"))
    resp = await api.post(DEPLOYMENTS.format(ns="default"), json=deployment("big", 6))
    assert resp.status_code == 201, resp.text
    assert "Validation failed for ValidatingAdmissionPolicy 'p' with binding 'b'" in resp.headers["warning"]


async def test_the_limit_comes_from_a_configmap(api: httpx.AsyncClient) -> None:
    resp = await api.post("/api/v1/namespaces/default/configmaps",
                          json={"metadata": {"name": "limits"}, "data": {"max": "2"}})
    assert resp.status_code == 201, resp.text
    await setup(api, policy("p", "object.spec.replicas <= int(params.data.max)",
                            paramKind={"apiVersion": "v1", "kind": "ConfigMap"}),
                binding("b", "p", paramRef={"name": "limits"}))
    resp = await api.post(DEPLOYMENTS.format(ns="default"), json=deployment("three", 3))
    assert resp.status_code == 422, resp.text
    resp = await api.post(DEPLOYMENTS.format(ns="default"), json=deployment("two", 2))
    assert resp.status_code == 201, resp.text


async def test_a_match_condition_excludes_a_namespace(api: httpx.AsyncClient) -> None:
    resp = await api.post("/api/v1/namespaces", json={"metadata": {"name": "free"}})
    assert resp.status_code == 201, resp.text
    await setup(api, policy("p", matchConditions=[{"name": "not-free", "expression": "request.namespace != 'free'"}]),
                binding("b", "p"))
    assert (await api.post(DEPLOYMENTS.format(ns="free"), json=deployment("big", 9))).status_code == 201
    assert (await api.post(DEPLOYMENTS.format(ns="default"), json=deployment("big", 9))).status_code == 422


async def test_failure_policy_on_an_evaluation_error(api: httpx.AsyncClient) -> None:
    await setup(api, policy("fail", "object.spec.nothing > 1"), binding("fail-b", "fail"))
    resp = await api.post(DEPLOYMENTS.format(ns="default"), json=deployment("a", 1))
    assert resp.status_code == 422, resp.text
    assert resp.json()["message"].endswith(
        "denied request: expression 'object.spec.nothing > 1' resulted in error: no such key: nothing")
    resp = await api.patch(f"{REG}/validatingadmissionpolicies/fail", json={"spec": {"failurePolicy": "Ignore"}},
                           headers={"Content-Type": "application/merge-patch+json"})
    assert resp.status_code == 200, resp.text
    await asyncio.sleep(0.05)
    assert (await api.post(DEPLOYMENTS.format(ns="default"), json=deployment("a", 1))).status_code == 201


async def test_invalid_policies_are_rejected(api: httpx.AsyncClient) -> None:
    resp = await api.post(f"{REG}/validatingadmissionpolicybindings",
                          json=binding("b", "p") | {"spec": {"policyName": "p"}})
    assert resp.status_code == 422
    assert "spec.validationActions: Required value" in resp.json()["message"]
