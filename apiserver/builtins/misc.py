"""Smaller groups: coordination.k8s.io leases, events.k8s.io events, policy PDBs, autoscaling/v2 HPAs.

Sources: pkg/apis/coordination/validation, pkg/apis/core/validation/events.go (events.k8s.io
shares core's Event validation and reports core's internal field names), pkg/apis/policy/validation,
pkg/apis/autoscaling/v2/defaults.go and pkg/apis/autoscaling/validation.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from apiserver.builtins.core import (
    NONNEGATIVE_MSG,
    child,
    get_dict,
    get_dicts,
    get_int,
    get_str,
    immutable,
    parse_quantity,
    peek,
    text,
    typed,
    validate_event,
)
from apiserver.registry import Obj, ResourceType, Strategy
from machinery import (
    FieldError,
    forbidden,
    invalid,
    is_dns1123_label,
    is_path_segment_name,
    is_qualified_name,
    not_supported,
    required,
    validate_label_selector,
)

# --- coordination.k8s.io/v1 leases ---

LEASE_STRATEGIES = ["OldestEmulationVersion"]  # validLeaseStrategies


class LeaseStrategy(Strategy):
    def validate(self, obj: Obj) -> list[FieldError]:
        """ValidateLeaseSpec."""
        errs: list[FieldError] = []
        spec = get_dict(obj, "spec", "spec", errs)
        out: list[FieldError] = []
        duration = get_int(spec, "leaseDurationSeconds", "spec.leaseDurationSeconds", errs)
        if duration is not None and duration <= 0:
            out.append(invalid("spec.leaseDurationSeconds", duration, "must be greater than 0"))
        transitions = get_int(spec, "leaseTransitions", "spec.leaseTransitions", errs)
        if transitions is not None and transitions < 0:
            out.append(invalid("spec.leaseTransitions", transitions, NONNEGATIVE_MSG))
        strategy = typed(spec.get("strategy"), "string", "spec.strategy", errs)
        if strategy is not None:
            if "/" not in strategy and strategy not in LEASE_STRATEGIES:
                # sic: kube appends "strategy" to a path that already ends in it
                out.append(not_supported("spec.strategy.strategy", strategy, LEASE_STRATEGIES))
            elif "/" in strategy:
                out.extend(invalid("spec.strategy.strategy", strategy, msg)
                           for msg in is_qualified_name(strategy))
        if get_str(spec, "preferredHolder", "spec.preferredHolder", errs) and not strategy:
            out.append(forbidden("spec.preferredHolder", "may only be specified if `strategy` is defined"))
        return out + errs


# --- events.k8s.io/v1 events: core's Event under other field names ---

_V1_TO_CORE = {
    "regarding": "involvedObject",
    "note": "message",
    "deprecatedSource": "source",
    "deprecatedFirstTimestamp": "firstTimestamp",
    "deprecatedLastTimestamp": "lastTimestamp",
    "deprecatedCount": "count",
    "reportingController": "reportingComponent",
}

# ValidateEventUpdate's immutable fields, by internal name (kube checks reason twice)
_IMMUTABLE_EVENT_FIELDS = (
    ("involvedObject", "involvedObject"), ("reason", "reason"), ("message", "message"), ("source", "source"),
    ("firstTimestamp", "firstTimestamp"), ("lastTimestamp", "lastTimestamp"), ("count", "count"),
    ("reason", "reason"), ("type", "type"), ("eventTime", "eventTime"), ("action", "action"),
    ("related", "related"), ("reportingComponent", "reportingController"),
    ("reportingInstance", "reportingInstance"),
)


def as_core_event(event: Obj) -> Obj:
    """An events.k8s.io/v1 Event in core/v1's shape (the conversion kube's storage does)."""
    return {_V1_TO_CORE.get(key, key): value for key, value in event.items()}


class EventsV1Strategy(Strategy):
    def validate(self, obj: Obj) -> list[FieldError]:
        return validate_event(as_core_event(obj), strict=True)

    def validate_update(self, obj: Obj, old: Obj) -> list[FieldError]:
        new, before = as_core_event(obj), as_core_event(old)
        errs: list[FieldError] = []
        for key, path in _IMMUTABLE_EVENT_FIELDS:
            errs.extend(immutable(new.get(key) or None, before.get(key) or None, path))
        return errs

    def field_values(self, obj: Obj) -> dict[str, str]:
        regarding = obj.get("regarding")
        fields = {f"regarding.{k}": text(peek(regarding, k))
                  for k in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")}
        controller = text(obj.get("reportingController"))
        fields.update(reason=text(obj.get("reason")), reportingController=controller,
                      source=text(peek(obj, "deprecatedSource", "component")) or controller,
                      type=text(obj.get("type")))
        return fields


# --- policy/v1 pod disruption budgets ---

_PERCENT_MSG = ("a valid percent string must be a numeric string followed by an ending '%' "
                "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")
EVICTION_POLICIES = ["AlwaysAllow", "IfHealthyBudget"]  # supportedUnhealthyPodEvictionPolicies, sorted


def int_or_percent_errors(value: Any, path: str) -> list[FieldError]:
    """ValidatePositiveIntOrPercent and IsNotMoreThan100Percent (apps validation)."""
    if isinstance(value, str):
        if not re.fullmatch(r"[0-9]+%", value):
            return [invalid(path, value, _PERCENT_MSG)]
        return [invalid(path, value, "must not be greater than 100%")] if int(value[:-1]) > 100 else []
    if isinstance(value, int) and not isinstance(value, bool):
        return [invalid(path, value, NONNEGATIVE_MSG)] if value < 0 else []
    return [invalid(path, value, "must be an integer or percentage (e.g '5%')")]


class PodDisruptionBudgetStrategy(Strategy):
    generation = True

    def prepare_for_create(self, obj: Obj) -> None:
        # these status counters are not omitempty in policy/v1, so a new PDB shows them as 0
        obj["status"] = {"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0}

    def validate(self, obj: Obj) -> list[FieldError]:
        """ValidatePodDisruptionBudgetSpec."""
        errs: list[FieldError] = []
        spec = get_dict(obj, "spec", "spec", errs)
        out: list[FieldError] = []
        if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
            out.append(invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set"))
        for key in ("minAvailable", "maxUnavailable"):
            if spec.get(key) is not None:
                out.extend(int_or_percent_errors(spec[key], f"spec.{key}"))
        out.extend(validate_label_selector(spec.get("selector"), "spec.selector"))
        policy_path = "spec.unhealthyPodEvictionPolicy"
        policy = typed(spec.get("unhealthyPodEvictionPolicy"), "string", policy_path, errs)
        if policy is not None and policy not in EVICTION_POLICIES:
            out.append(not_supported(policy_path, policy, EVICTION_POLICIES))
        return out + errs


# --- autoscaling/v2 horizontal pod autoscalers ---

DEFAULT_CPU_UTILIZATION = 80  # autoscaling.DefaultCPUUtilization
_DEFAULT_SCALE_UP: Obj = {
    "stabilizationWindowSeconds": 0,
    "selectPolicy": "Max",
    "policies": [{"type": "Pods", "value": 4, "periodSeconds": 15},
                 {"type": "Percent", "value": 100, "periodSeconds": 15}],
}
_DEFAULT_SCALE_DOWN: Obj = {  # no stabilization window: the controller's flag decides it
    "selectPolicy": "Max",
    "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
}
MAX_PERIOD_SECONDS = 1800  # validation.MaxPeriodSeconds
MAX_STABILIZATION_SECONDS = 3600  # validation.MaxStabilizationWindowSeconds
METRIC_SOURCE_TYPES = ["ContainerResource", "External", "Object", "Pods", "Resource"]  # sorted
_SOURCE_FIELDS = {"Object": "object", "External": "external", "Pods": "pods", "Resource": "resource",
                  "ContainerResource": "containerResource"}  # in the order validateMetricSpec checks them


def _scaling_rules(given: Any, defaults: Obj) -> Any:
    """GenerateHPAScale{Up,Down}Rules: the defaults, overridden by whatever the client set."""
    if given is None:
        return copy.deepcopy(defaults)
    if not isinstance(given, dict):
        return given
    rules = copy.deepcopy(defaults)
    rules.update({k: v for k, v in given.items() if v is not None})
    return rules


class HorizontalPodAutoscalerStrategy(Strategy):
    def default(self, obj: Obj) -> None:
        """SetDefaults_HorizontalPodAutoscaler."""
        spec = child(obj, "spec")
        if spec is None:
            return
        if spec.get("minReplicas") is None:
            spec["minReplicas"] = 1
        if not spec.get("metrics"):
            target = {"type": "Utilization", "averageUtilization": DEFAULT_CPU_UTILIZATION}
            spec["metrics"] = [{"type": "Resource", "resource": {"name": "cpu", "target": target}}]
        behavior = spec.get("behavior")
        if isinstance(behavior, dict):
            behavior["scaleUp"] = _scaling_rules(behavior.get("scaleUp"), _DEFAULT_SCALE_UP)
            behavior["scaleDown"] = _scaling_rules(behavior.get("scaleDown"), _DEFAULT_SCALE_DOWN)

    def prepare_for_create(self, obj: Obj) -> None:
        obj["status"] = {"desiredReplicas": 0}  # not omitempty in autoscaling/v2

    def validate(self, obj: Obj) -> list[FieldError]:
        errs: list[FieldError] = []
        return _hpa_spec_errors(get_dict(obj, "spec", "spec", errs), errs) + errs


def _hpa_spec_errors(spec: Obj, errs: list[FieldError]) -> list[FieldError]:
    """validateHorizontalPodAutoscalerSpec (HPAScaleToZero off, so minReplicas is at least 1)."""
    out: list[FieldError] = []
    low = get_int(spec, "minReplicas", "spec.minReplicas", errs)
    high = get_int(spec, "maxReplicas", "spec.maxReplicas", errs) or 0
    if low is not None and low < 1:
        out.append(invalid("spec.minReplicas", low, "must be greater than or equal to 1"))
    if high < 1:
        out.append(invalid("spec.maxReplicas", high, "must be greater than 0"))
    if low is not None and high < low:
        out.append(invalid("spec.maxReplicas", high, "must be greater than or equal to `minReplicas`"))
    out.extend(cross_version_ref_errors(get_dict(spec, "scaleTargetRef", "spec.scaleTargetRef", errs),
                                        "spec.scaleTargetRef", errs))
    for path, metric in get_dicts(spec, "metrics", "spec.metrics", errs):
        out.extend(_metric_errors(metric, path, errs))
    behavior = get_dict(spec, "behavior", "spec.behavior", errs)
    for key in ("scaleUp", "scaleDown"):
        if behavior.get(key) is not None:
            out.extend(_scaling_rules_errors(get_dict(behavior, key, f"spec.behavior.{key}", errs),
                                             f"spec.behavior.{key}", errs))
    return out


def cross_version_ref_errors(ref: Obj, path: str, errs: list[FieldError]) -> list[FieldError]:
    """ValidateCrossVersionObjectReference: kind and name, each safe as a path segment."""
    out: list[FieldError] = []
    for key in ("kind", "name"):
        value = get_str(ref, key, f"{path}.{key}", errs)
        if not value:
            out.append(required(f"{path}.{key}"))
        out.extend(invalid(f"{path}.{key}", value, msg) for msg in is_path_segment_name(value))
    return out


def _metric_errors(metric: Obj, path: str, errs: list[FieldError]) -> list[FieldError]:
    """validateMetricSpec: the type names exactly one populated source (kube may repeat NotSupported)."""
    out: list[FieldError] = []
    kind = get_str(metric, "type", f"{path}.type", errs)
    if not kind:
        out.append(required(f"{path}.type", "must specify a metric source type"))
    if kind not in METRIC_SOURCE_TYPES:
        out.append(not_supported(f"{path}.type", kind, METRIC_SOURCE_TYPES))
    present = [f for f in _SOURCE_FIELDS.values() if metric.get(f) is not None]
    if present:
        first = present[0]
        source = get_dict(metric, first, f"{path}.{first}", errs)
        out.extend(_source_errors(first, source, f"{path}.{first}", errs))
    expected = _SOURCE_FIELDS.get(kind)
    if expected is None:
        out.append(not_supported(f"{path}.type", kind, METRIC_SOURCE_TYPES))
    elif metric.get(expected) is None:
        out.append(required(f"{path}.{expected}", "must populate information for the given metric source"))
    if len(present) != 1:
        out.extend(forbidden(f"{path}.{f}", "must populate the given metric source only")
                   for f in present if f != expected)
    return out


def _source_errors(kind: str, source: Obj, path: str, errs: list[FieldError]) -> list[FieldError]:
    out: list[FieldError] = []
    target = get_dict(source, "target", f"{path}.target", errs)
    if kind in ("resource", "containerResource"):
        name = get_str(source, "name", f"{path}.name", errs)
        if not name:
            out.append(required(f"{path}.name", "must specify a resource name"))
        if kind == "containerResource":
            container = get_str(source, "container", f"{path}.container", errs)
            if not container:
                out.append(required(f"{path}.container", "must specify a container"))
            out.extend(invalid(f"{path}.container", container, msg)
                       for msg in (is_dns1123_label(container) if container else []))
    else:
        if kind == "object":
            described = get_dict(source, "describedObject", f"{path}.describedObject", errs)
            out.extend(cross_version_ref_errors(described, f"{path}.describedObject", errs))
        identifier = get_dict(source, "metric", f"{path}.metric", errs)
        out.extend(_metric_identifier_errors(identifier, f"{path}.metric", errs))
    out.extend(_target_errors(target, f"{path}.target", errs))
    has = {key: target.get(key) is not None for key in ("value", "averageValue", "averageUtilization")}
    if kind in ("resource", "containerResource"):
        if not has["averageUtilization"] and not has["averageValue"]:
            out.append(required(f"{path}.target.averageUtilization",
                                "must set either a target raw value or a target utilization"))
        if has["averageUtilization"] and has["averageValue"]:
            out.append(forbidden(f"{path}.target.averageValue",
                                 "may not set both a target raw value and a target utilization"))
    elif kind == "pods" and not has["averageValue"]:
        out.append(required(f"{path}.target.averageValue", "must specify a positive target averageValue"))
    elif kind == "object" and not has["value"] and not has["averageValue"]:
        out.append(required(f"{path}.target.averageValue", "must set either a target value or averageValue"))
    elif kind == "external":
        if not has["value"] and not has["averageValue"]:
            out.append(required(f"{path}.target.averageValue",
                                "must set either a target value for metric or a per-pod target"))
        if has["value"] and has["averageValue"]:
            out.append(forbidden(f"{path}.target.value",
                                 "may not set both a target value for metric and a per-pod target"))
    return out


def _metric_identifier_errors(metric: Obj, path: str, errs: list[FieldError]) -> list[FieldError]:
    name = get_str(metric, "name", f"{path}.name", errs)
    if not name:
        return [required(f"{path}.name", "must specify a metric name")]
    return [invalid(f"{path}.name", name, msg) for msg in is_path_segment_name(name)]


def _target_errors(target: Obj, path: str, errs: list[FieldError]) -> list[FieldError]:
    """validateMetricTarget."""
    out: list[FieldError] = []
    kind = get_str(target, "type", f"{path}.type", errs)
    if not kind:
        out.append(required(f"{path}.type", "must specify a metric target type"))
    if kind not in ("Utilization", "Value", "AverageValue"):
        out.append(invalid(f"{path}.type", kind, "must be either Utilization, Value, or AverageValue"))
    for key in ("value", "averageValue"):
        if target.get(key) is not None:
            parsed = parse_quantity(target[key])
            if isinstance(parsed, str) or parsed <= 0:
                out.append(invalid(f"{path}.{key}", target[key], "must be positive"))
    utilization = get_int(target, "averageUtilization", f"{path}.averageUtilization", errs)
    if utilization is not None and utilization < 1:
        out.append(invalid(f"{path}.averageUtilization", utilization, "must be greater than 0"))
    return out


def _scaling_rules_errors(rules: Obj, path: str, errs: list[FieldError]) -> list[FieldError]:
    """validateScalingRules and validateScalingPolicy."""
    out: list[FieldError] = []
    window = get_int(rules, "stabilizationWindowSeconds", f"{path}.stabilizationWindowSeconds", errs)
    if window is not None and window < 0:
        out.append(invalid(f"{path}.stabilizationWindowSeconds", window,
                           "must be greater than or equal to zero"))
    if window is not None and window > MAX_STABILIZATION_SECONDS:
        out.append(invalid(f"{path}.stabilizationWindowSeconds", window,
                           f"must be less than or equal to {MAX_STABILIZATION_SECONDS}"))
    select = typed(rules.get("selectPolicy"), "string", f"{path}.selectPolicy", errs)
    if select is not None and select not in ("Disabled", "Max", "Min"):
        out.append(not_supported(f"{path}.selectPolicy", select, ["Disabled", "Max", "Min"]))
    policies = get_dicts(rules, "policies", f"{path}.policies", errs)
    if not policies:
        out.append(required(f"{path}.policies", "must specify at least one Policy"))
    for policy_path, policy in policies:
        kind = get_str(policy, "type", f"{policy_path}.type", errs)
        if kind not in ("Pods", "Percent"):
            out.append(not_supported(f"{policy_path}.type", kind, ["Percent", "Pods"]))
        value = get_int(policy, "value", f"{policy_path}.value", errs) or 0
        period = get_int(policy, "periodSeconds", f"{policy_path}.periodSeconds", errs) or 0
        if value <= 0:
            out.append(invalid(f"{policy_path}.value", value, "must be greater than zero"))
        if period <= 0:
            out.append(invalid(f"{policy_path}.periodSeconds", period, "must be greater than zero"))
        if period > MAX_PERIOD_SECONDS:
            out.append(invalid(f"{policy_path}.periodSeconds", period,
                               f"must be less than or equal to {MAX_PERIOD_SECONDS}"))
    return out


# --- the registry entries ---

TYPES: list[ResourceType] = [
    ResourceType("coordination.k8s.io", "v1", "Lease", "leases", "lease", True, strategy=LeaseStrategy()),
    ResourceType("events.k8s.io", "v1", "Event", "events", "event", True, ("ev",),
                 strategy=EventsV1Strategy()),
    ResourceType("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", "poddisruptionbudget", True,
                 ("pdb",), subresources=("status",), strategy=PodDisruptionBudgetStrategy()),
    ResourceType("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers",
                 "horizontalpodautoscaler", True, ("hpa",), ("all",), subresources=("status",),
                 strategy=HorizontalPodAutoscalerStrategy()),
]
