"""The request and response objects of the resource paths: Starlette's, without work every request paid for.

- Headers are read by name through one dict of first values: Starlette's `Headers.get` scans the header
  list and raises (and catches) a KeyError for every header the client didn't send.
- The body is read straight from `receive`, without the async generator of `Request.stream`.
- A response's headers are built directly, without `Response.init_headers`.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response


class FirstHeaders(Headers):
    """Headers whose lookups by name see each header's first value, as Starlette's do."""

    def __init__(self, scope: Any) -> None:
        self._list = scope["headers"]  # as Starlette's Headers(scope=...) keeps it
        self._first: dict[bytes, bytes] = dict(reversed(self._list))  # names arrive lower-cased (ASGI)

    def get(self, key: str, default: Any = None) -> Any:
        value = self._first.get(key.lower().encode("latin-1"))
        return default if value is None else value.decode("latin-1")

    def __getitem__(self, key: str) -> str:
        value = self._first.get(key.lower().encode("latin-1"))
        if value is None:
            raise KeyError(key)
        return value.decode("latin-1")

    def __contains__(self, key: Any) -> bool:
        return isinstance(key, str) and key.lower().encode("latin-1") in self._first


class ApiRequest(Request):
    def __init__(self, scope: Any, receive: Any) -> None:
        super().__init__(scope, receive)
        self._headers: Headers = FirstHeaders(scope)  # every API request reads some

    @property
    def headers(self) -> Headers:
        return self._headers

    async def body(self) -> bytes:
        read: bytes | None = getattr(self, "_body", None)  # getattr's default: no AttributeError is raised
        if read is not None:
            return read
        if self._stream_consumed:
            raise RuntimeError("Stream consumed")
        chunks: list[bytes] = []
        while True:
            message = await self._receive()
            if message["type"] == "http.request":
                if chunk := message.get("body", b""):
                    chunks.append(chunk)
                if not message.get("more_body", False):
                    break
            elif message["type"] == "http.disconnect":
                self._is_disconnected = True
                raise ClientDisconnect()
        self._stream_consumed = True
        self._body: bytes = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return self._body


_MEDIA_HEADERS: dict[str, bytes] = {}


class Reply(Response):
    """A complete body of a given media type (never text/*, which Starlette gives a charset)."""

    def __init__(self, body: bytes, status_code: int, media_type: str) -> None:
        self.status_code = status_code
        self.media_type = media_type
        self.body = body
        self.background = None
        media = _MEDIA_HEADERS.get(media_type)
        if media is None:
            media = media_type.encode("latin-1")
            if len(_MEDIA_HEADERS) < 64:  # the few types served (JSON, YAML, Table and metadata variants)
                _MEDIA_HEADERS[media_type] = media
        self.raw_headers = [(b"content-length", str(len(body)).encode()), (b"content-type", media)]


# A joined body goes out in pieces of about this size, each joined while the kernel moves the one
# before (uvicorn waits only when its own buffer is full), rather than all joined first and then sent.
# 64 KiB is uvicorn's write high-water mark, and a piece that small is still in the CPU cache when the
# kernel copies it: a list of 10k ConfigMaps (10.7 MiB) took 4.0-4.6 ms, 5.8-6.5 ms in 1 MiB pieces.
PIECE = 1 << 16


class JoinedReply(Reply):
    """A JSON body that is `head`, then `parts` joined by commas, then `tail`: a list answer made of its
    items' kept encodings (WatchCache.encoded), sent in pieces of about PIECE bytes."""

    def __init__(self, head: bytes, parts: list[bytes], tail: bytes, status_code: int, media_type: str) -> None:
        super().__init__(b"", status_code, media_type)
        size = sum(map(len, parts))
        length = len(head) + size + max(len(parts) - 1, 0) + len(tail)
        self.raw_headers[0] = (b"content-length", str(length).encode())
        self.head, self.parts, self.tail = head, parts, tail
        self.step = max(1, PIECE * len(parts) // size) if size else 1  # parts per piece

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.head, "more_body": True})
        parts, step = self.parts, self.step
        for i in range(0, len(parts), step):
            piece = parts[i:i + step]
            if i:
                piece.insert(0, b"")  # the comma after the piece before
            await send({"type": "http.response.body", "body": b",".join(piece), "more_body": True})
        await send({"type": "http.response.body", "body": self.tail})
