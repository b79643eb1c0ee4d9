"""Parse a request's method, path and query into the Kubernetes terms the handlers dispatch on.

A pure function modelled on kube-apiserver's `RequestInfoFactory.NewRequestInfo`
(k8s.io/apiserver `pkg/endpoints/request/requestinfo.go`, 1.35). Resource paths look like

    /api/{version}/{resource}[/{name}[/{subresource}]]
    /api/{version}/namespaces/{namespace}/{resource}[/{name}[/{subresource}]]
    /apis/{group}/{version}/...                      (the same shapes under a group)
    /api/{version}/watch/...                         (deprecated verb-in-path, verb "watch")
    /api/{version}/namespaces/{name}[/status|/finalize]   (the Namespace object itself)

Anything else (`/api`, `/apis`, `/apis/{group}`, `/apis/{group}/{version}`, `/version`,
`/healthz`, `/openapi/...`) is a non-resource request whose verb is the lowercased HTTP method.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from machinery import BadRequest, parse_field_selector

# The kube-apiserver's prefixes (`APIGroupPrefix` and `LegacyAPIPrefix`, without slashes);
# only the legacy one has no group segment.
API_PREFIXES = frozenset({"api", "apis"})
GROUPLESS_API_PREFIXES = frozenset({"api"})

# Path segments that name a verb instead of a resource (requestinfo.go `specialVerbs`);
# "proxy" paths carry no subresource, everything after the name is the proxied path.
_SPECIAL_VERBS = frozenset({"proxy", "watch"})
_SPECIAL_VERBS_WITHOUT_SUBRESOURCES = frozenset({"proxy"})

# Subresources of a Namespace: they tell `/namespaces/{ns}/status` (the namespace's status)
# apart from `/namespaces/{ns}/pods` (a namespaced collection).
NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})

# Verbs whose fieldSelector and labelSelector kube records for selector authorization.
_VERBS_WITH_SELECTORS = frozenset({"list", "watch", "deletecollection"})

_METHOD_VERBS = {
    "POST": "create",
    "GET": "get",
    "HEAD": "get",
    "PUT": "update",
    "PATCH": "patch",
    "DELETE": "delete",
}

# Field selector operators, in the order kube tries them at each position (fields/selector.go).


class RequestInfoError(ValueError):
    """A resource path whose verb segment is not followed by a resource (`/api/v1/watch`).

    kube-apiserver answers these with 500 "failed to create RequestInfo: ..."
    (`filters/requestinfo.go`).
    """


@dataclass(frozen=True)
class RequestInfo:
    """What a request addresses, in kube's words (`request.RequestInfo`).

    For a resource request, `verb` is a Kubernetes verb (get, list, watch, create, update,
    patch, delete, deletecollection, proxy); otherwise it is the lowercased HTTP method.
    `parts` always starts at the resource: (resource, name, subresource, ...).
    `name` is also filled for a list or watch whose fieldSelector pins `metadata.name`, as kube
    does for authorization; handlers must dispatch on `verb`, never on whether `name` is set.
    """

    is_resource_request: bool
    path: str
    verb: str
    api_prefix: str = ""
    api_group: str = ""
    api_version: str = ""
    namespace: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    parts: tuple[str, ...] = ()
    # The raw selectors, recorded only for list, watch and deletecollection (not for the
    # deprecated /watch/ paths), as kube's RequestInfo does.
    field_selector: str = ""
    label_selector: str = ""


def parse(method: str, path: str, query: Mapping[str, str]) -> RequestInfo:
    """Classify one request. `path` is the decoded URL path; `query` holds the first value of each key.

    Memoized: clients repeat the same few paths (a collection to create in, an object to get), and the
    answer depends on nothing else than the method, the path and three query parameters.
    """
    key = (method, path, query.get("watch"), query.get("fieldSelector"), query.get("labelSelector")) if query \
        else (method, path)
    hit = _PARSED.get(key)
    if hit is not None:
        return hit
    info = _parse(method, path, query)
    if len(path) + sum(len(k or "") for k in key[2:]) <= _MAX_MEMO_KEY:
        if len(_PARSED) >= _MAX_MEMO:
            _PARSED.clear()
        _PARSED[key] = info
    return info


_PARSED: dict[tuple[str | None, ...], RequestInfo] = {}
_MAX_MEMO, _MAX_MEMO_KEY = 4096, 512


def _parse(method: str, path: str, query: Mapping[str, str]) -> RequestInfo:
    segments = _split_path(path)
    non_resource = RequestInfo(is_resource_request=False, path=path, verb=method.lower())
    if len(segments) < 3 or segments[0] not in API_PREFIXES:
        return non_resource
    api_prefix, rest = segments[0], segments[1:]

    api_group = ""
    if api_prefix not in GROUPLESS_API_PREFIXES:
        if len(rest) < 3:  # /apis/{group}/{version} is the group-version's discovery document
            return non_resource
        api_group, rest = rest[0], rest[1:]
    api_version, rest = rest[0], rest[1:]

    verb_in_path = rest[0] in _SPECIAL_VERBS
    if verb_in_path:
        if len(rest) < 2:
            raise RequestInfoError(f"unable to determine kind and namespace from url, {path}")
        verb, rest = rest[0], rest[1:]
    else:
        verb = _METHOD_VERBS.get(method, "")

    namespace = ""
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        # /namespaces/{ns}/{resource}/... addresses a namespaced resource; /namespaces/{ns} and
        # /namespaces/{ns}/status|finalize address the Namespace itself.
        if len(rest) > 2 and rest[2] not in NAMESPACE_SUBRESOURCES:
            rest = rest[2:]

    resource = rest[0]
    name = rest[1] if len(rest) >= 2 else ""
    has_subresource = len(rest) >= 3 and verb not in _SPECIAL_VERBS_WITHOUT_SUBRESOURCES
    subresource = rest[2] if has_subresource else ""

    if not name and verb == "get":
        verb = "watch" if _is_true(query.get("watch")) else "list"
        pinned = _name_from_field_selector(query.get("fieldSelector", ""))
        if pinned is not None and _is_path_segment_name(pinned):
            name = pinned
    if not name and verb == "delete":
        verb = "deletecollection"

    field_selector = label_selector = ""
    if not verb_in_path and verb in _VERBS_WITH_SELECTORS:
        field_selector = query.get("fieldSelector", "")
        label_selector = query.get("labelSelector", "")

    return RequestInfo(
        is_resource_request=True,
        path=path,
        verb=verb,
        api_prefix=api_prefix,
        api_group=api_group,
        api_version=api_version,
        namespace=namespace,
        resource=resource,
        subresource=subresource,
        name=name,
        parts=tuple(rest),
        field_selector=field_selector,
        label_selector=label_selector,
    )


def _split_path(path: str) -> list[str]:
    trimmed = path.strip("/")
    return trimmed.split("/") if trimmed else []


def _is_true(value: str | None) -> bool:
    """A boolean query parameter as kube decodes it: present and not "0" or "false" (any case)."""
    return value is not None and value != "0" and value.lower() != "false"


def _is_path_segment_name(name: str) -> bool:
    """kube's `IsPathSegmentName`: usable as one URL path segment."""
    return name not in (".", "..") and "/" not in name and "%" not in name


def _name_from_field_selector(selector: str) -> str | None:
    """The value an equality term requires of `metadata.name`, if the whole selector parses.

    kube parses the list options before it looks at the selector, so one malformed term
    anywhere leaves the name unset.
    """
    try:
        return parse_field_selector(selector).requires_exact_match("metadata.name")
    except BadRequest:
        return None
