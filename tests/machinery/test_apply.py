"""Server-side apply and managedFields as kube-apiserver 1.35 keeps them.

Expected managedFields come from kube's own tests where they exist: k8s.io/apimachinery
pkg/util/managedfields/internal/{managedfields,conflict}_test.go and kubernetes
test/integration/apiserver/apply/apply_test.go (TestApplyManagedFields, TestDuplicatesInAssociativeLists,
TestApplyConvertsManagedFieldsVersion, TestUpgradeClientSideToServerSideApply, ...). Times are fixed strings.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
import yaml

from machinery.apply import (
    ApplyConflict,
    Manager,
    apply,
    decode_managed_fields,
    default_manager,
    encode_managed_fields,
    update,
)
from machinery.errors import BadRequest
from machinery.fieldpath import FieldSet, PathElement, Shape, make_path, path_string, to_field_set
from machinery.schemas import SchemaNode, node_for
from machinery.strategic import PatchFailed

DEPLOYMENT = node_for("apps", "v1", "Deployment")
DAEMONSET = node_for("apps", "v1", "DaemonSet")
CONFIGMAP = node_for("", "v1", "ConfigMap")
POD = node_for("", "v1", "Pod")
SERVICE = node_for("", "v1", "Service")
assert DEPLOYMENT and DAEMONSET and CONFIGMAP and POD and SERVICE

T0, T1, T2, T3 = "2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z", "2024-01-01T00:00:02Z", "2024-01-01T00:00:03Z"


def fields_of(obj: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    """(manager, operation, subresource, fieldsV1) of each entry, in order."""
    return [(e.get("manager", ""), e["operation"], e.get("subresource", ""), e["fieldsV1"])
            for e in obj["metadata"].get("managedFields", [])]


def fields_json(obj: dict[str, Any], manager: str) -> str:
    """An entry's fieldsV1 as kube writes the raw bytes."""
    (entry,) = [e for e in obj["metadata"]["managedFields"] if e["manager"] == manager]
    return orjson.dumps(entry["fieldsV1"]).decode()


def stored(obj: dict[str, Any], uid: str = "uid-1") -> dict[str, Any]:
    """The object as storage would keep it (a uid marks it as existing)."""
    out = copy.deepcopy(obj)
    out["metadata"]["uid"] = uid
    return out


def deployment(**spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "replicas": 3,
        "selector": {"matchLabels": {"app": "nginx"}},
        "template": {"metadata": {"labels": {"app": "nginx"}},
                     "spec": {"containers": [{"name": "nginx", "image": "nginx:latest"}]}},
    }
    base.update(spec)
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "deployment", "namespace": "default", "labels": {"app": "nginx"}}, "spec": base}


def apply_deployment(live: dict[str, Any] | None, config: dict[str, Any], manager: str, now: str = T1,
                     force: bool = False) -> dict[str, Any]:
    return stored(apply(live, config, DEPLOYMENT, manager=manager, force=force, api_version="apps/v1", now=now))


def update_deployment(live: dict[str, Any], new: dict[str, Any], manager: str, now: str = T2) -> dict[str, Any]:
    return stored(update(live, new, DEPLOYMENT, manager=manager, api_version="apps/v1", now=now))


# ---- FieldsV1 -----------------------------------------------------------------------------------------------

ROUND_TRIPS = [  # managedfields_test.go TestRoundTripManagedFields
    """- apiVersion: v1
  fieldsType: FieldsV1
  fieldsV1:
    v:3:
      f:alsoPi: {}
    v:3.1415:
      f:pi: {}
    v:false:
      f:notTrue: {}
  manager: foo
  operation: Update
  time: "2001-02-03T04:05:06Z"
- apiVersion: v1beta1
  fieldsType: FieldsV1
  fieldsV1:
    i:5:
      f:i: {}
  manager: foo
  operation: Update
  time: "2011-12-13T14:15:16Z"
""",
    """- apiVersion: v1
  fieldsType: FieldsV1
  fieldsV1:
    f:spec:
      f:containers:
        k:{"name":"c"}:
          f:image: {}
          f:name: {}
  manager: foo
  operation: Apply
""",
    """- apiVersion: v1
  fieldsType: FieldsV1
  fieldsV1:
    f:apiVersion: {}
    f:kind: {}
    f:metadata:
      f:labels:
        f:app: {}
      f:name: {}
    f:spec:
      f:replicas: {}
      f:selector:
        f:matchLabels:
          f:app: {}
      f:template:
        f:medatada:
          f:labels:
            f:app: {}
        f:spec:
          f:containers:
            k:{"name":"nginx"}:
              .: {}
              f:image: {}
              f:name: {}
              f:ports:
                i:0:
                  f:containerPort: {}
  manager: foo
  operation: Update
""",
    """- apiVersion: v1
  fieldsType: FieldsV1
  fieldsV1:
    f:spec:
      f:replicas: {}
  manager: foo
  operation: Update
  subresource: scale
""",
]


@pytest.mark.parametrize("text", ROUND_TRIPS)
def test_managed_fields_round_trip_as_kube_encodes_them(text: str) -> None:
    entries = yaml.safe_load(text)
    encoded = encode_managed_fields(decode_managed_fields(entries))
    assert encoded == entries
    assert [orjson.dumps(e["fieldsV1"]) for e in encoded] == [orjson.dumps(e["fieldsV1"]) for e in entries]


@pytest.mark.parametrize(
    ("pe", "key", "pretty"),
    [
        (PathElement.field("spec"), "f:spec", ".spec"),
        (PathElement.key({"name": "web"}), 'k:{"name":"web"}', '[name="web"]'),
        (PathElement.key({"protocol": "TCP", "containerPort": 80}), 'k:{"containerPort":80,"protocol":"TCP"}',
         '[containerPort=80,protocol="TCP"]'),
        (PathElement.of_value("a<b"), 'v:"a\\u003cb"', '[="a<b"]'),
        (PathElement.of_value(3.5), "v:3.5", "[=3.5]"),
        (PathElement.of_value(True), "v:true", "[=true]"),
        (PathElement.index(2), "i:2", "[2]"),
    ],
)
def test_path_elements_serialize_and_print_as_smd(pe: PathElement, key: str, pretty: str) -> None:
    assert pe.serialize() == key
    assert str(pe) == pretty
    assert PathElement.parse(key) == pe


@pytest.mark.parametrize("key", ["x", "fx", 'k:["a"]', "i:one", 'v:"unterminated'])
def test_malformed_path_elements_are_refused(key: str) -> None:
    with pytest.raises(ValueError):
        PathElement.parse(key)


def test_unknown_path_element_types_are_skipped() -> None:
    assert PathElement.parse("z:future") is None
    assert FieldSet.from_fields_v1({"f:a": {"z:future": {}}}) == FieldSet.of(make_path("a"))


def test_fields_v1_orders_fields_keys_values_indexes() -> None:
    s = FieldSet.of(
        make_path("list", 1), make_path("list", PathElement.of_value("x")), make_path("list", PathElement.of_value(2)),
        make_path("list", PathElement.key({"k": "b"}), "f"), make_path("list", PathElement.key({"k": "a"})),
        make_path("list", "z"), make_path("a"),
    )
    assert list(s.to_fields_v1()["f:list"]) == ["f:z", 'k:{"k":"a"}', 'k:{"k":"b"}', "v:2", 'v:"x"', "i:1"]
    assert [path_string(p) for p in s] == [
        ".a", '.list.z', '.list[k="a"]', ".list[=2]", '.list[="x"]', ".list[1]", '.list[k="b"].f']


def test_a_member_with_children_carries_a_dot() -> None:
    s = FieldSet.of(make_path("spec"), make_path("spec", "replicas"), make_path("metadata", "labels", "app"))
    assert s.to_fields_v1() == {"f:metadata": {"f:labels": {"f:app": {}}}, "f:spec": {".": {}, "f:replicas": {}}}
    assert FieldSet.from_fields_v1(s.to_fields_v1()) == s


A, AB, ABC, AD = make_path("a"), make_path("a", "b"), make_path("a", "b", "c"), make_path("a", "d")


@pytest.mark.parametrize(
    ("op", "left", "right", "expected"),
    [
        ("union", [AB], [AD], [AB, AD]),
        ("intersection", [AB, AD], [AD, ABC], [AD]),
        ("difference", [AB, AD], [AD], [AB]),
        ("difference", [A, ABC], [A], [ABC]),  # a parent leaves its children in place
        ("difference", [AB], [ABC], [AB]),
        ("recursive_difference", [A, ABC, AD], [AB], [A, AD]),  # a member takes its subtree along
    ],
)
def test_set_operations_follow_smd(op: str, left: list[Any], right: list[Any], expected: list[Any]) -> None:
    assert getattr(FieldSet.of(*left), op)(FieldSet.of(*right)) == FieldSet.of(*expected)


def test_applied_fields_as_kube_records_them() -> None:
    """TestApplyConvertsManagedFieldsVersion: the raw FieldsV1 kube stores for this configuration."""
    config = {"apiVersion": "apps/v1", "kind": "Deployment",
              "metadata": {"name": "deployment", "labels": {"sidecar_version": "release"}},
              "spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "sidecar:latest"}]}}}}
    out = apply(None, config, DEPLOYMENT, manager="sidecar_controller", force=False, api_version="apps/v1", now=T0)
    assert fields_json(out, "sidecar_controller") == (
        '{"f:metadata":{"f:labels":{"f:sidecar_version":{}}},"f:spec":{"f:template":{"f:spec":{"f:containers":'
        '{"k:{\\"name\\":\\"sidecar\\"}":{".":{},"f:image":{},"f:name":{}}}}}}}')


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"metadata": {"finalizers": ["a", "b"]}}, {"f:metadata": {"f:finalizers": {"v:\"a\"": {}, "v:\"b\"": {}}}}),
        ({"spec": {"template": {"spec": {"containers": [{"name": "c", "args": ["x"]}]}}}},
         {"f:spec": {"f:template": {"f:spec": {"f:containers": {'k:{"name":"c"}': {
             ".": {}, "f:args": {}, "f:name": {}}}}}}}),
        ({"spec": {"strategy": {}, "paused": None}}, {"f:spec": {"f:paused": {}, "f:strategy": {}}}),
        ({"spec": {"template": {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80}]}]}}}},
         {"f:spec": {"f:template": {"f:spec": {"f:containers": {'k:{"name":"c"}': {".": {}, "f:name": {}, "f:ports": {
             'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}}}}}}}}),
    ],
    ids=["set", "atomic-list", "empty-and-null", "defaulted-key"],
)
def test_field_sets_follow_list_and_map_types(value: dict[str, Any], expected: dict[str, Any]) -> None:
    assert to_field_set(value, Shape.of(DEPLOYMENT)).to_fields_v1() == expected


def test_custom_resources_are_typed_by_their_structural_schema() -> None:
    schema = SchemaNode.of({"type": "object", "properties": {
        "spec": {"type": "object", "properties": {
            "items": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["id"],
                      "items": {"type": "object", "properties": {"id": {"type": "integer"},
                                                                 "v": {"type": "string"}}}},
            "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
            "blob": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            "sel": {"type": "object", "x-kubernetes-map-type": "atomic",
                    "properties": {"a": {"type": "string"}}}}}}}, {})
    value = {"metadata": {"labels": {"x": "y"}},
             "spec": {"items": [{"id": 1, "v": "a"}], "tags": ["t"], "blob": {"deep": {"er": 1}}, "sel": {"a": "b"}}}
    assert to_field_set(value, Shape.of(schema)).to_fields_v1() == {
        "f:metadata": {"f:labels": {"f:x": {}}},
        "f:spec": {"f:blob": {"f:deep": {".": {}, "f:er": {}}}, "f:items": {"k:{\"id\":1}": {".": {}, "f:id": {},
                                                                                                "f:v": {}}},
                   "f:sel": {}, "f:tags": {'v:"t"': {}}}}


# ---- managers ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user_agent", "manager"),
    [
        ("kubectl/v1.35.0 (linux/amd64) kubernetes/66452049f3d", "kubectl"),
        ("helm/v4.0.0", "helm"),
        ("Go-http-client/1.1", "Go-http-client"),
        ("", ""),
        ("tab\there/1", "tabhere"),
        ("é" * 70, "é" * 64),  # 128 bytes at most
    ],
)
def test_default_manager_is_the_user_agent_prefix(user_agent: str, manager: str) -> None:
    assert default_manager(user_agent) == manager


@pytest.mark.parametrize(
    ("manager", "identifier", "described"),
    [
        (Manager("foo", "Update", "v1"), '{"manager":"foo","operation":"Update","apiVersion":"v1"}',
         '"foo" using v1'),
        (Manager("foo", "Apply"), '{"manager":"foo","operation":"Apply"}', '"foo"'),
        (Manager("foo", "Apply", "", "scale"), '{"manager":"foo","operation":"Apply","subresource":"scale"}',
         '"foo" with subresource "scale"'),
        (Manager("foo", "Update", "v1", "scale"), '{"manager":"foo","operation":"Update","apiVersion":"v1",'
         '"subresource":"scale"}', '"foo" with subresource "scale" using v1'),
    ],
)
def test_managers_are_identified_and_printed_as_kube_does(manager: Manager, identifier: str, described: str) -> None:
    assert manager.identifier == identifier
    assert manager.describe() == described


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        ({"manager": "m", "operation": "Invalid", "apiVersion": "v1", "fieldsType": "FieldsV1"}, "operation must be"),
        ({"manager": "m", "operation": "Apply", "fieldsType": "FieldsV1"}, "apiVersion must not be empty"),
        ({"manager": "m", "operation": "Apply", "apiVersion": "v1"}, "missing fieldsType in managed fields entry 0"),
        ({"manager": "m", "operation": "Apply", "apiVersion": "v1", "fieldsType": "FieldsV2"},
         'invalid fieldsType "FieldsV2"'),
        ({"manager": "m", "operation": "Apply", "apiVersion": "v1", "fieldsType": "FieldsV1",
          "fieldsV1": {"nocolon": {}}}, "missing colon"),
    ],
)
def test_invalid_managed_fields_entries_are_refused(entry: dict[str, Any], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        decode_managed_fields([entry])


# ---- apply and update: kube's integration scenarios -------------------------------------------------------------

CM = {"apiVersion": "v1", "kind": "ConfigMap",
      "metadata": {"name": "test-cm", "namespace": "default", "labels": {"test-label": "test"}},
      "data": {"key": "value"}}


def test_apply_creates_and_updates_take_fields_away() -> None:
    """TestApplyManagedFields."""
    created = stored(apply(None, CM, CONFIGMAP, manager="apply_test", force=False, api_version="v1", now=T0))
    assert created["data"] == {"key": "value"}
    patched = copy.deepcopy(created)
    patched["data"]["new-key"] = "value"
    patched = stored(update(created, patched, CONFIGMAP, manager="updater", api_version="v1", now=T1))
    again = copy.deepcopy(patched)
    again["data"]["key"] = "new value"
    out = update(patched, again, CONFIGMAP, manager="updater", api_version="v1", now=T2)
    assert out["metadata"]["managedFields"] == [
        {"manager": "apply_test", "operation": "Apply", "apiVersion": "v1", "time": T0, "fieldsType": "FieldsV1",
         "fieldsV1": {"f:metadata": {"f:labels": {"f:test-label": {}}}}},
        {"manager": "updater", "operation": "Update", "apiVersion": "v1", "time": T2, "fieldsType": "FieldsV1",
         "fieldsV1": {"f:data": {"f:key": {}, "f:new-key": {}}}},
    ]
    assert out["data"] == {"key": "new value", "new-key": "value"}


def test_apply_of_nothing_leaves_no_entries() -> None:
    """TestApplyRemovesEmptyManagedFields."""
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "test-cm", "namespace": "default"}}
    created = stored(apply(None, config, CONFIGMAP, manager="apply_test", force=False, api_version="v1", now=T0))
    again = apply(created, config, CONFIGMAP, manager="apply_test", force=False, api_version="v1", now=T1)
    assert "managedFields" not in again["metadata"]


def test_reapplying_without_a_field_removes_it() -> None:
    """TestApplyUnsetExclusivelyOwnedFields."""
    first = deployment()
    first["spec"]["template"]["spec"]["hostname"] = "test-hostname"
    live = apply_deployment(None, first, "apply_test")
    out = apply_deployment(live, {**deployment(), "spec": {k: v for k, v in deployment()["spec"].items()
                                                           if k != "replicas"}}, "apply_test", T2)
    assert "replicas" not in out["spec"]
    assert "hostname" not in out["spec"]["template"]["spec"]
    assert out["metadata"]["labels"] == {"app": "nginx"}
    assert out["metadata"]["uid"] == "uid-1"


def test_fields_another_applier_also_sets_stay() -> None:
    """TestApplyUnsetSharedFields: both managers own replicas; one letting go keeps it."""
    live = apply_deployment(None, deployment(), "shared_owner_1")
    live = apply_deployment(live, deployment(), "shared_owner_2", T2)
    without = deployment()
    del without["spec"]["replicas"]
    out = apply_deployment(live, without, "shared_owner_1", T3)
    assert out["spec"]["replicas"] == 3
    assert fields_json(out, "shared_owner_2").count("f:replicas") == 1
    assert "f:replicas" not in fields_json(out, "shared_owner_1")


def test_an_update_takes_a_field_the_applier_then_drops() -> None:
    """TestApplyCanTransferFieldOwnershipToController."""
    live = apply_deployment(None, deployment(), "test_applier")
    scaled = copy.deepcopy(live)
    scaled["spec"]["replicas"] = 4
    live = update_deployment(live, scaled, "test_updater")
    without = deployment()
    del without["spec"]["replicas"]
    out = apply_deployment(live, without, "test_applier", T3)
    assert out["spec"]["replicas"] == 4


def test_applier_removes_a_container_a_controller_changed() -> None:
    """TestApplyCanRemoveMapItemsContributedToByControllers."""
    live = apply_deployment(None, deployment(), "test_applier")
    changed = copy.deepcopy(live)
    changed["spec"]["template"]["spec"]["containers"][0]["workingDir"] = "/home/replacement"
    live = update_deployment(live, changed, "test_updater")
    other = deployment()
    other["spec"]["template"]["spec"]["containers"] = [{"name": "other-container", "image": "nginx:latest"}]
    out = apply_deployment(live, other, "test_applier", T3)
    assert out["spec"]["template"]["spec"]["containers"] == [{"name": "other-container", "image": "nginx:latest"}]


def test_two_appliers_of_disjoint_fields_coexist() -> None:
    live = apply_deployment(None, deployment(), "first")
    labels = {"apiVersion": "apps/v1", "kind": "Deployment",
              "metadata": {"name": "deployment", "labels": {"team": "a"}}}
    out = apply_deployment(live, labels, "second", T2)
    assert out["metadata"]["labels"] == {"app": "nginx", "team": "a"}
    assert [(m, op) for m, op, _, _ in fields_of(out)] == [("first", "Apply"), ("second", "Apply")]
    assert fields_json(out, "second") == '{"f:metadata":{"f:labels":{"f:team":{}}}}'


# ---- conflicts -----------------------------------------------------------------------------------------------


def test_changing_a_field_an_updater_owns_conflicts() -> None:
    """TestApplyUpdateApplyConflictForced, with kube's message and causes."""
    live = apply_deployment(None, deployment(), "apply_test")
    scaled = copy.deepcopy(live)
    scaled["spec"]["replicas"] = 5
    live = update_deployment(live, scaled, "kubectl-client-side-apply")
    with pytest.raises(ApplyConflict) as caught:
        apply_deployment(live, deployment(), "apply_test", T3)
    err = caught.value
    assert err.message == (
        'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas')
    assert err.status() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": err.message,
        "reason": "Conflict", "details": {"causes": [{
            "reason": "FieldManagerConflict", "message": 'conflict with "kubectl-client-side-apply" using apps/v1',
            "field": ".spec.replicas"}]}, "code": 409}
    forced = apply_deployment(live, deployment(), "apply_test", T3, force=True)
    assert forced["spec"]["replicas"] == 3
    assert [m for m, _, _, _ in fields_of(forced)] == ["apply_test"]  # the updater had nothing else


def test_same_values_are_shared_not_conflicting() -> None:
    """TestApplyAlsoCreates: a second manager applying the same object shares every field."""
    live = apply_deployment(None, deployment(), "apply_test")
    out = apply_deployment(live, deployment(), "apply_test_2", T2)
    assert fields_json(out, "apply_test") == fields_json(out, "apply_test_2")


def test_conflicts_with_several_managers_are_grouped() -> None:
    live = apply_deployment(None, deployment(), "a")
    changed = copy.deepcopy(live)
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1"
    live = update_deployment(live, changed, "b")
    config = deployment(replicas=7)
    config["metadata"]["labels"] = {"app": "other"}
    config["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2"
    with pytest.raises(ApplyConflict) as caught:
        apply_deployment(live, config, "c", T3)
    assert caught.value.message == (
        'Apply failed with 3 conflicts: conflicts with "a":\n'
        "- .metadata.labels.app\n"
        "- .spec.replicas\n"
        'conflicts with "b" using apps/v1:\n'
        '- .spec.template.spec.containers[name="nginx"].image')
    assert [c.field for c in caught.value.conflicts] == [
        ".metadata.labels.app", ".spec.replicas", '.spec.template.spec.containers[name="nginx"].image']


def test_a_changed_list_map_key_conflicts_once() -> None:
    """TestDefaultMissingKeys: protocol defaults to TCP in the key, so both ports are the same element."""
    config = deployment()
    config["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"name": "foo", "containerPort": 80}]
    live = apply_deployment(None, config, "test_applier")
    config["spec"]["template"]["spec"]["containers"][0]["ports"] = [
        {"name": "bar", "containerPort": 80, "protocol": "TCP"}]
    with pytest.raises(ApplyConflict) as caught:
        apply_deployment(live, config, "test_applier_conflict", T2)
    assert [c.field for c in caught.value.conflicts] == [
        '.spec.template.spec.containers[name="nginx"].ports[containerPort=80,protocol="TCP"].name']


def test_client_side_apply_then_server_side_apply_by_another_manager() -> None:
    created = deployment()
    live = stored(update(None, created, DEPLOYMENT, manager="kubectl-client-side-apply", api_version="apps/v1",
                         now=T0))
    config = deployment(replicas=5)
    with pytest.raises(ApplyConflict, match='conflict with "kubectl-client-side-apply" using apps/v1: '
                                            r"\.spec\.replicas"):
        apply_deployment(live, config, "helm", T1)
    out = apply_deployment(live, deployment(), "helm", T1)  # same values: no conflict, shared
    assert [(m, op) for m, op, _, _ in fields_of(out)] == [("helm", "Apply"), ("kubectl-client-side-apply", "Update")]


def test_kubectl_takes_over_what_its_client_side_apply_last_set() -> None:
    """TestUpgradeClientSideToServerSideApply."""
    last = ('{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"my-deployment","labels":{"app":'
            '"my-app"}},"spec":{"replicas": 3,"template":{"metadata":{"labels":{"app":"my-app"}},"spec":'
            '{"containers":[{"name":"my-c","image":"my-image"}]}}}}\n')
    obj = {"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "my-deployment", "namespace": "default", "labels": {"app": "my-app"},
                        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": last}},
           "spec": {"replicas": 100000, "selector": {"matchLabels": {"app": "my-app"}},
                    "template": {"metadata": {"labels": {"app": "my-app"}},
                                 "spec": {"containers": [{"name": "my-c", "image": "my-image"}]}}}}
    live = stored(update(None, obj, DEPLOYMENT, manager="before", api_version="apps/v1", now=T0))
    config: dict[str, Any] = {"apiVersion": "apps/v1", "kind": "Deployment",
                              "metadata": {"name": "my-deployment", "labels": {"app": "my-new-label"}},
                              "spec": {"replicas": 3, "template": {"metadata": {"labels": {"app": "my-app"}},
                                       "spec": {"containers": [{"name": "my-c", "image": "my-image"}]}}}}
    with pytest.raises(ApplyConflict) as caught:
        apply_deployment(live, config, "kubectl", T1)
    assert [c.field for c in caught.value.conflicts] == [".spec.replicas"]
    del config["spec"]["replicas"]
    config["spec"]["template"]["spec"]["containers"][0]["image"] = "my-image-new"
    out = apply_deployment(live, config, "kubectl", T1)
    assert out["spec"]["replicas"] == 100000
    assert out["spec"]["template"]["spec"]["containers"][0]["image"] == "my-image-new"
    assert out["metadata"]["labels"] == {"app": "my-new-label"}
    assert out["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] == (
        '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"labels":{"app":"my-new-label"},"name":'
        '"my-deployment"},"spec":{"template":{"metadata":{"labels":{"app":"my-app"}},"spec":{"containers":'
        '[{"image":"my-image-new","name":"my-c"}]}}}}\n')


# ---- merging by list type --------------------------------------------------------------------------------------


def test_containers_merge_by_name() -> None:
    live = apply_deployment(None, deployment(), "a")
    sidecar = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "deployment"},
               "spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "sidecar:1"}]}}}}
    out = apply_deployment(live, sidecar, "b", T2)
    assert out["spec"]["template"]["spec"]["containers"] == [
        {"name": "nginx", "image": "nginx:latest"}, {"name": "sidecar", "image": "sidecar:1"}]
    assert fields_json(out, "b") == (
        '{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\\"name\\":\\"sidecar\\"}":{".":{},"f:image":{},'
        '"f:name":{}}}}}}}')
    gone = copy.deepcopy(sidecar)
    gone["spec"]["template"]["spec"]["containers"] = []
    out = apply_deployment(out, gone, "b", T3)
    assert out["spec"]["template"]["spec"]["containers"] == [{"name": "nginx", "image": "nginx:latest"}]


def test_new_list_map_elements_follow_the_applied_order() -> None:
    live = apply_deployment(None, deployment(), "a")
    config = deployment()
    config["spec"]["template"]["spec"]["containers"] = [
        {"name": "first", "image": "x"}, {"name": "nginx", "image": "nginx:latest"}, {"name": "last", "image": "y"}]
    out = apply_deployment(live, config, "a", T2)
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["first", "nginx", "last"]


def test_set_lists_merge_by_value() -> None:
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "finalizers": ["a.io/one"]}}
    live = stored(apply(None, config, CONFIGMAP, manager="one", force=False, api_version="v1", now=T0))
    other = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "finalizers": ["b.io/two"]}}
    out = apply(live, other, CONFIGMAP, manager="two", force=False, api_version="v1", now=T1)
    assert out["metadata"]["finalizers"] == ["a.io/one", "b.io/two"]
    assert fields_of(out)[1][3] == {"f:metadata": {"f:finalizers": {'v:"b.io/two"': {}}}}


def test_atomic_lists_are_replaced_and_owned_whole() -> None:
    config = deployment()
    config["spec"]["template"]["spec"]["containers"][0]["args"] = ["a", "b"]
    live = apply_deployment(None, config, "a")
    config["spec"]["template"]["spec"]["containers"][0]["args"] = ["c"]
    out = apply_deployment(live, config, "a", T2)
    assert out["spec"]["template"]["spec"]["containers"][0]["args"] == ["c"]
    with pytest.raises(ApplyConflict, match=r'conflict with "a": \.spec\.template\.spec\.containers\[name="nginx"\]'
                                            r"\.args$"):
        config["spec"]["template"]["spec"]["containers"][0]["args"] = ["d"]
        apply_deployment(out, config, "b", T3)


def test_atomic_maps_are_replaced() -> None:
    live = apply_deployment(None, deployment(), "a")
    config = deployment(selector={"matchExpressions": [{"key": "app", "operator": "Exists"}]})
    out = apply_deployment(live, config, "a", T2, force=True)
    assert out["spec"]["selector"] == {"matchExpressions": [{"key": "app", "operator": "Exists"}]}


def test_duplicates_in_list_maps_as_kube_tracks_them() -> None:
    """TestDuplicatesInAssociativeLists: create, apply, update, force-apply; every step's managedFields."""
    container = {"name": "nginx", "image": "nginx", "imagePullPolicy": "Always", "resources": {},
                 "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
                 "ports": [{"name": "port0", "containerPort": 1, "protocol": "TCP"},
                           {"name": "port1", "containerPort": 80, "protocol": "TCP"},
                           {"name": "port2", "containerPort": 80, "protocol": "TCP"}],
                 "env": [{"name": "ENV0", "value": "/env0value"}, {"name": "PATH", "value": "/bin"},
                         {"name": "PATH", "value": "$PATH:/usr/bin"}]}
    ds: dict[str, Any] = {
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "example-daemonset", "namespace": "default", "labels": {"app": "example"},
                     "annotations": {"deprecated.daemonset.template.generation": "1"}},
        "spec": {"selector": {"matchLabels": {"app": "example"}}, "revisionHistoryLimit": 10,
                 "template": {"metadata": {"labels": {"app": "example"}},
                              "spec": {"containers": [container], "restartPolicy": "Always",
                                       "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
                                       "securityContext": {}, "schedulerName": "default-scheduler"}},
                 "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}},
        "status": {"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0,
                   "numberReady": 0}}
    live = stored(update(None, ds, DAEMONSET, manager="create", api_version="apps/v1", now=T0,
                         reset_fields=[("status",)]))
    create_fields = fields_of(live)[0][3]
    assert create_fields == {
        "f:metadata": {"f:annotations": {".": {}, "f:deprecated.daemonset.template.generation": {}},
                       "f:labels": {".": {}, "f:app": {}}},
        "f:spec": {
            "f:revisionHistoryLimit": {}, "f:selector": {},
            "f:template": {
                "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                "f:spec": {
                    "f:containers": {'k:{"name":"nginx"}': {
                        ".": {},
                        "f:env": {".": {}, 'k:{"name":"ENV0"}': {".": {}, "f:name": {}, "f:value": {}},
                                  'k:{"name":"PATH"}': {}},
                        "f:image": {}, "f:imagePullPolicy": {}, "f:name": {},
                        "f:ports": {".": {}, 'k:{"containerPort":1,"protocol":"TCP"}': {
                            ".": {}, "f:containerPort": {}, "f:name": {}, "f:protocol": {}},
                            'k:{"containerPort":80,"protocol":"TCP"}': {}},
                        "f:resources": {}, "f:terminationMessagePath": {}, "f:terminationMessagePolicy": {}}},
                    "f:dnsPolicy": {}, "f:restartPolicy": {}, "f:schedulerName": {}, "f:securityContext": {},
                    "f:terminationGracePeriodSeconds": {}}},
            "f:updateStrategy": {"f:rollingUpdate": {".": {}, "f:maxSurge": {}, "f:maxUnavailable": {}},
                                 "f:type": {}}}}

    config = {"apiVersion": "apps/v1", "kind": "DaemonSet",
              "metadata": {"name": "example-daemonset", "labels": {"app": "example"}},
              "spec": {"selector": {"matchLabels": {"app": "example"}}, "template": {"spec": {"containers": [
                  {"name": "nginx", "image": "nginx", "ports": [{"name": "port3", "containerPort": 443}],
                   "env": [{"name": "HOME", "value": "/usr/home"}]}]}}}}
    live = stored(apply(live, config, DAEMONSET, manager="apply", force=False, api_version="apps/v1", now=T1))
    merged = live["spec"]["template"]["spec"]["containers"][0]
    assert [e["name"] for e in merged["env"]] == ["ENV0", "PATH", "PATH", "HOME"]
    assert [p["name"] for p in merged["ports"]] == ["port0", "port1", "port2", "port3"]
    apply_fields = {
        "f:metadata": {"f:labels": {"f:app": {}}},
        "f:spec": {"f:selector": {}, "f:template": {"f:spec": {"f:containers": {'k:{"name":"nginx"}': {
            ".": {}, "f:env": {'k:{"name":"HOME"}': {".": {}, "f:name": {}, "f:value": {}}},
            "f:image": {}, "f:name": {},
            "f:ports": {'k:{"containerPort":443,"protocol":"TCP"}': {".": {}, "f:containerPort": {},
                                                                     "f:name": {}}}}}}}}}
    assert fields_of(live) == [("apply", "Apply", "", apply_fields), ("create", "Update", "", create_fields)]
    merged["ports"][-1]["protocol"] = "TCP"  # the server defaults after applying

    put = copy.deepcopy(live)
    put["metadata"]["annotations"]["deprecated.daemonset.template.generation"] = "2"
    put_container = put["spec"]["template"]["spec"]["containers"][0]
    put_container["ports"] = [{"name": "port0", "containerPort": 1, "protocol": "TCP"},
                              {"name": "port3", "containerPort": 443, "protocol": "TCP"},
                              {"name": "port4", "containerPort": 80, "protocol": "TCP"},
                              {"name": "port5", "containerPort": 80, "protocol": "TCP"}]
    put_container["env"] = [{"name": "ENV0", "value": "/env0value"}, {"name": "PATH", "value": "/bin"},
                            {"name": "PATH", "value": "$PATH:/usr/bin:/usr/local/bin"},
                            {"name": "HOME", "value": "/usr/home"}]
    live = stored(update(live, put, DAEMONSET, manager="update", api_version="apps/v1", now=T2,
                         reset_fields=[("status",)]))
    create_fields["f:metadata"]["f:annotations"] = {}
    spec = create_fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"nginx"}']
    del spec["f:env"]['k:{"name":"PATH"}']
    del spec["f:ports"]['k:{"containerPort":80,"protocol":"TCP"}']
    update_fields: dict[str, Any] = {
        "f:metadata": {"f:annotations": {"f:deprecated.daemonset.template.generation": {}}},
        "f:spec": {"f:template": {"f:spec": {"f:containers": {'k:{"name":"nginx"}': {
            "f:env": {'k:{"name":"PATH"}': {}}, "f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {}}}}}}}}
    assert fields_of(live) == [("apply", "Apply", "", apply_fields), ("create", "Update", "", create_fields),
                               ("update", "Update", "", update_fields)]

    config["spec"]["template"]["spec"]["containers"][0].update(
        ports=[{"name": "port80", "containerPort": 80}], env=[{"name": "PATH", "value": "/bin:/usr/bin:/usr/local/bin"}])
    out = apply(live, config, DAEMONSET, manager="apply", force=True, api_version="apps/v1", now=T3)
    final = out["spec"]["template"]["spec"]["containers"][0]
    assert [e["name"] for e in final["env"]] == ["ENV0", "PATH"]
    assert [p["containerPort"] for p in final["ports"]] == [1, 80]
    apply_spec = apply_fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"nginx"}']
    apply_spec["f:env"] = {'k:{"name":"PATH"}': {".": {}, "f:name": {}, "f:value": {}}}
    apply_spec["f:ports"] = {'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {},
                                                                         "f:name": {}}}
    del update_fields["f:spec"]
    assert fields_of(out) == [("apply", "Apply", "", apply_fields), ("create", "Update", "", create_fields),
                              ("update", "Update", "", update_fields)]


# ---- update bookkeeping ---------------------------------------------------------------------------------------


def test_update_time_moves_only_when_fields_change() -> None:
    live = stored(update(None, CM, CONFIGMAP, manager="m", api_version="v1", now=T0))
    same = update(live, copy.deepcopy(live), CONFIGMAP, manager="m", api_version="v1", now=T1)
    assert same["metadata"]["managedFields"][0]["time"] == T0
    noop = apply(live, CM, CONFIGMAP, manager="m", force=False, api_version="v1", now=T2)
    assert [e.get("time") for e in noop["metadata"]["managedFields"]] == [None, T0]  # shared, nothing changed


def test_status_writes_are_recorded_with_their_subresource() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
           "spec": {"containers": [{"name": "c", "image": "i"}]}}
    live = stored(apply(None, pod, POD, manager="apply_test", force=False, api_version="v1", now=T0))
    live["status"] = {"phase": "Pending"}  # the create strategy's
    new = copy.deepcopy(live)
    new["status"] = {"phase": "Running"}
    new["metadata"]["managedFields"] = [{"manager": "sneaky", "operation": "Update", "apiVersion": "v1",
                                         "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {}}}]
    out = update(live, new, POD, manager="kubelet", api_version="v1", now=T1, subresource="status",
                 reset_fields=[("spec",)])
    assert fields_of(out)[0][0] == "apply_test"
    assert fields_of(out)[1] == ("kubelet", "Update", "status", {"f:status": {"f:phase": {}}})


def test_clearing_managed_fields_stops_tracking() -> None:
    """TestClearManagedFieldsWithUpdateEmptyList and ...WithMergePatch."""
    live = stored(apply(None, CM, CONFIGMAP, manager="apply_test", force=False, api_version="v1", now=T0))
    for reset in ([], [{}]):
        new = copy.deepcopy(live)
        new["metadata"]["managedFields"] = reset
        cleared = stored(update(live, new, CONFIGMAP, manager="m", api_version="v1", now=T1))
        assert "managedFields" not in cleared["metadata"]
        relabelled = copy.deepcopy(cleared)
        relabelled["metadata"]["labels"]["test-label"] = "v1"
        assert "managedFields" not in update(cleared, relabelled, CONFIGMAP, manager="m", api_version="v1",
                                             now=T2)["metadata"]


def test_managed_fields_sent_by_the_client_replace_the_stored_ones() -> None:
    """TestRenamingAppliedFieldManagers: entries renamed alike collapse into the last one."""
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"a": "one"}},
           "spec": {"containers": [{"name": "c", "image": "i"}]}}
    live = stored(apply(None, pod, POD, manager="multi_manager_one", force=False, api_version="v1", now=T0))
    labels = {"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": {"b": "two"}}}
    live = stored(apply(live, labels, POD, manager="multi_manager_two", force=False, api_version="v1", now=T1))
    renamed = copy.deepcopy(live)
    for entry in renamed["metadata"]["managedFields"]:
        entry["manager"] = "multi_manager"
    out = update(live, renamed, POD, manager="m", api_version="v1", now=T2)
    assert fields_of(out) == [("multi_manager", "Apply", "", {"f:metadata": {"f:labels": {"f:b": {}}}})]


def test_first_apply_to_an_untracked_object_records_what_was_there() -> None:
    live = stored(CM)
    out = apply(live, {**CM, "data": {"other": "x"}}, CONFIGMAP, manager="m", force=False, api_version="v1",
                now=T1)
    assert fields_of(out) == [
        ("m", "Apply", "", {"f:data": {"f:other": {}}, "f:metadata": {"f:labels": {"f:test-label": {}}}}),
        ("before-first-apply", "Update", "", {"f:data": {".": {}, "f:key": {}},
                                              "f:metadata": {"f:labels": {".": {}, "f:test-label": {}}}})]


def test_update_managers_beyond_ten_fold_into_ancient_changes() -> None:
    live = stored(update(None, CM, CONFIGMAP, manager="m0", api_version="v1", now="2024-01-01T00:00:00Z"))
    for i in range(1, 12):
        new = copy.deepcopy(live)
        new["data"][f"k{i}"] = "v"
        live = stored(update(live, new, CONFIGMAP, manager=f"m{i}", api_version="v1",
                             now=f"2024-01-01T00:00:{i:02d}Z"))
    managers = [m for m, _, _, _ in fields_of(live)]
    assert len(managers) == 10
    assert managers[0] == "ancient-changes"
    assert managers[1:] == [f"m{i}" for i in range(3, 12)]
    ancient = fields_of(live)[0][3]
    assert ancient["f:data"].keys() >= {"f:k1", "f:k2"}


# ---- errors --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "error", "message"),
    [
        ({**CM, "apiVersion": "v2"}, BadRequest,
         "Incorrect version specified in apply patch. Specified patch version: v2, expected: v1"),
        ({**CM, "metadata": {"name": "test-cm", "managedFields": []}}, BadRequest, "metadata.managedFields must be nil"),
        ({**CM, "data": {"key": 1}}, PatchFailed,
         "failed to create typed patch object (default/test-cm; /v1, Kind=ConfigMap): .data.key: expected string, "
         "got 1"),
        ({**CM, "spec": {}}, PatchFailed,
         "failed to create typed patch object (default/test-cm; /v1, Kind=ConfigMap): .spec: field not declared in "
         "schema"),
    ],
)
def test_bad_configurations_are_answered_as_kube_answers(config: dict[str, Any], error: type[Exception],
                                                         message: str) -> None:
    with pytest.raises(error) as caught:
        apply(None, config, CONFIGMAP, manager="m", force=False, api_version="v1", now=T0)
    assert str(caught.value) == message


def test_duplicate_keys_in_a_configuration_are_refused() -> None:
    config = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
              "spec": {"ports": [{"port": 80}, {"port": 80, "name": "x"}]}}
    with pytest.raises(PatchFailed, match=r'\.spec\.ports: duplicate entries for key \[port=80,protocol="TCP"\]$'):
        apply(None, config, SERVICE, manager="m", force=False, api_version="v1", now=T0)


def test_the_wrong_kind_is_refused_when_the_kind_is_known() -> None:
    with pytest.raises(BadRequest, match=r"^invalid object type: /v1, Kind=ConfigMap$"):
        apply(None, CM, POD, manager="m", force=False, api_version="v1", now=T0, kind="Pod")


def test_an_applier_entry_recorded_at_another_version_is_the_same_applier() -> None:
    """TestApplyConvertsManagedFieldsVersion: managedFields sent on create are kept; the re-apply replaces them."""
    created = deployment()
    created["metadata"]["managedFields"] = [{
        "manager": "sidecar_controller", "operation": "Apply", "apiVersion": "extensions/v1beta1",
        "fieldsType": "FieldsV1", "fieldsV1": {
            "f:metadata": {"f:labels": {"f:sidecar_version": {}}},
            "f:spec": {"f:template": {"f: spec": {"f:containers": {'k:{"name":"sidecar"}': {".": {}, "f:image": {}}}}}}}}]
    live = stored(update(None, created, DEPLOYMENT, manager="creator", api_version="apps/v1", now=T0))
    config = {"apiVersion": "apps/v1", "kind": "Deployment",
              "metadata": {"name": "deployment", "labels": {"sidecar_version": "release"}},
              "spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "sidecar:latest"}]}}}}
    out = apply(live, config, DEPLOYMENT, manager="sidecar_controller", force=False, api_version="apps/v1", now=T1)
    entries = out["metadata"]["managedFields"]
    assert [(e["manager"], e["operation"], e["apiVersion"]) for e in entries] == [
        ("sidecar_controller", "Apply", "apps/v1"), ("creator", "Update", "apps/v1")]
    assert fields_json(out, "sidecar_controller") == (
        '{"f:metadata":{"f:labels":{"f:sidecar_version":{}}},"f:spec":{"f:template":{"f:spec":{"f:containers":'
        '{"k:{\\"name\\":\\"sidecar\\"}":{".":{},"f:image":{},"f:name":{}}}}}}}')
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["nginx", "sidecar"]


def test_a_created_custom_resource_owns_its_top_level_structs() -> None:
    """Custom resources start from an empty object, so a created spec is itself owned (`.`)."""
    schema = SchemaNode.of({"type": "object", "properties": {
        "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}, {})
    cr = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 1}}
    out = update(None, cr, schema, manager="kubectl-create", api_version="example.com/v1", now=T0)
    assert fields_of(out) == [("kubectl-create", "Update", "", {"f:spec": {".": {}, "f:size": {}}})]


def test_results_never_alias_their_inputs() -> None:
    live = apply_deployment(None, deployment(), "a")
    config = deployment()
    out = apply(live, config, DEPLOYMENT, manager="b", force=False, api_version="apps/v1", now=T2)
    out["spec"]["selector"]["matchLabels"]["app"] = "changed"
    out["spec"]["template"]["spec"]["containers"][0]["image"] = "changed"
    assert live["spec"]["selector"]["matchLabels"]["app"] == "nginx"
    assert config["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:latest"
