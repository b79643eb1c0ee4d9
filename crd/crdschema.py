"""What kube checks in a CRD's openAPIV3Schema beyond structure: supported keywords, defaults, list types, rules.

Ports, message for message, of apiextensions' validateCustomResourceDefinitionValidation: the structural
check (crd.structural), ValidateDefaults (defaulting/validation.go: defaults valid where they apply, and
pruned) and ValidateCustomResourceDefinitionOpenAPISchema (unsupported keywords, list and map types, the
static shape of x-kubernetes-validations). Compiling the CEL rules is left to a `RulesChecker` hook.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from crd import nodes, paths
from crd.embedded import META_FIELDS, embedded_errors, object_meta_error
from crd.fieldpaths import valid_field_path
from crd.nodes import Schema
from crd.openapi import MAX_DEPTH, deep_equal, openapi_errors
from crd.paths import at as _at
from crd.paths import prop as _prop
from crd.schema import prune
from crd.structural import structural_error, validate_structural
from machinery import FieldError, forbidden, invalid, not_supported, required

RulesChecker = Callable[[Schema, str], list[FieldError]]
"""The CEL hook for CRD validation: `check(schema_node, path)` returns errors compiling the node's
x-kubernetes-validations (path is the node's, e.g. `spec.validation.openAPIV3Schema.properties[spec]`).
Called, as kube compiles rules, only for nodes whose subtree has no other schema error, and only when the
schema is structural with valid defaults."""

OPENAPI_V3_TYPES = ("array", "boolean", "integer", "number", "object", "string")
RULE_REASONS = ("FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired")
# JSONSchemaProps' fields allowed at the root when status is a subresource, with their Go names.
_ROOT_ALLOWED = {"description": "Description", "type": "Type", "format": "Format", "title": "Title",
                 "maximum": "Maximum", "exclusiveMaximum": "ExclusiveMaximum", "minimum": "Minimum",
                 "exclusiveMinimum": "ExclusiveMinimum", "maxLength": "MaxLength", "minLength": "MinLength",
                 "pattern": "Pattern", "maxItems": "MaxItems", "minItems": "MinItems", "uniqueItems": "UniqueItems",
                 "multipleOf": "MultipleOf", "required": "Required", "items": "Items", "properties": "Properties",
                 "externalDocs": "ExternalDocs", "example": "Example",
                 "x-kubernetes-preserve-unknown-fields": "XPreserveUnknownFields",
                 "x-kubernetes-validations": "XValidations"}


# --- ValidateDefaults ---

def _coerce_error(value: Any, s: Schema, path: str, resource_root: bool) -> FieldError | None:
    """schemaobjectmeta.Coerce without dropping: the first apiVersion, kind or metadata that doesn't decode."""
    schema = {**s, "x-kubernetes-embedded-resource": True} if resource_root else s
    stack: list[tuple[Any, Schema, str]] = [(value, schema, path)]
    while stack:
        x, node, at = stack.pop()
        if isinstance(x, dict):
            for k, v in x.items():
                if node.get("x-kubernetes-embedded-resource"):
                    if k in ("apiVersion", "kind") and not isinstance(v, str):
                        return invalid(paths.child(at, k), v, "must be a string")
                    if k == "metadata" and (err := object_meta_error(v)) is not None:
                        return invalid(paths.child(at, "metadata"), v, err)
                known, sub = nodes.field_schema(node, k)
                if known and sub is not None:
                    stack.append((v, sub, paths.child(at, k) if k in nodes.properties(node) else paths.key(at, k)))
        elif isinstance(x, list) and (item := nodes.items(node)) is not None:
            stack.extend((v, item, paths.index(at, i)) for i, v in enumerate(x))
    return None


def _default_errors(s: Schema, path: str, in_meta: bool, require_pruned: bool) -> list[FieldError]:
    at = _at(path, "default")
    value = s["default"]
    if in_meta:  # kube wraps it in its object first; its schema validation is what matters here
        return openapi_errors(value, s, path=at)
    embedded = bool(s.get("x-kubernetes-embedded-resource"))
    errs: list[FieldError] = []
    if require_pruned and not deep_equal(prune(value, s, resource_root=embedded, drop_nulls=False), value):
        errs.append(invalid(at, value, "must not have unknown fields"))
    if (coerce := _coerce_error(value, s, at, embedded)) is not None:
        return [*errs, coerce]
    meta_schema = {**s, "x-kubernetes-embedded-resource": True} if embedded else s
    if meta_errs := embedded_errors(value, meta_schema, path=at):
        return errs + meta_errs
    return errs + openapi_errors(value, s, path=at)


def validate_defaults(s: Schema, path: str, *, require_pruned: bool) -> list[FieldError]:
    """ValidateDefaults: each default is valid where it applies, and (when required) already pruned."""
    errs: list[FieldError] = []
    stack: list[tuple[Schema, str, bool]] = [({**s, "x-kubernetes-embedded-resource": True}, path, False)]
    while stack:
        node, at, in_meta = stack.pop()
        embedded = bool(node.get("x-kubernetes-embedded-resource"))
        in_meta = in_meta and not embedded
        if nodes.has_default(node):
            errs += _default_errors(node, at, in_meta, require_pruned)
        children: list[tuple[Schema, str, bool]] = []
        if (item := nodes.items(node)) is not None:
            children.append((item, _at(at, "items"), in_meta))
        for k, sub in nodes.properties(node).items():
            children.append((sub, _prop(at, k), in_meta or (embedded and k in META_FIELDS)))
        stack.extend(reversed(children))
    return errs


# --- ValidateCustomResourceDefinitionOpenAPISchema ---

@dataclass(frozen=True)
class SchemaOptions:
    """validationOptions that bear on schemas; relaxed on update where the stored CRD already broke a rule."""

    require_structural: bool = True
    require_valid_property_type: bool = True
    require_pruned_defaults: bool = True
    require_atomic_set_type: bool = True
    require_map_list_keys_map_set_validation: bool = True
    rules_checker: RulesChecker | None = field(default=None, compare=False)


@dataclass(frozen=True)
class _Context:
    """specStandardValidatorV3's state while descending."""

    allow_defaults: bool = True
    disallow_defaults_reason: str = ""
    inside_resource_meta: bool = False

    def without_defaults(self, reason: str) -> _Context:
        return replace(self, allow_defaults=False, disallow_defaults_reason=reason)


def _standard_errors(s: Schema, path: str, ctx: _Context, opts: SchemaOptions) -> list[FieldError]:
    errs: list[FieldError] = []
    kind = s.get("type") or ""
    if opts.require_valid_property_type and kind and kind not in OPENAPI_V3_TYPES:
        errs.append(not_supported(_at(path, "type"), kind, list(OPENAPI_V3_TYPES)))
    if nodes.has_default(s) and not ctx.allow_defaults:
        reason = f" {ctx.disallow_defaults_reason}" if ctx.disallow_defaults_reason else ""
        errs.append(forbidden(_at(path, "default"), "must not be set" + reason))
    if nodes.is_set(s, "id"):
        errs.append(forbidden(_at(path, "id"), "id is not supported"))
    if s.get("additionalItems") is not None:
        errs.append(forbidden(_at(path, "additionalItems"), "additionalItems is not supported"))
    for key in ("patternProperties", "definitions"):
        if nodes.dict_of(s, key):
            errs.append(forbidden(_at(path, key), f"{key} is not supported"))
    for key in ("dependencies", "$ref"):
        if s.get(key) is not None:
            errs.append(forbidden(_at(path, key), f"{key} is not supported"))
    if kind == "null":
        errs.append(forbidden(_at(path, "type"), "type cannot be set to null, use nullable as an alternative"))
    if nodes.list_of(s, "items"):
        errs.append(forbidden(_at(path, "items"), "items must be a schema object and not an array"))
    if ctx.inside_resource_meta and s.get("x-kubernetes-embedded-resource"):
        errs.append(forbidden(_at(path, "x-kubernetes-embedded-resource"), "must not be used inside of resource meta"))
    return errs


def _list_type_errors(s: Schema, path: str, opts: SchemaOptions) -> list[FieldError]:
    errs: list[FieldError] = []
    kind = s.get("type") or ""
    map_type, list_type = s.get("x-kubernetes-map-type"), s.get("x-kubernetes-list-type")
    keys = nodes.list_of(s, "x-kubernetes-list-map-keys")
    item = nodes.items(s)
    if map_type is not None and kind != "object":
        detail = "must be object if x-kubernetes-map-type is specified"
        errs.append(invalid(_at(path, "type"), kind, detail) if kind else required(_at(path, "type"), detail))
    if map_type is not None and map_type not in ("atomic", "granular"):
        errs.append(not_supported(_at(path, "x-kubernetes-map-type"), map_type, ["atomic", "granular"]))
    if list_type is not None and kind != "array":
        detail = "must be array if x-kubernetes-list-type is specified"
        errs.append(invalid(_at(path, "type"), kind, detail) if kind else required(_at(path, "type"), detail))
    elif list_type == "set" and opts.require_atomic_set_type and item is not None:
        atomic_detail = "must be atomic as item of a list with x-kubernetes-list-type=set"
        if item.get("type") == "array" and item.get("x-kubernetes-list-type") not in (None, "atomic"):
            errs.append(invalid(_at(path, "items", "x-kubernetes-list-type"), item["x-kubernetes-list-type"],
                                atomic_detail))
        elif item.get("type") == "object" and item.get("x-kubernetes-map-type") != "atomic":
            errs.append(invalid(_at(path, "items", "x-kubernetes-map-type"), item.get("x-kubernetes-list-type"),
                                atomic_detail))
    if list_type is not None and list_type not in ("atomic", "set", "map"):
        errs.append(not_supported(_at(path, "x-kubernetes-list-type"), list_type, ["atomic", "set", "map"]))
    if keys and list_type != "map":
        detail = "must be map if x-kubernetes-list-map-keys is non-empty"
        at = _at(path, "x-kubernetes-list-type")
        errs.append(required(at, detail) if list_type is None else invalid(at, list_type, detail))
    if list_type == "map":
        errs += _map_list_errors(s, path, keys)
    return errs


def _map_list_errors(s: Schema, path: str, keys: list[Any]) -> list[FieldError]:
    errs: list[FieldError] = []
    raw_items = s.get("items")
    if not keys:
        errs.append(required(_at(path, "x-kubernetes-list-map-keys"), "must not be empty if x-kubernetes-list-type is "
                                                                      "map"))
    if raw_items is None:
        errs.append(required(_at(path, "items"), "must have a schema if x-kubernetes-list-type is map"))
    elif not isinstance(raw_items, dict):
        errs.append(invalid(_at(path, "items"), raw_items, "must only have a single schema if x-kubernetes-list-type "
                                                           "is map"))
    elif raw_items.get("type") != "object":
        errs.append(invalid(_at(path, "items", "type"), raw_items.get("type") or "",
                            "must be object if parent array's x-kubernetes-list-type is map"))
    else:
        props = nodes.properties(raw_items)
        seen: set[str] = set()
        for k in keys:
            if k not in props:
                errs.append(invalid(_at(path, "x-kubernetes-list-map-keys"), keys,
                                    "entries must all be names of item properties"))
            elif props[k].get("type") in ("array", "object"):
                errs.append(invalid(_at(_prop(_at(path, "items"), k), "type"), "object",
                                    "must be a scalar type if parent array's x-kubernetes-list-type is map"))
            if k in seen:
                errs.append(invalid(_at(path, "x-kubernetes-list-map-keys"), keys,
                                    "must not contain duplicate entries"))
            seen.add(k)
    return errs


def map_list_keys_map_set_errors(s: Schema, path: str) -> list[FieldError]:
    """validateMapListKeysMapSet: set and map items aren't nullable; map keys are required or defaulted."""
    item, list_type = nodes.items(s), s.get("x-kubernetes-list-type")
    if item is None or list_type not in ("set", "map"):
        return []
    errs: list[FieldError] = []
    if item.get("nullable"):
        errs.append(forbidden(_at(path, "items", "nullable"), f"cannot be nullable when x-kubernetes-list-type is "
                                                              f"{list_type}"))
    if list_type == "map":
        required_keys = set(nodes.list_of(item, "required"))
        props = nodes.properties(item)
        for k in nodes.list_of(s, "x-kubernetes-list-map-keys"):
            if k not in props:
                continue
            at = _prop(_at(path, "items"), k)
            if k not in required_keys and not nodes.has_default(props[k]):
                errs.append(required(_at(at, "default"), "this property is in x-kubernetes-list-map-keys, so it must "
                                                         "have a default or be a required property"))
            if props[k].get("nullable"):
                errs.append(forbidden(_at(at, "nullable"), "this property is in x-kubernetes-list-map-keys, so it "
                                                           "cannot be nullable"))
    return errs


def _has_newlines(text: str) -> bool:
    return "\n" in text or "\r" in text


def _rule_errors(s: Schema, path: str) -> list[FieldError]:
    """The static checks of each x-kubernetes-validations rule (compiling it is the RulesChecker's job)."""
    errs: list[FieldError] = []
    for i, rule in enumerate(nodes.list_of(s, "x-kubernetes-validations")):
        at = _at(path, "x-kubernetes-validations", i)
        rule = rule if isinstance(rule, dict) else {}
        text, message = rule.get("rule") or "", rule.get("message") or ""
        expression, field_path = rule.get("messageExpression") or "", rule.get("fieldPath") or ""
        if not text.strip():
            errs.append(required(_at(at, "rule"), "rule is not specified"))
        elif message and not message.strip():
            errs.append(invalid(_at(at, "message"), message, "must be non-empty if specified"))
        elif _has_newlines(message.strip()):
            errs.append(invalid(_at(at, "message"), message, "must not contain line breaks"))
        elif _has_newlines(text.strip()) and not message.strip():
            errs.append(required(_at(at, "message"), "message must be specified if rule contains line breaks"))
        if expression and not expression.strip():
            errs.append(required(_at(at, "messageExpression"), "messageExpression must be non-empty if specified"))
        if (reason := rule.get("reason")) is not None and reason not in RULE_REASONS:
            errs.append(not_supported(_at(at, "reason"), reason, list(RULE_REASONS)))
        if field_path and not field_path.strip():
            errs.append(invalid(_at(at, "fieldPath"), field_path, "must be non-empty if specified"))
        if _has_newlines(field_path):
            errs.append(invalid(_at(at, "fieldPath"), field_path, "must not contain line breaks"))
        if field_path and structural_error(s) is None:
            try:
                valid_field_path(field_path, s)
            except ValueError:
                errs.append(invalid(_at(at, "fieldPath"), field_path, "must be a valid path"))
    return errs


def _children(s: Schema, path: str, ctx: _Context, is_root: bool) -> Iterator[tuple[Schema, str, _Context]]:
    """The subschemas ValidateCustomResourceDefinitionOpenAPISchema descends into, in its order."""
    extra = nodes.additional(s)[1]
    if extra is not None:
        meta_ctx = ctx.without_defaults("inside additionalProperties applying to object metadata")
        yield extra, _at(path, "additionalProperties"), meta_ctx if ctx.inside_resource_meta else ctx
    for name, sub in nodes.properties(s).items():
        sub_ctx = ctx
        if (is_root or s.get("x-kubernetes-embedded-resource")) and name in META_FIELDS:
            sub_ctx = replace(ctx, inside_resource_meta=True)
            if is_root:
                sub_ctx = sub_ctx.without_defaults(f"in top-level {name}")
        yield sub, _prop(path, name), sub_ctx
    if (negated := nodes.sub(s, "not")) is not None:
        yield negated, _at(path, "not"), ctx
    for junctor in ("allOf", "oneOf", "anyOf"):
        for i, branch in enumerate(nodes.list_of(s, junctor)):
            if isinstance(branch, dict):
                yield branch, _at(path, junctor, i), ctx
    for name, sub in nodes.dict_of(s, "definitions").items():
        if isinstance(sub, dict):
            yield sub, paths.key(_at(path, "definitions"), name), ctx
    raw_items = s.get("items")
    if isinstance(raw_items, dict):
        yield raw_items, _at(path, "items"), ctx
    elif isinstance(raw_items, list):
        for i, sub in enumerate(raw_items):
            if isinstance(sub, dict):
                yield sub, _at(path, "items", i), ctx
    for name, dep in nodes.dict_of(s, "dependencies").items():
        if isinstance(dep, dict):
            yield dep, paths.key(_at(path, "dependencies"), name), ctx


def _schema_errors(s: Schema, path: str, ctx: _Context, is_root: bool, opts: SchemaOptions,
                   rules_ok: bool, depth: int = 0) -> tuple[list[FieldError], list[FieldError]]:
    """ValidateCustomResourceDefinitionOpenAPISchema: (schema errors, rule compilation errors)."""
    if depth > MAX_DEPTH:
        return [forbidden(path, f"must not nest deeper than {MAX_DEPTH} levels")], []
    errs = _standard_errors(s, path, ctx, opts)
    rule_errs: list[FieldError] = []
    if s.get("uniqueItems"):
        errs.append(forbidden(_at(path, "uniqueItems"), "uniqueItems cannot be set to true since the runtime "
                                                        "complexity becomes quadratic"))
    extra = s.get("additionalProperties")
    if extra is not None and nodes.properties(s) and extra is not True:
        errs.append(forbidden(_at(path, "additionalProperties"), "additionalProperties and properties are mutual "
                                                                 "exclusive"))
    for sub, at, sub_ctx in _children(s, path, ctx, is_root):
        schema_errs, sub_rule_errs = _schema_errors(sub, at, sub_ctx, False, opts, rules_ok, depth + 1)
        errs += schema_errs
        rule_errs += sub_rule_errs
    if s.get("x-kubernetes-preserve-unknown-fields") is False:
        errs.append(invalid(_at(path, "x-kubernetes-preserve-unknown-fields"), False, "must be true or undefined"))
    errs += _list_type_errors(s, path, opts)
    if opts.require_map_list_keys_map_set_validation:
        errs += map_list_keys_map_set_errors(s, path)
    if nodes.list_of(s, "x-kubernetes-validations"):
        errs += _rule_errors(s, path)
        if not errs and rules_ok and opts.rules_checker is not None:
            rule_errs += opts.rules_checker(s, path)
    return errs, rule_errs


def _root_field_errors(s: Schema, path: str) -> list[FieldError]:
    """With a status subresource only fields that survive extracting properties[status] may sit at the root."""
    for key in nodes.JSON_SCHEMA_FIELDS:
        if not nodes.is_set(s, key):
            continue
        if key == "type":
            if s["type"] != "object":
                return [invalid(paths.child(path, "openAPIV3Schema.type"), s["type"],
                                'only "object" is allowed as the type at the root of the schema if the status '
                                "subresource is enabled")]
            continue
        if key not in _ROOT_ALLOWED:
            allowed = "[" + " ".join(_ROOT_ALLOWED.values()) + "]"
            return [invalid(paths.child(path, "openAPIV3Schema"), s,
                            f"only {allowed} fields are allowed at the root of the schema if the status subresource "
                            "is enabled")]
    return []


def validate_crd_schema(validation: dict[str, Any] | None, path: str, *, status_enabled: bool,
                        opts: SchemaOptions) -> list[FieldError]:
    """validateCustomResourceDefinitionValidation for one CustomResourceValidation (`{"openAPIV3Schema": ...}`)."""
    schema = (validation or {}).get("openAPIV3Schema")
    if not isinstance(schema, dict):
        return []
    at = paths.child(path, "openAPIV3Schema")
    errs = _root_field_errors(schema, path) if status_enabled else []
    if schema.get("nullable"):
        errs.append(forbidden(paths.child(path, "openAPIV3Schema.nullable"), "nullable cannot be true at the root"))
    init_errs: list[FieldError] = []
    rules_ok = False
    if opts.require_structural:
        if (err := structural_error(schema)) is not None:
            init_errs = [invalid(at, "", err)]
        elif structural := validate_structural(schema, at):
            errs += structural
        elif defaults := validate_defaults(schema, at, require_pruned=opts.require_pruned_defaults):
            errs += defaults
        else:
            rules_ok = True
    schema_errs, rule_errs = _schema_errors(schema, at, _Context(), True, opts, rules_ok)
    errs += schema_errs + rule_errs
    return errs or init_errs
