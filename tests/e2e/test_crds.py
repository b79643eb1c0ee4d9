"""CustomResourceDefinitions end to end: registered by kubectl and by JSON, used by kubectl and the Python client.

The CronTab CRD of kube's documentation, with a structural schema (defaults, an enum, a minimum), a CEL rule,
printer columns, short names, the ``all`` category and the status and scale subresources. Other tests register
CRDs of other kinds and groups, so that short names never clash in kubectl's discovery.
"""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import kubernetes.client
import pytest
import yaml
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from tests.e2e.conftest import (
    HTTP_TIMEOUT,
    REPO,
    SERVER_COMMAND,
    STOP_TIMEOUT,
    Kubectl,
    Server,
    _free_port,
    _stop,
    _wait_ready,
    create_namespace,
)

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
GROUP, VERSION, PLURAL = "stable.example.com", "v1", "crontabs"
CRD_NAME = f"{PLURAL}.{GROUP}"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
MERGE_PATCH = "application/merge-patch+json"

SERVED_WITHIN = 1.0  # seconds from a CRD's creation until its instances are served (the "Checked by")
SETTLE = 5.0  # seconds a state the server reaches asynchronously (a CRD established, served again) may take
WATCH_SECONDS = 5  # timeoutSeconds asked of the server; the stream must end on its own by then
WATCH_GRACE = 5.0  # seconds of slack before we call the server's timeout ignored

CRONTAB_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names:
    plural: crontabs
    singular: crontab
    kind: CronTab
    shortNames: [ct]
    categories: [all]
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-validations:
            - rule: self.replicas <= 10
              message: replicas must be at most 10
            properties:
              cronSpec:
                type: string
              image:
                type: string
              replicas:
                type: integer
                minimum: 1
                default: 1
              policy:
                type: string
                enum: [Allow, Forbid, Replace]
                default: Allow
          status:
            type: object
            properties:
              replicas: {type: integer}
              labelSelector: {type: string}
              phase: {type: string}
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
        labelSelectorPath: .status.labelSelector
    additionalPrinterColumns:
    - name: Spec
      type: string
      jsonPath: .spec.cronSpec
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
"""

CRONTAB = """\
apiVersion: stable.example.com/v1
kind: CronTab
metadata:
  name: my-cron
spec:
  cronSpec: "* * * * */5"
  image: my-awesome-cron-image
"""

# The defaults the schema adds to CRONTAB's spec.
DEFAULTED_SPEC = {"cronSpec": "* * * * */5", "image": "my-awesome-cron-image", "replicas": 1, "policy": "Allow"}


# ---------------------------------------------------------------------------------------------------------------
# Helpers


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def get(http: httpx.Client, path: str, **headers: str) -> dict:
    response = http.get(path, headers=headers)
    assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
    return response.json()


def assert_not_found(http: httpx.Client, path: str) -> None:
    response = http.get(path)
    assert response.status_code == 404, f"GET {path}: expected 404, got {response.status_code} {response.text}"
    assert response.json()["kind"] == "Status", response.text


def eventually(check: Callable[[], bool], what: str, timeout: float = SETTLE) -> float:
    """Poll until ``check()`` holds; the seconds it took."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not {what} within {timeout}s")
        time.sleep(0.02)
    return time.monotonic() - started


def crd_named(*, group: str, kind: str, plural: str, short: str) -> dict[str, Any]:
    """The CronTab CRD as a dict, under other names (same schema, columns and subresources)."""
    crd = yaml.safe_load(CRONTAB_CRD)
    crd["metadata"]["name"] = f"{plural}.{group}"
    crd["spec"]["group"] = group
    crd["spec"]["names"] = {
        "plural": plural, "singular": kind.lower(), "kind": kind, "shortNames": [short], "categories": ["all"],
    }
    return crd


def instance(crd: dict[str, Any], name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{crd['spec']['group']}/v1",
        "kind": crd["spec"]["names"]["kind"],
        "metadata": {"name": name},
        "spec": spec,
    }


def collection(crd: dict[str, Any], namespace: str) -> str:
    return f"/apis/{crd['spec']['group']}/v1/namespaces/{namespace}/{crd['spec']['names']['plural']}"


def conditions(crd: dict[str, Any]) -> dict[str, str]:
    return {c["type"]: c["status"] for c in crd.get("status", {}).get("conditions", [])}


def is_established(http: httpx.Client, name: str) -> bool:
    response = http.get(f"{CRDS}/{name}")
    return response.status_code == 200 and conditions(response.json()).get("Established") == "True"


def table(output: str) -> tuple[list[str], list[dict[str, str]]]:
    """kubectl's table output as headers and rows; cells are cut at the header's column starts (they may hold spaces)."""
    header, *lines = output.splitlines()
    headers = header.split()
    starts = []
    for name in headers:
        starts.append(header.index(name, starts[-1] + 1 if starts else 0))
    bounds = list(zip(starts, [*starts[1:], None], strict=True))
    return headers, [{h: line[a:b].strip() for h, (a, b) in zip(headers, bounds, strict=True)} for line in lines]


@pytest.fixture(scope="module")
def crontabs(kubectl: Kubectl, http: httpx.Client, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The CronTab CRD applied from a YAML file with kubectl and waited for; what kubectl printed doing so."""
    manifest = write(tmp_path_factory.mktemp("crontab-crd"), "crd.yaml", CRONTAB_CRD)
    applied = kubectl("apply", "-f", manifest)
    waited = kubectl("wait", "--for=condition=Established", f"crd/{CRD_NAME}", "--timeout=10s")
    yield {"manifest": manifest, "apply": applied.stdout, "wait": waited.stdout}
    http.delete(f"{CRDS}/{CRD_NAME}")


# ---------------------------------------------------------------------------------------------------------------
# The CRD itself


def test_kubectl_apply_of_a_crd_file_registers_it_and_it_becomes_established(
    crontabs: dict[str, str], kubectl: Kubectl, http: httpx.Client
) -> None:
    assert crontabs["apply"].strip() == f"customresourcedefinition.apiextensions.k8s.io/{CRD_NAME} created"
    assert crontabs["wait"].strip() == f"customresourcedefinition.apiextensions.k8s.io/{CRD_NAME} condition met"

    stored = get(http, f"{CRDS}/{CRD_NAME}")
    assert conditions(stored) == {"NamesAccepted": "True", "Established": "True"}
    accepted = stored["status"]["acceptedNames"]
    assert (accepted["kind"], accepted["plural"], accepted["singular"]) == ("CronTab", "crontabs", "crontab")
    assert (accepted["shortNames"], accepted["categories"], accepted["listKind"]) == (["ct"], ["all"], "CronTabList")
    assert stored["status"]["storedVersions"] == ["v1"]
    assert "deletionTimestamp" not in stored["metadata"]  # kube adds its cleanup finalizer on delete, not before

    # Re-applying the unchanged file changes nothing: the server's defaults and status don't show up as a diff.
    again = kubectl("apply", "-f", crontabs["manifest"])
    assert again.stdout.strip() == f"customresourcedefinition.apiextensions.k8s.io/{CRD_NAME} unchanged"
    assert get(http, f"{CRDS}/{CRD_NAME}")["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]

    rows = [line.split() for line in kubectl("api-resources", f"--api-group={GROUP}", "--no-headers").stdout.splitlines()]
    assert rows == [["crontabs", "ct", "stable.example.com/v1", "true", "CronTab"]]


def test_a_crd_posted_as_json_is_served_within_a_second_with_all_its_rules(
    http: httpx.Client, kubectl: Kubectl, namespace: str
) -> None:
    group = f"json-{secrets.token_hex(3)}.example.com"
    crd = crd_named(group=group, kind="Gadget", plural="gadgets", short="gdg")
    name = crd["metadata"]["name"]
    base = collection(crd, namespace)

    response = http.post(CRDS, json=crd)
    assert response.status_code == 201, response.text
    created_at = time.monotonic()
    try:
        assert response.json()["metadata"]["name"] == name
        # Served: the first create that is not a 404 must be a 201, within a second of the CRD's creation.
        attempts: list[httpx.Response] = []

        def served() -> bool:
            attempts.append(http.post(base, json=instance(crd, "g1", cronSpec="0 * * * *", extra="pruned")))
            return attempts[-1].status_code != 404

        eventually(served, "the new kind served", timeout=SERVED_WITHIN)
        assert attempts[-1].status_code == 201, attempts[-1].text
        assert time.monotonic() - created_at < SERVED_WITHIN
        assert is_established(http, name), get(http, f"{CRDS}/{name}").get("status")

        # Defaults applied, unknown fields pruned, in the answer and in the stored object.
        assert attempts[-1].json()["spec"] == {"cronSpec": "0 * * * *", "replicas": 1, "policy": "Allow"}
        assert get(http, f"{base}/g1")["spec"] == {"cronSpec": "0 * * * *", "replicas": 1, "policy": "Allow"}

        # Discovery names it, with its short name and category.
        resources = {r["name"]: r for r in get(http, f"/apis/{group}/v1")["resources"]}
        assert set(resources) == {"gadgets", "gadgets/status", "gadgets/scale"}
        assert (resources["gadgets"]["kind"], resources["gadgets"]["namespaced"]) == ("Gadget", True)
        assert (resources["gadgets"]["shortNames"], resources["gadgets"]["categories"]) == (["gdg"], ["all"])

        # Printer columns in the Table, and kubectl finds the kind by its short name.
        served_table = get(http, base, Accept=TABLE)
        assert [c["name"] for c in served_table["columnDefinitions"]] == ["Name", "Spec", "Replicas", "Age"]
        assert [c["type"] for c in served_table["columnDefinitions"]] == ["string", "string", "integer", "date"]
        assert [row["cells"][:3] for row in served_table["rows"]] == [["g1", "0 * * * *", 1]]
        headers, rows = table(kubectl("get", "gdg", "-n", namespace).stdout)
        assert headers == ["NAME", "SPEC", "REPLICAS", "AGE"]
        assert [(r["NAME"], r["SPEC"], r["REPLICAS"]) for r in rows] == [("g1", "0 * * * *", "1")]

        # The CEL rule, the enum and the minimum refuse objects with kube's 422.
        too_many = http.post(base, json=instance(crd, "g2", replicas=11))
        assert too_many.status_code == 422, too_many.text
        status = too_many.json()
        assert status["reason"] == "Invalid"
        assert status["message"] == f'Gadget.{group} "g2" is invalid: spec: Invalid value: "object": replicas must be at most 10'
        assert status["details"]["causes"] == [
            {"reason": "FieldValueInvalid", "message": 'Invalid value: "object": replicas must be at most 10', "field": "spec"},
        ]
        zero = http.post(base, json=instance(crd, "g3", replicas=0)).json()
        assert zero["details"]["causes"] == [
            {
                "reason": "FieldValueInvalid",
                "message": "Invalid value: 0: spec.replicas in body should be greater than or equal to 1",
                "field": "spec.replicas",
            },
        ]
        odd = http.post(base, json=instance(crd, "g4", policy="Sometimes")).json()
        assert {
            "reason": "FieldValueNotSupported",
            "message": 'Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
            "field": "spec.policy",
        } in odd["details"]["causes"]
        for refused in ["g2", "g3", "g4"]:
            assert_not_found(http, f"{base}/{refused}")
    finally:
        http.delete(f"{CRDS}/{name}")


# ---------------------------------------------------------------------------------------------------------------
# Instances through kubectl


def test_kubectl_get_shows_printer_columns_defaults_and_pruning(
    crontabs: dict[str, str], kubectl: Kubectl, http: httpx.Client, namespace: str, tmp_path: Path
) -> None:
    result = kubectl("apply", "-n", namespace, "-f", write(tmp_path, "ct.yaml", CRONTAB))
    assert result.stdout.strip() == "crontab.stable.example.com/my-cron created"

    headers, rows = table(kubectl("get", "ct", "-n", namespace).stdout)
    assert headers == ["NAME", "SPEC", "REPLICAS", "AGE"]
    assert [(r["NAME"], r["SPEC"], r["REPLICAS"]) for r in rows] == [("my-cron", "* * * * */5", "1")]
    assert rows[0]["AGE"].endswith("s"), rows[0]  # seconds old

    # --validate=strict (kubectl's default) refuses an unknown field; --validate=warn lets the server prune it.
    extra = CRONTAB.replace("my-cron", "extra").replace("  image: my-awesome-cron-image\n", "  extra: dropped\n")
    manifest = write(tmp_path, "extra.yaml", extra)
    strict = kubectl("apply", "-n", namespace, "-f", manifest, check=False)
    assert strict.returncode == 1
    assert 'strict decoding error: unknown field "spec.extra"' in strict.stderr
    assert_not_found(http, f"{collection(yaml.safe_load(CRONTAB_CRD), namespace)}/extra")
    warned = kubectl("apply", "--validate=warn", "-n", namespace, "-f", manifest)
    assert warned.stdout.strip() == "crontab.stable.example.com/extra created"
    assert 'Warning: unknown field "spec.extra"' in warned.stderr

    listed = kubectl.json("get", "crontabs.stable.example.com", "-n", namespace)
    by_name = {item["metadata"]["name"]: item for item in listed["items"]}
    assert set(by_name) == {"my-cron", "extra"}
    assert by_name["my-cron"]["spec"] == DEFAULTED_SPEC
    assert by_name["extra"]["spec"] == {"cronSpec": "* * * * */5", "replicas": 1, "policy": "Allow"}
    assert (by_name["extra"]["apiVersion"], by_name["extra"]["kind"]) == ("stable.example.com/v1", "CronTab")
    base = f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}"
    assert get(http, f"{base}/extra")["spec"] == by_name["extra"]["spec"]
    assert get(http, f"{base}/my-cron")["metadata"]["generation"] == 1


def test_kubectl_get_all_includes_crontabs(crontabs: dict[str, str], kubectl: Kubectl, namespace: str, tmp_path: Path) -> None:
    kubectl("apply", "-n", namespace, "-f", write(tmp_path, "ct.yaml", CRONTAB))

    shown = set(kubectl("get", "all", "-n", namespace, "-o", "name").stdout.split())

    assert shown == {"crontab.stable.example.com/my-cron"}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("replicas: 11", 'The CronTab "bad" is invalid: spec: Invalid value: "object": replicas must be at most 10'),
        ("policy: Sometimes", '* spec.policy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"'),
        ("replicas: 0", 'The CronTab "bad" is invalid: spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1'),
    ],
    ids=["cel-rule", "enum", "minimum"],
)
def test_kubectl_apply_of_an_invalid_crontab_is_refused_with_kubes_message(
    crontabs: dict[str, str], kubectl: Kubectl, http: httpx.Client, namespace: str, tmp_path: Path, spec: str, expected: str
) -> None:
    manifest = write(tmp_path, "bad.yaml", CRONTAB.replace("my-cron", "bad") + f"  {spec}\n")

    result = kubectl("apply", "-n", namespace, "-f", manifest, check=False)

    assert result.returncode == 1
    assert expected in result.stderr.splitlines(), result.stderr
    assert result.stderr.startswith('The CronTab "bad" is invalid:'), result.stderr
    assert_not_found(http, f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}/bad")


def test_kubectl_explain_reads_the_crd_schema(crontabs: dict[str, str], kubectl: Kubectl) -> None:
    explained = kubectl("explain", "crontab.spec").stdout

    lines = [line.strip() for line in explained.splitlines()]
    assert "GROUP:      stable.example.com" in lines and "KIND:       CronTab" in lines and "VERSION:    v1" in lines
    assert "FIELD: spec <Object>" in lines
    fields = {parts[0]: parts[1] for parts in map(str.split, lines) if len(parts) == 2 and parts[1].startswith("<")}
    assert fields == {"cronSpec": "<string>", "image": "<string>", "policy": "<string>", "replicas": "<integer>"}
    assert "enum: Allow, Forbid, Replace" in lines


def test_kubectl_scale_patch_and_delete_a_crontab(
    crontabs: dict[str, str], kubectl: Kubectl, http: httpx.Client, namespace: str, tmp_path: Path
) -> None:
    kubectl("apply", "-n", namespace, "-f", write(tmp_path, "ct.yaml", CRONTAB))
    path = f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}/my-cron"
    uid = get(http, path)["metadata"]["uid"]

    scaled = kubectl("scale", "ct/my-cron", "-n", namespace, "--replicas=3")
    assert scaled.stdout.strip() == "crontab.stable.example.com/my-cron scaled"
    stored = get(http, path)
    assert (stored["spec"]["replicas"], stored["metadata"]["generation"]) == (3, 2)
    scale = get(http, f"{path}/scale")
    assert (scale["apiVersion"], scale["kind"], scale["metadata"]["uid"]) == ("autoscaling/v1", "Scale", uid)
    assert (scale["spec"], scale["status"]) == ({"replicas": 3}, {"replicas": 0})

    # The scale subresource runs the schema's rules too: 11 breaks the CEL rule.
    too_many = kubectl("scale", "ct/my-cron", "-n", namespace, "--replicas=11", check=False)
    assert too_many.returncode == 1
    assert 'replicas must be at most 10' in too_many.stderr
    assert get(http, path)["spec"]["replicas"] == 3

    patched = kubectl("patch", "ct", "my-cron", "-n", namespace, "--type=merge", "-p", '{"spec":{"image":"v2","junk":1}}')
    assert patched.stdout.strip() == "crontab.stable.example.com/my-cron patched"
    stored = get(http, path)
    assert stored["spec"] == {**DEFAULTED_SPEC, "image": "v2", "replicas": 3}
    assert stored["metadata"]["generation"] == 3

    deleted = kubectl("delete", "ct", "my-cron", "-n", namespace)
    assert deleted.stdout.startswith('crontab.stable.example.com "my-cron" deleted')
    assert_not_found(http, path)
    assert kubectl("get", "ct", "-n", namespace, "-o", "name").stdout == ""


def test_strategic_merge_patch_is_unsupported_for_crontabs(
    crontabs: dict[str, str], kubectl: Kubectl, http: httpx.Client, namespace: str, tmp_path: Path
) -> None:
    kubectl("apply", "-n", namespace, "-f", write(tmp_path, "ct.yaml", CRONTAB))

    result = kubectl("patch", "ct", "my-cron", "-n", namespace, "-p", '{"spec":{"image":"v2"}}', check=False)

    assert result.returncode == 1
    # kube's customresource_handler offers json-patch, merge-patch and server-side apply for custom resources.
    assert result.stderr.strip().endswith(
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    ), result.stderr
    assert get(http, f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}/my-cron")["spec"]["image"] == "my-awesome-cron-image"


def test_kubectl_server_side_apply_creates_and_updates_a_crontab(
    crontabs: dict[str, str], kubectl: Kubectl, http: httpx.Client, namespace: str, tmp_path: Path
) -> None:
    path = f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}/my-cron"

    created = kubectl("apply", "--server-side", "-n", namespace, "-f", write(tmp_path, "ct.yaml", CRONTAB), check=False)

    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "crontab.stable.example.com/my-cron serverside-applied"
    stored = get(http, path)
    assert stored["spec"] == DEFAULTED_SPEC
    managers = [(m["manager"], m["operation"]) for m in stored["metadata"]["managedFields"]]
    assert managers == [("kubectl", "Apply")]

    changed = CRONTAB.replace("my-awesome-cron-image", "v2") + "  replicas: 2\n"
    updated = kubectl("apply", "--server-side", "-n", namespace, "-f", write(tmp_path, "changed.yaml", changed))
    assert updated.stdout.strip() == "crontab.stable.example.com/my-cron serverside-applied"
    stored = get(http, path)
    assert stored["spec"] == {**DEFAULTED_SPEC, "image": "v2", "replicas": 2}
    assert stored["metadata"]["generation"] == 2


# ---------------------------------------------------------------------------------------------------------------
# Instances through the official Python client


def crontab(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "CronTab", "metadata": {"name": name}, "spec": spec}


def test_python_client_creates_lists_and_patches_status(
    crontabs: dict[str, str], k8s: kubernetes.client.ApiClient, http: httpx.Client, namespace: str
) -> None:
    api = client.CustomObjectsApi(k8s)

    created = api.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, crontab("py", cronSpec="*/5 * * * *", unknown=1))
    assert created["spec"] == {"cronSpec": "*/5 * * * *", "replicas": 1, "policy": "Allow"}
    assert created["metadata"]["generation"] == 1 and created["metadata"]["uid"]
    api.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, crontab("other", replicas=2))

    listed = api.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
    assert (listed["apiVersion"], listed["kind"]) == (f"{GROUP}/{VERSION}", "CronTabList")
    assert sorted(item["metadata"]["name"] for item in listed["items"]) == ["other", "py"]
    assert int(listed["metadata"]["resourceVersion"]) >= int(created["metadata"]["resourceVersion"])

    # The status subresource changes status only: the spec in the same patch is ignored, generation stays.
    status = {"replicas": 2, "phase": "Running", "labelSelector": "app=py"}
    patched = api.patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, PLURAL, "py", {"status": status, "spec": {"replicas": 7}}
    )
    assert patched["status"] == status
    assert patched["spec"] == created["spec"]
    assert patched["metadata"]["generation"] == 1
    assert int(patched["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    path = f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}/py"
    stored = get(http, path)
    assert (stored["status"], stored["spec"], stored["metadata"]["generation"]) == (status, created["spec"], 1)
    scale = get(http, f"{path}/scale")
    assert (scale["spec"], scale["status"]) == ({"replicas": 1}, {"replicas": 2, "selector": "app=py"})

    # And the main resource changes everything but status: generation counts the spec change.
    api.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "py", {"spec": {"replicas": 4}, "status": {"phase": "Hacked"}})
    stored = get(http, path)
    assert (stored["spec"]["replicas"], stored["status"], stored["metadata"]["generation"]) == (4, status, 2)


def test_python_client_watch_sees_added_modified_deleted_once_each(
    crontabs: dict[str, str], k8s: kubernetes.client.ApiClient, namespace: str
) -> None:
    api = client.CustomObjectsApi(k8s)
    since = api.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)["metadata"]["resourceVersion"]
    api.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, crontab("watched"))  # replayed from history

    events: list[tuple[str, str, int, int]] = []
    started = time.monotonic()
    stream = watch.Watch().stream(
        api.list_namespaced_custom_object, GROUP, VERSION, namespace, PLURAL,
        resource_version=since, timeout_seconds=WATCH_SECONDS, _request_timeout=WATCH_SECONDS + WATCH_GRACE,
    )
    for event in stream:
        obj = event["object"]
        events.append((event["type"], obj["metadata"]["name"], obj["spec"]["replicas"], int(obj["metadata"]["resourceVersion"])))
        if event["type"] == "ADDED":  # the next two happen live, while the watch is open
            api.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "watched", {"spec": {"replicas": 2}})
        elif event["type"] == "MODIFIED":
            api.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "watched")
    elapsed = time.monotonic() - started

    assert [event[:3] for event in events] == [("ADDED", "watched", 1), ("MODIFIED", "watched", 2), ("DELETED", "watched", 2)]
    versions = [event[3] for event in events]
    assert versions == sorted(versions) and len(set(versions)) == 3 and versions[0] > int(since), versions
    assert elapsed < WATCH_SECONDS + WATCH_GRACE, "the server did not end the watch at timeoutSeconds"


@pytest.mark.parametrize(
    ("spec", "message", "causes"),
    [
        (
            {"replicas": 11},
            'CronTab.stable.example.com "bad" is invalid: spec: Invalid value: "object": replicas must be at most 10',
            [{"reason": "FieldValueInvalid", "message": 'Invalid value: "object": replicas must be at most 10', "field": "spec"}],
        ),
        (
            {"replicas": 0},
            'CronTab.stable.example.com "bad" is invalid: spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1',
            [{"reason": "FieldValueInvalid", "message": "Invalid value: 0: spec.replicas in body should be greater than or equal to 1", "field": "spec.replicas"}],
        ),
        (
            {"replicas": "two"},
            'CronTab.stable.example.com "bad" is invalid: [spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string", '
            "<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation]",
            [
                {"reason": "FieldValueTypeInvalid", "message": 'Invalid value: "string": spec.replicas in body must be of type integer: "string"', "field": "spec.replicas"},
                {"reason": "FieldValueInvalid", "message": "Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation", "field": "<nil>"},
            ],
        ),
    ],
    ids=["cel-rule", "minimum", "type"],
)
def test_python_client_gets_422_with_kubes_causes_for_an_invalid_crontab(
    crontabs: dict[str, str], k8s: kubernetes.client.ApiClient, http: httpx.Client, namespace: str,
    spec: dict[str, Any], message: str, causes: list[dict[str, str]],
) -> None:
    api = client.CustomObjectsApi(k8s)

    with pytest.raises(ApiException) as caught:
        api.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, crontab("bad", **spec))

    assert caught.value.status == 422
    status = yaml.safe_load(caught.value.body)
    assert (status["kind"], status["status"], status["reason"], status["code"]) == ("Status", "Failure", "Invalid", 422)
    assert status["message"] == message
    assert (status["details"]["name"], status["details"]["group"], status["details"]["kind"]) == ("bad", GROUP, "CronTab")
    assert status["details"]["causes"] == causes
    assert_not_found(http, f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}/bad")


# ---------------------------------------------------------------------------------------------------------------
# Deleting the CRD


def test_kubectl_delete_crd_removes_its_instances_routes_and_discovery(
    kubectl: Kubectl, http: httpx.Client, namespace: str, tmp_path: Path
) -> None:
    group = f"doomed-{secrets.token_hex(3)}.example.com"
    crd = crd_named(group=group, kind="Tombstone", plural="tombstones", short="tmb")
    name = crd["metadata"]["name"]
    kubectl("apply", "-f", write(tmp_path, "crd.yaml", yaml.safe_dump(crd)))
    kubectl("wait", "--for=condition=Established", f"crd/{name}", "--timeout=10s")
    base = collection(crd, namespace)
    elsewhere = f"{namespace}-b"
    create_namespace(http, elsewhere)
    try:
        paths = []
        for ns, obj in [(namespace, "t1"), (namespace, "t2"), (elsewhere, "t3")]:
            response = http.post(collection(crd, ns), json=instance(crd, obj))
            assert response.status_code == 201, response.text
            paths.append(f"{collection(crd, ns)}/{obj}")
        assert names_of(kubectl("get", "tmb", "-n", namespace, "-o", "name").stdout) == {"tombstone." + group + "/t1", "tombstone." + group + "/t2"}

        deleted = kubectl("delete", "crd", name, timeout=30)

        assert deleted.stdout.startswith(f'customresourcedefinition.apiextensions.k8s.io "{name}" deleted')
        assert_not_found(http, f"{CRDS}/{name}")  # kubectl waited until it was gone
        for path in [*paths, base, f"/apis/{group}/v1/{crd['spec']['names']['plural']}"]:
            assert_not_found(http, path)
        assert_not_found(http, f"/apis/{group}/v1")
        assert group not in {g["name"] for g in get(http, "/apis")["groups"]}
        assert f"apis/{group}/v1" not in get(http, "/openapi/v3")["paths"]

        # A kubectl that reads discovery afresh no longer knows the short name.
        fresh_cache = str(tmp_path / "fresh-kube-cache")
        unknown = kubectl("get", "tmb", "-n", namespace, "--cache-dir", fresh_cache, check=False)
        assert unknown.returncode == 1
        assert 'error: the server doesn\'t have a resource type "tmb"' in unknown.stderr, unknown.stderr
        # One with the stale cache tries the old path and gets kube's 404 for an unknown resource.
        stale = kubectl("get", "tmb", "-n", namespace, check=False)
        assert stale.returncode == 1
        assert "the server could not find the requested resource" in stale.stderr or "doesn't have a resource type" in stale.stderr, stale.stderr

        # The instances are gone from the store, not just unreachable: the same CRD again finds none.
        assert http.post(CRDS, json=crd).status_code == 201
        eventually(lambda: http.get(base).status_code == 200, "the recreated CRD served")
        for ns in [namespace, elsewhere]:
            assert get(http, collection(crd, ns))["items"] == []
    finally:
        http.delete(f"{CRDS}/{name}")
        http.delete(f"/api/v1/namespaces/{elsewhere}")


def names_of(output: str) -> set[str]:
    return {line for line in output.splitlines() if line}


# ---------------------------------------------------------------------------------------------------------------
# Restart


@contextmanager
def own_server(tmp: Path, db_path: Path, label: str) -> Iterator[Server]:
    """A server process of this test's own on ``db_path``, stopped with SIGTERM (as the conftest's) when done."""
    port = _free_port()
    kubeconfig = tmp / f"kubeconfig-{label}"
    stdout_path, stderr_path = tmp / f"{label}.stdout.log", tmp / f"{label}.stderr.log"
    command = [*SERVER_COMMAND, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--database", f"sqlite:///{db_path}", "--kubeconfig", str(kubeconfig), "--log-level", "info"]
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        process = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    running = Server(f"http://127.0.0.1:{port}", kubeconfig, db_path, process, stdout_path, stderr_path)
    try:
        _wait_ready(running)
        yield running
    finally:
        took = _stop(process)
    assert took is not None, f"{label}: still running {STOP_TIMEOUT}s after SIGTERM\n{running.stderr_tail()}"
    assert process.returncode == 0, f"{label}: exited {process.returncode} on SIGTERM\n{running.stderr_tail()}"
    assert "Traceback (most recent call last)" not in running.output(), running.stderr_tail(200)


def test_a_restarted_server_serves_the_crd_its_route_and_instances_again(tmp_path: Path) -> None:
    db_path = tmp_path / "restart.sqlite"
    crd = yaml.safe_load(CRONTAB_CRD)
    base = collection(crd, "default")

    with own_server(tmp_path, db_path, "first") as first, httpx.Client(base_url=first.url, timeout=HTTP_TIMEOUT) as http:
        assert http.post(CRDS, json=crd).status_code == 201
        eventually(lambda: is_established(http, CRD_NAME), "the CRD established")
        response = http.post(base, json=instance(crd, "survivor", cronSpec="0 0 * * *", extra="pruned"))
        assert response.status_code == 201, response.text
        status = http.patch(f"{base}/survivor/status", json={"status": {"phase": "Running"}}, headers={"Content-Type": MERGE_PATCH})
        assert status.status_code == 200, status.text
        before = status.json()

    with own_server(tmp_path, db_path, "second") as second, httpx.Client(base_url=second.url, timeout=HTTP_TIMEOUT) as http:
        # Served at once: like kube's /readyz (poststarthook/crd-informer-synced), ready means the CRDs are projected.
        after = get(http, f"{base}/survivor")
        assert after == before
        assert after["spec"] == {"cronSpec": "0 0 * * *", "replicas": 1, "policy": "Allow"}
        stored_crd = get(http, f"{CRDS}/{CRD_NAME}")
        assert conditions(stored_crd) == {"NamesAccepted": "True", "Established": "True"}
        resources = {r["name"]: r for r in get(http, f"/apis/{GROUP}/v1")["resources"]}
        assert set(resources) == {"crontabs", "crontabs/status", "crontabs/scale"}
        assert resources["crontabs"]["shortNames"] == ["ct"]
        assert f"apis/{GROUP}/v1" in get(http, "/openapi/v3")["paths"]
        assert [c["name"] for c in get(http, base, Accept=TABLE)["columnDefinitions"]] == ["Name", "Spec", "Replicas", "Age"]

        # Its rules are back too: defaults, pruning, the CEL rule.
        fresh = http.post(base, json=instance(crd, "fresh", junk=True))
        assert fresh.status_code == 201, fresh.text
        assert fresh.json()["spec"] == {"replicas": 1, "policy": "Allow"}
        refused = http.post(base, json=instance(crd, "big", replicas=11))
        assert refused.status_code == 422, refused.text
        assert refused.json()["details"]["causes"][0]["message"] == 'Invalid value: "object": replicas must be at most 10'
