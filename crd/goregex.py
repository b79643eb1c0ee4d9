"""Go's regexp (RE2 syntax) for schema `pattern`s, with Go's compile error messages.

kube compiles `pattern` with Go's regexp.Compile, which is RE2: no look-arounds, no back-references,
`\\pL` and `[[:alpha:]]` classes. google-re2 (a dependency of cel-python) gives exactly that; where it is
missing, Python's `re` stands in after the RE2-only constructs have been refused.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

try:  # pragma: no cover - which branch runs depends on the environment
    import re2 as _re2
except ImportError:  # pragma: no cover
    _re2 = None

# RE2 (C++) error codes -> the words of Go's regexp/syntax ErrorCode for the same mistake.
_GO_WORDS = {
    "missing )": "missing closing )",
    "missing ]": "missing closing ]",
    "unexpected )": "unexpected )",
    "trailing \\": "trailing backslash at end of expression",
    "no argument for repetition operator": "missing argument to repetition operator",
    "invalid repetition size": "invalid repeat count",
    "bad repetition operator": "invalid nested repetition operator",
    "invalid perl operator": "invalid or unsupported Perl syntax",
    "invalid named capture group": "invalid named capture",
    "invalid escape sequence": "invalid escape sequence",
    "invalid character class": "invalid character class",
    "invalid character class range": "invalid character class range",
    "invalid UTF-8": "invalid UTF-8",
}

# Python's `re` errors -> the RE2 codes above, for when google-re2 is missing.
_PYTHON_WORDS = (
    ("nothing to repeat", "no argument for repetition operator"),
    ("missing ), unterminated subpattern", "missing )"),
    ("unterminated character set", "missing ]"),
    ("unbalanced parenthesis", "unexpected )"),
    ("bad escape", "invalid escape sequence"),
    ("multiple repeat", "bad repetition operator"),
)

# What Python's `re` accepts but RE2 refuses, with the text Go reports for it.
_PERL_ONLY = re.compile(r"\\\\|(\(\?<?[=!])|(\\[1-9])")


class PatternError(ValueError):
    """A pattern Go's regexp.Compile refuses; str() is Go's message."""


def _go_message(code: str, arg: str) -> str:
    return f"error parsing regexp: {_GO_WORDS.get(code, code)}: `{arg}`"


def _compile_re2(pattern: str) -> Callable[[str], Any]:
    assert _re2 is not None
    options = _re2.Options()
    options.log_errors = False  # RE2 would print every refused pattern to stderr
    try:
        return _re2.compile(pattern, options).search
    except _re2.error as err:
        text = err.args[0].decode() if err.args and isinstance(err.args[0], bytes) else str(err)
        code, _, arg = text.partition(": ")
        raise PatternError(_go_message(code, arg)) from None


def _compile_re(pattern: str) -> Callable[[str], Any]:
    for match in _PERL_ONLY.finditer(pattern):
        if match.group(1):
            raise PatternError(_go_message("invalid perl operator", match.group(1)))
        if match.group(2):
            raise PatternError(_go_message("invalid escape sequence", match.group(2)))
    try:
        return re.compile(pattern).search
    except re.error as err:
        for python_words, go_code in _PYTHON_WORDS:
            if err.msg.startswith(python_words):
                arg = pattern[err.pos] if go_code == "no argument for repetition operator" and err.pos is not None \
                    else pattern
                raise PatternError(_go_message(go_code, arg)) from None
        raise PatternError(f"error parsing regexp: {err.msg}: `{pattern}`") from None


@functools.lru_cache(maxsize=1024)  # kube-openapi caches compiled patterns the same way (rexp.go)
def compile_pattern(pattern: str) -> Callable[[str], Any]:
    """A `search` function for the pattern (Go's MatchString is unanchored); PatternError if refused."""
    return _compile_re2(pattern) if _re2 is not None else _compile_re(pattern)


def pattern_error(pattern: str) -> str | None:
    """Go's compile error for the pattern, or None when it compiles."""
    try:
        compile_pattern(pattern)
    except PatternError as err:
        return str(err)
    return None
