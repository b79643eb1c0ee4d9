"""A CRD version's `additionalPrinterColumns` as Table columns: apiextensions-apiserver's `tableconvertor`.

How kube fills a custom resource's Table (Kubernetes 1.35):
- NAME (`metadata.name`, format `name`) always comes first; the CRD's columns follow in their order.
- A version with no columns is served with one: `Age`, type date, `.metadata.creationTimestamp`
  (`serveDefaultColumnsIfEmpty`). No AGE column is added when a CRD declares columns of its own.
- Each JSONPath is parsed as the template `{<jsonPath>}`, evaluated with missing keys allowed, and only its
  *first* result is used (`results[0][0]`): `.status.conditions[*].type` shows the first type, never a joined list.
  No result, or an evaluation error (index out of range, incomparable filter values), gives a null cell.
- string cells print the value as client-go's JSONPath does (maps and lists as compact JSON, 3, true, 1.5); a
  JSON null prints as `<no value>`. integer takes an int or truncates a float; number takes either as a float;
  boolean a bool; date a RFC 3339 string rendered as AGE is (HumanDuration since then, `<unknown>` for an empty
  or zero time, `<invalid>` when unparsable). A value of another JSON type is a null cell.
- The column's description defaults to `Custom resource definition column (in JSONPath format): <jsonPath>`.
- A JSONPath that does not parse (CRD validation only checks it starts with `.`) ends the column list there,
  as `tableconvertor.New` returns the columns built so far with its error.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from apiserver.tables import CREATION_TIMESTAMP_DOC, NAME_COLUMN, Cell, Column, Obj, human_duration

if TYPE_CHECKING:  # JSONPath (and its parser tables) is imported by the first custom resource's Table
    from machinery import jsonpath

__all__ = ["DEFAULT_PRINTER_COLUMNS", "columns", "scale_columns"]

log = logging.getLogger(__name__)

# serveDefaultColumnsIfEmpty: what a CRD version without additionalPrinterColumns is served with.
AGE_PRINTER_COLUMN: Obj = {"name": "Age", "type": "date", "description": CREATION_TIMESTAMP_DOC,
                           "jsonPath": ".metadata.creationTimestamp"}
DEFAULT_PRINTER_COLUMNS: tuple[Obj, ...] = (AGE_PRINTER_COLUMN,)


def columns(printer_columns: Iterable[Mapping[str, Any]]) -> list[Column]:
    """NAME, then one column per printer column (or the default Age column when there are none)."""
    from machinery import jsonpath

    definitions = tuple(printer_columns) or DEFAULT_PRINTER_COLUMNS
    out = [NAME_COLUMN]
    for definition in definitions:
        json_path = _str(definition.get("jsonPath"))
        try:
            path = jsonpath.compile(json_path)
        except jsonpath.JSONPathError as e:
            log.debug("unrecognized column definition %r (%s): falling back to the columns before it", json_path, e)
            break
        kind = _str(definition.get("type"))
        priority = definition.get("priority")
        out.append(Column(
            name=_str(definition.get("name")),
            type=kind,
            value=_cell(path, kind),
            format=_str(definition.get("format")),
            description=_str(definition.get("description"))
            or f"Custom resource definition column (in JSONPath format): {json_path}",
            priority=priority if type(priority) is int else 0,
        ))
    return out


def scale_columns(scale: Mapping[str, Any] | None) -> list[Column]:
    """The Table of a custom resource's `scale` subresource (getScaleColumnsForVersion), cells read off the Scale.

    `scale` is the version's `subresources.scale`: Desired when it has specReplicasPath, Available when it has
    statusReplicasPath, then Age.
    """
    scale = scale or {}
    cols: list[Obj] = []
    if scale.get("specReplicasPath"):
        cols.append({"name": "Desired", "type": "integer", "description": "Number of desired replicas",
                     "jsonPath": ".spec.replicas"})
    if scale.get("statusReplicasPath"):
        cols.append({"name": "Available", "type": "integer", "description": "Number of actual replicas",
                     "jsonPath": ".status.replicas"})
    return columns([*cols, AGE_PRINTER_COLUMN])


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _cell(path: jsonpath.JSONPath, kind: str) -> Cell:
    from machinery import jsonpath

    def cell(obj: Obj, now: datetime) -> Any:
        try:
            results = path.find_results(obj)
        except jsonpath.JSONPathError:
            return None
        if not results or not results[0]:
            return None
        value = results[0][0]
        if kind == "string":
            return "<no value>" if value is None else jsonpath.to_text(value)  # Go prints an untyped nil so
        return _cell_for_json_value(kind, value, now)

    return cell


def _cell_for_json_value(kind: str, value: Any, now: datetime) -> Any:
    """cellForJSONValue: the value converted to the column's type, or None when it isn't of that type.

    Exact type checks: a bool is no integer, and a string's bytes (what a wildcard over a string yields) are Go
    uint8s, no integer either.
    """
    if kind == "integer" and type(value) in (int, float):
        return int(value)  # Go's int64(float64) truncates toward zero
    if kind == "number" and type(value) in (int, float):
        return float(value)
    if kind == "boolean" and type(value) is bool:
        return value
    if kind == "string" and type(value) is str:
        return value
    if kind == "date" and type(value) is str:
        return _date(value, now)
    return None


# --- date cells ---------------------------------------------------------------------------------------------------

# time.Parse(time.RFC3339, s), the generic path: the hour may have one digit, seconds may carry a fraction
# after "." or ",", the zone is "Z" or ±hh:mm.
_RFC3339 = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{1,2}):([0-9]{2}):([0-9]{2})"
                      r"(?:[.,]([0-9]+))?(?:Z|([+-])([0-9]{2}):([0-9]{2}))")
_ZERO_TIME = -62135596800  # 0001-01-01T00:00:00Z in Unix seconds: Go's zero time.Time


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 in the proleptic Gregorian calendar, year 0 included (Go's time accepts it)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _days_in(month: int, year: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _unix_time(value: str) -> tuple[int, int] | None:
    """An RFC 3339 string as (Unix seconds, nanoseconds), or None when Go's time.Parse would fail."""
    match = _RFC3339.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, sign, zone_hours, zone_minutes = match.groups()[6:]
    if not (1 <= month <= 12 and hour < 24 and minute < 60 and second < 60) or not 1 <= day <= _days_in(month, year):
        return None
    offset = 0
    if sign:
        if int(zone_hours) > 24 or int(zone_minutes) > 60:  # Go's own (lenient) bounds on a zone offset
            return None
        offset = (int(zone_hours) * 3600 + int(zone_minutes) * 60) * (-1 if sign == "-" else 1)
    seconds = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset
    nanos = int((fraction or "0")[:9].ljust(9, "0"))
    return seconds, nanos


def _date(value: str, now: datetime) -> str:
    """metav1.Time.UnmarshalQueryParameter, then ConvertToHumanReadableDateType."""
    if value in ("", "null"):
        return "<unknown>"  # the zero time
    parsed = _unix_time(value)
    if parsed is None:
        return "<invalid>"
    seconds, nanos = parsed
    if seconds == _ZERO_TIME and nanos == 0:
        return "<unknown>"
    return human_duration(now.timestamp() - seconds - nanos / 1e9)
