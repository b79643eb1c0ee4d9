"""Structural schemas: what kube demands of a CRD's openAPIV3Schema before it can prune and default by it.

Ports, message for message, of apiextensions' NewStructural refusals and ValidateStructural
(schema/validation.go, complete.go): a type everywhere, value validations only under allOf/anyOf/oneOf/not
(and naming only fields specified outside them), metadata restricted to name and generateName.
"""

from __future__ import annotations

from typing import Any

from crd import nodes
from crd.goregex import pattern_error
from crd.nodes import Schema
from crd.openapi import MAX_DEPTH
from crd.paths import at as _at
from crd.paths import prop as _prop
from machinery import FieldError, forbidden, invalid, required

_ROOT, _ITEMS, _FIELD = "root", "items", "field"
_EMPTY_TYPE = {
    _ROOT: "must not be empty at the root",
    _ITEMS: "must not be empty for specified array items",
    _FIELD: "must not be empty for specified object fields",
}
_VALUE_VALIDATIONS = ("format", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength",
                      "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "multipleOf", "enum",
                      "maxProperties", "minProperties", "required", "allOf", "oneOf", "anyOf", "not")
_EXTENSIONS = ("x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource",
               "x-kubernetes-int-or-string", "x-kubernetes-list-map-keys", "x-kubernetes-list-type",
               "x-kubernetes-map-type")


# --- NewStructural's refusals ---

def structural_error(s: Schema) -> str | None:
    """The error NewStructural returns converting the schema (the first, in its order), or None."""
    for key, name in (("id", "id"), ("$schema", "schema"), ("$ref", "$ref"), ("patternProperties",
                      "patternProperties"), ("dependencies", "dependencies"), ("definitions", "definitions")):
        if s.get(key) not in (None, "", [], {}):
            return f"OpenAPIV3Schema '{name}' is not supported"
    if s.get("additionalItems") is not None:
        return "OpenAPIV3Schema 'additionalItems' is not supported"
    junctors = (nodes.sub(s, "not"), *nodes.list_of(s, "allOf"), *nodes.list_of(s, "anyOf"),
                *nodes.list_of(s, "oneOf"))
    for junctor in junctors:
        if isinstance(junctor, dict) and (err := structural_error(junctor)) is not None:
            return err
    if s.get("x-kubernetes-preserve-unknown-fields") is False:
        return "internal error: 'x-kubernetes-preserve-unknown-fields' must be true or undefined"
    if isinstance(s.get("items"), list):
        return "OpenAPIV3Schema 'items' must be a schema, but is an array"
    for sub in (nodes.items(s), *nodes.properties(s).values(), nodes.additional(s)[1]):
        if isinstance(sub, dict) and (err := structural_error(sub)) is not None:
            return err
    return None


# --- ValidateStructural ---

def _only_type(branch: Any) -> str | None:
    if not isinstance(branch, dict):
        return None
    significant = {k for k in branch if k in nodes.JSON_SCHEMA_FIELDS and nodes.is_set(branch, k)}
    return branch.get("type") if significant == {"type"} else None


def _is_int_or_string_any_of(s: Schema) -> bool:
    any_of = nodes.list_of(s, "anyOf")
    return len(any_of) == 2 and [_only_type(b) for b in any_of] == ["integer", "string"]


def _nested_errors(v: Schema | None, skip_any_of: bool, path: str) -> list[FieldError]:
    """validateNestedValueValidation: inside a logical junctor only value validations may appear."""
    if v is None:
        return []
    errs = _value_validation_errors(v, skip_any_of, False, path)
    errs += _nested_errors(nodes.items(v), False, _at(path, "items"))
    for k, sub in nodes.properties(v).items():
        errs += _nested_errors(sub, False, _prop(path, k))
    if v.get("type"):
        errs.append(forbidden(_at(path, "type"), "must be empty to be structural"))
    if v.get("additionalProperties") is not None and v.get("additionalProperties") is not False:
        errs.append(forbidden(_at(path, "additionalProperties"), "must be undefined to be structural"))
    if nodes.has_default(v):
        errs.append(forbidden(_at(path, "default"), "must be undefined to be structural"))
    for key, detail in (("title", "must be empty"), ("description", "must be empty"), ("nullable", "must be false"),
                        ("x-kubernetes-preserve-unknown-fields", "must be false"),
                        ("x-kubernetes-embedded-resource", "must be false"),
                        ("x-kubernetes-int-or-string", "must be false"),
                        ("x-kubernetes-list-map-keys", "must be empty")):
        if v.get(key) not in (None, "", False, []):
            errs.append(forbidden(_at(path, key), f"{detail} to be structural"))
    for key in ("x-kubernetes-list-type", "x-kubernetes-map-type"):
        if v.get(key) is not None:
            errs.append(forbidden(_at(path, key), "must be undefined to be structural"))
    if nodes.list_of(v, "x-kubernetes-validations"):
        errs.append(forbidden(_at(path, "x-kubernetes-validations"), "must be empty to be structural"))
    if "metadata" in nodes.properties(v):
        errs.append(forbidden(_prop(path, "metadata"), "must not be specified in a nested context"))
    return errs


def _value_validation_errors(s: Schema, skip_any_of: bool, skip_first_all_of_any_of: bool,
                             path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if not skip_any_of:
        for i, branch in enumerate(nodes.list_of(s, "anyOf")):
            errs += _nested_errors(branch, False, _at(path, "anyOf", i))
    for i, branch in enumerate(nodes.list_of(s, "allOf")):
        errs += _nested_errors(branch, skip_first_all_of_any_of and i == 0, _at(path, "allOf", i))
    for i, branch in enumerate(nodes.list_of(s, "oneOf")):
        errs += _nested_errors(branch, False, _at(path, "oneOf", i))
    errs += _nested_errors(nodes.sub(s, "not"), False, _at(path, "not"))
    if (pattern := s.get("pattern")) and (err := pattern_error(pattern)):
        errs.append(invalid(_at(path, "pattern"), pattern, f"must be a valid regular expression, but isn't: {err}"))
    return errs


def _metadata_errors(m: Schema, check: bool, level: str, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if check and m.get("type") != "object":
        errs.append(invalid(_at(path, "type"), m.get("type") or "", "must be object"))
    if level == _ROOT:
        names = set(nodes.properties(m))
        restricted = bool(names) and not names <= {"name", "generateName"}
        others = ("description", "title", "nullable", "items", "additionalProperties", *_EXTENSIONS,
                  "x-kubernetes-validations", *_VALUE_VALIDATIONS)
        if restricted or any(nodes.is_set(m, k) for k in others):
            errs.append(forbidden(path, "must not specify anything other than name and generateName, but metadata "
                                        "is implicitly specified"))
    return errs


def _invariant_errors(s: Schema | None, level: str, path: str, depth: int = 0) -> list[FieldError]:
    """validateStructuralInvariants."""
    if s is None or depth > MAX_DEPTH:
        return []
    errs: list[FieldError] = []
    kind = s.get("type") or ""
    props = nodes.properties(s)
    has_extra = s.get("additionalProperties") is not None
    embedded = bool(s.get("x-kubernetes-embedded-resource"))
    preserve = bool(s.get("x-kubernetes-preserve-unknown-fields"))
    int_or_string = bool(s.get("x-kubernetes-int-or-string"))
    if kind == "array" and nodes.items(s) is None:
        errs.append(required(_at(path, "items"), "must be specified"))
    errs += _invariant_errors(nodes.items(s), _ITEMS, _at(path, "items"), depth + 1)
    for k, sub in props.items():
        errs += _invariant_errors(sub, _FIELD, _prop(path, k), depth + 1)
    if has_extra:
        if level == _ROOT:
            errs.append(forbidden(_at(path, "additionalProperties"), "must not be used at the root"))
        errs += _invariant_errors(nodes.additional(s)[1], _FIELD, _at(path, "additionalProperties"), depth + 1)
    if int_or_string and preserve:
        errs.append(invalid(_at(path, "x-kubernetes-preserve-unknown-fields"), True,
                            "must be false if x-kubernetes-int-or-string is true"))
    if int_or_string and embedded:
        errs.append(invalid(_at(path, "x-kubernetes-embedded-resource"), True,
                            "must be false if x-kubernetes-int-or-string is true"))
    all_of = nodes.list_of(s, "allOf")
    skip_first = bool(all_of) and isinstance(all_of[0], dict) and _is_int_or_string_any_of(all_of[0])
    errs += _value_validation_errors(s, _is_int_or_string_any_of(s), skip_first, path)
    check_metadata = level == _ROOT or embedded
    if embedded and kind != "object":
        detail = "must be object if x-kubernetes-embedded-resource is true"
        errs.append(invalid(_at(path, "type"), kind, detail) if kind else required(_at(path, "type"), detail))
    elif not kind and not int_or_string and not preserve:
        errs.append(required(_at(path, "type"), _EMPTY_TYPE[level]))
    if embedded and has_extra:
        errs.append(forbidden(_at(path, "additionalProperties"), "must not be used if x-kubernetes-embedded-resource "
                                                                  "is set"))
    if level == _ROOT and kind and kind != "object":
        errs.append(invalid(_at(path, "type"), kind, "must be object at the root"))
    for meta in ("kind", "apiVersion"):
        if meta in props and check_metadata and props[meta].get("type") != "string":
            errs.append(invalid(_at(_prop(path, meta), "type"), props[meta].get("type") or "", "must be string"))
    if "metadata" in props:
        errs += _metadata_errors(props["metadata"], check_metadata, level, _prop(path, "metadata"))
    if embedded and not preserve and not props:
        errs.append(required(_at(path, "properties"), "must not be empty if x-kubernetes-embedded-resource is true "
                                                      "without x-kubernetes-preserve-unknown-fields"))
    return errs


def _completeness_errors(v: Schema | None, s: Schema | None, s_path: str, v_path: str) -> list[FieldError]:
    """validateNestedValueValidationCompleteness: what a junctor names must be specified outside it too."""
    if v is None:
        return []
    if s is None:
        return [required(s_path, f"because it is defined in {v_path}")]
    errs = _junctor_completeness_errors(v, s, s_path, v_path)
    errs += _completeness_errors(nodes.items(v), nodes.items(s), _at(s_path, "items"), _at(v_path, "items"))
    s_props = nodes.properties(s)
    for k, sub in nodes.properties(v).items():
        if k not in s_props:
            errs.append(required(_prop(s_path, k), f"because it is defined in {_prop(v_path, k)}"))
        else:
            errs += _completeness_errors(sub, s_props[k], _prop(s_path, k), _prop(v_path, k))
    return errs


def _junctor_completeness_errors(v: Schema, s: Schema, s_path: str, v_path: str) -> list[FieldError]:
    errs = _completeness_errors(nodes.sub(v, "not"), s, s_path, _at(v_path, "not"))
    for junctor in ("allOf", "anyOf", "oneOf"):
        for i, branch in enumerate(nodes.list_of(v, junctor)):
            if isinstance(branch, dict):
                errs += _completeness_errors(branch, s, s_path, _at(v_path, junctor, i))
    return errs


def validate_structural(s: Schema, path: str) -> list[FieldError]:
    """ValidateStructural, errors sorted by their text as kube sorts them."""
    errs = _invariant_errors(s, _ROOT, path) + _junctor_completeness_errors(s, s, path, path)
    return sorted(errs, key=FieldError.message)
