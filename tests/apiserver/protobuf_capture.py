"""Capture what the real kubectl sends as protobuf, and derive `apiserver/protobuf.py`'s field table from it.

`capture(kubectl, *args)` runs kubectl against a small HTTP server on 127.0.0.1 that serves just enough
discovery and objects, answers writes with plausible JSON, and records every request.

`derive()` re-derives the table (`python -m tests.apiserver.protobuf_capture` prints it, and with `--write`
puts it into apiserver/protobuf.py):

1. flags: each command in `COMMANDS` uses unique marker values (`mk10012`, 100012, ...) for its flags, and
   `kubectl ... --dry-run=client -o json` prints the same Go object as JSON (commands without a dry run,
   like auth can-i, have the JSON their flags document). `align` walks the JSON and the body together:
   a JSON field is the wire field that holds all of its values (the body is parsed blindly: every
   length-delimited value that parses as a message is searched too). A wire field holding the values of
   several JSON fields is an inline part, a Go embedded struct that protobuf nests and JSON flattens
   (`core.v1.Volume/2` holds the volume sources). Every list has two items, so a list is the wire field
   that repeats.
2. whole objects: kubectl re-sends objects it has read (`create job --from=cronjob/...` sends the job
   template, `certificate approve` the CSR, `auth reconcile -f` the RBAC objects), so the server serves
   objects built from the OpenAPI schema with a unique marker in every field. Booleans can't be unique:
   `BOOL_VARIANTS` captures give the n-th boolean of a message the bits of n+1, and the varint field with
   that bit pattern is it. IntOrString is served once as a string and once as an int.
3. zero values: a "sparse" object (every message present, no scalars) and all the flag captures show
   which scalar fields Go writes when zero (its non-pointer fields); where `--dry-run=client -o json` omits
   such a zero the field is `omitempty` and the decoder omits it too, otherwise the zero is kept (`*`).

Field types (string, int32, bytes, message, list, map) come from the OpenAPI schema
(`machinery.schemas.definitions()`), which names the messages.
"""

from __future__ import annotations

import base64
import datetime
import functools
import http.server
import json
import os
import struct
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from apiserver import protobuf
from machinery import ApiError
from machinery.schemas import definition_for, definitions

PROTOBUF = "application/vnd.kubernetes.protobuf"
KUBECTL_TIMEOUT = 30  # seconds per kubectl run

Obj = dict[str, Any]

# --------------------------------------------------------------------------------------------------
# The capture server

# (group, version, plural, kind, namespaced): what discovery offers, enough for the commands below.
RESOURCES = [
    ("", "v1", "pods", "Pod", True),
    ("", "v1", "configmaps", "ConfigMap", True),
    ("", "v1", "secrets", "Secret", True),
    ("", "v1", "namespaces", "Namespace", False),
    ("", "v1", "services", "Service", True),
    ("", "v1", "serviceaccounts", "ServiceAccount", True),
    ("", "v1", "resourcequotas", "ResourceQuota", True),
    ("", "v1", "nodes", "Node", False),
    ("apps", "v1", "deployments", "Deployment", True),
    ("apps", "v1", "replicasets", "ReplicaSet", True),
    ("batch", "v1", "jobs", "Job", True),
    ("batch", "v1", "cronjobs", "CronJob", True),
    ("rbac.authorization.k8s.io", "v1", "roles", "Role", True),
    ("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
    ("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True),
    ("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False),
    ("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", False),
    ("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True),
    ("networking.k8s.io", "v1", "ingresses", "Ingress", True),
    ("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", True),
    ("autoscaling", "v1", "horizontalpodautoscalers", "HorizontalPodAutoscaler", True),
    ("certificates.k8s.io", "v1", "certificatesigningrequests", "CertificateSigningRequest", False),
    ("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", False),
    ("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview", False),
    ("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", False),
]


def discovery() -> dict[str, Obj]:
    """Path -> the unaggregated discovery document kubectl falls back to."""
    by_gv: dict[tuple[str, str], list[Obj]] = {}
    for group, version, plural, kind, namespaced in RESOURCES:
        by_gv.setdefault((group, version), []).append({
            "name": plural, "singularName": kind.lower(), "namespaced": namespaced, "kind": kind,
            "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        })
        if plural == "deployments":  # autoscale looks for a scale subresource
            by_gv[(group, version)].append({"name": "deployments/scale", "namespaced": True, "kind": "Scale",
                                            "group": "autoscaling", "version": "v1", "verbs": ["get", "patch", "update"]})
    documents: dict[str, Obj] = {"/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}}
    groups: dict[str, list[Obj]] = {}
    for (group, version), resources in by_gv.items():
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        gv = f"{group}/{version}" if group else version
        documents[path] = {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}
        if group:
            groups.setdefault(group, []).append({"groupVersion": gv, "version": version})
    documents["/apis"] = {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        {"name": group, "versions": versions, "preferredVersion": versions[0]} for group, versions in groups.items()
    ]}
    documents["/version"] = {"major": "1", "minor": "35", "gitVersion": "v1.35.0", "platform": "linux/amd64"}
    return documents


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    content_type: str
    body: bytes

    @property
    def protobuf(self) -> bool:
        return self.content_type.split(";")[0].strip() == PROTOBUF


@dataclass
class Capture:
    """One kubectl run: its result and the requests it made."""

    result: subprocess.CompletedProcess[str]
    requests: list[Request]

    @property
    def writes(self) -> list[Request]:
        """The requests with protobuf bodies."""
        return [r for r in self.requests if r.protobuf]

    @property
    def body(self) -> bytes:
        """The one protobuf body of this run."""
        writes = self.writes
        assert len(writes) == 1, f"expected one protobuf body, got {[(r.method, r.path) for r in writes]}"
        return writes[0].body

    @property
    def last_body(self) -> bytes:
        """The last protobuf body (auth reconcile creates the namespace first)."""
        return self.writes[-1].body


def plausible_reply(request: Request) -> Obj:
    """A JSON answer kubectl is content with: the object it sent, with what its command reads back."""
    try:
        obj = protobuf.decode(request.body)
    except ApiError:
        obj = _bare_object(request.body)
    metadata = obj.setdefault("metadata", {})
    metadata.setdefault("name", "captured")
    metadata.setdefault("uid", "00000000-0000-0000-0000-000000000001")
    metadata.setdefault("resourceVersion", "1")
    kind = obj.get("kind")
    if kind == "SelfSubjectAccessReview":
        obj["status"] = {"allowed": True}
    elif kind == "SelfSubjectRulesReview":
        obj["status"] = {"resourceRules": [{"verbs": ["get"], "resources": ["pods"]}],
                         "nonResourceRules": [], "incomplete": False}
    elif kind == "SelfSubjectReview":
        obj["status"] = {"userInfo": {"username": "captured", "groups": ["system:authenticated"]}}
    elif kind == "TokenRequest":
        obj["status"] = {"token": "captured-token", "expirationTimestamp": "2030-01-01T00:00:00Z"}
    return obj


def _bare_object(body: bytes) -> Obj:
    """apiVersion and kind read by field number alone (for bodies the table can't read yet)."""
    try:
        api_version, kind, _ = envelope(body)
    except (ApiError, KeyError, AssertionError, UnicodeDecodeError):
        return {"apiVersion": "v1", "kind": "Status", "status": "Success"}
    return {"apiVersion": api_version, "kind": kind}


def envelope(body: bytes) -> tuple[str, str, bytes]:
    """(apiVersion, kind, raw) of a body, read by field number alone."""
    outer = {n: v for n, _, v in protobuf.fields(body[len(protobuf.MAGIC):])}
    type_meta = {n: v for n, _, v in protobuf.fields(_b(outer[1]))}
    return _b(type_meta[1]).decode(), _b(type_meta[2]).decode(), _b(outer[2])


def _b(value: int | bytes) -> bytes:
    assert isinstance(value, bytes), value
    return value


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    served: dict[str, Any]
    requests: list[Request]


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        size = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(size) if size else b""
        url = urlsplit(self.path)
        request = Request(self.command, url.path, parse_qs(url.query), self.headers.get("Content-Type") or "", body)
        self.server.requests.append(request)
        code, obj = self._answer(request)
        data = orjson.dumps(obj)
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _answer(self, request: Request) -> tuple[int, Any]:
        served = self.server.served.get(request.path)
        if request.method == "GET" and served is not None:
            return 200, served
        if request.method == "PATCH" and served is not None:
            return 200, served
        if request.method in ("POST", "PUT") and request.protobuf:
            return (201 if request.method == "POST" else 200), plausible_reply(request)
        if request.method == "DELETE":
            return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
        return 404, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                     "message": f"{request.path} not found", "reason": "NotFound", "code": 404}

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


def capture(kubectl: str, *args: str, served: Mapping[str, Any] | None = None,
            files: Mapping[str, bytes] | None = None, check: bool = True) -> Capture:
    """Run `kubectl args...` (or helm: any program taking `--kubeconfig`) against a fresh capture server, in
    namespace `default`; `{dir}` in an argument is the directory holding `files`, and HOME."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.served = {**discovery(), **(served or {})}
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with tempfile.TemporaryDirectory(prefix="pbcapture-") as tmp:
            for name, content in (files or {}).items():
                Path(tmp, name).parent.mkdir(parents=True, exist_ok=True)
                Path(tmp, name).write_bytes(content)
            config = Path(tmp, "kubeconfig")
            config.write_text(json.dumps({
                "apiVersion": "v1", "kind": "Config", "current-context": "c",
                "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{server.server_address[1]}"}}],
                "users": [{"name": "u", "user": {}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u", "namespace": "default"}}],
            }))
            command = [kubectl, "--kubeconfig", str(config), *(a.replace("{dir}", tmp) for a in args)]
            env = {**os.environ, "HOME": tmp, "KUBECTL_KUBERC": "false", "HELM_CACHE_HOME": f"{tmp}/helm-cache",
                   "HELM_CONFIG_HOME": f"{tmp}/helm-config", "HELM_DATA_HOME": f"{tmp}/helm-data"}
            result = subprocess.run(command, capture_output=True, text=True, timeout=KUBECTL_TIMEOUT, env=env)
    finally:
        server.shutdown()
        server.server_close()
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {result.returncode}: {result.stderr.strip()}")
    return Capture(result, list(server.requests))


def dry_run(kubectl: str, *args: str, served: Mapping[str, Any] | None = None,
            files: Mapping[str, bytes] | None = None) -> Obj:
    """`kubectl args... --dry-run=client -o json`: the Go object kubectl would send, as JSON."""
    split = args.index("--") if "--" in args else len(args)  # flags go before a command's own arguments
    flags = (*args[:split], "--dry-run=client", "-o", "json", *args[split:])
    result = capture(kubectl, *flags, served=served, files=files).result
    try:
        parsed: Obj = json.loads(result.stdout)
    except json.JSONDecodeError as err:
        raise AssertionError(f"{' '.join(args)} --dry-run=client printed no JSON: {result.stderr.strip()}") from err
    return parsed


# --------------------------------------------------------------------------------------------------
# The OpenAPI side: which JSON fields a message has, and of what shape


PREFIXES = {
    "io.k8s.api.": "",
    "io.k8s.apimachinery.pkg.apis.meta.v1.": "meta.v1.",
    "io.k8s.apimachinery.pkg.api.resource.": "resource.",
    "io.k8s.apimachinery.pkg.util.intstr.": "intstr.",
    "io.k8s.apimachinery.pkg.runtime.": "runtime.",
}


def short(definition: str) -> str:
    """io.k8s.api.core.v1.PodSpec -> core.v1.PodSpec (the table's message names)."""
    for long, brief in PREFIXES.items():
        if definition.startswith(long):
            return brief + definition[len(long):]
    return definition


def long_name(message: str) -> str:
    """The OpenAPI definition of a message; an inline part (`core.v1.Volume/2`) is its owner's."""
    message = message.split("/")[0]
    for long, brief in PREFIXES.items():
        if brief and message.startswith(brief):
            return long + message[len(brief):]
    return "io.k8s.api." + message


def root_message(api_version: str, kind: str) -> str:
    group, _, version = api_version.rpartition("/")
    name = definition_for(group, version, kind)
    if name is None:
        raise AssertionError(f"no OpenAPI definition for {api_version} {kind}")
    return short(name)


@dataclass(frozen=True)
class Shape:
    """What a JSON field is: a scalar or a message (special or not), maybe in a list or a map."""

    type: str  # string, bytes, int32, int64, bool, double, or a message name
    repeated: bool = False
    map: bool = False

    @property
    def scalar(self) -> bool:
        return self.type in protobuf.SCALARS

    @property
    def leaf(self) -> bool:
        """A scalar or a special message: one JSON value."""
        return self.scalar or self.type in protobuf.SPECIAL

    def spec(self, keep_zero: bool) -> str:
        star = "*" if keep_zero and not self.repeated and not self.map else ""
        return star + ("[]" if self.repeated else "map[string]" if self.map else "") + self.type


def _ref(schema: Mapping[str, Any]) -> str | None:
    if "allOf" in schema:
        schema = schema["allOf"][0]
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


def shape(schema: Mapping[str, Any]) -> Shape | None:
    """The shape of a property schema, or None for shapes protobuf doesn't have (free-form objects)."""
    ref = _ref(schema)
    if ref:
        return Shape(short(ref))
    kind = schema.get("type")
    types = set(kind) if isinstance(kind, list) else {kind}
    if "array" in types:
        item = shape(schema.get("items", {}))
        return None if item is None or item.repeated or item.map else Shape(item.type, repeated=True)
    if "object" in types:
        value = schema.get("additionalProperties")
        item = shape(value) if isinstance(value, Mapping) else None
        return None if item is None or item.repeated or item.map else Shape(item.type, map=True)
    if "string" in types:
        return Shape("bytes" if schema.get("format") == "byte" else "string")
    if "integer" in types:
        return Shape("int32" if schema.get("format") == "int32" else "int64")
    if "boolean" in types:
        return Shape("bool")
    if "number" in types:
        return Shape("double")
    return None


def properties(message: str) -> dict[str, Shape]:
    """JSON name -> shape of a message's fields (a top-level kind's apiVersion and kind excluded: they
    travel in the envelope)."""
    if message in SPECIAL_PARTS:
        return {name: Shape(kind) for name, kind in SPECIAL_PARTS[message].items()}
    schema = definitions()[long_name(message)]
    top = "x-kubernetes-group-version-kind" in schema
    out = {}
    for name, prop in sorted(schema.get("properties", {}).items()):
        found = shape(prop)
        if found is not None and not (top and name in ("apiVersion", "kind")):
            out[name] = found
    return out


# The parts of the messages whose JSON is one value, named as `apiserver.protobuf` reads them; their
# numbers are observed like any other field's.
SPECIAL_PARTS = {
    "meta.v1.Time": {"seconds": "int64", "nanos": "int32"},
    "meta.v1.MicroTime": {"seconds": "int64", "nanos": "int32"},
    "resource.Quantity": {"string": "string"},
    "intstr.IntOrString": {"type": "int64", "intVal": "int32", "strVal": "string"},
    "meta.v1.FieldsV1": {"raw": "bytes"},
    "runtime.RawExtension": {"raw": "bytes"},
}


def bool_codes(message: str) -> dict[str, int]:
    """A message's booleans numbered from 1: in variant v the n-th is set to bit v of n."""
    names = [name for name, prop in properties(message).items() if prop.type == "bool" and not prop.repeated
             and not prop.map]
    return {name: i + 1 for i, name in enumerate(names)}


# --------------------------------------------------------------------------------------------------
# Marker objects: a unique value in every field

BOOL_VARIANTS = 4  # bits for up to 15 booleans in one message (PodSpec has the most, 8)
TIME_BASE = 1_000_000_000  # marker times are this many seconds after the epoch, plus the marker number
INT_BASE = 100_000
QUANTITY_BASE = 7_000


@dataclass
class Markers:
    """Builds marker objects: every list has two items and every map two entries (so a repeated field
    shows as a repeated field number), every scalar a unique value. `variant` sets the booleans' bits
    and picks IntOrString's form (string in even variants, int in odd ones). A sparse object has every
    message and no scalar."""

    variant: int = 0
    sparse: bool = False
    count: int = 0

    def next(self) -> int:
        self.count += 1
        return self.count

    def message(self, message: str, seen: frozenset[str] = frozenset(), skip: frozenset[str] = frozenset()) -> Obj:
        obj: Obj = {}
        codes = bool_codes(message)
        for name, prop in properties(message).items():
            if name in skip:
                continue
            if name in codes:
                if not self.sparse:
                    obj[name] = bool(codes[name] >> self.variant & 1)
                continue
            value = self.value(prop, seen | {message})
            if value is not None:
                obj[name] = value
        return obj

    def value(self, prop: Shape, seen: frozenset[str]) -> Any:
        if (prop.repeated or prop.map) and self.sparse and prop.leaf:
            return None
        count = 1 if self.sparse else 2
        if prop.repeated:
            items = [self.single(prop.type, seen) for _ in range(count)]
            return None if items[0] is None else items
        if prop.map:
            entries = {f"mk{self.next():05d}": self.single(prop.type, seen) for _ in range(count)}
            return None if None in entries.values() else entries
        return self.single(prop.type, seen)

    def single(self, kind: str, seen: frozenset[str]) -> Any:
        if kind in seen:
            return None  # recursive types (none in the kinds we derive) would never end
        if kind not in protobuf.SCALARS and kind not in protobuf.SPECIAL:
            return self.message(kind, seen)
        if self.sparse or kind == "bool":
            return None
        n = self.next()
        if kind == "string":
            return f"mk{n:05d}"
        if kind == "bytes":
            return base64.b64encode(f"bk{n:05d}".encode()).decode()
        if kind in ("int32", "int64"):
            return INT_BASE + n
        if kind == "double":
            return n + 0.5
        if kind == "resource.Quantity":
            return str(QUANTITY_BASE + n)
        if kind == "intstr.IntOrString":
            return INT_BASE + n if self.variant % 2 else f"is{n:05d}"
        if kind in ("meta.v1.Time", "meta.v1.MicroTime"):
            text = datetime.datetime.fromtimestamp(TIME_BASE + n, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")
            return text + (f".{n:06d}Z" if kind == "meta.v1.MicroTime" else "Z")
        return {f"f:mk{n:05d}": {}}  # FieldsV1, RawExtension: raw JSON


def wire_values(kind: str, value: Any) -> list[tuple[tuple[int, Any], str]]:
    """((wire type, wire value), part of a special message) that a JSON leaf value becomes."""
    if kind == "string" and isinstance(value, str):
        return [((protobuf.BYTES, value.encode()), "")]
    if kind == "bytes" and isinstance(value, str):
        return [((protobuf.BYTES, base64.b64decode(value)), "")]
    if kind in ("int32", "int64") and isinstance(value, int) and not isinstance(value, bool):
        return [((protobuf.VARINT, value & 0xFFFFFFFFFFFFFFFF), "")]
    if kind == "double" and isinstance(value, float):
        return [((protobuf.FIXED64, struct.pack("<d", value)), "")]
    if kind == "resource.Quantity" and isinstance(value, str):
        return [((protobuf.BYTES, value.encode()), "string")]
    if kind == "intstr.IntOrString":
        if isinstance(value, str):
            return [((protobuf.BYTES, value.encode()), "strVal")]
        return [((protobuf.VARINT, value), "intVal")] if isinstance(value, int) else []
    if kind in ("meta.v1.Time", "meta.v1.MicroTime") and isinstance(value, str):
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        out = [((protobuf.VARINT, int(moment.timestamp())), "seconds")]
        if moment.microsecond:
            out.append(((protobuf.VARINT, moment.microsecond * 1000), "nanos"))
        return out
    if kind in ("meta.v1.FieldsV1", "runtime.RawExtension") and isinstance(value, dict):
        return [((protobuf.BYTES, orjson.dumps(value)), "raw")]
    return []


def distinctive(kind: str, value: Any) -> bool:
    """Can this value of kubectl's own JSON be told apart on the wire? (Markers always can.)"""
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        return len(value) >= 2  # "v1"
    if isinstance(value, int):
        return value >= 2  # 0 and 1 are everywhere (zero values, booleans, IntOrString's type)
    return isinstance(value, (float, dict))


def json_values(message: str, obj: Any, keep: Callable[[str, Any], bool]) -> list[tuple[tuple[int, Any], str]]:
    """Every leaf value (as `wire_values`) of a JSON object of `message`."""
    out: list[tuple[tuple[int, Any], str]] = []
    if not isinstance(obj, dict):
        return out
    props = properties(message)
    for name, value in obj.items():
        if name in props:
            out.extend(prop_values(props[name], value, keep))
    return out


def prop_values(prop: Shape, value: Any, keep: Callable[[str, Any], bool]) -> list[tuple[tuple[int, Any], str]]:
    if prop.repeated:
        items = value if isinstance(value, list) else []
    elif prop.map:
        items = list(value.values()) if isinstance(value, dict) else []
    else:
        items = [value]
    out: list[tuple[tuple[int, Any], str]] = []
    if prop.map and isinstance(value, dict):
        out.extend(wire_values("string", key)[0] for key in value if keep("string", key))
    for item in items:
        if prop.leaf:
            if keep(prop.type, item):
                out.extend(wire_values(prop.type, item))
        else:
            out.extend(json_values(prop.type, item, keep))
    return out


# --------------------------------------------------------------------------------------------------
# Alignment: walk a JSON object and its wire message together


def wire_values_in(wire: int, value: int | bytes) -> set[tuple[int, Any]]:
    """A value and, when it parses as a message, every value inside it (a string may parse as a message
    too: unique markers keep that harmless)."""
    out = {(wire, value)}
    if wire == protobuf.BYTES and value:
        try:
            inner = protobuf.fields(_b(value))
        except ApiError:
            return out
        for _number, w, v in inner:
            out |= wire_values_in(w, v)
    return out


@dataclass
class Instance:
    """One message of a captured object: where it is, its JSON and its wire form (and its inline parts')."""

    message: str
    obj: Obj
    buf: bytes
    parts: dict[str, bytes] = field(default_factory=dict)  # inline part name -> its wire form


@dataclass
class Observations:
    """What the captures showed: field numbers, inline parts, and which scalars are written when zero."""

    numbers: dict[tuple[str, str], int] = field(default_factory=dict)  # (message, JSON name) -> number
    inline: dict[tuple[str, int], str] = field(default_factory=dict)  # (message, number) -> inline part
    kinds: dict[tuple[str, str], str] = field(default_factory=dict)  # (apiVersion, kind) -> message
    omitted_zero: set[tuple[str, str]] = field(default_factory=set)  # zero on the wire, absent in Go's JSON
    printed_zero: set[tuple[str, str]] = field(default_factory=set)  # zero on the wire and in Go's JSON
    written_zero: set[tuple[str, str]] = field(default_factory=set)  # zero on the wire, absent in what was served
    unresolved: list[str] = field(default_factory=list)
    captures: dict[str, tuple[bytes, Any]] = field(default_factory=dict)  # name -> (body, the JSON it means)

    def record(self, message: str, name: str, number: int) -> None:
        known = self.numbers.setdefault((message, name), number)
        if known != number:
            raise AssertionError(f"{message}.{name} is field {known} in one capture and {number} in another")

    def record_inline(self, message: str, number: int) -> str:
        part = f"{message}/{number}"
        known = self.inline.setdefault((message, number), part)
        taken = [name for (m, name), n in self.numbers.items() if m == message and n == number]
        if taken:
            raise AssertionError(f"{message} field {number} is both an inline part and {taken}")
        return known


def align(obs: Observations, message: str, obj: Obj, buf: bytes, keep: Callable[[str, Any], bool],
          where: str, instances: dict[str, Instance]) -> None:
    """Record the field number of each JSON field of `obj` (a `message`) from where its values are in `buf`.

    A wire field holding the values of several JSON fields is an inline part (a Go embedded struct, which
    protobuf nests and JSON flattens); one holding a single JSON field's value deeper than that value's
    own shape puts is an inline part too.
    """
    instance = instances.setdefault(where, Instance(message, obj, buf))
    props = properties(message)
    occurrences: dict[int, list[tuple[int, int | bytes, set[tuple[int, Any]]]]] = {}
    for number, wire, value in protobuf.fields(buf):
        occurrences.setdefault(number, []).append((wire, value, wire_values_in(wire, value)))
    candidates: dict[str, set[int]] = {}
    for name, value in obj.items():
        wanted = {w for w, _ in prop_values(props[name], value, keep)} if name in props else set()
        if wanted:
            candidates[name] = {n for n, occs in occurrences.items()
                                if wanted <= set().union(*(seen for _, _, seen in occs))}
    holders = _holders(candidates)
    _lone_true(obs, message, obj, occurrences, holders)
    for name, fields_ in candidates.items():
        if not any(name in names for names in holders.values()):
            obs.unresolved.append(f"{where}.{name}: in none or several of the fields {sorted(fields_)} of {message}")
    for number, names in holders.items():
        occs = occurrences[number]
        if len(names) > 1 or not _direct(props[names[0]], obj[names[0]], occs, keep):
            part = obs.record_inline(message, number)
            instance.parts[part] = _b(occs[0][1])
            align(obs, part, {n: obj[n] for n in names}, _b(occs[0][1]), keep, f"{where}/{number}", instances)
            continue
        name = names[0]
        obs.record(message, name, number)
        _align_value(obs, props[name], obj[name], occs, keep, f"{where}.{name}", instances)


def _lone_true(obs: Observations, message: str, obj: Obj, occurrences: dict[int, list[Any]],
               holders: dict[int, list[str]]) -> None:
    """A lone boolean set to true in kubectl's JSON is the lone varint 1 no other JSON field holds
    (`--global-default`); the marker objects find booleans by their bit patterns instead."""
    codes = bool_codes(message)
    true = [name for name, value in obj.items() if name in codes and value is True]
    free = [n for n, occs in occurrences.items() if n not in holders and len(occs) == 1
            and occs[0][0] == protobuf.VARINT and occs[0][1] == 1]
    if len(true) == 1 and len(free) == 1:
        obs.record(message, true[0], free[0])


def _holders(candidates: dict[str, set[int]]) -> dict[int, list[str]]:
    """Wire field -> the JSON fields it holds: a JSON field is in the wire fields that hold all its
    values; when that is several (kubectl repeats a name in labels and selectors), the fields other
    JSON fields surely hold are struck out until one is left."""
    holders: dict[int, list[str]] = {}
    settled: dict[str, int] = {}
    changed = True
    while changed:
        changed = False
        taken = set(settled.values())
        for name, fields_ in candidates.items():
            if name in settled:
                continue
            left = fields_ if len(fields_) == 1 else fields_ - taken
            if len(left) == 1:
                settled[name] = next(iter(left))
                changed = True
    for name, number in settled.items():
        holders.setdefault(number, []).append(name)
    return holders


def _direct(prop: Shape, value: Any, occs: list[tuple[int, int | bytes, set[tuple[int, Any]]]],
            keep: Callable[[str, Any], bool]) -> bool:
    """Is this wire field the JSON field itself (rather than an inline part holding it)?"""
    if prop.repeated or prop.map:
        size = len(value) if isinstance(value, (list, dict)) else 0
        return len(occs) > 1 or size < 2  # two items in one wire field: an inline part holds the list
    if prop.scalar:
        return any((wire, v) in {w for w, _ in prop_values(prop, value, keep)} for wire, v, _ in occs)
    if prop.type in protobuf.SPECIAL:
        wanted = {w for w, _ in prop_values(prop, value, keep)}
        return any(wire == protobuf.BYTES and {(w, v) for _, w, v in protobuf.fields(_b(inner))} & wanted
                   for wire, inner, _ in occs)
    return True  # a message: taken as itself (an inline part around a lone message decodes the same)


def _align_value(obs: Observations, prop: Shape, value: Any, occs: list[tuple[int, int | bytes, set[tuple[int, Any]]]],
                 keep: Callable[[str, Any], bool], where: str, instances: dict[str, Instance]) -> None:
    if prop.map:
        by_key = {}
        for _, entry, _ in occs:
            parts = {n: (w, v) for n, w, v in protobuf.fields(_b(entry))}
            key_field = [n for n, (w, v) in parts.items() if w == protobuf.BYTES and _b(v).decode(errors="replace")
                         in value]
            if len(key_field) == 1 and keep("string", _b(parts[key_field[0]][1]).decode()):
                obs.record("<map entry>", "key", key_field[0])
                others = [n for n in parts if n != key_field[0]]
                if len(others) == 1:
                    obs.record("<map entry>", "value", others[0])
                by_key[_b(parts[key_field[0]][1]).decode()] = parts
        if prop.leaf:
            return
        value_field = obs.numbers.get(("<map entry>", "value"), 2)
        for key, parts in by_key.items():
            if value_field in parts:
                align(obs, prop.type, value[key], _b(parts[value_field][1]), keep, f"{where}[{key}]", instances)
        return
    items = value if prop.repeated else [value]
    if prop.scalar:
        return
    for i, (item, (_wire, inner, _)) in enumerate(zip(items, occs, strict=False)):
        if prop.type in protobuf.SPECIAL:
            _align_special(obs, prop.type, item, _b(inner), keep)
        elif isinstance(item, dict):
            align(obs, prop.type, item, _b(inner), keep, f"{where}[{i}]" if prop.repeated else where, instances)


def _align_special(obs: Observations, message: str, value: Any, buf: bytes, keep: Callable[[str, Any], bool]) -> None:
    if not keep(message, value):
        return
    inner = protobuf.fields(buf)
    for (wire, wanted), part in wire_values(message, value):
        found = [n for n, w, v in inner if (w, v) == (wire, wanted)]
        if len(found) == 1:
            obs.record(message, part, found[0])
            if part == "strVal":  # the type beside a string is 1
                kinds = [n for n, w, v in inner if w == protobuf.VARINT and v == 1]
                if len(kinds) == 1:
                    obs.record(message, "type", kinds[0])


def match_bools(obs: Observations, variants: list[dict[str, Instance]]) -> None:
    """The n-th boolean of a message is the varint field (of the message or an inline part of it) whose
    values over the variants are the bits of n."""
    for where, first in variants[0].items():
        if "/" in first.message.rsplit(".", 1)[-1]:
            continue  # inline parts are searched with their message
        codes = bool_codes(first.message)  # Go's JSON omits false: a boolean may show in some variants only
        present = {name: code for name, code in codes.items() if any(name in v[where].obj for v in variants
                                                                      if where in v)}
        if not present:
            continue
        containers = [first.message, *first.parts]
        columns: dict[tuple[str, int], list[int]] = {}
        for v, instances in enumerate(variants):
            instance = instances.get(where)
            if instance is None:
                break
            bufs = {first.message: instance.buf, **instance.parts}
            for container in containers:
                for number, wire, value in protobuf.fields(bufs.get(container, b"")):
                    if wire == protobuf.VARINT:
                        columns.setdefault((container, number), [0] * len(variants))[v] = _i(value)
        taken = {(m, n): name for (m, name), n in obs.numbers.items()}
        for name, code in present.items():
            want = [code >> v & 1 for v in range(len(variants))]
            if [int(bool(v[where].obj.get(name))) for v in variants if where in v] != want:
                continue  # not a marker object (kubectl set this one itself)
            found = [key for key, column in columns.items() if column == want and taken.get(key, name) == name]
            if len(found) != 1:
                obs.unresolved.append(f"{first.message}.{name} (boolean): {len(found)} candidate fields {found}")
                continue
            container, number = found[0]
            obs.record(container, name, number)


def _i(value: int | bytes) -> int:
    assert isinstance(value, int)
    return value


# --------------------------------------------------------------------------------------------------
# Zero values: the wire read with every zero kept, against kubectl's JSON of the same object


def zeros(obs: Observations, table: dict[str, dict[int, protobuf.Field]], message: str, buf: bytes, obj: Any,
          go_json: bool = True) -> None:
    """Scalars zero on the wire: printed (kept) or omitted (omitempty) in the JSON of the same object?

    When `obj` isn't Go's JSON (a CSR has no dry run: it is the object served), a zero absent from it
    only shows that Go writes the field when zero (a non-pointer): it is taken as omitempty, the rule."""
    if not isinstance(obj, dict):
        return
    triples = protobuf.fields(buf)
    seen: dict[int, int] = {}
    for number, _wire, value in triples:
        index = seen[number] = seen.get(number, -1) + 1
        spec = table.get(message, {}).get(number)
        if spec is None:
            continue
        if spec.name == "...":
            zeros(obs, table, spec.type, _b(value), obj, go_json)
            continue
        here = obj.get(spec.name)
        if spec.map:
            parts = {n: v for n, _, v in protobuf.fields(_b(value))}
            if not (spec.scalar or spec.type in protobuf.SPECIAL) and isinstance(here, dict):
                zeros(obs, table, spec.type, _b(parts.get(2, b"")), here.get(_b(parts.get(1, b"")).decode()), go_json)
        elif spec.repeated:
            if not (spec.scalar or spec.type in protobuf.SPECIAL) and isinstance(here, list) and index < len(here):
                zeros(obs, table, spec.type, _b(value), here[index], go_json)
        elif spec.scalar or spec.type in protobuf.SPECIAL:
            if value in (0, b"") or (spec.type in protobuf.SPECIAL and
                                     all(v in (0, b"") for _, _, v in protobuf.fields(_b(value)))):
                if spec.name in obj:
                    obs.printed_zero.add((message, spec.name))
                else:
                    (obs.omitted_zero if go_json else obs.written_zero).add((message, spec.name))
        else:
            zeros(obs, table, spec.type, _b(value), here, go_json)


# --------------------------------------------------------------------------------------------------
# The corpus: commands with unique markers for their flags

@dataclass(frozen=True)
class Command:
    """A kubectl command that sends one protobuf body, and the JSON that body means.

    `expected` is None when `kubectl ... --dry-run=client -o json` prints it; commands without a dry run
    (auth can-i, whoami, create token) give it here, as the kubectl documentation describes the flags.
    """

    name: str
    args: tuple[str, ...]
    expected: Obj | None = None
    files: tuple[tuple[str, bytes], ...] = ()
    served: tuple[tuple[str, Any], ...] = ()
    write: int = 0  # which protobuf body of the run (debug --replace creates, then deletes)


DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default",
              "uid": "u-web"}, "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
              "metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
NODE = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "mknode"}, "spec": {}}
DRAINED = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "drained", "namespace": "default", "uid": "u-d"},
           "spec": {"nodeName": "mknode", "containers": [{"name": "c", "image": "i"}]}}
DRAIN = (("/api/v1/nodes/mknode", NODE), ("/api/v1/pods", {"apiVersion": "v1", "kind": "PodList", "metadata": {},
                                                            "items": [DRAINED]}))
DEBUGGED = {"apiVersion": "v1", "kind": "Pod", "metadata": {
    "name": "mkpod", "namespace": "default", "uid": "u-p", "labels": {"mk10401": "mk10402"},
    "annotations": {"mk10403": "mk10404"}}, "spec": {
    "containers": [{"name": "mk10405", "image": "mk10406", "args": ["mk10407"]}],
    "securityContext": {},  # kubectl 1.35 debug --copy-to dereferences it
    "restartPolicy": "Never", "terminationGracePeriodSeconds": 100408}}
# A self-signed test certificate and its key, for `create secret tls` (kubectl checks that they match).
TLS_CERT = b"""-----BEGIN CERTIFICATE-----
MIIBgTCCASegAwIBAgIUN0sOmZr8uOP/lTlEi/LuXhvRkmEwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKbWstY2FwdHVyZTAgFw0yNjExMjcwMDI2MDNaGA8yMTI2MTEw
MzAwMjYwM1owFTETMBEGA1UEAwwKbWstY2FwdHVyZTBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABEFBmaEOaYUirxseKlfmSgSxawYLqB0VLpRp1d//RU3b496JMTD+
w1erF9QIBKHlmai679H2IF9HTO21c8El1dajUzBRMB0GA1UdDgQWBBSYBUPv/vm+
YM6cTh1fUwly+T1ZdzAfBgNVHSMEGDAWgBSYBUPv/vm+YM6cTh1fUwly+T1ZdzAP
BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQCjHpoiZJ1cs6zIVG4D
zdd1qmC8FvEy83dD7H9sYTBuogIgb/uDQc//vP7tQbnIcLfNITkD2hyAJSBHDw/M
OpOe6ck=
-----END CERTIFICATE-----
"""
TLS_KEY = b"""-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgcktzW8sXa3wSijcn
NeI5HUwm1ZyXt3zRADpjBjJoPjWhRANCAARBQZmhDmmFIq8bHipX5koEsWsGC6gd
FS6UadXf/0VN2+PeiTEw/sNXqxfUCASh5Zmouu/R9iBfR0zttXPBJdXW
-----END PRIVATE KEY-----
"""
BINARY = bytes(range(256))  # every byte value, so no UTF-8 reading of Secret data can survive

COMMANDS: list[Command] = [
    Command("configmap", ("create", "configmap", "mk10001", "--from-literal=mk10002=mk10003",
                          "--from-literal=mk10004=")),
    Command("configmap-binary", ("create", "configmap", "mk10011", "--from-file=mk10012={dir}/blob",
                                 "--from-literal=mk10013=mk10014"), files=(("blob", BINARY),)),
    Command("configmap-hash", ("create", "configmap", "mk10021", "--from-literal=a=b", "--append-hash")),
    Command("namespace", ("create", "namespace", "mk10031")),
    Command("serviceaccount", ("create", "serviceaccount", "mk10041")),
    Command("secret-generic", ("create", "secret", "generic", "mk10051", "--from-literal=mk10052=mk10053",
                               "--type=mk10054")),
    Command("secret-binary", ("create", "secret", "generic", "mk10061", "--from-file=mk10062={dir}/blob",
                              "--from-literal=mk10063="), files=(("blob", BINARY),)),
    Command("secret-tls", ("create", "secret", "tls", "mk10071", "--cert={dir}/tls.crt", "--key={dir}/tls.key"),
            files=(("tls.crt", TLS_CERT), ("tls.key", TLS_KEY))),
    Command("secret-docker", ("create", "secret", "docker-registry", "mk10081", "--docker-server=mk10082",
                              "--docker-username=mk10083", "--docker-password=mk10084", "--docker-email=mk10085")),
    Command("deployment", ("create", "deployment", "mk10091", "--image=mk10092", "--image=mk10093",
                           "--port=100094", "--replicas=100095")),
    Command("deployment-zero", ("create", "deployment", "mk10101", "--image=mk10102", "--replicas=0",
                                "--", "mk10103", "mk10104")),
    Command("service-clusterip", ("create", "service", "clusterip", "mk10111", "--tcp=5678:8080",
                                  "--tcp=5679:mk10113")),
    Command("service-headless", ("create", "service", "clusterip", "mk10121", "--clusterip=None")),
    Command("service-nodeport", ("create", "service", "nodeport", "mk10131", "--tcp=80:8080", "--node-port=30007")),
    Command("service-loadbalancer", ("create", "service", "loadbalancer", "mk10141", "--tcp=443")),
    Command("service-externalname", ("create", "service", "externalname", "mk10151", "--external-name=mk10152.com",
                                     "--tcp=81")),
    Command("role", ("create", "role", "mk10161", "--verb=get", "--verb=list", "--resource=pods",
                     "--resource=deployments.apps", "--resource-name=mk10162")),
    Command("clusterrole", ("create", "clusterrole", "mk10171", "--verb=get", "--non-resource-url=/mk10172",
                            "--resource=nodes")),
    Command("clusterrole-aggregate", ("create", "clusterrole", "mk10181", "--aggregation-rule=mk10182=mk10183")),
    Command("rolebinding", ("create", "rolebinding", "mk10191", "--role=mk10192", "--user=mk10193",
                            "--group=mk10194", "--serviceaccount=mk10195:mk10196")),
    Command("clusterrolebinding", ("create", "clusterrolebinding", "mk10201", "--clusterrole=mk10202",
                                   "--user=mk10203")),
    Command("job", ("create", "job", "mk10211", "--image=mk10212", "--", "mk10213")),
    Command("cronjob", ("create", "cronjob", "mk10221", "--image=mk10222", "--schedule=*/5 * * * *",
                        "--restart=OnFailure", "--", "mk10223")),
    Command("quota", ("create", "quota", "mk10231", "--hard=cpu=7001,pods=7002,requests.memory=7003",
                      "--scopes=BestEffort,NotTerminating")),
    Command("priorityclass", ("create", "priorityclass", "mk10241", "--value=100241", "--global-default",
                              "--description=mk10242", "--preemption-policy=Never")),
    Command("priorityclass-zero", ("create", "priorityclass", "mk10251", "--value=0")),
    Command("pdb-min", ("create", "poddisruptionbudget", "mk10261", "--selector=mk10262=mk10263",
                        "--min-available=100264")),
    Command("pdb-max", ("create", "poddisruptionbudget", "mk10271", "--selector=mk10272=mk10273",
                        "--max-unavailable=50%")),
    Command("pdb-zero", ("create", "poddisruptionbudget", "mk10281", "--selector=app=x", "--max-unavailable=0")),
    Command("ingress", ("create", "ingress", "mk10291", "--class=mk10292", "--rule=mk10293.com/mk10294*=mk10295:100296",
                        "--rule=mk10297.com/=mk10298:mk10299,tls=mk10300", "--default-backend=mk10301:100302",
                        "--annotation=mk10303=mk10304")),
    Command("autoscale", ("autoscale", "deployment", "web", "--min=2", "--max=100311", "--cpu=60%",
                          "--memory=7312", "--name=mk10313"), served=(
        ("/apis/apps/v1/namespaces/default/deployments/web", DEPLOYMENT),)),
    Command("autoscale-legacy", ("autoscale", "deployment", "web", "--max=5", "--cpu-percent=80"), served=(
        ("/apis/apps/v1/namespaces/default/deployments/web", DEPLOYMENT),)),
    Command("can-i", ("auth", "can-i", "get", "pods"), expected={
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "metadata": {},
        "spec": {"resourceAttributes": {"namespace": "default", "verb": "get", "resource": "pods"}}}),
    Command("can-i-named", ("auth", "can-i", "mk10321", "deployments.apps/mk10322", "--subresource=mk10323",
                            "-n", "mk10324"), expected={
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "metadata": {},
        "spec": {"resourceAttributes": {"namespace": "mk10324", "verb": "mk10321", "group": "apps",
                                        "resource": "deployments", "subresource": "mk10323", "name": "mk10322"}}}),
    Command("can-i-version", ("auth", "can-i", "list", "deployments.v1.apps"), expected={
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "metadata": {},
        "spec": {"resourceAttributes": {"namespace": "default", "verb": "list", "group": "apps",
                                        "resource": "deployments"}}}),  # kubectl sends no version
    Command("can-i-all-namespaces", ("auth", "can-i", "delete", "nodes", "-A"), expected={
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "metadata": {},
        "spec": {"resourceAttributes": {"verb": "delete", "resource": "nodes"}}}),
    Command("can-i-nonresource", ("auth", "can-i", "mk10331", "/mk10332"), expected={
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "metadata": {},
        "spec": {"nonResourceAttributes": {"path": "/mk10332", "verb": "mk10331"}}}),
    Command("can-i-list", ("auth", "can-i", "--list", "-n", "mk10341"), expected={
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview", "metadata": {},
        "spec": {"namespace": "mk10341"}}),
    Command("whoami", ("auth", "whoami"), expected={
        "apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}),
    Command("token", ("create", "token", "sa", "--audience=mk10351", "--audience=mk10352", "--duration=100353s",
                      "--bound-object-kind=Pod", "--bound-object-name=mk10354", "--bound-object-uid=mk10355"),
            expected={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "metadata": {},
                      "spec": {"audiences": ["mk10351", "mk10352"], "expirationSeconds": 100353,
                               "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "mk10354",
                                                  "uid": "mk10355"}}}),
    Command("drain", ("drain", "mknode", "--disable-eviction", "--force", "--grace-period=100421"), served=DRAIN,
            expected={"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 100421}),
    Command("drain-dry-run", ("drain", "mknode", "--disable-eviction", "--force", "--dry-run=server"), served=DRAIN,
            expected={"apiVersion": "v1", "kind": "DeleteOptions", "dryRun": ["All"]}),
    Command("debug-copy", ("debug", "mkpod", "--copy-to=mk10411", "--image=mk10412", "--container=mk10413",
                           "--profile=general"), served=(("/api/v1/namespaces/default/pods/mkpod", DEBUGGED),),
            expected={"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "mk10411", "namespace": "default"},
                      "spec": {
                "containers": [{"name": "mk10405", "image": "mk10406", "args": ["mk10407"]},
                               {"name": "mk10413", "image": "mk10412", "terminationMessagePolicy": "File",
                                "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}}}],
                "securityContext": {}, "restartPolicy": "Never", "terminationGracePeriodSeconds": 100408,
                "shareProcessNamespace": True}}),  # the general profile shares the process namespace
    Command("debug-replace", ("debug", "mkpod", "--copy-to=mk10431", "--image=mk10432", "--replace",
                              "--profile=general"), served=(("/api/v1/namespaces/default/pods/mkpod", DEBUGGED),),
            write=1, expected={"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0}),
    Command("token-plain", ("create", "token", "sa"), expected={
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "metadata": {},
        "spec": {}}),
]




# --------------------------------------------------------------------------------------------------
# The corpus: whole objects kubectl reads and sends back


@dataclass
class Roundtrip:
    """kubectl reads `served` (or a file) and sends it, or part of it, back."""

    name: str
    args: tuple[str, ...]
    served: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    dry_run: bool = False  # does `--dry-run=client -o json` print what is sent?
    sent: Any = None  # the JSON of what is sent, when kubectl sends the served object as it is


def job_from_cronjob(variant: int = 0, *, sparse: bool = False) -> Roundtrip:
    """`create job --from=cronjob/...` sends the CronJob's jobTemplate.spec: JobSpec, PodTemplateSpec,
    ObjectMeta (the pod template's, complete) and all of PodSpec."""
    spec = Markers(variant=variant, sparse=sparse).message("batch.v1.JobSpec")
    cronjob = {"apiVersion": "batch/v1", "kind": "CronJob",
               "metadata": {"name": "cron", "namespace": "default", "uid": "mk-cron-uid"},
               "spec": {"schedule": "* * * * *", "jobTemplate": {"metadata": {"labels": {"mk-label": "mk-value"}},
                                                                 "spec": spec}}}
    return Roundtrip(f"job-from-cronjob-{'sparse' if sparse else variant}",
                     ("create", "job", "job", "--from=cronjob/cron"),
                     {"/apis/batch/v1/namespaces/default/cronjobs/cron": cronjob}, dry_run=True)


def csr_approval(variant: int = 0, *, sparse: bool = False) -> Roundtrip:
    """`certificate approve` sends the whole CSR back (with an Approved condition added) to /approval."""
    csr = Markers(variant=variant, sparse=sparse).message("certificates.v1.CertificateSigningRequest")
    name = csr.setdefault("metadata", {}).setdefault("name", "csr")
    csr = {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", **csr}
    return Roundtrip(f"csr-approve-{'sparse' if sparse else variant}", ("certificate", "approve", name),
                     {f"/apis/certificates.k8s.io/v1/certificatesigningrequests/{name}": csr}, sent=csr)


RBAC_KINDS = {"Role": "rbac.v1.Role", "ClusterRole": "rbac.v1.ClusterRole", "RoleBinding": "rbac.v1.RoleBinding",
              "ClusterRoleBinding": "rbac.v1.ClusterRoleBinding"}


def rbac_reconcile(kind: str, variant: int = 0, *, sparse: bool = False) -> Roundtrip:
    """`auth reconcile -f` creates the RBAC object of a file as it is (the server has none yet)."""
    obj = Markers(variant=variant, sparse=sparse).message(RBAC_KINDS[kind], skip=frozenset({"metadata"}))
    obj["metadata"] = {"name": "mk-rbac", **({} if kind.startswith("Cluster") else {"namespace": "default"})}
    if "roleRef" in obj:  # reconcile looks the role up by kind and group
        obj["roleRef"] = {**obj["roleRef"], "apiGroup": "rbac.authorization.k8s.io",
                          "kind": "ClusterRole" if kind.startswith("Cluster") else "Role"}
    obj = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, **obj}
    return Roundtrip(f"reconcile-{kind}-{'sparse' if sparse else variant}",
                     ("auth", "reconcile", "-f", "{dir}/rbac.json"), {}, files={"rbac.json": orjson.dumps(obj)},
                     dry_run=True)


def roundtrips() -> list[list[Roundtrip]]:
    """Groups of captures of one object: its boolean variants, then its sparse form."""
    makers: list[Callable[..., Roundtrip]] = [job_from_cronjob, csr_approval]
    makers += [functools.partial(rbac_reconcile, kind) for kind in RBAC_KINDS]
    return [[make(v) for v in range(BOOL_VARIANTS)] + [make(sparse=True)] for make in makers]


# --------------------------------------------------------------------------------------------------
# Deriving the table


def run_command(kubectl: str, command: Command) -> tuple[Capture, Obj]:
    """Capture a command's body, and the JSON it means."""
    files = dict(command.files)
    served = dict(command.served)
    captured = capture(kubectl, *command.args, served=served, files=files)
    expected = command.expected
    if expected is None:
        expected = dry_run(kubectl, *command.args, served=served, files=files)
    return captured, expected


def _everything(kind: str, value: Any) -> bool:
    """Every marker value (zero values are everywhere on the wire, and booleans can't be unique)."""
    return not isinstance(value, bool) and value not in ("", 0, None, {})


def derive(kubectl: str) -> Observations:
    """Run the corpus and return what it showed."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        commands = list(pool.map(lambda c: run_command(kubectl, c), COMMANDS))
        groups = roundtrips()
        flat = [t for group in groups for t in group]
        sent = list(pool.map(lambda t: capture(kubectl, *t.args, served=t.served, files=t.files), flat))
        printed = list(pool.map(lambda t: dry_run(kubectl, *t.args, served=t.served, files=t.files)
                                if t.dry_run else t.sent, flat))
    obs = Observations()
    pairs: list[tuple[str, bytes, Any, bool]] = []  # (message, wire, JSON, is it Go's?) for the zero values
    for command, (captured, expected) in zip(COMMANDS, commands, strict=True):
        body = captured.writes[command.write].body
        obs.captures[command.name] = (body, expected)
        api_version, kind, raw = envelope(body)
        message = obs.kinds[(api_version, kind)] = root_message(api_version, kind)
        align(obs, message, expected, raw, distinctive, command.name, {})
        pairs.append((message, raw, expected, command.expected is None))
    position = 0
    for group in groups:
        variants = []
        for trip in group:
            captured, obj = sent[position], printed[position]
            position += 1
            obs.captures[trip.name] = (captured.last_body, obj)
            api_version, kind, raw = envelope(captured.last_body)
            message = obs.kinds[(api_version, kind)] = root_message(api_version, kind)
            if not trip.name.endswith("sparse"):  # the sparse form only shows zero values
                instances: dict[str, Instance] = {}
                align(obs, message, obj, raw, _everything, "", instances)
                variants.append(instances)
            pairs.append((message, raw, obj, trip.dry_run))
        match_bools(obs, variants)
    table = build_table(obs, keep_all=True)
    for message, raw, obj, go_json in pairs:
        zeros(obs, table, message, raw, obj, go_json)
    return obs


def build_table(obs: Observations, *, keep_all: bool = False) -> dict[str, dict[int, protobuf.Field]]:
    """The observations as the decoder's table (with every zero kept, to read the zero values)."""
    table: dict[str, dict[int, protobuf.Field]] = {}
    for (message, name), number in obs.numbers.items():
        if not message.startswith("<"):
            prop = properties(message)[name]
            keep = keep_all or _keeps_zero(obs, message, name)
            table.setdefault(message, {})[number] = protobuf.Field(name, prop.type, prop.repeated, prop.map, keep)
    for (message, number), part in obs.inline.items():
        table.setdefault(message, {})[number] = protobuf.Field("...", part)
    return table


def _keeps_zero(obs: Observations, message: str, name: str) -> bool:
    """Zero kept unless a zero was seen on the wire and left out of the JSON (a non-pointer omitempty);
    Go's JSON printing a zero wins."""
    key = (message, name)
    return key in obs.printed_zero or key not in obs.omitted_zero | obs.written_zero


def render(obs: Observations) -> str:
    """The KINDS and _TABLE entries of apiserver/protobuf.py."""
    lines = ["    # TABLE-KINDS-BEGIN (generated by tests/apiserver/protobuf_capture.py)"]
    for (api_version, kind), message in sorted(obs.kinds.items()):
        lines.append(f'    ("{api_version}", "{kind}"): "{message}",')
    lines += ["    # TABLE-KINDS-END", "", "    # TABLE-MESSAGES-BEGIN (generated by tests/apiserver/protobuf_capture.py)"]
    table = build_table(obs)
    for message in sorted(table):
        items = []
        for number, spec in sorted(table[message].items()):
            shape_ = Shape(spec.type, spec.repeated, spec.map)
            plain = spec.name == protobuf.INLINE or not shape_.leaf  # a message is written when present, zero or not
            items.append(f"{number} {spec.name} {shape_.spec(spec.keep_zero and not plain)}")
        lines.extend(_wrap(f'    "{message}": ', items))
    lines.append("    # TABLE-MESSAGES-END")
    return "\n".join(lines)


def _wrap(head: str, items: list[str], width: int = 118) -> list[str]:
    out, line = [], head + '"'
    for i, item in enumerate(items):
        piece = item + (", " if i < len(items) - 1 else "")
        if len(line) + len(piece) + 1 > width:
            out.append(line + '"')
            line = ' ' * 8 + '"'
        line += piece
    out.append(line + '",')
    return out


def write_table(text: str, module: Path = Path(protobuf.__file__)) -> None:
    """Put a rendered table between the TABLE markers of apiserver/protobuf.py."""
    source = module.read_text()
    start = source.index("    # TABLE-KINDS-BEGIN")
    end = source.index("    # TABLE-MESSAGES-END") + len("    # TABLE-MESSAGES-END")
    kinds_end = source.index("    # TABLE-KINDS-END") + len("    # TABLE-KINDS-END")
    messages_start = source.index("    # TABLE-MESSAGES-BEGIN")
    kinds, messages = text.split("\n\n", 1)
    module.write_text(source[:start] + kinds + source[kinds_end:messages_start] + messages + source[end:])


def main() -> None:
    from tests import binaries

    obs = derive(binaries.kubectl())
    text = render(obs)
    if sys.argv[1:] == ["--write"]:
        write_table(text)
    else:
        print(text)
    for problem in obs.unresolved:
        print("#", problem, file=sys.stderr)
    for message, name in sorted(obs.printed_zero & obs.omitted_zero):
        print(f"# {message}.{name}: a zero printed in one JSON and omitted in another", file=sys.stderr)


if __name__ == "__main__":
    main()
