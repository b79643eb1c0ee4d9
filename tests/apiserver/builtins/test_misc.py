"""Leases, events.k8s.io events, PDBs and HPAs: defaults, kube's messages, no exceptions on junk."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from apiserver.builtins import misc
from apiserver.registry import Obj

TYPES = {(t.group, t.plural): t for t in misc.TYPES}
LEASES = ("coordination.k8s.io", "leases")
EVENTS = ("events.k8s.io", "events")
PDBS = ("policy", "poddisruptionbudgets")
HPAS = ("autoscaling", "horizontalpodautoscalers")


def messages(errors: list[Any]) -> list[str]:
    return [e.message() for e in errors]


def validated(key: tuple[str, str], obj: Obj) -> list[str]:
    obj = copy.deepcopy(obj)
    strategy = TYPES[key].strategy
    strategy.default(obj)
    return messages(strategy.validate(obj))


@pytest.mark.parametrize(
    ("key", "version", "kind", "short_names", "categories", "subresources"),
    [
        (LEASES, "v1", "Lease", (), (), ()),
        (EVENTS, "v1", "Event", ("ev",), (), ()),
        (PDBS, "v1", "PodDisruptionBudget", ("pdb",), (), ("status",)),
        (HPAS, "v2", "HorizontalPodAutoscaler", ("hpa",), ("all",), ("status",)),
    ],
)
def test_misc_types_are_registered_as_kube_discovery_lists_them(
    key: tuple[str, str],
    version: str,
    kind: str,
    short_names: tuple[str, ...],
    categories: tuple[str, ...],
    subresources: tuple[str, ...],
) -> None:
    t = TYPES[key]
    assert (t.version, t.kind, t.singular, t.namespaced) == (version, kind, kind.lower(), True)
    assert (t.short_names, t.categories, t.subresources) == (short_names, categories, subresources)


# --- leases ---


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"holderIdentity": "node-1", "leaseDurationSeconds": 40, "leaseTransitions": 0}, []),
        (
            {"leaseDurationSeconds": 0},
            ["spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"],
        ),
        (
            {"leaseTransitions": -1},
            ["spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0"],
        ),
        (
            {"preferredHolder": "a"},
            ["spec.preferredHolder: Forbidden: may only be specified if `strategy` is defined"],
        ),
        (
            {"strategy": "Youngest"},
            [
                'spec.strategy.strategy: Unsupported value: "Youngest": supported values: '
                '"OldestEmulationVersion"'
            ],
        ),
        ({"strategy": "example.com/custom", "preferredHolder": "a"}, []),
    ],
)
def test_lease_durations_and_strategies_get_kubes_messages(spec: Obj, expected: list[str]) -> None:
    assert validated(LEASES, {"spec": spec}) == expected


# --- events.k8s.io ---

GOOD_EVENT: Obj = {
    "metadata": {"name": "e", "namespace": "ns"},
    "eventTime": "2024-01-01T00:00:00.000000Z",
    "regarding": {"kind": "Pod", "name": "p", "namespace": "ns", "uid": "u1"},
    "reason": "Started",
    "action": "Start",
    "note": "started container",
    "type": "Normal",
    "reportingController": "example.com/controller",
    "reportingInstance": "controller-1",
}


def event(**changes: Any) -> Obj:
    obj = copy.deepcopy(GOOD_EVENT)
    for key, value in changes.items():
        if value is None:
            obj.pop(key, None)
        else:
            obj[key] = value
    return obj


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, []),
        ({"eventTime": None}, ["eventTime: Required value"]),
        (
            {"reportingController": None, "reportingInstance": None, "action": None, "reason": None},
            [
                "reportingController: Required value",
                'reportingController: Invalid value: "": name part must be non-empty',
                "reportingController: Invalid value: \"\": name part must consist of alphanumeric "
                "characters, '-', '_' "
                "or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or "
                "'my.name',  or "
                "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
                "reportingInstance: Required value",
                "action: Required value",
                "reason: Required value",
            ],
        ),
        ({"type": "Fatal"}, ['type: Invalid value: "": has invalid value: Fatal']),
        (
            {"deprecatedCount": 3, "deprecatedSource": {"component": "kubelet"}},
            ['count: Invalid value: "": needs to be unset', 'source: Invalid value: "": needs to be unset'],
        ),
        (
            {"series": {"count": 1}},
            [
                'series.count: Invalid value: "": should be at least 2',
                "series.lastObservedTime: Required value",
            ],
        ),
        ({"note": "x" * 1025}, ['message: Invalid value: "": can have at most 1024 characters']),
        (
            {"regarding": {"kind": "Node", "name": "n"}},
            ['involvedObject.namespace: Invalid value: "": does not match event.namespace'],
        ),
    ],
)
def test_events_k8s_io_events_get_kubes_strict_validation_with_internal_field_names(
    changes: Obj,
    expected: list[str],
) -> None:
    assert validated(EVENTS, event(**changes)) == expected


def test_an_events_k8s_io_event_update_may_only_touch_the_series() -> None:
    strategy = TYPES[EVENTS].strategy
    old = event()
    new = event(note="changed", series={"count": 2, "lastObservedTime": "2024-01-01T00:01:00.000000Z"})
    assert messages(strategy.validate_update(new, old)) == [
        'message: Invalid value: "changed": field is immutable'
    ]


def test_events_k8s_io_events_are_selectable_by_regarding_reason_controller_source_and_type() -> None:
    assert TYPES[EVENTS].strategy.field_values(GOOD_EVENT) == {
        "regarding.kind": "Pod",
        "regarding.namespace": "ns",
        "regarding.name": "p",
        "regarding.uid": "u1",
        "regarding.apiVersion": "",
        "regarding.resourceVersion": "",
        "regarding.fieldPath": "",
        "reason": "Started",
        "reportingController": "example.com/controller",
        "source": "example.com/controller",
        "type": "Normal",
    }


# --- pod disruption budgets ---


def test_a_new_pdb_shows_zeroed_status_counters() -> None:
    pdb = {"spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}}
    TYPES[PDBS].strategy.prepare_for_create(pdb)
    assert pdb["status"] == {
        "disruptionsAllowed": 0,
        "currentHealthy": 0,
        "desiredHealthy": 0,
        "expectedPods": 0,
    }
    assert validated(PDBS, pdb) == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {"minAvailable": 1, "maxUnavailable": 1},
            [
                'spec: Invalid value: {"minAvailable":1,"maxUnavailable":1}: minAvailable and '
                'maxUnavailable cannot be '
                "both set"
            ],
        ),
        (
            {"minAvailable": "50"},
            [
                'spec.minAvailable: Invalid value: "50": a valid percent string must be a numeric string '
                'followed by '
                "an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
            ],
        ),
        (
            {"maxUnavailable": "150%"},
            ['spec.maxUnavailable: Invalid value: "150%": must not be greater than 100%'],
        ),
        (
            {"maxUnavailable": -1},
            ["spec.maxUnavailable: Invalid value: -1: must be greater than or equal to 0"],
        ),
        (
            {"minAvailable": "100%", "unhealthyPodEvictionPolicy": "Sometimes"},
            [
                'spec.unhealthyPodEvictionPolicy: Unsupported value: "Sometimes": supported values: '
                '"AlwaysAllow", '
                '"IfHealthyBudget"'
            ],
        ),
    ],
)
def test_pdb_budgets_are_exclusive_ints_or_percentages(spec: Obj, expected: list[str]) -> None:
    assert validated(PDBS, {"spec": spec}) == expected


# --- horizontal pod autoscalers ---

TARGET: Obj = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}


def test_an_hpa_defaults_to_one_replica_and_80_percent_cpu() -> None:
    hpa = {"spec": {"scaleTargetRef": dict(TARGET), "maxReplicas": 5}}
    strategy = TYPES[HPAS].strategy
    strategy.default(hpa)
    strategy.prepare_for_create(hpa)
    assert hpa == {
        "spec": {
            "scaleTargetRef": TARGET,
            "maxReplicas": 5,
            "minReplicas": 1,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
                }
            ],
        },
        "status": {"desiredReplicas": 0},
    }
    assert messages(strategy.validate(hpa)) == []


def test_an_hpa_behavior_is_filled_in_with_kubes_scaling_rules() -> None:
    hpa = {
        "spec": {
            "scaleTargetRef": TARGET,
            "maxReplicas": 5,
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}},
        }
    }
    TYPES[HPAS].strategy.default(hpa)
    assert hpa["spec"]["behavior"] == {
        "scaleDown": {
            "selectPolicy": "Max",
            "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
            "stabilizationWindowSeconds": 60,
        },
        "scaleUp": {
            "stabilizationWindowSeconds": 0,
            "selectPolicy": "Max",
            "policies": [
                {"type": "Pods", "value": 4, "periodSeconds": 15},
                {"type": "Percent", "value": 100, "periodSeconds": 15},
            ],
        },
    }
    assert validated(HPAS, hpa) == []


METRIC = "spec.metrics[0]"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {"maxReplicas": 0},
            [
                "spec.maxReplicas: Invalid value: 0: must be greater than 0",
                "spec.maxReplicas: Invalid value: 0: must be greater than or equal to `minReplicas`",
            ],
        ),
        (
            {"minReplicas": 4, "maxReplicas": 2},
            ["spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`"],
        ),
        ({"minReplicas": 0}, ["spec.minReplicas: Invalid value: 0: must be greater than or equal to 1"]),
        (
            {"scaleTargetRef": {}},
            ["spec.scaleTargetRef.kind: Required value", "spec.scaleTargetRef.name: Required value"],
        ),
        (
            {"scaleTargetRef": {"kind": "Deployment", "name": "a/b"}},
            ["spec.scaleTargetRef.name: Invalid value: \"a/b\": may not contain '/'"],
        ),
        (
            {"metrics": [{"type": "Pods"}]},
            [f"{METRIC}.pods: Required value: must populate information for the given metric source"],
        ),
        (
            {
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 0},
                        },
                    }
                ]
            },
            [f"{METRIC}.resource.target.averageUtilization: Invalid value: 0: must be greater than 0"],
        ),
        (
            {
                "metrics": [
                    {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue"}}}
                ]
            },
            [
                f"{METRIC}.pods.target.averageValue: Required value: must specify a positive target "
                "averageValue"
            ],
        ),
        (
            {
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Both", "averageUtilization": 50, "averageValue": "100m"},
                        },
                    }
                ]
            },
            [
                f'{METRIC}.resource.target.type: Invalid value: "Both": must be either Utilization, Value, '
                'or AverageValue',
                f"{METRIC}.resource.target.averageValue: Forbidden: may not set both a target raw value and "
                "a target "
                "utilization",
            ],
        ),
        (
            {
                "behavior": {
                    "scaleUp": {
                        "selectPolicy": "Sometimes",
                        "policies": [{"type": "Pods", "value": 0, "periodSeconds": 1801}],
                    }
                }
            },
            [
                'spec.behavior.scaleUp.selectPolicy: Unsupported value: "Sometimes": supported values: '
                '"Disabled", '
                '"Max", "Min"',
                "spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero",
                "spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 1801: must be less than or "
                "equal to 1800",
            ],
        ),
    ],
)
def test_hpa_replicas_targets_and_metrics_get_kubes_messages(spec: Obj, expected: list[str]) -> None:
    hpa = {"spec": {"scaleTargetRef": TARGET, "maxReplicas": 3, **spec}}
    assert validated(HPAS, hpa) == expected


# --- junk ---

JUNK: list[Any] = [None, 5, "x", [], [1], {"a": 1}, True]


@pytest.mark.parametrize("key", sorted(TYPES))
@pytest.mark.parametrize("junk", JUNK, ids=repr)
def test_junk_in_any_field_gives_errors_never_exceptions(key: tuple[str, str], junk: Any) -> None:
    strategy = TYPES[key].strategy
    top = ("spec", "regarding", "series", "deprecatedSource", "metadata", "eventTime", "type", "note")
    spec_keys = (
        "minAvailable",
        "maxUnavailable",
        "selector",
        "metrics",
        "behavior",
        "scaleTargetRef",
        "leaseDurationSeconds",
        "strategy",
        "minReplicas",
        "maxReplicas",
    )
    for obj in (
        {k: copy.deepcopy(junk) for k in top},
        {"spec": {k: copy.deepcopy(junk) for k in spec_keys}},
        {
            "spec": {
                "metrics": [junk, {"type": "Resource", "resource": junk}],
                "behavior": {"scaleUp": junk, "scaleDown": {"policies": [junk]}},
            }
        },
    ):
        strategy.default(obj)
        strategy.prepare_for_create(obj)
        strategy.validate(obj)
        strategy.validate_update(obj, copy.deepcopy(obj))
        strategy.field_values(obj)


def test_a_mistyped_replica_count_is_a_type_error() -> None:
    assert validated(HPAS, {"spec": {"scaleTargetRef": TARGET, "maxReplicas": "3"}}) == [
        "spec.maxReplicas: Invalid value: 0: must be greater than 0",
        "spec.maxReplicas: Invalid value: 0: must be greater than or equal to `minReplicas`",
        'spec.maxReplicas: Invalid value: "string": spec.maxReplicas in body must be of type integer: '
        '"string"',
    ]
