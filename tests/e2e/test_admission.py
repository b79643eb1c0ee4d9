"""Admission webhooks against the real server: registered by JSON, seen by kubectl and the official Python client.

The webhooks are real servers on 127.0.0.1 (uvicorn in a background thread), one over plain HTTP and one
over HTTPS with a trustme CA. The server is shared by the whole e2e session, so every configuration here
only intercepts ConfigMaps of the test's own namespace (a namespaceSelector) and is deleted afterwards.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
import uvicorn
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.admission.helpers import WebhookServer, add_label, deny, free_port
from tests.e2e.conftest import Kubectl

REG = "/apis/admissionregistration.k8s.io/v1"
PROJECTION_TIMEOUT = 10.0  # seconds for a registered configuration to take effect


class _Closing:
    """The webhook app answering with `Connection: close`: the server under test keeps no pooled connection
    open to a webhook thread that is about to stop (an idle TLS connection would outlive its event loop)."""

    def __init__(self, app: WebhookServer) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def closing(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, closing)


def _run_in_thread(app: WebhookServer, port: int, **ssl: Any) -> Iterator[WebhookServer]:
    server = uvicorn.Server(uvicorn.Config(_Closing(app), host="127.0.0.1", port=port, log_level="error", lifespan="off",
                                           timeout_graceful_shutdown=1, **ssl))
    thread = threading.Thread(target=server.run, name=f"webhook-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the webhook server did not start"
        time.sleep(0.01)
    try:
        yield app
    finally:
        server.should_exit = True
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def http_webhooks() -> Iterator[WebhookServer]:
    port = free_port()
    yield from _run_in_thread(WebhookServer(f"http://127.0.0.1:{port}"), port)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def https_webhooks(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebhookServer]:
    tmp = tmp_path_factory.mktemp("webhook-tls")
    cert = ca.issue_cert("127.0.0.1")
    key_file, cert_file = tmp / "key.pem", tmp / "cert.pem"
    cert.private_key_pem.write_to_path(str(key_file))
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    port = free_port()
    yield from _run_in_thread(WebhookServer(f"https://127.0.0.1:{port}"), port, ssl_keyfile=str(key_file),
                              ssl_certfile=str(cert_file))


def _hook(name: str, namespace: str, client_config: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "clientConfig": client_config,
        "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": [""], "apiVersions": ["v1"],
                   "resources": ["configmaps"]}],
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
        "timeoutSeconds": 5,
    }


def _configuration(kind: str, name: str, *hooks: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": {"name": name},
            "webhooks": list(hooks)}


def _configmap(name: str, namespace: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace},
            "data": {"k": "v"}}


def _wait_for(http: httpx.Client, namespace: str, took_effect: Callable[[httpx.Response], bool]) -> None:
    """Probe with server-side dry-run creates (webhooks with sideEffects None are called) until the chain changed."""
    deadline = time.monotonic() + PROJECTION_TIMEOUT
    while True:
        response = http.post(f"/api/v1/namespaces/{namespace}/configmaps", params={"dryRun": "All"},
                             json=_configmap("probe", namespace))
        if took_effect(response):
            return
        assert time.monotonic() < deadline, f"the configuration never took effect: {response.status_code} {response.text}"
        time.sleep(0.05)


@pytest.fixture
def register(kubectl: Kubectl, http: httpx.Client, tmp_path: Path) -> Iterator[Callable[[dict[str, Any]], None]]:
    """`kubectl apply -f config.json`; the configurations are deleted after the test."""
    registered: list[tuple[str, str]] = []

    def apply(config: dict[str, Any]) -> None:
        path = tmp_path / f"{config['metadata']['name']}.json"
        path.write_text(json.dumps(config))
        kubectl("apply", "-f", str(path))
        plural = config["kind"].lower() + "s"
        registered.append((plural, config["metadata"]["name"]))

    yield apply
    for plural, name in registered:
        http.delete(f"{REG}/{plural}/{name}")


def test_kubectl_sees_the_label_a_mutating_webhook_adds_over_https(
    kubectl: Kubectl, http: httpx.Client, namespace: str, https_webhooks: WebhookServer, ca: trustme.CA,
    register: Callable[[dict[str, Any]], None],
) -> None:
    url = https_webhooks.route(f"/{namespace}/mutate", add_label("admitted-by", "e2e"))
    ca_bundle = base64.b64encode(ca.cert_pem.bytes()).decode()
    register(_configuration("MutatingWebhookConfiguration", f"{namespace}-label",
                            _hook("label.e2e.example.com", namespace, {"url": url, "caBundle": ca_bundle})))
    _wait_for(http, namespace, lambda r: r.status_code == 201
              and (r.json()["metadata"].get("labels") or {}).get("admitted-by") == "e2e")

    kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(_configmap("settings", namespace)))
    got = kubectl.json("get", "configmap", "settings", "-n", namespace)
    assert got["metadata"]["labels"] == {"admitted-by": "e2e"}
    assert got["data"] == {"k": "v"}
    review = https_webhooks.reviews[f"/{namespace}/mutate"][-1]["request"]
    assert review["operation"] == "CREATE" and review["name"] == "settings" and review["namespace"] == namespace
    assert review["dryRun"] is False


def test_kubectl_apply_fails_with_the_denial_worded_as_kube_words_it(
    kubectl: Kubectl, http: httpx.Client, namespace: str, http_webhooks: WebhookServer,
    register: Callable[[dict[str, Any]], None],
) -> None:
    message = "configmaps are frozen in this namespace"
    url = http_webhooks.route(f"/{namespace}/deny", lambda review: deny(review, message=message, code=403))
    register(_configuration("ValidatingWebhookConfiguration", f"{namespace}-deny",
                            _hook("deny.e2e.example.com", namespace, {"url": url})))
    _wait_for(http, namespace, lambda r: r.status_code == 403)

    result = kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(_configmap("settings", namespace)),
                     check=False)
    assert result.returncode != 0
    assert 'admission webhook "deny.e2e.example.com" denied the request: ' + message in result.stderr
    assert kubectl("get", "configmap", "settings", "-n", namespace, check=False).returncode != 0


def test_the_python_client_gets_the_webhooks_code_and_message(
    k8s: client.ApiClient, http: httpx.Client, namespace: str, https_webhooks: WebhookServer, ca: trustme.CA,
    register: Callable[[dict[str, Any]], None],
) -> None:
    message = "no configmaps named forbidden"

    def check(review: dict[str, Any]) -> dict[str, Any]:
        if review["request"]["name"] == "forbidden":
            return deny(review, message=message, code=422, reason="Invalid")
        return deny(review, message="unreachable") if "admitted-by" not in (
            review["request"]["object"]["metadata"].get("labels") or {}) else {
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "response": {"uid": review["request"]["uid"], "allowed": True}}

    ca_bundle = base64.b64encode(ca.cert_pem.bytes()).decode()
    mutate = https_webhooks.route(f"/{namespace}/label", add_label("admitted-by", "python"))
    validate = https_webhooks.route(f"/{namespace}/check", check)
    register(_configuration("MutatingWebhookConfiguration", f"{namespace}-label",
                            _hook("label.e2e.example.com", namespace, {"url": mutate, "caBundle": ca_bundle})))
    register(_configuration("ValidatingWebhookConfiguration", f"{namespace}-check",
                            _hook("check.e2e.example.com", namespace, {"url": validate, "caBundle": ca_bundle})))
    _wait_for(http, namespace, lambda r: r.status_code == 201
              and (r.json()["metadata"].get("labels") or {}).get("admitted-by") == "python"
              and len(https_webhooks.reviews[f"/{namespace}/check"]) > 0)

    core = client.CoreV1Api(k8s)
    created = core.create_namespaced_config_map(namespace, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="allowed"), data={"k": "v"}))
    assert created.metadata.labels == {"admitted-by": "python"}, "the validating webhook saw the mutated object"

    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map(namespace, client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="forbidden"), data={"k": "v"}))
    assert caught.value.status == 422
    body = json.loads(caught.value.body)
    assert body["kind"] == "Status" and body["status"] == "Failure" and body["code"] == 422
    assert body["reason"] == "Invalid"
    assert body["message"] == f'admission webhook "check.e2e.example.com" denied the request: {message}'
