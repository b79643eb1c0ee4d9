"""kube-openapi's SchemaValidator, as kube-apiserver runs it on custom resources.

Validation goes node by node like kube-openapi's: at each schema node the type, composition
(allOf/anyOf/oneOf/not), string, format, number, array, enum and object validators run in that order,
each on the data it applies to. Errors carry kube-openapi's path (`spec.items[2].name`) and message
(`spec.replicas in body should be greater than or equal to 1`), and become field errors the way
apiextensions' kubeOpenAPIResultToFieldErrors converts them. A result's match count picks the branch
whose errors are reported when no anyOf/oneOf branch matches, as in kube-openapi.

On update (`old` given) errors of values equal to their old counterpart are dropped: kube's validation
ratcheting (CRDValidationRatcheting, on by default), correlating object fields by name and
list-type=map items by their keys.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from crd import formats
from crd.goregex import PatternError, compile_pattern
from crd.gostr import go_float, go_json, go_number, go_quote
from crd.paths import child, shown
from machinery import FieldError, invalid

# The request codec refuses JSON nested deeper than 200 levels (apiserver/codec.py), so no object, and no
# schema inside a CRD, reaches this; the guard keeps Python's stack safe (two frames a level).
MAX_DEPTH = 250

_TYPE_META = ("apiVersion", "kind")  # never ratcheted at the root (ratcheting.go isTypeMetaField)
_INT64 = (-(2**63), 2**63 - 1)

# kube-openapi error codes that apiextensions converts specially; anything else is Invalid.
REQUIRED, ENUM, TOO_LONG, TOO_MANY, TYPE, INVALID, COMPOSITE, TOO_DEEP = (
    "required", "enum", "too_long", "too_many", "type", "invalid", "composite", "too_deep")


@dataclass(frozen=True, slots=True)
class _Err:
    """One kube-openapi error: its code, the path it names, its message, and the values it carries."""

    code: str
    name: str
    message: str
    value: Any = None
    limit: Any = None


class _Result:
    """validate.Result: errors deduplicated by message, and the count of checks that ran."""

    __slots__ = ("_seen", "count", "errors")

    def __init__(self, count: int = 0) -> None:
        self.errors: list[_Err] = []
        self.count = count
        self._seen: set[str] = set()

    def add(self, err: _Err) -> None:
        if err.message not in self._seen:
            self._seen.add(err.message)
            self.errors.append(err)

    def merge(self, other: _Result | None) -> None:
        if other is not None:
            for err in other.errors:
                self.add(err)
            self.count += other.count

    @property
    def valid(self) -> bool:
        return not self.errors


def _only(err: _Err) -> _Result:
    result = _Result()
    result.add(err)
    return result


class _NoOld:
    """No old value to ratchet against (a create, or a field that is new)."""


NO_OLD: Any = _NoOld()


# --- values as Go sees them ---

def _is_int64(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and _INT64[0] <= value <= _INT64[1]


def _json_kind(value: Any) -> str:
    """The JSON type kube-openapi infers from a decoded Go value (big integers decode as float64)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    if _is_int64(value):
        return "integer"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    return "object"


def _go_int(f: float) -> int:
    """Go's int64(f): truncation, and the minimum int64 where amd64 has no answer."""
    if not math.isfinite(f) or not _INT64[0] <= f <= _INT64[1]:
        return _INT64[0]
    return int(f)


def is_json_integer(f: float) -> bool:
    """swag.IsFloat64AJSONInteger: integral within float64's exact range, up to a relative 1e-9."""
    if not math.isfinite(f) or abs(f) > 2**53 - 1:
        return False
    nearest = float(round(f))
    if f == nearest:
        return True
    return abs(f - nearest) / (abs(f) + abs(nearest)) < 1e-9


def deep_equal(a: Any, b: Any) -> bool:
    """reflect.DeepEqual on decoded JSON: an int64 is never equal to a float64, nor a bool to a number."""
    if _json_kind(a) != _json_kind(b) or (a is None) != (b is None):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(deep_equal(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(map(deep_equal, a, b))
    return bool(a == b)


def _enum_match(data: Any, candidate: Any) -> bool:
    """basicCommonValidator: equal after Go's conversion of the value to the enum value's type."""
    if data is None or candidate is None:
        return False
    have, want = _json_kind(data), _json_kind(candidate)
    if have == want:
        return deep_equal(data, candidate)
    if have == "integer" and want == "number":
        return float(data) == candidate
    if have == "number" and want == "integer":
        return _go_int(float(data)) == candidate
    if have == "integer" and want == "string":  # Go converts an integer to the string of that rune
        return (chr(data) if 0 <= data <= 0x10FFFF and not 0xD800 <= data <= 0xDFFF else "\ufffd") == candidate
    return False


# --- the schema as kube-openapi sees it after apiextensions' conversion ---

def schema_types(s: dict[str, Any]) -> list[str]:
    if s.get("x-kubernetes-int-or-string"):
        return ["integer", "string"]
    return [s["type"]] if s.get("type") else []


def schema_format(s: dict[str, Any]) -> str:
    """The format, or "" when kube strips it as unsupported."""
    fmt = s.get("format") or ""
    return fmt if fmt and formats.supported(fmt) else ""


# --- the validators ---

def _type_error(name: str, expected: str, actual: str) -> _Err:
    return _Err(TYPE, name, f"{name} in body must be of type {expected}: {go_quote(actual)}", actual)


def _check_type(data: Any, s: dict[str, Any], name: str, types: list[str], fmt: str) -> _Result:
    if data is None:
        if types and "null" not in types and not s.get("nullable"):
            return _only(_type_error(name, ",".join(types), "null"))
        return _Result(1)
    kind = _json_kind(data)
    data_format = {"integer": "int64", "number": "float64"}.get(kind, "")
    float_int = kind == "number" and "integer" in types and is_json_integer(float(data))
    int_float = kind == "integer" and "number" in types
    text_or_list = isinstance(data, str | list)
    if not text_or_list and fmt and not (kind in types or data_format == fmt or float_int or int_float):
        return _only(_type_error(name, fmt, data_format))
    if fmt and text_or_list and not ("number" in types or "integer" in types):
        return _Result(1)
    if not (kind in types or float_int or int_float):
        return _only(_type_error(name, ",".join(types), kind))
    return _Result(1)


def _check_string(data: str, s: dict[str, Any], name: str) -> _Result | None:
    if (max_len := s.get("maxLength")) is not None and len(data) > max_len:
        return _only(_Err(TOO_LONG, name, f"{name} in body should be at most {max_len} chars long", data, max_len))
    if (min_len := s.get("minLength")) is not None and len(data) < min_len:
        return _only(_Err(INVALID, name, f"{name} in body should be at least {min_len} chars long", data))
    if pattern := s.get("pattern"):
        try:
            matched = compile_pattern(pattern)(data)
        except PatternError as err:
            return _only(_Err(INVALID, name, f"{name} in body should match '{pattern}, but pattern is invalid: "
                                             f"{err}'", data))
        if not matched:
            return _only(_Err(INVALID, name, f"{name} in body should match '{pattern}'", data))
    return None


def _check_format(data: str, fmt: str, name: str) -> _Result | None:
    if formats.check(fmt, data):
        return None
    return _only(_type_error(name, fmt, data))


def _multiple_of(data: int | float, factor: float, name: str) -> _Err | None:
    if _is_int64(data):
        whole = _go_int(factor)
        if whole <= 0:
            return _Err(INVALID, name, f"factor MultipleOf declared for {name} must be positive: {whole}", whole)
        if data % whole:
            return _Err(INVALID, name, f"{name} in body should be a multiple of {whole}", data)
        return None
    if factor <= 0:
        return _Err(INVALID, name, f"factor MultipleOf declared for {name} must be positive: {go_float(factor)}",
                    factor)
    quotient = 1 / factor * data if factor < 1 else data / factor
    if not is_json_integer(quotient):
        return _Err(INVALID, name, f"{name} in body should be a multiple of {go_float(factor)}", data)
    return None


def _bound(data: int | float, limit: float, exclusive: bool, name: str, *, upper: bool) -> _Err | None:
    value: int | float = data if _is_int64(data) else float(data)
    bound: int | float = _go_int(limit) if _is_int64(data) else limit
    beyond = (value >= bound if exclusive else value > bound) if upper else (
        value <= bound if exclusive else value < bound)
    if not beyond:
        return None
    relation = ("less than" if upper else "greater than") + ("" if exclusive else " or equal to")
    return _Err(INVALID, name, f"{name} in body should be {relation} {go_number(bound)}", data)


def _check_number(data: int | float, s: dict[str, Any], name: str) -> _Result:
    result = _Result(1)
    checks = (
        ("multipleOf", lambda f: _multiple_of(data, f, name)),
        ("minimum", lambda f: _bound(data, f, bool(s.get("exclusiveMinimum")), name, upper=False)),
        ("maximum", lambda f: _bound(data, f, bool(s.get("exclusiveMaximum")), name, upper=True)),
    )
    for keyword, check in checks:
        if (limit := s.get(keyword)) is not None and (err := check(float(limit))) is not None:
            result.add(err)
    return result


def _check_enum(data: Any, s: dict[str, Any], name: str) -> _Result | None:
    enum = s.get("enum")
    if not enum or any(_enum_match(data, candidate) for candidate in enum):
        return None
    return _only(_Err(ENUM, name, f"{name} in body should be one of {go_json(enum)}", data, enum))


def _unique(items: list[Any]) -> bool:
    return not any(deep_equal(a, b) for i, a in enumerate(items) for b in items[:i])


def _check_array(data: list[Any], s: dict[str, Any], name: str, old: Any, depth: int) -> _Result:
    result = _Result()
    items = s.get("items")
    if isinstance(items, dict):
        for i, item in enumerate(data):
            result.merge(_node(item, items, f"{name}[{i}]", _old_item(s, data, i, old), depth + 1))
    elif isinstance(items, list):
        for i, (item, sub) in enumerate(zip(data, items, strict=False)):
            result.merge(_node(item, sub, f"{name}[{i}]", NO_OLD, depth + 1))
    size = len(data)
    if (min_items := s.get("minItems")) is not None and size < min_items:
        result.add(_Err(INVALID, name, f"{name} in body should have at least {min_items} items", size))
    if (max_items := s.get("maxItems")) is not None and size > max_items:
        result.add(_Err(TOO_MANY, name, f"{name} in body should have at most {max_items} items", size, max_items))
    if s.get("uniqueItems") and not _unique(data):
        result.add(_Err(INVALID, name, f"{name} in body shouldn't contain duplicates"))
    result.count += 1
    return result


def _check_object(data: dict[str, Any], s: dict[str, Any], name: str, old: Any, depth: int) -> _Result:
    result = _Result()
    size = len(data)
    if (min_props := s.get("minProperties")) is not None and size < min_props:
        result.add(_Err(INVALID, name, f"{name} in body should have at least {min_props} properties", size))
    if (max_props := s.get("maxProperties")) is not None and size > max_props:
        result.add(_Err(TOO_MANY, name, f"{name} in body should have at most {max_props} properties", size,
                        max_props))
    props: dict[str, Any] = s.get("properties") or {}
    extra = s.get("additionalProperties")
    if extra is False:
        for key in data:
            if key not in props:
                result.add(_Err(INVALID, name, f"{name}.{key} in body is a forbidden property", key))
    elif isinstance(extra, dict):
        for key, value in data.items():
            if key not in props:
                result.merge(_node(value, extra, f"{name}.{key}", _old_field(name, key, old), depth + 1))
    for prop, sub in props.items():
        if prop in data:
            result.merge(_node(data[prop], sub, child(name, prop), _old_field(name, prop, old), depth + 1))
    for key in s.get("required") or ():
        if key not in data:
            result.add(_Err(REQUIRED, f"{name}.{key}", f"{name}.{key} in body is required"))
    return result


def _check_composition(data: Any, s: dict[str, Any], name: str, old: Any, depth: int) -> _Result:
    main = _Result()
    if not any(s.get(k) for k in ("anyOf", "oneOf", "allOf", "not")):
        main.count += 1
        return main
    quoted = go_quote(name)
    if any_of := s.get("anyOf"):
        best: _Result | None = None
        success: _Result | None = None
        for branch in any_of:
            result = _node(data, branch, name, old, depth + 1, ratchet=False)
            if result.valid:
                best, success = None, result
                break
            if best is None or result.count > best.count:
                best = result
        if success is None:
            main.add(_Err(COMPOSITE, name, f"{quoted} must validate at least one schema (anyOf)"))
        main.merge(best or success)
    if one_of := s.get("oneOf"):
        best, first, matched = None, None, 0
        for branch in one_of:
            result = _node(data, branch, name, old, depth + 1, ratchet=False)
            if result.valid:
                matched += 1
                best, first = None, first or result
            elif matched == 0 and (best is None or result.count > best.count):
                best = result
        if matched != 1:
            found = "Found none valid" if matched == 0 else f"Found {matched} valid alternatives"
            main.add(_Err(COMPOSITE, name, f"{quoted} must validate one and only one schema (oneOf). {found}"))
            main.merge(best)
        else:
            main.merge(first)
    if all_of := s.get("allOf"):
        matched = 0
        for branch in all_of:
            result = _node(data, branch, name, old, depth + 1, ratchet=False)
            matched += result.valid
            main.merge(result)
        if matched != len(all_of):
            none = ". None validated" if matched == 0 else ""
            main.add(_Err(COMPOSITE, name, f"{quoted} must validate all the schemas (allOf){none}"))
    if isinstance(negated := s.get("not"), dict) and _node(data, negated, name, old, depth + 1, ratchet=False).valid:
        main.add(_Err(COMPOSITE, name, f"{quoted} must not validate the schema (not)"))
    main.count += 1
    return main


# --- ratcheting: which old value a child correlates with ---

def _old_field(name: str, key: str, old: Any) -> Any:
    if not isinstance(old, dict) or key not in old or (name == "" and key in _TYPE_META):
        return NO_OLD
    return old[key]


def _map_key(item: Any, keys: list[str]) -> tuple[Any, ...] | None:
    """A list-type=map item's key, when it has scalar values for all its key fields."""
    if not isinstance(item, dict) or not all(k in item for k in keys):
        return None
    values = tuple(item[k] for k in keys)
    if not all(isinstance(v, str | int | float | bool) for v in values):
        return None
    return tuple((_json_kind(v), v) for v in values)


def _old_item(s: dict[str, Any], data: list[Any], i: int, old: Any) -> Any:
    """Only list-type=map items correlate (by key); atomic lists and sets don't, item by item."""
    keys = s.get("x-kubernetes-list-map-keys") or []
    if not isinstance(old, list) or s.get("x-kubernetes-list-type") != "map" or not keys:
        return NO_OLD
    wanted = _map_key(data[i], keys)
    if wanted is None:
        return NO_OLD
    return next((item for item in old if _map_key(item, keys) == wanted), NO_OLD)


# --- one schema node ---

def _node(data: Any, s: dict[str, Any], name: str, old: Any, depth: int, *, ratchet: bool = True) -> _Result:
    """SchemaValidator.Validate for one node (wrapped in a ratcheting validator on updates)."""
    if depth > MAX_DEPTH:
        return _only(_Err(TOO_DEEP, name, f"{name} nests deeper than {MAX_DEPTH} levels"))
    result = _Result()
    types, fmt = schema_types(s), schema_format(s)
    if data is None:
        result.merge(_check_type(None, s, name, types, fmt))
        result.merge(_check_enum(None, s, name))
    else:
        def ran(outcome: _Result | None) -> None:  # a validator that applies to the value counts once
            result.merge(outcome)
            result.count += 1

        if types or fmt:
            ran(_check_type(data, s, name, types, fmt))
        ran(_check_composition(data, s, name, old, depth))
        if isinstance(data, str):
            ran(_check_string(data, s, name))
            if fmt:
                ran(_check_format(data, fmt, name))
        elif isinstance(data, int | float) and not isinstance(data, bool):
            ran(_check_number(data, s, name))
        elif isinstance(data, list):
            ran(_check_array(data, s, name, old, depth))
        ran(_check_enum(data, s, name))
        if isinstance(data, dict):
            ran(_check_object(data, s, name, old, depth))
        result.count += 1
    if ratchet and not result.valid and old is not NO_OLD and deep_equal(data, old):
        return _Result(result.count)  # kube keeps them as warnings, which no one sees
    return result


# --- kube-openapi errors to field errors (apiserver/validation.kubeOpenAPIResultToFieldErrors) ---

def _too_long(path: str, limit: int) -> FieldError:
    return FieldError("FieldValueTooLong", path, f"may not be more than {limit} {'byte' if limit == 1 else 'bytes'}")


def _too_many(path: str, actual: int, limit: int) -> FieldError:
    return FieldError("FieldValueTooMany", path, f"must have at most {limit} {'item' if limit == 1 else 'items'}",
                      actual, True)


def _not_supported(path: str, value: Any, enum: list[Any]) -> FieldError:
    allowed = (v if isinstance(v, str) else go_json(v) for v in enum)
    return FieldError("FieldValueNotSupported", path, "supported values: " + ", ".join(map(go_quote, allowed)),
                      value, True)


def _field_error(err: _Err, prefix: str) -> FieldError:
    if err.code == COMPOSITE:  # not a *errors.Validation: reported on the prefix path with an empty value
        return invalid(shown(prefix), "", err.message)
    name = err.name.removeprefix(".")
    path = shown(child(prefix, name) if err.name and err.name != "." else prefix)
    if err.code == REQUIRED:
        return FieldError("FieldValueRequired", path)
    if err.code == ENUM:
        return _not_supported(path, err.value, err.limit)
    if err.code == TOO_LONG:
        return _too_long(path, err.limit)
    if err.code == TOO_MANY:
        return _too_many(path, err.value, err.limit)
    if err.code == TOO_DEEP:
        return FieldError("FieldValueForbidden", path, f"must not nest deeper than {MAX_DEPTH} levels")
    value = "" if err.value is None else err.value
    if err.code == TYPE:
        return FieldError("FieldValueTypeInvalid", path, err.message, value, True)
    return invalid(path, value, err.message)


def openapi_errors(obj: Any, schema: dict[str, Any], *, path: str = "", old: Any = NO_OLD) -> list[FieldError]:
    """kube's ValidateCustomResource (ValidateCustomResourceUpdate when `old` is given)."""
    result = _node(obj, schema, "", old, 0)
    return [_field_error(err, path) for err in result.errors]
