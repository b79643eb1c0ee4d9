"""The Kubernetes 1.35 OpenAPI definitions of the built-in kinds, and a small navigator over them.

The definitions come from the `kubernetes-validate` package (its `v1.35.0-local` JSON schemas), so nothing
here is hand-written: `definitions()` maps a definition name (`io.k8s.api.apps.v1.Deployment`) to its schema,
`definition_for("apps", "v1", "Deployment")` finds that name through `x-kubernetes-group-version-kind`, and
`node(name)` starts a `SchemaNode` walk. A node carries what strategic merge patch, server-side apply and
field validation read off a field: its patch strategy and merge key (`x-kubernetes-patch-*`), list type and
map keys (`x-kubernetes-list-*`), map type, and whether it holds an object, a map or a list.

The file is 1.5 MB, so it is read once, on first use.
"""

from __future__ import annotations

import functools
import importlib.resources
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

KUBERNETES_VERSION = "1.35"
_PACKAGE = "kubernetes_validate"
_DEFINITIONS = f"kubernetes-json-schema/v{KUBERNETES_VERSION}.0-local/_definitions.json"
_MAX_REF_HOPS = 32  # a guard against reference cycles; the real definitions resolve in one hop


@functools.cache
def definitions() -> dict[str, Any]:
    """Definition name -> JSON schema (`$defs` of the package's file). Shared: never mutate it."""
    loaded: dict[str, Any] = orjson.loads(_definitions_file())["$defs"]
    return loaded


def _definitions_file() -> bytes:
    """The file's bytes, read from the package's folder without importing the package: its __init__ imports
    jsonschema, which took ~0.1 s of the first create after start-up (the first field validation)."""
    spec = importlib.util.find_spec(_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(folder, _DEFINITIONS)
        if path.is_file():
            return path.read_bytes()
    return importlib.resources.files(_PACKAGE).joinpath(_DEFINITIONS).read_bytes()  # e.g. installed zipped


@functools.cache
def _kinds() -> dict[tuple[str, str, str], str]:
    index: dict[tuple[str, str, str], str] = {}
    for name, schema in definitions().items():
        for gvk in schema.get("x-kubernetes-group-version-kind", ()):
            index.setdefault((gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", "")), name)
    return index


def definition_for(group: str, version: str, kind: str) -> str | None:
    """The definition name of a built-in kind (group "" is the core group), or None."""
    return _kinds().get((group, version, kind))


def node(name: str, defs: Mapping[str, Any] | None = None) -> SchemaNode:
    """The definition `name` (of `defs`, by default the built-in ones) as a SchemaNode; KeyError if unknown."""
    table = definitions() if defs is None else defs
    return SchemaNode.of(table[name], table, name=name)


def node_for(group: str, version: str, kind: str) -> SchemaNode | None:
    """The SchemaNode of a built-in kind, or None for kinds without a definition (custom resources)."""
    name = definition_for(group, version, kind)
    return None if name is None else node(name)


# SchemaNode.of's memo; a node holds its schema, so a key's ids can't be reused while it is here.
_NODES: dict[tuple[int, int, str | None], SchemaNode] = {}
_MAX_NODES = 100_000


@dataclass(frozen=True, eq=False)
class SchemaNode:
    """One place in a schema: the schema where a field is declared (`site`, which carries the field's
    patch and list extensions) and what it means once `$ref` and a leading `allOf` are followed (`target`).
    """

    site: Mapping[str, Any]
    target: Mapping[str, Any]
    defs: Mapping[str, Any]
    name: str | None = None  # the definition the target is, when it is one

    @classmethod
    def of(cls, schema: Mapping[str, Any], defs: Mapping[str, Any], *, name: str | None = None) -> SchemaNode:
        """The node for `schema` (memoized: walks over the same schemas, request after request, reuse nodes)."""
        key = (id(schema), id(defs), name)
        hit = _NODES.get(key)
        if hit is not None and hit.site is schema and hit.defs is defs:  # ids are only unique while alive
            return hit
        if len(_NODES) >= _MAX_NODES:
            _NODES.clear()
        found = _NODES[key] = cls._resolve(schema, defs, name)
        return found

    @classmethod
    def _resolve(cls, schema: Mapping[str, Any], defs: Mapping[str, Any], name: str | None) -> SchemaNode:
        target, hops = schema, 0
        while hops < _MAX_REF_HOPS:
            if target.get("allOf"):  # OpenAPI v3 wraps a reference with siblings in allOf
                target = target["allOf"][0]
            elif "$ref" in target:
                name = str(target["$ref"]).rsplit("/", 1)[-1]  # "#/$defs/<name>", "#/components/schemas/<name>"
                target = defs[name]
            else:
                break
            hops += 1
        return cls(schema, target, defs, name)

    # ---- navigation -------------------------------------------------------------------------------------

    def field(self, name: str) -> SchemaNode | None:
        """The node of member `name` of this object (any member, for a map), or None if none is declared."""
        declared = self.target.get("properties")
        if isinstance(declared, Mapping) and name in declared:
            return SchemaNode.of(declared[name], self.defs)
        values = self.target.get("additionalProperties")
        if isinstance(values, Mapping):
            return SchemaNode.of(values, self.defs)
        return None

    def items(self) -> SchemaNode | None:
        """The node of this list's elements, or None if not declared."""
        items = self.target.get("items")
        return SchemaNode.of(items, self.defs) if isinstance(items, Mapping) else None

    @property
    def field_names(self) -> tuple[str, ...]:
        declared = self.target.get("properties")
        return tuple(declared) if isinstance(declared, Mapping) else ()

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(self.target.get("required", ()))

    # ---- what the value is ------------------------------------------------------------------------------

    @functools.cached_property
    def types(self) -> frozenset[str]:
        """The JSON types a value may have ("null" left out); several for int-or-string and quantities."""
        found: set[str] = set()
        for schema in (self.target, *self.target.get("oneOf", ()), *self.target.get("anyOf", ())):
            declared = schema.get("type")
            found.update([declared] if isinstance(declared, str) else declared or ())
        found.discard("null")
        return frozenset(found)

    @property
    def format(self) -> str | None:
        return self.target.get("format")

    @property
    def is_map(self) -> bool:
        """An object with free keys and one schema for every value (labels, annotations, resources)."""
        return isinstance(self.target.get("additionalProperties"), Mapping)

    @property
    def is_object(self) -> bool:
        """An object with declared members (a Go struct), or a free-form object (RawExtension)."""
        return "object" in self.types and not self.is_map

    @property
    def is_list(self) -> bool:
        return "array" in self.types

    @functools.cached_property
    def is_free_form(self) -> bool:
        """Anything goes below here: no members, values or items declared (RawExtension, JSON, FieldsV1)."""
        shaped = ("properties", "additionalProperties", "items")
        return not any(key in self.target for key in shaped) and (not self.types or self.types == {"object"})

    # ---- extensions: those of the field (as kube reads them), the map type also of its definition -------

    @property
    def patch_strategy(self) -> str:
        """`x-kubernetes-patch-strategy` as written: "", "merge", "replace", "retainKeys", "merge,retainKeys"."""
        return str(self.site.get("x-kubernetes-patch-strategy") or "")

    @property
    def patch_strategies(self) -> tuple[str, ...]:
        return tuple(self.patch_strategy.split(",")) if self.patch_strategy else ()

    @property
    def merge_key(self) -> str | None:
        """`x-kubernetes-patch-merge-key`: the member that identifies elements of a merged list."""
        return self.site.get("x-kubernetes-patch-merge-key") or None

    @property
    def list_type(self) -> str | None:
        """`x-kubernetes-list-type`: "atomic", "set" or "map" (None when not declared: atomic)."""
        return self.site.get("x-kubernetes-list-type")

    @property
    def map_keys(self) -> tuple[str, ...]:
        """`x-kubernetes-list-map-keys` of a list of type "map"."""
        return tuple(self.site.get("x-kubernetes-list-map-keys") or ())

    @property
    def map_type(self) -> str | None:
        """`x-kubernetes-map-type`: "atomic" or "granular" (None when not declared: granular)."""
        return self.site.get("x-kubernetes-map-type") or self.target.get("x-kubernetes-map-type")

    def __repr__(self) -> str:
        return f"SchemaNode({self.name or sorted(self.types)!r})"


__all__ = [
    "KUBERNETES_VERSION",
    "SchemaNode",
    "definition_for",
    "definitions",
    "node",
    "node_for",
]
