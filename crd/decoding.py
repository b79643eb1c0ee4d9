"""The JSON types a CustomResourceDefinition's fields must have before anything else is checked.

kube decodes a CRD into Go structs, so `served: "yes"` or `properties: []` fail before validation does
(Go's decoder answers 400). Here such junk becomes type errors worded like the rest of the schema
validation (`spec.versions[0].served in body must be of type boolean: "string"`), and the validation
proper can then trust the shapes. Nulls decode to Go's zero values and pass; unknown fields are dropped
by Go's decoder and pass too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crd import paths
from crd.openapi import MAX_DEPTH
from machinery import FieldError, forbidden, type_invalid


@dataclass(frozen=True)
class MapOf:
    """A JSON object with arbitrary keys, each value of one shape (Go's map[string]T)."""

    value: Any


SCHEMA = "schema"  # a JSONSchemaProps, recursively

_SCALARS = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "any": lambda v: True,
}

_RULE = {"rule": "string", "message": "string", "messageExpression": "string", "reason": "string",
         "fieldPath": "string", "optionalOldSelf": "boolean"}
_JSON_SCHEMA_PROPS: dict[str, Any] = {
    "id": "string", "$schema": "string", "$ref": "string", "description": "string", "type": "string",
    "format": "string", "title": "string", "default": "any", "maximum": "number", "exclusiveMaximum": "boolean",
    "minimum": "number", "exclusiveMinimum": "boolean", "maxLength": "integer", "minLength": "integer",
    "pattern": "string", "maxItems": "integer", "minItems": "integer", "uniqueItems": "boolean",
    "multipleOf": "number", "enum": ["any"], "maxProperties": "integer", "minProperties": "integer",
    "required": ["string"], "items": (SCHEMA, [SCHEMA]), "allOf": [SCHEMA], "oneOf": [SCHEMA], "anyOf": [SCHEMA],
    "not": SCHEMA, "properties": MapOf(SCHEMA), "additionalProperties": (SCHEMA, "boolean"),
    "patternProperties": MapOf(SCHEMA), "dependencies": MapOf((SCHEMA, ["string"])),
    "additionalItems": (SCHEMA, "boolean"), "definitions": MapOf(SCHEMA),
    "externalDocs": {"description": "string", "url": "string"}, "example": "any", "nullable": "boolean",
    "x-kubernetes-preserve-unknown-fields": "boolean", "x-kubernetes-embedded-resource": "boolean",
    "x-kubernetes-int-or-string": "boolean", "x-kubernetes-list-map-keys": ["string"],
    "x-kubernetes-list-type": "string", "x-kubernetes-map-type": "string", "x-kubernetes-validations": [_RULE],
}
_NAMES = {"plural": "string", "singular": "string", "shortNames": ["string"], "kind": "string",
          "listKind": "string", "categories": ["string"]}
_VERSION = {
    "name": "string", "served": "boolean", "storage": "boolean", "deprecated": "boolean",
    "deprecationWarning": "string", "schema": {"openAPIV3Schema": SCHEMA},
    "subresources": {"status": {}, "scale": {"specReplicasPath": "string", "statusReplicasPath": "string",
                                             "labelSelectorPath": "string"}},
    "additionalPrinterColumns": [{"name": "string", "type": "string", "format": "string", "description": "string",
                                  "priority": "integer", "jsonPath": "string"}],
    "selectableFields": [{"jsonPath": "string"}],
}
_CONVERSION = {"strategy": "string", "webhook": {
    "clientConfig": {"url": "string", "caBundle": "string",
                     "service": {"namespace": "string", "name": "string", "path": "string", "port": "integer"}},
    "conversionReviewVersions": ["string"],
}}
CRD_SHAPE = {
    "spec": {"group": "string", "names": _NAMES, "scope": "string", "versions": [_VERSION], "conversion": _CONVERSION,
             "preserveUnknownFields": "boolean"},
    "status": {"conditions": [{"type": "string", "status": "string", "lastTransitionTime": "string",
                               "reason": "string", "message": "string", "observedGeneration": "integer"}],
               "acceptedNames": _NAMES, "storedVersions": ["string"], "observedGeneration": "integer"},
}


def _expected(shape: Any) -> str:
    if isinstance(shape, tuple):
        return _expected(shape[0])
    if isinstance(shape, list):
        return "array"
    if isinstance(shape, dict | MapOf) or shape == SCHEMA:
        return "object"
    return str(shape)


def _fits(value: Any, shape: Any) -> bool:
    """Whether the value has the JSON type of the shape (its insides are checked separately)."""
    if isinstance(shape, tuple):
        return any(_fits(value, alternative) for alternative in shape)
    if isinstance(shape, list):
        return isinstance(value, list)
    if isinstance(shape, dict | MapOf) or shape == SCHEMA:
        return isinstance(value, dict)
    return bool(_SCALARS[shape](value))


def shape_errors(obj: Any, shape: Any = None, path: str = "") -> list[FieldError]:
    """Type errors of `obj` against a shape (by default a whole CustomResourceDefinition).

    Nesting deeper than MAX_DEPTH JSON levels is refused too, so later checks may recurse freely.
    """
    errs: list[FieldError] = []
    stack: list[tuple[Any, Any, str, int]] = [(obj, CRD_SHAPE if shape is None else shape, path, 0)]
    while stack:
        value, want, at, depth = stack.pop()
        if value is None:
            continue
        if depth > MAX_DEPTH:
            errs.append(forbidden(paths.shown(at), f"must not nest deeper than {MAX_DEPTH} levels"))
            continue
        if not _fits(value, want):
            errs.append(type_invalid(paths.shown(at), value, _expected(want)))
            continue
        if isinstance(want, tuple):  # the first alternative the value fits
            want = next(alternative for alternative in want if _fits(value, alternative))
        if want == SCHEMA:
            want = _JSON_SCHEMA_PROPS
        children: list[tuple[Any, Any, str, int]] = []
        if isinstance(want, list):
            children = [(v, want[0], paths.index(at, i), depth + 1) for i, v in enumerate(value)]
        elif isinstance(want, MapOf):
            children = [(v, want.value, paths.key(at, k), depth + 1) for k, v in value.items()]
        elif isinstance(want, dict):
            children = [(value[k], sub, paths.child(at, k), depth + 1) for k, sub in want.items() if k in value]
        stack.extend(reversed(children))
    return errs
