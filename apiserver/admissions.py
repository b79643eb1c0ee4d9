"""Admission as the server runs it: configuration kinds, their projection, and the chain Resources calls.

The webhook configurations are stored objects; a controller follows their watch caches and hands
the current set to the dispatcher (admission/), so a change takes effect for the next request and
survives restarts. Resources calls `mutate` and `validate` at kube's points (see resources.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import admission
from apiserver.builtins.authorization import USER
from apiserver.controllers import follow, stop_tasks
from apiserver.objects import Obj
from apiserver.registry import Registry, ResourceType, Strategy
from apiserver.resources import Ctx, Resources
from apiserver.watchcache import CacheEvent
from machinery import FieldError, LabelSelector

log = logging.getLogger("apiserver.admission")

GROUP = "admissionregistration.k8s.io"


class MutatingConfigStrategy(Strategy):
    generation = True

    def default(self, obj: Obj) -> None:
        admission.default_webhook_configuration(obj)

    def validate(self, obj: Obj) -> list[FieldError]:
        return list(admission.validate_mutating_configuration(obj))


class ValidatingConfigStrategy(Strategy):
    generation = True

    def default(self, obj: Obj) -> None:
        admission.default_webhook_configuration(obj)

    def validate(self, obj: Obj) -> list[FieldError]:
        return list(admission.validate_validating_configuration(obj))


class PolicyStrategy(Strategy):
    generation = True

    def default(self, obj: Obj) -> None:
        admission.default_policy(obj)

    def validate(self, obj: Obj) -> list[FieldError]:
        return admission.validate_policy(obj)


class BindingStrategy(Strategy):
    generation = True

    def default(self, obj: Obj) -> None:
        admission.default_binding(obj)

    def validate(self, obj: Obj) -> list[FieldError]:
        return admission.validate_binding(obj)


def _config(kind: str, plural: str, strategy: Strategy, *, subresources: tuple[str, ...] = ()) -> ResourceType:
    return ResourceType(group=GROUP, version="v1", kind=kind, plural=plural, singular=kind.lower(), namespaced=False,
                        categories=("api-extensions",), subresources=subresources, strategy=strategy)


MUTATING = _config("MutatingWebhookConfiguration", "mutatingwebhookconfigurations", MutatingConfigStrategy())
VALIDATING = _config("ValidatingWebhookConfiguration", "validatingwebhookconfigurations", ValidatingConfigStrategy())
POLICIES = _config(admission.POLICY_KIND, "validatingadmissionpolicies", PolicyStrategy(), subresources=("status",))
BINDINGS = _config(admission.BINDING_KIND, "validatingadmissionpolicybindings", BindingStrategy())
TYPES = [MUTATING, VALIDATING, POLICIES, BINDINGS]
_FOLLOWED = (MUTATING, VALIDATING, POLICIES, BINDINGS)


class AdmissionChain:
    """Resources' admission: the dispatcher fed with the stored configurations."""

    def __init__(self, res: Resources, registry: Registry, *,
                 resolve_service: Callable[[str, str, int, str], str | None] | None = None) -> None:
        self.res = res
        self.registry = registry
        self.resolve_service = resolve_service
        # made with the first stored webhook configuration, policy or binding (none: nothing to call)
        self.dispatcher: admission.Dispatcher | None = None
        self.policies: admission.Policies | None = None
        self._task: asyncio.Task[None] | None = None

    def _served_versions(self, group: str, resource: str) -> list[str]:
        return [v for v in self.registry.group_versions().get(group, [])
                if self.registry.lookup(group, v, resource) is not None]

    async def start(self) -> None:
        await self._reconfigure()
        self._task = asyncio.create_task(self._follow(), name="admission-configurations")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.dispatcher is not None:
            await self.dispatcher.aclose()

    async def _reconfigure(self) -> None:
        caches = [self.res.cache(rt) for rt in _FOLLOWED]
        for cache in caches:
            await cache.ready()
        mutating, validating, policies, bindings = ([c.objects[k] for k in c.sorted_keys()] for c in caches)
        if self.dispatcher is None and (mutating or validating):
            self.dispatcher = admission.Dispatcher(served_versions=self._served_versions,
                                                   resolve_service=self.resolve_service)
        if self.dispatcher is not None:
            self.dispatcher.configure(mutating, validating)
        if self.policies is None and (policies or bindings):
            self.policies = admission.Policies(served_versions=self._served_versions)
        if self.policies is not None:
            self.policies.configure(policies, bindings)

    async def _follow(self) -> None:
        """Reconfigure after any change to the four kinds (a burst of changes: once)."""
        changed = asyncio.Event()

        async def on_event(_kind: str, _ev: CacheEvent) -> None:
            changed.set()

        async def on_relist(_objs: list[Obj]) -> None:
            changed.set()

        # relist_first: whatever changed between start()'s configuration and the watchers is picked up too
        followers = [asyncio.create_task(follow(self.res.cache(rt), lambda _k, _o: True, on_event, on_relist,
                                                relist_first=True)) for rt in _FOLLOWED]
        try:
            while True:
                await changed.wait()
                changed.clear()
                await self._reconfigure()
        finally:
            await stop_tasks(followers)

    def _attributes(self, ctx: Ctx, operation: str, obj: Obj | None, old: Obj | None) -> admission.Attributes:
        rt = ctx.rt
        ns_obj = None
        if rt.namespaced and ctx.namespace:
            ns_type = self.registry.lookup("", "v1", "namespaces")
            if ns_type is not None:
                ns_obj = self.res.cache(ns_type).objects.get(ns_type.key(None, ctx.namespace))
        elif rt.group == "" and rt.plural == "namespaces":
            ns_obj = obj or old
        options_kind = {"CREATE": "CreateOptions", "UPDATE": "UpdateOptions", "DELETE": "DeleteOptions"}[operation]
        return admission.Attributes(
            operation=operation, group=rt.group, version=rt.version, kind=rt.kind, resource=rt.plural,
            subresource=ctx.subresource, name=ctx.name, namespace=ctx.namespace or "", object=obj, old_object=old,
            dry_run=ctx.dry_run, options={"kind": options_kind, "apiVersion": "meta.k8s.io/v1"},
            user_info=dict(USER), namespace_object=ns_obj, namespaced=rt.namespaced,
        )

    @property
    def active(self) -> bool:
        dispatcher, policies = self.dispatcher, self.policies
        return (dispatcher is not None and bool(dispatcher.mutating or dispatcher.validating)) or (
            policies is not None and bool(policies.configured))

    async def mutate(self, ctx: Ctx, operation: str, obj: Obj | None, old: Obj | None) -> Obj | None:
        dispatcher = self.dispatcher
        if dispatcher is None or not dispatcher.mutating:
            return obj
        mutated, warnings = await dispatcher.mutate(self._attributes(ctx, operation, obj, old))
        ctx.warnings += warnings
        return mutated if obj is not None else None

    async def validate(self, ctx: Ctx, operation: str, obj: Obj | None, old: Obj | None) -> None:
        dispatcher, policies = self.dispatcher, self.policies
        webhooks = dispatcher is not None and dispatcher.validating
        if not webhooks and not (policies is not None and policies.configured):
            return
        attrs = self._attributes(ctx, operation, obj, old)
        if dispatcher is not None:
            ctx.warnings += await dispatcher.validate(attrs)
        if policies is not None:
            ctx.warnings += policies.validate(attrs, self._params)

    def _params(self, api_version: str, kind: str, namespace: str | None, name: str | None,
                selector: LabelSelector | None) -> list[Obj]:
        """Param objects from the watch cache: by name, or all matching the selector (namespace None: all)."""
        group, _, version = api_version.rpartition("/")
        rt = self.registry.by_kind(group, kind)
        if rt is None or (rt.version != version and self.registry.lookup(group, version, rt.plural) is None):
            return []
        cache = self.res.cache(rt)
        ns = namespace if rt.namespaced else None
        if name is not None:
            found = cache.objects.get(rt.key(ns, name))
            return [found] if found is not None else []
        prefix = rt.prefix(ns)
        return [cache.objects[k] for k in cache.sorted_keys()
                if k.startswith(prefix) and (selector is None or selector.matches(
                    (cache.objects[k].get("metadata") or {}).get("labels") or {}))]
