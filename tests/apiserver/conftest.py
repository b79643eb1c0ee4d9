"""In-process API fixtures: the app on a throw-away store, driven through httpx's ASGI transport.

ASGITransport buffers whole responses, so watch streams are tested against real uvicorn
(`live_server`) instead.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn

from apiserver.app import create_app
from apiserver.server import Server
from apiserver.settings import Settings
from storage import Store, open_store


@pytest.fixture
async def api_and_server() -> AsyncIterator[tuple[httpx.AsyncClient, Server]]:
    """A client of the app, and the app's Server (its store, registry, caches) to look at or tamper with."""
    app = create_app(Settings(database="sqlite://", compact_interval=0))
    server = app.state.server
    await server.start()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client, server
    finally:
        await server.stop()


@pytest.fixture
async def api(api_and_server: tuple[httpx.AsyncClient, Server]) -> httpx.AsyncClient:
    return api_and_server[0]


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    s = open_store("sqlite://", compact_interval=0)
    await s.start()
    yield s
    await s.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def live_server(served: tuple[str, Any]) -> str:
    """A real uvicorn server in this event loop; its base URL."""
    return served[0]


@pytest.fixture
async def served() -> AsyncIterator[tuple[str, Any]]:
    """A real uvicorn server in this event loop, and its app (to look at the watch cache)."""
    port = _free_port()
    app = create_app(Settings(database="sqlite://", compact_interval=0))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        await task
