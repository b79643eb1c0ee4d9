"""Serving: uvicorn on uvloop with the app, until SIGINT/SIGTERM (`mini-apiserver serve`)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import Callable, Coroutine, Iterator
from types import FrameType
from typing import Any

import uvicorn

from apiserver.cli import write_kubeconfig
from apiserver.settings import Settings


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM/SIGINT after a graceful shutdown; we exit 0 instead.

    On the signal, open watches are ended at once (clients re-watch elsewhere), so shutdown waits
    only for ordinary in-flight requests instead of the graceful-shutdown timeout.
    """

    def __init__(self, config: uvicorn.Config, on_exit: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_exit = on_exit

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._on_exit()
        super().handle_exit(sig, frame)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)


async def serve(settings: Settings) -> None:
    from apiserver.app import create_app

    app = create_app(settings)
    # proxy_headers off: no X-Forwarded-* rewriting (kube-apiserver trusts none either), one layer less per request
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level=settings.log_level,
                            proxy_headers=False,
                            access_log=settings.log_level == "debug", lifespan="on",
                            timeout_graceful_shutdown=5)
    server = _Server(config, on_exit=app.state.server.end_watches)

    async def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.01)
        sock = server.servers[0].sockets[0]
        host, port = sock.getsockname()[:2]
        url = f"http://{host}:{port}"
        if settings.kubeconfig:
            write_kubeconfig(settings.kubeconfig, url)
        print(f"mini-apiserver listening on {url}", flush=True)
        gc.freeze()  # what start-up built (modules, schemas, the loaded objects) is never scanned again

    waiter = asyncio.create_task(announce())
    await server.serve()
    waiter.cancel()


def run(settings: Settings) -> None:
    _run(serve(settings))


def _run(main: Coroutine[Any, Any, None]) -> None:
    """On uvloop where it is installed (uvicorn[standard] brings it), as `uvicorn.run` would pick:
    its transports cost a fraction of asyncio's selector loop per request."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - platforms without uvloop (Windows)
        asyncio.run(main)
        return
    uvloop.run(main)
