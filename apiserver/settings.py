"""Server settings: command-line flags, with MINI_APISERVER_* environment variables as defaults."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit


def _env(name: str, default: str) -> str:
    return os.environ.get(f"MINI_APISERVER_{name.upper()}", default)


_SERVICE = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?)/([a-z0-9]([-a-z0-9]*[a-z0-9])?)(:([0-9]{1,5}))?$")


def parse_webhook_service(spec: str) -> tuple[str, str]:
    """`NAMESPACE/NAME[:PORT]=URL` -> (`NAMESPACE/NAME[:PORT]`, URL); ValueError when malformed.

    The URL (`http(s)://host:port[/prefix]`) is dialled instead of `https://NAME.NAMESPACE.svc:PORT`, with the
    service's `path` appended; without `:PORT` the entry stands for every port of the service.
    """
    ref, sep, url = spec.strip().partition("=")
    ref, url = ref.strip(), url.strip()
    match = _SERVICE.match(ref)
    if not sep or match is None:
        raise ValueError(f"invalid webhook service {spec!r}: expected NAMESPACE/NAME[:PORT]=URL")
    if match.group(6) is not None and not 1 <= int(match.group(6)) <= 65535:
        raise ValueError(f"invalid webhook service {spec!r}: port must be between 1 and 65535")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"invalid webhook service {spec!r}: URL must be http(s)://host[:port][/path]")
    return ref, url.rstrip("/")


def parse_webhook_services(specs: list[str]) -> dict[str, str]:
    """Each `NAMESPACE/NAME[:PORT]=URL` (a later entry for the same reference wins)."""
    return dict(parse_webhook_service(spec) for spec in specs if spec.strip())


def _env_webhook_services() -> dict[str, str]:
    return parse_webhook_services(_env("webhook_services", "").split(","))


@dataclass
class Settings:
    host: str = field(default_factory=lambda: _env("host", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(_env("port", "8080")))
    database: str = field(default_factory=lambda: _env("database", "sqlite:///mini-apiserver.db"))
    kubeconfig: str | None = field(default_factory=lambda: os.environ.get("MINI_APISERVER_KUBECONFIG"))
    log_level: str = field(default_factory=lambda: _env("log_level", "info"))
    # Seconds of store history kept for watches and paginated lists (kube compacts every 5 min).
    compact_window: float = field(default_factory=lambda: float(_env("compact_window", "300")))
    compact_interval: float = field(default_factory=lambda: float(_env("compact_interval", "60")))
    # Non-watch requests still running after this many seconds get a 504 (kube's --request-timeout).
    request_timeout: float = field(default_factory=lambda: float(_env("request_timeout", "60")))
    # The longest a watch may stay open, whatever timeoutSeconds asks (kube: 2 x --min-request-timeout).
    max_watch_timeout: float = field(default_factory=lambda: float(_env("max_watch_timeout", "3600")))
    # Where webhook service references are dialled (no cluster DNS here): `NAMESPACE/NAME[:PORT]` -> base URL.
    webhook_services: dict[str, str] = field(default_factory=_env_webhook_services)
