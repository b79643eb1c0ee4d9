"""`mini-apiserver serve`: start the server (uvicorn) with a store at --database."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import signal
import sys
from collections.abc import Callable, Coroutine, Iterator
from types import FrameType
from typing import Any

import uvicorn

from apiserver.settings import Settings, parse_webhook_service


def write_kubeconfig(path: str, url: str) -> None:
    """A kubeconfig whose current context points kubectl, helm and client libraries here."""
    import yaml  # only when asked for a kubeconfig

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "mini-apiserver", "cluster": {"server": url}}],
        "users": [{"name": "mini-apiserver", "user": {}}],
        "contexts": [{"name": "mini-apiserver",
                      "context": {"cluster": "mini-apiserver", "user": "mini-apiserver", "namespace": "default"}}],
        "current-context": "mini-apiserver",
        "preferences": {},
    }
    with open(path, "w") as f:
        yaml.safe_dump(config, f, sort_keys=False)


def parse_args(argv: list[str]) -> argparse.Namespace:
    try:
        defaults = Settings()
    except ValueError as err:  # a malformed MINI_APISERVER_* variable
        raise SystemExit(f"mini-apiserver: error: {err}") from None
    parser = argparse.ArgumentParser(prog="mini-apiserver", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API server")
    serve.add_argument("--host", default=defaults.host, help="address to listen on (default %(default)s)")
    serve.add_argument("--port", type=int, default=defaults.port, help="port (default %(default)s; 0 picks one)")
    serve.add_argument("--database", default=defaults.database,
                       help="SQLAlchemy URL of the store (default %(default)s; sqlite:// is a throw-away store)")
    serve.add_argument("--kubeconfig", default=defaults.kubeconfig, help="write a kubeconfig for this server here")
    serve.add_argument("--log-level", default=defaults.log_level,
                       choices=["critical", "error", "warning", "info", "debug"])
    serve.add_argument("--webhook-service", dest="webhook_services", action="append", type=_webhook_service,
                       metavar="NAMESPACE/NAME[:PORT]=URL",
                       help="dial URL for this service reference of admission and conversion webhooks "
                            "(repeatable; TLS still checks NAME.NAMESPACE.svc; default: "
                            "MINI_APISERVER_WEBHOOK_SERVICES, comma-separated)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        args.webhook_services = (dict(args.webhook_services) if args.webhook_services is not None
                                 else defaults.webhook_services)
    return args


def _webhook_service(spec: str) -> tuple[str, str]:
    try:
        return parse_webhook_service(spec)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


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


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    settings = Settings(host=args.host, port=args.port, database=args.database, kubeconfig=args.kubeconfig,
                        log_level=args.log_level, webhook_services=args.webhook_services)
    # The heap is mostly the watch cache's acyclic JSON objects: collect young objects less often, and
    # the whole heap (a pause of 100+ ms at 100k objects) far less often than every 10th gen-1 run.
    gc.set_threshold(20_000, 50, 100)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
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
