"""networking.k8s.io/v1 strategies: defaults, kube's messages, and no exceptions on junk."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from apiserver.builtins import networking
from apiserver.registry import Obj

TYPES = {t.plural: t for t in networking.TYPES}


def messages(errors: list[Any]) -> list[str]:
    return [e.message() for e in errors]


def validated(plural: str, obj: Obj) -> list[str]:
    obj = copy.deepcopy(obj)
    strategy = TYPES[plural].strategy
    strategy.default(obj)
    return messages(strategy.validate(obj))


def test_ingresses_and_network_policies_are_registered_as_kube_lists_them() -> None:
    ing, netpol = TYPES["ingresses"], TYPES["networkpolicies"]
    assert (ing.group, ing.version, ing.kind, ing.short_names, ing.subresources) == (
        "networking.k8s.io",
        "v1",
        "Ingress",
        ("ing",),
        ("status",),
    )
    assert (netpol.kind, netpol.singular, netpol.short_names, netpol.subresources) == (
        "NetworkPolicy",
        "networkpolicy",
        ("netpol",),
        (),
    )
    assert ing.namespaced and netpol.namespaced


def backend(name: str = "web", port: Obj | None = None) -> Obj:
    return {"service": {"name": name, "port": {"number": 80} if port is None else port}}


def ingress_path(path: str = "/", path_type: str | None = "Prefix", **extra: Any) -> Obj:
    item: Obj = {"path": path, "backend": backend(), **extra}
    if path_type is not None:
        item["pathType"] = path_type
    return {"spec": {"rules": [{"host": "example.com", "http": {"paths": [item]}}]}}


def test_a_new_ingress_shows_an_empty_load_balancer_status() -> None:
    ing = ingress_path()
    TYPES["ingresses"].strategy.prepare_for_create(ing)
    assert ing["status"] == {"loadBalancer": {}}
    assert validated("ingresses", ing) == []


PATH = "spec.rules[0].http.paths[0]"


@pytest.mark.parametrize(
    ("ingress", "expected"),
    [
        ({"spec": {}}, ["spec: Invalid value: null: either `defaultBackend` or `rules` must be specified"]),
        ({"spec": {"defaultBackend": backend()}}, []),
        (ingress_path(path_type=None), [f"{PATH}.pathType: Required value: pathType must be specified"]),
        (
            ingress_path(path_type="Regex"),
            [
                f'{PATH}.pathType: Unsupported value: "Regex": supported values: "Exact", '
                '"ImplementationSpecific", '
                '"Prefix"'
            ],
        ),
        (ingress_path("api"), [f'{PATH}.path: Invalid value: "api": must be an absolute path']),
        (ingress_path("/a//b"), [f"{PATH}.path: Invalid value: \"/a//b\": must not contain '//'"]),
        (ingress_path("/a/.."), [f"{PATH}.path: Invalid value: \"/a/..\": cannot end with '/..'"]),
        (
            ingress_path("api", "ImplementationSpecific"),
            [f'{PATH}.path: Invalid value: "api": must be an absolute path'],
        ),
        (ingress_path("", "ImplementationSpecific"), []),
        (
            {"spec": {"defaultBackend": {}}},
            ['spec.defaultBackend: Invalid value: "": resource or service backend is required'],
        ),
        (
            {"spec": {"defaultBackend": {"service": {"name": "web"}}}},
            ["spec.defaultBackend: Required value: port name or number is required"],
        ),
        (
            {"spec": {"defaultBackend": backend(port={"name": "http", "number": 80})}},
            ['spec.defaultBackend: Invalid value: "": cannot set both port name & port number'],
        ),
        (
            {
                "spec": {
                    "defaultBackend": {
                        "service": backend()["service"],
                        "resource": {"kind": "B", "name": "b"},
                    }
                }
            },
            ['spec.defaultBackend: Invalid value: "": cannot set both resource and service backends'],
        ),
        (
            {"spec": {"defaultBackend": backend(port={"number": 70000})}},
            [
                "spec.defaultBackend.service.port.number: Invalid value: 70000: must be between 1 and "
                "65535, inclusive"
            ],
        ),
        (
            {"spec": {"defaultBackend": backend("Web")}},
            [
                'spec.defaultBackend.service.name: Invalid value: "Web": a lowercase RFC 1123 label must '
                'consist of '
                "lower case alphanumeric characters or '-', and must start and end with an alphanumeric "
                "character "
                "(e.g. 'my-name',  or '123-abc', regex used for validation is "
                "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
            ],
        ),
        (
            {"spec": {"rules": [{"host": "10.0.0.1"}]}},
            ['spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address'],
        ),
        ({"spec": {"rules": [{"host": "*.example.com"}]}}, []),
        (
            {"spec": {"rules": [{"host": "a.*.com"}]}},
            [
                "spec.rules[0].host: Invalid value: \"a.*.com\": a wildcard DNS-1123 subdomain must start "
                "with '*.', "
                "followed by a valid DNS subdomain, which must consist of lower case alphanumeric "
                "characters, '-' or '.' "
                "and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is "
                r"'\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
            ],
        ),
        ({"spec": {"rules": [{"http": {"paths": []}}]}}, ["spec.rules[0].http.paths: Required value"]),
        (
            {"spec": {"defaultBackend": backend(), "tls": [{"hosts": ["example.com"], "secretName": "Tls"}]}},
            [
                'spec.tls[0].secretName: Invalid value: "Tls": a lowercase RFC 1123 subdomain must consist '
                'of lower '
                "case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
                "character (e.g. "
                r"'example.com', regex used for validation is "
                r"'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*"
                "[a-z0-9])?)*')"
            ],
        ),
    ],
)
def test_ingress_rules_paths_and_backends_get_kubes_messages(ingress: Obj, expected: list[str]) -> None:
    assert validated("ingresses", ingress) == expected


def test_the_ingress_class_annotation_must_agree_with_the_class_name() -> None:
    ing = {
        "metadata": {"annotations": {"kubernetes.io/ingress.class": "nginx"}},
        "spec": {"ingressClassName": "traefik", "defaultBackend": backend()},
    }
    assert validated("ingresses", ing) == [
        'annotations.kubernetes.io/ingress.class: Invalid value: "nginx": must match `ingressClassName` '
        'when both '
        "are specified"
    ]


@pytest.mark.parametrize(
    ("spec", "expected_types"),
    [
        ({}, ["Ingress"]),
        ({"egress": [{}]}, ["Ingress", "Egress"]),
        ({"policyTypes": ["Egress"]}, ["Egress"]),
    ],
)
def test_network_policy_types_default_from_the_rules_given(spec: Obj, expected_types: list[str]) -> None:
    policy = {"spec": spec}
    TYPES["networkpolicies"].strategy.default(policy)
    assert policy["spec"]["policyTypes"] == expected_types
    assert policy["spec"]["podSelector"] == {}


def test_network_policy_ports_default_to_tcp() -> None:
    policy = {"spec": {"ingress": [{"ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}]}}
    TYPES["networkpolicies"].strategy.default(policy)
    assert policy["spec"]["ingress"][0]["ports"] == [
        {"port": 80, "protocol": "TCP"},
        {"port": 53, "protocol": "UDP"},
    ]


RULE = "spec.ingress[0]"


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"from": [{}]}, [f"{RULE}.from[0]: Required value: must specify a peer"]),
        ({"from": [{"podSelector": {}, "namespaceSelector": {}}]}, []),
        (
            {"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]},
            [f"{RULE}.from[0]: Forbidden: may not specify both ipBlock and another peer"],
        ),
        ({"from": [{"ipBlock": {}}]}, [f"{RULE}.from[0].ipBlock.cidr: Required value"]),
        (
            {"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["192.168.0.0/16", "10.0.0.0/8"]}}]},
            [
                f'{RULE}.from[0].ipBlock.except[0]: Invalid value: "192.168.0.0/16": must be a strict '
                'subset of `cidr`',
                f'{RULE}.from[0].ipBlock.except[1]: Invalid value: "10.0.0.0/8": must be a strict subset of '
                '`cidr`',
            ],
        ),
        (
            {"from": [{"ipBlock": {"cidr": "ten"}}]},
            [
                f'{RULE}.from[0].ipBlock.cidr: Invalid value: "ten": must be a valid CIDR value, '
                "(e.g. 10.9.8.0/24 or 2001:db8::/64)"
            ],
        ),
        (
            {"ports": [{"port": 80, "endPort": 70}]},
            [f"{RULE}.ports[0].endPort: Invalid value: 70: must be greater than or equal to `port`"],
        ),
        (
            {"ports": [{"port": "http", "endPort": 90}]},
            [f"{RULE}.ports[0].endPort: Invalid value: 90: may not be specified when `port` is non-numeric"],
        ),
        (
            {"ports": [{"port": 80, "protocol": "ICMP"}]},
            [f'{RULE}.ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"'],
        ),
        (
            {"from": [{"podSelector": {"matchExpressions": [{"key": "app", "operator": "In"}]}}]},
            [
                f"{RULE}.from[0].podSelector.matchExpressions[0].values: Required value: must be specified "
                "when "
                "`operator` is 'In' or 'NotIn'"
            ],
        ),
    ],
)
def test_network_policy_peers_and_ports_get_kubes_messages(rule: Obj, expected: list[str]) -> None:
    assert validated("networkpolicies", {"spec": {"ingress": [rule]}}) == expected


def test_network_policy_types_must_be_ingress_or_egress() -> None:
    assert validated("networkpolicies", {"spec": {"policyTypes": ["Ingress", "Sideways"]}}) == [
        'spec.policyTypes[1]: Unsupported value: "Sideways": supported values: "Ingress", "Egress"'
    ]
    assert validated("networkpolicies", {"spec": {"policyTypes": ["Ingress", "Egress", "Ingress"]}}) == [
        'spec.policyTypes: Invalid value: ["Ingress","Egress","Ingress"]: may not specify more than two '
        'policyTypes'
    ]


JUNK: list[Any] = [None, 5, "x", [], [1], {"a": 1}, True]


@pytest.mark.parametrize("plural", sorted(TYPES))
@pytest.mark.parametrize("junk", JUNK, ids=repr)
def test_junk_in_any_field_gives_errors_never_exceptions(plural: str, junk: Any) -> None:
    strategy = TYPES[plural].strategy
    spec_keys = ("rules", "defaultBackend", "tls", "ingress", "egress", "podSelector", "policyTypes")
    for obj in (
        {"spec": copy.deepcopy(junk), "metadata": copy.deepcopy(junk)},
        {"spec": {key: copy.deepcopy(junk) for key in spec_keys}},
        {
            "spec": {
                "rules": [{"host": junk, "http": {"paths": [junk, {"backend": junk}]}}],
                "ingress": [{"from": [junk, {"ipBlock": junk}], "ports": [{"port": junk}]}],
            }
        },
    ):
        strategy.default(obj)
        strategy.prepare_for_create(obj)
        strategy.validate(obj)
        strategy.validate_update(obj, copy.deepcopy(obj))


def test_a_mistyped_path_list_is_a_type_error() -> None:
    assert validated("ingresses", {"spec": {"rules": [{"http": {"paths": "/"}}]}}) == [
        "spec.rules[0].http.paths: Required value",
        'spec.rules[0].http.paths: Invalid value: "string": spec.rules[0].http.paths in body must be of '
        'type array: '
        '"string"',
    ]
