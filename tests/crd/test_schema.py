"""The structural schema engine: kube's validation messages and paths, pruning and defaulting, keyword by keyword.

Expected messages follow kube-openapi and apiextensions (several are the very strings of
apiextensions-apiserver's own validation tests).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from crd import RULES_NOT_CHECKED, default, prune, validate
from crd.formats import check as format_check
from crd.gostr import go_float, go_json, go_quote
from crd.openapi import MAX_DEPTH
from machinery import FieldError, invalid

Schema = dict[str, Any]


def field(schema: Schema) -> Schema:
    """A root object with one property, `field`, as kube's own tests lay schemas out."""
    return {"type": "object", "properties": {"field": schema}}


def messages(errs: list[FieldError]) -> list[str]:
    return [e.message() for e in errs]


def check(schema: Schema, value: Any, **kwargs: Any) -> list[str]:
    return messages(validate({"field": value}, field(schema), **kwargs))


# --- type, nullable, int-or-string ---

TYPE_CASES = [
    ("integer takes an integer", {"type": "integer"}, 42, []),
    ("integer takes an integral float", {"type": "integer"}, 2.0, []),
    ("integer refuses a fraction", {"type": "integer"}, 1.5,
     ['field: Invalid value: "number": field in body must be of type integer: "number"']),
    ("integer refuses a string", {"type": "integer"}, "x",
     ['field: Invalid value: "string": field in body must be of type integer: "string"']),
    ("integer refuses a boolean", {"type": "integer"}, True,
     ['field: Invalid value: "boolean": field in body must be of type integer: "boolean"']),
    ("number takes an integer", {"type": "number"}, 3, []),
    ("number refuses a string", {"type": "number"}, "3",
     ['field: Invalid value: "string": field in body must be of type number: "string"']),
    ("boolean refuses 0", {"type": "boolean"}, 0,
     ['field: Invalid value: "integer": field in body must be of type boolean: "integer"']),
    ("string refuses an object", {"type": "string"}, {},
     ['field: Invalid value: "object": field in body must be of type string: "object"']),
    ("object refuses a string", {"type": "object"}, "foo",
     ['field: Invalid value: "string": field in body must be of type object: "string"']),
    ("object refuses an array", {"type": "object"}, [],
     ['field: Invalid value: "array": field in body must be of type object: "array"']),
    ("array refuses an object", {"type": "array", "items": {"type": "string"}}, {},
     ['field: Invalid value: "object": field in body must be of type array: "object"']),
    ("null needs nullable", {"type": "object"}, None,
     ['field: Invalid value: "null": field in body must be of type object: "null"']),
    ("nullable takes null", {"type": "object", "nullable": True}, None, []),
    ("no type takes anything", {"x-kubernetes-preserve-unknown-fields": True}, [1, "a"], []),
    ("int-or-string takes an integer", {"x-kubernetes-int-or-string": True}, 42, []),
    ("int-or-string takes a string", {"x-kubernetes-int-or-string": True}, "50%", []),
    ("int-or-string refuses a float", {"x-kubernetes-int-or-string": True}, 1.2,
     ['field: Invalid value: "number": field in body must be of type integer,string: "number"']),
    ("int-or-string refuses null", {"x-kubernetes-int-or-string": True}, None,
     ['field: Invalid value: "null": field in body must be of type integer,string: "null"']),
    ("int-or-string with kube's anyOf reports the best branch",
     {"nullable": True, "x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
     True,
     ['field: Invalid value: "boolean": field in body must be of type integer,string: "boolean"',
      '<nil>: Invalid value: "": "field" must validate at least one schema (anyOf)',
      'field: Invalid value: "boolean": field in body must be of type integer: "boolean"']),
    ("int-or-string with allOf-wrapped anyOf",
     {"nullable": True, "x-kubernetes-int-or-string": True,
      "allOf": [{"anyOf": [{"type": "integer"}, {"type": "string"}]}]},
     [],
     ['field: Invalid value: "array": field in body must be of type integer,string: "array"',
      '<nil>: Invalid value: "": "field" must validate at least one schema (anyOf)',
      'field: Invalid value: "array": field in body must be of type integer: "array"',
      '<nil>: Invalid value: "": "field" must validate all the schemas (allOf). None validated']),
]


@pytest.mark.parametrize(("schema", "value", "expected"), [c[1:] for c in TYPE_CASES], ids=[c[0] for c in TYPE_CASES])
def test_type_nullable_and_int_or_string(schema: Schema, value: Any, expected: list[str]) -> None:
    assert check(schema, value) == expected


def test_the_briefs_replicas_example() -> None:
    schema = {"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "replicas": {"type": "integer", "minimum": 1}}}}}
    assert messages(validate({"spec": {"replicas": "string"}}, schema)) == [
        'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"']
    assert messages(validate({"spec": {"replicas": 0}}, schema)) == [
        "spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1"]


# --- formats ---

FORMAT_CASES = [
    ("date-time", "2024-01-02T03:04:05Z", True),
    ("date-time", "2024-01-02T03:04:05.123+01:00", True),
    ("date-time", "2024-01-02 03:04:05", False),
    ("datetime", "yesterday", False),
    ("date", "2024-02-29", True),
    ("date", "2023-02-29", False),
    ("date", "2024-1-2", False),
    ("duration", "1h30m", True),
    ("duration", "-1.5s", True),
    ("duration", "3 days", True),  # strfmt's lenient fallback
    ("duration", "soon", False),
    ("byte", "aGVsbG8=", True),
    ("byte", "not base64!", False),
    ("uuid", "123e4567-e89b-12d3-a456-426614174000", True),
    ("uuid", "123e4567", False),
    ("uuid4", "123e4567-e89b-42d3-a456-426614174000", True),
    ("ipv4", "10.0.0.1", True),
    ("ipv4", "010.000.000.001", True),  # netutils' sloppy parser takes leading zeros
    ("ipv4", "::1", False),
    ("ipv6", "fe80::1", True),
    ("ipv6", "10.0.0.1", False),
    ("cidr", "10.0.0.0/8", True),
    ("cidr", "10.0.0.0/33", False),
    ("mac", "00:00:5e:00:53:01", True),
    ("mac", "00:00:5e", False),
    ("hostname", "example.com", True),
    ("hostname", "-bad-.com", False),
    ("uri", "https://example.com/x?y=1", True),
    ("uri", "relative/path", False),
    ("email", "someone@example.com", True),
    ("email", "no-at-sign", False),
    ("hexcolor", "#ff0000", True),
    ("rgbcolor", "rgb(255, 0, 0)", True),
    ("ssn", "123-45-6789", True),
    ("isbn10", "0321751043", True),
    ("isbn13", "978-0321751041", True),
    ("creditcard", "4111 1111 1111 1111", True),
    ("bsonobjectid", "507f1f77bcf86cd799439011", True),
    ("password", "anything at all", True),
    ("k8s-short-name", "a-", False),
    ("k8s-long-name", "a.b-c", True),
    ("k8s-long-name", "a.-", False),
]


@pytest.mark.parametrize(("fmt", "value", "valid"), FORMAT_CASES)
def test_format_checks(fmt: str, value: str, valid: bool) -> None:
    assert format_check(fmt, value) is valid
    expected = [] if valid else [f"field: Invalid value: {go_quote(value)}: field in body must be of type {fmt}: "
                                 f"{go_quote(value)}"]
    assert check({"type": "string", "format": fmt}, value) == expected


def test_unsupported_formats_are_ignored_as_kube_strips_them() -> None:
    assert check({"type": "integer", "format": "int32"}, 2**40) == []  # no range check in kube either
    assert check({"type": "number", "format": "double"}, 1.5) == []
    assert check({"type": "string", "format": "my-own-format"}, "whatever") == []


def test_a_string_format_on_a_number_reports_the_format() -> None:
    # kube-openapi's type validator: a supported format that the value's Go type doesn't carry
    assert check({"type": "string", "format": "date"}, 5) == [
        'field: Invalid value: "int64": field in body must be of type date: "int64"']


# --- enum ---

ENUM_CASES = [
    ("a listed string", {"type": "string", "enum": ["a", "b"]}, "a", []),
    ("an unlisted string", {"type": "string", "enum": ["a", "b"]}, "c",
     ['field: Unsupported value: "c": supported values: "a", "b"']),
    ("integers are listed as JSON", {"type": "integer", "enum": [1, 2]}, 3,
     ['field: Unsupported value: 3: supported values: "1", "2"']),
    ("an integral float matches an integer", {"type": "number", "enum": [1, 2]}, 2.0, []),
    ("an integer matches an integral float", {"type": "number", "enum": [1.0]}, 1, []),
    ("objects compare deeply", {"type": "object", "enum": [{"a": 1}]}, {"a": 1}, []),
    ("objects are listed as JSON", {"type": "object", "enum": [{"b": 2, "a": 1}]}, {"a": 2},
     ['field: Unsupported value: {"a":2}: supported values: "{\\"a\\":1,\\"b\\":2}"']),
    ("true is not 1", {"enum": [1], "x-kubernetes-preserve-unknown-fields": True}, True,
     ['field: Unsupported value: true: supported values: "1"']),
    ("null never matches", {"type": "string", "nullable": True, "enum": ["a"]}, None,
     ['field: Unsupported value: null: supported values: "a"']),
]


@pytest.mark.parametrize(("schema", "value", "expected"), [c[1:] for c in ENUM_CASES], ids=[c[0] for c in ENUM_CASES])
def test_enum(schema: Schema, value: Any, expected: list[str]) -> None:
    assert check(schema, value) == expected


def test_enum_and_type_errors_come_together_like_kubes() -> None:
    schema = {"type": "object", "required": ["nestedint", "nestedstring"], "properties": {
        "nestedint": {"type": "integer", "enum": [1, 2]},
        "nestedstring": {"type": "string", "enum": ["a", "b"]}}}
    assert sorted(check(schema, {"nestedint": "x", "nestedstring": True})) == [
        'field.nestedint: Invalid value: "string": field.nestedint in body must be of type integer: "string"',
        'field.nestedint: Unsupported value: "x": supported values: "1", "2"',
        'field.nestedstring: Invalid value: "boolean": field.nestedstring in body must be of type string: "boolean"',
        'field.nestedstring: Unsupported value: true: supported values: "a", "b"',
    ]
    assert check(schema, {}) == ["field.nestedint: Required value", "field.nestedstring: Required value"]


# --- numbers ---

NUMBER_CASES = [
    ("minimum", {"type": "integer", "minimum": 1}, 0,
     ["field: Invalid value: 0: field in body should be greater than or equal to 1"]),
    ("minimum met", {"type": "integer", "minimum": 1}, 1, []),
    ("exclusive minimum", {"type": "integer", "minimum": 1, "exclusiveMinimum": True}, 1,
     ["field: Invalid value: 1: field in body should be greater than 1"]),
    ("maximum", {"type": "integer", "maximum": 10}, 15,
     ["field: Invalid value: 15: field in body should be less than or equal to 10"]),
    ("exclusive maximum", {"type": "number", "maximum": 2.5, "exclusiveMaximum": True}, 2.5,
     ["field: Invalid value: 2.5: field in body should be less than 2.5"]),
    ("a float bound prints as Go's %v", {"type": "number", "maximum": 1000000}, 1000001.5,
     ["field: Invalid value: 1000001.5: field in body should be less than or equal to 1e+06"]),
    ("an integer compares with the bound truncated", {"type": "integer", "maximum": 2.5}, 3,
     ["field: Invalid value: 3: field in body should be less than or equal to 2"]),
    ("multipleOf an integer", {"type": "integer", "multipleOf": 5}, 12,
     ["field: Invalid value: 12: field in body should be a multiple of 5"]),
    ("multipleOf met", {"type": "integer", "multipleOf": 5}, -15, []),
    ("multipleOf a fraction", {"type": "number", "multipleOf": 0.5}, 1.25,
     ["field: Invalid value: 1.25: field in body should be a multiple of 0.5"]),
    ("multipleOf a fraction met", {"type": "number", "multipleOf": 0.1}, 0.3, []),
    ("bounds apply whatever the type", {"type": "string", "minimum": 5}, 1,
     ['field: Invalid value: "integer": field in body must be of type string: "integer"',
      "field: Invalid value: 1: field in body should be greater than or equal to 5"]),
]


@pytest.mark.parametrize(("schema", "value", "expected"), [c[1:] for c in NUMBER_CASES],
                         ids=[c[0] for c in NUMBER_CASES])
def test_numbers(schema: Schema, value: Any, expected: list[str]) -> None:
    assert check(schema, value) == expected


# --- strings ---

STRING_CASES = [
    ("maxLength", {"type": "string", "maxLength": 2}, "abc", ["field: Too long: may not be more than 2 bytes"]),
    ("maxLength of one", {"type": "string", "maxLength": 1}, "ab", ["field: Too long: may not be more than 1 byte"]),
    ("maxLength counts characters", {"type": "string", "maxLength": 5}, "héllo", []),
    ("minLength", {"type": "string", "minLength": 3}, "ab",
     ['field: Invalid value: "ab": field in body should be at least 3 chars long']),
    ("pattern", {"type": "string", "pattern": "^[a-z]+$"}, "ABC",
     ["field: Invalid value: \"ABC\": field in body should match '^[a-z]+$'"]),
    ("pattern is a search, not a full match", {"type": "string", "pattern": "[0-9]"}, "abc1", []),
    ("an invalid pattern", {"type": "string", "pattern": "+"}, "foo",
     ["field: Invalid value: \"foo\": field in body should match '+, but pattern is invalid: error parsing regexp: "
      "missing argument to repetition operator: `+`'"]),
    ("only the first string error", {"type": "string", "maxLength": 1, "pattern": "^x$"}, "abc",
     ["field: Too long: may not be more than 1 byte"]),
]


@pytest.mark.parametrize(("schema", "value", "expected"), [c[1:] for c in STRING_CASES],
                         ids=[c[0] for c in STRING_CASES])
def test_strings(schema: Schema, value: Any, expected: list[str]) -> None:
    assert check(schema, value) == expected


# --- arrays ---

ARRAY_CASES = [
    ("items are validated with their index", {"type": "array", "items": {"type": "integer"}}, [1, "two", 3],
     ['field[1]: Invalid value: "string": field[1] in body must be of type integer: "string"']),
    ("nested items", {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
     [{"name": "a"}, {"name": 2}],
     ['field[1].name: Invalid value: "integer": field[1].name in body must be of type string: "integer"']),
    ("minItems", {"type": "array", "minItems": 1, "items": {"type": "string"}}, [],
     ["field: Invalid value: 0: field in body should have at least 1 items"]),
    ("maxItems", {"type": "array", "maxItems": 2, "items": {"type": "string"}}, ["a", "b", "c"],
     ["field: Too many: 3: must have at most 2 items"]),
    ("maxItems of one", {"type": "array", "maxItems": 1, "items": {"type": "string"}}, ["a", "b"],
     ["field: Too many: 2: must have at most 1 item"]),
    ("uniqueItems", {"type": "array", "uniqueItems": True, "items": {"type": "integer"}}, [1, 2, 1],
     ['field: Invalid value: "": field in body shouldn\'t contain duplicates']),
    ("uniqueItems tells 1 from 1.0", {"type": "array", "uniqueItems": True, "items": {"type": "number"}}, [1, 1.0],
     []),
]


@pytest.mark.parametrize(("schema", "value", "expected"), [c[1:] for c in ARRAY_CASES], ids=[c[0] for c in ARRAY_CASES])
def test_arrays(schema: Schema, value: Any, expected: list[str]) -> None:
    assert check(schema, value) == expected


# --- objects ---

OBJECT_CASES = [
    ("required", {"type": "object", "required": ["nested"], "properties": {"nested": {"type": "string"}}}, {},
     ["field.nested: Required value"]),
    ("required takes null as present", {"type": "object", "required": ["a"], "properties": {
        "a": {"type": "string", "nullable": True}}}, {"a": None}, []),
    ("minProperties", {"type": "object", "minProperties": 2, "additionalProperties": {"type": "string"}},
     {"a": "x"}, ["field: Invalid value: 1: field in body should have at least 2 properties"]),
    ("maxProperties", {"type": "object", "maxProperties": 2, "additionalProperties": {"type": "boolean"}},
     {"a": True, "b": True, "c": True}, ["field: Too many: 3: must have at most 2 items"]),
    ("additionalProperties schema", {"type": "object", "additionalProperties": {"type": "integer"}},
     {"a": 1, "b": "x"}, ['field.b: Invalid value: "string": field.b in body must be of type integer: "string"']),
    ("additionalProperties false", {"type": "object", "additionalProperties": False}, {"a": 1},
     ['field: Invalid value: "a": field.a in body is a forbidden property']),
    ("additionalProperties true", {"type": "object", "additionalProperties": True}, {"a": [1]}, []),
    ("unknown properties are no validation error", {"type": "object", "properties": {"a": {"type": "string"}}},
     {"b": 1}, []),
]


@pytest.mark.parametrize(("schema", "value", "expected"), [c[1:] for c in OBJECT_CASES],
                         ids=[c[0] for c in OBJECT_CASES])
def test_objects(schema: Schema, value: Any, expected: list[str]) -> None:
    assert check(schema, value) == expected


def test_root_required_fields_have_no_leading_dot() -> None:
    schema = {"type": "object", "required": ["spec"], "properties": {"spec": {"type": "object"}}}
    assert messages(validate({"apiVersion": "a/v1"}, schema)) == ["spec: Required value"]


# --- allOf, anyOf, oneOf, not ---

COMPOSITION_CASES = [
    ("anyOf met", {"anyOf": [{"minimum": 5}, {"maximum": 1}]}, 0, []),
    ("anyOf failed reports the closest branch", {"type": "integer", "anyOf": [{"minimum": 5}, {"maximum": 1}]}, 3,
     ['<nil>: Invalid value: "": "field" must validate at least one schema (anyOf)',
      "field: Invalid value: 3: field in body should be greater than or equal to 5"]),
    ("oneOf met once", {"type": "integer", "oneOf": [{"minimum": 5}, {"maximum": 1}]}, 7, []),
    ("oneOf met twice", {"type": "integer", "oneOf": [{"minimum": 5}, {"minimum": 6}]}, 7,
     ['<nil>: Invalid value: "": "field" must validate one and only one schema (oneOf). Found 2 valid alternatives']),
    ("oneOf met by none", {"type": "integer", "oneOf": [{"minimum": 5}, {"minimum": 6}]}, 1,
     ['<nil>: Invalid value: "": "field" must validate one and only one schema (oneOf). Found none valid',
      "field: Invalid value: 1: field in body should be greater than or equal to 5"]),
    ("allOf with one branch failing", {"type": "integer", "allOf": [{"minimum": 5}, {"maximum": 10}]}, 11,
     ["field: Invalid value: 11: field in body should be less than or equal to 10",
      '<nil>: Invalid value: "": "field" must validate all the schemas (allOf)']),
    ("not", {"type": "string", "not": {"enum": ["forbidden"]}}, "forbidden",
     ['<nil>: Invalid value: "": "field" must not validate the schema (not)']),
    ("not met", {"type": "string", "not": {"enum": ["forbidden"]}}, "fine", []),
    ("required in a junctor", {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                               "oneOf": [{"required": ["a"]}, {"required": ["b"]}]}, {"a": "x", "b": "y"},
     ['<nil>: Invalid value: "": "field" must validate one and only one schema (oneOf). Found 2 valid alternatives']),
]


@pytest.mark.parametrize(("schema", "value", "expected"), [c[1:] for c in COMPOSITION_CASES],
                         ids=[c[0] for c in COMPOSITION_CASES])
def test_composition(schema: Schema, value: Any, expected: list[str]) -> None:
    assert check(schema, value) == expected


def test_a_path_prefix_reports_under_it_but_messages_stay_relative() -> None:
    # kube validates the status subresource with fldPath "status" and the status schema
    status = {"type": "object", "properties": {"num": {"type": "integer", "maximum": 10}},
              "anyOf": [{"required": ["num"]}]}
    assert messages(validate({"num": 15}, status, path="status")) == [
        "status.num: Invalid value: 15: num in body should be less than or equal to 10"]
    assert messages(validate({}, status, path="status")) == [
        'status: Invalid value: "": "" must validate at least one schema (anyOf)',
        "status.num: Required value"]


# --- x-kubernetes-embedded-resource ---

EMBEDDED = {"type": "object", "x-kubernetes-embedded-resource": True, "x-kubernetes-preserve-unknown-fields": True}

EMBEDDED_CASES = [
    ("a complete embedded object", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}, []),
    ("apiVersion and kind are required, metadata is not", {},
     ["field.apiVersion: Required value", "field.kind: Required value"]),
    ("kind may have mixed case but no dots", {"apiVersion": "v1", "kind": "foo.bar-com"},
     ['field.kind: Invalid value: "foo.bar-com": may have mixed case, but should otherwise match: a DNS-1035 label '
      "must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with "
      "an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is "
      "'[a-z]([-a-z0-9]*[a-z0-9])?')"]),
    ("apiVersion with two slashes", {"apiVersion": "a/b/c", "kind": "K"},
     ['field.apiVersion: Invalid value: "a/b/c": unexpected GroupVersion string: a/b/c']),
    ("empty kind", {"apiVersion": "v1", "kind": ""}, ['field.kind: Invalid value: "": must not be empty']),
    ("metadata names are path segments", {"apiVersion": "v1", "kind": "K", "metadata": {"name": ".."}},
     ["field.metadata.name: Invalid value: \"..\": may not be '..'"]),
    ("metadata that doesn't decode", {"apiVersion": "v1", "kind": "K", "metadata": "x"},
     ['field.metadata: Invalid value: "x": json: cannot unmarshal string into Go value of type v1.ObjectMeta']),
]


@pytest.mark.parametrize(("value", "expected"), [c[1:] for c in EMBEDDED_CASES], ids=[c[0] for c in EMBEDDED_CASES])
def test_embedded_resources(value: Any, expected: list[str]) -> None:
    assert check(EMBEDDED, value) == expected


def test_embedded_resources_in_maps_are_addressed_by_key() -> None:
    schema = {"type": "object", "additionalProperties": EMBEDDED}
    assert check(schema, {"foo": {}}) == ["field[foo].apiVersion: Required value", "field[foo].kind: Required value"]


def test_the_roots_own_metadata_is_left_to_the_api_server() -> None:
    assert messages(validate({"metadata": {"name": "Not Valid"}}, {"type": "object"})) == []


# --- x-kubernetes-list-type, x-kubernetes-map-type, preserve-unknown-fields ---

SET = {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}}
MAP = {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
       "items": {"type": "object", "properties": {"name": {"type": "string"}, "port": {"type": "integer"}}}}
MAP2 = {**MAP, "x-kubernetes-list-map-keys": ["name", "port"]}

LIST_TYPE_CASES = [
    ("atomic lists may repeat", {"type": "array", "x-kubernetes-list-type": "atomic", "items": {"type": "string"}},
     ["a", "a"], []),
    ("sets may not", SET, ["a", "b", "a", "a", "b"],
     ['field[2]: Duplicate value: "a"', 'field[4]: Duplicate value: "b"']),
    ("sets tell 1 from 1.0", {**SET, "items": {"type": "number"}}, [1, 1.0], []),
    ("map keys are unique", MAP, [{"name": "a", "port": 1}, {"name": "a", "port": 2}],
     ['field[1]: Duplicate value: {"name":"a"}']),
    ("a missing key counts as one key", MAP, [{"port": 1}, {"port": 2}], ["field[1]: Duplicate value: {}"]),
    ("composite keys", MAP2, [{"name": "a", "port": 1}, {"name": "a", "port": 2}, {"name": "a", "port": 1}],
     ['field[2]: Duplicate value: {"name":"a","port":1}']),
    ("map items must be objects", MAP, ["x"],
     ['field[0]: Invalid value: "string": field[0] in body must be of type object: "string"',
      'field[0]: Invalid value: "x": must be an object for an array of list-type map']),
    ("map-type changes nothing in validation", {"type": "object", "x-kubernetes-map-type": "atomic",
                                                "additionalProperties": {"type": "string"}}, {"a": "b"}, []),
    ("preserve-unknown-fields changes nothing in validation", {
        "type": "object", "x-kubernetes-preserve-unknown-fields": True,
        "properties": {"a": {"type": "integer"}}}, {"a": "x", "b": 1},
     ['field.a: Invalid value: "string": field.a in body must be of type integer: "string"']),
]


@pytest.mark.parametrize(("schema", "value", "expected"), [c[1:] for c in LIST_TYPE_CASES],
                         ids=[c[0] for c in LIST_TYPE_CASES])
def test_list_and_map_types(schema: Schema, value: Any, expected: list[str]) -> None:
    assert check(schema, value) == expected


def test_list_type_errors_in_maps_are_addressed_by_key() -> None:
    schema = {"type": "object", "additionalProperties": SET}
    assert check(schema, {"k": ["a", "a"]}) == ['field[k][1]: Duplicate value: "a"']


# --- updates: ratcheting ---

def test_an_unchanged_invalid_value_is_ratcheted_on_update() -> None:
    schema = field({"type": "object", "properties": {"a": {"type": "integer", "maximum": 5},
                                                     "b": {"type": "string", "maxLength": 2}}})
    old = {"field": {"a": 10, "b": "ok"}}
    assert messages(validate({"field": {"a": 10, "b": "no"}}, schema, old=old)) == []
    assert messages(validate({"field": {"a": 11, "b": "ok"}}, schema, old=old)) == [
        "field.a: Invalid value: 11: field.a in body should be less than or equal to 5"]
    assert messages(validate({"field": {"a": 10, "b": "no"}}, schema)) == [
        "field.a: Invalid value: 10: field.a in body should be less than or equal to 5"]


def test_ratcheting_follows_list_map_keys_but_not_atomic_lists() -> None:
    item = {"type": "object", "properties": {"name": {"type": "string"}, "v": {"type": "integer", "maximum": 1}}}
    as_map = field({"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                    "items": item})
    atomic = field({"type": "array", "items": item})
    old = {"field": [{"name": "a", "v": 5}]}
    new = {"field": [{"name": "b", "v": 0}, {"name": "a", "v": 5}]}
    assert messages(validate(new, as_map, old=old)) == []
    assert messages(validate(new, atomic, old=old)) == [
        "field[1].v: Invalid value: 5: field[1].v in body should be less than or equal to 1"]


def test_list_type_duplicates_already_stored_are_not_reported_again() -> None:
    old = {"field": ["a", "a"]}
    assert messages(validate({"field": ["a", "a", "b"]}, field(SET), old=old)) == []
    assert messages(validate({"field": ["b", "b"]}, field(SET), old={"field": []})) == [
        'field[1]: Duplicate value: "b"']


# --- the CEL hook ---

RULED = field({"type": "integer", "x-kubernetes-validations": [{"rule": "self > 0"}]})


def test_the_rules_validator_sees_object_old_and_schema() -> None:
    seen: list[tuple[Any, Any, Schema]] = []

    def rules(obj: Any, old: Any, schema: Schema) -> list[FieldError]:
        seen.append((obj, old, schema))
        return [invalid("field", obj["field"], "failed rule: self > 0")]

    assert messages(validate({"field": -1}, RULED, old={"field": 1}, rules_validator=rules)) == [
        "field: Invalid value: -1: failed rule: self > 0"]
    assert seen == [({"field": -1}, {"field": 1}, RULED)]


def test_rules_are_not_run_on_an_object_with_blocking_errors() -> None:
    def rules(obj: Any, old: Any, schema: Schema) -> list[FieldError]:
        raise AssertionError("must not run")

    assert messages(validate({"field": "x"}, RULED, rules_validator=rules)) == [
        'field: Invalid value: "string": field in body must be of type integer: "string"',
        f"<nil>: Invalid value: null: {RULES_NOT_CHECKED}"]


def test_rules_are_not_run_for_a_schema_without_rules() -> None:
    def rules(obj: Any, old: Any, schema: Schema) -> list[FieldError]:
        raise AssertionError("must not run")

    assert validate({"field": 1}, field({"type": "integer"}), rules_validator=rules) == []


# --- depth ---

def _nested(depth: int, leaf: Any) -> tuple[Schema, Any]:
    schema: Schema = {"type": "integer"}
    value = leaf
    for _ in range(depth):
        schema = {"type": "object", "properties": {"a": schema}, "x-kubernetes-preserve-unknown-fields": True}
        value = {"a": value}
    return schema, value


def test_deep_objects_are_bounded_not_a_recursion_error() -> None:
    schema, value = _nested(MAX_DEPTH + 50, "x")
    errs = validate(value, schema)
    assert errs and errs[0].type == "FieldValueForbidden"
    assert errs[0].detail == f"must not nest deeper than {MAX_DEPTH} levels"
    assert prune(value, schema) == value
    assert default(value, schema) == value


def test_deep_but_allowed_objects_validate() -> None:
    schema, value = _nested(150, "x")
    [err] = validate(value, schema)
    assert err.field == ".".join(["a"] * 150)


# --- pruning ---

SPEC = {"type": "object", "properties": {
    "spec": {"type": "object", "properties": {
        "replicas": {"type": "integer"},
        "template": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                     "properties": {"known": {"type": "object", "properties": {"x": {"type": "string"}}}}},
        "labels": {"type": "object", "additionalProperties": {"type": "object", "properties": {
            "v": {"type": "string"}}}},
        "anything": {"type": "object", "additionalProperties": True},
        "items": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
        "port": {"x-kubernetes-int-or-string": True},
        "embedded": {"type": "object", "x-kubernetes-embedded-resource": True,
                     "properties": {"spec": {"type": "object", "properties": {"a": {"type": "string"}}}}},
        "maybe": {"type": "string", "nullable": True},
        "defaulted": {"type": "string", "default": "d"},
    }},
}}

PRUNE_CASES = [
    ("unknown fields go", {"spec": {"replicas": 1, "junk": 2}, "junk": 3}, {"spec": {"replicas": 1}}),
    ("the root keeps apiVersion, kind and metadata", {"apiVersion": "x/v1", "kind": "X", "metadata": {"junk": 1}},
     {"apiVersion": "x/v1", "kind": "X", "metadata": {"junk": 1}}),
    ("preserve-unknown-fields keeps unknown fields", {"spec": {"template": {"free": {"form": 1}}}},
     {"spec": {"template": {"free": {"form": 1}}}}),
    ("and still prunes the known ones", {"spec": {"template": {"known": {"x": "a", "y": "b"}}}},
     {"spec": {"template": {"known": {"x": "a"}}}}),
    ("map values are pruned by additionalProperties", {"spec": {"labels": {"a": {"v": "1", "w": "2"}}}},
     {"spec": {"labels": {"a": {"v": "1"}}}}),
    ("additionalProperties true keeps keys but empties their objects",
     {"spec": {"anything": {"a": {"deep": 1}, "b": 2}}}, {"spec": {"anything": {"a": {}, "b": 2}}}),
    ("array items are pruned", {"spec": {"items": [{"name": "a", "x": 1}, {"y": 2}]}},
     {"spec": {"items": [{"name": "a"}, {}]}}),
    ("int-or-string scalars stay", {"spec": {"port": "http"}}, {"spec": {"port": "http"}}),
    ("embedded resources keep apiVersion, kind and ObjectMeta fields",
     {"spec": {"embedded": {"apiVersion": "v1", "kind": "K", "metadata": {"name": "n", "junk": 1, "labels": {}},
                            "spec": {"a": "x", "b": "y"}, "status": {}}}},
     {"spec": {"embedded": {"apiVersion": "v1", "kind": "K", "metadata": {"name": "n"}, "spec": {"a": "x"}}}}),
    ("non-nullable nulls without a default go", {"spec": {"replicas": None}}, {"spec": {}}),
    ("nullable nulls stay", {"spec": {"maybe": None}}, {"spec": {"maybe": None}}),
    ("nulls with a default stay for defaulting", {"spec": {"defaulted": None}}, {"spec": {"defaulted": None}}),
]


@pytest.mark.parametrize(("obj", "expected"), [c[1:] for c in PRUNE_CASES], ids=[c[0] for c in PRUNE_CASES])
def test_pruning(obj: Any, expected: Any) -> None:
    original = copy.deepcopy(obj)
    assert prune(obj, SPEC) == expected
    assert obj == original  # pure


def test_pruning_below_the_root_prunes_type_meta_too() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    assert prune({"apiVersion": "v1", "a": "x", "b": 1}, schema, resource_root=False) == {"a": "x"}


def test_nulls_can_be_kept() -> None:
    assert prune({"spec": {"replicas": None}}, SPEC, drop_nulls=False) == {"spec": {"replicas": None}}


# --- defaulting ---

DEFAULTS = {"type": "object", "properties": {
    "spec": {"type": "object", "default": {}, "properties": {
        "replicas": {"type": "integer", "default": 1},
        "mode": {"type": "string", "default": "auto"},
        "nullable": {"type": "string", "nullable": True, "default": "n"},
        "limits": {"type": "object", "properties": {"cpu": {"type": "string", "default": "1"}}},
        "ports": {"type": "array", "items": {"type": "object", "default": {"port": 80}, "properties": {
            "port": {"type": "integer"}, "protocol": {"type": "string", "default": "TCP"}}}},
        "env": {"type": "object", "additionalProperties": {"type": "object", "properties": {
            "value": {"type": "string", "default": "v"}}}},
        "pruned": {"type": "object", "default": {"keep": 1, "drop": 2}, "properties": {"keep": {"type": "integer"}}},
        "free": {"type": "object", "default": {"any": {"thing": 1}}, "x-kubernetes-preserve-unknown-fields": True},
    }},
}}

DEFAULT_CASES = [
    ("absent fields get their default", {"spec": {}},
     {"spec": {"replicas": 1, "mode": "auto", "nullable": "n", "pruned": {"keep": 1}, "free": {"any": {"thing": 1}}}}),
    ("a default object is defaulted inside", {},
     {"spec": {"replicas": 1, "mode": "auto", "nullable": "n", "pruned": {"keep": 1}, "free": {"any": {"thing": 1}}}}),
    ("set fields stay", {"spec": {"replicas": 3, "mode": "manual", "nullable": "x", "pruned": {}, "free": {}}},
     {"spec": {"replicas": 3, "mode": "manual", "nullable": "x", "pruned": {}, "free": {}}}),
    ("null non-nullable fields get their default", {"spec": {"replicas": None, "mode": "m", "nullable": "x",
                                                             "pruned": {}, "free": {}}},
     {"spec": {"replicas": 1, "mode": "m", "nullable": "x", "pruned": {}, "free": {}}}),
    ("null nullable fields stay null", {"spec": {"replicas": 2, "mode": "m", "nullable": None, "pruned": {},
                                                 "free": {}}},
     {"spec": {"replicas": 2, "mode": "m", "nullable": None, "pruned": {}, "free": {}}}),
]


@pytest.mark.parametrize(("obj", "expected"), [c[1:] for c in DEFAULT_CASES], ids=[c[0] for c in DEFAULT_CASES])
def test_defaulting(obj: Any, expected: Any) -> None:
    original = copy.deepcopy(obj)
    assert default(obj, DEFAULTS) == expected
    assert obj == original  # pure


def _spec_default(spec: dict[str, Any]) -> dict[str, Any]:
    base = {"replicas": 1, "mode": "a", "nullable": "n", "pruned": {}, "free": {}}
    result: dict[str, Any] = default({"spec": {**base, **spec}}, DEFAULTS)["spec"]
    return {k: v for k, v in result.items() if k not in base}


def test_nothing_is_created_under_an_absent_parent() -> None:
    assert _spec_default({}) == {}
    assert _spec_default({"limits": {}}) == {"limits": {"cpu": "1"}}


def test_array_items_are_defaulted_and_null_items_replaced() -> None:
    assert _spec_default({"ports": [{"port": 8080}, None]}) == {
        "ports": [{"port": 8080, "protocol": "TCP"}, {"port": 80, "protocol": "TCP"}]}


def test_map_values_are_defaulted() -> None:
    assert _spec_default({"env": {"A": {}, "B": {"value": "b"}}}) == {"env": {"A": {"value": "v"}, "B": {"value": "b"}}}


def test_defaults_are_pruned_except_under_preserve_unknown_fields() -> None:
    spec = default({"spec": {"replicas": 1, "mode": "a", "nullable": "n"}}, DEFAULTS)["spec"]
    assert spec["pruned"] == {"keep": 1}
    assert spec["free"] == {"any": {"thing": 1}}


def test_defaults_are_copies() -> None:
    first = default({}, DEFAULTS)
    first["spec"]["free"]["any"]["thing"] = 2
    assert default({}, DEFAULTS)["spec"]["free"] == {"any": {"thing": 1}}
    assert DEFAULTS["properties"]["spec"]["properties"]["free"]["default"] == {"any": {"thing": 1}}


def test_root_metadata_defaults_are_not_pruned() -> None:
    schema = {"type": "object", "properties": {"metadata": {"type": "object", "properties": {
        "name": {"type": "string", "default": "n"}}}}}
    assert default({"metadata": {}}, schema) == {"metadata": {"name": "n"}}


# --- Go's formatting ---

@pytest.mark.parametrize(("value", "shown"), [
    (1.0, "1"), (1.5, "1.5"), (123456.0, "123456"), (1e6, "1e+06"), (1234567.0, "1.234567e+06"), (1e-5, "1e-05"),
    (0.0001, "0.0001"), (-2.5, "-2.5"), (1e21, "1e+21"),
])
def test_go_float_is_fmts_v(value: float, shown: str) -> None:
    assert go_float(value) == shown


def test_go_json_sorts_keys_and_escapes_html() -> None:
    assert go_json({"b": 1.0, "a": ["<x>", None, True]}) == '{"a":["\\u003cx\\u003e",null,true],"b":1}'
    assert go_quote('a"b\\c\n\x01é') == '"a\\"b\\\\c\\n\\x01é"'


# --- Go's regexp ---

@pytest.mark.parametrize(("pattern", "message"), [
    ("+", "error parsing regexp: missing argument to repetition operator: `+`"),
    ("(a", "error parsing regexp: missing closing ): `(a`"),
    ("[a", "error parsing regexp: missing closing ]: `[a`"),
    ("(?=x)", "error parsing regexp: invalid or unsupported Perl syntax: `(?=`"),
    ("(a)\\1", "error parsing regexp: invalid escape sequence: `\\1`"),
])
def test_patterns_are_refused_with_gos_messages_with_or_without_re2(pattern: str, message: str) -> None:
    from crd import goregex

    compilers = [goregex._compile_re] + ([goregex._compile_re2] if goregex._re2 is not None else [])
    for compile_ in compilers:
        with pytest.raises(goregex.PatternError) as refused:
            compile_(pattern)
        assert str(refused.value) == message
