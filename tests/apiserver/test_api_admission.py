"""Admission through the API: configurations stored as objects drive the chain for the next request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.admission.helpers import WebhookServer, add_label, configuration, deny, free_port, serve, webhook

REG = "/apis/admissionregistration.k8s.io/v1"
PODS = "/api/v1/namespaces/default/pods"


@pytest.fixture
async def webhooks() -> AsyncIterator[WebhookServer]:
    port = free_port()
    async for server in serve(WebhookServer(f"http://127.0.0.1:{port}"), port):
        yield server


def pod(name: str = "web", **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels}, "spec": {"containers": [{"name": "c", "image": "i"}]}}


async def register(api: httpx.AsyncClient, plural: str, config: dict[str, Any]) -> None:
    resp = await api.post(f"{REG}/{plural}", json=config)
    assert resp.status_code == 201, resp.text
    await asyncio.sleep(0.05)  # the projection follows the watch cache


async def test_a_mutating_webhook_labels_what_the_validating_webhook_then_sees(
    webhooks: WebhookServer, api: httpx.AsyncClient
) -> None:
    seen: list[dict[str, Any]] = []

    def check(review: dict[str, Any]) -> dict[str, Any]:
        seen.append(review["request"]["object"]["metadata"].get("labels", {}))
        from tests.admission.helpers import allow

        return allow(review)

    await register(api, "mutatingwebhookconfigurations",
                   configuration("m", webhook("label.example.com", webhooks.route("/m", add_label("team", "a")))))
    await register(api, "validatingwebhookconfigurations",
                   configuration("v", webhook("check.example.com", webhooks.route("/v", check)), mutating=False))
    resp = await api.post(PODS, json=pod())
    assert resp.status_code == 201, resp.text
    assert resp.json()["metadata"]["labels"] == {"team": "a"}
    assert (await api.get(f"{PODS}/web")).json()["metadata"]["labels"] == {"team": "a"}
    assert seen == [{"team": "a"}], "the validating webhook saw the mutated object"
    review = webhooks.reviews["/m"][0]["request"]
    assert review["operation"] == "CREATE" and review["resource"] == {"group": "", "version": "v1",
                                                                       "resource": "pods"}


async def test_a_denial_reaches_the_client_worded_as_kube_words_it(
    webhooks: WebhookServer, api: httpx.AsyncClient
) -> None:
    hook = webhook("deny.example.com", webhooks.route("/d", lambda r: deny(r, message="no pods today", code=403)))
    await register(api, "validatingwebhookconfigurations", configuration("v", hook, mutating=False))
    resp = await api.post(PODS, json=pod())
    assert resp.status_code == 403
    assert resp.json()["message"] == 'admission webhook "deny.example.com" denied the request: no pods today'
    assert (await api.get(f"{PODS}/web")).status_code == 404


async def test_an_unreachable_webhook_fails_the_request_under_fail_and_is_skipped_under_ignore(
    api: httpx.AsyncClient
) -> None:
    url = f"http://127.0.0.1:{free_port()}/nobody"
    await register(api, "validatingwebhookconfigurations",
                   configuration("v", webhook("gone.example.com", url, timeoutSeconds=1), mutating=False))
    resp = await api.post(PODS, json=pod())
    assert resp.status_code == 500
    assert resp.json()["message"].startswith('Internal error occurred: failed calling webhook "gone.example.com"')
    config = (await api.get(f"{REG}/validatingwebhookconfigurations/v")).json()
    config["webhooks"][0]["failurePolicy"] = "Ignore"
    assert (await api.put(f"{REG}/validatingwebhookconfigurations/v", json=config)).status_code == 200
    await asyncio.sleep(0.05)
    assert (await api.post(PODS, json=pod())).status_code == 201


async def test_an_invalid_configuration_is_422(api: httpx.AsyncClient) -> None:
    bad = configuration("bad", webhook("no-dot", "http://127.0.0.1:1/x"), mutating=False)
    resp = await api.post(f"{REG}/validatingwebhookconfigurations", json=bad)
    assert resp.status_code == 422, resp.text
