"""List and watch: selectors, pagination with continue tokens, resourceVersion semantics.

Lists are served from the watch cache (at the cache's revision); later pages of a paginated
list and `resourceVersionMatch=Exact` read the store at the first page's revision, so every
page belongs to one consistent snapshot, as kube's continue tokens promise.
"""

from __future__ import annotations

import base64
import binascii
import bisect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from apiserver import objects
from apiserver.objects import Obj
from apiserver.registry import ResourceType
from apiserver.resources import Ctx, Resources, storage_error
from apiserver.watchcache import WatchCache
from machinery import (
    BadRequest,
    Expired,
    FieldError,
    FieldSelector,
    Invalid,
    LabelSelector,
    forbidden,
    invalid,
    not_supported,
    parse_field_selector,
    parse_label_selector,
)
from storage import Compacted, StoreError

Matcher = Callable[[str, Obj], bool]  # (storage key, object) -> selected

EXPIRED_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. You can start a new list "
    "without the continue parameter, or use the continue token in this response to retrieve the remainder of the "
    "results. Continuing with the provided token results in an inconsistent list - objects that were created, "
    "modified, or deleted between the time the first chunk was returned and now may show up in the list."
)


def is_true(value: str | None) -> bool:
    """kube's query booleans: "true", "True", "1" (strconv.ParseBool without the odd spellings)."""
    return (value or "").lower() in ("true", "1", "t")


@dataclass
class Selection:
    labels: LabelSelector
    fields: FieldSelector
    namespace: str | None
    rt: ResourceType

    def matcher(self) -> Matcher:
        labels, fields, rt = self.labels, self.fields, self.rt
        if labels.empty and fields.empty:
            return lambda _key, _obj: True

        def match(_key: str, obj: Obj) -> bool:
            meta = obj.get("metadata") or {}
            if not labels.matches(meta.get("labels")):
                return False
            if fields.empty:
                return True
            values = {"metadata.name": meta.get("name", ""), "metadata.namespace": meta.get("namespace", "")}
            values.update(rt.strategy.field_values(obj))
            return fields.matches(values)

        return match

    @property
    def filtered(self) -> bool:
        return not (self.labels.empty and self.fields.empty)


def selection(rt: ResourceType, namespace: str | None, query: Mapping[str, str]) -> Selection:
    labels = parse_label_selector(query.get("labelSelector"))
    fields = parse_field_selector(query.get("fieldSelector"))
    supported = {"metadata.name", "metadata.namespace", *supported_fields(rt)}
    own = supported - {"metadata.name", "metadata.namespace"}
    for label in fields.fields:
        if label not in supported:
            if not own:  # kinds with no selectable fields of their own (DefaultClusterScopedAttr & co)
                raise BadRequest(f'"{label}" is not a known field selector: only "metadata.name", '
                                 '"metadata.namespace"')
            raise BadRequest(f"field label not supported: {label}")
    return Selection(labels, fields, namespace, rt)


def supported_fields(rt: ResourceType) -> set[str]:
    """The selectable fields a kind declares, read off a skeleton object."""
    try:
        return set(rt.strategy.field_values({"metadata": {}, "spec": {}, "status": {}}))
    except Exception:  # a strategy that needs more of the object: metadata fields only
        return set()


def parse_limit(query: Mapping[str, str]) -> int:
    raw = query.get("limit")
    if not raw:
        return 0
    try:
        limit = int(raw)
    except ValueError:
        limit = _INT64_MAX + 1
    if not -_INT64_MAX - 1 <= limit <= _INT64_MAX:  # kube's int64 conversion rejects it too
        raise BadRequest(f'invalid value for limit: "{raw}"') from None
    return min(max(limit, 0), _MAX_PAGE)


_INT64_MAX = 2**63 - 1
_MAX_PAGE = 2**62  # more than any store holds; a page of this many plus one stays a 64-bit integer


def encode_continue(revision: int, key: str, prefix: str) -> str:
    token = {"v": "meta.k8s.io/v1", "rv": revision, "start": key[len(prefix):] + "\x00"}
    return base64.urlsafe_b64encode(orjson.dumps(token)).decode()


def decode_continue(token: str, prefix: str) -> tuple[int, str]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token.encode() + b"=" * (-len(token) % 4)))
        if data.get("v") != "meta.k8s.io/v1":
            raise ValueError("unknown version")
        revision, start = int(data["rv"]), str(data["start"])
        if revision <= 0 or ".." in start or start.startswith("/"):
            raise ValueError("invalid start key")
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error, orjson.JSONDecodeError) as err:
        raise BadRequest(f"invalid continue token: {err}") from None
    return revision, prefix + start.split("\x00", 1)[0]  # kube's start is the last key + NUL; no key holds one


def _revision_param(query: Mapping[str, str], name: str = "resourceVersion") -> int:
    raw = query.get(name) or ""
    try:
        value = int(raw) if raw else 0
        if value < 0:
            raise ValueError
    except ValueError:
        raise Invalid(f'resourceVersion: Invalid value: "{raw}": must be a non-negative integer',
                      causes=[invalid(name, raw).cause()]) from None
    return value


@dataclass(slots=True)
class Listed:
    """A list answer: the List object, and when its items are the cache's current objects, the cache and
    their positions, so that a JSON answer can join their kept encodings (WatchCache.encoded)."""

    obj: Obj
    cache: WatchCache | None = None
    at: slice | list[int] | None = None  # the items' positions in cache.ordered()
    revision: int = 0  # the cache's, when they were taken

    def items_json(self) -> list[bytes] | None:
        """The items' JSON from the cache, or None when they are not (or no longer) its current objects."""
        if self.cache is None or self.at is None or self.cache.revision != self.revision:
            return None
        return self.cache.encoded(self.at)


async def list_objects(res: Resources, ctx: Ctx, query: Mapping[str, str]) -> Listed:
    rt = ctx.rt
    sel = selection(rt, ctx.namespace, query)
    limit = parse_limit(query)
    list_options(query, watch=False)
    rv_raw = query.get("resourceVersion") or ""
    rv = _revision_param(query)
    match = query.get("resourceVersionMatch") or ""
    prefix = rt.prefix(ctx.namespace)
    token = query.get("continue") or ""
    cache = res.cache(rt)
    if token:
        if rv_raw not in ("", "0"):
            raise BadRequest("specifying resource version is not allowed when using continue")
        revision, after = decode_continue(token, prefix)
        page = await _snapshot(res, ctx, cache, sel, prefix, revision, after, limit, continuing=True)
    elif match == "Exact" or (limit and rv and match == ""):
        page = await _snapshot(res, ctx, cache, sel, prefix, rv, "", limit, continuing=False)
        revision = rv
    else:
        if rv:
            await cache.wait_for(rv)
        else:
            await cache.ready()
        revision = cache.revision
        page = _from_cache(cache, prefix, sel, limit)
    meta: Obj = {"resourceVersion": str(revision)}
    if page.next_key is not None:
        meta["continue"] = encode_continue(revision, page.next_key, prefix)
        if page.remaining is not None and not sel.filtered:
            meta["remainingItemCount"] = page.remaining
    obj = {"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": meta, "items": page.items}
    if page.at is None:
        return Listed(obj)
    return Listed(obj, cache, page.at, cache.revision)


@dataclass(slots=True)
class Page:
    items: list[Obj]
    next_key: str | None = None  # the last key of a page that has more after it
    remaining: int | None = None  # how many keys follow it
    at: slice | list[int] | None = None  # the items' positions in the cache's ordered(), when from there


async def _snapshot(res: Resources, ctx: Ctx, cache: WatchCache, sel: Selection, prefix: str, revision: int,
                    after: str, limit: int, *, continuing: bool) -> Page:
    """A page of the list as it was at `revision`: from the cache while nothing under the prefix has changed
    since (see _unchanged_since), else from the store."""
    await cache.ready()
    if _unchanged_since(res, cache, prefix, revision):
        return _from_cache(cache, prefix, sel, limit, after)
    return await _from_store(res, ctx, sel, prefix, revision, after, limit, continuing=continuing)


def _unchanged_since(res: Resources, cache: WatchCache, prefix: str, revision: int) -> bool:
    """Whether the cache's objects under `prefix` are exactly what they were at `revision`: its history
    reaches back that far and holds no change under the prefix since. A snapshot read (a continue
    token, an exact resourceVersion) is then served from the cache, as kube 1.34 serves such lists
    from cache snapshots; a compacted revision still goes to the store, for its 410."""
    if not cache.oldest <= revision <= cache.revision or revision < res.store.compact_revision:
        return False
    for ev in reversed(cache.history):
        if ev.revision <= revision:
            break
        if ev.key.startswith(prefix):
            return False
    return True


def _from_cache(cache: WatchCache, prefix: str, sel: Selection, limit: int, after: str = "") -> Page:
    ordered = cache.ordered()
    keys, objs = ordered.keys, ordered.objs
    lo = bisect.bisect_left(keys, prefix)
    if after:
        lo = max(lo, bisect.bisect_right(keys, after))
    hi = bisect.bisect_left(keys, prefix[:-1] + chr(ord(prefix[-1]) + 1)) if prefix else len(keys)
    if not sel.filtered:  # every key under the prefix is selected: a slice, no per-object test
        end = min(hi, lo + limit) if limit else hi
        page = Page(objs[lo:end], at=slice(lo, end))
        if end < hi:
            page.next_key, page.remaining = keys[end - 1], hi - end
        return page
    match = sel.matcher()
    found: list[int] = []
    for i in range(lo, hi):
        if match(keys[i], objs[i]):
            found.append(i)
            if limit and len(found) == limit:
                if i + 1 < hi:
                    return Page([objs[j] for j in found], keys[i], hi - i - 1, found)
                break
    return Page([objs[j] for j in found], at=found)


async def _from_store(
    res: Resources, ctx: Ctx, sel: Selection, prefix: str, revision: int, after: str, limit: int, *, continuing: bool
) -> Page:
    match = sel.matcher()
    items: list[Obj] = []
    try:
        while True:
            want = limit - len(items) if limit else 0
            kvs, _, more = await res.store.range(prefix, revision=revision, limit=want, after=after)
            for kv in kvs:
                obj = objects.from_kv(kv)
                if match(kv.key, obj):
                    items.append(obj)
            if not more:
                return Page(items)
            after = kvs[-1].key
            if limit and len(items) >= limit:
                remaining = await res.store.count(prefix, revision=revision, after=after)
                return Page(items, after, remaining)
    except Compacted as err:
        if continuing:
            raise Expired(EXPIRED_CONTINUE) from None
        raise storage_error(err, ctx) from err
    except StoreError as err:
        raise storage_error(err, ctx) from err


def list_options(query: Mapping[str, str], *, watch: bool) -> None:
    """kube's ValidateListOptions: a bad combination is 422 Invalid on ListOptions."""
    errs: list[FieldError] = []
    rv = query.get("resourceVersion") or ""
    match = query.get("resourceVersionMatch") or ""
    send_initial = query.get("sendInitialEvents")
    if watch:
        if send_initial is not None and match != "NotOlderThan":
            errs.append(forbidden("resourceVersionMatch",
                                  "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"))
        if send_initial is None and match:
            errs.append(forbidden("resourceVersionMatch",
                                  "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"))
    else:
        if match in ("NotOlderThan", "Exact"):
            if not rv:
                errs.append(forbidden("resourceVersionMatch",
                                      "resourceVersionMatch is forbidden unless resourceVersion is provided"))
            if query.get("continue"):
                errs.append(forbidden("resourceVersionMatch",
                                      "resourceVersionMatch is forbidden when continue is provided"))
            if match == "Exact" and rv == "0":
                errs.append(forbidden("resourceVersionMatch",
                                      'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'))
        elif match:
            errs.append(not_supported("resourceVersionMatch", match, ["Exact", "NotOlderThan"]))
        if send_initial is not None:
            errs.append(forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list"))
    if errs:
        raise Invalid.of("meta.k8s.io", "ListOptions", "", errs)


def watch_params(query: Mapping[str, str]) -> dict[str, Any]:
    """The options of a watch request, validated."""
    list_options(query, watch=True)
    send_initial = query.get("sendInitialEvents")
    raw_timeout = query.get("timeoutSeconds")
    try:
        timeout = int(raw_timeout) if raw_timeout else None
    except ValueError:
        raise BadRequest(f'invalid value for timeoutSeconds: "{raw_timeout}"') from None
    return {"rv": _revision_param(query), "rv_given": bool(query.get("resourceVersion")),
            "initial": is_true(send_initial) if send_initial is not None else None,
            "bookmarks": is_true(query.get("allowWatchBookmarks")), "timeout": timeout}
