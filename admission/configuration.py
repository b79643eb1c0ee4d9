"""Mutating/ValidatingWebhookConfiguration objects: kube's defaults and kube's validation.

Defaults follow pkg/apis/admissionregistration/v1/defaults.go, validation follows
pkg/apis/admissionregistration/validation/validation.go and k8s.io/apiserver/pkg/util/webhook/validation.go,
with kube's messages, since clients (kubectl, controllers' tests) print them. Metadata is validated by
the server's generic handler, not here.

One departure: kube accepts only `https://` URLs; here `http://` is accepted too (local test webhooks
often serve plain HTTP), and `configuration_warnings` says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import machinery
from admission.kinds import MUTATING_KIND
from machinery import (
    FieldError,
    duplicate,
    invalid,
    is_dns1123_subdomain,
    is_qualified_name,
    not_supported,
    required,
    type_invalid,
    validate_label_selector,
    validate_webhook_url,
)

DEFAULT_TIMEOUT_SECONDS = 10  # defaults.go SetDefaults_*Webhook
MAX_TIMEOUT_SECONDS = 30  # validation.go: "between 1 and 30 seconds"
DEFAULT_SERVICE_PORT = 443  # defaults.go SetDefaults_ServiceReference
MAX_MATCH_CONDITIONS = 64  # validation.go validateMatchConditions

# The variables a webhook's matchConditions may read (plugin/cel: no params for webhooks).
MATCH_CONDITION_VARIABLES = frozenset({"object", "oldObject", "request", "authorizer"})

_ACCEPTED_REVIEW_VERSIONS = ("v1", "v1beta1")  # validation.go AcceptedAdmissionReviewVersions
_FAILURE_POLICIES = ["Fail", "Ignore"]
_MATCH_POLICIES = ["Equivalent", "Exact"]
_NO_SIDE_EFFECTS = ["None", "NoneOnDryRun"]
_REINVOCATION_POLICIES = ["IfNeeded", "Never"]
_OPERATIONS = ["*", "CONNECT", "CREATE", "DELETE", "UPDATE"]
_SCOPES = ["*", "Cluster", "Namespaced"]

_DNS1035_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_RE = re.compile(_DNS1035_FMT)
_DNS1035_MSG = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
                "alphabetic character, and end with an alphanumeric character")
_DNS1035_MAX_LENGTH = 63


# --- defaults ---


def default_webhook_configuration(obj: dict[str, Any]) -> None:
    """Fill in kube's defaults, in place: failurePolicy Fail, matchPolicy Equivalent, empty selectors,
    timeoutSeconds 10, reinvocationPolicy Never (mutating), rule scope "*", service port 443."""
    mutating = obj.get("kind") == MUTATING_KIND
    for hook in _dicts(obj.get("webhooks")):
        defaults: dict[str, Any] = {"failurePolicy": "Fail", "matchPolicy": "Equivalent", "namespaceSelector": {},
                                    "objectSelector": {}, "timeoutSeconds": DEFAULT_TIMEOUT_SECONDS}
        if mutating:
            defaults["reinvocationPolicy"] = "Never"
        for key, value in defaults.items():
            if hook.get(key) is None:
                hook[key] = value
        for rule in _dicts(hook.get("rules")):
            if rule.get("scope") is None:
                rule["scope"] = "*"
        client_config = hook.get("clientConfig")
        service = client_config.get("service") if isinstance(client_config, dict) else None
        if isinstance(service, dict) and service.get("port") is None:
            service["port"] = DEFAULT_SERVICE_PORT


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


# --- validation ---


def validate_mutating_configuration(obj: dict[str, Any]) -> list[FieldError]:
    """ValidateMutatingWebhookConfiguration, without metadata."""
    return _validate_configuration(obj, mutating=True)


def validate_validating_configuration(obj: dict[str, Any]) -> list[FieldError]:
    """ValidateValidatingWebhookConfiguration, without metadata."""
    return _validate_configuration(obj, mutating=False)


def configuration_warnings(obj: dict[str, Any]) -> list[str]:
    """Warnings to send with a create or update: plain-HTTP webhook URLs (kube would refuse them)."""
    warnings = []
    for i, hook in enumerate(_dicts(obj.get("webhooks"))):
        client_config = hook.get("clientConfig")
        url = client_config.get("url") if isinstance(client_config, dict) else None
        if isinstance(url, str) and url.lower().startswith("http://"):
            warnings.append(f"webhooks[{i}].clientConfig.url: plain http:// is not encrypted or verified "
                            "(kube-apiserver accepts only https://)")
    return warnings


def _validate_configuration(obj: dict[str, Any], *, mutating: bool) -> list[FieldError]:
    hooks = obj.get("webhooks")
    if hooks is None:
        return []
    if not isinstance(hooks, list):
        return [type_invalid("webhooks", hooks, "array")]
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, hook in enumerate(hooks):
        path = f"webhooks[{i}]"
        if not isinstance(hook, dict):
            errs.append(type_invalid(path, hook, "object"))
            continue
        errs += _validate_webhook(hook, path, mutating=mutating)
        errs += _validate_review_versions(hook.get("admissionReviewVersions"), f"{path}.admissionReviewVersions")
        name = hook.get("name")
        if isinstance(name, str) and name:
            if name in names:
                errs.append(duplicate(f"{path}.name", name))
            names.add(name)
    return errs


def _validate_webhook(hook: dict[str, Any], path: str, *, mutating: bool) -> list[FieldError]:
    errs = _fully_qualified_name(hook.get("name"), f"{path}.name")
    rules = hook.get("rules")
    if rules is not None and not isinstance(rules, list):
        errs.append(type_invalid(f"{path}.rules", rules, "array"))
    for j, rule in enumerate(rules if isinstance(rules, list) else []):
        errs += _validate_rule(rule, f"{path}.rules[{j}]")
    errs += _one_of(hook, "failurePolicy", _FAILURE_POLICIES, path)
    errs += _one_of(hook, "matchPolicy", _MATCH_POLICIES, path)
    if hook.get("sideEffects") is None:
        errs.append(required(f"{path}.sideEffects", f"must specify one of {', '.join(_NO_SIDE_EFFECTS)}"))
    errs += _one_of(hook, "sideEffects", _NO_SIDE_EFFECTS, path)
    timeout = hook.get("timeoutSeconds")
    if timeout is not None and (not isinstance(timeout, int) or isinstance(timeout, bool)):
        errs.append(type_invalid(f"{path}.timeoutSeconds", timeout, "integer"))
    elif timeout is not None and not 1 <= timeout <= MAX_TIMEOUT_SECONDS:
        errs.append(invalid(f"{path}.timeoutSeconds", timeout, "the timeout value must be between 1 and 30 seconds"))
    errs += validate_label_selector(hook.get("namespaceSelector"), f"{path}.namespaceSelector")
    errs += validate_label_selector(hook.get("objectSelector"), f"{path}.objectSelector")
    if mutating:
        errs += _one_of(hook, "reinvocationPolicy", _REINVOCATION_POLICIES, path)
    errs += _validate_client_config(hook.get("clientConfig"), f"{path}.clientConfig")
    errs += _validate_match_conditions(hook.get("matchConditions"), f"{path}.matchConditions")
    return errs


def _one_of(hook: dict[str, Any], key: str, allowed: list[str], path: str) -> list[FieldError]:
    value = hook.get(key)
    return [] if value is None or value in allowed else [not_supported(f"{path}.{key}", value, allowed)]


def _fully_qualified_name(name: Any, path: str) -> list[FieldError]:
    """utilvalidation.IsFullyQualifiedName: a DNS subdomain of at least three segments."""
    if not isinstance(name, str) or not name:
        return [required(path)] if not name else [type_invalid(path, name, "string")]
    if messages := is_dns1123_subdomain(name):
        return [invalid(path, name, ",".join(messages))]
    if len(name.split(".")) < 3:
        return [invalid(path, name, "should be a domain with at least three segments separated by dots")]
    return []


def _is_dns1035_label(value: str) -> list[str]:
    errs = []
    if len(value.encode()) > _DNS1035_MAX_LENGTH:
        errs.append(f"must be no more than {_DNS1035_MAX_LENGTH} characters")
    if not _DNS1035_RE.fullmatch(value):
        errs.append(f"{_DNS1035_MSG} (e.g. 'my-name',  or 'abc-123', regex used for validation is '{_DNS1035_FMT}')")
    return errs


def _validate_review_versions(versions: Any, path: str) -> list[FieldError]:
    accepted = ", ".join(_ACCEPTED_REVIEW_VERSIONS)
    if not versions:
        return [required(path, f"must specify one of {accepted}")]
    if not _is_strings(versions):
        return [type_invalid(path, versions, "array of strings")]
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, version in enumerate(versions):
        if version in seen:
            errs.append(invalid(f"{path}[{i}]", version, "duplicate version"))
            continue
        seen.add(version)
        errs += [invalid(f"{path}[{i}]", version, message) for message in _is_dns1035_label(version)]
    if not seen.intersection(_ACCEPTED_REVIEW_VERSIONS):
        errs.append(_go_invalid(path, versions, "string", f"must include at least one of {accepted}"))
    return errs


# --- rules ---


def _validate_rule(rule: Any, path: str) -> list[FieldError]:
    """validateRuleWithOperations, subresources allowed."""
    if not isinstance(rule, dict):
        return [type_invalid(path, rule, "object")]
    errs: list[FieldError] = []
    operations = _strings(rule, "operations", path, errs)
    if not operations:
        errs.append(required(f"{path}.operations"))
    if len(operations) > 1 and "*" in operations:
        errs.append(_go_invalid(f"{path}.operations", operations, "admissionregistration.OperationType",
                                "if '*' is present, must not specify other operations"))
    errs += [not_supported(f"{path}.operations[{i}]", op, _OPERATIONS)
             for i, op in enumerate(operations) if op not in _OPERATIONS]
    groups = _strings(rule, "apiGroups", path, errs)
    if not groups:
        errs.append(required(f"{path}.apiGroups"))
    if len(groups) > 1 and "*" in groups:
        errs.append(_go_invalid(f"{path}.apiGroups", groups, "string",
                                "if '*' is present, must not specify other API groups"))
    versions = _strings(rule, "apiVersions", path, errs)
    if not versions:
        errs.append(required(f"{path}.apiVersions"))
    if len(versions) > 1 and "*" in versions:
        errs.append(_go_invalid(f"{path}.apiVersions", versions, "string",
                                "if '*' is present, must not specify other API versions"))
    errs += [required(f"{path}.apiVersions[{i}]") for i, version in enumerate(versions) if version == ""]
    errs += _validate_resources(_strings(rule, "resources", path, errs), f"{path}.resources")
    scope = rule.get("scope")
    if scope is not None and scope not in _SCOPES:
        errs.append(not_supported(f"{path}.scope", scope, _SCOPES))
    return errs


def _validate_resources(resources: list[str], path: str) -> list[FieldError]:
    """validateResources: `res`, `res/sub`, `*`, `*/*`, `res/*`, `*/sub`, without overlaps."""
    errs: list[FieldError] = []
    if not resources:
        errs.append(required(path))
    wildcard_sub: set[str] = set()  # "x/*"
    wildcard_res: set[str] = set()  # "*/x"
    plain = False  # "x" (a resource other than "*" without a subresource)
    for i, item in enumerate(resources):
        if item == "":
            errs.append(required(f"{path}[{i}]"))
            continue
        res, slash, sub = item.partition("/")
        if not slash:
            plain = item != "*"  # kube keeps only the last one's answer
            continue
        if res in wildcard_sub:
            errs.append(invalid(f"{path}[{i}]", item, f"if '{res}/*' is present, must not specify {item}"))
        if sub in wildcard_res:
            errs.append(invalid(f"{path}[{i}]", item, f"if '*/{sub}' is present, must not specify {item}"))
        if sub == "*":
            wildcard_sub.add(res)
        if res == "*":
            wildcard_res.add(sub)
    if len(resources) > 1 and "*/*" in resources:
        errs.append(_go_invalid(path, resources, "string", "if '*/*' is present, must not specify other resources"))
    if "*" in resources and plain:
        errs.append(_go_invalid(path, resources, "string",
                                "if '*' is present, must not specify other resources without subresources"))
    return errs


def _strings(obj: dict[str, Any], key: str, path: str, errs: list[FieldError]) -> list[str]:
    value = obj.get(key)
    if value is None:
        return []
    if not _is_strings(value):
        errs.append(type_invalid(f"{path}.{key}", value, "array of strings"))
        return []
    return list(value)


def _is_strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


# --- client config ---


def _validate_client_config(config: Any, path: str) -> list[FieldError]:
    if not isinstance(config, dict):
        config = {}
    url, service = config.get("url"), config.get("service")
    if (url is None) == (service is None):
        return [required(path, "exactly one of url or service is required")]
    if url is not None:
        return validate_webhook_url(url, f"{path}.url", allow_http=True)
    return _validate_service(service, f"{path}.service")


def _validate_service(service: Any, path: str) -> list[FieldError]:
    """webhook.ValidateWebhookService."""
    if not isinstance(service, dict):
        return [type_invalid(path, service, "object")]
    errs: list[FieldError] = []
    if not service.get("name"):
        errs.append(required(f"{path}.name", "service name is required"))
    if not service.get("namespace"):
        errs.append(required(f"{path}.namespace", "service namespace is required"))
    port = service.get("port", DEFAULT_SERVICE_PORT)
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        errs.append(invalid(f"{path}.port", port, "port is not valid: must be between 1 and 65535, inclusive"))
    url_path = service.get("path")
    if url_path is None or url_path in ("", "/"):
        return errs
    if not isinstance(url_path, str):
        return [*errs, type_invalid(f"{path}.path", url_path, "string")]
    if url_path == "//":
        return [*errs, invalid(f"{path}.path", url_path, "segment[0] may not be empty")]
    if not url_path.startswith("/"):
        errs.append(invalid(f"{path}.path", url_path, "must start with a '/'"))
    steps = url_path[1:]
    steps = steps[:-1] if steps.endswith("/") else steps
    for i, step in enumerate(steps.split("/")):
        if not step:
            errs.append(invalid(f"{path}.path", url_path, f"segment[{i}] may not be empty"))
            continue
        errs += [invalid(f"{path}.path", url_path, f"segment[{i}]: {m}") for m in is_dns1123_subdomain(step)]
    return errs


# --- match conditions ---


def _validate_match_conditions(conditions: Any, path: str) -> list[FieldError]:
    if conditions is None:
        return []
    if not isinstance(conditions, list):
        return [type_invalid(path, conditions, "array")]
    errs: list[FieldError] = []
    if len(conditions) > MAX_MATCH_CONDITIONS:
        errs.append(FieldError("FieldValueTooMany", path, f"must have at most {MAX_MATCH_CONDITIONS} items",
                               len(conditions), True))
    names: set[str] = set()
    for i, condition in enumerate(conditions):
        if not isinstance(condition, dict):
            errs.append(type_invalid(f"{path}[{i}]", condition, "object"))
            continue
        errs += _validate_match_condition(condition, f"{path}[{i}]")
        name = condition.get("name")
        if isinstance(name, str) and name:
            if name in names:
                errs.append(duplicate(f"{path}[{i}].name", name))
            names.add(name)
    return errs


def _validate_match_condition(condition: dict[str, Any], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    expression = condition.get("expression")
    trimmed = expression.strip() if isinstance(expression, str) else ""
    if not trimmed:
        errs.append(required(f"{path}.expression"))
    else:
        try:
            machinery.compile_rule(trimmed, variables=MATCH_CONDITION_VARIABLES)  # CEL loads on first use
        except machinery.CompileError as err:
            errs.append(invalid(f"{path}.expression", trimmed, str(err)))
    name = condition.get("name")
    if not isinstance(name, str) or not name:
        errs.append(required(f"{path}.name"))
    else:
        errs += [invalid(f"{path}.name", name, message) for message in is_qualified_name(name)]
    return errs


# --- Go's rendering of list values in field errors ---


@dataclass(frozen=True)
class _GoListInvalid(FieldError):
    """field.Invalid on a slice: kube prints the value with Go's %#v (`[]string{"a", "b"}`)."""

    go_type: str = "string"

    def message(self) -> str:
        items = ", ".join('"' + str(item).replace("\\", "\\\\").replace('"', '\\"') + '"' for item in self.value)
        text = f"{self.field}: Invalid value: []{self.go_type}{{{items}}}"
        return f"{text}: {self.detail}" if self.detail else text


def _go_invalid(path: str, values: list[str], go_type: str, detail: str) -> FieldError:
    return _GoListInvalid("FieldValueInvalid", path, detail, list(values), True, go_type)
