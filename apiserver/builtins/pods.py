"""core/v1 Pods: defaults, server-set status, create and update validation, field selectors.

Follows pkg/registry/core/pod/strategy.go (PrepareForCreate, ToSelectableFields) and
pkg/apis/core/validation/validation.go (ValidatePodCreate, ValidatePodUpdate) in Kubernetes 1.35.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import orjson

from apiserver.builtins.podspec import (
    MAX_INT32,
    Obj,
    as_list,
    as_object,
    default_pod_spec,
    ensure_object,
    normalized,
    objects,
    parse_quantity,
    semantically_equal,
    validate_pod_spec,
)
from apiserver.registry import ResourceType, Strategy
from machinery import FieldError, forbidden, invalid, required, type_invalid

# updatablePodSpecFields, in kube's order and wording.
UPDATABLE_FIELDS = ",".join((
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
))
SCHEDULING_GATED = {  # applySchedulingGatedCondition
    "type": "PodScheduled",
    "status": "False",
    "lastProbeTime": None,
    "lastTransitionTime": None,
    "reason": "SchedulingGated",
    "message": "Scheduling is blocked due to non-empty scheduling gates",
}
_QOS_RESOURCES = ("cpu", "memory")  # isSupportedQoSComputeResource
WHITESPACE = "must not have leading or trailing whitespace"


def default_pod(spec: Obj) -> None:
    """SetDefaults_Pod (only real pods get these) on top of the PodSpec defaults."""
    default_pod_spec(spec)
    for key in ("containers", "initContainers"):
        for container in objects(spec.get(key)):
            resources = container.get("resources")
            if isinstance(resources, dict) and isinstance(limits := resources.get("limits"), dict):
                requests = ensure_object(resources, "requests")
                for name, quantity in limits.items():
                    if requests is not None:
                        requests.setdefault(name, quantity)  # requests default to limits
    if spec.get("enableServiceLinks") is None:
        spec["enableServiceLinks"] = True  # v1.DefaultEnableServiceLinks
    if spec.get("hostNetwork") is True:  # defaultHostNetworkPorts
        for key in ("containers", "initContainers"):
            for container in objects(spec.get(key)):
                for port in objects(container.get("ports")):
                    if port.get("hostPort") in (None, 0):
                        port["hostPort"] = port.get("containerPort")


def _positive(resources: Any, kind: str) -> dict[str, Decimal]:
    section = resources.get(kind) if isinstance(resources, dict) else None
    out = {}
    for name in _QOS_RESOURCES:
        quantity = parse_quantity(section.get(name)) if isinstance(section, dict) else None
        if quantity is not None and quantity > 0:
            out[name] = quantity
    return out


def qos_class(spec: Any) -> str:
    """qos.ComputePodQOS: BestEffort, Guaranteed (limits == requests for cpu and memory) or Burstable.

    Requests default to limits first, as SetDefaults_Pod has done by the time kube computes it.
    """
    if not isinstance(spec, dict):
        return "BestEffort"
    pod_level = spec.get("resources")
    holders: list[Any] = [pod_level]
    if not (isinstance(pod_level, dict) and (pod_level.get("requests") or pod_level.get("limits"))):
        containers = [*objects(spec.get("containers")), *objects(spec.get("initContainers"))]
        holders = [c.get("resources") for c in containers]
    requests: dict[str, Decimal] = {}
    limits: dict[str, Decimal] = {}
    guaranteed = True
    for resources in holders:
        own_limits = _positive(resources, "limits")
        own_requests = {**own_limits, **_positive(resources, "requests")}
        for name, quantity in own_requests.items():
            requests[name] = requests.get(name, Decimal(0)) + quantity
        for name, quantity in own_limits.items():
            limits[name] = limits.get(name, Decimal(0)) + quantity
        guaranteed = guaranteed and set(_QOS_RESOURCES) <= own_limits.keys()
    if not requests and not limits:
        return "BestEffort"
    if guaranteed and requests == limits:
        return "Guaranteed"
    return "Burstable"


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _image_errors(spec: Obj) -> list[FieldError]:
    """validateContainersOnlyForPod: images may not be padded with whitespace."""
    return [
        invalid(f"spec.{key}[{i}].image", image, WHITESPACE)
        for key in ("containers", "initContainers")
        for i, container in enumerate(as_list(spec.get(key)))
        if isinstance(container, dict) and isinstance(image := container.get("image"), str)
        and image != image.strip()
    ]


def _container_updates(new: Obj, old: Obj, key: str) -> tuple[list[FieldError], bool]:
    """ValidateContainerUpdates: same containers, each with an image; True when nothing more can be said."""
    new_list, old_list = new.get(key) or [], old.get(key) or []
    if not isinstance(new_list, list) or not isinstance(old_list, list):
        return [], True  # validate() reports the type
    if len(new_list) != len(old_list):
        return [forbidden(f"spec.{key}", "pod updates may not add or remove containers")], True
    errs = []
    for i, container in enumerate(new_list):
        image = container.get("image") if isinstance(container, dict) else None
        if not image:
            errs.append(required(f"spec.{key}[{i}].image"))
        elif isinstance(image, str) and image != image.strip():
            errs.append(invalid(f"spec.{key}[{i}].image", image, WHITESPACE))
    return errs, False


def _deadline_update(new: Obj, old: Obj) -> tuple[list[FieldError], bool]:
    """activeDeadlineSeconds may be set, or lowered, never raised or removed."""
    path = "spec.activeDeadlineSeconds"
    new_value, old_value = new.get("activeDeadlineSeconds"), old.get("activeDeadlineSeconds")
    if new_value is None:
        if old_value is None:
            return [], False
        return [invalid(path, None, "must not update from a positive integer to nil value")], False
    if not isinstance(new_value, int) or not 0 <= new_value <= MAX_INT32:
        return [invalid(path, new_value, f"must be between 0 and {MAX_INT32}, inclusive")], True
    if isinstance(old_value, int) and old_value < new_value:
        return [invalid(path, new_value, "must be less than or equal to previous value")], True
    return [], False


def _without_seconds(toleration: Any) -> Any:
    if not isinstance(toleration, dict):
        return toleration
    return {k: v for k, v in toleration.items() if k != "tolerationSeconds"}


def _only_added_tolerations(new: Obj, old: Obj) -> list[FieldError]:
    """validateOnlyAddedTolerations: each old toleration is kept, bar its tolerationSeconds."""
    new_list = [normalized(_without_seconds(t)) for t in as_list(new.get("tolerations"))]
    for toleration in as_list(old.get("tolerations")):
        if normalized(_without_seconds(toleration)) not in new_list:
            return [forbidden("spec.tolerations", "existing toleration can not be modified except its "
                                                  "tolerationSeconds")]
    return []


def _only_deleted_gates(new: Obj, old: Obj) -> list[FieldError]:
    old_names = {g.get("name") for g in objects(old.get("schedulingGates"))}
    return [
        forbidden(f"spec.schedulingGates[{i}].name",
                  f"only deletion is allowed, but found new scheduling gate '{gate.get('name')}'")
        for i, gate in enumerate(as_list(new.get("schedulingGates")))
        if isinstance(gate, dict) and gate.get("name") not in old_names
    ]


def _munged(new: Obj, old: Obj) -> Obj:
    """The new spec with the fields an update may change put back to their old values."""
    munged = copy.deepcopy(new)
    for key in ("containers", "initContainers"):
        for container, before in zip(objects(munged.get(key)), objects(old.get(key)), strict=False):
            container["image"] = before.get("image")
    for key in ("activeDeadlineSeconds", "schedulingGates", "tolerations"):
        munged[key] = old.get(key)
    old_grace = old.get("terminationGracePeriodSeconds")
    if isinstance(old_grace, int) and old_grace < 0 and munged.get("terminationGracePeriodSeconds") == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    return munged


def _diff(old: Obj, new: Obj) -> str:
    """A short rendering of what changed (kube prints a cmp.Diff of the Go structs here)."""
    old_n, new_n = normalized(old), normalized(new)
    lines = []
    for key in sorted(old_n.keys() | new_n.keys()):
        if old_n.get(key) != new_n.get(key):
            for sign, side in (("-", old_n), ("+", new_n)):
                if key in side:
                    lines.append(f"{sign} {key}: {orjson.dumps(side[key]).decode()}")
    return "\n".join(lines)


def validate_pod_update(new: Any, old: Any) -> list[FieldError]:
    """ValidatePodUpdate's spec rules: only images, activeDeadlineSeconds, tolerations and gates move."""
    if not isinstance(new, dict) or not isinstance(old, dict):
        return []
    errs: list[FieldError] = []
    for key in ("containers", "initContainers"):
        found, stop = _container_updates(new, old, key)
        errs += found
        if stop:
            return errs
    found, stop = _deadline_update(new, old)
    errs += found
    if stop:
        return errs
    errs += _only_added_tolerations(new, old) + _only_deleted_gates(new, old)
    munged = _munged(new, old)
    if not semantically_equal(munged, old):
        detail = f"pod updates may not change fields other than {UPDATABLE_FIELDS}\n{_diff(old, munged)}"
        errs.append(forbidden("spec", detail))
    return errs


class PodStrategy(Strategy):
    """podStrategy: Pending status with a QoS class on create, a mostly immutable spec afterwards."""
    generation = True


    def default(self, obj: Obj) -> None:
        if (spec := ensure_object(obj, "spec")) is not None:
            default_pod(spec)

    def prepare_for_create(self, obj: Obj) -> None:
        spec = obj.get("spec")
        if isinstance(meta := obj.get("metadata"), dict):
            meta["generation"] = 1
        status: Obj = {"phase": "Pending", "qosClass": qos_class(spec)}
        if isinstance(spec, dict) and spec.get("schedulingGates"):
            status["conditions"] = [dict(SCHEDULING_GATED)]
        obj["status"] = status

    def validate(self, obj: Obj) -> list[FieldError]:
        spec = obj.get("spec")
        if spec is not None and not isinstance(spec, dict):
            return [type_invalid("spec", spec, "object")]
        spec = spec or {}
        errs = validate_pod_spec(spec, "spec", is_pod=True) + _image_errors(spec)
        if spec.get("ephemeralContainers"):
            errs.append(forbidden("spec.ephemeralContainers", "cannot be set on create"))
        if spec.get("nodeName") and spec.get("schedulingGates"):
            errs.append(forbidden("spec.nodeName",
                                  "cannot be set until all schedulingGates have been cleared"))
        return errs

    def validate_update(self, obj: Obj, old: Obj) -> list[FieldError]:
        return validate_pod_update(obj.get("spec"), old.get("spec"))

    def field_values(self, obj: Obj) -> dict[str, str]:
        """ToSelectableFields: what `kubectl get pods --field-selector` may use."""
        spec, status = as_object(obj.get("spec")), as_object(obj.get("status"))
        pod_ips = [ip.get("ip") for ip in objects(status.get("podIPs"))]
        return {
            "spec.nodeName": _str(spec.get("nodeName")),
            "spec.host": _str(spec.get("nodeName")),  # the legacy label kube still converts
            "spec.restartPolicy": _str(spec.get("restartPolicy")),
            "spec.schedulerName": _str(spec.get("schedulerName")),
            "spec.serviceAccountName": _str(spec.get("serviceAccountName")),
            "spec.hostNetwork": "true" if spec.get("hostNetwork") is True else "false",
            "status.phase": _str(status.get("phase")),
            "status.podIP": _str(pod_ips[0] if pod_ips else status.get("podIP")),
            "status.nominatedNodeName": _str(status.get("nominatedNodeName")),
        }


TYPES: list[ResourceType] = [
    ResourceType(
        group="",
        version="v1",
        kind="Pod",
        plural="pods",
        singular="pod",
        namespaced=True,
        short_names=("po",),
        categories=("all",),
        subresources=("status",),
        strategy=PodStrategy(),
    ),
]
