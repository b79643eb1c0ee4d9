"""apiserver/messages.py: the resource paths' request and response objects answer as Starlette's do."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.types import Message

from apiserver.messages import ApiRequest, FirstHeaders, Reply

RAW_HEADERS: list[tuple[bytes, bytes]] = [
    (b"host", b"test"),
    (b"accept", b"application/json"),
    (b"content-type", b"application/yaml"),
    (b"x-repeated", b"first"),
    (b"accept", b"application/yaml"),  # a repeated header: lookups see the first value
    (b"x-repeated", b"second"),
    (b"x-empty", b""),
    (b"x-latin", b"caf\xe9"),
    (b"x-repeated", b"third"),
]


def _scope(headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/namespaces/default/configmaps",
        "query_string": b"",
        "headers": list(RAW_HEADERS if headers is None else headers),
    }


# ---- FirstHeaders / ApiRequest.headers ------------------------------------------------------


def test_a_repeated_header_is_read_as_its_first_value() -> None:
    headers = FirstHeaders(_scope())
    assert headers.get("x-repeated") == "first"
    assert headers["x-repeated"] == "first"
    assert headers.get("accept") == "application/json"
    assert headers["accept"] == "application/json"
    # the other values are still there for getlist (inherited from Headers)
    assert headers.getlist("x-repeated") == ["first", "second", "third"]


def test_lookups_ignore_the_case_of_the_name() -> None:
    headers = FirstHeaders(_scope())
    assert headers.get("Content-Type") == "application/yaml"
    assert headers["CONTENT-TYPE"] == "application/yaml"
    assert headers.get("X-Repeated") == "first"
    assert "Content-Type" in headers
    assert "ACCEPT" in headers


def test_an_absent_header_gives_the_default_or_a_key_error() -> None:
    headers = FirstHeaders(_scope())
    assert headers.get("x") is None
    assert headers.get("x", "d") == "d"
    assert headers.get("X-Absent", "d") == "d"
    with pytest.raises(KeyError):
        headers["x-absent"]
    assert "x-absent" not in headers


def test_a_present_header_with_an_empty_value_is_not_absent() -> None:
    headers = FirstHeaders(_scope())
    assert headers.get("x-empty", "d") == ""
    assert headers["x-empty"] == ""
    assert "x-empty" in headers


def test_values_are_decoded_as_latin_1() -> None:
    assert FirstHeaders(_scope())["x-latin"] == "caf\u00e9"


def test_no_headers_at_all() -> None:
    headers = FirstHeaders(_scope([]))
    assert headers.get("accept", "d") == "d"
    assert "accept" not in headers
    with pytest.raises(KeyError):
        headers["accept"]


NAMES = ["host", "accept", "Accept", "content-type", "Content-Type", "x-repeated", "X-REPEATED", "x-empty",
         "x-latin", "x", "X-Absent", ""]


@pytest.mark.parametrize("name", NAMES)
def test_every_lookup_agrees_with_starlette(name: str) -> None:
    ours = FirstHeaders(_scope())
    theirs = Headers(scope=_scope())
    assert ours.get(name) == theirs.get(name)
    assert ours.get(name, "d") == theirs.get(name, "d")
    assert (name in ours) == (name in theirs)
    try:
        expected: str | None = theirs[name]
    except KeyError:
        expected = None
    if expected is None:
        with pytest.raises(KeyError):
            ours[name]
    else:
        assert ours[name] == expected


def test_the_whole_mapping_agrees_with_starlette() -> None:
    ours = FirstHeaders(_scope())
    theirs = Headers(scope=_scope())
    assert ours.raw == theirs.raw
    assert list(ours.keys()) == list(theirs.keys())
    assert list(ours.items()) == list(theirs.items())
    assert ours == theirs


def test_the_request_reads_headers_through_first_headers_once() -> None:
    request = ApiRequest(_scope(), _no_receive)
    headers = request.headers
    assert isinstance(headers, FirstHeaders)
    assert request.headers is headers  # built once per request
    assert headers.get("Accept") == "application/json"
    assert headers.get("x-repeated") == Headers(scope=_scope()).get("x-repeated") == "first"


# ---- ApiRequest.body ------------------------------------------------------------------------


async def _no_receive() -> dict[str, Any]:
    raise AssertionError("receive was not expected to be called")


class Receiver:
    """An ASGI receive that hands out the given messages in order, and counts its calls."""

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self.messages = list(messages)
        self.calls = 0

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        if not self.messages:
            raise AssertionError("receive called after the last message")
        return self.messages.pop(0)


async def test_a_body_in_several_messages_is_joined() -> None:
    receive = Receiver([
        {"type": "http.request", "body": b'{"a":', "more_body": True},
        {"type": "http.request", "body": b"", "more_body": True},  # an empty chunk on the way
        {"type": "http.request", "body": b' "b",', "more_body": True},
        {"type": "http.request", "body": b' "c": 1}', "more_body": False},
    ])
    request = ApiRequest(_scope(), receive)
    assert await request.body() == b'{"a": "b", "c": 1}'
    assert receive.calls == 4
    assert await request.json() == {"a": "b", "c": 1}
    assert receive.calls == 4


async def test_a_last_message_without_more_body_ends_the_body() -> None:
    receive = Receiver([
        {"type": "http.request", "body": b"ab", "more_body": True},
        {"type": "http.request", "body": b"cd"},  # more_body absent: the end
    ])
    assert await ApiRequest(_scope(), receive).body() == b"abcd"
    assert receive.calls == 2


async def test_a_single_chunk_is_returned_as_is() -> None:
    chunk = b'{"kind": "ConfigMap", "metadata": {"name": "c"}}'
    receive = Receiver([{"type": "http.request", "body": chunk, "more_body": False}])
    body = await ApiRequest(_scope(), receive).body()
    assert body == chunk
    assert body is chunk  # not copied


async def test_a_single_chunk_between_empty_ones_is_returned_as_is() -> None:
    chunk = b"payload"
    receive = Receiver([
        {"type": "http.request", "body": b"", "more_body": True},
        {"type": "http.request", "body": chunk, "more_body": True},
        {"type": "http.request", "body": b"", "more_body": False},
    ])
    body = await ApiRequest(_scope(), receive).body()
    assert body is chunk


async def test_body_twice_returns_the_same_bytes_without_receiving_again() -> None:
    receive = Receiver([
        {"type": "http.request", "body": b"one", "more_body": True},
        {"type": "http.request", "body": b"two", "more_body": False},
    ])
    request = ApiRequest(_scope(), receive)
    first = await request.body()
    assert receive.calls == 2
    second = await request.body()
    assert second == b"onetwo"
    assert second is first
    assert receive.calls == 2


async def test_the_stream_after_body_yields_the_body_without_receiving() -> None:
    receive = Receiver([{"type": "http.request", "body": b"xyz", "more_body": False}])
    request = ApiRequest(_scope(), receive)
    await request.body()
    chunks = [chunk async for chunk in request.stream()]
    assert b"".join(chunks) == b"xyz"
    assert receive.calls == 1


async def test_a_disconnect_before_the_end_is_a_client_disconnect() -> None:
    receive = Receiver([
        {"type": "http.request", "body": b"partial", "more_body": True},
        {"type": "http.disconnect"},
    ])
    request = ApiRequest(_scope(), receive)
    with pytest.raises(ClientDisconnect):
        await request.body()
    assert receive.calls == 2
    assert await request.is_disconnected()


async def test_an_immediate_disconnect_is_a_client_disconnect() -> None:
    receive = Receiver([{"type": "http.disconnect"}])
    with pytest.raises(ClientDisconnect):
        await ApiRequest(_scope(), receive).body()
    assert receive.calls == 1


async def test_an_empty_body_is_empty_bytes() -> None:
    receive = Receiver([{"type": "http.request", "body": b"", "more_body": False}])
    body = await ApiRequest(_scope(), receive).body()
    assert body == b""
    assert isinstance(body, bytes)
    assert receive.calls == 1


async def test_a_message_without_a_body_key_is_empty_bytes() -> None:
    receive = Receiver([{"type": "http.request"}])
    assert await ApiRequest(_scope(), receive).body() == b""
    assert receive.calls == 1


async def test_body_after_the_stream_was_consumed_is_an_error() -> None:
    receive = Receiver([{"type": "http.request", "body": b"abc", "more_body": False}])
    request = ApiRequest(_scope(), receive)
    assert [chunk async for chunk in request.stream()] == [b"abc", b""]
    with pytest.raises(RuntimeError, match="Stream consumed"):
        await request.body()


# ---- Reply ----------------------------------------------------------------------------------


def test_a_reply_has_exactly_its_length_and_type_headers() -> None:
    body = b'{"kind":"ConfigMap"}'
    reply = Reply(body, 201, "application/json")
    assert reply.raw_headers == [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
    assert reply.status_code == 201
    assert reply.body is body
    assert reply.media_type == "application/json"
    assert reply.background is None
    assert reply.headers["content-length"] == "20"
    assert reply.headers["content-type"] == "application/json"


def test_a_reply_keeps_the_media_type_as_given() -> None:
    # no charset added (Starlette's Response would add one to text/* types; Reply is never text/*)
    media = "application/json;as=Table;v=v1;g=meta.k8s.io"
    reply = Reply(b"", 200, media)
    assert reply.raw_headers == [(b"content-length", b"0"), (b"content-type", media.encode("latin-1"))]


def test_replies_do_not_share_their_header_lists() -> None:
    a = Reply(b"a", 200, "application/json")
    b = Reply(b"bb", 200, "application/json")
    a.headers.append("Warning", '299 - "only a"')
    assert b.raw_headers == [(b"content-length", b"2"), (b"content-type", b"application/json")]


async def test_a_reply_sends_its_start_then_its_body() -> None:
    body = b'{"kind":"Status","code":404}'
    reply = Reply(body, 404, "application/json")
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await reply({"type": "http"}, _no_receive, send)
    assert sent == [
        {"type": "http.response.start", "status": 404,
         "headers": [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]},
        {"type": "http.response.body", "body": body},
    ]


async def test_a_warning_appended_to_the_headers_is_sent() -> None:
    reply = Reply(b"{}", 200, "application/json")
    reply.headers.append("Warning", '299 - "first warning"')
    reply.headers.append("Warning", '299 - "second warning"')
    assert reply.raw_headers == [
        (b"content-length", b"2"),
        (b"content-type", b"application/json"),
        (b"warning", b'299 - "first warning"'),
        (b"warning", b'299 - "second warning"'),
    ]
    assert reply.headers.getlist("warning") == ['299 - "first warning"', '299 - "second warning"']
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await reply({"type": "http"}, _no_receive, send)
    assert sent[0]["type"] == "http.response.start"
    assert (b"warning", b'299 - "second warning"') in sent[0]["headers"]
    assert sent[1] == {"type": "http.response.body", "body": b"{}"}
