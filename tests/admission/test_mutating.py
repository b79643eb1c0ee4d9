"""Mutating webhooks over real HTTP(S): reviews sent, patches applied in order, reinvocation, denials."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from admission import Dispatcher
from machinery import ApiError, InternalError
from tests.admission.helpers import (
    SERVICE_HOST,
    WebhookServer,
    add_label,
    allow,
    configuration,
    deny,
    patch,
    pod,
    pod_attributes,
    webhook,
)


async def test_a_mutating_webhook_adds_a_label(webhooks: WebhookServer, dispatcher: Dispatcher) -> None:
    url = webhooks.route("/mutate", add_label("team", "blue"))
    dispatcher.configure([configuration("m", webhook("label.example.com", url))], [])
    attrs = pod_attributes(options={"fieldManager": "kubectl"})
    obj, warnings = await dispatcher.mutate(attrs)
    assert obj is not None and obj["metadata"]["labels"] == {"team": "blue"}
    assert attrs.object is not None and "labels" not in attrs.object["metadata"]  # the request's object is untouched
    assert warnings == []
    (review,) = webhooks.reviews["/mutate"]
    request = review.pop("request")
    assert review == {"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1"}
    assert len(request.pop("uid")) == 36
    assert request == {
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
        "requestResource": {"group": "", "version": "v1", "resource": "pods"},
        "name": "web",
        "namespace": "default",
        "operation": "CREATE",
        "userInfo": {"username": "system:admin", "groups": ["system:masters", "system:authenticated"]},
        "object": pod(),
        "oldObject": None,
        "dryRun": False,
        "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1", "fieldManager": "kubectl"},
    }
    assert webhooks.queries == ["timeout=10s"]


async def test_https_webhooks_are_verified_against_the_ca_bundle(tls_webhooks: WebhookServer, ca_bundle: str,
                                                                 dispatcher: Dispatcher) -> None:
    url = tls_webhooks.route("/mutate", add_label("tls", "yes"))
    dispatcher.configure([configuration("m", webhook("tls.example.com", clientConfig={"url": url,
                                                                                       "caBundle": ca_bundle}))], [])
    obj, _ = await dispatcher.mutate(pod_attributes())
    assert obj is not None and obj["metadata"]["labels"] == {"tls": "yes"}


async def test_a_service_reference_is_resolved_and_verified_as_the_service(
        tls_webhooks: WebhookServer, ca_bundle: str) -> None:
    tls_webhooks.route("/mutate/pods", add_label("via", "service"))
    resolved: list[tuple[str, str, int, str]] = []

    def resolve(namespace: str, name: str, port: int, path: str) -> str:
        resolved.append((namespace, name, port, path))
        return tls_webhooks.url + path  # 127.0.0.1, while TLS checks <name>.<namespace>.svc

    def hook(name: str) -> dict[str, Any]:
        service = {"namespace": "default", "name": name, "path": "/mutate/pods"}
        return webhook(f"{name}.example.com", clientConfig={"service": service, "caBundle": ca_bundle})

    dispatcher = Dispatcher(resolve_service=resolve)
    try:
        dispatcher.configure([configuration("m", hook("webhook"))], [])  # the certificate names webhook.default.svc
        obj, _ = await dispatcher.mutate(pod_attributes())
        assert obj is not None and obj["metadata"]["labels"] == {"via": "service"}
        dispatcher.configure([configuration("m", hook("other"))], [])
        with pytest.raises(InternalError) as caught:
            await dispatcher.mutate(pod_attributes())
    finally:
        await dispatcher.aclose()
    assert resolved == [("default", "webhook", 443, "/mutate/pods"), ("default", "other", 443, "/mutate/pods")]
    assert SERVICE_HOST == "webhook.default.svc"
    assert caught.value.message.startswith(
        'Internal error occurred: failed calling webhook "other.example.com": failed to call webhook: Post '
        '"https://other.default.svc:443/mutate/pods?timeout=10s": tls: failed to verify certificate: x509: ')


async def test_an_unresolvable_service_fails_the_call() -> None:
    d = Dispatcher(resolve_service=lambda namespace, name, port, path: None)
    try:
        d.configure([configuration("m", webhook("svc.example.com", clientConfig={
            "service": {"namespace": "default", "name": "gone", "port": 8443}}))], [])
        with pytest.raises(InternalError) as caught:
            await d.mutate(pod_attributes())
    finally:
        await d.aclose()
    assert caught.value.message == (
        'Internal error occurred: failed calling webhook "svc.example.com": failed to call webhook: Post '
        '"https://gone.default.svc:8443?timeout=10s": no endpoints available for service "gone"')


async def test_each_mutating_webhook_sees_the_earlier_patches_in_kubes_order(webhooks: WebhookServer,
                                                                             dispatcher: Dispatcher) -> None:
    seen: list[tuple[str, dict[str, str]]] = []

    def recording(key: str) -> Any:
        def handler(review: dict[str, Any]) -> dict[str, Any]:
            seen.append((key, dict(review["request"]["object"]["metadata"].get("labels") or {})))
            return add_label(key, "1")(review)
        return handler

    first, second, third = (webhooks.route(f"/{k}", recording(k)) for k in ("a", "b", "c"))
    # configurations are ordered by name, webhooks within one in their order
    dispatcher.configure([configuration("zz", webhook("c.example.com", third)),
                          configuration("aa", webhook("a.example.com", first), webhook("b.example.com", second))], [])
    obj, _ = await dispatcher.mutate(pod_attributes())
    assert seen == [("a", {}), ("b", {"a": "1"}), ("c", {"a": "1", "b": "1"})]
    assert obj is not None and obj["metadata"]["labels"] == {"a": "1", "b": "1", "c": "1"}


async def test_if_needed_webhooks_are_reinvoked_once_after_a_later_change(webhooks: WebhookServer,
                                                                           dispatcher: Dispatcher) -> None:
    def count_calls(review: dict[str, Any]) -> dict[str, Any]:
        labels = review["request"]["object"]["metadata"].get("labels") or {}
        calls = str(int(labels.get("calls", "0")) + 1)
        op = "replace" if "calls" in labels else "add"
        if not labels:
            return patch(review, {"op": "add", "path": "/metadata/labels", "value": {"calls": calls}})
        return patch(review, {"op": op, "path": "/metadata/labels/calls", "value": calls})

    never = webhooks.route("/never", lambda review: allow(review))
    if_needed = webhooks.route("/if-needed", count_calls)
    later = webhooks.route("/later", add_label("later", "yes"))
    dispatcher.configure([configuration("a", webhook("never.example.com", never),
                                        webhook("if-needed.example.com", if_needed, reinvocationPolicy="IfNeeded"),
                                        webhook("later.example.com", later))], [])
    obj, _ = await dispatcher.mutate(pod_attributes())
    assert obj is not None and obj["metadata"]["labels"] == {"calls": "2", "later": "yes"}
    assert [len(webhooks.reviews[p]) for p in ("/never", "/if-needed", "/later")] == [1, 2, 1]


async def test_no_reinvocation_when_nothing_changed_later(webhooks: WebhookServer, dispatcher: Dispatcher) -> None:
    first = webhooks.route("/first", add_label("first", "x"))
    second = webhooks.route("/second", lambda review: allow(review))
    dispatcher.configure([configuration("a", webhook("first.example.com", first, reinvocationPolicy="IfNeeded"),
                                        webhook("second.example.com", second, reinvocationPolicy="IfNeeded"))], [])
    await dispatcher.mutate(pod_attributes())
    assert [len(webhooks.reviews[p]) for p in ("/first", "/second")] == [1, 1]


async def test_a_denial_carries_the_message_and_code_400_by_default(webhooks: WebhookServer,
                                                                    dispatcher: Dispatcher) -> None:
    url = webhooks.route("/deny", lambda review: deny(review, message="pods must have a team label"))
    dispatcher.configure([configuration("m", webhook("policy.example.com", url))], [])
    with pytest.raises(ApiError) as caught:
        await dispatcher.mutate(pod_attributes())
    assert caught.value.code == 400
    assert caught.value.status() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'admission webhook "policy.example.com" denied the request: pods must have a team label',
        "code": 400}


async def test_a_denial_passes_the_webhooks_code_and_reason_through(webhooks: WebhookServer,
                                                                   dispatcher: Dispatcher) -> None:
    url = webhooks.route("/deny", lambda review: deny(review, code=403, reason="Forbidden", message="no",
                                                      details={"name": "web", "kind": "pods"}))
    dispatcher.configure([configuration("m", webhook("policy.example.com", url))], [])
    with pytest.raises(ApiError) as caught:
        await dispatcher.mutate(pod_attributes())
    assert (caught.value.code, caught.value.reason) == (403, "Forbidden")
    assert caught.value.status() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'admission webhook "policy.example.com" denied the request: no', "reason": "Forbidden",
        "details": {"name": "web", "kind": "pods"}, "code": 403}


@pytest.mark.parametrize(("status", "message", "code"), [
    (None, 'admission webhook "policy.example.com" denied the request without explanation', 400),
    ({"reason": "NotAllowed"}, 'admission webhook "policy.example.com" denied the request: NotAllowed', 400),
    ({"code": 200, "message": "m"}, 'admission webhook "policy.example.com" denied the request: m', 400),
    ({"code": 422, "message": "m"}, 'admission webhook "policy.example.com" denied the request: m', 422),
])
async def test_denials_are_worded_as_kube_words_them(webhooks: WebhookServer, dispatcher: Dispatcher,
                                                     status: dict[str, Any] | None, message: str, code: int) -> None:
    def handler(review: dict[str, Any]) -> dict[str, Any]:
        answer = allow(review, allowed=False)
        if status is not None:
            answer["response"]["status"] = status
        return answer

    dispatcher.configure([configuration("m", webhook("policy.example.com", webhooks.route("/deny", handler)))], [])
    with pytest.raises(ApiError) as caught:
        await dispatcher.mutate(pod_attributes())
    assert (caught.value.message, caught.value.code) == (message, code)


async def test_warnings_are_collected_once(webhooks: WebhookServer, dispatcher: Dispatcher) -> None:
    a = webhooks.route("/a", lambda review: allow(review, warnings=["deprecated field", "other"]))
    b = webhooks.route("/b", lambda review: allow(review, warnings=["deprecated field"]))
    dispatcher.configure([configuration("m", webhook("a.example.com", a), webhook("b.example.com", b))], [])
    _, warnings = await dispatcher.mutate(pod_attributes())
    assert warnings == ["deprecated field", "other"]


async def test_a_patch_that_does_not_apply_is_an_internal_error(webhooks: WebhookServer,
                                                               dispatcher: Dispatcher) -> None:
    url = webhooks.route("/bad", lambda review: patch(review, {"op": "remove", "path": "/metadata/labels/x"}))
    dispatcher.configure([configuration("m", webhook("bad.example.com", url, failurePolicy="Ignore"))], [])
    with pytest.raises(InternalError) as caught:  # whatever the failurePolicy
        await dispatcher.mutate(pod_attributes())
    assert caught.value.message.startswith("Internal error occurred: ")


@pytest.mark.parametrize(("response", "reason"), [
    ({"patch": base64.b64encode(b"[]").decode()}, "webhook returned response.patch but not response.patchType"),
    ({"patchType": "JSONPatch"}, "webhook returned response.patchType but not response.patch"),
    ({"patchType": "MergePatch", "patch": base64.b64encode(b'[{"op":"add","path":"/a","value":1}]').decode()},
     'unsupported patch type "MergePatch"'),
    ({"patchType": "JSONPatch", "patch": base64.b64encode(b"{}").decode()},
     "received undecodable patch in webhook response: json: cannot unmarshal into Go value of type jsonpatch.Patch"),
])
async def test_bad_patches_are_failed_calls(webhooks: WebhookServer, dispatcher: Dispatcher,
                                            response: dict[str, Any], reason: str) -> None:
    url = webhooks.route("/bad", lambda review: allow(review, **response))
    dispatcher.configure([configuration("m", webhook("bad.example.com", url))], [])
    with pytest.raises(InternalError) as caught:
        await dispatcher.mutate(pod_attributes())
    assert reason in caught.value.message
    dispatcher.configure([configuration("m", webhook("bad.example.com", url, failurePolicy="Ignore"))], [])
    assert (await dispatcher.mutate(pod_attributes()))[0] == pod()


async def test_delete_is_admitted_with_the_old_object(webhooks: WebhookServer, dispatcher: Dispatcher) -> None:
    url = webhooks.route("/delete", lambda review: allow(review))
    rules = [{"operations": ["DELETE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}]
    dispatcher.configure([configuration("m", webhook("delete.example.com", url, rules=rules))], [])
    obj, _ = await dispatcher.mutate(pod_attributes("DELETE", old=pod(), options={"propagationPolicy": "Background"}))
    assert obj is None
    request = webhooks.reviews["/delete"][0]["request"]
    assert (request["operation"], request["object"], request["oldObject"]) == ("DELETE", None, pod())
    assert request["options"] == {"kind": "DeleteOptions", "apiVersion": "meta.k8s.io/v1",
                                  "propagationPolicy": "Background"}


async def test_a_patch_of_a_delete_is_refused(webhooks: WebhookServer, dispatcher: Dispatcher) -> None:
    url = webhooks.route("/delete", lambda review: patch(review, {"op": "add", "path": "/x", "value": 1}))
    rules = [{"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"]}]
    dispatcher.configure([configuration("m", webhook("delete.example.com", url, rules=rules))], [])
    with pytest.raises(InternalError) as caught:
        await dispatcher.mutate(pod_attributes("DELETE", old=pod()))
    assert caught.value.message == ('Internal error occurred: admission webhook "delete.example.com" attempted to '
                                    "modify the object, which is not supported for this operation")


async def test_a_subresource_write_is_admitted_as_the_subresource(webhooks: WebhookServer,
                                                                 dispatcher: Dispatcher) -> None:
    url = webhooks.route("/status", lambda review: allow(review))
    rules = [{"operations": ["UPDATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods/status"]}]
    dispatcher.configure([configuration("m", webhook("status.example.com", url, rules=rules))], [])
    await dispatcher.mutate(pod_attributes("UPDATE", pod(), pod()))  # the main resource: not intercepted
    await dispatcher.mutate(pod_attributes("UPDATE", pod(), pod(), subresource="status"))
    (review,) = webhooks.reviews["/status"]
    assert (review["request"]["subResource"], review["request"]["requestSubResource"]) == ("status", "status")
    assert review["request"]["oldObject"] == pod()


async def test_equivalent_match_policy_sends_the_object_as_the_rules_version(webhooks: WebhookServer) -> None:
    url = webhooks.route("/v1beta1", lambda review: patch(review, {"op": "add", "path": "/spec/seen",
                                                                   "value": review["request"]["object"]["apiVersion"]}))
    rules = [{"operations": ["CREATE"], "apiGroups": ["example.com"], "apiVersions": ["v1beta1"],
              "resources": ["widgets"]}]
    d = Dispatcher(served_versions=lambda group, resource: ["v1", "v1beta1"])
    attrs = pod_attributes()
    attrs.group, attrs.version, attrs.kind, attrs.resource = "example.com", "v1", "Widget", "widgets"
    attrs.object = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {}}
    try:
        d.configure([configuration("m", webhook("exact.example.com", url, rules=rules, matchPolicy="Exact"))], [])
        assert (await d.mutate(attrs))[0] == attrs.object
        assert webhooks.reviews["/v1beta1"] == []
        d.configure([configuration("m", webhook("eq.example.com", url, rules=rules))], [])
        obj, _ = await d.mutate(attrs)
    finally:
        await d.aclose()
    assert obj == {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
                   "spec": {"seen": "example.com/v1beta1"}}
    request = webhooks.reviews["/v1beta1"][0]["request"]
    assert request["resource"] == {"group": "example.com", "version": "v1beta1", "resource": "widgets"}
    assert request["requestResource"] == {"group": "example.com", "version": "v1", "resource": "widgets"}


async def test_v1beta1_reviews_for_webhooks_that_only_speak_v1beta1(webhooks: WebhookServer,
                                                                    dispatcher: Dispatcher) -> None:
    def old_style(review: dict[str, Any]) -> dict[str, Any]:  # no uid, no patchType: v1beta1 checked neither
        ops = orjson.dumps([{"op": "add", "path": "/metadata/labels", "value": {"old": "style"}}])
        return {"response": {"allowed": True, "patch": base64.b64encode(ops).decode()}}

    url = webhooks.route("/beta", old_style)
    dispatcher.configure([configuration("m", webhook("beta.example.com", url,
                                                     admissionReviewVersions=["v1beta1"]))], [])
    obj, _ = await dispatcher.mutate(pod_attributes())
    assert obj is not None and obj["metadata"]["labels"] == {"old": "style"}
    assert webhooks.reviews["/beta"][0]["apiVersion"] == "admission.k8s.io/v1beta1"


async def test_webhook_configurations_are_never_intercepted(webhooks: WebhookServer, dispatcher: Dispatcher) -> None:
    url = webhooks.route("/all", lambda review: deny(review, message="no"))
    rules = [{"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"]}]
    dispatcher.configure([configuration("m", webhook("all.example.com", url, rules=rules))], [])
    attrs = pod_attributes()
    attrs.group, attrs.kind, attrs.resource = "admissionregistration.k8s.io", "MutatingWebhookConfiguration", \
        "mutatingwebhookconfigurations"
    attrs.namespace, attrs.namespace_object = "", None
    assert (await dispatcher.mutate(attrs))[0] is attrs.object
    assert await dispatcher.validate(attrs) == []
    assert webhooks.reviews["/all"] == []


async def test_one_pooled_connection_serves_many_calls(webhooks: WebhookServer, dispatcher: Dispatcher) -> None:
    url = webhooks.route("/ok", lambda review: allow(review))
    dispatcher.configure([configuration("m", webhook("ok.example.com", url))], [])
    for _ in range(5):
        await dispatcher.mutate(pod_attributes())
    assert len(webhooks.clients) == 5 and len(set(webhooks.clients)) == 1  # keep-alive


async def test_configure_replaces_the_chain(webhooks: WebhookServer, dispatcher: Dispatcher) -> None:
    url = webhooks.route("/x", add_label("x", "1"))
    dispatcher.configure([configuration("m", webhook("x.example.com", url))], [])
    assert (await dispatcher.mutate(pod_attributes()))[0] != pod()
    dispatcher.configure([], [])
    assert (await dispatcher.mutate(pod_attributes()))[0] == pod()
