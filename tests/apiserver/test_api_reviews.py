"""Review kinds are answered without being stored: everything is allowed, everyone is one admin."""

from __future__ import annotations

import httpx
import pytest

AUTHZ = "/apis/authorization.k8s.io/v1"


async def test_a_self_subject_access_review_is_allowed_and_not_stored(api: httpx.AsyncClient) -> None:
    body = {"spec": {"resourceAttributes": {"namespace": "default", "verb": "create", "resource": "pods"}}}
    resp = await api.post(f"{AUTHZ}/selfsubjectaccessreviews", json=body)
    assert resp.status_code == 201, resp.text
    review = resp.json()
    assert review["kind"] == "SelfSubjectAccessReview" and review["apiVersion"] == "authorization.k8s.io/v1"
    assert review["status"]["allowed"] is True
    assert review["spec"] == body["spec"]
    assert (await api.get(f"{AUTHZ}/selfsubjectaccessreviews")).status_code == 405


async def test_a_self_subject_rules_review_grants_everything(api: httpx.AsyncClient) -> None:
    resp = await api.post(f"{AUTHZ}/selfsubjectrulesreviews", json={"spec": {"namespace": "default"}})
    assert resp.status_code == 201, resp.text
    assert resp.json()["status"]["resourceRules"] == [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]


async def test_whoami_names_the_admin(api: httpx.AsyncClient) -> None:
    resp = await api.post("/apis/authentication.k8s.io/v1/selfsubjectreviews", json={})
    assert resp.status_code == 201, resp.text
    assert resp.json()["status"]["userInfo"]["username"] == "system:admin"


@pytest.mark.parametrize("group", ["authorization.k8s.io", "authentication.k8s.io"])
async def test_review_groups_are_discoverable(api: httpx.AsyncClient, group: str) -> None:
    resources = (await api.get(f"/apis/{group}/v1")).json()["resources"]
    assert all(r["verbs"] == ["create"] for r in resources)
