"""kube's name, label and object-meta validation, message for message."""

from __future__ import annotations

from typing import Any

import pytest

from machinery import (
    BadRequest,
    FieldError,
    effective_namespace,
    is_c_identifier,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_path_segment_name,
    is_qualified_name,
    is_valid_label_value,
    validate_annotations,
    validate_finalizers,
    validate_labels,
    validate_name,
    validate_object_meta,
    validate_object_meta_update,
    validate_owner_references,
)

SUBDOMAIN_REGEX_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation "
    r"is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_REGEX_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
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


def messages(errors: list[FieldError]) -> list[str]:
    return [e.message() for e in errors]


def type_error(path: str, expected: str, actual: str) -> str:
    """How kube's schema validator words a value of the wrong JSON type."""
    return f'{path}: Invalid value: "{actual}": {path} in body must be of type {expected}: "{actual}"'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("example.com", []),
        ("a", []),
        ("0.a-b.c9", []),
        ("a" * 253, []),
        ("", [SUBDOMAIN_REGEX_MSG]),
        ("Example.com", [SUBDOMAIN_REGEX_MSG]),
        ("a_b", [SUBDOMAIN_REGEX_MSG]),
        ("-a", [SUBDOMAIN_REGEX_MSG]),
        ("a.", [SUBDOMAIN_REGEX_MSG]),
        ("a..b", [SUBDOMAIN_REGEX_MSG]),
        ("a\n", [SUBDOMAIN_REGEX_MSG]),
        ("a" * 254, ["must be no more than 253 characters"]),
        ("A" * 254, ["must be no more than 253 characters", SUBDOMAIN_REGEX_MSG]),
    ],
)
def test_dns1123_subdomain_reports_kube_messages(value: str, expected: list[str]) -> None:
    assert is_dns1123_subdomain(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("my-name", []),
        ("123-abc", []),
        ("a" * 63, []),
        ("a.b", ["must not contain dots"]),
        ("My-name", [LABEL_REGEX_MSG]),
        ("a-", [LABEL_REGEX_MSG]),
        ("", [LABEL_REGEX_MSG]),
        ("a" * 64, ["must be no more than 63 characters"]),
    ],
)
def test_dns1123_label_reports_kube_messages(value: str, expected: list[str]) -> None:
    assert is_dns1123_label(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("MyName", []),
        ("my.name", []),
        ("123-abc", []),
        ("example.com/MyName", []),
        ("kubernetes.io/metadata.name", []),
        ("a" * 63, []),
        ("", ["name part must be non-empty", KEY_NAME_MSG]),
        ("-a", [KEY_NAME_MSG]),
        ("a b", [KEY_NAME_MSG]),
        ("a" * 64, ["name part must be no more than 63 bytes"]),
        ("/a", ["prefix part must be non-empty"]),
        ("example.com/", ["name part must be non-empty", KEY_NAME_MSG]),
        ("Example.com/a", ["prefix part " + SUBDOMAIN_REGEX_MSG]),
        ("a" * 254 + "/a", ["prefix part must be no more than 253 bytes"]),
        (
            "a/b/c",
            [
                "a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must "
                "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
                "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') "
                "with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            ],
        ),
    ],
)
def test_qualified_name_checks_prefix_and_name_parts(value: str, expected: list[str]) -> None:
    assert is_qualified_name(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", []),
        ("MyValue", []),
        ("my_value", []),
        ("12345", []),
        ("a" * 63, []),
        ("a b", [LABEL_VALUE_MSG]),
        ("-a", [LABEL_VALUE_MSG]),
        ("a" * 64, ["must be no more than 63 bytes"]),
        ("é", [LABEL_VALUE_MSG]),
    ],
)
def test_label_value_may_be_empty_but_not_malformed(value: str, expected: list[str]) -> None:
    assert is_valid_label_value(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("system:admin", []),
        ("Anything Goes", []),
        (".", ["may not be '.'"]),
        ("..", ["may not be '..'"]),
        ("a/b", ["may not contain '/'"]),
        ("a%b/c", ["may not contain '/'", "may not contain '%'"]),
    ],
)
def test_path_segment_names_only_exclude_what_breaks_urls(value: str, expected: list[str]) -> None:
    assert is_path_segment_name(value) == expected


def test_c_identifier_rejects_a_leading_digit() -> None:
    assert is_c_identifier("_my_name1") == []
    assert is_c_identifier("1abc") == [
        "a valid C identifier must start with alphabetic character or '_', followed by a string of "
        "alphanumeric characters or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName', "
        "regex used for validation is '[A-Za-z_][A-Za-z0-9_]*')"
    ]


@pytest.mark.parametrize(
    ("name", "rule", "prefix", "valid"),
    [
        ("web-", "subdomain", True, True),
        ("web-", "subdomain", False, False),
        ("web-", "label", True, True),
        ("a.b", "label", False, False),
        ("a.b", "subdomain", False, True),
        ("system:controller", "path", False, True),
        ("system:controller", "subdomain", False, False),
    ],
)
def test_name_rules_allow_a_trailing_dash_only_in_generate_name(
    name: str, rule: str, prefix: bool, valid: bool
) -> None:
    assert (validate_name(name, rule=rule, prefix=prefix) == []) is valid


def test_labels_report_bad_keys_and_values_on_the_labels_field() -> None:
    errors = validate_labels({"ok": "fine", "-bad": "x", "app": "a b"})
    assert messages(errors) == [
        f'metadata.labels: Invalid value: "-bad": {KEY_NAME_MSG}',
        f'metadata.labels: Invalid value: "a b": {LABEL_VALUE_MSG}',
    ]


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (None, []),
        ({}, []),
        ("app=web", [type_error("metadata.labels", "object", "string")]),
        ({"a": 1}, [type_error("metadata.labels.a", "string", "integer")]),
        ({"a": None}, [type_error("metadata.labels.a", "string", "null")]),
    ],
)
def test_labels_of_the_wrong_type_are_field_errors_not_exceptions(labels: Any, expected: list[str]) -> None:
    assert messages(validate_labels(labels)) == expected


def test_annotation_keys_are_checked_in_lower_case() -> None:
    assert validate_annotations({"Example.COM/Some-Key": "any value at all, spaces too"}) == []
    assert messages(validate_annotations({"a b": ""})) == [
        f'metadata.annotations: Invalid value: "a b": {KEY_NAME_MSG}',
    ]


def test_annotations_may_total_256_kib_and_no_more() -> None:
    at_limit = {"k": "v" * (262144 - 1)}
    assert validate_annotations(at_limit) == []
    errors = validate_annotations({"k": "v" * 262144})
    too_long = FieldError("FieldValueTooLong", "metadata.annotations", "may not be more than 262144 bytes")
    assert errors == [too_long]
    assert errors[0].message() == "metadata.annotations: Too long: may not be more than 262144 bytes"


def test_finalizers_must_be_qualified_names_and_not_both_orphan_and_foreground() -> None:
    assert validate_finalizers(["kubernetes.io/pvc-protection", "orphan"]) == []
    assert messages(validate_finalizers(["a b"])) == [
        f'metadata.finalizers: Invalid value: "a b": {KEY_NAME_MSG}'
    ]
    assert messages(validate_finalizers(["orphan", "foregroundDeletion"])) == [
        'metadata.finalizers: Invalid value: ["orphan","foregroundDeletion"]: '
        "finalizer orphan and foregroundDeletion cannot be both set"
    ]
    assert messages(validate_finalizers("orphan")) == [type_error("metadata.finalizers", "array", "string")]


def owner(**overrides: Any) -> dict[str, Any]:
    ref: dict[str, Any] = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": "u-1"}
    ref.update(overrides)
    return ref


@pytest.mark.parametrize(
    ("refs", "expected"),
    [
        ([owner()], []),
        ([owner(apiVersion="")],
         ['metadata.ownerReferences.apiVersion: Invalid value: "": version must not be empty']),
        ([owner(apiVersion="a/b/c")],
         ['metadata.ownerReferences.apiVersion: Invalid value: "a/b/c": version must not be empty']),
        ([owner(kind="")], ['metadata.ownerReferences.kind: Invalid value: "": must not be empty']),
        ([owner(name=None, uid="")], [
            'metadata.ownerReferences.name: Invalid value: "": must not be empty',
            'metadata.ownerReferences.uid: Invalid value: "": must not be empty',
        ]),
    ],
)
def test_owner_references_name_their_owner_fully(refs: list[dict[str, Any]], expected: list[str]) -> None:
    assert messages(validate_owner_references(refs)) == expected


def test_events_may_not_own_objects() -> None:
    ref = owner(apiVersion="v1", kind="Event")
    assert messages(validate_owner_references([ref])) == [
        "metadata.ownerReferences: Invalid value: "
        '{"apiVersion":"v1","kind":"Event","name":"web","uid":"u-1"}: '
        "/v1, Kind=Event is disallowed from being an owner"
    ]


def test_only_one_owner_reference_may_be_the_controller() -> None:
    refs = [
        owner(controller=True),
        owner(kind="Deployment", name="d", controller=True),
        owner(controller=False),
    ]
    errors = validate_owner_references(refs)
    assert [(e.type, e.field, e.detail) for e in errors] == [
        (
            "FieldValueInvalid",
            "metadata.ownerReferences",
            'Only one reference can have Controller set to true. Found "true" in references for '
            "ReplicaSet/web and Deployment/d",
        )
    ]


def test_a_valid_namespaced_object_has_no_errors() -> None:
    meta = {"name": "web", "namespace": "default", "labels": {"app": "web"}, "annotations": {"a": "b"}}
    assert validate_object_meta(meta, namespaced=True) == []


def test_create_without_name_or_generate_name_is_required() -> None:
    assert messages(validate_object_meta({"namespace": "default"}, namespaced=True)) == [
        "metadata.name: Required value: name or generateName is required"
    ]


def test_generate_name_stands_in_for_the_name_and_may_end_in_a_dash() -> None:
    assert validate_object_meta({"generateName": "web-"}, namespaced=False) == []
    assert messages(validate_object_meta({"generateName": "Web-"}, namespaced=False)) == [
        f'metadata.generateName: Invalid value: "Web-": {SUBDOMAIN_REGEX_MSG}'
    ]


@pytest.mark.parametrize(
    ("rule", "name", "expected"),
    [
        ("subdomain", "my.app", []),
        ("subdomain", "My_App", [f'metadata.name: Invalid value: "My_App": {SUBDOMAIN_REGEX_MSG}']),
        ("label", "my.app", ['metadata.name: Invalid value: "my.app": must not contain dots']),
        ("path", "system:kube-scheduler", []),
        ("path", "a/b", ["metadata.name: Invalid value: \"a/b\": may not contain '/'"]),
    ],
)
def test_the_name_follows_the_kinds_name_rule(rule: str, name: str, expected: list[str]) -> None:
    assert messages(validate_object_meta({"name": name}, namespaced=False, name_rule=rule)) == expected


def test_namespaced_kinds_need_a_namespace_that_is_a_dns_label() -> None:
    assert messages(validate_object_meta({"name": "a"}, namespaced=True)) == [
        "metadata.namespace: Required value"
    ]
    assert messages(validate_object_meta({"name": "a", "namespace": "a.b"}, namespaced=True)) == [
        'metadata.namespace: Invalid value: "a.b": must not contain dots'
    ]


def test_cluster_scoped_kinds_may_not_carry_a_namespace_in_the_body_alone() -> None:
    assert messages(validate_object_meta({"name": "a", "namespace": "x"}, namespaced=False)) == [
        "metadata.namespace: Forbidden: not allowed on this type"
    ]


def test_a_cluster_scoped_request_ignores_the_body_namespace() -> None:
    meta = {"name": "a", "namespace": "x"}
    assert validate_object_meta(meta, namespaced=False, namespace_from_url="") == []


def test_the_url_namespace_fills_in_a_missing_body_namespace() -> None:
    assert validate_object_meta({"name": "a"}, namespaced=True, namespace_from_url="default") == []


def test_a_body_namespace_that_differs_from_the_url_is_a_bad_request() -> None:
    with pytest.raises(BadRequest) as caught:
        meta = {"name": "a", "namespace": "other"}
        validate_object_meta(meta, namespaced=True, namespace_from_url="default")
    assert caught.value.message == (
        "the namespace of the provided object does not match the namespace sent on the request"
    )


@pytest.mark.parametrize(
    ("body", "request_namespace", "expected"),
    [({}, "ns", "ns"), ({"namespace": "ns"}, "ns", "ns"), ({"namespace": "ns"}, "", ""), ({}, "", "")],
)
def test_effective_namespace_reconciles_body_and_request(
    body: dict[str, Any], request_namespace: str, expected: str
) -> None:
    assert effective_namespace(body, request_namespace) == expected


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ("junk", [type_error("metadata", "object", "string")]),
        ({"name": 7}, [
            type_error("metadata.name", "string", "integer"),
            "metadata.name: Required value: name or generateName is required",
        ]),
        ({"name": "a", "generation": -1},
         ["metadata.generation: Invalid value: -1: must be greater than or equal to 0"]),
        ({"name": "a", "ownerReferences": {}}, [type_error("metadata.ownerReferences", "array", "object")]),
    ],
)
def test_junk_metadata_becomes_field_errors(meta: Any, expected: list[str]) -> None:
    assert messages(validate_object_meta(meta, namespaced=False)) == expected


OLD = {
    "name": "web",
    "namespace": "default",
    "uid": "u-1",
    "creationTimestamp": "2024-01-01T00:00:00Z",
    "resourceVersion": "5",
    "generation": 2,
}


def test_an_update_that_keeps_identity_fields_is_valid() -> None:
    new = {**OLD, "labels": {"app": "web"}, "generation": 3}
    assert validate_object_meta_update(new, OLD) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"name": "api"}, ['metadata.name: Invalid value: "api": field is immutable']),
        ({"namespace": "other"}, ['metadata.namespace: Invalid value: "other": field is immutable']),
        ({"uid": "u-2"}, ['metadata.uid: Invalid value: "u-2": field is immutable']),
        ({"creationTimestamp": "2025-01-01T00:00:00Z"},
         ['metadata.creationTimestamp: Invalid value: "2025-01-01T00:00:00Z": field is immutable']),
        ({"deletionTimestamp": "2025-01-01T00:00:00Z"},
         ['metadata.deletionTimestamp: Invalid value: "2025-01-01T00:00:00Z": field is immutable']),
        ({"generation": 1}, ["metadata.generation: Invalid value: 1: must not be decremented"]),
    ],
)
def test_identity_fields_are_immutable(changes: dict[str, Any], expected: list[str]) -> None:
    assert messages(validate_object_meta_update({**OLD, **changes}, OLD)) == expected


def test_an_absent_uid_reads_as_empty_and_so_differs_from_the_stored_one() -> None:
    new = {k: v for k, v in OLD.items() if k != "uid"}
    assert messages(validate_object_meta_update(new, OLD)) == [
        'metadata.uid: Invalid value: "": field is immutable'
    ]


def test_an_object_being_deleted_may_only_lose_finalizers() -> None:
    old = {**OLD, "deletionTimestamp": "2025-01-01T00:00:00Z", "finalizers": ["a/x"]}
    assert validate_object_meta_update({**old, "finalizers": []}, old) == []
    assert messages(validate_object_meta_update({**old, "finalizers": ["a/x", "b/y", "a/z"]}, old)) == [
        "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, "
        'found new finalizers []string{"a/z", "b/y"}'
    ]


def test_an_update_revalidates_labels() -> None:
    assert messages(validate_object_meta_update({**OLD, "labels": {"a": "b c"}}, OLD)) == [
        f'metadata.labels: Invalid value: "b c": {LABEL_VALUE_MSG}'
    ]


# --- webhook URLs (util/webhook.ValidateWebhookURL, shared by admission and CRD conversion webhooks) ---


@pytest.mark.parametrize(("url", "allow_http", "expected"), [
    ("https://hooks.example:8443/mutate", False, []),
    ("http://127.0.0.1:9000/validate", True, []),
    ("http://127.0.0.1:9000/convert", False,
     ["url: Invalid value: \"http\": 'https' is the only allowed URL scheme; desired format: https://host[/path]"]),
    ("https:///path", False, ['url: Invalid value: "": host must be provided; desired format: https://host[/path]']),
    ("https://user:pw@host/", False, ['url: Invalid value: "user:pw": user information is not permitted in the URL']),
    ("https://host/p?x=1#frag", False, ['url: Invalid value: "frag": fragments are not permitted in the URL',
                                        'url: Invalid value: "x=1": query parameters are not permitted in the URL']),
])
def test_webhook_url_errors_match_kube(url: str, allow_http: bool, expected: list[str]) -> None:
    from machinery import validate_webhook_url

    assert [e.message() for e in validate_webhook_url(url, "url", allow_http=allow_http)] == expected


def test_webhook_url_that_does_not_parse_is_required_with_the_parse_error() -> None:
    from machinery import validate_webhook_url

    (err,) = validate_webhook_url("https://host:notaport/", "url")
    assert err.message().startswith("url: Required value: url must be a valid URL: parse")


def test_only_namespaces_short_enough_to_be_valid_are_memoized() -> None:
    """Namespaces come from request bodies (embedded resources too): a long one must not be kept."""
    from machinery import validation

    validation._namespace_errors.cache_clear()
    long = "n" * 100_000
    errs = validation.validate_object_meta({"name": "a", "namespace": long}, namespaced=True)
    assert [e.field for e in errs] == ["metadata.namespace"]
    assert validation._namespace_errors.cache_info().currsize == 0
    assert validation.validate_object_meta({"name": "a", "namespace": "ok"}, namespaced=True) == []
    assert validation._namespace_errors.cache_info().currsize == 1
    assert [e.field for e in validation.validate_object_meta({"name": "a", "namespace": "No"}, namespaced=True)] == [
        "metadata.namespace"]


@pytest.mark.parametrize(("rule", "name", "expected"), [
    ("path", "a\x00b", ["may not contain a NUL character"]),
    ("path", "ab", []),
    ("subdomain", "a\x00b", None),  # its own rule refuses it, with kube's message only
])
def test_a_nul_in_a_name_is_refused_by_every_rule(rule: str, name: str, expected: list[str] | None) -> None:
    from machinery.validation import validate_name

    messages = validate_name(name, rule=rule)
    if expected is None:
        assert messages and "NUL" not in " ".join(messages)
    else:
        assert messages == expected
