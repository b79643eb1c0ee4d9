"""How Go prints values into the messages kube-apiserver sends back.

Clients and tests match on kube's messages, and those carry values as Go formats them: `%v` of a
float64 (`1e+06`, not `1000000.0`), `%q` of a string, `encoding/json` of enum values and list-map
keys (sorted keys, `<` escaped). These helpers reproduce that on decoded JSON values.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import orjson

# fmt's %v is strconv.FormatFloat(f, 'g', -1, 64): shortest digits, an exponent below 1e-4 and from 1e+06
# (ftoa.go: "use precision 6 for this decision"); encoding/json switches below 1e-6 and from 1e+21.
_V_EXP_LOW, _V_EXP_HIGH = -4, 6
_JSON_EXP_LOW, _JSON_EXP_HIGH = -6, 21


def _digits(f: float) -> tuple[str, int]:
    """The shortest decimal digits of |f| and the exponent of its first digit."""
    sign_digits_exp = Decimal(repr(abs(f))).normalize().as_tuple()
    digits = "".join(map(str, sign_digits_exp.digits))
    exponent = int(sign_digits_exp.exponent)
    return digits, len(digits) + exponent - 1


def _float(f: float, low: int, high: int, exp_digits: int) -> str:
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if math.copysign(1, f) < 0 else "0"
    sign = "-" if f < 0 else ""
    digits, exp = _digits(f)
    if exp < low or exp >= high:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):0{exp_digits}d}"
    if exp < 0:
        return f"{sign}0.{'0' * (-exp - 1)}{digits}"
    if len(digits) <= exp + 1:
        return sign + digits + "0" * (exp + 1 - len(digits))
    return f"{sign}{digits[: exp + 1]}.{digits[exp + 1 :]}"


def go_float(f: float) -> str:
    """fmt's %v of a float64: `1`, `1.5`, `123456`, `1e+06`, `1e-05`."""
    return _float(f, _V_EXP_LOW, _V_EXP_HIGH, 2)


def go_number(n: int | float) -> str:
    """%v of an int64 or a float64."""
    return str(n) if isinstance(n, int) else go_float(n)


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
            "\t": "\\t", "\v": "\\v"}


def _quote_char(c: str) -> str:
    if c in _ESCAPES:
        return _ESCAPES[c]
    code = ord(c)
    if code < 0x20 or code == 0x7F:
        return f"\\x{code:02x}"
    if c.isprintable():
        return c
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def go_quote(s: str) -> str:
    """strconv.Quote (fmt's %q): printable runes kept, the rest escaped Go's way."""
    if s.isprintable() and '"' not in s and "\\" not in s:
        return f'"{s}"'
    return '"' + "".join(map(_quote_char, s)) + '"'


def _json_float(f: float) -> str:
    if f == int(f) and abs(f) < 1e21:
        return str(int(f))
    text = _float(f, _JSON_EXP_LOW, _JSON_EXP_HIGH, 2)
    # encoding/json trims "e-07" to "e-7"
    if "e" in text:
        mantissa, _, exp = text.partition("e")
        text = f"{mantissa}e{exp[0]}{int(exp[1:])}"
    return text


def go_json(value: Any) -> str:
    """encoding/json.Marshal of a decoded JSON value: sorted keys, HTML characters escaped."""
    if isinstance(value, float):
        return _json_float(value)
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(f"{go_json(str(k))}:{go_json(v)}" for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    text = orjson.dumps(value).decode()
    if isinstance(value, str):
        for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                             ("\u2029", "\\u2029")):
            text = text.replace(raw, escaped)
    return text
