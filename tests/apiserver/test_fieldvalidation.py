"""Field validation: unknown and duplicate fields found and reported as kube's strict decoding does."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from apiserver import fieldvalidation as fv
from apiserver.builtins import TYPES
from apiserver.registry import Registry, ResourceType
from machinery import BadRequest, Invalid
from machinery.schemas import node_for

REGISTRY = Registry(TYPES)
DEPLOYMENT = fv.schema_for(REGISTRY.lookup("apps", "v1", "deployments"))  # type: ignore[arg-type]
CONFIG_MAP = fv.schema_for(REGISTRY.lookup("", "v1", "configmaps"))  # type: ignore[arg-type]
CRON_TAB = ResourceType("stable.example.com", "v1", "CronTab", "crontabs", "crontab", True, schema={
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "cronSpec": {"type": "string"},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "known": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                          "properties": {"size": {"type": "object", "properties": {"n": {"type": "integer"}}}}},
                "template": {"type": "object", "x-kubernetes-embedded-resource": True,
                             "x-kubernetes-preserve-unknown-fields": True},
                "selector": {"type": "object", "additionalProperties": {"type": "string"}},
                "bare": {"type": "object"},
                "items": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
            },
        },
    },
})
CUSTOM = fv.schema_for(CRON_TAB)


def dep(spec: str = '"replicas": 1', metadata: str = '"name": "web"', rest: str = "") -> bytes:
    return f'{{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {{{metadata}}}, "spec": {{{spec}}}{rest}}}'.encode()


def pod_template(container: str) -> str:
    return f'"template": {{"spec": {{"containers": [{{"name": "c", "image": "nginx"}}, {{{container}}}]}}}}'


@pytest.mark.parametrize(("body", "unknown", "duplicates"), [
    (dep(), [], []),
    (dep('"replicas": 1, "foo": 2'), ["spec.foo"], []),
    (dep(pod_template('"name": "d", "imagee": "x"')), ["spec.template.spec.containers[1].imagee"], []),
    (dep(rest=', "status": {"replicas": 1, "bogus": true}'), ["status.bogus"], []),
    (dep(metadata='"name": "web", "nme": "x"'), ["metadata.nme"], []),
    (dep(metadata='"name": "web", "name": "other"'), [], ["metadata.name"]),
    (dep('"replicas": 1, "replicas": 2, "paused": false'), [], ["spec.replicas"]),
    (dep(metadata='"labels": {"a": "1", "a": "2", "any/key.at-all": "x"}'), [], ["metadata.labels.a"]),
    (dep(metadata='"annotations": {"anything": "goes"}'), [], []),
    (dep('"Replicas": 1'), ["spec.Replicas"], []),  # kube decodes case-sensitively
    (dep('"foo": {"bar": 1, "bar": 2}'), ["spec.foo"], []),  # Go skips an unknown member's value
    (dep('"strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}}'), [], []),
    (dep(pod_template('"name": "d", "resources": {"limits": {"cpu": "1", "memory": 2}}')), [], []),
    (dep(metadata='"managedFields": [{"manager": "m", "fieldsV1": {"f:spec": {}, "f:spec": {}, "x": 1}}]'), [], []),
    (dep('"template": null, "selector": {"matchLabels": {"a": "b"}, "matchExpressions": [{"key": "k", "op": "In"}]}'),
     ["spec.selector.matchExpressions[0].op"], []),
    (dep('"foo": 1', metadata='"name": "a", "name": "b"'), ["spec.foo"], ["metadata.name"]),
])
def test_builtin_kinds_are_checked_against_their_definitions(body: bytes, unknown: list[str],
                                                             duplicates: list[str]) -> None:
    assert fv.check_fields(None, body, DEPLOYMENT) == (unknown, duplicates)


@pytest.mark.parametrize("body", [
    dep(),
    dep(metadata='"name": "web", "name": "other"'),
    dep('"replicas": 1, "foo": 2'),
    dep(metadata='"name": "web", "annotations": {"path": "C:\\\\dir", "path": "D:\\\\dir"}'),  # backslashes only
    dep(metadata='"name": "web", "annotations": {"path": "C:\\\\dir", "other": "x"}'),
    dep(metadata='"name": "web", "annotations": {"q\\"k": "1", "q\\"k": "2"}'),  # escaped quotes in a name
    dep(metadata='"name": "web", "annotations": {"a": "say \\"hi\\": 1", "a": "2"}'),  # and a value like a name
    dep(metadata='"name": "web", "labels" : {"a" :"1", "a"\n: "2"}'),  # space before the colon
    b'{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"w","name":"v"},"spec":{"replicas":1}}',
])
def test_the_decoded_body_gives_what_the_full_parse_gives(body: bytes) -> None:
    """The fast path (member counts of the decoded object against the names in the text) and the full
    parse of the raw body must agree, escaped quotes, backslashes and spacing included."""
    assert fv.check_fields(orjson.loads(body), body, DEPLOYMENT) == fv.check_fields(None, body, DEPLOYMENT)


def test_a_map_with_more_keys_than_a_members_table_keeps_is_still_checked() -> None:
    """A map's member table stops growing at _TABLE_SIZE keys; the ones past it are still looked up."""
    keys = [f"k{i}" for i in range(fv._TABLE_SIZE + 200)]
    data = ", ".join(f'"{k}": "v"' for k in keys)
    body = f'{{"metadata": {{"name": "c"}}, "data": {{{data}, "k1100": "again"}}, "dta": 1}}'.encode()
    assert fv.check_fields(orjson.loads(body), body, CONFIG_MAP) == (["dta"], ["data.k1100"])
    clean = f'{{"metadata": {{"name": "c"}}, "data": {{{data}}}}}'.encode()
    assert fv.check_fields(orjson.loads(clean), clean, CONFIG_MAP) == ([], [])


def test_errors_come_in_document_order_as_kube_reports_them() -> None:
    body = dep('"foo": 1', metadata='"name": "a", "name": "b"', rest=', "zzz": 0')
    assert [str(e) for e in fv.strict_errors(DEPLOYMENT, body)] == [
        'duplicate field "metadata.name"', 'unknown field "spec.foo"', 'unknown field "zzz"']


def test_opaque_raw_extensions_accept_anything() -> None:
    revision = fv.KindSchema(node_for("apps", "v1", "ControllerRevision"), custom=False)  # type: ignore[arg-type]
    body = b'{"revision": 1, "data": {"spec": {"whatever": 1, "whatever": 2}}, "bogus": 1}'
    assert fv.check_fields(None, body, revision) == (["bogus"], [])


def test_a_body_that_is_not_json_is_checked_from_the_decoded_object() -> None:
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "dta": {"a": "1"}}
    assert fv.check_fields(obj, b"kind: ConfigMap\n", CONFIG_MAP) == (["dta"], [])
    assert fv.check_fields(obj, None, CONFIG_MAP) == (["dta"], [])


@pytest.mark.parametrize(("body", "unknown", "duplicates"), [
    (b'{"apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "x"}, "spec": {"cronSpec": "*"}}',
     [], []),
    (b'{"spec": {"cronSpec": "*", "cronSpc": "*"}}', ["spec.cronSpc"], []),
    (b'{"spec": {"free": {"a": {"b": [1, {"c": 2}]}}}}', [], []),
    (b'{"spec": {"free": {"a": 1, "a": 2}}}', [], ["spec.free.a"]),  # a map decode sees every duplicate
    (b'{"spec": {"known": {"size": {"n": 1, "m": 2}, "other": 1}}}', ["spec.known.size.m"], []),
    (b'{"spec": {"template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "nam": 1}, "spec": {}}}}',
     ["spec.template.metadata.nam"], []),
    (b'{"spec": {"selector": {"any": "key"}}}', [], []),
    (b'{"spec": {"bare": {"x": 1}}}', ["spec.bare.x"], []),  # pruning drops what an object schema doesn't name
    (b'{"spec": {"items": [{"name": "a", "size": 1}]}}', ["spec.items[0].size"], []),
    (b'{"spec": {"zz": {"q": 1, "q": 2}}, "metadata": {"z": 1, "a": 2, "managedFields": [{"fieldsV1": {"f:a": {}}}]}}',
     ["metadata.a", "metadata.z", "spec.zz"], ["spec.zz.q"]),
])
def test_custom_resources_are_pruned_against_their_schema(body: bytes, unknown: list[str],
                                                          duplicates: list[str]) -> None:
    assert fv.check_fields(None, body, CUSTOM) == (unknown, duplicates)


def test_custom_resources_report_duplicates_first_then_sorted_unknown_fields() -> None:
    body = b'{"zeta": 1, "spec": {"cronSpec": "a", "cronSpec": "b"}, "alpha": 1, "metadata": {"q": 1}}'
    assert [str(e) for e in fv.strict_errors(CUSTOM, body)] == [
        'duplicate field "spec.cronSpec"', 'unknown field "metadata.q"', 'unknown field "alpha"',
        'unknown field "zeta"']


def test_a_subresource_body_is_checked_against_its_own_kind() -> None:
    scale = fv.schema_for(REGISTRY.lookup("apps", "v1", "deployments"), "scale")  # type: ignore[arg-type]
    assert fv.check_fields(None, b'{"spec": {"replicas": 2, "selector": "x"}}', scale) == (["spec.selector"], [])


def test_errors_stop_at_a_hundred() -> None:
    members = ", ".join(f'"f{i}": {i}' for i in range(150))
    assert len(fv.strict_errors(DEPLOYMENT, dep(members))) == fv.MAX_ERRORS


@pytest.mark.parametrize(("value", "expected"), [(None, "Warn"), ("", "Warn"), ("Strict", "Strict"),
                                                 ("Warn", "Warn"), ("Ignore", "Ignore")])
def test_the_directive_defaults_to_warn(value: str | None, expected: str) -> None:
    assert fv.directive(value, options_kind="CreateOptions") == expected


def test_an_unknown_directive_is_invalid_as_kube_words_it() -> None:
    with pytest.raises(Invalid) as caught:
        fv.directive("strict", options_kind="PatchOptions")
    status = caught.value.status()
    assert status["code"] == 422
    assert status["message"] == ('PatchOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: '
                                 '"strict": supported values: "", "Ignore", "Strict", "Warn"')
    assert status["details"]["causes"][0]["field"] == "fieldValidation"


ERRORS = [fv.StrictError(fv.UNKNOWN, "spec.foo"), fv.StrictError(fv.DUPLICATE, "metadata.name")]


def test_strict_rejects_a_create_with_kubes_message() -> None:
    with pytest.raises(BadRequest) as caught:
        fv.field_validation_outcome("Strict", ERRORS, kind="Deployment", version="v1")
    assert caught.value.status()["message"] == (
        'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: '
        'unknown field "spec.foo", duplicate field "metadata.name"')


def test_warn_returns_one_warning_per_problem_and_ignore_nothing() -> None:
    assert fv.field_validation_outcome("Warn", ERRORS, kind="Deployment", version="v1") == [
        'unknown field "spec.foo"', 'duplicate field "metadata.name"']
    assert fv.field_validation_outcome("Ignore", ERRORS, kind="Deployment", version="v1") == []
    assert fv.field_validation_outcome("Strict", [], kind="Deployment", version="v1") == []


@pytest.mark.parametrize(("patch_type", "body", "expected"), [
    ("application/merge-patch+json", b'{"spec": {"a": 1, "a": 2, "b": {"c": 1, "c": 2}}}',
     ['duplicate field "spec.a"', 'duplicate field "spec.b.c"']),
    ("application/strategic-merge-patch+json", b'{"metadata": {"labels": {"x": "1"}}}', []),
    ("application/json-patch+json", b'[{"op": "add", "path": "/a", "value": {"k": 1, "k": 2}, "op": "add"}]',
     ['json patch duplicate field "[0].value.k"', 'json patch duplicate field "[0].op"']),
    ("application/json-patch+json", b'[{"op": "remove", "path": "/a"}, {"op": "add", "path": "/b", "valu": 1}]',
     ['json patch unknown field "[1].valu"']),
    ("application/merge-patch+json", b"not json", []),
])
def test_a_patch_body_is_checked_as_kube_decodes_it(patch_type: str, body: bytes, expected: list[str]) -> None:
    assert fv.patch_strict_errors(patch_type, body) == expected


def test_a_patched_object_reports_unknown_fields_sorted() -> None:
    patched = {"spec": {"zz": 1, "aa": {"x": 1}, "replicas": 1}, "metadata": {"bogus": 1}}
    assert fv.patched_object_errors(DEPLOYMENT, patched) == [
        'unknown field "metadata.bogus"', 'unknown field "spec.aa"', 'unknown field "spec.zz"']


def test_strict_rejects_a_patch_as_invalid() -> None:
    patched = fv.go_format({"spec": {"foo": 1}})
    with pytest.raises(Invalid) as caught:
        fv.patch_validation_outcome("Strict", ['unknown field "spec.foo"'], patched=patched)
    status = caught.value.status()
    assert status["message"] == (' "" is invalid: patch: Invalid value: "map[spec:map[foo:1]]": '
                                 'strict decoding error: unknown field "spec.foo"')
    assert status["details"] == {"causes": [{
        "reason": "FieldValueInvalid", "field": "patch",
        "message": 'Invalid value: "map[spec:map[foo:1]]": strict decoding error: unknown field "spec.foo"'}]}
    assert fv.patch_validation_outcome("Warn", ['unknown field "spec.foo"'], patched=patched) == [
        'unknown field "spec.foo"']


@pytest.mark.parametrize(("value", "expected"), [
    ({"b": [1, "x", None, True], "a": {"z": 1.5, "y": 2.0}}, "map[a:map[y:2 z:1.5] b:[1 x <nil> true]]"),
    ({"big": 1e21, "small": 0.00001, "int": 10**20}, "map[big:1e+21 int:100000000000000000000 small:1e-05]"),
    ([], "[]"),
    ({}, "map[]"),
])
def test_go_format_prints_like_gos_percent_v(value: Any, expected: str) -> None:
    assert fv.go_format(value) == expected
