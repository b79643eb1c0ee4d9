"""batch/v1 Jobs and CronJobs: defaults, generated selectors, cron schedules and validation messages."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from apiserver.builtins import batch
from apiserver.registry import Strategy

JOBS, CRONJOBS = (rt.strategy for rt in batch.TYPES)
UID = "0d7c2d4e-5b0b-4c49-9c1e-4a1f8a3c6a11"
GENERATED = {
    "batch.kubernetes.io/controller-uid": UID,
    "batch.kubernetes.io/job-name": "pi",
    "controller-uid": UID,
    "job-name": "pi",
}
RESTART = "spec.template.spec.restartPolicy"


def pod_spec(**fields: Any) -> dict[str, Any]:
    return {"containers": [{"name": "pi", "image": "perl:5.34"}], "restartPolicy": "Never", **fields}


def job(name: str = "pi", labels: Any = None, pod: Any = None, **spec: Any) -> dict[str, Any]:
    template: dict[str, Any] = {"spec": pod_spec() if pod is None else pod}
    if labels is not None:
        template["metadata"] = {"labels": labels}
    meta = {"name": name, "namespace": "default", "uid": UID}
    return {"metadata": meta, "spec": {"template": template, **spec}}


def created(strategy: Strategy, obj: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    strategy.prepare_for_create(obj)
    strategy.default(obj)
    return obj


def messages(strategy: Strategy, obj: dict[str, Any]) -> list[str]:
    return [e.message() for e in strategy.validate(created(strategy, obj))]


def update_messages(strategy: Strategy, new: dict[str, Any], old: dict[str, Any]) -> list[str]:
    return [e.message() for e in strategy.validate_update(new, old)]


# --- Job defaults and generated selectors ---


def test_a_job_reads_back_with_kubes_defaults_and_a_generated_selector() -> None:
    obj = created(JOBS, job())
    assert obj["metadata"]["labels"] == GENERATED
    assert obj["metadata"]["generation"] == 1
    spec = obj["spec"]
    assert {k: v for k, v in spec.items() if k != "template"} == {
        "backoffLimit": 6,
        "completionMode": "NonIndexed",
        "completions": 1,
        "manualSelector": False,
        "parallelism": 1,
        "podReplacementPolicy": "TerminatingOrFailed",
        "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": UID}},
        "suspend": False,
    }
    assert spec["template"]["metadata"] == {"labels": GENERATED}
    assert spec["template"]["spec"]["terminationGracePeriodSeconds"] == 30
    assert JOBS.validate(obj) == []


@pytest.mark.parametrize(("spec", "expected"), [
    ({"parallelism": 3}, {"parallelism": 3, "backoffLimit": 6}),
    ({"completions": 5}, {"completions": 5, "parallelism": 1}),
    ({"completionMode": "Indexed", "completions": 4, "backoffLimitPerIndex": 1},
     {"backoffLimit": 2147483647}),
    ({"podFailurePolicy": {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "Evicted"}]}]}},
     {"podReplacementPolicy": "Failed",
      "podFailurePolicy": {"rules": [{"action": "Ignore",
                                      "onPodConditions": [{"type": "Evicted", "status": "True"}]}]}}),
])
def test_job_defaults_depend_on_what_is_set(spec: dict[str, Any], expected: dict[str, Any]) -> None:
    out = created(JOBS, job(**spec))["spec"]
    assert {k: out[k] for k in expected} == expected


def test_job_labels_are_kept_when_the_job_has_its_own() -> None:
    obj = job(labels={"app": "pi"})
    obj["metadata"]["labels"] = {"team": "math"}
    out = created(JOBS, obj)
    assert out["metadata"]["labels"] == {"team": "math"}
    assert out["spec"]["template"]["metadata"]["labels"] == {"app": "pi", **GENERATED}


def test_a_manual_selector_is_left_alone() -> None:
    selector = {"matchLabels": {"app": "pi"}}
    obj = created(JOBS, job(labels={"app": "pi"}, manualSelector=True, selector=selector))
    assert obj["spec"]["selector"] == {"matchLabels": {"app": "pi"}}
    assert obj["spec"]["template"]["metadata"]["labels"] == {"app": "pi"}
    assert JOBS.validate(obj) == []


# --- Job validation ---


@pytest.mark.parametrize(("obj", "expected"), [
    (job(pod={"containers": [{"name": "pi", "image": "perl"}]}),
     [f'{RESTART}: Required value: valid values: "OnFailure", "Never"']),
    (job(pod=pod_spec(restartPolicy="Sometimes")),
     [f'{RESTART}: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
      f'{RESTART}: Unsupported value: "Sometimes": supported values: "OnFailure", "Never"']),
    (job(pod=pod_spec(restartPolicy="OnFailure"), podFailurePolicy={"rules": []}),
     [f'{RESTART}: Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is '
      "specified"]),
    (job(pod={"restartPolicy": "Never"}), ["spec.template.spec.containers: Required value"]),
    (job(parallelism=-1), ["spec.parallelism: Invalid value: -1: must be greater than or equal to 0"]),
    (job(backoffLimit=-1), ["spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0"]),
    (job(completionMode="Sometimes"),
     ['spec.completionMode: Unsupported value: "Sometimes": supported values: "NonIndexed", "Indexed"']),
    (job(completionMode="Indexed", parallelism=2),
     ["spec.completions: Required value: when completion mode is Indexed"]),
    (job(backoffLimitPerIndex=1),
     ["spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode"]),
    (job(podReplacementPolicy="Always"),
     ['spec.podReplacementPolicy: Unsupported value: "Always": supported values: "Failed", '
      '"TerminatingOrFailed"']),
    (job(manualSelector=True),
     ["spec.selector: Required value",
      "spec.template.metadata.labels: Invalid value: null: `selector` does not match template `labels`"]),
    (job(labels={"app": "pi"}, manualSelector=True, selector={"matchLabels": {"app": "tau"}}),
     ['spec.template.metadata.labels: Invalid value: {"app":"pi"}: `selector` does not match template '
      "`labels`"]),
    (job(name="p" * 63, completionMode="Indexed", completions=10),
     [f'metadata.name: Invalid value: "{"p" * 63}": will not able to create pod with invalid DNS label: '
      f"{'p' * 63}-9"]),
])
def test_invalid_jobs_get_kubes_field_errors(obj: dict[str, Any], expected: list[str]) -> None:
    assert messages(JOBS, obj) == expected


def test_conflicting_generated_labels_are_rejected() -> None:
    obj = created(JOBS, job(labels={"controller-uid": "someone-else"}))
    labels = obj["spec"]["template"]["metadata"]["labels"]
    assert labels["controller-uid"] == "someone-else"
    assert [e.message() for e in JOBS.validate(obj)] == [
        f"spec.template.metadata.labels[controller-uid]: Invalid value: {orjson.dumps(labels).decode()}: "
        f"must be '{UID}'"
    ]


def test_a_job_without_uid_cannot_generate_its_selector() -> None:
    obj = job()
    del obj["metadata"]["uid"]
    assert messages(JOBS, obj)[0] == "metadata.uid: Required value"


# --- Job updates ---


def test_job_templates_and_selectors_are_immutable() -> None:
    old = created(JOBS, job())
    new = copy.deepcopy(old)
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "perl:5.40"
    new["spec"]["selector"] = {"matchLabels": {"app": "pi"}}
    new["spec"]["completions"] = 3
    found = update_messages(JOBS, new, old)
    assert found[0] == "spec.completions: Invalid value: 3: field is immutable"
    assert found[1] == 'spec.selector: Invalid value: {"matchLabels":{"app":"pi"}}: field is immutable'
    assert found[2].startswith('spec.template: Invalid value: {"spec":{')
    assert found[2].endswith(": field is immutable")
    assert len(found) == 3


def test_job_parallelism_and_suspend_may_change() -> None:
    old = created(JOBS, job())
    new = copy.deepcopy(old)
    new["spec"].update(parallelism=4, suspend=True, activeDeadlineSeconds=100)
    assert update_messages(JOBS, new, old) == []


def test_a_suspended_job_that_never_ran_may_move_its_pods() -> None:
    old = created(JOBS, job(suspend=True))
    new = copy.deepcopy(old)
    new["spec"]["template"]["spec"]["nodeSelector"] = {"zone": "b"}
    new["spec"]["template"]["metadata"]["annotations"] = {"moved": "yes"}
    assert update_messages(JOBS, new, old) == []
    old["status"] = {"startTime": "2025-01-01T00:00:00Z"}
    assert update_messages(JOBS, new, old)[0].startswith("spec.template: Invalid value:")


def test_indexed_jobs_scale_completions_with_parallelism() -> None:
    old = created(JOBS, job(completionMode="Indexed", completions=4, parallelism=4))
    new = copy.deepcopy(old)
    new["spec"].update(completions=6, parallelism=6)
    assert update_messages(JOBS, new, old) == []
    new["spec"]["parallelism"] = 5
    assert update_messages(JOBS, new, old) == [
        "spec.completions: Invalid value: 6: can only be modified in tandem with spec.parallelism"
    ]


# --- cron schedules ---


@pytest.mark.parametrize(("schedule", "error"), [
    ("*/5 * * * *", None),
    ("0 0 1 jan-MAR mon,Fri", None),
    ("0-59/15 9-17 * * 1-5", None),
    ("5 4 * * ?", None),
    ("1,,2 * * * *", None),
    ("@hourly", None),
    ("@every 1h30m", None),
    ("", "empty spec string"),
    ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
    ("0 0 * * * *", "expected exactly 5 fields, found 6: [0 0 * * * *]"),
    ("60 * * * *", "end of range (60) above maximum (59): 60"),
    ("* 24 * * *", "end of range (24) above maximum (23): 24"),
    ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
    ("* * * 13 *", "end of range (13) above maximum (12): 13"),
    ("* * * * 7", "end of range (7) above maximum (6): 7"),
    ("30-10 * * * *", "beginning of range (30) beyond end of range (10): 30-10"),
    ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
    ("*/2/3 * * * *", "too many slashes: */2/3"),
    ("*/0 * * * *", "step of range should be a positive number: */0"),
    ("x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
    ("-1 * * * *", 'failed to parse int from : strconv.Atoi: parsing "": invalid syntax'),
    ("@fortnightly", "unrecognized descriptor: @fortnightly"),
    ("@every 5", 'failed to parse duration @every 5: time: missing unit in duration "5"'),
    ("@every soon", 'failed to parse duration @every soon: time: invalid duration "soon"'),
])
def test_cron_schedules_parse_like_robfig_cron(schedule: str, error: str | None) -> None:
    assert batch.cron_error(schedule) == error


# --- CronJobs ---


def cron_job(name: str = "hello", **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "default", "uid": UID},
            "spec": {"schedule": "*/1 * * * *",
                     "jobTemplate": {"spec": {"template": {"spec": pod_spec(restartPolicy="OnFailure")}}},
                     **spec}}


def test_a_cronjob_reads_back_with_kubes_defaults_and_an_undefaulted_job_template() -> None:
    obj = created(CRONJOBS, cron_job())
    assert obj["metadata"]["generation"] == 1
    spec = obj["spec"]
    assert {k: v for k, v in spec.items() if k != "jobTemplate"} == {
        "schedule": "*/1 * * * *",
        "concurrencyPolicy": "Allow",
        "suspend": False,
        "successfulJobsHistoryLimit": 3,
        "failedJobsHistoryLimit": 1,
    }
    job_spec = spec["jobTemplate"]["spec"]
    assert list(job_spec) == ["template"]  # a JobTemplateSpec gets no Job defaults
    assert job_spec["template"]["spec"]["dnsPolicy"] == "ClusterFirst"
    assert CRONJOBS.validate(obj) == []


@pytest.mark.parametrize(("obj", "expected"), [
    (cron_job(schedule=None), ["spec.schedule: Required value"]),
    (cron_job(schedule="61 * * * *"),
     ['spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61']),
    (cron_job(schedule="TZ=UTC 0 * * * *"),
     ['spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone '
      "field instead"]),
    (cron_job(timeZone="Mars/Olympus_Mons"),
     ['spec.timeZone: Invalid value: "Mars/Olympus_Mons": unknown time zone Mars/Olympus_Mons']),
    (cron_job(timeZone="Local"),
     ['spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone as defined in '
      "https://www.iana.org/time-zones"]),
    (cron_job(timeZone=""), ['spec.timeZone: Invalid value: "": timeZone must be nil or non-empty string']),
    (cron_job(timeZone="Europe/Berlin"), []),
    (cron_job(concurrencyPolicy="Sometimes"),
     ['spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", '
      '"Replace"']),
    (cron_job(startingDeadlineSeconds=-1),
     ["spec.startingDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0"]),
    (cron_job(successfulJobsHistoryLimit=-1),
     ["spec.successfulJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0"]),
    (cron_job(jobTemplate={"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "b"}]}}}}),
     ['spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", '
      '"Never"']),
    (cron_job(jobTemplate={"spec": {"template": {"spec": pod_spec()}, "selector": {},
                                    "manualSelector": True}}),
     ["spec.jobTemplate.spec.selector: Invalid value: {}: `selector` will be auto-generated",
      'spec.jobTemplate.spec.manualSelector: Unsupported value: true: supported values: "nil", "false"']),
    (cron_job(name="c" * 53),
     [f'metadata.name: Invalid value: "{"c" * 53}": must be no more than 52 characters']),
])
def test_invalid_cronjobs_get_kubes_field_errors(obj: dict[str, Any], expected: list[str]) -> None:
    assert messages(CRONJOBS, obj) == expected


# --- junk, field selectors, registration ---


@pytest.mark.parametrize("strategy", [JOBS, CRONJOBS])
@pytest.mark.parametrize("spec", [
    "spec",
    {"template": "pod", "selector": ["x"], "parallelism": "2", "completionMode": 5, "podFailurePolicy": "x"},
    {"template": {"metadata": {"labels": "x"}, "spec": {"containers": {"a": 1}}}, "manualSelector": "yes"},
    {"schedule": 5, "timeZone": 7, "jobTemplate": {"spec": "job"}, "concurrencyPolicy": []},
    {"schedule": "* * * * *", "jobTemplate": []},
])
def test_junk_batch_objects_are_field_errors_not_exceptions(strategy: Strategy, spec: Any) -> None:
    obj: dict[str, Any] = {"metadata": {"name": "x", "uid": UID}, "spec": copy.deepcopy(spec)}
    strategy.prepare_for_create(obj)
    strategy.default(obj)
    assert strategy.validate(obj)
    assert isinstance(strategy.validate_update(obj, created(strategy, job())), list)
    assert isinstance(strategy.field_values(obj), dict)


def test_jobs_select_on_successful_pods() -> None:
    obj = created(JOBS, job())
    assert JOBS.field_values(obj) == {"status.successful": "0"}
    obj["status"] = {"succeeded": 2}
    assert JOBS.field_values(obj) == {"status.successful": "2"}


@pytest.mark.parametrize(("index", "kind", "plural", "short"), [
    (0, "Job", "jobs", ()),
    (1, "CronJob", "cronjobs", ("cj",)),
])
def test_batch_kinds_are_registered_as_kube_serves_them(
    index: int, kind: str, plural: str, short: tuple[str, ...]
) -> None:
    rt = batch.TYPES[index]
    assert (rt.group, rt.version, rt.kind, rt.plural) == ("batch", "v1", kind, plural)
    assert rt.singular == kind.lower()
    assert (rt.short_names, rt.categories, rt.subresources) == (short, ("all",), ("status",))
    assert rt.namespaced and rt.scale is None
