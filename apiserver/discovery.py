"""Discovery documents, as pure functions of the registry.

Two formats, both read by client-go 1.35 (`discovery/discovery_client.go`):

- legacy: `APIVersions` at /api, `APIGroupList` at /apis, `APIGroup` at /apis/{group} and an
  `APIResourceList` per group-version (k8s.io/apimachinery `meta/v1/types.go`);
- aggregated: one `APIGroupDiscoveryList` (apidiscovery.k8s.io/v2) at /api and at /apis, chosen
  by the Accept header (`wants_aggregated`), which spares a client one request per group-version.

The dicts follow kube-apiserver's JSON: field order, which empty fields are omitted, and
`apiVersion: v1` on everything but the core group's documents (kube strips it there,
`endpoints/discovery/util.go` `keepUnversioned`). Groups and versions come in the registry's
order, the preferred version first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from apiserver.registry import Registry, ResourceType

Obj = dict[str, Any]

AGGREGATED_GROUP = "apidiscovery.k8s.io"
AGGREGATED_VERSION = "v2"
AGGREGATED_KIND = "APIGroupDiscoveryList"
AGGREGATED_API_VERSION = f"{AGGREGATED_GROUP}/{AGGREGATED_VERSION}"
# The Content-Type of an aggregated answer: client-go picks its parser from these parameters.
AGGREGATED_CONTENT_TYPE = f"application/json;g={AGGREGATED_GROUP};v={AGGREGATED_VERSION};as={AGGREGATED_KIND}"
# v2beta1 is no longer served: 1.35 locks AggregatedDiscoveryRemoveBetaType on, so a client that
# asks only for it gets the legacy documents (apiserver `endpoints/discovery/aggregated/negotiation.go`).
AGGREGATED_CONTENT_TYPE_V2BETA1 = f"application/json;g={AGGREGATED_GROUP};v=v2beta1;as={AGGREGATED_KIND}"

# Every address is served to every client (`discovery.DefaultAddresses`).
_ALL_CLIENTS_CIDR = "0.0.0.0/0"


@dataclass(frozen=True)
class _Subresource:
    verbs: tuple[str, ...]
    # (group, version, kind) answered, when it is not the parent resource's own kind.
    response_kind: tuple[str, str, str] | None = None


_READ_WRITE = ("get", "patch", "update")

# What kube-apiserver 1.35 publishes for each subresource it serves (verbs sorted as in discovery).
_SUBRESOURCES = {
    "status": _Subresource(_READ_WRITE),
    "scale": _Subresource(_READ_WRITE, ("autoscaling", "v1", "Scale")),
    "finalize": _Subresource(("update",)),  # namespaces
    "approval": _Subresource(_READ_WRITE),  # certificatesigningrequests
    "ephemeralcontainers": _Subresource(_READ_WRITE),  # pods
    "resize": _Subresource(_READ_WRITE),  # pods
    "log": _Subresource(("get",)),  # pods
    "binding": _Subresource(("create",), ("", "v1", "Binding")),  # pods
    "eviction": _Subresource(("create",), ("policy", "v1", "Eviction")),  # pods
    "token": _Subresource(("create",), ("authentication.k8s.io", "v1", "TokenRequest")),  # serviceaccounts
}
_OTHER_SUBRESOURCE = _Subresource(_READ_WRITE)


def api_versions(server_address: str) -> Obj:
    """`GET /api`: the legacy core document (`APIVersions`, served without apiVersion)."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": _ALL_CLIENTS_CIDR, "serverAddress": server_address}],
    }


def api_group_list(registry: Registry) -> Obj:
    """`GET /apis`: every named group (kube-aggregator's `APIGroupList`)."""
    groups = [_group(name, versions) for name, versions in registry.group_versions().items() if name]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(registry: Registry, group: str) -> Obj | None:
    """`GET /apis/{group}`, or None when the group is not served (and for the core group)."""
    versions = registry.group_versions().get(group) if group else None
    if not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(group, versions)}


def api_resource_list(registry: Registry, group: str, version: str) -> Obj | None:
    """`GET /api/v1` or `/apis/{group}/{version}`, or None when the group-version is not served."""
    types = _types_of(registry, group, version)
    if not types:
        return None
    resources = [entry for rt in types for entry in _legacy_entries(rt)]
    resources.sort(key=lambda entry: entry["name"])
    document: Obj = {"kind": "APIResourceList"}
    if group:  # kube strips apiVersion from the core group's documents only
        document["apiVersion"] = "v1"
    return document | {"groupVersion": _group_version(group, version), "resources": resources}


def aggregated(registry: Registry, *, core: bool) -> Obj:
    """The `APIGroupDiscoveryList` for `/api` (core=True: the core group only) or `/apis` (the rest)."""
    items = [
        _group_discovery(registry, name, versions)
        for name, versions in registry.group_versions().items()
        if (name == "") == core
    ]
    return {"kind": AGGREGATED_KIND, "apiVersion": AGGREGATED_API_VERSION, "metadata": {}, "items": items}


def wants_aggregated(accept: str | None) -> str | None:
    """The Content-Type to answer /api or /apis with, or None for the legacy documents.

    Mirrors kube's discovery wrapper (`endpoints/discovery/aggregated/wrapper.go`): it walks the
    Accept clauses best first but lets only clauses asking for the v2 `APIGroupDiscoveryList`
    through, so a plain `application/json` never wins over an aggregated clause, whatever its
    position or q (even q=0, which kube's goautoneg does not treat as a refusal). client-go sends
    `AcceptV2[NoPeer],AcceptV2Beta1,application/json`. v2beta1 is passed over (see
    `AGGREGATED_CONTENT_TYPE_V2BETA1`), and `profile=nopeer` only matters with peer-proxying,
    which is off by default, so it is served like plain v2. Only JSON is served.
    """
    if not accept:
        return None
    for media_range, params in _accept_clauses(accept):
        if media_range in ("application/json", "application/*", "*/*") and _asks_for_aggregated(params):
            return AGGREGATED_CONTENT_TYPE
    return None


# --- legacy documents -------------------------------------------------------------------------


def _group(name: str, versions: list[str]) -> Obj:
    entries = [{"groupVersion": f"{name}/{version}", "version": version} for version in versions]
    return {"name": name, "versions": entries, "preferredVersion": dict(entries[0])}


def _legacy_entries(rt: ResourceType) -> list[Obj]:
    """The resource's `APIResource` and one per subresource (`pods/status`, `deployments/scale`)."""
    main: Obj = {
        "name": rt.plural,
        "singularName": rt.singular,
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": list(rt.verbs),
    }
    if rt.short_names:
        main["shortNames"] = list(rt.short_names)
    if rt.categories:
        main["categories"] = list(rt.categories)
    entries = [main]
    for name in rt.subresources:
        group, version, kind = _subresource_kind(rt, name)
        entry: Obj = {"name": f"{rt.plural}/{name}", "singularName": "", "namespaced": rt.namespaced}
        if (group, version) != (rt.group, rt.version):  # kube names the group-version only when it differs
            entry |= {"group": group, "version": version}
        entries.append(entry | {"kind": kind, "verbs": list(_subresource(name).verbs)})
    return entries


# --- aggregated document ----------------------------------------------------------------------


def _group_discovery(registry: Registry, name: str, versions: list[str]) -> Obj:
    # kube omits the empty name of the core group (and the zero creationTimestamp).
    return {
        "metadata": {"name": name} if name else {},
        "versions": [
            {
                "version": version,
                "resources": [_resource_discovery(rt) for rt in _types_of(registry, name, version)],
                "freshness": "Current",
            }
            for version in versions
        ],
    }


def _resource_discovery(rt: ResourceType) -> Obj:
    entry: Obj = {
        "resource": rt.plural,
        "responseKind": _gvk(rt.group, rt.version, rt.kind),
        "scope": "Namespaced" if rt.namespaced else "Cluster",
        "singularResource": rt.singular,
        "verbs": list(rt.verbs),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    if rt.subresources:
        entry["subresources"] = [
            {
                "subresource": name,
                "responseKind": _gvk(*_subresource_kind(rt, name)),
                "verbs": list(_subresource(name).verbs),
            }
            for name in sorted(rt.subresources)
        ]
    return entry


def _gvk(group: str, version: str, kind: str) -> Obj:
    return {"group": group, "version": version, "kind": kind}


# --- shared helpers ---------------------------------------------------------------------------


def _types_of(registry: Registry, group: str, version: str) -> list[ResourceType]:
    """The group-version's resources, sorted by name as kube's installer registers them."""
    types = (rt for rt in registry.all() if rt.group == group and rt.version == version)
    return sorted(types, key=lambda rt: rt.plural)


def _group_version(group: str, version: str) -> str:
    return f"{group}/{version}" if group else version


def _subresource(name: str) -> _Subresource:
    return _SUBRESOURCES.get(name, _OTHER_SUBRESOURCE)


def _subresource_kind(rt: ResourceType, name: str) -> tuple[str, str, str]:
    return _subresource(name).response_kind or (rt.group, rt.version, rt.kind)


# --- Accept header ----------------------------------------------------------------------------


def _accept_clauses(header: str) -> Iterator[tuple[str, dict[str, str]]]:
    """Accept clauses as (media range, parameters other than q), read as kube's goautoneg does."""
    for part in header.split(","):
        media_range, *raw_params = part.strip(" ").split(";")
        kind, slash, subtype = (piece.strip(" ") for piece in media_range.partition("/"))
        if "/" in subtype or (not slash and kind != "*"):
            continue  # not a media range
        params: dict[str, str] = {}
        for raw in raw_params:
            key, equals, value = raw.partition("=")
            if equals and key.strip(" ") != "q":
                params[key.strip(" ")] = value.strip(" ")
        yield (f"{kind}/{subtype}" if slash else "*/*"), params  # a bare "*" means "*/*"


def _asks_for_aggregated(params: dict[str, str]) -> bool:
    """The clause converts to the v2 list and asks for nothing a discovery answer can't give."""
    gvk = (params.get("g", ""), params.get("v", ""), params.get("as", ""))
    if gvk != (AGGREGATED_GROUP, AGGREGATED_VERSION, AGGREGATED_KIND):
        return False
    # kube's negotiation drops clauses asking for a server version, or a stream other than watch.
    return not params.get("sv") and params.get("stream", "") in ("", "watch")
