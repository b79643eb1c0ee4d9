"""The HTTP application: fixed routes only. Resources are looked up per request, never routed.

A plain Starlette app (FastAPI's own core): we use none of FastAPI's request validation or
OpenAPI generation, and its import alone would cost most of the cold-start budget.
Every error leaves as a `metav1.Status`.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import platform
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import Receive, Scope, Send

from apiserver import codec, discovery, openapi
from apiserver.deadlines import Deadlines
from apiserver.handlers import VERBS, Call
from apiserver.messages import ApiRequest, Reply
from apiserver.requestinfo import RequestInfo, RequestInfoError, parse
from apiserver.resources import Ctx
from apiserver.server import Server
from apiserver.settings import Settings
from machinery import ApiError, InternalError, MethodNotAllowed, NotAcceptable, NotFound, Timeout

log = logging.getLogger("apiserver")

VERSION = {
    "major": "1",
    "minor": "35",
    "gitVersion": "v1.35.0",
    "gitCommit": "mini-apiserver",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": f"python{platform.python_version()}",
    "compiler": "cpython",
    "platform": f"{platform.system().lower()}/{platform.machine()}",
}


def status_response(err: ApiError, media: str = codec.JSON) -> Response:
    return Reply(codec.encode(err.status(), media if media else codec.JSON), err.code, media or codec.JSON)


API_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _is_api_path(path: str) -> bool:
    return path in ("/api", "/apis") or path.startswith(("/api/", "/apis/"))


class App(Starlette):
    """Starlette for the fixed routes; the resource paths (/api, /apis), which are most of the
    traffic, go straight to their one endpoint, past the router and the middleware stack (the
    endpoint turns every error into a Status itself)."""

    api: Callable[[Request], Awaitable[Response]]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in API_METHODS and _is_api_path(scope["path"]):
            scope["app"] = self
            response = await self.api(ApiRequest(scope, receive))
            await response(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, server: Server | None = None) -> App:
    settings = settings or Settings()
    srv = server or Server(settings)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await srv.start()
        try:
            yield
        finally:
            await srv.stop()

    app = App(lifespan=lifespan)
    deadlines = Deadlines(settings.request_timeout)
    app.router.redirect_slashes = False  # kube never redirects; an unknown path is a 404 Status
    app.state.server = srv

    async def api_error(_request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            err: ApiError = (NotFound("the server could not find the requested resource") if exc.status_code == 404
                             else MethodNotAllowed("the server does not allow this method on the requested resource")
                             if exc.status_code == 405 else InternalError(str(exc.detail)))
            return status_response(err)
        log.exception("unhandled error")
        return status_response(InternalError.wrap(exc))

    app.add_exception_handler(HTTPException, api_error)
    app.add_exception_handler(Exception, api_error)

    def guarded(fn: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                return await fn(request)
            except ApiError as err:
                return status_response(err, _error_media(request))
            except Exception as err:  # the contract: a Status, never a traceback
                log.exception("internal error serving %s %s", request.method, request.url.path)
                return status_response(InternalError.wrap(err))

        return endpoint

    async def health(_request: Request) -> Response:
        return Response(b"ok", media_type="text/plain")

    async def readyz(_request: Request) -> Response:
        if not srv.ready.is_set():
            return Response(b"not ready", status_code=503, media_type="text/plain")
        return Response(b"ok", media_type="text/plain")

    async def version(_request: Request) -> Response:
        return Response(codec.encode(VERSION), media_type=codec.JSON)

    async def api(request: Request) -> Response:
        query = dict(request.query_params.items()) if request.scope["query_string"] else {}
        info = _parse(request, query)
        if not info.is_resource_request:
            return _discovery(request, srv, info)
        if info.verb == "watch":  # long-running: bounded by its own timeout instead
            return await _dispatch(request, srv, info, query)
        task = asyncio.current_task()
        assert task is not None
        deadlines.enter(task)
        try:
            return await _dispatch(request, srv, info, query)
        except asyncio.CancelledError:
            if deadlines.leave(task):
                raise Timeout("Timeout: request did not complete within requested timeout - context deadline "
                              "exceeded", retry_after=0) from None
            raise
        finally:
            deadlines.leave(task)

    async def openapi_v3_index(request: Request) -> Response:
        return _served(request, srv.openapi.index())

    async def openapi_v3(request: Request) -> Response:
        path = request.path_params["path"]
        parsed = openapi.parse_group_version_path(path)
        doc = srv.openapi.v3(*parsed) if parsed else None
        if doc is None:
            raise NotFound("the server could not find the requested resource")
        if not _accepts_json(request):
            raise NotAcceptable("only application/json is served for OpenAPI v3 documents")
        wanted = request.query_params.get("hash")
        if wanted and wanted != doc.etag:  # an old hash: send the client to the current document
            return RedirectResponse(openapi.server_relative_url(path, doc.etag), status_code=301)
        extra = {"Cache-Control": "public, immutable", "Expires": _a_year_ahead()} if wanted else {}
        return _served(request, doc, {"Vary": "Accept", **extra})

    async def openapi_v2(request: Request) -> Response:
        if not _accepts_json(request):  # kubectl asks for protobuf only; that we don't speak
            raise NotAcceptable("only application/json is served for the OpenAPI v2 document")
        return _served(request, srv.openapi.v2())

    for path in ("/healthz", "/livez"):
        app.add_route(path, health, methods=["GET", "HEAD"])
    app.add_route("/readyz", readyz, methods=["GET", "HEAD"])
    app.add_route("/version", version, methods=["GET"])
    app.add_route("/openapi/v2", guarded(openapi_v2), methods=["GET"])
    app.add_route("/openapi/v3", guarded(openapi_v3_index), methods=["GET"])
    app.add_route("/openapi/v3/{path:path}", guarded(openapi_v3), methods=["GET"])
    methods = list(API_METHODS)
    app.api = guarded(api)
    for prefix in ("/api", "/apis"):  # for the router's view only (App.__call__ serves them)
        app.add_route(prefix, app.api, methods=methods)
        app.add_route(prefix + "/{rest:path}", app.api, methods=methods)
    return app


def _accepts_json(request: Request) -> bool:
    accept = request.headers.get("accept") or "*/*"
    return any(m.split(";")[0].strip() in ("application/json", "*/*", "application/*") for m in accept.split(","))


def _served(request: Request, doc: openapi.Served, headers: dict[str, str] | None = None) -> Response:
    """An OpenAPI document with its ETag; 304 when the client already has it."""
    etag = f'"{doc.etag}"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(doc.body, media_type=codec.JSON, headers={"ETag": etag, **(headers or {})})


def _a_year_ahead() -> str:
    return email.utils.formatdate(time.time() + 365 * 24 * 3600, usegmt=True)


def _error_media(request: Request) -> str:
    try:
        return codec.negotiate(request.headers.get("accept"))
    except ApiError:
        return codec.JSON


def _parse(request: Request, query: dict[str, str]) -> RequestInfo:
    try:
        return parse(request.method, request.scope["path"], query)
    except RequestInfoError as err:
        raise NotFound(f"the server could not find the requested resource: {err}") from None


def _discovery(request: Request, srv: Server, info: RequestInfo) -> Response:
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed("the server does not allow this method on the requested resource")
    parts = [p for p in info.path.split("/") if p]
    registry = srv.registry
    aggregated = discovery.wants_aggregated(request.headers.get("accept"))
    body: dict[str, object] | None = None
    if parts == ["api"]:
        if aggregated:
            return _respond(discovery.aggregated(registry, core=True), aggregated)
        body = discovery.api_versions(f"{request.url.hostname}:{request.url.port or 80}")
    elif parts == ["apis"]:
        if aggregated:
            return _respond(discovery.aggregated(registry, core=False), aggregated)
        body = discovery.api_group_list(registry)
    elif len(parts) == 2 and parts[0] == "api":
        body = discovery.api_resource_list(registry, "", parts[1])
    elif len(parts) == 2 and parts[0] == "apis":
        body = discovery.api_group(registry, parts[1])
    elif len(parts) == 3 and parts[0] == "apis":
        body = discovery.api_resource_list(registry, parts[1], parts[2])
    if body is None:
        raise NotFound("the server could not find the requested resource")
    return _respond(body, codec.negotiate(request.headers.get("accept")))


def _respond(body: object, media: str) -> Response:
    encoded = codec.encode(body, codec.YAML if media == codec.YAML else codec.JSON)
    return Response(encoded, media_type=media)


async def _dispatch(request: Request, srv: Server, info: RequestInfo, query: dict[str, str]) -> Response:
    rt = srv.registry.lookup(info.api_group, info.api_version, info.resource)
    if rt is None:
        raise NotFound("the server could not find the requested resource")
    verb = info.verb
    if info.subresource and info.subresource not in rt.subresources:
        raise NotFound("the server could not find the requested resource")
    if verb in ("get", "list", "watch") and request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(f"the server does not allow this method on the requested resource ({verb})")
    if info.subresource and verb in ("delete", "create", "deletecollection"):
        raise MethodNotAllowed("the server does not allow this method on the requested resource")
    if verb not in rt.verbs or verb not in VERBS:
        raise MethodNotAllowed(f"the server does not allow this method on the requested resource ({verb})")
    if (verb == "create" and info.name) or (verb in ("update", "patch") and not info.name):
        raise MethodNotAllowed(f"the server does not allow this method on the requested resource ({verb})")
    if rt.namespaced and not info.namespace and verb not in ("list", "watch"):
        raise NotFound("the server could not find the requested resource")
    namespace = info.namespace if rt.namespaced else None
    if not rt.namespaced and info.namespace and info.resource != "namespaces":
        raise NotFound("the server could not find the requested resource")
    ctx = Ctx(rt, namespace or None, info.name, info.subresource)
    return await VERBS[verb](Call(request, info, ctx, query, srv.resources))
