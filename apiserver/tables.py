"""What a GET, LIST or WATCH answers when the client asks for `as=Table` or `as=PartialObjectMetadata[List]`.

Pure functions after kube-apiserver 1.35:
- `wanted_output` reads the Accept header as `endpoints/handlers/negotiation/negotiate.go` does (goautoneg's
  clause order, then the first clause the endpoint can serve, transforms included);
- `render_object` / `render_list` are `handlers/response.go` (`doTransformObject`, `asTable`,
  `asPartialObjectMetadata[List]`), with kube's 406 messages;
- `table` builds a `meta.k8s.io` Table from columns (`pkg/printers/tablegenerator.go`, server side always wide);
- `human_duration` is `apimachinery/pkg/util/duration.HumanDuration`, what every AGE cell shows.

Per-kind columns live in `apiserver.builtins.printers`; kinds without a printer use `default_columns()`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from apiserver import codec
from machinery import BadRequest, NotAcceptable

Obj = dict[str, Any]
Cell = Callable[[Obj, datetime], Any]  # (object, now) -> one cell
RowConditions = Callable[[Obj], list[Obj]]

META_GROUP = "meta.k8s.io"
META_VERSIONS = ("v1", "v1beta1")  # the group versions asTable and asPartialObjectMetadata accept
INCLUDE_OBJECT = ("Metadata", "None", "Object")  # metav1.IncludeObjectPolicy
INITIAL_EVENTS_END = "k8s.io/initial-events-end"  # watch-list end bookmark: metadata even with None

_PROTOBUF = "application/vnd.kubernetes.protobuf"
_YAML_ALIASES = ("application/yaml", "application/x-yaml", "text/yaml")  # what codec.negotiate reads as YAML
_NOT_ACCEPTABLE = "only the following media types are accepted: application/json, application/yaml"

# The docs kube copies from metav1.ObjectMeta{}.SwaggerDoc() into its NAME and AGE column definitions.
NAME_DOC = ("Name must be unique within a namespace. Is required when creating resources, although some resources "
            "may allow a client to request the generation of an appropriate name automatically. Name is primarily "
            "intended for creation idempotence and configuration definition. Cannot be updated. More info: "
            "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names")
CREATION_TIMESTAMP_DOC = ("CreationTimestamp is a timestamp representing the server time when this object was "
                          "created. It is not guaranteed to be set in happens-before order across separate "
                          "operations. Clients may not set this value. It is represented in RFC3339 form and is in "
                          "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
                          "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md"
                          "#metadata")


# --- columns ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One `TableColumnDefinition` plus the function that fills its cell for an object.

    `priority` 0 columns are what `kubectl get` shows; priority 1 columns appear with `-o wide`. The server
    always sends every column (kube's storage TableConvertor prints with Wide: true).
    """

    name: str
    type: str  # an OpenAPI type: string, integer, boolean, number, date
    value: Cell
    format: str = ""  # "name" marks the column holding the object's name
    description: str = ""
    priority: int = 0

    def definition(self) -> Obj:
        return {"name": self.name, "type": self.type, "format": self.format, "description": self.description,
                "priority": self.priority}


def name_of(obj: Obj, _now: datetime | None = None) -> str:
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return name if isinstance(name, str) else ""


def age_of(obj: Obj, now: datetime) -> str:
    meta = obj.get("metadata")
    return age(meta.get("creationTimestamp") if isinstance(meta, dict) else None, now)


def _date_cell(obj: Obj, now: datetime) -> str | None:
    """A CRD `date` column over .metadata.creationTimestamp: null when absent, "<invalid>" when unparsable."""
    meta = obj.get("metadata")
    value = meta.get("creationTimestamp") if isinstance(meta, dict) else None
    if not isinstance(value, str):
        return None
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return "<invalid>"
    return age(value, now)


def _created_at(obj: Obj, _now: datetime) -> str:
    """`CreationTimestamp.Time.UTC().Format(time.RFC3339)`: the zero time when unset."""
    meta = obj.get("metadata")
    when = parse_time(meta.get("creationTimestamp") if isinstance(meta, dict) else None)
    return (when or _ZERO_TIME).astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


NAME_COLUMN = Column("Name", "string", name_of, format="name", description=NAME_DOC)
AGE_COLUMN = Column("Age", "string", age_of, description=CREATION_TIMESTAMP_DOC)


def default_columns() -> list[Column]:
    """NAME and AGE: what a kind without printer columns shows (a CRD without additionalPrinterColumns).

    The CRD defaulter adds `{name: Age, type: date, jsonPath: .metadata.creationTimestamp}` and the CRD table
    convertor renders date cells as HumanDuration (apiextensions `tableconvertor`).
    """
    age_doc = "Custom resource definition column (in JSONPath format): .metadata.creationTimestamp"
    return [NAME_COLUMN, Column("Age", "date", _date_cell, description=age_doc)]


def created_at_columns() -> list[Column]:
    """NAME and CREATED AT (an RFC 3339 timestamp): kube's `rest.NewDefaultTableConvertor`.

    Built-in kinds registered without a printer use it: Role, ClusterRole, LimitRange (`kubectl get clusterroles`
    shows `NAME  CREATED AT`).
    """
    return [NAME_COLUMN, Column("Created At", "date", _created_at, description=CREATION_TIMESTAMP_DOC)]


# --- time ---------------------------------------------------------------------------------------------------------

_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)  # Go's zero time.Time: metav1.Time.IsZero
_SECOND = 1_000_000_000  # time.Duration is in nanoseconds
_MINUTE = 60 * _SECOND
_HOUR = 60 * _MINUTE


def human_duration(seconds: float) -> str:
    """duration.HumanDuration: about 2-3 significant figures ("70s", "3m10s", "2d1h", "2y1d")."""
    d = round(seconds * _SECOND)
    whole_seconds = int(d / _SECOND)  # int(d.Seconds()) truncates toward zero
    if whole_seconds < -1:
        return "<invalid>"  # more than 2 s in the future: not clock skew
    if whole_seconds < 0:
        return "0s"
    if whole_seconds < 60 * 2:
        return f"{whole_seconds}s"
    minutes = d // _MINUTE
    if minutes < 10:
        s = d // _SECOND % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = d // _HOUR
    if hours < 8:
        m = d // _MINUTE % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = hours // 24 % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def parse_time(value: Any) -> datetime | None:
    """A metav1.Time or MicroTime string; None when absent, malformed or Go's zero time."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return None if when == _ZERO_TIME else when


def age(creation_timestamp: Any, now: datetime) -> str:
    """translateTimestampSince: HumanDuration(now - t), or "<unknown>" for an unset time."""
    when = parse_time(creation_timestamp)
    return "<unknown>" if when is None else human_duration((now - when).total_seconds())


# --- Accept negotiation -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Output:
    """What the client asked for: the object itself, a Table, or PartialObjectMetadata[List].

    `version` is the meta.k8s.io version to answer with ("v1" or "v1beta1"; "" for objects). `as_list` tells
    `as=PartialObjectMetadataList` from `as=PartialObjectMetadata`. `media` is the serialization.
    """

    kind: Literal["object", "table", "partial"] = "object"
    version: str = ""
    as_list: bool = False
    media: str = codec.JSON

    @property
    def api_version(self) -> str:
        return f"{META_GROUP}/{self.version}" if self.version else ""

    @property
    def content_type(self) -> str:
        """kube writes the serializer's plain media type, without the `as`/`g`/`v` parameters.

        Watch responses keep their own `application/json;stream=watch` whatever the transform.
        """
        return self.media


@dataclass(frozen=True)
class _Clause:
    type: str
    subtype: str
    params: dict[str, str]
    q: float


def _parse_accept(header: str) -> list[_Clause]:
    """goautoneg.ParseAccept: clauses with their parameters, q split out; malformed ranges dropped."""
    clauses: list[_Clause] = []
    for part in header.split(","):
        media_range, *raw_params = part.strip(" ").split(";")
        kind, _, rest = media_range.partition("/")
        kind = kind.strip(" ")
        if not rest:
            if kind != "*":
                continue
            subtype = "*"
        elif "/" in rest:
            continue
        else:
            subtype = rest.strip(" ")
        params: dict[str, str] = {}
        q = 1.0
        for raw in raw_params:
            key, equals, value = raw.partition("=")
            if not equals or not value or "=" in value:
                continue
            if key.strip(" ") == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0  # strconv.ParseFloat's error is ignored: q becomes 0
            else:
                params[key.strip(" ")] = value.strip(" ")
        clauses.append(_Clause(kind.lower(), subtype.lower(), params, q))
    return _sort_clauses(clauses)


def _sort_clauses(clauses: list[_Clause]) -> list[_Clause]:
    """goautoneg sorts with this (non-strict) Less; Go's sort.Sort is an insertion sort below 13 elements."""

    def less(a: _Clause, b: _Clause) -> bool:
        return a.q > b.q or (a.type != "*" and b.type == "*") or (a.subtype != "*" and b.subtype == "*")

    out = list(clauses)
    for i in range(1, len(out)):
        j = i
        while j > 0 and less(out[j], out[j - 1]):
            out[j], out[j - 1] = out[j - 1], out[j]
            j -= 1
    return out


def _served(clause: _Clause) -> list[tuple[str, bool]]:
    """The media types (serialization, is_protobuf) a clause matches, in kube's order: JSON, YAML, protobuf.

    We speak no protobuf: a protobuf clause is answered in JSON (as `codec.negotiate` does), with
    protobuf's restrictions (no Table).
    """
    if clause.type == "*" or (clause.type == "application" and clause.subtype == "*"):
        return [(codec.JSON, False), (codec.YAML, False), (codec.JSON, True)]
    media = f"{clause.type}/{clause.subtype}"
    if media == codec.JSON:
        return [(codec.JSON, False)]
    if media in _YAML_ALIASES:
        return [(codec.YAML, False)]
    if media == _PROTOBUF:
        return [(codec.JSON, True)]
    return []


def _accepted(params: Mapping[str, str], media: str, protobuf: bool) -> Output | None:
    """acceptMediaTypeOptions plus RequestScope.AllowsMediaTypeTransform: the Output, or None to skip."""
    stream = params.get("stream", "")
    if stream and (stream != "watch" or media == codec.YAML):  # only JSON and protobuf can stream watch events
        return None
    if params.get("sv", "") not in ("", "v1"):  # AllowsServerVersion: the meta group version
        return None
    if not {"as", "g", "v"} & params.keys():
        return Output(media=media)
    target, group, version = params.get("as", ""), params.get("g", ""), params.get("v", "")
    if group != META_GROUP or version not in META_VERSIONS:
        return None
    if target == "Table":
        return None if protobuf else Output("table", version, media=media)
    if target in ("PartialObjectMetadata", "PartialObjectMetadataList"):
        return Output("partial", version, as_list=target.endswith("List"), media=media)
    return None


@functools.lru_cache(maxsize=256)  # a client sends the same few Accept headers over and over
def wanted_output(accept: str | None) -> Output:
    """The first Accept clause this server can answer, best first (q, then specificity, then header order).

    kubectl get sends `application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;
    g=meta.k8s.io,application/json` and gets a v1 Table. A clause asking for a transform we can't do (another
    version, `as=Table` over protobuf) is passed over; nothing servable is 406.
    """
    if not accept:
        return Output()
    for clause in _parse_accept(accept):
        for media, protobuf in _served(clause):
            if (out := _accepted(clause.params, media, protobuf)) is not None:
                return out
    raise NotAcceptable(_NOT_ACCEPTABLE)


def include_object(query: Mapping[str, str]) -> str:
    """TableOptions.includeObject, checked as optionsForTransform does; "" means Metadata."""
    value = query.get("includeObject", "")
    if value not in ("", *INCLUDE_OBJECT):
        raise BadRequest(f'Unable to convert to Table as requested: includeObject: Invalid value: "{value}": '
                         "must be 'Metadata', 'Object', 'None', or empty")
    return value or "Metadata"


# --- transforms ---------------------------------------------------------------------------------------------------


def partial_object_metadata(obj: Obj, version: str = "v1") -> Obj:
    """meta.AsPartialObjectMetadata: the object's whole metadata under a PartialObjectMetadata envelope."""
    meta = obj.get("metadata")
    return {"kind": "PartialObjectMetadata", "apiVersion": f"{META_GROUP}/{version}",
            "metadata": meta if isinstance(meta, dict) else {}}


def _list_meta(list_obj: Obj) -> Obj:
    """The ListMeta kube copies over: resourceVersion, continue, remainingItemCount."""
    meta = list_obj.get("metadata")
    if not isinstance(meta, dict):
        return {}
    return {k: meta[k] for k in ("resourceVersion", "continue", "remainingItemCount") if meta.get(k) is not None}


def partial_list(list_obj: Obj, version: str = "v1") -> Obj:
    """asPartialObjectMetadataList: each item as PartialObjectMetadata, the list's paging metadata kept."""
    items = list_obj.get("items") or []
    return {"kind": "PartialObjectMetadataList", "apiVersion": f"{META_GROUP}/{version}",
            "metadata": _list_meta(list_obj), "items": [partial_object_metadata(i, version) for i in items]}


def _row_object(obj: Obj, include: str, version: str) -> Obj | None:
    """asTable's switch, in its order: Object, then Metadata (also for the watch-list end bookmark), then None."""
    if include == "Object":
        return obj
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    if include == "None" and annotations.get(INITIAL_EVENTS_END) != "true":
        return None
    return partial_object_metadata(obj, version)


def table(columns: Iterable[Column], objects: Iterable[Obj], *, include_object: str = "Metadata",
          list_meta: Obj | None = None, api_version: str = "meta.k8s.io/v1", headers: bool = True,
          now: datetime | None = None, conditions: RowConditions | None = None) -> Obj:
    """A `meta.k8s.io` Table: one row per object, every column (wide), the row's object per includeObject.

    `list_meta` is the ListMeta to carry (a list's resourceVersion/continue/remainingItemCount); pass None for
    a single object and the table takes that object's resourceVersion, as kube's generator does. `headers`
    False leaves `columnDefinitions` null: a watch sends the definitions with its first event only.
    `conditions` gives a row's `conditions` (pods: Completed).
    """
    columns, objects = list(columns), list(objects)
    now = now or datetime.now(UTC)
    version = api_version.rpartition("/")[2]
    if list_meta is None:
        rv = (objects[0].get("metadata") or {}).get("resourceVersion") if len(objects) == 1 else None
        meta: Obj = {"resourceVersion": rv} if rv else {}
    else:
        meta = {k: list_meta[k] for k in ("resourceVersion", "continue", "remainingItemCount")
                if list_meta.get(k) is not None}
    rows = []
    for obj in objects:
        row: Obj = {"cells": [c.value(obj, now) for c in columns]}
        if conditions and (conds := conditions(obj)):
            row["conditions"] = conds
        row["object"] = _row_object(obj, include_object, version)
        rows.append(row)
    return {"kind": "Table", "apiVersion": api_version, "metadata": meta,
            "columnDefinitions": [c.definition() for c in columns] if headers else None, "rows": rows}


def go_type(group: str, kind: str, *, custom: bool = False) -> str:
    """The Go type kube names in its 406 messages: `*core.Pod`, `*apps.DeploymentList`, unstructured for CRDs."""
    if custom:
        return "*unstructured.UnstructuredList" if kind.endswith("List") else "*unstructured.Unstructured"
    package = "core" if group in ("", "events.k8s.io") else group.split(".")[0]  # events.k8s.io stores core Events
    return f"*{package}.{kind}"


def _is_status(obj: Obj) -> bool:
    return obj.get("kind") == "Status" and obj.get("apiVersion") == "v1"


def render_object(obj: Obj, output: Output, columns: Iterable[Column], *, include: str = "Metadata",
                  headers: bool = True, now: datetime | None = None, conditions: RowConditions | None = None,
                  type_name: str = "") -> Obj:
    """One object (get, create/update/patch answers, each watch event) as the client asked for it.

    A Status (a watch ERROR) is never transformed. `as=PartialObjectMetadataList` on one object is 406
    (`type_name` is the Go type for the message, see `go_type`); in a watch, kube instead logs the failure
    and sends the object untouched, so catch NotAcceptable there.
    """
    if output.kind == "object" or _is_status(obj):
        return obj
    if output.kind == "partial":
        if output.as_list:
            raise NotAcceptable("you requested PartialObjectMetadataList, but the requested object is not a list "
                                f"({type_name})")
        return partial_object_metadata(obj, output.version)
    return table(columns, [obj], include_object=include, api_version=output.api_version, headers=headers,
                 now=now, conditions=conditions)


def render_list(list_obj: Obj, output: Output, columns: Iterable[Column], *, include: str = "Metadata",
                now: datetime | None = None, conditions: RowConditions | None = None, type_name: str = "") -> Obj:
    """A list answer as the client asked for it; `as=PartialObjectMetadata` on a list is 406 as in kube."""
    if output.kind == "object":
        return list_obj
    if output.kind == "partial":
        if not output.as_list:
            raise NotAcceptable("you requested PartialObjectMetadata, but the requested object is a list "
                                f"({type_name})")
        return partial_list(list_obj, output.version)
    return table(columns, list_obj.get("items") or [], include_object=include, list_meta=_list_meta(list_obj),
                 api_version=output.api_version, now=now, conditions=conditions)
