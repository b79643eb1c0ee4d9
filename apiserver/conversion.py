"""Converting custom resources between a CRD's versions: strategy None, or a ConversionReview webhook.

The checks and kube's wording live in `crd.conversion` (pure); this module calls the webhook the
way kube-apiserver's webhook client does (k8s.io/apiserver/pkg/util/webhook): one POST of a
ConversionReview, JSON, `?timeout=30s` appended and enforced, TLS verified against the CRD's
`caBundle` (the system's roots when it is empty), one pooled client per target and CA bundle.

Service references: kube dials `https://<name>.<namespace>.svc:<port><path>` through cluster DNS,
which a standalone server does not have. An injectable `resolve_service(namespace, name, port)`
gives the base URL to dial instead (`https://127.0.0.1:9443`); the TLS server name and the Host
header stay `<name>.<namespace>.svc`, so the webhook's certificate is checked as kube would.

Plain `http://` targets are called too (with a warning), for local test webhooks; note that CRD
validation, like kube's, accepts only `https://` in `clientConfig.url`.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

import crd as apiextensions  # as a name, since the CRD objects here are called `crd`
from machinery import InternalError, server_response_message

if TYPE_CHECKING:  # httpx (and the rich console its CLI brings) is imported by the first webhook call
    import httpx

    from crd import ClientConfig

log = logging.getLogger("apiserver.conversion")

Obj = dict[str, Any]
ResolveService = Callable[[str, str, int], str | None]

WEBHOOK_TIMEOUT = 30.0  # seconds: the webhook client's rest.Config.Timeout (util/webhook/authentication.go)
USER_AGENT = "kube-apiserver-admission"  # the same client config's user agent
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, */*", "User-Agent": USER_AGENT}


def no_service_resolver(namespace: str, name: str, port: int) -> str | None:
    """Without cluster DNS, no service reference resolves until the server is told where it is."""
    return None


@dataclass(frozen=True)
class _Target:
    url: str  # what is dialled
    shown: str  # what kube would have dialled: the URL in error messages
    server_name: str | None = None  # the TLS name of a service (`<name>.<namespace>.svc`)
    host: str | None = None  # its Host header


class Converter:
    """Converts custom resources to a version of their CRD, calling conversion webhooks when asked to."""

    def __init__(self, *, resolve_service: ResolveService = no_service_resolver,
                 timeout: float = WEBHOOK_TIMEOUT) -> None:
        self.resolve_service = resolve_service
        self.timeout = timeout
        self._clients: dict[tuple[str, bytes, str | None], httpx.AsyncClient] = {}
        self._warned: set[str] = set()

    async def convert(self, crd: Obj, objects: list[Obj], desired_api_version: str) -> list[Obj]:
        """The objects at `desired_api_version`, in order; those already there are passed through untouched.

        One webhook call for all the others. A failure is a 500 with kube's message.
        """
        try:
            apiextensions.check_versions(crd, objects, desired_api_version)
            pending = [i for i, obj in enumerate(objects) if obj.get("apiVersion") != desired_api_version]
            if not pending:
                return list(objects)
            todo = [objects[i] for i in pending]
            if apiextensions.strategy(crd) == "Webhook":
                converted = await self._webhook(crd, todo, desired_api_version)
            else:
                converted = [apiextensions.convert_none(obj, desired_api_version) for obj in todo]
        except apiextensions.ConversionError as err:
            raise InternalError(err.message) from None
        out = list(objects)
        for i, obj in zip(pending, converted, strict=True):
            out[i] = obj
        return out

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    async def _webhook(self, crd: Obj, objects: list[Obj], desired_api_version: str) -> list[Obj]:
        config = apiextensions.client_config(crd)
        version = apiextensions.review_version(crd)
        uid = str(uuid.uuid4())
        target = self._target(config, objects)
        body = orjson.dumps(apiextensions.review_request(objects, desired_api_version, uid, review_version=version))
        response = await self._post(config, target, body, objects)
        if not 200 <= response.status_code <= 206:  # client-go's success range
            reason = server_response_message(response.status_code, response.headers.get("content-type", ""),
                                             response.content)
            raise apiextensions.webhook_failed(objects, reason)
        if not response.content:
            raise apiextensions.webhook_failed(objects, f"0-length response with status code: {response.status_code} "
                                                        f"and content type: {response.headers.get('content-type', '')}")
        return apiextensions.parse_review_response(response.content, uid, objects, desired_api_version,
                                                   review_version=version)

    def _target(self, config: ClientConfig, objects: list[Obj]) -> _Target:
        query = f"?timeout={go_duration(self.timeout)}"
        service = config.service
        if service is None:
            url = (config.url or "") + query
            return _Target(url, url)
        host = f"{service.server_name}:{service.port}"
        shown = f"https://{host}{service.path}{query}"
        base = self.resolve_service(service.namespace, service.name, service.port)
        if not base:
            raise apiextensions.webhook_failed(objects, f'Post "{shown}": service reference is not resolvable')
        return _Target(base.rstrip("/") + service.path + query, shown, service.server_name, host)

    async def _post(self, config: ClientConfig, target: _Target, body: bytes, objects: list[Obj]) -> httpx.Response:
        import httpx

        client = self._client(target, config.ca_bundle, objects)
        headers = HEADERS if target.host is None else {**HEADERS, "Host": target.host}
        extensions = {"sni_hostname": target.server_name} if target.server_name else {}
        try:
            async with asyncio.timeout(self.timeout):
                return await client.post(target.url, content=body, headers=headers, extensions=extensions)
        except (TimeoutError, httpx.TimeoutException):
            reason = "context deadline exceeded"
        except httpx.TransportError as err:
            reason = _transport_reason(err, target)
        raise apiextensions.webhook_failed(objects, f'Post "{target.shown}": {reason}')

    def _client(self, target: _Target, ca_bundle: bytes, objects: list[Obj]) -> httpx.AsyncClient:
        import httpx

        url = httpx.URL(target.url)
        origin = f"{url.scheme}://{url.netloc.decode()}"
        key = (origin, ca_bundle, target.server_name)
        client = self._clients.get(key)
        if client is None:
            if url.scheme == "http" and origin not in self._warned:
                self._warned.add(origin)
                log.warning("conversion webhook %s is plain HTTP: the ConversionReview goes out unencrypted", origin)
            client = httpx.AsyncClient(verify=_tls_context(ca_bundle, objects), trust_env=False,
                                       timeout=httpx.Timeout(self.timeout))
            self._clients[key] = client
        return client


def _tls_context(ca_bundle: bytes, objects: list[Obj]) -> ssl.SSLContext:
    """Only the CRD's CA bundle is trusted when it has one (client-go's RootCAs), else the system's roots."""
    if not ca_bundle:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cadata=ca_bundle.decode("ascii", errors="replace"))
    except (ssl.SSLError, ValueError):
        raise apiextensions.webhook_failed(
            objects, "unable to load root certificates: unable to parse bytes as PEM block") from None


def _transport_reason(err: httpx.TransportError, target: _Target) -> str:
    """The Go error kube would print for a call that got no answer."""
    import httpx

    url = httpx.URL(target.url)
    name = target.server_name or url.host
    port = url.port or (443 if url.scheme == "https" else 80)
    for cause in _causes(err):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return "tls: failed to verify certificate: " + _x509_reason(cause, name)
        if isinstance(cause, ssl.SSLError) and "WRONG_VERSION_NUMBER" in str(cause):
            return "http: server gave HTTP response to HTTPS client"
        if isinstance(cause, ConnectionRefusedError):
            return f"dial tcp {url.host}:{port}: connect: connection refused"
        if isinstance(cause, socket.gaierror):
            return f"dial tcp: lookup {url.host}: no such host"
    return str(err) or type(err).__name__


def _x509_reason(err: ssl.SSLCertVerificationError, name: str) -> str:
    code = err.verify_code
    if code in (2, 18, 19, 20, 21):  # X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, DEPTH_ZERO_SELF_SIGNED, ...
        return "x509: certificate signed by unknown authority"
    if code == 62:  # X509_V_ERR_HOSTNAME_MISMATCH (also IP addresses)
        return f"x509: certificate is not valid for {name}"
    if code in (9, 10):  # X509_V_ERR_CERT_NOT_YET_VALID, X509_V_ERR_CERT_HAS_EXPIRED
        return "x509: certificate has expired or is not yet valid"
    return f"x509: {err.verify_message}"


def _causes(err: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def go_duration(seconds: float) -> str:
    """time.Duration.String() for the `timeout` query parameter: 30s, 1m30s, 250ms."""
    if seconds <= 0:
        return "0s"
    if seconds < 1:
        ms = seconds * 1000
        return f"{ms:g}ms" if ms >= 1 else f"{ms * 1000:g}µs"
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    text = f"{secs:.9f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{hours}h{minutes}m{text}"
    return f"{minutes}m{text}" if minutes else text
