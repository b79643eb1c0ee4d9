"""CRD printer columns: apiextensions' tableconvertor, cell by cell."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from apiserver.crdcolumns import DEFAULT_PRINTER_COLUMNS, columns, scale_columns
from apiserver.tables import CREATION_TIMESTAMP_DOC, NAME_DOC, table

NOW = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)

WIDGET: dict[str, Any] = {
    "apiVersion": "example.com/v1", "kind": "Widget",
    "metadata": {"name": "w1", "namespace": "default", "creationTimestamp": "2024-01-01T03:04:05Z",
                 "labels": {"app.kubernetes.io/name": "widget"}},
    "spec": {"replicas": 3, "ratio": 0.5, "weight": 2, "paused": False, "image": "nginx:1.25",
             "selector": {"matchLabels": {"app": "w", "tier": "web"}}, "ports": [80, 443], "nothing": None,
             "startedAt": "2024-01-02T01:04:05.123456Z"},
    "status": {"replicas": 2, "conditions": [{"type": "Progressing", "status": "True"},
                                             {"type": "Ready", "status": "False", "lastTransitionTime":
                                              "2024-01-02T03:02:05+00:00"}]},
}


def col(name: str, kind: str, json_path: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": kind, "jsonPath": json_path, **extra}


def cells(*printer_columns: dict[str, Any], obj: dict[str, Any] = WIDGET) -> list[Any]:
    return [c.value(obj, NOW) for c in columns(printer_columns)]


# --- the columns --------------------------------------------------------------------------------------------------


def test_a_crd_with_columns_gets_name_first_then_its_columns_and_no_implicit_age() -> None:
    defs = [c.definition() for c in columns((
        col("Replicas", "integer", ".spec.replicas"),
        col("Ready", "string", '.status.conditions[?(@.type=="Ready")].status', description="Whether it serves"),
        col("Image", "string", ".spec.image", priority=1, format="byte"),
    ))]
    assert defs == [
        {"name": "Name", "type": "string", "format": "name", "description": NAME_DOC, "priority": 0},
        {"name": "Replicas", "type": "integer", "format": "",
         "description": "Custom resource definition column (in JSONPath format): .spec.replicas", "priority": 0},
        {"name": "Ready", "type": "string", "format": "", "description": "Whether it serves", "priority": 0},
        {"name": "Image", "type": "string", "format": "byte",
         "description": "Custom resource definition column (in JSONPath format): .spec.image", "priority": 1},
    ]


def test_a_crd_without_columns_is_served_name_and_age() -> None:
    defs = [c.definition() for c in columns(())]
    assert defs == [
        {"name": "Name", "type": "string", "format": "name", "description": NAME_DOC, "priority": 0},
        {"name": "Age", "type": "date", "format": "", "description": CREATION_TIMESTAMP_DOC, "priority": 0},
    ]
    assert [c.value(WIDGET, NOW) for c in columns(())] == ["w1", "24h"]
    assert DEFAULT_PRINTER_COLUMNS[0]["jsonPath"] == ".metadata.creationTimestamp"


def test_an_unparsable_json_path_ends_the_columns_there() -> None:
    names = [c.name for c in columns((col("A", "integer", ".spec.replicas"), col("B", "string", ".spec[x"),
                                      col("C", "string", ".spec.image")))]
    assert names == ["Name", "A"]
    assert [c.name for c in columns((col("B", "string", ".spec[x"),))] == ["Name"]  # no fallback Age either


# --- cells --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("column", "cell"), [
    # integer
    (col("Replicas", "integer", ".spec.replicas"), 3),
    (col("Available", "integer", ".status.replicas"), 2),
    (col("Ratio", "integer", ".spec.ratio"), 0),  # int64(0.5): truncated
    (col("Image", "integer", ".spec.image"), None),  # a string is no integer
    (col("Paused", "integer", ".spec.paused"), None),  # nor is a bool
    (col("Missing", "integer", ".spec.missing"), None),
    (col("Null", "integer", ".spec.nothing"), None),
    # number
    (col("Ratio", "number", ".spec.ratio"), 0.5),
    (col("Weight", "number", ".spec.weight"), 2.0),
    (col("Image", "number", ".spec.image"), None),
    # boolean
    (col("Paused", "boolean", ".spec.paused"), False),
    (col("Replicas", "boolean", ".spec.replicas"), None),
    # string: client-go's printing of whatever is there
    (col("Ready", "string", '.status.conditions[?(@.type=="Ready")].status'), "False"),
    (col("Progressing", "string", ".status.conditions[?(@.type=='Progressing')].status"), "True"),
    (col("Absent", "string", '.status.conditions[?(@.type=="Absent")].status'), None),
    (col("Image", "string", ".spec.image"), "nginx:1.25"),
    (col("Replicas", "string", ".spec.replicas"), "3"),
    (col("Ratio", "string", ".spec.ratio"), "0.5"),
    (col("Paused", "string", ".spec.paused"), "false"),
    (col("Selector", "string", ".spec.selector.matchLabels"), '{"app":"w","tier":"web"}'),
    (col("Ports", "string", ".spec.ports"), "[80,443]"),
    (col("Null", "string", ".spec.nothing"), "<no value>"),  # Go prints the untyped nil it is handed
    (col("Missing", "string", ".spec.missing"), None),
    (col("Label", "string", ".metadata.labels.app\\.kubernetes\\.io/name"), "widget"),
    # only the first result counts, never a joined list
    (col("Types", "string", ".status.conditions[*].type"), "Progressing"),
    (col("Port", "integer", ".spec.ports[*]"), 80),
    (col("LastPort", "integer", ".spec.ports[-1:]"), 443),
    (col("Names", "string", "..name"), "w1"),
    # evaluation errors are null cells
    (col("Tenth", "string", ".status.conditions[10].type"), None),
    (col("Bad", "string", ".status.conditions[?(@.type==1)].status"), None),  # a string never compares to an int
    (col("NotAList", "string", ".spec.image[0]"), None),
    # date: HumanDuration since then
    (col("Age", "date", ".metadata.creationTimestamp"), "24h"),
    (col("Started", "date", ".spec.startedAt"), "119m"),
    (col("Transition", "date", '.status.conditions[?(@.type=="Ready")].lastTransitionTime'), "2m"),
    (col("NoDate", "date", ".spec.missing"), None),
    (col("NotADate", "date", ".spec.image"), "<invalid>"),
    (col("NumberDate", "date", ".spec.replicas"), None),
])
def test_cells_are_converted_per_column_type(column: dict[str, Any], cell: Any) -> None:
    assert cells(column) == ["w1", cell]


@pytest.mark.parametrize(("timestamp", "cell"), [
    ("2024-01-02T03:04:00Z", "5s"),
    ("2024-01-02T03:04:05Z", "0s"),
    ("2024-01-02T03:04:06Z", "0s"),  # a second of clock skew
    ("2024-01-02T03:04:10Z", "<invalid>"),  # the future
    ("2024-01-02T04:04:00+01:00", "5s"),
    ("2024-01-02T02:04:00-01:00", "5s"),
    ("2024-01-02T3:04:00Z", "5s"),  # Go's time.Parse takes a one-digit hour
    ("2024-01-02T03:04:00,5Z", "4s"),
    ("2023-01-02T03:04:05Z", "365d"),
    ("2021-01-02T03:04:05Z", "3y"),
    ("", "<unknown>"),
    ("null", "<unknown>"),
    ("0001-01-01T00:00:00Z", "<unknown>"),  # Go's zero time
    ("0000-06-01T00:00:00Z", "2024y"),  # year 0 parses in Go; 365-day years
    ("2024-01-02", "<invalid>"),
    ("2024-01-02 03:04:00Z", "<invalid>"),
    ("2024-01-02t03:04:00Z", "<invalid>"),
    ("2024-01-02T03:04:00z", "<invalid>"),
    ("2024-01-02T03:04:00", "<invalid>"),
    ("2024-02-30T03:04:00Z", "<invalid>"),
    ("2023-02-29T03:04:00Z", "<invalid>"),
    ("2024-13-02T03:04:00Z", "<invalid>"),
    ("2024-01-02T24:04:00Z", "<invalid>"),
    ("2024-01-02T03:04:60Z", "<invalid>"),
    ("2024-01-02T03:04:00.Z", "<invalid>"),
    ("2024-01-02T03:04:00+0100", "<invalid>"),
])
def test_date_cells_read_rfc3339_as_go_does(timestamp: str, cell: str) -> None:
    obj = {"metadata": {"name": "w"}, "spec": {"at": timestamp}}
    assert cells(col("At", "date", ".spec.at"), obj=obj) == ["w", cell]


def test_a_table_of_custom_resources_with_priority_columns() -> None:
    cols = columns((col("Replicas", "integer", ".spec.replicas"),
                    col("Ready", "string", '.status.conditions[?(@.type=="Ready")].status'),
                    col("Image", "string", ".spec.image", priority=1),
                    col("Age", "date", ".metadata.creationTimestamp")))
    bare = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w2"}}
    t = table(cols, [WIDGET, bare], now=NOW)
    assert [(d["name"], d["type"], d["priority"]) for d in t["columnDefinitions"]] == [
        ("Name", "string", 0), ("Replicas", "integer", 0), ("Ready", "string", 0), ("Image", "string", 1),
        ("Age", "date", 0)]
    assert [r["cells"] for r in t["rows"]] == [["w1", 3, "False", "nginx:1.25", "24h"],
                                              ["w2", None, None, None, None]]


SCALE = {"kind": "Scale", "metadata": {"name": "w1", "creationTimestamp": "2024-01-02T03:04:00Z"},
         "spec": {"replicas": 3}, "status": {"replicas": 2}}


@pytest.mark.parametrize(("scale", "names", "row"), [
    ({"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"},
     ["Name", "Desired", "Available", "Age"], ["w1", 3, 2, "5s"]),
    ({"specReplicasPath": ".spec.replicas"}, ["Name", "Desired", "Age"], ["w1", 3, "5s"]),
    (None, ["Name", "Age"], ["w1", "5s"]),
])
def test_the_scale_subresource_table(scale: dict[str, Any] | None, names: list[str], row: list[Any]) -> None:
    cols = scale_columns(scale)
    assert [c.name for c in cols] == names
    assert [c.value(SCALE, NOW) for c in cols] == row
