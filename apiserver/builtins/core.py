"""core/v1 kinds: namespaces, configmaps, secrets, services, events, nodes and the rest.

Defaults follow pkg/apis/core/v1/defaults.go, validation pkg/apis/core/validation (field paths and
messages as kube prints them, including its quirks) and per-kind hooks pkg/registry/core/*/strategy.go.
Only the rules clients meet most are here, not all of validation.go.

Objects are the JSON clients sent, so anything may be mistyped: every hook reads through the small
accessors below, which turn a wrong JSON type into a FieldError instead of an exception. The
accessors and shared checks (ports, IPs, quantities, events) are public because the other API
groups lean on core's validation, as kube's do.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import json
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from apiserver.registry import Obj, ResourceType, Strategy
from machinery import (
    FIELD_IMMUTABLE,
    BadRequest,
    FieldError,
    duplicate,
    forbidden,
    invalid,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_label_value,
    not_supported,
    required,
    too_long,
    type_invalid,
    validate_label_key,
    validate_label_selector,
    validate_labels,
)

# --- reading JSON that may be junk ---

_JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "object": dict,
    "array": list,
}


def typed(value: Any, expected: str, path: str, errs: list[FieldError]) -> Any:
    """`value` if it has JSON type `expected`; None if absent, or mistyped (then an error is added)."""
    if value is None:
        return None
    is_bool = isinstance(value, bool)
    if isinstance(value, _JSON_TYPES[expected]) and (expected == "boolean" or not is_bool):
        return value
    errs.append(type_invalid(path, value, expected))
    return None


def get_str(obj: Obj, key: str, path: str, errs: list[FieldError]) -> str:
    """A string field as Go reads it: absent is "" (mistyped adds an error)."""
    return typed(obj.get(key), "string", path, errs) or ""


def get_int(obj: Obj, key: str, path: str, errs: list[FieldError]) -> int | None:
    value: int | None = typed(obj.get(key), "integer", path, errs)
    return value


def get_dict(obj: Obj, key: str, path: str, errs: list[FieldError]) -> Obj:
    return typed(obj.get(key), "object", path, errs) or {}


def get_list(obj: Obj, key: str, path: str, errs: list[FieldError]) -> list[Any]:
    return typed(obj.get(key), "array", path, errs) or []


def get_strs(obj: Obj, key: str, path: str, errs: list[FieldError]) -> list[str]:
    """A list of strings; mistyped items are reported and left out."""
    items = get_list(obj, key, path, errs)
    return [item for i, item in enumerate(items) if typed(item, "string", f"{path}[{i}]", errs) is not None]


def get_dicts(obj: Obj, key: str, path: str, errs: list[FieldError]) -> list[tuple[str, Obj]]:
    """(path, item) for each object in a list; mistyped items are reported and left out."""
    items = get_list(obj, key, path, errs)
    return [(f"{path}[{i}]", item) for i, item in enumerate(items)
            if typed(item, "object", f"{path}[{i}]", errs) is not None]


def get_str_map(obj: Obj, key: str, path: str, errs: list[FieldError]) -> dict[str, str]:
    """A map of strings (data, selectors); mistyped values are reported and left out."""
    items = get_dict(obj, key, path, errs)
    if all(type(v) is str for v in items.values()):  # the usual map: nothing to report or leave out
        return items
    return {k: v for k, v in items.items() if typed(v, "string", f"{path}[{k}]", errs) is not None}


def as_dict(value: Any) -> Obj:
    """`value` if it is an object, else {} (for reading junk-tolerantly)."""
    return value if isinstance(value, dict) else {}


def hashable(value: Any) -> Any:
    """`value` if it can go in a set (a JSON scalar), else None: junk must not raise TypeError."""
    return value if value is None or isinstance(value, str | int | float) else None


def text(value: Any) -> str:
    """A string for field selectors: anything else reads as ""."""
    return value if isinstance(value, str) else ""


def peek(obj: Any, *keys: str) -> Any:
    """A nested value for reading only; None when anything on the way is missing or not an object."""
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def child(obj: Obj, key: str) -> Obj | None:
    """obj[key] as an object to fill in, created when absent; None when it holds junk (left for validate)."""
    value = obj.get(key)
    if value is None:
        value = obj[key] = {}
    return value if isinstance(value, dict) else None


def dict_items(obj: Obj, key: str) -> list[Obj]:
    """The objects in a list, for defaulting; junk is skipped (validate reports it)."""
    value = obj.get(key)
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def immutable(new: Any, old: Any, path: str) -> list[FieldError]:
    """apivalidation.ValidateImmutableField."""
    return [] if new == old else [invalid(path, new, FIELD_IMMUTABLE)]


# --- shared value checks (k8s.io/apimachinery/pkg/util/validation) ---

PORT_RANGE_MSG = "must be between 1 and 65535, inclusive"  # InclusiveRangeError(1, 65535)
IP_MSG = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
CIDR_MSG = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
NONNEGATIVE_MSG = "must be greater than or equal to 0"  # IsNegativeErrorMsg
PROTOCOLS = ["SCTP", "TCP", "UDP"]  # supportedPortProtocols, sorted as sets.List prints them


def port_num_errors(path: str, port: int) -> list[FieldError]:
    return [] if 1 <= port <= 65535 else [invalid(path, port, PORT_RANGE_MSG)]


def is_valid_port_name(name: str) -> list[str]:
    """validation.IsValidPortName: an IANA_SVC_NAME."""
    errs = []
    if len(name.encode()) > 15:
        errs.append("must be no more than 15 characters")
    if not re.fullmatch(r"[-a-z0-9]+", name):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search(r"[a-z]", name):
        errs.append("must contain at least one letter (a-z)")
    if "--" in name:
        errs.append("must not contain consecutive hyphens")
    if name and (name[0] == "-" or name[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def port_num_or_name_errors(value: Any, path: str) -> list[FieldError]:
    """ValidatePortNumOrName for an IntOrString."""
    if isinstance(value, str):
        return [invalid(path, value, msg) for msg in is_valid_port_name(value)]
    if isinstance(value, int) and not isinstance(value, bool):
        return port_num_errors(path, value)
    return [type_invalid(path, value, "integer or string")]


def is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def is_cidr(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


def non_special_ip_errors(value: str, path: str) -> list[FieldError]:
    """ValidateNonSpecialIP: no unspecified, loopback or link-local addresses."""
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return [invalid(path, value, "must be a valid IP address")]
    errs = []
    if ip.is_unspecified:
        errs.append(invalid(path, value, f"may not be unspecified ({value})"))
    if ip.is_loopback:
        errs.append(invalid(path, value, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
    if ip.is_link_local:
        errs.append(invalid(path, value, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"))
    link_local_multicast = ipaddress.ip_network("224.0.0.0/24" if ip.version == 4 else "ff02::/16")
    if ip in link_local_multicast:
        errs.append(invalid(path, value,
                            "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"))
    return errs


_CONFIG_KEY = re.compile(r"[-._a-zA-Z0-9]+")


def is_config_map_key(key: str) -> list[str]:
    """validation.IsConfigMapKey: keys of configmaps and secrets (they become file names)."""
    if len(key) <= 253 and _CONFIG_KEY.fullmatch(key) and not key.startswith(".."):
        return [] if key != "." else ["must not be '.'"]
    errs = []
    if len(key.encode()) > 253:
        errs.append("must be no more than 253 characters")
    if not _CONFIG_KEY.fullmatch(key):
        errs.append("a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
                    "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', "
                    "regex used for validation is '[-._a-zA-Z0-9]+')")
    if key == ".":
        errs.append("must not be '.'")
    elif key == "..":
        errs.append("must not be '..'")
    elif key.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def base64_error(value: str) -> str | None:
    """Go's base64.StdEncoding error for `value`, None if it decodes (newlines are skipped, as Go does)."""
    try:
        binascii.a2b_base64(value.replace("\r", "").replace("\n", ""), strict_mode=True)
    except (binascii.Error, ValueError):  # ValueError: characters outside ASCII
        pass
    else:
        return None
    seen = 0  # non-newline characters before the offending one
    for i, ch in enumerate(value):
        if ch in "\r\n":
            continue
        if ch != "=" and not (ch.isascii() and (ch.isalnum() or ch in "+/")):
            return f"illegal base64 data at input byte {i}"
        seen += 1
    return f"illegal base64 data at input byte {seen - seen % 4 if seen % 4 else max(seen - 4, 0)}"


def b64decode(value: str) -> bytes:
    return base64.b64decode(value.replace("\r", "").replace("\n", ""))


# --- quantities (k8s.io/apimachinery/pkg/api/resource) ---

QUANTITY_FORMAT_MSG = ("quantities must match the regular expression "
                       "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
_QUANTITY_RE = re.compile(r"([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))([eEinumkKMGTP]*[-+]?[0-9]*)")
_SUFFIXES = {
    "": Decimal(1), "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"),
    "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
    "P": Decimal("1e15"), "E": Decimal("1e18"),
    **{s: Decimal(1024) ** (i + 1) for i, s in enumerate(("Ki", "Mi", "Gi", "Ti", "Pi", "Ei"))},
}


def parse_quantity(value: Any) -> Decimal | str:
    """A Quantity's value, or kube's parse error message (a JSON number is a quantity too)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    if not isinstance(value, str):
        return QUANTITY_FORMAT_MSG
    match = _QUANTITY_RE.fullmatch(value)
    if not match:
        return QUANTITY_FORMAT_MSG
    number, suffix = match.groups()
    try:
        if suffix in _SUFFIXES:
            return Decimal(number) * _SUFFIXES[suffix]
        if re.fullmatch(r"[eE][-+]?[0-9]+", suffix):
            return Decimal(number) * Decimal(10) ** int(suffix[1:])
    except InvalidOperation:
        return QUANTITY_FORMAT_MSG
    return "unable to parse quantity's suffix"


def quantity_errors(value: Any, path: str, *, positive: bool = False) -> list[FieldError]:
    """A parseable quantity, not negative (or, with `positive`, above zero)."""
    parsed = parse_quantity(value)
    if isinstance(parsed, str):
        return [invalid(path, value, parsed)]
    if parsed < 0:
        return [invalid(path, value, NONNEGATIVE_MSG)]
    if positive and parsed == 0:
        return [invalid(path, value, "must be greater than zero")]
    return []


# --- namespaces ---

INITIAL_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"]
PROTECTED_NAMESPACES = {"default", "kube-system", "kube-public"}
FINALIZER_KUBERNETES = "kubernetes"  # core.FinalizerKubernetes
LABEL_METADATA_NAME = "kubernetes.io/metadata.name"  # v1.LabelMetadataName


class NamespaceStrategy(Strategy):
    name_rule = "label"

    def default(self, obj: Obj) -> None:
        # SetDefaults_Namespace (and the Canonicalize twin): the name label can't be removed or changed
        meta, name = obj.get("metadata"), peek(obj, "metadata", "name")
        if isinstance(meta, dict) and isinstance(name, str) and name:
            labels = child(meta, "labels")
            if labels is not None:
                labels[LABEL_METADATA_NAME] = name
        status = obj.get("status")
        if isinstance(status, dict) and not status.get("phase"):
            status["phase"] = "Active"  # SetDefaults_NamespaceStatus

    def prepare_for_create(self, obj: Obj) -> None:
        obj["status"] = {"phase": "Active"}
        spec = child(obj, "spec")
        if spec is None:
            return
        finalizers = spec.get("finalizers")
        if finalizers is None:
            spec["finalizers"] = [FINALIZER_KUBERNETES]
        elif isinstance(finalizers, list) and FINALIZER_KUBERNETES not in finalizers:
            finalizers.append(FINALIZER_KUBERNETES)

    def finalizers(self, obj: Obj) -> list[str]:
        spec_finalizers = peek(obj, "spec", "finalizers")
        own = spec_finalizers if isinstance(spec_finalizers, list) else []
        return super().finalizers(obj) + own

    def prepare_for_delete(self, obj: Obj) -> None:
        status = obj.get("status")
        obj["status"] = {**(status if isinstance(status, dict) else {}), "phase": "Terminating"}

    def prepare_for_update(self, obj: Obj, old: Obj) -> None:
        # spec.finalizers change only through the /finalize subresource
        old_finalizers = peek(old, "spec", "finalizers")
        spec = child(obj, "spec")
        if spec is None:
            return
        if old_finalizers is None:
            spec.pop("finalizers", None)
        else:
            spec["finalizers"] = old_finalizers

    def validate(self, obj: Obj) -> list[FieldError]:
        errs: list[FieldError] = []
        spec = get_dict(obj, "spec", "spec", errs)
        for finalizer in get_strs(spec, "finalizers", "spec.finalizers", errs):
            errs.extend(finalizer_name_errors(finalizer, "spec.finalizers"))
        return errs

    def field_values(self, obj: Obj) -> dict[str, str]:
        return {"status.phase": text(peek(obj, "status", "phase"))}


def finalizer_name_errors(name: str, path: str) -> list[FieldError]:
    """validateFinalizerName: a qualified name, and without a '/' one of the standard ones."""
    errs = [invalid(path, name, msg) for msg in is_qualified_name(name)]
    if "/" not in name and name != FINALIZER_KUBERNETES:
        errs.append(invalid(path, name,
                            "name is neither a standard finalizer name nor is it fully qualified"))
    return errs


# --- configmaps and secrets ---

MAX_SECRET_SIZE = 1024 * 1024  # core.MaxSecretSize, also the limit for configmaps
IMMUTABLE_SET_MSG = "field is immutable when `immutable` is set"


def _data_key_errors(keys: Iterable[str], path: str) -> list[FieldError]:
    return [invalid(f"{path}[{key}]", key, msg) for key in keys for msg in is_config_map_key(key)]


def _immutable_contents(obj: Obj, old: Obj, fields: tuple[str, ...]) -> list[FieldError]:
    """Once `immutable: true`, it stays set and the contents stay as they are."""
    if old.get("immutable") is not True:
        return []
    errs = [] if obj.get("immutable") is True else [forbidden("immutable", IMMUTABLE_SET_MSG)]
    changed = [f for f in fields if (obj.get(f) or None) != (old.get(f) or None)]  # {} is omitted in JSON
    errs.extend(forbidden(f, IMMUTABLE_SET_MSG) for f in changed)
    return errs


def omit_empty(obj: Obj, *fields: str) -> None:
    """Go's `omitempty` on maps: an empty one is dropped from the stored object."""
    for field in fields:
        if obj.get(field) == {}:
            del obj[field]


class ConfigMapStrategy(Strategy):
    def default(self, obj: Obj) -> None:
        omit_empty(obj, "data", "binaryData")

    def validate(self, obj: Obj) -> list[FieldError]:
        errs: list[FieldError] = []
        if "immutable" in obj:
            typed(obj["immutable"], "boolean", "immutable", errs)
        data = get_str_map(obj, "data", "data", errs) if "data" in obj else {}
        binary = get_str_map(obj, "binaryData", "binaryData", errs) if "binaryData" in obj else {}
        errs.extend(_data_key_errors(data, "data"))
        if binary:
            errs.extend(invalid(f"data[{key}]", key, "duplicate of key present in binaryData")
                        for key in data if key in binary)
            errs.extend(_data_key_errors(binary, "binaryData"))
        size = 0
        for v in data.values():
            size += len(v) if v.isascii() else len(v.encode())
        for key, value in binary.items():
            if (problem := base64_error(value)) is not None:
                errs.append(invalid(f"binaryData[{key}]", value, problem))
            else:
                size += len(b64decode(value))
        if size > MAX_SECRET_SIZE:
            errs.append(too_long("", MAX_SECRET_SIZE))  # kube reports the whole object, path ""
        return errs

    def validate_update(self, obj: Obj, old: Obj) -> list[FieldError]:
        return _immutable_contents(obj, old, ("data", "binaryData"))


SECRET_TYPE_OPAQUE = "Opaque"
SECRET_TYPE_SA_TOKEN = "kubernetes.io/service-account-token"
SERVICE_ACCOUNT_NAME_KEY = "kubernetes.io/service-account.name"


def _json_object_error(raw: bytes) -> str | None:
    """Why json.Unmarshal into a map[string]interface{} fails, in Go's words (null is fine)."""
    try:
        value = json.loads(raw)
    except ValueError as err:  # JSONDecodeError and UnicodeDecodeError
        body, pos = raw.decode(errors="replace"), getattr(err, "pos", 0)
        if pos >= len(body.rstrip()):
            return "unexpected end of JSON input"
        return f"invalid character '{body[pos]}' looking for beginning of value"
    kind = {list: "array", str: "string", bool: "bool", int: "number", float: "number"}.get(type(value))
    return f"json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}" if kind else None


def _secret_type_errors(secret_type: str, data: dict[str, bytes], annotations: Any) -> list[FieldError]:
    """The keys each well-known secret type needs (ValidateSecret's switch)."""
    def needs(*keys: str) -> list[FieldError]:
        return [required(f"data[{key}]") for key in keys if key not in data]

    if secret_type == SECRET_TYPE_SA_TOKEN:
        if not peek(annotations, SERVICE_ACCOUNT_NAME_KEY):
            return [required(f"metadata.annotations[{SERVICE_ACCOUNT_NAME_KEY}]")]
    elif secret_type in ("kubernetes.io/dockercfg", "kubernetes.io/dockerconfigjson"):
        key = ".dockercfg" if secret_type == "kubernetes.io/dockercfg" else ".dockerconfigjson"
        if key not in data:
            return needs(key)
        if (problem := _json_object_error(data[key])) is not None:
            return [invalid(f"data[{key}]", "<secret contents redacted>", problem)]
    elif secret_type == "kubernetes.io/basic-auth":
        if "username" not in data and "password" not in data:
            return needs("username", "password")
    elif secret_type == "kubernetes.io/ssh-auth":
        if not data.get("ssh-privatekey"):
            return [required("data[ssh-privatekey]")]
    elif secret_type == "kubernetes.io/tls":
        return needs("tls.crt", "tls.key")
    return []


class SecretStrategy(Strategy):
    def default(self, obj: Obj) -> None:
        data_in = obj.get("data")
        if isinstance(data_in, dict):
            for value in data_in.values():
                # []byte fields are decoded with the body: a bad one is a 400, before validation
                if isinstance(value, str) and (problem := base64_error(value)) is not None:
                    raise BadRequest(f'Secret in version "v1" cannot be handled as a Secret: {problem}')
        if not obj.get("type"):
            obj["type"] = SECRET_TYPE_OPAQUE
        # v1 -> internal conversion: stringData overwrites data and is not stored
        string_data = obj.get("stringData")
        if isinstance(string_data, dict) and all(isinstance(v, str) for v in string_data.values()):
            data = child(obj, "data")
            if data is not None:
                data.update({k: base64.b64encode(v.encode()).decode() for k, v in string_data.items()})
                del obj["stringData"]
        omit_empty(obj, "data", "stringData")

    def validate(self, obj: Obj) -> list[FieldError]:
        errs: list[FieldError] = []
        typed(obj.get("immutable"), "boolean", "immutable", errs)
        get_str_map(obj, "stringData", "stringData", errs)  # left only when junk
        secret_type = get_str(obj, "type", "type", errs)
        raw = get_str_map(obj, "data", "data", errs)
        errs.extend(_data_key_errors(list(raw), "data"))
        data: dict[str, bytes] = {}
        for key, value in raw.items():
            if (problem := base64_error(value)) is not None:
                errs.append(invalid(f"data[{key}]", "<secret contents redacted>", problem))
            else:
                data[key] = b64decode(value)
        if sum(len(v) for v in data.values()) > MAX_SECRET_SIZE:
            errs.append(too_long("data", MAX_SECRET_SIZE))
        errs.extend(_secret_type_errors(secret_type, data, peek(obj, "metadata", "annotations")))
        return errs

    def validate_update(self, obj: Obj, old: Obj) -> list[FieldError]:
        errs = immutable(obj.get("type"), old.get("type"), "type")
        return errs + _immutable_contents(obj, old, ("data",))

    def field_values(self, obj: Obj) -> dict[str, str]:
        return {"type": text(obj.get("type"))}


# --- endpoints ---


class EndpointsStrategy(Strategy):
    def default(self, obj: Obj) -> None:
        for subset in dict_items(obj, "subsets"):
            for port in dict_items(subset, "ports"):
                port.setdefault("protocol", "TCP")

    def validate(self, obj: Obj) -> list[FieldError]:
        errs: list[FieldError] = []
        for path, subset in get_dicts(obj, "subsets", "subsets", errs):
            addresses = get_dicts(subset, "addresses", f"{path}.addresses", errs)
            not_ready = get_dicts(subset, "notReadyAddresses", f"{path}.notReadyAddresses", errs)
            if not addresses and not not_ready:
                errs.append(required(path, "must specify `addresses` or `notReadyAddresses`"))
            for addr_path, address in addresses + not_ready:
                errs.extend(_endpoint_address_errors(address, addr_path))
            ports = get_dicts(subset, "ports", f"{path}.ports", errs)
            for port_path, port in ports:
                errs.extend(_endpoint_port_errors(port, len(ports) > 1, port_path))
        return errs


def _endpoint_address_errors(address: Obj, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    ip = get_str(address, "ip", f"{path}.ip", errs)
    if not is_ip(ip):
        errs.append(invalid(f"{path}.ip", ip, IP_MSG))
    hostname = get_str(address, "hostname", f"{path}.hostname", errs)
    if hostname:
        errs.extend(invalid(f"{path}.hostname", hostname, msg) for msg in is_dns1123_label(hostname))
    node_name = typed(address.get("nodeName"), "string", f"{path}.nodeName", errs)
    if node_name is not None:
        errs.extend(invalid(f"{path}.nodeName", node_name, msg) for msg in is_dns1123_subdomain(node_name))
    return errs + non_special_ip_errors(ip, f"{path}.ip")


def _endpoint_port_errors(port: Obj, require_name: bool, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    name = get_str(port, "name", f"{path}.name", errs)
    if require_name and not name:
        errs.append(required(f"{path}.name"))
    elif name:
        errs.extend(invalid(f"{path}.name", name, msg) for msg in is_dns1123_label(name))
    errs.extend(port_num_errors(f"{path}.port", get_int(port, "port", f"{path}.port", errs) or 0))
    errs.extend(_protocol_errors(get_str(port, "protocol", f"{path}.protocol", errs), f"{path}.protocol"))
    return errs


def _protocol_errors(protocol: str, path: str) -> list[FieldError]:
    if not protocol:
        return [required(path)]
    return [] if protocol in PROTOCOLS else [not_supported(path, protocol, PROTOCOLS)]


# --- events (core/v1, and the shared rules of events.k8s.io/v1) ---

REPORTING_INSTANCE_LIMIT = ACTION_LIMIT = REASON_LIMIT = 128  # validation/events.go length limits
NOTE_LIMIT = 1024


def validate_event(event: Obj, *, strict: bool) -> list[FieldError]:
    """ValidateEventCreate on core's shape (reportingComponent, message, involvedObject, ...).

    Paths use kube's internal field names (reportingController, message), as kube reports them.
    `strict` adds the rules for events.k8s.io/v1 and later.
    """
    errs: list[FieldError] = []
    namespace = text(peek(event, "metadata", "namespace"))
    involved = get_dict(event, "involvedObject", "involvedObject", errs)
    involved_ns = get_str(involved, "namespace", "involvedObject.namespace", errs)
    event_time = event.get("eventTime")
    if not event_time:
        # old-style events: the object's namespace must agree (or be empty / default)
        if namespace != involved_ns and (involved_ns or namespace != "default"):
            errs.append(invalid("involvedObject.namespace", involved_ns, "does not match event.namespace"))
    else:
        if not involved_ns and namespace not in ("default", "kube-system"):
            errs.append(invalid("involvedObject.namespace", involved_ns, "does not match event.namespace"))
        controller = get_str(event, "reportingComponent", "reportingController", errs)
        if not controller:
            errs.append(required("reportingController"))
        errs.extend(invalid("reportingController", controller, msg) for msg in is_qualified_name(controller))
        for field, limit in (("reportingInstance", REPORTING_INSTANCE_LIMIT), ("action", ACTION_LIMIT),
                             ("reason", REASON_LIMIT)):
            value = get_str(event, field, field, errs)
            if not value:
                errs.append(required(field))
            if len(value.encode()) > limit:
                errs.append(invalid(field, "", f"can have at most {limit} characters"))
        if len(get_str(event, "message", "message", errs).encode()) > NOTE_LIMIT:
            errs.append(invalid("message", "", f"can have at most {NOTE_LIMIT} characters"))
    if strict:
        errs.extend(_strict_event_errors(event))
    return errs


def _strict_event_errors(event: Obj) -> list[FieldError]:
    errs = event_series_errors(event)
    if not event.get("eventTime"):
        errs.append(required("eventTime"))
    if (event_type := event.get("type")) not in ("Normal", "Warning"):
        errs.append(invalid("type", "", f"has invalid value: {text(event_type)}"))
    for field in ("firstTimestamp", "lastTimestamp", "count"):
        if event.get(field):
            errs.append(invalid(field, "", "needs to be unset"))
    source = event.get("source")
    if isinstance(source, dict) and (source.get("component") or source.get("host")):
        errs.append(invalid("source", "", "needs to be unset"))
    return errs


def event_series_errors(event: Obj) -> list[FieldError]:
    """validateV1EventSeries: a series counts at least two occurrences and says when it saw the last."""
    series = event.get("series")
    if not isinstance(series, dict):
        return []
    errs = []
    count = series.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 2:
        errs.append(invalid("series.count", "", "should be at least 2"))
    if not series.get("lastObservedTime"):
        errs.append(required("series.lastObservedTime"))
    return errs


class EventStrategy(Strategy):
    def validate(self, obj: Obj) -> list[FieldError]:
        return validate_event(obj, strict=False)

    def field_values(self, obj: Obj) -> dict[str, str]:
        involved = obj.get("involvedObject")
        fields = {f"involvedObject.{k}": text(peek(involved, k))
                  for k in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")}
        controller = text(obj.get("reportingComponent"))
        fields.update(reason=text(obj.get("reason")), reportingComponent=controller,
                      source=text(peek(obj, "source", "component")) or controller, type=text(obj.get("type")))
        return fields


# --- nodes ---

TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"]  # in validateTaintEffect's order


class NodeStrategy(Strategy):
    def default(self, obj: Obj) -> None:
        status = obj.get("status")
        # SetDefaults_NodeStatus: allocatable starts as capacity
        capacity = peek(status, "capacity")
        if isinstance(status, dict) and status.get("allocatable") is None and isinstance(capacity, dict):
            status["allocatable"] = dict(capacity)

    def validate(self, obj: Obj) -> list[FieldError]:
        errs: list[FieldError] = []
        spec = get_dict(obj, "spec", "spec", errs)
        typed(spec.get("unschedulable"), "boolean", "spec.unschedulable", errs)
        errs.extend(_taint_errors(spec, errs))
        cidrs = get_strs(spec, "podCIDRs", "spec.podCIDRs", errs)
        errs.extend(invalid(f"spec.podCIDRs[{i}]", cidr, CIDR_MSG)
                    for i, cidr in enumerate(cidrs) if not is_cidr(cidr))
        status = get_dict(obj, "status", "status", errs)
        for key in ("capacity", "allocatable"):
            for name, value in get_dict(status, key, f"status.{key}", errs).items():
                errs.extend(quantity_errors(value, f"status.{key}.{name}"))
        return errs

    def validate_update(self, obj: Obj, old: Obj) -> list[FieldError]:
        errs = []
        old_cidrs, new_cidrs = peek(old, "spec", "podCIDRs"), peek(obj, "spec", "podCIDRs")
        if old_cidrs and old_cidrs != new_cidrs:
            errs.append(forbidden("spec.podCIDRs",
                                  'node updates may not change podCIDR except from "" to valid'))
        old_provider = peek(old, "spec", "providerID")
        if old_provider and old_provider != peek(obj, "spec", "providerID"):
            errs.append(forbidden("spec.providerID",
                                  'node updates may not change providerID except from "" to valid'))
        return errs

    def field_values(self, obj: Obj) -> dict[str, str]:
        return {"spec.unschedulable": "true" if peek(obj, "spec", "unschedulable") is True else "false"}


def _taint_errors(spec: Obj, errs: list[FieldError]) -> list[FieldError]:
    """validateNodeTaints; kube validates them under `metadata.taints` (sic)."""
    out: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    for spec_path, taint in get_dicts(spec, "taints", "spec.taints", errs):
        path = spec_path.replace("spec.", "metadata.", 1)
        key = get_str(taint, "key", f"{path}.key", errs)
        out.extend(validate_label_key(key, f"{path}.key"))
        value = get_str(taint, "value", f"{path}.value", errs)
        if msgs := is_valid_label_value(value):
            out.append(invalid(f"{path}.value", value, ";".join(msgs)))
        effect = get_str(taint, "effect", f"{path}.effect", errs)
        if not effect:
            out.append(required(f"{path}.effect"))
        elif effect not in TAINT_EFFECTS:
            out.append(not_supported(f"{path}.effect", effect, TAINT_EFFECTS))
        if (key, effect) in seen:
            out.append(FieldError("FieldValueDuplicate", path, "taints must be unique by key and effect pair",
                                  taint, True))
        seen.add((key, effect))
    return out


# --- persistent volume claims ---

ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]  # sorted
VOLUME_MODES = ["Block", "Filesystem"]


def pvc_spec_errors(spec: Obj, path: str) -> list[FieldError]:
    """ValidatePersistentVolumeClaimSpec (also used by StatefulSet volumeClaimTemplates)."""
    errs: list[FieldError] = []
    modes = get_strs(spec, "accessModes", f"{path}.accessModes", errs)
    if not modes:
        errs.append(required(f"{path}.accessModes", "at least 1 access mode is required"))
    errs.extend(not_supported(f"{path}.accessModes", m, ACCESS_MODES) for m in modes if m not in ACCESS_MODES)
    if "ReadWriteOncePod" in modes and any(m != "ReadWriteOncePod" and m in ACCESS_MODES for m in modes):
        errs.append(forbidden(f"{path}.accessModes", "may not use ReadWriteOncePod with other access modes"))
    errs.extend(validate_label_selector(spec.get("selector"), f"{path}.selector"))
    requests = get_dict(get_dict(spec, "resources", f"{path}.resources", errs), "requests",
                        f"{path}.resources.requests", errs)
    storage_path = f"{path}.resources[storage]"
    if "storage" not in requests:
        errs.append(required(storage_path))
    else:
        errs.extend(quantity_errors(requests["storage"], storage_path, positive=True))
    class_name = typed(spec.get("storageClassName"), "string", f"{path}.storageClassName", errs)
    if class_name:
        errs.extend(invalid(f"{path}.storageClassName", class_name, msg)
                    for msg in is_dns1123_subdomain(class_name))
    mode = typed(spec.get("volumeMode"), "string", f"{path}.volumeMode", errs)
    if mode is not None and mode not in VOLUME_MODES:
        errs.append(not_supported(f"{path}.volumeMode", mode, VOLUME_MODES))
    return errs


class PersistentVolumeClaimStrategy(Strategy):
    def default(self, obj: Obj) -> None:
        spec = child(obj, "spec")
        if spec is not None and spec.get("volumeMode") is None:
            spec["volumeMode"] = "Filesystem"  # SetDefaults_PersistentVolumeClaimSpec
        status = obj.get("status")
        if isinstance(status, dict) and not status.get("phase"):
            status["phase"] = "Pending"  # SetDefaults_PersistentVolumeClaim

    def prepare_for_create(self, obj: Obj) -> None:
        obj["status"] = {"phase": "Pending"}

    def validate(self, obj: Obj) -> list[FieldError]:
        errs: list[FieldError] = []
        return pvc_spec_errors(get_dict(obj, "spec", "spec", errs), "spec") + errs

    def validate_update(self, obj: Obj, old: Obj) -> list[FieldError]:
        """The spec is immutable but for a bound claim's storage request and an unset volumeName."""
        new_spec, old_spec = dict(as_dict(obj.get("spec"))), dict(as_dict(old.get("spec")))
        bindable = not old_spec.get("volumeName")  # binding may set volumeName once
        for spec in (new_spec, old_spec):
            spec.pop("volumeAttributesClassName", None)
            if bindable:
                spec.pop("volumeName", None)
        if peek(obj, "status", "phase") == "Bound":
            for spec in (new_spec, old_spec):
                requests = peek(spec, "resources", "requests")
                if isinstance(requests, dict):
                    spec["resources"] = {**spec["resources"],
                                         "requests": {k: v for k, v in requests.items() if k != "storage"}}
        if new_spec != old_spec:
            return [forbidden("spec", "spec is immutable after creation except resources.requests and "
                                      "volumeAttributesClassName for bound claims")]
        return []


# --- limit ranges and resource quotas ---

LIMIT_TYPES = ("Pod", "Container", "PersistentVolumeClaim")  # helper.IsStandardLimitRangeType


class LimitRangeStrategy(Strategy):
    def default(self, obj: Obj) -> None:
        # SetDefaults_LimitRangeItem: containers get default limits from max, requests from default or min
        for item in dict_items(child(obj, "spec") or {}, "limits"):
            if item.get("type") != "Container":
                continue
            default, request = child(item, "default"), child(item, "defaultRequest")
            if default is None or request is None:
                continue
            for key, value in as_dict(item.get("max")).items():
                default.setdefault(key, value)
            for source in (default, as_dict(item.get("min"))):
                for key, value in source.items():
                    request.setdefault(key, value)

    def validate(self, obj: Obj) -> list[FieldError]:
        errs: list[FieldError] = []
        seen: set[str] = set()
        spec = get_dict(obj, "spec", "spec", errs)
        for path, item in get_dicts(spec, "limits", "spec.limits", errs):
            limit_type = get_str(item, "type", f"{path}.type", errs)
            type_msgs = is_qualified_name(limit_type)
            errs.extend(invalid(f"{path}.type", limit_type, msg) for msg in type_msgs)
            if not type_msgs and "/" not in limit_type and limit_type not in LIMIT_TYPES:
                errs.append(invalid(f"{path}.type", limit_type,
                                    "must be a standard limit type or fully qualified"))
            if limit_type in seen:
                errs.append(duplicate(f"{path}.type", limit_type))
            seen.add(limit_type)
            for key in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio"):
                for name, value in get_dict(item, key, f"{path}.{key}", errs).items():
                    errs.extend(quantity_errors(value, f"{path}.{key}[{name}]"))
            if limit_type == "Pod":
                errs.extend(forbidden(f"{path}.{key}", "may not be specified when `type` is 'Pod'")
                            for key in ("default", "defaultRequest") if item.get(key))
        return errs


QUOTA_SCOPES = ("Terminating", "NotTerminating", "BestEffort", "NotBestEffort", "PriorityClass",
                "CrossNamespacePodAffinity", "VolumeAttributesClass")  # helper.IsStandardResourceQuotaScope
_QUOTA_RESOURCES = {
    "pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
    "persistentvolumeclaims", "services.nodeports", "services.loadbalancers", "cpu", "memory",
    "ephemeral-storage", "requests.cpu", "requests.memory", "requests.storage", "requests.ephemeral-storage",
    "limits.cpu", "limits.memory", "limits.ephemeral-storage",
}  # helper.IsStandardQuotaResourceName, plus the hugepages prefixes below
_INTEGER_RESOURCES = {"pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
                      "persistentvolumeclaims", "services.nodeports", "services.loadbalancers"}


def _quota_errors(hard: Obj, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for name, value in hard.items():
        res_path = f"{path}[{name}]"
        msgs = is_qualified_name(name)
        errs.extend(invalid(res_path, name, msg) for msg in msgs)
        standard = name in _QUOTA_RESOURCES or name.startswith(("hugepages-", "requests.hugepages-"))
        if not msgs and "/" not in name and not standard:
            errs.append(invalid(res_path, name, "must be a standard resource for quota"))
        errs.extend(quantity_errors(value, res_path))
        parsed = parse_quantity(value)
        fractional = isinstance(parsed, Decimal) and parsed != parsed.to_integral_value()
        if name in _INTEGER_RESOURCES and fractional:
            errs.append(invalid(res_path, value, "must be an integer"))
    return errs


class ResourceQuotaStrategy(Strategy):
    def validate(self, obj: Obj) -> list[FieldError]:
        errs: list[FieldError] = []
        spec = get_dict(obj, "spec", "spec", errs)
        errs.extend(_quota_errors(get_dict(spec, "hard", "spec.hard", errs), "spec.hard"))
        scopes = get_strs(spec, "scopes", "spec.scopes", errs)
        if any(scope not in QUOTA_SCOPES for scope in scopes):
            errs.append(invalid("spec.scopes", scopes, "unsupported scope"))
        for pair in (("BestEffort", "NotBestEffort"), ("Terminating", "NotTerminating")):
            if all(scope in scopes for scope in pair):
                errs.append(invalid("spec.scopes", scopes, "conflicting scopes"))
        return errs

    def validate_update(self, obj: Obj, old: Obj) -> list[FieldError]:
        new_scopes, old_scopes = peek(obj, "spec", "scopes") or [], peek(old, "spec", "scopes") or []
        if isinstance(new_scopes, list) and set(map(str, new_scopes)) != set(map(str, old_scopes)):
            return [invalid("spec.scopes", new_scopes, FIELD_IMMUTABLE)]
        return []


# --- services ---

SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]  # sorted, as sets.List prints them
IP_FAMILY_POLICIES = ["PreferDualStack", "RequireDualStack", "SingleStack"]
TRAFFIC_POLICIES = ["Cluster", "Local"]
TRAFFIC_DISTRIBUTIONS = ["PreferClose", "PreferSameZone", "PreferSameNode"]
MAX_AFFINITY_SECONDS = 86400  # core.MaxClientIPServiceAffinitySeconds
DEFAULT_AFFINITY_SECONDS = 10800  # v1.DefaultClientIPServiceAffinitySeconds
SERVICE_CIDR = "10.96.0.0/12"  # kubeadm's default --service-cluster-ip-range
NODE_PORT_RANGE = (30000, 32767)  # the default --service-node-port-range
HEALTH_CHECK_ONLY_MSG = "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"


def is_headless(spec: Obj) -> bool:
    ips = spec.get("clusterIPs")
    return isinstance(ips, list) and bool(ips) and ips[0] == "None"


def externally_accessible(spec: Obj) -> bool:
    """apiservice.ExternallyAccessible."""
    kind = spec.get("type")
    return kind in ("LoadBalancer", "NodePort") or (kind == "ClusterIP" and bool(spec.get("externalIPs")))


def needs_cluster_ip(svc: Obj) -> bool:
    """Whether the allocator must assign spec.clusterIP: not ExternalName, not headless, not yet set."""
    spec = svc.get("spec")
    return isinstance(spec, dict) and spec.get("type") != "ExternalName" and not spec.get("clusterIP")


def needs_node_ports(svc: Obj) -> bool:
    spec = svc.get("spec")
    return isinstance(spec, dict) and (spec.get("type") == "NodePort" or (
        spec.get("type") == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is not False))


def _spread_pick(used: set[int], seed: str, low: int, high: int) -> int | None:
    """A free offset in [low, high): the seed's hash picks the start, probing upwards from there."""
    span = high - low
    if span <= 0:
        return None
    start = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big") % span
    return next((low + (start + i) % span for i in range(span) if low + (start + i) % span not in used), None)


def allocate_cluster_ip(used: set[str], cidr: str = SERVICE_CIDR, *, seed: str) -> str:
    """A free service IP in `cidr`, deterministic for a seed (e.g. "namespace/name") yet spread out.

    Skips the network and broadcast addresses and the first host, which the `default/kubernetes`
    Service owns. Like kube's allocator (ServiceIPStaticSubrange), it prefers the upper band and
    leaves the lower one (1/16 of the range, 16 to 256 addresses) to static assignments.
    Raises ValueError("range is full") when nothing is left.
    """
    network = ipaddress.ip_network(cidr)
    size = network.num_addresses
    taken = {int(ipaddress.ip_address(ip)) - int(network.network_address) for ip in used if is_ip(ip)}
    reserved = min(max(16, size // 16), 256)
    for low, high in ((reserved, size - 1), (2, min(reserved, size - 1))):
        offset = _spread_pick(taken, seed, max(low, 2), high)
        if offset is not None:
            return str(network.network_address + offset)
    raise ValueError("range is full")


def allocate_node_port(used: set[int], *, seed: str, port_range: tuple[int, int] = NODE_PORT_RANGE) -> int:
    """A free node port (30000-32767), deterministic for a seed; ValueError("range is full") if none."""
    low, high = port_range
    offset = _spread_pick({p - low for p in used}, seed, 0, high - low + 1)
    if offset is None:
        raise ValueError("range is full")
    return low + offset


class ServiceStrategy(Strategy):
    # kube checks Service names as DNS-1035 labels; with RelaxedServiceNameValidation (1.34+)
    # a DNS-1123 label, which is the registry's "label" rule.
    name_rule = "label"

    def default(self, obj: Obj) -> None:
        spec = child(obj, "spec")
        if spec is None:
            return
        _default_service_spec(spec)
        if spec.get("type") == "LoadBalancer":
            for ingress in dict_items(peek(obj, "status", "loadBalancer") or {}, "ingress"):
                if ingress.get("ip") and ingress.get("ipMode") is None:
                    ingress["ipMode"] = "VIP"

    def prepare_for_create(self, obj: Obj) -> None:
        obj["status"] = {"loadBalancer": {}}

    def prepare_for_update(self, obj: Obj, old: Obj) -> None:
        spec, old_spec = obj.get("spec"), old.get("spec")
        if isinstance(spec, dict) and isinstance(old_spec, dict):
            _patch_allocated_values(spec, old_spec)
            _normalize_cluster_ips(spec, old_spec)
            _drop_type_dependent_fields(spec, old_spec)

    def validate(self, obj: Obj) -> list[FieldError]:
        errs: list[FieldError] = []
        return validate_service_spec(get_dict(obj, "spec", "spec", errs)) + errs

    def validate_update(self, obj: Obj, old: Obj) -> list[FieldError]:
        spec, old_spec = peek(obj, "spec"), peek(old, "spec")
        if not isinstance(spec, dict) or not isinstance(old_spec, dict):
            return []
        errs = _cluster_ip_update_errors(spec, old_spec)
        families, old_families = spec.get("ipFamilies") or [], old_spec.get("ipFamilies") or []
        if "ExternalName" not in (spec.get("type"), old_spec.get("type")) and families and old_families \
                and families[0] != old_families[0]:
            errs.append(invalid("spec.ipFamilies[0]", families, "may not change once set"))
        if _needs_health_check(spec) and _needs_health_check(old_spec) \
                and spec.get("healthCheckNodePort") != old_spec.get("healthCheckNodePort"):
            errs.append(forbidden("spec.healthCheckNodePort", "field is immutable"))
        return errs

    def field_values(self, obj: Obj) -> dict[str, str]:
        spec = obj.get("spec")
        return {"spec.clusterIP": text(peek(spec, "clusterIP")), "spec.type": text(peek(spec, "type"))}


def _default_service_spec(spec: Obj) -> None:
    """SetDefaults_Service, plus the IP-family and clusterIPs fields kube's allocator fills in."""
    if not spec.get("sessionAffinity"):
        spec["sessionAffinity"] = "None"
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP" and peek(spec, "sessionAffinityConfig", "clientIP",
                                                         "timeoutSeconds") is None:
        spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": DEFAULT_AFFINITY_SECONDS}}
    if not spec.get("type"):
        spec["type"] = "ClusterIP"
    for port in dict_items(spec, "ports"):
        if not port.get("protocol"):
            port["protocol"] = "TCP"
        if port.get("targetPort") in (None, 0, "") and "port" in port:
            port["targetPort"] = port["port"]
    kind = spec["type"]
    if externally_accessible(spec) and not spec.get("externalTrafficPolicy"):
        spec["externalTrafficPolicy"] = "Cluster"
    if spec.get("internalTrafficPolicy") is None and kind in ("ClusterIP", "NodePort", "LoadBalancer"):
        spec["internalTrafficPolicy"] = "Cluster"
    if kind == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        spec["allocateLoadBalancerNodePorts"] = True
    # NormalizeClusterIPs on create: an old client sets only the singular field
    if isinstance(spec.get("clusterIP"), str) and spec["clusterIP"] and not spec.get("clusterIPs"):
        spec["clusterIPs"] = [spec["clusterIP"]]
    if kind == "ExternalName":
        return
    # a single-stack IPv4 cluster; headless services without a selector ask for every family
    selectorless_headless = spec.get("clusterIP") == "None" and not spec.get("selector")
    if spec.get("ipFamilyPolicy") is None:
        spec["ipFamilyPolicy"] = "RequireDualStack" if selectorless_headless else "SingleStack"
    if not spec.get("ipFamilies"):
        spec["ipFamilies"] = ["IPv4"]


def _patch_allocated_values(spec: Obj, old: Obj) -> None:
    """patchAllocatedValues: an update that omits allocated values keeps the old ones (kubectl replace)."""
    if spec.get("type") != "ExternalName" and old.get("type") != "ExternalName":
        if not spec.get("clusterIP") and old.get("clusterIP"):
            spec["clusterIP"] = old["clusterIP"]
        if not spec.get("clusterIPs") and old.get("clusterIPs"):
            spec["clusterIPs"] = old["clusterIPs"]
        for key in ("ipFamilyPolicy", "ipFamilies"):
            if not spec.get(key) and old.get(key):
                spec[key] = old[key]
    if needs_node_ports({"spec": spec}) and needs_node_ports({"spec": old}):
        new_ports, old_ports = dict_items(spec, "ports"), dict_items(old, "ports")
        used = ({hashable(p.get("nodePort")) for p in new_ports}
                & {hashable(p.get("nodePort")) for p in old_ports})
        by_name = {hashable(p.get("name")): hashable(p.get("nodePort")) for p in old_ports}
        for port in new_ports:
            old_value = by_name.get(hashable(port.get("name")))
            if not port.get("nodePort") and old_value and old_value not in used:
                port["nodePort"] = old_value
    if _needs_health_check(spec) and _needs_health_check(old) and not spec.get("healthCheckNodePort"):
        spec["healthCheckNodePort"] = old.get("healthCheckNodePort")


def _normalize_cluster_ips(spec: Obj, old: Obj) -> None:
    """NormalizeClusterIPs on update: keep the singular and plural fields in step."""
    old_ip, new_ip = old.get("clusterIP") or "", spec.get("clusterIP") or ""
    if old.get("clusterIPs") and not spec.get("clusterIPs") and old_ip == new_ip:
        spec["clusterIPs"] = old["clusterIPs"]
    if old_ip != new_ip and spec.get("clusterIPs") == old.get("clusterIPs"):
        if new_ip:
            spec["clusterIPs"] = [new_ip]
        else:
            spec.pop("clusterIPs", None)


def _drop_type_dependent_fields(spec: Obj, old: Obj) -> None:
    """dropTypeDependentFields: fields of the old type go when the type changes, if left unchanged."""
    def drop_if_same(*keys: str) -> None:
        for key in keys:
            if key in spec and spec.get(key) == old.get(key):
                del spec[key]

    if spec.get("type") == "ExternalName" and old.get("type") != "ExternalName":
        drop_if_same("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy")
    if not needs_node_ports({"spec": spec}) and needs_node_ports({"spec": old}):
        old_ports = {hashable(p.get("nodePort")) for p in dict_items(old, "ports")}
        for port in dict_items(spec, "ports"):
            if hashable(port.get("nodePort")) in old_ports:
                port.pop("nodePort", None)
    if not _needs_health_check(spec) and _needs_health_check(old):
        drop_if_same("healthCheckNodePort")
    if spec.get("type") != "LoadBalancer" and old.get("type") == "LoadBalancer":
        drop_if_same("allocateLoadBalancerNodePorts", "loadBalancerClass")
    if not externally_accessible(spec) and externally_accessible(old):
        drop_if_same("externalTrafficPolicy")


def _needs_health_check(spec: Obj) -> bool:
    return spec.get("type") == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local"


def validate_service_spec(spec: Obj) -> list[FieldError]:
    """ValidateService's spec rules, in kube's order."""
    errs: list[FieldError] = []
    kind = get_str(spec, "type", "spec.type", errs)
    ports = get_list(spec, "ports", "spec.ports", errs)
    cluster_ips = get_strs(spec, "clusterIPs", "spec.clusterIPs", errs)
    headless = bool(cluster_ips) and cluster_ips[0] == "None"
    if not ports and not headless and kind != "ExternalName":
        errs.append(required("spec.ports"))
    if kind in ("LoadBalancer", "NodePort") and headless:
        errs.append(invalid("spec.clusterIPs[0]", "None", f"may not be set to 'None' for {kind} services"))
    elif kind == "ExternalName":
        errs.extend(_external_name_errors(spec, cluster_ips, errs))
    names: set[str] = set()
    for i, port in enumerate(ports):
        if typed(port, "object", f"spec.ports[{i}]", errs) is not None:
            errs.extend(_service_port_errors(port, len(ports) > 1, names, f"spec.ports[{i}]"))
    if spec.get("selector") is not None:
        errs.extend(validate_labels(spec.get("selector"), "spec.selector"))
    errs.extend(_session_affinity_errors(spec, errs))
    errs.extend(_cluster_ips_related_errors(spec, kind, cluster_ips, headless, errs))
    for i, ip in enumerate(get_strs(spec, "externalIPs", "spec.externalIPs", errs)):
        ip_path = f"spec.externalIPs[{i}]"
        errs.extend(non_special_ip_errors(ip, ip_path) if is_ip(ip) else [invalid(ip_path, ip, IP_MSG)])
    if not kind:
        errs.append(required("spec.type"))
    elif kind not in SERVICE_TYPES:
        errs.append(not_supported("spec.type", kind, SERVICE_TYPES))
    errs.extend(_port_uniqueness_errors(ports, kind))
    errs.extend(_load_balancer_errors(spec, kind, errs))
    errs.extend(_traffic_policy_errors(spec, errs))
    return errs


def _external_name_errors(spec: Obj, cluster_ips: list[str], errs: list[FieldError]) -> list[FieldError]:
    out = []
    if cluster_ips:
        out.append(forbidden("spec.clusterIPs", "may not be set for ExternalName services"))
    if spec.get("ipFamilies"):
        out.append(forbidden("spec.ipFamilies", "may not be set for ExternalName services"))
    if spec.get("ipFamilyPolicy") is not None:
        out.append(forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services"))
    cname = get_str(spec, "externalName", "spec.externalName", errs).removesuffix(".")
    if not cname:
        return [*out, required("spec.externalName")]
    return out + [invalid("spec.externalName", cname, msg) for msg in is_dns1123_subdomain(cname)]


def _service_port_errors(port: Obj, require_name: bool, names: set[str], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    name = get_str(port, "name", f"{path}.name", errs)
    if require_name and not name:
        errs.append(required(f"{path}.name"))
    elif name:
        errs.extend(invalid(f"{path}.name", name, msg) for msg in is_dns1123_label(name))
        if name in names:
            errs.append(duplicate(f"{path}.name", name))
        names.add(name)
    errs.extend(port_num_errors(f"{path}.port", get_int(port, "port", f"{path}.port", errs) or 0))
    errs.extend(_protocol_errors(get_str(port, "protocol", f"{path}.protocol", errs), f"{path}.protocol"))
    if port.get("targetPort") is not None:
        errs.extend(port_num_or_name_errors(port["targetPort"], f"{path}.targetPort"))
    if (app_protocol := typed(port.get("appProtocol"), "string", f"{path}.appProtocol", errs)) is not None:
        errs.extend(invalid(f"{path}.appProtocol", app_protocol, m) for m in is_qualified_name(app_protocol))
    node_port = get_int(port, "nodePort", f"{path}.nodePort", errs)
    if node_port:
        errs.extend(port_num_errors(f"{path}.nodePort", node_port))
    return errs


def _session_affinity_errors(spec: Obj, errs: list[FieldError]) -> list[FieldError]:
    affinity = get_str(spec, "sessionAffinity", "spec.sessionAffinity", errs)
    if not affinity:
        return [required("spec.sessionAffinity")]
    if affinity not in ("ClientIP", "None"):
        return [not_supported("spec.sessionAffinity", affinity, ["ClientIP", "None"])]
    config, path = spec.get("sessionAffinityConfig"), "spec.sessionAffinityConfig"
    if affinity == "None":
        return [] if config is None else [forbidden(path, "must not be set when session affinity is None")]
    why = "when session affinity type is ClientIP"
    if not isinstance(config, dict):
        return [required(path, why)]
    if not isinstance(config.get("clientIP"), dict):
        return [required(f"{path}.clientIP", why)]
    timeout = config["clientIP"].get("timeoutSeconds")
    if timeout is None:
        return [required(f"{path}.clientIP.timeoutSeconds", why)]
    if not isinstance(timeout, int) or isinstance(timeout, bool) or not 0 < timeout <= MAX_AFFINITY_SECONDS:
        return [invalid(f"{path}.clientIP.timeoutSeconds", timeout,
                        f"must be greater than 0 and less than {MAX_AFFINITY_SECONDS}")]
    return []


def _cluster_ips_related_errors(spec: Obj, kind: str, ips: list[str], headless: bool,
                                errs: list[FieldError]) -> list[FieldError]:
    """ValidateServiceClusterIPsRelatedFields, and what the allocator rejects in a single-stack cluster."""
    if kind == "ExternalName":
        return []
    out: list[FieldError] = []
    cluster_ip = get_str(spec, "clusterIP", "spec.clusterIP", errs)
    if cluster_ip and not ips:
        out.append(required("spec.clusterIPs"))
    elif cluster_ip and ips[0] != cluster_ip:
        out.append(invalid("spec.clusterIPs", ips, "first value must match `clusterIP`"))
    elif not cluster_ip and ips:
        out.append(invalid("spec.clusterIPs", ips, "must be empty when `clusterIP` is not specified"))
    families = get_strs(spec, "ipFamilies", "spec.ipFamilies", errs)
    for i, family in enumerate(families):
        if family not in ("IPv4", "IPv6"):
            out.append(not_supported(f"spec.ipFamilies[{i}]", family, ["IPv4", "IPv6"]))
        elif family != "IPv4":
            out.append(invalid(f"spec.ipFamilies[{i}]", family, "not configured on this cluster"))
        if family in families[:i]:
            out.append(duplicate(f"spec.ipFamilies[{i}]", family))
    policy = typed(spec.get("ipFamilyPolicy"), "string", "spec.ipFamilyPolicy", errs)
    if policy is not None and policy not in IP_FAMILY_POLICIES:
        out.append(not_supported("spec.ipFamilyPolicy", policy, IP_FAMILY_POLICIES))
    elif policy == "RequireDualStack" and not (headless and not spec.get("selector")):
        out.append(invalid("spec.ipFamilyPolicy", policy,
                           "this cluster is not configured for dual-stack services"))
    bad = False
    for i, ip in enumerate(ips):
        if i == 0 and ip == "None":
            if len(ips) > 1:
                bad = True
                out.append(invalid("spec.clusterIPs", ips, "'None' must be the first and only value"))
        elif not is_ip(ip):
            bad = True
            out.append(invalid(f"spec.clusterIPs[{i}]", ip, IP_MSG))
    if len(ips) > 2:
        out.append(invalid("spec.clusterIPs", ips, "may only hold up to 2 values"))
    if bad:
        return out
    versions = [ipaddress.ip_address(ip).version for ip in ips if ip != "None"]
    if len(ips) > 1 and len(set(versions)) != len(versions):
        out.append(invalid("spec.clusterIPs", ips, "may specify no more than one IP for each IP family"))
    if not headless:
        for i, (version, family) in enumerate(zip(versions, families, strict=False)):
            if family in ("IPv4", "IPv6") and family != f"IPv{version}":
                out.append(invalid(f"spec.clusterIPs[{i}]", ips[i],
                                   f"expected an {family} value as indicated by `ipFamilies[{i}]`"))
    return out


def _port_uniqueness_errors(ports: list[Any], kind: str) -> list[FieldError]:
    errs: list[FieldError] = []
    node_ports: set[tuple[Any, Any]] = set()
    seen: set[tuple[Any, Any]] = set()
    for i, port in enumerate(ports):
        if not isinstance(port, dict):
            continue
        path, protocol = f"spec.ports[{i}]", hashable(port.get("protocol"))
        if port.get("nodePort"):
            if kind == "ClusterIP":
                errs.append(forbidden(f"{path}.nodePort", "may not be used when `type` is 'ClusterIP'"))
            key = (protocol, hashable(port["nodePort"]))
            if key in node_ports:
                errs.append(duplicate(f"{path}.nodePort", port["nodePort"]))
            node_ports.add(key)
        key = (protocol, hashable(port.get("port")))
        if key in seen:
            errs.append(duplicate(path, {"port": port.get("port"), "protocol": protocol}))
        seen.add(key)
    return errs


def _load_balancer_errors(spec: Obj, kind: str, errs: list[FieldError]) -> list[FieldError]:
    out = []
    ranges = get_strs(spec, "loadBalancerSourceRanges", "spec.loadBalancerSourceRanges", errs)
    if ranges:
        path = "spec.LoadBalancerSourceRanges"  # sic, kube's capital L
        if kind != "LoadBalancer":
            out.append(forbidden(path, "may only be used when `type` is 'LoadBalancer'"))
        out.extend(invalid(f"{path}[{i}]", value.strip(), CIDR_MSG)
                   for i, value in enumerate(ranges) if not is_cidr(value.strip()))
    if spec.get("allocateLoadBalancerNodePorts") is not None and kind != "LoadBalancer":
        out.append(forbidden("spec.allocateLoadBalancerNodePorts",
                             "may only be used when `type` is 'LoadBalancer'"))
    if kind == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        out.append(required("allocateLoadBalancerNodePorts"))  # sic, kube leaves off "spec."
    lb_class = typed(spec.get("loadBalancerClass"), "string", "spec.loadBalancerClass", errs)
    if lb_class is not None:
        if kind != "LoadBalancer":
            out.append(forbidden("spec.loadBalancerClass", "may only be used when `type` is 'LoadBalancer'"))
        else:
            out.extend(invalid("spec.loadBalancerClass", lb_class, m) for m in is_qualified_name(lb_class))
    return out


def _traffic_policy_errors(spec: Obj, errs: list[FieldError]) -> list[FieldError]:
    out = []
    external = get_str(spec, "externalTrafficPolicy", "spec.externalTrafficPolicy", errs)
    if not externally_accessible(spec):
        if external:
            out.append(invalid("spec.externalTrafficPolicy", external,
                               "may only be set for externally-accessible services"))
    elif not external:
        out.append(required("spec.externalTrafficPolicy"))
    elif external not in TRAFFIC_POLICIES:
        out.append(not_supported("spec.externalTrafficPolicy", external, TRAFFIC_POLICIES))
    health = get_int(spec, "healthCheckNodePort", "spec.healthCheckNodePort", errs)
    if health and not _needs_health_check(spec):
        out.append(invalid("spec.healthCheckNodePort", health, HEALTH_CHECK_ONLY_MSG))
    elif health:
        out.extend(port_num_errors("spec.healthCheckNodePort", health))
    internal = typed(spec.get("internalTrafficPolicy"), "string", "spec.internalTrafficPolicy", errs)
    if internal is None and spec.get("type") in ("ClusterIP", "NodePort", "LoadBalancer"):
        out.append(required("spec.internalTrafficPolicy"))
    elif internal is not None and internal not in TRAFFIC_POLICIES:
        out.append(not_supported("spec.internalTrafficPolicy", internal, TRAFFIC_POLICIES))
    distribution = typed(spec.get("trafficDistribution"), "string", "spec.trafficDistribution", errs)
    if distribution is not None and distribution not in TRAFFIC_DISTRIBUTIONS:
        out.append(not_supported("spec.trafficDistribution", distribution, TRAFFIC_DISTRIBUTIONS))
    return out


def _cluster_ip_update_errors(spec: Obj, old: Obj) -> list[FieldError]:
    """validateUpgradeDowngradeClusterIPs: allocated IPs stay, but for a dual-stack downgrade."""
    if "ExternalName" in (spec.get("type"), old.get("type")) or (is_headless(spec) and is_headless(old)):
        return []
    new_ips, old_ips = spec.get("clusterIPs") or [], old.get("clusterIPs") or []
    if not isinstance(new_ips, list) or not isinstance(old_ips, list):
        return []
    if len(new_ips) == len(old_ips):
        return [invalid(f"spec.clusterIPs[{i}]", new_ips, "may not change once set")
                for i, ip in enumerate(old_ips) if ip != new_ips[i]]
    if len(new_ips) < len(old_ips):
        if not new_ips:
            return [invalid("spec.clusterIPs[0]", new_ips, "primary clusterIP can not be unset")]
        errs = [] if new_ips[0] == old_ips[0] else [
            invalid("spec.clusterIPs[0]", new_ips, "may not change once set")]
        if spec.get("ipFamilyPolicy") != "SingleStack":
            errs.append(invalid("spec.ipFamilyPolicy", spec.get("ipFamilyPolicy"),
                                "must be set to 'SingleStack' when releasing the secondary clusterIP"))
        return errs
    if old_ips and new_ips[0] != old_ips[0]:
        return [invalid("spec.clusterIPs[0]", new_ips, "may not change once set")]
    return []


KUBERNETES_SERVICE: Obj = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {
        "name": "kubernetes",
        "namespace": "default",
        "labels": {"component": "apiserver", "provider": "kubernetes"},
    },
    "spec": {
        "clusterIP": "10.96.0.1",
        "clusterIPs": ["10.96.0.1"],
        "internalTrafficPolicy": "Cluster",
        "ipFamilies": ["IPv4"],
        "ipFamilyPolicy": "SingleStack",
        "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
        "sessionAffinity": "None",
        "type": "ClusterIP",
    },
    "status": {"loadBalancer": {}},
}


# --- the registry entries ---

TYPES: list[ResourceType] = [
    ResourceType("", "v1", "Namespace", "namespaces", "namespace", False, ("ns",),
                 verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
                 subresources=("status",), strategy=NamespaceStrategy()),
    ResourceType("", "v1", "ConfigMap", "configmaps", "configmap", True, ("cm",),
                 strategy=ConfigMapStrategy()),
    ResourceType("", "v1", "Secret", "secrets", "secret", True, strategy=SecretStrategy()),
    ResourceType("", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", True, ("sa",)),
    ResourceType("", "v1", "Endpoints", "endpoints", "endpoints", True, ("ep",),
                 strategy=EndpointsStrategy()),
    ResourceType("", "v1", "Event", "events", "event", True, ("ev",), strategy=EventStrategy()),
    ResourceType("", "v1", "Node", "nodes", "node", False, ("no",), subresources=("status",),
                 strategy=NodeStrategy()),
    ResourceType("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", "persistentvolumeclaim", True,
                 ("pvc",), subresources=("status",), strategy=PersistentVolumeClaimStrategy()),
    ResourceType("", "v1", "LimitRange", "limitranges", "limitrange", True, ("limits",),
                 strategy=LimitRangeStrategy()),
    ResourceType("", "v1", "ResourceQuota", "resourcequotas", "resourcequota", True, ("quota",),
                 subresources=("status",), strategy=ResourceQuotaStrategy()),
    ResourceType("", "v1", "Service", "services", "service", True, ("svc",), ("all",),
                 subresources=("status",), strategy=ServiceStrategy()),
]
