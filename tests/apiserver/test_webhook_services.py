"""`--webhook-service NAMESPACE/NAME[:PORT]=URL`: service references of webhooks reach a URL instead of cluster DNS."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from apiserver.app import create_app
from apiserver.cli import parse_args
from apiserver.settings import Settings, parse_webhook_service
from tests.admission.helpers import SERVICE_HOST, WebhookServer, add_label, configuration, free_port, serve, webhook

REG = "/apis/admissionregistration.k8s.io/v1"
PODS = "/api/v1/namespaces/default/pods"


def pod(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "i"}]}}


@pytest.mark.parametrize(("spec", "parsed"), [
    ("default/webhook=https://127.0.0.1:9443", ("default/webhook", "https://127.0.0.1:9443")),
    ("default/webhook:443=https://127.0.0.1:9443/", ("default/webhook:443", "https://127.0.0.1:9443")),
    (" ns-1/hook:8443 = http://localhost:8080/prefix ", ("ns-1/hook:8443", "http://localhost:8080/prefix")),
])
def test_a_mapping_parses(spec: str, parsed: tuple[str, str]) -> None:
    assert parse_webhook_service(spec) == parsed


@pytest.mark.parametrize("spec", [
    "default/webhook", "webhook=https://x", "default/webhook:0=https://x", "default/webhook:70000=https://x",
    "default/Web=https://x", "default/webhook=ftp://x", "default/webhook=https://", "default/webhook=https://x/?a=b",
])
def test_a_malformed_mapping_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="invalid webhook service"):
        parse_webhook_service(spec)


def test_the_flag_repeats_and_the_environment_is_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINI_APISERVER_WEBHOOK_SERVICES", "a/b=http://127.0.0.1:1, c/d:444=https://127.0.0.1:2")
    assert Settings().webhook_services == {"a/b": "http://127.0.0.1:1", "c/d:444": "https://127.0.0.1:2"}
    assert parse_args(["serve"]).webhook_services == Settings().webhook_services
    args = parse_args(["serve", "--webhook-service", "x/y=http://127.0.0.1:3",
                       "--webhook-service", "x/z:8443=https://127.0.0.1:4"])
    assert args.webhook_services == {"x/y": "http://127.0.0.1:3", "x/z:8443": "https://127.0.0.1:4"}
    with pytest.raises(SystemExit):
        parse_args(["serve", "--webhook-service", "nonsense"])


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def tls_webhooks(ca: trustme.CA, tmp_path: Path) -> AsyncIterator[WebhookServer]:
    """HTTPS on 127.0.0.1 with a certificate naming only the service (`webhook.default.svc`), not the address."""
    cert = ca.issue_cert(SERVICE_HOST)
    key_file, cert_file = tmp_path / "key.pem", tmp_path / "cert.pem"
    cert.private_key_pem.write_to_path(str(key_file))
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    port = free_port()
    async for server in serve(WebhookServer(f"https://127.0.0.1:{port}"), port, ssl_keyfile=str(key_file),
                               ssl_certfile=str(cert_file)):
        yield server


async def _api(services: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database="sqlite://", compact_interval=0, webhook_services=services))
    server = app.state.server
    await server.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            yield client
    finally:
        await server.stop()


async def _register(api: httpx.AsyncClient, config: dict[str, Any]) -> None:
    resp = await api.post(f"{REG}/mutatingwebhookconfigurations", json=config)
    assert resp.status_code == 201, resp.text
    await asyncio.sleep(0.05)  # the projection follows the watch cache


def _service_hook(name: str, ca: trustme.CA, service: str = "webhook", port: int | None = 8443) -> dict[str, Any]:
    ref: dict[str, Any] = {"namespace": "default", "name": service, "path": "/mutate"}
    if port is not None:
        ref["port"] = port
    return webhook(name, clientConfig={"service": ref, "caBundle": base64.b64encode(ca.cert_pem.bytes()).decode()})


async def test_a_service_reference_is_called_through_the_mapping_over_verified_tls(
    tls_webhooks: WebhookServer, ca: trustme.CA
) -> None:
    tls_webhooks.route("/mutate", add_label("via", "service"))
    async for api in _api({"default/webhook:8443": tls_webhooks.url}):
        await _register(api, configuration("m", _service_hook("label.example.com", ca)))
        resp = await api.post(PODS, json=pod("web"))
        assert resp.status_code == 201, resp.text
        assert resp.json()["metadata"]["labels"] == {"via": "service"}
        assert len(tls_webhooks.reviews["/mutate"]) == 1
        assert tls_webhooks.queries == ["timeout=10s"]


async def test_an_entry_without_a_port_serves_every_port(tls_webhooks: WebhookServer, ca: trustme.CA) -> None:
    tls_webhooks.route("/mutate", add_label("via", "any-port"))
    async for api in _api({"default/webhook": tls_webhooks.url}):
        await _register(api, configuration("m", _service_hook("label.example.com", ca, port=None)))  # 443
        resp = await api.post(PODS, json=pod("web"))
        assert resp.status_code == 201, resp.text
        assert resp.json()["metadata"]["labels"] == {"via": "any-port"}


async def test_an_unmapped_service_has_no_endpoints(tls_webhooks: WebhookServer, ca: trustme.CA) -> None:
    tls_webhooks.route("/mutate", add_label("via", "service"))
    async for api in _api({"default/webhook:8443": tls_webhooks.url}):
        await _register(api, configuration("m", _service_hook("other.example.com", ca, service="other")))
        resp = await api.post(PODS, json=pod("web"))
        assert resp.status_code == 500, resp.text
        assert resp.json()["message"] == (
            'Internal error occurred: failed calling webhook "other.example.com": failed to call webhook: '
            'Post "https://other.default.svc:8443/mutate?timeout=10s": no endpoints available for service "other"')
        assert tls_webhooks.reviews["/mutate"] == []


async def test_the_certificate_is_checked_for_the_service_name(tls_webhooks: WebhookServer, ca: trustme.CA) -> None:
    """Mapping another service's name to the same address fails TLS: its certificate names webhook.default.svc."""
    tls_webhooks.route("/mutate", add_label("via", "service"))
    async for api in _api({"default/impostor:8443": tls_webhooks.url}):
        await _register(api, configuration("m", _service_hook("impostor.example.com", ca, service="impostor")))
        resp = await api.post(PODS, json=pod("web"))
        assert resp.status_code == 500, resp.text
        assert 'failed calling webhook "impostor.example.com"' in resp.json()["message"]
        assert tls_webhooks.reviews["/mutate"] == []


async def test_conversion_webhooks_resolve_through_the_same_mapping() -> None:
    app = create_app(Settings(database="sqlite://", compact_interval=0,
                              webhook_services={"default/conv:9443": "https://127.0.0.1:1234", "x/y": "http://h:1"}))
    converter = app.state.server.converter
    assert converter.resolve_service("default", "conv", 9443) == "https://127.0.0.1:1234"
    assert converter.resolve_service("default", "conv", 443) is None
    assert converter.resolve_service("x", "y", 443) == "http://h:1"
