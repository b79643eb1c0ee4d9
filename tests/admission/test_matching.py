"""Which webhooks a request reaches: namespace and object selectors, matchConditions (against a real server)."""

from __future__ import annotations

from typing import Any

import pytest

from admission import Attributes, Dispatcher
from machinery import Forbidden, InternalError, NotFound
from tests.admission.helpers import (
    WebhookServer,
    add_label,
    allow,
    configuration,
    namespace_object,
    pod,
    pod_attributes,
    webhook,
)

EVERYTHING = [{"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"]}]


async def _calls(webhooks: WebhookServer, dispatcher: Dispatcher, attrs: Attributes, **hook: Any) -> int:
    """How many times a validating webhook with these fields was called for `attrs`."""
    url = webhooks.route("/count", lambda review: allow(review))
    dispatcher.configure([], [configuration("v", webhook("count.example.com", url, **hook), mutating=False)])
    await dispatcher.validate(attrs)
    return len(webhooks.reviews["/count"])


def node(labels: dict[str, str] | None = None) -> Attributes:
    attrs = pod_attributes()
    attrs.kind, attrs.resource, attrs.name, attrs.namespace, attrs.namespace_object = "Node", "nodes", "n1", "", None
    attrs.object = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "labels": labels or {}}}
    attrs.namespaced = False
    return attrs


def namespace(operation: str, labels: dict[str, str], old_labels: dict[str, str] | None = None) -> Attributes:
    attrs = pod_attributes(operation)
    attrs.kind, attrs.resource, attrs.name, attrs.namespace = "Namespace", "namespaces", "team", "team"
    attrs.object = None if operation == "DELETE" else namespace_object("team", labels)
    attrs.old_object = None if old_labels is None else namespace_object("team", old_labels)
    attrs.namespace_object = namespace_object("team", old_labels if old_labels is not None else labels)
    attrs.namespaced = False
    return attrs


PROD = {"matchLabels": {"env": "prod"}}


@pytest.mark.parametrize(("attrs", "selector", "calls"), [
    (pod_attributes(namespace_labels={"env": "prod"}), PROD, 1),
    (pod_attributes(namespace_labels={"env": "dev"}), PROD, 0),
    (pod_attributes(namespace_labels={}), {"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}, 1),
    (pod_attributes(missing_namespace=True), {}, 1),  # an empty selector needs no namespace
    (node(), PROD, 1),  # cluster-scoped objects other than namespaces always match
    (namespace("CREATE", {"env": "prod"}), PROD, 1),  # a namespace matches on its own (new) labels
    (namespace("UPDATE", {"env": "dev"}, {"env": "prod"}), PROD, 0),
    (namespace("DELETE", {}, {"env": "prod"}), PROD, 1),
], ids=["labels match", "labels differ", "expression", "empty selector", "cluster-scoped", "namespace create",
        "namespace update uses the new labels", "namespace delete uses the stored labels"])
async def test_namespace_selector(webhooks: WebhookServer, dispatcher: Dispatcher, attrs: Attributes,
                                  selector: dict[str, Any], calls: int) -> None:
    assert await _calls(webhooks, dispatcher, attrs, rules=EVERYTHING, namespaceSelector=selector) == calls


async def test_a_missing_namespace_is_404_only_when_a_rule_matches(webhooks: WebhookServer,
                                                                   dispatcher: Dispatcher) -> None:
    attrs = pod_attributes(missing_namespace=True)
    with pytest.raises(NotFound) as caught:
        await _calls(webhooks, dispatcher, attrs, namespaceSelector=PROD)
    assert caught.value.message == 'namespaces "default" not found'
    nodes_only = [{**EVERYTHING[0], "resources": ["nodes"]}]
    assert await _calls(webhooks, dispatcher, attrs, namespaceSelector=PROD, rules=nodes_only) == 0


@pytest.mark.parametrize(("attrs", "calls"), [
    (pod_attributes("CREATE", pod(labels={"inject": "yes"})), 1),
    (pod_attributes("CREATE", pod(labels={"inject": "no"})), 0),
    (pod_attributes("CREATE", pod()), 0),
    (pod_attributes("UPDATE", pod(), pod(labels={"inject": "yes"})), 1),  # the old object's labels count too
    (pod_attributes("DELETE", None, pod(labels={"inject": "yes"})), 1),
    (pod_attributes("DELETE", None, pod()), 0),
], ids=["new labels", "other value", "no labels", "old labels", "delete", "delete without labels"])
async def test_object_selector(webhooks: WebhookServer, dispatcher: Dispatcher, attrs: Attributes, calls: int) -> None:
    selector = {"matchLabels": {"inject": "yes"}}
    assert await _calls(webhooks, dispatcher, attrs, rules=EVERYTHING, objectSelector=selector) == calls


async def test_an_unparsable_stored_selector_is_an_internal_error(webhooks: WebhookServer,
                                                                  dispatcher: Dispatcher) -> None:
    selector = {"matchExpressions": [{"key": "a", "operator": "Maybe"}]}
    with pytest.raises(InternalError):
        await _calls(webhooks, dispatcher, pod_attributes(), objectSelector=selector)


@pytest.mark.parametrize(("conditions", "calls"), [
    (["true"], 1),
    (["false"], 0),
    (["request.operation == 'CREATE'", "object.metadata.name == 'web'"], 1),
    (["request.userInfo.username == 'system:admin'", "request.namespace == 'other'"], 0),
    (["oldObject == null", "request.resource.resource == 'pods' && request.kind.kind == 'Pod'"], 1),
    (["has(object.metadata.labels)"], 0),
    (["object.spec.nope == 1", "false"], 0),  # a false condition wins over errors
    (["!request.dryRun"], 1),
], ids=["true", "false", "all true", "one false", "request and oldObject", "has", "false wins", "dryRun"])
async def test_match_conditions(webhooks: WebhookServer, dispatcher: Dispatcher, conditions: list[str],
                                calls: int) -> None:
    named = [{"name": f"c{i}", "expression": e} for i, e in enumerate(conditions)]
    assert await _calls(webhooks, dispatcher, pod_attributes(), matchConditions=named) == calls


async def test_a_failing_match_condition_rejects_under_fail_and_skips_under_ignore(
        webhooks: WebhookServer, dispatcher: Dispatcher) -> None:
    conditions = [{"name": "broken", "expression": "object.spec.nope == 1"}, {"name": "fine", "expression": "true"}]
    with pytest.raises(Forbidden) as caught:
        await _calls(webhooks, dispatcher, pod_attributes(), matchConditions=conditions)
    assert caught.value.status() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "pods \"web\" is forbidden: expression 'object.spec.nope == 1' resulted in error: no such key: nope",
        "reason": "Forbidden", "details": {"name": "web", "kind": "pods"}, "code": 403}
    assert await _calls(webhooks, dispatcher, pod_attributes(), matchConditions=conditions,
                        failurePolicy="Ignore") == 0


async def test_match_conditions_see_earlier_patches(webhooks: WebhookServer, dispatcher: Dispatcher) -> None:
    first = webhooks.route("/first", add_label("team", "blue"))
    second = webhooks.route("/second", add_label("seen", "yes"))
    condition = [{"name": "labelled", "expression": "object.metadata.labels.team == 'blue'"}]
    dispatcher.configure([configuration("m", webhook("first.example.com", first),
                                        webhook("second.example.com", second, matchConditions=condition))], [])
    obj, _ = await dispatcher.mutate(pod_attributes())
    assert obj is not None and obj["metadata"]["labels"] == {"team": "blue", "seen": "yes"}

