"""The structural schema engine: validate, prune and default custom resources as kube-apiserver does.

Pure functions on plain dicts. `prune` and `default` return new objects and never touch their input;
`validate` returns kube's field errors. Kube's order for a request body is: prune (with the nulls that
neither `nullable` nor a `default` allow), default, then validate; defaults apply again to objects read
from storage.

- `validate` = kube-openapi's value validation (crd.openapi) + embedded resources' apiVersion, kind and
  metadata (crd.embedded) + list-type set/map uniqueness (crd.listtype) + an optional hook for the
  `x-kubernetes-validations` CEL rules (see `RulesValidator`).
- `prune` = pruning/algorithm.go + PruneNonNullableNullsWithoutDefaults + the ObjectMeta round trip of
  embedded resources' metadata.
- `default` = defaulting/algorithm.go, with each default pruned first (defaulting/prune.go).

Prune and default walk with explicit stacks, so nesting depth costs no Python stack.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crd import nodes
from crd.embedded import META_FIELDS, coerce_object_meta, embedded_errors, object_meta_error
from crd.listtype import list_type_errors
from crd.nodes import Schema
from crd.openapi import NO_OLD, openapi_errors
from crd.paths import NIL
from machinery import FieldError, invalid

RulesValidator = Callable[[Any, Any, Schema], list[FieldError]]
"""The CEL hook: `rules(obj, old, schema)` returns the field errors of the schema's x-kubernetes-validations
rules for `obj` (`old` is None on create, else the stored object, for `oldSelf` transition rules). It walks
the schema itself, as kube's cel.Validator does."""

# Errors after which kube skips the CEL rules (customresource/strategy.go hasBlockingErr).
_BLOCKING = frozenset({"FieldValueNotSupported", "FieldValueRequired", "FieldValueTooLong", "FieldValueTooMany",
                       "FieldValueTypeInvalid"})
RULES_NOT_CHECKED = ("some validation rules were not checked because the object was invalid; "
                     "correct the existing errors to complete validation")


def validate(
    obj: Any,
    schema: Schema,
    *,
    path: str = "",
    old: Any = None,
    rules_validator: RulesValidator | None = None,
) -> list[FieldError]:
    """kube's validation of a custom resource (or, with `path="status"`, of its status) against a schema.

    `path` prefixes every error path; errors about the whole value are reported on it (`<nil>` when it is
    empty, as kube prints a nil field path). With `old` (an update) errors on values unchanged since `old`
    are ratcheted away, and list-type checks are skipped when `old` already broke them. The root
    `metadata` is left to the API server's generic ObjectMeta validation.
    """
    errs = openapi_errors(obj, schema, path=path, old=NO_OLD if old is None else old)
    errs.extend(embedded_errors(obj, schema, path=path))
    if old is None or not list_type_errors(old, schema, path=path):
        errs.extend(list_type_errors(obj, schema, path=path))
    if rules_validator is not None and nodes.has_rules(schema):
        if any(e.type in _BLOCKING for e in errs):
            errs.append(invalid(NIL, None, RULES_NOT_CHECKED))
        else:
            errs.extend(rules_validator(obj, old, schema))
    return errs


# --- copying without recursion ---

def copy_json(value: Any) -> Any:
    """A deep copy of decoded JSON (dicts, lists, scalars), iteratively."""
    if not isinstance(value, dict | list):
        return value
    root: Any = {} if isinstance(value, dict) else [None] * len(value)
    stack: list[tuple[Any, Any]] = [(value, root)]
    while stack:
        source, target = stack.pop()
        pairs = source.items() if isinstance(source, dict) else enumerate(source)
        for k, v in pairs:
            if isinstance(v, dict | list):
                target[k] = {} if isinstance(v, dict) else [None] * len(v)
                stack.append((v, target[k]))
            else:
                target[k] = v
    return root


# --- pruning ---

def _prune_in_place(root: Any, schema: Schema | None, *, resource_root: bool) -> None:
    """pruning.Prune: unknown fields go, except where x-kubernetes-preserve-unknown-fields keeps them.

    A stack entry is (value, schema node or None, skipping?, at the resource root?). Skipping is kube's
    skipPrune below preserve-unknown-fields: known fields are still pruned, unknown ones kept whole.
    """
    if resource_root:
        schema = {**(schema or {}), "x-kubernetes-embedded-resource": True}
    stack: list[tuple[Any, Schema | None, bool, bool]] = [(root, schema, False, resource_root)]
    while stack:
        value, s, skipping, at_root = stack.pop()
        if s is not None and s.get("x-kubernetes-preserve-unknown-fields"):
            skipping = True
        if s is None and skipping:
            continue
        if isinstance(value, dict):
            if s is None:
                value.clear()
                continue
            embedded = bool(s.get("x-kubernetes-embedded-resource"))
            if embedded and not at_root and isinstance(value.get("metadata"), dict) and object_meta_error(
                    value["metadata"]) is None:
                value["metadata"] = coerce_object_meta(value["metadata"])
            for key in list(value):
                if embedded and key in META_FIELDS:
                    continue
                known, sub = nodes.field_schema(s, key)
                if known:
                    stack.append((value[key], sub, False, False))
                elif not skipping:
                    del value[key]
        elif isinstance(value, list):
            item = None if s is None else nodes.items(s)
            stack.extend((v, item, skipping, False) for v in value)


def _drop_nulls_in_place(root: Any, schema: Schema) -> None:
    """PruneNonNullableNullsWithoutDefaults: a null the schema neither allows nor defaults goes."""
    stack: list[tuple[Any, Schema]] = [(root, schema)]
    while stack:
        value, s = stack.pop()
        if isinstance(value, dict):
            for key in list(value):
                _, sub = nodes.field_schema(s, key)
                if sub is None:
                    continue
                if value[key] is None and not sub.get("nullable") and not nodes.has_default(sub):
                    del value[key]
                else:
                    stack.append((value[key], sub))
        elif isinstance(value, list) and (item := nodes.items(s)) is not None:
            stack.extend((v, item) for v in value)


def prune(obj: Any, schema: Schema, *, resource_root: bool = True, drop_nulls: bool = True) -> Any:
    """A copy of `obj` without the fields `schema` doesn't specify, as kube's decoder prunes a custom resource.

    With `resource_root` (a whole custom resource) the root's apiVersion, kind and metadata stay as they
    are: the API server handles root metadata itself. Embedded resources keep their apiVersion, kind and
    metadata too, the metadata reduced to what ObjectMeta knows. `drop_nulls` also removes nulls that the
    schema makes neither nullable nor defaulted, which kube does right after pruning.
    """
    pruned = copy_json(obj)
    _prune_in_place(pruned, schema, resource_root=resource_root)
    if drop_nulls:
        _drop_nulls_in_place(pruned, schema)
    return pruned


# --- defaulting ---

def _default_value(s: Schema, in_meta: bool) -> Any:
    """A fresh copy of the node's default, pruned against the node (kube prunes defaults when serving)."""
    if in_meta:  # kube doesn't prune inside TypeMeta/ObjectMeta, whose defaults it validates instead
        return copy_json(s["default"])
    return prune(s["default"], s, resource_root=False, drop_nulls=False)


def _non_nullable_null(value: Any, s: Schema | None) -> bool:
    return value is None and s is not None and not s.get("nullable")


def default(obj: Any, schema: Schema) -> Any:
    """A copy of `obj` with the schema's `default`s applied, as kube's structural defaulting does.

    Top down: a default fills an absent field, or a null one the schema doesn't make nullable; then its
    insides are defaulted in turn. Items of arrays and values of maps are defaulted like fields, but
    nothing is created under an absent or null parent.
    """
    result = copy_json(obj)
    stack: list[tuple[Any, Schema, bool]] = [(result, schema, False)]
    while stack:
        value, s, in_meta = stack.pop()
        if isinstance(value, dict):
            props = nodes.properties(s)
            embedded = s is schema or bool(s.get("x-kubernetes-embedded-resource"))
            for key, sub in props.items():
                if nodes.has_default(sub) and (key not in value or _non_nullable_null(value[key], sub)):
                    value[key] = _default_value(sub, in_meta or (embedded and key in META_FIELDS))
            known, extra = nodes.additional(s)
            for key in value:
                child_meta = in_meta or (embedded and key in META_FIELDS)
                if key in props:
                    stack.append((value[key], props[key], child_meta))
                elif known and extra is not None:
                    if _non_nullable_null(value[key], extra):
                        value[key] = _default_value(extra, child_meta) if nodes.has_default(extra) else None
                    stack.append((value[key], extra, child_meta))
        elif isinstance(value, list) and (item := nodes.items(s)) is not None:
            for i, v in enumerate(value):
                if _non_nullable_null(v, item) and nodes.has_default(item):
                    value[i] = _default_value(item, in_meta)
                stack.append((value[i], item, in_meta))
    return result
