"""In-process API fixtures: the app on a throw-away store, driven through httpx's ASGI transport.

ASGITransport buffers whole responses, so watch streams are tested against real uvicorn
(`live_server`) instead.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from apiserver.app import create_app
from apiserver.settings import Settings


@pytest.fixture
async def api() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database="sqlite://", compact_interval=0))
    server = app.state.server
    await server.start()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client
    finally:
        await server.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def live_server() -> AsyncIterator[str]:
    """A real uvicorn server in this event loop; yields its base URL."""
    port = _free_port()
    app = create_app(Settings(database="sqlite://", compact_interval=0))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
