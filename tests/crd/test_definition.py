"""The CustomResourceDefinition object: kube's defaults, and its validation message for message."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from crd import default_crd, served_versions, storage_version, valid_field_path, validate_crd, validate_crd_update
from machinery import FieldError, invalid

Obj = dict[str, Any]

DNS1035 = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
           "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
           "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
SCHEMA = "spec.validation.openAPIV3Schema"  # where kube reports the schema all versions share


def widget_crd() -> Obj:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"], "categories": ["all"]},
            "versions": [{
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {
                        "replicas": {"type": "integer", "minimum": 0, "default": 1},
                        "selector": {"type": "string"},
                        "ports": {"type": "array", "x-kubernetes-list-type": "map",
                                  "x-kubernetes-list-map-keys": ["port"],
                                  "items": {"type": "object", "required": ["port"], "properties": {
                                      "port": {"type": "integer"}, "name": {"type": "string"}}}},
                    }},
                    "status": {"type": "object", "properties": {"replicas": {"type": "integer"}}},
                }}},
                "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                                                         "statusReplicasPath": ".status.replicas",
                                                         "labelSelectorPath": ".spec.selector"}},
                "additionalPrinterColumns": [{"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"}],
                "selectableFields": [{"jsonPath": ".spec.selector"}],
            }],
        },
    }


def prepared(crd: Obj) -> Obj:
    """As the API server hands a new CRD to validation: defaulted, status reset to its stored versions."""
    default_crd(crd)
    version = storage_version(crd)
    crd["status"] = {"storedVersions": [version] if version else []}
    return crd


def _mutated(mutate: Callable[[Obj], Any]) -> Obj:
    crd = widget_crd()
    mutate(crd)
    return crd


def errors_of(mutate: Callable[[Obj], Any]) -> list[str]:
    return [e.message() for e in validate_crd(prepared(_mutated(mutate)))]


def schema_of(crd: Obj, version: int = 0) -> Obj:
    schema: Obj = crd["spec"]["versions"][version]["schema"]["openAPIV3Schema"]
    return schema


def props(crd: Obj) -> Obj:
    spec_props: Obj = schema_of(crd)["properties"]["spec"]["properties"]
    return spec_props


# --- defaults and helpers ---

def test_defaults_fill_in_kubes_names_conversion_and_stored_versions() -> None:
    crd = default_crd(widget_crd())
    assert crd["spec"]["names"]["singular"] == "widget"
    assert crd["spec"]["names"]["listKind"] == "WidgetList"
    assert crd["spec"]["conversion"] == {"strategy": "None"}
    assert crd["status"] == {"storedVersions": ["v1"]}


def test_defaults_keep_what_is_set_and_are_idempotent() -> None:
    crd = widget_crd()
    crd["spec"]["names"].update(singular="wid", listKind="WidgetCollection")
    crd["spec"]["conversion"] = {"strategy": "Webhook", "webhook": {
        "clientConfig": {"service": {"name": "conv", "namespace": "ns"}}, "conversionReviewVersions": ["v1"]}}
    once = copy.deepcopy(default_crd(crd))
    assert default_crd(crd) == once
    assert once["spec"]["names"]["singular"] == "wid"
    assert once["spec"]["names"]["listKind"] == "WidgetCollection"
    assert once["spec"]["conversion"]["webhook"]["clientConfig"]["service"]["port"] == 443


def test_defaults_spell_out_served_and_storage() -> None:
    crd = widget_crd()
    crd["spec"]["versions"].append({"name": "v2"})
    assert default_crd(crd)["spec"]["versions"][1] == {"name": "v2", "served": False, "storage": False}


def test_served_and_storage_versions() -> None:
    crd = widget_crd()
    crd["spec"]["versions"] += [{"name": "v2", "served": True, "storage": False},
                                {"name": "v0", "served": False, "storage": False}]
    assert served_versions(crd) == ["v1", "v2"]
    assert storage_version(crd) == "v1"
    assert storage_version({"spec": {"versions": [{"name": "v1", "storage": False}]}}) is None


def test_a_well_formed_crd_is_valid() -> None:
    assert errors_of(lambda crd: None) == []


# --- metadata, group, scope, names ---

def _set(path: str, value: Any) -> Callable[[Obj], None]:
    def mutate(crd: Obj) -> None:
        *parents, last = path.split(".")
        target = crd
        for step in parents:
            target = target[int(step)] if step.isdigit() else target[step]
        target[last] = value
    return mutate


def _delete(path: str) -> Callable[[Obj], None]:
    def mutate(crd: Obj) -> None:
        *parents, last = path.split(".")
        target = crd
        for step in parents:
            target = target[int(step)] if step.isdigit() else target[step]
        del target[last]
    return mutate


OBJECT_CASES = [
    ("the name is plural.group", _set("metadata.name", "gadgets.example.com"),
     ['metadata.name: Invalid value: "gadgets.example.com": must be spec.names.plural+"."+spec.group']),
    ("the group is required", _set("spec.group", ""),
     ['metadata.name: Invalid value: "widgets.example.com": must be spec.names.plural+"."+spec.group',
      "spec.group: Required value"]),
    ("the group has a dot", _set("spec.group", "example"),
     ['metadata.name: Invalid value: "widgets.example.com": must be spec.names.plural+"."+spec.group',
      'spec.group: Invalid value: "example": should be a domain with at least one dot']),
    ("the group is a DNS subdomain", lambda crd: (_set("spec.group", "Example.com")(crd),
                                                  _set("metadata.name", "widgets.Example.com")(crd)),
     ["metadata.name: Invalid value: \"widgets.Example.com\": a lowercase RFC 1123 subdomain must consist of lower "
      "case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. "
      "'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      "spec.group: Invalid value: \"Example.com\": a lowercase RFC 1123 subdomain must consist of lower case "
      "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. "
      "'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"]),
    ("the scope is required", _delete("spec.scope"), ["spec.scope: Required value"]),
    ("the scope is Namespaced or Cluster", _set("spec.scope", "Global"),
     ['spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"']),
    ("the plural is required", lambda crd: (_delete("spec.names.plural")(crd), _set("metadata.name", ".example.com")(crd)),
     ["metadata.name: Invalid value: \".example.com\": a lowercase RFC 1123 subdomain must consist of lower case "
      "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. "
      "'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      "spec.names.plural: Required value"]),
    ("the kind is required", _delete("spec.names.kind"),
     ["spec.names.singular: Required value", "spec.names.kind: Required value", "spec.names.listKind: Required value"]),
    ("the kind may have mixed case", _set("spec.names.kind", "Wid.get"),
     [f'spec.names.singular: Invalid value: "wid.get": {DNS1035}',
      f'spec.names.kind: Invalid value: "Wid.get": may have mixed case, but should otherwise match: {DNS1035}',
      f'spec.names.listKind: Invalid value: "Wid.getList": may have mixed case, but should otherwise match: {DNS1035}']),
    ("kind and listKind differ", _set("spec.names.listKind", "Widget"),
     ['spec.names.listKind: Invalid value: "Widget": kind and listKind may not be the same']),
    ("the singular is a DNS-1035 label", _set("spec.names.singular", "Widget"),
     [f'spec.names.singular: Invalid value: "Widget": {DNS1035}']),
    ("short names are DNS-1035 labels", _set("spec.names.shortNames", ["wd", "1wd"]),
     [f'spec.names.shortNames[1]: Invalid value: "1wd": {DNS1035}']),
    ("categories are DNS-1035 labels", _set("spec.names.categories", ["all", "My_Cat"]),
     [f'spec.names.categories[1]: Invalid value: "My_Cat": {DNS1035}']),
    ("metadata has no namespace", _set("metadata.namespace", "default"),
     ["metadata.namespace: Forbidden: not allowed on this type"]),
    ("protected groups need API approval", lambda crd: (_set("spec.group", "widgets.k8s.io")(crd),
                                                        _set("metadata.name", "widgets.widgets.k8s.io")(crd)),
     ['metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval '
      'annotation "api-approved.kubernetes.io", see https://github.com/kubernetes/enhancements/pull/1111']),
    ("an approval URL or an unapproved reason passes", lambda crd: (
        _set("spec.group", "widgets.k8s.io")(crd), _set("metadata.name", "widgets.widgets.k8s.io")(crd),
        _set("metadata.annotations", {"api-approved.kubernetes.io": "unapproved, experimental"})(crd)), []),
    ("preserveUnknownFields may not be true", _set("spec.preserveUnknownFields", True),
     ["spec.preserveUnknownFields: Invalid value: true: must be false in order to use defaults in the schema",
      "spec.preserveUnknownFields: Invalid value: true: cannot set to true, set x-kubernetes-preserve-unknown-fields "
      "to true in spec.versions[*].schema instead"]),
]


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in OBJECT_CASES], ids=[c[0] for c in OBJECT_CASES])
def test_object_group_scope_and_names(mutate: Callable[[Obj], Any], expected: list[str]) -> None:
    assert errors_of(mutate) == expected


# --- versions ---

def _add_version(**fields: Any) -> Callable[[Obj], None]:
    def mutate(crd: Obj) -> None:
        second = copy.deepcopy(crd["spec"]["versions"][0])
        second.update(storage=False, **fields)
        crd["spec"]["versions"].append(second)
    return mutate


def _detail_of(errs: list[FieldError], path: str) -> list[str]:
    return [e.detail for e in errs if e.field == path]


def test_exactly_one_storage_version() -> None:
    crd = widget_crd()
    _add_version(name="v2")(crd)
    crd["spec"]["versions"][1]["storage"] = True
    errs = validate_crd(prepared(crd))
    assert _detail_of(errs, "spec.versions") == ["must have exactly one version marked as storage version"]
    crd["spec"]["versions"][0]["storage"] = crd["spec"]["versions"][1]["storage"] = False
    errs = validate_crd(prepared(crd))
    assert _detail_of(errs, "spec.versions") == ["must have exactly one version marked as storage version"]
    assert [e.message() for e in errs if e.field.startswith("status")] == [
        "status.storedVersions: Invalid value: []: must have at least one stored version"]


def test_version_names_are_unique_dns_labels() -> None:
    crd = widget_crd()
    _add_version(name="v1")(crd)
    assert _detail_of(validate_crd(prepared(crd)), "spec.versions") == ["must contain unique version names"]
    # kube's internal spec.version is the first version's name, so it is reported twice
    assert errors_of(_set("spec.versions.0.name", "V1")) == [
        f'spec.versions[0].name: Invalid value: "V1": {DNS1035}',
        f'spec.version: Invalid value: "V1": {DNS1035}']


def test_every_version_needs_a_schema() -> None:
    assert errors_of(_delete("spec.versions.0.schema")) == [
        "spec.versions[0].schema.openAPIV3Schema: Required value",
        'spec.selectableFields: Invalid value: "": may only be set when validations.schema is included']


def test_deprecation_warnings_need_deprecated_versions() -> None:
    assert errors_of(_set("spec.versions.0.deprecationWarning", "old")) == [
        'spec.versions[0].deprecationWarning: Invalid value: "old": can only be set for deprecated versions']
    assert errors_of(lambda crd: crd["spec"]["versions"][0].update(deprecated=True, deprecationWarning="a\tb")) == [
        'spec.versions[0].deprecationWarning: Invalid value: "a\\tb": must only contain printable UTF-8 characters; '
        "non-printable character found at index 1"]


def test_per_version_fields_that_differ_are_reported_per_version() -> None:
    def differ(crd: Obj) -> None:
        _add_version(name="v2")(crd)
        schema_of(crd, 1)["properties"]["spec"]["properties"]["replicas"] = {"minimum": 0}
        crd["spec"]["versions"][1]["additionalPrinterColumns"] = [{"name": "R", "type": "int", "jsonPath": ".spec"}]
    assert errors_of(differ) == [
        "spec.versions[1].schema.openAPIV3Schema.properties[spec].properties[replicas].type: Required value: must not "
        "be empty for specified object fields",
        'spec.versions[1].additionalPrinterColumns[0].type: Invalid value: "int": must be one of '
        "boolean,date,integer,number,string",
        # kube hoists the shared selectable fields but not the differing schemas, and then finds no schema for them
        'spec.selectableFields: Invalid value: "": may only be set when validations.schema is included']


def test_stored_versions_must_stay_in_the_spec() -> None:
    crd = prepared(widget_crd())
    crd["status"]["storedVersions"] = ["v1alpha1", "v1"]
    assert [e.message() for e in validate_crd(crd)] == [
        'status.storedVersions[0]: Invalid value: "v1alpha1": missing from spec.versions; v1alpha1 was previously a '
        "storage version, and must remain in spec.versions until a storage migration ensures no data remains "
        "persisted in v1alpha1 and removes v1alpha1 from status.storedVersions"]


# --- schemas ---

def _schema(mutate: Callable[[Obj], Any]) -> Callable[[Obj], None]:
    return lambda crd: mutate(schema_of(crd))


def _spec_prop(name: str, value: Any) -> Callable[[Obj], None]:
    return lambda crd: props(crd).__setitem__(name, value)


SCHEMA_CASES = [
    ("the root needs a type", _schema(lambda s: s.pop("type")),
     [f"{SCHEMA}.type: Required value: must not be empty at the root"]),
    ("the root is an object", _schema(lambda s: s.update(type="array", items={"type": "string"})),
     [f'{SCHEMA}.type: Invalid value: "array": only "object" is allowed as the type at the root of the schema if the '
      "status subresource is enabled",
      f'{SCHEMA}.type: Invalid value: "array": must be object at the root']),
    ("fields need a type", _spec_prop("extra", {"description": "x"}),
     [f"{SCHEMA}.properties[spec].properties[extra].type: Required value: must not be empty for specified object "
      "fields"]),
    ("arrays need items", _spec_prop("list", {"type": "array"}),
     [f"{SCHEMA}.properties[spec].properties[list].items: Required value: must be specified"]),
    ("array items need a type", _spec_prop("list", {"type": "array", "items": {}}),
     [f"{SCHEMA}.properties[spec].properties[list].items.type: Required value: must not be empty for specified "
      "array items"]),
    ("no additionalProperties at the root", _schema(lambda s: s.update(additionalProperties=False)),
     [f"{SCHEMA}.additionalProperties: Forbidden: must not be used at the root",
      f"{SCHEMA}.additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive"]),
    ("types only outside of junctors", _spec_prop("x", {"type": "string", "anyOf": [{"type": "string"},
                                                                                    {"maxLength": 2}]}),
     [f"{SCHEMA}.properties[spec].properties[x].anyOf[0].type: Forbidden: must be empty to be structural"]),
    ("junctors restrict only what is specified", _spec_prop("x", {"type": "object", "properties": {
        "a": {"type": "string"}}, "not": {"properties": {"b": {}}}}),
     []),  # kube checks completeness at the root only
    ("root junctors name specified fields", _schema(lambda s: s.update(anyOf=[{"properties": {"other": {}}}])),
     [f"{SCHEMA}.properties[other]: Required value: because it is defined in {SCHEMA}.anyOf[0].properties[other]"]),
    ("metadata may only restrict name and generateName", _schema(lambda s: s["properties"].update(metadata={
        "type": "object", "properties": {"labels": {"type": "object"}}})),
     [f"{SCHEMA}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but "
      "metadata is implicitly specified"]),
    ("metadata may restrict the name", _schema(lambda s: s["properties"].update(metadata={
        "type": "object", "properties": {"name": {"type": "string", "maxLength": 20}}})), []),
    ("embedded resources are objects", _spec_prop("e", {"x-kubernetes-embedded-resource": True,
                                                        "x-kubernetes-preserve-unknown-fields": True}),
     [f"{SCHEMA}.properties[spec].properties[e].type: Required value: must be object if "
      "x-kubernetes-embedded-resource is true"]),
    ("embedded resources without properties preserve unknown fields", _spec_prop("e", {
        "type": "object", "x-kubernetes-embedded-resource": True}),
     [f"{SCHEMA}.properties[spec].properties[e].properties: Required value: must not be empty if "
      "x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"]),
    ("int-or-string doesn't preserve unknown fields", _spec_prop("p", {"x-kubernetes-int-or-string": True,
                                                                       "x-kubernetes-preserve-unknown-fields": True}),
     [f"{SCHEMA}.properties[spec].properties[p].x-kubernetes-preserve-unknown-fields: Invalid value: true: must be "
      "false if x-kubernetes-int-or-string is true"]),
    ("preserve-unknown-fields is true or absent", _spec_prop("p", {"type": "object",
                                                                   "x-kubernetes-preserve-unknown-fields": False}),
     [f"{SCHEMA}.properties[spec].properties[p].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be "
      "true or undefined",
      # the selectable fields need the schema converted, which fails (kube's NewStructural error)
      "spec.schema.openAPIV3Schema: Invalid value: \"\": internal error: 'x-kubernetes-preserve-unknown-fields' must "
      "be true or undefined"]),
    ("unknown types", _spec_prop("t", {"type": "text"}),
     [f'{SCHEMA}.properties[spec].properties[t].type: Unsupported value: "text": supported values: "array", '
      '"boolean", "integer", "number", "object", "string"']),
    ("null is not a type", _spec_prop("t", {"type": "null"}),
     [f'{SCHEMA}.properties[spec].properties[t].type: Unsupported value: "null": supported values: "array", '
      '"boolean", "integer", "number", "object", "string"',
      f"{SCHEMA}.properties[spec].properties[t].type: Forbidden: type cannot be set to null, use nullable as an "
      "alternative"]),
    ("no $ref", _spec_prop("r", {"type": "object", "$ref": "#/definitions/x"}),
     [f"{SCHEMA}.properties[spec].properties[r].$ref: Forbidden: $ref is not supported",
      "spec.schema.openAPIV3Schema: Invalid value: \"\": OpenAPIV3Schema '$ref' is not supported"]),
    ("no uniqueItems", _spec_prop("u", {"type": "array", "items": {"type": "string"}, "uniqueItems": True}),
     [f"{SCHEMA}.properties[spec].properties[u].uniqueItems: Forbidden: uniqueItems cannot be set to true since the "
      "runtime complexity becomes quadratic"]),
    ("patterns must compile", _spec_prop("s", {"type": "string", "pattern": "(?=x)"}),
     [f'{SCHEMA}.properties[spec].properties[s].pattern: Invalid value: "(?=x)": must be a valid regular expression, '
      "but isn't: error parsing regexp: invalid or unsupported Perl syntax: `(?=`"]),
    ("no nullable root", _schema(lambda s: s.update(nullable=True)),
     [f"{SCHEMA}.nullable: Forbidden: nullable cannot be true at the root"]),
]


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in SCHEMA_CASES], ids=[c[0] for c in SCHEMA_CASES])
def test_schemas(mutate: Callable[[Obj], Any], expected: list[str]) -> None:
    errs = validate_crd(prepared(_mutated(mutate)))
    # the status subresource's root-field rule shows the whole schema as its value: see its own test
    assert [e.message() for e in errs if "fields are allowed at the root" not in e.detail] == expected


def test_status_subresource_limits_root_fields() -> None:
    crd = widget_crd()
    schema_of(crd)["minProperties"] = 1
    [err] = validate_crd(prepared(crd))
    assert err.field == SCHEMA
    assert err.detail == (
        "only [Description Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength MinLength "
        "Pattern MaxItems MinItems UniqueItems MultipleOf Required Items Properties ExternalDocs Example "
        "XPreserveUnknownFields XValidations] fields are allowed at the root of the schema if the status subresource "
        "is enabled")


LIST_CASES = [
    ("list types are atomic, set or map", {"type": "array", "items": {"type": "string"},
                                           "x-kubernetes-list-type": "bag"},
     ['.x-kubernetes-list-type: Unsupported value: "bag": supported values: "atomic", "set", "map"']),
    ("list types belong to arrays", {"type": "object", "x-kubernetes-list-type": "set"},
     ['.type: Invalid value: "object": must be array if x-kubernetes-list-type is specified']),
    ("map lists need keys", {"type": "array", "x-kubernetes-list-type": "map", "items": {"type": "object"}},
     [".x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map"]),
    ("keys need a map list", {"type": "array", "x-kubernetes-list-map-keys": ["a"], "items": {
        "type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}}},
     [".x-kubernetes-list-type: Required value: must be map if x-kubernetes-list-map-keys is non-empty"]),
    ("keys are item properties", {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["a"],
                                  "items": {"type": "object", "properties": {"b": {"type": "string"}}}},
     ['.x-kubernetes-list-map-keys: Invalid value: ["a"]: entries must all be names of item properties']),
    ("keys are required or defaulted", {"type": "array", "x-kubernetes-list-type": "map",
                                        "x-kubernetes-list-map-keys": ["a"],
                                        "items": {"type": "object", "properties": {"a": {"type": "string"}}}},
     [".items.properties[a].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have "
      "a default or be a required property"]),
    ("keys are scalars", {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["a"],
                          "items": {"type": "object", "required": ["a"], "properties": {"a": {"type": "object"}}}},
     ['.items.properties[a].type: Invalid value: "object": must be a scalar type if parent array\'s '
      "x-kubernetes-list-type is map"]),
    ("map list items are objects", {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["a"],
                                    "items": {"type": "string"}},
     ['.items.type: Invalid value: "string": must be object if parent array\'s x-kubernetes-list-type is map']),
    ("set items are atomic", {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "object"}},
     [".items.x-kubernetes-map-type: Invalid value: null: must be atomic as item of a list with "
      "x-kubernetes-list-type=set"]),
    ("set items aren't nullable", {"type": "array", "x-kubernetes-list-type": "set",
                                   "items": {"type": "string", "nullable": True}},
     [".items.nullable: Forbidden: cannot be nullable when x-kubernetes-list-type is set"]),
    ("map types are atomic or granular", {"type": "object", "x-kubernetes-map-type": "fine"},
     ['.x-kubernetes-map-type: Unsupported value: "fine": supported values: "atomic", "granular"']),
]


@pytest.mark.parametrize(("schema", "expected"), [c[1:] for c in LIST_CASES], ids=[c[0] for c in LIST_CASES])
def test_list_and_map_type_declarations(schema: Obj, expected: list[str]) -> None:
    base = f"{SCHEMA}.properties[spec].properties[l]"
    assert errors_of(_spec_prop("l", schema)) == [base + e for e in expected]


DEFAULT_CASES = [
    ("defaults must validate", {"type": "integer", "default": "one"},
     ['.default: Invalid value: "string":  in body must be of type integer: "string"']),
    ("defaults must be pruned", {"type": "object", "properties": {"a": {"type": "string"}},
                                 "default": {"a": "x", "b": "y"}},
     ['.default: Invalid value: {"a":"x","b":"y"}: must not have unknown fields']),
    ("defaults are checked against value validations", {"type": "integer", "minimum": 5, "default": 1},
     [".default: Invalid value: 1:  in body should be greater than or equal to 5"]),
    ("nested defaults are checked where they apply", {"type": "object", "properties": {
        "a": {"type": "string", "enum": ["x"], "default": "y"}}},
     ['.properties[a].default: Unsupported value: "y": supported values: "x"']),
]


@pytest.mark.parametrize(("schema", "expected"), [c[1:] for c in DEFAULT_CASES], ids=[c[0] for c in DEFAULT_CASES])
def test_defaults_in_schemas(schema: Obj, expected: list[str]) -> None:
    base = f"{SCHEMA}.properties[spec].properties[d]"
    assert errors_of(_spec_prop("d", schema)) == [base + e for e in expected]


def test_defaults_are_forbidden_in_top_level_metadata() -> None:
    def mutate(crd: Obj) -> None:
        schema_of(crd)["properties"]["metadata"] = {"type": "object", "properties": {
            "name": {"type": "string", "default": "x"}}}
    assert errors_of(mutate) == [
        f"{SCHEMA}.properties[metadata].properties[name].default: Forbidden: must not be set in top-level metadata"]


RULE_CASES = [
    ("a rule is required", {"rule": " "},
     [".x-kubernetes-validations[0].rule: Required value: rule is not specified"]),
    ("a message is one line", {"rule": "self > 0", "message": "a\nb"},
     ['.x-kubernetes-validations[0].message: Invalid value: "a\\nb": must not contain line breaks']),
    ("a multi-line rule needs a message", {"rule": "self >\n0"},
     [".x-kubernetes-validations[0].message: Required value: message must be specified if rule contains line breaks"]),
    ("reasons are field error types", {"rule": "self > 0", "reason": "Bad"},
     ['.x-kubernetes-validations[0].reason: Unsupported value: "Bad": supported values: "FieldValueDuplicate", '
      '"FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"']),
    ("field paths must resolve", {"rule": "self.a > 0", "fieldPath": ".missing"},
     ['.x-kubernetes-validations[0].fieldPath: Invalid value: ".missing": must be a valid path']),
    ("a resolving field path", {"rule": "self.a > 0", "fieldPath": ".a"}, []),
]


@pytest.mark.parametrize(("rule", "expected"), [c[1:] for c in RULE_CASES], ids=[c[0] for c in RULE_CASES])
def test_validation_rules_static_checks(rule: Obj, expected: list[str]) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "x-kubernetes-validations": [rule]}
    base = f"{SCHEMA}.properties[spec].properties[r]"
    assert errors_of(_spec_prop("r", schema)) == [base + e for e in expected]


def test_the_rules_checker_compiles_rules_of_a_sound_schema() -> None:
    calls: list[str] = []

    def checker(schema: Obj, path: str) -> list[FieldError]:
        calls.append(path)
        rule = schema["x-kubernetes-validations"][0]
        return [invalid(path + ".x-kubernetes-validations[0].rule", rule, "compilation failed")]

    crd = widget_crd()
    props(crd)["r"] = {"type": "integer", "x-kubernetes-validations": [{"rule": "self >"}]}
    errs = validate_crd(prepared(crd), rules_checker=checker)
    assert calls == [f"{SCHEMA}.properties[spec].properties[r]"]
    assert [e.detail for e in errs] == ["compilation failed"]
    props(crd)["broken"] = {"description": "no type"}
    calls.clear()
    validate_crd(prepared(crd), rules_checker=checker)
    assert calls == []  # not structural: kube compiles no rule


# --- subresources, printer columns, selectable fields ---

SUBRESOURCE_CASES = [
    ("scale needs specReplicasPath", _delete("spec.versions.0.subresources.scale.specReplicasPath"),
     ["spec.subresources.scale.specReplicasPath: Required value"]),
    ("under .spec", _set("spec.versions.0.subresources.scale.specReplicasPath", ".status.replicas"),
     ['spec.subresources.scale.specReplicasPath: Invalid value: ".status.replicas": should be a json path under '
      ".spec"]),
    ("a simple json path", _set("spec.versions.0.subresources.scale.statusReplicasPath", "status.replicas"),
     ['spec.subresources.scale.statusReplicasPath: Invalid value: "status.replicas": must be a simple json path '
      "starting with ."]),
    ("label selectors under .spec or .status", _set("spec.versions.0.subresources.scale.labelSelectorPath",
                                                    ".metadata.labels"),
     ['spec.subresources.scale.labelSelectorPath: Invalid value: ".metadata.labels": should be a json path under '
      "either .spec or .status"]),
    ("columns need a name, a type and a path", _set("spec.versions.0.additionalPrinterColumns", [{}]),
     ["spec.additionalPrinterColumns[0].name: Required value",
      "spec.additionalPrinterColumns[0].type: Required value: must be one of boolean,date,integer,number,string",
      "spec.additionalPrinterColumns[0].JSONPath: Required value"]),
    ("column formats", _set("spec.versions.0.additionalPrinterColumns.0.format", "percent"),
     ['spec.additionalPrinterColumns[0].format: Invalid value: "percent": must be one of '
      "byte,date,date-time,double,float,int32,int64,password"]),
    ("column paths are simple json paths", _set("spec.versions.0.additionalPrinterColumns.0.jsonPath",
                                                "spec.replicas"),
     ['spec.additionalPrinterColumns[0].JSONPath: Invalid value: "spec.replicas": must be a simple json path '
      "starting with ."]),
    ("selectable fields resolve", _set("spec.versions.0.selectableFields", [{"jsonPath": ".spec.nothing"}]),
     ['spec.selectableFields[0].jsonPath: Invalid value: ".spec.nothing": is an invalid path: does not refer to a '
      "valid field"]),
    ("selectable fields are scalars", _set("spec.versions.0.selectableFields", [{"jsonPath": ".spec.ports"}]),
     ['spec.selectableFields[0].jsonPath: Invalid value: ".spec.ports": must point to a field of type string, boolean '
      "or integer. Enum string fields and strings with formats are allowed."]),
    ("selectable fields use no array notation", _set("spec.versions.0.selectableFields",
                                                     [{"jsonPath": ".spec['selector']"}]),
     ["spec.selectableFields[0].jsonPath: Invalid value: \".spec['selector']\": is an invalid path: array notation is "
      "not allowed"]),
    ("selectable fields are unique", _set("spec.versions.0.selectableFields",
                                          [{"jsonPath": ".spec.selector"}, {"jsonPath": ".spec.selector"}]),
     ['spec.selectableFields[1].jsonPath: Duplicate value: ".spec.selector"']),
    ("selectable fields aren't metadata", lambda crd: (
        schema_of(crd)["properties"].update(metadata={"type": "object"}),
        _set("spec.versions.0.selectableFields", [{"jsonPath": ".metadata.name"}])(crd)),
     ['spec.selectableFields[0].jsonPath: Invalid value: ".metadata.name": is an invalid path: does not refer to a '
      "valid field"]),
]


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in SUBRESOURCE_CASES],
                         ids=[c[0] for c in SUBRESOURCE_CASES])
def test_subresources_columns_and_selectable_fields(mutate: Callable[[Obj], Any], expected: list[str]) -> None:
    assert errors_of(mutate) == expected


def test_at_most_eight_selectable_fields() -> None:
    def many(crd: Obj) -> None:
        for i in range(9):
            props(crd)[f"f{i}"] = {"type": "string"}
        crd["spec"]["versions"][0]["selectableFields"] = [{"jsonPath": f".spec.f{i}"} for i in range(9)]
    assert errors_of(many) == ["spec.selectableFields: Too many: 9: must have at most 8 items"]


def test_field_paths_resolve_against_the_schema() -> None:
    schema = {"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "a.b": {"type": "string"}, "m": {"type": "object", "additionalProperties": {"type": "integer"}}}}}}
    assert valid_field_path(".spec['a.b']", schema) == ("spec.a.b", {"type": "string"})
    assert valid_field_path(".spec.m.key", schema) == ("spec.m[key]", {"type": "integer"})
    with pytest.raises(ValueError, match="expected single quoted string but got a"):
        valid_field_path(".spec[a]", schema)


# --- conversion ---

CONVERSION_CASES = [
    ("strategies are None or Webhook", {"strategy": "Magic"},
     ['spec.conversion.strategy: Unsupported value: "Magic": supported values: "None", "Webhook"']),
    ("webhooks need a client config", {"strategy": "Webhook"},
     ["spec.conversion.webhookClientConfig: Required value: required when strategy is set to Webhook",
      "spec.conversion.conversionReviewVersions: Required value"]),
    ("a url or a service", {"strategy": "Webhook", "webhook": {"clientConfig": {}, "conversionReviewVersions": ["v1"]}},
     ["spec.conversion.webhookClientConfig: Required value: exactly one of url or service is required"]),
    ("urls are https", {"strategy": "Webhook", "webhook": {"clientConfig": {"url": "http://conv.example.com/c?x=1"},
                                                           "conversionReviewVersions": ["v1"]}},
     ['spec.conversion.webhookClientConfig.url: Invalid value: "http": \'https\' is the only allowed URL scheme; '
      "desired format: https://host[/path]",
      'spec.conversion.webhookClientConfig.url: Invalid value: "x=1": query parameters are not permitted in the URL']),
    ("services have a name and a namespace", {"strategy": "Webhook", "webhook": {
        "clientConfig": {"service": {"path": "/a//b"}}, "conversionReviewVersions": ["v1"]}},
     ["spec.conversion.webhookClientConfig.service.name: Required value",
      "spec.conversion.webhookClientConfig.service.namespace: Required value",
      'spec.conversion.webhookClientConfig.service.path: Invalid value: "/a//b": segment[1] may not be empty']),
    ("review versions include v1 or v1beta1", {"strategy": "Webhook", "webhook": {
        "clientConfig": {"url": "https://conv.example.com"}, "conversionReviewVersions": ["v2", "v2"]}},
     ['spec.conversion.conversionReviewVersions[1]: Invalid value: "v2": duplicate version',
      'spec.conversion.conversionReviewVersions: Invalid value: ["v2","v2"]: must include at least one of v1, '
      "v1beta1"]),
    ("None has no webhook", {"strategy": "None", "webhook": {"conversionReviewVersions": ["v1"]}},
     ["spec.conversion.conversionReviewVersions: Forbidden: should not be set when strategy is not set to Webhook"]),
    ("a valid webhook", {"strategy": "Webhook", "webhook": {
        "clientConfig": {"service": {"name": "conv", "namespace": "ns", "path": "/convert"}},
        "conversionReviewVersions": ["v1"]}}, []),
]


@pytest.mark.parametrize(("conversion", "expected"), [c[1:] for c in CONVERSION_CASES],
                         ids=[c[0] for c in CONVERSION_CASES])
def test_conversion(conversion: Obj, expected: list[str]) -> None:
    assert errors_of(_set("spec.conversion", conversion)) == expected


# --- junk ---

def test_mistyped_fields_are_type_errors_and_come_alone() -> None:
    crd = prepared(widget_crd())
    crd["spec"]["versions"][0]["served"] = "yes"
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"] = []
    crd["spec"]["names"]["shortNames"] = "wd"
    assert [e.message() for e in validate_crd(crd)] == [
        'spec.names.shortNames: Invalid value: "string": spec.names.shortNames in body must be of type array: "string"',
        'spec.versions[0].served: Invalid value: "string": spec.versions[0].served in body must be of type boolean: '
        '"string"',
        "spec.versions[0].schema.openAPIV3Schema.properties: Invalid value: \"array\": "
        'spec.versions[0].schema.openAPIV3Schema.properties in body must be of type object: "array"']


def test_nulls_read_as_zero_values() -> None:
    crd = prepared(widget_crd())
    crd["spec"]["names"]["categories"] = None
    crd["spec"]["versions"][0]["additionalPrinterColumns"] = None
    assert validate_crd(crd) == []


# --- updates ---

def established(crd: Obj) -> Obj:
    crd["status"]["conditions"] = [{"type": "Established", "status": "True"}]
    return crd


def test_group_and_plural_never_change() -> None:
    old = prepared(widget_crd())
    new = copy.deepcopy(old)
    new["spec"]["group"] = "example.org"
    new["spec"]["names"]["plural"] = "gadgets"
    assert [e.message() for e in validate_crd_update(new, old)] == [
        'spec.group: Invalid value: "example.org": field is immutable',
        'spec.names.plural: Invalid value: "gadgets": field is immutable']


def test_scope_and_kind_are_immutable_once_established() -> None:
    old = prepared(widget_crd())
    new = copy.deepcopy(old)
    new["spec"]["scope"] = "Cluster"
    new["spec"]["names"].update(kind="Gadget", listKind="GadgetList", singular="gadget")
    assert validate_crd_update(new, old) == []
    assert [e.message() for e in validate_crd_update(new, established(old))] == [
        'spec.scope: Invalid value: "Cluster": field is immutable',
        'spec.names.kind: Invalid value: "Gadget": field is immutable']


def test_stored_versions_cannot_drop_out_of_the_spec() -> None:
    old = prepared(widget_crd())
    old["spec"]["versions"][0]["storage"] = False
    _add_version(name="v2")(old)
    old["spec"]["versions"][1]["storage"] = True
    old["status"]["storedVersions"] = ["v1", "v2"]
    new = copy.deepcopy(old)
    del new["spec"]["versions"][0]
    assert [e.message() for e in validate_crd_update(new, old)] == [
        'status.storedVersions[0]: Invalid value: "v1": missing from spec.versions; v1 was previously a storage '
        "version, and must remain in spec.versions until a storage migration ensures no data remains persisted in v1 "
        "and removes v1 from status.storedVersions"]


def test_updates_keep_metadata_identity() -> None:
    old = prepared(widget_crd())
    old["metadata"]["uid"] = "1"
    new = copy.deepcopy(old)
    new["metadata"]["uid"] = "2"
    assert [e.message() for e in validate_crd_update(new, old)] == ['metadata.uid: Invalid value: "2": field is immutable']


def test_rules_broken_by_the_stored_crd_are_not_tightened() -> None:
    old = prepared(widget_crd())
    props(old)["ports"]["items"]["required"] = []  # the map key neither required nor defaulted
    new = copy.deepcopy(old)
    new["spec"]["versions"][0]["additionalPrinterColumns"][0]["priority"] = 1
    assert validate_crd_update(new, old) == []
    key_rule = [f"{SCHEMA}.properties[spec].properties[ports].items.properties[port].default: Required value: this "
                "property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"]
    assert [e.message() for e in validate_crd(new)] == key_rule


def test_absurdly_deep_schemas_are_refused_without_recursion_errors() -> None:
    crd = prepared(widget_crd())
    node = schema_of(crd)
    for _ in range(300):
        node["properties"]["spec"]["properties"]["deeper"] = {"type": "object", "properties": {"spec": {
            "type": "object", "properties": {}}}}
        node = node["properties"]["spec"]["properties"]["deeper"]
    [err] = validate_crd(crd)
    assert err.type == "FieldValueForbidden"
    assert err.detail == "must not nest deeper than 250 levels"
