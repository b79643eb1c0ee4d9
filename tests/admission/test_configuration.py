"""Webhook configurations are defaulted and validated as kube does it, with kube's messages."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from admission import (
    configuration_warnings,
    default_webhook_configuration,
    validate_mutating_configuration,
    validate_validating_configuration,
)
from tests.admission.helpers import configuration, webhook

Hook = dict[str, Any]
SUBDOMAIN = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
             "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
             "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
URL_FORM = "; desired format: https://host[/path]"


def _set(key: str, value: Any) -> Callable[[Hook], None]:
    def change(hook: Hook) -> None:
        if value is None:
            hook.pop(key, None)
        else:
            hook[key] = value
    return change


def _rule(key: str, value: Any) -> Callable[[Hook], None]:
    def change(hook: Hook) -> None:
        hook["rules"][0][key] = value
    return change


def _client(config: dict[str, Any]) -> Callable[[Hook], None]:
    return _set("clientConfig", config)


def _service(**fields: Any) -> Callable[[Hook], None]:
    return _client({"service": {"namespace": "default", "name": "webhook", **fields}})


def _conditions(*conditions: dict[str, Any]) -> Callable[[Hook], None]:
    return _set("matchConditions", list(conditions))


CASES: list[tuple[str, Callable[[Hook], None], list[str]]] = [
    ("valid", lambda hook: None, []),
    ("plain http is accepted", _client({"url": "http://127.0.0.1:8080/x"}), []),
    ("a service with a path", _service(path="/mutate/pods", port=8443), []),
    ("name required", _set("name", ""), ["webhooks[0].name: Required value"]),
    ("name needs three segments", _set("name", "example.com"),
     ['webhooks[0].name: Invalid value: "example.com": should be a domain with at least three segments separated by dots']),
    ("name is a subdomain", _set("name", "Bad_Name.example.com"),
     [f'webhooks[0].name: Invalid value: "Bad_Name.example.com": {SUBDOMAIN}']),
    ("review versions required", _set("admissionReviewVersions", None),
     ["webhooks[0].admissionReviewVersions: Required value: must specify one of v1, v1beta1"]),
    ("a known review version", _set("admissionReviewVersions", ["v2"]),
     ['webhooks[0].admissionReviewVersions: Invalid value: []string{"v2"}: must include at least one of v1, v1beta1']),
    ("review versions unique", _set("admissionReviewVersions", ["v1", "v1"]),
     ['webhooks[0].admissionReviewVersions[1]: Invalid value: "v1": duplicate version']),
    ("review versions are DNS-1035 labels", _set("admissionReviewVersions", ["v1", "1x"]),
     ['webhooks[0].admissionReviewVersions[1]: Invalid value: "1x": a DNS-1035 label must consist of lower case '
      "alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character "
      "(e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"]),
    ("sideEffects required", _set("sideEffects", None),
     ["webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun"]),
    ("sideEffects without guarantees", _set("sideEffects", "Unknown"),
     ['webhooks[0].sideEffects: Unsupported value: "Unknown": supported values: "None", "NoneOnDryRun"']),
    ("failurePolicy", _set("failurePolicy", "Maybe"),
     ['webhooks[0].failurePolicy: Unsupported value: "Maybe": supported values: "Fail", "Ignore"']),
    ("matchPolicy", _set("matchPolicy", "Loose"),
     ['webhooks[0].matchPolicy: Unsupported value: "Loose": supported values: "Equivalent", "Exact"']),
    ("reinvocationPolicy", _set("reinvocationPolicy", "Always"),
     ['webhooks[0].reinvocationPolicy: Unsupported value: "Always": supported values: "IfNeeded", "Never"']),
    ("timeout at most 30", _set("timeoutSeconds", 31),
     ["webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds"]),
    ("timeout at least 1", _set("timeoutSeconds", 0),
     ["webhooks[0].timeoutSeconds: Invalid value: 0: the timeout value must be between 1 and 30 seconds"]),
    ("url or service", _client({}),
     ["webhooks[0].clientConfig: Required value: exactly one of url or service is required"]),
    ("not url and service", _client({"url": "https://a/b", "service": {"namespace": "n", "name": "s"}}),
     ["webhooks[0].clientConfig: Required value: exactly one of url or service is required"]),
    ("no query in the url", _client({"url": "https://127.0.0.1/x?a=b"}),
     ['webhooks[0].clientConfig.url: Invalid value: "a=b": query parameters are not permitted in the URL']),
    ("no fragment in the url", _client({"url": "https://127.0.0.1/x#frag"}),
     ['webhooks[0].clientConfig.url: Invalid value: "frag": fragments are not permitted in the URL']),
    ("no user in the url", _client({"url": "https://user:pw@127.0.0.1/x"}),
     ['webhooks[0].clientConfig.url: Invalid value: "user:pw": user information is not permitted in the URL']),
    ("an http(s) scheme", _client({"url": "ftp://127.0.0.1/x"}),
     [f"webhooks[0].clientConfig.url: Invalid value: \"ftp\": 'https' is the only allowed URL scheme{URL_FORM}"]),
    ("a host", _client({"url": "https:///x"}),
     [f'webhooks[0].clientConfig.url: Invalid value: "": host must be provided{URL_FORM}']),
    ("service name and namespace", _client({"service": {"port": 443}}),
     ["webhooks[0].clientConfig.service.name: Required value: service name is required",
      "webhooks[0].clientConfig.service.namespace: Required value: service namespace is required"]),
    ("service port", _service(port=0),
     ["webhooks[0].clientConfig.service.port: Invalid value: 0: port is not valid: must be between 1 and 65535, inclusive"]),
    ("service path starts with /", _service(path="mutate"),
     ["webhooks[0].clientConfig.service.path: Invalid value: \"mutate\": must start with a '/'"]),
    ("service path segments", _service(path="/a//b"),
     ['webhooks[0].clientConfig.service.path: Invalid value: "/a//b": segment[1] may not be empty']),
    ("service path segments are subdomains", _service(path="/UP"),
     [f'webhooks[0].clientConfig.service.path: Invalid value: "/UP": segment[0]: {SUBDOMAIN}']),
    ("operations required", _rule("operations", []), ["webhooks[0].rules[0].operations: Required value"]),
    ("operations: * alone", _rule("operations", ["*", "CREATE"]),
     ["webhooks[0].rules[0].operations: Invalid value: []admissionregistration.OperationType{\"*\", \"CREATE\"}: "
      "if '*' is present, must not specify other operations"]),
    ("operations known", _rule("operations", ["PATCH"]),
     ['webhooks[0].rules[0].operations[0]: Unsupported value: "PATCH": supported values: "*", "CONNECT", "CREATE", '
      '"DELETE", "UPDATE"']),
    ("apiGroups required", _rule("apiGroups", []), ["webhooks[0].rules[0].apiGroups: Required value"]),
    ("apiGroups: * alone", _rule("apiGroups", ["*", ""]),
     ["webhooks[0].rules[0].apiGroups: Invalid value: []string{\"*\", \"\"}: if '*' is present, must not specify "
      "other API groups"]),
    ("apiVersions not empty", _rule("apiVersions", ["v1", ""]), ["webhooks[0].rules[0].apiVersions[1]: Required value"]),
    ("resources required", _rule("resources", []), ["webhooks[0].rules[0].resources: Required value"]),
    ("*/* alone", _rule("resources", ["*/*", "pods"]),
     ["webhooks[0].rules[0].resources: Invalid value: []string{\"*/*\", \"pods\"}: if '*/*' is present, must not "
      "specify other resources"]),
    ("* and a plain resource", _rule("resources", ["*", "pods"]),
     ["webhooks[0].rules[0].resources: Invalid value: []string{\"*\", \"pods\"}: if '*' is present, must not specify "
      "other resources without subresources"]),
    ("* with subresources is fine", _rule("resources", ["*", "pods/status"]), []),
    ("x/* covers x/y", _rule("resources", ["pods/*", "pods/status"]),
     ["webhooks[0].rules[0].resources[1]: Invalid value: \"pods/status\": if 'pods/*' is present, must not specify "
      "pods/status"]),
    ("*/y covers x/y", _rule("resources", ["*/status", "pods/status"]),
     ["webhooks[0].rules[0].resources[1]: Invalid value: \"pods/status\": if '*/status' is present, must not specify "
      "pods/status"]),
    ("scope", _rule("scope", "Everywhere"),
     ['webhooks[0].rules[0].scope: Unsupported value: "Everywhere": supported values: "*", "Cluster", "Namespaced"']),
    ("namespaceSelector", _set("namespaceSelector", {"matchExpressions": [{"key": "a", "operator": "Maybe"}]}),
     ['webhooks[0].namespaceSelector.matchExpressions[0].operator: Invalid value: "Maybe": not a valid selector '
      "operator"]),
    ("objectSelector", _set("objectSelector", {"matchLabels": {"a": "not valid!"}}),
     ['webhooks[0].objectSelector.matchLabels: Invalid value: "not valid!": a valid label must be an empty string or '
      "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character "
      "(e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
      "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"]),
    ("matchCondition parts required", _conditions({}),
     ["webhooks[0].matchConditions[0].expression: Required value", "webhooks[0].matchConditions[0].name: Required value"]),
    ("matchCondition names unique", _conditions({"name": "a", "expression": "true"}, {"name": "a", "expression": "true"}),
     ['webhooks[0].matchConditions[1].name: Duplicate value: "a"']),
    ("matchCondition names are qualified names", _conditions({"name": "a b", "expression": "true"}),
     ['webhooks[0].matchConditions[0].name: Invalid value: "a b": name part must consist of alphanumeric characters, '
      "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
      "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"]),
    ("at most 64 matchConditions", _conditions(*({"name": f"c{i}", "expression": "true"} for i in range(65))),
     ["webhooks[0].matchConditions: Too many: 65: must have at most 64 items"]),
]


@pytest.mark.parametrize(("change", "expected"), [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_configuration_validation_reports_kubes_messages(change: Callable[[Hook], None], expected: list[str]) -> None:
    hook = webhook("a.example.com", "https://127.0.0.1:8443/mutate")
    change(hook)
    errors = validate_mutating_configuration(configuration("c", hook))
    assert [e.message() for e in errors] == expected


def test_a_match_condition_that_does_not_compile_is_invalid() -> None:
    hook = webhook("a.example.com", "https://127.0.0.1/x", matchConditions=[
        {"name": "syntax", "expression": "object.metadata.name =="},
        {"name": "variable", "expression": "self.spec == null"},
        {"name": "params", "expression": "params.x"},
    ])
    errors = validate_validating_configuration(configuration("c", hook, mutating=False))
    assert [e.field for e in errors] == ["webhooks[0].matchConditions[0].expression"] * 1 + [
        "webhooks[0].matchConditions[1].expression", "webhooks[0].matchConditions[2].expression"]
    assert all(e.type == "FieldValueInvalid" and e.detail.startswith("compilation failed: ") for e in errors)
    assert "undeclared reference to 'self'" in errors[1].detail


def test_webhook_names_are_unique_in_a_configuration() -> None:
    hooks = [webhook("a.example.com", "https://h/x"), webhook("a.example.com", "https://h/y")]
    errors = validate_validating_configuration(configuration("c", *hooks, mutating=False))
    assert [e.message() for e in errors] == ['webhooks[1].name: Duplicate value: "a.example.com"']


def test_reinvocation_policy_is_not_checked_on_validating_webhooks() -> None:
    hook = webhook("a.example.com", "https://h/x", reinvocationPolicy="Always")
    assert validate_validating_configuration(configuration("c", hook, mutating=False)) == []


def test_a_configuration_without_webhooks_is_valid() -> None:
    assert validate_mutating_configuration({"kind": "MutatingWebhookConfiguration", "metadata": {"name": "c"}}) == []


def test_defaults_are_kubes() -> None:
    obj = configuration("c", webhook("a.example.com", clientConfig={"service": {"namespace": "n", "name": "s"}}))
    default_webhook_configuration(obj)
    hook = obj["webhooks"][0]
    assert {k: hook[k] for k in ("failurePolicy", "matchPolicy", "namespaceSelector", "objectSelector",
                                 "timeoutSeconds", "reinvocationPolicy")} == {
        "failurePolicy": "Fail", "matchPolicy": "Equivalent", "namespaceSelector": {}, "objectSelector": {},
        "timeoutSeconds": 10, "reinvocationPolicy": "Never"}
    assert hook["rules"][0]["scope"] == "*"
    assert hook["clientConfig"]["service"]["port"] == 443
    assert "sideEffects" in hook and hook["sideEffects"] == "None"  # required, never defaulted


def test_defaults_keep_what_is_set_and_skip_reinvocation_for_validating() -> None:
    obj = configuration("c", webhook("a.example.com", "https://h/x", failurePolicy="Ignore", timeoutSeconds=3),
                        mutating=False)
    before = copy.deepcopy(obj)
    default_webhook_configuration(obj)
    hook = obj["webhooks"][0]
    assert (hook["failurePolicy"], hook["timeoutSeconds"]) == ("Ignore", 3)
    assert "reinvocationPolicy" not in hook
    default_webhook_configuration(obj)
    assert obj["webhooks"][0] == hook and before["webhooks"][0]["name"] == hook["name"]


def test_plain_http_urls_come_with_a_warning() -> None:
    obj = configuration("c", webhook("a.example.com", "https://h/x"), webhook("b.example.com", "http://h/y"))
    assert configuration_warnings(obj) == [
        "webhooks[1].clientConfig.url: plain http:// is not encrypted or verified (kube-apiserver accepts only https://)"]
