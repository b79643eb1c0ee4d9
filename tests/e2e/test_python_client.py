"""The official ``kubernetes`` Python client against the real server: CRUD, paging, watch resumption, errors."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

WATCH_SECONDS = 5  # timeoutSeconds asked of the server; the stream must end on its own by then
WATCH_GRACE = 5.0  # seconds of slack before we call the server's timeout ignored

MERGE_PATCH = "application/merge-patch+json"  # the client's default for a dict body is strategic merge


def configmap(name: str, data: dict[str, str] | None = None, **labels: str) -> client.V1ConfigMap:
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels or None), data=data)


def status_of(error: ApiException) -> dict:
    """The error's body, which must be a metav1.Status."""
    body = json.loads(error.body)
    assert body["kind"] == "Status" and body["apiVersion"] == "v1" and body["status"] == "Failure", body
    assert body["code"] == error.status, body
    return body


def test_configmap_create_read_replace_patch_delete(k8s: client.ApiClient, http: httpx.Client, namespace: str) -> None:
    core = client.CoreV1Api(k8s)

    created = core.create_namespaced_config_map(namespace, configmap("crud", {"a": "1"}, app="crud"))
    assert created.metadata.uid and created.metadata.creation_timestamp
    assert created.metadata.namespace == namespace

    read = core.read_namespaced_config_map("crud", namespace)
    assert read.data == {"a": "1"}
    assert read.metadata.resource_version == created.metadata.resource_version

    read.data["b"] = "2"
    replaced = core.replace_namespaced_config_map("crud", namespace, read)
    assert replaced.data == {"a": "1", "b": "2"}
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    assert replaced.metadata.uid == created.metadata.uid

    merged = core.patch_namespaced_config_map("crud", namespace, {"data": {"a": None, "c": "3"}}, _content_type=MERGE_PATCH)
    assert merged.data == {"b": "2", "c": "3"}
    assert merged.metadata.labels == {"app": "crud"}
    ops = [{"op": "replace", "path": "/data/b", "value": "two"}, {"op": "add", "path": "/metadata/labels/extra", "value": "yes"}]
    patched = core.patch_namespaced_config_map("crud", namespace, ops)  # a list goes out as a JSON patch
    assert patched.data == {"b": "two", "c": "3"}
    assert patched.metadata.labels == {"app": "crud", "extra": "yes"}

    # A replace without resourceVersion is unconditional for ConfigMaps.
    unconditional = configmap("crud", {"only": "this"})
    assert core.replace_namespaced_config_map("crud", namespace, unconditional).data == {"only": "this"}

    stored = http.get(f"/api/v1/namespaces/{namespace}/configmaps/crud").json()
    assert stored["data"] == {"only": "this"}
    assert stored["metadata"]["uid"] == created.metadata.uid

    deleted = core.delete_namespaced_config_map("crud", namespace)
    assert deleted["kind"] == "Status" and deleted["status"] == "Success"  # the client types this as `object`
    assert deleted["details"]["name"] == "crud"
    assert http.get(f"/api/v1/namespaces/{namespace}/configmaps/crud").status_code == 404


def test_list_pages_with_limit_and_continue_see_each_object_once(k8s: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(k8s)
    for i in range(5):
        core.create_namespaced_config_map(namespace, configmap(f"page-{i}", paged="yes"))

    first = core.list_namespaced_config_map(namespace, label_selector="paged=yes", limit=2)
    pages = [first]
    # Changes after the first page must not show up in later pages: every page reads the first one's snapshot.
    core.create_namespaced_config_map(namespace, configmap("page-5", paged="yes"))
    core.delete_namespaced_config_map("page-4", namespace)
    while pages[-1].metadata.var_continue:
        pages.append(
            core.list_namespaced_config_map(namespace, label_selector="paged=yes", limit=2, _continue=pages[-1].metadata.var_continue)
        )
        assert len(pages) <= 5, "continue tokens never run out"

    assert [len(page.items) for page in pages] == [2, 2, 1]
    seen = [item.metadata.name for page in pages for item in page.items]
    assert seen == [f"page-{i}" for i in range(5)]
    assert {page.metadata.resource_version for page in pages} == {first.metadata.resource_version}
    assert pages[-1].metadata.var_continue in (None, "")


def test_list_pages_report_the_remaining_item_count(k8s: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(k8s)
    for i in range(5):
        core.create_namespaced_config_map(namespace, configmap(f"count-{i}"))

    first = core.list_namespaced_config_map(namespace, limit=2)
    second = core.list_namespaced_config_map(namespace, limit=2, _continue=first.metadata.var_continue)

    # kube knows the count when there is no selector (it counts the keys left after the page).
    total = len(core.list_namespaced_config_map(namespace).items)
    assert first.metadata.remaining_item_count == total - 2
    assert second.metadata.remaining_item_count == total - 4


def test_deployment_create_and_read_back_with_defaults(k8s: client.ApiClient, namespace: str) -> None:
    apps = client.AppsV1Api(k8s)
    labels = {"app": "api"}
    body = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="api"),
        spec=client.V1DeploymentSpec(
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[client.V1Container(name="api", image="example.com/api:1.0")]),
            ),
        ),
    )

    apps.create_namespaced_deployment(namespace, body)
    read = apps.read_namespaced_deployment("api", namespace)

    assert read.api_version == "apps/v1" and read.kind == "Deployment"
    assert read.metadata.generation == 1
    spec = read.spec
    assert spec.replicas == 1
    assert spec.strategy.type == "RollingUpdate"
    assert (spec.strategy.rolling_update.max_surge, spec.strategy.rolling_update.max_unavailable) == ("25%", "25%")
    assert spec.revision_history_limit == 10
    assert spec.progress_deadline_seconds == 600
    pod = spec.template.spec
    assert (pod.restart_policy, pod.dns_policy, pod.scheduler_name) == ("Always", "ClusterFirst", "default-scheduler")
    assert pod.termination_grace_period_seconds == 30
    container = pod.containers[0]
    assert container.image_pull_policy == "IfNotPresent"
    assert container.termination_message_path == "/dev/termination-log"

    # A spec change bumps generation; a metadata-only change does not.
    apps.patch_namespaced_deployment("api", namespace, {"spec": {"replicas": 3}}, _content_type=MERGE_PATCH)
    apps.patch_namespaced_deployment("api", namespace, {"metadata": {"labels": {"x": "y"}}}, _content_type=MERGE_PATCH)
    after = apps.read_namespaced_deployment("api", namespace)
    assert (after.spec.replicas, after.metadata.generation) == (3, 2)

    scale = apps.read_namespaced_deployment_scale("api", namespace)
    assert scale.spec.replicas == 3
    apps.patch_namespaced_deployment_scale("api", namespace, {"spec": {"replicas": 4}}, _content_type=MERGE_PATCH)
    assert apps.read_namespaced_deployment("api", namespace).spec.replicas == 4


def test_watch_resumed_from_a_resource_version_sees_every_later_change_once(
    k8s: client.ApiClient, http: httpx.Client, namespace: str
) -> None:
    core = client.CoreV1Api(k8s)
    core.create_namespaced_config_map(namespace, configmap("earlier"))
    since = core.list_namespaced_config_map(namespace).metadata.resource_version

    # History: changes made before the watch starts, replayed from the store.
    core.create_namespaced_config_map(namespace, configmap("w", {"v": "1"}))
    core.patch_namespaced_config_map("w", namespace, {"data": {"v": "2"}}, _content_type=MERGE_PATCH)
    core.delete_namespaced_config_map("w", namespace)
    other = f"{namespace}-other"
    assert http.post("/api/v1/namespaces", json={"metadata": {"name": other}}).status_code == 201
    core.create_namespaced_config_map(other, configmap("elsewhere"))  # another namespace: not in this watch

    def live_change() -> None:
        time.sleep(1.0)
        core.create_namespaced_config_map(namespace, configmap("live"))

    changer = threading.Thread(target=live_change)
    events = []
    started = time.monotonic()
    changer.start()
    try:
        stream = watch.Watch().stream(
            core.list_namespaced_config_map,
            namespace,
            resource_version=since,
            timeout_seconds=WATCH_SECONDS,
            _request_timeout=WATCH_SECONDS + WATCH_GRACE,
        )
        for event in stream:
            raw = event["raw_object"]
            events.append((event["type"], raw["metadata"]["name"], int(raw["metadata"]["resourceVersion"])))
    finally:
        changer.join()
        http.delete(f"/api/v1/namespaces/{other}")
    elapsed = time.monotonic() - started

    assert [(kind, name) for kind, name, _ in events] == [("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w"), ("ADDED", "live")]
    versions = [rv for _, _, rv in events]
    assert versions == sorted(versions) and len(set(versions)) == len(versions), versions
    assert versions[0] > int(since)
    assert elapsed < WATCH_SECONDS + WATCH_GRACE, "the server did not end the watch at timeoutSeconds"


def test_a_watch_resumed_after_more_changes_than_a_watcher_may_queue_gets_them_all(
    k8s: client.ApiClient, namespace: str
) -> None:
    """A controller reconnecting after a burst resumes from its last resourceVersion: nothing may be skipped."""
    from apiserver.watchcache import WATCHER_BUFFER

    core = client.CoreV1Api(k8s)
    since = core.list_namespaced_config_map(namespace).metadata.resource_version
    count = WATCHER_BUFFER + 200
    for i in range(count):
        core.create_namespaced_config_map(namespace, configmap(f"burst-{i}"))
    stream = watch.Watch().stream(core.list_namespaced_config_map, namespace, resource_version=since,
                                  timeout_seconds=2, _request_timeout=2 + WATCH_GRACE)
    names = [event["raw_object"]["metadata"]["name"] for event in stream]
    assert names == [f"burst-{i}" for i in range(count)]


def test_replace_with_a_stale_resource_version_is_a_conflict(k8s: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(k8s)
    core.create_namespaced_config_map(namespace, configmap("contended", {"v": "0"}))
    mine = core.read_namespaced_config_map("contended", namespace)
    theirs = core.read_namespaced_config_map("contended", namespace)
    theirs.data = {"v": "theirs"}
    core.replace_namespaced_config_map("contended", namespace, theirs)

    mine.data = {"v": "mine"}
    with pytest.raises(ApiException) as caught:
        core.replace_namespaced_config_map("contended", namespace, mine)

    assert caught.value.status == 409
    assert caught.value.reason == "Conflict"
    status = status_of(caught.value)
    assert status["reason"] == "Conflict"
    assert status["message"] == (
        'Operation cannot be fulfilled on configmaps "contended": '
        "the object has been modified; please apply your changes to the latest version and try again"
    )
    assert status["details"]["name"] == "contended" and status["details"]["kind"] == "configmaps"
    assert core.read_namespaced_config_map("contended", namespace).data == {"v": "theirs"}


def test_reading_a_missing_object_is_not_found(k8s: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(k8s)

    with pytest.raises(ApiException) as caught:
        core.read_namespaced_config_map("missing", namespace)

    assert caught.value.status == 404
    status = status_of(caught.value)
    assert status["reason"] == "NotFound"
    assert status["message"] == 'configmaps "missing" not found'
    assert status["details"] == {"name": "missing", "kind": "configmaps"}


def test_creating_in_a_missing_namespace_is_not_found(k8s: client.ApiClient) -> None:
    core = client.CoreV1Api(k8s)

    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map("no-such-namespace", configmap("x"))

    assert caught.value.status == 404
    status = status_of(caught.value)
    assert status["reason"] == "NotFound"
    assert status["message"] == 'namespaces "no-such-namespace" not found'


def test_an_invalid_pod_is_unprocessable_with_field_causes(k8s: client.ApiClient, http: httpx.Client, namespace: str) -> None:
    core = client.CoreV1Api(k8s)
    pod = client.V1Pod(metadata=client.V1ObjectMeta(name="empty"), spec=client.V1PodSpec(containers=[]))

    with pytest.raises(ApiException) as caught:
        core.create_namespaced_pod(namespace, pod)

    assert caught.value.status == 422
    status = status_of(caught.value)
    assert status["reason"] == "Invalid"
    assert status["message"].startswith('Pod "empty" is invalid: ')
    assert "spec.containers: Required value" in status["message"]
    assert (status["details"]["name"], status["details"]["kind"]) == ("empty", "Pod")
    causes = status["details"]["causes"]
    assert {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers"} in causes
    assert http.get(f"/api/v1/namespaces/{namespace}/pods/empty").status_code == 404


def test_a_valid_pod_gets_kube_defaults(k8s: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(k8s)
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="ok"),
        spec=client.V1PodSpec(containers=[client.V1Container(name="main", image="busybox:1.36")]),
    )

    created = core.create_namespaced_pod(namespace, pod)

    assert created.status.phase == "Pending"
    assert (created.spec.restart_policy, created.spec.dns_policy) == ("Always", "ClusterFirst")
    assert created.spec.termination_grace_period_seconds == 30
    assert created.spec.scheduler_name == "default-scheduler"


def test_builtin_namespaces_exist_from_the_start(k8s: client.ApiClient) -> None:
    names = {ns.metadata.name for ns in client.CoreV1Api(k8s).list_namespace().items}

    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= names
