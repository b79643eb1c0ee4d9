"""Protobuf request bodies, checked against what the real kubectl 1.35 and Helm 4 send.

Each kubectl command runs twice: against a capture server on 127.0.0.1 (its protobuf body is decoded) and
with `--dry-run=client -o json` (the JSON of the same Go object). The two must agree. The same captures
re-derive the field table (`protobuf_capture.derive`), which must equal the one in apiserver/protobuf.py.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import struct
from pathlib import Path
from typing import Any

import pytest

from apiserver import protobuf
from machinery import BadRequest, UnsupportedMediaType
from tests.apiserver import protobuf_capture as pc

COMMANDS = {command.name: command for command in pc.COMMANDS}
ROUNDTRIPS = [trip.name for group in pc.roundtrips() for trip in group]


@pytest.fixture(scope="module")
def derived(kubectl_bin: str) -> pc.Observations:
    """Every capture of the corpus, and the table they show (one run of ~30 kubectl pairs, in parallel)."""
    return pc.derive(kubectl_bin)


def comparable(obj: Any, *, top: bool = True) -> Any:
    """Go's JSON without what carries nothing: nulls, empty structs (Go prints unset non-pointer structs as
    `{}`, and the decoder skips a message it has no field numbers for when all its fields are zero), and the
    top-level status, which the server sets."""
    if isinstance(obj, dict):
        out = {k: comparable(v, top=False) for k, v in obj.items() if not (top and k == "status")}
        return {k: v for k, v in out.items() if v is not None and v != {}}
    if isinstance(obj, list):
        return [comparable(v, top=False) for v in obj]
    return obj


# --------------------------------------------------------------------------------------------------
# The table and the kubectl corpus


@pytest.mark.slow
def test_the_field_table_is_what_kubectl_shows(derived: pc.Observations) -> None:
    source = Path(protobuf.__file__).read_text()
    kinds = source[source.index("    # TABLE-KINDS-BEGIN"): source.index("    # TABLE-KINDS-END")]
    messages = source[source.index("    # TABLE-MESSAGES-BEGIN"): source.index("    # TABLE-MESSAGES-END")]
    rendered = pc.render(derived)
    assert rendered.split("\n\n")[0].startswith(kinds), "rerun: python -m tests.apiserver.protobuf_capture --write"
    assert rendered.split("\n\n")[1].startswith(messages), "rerun: python -m tests.apiserver.protobuf_capture --write"
    assert not derived.printed_zero & derived.omitted_zero, "Go's JSON printed a zero in one place, omitted it in another"


@pytest.mark.slow
@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_kubectl_body_decodes_to_the_json_of_its_command(derived: pc.Observations, name: str) -> None:
    body, expected = derived.captures[name]
    assert comparable(protobuf.decode(body)) == comparable(expected)


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in ROUNDTRIPS if not n.startswith("csr")])
def test_objects_kubectl_sends_back_decode_to_its_json(derived: pc.Observations, name: str) -> None:
    """Job templates with every PodSpec field (create job --from=cronjob) and RBAC objects (auth reconcile)."""
    body, printed = derived.captures[name]
    assert comparable(protobuf.decode(body)) == comparable(printed)


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in ROUNDTRIPS if n.startswith("csr")])
def test_a_certificate_approval_sends_the_csr_with_an_approved_condition(derived: pc.Observations, name: str) -> None:
    body, served = derived.captures[name]
    decoded = protobuf.decode(body)
    approved = decoded["status"]["conditions"].pop()
    assert (approved["type"], approved["status"], approved["reason"]) == ("Approved", "True", "KubectlApprove")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", approved["lastUpdateTime"])
    if name.endswith("sparse"):  # Go writes the zero values of what was served empty
        assert decoded["metadata"]["ownerReferences"] == [{"apiVersion": "", "kind": "", "name": "", "uid": ""}]
    else:
        assert comparable(decoded, top=False) == comparable(served, top=False)


@pytest.mark.slow
def test_replicas_zero_is_kept_and_unset_zeros_are_not(derived: pc.Observations) -> None:
    deployment = protobuf.decode(derived.captures["deployment-zero"][0])
    assert deployment["spec"]["replicas"] == 0
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert "workingDir" not in container and "stdin" not in container
    assert protobuf.decode(derived.captures["pdb-zero"][0])["spec"]["maxUnavailable"] == 0
    assert protobuf.decode(derived.captures["priorityclass-zero"][0])["value"] == 0
    assert protobuf.decode(derived.captures["debug-replace"][0]) == {
        "kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0}


@pytest.mark.slow
def test_binary_secret_and_configmap_data_arrive_as_base64(derived: pc.Observations) -> None:
    secret = protobuf.decode(derived.captures["secret-binary"][0])
    assert base64.b64decode(secret["data"]["mk10062"]) == pc.BINARY
    assert secret["data"]["mk10063"] == ""
    configmap = protobuf.decode(derived.captures["configmap-binary"][0])
    assert base64.b64decode(configmap["binaryData"]["mk10012"]) == pc.BINARY
    assert configmap["data"] == {"mk10013": "mk10014"}


@pytest.mark.slow
@pytest.mark.parametrize("args", [
    ("create", "configmap", "cm", "--from-literal=a=b"),
    ("create", "deployment", "web", "--image=nginx", "--replicas=0"),
    ("create", "secret", "generic", "blob", "--from-file=blob={dir}/blob"),
    ("create", "namespace", "ns"),
], ids=["configmap", "deployment-replicas-0", "secret-binary", "namespace"])
def test_a_server_dry_run_sends_the_same_body(kubectl_bin: str, args: tuple[str, ...]) -> None:
    files = {"blob": pc.BINARY}
    captured = pc.capture(kubectl_bin, *args, "--dry-run=server", files=files)
    [write] = captured.writes
    assert write.query["dryRun"] == ["All"]
    assert comparable(protobuf.decode(write.body)) == comparable(pc.dry_run(kubectl_bin, *args, files=files))


# --------------------------------------------------------------------------------------------------
# Helm's release Secrets

SECRETS = "/api/v1/namespaces/default/secrets"
RELEASE = "sh.helm.release.v1.mkrel.v1"


def _release(secret: dict[str, Any]) -> dict[str, Any]:
    """Helm stores the release as gzipped JSON, base64-encoded, in Secret data (so base64 twice in JSON)."""
    decoded: dict[str, Any] = json.loads(gzip.decompress(base64.b64decode(base64.b64decode(secret["data"]["release"]))))
    return decoded


@pytest.mark.slow
def test_helm_release_secrets_decode(helm_bin: str) -> None:
    chart = {"chart/Chart.yaml": b"apiVersion: v2\nname: mkchart\nversion: 0.1.0\n"}
    empty = {"kind": "SecretList", "apiVersion": "v1", "metadata": {}, "items": []}
    install = pc.capture(helm_bin, "install", "mkrel", "{dir}/chart", served={SECRETS: empty}, files=chart)
    created, updated = (protobuf.decode(w.body) for w in install.writes)
    assert [w.method for w in install.writes] == ["POST", "PUT"]
    for secret, status in ((created, "pending-install"), (updated, "deployed")):
        assert secret["kind"] == "Secret" and secret["type"] == "helm.sh/release.v1"
        assert secret["metadata"]["name"] == RELEASE
        assert {k: v for k, v in secret["metadata"]["labels"].items() if not k.endswith("At")} == {
            "name": "mkrel", "owner": "helm", "status": status, "version": "1"}
        release = _release(secret)
        assert (release["name"], release["info"]["status"], release["chart"]["metadata"]["name"]) == (
            "mkrel", status, "mkchart")

    served = {SECRETS: {**empty, "items": [updated]}, f"{SECRETS}/{RELEASE}": updated}
    uninstall = pc.capture(helm_bin, "uninstall", "mkrel", served=served)
    marked, deleted = uninstall.writes
    assert _release(protobuf.decode(marked.body))["info"]["status"] == "uninstalling"
    assert (deleted.method, deleted.path) == ("DELETE", f"{SECRETS}/{RELEASE}")
    assert protobuf.decode(deleted.body) == {"kind": "DeleteOptions", "apiVersion": "v1"}


# --------------------------------------------------------------------------------------------------
# Hand-made bodies: the wire rules and the errors


def varint(n: int) -> bytes:
    n &= 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number: int, value: int | bytes | str) -> bytes:
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    data = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(data)) + data


def body(api_version: str, kind: str, raw: bytes, *, encoding: str = "") -> bytes:
    envelope = field(1, field(1, api_version) + field(2, kind)) + field(2, raw) + field(3, encoding) + field(4, "")
    return protobuf.MAGIC + envelope


def meta(name: str, *more: bytes) -> bytes:
    """metadata (field 1 of every kind): ObjectMeta with the zero fields Go always writes."""
    return field(1, field(1, name) + field(2, "") + field(7, 0) + b"".join(more))


def test_zero_fields_go_always_writes_are_left_out() -> None:
    assert protobuf.decode(body("v1", "ConfigMap", meta("cm") + field(2, field(1, "k") + field(2, "v")))) == {
        "kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "cm"}, "data": {"k": "v"}}


def test_negative_numbers_packed_lists_and_times() -> None:
    security = field(2, -5)  # runAsUser -5: ten bytes of two's complement
    security += field(4, b"".join(varint(g) for g in (1, 2, 300)))  # supplementalGroups, packed
    pod = field(14, security) + field(2, field(1, "c"))  # PodSpec: securityContext, containers[{name}]
    managed = field(17, field(1, "m") + field(4, field(1, 1_700_000_000)))  # managedFields[{manager, time}]
    raw = meta("j", managed) + field(2, field(6, field(2, pod)))  # Job.spec.template.spec
    decoded = protobuf.decode(body("batch/v1", "Job", raw))
    assert decoded["metadata"]["managedFields"] == [{"manager": "m", "time": "2023-11-14T22:13:20Z"}]
    pod = decoded["spec"]["template"]["spec"]
    assert pod["securityContext"] == {"runAsUser": -5, "supplementalGroups": [1, 2, 300]}
    assert pod["containers"] == [{"name": "c"}]


def test_int_or_string_and_inline_parts() -> None:
    port = field(4, field(1, 1) + field(3, "http"))  # targetPort: the string form
    node = field(4, field(1, 0) + field(2, 8080))
    service = field(2, field(1, field(3, 80) + port) + field(1, field(3, 81) + node))
    decoded = protobuf.decode(body("v1", "Service", meta("s") + service))
    assert decoded["spec"]["ports"] == [{"port": 80, "targetPort": "http"}, {"port": 81, "targetPort": 8080}]
    volume = field(1, field(1, "v") + field(2, field(2, b"")))  # Volume{name, VolumeSource{emptyDir: {}}}
    spec = field(2, field(6, field(2, volume)))
    decoded = protobuf.decode(body("batch/v1", "Job", meta("j") + spec))
    assert decoded["spec"]["template"]["spec"]["volumes"] == [{"name": "v", "emptyDir": {}}]


def test_delete_options_of_any_group_version_decode() -> None:
    raw = field(1, 30) + field(5, "All")
    assert protobuf.decode(body("apps/v1", "DeleteOptions", raw)) == {
        "kind": "DeleteOptions", "apiVersion": "apps/v1", "gracePeriodSeconds": 30, "dryRun": ["All"]}


def test_an_unknown_field_with_a_value_is_refused_naming_it() -> None:
    with pytest.raises(UnsupportedMediaType, match=r"ConfigMap has field 9 of core\.v1\.ConfigMap"):
        protobuf.decode(body("v1", "ConfigMap", meta("cm") + field(9, "surprise")))
    with pytest.raises(UnsupportedMediaType, match=r"field 15 of meta\.v1\.ObjectMeta \(at ConfigMap\.metadata\)"):
        protobuf.decode(body("v1", "ConfigMap", field(1, field(1, "cm") + field(15, 1))))


def test_an_unknown_field_holding_only_zeros_is_skipped() -> None:
    zero_struct = field(9, field(1, "") + field(2, 0))
    assert protobuf.decode(body("v1", "ConfigMap", meta("cm") + zero_struct)) == {
        "kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "cm"}}


def test_kinds_outside_the_table_are_refused() -> None:
    with pytest.raises(UnsupportedMediaType, match="apps/v1 StatefulSet are not supported"):
        protobuf.decode(body("apps/v1", "StatefulSet", meta("s")))
    with pytest.raises(UnsupportedMediaType, match='contentEncoding "gzip"'):
        protobuf.decode(body("v1", "ConfigMap", meta("cm"), encoding="gzip"))


@pytest.mark.parametrize("data, reason", [
    (b'{"kind": "ConfigMap"}', "k8s"),
    (protobuf.MAGIC + b"\x0a\x05ab", "past the end"),
    (protobuf.MAGIC + b"\x08\xff", "inside a varint"),
    (protobuf.MAGIC + b"\x08" + b"\xff" * 10 + b"\x01", "longer than 10 bytes"),
    (protobuf.MAGIC + b"\x0b", "wire type 3"),
    (protobuf.MAGIC + b"\x00\x00", "field number 0"),
    (protobuf.MAGIC + b"\x08\x01", "wire type 0"),
    (body("v1", "ConfigMap", field(1, field(1, b"\xff\xfe"))), "not UTF-8"),
    (body("v1", "ConfigMap", field(1, 5)), "wire type 0, expected 2"),
    (body("apps/v1", "Deployment", field(2, field(1, 1 << 40))), "int32 range"),
    (body("v1", "Secret", field(2, field(1, "k") + field(7, "x"))), "map entry"),
    (body("v1", "ConfigMap", field(1, field(8, field(1, 1 << 62)))), "not a valid time"),
], ids=["json", "length", "truncated-varint", "long-varint", "group", "field-zero", "envelope-varint", "utf8",
        "wire-type", "int32", "map-entry", "time"])
def test_malformed_bodies_are_bad_requests(data: bytes, reason: str) -> None:
    with pytest.raises(BadRequest, match=reason):
        protobuf.decode(data)


def test_nesting_deeper_than_any_kind_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match="nested too deeply"):
        protobuf._message(b"", "core.v1.Pod", "Pod", "Pod", protobuf.MAX_DEPTH + 1)


def test_an_unknown_message_nested_without_end_is_refused() -> None:
    nested = b""
    for _ in range(protobuf.MAX_DEPTH + 5):
        nested = field(1, nested + field(2, 0))
    with pytest.raises(UnsupportedMediaType):
        protobuf.decode(body("v1", "ConfigMap", meta("cm") + field(9, nested)))


def test_doubles_are_read_when_a_table_has_them() -> None:
    assert protobuf._scalar(struct.pack("<d", 2.5), protobuf.FIXED64, "double", "x") == 2.5


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_a_double_json_cannot_hold_is_a_bad_request(value: float) -> None:
    with pytest.raises(BadRequest, match="JSON can't hold"):
        protobuf._scalar(struct.pack("<d", value), protobuf.FIXED64, "double", "x")
    with pytest.raises(BadRequest, match="JSON can't hold"):
        protobuf._packed(struct.pack("<dd", 1.0, value), "double", "x")
