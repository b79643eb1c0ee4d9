"""Faults on the way to a webhook are handled per failurePolicy, with kube's words; nothing hangs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from admission import Dispatcher
from machinery import InternalError
from tests.admission.helpers import (
    Raw,
    WebhookServer,
    allow,
    configuration,
    free_port,
    pod,
    pod_attributes,
    webhook,
)

FAILED = 'Internal error occurred: failed calling webhook "fragile.example.com": '


async def _outcomes(dispatcher: Dispatcher, url: str, *, validating: bool = False, **hook: Any) -> tuple[str, bool]:
    """The error message under failurePolicy Fail, and whether Ignore let the request through unchanged."""
    def configure(policy: str) -> None:
        configs = [configuration("c", webhook("fragile.example.com", url, failurePolicy=policy, **hook),
                                 mutating=not validating)]
        dispatcher.configure([] if validating else configs, configs if validating else [])

    async def admit() -> Any:
        return await (dispatcher.validate(pod_attributes()) if validating else dispatcher.mutate(pod_attributes()))

    configure("Fail")
    with pytest.raises(InternalError) as caught:
        await admit()
    assert caught.value.code == 500 and caught.value.status()["reason"] == "InternalError"
    assert caught.value.status()["details"] == {"causes": [{"message": caught.value.message.removeprefix(
        "Internal error occurred: ")}]}
    configure("Ignore")
    result = await admit()
    return caught.value.message, result == ([] if validating else (pod(), []))


@pytest.fixture
async def closing_server() -> AsyncIterator[str]:
    """A server that reads the request and closes the connection without a word: a crashed webhook."""
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/crash"
    finally:
        server.close()
        await server.wait_closed()


async def test_connection_refused(dispatcher: Dispatcher) -> None:
    url = f"http://127.0.0.1:{free_port()}/gone"
    message, ignored = await _outcomes(dispatcher, url)
    assert message == FAILED + f'failed to call webhook: Post "{url}?timeout=10s": dial tcp {url[7:-5]}: connect: ' \
                               "connection refused"
    assert ignored


async def test_a_slow_webhook_times_out_after_timeout_seconds(webhooks: WebhookServer, dispatcher: Dispatcher) -> None:
    async def slow(review: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(5)
        return allow(review)

    url = webhooks.route("/slow", slow)
    started = time.monotonic()
    message, ignored = await _outcomes(dispatcher, url, timeoutSeconds=1)
    assert message == FAILED + f'failed to call webhook: Post "{url}?timeout=1s": context deadline exceeded'
    assert ignored
    assert time.monotonic() - started < 3.5  # two calls of one second each, not five
    assert webhooks.queries[0] == "timeout=1s"


async def test_a_webhook_that_closes_the_connection(closing_server: str, dispatcher: Dispatcher) -> None:
    message, ignored = await _outcomes(dispatcher, closing_server)
    assert message == FAILED + f'failed to call webhook: Post "{closing_server}?timeout=10s": EOF'
    assert ignored


async def test_an_unknown_certificate_authority(tls_webhooks: WebhookServer, dispatcher: Dispatcher) -> None:
    url = tls_webhooks.route("/x", lambda review: allow(review))
    message, ignored = await _outcomes(dispatcher, url)  # no caBundle: the system roots
    assert message == FAILED + f'failed to call webhook: Post "{url}?timeout=10s": tls: failed to verify ' \
                               "certificate: x509: certificate signed by unknown authority"
    assert ignored


async def test_a_ca_bundle_that_is_no_certificate(tls_webhooks: WebhookServer, dispatcher: Dispatcher) -> None:
    url = tls_webhooks.route("/x", lambda review: allow(review))
    message, ignored = await _outcomes(dispatcher, url, clientConfig={"url": url, "caBundle": "bm90IGEgY2VydA=="})
    assert message.startswith(FAILED + "could not get REST client: unable to load root certificates: ")
    assert ignored


@pytest.mark.parametrize(("answer", "reason"), [
    (Raw(200, b"not json"), "failed to call webhook: couldn't get version/kind; json parse error: "),
    (Raw(200, b"[1]"), "failed to call webhook: json: cannot unmarshal array into Go value of type v1.AdmissionReview"),
    (Raw(200, b'{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"allowed":"yes"}}'),
     "failed to call webhook: json: cannot unmarshal string into Go struct field AdmissionResponse.response.allowed "
     "of type bool"),
    (Raw(500, b"boom\n"), 'failed to call webhook: an error on the server ("boom") has prevented the request from '
                          "succeeding"),
    (Raw(404, b"nope"), "failed to call webhook: the server could not find the requested resource"),
    (Raw(403, b'{"kind":"Status","apiVersion":"v1","status":"Failure","message":"who are you","code":403}',
         b"application/json"), "failed to call webhook: who are you"),
    (Raw(200, b'{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}'),
     "received invalid webhook response: webhook response was absent"),
    (Raw(200, b'{"apiVersion":"v1","kind":"Status","response":{"allowed":true}}'),
     "received invalid webhook response: expected "),
])
async def test_malformed_answers_are_failed_calls(webhooks: WebhookServer, dispatcher: Dispatcher, answer: Raw,
                                                  reason: str) -> None:
    message, ignored = await _outcomes(dispatcher, webhooks.route("/bad", lambda review: answer))
    assert message.startswith(FAILED + reason), message
    assert ignored


async def test_a_wrong_uid_is_named(webhooks: WebhookServer, dispatcher: Dispatcher) -> None:
    url = webhooks.route("/uid", lambda review: {**allow(review), "response": {"uid": "someone-else", "allowed": True}})
    message, _ = await _outcomes(dispatcher, url)
    uid = webhooks.reviews["/uid"][0]["request"]["uid"]
    assert message == FAILED + f'received invalid webhook response: expected response.uid="{uid}", got "someone-else"'


async def test_a_wrong_kind_is_named(webhooks: WebhookServer, dispatcher: Dispatcher) -> None:
    url = webhooks.route("/kind", lambda review: {**allow(review), "apiVersion": "admission.k8s.io/v1beta1"})
    message, _ = await _outcomes(dispatcher, url)
    assert message == FAILED + ("received invalid webhook response: expected webhook response of admission.k8s.io/v1, "
                                "Kind=AdmissionReview, got admission.k8s.io/v1beta1, Kind=AdmissionReview")


async def test_a_patch_from_a_validating_webhook_is_an_error(webhooks: WebhookServer, dispatcher: Dispatcher) -> None:
    url = webhooks.route("/v", lambda review: allow(review, patchType="JSONPatch", patch="W10="))
    message, ignored = await _outcomes(dispatcher, url, validating=True)
    assert message == FAILED + "received invalid webhook response: validating webhook may not return response.patch"
    assert ignored


async def test_a_validating_webhook_times_out_too(webhooks: WebhookServer, dispatcher: Dispatcher) -> None:
    async def slow(review: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(5)
        return allow(review)

    url = webhooks.route("/slow", slow)
    message, ignored = await _outcomes(dispatcher, url, validating=True, timeoutSeconds=1)
    assert message.endswith("context deadline exceeded") and ignored
