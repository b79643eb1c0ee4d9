"""Server settings: command-line flags, with MINI_APISERVER_* environment variables as defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def _env(name: str, default: str) -> str:
    return os.environ.get(f"MINI_APISERVER_{name.upper()}", default)


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
