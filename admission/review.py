"""AdmissionReview out and back: kube's request/admissionreview.go (CreateV1AdmissionReview,
VerifyAdmissionResponse), and the decoding checks Go's JSON decoder makes on the way in."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass, field
from typing import Any

from admission.attributes import Attributes

REVIEW_GROUP = "admission.k8s.io"
_OPTIONS_KIND = {"CREATE": "CreateOptions", "UPDATE": "UpdateOptions", "DELETE": "DeleteOptions"}


class UndecodableResponse(Exception):
    """The answer is not an AdmissionReview Go could decode (kube: `failed to call webhook: ...`)."""


class InvalidResponse(Exception):
    """A decodable but wrong answer (kube: `received invalid webhook response: ...`)."""


@dataclass
class Response:
    """The parts of an AdmissionResponse admission acts on."""

    allowed: bool
    patch: bytes = b""
    patch_type: str = ""
    result: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)


def new_uid() -> str:
    return str(uuid.uuid4())


def _at_version(obj: dict[str, Any] | None, group: str, version: str) -> dict[str, Any] | None:
    """The object as another version of its resource sees it (conversion strategy None: apiVersion only)."""
    if obj is None:
        return None
    return {**obj, "apiVersion": f"{group}/{version}" if group else version}


def admission_request(attrs: Attributes, version: str, *, uid: str | None = None, obj: dict[str, Any] | None = None,
                      old: dict[str, Any] | None = None) -> dict[str, Any]:
    """An AdmissionRequest, in Go's field order; without uid (and objects) it is matchConditions' `request`.

    `version` is the resource version the webhook is to see; `requestKind`/`requestResource` keep the
    request's own.
    """
    group = attrs.group
    request: dict[str, Any] = {"uid": uid} if uid is not None else {}
    request["kind"] = {"group": group, "version": version, "kind": attrs.kind}
    request["resource"] = {"group": group, "version": version, "resource": attrs.resource}
    if attrs.subresource:
        request["subResource"] = attrs.subresource
    request["requestKind"] = {"group": group, "version": attrs.version, "kind": attrs.kind}
    request["requestResource"] = {"group": group, "version": attrs.version, "resource": attrs.resource}
    if attrs.subresource:
        request["requestSubResource"] = attrs.subresource
    if attrs.name:
        request["name"] = attrs.name
    if attrs.namespace:
        request["namespace"] = attrs.namespace
    request["operation"] = attrs.operation
    request["userInfo"] = {k: v for k, v in attrs.user_info.items() if v not in (None, "", [], {})}
    if uid is not None:
        converted = version != attrs.version
        request["object"] = _at_version(obj, group, version) if converted else obj
        request["oldObject"] = _at_version(old, group, version) if converted else old
    request["dryRun"] = attrs.dry_run
    request["options"] = _options(attrs)
    return request


def _options(attrs: Attributes) -> dict[str, Any] | None:
    kind = _OPTIONS_KIND.get(attrs.operation)
    if kind is None:
        return attrs.options or None
    return {"kind": kind, "apiVersion": "meta.k8s.io/v1", **(attrs.options or {})}


def review(version: str, request: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "AdmissionReview", "apiVersion": f"{REVIEW_GROUP}/{version}", "request": request}


# --- the answer ---

_GO_KINDS = {dict: "object", list: "array", str: "string", bool: "bool", int: "number", float: "number"}
_FIELDS: dict[str, tuple[type | tuple[type, ...], str]] = {  # AdmissionResponse field -> (Python, Go type)
    "uid": (str, "types.UID"),
    "allowed": (bool, "bool"),
    "status": (dict, "v1.Status"),
    "patch": (str, "[]uint8"),
    "patchType": (str, "v1.PatchType"),
    "auditAnnotations": (dict, "map[string]string"),
    "warnings": (list, "[]string"),
}
_STATUS_FIELDS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "status": (str, "string"), "message": (str, "string"), "reason": (str, "v1.StatusReason"),
    "details": (dict, "v1.StatusDetails"), "code": (int, "int32"), "metadata": (dict, "v1.ListMeta"),
}


def _type_error(value: Any, where: str, go_type: str) -> UndecodableResponse:
    kind = _GO_KINDS.get(type(value), "value")
    return UndecodableResponse(f"json: cannot unmarshal {kind} into Go struct field {where} of type {go_type}")


def _check_fields(obj: dict[str, Any], fields: dict[str, tuple[type | tuple[type, ...], str]], where: str) -> None:
    for name, (python_type, go_type) in fields.items():
        value = obj.get(name)
        if value is not None and (not isinstance(value, python_type) or (python_type is int and
                                                                         isinstance(value, bool))):
            raise _type_error(value, f"{where}.{name}", go_type)


def decode_response(body: Any) -> dict[str, Any]:
    """Check the decoded JSON as Go's decoder would; returns the response with `patch` as bytes."""
    if not isinstance(body, dict):
        raise UndecodableResponse(f"json: cannot unmarshal {_GO_KINDS.get(type(body), 'value')} into Go value "
                                  "of type v1.AdmissionReview")
    response = body.get("response")
    if response is None:
        return body
    if not isinstance(response, dict):
        raise _type_error(response, "AdmissionReview.response", "v1.AdmissionResponse")
    _check_fields(response, _FIELDS, "AdmissionResponse.response")
    if isinstance(response.get("status"), dict):
        _check_fields(response["status"], _STATUS_FIELDS, "AdmissionResponse.response.status")
    warnings = response.get("warnings") or []
    if not all(isinstance(w, str) for w in warnings):
        raise UndecodableResponse("json: cannot unmarshal value into Go struct field AdmissionResponse.response."
                                  "warnings of type string")
    if isinstance(response.get("patch"), str):
        try:
            response["patch"] = base64.b64decode(response["patch"], validate=True)
        except (binascii.Error, ValueError) as err:
            raise UndecodableResponse(f"illegal base64 data: {err}") from None
    return body


def verify_response(body: dict[str, Any], uid: str, *, version: str, mutating: bool) -> Response:
    """VerifyAdmissionResponse: the answer belongs to this request, and patches come only from mutators."""
    response = body.get("response")
    if response is None:
        raise InvalidResponse("webhook response was absent")
    patch: bytes = response.get("patch") or b""
    patch_type = response.get("patchType")
    if version == "v1":
        if response.get("uid", "") != uid:
            raise InvalidResponse(f'expected response.uid="{uid}", got "{response.get("uid", "")}"')
        group, _, got_version = str(body.get("apiVersion") or "").rpartition("/")
        if (group, got_version, body.get("kind")) != (REVIEW_GROUP, "v1", "AdmissionReview"):
            raise InvalidResponse("expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got "
                                  f"{group}/{got_version}, Kind={body.get('kind') or ''}")
        if mutating:
            if patch and patch_type is None:
                raise InvalidResponse("webhook returned response.patch but not response.patchType")
            if not patch and patch_type is not None:
                raise InvalidResponse("webhook returned response.patchType but not response.patch")
            if patch_type == "":
                raise InvalidResponse('webhook returned invalid response.patchType of ""')
        elif patch:
            raise InvalidResponse("validating webhook may not return response.patch")
        elif patch_type is not None:
            raise InvalidResponse("validating webhook may not return response.patchType")
    else:  # v1beta1 checked neither uid nor patchType; a patch is a JSONPatch
        patch_type = "JSONPatch" if patch and mutating else ""
        patch = patch if mutating else b""
    return Response(allowed=bool(response.get("allowed")), patch=patch if mutating else b"",
                    patch_type=patch_type or "", result=response.get("status"),
                    warnings=list(response.get("warnings") or []))
