"""networking.k8s.io/v1: ingresses and network policies.

Defaults follow pkg/apis/networking/v1/defaults.go, validation pkg/apis/networking/validation
(the spec rules clients hit: rules, paths, backends, TLS hosts; selectors, ports, peers).
"""

from __future__ import annotations

import ipaddress
import re

from apiserver.builtins.core import (
    CIDR_MSG,
    PROTOCOLS,
    child,
    dict_items,
    get_dict,
    get_dicts,
    get_int,
    get_str,
    get_strs,
    is_cidr,
    is_ip,
    is_valid_port_name,
    peek,
    port_num_errors,
    typed,
)
from apiserver.registry import Obj, ResourceType, Strategy
from machinery import (
    FieldError,
    forbidden,
    invalid,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_path_segment_name,
    not_supported,
    required,
    validate_label_selector,
)

GROUP = "networking.k8s.io"
PATH_TYPES = ["Exact", "ImplementationSpecific", "Prefix"]  # supportedPathTypes, sorted
_INVALID_PATH_SEQUENCES = ("//", "/./", "/../", "%2f", "%2F")
_INVALID_PATH_SUFFIXES = ("/..", "/.")
_WILDCARD_RE = re.compile(r"\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_WILDCARD_MSG = (
    "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must "
    "consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character "
    r"(e.g. '*.example.com', regex used for validation is '\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?"
    r"(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


def _host_errors(host: str, path: str) -> list[FieldError]:
    """A DNS name, or a wildcard one (`*.example.com`) when it contains '*'."""
    if "*" not in host:
        return [invalid(path, host, msg) for msg in is_dns1123_subdomain(host)]
    errs = [invalid(path, host, "must be no more than 253 characters")] if len(host.encode()) > 253 else []
    return errs + ([] if _WILDCARD_RE.fullmatch(host) else [invalid(path, host, _WILDCARD_MSG)])


def _backend_errors(backend: Obj, path: str, errs: list[FieldError]) -> list[FieldError]:
    """validateIngressBackend: exactly one of resource and service; a service needs a port."""
    resource, service = backend.get("resource"), backend.get("service")
    if resource is not None and service is not None:
        return [invalid(path, "", "cannot set both resource and service backends")]
    if resource is not None:
        ref = get_dict(backend, "resource", f"{path}.resource", errs)
        out = []
        for key in ("kind", "name"):
            value = get_str(ref, key, f"{path}.resource.{key}", errs)
            if not value:
                out.append(required(f"{path}.resource.{key}"))
            out.extend(invalid(f"{path}.resource.{key}", value, msg) for msg in is_path_segment_name(value))
        return out
    if service is None:
        return [invalid(path, "", "resource or service backend is required")]
    svc = get_dict(backend, "service", f"{path}.service", errs)
    out = []
    name = get_str(svc, "name", f"{path}.service.name", errs)
    if not name:
        out.append(required(f"{path}.service.name"))
    # RelaxedServiceNameValidation: a DNS-1123 label, as Service names are checked here
    out.extend(invalid(f"{path}.service.name", name, msg) for msg in (is_dns1123_label(name) if name else []))
    port = get_dict(svc, "port", f"{path}.service.port", errs)
    port_name = get_str(port, "name", f"{path}.service.port.name", errs)
    number = get_int(port, "number", f"{path}.service.port.number", errs) or 0
    if port_name and number:
        out.append(invalid(path, "", "cannot set both port name & port number"))
    elif port_name:
        out.extend(invalid(f"{path}.service.port.name", port_name, m) for m in is_valid_port_name(port_name))
    elif number:
        out.extend(port_num_errors(f"{path}.service.port.number", number))
    else:
        out.append(required(path, "port name or number is required"))
    return out


def _http_path_errors(item: Obj, path: str, errs: list[FieldError]) -> list[FieldError]:
    """validateHTTPIngressPath."""
    path_type = typed(item.get("pathType"), "string", f"{path}.pathType", errs)
    if path_type is None:
        return [required(f"{path}.pathType", "pathType must be specified")]
    value = get_str(item, "path", f"{path}.path", errs)
    out: list[FieldError] = []
    if path_type in ("Exact", "Prefix"):
        if not value.startswith("/"):
            out.append(invalid(f"{path}.path", value, "must be an absolute path"))
        out.extend(invalid(f"{path}.path", value, f"must not contain '{seq}'")
                   for seq in _INVALID_PATH_SEQUENCES if seq in value)
        out.extend(invalid(f"{path}.path", value, f"cannot end with '{suffix}'")
                   for suffix in _INVALID_PATH_SUFFIXES if value.endswith(suffix))
    elif path_type == "ImplementationSpecific":
        if value and not value.startswith("/"):
            out.append(invalid(f"{path}.path", value, "must be an absolute path"))
    else:
        out.append(not_supported(f"{path}.pathType", path_type, PATH_TYPES))
    return out + _backend_errors(get_dict(item, "backend", f"{path}.backend", errs), f"{path}.backend", errs)


def _rule_errors(rule: Obj, path: str, errs: list[FieldError]) -> list[FieldError]:
    out: list[FieldError] = []
    host = get_str(rule, "host", f"{path}.host", errs)
    if host:
        if is_ip(host):
            out.append(invalid(f"{path}.host", host, "must be a DNS name, not an IP address"))
        out.extend(_host_errors(host, f"{path}.host"))
    if rule.get("http") is not None:
        http = get_dict(rule, "http", f"{path}.http", errs)
        paths = get_dicts(http, "paths", f"{path}.http.paths", errs)
        if not paths:
            out.append(required(f"{path}.http.paths"))
        for item_path, item in paths:
            out.extend(_http_path_errors(item, item_path, errs))
    return out


def _ingress_spec_errors(spec: Obj, errs: list[FieldError]) -> list[FieldError]:
    """ValidateIngressSpec."""
    out: list[FieldError] = []
    rules = get_dicts(spec, "rules", "spec.rules", errs)
    if not rules and spec.get("defaultBackend") is None:
        out.append(invalid("spec", spec.get("rules"), "either `defaultBackend` or `rules` must be specified"))
    if spec.get("defaultBackend") is not None:
        backend = get_dict(spec, "defaultBackend", "spec.defaultBackend", errs)
        out.extend(_backend_errors(backend, "spec.defaultBackend", errs))
    for rule_path, rule in rules:
        out.extend(_rule_errors(rule, rule_path, errs))
    for tls_path, tls in get_dicts(spec, "tls", "spec.tls", errs):
        for i, host in enumerate(get_strs(tls, "hosts", f"{tls_path}.hosts", errs)):
            out.extend(_host_errors(host, f"{tls_path}.hosts[{i}]"))
        secret = get_str(tls, "secretName", f"{tls_path}.secretName", errs)
        out.extend(invalid(f"{tls_path}.secretName", secret, msg)
                   for msg in (is_dns1123_subdomain(secret) if secret else []))
    class_name = typed(spec.get("ingressClassName"), "string", "spec.ingressClassName", errs)
    if class_name is not None:
        out.extend(invalid("spec.ingressClassName", class_name, m) for m in is_dns1123_subdomain(class_name))
    return out


class IngressStrategy(Strategy):
    generation = True

    def prepare_for_create(self, obj: Obj) -> None:
        obj["status"] = {"loadBalancer": {}}  # IngressStatus.LoadBalancer is always serialized

    def validate(self, obj: Obj) -> list[FieldError]:
        errs: list[FieldError] = []
        out = _ingress_spec_errors(get_dict(obj, "spec", "spec", errs), errs)
        legacy = peek(obj, "metadata", "annotations", "kubernetes.io/ingress.class")
        class_name = peek(obj, "spec", "ingressClassName")
        if legacy is not None and class_name is not None and legacy != class_name:
            # sic: kube's path lacks "metadata."
            out.append(invalid("annotations.kubernetes.io/ingress.class", legacy,
                               "must match `ingressClassName` when both are specified"))
        return out + errs


def _policy_port_errors(port: Obj, path: str, errs: list[FieldError]) -> list[FieldError]:
    """ValidateNetworkPolicyPort."""
    out: list[FieldError] = []
    protocol = typed(port.get("protocol"), "string", f"{path}.protocol", errs)
    if protocol is not None and protocol not in PROTOCOLS:
        out.append(not_supported(f"{path}.protocol", protocol, ["TCP", "UDP", "SCTP"]))
    number, end = port.get("port"), get_int(port, "endPort", f"{path}.endPort", errs)
    if number is None:
        if end is not None:
            out.append(invalid(f"{path}.endPort", end, "may not be specified when `port` is not specified"))
    elif isinstance(number, int) and not isinstance(number, bool):
        out.extend(port_num_errors(f"{path}.port", number))
        if end is not None:
            if end < number:
                out.append(invalid(f"{path}.endPort", end, "must be greater than or equal to `port`"))
            out.extend(port_num_errors(f"{path}.endPort", end))
    elif isinstance(number, str):
        if end is not None:
            out.append(invalid(f"{path}.endPort", end, "may not be specified when `port` is non-numeric"))
        out.extend(invalid(f"{path}.port", number, msg) for msg in is_valid_port_name(number))
    else:
        typed(number, "string", f"{path}.port", errs)
    return out


def _peer_errors(peer: Obj, path: str, errs: list[FieldError]) -> list[FieldError]:
    """ValidateNetworkPolicyPeer: one kind of peer, or pod and namespace selectors together."""
    out: list[FieldError] = []
    present = [key for key in ("podSelector", "namespaceSelector", "ipBlock") if peer.get(key) is not None]
    for key in ("podSelector", "namespaceSelector"):
        out.extend(validate_label_selector(peer.get(key), f"{path}.{key}"))
    if "ipBlock" in present:
        block = get_dict(peer, "ipBlock", f"{path}.ipBlock", errs)
        out.extend(_ip_block_errors(block, f"{path}.ipBlock", errs))
    if not present:
        out.append(required(path, "must specify a peer"))
    elif len(present) > 1 and "ipBlock" in present:
        out.append(forbidden(path, "may not specify both ipBlock and another peer"))
    return out


def _ip_block_errors(block: Obj, path: str, errs: list[FieldError]) -> list[FieldError]:
    cidr = get_str(block, "cidr", f"{path}.cidr", errs)
    if not cidr:
        return [required(f"{path}.cidr")]
    if not is_cidr(cidr):
        return [invalid(f"{path}.cidr", cidr, CIDR_MSG)]
    network = ipaddress.ip_network(cidr, strict=False)
    out = []
    for i, except_cidr in enumerate(get_strs(block, "except", f"{path}.except", errs)):
        except_path = f"{path}.except[{i}]"
        if not is_cidr(except_cidr):
            out.append(invalid(except_path, except_cidr, CIDR_MSG))
            continue
        inner = ipaddress.ip_network(except_cidr, strict=False)
        if inner.network_address not in network or inner.prefixlen <= network.prefixlen:
            out.append(invalid(except_path, except_cidr, "must be a strict subset of `cidr`"))
    return out


def _network_policy_errors(spec: Obj, errs: list[FieldError]) -> list[FieldError]:
    """ValidateNetworkPolicySpec."""
    out = validate_label_selector(spec.get("podSelector"), "spec.podSelector")
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        for rule_path, rule in get_dicts(spec, direction, f"spec.{direction}", errs):
            for port_path, port in get_dicts(rule, "ports", f"{rule_path}.ports", errs):
                out.extend(_policy_port_errors(port, port_path, errs))
            for peer_path, peer in get_dicts(rule, peers, f"{rule_path}.{peers}", errs):
                out.extend(_peer_errors(peer, peer_path, errs))
    types = get_strs(spec, "policyTypes", "spec.policyTypes", errs)
    if len(types) > 2:
        return [*out, invalid("spec.policyTypes", types, "may not specify more than two policyTypes")]
    out.extend(not_supported(f"spec.policyTypes[{i}]", t, ["Ingress", "Egress"])
               for i, t in enumerate(types) if t not in ("Ingress", "Egress"))
    return out


class NetworkPolicyStrategy(Strategy):
    generation = True

    def default(self, obj: Obj) -> None:
        spec = child(obj, "spec")
        if spec is None:
            return
        spec.setdefault("podSelector", {})  # a struct, always serialized: {} selects every pod
        if not spec.get("policyTypes"):
            # SetDefaults_NetworkPolicy: ingress always, egress when egress rules are given
            spec["policyTypes"] = ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]
        for direction in ("ingress", "egress"):
            for rule in dict_items(spec, direction):
                for port in dict_items(rule, "ports"):
                    port.setdefault("protocol", "TCP")  # SetDefaults_NetworkPolicyPort

    def validate(self, obj: Obj) -> list[FieldError]:
        errs: list[FieldError] = []
        return _network_policy_errors(get_dict(obj, "spec", "spec", errs), errs) + errs


TYPES: list[ResourceType] = [
    ResourceType(GROUP, "v1", "Ingress", "ingresses", "ingress", True, ("ing",), subresources=("status",),
                 strategy=IngressStrategy()),
    ResourceType(GROUP, "v1", "NetworkPolicy", "networkpolicies", "networkpolicy", True, ("netpol",),
                 strategy=NetworkPolicyStrategy()),
]
