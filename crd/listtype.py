"""x-kubernetes-list-type set and map: no duplicate items, no two items with the same keys (schema/listtype)."""

from __future__ import annotations

from typing import Any

from crd import nodes, paths
from crd.gostr import go_json
from crd.nodes import Schema
from crd.openapi import MAX_DEPTH
from machinery import FieldError, duplicate, invalid

_UNSPECIFIED = object()  # an item without the key field (or a null item) of a one-key map list


def _identity(value: Any) -> Any:
    """Go compares scalars by type and value (1 and 1.0 and true differ) and compounds by their JSON."""
    if value is _UNSPECIFIED:
        return value
    if isinstance(value, dict | list):
        return ("json", go_json(value))
    return (type(value).__name__, value)


def _second_occurrences(values: list[Any]) -> list[int]:
    """validateListSet: the index where each repeated value shows up the second time."""
    seen: dict[Any, int] = {}
    repeated: list[int] = []
    for i, value in enumerate(values):
        ident = _identity(value)
        seen[ident] = seen.get(ident, 0) + 1
        if seen[ident] == 2:
            repeated.append(i)
    return repeated


def _map_errors(items: list[Any], s: Schema, path: str) -> list[FieldError]:
    for i, item in enumerate(items):
        if item is not None and not isinstance(item, dict):
            return [invalid(paths.index(path, i), item, "must be an object for an array of list-type map")]
    keys: list[str] = s.get("x-kubernetes-list-map-keys") or []
    if len(items) <= 1:
        return []
    if len(keys) == 1:
        key = keys[0]
        values = [_UNSPECIFIED if item is None or key not in item else item[key] for item in items]
        return [duplicate(paths.index(path, i), {} if values[i] is _UNSPECIFIED else {key: values[i]})
                for i in _second_occurrences(values)]
    composite = [{k: item[k] for k in keys if k in item} if item is not None else {} for item in items]
    return [duplicate(paths.index(path, i), composite[i]) for i in _second_occurrences(composite)]


def _list_errors(items: list[Any], s: Schema, path: str, depth: int) -> list[FieldError]:
    errs: list[FieldError] = []
    list_type = s.get("x-kubernetes-list-type")
    if list_type == "set":
        errs.extend(duplicate(paths.index(path, i), items[i]) for i in _second_occurrences(items))
    elif list_type == "map":
        errs.extend(_map_errors(items, s, path))
    if (item_schema := nodes.items(s)) is not None:
        for i, item in enumerate(items):
            errs.extend(_errors(item, item_schema, paths.index(path, i), depth + 1))
    return errs


def _object_errors(obj: dict[str, Any], s: Schema, path: str, depth: int) -> list[FieldError]:
    errs: list[FieldError] = []
    _, extra = nodes.additional(s)
    if extra is not None:
        for k, v in obj.items():
            errs.extend(_errors(v, extra, paths.key(path, k), depth + 1))
    props = nodes.properties(s)
    for k, v in obj.items():
        if k in props:
            errs.extend(_errors(v, props[k], paths.child(path, k), depth + 1))
    return errs


def _errors(value: Any, s: Schema, path: str, depth: int) -> list[FieldError]:
    if depth > MAX_DEPTH:
        return []  # the schema validation reports the nesting
    if isinstance(value, list):
        return _list_errors(value, s, path, depth)
    if isinstance(value, dict):
        return _object_errors(value, s, path, depth)
    return []


def list_type_errors(obj: Any, schema: Schema, *, path: str = "") -> list[FieldError]:
    """ValidateListSetsAndMaps: duplicates in sets, repeated keys in maps (`spec.ports[1]: Duplicate value`)."""
    return _object_errors(obj, schema, path, 0) if isinstance(obj, dict) else []
