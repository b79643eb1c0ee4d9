"""Pods: kube's defaults, server-set status, validation messages and field selectors."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from apiserver.builtins import pods
from apiserver.builtins.podspec import default_pod_spec, image_tag, parse_quantity, validate_pod_spec

STRATEGY = pods.TYPES[0].strategy
C0 = "spec.containers[0]"
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


def ctr(name: str = "app", image: str = "nginx", **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": image, **fields}


def pod(*containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "p", "namespace": "default", "uid": "u-1"},
            "spec": {"containers": list(containers) or [ctr()], **spec}}


def created(obj: dict[str, Any]) -> dict[str, Any]:
    """What the generic create handler does with the strategy hooks."""
    obj = copy.deepcopy(obj)
    STRATEGY.prepare_for_create(obj)
    STRATEGY.default(obj)
    return obj


def messages(obj: dict[str, Any]) -> list[str]:
    return [e.message() for e in STRATEGY.validate(obj)]


def update_messages(new: dict[str, Any], old: dict[str, Any]) -> list[str]:
    return [e.message() for e in STRATEGY.validate_update(new, old)]


# --- defaults and status ---


def test_a_minimal_pod_reads_back_with_kubes_defaults_and_pending_status() -> None:
    obj = created(pod())
    assert obj["spec"] == {
        "containers": [{
            "name": "app",
            "image": "nginx",
            "imagePullPolicy": "Always",
            "resources": {},
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
        }],
        "dnsPolicy": "ClusterFirst",
        "enableServiceLinks": True,
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "securityContext": {},
        "terminationGracePeriodSeconds": 30,
    }
    assert obj["status"] == {"phase": "Pending", "qosClass": "BestEffort"}
    assert obj["metadata"]["generation"] == 1
    assert messages(obj) == []


DIGEST = "@sha256:" + "a" * 64


@pytest.mark.parametrize(("image", "policy"), [
    ("nginx", "Always"),
    ("nginx:latest", "Always"),
    ("nginx:1.25", "IfNotPresent"),
    ("localhost:5000/team/app", "Always"),
    ("localhost:5000/team/app:v2", "IfNotPresent"),
    ("nginx" + DIGEST, "IfNotPresent"),
    ("nginx:1.25" + DIGEST, "IfNotPresent"),
    ("Not/Valid", "IfNotPresent"),
    ("", "IfNotPresent"),
])
def test_image_pull_policy_defaults_to_always_only_for_latest_images(image: str, policy: str) -> None:
    obj = created(pod(ctr(image=image)))
    assert obj["spec"]["containers"][0]["imagePullPolicy"] == policy


def test_an_explicit_pull_policy_is_kept() -> None:
    obj = created(pod(ctr(imagePullPolicy="Never")))
    assert obj["spec"]["containers"][0]["imagePullPolicy"] == "Never"


def test_image_tag_follows_docker_reference_parsing() -> None:
    assert image_tag("docker.io/library/busybox:1.36") == "1.36"
    assert image_tag("busybox") == "latest"
    assert image_tag(None) is None


def test_container_parts_get_their_defaults() -> None:
    container = ctr(
        ports=[{"containerPort": 80}],
        env=[{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
        livenessProbe={"httpGet": {"port": 80}},
        readinessProbe={"grpc": {"port": 9000}, "periodSeconds": 5},
        lifecycle={"preStop": {"httpGet": {"port": 80, "path": "/stop"}}},
    )
    out = created(pod(container))["spec"]["containers"][0]
    assert out["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert out["env"][0]["valueFrom"]["fieldRef"] == {"fieldPath": "spec.nodeName", "apiVersion": "v1"}
    assert out["livenessProbe"] == {
        "httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3,
    }
    assert out["readinessProbe"]["grpc"] == {"port": 9000, "service": ""}
    assert out["readinessProbe"]["periodSeconds"] == 5
    assert out["lifecycle"]["preStop"]["httpGet"] == {"port": 80, "path": "/stop", "scheme": "HTTP"}


TOKEN = {"serviceAccountToken": {"path": "token"}}


@pytest.mark.parametrize(("volume", "expected"), [
    ({"name": "v"}, {"name": "v", "emptyDir": {}}),
    ({"name": "v", "secret": {"secretName": "x"}},
     {"name": "v", "secret": {"secretName": "x", "defaultMode": 420}}),
    ({"name": "v", "configMap": {"name": "x", "defaultMode": 256}},
     {"name": "v", "configMap": {"name": "x", "defaultMode": 256}}),
    ({"name": "v", "hostPath": {"path": "/data"}}, {"name": "v", "hostPath": {"path": "/data", "type": ""}}),
    ({"name": "v", "projected": {"sources": [TOKEN]}},
     {"name": "v", "projected": {"defaultMode": 420, "sources": [
         {"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}}]}}),
])
def test_volumes_get_kubes_source_defaults(volume: dict[str, Any], expected: dict[str, Any]) -> None:
    assert created(pod(volumes=[volume]))["spec"]["volumes"] == [expected]


def test_requests_default_to_limits_in_pods_but_not_in_templates() -> None:
    resources = {"limits": {"cpu": "500m"}, "requests": {"memory": "64Mi"}}
    obj = created(pod(ctr(resources=copy.deepcopy(resources))))
    assert obj["spec"]["containers"][0]["resources"]["requests"] == {"memory": "64Mi", "cpu": "500m"}
    template_spec: dict[str, Any] = {"containers": [ctr(resources=resources)]}
    default_pod_spec(template_spec)
    assert template_spec["containers"][0]["resources"]["requests"] == {"memory": "64Mi"}
    assert "enableServiceLinks" not in template_spec


def test_host_network_pods_default_host_ports_to_container_ports() -> None:
    obj = created(pod(ctr(ports=[{"containerPort": 80}]), hostNetwork=True))
    assert obj["spec"]["containers"][0]["ports"] == [{"containerPort": 80, "protocol": "TCP", "hostPort": 80}]


CPU_MEM = {"cpu": "1", "memory": "1Gi"}


@pytest.mark.parametrize(("resources", "qos"), [
    ([{}], "BestEffort"),
    ([{"requests": {"cpu": "0"}}], "BestEffort"),
    ([{"requests": {"cpu": "100m"}}], "Burstable"),
    ([{"limits": CPU_MEM}], "Guaranteed"),
    ([{"limits": CPU_MEM, "requests": {"cpu": "1000m", "memory": "1024Mi"}}], "Guaranteed"),
    ([{"limits": CPU_MEM, "requests": {"cpu": "500m"}}], "Burstable"),
    ([{"limits": {"cpu": "1"}}], "Burstable"),
    ([{"limits": CPU_MEM}, {}], "Burstable"),
    ([{"limits": {"nvidia.com/gpu": "1"}}], "BestEffort"),
])
def test_qos_class_is_computed_from_container_resources(resources: list[dict[str, Any]], qos: str) -> None:
    containers = [ctr(f"c{i}", resources=r) for i, r in enumerate(resources)]
    assert created(pod(*containers))["status"]["qosClass"] == qos


def test_scheduling_gates_add_the_gated_condition() -> None:
    obj = created(pod(schedulingGates=[{"name": "example.com/wait"}]))
    assert obj["status"]["conditions"] == [{
        "type": "PodScheduled", "status": "False", "lastProbeTime": None, "lastTransitionTime": None,
        "reason": "SchedulingGated", "message": "Scheduling is blocked due to non-empty scheduling gates",
    }]


@pytest.mark.parametrize(("value", "expected"), [
    ("500m", "0.5"), ("1Gi", "1073741824"), ("1e3", "1000"), ("2k", "2000"), (3, "3"), ("1.5", "1.5"),
    ("abc", None), ("1Gb", None), (True, None), (None, None),
])
def test_quantities_parse_like_resource_quantity(value: Any, expected: str | None) -> None:
    parsed = parse_quantity(value)
    assert (None if parsed is None else f"{parsed.normalize():f}") == expected


# --- validation ---

QUANTITY = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
ENV_PATHS = ('"metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", '
             '"spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"')
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and "
    "must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
    "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


@pytest.mark.parametrize(("spec", "expected"), [
    ({"containers": []}, ["spec.containers: Required value"]),
    ({"containers": [{"image": "nginx"}]}, [f"{C0}.name: Required value"]),
    ({"containers": [ctr("Web_1")]}, [f'{C0}.name: Invalid value: "Web_1": {LABEL_MSG}']),
    ({"containers": [{"name": "app"}]}, [f"{C0}.image: Required value"]),
    ({"containers": [ctr(), ctr(image="redis")]}, ['spec.containers[1].name: Duplicate value: "app"']),
    ({"initContainers": [ctr(image="busybox")]}, ['spec.initContainers[0].name: Duplicate value: "app"']),
    ({"containers": [ctr(image=" nginx")]},
     [f'{C0}.image: Invalid value: " nginx": must not have leading or trailing whitespace']),
    ({"containers": [ctr(ports=[{"containerPort": 0}])]}, [f"{C0}.ports[0].containerPort: Required value"]),
    ({"containers": [ctr(ports=[{"containerPort": 70000}])]},
     [f"{C0}.ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"]),
    ({"containers": [ctr(ports=[{"containerPort": 80, "protocol": "HTTP"}])]},
     [f'{C0}.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"']),
    ({"containers": [ctr(ports=[{"containerPort": 80, "name": "HTTP"}, {"containerPort": 81, "name": "web"},
                                {"containerPort": 82, "name": "web"}])]},
     [f'{C0}.ports[0].name: Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), '
      "and hyphens (-)",
      f'{C0}.ports[0].name: Invalid value: "HTTP": must contain at least one letter (a-z)',
      f'{C0}.ports[2].name: Duplicate value: "web"']),
    ({"containers": [ctr("a", ports=[{"containerPort": 80, "hostPort": 8080}]),
                     ctr("b", ports=[{"containerPort": 81, "hostPort": 8080}])]},
     ['spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080"']),
    ({"containers": [ctr(env=[{"value": "x"}, {"name": "A=B"}])]},
     [f"{C0}.env[0].name: Required value",
      f'{C0}.env[1].name: Invalid value: "A=B": a valid environment variable name must consist only of '
      "printable ASCII characters other than '='"]),
    ({"containers": [ctr(env=[{"name": "A", "valueFrom": {}}])]},
     [f'{C0}.env[0].valueFrom: Invalid value: "": must specify one of: `fieldRef`, `resourceFieldRef`, '
      "`configMapKeyRef` or `secretKeyRef`"]),
    ({"containers": [ctr(env=[{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "status.phase"}}},
                              {"name": "B", "valueFrom": {"fieldRef": {"fieldPath": "spec.foo"}}},
                              {"name": "C", "valueFrom": {"secretKeyRef": {"name": "s"}}}])]},
     [f'{C0}.env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "status.phase": supported values: '
      + ENV_PATHS,
      f'{C0}.env[1].valueFrom.fieldRef.fieldPath: Invalid value: "spec.foo": error converting fieldPath: '
      "field label not supported: spec.foo",
      f"{C0}.env[2].valueFrom.secretKeyRef.key: Required value"]),
    ({"containers": [ctr(volumeMounts=[{"name": "data", "mountPath": "/d"}])]},
     [f'{C0}.volumeMounts[0].name: Not found: "data"']),
    ({"volumes": [{"name": "v", "secret": {}}]}, ["spec.volumes[0].secret.secretName: Required value"]),
    ({"volumes": [{"name": "v"}, {"name": "v"}, {"name": "Bad", "emptyDir": {}, "hostPath": {"path": "/x"}}]},
     ['spec.volumes[1].name: Duplicate value: "v"',
      "spec.volumes[2].hostPath: Forbidden: may not specify more than 1 volume type",
      f'spec.volumes[2].name: Invalid value: "Bad": {LABEL_MSG}']),
    ({"containers": [ctr(resources={"requests": {"cpu": "2"}, "limits": {"cpu": "1"}})]},
     [f'{C0}.resources.requests[cpu]: Invalid value: "2": must be less than or equal to cpu limit of 1']),
    ({"containers": [ctr(resources={"limits": {"memory": "lots"}})]},  # requests default to the limits
     [f'{C0}.resources.{kind}[memory]: Invalid value: "lots": {QUANTITY}' for kind in ("limits", "requests")]
     ),
    ({"containers": [ctr(livenessProbe={"successThreshold": 2})]},
     [f"{C0}.livenessProbe: Required value: must specify a handler type",
      f"{C0}.livenessProbe.successThreshold: Invalid value: 2: must be 1"]),
    ({"containers": [ctr(readinessProbe={"exec": {"command": ["true"]}, "tcpSocket": {"port": 80}})]},
     [f"{C0}.readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type"]),
    ({"containers": [ctr(restartPolicy="Always")]},
     [f"{C0}.restartPolicy: Forbidden: may not be set for non-init containers"]),
    ({"initContainers": [ctr("init", readinessProbe={"exec": {"command": ["x"]}})]},
     ["spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without "
      "restartPolicy=Always"]),
    ({"restartPolicy": "Sometimes"},
     ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", '
      '"Never"']),
    ({"dnsPolicy": "Google"},
     ['spec.dnsPolicy: Unsupported value: "Google": supported values: "ClusterFirstWithHostNet", '
      '"ClusterFirst", "Default", "None"']),
    ({"activeDeadlineSeconds": 0},
     ["spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive"]),
    ({"hostname": "my.host"}, ['spec.hostname: Invalid value: "my.host": must not contain dots']),
    ({"nodeSelector": {"disk": "fast ssd"}},
     [f'spec.nodeSelector: Invalid value: "fast ssd": {LABEL_VALUE_MSG}']),
    ({"tolerations": [{"operator": "Equal", "value": "x"}, {"key": "k", "operator": "Exists", "value": "v"},
                      {"key": "k", "effect": "NoSchedule", "tolerationSeconds": 5}]},
     ['spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, '
      'which means "match all values and all keys"',
      "spec.tolerations[1].operator: Invalid value: \"v\": value must be empty when `operator` is 'Exists'",
      "spec.tolerations[2].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when "
      "`tolerationSeconds` is set"]),
    ({"hostNetwork": True, "containers": [ctr(ports=[{"containerPort": 80, "hostPort": 81}])]},
     [f"{C0}.ports[0].hostPort: Invalid value: 81: must match `containerPort` when `hostNetwork` is true"]),
    ({"ephemeralContainers": [ctr("debug")]},
     ["spec.ephemeralContainers: Forbidden: cannot be set on create"]),
    ({"nodeName": "node-1", "schedulingGates": [{"name": "wait"}]},
     ["spec.nodeName: Forbidden: cannot be set until all schedulingGates have been cleared"]),
])
def test_invalid_pod_specs_get_kubes_field_errors(spec: dict[str, Any], expected: list[str]) -> None:
    assert messages(created(pod(**spec))) == expected


def test_templates_may_leave_host_ports_unset_under_host_network() -> None:
    spec: dict[str, Any] = {"hostNetwork": True, "containers": [ctr(ports=[{"containerPort": 80}])]}
    default_pod_spec(spec)
    assert validate_pod_spec(spec, "spec") == []


@pytest.mark.parametrize("spec", [
    "not an object",
    {"containers": "nginx"},
    {"containers": ["nginx"]},
    {"containers": [{"name": 5, "image": ["x"], "ports": {"80": "tcp"}}]},
    {"containers": [ctr(ports=[{"containerPort": "80", "protocol": 6}], env=[{"name": "A", "valueFrom": "x"}],
                        volumeMounts=[None], resources="big", livenessProbe=[], lifecycle={"preStop": 1})]},
    {"containers": [ctr(resources={"limits": ["1"], "requests": {"cpu": []}})]},
    {"volumes": "v", "tolerations": {"key": "x"}, "nodeSelector": ["a"], "restartPolicy": 1,
     "terminationGracePeriodSeconds": "30", "activeDeadlineSeconds": 1.5, "hostNetwork": "yes"},
    {"volumes": [{"name": "v", "secret": "s"}, 7]},
])
def test_junk_types_are_field_errors_not_exceptions(spec: Any) -> None:
    obj = {"metadata": {"name": "p"}, "spec": copy.deepcopy(spec)}
    STRATEGY.prepare_for_create(obj)
    STRATEGY.default(obj)
    assert STRATEGY.validate(obj)
    assert isinstance(STRATEGY.field_values(obj), dict)
    assert isinstance(STRATEGY.validate_update(obj, created(pod())), list)


def test_a_mistyped_field_reads_as_a_type_error() -> None:
    assert messages(created(pod(containers="nginx"))) == [
        'spec.containers: Invalid value: "string": spec.containers in body must be of type array: "string"'
    ]


# --- updates ---

UPDATABLE = (
    "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,"
    "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)


def changed(old: dict[str, Any], **spec: Any) -> dict[str, Any]:
    new = copy.deepcopy(old)
    new["spec"].update(spec)
    return new


def test_pod_updates_may_change_images_deadlines_and_add_tolerations() -> None:
    toleration = {"key": "a", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5}
    old = created(pod(tolerations=[toleration]))
    new = changed(old, activeDeadlineSeconds=60,
                  tolerations=[{**toleration, "tolerationSeconds": 9}, {"key": "b", "operator": "Exists"}])
    new["spec"]["containers"][0]["image"] = "nginx:1.27"
    assert update_messages(new, old) == []


def test_other_pod_spec_changes_are_forbidden_with_a_diff() -> None:
    old = created(pod())
    (message,) = update_messages(changed(old, restartPolicy="Never"), old)
    assert message == f'spec: Forbidden: {UPDATABLE}\n- restartPolicy: "Always"\n+ restartPolicy: "Never"'


@pytest.mark.parametrize(("old_spec", "new_spec", "expected"), [
    ({}, {"containers": [ctr(), ctr("b")]},
     ["spec.containers: Forbidden: pod updates may not add or remove containers"]),
    ({"activeDeadlineSeconds": 30}, {"activeDeadlineSeconds": 60},
     ["spec.activeDeadlineSeconds: Invalid value: 60: must be less than or equal to previous value"]),
    ({"activeDeadlineSeconds": 30}, {"activeDeadlineSeconds": None},
     ["spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive integer to nil "
      "value"]),
    ({"tolerations": [{"key": "a", "operator": "Exists"}]}, {"tolerations": []},
     ["spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"]),
    ({"schedulingGates": [{"name": "a"}]}, {"schedulingGates": [{"name": "a"}, {"name": "b"}]},
     ["spec.schedulingGates[1].name: Forbidden: only deletion is allowed, but found new scheduling gate "
      "'b'"]),
])
def test_pod_update_rules_follow_validate_pod_update(
    old_spec: dict[str, Any], new_spec: dict[str, Any], expected: list[str]
) -> None:
    old = created(pod(**old_spec))
    assert update_messages(changed(old, **new_spec), old) == expected


@pytest.mark.parametrize(("image", "expected"), [
    ("", [f"{C0}.image: Required value"]),
    ("nginx ", [f'{C0}.image: Invalid value: "nginx ": must not have leading or trailing whitespace']),
])
def test_updated_images_are_still_checked(image: str, expected: list[str]) -> None:
    old = created(pod())
    new = copy.deepcopy(old)
    new["spec"]["containers"][0]["image"] = image
    assert update_messages(new, old) == expected


def test_removing_scheduling_gates_is_allowed() -> None:
    old = created(pod(schedulingGates=[{"name": "a"}, {"name": "b"}]))
    assert update_messages(changed(old, schedulingGates=[{"name": "b"}]), old) == []


# --- field selectors and registration ---


def test_pod_field_values_are_kubes_selectable_fields() -> None:
    obj = created(pod(nodeName="node-1", serviceAccountName="builder", hostNetwork=True))
    obj["status"].update(podIPs=[{"ip": "10.0.0.7"}, {"ip": "fd00::7"}], nominatedNodeName="node-2")
    assert STRATEGY.field_values(obj) == {
        "spec.nodeName": "node-1",
        "spec.host": "node-1",
        "spec.restartPolicy": "Always",
        "spec.schedulerName": "default-scheduler",
        "spec.serviceAccountName": "builder",
        "spec.hostNetwork": "true",
        "status.phase": "Pending",
        "status.podIP": "10.0.0.7",
        "status.nominatedNodeName": "node-2",
    }


def test_pods_are_registered_as_kube_serves_them() -> None:
    (rt,) = pods.TYPES
    assert (rt.group, rt.version, rt.kind, rt.plural, rt.singular) == ("", "v1", "Pod", "pods", "pod")
    assert (rt.short_names, rt.categories, rt.subresources) == (("po",), ("all",), ("status",))
    assert rt.namespaced
