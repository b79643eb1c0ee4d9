"""One generic handler per verb. Each turns an HTTP request into a Resources call and back.

No handler knows a kind: everything per-kind is in the ResourceType and its strategy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

import machinery
from apiserver import codec, crdcolumns, fieldvalidation, objects, tables
from apiserver.builtins import printers
from apiserver.listing import Listed, is_true, list_objects, selection, watch_params
from apiserver.messages import JoinedReply, Reply
from apiserver.objects import Obj
from apiserver.registry import ResourceType
from apiserver.requestinfo import RequestInfo
from apiserver.resources import Ctx, Resources
from apiserver.scale import apply_scale, to_scale
from apiserver.watchcache import CacheEvent
from apiserver.watching import Hangup, WatchResponse, stream
from machinery import (
    BadRequest,
    Invalid,
    MethodNotAllowed,
    NotAcceptable,
    NotFound,
    UnsupportedMediaType,
    apply_json_patch,
    apply_merge_patch,
    apply_strategic_merge_patch,
    forbidden,
    node_for,
    not_supported,
    required,
    status_success,
    too_long,
)

PATCH_TYPES = {
    "application/json-patch+json": apply_json_patch,
    "application/merge-patch+json": apply_merge_patch,
}
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"


def patcher(rt: ResourceType, content_type: str) -> Callable[[Obj, bytes], Obj]:
    """The patch function for a Content-Type; strategic merge needs the kind's schema (built-ins only)."""
    schema = node_for(rt.group, rt.version, rt.kind) if rt.schema is None else None
    if content_type == STRATEGIC and schema is not None:
        return lambda current, body: apply_strategic_merge_patch(current, body, schema)
    apply = PATCH_TYPES.get(content_type)
    if apply is None:
        offered = [*PATCH_TYPES, APPLY, *([STRATEGIC] if schema is not None else [])]
        raise UnsupportedMediaType(f"the body of the request was in an unknown format - accepted media types "
                                   f"include: {', '.join(offered)}")
    return apply


@dataclass
class Call:
    """One resource request, parsed."""

    request: Request
    info: RequestInfo
    ctx: Ctx
    query: dict[str, str]
    res: Resources
    warnings: list[str] = dataclasses.field(default_factory=list)  # sent as `Warning: 299 - "..."` headers

    _output: tables.Output | None = dataclasses.field(default=None, init=False, repr=False)

    @property
    def output(self) -> tables.Output:
        """What the client asked for: the object, a Table, or PartialObjectMetadata (JSON or YAML)."""
        if self._output is None:  # not functools.cached_property: on 3.11 it takes a lock each first read
            self._output = tables.wanted_output(self.request.headers.get("accept"))
        return self._output

    @property
    def media(self) -> str:
        return self.output.media

    async def render(self, obj: Obj, *, headers: bool = True) -> Obj:
        """An object (get, and the answers to writes) in the shape the client asked for."""
        if self.ctx.rt.crd is not None:
            obj = await self.present(obj)
        if self.output.kind == "object":
            return obj
        rt = self.ctx.rt
        return tables.render_object(obj, self.output, columns_for(rt), include=tables.include_object(self.query),
                                    headers=headers, conditions=printers.conditions_for(rt.group, rt.plural),
                                    type_name=tables.go_type(rt.group, rt.kind, custom=rt.schema is not None))

    async def answer(self, obj: Obj, status: int = 200, *, keep: bool = True) -> Response:
        """`render(obj)`, answered; the cache's own object as plain JSON is its kept encoding (WatchCache.json),
        made and kept now unless `keep` is false (a write's answer, see WatchCache.json)."""
        shown = await self.render(obj)
        if shown is not obj or self.media != codec.JSON:
            return self.respond(shown, status)
        meta = obj.get("metadata") or {}
        rt = self.ctx.rt
        data = self.res.cache(rt).json(rt.key(meta.get("namespace"), str(meta.get("name") or "")), obj, keep=keep)
        return self.warned(Reply(data, status, self.output.content_type))

    async def render_list(self, listed: Listed) -> Response:
        """A list in the shape the client asked for; as plain JSON of the cache's objects, from their kept
        encodings."""
        obj, rt = listed.obj, self.ctx.rt
        items = obj["items"]
        obj["items"] = await self.res.convert(rt, items, rt.version)
        if self.output.kind == "object":
            parts = listed.items_json() if obj["items"] is items and self.media == codec.JSON else None
            if parts is None:
                return self.respond(obj)
            head = orjson.dumps({k: v for k, v in obj.items() if k != "items"})
            return self.warned(JoinedReply(head[:-1] + b',"items":[', parts, b"]}", 200, self.output.content_type))
        return self.respond(tables.render_list(
            obj, self.output, columns_for(rt), include=tables.include_object(self.query),
            conditions=printers.conditions_for(rt.group, rt.plural),
            type_name=tables.go_type(rt.group, rt.list_kind, custom=rt.schema is not None)))

    async def present(self, obj: Obj) -> Obj:
        """The object at the requested version (CRD versions share one storage; see Resources.convert)."""
        if obj.get("apiVersion") in (self.ctx.rt.api_version, None) or obj.get("kind") == "Status":
            return obj
        return (await self.res.convert(self.ctx.rt, [obj], self.ctx.rt.version))[0]

    def respond(self, data: Any, status: int = 200) -> Response:
        return self.warned(Reply(codec.encode(data, self.media), status, self.output.content_type))

    def warned(self, response: Reply) -> Reply:
        for text in [*self.warnings, *self.ctx.warnings]:
            response.headers.append("Warning", f'299 - "{_header_safe(text)}"')
        return response

    def field_check(self, obj: Obj, raw: bytes, options_kind: str) -> None:
        """fieldValidation for a create or update body: unknown and duplicate fields (400 or warnings).

        Whatever the directive, a built-in kind then loses the fields its schema doesn't know.
        """
        mode = fieldvalidation.directive(self.query.get("fieldValidation"), options_kind=options_kind)
        rt = self.ctx.rt
        schema = fieldvalidation.schema_for(rt, self.ctx.subresource)
        if mode == "Ignore":
            fieldvalidation.drop_unknown(obj, schema)
            return
        errors = fieldvalidation.strict_errors(schema, raw, obj)
        if not errors:
            return
        kind = str(obj.get("kind") or rt.kind)
        version = str(obj.get("apiVersion") or rt.api_version).rsplit("/", 1)[-1]
        self.warnings += fieldvalidation.field_validation_outcome(mode, errors, kind=kind, version=version,
                                                                  as_kind=rt.kind)
        fieldvalidation.drop_unknown(obj, schema)  # with no errors, nothing is unknown: nothing to drop

    async def body_object(self, options_kind: str = "") -> Obj:
        body = await self.request.body()
        obj = codec.decode_object(body, self.request.headers.get("content-type"))
        if options_kind:
            self.field_check(obj, body, options_kind)
        return obj


def _header_safe(text: str) -> str:
    """A warning as a quoted header value: escaped quotes, no line breaks, ASCII only (\\uXXXX)."""
    quoted = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return quoted.encode("ascii", "backslashreplace").decode("ascii")


def columns_for(rt: ResourceType) -> list[tables.Column]:
    """A kind's table columns: kube's printers for built-ins, additionalPrinterColumns for CRDs."""
    if rt.schema is not None or rt.printer_columns:
        return crdcolumns.columns(rt.printer_columns)
    return printers.columns_for(rt.group, rt.plural)


def check_type(call: Call, obj: Obj, *, scale: bool | None = None) -> None:
    """Fill apiVersion/kind from the URL when absent; refuse a body of another kind (400)."""
    rt = call.ctx.rt
    if scale is None:
        scale = call.ctx.subresource == "scale"
    expected_kind = "Scale" if scale else rt.kind
    expected_version = "autoscaling/v1" if scale else rt.api_version
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if api_version in (None, ""):
        obj["apiVersion"] = expected_version
    elif api_version != expected_version:
        raise BadRequest(f"the API version in the data ({api_version}) does not match the expected API version "
                         f"({expected_version})")
    if kind in (None, ""):
        obj["kind"] = expected_kind
    elif kind != expected_kind:
        raise BadRequest(f"the kind in the data ({kind}) does not match the expected kind ({expected_kind})")
    if not isinstance(obj.get("metadata", {}), dict):
        raise BadRequest("metadata must be an object")


def check_name(call: Call, obj: Obj) -> None:
    name = (obj.get("metadata") or {}).get("name")
    if name and name != call.ctx.name:
        raise BadRequest(f"the name of the object ({name}) does not match the name on the URL ({call.ctx.name})")


OPTIONS_KIND = {"create": "CreateOptions", "update": "UpdateOptions", "patch": "PatchOptions",
                "delete": "DeleteOptions", "deletecollection": "DeleteOptions"}


def dry_run(call: Call, values: list[str] | None = None) -> bool:
    """`dryRun=All` or nothing; anything else is 422 on the verb's options (ValidateDryRun)."""
    if values is None:
        values = call.request.query_params.getlist("dryRun") if "dryRun" in call.query else []
    bad = [v for v in values if v != "All"]
    if bad:
        err = not_supported("dryRun", bad if len(bad) > 1 else bad[0], ["All"])
        raise Invalid.of("meta.k8s.io", OPTIONS_KIND.get(call.info.verb, "CreateOptions"), "", [err])
    return bool(values)


async def get(call: Call) -> Response:
    obj = await call.res.get(call.ctx)
    if call.ctx.subresource == "scale":
        return call.respond(to_scale(call.ctx.rt, obj))
    return await call.answer(obj)


async def list_(call: Call) -> Response:
    return await call.render_list(await list_objects(call.res, call.ctx, call.query))


async def watch(call: Call) -> Response:
    params = watch_params(call.query)
    limit = call.request.app.state.server.settings.max_watch_timeout
    params["timeout"] = min(params["timeout"], limit) if params["timeout"] is not None else None
    params["max_timeout"] = limit
    sel = selection(call.ctx.rt, call.ctx.namespace, call.query)
    if call.info.name:  # a watch on one object is a watch with a name field selector
        from machinery import parse_field_selector

        sel.fields = parse_field_selector(",".join(
            [f"metadata.name={call.info.name}", *([str(sel.fields)] if not sel.fields.empty else [])]))
    cache = call.res.cache(call.ctx.rt)
    api_version = call.ctx.rt.api_version

    first = [True]

    async def render(ev: CacheEvent) -> bytes:  # objects stored at `api_version` skip this (as_stored)
        if call.output.kind == "object":
            return orjson.dumps(await call.present(ev.obj))
        try:  # tables in a watch: column definitions only in the first event, as kube sends them
            rendered = await call.render(ev.obj, headers=first[0])
        except NotAcceptable:  # kube logs this and sends the object unchanged
            rendered = await call.present(ev.obj)
        first[0] = False
        return orjson.dumps(rendered)

    if call.output.media != codec.JSON:
        raise NotAcceptable("only the following media types are accepted: application/json;stream=watch")
    hangup = Hangup()
    as_stored = api_version if call.output.kind == "object" else None  # encoded once, shared by every watcher
    body = stream(cache, call.ctx.rt, sel, params, render, as_stored=as_stored, hangup=hangup)
    response: StreamingResponse = WatchResponse(
        body, hangup, {"Cache-Control": "no-cache, private", "X-Content-Type-Options": "nosniff"})
    return response


async def create(call: Call) -> Response:
    call.ctx.field_manager = field_manager(call)
    if call.ctx.subresource:
        raise MethodNotAllowed(f"the server does not allow this method on the requested resource "
                               f"({call.ctx.subresource})")
    fieldvalidation.directive(call.query.get("fieldValidation"), options_kind="CreateOptions")
    obj = await call.body_object("CreateOptions")
    check_type(call, obj)
    call.ctx.dry_run = dry_run(call)
    created = await call.res.create(call.ctx, obj)
    return await call.answer(created, 201, keep=False)


async def update(call: Call) -> Response:
    call.ctx.field_manager = field_manager(call)
    fieldvalidation.directive(call.query.get("fieldValidation"), options_kind="UpdateOptions")
    obj = await call.body_object("UpdateOptions")
    check_type(call, obj)
    check_name(call, obj)
    call.ctx.dry_run = dry_run(call)

    if call.ctx.subresource == "scale":
        return await _update_scale(call, lambda _scale: obj)

    def replace(_current: Obj) -> Obj:
        return objects.deep_copy(obj)

    uid = (obj.get("metadata") or {}).get("uid")  # a uid in the body is a precondition (rest.UpdatedObjectInfo)
    rv = (obj.get("metadata") or {}).get("resourceVersion")
    updated = await call.res.update(call.ctx, replace, precondition_rv=str(rv) if rv else None,
                                    precondition_uid=uid if isinstance(uid, str) else None)
    return await call.answer(updated, keep=False)


async def _update_scale(call: Call, new_scale: Callable[[Obj], Obj]) -> Response:
    """Writes to /scale go through the Scale view and back onto the object."""
    rt = call.ctx.rt

    def scaled(current: Obj) -> Obj:
        scale = new_scale(to_scale(rt, current))
        check_type(call, scale, scale=True)
        check_name(call, scale)
        return apply_scale(rt, current, scale)

    call.ctx.subresource = ""  # from here on it is an ordinary update of the main resource
    updated = await call.res.update(call.ctx, scaled)
    return call.respond(to_scale(rt, updated))


async def patch(call: Call) -> Response:
    content_type = (call.request.headers.get("content-type") or "").split(";")[0].strip().lower()
    call.ctx.field_manager = field_manager(call)
    if content_type == APPLY:
        return await server_side_apply_patch(call)
    if call.query.get("force") is not None:
        raise Invalid.of("meta.k8s.io", "PatchOptions", "",
                         [forbidden("force", "may not be specified for non-apply patch")])
    apply = patcher(call.ctx.rt, content_type)
    mode = fieldvalidation.directive(call.query.get("fieldValidation"), options_kind="PatchOptions")
    body = await call.request.body()
    codec.check_size(body)
    call.ctx.dry_run = dry_run(call)
    schema = fieldvalidation.schema_for(call.ctx.rt, call.ctx.subresource)

    def field_check(result: Obj) -> None:
        if mode != "Ignore":
            errs = fieldvalidation.patch_strict_errors(content_type, body)
            errs += fieldvalidation.patched_object_errors(schema, result)
            patched = orjson.dumps(result).decode()
            call.warnings = fieldvalidation.patch_validation_outcome(mode, errs, patched=patched)
        fieldvalidation.drop_unknown(result, schema)

    if call.ctx.subresource == "scale":
        return await _update_scale(call, lambda scale: codec.checked(apply(scale, body)))

    def patched(current: Obj) -> Obj:
        result = codec.checked(apply(current, body))
        field_check(result)
        check_type(call, result)
        check_name(call, result)
        return result

    # A patch that sets metadata.resourceVersion is a precondition, else it is retried on conflict.
    return await call.answer(await call.res.update(call.ctx, patched), keep=False)


def field_manager(call: Call) -> str:
    """The request's field manager: `fieldManager`, else derived from the User-Agent as kube does."""
    manager = call.query.get("fieldManager") or ""
    if len(manager) > 128:  # kube's ValidateFieldManager
        raise Invalid.of("meta.k8s.io", f"{OPTIONS_KIND.get(call.info.verb, 'PatchOptions')}", "",
                         [too_long("fieldManager", 128)])
    call.ctx.named_manager = bool(manager)
    return manager or machinery.default_manager(call.request.headers.get("user-agent") or "")


async def server_side_apply_patch(call: Call) -> Response:
    """PATCH with application/apply-patch+yaml: merge the applied configuration by the schema, track
    managedFields, answer conflicts with other managers 409 (unless force), create what doesn't exist."""
    ctx, rt = call.ctx, call.ctx.rt
    if not ctx.named_manager:
        raise Invalid.of("meta.k8s.io", "PatchOptions", "", [required("fieldManager", "is required for apply patch")])
    force = is_true(call.query.get("force"))
    body = await call.request.body()
    applied = codec.decode_object(body, APPLY)
    check_type(call, applied)
    check_name(call, applied)
    ctx.dry_run = dry_run(call)
    ctx.managed = True
    schema = fieldvalidation.schema_for(rt, ctx.subresource)
    node = schema.node if schema is not None else None
    resets = [("spec",)] if ctx.subresource == "status" else [("status",)] if "status" in rt.subresources else []

    def merged(current: Obj | None) -> Obj:
        return machinery.server_side_apply(current, applied, node, manager=ctx.field_manager, force=force,
                                 api_version=rt.api_version, now=objects.now(), subresource=ctx.subresource,
                                 kind=rt.kind, reset_fields=resets)

    try:
        return await call.answer(await call.res.update(ctx, merged), keep=False)
    except NotFound:
        if ctx.subresource:
            raise
    created = await call.res.create(ctx, merged(None))
    return await call.answer(created, 201, keep=False)


async def delete(call: Call) -> Response:
    options: Obj = {}
    body = await call.request.body()
    if body.strip():
        options = codec.decode_object(body, call.request.headers.get("content-type"))
    body_dry_run = options.get("dryRun")
    call.ctx.dry_run = dry_run(call) or dry_run(call, body_dry_run if isinstance(body_dry_run, list) else [])
    preconditions = options.get("preconditions") or {}
    if not isinstance(preconditions, dict):
        raise BadRequest("preconditions must be an object")
    obj, deleted = await call.res.delete(call.ctx, preconditions=preconditions)
    if not deleted:
        # kube answers 202 only when the client asked for cascading (orphanDependents=false)
        return call.respond(await call.present(obj), 202 if options.get("orphanDependents") is False else 200)
    rt = call.ctx.rt
    details = {"name": call.ctx.name, "group": rt.group, "kind": rt.plural, "uid": obj["metadata"].get("uid")}
    return call.respond(status_success({k: v for k, v in details.items() if v}))


async def delete_collection(call: Call) -> Response:
    options: Obj = {}
    body = await call.request.body()
    if body.strip():
        options = codec.decode_object(body, call.request.headers.get("content-type"))
    body_dry_run = options.get("dryRun")
    dry = dry_run(call) or dry_run(call, body_dry_run if isinstance(body_dry_run, list) else [])
    listed = (await list_objects(call.res, call.ctx, {k: v for k, v in call.query.items()
                                                      if k in ("labelSelector", "fieldSelector")})).obj
    deleted = []
    for item in listed["items"]:
        meta = item["metadata"]
        ctx = Ctx(call.ctx.rt, meta.get("namespace"), meta["name"], dry_run=dry)
        try:
            obj, _ = await call.res.delete(ctx)
        except NotFound:
            continue
        deleted.append(obj)
    listed["items"] = deleted
    return call.respond(listed)


Handler = Callable[[Call], Awaitable[Response]]
VERBS: dict[str, Handler] = {
    "get": get,
    "list": list_,
    "watch": watch,
    "create": create,
    "update": update,
    "patch": patch,
    "delete": delete,
    "deletecollection": delete_collection,
}

__all__ = ["VERBS", "Call", "is_true"]
