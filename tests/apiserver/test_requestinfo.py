"""Table-driven tests for the request parser, after kube's requestinfo_test.go (1.35)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from apiserver.requestinfo import RequestInfo, RequestInfoError, parse


def parse_url(method: str, url: str) -> RequestInfo:
    """Parse as a server would see it: decoded path, first value of each query key."""
    split = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(split.query, keep_blank_values=True).items()}
    return parse(method, split.path, query)


# method, url, then the expected "verb prefix group version namespace resource subresource name"
# ("-" for empty) and parts joined with "/"; kube's requestinfo_test.go cases come first.
RESOURCE_CASES = [
    # resource paths
    ("GET", "/api/v1/namespaces", "list api - v1 - namespaces - -", "namespaces"),
    ("GET", "/api/v1/namespaces/other", "get api - v1 other namespaces - other", "namespaces/other"),
    ("GET", "/api/v1/namespaces/other/pods", "list api - v1 other pods - -", "pods"),
    ("GET", "/api/v1/namespaces/other/pods/foo", "get api - v1 other pods - foo", "pods/foo"),
    ("HEAD", "/api/v1/namespaces/other/pods/foo", "get api - v1 other pods - foo", "pods/foo"),
    ("GET", "/api/v1/pods", "list api - v1 - pods - -", "pods"),
    ("HEAD", "/api/v1/pods", "list api - v1 - pods - -", "pods"),
    (
        "GET",
        "/apis/rbac.authorization.k8s.io/v1/clusterroles/admin",
        "get apis rbac.authorization.k8s.io v1 - clusterroles - admin",
        "clusterroles/admin",
    ),
    # special verbs
    ("GET", "/api/v1/proxy/namespaces/other/pods/foo", "proxy api - v1 other pods - foo", "pods/foo"),
    (
        "GET",
        "/api/v1/proxy/namespaces/other/pods/foo/subpath/not/a/subresource",
        "proxy api - v1 other pods - foo",
        "pods/foo/subpath/not/a/subresource",
    ),
    ("GET", "/api/v1/watch/pods", "watch api - v1 - pods - -", "pods"),
    ("GET", "/api/v1/watch/namespaces/other/pods", "watch api - v1 other pods - -", "pods"),
    ("GET", "/api/v1/watch/namespaces/other/pods/foo", "watch api - v1 other pods - foo", "pods/foo"),
    ("GET", "/apis/apps/v1/watch/deployments", "watch apis apps v1 - deployments - -", "deployments"),
    # the watch query parameter: anything but 0/false (any case) means true
    ("GET", "/api/v1/pods?watch=true", "watch api - v1 - pods - -", "pods"),
    ("GET", "/api/v1/pods?watch=True", "watch api - v1 - pods - -", "pods"),
    ("GET", "/api/v1/pods?watch=", "watch api - v1 - pods - -", "pods"),
    ("GET", "/api/v1/pods?watch=false", "list api - v1 - pods - -", "pods"),
    ("GET", "/api/v1/pods?watch=FALSE", "list api - v1 - pods - -", "pods"),
    ("GET", "/api/v1/namespaces/other/pods?watch=1", "watch api - v1 other pods - -", "pods"),
    ("GET", "/api/v1/namespaces/other/pods?watch=0", "list api - v1 other pods - -", "pods"),
    ("GET", "/api/v1/namespaces/other/pods/foo?watch=true", "get api - v1 other pods - foo", "pods/foo"),
    # subresource identification
    (
        "GET",
        "/api/v1/namespaces/other/pods/foo/status",
        "get api - v1 other pods status foo",
        "pods/foo/status",
    ),
    (
        "GET",
        "/api/v1/namespaces/other/pods/foo/proxy/subpath",
        "get api - v1 other pods proxy foo",
        "pods/foo/proxy/subpath",
    ),
    (
        "PUT",
        "/api/v1/namespaces/other/finalize",
        "update api - v1 other namespaces finalize other",
        "namespaces/other/finalize",
    ),
    (
        "PUT",
        "/api/v1/namespaces/other/status",
        "update api - v1 other namespaces status other",
        "namespaces/other/status",
    ),
    (
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/web/scale",
        "patch apis apps v1 default deployments scale web",
        "deployments/web/scale",
    ),
    (
        "PUT",
        "/apis/example.com/v1/widgets/w1/status",
        "update apis example.com v1 - widgets status w1",
        "widgets/w1/status",
    ),
    # verb identification
    ("PATCH", "/api/v1/namespaces/other/pods/foo", "patch api - v1 other pods - foo", "pods/foo"),
    ("DELETE", "/api/v1/namespaces/other/pods/foo", "delete api - v1 other pods - foo", "pods/foo"),
    ("POST", "/api/v1/namespaces/other/pods", "create api - v1 other pods - -", "pods"),
    ("PUT", "/api/v1/namespaces/other/pods/foo", "update api - v1 other pods - foo", "pods/foo"),
    ("POST", "/api/v1/namespaces", "create api - v1 - namespaces - -", "namespaces"),
    ("DELETE", "/api/v1/namespaces/other", "delete api - v1 other namespaces - other", "namespaces/other"),
    ("OPTIONS", "/api/v1/pods", "- api - v1 - pods - -", "pods"),
    # deletecollection verb identification
    ("DELETE", "/api/v1/nodes", "deletecollection api - v1 - nodes - -", "nodes"),
    ("DELETE", "/api/v1/namespaces", "deletecollection api - v1 - namespaces - -", "namespaces"),
    ("DELETE", "/api/v1/namespaces/other/pods", "deletecollection api - v1 other pods - -", "pods"),
    (
        "DELETE",
        "/apis/extensions/v1/namespaces/other/pods",
        "deletecollection apis extensions v1 other pods - -",
        "pods",
    ),
    # api group and version identification
    ("POST", "/apis/extensions/v1/namespaces/other/pods", "create apis extensions v1 other pods - -", "pods"),
    (
        "POST",
        "/apis/extensions/v1beta3/namespaces/other/pods",
        "create apis extensions v1beta3 other pods - -",
        "pods",
    ),
    # trailing (and leading) slashes are tolerated
    ("GET", "/api/v1/pods/", "list api - v1 - pods - -", "pods"),
    ("GET", "/api/v1/namespaces/other/pods/foo/", "get api - v1 other pods - foo", "pods/foo"),
    (
        "GET",
        "/apis/apps/v1/namespaces/default/deployments//",
        "list apis apps v1 default deployments - -",
        "deployments",
    ),
]


@pytest.mark.parametrize(("method", "url", "expected", "parts"), RESOURCE_CASES)
def test_resource_requests_are_parsed_like_kube(method: str, url: str, expected: str, parts: str) -> None:
    info = parse_url(method, url)
    fields = (
        info.verb,
        info.api_prefix,
        info.api_group,
        info.api_version,
        info.namespace,
        info.resource,
        info.subresource,
        info.name,
    )
    assert info.is_resource_request
    assert " ".join(value or "-" for value in fields) == expected
    assert info.parts == tuple(parts.split("/"))


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/"),
        ("GET", ""),
        ("GET", "/api"),
        ("GET", "/api/"),
        ("GET", "/api/v1"),
        ("GET", "/api/v1/"),
        ("GET", "/api/version/"),
        ("GET", "/apis"),
        ("GET", "/apis/apps"),
        ("GET", "/apis/apps/v1"),
        ("GET", "/apis/apps/v1/"),
        ("GET", "/apis/group/version/"),
        ("GET", "/apis/version/resource"),  # missing api group
        ("GET", "/badprefix/version/resource"),
        ("GET", "/not-api/version/resource"),
        ("GET", "/version"),
        ("GET", "/healthz"),
        ("GET", "/readyz/ping"),
        ("GET", "/openapi/v2"),
        ("GET", "/openapi/v3/apis/apps/v1"),
        ("POST", "/openapi/v3/apis/apps/v1"),
    ],
)
def test_non_resource_paths_keep_the_http_method_as_verb(method: str, url: str) -> None:
    info = parse_url(method, url)
    assert info == RequestInfo(is_resource_request=False, path=urlsplit(url).path, verb=method.lower())


@pytest.mark.parametrize(
    "url",
    [
        "/api/version/resource",
        "/apis/group/version/resource/name/subresource",
        "/api/version/resource/name/subresource",
        "/apis/batch/v1/job",
        "/apis/batch/v1/job/foo",
        "/apis/batch/v1/job/foo/scale",
    ],
)
def test_paths_with_enough_segments_are_resource_requests(url: str) -> None:
    assert parse_url("GET", url).is_resource_request


def test_the_path_is_kept_as_given() -> None:
    assert parse_url("GET", "/api/v1/pods/").path == "/api/v1/pods/"


@pytest.mark.parametrize("url", ["/api/v1/watch", "/apis/apps/v1/proxy/", "/api/v1/watch/"])
def test_a_verb_segment_without_a_resource_is_an_error(url: str) -> None:
    with pytest.raises(RequestInfoError, match="unable to determine kind and namespace"):
        parse_url("GET", url)


# method, url, name, verb, field selector, label selector
SELECTOR_CASES = [
    ("GET", "/apis/group/version/resource", "", "list", "", ""),
    (
        "GET",
        "/apis/group/version/resource?fieldSelector=metadata.name=name1",
        "name1",
        "list",
        "metadata.name=name1",
        "",
    ),
    (
        "GET",
        "/apis/group/version/resource?fieldSelector=metadata.name==name1",
        "name1",
        "list",
        "metadata.name==name1",
        "",
    ),
    (
        "GET",
        "/apis/group/version/resource?watch=true&fieldSelector=metadata.name=name1",
        "name1",
        "watch",
        "metadata.name=name1",
        "",
    ),
    (
        "GET",
        "/api/v1/namespaces/ns/pods?fieldSelector=status.phase=Running,metadata.name=p1",
        "p1",
        "list",
        "status.phase=Running,metadata.name=p1",
        "",
    ),
    (
        "GET",
        "/apis/group/version/resource?fieldSelector=metadata.name!=name1",
        "",
        "list",
        "metadata.name!=name1",
        "",
    ),
    (
        "GET",
        "/apis/group/version/resource?fieldSelector=foo=bar&labelSelector=baz=qux",
        "",
        "list",
        "foo=bar",
        "baz=qux",
    ),
    # a selector that does not parse leaves the name unset
    (
        "GET",
        "/apis/group/version/resource?fieldSelector=metadata.name=name1,foo",
        "",
        "list",
        "metadata.name=name1,foo",
        "",
    ),
    (
        "GET",
        "/apis/group/version/resource?fieldSelector=metadata.name=name1,foo&watch=true",
        "",
        "watch",
        "metadata.name=name1,foo",
        "",
    ),
    (
        "GET",
        "/apis/group/version/resource?fieldSelector=metadata.name=name1,foo&watch=false",
        "",
        "list",
        "metadata.name=name1,foo",
        "",
    ),
    (
        "GET",
        "/apis/group/version/resource?fieldSelector=metadata.name=a%5Cxb",
        "",
        "list",
        "metadata.name=a\\xb",
        "",
    ),
    # escaped characters are unescaped, but a name must be a valid path segment
    (
        "GET",
        "/apis/group/version/resource?fieldSelector=metadata.name=a%5C%3Db",
        "a=b",
        "list",
        "metadata.name=a\\=b",
        "",
    ),
    (
        "GET",
        "/apis/group/version/resource?fieldSelector=metadata.name=a%2Fb",
        "",
        "list",
        "metadata.name=a/b",
        "",
    ),
    (
        "GET",
        "/apis/group/version/resource?fieldSelector=metadata.name=..",
        "",
        "list",
        "metadata.name=..",
        "",
    ),
    (
        "DELETE",
        "/apis/group/version/resource?fieldSelector=foo=bar&labelSelector=baz=qux",
        "",
        "deletecollection",
        "foo=bar",
        "baz=qux",
    ),
    (
        "DELETE",
        "/apis/group/version/resource?fieldSelector=metadata.name=x",
        "",
        "deletecollection",
        "metadata.name=x",
        "",
    ),
    # selectors are recorded only for list, watch and deletecollection
    (
        "GET",
        "/apis/group/version/resource/name?fieldSelector=foo=bar&labelSelector=foo=bar",
        "name",
        "get",
        "",
        "",
    ),
    ("POST", "/apis/group/version/resource?fieldSelector=foo=bar", "", "create", "", ""),
    # nor on the deprecated /watch/ paths
    (
        "GET",
        "/apis/group/version/watch/resource?fieldSelector=metadata.name=foo&labelSelector=foo=bar",
        "",
        "watch",
        "",
        "",
    ),
    (
        "GET",
        "/apis/group/version/watch/resource/name?fieldSelector=metadata.name=foo&labelSelector=foo=bar",
        "name",
        "watch",
        "",
        "",
    ),
]


@pytest.mark.parametrize(
    ("method", "url", "name", "verb", "field_selector", "label_selector"), SELECTOR_CASES
)
def test_selectors_are_recorded_and_an_exact_name_is_lifted(
    method: str, url: str, name: str, verb: str, field_selector: str, label_selector: str
) -> None:
    info = parse_url(method, url)
    assert (info.name, info.verb) == (name, verb)
    assert (info.field_selector, info.label_selector) == (field_selector, label_selector)


def test_a_repeated_parameter_counts_with_its_first_value() -> None:
    url = (
        "/apis/group/version/resource?fieldSelector=metadata.name=foo&fieldSelector=metadata.name=bar"
        "&labelSelector=foo=bar&labelSelector=foo=baz"
    )
    info = parse_url("GET", url)
    assert (info.name, info.field_selector, info.label_selector) == ("foo", "metadata.name=foo", "foo=bar")


def test_request_info_is_immutable() -> None:
    info = parse_url("GET", "/api/v1/pods")
    with pytest.raises(AttributeError):
        info.verb = "get"  # type: ignore[misc]
