"""Server-side apply and managedFields, as kube-apiserver 1.35 keeps them.

kube's FieldManager (k8s.io/apimachinery/pkg/util/managedfields/internal, v0.35) wraps structured-merge-diff's
`merge.Updater` (sigs.k8s.io/structured-merge-diff/v6) in a chain of managers; `apply` and `update` run the
same chain on plain dicts:

- `update` (create, update, patch): the fields that changed between the live and the new object are given to
  the manager (`operation: Update`, with the apiVersion and subresource of the request) and taken from every
  other manager; fields that disappeared leave every owner. The entry's time moves only when it gains fields.
  A request body carrying managedFields replaces them (`[]` or `[{}]` clears them, and an object without
  managedFields is then no longer tracked); status and other subresource writes keep the live managedFields.
  More than 10 Update entries are folded, oldest first, into `ancient-changes` entries per apiVersion.
- `apply`: the applied configuration is merged into the live object by the schema (maps and structs member by
  member, list-maps by their keys, sets by value, atomic lists and maps replaced), the manager's Apply entry
  becomes exactly the fields the configuration sets, fields it set last time and no longer sets are removed
  unless another manager owns them, and a changed value of a field another manager owns is a conflict (409)
  unless `force` takes it over. `kubectl` may take over fields its client-side apply annotation last set
  (lastappliedmanager.go), and keeps that annotation in step (lastappliedupdater.go). An object without
  managedFields gets a `before-first-apply` Update entry for what it holds before the first apply.
- apiVersion, kind and metadata's name, namespace, uid, resourceVersion, generation, creationTimestamp,
  selfLink, clusterName and managedFields are never owned (stripmeta.go).
- Entries are sorted as kube sorts them: Apply before Update, then by time, manager, apiVersion, subresource.

`reset_fields` are the paths a strategy resets (GetResetFields: `status` for the main resource of a kind with a
status subresource, `spec` for its status subresource): nobody gains or loses them through that endpoint.

Not modelled: conversion between versions (every entry is read as if recorded at the request's version, where
kube converts the object to each entry's version and drops entries of versions no longer served), unions, and
the Go zero value of a created object beyond a sketch: kube compares a create with the zero value of the Go
type, so structs held by value (metadata, spec, status, template, strategy, ...) and required fields count as
present; `_zero_object` approximates that from the OpenAPI definition (custom resources start from `{}`).
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from machinery.errors import BadRequest, Conflict
from machinery.fieldpath import (
    ABSENT,
    FieldSet,
    Path,
    PathElement,
    Shape,
    ensure_named_fields_are_members,
    go_json,
    go_quote,
    make_path,
    path_string,
    reconcile_with_schema,
    to_field_set,
    validate,
)
from machinery.schemas import SchemaNode
from machinery.strategic import PatchFailed
from machinery.validation import TOTAL_ANNOTATION_SIZE_LIMIT

APPLY: Final = "Apply"
UPDATE: Final = "Update"
FIELDS_V1: Final = "FieldsV1"
FIELD_MANAGER_MAX_LENGTH: Final = 128  # apimachinery validation.FieldManagerMaxLength
MAX_UPDATE_MANAGERS: Final = 10  # fieldmanager.go DefaultMaxUpdateManagers
LAST_APPLIED: Final = "kubectl.kubernetes.io/last-applied-configuration"
KUBECTL: Final = "kubectl"  # the manager whose applies honour and refresh the last-applied annotation
BEFORE_FIRST_APPLY: Final = "before-first-apply"  # skipnonapplied.go
ANCIENT_CHANGES: Final = "ancient-changes"  # capmanagers.go
FIELD_MANAGER_CONFLICT: Final = "FieldManagerConflict"  # metav1.CauseTypeFieldManagerConflict

_STRIPPED: Final = FieldSet.of(*(make_path(*p) for p in (
    ("apiVersion",), ("kind",), ("metadata",), ("metadata", "name"), ("metadata", "namespace"),
    ("metadata", "creationTimestamp"), ("metadata", "selfLink"), ("metadata", "uid"), ("metadata", "clusterName"),
    ("metadata", "generation"), ("metadata", "managedFields"), ("metadata", "resourceVersion"))))


# ---- managers --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Manager:
    """A manager's identity (BuildManagerIdentifier): its name, operation, subresource, and for an Update the
    apiVersion it wrote (an applier is the same manager whatever version it applies)."""

    name: str
    operation: str
    api_version: str = ""
    subresource: str = ""

    @property
    def identifier(self) -> str:
        """The JSON kube keys managers by (and sorts conflict messages by)."""
        entry = {"manager": self.name, "operation": self.operation, "apiVersion": self.api_version,
                 "subresource": self.subresource}
        return "{" + ",".join(f"{go_json(k)}:{go_json(v)}" for k, v in entry.items() if v) + "}"

    def describe(self) -> str:
        """printManager: `"name"`, `"name" with subresource "s"`, `... using apps/v1` for an Update."""
        text = go_quote(self.name)
        if self.subresource:
            text += f" with subresource {go_quote(self.subresource)}"
        if self.operation == UPDATE:
            text += f" using {self.api_version}"
        return text


@dataclass(frozen=True)
class _Owned:
    fields: FieldSet
    api_version: str
    applied: bool


_CURRENT: Final = Manager("current-operation", "")  # managedfieldsupdater.go: the changes of this request


@dataclass
class _Managed:
    fields: dict[Manager, _Owned] = field(default_factory=dict)
    times: dict[Manager, str | None] = field(default_factory=dict)

    def copy(self) -> _Managed:
        return _Managed(dict(self.fields), dict(self.times))


@functools.lru_cache(maxsize=256)  # every write without fieldManager asks, with a client's one User-Agent
def default_manager(user_agent: str) -> str:
    """The manager of a request without `fieldManager` (prefixFromUserAgent): the User-Agent up to the first
    `/`, without unprintable characters, cut to 128 bytes."""
    out, size = [], 0
    for c in user_agent.split("/")[0]:
        if not c.isprintable():
            continue
        n = len(c.encode())
        if size + n > FIELD_MANAGER_MAX_LENGTH:
            break
        out.append(c)
        size += n
    return "".join(out)


def decode_managed_fields(entries: Any) -> _Managed:
    """DecodeManagedFields; ValueError for what kube refuses. A later entry of the same manager wins."""
    managed = _Managed()
    for i, entry in enumerate(entries or ()):
        if not isinstance(entry, Mapping):
            raise ValueError(f"managed fields entry {i} is not an object")
        operation = entry.get("operation") or ""
        if operation not in (APPLY, UPDATE):
            raise ValueError("operation must be `Apply` or `Update`")
        api_version = entry.get("apiVersion") or ""
        if not api_version:
            raise ValueError("apiVersion must not be empty")
        fields_type = entry.get("fieldsType") or ""
        if not fields_type:
            raise ValueError(f"missing fieldsType in managed fields entry {i}")
        if fields_type != FIELDS_V1:
            raise ValueError(f'invalid fieldsType "{fields_type}" in managed fields entry {i}')
        key = Manager(entry.get("manager") or "", operation, api_version if operation == UPDATE else "",
                      entry.get("subresource") or "")
        try:
            fields = FieldSet.from_fields_v1(entry.get("fieldsV1"))
        except ValueError as err:
            raise ValueError(f"error decoding versioned set from entry {i}: error decoding set: {err}") from None
        managed.fields[key] = _Owned(fields, api_version, operation == APPLY)
        managed.times[key] = entry.get("time")
    return managed


def encode_managed_fields(managed: _Managed) -> list[dict[str, Any]]:
    """encodeManagedFields: one entry per manager, sorted as kube sorts them."""
    entries = []
    for key, owned in managed.fields.items():
        entry: dict[str, Any] = {}
        if key.name:
            entry["manager"] = key.name
        entry["operation"] = APPLY if owned.applied else key.operation
        entry["apiVersion"] = owned.api_version
        if (when := managed.times.get(key)) is not None:
            entry["time"] = _rfc3339(when)
        entry["fieldsType"] = FIELDS_V1
        entry["fieldsV1"] = owned.fields.to_fields_v1()
        if key.subresource:
            entry["subresource"] = key.subresource
        entries.append(entry)
    entries.sort(key=lambda e: (e["operation"], _seconds(e.get("time")), e.get("manager", ""), e["apiVersion"],
                                e.get("subresource", "")))
    return entries


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _rfc3339(value: Any) -> Any:
    """metav1.Time as kube writes it: UTC, whole seconds."""
    parsed = _parse_time(value)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if parsed else value


def _seconds(value: Any) -> int:
    parsed = _parse_time(value)
    return math.floor(parsed.timestamp()) if parsed else 0


# ---- conflicts -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldConflict:
    """A field the applier would change that another manager owns."""

    manager: Manager
    path: Path

    @property
    def field(self) -> str:
        return path_string(self.path)


class ApplyConflict(Conflict):
    """409 Conflict with one FieldManagerConflict cause per field (conflict.go NewConflictError)."""

    def __init__(self, conflicts: Sequence[FieldConflict]) -> None:
        self.conflicts = list(conflicts)
        causes = [{"reason": FIELD_MANAGER_CONFLICT, "message": f"conflict with {c.manager.describe()}",
                   "field": c.field} for c in self.conflicts]
        super().__init__(conflict_message(self.conflicts), causes=causes)


def conflict_message(conflicts: Sequence[FieldConflict]) -> str:
    """getConflictMessage: one conflict inline, several grouped by manager (managers sorted by identifier)."""
    if len(conflicts) == 1:
        c = conflicts[0]
        return f"Apply failed with 1 conflict: conflict with {c.manager.describe()}: {c.field}"
    by_manager: dict[Manager, list[str]] = {}
    for c in conflicts:
        by_manager.setdefault(c.manager, []).append(c.field)
    lines = []
    for manager in sorted(by_manager, key=lambda m: m.identifier):
        lines.append(f"conflicts with {manager.describe()}:")
        lines.extend(f"- {p}" for p in by_manager[manager])
    return f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)


class _Conflicts(Exception):
    def __init__(self, conflicts: list[FieldConflict]) -> None:
        super().__init__(conflicts)
        self.conflicts = conflicts


def _conflicts_of(sets: Mapping[Manager, FieldSet]) -> list[FieldConflict]:
    return [FieldConflict(m, p) for m in sorted(sets, key=lambda m: m.identifier) for p in sets[m]]


# ---- values: equality, merge, compare, removal (typed/merge.go, compare.go, remove.go) -----------------------


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(a: Any, b: Any) -> bool:
    """value.Equals: numbers by value (1 == 1.0), booleans only with booleans."""
    if _number(a) or _number(b):
        return _number(a) and _number(b) and a == b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _as(kind: str, value: Any) -> Any:
    if kind == "map":
        return value if isinstance(value, Mapping) else None
    return value if isinstance(value, list) else None


def merge(lhs: Any, rhs: Any, shape: Shape) -> Any:
    """The applied configuration `rhs` merged into `lhs` (TypedValue.Merge with ruleKeepRHS); ABSENT if neither."""
    kind = shape.handler(rhs) if rhs is not ABSENT else shape.handler(lhs)
    if kind in ("map", "list"):
        left, right = _as(kind, lhs), _as(kind, rhs)
        atomic = shape.map_atomic if kind == "map" else shape.list_atomic
        if not (atomic or (not left and not right)):
            if kind == "list":
                return _merge_items(left or [], right or [], shape) or ABSENT
            out = {}
            for key in [*(left or {}), *(k for k in right or {} if k not in (left or {}))]:
                merged = merge((left or {}).get(key, ABSENT), (right or {}).get(key, ABSENT),
                               shape.member(key) or _deduced())
                if merged is not ABSENT:
                    out[key] = merged
            return out or ABSENT
    return rhs if rhs is not ABSENT else lhs


def _merge_items(lhs: list[Any], rhs: list[Any], shape: Shape) -> list[Any]:
    """Merge list-map or set elements: shared elements merge in place, new ones follow the configuration's order."""
    item = shape.item()
    rhs_pes = [shape.element(x) for x in rhs]
    rhs_by = dict(zip(rhs_pes, rhs, strict=True))
    lhs_pes, lhs_by = [], {}
    for x in lhs:
        pe = shape.element(x)
        lhs_by[pe] = None if pe in lhs_by else x  # duplicates are not merged with the new value
        lhs_pes.append(pe)
    shared = iter([pe for pe in rhs_pes if pe in lhs_by])
    next_shared = next(shared, None)
    merged_rhs: set[PathElement] = set()
    out: list[Any] = []

    def emit(value: Any) -> None:
        if value is not ABSENT:
            out.append(value)

    li = ri = 0
    while li < len(lhs_pes) or ri < len(rhs_pes):
        if li < len(lhs_pes) and ri < len(rhs_pes):
            pe = lhs_pes[li]
            if pe == rhs_pes[ri]:
                merged_rhs.add(pe)
                emit(merge(lhs_by[pe], rhs_by[pe], item))
                li, ri = li + 1, ri + 1
                next_shared = next(shared, None)
                continue
            if pe in rhs_by and next_shared is not None and next_shared != pe:
                li += 1  # a shared element, but not the one due now
                continue
        if li < len(lhs_pes):
            pe = lhs_pes[li]
            if pe not in rhs_by:
                emit(merge(lhs[li], ABSENT, item))
                li += 1
                continue
            if pe in merged_rhs:
                li += 1
        if ri < len(rhs_pes):
            pe = rhs_pes[ri]
            merged_rhs.add(pe)
            emit(merge(lhs_by.get(pe, ABSENT), rhs_by[pe], item))
            ri += 1
            if next_shared is not None and next_shared == pe:
                next_shared = next(shared, None)
    return out


@dataclass(frozen=True)
class Comparison:
    """What changed from one object to another (typed.Comparison)."""

    added: FieldSet
    modified: FieldSet
    removed: FieldSet

    def excluding(self, ignored: FieldSet) -> Comparison:
        if ignored.empty():
            return self
        return Comparison(*(s.recursive_difference(ignored) for s in (self.added, self.modified, self.removed)))


def compare(lhs: Any, rhs: Any, shape: Shape) -> Comparison:
    """TypedValue.Compare: leaves added, modified and removed, plus maps and list elements added or removed."""
    result = Comparison(FieldSet(), FieldSet(), FieldSet())
    _compare(lhs, rhs, shape, (), result)
    return result


def _compare(lhs: Any, rhs: Any, shape: Shape, path: Path, c: Comparison) -> None:
    left_kind, right_kind = shape.handler(lhs), shape.handler(rhs)
    if rhs is ABSENT:
        leaf = _compare_as(left_kind, lhs, rhs, shape, path, c)
    elif lhs is ABSENT or left_kind == right_kind:
        leaf = _compare_as(right_kind, lhs, rhs, shape, path, c)
    else:  # a value that changed kind: both readings count
        _compare_as(left_kind, lhs, rhs, shape, path, c)
        leaf = _compare_as(right_kind, lhs, rhs, shape, path, c)
    if not leaf:
        if lhs is ABSENT:
            c.added.insert(path)
        elif rhs is ABSENT:
            c.removed.insert(path)


def _compare_leaf(lhs: Any, rhs: Any, path: Path, c: Comparison) -> bool:
    if lhs is ABSENT:
        c.added.insert(path)
    elif rhs is ABSENT:
        c.removed.insert(path)
    elif not _equal(lhs, rhs):
        c.modified.insert(path)
    return True


def _compare_as(kind: str | None, lhs: Any, rhs: Any, shape: Shape, path: Path, c: Comparison) -> bool:
    if kind not in ("map", "list"):
        return _compare_leaf(lhs, rhs, path, c)
    left, right = _as(kind, lhs), _as(kind, rhs)
    atomic = shape.map_atomic if kind == "map" else shape.list_atomic
    if atomic or (not left and not right):
        return _compare_leaf(lhs, rhs, path, c)
    if kind == "list":
        _compare_items(left or [], right or [], shape, path, c)
        return False
    left, right = left or {}, right or {}
    for key in [*left, *(k for k in right if k not in left)]:
        member = shape.member(key) or _deduced()
        _compare(left.get(key, ABSENT), right.get(key, ABSENT), member, (*path, PathElement.field(key)), c)
    return False


def _by_element(items: list[Any], shape: Shape, order: list[PathElement]) -> dict[PathElement, list[Any]]:
    out: dict[PathElement, list[Any]] = {}
    for x in items:
        try:
            pe = shape.element(x)
        except ValueError:
            continue
        if pe not in out:
            order.append(pe)
        out.setdefault(pe, []).append(x)
    return out


def _compare_items(lhs: list[Any], rhs: list[Any], shape: Shape, path: Path, c: Comparison) -> None:
    order: list[PathElement] = []
    left, right = _by_element(lhs, shape, order), _by_element(rhs, shape, order)
    item = shape.item()
    for pe in dict.fromkeys(order):
        ls, rs = left.get(pe, []), right.get(pe, [])
        at = (*path, pe)
        if len(ls) <= 1 and len(rs) <= 1:
            _compare(ls[0] if ls else ABSENT, rs[0] if rs else ABSENT, item, at, c)
        elif len(ls) >= 2 and len(rs) >= 2:  # duplicates before and after: compared as a whole
            if not _equal(ls, rs):
                c.modified.insert(at)
        elif len(ls) >= 2:
            if rs:
                _compare(ABSENT, rs[0], item, at, c)
            c.removed.insert(at)
        else:
            if ls:
                _compare(ls[0], ABSENT, item, at, c)
            c.added.insert(at)


def remove_items(value: Any, paths: FieldSet, shape: Shape) -> Any:
    """The value without the given paths (TypedValue.RemoveItems); a map or list left empty becomes null."""
    kind = shape.handler(value)
    if kind == "list":
        if not isinstance(value, list) or not value or shape.list_atomic:
            return None
        items = []
        for x in value:
            try:
                pe = shape.element(x)
            except ValueError:
                items.append(x)
                continue
            if pe in paths.members:
                continue
            below = paths.with_prefix(pe)
            items.append(remove_items(x, below, shape.item()) if below else x)
        return items or None
    if kind == "map":
        if not isinstance(value, Mapping) or not value or shape.map_atomic:
            return None
        out = {}
        for key, sub in value.items():
            pe = PathElement.field(key)
            if pe in paths.members:
                continue
            below = paths.with_prefix(pe)
            out[key] = remove_items(sub, below, shape.member(key) or _deduced()) if below else sub
        return out or None
    return value


def _deduced() -> Shape:
    return Shape(Shape.DEDUCED)


# ---- the updater (merge/update.go) -----------------------------------------------------------------------------


def _reconciled(managers: dict[Manager, _Owned], shape: Shape) -> dict[Manager, _Owned]:
    return {m: _Owned(reconcile_with_schema(o.fields, shape), o.api_version, o.applied) for m, o in managers.items()}


def _smd_update(old: Any, new: Any, shape: Shape, managers: dict[Manager, _Owned], workflow: Manager,
                ignored: FieldSet, *, force: bool) -> tuple[dict[Manager, _Owned], Comparison]:
    """Updater.update: other managers lose what changed (conflicts unless forced) and what was removed."""
    change = compare(old, new, shape).excluding(ignored)
    touched = change.modified.union(change.added)
    conflicts = {m: both for m, o in managers.items()
                 if m != workflow and (both := o.fields.intersection(touched))}
    if conflicts and not force:
        raise _Conflicts(_conflicts_of(conflicts))
    out = {}
    for m, o in managers.items():
        fields = o.fields
        if m in conflicts:
            fields = fields.difference(conflicts[m])
        if m != workflow and change.removed:
            fields = fields.difference(change.removed)
        if fields:
            out[m] = _Owned(fields, o.api_version, o.applied)
    return out, change


def _smd_update_fields(old: Any, new: Any, shape: Shape, managers: dict[Manager, _Owned], manager: Manager,
                       version: str, ignored: FieldSet) -> dict[Manager, _Owned]:
    """Updater.Update: the manager gains what changed."""
    managers, change = _smd_update(old, new, shape, _reconciled(managers, shape), manager, ignored, force=True)
    previous = managers[manager].fields if manager in managers else FieldSet()
    owned = previous.difference(change.removed).union(change.modified).union(change.added)
    owned = owned.recursive_difference(ignored)
    managers.pop(manager, None)
    if owned:
        managers[manager] = _Owned(owned, version, False)
    return managers


def _smd_apply(live: Any, config: Any, shape: Shape, managers: dict[Manager, _Owned], manager: Manager,
               version: str, ignored: FieldSet, *, force: bool) -> tuple[Any, dict[Manager, _Owned]]:
    """Updater.Apply: the merged object (ABSENT when nothing changed) and the new owners."""
    managers = _reconciled(managers, shape)
    merged = merge(live, config, shape)
    last = managers.get(manager)
    managers[manager] = _Owned(to_field_set(config, shape).recursive_difference(ignored), version, True)
    if last is not None and last.fields:
        merged = _prune(merged, managers, last.fields, shape)
    managers, _ = _smd_update(live, merged, shape, managers, manager, ignored, force=force)
    return (ABSENT if _equal(live, merged) else merged), managers


def _prune(merged: Any, managers: dict[Manager, _Owned], last: FieldSet, shape: Shape) -> Any:
    """Remove what the applier set last time and no longer sets, unless some manager owns it (Updater.prune)."""
    def named(fields: FieldSet) -> FieldSet:
        return ensure_named_fields_are_members(fields, shape)

    last_named = named(last)
    pruned = remove_items(merged, last_named, shape)
    owned = FieldSet()
    for o in managers.values():
        owned = owned.union(o.fields)
    merged_set = named(to_field_set(merged, shape))
    pruned = remove_items(merged, merged_set.difference(named(to_field_set(pruned, shape)).union(named(owned))),
                          shape)  # addBackOwnedItems
    pruned_set = named(to_field_set(pruned, shape))
    return remove_items(merged, merged_set.difference(pruned_set).intersection(last_named), shape)  # dangling


def _strip(managers: dict[Manager, _Owned], manager: Manager) -> None:
    """stripmeta.go: type and object metadata are never owned."""
    if manager in managers:
        owned = managers[manager]
        rest = owned.fields.difference(_STRIPPED)
        if rest:
            managers[manager] = _Owned(rest, owned.api_version, owned.applied)
        else:
            del managers[manager]


def _record_update(old: Any, new: Any, shape: Shape, managed: _Managed, manager: Manager, version: str,
                   now: str, ignored: FieldSet) -> _Managed:
    """managedfieldsupdater.go Update: the request's changes join the manager's entry and date it."""
    fields = _smd_update_fields(old, new, shape, managed.fields, _CURRENT, version, ignored)
    _strip(fields, _CURRENT)
    out = _Managed(fields, dict(managed.times))
    if _CURRENT in fields:
        changes = fields.pop(_CURRENT)
        previous = fields.get(manager)
        union = changes.fields.union(previous.fields) if previous else changes.fields
        fields[manager] = _Owned(union, changes.api_version, changes.applied)
        out.times[manager] = now
    return _cap_update_managers(out)


def _cap_update_managers(managed: _Managed) -> _Managed:
    """capmanagers.go: keep at most 10 Update entries by folding the oldest into `ancient-changes`."""
    updaters = [m for m, o in managed.fields.items() if not o.applied]
    if len(updaters) <= MAX_UPDATE_MANAGERS:
        return managed
    updaters.sort(key=lambda m: (_seconds(managed.times.get(m)), m.identifier))
    first: dict[str, Manager] = {}
    remaining = len(updaters)
    for m in updaters:
        if remaining <= MAX_UPDATE_MANAGERS:
            break
        owned, when = managed.fields[m], managed.times.get(m)
        bucket = Manager(ANCIENT_CHANGES, UPDATE, owned.api_version)
        if owned.api_version not in first:
            first[owned.api_version] = m
            continue
        if m == bucket:  # already the bucket (kube would drop it here)
            continue
        if bucket not in managed.fields:
            managed.fields[bucket] = managed.fields.pop(first[owned.api_version])
        managed.fields[bucket] = _Owned(owned.fields.union(managed.fields[bucket].fields), owned.api_version,
                                        owned.applied)
        del managed.fields[m]
        remaining -= 1
        managed.times[bucket] = when
    return managed


# ---- the zero object of a built-in kind ------------------------------------------------------------------------

# Struct members Go holds by value in the built-in types, so a new object's zero value already has them.
_VALUE_STRUCTS: Final = frozenset({"metadata", "spec", "status", "template", "jobTemplate", "strategy",
                                   "updateStrategy", "loadBalancer"})
_ZERO_SCALARS: Final = {"integer": 0, "number": 0, "string": "", "boolean": False}
_MAX_ZERO_DEPTH: Final = 8  # deep enough for CronJob.spec.jobTemplate.spec.template.spec


def _zero_object(schema: SchemaNode | None) -> dict[str, Any]:
    """What kube compares a create with: the Go zero value of the kind; `{}` for a custom resource."""
    if schema is None or schema.name is None:
        return {}
    return _zero_struct(schema, 0)


def _zero_struct(schema: SchemaNode, depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if schema.name == "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta":
        return {"creationTimestamp": None}
    required = set(schema.required)
    for name in schema.field_names:
        child = schema.field(name)
        if child is None or not (name in required or name in _VALUE_STRUCTS):
            continue
        struct = child.is_object and bool(child.field_names) and child.map_type != "atomic"
        if struct and depth < _MAX_ZERO_DEPTH:
            out[name] = _zero_struct(child, depth + 1)
        elif name in required:
            types = child.types
            out[name] = _ZERO_SCALARS.get(next(iter(types))) if len(types) == 1 else None
    return out


# ---- the public operations -------------------------------------------------------------------------------------


def _meta(obj: Mapping[str, Any] | None) -> Mapping[str, Any]:
    meta = obj.get("metadata") if obj else None
    return meta if isinstance(meta, Mapping) else {}


def _without_managed_fields(obj: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(obj)
    if "managedFields" in _meta(obj):
        out["metadata"] = {k: v for k, v in _meta(obj).items() if k != "managedFields"}
    return out


def _with_managed_fields(obj: Any, managed: _Managed) -> dict[str, Any]:
    """The object (deep-copied) with managedFields encoded last in its metadata, or without any."""
    out: dict[str, Any] = copy.deepcopy(dict(obj)) if isinstance(obj, Mapping) else {}
    meta = out.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
    entries = encode_managed_fields(managed)
    if entries:
        if not isinstance(meta, dict):
            meta = out["metadata"] = {}
        meta["managedFields"] = entries
    return out


def _reset_set(reset_fields: Iterable[Sequence[str]]) -> FieldSet:
    return FieldSet.of(*(make_path(*p) for p in reset_fields))


def _is_reset(entries: Any) -> bool:
    """isResetManagedFields: `[]` or `[{}]` (one entry with nothing in it) asks to clear managedFields."""
    if not isinstance(entries, list) or len(entries) > 1:
        return False
    return not entries or (isinstance(entries[0], Mapping) and all(v in (None, "") for v in entries[0].values()))


def update(live: Mapping[str, Any] | None, new: Mapping[str, Any], schema: SchemaNode | None, *, manager: str,
           api_version: str, now: str, subresource: str = "",
           reset_fields: Iterable[Sequence[str]] = ()) -> dict[str, Any]:
    """`new` (a copy) with managedFields recording a create (live None), update or patch by `manager`.

    Call it with the object about to be stored (defaulted, prepared by the strategy) and the stored one.
    """
    live_entries = _meta(live).get("managedFields")
    new_meta = _meta(new)
    try:
        if subresource:  # subresources never write managedFields themselves
            managed = decode_managed_fields(live_entries)
        elif _is_reset(new_meta.get("managedFields")):
            managed = _Managed()
        else:
            managed = decode_managed_fields(new_meta.get("managedFields"))
            if not managed.fields:
                raise ValueError("empty")
    except ValueError:
        try:
            managed = decode_managed_fields(live_entries)
        except ValueError:
            managed = _Managed()
    creating = live is None or not _meta(live).get("uid")
    if not managed.fields and not creating:
        return _with_managed_fields(new, _Managed())  # an object nobody tracks stays untracked (skipnonapplied.go)
    shape = Shape.of(schema)
    old = _zero_object(schema) if live is None else _without_managed_fields(live)
    current = _without_managed_fields(new)
    if validate(old, shape, allow_duplicates=True) or validate(current, shape, allow_duplicates=True):
        # kube's UpdateNoErrors keeps the live managedFields when it cannot type the objects
        return _with_managed_fields(current, _decoded_or_empty(live_entries))
    key = Manager(manager or "unknown", UPDATE, api_version, subresource)
    managed = _record_update(old, current, shape, managed, key, api_version, now, _reset_set(reset_fields))
    return _with_managed_fields(current, managed)


def _decoded_or_empty(entries: Any) -> _Managed:
    try:
        return decode_managed_fields(entries)
    except ValueError:
        return _Managed()


def _group_version(api_version: Any) -> tuple[str, str]:
    if not isinstance(api_version, str) or api_version.count("/") > 1:
        return "", ""
    group, _, version = api_version.rpartition("/")
    return group, version


def _describe_object(obj: Mapping[str, Any]) -> str:
    """objectGVKNN: `namespace/name; group/version, Kind=kind`."""
    meta = _meta(obj)
    group, version = _group_version(obj.get("apiVersion"))
    kind = obj.get("kind") if isinstance(obj.get("kind"), str) else ""
    return f"{meta.get('namespace') or ''}/{meta.get('name') or ''}; {group}/{version}, Kind={kind}"


def _typing_error(errors: list[str]) -> str:
    return errors[0] if len(errors) == 1 else "errors:\n  " + "\n  ".join(errors)


def apply(live: Mapping[str, Any] | None, applied: Mapping[str, Any], schema: SchemaNode | None, *, manager: str,
          force: bool, api_version: str, now: str, subresource: str = "", kind: str | None = None,
          reset_fields: Iterable[Sequence[str]] = ()) -> dict[str, Any]:
    """The object after `manager` applies `applied` to `live` (None: the object does not exist yet), with its
    managedFields. Raises ApplyConflict (409), BadRequest (400) or PatchFailed (500) as kube answers."""
    try:
        managed = decode_managed_fields(_meta(live).get("managedFields"))
    except ValueError as err:
        raise PatchFailed(f"failed to decode managed fields: {err}") from None
    if kind is not None:
        group, version = _group_version(applied.get("apiVersion"))
        applied_kind = applied.get("kind") if isinstance(applied.get("kind"), str) else ""
        if (group, version, applied_kind) != (*_group_version(api_version), kind):
            raise BadRequest(f"invalid object type: {group}/{version}, Kind={applied_kind}")
    group, version = _group_version(applied.get("apiVersion"))
    if (group, version) != _group_version(api_version):
        raise BadRequest("Incorrect version specified in apply patch. Specified patch version: "
                         f"{f'{group}/{version}' if group else version}, expected: {api_version}")
    if _meta(applied).get("managedFields") is not None:
        raise BadRequest("metadata.managedFields must be nil")
    shape = Shape.of(schema)
    if errors := validate(applied, shape):
        raise PatchFailed(f"failed to create typed patch object ({_describe_object(applied)}): "
                          f"{_typing_error(errors)}")
    current = _without_managed_fields(live) if live is not None else {}
    if live is not None and (errors := validate(current, shape, allow_duplicates=True)):
        raise PatchFailed(f"failed to create typed live object ({_describe_object(current)}): "
                          f"{_typing_error(errors)}")
    run = _Applier(current, applied, schema, shape, managed, Manager(manager or "unknown", APPLY, "", subresource),
                   api_version, now, _reset_set(reset_fields))
    try:
        result, managed = run(force=force)
    except _Conflicts as err:
        conflicts = err.conflicts
        allowed = _allowed_by_last_applied(current, shape, api_version) if manager == KUBECTL else None
        if allowed is None:
            raise ApplyConflict(conflicts) from None
        if remaining := [c for c in conflicts if not allowed.has(c.path)]:
            raise ApplyConflict(remaining) from None
        result, managed = run(force=True)
    if manager == KUBECTL and LAST_APPLIED in (_meta(result).get("annotations") or {}):
        result = _refresh_last_applied(result, applied)
    return _with_managed_fields(result, managed)


@dataclass
class _Applier:
    """The apply chain below lastappliedmanager.go: skipnonapplied, managedfieldsupdater, stripmeta, SMD."""

    live: dict[str, Any]
    applied: Mapping[str, Any]
    schema: SchemaNode | None
    shape: Shape
    managed: _Managed
    manager: Manager
    version: str
    now: str
    ignored: FieldSet

    def __call__(self, *, force: bool) -> tuple[dict[str, Any], _Managed]:
        managed = self.managed.copy()
        if not managed.fields:  # first apply to an untracked object: its fields so far belong to nobody we know
            before = Manager(BEFORE_FIRST_APPLY, UPDATE, self.version, self.manager.subresource)
            managed = _record_update(_zero_object(self.schema), self.live, self.shape, managed, before, self.version,
                                     self.now, self.ignored)
        merged, fields = _smd_apply(self.live, self.applied, self.shape, managed.fields, self.manager,
                                    self.version, self.ignored, force=force)
        _strip(fields, self.manager)
        out = _Managed(fields, dict(managed.times))
        if merged is ABSENT:
            return self.live, out
        out.times[self.manager] = self.now
        return merged, out


def _allowed_by_last_applied(live: Mapping[str, Any], shape: Shape, api_version: str) -> FieldSet | None:
    """What kubectl's client-side apply last set and still holds (allowedConflictsFromLastApplied)."""
    text = (_meta(live).get("annotations") or {}).get(LAST_APPLIED)
    if not isinstance(text, str) or not text:
        return None
    try:
        last = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(last, dict) or last.get("apiVersion") != api_version or validate(last, shape):
        return None
    change = compare(last, live, shape)
    return to_field_set(last, shape).difference(change.modified).difference(change.added).difference(change.removed)


def _refresh_last_applied(result: Any, applied: Mapping[str, Any]) -> dict[str, Any]:
    """lastappliedupdater.go: kubectl's server-side apply keeps an existing last-applied annotation current."""
    config = copy.deepcopy(dict(applied))
    meta = config.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("annotations"), dict):
        meta["annotations"].pop(LAST_APPLIED, None)
    out = copy.deepcopy(result)
    annotations = out["metadata"]["annotations"]
    annotations[LAST_APPLIED] = go_json(config) + "\n"  # encoding/json Encoder: sorted keys, a final newline
    if sum(len(k) + len(v) for k, v in annotations.items() if isinstance(v, str)) > TOTAL_ANNOTATION_SIZE_LIMIT:
        del annotations[LAST_APPLIED]
    return dict(out)


__all__ = [
    "ANCIENT_CHANGES",
    "APPLY",
    "BEFORE_FIRST_APPLY",
    "LAST_APPLIED",
    "UPDATE",
    "ApplyConflict",
    "Comparison",
    "FieldConflict",
    "Manager",
    "apply",
    "compare",
    "conflict_message",
    "decode_managed_fields",
    "default_manager",
    "encode_managed_fields",
    "merge",
    "remove_items",
    "update",
]
