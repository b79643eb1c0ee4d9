"""OpenAPI documents for the served kinds, as pure functions of the registry, and a cache over them.

kubectl 1.35 cannot create or apply with its default `--validate=strict` without them: it reads the
`/openapi/v3` index (`client-go/openapi/client.go`), fetches the group-version's JSON document and looks
for a PATCH operation whose `x-kubernetes-group-version-kind` is the object's kind and which takes a
`fieldValidation` parameter (`cli-runtime/pkg/resource/query_param_verifier_v3.go`); `kubectl explain`
walks the same documents. So every document carries, for each resource, kube's operations
(`apiserver/pkg/endpoints/installer.go`: list, create, deletecollection, read, replace, patch, delete and
the subresources) and the schemas of its kinds with everything they reference.

Built-in schemas come from the Kubernetes 1.35 definitions (`machinery.schemas`), rewritten into kube's
shapes: single `type`s instead of `[T, "null"]`, no `enum` on apiVersion/kind, `$ref` with siblings
wrapped in `allOf` (v3), IntOrString and Quantity as kube publishes them. A CRD's kind brings its own
schema, completed as apiextensions-apiserver's builder does (`controller/openapi/builder/builder.go`):
apiVersion, kind and metadata added, a List kind made up, names in reversed-group form
(`com.example.stable.v1.CronTab`).

The v3 index names each document with `?hash=<sha512 of its bytes>` (kube-openapi `handler3`), so a
client may cache a document for good; the `OpenAPI` class builds documents lazily, keeps their bytes and
hashes, and rebuilds only group-versions whose resource types changed.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from apiserver.discovery import _subresource, _subresource_kind
from apiserver.registry import Registry, ResourceType
from machinery.schemas import KUBERNETES_VERSION, definition_for, definitions

Obj = dict[str, Any]

CONTENT_TYPE = "application/json"
_TITLE = "Kubernetes"
_INFO_VERSION = f"v{KUBERNETES_VERSION}.0"

_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
OBJECT_META = _META + "ObjectMeta"
LIST_META = _META + "ListMeta"
STATUS = _META + "Status"
DELETE_OPTIONS = _META + "DeleteOptions"
PATCH = _META + "Patch"
WATCH_EVENT = _META + "WatchEvent"
API_RESOURCE_LIST = _META + "APIResourceList"
_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"

# The patch types kube's PATCH routes consume (installer.go; apply-patch+cbor only with the CBOR gate).
PATCH_TYPES = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)

_OBJECT_META_DOC = (
    "Standard object's metadata. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
_LIST_META_DOC = (
    "Standard list metadata. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"
)


@dataclass(frozen=True)
class _Flavor:
    """OpenAPI v3 (components.schemas, allOf-wrapped refs, requestBody) or Swagger 2.0 (definitions)."""

    v3: bool

    @property
    def prefix(self) -> str:
        return "#/components/schemas/" if self.v3 else "#/definitions/"

    def ref(self, name: str) -> Obj:
        return {"$ref": self.prefix + name}


V2 = _Flavor(v3=False)
V3 = _Flavor(v3=True)


# --- schemas ----------------------------------------------------------------------------------

_ONE_SCHEMA = ("items", "additionalProperties", "not")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")


def _convert(schema: Any, flavor: _Flavor) -> Any:
    """A definition (or CRD schema) in the flavor's form: refs re-pointed, `[T, "null"]` types made single."""
    if not isinstance(schema, dict):
        return schema
    out: Obj = {}
    for key, value in schema.items():
        if key == "$ref":
            out[key] = flavor.prefix + str(value).rsplit("/", 1)[-1]
        elif key == "type":
            out[key] = _single_type(value)
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: _convert(sub, flavor) for name, sub in value.items()}
        elif key in _ONE_SCHEMA:
            out[key] = _convert(value, flavor)
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [_convert(sub, flavor) for sub in value]
        else:
            out[key] = value
    if flavor.v3 and "$ref" in out and len(out) > 1:  # v3 forbids siblings of $ref: kube wraps it in allOf
        out = {"allOf": [{"$ref": out.pop("$ref")}], **out}
    return out


def _single_type(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    types = [t for t in value if t != "null"]
    return types[0] if len(types) == 1 else types


# IntOrString and Quantity as kube-openapi publishes them: v3 a oneOf, v2 a string (apimachinery's
# OpenAPISchemaType/OpenAPIV3OneOfTypes); the packaged definitions carry a JSON-Schema-only variant.
_SCALARS: dict[str, dict[bool, Obj]] = {
    _INT_OR_STRING: {
        True: {"format": "int-or-string", "oneOf": [{"type": "integer"}, {"type": "string"}]},
        False: {"format": "int-or-string", "type": "string"},
    },
    _QUANTITY: {
        True: {"oneOf": [{"type": "string"}, {"type": "number"}]},
        False: {"type": "string"},
    },
}


@functools.cache
def builtin_schema(name: str, flavor: _Flavor) -> Obj:
    """A built-in definition in the flavor's form (shared and cached: never mutate it)."""
    raw = definitions()[name]
    if name in _SCALARS:
        description = {"description": raw["description"]} if "description" in raw else {}
        return description | _SCALARS[name][flavor.v3]
    schema: Obj = _convert(raw, flavor)
    properties = schema.get("properties")
    if schema.get("x-kubernetes-group-version-kind") and properties:
        # The package pins apiVersion/kind with an enum; kube's documents don't (and one document
        # may describe a kind served in several versions).
        for field in ("apiVersion", "kind"):
            if isinstance(properties.get(field), dict):
                properties[field] = {k: v for k, v in properties[field].items() if k != "enum"}
    return schema


@functools.cache
def _direct_refs(name: str) -> frozenset[str]:
    return frozenset(_refs_in(definitions()[name]))


def _refs_in(schema: Any) -> Iterable[str]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str):
                yield value.rsplit("/", 1)[-1]
            elif key == "properties" and isinstance(value, dict):
                for sub in value.values():
                    yield from _refs_in(sub)
            elif key in _ONE_SCHEMA or key in _SCHEMA_LISTS:
                yield from _refs_in(value)
    elif isinstance(schema, list):
        for sub in schema:
            yield from _refs_in(sub)


def _closure(names: Iterable[str]) -> list[str]:
    """The built-in definitions named and everything they reference, sorted."""
    known = definitions()
    seen: set[str] = set()
    todo = [n for n in names if n in known]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(ref for ref in _direct_refs(name) if ref in known and ref not in seen)
    return sorted(seen)


def model_name(group: str, version: str, kind: str) -> str:
    """A CRD kind's definition name: its group reversed (apiextensions' `gvkToModelName`)."""
    return ".".join([*reversed(group.split(".")), version, kind])


def _type_meta(field: str) -> Obj:
    """apiVersion/kind as every built-in kind declares them (their descriptions are shared)."""
    namespace = definitions()[definition_for("", "v1", "Namespace") or ""]
    return {"description": namespace["properties"][field]["description"], "type": "string"}


def _meta_ref(name: str, description: str, flavor: _Flavor) -> Obj:
    return _convert({"$ref": "#/$defs/" + name, "description": description}, flavor)


def _crd_schema(schema: Any, flavor: _Flavor) -> Any:
    """A CRD schema node as kube publishes it (a copy): int-or-string unfolded, embedded resources completed,
    and for Swagger 2.0 what it cannot say taken out (apiextensions `controller/openapi/v2/conversion.go`).
    """
    if not isinstance(schema, dict):
        return schema
    out: Obj = dict(schema)
    if isinstance(schema.get("properties"), dict):
        out["properties"] = {name: _crd_schema(sub, flavor) for name, sub in schema["properties"].items()}
    for key in _ONE_SCHEMA:
        if key in schema:
            out[key] = _crd_schema(schema[key], flavor)
    for key in _SCHEMA_LISTS:
        if isinstance(schema.get(key), list):
            out[key] = [_crd_schema(sub, flavor) for sub in schema[key]]
    if schema.get("x-kubernetes-int-or-string"):
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if not flavor.v3:
        _to_swagger_2(out, schema)
    preserved = schema.get("x-kubernetes-preserve-unknown-fields")
    if schema.get("x-kubernetes-embedded-resource") and (flavor.v3 or not preserved):
        out["properties"] = {
            **out.get("properties", {}),
            "apiVersion": _type_meta("apiVersion"),
            "kind": _type_meta("kind"),
            "metadata": _meta_ref(OBJECT_META, _OBJECT_META_DOC, flavor),
        }
        required = list(out.get("required", ()))
        out["required"] = required + [f for f in ("kind", "apiVersion") if f not in required]
    return out


def _to_swagger_2(out: Obj, original: Obj) -> None:
    """Swagger 2.0 has no junctors nor nullable, and kubectl's v2 models choke on some shapes (kube's rules).

    `out` has its children converted already, so what they were comes from `original`.
    """
    for key in ("allOf", "oneOf", "anyOf", "not"):
        out.pop(key, None)
    if out.pop("nullable", False):
        for key in ("type", "items", "properties"):
            out.pop(key, None)
    if out.get("x-kubernetes-preserve-unknown-fields"):
        out.pop("items", None)
        out.pop("properties", None)
        if out.get("type") == "object":
            del out["type"]
    if out.get("type") == "array" and "items" not in out:
        del out["type"]
    nullable = {name for name, sub in (original.get("properties") or {}).items() if isinstance(sub, dict)
                and sub.get("nullable")}
    extra = original.get("additionalProperties")
    if "required" in out and (nullable or (isinstance(extra, dict) and extra.get("nullable"))):
        out["required"] = [] if isinstance(extra, dict) and extra.get("nullable") else [
            f for f in out["required"] if f not in nullable]
        if not out["required"]:
            del out["required"]


def _gvk_extension(group: str, version: str, kind: str) -> list[Obj]:
    return [{"group": group, "kind": kind, "version": version}]


def _custom_schemas(rt: ResourceType, flavor: _Flavor) -> dict[str, Obj]:
    """The kind and its List for a resource with its own schema (or none and no definition either)."""
    schema = rt.schema or {}
    if not flavor.v3 and schema.get("x-kubernetes-preserve-unknown-fields"):
        kind: Obj = {"type": "object"}  # kube's v2: nothing more, or kubectl's v2 validation rejects fields
    elif rt.schema is None:
        kind = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    else:
        kind = _crd_schema(schema, flavor)
        kind["properties"] = {
            **kind.get("properties", {}),
            "apiVersion": _type_meta("apiVersion"),
            "kind": _type_meta("kind"),
            "metadata": _meta_ref(OBJECT_META, _OBJECT_META_DOC, flavor),
        }
        kind.setdefault("type", "object")
    name = model_name(rt.group, rt.version, rt.kind)
    kind["x-kubernetes-group-version-kind"] = _gvk_extension(rt.group, rt.version, rt.kind)
    item_ref = _convert({"$ref": "#/$defs/" + name}, flavor)
    items_doc = (
        f"List of {rt.plural}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md"
    )
    listing: Obj = {
        "description": f"{rt.list_kind} is a list of {rt.kind}",
        "properties": {
            "apiVersion": _type_meta("apiVersion"),
            "items": {"description": items_doc, "items": item_ref, "type": "array"},
            "kind": _type_meta("kind"),
            "metadata": _meta_ref(LIST_META, _LIST_META_DOC, flavor),
        },
        "required": ["items"],
        "type": "object",
        "x-kubernetes-group-version-kind": _gvk_extension(rt.group, rt.version, rt.list_kind),
    }
    return {name: kind, model_name(rt.group, rt.version, rt.list_kind): listing}


def _names(rt: ResourceType) -> tuple[str, str | None]:
    """The definitions a resource's kind and list kind are published under (kube's, or the model names)."""
    if rt.schema is None and (name := definition_for(rt.group, rt.version, rt.kind)):
        return name, definition_for(rt.group, rt.version, rt.list_kind)
    return model_name(rt.group, rt.version, rt.kind), model_name(rt.group, rt.version, rt.list_kind)


def _schemas(types: list[ResourceType], extra: Iterable[str], flavor: _Flavor) -> dict[str, Obj]:
    custom: dict[str, Obj] = {}
    wanted = set(extra)
    for rt in types:
        name, list_name = _names(rt)
        if name == model_name(rt.group, rt.version, rt.kind):
            custom |= _custom_schemas(rt, flavor)
        else:
            wanted.update(n for n in (name, list_name) if n)
    for schema in custom.values():
        wanted.update(_refs_in(schema))
    schemas = {name: builtin_schema(name, flavor) for name in _closure(wanted)}
    return schemas | custom


# --- operations -------------------------------------------------------------------------------

# Query parameters, with kube's wording shortened (apimachinery `types_swagger_doc_generated.go`).
_DRY_RUN = (
    "dryRun",
    "string",
    "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun "
    "directive will result in an error response and no further processing of the request. Valid values are: "
    "- All: all dry run stages will be processed",
)
_FIELD_MANAGER = (
    "fieldManager",
    "string",
    "fieldManager is a name associated with the actor or entity that is making these changes. The value must be "
    "less than or 128 characters long, and only contain printable characters. It is required for apply requests "
    "(application/apply-patch) but optional for other requests.",
)
_FIELD_VALIDATION = (
    "fieldValidation",
    "string",
    "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing "
    "unknown or duplicate fields. Valid values are: - Ignore: unknown fields are silently dropped and all but the "
    "last duplicate field are ignored. - Warn: a warning is sent for each unknown or duplicate field, and the "
    "request succeeds (the default). - Strict: the request fails with a BadRequest error if any unknown or "
    "duplicate field is found.",
)
_FORCE = (
    "force",
    "boolean",
    'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other '
    "people. Force flag must be unset for non-apply patch requests.",
)
_PRETTY = ("pretty", "string", "If 'true', then the output is pretty printed.")
_LIST_PARAMS = (
    ("allowWatchBookmarks", "boolean", 'allowWatchBookmarks requests watch events with type "BOOKMARK".'),
    ("continue", "string", "The continue option should be set when retrieving more results from the server."),
    ("fieldSelector", "string", "A selector to restrict the list of returned objects by their fields."),
    ("labelSelector", "string", "A selector to restrict the list of returned objects by their labels."),
    ("limit", "integer", "limit is a maximum number of responses to return for a list call."),
    ("resourceVersion", "string", "resourceVersion sets a constraint on what resource versions may serve a request."),
    ("resourceVersionMatch", "string", "resourceVersionMatch determines how resourceVersion is applied to lists."),
    ("sendInitialEvents", "boolean", "With watch=true, begin the stream with the current state of the collection."),
    ("timeoutSeconds", "integer", "Timeout for the list/watch call, regardless of any activity or inactivity."),
    ("watch", "boolean", "Watch for changes to the described resources and return them as a stream of notifications."),
)
_DELETE_PARAMS = (
    _DRY_RUN,
    ("gracePeriodSeconds", "integer", "The duration in seconds before the object should be deleted (0: at once)."),
    ("orphanDependents", "boolean", "Deprecated: please use the PropagationPolicy."),
    ("propagationPolicy", "string", "How garbage collection will be performed: Orphan, Background or Foreground."),
)
_DELETE_COLLECTION_PARAMS = _DELETE_PARAMS + tuple(p for p in _LIST_PARAMS if p[0] not in {"allowWatchBookmarks",
                                                                                              "watch"})
_NAMESPACE = ("namespace", "string", "object name and auth scope, such as for teams and projects")
_WRITE_PARAMS = (_DRY_RUN, _FIELD_MANAGER, _FIELD_VALIDATION)
_PATCH_PARAMS = (_DRY_RUN, _FIELD_MANAGER, _FIELD_VALIDATION, _FORCE)

Param = tuple[str, str, str]  # name, type, description
Gvk = tuple[str, str, str]


def _param(param: Param, flavor: _Flavor, where: str = "query") -> Obj:
    name, kind, description = param
    required = {"required": True} if where == "path" else {}
    if flavor.v3:
        return {"description": description, "in": where, "name": name, **required,
                "schema": {"type": kind, "uniqueItems": True}}
    return {"description": description, "in": where, "name": name, **required, "type": kind, "uniqueItems": True}


def _operation_group(group: str, version: str) -> tuple[str, str]:
    """The operation-id infix and tag of a group-version (apiserver `endpoints/openapi.GetOperationIDAndTags`)."""
    trimmed = (group or "core").removesuffix(".k8s.io")
    return _op_id(trimmed, True) + _op_id(version, True), f"{_op_id(trimmed, False)}_{_op_id(version, False)}"


def _op_id(text: str, capitalize: bool) -> str:
    """kube's ToValidOperationID: punctuation dropped, the letter after it upper-cased."""
    out: list[str] = []
    upper = capitalize
    for i, ch in enumerate(text):
        if ch.isalpha() or ch == "_" or (i and ch.isdigit()):
            out.append(ch.upper() if upper else ch)
            upper = False
        else:
            upper = True
    return "".join(out)


def _list_doc(rt: ResourceType) -> str:
    return ("list or watch" if "watch" in rt.verbs else "list") + f" objects of kind {rt.kind}"


def _article(noun: str) -> str:
    return " an " if noun[:1].lower() in "aeiou" and noun else " a "


@dataclass(frozen=True)
class _Op:
    """One operation: its HTTP method, kube verb (`x-kubernetes-action`) and what it reads and writes."""

    method: str
    action: str
    verb_id: str  # operation-id prefix: list, create, read, replace, patch, delete, deletecollection
    doc: str
    returns: str | None  # definition name of the 200 body (None: a plain string, e.g. pods/log)
    params: tuple[Param, ...] = ()
    body: str | None = None  # definition name of the request body
    created: bool = False  # 201 as well (create, replace, patch)
    patch: bool = False


def _operation(op: _Op, *, op_id: str, tag: str, gvk: tuple[str, str, str], flavor: _Flavor) -> Obj:
    group, version, kind = gvk
    media = ["application/json", "application/json;stream=watch"] if op.action == "list" else ["application/json"]
    schema: Obj = flavor.ref(op.returns) if op.returns else {"type": "string"}
    out: Obj = {"description": op.doc, "operationId": op_id}
    params = [_param(p, flavor) for p in op.params]
    responses: Obj = {}
    for code, text in (("200", "OK"), ("201", "Created")) if op.created else (("200", "OK"),):
        if flavor.v3:
            responses[code] = {"content": {m: {"schema": schema} for m in media}, "description": text}
        else:
            responses[code] = {"description": text, "schema": schema}
    responses["401"] = {"description": "Unauthorized"}
    if flavor.v3:
        if params:
            out["parameters"] = params
        if op.body:
            body_types = PATCH_TYPES if op.patch else ("*/*",)
            out["requestBody"] = {"content": {t: {"schema": flavor.ref(op.body)} for t in body_types}}
            if op.method != "delete":
                out["requestBody"]["required"] = True
    else:
        out["consumes"] = list(PATCH_TYPES) if op.patch else ["*/*"]
        out["produces"] = ["application/json", "application/yaml"]
        out["schemes"] = ["https"]
        if op.body:
            body = {"in": "body", "name": "body", "schema": flavor.ref(op.body)}
            params.insert(0, body if op.method == "delete" else body | {"required": True})
        if params:
            out["parameters"] = params
    out["responses"] = responses
    out["tags"] = [tag]
    out["x-kubernetes-action"] = op.action
    out["x-kubernetes-group-version-kind"] = {"group": group, "kind": kind, "version": version}
    return out


def _collection_ops(rt: ResourceType, list_name: str | None) -> list[_Op]:
    ops = []
    if "list" in rt.verbs and list_name:
        ops.append(_Op("get", "list", "list", _list_doc(rt), list_name, _LIST_PARAMS))
    if "create" in rt.verbs:
        ops.append(_Op("post", "post", "create", f"create{_article(rt.kind)}{rt.kind}", None, _WRITE_PARAMS,
                       created=True))
    if "deletecollection" in rt.verbs:
        ops.append(_Op("delete", "deletecollection", "deletecollection", f"delete collection of {rt.kind}", STATUS,
                       _DELETE_COLLECTION_PARAMS, body=DELETE_OPTIONS))
    return ops


def _item_ops(rt: ResourceType) -> list[_Op]:
    table = {
        "get": _Op("get", "get", "read", f"read the specified {rt.kind}", None),
        "update": _Op("put", "put", "replace", f"replace the specified {rt.kind}", None, _WRITE_PARAMS, created=True),
        "patch": _Op("patch", "patch", "patch", f"partially update the specified {rt.kind}", None, _PATCH_PARAMS,
                     body=PATCH, created=True, patch=True),
        "delete": _Op("delete", "delete", "delete", f"delete{_article(rt.kind)}{rt.kind}", STATUS, _DELETE_PARAMS,
                      body=DELETE_OPTIONS),
    }
    return [op for verb, op in table.items() if verb in rt.verbs]


def _subresource_ops(rt: ResourceType, sub: str) -> list[_Op]:
    verbs = _subresource(sub).verbs
    ops = []
    if "get" in verbs:
        ops.append(_Op("get", "get", "read", f"read {sub} of the specified {rt.kind}", None))
    if "create" in verbs:
        ops.append(_Op("post", "post", "create", f"create {sub} of{_article(rt.kind)}{rt.kind}", None, _WRITE_PARAMS,
                       created=True))
    if "update" in verbs:
        ops.append(_Op("put", "put", "replace", f"replace {sub} of the specified {rt.kind}", None, _WRITE_PARAMS,
                       created=True))
    if "patch" in verbs:
        ops.append(_Op("patch", "patch", "patch", f"partially update {sub} of the specified {rt.kind}", None,
                       _PATCH_PARAMS, body=PATCH, created=True, patch=True))
    return ops


def _resource_paths(rt: ResourceType, flavor: _Flavor) -> dict[str, Obj]:
    """Path items for one resource: collection, item, subresources, and the all-namespaces list."""
    infix, tag = _operation_group(rt.group, rt.version)
    base = f"/apis/{rt.group}/{rt.version}" if rt.group else f"/api/{rt.version}"
    collection = f"{base}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"{base}/{rt.plural}"
    namespaced = "Namespaced" if rt.namespaced else ""
    gvk = (rt.group, rt.version, rt.kind)
    own, listing = _names(rt)
    scope = [_param(_NAMESPACE, flavor, "path")] if rt.namespaced else []
    named = [_param(("name", "string", f"name of the {rt.kind}"), flavor, "path"), *scope]

    def path_item(ops: list[_Op], kind: Gvk, schema: str | None, suffix: str, params: list[Obj]) -> Obj:
        item: Obj = {}
        for op in ops:
            body = op.body or (schema if op.method in ("post", "put") else None)
            full = dataclasses.replace(op, returns=op.returns or schema, body=body)
            op_id = f"{op.verb_id}{infix}{namespaced}{rt.kind}{suffix}"
            item[op.method] = _operation(full, op_id=op_id, tag=tag, gvk=kind, flavor=flavor)
        if item:
            item["parameters"] = [*params, _param(_PRETTY, flavor)]
        return item

    paths = {
        collection: path_item(_collection_ops(rt, listing), gvk, own, "", scope),
        collection + "/{name}": path_item(_item_ops(rt), gvk, own, "", named),
    }
    for sub in rt.subresources:
        kind = _subresource_kind(rt, sub)
        schema = own if kind == gvk else None if sub == "log" else definition_for(*kind) or model_name(*kind)
        paths[f"{collection}/{{name}}/{sub}"] = path_item(_subresource_ops(rt, sub), kind, schema, sub.title(), named)
    if rt.namespaced and "list" in rt.verbs and listing:
        op = _Op("get", "list", "list", _list_doc(rt), listing, _LIST_PARAMS)
        paths[f"{base}/{rt.plural}"] = {
            "get": _operation(op, op_id=f"list{infix}{rt.kind}ForAllNamespaces", tag=tag, gvk=gvk, flavor=flavor),
            "parameters": [_param(_PRETTY, flavor)],
        }
    return {path: item for path, item in paths.items() if item}


def _referenced_kinds(types: list[ResourceType]) -> set[str]:
    """Built-in definitions the operations name besides the kinds: meta types and subresource kinds."""
    names = {STATUS, DELETE_OPTIONS, PATCH, API_RESOURCE_LIST, WATCH_EVENT}
    for rt in types:
        for sub in rt.subresources:
            kind = _subresource_kind(rt, sub)
            if kind != (rt.group, rt.version, rt.kind) and (name := definition_for(*kind)):
                names.add(name)
    return names


def _types_of(registry: Registry, group: str, version: str) -> list[ResourceType]:
    return sorted((t for t in registry.all() if (t.group, t.version) == (group, version)), key=lambda t: t.plural)


def _discovery_path(group: str, version: str, flavor: _Flavor) -> tuple[str, Obj]:
    infix, tag = _operation_group(group, version)
    path = f"/apis/{group}/{version}/" if group else f"/api/{version}/"
    op = _Op("get", "get", "get", "get available resources", API_RESOURCE_LIST)
    operation = _operation(op, op_id=f"get{infix}APIResources", tag=tag, gvk=("", "", ""), flavor=flavor)
    del operation["x-kubernetes-action"], operation["x-kubernetes-group-version-kind"]  # kube has neither here
    return path, {"get": operation}


# --- documents --------------------------------------------------------------------------------

_BEARER = {"BearerToken": {"description": "Bearer Token authentication", "in": "header", "name": "authorization",
                           "type": "apiKey"}}


def v3_document(registry: Registry, group: str, version: str) -> Obj | None:
    """The OpenAPI 3.0 document of one group-version (`/openapi/v3/apis/<group>/<version>`), or None."""
    types = _types_of(registry, group, version)
    if not types:
        return None
    path, discovery = _discovery_path(group, version, V3)
    paths: Obj = {path: discovery}
    for rt in types:
        paths |= _resource_paths(rt, V3)
    return {
        "openapi": "3.0.0",
        "info": {"title": _TITLE, "version": _INFO_VERSION},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": _schemas(types, _referenced_kinds(types), V3),
            "securitySchemes": _BEARER,
        },
    }


def v2_document(registry: Registry) -> Obj:
    """The Swagger 2.0 document of everything served (`/openapi/v2`, JSON only)."""
    types = sorted(registry.all(), key=lambda t: (t.group, t.version, t.plural))
    paths: Obj = {}
    for group, version in dict.fromkeys((t.group, t.version) for t in types):
        path, discovery = _discovery_path(group, version, V2)
        paths[path] = discovery
    for rt in types:
        paths |= _resource_paths(rt, V2)
    return {
        "swagger": "2.0",
        "info": {"title": _TITLE, "version": _INFO_VERSION},
        "paths": dict(sorted(paths.items())),
        "definitions": _schemas(types, _referenced_kinds(types), V2),
        "securityDefinitions": _BEARER,
        "security": [{"BearerToken": []}],
    }


def group_version_path(group: str, version: str) -> str:
    """The index key of a group-version: `api/v1`, `apis/apps/v1`."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


def parse_group_version_path(path: str) -> tuple[str, str] | None:
    """`api/v1` -> ("", "v1"), `apis/apps/v1` -> ("apps", "v1"); None for anything else."""
    parts = path.strip("/").split("/")
    if len(parts) == 2 and parts[0] == "api":
        return "", parts[1]
    if len(parts) == 3 and parts[0] == "apis":
        return parts[1], parts[2]
    return None


def server_relative_url(path: str, etag: str) -> str:
    return f"/openapi/v3/{path}?hash={etag}"


def encode(document: Obj) -> bytes:
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def etag_of(body: bytes) -> str:
    """kube-openapi's hash: the upper-case hex SHA-512 of the served bytes (quote it in the ETag header)."""
    return hashlib.sha512(body).hexdigest().upper()


def v3_index(registry: Registry) -> Obj:
    """`GET /openapi/v3`: every group-version with the URL of its document, hash included."""
    paths = {}
    for group, versions in registry.group_versions().items():
        for version in versions:
            document = v3_document(registry, group, version)
            if document is not None:
                key = group_version_path(group, version)
                paths[key] = {"serverRelativeURL": server_relative_url(key, etag_of(encode(document)))}
    return {"paths": paths}


# --- cache ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Served:
    """A document as served: its bytes and its hash (the `?hash=` value and, quoted, the ETag)."""

    body: bytes
    etag: str


class OpenAPI:
    """Documents built on first request and kept until the registry changes.

    A registry change (a CRD added, changed or removed) marks the cache stale; the next request rebuilds
    only the group-versions whose resource types differ, since the built-in documents take tens of
    milliseconds to build and never change.
    """

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._versions: dict[tuple[str, str], tuple[tuple[Any, ...], Served]] = {}
        self._index: Served | None = None
        self._v2: Served | None = None
        registry.listeners.append(self.invalidate)

    def invalidate(self) -> None:
        self._index = None
        self._v2 = None

    def v3(self, group: str, version: str) -> Served | None:
        """The group-version's document, or None when it is not served."""
        types = _types_of(self.registry, group, version)
        if not types:
            self._versions.pop((group, version), None)
            return None
        # ResourceType equality leaves the schema out, so the schema's identity joins the key (the key
        # holds the type, which holds the schema: the id stays unique while cached).
        key = tuple((rt, id(rt.schema)) for rt in types)
        cached = self._versions.get((group, version))
        if cached is not None and cached[0] == key:
            return cached[1]
        document = v3_document(self.registry, group, version)
        assert document is not None
        body = encode(document)
        served = Served(body, etag_of(body))
        self._versions[(group, version)] = (key, served)
        return served

    def index(self) -> Served:
        if self._index is None:
            paths = {}
            for group, versions in self.registry.group_versions().items():
                for version in versions:
                    if (served := self.v3(group, version)) is not None:
                        key = group_version_path(group, version)
                        paths[key] = {"serverRelativeURL": server_relative_url(key, served.etag)}
            served_gvs = {(g, v) for g, vs in self.registry.group_versions().items() for v in vs}
            for gone in set(self._versions) - served_gvs:
                del self._versions[gone]
            body = orjson.dumps({"paths": paths})
            self._index = Served(body, etag_of(body))
        return self._index

    def v2(self) -> Served:
        if self._v2 is None:
            body = encode(v2_document(self.registry))
            self._v2 = Served(body, etag_of(body))
        return self._v2


__all__ = [
    "CONTENT_TYPE",
    "PATCH_TYPES",
    "OpenAPI",
    "Served",
    "builtin_schema",
    "encode",
    "etag_of",
    "group_version_path",
    "model_name",
    "parse_group_version_path",
    "server_relative_url",
    "v2_document",
    "v3_document",
    "v3_index",
]
