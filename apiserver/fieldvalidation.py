"""Server-side field validation: unknown and duplicate fields, as kube's strict decoding reports them.

`?fieldValidation=Strict|Warn|Ignore` (absent: Warn, `endpoints/handlers/rest.go` `fieldValidation`) decides
what happens to them. kube finds them while decoding: a built-in kind is decoded into its Go struct with
sigs.k8s.io/json's strict mode, which names each problem by its path in document order
(`unknown field "spec.template.spec.containers[0].imagee"`, `duplicate field "metadata.name"`); a custom
resource is decoded as a map (duplicates only) and then pruned against its schema, whose pruned paths come
sorted (apiextensions `customresource_handler.go`, `schema/pruning`). Here the same walk runs over the raw
body, parsed with its key pairs kept, against the kind's schema:

- members a schema declares are known; maps (`additionalProperties`) and
  `x-kubernetes-preserve-unknown-fields` accept any key; metadata is checked against ObjectMeta;
- a built-in free-form value (RawExtension, FieldsV1, JSON) is opaque, as Go's raw unmarshalers make it;
- an object a CRD schema leaves without properties accepts nothing (pruning drops it all).

Outcomes (`endpoints/handlers/{create,update,patch}.go`):

- Strict on create/update: 400 `<Kind> in version "<v>" cannot be handled as a <Kind>: strict decoding error:
  unknown field "spec.foo", duplicate field "metadata.name"`;
- Strict on a JSON/merge/strategic patch: 422 ` "" is invalid: patch: Invalid value: "<patched>": strict
  decoding error: ...`;
- Warn: one warning per problem, the error's own text (`unknown field "spec.foo"`);
- Ignore: nothing; an unknown directive: 422 `<Create|Update|Patch>Options.meta.k8s.io "" is invalid`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from apiserver.registry import ResourceType
from machinery import BadRequest, Invalid, invalid, not_supported
from machinery.schemas import SchemaNode, definitions, node, node_for

IGNORE, WARN, STRICT = "Ignore", "Warn", "Strict"
DIRECTIVES = ("", IGNORE, STRICT, WARN)  # kube's allowed values, sorted as its error lists them
MAX_ERRORS = 100  # sigs.k8s.io/json stops collecting strict errors here

UNKNOWN = "unknown field"
DUPLICATE = "duplicate field"

_OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_SCALE = ("autoscaling", "v1", "Scale")
_JSON_PATCH = "application/json-patch+json"
# []jsonPatchOp, what kube decodes a JSON patch into (`endpoints/handlers/patch.go`); value is any JSON.
_JSON_PATCH_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "op": {"type": "string"},
            "path": {"type": "string"},
            "from": {"type": "string"},
            "value": {"x-kubernetes-preserve-unknown-fields": True},
        },
    },
}


@dataclass(frozen=True)
class KindSchema:
    """What the body of one request is checked against: the kind's schema node, and how kube checks it."""

    node: SchemaNode
    custom: bool  # a CRD: unstructured decoding plus pruning, instead of a Go struct


@dataclass(frozen=True)
class StrictError:
    """One strict decoding problem; `str()` is kube's text for it."""

    kind: str  # UNKNOWN or DUPLICATE
    path: str

    def __str__(self) -> str:
        return f"{self.kind} {json.dumps(self.path, ensure_ascii=False)}"


def schema_for(rt: ResourceType, subresource: str = "") -> KindSchema | None:
    """The schema a request body for this resource (or subresource) is decoded against, or None if unknown."""
    key = (id(rt), subresource == "scale")
    hit = _KIND_SCHEMAS.get(key)
    if hit is not None and hit[0] is rt:  # ids are only unique while alive: the entry keeps its type
        return hit[1]
    if len(_KIND_SCHEMAS) >= 4096:
        _KIND_SCHEMAS.clear()
    found = _schema_for(rt, subresource)
    _KIND_SCHEMAS[key] = (rt, found)
    return found


_KIND_SCHEMAS: dict[tuple[int, bool], tuple[ResourceType, KindSchema | None]] = {}


def _schema_for(rt: ResourceType, subresource: str) -> KindSchema | None:
    if subresource == "scale":
        found = node_for(*_SCALE)
        return KindSchema(found, custom=False) if found else None
    if rt.schema is not None:
        return KindSchema(SchemaNode.of(_custom_root(rt.schema), definitions()), custom=True)
    found = node_for(rt.group, rt.version, rt.kind)
    return KindSchema(found, custom=False) if found else None


def _custom_root(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A CRD's schema with what kube always accepts at a resource's root: apiVersion, kind, metadata."""
    properties = dict(schema.get("properties") or {})
    properties |= {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                   "metadata": {"$ref": f"#/$defs/{_OBJECT_META}"}}
    return {**schema, "type": "object", "properties": properties}


def directive(value: str | None, *, options_kind: str) -> str:
    """The request's `fieldValidation` directive: Warn when absent, 422 for an unknown value.

    `options_kind` names the options the parameter belongs to: CreateOptions, UpdateOptions or PatchOptions.
    """
    if not value:
        return WARN
    if value not in DIRECTIVES:
        raise Invalid.of("meta.k8s.io", options_kind, "", [not_supported("fieldValidation", value, list(DIRECTIVES))])
    return value


# --- finding the problems ---------------------------------------------------------------------


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as parsed: its members in order, duplicates kept."""


def _parse_pairs(raw: bytes) -> Any:
    return json.loads(raw, object_pairs_hook=_Pairs)


def _pairs_of(value: Any) -> Any:
    """A decoded value in the parsed form (objects as key pairs), for bodies that were not JSON."""
    if isinstance(value, Mapping):
        return _Pairs((k, _pairs_of(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_pairs_of(v) for v in value]
    return value


_KEY_END = re.compile(rb'"[ \t\r\n]*:')


def _escaped_quote(raw: bytes) -> bool:
    """Whether `raw` holds an escaped quote; most bodies have no backslash at all, and a search for one byte
    is a memchr (a two-byte search took ~1 us of a 1 KiB body)."""
    return b"\\" in raw and b'\\"' in raw


def _no_duplicates(raw: bytes, obj: Any) -> bool:
    """Whether the JSON `raw`, decoded as `obj`, surely repeats no member, without parsing it again.

    Without an escaped quote in the text, a quote followed by a colon can only end a member's name, so
    counting those counts the members as written; decoding keeps one per name. Equal counts: no duplicates.
    Anything else (escaped quotes, YAML, protobuf, a real duplicate) takes the full parse.
    """
    if not isinstance(obj, dict) or _escaped_quote(raw):
        return False
    return len(_KEY_END.findall(raw)) == _known_members(obj, None, False)  # no schema: every member counts


class _Found:
    """Strict errors in the order found, deduplicated and capped as sigs.k8s.io/json does."""

    def __init__(self) -> None:
        self.errors: dict[StrictError, None] = {}

    def add(self, kind: str, path: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.setdefault(StrictError(kind, path), None)


@functools.lru_cache(maxsize=65536)  # nodes are memoized (SchemaNode.of), so identity keys are stable
def _member(schema: SchemaNode | None, key: str, custom: bool) -> tuple[bool, SchemaNode | None, bool]:
    """Whether `key` is a known member of an object with this schema, the member's schema (None: anything
    goes) and whether the member is checked as custom data (metadata never is: it decodes into ObjectMeta).
    """
    if schema is None:
        return True, None, custom
    target = schema.target
    if custom and target.get("x-kubernetes-embedded-resource") and key in ("apiVersion", "kind", "metadata"):
        return True, node(_OBJECT_META) if key == "metadata" else None, key != "metadata"
    properties = target.get("properties")
    if isinstance(properties, Mapping) and key in properties:
        sub = SchemaNode.of(properties[key], schema.defs)
        return True, sub, custom and sub.name != _OBJECT_META
    extra = target.get("additionalProperties")
    if isinstance(extra, Mapping):
        return True, SchemaNode.of(extra, schema.defs), custom
    if extra is True or target.get("x-kubernetes-preserve-unknown-fields"):
        return True, None, custom
    return False, None, custom


@functools.lru_cache(maxsize=65536)
def _checked_object(schema: SchemaNode, custom: bool) -> bool:
    """Whether an object value is checked member by member against this schema.

    Not when the schema isn't an object's (a type error, reported elsewhere), nor, for a built-in kind, when
    it is free-form: RawExtension, FieldsV1 and JSON are raw bytes to Go's decoder.
    """
    if schema.target.get("x-kubernetes-preserve-unknown-fields"):
        return True
    if not custom and schema.is_free_form:
        return False
    types = schema.types
    return not types or "object" in types


def _walk(value: Any, schema: SchemaNode | None, path: str, found: _Found, custom: bool) -> None:
    if isinstance(value, (_Pairs, dict)):
        if schema is not None and not _checked_object(schema, custom):
            return
        seen: set[str] = set()
        for key, member in value if isinstance(value, _Pairs) else value.items():
            here = f"{path}.{key}" if path else key
            if key in seen:
                found.add(DUPLICATE, here)
            seen.add(key)
            known, sub, sub_custom = _member(schema, key, custom)
            if not known:
                found.add(UNKNOWN, here)
                if not custom:
                    continue  # Go skips an unknown member's value; a map decode still sees its duplicates
            _walk(member, sub, here, found, sub_custom)
    elif isinstance(value, list):
        items = schema.items() if schema is not None else None
        for index, element in enumerate(value):
            _walk(element, items, f"{path}[{index}]", found, custom)


def _known_members(value: Any, schema: SchemaNode | None, custom: bool) -> int:
    """How many members the objects in a decoded `value` have, or -1 as soon as one is unknown to `schema`.

    `_walk`'s verdict without its paths: where `_walk` would report nothing, this counts instead. One pass
    over a stack, each object's members looked up in its schema's table (_members_table).
    """
    count = 0
    stack: list[tuple[Any, SchemaNode | None, bool]] = [(value, schema, custom)]
    while stack:
        value, schema, custom = stack.pop()
        if type(value) is dict:
            count += len(value)
            table = None if schema is None else _members_table(schema, custom)
            if table is None:  # members unchecked: only their own members count
                stack.extend((m, None, custom) for m in value.values() if type(m) is dict or type(m) is list)
                continue
            for key, member in value.items():
                found = table.get(key)
                if found is None:
                    found = _member(schema, key, custom)
                    if len(table) < _TABLE_SIZE:
                        table[key] = found
                if not found[0]:
                    return -1
                if type(member) is dict or type(member) is list:
                    stack.append((member, found[1], found[2]))
        elif type(value) is list:
            items = schema.items() if schema is not None else None
            stack.extend((e, items, custom) for e in value if type(e) is dict or type(e) is list)
    return count


# Each schema's members as _member finds them, by name: a dict lookup per member of a request body (an LRU
# cache hashes the schema, the name and the flag each time). A map's tables stop growing at _TABLE_SIZE.
_TABLES: dict[tuple[SchemaNode, bool], dict[str, tuple[bool, SchemaNode | None, bool]] | None] = {}
_TABLE_SIZE = 1024


def _members_table(schema: SchemaNode, custom: bool) -> dict[str, tuple[bool, SchemaNode | None, bool]] | None:
    """The table of an object's members under `schema`, None when they are not checked (_checked_object)."""
    key = (schema, custom)
    if key in _TABLES:
        return _TABLES[key]
    if len(_TABLES) >= 65536:  # as _member's cache: nodes come and go with CRDs
        _TABLES.clear()
    table = _TABLES[key] = {} if _checked_object(schema, custom) else None
    return table


def strict_errors(schema: KindSchema | None, raw_body: bytes | None, obj: Any = None) -> list[StrictError]:
    """Unknown and duplicate fields of a request body, in kube's order.

    Duplicates need the raw JSON body; when it is absent or not JSON (YAML), `obj`, the decoded body, is
    checked for unknown fields only.
    """
    if schema is None:
        return []
    if raw_body is not None and type(obj) is dict and not _escaped_quote(raw_body):
        members = _known_members(obj, schema.node, schema.custom)
        if members >= 0 and len(_KEY_END.findall(raw_body)) == members:
            return []  # every member known, none repeated: the usual body, decided in one pass
    if raw_body is None or _no_duplicates(raw_body, obj):
        parsed = obj  # the decoded body serves: only unknown fields are left to find
    else:
        try:
            parsed = _parse_pairs(raw_body)
        except ValueError:  # not JSON: a YAML body
            parsed = _pairs_of(obj)
    found = _Found()
    _walk(parsed, schema.node, "", found, schema.custom)
    errors = list(found.errors)
    if not schema.custom:
        return errors
    # A custom resource: duplicates from decoding first, then unknown metadata fields, then pruned ones, sorted.
    unknown = sorted((e for e in errors if e.kind == UNKNOWN), key=lambda e: (not e.path.startswith("metadata."),
                                                                                e.path))
    return [e for e in errors if e.kind == DUPLICATE] + unknown


def check_fields(obj: Any, raw_body: bytes | None, schema_lookup: KindSchema | None) -> tuple[list[str], list[str]]:
    """The paths of unknown and of duplicate fields (each in kube's order); see `strict_errors`."""
    errors = strict_errors(schema_lookup, raw_body, obj)
    return [e.path for e in errors if e.kind == UNKNOWN], [e.path for e in errors if e.kind == DUPLICATE]


def patch_strict_errors(patch_type: str, patch_body: bytes) -> list[str]:
    """Strict errors in a JSON, merge or strategic merge patch itself (apply patches are the field manager's).

    A merge patch is decoded as a map, so only duplicates show; a JSON patch is decoded into kube's
    operation struct, so unknown members of an operation show too; both prefixed `json patch`.
    """
    try:
        parsed = _parse_pairs(patch_body)
    except ValueError:
        return []
    found = _Found()
    if patch_type == _JSON_PATCH:
        _walk(parsed, SchemaNode.of(_JSON_PATCH_SCHEMA, {}), "", found, custom=False)
        return [f"json patch {e}" for e in found.errors]
    _walk(parsed, None, "", found, custom=True)
    return [str(e) for e in found.errors]


def patched_object_errors(schema: KindSchema | None, patched: Any) -> list[str]:
    """Unknown fields of a patch's result, sorted as kube's converter sorts them."""
    if schema is None:
        return []
    found = _Found()
    _walk(_pairs_of(patched), schema.node, "", found, schema.custom)
    return sorted(str(e) for e in found.errors)


# --- outcomes ---------------------------------------------------------------------------------


def field_validation_outcome(directive: str, errors: Sequence[StrictError | str], *, kind: str, version: str,
                             as_kind: str | None = None) -> list[str]:
    """What a create or update does with strict errors: raise 400 (Strict), or return warnings (Warn).

    `kind` and `version` are the body's (its apiVersion/kind, defaulted from the URL), `as_kind` the kind the
    resource decodes into when it differs, as in kube's message.
    """
    if not errors or directive == IGNORE:
        return []
    texts = [str(e) for e in errors]
    if directive == STRICT:
        detail = "strict decoding error: " + ", ".join(texts)
        raise BadRequest(f"{kind} in version {json.dumps(version)} cannot be handled as a {as_kind or kind}: {detail}")
    return texts


def patch_validation_outcome(directive: str, errors: Sequence[str], *, patched: str) -> list[str]:
    """What a JSON, merge or strategic merge patch does with strict errors: raise 422, or return warnings.

    `patched` is kube's rendering of the value: the patched object's JSON for JSON and merge patches, the
    patch map Go-formatted (`go_format`) for strategic merge patches.
    """
    if not errors or directive == IGNORE:
        return []
    if directive == STRICT:
        detail = "strict decoding error: " + ", ".join(errors)
        raise Invalid.of("", "", "", [invalid("patch", patched, detail)])
    return list(errors)


def go_format(value: Any) -> str:
    """Go's `%+v` of a decoded JSON value (`map[a:1 b:[x y]]`), as kube prints a strategic merge patch."""
    if isinstance(value, Mapping):
        return "map[" + " ".join(f"{k}:{go_format(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_format(v) for v in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):  # %v is %g with the exponent kept below 21 digits
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    return str(value)


__all__ = [
    "DIRECTIVES",
    "DUPLICATE",
    "IGNORE",
    "STRICT",
    "UNKNOWN",
    "WARN",
    "KindSchema",
    "StrictError",
    "check_fields",
    "directive",
    "field_validation_outcome",
    "go_format",
    "patch_strict_errors",
    "patch_validation_outcome",
    "patched_object_errors",
    "schema_for",
    "strict_errors",
]


def drop_unknown(obj: Any, schema: KindSchema | None) -> None:
    """Remove, in place, the fields a built-in kind's schema doesn't know: Go's decoder never sees them.

    Custom resources are pruned by their structural schema instead (crd.prune).
    """
    if schema is None or schema.custom:
        return
    stack: list[tuple[Any, SchemaNode | None]] = [(obj, schema.node)]
    while stack:
        value, node_ = stack.pop()
        if node_ is None:
            continue
        if isinstance(value, dict):
            if not _checked_object(node_, False):
                continue
            for key in list(value):
                known, sub, _ = _member(node_, key, False)
                if not known:
                    del value[key]
                else:
                    stack.append((value[key], sub))
        elif isinstance(value, list):
            items = node_.items()
            stack.extend((element, items) for element in value)
