"""Discovery documents in kube-apiserver 1.35's exact shapes, legacy and aggregated."""

from __future__ import annotations

import pytest

from apiserver.discovery import (
    AGGREGATED_CONTENT_TYPE,
    AGGREGATED_CONTENT_TYPE_V2BETA1,
    aggregated,
    api_group,
    api_group_list,
    api_resource_list,
    api_versions,
    wants_aggregated,
)
from apiserver.registry import Registry, ResourceType

ALL = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

PODS = ResourceType(
    group="",
    version="v1",
    kind="Pod",
    plural="pods",
    singular="pod",
    namespaced=True,
    short_names=("po",),
    categories=("all",),
    subresources=("status", "binding"),
)
NAMESPACES = ResourceType(
    group="",
    version="v1",
    kind="Namespace",
    plural="namespaces",
    singular="namespace",
    namespaced=False,
    short_names=("ns",),
    subresources=("status", "finalize"),
)
DEPLOYMENTS = ResourceType(
    group="apps",
    version="v1",
    kind="Deployment",
    plural="deployments",
    singular="deployment",
    namespaced=True,
    short_names=("deploy",),
    categories=("all",),
    subresources=("status", "scale"),
)
WIDGETS_V1 = ResourceType(
    group="stable.example.com",
    version="v1",
    kind="Widget",
    plural="widgets",
    singular="widget",
    namespaced=False,
    verbs=("get", "list", "watch"),
)
WIDGETS_V1BETA1 = ResourceType(
    group="stable.example.com",
    version="v1beta1",
    kind="Widget",
    plural="widgets",
    singular="widget",
    namespaced=False,
)

CLIENT_GO_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
    "application/json"
)
CLIENT_GO_ACCEPT_NOPEER = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;profile=nopeer," + CLIENT_GO_ACCEPT
)


@pytest.fixture
def registry() -> Registry:
    return Registry([PODS, NAMESPACES, DEPLOYMENTS, WIDGETS_V1, WIDGETS_V1BETA1])


def test_api_versions_names_v1_and_the_server_address() -> None:
    assert api_versions("127.0.0.1:6443") == {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}],
    }


def test_group_list_has_every_named_group_with_its_preferred_version_first(registry: Registry) -> None:
    apps_v1 = {"groupVersion": "apps/v1", "version": "v1"}
    widgets_v1 = {"groupVersion": "stable.example.com/v1", "version": "v1"}
    widgets_v1beta1 = {"groupVersion": "stable.example.com/v1beta1", "version": "v1beta1"}
    assert api_group_list(registry) == {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [
            {"name": "apps", "versions": [apps_v1], "preferredVersion": apps_v1},
            {
                "name": "stable.example.com",
                "versions": [widgets_v1, widgets_v1beta1],
                "preferredVersion": widgets_v1,
            },
        ],
    }


def test_group_list_of_an_empty_registry_is_empty() -> None:
    assert api_group_list(Registry()) == {"kind": "APIGroupList", "apiVersion": "v1", "groups": []}


def test_api_group_describes_one_group(registry: Registry) -> None:
    assert api_group(registry, "apps") == {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": "apps",
        "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
        "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"},
    }


@pytest.mark.parametrize("group", ["", "batch"])
def test_api_group_is_none_for_the_core_group_and_unknown_groups(registry: Registry, group: str) -> None:
    assert api_group(registry, group) is None


def test_core_resource_list_has_no_api_version_and_lists_subresources(registry: Registry) -> None:
    assert api_resource_list(registry, "", "v1") == {
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": [
            {
                "name": "namespaces",
                "singularName": "namespace",
                "namespaced": False,
                "kind": "Namespace",
                "verbs": ALL,
                "shortNames": ["ns"],
            },
            {
                "name": "namespaces/finalize",
                "singularName": "",
                "namespaced": False,
                "kind": "Namespace",
                "verbs": ["update"],
            },
            {
                "name": "namespaces/status",
                "singularName": "",
                "namespaced": False,
                "kind": "Namespace",
                "verbs": ["get", "patch", "update"],
            },
            {
                "name": "pods",
                "singularName": "pod",
                "namespaced": True,
                "kind": "Pod",
                "verbs": ALL,
                "shortNames": ["po"],
                "categories": ["all"],
            },
            {
                "name": "pods/binding",
                "singularName": "",
                "namespaced": True,
                "kind": "Binding",
                "verbs": ["create"],
            },
            {
                "name": "pods/status",
                "singularName": "",
                "namespaced": True,
                "kind": "Pod",
                "verbs": ["get", "patch", "update"],
            },
        ],
    }


def test_scale_subresource_names_the_autoscaling_group_version(registry: Registry) -> None:
    assert api_resource_list(registry, "apps", "v1") == {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": "apps/v1",
        "resources": [
            {
                "name": "deployments",
                "singularName": "deployment",
                "namespaced": True,
                "kind": "Deployment",
                "verbs": ALL,
                "shortNames": ["deploy"],
                "categories": ["all"],
            },
            {
                "name": "deployments/scale",
                "singularName": "",
                "namespaced": True,
                "group": "autoscaling",
                "version": "v1",
                "kind": "Scale",
                "verbs": ["get", "patch", "update"],
            },
            {
                "name": "deployments/status",
                "singularName": "",
                "namespaced": True,
                "kind": "Deployment",
                "verbs": ["get", "patch", "update"],
            },
        ],
    }


def test_resource_list_of_a_cluster_scoped_kind_without_names_or_subresources(registry: Registry) -> None:
    assert api_resource_list(registry, "stable.example.com", "v1") == {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": "stable.example.com/v1",
        "resources": [
            {
                "name": "widgets",
                "singularName": "widget",
                "namespaced": False,
                "kind": "Widget",
                "verbs": ["get", "list", "watch"],
            }
        ],
    }


@pytest.mark.parametrize(("group", "version"), [("apps", "v2"), ("batch", "v1"), ("", "v2")])
def test_resource_list_is_none_for_an_unserved_group_version(
    registry: Registry, group: str, version: str
) -> None:
    assert api_resource_list(registry, group, version) is None


def test_aggregated_core_document_has_one_unnamed_group(registry: Registry) -> None:
    assert aggregated(registry, core=True) == {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": [
            {
                "metadata": {},
                "versions": [
                    {
                        "version": "v1",
                        "resources": [
                            {
                                "resource": "namespaces",
                                "responseKind": {"group": "", "version": "v1", "kind": "Namespace"},
                                "scope": "Cluster",
                                "singularResource": "namespace",
                                "verbs": ALL,
                                "shortNames": ["ns"],
                                "subresources": [
                                    {
                                        "subresource": "finalize",
                                        "responseKind": {"group": "", "version": "v1", "kind": "Namespace"},
                                        "verbs": ["update"],
                                    },
                                    {
                                        "subresource": "status",
                                        "responseKind": {"group": "", "version": "v1", "kind": "Namespace"},
                                        "verbs": ["get", "patch", "update"],
                                    },
                                ],
                            },
                            {
                                "resource": "pods",
                                "responseKind": {"group": "", "version": "v1", "kind": "Pod"},
                                "scope": "Namespaced",
                                "singularResource": "pod",
                                "verbs": ALL,
                                "shortNames": ["po"],
                                "categories": ["all"],
                                "subresources": [
                                    {
                                        "subresource": "binding",
                                        "responseKind": {"group": "", "version": "v1", "kind": "Binding"},
                                        "verbs": ["create"],
                                    },
                                    {
                                        "subresource": "status",
                                        "responseKind": {"group": "", "version": "v1", "kind": "Pod"},
                                        "verbs": ["get", "patch", "update"],
                                    },
                                ],
                            },
                        ],
                        "freshness": "Current",
                    }
                ],
            }
        ],
    }


def test_aggregated_groups_document_has_every_named_group_in_preference_order(registry: Registry) -> None:
    assert aggregated(registry, core=False) == {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": [
            {
                "metadata": {"name": "apps"},
                "versions": [
                    {
                        "version": "v1",
                        "resources": [
                            {
                                "resource": "deployments",
                                "responseKind": {"group": "apps", "version": "v1", "kind": "Deployment"},
                                "scope": "Namespaced",
                                "singularResource": "deployment",
                                "verbs": ALL,
                                "shortNames": ["deploy"],
                                "categories": ["all"],
                                "subresources": [
                                    {
                                        "subresource": "scale",
                                        "responseKind": {
                                            "group": "autoscaling",
                                            "version": "v1",
                                            "kind": "Scale",
                                        },
                                        "verbs": ["get", "patch", "update"],
                                    },
                                    {
                                        "subresource": "status",
                                        "responseKind": {
                                            "group": "apps",
                                            "version": "v1",
                                            "kind": "Deployment",
                                        },
                                        "verbs": ["get", "patch", "update"],
                                    },
                                ],
                            }
                        ],
                        "freshness": "Current",
                    }
                ],
            },
            {
                "metadata": {"name": "stable.example.com"},
                "versions": [
                    {
                        "version": "v1",
                        "resources": [
                            {
                                "resource": "widgets",
                                "responseKind": {
                                    "group": "stable.example.com",
                                    "version": "v1",
                                    "kind": "Widget",
                                },
                                "scope": "Cluster",
                                "singularResource": "widget",
                                "verbs": ["get", "list", "watch"],
                            }
                        ],
                        "freshness": "Current",
                    },
                    {
                        "version": "v1beta1",
                        "resources": [
                            {
                                "resource": "widgets",
                                "responseKind": {
                                    "group": "stable.example.com",
                                    "version": "v1beta1",
                                    "kind": "Widget",
                                },
                                "scope": "Cluster",
                                "singularResource": "widget",
                                "verbs": ALL,
                            }
                        ],
                        "freshness": "Current",
                    },
                ],
            },
        ],
    }


def test_documents_follow_the_registry_as_it_changes(registry: Registry) -> None:
    registry.remove("apps", "v1", "deployments")
    assert api_group(registry, "apps") is None
    assert [item["metadata"]["name"] for item in aggregated(registry, core=False)["items"]] == [
        "stable.example.com"
    ]


def test_aggregated_documents_of_an_empty_registry_have_no_items() -> None:
    for core in (True, False):
        assert aggregated(Registry(), core=core)["items"] == []


@pytest.mark.parametrize(
    "accept",
    [
        CLIENT_GO_ACCEPT,
        CLIENT_GO_ACCEPT_NOPEER,
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;profile=nopeer",
        # parameters in any order, spaces around them
        "application/json; as=APIGroupDiscoveryList; v=v2; g=apidiscovery.k8s.io",
        # v2beta1 is passed over, the v2 clause after it wins
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
        # a plain clause never wins over an aggregated one, whatever its order or q
        "application/json,application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;q=0.5,application/json",
        # protobuf is not served: the JSON clause after it is
        "application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
        # wildcard media ranges are served as JSON
        "*/*;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
        "application/*;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;stream=watch",
    ],
)
def test_aggregated_discovery_is_answered_with_the_v2_content_type(accept: str) -> None:
    assert wants_aggregated(accept) == AGGREGATED_CONTENT_TYPE


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "",
        "application/json",
        "*/*",
        "application/json, */*",
        AGGREGATED_CONTENT_TYPE_V2BETA1,
        AGGREGATED_CONTENT_TYPE_V2BETA1 + ",application/json",
        "application/yaml;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;sv=v1",
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;stream=other",
        "application/json;g=apidiscovery.k8s.io;v=v2",
        "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
        "text/html/extra;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
    ],
)
def test_other_accept_headers_get_legacy_discovery(accept: str | None) -> None:
    assert wants_aggregated(accept) is None


def test_content_type_carries_the_parameters_client_go_matches() -> None:
    assert AGGREGATED_CONTENT_TYPE == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
