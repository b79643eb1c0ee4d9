"""The real server as a subprocess on 127.0.0.1, and the real clients pointed at it.

One server for the whole session (starting it is the slow part); tests stay independent by each
working in a namespace of its own (the ``namespace`` fixture, or one the test creates itself).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import kubernetes.client
import pytest

REPO = Path(__file__).resolve().parents[2]
SERVER_COMMAND = [sys.executable, "-m", "apiserver", "serve"]
READY_TIMEOUT = 10.0  # seconds for /readyz to answer 200 after the process starts
STOP_TIMEOUT = 5.0  # seconds the server may take to exit after SIGTERM
KUBECTL_TIMEOUT = 60.0  # seconds for one kubectl invocation
HTTP_TIMEOUT = 10.0  # seconds for one plain HTTP request from a test


@dataclass
class Server:
    """A running ``python -m apiserver serve`` and where it keeps its things."""

    url: str
    kubeconfig: Path
    db_path: Path
    process: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path

    def output(self) -> str:
        """Everything the server printed so far, stdout then stderr."""
        return self.stdout_path.read_text(errors="replace") + self.stderr_path.read_text(errors="replace")

    def stderr_tail(self, lines: int = 60) -> str:
        return "\n".join(self.stderr_path.read_text(errors="replace").splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(server: Server) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    last = "no answer yet"
    with httpx.Client(timeout=1.0) as http:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                pytest.fail(
                    f"server exited with {server.process.returncode} before it was ready\n"
                    f"--- stdout ---\n{server.stdout_path.read_text(errors='replace')}\n"
                    f"--- stderr ---\n{server.stderr_tail()}"
                )
            try:
                response = http.get(f"{server.url}/readyz")
                if response.status_code == 200:
                    return
                last = f"/readyz answered {response.status_code}: {response.text[:200]}"
            except httpx.TransportError as e:
                last = f"{type(e).__name__}: {e}"
            time.sleep(0.1)
    _stop(server.process)
    pytest.fail(f"server not ready within {READY_TIMEOUT}s ({last})\n--- stderr ---\n{server.stderr_tail()}")


def _stop(process: subprocess.Popen[bytes]) -> float | None:
    """SIGTERM, wait, then SIGKILL; the seconds it took to exit after SIGTERM, None if it had to be killed."""
    if process.poll() is not None:
        return 0.0
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
        return time.monotonic() - started
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real server on a free port with a fresh SQLite database, stopped with SIGTERM at the end."""
    tmp = tmp_path_factory.mktemp("e2e-server")
    port = _free_port()
    server_url = f"http://127.0.0.1:{port}"
    db_path = tmp / "db.sqlite"
    kubeconfig = tmp / "kubeconfig"
    stdout_path, stderr_path = tmp / "server.stdout.log", tmp / "server.stderr.log"
    command = [*SERVER_COMMAND, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--database", f"sqlite:///{db_path}", "--kubeconfig", str(kubeconfig), "--log-level", "info"]
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        process = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    running = Server(server_url, kubeconfig, db_path, process, stdout_path, stderr_path)
    try:
        _wait_ready(running)
        yield running
    finally:
        took = _stop(process)
    assert took is not None, f"server still running {STOP_TIMEOUT}s after SIGTERM\n{running.stderr_tail()}"
    assert process.returncode == 0, f"server exited {process.returncode} on SIGTERM\n{running.stderr_tail()}"
    tracebacks = running.output().count("Traceback (most recent call last)")
    assert tracebacks == 0, f"the server logged {tracebacks} traceback(s) during the run\n{running.stderr_tail(200)}"


@pytest.fixture(scope="session")
def http(server: Server) -> Iterator[httpx.Client]:
    """Plain HTTP to the server, for setting things up and checking outcomes behind a client's back."""
    with httpx.Client(base_url=server.url, timeout=HTTP_TIMEOUT) as client:
        yield client


def _namespace_name(nodeid: str) -> str:
    """A DNS-1123 label from the test's name, unique per call."""
    slug = re.sub(r"[^a-z0-9]+", "-", nodeid.rsplit("::", 1)[-1].lower()).strip("-")
    return f"e2e-{slug[:40].rstrip('-')}-{secrets.token_hex(3)}"


def create_namespace(http: httpx.Client, name: str) -> None:
    response = http.post("/api/v1/namespaces", json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    assert response.status_code == 201, f"creating namespace {name}: {response.status_code} {response.text}"


@pytest.fixture
def namespace(http: httpx.Client, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace for one test, deleted (without waiting) afterwards."""
    name = _namespace_name(request.node.nodeid)
    create_namespace(http, name)
    yield name
    http.delete(f"/api/v1/namespaces/{name}")  # 404 is fine: the test may have deleted it


@dataclass
class Kubectl:
    """Runs the real kubectl against the server: ``kubectl("get", "pods")``, ``kubectl.json("get", "pods")``."""

    binary: str
    kubeconfig: Path
    env: dict[str, str] = field(default_factory=dict)

    def command(self, *args: str) -> list[str]:
        return [self.binary, "--kubeconfig", str(self.kubeconfig), *args]

    def __call__(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = KUBECTL_TIMEOUT
    ) -> subprocess.CompletedProcess[str]:
        """Run kubectl; with ``check`` (the default) a non-zero exit fails the test, showing kubectl's output."""
        result = subprocess.run(
            self.command(*args), input=input, capture_output=True, text=True, timeout=timeout, env=self.env
        )
        if check and result.returncode != 0:
            pytest.fail(
                f"kubectl {' '.join(args)} exited {result.returncode}\n"
                f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
            )
        return result

    def json(self, *args: str) -> Any:
        """The parsed ``-o json`` output of a kubectl command that must succeed."""
        return json.loads(self(*args, "-o", "json").stdout)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        """A long-running kubectl (``get -w``); the caller ends it."""
        return subprocess.Popen(
            self.command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env
        )


@pytest.fixture(scope="session")
def kubectl(server: Server, kubectl_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    # A private discovery cache: a stale ~/.kube/cache from another server on the same port must not leak in.
    env = {**os.environ, "KUBECACHEDIR": str(tmp_path_factory.mktemp("kubectl-cache"))}
    env.pop("KUBECONFIG", None)
    return Kubectl(kubectl_bin, server.kubeconfig, env)


@pytest.fixture
def k8s(server: Server) -> Iterator[kubernetes.client.ApiClient]:
    """The official Python client, configured for the server's URL (no credentials, as the kubeconfig)."""
    configuration = kubernetes.client.Configuration(host=server.url)
    with kubernetes.client.ApiClient(configuration) as api:
        yield api
