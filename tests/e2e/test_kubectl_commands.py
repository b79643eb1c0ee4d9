"""Everything else kubectl leans on: wait, delete, scale, watch, diff, edit, label/annotate/patch, replace,
create (dry-run and protobuf bodies), output formats, describe, discovery, explain, auth and server-side apply.

Each command runs with the real kubectl v1.35 and default flags; its outcome is checked in the store over HTTP.
"""

from __future__ import annotations

import base64
import queue
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.e2e.conftest import Kubectl
from tests.e2e.test_kubectl import WATCH_WAIT, WatchOutput, assert_gone, get, watching, write

WAIT_TIMEOUT = 20.0  # seconds a `kubectl wait`/`delete` may take once its condition holds
POLL = 0.05  # seconds between polls of the store

MERGE = {"Content-Type": "application/merge-patch+json"}

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 1
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
"""

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  labels: {app: demo}
data:
  color: blue
  size: "3"
"""


def poll(what: str, check: Callable[[], Any], timeout: float = WAIT_TIMEOUT) -> Any:
    """Call ``check`` until it returns something truthy, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(POLL)


def finish(process: subprocess.Popen[str], timeout: float = WAIT_TIMEOUT) -> tuple[int, str, str]:
    """The exit code and output of a background kubectl, killed if it outlives ``timeout``."""
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(f"kubectl still running after {timeout}s\nstdout: {out}\nstderr: {err}") from None
    return process.returncode, out, err


def create_deployment(http: httpx.Client, namespace: str, name: str = "web", replicas: int = 1) -> dict:
    body = yaml.safe_load(DEPLOYMENT.replace("name: web\n", f"name: {name}\n", 1))
    body["spec"]["replicas"] = replicas
    response = http.post(f"/apis/apps/v1/namespaces/{namespace}/deployments", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def mark_available(http: httpx.Client, namespace: str, name: str) -> None:
    """Play the deployment controller and the kubelet: every replica up to date, ready and available."""
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}"
    deployment = get(http, path)
    replicas = deployment["spec"].get("replicas", 1)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    status = {
        "observedGeneration": deployment["metadata"]["generation"],
        "replicas": replicas,
        "updatedReplicas": replicas,
        "readyReplicas": replicas,
        "availableReplicas": replicas,
        "conditions": [
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability.", "lastUpdateTime": now, "lastTransitionTime": now},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": "ReplicaSet has successfully progressed.", "lastUpdateTime": now, "lastTransitionTime": now},
        ],
    }
    response = http.patch(f"{path}/status", json={"status": status}, headers=MERGE)
    assert response.status_code == 200, f"PATCH {path}/status: {response.status_code} {response.text}"


def create_pod(http: httpx.Client, namespace: str, name: str, **meta: Any) -> dict:
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": name}, **meta},
        "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]},
    }
    response = http.post(f"/api/v1/namespaces/{namespace}/pods", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def collect(output: WatchOutput, count: int, timeout: float = WATCH_WAIT) -> None:
    """Read lines from a running ``get -w`` until it printed ``count`` of them (a repeated name included)."""
    deadline = time.monotonic() + timeout
    while len(output.seen) < count and (remaining := deadline - time.monotonic()) > 0:
        try:
            output.seen.append(output._lines.get(timeout=remaining))
        except queue.Empty:
            break


# --- kubectl wait -----------------------------------------------------------------------------------------


def test_wait_for_condition_available_ends_when_the_status_says_so(kubectl: Kubectl, http: httpx.Client, namespace: str) -> None:
    create_deployment(http, namespace)

    with kubectl.popen("wait", "--for=condition=Available", "deployment/web", "-n", namespace, f"--timeout={WAIT_TIMEOUT:.0f}s") as waiting:
        time.sleep(0.5)
        assert waiting.poll() is None, f"kubectl wait ended before the deployment was available: {waiting.communicate()}"
        mark_available(http, namespace, "web")
        code, out, err = finish(waiting)

    assert code == 0, err
    assert out.strip() == "deployment.apps/web condition met"
    conditions = get(http, f"/apis/apps/v1/namespaces/{namespace}/deployments/web")["status"]["conditions"]
    assert {"type": "Available", "status": "True"}.items() <= conditions[0].items()


def test_wait_for_condition_on_an_already_available_deployment_returns_at_once(kubectl: Kubectl, http: httpx.Client, namespace: str) -> None:
    create_deployment(http, namespace)
    mark_available(http, namespace, "web")

    result = kubectl("wait", "--for=condition=Available", "deployment/web", "-n", namespace, "--timeout=10s")

    assert result.stdout.strip() == "deployment.apps/web condition met"


def test_wait_times_out_when_the_condition_never_holds(kubectl: Kubectl, http: httpx.Client, namespace: str) -> None:
    create_deployment(http, namespace)

    result = kubectl("wait", "--for=condition=Available", "deployment/web", "-n", namespace, "--timeout=1s", check=False)

    assert result.returncode == 1
    assert "timed out waiting for the condition" in result.stderr


def test_wait_for_jsonpath_phase_pending_on_a_pod(kubectl: Kubectl, http: httpx.Client, namespace: str) -> None:
    create_pod(http, namespace, "sleeper")

    result = kubectl("wait", "--for=jsonpath={.status.phase}=Pending", "pod/sleeper", "-n", namespace, "--timeout=10s")

    assert result.stdout.strip() == "pod/sleeper condition met"
    assert get(http, f"/api/v1/namespaces/{namespace}/pods/sleeper")["status"]["phase"] == "Pending"


def test_wait_for_delete_ends_when_the_pod_is_deleted_by_someone_else(kubectl: Kubectl, http: httpx.Client, namespace: str) -> None:
    create_pod(http, namespace, "doomed")
    path = f"/api/v1/namespaces/{namespace}/pods/doomed"

    with kubectl.popen("wait", "--for=delete", "pod/doomed", "-n", namespace, f"--timeout={WAIT_TIMEOUT:.0f}s") as waiting:
        time.sleep(0.5)
        assert waiting.poll() is None, f"kubectl wait --for=delete ended while the pod existed: {waiting.communicate()}"
        assert http.delete(path).status_code == 200
        code, out, err = finish(waiting)

    assert code == 0, err
    assert out.strip() == "pod/doomed condition met"
    assert_gone(http, path)


# --- kubectl delete, scale ---------------------------------------------------------------------------------


def test_delete_waits_for_a_finalizer_removed_concurrently(kubectl: Kubectl, http: httpx.Client, namespace: str) -> None:
    path = f"/api/v1/namespaces/{namespace}/configmaps/held"
    body = {"metadata": {"name": "held", "finalizers": ["e2e.example.com/hold"]}}
    assert http.post(f"/api/v1/namespaces/{namespace}/configmaps", json=body).status_code == 201

    with kubectl.popen("delete", "configmap", "held", "-n", namespace) as deleting:
        terminating = poll("deletionTimestamp", lambda: get(http, path)["metadata"].get("deletionTimestamp"))
        assert terminating
        time.sleep(0.5)
        assert deleting.poll() is None, f"kubectl delete returned while the finalizer was still there: {deleting.communicate()}"
        assert http.patch(path, json={"metadata": {"finalizers": None}}, headers=MERGE).status_code == 200
        code, out, err = finish(deleting)

    assert code == 0, err
    assert out.startswith('configmap "held" deleted')
    assert_gone(http, path)


def test_scale_uses_the_scale_subresource_and_checks_current_replicas(kubectl: Kubectl, http: httpx.Client, namespace: str) -> None:
    create_deployment(http, namespace, replicas=2)
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/web"

    result = kubectl("scale", "deployment/web", "-n", namespace, "--replicas=4")
    assert result.stdout.strip() == "deployment.apps/web scaled"
    assert get(http, path)["spec"]["replicas"] == 4
    assert get(http, f"{path}/scale")["spec"]["replicas"] == 4

    stale = kubectl("scale", "deployment/web", "-n", namespace, "--current-replicas=2", "--replicas=1", check=False)
    assert stale.returncode == 1
    assert "Expected replicas to be 2, was 4" in stale.stderr
    assert get(http, path)["spec"]["replicas"] == 4

    kubectl("scale", "deployment/web", "-n", namespace, "--replicas=0")
    assert get(http, path)["spec"]["replicas"] == 0


def test_scale_to_zero_with_current_replicas_sends_a_scale_without_replicas(
    kubectl: Kubectl, http: httpx.Client, namespace: str
) -> None:
    # With --current-replicas kubectl PUTs the Scale; autoscaling/v1 ScaleSpec.replicas is omitempty, so a
    # Scale to 0 arrives with "spec": {} and kube reads the missing field as 0.
    create_deployment(http, namespace, replicas=2)

    kubectl("scale", "deployment/web", "-n", namespace, "--current-replicas=2", "--replicas=0")

    assert get(http, f"/apis/apps/v1/namespaces/{namespace}/deployments/web")["spec"]["replicas"] == 0


# --- kubectl get --watch ------------------------------------------------------------------------------------


def test_get_watch_on_a_list_prints_names_as_objects_come_and_change(kubectl: Kubectl, http: httpx.Client, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    assert http.post(base, json={"metadata": {"name": "first"}}).status_code == 201

    with watching(kubectl, "get", "configmaps", "-n", namespace, "--watch", "-o", "name") as output:
        output.wait_for("configmap/first")
        assert http.post(base, json={"metadata": {"name": "second"}}).status_code == 201
        output.wait_for("configmap/second")
        assert http.patch(f"{base}/first", json={"data": {"a": "b"}}, headers=MERGE).status_code == 200
        collect(output, 3)

    assert output.seen == ["configmap/first", "configmap/second", "configmap/first"]


def test_get_watch_on_one_object_prints_only_its_events(kubectl: Kubectl, http: httpx.Client, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    for name in ("mine", "theirs"):
        assert http.post(base, json={"metadata": {"name": name}}).status_code == 201

    with watching(kubectl, "get", "configmap", "mine", "-n", namespace, "--watch", "-o", "name") as output:
        output.wait_for("configmap/mine")
        assert http.patch(f"{base}/theirs", json={"data": {"x": "1"}}, headers=MERGE).status_code == 200
        assert http.patch(f"{base}/mine", json={"data": {"x": "1"}}, headers=MERGE).status_code == 200
        collect(output, 2)

    assert output.seen == ["configmap/mine", "configmap/mine"]


# --- kubectl diff, edit, label, annotate, patch, replace ----------------------------------------------------


def test_diff_exits_1_with_a_diff_when_changed_and_0_when_not(kubectl: Kubectl, http: httpx.Client, namespace: str, tmp_path: Path) -> None:
    manifest = write(tmp_path, "cm.yaml", CONFIGMAP)
    kubectl("apply", "-n", namespace, "-f", manifest)
    before = get(http, f"/api/v1/namespaces/{namespace}/configmaps/settings")

    same = kubectl("diff", "-n", namespace, "-f", manifest, check=False)
    assert (same.returncode, same.stdout, same.stderr) == (0, "", "")

    changed = kubectl("diff", "-n", namespace, "-f", write(tmp_path, "changed.yaml", CONFIGMAP.replace("blue", "green")), check=False)
    assert changed.returncode == 1, changed.stderr
    assert "-  color: blue" in changed.stdout
    assert "+  color: green" in changed.stdout
    assert "resourceVersion" not in [line for line in changed.stdout.splitlines() if line.startswith(("+", "-"))]

    after = get(http, f"/api/v1/namespaces/{namespace}/configmaps/settings")
    assert after["data"]["color"] == "blue", "diff must not change the stored object (it uses dryRun)"
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


def test_diff_of_a_new_object_shows_it_added_and_stores_nothing(kubectl: Kubectl, http: httpx.Client, namespace: str, tmp_path: Path) -> None:
    result = kubectl("diff", "-n", namespace, "-f", write(tmp_path, "cm.yaml", CONFIGMAP), check=False)

    assert result.returncode == 1, result.stderr
    assert "+  color: blue" in result.stdout
    assert_gone(http, f"/api/v1/namespaces/{namespace}/configmaps/settings")


def test_edit_with_a_script_as_editor_changes_the_field(kubectl: Kubectl, http: httpx.Client, namespace: str, tmp_path: Path) -> None:
    kubectl("apply", "-n", namespace, "-f", write(tmp_path, "cm.yaml", CONFIGMAP))
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nsed -i "s/color: blue/color: purple/" "$1"\n')
    editor.chmod(0o755)

    edit = Kubectl(kubectl.binary, kubectl.kubeconfig, {**kubectl.env, "KUBE_EDITOR": str(editor)})
    result = edit("edit", "configmap/settings", "-n", namespace)

    assert result.stdout.strip() == "configmap/settings edited"
    stored = get(http, f"/api/v1/namespaces/{namespace}/configmaps/settings")
    assert stored["data"] == {"color": "purple", "size": "3"}


def test_label_and_annotate_add_overwrite_and_remove(kubectl: Kubectl, http: httpx.Client, namespace: str, tmp_path: Path) -> None:
    kubectl("apply", "-n", namespace, "-f", write(tmp_path, "cm.yaml", CONFIGMAP))
    path = f"/api/v1/namespaces/{namespace}/configmaps/settings"

    assert kubectl("label", "configmap", "settings", "-n", namespace, "tier=backend").stdout.strip() == "configmap/settings labeled"
    assert get(http, path)["metadata"]["labels"] == {"app": "demo", "tier": "backend"}
    refused = kubectl("label", "configmap", "settings", "-n", namespace, "tier=frontend", check=False)
    assert refused.returncode == 1 and "already has a value (backend)" in refused.stderr
    kubectl("label", "configmap", "settings", "-n", namespace, "tier=frontend", "--overwrite")
    assert get(http, path)["metadata"]["labels"]["tier"] == "frontend"
    kubectl("label", "configmap", "settings", "-n", namespace, "tier-")
    assert get(http, path)["metadata"]["labels"] == {"app": "demo"}

    result = kubectl("annotate", "configmap", "settings", "-n", namespace, "owner=team-a", "note=hello world")
    assert result.stdout.strip() == "configmap/settings annotated"
    annotations = get(http, path)["metadata"]["annotations"]
    assert (annotations["owner"], annotations["note"]) == ("team-a", "hello world")
    kubectl("annotate", "configmap", "settings", "-n", namespace, "owner-")
    annotations = get(http, path)["metadata"]["annotations"]
    assert "owner" not in annotations and annotations["note"] == "hello world"


def test_patch_with_strategic_merge_and_json_types(kubectl: Kubectl, http: httpx.Client, namespace: str) -> None:
    create_deployment(http, namespace)
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/web"

    # Strategic (the default): containers merge by name, so the sidecar joins nginx.
    sidecar = '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.36"}]}}}}'
    result = kubectl("patch", "deployment", "web", "-n", namespace, "-p", sidecar)
    assert result.stdout.strip() == "deployment.apps/web patched"
    containers = get(http, path)["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["sidecar", "nginx"] or [c["name"] for c in containers] == ["nginx", "sidecar"]
    kubectl("patch", "deployment", "web", "-n", namespace, "--type=strategic", "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.28"}]}}}}')
    images = {c["name"]: c["image"] for c in get(http, path)["spec"]["template"]["spec"]["containers"]}
    assert images == {"nginx": "nginx:1.28", "sidecar": "busybox:1.36"}

    # Merge: a list is replaced whole.
    kubectl("patch", "deployment", "web", "-n", namespace, "--type=merge", "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"only","image":"redis:7"}]}}}}')
    containers = get(http, path)["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [("only", "redis:7")]

    # JSON patch: operations by path.
    ops = '[{"op":"replace","path":"/spec/replicas","value":3},{"op":"add","path":"/metadata/labels/patched","value":"json"}]'
    kubectl("patch", "deployment", "web", "-n", namespace, "--type=json", "-p", ops)
    stored = get(http, path)
    assert stored["spec"]["replicas"] == 3
    assert stored["metadata"]["labels"] == {"app": "web", "patched": "json"}

    failed = kubectl("patch", "deployment", "web", "-n", namespace, "--type=json", "-p", '[{"op":"test","path":"/spec/replicas","value":9}]', check=False)
    assert failed.returncode == 1
    assert get(http, path)["spec"]["replicas"] == 3


def test_patch_no_change_says_so(kubectl: Kubectl, http: httpx.Client, namespace: str, tmp_path: Path) -> None:
    kubectl("apply", "-n", namespace, "-f", write(tmp_path, "cm.yaml", CONFIGMAP))
    before = get(http, f"/api/v1/namespaces/{namespace}/configmaps/settings")["metadata"]["resourceVersion"]

    result = kubectl("patch", "configmap", "settings", "-n", namespace, "--type=merge", "-p", '{"data":{"color":"blue"}}')

    assert result.stdout.strip() == "configmap/settings patched (no change)"
    assert get(http, f"/api/v1/namespaces/{namespace}/configmaps/settings")["metadata"]["resourceVersion"] == before


def test_replace_from_a_file(kubectl: Kubectl, http: httpx.Client, namespace: str, tmp_path: Path) -> None:
    kubectl("create", "-n", namespace, "-f", write(tmp_path, "cm.yaml", CONFIGMAP))
    path = f"/api/v1/namespaces/{namespace}/configmaps/settings"
    uid = get(http, path)["metadata"]["uid"]

    current = yaml.safe_load(kubectl("get", "configmap", "settings", "-n", namespace, "-o", "yaml").stdout)
    current["data"] = {"color": "red"}
    result = kubectl("replace", "-f", write(tmp_path, "replaced.yaml", yaml.safe_dump(current)))

    assert result.stdout.strip() == "configmap/settings replaced"
    stored = get(http, path)
    assert stored["data"] == {"color": "red"}
    assert stored["metadata"]["uid"] == uid

    # Without a resourceVersion, replace overwrites whatever is stored.
    kubectl("replace", "-n", namespace, "-f", write(tmp_path, "fresh.yaml", CONFIGMAP.replace("blue", "black")))
    assert get(http, path)["data"] == {"color": "black", "size": "3"}

    # A stale resourceVersion is a conflict worded as kube words it.
    stale = kubectl("replace", "-f", write(tmp_path, "stale.yaml", yaml.safe_dump(current)), check=False)
    assert stale.returncode == 1
    assert "the object has been modified; please apply your changes to the latest version and try again" in stale.stderr
    assert get(http, path)["data"] == {"color": "black", "size": "3"}


# --- kubectl create -----------------------------------------------------------------------------------------


def test_create_configmap_with_server_dry_run_stores_nothing(kubectl: Kubectl, http: httpx.Client, namespace: str) -> None:
    result = kubectl("create", "configmap", "dry", "-n", namespace, "--from-literal=a=b", "--dry-run=server")

    assert result.stdout.strip() == "configmap/dry created (server dry run)"
    assert_gone(http, f"/api/v1/namespaces/{namespace}/configmaps/dry")
    shown = yaml.safe_load(kubectl("create", "configmap", "dry", "-n", namespace, "--from-literal=a=b", "--dry-run=server", "-o", "yaml").stdout)
    assert shown["data"] == {"a": "b"}
    assert shown["metadata"]["uid"], "a server dry run returns the object as it would be stored"
    assert_gone(http, f"/api/v1/namespaces/{namespace}/configmaps/dry")


def test_create_deployment_namespace_and_secret(kubectl: Kubectl, http: httpx.Client, namespace: str) -> None:
    result = kubectl("create", "deployment", "api", "-n", namespace, "--image=nginx:1.27", "--replicas=2", "--port=8080")
    assert result.stdout.strip() == "deployment.apps/api created"
    deployment = get(http, f"/apis/apps/v1/namespaces/{namespace}/deployments/api")
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["selector"] == {"matchLabels": {"app": "api"}}
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert (container["name"], container["image"], container["ports"][0]["containerPort"]) == ("nginx", "nginx:1.27", 8080)
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate", "defaults apply to protobuf bodies too"

    secret_result = kubectl("create", "secret", "generic", "creds", "-n", namespace, "--from-literal=user=admin", "--from-literal=pass=s3cr3t")
    assert secret_result.stdout.strip() == "secret/creds created"
    secret = get(http, f"/api/v1/namespaces/{namespace}/secrets/creds")
    assert secret["type"] == "Opaque"
    assert {k: base64.b64decode(v) for k, v in secret["data"].items()} == {"user": b"admin", "pass": b"s3cr3t"}

    other = f"{namespace}-x"
    try:
        assert kubectl("create", "namespace", other).stdout.strip() == f"namespace/{other} created"
        created = get(http, f"/api/v1/namespaces/{other}")
        assert created["status"]["phase"] == "Active"
        assert created["metadata"]["labels"]["kubernetes.io/metadata.name"] == other
    finally:
        http.delete(f"/api/v1/namespaces/{other}")


# --- output formats, describe -------------------------------------------------------------------------------


def test_get_with_jsonpath_custom_columns_and_wide(kubectl: Kubectl, http: httpx.Client, namespace: str, tmp_path: Path) -> None:
    kubectl("apply", "-n", namespace, "-f", write(tmp_path, "cm.yaml", CONFIGMAP))
    create_pod(http, namespace, "p1")
    create_pod(http, namespace, "p2")

    color = kubectl("get", "configmap", "settings", "-n", namespace, "-o", "jsonpath={.data.color}").stdout
    assert color == "blue"
    pods = kubectl("get", "pods", "-n", namespace, "-o", "jsonpath={range .items[*]}{.metadata.name}={.status.phase}{\"\\n\"}{end}").stdout
    assert pods.splitlines() == ["p1=Pending", "p2=Pending"]

    columns = kubectl("get", "pods", "-n", namespace, "-o", "custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[0].image,PHASE:.status.phase").stdout
    assert [line.split() for line in columns.splitlines()] == [["NAME", "IMAGE", "PHASE"], ["p1", "busybox:1.36", "Pending"], ["p2", "busybox:1.36", "Pending"]]

    wide = kubectl("get", "pods", "-n", namespace, "-o", "wide").stdout.splitlines()
    assert wide[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE", "READINESS", "GATES"]
    assert wide[1].split()[:4] == ["p1", "0/1", "Pending", "0"]
    assert wide[1].split()[5:] == ["<none>", "<none>", "<none>", "<none>"]
    narrow = kubectl("get", "pods", "-n", namespace).stdout.splitlines()
    assert narrow[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]


def test_describe_pod_and_deployment(kubectl: Kubectl, http: httpx.Client, namespace: str) -> None:
    create_pod(http, namespace, "described")
    create_deployment(http, namespace, replicas=2)

    pod = " ".join(kubectl("describe", "pod", "described", "-n", namespace).stdout.split())
    for expected in ["Name: described", f"Namespace: {namespace}", "Status: Pending", "busybox:1.36", "Containers:", "main:", "app=described"]:
        assert expected in pod, f"{expected!r} missing from describe pod:\n{pod}"

    deployment = " ".join(kubectl("describe", "deployment", "web", "-n", namespace).stdout.split())
    for expected in ["Name: web", f"Namespace: {namespace}", "Selector: app=web", "2 desired", "StrategyType: RollingUpdate", "nginx:1.27", "80/TCP"]:
        assert expected in deployment, f"{expected!r} missing from describe deployment:\n{deployment}"


# --- discovery, explain, get all, auth ----------------------------------------------------------------------


def test_api_resources_and_api_versions(kubectl: Kubectl) -> None:
    rows = {row.split()[0]: row.split() for row in kubectl("api-resources").stdout.splitlines()[1:]}
    assert rows["deployments"] == ["deployments", "deploy", "apps/v1", "true", "Deployment"]
    assert rows["pods"] == ["pods", "po", "v1", "true", "Pod"]
    wide = kubectl("api-resources", "--api-group=apps", "-o", "name").stdout.split()
    assert "deployments.apps" in wide and "statefulsets.apps" in wide

    versions = kubectl("api-versions").stdout.split()
    for expected in ["apps/v1", "v1", "batch/v1", "authorization.k8s.io/v1", "apiextensions.k8s.io/v1"]:
        assert expected in versions, versions


def test_explain_pod_spec_containers(kubectl: Kubectl) -> None:
    result = kubectl("explain", "pod.spec.containers")

    assert "KIND:       Pod" in result.stdout
    assert "VERSION:    v1" in result.stdout
    assert "FIELD: containers <[]Container>" in result.stdout
    for field in ["image\t<string>", "name\t<string> -required-", "ports\t<[]ContainerPort>"]:
        assert field in result.stdout, f"{field!r} missing from explain:\n{result.stdout}"

    recursive = kubectl("explain", "deployment.spec.strategy", "--recursive").stdout
    assert "rollingUpdate" in recursive and "maxSurge" in recursive


def test_get_all_lists_pods_services_and_deployments(kubectl: Kubectl, http: httpx.Client, namespace: str) -> None:
    create_pod(http, namespace, "lonely")
    create_deployment(http, namespace)
    service = {"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}
    assert http.post(f"/api/v1/namespaces/{namespace}/services", json=service).status_code == 201
    assert http.post(f"/api/v1/namespaces/{namespace}/configmaps", json={"metadata": {"name": "hidden"}}).status_code == 201

    output = kubectl("get", "all", "-n", namespace).stdout
    assert "pod/lonely" in output and "service/web" in output and "deployment.apps/web" in output
    assert "configmap" not in output
    assert "READY   UP-TO-DATE   AVAILABLE" in output, output
    assert "TYPE        CLUSTER-IP" in output, output


def test_auth_can_i(kubectl: Kubectl) -> None:
    assert kubectl("auth", "can-i", "create", "pods").stdout.strip() == "yes"
    assert kubectl("auth", "can-i", "delete", "deployments.apps", "-n", "kube-system").stdout.strip() == "yes"
    rules = kubectl("auth", "can-i", "--list").stdout
    assert "*.*" in rules, rules


# --- server-side apply --------------------------------------------------------------------------------------


def test_server_side_apply_conflicts_between_managers_until_forced(kubectl: Kubectl, http: httpx.Client, namespace: str, tmp_path: Path) -> None:
    path = f"/api/v1/namespaces/{namespace}/configmaps/settings"
    result = kubectl("apply", "--server-side", "-n", namespace, "-f", write(tmp_path, "cm.yaml", CONFIGMAP))
    assert result.stdout.strip() == "configmap/settings serverside-applied"
    stored = get(http, path)
    assert stored["data"] == {"color": "blue", "size": "3"}
    assert [(m["manager"], m["operation"]) for m in stored["metadata"]["managedFields"]] == [("kubectl", "Apply")]
    assert "f:color" in str(stored["metadata"]["managedFields"][0]["fieldsV1"])

    other = write(tmp_path, "other.yaml", CONFIGMAP.replace("blue", "red"))
    conflict = kubectl("apply", "--server-side", "--field-manager=other", "-n", namespace, "-f", other, check=False)
    assert conflict.returncode == 1
    assert "conflict" in conflict.stderr.lower(), conflict.stderr
    assert '.data.color' in conflict.stderr and '"kubectl"' in conflict.stderr, conflict.stderr
    assert get(http, path)["data"]["color"] == "blue"

    forced = kubectl("apply", "--server-side", "--field-manager=other", "--force-conflicts", "-n", namespace, "-f", other)
    assert forced.stdout.strip() == "configmap/settings serverside-applied"
    stored = get(http, path)
    assert stored["data"]["color"] == "red"
    managers = {m["manager"]: str(m.get("fieldsV1")) for m in stored["metadata"]["managedFields"]}
    assert set(managers) == {"kubectl", "other"}
    assert "f:color" in managers["other"] and "f:color" not in managers["kubectl"]


def test_server_side_apply_dry_run_and_removal_of_dropped_fields(kubectl: Kubectl, http: httpx.Client, namespace: str, tmp_path: Path) -> None:
    path = f"/api/v1/namespaces/{namespace}/configmaps/settings"
    dry = kubectl("apply", "--server-side", "--dry-run=server", "-n", namespace, "-f", write(tmp_path, "cm.yaml", CONFIGMAP))
    assert dry.stdout.strip() == "configmap/settings serverside-applied (server dry run)"
    assert_gone(http, path)

    kubectl("apply", "--server-side", "-n", namespace, "-f", write(tmp_path, "cm.yaml", CONFIGMAP))
    kubectl("apply", "--server-side", "-n", namespace, "-f", write(tmp_path, "less.yaml", CONFIGMAP.replace('  size: "3"\n', "")))
    assert get(http, path)["data"] == {"color": "blue"}


def test_wait_for_delete_of_many_pods_by_label(kubectl: Kubectl, http: httpx.Client, namespace: str) -> None:
    for name in ("a", "b"):
        create_pod(http, namespace, name, labels={"group": "batch"})

    def delete_later() -> None:
        time.sleep(0.5)
        http.delete(f"/api/v1/namespaces/{namespace}/pods", params={"labelSelector": "group=batch"})

    deleter = threading.Thread(target=delete_later)
    deleter.start()
    try:
        result = kubectl("wait", "--for=delete", "pods", "-l", "group=batch", "-n", namespace, f"--timeout={WAIT_TIMEOUT:.0f}s")
    finally:
        deleter.join()
    assert sorted(result.stdout.splitlines()) == ["pod/a condition met", "pod/b condition met"]
    assert get(http, f"/api/v1/namespaces/{namespace}/pods")["items"] == []
