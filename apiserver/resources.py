"""The generic object store: create, update, delete, get and list for any ResourceType.

kube's `registry/generic/registry.Store` in small: strategy hooks at fixed points, updates as
pure functions of the current object re-run on a compare-and-swap conflict (GuaranteedUpdate),
storage errors mapped to API errors in one place. Reads come from the watch cache, which every
write waits for before it is acknowledged, so a client always reads its own writes.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

import machinery
from apiserver import objects
from apiserver.conversion import Converter
from apiserver.fieldvalidation import schema_for
from apiserver.objects import Obj
from apiserver.registry import Registry, ResourceType
from apiserver.watchcache import Caches, WatchCache
from machinery import (
    AlreadyExists,
    ApiError,
    BadRequest,
    Conflict,
    Expired,
    FieldError,
    InternalError,
    Invalid,
    NotFound,
    RequestEntityTooLarge,
    SchemaNode,
    ServiceUnavailable,
    Timeout,
    effective_namespace,
    validate_object_meta,
    validate_object_meta_update,
)
from storage import (
    Compacted,
    FutureRevision,
    KeyExists,
    KeyNotFound,
    KeyValue,
    RevisionConflict,
    Store,
    StoreError,
    StoreUnavailable,
)

log = logging.getLogger("apiserver.resources")

MAX_CAS_RETRIES = 20  # an unconditional update retried this often has a writer racing it forever
MAX_OBJECT_BYTES = 1_572_864  # etcd's default request size limit (1.5 MiB), which kube inherits

Mutation = Callable[[Obj], Obj | Awaitable[Obj]]  # current object -> desired object


@dataclass(slots=True)
class Ctx:
    """What one request is about."""

    rt: ResourceType
    namespace: str | None
    name: str
    subresource: str = ""
    dry_run: bool = False
    warnings: list[str] = field(default_factory=list)  # from admission, sent as Warning headers
    # Server-side apply bookkeeping: the request's field manager (managedFields are kept for writes that
    # name one, and for objects already tracked), and whether the write already recorded it (an apply).
    field_manager: str = ""
    named_manager: bool = False  # the client named one (fieldManager=...), rather than its User-Agent
    managed: bool = False


def storage_error(err: StoreError, ctx: Ctx) -> ApiError:
    """The one mapping from store errors to API errors."""
    rt = ctx.rt
    if isinstance(err, KeyNotFound):
        return NotFound.of(rt.group, rt.plural, ctx.name)
    if isinstance(err, KeyExists):
        return AlreadyExists.of(rt.group, rt.plural, ctx.name)
    if isinstance(err, RevisionConflict):
        return Conflict.of(rt.group, rt.plural, ctx.name)
    if isinstance(err, Compacted):
        return Expired(f"too old resource version: {err.requested} ({err.compact_revision})")
    if isinstance(err, FutureRevision):
        return Timeout(f"Too large resource version: {err.requested}, current: {err.current}", retry_after=1)
    if isinstance(err, StoreUnavailable):
        return ServiceUnavailable(f"storage is unavailable: {err}", retry_after=1)
    return InternalError.wrap(err)


class Admission(Protocol):
    """The admission chain as Resources calls it (apiserver/admissions.py adapts admission/)."""

    @property
    def active(self) -> bool:
        """Whether any webhook or policy is configured: without, mutate and validate do nothing."""

    async def mutate(self, ctx: Ctx, operation: str, obj: Obj | None, old: Obj | None) -> Obj | None: ...

    async def validate(self, ctx: Ctx, operation: str, obj: Obj | None, old: Obj | None) -> None: ...


class NoAdmission:
    active = False

    async def mutate(self, ctx: Ctx, operation: str, obj: Obj | None, old: Obj | None) -> Obj | None:
        return obj

    async def validate(self, ctx: Ctx, operation: str, obj: Obj | None, old: Obj | None) -> None:
        return None


class Resources:
    def __init__(self, store: Store, registry: Registry, caches: Caches) -> None:
        self.store = store
        self.registry = registry
        self.caches = caches
        # Hooks the server adds: built-in admission (namespace lifecycle) runs first, webhooks and
        # policies through `admission`, allocations (cluster IPs) after validation; they read other
        # resources, which strategies (pure functions) must not.
        self.admit: list[Callable[[Ctx, Obj], Awaitable[None]]] = []
        self.admission: Admission = NoAdmission()
        self.before_create: list[Callable[[Ctx, Obj], Awaitable[None]]] = []
        self.converter: Converter | None = None  # custom resources' versions (webhook or apiVersion rewrite)
        self.before_delete: list[Callable[[Ctx, Obj], Awaitable[None]]] = []
        self.after_delete: list[Callable[[Ctx, Obj], Awaitable[None]]] = []

    async def convert(self, rt: ResourceType, objs: list[Obj], version: str) -> list[Obj]:
        """Custom resources at another version of their CRD: converted, then pruned and defaulted by that
        version's schema, as kube does after every conversion. Built-in kinds pass through."""
        api_version = f"{rt.group}/{version}"
        if rt.crd is None or self.converter is None or all(o.get("apiVersion") == api_version for o in objs):
            return objs
        converted = await self.converter.convert(rt.crd, objs, api_version)
        target = self.registry.lookup(rt.group, version, rt.plural)
        out = []
        for before, after in zip(objs, converted, strict=True):
            if after is not before and target is not None:
                after = objects.deep_copy(after)
                target.strategy.default(after)
            out.append(after)
        return out

    async def _to_storage(self, rt: ResourceType, obj: Obj) -> Obj:
        if rt.crd is None or not rt.storage_version:
            return obj
        return (await self.convert(rt, [obj], rt.storage_version))[0]

    async def _to_request(self, rt: ResourceType, obj: Obj) -> Obj:
        return (await self.convert(rt, [obj], rt.version))[0] if rt.crd is not None else obj

    def cache(self, rt: ResourceType) -> WatchCache:
        return self.caches.get(rt.storage_prefix)

    # ---- reads -----------------------------------------------------------------------------

    async def get(self, ctx: Ctx) -> Obj:
        cache = self.cache(ctx.rt)
        if not cache.loaded:
            await cache.ready()
        obj = cache.objects.get(ctx.rt.key(ctx.namespace, ctx.name))
        if obj is None:
            raise NotFound.of(ctx.rt.group, ctx.rt.plural, ctx.name)
        return obj

    async def _read_current(self, ctx: Ctx, fresh: bool) -> tuple[Obj, int, bool]:
        """The object to compare-and-swap against, its revision, and whether it is surely current.

        First from the watch cache, as kube's GuaranteedUpdate starts from the cached object: the
        compare-and-swap catches a stale copy. A decision that no swap checks (an error, a no-op, a
        dry run) is taken again on the store's copy (`fresh`), as kube re-reads then too.
        """
        key = ctx.rt.key(ctx.namespace, ctx.name)
        if not fresh:
            cache = self.cache(ctx.rt)
            if not cache.loaded:
                await cache.ready()
            cached = cache.objects.get(key)
            if cached is not None:
                return cached, int(cached["metadata"]["resourceVersion"]), False
        try:
            kv = await self.store.get(key)
        except StoreError as err:
            raise storage_error(err, ctx) from err
        return objects.from_kv(kv), kv.mod_revision, True

    async def _acknowledge(self, ctx: Ctx, kv: KeyValue) -> None:
        """Return only once the cache has the write: read-your-writes for every client."""
        await self.cache(ctx.rt).wait_for(kv.mod_revision)

    # ---- create ----------------------------------------------------------------------------

    async def create(self, ctx: Ctx, obj: Obj) -> Obj:
        rt = ctx.rt
        obj = {"apiVersion": rt.api_version, "kind": rt.kind, **obj}  # the usual key order
        meta = objects.meta(obj)
        if rt.strategy.ephemeral:  # a review: answered from the request, nothing stored
            rt.strategy.prepare_for_create(obj)
            return obj
        if not meta.keys().isdisjoint(objects.SERVER_OWNED):
            for owned in objects.SERVER_OWNED:
                meta.pop(owned, None)
        if not meta.get("name") and isinstance(meta.get("generateName"), str) and meta["generateName"]:
            meta["name"] = objects.generate_name(meta["generateName"])
        ctx.name = str(meta.get("name") or "")
        self._set_namespace(ctx, meta)
        self._validate_meta(ctx, obj)
        rt.strategy.default(obj)
        for admit in self.admit:
            await admit(ctx, obj)
        # kube's order: mutating admission sees the defaulted object before PrepareForCreate
        mutated = await self.admission.mutate(ctx, "CREATE", obj, None) if self.admission.active else obj
        admitted_as_is = mutated is None or mutated is obj
        obj = mutated if mutated is not None else obj
        meta = objects.meta(obj)
        meta["uid"] = objects.new_uid()
        meta["creationTimestamp"] = objects.now()
        if rt.strategy.generation:
            meta["generation"] = 1
        if "status" in rt.subresources:
            obj.pop("status", None)
        if not admitted_as_is:  # a webhook's object is checked and defaulted again, as kube's dispatcher does
            self._validate_meta(ctx, obj)
            rt.strategy.default(obj)
        rt.strategy.prepare_for_create(obj)
        omit_empty_meta(obj)
        self._check(ctx, obj, rt.strategy.validate(obj) + rt.strategy.validate_create(obj))
        obj = self._track(ctx, None, obj)
        if self.admission.active:
            await self.admission.validate(ctx, "CREATE", obj, None)
        for hook in self.before_create:
            await hook(ctx, obj)
        if ctx.dry_run:
            cache = self.cache(rt)
            await cache.ready()
            if rt.key(ctx.namespace, ctx.name) in cache.objects:
                raise AlreadyExists.of(rt.group, rt.plural, ctx.name)
            return obj
        key = rt.key(ctx.namespace, ctx.name)
        try:
            return await self._write(ctx, key, obj if rt.crd is None else await self._to_storage(rt, obj),
                                     self.store.create)
        except StoreError as err:
            raise storage_error(err, ctx) from err

    @staticmethod
    def _set_namespace(ctx: Ctx, meta: Obj) -> None:
        """The URL's namespace wins; a different one in the body is 400; cluster kinds have none."""
        if not isinstance(meta, dict):
            return
        if ctx.rt.namespaced:
            meta["namespace"] = effective_namespace(meta, ctx.namespace or "")
        else:
            meta.pop("namespace", None)

    def _validate_meta(self, ctx: Ctx, obj: Obj) -> None:
        rt = ctx.rt
        errs = validate_object_meta(obj.get("metadata"), namespaced=rt.namespaced, name_rule=rt.strategy.name_rule,
                                    namespace_from_url=ctx.namespace if rt.namespaced else "")
        self._check(ctx, obj, errs)

    def _check(self, ctx: Ctx, obj: Obj, errs: list[FieldError]) -> None:
        if errs:
            raise Invalid.of(ctx.rt.group, ctx.rt.kind, ctx.name, errs)

    def _encode(self, ctx: Ctx, obj: Obj) -> tuple[bytes, Obj]:
        """The value to store, and the object it encodes."""
        stored = objects.storable(obj)
        value = orjson.dumps(stored)
        if len(value) > MAX_OBJECT_BYTES:
            raise _too_large(ctx)
        return value, stored

    async def _write(self, ctx: Ctx, key: str, obj: Obj, write: Callable[[str, bytes], Awaitable[KeyValue]]) -> Obj:
        """Store `obj` with `write` (the store's create, or its update at a revision) and return the object
        stored, once the cache has it: `obj` itself when the cache took it (WatchCache.hint), which saves
        two decodes of what was just encoded; else the store's value, decoded. Store errors pass through.

        Like `get`'s, the object returned may be the cache's own: callers read it, never change it.
        """
        value, stored = self._encode(ctx, obj)
        cache = self.cache(ctx.rt)
        cache.hint(key, value, stored)
        try:
            kv = await write(key, value)
            await self._acknowledge(ctx, kv)
        finally:  # written, failed or cancelled: the hint is used or useless now
            cache.unhint(key, value)
        if (stored.get("metadata") or {}).get("resourceVersion") != str(kv.mod_revision):
            stored = objects.from_kv(kv)
        return stored if ctx.rt.crd is None else await self._to_request(ctx.rt, stored)

    # ---- update ----------------------------------------------------------------------------

    async def update(self, ctx: Ctx, mutate: Mutation, *, precondition_rv: str | None = None,
                     precondition_uid: str | None = None, strategy: bool = True) -> Obj:
        """GuaranteedUpdate: read, mutate, validate, compare-and-swap; re-run on a conflict.

        `precondition_rv` (a PUT body's resourceVersion) turns a lost race into 409 instead of a retry;
        a mutation whose result carries another resourceVersion than the stored one is 409 as well.
        `strategy=False` is for the server's own writes (controllers), which skip the hooks.
        """
        rt = ctx.rt
        fresh = False
        for _ in range(MAX_CAS_RETRIES):
            old, revision, current = await self._read_current(ctx, fresh)
            fresh = True  # every retry reads the store
            try:
                old = await self._to_request(rt, old)
                result = mutate(objects.deep_copy(old))
                new = await result if isinstance(result, Awaitable) else result
                if not isinstance(new, dict):
                    raise BadRequest("the object must be a JSON object")
                meta = new.get("metadata")
                rv = meta.get("resourceVersion") if isinstance(meta, dict) else None
                expected = precondition_rv or (str(rv) if rv not in (None, "") else None)
                if expected is not None and expected != str(revision):
                    raise Conflict.of(rt.group, rt.plural, ctx.name)
                old_uid = old["metadata"].get("uid")
                if precondition_uid and precondition_uid != old_uid:
                    raise Conflict.of(rt.group, rt.plural, ctx.name,
                                      f"Precondition failed: UID in precondition: {precondition_uid}, "
                                      f"UID in object meta: {old_uid}")
                if strategy:
                    new = await self._prepare_update(ctx, new, old)
            except ApiError:
                if not current:
                    continue  # perhaps only the cache's copy was behind: decide on the store's
                raise
            if _same(new, old) or ctx.dry_run:
                if not current:
                    continue
                if ctx.dry_run and not _same(new, old):
                    new.setdefault("metadata", {})["resourceVersion"] = str(revision)
                    return new
                return old  # kube writes nothing when nothing changed
            if self._finalized(ctx, new, old):
                try:
                    return await self._delete_now(ctx, old, revision)
                except _Retry:
                    continue
            key = rt.key(ctx.namespace, ctx.name)
            try:
                return await self._write(ctx, key, await self._to_storage(rt, new),
                                         functools.partial(self.store.update, revision=revision))
            except RevisionConflict:
                if precondition_rv not in (None, ""):
                    raise Conflict.of(rt.group, rt.plural, ctx.name) from None
                continue
            except StoreError as err:
                raise storage_error(err, ctx) from err
        raise Conflict.of(rt.group, rt.plural, ctx.name, "too many concurrent writers; try again")

    async def _prepare_update(self, ctx: Ctx, new: Obj, old: Obj) -> Obj:
        """BeforeUpdate with admission: defaults, mutating admission, strategy, validation, validating admission."""
        rt = ctx.rt
        if not isinstance(new.get("metadata", {}), dict):
            raise Invalid.of(rt.group, rt.kind, ctx.name, [_type_error("metadata", "object")])
        self._keep_system_fields(ctx, new, old)
        if ctx.subresource == "status":
            # A status write changes status only (kube's status strategies keep spec and metadata).
            status = new.get("status")
            new = objects.deep_copy(old)
            if status is None:
                new.pop("status", None)
            else:
                new["status"] = status
        else:
            if "status" in rt.subresources:
                if "status" in old:
                    new["status"] = objects.deep_copy(old["status"])
                else:
                    new.pop("status", None)
            rt.strategy.default(new)
        mutated = await self.admission.mutate(ctx, "UPDATE", new, old)
        if mutated is not None and mutated is not new:
            new = mutated
            self._keep_system_fields(ctx, new, old)
        if ctx.subresource != "status":
            rt.strategy.prepare_for_update(new, old)
            omit_empty_meta(new)
            if rt.strategy.generation and objects.spec_changed(new, old):
                new["metadata"]["generation"] = int(old["metadata"].get("generation") or 1) + 1
            errs = validate_object_meta_update(new.get("metadata"), old["metadata"])
            errs += self._meta_errors(ctx, new)
            errs += rt.strategy.validate(new)
            errs += rt.strategy.validate_update(new, old)
            self._check(ctx, new, errs)
        new = self._track(ctx, old, new)
        await self.admission.validate(ctx, "UPDATE", new, old)
        return new

    def _track(self, ctx: Ctx, old: Obj | None, new: Obj) -> Obj:
        """Record the write in managedFields (an Update by the request's manager), as kube's FieldManager.

        Unlike kube, a write that names no fieldManager to an object nobody tracks stays untracked: the
        bookkeeping costs milliseconds per write, and the first apply takes over such objects anyway.
        """
        tracked = old is not None and bool((old.get("metadata") or {}).get("managedFields"))
        if ctx.managed or not (ctx.named_manager or tracked):
            return new
        rt = ctx.rt
        kind_schema = fieldvalidation_schema(rt)
        resets: list[tuple[str, ...]] = []
        if "status" in rt.subresources:
            resets = [("spec",)] if ctx.subresource == "status" else [("status",)]
        return machinery.managed_update(old, new, kind_schema, manager=ctx.field_manager or "unknown",
                              api_version=rt.api_version, now=objects.now(), subresource=ctx.subresource,
                              reset_fields=resets)

    def _keep_system_fields(self, ctx: Ctx, new: Obj, old: Obj) -> None:
        """BeforeUpdate: system fields come from the stored object, whatever the client (or a webhook) sent."""
        meta = objects.meta(new)
        old_meta = old["metadata"]
        for name in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation",
                     "selfLink"):
            if name in old_meta:
                meta[name] = old_meta[name]
            else:
                meta.pop(name, None)
        meta.setdefault("name", old_meta.get("name"))
        self._set_namespace(ctx, meta)

    def _meta_errors(self, ctx: Ctx, obj: Obj) -> list[FieldError]:
        rt = ctx.rt
        return validate_object_meta(obj.get("metadata"), namespaced=rt.namespaced, name_rule=rt.strategy.name_rule,
                                    namespace_from_url=ctx.namespace if rt.namespaced else "")

    def _finalized(self, ctx: Ctx, new: Obj, old: Obj) -> bool:
        """The update removed the last finalizer of an object being deleted: delete it now."""
        meta = new.get("metadata") or {}
        return bool(meta.get("deletionTimestamp")) and not ctx.rt.strategy.finalizers(new)

    # ---- delete ----------------------------------------------------------------------------

    async def delete(self, ctx: Ctx, *, preconditions: dict[str, Any] | None = None) -> tuple[Obj, bool]:
        """Delete now, or mark for deletion while finalizers remain. Returns (object, deleted now)."""
        rt = ctx.rt
        fresh = False
        for _ in range(MAX_CAS_RETRIES):
            old, revision, current = await self._read_current(ctx, fresh)
            fresh = True
            try:
                self._check_preconditions(ctx, old, preconditions or {})
                for hook in self.before_delete:
                    await hook(ctx, old)
                await self.admission.mutate(ctx, "DELETE", None, old)
                await self.admission.validate(ctx, "DELETE", None, old)
            except ApiError:
                if not current:
                    continue  # see update: decided again on the store's copy
                raise
            meta = old["metadata"]
            if not current and (ctx.dry_run or meta.get("deletionTimestamp")):
                continue  # answers that no compare-and-swap checks come from the store's copy
            if not rt.strategy.finalizers(old):
                if ctx.dry_run:
                    return old, True
                try:
                    return await self._delete_now(ctx, old, revision), True
                except _Retry:
                    continue
            if meta.get("deletionTimestamp"):
                return old, False
            new = objects.deep_copy(old)
            new["metadata"]["deletionTimestamp"] = objects.now()
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            rt.strategy.prepare_for_delete(new)
            if ctx.dry_run:
                return new, False
            try:
                kv = await self.store.update(rt.key(ctx.namespace, ctx.name), self._encode(ctx, new)[0],
                                             revision=revision)
            except RevisionConflict:
                continue
            except StoreError as err:
                raise storage_error(err, ctx) from err
            await self._acknowledge(ctx, kv)
            return objects.from_kv(kv), False
        raise Conflict.of(rt.group, rt.plural, ctx.name, "too many concurrent writers; try again")

    async def _delete_now(self, ctx: Ctx, old: Obj, revision: int) -> Obj:
        try:
            kv = await self.store.delete(ctx.rt.key(ctx.namespace, ctx.name), revision=revision)
        except RevisionConflict:
            raise _Retry() from None
        except StoreError as err:
            raise storage_error(err, ctx) from err
        await self._acknowledge(ctx, kv)
        deleted = objects.from_kv(kv)
        for hook in self.after_delete:
            await hook(ctx, deleted)
        return deleted

    def _check_preconditions(self, ctx: Ctx, obj: Obj, pre: dict[str, Any]) -> None:
        meta = obj["metadata"]
        uid, rv = pre.get("uid"), pre.get("resourceVersion")
        if uid and uid != meta.get("uid"):
            raise Conflict.of(ctx.rt.group, ctx.rt.plural, ctx.name,
                              f"Precondition failed: UID in precondition: {uid}, UID in object meta: {meta.get('uid')}")
        if rv and rv != meta.get("resourceVersion"):
            raise Conflict.of(ctx.rt.group, ctx.rt.plural, ctx.name,
                              f"Precondition failed: ResourceVersion in precondition: {rv}, "
                              f"ResourceVersion in object meta: {meta.get('resourceVersion')}")


class _Retry(Exception):
    """The compare-and-swap lost a race; run the whole step again."""


OMIT_EMPTY_META = ("labels", "annotations", "finalizers", "ownerReferences", "managedFields")


def fieldvalidation_schema(rt: ResourceType) -> SchemaNode | None:
    found = schema_for(rt)
    return found.node if found is not None else None


def omit_empty_meta(obj: Obj) -> None:
    """ObjectMeta's maps and lists are `omitempty` in kube: an empty one is not stored or served."""
    meta = obj.get("metadata")
    if isinstance(meta, dict) and not meta.keys().isdisjoint(OMIT_EMPTY_META):
        for field in OMIT_EMPTY_META:
            if field in meta and meta[field] in ({}, [], None):
                del meta[field]


def _same(new: Obj, old: Obj) -> bool:
    a = {**new, "metadata": {k: v for k, v in (new.get("metadata") or {}).items() if k != "resourceVersion"}}
    b = {**old, "metadata": {k: v for k, v in old["metadata"].items() if k != "resourceVersion"}}
    return a == b


def _type_error(path: str, expected: str) -> FieldError:
    return FieldError("FieldValueTypeInvalid", path, f"must be of type {expected}")


def _too_large(ctx: Ctx) -> ApiError:
    # etcd refuses values over its request limit; kube answers 413 (storage.ErrCodeRequestTooLarge).
    return RequestEntityTooLarge(
        f'{ctx.rt.plural} "{ctx.name}" is too large: the stored object may not exceed {MAX_OBJECT_BYTES} bytes'
    )
