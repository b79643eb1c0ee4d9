"""core/v1 strategies: kube's defaults, field paths and messages, and no exceptions on junk."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from apiserver.builtins import core
from apiserver.registry import Obj, ResourceType
from machinery import BadRequest

TYPES = {t.plural: t for t in core.TYPES}


def messages(errors: list[Any]) -> list[str]:
    return [e.message() for e in errors]


def created(plural: str, obj: Obj) -> Obj:
    """The object as the generic create path leaves it: defaulted, then prepared."""
    obj = copy.deepcopy(obj)
    strategy = TYPES[plural].strategy
    strategy.default(obj)
    obj.pop("status", None)
    strategy.prepare_for_create(obj)
    strategy.default(obj)
    return obj


def errors_on_create(plural: str, obj: Obj) -> list[str]:
    return messages(TYPES[plural].strategy.validate(created(plural, obj)))


# --- the registry entries ---


@pytest.mark.parametrize(
    ("plural", "kind", "short_names", "namespaced", "subresources", "categories"),
    [
        ("namespaces", "Namespace", ("ns",), False, ("status",), ()),
        ("configmaps", "ConfigMap", ("cm",), True, (), ()),
        ("secrets", "Secret", (), True, (), ()),
        ("serviceaccounts", "ServiceAccount", ("sa",), True, (), ()),
        ("endpoints", "Endpoints", ("ep",), True, (), ()),
        ("events", "Event", ("ev",), True, (), ()),
        ("nodes", "Node", ("no",), False, ("status",), ()),
        ("persistentvolumeclaims", "PersistentVolumeClaim", ("pvc",), True, ("status",), ()),
        ("limitranges", "LimitRange", ("limits",), True, (), ()),
        ("resourcequotas", "ResourceQuota", ("quota",), True, ("status",), ()),
        ("services", "Service", ("svc",), True, ("status",), ("all",)),
    ],
)
def test_core_types_are_registered_as_kube_discovery_lists_them(
    plural: str,
    kind: str,
    short_names: tuple[str, ...],
    namespaced: bool,
    subresources: tuple[str, ...],
    categories: tuple[str, ...],
) -> None:
    t: ResourceType = TYPES[plural]
    assert (t.group, t.version, t.kind, t.singular) == ("", "v1", kind, kind.lower())
    assert (t.short_names, t.namespaced, t.subresources, t.categories) == (
        short_names,
        namespaced,
        subresources,
        categories,
    )


def test_namespaces_and_services_use_label_names_and_the_rest_subdomains() -> None:
    rules = {plural: t.strategy.name_rule for plural, t in TYPES.items()}
    assert {p for p, rule in rules.items() if rule == "label"} == {"namespaces", "services"}
    assert {rule for p, rule in rules.items() if p not in ("namespaces", "services")} == {"subdomain"}


# --- namespaces ---


def test_a_new_namespace_gets_the_kubernetes_finalizer_the_name_label_and_phase_active() -> None:
    ns = created("namespaces", {"metadata": {"name": "team-a", "labels": {"x": "y"}}})
    assert ns["spec"] == {"finalizers": ["kubernetes"]}
    assert ns["status"] == {"phase": "Active"}
    assert ns["metadata"]["labels"] == {"x": "y", "kubernetes.io/metadata.name": "team-a"}


def test_a_namespace_keeps_its_own_finalizers_and_gets_kubernetes_appended() -> None:
    ns = created("namespaces", {"metadata": {"name": "a"}, "spec": {"finalizers": ["example.com/x"]}})
    assert ns["spec"]["finalizers"] == ["example.com/x", "kubernetes"]


def test_the_namespace_name_label_cannot_be_changed_by_an_update() -> None:
    ns = {"metadata": {"name": "a", "labels": {"kubernetes.io/metadata.name": "b"}}}
    TYPES["namespaces"].strategy.default(ns)
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "a"}


def test_a_namespace_update_cannot_change_spec_finalizers() -> None:
    strategy = TYPES["namespaces"].strategy
    new = {"metadata": {"name": "a"}, "spec": {"finalizers": []}}
    strategy.prepare_for_update(new, {"spec": {"finalizers": ["kubernetes"]}})
    assert new["spec"] == {"finalizers": ["kubernetes"]}


def test_namespaces_are_selectable_by_status_phase() -> None:
    assert TYPES["namespaces"].strategy.field_values({"status": {"phase": "Terminating"}}) == {
        "status.phase": "Terminating"
    }


def test_a_namespace_finalizer_must_be_standard_or_fully_qualified() -> None:
    assert errors_on_create("namespaces", {"metadata": {"name": "a"}, "spec": {"finalizers": ["foo"]}}) == [
        'spec.finalizers: Invalid value: "foo": name is neither a standard finalizer name nor is it fully '
        'qualified'
    ]


def test_the_initial_and_protected_namespaces_are_kubes() -> None:
    assert core.INITIAL_NAMESPACES == ["default", "kube-system", "kube-public", "kube-node-lease"]
    assert {"default", "kube-system", "kube-public"} == core.PROTECTED_NAMESPACES


# --- configmaps ---


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            {"immutable": True, "data": {"a": "1"}},
            {"immutable": True, "data": {"a": "2"}},
            ["data: Forbidden: field is immutable when `immutable` is set"],
        ),
        (
            {"immutable": True, "binaryData": {"a": "AA=="}},
            {"immutable": True},
            ["binaryData: Forbidden: field is immutable when `immutable` is set"],
        ),
        (
            {"immutable": True, "data": {"a": "1"}},
            {"immutable": False, "data": {"a": "1"}},
            ["immutable: Forbidden: field is immutable when `immutable` is set"],
        ),
        (
            {"immutable": True, "data": {"a": "1"}},
            {"data": {"a": "1"}},
            ["immutable: Forbidden: field is immutable when `immutable` is set"],
        ),
        ({"data": {"a": "1"}}, {"immutable": True, "data": {"a": "2"}}, []),
        ({"immutable": True, "data": {"a": "1"}}, {"immutable": True, "data": {"a": "1"}}, []),
    ],
)
def test_an_immutable_configmap_keeps_its_data_and_stays_immutable(
    old: Obj, new: Obj, expected: list[str]
) -> None:
    assert messages(TYPES["configmaps"].strategy.validate_update(new, old)) == expected


def test_configmap_keys_must_be_config_keys_and_not_repeat_in_binary_data() -> None:
    assert errors_on_create("configmaps", {"data": {"a b": "x", "k": "v"}, "binaryData": {"k": "AA=="}}) == [
        "data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, '-', "
        "'_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
        "'[-._a-zA-Z0-9]+')",
        'data[k]: Invalid value: "k": duplicate of key present in binaryData',
    ]


def test_configmap_binary_data_must_be_base64() -> None:
    assert errors_on_create("configmaps", {"binaryData": {"b": "not base64!"}}) == [
        'binaryData[b]: Invalid value: "not base64!": illegal base64 data at input byte 3'
    ]


# --- secrets ---


def test_a_secret_defaults_to_opaque_and_merges_string_data_into_data() -> None:
    secret = created(
        "secrets", {"data": {"a": "b2xk", "keep": "eA=="}, "stringData": {"a": "new", "b": "hi"}}
    )
    assert secret == {"type": "Opaque", "data": {"a": "bmV3", "keep": "eA==", "b": "aGk="}}


@pytest.mark.parametrize(
    ("value", "offset"),
    [("hunter2!", 7), ("hunter2", 4), ("abc", 0), ("abcde", 4)],
)
def test_secret_data_must_be_base64_with_gos_error_offset(value: str, offset: int) -> None:
    # []byte fields fail while the body is decoded: 400, before validation (as kube)
    with pytest.raises(BadRequest) as err:
        errors_on_create("secrets", {"data": {"pw": value}})
    assert err.value.message == (
        f'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte {offset}')


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        ({"type": "kubernetes.io/tls", "data": {"tls.crt": "eA=="}}, ["data[tls.key]: Required value"]),
        ({"type": "kubernetes.io/dockerconfigjson"}, ["data[.dockerconfigjson]: Required value"]),
        (
            {"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": "WzFd"}},
            [
                'data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": '
                "json: cannot unmarshal array into Go value of type map[string]interface {}"
            ],
        ),
        (
            {"type": "kubernetes.io/basic-auth"},
            ["data[username]: Required value", "data[password]: Required value"],
        ),
        ({"type": "kubernetes.io/basic-auth", "data": {"password": ""}}, []),
        ({"type": "kubernetes.io/ssh-auth"}, ["data[ssh-privatekey]: Required value"]),
        (
            {"type": "kubernetes.io/service-account-token"},
            ["metadata.annotations[kubernetes.io/service-account.name]: Required value"],
        ),
        ({"type": "example.com/anything"}, []),
    ],
)
def test_well_known_secret_types_require_their_keys(secret: Obj, expected: list[str]) -> None:
    assert errors_on_create("secrets", secret) == expected


def test_a_secret_type_is_immutable_and_immutable_secrets_keep_their_data() -> None:
    strategy = TYPES["secrets"].strategy
    old = {"type": "Opaque", "immutable": True, "data": {"a": "eA=="}}
    new = {"type": "kubernetes.io/tls", "immutable": True, "data": {"a": "eQ=="}}
    assert messages(strategy.validate_update(new, old)) == [
        'type: Invalid value: "kubernetes.io/tls": field is immutable',
        "data: Forbidden: field is immutable when `immutable` is set",
    ]


def test_secrets_are_selectable_by_type() -> None:
    assert TYPES["secrets"].strategy.field_values({"type": "kubernetes.io/tls"}) == {
        "type": "kubernetes.io/tls"
    }


# --- services ---

WEB: Obj = {"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}


def service(**spec: Any) -> Obj:
    obj = copy.deepcopy(WEB)
    obj["spec"].update(spec)
    return obj


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {},
            {
                "selector": {"app": "web"},
                "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
                "sessionAffinity": "None",
                "type": "ClusterIP",
                "internalTrafficPolicy": "Cluster",
                "ipFamilyPolicy": "SingleStack",
                "ipFamilies": ["IPv4"],
            },
        ),
        ({"type": "NodePort"}, {"externalTrafficPolicy": "Cluster"}),
        (
            {"type": "LoadBalancer"},
            {"externalTrafficPolicy": "Cluster", "allocateLoadBalancerNodePorts": True},
        ),
        ({"sessionAffinity": "ClientIP"}, {"sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}}}),
        (
            {"ports": [{"port": 53, "protocol": "UDP", "targetPort": "dns"}]},
            {"ports": [{"port": 53, "protocol": "UDP", "targetPort": "dns"}]},
        ),
        ({"clusterIP": "10.96.0.10"}, {"clusterIPs": ["10.96.0.10"]}),
        ({"clusterIP": "None"}, {"clusterIPs": ["None"], "ipFamilyPolicy": "SingleStack"}),
        (
            {"clusterIP": "None", "selector": None},
            {"ipFamilyPolicy": "RequireDualStack", "ipFamilies": ["IPv4"]},
        ),
    ],
)
def test_services_get_kubes_defaults(spec: Obj, expected: Obj) -> None:
    got = created("services", service(**spec))
    assert got["spec"] | expected == got["spec"]
    assert got["status"] == {"loadBalancer": {}}


def test_an_external_name_service_gets_no_ip_families_or_internal_policy() -> None:
    got = created("services", {"spec": {"type": "ExternalName", "externalName": "example.com"}})
    assert got["spec"] == {"type": "ExternalName", "externalName": "example.com", "sessionAffinity": "None"}
    assert errors_on_create("services", got) == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"ports": []}, ["spec.ports: Required value"]),
        ({"ports": [], "clusterIP": "None"}, []),
        (
            {"ports": [{"port": 80}, {"port": 81}]},
            ["spec.ports[0].name: Required value", "spec.ports[1].name: Required value"],
        ),
        (
            {"ports": [{"port": 80, "name": "a"}, {"port": 81, "name": "a"}]},
            ['spec.ports[1].name: Duplicate value: "a"'],
        ),
        (
            {"ports": [{"port": 0}]},
            [
                "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
                "spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive",
            ],
        ),
        (
            {"ports": [{"port": 80, "protocol": "HTTP"}]},
            ['spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"'],
        ),
        (
            {"ports": [{"port": 80, "targetPort": "Web"}]},
            [
                'spec.ports[0].targetPort: Invalid value: "Web": must contain only alpha-numeric characters '
                '(a-z, 0-9), '
                "and hyphens (-)"
            ],
        ),
        (
            {"ports": [{"port": 80, "name": "a"}, {"port": 80, "name": "b"}]},
            ['spec.ports[1]: Duplicate value: {"port":80,"protocol":"TCP"}'],
        ),
        (
            {"type": "Weird"},
            [
                'spec.type: Unsupported value: "Weird": supported values: "ClusterIP", "ExternalName", '
                '"LoadBalancer", '
                '"NodePort"'
            ],
        ),
        ({"type": "ExternalName", "ports": []}, ["spec.externalName: Required value"]),
        (
            {"selector": {"app": "a b"}},
            [
                'spec.selector: Invalid value: "a b": a valid label must be an empty string or consist of '
                'alphanumeric '
                "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
                "'MyValue',  "
                "or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?"
                "[A-Za-z0-9])?')"
            ],
        ),
        (
            {"type": "NodePort", "clusterIP": "None"},
            ["spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services"],
        ),
        (
            {"ports": [{"port": 80, "nodePort": 30080}]},
            ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"],
        ),
        (
            {"externalTrafficPolicy": "Local"},
            [
                'spec.externalTrafficPolicy: Invalid value: "Local": may only be set for '
                'externally-accessible services'
            ],
        ),
        (
            {"clusterIP": "10.96.0.300"},
            [
                'spec.clusterIPs[0]: Invalid value: "10.96.0.300": must be a valid IP address, '
                "(e.g. 10.9.8.7 or 2001:db8::ffff)"
            ],
        ),
        (
            {"ipFamilies": ["IPv6"]},
            ['spec.ipFamilies[0]: Invalid value: "IPv6": not configured on this cluster'],
        ),
    ],
)
def test_service_validation_reports_kubes_paths_and_messages(spec: Obj, expected: list[str]) -> None:
    assert errors_on_create("services", service(**spec)) == expected


def test_a_service_update_may_not_change_its_cluster_ip() -> None:
    strategy = TYPES["services"].strategy
    old = created("services", service(clusterIP="10.96.0.10"))
    new = copy.deepcopy(old)
    new["spec"].update(clusterIP="10.96.0.11", clusterIPs=["10.96.0.11"])
    assert messages(strategy.validate_update(new, old)) == [
        'spec.clusterIPs[0]: Invalid value: ["10.96.0.11"]: may not change once set'
    ]


def test_replacing_a_service_without_its_allocated_values_keeps_them() -> None:
    strategy = TYPES["services"].strategy
    old = created("services", service(type="NodePort", clusterIP="10.96.0.10"))
    old["spec"]["ports"][0]["nodePort"] = 30080
    new = created("services", service(type="NodePort"))
    strategy.prepare_for_update(new, old)
    assert (new["spec"]["clusterIP"], new["spec"]["clusterIPs"]) == ("10.96.0.10", ["10.96.0.10"])
    assert new["spec"]["ports"][0]["nodePort"] == 30080
    assert messages(strategy.validate(new) + strategy.validate_update(new, old)) == []


def test_changing_a_service_to_external_name_drops_its_cluster_ip_and_families() -> None:
    strategy = TYPES["services"].strategy
    old = created("services", service(clusterIP="10.96.0.10"))
    new = copy.deepcopy(old)
    new["spec"].update(type="ExternalName", externalName="example.com")
    strategy.prepare_for_update(new, old)
    strategy.default(new)
    assert not {"clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"} & set(new["spec"])
    assert messages(strategy.validate(new) + strategy.validate_update(new, old)) == []


def test_services_are_selectable_by_cluster_ip_and_type() -> None:
    assert TYPES["services"].strategy.field_values({"spec": {"clusterIP": "None", "type": "ClusterIP"}}) == {
        "spec.clusterIP": "None",
        "spec.type": "ClusterIP",
    }


def test_the_kubernetes_service_is_what_a_cluster_shows_and_is_valid() -> None:
    svc = copy.deepcopy(core.KUBERNETES_SERVICE)
    TYPES["services"].strategy.default(svc)
    assert svc == core.KUBERNETES_SERVICE
    assert svc["spec"]["ports"] == [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]
    assert messages(TYPES["services"].strategy.validate(svc)) == []


def test_cluster_ips_are_deterministic_per_seed_and_spread_over_the_upper_band() -> None:
    first = core.allocate_cluster_ip({"10.96.0.1"}, seed="default/web")
    assert first == core.allocate_cluster_ip(set(), seed="default/web")
    assert first != core.allocate_cluster_ip(set(), seed="default/db")
    assert first.startswith("10.") and not first.startswith("10.96.0.")  # above the static band
    assert core.allocate_cluster_ip({first}, seed="default/web") != first


def test_a_small_range_never_hands_out_network_first_or_broadcast_addresses() -> None:
    used: set[str] = set()
    for i in range(5):
        used.add(core.allocate_cluster_ip(used, "10.0.0.0/29", seed=str(i)))
    assert used == {"10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"}
    with pytest.raises(ValueError, match="range is full"):
        core.allocate_cluster_ip(used, "10.0.0.0/29", seed="x")


def test_node_ports_come_from_the_default_range() -> None:
    port = core.allocate_node_port(set(), seed="default/web")
    assert 30000 <= port <= 32767
    assert core.allocate_node_port({port}, seed="default/web") != port


# --- persistent volume claims ---


def test_a_claim_defaults_to_filesystem_mode_and_starts_pending() -> None:
    pvc = created(
        "persistentvolumeclaims",
        {"spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}},
    )
    assert pvc["spec"]["volumeMode"] == "Filesystem"
    assert pvc["status"] == {"phase": "Pending"}
    assert messages(TYPES["persistentvolumeclaims"].strategy.validate(pvc)) == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {},
            [
                "spec.accessModes: Required value: at least 1 access mode is required",
                "spec.resources[storage]: Required value",
            ],
        ),
        (
            {
                "accessModes": ["ReadWriteOncePod", "ReadWriteOnce"],
                "resources": {"requests": {"storage": "0"}},
            },
            [
                "spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes",
                'spec.resources[storage]: Invalid value: "0": must be greater than zero',
            ],
        ),
        (
            {"accessModes": ["Sometimes"], "resources": {"requests": {"storage": "1Gi"}}},
            [
                'spec.accessModes: Unsupported value: "Sometimes": supported values: "ReadOnlyMany", '
                '"ReadWriteMany", '
                '"ReadWriteOnce", "ReadWriteOncePod"'
            ],
        ),
        (
            {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "lots"}}},
            [
                'spec.resources[storage]: Invalid value: "lots": quantities must match the regular '
                'expression '
                "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
            ],
        ),
    ],
)
def test_a_claim_needs_access_modes_and_a_storage_request(spec: Obj, expected: list[str]) -> None:
    assert errors_on_create("persistentvolumeclaims", {"spec": spec}) == expected


def test_a_bound_claim_may_grow_but_not_change_its_access_modes() -> None:
    strategy = TYPES["persistentvolumeclaims"].strategy
    old: Obj = {
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        "status": {"phase": "Bound"},
    }
    grown = copy.deepcopy(old)
    grown["spec"]["resources"]["requests"]["storage"] = "2Gi"
    assert strategy.validate_update(grown, old) == []
    changed = copy.deepcopy(old)
    changed["spec"]["accessModes"] = ["ReadWriteMany"]
    assert messages(strategy.validate_update(changed, old)) == [
        "spec: Forbidden: spec is immutable after creation except resources.requests and "
        "volumeAttributesClassName for bound claims"
    ]



def test_binding_may_set_a_claims_volume_name_once() -> None:
    strategy = TYPES["persistentvolumeclaims"].strategy
    old: Obj = {"spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}
    bound = copy.deepcopy(old)
    bound["spec"]["volumeName"] = "pv-1"
    assert strategy.validate_update(bound, old) == []
    rebound = copy.deepcopy(bound)
    rebound["spec"]["volumeName"] = "pv-2"
    assert [e.field for e in strategy.validate_update(rebound, bound)] == ["spec"]

# --- events, nodes, endpoints, limit ranges, quotas ---


def test_core_events_are_selectable_by_involved_object_reason_source_and_type() -> None:
    event = {
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "ns", "uid": "u"},
        "reason": "Started",
        "source": {"component": "kubelet"},
        "type": "Normal",
        "reportingComponent": "kubelet",
    }
    assert TYPES["events"].strategy.field_values(event) == {
        "involvedObject.kind": "Pod",
        "involvedObject.namespace": "ns",
        "involvedObject.name": "p",
        "involvedObject.uid": "u",
        "involvedObject.apiVersion": "",
        "involvedObject.resourceVersion": "",
        "involvedObject.fieldPath": "",
        "reason": "Started",
        "reportingComponent": "kubelet",
        "source": "kubelet",
        "type": "Normal",
    }


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            {"metadata": {"namespace": "a"}, "involvedObject": {"namespace": "b"}},
            ['involvedObject.namespace: Invalid value: "b": does not match event.namespace'],
        ),
        ({"metadata": {"namespace": "default"}, "involvedObject": {}}, []),
        (
            {
                "metadata": {"namespace": "a"},
                "involvedObject": {"namespace": "a"},
                "eventTime": "2024-01-01T00:00:00Z",
            },
            [
                "reportingController: Required value",
                'reportingController: Invalid value: "": name part must be non-empty',
                "reportingController: Invalid value: \"\": name part must consist of alphanumeric "
                "characters, '-', '_' "
                "or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or "
                "'my.name',  or "
                "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
                "reportingInstance: Required value",
                "action: Required value",
                "reason: Required value",
            ],
        ),
    ],
)
def test_core_events_get_kubes_legacy_validation(event: Obj, expected: list[str]) -> None:
    assert messages(TYPES["events"].strategy.validate(event)) == expected


def test_nodes_are_selectable_by_unschedulable() -> None:
    fields = TYPES["nodes"].strategy.field_values
    assert fields({"spec": {"unschedulable": True}}) == {"spec.unschedulable": "true"}
    assert fields({}) == {"spec.unschedulable": "false"}


def test_node_taints_are_reported_under_metadata_as_kube_does() -> None:
    node = {
        "spec": {
            "taints": [
                {"key": "k", "effect": "Sometimes"},
                {"key": "k", "effect": "NoSchedule"},
                {"key": "k", "effect": "NoSchedule"},
            ]
        }
    }
    assert messages(TYPES["nodes"].strategy.validate(node)) == [
        'metadata.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", '
        '"PreferNoSchedule", "NoExecute"',
        'metadata.taints[2]: Duplicate value: {"key":"k","effect":"NoSchedule"}: '
        "taints must be unique by key and effect pair",
    ]


def test_endpoint_ports_default_to_tcp() -> None:
    ep = created("endpoints", {"subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]})
    assert ep["subsets"][0]["ports"] == [{"port": 80, "protocol": "TCP"}]
    assert messages(TYPES["endpoints"].strategy.validate(ep)) == []


def test_endpoint_subsets_need_addresses_and_real_ips() -> None:
    ep = {"subsets": [{}, {"addresses": [{"ip": "127.0.0.1"}]}]}
    assert messages(TYPES["endpoints"].strategy.validate(ep)) == [
        "subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`",
        'subsets[1].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range '
        "(127.0.0.0/8, ::1/128)",
    ]


def test_container_limit_ranges_default_limits_from_max_and_requests_from_defaults() -> None:
    lr = created(
        "limitranges",
        {"spec": {"limits": [{"type": "Container", "max": {"cpu": "2"}, "min": {"memory": "64Mi"}}]}},
    )
    item = lr["spec"]["limits"][0]
    assert item["default"] == {"cpu": "2"}
    assert item["defaultRequest"] == {"cpu": "2", "memory": "64Mi"}


def test_quota_resources_must_be_standard_and_scopes_immutable() -> None:
    strategy = TYPES["resourcequotas"].strategy
    quota = {"spec": {"hard": {"pods": "1.5", "widgets": "1", "cpu": "-1"}}}
    assert messages(strategy.validate(quota)) == [
        'spec.hard[pods]: Invalid value: "1.5": must be an integer',
        'spec.hard[widgets]: Invalid value: "widgets": must be a standard resource for quota',
        'spec.hard[cpu]: Invalid value: "-1": must be greater than or equal to 0',
    ]
    assert messages(strategy.validate_update({"spec": {"scopes": ["BestEffort"]}}, {"spec": {}})) == [
        'spec.scopes: Invalid value: ["BestEffort"]: field is immutable'
    ]


# --- junk ---

JUNK: list[Any] = [None, 5, "x", [], [1], {"a": 1}, True]


@pytest.mark.parametrize("plural", sorted(TYPES))
@pytest.mark.parametrize("junk", JUNK, ids=repr)
def test_junk_in_any_field_gives_errors_never_exceptions(plural: str, junk: Any) -> None:
    strategy = TYPES[plural].strategy
    keys = (
        "spec",
        "status",
        "data",
        "binaryData",
        "stringData",
        "type",
        "immutable",
        "subsets",
        "involvedObject",
        "metadata",
        "eventTime",
        "reportingComponent",
    )
    obj = {key: copy.deepcopy(junk) for key in keys}
    strategy.default(obj)
    strategy.prepare_for_create(obj)
    strategy.validate(obj)
    strategy.validate_update(obj, {key: copy.deepcopy(junk) for key in keys})
    strategy.prepare_for_update(obj, {"spec": junk})
    strategy.field_values(obj)


@pytest.mark.parametrize(
    "value", [5, "x", {"a": [1]}, [{"port": "eighty", "protocol": ["TCP"]}, 7]], ids=repr
)
def test_mistyped_service_ports_are_type_errors(value: Any) -> None:
    errors = TYPES["services"].strategy.validate(created("services", service(ports=value)))
    assert errors and {e.type for e in errors} <= {
        "FieldValueTypeInvalid",
        "FieldValueRequired",
        "FieldValueInvalid",
    }
    assert any(e.type == "FieldValueTypeInvalid" for e in errors)


def test_a_mistyped_port_number_reads_as_zero_after_its_type_error() -> None:
    assert errors_on_create("services", service(ports=[{"port": "80"}])) == [
        'spec.ports[0].port: Invalid value: "string": spec.ports[0].port in body must be of type integer: '
        '"string"',
        "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        'spec.ports[0].targetPort: Invalid value: "80": must contain at least one letter (a-z)',
    ]
