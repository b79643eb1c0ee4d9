"""Kubernetes JSONPath: the dialect of client-go's `util/jsonpath`, as CRD printer columns and kubectl use it.

kube's JSONPath is not RFC 9535 nor Goessner's: fields are `.name` (a backslash escapes a terminator,
`.metadata.labels.app\\.kubernetes\\.io/name`), `['key']` takes single quotes only, `[i]`, `[a:b:step]` and `[-1:]`
slice (an out-of-range index is an error, not an empty result), `[*]` and `.*` are wildcards, `..` is recursive
descent, `[a,b]` is a union and `[?(@.type=="Ready")]` a filter (`==`, `!=`, `<`, `<=`, `>`, `>=`, or a bare path
for "exists"). Comparisons follow Go's `text/template`: an int never equals a float, a bool has no order, and a
comparison of incompatible values fails the whole evaluation. `jsonpath-ng` differs on each of these, hence this
small parser and evaluator after `parser.go` and `jsonpath.go` (client-go, Kubernetes 1.35).

Objects are plain JSON values (dict, list, str, int, float, bool, None). Go walks maps in random order; here a
mapping's insertion order is used. `{range}`/`{end}` templates are not supported (printer columns never need them).
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["JSONPath", "JSONPathError", "compile", "to_text"]


class JSONPathError(ValueError):
    """A JSONPath that does not parse, or whose evaluation fails; the message is client-go's."""


# --- nodes --------------------------------------------------------------------------------------------------------


@dataclass
class _List:
    nodes: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class _Text:
    text: str


@dataclass(frozen=True)
class _Field:
    name: str


@dataclass(frozen=True)
class _Param:
    value: int = 0
    known: bool = False
    derived: bool = False  # the end of `[i]`, i+1: `[-1]` means up to the end


@dataclass(frozen=True)
class _Array:
    params: tuple[_Param, _Param, _Param]


@dataclass(frozen=True)
class _Filter:
    left: _List
    right: _List
    operator: str  # "==", "!=", "<", "<=", ">", ">=", or "exists"


@dataclass(frozen=True)
class _Literal:
    value: int | float | bool  # IntNode, FloatNode, BoolNode


@dataclass(frozen=True)
class _Wildcard:
    pass


@dataclass(frozen=True)
class _Recursive:
    pass


@dataclass(frozen=True)
class _Union:
    lists: tuple[_List, ...]


@dataclass(frozen=True)
class _Identifier:
    name: str  # "range", "end", or an unknown word (an error when evaluated)


# --- parser -------------------------------------------------------------------------------------------------------

_EOF = ""
_TERMINATORS = frozenset(" \t\r\n.,[]$@{}")
_DICT_KEY = re.compile(r"'([^']*)'")
_SLICE = re.compile(r"(-?[0-9]*)(:-?[0-9]*)?(:-?[0-9]*)?")
_COMPARISON = re.compile(r"([^!<>=]+)([!<>=]+)(.+?)")
_ATOI = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")
_INT64 = 2**63


def _is_terminator(r: str) -> bool:
    return r == _EOF or r in _TERMINATORS


def _is_digit(r: str) -> bool:
    return r != _EOF and unicodedata.category(r) == "Nd"  # unicode.IsDigit


def _is_alphanumeric(r: str) -> bool:
    return r == "_" or (r != _EOF and unicodedata.category(r)[0] == "L") or _is_digit(r)


def _go_rune(r: str) -> str:
    """Go's %#U: `U+002A '*'`."""
    return f"U+{ord(r):04X} '{r}'" if r.isprintable() else f"U+{ord(r):04X}"


class _Parser:
    """parser.go's scanner over a template: text, and actions between `{` and `}`."""

    def __init__(self, text: str) -> None:
        self.input = text
        self.pos = self.start = self.width = 0
        self.root = _List()

    def parse(self) -> _List:
        while (action := self._text()) is not None:
            self._inside_action(action)
        return self.root

    # scanning

    def _consume(self) -> str:
        value = self.input[self.start:self.pos]
        self.start = self.pos
        return value

    def _next(self) -> str:
        if self.pos >= len(self.input):
            self.width = 0
            return _EOF
        self.width = 1
        self.pos += 1
        return self.input[self.pos - 1]

    def _peek(self) -> str:
        r = self._next()
        self.pos -= self.width
        return r

    def _backup(self) -> None:
        self.pos -= self.width

    def _at(self, prefix: str) -> bool:
        return self.input.startswith(prefix, self.pos)

    # text and actions

    def _text(self) -> _List | None:
        """parseText: plain text up to the next `{`; the new action's list, or None at the end."""
        while not self._at("{"):
            if self._next() == _EOF:
                if self.pos > self.start:
                    self.root.nodes.append(_Text(self._consume()))
                return None
        if self.pos > self.start:
            self.root.nodes.append(_Text(self._consume()))
        self.pos += 1
        self._consume()
        action = _List()
        self.root.nodes.append(action)
        return action

    def _inside_action(self, cur: _List) -> None:
        """parseInsideAction, as a loop: returns once the closing `}` is consumed."""
        while True:
            if self._at("}"):
                self.pos += 1
                self._consume()
                return
            if self._at("[?("):
                self._filter(cur)
                continue
            if self._at(".."):
                self._recursive(cur)
                continue
            r = self._next()
            if r == _EOF or r in "\r\n":
                raise JSONPathError("unclosed action")
            if r in " @$":
                self._consume()  # a space, or the current object: nothing to do
            elif r == "[":
                self._array(cur)
            elif r in "\"'":
                self._quote(cur, r)
            elif r == ".":
                self._field(cur)
            elif r in "+-" or _is_digit(r):
                self._backup()
                self._number(cur)
            elif _is_alphanumeric(r):
                self._backup()
                self._identifier(cur)
            else:
                raise JSONPathError(f"unrecognized character in action: {_go_rune(r)}")

    def _identifier(self, cur: _List) -> None:
        while not _is_terminator(self._next()):
            pass
        self._backup()
        value = self._consume()
        cur.nodes.append(_Literal(value == "true") if value in ("true", "false") else _Identifier(value))

    def _recursive(self, cur: _List) -> None:
        if cur.nodes and isinstance(cur.nodes[-1], _Recursive):
            raise JSONPathError("invalid multiple recursive descent")
        self.pos += 2
        self._consume()
        cur.nodes.append(_Recursive())
        if _is_alphanumeric(self._peek()):
            self._field(cur)

    def _number(self, cur: _List) -> None:
        if self._peek() in ("+", "-"):
            self._next()
        while True:
            r = self._next()
            if r != "." and not _is_digit(r):
                self._backup()
                break
        value = self._consume()
        if _ATOI.fullmatch(value) and -_INT64 <= int(value) < _INT64:  # strconv.Atoi
            cur.nodes.append(_Literal(int(value)))
        elif _FLOAT.fullmatch(value) and not math.isinf(float(value)):  # strconv.ParseFloat
            cur.nodes.append(_Literal(float(value)))
        else:
            raise JSONPathError(f"cannot parse number {value}")

    def _array(self, cur: _List) -> None:
        while (r := self._next()) != "]":
            if r in (_EOF, "\n"):
                raise JSONPathError("unterminated array")
        text = self._consume()[1:-1]
        if text == "*":
            text = ":"
        parts = text.split(",")
        if len(parts) > 1:
            cur.nodes.append(_Union(tuple(_parse_action(f"[{p.strip(' ')}]") for p in parts)))
            return
        if key := _DICT_KEY.fullmatch(text):
            cur.nodes.extend(_parse_action(f".{key[1]}").nodes)
            return
        cur.nodes.append(_Array(_slice_params(text)))

    def _filter(self, cur: _List) -> None:
        self.pos += 3
        self._consume()
        begin = end = False
        pair = ""
        while True:
            r = self._next()
            if r in (_EOF, "\n"):
                raise JSONPathError("unterminated filter")
            if r in "\"'":
                if not begin:
                    begin, pair = True, r
                    continue
                if self.input[self.pos - 2] != "\\" and r == pair:
                    end = True
            elif r == ")" and begin == end:  # a `)` inside one quoted string does not close the filter
                break
        if self._next() != "]":
            raise JSONPathError("unclosed array expect ]")
        text = self._consume()[:-2]
        if comparison := _COMPARISON.fullmatch(text):
            left, operator, right = comparison.groups()
            cur.nodes.append(_Filter(_parse_action(left), _parse_action(right), operator))
        else:
            cur.nodes.append(_Filter(_parse_action(text), _List(), "exists"))

    def _quote(self, cur: _List, end: str) -> None:
        while True:
            r = self._next()
            if r in (_EOF, "\n"):
                raise JSONPathError("unterminated quoted string")
            if r == end and self.input[self.pos - 2] != "\\":
                break
        value = self._consume()
        cur.nodes.append(_Text(_unquote(value)))

    def _field(self, cur: _List) -> None:
        self._consume()
        while True:  # advance: up to the next terminator not escaped by a backslash
            r = self._next()
            if r == "\\":
                self._next()
            elif _is_terminator(r):
                self._backup()
                break
        value = self._consume()
        cur.nodes.append(_Wildcard() if value == "*" else _Field(value.replace("\\", "")))


def _parse_action(text: str) -> _List:
    """parseAction: `text` parsed as one action; what follows a stray `}` is dropped, as in client-go."""
    node = _Parser("{" + text + "}").parse().nodes[0]
    assert isinstance(node, _List)
    return node


def _slice_params(text: str) -> tuple[_Param, _Param, _Param]:
    match = _SLICE.fullmatch(text)
    if match is None:
        raise JSONPathError(f"invalid array index {text}")
    params: list[_Param] = []
    for i, raw in enumerate(g or "" for g in match.groups()):
        value = raw[1:] if i > 0 else raw
        if raw and not (i > 0 and value == ""):
            if not _ATOI.fullmatch(value) or not -_INT64 <= int(value) < _INT64:
                raise JSONPathError(f"array index {value} is not a number")
            params.append(_Param(int(value), known=True))
        elif not raw and i == 1:
            params.append(_Param(params[0].value + 1, known=True, derived=True))
        else:
            params.append(_Param())
    return params[0], params[1], params[2]


_SIMPLE_ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92}
_HEX_DIGITS = {"x": 2, "u": 4, "U": 8}


def _unquote(quoted: str) -> str:
    """UnquoteExtend: strconv.Unquote for single- or double-quoted strings."""
    quote, inner = quoted[0], quoted[1:-1]
    if "\\" not in inner and quote not in inner:
        return inner
    out, i = bytearray(), 0
    try:
        while i < len(inner):
            c = inner[i]
            if c == quote:
                raise ValueError
            if c != "\\":
                out += c.encode()
                i += 1
                continue
            e = inner[i + 1]
            i += 2
            if e in _SIMPLE_ESCAPES:
                out.append(_SIMPLE_ESCAPES[e])
            elif e in "'\"":
                if e != quote:
                    raise ValueError
                out += e.encode()
            elif e in _HEX_DIGITS:
                digits = inner[i:i + _HEX_DIGITS[e]]
                if len(digits) != _HEX_DIGITS[e] or not re.fullmatch(r"[0-9a-fA-F]+", digits):
                    raise ValueError
                i += len(digits)
                if e == "x":
                    out.append(int(digits, 16))
                else:
                    out += chr(int(digits, 16)).encode()  # a surrogate or > U+10FFFF fails here
            elif e in "01234567":
                digits = inner[i - 1:i + 2]
                if not re.fullmatch(r"[0-7]{3}", digits) or int(digits, 8) > 255:
                    raise ValueError
                i += 2
                out.append(int(digits, 8))
            else:
                raise ValueError
    except (ValueError, IndexError, UnicodeEncodeError):
        raise JSONPathError(f"unquote string {quoted} error invalid syntax") from None
    return out.decode("utf-8", "surrogateescape")


# --- evaluation ---------------------------------------------------------------------------------------------------


class _Byte(int):
    """A byte of a string, what Go's reflection yields when a wildcard or `..` walks into a string (a uint8)."""


class _EvalError(JSONPathError):
    """An evaluation error carrying what the failing step returned with it (an exists-filter still looks at it)."""

    def __init__(self, message: str, partial: list[Any]) -> None:
        super().__init__(message)
        self.partial = partial


def _children(value: Any) -> list[Any]:
    """What a wildcard yields: a mapping's values, a list's items, a string's bytes."""
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return list(value)
    if isinstance(value, str):
        return [_Byte(b) for b in value.encode()]
    return []


def _go_type(value: Any) -> str:
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, _Byte):
        return "uint8"
    if isinstance(value, int):
        return "int64"
    return {str: "string", float: "float64"}.get(type(value), "interface {}")


def _go_print(value: Any) -> str:
    """fmt's %v of a JSON value (error messages only)."""
    if value is None:
        return "<nil>"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_print(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go_print(v) for v in value) + "]"
    return to_text(value)


_BAD_TYPE = "invalid type for comparison"
_INCOMPATIBLE = "incompatible types for comparison"


def _kind(value: Any) -> str:
    """text/template's basicKind; anything else (a map, a list, null) cannot be compared."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, _Byte):
        return "uint"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    raise ValueError(_BAD_TYPE)


def _comparable(left: Any, right: Any) -> tuple[str, str]:
    k1, k2 = _kind(left), _kind(right)
    if k1 != k2 and {k1, k2} != {"int", "uint"}:  # signed and unsigned integers compare by value
        raise ValueError(_INCOMPATIBLE)
    return k1, k2


def _equal(left: Any, right: Any) -> bool:
    _comparable(left, right)
    return bool(left == right)


def _less(left: Any, right: Any) -> bool:
    k1, _ = _comparable(left, right)
    if k1 == "bool":
        raise ValueError(_BAD_TYPE)
    return bool(left < right)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": _equal,
    "!=": lambda a, b: not _equal(a, b),
    "<": _less,
    "<=": lambda a, b: _less(a, b) or _equal(a, b),
    ">": lambda a, b: not (_less(a, b) or _equal(a, b)),
    ">=": lambda a, b: not _less(a, b),
}


class _Evaluator:
    """jsonpath.go's walk over one parsed template."""

    def __init__(self, allow_missing_keys: bool) -> None:
        self.allow_missing_keys = allow_missing_keys

    def walk(self, values: list[Any], node: Any) -> list[Any]:
        match node:
            case _List():
                return self.eval_list(values, node)
            case _Text(text):
                return [text]
            case _Field():
                return self.eval_field(values, node)
            case _Array():
                return self.eval_array(values, node)
            case _Filter():
                return self.eval_filter(values, node)
            case _Literal(value):
                return [value] * len(values)
            case _Wildcard():
                return [child for v in values for child in _children(v)]
            case _Recursive():
                return list(self.eval_recursive(values))
            case _Union(lists):
                return self.eval_union(values, lists)
            case _Identifier(name):
                return self.eval_identifier(values, name)
        raise _EvalError(f"unexpected Node {node}", values)  # pragma: no cover - the parser makes no other node

    def eval_list(self, values: list[Any], node: _List) -> list[Any]:
        for child in node.nodes:
            values = self.walk(values, child)
        return values

    def eval_field(self, values: list[Any], node: _Field) -> list[Any]:
        if not values:
            return []
        results = [v[node.name] for v in values if isinstance(v, dict) and node.name in v]
        if not results and not self.allow_missing_keys:
            raise _EvalError(f"{node.name} is not found", results)
        return results

    def eval_array(self, values: list[Any], node: _Array) -> list[Any]:
        result: list[Any] = []
        for value in values:
            if value is None:
                continue
            if not isinstance(value, list):
                raise _EvalError(f"{_go_type(value)} is not array or slice", values)
            start, end, step = node.params
            length = len(value)
            lo = start.value if start.known else 0
            lo += length if lo < 0 else 0
            hi = end.value if end.known else length
            hi += length if hi < 0 or (hi == 0 and end.derived) else 0
            if hi == lo:
                return result  # zero elements asked for: client-go returns what it has so far
            if lo >= length or lo < 0:
                raise _EvalError(f"array index out of bounds: index {lo}, length {length}", values)
            if hi > length or hi < 0:
                raise _EvalError(f"array index out of bounds: index {hi - 1}, length {length}", values)
            if lo > hi:
                raise _EvalError(f"starting index {lo} is greater than ending index {hi}", values)
            if step.known and step.value <= 0:
                raise _EvalError("step must be > 0", values)
            result.extend(value[lo:hi:step.value if step.known else 1])
        return result

    def eval_union(self, values: list[Any], lists: tuple[_List, ...]) -> list[Any]:
        result: list[Any] = []
        for node in lists:
            try:
                result.extend(self.eval_list(values, node))
            except _EvalError as e:
                raise _EvalError(str(e), values) from None
        return result

    def eval_recursive(self, values: list[Any]) -> Iterator[Any]:
        """Every value with children (maps, lists, non-empty strings), depth first, each before its children."""
        stack: list[Iterator[Any]] = [iter(values)]
        while stack:
            value = next(stack[-1], _EOF_MARK)
            if value is _EOF_MARK:
                stack.pop()
            elif children := _children(value):
                yield value
                stack.append(iter(children))

    def eval_identifier(self, values: list[Any], name: str) -> list[Any]:
        if name == "range":
            raise _EvalError("range templates are not supported", values)
        if name == "end":
            raise _EvalError("not in range, nothing to end", [])
        raise _EvalError(f"unrecognized identifier {name}", values)

    def eval_filter(self, values: list[Any], node: _Filter) -> list[Any]:
        results: list[Any] = []
        for value in values:
            if not isinstance(value, list):
                raise _EvalError(f"{_go_print(value)} is not array or slice and cannot be filtered", values)
            for item in value:
                if self._passes(item, node, values, results):
                    results.append(item)
        return results

    def _passes(self, item: Any, node: _Filter, values: list[Any], results: list[Any]) -> bool:
        try:
            lefts = self.eval_list([item], node.left)
        except _EvalError as e:
            if node.operator == "exists":
                return bool(e.partial)
            raise _EvalError(str(e), values) from None
        if node.operator == "exists":
            return bool(lefts)
        if len(lefts) != 1:
            if not lefts:
                return False
            raise _EvalError("can only compare one element at a time", values)
        try:
            rights = self.eval_list([item], node.right)
        except _EvalError as e:
            raise _EvalError(str(e), values) from None
        if len(rights) != 1:
            if not rights:
                return False
            raise _EvalError("can only compare one element at a time", values)
        compare = _COMPARE.get(node.operator)
        if compare is None:
            raise _EvalError(f"unrecognized filter operator {node.operator}", results)
        try:
            return compare(lefts[0], rights[0])
        except ValueError as e:
            raise _EvalError(str(e), results) from None


_EOF_MARK = object()


@dataclass(frozen=True)
class JSONPath:
    """A parsed kube JSONPath template. Evaluation allows missing keys by default, as the CRD table convertor does."""

    expr: str
    _root: _List = field(repr=False, compare=False)

    def find_results(self, obj: Any, *, allow_missing_keys: bool = True) -> list[list[Any]]:
        """FindResults: one list of values per top-level node (each `{action}` and each run of plain text)."""
        evaluator = _Evaluator(allow_missing_keys)
        try:
            return [evaluator.walk([obj], node) for node in self._root.nodes]
        except _EvalError as e:
            raise JSONPathError(str(e)) from None

    def find(self, obj: Any, *, allow_missing_keys: bool = True) -> list[Any]:
        """The values the first action selects: for `compile(".spec.replicas")`, the replicas (or nothing).

        Raises JSONPathError when evaluation fails (an index out of range, a filter over a non-list, a comparison
        of incompatible values), as client-go does.
        """
        results = self.find_results(obj, allow_missing_keys=allow_missing_keys)
        return results[0] if results else []

    def execute(self, obj: Any, *, allow_missing_keys: bool = True) -> str:
        """Execute: every result printed (`to_text`), space-separated within an action: `kubectl -o jsonpath`."""
        results = self.find_results(obj, allow_missing_keys=allow_missing_keys)
        return "".join(" ".join(to_text(v) for v in values) for values in results)


@functools.lru_cache(maxsize=1024)
def compile(expr: str, *, template: bool = False) -> JSONPath:
    """Parse a JSONPath as a CRD printer column does: `.spec.replicas` is parsed as the template `{.spec.replicas}`.

    With `template=True`, `expr` is a whole template (`hello {.metadata.name}`). Invalid syntax raises
    JSONPathError (a ValueError) with client-go's message, e.g. `unterminated array`.
    """
    text = expr if template else "{" + expr + "}"
    return JSONPath(expr, _Parser(text).parse())


# --- printing -----------------------------------------------------------------------------------------------------


def _float_digits(f: float) -> tuple[str, int]:
    """The shortest round-trip digits of abs(f) and the decimal point's position (strconv's decimal)."""
    mantissa, _, exponent = repr(abs(f)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    point = len(whole) + int(exponent or 0) - (len(whole + fraction) - len((whole + fraction).lstrip("0")))
    return digits.rstrip("0"), point


def _format_float(f: float, *, json_style: bool) -> str:
    """Go's `fmt.Print(float64)` (%g, shortest, %e from exponent 6) or `json.Marshal` (%e below 1e-6 or from 1e21)."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    sign = "-" if math.copysign(1, f) < 0 else ""
    if f == 0:
        return sign + "0"
    digits, point = _float_digits(f)
    exp = point - 1
    # encoding/json: %e outside [1e-6, 1e21); fmt's shortest %g: %e from exponent -5 down or 6 up
    scientific = not 1e-6 <= abs(f) < 1e21 if json_style else (exp < -4 or exp >= 6)
    if scientific:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        exponent = f"{'-' if exp < 0 else '+'}{abs(exp):02d}"
        if json_style and exponent.startswith("-0"):
            exponent = "-" + exponent[2:]  # encoding/json cleans e-07 to e-7
        return f"{sign}{mantissa}e{exponent}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f",
                 "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_JSON_SPECIAL = re.compile(r'["\\<>&\u2028\u2029\x00-\x1f]')


def _json_string(s: str) -> str:
    return '"' + _JSON_SPECIAL.sub(lambda m: _JSON_ESCAPES.get(m[0], f"\\u{ord(m[0]):04x}"), s) + '"'


def _go_json(value: Any) -> str:
    """encoding/json.Marshal: compact, map keys sorted, HTML characters escaped."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return _format_float(value, json_style=True)
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{_json_string(k)}:{_go_json(value[k])}" for k in sorted(value)) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_go_json(v) for v in value) + "]"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def to_text(value: Any) -> str:
    """How client-go prints one result (PrintResults): maps and lists as compact JSON, scalars as Go prints them.

    A string as is, `true`/`false`, an int in decimal, a float as Go's %v (`1.5`, `3`, `1e+06`), null as `null`.
    """
    if isinstance(value, dict | list):
        return _go_json(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _format_float(value, json_style=False)
    return str(value) if isinstance(value, str) else str(int(value))
