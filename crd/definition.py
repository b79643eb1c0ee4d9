"""CustomResourceDefinition objects (apiextensions.k8s.io/v1): kube's defaults, validation and version helpers.

kube validates a v1 CRD after converting it to its internal form, which hoists what every version shares
(schema, subresources, printer columns, selectable fields) to the spec: that is why a single-version CRD's
schema errors read `spec.validation.openAPIV3Schema...` and its columns' `spec.additionalPrinterColumns[0]...`.
This module reproduces that view, so paths and messages are kube's (apiextensions validation.go).
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field, replace
from typing import Any

from crd import paths
from crd.crdschema import (
    OPENAPI_V3_TYPES,
    RulesChecker,
    SchemaOptions,
    map_list_keys_map_set_errors,
    validate_crd_schema,
    validate_defaults,
)
from crd.decoding import shape_errors
from crd.fieldpaths import valid_field_path
from crd.names import is_dns1035_label
from crd.openapi import deep_equal
from crd.structural import structural_error, validate_structural
from machinery import (
    FIELD_IMMUTABLE,
    FieldError,
    duplicate,
    forbidden,
    invalid,
    is_dns1123_subdomain,
    not_supported,
    required,
    validate_object_meta,
    validate_object_meta_update,
    validate_webhook_url,
)

Obj = dict[str, Any]

NAME_MISMATCH = 'must be spec.names.plural+"."+spec.group'
STORAGE_VERSION_COUNT = "must have exactly one version marked as storage version"
SCOPES = ("Cluster", "Namespaced")
CONVERSION_STRATEGIES = ("None", "Webhook")
CONVERSION_REVIEW_VERSIONS = ("v1", "v1beta1")  # acceptedConversionReviewVersions
PRINTER_COLUMN_TYPES = ("boolean", "date", "integer", "number", "string")
PRINTER_COLUMN_FORMATS = ("byte", "date", "date-time", "double", "float", "int32", "int64", "password")
MAX_SELECTABLE_FIELDS = 8  # validation.go MaxSelectableFields
MAX_DEPRECATION_WARNING = 256  # bytes, validateDeprecationWarning
DEFAULT_WEBHOOK_PORT = 443  # SetDefaults_ServiceReference
API_APPROVAL_ANNOTATION = "api-approved.kubernetes.io"


# --- small readers: shapes are checked first (crd.decoding), nulls read as Go's zero values ---

def _d(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _s(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _versions(crd: Obj) -> list[Obj]:
    return [_d(v) for v in _l(_d(crd.get("spec")).get("versions"))]


# --- helpers the API server uses ---

def storage_version(crd: Obj) -> str | None:
    """The name of the version marked `storage`, or None."""
    return next((_s(v.get("name")) for v in _versions(crd) if v.get("storage") is True), None)


def served_versions(crd: Obj) -> list[str]:
    """The names of the versions marked `served`, in spec order."""
    return [_s(v.get("name")) for v in _versions(crd) if v.get("served") is True]


def default_crd(crd: Obj) -> Obj:
    """kube's defaults for a v1 CRD (SetObjectDefaults_CustomResourceDefinition), filled in place; returns crd.

    names.singular is the lowercased kind, names.listKind is kind+"List", conversion is
    `{"strategy": "None"}`, a conversion webhook service's port is 443, status.storedVersions starts as the
    storage version; versions get the `served` and `storage` flags Go always serializes.
    """
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        return crd
    names = spec.get("names")
    if isinstance(names, dict):
        kind = _s(names.get("kind"))
        if not names.get("singular"):
            names["singular"] = kind.lower()
        if not names.get("listKind") and kind:
            names["listKind"] = kind + "List"
    if spec.get("conversion") is None:
        spec["conversion"] = {"strategy": "None"}
    service = _d(_d(_d(_d(spec.get("conversion")).get("webhook")).get("clientConfig")).get("service"))
    if service and service.get("port") is None:
        service["port"] = DEFAULT_WEBHOOK_PORT
    for version in _l(spec.get("versions")):
        if isinstance(version, dict):
            version.setdefault("served", False)
            version.setdefault("storage", False)
    status = crd.get("status")
    if status is None or (isinstance(status, dict) and not status.get("storedVersions")):
        version = storage_version(crd)
        if version is not None:
            crd["status"] = {**_d(status), "storedVersions": [version]}
    return crd


# --- the internal view: per-version fields every version shares move to the spec ---

_PER_VERSION = (("schema", "validation", False), ("subresources", "subresources", False),
                ("additionalPrinterColumns", "additionalPrinterColumns", True),
                ("selectableFields", "selectableFields", True))


def _same(a: Any, b: Any, is_list: bool) -> bool:
    """apiequality.Semantic.DeepEqual: a nil and an empty slice are equal."""
    if is_list:
        return deep_equal(_l(a), _l(b))
    return deep_equal(a, b)


@dataclass
class _Internal:
    """The parts of apiextensions' internal CRD spec that validation reads differently from v1."""

    top: dict[str, Any] = field(default_factory=dict)  # validation, subresources, columns, selectable fields
    versions: list[Obj] = field(default_factory=list)  # each with the hoisted fields removed

    @classmethod
    def of(cls, spec: Obj) -> _Internal:
        versions = [dict(_d(v)) for v in _l(spec.get("versions"))]
        top: dict[str, Any] = {}
        for per_version, top_level, is_list in _PER_VERSION:
            values = [v.get(per_version) for v in versions]
            if versions and all(_same(value, values[0], is_list) for value in values):
                top[top_level] = values[0]
                for v in versions:
                    v.pop(per_version, None)
        return cls(top, versions)

    def subresources_for(self, version: Obj) -> Obj | None:
        if "subresources" in self.top:
            return self.top["subresources"] if isinstance(self.top["subresources"], dict) else None
        sub = version.get("subresources")
        return sub if isinstance(sub, dict) else None

    def any_status(self) -> bool:
        subresources = [self.top.get("subresources"), *(v.get("subresources") for v in self.versions)]
        return any(_status_enabled(s) for s in subresources)


def _status_enabled(subresources: Any) -> bool:
    return _d(subresources).get("status") is not None


@dataclass(frozen=True)
class _Options:
    """validationOptions: strict on create, relaxed on update where the stored CRD already broke a rule."""

    schema: SchemaOptions = field(default_factory=SchemaOptions)
    require_openapi_schema: bool = True
    require_recognized_conversion_review_version: bool = True
    require_immutable_names: bool = False
    allow_too_many_selectable_fields: frozenset[str] = frozenset()


# --- names ---

def _names_errors(names: Obj, path: str) -> list[FieldError]:
    """ValidateCustomResourceDefinitionNames."""
    errs: list[FieldError] = []
    for key in ("plural", "singular"):
        value = _s(names.get(key))
        if value and (msgs := is_dns1035_label(value)):
            errs.append(invalid(paths.child(path, key), value, ",".join(msgs)))
    for key in ("kind", "listKind"):
        value = _s(names.get(key))
        if value and (msgs := is_dns1035_label(value.lower())):
            errs.append(invalid(paths.child(path, key), value,
                                "may have mixed case, but should otherwise match: " + ",".join(msgs)))
    for i, short in enumerate(_l(names.get("shortNames"))):
        if msgs := is_dns1035_label(_s(short)):
            errs.append(invalid(paths.index(paths.child(path, "shortNames"), i), short, ",".join(msgs)))
    kind = _s(names.get("kind"))
    if kind and kind == names.get("listKind"):
        errs.append(invalid(paths.child(path, "listKind"), kind, "kind and listKind may not be the same"))
    for i, category in enumerate(_l(names.get("categories"))):
        if msgs := is_dns1035_label(_s(category)):
            errs.append(invalid(paths.index(paths.child(path, "categories"), i), category, ",".join(msgs)))
    return errs


# --- printer columns, subresources, selectable fields ---

def _simple_json_path_errors(value: str, path: str) -> list[FieldError]:
    """validateSimpleJSONPath."""
    if not value:
        return [invalid(path, value, "must not be empty")]
    if value[0] != ".":
        return [invalid(path, value, "must be a simple json path starting with .")]
    return []


def _column_errors(column: Obj, path: str) -> list[FieldError]:
    """ValidateCustomResourceColumnDefinition (kube names the JSON path field `JSONPath`)."""
    errs: list[FieldError] = []
    if not column.get("name"):
        errs.append(required(paths.child(path, "name")))
    kind, types = _s(column.get("type")), f"must be one of {','.join(PRINTER_COLUMN_TYPES)}"
    if not kind:
        errs.append(required(paths.child(path, "type"), types))
    elif kind not in PRINTER_COLUMN_TYPES:
        errs.append(invalid(paths.child(path, "type"), kind, types))
    fmt = _s(column.get("format"))
    if fmt and fmt not in PRINTER_COLUMN_FORMATS:
        errs.append(invalid(paths.child(path, "format"), fmt, f"must be one of {','.join(PRINTER_COLUMN_FORMATS)}"))
    json_path = _s(column.get("jsonPath"))
    if not json_path:
        errs.append(required(paths.child(path, "JSONPath")))
    else:
        errs.extend(_simple_json_path_errors(json_path, paths.child(path, "JSONPath")))
    return errs


def _subresources_errors(subresources: Any, path: str) -> list[FieldError]:
    """ValidateCustomResourceDefinitionSubresources: scale paths under .spec and .status."""
    scale = _d(subresources).get("scale")
    if not isinstance(scale, dict):
        return []
    errs: list[FieldError] = []
    for key, where in (("specReplicasPath", ".spec"), ("statusReplicasPath", ".status")):
        at, value = paths.child(path, f"scale.{key}"), _s(scale.get(key))
        if not value:
            errs.append(required(at))
        elif simple := _simple_json_path_errors(value, at):
            errs.extend(simple)
        elif not value.startswith(where + "."):
            errs.append(invalid(at, value, f"should be a json path under {where}"))
    selector = _s(scale.get("labelSelectorPath"))
    if selector:
        at = paths.child(path, "scale.labelSelectorPath")
        if simple := _simple_json_path_errors(selector, at):
            errs.extend(simple)
        elif not selector.startswith((".spec.", ".status.")):
            errs.append(invalid(at, selector, "should be a json path under either .spec or .status"))
    return errs


def _field_path_root(rendered: str) -> str:
    if rendered.startswith("["):
        return rendered[: rendered.index("]") + 1]
    return rendered.split(".", 1)[0].split("[", 1)[0]


def _selectable_errors(selectable: list[Any], schema: Obj | None, path: str, allow_too_many: bool) -> list[FieldError]:
    """ValidateCustomResourceSelectableFields."""
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, entry in enumerate(selectable):
        at = paths.child(paths.index(path, i), "jsonPath")
        json_path = _s(_d(entry).get("jsonPath"))
        if not json_path:
            errs.append(required(at))
            continue
        try:
            rendered, found = valid_field_path(json_path, schema, allow_array_notation=False)
        except ValueError as err:
            errs.append(invalid(at, json_path, f"is an invalid path: {err}"))
            continue
        if _field_path_root(rendered) == "metadata":
            errs.append(invalid(at, json_path, "must not point to fields in metadata"))
        if found is None or found.get("type") not in ("string", "boolean", "integer"):
            errs.append(invalid(at, json_path, "must point to a field of type string, boolean or integer. Enum "
                                               "string fields and strings with formats are allowed."))
        if rendered in seen:
            errs.append(duplicate(at, json_path))
        seen.add(rendered)
    if len(seen) > MAX_SELECTABLE_FIELDS and not allow_too_many:
        errs.append(FieldError("FieldValueTooMany", path, f"must have at most {MAX_SELECTABLE_FIELDS} items",
                               len(seen), True))
    return errs


def _schema_of(validation: Any) -> Obj | None:
    schema = _d(validation).get("openAPIV3Schema")
    return schema if isinstance(schema, dict) else None


def _structural_selectable_errors(selectable: list[Any], validation: Any, spec_path: str, path: str,
                                  allow_too_many: bool, no_schema: str) -> list[FieldError]:
    schema = _schema_of(validation)
    if schema is None:
        return [invalid(path, "", no_schema)]
    errs: list[FieldError] = []
    if (err := structural_error(schema)) is not None:
        errs.append(invalid(paths.child(spec_path, "schema.openAPIV3Schema"), "", err))
    return errs + _selectable_errors(selectable, schema, path, allow_too_many)


# --- versions ---

def _deprecation_errors(version: Obj, path: str) -> list[FieldError]:
    """validateDeprecationWarning."""
    warning = version.get("deprecationWarning")
    at = paths.child(path, "deprecationWarning")
    if not version.get("deprecated") and warning is not None:
        return [invalid(at, warning, "can only be set for deprecated versions")]
    if warning is None:
        return []
    msgs = []
    if len(warning.encode()) > MAX_DEPRECATION_WARNING:
        msgs.append(f"must be <= {MAX_DEPRECATION_WARNING} characters long")
    if not warning:
        msgs.append("must not be an empty string")
    offset = 0
    for char in warning:
        if not char.isprintable():
            msgs.append("must only contain printable UTF-8 characters; non-printable character found at index "
                        f"{offset}")
            break
        offset += len(char.encode())
    return [invalid(at, warning, msg) for msg in msgs]


def _version_errors(version: Obj, path: str, internal: _Internal, opts: _Options) -> list[FieldError]:
    """validateCustomResourceDefinitionVersion for the fields left per version."""
    subresources = internal.subresources_for(version)
    errs = _deprecation_errors(version, path)
    errs += validate_crd_schema(_d(version.get("schema")) or None, paths.child(path, "schema"),
                                status_enabled=_status_enabled(subresources), opts=opts.schema)
    errs += _subresources_errors(version.get("subresources"), paths.child(path, "subresources"))
    for i, column in enumerate(_l(version.get("additionalPrinterColumns"))):
        errs += _column_errors(_d(column), paths.index(paths.child(path, "additionalPrinterColumns"), i))
    if selectable := _l(version.get("selectableFields")):
        allow = _s(version.get("name")) in opts.allow_too_many_selectable_fields
        errs += _structural_selectable_errors(
            selectable, version.get("schema"), path, paths.child(path, "selectableFields"), allow,
            "may only be set when `version.schema.openAPIV3Schema` is not included")
    return errs


def _schema_required_errors(spec: Obj, internal: _Internal, opts: _Options) -> list[FieldError]:
    if _schema_of(internal.top.get("validation")) is not None:
        return []
    errs: list[FieldError] = []
    for i, version in enumerate(internal.versions):
        at = paths.child(paths.index("spec.versions", i), "schema.openAPIV3Schema")
        if _schema_of(version.get("schema")) is not None:
            continue
        if opts.require_openapi_schema:
            errs.append(required(at))
        elif not spec.get("preserveUnknownFields") and version.get("served"):
            errs.append(required(at, "because otherwise all fields are pruned"))
    return errs


def _all_schemas(spec: Obj) -> list[Obj]:
    return [s for v in _versions({"spec": spec}) if (s := _schema_of(v.get("schema"))) is not None]


def _schema_has(schema: Obj, predicate: Any) -> bool:
    """SchemaHas: the predicate holds for some node, junctors, definitions and dependencies included."""
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        if predicate(node):
            return True
        for key in ("items", "allOf", "anyOf", "oneOf", "not", "additionalProperties", "additionalItems"):
            value = node.get(key)
            stack.extend(value if isinstance(value, list) else [value])
        for key in ("properties", "patternProperties", "definitions", "dependencies"):
            stack.extend(_d(node.get(key)).values())
    return False


def _has_extensions(node: Obj) -> bool:
    return bool(node.get("x-kubernetes-embedded-resource") or node.get("x-kubernetes-preserve-unknown-fields")
                is not None or node.get("x-kubernetes-int-or-string") or node.get("x-kubernetes-list-map-keys")
                or node.get("x-kubernetes-list-type") is not None or node.get("x-kubernetes-validations"))


def _conversion_review_versions_errors(versions: list[Any], path: str, require_recognized: bool) -> list[FieldError]:
    if not versions:
        return [required(path)]
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, version in enumerate(versions):
        at = paths.index(path, i)
        if version in seen:
            errs.append(invalid(at, version, "duplicate version"))
            continue
        seen.add(version)
        errs += [invalid(at, version, msg) for msg in is_dns1035_label(_s(version))]
    if require_recognized and not seen & set(CONVERSION_REVIEW_VERSIONS):
        errs.append(invalid(path, versions, f"must include at least one of {', '.join(CONVERSION_REVIEW_VERSIONS)}"))
    return errs


def _webhook_service_errors(service: Obj, path: str) -> list[FieldError]:
    """webhook.ValidateWebhookService."""
    errs = [required(paths.child(path, key)) for key in ("name", "namespace") if not service.get(key)]
    port = service.get("port")
    port = DEFAULT_WEBHOOK_PORT if port is None else port
    if not 1 <= port <= 65535:
        errs.append(invalid(paths.child(path, "port"), port,
                            "port is not valid: must be between 1 and 65535, inclusive"))
    url_path = service.get("path")
    if url_path is None or url_path in ("", "/"):
        return errs
    at = paths.child(path, "path")
    if url_path == "//":
        return [*errs, invalid(at, url_path, "segment[0] may not be empty")]
    if not url_path.startswith("/"):
        errs.append(invalid(at, url_path, "must start with a '/'"))
    steps = url_path[1:].removesuffix("/").split("/")
    for i, step in enumerate(steps):
        if not step:
            errs.append(invalid(at, url_path, f"segment[{i}] may not be empty"))
            continue
        errs += [invalid(at, url_path, f"segment[{i}]: {msg}") for msg in is_dns1123_subdomain(step)]
    return errs


def _conversion_errors(spec: Obj, opts: _Options) -> list[FieldError]:
    """validateCustomResourceConversion, on the internal fields kube reports (`webhookClientConfig`)."""
    conversion = spec.get("conversion")
    if not isinstance(conversion, dict):
        return []
    path = "spec.conversion"
    strategy = _s(conversion.get("strategy"))
    webhook = _d(conversion.get("webhook"))
    client_config, review_versions = webhook.get("clientConfig"), _l(webhook.get("conversionReviewVersions"))
    errs: list[FieldError] = []
    if strategy != "None" and spec.get("preserveUnknownFields"):
        errs.append(invalid(paths.child(path, "strategy"), strategy, "must be None if spec.preserveUnknownFields is "
                                                                     "true"))
    if not strategy:
        errs.append(required(paths.child(path, "strategy")))
    elif strategy not in CONVERSION_STRATEGIES:
        errs.append(not_supported(paths.child(path, "strategy"), strategy, list(CONVERSION_STRATEGIES)))
    config_path = paths.child(path, "webhookClientConfig")
    if strategy == "Webhook":
        if not isinstance(client_config, dict):
            errs.append(required(config_path, "required when strategy is set to Webhook"))
        elif (client_config.get("url") is not None) == (client_config.get("service") is not None):
            errs.append(required(config_path, "exactly one of url or service is required"))
        elif client_config.get("url") is not None:
            errs += validate_webhook_url(_s(client_config["url"]), paths.child(config_path, "url"))
        else:
            errs += _webhook_service_errors(_d(client_config["service"]), paths.child(config_path, "service"))
        errs += _conversion_review_versions_errors(review_versions, paths.child(path, "conversionReviewVersions"),
                                                   opts.require_recognized_conversion_review_version)
    else:
        if client_config is not None:
            errs.append(forbidden(config_path, "should not be set when strategy is not set to Webhook"))
        if review_versions:
            errs.append(forbidden(paths.child(path, "conversionReviewVersions"), "should not be set when strategy is "
                                                                                 "not set to Webhook"))
    return errs


# --- the spec ---

def _group_errors(group: str) -> list[FieldError]:
    if not group:
        return [required("spec.group")]
    if msgs := is_dns1123_subdomain(group):
        return [invalid("spec.group", group, ",".join(msgs))]
    if "." not in group:
        return [invalid("spec.group", group, "should be a domain with at least one dot")]
    return []


def _spec_errors(spec: Obj, opts: _Options) -> list[FieldError]:
    """validateCustomResourceDefinitionSpec."""
    internal = _Internal.of(spec)
    versions = internal.versions
    errs = _group_errors(_s(spec.get("group")))
    scope = _s(spec.get("scope"))
    if not scope:
        errs.append(required("spec.scope"))
    elif scope not in SCOPES:
        errs.append(not_supported("spec.scope", scope, list(SCOPES)))
    errs += _schema_required_errors(spec, internal, opts)
    preserve = bool(spec.get("preserveUnknownFields"))
    schemas = _all_schemas(spec)
    has_defaults = any(_schema_has(s, lambda n: n.get("default") is not None) for s in schemas)
    if has_defaults and preserve:
        errs.append(invalid("spec.preserveUnknownFields", True, "must be false in order to use defaults in the schema"))
    if not preserve or has_defaults or any(_schema_has(s, _has_extensions) for s in schemas):
        opts = replace(opts, schema=replace(opts.schema, require_structural=True))  # pruning needs structure
    names_seen: set[str] = set()
    unique = True
    for i, version in enumerate(versions):
        at = paths.index("spec.versions", i)
        name = _s(version.get("name"))
        unique &= name not in names_seen
        names_seen.add(name)
        if msgs := is_dns1035_label(name):
            errs.append(invalid(paths.child(at, "name"), name, ",".join(msgs)))
        errs += _version_errors(version, at, internal, opts)
    raw_versions = _l(spec.get("versions"))
    if not unique:
        errs.append(invalid("spec.versions", raw_versions, "must contain unique version names"))
    if sum(v.get("storage") is True for v in versions) != 1:
        errs.append(invalid("spec.versions", raw_versions, STORAGE_VERSION_COUNT))
    if versions and (first := _s(versions[0].get("name"))) and (msgs := is_dns1035_label(first)):
        errs.append(invalid("spec.version", first, ",".join(msgs)))  # internal spec.version is versions[0].name
    names = _d(spec.get("names"))
    errs += [required(f"spec.names.{key}") for key in ("plural", "singular", "kind", "listKind") if not names.get(key)]
    errs += _names_errors(names, "spec.names")
    errs += validate_crd_schema(_d(internal.top.get("validation")) or None, "spec.validation",
                                status_enabled=internal.any_status(), opts=opts.schema)
    errs += _subresources_errors(internal.top.get("subresources"), "spec.subresources")
    for i, column in enumerate(_l(internal.top.get("additionalPrinterColumns"))):
        errs += _column_errors(_d(column), paths.index("spec.additionalPrinterColumns", i))
    if selectable := _l(internal.top.get("selectableFields")):
        errs += _structural_selectable_errors(selectable, internal.top.get("validation"), "spec",
                                              "spec.selectableFields", "" in opts.allow_too_many_selectable_fields,
                                              "may only be set when validations.schema is included")
    errs += _conversion_errors(spec, opts)
    return errs


# --- status, approval, preserveUnknownFields ---

def _stored_versions_errors(crd: Obj) -> list[FieldError]:
    """ValidateCustomResourceDefinitionStoredVersions."""
    raw = _d(crd.get("status")).get("storedVersions")
    stored = _l(raw)
    path = "status.storedVersions"
    if not stored:
        return [invalid(path, raw, "must have at least one stored version")]
    errs: list[FieldError] = []
    remaining = {v: i for i, v in enumerate(stored)}
    for version in _versions(crd):
        name = _s(version.get("name"))
        if version.get("storage") is True and name not in remaining:
            errs.append(invalid(path, stored, "must have the storage version " + name))
        remaining.pop(name, None)
    for name, i in remaining.items():
        errs.append(invalid(paths.index(path, i), name,
                            f"missing from spec.versions; {name} was previously a storage version, and must remain in "
                            f"spec.versions until a storage migration ensures no data remains persisted in {name} and "
                            f"removes {name} from status.storedVersions"))
    return errs


def _protected_group(group: str) -> bool:
    return any(group == domain or group.endswith("." + domain) for domain in ("k8s.io", "kubernetes.io"))


def _approval(crd: Obj) -> tuple[str, str]:
    """GetAPIApprovalState: (state, reason)."""
    annotation = _s(_d(_d(crd.get("metadata")).get("annotations")).get(API_APPROVAL_ANNOTATION))
    if not annotation:
        return "missing", (f'protected groups must have approval annotation "{API_APPROVAL_ANNOTATION}", see '
                           "https://github.com/kubernetes/enhancements/pull/1111")
    if annotation.startswith("unapproved"):
        return "bypassed", f'not approved: "{annotation}"'
    parts = urllib.parse.urlsplit(annotation)
    if parts.scheme and parts.netloc:
        return "approved", f"approved in {annotation}"
    return "invalid", (f'protected groups must have approval annotation "{API_APPROVAL_ANNOTATION}" with either a '
                       'URL or a reason starting with "unapproved", see https://github.com/kubernetes/enhancements/pull/1111')


def _approval_errors(crd: Obj, old: Obj | None) -> list[FieldError]:
    """validateAPIApproval: CRDs in *.k8s.io and *.kubernetes.io need the api-approved annotation."""
    if not _protected_group(_s(_d(crd.get("spec")).get("group"))):
        return []
    state, reason = _approval(crd)
    if (old is not None and _approval(old)[0] == state) or state in ("approved", "bypassed"):
        return []
    path = paths.key("metadata.annotations", API_APPROVAL_ANNOTATION)
    if state == "missing":
        return [required(path, reason)]
    return [invalid(path, _d(_d(crd.get("metadata")).get("annotations")).get(API_APPROVAL_ANNOTATION), reason)]


def _preserve_unknown_fields_errors(crd: Obj, old: Obj | None) -> list[FieldError]:
    if old is not None and _d(old.get("spec")).get("preserveUnknownFields"):
        return []
    if _d(crd.get("spec")).get("preserveUnknownFields"):
        return [invalid("spec.preserveUnknownFields", True,
                        "cannot set to true, set x-kubernetes-preserve-unknown-fields to true in "
                        "spec.versions[*].schema instead")]
    return []


def _immutable(new: Any, old: Any, path: str) -> list[FieldError]:
    return [] if deep_equal(new, old) else [invalid(path, new, FIELD_IMMUTABLE)]


def _immutable_errors(new_spec: Obj, old_spec: Obj, opts: _Options) -> list[FieldError]:
    """validateCustomResourceDefinitionSpecUpdate's additions: what names storage can't change."""
    new_names, old_names = _d(new_spec.get("names")), _d(old_spec.get("names"))
    fields = [(new_spec, old_spec, "group", "spec.group"), (new_names, old_names, "plural", "spec.names.plural")]
    if opts.require_immutable_names:
        fields[:0] = [(new_spec, old_spec, "scope", "spec.scope"), (new_names, old_names, "kind", "spec.names.kind")]
    return [e for new, old, key, path in fields for e in _immutable(_s(new.get(key)), _s(old.get(key)), path)]


def _common_errors(crd: Obj, old: Obj | None, opts: _Options) -> list[FieldError]:
    spec = _d(crd.get("spec"))
    return [
        *_spec_errors(spec, opts),
        *(_immutable_errors(spec, _d(old.get("spec")), opts) if old is not None else []),
        *_names_errors(_d(_d(crd.get("status")).get("acceptedNames")), "status.acceptedNames"),
        *_stored_versions_errors(crd),
        *_approval_errors(crd, old),
        *_preserve_unknown_fields_errors(crd, old),
    ]


def validate_crd(crd: Obj, *, rules_checker: RulesChecker | None = None) -> list[FieldError]:
    """ValidateCustomResourceDefinition for a new v1 CRD, after default_crd and status preparation.

    `rules_checker` compiles x-kubernetes-validations rules (see crd.structural.RulesChecker); without it
    only their static shape is checked. Type errors in the body come alone: nothing else can be trusted then.
    """
    if errs := shape_errors(crd):
        return errs
    meta = crd.get("metadata")
    errs = validate_object_meta(meta, namespaced=False, name_rule="subdomain")
    spec = _d(crd.get("spec"))
    names = _d(spec.get("names"))
    wanted = f"{_s(names.get('plural'))}.{_s(spec.get('group'))}"
    for key in ("name", "generateName"):
        value = _d(meta).get(key)
        if value and value != wanted:
            at = paths.child("metadata", key)
            last = max((i for i, e in enumerate(errs) if e.field == at), default=-1)
            errs.insert(last + 1 if last >= 0 else len(errs), invalid(at, value, NAME_MISMATCH))
    return errs + _common_errors(crd, None, _Options(schema=SchemaOptions(rules_checker=rules_checker)))


# --- updates ---

def _established(crd: Obj) -> bool:
    return any(_d(c).get("type") == "Established" and _d(c).get("status") == "True"
               for c in _l(_d(crd.get("status")).get("conditions")))


def _update_options(new: Obj, old: Obj, rules_checker: RulesChecker | None) -> _Options:
    """The rules an update is held to: none the stored CRD already breaks gets tightened."""
    old_spec = _d(old.get("spec"))
    old_schemas = _all_schemas(old_spec)
    old_versions = _versions(old)
    conversion = _d(old_spec.get("conversion"))
    review = _l(_d(conversion.get("webhook")).get("conversionReviewVersions"))

    def non_structural(s: Obj) -> bool:
        return structural_error(s) is not None or bool(validate_structural(s, ""))

    def non_atomic_set(n: Obj) -> bool:
        item = n.get("items")
        if n.get("x-kubernetes-list-type") != "set" or not isinstance(item, dict):
            return False
        if item.get("type") == "array":
            return item.get("x-kubernetes-list-type") not in (None, "atomic")
        return item.get("type") == "object" and item.get("x-kubernetes-map-type") != "atomic"

    def unpruned_defaults(s: Obj) -> bool:
        return not non_structural(s) and any(e.detail == "must not have unknown fields"
                                             for e in validate_defaults(s, "", require_pruned=True))

    too_many = {_s(v.get("name")) for v in _versions(new)
                for ov in old_versions if _s(ov.get("name")) == _s(v.get("name"))
                and len(_l(ov.get("selectableFields"))) > MAX_SELECTABLE_FIELDS
                and deep_equal(_l(v.get("selectableFields")), _l(ov.get("selectableFields")))}
    return _Options(
        schema=SchemaOptions(
            require_structural=not any(non_structural(s) for s in old_schemas),
            require_valid_property_type=not any(
                _schema_has(s, lambda n: bool(n.get("type")) and n.get("type") not in OPENAPI_V3_TYPES)
                for s in old_schemas),
            require_pruned_defaults=not any(unpruned_defaults(s) for s in old_schemas),
            require_atomic_set_type=not any(_schema_has(s, non_atomic_set) for s in old_schemas),
            require_map_list_keys_map_set_validation=not any(
                _schema_has(s, lambda n: bool(map_list_keys_map_set_errors(n, ""))) for s in old_schemas),
            rules_checker=rules_checker,
        ),
        require_openapi_schema=all(_schema_of(v.get("schema")) for v in old_versions),
        require_recognized_conversion_review_version=not conversion or not review or bool(
            set(review) & set(CONVERSION_REVIEW_VERSIONS)),
        require_immutable_names=_established(old),
        allow_too_many_selectable_fields=frozenset(too_many),
    )


def validate_crd_update(new: Obj, old: Obj, *, rules_checker: RulesChecker | None = None) -> list[FieldError]:
    """ValidateCustomResourceDefinitionUpdate: the new CRD's rules, relaxed where the stored one already broke
    them, plus what may not change: group and plural always, scope and kind once the CRD is Established, and
    stored versions that must stay in spec.versions (status comes from the stored CRD)."""
    if errs := shape_errors(new):
        return errs
    errs = validate_object_meta_update(new.get("metadata"), _d(old.get("metadata")))
    return errs + _common_errors(new, old, _update_options(new, old, rules_checker))
