"""Helpers for admission tests: a real webhook server app, AdmissionReview answers, configurations and requests.

A `WebhookServer` answers each path with a handler `review -> answer`, where the answer is a dict (sent as
JSON with status 200) or a `Raw` reply, and records every review it received.
"""

from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn

from admission import Attributes

SERVICE_HOST = "webhook.default.svc"  # the name TLS checks for a service reference (name.namespace.svc)

@dataclass
class Raw:
    """A reply that is not a JSON AdmissionReview: any status, any bytes."""

    status: int
    body: bytes = b""
    content_type: bytes = b"text/plain"


Answer = dict[str, Any] | Raw
Handler = Callable[[dict[str, Any]], Awaitable[Answer] | Answer]


@dataclass
class WebhookServer:
    url: str  # http(s)://127.0.0.1:<port>
    handlers: dict[str, Handler] = field(default_factory=dict)
    reviews: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)
    clients: list[tuple[str, int]] = field(default_factory=list)  # the caller's address per request

    def route(self, path: str, handler: Handler) -> str:
        """Serve `path` with `handler`; returns the URL to put in a clientConfig."""
        self.handlers[path] = handler
        self.reviews[path] = []
        return self.url + path

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path = scope["path"]
        self.queries.append(scope["query_string"].decode())
        self.clients.append(tuple(scope["client"]))
        review = orjson.loads(body)
        self.reviews.setdefault(path, []).append(review)
        answer = self.handlers[path](review)
        if asyncio.iscoroutine(answer):
            answer = await answer
        if isinstance(answer, Raw):
            status, content, content_type = answer.status, answer.body, answer.content_type
        else:
            status, content, content_type = 200, orjson.dumps(answer), b"application/json"
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type)]})
        await send({"type": "http.response.body", "body": content})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def serve(app: WebhookServer, port: int, **ssl: Any) -> AsyncIterator[WebhookServer]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off",
                                           timeout_graceful_shutdown=1, **ssl))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield app
    finally:
        server.should_exit = True
        await task


# --- AdmissionReview answers ---


def allow(review: dict[str, Any], **response: Any) -> dict[str, Any]:
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "response": {"uid": review["request"]["uid"], "allowed": True, **response}}


def patch(review: dict[str, Any], *operations: dict[str, Any]) -> dict[str, Any]:
    encoded = base64.b64encode(orjson.dumps(list(operations))).decode()
    return allow(review, patchType="JSONPatch", patch=encoded)


def deny(review: dict[str, Any], **status: Any) -> dict[str, Any]:
    return allow(review, allowed=False, status=status)


def add_label(key: str, value: str) -> Handler:
    """A mutating handler adding one label (creating `labels` when missing)."""
    def handler(review: dict[str, Any]) -> dict[str, Any]:
        labels = (review["request"]["object"].get("metadata") or {}).get("labels")
        if labels is None:
            return patch(review, {"op": "add", "path": "/metadata/labels", "value": {key: value}})
        return patch(review, {"op": "add", "path": f"/metadata/labels/{key}", "value": value})
    return handler


# --- configurations and requests ---


def webhook(name: str, url: str | None = None, **fields: Any) -> dict[str, Any]:
    """A webhook for pods (CREATE, UPDATE) with the minimum kube requires."""
    hook: dict[str, Any] = {
        "name": name,
        "clientConfig": {"url": url} if url else {},
        "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": [""], "apiVersions": ["v1"],
                   "resources": ["pods"]}],
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
    }
    hook.update(fields)
    return hook


def configuration(name: str, *hooks: dict[str, Any], mutating: bool = True) -> dict[str, Any]:
    kind = "MutatingWebhookConfiguration" if mutating else "ValidatingWebhookConfiguration"
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": {"name": name},
            "webhooks": list(hooks)}


def pod(name: str = "web", labels: dict[str, str] | None = None, namespace: str = "default") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels is not None:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}}


def namespace_object(name: str = "default", labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}}


def pod_attributes(operation: str = "CREATE", obj: dict[str, Any] | None = None, old: dict[str, Any] | None = None,
                   *, dry_run: bool = False, subresource: str = "", namespace: str = "default",
                   namespace_labels: dict[str, str] | None = None, missing_namespace: bool = False,
                   options: dict[str, Any] | None = None) -> Attributes:
    if obj is None and old is None and operation != "DELETE":
        obj = pod(namespace=namespace)
    name = ((obj or old or {}).get("metadata") or {}).get("name", "")
    return Attributes(
        operation=operation, group="", version="v1", kind="Pod", resource="pods", subresource=subresource,
        name=name, namespace=namespace, object=obj, old_object=old, dry_run=dry_run, options=options or {},
        user_info={"username": "system:admin", "groups": ["system:masters", "system:authenticated"]},
        namespace_object=None if missing_namespace else namespace_object(namespace, namespace_labels),
        namespaced=True,
    )
