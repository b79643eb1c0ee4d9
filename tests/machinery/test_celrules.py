"""x-kubernetes-validations: rules run at their schema nodes and fail with kube's field errors."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest

from machinery.celrules import check_rules, escape, normalize_field_path, validate_rules
from machinery.errors import FieldError


def resource(spec_schema: dict[str, Any], *, root_rules: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The schema of a custom resource whose spec is `spec_schema`."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec_schema,
        },
    }
    if root_rules:
        schema["x-kubernetes-validations"] = root_rules
    return schema


def obj(spec: Any, **metadata: Any) -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", **metadata}, "spec": spec}


def spec_with(rules: list[dict[str, Any]], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "x-kubernetes-validations": rules}


def messages(errors: list[FieldError]) -> list[str]:
    return [e.message() for e in errors]


INT = {"type": "integer"}
STR = {"type": "string"}
REPLICAS = spec_with([{"rule": "self.replicas <= self.maxReplicas", "message": "replicas must not exceed maxReplicas"}],
                     replicas=INT, maxReplicas=INT)
ITEMS = {
    "type": "object",
    "properties": {
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": STR, "size": INT},
                "x-kubernetes-validations": [{"rule": "self.size < 10", "message": "size must be below 10"}],
            },
        }
    },
}


@pytest.mark.parametrize(
    ("schema", "new", "expected"),
    [
        pytest.param(REPLICAS, {"replicas": 3, "maxReplicas": 5}, [], id="self comparison holds"),
        pytest.param(REPLICAS, {"replicas": 7, "maxReplicas": 5},
                     ['spec: Invalid value: "object": replicas must not exceed maxReplicas'], id="self comparison"),
        pytest.param(spec_with([{"rule": "has(self.name)"}], name=STR), {},
                     ['spec: Invalid value: "object": failed rule: has(self.name)'], id="has() without a message"),
        pytest.param(spec_with([{"rule": "self.ports.all(p, p > 0 && p < 65536)", "message": "bad port"}],
                               ports={"type": "array", "items": INT}),
                     {"ports": [80, 70000]}, ['spec: Invalid value: "object": bad port'], id="all() macro"),
        pytest.param(spec_with([{"rule": "self.name.lowerAscii() == self.name", "message": "lower case only"}],
                               name=STR),
                     {"name": "Web"}, ['spec: Invalid value: "object": lower case only'], id="string function"),
        pytest.param(spec_with([{"rule": "self.tags.isSorted() && self.tags.size() <= 3"}],
                               tags={"type": "array", "items": STR}),
                     {"tags": ["b", "a"]}, ['spec: Invalid value: "object": failed rule: self.tags.isSorted() && '
                                            "self.tags.size() <= 3"], id="list function"),
        pytest.param(spec_with([{"rule": "self.image.matches('^[a-z]+:[0-9.]+$')", "message": "pin a version"}],
                               image=STR),
                     {"image": "nginx:latest"}, ['spec: Invalid value: "object": pin a version'], id="regex"),
        pytest.param(spec_with([{"rule": "quantity(self.memory).isLessThan(quantity('1Gi'))",
                                 "message": "at most 1Gi"}], memory=STR),
                     {"memory": "2Gi"}, ['spec: Invalid value: "object": at most 1Gi'], id="quantity"),
        pytest.param(spec_with([{"rule": "self.replicas > 1",
                                 "messageExpression": "'replicas is ' + string(self.replicas) + ', need 2'"}],
                               replicas=INT),
                     {"replicas": 1}, ['spec: Invalid value: "object": replicas is 1, need 2'], id="messageExpression"),
        pytest.param(spec_with([{"rule": "self.replicas > 1", "message": "fallback",
                                 "messageExpression": "'x' + self.missing"}], replicas=INT),
                     {"replicas": 1}, ['spec: Invalid value: "object": fallback'],
                     id="a failing messageExpression falls back to message"),
        pytest.param(spec_with([{"rule": "self.replicas > 1", "messageExpression": "''"}], replicas=INT),
                     {"replicas": 1}, ['spec: Invalid value: "object": failed rule: self.replicas > 1'],
                     id="an empty messageExpression falls back to the rule"),
        pytest.param(spec_with([{"rule": "!has(self.secret)", "message": "do not set it",
                                 "reason": "FieldValueForbidden"}], secret=STR),
                     {"secret": "x"}, ["spec: Forbidden: do not set it"], id="reason Forbidden"),
        pytest.param(spec_with([{"rule": "has(self.name)", "message": "name is needed",
                                 "reason": "FieldValueRequired"}], name=STR),
                     {}, ["spec: Required value: name is needed"], id="reason Required"),
        pytest.param(spec_with([{"rule": "false", "message": "dropped by kube", "reason": "FieldValueDuplicate"}]),
                     {}, ['spec: Duplicate value: "object"'], id="reason Duplicate"),
        pytest.param(spec_with([{"rule": "self.min <= self.max", "message": "min above max", "fieldPath": ".max"}],
                               min=INT, max=INT),
                     {"min": 5, "max": 1}, ['spec.max: Invalid value: "object": min above max'], id="fieldPath"),
        pytest.param(spec_with([{"rule": "self.m.a != 'x'", "fieldPath": ".m['a']"}],
                               m={"type": "object", "additionalProperties": STR}),
                     {"m": {"a": "x"}}, ["spec.m[a]: Invalid value: \"object\": failed rule: self.m.a != 'x'"],
                     id="fieldPath into a map"),
        pytest.param(ITEMS, {"items": [{"name": "a", "size": 1}, {"name": "b", "size": 12}]},
                     ['spec.items[1]: Invalid value: "object": size must be below 10'], id="rule in an array item"),
        pytest.param({"type": "object", "properties": {"limits": {
            "type": "object", "additionalProperties": {"type": "string",
                                                      "x-kubernetes-validations": [{"rule": "isQuantity(self)"}]}}}},
                     {"limits": {"cpu": "1", "memory": "lots"}},
                     ['spec.limits[memory]: Invalid value: "string": failed rule: isQuantity(self)'],
                     id="rule in map values"),
        pytest.param(spec_with([{"rule": "self.x == 1", "message": "x must be 1"}], x=INT), {},
                     ['spec: Invalid value: "object": no such key: x evaluating rule: x must be 1'],
                     id="evaluation error"),
        pytest.param(spec_with([{"rule": "self.port + 'a' == 'b'"}], port={"x-kubernetes-int-or-string": True}),
                     {"port": 80},
                     ["spec: Invalid value: \"object\": 'no such overload': call arguments did not match a supported "
                      "operator, function or macro signature for rule: self.port + 'a' == 'b'"],
                     id="runtime overload error on a dynamic int-or-string"),
        pytest.param(spec_with([{"rule": "self.replicas"}], replicas=INT), {"replicas": 1},
                     ['spec: Invalid value: "object": cel expression must evaluate to a bool evaluating rule: '
                      "self.replicas"], id="a non-bool result"),
        pytest.param(spec_with([{"rule": "self.ratio > 0.5"}], ratio={"type": "number"}), {"ratio": 1}, [],
                     id="number fields are doubles even when written as integers"),
        pytest.param(spec_with([{"rule": "self.end > self.start", "message": "end before start"}],
                               start={"type": "string", "format": "date-time"},
                               end={"type": "string", "format": "date-time"}),
                     {"start": "2024-01-02T00:00:00Z", "end": "2024-01-01T00:00:00Z"},
                     ['spec: Invalid value: "object": end before start'], id="date-time strings are timestamps"),
        pytest.param(spec_with([{"rule": "self.timeout <= duration('1h')"}],
                               timeout={"type": "string", "format": "duration"}),
                     {"timeout": "90m"}, ["spec: Invalid value: \"object\": failed rule: self.timeout <= "
                                          "duration('1h')"], id="duration strings are durations"),
        pytest.param(spec_with([{"rule": "type(self.port) == int ? self.port > 0 : self.port.endsWith('%')"}],
                               port={"x-kubernetes-int-or-string": True}),
                     {"port": "50"}, ['spec: Invalid value: "object": failed rule: type(self.port) == int ? '
                                      "self.port > 0 : self.port.endsWith('%')"], id="int-or-string is dynamic"),
        pytest.param(spec_with([{"rule": "self.__namespace__ == 'a' && self.x__dash__y == 1 && "
                                 "self.a__dot__b == 2 && self.c__underscores__d == 3"}],
                               namespace=STR, **{"x-y": INT, "a.b": INT, "c__d": INT}),
                     {"namespace": "a", "x-y": 1, "a.b": 2, "c__d": 3}, [], id="escaped property names"),
        pytest.param({"type": "object", "properties": {"opt": {"type": "string", "nullable": True,
                                                               "x-kubernetes-validations": [{"rule": "false"}]}}},
                     {"opt": None}, [], id="null values are not validated"),
        pytest.param({"type": "object", "allOf": [{"x-kubernetes-validations": [{"rule": "self.a < 5"}]}],
                      "properties": {"a": INT}},
                     {"a": 9}, ['spec: Invalid value: "object": failed rule: self.a < 5'], id="rules under allOf"),
        pytest.param({"type": "object", "properties": {"template": {
            "type": "object", "x-kubernetes-embedded-resource": True, "x-kubernetes-preserve-unknown-fields": True,
            "x-kubernetes-validations": [{"rule": "self.kind == 'Pod' && self.metadata.name.startsWith('p')"}]}}},
                     {"template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p1"}}}, [],
                     id="embedded resources expose apiVersion, kind and metadata.name"),
    ],
)
def test_rules_fail_with_kube_field_errors(schema: dict[str, Any], new: Any, expected: list[str]) -> None:
    assert messages(validate_rules(obj(new), None, resource(schema))) == expected


def test_root_rules_report_the_nil_path_and_see_metadata_name_only() -> None:
    schema = resource({"type": "object"}, root_rules=[
        {"rule": "self.metadata.name.startsWith('my-')"},
        {"rule": "self.kind == 'Widget' && self.apiVersion == 'example.com/v1'"},
        {"rule": "self.metadata.labels.size() > 0"},
    ])
    assert messages(validate_rules(obj({}, labels={"a": "b"}), None, schema)) == [
        "<nil>: Invalid value: \"object\": failed rule: self.metadata.name.startsWith('my-')",
        '<nil>: Invalid value: "object": no such key: labels evaluating rule: self.metadata.labels.size() > 0',
    ]


IMMUTABLE = spec_with([], name={"type": "string", "x-kubernetes-validations": [
    {"rule": "self == oldSelf", "message": "Value is immutable"}]})


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(None, {"name": "a"}, [], id="create: no old value, the transition rule is skipped"),
        pytest.param({"name": "a"}, {"name": "a"}, [], id="update, unchanged"),
        pytest.param({"name": "a"}, {"name": "b"}, ['spec.name: Invalid value: "string": Value is immutable'],
                     id="update, changed"),
        pytest.param({}, {"name": "b"}, [], id="update, the field is new: no old value at this node"),
    ],
)
def test_transition_rules_run_only_where_an_old_value_exists(old: Any, new: Any, expected: list[str]) -> None:
    old_obj = None if old is None else obj(old)
    assert messages(validate_rules(obj(new), old_obj, resource(IMMUTABLE))) == expected


def keyed_items(list_type: str) -> dict[str, Any]:
    items = {"type": "object", "properties": {"name": STR, "size": INT}, "required": ["name"],
             "x-kubernetes-validations": [{"rule": "self.size >= oldSelf.size", "message": "size may only grow"}]}
    schema: dict[str, Any] = {"type": "array", "items": items, "x-kubernetes-list-type": list_type}
    if list_type == "map":
        schema["x-kubernetes-list-map-keys"] = ["name"]
    return {"type": "object", "properties": {"items": schema}}


def test_map_lists_correlate_old_items_by_key() -> None:
    old = obj({"items": [{"name": "a", "size": 5}, {"name": "b", "size": 5}]})
    new = obj({"items": [{"name": "b", "size": 6}, {"name": "c", "size": 1}, {"name": "a", "size": 4}]})
    assert messages(validate_rules(new, old, resource(keyed_items("map")))) == [
        'spec.items[2]: Invalid value: "object": size may only grow',
    ]


def test_atomic_lists_do_not_correlate_so_transition_rules_are_skipped() -> None:
    old = obj({"items": [{"name": "a", "size": 5}]})
    new = obj({"items": [{"name": "a", "size": 1}]})
    assert validate_rules(new, old, resource(keyed_items("atomic"))) == []


def test_map_values_correlate_by_key() -> None:
    schema = {"type": "object", "properties": {"m": {"type": "object", "additionalProperties": {
        "type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "frozen"}]}}}}
    errors = validate_rules(obj({"m": {"a": "1", "b": "2"}}), obj({"m": {"a": "1", "b": "3"}}), resource(schema))
    assert messages(errors) == ['spec.m[b]: Invalid value: "string": frozen']


def test_optional_old_self_runs_on_create_with_an_empty_optional() -> None:
    schema = spec_with([], name={"type": "string", "x-kubernetes-validations": [
        {"rule": "!oldSelf.hasValue() || self == oldSelf.value()", "optionalOldSelf": True, "message": "frozen"},
        {"rule": "oldSelf.hasValue() || self.startsWith('new-')", "optionalOldSelf": True, "message": "prefix"}]})
    assert messages(validate_rules(obj({"name": "x"}), None, resource(schema))) == [
        'spec.name: Invalid value: "string": prefix']
    assert messages(validate_rules(obj({"name": "x"}), obj({"name": "y"}), resource(schema))) == [
        'spec.name: Invalid value: "string": frozen']


def test_unchanged_values_ratchet_failures_into_warnings_on_update() -> None:
    schema = resource(spec_with([{"rule": "self.replicas < 5", "message": "too many"}], replicas=INT))
    stored = obj({"replicas": 9})  # valid when written, before the rule existed
    relabelled = copy.deepcopy(stored)
    relabelled["metadata"]["labels"] = {"touched": "yes"}
    warnings: list[str] = []
    assert validate_rules(relabelled, stored, schema, warnings=warnings) == []
    assert warnings == ['spec: Invalid value: "object": too many']


def test_changed_values_are_not_ratcheted() -> None:
    schema = resource(spec_with([{"rule": "self.replicas < 5", "message": "too many"}], replicas=INT))
    errors = validate_rules(obj({"replicas": 8}), obj({"replicas": 9}), schema)
    assert messages(errors) == ['spec: Invalid value: "object": too many']


def test_a_runaway_rule_is_bounded_and_stops_the_remaining_rules() -> None:
    schema = spec_with([
        {"rule": "self.l.all(x, self.l.all(y, self.l.all(z, x + y + z >= 0)))"},
        {"rule": "false", "message": "never reached"},
    ], l={"type": "array", "items": INT})
    started = time.monotonic()
    errors = validate_rules(obj({"l": list(range(500))}), None, resource(schema))
    assert time.monotonic() - started < 5
    assert messages(errors) == [
        "spec: Invalid value: \"object\": 'operation cancelled: actual cost limit exceeded': no further validation "
        "rules will be run due to call cost exceeds limit for rule: "
        "self.l.all(x, self.l.all(y, self.l.all(z, x + y + z >= 0)))",
    ]


def test_the_per_object_budget_stops_validation() -> None:
    schema = resource(ITEMS)
    errors = validate_rules(obj({"items": [{"name": str(i), "size": 1} for i in range(50)]}), None, schema,
                            cost_budget=20)
    assert len(errors) == 1
    assert errors[0].field.startswith("spec.items[") and errors[0].field != "spec.items[49]"
    assert errors[0].detail == "validation failed due to running out of cost budget, no further validation rules will be run"


def test_a_subtree_can_be_validated_at_its_own_path() -> None:
    errors = validate_rules({"replicas": 9, "maxReplicas": 1}, None, REPLICAS, path="spec")
    assert messages(errors) == ['spec: Invalid value: "object": replicas must not exceed maxReplicas']


def test_schemas_without_rules_cost_nothing() -> None:
    assert validate_rules(obj({"a": 1}), None, resource({"type": "object"})) == []


@pytest.mark.parametrize(
    ("name", "escaped"),
    [("replicas", "replicas"), ("namespace", "__namespace__"), ("x-y", "x__dash__y"), ("a.b/c", "a__dot__b__slash__c"),
     ("a__b", "a__underscores__b"), ("a_b", "a_b"), ("1st", None), ("a b", None)],
)
def test_property_names_are_escaped_as_kube_escapes_them(name: str, escaped: str | None) -> None:
    assert escape(name) == escaped


@pytest.mark.parametrize(
    ("field_path", "expected"),
    [(".a", "a"), (".a.b", "a.b"), ("['a'].b", "a.b"), (".m['k.1']", "m[k.1]"), (".nope", None), ("a", None),
     (".a.b.c", None)],
)
def test_field_paths_are_normalized_against_the_schema(field_path: str, expected: str | None) -> None:
    schema = {"type": "object", "properties": {
        "a": {"type": "object", "properties": {"b": INT}},
        "m": {"type": "object", "additionalProperties": STR}}}
    assert normalize_field_path(field_path, schema) == expected


SCHEMA_PATH = "spec.validation.openAPIV3Schema.properties[spec]"


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        pytest.param({"rule": "self.replicas > 1"}, [], id="a good rule"),
        pytest.param({"rule": "self.replicas >"}, [
            f"{SCHEMA_PATH}.x-kubernetes-validations[0].rule: Invalid value: apiextensions.ValidationRule{{"
            'Rule:"self.replicas >", Message:"", MessageExpression:"", '
            "Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:\"\", OptionalOldSelf:(*bool)(nil)}: "
            "compilation failed: ERROR: <input>:1:16: Syntax error: mismatched input '<EOF>'\n"
            " | self.replicas >\n | ...............^"], id="compilation failed"),
        pytest.param({"rule": "true", "messageExpression": "'a' +"}, [
            f"{SCHEMA_PATH}.x-kubernetes-validations[0].messageExpression: Invalid value: "
            'apiextensions.ValidationRule{Rule:"true", Message:"", MessageExpression:"\'a\' +", '
            "Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:\"\", OptionalOldSelf:(*bool)(nil)}: "
            "messageExpression compilation failed: ERROR: <input>:1:6: Syntax error: mismatched input '<EOF>'\n"
            " | 'a' +\n | .....^"], id="messageExpression compilation failed"),
        pytest.param({"rule": "  "}, [f"{SCHEMA_PATH}.x-kubernetes-validations[0].rule: Required value: "
                                      "rule is not specified"], id="empty rule"),
        pytest.param({"rule": "true", "message": "two\nlines"}, [
            f'{SCHEMA_PATH}.x-kubernetes-validations[0].message: Invalid value: "two\\nlines": '
            "message must not contain line breaks"], id="message with line breaks"),
        pytest.param({"rule": "true &&\ntrue"}, [
            f"{SCHEMA_PATH}.x-kubernetes-validations[0].message: Required value: "
            "message must be specified if rule contains line breaks"], id="multi-line rule without message"),
        pytest.param({"rule": "true", "reason": "Nope"}, [
            f'{SCHEMA_PATH}.x-kubernetes-validations[0].reason: Unsupported value: "Nope": supported values: '
            '"FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"'],
                     id="unsupported reason"),
        pytest.param({"rule": "true", "fieldPath": ".nope"}, [
            f'{SCHEMA_PATH}.x-kubernetes-validations[0].fieldPath: Invalid value: ".nope": '
            "fieldPath must be a valid path"], id="fieldPath naming no field"),
        pytest.param({"rule": "true", "optionalOldSelf": True}, [
            f"{SCHEMA_PATH}.x-kubernetes-validations[0].optionalOldSelf: Invalid value: true: "
            "may not be set if oldSelf is not used in rule"], id="optionalOldSelf without oldSelf"),
    ],
)
def test_crd_creation_checks_every_rule(rule: dict[str, Any], expected: list[str]) -> None:
    schema = resource(spec_with([rule], replicas=INT))
    assert messages(check_rules(schema)) == expected


def test_old_self_is_refused_inside_lists_that_do_not_correlate() -> None:
    schema = resource({"type": "object", "properties": {"l": {"type": "array", "items": {
        "type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf"}]}}}})
    assert messages(check_rules(schema)) == [
        f'{SCHEMA_PATH}.properties[l].items.x-kubernetes-validations[0].rule: Invalid value: "self == oldSelf": '
        f"oldSelf cannot be used on the uncorrelatable portion of the schema within {SCHEMA_PATH}.properties[l]"]
    assert check_rules(resource(keyed_items("map"))) == []


def test_per_version_schemas_report_their_own_path() -> None:
    errors = check_rules(resource(spec_with([{"rule": "nope("}])), path="spec.versions[1].schema.openAPIV3Schema")
    assert errors[0].field == ("spec.versions[1].schema.openAPIV3Schema.properties[spec]"
                               ".x-kubernetes-validations[0].rule")
