"""`mini-apiserver serve`: start the server (uvicorn) with a store at --database."""

from __future__ import annotations

import argparse
import gc
import logging
import sys

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


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    settings = Settings(host=args.host, port=args.port, database=args.database, kubeconfig=args.kubeconfig,
                        log_level=args.log_level, webhook_services=args.webhook_services)
    # The heap is mostly long-lived acyclic objects (modules, schemas, the watch cache's JSON): collect young
    # objects less often, and the whole heap (a pause of 100+ ms at 100k objects) far less often than every
    # 10th gen-1 run. Set before the heavy imports below: collecting while importing cost start-up ~100 ms.
    gc.set_threshold(20_000, 50, 100)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from apiserver import serving  # uvicorn, the app and the store

    serving.run(settings)
