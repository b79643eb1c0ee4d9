"""Tables and partial metadata: kube's Accept negotiation, HumanDuration, Table and PartialObjectMetadata shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apiserver.tables import (
    CREATION_TIMESTAMP_DOC,
    NAME_DOC,
    Column,
    Output,
    age,
    created_at_columns,
    default_columns,
    go_type,
    human_duration,
    include_object,
    partial_list,
    partial_object_metadata,
    render_list,
    render_object,
    table,
    wanted_output,
)
from machinery import BadRequest, NotAcceptable

NOW = datetime(2024, 1, 2, tzinfo=UTC)
KUBECTL_GET = ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,"
               "application/json")
METADATA_CLIENT_LIST = ("application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,"
                        "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json")
POM = "as=PartialObjectMetadata;g=meta.k8s.io"

TABLE_V1 = Output("table", "v1")
OBJECT = Output()


def pod(name: str = "web", rv: str = "7", **meta: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "resourceVersion": rv, "uid": f"uid-{name}",
                         "creationTimestamp": "2024-01-01T00:00:00Z", **meta},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}}


# --- Accept negotiation -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("accept", "expected"), [
    (None, OBJECT),
    ("", OBJECT),
    ("application/json", OBJECT),
    ("*/*", OBJECT),
    ("application/*", OBJECT),
    ("application/yaml", Output(media="application/yaml")),
    ("application/vnd.kubernetes.protobuf, application/json", OBJECT),
    ("application/vnd.kubernetes.protobuf", OBJECT),  # answered in JSON, as codec.negotiate does
    ("text/html, */*", OBJECT),
    (KUBECTL_GET, TABLE_V1),
    ("application/json;as=Table;v=v1beta1;g=meta.k8s.io", Output("table", "v1beta1")),
    ("application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json;as=Table;v=v1;g=meta.k8s.io",
     Output("table", "v1beta1")),
    ("application/yaml;as=Table;v=v1;g=meta.k8s.io", Output("table", "v1", media="application/yaml")),
    ("application/json;as=Table;v=v1;g=meta.k8s.io;stream=watch", TABLE_V1),
    ("application/json;pretty=1;as=Table;v=v1;g=meta.k8s.io", TABLE_V1),  # unknown parameters are ignored
    ("application/json; as=Table; v=v1; g=meta.k8s.io", TABLE_V1),
    ("*/*;as=Table;v=v1;g=meta.k8s.io", TABLE_V1),
    ("application/json;as=Table;v=v1alpha1;g=meta.k8s.io, application/json", OBJECT),
    ("application/json;as=Table;v=v1;g=example.com, application/json", OBJECT),
    # protobuf cannot carry a Table: kube passes over that clause
    ("application/vnd.kubernetes.protobuf;as=Table;v=v1beta1;g=meta.k8s.io,"
     "application/json;as=Table;v=v1beta1;g=meta.k8s.io", Output("table", "v1beta1")),
    # q orders the clauses; equal q keeps the header's order
    ("application/json;q=0.5,application/json;as=Table;v=v1;g=meta.k8s.io", TABLE_V1),
    ("application/json;as=Table;v=v1;g=meta.k8s.io;q=0.1,application/json", OBJECT),
    # PartialObjectMetadata: the preferred version wins (kube's TestGetPartialObjectMetadata)
    (f"application/json;{POM};v=v1beta1, application/json;{POM};v=v1, application/json", Output("partial", "v1beta1")),
    (f"application/json;{POM};v=v1, application/json;{POM};v=v1beta1, application/json", Output("partial", "v1")),
    (f"application/json;{POM};v=v1alpha1, application/json", OBJECT),
    ("application/json;as=PartialObjectMetadataList;v=v1beta1;g=meta.k8s.io, application/json",
     Output("partial", "v1beta1", as_list=True)),
    (METADATA_CLIENT_LIST, Output("partial", "v1", as_list=True)),
    (f"application/vnd.kubernetes.protobuf;{POM};v=v1", Output("partial", "v1")),
])
def test_wanted_output_reads_accept_as_kube_negotiates(accept: str | None, expected: Output) -> None:
    assert wanted_output(accept) == expected


@pytest.mark.parametrize("accept", [
    "application/json;as=Table;v=v1alpha1;g=meta.k8s.io",
    "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io",
    "application/json;as=Table;g=meta.k8s.io",  # no version
    "application/json;as=Foo;v=v1;g=meta.k8s.io",
    f"application/json;{POM};v=v1alpha1",
    "application/json;stream=other",
    "application/yaml;stream=watch",  # YAML has no stream serializer
    "application/json;sv=v2",
    "text/html",
    "application",
])
def test_wanted_output_refuses_what_no_clause_can_have(accept: str) -> None:
    with pytest.raises(NotAcceptable) as err:
        wanted_output(accept)
    assert err.value.code == 406


def test_output_names_the_meta_version_and_the_plain_content_type() -> None:
    out = wanted_output(KUBECTL_GET)
    assert (out.api_version, out.content_type) == ("meta.k8s.io/v1", "application/json")
    assert (Output().api_version, Output().content_type) == ("", "application/json")


@pytest.mark.parametrize(("query", "expected"), [
    ({}, "Metadata"),
    ({"includeObject": ""}, "Metadata"),
    ({"includeObject": "Metadata"}, "Metadata"),
    ({"includeObject": "None"}, "None"),
    ({"includeObject": "Object"}, "Object"),
])
def test_include_object_defaults_to_metadata(query: dict[str, str], expected: str) -> None:
    assert include_object(query) == expected


def test_include_object_rejects_other_values_with_kubes_message() -> None:
    with pytest.raises(BadRequest) as err:
        include_object({"includeObject": "All"})
    assert err.value.code == 400
    assert str(err.value.status()["message"]) == (
        "Unable to convert to Table as requested: includeObject: Invalid value: \"All\": "
        "must be 'Metadata', 'Object', 'None', or empty")


# --- HumanDuration (kube's duration_test.go) ----------------------------------------------------------------------

S, M, H, D, Y = 1, 60, 3600, 24 * 3600, 365 * 24 * 3600
MS, NS = 0.001, 1e-9


@pytest.mark.parametrize(("seconds", "want"), [
    # TestHumanDuration
    (S, "1s"), (70 * S, "70s"), (190 * S, "3m10s"), (70 * M, "70m"), (47 * H, "47h"), (49 * H, "2d1h"),
    ((8 * 24 + 2) * H, "8d"), (367 * D, "367d"), ((365 * 2 * 24 + 25) * H, "2y1d"), ((365 * 8 * 24 + 2) * H, "8y"),
    # TestHumanDurationBoundaries
    (-2 * S, "<invalid>"), (-2 * S + NS, "0s"), (0, "0s"), (S - MS, "0s"), (2 * M - MS, "119s"), (2 * M, "2m"),
    (2 * M + S, "2m1s"), (10 * M - MS, "9m59s"), (10 * M, "10m"), (10 * M + S, "10m"), (3 * H - MS, "179m"),
    (3 * H, "3h"), (3 * H + M, "3h1m"), (8 * H - MS, "7h59m"), (8 * H, "8h"), (8 * H + 59 * M, "8h"),
    (2 * D - MS, "47h"), (2 * D, "2d"), (2 * D + H, "2d1h"), (8 * D - MS, "7d23h"), (8 * D, "8d"),
    (8 * D + 23 * H, "8d"), (2 * Y - MS, "729d"), (2 * Y, "2y"), (2 * Y + 23 * H, "2y"), (2 * Y + 23 * H + 59 * M, "2y"),
    (2 * Y + D - MS, "2y"), (2 * Y + D, "2y1d"), (3 * Y, "3y"), (4 * Y, "4y"), (5 * Y, "5y"), (6 * Y, "6y"),
    (7 * Y, "7y"), (8 * Y - MS, "7y364d"), (8 * Y, "8y"), (8 * Y + 364 * D, "8y"), (9 * Y, "9y"),
])
def test_human_duration_matches_kube(seconds: float, want: str) -> None:
    assert human_duration(seconds) == want


@pytest.mark.parametrize(("timestamp", "want"), [
    ("2024-01-01T00:00:00Z", "24h"),
    ("2024-01-01T23:59:30Z", "30s"),
    ("2024-01-01T23:59:30.123456Z", "29s"),  # a MicroTime
    ("2024-01-02T00:00:05Z", "<invalid>"),  # the future beyond clock skew
    (None, "<unknown>"),
    ("", "<unknown>"),
    ("0001-01-01T00:00:00Z", "<unknown>"),  # Go's zero time
    ("yesterday", "<unknown>"),
])
def test_age_is_human_duration_since_the_timestamp(timestamp: str | None, want: str) -> None:
    assert age(timestamp, NOW) == want


# --- Table --------------------------------------------------------------------------------------------------------


def test_a_table_has_kubes_shape() -> None:
    t = table(default_columns(), [pod()], now=NOW)
    assert t == {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": "7"},
        "columnDefinitions": [
            {"name": "Name", "type": "string", "format": "name", "description": NAME_DOC, "priority": 0},
            {"name": "Age", "type": "date", "format": "",
             "description": "Custom resource definition column (in JSONPath format): .metadata.creationTimestamp",
             "priority": 0},
        ],
        "rows": [{"cells": ["web", "24h"], "object": partial_object_metadata(pod())}],
    }


def test_the_crd_style_age_cell_is_null_without_a_timestamp() -> None:
    cells = [r["cells"] for r in table(default_columns(), [pod(), pod("bare", creationTimestamp=None),
                                                          pod("odd", creationTimestamp="soon")], now=NOW)["rows"]]
    assert cells == [["web", "24h"], ["bare", None], ["odd", "<invalid>"]]


def test_kubes_default_convertor_prints_name_and_created_at() -> None:
    t = table(created_at_columns(), [pod(), pod("bare", creationTimestamp=None)], list_meta={}, now=NOW)
    assert [(c["name"], c["type"], c["description"]) for c in t["columnDefinitions"]] == [
        ("Name", "string", NAME_DOC), ("Created At", "date", CREATION_TIMESTAMP_DOC)]
    assert [r["cells"] for r in t["rows"]] == [["web", "2024-01-01T00:00:00Z"], ["bare", "0001-01-01T00:00:00Z"]]


@pytest.mark.parametrize(("include", "api_version", "expected"), [
    ("Metadata", "meta.k8s.io/v1", partial_object_metadata(pod(), "v1")),
    ("Metadata", "meta.k8s.io/v1beta1", partial_object_metadata(pod(), "v1beta1")),
    ("Object", "meta.k8s.io/v1", pod()),
    ("None", "meta.k8s.io/v1", None),
])
def test_include_object_picks_the_rows_object(include: str, api_version: str, expected: Any) -> None:
    t = table(default_columns(), [pod()], include_object=include, api_version=api_version, now=NOW)
    assert t["apiVersion"] == api_version
    assert t["rows"][0]["object"] == expected


def test_the_watch_list_end_bookmark_keeps_its_metadata_even_without_objects() -> None:
    bookmark = {"kind": "Pod", "apiVersion": "v1",
                "metadata": {"resourceVersion": "9", "annotations": {"k8s.io/initial-events-end": "true"}}}
    t = table(default_columns(), [bookmark], include_object="None", now=NOW)
    assert t["rows"][0]["object"] == partial_object_metadata(bookmark)


def test_a_list_table_carries_the_lists_paging_metadata() -> None:
    pods = {"kind": "PodList", "apiVersion": "v1",
            "metadata": {"resourceVersion": "12", "continue": "abc", "remainingItemCount": 3, "selfLink": "x"},
            "items": [pod("a", "5"), pod("b", "6")]}
    t = render_list(pods, TABLE_V1, default_columns(), now=NOW)
    assert t["metadata"] == {"resourceVersion": "12", "continue": "abc", "remainingItemCount": 3}
    assert [r["cells"][0] for r in t["rows"]] == ["a", "b"]


def test_an_empty_list_is_a_table_without_rows() -> None:
    t = render_list({"kind": "PodList", "metadata": {"resourceVersion": "3"}, "items": []}, TABLE_V1,
                    default_columns(), now=NOW)
    assert (t["metadata"], t["rows"], len(t["columnDefinitions"])) == ({"resourceVersion": "3"}, [], 2)


def test_watch_events_after_the_first_carry_no_column_definitions() -> None:
    first = render_object(pod(), TABLE_V1, default_columns(), now=NOW)
    later = render_object(pod(), TABLE_V1, default_columns(), headers=False, now=NOW)
    assert first["columnDefinitions"] and later["columnDefinitions"] is None
    assert later["rows"] == first["rows"] and later["metadata"] == {"resourceVersion": "7"}


def test_rows_get_the_printers_conditions() -> None:
    def done(obj: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"type": "Completed", "status": "True"}] if obj["metadata"]["name"] == "done" else []

    t = table(default_columns(), [pod("done"), pod("busy")], now=NOW, conditions=done)
    assert t["rows"][0]["conditions"] == [{"type": "Completed", "status": "True"}]
    assert "conditions" not in t["rows"][1]
    assert list(t["rows"][0]) == ["cells", "conditions", "object"]


def test_cells_are_filled_by_the_columns_with_now() -> None:
    col = Column("Kind and day", "string", lambda obj, now: f"{obj['kind']}@{now:%d}")
    assert table([col], [pod()], now=NOW)["rows"][0]["cells"] == ["Pod@02"]


def test_without_now_a_table_uses_the_clock() -> None:
    recent = pod(creationTimestamp=(datetime.now(UTC) - timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert table(default_columns(), [recent])["rows"][0]["cells"][1] in ("4s", "5s", "6s")


# --- PartialObjectMetadata ----------------------------------------------------------------------------------------


def test_partial_object_metadata_keeps_all_metadata() -> None:
    obj = pod(labels={"app": "web"}, managedFields=[{"manager": "kubectl"}])
    assert partial_object_metadata(obj, "v1beta1") == {
        "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1beta1", "metadata": obj["metadata"]}


def test_partial_list_keeps_paging_and_types_each_item() -> None:
    pods = {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "12", "continue": "c"},
            "items": [pod("a"), pod("b")]}
    assert partial_list(pods) == {
        "kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": "12", "continue": "c"},
        "items": [partial_object_metadata(pod("a")), partial_object_metadata(pod("b"))],
    }
    assert partial_list({"metadata": {}, "items": None})["items"] == []


def test_render_gives_partial_metadata_for_get_and_list() -> None:
    assert render_object(pod(), wanted_output(f"application/json;{POM};v=v1"), []) == partial_object_metadata(pod())
    pods = {"kind": "PodList", "metadata": {"resourceVersion": "1"}, "items": [pod()]}
    assert render_list(pods, wanted_output(METADATA_CLIENT_LIST), [])["kind"] == "PartialObjectMetadataList"


def test_partial_metadata_of_the_wrong_shape_is_406_with_kubes_message() -> None:
    pods = {"kind": "PodList", "metadata": {}, "items": []}
    with pytest.raises(NotAcceptable) as err:
        render_list(pods, Output("partial", "v1"), [], type_name=go_type("", "PodList"))
    assert err.value.status()["message"] == (
        "you requested PartialObjectMetadata, but the requested object is a list (*core.PodList)")
    with pytest.raises(NotAcceptable) as err:
        render_object(pod(), Output("partial", "v1", as_list=True), [], type_name=go_type("apps", "Deployment"))
    assert err.value.status()["message"] == (
        "you requested PartialObjectMetadataList, but the requested object is not a list (*apps.Deployment)")


@pytest.mark.parametrize(("group", "kind", "custom", "expected"), [
    ("", "Pod", False, "*core.Pod"),
    ("events.k8s.io", "EventList", False, "*core.EventList"),
    ("rbac.authorization.k8s.io", "Role", False, "*rbac.Role"),
    ("example.com", "WidgetList", True, "*unstructured.UnstructuredList"),
])
def test_go_type_names_the_internal_type(group: str, kind: str, custom: bool, expected: str) -> None:
    assert go_type(group, kind, custom=custom) == expected


def test_objects_and_statuses_pass_through_untouched() -> None:
    obj = pod()
    assert render_object(obj, OBJECT, default_columns()) is obj
    pods = {"kind": "PodList", "items": [obj]}
    assert render_list(pods, OBJECT, default_columns()) is pods
    status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 410}
    assert render_object(status, TABLE_V1, default_columns()) is status
    assert render_object(status, Output("partial", "v1"), []) is status
