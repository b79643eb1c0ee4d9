"""x-kubernetes-embedded-resource: the TypeMeta and ObjectMeta of objects nested in a custom resource.

kube (schema/objectmeta) requires `apiVersion` and `kind` of an embedded object, validates its
`metadata` as ObjectMeta (names are path segments there, and a missing name is fine), and when
decoding drops what ObjectMeta does not know from that metadata. The resource's own root metadata is
the API server's business, not this module's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from crd import nodes, paths
from crd.names import is_dns1035_label
from crd.nodes import Schema
from machinery import FieldError, invalid, required, validate_object_meta

META_FIELDS = frozenset({"apiVersion", "kind", "metadata"})

# ObjectMeta's JSON fields and the Go types json.Unmarshal checks them against; all are omitempty.
_OBJECT_META: dict[str, str] = {
    "name": "string", "generateName": "string", "namespace": "string", "selfLink": "string",
    "uid": "string", "resourceVersion": "string", "generation": "int64", "creationTimestamp": "time",
    "deletionTimestamp": "time", "deletionGracePeriodSeconds": "int64", "labels": "map[string]string",
    "annotations": "map[string]string", "ownerReferences": "[]v1.OwnerReference", "finalizers": "[]string",
    "managedFields": "[]v1.ManagedFieldsEntry",
}


def _json_word(value: Any) -> str:
    """How encoding/json names a JSON value in an UnmarshalTypeError."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _field_error(name: str, value: Any) -> str | None:
    want = _OBJECT_META[name]
    field = f"Go struct field ObjectMeta.{name}"
    if value is None:
        return None
    if want in ("string", "time"):
        if not isinstance(value, str):
            into = "Go value" if want == "time" else field
            return f"json: cannot unmarshal {_json_word(value)} into {into} of type string"
        return None
    if want == "int64":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"json: cannot unmarshal {_json_word(value)} into {field} of type int64"
        return None if isinstance(value, int) else f"json: cannot unmarshal number {value} into {field} of type int64"
    if want == "map[string]string":
        if not isinstance(value, dict):
            return f"json: cannot unmarshal {_json_word(value)} into {field} of type {want}"
        bad = next((v for v in value.values() if v is not None and not isinstance(v, str)), None)
        return None if bad is None else f"json: cannot unmarshal {_json_word(bad)} into {field} of type string"
    if not isinstance(value, list):
        return f"json: cannot unmarshal {_json_word(value)} into {field} of type {want}"
    if want == "[]string":
        bad = next((v for v in value if v is not None and not isinstance(v, str)), None)
        return None if bad is None else f"json: cannot unmarshal {_json_word(bad)} into {field} of type string"
    return None


def object_meta_error(meta: Any) -> str | None:
    """json.Unmarshal's complaint when `meta` doesn't decode as an ObjectMeta, else None."""
    if meta is None:
        return None
    if not isinstance(meta, dict):
        return f"json: cannot unmarshal {_json_word(meta)} into Go value of type v1.ObjectMeta"
    return next((e for k, v in meta.items() if k in _OBJECT_META and (e := _field_error(k, v))), None)


def coerce_object_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """ObjectMeta after a JSON round trip: unknown fields and empty (omitempty) values gone."""
    return {k: v for k, v in meta.items() if k in _OBJECT_META and v not in (None, "", 0, {}, [])}


def _type_meta_errors(obj: dict[str, Any], path: str) -> list[FieldError]:
    errs = [required(paths.child(path, k)) for k in ("apiVersion", "kind") if k not in obj]
    for key, value in obj.items():
        at = paths.child(path, key)
        if key not in ("apiVersion", "kind"):
            continue
        if not isinstance(value, str):
            errs.append(invalid(at, value, "must be a string"))
        elif not value:
            errs.append(invalid(at, value, "must not be empty"))
        elif key == "apiVersion" and value.count("/") > 1:
            errs.append(invalid(at, value, f"unexpected GroupVersion string: {value}"))
        elif key == "kind" and (msgs := is_dns1035_label(value.lower())):
            errs.append(invalid(at, value, "may have mixed case, but should otherwise match: " + ",".join(msgs)))
    return errs


def _meta_errors(meta: Any, path: str) -> list[FieldError]:
    at = paths.child(path, "metadata")
    if (decode_error := object_meta_error(meta)) is not None:
        return [invalid(at, meta, decode_error)]
    if meta is None:
        return []
    named = {**meta, "name": meta.get("name") or "fakename"}  # kube: "we have to set something"
    return validate_object_meta(named, namespaced=bool(meta.get("namespace")), name_rule="path", path=at)


def _walk(obj: Any, s: Schema, path: str) -> Iterator[tuple[dict[str, Any], Schema, str]]:
    """Every object in `obj` with the structural schema node that describes it, depth first."""
    stack: list[tuple[Any, Schema, str]] = [(obj, s, path)]
    while stack:
        value, node, at = stack.pop()
        children: list[tuple[Any, Schema, str]] = []
        if isinstance(value, dict):
            yield value, node, at
            props = nodes.properties(node)
            _, extra = nodes.additional(node)
            for k, v in value.items():
                if k in props:
                    children.append((v, props[k], paths.child(at, k)))
                elif extra is not None:
                    children.append((v, extra, paths.key(at, k)))
        elif isinstance(value, list) and (item := nodes.items(node)) is not None:
            children = [(v, item, paths.index(at, i)) for i, v in enumerate(value)]
        stack.extend(reversed(children))


def embedded_errors(obj: Any, schema: Schema, *, path: str = "") -> list[FieldError]:
    """schemaobjectmeta.Validate below the root: each embedded object's apiVersion, kind and metadata."""
    errs: list[FieldError] = []
    for value, node, at in _walk(obj, schema, path):
        if node.get("x-kubernetes-embedded-resource"):
            errs.extend(_type_meta_errors(value, at))
            if "metadata" in value:
                errs.extend(_meta_errors(value["metadata"], at))
    return errs
