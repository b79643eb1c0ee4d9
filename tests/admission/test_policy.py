"""ValidatingAdmissionPolicy evaluation in-process: matching, params, actions, failurePolicy, messages."""

from __future__ import annotations

from typing import Any

import pytest

from admission import Attributes, Policies, PolicyRejection, validate_binding, validate_policy
from machinery import LabelSelector


def deployment(replicas: int, namespace: str = "default", **labels: str) -> Attributes:
    obj = {"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web", "namespace": namespace, "labels": labels}, "spec": {"replicas": replicas}}
    return Attributes(operation="CREATE", group="apps", version="v1", kind="Deployment", resource="deployments",
                      subresource="", name="web", namespace=namespace, object=obj, old_object=None, dry_run=False,
                      options={}, user_info={}, namespace_object={"metadata": {"name": namespace}}, namespaced=True)


def policy(name: str = "p", *validations: dict[str, Any], **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"],
                                                "operations": ["CREATE", "UPDATE"], "resources": ["deployments"]}]},
        "validations": list(validations) or [{"expression": "object.spec.replicas <= 5"}],
    }
    body.update(spec)
    return {"metadata": {"name": name}, "spec": body}


def binding(name: str = "b", policy_name: str = "p", actions: tuple[str, ...] = ("Deny",),
            **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name},
            "spec": {"policyName": policy_name, "validationActions": list(actions), **spec}}


def run(policies: list[dict[str, Any]], bindings: list[dict[str, Any]], attrs: Attributes,
        params: Any = None) -> list[str]:
    chain = Policies()
    chain.configure(policies, bindings)
    return chain.validate(attrs, params)


def test_a_violation_is_denied_with_kubes_wording_and_invalid_by_default() -> None:
    with pytest.raises(PolicyRejection) as info:
        run([policy()], [binding()], deployment(6))
    err = info.value
    assert err.code == 422 and err.reason == "Invalid"
    assert err.message == ('deployments.apps "web" is forbidden: ValidatingAdmissionPolicy \'p\' with binding '
                           "'b' denied request: failed expression: object.spec.replicas <= 5")
    assert run([policy()], [binding()], deployment(5)) == []


def test_reason_message_and_message_expression() -> None:
    v = {"expression": "object.spec.replicas <= 5", "reason": "Forbidden", "message": "too many",
         "messageExpression": "'replicas ' + string(object.spec.replicas) + ' > 5'"}
    with pytest.raises(PolicyRejection) as info:
        run([policy("p", v)], [binding()], deployment(7))
    assert info.value.code == 403 and info.value.message.endswith("denied request: replicas 7 > 5")
    v["messageExpression"] = "object.missing"  # fails: the static message is used
    with pytest.raises(PolicyRejection) as info:
        run([policy("p", v)], [binding()], deployment(7))
    assert info.value.message.endswith("denied request: too many")


def test_warn_and_audit_allow() -> None:
    warnings = run([policy()], [binding(actions=("Warn", "Audit"))], deployment(6))
    assert warnings == ["Validation failed for ValidatingAdmissionPolicy 'p' with binding 'b': "
                        "failed expression: object.spec.replicas <= 5"]


def test_unbound_or_unmatched_policies_do_nothing() -> None:
    assert run([policy()], [binding(policy_name="other")], deployment(9)) == []
    excluded = policy()
    excluded["spec"]["matchConstraints"]["namespaceSelector"] = {"matchLabels": {"env": "prod"}}
    assert run([excluded], [binding()], deployment(9)) == []
    narrowed = binding(matchResources={"objectSelector": {"matchLabels": {"checked": "yes"}}})
    assert run([policy()], [narrowed], deployment(9)) == []
    with pytest.raises(PolicyRejection):
        run([policy()], [narrowed], deployment(9, checked="yes"))


def test_match_conditions_skip_and_errors_follow_failure_policy() -> None:
    skip = policy(matchConditions=[{"name": "not-kube-system", "expression": "request.namespace != 'kube-system'"}])
    assert run([skip], [binding()], deployment(9, namespace="kube-system")) == []
    with pytest.raises(PolicyRejection):
        run([skip], [binding()], deployment(9))
    broken = policy(matchConditions=[{"name": "c", "expression": "object.nope == 1"}])
    with pytest.raises(PolicyRejection) as info:
        run([broken], [binding()], deployment(1))
    assert "expression 'object.nope == 1' resulted in error: no such key: nope" in info.value.message
    broken["spec"]["failurePolicy"] = "Ignore"
    assert run([broken], [binding()], deployment(9)) == []


def test_evaluation_errors_follow_failure_policy() -> None:
    p = policy("p", {"expression": "object.spec.missing > 1"})
    with pytest.raises(PolicyRejection) as info:
        run([p], [binding()], deployment(1))
    assert info.value.message.endswith(
        "denied request: expression 'object.spec.missing > 1' resulted in error: no such key: missing")
    p["spec"]["failurePolicy"] = "Ignore"
    assert run([p], [binding()], deployment(1)) == []


def test_params_by_name_and_not_found_actions() -> None:
    store = {("default", "limits"): {"metadata": {"name": "limits", "namespace": "default"}, "data": {"max": "3"}}}

    def lookup(api_version: str, kind: str, namespace: str | None, name: str | None,
               selector: LabelSelector | None) -> list[dict[str, Any]]:
        assert (api_version, kind) == ("v1", "ConfigMap")
        found = store.get((namespace or "", name or ""))
        return [found] if found else []

    p = policy("p", {"expression": "object.spec.replicas <= int(params.data.max)"},
               paramKind={"apiVersion": "v1", "kind": "ConfigMap"})
    b = binding(paramRef={"name": "limits"})
    with pytest.raises(PolicyRejection):
        run([p], [b], deployment(4), lookup)
    assert run([p], [b], deployment(3), lookup) == []
    missing = binding(paramRef={"name": "absent"})
    with pytest.raises(PolicyRejection) as info:
        run([p], [missing], deployment(1), lookup)
    assert info.value.message.endswith("denied request: failed to configure binding: no params found for policy "
                                       "binding with `Deny` parameterNotFoundAction")
    allow = binding(paramRef={"name": "absent", "parameterNotFoundAction": "Allow"})
    assert run([p], [allow], deployment(100), lookup) == []


def test_variables_feed_validations() -> None:
    p = policy("p", {"expression": "variables.replicas <= variables.limit"},
               variables=[{"name": "replicas", "expression": "object.spec.replicas"},
                          {"name": "limit", "expression": "variables.replicas > 100 ? 0 : 5"}])
    assert run([p], [binding()], deployment(5)) == []
    with pytest.raises(PolicyRejection):
        run([p], [binding()], deployment(6))
    bad = policy("p", {"expression": "variables.broken"}, variables=[{"name": "broken", "expression": "object.x"}])
    with pytest.raises(PolicyRejection) as info:
        run([bad], [binding()], deployment(1))
    assert "no such key: x" in info.value.message


def test_validation_messages() -> None:
    assert [e.message() for e in validate_policy({"spec": {}})] == [
        "spec.matchConstraints: Required value",
        "spec.validations: Required value: validations or auditAnnotations must contain at least one item",
    ]
    errs = [e.message() for e in validate_policy(policy("p", {"expression": "object.", "reason": "Nope"}))]
    assert any(m.startswith('spec.validations[0].expression: Invalid value: "object."') for m in errs)
    assert any(m.startswith('spec.validations[0].reason: Unsupported value: "Nope"') for m in errs)
    assert [e.message() for e in validate_binding({"spec": {"policyName": "p"}})] == [
        "spec.validationActions: Required value: at least one validation action is required"]
    errs = [e.message() for e in validate_binding(binding(paramRef={"parameterNotFoundAction": "Allow"}))]
    assert errs == ["spec.paramRef: Required value: one of name or selector must be specified"]
