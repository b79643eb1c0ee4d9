"""batch/v1 Jobs and CronJobs.

Follows pkg/apis/batch/v1/defaults.go, pkg/apis/batch/validation/validation.go and
pkg/registry/batch/{job,cronjob}/strategy.go in Kubernetes 1.35; cron schedules are parsed as
github.com/robfig/cron/v3's ParseStandard does, with its error messages.
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Any

from apiserver.builtins.podspec import (
    MAX_INT32,
    SELECTOR_MISMATCH,
    Obj,
    Report,
    as_object,
    as_selector,
    default_pod_template,
    ensure_object,
    objects,
    semantically_equal,
    template_labels,
    validate_pod_template,
)
from apiserver.registry import ResourceType, Strategy
from machinery import (
    FIELD_IMMUTABLE,
    FieldError,
    invalid,
    is_dns1123_label,
    not_supported,
    required,
    type_invalid,
    validate_label_selector,
)

DEFAULT_BACKOFF_LIMIT = 6  # SetDefaults_Job
MAX_PARALLELISM_INDEXED = 100_000  # maxParallelismForIndexedJob
CRONJOB_NAME_MAX = 52  # DNS1035LabelMaxLength minus the 11-character `-<timestamp>` of created jobs

# Labels the job registry puts on pods to tie them to their Job (batch.kubernetes.io/* and legacy).
CONTROLLER_UID = "batch.kubernetes.io/controller-uid"
JOB_NAME = "batch.kubernetes.io/job-name"
LEGACY_CONTROLLER_UID = "controller-uid"
LEGACY_JOB_NAME = "job-name"


# --- Jobs ---


def default_job_spec(spec: Obj) -> None:
    """SetDefaults_Job's spec part."""
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    if spec.get("parallelism") is None:
        spec["parallelism"] = 1
    if spec.get("backoffLimit") is None:
        per_index = spec.get("backoffLimitPerIndex") is not None
        spec["backoffLimit"] = MAX_INT32 if per_index else DEFAULT_BACKOFF_LIMIT
    if spec.get("completionMode") is None:
        spec["completionMode"] = "NonIndexed"
    if spec.get("suspend") is None:
        spec["suspend"] = False
    failure_policy = spec.get("podFailurePolicy")
    for rule in objects(as_object(failure_policy).get("rules")):
        for pattern in objects(rule.get("onPodConditions")):
            if pattern.get("status") in (None, ""):
                pattern["status"] = "True"
    if spec.get("podReplacementPolicy") is None:
        spec["podReplacementPolicy"] = "Failed" if failure_policy is not None else "TerminatingOrFailed"
    if spec.get("manualSelector") is None:
        spec["manualSelector"] = False


def _labels_from_template(obj: Obj) -> None:
    """SetDefaults_Job: a Job without labels takes its pod template's."""
    labels = template_labels(as_object(obj.get("spec")).get("template"))
    meta = obj.get("metadata")
    if isinstance(labels, dict) and isinstance(meta, dict) and not meta.get("labels"):
        meta["labels"] = dict(labels)


def generate_selector(obj: Obj) -> None:
    """generateSelector: label the template with the Job's name and uid, and select on the uid."""
    meta, spec = as_object(obj.get("metadata")), obj.get("spec")
    if not isinstance(spec, dict):
        return
    name, uid = meta.get("name") or "", meta.get("uid") or ""
    template = ensure_object(spec, "template")
    template_meta = ensure_object(template, "metadata") if template is not None else None
    labels = ensure_object(template_meta, "labels") if template_meta is not None else None
    if labels is not None:
        for key, value in ((CONTROLLER_UID, uid), (JOB_NAME, name), (LEGACY_CONTROLLER_UID, uid),
                           (LEGACY_JOB_NAME, name)):
            labels.setdefault(key, value)
    selector = ensure_object(spec, "selector")
    match_labels = ensure_object(selector, "matchLabels") if selector is not None else None
    if match_labels is not None:
        match_labels.setdefault(CONTROLLER_UID, uid)


def _has_label(labels: dict[str, Any], key: str, expected: str) -> list[FieldError]:
    """ValidateHasLabel under spec.template.metadata."""
    path = f"spec.template.metadata.labels[{key}]"
    if key not in labels:
        return [required(path, f"must be '{expected}'")]
    return [] if labels[key] == expected else [invalid(path, labels, f"must be '{expected}'")]


def _validate_generated_selector(obj: Obj, spec: Obj) -> list[FieldError]:
    """validateGeneratedSelector: a generated selector and its template labels are as generated."""
    if spec.get("manualSelector") is True or spec.get("selector") is None:
        return []
    meta = as_object(obj.get("metadata"))
    name, uid = meta.get("name") or "", meta.get("uid") or ""
    errs = [] if uid else [required("metadata.uid")]
    labels = template_labels(spec.get("template"))
    labels = labels if isinstance(labels, dict) else {}
    expected = {LEGACY_CONTROLLER_UID: uid, LEGACY_JOB_NAME: name, CONTROLLER_UID: uid, JOB_NAME: name}
    for key, value in expected.items():
        errs += _has_label(labels, key, value)
    selector = as_selector(spec["selector"])
    if selector is not None and not selector.matches(expected):
        errs.append(invalid("spec.selector", spec["selector"], "`selector` not auto-generated"))
    return errs


def _validate_job_spec(r: Report, spec: Obj, path: str) -> None:
    """validateJobSpec: counts, completion mode, replacement policy and the pod template."""
    for key in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit",
                "ttlSecondsAfterFinished", "backoffLimitPerIndex", "maxFailedIndexes"):
        r.non_negative(spec, key, path)
    if spec.get("maxFailedIndexes") is not None and spec.get("backoffLimitPerIndex") is None:
        r.append(required(f"{path}.backoffLimitPerIndex", "when maxFailedIndexes is specified"))
    mode = spec.get("completionMode")
    if mode is not None and mode not in ("NonIndexed", "Indexed"):
        r.append(not_supported(f"{path}.completionMode", mode, ["NonIndexed", "Indexed"]))
    if mode == "Indexed":
        if spec.get("completions") is None:
            r.append(required(f"{path}.completions", "when completion mode is Indexed"))
        parallelism = spec.get("parallelism")
        if isinstance(parallelism, int) and parallelism > MAX_PARALLELISM_INDEXED:
            limit = MAX_PARALLELISM_INDEXED
            detail = f"must be less than or equal to {limit} when completion mode is Indexed"
            r.append(invalid(f"{path}.parallelism", parallelism, detail))
    elif mode in (None, "NonIndexed"):
        for key in ("backoffLimitPerIndex", "maxFailedIndexes"):
            if spec.get(key) is not None:
                r.append(invalid(f"{path}.{key}", spec[key], "requires indexed completion mode"))
    if spec.get("successPolicy") is not None and mode != "Indexed":
        r.append(invalid(f"{path}.successPolicy", spec["successPolicy"], "requires indexed completion mode"))
    replacement = spec.get("podReplacementPolicy")
    if replacement is not None:
        with_failure_policy = spec.get("podFailurePolicy") is not None
        allowed = ["Failed"] if with_failure_policy else ["Failed", "TerminatingOrFailed"]
        if replacement not in allowed:
            r.append(not_supported(f"{path}.podReplacementPolicy", replacement, allowed))
    template = spec.get("template")
    r.extend(validate_pod_template(template, f"{path}.template", None, workload="Job"))
    restart = as_object(as_object(template).get("spec")).get("restartPolicy")
    if spec.get("podFailurePolicy") is not None and restart == "OnFailure":
        r.append(invalid(f"{path}.template.spec.restartPolicy", restart,
                         'only "Never" is supported when podFailurePolicy is specified'))


def validate_job(obj: Obj) -> list[FieldError]:
    """ValidateJob's spec part (metadata is checked generically)."""
    spec = obj.get("spec")
    if spec is not None and not isinstance(spec, dict):
        return [type_invalid("spec", spec, "object")]
    spec = spec or {}
    r = Report()
    r.extend(_validate_generated_selector(obj, spec))
    _validate_job_spec(r, spec, "spec")
    if spec.get("selector") is None:
        r.append(required("spec.selector"))
    else:
        r.extend(validate_label_selector(spec["selector"], "spec.selector"))
    selector = as_selector(spec.get("selector"))
    labels = template_labels(spec.get("template"))
    if selector is not None and not selector.matches(labels if isinstance(labels, dict) else {}):
        r.append(invalid("spec.template.metadata.labels", labels, SELECTOR_MISMATCH))
    completions, name = spec.get("completions"), as_object(obj.get("metadata")).get("name")
    if spec.get("completionMode") == "Indexed" and isinstance(completions, int) and completions > 0 \
            and isinstance(name, str):
        hostname = f"{name}-{completions - 1}"
        if is_dns1123_label(hostname):
            r.append(invalid("metadata.name", name,
                             f"will not able to create pod with invalid DNS label: {hostname}"))
    return list(r)


def _immutable(new: Obj, old: Obj, key: str) -> list[FieldError]:
    if semantically_equal(new.get(key), old.get(key)):
        return []
    return [invalid(f"spec.{key}", new.get(key), FIELD_IMMUTABLE)]


def _with_scheduling_directives(old: Obj, new: Obj) -> Obj:
    """`old` with what a suspended Job that never started may change taken from `new`."""
    new_meta, new_spec = as_object(new.get("metadata")), as_object(new.get("spec"))
    meta = {**as_object(old.get("metadata")), "labels": new_meta.get("labels"),
            "annotations": new_meta.get("annotations")}
    spec = {**as_object(old.get("spec")),
            **{key: new_spec.get(key) for key in ("nodeSelector", "tolerations", "schedulingGates")}}
    node_affinity = as_object(new_spec.get("affinity")).get("nodeAffinity")
    spec["affinity"] = {**as_object(spec.get("affinity")), "nodeAffinity": node_affinity}
    return {**old, "metadata": meta, "spec": spec}


def _template_update(new_spec: Obj, old_spec: Obj, old_job: Obj) -> list[FieldError]:
    """validatePodTemplateUpdate: the template is immutable, bar scheduling directives of a
    suspended Job that never started."""
    template, old_template = as_object(new_spec.get("template")), as_object(old_spec.get("template"))
    if old_spec.get("suspend") is True and as_object(old_job.get("status")).get("startTime") is None:
        old_template = _with_scheduling_directives(old_template, template)
    if semantically_equal(template, old_template):
        return []
    return [invalid("spec.template", new_spec.get("template"), FIELD_IMMUTABLE)]


def validate_job_update(obj: Obj, old: Obj) -> list[FieldError]:
    """ValidateJobSpecUpdate's immutable fields."""
    new_spec, old_spec = as_object(obj.get("spec")), as_object(old.get("spec"))
    errs: list[FieldError] = []
    if new_spec.get("completionMode") == "Indexed":  # elastic Indexed Jobs scale completions with parallelism
        completions = new_spec.get("completions")
        if completions is not None and not semantically_equal(completions, old_spec.get("completions")) \
                and completions != new_spec.get("parallelism"):
            errs.append(invalid("spec.completions", completions,
                                "can only be modified in tandem with spec.parallelism"))
    else:
        errs += _immutable(new_spec, old_spec, "completions")
    errs += _immutable(new_spec, old_spec, "selector")
    errs += _template_update(new_spec, old_spec, old)
    for key in ("completionMode", "podFailurePolicy", "backoffLimitPerIndex", "managedBy", "successPolicy"):
        errs += _immutable(new_spec, old_spec, key)
    return errs


class JobStrategy(Strategy):
    """jobStrategy: a generated selector unless manualSelector, a mostly immutable spec."""
    generation = True


    def default(self, obj: Obj) -> None:
        if (spec := ensure_object(obj, "spec")) is not None:
            default_job_spec(spec)
            default_pod_template(spec)
        _labels_from_template(obj)

    def prepare_for_create(self, obj: Obj) -> None:
        if isinstance(meta := obj.get("metadata"), dict):
            meta["generation"] = 1
        if as_object(obj.get("spec")).get("manualSelector") is not True:
            generate_selector(obj)
        _labels_from_template(obj)  # kube re-defaults the stored Job, so it shows the generated labels

    def validate(self, obj: Obj) -> list[FieldError]:
        return validate_job(obj)

    def validate_update(self, obj: Obj, old: Obj) -> list[FieldError]:
        return validate_job_update(obj, old)

    def field_values(self, obj: Obj) -> dict[str, str]:
        """JobToSelectableFields."""
        succeeded = as_object(obj.get("status")).get("succeeded")
        return {"status.successful": str(succeeded if isinstance(succeeded, int) else 0)}


# --- cron schedules (robfig/cron/v3 parser.go, ParseStandard) ---

_MONTHS = {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep",
                                            "oct", "nov", "dec"))}
_DAYS = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
# minute, hour, day of month, month, day of week: (min, max, names)
_BOUNDS: tuple[tuple[int, int, dict[str, int]], ...] = (
    (0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, _MONTHS), (0, 6, _DAYS),
)
_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_DURATION_RE = re.compile(r"[-+]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+")
_NUMBER_RE = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_INT_RE = re.compile(r"[-+]?[0-9]+")


def _go_duration_error(text: str) -> str | None:
    """time.ParseDuration's error, if any."""
    if text in ("0", "+0", "-0") or _DURATION_RE.fullmatch(text):
        return None
    if _NUMBER_RE.fullmatch(text):
        return f'time: missing unit in duration "{text}"'
    return f'time: invalid duration "{text}"'


def _parse_int(expr: str) -> int:
    """mustParseInt: a non-negative decimal, else ValueError with robfig's message."""
    if not _INT_RE.fullmatch(expr):
        raise ValueError(f'failed to parse int from {expr}: strconv.Atoi: parsing "{expr}": invalid syntax')
    number = int(expr)
    if not -(2**63) <= number < 2**63:
        raise ValueError(f'failed to parse int from {expr}: strconv.Atoi: parsing "{expr}": '
                         "value out of range")
    if number < 0:
        raise ValueError(f"negative number ({number}) not allowed: {expr}")
    return number


def _int_or_name(expr: str, names: dict[str, int]) -> int:
    """parseIntOrName: month and day names count, in any case."""
    named = names.get(expr.lower())
    return named if named is not None else _parse_int(expr)


def _check_range(expr: str, low: int, high: int, names: dict[str, int]) -> None:
    """getRange: `*`, `?`, `n`, `a-b`, each optionally `/step`; ValueError with robfig's message."""
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    if low_and_high[0] in ("*", "?"):
        start, end = low, high
    else:
        start = end = _int_or_name(low_and_high[0], names)
        if len(low_and_high) > 2:
            raise ValueError(f"too many hyphens: {expr}")
        if len(low_and_high) == 2:
            end = _int_or_name(low_and_high[1], names)
    step = 1
    if len(range_and_step) > 2:
        raise ValueError(f"too many slashes: {expr}")
    if len(range_and_step) == 2:
        step = _parse_int(range_and_step[1])
        if len(low_and_high) == 1:
            end = high  # "n/step" means "n-max/step"
    if start < low:
        raise ValueError(f"beginning of range ({start}) below minimum ({low}): {expr}")
    if end > high:
        raise ValueError(f"end of range ({end}) above maximum ({high}): {expr}")
    if start > end:
        raise ValueError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise ValueError(f"step of range should be a positive number: {expr}")


def cron_error(schedule: str) -> str | None:
    """cron.ParseStandard's error for a schedule, or None when it parses."""
    spec = schedule
    if not spec:
        return "empty spec string"
    if spec.startswith(("TZ=", "CRON_TZ=")):
        space = spec.find(" ")
        location = spec[spec.find("=") + 1 : space if space >= 0 else len(spec)]
        if _time_zone_error(location):
            return f"provided bad location {location}: unknown time zone {location}"
        spec = spec[space:].strip() if space >= 0 else ""
    if spec.startswith("@"):
        if spec in _DESCRIPTORS:
            return None
        if spec.startswith("@every "):
            err = _go_duration_error(spec[len("@every ") :])
            return f"failed to parse duration {spec}: {err}" if err else None
        return f"unrecognized descriptor: {spec}"
    fields = spec.split()
    if len(fields) != len(_BOUNDS):
        return f"expected exactly {len(_BOUNDS)} fields, found {len(fields)}: [{' '.join(fields)}]"
    try:
        for field, (low, high, names) in zip(fields, _BOUNDS, strict=True):
            for expr in filter(None, field.split(",")):
                _check_range(expr, low, high, names)
    except ValueError as err:
        return str(err)
    return None


def _time_zone_error(name: str) -> bool:
    """True when time.LoadLocation would fail for `name`."""
    if name in ("", "UTC"):
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return True
    return False


def _validate_time_zone(r: Report, spec: Obj) -> None:
    """validateTimeZone."""
    path = "spec.timeZone"
    if spec.get("timeZone") is None:
        return
    if not (zone := r.string(spec, "timeZone", "spec")):
        if spec["timeZone"] == "":
            r.append(invalid(path, zone, "timeZone must be nil or non-empty string"))
        return
    for part in zone.split("/"):
        if part in (".", "..") or part.startswith("-") or not re.fullmatch(r"[A-Za-z.\-_0-9+]{1,14}", part):
            r.append(invalid(path, zone, f"unknown time zone {zone}"))
            return
    if zone.lower() == "local":
        r.append(invalid(path, zone, "timeZone must be an explicit time zone as defined in "
                                     "https://www.iana.org/time-zones"))
    elif _time_zone_error(zone):
        r.append(invalid(path, zone, f"unknown time zone {zone}"))


def validate_cron_job(obj: Obj) -> list[FieldError]:
    """ValidateCronJobCreate's spec part, and its name length limit."""
    spec = obj.get("spec")
    if spec is not None and not isinstance(spec, dict):
        return [type_invalid("spec", spec, "object")]
    spec = spec or {}
    r = Report()
    schedule = r.string(spec, "schedule", "spec")
    if not schedule:
        r.append(required("spec.schedule"))
    else:
        if err := cron_error(schedule):
            r.append(invalid("spec.schedule", schedule, err))
        if "TZ" in schedule:
            r.append(invalid("spec.schedule", schedule,
                             "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
    r.non_negative(spec, "startingDeadlineSeconds", "spec")
    _validate_time_zone(r, spec)
    policy = r.string(spec, "concurrencyPolicy", "spec")
    if not policy:
        r.append(required("spec.concurrencyPolicy"))
    elif policy not in ("Allow", "Forbid", "Replace"):
        r.append(not_supported("spec.concurrencyPolicy", policy, ["Allow", "Forbid", "Replace"]))
    job_template = r.object(spec, "jobTemplate", "spec") or {}
    job_spec = r.object(job_template, "spec", "spec.jobTemplate") or {}
    _validate_job_spec(r, job_spec, "spec.jobTemplate.spec")  # ValidateJobTemplateSpec
    if job_spec.get("selector") is not None:
        r.append(invalid("spec.jobTemplate.spec.selector", job_spec["selector"],
                         "`selector` will be auto-generated"))
    if job_spec.get("manualSelector") is True:
        r.append(not_supported("spec.jobTemplate.spec.manualSelector", True, ["nil", "false"]))
    r.non_negative(spec, "successfulJobsHistoryLimit", "spec")
    r.non_negative(spec, "failedJobsHistoryLimit", "spec")
    name = as_object(obj.get("metadata")).get("name")
    if isinstance(name, str) and len(name) > CRONJOB_NAME_MAX:
        r.append(invalid("metadata.name", name, f"must be no more than {CRONJOB_NAME_MAX} characters"))
    return list(r)


class CronJobStrategy(Strategy):
    """cronJobStrategy: defaults, schedule and job template validation."""
    generation = True


    def default(self, obj: Obj) -> None:
        if (spec := ensure_object(obj, "spec")) is None:
            return
        if spec.get("concurrencyPolicy") in (None, ""):
            spec["concurrencyPolicy"] = "Allow"
        if spec.get("suspend") is None:
            spec["suspend"] = False
        if spec.get("successfulJobsHistoryLimit") is None:
            spec["successfulJobsHistoryLimit"] = 3
        if spec.get("failedJobsHistoryLimit") is None:
            spec["failedJobsHistoryLimit"] = 1
        # Only the pod template inside is defaulted: a JobTemplateSpec gets no Job defaults.
        job_template = ensure_object(spec, "jobTemplate")
        if job_template is not None and (job_spec := ensure_object(job_template, "spec")) is not None:
            default_pod_template(job_spec)

    def prepare_for_create(self, obj: Obj) -> None:
        if isinstance(meta := obj.get("metadata"), dict):
            meta["generation"] = 1

    def validate(self, obj: Obj) -> list[FieldError]:
        return validate_cron_job(obj)


TYPES: list[ResourceType] = [
    ResourceType(
        group="batch",
        version="v1",
        kind="Job",
        plural="jobs",
        singular="job",
        namespaced=True,
        categories=("all",),
        subresources=("status",),
        strategy=JobStrategy(),
    ),
    ResourceType(
        group="batch",
        version="v1",
        kind="CronJob",
        plural="cronjobs",
        singular="cronjob",
        namespaced=True,
        short_names=("cj",),
        categories=("all",),
        subresources=("status",),
        strategy=CronJobStrategy(),
    ),
]
