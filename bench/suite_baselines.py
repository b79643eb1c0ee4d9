"""The suite's baseline servers, on the server's uvicorn settings: `python -m bench.suite_baselines fastapi|asgi PORT`.

GET /object returns a stored ~1 KiB JSON object; POST /echo parses a JSON body and echoes it;
(raw ASGI only) GET /blob/N returns N bytes, the cost of moving a response that size.
"""

from __future__ import annotations

import random
import string
import sys
from typing import Any

import orjson
import uvicorn

BLOB = "".join(random.Random(1).choices(string.ascii_letters + string.digits, k=900))
STORED: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "stored", "namespace": "default", "resourceVersion": "1"},
                          "data": {"blob": BLOB}}


BLOBS: dict[int, bytes] = {}


def fastapi_app() -> Any:
    from fastapi import Body, FastAPI

    app = FastAPI()

    @app.get("/object")
    async def get_object() -> dict[str, Any]:
        return STORED

    @app.post("/echo")
    async def echo(body: dict[str, Any] = Body(...)) -> dict[str, Any]:  # noqa: B008
        return body

    return app


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    if scope["path"].startswith("/blob/"):  # n bytes: what moving a response of that size costs
        size = int(scope["path"][6:])
        body = BLOBS.get(size) or BLOBS.setdefault(size, b" " * size)
    elif scope["method"] == "POST":
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = orjson.dumps(orjson.loads(b"".join(chunks)))
    else:
        body = orjson.dumps(STORED)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    kind, port = sys.argv[1], int(sys.argv[2])
    app = fastapi_app() if kind == "fastapi" else asgi_app
    # As apiserver/serving.py configures uvicorn (log level at its default, "info"; access log and proxy headers off;
    # uvloop, which uvicorn.run picks as the server does).
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="info", access_log=False, lifespan="on",
                            proxy_headers=False, timeout_graceful_shutdown=5)
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
