"""kube's CEL library as celpy functions: strings, lists, sets, regex, quantity, URL, IP, CIDR, semver.

`machinery.cel` registers `FUNCTIONS` in every evaluation. Each entry serves every overload of its name and
dispatches on the receiver's type, since celpy calls `target.f(a)` as `f(target, a)` and has no overload
resolution of its own. A function either returns a value, returns a `CELEvalError` carrying kube's message
(`library_error`), or raises `TypeError`, which celpy turns into `no such overload`.

Behaviour follows k8s.io/apiserver/pkg/cel/library (lists.go, regex.go, quantity.go, urls.go, ip.go, cidr.go,
semver.go) and cel-go's ext strings and sets libraries, written from their documentation and examples.
"""

from __future__ import annotations

import base64
import functools
import ipaddress
import itertools
import math
import operator
import re
import urllib.parse
from collections.abc import Callable
from decimal import Context, Decimal, InvalidOperation
from typing import Any, cast

import re2
from celpy import celtypes
from celpy.evaluation import CELEvalError

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class LibraryError(Exception):
    """Marks a `CELEvalError` whose message is already worded as kube words it."""


def library_error(message: str) -> CELEvalError:
    return CELEvalError(message, LibraryError, (message,))


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool | celtypes.BoolType)


def compare(a: Any, b: Any) -> int:
    """CEL ordering, numbers compared across int, uint and double (kube enables CrossTypeNumericComparisons)."""
    x: Any
    y: Any
    if is_number(a) and is_number(b):
        x, y = (float(a), float(b)) if isinstance(a, float) or isinstance(b, float) else (int(a), int(b))
    elif isinstance(a, celtypes.BoolType) and isinstance(b, celtypes.BoolType):
        x, y = int(a), int(b)
    elif type(a) is type(b) and isinstance(a, str | bytes | celtypes.TimestampType | celtypes.DurationType):
        x, y = a, b
    elif isinstance(a, Semver) and isinstance(b, Semver):
        return a.compare(b)
    else:
        raise TypeError(f"no such overload: {type(a).__name__} < {type(b).__name__}")
    return (x > y) - (x < y)


def equal(a: Any, b: Any) -> bool:
    """CEL heterogeneous equality: numbers compare by value, other mismatched types are simply unequal."""
    if is_number(a) and is_number(b):
        return bool(float(a) == float(b)) if isinstance(a, float) or isinstance(b, float) else int(a) == int(b)
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, celtypes.BoolType) or isinstance(b, celtypes.BoolType):
        return isinstance(a, celtypes.BoolType) and isinstance(b, celtypes.BoolType) and bool(a) == bool(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return len(a) == len(b) and all(k in b and equal(v, b[k]) for k, v in a.items())
    if isinstance(a, str) and isinstance(b, str):
        return str(a) == str(b)
    if isinstance(a, bytes) and isinstance(b, bytes):
        return bytes(a) == bytes(b)
    if type(a) is not type(b):
        return False
    return bool(a == b)


# --- operators -----------------------------------------------------------------------------------------------


def _operator(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], Any]:
    """A CEL operator: errors in either operand pass through, as celpy's own operators do."""

    def apply(a: Any, b: Any) -> Any:
        if isinstance(a, CELEvalError):
            return a
        if isinstance(b, CELEvalError):
            return b
        return celtypes.BoolType(test(a, b))

    return apply


def _in(item: Any, container: Any) -> bool:
    if isinstance(container, dict):
        return any(equal(item, k) for k in container)
    if isinstance(container, list):
        return any(equal(item, v) for v in container)
    raise TypeError("no such overload")


op_eq = _operator(equal)
op_ne = _operator(lambda a, b: not equal(a, b))
op_lt = _operator(lambda a, b: compare(a, b) < 0)
op_le = _operator(lambda a, b: compare(a, b) <= 0)
op_gt = _operator(lambda a, b: compare(a, b) > 0)
op_ge = _operator(lambda a, b: compare(a, b) >= 0)
op_in = _operator(_in)


def make_int(value: int) -> Any:
    """An IntType without celpy's per-call conversion wrapper (the caller has checked the range)."""
    return int.__new__(celtypes.IntType, value)


def _checked_int(value: int) -> Any:
    if not INT64_MIN <= value <= INT64_MAX:
        raise OverflowError("integer overflow")
    return make_int(value)


def _checked_uint(value: int) -> Any:
    if not 0 <= value < 2**64:
        raise OverflowError("unsigned integer overflow")
    return int.__new__(celtypes.UintType, value)


def _go_div(a: int, b: int) -> int:
    quotient = abs(a) // abs(b)
    return quotient if (a < 0) == (b < 0) else -quotient


def _go_mod(a: int, b: int) -> int:
    remainder = abs(a) % abs(b)
    return -remainder if a < 0 else remainder


def _float_div(a: float, b: float) -> float:
    """IEEE division, as Go's: x/0 is an infinity or NaN, not an error."""
    if b == 0:
        return math.nan if a == 0 or a != a else math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


_INT_OPS: dict[str, Callable[[int, int], int]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": _go_div, "%": _go_mod,
}
_FLOAT_OPS: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": _float_div,
}
_SEQUENCE_TYPES = (celtypes.StringType, celtypes.BytesType, celtypes.ListType)


def _arithmetic(symbol: str, fallback: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Integer, uint and double arithmetic as cel-go does it (truncating division, overflow errors), fast;
    everything else (timestamps, durations) through celpy's own operator."""
    int_op, float_op = _INT_OPS.get(symbol), _FLOAT_OPS.get(symbol)

    def apply(a: Any, b: Any) -> Any:
        if isinstance(a, CELEvalError):
            return a
        if isinstance(b, CELEvalError):
            return b
        kind = type(a)
        if kind is not type(b):
            if symbol in "+-" and {kind, type(b)} <= {celtypes.TimestampType, celtypes.DurationType}:
                return fallback(a, b)
            raise TypeError(f"no such overload: {type_name(a)} {symbol} {type_name(b)}")
        if kind is celtypes.IntType and int_op:
            return _checked_int(int_op(int(a), int(b)))
        if kind is celtypes.UintType and int_op:
            return _checked_uint(int_op(int(a), int(b)))
        if kind is celtypes.DoubleType and float_op:
            return celtypes.DoubleType(float_op(float(a), float(b)))
        if kind in _SEQUENCE_TYPES and symbol == "+":
            return kind(fallback(a, b))
        if kind in (celtypes.TimestampType, celtypes.DurationType):
            return fallback(a, b)
        raise TypeError(f"no such overload: {type_name(a)} {symbol} {type_name(b)}")

    return apply


def op_neg(a: Any) -> Any:
    if isinstance(a, CELEvalError):
        return a
    if type(a) is celtypes.IntType:
        return _checked_int(-int(a))
    if type(a) in (celtypes.DoubleType, celtypes.DurationType):
        return -a
    raise TypeError(f"no such overload: -{type_name(a)}")


def to_string(value: Any) -> Any:
    """`string(x)`: CEL spellings for bool and double, kube's for IP and CIDR."""
    if isinstance(value, celtypes.BoolType):
        return celtypes.StringType("true" if value else "false")
    if isinstance(value, IP | CIDR | Semver):
        return celtypes.StringType(str(value))
    if isinstance(value, bytes):
        try:
            return celtypes.StringType(bytes(value).decode("utf-8"))
        except UnicodeDecodeError:
            return library_error("invalid UTF-8 in bytes, cannot convert to string")
    if isinstance(value, celtypes.DoubleType):
        return celtypes.StringType(_double_text(float(value)))
    if isinstance(value, str | int | celtypes.TimestampType | celtypes.DurationType):
        return celtypes.StringType(cast(str, value))
    raise TypeError("no such overload")


def _double_text(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value).removesuffix(".0") if value == int(value) and abs(value) < 1e21 else repr(value)


# --- strings (cel-go ext strings) ----------------------------------------------------------------------------


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("no such overload")
    return str(value)


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool | celtypes.BoolType):
        raise TypeError("no such overload")
    return int(value)


def char_at(s: Any, index: Any) -> Any:
    text, i = _str(s), _int(index)
    if i < 0 or i > len(text):
        return library_error(f"index out of range: {i}")
    return celtypes.StringType(text[i : i + 1])


def index_of(target: Any, item: Any, offset: Any = None) -> Any:
    if isinstance(target, list):
        if offset is not None:
            raise TypeError("no such overload")
        return celtypes.IntType(next((i for i, v in enumerate(target) if equal(v, item)), -1))
    text, sub = _str(target), _str(item)
    start = 0 if offset is None else _int(offset)
    if start < 0 or start > len(text):
        return library_error(f"index out of range: {start}")
    return celtypes.IntType(text.find(sub, start))


def last_index_of(target: Any, item: Any, offset: Any = None) -> Any:
    if isinstance(target, list):
        if offset is not None:
            raise TypeError("no such overload")
        found = [i for i, v in enumerate(target) if equal(v, item)]
        return celtypes.IntType(found[-1] if found else -1)
    text, sub = _str(target), _str(item)
    end = len(text) if offset is None else _int(offset)
    if end < 0 or end > len(text):
        return library_error(f"index out of range: {end}")
    return celtypes.IntType(text.rfind(sub, 0, end + len(sub)))


def lower_ascii(s: Any) -> Any:
    return celtypes.StringType("".join(c.lower() if c.isascii() else c for c in _str(s)))


def upper_ascii(s: Any) -> Any:
    return celtypes.StringType("".join(c.upper() if c.isascii() else c for c in _str(s)))


def replace(s: Any, old: Any, new: Any, count: Any = None) -> Any:
    n = -1 if count is None else _int(count)
    return celtypes.StringType(_str(s).replace(_str(old), _str(new), n))


def split(s: Any, separator: Any, limit: Any = None) -> Any:
    text, sep = _str(s), _str(separator)
    n = -1 if limit is None else _int(limit)
    if n == 0:
        return celtypes.ListType()
    if sep == "":
        parts = list(text) if n < 0 or n > len(text) else [*list(text[: n - 1]), text[n - 1 :]]
    else:
        parts = text.split(sep, n - 1 if n > 0 else -1)
    return celtypes.ListType([celtypes.StringType(p) for p in parts])


def substring(s: Any, start: Any, end: Any = None) -> Any:
    text, i = _str(s), _int(start)
    j = len(text) if end is None else _int(end)
    if i < 0 or i > len(text):
        return library_error(f"index out of range: {i}")
    if j < 0 or j > len(text):
        return library_error(f"index out of range: {j}")
    if i > j:
        return library_error(f"invalid substring range. start: {i}, end: {j}")
    return celtypes.StringType(text[i:j])


def trim(s: Any) -> Any:
    return celtypes.StringType(_str(s).strip())


def join(items: Any, separator: Any = None) -> Any:
    if not isinstance(items, list):
        raise TypeError("no such overload")
    sep = "" if separator is None else _str(separator)
    return celtypes.StringType(sep.join(_str(v) for v in items))


def reverse(target: Any) -> Any:
    if isinstance(target, list):
        return celtypes.ListType(list(reversed(target)))
    return celtypes.StringType(_str(target)[::-1])


def quote(s: Any) -> Any:
    text = _str(s)
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return celtypes.StringType('"' + escaped.replace("\t", "\\t") + '"')


_FORMAT_VERB = re.compile(r"%(?:\.(\d+))?([a-zA-Z%])")


def string_format(template: Any, args: Any) -> Any:
    """`'%s has %d items'.format([name, n])`: the verbs of cel-go's ext strings (%s %d %f %e %b %o %x %X %%)."""
    text = _str(template)
    if not isinstance(args, list):
        raise TypeError("no such overload")
    out: list[str] = []
    position = 0
    index = 0
    for match in _FORMAT_VERB.finditer(text):
        out.append(text[position : match.start()])
        position = match.end()
        precision, verb = match.group(1), match.group(2)
        if verb == "%":
            out.append("%")
            continue
        if index >= len(args):
            return library_error(f"error during formatting: index {index} out of range")
        rendered = _format_one(verb, precision, args[index])
        if isinstance(rendered, CELEvalError):
            return rendered
        out.append(rendered)
        index += 1
    out.append(text[position:])
    return celtypes.StringType("".join(out))


def _format_one(verb: str, precision: str | None, value: Any) -> Any:
    if verb == "s":
        return format_value(value)
    if verb == "d":
        if not is_number(value) or isinstance(value, float):
            return library_error("error during formatting: decimal clause can only be used on integers, was given "
                                 + type_name(value))
        return str(int(value))
    if verb in "fe":
        if not is_number(value):
            return library_error(f"error during formatting: fixed-point clause can only be used on doubles, was "
                                 f"given {type_name(value)}")
        digits = 6 if precision is None else int(precision)
        if verb == "f":
            return f"{float(value):.{digits}f}"
        mantissa, _, exponent = f"{float(value):.{digits}e}".partition("e")
        return f"{mantissa}e{exponent[0]}{exponent[1:].zfill(2)}"
    if verb in "boxX":
        if isinstance(value, str | bytes) and verb in "xX":
            raw = value.encode() if isinstance(value, str) else bytes(value)
            hexed = raw.hex()
            return hexed.upper() if verb == "X" else hexed
        if not is_number(value) or isinstance(value, float):
            return library_error(f"error during formatting: only integers can be formatted with %{verb}, was given "
                                 + type_name(value))
        return format(int(value), {"b": "b", "o": "o", "x": "x", "X": "X"}[verb])
    return library_error(f'error during formatting: unrecognized formatting clause "{verb}"')


def format_value(value: Any) -> str:
    """How `%s` and `string()` print a value."""
    if value is None:
        return "null"
    if isinstance(value, celtypes.BoolType):
        return "true" if value else "false"
    if isinstance(value, celtypes.DoubleType):
        return _double_text(float(value))
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{format_value(k)}: {format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bytes):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def type_name(value: Any) -> str:
    for cls, name in _TYPE_NAMES:
        if isinstance(value, cls):
            return name
    return "null_type" if value is None else type(value).__name__


_TYPE_NAMES: list[tuple[type, str]] = [
    (celtypes.BoolType, "bool"), (celtypes.UintType, "uint"), (celtypes.IntType, "int"),
    (celtypes.DoubleType, "double"), (celtypes.StringType, "string"), (celtypes.BytesType, "bytes"),
    (celtypes.ListType, "list"), (celtypes.MapType, "map"), (celtypes.TimestampType, "google.protobuf.Timestamp"),
    (celtypes.DurationType, "google.protobuf.Duration"),
]


# --- lists (kube lists library and cel-go ext lists) ---------------------------------------------------------


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError("no such overload")
    return value


def is_sorted(items: Any) -> Any:
    values = _list(items)
    return celtypes.BoolType(all(compare(a, b) <= 0 for a, b in itertools.pairwise(values)))


def list_sum(items: Any) -> Any:
    values = _list(items)
    if not values:
        return celtypes.IntType(0)
    total = values[0]
    for value in values[1:]:
        total = total + value
    return total


def _extreme(name: str, items: Any, sign: int) -> Any:
    values = _list(items)
    if not values:
        return library_error(f"{name} called on empty list")
    best = values[0]
    for value in values[1:]:
        if compare(value, best) * sign > 0:
            best = value
    return best


def list_min(items: Any) -> Any:
    return _extreme("min", items, -1)


def list_max(items: Any) -> Any:
    return _extreme("max", items, 1)


def includes(target: Any, item: Any) -> Any:
    if isinstance(target, list):
        return celtypes.BoolType(any(equal(v, item) for v in target))
    return celtypes.BoolType(equal(target, item))


def list_slice(items: Any, start: Any, end: Any) -> Any:
    values, i, j = _list(items), _int(start), _int(end)
    if i < 0 or j < 0:
        return library_error(f"cannot slice({i}, {j}), negative indexes not supported")
    if i > j:
        return library_error(f"cannot slice({i}, {j}), start index must be less than or equal to end index")
    if j > len(values):
        return library_error(f"cannot slice({i}, {j}), list is length {len(values)}")
    return celtypes.ListType(values[i:j])


def flatten(items: Any, depth: Any = None) -> Any:
    levels = 1 if depth is None else _int(depth)
    if levels < 0:
        return library_error("level must be non-negative")
    flat: list[Any] = list(_list(items))
    for _ in range(levels):
        flat = [y for x in flat for y in (x if isinstance(x, list) else [x])]
    return celtypes.ListType(flat)


def distinct(items: Any) -> Any:
    kept: list[Any] = []
    for value in _list(items):
        if not any(equal(value, k) for k in kept):
            kept.append(value)
    return celtypes.ListType(kept)


def sort(items: Any) -> Any:
    return celtypes.ListType(sorted(_list(items), key=functools.cmp_to_key(compare)))


def lists_range(n: Any) -> Any:
    return celtypes.ListType([celtypes.IntType(i) for i in range(_int(n))])


def sets_contains(a: Any, b: Any) -> Any:
    return celtypes.BoolType(all(any(equal(x, y) for y in _list(a)) for x in _list(b)))


def sets_equivalent(a: Any, b: Any) -> Any:
    return celtypes.BoolType(sets_contains(a, b) and sets_contains(b, a))


def sets_intersects(a: Any, b: Any) -> Any:
    return celtypes.BoolType(any(any(equal(x, y) for y in _list(b)) for x in _list(a)))


# --- regex (kube regex library; RE2 as in Go) ----------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _regex(pattern: str) -> Any:
    return re2.compile(pattern)


def _compiled(pattern: Any) -> Any:
    try:
        return _regex(_str(pattern))
    except re2.error as err:
        return library_error(f"error parsing regexp: {err}")


def find(s: Any, pattern: Any) -> Any:
    regex = _compiled(pattern)
    if isinstance(regex, CELEvalError):
        return regex
    match = regex.search(_str(s))
    return celtypes.StringType(match.group(0) if match else "")


def find_all(s: Any, pattern: Any, limit: Any = None) -> Any:
    regex = _compiled(pattern)
    if isinstance(regex, CELEvalError):
        return regex
    n = -1 if limit is None else _int(limit)
    found: list[Any] = []
    for match in regex.finditer(_str(s)):
        if 0 <= n <= len(found):
            break
        found.append(celtypes.StringType(match.group(0)))
    return celtypes.ListType(found)


def matches(s: Any, pattern: Any) -> Any:
    regex = _compiled(pattern)
    if isinstance(regex, CELEvalError):
        return regex
    return celtypes.BoolType(regex.search(_str(s)) is not None)


# --- quantity (resource.Quantity) ----------------------------------------------------------------------------

_QUANTITY = re.compile(r"^([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$")
_SUFFIX_SCALE = {
    "": Decimal(1), "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "k": Decimal("1e3"),
    "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"), "P": Decimal("1e15"), "E": Decimal("1e18"),
    "Ki": Decimal(2**10), "Mi": Decimal(2**20), "Gi": Decimal(2**30), "Ti": Decimal(2**40), "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}
# Exact arithmetic on any quantity a request can carry; resource.Quantity is exact too (inf.Dec).
_DECIMAL = Context(prec=200, Emax=10**6, Emin=-(10**6))


class Quantity:
    """A parsed `resource.Quantity`; compared by value, so quantity('1k') == quantity('1000')."""

    __slots__ = ("text", "value")

    def __init__(self, value: Decimal, text: str) -> None:
        self.value = value
        self.text = text

    @classmethod
    def parse(cls, text: str) -> Quantity | None:
        match = _QUANTITY.match(text)
        if not match:
            return None
        number, suffix = match.group(1), match.group(2) or ""
        try:
            if suffix[:1] in ("e", "E"):
                value = _DECIMAL.multiply(Decimal(number), _DECIMAL.power(Decimal(10), Decimal(int(suffix[1:]))))
            else:
                value = _DECIMAL.multiply(Decimal(number), _SUFFIX_SCALE[suffix])
        except (InvalidOperation, ValueError, OverflowError):
            return None
        return cls(value, text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Quantity) and self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Quantity({self.text!r})"


def _quantity(value: Any) -> Quantity:
    if not isinstance(value, Quantity):
        raise TypeError("no such overload")
    return value


def _quantity_operand(value: Any) -> Decimal:
    if isinstance(value, Quantity):
        return value.value
    return Decimal(_int(value))


def quantity(s: Any) -> Any:
    text = _str(s)
    parsed = Quantity.parse(text)
    if parsed is None:
        return library_error("quantities must match the regular expression "
                             "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
    return parsed


def is_quantity(s: Any) -> Any:
    return celtypes.BoolType(Quantity.parse(_str(s)) is not None)


def _new_quantity(value: Decimal) -> Quantity:
    return Quantity(value, format(value.normalize(_DECIMAL), "f"))


def sign(target: Any) -> Any:
    value = _quantity(target).value
    return celtypes.IntType((value > 0) - (value < 0))


def is_greater_than(a: Any, b: Any) -> Any:
    if isinstance(a, Semver):
        return celtypes.BoolType(a.compare(_semver(b)) > 0)
    return celtypes.BoolType(_quantity(a).value > _quantity(b).value)


def is_less_than(a: Any, b: Any) -> Any:
    if isinstance(a, Semver):
        return celtypes.BoolType(a.compare(_semver(b)) < 0)
    return celtypes.BoolType(_quantity(a).value < _quantity(b).value)


def compare_to(a: Any, b: Any) -> Any:
    if isinstance(a, Semver):
        return celtypes.IntType(a.compare(_semver(b)))
    x, y = _quantity(a).value, _quantity(b).value
    return celtypes.IntType((x > y) - (x < y))


def as_approximate_float(target: Any) -> Any:
    return celtypes.DoubleType(float(_quantity(target).value))


def _as_int64(value: Decimal) -> int | None:
    if value != value.to_integral_value(context=_DECIMAL):
        return None
    integer = int(value)
    return integer if INT64_MIN <= integer <= INT64_MAX else None


def as_integer(target: Any) -> Any:
    integer = _as_int64(_quantity(target).value)
    if integer is None:
        return library_error("cannot convert value to integer")
    return celtypes.IntType(integer)


def is_integer(target: Any) -> Any:
    return celtypes.BoolType(_as_int64(_quantity(target).value) is not None)


def add(target: Any, other: Any) -> Any:
    return _new_quantity(_DECIMAL.add(_quantity(target).value, _quantity_operand(other)))


def sub(target: Any, other: Any) -> Any:
    return _new_quantity(_DECIMAL.subtract(_quantity(target).value, _quantity_operand(other)))


def mul(target: Any, factor: Any) -> Any:
    return _new_quantity(_DECIMAL.multiply(_quantity(target).value, Decimal(_int(factor))))


# --- URLs (Go's url.ParseRequestURI, then url.Parse) ---------------------------------------------------------

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class URL:
    __slots__ = ("parts",)

    def __init__(self, parts: urllib.parse.SplitResult) -> None:
        self.parts = parts

    def __eq__(self, other: object) -> bool:
        return isinstance(other, URL) and self.parts == other.parts

    def __hash__(self) -> int:
        return hash(self.parts)

    def __str__(self) -> str:
        return urllib.parse.urlunsplit(self.parts)

    def host_and_port(self) -> tuple[str, str]:
        netloc = self.parts.netloc.rpartition("@")[2]
        if netloc.startswith("["):
            host, _, rest = netloc[1:].partition("]")
            return host, rest.removeprefix(":")
        host, _, port = netloc.partition(":")
        return host, port


def _url_problem(text: str) -> str | None:
    """Why Go's ParseRequestURI refuses `text`, or None."""
    if text == "":
        return "empty url"
    if _CONTROL.search(text):
        return "net/url: invalid control character in URL"
    if not text.startswith("/") and not _SCHEME.match(text):
        return "invalid URI for request"
    parts = urllib.parse.urlsplit(text)
    netloc = parts.netloc.rpartition("@")[2]
    if netloc.startswith("["):
        _, closed, port = netloc[1:].partition("]")
        if not closed:
            return "missing ']' in host"
        port = port.removeprefix(":") if port.startswith(":") else port
        if port and not port.isdigit():
            return f'invalid port ":{port}" after host'
        return None
    if ":" in netloc:
        port = netloc.partition(":")[2]
        if port and not port.isdigit():
            return f'invalid port ":{port}" after host'
    if " " in netloc:
        return 'invalid character " " in host name'
    return None


def url(s: Any) -> Any:
    text = _str(s)
    problem = _url_problem(text)
    if problem:
        return library_error(f'URL parse error during conversion from string: parse "{text}": {problem}')
    return URL(urllib.parse.urlsplit(text))


def is_url(s: Any) -> Any:
    return celtypes.BoolType(_url_problem(_str(s)) is None)


def _url(value: Any) -> URL:
    if not isinstance(value, URL):
        raise TypeError("no such overload")
    return value


def get_scheme(target: Any) -> Any:
    return celtypes.StringType(_url(target).parts.scheme)


def get_host(target: Any) -> Any:
    return celtypes.StringType(_url(target).parts.netloc.rpartition("@")[2])


def get_hostname(target: Any) -> Any:
    return celtypes.StringType(_url(target).host_and_port()[0])


def get_port(target: Any) -> Any:
    return celtypes.StringType(_url(target).host_and_port()[1])


_VALID_ESCAPED = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@\[\]/]|%[0-9A-Fa-f]{2})*$")


def get_escaped_path(target: Any) -> Any:
    path = _url(target).parts.path
    if _VALID_ESCAPED.match(path):
        return celtypes.StringType(path)
    return celtypes.StringType(urllib.parse.quote(urllib.parse.unquote(path), safe="/$&+,:;=@-._~"))


def get_query(target: Any) -> Any:
    query = urllib.parse.parse_qs(_url(target).parts.query, keep_blank_values=True)
    return celtypes.MapType({celtypes.StringType(k): celtypes.ListType([celtypes.StringType(v) for v in vs])
                             for k, vs in query.items()})


# --- IP addresses and CIDRs (kube net library: no zones, no IPv4-mapped IPv6) --------------------------------

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface


class IP:
    __slots__ = ("address",)

    def __init__(self, address: _IPAddress) -> None:
        self.address = address

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IP) and self.address == other.address

    def __hash__(self) -> int:
        return hash(self.address)

    def __str__(self) -> str:
        return str(self.address)


class CIDR:
    __slots__ = ("interface",)

    def __init__(self, interface: _IPInterface) -> None:
        self.interface = interface

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CIDR) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __str__(self) -> str:
        return f"{self.interface.ip}/{self.interface.network.prefixlen}"


def _parse_ip(text: str) -> _IPAddress | str:
    if "%" in text:
        return f"IP address {_go_quote(text)} with zone value is not allowed"
    try:
        address = ipaddress.ip_address(text)
    except ValueError as err:
        return f"IP Address {_go_quote(text)} parse error during conversion from string: {err}"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return f"IPv4-mapped IPv6 address {_go_quote(text)} is not allowed"
    return address


def _parse_cidr(text: str) -> _IPInterface | str:
    address, slash, bits = text.partition("/")
    if not slash or not bits.isdigit() or (len(bits) > 1 and bits.startswith("0")):
        return f"network address {_go_quote(text)} parse error during conversion from string: netip.ParsePrefix(" \
               f"{_go_quote(text)}): bad bits after slash: {_go_quote(bits)}"
    parsed = _parse_ip(address)
    if isinstance(parsed, str):
        return parsed
    try:
        return ipaddress.ip_interface(f"{parsed}/{bits}")
    except ValueError as err:
        return f"network address {_go_quote(text)} parse error during conversion from string: {err}"


def _go_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def ip(s: Any) -> Any:
    if isinstance(s, CIDR):
        return IP(s.interface.ip)
    parsed = _parse_ip(_str(s))
    return library_error(parsed) if isinstance(parsed, str) else IP(parsed)


def is_ip(s: Any) -> Any:
    return celtypes.BoolType(not isinstance(_parse_ip(_str(s)), str))


def ip_is_canonical(s: Any) -> Any:
    text = _str(s)
    parsed = _parse_ip(text)
    if isinstance(parsed, str):
        return library_error(parsed)
    return celtypes.BoolType(str(parsed) == text)


def _ip(value: Any) -> _IPAddress:
    if not isinstance(value, IP):
        raise TypeError("no such overload")
    return value.address


def family(target: Any) -> Any:
    if isinstance(target, CIDR):
        return celtypes.IntType(target.interface.version)
    return celtypes.IntType(_ip(target).version)


def is_unspecified(target: Any) -> Any:
    return celtypes.BoolType(_ip(target).is_unspecified)


def is_loopback(target: Any) -> Any:
    return celtypes.BoolType(_ip(target).is_loopback)


def is_link_local_multicast(target: Any) -> Any:
    address = _ip(target)
    if address.version == 4:
        return celtypes.BoolType(address in ipaddress.ip_network("224.0.0.0/24"))
    return celtypes.BoolType(address.packed[0] == 0xFF and address.packed[1] & 0x0F == 0x02)


def is_link_local_unicast(target: Any) -> Any:
    address = _ip(target)
    network = "169.254.0.0/16" if address.version == 4 else "fe80::/10"
    return celtypes.BoolType(address in ipaddress.ip_network(network))


def is_global_unicast(target: Any) -> Any:
    address = _ip(target)
    broadcast = address.version == 4 and int(address) == 0xFFFFFFFF
    return celtypes.BoolType(not (address.is_unspecified or address.is_loopback or address.is_multicast
                                  or bool(is_link_local_unicast(target)) or broadcast))


def cidr(s: Any) -> Any:
    parsed = _parse_cidr(_str(s))
    return library_error(parsed) if isinstance(parsed, str) else CIDR(parsed)


def is_cidr(s: Any) -> Any:
    return celtypes.BoolType(not isinstance(_parse_cidr(_str(s)), str))


def _cidr(value: Any) -> CIDR:
    if not isinstance(value, CIDR):
        raise TypeError("no such overload")
    return value


def contains_ip(target: Any, other: Any) -> Any:
    network = _cidr(target).interface.network
    address = other.address if isinstance(other, IP) else _parse_ip(_str(other))
    if isinstance(address, str):
        return library_error(address)
    return celtypes.BoolType(address.version == network.version and address in network)


def contains_cidr(target: Any, other: Any) -> Any:
    network = _cidr(target).interface.network
    inner = other.interface if isinstance(other, CIDR) else _parse_cidr(_str(other))
    if isinstance(inner, str):
        return library_error(inner)
    if inner.version != network.version:
        return celtypes.BoolType(False)
    return celtypes.BoolType(inner.network.prefixlen >= network.prefixlen and inner.ip in network)


def masked(target: Any) -> Any:
    network = _cidr(target).interface.network
    return CIDR(ipaddress.ip_interface(str(network)))


def prefix_length(target: Any) -> Any:
    return celtypes.IntType(_cidr(target).interface.network.prefixlen)


# --- semver (blang/semver as kube uses it) -------------------------------------------------------------------

_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                     r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
                     r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$")


class Semver:
    __slots__ = ("build", "major", "minor", "patch", "pre")

    def __init__(self, major: int, minor: int, patch: int, pre: tuple[str, ...], build: str) -> None:
        self.major, self.minor, self.patch, self.pre, self.build = major, minor, patch, pre, build

    @classmethod
    def parse(cls, text: str, *, normalize: bool = False) -> Semver | None:
        if normalize:
            text = _normalize_semver(text)
        match = _SEMVER.match(text)
        if not match:
            return None
        pre = tuple(match.group(4).split(".")) if match.group(4) else ()
        return cls(int(match.group(1)), int(match.group(2)), int(match.group(3)), pre, match.group(5) or "")

    def compare(self, other: Semver) -> int:
        mine, theirs = (self.major, self.minor, self.patch), (other.major, other.minor, other.patch)
        if mine != theirs:
            return (mine > theirs) - (mine < theirs)
        if not self.pre or not other.pre:
            return (not self.pre) - (not other.pre)
        for a, b in zip(self.pre, other.pre, strict=False):
            if a == b:
                continue
            if a.isdigit() and b.isdigit():
                return (int(a) > int(b)) - (int(a) < int(b))
            if a.isdigit() or b.isdigit():
                return -1 if a.isdigit() else 1
            return (a > b) - (a < b)
        return (len(self.pre) > len(other.pre)) - (len(self.pre) < len(other.pre))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Semver) and self.compare(other) == 0

    def __hash__(self) -> int:
        return hash((self.major, self.minor, self.patch, self.pre))

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        text += "-" + ".".join(self.pre) if self.pre else ""
        return text + ("+" + self.build if self.build else "")


def _normalize_semver(text: str) -> str:
    """kube's semver(s, true): drop a leading v, pad missing minor and patch, strip leading zeros."""
    text = text.removeprefix("v")
    cut = min((i for i in (text.find("-"), text.find("+")) if i >= 0), default=len(text))
    core, rest = text[:cut].split("."), text[cut:]
    if len(core) > 3:
        return text
    parts = [(p.lstrip("0") or "0") if p.isdigit() else p for p in core] + ["0"] * (3 - len(core))
    return ".".join(parts) + rest


def _semver(value: Any) -> Semver:
    if not isinstance(value, Semver):
        raise TypeError("no such overload")
    return value


def semver(s: Any, normalize: Any = None) -> Any:
    text = _str(s)
    parsed = Semver.parse(text, normalize=bool(normalize))
    if parsed is None:
        return library_error(f"Semver parse error during conversion from string: invalid semver {text!r}")
    return parsed


def is_semver(s: Any, normalize: Any = None) -> Any:
    return celtypes.BoolType(Semver.parse(_str(s), normalize=bool(normalize)) is not None)


def major(target: Any) -> Any:
    return celtypes.IntType(_semver(target).major)


def minor(target: Any) -> Any:
    return celtypes.IntType(_semver(target).minor)


def patch(target: Any) -> Any:
    return celtypes.IntType(_semver(target).patch)


# --- optionals (only what optionalOldSelf needs) -------------------------------------------------------------


class Optional:
    """cel-go's optional_type, as much of it as `optionalOldSelf` rules use: hasValue(), value(), orValue()."""

    __slots__ = ("present", "wrapped")

    def __init__(self, wrapped: Any = None, *, present: bool) -> None:
        self.wrapped, self.present = wrapped, present

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Optional) and self.present == other.present
                and (not self.present or equal(self.wrapped, other.wrapped)))

    def __hash__(self) -> int:
        return hash(self.present)


def _optional(value: Any) -> Optional:
    if not isinstance(value, Optional):
        raise TypeError("no such overload")
    return value


def has_value(target: Any) -> Any:
    return celtypes.BoolType(_optional(target).present)


def optional_value(target: Any) -> Any:
    opt = _optional(target)
    return opt.wrapped if opt.present else library_error("optional.none() dereference")


def or_value(target: Any, fallback: Any) -> Any:
    opt = _optional(target)
    return opt.wrapped if opt.present else fallback


def optional_of(value: Any) -> Any:
    return Optional(value, present=True)


def optional_none() -> Any:
    return Optional(present=False)


def base64_encode(value: Any) -> Any:
    if not isinstance(value, bytes):
        raise TypeError("no such overload")
    return celtypes.StringType(base64.b64encode(bytes(value)).decode())


def base64_decode(value: Any) -> Any:
    try:
        return celtypes.BytesType(base64.b64decode(_str(value), validate=True))
    except ValueError as err:
        return library_error(f"illegal base64 data: {err}")


FUNCTIONS: dict[str, Callable[..., Any]] = {
    # operators: heterogeneous numeric equality and ordering
    "_==_": op_eq, "_!=_": op_ne, "_<_": op_lt, "_<=_": op_le, "_>_": op_gt, "_>=_": op_ge, "_in_": op_in,
    "_+_": _arithmetic("+", operator.add), "_-_": _arithmetic("-", operator.sub),
    "_*_": _arithmetic("*", operator.mul), "_/_": _arithmetic("/", operator.truediv),
    "_%_": _arithmetic("%", operator.mod), "-_": op_neg,
    "string": to_string, "matches": matches,
    # strings
    "charAt": char_at, "indexOf": index_of, "lastIndexOf": last_index_of, "lowerAscii": lower_ascii,
    "upperAscii": upper_ascii, "replace": replace, "split": split, "substring": substring, "trim": trim,
    "join": join, "reverse": reverse, "format": string_format, "strings.quote": quote,
    # lists and sets
    "isSorted": is_sorted, "sum": list_sum, "min": list_min, "max": list_max, "includes": includes,
    "slice": list_slice, "flatten": flatten, "distinct": distinct, "sort": sort, "lists.range": lists_range,
    "sets.contains": sets_contains, "sets.equivalent": sets_equivalent, "sets.intersects": sets_intersects,
    # regex
    "find": find, "findAll": find_all,
    # quantity
    "quantity": quantity, "isQuantity": is_quantity, "sign": sign, "isGreaterThan": is_greater_than,
    "isLessThan": is_less_than, "compareTo": compare_to, "asApproximateFloat": as_approximate_float,
    "asInteger": as_integer, "isInteger": is_integer, "add": add, "sub": sub, "mul": mul,
    # URLs
    "url": url, "isURL": is_url, "getScheme": get_scheme, "getHost": get_host, "getHostname": get_hostname,
    "getPort": get_port, "getEscapedPath": get_escaped_path, "getQuery": get_query,
    # IP and CIDR
    "ip": ip, "isIP": is_ip, "ip.isCanonical": ip_is_canonical, "family": family,
    "isUnspecified": is_unspecified, "isLoopback": is_loopback, "isLinkLocalMulticast": is_link_local_multicast,
    "isLinkLocalUnicast": is_link_local_unicast, "isGlobalUnicast": is_global_unicast, "cidr": cidr,
    "isCIDR": is_cidr, "containsIP": contains_ip, "containsCIDR": contains_cidr, "masked": masked,
    "prefixLength": prefix_length,
    # semver
    "semver": semver, "isSemver": is_semver, "major": major, "minor": minor, "patch": patch,
    # optionals and encoders
    "hasValue": has_value, "value": optional_value, "orValue": or_value, "optional.of": optional_of,
    "optional.none": optional_none, "base64.encode": base64_encode, "base64.decode": base64_decode,
}
