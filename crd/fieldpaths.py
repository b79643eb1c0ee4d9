"""Field paths into a schema, as CEL's fieldPath and selectableFields name them (cel.ValidFieldPath)."""

from __future__ import annotations

from collections.abc import Iterator

from crd import nodes, paths
from crd.nodes import Schema


def _path_tokens(text: str) -> Iterator[str]:
    i = 0
    while i < len(text):
        if text[i] in ".[]":
            yield text[i]
            i += 1
        elif text[i] == "'":
            end = i + 1
            while end < len(text) and not (text[end] == "'" and text[end - 1] != "\\"):
                end += 1
            yield text[i:end + 1]
            i = end + 1
        else:
            end = i
            while end < len(text) and text[end] not in ".[]":
                end += 1
            yield text[i:end]
            i = end


_UNESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "'": "'", "\\": "\\"}


def _unescape(quoted: str) -> str:
    out, i = [], 0
    while i < len(quoted):
        if quoted[i] == "\\" and i + 1 < len(quoted):
            if quoted[i + 1] not in _UNESCAPES:
                raise ValueError(f"invalid string literal: invalid escape char \\{quoted[i + 1]}")
            out.append(_UNESCAPES[quoted[i + 1]])
            i += 2
        else:
            out.append(quoted[i])
            i += 1
    return "".join(out)


def valid_field_path(text: str, s: Schema | None, *, allow_array_notation: bool = True) -> tuple[str, Schema | None]:
    """cel.ValidFieldPath: `.spec.replicas` or `.spec['a.b']` resolved against the schema.

    Returns the field path kube renders for it and the schema found there; ValueError with kube's reason
    when the path is malformed or names no field.
    """
    found: Schema | None = s
    rendered = ""
    tokens = iter(_path_tokens(text))

    def step(name: str) -> None:
        nonlocal found, rendered
        if found is None or not (nodes.properties(found) or nodes.additional(found)[0]):
            raise ValueError("does not refer to a valid field")
        props = nodes.properties(found)
        if props:
            if name not in props:
                raise ValueError("does not refer to a valid field")
            rendered, found = paths.child(rendered, name), props[name]
        else:
            rendered, found = paths.key(rendered, name), nodes.additional(found)[1]

    for token in tokens:
        if token == "[":
            if not allow_array_notation:
                raise ValueError("array notation is not allowed")
            quoted = next(tokens, None)
            if quoted is None:
                raise ValueError("unexpected end of JSON path")
            if len(quoted) < 2 or quoted[0] != "'" or quoted[-1] != "'":
                raise ValueError(f"expected single quoted string but got {quoted}")
            step(_unescape(quoted[1:-1]))
            closing = next(tokens, None)
            if closing is None:
                raise ValueError("unexpected end of JSON path")
            if closing != "]":
                raise ValueError(f"expected ] but got {closing}")
        elif token == ".":
            name = next(tokens, None)
            if name is None:
                raise ValueError("unexpected end of JSON path")
            step(name)
        else:
            raise ValueError(f"expected [ or . but got: {token}")
    return rendered, found
