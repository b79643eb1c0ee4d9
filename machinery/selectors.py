"""Label and field selectors: parsed once into immutable values, then matched against many objects.

Label selectors follow k8s.io/apimachinery/pkg/labels/selector.go (the `?labelSelector=` grammar and
its error messages) and pkg/apis/meta/v1/helpers.go (`metav1.LabelSelector` objects). Field selectors
follow pkg/fields/selector.go, backslash escapes included. Parse errors raise `BadRequest` with kube's
message, which kube-apiserver returns as a 400.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum, auto
from typing import Any

from machinery.errors import BadRequest, FieldError, forbidden, invalid, required
from machinery.validation import is_qualified_name, is_valid_label_value, type_invalid, validate_labels

# selection.Operator values, as kube spells them in messages.
IN, NOT_IN = "in", "notin"
EQUALS, DOUBLE_EQUALS, NOT_EQUALS = "=", "==", "!="
EXISTS, DOES_NOT_EXIST = "exists", "!"
GREATER_THAN, LESS_THAN = "gt", "lt"

_BINARY_OPERATORS = (IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS, GREATER_THAN, LESS_THAN)
_UNARY_OPERATORS = (EXISTS, DOES_NOT_EXIST)

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1  # strconv.ParseInt(v, 10, 64) bounds
_DECIMAL_RE = re.compile(r"[+-]?[0-9]+")


def _parse_int64(value: str) -> int | None:
    """strconv.ParseInt(value, 10, 64), or None where Go returns an error."""
    if not _DECIMAL_RE.fullmatch(value):
        return None
    number = int(value)
    return number if _INT64_MIN <= number <= _INT64_MAX else None


def _go_quote(value: str) -> str:
    """Go's %q for the strings that appear in selector messages."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _go_strings(values: tuple[str, ...]) -> str:
    """Go's %#v of a []string; an empty list prints as a nil slice, as kube's copies are nil."""
    if not values:
        return "[]string(nil)"
    return "[]string{" + ", ".join(_go_quote(v) for v in values) + "}"


def _aggregate(messages: list[str]) -> str:
    """utilerrors.NewAggregate(...).Error(): duplicates dropped, several in brackets."""
    unique = list(dict.fromkeys(messages))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


# --- label requirements and selectors ---


@dataclass(frozen=True)
class Requirement:
    """One `key <operator> values` term of a label selector (labels.Requirement)."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """labels.Requirement.Matches: NotIn and != also match objects without the key."""
        present = self.key in labels
        if self.operator in (IN, EQUALS, DOUBLE_EQUALS):
            return present and labels[self.key] in self.values
        if self.operator in (NOT_IN, NOT_EQUALS):
            return not present or labels[self.key] not in self.values
        if self.operator == EXISTS:
            return present
        if self.operator == DOES_NOT_EXIST:
            return not present
        if self.operator in (GREATER_THAN, LESS_THAN) and present and len(self.values) == 1:
            return self._compares(labels[self.key])
        return False

    def _compares(self, label_value: str) -> bool:
        have, want = _parse_int64(label_value), _parse_int64(self.values[0])
        if have is None or want is None:
            return False
        return have > want if self.operator == GREATER_THAN else have < want

    def __str__(self) -> str:
        """Requirement.String(): the selector syntax back, values sorted."""
        if self.operator == EXISTS:
            return self.key
        if self.operator == DOES_NOT_EXIST:
            return "!" + self.key
        joined = ",".join(sorted(self.values))
        if self.operator in (IN, NOT_IN):
            return f"{self.key} {self.operator} ({joined})"
        symbol = {GREATER_THAN: ">", LESS_THAN: "<"}.get(self.operator, self.operator)
        return f"{self.key}{symbol}{joined}"


def _requirement_errors(key: str, operator: str, values: tuple[str, ...], path: str) -> list[str]:
    """labels.NewRequirement's checks, as rendered field errors (field paths under `path`)."""
    prefix = f"{path}." if path else ""
    errs: list[str] = []
    key_msgs = is_qualified_name(key)
    if key_msgs:
        errs.append(f"{prefix}key: Invalid value: {_go_quote(key)}: " + "; ".join(key_msgs))
    values_path = f"{prefix}values"
    shape = _values_shape_error(operator, values)
    if shape:
        errs.append(f"{values_path}: Invalid value: {_go_strings(values)}: {shape}")
    if operator in (GREATER_THAN, LESS_THAN):
        errs.extend(
            f"{values_path}[{i}]: Invalid value: {_go_quote(v)}: "
            "for 'Gt', 'Lt' operators, the value must be an integer"
            for i, v in enumerate(values)
            if _parse_int64(v) is None
        )
    for i, value in enumerate(values):
        msgs = is_valid_label_value(value)
        if msgs:
            errs.append(f"{values_path}[{i}][{key}]: Invalid value: {_go_quote(value)}: " + "; ".join(msgs))
    return errs


def _values_shape_error(operator: str, values: tuple[str, ...]) -> str:
    if operator in (IN, NOT_IN) and not values:
        return "for 'in', 'notin' operators, values set can't be empty"
    if operator in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS) and len(values) != 1:
        return "exact-match compatibility requires one single value"
    if operator in _UNARY_OPERATORS and values:
        return "values set must be empty for exists and does not exist"
    if operator in (GREATER_THAN, LESS_THAN) and len(values) != 1:
        return "for 'Gt', 'Lt' operators, exactly one value is required"
    return ""


def new_requirement(key: str, operator: str, values: Iterable[str] = (), *, path: str = "") -> Requirement:
    """labels.NewRequirement: a checked requirement; BadRequest with kube's aggregated message."""
    values = tuple(values)
    if operator not in _BINARY_OPERATORS + _UNARY_OPERATORS:
        supported = ", ".join(_go_quote(op) for op in _BINARY_OPERATORS + _UNARY_OPERATORS)
        field = f"{path}.operator" if path else "operator"
        raise BadRequest(f"{field}: Unsupported value: {_go_quote(operator)}: supported values: {supported}")
    errs = _requirement_errors(key, operator, values, path)
    if errs:
        raise BadRequest(_aggregate(errs))
    return Requirement(key, operator, values)


@dataclass(frozen=True)
class LabelSelector:
    """An AND of requirements (labels.Selector). No requirements select everything.

    `matches_nothing` is kube's labels.Nothing(), what a null `metav1.LabelSelector` means.
    """

    requirements: tuple[Requirement, ...] = ()
    matches_nothing: bool = False

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self.matches_nothing:
            return False
        have = labels or {}
        return all(r.matches(have) for r in self.requirements)

    @property
    def empty(self) -> bool:
        """True when the selector does not restrict anything (labels.Selector.Empty)."""
        return not self.requirements and not self.matches_nothing

    def requires_exact_match(self, key: str) -> str | None:
        """The one value `key` must have, if the selector pins it (RequiresExactMatch)."""
        for r in self.requirements:
            if r.key == key:
                exact = r.operator in (EQUALS, DOUBLE_EQUALS, IN) and len(r.values) == 1
                return r.values[0] if exact else None
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


EVERYTHING = LabelSelector()
NOTHING = LabelSelector(matches_nothing=True)


def _sorted_by_key(requirements: Iterable[Requirement]) -> tuple[Requirement, ...]:
    """kube sorts requirements by key so that equal selectors print alike."""
    return tuple(sorted(requirements, key=lambda r: r.key))


def label_selector_from_set(labels: Mapping[str, str] | None) -> LabelSelector:
    """labels.SelectorFromSet: key=value for each entry, unchecked; empty selects everything."""
    return LabelSelector(_sorted_by_key(Requirement(k, EQUALS, (v,)) for k, v in (labels or {}).items()))


# --- the `?labelSelector=` lexer ---


class _Tok(Enum):
    END = auto()
    IDENT = auto()
    CLOSE_PAREN = auto()
    COMMA = auto()
    NOT = auto()
    DOUBLE_EQUALS = auto()
    EQUALS = auto()
    GREATER = auto()
    IN = auto()
    LESS = auto()
    NOT_EQUALS = auto()
    NOT_IN = auto()
    OPEN_PAREN = auto()


_LITERAL_TOKENS = {
    ")": _Tok.CLOSE_PAREN,
    ",": _Tok.COMMA,
    "!": _Tok.NOT,
    "==": _Tok.DOUBLE_EQUALS,
    "=": _Tok.EQUALS,
    ">": _Tok.GREATER,
    "in": _Tok.IN,
    "<": _Tok.LESS,
    "!=": _Tok.NOT_EQUALS,
    "notin": _Tok.NOT_IN,
    "(": _Tok.OPEN_PAREN,
}
_SPECIAL = frozenset("=!(),><")
_WHITESPACE = frozenset(" \t\r\n")


def _lex(text: str) -> Iterator[tuple[_Tok, str]]:
    """labels.Lexer: operators are the longest literal token, identifiers run to a special or blank."""
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos] in _WHITESPACE:
            pos += 1
        if pos == end:
            yield _Tok.END, ""
            return
        start = pos
        if text[pos] in _SPECIAL:
            pos += 2 if text[pos : pos + 2] in ("==", "!=") else 1
        else:
            while pos < end and text[pos] not in _SPECIAL and text[pos] not in _WHITESPACE:
                pos += 1
        literal = text[start:pos]
        yield _LITERAL_TOKENS.get(literal, _Tok.IDENT), literal


_OPERATOR_TOKENS = {
    _Tok.IN: IN,
    _Tok.EQUALS: EQUALS,
    _Tok.DOUBLE_EQUALS: DOUBLE_EQUALS,
    _Tok.GREATER: GREATER_THAN,
    _Tok.LESS: LESS_THAN,
    _Tok.NOT_IN: NOT_IN,
    _Tok.NOT_EQUALS: NOT_EQUALS,
}


class _RequirementError(Exception):
    """A failure inside one requirement; kube prefixes it with 'unable to parse requirement: '."""


class _Parser:
    """labels.Parser: recursive descent over the scanned tokens.

    Where a value may stand ("values" context), the keywords in/notin are plain identifiers.
    """

    def __init__(self, text: str) -> None:
        self.items = list(_lex(text))
        self.position = 0

    def peek(self, *, values: bool = True) -> tuple[_Tok, str]:
        return self._as_context(self.items[self.position], values)

    def take(self, *, values: bool = True) -> tuple[_Tok, str]:
        item = self.items[self.position]
        self.position += 1
        return self._as_context(item, values)

    @staticmethod
    def _as_context(item: tuple[_Tok, str], values: bool) -> tuple[_Tok, str]:
        tok, literal = item
        if values and tok in (_Tok.IN, _Tok.NOT_IN):
            return _Tok.IDENT, literal
        return tok, literal

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            tok, literal = self.peek()
            if tok == _Tok.END:
                return requirements
            if tok not in (_Tok.IDENT, _Tok.NOT):
                raise BadRequest(f"found '{literal}', expected: !, identifier, or 'end of string'")
            try:
                requirements.append(self.requirement())
            except _RequirementError as err:
                raise BadRequest(f"unable to parse requirement: {err}") from None
            tok, literal = self.take()
            if tok == _Tok.END:
                return requirements
            if tok != _Tok.COMMA:
                raise BadRequest(f"found '{literal}', expected: ',' or 'end of string'")
            next_tok, next_literal = self.peek()
            if next_tok not in (_Tok.IDENT, _Tok.NOT):
                raise BadRequest(f"found '{next_literal}', expected: identifier after ','")

    def requirement(self) -> Requirement:
        key, operator = self.key_and_inferred_operator()
        if operator in _UNARY_OPERATORS:
            return self.checked(key, operator, ())
        operator = self.operator()
        values = self.value_set() if operator in (IN, NOT_IN) else self.exact_value()
        return self.checked(key, operator, tuple(sorted(values)))

    @staticmethod
    def checked(key: str, operator: str, values: tuple[str, ...]) -> Requirement:
        errs = _requirement_errors(key, operator, values, "")
        if errs:
            raise _RequirementError(_aggregate(errs))
        return Requirement(key, operator, values)

    def key_and_inferred_operator(self) -> tuple[str, str]:
        """`key`, `!key` or the key of a binary requirement; a bare key means exists."""
        operator = ""
        tok, literal = self.take()
        if tok == _Tok.NOT:
            operator = DOES_NOT_EXIST
            tok, literal = self.take()
        if tok != _Tok.IDENT:
            raise _RequirementError(f"found '{literal}', expected: identifier")
        msgs = is_qualified_name(literal)
        if msgs:
            # kube parses with a nil field path, which prints as "<nil>"
            raise _RequirementError(f"<nil>: Invalid value: {_go_quote(literal)}: " + "; ".join(msgs))
        if self.peek()[0] in (_Tok.END, _Tok.COMMA) and operator != DOES_NOT_EXIST:
            operator = EXISTS
        return literal, operator

    def operator(self) -> str:
        tok, literal = self.take(values=False)
        if tok not in _OPERATOR_TOKENS:
            raise _RequirementError(f"found '{literal}', expected: {', '.join(_BINARY_OPERATORS)}")
        return _OPERATOR_TOKENS[tok]

    def value_set(self) -> set[str]:
        """`(a,b,,c)`: empty entries are the empty value; `()` is the empty value alone."""
        tok, literal = self.take()
        if tok != _Tok.OPEN_PAREN:
            raise _RequirementError(f"found '{literal}' expected: '('")
        tok, literal = self.peek()
        if tok == _Tok.CLOSE_PAREN:
            self.take()
            return {""}
        if tok not in (_Tok.IDENT, _Tok.COMMA):
            raise _RequirementError(f"found '{literal}', expected: ',', ')' or identifier")
        values = self.identifiers()
        self.take()  # the ')' identifiers() stopped at
        return values

    def identifiers(self) -> set[str]:
        values: set[str] = set()
        while True:
            tok, literal = self.take()
            if tok == _Tok.IDENT:
                values.add(literal)
                next_tok, next_literal = self.peek()
                if next_tok == _Tok.CLOSE_PAREN:
                    return values
                if next_tok != _Tok.COMMA:
                    raise _RequirementError(f"found '{next_literal}', expected: ',' or ')'")
            elif tok == _Tok.COMMA:
                if not values:
                    values.add("")  # "(,"
                next_tok, _ = self.peek()
                if next_tok == _Tok.CLOSE_PAREN:
                    values.add("")  # ",)"
                    return values
                if next_tok == _Tok.COMMA:
                    values.add("")  # ",,"
            else:
                raise _RequirementError(f"found '{literal}', expected: ',', or identifier")

    def exact_value(self) -> set[str]:
        tok, _ = self.peek()
        if tok in (_Tok.END, _Tok.COMMA):
            return {""}  # "key=" selects the empty value
        tok, literal = self.take()
        if tok != _Tok.IDENT:
            raise _RequirementError(f"found '{literal}', expected: identifier")
        return {literal}


def parse_label_selector(text: str | None) -> LabelSelector:
    """labels.Parse for `?labelSelector=`: `a=b, c!=d, e in (f,g), h notin (i), j, !k, l>1, m<9`.

    An empty string selects everything. Errors raise BadRequest with kube's message.
    """
    if not text:
        return EVERYTHING
    return LabelSelector(_sorted_by_key(_Parser(text).parse()))


# --- metav1.LabelSelector objects ---

_EXPRESSION_OPERATORS = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST}


def _expression_requirement(expr: Any) -> Requirement:
    if not isinstance(expr, dict):
        raise BadRequest("matchExpressions entries must be objects")
    operator = expr.get("operator")
    if not isinstance(operator, str) or operator not in _EXPRESSION_OPERATORS:  # a dict isn't even hashable
        raise BadRequest(f"{_go_quote(str(operator or ''))} is not a valid label selector operator")
    values = expr.get("values") or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise BadRequest("matchExpressions values must be a list of strings")
    return new_requirement(str(expr.get("key") or ""), _EXPRESSION_OPERATORS[operator], values)


def label_selector_from_dict(selector: Mapping[str, Any] | None) -> LabelSelector:
    """metav1.LabelSelectorAsSelector: null selects nothing, {} everything.

    matchLabels become `key=value`; matchExpressions use In, NotIn, Exists, DoesNotExist.
    Invalid selectors raise BadRequest with kube's message.
    """
    if selector is None:
        return NOTHING
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not isinstance(match_labels, dict) or not isinstance(expressions, list):
        raise BadRequest("matchLabels must be an object and matchExpressions a list")
    requirements = [new_requirement(str(k), EQUALS, [v if isinstance(v, str) else str(v)])
                    for k, v in match_labels.items()]
    requirements.extend(_expression_requirement(expr) for expr in expressions)
    return LabelSelector(_sorted_by_key(requirements))


def _validate_expression(expr: Any, path: str) -> list[FieldError]:
    """v1validation.ValidateLabelSelectorRequirement."""
    if not isinstance(expr, dict):
        return [type_invalid(path, expr, "object")]
    errs: list[FieldError] = []
    operator, values = expr.get("operator"), expr.get("values") or []
    if operator in ("In", "NotIn"):
        if not values:
            errs.append(required(f"{path}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
    elif operator in ("Exists", "DoesNotExist"):
        if values:
            errs.append(forbidden(f"{path}.values",
                                  "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
    else:
        errs.append(invalid(f"{path}.operator", operator, "not a valid selector operator"))
    key = expr.get("key")
    key = key if isinstance(key, str) else ""
    errs.extend(invalid(f"{path}.key", key, msg) for msg in is_qualified_name(key))
    return errs


def validate_label_selector(selector: Any, path: str) -> list[FieldError]:
    """v1validation.ValidateLabelSelector: field errors for a `metav1.LabelSelector` in an object."""
    if selector is None:
        return []
    if not isinstance(selector, dict):
        return [type_invalid(path, selector, "object")]
    errs = validate_labels(selector.get("matchLabels"), f"{path}.matchLabels")
    expressions = selector.get("matchExpressions")
    if expressions is None:
        return errs
    if not isinstance(expressions, list):
        return [*errs, type_invalid(f"{path}.matchExpressions", expressions, "array")]
    for i, expr in enumerate(expressions):
        errs.extend(_validate_expression(expr, f"{path}.matchExpressions[{i}]"))
    return errs


# --- field selectors ---


@dataclass(frozen=True)
class FieldRequirement:
    """One `field=value` or `field!=value` term (fields.Requirement); operator is "=" or "!="."""

    field: str
    operator: str
    value: str

    def matches(self, fields: Mapping[str, str]) -> bool:
        """A missing field reads as "" (fields.Set.Get)."""
        equal = fields.get(self.field, "") == self.value
        return equal if self.operator == EQUALS else not equal

    def __str__(self) -> str:
        return f"{self.field}{self.operator}{escape_field_value(self.value)}"


@dataclass(frozen=True)
class FieldSelector:
    """An AND of field requirements. The server checks `fields` against the kind's supported labels."""

    requirements: tuple[FieldRequirement, ...] = ()

    def matches(self, fields: Mapping[str, str]) -> bool:
        return all(r.matches(fields) for r in self.requirements)

    @property
    def empty(self) -> bool:
        return not self.requirements

    @property
    def fields(self) -> tuple[str, ...]:
        """The field labels used, in selector order, for `field label not supported: <label>`."""
        return tuple(dict.fromkeys(r.field for r in self.requirements))

    def requires_exact_match(self, field: str) -> str | None:
        """The value `field` must equal, if some term pins it (RequiresExactMatch)."""
        for r in self.requirements:
            if r.field == field and r.operator == EQUALS:
                return r.value
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


_FIELD_OPERATORS = (NOT_EQUALS, DOUBLE_EQUALS, EQUALS)  # "==" before "=" so no '=' is left on the value


def _split_terms(text: str) -> list[str]:
    """Split on commas that are not backslash-escaped; escapes stay in the terms."""
    terms, start, escaped = [], 0, False
    for i, ch in enumerate(text):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    """(field, operator, raw value) at the first operator; field names have no escapes."""
    for i in range(len(term)):
        for op in _FIELD_OPERATORS:
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op) :]
    return None


def unescape_field_value(value: str) -> str:
    r"""fields.UnescapeValue: `\\`, `\,` and `\=` are literal; a bare `,` or `=` is an error."""
    out: list[str] = []
    escaped = False
    for ch in value:
        if escaped:
            if ch not in "\\,=":
                raise BadRequest(f"invalid field selector: invalid escape sequence: \\{ch}")
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in ",=":
            # Go formats the rune with %v, which prints its code point
            raise BadRequest(f"invalid field selector: unescaped character in value: {ord(ch)}")
        else:
            out.append(ch)
    if escaped:
        raise BadRequest("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def escape_field_value(value: str) -> str:
    """fields.EscapeValue, the inverse of unescape_field_value."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def parse_field_selector(text: str | None) -> FieldSelector:
    """fields.ParseSelector for `?fieldSelector=`: `a=b`, `a==b`, `a!=b`, comma-separated.

    Terms are sorted as kube sorts them; an empty string selects everything.
    """
    requirements: list[FieldRequirement] = []
    for term in sorted(_split_terms(text or "")):
        if not term:
            continue
        split = _split_term(term)
        if split is None:
            raise BadRequest(f"invalid selector: '{text}'; can't understand '{term}'")
        field, op, raw = split
        requirements.append(FieldRequirement(field, NOT_EQUALS if op == NOT_EQUALS else EQUALS,
                                             unescape_field_value(raw)))
    return FieldSelector(tuple(requirements))
