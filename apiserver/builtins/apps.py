"""apps/v1 Deployments, ReplicaSets, StatefulSets and DaemonSets.

Follows pkg/apis/apps/v1/defaults.go, pkg/apis/apps/validation/validation.go and
pkg/registry/apps/*/strategy.go in Kubernetes 1.35.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from apiserver.builtins.podspec import (
    NON_NEGATIVE,
    Obj,
    Report,
    as_object,
    as_selector,
    default_pod_template,
    ensure_object,
    objects,
    semantically_equal,
    validate_pod_template,
)
from apiserver.registry import ResourceType, ScalePaths, Strategy
from machinery import (
    FIELD_IMMUTABLE,
    FieldError,
    LabelSelector,
    forbidden,
    invalid,
    not_supported,
    required,
    type_invalid,
    validate_label_selector,
)

DEFAULT_REVISION_HISTORY_LIMIT = 10  # SetDefaults_{Deployment,StatefulSet,DaemonSet}
DEFAULT_PROGRESS_DEADLINE_SECONDS = 600  # SetDefaults_Deployment
DEFAULT_SURGE = "25%"  # SetDefaults_Deployment: maxSurge and maxUnavailable
TEMPLATE_GENERATION = "deprecated.daemonset.template.generation"  # appsv1.DeprecatedTemplateGeneration
PERCENT = ("a valid percent string must be a numeric string followed by an ending '%' "
           "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")  # validation.IsValidPercent
STATEFULSET_SPEC_UPDATE = ("updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                           "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                           "'minReadySeconds' are forbidden")


# --- intOrString rolling-update amounts ---


def _percent(value: Any) -> int | None:
    return int(value[:-1]) if isinstance(value, str) and re.fullmatch(r"[0-9]+%", value) else None


def _amount(value: Any) -> int:
    """getIntOrPercentValue: the number, or the percentage's number; anything else counts as 0."""
    if (percent := _percent(value)) is not None:
        return percent
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _int_or_percent_errors(value: Any, path: str) -> list[FieldError]:
    """ValidatePositiveIntOrPercent."""
    if isinstance(value, str):
        return [] if _percent(value) is not None else [invalid(path, value, PERCENT)]
    if isinstance(value, int) and not isinstance(value, bool):
        return [invalid(path, value, NON_NEGATIVE)] if value < 0 else []
    return [invalid(path, value, "must be an integer or percentage (e.g '5%%')")]  # sic: Go's "%%"


def _over_100_errors(value: Any, path: str) -> list[FieldError]:
    """IsNotMoreThan100Percent."""
    return [invalid(path, value, "must not be greater than 100%")] if (_percent(value) or 0) > 100 else []


# --- shared defaults and checks ---


def _default_rolling(spec: Obj, key: str, amounts: dict[str, Any]) -> None:
    """A strategy defaults to RollingUpdate, whose amounts default when it is the type."""
    if (strategy := ensure_object(spec, key)) is None:
        return
    if strategy.get("type") in (None, ""):
        strategy["type"] = "RollingUpdate"
    if strategy["type"] != "RollingUpdate" or (rolling := ensure_object(strategy, "rollingUpdate")) is None:
        return
    for name, value in amounts.items():
        if rolling.get(name) is None:
            rolling[name] = value


def _selector_errors(
    r: Report, spec: Obj, owner: str, *, required_selector: bool = True
) -> LabelSelector | None:
    """The selector must be there, valid and not empty; returns the converted selector (or None)."""
    raw = spec.get("selector")
    if raw is None:
        if required_selector:
            r.append(required("spec.selector"))
    else:
        r.extend(validate_label_selector(raw, "spec.selector"))
        if isinstance(raw, dict) and not raw.get("matchLabels") and not raw.get("matchExpressions"):
            r.append(invalid("spec.selector", raw, f"empty selector is invalid for {owner}"))
    return as_selector(raw)


def _replica_set_like(r: Report, spec: Obj, owner: str) -> None:
    """ValidateReplicaSetSpec's selector and template part, which Deployments share."""
    selector = _selector_errors(r, spec, owner)
    if selector is None:
        r.append(invalid("spec.selector", spec.get("selector"), "invalid label selector"))
    else:
        r.extend(validate_pod_template(spec.get("template"), "spec.template", selector))


def _immutable_selector(obj: Obj, old: Obj) -> list[FieldError]:
    new_selector = as_object(obj.get("spec")).get("selector")
    if semantically_equal(new_selector, as_object(old.get("spec")).get("selector")):
        return []
    return [invalid("spec.selector", new_selector, FIELD_IMMUTABLE)]


class WorkloadStrategy(Strategy):
    """What apps strategies share: generation 1 on create, an immutable selector, template defaults."""
    generation = True


    owner: ClassVar[str] = ""  # the kind's name in kube's messages

    def default(self, obj: Obj) -> None:
        if (spec := ensure_object(obj, "spec")) is not None:
            self.default_spec(spec)
            default_pod_template(spec)

    def default_spec(self, spec: Obj) -> None:
        """The kind's own SetDefaults_*."""

    def prepare_for_create(self, obj: Obj) -> None:
        if isinstance(meta := obj.get("metadata"), dict):
            meta["generation"] = 1

    def validate(self, obj: Obj) -> list[FieldError]:
        spec = obj.get("spec")
        if spec is not None and not isinstance(spec, dict):
            return [type_invalid("spec", spec, "object")]
        r = Report()
        self.validate_spec(r, spec or {})
        return list(r)

    def validate_spec(self, r: Report, spec: Obj) -> None:
        """The kind's Validate*Spec, appending to `r`."""

    def validate_update(self, obj: Obj, old: Obj) -> list[FieldError]:
        return _immutable_selector(obj, old)


# --- Deployments ---


class DeploymentStrategy(WorkloadStrategy):
    owner = "deployment"

    def default_spec(self, spec: Obj) -> None:
        if spec.get("replicas") is None:
            spec["replicas"] = 1
        _default_rolling(spec, "strategy", {"maxUnavailable": DEFAULT_SURGE, "maxSurge": DEFAULT_SURGE})
        if spec.get("revisionHistoryLimit") is None:
            spec["revisionHistoryLimit"] = DEFAULT_REVISION_HISTORY_LIMIT
        if spec.get("progressDeadlineSeconds") is None:
            spec["progressDeadlineSeconds"] = DEFAULT_PROGRESS_DEADLINE_SECONDS

    def validate_spec(self, r: Report, spec: Obj) -> None:
        """ValidateDeploymentSpec."""
        r.non_negative(spec, "replicas", "spec")
        _replica_set_like(r, spec, self.owner)
        if (strategy := r.object(spec, "strategy", "spec")) is not None:
            _validate_deployment_strategy(r, strategy)
        min_ready = r.non_negative(spec, "minReadySeconds", "spec") or 0
        r.non_negative(spec, "revisionHistoryLimit", "spec")
        deadline = r.non_negative(spec, "progressDeadlineSeconds", "spec")
        if deadline is not None and deadline <= min_ready:
            r.append(invalid("spec.progressDeadlineSeconds", deadline,
                             "must be greater than minReadySeconds"))


def _validate_deployment_strategy(r: Report, strategy: Obj) -> None:
    """ValidateDeploymentStrategy and ValidateRollingUpdateDeployment."""
    path = "spec.strategy"
    kind = strategy.get("type")
    if kind == "Recreate":
        if strategy.get("rollingUpdate") is not None:
            r.append(forbidden(f"{path}.rollingUpdate",
                               "may not be specified when strategy `type` is 'Recreate'"))
    elif kind == "RollingUpdate":
        rolling = r.object(strategy, "rollingUpdate", path)
        if rolling is None:
            r.append(required(f"{path}.rollingUpdate", "this should be defaulted and never be nil"))
            return
        rp = f"{path}.rollingUpdate"
        unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
        r.extend(_int_or_percent_errors(unavailable, f"{rp}.maxUnavailable"))
        r.extend(_int_or_percent_errors(surge, f"{rp}.maxSurge"))
        if _amount(unavailable) == 0 and _amount(surge) == 0:
            r.append(invalid(f"{rp}.maxUnavailable", unavailable, "may not be 0 when `maxSurge` is 0"))
        r.extend(_over_100_errors(unavailable, f"{rp}.maxUnavailable"))
    else:
        r.append(not_supported(path, strategy, ["Recreate", "RollingUpdate"]))


# --- ReplicaSets ---


class ReplicaSetStrategy(WorkloadStrategy):
    owner = "deployment"  # sic: ValidateReplicaSetSpec reuses the Deployment wording

    def default_spec(self, spec: Obj) -> None:
        if spec.get("replicas") is None:
            spec["replicas"] = 1

    def validate_spec(self, r: Report, spec: Obj) -> None:
        """ValidateReplicaSetSpec."""
        r.non_negative(spec, "replicas", "spec")
        r.non_negative(spec, "minReadySeconds", "spec")
        _replica_set_like(r, spec, self.owner)

    def field_values(self, obj: Obj) -> dict[str, str]:
        """ReplicaSetToSelectableFields."""
        replicas = as_object(obj.get("status")).get("replicas")
        return {"status.replicas": str(replicas if isinstance(replicas, int) else 0)}


# --- StatefulSets ---


class StatefulSetStrategy(WorkloadStrategy):
    owner = "statefulset"
    name_rule = "label"  # ValidateStatefulSetName: pods are named <set>-<ordinal>, hostnames too

    def default_spec(self, spec: Obj) -> None:
        if spec.get("podManagementPolicy") in (None, ""):
            spec["podManagementPolicy"] = "OrderedReady"
        _default_statefulset_strategy(spec)
        if (retention := ensure_object(spec, "persistentVolumeClaimRetentionPolicy")) is not None:
            for key in ("whenDeleted", "whenScaled"):
                if retention.get(key) in (None, ""):
                    retention[key] = "Retain"
        if spec.get("replicas") is None:
            spec["replicas"] = 1
        if spec.get("revisionHistoryLimit") is None:
            spec["revisionHistoryLimit"] = DEFAULT_REVISION_HISTORY_LIMIT
        for claim in objects(spec.get("volumeClaimTemplates")):
            # Embedded PersistentVolumeClaims get their type and their own defaults.
            claim.setdefault("apiVersion", "v1")
            claim.setdefault("kind", "PersistentVolumeClaim")
            claim_spec = ensure_object(claim, "spec")
            if claim_spec is not None and claim_spec.get("volumeMode") is None:
                claim_spec["volumeMode"] = "Filesystem"
            if (status := ensure_object(claim, "status")) is not None and status.get("phase") in (None, ""):
                status["phase"] = "Pending"

    def validate_spec(self, r: Report, spec: Obj) -> None:
        """ValidateStatefulSetSpec."""
        policy = r.string(spec, "podManagementPolicy", "spec")
        if not policy:
            r.append(required("spec.podManagementPolicy"))
        elif policy not in ("OrderedReady", "Parallel"):
            r.append(invalid("spec.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'"))
        if (strategy := r.object(spec, "updateStrategy", "spec")) is not None:
            _validate_statefulset_strategy(r, strategy)
        if (retention := r.object(spec, "persistentVolumeClaimRetentionPolicy", "spec")) is not None:
            for key in ("whenDeleted", "whenScaled"):
                if (value := retention.get(key)) not in ("Retain", "Delete"):
                    r.append(not_supported(f"spec.persistentVolumeClaimRetentionPolicy.{key}", value,
                                           ["Retain", "Delete"]))
        r.non_negative(spec, "replicas", "spec")
        r.non_negative(spec, "minReadySeconds", "spec")
        if (ordinals := r.object(spec, "ordinals", "spec")) is not None:
            r.non_negative(ordinals, "start", "spec.ordinals")
        selector = _selector_errors(r, spec, self.owner)
        if selector is None:
            r.append(invalid("spec.selector", spec.get("selector"), ""))
        else:
            r.extend(validate_pod_template(spec.get("template"), "spec.template", selector,
                                           workload="StatefulSet"))

    def validate_update(self, obj: Obj, old: Obj) -> list[FieldError]:
        """ValidateStatefulSetUpdate: only some spec fields may change."""
        new_spec, old_spec = as_object(obj.get("spec")), as_object(old.get("spec"))
        mutable = ("replicas", "template", "updateStrategy", "minReadySeconds", "ordinals",
                   "persistentVolumeClaimRetentionPolicy")
        fixed_new = {k: v for k, v in new_spec.items() if k not in mutable}
        fixed_old = {k: v for k, v in old_spec.items() if k not in mutable}
        if semantically_equal(fixed_new, fixed_old):
            return []
        return [forbidden("spec", STATEFULSET_SPEC_UPDATE)]


def _default_statefulset_strategy(spec: Obj) -> None:
    """RollingUpdate with partition 0 unless told otherwise."""
    if (strategy := ensure_object(spec, "updateStrategy")) is None:
        return
    if strategy.get("type") in (None, ""):
        strategy["type"] = "RollingUpdate"
        ensure_object(strategy, "rollingUpdate")
    rolling = strategy.get("rollingUpdate")
    if strategy["type"] == "RollingUpdate" and isinstance(rolling, dict) and rolling.get("partition") is None:
        rolling["partition"] = 0


def _validate_statefulset_strategy(r: Report, strategy: Obj) -> None:
    path = "spec.updateStrategy"
    kind, rolling = strategy.get("type"), strategy.get("rollingUpdate")
    if kind in (None, ""):
        r.append(required(path))
    elif kind == "OnDelete":
        if rolling is not None:
            r.append(invalid(f"{path}.rollingUpdate", rolling,
                             "only allowed for updateStrategy 'RollingUpdate'"))
    elif kind == "RollingUpdate":
        if isinstance(rolling, dict):
            rp = f"{path}.rollingUpdate"
            r.non_negative(rolling, "partition", rp)
            if (unavailable := rolling.get("maxUnavailable")) is not None:
                r.extend(_int_or_percent_errors(unavailable, f"{rp}.maxUnavailable"))
                if _amount(unavailable) == 0:
                    r.append(invalid(f"{rp}.maxUnavailable", unavailable, "cannot be 0"))
                r.extend(_over_100_errors(unavailable, f"{rp}.maxUnavailable"))
    else:
        r.append(invalid(path, strategy, "must be 'RollingUpdate' or 'OnDelete'"))


# --- DaemonSets ---


class DaemonSetStrategy(WorkloadStrategy):
    owner = "daemonset"

    def default_spec(self, spec: Obj) -> None:
        _default_rolling(spec, "updateStrategy", {"maxUnavailable": 1, "maxSurge": 0})
        if spec.get("revisionHistoryLimit") is None:
            spec["revisionHistoryLimit"] = DEFAULT_REVISION_HISTORY_LIMIT

    def prepare_for_create(self, obj: Obj) -> None:
        """Generation 1, and templateGeneration 1, which apps/v1 shows as an annotation."""
        super().prepare_for_create(obj)
        meta = obj.get("metadata")
        if isinstance(meta, dict) and (annotations := ensure_object(meta, "annotations")) is not None:
            annotations[TEMPLATE_GENERATION] = "1"

    def prepare_for_update(self, obj: Obj, old: Obj) -> None:
        """Clients may not set templateGeneration; it moves on with each template change."""
        old_value = as_object(as_object(old.get("metadata")).get("annotations")).get(TEMPLATE_GENERATION)
        generation = int(old_value) if isinstance(old_value, str) and old_value.isdigit() else 0
        if not semantically_equal(as_object(obj.get("spec")).get("template"),
                                  as_object(old.get("spec")).get("template")):
            generation += 1
        meta = obj.get("metadata")
        if not isinstance(meta, dict) or (annotations := ensure_object(meta, "annotations")) is None:
            return
        if generation:
            annotations[TEMPLATE_GENERATION] = str(generation)
        else:
            annotations.pop(TEMPLATE_GENERATION, None)

    def validate_spec(self, r: Report, spec: Obj) -> None:
        """ValidateDaemonSetSpec: a null selector is not reported as missing, only as not matching."""
        selector = _selector_errors(r, spec, self.owner, required_selector=False)
        r.extend(validate_pod_template(spec.get("template"), "spec.template", selector, workload="DaemonSet"))
        r.non_negative(spec, "minReadySeconds", "spec")
        if (strategy := r.object(spec, "updateStrategy", "spec")) is not None:
            _validate_daemonset_strategy(r, strategy)
        r.non_negative(spec, "revisionHistoryLimit", "spec")


def _validate_daemonset_strategy(r: Report, strategy: Obj) -> None:
    """ValidateDaemonSetUpdateStrategy and ValidateRollingUpdateDaemonSet."""
    path = "spec.updateStrategy"
    kind = strategy.get("type")
    if kind == "OnDelete":
        return
    if kind != "RollingUpdate":
        r.append(not_supported(path, strategy, ["RollingUpdate", "OnDelete"]))
        return
    if (rolling := r.object(strategy, "rollingUpdate", path)) is None:
        r.append(required(f"{path}.rollingUpdate"))
        return
    rp = f"{path}.rollingUpdate"
    unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
    amounts = ((unavailable, f"{rp}.maxUnavailable"), (surge, f"{rp}.maxSurge"))
    for value, vp in amounts:
        r.extend(_int_or_percent_errors(value, vp))
    for value, vp in amounts:
        r.extend(_over_100_errors(value, vp))
    has_unavailable, has_surge = _amount(unavailable) != 0, _amount(surge) != 0
    if has_unavailable and has_surge:
        r.append(invalid(f"{rp}.maxSurge", surge, "may not be set when maxUnavailable is non-zero"))
    elif not has_unavailable and not has_surge:
        r.append(required(f"{rp}.maxUnavailable", "cannot be 0 when maxSurge is 0"))


def _apps(kind: str, plural: str, short: str, strategy: Strategy, *, scalable: bool) -> ResourceType:
    return ResourceType(
        group="apps",
        version="v1",
        kind=kind,
        plural=plural,
        singular=kind.lower(),
        namespaced=True,
        short_names=(short,),
        categories=("all",),
        subresources=("status", "scale") if scalable else ("status",),
        strategy=strategy,
        scale=ScalePaths() if scalable else None,
    )


TYPES: list[ResourceType] = [
    _apps("Deployment", "deployments", "deploy", DeploymentStrategy(), scalable=True),
    _apps("ReplicaSet", "replicasets", "rs", ReplicaSetStrategy(), scalable=True),
    _apps("StatefulSet", "statefulsets", "sts", StatefulSetStrategy(), scalable=True),
    _apps("DaemonSet", "daemonsets", "ds", DaemonSetStrategy(), scalable=False),
]
