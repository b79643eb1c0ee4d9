"""Posting an AdmissionReview to a webhook (kube's pkg/util/webhook ClientManager and rest client).

- `clientConfig.url` as given, or a service reference through `resolve_service(namespace, name, port, path)`
  (kube's ServiceResolver; without one, `https://<name>.<namespace>.svc:<port><path>` as kube dials it). TLS
  for a service is verified against the name `<name>.<namespace>.svc`, wherever the resolver points.
- HTTPS verified against `caBundle` (the system roots when empty); one pooled keep-alive client per CA.
  Plain `http://` works too, with a warning in the log (kube-apiserver refuses it).
- `?timeout=<N>s` appended, and the whole call (connect, send, answer) bounded by `timeoutSeconds`.
- Failures are worded as Go's net/http and client-go word them, since users search for those messages:
  `Post "<url>": dial tcp <addr>: connect: connection refused`, `... context deadline exceeded`, `... EOF`,
  `tls: failed to verify certificate: x509: certificate signed by unknown authority`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

from admission.configuration import DEFAULT_SERVICE_PORT
from admission.errors import CallingError
from admission.hooks import Webhook
from admission.review import UndecodableResponse, decode_response
from machinery import server_response_message

if TYPE_CHECKING:  # httpx (and the rich console its CLI brings) is imported by the first webhook call
    import httpx

log = logging.getLogger(__name__)

ResolveService = Callable[[str, str, int, str], str | None]  # (namespace, name, port, path) -> URL

# x509 verification failures that Go reports as an unknown authority (OpenSSL X509_V_ERR_* codes):
# 18 self-signed leaf, 19 self-signed in chain, 20 unable to get local issuer, 21 unable to verify leaf.
_UNKNOWN_AUTHORITY = frozenset({18, 19, 20, 21})
_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, */*",
            "User-Agent": "kube-apiserver-admission"}  # as kube-apiserver's webhook client sends them


class Transport:
    """HTTP clients for webhooks, pooled per CA bundle, and the one place a call can fail."""

    def __init__(self, client: httpx.AsyncClient | None, resolve_service: ResolveService | None) -> None:
        self._client = client  # the caller's, for calls without a caBundle; never closed here
        self._resolve_service = resolve_service
        self._clients: dict[str, httpx.AsyncClient] = {}  # caBundle (+ service name) -> our own pooled client
        self._warned: set[str] = set()

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    def _client_for(self, hook: Webhook, server_name: str | None) -> httpx.AsyncClient:
        """The pooled client for this CA; services get their own, since pools key connections by address
        while TLS verified them for one service name."""
        ca_bundle = str(hook.client_config.get("caBundle") or "")
        if not ca_bundle and server_name is None and self._client is not None:
            return self._client
        key = f"{ca_bundle}\n{server_name or ''}"
        client = self._clients.get(key)
        if client is None:
            import httpx

            try:
                verify = _ssl_context(ca_bundle)
            except (ssl.SSLError, binascii.Error, ValueError) as err:
                raise CallingError(hook.name, f"could not get REST client: unable to load root certificates: "
                                              f"{err}") from None
            # trust_env off: a proxy from the environment would not reach webhooks on loopback
            client = httpx.AsyncClient(verify=verify, trust_env=False, timeout=None)
            self._clients[key] = client
        return client

    def _target(self, hook: Webhook) -> tuple[str, str, str | None]:
        """(URL to post to, URL as kube shows it in errors, TLS server name) or CallingError."""
        query = f"timeout={hook.timeout}s"  # client-go's Timeout(d) parameter, d a whole number of seconds
        url = hook.client_config.get("url")
        if isinstance(url, str):
            if url.lower().startswith("http://") and url not in self._warned:
                self._warned.add(url)
                log.warning("webhook %r is called over plain http (not encrypted or verified): %s", hook.name, url)
            return f"{url}?{query}", f"{url}?{query}", None
        service = hook.client_config.get("service") or {}
        namespace, name = str(service.get("namespace") or ""), str(service.get("name") or "")
        port = service.get("port") or DEFAULT_SERVICE_PORT
        path = str(service.get("path") or "")
        server_name = f"{name}.{namespace}.svc"
        shown = f"https://{server_name}:{port}{path}?{query}"
        if self._resolve_service is None:
            return shown, shown, server_name
        resolved = self._resolve_service(namespace, name, port, path)
        if resolved is None:
            raise CallingError(hook.name, f'failed to call webhook: Post "{shown}": '
                                          f'no endpoints available for service "{name}"')
        return f"{resolved}{'&' if '?' in resolved else '?'}{query}", shown, server_name

    async def post(self, hook: Webhook, body: dict[str, Any]) -> dict[str, Any]:
        """POST the review; the decoded answer, or CallingError."""
        import httpx

        target, shown, server_name = self._target(hook)
        client = self._client_for(hook, server_name)
        extensions = {"sni_hostname": server_name} if server_name and target.startswith("https") else None
        try:
            async with asyncio.timeout(hook.timeout):
                response = await client.post(target, content=orjson.dumps(body), extensions=extensions,
                                             headers=_HEADERS)
        except TimeoutError:
            raise CallingError(hook.name, f'failed to call webhook: Post "{shown}": '
                                          "context deadline exceeded") from None
        except (httpx.HTTPError, httpx.InvalidURL) as err:
            raise CallingError(hook.name, f'failed to call webhook: Post "{shown}": '
                                          f'{_transport_reason(err, target)}') from None
        if not 200 <= response.status_code <= 206:  # client-go's success range
            message = server_response_message(response.status_code, response.headers.get("content-type", ""),
                                              response.content)
            raise CallingError(hook.name, f"failed to call webhook: {message}")
        try:
            return decode_response(orjson.loads(response.content))
        except orjson.JSONDecodeError as err:
            raise CallingError(hook.name, f"failed to call webhook: couldn't get version/kind; json parse error: "
                                          f"{err}") from None
        except UndecodableResponse as err:
            raise CallingError(hook.name, f"failed to call webhook: {err}") from None


def _ssl_context(ca_bundle: str) -> ssl.SSLContext:
    """The system roots, or only the PEM certificates of the base64 caBundle."""
    if not ca_bundle:
        return ssl.create_default_context()
    return ssl.create_default_context(cadata=base64.b64decode(ca_bundle, validate=True).decode("ascii", "replace"))


def _causes(err: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = err
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _transport_reason(err: Exception, target: str) -> str:
    """Go's words for what went wrong on the wire."""
    import httpx

    chain = _causes(err)
    for cause in chain:
        if isinstance(cause, ssl.SSLCertVerificationError):
            what = ("certificate signed by unknown authority" if cause.verify_code in _UNKNOWN_AUTHORITY
                    else cause.verify_message)
            return f"tls: failed to verify certificate: x509: {what}"
        if isinstance(cause, ConnectionRefusedError) or "Connection refused" in str(cause):
            parts = urlsplit(target)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            return f"dial tcp {parts.hostname}:{port}: connect: connection refused"
        if isinstance(cause, ssl.SSLError):
            return f"tls: {cause.reason or cause}"
    if isinstance(err, httpx.RemoteProtocolError | httpx.ReadError):
        return "EOF"  # the server closed the connection before answering
    return str(err) or type(err).__name__


