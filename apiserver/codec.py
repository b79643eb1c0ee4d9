"""Bodies in and out: JSON (orjson) or YAML, size limits, Accept negotiation."""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any

import orjson

from machinery import BadRequest, NotAcceptable, RequestEntityTooLarge, UnsupportedMediaType

if TYPE_CHECKING:  # PyYAML is imported by the first YAML body (kubectl and client-go speak JSON)
    import yaml

MAX_BODY = 3 * 1024 * 1024  # kube-apiserver's request body limit (MaxRequestBodyBytes, 3 MiB)
# kube allows 10,000 levels of JSON nesting; orjson encodes at most 254, and responses wrap objects
# in a few more levels (watch events, tables), so bodies deeper than this are refused up front.
MAX_DEPTH = 200
JSON = "application/json"
PROTOBUF = "application/vnd.kubernetes.protobuf"
YAML = "application/yaml"

Obj = dict[str, Any]


MAX_ALIASES = 1000  # YAML anchors may be reused, not multiplied into a document bomb (kube: 400)


@functools.cache
def _json_loader() -> type[yaml.SafeLoader]:
    """YAML as JSON sees it: timestamps stay strings; aliases are counted."""
    import yaml

    class JSONLoader(yaml.SafeLoader):
        def __init__(self, stream: Any) -> None:
            super().__init__(stream)
            self._aliases = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                self._aliases += 1
                if self._aliases > MAX_ALIASES:
                    raise yaml.YAMLError("document contains excessive aliasing")
            return super().compose_node(parent, index)

    # JSON has no timestamps: leave YAML dates as the strings they were written as.
    JSONLoader.yaml_implicit_resolvers = {
        key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return JSONLoader


def json_safe(data: Any, *, budget: int) -> Any:
    """YAML values turned into what YAML-to-JSON conversion gives: string keys; binary and sets refused.

    Aliases share nodes, so the document as JSON can be exponentially larger than its text: past
    `budget` nodes it is refused, as go-yaml refuses excessive aliasing.
    """
    stack = [data]
    while stack:
        budget -= 1
        if budget < 0:
            raise BadRequest("error converting YAML to JSON: yaml: document contains excessive aliasing")
        value = stack.pop()
        if isinstance(value, dict):
            for key in list(value):
                if not isinstance(key, str):
                    if isinstance(key, dict | list | tuple | bytes | set):
                        raise BadRequest("error converting YAML to JSON: yaml: invalid map key")
                    text = "null" if key is None else str(key).lower() if isinstance(key, bool) else str(key)
                    value[text] = value.pop(key)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, bytes | set | bytearray) or not isinstance(value, str | int | float | bool | None):
            raise BadRequest(f"error converting YAML to JSON: unsupported value of type {type(value).__name__}")
        elif isinstance(value, float) and not math.isfinite(value):  # .inf, .nan: JSON has neither
            raise BadRequest(f"error converting YAML to JSON: json: unsupported value: {go_float(value)}")
    return data


def go_float(value: float) -> str:
    """A non-finite float as Go prints it: +Inf, -Inf, NaN."""
    return "NaN" if math.isnan(value) else "+Inf" if value > 0 else "-Inf"


def check_size(body: bytes) -> None:
    if len(body) > MAX_BODY:
        raise RequestEntityTooLarge(f"Request entity too large: limit is {MAX_BODY}")


def decode(body: bytes, content_type: str | None) -> Any:
    """A request body as plain data; malformed input is 400 with the decoder's reason."""
    check_size(body)
    media = _media(content_type)
    if _is_json(media):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as err:
            raise BadRequest(f"the body of the request could not be decoded as JSON: {err}") from err
    if media in ("application/yaml", "application/x-yaml", "text/yaml", "application/apply-patch+yaml"):
        import yaml

        loader = _json_loader()
        try:
            return json_safe(yaml.load(body, Loader=loader), budget=10_000 + 100 * len(body))
        except (yaml.YAMLError, RecursionError) as err:
            raise BadRequest(f"error converting YAML to JSON: {err}") from err
    if media == PROTOBUF:  # kubectl's and helm's typed clients send built-in kinds this way
        from apiserver import protobuf  # its field table loads on first use

        return protobuf.decode(body)
    raise UnsupportedMediaType("the body of the request was in an unknown format - accepted media types include: "
                               f'application/json, application/yaml, {PROTOBUF} (got "{media}")')


def check_depth(data: Any, limit: int = MAX_DEPTH) -> None:
    """Refuse JSON nested deeper than `limit` (iteratively: a hostile body can't exhaust the stack)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            raise BadRequest(f"the body of the request is nested too deeply: more than {limit} levels")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values() if isinstance(v, dict | list))
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value if isinstance(v, dict | list))


def checked(obj: Obj) -> Obj:
    """A computed object (a patch result) held to the same nesting bound as a request body."""
    check_depth(obj)
    return obj


def _media(content_type: str | None) -> str:
    """The media type of a Content-Type, without parameters (JSON when absent)."""
    return JSON if content_type is None or content_type == JSON else content_type.split(";")[0].strip().lower()


def _is_json(media: str) -> bool:
    return media in (JSON, "", "*/*") or media.endswith("+json")


def decode_object(body: bytes, content_type: str | None) -> Obj:
    data = decode(body, content_type)
    if body.count(b"{") + body.count(b"[") > MAX_DEPTH or not _is_json(_media(content_type)):
        check_depth(data)  # fewer brackets than the bound (braces in strings only add): can't be too deep
    if not isinstance(data, dict):
        raise BadRequest(f"the body of the request must be a JSON object, not {type(data).__name__}")
    return data


def negotiate(accept: str | None) -> str:
    """JSON unless the client asks for YAML only; protobuf-first clients fall back to JSON."""
    if not accept:
        return JSON
    offered = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    for media in offered:
        if media in (JSON, "*/*", "application/*"):
            return JSON
        if media in (YAML, "application/x-yaml", "text/yaml"):
            return YAML
    if "application/vnd.kubernetes.protobuf" in offered:
        return JSON  # we speak no protobuf; client-go retries such requests with JSON
    raise NotAcceptable("only the following media types are accepted: application/json, application/yaml")


def encode(data: Any, media: str = JSON) -> bytes:
    if media == YAML:
        import yaml

        return yaml.safe_dump(data, sort_keys=False).encode()
    return orjson.dumps(data)
