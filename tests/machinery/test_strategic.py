"""Strategic merge patch as kube-apiserver 1.35 applies it, driven by the built-in OpenAPI definitions.

Expected objects follow apimachinery's strategicpatch (v0.35.7) as its patch_test.go exercises it: merge lists
keep the patch's order for patched elements and the live order for the rest (new elements go first unless a
$setElementOrder places them), and deletions followed by additions see the live list as Go's shared slices
leave it.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from machinery.errors import ApiError, BadRequest, InternalError
from machinery.patch import REJECTED, UnprocessablePatch, apply_merge_patch
from machinery.schemas import SchemaNode, definition_for, definitions, node, node_for
from machinery.strategic import (
    MAX_MERGE_DEPTH,
    ApiserverPanic,
    PatchFailed,
    apply_strategic_merge_patch,
)

POD = node_for("", "v1", "Pod")
DEPLOYMENT = node_for("apps", "v1", "Deployment")
PDB = node_for("policy", "v1", "PodDisruptionBudget")
assert POD is not None and DEPLOYMENT is not None and PDB is not None


def smp(live: dict[str, Any], patch: Any, schema: SchemaNode | None = POD) -> dict[str, Any]:
    return apply_strategic_merge_patch(live, patch if isinstance(patch, bytes) else orjson.dumps(patch), schema)


def pod(*containers: dict[str, Any], meta: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", **(meta or {})},
            "spec": {"containers": list(containers), **spec}}  # fmt: skip


def c(name: str, image: str | None = None, **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": image or f"{name}:1", **fields}


def spec(*containers: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A pod patch touching spec only."""
    return {"spec": {"containers": list(containers), **fields} if containers else fields}


LIVE = pod(
    c(
        "a",
        ports=[{"containerPort": 80, "name": "http"}, {"containerPort": 443}],
        env=[{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}],
    ),
    c("b"),
    meta={"labels": {"app": "p", "tier": "web"}, "finalizers": ["f1", "f2"]},
    tolerations=[{"key": "k1", "operator": "Exists"}],
    securityContext={"runAsUser": 1000, "fsGroup": 2000},
    volumes=[{"name": "data", "emptyDir": {}}],
)


def live_with(**changes: Any) -> dict[str, Any]:
    """LIVE with spec members replaced ("metadata.x" replaces a metadata member; None removes)."""
    obj = copy.deepcopy(LIVE)
    for path, value in changes.items():
        where = obj["metadata"] if path.startswith("metadata_") else obj["spec"]
        key = path.removeprefix("metadata_")
        if value is None:
            where.pop(key, None)
        else:
            where[key] = value
    return obj


A, B = LIVE["spec"]["containers"]


# ----------------------------------------------------------------------------------------------------------
# Maps: merged member by member, null deletes, new values arrive without nulls and directives.


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ({}, LIVE),
        (b"null", LIVE),
        ({"metadata": {"labels": {"tier": None, "team": "x"}}}, live_with(metadata_labels={"app": "p", "team": "x"})),
        ({"metadata": {"annotations": None}}, LIVE),
        (spec(securityContext={"runAsUser": 1}), live_with(securityContext={"runAsUser": 1, "fsGroup": 2000})),
        (spec(securityContext=None), live_with(securityContext=None)),
        (spec(dnsConfig={"options": [{"name": "ndots", "value": None}], "searches": None}), live_with(dnsConfig={"options": [{"name": "ndots"}]})),
        (spec(hostname={"not": "a string"}), live_with(hostname={"not": "a string"})),
        (spec(securityContext="replaced by a scalar"), live_with(securityContext="replaced by a scalar")),
        ({"metadata": {"labels": {"$patch": "replace", "new": "1"}}}, live_with(metadata_labels={"new": "1"})),
        (spec(securityContext={"$patch": "delete"}), live_with(securityContext={})),
        (spec(affinity={"$patch": "delete"}), LIVE),
        (spec(affinity={"nodeAffinity": {"$patch": "delete"}, "podAffinity": {}}), live_with(affinity={"podAffinity": {}})),
        (spec(extra={"a": 1}), live_with(extra={"a": 1})),
    ],
    ids=[
        "empty patch", "null patch", "labels merge and null deletes", "null for an absent member",
        "nested maps merge", "null deletes a map", "new values lose their nulls", "another type replaces",
        "a scalar replaces a map", "$patch replace on a map", "$patch delete empties a live map",
        "$patch delete of an absent map adds nothing", "new values lose members with directives", "unknown fields merge",
    ],
)  # fmt: skip
def test_maps_merge_as_kube_merges_them(patch: Any, expected: dict[str, Any]) -> None:
    assert smp(LIVE, patch) == expected


def test_a_map_with_the_replace_strategy_is_replaced_not_merged() -> None:
    live = {"spec": {"selector": {"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "k", "operator": "Exists"}]}}}
    assert smp(live, {"spec": {"selector": {"matchLabels": {"b": "2"}}}}, PDB) == {
        "spec": {"selector": {"matchLabels": {"b": "2"}}}
    }


# ----------------------------------------------------------------------------------------------------------
# Lists: merged by merge key or as sets where the schema says so, replaced otherwise.


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        (spec(c("a", "a:2")), live_with(containers=[{**A, "image": "a:2"}, B])),
        (spec(c("z")), live_with(containers=[c("z"), A, B])),
        (spec({"name": "a", "ports": [{"containerPort": 443, "name": "https"}, {"containerPort": 8080}]}),
         live_with(containers=[{**A, "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 443, "name": "https"}, {"containerPort": 8080}]}, B])),
        (spec({"name": "a", "env": [{"name": "Y", "value": "3"}, {"name": "Z", "value": "4"}]}),
         live_with(containers=[{**A, "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "3"}, {"name": "Z", "value": "4"}]}, B])),
        (spec({"name": "a", "env": [{"name": "X", "$patch": "delete"}]}), live_with(containers=[{**A, "env": [{"name": "Y", "value": "2"}]}, B])),
        (spec({"name": "b", "$patch": "delete"}), live_with(containers=[A])),
        (spec({"name": "nope", "$patch": "delete"}), LIVE),
        (spec(c("only"), {"$patch": "replace"}), live_with(containers=[c("only")])),
        (spec({"$patch": "replace"}), live_with(containers=[])),
        (spec({"name": "a", "env": None}), live_with(containers=[{k: v for k, v in A.items() if k != "env"}, B])),
        (spec(tolerations=[{"key": "k2", "operator": "Exists"}]), live_with(tolerations=[{"key": "k2", "operator": "Exists"}])),
        (spec({"name": "a", "args": ["x"]}), live_with(containers=[{**A, "args": ["x"]}, B])),
        (spec(volumes=[{"name": "cache", "emptyDir": {}}]), live_with(volumes=[{"name": "cache", "emptyDir": {}}, {"name": "data", "emptyDir": {}}])),
        (spec(initContainers=[c("i"), {"name": "j", "$patch": "delete"}, {"name": "k", "image": None}]), live_with(initContainers=[c("i"), {"name": "k"}])),
    ],
    ids=[
        "containers merge by name", "a new container goes first", "ports merge by containerPort",
        "env merges by name", "$patch delete of an env var", "$patch delete of a container",
        "$patch delete of a missing element", "$patch replace keeps the other elements", "$patch replace alone empties the list",
        "null deletes a list", "lists without a strategy are replaced", "atomic scalar lists are replaced",
        "volumes merge by name", "a new list loses directives and nulls",
    ],
)  # fmt: skip
def test_lists_of_objects_merge_by_their_merge_key(patch: Any, expected: dict[str, Any]) -> None:
    assert smp(LIVE, patch) == expected


@pytest.mark.parametrize(
    ("patch", "finalizers"),
    [
        ({"metadata": {"finalizers": ["f2", "f3"]}}, ["f1", "f2", "f3"]),
        ({"metadata": {"finalizers": ["f3"]}}, ["f3", "f1", "f2"]),
        ({"metadata": {"$deleteFromPrimitiveList/finalizers": ["f1", "nope"]}}, ["f2"]),
        ({"metadata": {"finalizers": ["f3"], "$deleteFromPrimitiveList/finalizers": ["f1"]}}, ["f3", "f2"]),
        ({"metadata": {"$setElementOrder/finalizers": ["f2", "f3", "f1"], "finalizers": ["f3"]}}, ["f2", "f3", "f1"]),
        ({"metadata": {"$setElementOrder/finalizers": ["f2"], "$deleteFromPrimitiveList/finalizers": ["f1"]}}, ["f2"]),
        ({"metadata": {"finalizers": ["f1", "f1"]}}, ["f1", "f2"]),
    ],
    ids=["set union", "new values go first", "delete from a primitive list", "add and delete", "set the element order",
         "order and delete", "duplicates collapse"],
)  # fmt: skip
def test_finalizers_merge_as_a_set(patch: dict[str, Any], finalizers: list[str]) -> None:
    assert smp(LIVE, patch)["metadata"]["finalizers"] == finalizers


def test_a_null_deletion_list_removes_the_whole_list() -> None:
    """apimachinery strips the directive prefix before it looks at the null."""
    assert "finalizers" not in smp(LIVE, {"metadata": {"$deleteFromPrimitiveList/finalizers": None}})["metadata"]


@pytest.mark.parametrize(
    ("live", "patch", "names"),
    [
        (["a", "b"], {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}, ["b", "a"]),
        (["a", "b"], {"$setElementOrder/containers": [{"name": "a"}, {"name": "c"}, {"name": "b"}], "containers": [c("c")]}, ["a", "c", "b"]),
        (["a", "b", "c"], {"$setElementOrder/containers": [{"name": "a"}, {"name": "d"}], "containers": [c("d"), {"name": "b", "$patch": "delete"}]}, ["a", "c", "d"]),
        (["a", "b", "x"], {"$setElementOrder/containers": [{"name": "b"}, {"name": "c"}], "containers": [c("c"), {"name": "a", "$patch": "delete"}]}, ["b", "x", "c"]),
        ([], {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}], "containers": [c("b"), c("a")]}, ["b", "a"]),
    ],
    ids=["reorder", "insert in place", "delete and add, as kubectl apply sends it", "delete before the others", "a new list"],
)  # fmt: skip
def test_set_element_order_places_merged_elements(live: list[str], patch: dict[str, Any], names: list[str]) -> None:
    result = smp(pod(*(c(n) for n in live)), {"spec": patch})
    assert [x["name"] for x in result["spec"]["containers"]] == names


def test_retain_keys_clears_the_members_it_does_not_list() -> None:
    live = {
        "spec": {
            "replicas": 2,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
        }
    }
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    assert smp(live, patch, DEPLOYMENT) == {"spec": {"replicas": 2, "strategy": {"type": "Recreate"}}}


def test_retain_keys_applies_inside_merged_list_elements() -> None:
    patch = spec(volumes=[{"name": "data", "$retainKeys": ["name", "hostPath"], "hostPath": {"path": "/srv"}}])
    assert smp(LIVE, patch)["spec"]["volumes"] == [{"name": "data", "hostPath": {"path": "/srv"}}]


def test_fields_without_a_schema_merge_like_json_merge_patch() -> None:
    live = {"spec": {"extra": {"list": [1, 2], "keep": True, "drop": 1}}, "other": [{"name": "a"}]}
    patch = {"spec": {"extra": {"list": [3], "drop": None}}, "other": [{"name": "b"}]}
    expected = {"spec": {"extra": {"list": [3], "keep": True}}, "other": [{"name": "b"}]}
    assert smp(live, patch) == expected
    assert smp(live, patch, None) == expected


# ----------------------------------------------------------------------------------------------------------
# kubectl's client-side apply: the three-way patches it sends, applied to the live object in turn.

APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
CONFIG_V1: dict[str, Any] = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "labels": {"app": "web", "tier": "old"}},
    "spec": {
        "replicas": 2, "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
            {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}], "ports": [{"containerPort": 80}]},
            {"name": "sidecar", "image": "side:1"},
        ]}},
    },
}  # fmt: skip
DEFAULTED = {"imagePullPolicy": "IfNotPresent", "terminationMessagePath": "/dev/termination-log"}


def live_v1() -> dict[str, Any]:
    """What the server holds after `kubectl apply` of v1, defaults filled in, and others' changes since."""
    live = copy.deepcopy(CONFIG_V1)
    live["metadata"]["labels"]["team"] = "x"  # kubectl label
    live["metadata"]["annotations"] = {APPLIED: orjson.dumps(CONFIG_V1).decode()}
    live["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}
    containers = live["spec"]["template"]["spec"]["containers"]
    containers[0]["ports"][0]["protocol"] = "TCP"
    containers.append({"name": "injected", "image": "mesh:1"})  # a mutating webhook
    for container in containers:
        container.update(DEFAULTED)
    return live


def test_repeated_client_side_applies_change_and_remove_fields() -> None:
    # v2: new image, env B removed and C added, sidecar replaced by logger, label tier dropped, Recreate.
    patch_v2 = {
        "metadata": {"annotations": {APPLIED: "<v2>"}, "labels": {"tier": None}},
        "spec": {
            "strategy": {"$retainKeys": ["type"], "type": "Recreate"},
            "template": {"spec": {
                "$setElementOrder/containers": [{"name": "app"}, {"name": "logger"}],
                "containers": [
                    {"name": "app", "image": "app:2", "$setElementOrder/env": [{"name": "A"}, {"name": "C"}],
                     "env": [{"name": "C", "value": "3"}, {"name": "B", "$patch": "delete"}]},
                    {"name": "logger", "image": "log:1"},
                    {"name": "sidecar", "$patch": "delete"},
                ],
            }},
        },
    }  # fmt: skip
    v2 = smp(live_v1(), patch_v2, DEPLOYMENT)
    app = {"name": "app", "image": "app:2", "env": [{"name": "A", "value": "1"}, {"name": "C", "value": "3"}],
           "ports": [{"containerPort": 80, "protocol": "TCP"}], **DEFAULTED}  # fmt: skip
    injected = {"name": "injected", "image": "mesh:1", **DEFAULTED}
    assert v2["metadata"] == {"name": "web", "labels": {"app": "web", "team": "x"}, "annotations": {APPLIED: "<v2>"}}
    assert v2["spec"]["strategy"] == {"type": "Recreate"}
    assert v2["spec"]["template"]["spec"]["containers"] == [app, injected, {"name": "logger", "image": "log:1"}]

    # v3: env and logger gone, three replicas, a label added back.
    patch_v3 = {
        "metadata": {"annotations": {APPLIED: "<v3>"}, "labels": {"tier": "new"}},
        "spec": {
            "replicas": 3,
            "template": {"spec": {
                "$setElementOrder/containers": [{"name": "app"}],
                "containers": [{"name": "app", "image": "app:3", "env": None}, {"name": "logger", "$patch": "delete"}],
            }},
        },
    }  # fmt: skip
    v3 = smp(v2, patch_v3, DEPLOYMENT)
    assert v3["metadata"]["labels"] == {"app": "web", "team": "x", "tier": "new"}
    assert v3["spec"]["replicas"] == 3
    assert v3["spec"]["strategy"] == {"type": "Recreate"}
    app3 = {k: v for k, v in app.items() if k != "env"} | {"image": "app:3"}
    assert v3["spec"]["template"]["spec"]["containers"] == [app3, injected]

    # Re-applying v3 unchanged sends only the order; nothing moves.
    again = {"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "app"}]}}}}
    assert smp(v3, again, DEPLOYMENT) == v3


# ----------------------------------------------------------------------------------------------------------
# Errors, as handlers/patch.go maps them.


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (b"{", "unexpected end of JSON input"),
        (b"", "unexpected end of JSON input"),
        (b"{'a': 1}", "invalid character '\\'' looking for beginning of object key string"),
        (b"[]", "json: cannot unmarshal array into Go value of type map[string]interface {}"),
        (b'"x"', "json: cannot unmarshal string into Go value of type map[string]interface {}"),
        (b'{"a": 1e400}', "json: cannot unmarshal number 1e400 into Go value of type float64"),
        ({"metadata": {"$deleteFromPrimitiveList": ["f1"]}}, "invalid patch format of primitive list"),
        ({"metadata": {"$deleteFromPrimitiveListX/finalizers": ["f1"]}}, "invalid patch format of primitive list"),
        (spec(**{"$retainKeys": "containers"}), "invalid patch format of retainKeys"),
        (spec(hostname="h", **{"$retainKeys": ["containers"]}), "invalid patch format of retainKeys"),
        (spec(**{"$setElementOrderX/containers": []}), "invalid patch format of setElementOrder list"),
    ],
)
def test_undecodable_or_malformed_patches_are_bad_requests(patch: Any, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        smp(LIVE, patch)
    assert caught.value.message == message
    assert caught.value.status()["code"] == 400


def test_a_list_of_lists_is_invalid_with_kubes_generic_message() -> None:
    with pytest.raises(UnprocessablePatch) as caught:
        smp(live_with(metadata_finalizers=[]), {"metadata": {"finalizers": [["x"]]}})
    assert caught.value.why == "lists of lists are not supported"
    assert caught.value.status() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": REJECTED,
        "reason": "Invalid", "details": {}, "code": 422,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (spec({"image": "x"}), "map: map[image:x] does not contain declared merge key: name"),
        (spec({"name": "a", "$patch": "merge"}), "merging lists cannot yet be specified in the patch"),
        (spec({"name": "a", "$patch": 5}), "unknown patch type: %!s(int64=5) in map: map[$patch:5 name:a]"),
        (spec(securityContext={"$patch": "bogus", "x": 1.5e7}), "unknown patch type: bogus in map: map[$patch:bogus x:1.5e+07]"),
        (spec(securityContext={"$patch": "merge"}), "unknown patch type: merge in map: map[$patch:merge]"),
        (spec(**{"$setElementOrder/containers": "a"}), "expected a []interface {}, but received a string"),
        (spec(c("b"), c("a"), **{"$setElementOrder/containers": [{"name": "a"}]}),
         "The order in patch list:\n[map[image:b:1 name:b] map[image:a:1 name:a]]\n doesn't match $setElementOrder list:\n[map[name:a]]\n"),
        ({"metadata": {"finalizers": [1, None]}}, "list element types are not identical: [[f1 f2] [1 <nil>]]"),
        ({"spec": {"containers": [None]}}, "list element types are not identical: [[map[env:[map[name:X value:1] map[name:Y value:2]] image:a:1 name:a ports:[map[containerPort:80 name:http] map[containerPort:443]]] map[image:b:1 name:b]] [<nil>]]"),
        ({"metadata": {"$setElementOrder/labels": []}}, "expected a []interface {}, but received a map[string]interface {}"),
        ({"metadata": {"$setElementOrder/annotations": [], "annotations": []}}, "no elements in any of the given slices"),
    ],
)  # fmt: skip
def test_what_apimachinery_refuses_is_passed_on_as_a_500_without_reason(patch: Any, message: str) -> None:
    with pytest.raises(PatchFailed) as caught:
        smp(LIVE, patch)
    assert caught.value.message == message
    assert caught.value.status() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "code": 500,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("patch", "why"),
    [
        ({"metadata": {"$setElementOrder/finalizers": [{"a": 1}]}}, "runtime error: hash of unhashable type map[string]interface {}"),
        (spec({"name": {"x": 1}}), "runtime error: comparing uncomparable type map[string]interface {}"),
        ({"metadata": {"$retainKeys": [[]], "name": "p"}}, "runtime error: hash of unhashable type []interface {}"),
        ({"metadata": {"ownerReferences": [None]}, "spec": {}}, None),
    ],
)  # fmt: skip
def test_input_that_makes_apimachinery_panic_is_an_internal_error(patch: Any, why: str | None) -> None:
    live = live_with(metadata_ownerReferences=[]) if why is None else LIVE
    with pytest.raises(ApiserverPanic) as caught:
        smp(live, patch)
    assert caught.value.code == 500
    assert caught.value.message == ApiserverPanic.PANIC
    assert caught.value.why == why or "nil pointer" in caught.value.why


# ----------------------------------------------------------------------------------------------------------
# Inputs: never mutated; bounded depth; nothing but API errors comes out.


def test_the_live_object_is_never_mutated_and_never_shared() -> None:
    live = copy.deepcopy(LIVE)
    patch = {
        "spec": {
            "$setElementOrder/containers": [{"name": "a"}, {"name": "c"}],
            "containers": [c("c"), {"name": "b", "$patch": "delete"}],
        }
    }
    result = smp(live, patch)
    assert live == LIVE
    result["spec"]["containers"][0]["env"].append({"name": "Z"})
    assert live == LIVE
    with pytest.raises(PatchFailed):
        smp(live, {"metadata": {"finalizers": [1]}, "spec": {"securityContext": None}})
    assert live == LIVE


def test_patch_bytes_may_be_any_bytes_like_or_text() -> None:
    for form in (b"{}", bytearray(b"{}"), memoryview(b"{}"), "{}"):
        assert apply_strategic_merge_patch(LIVE, form, POD) == LIVE  # type: ignore[arg-type]


def test_wrong_python_types_are_internal_errors() -> None:
    with pytest.raises(InternalError):
        apply_strategic_merge_patch([], b"{}", POD)  # type: ignore[arg-type]
    with pytest.raises(InternalError):
        apply_strategic_merge_patch(LIVE, 42, POD)  # type: ignore[arg-type]


def nested(depth: int, leaf: Any) -> dict[str, Any]:
    value: dict[str, Any] = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


def test_merges_nested_up_to_the_bound_succeed_and_deeper_ones_are_internal_errors() -> None:
    result = smp(nested(MAX_MERGE_DEPTH - 1, {"x": 1}), orjson.dumps(nested(MAX_MERGE_DEPTH - 1, {"y": 2})), None)
    for _ in range(MAX_MERGE_DEPTH - 1):
        result = result["a"]
    assert result == {"x": 1, "y": 2}
    with pytest.raises(InternalError):
        smp(nested(MAX_MERGE_DEPTH, {"x": 1}), orjson.dumps(nested(MAX_MERGE_DEPTH, {"y": 2})), None)


def test_deep_patch_values_with_no_live_counterpart_need_no_recursion() -> None:
    deep = b'{"a":' * 1000 + b'{"$patch":"delete"}' + b"}" * 1000  # orjson.dumps stops at 254 levels
    result = smp({"b": 1}, deep, None)
    depth = 0
    while "a" in result:
        depth, result = depth + 1, result["a"]
    assert (depth, result) == (999, {})


KEYS = st.sampled_from(
    [
        "name",
        "image",
        "env",
        "value",
        "containers",
        "finalizers",
        "x",
        "$patch",
        "$retainKeys",
        "$setElementOrder/containers",
        "$setElementOrder/env",
        "$deleteFromPrimitiveList/finalizers",
    ]
)
DIRECTIVES = st.sampled_from(["replace", "delete", "merge", "name", "x", "value"])
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False, allow_infinity=False) | DIRECTIVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=15,
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(patch=st.dictionaries(st.sampled_from(["metadata", "spec", "$patch", "$retainKeys"]), VALUES, max_size=3))
def test_any_patch_answers_with_an_object_or_an_api_error(patch: dict[str, Any]) -> None:
    with contextlib.suppress(ApiError):
        assert isinstance(smp(LIVE, patch), dict)
    assert live_with() == LIVE


PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=2),
    lambda inner: st.lists(st.booleans() | st.integers(-3, 3) | st.text(max_size=2), max_size=3) | st.dictionaries(st.sampled_from("abc"), inner, max_size=3),
    max_leaves=15,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    live=st.dictionaries(st.sampled_from("abc"), PLAIN, max_size=3),
    patch=st.dictionaries(st.sampled_from("abc"), PLAIN, max_size=3),
)
def test_without_schema_or_directives_it_is_json_merge_patch(live: dict[str, Any], patch: dict[str, Any]) -> None:
    """Short of objects with nulls inside lists, which strategic merge keeps in replaced lists (merge patch
    prunes them)."""
    data = orjson.dumps(patch)
    assert smp(live, data, None) == apply_merge_patch(live, data)


# ----------------------------------------------------------------------------------------------------------
# The schemas behind it.


def test_built_in_kinds_are_found_by_group_version_and_kind() -> None:
    assert definition_for("", "v1", "Pod") == "io.k8s.api.core.v1.Pod"
    assert definition_for("apps", "v1", "Deployment") == "io.k8s.api.apps.v1.Deployment"
    assert definition_for("example.com", "v1", "Widget") is None
    assert node_for("example.com", "v1", "Widget") is None
    assert definitions() is definitions()
    with pytest.raises(KeyError):
        node("io.k8s.api.core.v1.Nope")


def test_schema_nodes_carry_the_patch_and_list_extensions() -> None:
    assert POD is not None and DEPLOYMENT is not None and PDB is not None
    pod_spec = POD.field("spec")
    assert pod_spec is not None and pod_spec.name == "io.k8s.api.core.v1.PodSpec" and pod_spec.is_object
    containers = pod_spec.field("containers")
    assert containers is not None and containers.is_list and not containers.is_object
    assert (containers.patch_strategy, containers.merge_key, containers.list_type, containers.map_keys) == (
        "merge",
        "name",
        "map",
        ("name",),
    )
    container = containers.items()
    assert (
        container is not None and container.name == "io.k8s.api.core.v1.Container" and "image" in container.field_names
    )
    ports = container.field("ports")
    assert ports is not None and (ports.merge_key, ports.map_keys) == ("containerPort", ("containerPort", "protocol"))
    volumes = pod_spec.field("volumes")
    assert volumes is not None and volumes.patch_strategies == ("merge", "retainKeys")
    strategy = DEPLOYMENT.field("spec").field("strategy")  # type: ignore[union-attr]
    assert strategy is not None and strategy.patch_strategy == "retainKeys" and strategy.merge_key is None
    meta = POD.field("metadata")
    assert meta is not None
    labels, finalizers = meta.field("labels"), meta.field("finalizers")
    assert labels is not None and labels.is_map and not labels.is_object and labels.field("any") is not None
    assert finalizers is not None and (finalizers.patch_strategy, finalizers.list_type) == ("merge", "set")
    selector = PDB.field("spec").field("selector")  # type: ignore[union-attr]
    assert selector is not None and (selector.patch_strategy, selector.map_type) == ("replace", "atomic")
    assert pod_spec.field("nope") is None and containers.field("name") is None and pod_spec.items() is None
    assert "containers" in pod_spec.required


def test_schema_nodes_know_free_form_and_int_or_string_values() -> None:
    port = node("io.k8s.api.core.v1.ServicePort").field("targetPort")
    assert port is not None and port.types == {"string", "integer"} and port.format is None
    created = node("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta").field("creationTimestamp")
    assert created is not None and created.types == {"string"} and created.format == "date-time"
    raw = node("io.k8s.api.apps.v1.ControllerRevision").field("data")
    assert raw is not None and raw.is_free_form and raw.is_object and raw.field("anything") is None
    assert not node("io.k8s.api.core.v1.Pod").is_free_form


def test_schema_nodes_resolve_other_definition_sets() -> None:
    """OpenAPI v3 documents name definitions under components/schemas and wrap references in allOf."""
    defs = {
        "item": {"type": "object", "properties": {
            "children": {"type": "array", "items": {"allOf": [{"$ref": "#/components/schemas/item"}]},
                         "x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": "id"},
            "id": {"type": "string"},
        }},
    }  # fmt: skip
    item = node("item", defs)
    children = item.field("children")
    assert children is not None and children.merge_key == "id"
    child = children.items()
    assert child is not None and child.name == "item" and child.field("id") is not None
    live = {"children": [{"id": "a", "children": [{"id": "x", "v": 1}]}]}
    patch = {"children": [{"id": "a", "children": [{"id": "y"}]}, {"id": "b"}]}
    assert smp(live, patch, item) == {
        "children": [{"id": "a", "children": [{"id": "y"}, {"id": "x", "v": 1}]}, {"id": "b"}]
    }
