"""Label and field selectors: kube's grammar, matching and error messages."""

from __future__ import annotations

from typing import Any

import pytest

from machinery import (
    BadRequest,
    FieldRequirement,
    LabelSelector,
    Requirement,
    escape_field_value,
    label_selector_from_dict,
    label_selector_from_set,
    new_requirement,
    parse_field_selector,
    parse_label_selector,
    unescape_field_value,
    validate_label_selector,
)

KEY_NAME_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
    "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
    "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


def bad_request(text: str) -> str:
    with pytest.raises(BadRequest) as caught:
        parse_label_selector(text)
    assert caught.value.code == 400
    return caught.value.message


@pytest.mark.parametrize(
    ("text", "requirements"),
    [
        ("a=b", [Requirement("a", "=", ("b",))]),
        ("a==b", [Requirement("a", "==", ("b",))]),
        ("a!=b", [Requirement("a", "!=", ("b",))]),
        ("a=", [Requirement("a", "=", ("",))]),
        ("a in (y,x)", [Requirement("a", "in", ("x", "y"))]),
        ("a notin (x)", [Requirement("a", "notin", ("x",))]),
        ("a in (x,,y)", [Requirement("a", "in", ("", "x", "y"))]),
        ("a in ()", [Requirement("a", "in", ("",))]),
        ("a in (,)", [Requirement("a", "in", ("",))]),
        ("a", [Requirement("a", "exists")]),
        ("!a", [Requirement("a", "!")]),
        ("a>1", [Requirement("a", "gt", ("1",))]),
        ("a<10", [Requirement("a", "lt", ("10",))]),
        ("in in (in, notin)", [Requirement("in", "in", ("in", "notin"))]),
        ("  z = 1 ,\ta\n!= 2 ", [Requirement("a", "!=", ("2",)), Requirement("z", "=", ("1",))]),
        ("example.com/tier=web", [Requirement("example.com/tier", "=", ("web",))]),
        ("", []),
    ],
)
def test_label_selectors_parse_into_requirements_sorted_by_key(
    text: str, requirements: list[Requirement]
) -> None:
    assert parse_label_selector(text).requirements == tuple(requirements)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
        ("a!b", "unable to parse requirement: found '!', expected: in, notin, =, ==, !=, gt, lt"),
        ("a=b c", "found 'c', expected: ',' or 'end of string'"),
        ("=a", "found '=', expected: !, identifier, or 'end of string'"),
        ("a,", "found '', expected: identifier after ','"),
        ("a,,b", "found ',', expected: identifier after ','"),
        ("!", "unable to parse requirement: found '', expected: identifier"),
        ("a===b", "unable to parse requirement: found '=', expected: identifier"),
        ("a in b", "unable to parse requirement: found 'b' expected: '('"),
        ("a in (b", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("a in (b c)", "unable to parse requirement: found 'c', expected: ',' or ')'"),
        ("a in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"),
        ("a in (b,=)", "unable to parse requirement: found '=', expected: ',', or identifier"),
        ("app:web", f'unable to parse requirement: <nil>: Invalid value: "app:web": {KEY_NAME_MSG}'),
        ("a>b", "unable to parse requirement: values[0]: Invalid value: \"b\": "
                "for 'Gt', 'Lt' operators, the value must be an integer"),
        ("a=b/c", f'unable to parse requirement: values[0][a]: Invalid value: "b/c": {LABEL_VALUE_MSG}'),
        ("a=" + "v" * 64, 'unable to parse requirement: values[0][a]: Invalid value: "' + "v" * 64
                          + '": must be no more than 63 bytes'),
    ],
)
def test_malformed_label_selectors_are_bad_requests_with_kube_messages(text: str, message: str) -> None:
    assert bad_request(text) == message


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ("a=b", {"a": "b"}, True),
        ("a=b", {"a": "c"}, False),
        ("a=b", {}, False),
        ("a!=b", {"a": "c"}, True),
        ("a!=b", {}, True),
        ("a!=b", {"a": "b"}, False),
        ("a in (x,y)", {"a": "y"}, True),
        ("a in (x,y)", {}, False),
        ("a notin (x,y)", {"a": "z"}, True),
        ("a notin (x,y)", {"a": "x"}, False),
        ("a", {"a": ""}, True),
        ("a", {"b": "a"}, False),
        ("!a", {}, True),
        ("!a", {"a": ""}, False),
        ("a=", {"a": ""}, True),
        ("a=", {}, False),
        ("a>5", {"a": "6"}, True),
        ("a>5", {"a": "5"}, False),
        ("a<5", {"a": "-3"}, True),
        ("a>5", {"a": "six"}, False),
        ("a>5", {"a": "9223372036854775808"}, False),
        ("a<5", {}, False),
        ("a=b,c", {"a": "b", "c": "d"}, True),
        ("a=b,c", {"a": "b"}, False),
        ("", {"anything": "at all"}, True),
    ],
)
def test_label_selectors_match_kube_semantics(text: str, labels: dict[str, str], expected: bool) -> None:
    assert parse_label_selector(text).matches(labels) is expected


def test_notin_matches_objects_without_the_key() -> None:
    assert parse_label_selector("env notin (prod)").matches({"app": "web"})


def test_an_object_without_labels_matches_only_negative_requirements() -> None:
    assert parse_label_selector("!a, b notin (c)").matches(None)
    assert not parse_label_selector("a").matches(None)


def test_a_parsed_selector_prints_back_in_kube_syntax() -> None:
    selector = parse_label_selector("z notin (b,a), !y, x, w>1, v==2, u!=3")
    assert str(selector) == "u!=3,v==2,w>1,x,!y,z notin (a,b)"


def test_selectors_are_immutable_values() -> None:
    selector = parse_label_selector("a=b")
    assert selector == LabelSelector((Requirement("a", "=", ("b",)),))
    assert hash(selector) == hash(parse_label_selector("a = b"))
    with pytest.raises(AttributeError):
        selector.requirements = ()  # type: ignore[misc]


def test_requires_exact_match_reports_the_pinned_value() -> None:
    selector = parse_label_selector("a=b, c in (d), e in (f,g), h!=i")
    pinned = [selector.requires_exact_match(k) for k in ("a", "c", "e", "h", "zz")]
    assert pinned == ["b", "d", None, None, None]


def test_a_selector_from_a_set_matches_exactly_that_set() -> None:
    selector = label_selector_from_set({"b": "2", "a": "1"})
    assert str(selector) == "a=1,b=2"
    assert selector.matches({"a": "1", "b": "2", "c": "3"})
    assert not selector.matches({"a": "1"})
    assert label_selector_from_set({}).empty


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        (None, {}, False),
        (None, {"a": "b"}, False),
        ({}, {}, True),
        ({"matchLabels": {}, "matchExpressions": []}, {"x": "y"}, True),
        ({"matchLabels": {"app": "web"}}, {"app": "web", "tier": "fe"}, True),
        ({"matchLabels": {"app": "web"}}, {"app": "api"}, False),
        ({"matchExpressions": [{"key": "env", "operator": "In", "values": ["a", "b"]}]}, {"env": "b"}, True),
        ({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["a"]}]}, {}, True),
        ({"matchExpressions": [{"key": "env", "operator": "Exists"}]}, {"env": ""}, True),
        ({"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}, {"env": ""}, False),
        (
            {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "env", "operator": "Exists"}]},
            {"app": "web"},
            False,
        ),
    ],
)
def test_metav1_label_selectors_match_like_kube(
    selector: dict[str, Any] | None, labels: dict[str, str], expected: bool
) -> None:
    assert label_selector_from_dict(selector).matches(labels) is expected


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]},
         '"Gt" is not a valid label selector operator'),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]},
         "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"),
        ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
         'values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist'),
        ({"matchLabels": {"a b": "c"}}, f'key: Invalid value: "a b": {KEY_NAME_MSG}'),
        ({"matchExpressions": [{"key": "-k", "operator": "In", "values": []}]},
         f'[key: Invalid value: "-k": {KEY_NAME_MSG}, '
         "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty]"),
    ],
)
def test_invalid_metav1_label_selectors_are_bad_requests(selector: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        label_selector_from_dict(selector)
    assert caught.value.message == message


def test_new_requirement_rejects_unknown_operators_with_the_supported_list() -> None:
    with pytest.raises(BadRequest) as caught:
        new_requirement("a", "~", ["b"])
    assert caught.value.message == (
        'operator: Unsupported value: "~": supported values: '
        '"in", "notin", "=", "==", "!=", "gt", "lt", "exists", "!"'
    )


def test_validate_label_selector_reports_field_errors_for_objects() -> None:
    selector = {
        "matchLabels": {"app": "a b"},
        "matchExpressions": [
            {"key": "x", "operator": "In"},
            {"key": "y", "operator": "Exists", "values": ["z"]},
            {"key": "-w", "operator": "Near"},
        ],
    }
    assert [e.message() for e in validate_label_selector(selector, "spec.selector")] == [
        f'spec.selector.matchLabels: Invalid value: "a b": {LABEL_VALUE_MSG}',
        "spec.selector.matchExpressions[0].values: Required value: "
        "must be specified when `operator` is 'In' or 'NotIn'",
        "spec.selector.matchExpressions[1].values: Forbidden: "
        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        'spec.selector.matchExpressions[2].operator: Invalid value: "Near": not a valid selector operator',
        f'spec.selector.matchExpressions[2].key: Invalid value: "-w": {KEY_NAME_MSG}',
    ]


# --- field selectors ---


@pytest.mark.parametrize(
    ("text", "requirements"),
    [
        ("metadata.name=web", [FieldRequirement("metadata.name", "=", "web")]),
        ("metadata.name==web", [FieldRequirement("metadata.name", "=", "web")]),
        ("status.phase!=Running", [FieldRequirement("status.phase", "!=", "Running")]),
        ("spec.nodeName=", [FieldRequirement("spec.nodeName", "=", "")]),
        (
            "status.phase!=Failed,metadata.namespace=default",
            [
                FieldRequirement("metadata.namespace", "=", "default"),
                FieldRequirement("status.phase", "!=", "Failed"),
            ],
        ),
        (r"metadata.name=a\,b\=c\\d", [FieldRequirement("metadata.name", "=", "a,b=c\\d")]),
        ("a=b,,", [FieldRequirement("a", "=", "b")]),
        ("", []),
    ],
)
def test_field_selectors_parse_with_kube_escapes(text: str, requirements: list[FieldRequirement]) -> None:
    assert parse_field_selector(text).requirements == tuple(requirements)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"),
        ("a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'"),
        ("a=b=c", "invalid field selector: unescaped character in value: 61"),
        (r"a=b\,c,d=e\x", "invalid field selector: invalid escape sequence: \\x"),
        ("a=b\\", "invalid field selector: invalid escape sequence: \\"),
    ],
)
def test_malformed_field_selectors_are_bad_requests(text: str, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_field_selector(text)
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("text", "fields", "expected"),
    [
        ("metadata.name=web", {"metadata.name": "web"}, True),
        ("metadata.name=web", {"metadata.name": "api"}, False),
        ("spec.nodeName=", {}, True),
        ("spec.nodeName!=", {}, False),
        ("status.phase!=Running", {"status.phase": "Pending"}, True),
        ("a=1,b!=2", {"a": "1", "b": "3"}, True),
        ("a=1,b!=2", {"a": "1", "b": "2"}, False),
        ("", {"x": "y"}, True),
    ],
)
def test_field_selectors_treat_missing_fields_as_empty(
    text: str, fields: dict[str, str], expected: bool
) -> None:
    assert parse_field_selector(text).matches(fields) is expected


def test_field_selectors_expose_the_field_labels_they_use() -> None:
    selector = parse_field_selector("status.phase!=Running,metadata.name=a,metadata.name!=b")
    assert selector.fields == ("metadata.name", "status.phase")
    assert selector.requires_exact_match("metadata.name") == "a"
    assert selector.requires_exact_match("status.phase") is None


@pytest.mark.parametrize("value", ["", "plain", "a,b", "a=b", "back\\slash", "\\,=\\"])
def test_escaping_a_field_value_round_trips(value: str) -> None:
    assert unescape_field_value(escape_field_value(value)) == value
    assert parse_field_selector(f"f={escape_field_value(value)}").matches({"f": value})


def test_a_field_selector_prints_back_escaped() -> None:
    assert str(parse_field_selector(r"b!=x\,y,a=1")) == r"a=1,b!=x\,y"


def test_label_selector_with_an_operator_that_is_not_a_string_is_bad_request() -> None:
    from machinery import BadRequest, label_selector_from_dict

    with pytest.raises(BadRequest):
        label_selector_from_dict({"matchExpressions": [{"key": "tier", "operator": {"0": ""}, "values": ["x"]}]})
