"""Custom resource conversion between a CRD's versions, as apiextensions-apiserver does it.

Pure parts only: the ConversionReview a webhook is sent, the checks its answer must pass,
strategy `None`, and kube's error wording. Calling the webhook over HTTPS is the server's job.

Kube 1.35 (`pkg/apiserver/conversion/{converter,webhook_converter,nop_converter}.go`):
- objects already at the desired version are never sent; the rest go in one review, in order;
- the answer must carry the request's uid (v1 only), `result.status: Success`, exactly as many
  `convertedObjects`, each at the desired apiVersion with the same kind, name, namespace and uid;
- the converted object gets the original's metadata back, except labels and annotations, which
  the webhook may change (re-validated when it did).

Failures raise `ConversionError` with kube's message, which kube answers as a 500. The wording
for one object is the one kube users meet (kube converts read and written objects one at a
time); several objects in one review get kube's list wording, with the index.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from machinery import FieldError, validate_annotations, validate_labels

Obj = dict[str, Any]

REVIEW_GROUP = "apiextensions.k8s.io"
REVIEW_VERSIONS = ("v1", "v1beta1")  # the ConversionReview versions kube can send, in its order of preference
DEFAULT_SERVICE_PORT = 443  # webhook.ClientConfigService: no port means 443


class ConversionError(Exception):
    """A conversion that failed, with the message kube gives the client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ServiceReference:
    namespace: str
    name: str
    port: int = DEFAULT_SERVICE_PORT
    path: str = ""

    @property
    def server_name(self) -> str:
        """The name kube dials and checks the serving certificate against."""
        return f"{self.name}.{self.namespace}.svc"


@dataclass(frozen=True)
class ClientConfig:
    """`spec.conversion.webhook.clientConfig`: exactly one of url and service, and the CA bundle (PEM)."""

    url: str | None
    service: ServiceReference | None
    ca_bundle: bytes  # empty: the system's trust store


def strategy(crd: Obj) -> str:
    return str(((crd.get("spec") or {}).get("conversion") or {}).get("strategy") or "None")


def client_config(crd: Obj) -> ClientConfig:
    """The webhook's client config; the CRD was validated, so only a missing target is reported."""
    webhook = ((crd.get("spec") or {}).get("conversion") or {}).get("webhook") or {}
    cc = webhook.get("clientConfig") or {}
    raw = cc.get("service")
    service = None
    if isinstance(raw, dict):
        port = raw.get("port")
        service = ServiceReference(str(raw.get("namespace") or ""), str(raw.get("name") or ""),
                                   DEFAULT_SERVICE_PORT if port is None else int(port), str(raw.get("path") or ""))
    url = cc.get("url")
    if not url and service is None:
        raise ConversionError("webhook configuration must have either service or URL")
    return ClientConfig(str(url) if url else None, service, decode_ca_bundle(cc.get("caBundle")))


def decode_ca_bundle(value: Any) -> bytes:
    """caBundle is `[]byte` in Go, so base64 in JSON; whitespace around the PEM is allowed (kube #132514)."""
    if not value:
        return b""
    try:
        return base64.b64decode("".join(str(value).split()), validate=True).strip()
    except ValueError as err:
        raise ConversionError(f"unable to load root certificates: {err}") from None


def review_version(crd: Obj) -> str:
    """The first of the CRD's `conversionReviewVersions` kube speaks (createConversionReviewObjects)."""
    webhook = ((crd.get("spec") or {}).get("conversion") or {}).get("webhook") or {}
    for version in webhook.get("conversionReviewVersions") or ():
        if version in REVIEW_VERSIONS:
            return str(version)
    raise ConversionError("no supported conversion review versions")


def gvk_string(api_version: Any, kind: Any) -> str:
    """schema.GroupVersionKind.String(): `example.com/v1, Kind=Widget` (`/v1, Kind=Pod` for the core group)."""
    group, version = _parse_gv(api_version)
    return f"{group}/{version}, Kind={kind if isinstance(kind, str) else ''}"


def _parse_gv(api_version: Any) -> tuple[str, str]:
    """schema.ParseGroupVersion, with an unparsable value read as empty (as Unstructured does)."""
    if not isinstance(api_version, str) or api_version.count("/") > 1:
        return "", ""
    group, _, version = api_version.rpartition("/")
    return group, version


def _gv_string(api_version: Any) -> str:
    group, version = _parse_gv(api_version)
    return f"{group}/{version}" if group else version


def check_versions(crd: Obj, objects: list[Obj], desired_api_version: str) -> None:
    """crConverter.ConvertToVersion: both ends must be versions of the CRD (served or not)."""
    spec = crd.get("spec") or {}
    valid = {(spec.get("group") or "", v.get("name")) for v in spec.get("versions") or []}
    if _parse_gv(desired_api_version) not in valid:
        raise ConversionError(f"request to convert CR to an invalid group/version: {_gv_string(desired_api_version)}")
    for i, obj in enumerate(objects):
        if _parse_gv(obj.get("apiVersion")) not in valid:
            gv = _gv_string(obj.get("apiVersion"))
            if len(objects) == 1:
                raise ConversionError(f"request to convert CR from an invalid group/version: {gv}")
            raise ConversionError(f"request to convert CR list failed, list index {i} has invalid group/version: {gv}")


def convert_none(obj: Obj, desired_api_version: str) -> Obj:
    """Strategy None (nopConverter): the same object under the desired apiVersion."""
    return {**obj, "apiVersion": desired_api_version}


def review_request(objects: list[Obj], desired_api_version: str, uid: str, *, review_version: str = "v1") -> Obj:
    """The ConversionReview kube POSTs, with the empty response stub it sends along."""
    return {
        "kind": "ConversionReview",
        "apiVersion": f"{REVIEW_GROUP}/{review_version}",
        "request": {"uid": uid, "desiredAPIVersion": desired_api_version, "objects": objects},
        "response": {"uid": "", "convertedObjects": None, "result": {"metadata": {}}},
    }


def webhook_failed(objects: list[Obj], reason: str) -> ConversionError:
    """`conversion webhook for <gvk> failed: <reason>`, kube's wording for a call or review that failed."""
    return ConversionError(f"conversion webhook for {_gvk_of(objects)} failed: {reason}")


def _gvk_of(objects: list[Obj]) -> str:
    first = objects[0] if objects else {}
    return gvk_string(first.get("apiVersion"), first.get("kind"))


def parse_review_response(body: bytes, uid: str, objects: list[Obj], desired_api_version: str, *,
                          review_version: str = "v1") -> list[Obj]:
    """The converted objects from a webhook's 2xx answer, checked and with metadata restored, in order.

    `objects` are the objects sent (none already at the desired version).
    """
    try:
        review = orjson.loads(body)
    except orjson.JSONDecodeError as err:
        raise webhook_failed(objects, f"couldn't get version/kind; json parse error: {err}") from None
    converted = _converted_objects(review if isinstance(review, dict) else {}, uid, review_version, objects)
    if len(converted) != len(objects):
        raise ConversionError(f"conversion webhook for {_gvk_of(objects)} returned {len(converted)} objects, "
                              f"expected {len(objects)}")
    check = _check_one if len(objects) == 1 else _check_item
    return [check(original, item, desired_api_version, i) for i, (original, item) in
            enumerate(zip(objects, converted, strict=True))]


def _converted_objects(review: Obj, uid: str, review_version: str, objects: list[Obj]) -> list[Any]:
    """getConvertedObjectsFromResponse (v1beta1 answers were never checked for kind or uid)."""
    if review_version == "v1":
        got = gvk_string(review.get("apiVersion"), review.get("kind"))
        if got != f"{REVIEW_GROUP}/v1, Kind=ConversionReview":
            raise webhook_failed(objects, f"expected webhook response of {REVIEW_GROUP}/v1, Kind=ConversionReview, "
                                          f"got {got}")
    response = review.get("response")
    if not isinstance(response, dict):
        raise webhook_failed(objects, "no response provided")
    got_uid = response.get("uid") or ""
    if review_version == "v1" and got_uid != uid:
        raise webhook_failed(objects, f"expected response.uid={_quote(uid)}, got {_quote(str(got_uid))}")
    result = response.get("result") or {}
    status = result.get("status") or ""
    if status != "Success":
        message = result.get("message")
        raise webhook_failed(objects, str(message) if message else f"response.result.status was '{status}', "
                                                                   "not 'Success'")
    return list(response.get("convertedObjects") or [])


def _check_one(original: Obj, item: Any, desired_api_version: str, _index: int) -> Obj:
    """The single-object checks, with their wording (an unreadable object's error goes out bare)."""
    gvk = gvk_string(original.get("apiVersion"), original.get("kind"))
    converted = _as_object(item)
    for problem in (_wrong_version(converted, desired_api_version), _wrong_kind(original, converted)):
        if problem:
            raise ConversionError(f"conversion webhook for {gvk} returned invalid object at index 0: {problem}")
    if problem := _changed_meta(original, converted):
        raise ConversionError(f"conversion webhook for {gvk} returned invalid object: {problem}")
    try:
        return restore_object_meta(original, converted)
    except ConversionError as err:
        raise ConversionError(f"conversion webhook for {gvk} returned invalid metadata: {err.message}") from None


def _check_item(original: Obj, item: Any, desired_api_version: str, index: int) -> Obj:
    """The same checks for the index-th object of a list."""
    gvk = gvk_string(original.get("apiVersion"), original.get("kind"))
    invalid = f"conversion webhook for {gvk} returned invalid converted object at index {index}"
    try:
        converted = _as_object(item)
    except ConversionError as err:
        raise ConversionError(f"{invalid}: {err.message}") from None
    for problem in (_wrong_version(converted, desired_api_version), _wrong_kind(original, converted),
                    _changed_meta(original, converted)):
        if problem:
            raise ConversionError(f"{invalid}: {problem}")
    try:
        return restore_object_meta(original, converted)
    except ConversionError as err:
        raise ConversionError(f"conversion webhook for {gvk} returned invalid metadata in object at index {index}: "
                              f"{err.message}") from None


def _as_object(item: Any) -> Obj:
    """getRawExtensionObject: an object with a kind, as Unstructured decodes one."""
    if not isinstance(item, dict):
        if item is None:
            raise ConversionError("unexpected end of JSON input")
        raise ConversionError(f"json: cannot unmarshal {_json_kind(item)} into Go value of type "
                              "map[string]interface {}")
    if not isinstance(item.get("kind"), str) or not item["kind"]:
        raise ConversionError(f"Object 'Kind' is missing in '{orjson.dumps(item).decode()}'")
    return item


def _wrong_version(converted: Obj, desired_api_version: str) -> str:
    if _parse_gv(converted.get("apiVersion")) == _parse_gv(desired_api_version):
        return ""
    return (f"invalid groupVersion (expected {_gv_string(desired_api_version)}, "
            f"received {_gv_string(converted.get('apiVersion'))})")


def _wrong_kind(original: Obj, converted: Obj) -> str:
    expected, got = original.get("kind"), converted.get("kind")
    return "" if expected == got else f"invalid kind (expected {expected}, received {got})"


def _changed_meta(original: Obj, converted: Obj) -> str:
    """validateConvertedObject: kind, name, namespace and uid are the webhook's to keep."""
    if original.get("kind") != converted.get("kind"):
        return f"must have the same kind: {original.get('kind')} != {converted.get('kind')}"
    for key, label in (("name", "name"), ("namespace", "namespace"), ("uid", "UID")):
        before, after = _meta_string(original, key), _meta_string(converted, key)
        if before != after:
            return f"must have the same {label}: {before} != {after}"
    return ""


def _meta_string(obj: Obj, key: str) -> str:
    meta = obj.get("metadata")
    value = meta.get(key) if isinstance(meta, dict) else None
    return value if isinstance(value, str) else ""


def restore_object_meta(original: Obj, converted: Obj) -> Obj:
    """restoreObjectMeta: the original's metadata, with the converted object's labels and annotations."""
    answered = converted.get("metadata", _MISSING)
    if answered is _MISSING:
        raise ConversionError("missing metadata in converted object")
    if not isinstance(answered, dict):
        raise ConversionError(f"invalid metadata of type {_go_type(answered)} in converted object")
    meta = original.get("metadata")
    restored: Obj = copy.deepcopy(meta) if isinstance(meta, dict) else {}
    for key, validate, path in (("labels", validate_labels, "metadata.labels"),
                                ("annotations", validate_annotations, "metadata.annotation")):  # sic, kube's path
        value = answered.get(key)
        if value is None:
            restored.pop(key, None)
            continue
        restored[key] = _string_map(key, value, restored.get(key), validate, path)
    return {**converted, "metadata": restored}


_MISSING = object()


def _string_map(key: str, value: Any, before: Any, validate: Callable[[Any, str], list[FieldError]],
                path: str) -> Obj:
    if not isinstance(value, dict):
        raise ConversionError(f"invalid metadata.{key} of type {_go_type(value)} in converted object")
    if before is not None and not isinstance(before, dict):
        raise ConversionError(f"invalid metadata.{key} of type {_go_type(before)} in original object")
    for k, v in value.items():
        if not isinstance(v, str):
            raise ConversionError(f"metadata.{key}[{k}] must be a string, but is {_go_type(v)} in converted object")
    if value != (before or {}) and (errs := validate(value, path)):
        raise ConversionError(_aggregate([e.message() for e in errs]))
    return dict(value)


def _aggregate(messages: list[str]) -> str:
    """utilerrors.Aggregate.Error(): one message alone, several in brackets, duplicates once."""
    unique = list(dict.fromkeys(messages))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


def _quote(text: str) -> str:
    """Go's %q, near enough for messages."""
    return orjson.dumps(text).decode()


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "string" if isinstance(value, str) else "array"


def _go_type(value: Any) -> str:
    """Go's %T of a value Unstructured decoded from JSON."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    return "[]interface {}" if isinstance(value, list) else "map[string]interface {}"
