"""How webhook outcomes become API errors (plugin/webhook/errors, pkg/util/webhook/error.go).

- A denial is the webhook's own Status, worded `admission webhook "<name>" denied the request: <message>`,
  its code passed through (below 400 becomes 400, none at all is 400): `WebhookRejection`.
- A failed call is `CallingError` (kube's ErrCallingWebhook); under failurePolicy Fail it becomes
  500 `Internal error occurred: failed calling webhook "<name>": <reason>`, under Ignore it is logged.
- A webhook without side-effect guarantees on a dry run is 400 `admission webhook "<name>" does not support
  dry run`, whatever its failurePolicy.
"""

from __future__ import annotations

import copy
import functools
from typing import Any, cast

from machinery import ApiError, BadRequest


class CallingError(Exception):
    """The webhook could not be called or answered nonsense: handled per failurePolicy."""

    def __init__(self, webhook: str, reason: str) -> None:
        super().__init__(f'failed calling webhook "{webhook}": {reason}')
        self.webhook = webhook
        self.reason = reason


class WebhookRejection(ApiError):
    """A webhook said no: its Status goes to the client as it sent it (kube's ToStatusErr)."""

    def __init__(self, status: dict[str, Any]) -> None:
        super().__init__(str(status.get("message") or ""))
        self.body = status

    def status(self) -> dict[str, Any]:
        """metav1.Status as kube writes it: Go's field order, empty fields omitted."""
        body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": self.body.get("metadata") or {},
                                "status": self.body["status"]}
        for key in ("message", "reason", "details"):
            if self.body.get(key):
                body[key] = copy.deepcopy(self.body[key])
        body["code"] = self.code
        return body


@functools.cache
def _rejection_type(code: int, reason: str) -> type[WebhookRejection]:
    """ApiError's code and reason are per class; a webhook picks its own, so each pair gets a subclass."""
    return cast(type[WebhookRejection], type("WebhookRejection", (WebhookRejection,), {"code": code, "reason": reason}))


def rejection(webhook: str, result: dict[str, Any] | None) -> WebhookRejection:
    """ToStatusErr: the webhook's Status with kube's wording and a 4xx/5xx code."""
    status = copy.deepcopy(result) if result else {}
    code = status.get("code")
    status["code"] = code if isinstance(code, int) and code >= 400 else 400
    if status.get("status") in (None, "", "Success"):
        status["status"] = "Failure"
    denied = f'admission webhook "{webhook}" denied the request'
    if status.get("message"):
        status["message"] = f"{denied}: {status['message']}"
    elif status.get("reason"):
        status["message"] = f"{denied}: {status['reason']}"
    else:
        status["message"] = f"{denied} without explanation"
    return _rejection_type(status["code"], str(status.get("reason") or ""))(status)


def dry_run_unsupported(webhook: str) -> BadRequest:
    """NewDryRunUnsupportedErr."""
    return BadRequest(f'admission webhook "{webhook}" does not support dry run')
