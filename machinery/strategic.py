"""Strategic merge patch (application/strategic-merge-patch+json), applied as kube-apiserver 1.35 applies it.

kube-apiserver (k8s.io/apiserver/pkg/endpoints/handlers/patch.go, v0.35.7, `strategicPatchObject` at line 545)
decodes the patch into a map and merges it into the current object with apimachinery's
`strategicpatch.StrategicMergeMapPatch`, which reads patch strategies and merge keys off the Go types. We read
the same metadata off the OpenAPI definitions (`machinery.schemas.SchemaNode`). The merge:

- Objects merge member by member; `null` deletes; a value of another type replaces. New values arrive without
  their nulls and without members that carry a `$patch` directive.
- Lists replace, unless the field's strategy is `merge`: lists of objects then merge by the merge key
  (a matched element merges recursively, a new one is added), lists of scalars merge as sets. Patched
  elements keep the patch's order and the others the live order; where the live order cannot place a patched
  element, it comes first, so new elements lead unless `$setElementOrder` places them. Deletions followed by
  additions reorder as Go's shared slices make them (see `_special_elements`).
- Directives: `$patch: replace` (the map as given, or in a merge list: the list made of the other elements)
  and `$patch: delete` (the map becomes `{}`; in a merge list: drop the elements with that key);
  `$setElementOrder/<list>` (the order of the merged list), `$retainKeys` (members not listed are cleared)
  and `$deleteFromPrimitiveList/<list>` (scalars to drop from a merged list).
- Where no schema is known (unknown fields, free-form objects) objects merge and lists replace, as in JSON
  merge patch. (kube fails such merges with "unable to find api field"; for built-in objects it never meets
  them, since the live object holds no unknown fields.)

Errors, as patch.go's `strategicPatchObject` and `interpretStrategicMergePatchError` (line 797) answer:
  not JSON, or not an object  -> 400 BadRequest "<Go's json error>" (unlike merge patch, no "error decoding
                                 patch: " prefix); `null` changes nothing
  a malformed $deleteFromPrimitiveList, $retainKeys or $setElementOrder key or list, a member missing from
                                 $retainKeys -> 400 BadRequest "invalid patch format of primitive list" |
                                 "... of retainKeys" | "... of setElementOrder list"
  a list of lists             -> 422 Invalid, the generic "the server rejected our request..." (`details: {}`)
  anything else apimachinery refuses (a missing merge key, an unknown `$patch`, `$patch: merge` in a list,
  list elements of different types, a $setElementOrder out of step with its list, ...)
                              -> 500 with no reason and apimachinery's message (responsewriters
                                 ErrorToAPIStatus passes unknown errors on): `PatchFailed`
  input that makes apimachinery panic (comparing or hashing objects where scalars belong, a list whose first
                                 element is null) -> 500 "This request caused apiserver to panic...":
                                 `ApiserverPanic` (kube writes it as text/plain, we as a Status)

Not modelled: the decode into the Go type that follows the merge (`FromUnstructuredWithValidation`): kube
turns nulls into zero values, drops unknown fields (fieldValidation) and answers type errors with 422; here
the merged map is returned as it is. Elements missing from the order lists of malformed patches are sorted
first (Go's insertion sort with an inconsistent comparison places them much the same way).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from machinery.errors import ApiError, BadRequest, InternalError
from machinery.patch import (
    _DECODING,
    _MERGE_PATCH,
    UnprocessablePatch,
    _bytes_of,
    _copy_of,
    _decode,
    prune_nulls,
)
from machinery.schemas import SchemaNode

DIRECTIVE = "$patch"
RETAIN_KEYS = "$retainKeys"
DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList"
SET_ELEMENT_ORDER = "$setElementOrder"

# mergepatch/errors.go
BAD_PRIMITIVE_LIST = "invalid patch format of primitive list"
BAD_RETAIN_KEYS = "invalid patch format of retainKeys"
BAD_SET_ELEMENT_ORDER = "invalid patch format of setElementOrder list"
NO_LIST_OF_LISTS = "lists of lists are not supported"

# Recursion follows the live object and the patch only where both nest. No built-in object nests anywhere near
# this deep (a Deployment's pod template reaches about 15 levels), and at most three Python frames a level keep
# us well inside Python's default recursion limit of 1000, whoever calls.
MAX_MERGE_DEPTH = 100

_MAP, _SLICE = "map[string]interface {}", "[]interface {}"
_MISSING: Any = object()


class PatchFailed(ApiError):
    """An apimachinery error kube's patch handler passes on unconverted: a 500 Status without a reason."""

    code, reason = 500, ""

    def status(self) -> dict[str, Any]:
        body = super().status()
        del body["reason"]  # metav1.Status.Reason is omitempty
        return body


class ApiserverPanic(InternalError):
    """Input that makes apimachinery panic; kube-apiserver's panic recovery answers 500 with this text."""

    PANIC = "This request caused apiserver to panic. Look in the logs for details."

    def __init__(self, why: str) -> None:
        super().__init__(self.PANIC)
        self.why = why  # the Go runtime error


def apply_strategic_merge_patch(
    original: dict[str, Any], patch_bytes: bytes, schema: SchemaNode | None
) -> dict[str, Any]:
    """Apply a strategic merge patch to a copy of `original`, whose kind `schema` describes (None: unknown)."""
    doc = _copy_of(original)
    data = _bytes_of(patch_bytes)
    try:
        patch = _decode(data, _MERGE_PATCH)
    except BadRequest as e:  # strategicPatchObject returns json's error as it is
        raise BadRequest(e.message.removeprefix(_DECODING)) from None
    if patch is None:  # Go decodes `null` into a nil map: nothing to merge
        return doc
    return _merge_map(doc, patch, schema, 1)


# ---------------------------------------------------------------------------------------------------
# Maps (patch.go mergeMap).


def _merge_map(original: dict[str, Any], patch: dict[str, Any], node: SchemaNode | None, depth: int) -> dict[str, Any]:
    if depth > MAX_MERGE_DEPTH:
        raise InternalError(f"Internal error occurred: cannot patch objects nested more than {MAX_MERGE_DEPTH} deep")
    if DIRECTIVE in patch:
        directive = patch[DIRECTIVE]
        if directive == "replace":
            del patch[DIRECTIVE]
            return patch
        if directive == "delete":
            return {}
        raise PatchFailed(f"unknown patch type: {go_format(directive, 's')} in map: {go_format(patch)}")
    _apply_retain_keys(original, patch)
    _merge_ordered_lists(original, patch, node, depth)
    for key, value in list(patch.items()):
        delete_list = key.startswith(DELETE_FROM_PRIMITIVE_LIST)
        if delete_list:
            key = _unprefixed(key, DELETE_FROM_PRIMITIVE_LIST, BAD_PRIMITIVE_LIST)
        if value is None:
            original.pop(key, None)
        elif key not in original or type(original[key]) is not type(value):
            if not delete_list:
                _set_new_value(original, key, value)
        elif isinstance(value, dict):
            field, strategy, _ = _patch_meta(node, key)
            original[key] = value if strategy == "replace" else _merge_map(original[key], value, field, depth + 1)
        elif isinstance(value, list):
            field, strategy, merge_key = _patch_meta(node, key)
            items = _elements(field)
            original[key] = _merge_list_field(original[key], value, items, strategy, merge_key, delete_list, depth)
        else:
            original[key] = value
    return original


def _set_new_value(original: dict[str, Any], key: str, value: Any) -> None:
    prune_nulls(value)  # discardNullValuesFromPatch: the same walk as a merge patch's pruneNulls
    kept, keep = _without_directives(value)
    if keep:
        original[key] = kept
    else:
        original.pop(key, None)


def _patch_meta(node: SchemaNode | None, key: str) -> tuple[SchemaNode | None, str, str]:
    """The field's node, its patch strategy with retainKeys split off, and its merge key."""
    field = node.field(key) if node is not None else None
    if field is None:
        return None, "", ""
    strategies = field.patch_strategies
    others = [s for s in strategies if s != "retainKeys"]
    if len(strategies) > 2 or (len(strategies) == 2 and len(others) == 2):
        raise PatchFailed(f"unexpected patch strategy: [{' '.join(strategies)}]")
    return field, others[0] if others else "", field.merge_key or ""


def _elements(field: SchemaNode | None) -> SchemaNode | None:
    """The schema of a list field's elements; a field declared as one object stands for its elements
    (PatchMetaFromOpenAPIV3, and a Go pointer-to-struct field)."""
    return None if field is None else field.items() or field


def _unprefixed(key: str, prefix: str, error: str) -> str:
    head, slash, rest = key.partition("/")
    if not slash or head != prefix:
        raise BadRequest(error)
    return rest


def _apply_retain_keys(original: dict[str, Any], patch: dict[str, Any]) -> None:
    if RETAIN_KEYS not in patch:
        return
    retained = patch.pop(RETAIN_KEYS)
    if not isinstance(retained, list):
        raise BadRequest(BAD_RETAIN_KEYS)
    allowed = {_go_key(k) for k in retained}
    for key, value in patch.items():
        skipped = value is None or key.startswith((DELETE_FROM_PRIMITIVE_LIST, SET_ELEMENT_ORDER))
        if not skipped and (str, key) not in allowed:
            raise BadRequest(BAD_RETAIN_KEYS)
    for key in [k for k in original if (str, k) not in allowed]:
        del original[key]


def _merge_ordered_lists(original: dict[str, Any], patch: dict[str, Any], node: SchemaNode | None, depth: int) -> None:
    """Each `$setElementOrder/<list>` with its list (patch.go mergePatchIntoOriginal)."""
    for directive in [k for k in patch if k.startswith(SET_ELEMENT_ORDER)]:
        order = patch.pop(directive)
        if not isinstance(order, list):
            raise _bad_arg_type(_SLICE, order)
        key = _unprefixed(directive, SET_ELEMENT_ORDER, BAD_SET_ELEMENT_ORDER)
        live, change = original.get(key, _MISSING), patch.get(key, _MISSING)
        for value in (live, change):
            if value is not _MISSING and not isinstance(value, list):
                raise _bad_arg_type(_SLICE, value)
        field, strategy, merge_key = _patch_meta(node, key)
        _check_order(change if change is not _MISSING else [], order, merge_key)
        elements = [] if change is _MISSING else list(change)  # before directives leave it
        if change is _MISSING:
            if live is _MISSING:
                continue
            merged = live
        elif live is _MISSING:
            merged = _without_directives(change)[0]
        else:
            merged = _merge_list_field(live, change, _elements(field), strategy, merge_key, False, depth)
        live = [] if live is _MISSING else live
        in_order, others = _partition(merged, order, merge_key)
        kind = _element_type(live, elements)
        original[key] = _normalize_order(in_order, others, order, live, merge_key, kind)
        patch.pop(key, None)


def _check_order(change: list[Any], order: list[Any], merge_key: str) -> None:
    """The patch's elements appear in `order`, in the same order (validatePatchWithSetOrderList)."""
    if not order or not change:
        return
    kept = _split_deletions(change)[0] if merge_key else change
    at = seen = 0
    while at < len(kept) and seen < len(order):
        if isinstance(kept[at], dict) and DIRECTIVE in kept[at]:
            at += 1
            continue
        if _merge_key_equal(kept[at], order[seen], merge_key):
            at += 1
        seen += 1
    if at < len(kept) and seen >= len(order):
        listed = f"{SET_ELEMENT_ORDER} list:\n{go_format(order)}\n"
        raise PatchFailed(f"The order in patch list:\n{go_format(change)}\n doesn't match {listed}")


def _merge_key_equal(left: Any, right: Any, merge_key: str) -> bool:
    if not merge_key:
        return _go_equal(left, right)
    for side in (left, right):
        if not isinstance(side, dict):
            raise _bad_arg_type(_MAP, side)
        if merge_key not in side:
            raise _no_merge_key(side, merge_key)
    return _go_equal(left[merge_key], right[merge_key])


# ---------------------------------------------------------------------------------------------------
# Lists (patch.go mergeSliceHandler, mergeSlice and their helpers).


def _merge_list_field(
    live: list[Any], change: list[Any], items: SchemaNode | None, strategy: str, merge_key: str,
    delete_list: bool, depth: int,
) -> list[Any]:  # fmt: skip
    if strategy == "merge" or delete_list:
        return _merge_list(live, change, items, merge_key, delete_list, depth + 1)
    return change


def _merge_list(
    live: list[Any], change: list[Any], items: SchemaNode | None, merge_key: str, delete_list: bool, depth: int
) -> list[Any]:
    if not live and not change:
        return live
    kind = _element_type(live, change)
    if kind is not dict:
        if delete_list:
            dropped = {_go_key(v) for v in change}
            return [v for v in live if _go_key(v) not in dropped]
        merged = list({_go_key(v): v for v in live + change}.values())
    else:
        if not merge_key:
            raise PatchFailed(f"cannot merge lists without merge key for {_go_kind(items)}")
        base, change, size = _special_elements(live, change, merge_key)
        merged = base[:size]
        for element in change:
            if merge_key not in element:
                raise _no_merge_key(element, merge_key)
            at = _find(merged, merge_key, element[merge_key])
            if at is None:
                if base is live and len(merged) < len(live):
                    live[len(merged)] = element  # Go's append writes into the slots deletions freed
                merged.append(element)
            else:
                merged[at] = _merge_map(merged[at], element, items, depth + 1)
        live = base[:size]
    in_patch, others = _partition(merged, change, merge_key)
    return _normalize_order(in_patch, others, change, live, merge_key, kind)


def _special_elements(live: list[Any], change: list[Any], merge_key: str) -> tuple[list[Any], list[Any], int]:
    """Apply the elements with a `$patch` directive: the list to merge into, the rest of the patch, and how many
    of the list's leading elements remain.

    apimachinery deletes from the live slice in place (append(s[:i], s[i+1:]...)), and appends new elements
    into the slots that frees, so the live list that $setElementOrder later orders by sees both. We do the same
    to `live`: shift it left over deleted elements, keeping its length, and let the caller fill the tail.
    """
    rest, replace, size = [], False, len(live)
    for element in change:
        if DIRECTIVE not in element:
            rest.append(element)
            continue
        directive = element[DIRECTIVE]
        if directive == "delete":
            if merge_key not in element:
                raise _no_merge_key(element, merge_key)
            while (at := _find(live[:size], merge_key, element[merge_key])) is not None:
                live[at : size - 1] = live[at + 1 : size]
                size -= 1
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise PatchFailed("merging lists cannot yet be specified in the patch")
        else:
            raise PatchFailed(f"unknown patch type: {go_format(directive, 's')} in map: {go_format(element)}")
    return (rest, [], len(rest)) if replace else (live, rest, size)


def _find(elements: list[Any], merge_key: str, value: Any) -> int | None:
    for at, element in enumerate(elements):
        if not isinstance(element, dict):
            raise PatchFailed(f"value for key {at} is not a map")
        if merge_key in element and _go_equal(element[merge_key], value):
            return at
    return None


def _partition(merged: list[Any], by: list[Any], merge_key: str) -> tuple[list[Any], list[Any]]:
    """The elements found in `by` and the others, each in their merged order."""
    if not merge_key:
        keys = {_go_key(v) for v in by}
        found = [_go_key(v) in keys for v in merged]
    else:
        found = []
        for element in merged:
            if not isinstance(element, dict):
                raise _bad_arg_type(_MAP, element)
            if merge_key not in element:
                raise _no_merge_key(element, merge_key)
            found.append(_find(by, merge_key, element[merge_key]) is not None)
    pairs = list(zip(merged, found, strict=True))
    return [v for v, f in pairs if f], [v for v, f in pairs if not f]


def _normalize_order(
    patched: list[Any], others: list[Any], patch_order: list[Any], live_order: list[Any], merge_key: str, kind: type
) -> list[Any]:
    """Patched elements in patch order, the others in live order, interleaved by live order
    (normalizeElementOrder and mergeSortedSlice)."""
    patched = _sorted_by(patched, patch_order, merge_key, kind)
    others = _sorted_by(others, live_order, merge_key, kind)
    out, i, j = [], 0, 0
    while i < len(others) or j < len(patched):
        if j < len(patched) and i < len(others):
            li, ri = _index(live_order, others[i], merge_key, kind), _index(live_order, patched[j], merge_key, kind)
            take_other = 0 <= li < ri
        else:
            take_other = j >= len(patched)
        if take_other:
            out.append(others[i])
            i += 1
        else:
            out.append(patched[j])
            j += 1
    return out


def _sorted_by(elements: list[Any], order: list[Any], merge_key: str, kind: type) -> list[Any]:
    deleted: list[Any] = []
    if kind is dict:
        for element in elements + order:
            if not isinstance(element, dict):
                raise _bad_arg_type(_MAP, element)
            if merge_key not in element:
                raise _no_merge_key(element, merge_key)
        elements, deleted = _split_deletions(elements)
    return sorted(elements, key=lambda v: _index(order, v, merge_key, kind)) + deleted


def _split_deletions(elements: list[Any]) -> tuple[list[Any], list[Any]]:
    """The elements without `$patch: delete`, and those with it (extractToDeleteItems)."""
    kept: list[Any] = []
    deleted: list[Any] = []
    for element in elements:
        if not isinstance(element, dict):
            raise _bad_arg_type(_MAP, element)
        (deleted if element.get(DIRECTIVE, _MISSING) == "delete" else kept).append(element)
    return kept, deleted


def _index(elements: list[Any], value: Any, merge_key: str, kind: type) -> int:
    def identity(v: Any) -> Any:
        return v.get(merge_key) if isinstance(v, dict) else None

    key_of = identity if kind is dict else (lambda v: v)
    wanted = key_of(value)
    return next((at for at, v in enumerate(elements) if _go_equal(wanted, key_of(v))), -1)


def _element_type(*lists: list[Any]) -> type:
    """The one type of all elements (sliceElementType)."""
    first: Any = _MISSING
    for values in lists:
        for value in values:
            if first is _MISSING:
                if value is None:
                    raise ApiserverPanic("runtime error: invalid memory address or nil pointer dereference")
                if isinstance(value, list):
                    raise UnprocessablePatch(NO_LIST_OF_LISTS)
                first = type(value)
            elif type(value) is not first:
                raise PatchFailed(f"list element types are not identical: {go_format(list(lists))}")
    if first is _MISSING:
        raise PatchFailed("no elements in any of the given slices")
    return first


# ---------------------------------------------------------------------------------------------------
# New values (discardNullValuesFromPatch, removeDirectives), in place and without recursion.


def _without_directives(value: Any) -> tuple[Any, bool]:
    """`value` without the maps that carry `$patch`, and whether anything is left to keep."""

    def directive(v: Any) -> bool:
        return isinstance(v, dict) and DIRECTIVE in v

    if directive(value):
        return None, False
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in [k for k, v in node.items() if directive(v)]:
                del node[key]
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            node[:] = [v for v in node if not directive(v)]
            stack.extend(v for v in node if isinstance(v, dict | list))
    return value, True


# ---------------------------------------------------------------------------------------------------
# Go's view of JSON values: equality and hashing of interface{} values, and fmt's %v and %s.


def _go_equal(a: Any, b: Any) -> bool:
    """`a == b` on interface{} values: same type and value; objects and lists panic."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict | list):
        raise ApiserverPanic(f"runtime error: comparing uncomparable type {_go_type(a)}")
    return bool(a == b)


def _go_key(value: Any) -> tuple[type, Any]:
    """`value` as a key of a Go map[interface{}]: objects and lists panic."""
    if isinstance(value, dict | list):
        raise ApiserverPanic(f"runtime error: hash of unhashable type {_go_type(value)}")
    return type(value), value


def _go_type(value: Any) -> str:
    """reflect.TypeOf(value) printed with %s."""
    if value is None:
        return "%!s(<nil>)"
    names = {dict: _MAP, list: _SLICE, str: "string", bool: "bool", int: "int64", float: "float64"}
    return names.get(type(value), type(value).__name__)


def _go_kind(items: SchemaNode | None) -> str:
    """The Go kind of a list's elements, as apimachinery names it in an error."""
    if items is None:
        return "interface"
    if items.is_map:
        return "map"
    for json_type, kind in (("string", "string"), ("integer", items.format or "int"), ("boolean", "bool")):
        if json_type in items.types:
            return kind
    return "float64" if "number" in items.types else "struct"


def _bad_arg_type(expected: str, actual: Any) -> PatchFailed:
    return PatchFailed(f"expected a {expected}, but received a {_go_type(actual)}")


def _no_merge_key(element: dict[str, Any], merge_key: str) -> PatchFailed:
    return PatchFailed(f"map: {go_format(element)} does not contain declared merge key: {merge_key}")


class _Text(str):
    """Output already formatted."""


def go_format(value: Any, verb: str = "v") -> str:
    """fmt.Sprintf("%v") (or "%s") of a decoded JSON value: map[k:v ...] with sorted keys, [a b], <nil>."""
    out: list[str] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Text):
            out.append(item)
        elif isinstance(item, dict | list):
            parts: list[Any] = [_Text("map[" if isinstance(item, dict) else "[")]
            members = [(k, item[k]) for k in sorted(item)] if isinstance(item, dict) else [(None, v) for v in item]
            for n, (key, member) in enumerate(members):
                parts += [_Text(" " if n else ""), _Text("" if key is None else key + ":"), member]
            parts.append(_Text("]"))
            stack.extend(reversed(parts))
        else:
            out.append(_go_scalar(item, verb))
    return "".join(out)


def _go_scalar(value: Any, verb: str) -> str:
    if isinstance(value, str):
        return value
    text = "<nil>" if value is None else _go_float(value) if isinstance(value, float) else str(value).lower()
    if verb == "s":  # a wrong verb: %!s(<type>=<value>)
        return "%!s(<nil>)" if value is None else f"%!s({_go_type(value)}={text})"
    return text


def _go_float(f: float) -> str:
    """strconv.FormatFloat(f, 'g', -1, 64): the shortest digits, exponent form below 1e-4 and from 1e6 on."""
    sign, digits, exponent = Decimal(repr(f)).normalize().as_tuple()
    assert isinstance(exponent, int)
    text, point = "".join(map(str, digits)), len(digits) + exponent  # digits before the decimal point
    if text == "0":
        point = 1
    if point - 1 < -4 or point - 1 >= 6:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        body = f"{mantissa}e{'-' if point - 1 < 0 else '+'}{abs(point - 1):02d}"
    elif point <= 0:
        body = "0." + "0" * -point + text
    else:
        body = text[:point] + "0" * (point - len(text)) + ("." + text[point:] if point < len(text) else "")
    return ("-" if sign else "") + body


__all__ = [
    "BAD_PRIMITIVE_LIST",
    "BAD_RETAIN_KEYS",
    "BAD_SET_ELEMENT_ORDER",
    "MAX_MERGE_DEPTH",
    "NO_LIST_OF_LISTS",
    "ApiserverPanic",
    "PatchFailed",
    "apply_strategic_merge_patch",
    "go_format",
]
