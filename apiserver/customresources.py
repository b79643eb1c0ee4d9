"""CustomResourceDefinitions: the CRD kind itself, and the resource types CRDs project.

The registry is a projection of the stored CRDs (DESIGN.md): a controller follows the CRD
watch cache and adds, changes or removes the projected ResourceTypes, keeps each CRD's status
(acceptedNames, NamesAccepted/Established, storedVersions), and on deletion removes every
instance before the CRD itself (kube's customresourcecleanup finalizer). Routes never change:
handlers look the type up per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from functools import partial
from typing import Any

import crd
from apiserver.controllers import follow, stop_tasks
from apiserver.objects import Obj, now
from apiserver.registry import ALL_VERBS, Registry, ResourceType, ScalePaths, Strategy
from apiserver.resources import Ctx, Resources
from apiserver.scale import read_path
from apiserver.watchcache import CacheEvent
from machinery import ApiError, FieldError, MethodNotAllowed, NotFound

log = logging.getLogger("apiserver.crds")

CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"
RETRY_DELAY = 0.2  # seconds between cleanup passes while instances with finalizers remain


class CRDStrategy(Strategy):
    """customresourcedefinition.strategy: defaults, validation, and the cleanup finalizer on delete."""

    name_rule = "subdomain"
    generation = True

    def default(self, obj: Obj) -> None:
        crd.default_crd(obj)

    def prepare_for_create(self, obj: Obj) -> None:
        obj["status"] = {"conditions": [], "acceptedNames": {"plural": "", "kind": ""},
                         "storedVersions": [v for v in [crd.storage_version(obj)] if v]}

    def prepare_for_update(self, obj: Obj, old: Obj) -> None:
        stored = list((old.get("status") or {}).get("storedVersions") or [])
        version = crd.storage_version(obj)
        if version and version not in stored:
            stored.append(version)
        obj.setdefault("status", {})["storedVersions"] = stored

    def validate(self, obj: Obj) -> list[FieldError]:
        return list(crd.validate_crd(obj, rules_checker=_check_rules))

    def validate_update(self, obj: Obj, old: Obj) -> list[FieldError]:
        return list(crd.validate_crd_update(obj, old, rules_checker=_check_rules))

    def finalizers(self, obj: Obj) -> list[str]:
        own = super().finalizers(obj)
        if not (obj.get("metadata") or {}).get("deletionTimestamp") and CLEANUP_FINALIZER not in own:
            own.append(CLEANUP_FINALIZER)  # deleting a CRD always waits for its instances to go
        return own

    def prepare_for_delete(self, obj: Obj) -> None:
        meta = obj["metadata"]
        finalizers = list(meta.get("finalizers") or [])
        if CLEANUP_FINALIZER not in finalizers:
            meta["finalizers"] = [*finalizers, CLEANUP_FINALIZER]
        set_condition(obj, "Terminating", "True", "InstanceDeletionInProgress",
                      "CustomResource deletion is in progress")


def _check_rules(node: dict[str, Any], path: str) -> list[FieldError]:
    """Compile one schema node's x-kubernetes-validations (crd walks the nodes; CEL loads on first use)."""
    from machinery import check_rules

    own = {k: v for k, v in node.items() if k not in ("properties", "items", "additionalProperties")}
    return list(check_rules(own, path=path))


CRD_TYPE = ResourceType(
    group="apiextensions.k8s.io",
    version="v1",
    kind="CustomResourceDefinition",
    plural="customresourcedefinitions",
    singular="customresourcedefinition",
    namespaced=False,
    short_names=("crd", "crds"),
    categories=("api-extensions",),
    subresources=("status",),
    strategy=CRDStrategy(),
)


class CustomResourceStrategy(Strategy):
    """One served version of a CRD: its schema defaults, prunes and validates, with its CEL rules."""

    generation = True

    def __init__(self, schema: dict[str, Any] | None, selectable: list[str], *, preserve_unknown: bool) -> None:
        self.schema = schema
        self.selectable = selectable
        self.preserve_unknown = preserve_unknown

    def default(self, obj: Obj) -> None:
        """kube's order: prune unknown fields, then apply defaults (root metadata is left alone)."""
        if self.schema is None:
            return
        pruned = obj if self.preserve_unknown else crd.prune(obj, self.schema)
        defaulted = crd.default(pruned, self.schema)
        if "metadata" in obj:
            defaulted["metadata"] = obj["metadata"]  # the same dict: callers hold on to it
        obj.clear()
        obj.update(defaulted)

    def validate_create(self, obj: Obj) -> list[FieldError]:
        return self._validate(obj, None)

    def validate_update(self, obj: Obj, old: Obj) -> list[FieldError]:
        return self._validate(obj, old)  # with ratcheting: errors on unchanged values are dropped

    def _validate(self, obj: Obj, old: Obj | None) -> list[FieldError]:
        if self.schema is None:
            return []
        from machinery import validate_rules  # here, not at the top: CEL loads on first use

        return list(crd.validate(obj, self.schema, old=old, rules_validator=validate_rules))

    def field_values(self, obj: Obj) -> dict[str, str]:
        """selectableFields: each declared path, "" when the object doesn't set it (as kube)."""
        out: dict[str, str] = {}
        for path in self.selectable:
            value = read_path(obj, path)
            text = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
            out[path.lstrip(".")] = text
        return out


def resource_types(obj: Obj) -> list[ResourceType]:
    """The ResourceTypes a CRD serves: one per served version, storage version first."""
    spec = obj.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group", "")
    versions = [v for v in spec.get("versions") or [] if v.get("served")]
    versions.sort(key=lambda v: not v.get("storage"))
    out = []
    for v in versions:
        schema = (v.get("schema") or {}).get("openAPIV3Schema")
        subresources = v.get("subresources") or {}
        scale = subresources.get("scale")
        strategy = CustomResourceStrategy(
            schema,
            [f.get("jsonPath", "") for f in v.get("selectableFields") or []],
            preserve_unknown=bool(spec.get("preserveUnknownFields")),
        )
        out.append(ResourceType(
            group=group,
            version=v["name"],
            kind=names.get("kind", ""),
            plural=names.get("plural", ""),
            singular=names.get("singular") or names.get("kind", "").lower(),
            namespaced=spec.get("scope") == "Namespaced",
            short_names=tuple(names.get("shortNames") or ()),
            categories=tuple(names.get("categories") or ()),
            verbs=ALL_VERBS,
            subresources=tuple(s for s in ("status", "scale") if s in subresources),
            strategy=strategy,
            scale=ScalePaths(scale.get("specReplicasPath", ".spec.replicas"),
                             scale.get("statusReplicasPath", ".status.replicas"),
                             scale.get("labelSelectorPath")) if scale else None,
            schema=schema,
            printer_columns=tuple(v.get("additionalPrinterColumns") or ()),
            crd=obj,
            storage_version=crd.storage_version(obj) or v["name"],
        ))
    return out


def set_condition(obj: Obj, kind: str, status: str, reason: str, message: str) -> bool:
    """Set a status condition; whether anything changed (the transition time moves only on a change)."""
    conditions: list[Obj] = obj.setdefault("status", {}).setdefault("conditions", [])
    for c in conditions:
        if c.get("type") == kind:
            if (c.get("status"), c.get("reason"), c.get("message")) == (status, reason, message):
                return False
            if c.get("status") != status:
                c["lastTransitionTime"] = now()
            c.update(status=status, reason=reason, message=message)
            return True
    conditions.append({"type": kind, "status": status, "lastTransitionTime": now(), "reason": reason,
                       "message": message})
    return True


class CRDController:
    """Keeps the registry and each CRD's status in step with the stored CRDs."""

    def __init__(self, res: Resources, registry: Registry) -> None:
        self.res = res
        self.registry = registry
        self._served: dict[str, list[ResourceType]] = {}  # CRD name -> its projected types
        self._task: asyncio.Task[None] | None = None
        self._cleanups: dict[str, asyncio.Task[None]] = {}
        self.terminating: set[str] = set()

    async def start(self) -> None:
        """Project every stored CRD before the server answers, then follow changes."""
        cache = self.res.cache(CRD_TYPE)
        await cache.ready()
        for obj in list(cache.objects.values()):
            await self._sync(obj)
        self._task = asyncio.create_task(self._run(), name="crd-controller")

    async def stop(self) -> None:
        await stop_tasks([self._task, *self._cleanups.values()])

    async def _run(self) -> None:
        async def on_event(kind: str, ev: CacheEvent) -> None:
            try:
                if kind == "DELETED":
                    self._unserve(ev.obj["metadata"]["name"])
                else:
                    await self._sync(ev.obj)
            except ApiError as err:
                log.warning("CRD %s: %s", ev.obj.get("metadata", {}).get("name"), err.message)

        async def on_relist(objs: list[Obj]) -> None:
            for obj in objs:
                await self._sync(obj)

        await follow(self.res.cache(CRD_TYPE), lambda _k, _o: True, on_event, on_relist)

    def _conflict(self, name: str, rt: ResourceType) -> str | None:
        """Whether another CRD or a built-in already serves these names in the group."""
        for other in self.registry.all():
            if other.group != rt.group or other in self._served.get(name, []):
                continue
            if other.plural == rt.plural:
                return f'"{rt.plural}" is already in use'
            if other.kind == rt.kind and other.version == rt.version:
                return f'"{rt.kind}" is already in use'
        return None

    async def _sync(self, obj: Obj) -> None:
        name = obj["metadata"]["name"]
        if obj["metadata"].get("deletionTimestamp"):
            # Still served (lists, gets and deletes go on) but no new instances: see before_create.
            self.terminating.add(name)
            if name not in self._cleanups:
                task = asyncio.create_task(self._cleanup(obj), name=f"crd cleanup {name}")
                self._cleanups[name] = task
                task.add_done_callback(partial(self._cleaned, name))
            return
        types = resource_types(obj)
        conflict = next((c for rt in types if (c := self._conflict(name, rt))), None)
        if conflict is None:
            self._serve(name, types)
        await self._update_status(obj, conflict)

    def _cleaned(self, name: str, _task: asyncio.Task[None]) -> None:
        self._cleanups.pop(name, None)

    async def before_create(self, ctx: Ctx, obj: Obj) -> None:
        """No new instances of a CRD that is being deleted (kube answers 405)."""
        for name in self.terminating:
            if ctx.rt in self._served.get(name, []):
                raise MethodNotAllowed(f'create not allowed while custom resource definition "{name}" is terminating')

    def _serve(self, name: str, types: list[ResourceType]) -> None:
        old = self._served.get(name, [])
        for rt in old:
            self.registry.remove(rt.group, rt.version, rt.plural)
        self._served[name] = types
        for rt in types:
            self.registry.add(rt)

    def _unserve(self, name: str) -> None:
        self.terminating.discard(name)
        for rt in self._served.pop(name, []):
            self.registry.remove(rt.group, rt.version, rt.plural)

    async def _update_status(self, obj: Obj, conflict: str | None) -> None:
        desired = copy.deepcopy(obj)
        names = (desired.get("spec") or {}).get("names") or {}
        status = desired.setdefault("status", {})
        changed = False
        if conflict is None:
            accepted = {k: v for k, v in names.items() if v not in (None, "", [])}
            if status.get("acceptedNames") != accepted:
                status["acceptedNames"] = accepted
                changed = True
            changed |= set_condition(desired, "NamesAccepted", "True", "NoConflicts", "no conflicts found")
            changed |= set_condition(desired, "Established", "True", "InitialNamesAccepted",
                                     "the initial names have been accepted")
        else:
            changed |= set_condition(desired, "NamesAccepted", "False", "NameConflict", conflict)
            changed |= set_condition(desired, "Established", "False", "NotAccepted", "not all names are accepted")
        if not changed:
            return
        ctx = Ctx(CRD_TYPE, None, obj["metadata"]["name"], "status")

        def write_status(current: Obj) -> Obj:
            current["status"] = {**(current.get("status") or {}), **{k: status[k] for k in status}}
            return current

        with contextlib.suppress(NotFound):
            await self.res.update(ctx, write_status, strategy=False)

    async def _cleanup(self, obj: Obj) -> None:
        """Delete every instance, then drop the cleanup finalizer so the CRD goes."""
        name = obj["metadata"]["name"]
        types = resource_types(obj) or []
        while True:
            try:
                remaining = 0
                for rt in types[:1]:  # all versions share one storage prefix
                    cache = self.res.cache(rt)
                    await cache.ready()
                    for key, inst in list(cache.objects.items()):
                        meta = inst.get("metadata") or {}
                        if meta.get("deletionTimestamp"):
                            remaining += 1
                            continue
                        with contextlib.suppress(NotFound):
                            _, gone = await self.res.delete(Ctx(rt, meta.get("namespace"), meta.get("name", key)))
                            remaining += 0 if gone else 1
                if remaining == 0:
                    await self._drop_finalizer(name)
                    self._unserve(name)
                    return
            except NotFound:
                return
            except ApiError as err:
                log.warning("CRD %s cleanup: %s; retrying", name, err.message)
            await asyncio.sleep(RETRY_DELAY)

    async def _drop_finalizer(self, name: str) -> None:
        def drop(current: Obj) -> Obj:
            meta = current["metadata"]
            meta["finalizers"] = [f for f in meta.get("finalizers") or [] if f != CLEANUP_FINALIZER]
            if not meta["finalizers"]:
                del meta["finalizers"]
            return current

        await self.res.update(Ctx(CRD_TYPE, None, name), drop, strategy=False)
