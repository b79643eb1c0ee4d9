"""Fuzzing every verb on built-in kinds: whatever a buggy client sends, the answer is a Status, never a 5xx.

Hypothesis drives one in-process server per test function through httpx's ASGI transport, on an
event loop the harness owns (hypothesis runs a sync test body; each example is a few
`run_until_complete` calls). The property checked on every response is `assert_contract`:
a 2xx or a 4xx, and any failure is a `metav1.Status` (kind Status, apiVersion v1, status Failure,
a reason, a message, code equal to the HTTP status).

The fuzzers: malformed bodies on every verb (create, update, merge and JSON patch, delete,
deletecollection, subresources) of seven built-in kinds; YAML bodies with values JSON has not; odd
strings anywhere in an object; list and watch options; odd paths, methods, queries and headers.
Known hostile requests and methods a path does not serve are checked once each, table-driven.

Inputs that would legitimately take long are kept out of the strategies: a resourceVersion newer
than the store makes kube (and us) wait 3 s before answering 504 "Too large resource version", and
a watch lasts until `timeoutSeconds`. So generated resourceVersions are never in the future and
every request carries `timeoutSeconds=0` unless the example sets a value that ends it at once.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apiserver.app import create_app
from apiserver.settings import Settings

REQUEST_TIMEOUT = 8.0  # an answer later than this is a hang (the slowest legitimate one here is a 3 s wait)
FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.large_base_example],
)


# ---- the harness ------------------------------------------------------------------------------


class Harness:
    """One server on an in-memory store, its own event loop, and a client; requests run synchronously."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.app = create_app(Settings(database="sqlite://", compact_interval=0))
        self.server = self.app.state.server
        self.run(self.server.start())
        transport = httpx.ASGITransport(app=self.app)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://test")

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def request(self, method: str, url: str | httpx.URL, *, content: bytes | None = None,
                headers: dict[str, str] | None = None) -> httpx.Response:
        """One request; a hang fails the test with the request spelled out."""
        send = self.client.request(method, url, content=content, headers=headers)
        try:
            return self.run(asyncio.wait_for(send, REQUEST_TIMEOUT))
        except TimeoutError:
            pytest.fail(f"no answer within {REQUEST_TIMEOUT} s: {describe(method, url, content, headers)}")

    def checked(self, method: str, url: str | httpx.URL, *, content: bytes | None = None,
                headers: dict[str, str] | None = None) -> httpx.Response:
        resp = self.request(method, url, content=content, headers=headers)
        assert_contract(resp, describe(method, url, content, headers))
        return resp

    def close(self) -> None:
        try:
            self.run(self.client.aclose())
            self.run(self.server.stop())
            self.run(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()


@pytest.fixture
def harness() -> Iterator[Harness]:
    h = Harness()
    try:
        yield h
    finally:
        h.close()


def describe(method: str, url: str | httpx.URL, content: bytes | None, headers: dict[str, str] | None) -> str:
    body = content or b""
    shown = body[:300] + (b"...(%d bytes)" % len(body) if len(body) > 300 else b"")
    return f"{method} {str(url)[:300]} headers={headers or {}} body={shown!r}"


# ---- the property -----------------------------------------------------------------------------


def decode_body(resp: httpx.Response) -> Any:
    media = resp.headers.get("content-type", "").split(";")[0].strip()
    if media in ("application/yaml", "application/x-yaml", "text/yaml"):
        return yaml.safe_load(resp.content)
    return orjson.loads(resp.content)


def is_too_large_rv(body: Any) -> bool:
    """kube's answer to a resourceVersion newer than the store: 504 Timeout after 3 s (cacher.go)."""
    return (isinstance(body, dict) and body.get("reason") == "Timeout"
            and str(body.get("message", "")).startswith("Too large resource version"))


def assert_contract(resp: httpx.Response, what: str) -> None:
    """2xx or 4xx; every failure a metav1.Status whose code is the HTTP status."""
    code = resp.status_code
    context = f"{what}\n  -> {code} {resp.headers.get('content-type')} {resp.content[:600]!r}"
    if resp.request.method == "HEAD":
        assert 200 <= code < 500, context
        return
    media = resp.headers.get("content-type", "").split(";")[0].strip()
    assert 200 <= code < 300 or 400 <= code < 600, f"neither 2xx nor 4xx: {context}"
    if code < 300 and not (media.endswith("json") or media.endswith("yaml")):
        return  # /healthz and friends answer text/plain
    try:
        body = decode_body(resp) if resp.content or code >= 300 else None
    except (orjson.JSONDecodeError, yaml.YAMLError):
        body = None
        if code < 300 and all(_json_line(line) for line in resp.content.splitlines() if line.strip()):
            return  # a watch stream: one JSON event per line
        pytest.fail(f"the body is neither JSON nor YAML: {context}")
    if code == 504 and is_too_large_rv(body):
        return
    assert code < 500, f"server error: {context}"
    assert 200 <= code < 300 or 400 <= code < 500, f"neither 2xx nor 4xx: {context}"
    if code < 300:
        return
    assert isinstance(body, dict), f"no Status: {context}"
    assert body.get("kind") == "Status", f"no Status: {context}"
    assert body.get("apiVersion") == "v1", f"Status without apiVersion v1: {context}"
    assert body.get("status") == "Failure", f"Status without status Failure: {context}"
    assert isinstance(body.get("reason"), str) and body["reason"], f"Status without a reason: {context}"
    assert isinstance(body.get("message"), str) and body["message"], f"Status without a message: {context}"
    assert body.get("code") == code, f"Status code differs from the HTTP status: {context}"


def _json_line(line: bytes) -> bool:
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return True


# ---- the kinds and a valid object of each -----------------------------------------------------


@dataclass(frozen=True)
class Kind:
    plural: str
    collection: str  # the URL of the collection the fuzzer writes to
    template: dict[str, Any]  # a valid object, without metadata.name
    subresources: tuple[str, ...] = ()

    def valid(self, name: str) -> dict[str, Any]:
        obj = copy.deepcopy(self.template)
        obj["metadata"]["name"] = name
        return obj


_POD_SPEC = {
    "restartPolicy": "Always",
    "containers": [{
        "name": "c", "image": "nginx:1", "command": ["sh"], "args": ["-c", "sleep 1"],
        "ports": [{"containerPort": 80, "protocol": "TCP"}],
        "env": [{"name": "A", "value": "1"}],
        "resources": {"limits": {"cpu": "1", "memory": "64Mi"}},
        "volumeMounts": [{"name": "v", "mountPath": "/v"}],
    }],
    "volumes": [{"name": "v", "emptyDir": {}}],
}
_META = {"labels": {"app": "fuzz", "tier": "x"}, "annotations": {"note": "fuzz"}}
_CLUSTER = "/apis/rbac.authorization.k8s.io/v1/clusterroles"

KINDS: dict[str, Kind] = {
    "configmaps": Kind("configmaps", "/api/v1/namespaces/default/configmaps", {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": copy.deepcopy(_META),
        "data": {"k": "v", "file.txt": "x"}, "binaryData": {"b": "aGk="},
    }),
    "secrets": Kind("secrets", "/api/v1/namespaces/default/secrets", {
        "apiVersion": "v1", "kind": "Secret", "metadata": copy.deepcopy(_META), "type": "Opaque",
        "data": {"k": "dg=="}, "stringData": {"s": "t"},
    }),
    "pods": Kind("pods", "/api/v1/namespaces/default/pods", {
        "apiVersion": "v1", "kind": "Pod", "metadata": copy.deepcopy(_META), "spec": copy.deepcopy(_POD_SPEC),
    }, ("status",)),
    "deployments": Kind("deployments", "/apis/apps/v1/namespaces/default/deployments", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": copy.deepcopy(_META),
        "spec": {
            "replicas": 2, "selector": {"matchLabels": {"app": "fuzz"},
                                        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["x"]}]},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}},
            "template": {"metadata": {"labels": {"app": "fuzz", "tier": "x"}}, "spec": copy.deepcopy(_POD_SPEC)},
        },
    }, ("status", "scale")),
    "services": Kind("services", "/api/v1/namespaces/default/services", {
        "apiVersion": "v1", "kind": "Service", "metadata": copy.deepcopy(_META),
        "spec": {"type": "ClusterIP", "selector": {"app": "fuzz"},
                 "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]},
    }, ("status",)),
    "namespaces": Kind("namespaces", "/api/v1/namespaces", {
        "apiVersion": "v1", "kind": "Namespace", "metadata": copy.deepcopy(_META),
        "spec": {"finalizers": ["kubernetes"]},
    }, ("status",)),
    "clusterroles": Kind("clusterroles", _CLUSTER, {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": copy.deepcopy(_META),
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
                  {"nonResourceURLs": ["/healthz"], "verbs": ["get"]}],
    }),
}
BASE = "fuzz-base"  # one object of each kind the updates, patches and deletes aim at


def ensure_base(h: Harness, kind: Kind) -> None:
    """Put the target object back if an earlier example deleted it (best effort)."""
    if h.request("GET", f"{kind.collection}/{BASE}").status_code == 404:
        h.request("POST", kind.collection, content=orjson.dumps(kind.valid(BASE)),
                  headers={"content-type": "application/json"})


def paths_of(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every node of a JSON document, as a path of keys and indices (the root excluded)."""
    found: list[tuple[Any, ...]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        path = (*prefix, key)
        found.append(path)
        found.extend(paths_of(child, path))
    return found


def pointer(path: tuple[Any, ...]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


# ---- values -----------------------------------------------------------------------------------

# Placeholders for nesting too deep to build as Python data (json.dumps would recurse): swapped for
# the raw text after encoding.
_DEEP = "\x00deep:"


def deep_text(depth: int, shape: str) -> str:
    if shape == "list":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


ODD_STRINGS = [
    "", " ", "\x00", "\t\n", "-", ".", "..", "/", "a/b", "../x", "%00", "%2F", "\u202e", "\ufeff", "é", "日本",
    "\U0001f600", "A", "a_b", "-a", "a-", "a..b", "null", "true", "0", "-1", "1e400", "9223372036854775808",
    "99999999999999999999", "NaN", "Infinity", "2001-01-01T00:00:00Z", "x" * 64, "x" * 254, "a" * 300,
    "kubernetes.io/x", "example.com/" + "x" * 64, "a=b", "a,b", "!a", "a in (b)", "${x}", "{{x}}",
    "'; DROP TABLE kv; --", "\\", '"', "\ud7ff", "\uffff",
]
scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20), st.sampled_from(ODD_STRINGS),
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
huge_strings = st.integers(min_value=1_000, max_value=300_000).map(lambda n: "x" * n)
deep_values = st.builds(lambda d, s: f"{_DEEP}{d}:{s}", st.sampled_from([50, 100, 199, 200, 201, 254, 300, 1023,
                                                                          1025, 2000, 20_000]),
                        st.sampled_from(["list", "object"]))
junk = st.one_of(scalars, json_values, huge_strings, deep_values)


def encode(value: Any) -> bytes:
    """JSON with big integers kept (orjson refuses them) and deep placeholders expanded."""
    text = json.dumps(value, ensure_ascii=False)
    while _DEEP in text:
        start = text.index('"' + json.dumps(_DEEP)[1:-1])
        end = text.index('"', start + 1) + 1
        depth, shape = json.loads(text[start:end])[len(_DEEP):].split(":")
        text = text[:start] + deep_text(int(depth), shape) + text[end:]
    return text.encode("utf-8", "surrogatepass")


def set_path(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        doc = doc[key]
    doc[path[-1]] = value


def del_path(doc: Any, path: tuple[Any, ...]) -> None:
    for key in path[:-1]:
        doc = doc[key]
    del doc[path[-1]]


@st.composite
def mutated(draw: st.DrawFn, kind: Kind, name: str) -> dict[str, Any]:
    """A valid object with a few nodes replaced by junk, removed, or joined by unknown fields."""
    obj = kind.valid(name)
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        paths = paths_of(obj)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if action == "replace":
            set_path(obj, path, draw(junk))
        elif action == "delete":
            del_path(obj, path)
        else:
            parent: Any = obj
            for key in path[:-1]:
                parent = parent[key]
            if isinstance(parent, dict):
                parent[draw(st.text(max_size=10) | st.sampled_from(ODD_STRINGS))] = draw(junk)
            else:
                parent.append(draw(junk))
    return obj


names = st.one_of(
    st.sampled_from([BASE, "a", "b-1", "c.d", "fuzz-x"]),
    st.from_regex(r"[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True),
    st.sampled_from(ODD_STRINGS),
    st.text(max_size=30),
    st.integers(min_value=60, max_value=300).map(lambda n: "n" * n),
)


# ---- bodies -----------------------------------------------------------------------------------

INVALID_UTF8 = [b"\xff", b"\xfe\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\x80"]
YAML_ODDITIES = [
    "1: one", "? [a, b]\n: c", "x: !!binary aGk=", "x: !!set {a, b}", "x: 2001-01-01", "x: 2001-01-01 10:00:00",
    "x: &a [*a]", "x: !!python/object/apply:os.system [true]", "x: .nan", "x: !!float inf", "x: !custom tag",
    "x: !!int 0x1F", "x: 0o17", "x: ~", "yes: no", "null: 1", "x: *undefined", "data: {1: 2}", "data: {1: a}",
    "stringData: {true: a}", "spec: {selector: {1: a}}", "rules: [{verbs: [!!binary aGk=]}]",
    "metadata: {name: y, labels: {1: 2}}", "metadata: {name: y, annotations: {true: x}}",
    "metadata: {name: y, labels: {a: !!binary aGk=}}", "spec: {x: {2001-01-01: 1}}",
    "x: [!!binary aGk=]", "x: !!timestamp 2001-12-14t21:59:43.10-05:00", "x: !!omap [a: 1]", "x: !!pairs [a: 1]",
]
CONTENT_TYPES = [
    "application/json", "application/json; charset=utf-8", "application/yaml", "application/x-yaml", "text/yaml",
    "application/merge-patch+json", "application/json-patch+json", "application/strategic-merge-patch+json",
    "application/apply-patch+yaml", "application/vnd.kubernetes.protobuf", "text/plain", "", "*/*", ";;;",
    "application/json; charset=utf-16", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
    "APPLICATION/JSON", "application/foo+json",
]


@st.composite
def wire(draw: st.DrawFn, doc: Any, content_type: str) -> tuple[bytes, str]:
    """A document as sent: well formed, or corrupted in one of the ways clients corrupt bodies."""
    form = draw(st.sampled_from(["as-is", "as-is", "yaml", "yaml", "raw", "truncated", "spliced", "duplicate",
                                 "utf8", "deep", "content-type"]))
    body = encode(doc)
    if form == "yaml":
        plain = {} if _DEEP in str(doc) else json.loads(body.decode("utf-8", "replace"))
        text = yaml.safe_dump(plain, allow_unicode=True)
        if draw(st.integers(min_value=0, max_value=3)) and isinstance(doc, dict):
            text += draw(st.sampled_from(YAML_ODDITIES)) + "\n"
        return text.encode(), draw(st.sampled_from(["application/yaml", "application/x-yaml", "text/yaml"]))
    if form == "raw":
        body = draw(st.binary(max_size=200))
    elif form == "truncated" and body:
        body = body[: draw(st.integers(min_value=0, max_value=len(body) - 1))]
    elif form == "spliced":
        at = draw(st.integers(min_value=0, max_value=len(body)))
        body = body[:at] + draw(st.sampled_from([b",", b"}", b"]", b":", b'"', b"{", b"[", b"\x00", b"//x", b"NaN",
                                                 b"1e400", b",,", b"\\u"])) + body[at:]
    elif form == "duplicate" and isinstance(doc, dict) and doc:
        key = draw(st.sampled_from(sorted(doc)))
        extra = b'"' + key.encode() + b'":' + encode(draw(junk))
        body = (b"{" + extra + b"," + body[1:]) if draw(st.booleans()) else (body[:-1] + b"," + extra + b"}")
    elif form == "utf8":
        quotes = [i for i, c in enumerate(body) if c == ord('"')]
        at = draw(st.sampled_from(quotes)) + 1 if quotes else 0
        body = body[:at] + draw(st.sampled_from(INVALID_UTF8)) + body[at:]
    elif form == "deep":
        depth = draw(st.sampled_from([100, 300, 2000, 100_000]))
        body = deep_text(depth, draw(st.sampled_from(["list", "object"]))).encode()
    elif form == "content-type":
        content_type = draw(st.sampled_from(CONTENT_TYPES))
    return body, content_type


json_patch_ops = st.builds(
    lambda op, path, value, from_, drop: {k: v for k, v in {"op": op, "path": path, "value": value, "from": from_}.items()
                                          if k not in drop},
    st.sampled_from(["add", "remove", "replace", "move", "copy", "test", "bogus", "", None, 1, "ADD"]),
    st.one_of(st.sampled_from(["", "/", "/-", "/metadata", "/metadata/name", "/metadata/labels/a~1b", "/data/-",
                               "/spec/containers/-", "/spec/containers/99", "/spec/containers/-1",
                               "/spec/template/spec/containers/0/ports/0/containerPort", "/kind", "/apiVersion",
                               "/metadata/resourceVersion", "/metadata/uid", "/status", "/rules/0/verbs/0",
                               "metadata/name", "/~2", "/a/b/c/d", "/spec/replicas", "/9223372036854775808"]),
              st.text(max_size=20), st.integers()),
    junk, st.one_of(st.none(), st.sampled_from(["/metadata", "/spec", "", "/data", "/nope"])),
    st.sets(st.sampled_from(["op", "path", "value", "from"]), max_size=2),
)


@st.composite
def merge_doc(draw: st.DrawFn, kind: Kind) -> Any:
    """A merge patch: a sparse document along a real path, a whole mutated object, or junk."""
    choice = draw(st.sampled_from(["sparse", "sparse", "object", "junk"]))
    if choice == "object":
        return draw(mutated(kind, BASE))
    if choice == "junk":
        return draw(junk)
    path = draw(st.sampled_from(paths_of(kind.valid(BASE))))
    doc: Any = draw(junk | st.none())
    for key in reversed(path):
        doc = {str(key): doc}
    return doc


delete_options = st.dictionaries(
    st.sampled_from(["kind", "apiVersion", "gracePeriodSeconds", "preconditions", "orphanDependents",
                     "propagationPolicy", "dryRun", "bogus"]),
    st.one_of(junk, st.sampled_from([{"uid": "x"}, {"resourceVersion": "1"}, {"resourceVersion": []}, ["All"],
                                     "Foreground", "Orphan", "Background", "DeleteOptions"])),
    max_size=4,
)
write_queries = st.dictionaries(
    st.sampled_from(["dryRun", "fieldManager", "fieldValidation", "pretty", "bogus"]),
    st.one_of(st.sampled_from(["All", "all", "", "Strict", "Warn", "Ignore", "true", "x" * 200]), st.text(max_size=10)),
    max_size=2,
)


def query_string(params: dict[str, str]) -> str:
    pairs = [f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items()]
    return "?" + "&".join(pairs) if pairs else ""


ACCEPTS = [
    "application/json", "application/yaml", "*/*", "text/html", "application/vnd.kubernetes.protobuf",
    "application/vnd.kubernetes.protobuf, application/json", "application/json;as=Table;v=v1;g=meta.k8s.io",
    "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io",
    "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io", "application/json;as=Bogus;v=v9;g=x",
    ",,,;;;", "application/json;q=0", "", "application/*", "text/*", "image/png",
]


# ---- the fuzzers ------------------------------------------------------------------------------

VERBS = ["create", "update", "merge-patch", "json-patch", "delete", "deletecollection", "status", "scale"]


@FUZZ
@given(data=st.data(), kind=st.sampled_from(sorted(KINDS)), verb=st.sampled_from(VERBS))
def test_every_verb_answers_malformed_bodies_with_a_status(harness: Harness, data: st.DataObject, kind: str,
                                                           verb: str) -> None:
    k = KINDS[kind]
    ensure_base(harness, k)
    target = f"{k.collection}/{BASE}"
    query = data.draw(write_queries, label="query")
    if verb == "create":
        method, url, doc, ctype = "POST", k.collection, data.draw(mutated(k, data.draw(names))), "application/json"
    elif verb == "update":
        method, url, doc, ctype = "PUT", target, data.draw(mutated(k, BASE)), "application/json"
    elif verb == "merge-patch":
        method, url, doc, ctype = "PATCH", target, data.draw(merge_doc(k)), "application/merge-patch+json"
    elif verb == "json-patch":
        ops = data.draw(st.lists(json_patch_ops, max_size=5) | junk, label="ops")
        method, url, doc, ctype = "PATCH", target, ops, "application/json-patch+json"
    elif verb in ("delete", "deletecollection"):
        url = target if verb == "delete" else k.collection
        if data.draw(st.booleans(), label="dry run"):
            query["dryRun"] = "All"
        method, doc, ctype = "DELETE", data.draw(delete_options | junk, label="options"), "application/json"
    else:  # writes to a subresource, whether the kind has it or not
        method = data.draw(st.sampled_from(["PUT", "PATCH", "POST", "DELETE"]), label="method")
        url = f"{target}/{verb}"
        doc = data.draw(mutated(k, BASE) | merge_doc(k))
        ctype = "application/merge-patch+json" if method == "PATCH" else "application/json"
    body, ctype = data.draw(wire(doc, ctype), label="wire")
    headers = {"content-type": ctype} if ctype else {}
    if data.draw(st.booleans(), label="accept"):
        headers["accept"] = data.draw(st.sampled_from(ACCEPTS), label="accept header")
    harness.checked(method, url + query_string(query), content=body, headers=headers)




def _past_or_invalid(value: str) -> bool:
    """A resourceVersion or timeout the server answers at once (not in the future, not a long wait)."""
    try:
        return int(value) <= 1
    except ValueError:
        return True


def _continue_token(fields: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(fields).encode()).decode()


continue_tokens = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["abc", "e30=", "e30", "%ff", "====", "eyJ2Ijoi", "bnVsbA==", "WzFd"]),
    st.binary(max_size=40).map(lambda b: base64.urlsafe_b64encode(b).decode()),
    st.builds(
        lambda v, rv, start, drop: _continue_token({k: val for k, val in {"v": v, "rv": rv, "start": start}.items()
                                                    if k not in drop}),
        st.sampled_from(["meta.k8s.io/v1", "v2", "", None, 1]),
        st.sampled_from([1, 0, -1, "1", "x", 1.5, None, [], {}, True, "1e3"]),
        st.sampled_from(["", "a", "a\x00", "../x", "/x", "default/a", "..", "\x00", "x" * 300, None, 1, []]),
        st.sets(st.sampled_from(["v", "rv", "start"]), max_size=1),
    ),
)
resource_versions = st.one_of(
    st.sampled_from(["", "0", "1", "-1", " 1", "+1", "1_", "0_1", "1.0", "0x1", "\u0661", "x", "1e0",
                     "-99999999999999999999999"]),
    st.text(max_size=10).filter(_past_or_invalid),
)
timeouts = st.sampled_from(["0", "-1", "x", "1.5", "1e9", "-99999999999999999999", "nan", "\u0660"])
label_selectors = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["a=b", "a!=b", "a in (b,c)", "a notin (b)", "a", "!a", "a=b,c!=d", "a in ()", "a=", "=b",
                     "a in (b", "a==b", "a=b=c", "a>1", "a<1", "a gt 1", "a/b=c", "-a=b", "a=" + "b" * 64,
                     "x" * 64 + "=b", "kubernetes.io/x=y", "a,,b", ",", "a=(b)", "a in (b c)", "!!a", "a=b\x00"]),
)
field_selectors = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["metadata.name=a", "metadata.name!=a", "metadata.name==a", "metadata.namespace=default",
                     "metadata.name", "x=y", "spec.nodeName=n", "status.phase=Running", "spec.nodeName=",
                     "metadata.name=a\\,b", "metadata.name=a\\", "metadata.name in (a)", "type=Opaque",
                     "spec.clusterIP=None", "a=b=c", "=", ",", "metadata.name=a,metadata.name=b"]),
)
list_queries = st.fixed_dictionaries({}, optional={
    "labelSelector": label_selectors, "fieldSelector": field_selectors, "continue": continue_tokens,
    "limit": st.one_of(st.integers(min_value=-5, max_value=10).map(str),
                       st.sampled_from(["x", "", "1.5", "99999999999999999999999", "-0", " 2"])),
    "resourceVersion": resource_versions,
    "resourceVersionMatch": st.sampled_from(["", "Exact", "NotOlderThan", "exact", "Bogus"]),
    "watch": st.sampled_from(["true", "1", "false", "0", "t", "TRUE", "yes", ""]),
    "allowWatchBookmarks": st.sampled_from(["true", "false", "x"]),
    "sendInitialEvents": st.sampled_from(["true", "false", "x", ""]),
    "timeoutSeconds": timeouts,
    "pretty": st.sampled_from(["true", "x"]),
    "includeUninitialized": st.just("true"),
})


@FUZZ
@given(kind=st.sampled_from(sorted(KINDS)), query=list_queries, one=st.booleans(), in_path=st.booleans(),
       accept=st.sampled_from(ACCEPTS))
def test_list_and_watch_options_answer_with_a_status(harness: Harness, kind: str, query: dict[str, str], one: bool,
                                                     in_path: bool, accept: str) -> None:
    """Selectors, continue tokens, limits and resourceVersions in every combination, in every output form."""
    k = KINDS[kind]
    ensure_base(harness, k)
    query.setdefault("timeoutSeconds", "0")  # a watch ends at once (ASGITransport buffers whole responses)
    url = f"{k.collection}/{BASE}" if one else k.collection
    if in_path:  # the deprecated /watch/ form
        url = url.replace("/v1/", "/v1/watch/", 1)
    harness.checked("GET", url + query_string(query), headers={"accept": accept})


SEGMENTS = [
    "api", "apis", "v1", "v2", "apps", "namespaces", "default", "kube-system", "configmaps", "pods", "deployments",
    "services", "secrets", "clusterroles", "rbac.authorization.k8s.io", "watch", "status", "scale", "log", "exec",
    "proxy", "finalize", BASE, "", ".", "..", "%00", "%2F", "%ff", "%", "a%2Fb", "~", "*", "x" * 300,
    "openapi", "healthz", "version", "readyz", "livez", "metrics", "apis:", "namespaces;x",
]
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "FOO", "get", "PROPFIND"]


@FUZZ
@given(method=st.sampled_from(METHODS),
       segments=st.lists(st.sampled_from(SEGMENTS) | st.text(max_size=12).map(lambda s: quote(s, safe="")),
                         max_size=9),
       query=st.dictionaries(st.text(max_size=8) | st.sampled_from(["watch", "limit", "labelSelector"]),
                             st.text(max_size=12), max_size=3),
       body=st.binary(max_size=64) | st.sampled_from([b"", b"{}", b"[]", b"null"]),
       content_type=st.sampled_from(CONTENT_TYPES), accept=st.sampled_from(ACCEPTS))
def test_odd_paths_methods_and_queries_answer_with_a_status(harness: Harness, method: str, segments: list[str],
                                                            query: dict[str, str], body: bytes, content_type: str,
                                                            accept: str) -> None:
    query = {k: v for k, v in query.items() if k.lower() not in ("timeoutseconds", "resourceversion")}
    query["timeoutSeconds"] = "0"
    raw_path = ("/" + "/".join(segments)).encode("ascii")
    url = httpx.URL("http://test").copy_with(raw_path=raw_path + query_string(query).encode())
    headers = {"content-type": content_type, "accept": accept}
    harness.checked(method, url, content=body, headers=headers)


odd_text = st.one_of(st.sampled_from(ODD_STRINGS), st.text(max_size=20),
                     st.text(st.characters(min_codepoint=0x80, max_codepoint=0x10FFFF, exclude_categories=["Cs"]),
                             min_size=1, max_size=8))


@st.composite
def with_odd_strings(draw: st.DrawFn, kind: Kind, name: str) -> dict[str, Any]:
    """A valid object with a few of its strings, or map keys, swapped for odd text (non-ASCII, controls, ...)."""
    obj = kind.valid(name)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        strings = [p for p in paths_of(obj) if isinstance(_at(obj, p), str) and p[:2] != ("metadata", "name")]
        maps = [p for p in [(), *paths_of(obj)] if isinstance(_at(obj, p), dict) and _at(obj, p)]
        if strings and draw(st.booleans()):
            set_path(obj, draw(st.sampled_from(strings)), draw(odd_text))
        elif maps:
            node = _at(obj, draw(st.sampled_from(maps)))
            key = draw(st.sampled_from(sorted(node)))
            node[draw(odd_text)] = node.pop(key)
    return obj


def _at(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        doc = doc[key]
    return doc


@FUZZ
@given(data=st.data(), kind=st.sampled_from(sorted(KINDS)), verb=st.sampled_from(["create", "update", "merge-patch"]))
def test_odd_strings_anywhere_answer_with_a_status(harness: Harness, data: st.DataObject, kind: str, verb: str) -> None:
    k = KINDS[kind]
    ensure_base(harness, k)
    if verb == "create":
        obj = data.draw(with_odd_strings(k, data.draw(names)))
        harness.checked("POST", k.collection, content=encode(obj), headers={"content-type": "application/json"})
    else:
        obj = data.draw(with_odd_strings(k, BASE))
        method, ctype = ("PUT", "application/json") if verb == "update" else ("PATCH", "application/merge-patch+json")
        harness.checked(method, f"{k.collection}/{BASE}", content=encode(obj), headers={"content-type": ctype})


# YAML has values JSON has not: keys that are no strings, bytes (!!binary), sets, dates and times.
# kube's YAML decoder (sigs.k8s.io/yaml) turns them into JSON or refuses the body; never a 500.
yaml_keys = st.one_of(st.integers(min_value=-3, max_value=3), st.booleans(), st.none(), st.dates(),
                      st.floats(allow_nan=False, allow_infinity=False, width=16))
yaml_only = st.one_of(
    st.binary(max_size=6), st.sets(st.integers(min_value=0, max_value=3) | st.text(max_size=3), max_size=3),
    st.dates(), st.datetimes(),
    st.dictionaries(yaml_keys, st.text(max_size=4) | st.binary(max_size=4) | st.dates(), min_size=1, max_size=2),
    st.lists(st.binary(max_size=4) | st.dates() | st.sets(st.booleans(), max_size=2), min_size=1, max_size=2),
)


@st.composite
def yaml_mutated(draw: st.DrawFn, kind: Kind, name: str) -> bytes:
    """A valid object in YAML with a few nodes made YAML-only values, or joined by non-string keys."""
    obj: Any = kind.valid(name)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from([(), *paths_of(obj)]))
        parent: Any = obj
        for key in path:
            parent = parent[key]
        if isinstance(parent, dict) and draw(st.booleans()):
            parent[draw(yaml_keys)] = draw(st.text(max_size=4) | yaml_only)
        elif path:
            set_path(obj, path, draw(yaml_only))
    return yaml.safe_dump(obj, sort_keys=False, allow_unicode=True).encode()


@FUZZ
@given(data=st.data(), kind=st.sampled_from(sorted(KINDS)),
       verb=st.sampled_from(["create", "update", "delete", "deletecollection", "status"]),
       content_type=st.sampled_from(["application/yaml", "application/x-yaml", "text/yaml"]))
def test_yaml_bodies_with_values_json_has_not_answer_with_a_status(harness: Harness, data: st.DataObject, kind: str,
                                                                  verb: str, content_type: str) -> None:
    k = KINDS[kind]
    ensure_base(harness, k)
    target = f"{k.collection}/{BASE}"
    if verb == "create":
        method, url, body = "POST", k.collection, data.draw(yaml_mutated(k, data.draw(names)))
    elif verb in ("update", "status"):
        method, url, body = "PUT", target + ("/status" if verb == "status" else ""), data.draw(yaml_mutated(k, BASE))
    else:
        options = data.draw(st.dictionaries(st.sampled_from(["dryRun", "preconditions", "propagationPolicy",
                                                             "gracePeriodSeconds", "kind"]), yaml_only, max_size=3))
        method, url = "DELETE", (target if verb == "delete" else k.collection) + "?dryRun=All"
        body = yaml.safe_dump(options, sort_keys=False).encode()
    harness.checked(method, url, content=body, headers={"content-type": content_type})


# ---- known hostile requests, each once ---------------------------------------------------------

CM = KINDS["configmaps"].collection
DEPLOY = KINDS["deployments"].collection
YAML = "application/yaml"
JSON = "application/json"

HOSTILE: list[tuple[str, str, str, bytes, str]] = [  # (id, method, url, body, content type)
    ("yaml-int-key", "POST", CM, b"metadata: {name: y1}\n1: 3", YAML),
    ("yaml-bool-key", "POST", CM, b"metadata: {name: y2}\nyes: 3", YAML),
    ("yaml-null-key", "POST", CM, b"metadata: {name: y3}\nnull: 3", YAML),
    ("yaml-int-key-nested", "POST", DEPLOY, b"metadata: {name: y4}\nspec: {template: {x: {1: 2}}}", YAML),
    ("yaml-binary", "POST", CM, b"metadata: {name: y5}\nx: !!binary aGVsbG8=", YAML),
    ("yaml-set", "POST", CM, b"metadata: {name: y6}\nx: !!set {a, b}", YAML),
    ("yaml-binary-in-list", "POST", CM, b"metadata: {name: y7}\nx: [!!binary aGk=]", YAML),
    ("yaml-date-key", "POST", CM, b"metadata: {name: y8}\nx: {2001-01-01: 1}", YAML),
    ("yaml-recursive-alias", "POST", CM, b"metadata: {name: y9}\nx: &a [*a]", YAML),
    ("yaml-python-tag", "POST", CM, b"metadata: {name: y10}\nx: !!python/object/apply:os.system [true]", YAML),
    ("yaml-int-key-put", "PUT", f"{CM}/{BASE}", b"metadata: {name: fuzz-base}\n1: 3", YAML),
    ("yaml-int-key-delete", "DELETE", f"{CM}/nope", b"1: 3", YAML),
    ("yaml-binary-delete", "DELETE", CM, b"dryRun: [!!binary aGk=]", YAML),
    ("json-deep-100", "POST", CM, b'{"metadata":{"name":"d1"},"x":' + deep_text(100, "list").encode() + b"}", JSON),
    ("json-deep-300", "POST", CM, b'{"metadata":{"name":"d2"},"x":' + deep_text(300, "object").encode() + b"}", JSON),
    ("json-deep-2000", "POST", CM, deep_text(2000, "object").encode(), JSON),
    ("json-deep-100000", "PUT", f"{CM}/{BASE}", deep_text(100_000, "list").encode(), JSON),
    ("merge-deep-300", "PATCH", f"{CM}/{BASE}", b'{"x":' + deep_text(300, "list").encode() + b"}",
     "application/merge-patch+json"),
    ("merge-deep-2000", "PATCH", f"{CM}/{BASE}", b'{"x":' + deep_text(2000, "object").encode() + b"}",
     "application/merge-patch+json"),
    ("json-patch-deep-value", "PATCH", f"{CM}/{BASE}",
     b'[{"op":"add","path":"/x","value":' + deep_text(300, "list").encode() + b"}]", "application/json-patch+json"),
    ("json-patch-deep-by-steps", "PATCH", f"{CM}/{BASE}",
     encode([{"op": "add", "path": "/x" + "/a" * i, "value": {}} for i in range(300)]),
     "application/json-patch+json"),
    ("json-invalid-utf8-name", "POST", CM, b'{"metadata":{"name":"a\xff"}}', JSON),
    ("json-lone-surrogate", "POST", CM, b'{"metadata":{"name":"s"},"data":{"a":"\\ud800"}}', JSON),
    ("json-huge-int", "POST", CM, b'{"metadata":{"name":"h"},"x":123456789012345678901234567890}', JSON),
    ("json-huge-float", "POST", CM, b'{"metadata":{"name":"f"},"x":1e400}', JSON),
    ("merge-huge-int", "PATCH", f"{CM}/{BASE}", b'{"x":123456789012345678901234567890}',
     "application/merge-patch+json"),
    ("json-patch-huge-index", "PATCH", f"{CM}/{BASE}",
     b'[{"op":"add","path":"/x","value":[]},{"op":"add","path":"/x/99999999999999999999","value":1}]',
     "application/json-patch+json"),
    ("scale-huge-replicas", "PATCH", f"{DEPLOY}/{BASE}/scale", b'{"spec":{"replicas":99999999999999999999}}',
     "application/merge-patch+json"),
    ("deployment-huge-replicas", "PATCH", f"{DEPLOY}/{BASE}", b'{"spec":{"replicas":99999999999999999999}}',
     "application/merge-patch+json"),
    ("trailing-slash-healthz", "GET", "/healthz/", b"", ""),
    ("trailing-slash-version", "GET", "/version/", b"", ""),
    ("unicode-unknown-field", "POST", CM, '{"metadata":{"name":"u1"},"日本":1}'.encode(), JSON),
    ("unicode-unknown-metadata-field", "PUT", f"{CM}/{BASE}", '{"metadata":{"name":"fuzz-base","Ā":1}}'.encode(),
     JSON),
    ("yaml-int-key-in-data", "POST", CM, b"metadata: {name: y11}\ndata: {1: a}", YAML),
    ("yaml-bool-key-in-labels", "POST", CM, b"metadata: {name: y12, labels: {true: a}}", YAML),
    ("secret-data-non-ascii", "POST", KINDS["secrets"].collection, '{"metadata":{"name":"s1"},"data":{"k":"é"}}'.encode(),
     JSON),
    ("configmap-binary-data-non-ascii", "POST", CM, '{"metadata":{"name":"c1"},"binaryData":{"k":"日本"}}'.encode(),
     JSON),
    ("continue-huge-rv", "GET", CM + "?continue=" + _continue_token({"v": "meta.k8s.io/v1", "rv": 2**70,
                                                                      "start": "a"}), b"", ""),
]


@pytest.mark.parametrize(("method", "url", "body", "content_type"), [case[1:] for case in HOSTILE],
                         ids=[case[0] for case in HOSTILE])
def test_known_hostile_requests_answer_with_a_status(harness: Harness, method: str, url: str, body: bytes,
                                                     content_type: str) -> None:
    for kind in ("configmaps", "deployments"):
        ensure_base(harness, KINDS[kind])
    headers = {"content-type": content_type} if content_type else {}
    harness.checked(method, url, content=body, headers=headers)


# ---- methods a path does not serve -------------------------------------------------------------

NOT_ALLOWED = [  # kube installs no route for these: 405, and nothing changes
    ("DELETE", f"{DEPLOY}/{BASE}/status"),
    ("DELETE", f"{DEPLOY}/{BASE}/scale"),
    ("DELETE", "/api/v1/namespaces"),  # namespaces have no deletecollection verb
    ("POST", "/api/v1/watch/namespaces/default/configmaps"),
    ("PUT", f"/api/v1/watch/namespaces/default/configmaps/{BASE}"),
    ("PATCH", f"/api/v1/watch/namespaces/default/configmaps/{BASE}"),
    ("DELETE", "/api/v1/watch/namespaces/default/configmaps"),
    ("DELETE", f"/api/v1/watch/namespaces/default/configmaps/{BASE}"),
]


@pytest.mark.parametrize(("method", "url"), NOT_ALLOWED, ids=[f"{m} {u}" for m, u in NOT_ALLOWED])
def test_methods_a_path_does_not_serve_are_405_and_change_nothing(harness: Harness, method: str, url: str) -> None:
    for kind in ("configmaps", "deployments", "namespaces"):
        ensure_base(harness, KINDS[kind])
    watched = [f"{KINDS[k].collection}/{BASE}" for k in ("configmaps", "deployments", "namespaces")]
    before = [harness.request("GET", u).json() for u in watched]
    body = b"{}" if method in ("POST", "PUT", "PATCH") else None
    headers = {"content-type": "application/merge-patch+json" if method == "PATCH" else JSON}
    resp = harness.checked(method, url + "?timeoutSeconds=0", content=body, headers=headers)
    assert resp.status_code == 405, f"{method} {url} -> {resp.status_code} {resp.text[:300]}"
    assert [harness.request("GET", u).json() for u in watched] == before
