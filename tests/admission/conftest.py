"""Fixtures: real webhook servers on 127.0.0.1, plain HTTP or HTTPS with a trustme CA, and a dispatcher."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme

from admission import Dispatcher
from tests.admission.helpers import SERVICE_HOST, WebhookServer, free_port, serve


@pytest.fixture
async def webhooks() -> AsyncIterator[WebhookServer]:
    """A plain-HTTP webhook server."""
    port = free_port()
    async for server in serve(WebhookServer(f"http://127.0.0.1:{port}"), port):
        yield server


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_bundle(ca: trustme.CA) -> str:
    """The test CA as a clientConfig.caBundle (base64 of the PEM)."""
    return base64.b64encode(ca.cert_pem.bytes()).decode()


@pytest.fixture
async def tls_webhooks(ca: trustme.CA, tmp_path: Path) -> AsyncIterator[WebhookServer]:
    """An HTTPS webhook server with a certificate from the test CA for 127.0.0.1 and the service's name."""
    cert = ca.issue_cert("127.0.0.1", SERVICE_HOST)
    key_file, cert_file = tmp_path / "key.pem", tmp_path / "cert.pem"
    cert.private_key_pem.write_to_path(str(key_file))
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    port = free_port()
    async for server in serve(WebhookServer(f"https://127.0.0.1:{port}"), port, ssl_keyfile=str(key_file),
                               ssl_certfile=str(cert_file)):
        yield server


@pytest.fixture
async def dispatcher() -> AsyncIterator[Dispatcher]:
    d = Dispatcher()
    try:
        yield d
    finally:
        await d.aclose()
