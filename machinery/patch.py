"""JSON patch (RFC 6902) and JSON merge patch (RFC 7386), applied as kube-apiserver applies them.

kube-apiserver (k8s.io/apiserver/pkg/endpoints/handlers/patch.go, v0.35.7, `applyJSPatch` at line 389)
first strict-decodes the patch with sigs.k8s.io/json, because an unset fieldValidation means Warn
(handlers/rest.go:409-414), then hands it to gopkg.in/evanphx/json-patch.v4 (v4.13.0). Its answers:

JSON patch (application/json-patch+json)
  not JSON, not an array, an element not an object, op/path/from not a string (patch.go:392-400)
      -> 400 BadRequest "error decoding patch: <Go's json error>"
  more than 10000 operations (patch.go:407-411)
      -> 413 "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got N"
  an operation that fails: unknown op, missing path, bad index, failed `test` (patch.go:412-415)
      -> 422 Invalid "the server rejected our request due to an error in our request", `details: {}`.
         `NewGenericServerResponse` drops json-patch's own text; we keep it as `UnprocessablePatch.why`.
  `null` is an empty patch.
JSON merge patch (application/merge-patch+json)
  not JSON, or not an object (patch.go:417-424)  -> 400 BadRequest "error decoding patch: <Go's json error>"
  `null` (patch.go:427-429)                       -> 400 BadRequest "Invalid JSON Patch"
Either, when the result is no object or is nested too deep to decode (patch.go:338-346)
      -> 422 Invalid ` "" is invalid: patch: Invalid value: "<result>": couldn't get version/kind; ...`

json-patch v4 departs from RFC 6902 and we follow it: negative array indices count from the end,
`replace` of a missing object key adds it, `copy` from a missing object key copies null, `test` of a
missing key against null passes, a path without its leading "/" drops its first token, and "" is no
path for add/remove (only replace and test take the whole document). Merge patch prunes nulls from
objects inside arrays that it inserts where nothing (or a non-object) was before.

Not modelled: fieldValidation=Strict (duplicate or unknown fields become 422 Invalid) and its
warnings; `test` compares JSON values (json-patch compares the raw bytes of scalars, so "1.0" != "1").
"""

from __future__ import annotations

import codecs
import json
import math
import re
from collections.abc import Callable
from typing import Any

import orjson

from machinery.errors import BadRequest, FieldError, InternalError, Invalid, RequestEntityTooLarge

# Go's JSON decoders refuse nesting deeper than 10000 (encoding/json scanner.go maxNestingDepth).
# orjson refuses more than 1024 levels when parsing (and Python's own recursion limit is 1000), so we
# bound patch documents and patched objects at orjson's 1024 and never recurse over the data.
# Note that orjson.dumps refuses more than 254 levels: deeper objects will not serialise anyway.
MAX_NESTING_DEPTH = 1024
MAX_JSON_PATCH_OPERATIONS = 10000  # patch.go maxJSONPatchOperations

REJECTED = "the server rejected our request due to an error in our request"  # errors.go, 422 generic
_DECODING = "error decoding patch: "


class UnprocessablePatch(Invalid):
    """A JSON patch operation failed: kube's `NewGenericServerResponse(422, ...)` (patch.go:414).

    The Status carries a fixed message and an empty `details`; json-patch's reason is kept in `why`.
    """

    def __init__(self, why: str) -> None:
        super().__init__(REJECTED)
        self.why = why

    def status(self) -> dict[str, Any]:
        body = super().status()
        code = body.pop("code")
        body["details"] = {}
        body["code"] = code
        return body


def apply_json_patch(obj: dict[str, Any], patch_bytes: bytes) -> dict[str, Any]:
    """Apply an RFC 6902 JSON patch to a copy of `obj`, with kube-apiserver's errors."""
    doc = _copy_of(obj)
    ops = _json_patch_ops(_decode(_bytes_of(patch_bytes), _JSON_PATCH))
    if len(ops) > MAX_JSON_PATCH_OPERATIONS:
        raise RequestEntityTooLarge(
            "Request entity too large: The allowed maximum operations in a JSON patch is "
            f"{MAX_JSON_PATCH_OPERATIONS}, got {len(ops)}"
        )
    result: Any = doc
    copied = 0
    for op in ops:
        try:
            if op.get("op") == "copy":  # what copies add is bounded, so a short patch can't explode
                copied += _copy_size(result, op)
                if copied > ACCUMULATED_COPY_LIMIT:
                    raise _OpFailed(f"Unable to copy, the accumulated size increase of copy is {copied}, exceeding "
                                    f"the limit {ACCUMULATED_COPY_LIMIT}")
            result = _apply_op(result, op)
        except _OpFailed as e:
            raise UnprocessablePatch(str(e)) from None
    return _as_object(result)


# kube's handler sets json-patch's AccumulatedCopySizeLimit to its request size limit (3 MiB).
ACCUMULATED_COPY_LIMIT = 3 * 1024 * 1024


def _copy_size(doc: Any, op: dict[str, Any]) -> int:
    """The encoded size of what a copy operation would duplicate (0 when its source is missing)."""
    source = op.get("from")
    found = _find(doc, source) if isinstance(source, str) else None
    if found is None:
        return 0
    try:
        return len(orjson.dumps(_get(*found)))
    except (_OpFailed, TypeError, orjson.JSONEncodeError):
        return 0


def apply_merge_patch(obj: dict[str, Any], patch_bytes: bytes) -> dict[str, Any]:
    """Apply an RFC 7386 JSON merge patch to a copy of `obj`, with kube-apiserver's errors."""
    doc = _copy_of(obj)
    patch = _decode(_bytes_of(patch_bytes), _MERGE_PATCH)
    if patch is None:
        raise BadRequest("Invalid JSON Patch")  # jsonpatch.ErrBadJSONPatch
    _merge(doc, patch)
    return _as_object(doc)


# ---------------------------------------------------------------------------------------------------
# Decoding the patch document as sigs.k8s.io/json would, with Go's error messages.

_JSON_PATCH, _MERGE_PATCH = "json", "merge"


class _BadNumber:
    """A number Go cannot hold in a float64 (1e400): an error once the decoder reaches it."""

    def __init__(self, literal: str) -> None:
        self.literal = literal


def _bytes_of(patch: Any) -> bytes:
    if isinstance(patch, bytes | bytearray | memoryview):
        return bytes(patch)
    if isinstance(patch, str):
        return patch.encode("utf-8", "surrogatepass")
    raise InternalError.wrap(TypeError(f"patch must be bytes, not {type(patch).__name__}"))


def _copy_of(obj: Any) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise InternalError.wrap(TypeError(f"the object to patch must be a dict, not {type(obj).__name__}"))
    copied: dict[str, Any] = _deep_copy(obj)
    return copied


def _decode(data: bytes, patch_type: str) -> Any:
    """The patch as Python values, or BadRequest with the message kube's strict decode gives."""
    bad_numbers = False
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        syntax = go_json_syntax_error(data)
        if syntax is not None:
            raise BadRequest(_DECODING + syntax) from None
        value, bad_numbers = _decode_leniently(data)
    type_error = _json_patch_type_error(value) if patch_type == _JSON_PATCH else _merge_patch_type_error(value)
    if type_error is not None:
        raise BadRequest(_DECODING + type_error)
    return _replace_bad_numbers(value) if bad_numbers else value


def _go_replace(err: UnicodeError) -> tuple[str, int]:
    # Go's decoder turns each byte of invalid UTF-8 in a string into U+FFFD (decode.go unquote).
    assert isinstance(err, UnicodeDecodeError)
    return "\ufffd", err.start + 1


codecs.register_error("machinery.patch.go_replace", _go_replace)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _decode_leniently(data: bytes) -> tuple[Any, bool]:
    """Valid JSON that orjson refused: invalid UTF-8, lone surrogate escapes, or huge numbers."""
    bad: list[_BadNumber] = []

    def number(literal: str) -> Any:
        # sigs.k8s.io/json keeps an int64 when it can, else a float64, else fails (convertNumber).
        if "." not in literal and "e" not in literal and "E" not in literal and len(literal) <= 20:
            i = int(literal)
            if -(2**63) <= i < 2**63:
                return i
        f = float(literal)
        if math.isinf(f):
            bad.append(_BadNumber(literal))
            return bad[-1]
        return f

    text = data.decode("utf-8", "machinery.patch.go_replace")
    try:
        value = json.loads(text, parse_int=number, parse_float=number)
    except RecursionError:
        raise BadRequest(_DECODING + "exceeded max depth") from None
    except ValueError as e:  # the scanner above accepted it, so this is not expected
        raise BadRequest(_DECODING + str(e)) from None
    return _map_strings(value, lambda s: _SURROGATE.sub("\ufffd", s)), bool(bad)


def _go_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    return "number"


def _json_patch_type_error(value: Any) -> str | None:
    """What decoding into `[]handlers.jsonPatchOp` reports first, if anything (patch.go:392-396)."""
    if value is None:
        return None
    if not isinstance(value, list):
        return f"json: cannot unmarshal {_go_kind(value)} into Go value of type []handlers.jsonPatchOp"
    for op in value:
        if op is None:
            continue
        if not isinstance(op, dict):
            return f"json: cannot unmarshal {_go_kind(op)} into Go value of type handlers.jsonPatchOp"
        for key, field in op.items():
            if key in ("op", "path", "from") and field is not None and not isinstance(field, str):
                kind = _go_kind(field)
                return f"json: cannot unmarshal {kind} into Go struct field jsonPatchOp.{key} of type string"
            if key == "value" and (bad := _first_bad_number(field)) is not None:
                return f"json: cannot unmarshal number {bad} into Go struct field jsonPatchOp.value of type float64"
    return None


def _merge_patch_type_error(value: Any) -> str | None:
    """What decoding into `map[string]interface{}` reports first, if anything (patch.go:419-424)."""
    if value is not None and not isinstance(value, dict):
        return f"json: cannot unmarshal {_go_kind(value)} into Go value of type map[string]interface {{}}"
    if (bad := _first_bad_number(value)) is not None:
        return f"json: cannot unmarshal number {bad} into Go value of type float64"
    return None


def _json_patch_ops(value: Any) -> list[dict[str, Any]]:
    if value is None:  # Go decodes `null` into an empty patch
        return []
    assert isinstance(value, list)
    return [op if op is not None else {} for op in value]


# ---------------------------------------------------------------------------------------------------
# Go's encoding/json scanner (scanner.go), for its exact syntax error messages. It runs only when
# orjson has refused a document, and skips runs of plain bytes with regular expressions.

_SPACES = re.compile(rb"[ \t\r\n]+")
_STRING_RUN = re.compile(rb'[^"\\\x00-\x1f]+')
_DIGITS = re.compile(rb"[0-9]+")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_OBJECT_KEY, _OBJECT_VALUE, _ARRAY_VALUE = range(3)


class _SyntaxError(Exception):
    pass


def _quote_char(c: int) -> str:
    """Go's quoteChar: a byte as a quoted character literal."""
    if c == ord("'"):
        return "'\\''"
    if c == ord('"'):
        return "'\"'"
    escapes = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v", 92: "\\\\"}
    if c in escapes:
        return f"'{escapes[c]}'"
    ch = chr(c)
    if ch.isprintable():
        return f"'{ch}'"
    return f"'\\x{c:02x}'" if c < 0x20 or c == 0x7F else f"'\\u{c:04x}'"


class _Scanner:
    """A port of Go's JSON scanner state machine: one method per state, `step` the current one."""

    _LITERALS = {  # state -> (expected byte, next state, literal)
        "t": ("r", "tr", "true"), "tr": ("u", "tru", "true"), "tru": ("e", "", "true"),
        "f": ("a", "fa", "false"), "fa": ("l", "fal", "false"), "fal": ("s", "fals", "false"),
        "fals": ("e", "", "false"),
        "n": ("u", "nu", "null"), "nu": ("l", "nul", "null"), "nul": ("l", "", "null"),
    }  # fmt: skip

    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        self.stack: list[int] = []
        self.state = "begin_value"
        self.end_top = False

    def fail(self, c: int, context: str) -> None:
        raise _SyntaxError(f"invalid character {_quote_char(c)} {context}")

    def push(self, c: int, parse_state: int) -> None:
        self.stack.append(parse_state)
        if len(self.stack) > self.max_depth:
            self.fail(c, "exceeded max depth")

    def pop(self) -> None:
        self.stack.pop()
        if self.stack:
            self.state = "end_value"
        else:
            self.state, self.end_top = "end_top", True

    def step(self, c: int) -> None:
        state = self.state
        if state in self._LITERALS:
            want, following, literal = self._LITERALS[state]
            if c != ord(want):
                self.fail(c, f"in literal {literal} (expecting '{want}')")
            self.state = following or "end_value"
            return
        getattr(self, "state_" + state)(c)

    def state_begin_value_or_empty(self, c: int) -> None:
        if c == ord("]"):
            self.state_end_value(c)
        else:
            self.state_begin_value(c)

    def state_begin_value(self, c: int) -> None:
        if c in b" \t\r\n":
            return
        if c == ord("{"):
            self.state = "begin_string_or_empty"
            self.push(c, _OBJECT_KEY)
        elif c == ord("["):
            self.state = "begin_value_or_empty"
            self.push(c, _ARRAY_VALUE)
        elif c == ord('"'):
            self.state = "in_string"
        elif c == ord("-"):
            self.state = "neg"
        elif c == ord("0"):
            self.state = "zero"
        elif ord("1") <= c <= ord("9"):
            self.state = "digits"
        elif c in b"tfn":
            self.state = chr(c)
        else:
            self.fail(c, "looking for beginning of value")

    def state_begin_string_or_empty(self, c: int) -> None:
        if c == ord("}"):
            self.stack[-1] = _OBJECT_VALUE
            self.state_end_value(c)
        else:
            self.state_begin_string(c)

    def state_begin_string(self, c: int) -> None:
        if c in b" \t\r\n":
            return
        if c != ord('"'):
            self.fail(c, "looking for beginning of object key string")
        self.state = "in_string"

    def state_end_value(self, c: int) -> None:
        if not self.stack:
            self.state, self.end_top = "end_top", True
            self.state_end_top(c)
            return
        if c in b" \t\r\n":
            self.state = "end_value"
            return
        top = self.stack[-1]
        if top == _OBJECT_KEY:
            if c != ord(":"):
                self.fail(c, "after object key")
            self.stack[-1], self.state = _OBJECT_VALUE, "begin_value"
        elif top == _OBJECT_VALUE:
            if c == ord(","):
                self.stack[-1], self.state = _OBJECT_KEY, "begin_string"
            elif c == ord("}"):
                self.pop()
            else:
                self.fail(c, "after object key:value pair")
        elif c == ord(","):
            self.state = "begin_value"
        elif c == ord("]"):
            self.pop()
        else:
            self.fail(c, "after array element")

    def state_end_top(self, c: int) -> None:
        if c not in b" \t\r\n":
            self.fail(c, "after top-level value")

    def state_in_string(self, c: int) -> None:
        if c == ord('"'):
            self.state = "end_value"
        elif c == ord("\\"):
            self.state = "in_string_esc"
        elif c < 0x20:
            self.fail(c, "in string literal")

    def state_in_string_esc(self, c: int) -> None:
        if c in b'bfnrt\\/"':
            self.state = "in_string"
        elif c == ord("u"):
            self.state = "esc_u0"
        else:
            self.fail(c, "in string escape code")

    def _hex(self, c: int, following: str) -> None:
        if c not in _HEX:
            self.fail(c, "in \\u hexadecimal character escape")
        self.state = following

    def state_esc_u0(self, c: int) -> None:
        self._hex(c, "esc_u1")

    def state_esc_u1(self, c: int) -> None:
        self._hex(c, "esc_u2")

    def state_esc_u2(self, c: int) -> None:
        self._hex(c, "esc_u3")

    def state_esc_u3(self, c: int) -> None:
        self._hex(c, "in_string")

    def state_neg(self, c: int) -> None:
        if c == ord("0"):
            self.state = "zero"
        elif ord("1") <= c <= ord("9"):
            self.state = "digits"
        else:
            self.fail(c, "in numeric literal")

    def state_digits(self, c: int) -> None:
        if not ord("0") <= c <= ord("9"):
            self.state_zero(c)

    def state_zero(self, c: int) -> None:
        if c == ord("."):
            self.state = "dot"
        elif c in b"eE":
            self.state = "exp"
        else:
            self.state_end_value(c)

    def state_dot(self, c: int) -> None:
        if not ord("0") <= c <= ord("9"):
            self.fail(c, "after decimal point in numeric literal")
        self.state = "fraction"

    def state_fraction(self, c: int) -> None:
        if c in b"eE":
            self.state = "exp"
        elif not ord("0") <= c <= ord("9"):
            self.state_end_value(c)

    def state_exp(self, c: int) -> None:
        if c in b"+-":
            self.state = "exp_sign"
        else:
            self.state_exp_sign(c)

    def state_exp_sign(self, c: int) -> None:
        if not ord("0") <= c <= ord("9"):
            self.fail(c, "in exponent of numeric literal")
        self.state = "exp_digits"

    def state_exp_digits(self, c: int) -> None:
        if not ord("0") <= c <= ord("9"):
            self.state_end_value(c)

    def eof(self) -> None:
        if self.end_top:
            return
        self.step(ord(" "))
        if not self.end_top:
            raise _SyntaxError("unexpected end of JSON input")


_SKIP = {  # state -> the run of bytes that leaves it unchanged
    "in_string": _STRING_RUN, "digits": _DIGITS, "fraction": _DIGITS, "exp_digits": _DIGITS,
    "begin_value": _SPACES, "begin_value_or_empty": _SPACES, "begin_string_or_empty": _SPACES,
    "begin_string": _SPACES, "end_value": _SPACES, "end_top": _SPACES,
}  # fmt: skip


def go_json_syntax_error(data: bytes, *, max_depth: int = MAX_NESTING_DEPTH) -> str | None:
    """The syntax error Go's encoding/json reports for `data`, or None if Go would parse it.

    Invalid UTF-8 in strings is no syntax error to Go (it becomes U+FFFD). Go's own depth bound is
    10000; `max_depth` lowers it.
    """
    scanner = _Scanner(max_depth)
    i, n = 0, len(data)
    try:
        while i < n:
            skip = _SKIP.get(scanner.state)
            if skip is not None and (run := skip.match(data, i)) is not None:
                i = run.end()
                continue
            scanner.step(data[i])
            i += 1
        scanner.eof()
    except _SyntaxError as e:
        return str(e)
    return None


# ---------------------------------------------------------------------------------------------------
# JSON patch operations, as gopkg.in/evanphx/json-patch.v4 patch.go applies them.


class _OpFailed(Exception):
    """json-patch's error text; kube answers 422 without it."""


_MISSING = "missing value"  # jsonpatch.ErrMissing
_INVALID_INDEX = "invalid index referenced"  # jsonpatch.ErrInvalidIndex
_ATOI = re.compile(r"[+-]?[0-9]+")
_POINTER_ESCAPE = re.compile("~[01]")


def _unescape(token: str) -> str:
    return _POINTER_ESCAPE.sub(lambda m: "/" if m.group() == "~1" else "~", token)


def _atoi(key: str) -> int:
    """strconv.Atoi: an optional sign, decimal digits, within int64."""
    if not _ATOI.fullmatch(key):
        raise _OpFailed(f'strconv.Atoi: parsing "{key}": invalid syntax')
    index = int(key)
    if not -(2**63) <= index < 2**63:
        raise _OpFailed(f'strconv.Atoi: parsing "{key}": value out of range')
    return index


def _bad_index(index: int) -> _OpFailed:
    return _OpFailed(f"Unable to access invalid index: {index}: {_INVALID_INDEX}")


def _index(items: list[Any], key: str) -> int:
    """An existing element's index; negative indices count from the end."""
    index = _atoi(key)
    if index < -len(items):
        raise _bad_index(index)
    if index < 0:
        index += len(items)
    if index >= len(items):
        raise _bad_index(index)
    return index


def _get(container: Any, key: str) -> Any:
    if isinstance(container, dict):
        return container.get(key)  # a missing key is no error, just null
    return container[_index(container, key)]


def _add(container: Any, key: str, value: Any) -> None:
    if isinstance(container, dict):
        container[key] = value
        return
    if key == "-":
        container.append(value)
        return
    try:
        index = _atoi(key)
    except _OpFailed as e:
        raise _OpFailed(f"value was not a proper array index: '{key}': {e}") from None
    size = len(container) + 1
    if index >= size or index < -size:
        raise _bad_index(index)
    container.insert(index + size if index < 0 else index, value)


def _remove(container: Any, key: str) -> None:
    if isinstance(container, dict):
        if key not in container:
            raise _OpFailed(f"Unable to remove nonexistent key: {key}: {_MISSING}")
        del container[key]
        return
    del container[_index(container, key)]


def _find(doc: Any, path: str) -> tuple[Any, str] | None:
    """findObject: the container of `path`'s last token, or None. The first token is never read."""
    tokens = path.split("/")
    if len(tokens) < 2:
        return None
    container = doc
    for token in tokens[1:-1]:
        try:
            container = _get(container, _unescape(token))
        except _OpFailed:
            return None
        if not isinstance(container, dict | list):
            return None
    return container, _unescape(tokens[-1])


def _field(op: dict[str, Any], name: str, kind: str) -> str:
    value = op.get(name)
    if value is None:
        raise _OpFailed(f"{kind} operation missing {name} field: {_MISSING}")
    assert isinstance(value, str)
    return value


def _located(doc: Any, path: str, what: str) -> tuple[Any, str]:
    found = _find(doc, path)
    if found is None:
        raise _OpFailed(f"{what}: {path}: {_MISSING}")
    return found


def _apply_op(doc: Any, op: dict[str, Any]) -> Any:
    """One operation applied to `doc` in place; returns the document (replace "" swaps it)."""
    kind = op.get("op")
    missing = f"{kind} operation does not apply: doc is missing"
    if kind == "add":
        container, key = _located(doc, _field(op, "path", kind), f"{missing} path")
        _add(container, key, op.get("value"))
    elif kind == "remove":
        container, key = _located(doc, _field(op, "path", kind), f"{missing} path")
        _remove(container, key)
    elif kind == "replace":
        path = _field(op, "path", kind)
        if path == "":
            value = op.get("value")
            if not isinstance(value, dict | list):
                raise _OpFailed("replace operation value must be object or array")
            return value
        container, key = _located(doc, path, f"{missing} path")
        if isinstance(container, dict):
            container[key] = op.get("value")  # a missing key is added
        else:
            container[_index(container, key)] = op.get("value")
    elif kind in ("move", "copy"):
        container, key = _located(doc, _field(op, "from", kind), f"{missing} from path")
        value = _get(container, key)
        if kind == "move":
            _remove(container, key)
        else:
            value = _deep_copy(value)
        target, key = _located(doc, _field(op, "path", kind), f"{missing} destination path")
        _add(target, key, value)
    elif kind == "test":
        _test(doc, op)
    else:
        raise _OpFailed(f"Unexpected kind: {kind if isinstance(kind, str) else 'unknown'}")
    return doc


def _test(doc: Any, op: dict[str, Any]) -> None:
    path = _field(op, "path", "test")
    if path == "":
        actual: Any = doc
    else:
        container, key = _located(doc, path, "test operation does not apply: is missing path")
        actual = _get(container, key)
        if actual is None and op.get("value") is None:  # missing or null equals absent or null
            return
    if "value" not in op or not _json_equal(actual, op["value"]):
        raise _OpFailed(f"testing value {path} failed: test failed")


# ---------------------------------------------------------------------------------------------------
# JSON merge patch, as json-patch v4 merge.go applies it.


def _merge(doc: dict[str, Any], patch: dict[str, Any]) -> None:
    """mergeDocs: null deletes, objects merge, anything else replaces (nulls pruned from new values)."""
    work = [(doc, patch)]
    while work:
        target, changes = work.pop()
        for key, value in changes.items():
            current = target.get(key)
            if value is None:
                target.pop(key, None)
            elif isinstance(current, dict) and isinstance(value, dict):
                work.append((current, value))
            elif isinstance(current, dict):
                target[key] = value  # an object replaced keeps its nulls
            else:
                prune_nulls(value)
                target[key] = value


def prune_nulls(value: Any) -> None:
    """pruneNulls: drop null members of objects, however deep, even inside arrays (not null elements)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in [k for k, v in node.items() if v is None]:
                del node[key]
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))


# ---------------------------------------------------------------------------------------------------
# The patched object, decoded as kube decodes it (patch.go:338-346).


def _as_object(result: Any) -> dict[str, Any]:
    too_deep = _first_too_deep(result, MAX_NESTING_DEPTH)
    if too_deep is not None:
        raise _undecodable(result, f"invalid character '{too_deep}' exceeded max depth")
    if not isinstance(result, dict):
        raise _undecodable(
            result,
            f"json: cannot unmarshal {_go_kind(result)} into Go value of type struct {{ "
            'APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }',
        )
    return result


def _undecodable(result: Any, why: str) -> Invalid:
    detail = f"couldn't get version/kind; json parse error: {why}"
    try:  # json-patch writes members it never decoded in their order, and Go escapes HTML
        text = orjson.dumps(result).decode()
    except (orjson.JSONEncodeError, TypeError):  # deeper than orjson writes: leave the value out
        return Invalid.of("", "", "", [FieldError("FieldValueInvalid", "patch", detail)])
    for char in "<>&\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return Invalid.of("", "", "", [FieldError("FieldValueInvalid", "patch", detail, text, True)])


def _first_too_deep(value: Any, limit: int) -> str | None:
    """'{' or '[' of the first container (in Go's output order) nested deeper than `limit`, if any."""
    deepest, stack = 0, [(value, 1)] if isinstance(value, dict | list) else []
    while stack:  # containers only: most members are scalars
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        members = node.values() if isinstance(node, dict) else node
        stack.extend((v, depth + 1) for v in members if isinstance(v, dict | list))
    if deepest <= limit:
        return None
    stack = [(value, 1)]
    while stack:  # again, in document order with sorted keys, as Go writes it
        node, depth = stack.pop()
        if isinstance(node, dict | list) and depth > limit:
            return "{" if isinstance(node, dict) else "["
        if isinstance(node, dict):
            stack.extend((node[k], depth + 1) for k in sorted(node, key=str, reverse=True))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in reversed(node))
    return None


# ---------------------------------------------------------------------------------------------------
# Iterative walks over JSON values, safe at any depth.


def _deep_copy(value: Any) -> Any:
    if not isinstance(value, dict | list):
        return value
    root: Any = {} if isinstance(value, dict) else []
    stack = [(value, root)]
    while stack:
        source, target = stack.pop()
        for key, item in source.items() if isinstance(source, dict) else enumerate(source):
            if isinstance(item, dict | list):
                copied: Any = {} if isinstance(item, dict) else []
                stack.append((item, copied))
                item = copied
            if isinstance(target, dict):
                target[key] = item
            else:
                target.append(item)
    return root


def _json_equal(a: Any, b: Any) -> bool:
    """Equal as JSON values: booleans are no numbers, 1 equals 1.0."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if isinstance(x, dict):
            if not isinstance(y, dict) or x.keys() != y.keys():
                return False
            stack.extend((x[k], y[k]) for k in x)
        elif isinstance(x, list):
            if not isinstance(y, list) or len(x) != len(y):
                return False
            stack.extend(zip(x, y, strict=True))
        elif isinstance(x, bool) or isinstance(y, bool):
            if x is not y:
                return False
        elif isinstance(x, int | float) and isinstance(y, int | float):
            if x != y:
                return False
        elif type(x) is not type(y) or x != y:
            return False
    return True


def _first_bad_number(value: Any) -> str | None:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, _BadNumber):
            return node.literal
        if isinstance(node, dict | list):
            stack.extend(reversed(list(node.values() if isinstance(node, dict) else node)))
    return None


def _replace_bad_numbers(value: Any) -> Any:
    """Huge numbers in places Go skips (unknown fields of an operation) never reach the result."""
    if isinstance(value, _BadNumber):
        return None
    stack = [value]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, item in list(items):
            if isinstance(item, _BadNumber):
                node[key] = None
            elif isinstance(item, dict | list):
                stack.append(item)
    return value


def _map_strings(value: Any, fix: Callable[[str], str]) -> Any:
    """`value` with `fix` applied to every string and object key, rebuilt in place."""
    if isinstance(value, str):
        return fix(value)
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            items = list(node.items())
            node.clear()
            for key, item in items:
                node[fix(key)] = fix(item) if isinstance(item, str) else item
                if isinstance(item, dict | list):
                    stack.append(item)
        elif isinstance(node, list):
            for index, item in enumerate(node):
                if isinstance(item, str):
                    node[index] = fix(item)
                elif isinstance(item, dict | list):
                    stack.append(item)
    return value


__all__ = [
    "MAX_JSON_PATCH_OPERATIONS",
    "MAX_NESTING_DEPTH",
    "REJECTED",
    "UnprocessablePatch",
    "apply_json_patch",
    "apply_merge_patch",
    "go_json_syntax_error",
]
