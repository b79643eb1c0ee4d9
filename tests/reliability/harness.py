"""The real server as a subprocess on one SQLite file, started, killed and restarted by a test.

It listens on port 0 and the harness reads the port off the line the server prints when it is
listening, so a restart never races another process for a port picked in advance.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 30.0  # seconds from spawning to /readyz 200 (a busy 2-core CI runner starts Python slowly)
LISTENING = re.compile(r"mini-apiserver listening on (http://\S+)")
CONFIGMAPS = "/api/v1/namespaces/{namespace}/configmaps"


class ServerProcess:
    """`python -m apiserver serve` on a fixed database; one log file pair per start."""

    def __init__(self, db_path: Path, log_dir: Path, env: dict[str, str] | None = None) -> None:
        self.db_path = db_path
        self.log_dir = log_dir
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.starts = 0

    @property
    def stdout_path(self) -> Path:
        return self.log_dir / f"server-{self.starts}.stdout.log"

    @property
    def stderr_path(self) -> Path:
        return self.log_dir / f"server-{self.starts}.stderr.log"

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "the previous server is still running"
        self.starts += 1
        self.url = ""
        command = [sys.executable, "-m", "apiserver", "serve", "--host", "127.0.0.1", "--port", "0",
                   "--database", f"sqlite:///{self.db_path}", "--log-level", "info"]
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(command, cwd=REPO, env=self.env, stdout=out, stderr=err,
                                            stdin=subprocess.DEVNULL)

    async def wait_ready(self, timeout: float = READY_TIMEOUT) -> str:
        """The server's URL once /readyz answers 200; fails if it exits or takes too long."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        last = "not listening yet"
        async with httpx.AsyncClient(timeout=2.0) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise AssertionError(f"server exited with {self.process.returncode} before it was ready\n"
                                         f"{self.logs()}")
                if not self.url:
                    found = LISTENING.search(self.stdout_path.read_text(errors="replace"))
                    if found:
                        self.url = found.group(1)
                if self.url:
                    try:
                        response = await http.get(f"{self.url}/readyz")
                        if response.status_code == 200:
                            return self.url
                        last = f"/readyz answered {response.status_code}"
                    except httpx.TransportError as err:
                        last = f"{type(err).__name__}: {err}"
                await asyncio.sleep(0.05)
        self.kill()
        raise AssertionError(f"server not ready within {timeout}s ({last})\n{self.logs()}")

    def kill(self) -> None:
        """SIGKILL, and reap it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait()

    def terminate(self) -> float:
        """Send SIGTERM; the monotonic time it was sent."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return time.monotonic()

    async def wait_exit(self, timeout: float) -> int | None:
        """The exit code, or None if it is still running after `timeout` seconds (it is left running)."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self.process.poll()

    def logs(self, lines: int = 60) -> str:
        err = self.stderr_path.read_text(errors="replace").splitlines()[-lines:]
        return f"--- server #{self.starts} stderr (last {lines} lines) ---\n" + "\n".join(err)

    def tracebacks(self) -> list[str]:
        """The stderr logs (of every start so far) that contain a Python traceback."""
        found = []
        for n in range(1, self.starts + 1):
            path = self.log_dir / f"server-{n}.stderr.log"
            if path.exists() and "Traceback (most recent call last)" in path.read_text(errors="replace"):
                found.append(str(path))
        return found


def configmap(name: str, data: dict[str, str], *, resource_version: int | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if resource_version is not None:
        meta["resourceVersion"] = str(resource_version)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def rv_of(obj: dict[str, Any]) -> int:
    return int(obj["metadata"]["resourceVersion"])
