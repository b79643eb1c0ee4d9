"""Validating webhooks: called all at once on the final object; denials and dry runs as kube answers them."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from admission import Dispatcher
from machinery import ApiError, BadRequest, InternalError
from tests.admission.helpers import (
    WebhookServer,
    add_label,
    allow,
    configuration,
    deny,
    pod_attributes,
    webhook,
)


def validating(*hooks: dict[str, Any]) -> list[dict[str, Any]]:
    return [configuration("v", *hooks, mutating=False)]


async def test_validating_webhooks_run_concurrently(webhooks: WebhookServer, dispatcher: Dispatcher) -> None:
    async def slow(review: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0.5)
        return allow(review, warnings=[review["request"]["name"]])

    hooks = [webhook(f"v{i}.example.com", webhooks.route(f"/v{i}", slow)) for i in range(4)]
    dispatcher.configure([], validating(*hooks))
    started = time.monotonic()
    warnings = await dispatcher.validate(pod_attributes())
    assert time.monotonic() - started < 1.5  # not 4 x 0.5 s
    assert warnings == ["web"]


async def test_validators_see_the_mutated_object(webhooks: WebhookServer, dispatcher: Dispatcher) -> None:
    mutator = webhooks.route("/m", add_label("team", "blue"))
    validator = webhooks.route("/v", lambda review: allow(review) if review["request"]["object"]["metadata"].get(
        "labels") == {"team": "blue"} else deny(review, message="unlabelled"))
    dispatcher.configure([configuration("m", webhook("m.example.com", mutator))],
                         validating(webhook("v.example.com", validator)))
    attrs = pod_attributes()
    attrs.object, _ = await dispatcher.mutate(attrs)
    assert await dispatcher.validate(attrs) == []


async def test_the_first_denial_in_webhook_order_wins(webhooks: WebhookServer, dispatcher: Dispatcher) -> None:
    async def late_denial(review: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0.2)
        return deny(review, message="first", code=403)

    first = webhooks.route("/first", late_denial)
    second = webhooks.route("/second", lambda review: deny(review, message="second"))
    dispatcher.configure([], validating(webhook("a.example.com", first), webhook("b.example.com", second)))
    with pytest.raises(ApiError) as caught:
        await dispatcher.validate(pod_attributes())
    assert (caught.value.code, caught.value.message) == (403, 'admission webhook "a.example.com" denied the request: '
                                                              "first")


async def test_a_denial_wins_over_a_failure_open(webhooks: WebhookServer, dispatcher: Dispatcher) -> None:
    gone = "http://127.0.0.1:9/gone"
    no = webhooks.route("/no", lambda review: deny(review, message="no"))
    dispatcher.configure([], validating(webhook("gone.example.com", gone, failurePolicy="Ignore"),
                                        webhook("no.example.com", no, failurePolicy="Ignore")))
    with pytest.raises(ApiError) as caught:
        await dispatcher.validate(pod_attributes())
    assert caught.value.message == 'admission webhook "no.example.com" denied the request: no'


@pytest.mark.parametrize("side_effects", ["Unknown", "Some"])
@pytest.mark.parametrize("mutating", [True, False])
async def test_a_dry_run_fails_on_webhooks_with_side_effects(webhooks: WebhookServer, dispatcher: Dispatcher,
                                                              side_effects: str, mutating: bool) -> None:
    url = webhooks.route("/x", lambda review: allow(review))
    configs = [configuration("c", webhook("side.example.com", url, sideEffects=side_effects,
                                          failurePolicy="Ignore"), mutating=mutating)]
    dispatcher.configure(configs if mutating else [], [] if mutating else configs)
    attrs = pod_attributes(dry_run=True)
    with pytest.raises(BadRequest) as caught:
        await (dispatcher.mutate(attrs) if mutating else dispatcher.validate(attrs))
    assert caught.value.status() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'admission webhook "side.example.com" does not support dry run', "reason": "BadRequest",
        "code": 400}
    assert webhooks.reviews["/x"] == []
    await (dispatcher.mutate(pod_attributes()) if mutating else dispatcher.validate(pod_attributes()))
    assert len(webhooks.reviews["/x"]) == 1  # without dryRun it is called


@pytest.mark.parametrize("side_effects", ["None", "NoneOnDryRun"])
async def test_a_dry_run_is_sent_to_webhooks_without_side_effects(webhooks: WebhookServer, dispatcher: Dispatcher,
                                                                 side_effects: str) -> None:
    mutator = webhooks.route("/m", add_label("dry", "run"))
    validator = webhooks.route("/v", lambda review: allow(review))
    dispatcher.configure([configuration("m", webhook("m.example.com", mutator, sideEffects=side_effects))],
                         validating(webhook("v.example.com", validator, sideEffects=side_effects)))
    attrs = pod_attributes(dry_run=True)
    attrs.object, _ = await dispatcher.mutate(attrs)
    await dispatcher.validate(attrs)
    assert [r["request"]["dryRun"] for r in webhooks.reviews["/m"] + webhooks.reviews["/v"]] == [True, True]


async def test_a_dry_run_without_side_effects_declared_is_a_failed_call(webhooks: WebhookServer,
                                                                        dispatcher: Dispatcher) -> None:
    url = webhooks.route("/x", lambda review: allow(review))
    hook = webhook("old.example.com", url)
    del hook["sideEffects"]  # stored before kube required it
    dispatcher.configure([], validating(hook))
    with pytest.raises(InternalError) as caught:
        await dispatcher.validate(pod_attributes(dry_run=True))
    assert caught.value.message == ('Internal error occurred: failed calling webhook "old.example.com": Webhook '
                                    "SideEffects is nil")
