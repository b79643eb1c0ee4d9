"""The real helm v4 against the real server: a chart with several kinds and a CRD through its whole life.

helm keeps each release revision as a Secret ``sh.helm.release.v1.<release>.v<N>`` labelled ``owner=helm``,
applies server-side by default, and waits for the CRDs under ``crds/`` to be Established before it renders
the templates that use them. Every step is checked in the store over HTTP.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Server
from tests.e2e.test_kubectl_commands import mark_available

HELM_TIMEOUT = 60.0  # seconds for one helm invocation
HELM_WAIT = "30s"  # helm's own --timeout for --wait
POLL = 0.1  # seconds between polls of the store

CHART_YAML = """\
apiVersion: v2
name: demo
description: A chart with several kinds and a CRD
type: application
version: 0.1.0
appVersion: "1.0"
"""

VALUES_YAML = """\
color: blue
replicas: 1
"""

CRD_TEMPLATE = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.{group}
spec:
  group: {group}
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [wdg]
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              color: {{type: string}}
              size: {{type: integer}}
"""

TEMPLATES = {
    "configmap.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
  labels:
    app: {{ .Release.Name }}
data:
  color: {{ .Values.color | quote }}
""",
    "deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
  labels:
    app: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels:
      app: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: {{ .Release.Name }}
      annotations:
        color: {{ .Values.color | quote }}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
""",
    "service.yaml": """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-svc
  labels:
    app: {{ .Release.Name }}
spec:
  selector:
    app: {{ .Release.Name }}
  ports:
  - name: http
    port: 80
    targetPort: 80
""",
    "widget.yaml": """\
apiVersion: GROUP/v1
kind: Widget
metadata:
  name: {{ .Release.Name }}-widget
spec:
  color: {{ .Values.color | quote }}
  size: 3
""",
}


class Helm:
    """Runs the real helm against the server with a private cache and config, like ``Kubectl`` does kubectl."""

    def __init__(self, binary: str, server: Server, home: Path) -> None:
        self.binary = binary
        self.kubeconfig = server.kubeconfig
        self.env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "HELM_CACHE_HOME": str(home / "cache"),
            "HELM_CONFIG_HOME": str(home / "config"),
            "HELM_DATA_HOME": str(home / "data"),
            "KUBECACHEDIR": str(home / "kube-cache"),
        }

    def command(self, *args: str) -> list[str]:
        return [self.binary, "--kubeconfig", str(self.kubeconfig), *args]

    def __call__(self, *args: str, check: bool = True, timeout: float = HELM_TIMEOUT) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(self.command(*args), capture_output=True, text=True, timeout=timeout, env=self.env)
        if check and result.returncode != 0:
            pytest.fail(f"helm {' '.join(args)} exited {result.returncode}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}")
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "-o", "json").stdout)


@pytest.fixture
def helm(helm_bin: str, server: Server, tmp_path: Path) -> Helm:
    return Helm(helm_bin, server, tmp_path / "helm-home")


def make_chart(tmp_path: Path, group: str) -> Path:
    chart = tmp_path / "demo"
    (chart / "templates").mkdir(parents=True)
    (chart / "crds").mkdir()
    (chart / "Chart.yaml").write_text(CHART_YAML)
    (chart / "values.yaml").write_text(VALUES_YAML)
    (chart / "crds" / "widgets.yaml").write_text(CRD_TEMPLATE.format(group=group))
    for name, text in TEMPLATES.items():
        (chart / "templates" / name).write_text(text.replace("GROUP", group))
    return chart


def status_of(http: httpx.Client, path: str) -> int:
    return http.get(path).status_code


def get(http: httpx.Client, path: str) -> dict:
    response = http.get(path)
    assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
    return response.json()


def poll(what: str, check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(POLL)
    return result


def release_secrets(http: httpx.Client, namespace: str, release: str) -> list[str]:
    listed = get(http, f"/api/v1/namespaces/{namespace}/secrets?labelSelector=owner%3Dhelm,name%3D{release}")
    for secret in listed["items"]:
        assert secret["type"] == "helm.sh/release.v1"
    return sorted(secret["metadata"]["name"] for secret in listed["items"])


def paths(namespace: str, release: str, group: str) -> dict[str, str]:
    return {
        "configmap": f"/api/v1/namespaces/{namespace}/configmaps/{release}-config",
        "deployment": f"/apis/apps/v1/namespaces/{namespace}/deployments/{release}-web",
        "service": f"/api/v1/namespaces/{namespace}/services/{release}-svc",
        "widget": f"/apis/{group}/v1/namespaces/{namespace}/widgets/{release}-widget",
    }


def colors(http: httpx.Client, where: dict[str, str]) -> tuple[str, str, str]:
    """The value `color` as the ConfigMap, the Deployment's pod template and the Widget carry it."""
    deployment = get(http, where["deployment"])
    return (
        get(http, where["configmap"])["data"]["color"],
        deployment["spec"]["template"]["metadata"]["annotations"]["color"],
        get(http, where["widget"])["spec"]["color"],
    )


def test_helm_install_upgrade_rollback_and_uninstall_a_chart_with_a_crd(
    helm: Helm, http: httpx.Client, namespace: str, tmp_path: Path
) -> None:
    group = f"e2e{secrets.token_hex(3)}.example.com"
    chart = make_chart(tmp_path, group)
    release = "demo"
    where = paths(namespace, release, group)
    try:
        # install: the CRD first (helm waits for it to be Established), then every template.
        installed = helm("install", release, str(chart), "-n", namespace)
        assert "STATUS: deployed" in installed.stdout, installed.stdout
        crd = get(http, f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.{group}")
        assert {"type": "Established", "status": "True"}.items() <= next(
            c for c in crd["status"]["conditions"] if c["type"] == "Established"
        ).items()
        assert colors(http, where) == ("blue", "blue", "blue")
        assert get(http, where["service"])["spec"]["ports"][0]["port"] == 80
        for path in where.values():
            meta = get(http, path)["metadata"]
            assert meta["annotations"]["meta.helm.sh/release-name"] == release, path
            assert meta["annotations"]["meta.helm.sh/release-namespace"] == namespace, path
            assert meta["labels"]["app.kubernetes.io/managed-by"] == "Helm", path
            assert any(m["manager"] == "helm" and m["operation"] == "Apply" for m in meta["managedFields"]), meta["managedFields"]
        assert release_secrets(http, namespace, release) == [f"sh.helm.release.v1.{release}.v1"]

        # upgrade with a changed value: the objects change in the store.
        upgraded = helm("upgrade", release, str(chart), "-n", namespace, "--set", "color=green", "--set", "replicas=2")
        assert "STATUS: deployed" in upgraded.stdout and "REVISION: 2" in upgraded.stdout, upgraded.stdout
        assert colors(http, where) == ("green", "green", "green")
        assert get(http, where["deployment"])["spec"]["replicas"] == 2

        # list, status, history.
        [listed] = helm.json("list", "-n", namespace)
        assert (listed["name"], listed["revision"], listed["status"], listed["chart"]) == (release, "2", "deployed", "demo-0.1.0")
        status = helm.json("status", release, "-n", namespace)
        assert (status["name"], status["version"], status["info"]["status"]) == (release, 2, "deployed")
        assert status["config"] == {"color": "green", "replicas": 2}
        history = helm.json("history", release, "-n", namespace)
        assert [(h["revision"], h["status"]) for h in history] == [(1, "superseded"), (2, "deployed")]
        assert release_secrets(http, namespace, release) == [f"sh.helm.release.v1.{release}.v1", f"sh.helm.release.v1.{release}.v2"]

        # rollback to 1: the first values are back, as revision 3.
        helm("rollback", release, "1", "-n", namespace)
        assert colors(http, where) == ("blue", "blue", "blue")
        assert get(http, where["deployment"])["spec"]["replicas"] == 1
        history = helm.json("history", release, "-n", namespace)
        assert [(h["revision"], h["status"]) for h in history] == [(1, "superseded"), (2, "superseded"), (3, "deployed")]

        # uninstall: the objects and the release Secrets go; the CRD stays, as helm leaves crds/ alone.
        uninstalled = helm("uninstall", release, "-n", namespace)
        assert f'release "{release}" uninstalled' in uninstalled.stdout, uninstalled.stdout
        for path in where.values():
            poll(f"{path} gone", lambda path=path: status_of(http, path) == 404)
        assert release_secrets(http, namespace, release) == []
        assert helm.json("list", "-n", namespace) == []
        get(http, f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.{group}")
    finally:
        http.delete(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.{group}")


def test_helm_install_wait_finishes_once_the_deployment_is_marked_available(
    helm: Helm, http: httpx.Client, namespace: str, tmp_path: Path
) -> None:
    group = f"e2e{secrets.token_hex(3)}.example.com"
    chart = make_chart(tmp_path, group)
    release = "waited"
    where = paths(namespace, release, group)
    stop = threading.Event()
    marked: list[str] = []

    def play_the_controllers() -> None:
        # As soon as helm created the Deployment, report it rolled out (there are no controllers here).
        while not stop.is_set():
            if status_of(http, where["deployment"]) == 200:
                mark_available(http, namespace, f"{release}-web")
                marked.append("yes")
                return
            time.sleep(POLL)

    controller = threading.Thread(target=play_the_controllers, daemon=True)
    controller.start()
    try:
        started = time.monotonic()
        result = helm("install", release, str(chart), "-n", namespace, "--wait", "--timeout", HELM_WAIT)
        took = time.monotonic() - started
    finally:
        stop.set()
        controller.join(timeout=5)
        http.delete(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.{group}")

    assert marked, "the Deployment never appeared in the store"
    assert "STATUS: deployed" in result.stdout, result.stdout
    assert took < 25, f"helm --wait took {took:.1f}s"
    deployment = get(http, where["deployment"])
    assert deployment["status"]["availableReplicas"] == 1
    assert release_secrets(http, namespace, release) == [f"sh.helm.release.v1.{release}.v1"]
    secret = get(http, f"/api/v1/namespaces/{namespace}/secrets/sh.helm.release.v1.{release}.v1")
    assert secret["metadata"]["labels"]["status"] == "deployed"
