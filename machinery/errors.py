"""The API error tree; each error renders a `metav1.Status` exactly as kube-apiserver does.

    ApiError(code, reason)
    ├── BadRequest            400 BadRequest
    ├── Unauthorized          401 Unauthorized
    ├── Forbidden             403 Forbidden
    ├── NotFound              404 NotFound
    ├── MethodNotAllowed      405 MethodNotAllowed
    ├── NotAcceptable         406 NotAcceptable
    ├── AlreadyExists         409 AlreadyExists
    ├── Conflict              409 Conflict
    ├── Gone                  410 Gone
    │   └── Expired           410 Expired
    ├── RequestEntityTooLarge 413 RequestEntityTooLarge
    ├── UnsupportedMediaType  415 UnsupportedMediaType
    ├── Invalid               422 Invalid          (details.causes from FieldErrors)
    ├── TooManyRequests       429 TooManyRequests
    ├── InternalError         500 InternalError
    ├── ServiceUnavailable    503 ServiceUnavailable
    └── Timeout               504 Timeout

Messages follow k8s.io/apimachinery/pkg/api/errors/errors.go, since clients match on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import orjson


@dataclass(frozen=True)
class FieldError:
    """One `field.Error` (k8s.io/apimachinery/pkg/util/validation/field/errors.go)."""

    type: str  # kube's ErrorType string, e.g. "FieldValueRequired"
    field: str  # "spec.containers[0].name"
    detail: str = ""
    value: Any = None
    has_value: bool = False

    # ErrorType -> the text kube prints for it.
    TEXT: ClassVar[dict[str, str]] = {
        "FieldValueNotFound": "Not found",
        "FieldValueRequired": "Required value",
        "FieldValueDuplicate": "Duplicate value",
        "FieldValueInvalid": "Invalid value",
        "FieldValueNotSupported": "Unsupported value",
        "FieldValueForbidden": "Forbidden",
        "FieldValueTooLong": "Too long",
        "FieldValueTooMany": "Too many",
        "InternalError": "Internal error",
        "FieldValueTypeInvalid": "Invalid value",
    }

    def message(self) -> str:
        """`<field>: <type text>[: <value>][: <detail>]`, as field.Error.Error() renders it."""
        parts = [f"{self.field}: {self.TEXT.get(self.type, self.type)}"]
        if self.has_value and self.type not in ("FieldValueRequired", "FieldValueForbidden", "FieldValueTooLong"):
            parts.append(_render_value(self.value))
        if self.detail:
            parts.append(self.detail)
        return ": ".join(parts)

    def cause(self) -> dict[str, str]:
        body = self.message()[len(self.field) + 2 :]
        return {"reason": self.type, "message": body, "field": self.field}


def _render_value(value: Any) -> str:
    if isinstance(value, str):
        return orjson.dumps(value).decode()
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return orjson.dumps(value).decode()


def required(path: str, detail: str = "") -> FieldError:
    return FieldError("FieldValueRequired", path, detail)


def invalid(path: str, value: Any, detail: str = "") -> FieldError:
    return FieldError("FieldValueInvalid", path, detail, value, True)


def not_supported(path: str, value: Any, valid: list[str]) -> FieldError:
    detail = "supported values: " + ", ".join(f'"{v}"' for v in valid) if valid else ""
    return FieldError("FieldValueNotSupported", path, detail, value, True)


def duplicate(path: str, value: Any) -> FieldError:
    return FieldError("FieldValueDuplicate", path, "", value, True)


def forbidden(path: str, detail: str) -> FieldError:
    return FieldError("FieldValueForbidden", path, detail)


def too_long(path: str, max_length: int) -> FieldError:
    return FieldError("FieldValueTooLong", path, f"may not be more than {max_length} bytes")


class ApiError(Exception):
    """An answer other than success, carried to the edge and rendered as a Status."""

    code: ClassVar[int] = 500
    reason: ClassVar[str] = "InternalError"

    def __init__(
        self,
        message: str,
        *,
        name: str = "",
        group: str = "",
        kind: str = "",
        causes: list[dict[str, str]] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = {}
        if name:
            self.details["name"] = name
        if group:
            self.details["group"] = group
        if kind:
            self.details["kind"] = kind
        if causes:
            self.details["causes"] = causes
        if retry_after is not None:
            self.details["retryAfterSeconds"] = retry_after

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details:
            body["details"] = self.details
        body["code"] = self.code
        return body


def _qualified(group: str, resource: str) -> str:
    return f"{resource}.{group}" if group else resource


class BadRequest(ApiError):
    code, reason = 400, "BadRequest"


class Unauthorized(ApiError):
    code, reason = 401, "Unauthorized"


class Forbidden(ApiError):
    code, reason = 403, "Forbidden"

    @classmethod
    def of(cls, group: str, resource: str, name: str, why: str) -> Forbidden:
        return cls(f'{_qualified(group, resource)} "{name}" is forbidden: {why}', name=name, group=group,
                   kind=resource)


class NotFound(ApiError):
    code, reason = 404, "NotFound"

    @classmethod
    def of(cls, group: str, resource: str, name: str) -> NotFound:
        return cls(f'{_qualified(group, resource)} "{name}" not found', name=name, group=group, kind=resource)


class MethodNotAllowed(ApiError):
    code, reason = 405, "MethodNotAllowed"


class NotAcceptable(ApiError):
    code, reason = 406, "NotAcceptable"


class AlreadyExists(ApiError):
    code, reason = 409, "AlreadyExists"

    @classmethod
    def of(cls, group: str, resource: str, name: str) -> AlreadyExists:
        return cls(f'{_qualified(group, resource)} "{name}" already exists', name=name, group=group,
                   kind=resource)


class Conflict(ApiError):
    code, reason = 409, "Conflict"

    MODIFIED: ClassVar[str] = (
        "the object has been modified; please apply your changes to the latest version and try again"
    )

    @classmethod
    def of(cls, group: str, resource: str, name: str, why: str = MODIFIED) -> Conflict:
        return cls(f'Operation cannot be fulfilled on {_qualified(group, resource)} "{name}": {why}', name=name,
                   group=group, kind=resource)


class Gone(ApiError):
    code, reason = 410, "Gone"


class Expired(Gone):
    reason = "Expired"


class RequestEntityTooLarge(ApiError):
    code, reason = 413, "RequestEntityTooLarge"


class UnsupportedMediaType(ApiError):
    code, reason = 415, "UnsupportedMediaType"


class Invalid(ApiError):
    code, reason = 422, "Invalid"

    @classmethod
    def of(cls, group: str, kind: str, name: str, errors: list[FieldError]) -> Invalid:
        """kube's NewInvalid: `<Kind>.<group> "<name>" is invalid: <aggregated field errors>`."""
        qualified = f"{kind}.{group}" if group else kind
        msgs = [e.message() for e in errors]
        agg = msgs[0] if len(msgs) == 1 else "[" + ", ".join(msgs) + "]"
        return cls(f'{qualified} "{name}" is invalid: {agg}', name=name, group=group, kind=kind,
                   causes=[e.cause() for e in errors])


class TooManyRequests(ApiError):
    code, reason = 429, "TooManyRequests"


class InternalError(ApiError):
    code, reason = 500, "InternalError"

    @classmethod
    def wrap(cls, err: BaseException) -> InternalError:
        return cls(f"Internal error occurred: {err}", causes=[{"message": str(err)}])


class ServiceUnavailable(ApiError):
    code, reason = 503, "ServiceUnavailable"


class Timeout(ApiError):
    code, reason = 504, "Timeout"


def status_success(details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    if details:
        body["details"] = details
    return body


# errors.NewGenericServerResponse (k8s.io/apimachinery/pkg/api/errors/errors.go): what client-go reports
# for a non-2xx answer without a Status. Admission webhooks and CRD conversion webhooks both get these.
_GENERIC_SERVER_MESSAGES = {
    400: "the server rejected our request for an unknown reason",
    401: "the server has asked for the client to provide credentials",
    404: "the server could not find the requested resource",
    405: "the server does not allow this method on the requested resource",
    409: "the server reported a conflict",
    422: "the server rejected our request due to an error in our request",
    429: "the server has received too many requests and has asked us to try again later",
    503: "the server is currently unable to handle the request",
    504: "the server was unable to return a response in the time allotted, but may still be processing the request",
}


def server_response_message(status_code: int, content_type: str, body: bytes) -> str:
    """What client-go reports for a non-2xx answer: a Status's message, else its generic text per code
    (the server's own text, which the rest client reads only from text/plain bodies, where kube keeps it)."""
    try:
        status = orjson.loads(body)
    except orjson.JSONDecodeError:
        status = None
    if isinstance(status, dict) and status.get("kind") == "Status" and status.get("message"):
        return str(status["message"])
    text = body[:10 * 1024].decode(errors="replace").strip() if content_type.startswith("text/plain") else "unknown"
    if status_code in _GENERIC_SERVER_MESSAGES:
        return _GENERIC_SERVER_MESSAGES[status_code]
    if status_code in (403, 415) or (status_code == 406 and text != "unknown"):
        return text  # kube keeps the server's message for these
    if status_code == 406:
        return "the server was unable to respond with a content type that the client supports"
    if status_code >= 500:
        return f"an error on the server ({orjson.dumps(text).decode()}) has prevented the request from succeeding"
    return f"the server responded with the status code {status_code} but did not return more information"

