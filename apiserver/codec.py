"""Bodies in and out: JSON (orjson) or YAML, size limits, Accept negotiation."""

from __future__ import annotations

from typing import Any

import orjson
import yaml

from machinery import BadRequest, NotAcceptable, RequestEntityTooLarge, UnsupportedMediaType

MAX_BODY = 3 * 1024 * 1024  # kube-apiserver's request body limit (MaxRequestBodyBytes, 3 MiB)
# kube allows 10,000 levels of JSON nesting; orjson encodes at most 254, and responses wrap objects
# in a few more levels (watch events, tables), so bodies deeper than this are refused up front.
MAX_DEPTH = 200
JSON = "application/json"
YAML = "application/yaml"

Obj = dict[str, Any]


def check_size(body: bytes) -> None:
    if len(body) > MAX_BODY:
        raise RequestEntityTooLarge(f"Request entity too large: limit is {MAX_BODY}")


def decode(body: bytes, content_type: str | None) -> Any:
    """A request body as plain data; malformed input is 400 with the decoder's reason."""
    check_size(body)
    media = (content_type or JSON).split(";")[0].strip().lower()
    if media in ("application/yaml", "application/x-yaml", "text/yaml", "application/apply-patch+yaml"):
        try:
            return yaml.safe_load(body)
        except (yaml.YAMLError, RecursionError) as err:
            raise BadRequest(f"error converting YAML to JSON: {err}") from err
    if media not in (JSON, "", "*/*") and not media.endswith("+json"):
        raise UnsupportedMediaType(f'the body of the request was in an unknown format - accepted media types include: '
                                   f'application/json, application/yaml (got "{media}")')
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as err:
        raise BadRequest(f"the body of the request could not be decoded as JSON: {err}") from err


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


def decode_object(body: bytes, content_type: str | None) -> Obj:
    data = decode(body, content_type)
    check_depth(data)
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
        return yaml.safe_dump(data, sort_keys=False).encode()
    return orjson.dumps(data)
