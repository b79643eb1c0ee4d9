"""Webhooks compiled from their stored configurations, and whether one applies to a request.

Matching follows kube's generic.Webhook.ShouldCallHook (plugin/webhook/generic/webhook.go): namespaceSelector
(predicates/namespace), objectSelector on the new or the old object (predicates/object), the rules
(predicates/rules) with matchPolicy Equivalent trying the other served versions of the same group and
resource, then matchConditions (matchconditions/matcher.go). Selector and namespace errors count only when
a rule matches, as in kube.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import machinery
from admission.attributes import Attributes
from admission.configuration import DEFAULT_TIMEOUT_SECONDS, MATCH_CONDITION_VARIABLES, default_webhook_configuration
from admission.kinds import MUTATING_KIND
from machinery import ApiError, BadRequest, Forbidden, InternalError, LabelSelector, NotFound, label_selector_from_dict

if TYPE_CHECKING:
    from machinery import Program

ServedVersions = Callable[[str, str], Sequence[str]]  # (group, resource) -> the versions the server serves
REVIEW_VERSIONS = ("v1", "v1beta1")  # the AdmissionReview versions we speak, first preferred


@dataclass(frozen=True)
class Condition:
    """One matchCondition: its compiled program, or why it does not compile."""

    name: str
    expression: str
    program: Program | None
    error: str = ""


@dataclass(frozen=True)
class Webhook:
    """One webhook of a configuration, defaulted and parsed once per configuration change."""

    uid: str  # "<configuration>/<webhook>/<index>", kube's accessor UID (reinvocation bookkeeping)
    configuration: str
    name: str
    mutating: bool
    rules: tuple[dict[str, Any], ...]
    fail_open: bool  # failurePolicy: Ignore
    equivalent: bool  # matchPolicy: Equivalent
    namespace_selector: LabelSelector | ApiError  # the error is raised when a rule matches
    object_selector: LabelSelector | ApiError
    side_effects: str | None
    timeout: int  # seconds
    reinvoke: bool  # reinvocationPolicy: IfNeeded
    conditions: tuple[Condition, ...]
    client_config: dict[str, Any]
    review_version: str | None  # the first AdmissionReview version both sides speak


@dataclass(frozen=True)
class Invocation:
    """A webhook that applies, and the resource version it is to see (another one under Equivalent)."""

    webhook: Webhook
    version: str


def compile_webhooks(configurations: Iterable[dict[str, Any]]) -> tuple[Webhook, ...]:
    """All webhooks of the configurations, ordered as kube orders them: by configuration name, then in order."""
    ordered = sorted(configurations, key=lambda c: str((c.get("metadata") or {}).get("name") or ""))
    hooks: list[Webhook] = []
    for configuration in ordered:
        configuration = copy.deepcopy(configuration)
        default_webhook_configuration(configuration)
        name = str((configuration.get("metadata") or {}).get("name") or "")
        mutating = configuration.get("kind") == MUTATING_KIND
        for i, hook in enumerate(configuration.get("webhooks") or []):
            if isinstance(hook, dict):
                hooks.append(_compile(hook, name, i, mutating=mutating))
    return tuple(hooks)


def _compile(hook: dict[str, Any], configuration: str, index: int, *, mutating: bool) -> Webhook:
    name = str(hook.get("name") or "")
    versions = hook.get("admissionReviewVersions") or []
    timeout = hook.get("timeoutSeconds")
    return Webhook(
        uid=f"{configuration}/{name}/{index}",
        configuration=configuration,
        name=name,
        mutating=mutating,
        rules=tuple(rule for rule in hook.get("rules") or [] if isinstance(rule, dict)),
        fail_open=hook.get("failurePolicy") == "Ignore",
        equivalent=hook.get("matchPolicy") == "Equivalent",
        namespace_selector=_selector(hook.get("namespaceSelector")),
        object_selector=_selector(hook.get("objectSelector")),
        side_effects=hook.get("sideEffects"),
        timeout=timeout if isinstance(timeout, int) and timeout > 0 else DEFAULT_TIMEOUT_SECONDS,
        reinvoke=hook.get("reinvocationPolicy") == "IfNeeded",
        conditions=tuple(_condition(c) for c in hook.get("matchConditions") or [] if isinstance(c, dict)),
        client_config=hook.get("clientConfig") or {},
        review_version=next((v for v in versions if v in REVIEW_VERSIONS), None),
    )


def _selector(selector: Any) -> LabelSelector | ApiError:
    try:
        return label_selector_from_dict(selector if isinstance(selector, dict) else {})
    except BadRequest as err:
        return InternalError.wrap(err)


def _condition(condition: dict[str, Any]) -> Condition:
    name, expression = str(condition.get("name") or ""), str(condition.get("expression") or "").strip()
    try:
        return Condition(name, expression, machinery.compile_rule(expression, variables=MATCH_CONDITION_VARIABLES))
    except machinery.CompileError as err:
        return Condition(name, expression, None, f"compilation error: {err}")


# --- matching ---


def should_call(hook: Webhook, attrs: Attributes, obj: dict[str, Any] | None, old: dict[str, Any] | None,
                request: Callable[[str], dict[str, Any]], served_versions: ServedVersions | None) -> Invocation | None:
    """The invocation if `hook` applies to the request whose current object is `obj`; raises on errors.

    `request(version)` builds the AdmissionRequest fields matchConditions read as `request`.
    """
    namespace_ok, namespace_error = namespace_matches(hook.namespace_selector, attrs, obj)
    if not namespace_ok and namespace_error is None:
        return None
    object_ok, object_error = object_matches(hook.object_selector, obj, old)
    if not object_ok and object_error is None:
        return None
    version = _match_rules(hook, attrs, served_versions)
    if version is None:
        return None
    if namespace_error is not None:
        raise namespace_error
    if object_error is not None:
        raise object_error
    if hook.conditions and not _match_conditions(hook, attrs, {"object": obj, "oldObject": old,
                                                               "request": request(version)}):
        return None
    return Invocation(hook, version)


def rule_matches(rule: dict[str, Any], attrs: Attributes, version: str) -> bool:
    """predicates/rules Matcher.Matches for the request's resource at `version`."""
    return (_scope_matches(rule.get("scope"), attrs)
            and _listed(rule.get("operations"), attrs.operation)
            and _listed(rule.get("apiGroups"), attrs.group)
            and _listed(rule.get("apiVersions"), version)
            and any(_resource_matches(item, attrs) for item in rule.get("resources") or []))


def _scope_matches(scope: Any, attrs: Attributes) -> bool:
    if scope in (None, "*"):
        return True
    if scope == "Namespaced":  # a Namespace is cluster-scoped, even though kube gives it a namespace
        return not attrs.is_namespace and attrs.namespace != ""
    if scope == "Cluster":
        return attrs.is_namespace or attrs.namespace == ""
    return False


def _listed(items: Any, value: str) -> bool:
    return isinstance(items, list) and ("*" in items or value in items)


def _resource_matches(item: Any, attrs: Attributes) -> bool:
    if not isinstance(item, str):
        return False
    resource, _, subresource = item.partition("/")
    return resource in ("*", attrs.resource) and subresource in ("*", attrs.subresource)


def _match_rules(hook: Webhook, attrs: Attributes, served_versions: ServedVersions | None) -> str | None:
    if any(rule_matches(rule, attrs, attrs.version) for rule in hook.rules):
        return attrs.version
    if not hook.equivalent or served_versions is None:
        return None
    others = [v for v in served_versions(attrs.group, attrs.resource) if v != attrs.version]
    for rule in hook.rules:  # earlier rules first, as kube honours them
        for version in others:
            if rule_matches(rule, attrs, version):
                return version
    return None


def _labels(obj: dict[str, Any] | None) -> dict[str, Any]:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    labels = meta.get("labels") if isinstance(meta, dict) else None
    return labels if isinstance(labels, dict) else {}


def namespace_matches(selector: LabelSelector | ApiError, attrs: Attributes,
                      obj: dict[str, Any] | None) -> tuple[bool, ApiError | None]:
    """kube's namespace matcher, shared by webhooks and policies: a cluster-scoped object other than a
    Namespace always matches; a Namespace matches on its own labels, anything else on its namespace's."""
    if not attrs.namespace and not attrs.is_namespace:
        return True, None
    if isinstance(selector, ApiError):
        return False, selector
    if selector.empty:
        return True, None
    if attrs.is_namespace and not attrs.subresource and attrs.operation in ("CREATE", "UPDATE"):
        return selector.matches(_labels(obj)), None
    if attrs.namespace_object is None:  # kube answers 404 here, for backwards compatibility
        return False, NotFound.of("", "namespaces", attrs.namespace or attrs.name)
    return selector.matches(_labels(attrs.namespace_object)), None


def object_matches(selector: LabelSelector | ApiError, obj: dict[str, Any] | None,
                   old: dict[str, Any] | None) -> tuple[bool, ApiError | None]:
    """kube's object matcher: the new or the old object's labels match (webhooks and policies alike)."""
    if isinstance(selector, ApiError):
        return False, selector
    if selector.empty:
        return True, None
    return any(o is not None and selector.matches(_labels(o)) for o in (obj, old)), None


def _match_conditions(hook: Webhook, attrs: Attributes, activation: dict[str, Any]) -> bool:
    """All conditions true: call. Any false: skip. Otherwise errors: Fail rejects (403), Ignore skips."""
    errors = []
    for condition in hook.conditions:
        if condition.program is None:
            errors.append(condition.error)
            continue
        try:
            result = machinery.evaluate(condition.program, activation)
        except machinery.CELError as err:
            errors.append(f"expression '{condition.expression}' resulted in error: {err}")
            continue
        if result is False:
            return False
        if result is not True:
            errors.append(f"expression '{condition.expression}' resulted in error: no such overload")
    if not errors:
        return True
    if hook.fail_open:
        return False
    why = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"  # utilerrors.NewAggregate
    raise Forbidden.of(attrs.group, attrs.resource, attrs.name, why)
