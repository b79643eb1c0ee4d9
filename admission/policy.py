"""ValidatingAdmissionPolicy and its bindings: kube's defaults, validation, and in-process CEL evaluation.

Follows kube's plugin/policy/validating (dispatcher.go, validator.go) and plugin/policy/matching:
- a policy applies when its matchConstraints match (namespaceSelector, objectSelector, resourceRules minus
  excludeResourceRules, matchPolicy Equivalent); each binding naming it applies when its matchResources
  (if any) match too;
- params come from the binding's paramRef (by name or selector; the request's namespace when paramRef has
  none); none found is allowed or denied per parameterNotFoundAction;
- matchConditions false skip the binding, errors follow failurePolicy; each validation that is not true
  is a violation (message, messageExpression, or `failed expression: <expr>`), each evaluation error
  a violation under failurePolicy Fail;
- violations go to the binding's validationActions: Deny becomes the first error, `<resource> "<name>" is
  forbidden: ValidatingAdmissionPolicy '<p>' with binding '<b>' denied request: <message>` with the
  validation's reason (Invalid by default) and its code; Warn becomes a warning; Audit is logged.
Type checking is not done.
"""

from __future__ import annotations

import copy
import functools
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

import machinery
from admission.attributes import Attributes
from admission.hooks import ServedVersions, namespace_matches, object_matches, rule_matches
from admission.review import admission_request
from machinery import (
    ApiError,
    BadRequest,
    FieldError,
    InternalError,
    LabelSelector,
    duplicate,
    invalid,
    label_selector_from_dict,
    not_supported,
    required,
    validate_label_selector,
)

log = logging.getLogger(__name__)

POLICY_VARIABLES = frozenset({"object", "oldObject", "request", "params", "namespaceObject", "variables",
                              "authorizer"})
_FAILURE_POLICIES = ["Fail", "Ignore"]
_MATCH_POLICIES = ["Equivalent", "Exact"]
_ACTIONS = ["Audit", "Deny", "Warn"]
_NOT_FOUND_ACTIONS = ["Allow", "Deny"]
_REASONS = ["Unauthorized", "Forbidden", "Invalid", "RequestEntityTooLarge"]
_REASON_CODES = {"Unauthorized": 401, "Forbidden": 403, "RequestEntityTooLarge": 413, "Invalid": 422}
_CEL_IDENTIFIER = re.compile(r"^[_a-zA-Z][_a-zA-Z0-9]*$")

# (apiVersion, kind, namespace or None for all, name or None, selector or None) -> the param objects
ParamLookup = Callable[[str, str, str | None, str | None, LabelSelector | None], list[dict[str, Any]]]


# --- defaults ---


def _default_match_resources(match: Any) -> None:
    if not isinstance(match, dict):
        return
    match.setdefault("namespaceSelector", {})
    match.setdefault("objectSelector", {})
    match.setdefault("matchPolicy", "Equivalent")
    for key in ("resourceRules", "excludeResourceRules"):
        for rule in match.get(key) or []:
            if isinstance(rule, dict):
                rule.setdefault("scope", "*")


def default_policy(obj: dict[str, Any]) -> None:
    """SetDefaults_ValidatingAdmissionPolicySpec and SetDefaults_MatchResources."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    spec.setdefault("failurePolicy", "Fail")
    _default_match_resources(spec.get("matchConstraints"))


def default_binding(obj: dict[str, Any]) -> None:
    """SetDefaults_MatchResources and SetDefaults_ParamRef (parameterNotFoundAction: Deny)."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    _default_match_resources(spec.get("matchResources"))
    ref = spec.get("paramRef")
    if isinstance(ref, dict):
        ref.setdefault("parameterNotFoundAction", "Deny")


# --- validation ---


def _compile_error(path: str, expression: str) -> list[FieldError]:
    try:
        machinery.compile_rule(expression, variables=POLICY_VARIABLES)
    except machinery.CompileError as err:
        return [invalid(path, expression, str(err))]
    return []


def _validate_rules(rules: Any, path: str) -> list[FieldError]:
    if rules is None:
        return []
    if not isinstance(rules, list):
        return [invalid(path, rules, "must be an array")]
    errs: list[FieldError] = []
    for i, rule in enumerate(rules):
        p = f"{path}[{i}]"
        if not isinstance(rule, dict):
            errs.append(invalid(p, rule, "must be an object"))
            continue
        for key in ("apiGroups", "apiVersions", "resources", "operations"):
            if not rule.get(key):
                errs.append(required(f"{p}.{key}"))
        scope = rule.get("scope")
        if scope is not None and scope not in ("*", "Cluster", "Namespaced"):
            errs.append(not_supported(f"{p}.scope", scope, ["*", "Cluster", "Namespaced"]))
    return errs


def _validate_match_resources(match: Any, path: str, *, need_rules: bool) -> list[FieldError]:
    if match is None:
        return [required(path)] if need_rules else []
    if not isinstance(match, dict):
        return [invalid(path, match, "must be an object")]
    errs: list[FieldError] = []
    policy = match.get("matchPolicy")
    if policy is not None and policy not in _MATCH_POLICIES:
        errs.append(not_supported(f"{path}.matchPolicy", policy, _MATCH_POLICIES))
    for key in ("namespaceSelector", "objectSelector"):
        if isinstance(match.get(key), dict):
            errs += validate_label_selector(match[key], f"{path}.{key}")
    if need_rules and not match.get("resourceRules"):
        errs.append(required(f"{path}.resourceRules"))
    errs += _validate_rules(match.get("resourceRules"), f"{path}.resourceRules")
    errs += _validate_rules(match.get("excludeResourceRules"), f"{path}.excludeResourceRules")
    return errs


def validate_policy(obj: dict[str, Any]) -> list[FieldError]:
    """ValidateValidatingAdmissionPolicy's spec checks, with kube's messages."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [required("spec")]
    errs: list[FieldError] = []
    failure = spec.get("failurePolicy")
    if failure is not None and failure not in _FAILURE_POLICIES:
        errs.append(not_supported("spec.failurePolicy", failure, _FAILURE_POLICIES))
    kind = spec.get("paramKind")
    if isinstance(kind, dict):
        if not kind.get("apiVersion"):
            errs.append(required("spec.paramKind.apiVersion"))
        if not kind.get("kind"):
            errs.append(required("spec.paramKind.kind"))
    errs += _validate_match_resources(spec.get("matchConstraints"), "spec.matchConstraints", need_rules=True)
    validations = spec.get("validations") or []
    if not validations and not spec.get("auditAnnotations"):
        errs.append(required("spec.validations", "validations or auditAnnotations must contain at least one item"))
    for i, validation in enumerate(validations if isinstance(validations, list) else []):
        path = f"spec.validations[{i}]"
        if not isinstance(validation, dict):
            errs.append(invalid(path, validation, "must be an object"))
            continue
        expression = str(validation.get("expression") or "").strip()
        if not expression:
            errs.append(required(f"{path}.expression"))
        else:
            errs += _compile_error(f"{path}.expression", expression)
        message = validation.get("message")
        if isinstance(message, str) and message and "\n" in message:
            errs.append(invalid(f"{path}.message", message, "message must not contain line breaks"))
        message_expression = validation.get("messageExpression")
        if isinstance(message_expression, str) and message_expression.strip():
            errs += _compile_error(f"{path}.messageExpression", message_expression.strip())
        reason = validation.get("reason")
        if reason is not None and reason not in _REASONS:
            errs.append(not_supported(f"{path}.reason", reason, _REASONS))
    names: set[str] = set()
    for i, variable in enumerate(spec.get("variables") or []):
        path = f"spec.variables[{i}]"
        if not isinstance(variable, dict):
            errs.append(invalid(path, variable, "must be an object"))
            continue
        name = variable.get("name")
        if not isinstance(name, str) or not name:
            errs.append(required(f"{path}.name"))
        elif not _CEL_IDENTIFIER.match(name):
            errs.append(invalid(f"{path}.name", name, "name is not a valid CEL identifier"))
        elif name in names:
            errs.append(duplicate(f"{path}.name", name))
        else:
            names.add(name)
        expression = str(variable.get("expression") or "").strip()
        if not expression:
            errs.append(required(f"{path}.expression"))
        else:
            errs += _compile_error(f"{path}.expression", expression)
    for i, condition in enumerate(spec.get("matchConditions") or []):
        path = f"spec.matchConditions[{i}]"
        if not isinstance(condition, dict):
            errs.append(invalid(path, condition, "must be an object"))
            continue
        if not condition.get("name"):
            errs.append(required(f"{path}.name"))
        expression = str(condition.get("expression") or "").strip()
        if not expression:
            errs.append(required(f"{path}.expression"))
        else:
            errs += _compile_error(f"{path}.expression", expression)
    return errs


def validate_binding(obj: dict[str, Any]) -> list[FieldError]:
    """ValidateValidatingAdmissionPolicyBinding's spec checks, with kube's messages."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [required("spec")]
    errs: list[FieldError] = []
    if not spec.get("policyName"):
        errs.append(required("spec.policyName"))
    actions = spec.get("validationActions")
    if not actions:
        errs.append(required("spec.validationActions", "at least one validation action is required"))
    elif isinstance(actions, list):
        seen: set[str] = set()
        for i, action in enumerate(actions):
            if action not in _ACTIONS:
                errs.append(not_supported(f"spec.validationActions[{i}]", action, _ACTIONS))
            elif action in seen:
                errs.append(duplicate(f"spec.validationActions[{i}]", action))
            seen.add(str(action))
        if {"Deny", "Warn"} <= seen:
            errs.append(invalid("spec.validationActions", actions,
                                'must not contain both "Deny" and "Warn" (repeating the same validation '
                                "failure information in the API response and headers serves no purpose)"))
    ref = spec.get("paramRef")
    if isinstance(ref, dict):
        if ref.get("name") and ref.get("selector") is not None:
            errs.append(FieldError("FieldValueForbidden", "spec.paramRef.name",
                                   "name and selector are mutually exclusive"))
        elif not ref.get("name") and ref.get("selector") is None:
            errs.append(required("spec.paramRef", "one of name or selector must be specified"))
        if isinstance(ref.get("selector"), dict):
            errs += validate_label_selector(ref["selector"], "spec.paramRef.selector")
        action = ref.get("parameterNotFoundAction")
        if action is None:
            errs.append(required("spec.paramRef.parameterNotFoundAction"))
        elif action not in _NOT_FOUND_ACTIONS:
            errs.append(not_supported("spec.paramRef.parameterNotFoundAction", action, _NOT_FOUND_ACTIONS))
    errs += _validate_match_resources(spec.get("matchResources"), "spec.matchResources", need_rules=False)
    return errs


# --- compiled form ---


@dataclass(frozen=True)
class _Expr:
    expression: str
    program: machinery.Program | None
    error: str = ""


def _expr(expression: Any) -> _Expr:
    text = str(expression or "").strip()
    try:
        return _Expr(text, machinery.compile_rule(text, variables=POLICY_VARIABLES))
    except machinery.CompileError as err:
        return _Expr(text, None, f"compilation error: {err}")


@dataclass(frozen=True)
class _Validation:
    expr: _Expr
    message: str
    message_expression: _Expr | None
    reason: str


@dataclass(frozen=True)
class _Match:
    namespace_selector: LabelSelector | ApiError
    object_selector: LabelSelector | ApiError
    rules: tuple[dict[str, Any], ...]
    excludes: tuple[dict[str, Any], ...]
    equivalent: bool


@dataclass(frozen=True)
class Policy:
    name: str
    fail_open: bool
    param_kind: tuple[str, str] | None  # (apiVersion, kind)
    match: _Match | None
    conditions: tuple[tuple[str, _Expr], ...]
    variables: tuple[tuple[str, _Expr], ...]
    validations: tuple[_Validation, ...]


@dataclass(frozen=True)
class Binding:
    name: str
    policy: str
    actions: tuple[str, ...]
    param_ref: dict[str, Any] | None
    match: _Match | None


def _selector(selector: Any) -> LabelSelector | ApiError:
    try:
        return label_selector_from_dict(selector if isinstance(selector, dict) else {})
    except BadRequest as err:
        return InternalError.wrap(err)


def _match(match: Any) -> _Match | None:
    if not isinstance(match, dict):
        return None
    return _Match(
        namespace_selector=_selector(match.get("namespaceSelector")),
        object_selector=_selector(match.get("objectSelector")),
        rules=tuple(r for r in match.get("resourceRules") or [] if isinstance(r, dict)),
        excludes=tuple(r for r in match.get("excludeResourceRules") or [] if isinstance(r, dict)),
        equivalent=match.get("matchPolicy", "Equivalent") == "Equivalent",
    )


def compile_policy(obj: dict[str, Any]) -> Policy:
    obj = copy.deepcopy(obj)
    default_policy(obj)
    spec = obj.get("spec") or {}
    kind = spec.get("paramKind")
    return Policy(
        name=str((obj.get("metadata") or {}).get("name") or ""),
        fail_open=spec.get("failurePolicy") == "Ignore",
        param_kind=(str(kind.get("apiVersion") or ""), str(kind.get("kind") or "")) if isinstance(kind, dict)
        else None,
        match=_match(spec.get("matchConstraints")),
        conditions=tuple((str(c.get("name") or ""), _expr(c.get("expression")))
                         for c in spec.get("matchConditions") or [] if isinstance(c, dict)),
        variables=tuple((str(v.get("name") or ""), _expr(v.get("expression")))
                        for v in spec.get("variables") or [] if isinstance(v, dict)),
        validations=tuple(
            _Validation(_expr(v.get("expression")), str(v.get("message") or "").strip(),
                        _expr(v["messageExpression"]) if str(v.get("messageExpression") or "").strip() else None,
                        str(v.get("reason") or "Invalid"))
            for v in spec.get("validations") or [] if isinstance(v, dict)),
    )


def compile_binding(obj: dict[str, Any]) -> Binding:
    obj = copy.deepcopy(obj)
    default_binding(obj)
    spec = obj.get("spec") or {}
    ref = spec.get("paramRef")
    return Binding(
        name=str((obj.get("metadata") or {}).get("name") or ""),
        policy=str(spec.get("policyName") or ""),
        actions=tuple(str(a) for a in spec.get("validationActions") or []),
        param_ref=ref if isinstance(ref, dict) else None,
        match=_match(spec.get("matchResources")),
    )


# --- matching ---


def _rules_match(rules: Iterable[dict[str, Any]], attrs: Attributes, equivalent: bool,
                 served_versions: ServedVersions | None) -> bool:
    name = attrs.name or str(((attrs.object or {}).get("metadata") or {}).get("name") or "")
    others = ([v for v in served_versions(attrs.group, attrs.resource) if v != attrs.version]
              if equivalent and served_versions is not None else [])
    for rule in rules:
        names = rule.get("resourceNames") or []
        if names and name not in names:
            continue
        if any(rule_matches(rule, attrs, version) for version in (attrs.version, *others)):
            return True
    return False


def matches(match: _Match, attrs: Attributes, served_versions: ServedVersions | None, *,
            binding: bool = False) -> bool:
    """matching.Matcher.Matches: selectors, excluded rules, rules; errors count only on a rule match.

    A binding's matchResources without resourceRules does not constrain resources (kube's API docs).
    """
    ns_ok, ns_err = namespace_matches(match.namespace_selector, attrs, attrs.object)
    if not ns_ok and ns_err is None:
        return False
    obj_ok, obj_err = object_matches(match.object_selector, attrs.object, attrs.old_object)
    if not obj_ok and obj_err is None:
        return False
    if _rules_match(match.excludes, attrs, match.equivalent, served_versions):
        return False
    if (match.rules or not binding) and not _rules_match(match.rules, attrs, match.equivalent, served_versions):
        return False
    if ns_err is not None:
        raise ns_err
    if obj_err is not None:
        raise obj_err
    return True


# --- evaluation ---


class PolicyRejection(ApiError):
    """A denied request: Forbidden's wording with the validation's reason and code."""


@functools.cache
def _rejection_type(reason: str) -> type[PolicyRejection]:
    code = _REASON_CODES.get(reason, 422)
    return cast(type[PolicyRejection], type("PolicyRejection", (PolicyRejection,), {"code": code, "reason": reason}))


def rejection(attrs: Attributes, message: str, reason: str) -> PolicyRejection:
    """admission.NewForbidden with the reason and code swapped, plus the message as a cause."""
    resource = f"{attrs.resource}.{attrs.group}" if attrs.group else attrs.resource
    name = attrs.name or str(((attrs.object or attrs.old_object or {}).get("metadata") or {}).get("name") or "")
    text = f'{resource} "{name}" is forbidden: {message}' if name else f"{resource} is forbidden: {message}"
    err = _rejection_type(reason or "Invalid")(text, name=name, group=attrs.group, kind=attrs.resource,
                                               causes=[{"message": message}])
    return err


class _ConfigError(Exception):
    pass


@dataclass
class _Decision:
    message: str
    reason: str


class Policies:
    """The compiled policies and bindings; `validate` runs them against one request."""

    def __init__(self, served_versions: ServedVersions | None = None) -> None:
        self._served_versions = served_versions
        self._pairs: tuple[tuple[Policy, tuple[Binding, ...]], ...] = ()

    def configure(self, policies: Iterable[dict[str, Any]], bindings: Iterable[dict[str, Any]]) -> None:
        compiled = sorted((compile_policy(p) for p in policies), key=lambda p: p.name)
        by_policy: dict[str, list[Binding]] = {}
        for b in sorted((compile_binding(b) for b in bindings), key=lambda b: b.name):
            by_policy.setdefault(b.policy, []).append(b)
        self._pairs = tuple((p, tuple(by_policy.get(p.name, ()))) for p in compiled if p.name in by_policy)

    @property
    def configured(self) -> bool:
        """Whether any policy is bound (else writes skip building attributes)."""
        return bool(self._pairs)

    def validate(self, attrs: Attributes, params: ParamLookup | None = None) -> list[str]:
        """Warnings of Warn bindings; raises the first Deny violation as kube's error."""
        if attrs.exempt or not self._pairs:
            return []
        warnings: list[str] = []
        denied: tuple[Policy, Binding, _Decision] | None = None
        for policy, bindings in self._pairs:
            for binding, decision in self._decisions(policy, bindings, attrs, params):
                where = f"ValidatingAdmissionPolicy '{policy.name}' with binding '{binding.name}'"
                for action in binding.actions:
                    if action == "Deny" and denied is None:
                        denied = (policy, binding, decision)
                    elif action == "Warn":
                        warnings.append(f"Validation failed for {where}: {decision.message}")
                    elif action == "Audit":
                        log.info("audit: %s: %s", where, decision.message)
        if denied is not None:
            policy, binding, decision = denied
            message = (f"ValidatingAdmissionPolicy '{policy.name}' with binding '{binding.name}' denied request: "
                       f"{decision.message}")
            raise rejection(attrs, message, decision.reason)
        return list(dict.fromkeys(warnings))

    def _decisions(self, policy: Policy, bindings: tuple[Binding, ...], attrs: Attributes,
                   params: ParamLookup | None) -> Iterable[tuple[Binding, _Decision]]:
        if policy.match is None:
            return
        try:
            if not matches(policy.match, attrs, self._served_versions):
                return
        except ApiError as err:
            if not policy.fail_open:
                yield from ((b, _Decision(f"failed to configure policy: {err.message}", "Invalid"))
                            for b in bindings)
            return
        for binding in bindings:
            try:
                if binding.match is not None and not matches(binding.match, attrs, self._served_versions,
                                                                binding=True):
                    continue
                found = self._params(policy, binding, attrs, params)
            except (ApiError, _ConfigError) as err:
                if not policy.fail_open:
                    why = err.message if isinstance(err, ApiError) else str(err)
                    yield binding, _Decision(f"failed to configure binding: {why}", "Invalid")
                continue
            for param in found:
                for decision in self._evaluate(policy, attrs, param):
                    yield binding, decision

    def _params(self, policy: Policy, binding: Binding, attrs: Attributes,
                params: ParamLookup | None) -> list[dict[str, Any] | None]:
        if policy.param_kind is None:
            return [None]
        ref = binding.param_ref
        if ref is None:
            raise _ConfigError("paramKind is specified but paramRef is not set in the binding")  # kube: no params
        api_version, kind = policy.param_kind
        namespace = ref.get("namespace") or attrs.namespace or None
        selector = None
        if ref.get("selector") is not None:
            selector = label_selector_from_dict(ref["selector"])
        found = params(api_version, kind, namespace, ref.get("name") or None, selector) if params else []
        if not found:
            if ref.get("parameterNotFoundAction", "Deny") == "Deny":
                raise _ConfigError("no params found for policy binding with `Deny` parameterNotFoundAction")
            return []
        return list(found)

    def _evaluate(self, policy: Policy, attrs: Attributes, param: dict[str, Any] | None) -> list[_Decision]:
        activation: dict[str, Any] = {
            "object": attrs.object, "oldObject": attrs.old_object,
            "request": admission_request(attrs, attrs.version), "params": param,
            "namespaceObject": attrs.namespace_object,
        }
        variables, variable_errors = self._variables(policy, activation)
        activation["variables"] = variables

        def run(expr: _Expr) -> Any:
            if expr.program is None:
                raise machinery.CELError(expr.error)
            for name, error in variable_errors.items():
                if re.search(rf"\bvariables\s*\.\s*{re.escape(name)}\b", expr.expression):
                    raise machinery.CELError(f"expression '{expr.expression}' resulted in error: {error}")
            try:
                return machinery.evaluate(expr.program, activation)
            except machinery.CELError as err:
                raise machinery.CELError(f"expression '{expr.expression}' resulted in error: {err}") from None

        errors: list[str] = []
        for _, condition in policy.conditions:
            try:
                result = run(condition)
            except machinery.CELError as err:
                errors.append(str(err))
                continue
            if result is False:
                return []
            if result is not True:
                errors.append(f"expression '{condition.expression}' resulted in error: no such overload")
        if errors:
            if policy.fail_open:
                return []
            return [_Decision(errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]", "Invalid")]
        decisions: list[_Decision] = []
        for validation in policy.validations:
            try:
                result = run(validation.expr)
            except machinery.CELError as err:
                if not policy.fail_open:
                    decisions.append(_Decision(str(err), "Invalid"))
                continue
            if result is True:
                continue
            fallback = validation.message or f"failed expression: {validation.expr.expression}"
            message = fallback
            if validation.message_expression is not None:
                try:
                    text = run(validation.message_expression)
                except machinery.CELError as err:
                    log.info("messageExpression failed: %s", err)
                    text = None
                if isinstance(text, str) and text.strip() and "\n" not in text:
                    message = text.strip()
            decisions.append(_Decision(message, validation.reason))
        return decisions

    @staticmethod
    def _variables(policy: Policy, activation: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """spec.variables in order (each may read the earlier ones); failures are kept per name."""
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for name, expr in policy.variables:
            if expr.program is None:
                errors[name] = f"composited variable {name!r} fails to compile: {expr.error}"
                continue
            if any(re.search(rf"\bvariables\s*\.\s*{re.escape(n)}\b", expr.expression) for n in errors):
                errors[name] = next(errors[n] for n in errors
                                    if re.search(rf"\bvariables\s*\.\s*{re.escape(n)}\b", expr.expression))
                continue
            try:
                values[name] = machinery.evaluate(expr.program, {**activation, "variables": values})
            except machinery.CELError as err:
                errors[name] = str(err)
        return values, errors
