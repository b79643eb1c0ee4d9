"""Pod spec defaults and validation, shared by pods and every workload's pod template.

Follows Kubernetes 1.35: pkg/apis/core/v1/defaults.go (SetDefaults_PodSpec, _Container, _Volume,
_Probe, ...) and pkg/apis/core/validation/validation.go (ValidatePodSpec, ValidatePodTemplateSpec),
with kube's field paths and messages for the rules clients hit most. Objects are JSON as clients
sent it: a mistyped field becomes a FieldError, never an exception.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from machinery import (
    BadRequest,
    FieldError,
    LabelSelector,
    duplicate,
    forbidden,
    invalid,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_valid_label_value,
    label_selector_from_dict,
    not_supported,
    required,
    type_invalid,
    validate_annotations,
    validate_label_key,
    validate_labels,
)

Obj = dict[str, Any]

DEFAULT_TERMINATION_GRACE_PERIOD = 30  # v1.DefaultTerminationGracePeriodSeconds
DEFAULT_SCHEDULER = "default-scheduler"  # v1.DefaultSchedulerName
TERMINATION_MESSAGE_PATH = "/dev/termination-log"  # v1.TerminationMessagePathDefault
DEFAULT_FILE_MODE = 0o644  # v1.{Secret,ConfigMap,DownwardAPI,Projected}VolumeSourceDefaultMode
TOKEN_EXPIRATION_SECONDS = 3600  # SetDefaults_ServiceAccountTokenProjection: one hour
MAX_INT32 = 2**31 - 1  # math.MaxInt32, the bound of kube's int32 fields

NON_NEGATIVE = "must be greater than or equal to 0"  # apimachineryvalidation.IsNegativeErrorMsg
PORT_RANGE = "must be between 1 and 65535, inclusive"  # validation.IsValidPortNum
SELECTOR_MISMATCH = "`selector` does not match template `labels`"
QUANTITY_FORMAT = ("quantities must match the regular expression "
                   "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
FILE_MODE_RANGE = "must be a number between 0 and 0777 (octal), both inclusive"  # fileModeErrorMsg
ENV_NAME = "a valid environment variable name must consist only of printable ASCII characters other than '='"

# Volume sources in the order validateVolumeSource checks them (their JSON names).
VOLUME_SOURCES = (
    "emptyDir", "hostPath", "gitRepo", "gcePersistentDisk", "awsElasticBlockStore", "secret", "nfs",
    "iscsi", "glusterfs", "flocker", "persistentVolumeClaim", "rbd", "cinder", "cephfs", "quobyte",
    "downwardAPI", "fc", "flexVolume", "configMap", "azureFile", "vsphereVolume", "photonPersistentDisk",
    "portworxVolume", "azureDisk", "storageos", "projected", "scaleIO", "csi", "ephemeral", "image",
)
CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


# --- reading decoded JSON ---


def ensure_object(obj: Obj, key: str) -> Obj | None:
    """`obj[key]`, created as {} when absent or null (Go's zero struct); None when mistyped."""
    if obj.get(key) is None:
        obj[key] = {}
    value = obj[key]
    return value if isinstance(value, dict) else None


def as_object(value: Any) -> Obj:
    """`value` when it is a JSON object, else {} (how Go reads a mistyped or absent struct)."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """`value` when it is a JSON array, else []."""
    return value if isinstance(value, list) else []


def objects(value: Any) -> Iterator[Obj]:
    """The object items of a list, skipping junk (defaulting leaves junk for validation to report)."""
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, dict))


def _zero(value: Any) -> bool:
    return value is None or value is False or value in ("", 0, [], {})


def normalized(value: Any) -> Any:
    """`value` with Go zero values dropped from objects, so absent, null, "" and {} compare equal."""
    if isinstance(value, dict):
        return {k: n for k, v in value.items() if not _zero(n := normalized(v))}
    if isinstance(value, list):
        return [normalized(item) for item in value]
    return value


def semantically_equal(a: Any, b: Any) -> bool:
    """apiequality.Semantic.DeepEqual for decoded JSON: zero values and absent fields are alike."""
    return bool(normalized(a) == normalized(b))


def as_selector(raw: Any) -> LabelSelector | None:
    """metav1.LabelSelectorAsSelector: null selects nothing, {} everything; None when invalid."""
    if raw is not None and not isinstance(raw, dict):
        return None
    try:
        return label_selector_from_dict(raw)
    except BadRequest:
        return None


class Report(list[FieldError]):
    """Field errors found so far, and typed reads of JSON that note mistyped fields as errors."""

    def string(self, obj: Obj, key: str, path: str) -> str:
        value = obj.get(key)
        if value is None or isinstance(value, str):
            return value or ""
        self.append(type_invalid(f"{path}.{key}", value, "string"))
        return ""

    def integer(self, obj: Obj, key: str, path: str) -> int | None:
        value = obj.get(key)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        self.append(type_invalid(f"{path}.{key}", value, "integer"))
        return None

    def object(self, obj: Obj, key: str, path: str) -> Obj | None:
        value = obj.get(key)
        if value is None or isinstance(value, dict):
            return value
        self.append(type_invalid(f"{path}.{key}", value, "object"))
        return None

    def items(self, obj: Obj, key: str, path: str) -> list[tuple[str, Obj]]:
        """(path, item) for each object in the list `obj[key]`; mistyped entries are reported."""
        value = obj.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.append(type_invalid(f"{path}.{key}", value, "array"))
            return []
        out = []
        for i, item in enumerate(value):
            if isinstance(item, dict):
                out.append((f"{path}.{key}[{i}]", item))
            else:
                self.append(type_invalid(f"{path}.{key}[{i}]", item, "object"))
        return out

    def non_negative(self, obj: Obj, key: str, path: str) -> int | None:
        """ValidateNonnegativeField on an optional integer."""
        value = self.integer(obj, key, path)
        if value is not None and value < 0:
            self.append(invalid(f"{path}.{key}", value, NON_NEGATIVE))
        return value


# --- quantities (k8s.io/apimachinery/pkg/api/resource) ---

_QUANTITY_RE = re.compile(
    r"([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?"
)
_SUFFIXES = {
    **{s: Decimal(1024) ** (i + 1) for i, s in enumerate(("Ki", "Mi", "Gi", "Ti", "Pi", "Ei"))},
    **{s: Decimal(10) ** e for s, e in (("n", -9), ("u", -6), ("m", -3), ("k", 3), ("M", 6), ("G", 9),
                                        ("T", 12), ("P", 15), ("E", 18))},
}


def parse_quantity(value: Any) -> Decimal | None:
    """A resource.Quantity's value (`500m`, `1Gi`, `1e3`, or a JSON number); None when malformed."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    if not isinstance(value, str) or not (m := _QUANTITY_RE.fullmatch(value)):
        return None
    number, suffix = Decimal(m.group(1)), m.group(2) or ""
    try:
        if suffix[:1] in ("e", "E"):
            return number.scaleb(int(suffix[1:]))
        return number * _SUFFIXES.get(suffix, Decimal(1))
    except InvalidOperation:
        return None


# --- defaults ---


def _set_default(obj: Obj, key: str, value: Any) -> None:
    """Set `key` when absent, null or "" (the Go zero values a defaulter replaces)."""
    if obj.get(key) in (None, ""):
        obj[key] = value


def _set_default_nonzero(obj: Obj, key: str, value: int) -> None:
    """Probe fields are plain int32s in Go: 0 means unset."""
    if obj.get(key) in (None, 0):
        obj[key] = value


_REFERENCE_RE = re.compile(
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::(?P<tag>\w[\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}))?",
    re.ASCII,
)


def image_tag(image: Any) -> str | None:
    """The tag parsers.ParseImageName finds: "latest" without tag or digest; None if unparseable."""
    if not isinstance(image, str) or not (m := _REFERENCE_RE.fullmatch(image)):
        return None
    if m.group("tag"):
        return m.group("tag")
    return None if m.group("digest") else "latest"


def _default_handler(handler: Obj) -> None:
    """SetDefaults_HTTPGetAction, and GRPCAction.service's declarative default."""
    if isinstance(http := handler.get("httpGet"), dict):
        _set_default(http, "path", "/")
        _set_default(http, "scheme", "HTTP")
    if isinstance(grpc := handler.get("grpc"), dict) and grpc.get("service") is None:
        grpc["service"] = ""


def _default_field_ref(holder: Any) -> None:
    """SetDefaults_ObjectFieldSelector on holder.fieldRef."""
    if isinstance(holder, dict) and isinstance(ref := holder.get("fieldRef"), dict):
        _set_default(ref, "apiVersion", "v1")


def default_container(container: Obj) -> None:
    """SetDefaults_Container and the defaults of what a container holds (ports, env, probes)."""
    if container.get("imagePullPolicy") in (None, ""):
        latest = image_tag(container.get("image")) == "latest"
        container["imagePullPolicy"] = "Always" if latest else "IfNotPresent"
    _set_default(container, "terminationMessagePath", TERMINATION_MESSAGE_PATH)
    _set_default(container, "terminationMessagePolicy", "File")
    if container.get("resources") is None:
        container["resources"] = {}  # a plain struct in Go: always serialized
    for port in objects(container.get("ports")):
        _set_default(port, "protocol", "TCP")
    for env in objects(container.get("env")):
        _default_field_ref(env.get("valueFrom"))
    for key in PROBES:
        if isinstance(probe := container.get(key), dict):
            _default_handler(probe)
            for field, value in (("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1),
                                 ("failureThreshold", 3)):
                _set_default_nonzero(probe, field, value)
    if isinstance(lifecycle := container.get("lifecycle"), dict):
        for hook in ("postStart", "preStop"):
            if isinstance(handler := lifecycle.get(hook), dict):
                _default_handler(handler)


def default_volume(volume: Obj) -> None:
    """SetDefaults_Volume (no source means emptyDir) and the defaults of each source."""
    if not any(volume.get(key) is not None for key in VOLUME_SOURCES):
        volume["emptyDir"] = {}
    for key in ("secret", "configMap", "downwardAPI", "projected"):
        if isinstance(source := volume.get(key), dict) and source.get("defaultMode") is None:
            source["defaultMode"] = DEFAULT_FILE_MODE
    if isinstance(host_path := volume.get("hostPath"), dict) and host_path.get("type") is None:
        host_path["type"] = ""
    if isinstance(downward := volume.get("downwardAPI"), dict):
        for item in objects(downward.get("items")):
            _default_field_ref(item)
    if isinstance(projected := volume.get("projected"), dict):
        for source in objects(projected.get("sources")):
            if isinstance(token := source.get("serviceAccountToken"), dict):
                _set_default(token, "expirationSeconds", TOKEN_EXPIRATION_SECONDS)
            if isinstance(downward := source.get("downwardAPI"), dict):
                for item in objects(downward.get("items")):
                    _default_field_ref(item)
    ephemeral = volume.get("ephemeral")
    template = ephemeral.get("volumeClaimTemplate") if isinstance(ephemeral, dict) else None
    if isinstance(template, dict) and isinstance(claim := template.get("spec"), dict):
        _set_default(claim, "volumeMode", "Filesystem")


def default_pod_spec(spec: Any) -> None:
    """SetDefaults_PodSpec plus container and volume defaults: what every PodSpec gets, templates too."""
    if not isinstance(spec, dict):
        return
    _set_default(spec, "dnsPolicy", "ClusterFirst")
    _set_default(spec, "restartPolicy", "Always")
    if spec.get("securityContext") is None:
        spec["securityContext"] = {}
    if spec.get("terminationGracePeriodSeconds") is None:
        spec["terminationGracePeriodSeconds"] = DEFAULT_TERMINATION_GRACE_PERIOD
    _set_default(spec, "schedulerName", DEFAULT_SCHEDULER)
    for key in CONTAINER_LISTS:
        for container in objects(spec.get(key)):
            default_container(container)
    for volume in objects(spec.get("volumes")):
        default_volume(volume)


def default_pod_template(holder: Obj, key: str = "template") -> None:
    """Default the PodTemplateSpec at holder[key] (created when absent, as Go's zero struct)."""
    template = ensure_object(holder, key)
    if template is not None and (spec := ensure_object(template, "spec")) is not None:
        default_pod_spec(spec)


# --- small kube checks ---


def _name_errors(value: str, path: str, check: Any) -> list[FieldError]:
    return [invalid(path, value, msg) for msg in check(value)]


def port_number_errors(value: Any, path: str) -> list[FieldError]:
    """validation.IsValidPortNum."""
    return [] if isinstance(value, int) and 1 <= value <= 65535 else [invalid(path, value, PORT_RANGE)]


def port_name_messages(name: str) -> list[str]:
    """validation.IsValidPortName (IANA_SVC_NAME)."""
    msgs = []
    if len(name) > 15:
        msgs.append("must be no more than 15 characters")
    if not re.fullmatch(r"[-a-z0-9]+", name):
        msgs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search(r"[a-z]", name):
        msgs.append("must contain at least one letter (a-z)")
    if "--" in name:
        msgs.append("must not contain consecutive hyphens")
    if name.startswith("-") or name.endswith("-"):
        msgs.append("must not begin or end with a hyphen")
    return msgs


def port_num_or_name_errors(value: Any, path: str) -> list[FieldError]:
    """ValidatePortNumOrName: an IntOrString; absent reads as the integer 0."""
    if isinstance(value, str):
        return [invalid(path, value, msg) for msg in port_name_messages(value)]
    return port_number_errors(0 if value is None else value, path)


def _one_of(value: str, path: str, supported: list[str]) -> list[FieldError]:
    """The usual enum check: Required when empty, else Unsupported value."""
    if not value:
        return [required(path)]
    return [] if value in supported else [not_supported(path, value, supported)]


# --- containers ---


def _validate_ports(r: Report, container: Obj, path: str) -> None:
    names: set[str] = set()
    for pp, port in r.items(container, "ports", path):
        if name := r.string(port, "name", pp):
            if msgs := port_name_messages(name):
                r.extend(invalid(f"{pp}.name", name, msg) for msg in msgs)
            elif name in names:
                r.append(duplicate(f"{pp}.name", name))
            else:
                names.add(name)
        container_port = r.integer(port, "containerPort", pp)
        if not container_port:
            r.append(required(f"{pp}.containerPort"))
        else:
            r.extend(port_number_errors(container_port, f"{pp}.containerPort"))
        if host_port := r.integer(port, "hostPort", pp):
            r.extend(port_number_errors(host_port, f"{pp}.hostPort"))
        r.extend(_one_of(r.string(port, "protocol", pp), f"{pp}.protocol", ["SCTP", "TCP", "UDP"]))


_ENV_FIELD_PATHS = ["metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
                    "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP",
                    "status.podIPs"]  # validEnvDownwardAPIFieldPathExpressions, sorted
# What ConvertDownwardAPIFieldLabel accepts for v1 pods, beyond subscripted labels and annotations.
_POD_FIELD_LABELS = {*_ENV_FIELD_PATHS, "metadata.labels", "metadata.annotations", "spec.restartPolicy",
                     "spec.schedulerName", "status.phase"}
_SUBSCRIPTED = re.compile(r"(metadata\.(?:labels|annotations))\['(.*)'\]")


def _env_name_errors(name: str, path: str) -> list[FieldError]:
    """validation.IsRelaxedEnvVarName (RelaxedEnvironmentVariableValidation is GA)."""
    if all(" " <= ch <= "~" and ch != "=" for ch in name):
        return []
    return [invalid(path, name, ENV_NAME)]


def _validate_key_ref(r: Report, ref: Obj, path: str) -> None:
    """validateConfigMapKeySelector / validateSecretKeySelector."""
    name = r.string(ref, "name", path)
    r.extend(_name_errors(name, f"{path}.name", is_dns1123_subdomain))
    if not (key := r.string(ref, "key", path)):
        r.append(required(f"{path}.key"))
    elif not re.fullmatch(r"[-._a-zA-Z0-9]+", key):
        r.append(invalid(f"{path}.key", key, "a valid config key must consist of alphanumeric characters, "
                                             "'-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or "
                                             "'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"))


def _validate_field_ref(r: Report, ref: Obj, path: str) -> None:
    """validateObjectFieldSelector with the env var expressions."""
    if not r.string(ref, "apiVersion", path):
        r.append(required(f"{path}.apiVersion"))
        return
    if not (field_path := r.string(ref, "fieldPath", path)):
        r.append(required(f"{path}.fieldPath"))
        return
    if subscripted := _SUBSCRIPTED.fullmatch(field_path):
        key = subscripted.group(2)
        key = key.lower() if subscripted.group(1) == "metadata.annotations" else key
        r.extend(validate_label_key(key, path))
    elif field_path not in _POD_FIELD_LABELS:
        r.append(invalid(f"{path}.fieldPath", field_path,
                         f"error converting fieldPath: field label not supported: {field_path}"))
    elif field_path not in _ENV_FIELD_PATHS:
        r.append(not_supported(f"{path}.fieldPath", field_path, _ENV_FIELD_PATHS))


def _validate_env(r: Report, container: Obj, path: str) -> None:
    for ep, env in r.items(container, "env", path):
        name = r.string(env, "name", ep)
        r.extend(_env_name_errors(name, f"{ep}.name") if name else [required(f"{ep}.name")])
        if (value_from := r.object(env, "valueFrom", ep)) is None:
            continue
        vp = f"{ep}.valueFrom"
        sources = [k for k in ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef")
                   if value_from.get(k) is not None]
        for key in sources:
            if (ref := r.object(value_from, key, vp)) is None:
                continue
            if key == "fieldRef":
                _validate_field_ref(r, ref, f"{vp}.fieldRef")
            elif key == "resourceFieldRef":
                if not r.string(ref, "resource", f"{vp}.resourceFieldRef"):
                    r.append(required(f"{vp}.resourceFieldRef.resource"))
            else:
                _validate_key_ref(r, ref, f"{vp}.{key}")
        if not sources:
            r.append(invalid(vp, "", "must specify one of: `fieldRef`, `resourceFieldRef`, "
                                     "`configMapKeyRef` or `secretKeyRef`"))
        elif r.string(env, "value", ep):
            r.append(invalid(vp, "", "may not be specified when `value` is not empty"))
        elif len(sources) > 1:
            r.append(invalid(vp, "", "may not have more than one field specified at a time"))


def _validate_env_from(r: Report, container: Obj, path: str) -> None:
    for ep, source in r.items(container, "envFrom", path):
        if prefix := r.string(source, "prefix", ep):
            r.extend(_env_name_errors(prefix, f"{ep}.prefix"))
        refs = [k for k in ("configMapRef", "secretRef") if source.get(k) is not None]
        for key in refs:
            if (ref := r.object(source, key, ep)) is not None and not r.string(ref, "name", f"{ep}.{key}"):
                r.append(required(f"{ep}.{key}.name"))
        if not refs:
            r.append(invalid(f"{path}.envFrom", "", "must specify one of: `configMapRef` or `secretRef`"))
        elif len(refs) > 1:
            r.append(invalid(f"{path}.envFrom", "", "may not have more than one field specified at a time"))


def _validate_mounts(r: Report, container: Obj, path: str, volumes: set[str]) -> None:
    mount_paths: set[str] = set()
    for mp, mount in r.items(container, "volumeMounts", path):
        name = r.string(mount, "name", mp)
        if not name:
            r.append(required(f"{mp}.name"))
        if name not in volumes:
            r.append(FieldError("FieldValueNotFound", f"{mp}.name", "", name, True))
        mount_path = r.string(mount, "mountPath", mp)
        if not mount_path:
            r.append(required(f"{mp}.mountPath"))
        if mount_path in mount_paths:
            r.append(invalid(f"{mp}.mountPath", mount_path, "must be unique"))
        mount_paths.add(mount_path)


def _validate_resources(r: Report, container: Obj, path: str) -> None:
    """The quantity checks of ValidateContainerResourceRequirements (resource names unchecked)."""
    if (resources := r.object(container, "resources", path)) is None:
        return
    rp = f"{path}.resources"
    parsed: dict[str, dict[str, Decimal]] = {}
    for kind in ("limits", "requests"):
        parsed[kind] = {}
        for name, raw in (r.object(resources, kind, rp) or {}).items():
            qp = f"{rp}.{kind}[{name}]"
            if (quantity := parse_quantity(raw)) is None:
                r.append(invalid(qp, raw, QUANTITY_FORMAT))
            elif quantity < 0:
                r.append(invalid(qp, raw, NON_NEGATIVE))
            else:
                parsed[kind][name] = quantity
    limits = resources.get("limits") or {}
    for name, request in parsed["requests"].items():
        if name in parsed["limits"] and request > parsed["limits"][name]:
            r.append(invalid(f"{rp}.requests[{name}]", resources["requests"][name],
                             f"must be less than or equal to {name} limit of {limits[name]}"))


def _validate_handler(r: Report, handler: Obj, path: str, kinds: tuple[str, ...]) -> None:
    """validateHandler: exactly one action, each checked for its required fields."""
    present = [k for k in kinds if handler.get(k) is not None]
    if not present:
        r.append(required(path, "must specify a handler type"))
    r.extend(forbidden(f"{path}.{k}", "may not specify more than 1 handler type") for k in present[1:])
    if not present or (action := r.object(handler, present[0], path)) is None:
        return
    ap = f"{path}.{present[0]}"
    if present[0] == "exec" and not action.get("command"):
        r.append(required(f"{ap}.command"))
    elif present[0] == "httpGet":
        if not r.string(action, "path", ap):
            r.append(required(f"{ap}.path"))
        r.extend(port_num_or_name_errors(action.get("port"), f"{ap}.port"))
        scheme = r.string(action, "scheme", ap)
        if scheme not in ("HTTP", "HTTPS"):
            r.append(not_supported(f"{ap}.scheme", scheme, ["HTTP", "HTTPS"]))
    elif present[0] in ("tcpSocket", "grpc"):
        r.extend(port_num_or_name_errors(action.get("port"), f"{ap}.port"))


_PROBE_ACTIONS = ("exec", "httpGet", "tcpSocket", "grpc")
_LIFECYCLE_ACTIONS = ("exec", "httpGet", "tcpSocket", "sleep")


def _validate_probes(r: Report, container: Obj, path: str) -> None:
    """validateLifecycle, then the liveness, readiness and startup probes."""
    if (lifecycle := r.object(container, "lifecycle", path)) is not None:
        for hook in ("postStart", "preStop"):
            if (handler := r.object(lifecycle, hook, f"{path}.lifecycle")) is not None:
                _validate_handler(r, handler, f"{path}.lifecycle.{hook}", _LIFECYCLE_ACTIONS)
    for key in PROBES:
        if (probe := r.object(container, key, path)) is None:
            continue
        pp = f"{path}.{key}"
        _validate_handler(r, probe, pp, _PROBE_ACTIONS)
        for field in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold",
                      "failureThreshold"):
            r.non_negative(probe, field, pp)
        if key != "readinessProbe" and probe.get("successThreshold") not in (None, 1):
            r.append(invalid(f"{pp}.successThreshold", probe["successThreshold"], "must be 1"))
        if key == "readinessProbe" and probe.get("terminationGracePeriodSeconds") is not None:
            r.append(invalid(f"{pp}.terminationGracePeriodSeconds", probe["terminationGracePeriodSeconds"],
                             "must not be set for readinessProbes"))


def _validate_container(r: Report, container: Obj, path: str, volumes: set[str]) -> str:
    """validateContainerCommon; returns the container's name."""
    name = r.string(container, "name", path)
    if not name:
        r.append(required(f"{path}.name"))
    else:
        r.extend(_name_errors(name, f"{path}.name", is_dns1123_label))
    if not r.string(container, "image", path):
        r.append(required(f"{path}.image"))
    policy = r.string(container, "terminationMessagePolicy", path)
    r.extend(_one_of(policy, f"{path}.terminationMessagePolicy", ["File", "FallbackToLogsOnError"]))
    _validate_ports(r, container, path)
    _validate_env(r, container, path)
    _validate_env_from(r, container, path)
    _validate_mounts(r, container, path, volumes)
    r.extend(_one_of(r.string(container, "imagePullPolicy", path), f"{path}.imagePullPolicy",
                     ["Always", "IfNotPresent", "Never"]))
    _validate_resources(r, container, path)
    return name


def _host_port_conflicts(r: Report, containers: list[tuple[str, Obj]]) -> None:
    """AccumulateUniqueHostPorts: one protocol/hostIP/hostPort per pod."""
    seen: set[str] = set()
    for path, container in containers:
        for i, port in enumerate(objects(container.get("ports"))):
            if not isinstance(host_port := port.get("hostPort"), int) or not host_port:
                continue
            key = f"{port.get('protocol') or ''}/{port.get('hostIP') or ''}/{host_port}"
            if key in seen:
                r.append(duplicate(f"{path}.ports[{i}].hostPort", key))
            seen.add(key)


def _validate_containers(r: Report, spec: Obj, path: str, volumes: set[str]) -> None:
    """validateContainers and validateInitContainers."""
    containers = r.items(spec, "containers", path)
    if spec.get("containers") in (None, []):
        r.append(required(f"{path}.containers"))
    names: set[str] = set()
    for cp, container in containers:
        name = _validate_container(r, container, cp, volumes)
        if name in names:
            r.append(duplicate(f"{cp}.name", name))
        names.add(name)
        _validate_probes(r, container, cp)
        if container.get("restartPolicy") is not None:
            r.append(forbidden(f"{cp}.restartPolicy", "may not be set for non-init containers"))
    _host_port_conflicts(r, containers)
    for cp, container in r.items(spec, "initContainers", path):
        name = _validate_container(r, container, cp, volumes)
        restart = r.string(container, "restartPolicy", cp)
        if container.get("restartPolicy") is not None and restart != "Always":
            r.append(not_supported(f"{cp}.restartPolicy", container["restartPolicy"], ["Always"]))
        if name in names:
            r.append(duplicate(f"{cp}.name", name))
        elif name:
            names.add(name)
        _host_port_conflicts(r, [(cp, container)])
        if restart == "Always":
            _validate_probes(r, container, cp)
            continue
        r.extend(forbidden(f"{cp}.{key}", "may not be set for init containers without restartPolicy=Always")
                 for key in ("lifecycle", *PROBES) if container.get(key) is not None)


# --- volumes ---


def _validate_volume_source(kind: str, source: Any, path: str) -> list[FieldError]:
    if not isinstance(source, dict):
        return [type_invalid(path, source, "object")]
    errs = []
    needed = {"secret": "secretName", "configMap": "name", "persistentVolumeClaim": "claimName",
              "hostPath": "path", "nfs": "server"}.get(kind)
    if needed and not source.get(needed):
        errs.append(required(f"{path}.{needed}"))
    mode = source.get("defaultMode")
    bad_mode = mode is not None and not (isinstance(mode, int) and 0 <= mode <= 0o777)
    if kind in ("secret", "configMap") and bad_mode:
        errs.append(invalid(f"{path}.defaultMode", mode, FILE_MODE_RANGE))
    return errs


def _validate_volumes(r: Report, spec: Obj, path: str) -> set[str]:
    """ValidateVolumes; returns the names of the valid volumes, which mounts may refer to."""
    names: set[str] = set()
    for vp, volume in r.items(spec, "volumes", path):
        sources = [k for k in VOLUME_SOURCES if volume.get(k) is not None]
        errs = [forbidden(f"{vp}.{k}", "may not specify more than 1 volume type") for k in sources[1:]]
        if sources:
            errs = _validate_volume_source(sources[0], volume[sources[0]], f"{vp}.{sources[0]}") + errs
        else:
            errs.append(required(vp, "must specify a volume type"))
        name = r.string(volume, "name", vp)
        errs.extend(_name_errors(name, f"{vp}.name", is_dns1123_label) if name else [required(f"{vp}.name")])
        if name in names:
            errs.append(duplicate(f"{vp}.name", name))
        if errs:
            r.extend(errs)
        else:
            names.add(name)
    return names


# --- the pod spec ---


def _validate_tolerations(r: Report, spec: Obj, path: str) -> None:
    """ValidateTolerations."""
    for tp, toleration in r.items(spec, "tolerations", path):
        key, operator = r.string(toleration, "key", tp), r.string(toleration, "operator", tp)
        value, effect = r.string(toleration, "value", tp), r.string(toleration, "effect", tp)
        if key:
            r.extend(validate_label_key(key, f"{tp}.key"))
        elif operator != "Exists":
            r.append(invalid(f"{tp}.operator", operator, "operator must be Exists when `key` is empty, "
                                                         'which means "match all values and all keys"'))
        if toleration.get("tolerationSeconds") is not None and effect != "NoExecute":
            r.append(invalid(f"{tp}.effect", effect,
                             "effect must be 'NoExecute' when `tolerationSeconds` is set"))
        if operator in ("Equal", ""):
            if msgs := is_valid_label_value(value):
                r.append(invalid(f"{tp}.operator", value, ";".join(msgs)))
        elif operator == "Exists":
            if value:
                r.append(invalid(f"{tp}.operator", value, "value must be empty when `operator` is 'Exists'"))
        else:
            r.append(not_supported(f"{tp}.operator", operator, ["Equal", "Exists"]))
        if effect and effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            r.append(not_supported(f"{tp}.effect", effect, ["NoSchedule", "PreferNoSchedule", "NoExecute"]))


def _validate_host_network(r: Report, spec: Obj, path: str, is_pod: bool) -> None:
    """validatePodHostNetworkDeps: with hostNetwork, hostPort is containerPort (or unset in templates)."""
    if spec.get("hostNetwork") is not True:
        return
    for i, container in enumerate(objects(spec.get("containers"))):
        for j, port in enumerate(objects(container.get("ports"))):
            host, target = port.get("hostPort") or 0, port.get("containerPort") or 0
            if (is_pod or host != 0) and host != target:
                r.append(invalid(f"{path}.containers[{i}].ports[{j}].hostPort", host,
                                 "must match `containerPort` when `hostNetwork` is true"))


def validate_pod_spec(spec: Any, path: str, *, is_pod: bool = False) -> list[FieldError]:
    """ValidatePodSpec for the rules clients hit most; `is_pod` for a Pod rather than a template."""
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        return [type_invalid(path, spec, "object")]
    r = Report()
    grace = r.integer(spec, "terminationGracePeriodSeconds", path)
    if grace is None and spec.get("terminationGracePeriodSeconds") is None:
        r.append(required(f"{path}.terminationGracePeriodSeconds"))
    volumes = _validate_volumes(r, spec, path)
    _validate_containers(r, spec, path, volumes)
    _validate_host_network(r, spec, path, is_pod)
    r.extend(_one_of(r.string(spec, "restartPolicy", path), f"{path}.restartPolicy",
                     ["Always", "OnFailure", "Never"]))
    r.extend(_one_of(r.string(spec, "dnsPolicy", path), f"{path}.dnsPolicy",
                     ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]))
    r.extend(validate_labels(spec.get("nodeSelector"), f"{path}.nodeSelector"))
    for key in ("serviceAccountName", "nodeName"):
        if value := r.string(spec, key, path):
            r.extend(_name_errors(value, f"{path}.{key}", is_dns1123_subdomain))
    deadline = r.integer(spec, "activeDeadlineSeconds", path)
    if deadline is not None and not 1 <= deadline <= MAX_INT32:
        r.append(invalid(f"{path}.activeDeadlineSeconds", deadline,
                         f"must be between 1 and {MAX_INT32}, inclusive"))
    for key in ("hostname", "subdomain"):
        if value := r.string(spec, key, path):
            r.extend(_name_errors(value, f"{path}.{key}", is_dns1123_label))
    _validate_tolerations(r, spec, path)
    if value := r.string(spec, "priorityClassName", path):
        r.extend(_name_errors(value, f"{path}.priorityClassName", is_dns1123_subdomain))
    return list(r)


def validate_pod_template_spec(template: Any, path: str) -> list[FieldError]:
    """ValidatePodTemplateSpec: labels and annotations (kube reports them at `<path>.labels`), the spec."""
    if template is None:
        template = {}
    if not isinstance(template, dict):
        return [type_invalid(path, template, "object")]
    r = Report()
    meta = r.object(template, "metadata", path) or {}
    r.extend(validate_labels(meta.get("labels"), f"{path}.labels"))
    r.extend(validate_annotations(meta.get("annotations"), f"{path}.annotations"))
    spec = template.get("spec")
    r.extend(validate_pod_spec(spec, f"{path}.spec"))
    if isinstance(spec, dict) and spec.get("ephemeralContainers"):
        r.append(forbidden(f"{path}.spec.ephemeralContainers",
                           "ephemeral containers not allowed in pod template"))
    return list(r)


def template_labels(template: Any) -> Any:
    """The template's metadata.labels as sent (None when absent or the template is junk)."""
    meta = template.get("metadata") if isinstance(template, dict) else None
    return meta.get("labels") if isinstance(meta, dict) else None


def selector_mismatch(template: Any, path: str, selector: LabelSelector | None) -> list[FieldError]:
    """The template's labels must be selected by the owner's selector (skipped for no selector)."""
    labels = template_labels(template)
    have = labels if isinstance(labels, dict) else {}
    if selector is None or selector.matches(have):
        return []
    return [invalid(f"{path}.metadata.labels", labels, SELECTOR_MISMATCH)]


def validate_pod_template(
    template: Any, path: str, selector: LabelSelector | None, *, workload: str = "ReplicaSet"
) -> list[FieldError]:
    """A workload's pod template, as ValidatePodTemplateSpecForReplicaSet and its siblings check it.

    `selector` is the owner's converted selector (None skips the label match; an empty one matches
    all). `workload` picks the rules: "ReplicaSet" (also Deployments), "DaemonSet", "StatefulSet"
    (kube checks only labels and annotations of its template) or "Job" (restartPolicy OnFailure
    or Never; Jobs match their selector last, so they pass None and check it themselves).
    """
    errs = selector_mismatch(template, path, selector)
    if workload == "StatefulSet":
        meta = template.get("metadata") if isinstance(template, dict) else None
        meta = meta if isinstance(meta, dict) else {}
        errs += validate_labels(meta.get("labels"), f"{path}.labels")
        errs += validate_annotations(meta.get("annotations"), f"{path}.annotations")
    else:
        errs += validate_pod_template_spec(template, path)
    pod_spec = template.get("spec") if isinstance(template, dict) else None
    pod_spec = pod_spec if isinstance(pod_spec, dict) else {}
    restart = pod_spec.get("restartPolicy") or ""
    rp = f"{path}.spec.restartPolicy"
    if workload == "Job":
        if restart in ("Always", ""):
            errs.append(required(rp, 'valid values: "OnFailure", "Never"'))
        elif restart not in ("OnFailure", "Never"):
            errs.append(not_supported(rp, restart, ["OnFailure", "Never"]))
        return errs
    if restart != "Always":
        errs.append(not_supported(rp, restart, ["Always"]))
    if pod_spec.get("activeDeadlineSeconds") is not None:
        errs.append(forbidden(f"{path}.spec.activeDeadlineSeconds",
                              f"activeDeadlineSeconds in {workload} is not Supported"))
    return errs
