"""Namespace lifecycle: admission checks and the namespace controller.

NamespaceLifecycle (kube's admission plugin): no new objects in a missing or terminating
namespace, and the system namespaces can't be deleted. The controller empties a namespace
being deleted, then drops its `kubernetes` finalizer so the namespace goes away, as
kube-controller-manager does (envtest has no controller and never finishes this).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import partial

from apiserver.builtins.core import PROTECTED_NAMESPACES
from apiserver.controllers import follow, stop_tasks
from apiserver.objects import Obj
from apiserver.registry import Registry, ResourceType
from apiserver.resources import Ctx, Resources
from apiserver.watchcache import CacheEvent
from machinery import ApiError, Forbidden, NotFound

log = logging.getLogger("apiserver.namespaces")

FINALIZER = "kubernetes"
RETRY_DELAY = 0.2  # seconds between passes while finalizers elsewhere hold objects in place


def namespaces_type(registry: Registry) -> ResourceType:
    rt = registry.lookup("", "v1", "namespaces")
    assert rt is not None
    return rt


class NamespaceLifecycle:
    def __init__(self, res: Resources, registry: Registry) -> None:
        self.res = res
        self.registry = registry

    async def before_create(self, ctx: Ctx, obj: Obj) -> None:
        if not ctx.rt.namespaced or not ctx.namespace:
            return
        ns = await self._namespace(ctx.namespace)
        if ns is None:
            raise NotFound.of("", "namespaces", ctx.namespace)
        if (ns.get("metadata") or {}).get("deletionTimestamp"):
            err = Forbidden.of(ctx.rt.group, ctx.rt.plural, ctx.name,
                               f"unable to create new content in namespace {ctx.namespace} because it is being "
                               "terminated")
            err.details["causes"] = [{"reason": "NamespaceTerminating", "field": "metadata.namespace",
                                      "message": f"namespace {ctx.namespace} is being terminated"}]
            raise err

    async def before_delete(self, ctx: Ctx, obj: Obj) -> None:
        if ctx.rt.group == "" and ctx.rt.plural == "namespaces" and ctx.name in PROTECTED_NAMESPACES:
            raise Forbidden.of("", "namespaces", ctx.name, "this namespace may not be deleted")

    async def _namespace(self, name: str) -> Obj | None:
        rt = namespaces_type(self.registry)
        cache = self.res.cache(rt)
        if not cache.loaded:  # every namespaced create asks: no coroutine once the cache is up
            await cache.ready()
        return cache.objects.get(rt.key(None, name))


def _terminating(_key: str, obj: Obj) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


class NamespaceController:
    """Deletes the content of terminating namespaces, then finalizes them."""

    def __init__(self, res: Resources, registry: Registry) -> None:
        self.res = res
        self.registry = registry
        self._task: asyncio.Task[None] | None = None
        self._working: dict[str, asyncio.Task[None]] = {}

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="namespace-controller")

    async def stop(self) -> None:
        await stop_tasks([self._task, *self._working.values()])

    async def _run(self) -> None:
        async def on_event(_kind: str, ev: CacheEvent) -> None:
            if ev.type != "DELETED":
                self._enqueue(ev.obj)

        async def on_relist(objs: list[Obj]) -> None:  # first: namespaces left terminating by a restart
            for obj in objs:
                self._enqueue(obj)

        await follow(self.res.cache(namespaces_type(self.registry)), _terminating, on_event, on_relist,
                     relist_first=True)

    def _enqueue(self, ns: Obj) -> None:
        meta = ns.get("metadata") or {}
        name = meta.get("name")
        if not meta.get("deletionTimestamp") or not name or name in self._working:
            return
        task = asyncio.create_task(self._finalize(name), name=f"finalize namespace {name}")
        self._working[name] = task
        task.add_done_callback(partial(self._done, name))

    def _done(self, name: str, _task: asyncio.Task[None]) -> None:
        self._working.pop(name, None)

    async def _finalize(self, name: str) -> None:
        while True:
            try:
                if await self._delete_content(name) == 0:
                    await self._drop_finalizer(name)
                    return
            except NotFound:
                return
            except ApiError as err:
                log.warning("namespace %s: %s; retrying", name, err.message)
            await asyncio.sleep(RETRY_DELAY)

    async def _delete_content(self, namespace: str) -> int:
        """Delete everything in the namespace; how many objects remain (held by finalizers)."""
        remaining = 0
        for rt in self.registry.all():
            if not rt.namespaced or "delete" not in rt.verbs:
                continue
            cache = self.res.cache(rt)
            await cache.ready()
            prefix = rt.prefix(namespace)
            for key, obj in [(k, o) for k, o in cache.objects.items() if k.startswith(prefix)]:
                meta = obj.get("metadata") or {}
                if meta.get("deletionTimestamp"):
                    remaining += 1
                    continue
                with contextlib.suppress(NotFound):
                    _, gone = await self.res.delete(Ctx(rt, namespace, meta.get("name", key.rsplit("/", 1)[-1])))
                    remaining += 0 if gone else 1
        return remaining

    async def _drop_finalizer(self, name: str) -> None:
        def finalize(ns: Obj) -> Obj:
            spec = ns.get("spec") or {}
            spec["finalizers"] = [f for f in spec.get("finalizers") or [] if f != FINALIZER]
            if not spec["finalizers"]:
                spec.pop("finalizers")
            ns["spec"] = spec
            return ns

        await self.res.update(Ctx(namespaces_type(self.registry), None, name), finalize, strategy=False)
