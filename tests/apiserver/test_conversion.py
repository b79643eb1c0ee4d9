"""Conversion webhooks called over real HTTPS, as kube-apiserver calls them, and what kube says when they fail.

The webhook is a tiny ASGI app under uvicorn on 127.0.0.1, serving a certificate from a trustme CA.
It converts v1 `spec.size` <-> v2 `spec.dimensions.size`; other paths misbehave on purpose.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
import trustme
import uvicorn

from apiserver.conversion import Converter, go_duration
from machinery import InternalError

Obj = dict[str, Any]
GVK = "example.com/v1, Kind=Widget"

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def widget(name: str = "w", version: str = "v1") -> Obj:
    spec = {"size": 3} if version == "v1" else {"dimensions": {"size": 3}}
    return {"apiVersion": f"example.com/{version}", "kind": "Widget",
            "metadata": {"name": name, "namespace": "ns", "uid": f"uid-{name}", "resourceVersion": "5"}, "spec": spec}


def convert_one(obj: Obj, desired: str) -> Obj:
    out = copy.deepcopy(obj)
    spec = out.pop("spec", {})
    if desired.endswith("/v2"):
        out["spec"] = {"dimensions": {"size": spec.get("size")}}
    else:
        out["spec"] = {"size": (spec.get("dimensions") or {}).get("size")}
    out["apiVersion"] = desired
    out["metadata"]["labels"] = {**out["metadata"].get("labels", {}), "converted": "true"}
    out["metadata"]["resourceVersion"] = "999"  # kube restores the original's
    return out


@dataclass
class Webhook:
    """The ASGI webhook; `calls` records (path, query, headers, review) of every request."""

    release: asyncio.Event = field(default_factory=asyncio.Event)
    calls: list[tuple[str, str, dict[str, str], Obj]] = field(default_factory=list)

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        review = orjson.loads(body)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.calls.append((scope["path"], scope["query_string"].decode(), headers, review))
        status, reply = await self.answer(scope["path"], review["request"])
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json" if status == 200 else b"text/plain")]})
        await send({"type": "http.response.body", "body": reply})

    async def answer(self, path: str, request: Obj) -> tuple[int, bytes]:
        uid, desired, objects = request["uid"], request["desiredAPIVersion"], request["objects"]
        converted = [convert_one(o, desired) for o in objects]
        if path == "/wrong-uid":
            uid = "not-the-request-uid"
        elif path == "/wrong-count":
            converted = converted[1:]
        elif path == "/rename":
            converted[0]["metadata"]["name"] = "renamed"
        elif path == "/refuse":
            return 200, review(uid, [], status="Failure", message="v3 is not a thing")
        elif path == "/crash":
            return 500, b"internal trouble"
        elif path == "/slow":
            await self.release.wait()
        return 200, review(uid, converted)


def review(uid: str, objects: list[Obj], status: str = "Success", message: str = "") -> bytes:
    return orjson.dumps({"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
                         "response": {"uid": uid, "convertedObjects": objects,
                                      "result": {"status": status, **({"message": message} if message else {})}}})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    port: int
    ca: trustme.CA
    hook: Webhook


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def server(ca: trustme.CA, tmp_path: Path) -> AsyncIterator[Server]:
    cert = ca.issue_cert("127.0.0.1", "localhost", "hook.webhooks.svc")
    pem = tmp_path / "serving.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(pem))
    hook = Webhook()
    port = free_port()
    config = uvicorn.Config(hook, host="127.0.0.1", port=port, ssl_certfile=str(pem), log_level="critical",
                            lifespan="off")
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve())
    while not uv.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield Server(f"https://127.0.0.1:{port}", port, ca, hook)
    finally:
        hook.release.set()
        uv.should_exit = True
        await task


def bundle(ca: trustme.CA) -> str:
    return base64.b64encode(ca.cert_pem.bytes()).decode()


def webhook_crd(client_config: Obj, *, review_versions: tuple[str, ...] = ("v1",)) -> Obj:
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                     "names": {"plural": "widgets", "kind": "Widget"},
                     "versions": [{"name": "v1", "served": True, "storage": True},
                                  {"name": "v2", "served": True, "storage": False}],
                     "conversion": {"strategy": "Webhook", "webhook": {
                         "clientConfig": client_config, "conversionReviewVersions": list(review_versions)}}}}


@pytest.fixture
async def converter() -> AsyncIterator[Converter]:
    conv = Converter()
    try:
        yield conv
    finally:
        await conv.aclose()


async def test_a_webhook_converts_every_object_in_one_review(server: Server, converter: Converter) -> None:
    crd = webhook_crd({"url": server.url + "/convert", "caBundle": bundle(server.ca)})
    objects = [widget("a"), widget("b", "v2"), widget("c")]
    out = await converter.convert(crd, objects, "example.com/v2")
    assert [o["metadata"]["name"] for o in out] == ["a", "b", "c"]
    assert all(o["apiVersion"] == "example.com/v2" and o["spec"] == {"dimensions": {"size": 3}} for o in out)
    assert out[1] is objects[1]  # already at v2: not sent
    assert out[0]["metadata"] == {**widget("a")["metadata"], "labels": {"converted": "true"}}  # rest restored
    [(path, query, headers, sent)] = server.hook.calls
    assert (path, query) == ("/convert", "timeout=30s")
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "kube-apiserver-admission"
    assert sent["apiVersion"] == "apiextensions.k8s.io/v1" and sent["kind"] == "ConversionReview"
    assert sent["request"]["desiredAPIVersion"] == "example.com/v2"
    assert [o["metadata"]["name"] for o in sent["request"]["objects"]] == ["a", "c"]


async def test_and_back_again_through_the_same_pooled_client(server: Server, converter: Converter) -> None:
    crd = webhook_crd({"url": server.url + "/convert", "caBundle": bundle(server.ca)})
    [v2] = await converter.convert(crd, [widget()], "example.com/v2")
    [v1] = await converter.convert(crd, [v2], "example.com/v1")
    assert v1["spec"] == {"size": 3} and v1["apiVersion"] == "example.com/v1"
    assert len(server.hook.calls) == 2 and len(converter._clients) == 1


async def test_nothing_to_convert_calls_nobody(server: Server, converter: Converter) -> None:
    crd = webhook_crd({"url": server.url + "/convert", "caBundle": bundle(server.ca)})
    assert await converter.convert(crd, [widget()], "example.com/v1") == [widget()]
    assert await converter.convert(crd, [], "example.com/v2") == []
    assert server.hook.calls == []


async def test_strategy_none_rewrites_the_api_version(converter: Converter) -> None:
    crd = webhook_crd({})
    crd["spec"]["conversion"] = {"strategy": "None"}
    assert await converter.convert(crd, [widget()], "example.com/v2") == [{**widget(), "apiVersion": "example.com/v2"}]


async def test_a_service_reference_is_dialled_where_the_resolver_says(server: Server) -> None:
    asked: list[tuple[str, str, int]] = []

    def resolve(namespace: str, name: str, port: int) -> str | None:
        asked.append((namespace, name, port))
        return server.url if (namespace, name) == ("webhooks", "hook") else None

    conv = Converter(resolve_service=resolve)
    try:
        crd = webhook_crd({"service": {"namespace": "webhooks", "name": "hook", "port": 8443, "path": "/convert"},
                           "caBundle": bundle(server.ca)})
        [out] = await conv.convert(crd, [widget()], "example.com/v2")
        assert out["spec"] == {"dimensions": {"size": 3}}
        assert asked == [("webhooks", "hook", 8443)]
        assert server.hook.calls[0][2]["host"] == "hook.webhooks.svc:8443"
        crd["spec"]["conversion"]["webhook"]["clientConfig"]["service"]["name"] = "elsewhere"
        with pytest.raises(InternalError) as err:
            await conv.convert(crd, [widget()], "example.com/v2")
        assert err.value.message == (f'conversion webhook for {GVK} failed: Post '
                                     '"https://elsewhere.webhooks.svc:8443/convert?timeout=30s": '
                                     'service reference is not resolvable')
    finally:
        await conv.aclose()


async def test_a_v1beta1_review_is_sent_when_the_crd_prefers_it(server: Server, converter: Converter) -> None:
    crd = webhook_crd({"url": server.url + "/convert", "caBundle": bundle(server.ca)},
                      review_versions=("v1beta1", "v1"))
    await converter.convert(crd, [widget()], "example.com/v2")
    assert server.hook.calls[0][3]["apiVersion"] == "apiextensions.k8s.io/v1beta1"


@pytest.mark.parametrize(("path", "message"), [
    ("/wrong-uid", f'conversion webhook for {GVK} failed: expected response.uid="{{uid}}", got "not-the-request-uid"'),
    ("/wrong-count", f"conversion webhook for {GVK} returned 1 objects, expected 2"),
    ("/rename", f"conversion webhook for {GVK} returned invalid converted object at index 0: "
                "must have the same name: a != renamed"),
    ("/refuse", f"conversion webhook for {GVK} failed: v3 is not a thing"),
    ("/crash", f'conversion webhook for {GVK} failed: an error on the server ("internal trouble") has prevented '
               "the request from succeeding"),
])
async def test_a_misbehaving_webhook_is_a_500_with_kubes_message(server: Server, converter: Converter, path: str,
                                                                 message: str) -> None:
    crd = webhook_crd({"url": server.url + path, "caBundle": bundle(server.ca)})
    with pytest.raises(InternalError) as err:
        await converter.convert(crd, [widget("a"), widget("b")], "example.com/v2")
    uid = server.hook.calls[0][3]["request"]["uid"]
    assert err.value.message == message.format(uid=uid)
    status = err.value.status()
    assert (status["code"], status["reason"], status["message"]) == (500, "InternalError", err.value.message)


async def test_a_single_renamed_object_gets_kubes_single_object_message(server: Server, converter: Converter) -> None:
    crd = webhook_crd({"url": server.url + "/rename", "caBundle": bundle(server.ca)})
    with pytest.raises(InternalError) as err:
        await converter.convert(crd, [widget("a")], "example.com/v2")
    assert err.value.message == f"conversion webhook for {GVK} returned invalid object: must have the same name: a != renamed"


async def test_a_refused_connection_fails_as_in_go(converter: Converter) -> None:
    port = free_port()
    crd = webhook_crd({"url": f"https://127.0.0.1:{port}/convert"})
    with pytest.raises(InternalError) as err:
        await converter.convert(crd, [widget()], "example.com/v2")
    assert err.value.message == (f'conversion webhook for {GVK} failed: Post "https://127.0.0.1:{port}/convert'
                                 f'?timeout=30s": dial tcp 127.0.0.1:{port}: connect: connection refused')


async def test_a_certificate_from_another_ca_is_not_trusted(server: Server, converter: Converter) -> None:
    crd = webhook_crd({"url": server.url + "/convert", "caBundle": bundle(trustme.CA())})
    with pytest.raises(InternalError) as err:
        await converter.convert(crd, [widget()], "example.com/v2")
    assert err.value.message == (f'conversion webhook for {GVK} failed: Post "{server.url}/convert?timeout=30s": '
                                 "tls: failed to verify certificate: x509: certificate signed by unknown authority")
    assert server.hook.calls == []


async def test_a_bad_ca_bundle_is_reported(server: Server, converter: Converter) -> None:
    crd = webhook_crd({"url": server.url + "/convert", "caBundle": base64.b64encode(b"not a pem").decode()})
    with pytest.raises(InternalError) as err:
        await converter.convert(crd, [widget()], "example.com/v2")
    assert err.value.message == (f"conversion webhook for {GVK} failed: unable to load root certificates: "
                                 "unable to parse bytes as PEM block")


async def test_a_slow_webhook_times_out(server: Server) -> None:
    conv = Converter(timeout=0.2)
    try:
        crd = webhook_crd({"url": server.url + "/slow", "caBundle": bundle(server.ca)})
        with pytest.raises(InternalError) as err:
            await conv.convert(crd, [widget()], "example.com/v2")
        assert err.value.message == (f'conversion webhook for {GVK} failed: Post "{server.url}/slow?timeout=200ms": '
                                     "context deadline exceeded")
        assert server.hook.calls[0][1] == "timeout=200ms"
    finally:
        await conv.aclose()


async def test_plain_http_is_called_with_a_warning(converter: Converter, caplog: pytest.LogCaptureFixture) -> None:
    hook = Webhook()
    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(hook, host="127.0.0.1", port=port, log_level="critical", lifespan="off"))
    task = asyncio.create_task(uv.serve())
    while not uv.started:
        await asyncio.sleep(0.01)
    try:
        crd = webhook_crd({"url": f"http://127.0.0.1:{port}/convert"})
        [out] = await converter.convert(crd, [widget()], "example.com/v2")
        assert out["apiVersion"] == "example.com/v2"
        assert "plain HTTP" in caplog.text
    finally:
        uv.should_exit = True
        await task


@pytest.mark.parametrize(("seconds", "text"), [
    (30, "30s"), (0.2, "200ms"), (1.5, "1.5s"), (90, "1m30s"), (3600, "1h0m0s"), (0, "0s"),
])
def test_timeouts_are_written_as_go_durations(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text
