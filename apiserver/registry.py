"""The registry of resource types: built-in kinds and CRDs alike are data here.

Handlers look a resource up per request (as kube's CRD handler does), so adding or
removing a type at runtime never touches the HTTP routes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from machinery import FieldError

Obj = dict[str, Any]

# kube-apiserver's full verb set for a stored resource (discovery lists them in this order).
ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ScalePaths:
    """Where a scalable kind keeps its replica counts (CRD `subresources.scale` shape)."""

    spec_replicas: str = ".spec.replicas"
    status_replicas: str = ".status.replicas"
    label_selector: str | None = ".status.selector"


class Strategy:
    """Per-kind behaviour hooks; the default is a plain object with no rules.

    Mirrors kube's `rest.RESTCreateStrategy`/`RESTUpdateStrategy`: handlers stay generic and
    call these at fixed points. Every hook is a pure function of its arguments.
    """

    # "subdomain" (DNS-1123 subdomain, most kinds), "label" (DNS-1123 label: namespaces,
    # services), "path" (anything without '/' or '%', e.g. RBAC roles).
    name_rule: str = "subdomain"
    # Whether the kind tracks metadata.generation (kube's strategies set it for kinds with a spec
    # that controllers observe: workloads, pods, ingresses, network policies, PDBs, CRDs).
    generation: bool = False
    # Review kinds (SelfSubjectAccessReview & co) are answered from the request and never stored.
    ephemeral: bool = False

    def default(self, obj: Obj) -> None:
        """Fill defaults in place (kube's SetDefaults_*), run on every create, update and patch result."""

    def prepare_for_create(self, obj: Obj) -> None:
        """Set server-initialised fields after the generic step cleared status (e.g. pod phase Pending)."""

    def prepare_for_update(self, obj: Obj, old: Obj) -> None:
        """Carry over what an update of the main resource must not change."""

    def validate(self, obj: Obj) -> list[FieldError]:
        """Kind-specific validation of a new or updated object (metadata is checked generically)."""
        return []

    def validate_create(self, obj: Obj) -> list[FieldError]:
        """Rules only a new object is checked against (CRD CEL rules without oldSelf)."""
        return []

    def validate_update(self, obj: Obj, old: Obj) -> list[FieldError]:
        """Rules that compare with the stored object (immutable fields)."""
        return []

    def finalizers(self, obj: Obj) -> list[str]:
        """What still holds a deleted object in place (namespaces add their spec.finalizers)."""
        f = (obj.get("metadata") or {}).get("finalizers")
        return list(f) if isinstance(f, list) else []

    def prepare_for_delete(self, obj: Obj) -> None:
        """Mark an object whose deletion waits for finalizers (a namespace turns Terminating)."""

    def field_values(self, obj: Obj) -> dict[str, str]:
        """Fields usable in a fieldSelector beyond metadata.name/metadata.namespace."""
        return {}


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    subresources: tuple[str, ...] = ()  # "status", "scale"
    strategy: Strategy = field(default_factory=Strategy)
    scale: ScalePaths | None = None
    # The kind's OpenAPI v3 schema when it has its own (CRDs); built-in kinds use the Kubernetes
    # definitions by group/version/kind instead.
    schema: dict[str, Any] | None = field(default=None, hash=False, compare=False)
    # CRD additionalPrinterColumns (name, type, format, description, priority, jsonPath).
    printer_columns: tuple[dict[str, Any], ...] = field(default=(), hash=False, compare=False)
    # For custom resources: the CRD (its conversion strategy) and the version objects are stored at.
    crd: dict[str, Any] | None = field(default=None, hash=False, compare=False)
    storage_version: str = ""

    # Read on every request: computed once per type (the instance dict takes them; the type is frozen).
    @functools.cached_property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    @functools.cached_property
    def storage_prefix(self) -> str:
        """kube's etcd layout: core kinds at /registry/<resource>/, others under their group."""
        base = f"/registry/{self.group}/{self.plural}/" if self.group else f"/registry/{self.plural}/"
        return base

    def key(self, namespace: str | None, name: str) -> str:
        return f"{self.storage_prefix}{namespace}/{name}" if self.namespaced else f"{self.storage_prefix}{name}"

    def prefix(self, namespace: str | None) -> str:
        return f"{self.storage_prefix}{namespace}/" if self.namespaced and namespace else self.storage_prefix


class Registry:
    """Resource types by (group, version, plural), with the lookups discovery and kubectl need."""

    def __init__(self, types: Iterable[ResourceType] = ()) -> None:
        self._types: dict[tuple[str, str, str], ResourceType] = {}
        self.listeners: list[Callable[[], None]] = []
        for t in types:
            self.add(t)

    def add(self, rt: ResourceType) -> None:
        self._types[(rt.group, rt.version, rt.plural)] = rt
        self._changed()

    def remove(self, group: str, version: str, plural: str) -> None:
        if self._types.pop((group, version, plural), None) is not None:
            self._changed()

    def _changed(self) -> None:
        for fn in self.listeners:
            fn()

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._types.get((group, version, plural))

    def by_kind(self, group: str, kind: str) -> ResourceType | None:
        return next((t for t in self._types.values() if t.group == group and t.kind == kind), None)

    def all(self) -> list[ResourceType]:
        return list(self._types.values())

    def group_versions(self) -> dict[str, list[str]]:
        """Group -> served versions, in registration order (the preferred version first)."""
        out: dict[str, list[str]] = {}
        for t in self._types.values():
            versions = out.setdefault(t.group, [])
            if t.version not in versions:
                versions.append(t.version)
        return out
