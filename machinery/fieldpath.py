"""Field sets as server-side apply tracks them (sigs.k8s.io/structured-merge-diff v6 `fieldpath`, `typed`).

A *path* names one place in an object: a member of a struct or map (`.spec`), an element of a list-map by its
keys (`[name="web"]`), an element of a set by its value (`[="a"]`), or an element of an atomic list by index
(`[0]`). A `FieldSet` is a tree of paths: each node has members (paths that belong to the set) and children
(paths under which members lie; being a child does not make a path a member), exactly as SMD's `fieldpath.Set`.

managedFields store a set as FieldsV1 JSON (fieldpath/serialize.go): each path element becomes a key (`f:name`,
`k:{"name":"web"}`, `v:"a"`, `i:0`), a member without children is `{}`, and a member that also has children
carries `".": {}` among them. Keys are written in SMD's order: fields, then keys, then values, then indexes,
each sorted (values: numbers < strings < booleans < lists < maps < null).

The schema side is a `Shape`: SMD's view of an OpenAPI schema (kube-openapi `schemaconv`), read off a
`SchemaNode`. Objects are maps (granular unless `x-kubernetes-map-type: atomic`), lists are atomic unless
`x-kubernetes-list-type` says `set` or `map` or, without one, the patch strategy is `merge` (with a merge key: a
map keyed by it, else a set); a schema without a type, a free-form object and the members allowed by
`x-kubernetes-preserve-unknown-fields` are "deduced" (granular maps, atomic lists, any scalar). Quantity is a
scalar and RawExtension atomic, as schemaconv hard-codes them. The root of an object and an
`x-kubernetes-embedded-resource` always have `apiVersion`, `kind` and `metadata` (ObjectMeta).

`to_field_set` (typed/tofieldset.go), `validate` (typed/validate.go), `ensure_named_fields_are_members` and
`reconcile_with_schema` (typed/reconcile_schema.go) walk an object along its shape.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, ClassVar, Final

import orjson

from machinery.schemas import SchemaNode, node

# ---- Go renderings -------------------------------------------------------------------------------------------

_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "<": "\\u003c", ">": "\\u003e",
                 "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_JSON_SPECIAL = re.compile('["\\\\\x00-\x1f<>&\u2028\u2029]')
_QUOTE_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
                  "\\": "\\\\", '"': '\\"'}


def _json_string(text: str) -> str:
    def escape(match: re.Match[str]) -> str:
        c = match.group()
        return _JSON_ESCAPES.get(c) or f"\\u{ord(c):04x}"

    return '"' + _JSON_SPECIAL.sub(escape, text) + '"'


def _go_float(value: float) -> str:
    """A float64 as Go's encoding/json writes it: shortest digits, positional within [1e-6, 1e21), else `1e-7`."""
    if not math.isfinite(value):
        raise ValueError(f"json: unsupported value: {value}")
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    if 1e-6 <= abs(value) < 1e21:
        return format(Decimal(repr(value)), "f")
    return re.sub(r"e([+-])0*(\d)", r"e\1\2", repr(value))


def _go_print_float(value: float) -> str:
    """A float64 as Go's `%v` prints it (strconv 'g', shortest): exponent form below 1e-4 and from 1e6 up."""
    if value == 0 or not math.isfinite(value):
        return {math.inf: "+Inf", -math.inf: "-Inf"}.get(value, "NaN" if value != value else "0")
    shortest = Decimal(repr(value)).normalize()
    sign, digits, exponent = shortest.as_tuple()
    assert isinstance(exponent, int)
    text, exp = "".join(map(str, digits)), len(digits) + exponent - 1
    if -4 <= exp < 6:
        return format(shortest, "f")
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}e{'+' if exp >= 0 else '-'}{abs(exp):02d}"


def go_json(value: Any) -> str:
    """Compact JSON as Go's encoding/json writes it: map keys sorted, `<`, `>`, `&` escaped."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{_json_string(k)}:{go_json(value[k])}" for k in sorted(value)) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    raise TypeError(f"json: unsupported type: {type(value).__name__}")


def go_quote(text: str) -> str:
    """Go's `%q` of a string (strconv.Quote)."""
    out = []
    for c in text:
        if c in _QUOTE_ESCAPES:
            out.append(_QUOTE_ESCAPES[c])
        elif c.isprintable():  # Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols, ' '
            out.append(c)
        elif ord(c) < 0x80:
            out.append(f"\\x{ord(c):02x}")
        elif ord(c) < 0x10000:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(f"\\U{ord(c):08x}")
    return '"' + "".join(out) + '"'


def _to_string(value: Any) -> str:
    """value.ToString: how a key or set value reads in a path."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_print_float(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, list):
        return "[" + ",".join(_to_string(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "".join(f"{k}={_to_string(v)}" for k, v in sorted(value.items()))
    return str(value)


def _order(value: Any) -> tuple[Any, ...]:
    """value.Compare as a sort key: numbers < strings < booleans < lists < maps < null; 1 == 1.0."""
    if value is None:
        return (6,)
    if isinstance(value, bool):
        return (3, value)
    if isinstance(value, int | float):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, list):
        return (4, tuple(_order(v) for v in value))
    if isinstance(value, Mapping):
        return (5, tuple(sorted((k, _order(v)) for k, v in value.items())))
    raise TypeError(f"not a JSON value: {type(value).__name__}")


# ---- path elements --------------------------------------------------------------------------------------------


class PathElement:
    """One step of a path (fieldpath.PathElement). Equal, hashed and ordered as SMD compares them."""

    FIELD: ClassVar[int] = 0
    KEY: ClassVar[int] = 1
    VALUE: ClassVar[int] = 2
    INDEX: ClassVar[int] = 3

    __slots__ = ("_order", "kind", "value")

    def __init__(self, kind: int, value: Any) -> None:
        self.kind = kind
        self.value = value  # FIELD: str, KEY: tuple of (name, value) sorted by name, VALUE: scalar, INDEX: int
        if kind == PathElement.KEY:
            self._order: tuple[Any, ...] = (kind, tuple((n, _order(v)) for n, v in value))
        elif kind == PathElement.VALUE:
            self._order = (kind, _order(value))
        else:
            self._order = (kind, value)

    @classmethod
    def field(cls, name: str) -> PathElement:
        return cls(cls.FIELD, name)

    @classmethod
    def key(cls, fields: Mapping[str, Any] | list[tuple[str, Any]]) -> PathElement:
        pairs = list(fields.items()) if isinstance(fields, Mapping) else list(fields)
        return cls(cls.KEY, tuple(sorted(pairs, key=lambda kv: kv[0])))  # FieldList.Sort: stable, by name

    @classmethod
    def of_value(cls, value: Any) -> PathElement:
        return cls(cls.VALUE, value)

    @classmethod
    def index(cls, i: int) -> PathElement:
        return cls(cls.INDEX, i)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PathElement) and self._order == other._order

    def __lt__(self, other: PathElement) -> bool:
        return self._order < other._order

    def __hash__(self) -> int:
        return hash(self._order)

    def __str__(self) -> str:
        """PathElement.String: `.name`, `[k=v,k2=v2]`, `[=v]`, `[i]`."""
        if self.kind == PathElement.FIELD:
            return "." + self.value
        if self.kind == PathElement.KEY:
            return "[" + ",".join(f"{n}={_to_string(v)}" for n, v in self.value) + "]"
        if self.kind == PathElement.VALUE:
            return f"[={_to_string(self.value)}]"
        return f"[{self.value}]"

    def __repr__(self) -> str:
        return f"PathElement({self.serialize()!r})"

    def serialize(self) -> str:
        """The FieldsV1 key (fieldpath/serialize-pe.go)."""
        if self.kind == PathElement.FIELD:
            return "f:" + self.value
        if self.kind == PathElement.KEY:
            return "k:{" + ",".join(f"{_json_string(n)}:{go_json(v)}" for n, v in self.value) + "}"
        if self.kind == PathElement.VALUE:
            return "v:" + go_json(self.value)
        return f"i:{self.value}"

    @classmethod
    def parse(cls, text: str) -> PathElement | None:
        """DeserializePathElement; None for an unknown type (SMD skips those). ValueError when malformed."""
        if len(text) < 2:
            raise ValueError("key must be 2 characters long:")
        if text[1] != ":":
            raise ValueError(f"missing colon: {text}")
        kind, rest = text[0], text[2:]
        if kind == "f":
            return cls.field(rest)
        if kind == "v":
            return cls.of_value(_json_value(rest))
        if kind == "k":
            pairs = orjson.loads(rest) if rest.strip().startswith("{") else None
            if not isinstance(pairs, dict):
                raise ValueError(f"ReadObjectCB: expect {{ or n, but found {rest[:1]!r}")
            return cls.key(list(pairs.items()))
        if kind == "i":
            if not re.fullmatch(r"[+-]?[0-9]+", rest):
                raise ValueError(f'strconv.Atoi: parsing "{rest}": invalid syntax')
            return cls.index(int(rest))
        return None


def _json_value(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as err:
        raise ValueError(str(err)) from None


Path = tuple[PathElement, ...]


def path_string(path: Path) -> str:
    """Path.String, as conflict messages print it: `.spec.containers[name="web"].image`."""
    return "".join(str(pe) for pe in path)


def make_path(*parts: str | int | PathElement) -> Path:
    """fieldpath.MakePath: strings are field names, ints indexes."""
    return tuple(p if isinstance(p, PathElement) else
                 PathElement.index(p) if isinstance(p, int) else PathElement.field(p) for p in parts)


# ---- sets ---------------------------------------------------------------------------------------------------


class FieldSet:
    """A set of paths (fieldpath.Set). Treat a set as immutable once built; operations return new sets."""

    __slots__ = ("children", "members")

    def __init__(self, members: set[PathElement] | None = None,
                 children: dict[PathElement, FieldSet] | None = None) -> None:
        self.members: set[PathElement] = members if members is not None else set()
        self.children: dict[PathElement, FieldSet] = children if children is not None else {}

    @classmethod
    def of(cls, *paths: Path) -> FieldSet:
        out = cls()
        for p in paths:
            out.insert(p)
        return out

    def insert(self, path: Path) -> None:
        """Add a path (only while building; parents are not added). The empty path is never owned."""
        if not path:
            return
        node = self
        for pe in path[:-1]:
            node = node.children.setdefault(pe, FieldSet())
        node.members.add(path[-1])

    def has(self, path: Path) -> bool:
        if not path:
            return False
        node: FieldSet | None = self
        for pe in path[:-1]:
            node = node.children.get(pe) if node else None
        return node is not None and path[-1] in node.members

    def empty(self) -> bool:
        return not self.members and all(c.empty() for c in self.children.values())

    def __bool__(self) -> bool:
        return not self.empty()

    def __len__(self) -> int:
        return len(self.members) + sum(len(c) for c in self.children.values())

    def with_prefix(self, pe: PathElement) -> FieldSet:
        return self.children.get(pe) or FieldSet()

    def union(self, other: FieldSet) -> FieldSet:
        children = dict(self.children)
        for pe, child in other.children.items():
            children[pe] = children[pe].union(child) if pe in children else child
        return FieldSet(self.members | other.members, children)

    def intersection(self, other: FieldSet) -> FieldSet:
        children = {}
        for pe, child in self.children.items():
            if pe in other.children and (both := child.intersection(other.children[pe])):
                children[pe] = both
        return FieldSet(self.members & other.members, children)

    def difference(self, other: FieldSet) -> FieldSet:
        """Leaves in self but not other: a member of other does not remove its children (parent - child = parent)."""
        children = {}
        for pe, child in self.children.items():
            if pe not in other.children:
                children[pe] = child
            elif rest := child.difference(other.children[pe]):
                children[pe] = rest
        return FieldSet(self.members - other.members, children)

    def recursive_difference(self, other: FieldSet) -> FieldSet:
        """Like difference, but a member of other also removes everything below it."""
        children = {}
        for pe, child in self.children.items():
            if pe in other.members:
                continue
            if pe not in other.children:
                children[pe] = child
            elif rest := child.recursive_difference(other.children[pe]):
                children[pe] = rest
        return FieldSet(self.members - other.members, children)

    def paths(self) -> Iterator[Path]:
        """Every member, in SMD's order (Set.Iterate: members of a node first, then its children's)."""
        yield from self._paths(())

    def _paths(self, prefix: Path) -> Iterator[Path]:
        for pe in sorted(self.members):
            yield (*prefix, pe)
        for pe in sorted(self.children):
            yield from self.children[pe]._paths((*prefix, pe))

    def __iter__(self) -> Iterator[Path]:
        return self.paths()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldSet):
            return NotImplemented
        return self.members == other.members and self._nonempty() == other._nonempty()

    def _nonempty(self) -> dict[PathElement, FieldSet]:
        return {pe: c for pe, c in self.children.items() if c}

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "FieldSet(" + ", ".join(path_string(p) for p in self) + ")"

    # ---- FieldsV1 ---------------------------------------------------------------------------------------

    def to_fields_v1(self) -> dict[str, Any]:
        """The set as FieldsV1 JSON (Set.ToJSON), keys in SMD's order."""
        return self._emit(include_self=False)

    def _emit(self, *, include_self: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        children = {pe: c for pe, c in self.children.items() if c}
        if include_self and (self.members or children):
            out["."] = {}
        for pe in sorted(self.members | children.keys()):
            child = children.get(pe)
            out[pe.serialize()] = {} if child is None else child._emit(include_self=pe in self.members)
        return out

    @classmethod
    def from_fields_v1(cls, fields: Any) -> FieldSet:
        """Set.FromJSON; ValueError when the JSON is not a FieldsV1 trie."""
        if fields is None:
            return cls()
        found, _ = cls._read(fields)
        return found or cls()

    @classmethod
    def _read(cls, fields: Any) -> tuple[FieldSet | None, bool]:
        if fields is None:
            fields = {}
        if not isinstance(fields, Mapping):
            raise ValueError("ReadMapCB: expect { or n, but found " + (orjson.dumps(fields).decode()[:1] or "?"))
        children: FieldSet | None = None
        is_member = False
        for key, sub in fields.items():
            if key == ".":
                is_member = True
                continue
            pe = PathElement.parse(key)
            if pe is None:
                continue  # an unknown path element type: a newer kube's, dropped
            grandchildren, child_is_member = cls._read(sub)
            if children is None and (child_is_member or grandchildren is not None):
                children = cls()
            if children is not None and child_is_member:
                children.members.add(pe)
            if children is not None and grandchildren is not None:
                children.children[pe] = grandchildren
        return children, is_member or children is None


# ---- shapes: SMD's schema ---------------------------------------------------------------------------------

_QUANTITY: Final = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_RAW_EXTENSION: Final = "io.k8s.apimachinery.pkg.runtime.RawExtension"
_OBJECT_META: Final = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_TYPE_META: Final = ("apiVersion", "kind")
# Defaults of list-map keys of the built-in kinds (OpenAPI v3 `default`, which our v2-derived definitions lack).
_KEY_DEFAULTS: Final[dict[str, dict[str, Any]]] = {
    "io.k8s.api.core.v1.ContainerPort": {"protocol": "TCP"},
    "io.k8s.api.core.v1.ServicePort": {"protocol": "TCP"},
}
_PLAIN_STRING_FORMATS: Final = frozenset({"", "byte"})


class Shape:
    """SMD's type at one place of an object: what a value there may be, and how its parts are identified.

    Shapes are built once per schema and memoize their members, so walks and later requests reuse them.
    """

    TYPED: ClassVar[str] = "typed"
    DEDUCED: ClassVar[str] = "deduced"  # __untyped_deduced_: any scalar, atomic lists, granular maps of the same
    ATOMIC: ClassVar[str] = "atomic"  # __untyped_atomic_: any scalar, atomic lists and maps

    def __init__(self, mode: str, schema: SchemaNode | None = None, *, preserve: bool = False,
                 embedded: bool = False) -> None:
        typed = schema if mode == Shape.TYPED else None
        self.mode = mode
        self.node = typed
        self.preserve = preserve or bool(typed and _flag(typed, "x-kubernetes-preserve-unknown-fields"))
        self.embedded = embedded or bool(typed and _flag(typed, "x-kubernetes-embedded-resource"))
        self.scalar, self.is_list, self.is_map = _kinds(typed)
        declared = typed.target.get("properties") if typed else None
        self._properties: Mapping[str, Any] = declared if isinstance(declared, Mapping) else {}
        self._values = typed.target.get("additionalProperties") if typed else None
        self.map_atomic = mode == Shape.ATOMIC or bool(typed and (typed.name == _RAW_EXTENSION
                                                                   or typed.map_type == "atomic"))
        self.list_keys = _list_keys(typed)
        self._fields: dict[str, Shape] = {}  # declared members only: the schema bounds them
        self._value_shape: Shape | None = None  # every other key of a map with additionalProperties
        self._item: Shape | None = None

    @classmethod
    def of(cls, schema: SchemaNode | None) -> Shape:
        """The shape of a whole object (its root carries apiVersion, kind and metadata); deduced without schema."""
        if schema is None:
            return _DEDUCED_ROOT
        key = (id(schema.site), id(schema.target))
        cached = _ROOTS.get(key)
        if cached is None or cached.node is None or cached.node.site is not schema.site \
                or cached.node.target is not schema.target:
            cached = _ROOTS[key] = cls(cls.TYPED, schema, embedded=True)
            while len(_ROOTS) > _MAX_ROOTS:
                del _ROOTS[next(iter(_ROOTS))]
        return cached

    def __repr__(self) -> str:
        return f"Shape({self.mode}, {self.node!r})"

    def handler(self, value: Any) -> str | None:
        """deduceAtom + handleAtom: "map", "list" or "scalar" for this value (null and mismatches: map first)."""
        if isinstance(value, Mapping) and self.is_map:
            return "map"
        if isinstance(value, list) and self.is_list:
            return "list"
        if _is_scalar(value) and self.scalar:
            return "scalar"
        return "map" if self.is_map else "scalar" if self.scalar else "list" if self.is_list else None

    # ---- maps ------------------------------------------------------------------------------------------------

    @property
    def deduced_map(self) -> bool:
        """A map of anything without declared fields (isUntypedDeducedMap)."""
        if self.mode != Shape.TYPED:
            return self.mode == Shape.DEDUCED
        return not self._properties and not self.embedded and (self._values is None or self._values is True)

    def declared(self, name: str) -> bool:
        """A struct field of this map (Map.FindField), as opposed to a key of a map's values."""
        if self.mode != Shape.TYPED:
            return False
        return name in self._properties or (self.embedded and (name in _TYPE_META or name == "metadata"))

    def member(self, name: str) -> Shape | None:
        """The shape of member `name`; None when the schema allows no such member."""
        if self.mode == Shape.ATOMIC:
            return _UNTYPED_ATOMIC
        if self.embedded and name == "metadata":
            return _object_meta()
        if self.node is None:
            return _DEDUCED
        if name in self._properties:
            if name not in self._fields:
                field = self.node.field(name)
                self._fields[name] = Shape(Shape.TYPED, field, preserve=self.preserve) if field else _DEDUCED
            return self._fields[name]
        if self.embedded and name in _TYPE_META:
            return _STRING
        if isinstance(self._values, Mapping):
            if self._value_shape is None:
                values = SchemaNode.of(self._values, self.node.defs)
                self._value_shape = Shape(Shape.TYPED, values, preserve=self.preserve)
            return self._value_shape
        if self._values is True or self.preserve or (self._values is None and not self._properties):
            return _DEDUCED
        return None

    # ---- lists -----------------------------------------------------------------------------------------------

    @property
    def list_atomic(self) -> bool:
        return self.list_keys is None

    def item(self) -> Shape:
        if self._item is None:
            items = self.node.items() if self.node else None
            self._item = Shape(Shape.TYPED, items, preserve=self.preserve) if items else _UNTYPED_ATOMIC
        return self._item

    def key_default(self, name: str) -> Any:
        """The default of a key field of this list's elements, or _ABSENT (getAssociativeKeyDefault)."""
        items = self.item().node
        if items is None:
            return _ABSENT
        declared = items.target.get("properties", {}).get(name)
        if isinstance(declared, Mapping) and "default" in declared:
            return declared["default"]
        return _KEY_DEFAULTS.get(items.name or "", {}).get(name, _ABSENT)

    def element(self, item: Any) -> PathElement:
        """The path element of a list-map or set element (listItemToPathElement); ValueError if it has none."""
        keys = self.list_keys
        if keys is None:
            raise ValueError("invalid indexing of non-associative list")
        if keys:
            if item is None:
                raise ValueError("associative list with keys may not have a null element")
            if not isinstance(item, Mapping):
                raise ValueError("associative list with keys may not have non-map elements")
            fields = []
            for k in keys:
                if k in item:
                    fields.append((k, item[k]))
                elif (default := self.key_default(k)) is not _ABSENT and default is not None:
                    fields.append((k, default))
            if not fields:
                raise ValueError(f"associative list with keys has an element that omits all key fields "
                                 f"[{' '.join(go_quote(k) for k in keys)}] (and doesn't have default values for "
                                 f"any key fields)")
            return PathElement.key(fields)
        if isinstance(item, Mapping):
            raise ValueError("associative list without keys has an element that's a map type")
        if isinstance(item, list):
            raise ValueError("not supported: associative list with lists as elements")
        if item is None:
            raise ValueError("associative list without keys has an element that's an explicit null")
        return PathElement.of_value(item)


class _Absent:
    """A member that is not there (SMD's nil value), as opposed to one set to null."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()
_ABSENT = ABSENT


@functools.cache
def _object_meta() -> Shape:
    return Shape(Shape.TYPED, node(_OBJECT_META))


def _kinds(schema: SchemaNode | None) -> tuple[str | None, bool, bool]:
    """(scalar type or None, may be a list, may be a map) of a schema (schemaconv parseSchema)."""
    if schema is None:
        return "untyped", True, True
    name, types = schema.name, schema.types
    if name == _QUANTITY:
        return "untyped", False, False
    if name == _RAW_EXTENSION:
        return "untyped", True, True
    if "object" in types:
        return None, False, True
    if "array" in types:
        return None, True, False
    if types:
        return _scalar_type(types, schema.format), False, False
    return "untyped", True, True  # no type: anything


def _list_keys(schema: SchemaNode | None) -> tuple[str, ...] | None:
    """None for an atomic list; () for a set; the keys of a list-map (getListElementRelationship)."""
    if schema is None:
        return None
    list_type = schema.site.get("x-kubernetes-list-type")
    if list_type is not None:
        return {"set": (), "map": schema.map_keys}.get(list_type)
    if schema.patch_strategy in ("merge", "merge,retainKeys"):
        return (schema.merge_key,) if schema.merge_key else ()
    return None


def _flag(schema: SchemaNode, extension: str) -> bool:
    return schema.site.get(extension) is True or schema.target.get(extension) is True


def _scalar_type(types: frozenset[str], fmt: str | None) -> str:
    if types <= {"integer", "number"}:
        return "numeric"
    if types == {"string"}:
        return "string" if (fmt or "") in _PLAIN_STRING_FORMATS else "untyped"
    if types == {"boolean"}:
        return "boolean"
    return "untyped"


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float)  # bool is an int


_DEDUCED: Final = Shape(Shape.DEDUCED)
_DEDUCED_ROOT: Final = Shape(Shape.DEDUCED, embedded=True)
_UNTYPED_ATOMIC: Final = Shape(Shape.ATOMIC)
_MAX_ROOTS: Final = 512  # root shapes kept for reuse (each holds its schema, so ids cannot be recycled)
_ROOTS: dict[tuple[int, int], Shape] = {}
_STRING: Final = Shape(Shape.TYPED, SchemaNode.of({"type": "string"}, {}))


# ---- walks ---------------------------------------------------------------------------------------------------


def to_field_set(value: Any, shape: Shape) -> FieldSet:
    """The paths a value sets (TypedValue.ToFieldSet): scalars, atomic lists and maps, list elements, map keys,
    struct fields set to null or {}; not the structs that merely hold them."""
    out = FieldSet()
    _collect(value, shape, (), out)
    return out


def _collect(value: Any, shape: Shape, path: Path, out: FieldSet) -> None:
    kind = shape.handler(value)
    if kind == "scalar":
        out.insert(path)
    elif kind == "list":
        if shape.list_atomic:
            out.insert(path)
        elif isinstance(value, list):
            _collect_items(value, shape, path, out)
    elif kind == "map":
        if shape.map_atomic:
            out.insert(path)
        elif isinstance(value, Mapping):
            for key, sub in value.items():
                member = shape.member(key) or _DEDUCED
                child = (*path, PathElement.field(key))
                _collect(sub, member, child, out)
                if sub is None or (isinstance(sub, Mapping) and not sub) or not shape.declared(key):
                    out.insert(child)


def _collect_items(items: list[Any], shape: Shape, path: Path, out: FieldSet) -> None:
    elements = [_element_or_none(shape, item) for item in items]
    seen: set[PathElement] = set()
    duplicates: set[PathElement] = set()
    for pe in elements:
        if pe is not None:
            (duplicates if pe in seen else seen).add(pe)
    for pe in duplicates:
        out.insert((*path, pe))
    for pe, item in zip(elements, items, strict=True):
        if pe is not None and pe not in duplicates:
            _collect(item, shape.item(), (*path, pe), out)
            out.insert((*path, pe))


def _element_or_none(shape: Shape, item: Any) -> PathElement | None:
    try:
        return shape.element(item)
    except ValueError:
        return None


def validate(value: Any, shape: Shape, *, allow_duplicates: bool = False) -> list[str]:
    """The errors SMD's typed conversion reports for a value (typed/validate.go), each `<path>: <message>`."""
    errors: list[tuple[str, str]] = []
    _validate(value, shape, "", errors, allow_duplicates)
    return [f"{p}: {m}" if p else m for p, m in errors]


def _go_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "map[string]interface {}"
    return "[]interface {}"


def _validate(value: Any, shape: Shape, path: str, errors: list[tuple[str, str]], dups: bool) -> None:
    kind = shape.handler(value)
    if kind is None:
        errors.append((path, "schema error: invalid atom: inlined"))
    elif kind == "scalar":
        if problem := _scalar_problem(shape.scalar or "untyped", value):
            errors.append((path, problem))
    elif kind == "list":
        if value is None:
            return
        if not isinstance(value, list):
            errors.append((path, f"expected list, got {_render(value)}"))
            return
        _validate_items(value, shape, path, errors, dups)
    elif value is not None:
        if not isinstance(value, Mapping):
            errors.append((path, f"expected map, got {_render(value)}"))
            return
        for key, sub in value.items():
            member = shape.member(key)
            if member is None:
                errors.append((f"{path}.{key}", "field not declared in schema"))
                return
            _validate(sub, member, f"{path}.{key}", errors, dups)


def _validate_items(items: list[Any], shape: Shape, path: str, errors: list[tuple[str, str]], dups: bool) -> None:
    seen: set[PathElement] = set()
    for i, item in enumerate(items):
        if shape.list_atomic:
            pe = PathElement.index(i)
        else:
            try:
                pe = shape.element(item)
            except ValueError as err:
                errors.append((path, f"element {i}: {err}"))
                return
            if pe in seen and not dups:
                errors.append((path, f"duplicate entries for key {pe}"))
            seen.add(pe)
        _validate(item, shape.item(), path + str(pe), errors, dups)


def _scalar_problem(scalar: str, value: Any) -> str | None:
    if value is None:
        return None
    if scalar == "numeric" and (isinstance(value, bool) or not isinstance(value, int | float)):
        return f"expected numeric (int or float), got {_go_type(value)}"
    if scalar == "string" and not isinstance(value, str):
        return f"expected string, got {_render(value)}"
    if scalar == "boolean" and not isinstance(value, bool):
        return f"expected boolean, got {_render(value)}"
    if scalar == "untyped" and not _is_scalar(value):
        return f"expected any scalar, got {_render(value)}"
    return None


def _render(value: Any) -> str:
    return go_json(value) if not isinstance(value, str) else go_quote(value)


def ensure_named_fields_are_members(fields: FieldSet, shape: Shape | None) -> FieldSet:
    """The set plus every struct field it reaches into (Set.EnsureNamedFieldsAreMembers): owning `a.b.c` also
    owns the field `a`, but not the map key `b` of a map `a`."""
    members = set(fields.members)
    children = {}
    for pe, child in fields.children.items():
        sub: Shape | None = None
        if shape is not None and pe.kind == PathElement.FIELD and shape.is_map:
            if shape.declared(pe.value):
                members.add(pe)
            sub = shape.member(pe.value)
        elif shape is not None and pe.kind == PathElement.KEY and shape.is_list:
            sub = shape.item()
        children[pe] = ensure_named_fields_are_members(child, sub)
    return FieldSet(members, children)


def reconcile_with_schema(fields: FieldSet, shape: Shape) -> FieldSet:
    """Owners of fields that became atomic own the atomic field instead (ReconcileFieldSetWithSchema)."""
    remove, add = FieldSet(), FieldSet()
    _reconcile(fields, shape, (), False, remove, add)
    if remove.empty() and add.empty():
        return fields
    return fields.recursive_difference(remove).union(add)


def _reconcile(fields: FieldSet | None, shape: Shape, path: Path, atomic: bool, remove: FieldSet,
               add: FieldSet) -> None:
    kind = shape.handler(None)
    if kind == "list":
        if not atomic and shape.list_atomic:
            remove.insert(path)
            add.insert(path)
        elif fields is not None:
            _reconcile_children(fields, lambda pe: shape.item(), path, remove, add)
    elif kind == "map":
        if shape.deduced_map:
            return  # deduced maps (no fields, any member) are not reconciled
        if not atomic and shape.map_atomic:
            if fields is not None and len(fields):
                remove.insert(path)
                add.insert(path)
        elif fields is not None:
            _reconcile_children(fields, lambda pe: shape.member(pe.value) if pe.kind == PathElement.FIELD else None,
                                path, remove, add)


def _reconcile_children(fields: FieldSet, shape_of: Any, path: Path, remove: FieldSet, add: FieldSet) -> None:
    for pe in sorted(set(fields.children) | fields.members):
        sub = shape_of(pe)
        if sub is None:
            continue
        child = fields.children.get(pe)
        _reconcile(child, sub, (*path, pe), pe in fields.members and child is None, remove, add)


__all__ = [
    "ABSENT",
    "FieldSet",
    "Path",
    "PathElement",
    "Shape",
    "ensure_named_fields_are_members",
    "go_json",
    "go_quote",
    "make_path",
    "path_string",
    "reconcile_with_schema",
    "to_field_set",
    "validate",
]
