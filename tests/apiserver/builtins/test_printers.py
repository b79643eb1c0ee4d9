"""Printer columns: the headers and exact cells kube's printers.go gives each built-in kind."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from apiserver.builtins import TYPES
from apiserver.builtins.printers import COLUMNS, columns_for, conditions_for
from apiserver.tables import default_columns, table

NOW = datetime(2024, 1, 2, tzinfo=UTC)
CREATED = "2024-01-01T00:00:00Z"  # 24h before NOW


def obj(kind: str, name: str = "x", *, spec: Any = None, status: Any = None, **rest: Any) -> dict[str, Any]:
    meta = {"name": name, "namespace": "default", "creationTimestamp": CREATED, **rest.pop("meta", {})}
    out: dict[str, Any] = {"kind": kind, "metadata": meta, **rest}
    if spec is not None:
        out["spec"] = spec
    if status is not None:
        out["status"] = status
    return out


def headers(group: str, plural: str, *, wide: bool = False) -> list[str]:
    return [c.name.upper() for c in columns_for(group, plural) if wide or c.priority == 0]


def cells(group: str, plural: str, item: dict[str, Any]) -> list[Any]:
    return [c.value(item, NOW) for c in columns_for(group, plural)]


def row(group: str, plural: str, item: dict[str, Any], *names: str) -> dict[str, Any]:
    """The named cells, by upper-case header."""
    named = dict(zip(headers(group, plural, wide=True), cells(group, plural, item), strict=True))
    return {n: named[n] for n in names}


# --- headers ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("group", "plural", "normal", "wide"), [
    ("", "pods", "NAME READY STATUS RESTARTS AGE", "IP NODE NOMINATED NODE READINESS GATES"),
    ("", "services", "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE", "SELECTOR"),
    ("", "namespaces", "NAME STATUS AGE", ""),
    ("", "configmaps", "NAME DATA AGE", ""),
    ("", "secrets", "NAME TYPE DATA AGE", ""),
    ("", "serviceaccounts", "NAME AGE", ""),
    ("", "endpoints", "NAME ENDPOINTS AGE", ""),
    ("", "events", "LAST SEEN TYPE REASON OBJECT MESSAGE", "SUBOBJECT SOURCE FIRST SEEN COUNT NAME"),
    ("", "nodes", "NAME STATUS ROLES AGE VERSION", "INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME"),
    ("", "persistentvolumeclaims", "NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE",
     "VOLUMEMODE"),
    ("", "limitranges", "NAME CREATED AT", ""),
    ("", "resourcequotas", "NAME REQUEST LIMIT AGE", ""),
    ("apps", "deployments", "NAME READY UP-TO-DATE AVAILABLE AGE", "CONTAINERS IMAGES SELECTOR"),
    ("apps", "replicasets", "NAME DESIRED CURRENT READY AGE", "CONTAINERS IMAGES SELECTOR"),
    ("apps", "statefulsets", "NAME READY AGE", "CONTAINERS IMAGES"),
    ("apps", "daemonsets", "NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE",
     "CONTAINERS IMAGES SELECTOR"),
    ("batch", "jobs", "NAME STATUS COMPLETIONS DURATION AGE", "CONTAINERS IMAGES SELECTOR"),
    ("batch", "cronjobs", "NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE", "CONTAINERS IMAGES SELECTOR"),
    ("coordination.k8s.io", "leases", "NAME HOLDER AGE", ""),
    ("events.k8s.io", "events", "LAST SEEN TYPE REASON OBJECT MESSAGE", "SUBOBJECT SOURCE FIRST SEEN COUNT NAME"),
    ("policy", "poddisruptionbudgets", "NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE", ""),
    ("autoscaling", "horizontalpodautoscalers", "NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE", ""),
    ("networking.k8s.io", "ingresses", "NAME CLASS HOSTS ADDRESS PORTS AGE", ""),
    ("networking.k8s.io", "networkpolicies", "NAME POD-SELECTOR AGE", ""),
    ("rbac.authorization.k8s.io", "roles", "NAME CREATED AT", ""),
    ("rbac.authorization.k8s.io", "clusterroles", "NAME CREATED AT", ""),
    ("rbac.authorization.k8s.io", "rolebindings", "NAME ROLE AGE", "USERS GROUPS SERVICEACCOUNTS"),
    ("rbac.authorization.k8s.io", "clusterrolebindings", "NAME ROLE AGE", "USERS GROUPS SERVICEACCOUNTS"),
])
def test_each_kind_has_kubectls_headers(group: str, plural: str, normal: str, wide: str) -> None:
    cols = columns_for(group, plural)
    assert " ".join(c.name.upper() for c in cols if c.priority == 0) == normal
    assert " ".join(c.name.upper() for c in cols if c.priority == 1) == wide


def test_every_readable_built_in_kind_has_a_printer() -> None:
    readable = {(t.group, t.plural) for t in TYPES if {"get", "list"} & set(t.verbs)}  # not create-only reviews
    assert readable - set(COLUMNS) == set()


def test_kinds_without_a_printer_get_name_and_age() -> None:
    assert columns_for("example.com", "widgets") == default_columns()


@pytest.mark.parametrize(("group", "plural"), sorted(COLUMNS))
@pytest.mark.parametrize("junk", [
    {},
    {"metadata": None, "spec": None, "status": None},
    {"metadata": {"name": 5, "labels": []}, "spec": [], "status": "x", "data": [], "subsets": {}},
    {"spec": {"containers": "x", "ports": [None, 3], "selector": {"matchLabels": {"bad key!": "v"}},
              "metrics": [{"type": "Resource"}, None], "rules": [None], "template": {"spec": None}},
     "status": {"conditions": [None], "containerStatuses": [None, {"state": None}], "hard": {"cpu": 1}}},
])
def test_printers_never_raise_on_junk(group: str, plural: str, junk: dict[str, Any]) -> None:
    t = table(columns_for(group, plural), [junk], now=NOW, conditions=conditions_for(group, plural))
    assert len(t["rows"][0]["cells"]) == len(t["columnDefinitions"])


# --- pods ---------------------------------------------------------------------------------------------------------


def container(name: str, *, ready: bool = False, restarts: int = 0, **state: Any) -> dict[str, Any]:
    return {"name": name, "ready": ready, "restartCount": restarts, "state": state or {"running": {}}}


def pod(*statuses: dict[str, Any], phase: str = "Running", containers: int | None = None, **extra: Any) -> Any:
    names = containers if containers is not None else len(statuses)
    spec = {"containers": [{"name": f"c{i}", "image": f"img{i}"} for i in range(names)], **extra.pop("spec", {})}
    status = {"phase": phase, "containerStatuses": list(statuses), **extra.pop("status", {})}
    return obj("Pod", "web", spec=spec, status=status, **extra)


def pod_row(item: Any) -> list[Any]:
    return cells("", "pods", item)[1:4]


def test_a_pod_with_one_of_two_containers_ready() -> None:
    item = pod(container("a", ready=True), container("b", waiting={"reason": "ContainerCreating"}))
    assert cells("", "pods", item)[:5] == ["web", "1/2", "ContainerCreating", "0", "24h"]


@pytest.mark.parametrize(("item", "expected"), [
    (pod(phase="Pending", containers=1), ["0/1", "Pending", "0"]),
    (pod(container("a", ready=True), container("b", ready=True)), ["2/2", "Running", "0"]),
    (pod(container("a", waiting={"reason": "CrashLoopBackOff"}, restarts=4)), ["0/1", "CrashLoopBackOff", "4"]),
    (pod(container("a", terminated={"exitCode": 0, "reason": "Completed"}), phase="Succeeded"),
     ["0/1", "Completed", "0"]),
    (pod(container("a", terminated={"exitCode": 1, "reason": "Error"}), phase="Failed"), ["0/1", "Error", "0"]),
    (pod(container("a", terminated={"exitCode": 137}), phase="Failed"), ["0/1", "ExitCode:137", "0"]),
    (pod(container("a", terminated={"exitCode": 2, "signal": 9}), phase="Failed"), ["0/1", "Signal:9", "0"]),
    # a container still running turns Completed back into Running (with the pod Ready) or NotReady
    (pod(container("a", ready=True), container("b", terminated={"exitCode": 0, "reason": "Completed"}),
         status={"conditions": [{"type": "Ready", "status": "True"}]}), ["1/2", "Running", "0"]),
    (pod(container("a", ready=True), container("b", terminated={"exitCode": 0, "reason": "Completed"})),
     ["1/2", "NotReady", "0"]),
    (pod(phase="Pending", containers=1,
         status={"reason": "", "conditions": [{"type": "PodScheduled", "reason": "SchedulingGated"}]}),
     ["0/1", "SchedulingGated", "0"]),
    (pod(container("a", ready=True), status={"reason": "Evicted"}, phase="Failed"), ["1/1", "Evicted", "0"]),
    (pod(container("a", ready=True), meta={"deletionTimestamp": CREATED}), ["1/1", "Terminating", "0"]),
    (pod(container("a", ready=True), meta={"deletionTimestamp": CREATED}, status={"reason": "NodeLost"}),
     ["1/1", "Unknown", "0"]),
])
def test_pod_status_reasons(item: Any, expected: list[str]) -> None:
    assert pod_row(item) == expected


def init_pod(*init_statuses: dict[str, Any], sidecar: bool = False, **extra: Any) -> Any:
    init = [{"name": "init", "image": "busybox", **({"restartPolicy": "Always"} if sidecar else {})}]
    return pod(container("app", waiting={"reason": "PodInitializing"}), phase="Pending",
               spec={"initContainers": init}, status={"initContainerStatuses": list(init_statuses)}, **extra)


@pytest.mark.parametrize(("item", "expected"), [
    (init_pod(container("init", waiting={"reason": "PodInitializing"})), ["0/1", "Init:0/1", "0"]),
    (init_pod(container("init", running={})), ["0/1", "Init:0/1", "0"]),
    (init_pod(container("init", waiting={"reason": "CrashLoopBackOff"}, restarts=3)),
     ["0/1", "Init:CrashLoopBackOff", "3"]),
    (init_pod(container("init", terminated={"exitCode": 1, "reason": "Error"})), ["0/1", "Init:Error", "0"]),
    (init_pod(container("init", terminated={"exitCode": 3})), ["0/1", "Init:ExitCode:3", "0"]),
    (init_pod(container("init", terminated={"exitCode": 0, "reason": "Completed"})),
     ["0/1", "PodInitializing", "0"]),
    # a started sidecar counts towards READY's total and its readiness
    (init_pod({**container("init", ready=True), "started": True}, sidecar=True), ["1/2", "PodInitializing", "0"]),
])
def test_pod_init_container_reasons(item: Any, expected: list[str]) -> None:
    assert pod_row(item) == expected


def test_pod_restarts_show_when_the_last_container_restarted() -> None:
    item = pod(container("a", ready=True, restarts=2), container("b", ready=True, restarts=1))
    item["status"]["containerStatuses"][0]["lastState"] = {"terminated": {"finishedAt": "2024-01-01T23:00:00Z"}}
    item["status"]["containerStatuses"][1]["lastState"] = {"terminated": {"finishedAt": "2024-01-01T23:55:00Z"}}
    assert pod_row(item) == ["2/2", "Running", "3 (5m ago)"]


def test_pod_wide_cells() -> None:
    bare = pod(phase="Pending", containers=1)
    assert cells("", "pods", bare)[5:] == ["<none>", "<none>", "<none>", "<none>"]
    placed = pod(container("a", ready=True),
                 spec={"nodeName": "node-1", "readinessGates": [{"conditionType": "lb"}, {"conditionType": "dns"}]},
                 status={"podIP": "10.0.0.9", "podIPs": [{"ip": "10.0.0.7"}], "nominatedNodeName": "node-2",
                         "conditions": [{"type": "lb", "status": "True"}, {"type": "dns", "status": "False"}]})
    assert cells("", "pods", placed)[5:] == ["10.0.0.7", "node-1", "node-2", "1/2"]
    legacy_ip = pod(container("a", ready=True), status={"podIP": "10.0.0.9"})
    assert cells("", "pods", legacy_ip)[5] == "10.0.0.9"


def test_finished_pods_get_a_completed_row_condition() -> None:
    conditions = conditions_for("", "pods")
    assert conditions is not None
    assert conditions(pod(phase="Succeeded")) == [{"type": "Completed", "status": "True", "reason": "Succeeded",
                                                   "message": "The pod has completed successfully."}]
    assert conditions(pod(phase="Failed"))[0]["reason"] == "Failed"
    assert conditions(pod()) == []
    assert conditions_for("apps", "deployments") is None


# --- services, endpoints, ingresses -------------------------------------------------------------------------------


def service(kind: str, ports: list[dict[str, Any]], **spec: Any) -> Any:
    return obj("Service", "svc", spec={"type": kind, "ports": ports, **spec})


@pytest.mark.parametrize(("item", "expected"), [
    (service("ClusterIP", [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
             clusterIP="10.96.0.10", clusterIPs=["10.96.0.10"], selector={"k8s-app": "dns", "app": "x"}),
     ["svc", "ClusterIP", "10.96.0.10", "<none>", "53/UDP,53/TCP", "24h", "app=x,k8s-app=dns"]),
    (service("NodePort", [{"port": 80, "nodePort": 30080, "protocol": "TCP"}], clusterIPs=["10.96.1.1"]),
     ["svc", "NodePort", "10.96.1.1", "<none>", "80:30080/TCP", "24h", "<none>"]),
    (service("ClusterIP", [], clusterIP="None", externalIPs=["1.2.3.4", "5.6.7.8"]),
     ["svc", "ClusterIP", "None", "1.2.3.4,5.6.7.8", "<none>", "24h", "<none>"]),
    (service("LoadBalancer", [{"port": 443, "nodePort": 31443}], clusterIPs=["10.96.2.2"]),
     ["svc", "LoadBalancer", "10.96.2.2", "<pending>", "443:31443/TCP", "24h", "<none>"]),
    (service("ExternalName", [], externalName="example.com"),
     ["svc", "ExternalName", "<none>", "example.com", "<none>", "24h", "<none>"]),
])
def test_service_cells(item: Any, expected: list[Any]) -> None:
    assert cells("", "services", item) == expected


def test_a_load_balancers_ingress_points_come_first_sorted_and_unique() -> None:
    item = service("LoadBalancer", [], externalIPs=["9.9.9.9"])
    item["status"] = {"loadBalancer": {"ingress": [{"ip": "2.2.2.2"}, {"hostname": "lb.example"}, {"ip": "2.2.2.2"}]}}
    assert row("", "services", item, "EXTERNAL-IP") == {"EXTERNAL-IP": "2.2.2.2,lb.example,9.9.9.9"}


def test_endpoints_show_three_addresses_then_a_count() -> None:
    subsets = [{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "ports": [{"port": 80}, {"port": 443}]},
               {"addresses": [{"ip": "fd00::1"}]}]
    item = obj("Endpoints", "web", subsets=subsets)
    assert cells("", "endpoints", item)[1] == "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 2 more..."
    assert cells("", "endpoints", obj("Endpoints", subsets=[{"addresses": [{"ip": "fd00::1"}],
                                                               "ports": [{"port": 8}]}]))[1] == "[fd00::1]:8"
    assert cells("", "endpoints", obj("Endpoints"))[1] == "<none>"


def test_ingress_cells() -> None:
    rules = [{"host": "a.example"}, {}, {"host": "b.example"}, {"host": "c.example"}, {"host": "d.example"}]
    item = obj("Ingress", "ing", spec={"ingressClassName": "nginx", "rules": rules, "tls": [{"hosts": ["a"]}]},
               status={"loadBalancer": {"ingress": [{"ip": "1.1.1.1"}]}})
    assert cells("networking.k8s.io", "ingresses", item) == [
        "ing", "nginx", "a.example,b.example,c.example + 2 more...", "1.1.1.1", "80, 443", "24h"]
    assert cells("networking.k8s.io", "ingresses", obj("Ingress", "bare", spec={})) == [
        "bare", "<none>", "*", "", "80", "24h"]


def test_network_policy_pod_selector() -> None:
    assert cells("networking.k8s.io", "networkpolicies", obj("NetworkPolicy", spec={"podSelector": {}}))[1] == "<none>"
    selector = {"matchLabels": {"app": "db"}, "matchExpressions": [{"key": "tier", "operator": "In",
                                                                     "values": ["b", "a"]}]}
    item = obj("NetworkPolicy", spec={"podSelector": selector})
    assert cells("networking.k8s.io", "networkpolicies", item)[1] == "app=db,tier in (a,b)"


# --- workloads ----------------------------------------------------------------------------------------------------

TEMPLATE = {"spec": {"containers": [{"name": "web", "image": "nginx:1"}, {"name": "log", "image": "busybox"}],
                     "nodeSelector": {"disk": "ssd"}}}
SELECTOR = {"matchLabels": {"app": "web"}}


def test_deployment_cells() -> None:
    item = obj("Deployment", "web", spec={"replicas": 3, "selector": SELECTOR, "template": TEMPLATE},
               status={"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2})
    assert cells("apps", "deployments", item) == ["web", "2/3", 3, 2, "24h", "web,log", "nginx:1,busybox", "app=web"]
    fresh = obj("Deployment", "new", spec={"selector": {"matchExpressions": [{"key": "a", "operator": "Exists"}]},
                                           "template": TEMPLATE})
    assert cells("apps", "deployments", fresh)[1:5] + cells("apps", "deployments", fresh)[-1:] == [
        "0/1", 0, 0, "24h", "a"]
    bad = obj("Deployment", spec={"selector": {"matchExpressions": [{"key": "a", "operator": "Near"}]}})
    assert cells("apps", "deployments", bad)[-1] == "<invalid>"


def test_replicaset_statefulset_and_daemonset_cells() -> None:
    rs = obj("ReplicaSet", "web-1", spec={"replicas": 2, "selector": SELECTOR, "template": TEMPLATE},
             status={"replicas": 2, "readyReplicas": 1})
    assert cells("apps", "replicasets", rs) == ["web-1", 2, 2, 1, "24h", "web,log", "nginx:1,busybox", "app=web"]
    sts = obj("StatefulSet", "db", spec={"replicas": 2, "template": TEMPLATE}, status={"readyReplicas": 1})
    assert cells("apps", "statefulsets", sts) == ["db", "1/2", "24h", "web,log", "nginx:1,busybox"]
    ds = obj("DaemonSet", "agent", spec={"selector": SELECTOR, "template": TEMPLATE},
             status={"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2,
                     "updatedNumberScheduled": 3, "numberAvailable": 2})
    assert cells("apps", "daemonsets", ds) == ["agent", 3, 3, 2, 3, 2, "disk=ssd", "24h", "web,log",
                                               "nginx:1,busybox", "app=web"]
    assert cells("apps", "daemonsets", obj("DaemonSet", spec={"template": {"spec": {}}}))[6] == "<none>"


@pytest.mark.parametrize(("spec", "status", "deleting", "expected"), [
    ({"completions": 1, "parallelism": 1}, {"succeeded": 1, "startTime": "2024-01-01T12:00:00Z",
                                            "completionTime": "2024-01-01T12:00:30Z",
                                            "conditions": [{"type": "Complete", "status": "True"}]}, False,
     ["Complete", "1/1", "30s"]),
    ({"completions": 5}, {"succeeded": 2, "startTime": "2024-01-01T23:00:00Z"}, False, ["Running", "2/5", "60m"]),
    ({"parallelism": 3}, {"succeeded": 0}, False, ["Running", "0/1 of 3", ""]),
    ({}, {"conditions": [{"type": "Failed", "status": "True"}]}, False, ["Failed", "0/1", ""]),
    ({}, {"conditions": [{"type": "Suspended", "status": "True"}]}, False, ["Suspended", "0/1", ""]),
    ({}, {"conditions": [{"type": "Suspended", "status": "True"}]}, True, ["Terminating", "0/1", ""]),
    ({}, {"conditions": [{"type": "FailureTarget", "status": "True"}]}, False, ["FailureTarget", "0/1", ""]),
    ({}, {"conditions": [{"type": "Complete", "status": "False"}]}, False, ["Running", "0/1", ""]),
])
def test_job_cells(spec: dict[str, Any], status: dict[str, Any], deleting: bool, expected: list[str]) -> None:
    item = obj("Job", "job", spec={**spec, "template": TEMPLATE}, status=status,
               meta={"deletionTimestamp": CREATED} if deleting else {})
    assert cells("batch", "jobs", item)[1:4] == expected


def test_cronjob_cells() -> None:
    item = obj("CronJob", "nightly", spec={"schedule": "0 3 * * *", "suspend": False, "jobTemplate": {
        "spec": {"template": TEMPLATE}}}, status={"active": [{"name": "a"}], "lastScheduleTime": "2024-01-01T21:00:00Z"})
    assert cells("batch", "cronjobs", item) == ["nightly", "0 3 * * *", "<none>", "False", 1, "3h", "24h", "web,log",
                                                "nginx:1,busybox", "<none>"]
    bare = obj("CronJob", "bare", spec={"schedule": "@hourly", "timeZone": "Etc/UTC"})
    assert cells("batch", "cronjobs", bare)[1:6] == ["@hourly", "Etc/UTC", "<unset>", 0, "<none>"]


# --- config and the rest ------------------------------------------------------------------------------------------


def test_config_cells() -> None:
    secret = obj("Secret", "creds", type="Opaque", data={"user": "YQ==", "pass": "Yg=="})
    assert cells("", "secrets", secret) == ["creds", "Opaque", 2, "24h"]
    cm = obj("ConfigMap", "conf", data={"a": "1", "b": "2"}, binaryData={"c": "AA=="})
    assert cells("", "configmaps", cm) == ["conf", 3, "24h"]
    assert cells("", "configmaps", obj("ConfigMap", "empty")) == ["empty", 0, "24h"]
    assert cells("", "namespaces", obj("Namespace", "dev", status={"phase": "Active"})) == ["dev", "Active", "24h"]
    assert cells("", "serviceaccounts", obj("ServiceAccount", "default")) == ["default", "24h"]
    assert cells("coordination.k8s.io", "leases", obj("Lease", "l", spec={"holderIdentity": "me"})) == [
        "l", "me", "24h"]


def test_kinds_without_printers_show_created_at() -> None:
    role = obj("ClusterRole", "admin")
    assert cells("rbac.authorization.k8s.io", "clusterroles", role) == ["admin", CREATED]
    assert cells("", "limitranges", obj("LimitRange", "limits")) == ["limits", CREATED]


def test_binding_cells() -> None:
    subjects = [{"kind": "User", "name": "alice"}, {"kind": "Group", "name": "devs"},
                {"kind": "ServiceAccount", "name": "bot", "namespace": "ci"}, {"kind": "User", "name": "bob"}]
    item = obj("RoleBinding", "rb", roleRef={"kind": "ClusterRole", "name": "edit"}, subjects=subjects)
    assert cells("rbac.authorization.k8s.io", "rolebindings", item) == [
        "rb", "ClusterRole/edit", "24h", "alice, bob", "devs", "ci/bot"]
    assert cells("rbac.authorization.k8s.io", "clusterrolebindings", obj("ClusterRoleBinding", "crb", roleRef={
        "kind": "ClusterRole", "name": "view"})) == ["crb", "ClusterRole/view", "24h", "", "", ""]


def test_node_cells() -> None:
    item = obj("Node", "n1", spec={"unschedulable": True},
               meta={"labels": {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "infra",
                                "node-role.kubernetes.io/": "x"}},
               status={"conditions": [{"type": "MemoryPressure", "status": "False"},
                                      {"type": "Ready", "status": "True"}],
                       "nodeInfo": {"kubeletVersion": "v1.35.0", "osImage": "Debian"},
                       "addresses": [{"type": "Hostname", "address": "n1"}, {"type": "InternalIP",
                                                                              "address": "192.168.0.5"}]})
    assert cells("", "nodes", item) == ["n1", "Ready,SchedulingDisabled", "control-plane,infra", "24h", "v1.35.0",
                                        "192.168.0.5", "<none>", "Debian", "<unknown>", "<unknown>"]
    assert cells("", "nodes", obj("Node", "n2"))[1:5] == ["Unknown", "<none>", "24h", ""]
    not_ready = obj("Node", "n3", status={"conditions": [{"type": "Ready", "status": "Unknown"}]})
    assert cells("", "nodes", not_ready)[1] == "NotReady"


def test_core_event_cells() -> None:
    item = obj("Event", "web.17a", type="Warning", reason="BackOff", message="  Back-off restarting  ",
               involvedObject={"kind": "Pod", "name": "web", "fieldPath": "spec.containers{app}"},
               source={"component": "kubelet", "host": "node-1"}, count=5,
               firstTimestamp="2024-01-01T20:00:00Z", lastTimestamp="2024-01-01T23:59:00Z")
    assert cells("", "events", item) == ["60s", "Warning", "BackOff", "pod/web", "spec.containers{app}",
                                         "kubelet, node-1", "Back-off restarting", "4h", 5, "web.17a"]


def test_new_style_events_use_event_time_series_and_reporting_controller() -> None:
    core = obj("Event", "e", type="Normal", reason="Scheduled", involvedObject={"kind": "Node"},
               eventTime="2024-01-01T23:00:00.000000Z", reportingComponent="scheduler")
    assert cells("", "events", core)[:9] == ["60m", "Normal", "Scheduled", "node", "", "scheduler", "", "60m", 1]
    v1 = obj("Event", "e", type="Normal", reason="Pulled", note="pulled", regarding={"kind": "Pod", "name": "p"},
             eventTime="2024-01-01T20:00:00.000000Z", reportingController="kubelet", reportingInstance="node-1",
             series={"count": 7, "lastObservedTime": "2024-01-01T23:59:50.000000Z"})
    assert cells("events.k8s.io", "events", v1) == ["10s", "Normal", "Pulled", "pod/p", "", "kubelet, node-1",
                                                    "pulled", "4h", 7, "e"]
    legacy = obj("Event", "e", regarding={"kind": "Pod", "name": "p"}, deprecatedCount=3,
                 deprecatedFirstTimestamp="2024-01-01T22:00:00Z", deprecatedSource={"component": "kubelet"})
    assert cells("events.k8s.io", "events", legacy)[:9] == ["120m", "", "", "pod/p", "", "kubelet", "", "120m", 3]


def test_pvc_cells() -> None:
    pending = obj("PersistentVolumeClaim", "data", spec={"storageClassName": "standard",
                                                         "resources": {"requests": {"storage": "1Gi"}}},
                  status={"phase": "Pending"})
    assert cells("", "persistentvolumeclaims", pending) == [
        "data", "Pending", "", "", "", "standard", "<unset>", "24h", "<unset>"]
    bound = obj("PersistentVolumeClaim", "data", spec={"volumeName": "pv-1", "volumeMode": "Filesystem"},
                meta={"annotations": {"volume.beta.kubernetes.io/storage-class": "old"}},
                status={"phase": "Bound", "capacity": {"storage": "10Gi"},
                        "accessModes": ["ReadWriteMany", "ReadWriteOnce"]})
    assert cells("", "persistentvolumeclaims", bound) == [
        "data", "Bound", "pv-1", "10Gi", "RWO,RWX", "old", "<unset>", "24h", "Filesystem"]
    deleting = obj("PersistentVolumeClaim", "d", status={"phase": "Bound"}, meta={"deletionTimestamp": CREATED})
    assert cells("", "persistentvolumeclaims", deleting)[1] == "Terminating"


def test_resource_quota_cells() -> None:
    item = obj("ResourceQuota", "q", status={
        "hard": {"pods": "10", "requests.cpu": "1", "limits.memory": "2Gi", "limits": "3"},
        "used": {"pods": "4", "limits.memory": "512Mi"}})
    assert cells("", "resourcequotas", item) == [
        "q", "limits: 0/3, pods: 4/10, requests.cpu: 0/1", "limits.memory: 512Mi/2Gi", "24h"]


def test_pdb_cells() -> None:
    item = obj("PodDisruptionBudget", "pdb", spec={"minAvailable": "50%"}, status={"disruptionsAllowed": 1})
    assert cells("policy", "poddisruptionbudgets", item) == ["pdb", "50%", "N/A", 1, "24h"]
    item = obj("PodDisruptionBudget", "pdb", spec={"maxUnavailable": 1})
    assert cells("policy", "poddisruptionbudgets", item)[1:4] == ["N/A", "1", 0]


def test_hpa_cells() -> None:
    metrics = [
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}},
        {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "1k"}}},
        {"type": "External", "external": {"metric": {"name": "q"}, "target": {"type": "Value", "value": "30"}}},
    ]
    item = obj("HorizontalPodAutoscaler", "web", spec={
        "scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 2, "maxReplicas": 10,
        "metrics": metrics}, status={"currentReplicas": 3, "currentMetrics": [
            {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 45}}}]})
    assert cells("autoscaling", "horizontalpodautoscalers", item) == [
        "web", "Deployment/web", "cpu: 45%/80%, <unknown>/1k + 1 more...", "2", 10, 3, "24h"]
    fresh = obj("HorizontalPodAutoscaler", "new", spec={"scaleTargetRef": {"kind": "Deployment", "name": "new"},
                                                         "maxReplicas": 5, "metrics": metrics[:1]})
    assert cells("autoscaling", "horizontalpodautoscalers", fresh)[2:6] == ["cpu: <unknown>/80%", "<unset>", 5, 0]
    assert cells("autoscaling", "horizontalpodautoscalers", obj("HorizontalPodAutoscaler", spec={}))[2] == "<none>"
