"""The webhook admission chain: mutating webhooks one after another, validating webhooks all at once.

kube's plugin/webhook/mutating/dispatcher.go and validating/dispatcher.go:
- mutators run in order (configurations by name, then webhooks in order), each seeing the object as the
  earlier ones patched it; when one changes the object, the earlier `reinvocationPolicy: IfNeeded` webhooks
  run once more, after the first round;
- validators run concurrently on the final object; the first error (in webhook order) wins;
- a denial is the webhook's Status; a failed call follows failurePolicy; a webhook without side-effect
  guarantees fails a dry run with 400.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import orjson

from admission.attributes import Attributes
from admission.calling import ResolveService, Transport
from admission.errors import CallingError, dry_run_unsupported, rejection
from admission.hooks import Invocation, ServedVersions, Webhook, compile_webhooks, should_call
from admission.review import InvalidResponse, Response, admission_request, new_uid, review, verify_response
from machinery import ApiError, InternalError, apply_json_patch

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

_NO_SIDE_EFFECTS = ("None", "NoneOnDryRun")


class Dispatcher:
    """Calls the configured webhooks for each write; `configure` swaps in a new set at any time.

    `served_versions(group, resource)` lists the versions the server serves a resource in, for
    `matchPolicy: Equivalent`; without it, only the request's own version matches.
    """

    def __init__(self, *, client: httpx.AsyncClient | None = None, resolve_service: ResolveService | None = None,
                 served_versions: ServedVersions | None = None) -> None:
        self._transport = Transport(client, resolve_service)
        self._served_versions = served_versions
        self._mutating: tuple[Webhook, ...] = ()
        self._validating: tuple[Webhook, ...] = ()

    def configure(self, mutating: list[dict[str, Any]], validating: list[dict[str, Any]]) -> None:
        """Replace the chain with the webhooks of these stored configuration objects."""
        self._mutating = compile_webhooks(mutating)
        self._validating = compile_webhooks(validating)

    async def aclose(self) -> None:
        await self._transport.aclose()

    @property
    def mutating(self) -> bool:
        """Whether any mutating webhook is configured (else writes skip building attributes)."""
        return bool(self._mutating)

    @property
    def validating(self) -> bool:
        return bool(self._validating)

    # --- mutating ---

    async def mutate(self, attrs: Attributes) -> tuple[dict[str, Any] | None, list[str]]:
        """The object as the mutating webhooks leave it, and their warnings; raises ApiError to refuse."""
        hooks = self._mutating  # this request keeps the chain it started with
        obj, warnings = attrs.object, list[str]()
        if attrs.exempt or not hooks:
            return obj, warnings
        invoked: set[str] = set()  # IfNeeded webhooks called since the last change
        reinvoke: set[str] = set()  # ... and those to call again in the second round
        for round_ in (0, 1):
            if round_ == 1 and not reinvoke:
                break
            for hook in hooks:
                invocation = self._should_call(hook, attrs, obj)
                if invocation is None or (round_ == 1 and hook.uid not in reinvoke):
                    continue
                patched = await self._mutate_once(invocation, attrs, obj, warnings)
                if patched is not None and patched != obj:
                    obj = patched
                    reinvoke |= invoked
                    invoked.clear()
                if hook.reinvoke:
                    invoked.add(hook.uid)
        return obj, _unique(warnings)

    async def _mutate_once(self, invocation: Invocation, attrs: Attributes, obj: dict[str, Any] | None,
                           warnings: list[str]) -> dict[str, Any] | None:
        """The patched object, or None when the webhook did not patch (or failed open)."""
        hook = invocation.webhook
        try:
            response = await self._call(invocation, attrs, obj, warnings)
            return _patched(hook, invocation.version, attrs, obj, response)
        except CallingError as err:
            if not hook.fail_open:
                log.warning("failing closed: %s", err)
                raise InternalError.wrap(err) from None
            log.warning("failing open: %s", err)
            return None

    # --- validating ---

    async def validate(self, attrs: Attributes) -> list[str]:
        """The validating webhooks' warnings; raises ApiError (the first in webhook order) to refuse."""
        if attrs.exempt:
            return []
        invocations = [inv for hook in self._validating if (inv := self._should_call(hook, attrs, attrs.object))]
        if not invocations:
            return []
        results = await asyncio.gather(*(self._validate_once(inv, attrs) for inv in invocations),
                                       return_exceptions=True)
        warnings: list[str] = []
        for result in results:
            if isinstance(result, BaseException):
                raise result
            warnings += result
        return _unique(warnings)

    async def _validate_once(self, invocation: Invocation, attrs: Attributes) -> list[str]:
        hook, warnings = invocation.webhook, list[str]()
        try:
            await self._call(invocation, attrs, attrs.object, warnings)
        except CallingError as err:
            if not hook.fail_open:
                log.warning("failing closed: %s", err)
                raise InternalError.wrap(err) from None
            log.warning("failing open: %s", err)
        return warnings

    # --- shared ---

    def _should_call(self, hook: Webhook, attrs: Attributes, obj: dict[str, Any] | None) -> Invocation | None:
        return should_call(hook, attrs, obj, attrs.old_object, lambda version: admission_request(attrs, version),
                           self._served_versions)

    async def _call(self, invocation: Invocation, attrs: Attributes, obj: dict[str, Any] | None,
                    warnings: list[str]) -> Response:
        """One round trip: the verified, allowing response; rejections raise, failed calls raise CallingError."""
        hook = invocation.webhook
        if attrs.dry_run:
            if hook.side_effects is None:
                raise CallingError(hook.name, "Webhook SideEffects is nil")
            if hook.side_effects not in _NO_SIDE_EFFECTS:
                raise dry_run_unsupported(hook.name)
        if hook.review_version is None:
            raise CallingError(hook.name, "could not create admission objects: webhook does not accept known "
                                          "AdmissionReview versions (v1, v1beta1)")
        uid = new_uid()
        request = admission_request(attrs, invocation.version, uid=uid, obj=obj, old=attrs.old_object)
        answer = await self._transport.post(hook, review(hook.review_version, request))
        try:
            response = verify_response(answer, uid, version=hook.review_version, mutating=hook.mutating)
        except InvalidResponse as err:
            raise CallingError(hook.name, f"received invalid webhook response: {err}") from None
        warnings += response.warnings
        if not response.allowed:
            raise rejection(hook.name, response.result)
        return response


def _patched(hook: Webhook, version: str, attrs: Attributes, obj: dict[str, Any] | None,
             response: Response) -> dict[str, Any] | None:
    """The mutating dispatcher's patch handling: undecodable or foreign patches are failed calls, a patch
    that does not apply (or a patch of a DELETE) is an internal error whatever the failurePolicy."""
    if not response.patch:
        return None
    try:
        operations = orjson.loads(response.patch)
    except orjson.JSONDecodeError as err:
        raise CallingError(hook.name, f"received undecodable patch in webhook response: {err}") from None
    if not isinstance(operations, list) or not all(isinstance(op, dict) for op in operations):
        raise CallingError(hook.name, "received undecodable patch in webhook response: json: cannot unmarshal "
                                      "into Go value of type jsonpatch.Patch")
    if not operations:
        return None
    if obj is None:
        raise InternalError.wrap(RuntimeError(f'admission webhook "{hook.name}" attempted to modify the object, '
                                              "which is not supported for this operation"))
    if response.patch_type != "JSONPatch":
        raise CallingError(hook.name, f'unsupported patch type "{response.patch_type}"')
    converted = version != attrs.version
    group = attrs.group
    sent = {**obj, "apiVersion": f"{group}/{version}" if group else version} if converted else obj
    try:
        patched = apply_json_patch(sent, response.patch)
    except ApiError as err:
        raise InternalError.wrap(RuntimeError(getattr(err, "why", err.message))) from None
    if converted:
        patched["apiVersion"] = obj.get("apiVersion")
    return patched


def _unique(warnings: list[str]) -> list[str]:
    """kube's warning recorder drops repeats."""
    return list(dict.fromkeys(warnings))
