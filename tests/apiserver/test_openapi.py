"""OpenAPI documents: what kubectl's strict validation and explain read from /openapi/v3, and /openapi/v2."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from apiserver import openapi
from apiserver.builtins import TYPES
from apiserver.registry import Registry, ResourceType

CRON_TAB_SCHEMA = {
    "type": "object",
    "description": "A cron tab.",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "cronSpec": {"type": "string"},
                "port": {"x-kubernetes-int-or-string": True},
                "template": {"type": "object", "x-kubernetes-embedded-resource": True,
                             "x-kubernetes-preserve-unknown-fields": True},
                "tags": {"type": "array", "items": {"type": "string"}, "nullable": True},
            },
        },
    },
}


def cron_tab(schema: dict[str, Any] | None = None) -> ResourceType:
    return ResourceType("stable.example.com", "v1", "CronTab", "crontabs", "crontab", True,
                        subresources=("status", "scale"), schema=schema or CRON_TAB_SCHEMA)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry(TYPES)


def group_versions(registry: Registry) -> list[tuple[str, str]]:
    return [(g, v) for g, versions in registry.group_versions().items() for v in versions]


def refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, sub in value.items():
            if key == "$ref":
                yield sub
            elif not key.startswith("x-kubernetes-"):
                yield from refs(sub)
    elif isinstance(value, list):
        for sub in value:
            yield from refs(sub)


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method != "parameters":
                yield path, method, op


def test_the_index_names_every_group_version_with_the_hash_of_its_document(registry: Registry) -> None:
    index = openapi.v3_index(registry)

    assert set(index["paths"]) == {openapi.group_version_path(g, v) for g, v in group_versions(registry)}
    assert "api/v1" in index["paths"] and "apis/apps/v1" in index["paths"]
    for group, version in group_versions(registry):
        key = openapi.group_version_path(group, version)
        etag = openapi.etag_of(openapi.encode(openapi.v3_document(registry, group, version) or {}))
        assert index["paths"][key] == {"serverRelativeURL": f"/openapi/v3/{key}?hash={etag}"}
        assert len(etag) == 128 and etag == etag.upper()  # hex SHA-512, as kube-openapi's handler3


def test_group_version_paths_parse_back() -> None:
    assert openapi.parse_group_version_path("api/v1") == ("", "v1")
    assert openapi.parse_group_version_path("apis/apps/v1") == ("apps", "v1")
    assert openapi.parse_group_version_path("apis/apps") is None
    assert openapi.parse_group_version_path("version") is None


def test_an_unserved_group_version_has_no_document(registry: Registry) -> None:
    assert openapi.v3_document(registry, "nope.example.com", "v1") is None


@pytest.mark.parametrize("rt", [t for t in TYPES if "patch" in t.verbs], ids=lambda t: f"{t.group}/{t.kind}")
def test_every_patchable_builtin_kind_has_a_patch_operation_with_field_validation(registry: Registry,
                                                                                  rt: ResourceType) -> None:
    document = openapi.v3_document(registry, rt.group, rt.version)
    assert document is not None
    gvk = {"group": rt.group, "kind": rt.kind, "version": rt.version}
    patches = [op for _, method, op in operations(document)
               if method == "patch" and op["x-kubernetes-group-version-kind"] == gvk]
    assert patches
    # kubectl's QueryParamVerifierV3 stops at the first PATCH with the kind, in map order: all must do.
    for op in patches:
        assert "fieldValidation" in {p["name"] for p in op["parameters"]}
        assert op["x-kubernetes-action"] == "patch"
        assert set(op["requestBody"]["content"]) == set(openapi.PATCH_TYPES)


def test_write_operations_take_dry_run_field_manager_and_field_validation(registry: Registry) -> None:
    document = openapi.v3_document(registry, "apps", "v1")
    assert document is not None
    item = document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]
    collection = document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"]
    for op in (item["put"], item["patch"], collection["post"]):
        assert {"dryRun", "fieldManager", "fieldValidation"} <= {p["name"] for p in op["parameters"]}
    assert "force" in {p["name"] for p in item["patch"]["parameters"]}
    assert [p["name"] for p in item["parameters"]] == ["name", "namespace", "pretty"]
    assert {m: op["x-kubernetes-action"] for m, op in collection.items() if m != "parameters"} == {
        "get": "list", "post": "post", "delete": "deletecollection"}
    assert {m: op["x-kubernetes-action"] for m, op in item.items() if m != "parameters"} == {
        "get": "get", "put": "put", "patch": "patch", "delete": "delete"}
    assert item["patch"]["operationId"] == "patchAppsV1NamespacedDeployment"
    assert item["patch"]["tags"] == ["apps_v1"]
    assert collection["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/io.k8s.api.apps.v1.DeploymentList"}


def test_subresources_carry_the_kind_they_serve(registry: Registry) -> None:
    document = openapi.v3_document(registry, "apps", "v1")
    assert document is not None
    scale = document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]
    status = document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status"]
    assert scale["patch"]["x-kubernetes-group-version-kind"] == {"group": "autoscaling", "kind": "Scale",
                                                                 "version": "v1"}
    assert scale["patch"]["operationId"] == "patchAppsV1NamespacedDeploymentScale"
    assert status["put"]["x-kubernetes-group-version-kind"]["kind"] == "Deployment"
    assert "io.k8s.api.autoscaling.v1.Scale" in document["components"]["schemas"]
    assert "/apis/apps/v1/deployments" in document["paths"]  # the all-namespaces list


def test_core_and_cluster_scoped_paths(registry: Registry) -> None:
    document = openapi.v3_document(registry, "", "v1")
    assert document is not None
    namespaces = document["paths"]["/api/v1/namespaces/{name}"]
    assert namespaces["patch"]["operationId"] == "patchCoreV1Namespace"
    assert [p["name"] for p in namespaces["parameters"]] == ["name", "pretty"]
    assert namespaces["patch"]["tags"] == ["core_v1"]
    assert "/api/v1/" in document["paths"]


@pytest.mark.parametrize("flavor", ["v3", "v2"])
def test_every_reference_resolves_inside_its_document(registry: Registry, flavor: str) -> None:
    registry = Registry([*TYPES, cron_tab()])
    if flavor == "v3":
        documents = [openapi.v3_document(registry, g, v) for g, v in group_versions(registry)]
        prefix, key = "#/components/schemas/", ("components", "schemas")
    else:
        documents = [openapi.v2_document(registry)]
        prefix, key = "#/definitions/", ("definitions",)
    for document in documents:
        assert document is not None
        schemas = document[key[0]] if len(key) == 1 else document[key[0]][key[1]]
        found = set(refs(document))
        assert found
        assert all(ref.startswith(prefix) for ref in found)
        assert {ref.removeprefix(prefix) for ref in found} <= set(schemas)


def test_schemas_are_in_kubes_shape(registry: Registry) -> None:
    document = openapi.v3_document(registry, "apps", "v1")
    assert document is not None
    raw = orjson.dumps(document).decode()
    assert "#/$defs/" not in raw and '"null"' not in raw
    schemas = document["components"]["schemas"]
    deployment = schemas["io.k8s.api.apps.v1.Deployment"]
    assert deployment["type"] == "object"
    assert deployment["x-kubernetes-group-version-kind"] == [{"group": "apps", "kind": "Deployment",
                                                              "version": "v1"}]
    assert deployment["properties"]["apiVersion"] == {
        "description": deployment["properties"]["apiVersion"]["description"], "type": "string"}
    # A $ref with siblings is wrapped in allOf (OpenAPI 3.0), as kube publishes it.
    assert deployment["properties"]["spec"]["allOf"] == [
        {"$ref": "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec"}]
    containers = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-list-type"] == "map"
    assert schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"] == "int-or-string"


def explain(document: dict[str, Any], group: str, version: str, kind: str, path: list[str]) -> dict[str, Any]:
    """kubectl explain's walk (`explain/v2/templates/plaintext.tmpl`): the kind by GVK, then properties via refs."""
    schemas = document["components"]["schemas"]
    gvk = {"group": group, "kind": kind, "version": version}
    schema = next(s for s in schemas.values() if gvk in s.get("x-kubernetes-group-version-kind", []))
    for field in path:
        while "properties" not in schema or field not in schema["properties"]:
            if "$ref" in schema:
                schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
            elif "allOf" in schema:
                schema = schema["allOf"][0]
            elif "items" in schema:
                schema = schema["items"]
            else:
                raise AssertionError(f"no field {field}")
        schema = schema["properties"][field]
    return schema


def test_kubectl_explain_can_walk_to_a_deployments_pod_template(registry: Registry) -> None:
    document = openapi.v3_document(registry, "apps", "v1")
    assert document is not None
    template = explain(document, "apps", "v1", "Deployment", ["spec", "template", "spec", "containers", "image"])
    assert template["type"] == "string"
    # Every operation's GVK names a schema explain can find.
    kinds = [op["x-kubernetes-group-version-kind"] for _, _, op in operations(document)
             if "x-kubernetes-group-version-kind" in op]
    for gvk in kinds:
        assert any(gvk in s.get("x-kubernetes-group-version-kind", []) for s in document["components"]["schemas"]
                   .values()), gvk


def test_a_custom_resource_is_published_with_its_own_schema(registry: Registry) -> None:
    registry = Registry([*TYPES, cron_tab()])
    document = openapi.v3_document(registry, "stable.example.com", "v1")
    assert document is not None
    schemas = document["components"]["schemas"]
    kind = schemas["com.example.stable.v1.CronTab"]
    assert kind["x-kubernetes-group-version-kind"] == [{"group": "stable.example.com", "kind": "CronTab",
                                                        "version": "v1"}]
    assert set(kind["properties"]) == {"apiVersion", "kind", "metadata", "spec"}
    assert kind["properties"]["metadata"]["allOf"] == [
        {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}]
    spec = kind["properties"]["spec"]["properties"]
    assert spec["port"]["anyOf"] == [{"type": "integer"}, {"type": "string"}]
    assert {"apiVersion", "kind", "metadata"} <= set(spec["template"]["properties"])
    listing = schemas["com.example.stable.v1.CronTabList"]
    assert listing["properties"]["items"]["items"] == {"$ref": "#/components/schemas/com.example.stable.v1.CronTab"}
    item = document["paths"]["/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}"]
    assert item["patch"]["x-kubernetes-group-version-kind"]["kind"] == "CronTab"
    assert "fieldValidation" in {p["name"] for p in item["patch"]["parameters"]}
    assert explain(document, "stable.example.com", "v1", "CronTab", ["spec", "cronSpec"]) == {"type": "string"}
    assert explain(document, "stable.example.com", "v1", "CronTab", ["metadata", "name"])["type"] == "string"


def test_swagger_2_drops_what_it_cannot_say(registry: Registry) -> None:
    registry = Registry([*TYPES, cron_tab()])
    document = openapi.v2_document(registry)
    assert document["swagger"] == "2.0"
    definitions = document["definitions"]
    assert definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] == {
        "format": "int-or-string", "type": "string"}
    assert definitions["io.k8s.apimachinery.pkg.api.resource.Quantity"]["type"] == "string"
    spec = definitions["com.example.stable.v1.CronTab"]["properties"]["spec"]["properties"]
    assert spec["tags"] == {}  # nullable: untyped in Swagger 2.0, as kube publishes it
    assert spec["port"] == {"x-kubernetes-int-or-string": True}
    assert "properties" not in spec["template"]  # preserved unknown fields: kubectl's v2 models take anything
    assert definitions["io.k8s.api.apps.v1.Deployment"]["properties"]["spec"] == {
        "$ref": "#/definitions/io.k8s.api.apps.v1.DeploymentSpec",
        "description": "Specification of the desired behavior of the Deployment."}
    patch = document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["consumes"] == list(openapi.PATCH_TYPES)
    assert patch["parameters"][0] == {"in": "body", "name": "body", "required": True,
                                      "schema": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"}}
    assert "fieldValidation" in {p["name"] for p in patch["parameters"]}
    assert patch["x-kubernetes-group-version-kind"] == {"group": "apps", "kind": "Deployment", "version": "v1"}
    assert "/api/v1/namespaces/{name}" in document["paths"]


def test_a_preserve_unknown_fields_root_is_a_bare_object_in_swagger_2() -> None:
    registry = Registry([cron_tab({"type": "object", "x-kubernetes-preserve-unknown-fields": True})])
    definitions = openapi.v2_document(registry)["definitions"]
    assert definitions["com.example.stable.v1.CronTab"] == {
        "type": "object",
        "x-kubernetes-group-version-kind": [{"group": "stable.example.com", "kind": "CronTab", "version": "v1"}]}


def test_the_cache_rebuilds_only_what_a_registry_change_touches() -> None:
    registry = Registry(TYPES)
    cache = openapi.OpenAPI(registry)
    apps = cache.v3("apps", "v1")
    index = cache.index()
    assert cache.index() is index and cache.v3("apps", "v1") is apps
    assert orjson.loads(index.body) == openapi.v3_index(registry)
    assert apps is not None and apps.etag == openapi.etag_of(apps.body)

    registry.add(cron_tab())
    with_crd = cache.index()
    assert with_crd is not index
    assert "apis/stable.example.com/v1" in orjson.loads(with_crd.body)["paths"]
    assert cache.v3("apps", "v1") is apps  # untouched group-versions keep their bytes and hash
    first = cache.v3("stable.example.com", "v1")

    changed = {**CRON_TAB_SCHEMA, "description": "Changed."}
    registry.add(cron_tab(changed))  # equal as a ResourceType: only the schema differs
    second = cache.v3("stable.example.com", "v1")
    assert first is not None and second is not None and second.etag != first.etag
    assert second.etag in cache.index().body.decode()

    registry.remove("stable.example.com", "v1", "crontabs")
    assert "stable.example.com" not in cache.index().body.decode()
    assert cache.v3("stable.example.com", "v1") is None
    assert b'"swagger":"2.0"' in cache.v2().body
