"""apps/v1 workloads: kube's defaults, validation messages, immutable fields and registration."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from apiserver.builtins import apps
from apiserver.registry import ScalePaths, Strategy

TYPES = {rt.plural: rt for rt in apps.TYPES}
LABELS = {"app": "web"}
POD_DEFAULTS = {
    "dnsPolicy": "ClusterFirst",
    "restartPolicy": "Always",
    "schedulerName": "default-scheduler",
    "securityContext": {},
    "terminationGracePeriodSeconds": 30,
}
MISMATCH = ('spec.template.metadata.labels: Invalid value: {"app":"web"}: '
            "`selector` does not match template `labels`")


def strategy(plural: str) -> Strategy:
    return TYPES[plural].strategy


def workload(selector: Any = None, labels: Any = None, **spec: Any) -> dict[str, Any]:
    pod_spec = spec.pop("pod", {"containers": [{"name": "web", "image": "nginx:1.27"}]})
    template = {"metadata": {"labels": LABELS if labels is None else labels}, "spec": pod_spec}
    obj = {"metadata": {"name": "web", "namespace": "default", "uid": "u-1"},
           "spec": {"template": template, **spec}}
    if selector != "omit":
        obj["spec"]["selector"] = {"matchLabels": LABELS} if selector is None else selector
    return obj


def created(plural: str, obj: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    strategy(plural).prepare_for_create(obj)
    strategy(plural).default(obj)
    return obj


def messages(plural: str, obj: dict[str, Any]) -> list[str]:
    return [e.message() for e in strategy(plural).validate(created(plural, obj))]


# --- defaults ---


def test_a_deployment_reads_back_with_kubes_defaults() -> None:
    spec = created("deployments", workload())["spec"]
    assert {k: v for k, v in spec.items() if k != "template"} == {
        "selector": {"matchLabels": LABELS},
        "replicas": 1,
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
        "revisionHistoryLimit": 10,
        "progressDeadlineSeconds": 600,
    }
    assert spec["template"]["spec"] == {
        "containers": [{
            "name": "web", "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent", "resources": {},
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
        }],
        **POD_DEFAULTS,
    }


def test_a_recreate_deployment_gets_no_rolling_update_defaults() -> None:
    spec = created("deployments", workload(strategy={"type": "Recreate"}))["spec"]
    assert spec["strategy"] == {"type": "Recreate"}


def test_explicit_deployment_values_are_kept() -> None:
    obj = workload(replicas=0, revisionHistoryLimit=0, strategy={"rollingUpdate": {"maxSurge": 2}})
    spec = created("deployments", obj)["spec"]
    assert (spec["replicas"], spec["revisionHistoryLimit"]) == (0, 0)
    assert spec["strategy"]["rollingUpdate"] == {"maxSurge": 2, "maxUnavailable": "25%"}


def test_a_statefulset_reads_back_with_kubes_defaults() -> None:
    claim = {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}
    spec = created("statefulsets", workload(serviceName="web", volumeClaimTemplates=[claim]))["spec"]
    assert {k: v for k, v in spec.items() if k != "template"} == {
        "selector": {"matchLabels": LABELS},
        "serviceName": "web",
        "replicas": 1,
        "podManagementPolicy": "OrderedReady",
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
        "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
        "revisionHistoryLimit": 10,
        "volumeClaimTemplates": [{
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"},
            "status": {"phase": "Pending"},
        }],
    }


def test_an_on_delete_statefulset_keeps_no_rolling_update() -> None:
    spec = created("statefulsets", workload(updateStrategy={"type": "OnDelete"}))["spec"]
    assert spec["updateStrategy"] == {"type": "OnDelete"}


def test_a_daemonset_reads_back_with_kubes_defaults() -> None:
    obj = created("daemonsets", workload())
    assert obj["spec"]["updateStrategy"] == {"type": "RollingUpdate",
                                             "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
    assert obj["spec"]["revisionHistoryLimit"] == 10
    assert obj["metadata"]["annotations"] == {"deprecated.daemonset.template.generation": "1"}


def test_a_replicaset_defaults_to_one_replica() -> None:
    assert created("replicasets", workload())["spec"]["replicas"] == 1


@pytest.mark.parametrize("plural", list(TYPES))
def test_every_workload_starts_at_generation_one_and_validates(plural: str) -> None:
    obj = created(plural, workload())
    assert obj["metadata"]["generation"] == 1
    assert strategy(plural).validate(obj) == []


# --- validation ---

RESTART = 'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'
PERCENT = ("a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', "
           "regex used for validation is '[0-9]+%')")


@pytest.mark.parametrize(("obj", "expected"), [
    (workload(selector="omit"), ["spec.selector: Required value", MISMATCH]),
    (workload(selector={"matchLabels": {"app": "api"}}), [MISMATCH]),
    (workload(selector={}), ["spec.selector: Invalid value: {}: empty selector is invalid for deployment"]),
    (workload(selector={"matchExpressions": [{"key": "app", "operator": "Has"}]}),
     ['spec.selector.matchExpressions[0].operator: Invalid value: "Has": not a valid selector operator',
      'spec.selector: Invalid value: {"matchExpressions":[{"key":"app","operator":"Has"}]}: invalid label '
      "selector"]),
    (workload(replicas=-1), ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"]),
    (workload(pod={"containers": []}), ["spec.template.spec.containers: Required value"]),
    (workload(pod={"containers": [{"name": "web", "image": "nginx"}], "restartPolicy": "Never"}), [RESTART]),
    (workload(pod={"containers": [{"name": "web", "image": "nginx"}], "activeDeadlineSeconds": 5}),
     ["spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not "
      "Supported"]),
    (workload(strategy={"type": "Recreate", "rollingUpdate": {}}),
     ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"]),
    (workload(strategy={"type": "BlueGreen"}),
     ['spec.strategy: Unsupported value: {"type":"BlueGreen"}: supported values: "Recreate", '
      '"RollingUpdate"']),
    (workload(strategy={"rollingUpdate": {"maxUnavailable": 0, "maxSurge": "0%"}}),
     ["spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"]),
    (workload(strategy={"rollingUpdate": {"maxUnavailable": "150%", "maxSurge": "x"}}),
     [f'spec.strategy.rollingUpdate.maxSurge: Invalid value: "x": {PERCENT}',
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not be greater than 100%']),
    (workload(strategy={"rollingUpdate": {"maxUnavailable": -1, "maxSurge": True}}),
     ["spec.strategy.rollingUpdate.maxUnavailable: Invalid value: -1: must be greater than or equal to 0",
      "spec.strategy.rollingUpdate.maxSurge: Invalid value: true: must be an integer or percentage "
      "(e.g '5%%')"]),
    (workload(minReadySeconds=30, progressDeadlineSeconds=30),
     ["spec.progressDeadlineSeconds: Invalid value: 30: must be greater than minReadySeconds"]),
])
def test_invalid_deployments_get_kubes_field_errors(obj: dict[str, Any], expected: list[str]) -> None:
    assert messages("deployments", obj) == expected


def test_template_label_errors_are_reported_at_template_labels() -> None:
    (message,) = messages("deployments", workload(labels={**LABELS, "bad key": "x"}))
    assert message.startswith('spec.template.labels: Invalid value: "bad key": name part must consist of')


@pytest.mark.parametrize(("obj", "expected"), [
    (workload(selector={}), ["spec.selector: Invalid value: {}: empty selector is invalid for deployment"]),
    (workload(minReadySeconds=-5),
     ["spec.minReadySeconds: Invalid value: -5: must be greater than or equal to 0"]),
    (workload(pod={"containers": [{"name": "web", "image": "nginx"}], "restartPolicy": "Never"}), [RESTART]),
])
def test_invalid_replicasets_get_kubes_field_errors(obj: dict[str, Any], expected: list[str]) -> None:
    assert messages("replicasets", obj) == expected


@pytest.mark.parametrize(("obj", "expected"), [
    (workload(selector="omit"), ["spec.selector: Required value", MISMATCH]),
    (workload(selector={}), ["spec.selector: Invalid value: {}: empty selector is invalid for statefulset"]),
    (workload(podManagementPolicy="Random"),
     ["spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'"]),
    (workload(updateStrategy={"type": "Sometimes"}),
     ["spec.updateStrategy: Invalid value: {\"type\":\"Sometimes\"}: must be 'RollingUpdate' or 'OnDelete'"]),
    (workload(updateStrategy={"type": "OnDelete", "rollingUpdate": {"partition": 1}}),
     ["spec.updateStrategy.rollingUpdate: Invalid value: {\"partition\":1}: only allowed for updateStrategy "
      "'RollingUpdate'"]),
    (workload(updateStrategy={"rollingUpdate": {"partition": -1, "maxUnavailable": 0}}),
     ["spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0",
      "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 0: cannot be 0"]),
    (workload(persistentVolumeClaimRetentionPolicy={"whenDeleted": "Keep"}),
     ['spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "Keep": supported values: '
      '"Retain", "Delete"']),
    (workload(ordinals={"start": -1}),
     ["spec.ordinals.start: Invalid value: -1: must be greater than or equal to 0"]),
    (workload(pod={"containers": [], "restartPolicy": "Never"}), [RESTART]),  # kube skips the pod spec here
    (workload(pod={"containers": [{"name": "web", "image": "nginx"}], "activeDeadlineSeconds": 5}),
     ["spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in StatefulSet is not "
      "Supported"]),
])
def test_invalid_statefulsets_get_kubes_field_errors(obj: dict[str, Any], expected: list[str]) -> None:
    assert messages("statefulsets", obj) == expected


@pytest.mark.parametrize(("obj", "expected"), [
    (workload(selector="omit"), [MISMATCH]),  # kube reports no missing selector for daemonsets
    (workload(selector={}), ["spec.selector: Invalid value: {}: empty selector is invalid for daemonset"]),
    (workload(updateStrategy={"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}}),
     ["spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0"]),
    (workload(updateStrategy={"rollingUpdate": {"maxUnavailable": 1, "maxSurge": "10%"}}),
     ['spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "10%": may not be set when maxUnavailable '
      "is non-zero"]),
    (workload(updateStrategy={"type": "Surge"}),
     ['spec.updateStrategy: Unsupported value: {"type":"Surge"}: supported values: "RollingUpdate", '
      '"OnDelete"']),
    (workload(pod={"containers": [{"name": "web", "image": "nginx"}], "restartPolicy": "Never"}), [RESTART]),
])
def test_invalid_daemonsets_get_kubes_field_errors(obj: dict[str, Any], expected: list[str]) -> None:
    assert messages("daemonsets", obj) == expected


@pytest.mark.parametrize("plural", list(TYPES))
@pytest.mark.parametrize("spec", [
    "spec",
    {"selector": "app=web", "template": 5, "replicas": "3", "strategy": [], "updateStrategy": "RollingUpdate",
     "minReadySeconds": None, "volumeClaimTemplates": "data", "persistentVolumeClaimRetentionPolicy": 1},
    {"selector": {"matchLabels": ["app"]}, "template": {"metadata": "web", "spec": []}},
    {"template": {"metadata": {"labels": "app=web"}, "spec": {"containers": [{"ports": "80"}]}},
     "strategy": {"type": "RollingUpdate", "rollingUpdate": "25%"}},
])
def test_junk_workloads_are_field_errors_not_exceptions(plural: str, spec: Any) -> None:
    obj: dict[str, Any] = {"metadata": {"name": "web"}, "spec": copy.deepcopy(spec)}
    strategy(plural).prepare_for_create(obj)
    strategy(plural).default(obj)
    assert strategy(plural).validate(obj)
    assert isinstance(strategy(plural).validate_update(obj, created(plural, workload())), list)
    strategy(plural).prepare_for_update(obj, created(plural, workload()))


# --- updates ---


@pytest.mark.parametrize("plural", ["deployments", "replicasets", "daemonsets"])
def test_the_selector_is_immutable(plural: str) -> None:
    old = created(plural, workload())
    new = copy.deepcopy(old)
    new["spec"]["selector"] = {"matchLabels": {"app": "api"}}
    assert [e.message() for e in strategy(plural).validate_update(new, old)] == [
        'spec.selector: Invalid value: {"matchLabels":{"app":"api"}}: field is immutable'
    ]
    new["spec"]["selector"] = {"matchLabels": LABELS, "matchExpressions": []}
    assert strategy(plural).validate_update(new, old) == []


def test_statefulset_updates_may_only_touch_some_spec_fields() -> None:
    old = created("statefulsets", workload(serviceName="web"))
    new = copy.deepcopy(old)
    new["spec"].update(replicas=3, minReadySeconds=5, updateStrategy={"type": "OnDelete"})
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"
    assert strategy("statefulsets").validate_update(new, old) == []
    new["spec"]["serviceName"] = "other"
    assert [e.message() for e in strategy("statefulsets").validate_update(new, old)] == [
        "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', "
        "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are "
        "forbidden"
    ]


def test_daemonset_template_generation_follows_template_changes_only() -> None:
    ds = strategy("daemonsets")
    old = created("daemonsets", workload())
    same = copy.deepcopy(old)
    same["spec"]["minReadySeconds"] = 5
    same["metadata"]["annotations"]["deprecated.daemonset.template.generation"] = "7"  # not the client's
    ds.prepare_for_update(same, old)
    assert same["metadata"]["annotations"] == {"deprecated.daemonset.template.generation": "1"}
    changed = copy.deepcopy(old)
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"
    ds.prepare_for_update(changed, old)
    assert changed["metadata"]["annotations"] == {"deprecated.daemonset.template.generation": "2"}


# --- field selectors and registration ---


def test_replicasets_select_on_status_replicas() -> None:
    obj = created("replicasets", workload())
    assert strategy("replicasets").field_values(obj) == {"status.replicas": "0"}
    obj["status"] = {"replicas": 3}
    assert strategy("replicasets").field_values(obj) == {"status.replicas": "3"}
    assert strategy("deployments").field_values(obj) == {}


@pytest.mark.parametrize(("plural", "kind", "short", "subresources", "scalable"), [
    ("deployments", "Deployment", "deploy", ("status", "scale"), True),
    ("replicasets", "ReplicaSet", "rs", ("status", "scale"), True),
    ("statefulsets", "StatefulSet", "sts", ("status", "scale"), True),
    ("daemonsets", "DaemonSet", "ds", ("status",), False),
])
def test_workloads_are_registered_as_kube_serves_them(
    plural: str, kind: str, short: str, subresources: tuple[str, ...], scalable: bool
) -> None:
    rt = TYPES[plural]
    assert (rt.group, rt.version, rt.kind, rt.singular) == ("apps", "v1", kind, kind.lower())
    assert (rt.short_names, rt.categories, rt.subresources) == ((short,), ("all",), subresources)
    assert rt.namespaced
    assert rt.scale == (ScalePaths() if scalable else None)


def test_statefulset_names_are_dns_labels() -> None:
    assert strategy("statefulsets").name_rule == "label"
    assert strategy("deployments").name_rule == "subdomain"
