"""Custom resource conversion, the pure parts: the review sent, the answer's checks, kube's messages."""

from __future__ import annotations

import base64
import copy
from typing import Any

import orjson
import pytest

from crd.conversion import (
    ConversionError,
    ServiceReference,
    check_versions,
    client_config,
    convert_none,
    gvk_string,
    parse_review_response,
    restore_object_meta,
    review_request,
    review_version,
)
from machinery import server_response_message

Obj = dict[str, Any]

UID = "705ab4f5-6393-11e8-b7cc-42010a800002"
V2 = "example.com/v2"
GVK = "example.com/v1, Kind=Widget"


def widget(name: str = "w", **meta: Any) -> Obj:
    return {"apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": name, "namespace": "ns", "uid": f"uid-{name}", "resourceVersion": "7",
                         "generation": 2, "labels": {"app": "w"}, **meta},
            "spec": {"size": 3}}


def converted(obj: Obj, **changes: Any) -> Obj:
    """What a well-behaved webhook answers for obj: v2 with spec.dimensions.size."""
    out = {**copy.deepcopy(obj), "apiVersion": V2, "spec": {"dimensions": {"size": obj["spec"]["size"]}}}
    out.update(changes)
    return out


def answer(items: Any, *, uid: str = UID, status: str = "Success", message: str = "", **review: Any) -> bytes:
    result: Obj = {"status": status, **({"message": message} if message else {})}
    body = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
            "response": {"uid": uid, "convertedObjects": items, "result": result}}
    body.update(review)
    return orjson.dumps(body)


def crd(**conversion: Any) -> Obj:
    return {"metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "versions": [{"name": "v1"}, {"name": "v2"}],
                     "conversion": conversion or {"strategy": "None"}}}


def test_the_review_carries_the_objects_the_desired_version_and_an_empty_response() -> None:
    assert review_request([widget()], V2, UID) == {
        "kind": "ConversionReview",
        "apiVersion": "apiextensions.k8s.io/v1",
        "request": {"uid": UID, "desiredAPIVersion": V2, "objects": [widget()]},
        "response": {"uid": "", "convertedObjects": None, "result": {"metadata": {}}},
    }
    assert review_request([], V2, UID, review_version="v1beta1")["apiVersion"] == "apiextensions.k8s.io/v1beta1"


def test_strategy_none_only_rewrites_the_api_version() -> None:
    obj = widget()
    assert convert_none(obj, V2) == {**widget(), "apiVersion": V2}
    assert obj == widget()


@pytest.mark.parametrize(("api_version", "kind", "expected"), [
    ("example.com/v1", "Widget", "example.com/v1, Kind=Widget"),
    ("v1", "Pod", "/v1, Kind=Pod"),
    (None, None, "/, Kind="),
    ("a/b/c", "X", "/, Kind=X"),
])
def test_group_version_kinds_print_as_kube_prints_them(api_version: Any, kind: Any, expected: str) -> None:
    assert gvk_string(api_version, kind) == expected


def test_a_good_answer_gives_the_converted_objects_in_order() -> None:
    objs = [widget("a"), widget("b")]
    out = parse_review_response(answer([converted(o) for o in objs]), UID, objs, V2)
    assert [o["metadata"]["name"] for o in out] == ["a", "b"]
    assert out[1] == converted(objs[1])


def test_metadata_is_restored_except_labels_and_annotations() -> None:
    obj = widget(annotations={"keep": "me"})
    reply = converted(obj)
    reply["metadata"].update(resourceVersion="99", generation=9, finalizers=["x"],
                             labels={"app": "w", "converted": "true"})
    del reply["metadata"]["annotations"]
    [out] = parse_review_response(answer([reply]), UID, [obj], V2)
    expected = {**obj["metadata"], "labels": {"app": "w", "converted": "true"}}
    del expected["annotations"]  # the webhook dropped them
    assert out["metadata"] == expected
    assert out["spec"] == {"dimensions": {"size": 3}}


FAILED = f"conversion webhook for {GVK} failed: "
INVALID = f"conversion webhook for {GVK} returned invalid object"


@pytest.mark.parametrize(("body", "message"), [
    (b"not json", FAILED + "couldn't get version/kind; json parse error: "),
    (answer([], apiVersion="apiextensions.k8s.io/v1beta1"),
     FAILED + "expected webhook response of apiextensions.k8s.io/v1, Kind=ConversionReview, got "
              "apiextensions.k8s.io/v1beta1, Kind=ConversionReview"),
    (orjson.dumps({"response": {}}),
     FAILED + "expected webhook response of apiextensions.k8s.io/v1, Kind=ConversionReview, got /, Kind="),
    (answer([], response=None), FAILED + "no response provided"),
    (answer([converted(widget())], uid="other"), FAILED + f'expected response.uid="{UID}", got "other"'),
    (answer([], status="Failure", message="cannot convert"), FAILED + "cannot convert"),
    (answer([], status="Failure"), FAILED + "response.result.status was 'Failure', not 'Success'"),
    (answer(None), f"conversion webhook for {GVK} returned 0 objects, expected 1"),
    (answer([converted(widget()), converted(widget())]), f"conversion webhook for {GVK} returned 2 objects, expected 1"),
    (answer([converted(widget(), apiVersion="example.com/v3")]),
     INVALID + " at index 0: invalid groupVersion (expected example.com/v2, received example.com/v3)"),
    (answer([converted(widget(), kind="Gadget")]), INVALID + " at index 0: invalid kind (expected Widget, received Gadget)"),
    (answer([converted(widget(), metadata={**widget()["metadata"], "name": "x"})]),
     INVALID + ": must have the same name: w != x"),
    (answer([converted(widget(), metadata={**widget()["metadata"], "namespace": "other"})]),
     INVALID + ": must have the same namespace: ns != other"),
    (answer([converted(widget(), metadata={**widget()["metadata"], "uid": "u2"})]),
     INVALID + ": must have the same UID: uid-w != u2"),
    (answer([converted(widget(), metadata={**widget()["metadata"], "labels": {"app": 1}})]),
     f"conversion webhook for {GVK} returned invalid metadata: metadata.labels[app] must be a string, but is int64 "
     "in converted object"),
    (answer([converted(widget(), metadata={**widget()["metadata"], "labels": ["a"]})]),
     f"conversion webhook for {GVK} returned invalid metadata: invalid metadata.labels of type []interface {{}} in "
     "converted object"),
    (answer([converted(widget(), metadata={**widget()["metadata"], "labels": {"bad key": "v"}})]),
     f'conversion webhook for {GVK} returned invalid metadata: metadata.labels: Invalid value: "bad key": name part '),
    (answer([converted(widget(), metadata={**widget()["metadata"], "annotations": {"bad key": "v"}})]),
     f'conversion webhook for {GVK} returned invalid metadata: metadata.annotation: Invalid value: "bad key": '),
    (answer([{"apiVersion": V2}]), """Object 'Kind' is missing in '{"apiVersion":"example.com/v2"}'"""),
    (answer(["text"]), "json: cannot unmarshal string into Go value of type map[string]interface {}"),
])
def test_a_bad_answer_fails_with_kubes_message(body: bytes, message: str) -> None:
    with pytest.raises(ConversionError) as err:
        parse_review_response(body, UID, [widget()], V2)
    assert err.value.message.startswith(message), err.value.message


def test_a_list_reports_the_index_of_the_bad_object() -> None:
    objs = [widget("a"), widget("b")]
    with pytest.raises(ConversionError) as err:
        parse_review_response(answer([converted(objs[0]), converted(objs[0])]), UID, objs, V2)
    assert err.value.message == (f"conversion webhook for {GVK} returned invalid converted object at index 1: "
                                 "must have the same name: b != a")
    with pytest.raises(ConversionError) as err:
        parse_review_response(answer([converted(objs[0]), converted(objs[1], metadata="x")]), UID, objs, V2)
    assert err.value.message == (f"conversion webhook for {GVK} returned invalid converted object at index 1: "
                                 "must have the same name: b != ")


def test_a_v1beta1_answer_is_not_checked_for_kind_or_uid() -> None:
    body = orjson.dumps({"response": {"uid": "", "convertedObjects": [converted(widget())],
                                      "result": {"status": "Success"}}})
    [out] = parse_review_response(body, UID, [widget()], V2, review_version="v1beta1")
    assert out["apiVersion"] == V2


@pytest.mark.parametrize(("original_meta", "answered", "message"), [
    (None, {"kind": "Widget"}, "missing metadata in converted object"),
    (None, {"kind": "Widget", "metadata": 3}, "invalid metadata of type int64 in converted object"),
    ({"labels": "x"}, {"kind": "Widget", "metadata": {"labels": {"a": "b"}}},
     "invalid metadata.labels of type string in original object"),
])
def test_restoring_metadata_refuses_what_kube_refuses(original_meta: Any, answered: Obj, message: str) -> None:
    original: Obj = {"kind": "Widget", **({"metadata": original_meta} if original_meta is not None else {})}
    with pytest.raises(ConversionError, match=f"^{message}$".replace("[", r"\[").replace("]", r"\]")):
        restore_object_meta(original, answered)


def test_unchanged_labels_are_not_validated_again() -> None:
    obj = widget(labels={"bad key": "kept from before"})
    [out] = parse_review_response(answer([converted(obj)]), UID, [obj], V2)
    assert out["metadata"]["labels"] == {"bad key": "kept from before"}


@pytest.mark.parametrize(("objects", "desired", "message"), [
    ([widget()], "example.com/v3", "request to convert CR to an invalid group/version: example.com/v3"),
    ([widget()], "other.com/v2", "request to convert CR to an invalid group/version: other.com/v2"),
    ([{**widget(), "apiVersion": "example.com/v9"}], V2, "request to convert CR from an invalid group/version: "
                                                         "example.com/v9"),
    ([widget(), {**widget(), "apiVersion": "v1"}], V2, "request to convert CR list failed, list index 1 has invalid "
                                                       "group/version: v1"),
    ([widget(), {**widget(), "apiVersion": V2}], V2, None),
])
def test_both_ends_must_be_versions_of_the_crd(objects: list[Obj], desired: str, message: str | None) -> None:
    if message is None:
        check_versions(crd(), objects, desired)
        return
    with pytest.raises(ConversionError) as err:
        check_versions(crd(), objects, desired)
    assert err.value.message == message


PEM = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"


@pytest.mark.parametrize(("client", "expected"), [
    ({"url": "https://hook.example.com/convert"}, ("https://hook.example.com/convert", None, b"")),
    ({"service": {"namespace": "ns", "name": "hook"}, "caBundle": base64.b64encode(b"\n  " + PEM + b"\n").decode()},
     (None, ServiceReference("ns", "hook", 443, ""), PEM)),
    ({"service": {"namespace": "ns", "name": "hook", "port": 8443, "path": "/convert"}},
     (None, ServiceReference("ns", "hook", 8443, "/convert"), b"")),
])
def test_the_client_config_is_read_from_the_crd(client: Obj, expected: tuple[Any, ...]) -> None:
    config = client_config(crd(strategy="Webhook", webhook={"clientConfig": client}))
    assert (config.url, config.service, config.ca_bundle) == expected


def test_a_webhook_without_a_target_or_a_known_review_version_fails() -> None:
    with pytest.raises(ConversionError, match=r"^webhook configuration must have either service or URL$"):
        client_config(crd(strategy="Webhook", webhook={"clientConfig": {}}))
    with pytest.raises(ConversionError, match=r"^no supported conversion review versions$"):
        review_version(crd(strategy="Webhook", webhook={"conversionReviewVersions": ["v2"]}))
    assert review_version(crd(strategy="Webhook", webhook={"conversionReviewVersions": ["v9", "v1beta1", "v1"]})) \
        == "v1beta1"
    assert ServiceReference("ns", "hook").server_name == "hook.ns.svc"


@pytest.mark.parametrize(("code", "content_type", "body", "message"), [
    (400, "text/plain", b"bad", "the server rejected our request for an unknown reason"),
    (404, "text/plain", b"", "the server could not find the requested resource"),
    (500, "text/plain; charset=utf-8", b"boom\n", 'an error on the server ("boom") has prevented the request from '
                                                  'succeeding'),
    (502, "application/json", b"{}", 'an error on the server ("unknown") has prevented the request from succeeding'),
    (403, "text/plain", b"go away", "go away"),
    (418, "text/plain", b"", "the server responded with the status code 418 but did not return more information"),
    (500, "application/json", b'{"kind":"Status","apiVersion":"v1","status":"Failure","message":"no"}', "no"),
])
def test_non_2xx_answers_read_as_client_go_reports_them(code: int, content_type: str, body: bytes,
                                                         message: str) -> None:
    assert server_response_message(code, content_type, body) == message
