"""The structural view of a schema dict: what pruning, defaulting and list checks follow.

Only a node's own `properties`, `items` and `additionalProperties` shape an object (kube's Structural);
`allOf`, `anyOf`, `oneOf` and `not` merely validate it.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


# JSONSchemaProps' fields in Go's declaration order.
JSON_SCHEMA_FIELDS = ("id", "$schema", "$ref", "description", "type", "nullable", "format", "title", "default",
                      "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength",
                      "pattern", "maxItems", "minItems", "uniqueItems", "multipleOf", "enum", "maxProperties",
                      "minProperties", "required", "items", "allOf", "oneOf", "anyOf", "not", "properties",
                      "additionalProperties", "patternProperties", "dependencies", "additionalItems", "definitions",
                      "externalDocs", "example", "x-kubernetes-preserve-unknown-fields",
                      "x-kubernetes-embedded-resource", "x-kubernetes-int-or-string", "x-kubernetes-list-map-keys",
                      "x-kubernetes-list-type", "x-kubernetes-map-type", "x-kubernetes-validations")
_POINTERS = frozenset({"x-kubernetes-preserve-unknown-fields", "additionalProperties", "additionalItems", "default",
                       "example", "x-kubernetes-list-type", "x-kubernetes-map-type", "$ref"})


def is_set(s: Schema, key: str) -> bool:
    """Whether a field holds something other than Go's zero value (null, "", false, empty; pointers if present)."""
    value = s.get(key)
    if key in _POINTERS:
        return value is not None
    return value not in (None, "", False, [], {})


def sub(s: Schema, key: str) -> Schema | None:
    value = s.get(key)
    return value if isinstance(value, dict) else None


def list_of(s: Schema, key: str) -> list[Any]:
    value = s.get(key)
    return value if isinstance(value, list) else []


def dict_of(s: Schema, key: str) -> dict[str, Any]:
    value = s.get(key)
    return value if isinstance(value, dict) else {}


def properties(s: Schema) -> dict[str, Schema]:
    props = s.get("properties")
    return props if isinstance(props, dict) else {}


def items(s: Schema) -> Schema | None:
    item = s.get("items")
    return item if isinstance(item, dict) else None


def additional(s: Schema) -> tuple[bool, Schema | None]:
    """Whether additionalProperties is set at all (true and false count), and its schema if it has one."""
    extra = s.get("additionalProperties")
    if extra is None:
        return False, None
    return True, extra if isinstance(extra, dict) else None


def field_schema(s: Schema, key: str) -> tuple[bool, Schema | None]:
    """Whether the schema knows the field `key` (as a property or via additionalProperties), and its schema."""
    props = properties(s)
    if key in props:
        return True, props[key]
    return additional(s)


def has_default(s: Schema | None) -> bool:
    return s is not None and s.get("default") is not None  # a null default is no default (v1 JSON)


def has_rules(s: Schema) -> bool:
    """Whether any node of the structural schema carries x-kubernetes-validations (kube then runs CEL)."""
    stack = [s]
    while stack:
        node = stack.pop()
        if node.get("x-kubernetes-validations"):
            return True
        stack.extend(properties(node).values())
        stack.extend(n for n in (items(node), additional(node)[1]) if n is not None)
    return False
