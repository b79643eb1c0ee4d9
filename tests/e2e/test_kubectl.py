"""The real kubectl v1.35 against the real server: what users type every day works, and does what it says."""

from __future__ import annotations

import base64
import ipaddress
import queue
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import yaml

from tests.e2e.conftest import Kubectl, Server, create_namespace

# kubectl validates create/apply against the server's /openapi/v3 with its default --validate=strict.
VALIDATE_FLAGS: list[str] = []

WATCH_WAIT = 5.0  # seconds a `get -w` may take to print an event
NAMESPACE_GONE_WAIT = 30.0  # seconds `kubectl delete namespace` may take

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  labels:
    app: demo
data:
  color: blue
  size: "3"
"""

# Four kinds in one file, as people write them; the Secret uses stringData, the Service has no targetPort.
APP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  labels: {app: web}
data:
  mode: production
---
apiVersion: v1
kind: Secret
metadata:
  name: web-secret
  labels: {app: web}
stringData:
  password: s3cr3t
  token: abc
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web}
spec:
  selector: {app: web}
  ports:
  - name: http
    port: 80
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def get(http: httpx.Client, path: str) -> dict:
    response = http.get(path)
    assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
    return response.json()


def assert_gone(http: httpx.Client, path: str) -> None:
    response = http.get(path)
    assert response.status_code == 404, f"GET {path}: expected 404, got {response.status_code} {response.text}"
    assert response.json()["kind"] == "Status"


def names(output: str) -> set[str]:
    return {line for line in output.splitlines() if line}


def test_the_written_kubeconfig_points_kubectl_at_the_server(server: Server, kubectl: Kubectl) -> None:
    assert server.url in server.output(), "the server should announce its URL"
    assert server.db_path.is_file() and server.db_path.stat().st_size > 0, "the store should live at --database"
    config = kubectl.json("config", "view", "--minify")
    assert config["clusters"][0]["cluster"]["server"] == server.url
    assert config["current-context"]
    assert not any(config["users"][0].get("user") or {}), "the user should carry no credentials"
    version = kubectl.json("version")
    assert (version["serverVersion"]["major"], version["serverVersion"]["minor"].rstrip("+")) == ("1", "35")


def test_api_resources_come_from_discovery(kubectl: Kubectl) -> None:
    rows = [line.split() for line in kubectl("api-resources", "--no-headers").stdout.splitlines()]
    by_name = {row[0]: row for row in rows}
    assert by_name["deployments"][1:] == ["deploy", "apps/v1", "true", "Deployment"]
    assert by_name["namespaces"][1:] == ["ns", "v1", "false", "Namespace"]
    assert by_name["configmaps"][1:] == ["cm", "v1", "true", "ConfigMap"]
    assert "cronjobs" in by_name and "horizontalpodautoscalers" in by_name and "leases" in by_name


def test_create_a_configmap_from_a_yaml_file(kubectl: Kubectl, http: httpx.Client, namespace: str, tmp_path: Path) -> None:
    manifest = write(tmp_path, "cm.yaml", CONFIGMAP)

    result = kubectl("create", *VALIDATE_FLAGS, "-n", namespace, "-f", manifest)

    assert result.stdout.strip() == "configmap/settings created"
    stored = get(http, f"/api/v1/namespaces/{namespace}/configmaps/settings")
    assert stored["data"] == {"color": "blue", "size": "3"}
    assert stored["metadata"]["labels"] == {"app": "demo"}
    assert stored["metadata"]["namespace"] == namespace
    assert stored["metadata"]["uid"] and stored["metadata"]["resourceVersion"] and stored["metadata"]["creationTimestamp"]

    again = kubectl("create", *VALIDATE_FLAGS, "-n", namespace, "-f", manifest, check=False)
    assert again.returncode == 1
    assert 'Error from server (AlreadyExists)' in again.stderr
    assert 'configmaps "settings" already exists' in again.stderr


def test_apply_a_multi_document_file_creates_every_object_with_defaults(
    kubectl: Kubectl, http: httpx.Client, namespace: str, tmp_path: Path
) -> None:
    result = kubectl("apply", *VALIDATE_FLAGS, "-n", namespace, "-f", write(tmp_path, "app.yaml", APP))

    assert result.stdout.splitlines() == [
        "configmap/web-config created",
        "secret/web-secret created",
        "deployment.apps/web created",
        "service/web created",
    ]
    base = f"/api/v1/namespaces/{namespace}"
    assert get(http, f"{base}/configmaps/web-config")["data"] == {"mode": "production"}

    secret = get(http, f"{base}/secrets/web-secret")
    assert "stringData" not in secret
    assert secret["type"] == "Opaque"
    assert {k: base64.b64decode(v).decode() for k, v in secret["data"].items()} == {"password": "s3cr3t", "token": "abc"}
    last_applied = secret["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    assert '"stringData"' in last_applied

    deployment = get(http, f"/apis/apps/v1/namespaces/{namespace}/deployments/web")
    spec = deployment["spec"]
    assert spec["replicas"] == 2
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    assert deployment["metadata"]["generation"] == 1
    pod_spec = spec["template"]["spec"]
    assert pod_spec["restartPolicy"] == "Always"
    assert pod_spec["dnsPolicy"] == "ClusterFirst"
    assert pod_spec["terminationGracePeriodSeconds"] == 30
    assert pod_spec["schedulerName"] == "default-scheduler"

    service = get(http, f"{base}/services/web")
    spec = service["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["sessionAffinity"] == "None"
    cluster_ip = ipaddress.ip_address(spec["clusterIP"])  # raises if it is not an address
    assert spec["clusterIPs"] == [str(cluster_ip)]
    assert spec["ports"] == [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 80}]
    kubernetes_service = get(http, "/api/v1/namespaces/default/services/kubernetes")
    assert kubernetes_service["spec"]["clusterIP"] != spec["clusterIP"], "two services got the same clusterIP"


def test_get_json_and_yaml_show_the_stored_objects(kubectl: Kubectl, http: httpx.Client, namespace: str, tmp_path: Path) -> None:
    kubectl("apply", *VALIDATE_FLAGS, "-n", namespace, "-f", write(tmp_path, "app.yaml", APP))

    listed = kubectl.json("get", "configmaps,secrets,deployments,services", "-n", namespace, "-l", "app=web")
    assert listed["kind"] == "List"
    assert sorted((item["kind"], item["metadata"]["name"]) for item in listed["items"]) == [
        ("ConfigMap", "web-config"),
        ("Deployment", "web"),
        ("Secret", "web-secret"),
        ("Service", "web"),
    ]
    deployment = kubectl.json("get", "deployment", "web", "-n", namespace)
    assert deployment["apiVersion"] == "apps/v1" and deployment["kind"] == "Deployment"
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    service = kubectl.json("get", "service", "web", "-n", namespace)
    assert ipaddress.ip_address(service["spec"]["clusterIP"])
    secret = kubectl.json("get", "secret", "web-secret", "-n", namespace)
    assert base64.b64decode(secret["data"]["password"]) == b"s3cr3t"
    assert "stringData" not in secret

    as_yaml = yaml.safe_load(kubectl("get", "configmap", "web-config", "-n", namespace, "-o", "yaml").stdout)
    stored = get(http, f"/api/v1/namespaces/{namespace}/configmaps/web-config")
    stored["metadata"].pop("managedFields", None)  # kubectl hides them by default
    assert as_yaml == stored


def test_get_with_a_label_selector_selects_the_right_objects(
    kubectl: Kubectl, http: httpx.Client, namespace: str, tmp_path: Path
) -> None:
    docs = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "labels": {"app": "x"}}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b", "labels": {"app": "x", "tier": "web"}}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"app": "z"}}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d"}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "labels": {"app": "x"}}, "stringData": {"k": "v"}},
    ]
    kubectl("apply", *VALIDATE_FLAGS, "-n", namespace, "-f", write(tmp_path, "labelled.yaml", yaml.safe_dump_all(docs)))

    def selected(kinds: str, selector: str) -> set[str]:
        return names(kubectl("get", kinds, "-n", namespace, "-l", selector, "-o", "name").stdout)

    assert selected("configmaps", "app=x") == {"configmap/a", "configmap/b"}
    assert selected("configmaps,secrets", "app=x") == {"configmap/a", "configmap/b", "secret/s"}
    assert selected("configmaps", "app in (x,z),tier!=web") == {"configmap/a", "configmap/c"}
    assert selected("configmaps", "app,!tier") == {"configmap/a", "configmap/c"}
    assert selected("configmaps", "app notin (x)") == {"configmap/c", "configmap/d"}  # notin matches a missing label
    assert selected("configmaps", "app=nothing") == set()

    table = kubectl("get", "configmaps", "-n", namespace, "-l", "app=x").stdout.splitlines()
    assert table[0].split()[0] == "NAME"
    assert sorted(line.split()[0] for line in table[1:]) == ["a", "b"]

    served = get(http, f"/api/v1/namespaces/{namespace}/configmaps?labelSelector=app%3Dx")
    assert sorted(item["metadata"]["name"] for item in served["items"]) == ["a", "b"]


def test_get_all_uses_the_all_category(kubectl: Kubectl, namespace: str, tmp_path: Path) -> None:
    kubectl("apply", *VALIDATE_FLAGS, "-n", namespace, "-f", write(tmp_path, "app.yaml", APP))

    shown = names(kubectl("get", "all", "-n", namespace, "-l", "app=web", "-o", "name").stdout)

    # ConfigMaps and Secrets are not in the "all" category; deployments and services are.
    assert shown == {"deployment.apps/web", "service/web"}


class WatchOutput:
    """The lines a long-running ``kubectl get -w`` prints, read on a thread so a test can wait with a deadline."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.seen: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        self._pump = threading.Thread(target=self._read, daemon=True)
        self._pump.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(" ".join(line.split()))  # table columns are padded with runs of spaces

    def wait_for(self, expected: str) -> None:
        deadline = time.monotonic() + WATCH_WAIT
        while expected not in self.seen and (remaining := deadline - time.monotonic()) > 0:
            try:
                self.seen.append(self._lines.get(timeout=remaining))
            except queue.Empty:
                break
        if expected not in self.seen:
            self.stop()
            assert self.process.stderr is not None
            raise AssertionError(
                f"`kubectl get -w` did not print {expected} within {WATCH_WAIT}s; printed {self.seen}; "
                f"stderr: {self.process.stderr.read()!r}"
            )

    def stop(self) -> None:
        self.process.kill()
        self._pump.join(timeout=5)


@contextmanager
def watching(kubectl: Kubectl, *args: str) -> Iterator[WatchOutput]:
    with kubectl.popen(*args) as process:
        output = WatchOutput(process)
        try:
            yield output
            assert process.poll() is None, f"kubectl get -w ended on its own with {process.returncode}"
        finally:
            output.stop()


def test_get_watch_prints_a_configmap_created_by_someone_else(kubectl: Kubectl, http: httpx.Client, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    assert http.post(base, json={"metadata": {"name": "before"}}).status_code == 201

    with watching(kubectl, "get", "configmaps", "-n", namespace, "-w", "-o", "name") as output:
        output.wait_for("configmap/before")  # the initial list
        created = http.post(base, json={"metadata": {"name": "after"}, "data": {"k": "v"}})
        assert created.status_code == 201, created.text
        output.wait_for("configmap/after")  # from the watch

    # Events arrive in order: a watch that replayed "before" would have printed it again by now.
    assert output.seen == ["configmap/before", "configmap/after"]


def test_get_watch_of_one_object_prints_it_then_its_changes(kubectl: Kubectl, http: httpx.Client, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    assert http.post(base, json={"metadata": {"name": "one"}, "data": {"v": "1"}}).status_code == 201
    assert http.post(base, json={"metadata": {"name": "other"}}).status_code == 201
    columns = "custom-columns=NAME:.metadata.name,V:.data.v"

    with watching(kubectl, "get", "configmap", "one", "-n", namespace, "-w", "-o", columns, "--no-headers") as output:
        output.wait_for("one 1")
        patch = {"data": {"v": "2"}}
        headers = {"Content-Type": "application/merge-patch+json"}
        assert http.patch(f"{base}/one", json=patch, headers=headers).status_code == 200
        assert http.patch(f"{base}/other", json=patch, headers=headers).status_code == 200
        output.wait_for("one 2")

    assert output.seen == ["one 1", "one 2"]


def test_delete_a_configmap_waits_until_it_is_gone(kubectl: Kubectl, http: httpx.Client, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    assert http.post(base, json={"metadata": {"name": "doomed"}}).status_code == 201
    assert http.post(base, json={"metadata": {"name": "kept"}}).status_code == 201

    result = kubectl("delete", "configmap", "doomed", "-n", namespace, timeout=20)

    assert result.stdout.startswith('configmap "doomed" deleted')
    assert_gone(http, f"{base}/doomed")
    get(http, f"{base}/kept")
    missing = kubectl("delete", "configmap", "doomed", "-n", namespace, check=False)
    assert missing.returncode == 1
    assert 'configmaps "doomed" not found' in missing.stderr


def test_delete_of_an_object_with_a_finalizer_waits_for_the_finalizer(
    kubectl: Kubectl, http: httpx.Client, namespace: str
) -> None:
    path = f"/api/v1/namespaces/{namespace}/configmaps/held"
    body = {"metadata": {"name": "held", "finalizers": ["e2e.example.com/hold"]}}
    assert http.post(f"/api/v1/namespaces/{namespace}/configmaps", json=body).status_code == 201

    kubectl("delete", "configmap", "held", "-n", namespace, "--wait=false")

    terminating = get(http, path)
    assert terminating["metadata"]["deletionTimestamp"]
    assert terminating["metadata"]["finalizers"] == ["e2e.example.com/hold"]
    kubectl("patch", "configmap", "held", "-n", namespace, "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
    assert_gone(http, path)


def test_delete_namespace_waits_until_it_and_its_contents_are_gone(
    kubectl: Kubectl, http: httpx.Client, tmp_path: Path
) -> None:
    namespace = f"e2e-doomed-ns-{secrets.token_hex(3)}"
    create_namespace(http, namespace)
    kubectl("apply", *VALIDATE_FLAGS, "-n", namespace, "-f", write(tmp_path, "app.yaml", APP))
    objects = [
        f"/api/v1/namespaces/{namespace}/configmaps/web-config",
        f"/api/v1/namespaces/{namespace}/secrets/web-secret",
        f"/apis/apps/v1/namespaces/{namespace}/deployments/web",
        f"/api/v1/namespaces/{namespace}/services/web",
    ]
    for path in objects:
        get(http, path)

    started = time.monotonic()
    result = kubectl("delete", "namespace", namespace, "--wait", timeout=NAMESPACE_GONE_WAIT)

    assert result.stdout.startswith(f'namespace "{namespace}" deleted')
    assert time.monotonic() - started < NAMESPACE_GONE_WAIT
    assert_gone(http, f"/api/v1/namespaces/{namespace}")
    for path in objects:
        assert_gone(http, path)
    in_namespace = f"fieldSelector=metadata.namespace%3D{namespace}"
    for collection in ["/api/v1/configmaps", "/api/v1/secrets", "/api/v1/services", "/apis/apps/v1/deployments"]:
        assert get(http, f"{collection}?{in_namespace}")["items"] == [], f"{collection} still has objects in {namespace}"


def test_builtin_namespaces_cannot_be_deleted(kubectl: Kubectl, http: httpx.Client) -> None:
    result = kubectl("delete", "namespace", "kube-system", check=False, timeout=20)

    assert result.returncode == 1
    assert "Forbidden" in result.stderr
    assert get(http, "/api/v1/namespaces/kube-system")["status"]["phase"] == "Active"


def test_repeated_apply_is_idempotent(kubectl: Kubectl, http: httpx.Client, namespace: str, tmp_path: Path) -> None:
    # Without the stringData Secret: kubectl always re-sends stringData (see the next test).
    manifest = write(tmp_path, "app.yaml", "---\n".join(doc for doc in APP.split("---\n") if "kind: Secret" not in doc))
    kubectl("apply", *VALIDATE_FLAGS, "-n", namespace, "-f", manifest)
    paths = [
        f"/api/v1/namespaces/{namespace}/configmaps/web-config",
        f"/apis/apps/v1/namespaces/{namespace}/deployments/web",
        f"/api/v1/namespaces/{namespace}/services/web",
    ]
    before = {path: get(http, path) for path in paths}

    for _ in range(2):
        result = kubectl("apply", *VALIDATE_FLAGS, "-n", namespace, "-f", manifest)
        assert result.stdout.splitlines() == [
            "configmap/web-config unchanged",
            "deployment.apps/web unchanged",
            "service/web unchanged",
        ]

    after = {path: get(http, path) for path in paths}
    for path in paths:
        assert after[path]["metadata"]["resourceVersion"] == before[path]["metadata"]["resourceVersion"], path
        assert after[path]["metadata"]["uid"] == before[path]["metadata"]["uid"], path
    assert after[paths[2]]["spec"]["clusterIP"] == before[paths[2]]["spec"]["clusterIP"]


def test_apply_of_a_changed_file_updates_the_objects(kubectl: Kubectl, http: httpx.Client, namespace: str, tmp_path: Path) -> None:
    # A re-apply that changes something (and any re-apply of a stringData Secret) sends a strategic merge patch.
    kubectl("apply", *VALIDATE_FLAGS, "-n", namespace, "-f", write(tmp_path, "app.yaml", APP))
    changed = APP.replace("mode: production", "mode: staging").replace("replicas: 2", "replicas: 3")

    result = kubectl("apply", *VALIDATE_FLAGS, "-n", namespace, "-f", write(tmp_path, "changed.yaml", changed))

    assert result.stdout.splitlines() == [
        "configmap/web-config configured",
        "secret/web-secret configured",
        "deployment.apps/web configured",
        "service/web unchanged",
    ]
    assert get(http, f"/api/v1/namespaces/{namespace}/configmaps/web-config")["data"] == {"mode": "staging"}
    deployment = get(http, f"/apis/apps/v1/namespaces/{namespace}/deployments/web")
    assert deployment["spec"]["replicas"] == 3
    secret = get(http, f"/api/v1/namespaces/{namespace}/secrets/web-secret")
    assert base64.b64decode(secret["data"]["password"]) == b"s3cr3t"


def test_scale_a_deployment(kubectl: Kubectl, http: httpx.Client, namespace: str, tmp_path: Path) -> None:
    kubectl("apply", *VALIDATE_FLAGS, "-n", namespace, "-f", write(tmp_path, "app.yaml", APP))

    result = kubectl("scale", "deployment", "web", "-n", namespace, "--replicas=5")

    assert result.stdout.strip() == "deployment.apps/web scaled"
    assert get(http, f"/apis/apps/v1/namespaces/{namespace}/deployments/web")["spec"]["replicas"] == 5
    scale = get(http, f"/apis/apps/v1/namespaces/{namespace}/deployments/web/scale")
    assert (scale["apiVersion"], scale["kind"], scale["spec"]["replicas"]) == ("autoscaling/v1", "Scale", 5)

