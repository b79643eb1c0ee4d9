"""Name, label and object-meta validation with kube's exact messages.

Clients (kubectl, controllers, tests) match on these strings, so each message follows
k8s.io/apimachinery: pkg/util/validation/validation.go, pkg/api/validate/content/{dns,kube,path}.go,
pkg/api/validation/{objectmeta,generic}.go and pkg/apis/meta/v1/validation/validation.go.

The `is_*` checks return kube's list of messages (empty when valid). The `validate_*` functions take
the decoded JSON as clients sent it, which may be junk, and return `FieldError`s instead of raising.
"""

from __future__ import annotations

import functools
import re
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from machinery.errors import (
    BadRequest,
    FieldError,
    forbidden,
    invalid,
    required,
    too_long,
)

# --- message builders (util/validation/validation.go, validate/content/errors.go) ---


def _max_len_characters(length: int) -> str:
    """util/validation.MaxLenError, used by the DNS name checks."""
    return f"must be no more than {length} characters"


def _max_len_bytes(length: int) -> str:
    """validate/content.MaxLenError, used by the label key and value checks."""
    return f"must be no more than {length} bytes"


def _regex_error(msg: str, regex: str, *examples: str) -> str:
    """util/validation.RegexError, double space after each example's comma included."""
    if not examples:
        return f"{msg} (regex used for validation is '{regex}')"
    shown = " or ".join(f"'{example}', " for example in examples)
    return f"{msg} (e.g. {shown}regex used for validation is '{regex}')"


def _byte_len(value: str) -> int:
    """Go's len(string): kube measures lengths in UTF-8 bytes."""
    return len(value.encode())


# --- DNS names (util/validation/validation.go) ---

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
DNS1123_LABEL_MAX_LENGTH = 63  # validation.DNS1123LabelMaxLength (RFC 1123)

_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + r"(\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character"
)
DNS1123_SUBDOMAIN_MAX_LENGTH = 253  # validation.DNS1123SubdomainMaxLength (RFC 1123)

_DNS1123_LABEL_RE = re.compile(_DNS1123_LABEL_FMT)
_DNS1123_SUBDOMAIN_RE = re.compile(_DNS1123_SUBDOMAIN_FMT)


def is_dns1123_label(value: str) -> list[str]:
    """A DNS label (namespace names, most `name_rule="label"` kinds), as validation.IsDNS1123Label."""
    errs: list[str] = []
    if _byte_len(value) > DNS1123_LABEL_MAX_LENGTH:
        errs.append(_max_len_characters(DNS1123_LABEL_MAX_LENGTH))
    if not _DNS1123_LABEL_RE.fullmatch(value):
        if _DNS1123_SUBDOMAIN_RE.fullmatch(value):
            errs.append("must not contain dots")  # a valid subdomain, so only the dots are wrong
        else:
            errs.append(_regex_error(_DNS1123_LABEL_MSG, _DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def is_dns1123_subdomain(value: str) -> list[str]:
    """A DNS subdomain, the default rule for object names, as validation.IsDNS1123Subdomain."""
    if len(value) <= DNS1123_SUBDOMAIN_MAX_LENGTH and _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        return []  # the usual name; the pattern admits ASCII only, so its length is its byte length
    errs: list[str] = []
    if _byte_len(value) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errs.append(_max_len_characters(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        errs.append(_regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def _content_dns1123_subdomain(value: str) -> list[str]:
    """validate/content.IsDNS1123Subdomain: the same check, lengths reported in bytes."""
    errs: list[str] = []
    if _byte_len(value) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errs.append(_max_len_bytes(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        errs.append(_regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


# --- label keys and values (validate/content/kube.go) ---

_LABEL_KEY_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_KEY_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
LABEL_KEY_MAX_LENGTH = 63  # content.labelKeyMaxLength
_LABEL_KEY_RE = re.compile(_LABEL_KEY_FMT)
_LABEL_KEY_EXAMPLES = ("MyName", "my.name", "123-abc")

_LABEL_VALUE_FMT = f"({_LABEL_KEY_FMT})?"
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
LABEL_VALUE_MAX_LENGTH = 63  # content.LabelValueMaxLength
_LABEL_VALUE_RE = re.compile(_LABEL_VALUE_FMT)


def is_qualified_name(value: str) -> list[str]:
    """A label key, annotation key or finalizer: `[dns-subdomain/]name`, as content.IsLabelKey."""
    parts = value.split("/")
    if len(parts) > 2:
        return [
            "a valid label key "
            + _regex_error(_LABEL_KEY_MSG, _LABEL_KEY_FMT, *_LABEL_KEY_EXAMPLES)
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    errs: list[str] = []
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + msg for msg in _content_dns1123_subdomain(prefix))
    if not name:
        errs.append("name part must be non-empty")
    elif _byte_len(name) > LABEL_KEY_MAX_LENGTH:
        errs.append("name part " + _max_len_bytes(LABEL_KEY_MAX_LENGTH))
    if not _LABEL_KEY_RE.fullmatch(name):
        errs.append("name part " + _regex_error(_LABEL_KEY_MSG, _LABEL_KEY_FMT, *_LABEL_KEY_EXAMPLES))
    return errs


def is_valid_label_value(value: str) -> list[str]:
    """A label value (may be empty), as content.IsLabelValue."""
    errs: list[str] = []
    if _byte_len(value) > LABEL_VALUE_MAX_LENGTH:
        errs.append(_max_len_bytes(LABEL_VALUE_MAX_LENGTH))
    if not _LABEL_VALUE_RE.fullmatch(value):
        errs.append(_regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


# --- other name shapes (validate/content/{path,identifier}.go) ---


def is_path_segment_name(value: str) -> list[str]:
    """A name that is safe as one URL path segment (RBAC objects), as content.IsPathSegmentName.

    Like kube, this checks neither emptiness nor length.
    """
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{bad}'" for bad in ("/", "%") if bad in value]


_C_IDENTIFIER_FMT = "[A-Za-z_][A-Za-z0-9_]*"
_C_IDENTIFIER_RE = re.compile(_C_IDENTIFIER_FMT)
_C_IDENTIFIER_MSG = (
    "a valid C identifier must start with alphabetic character or '_', "
    "followed by a string of alphanumeric characters or '_'"
)


def is_c_identifier(value: str) -> list[str]:
    """A C identifier (format only, no length limit), as content.IsCIdentifier."""
    if _C_IDENTIFIER_RE.fullmatch(value):
        return []
    return [_regex_error(_C_IDENTIFIER_MSG, _C_IDENTIFIER_FMT, "my_name", "MY_NAME", "MyName")]


# --- name rules for metadata.name (api/validation/generic.go) ---


def _mask_trailing_dash(name: str) -> str:
    """generic.go's maskTrailingDash: a generateName prefix may end in '-'.

    kube drops the last two characters before appending 'a'; kept as is so the same prefixes pass.
    """
    if name.endswith("-"):
        return name[:-2] + "a"
    return name


NAME_RULES: dict[str, Callable[[str], list[str]]] = {
    "subdomain": is_dns1123_subdomain,  # NameIsDNSSubdomain, most kinds and all custom resources
    "label": is_dns1123_label,  # NameIsDNSLabel: namespaces, services
    "path": is_path_segment_name,  # path.ValidatePathSegmentName: RBAC kinds
}


def validate_name(name: str, *, rule: str = "subdomain", prefix: bool = False) -> list[str]:
    """kube's ValidateNameFunc: messages for `name` under a name rule; `prefix` for generateName."""
    check = NAME_RULES[rule]
    if prefix and rule != "path":
        name = _mask_trailing_dash(name)
    messages = check(name)
    if not messages and "\x00" in name:  # the path rule lets one through, as kube's does; no store key can hold it
        messages = [NUL_IN_NAME]
    return messages


NUL_IN_NAME = "may not contain a NUL character"


# --- JSON shape checks: clients send junk, kube answers with field errors ---

_JSON_TYPE_NAMES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),  # before int: bool is an int in Python
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    for py_type, name in _JSON_TYPE_NAMES:
        if isinstance(value, py_type):
            return name
    return type(value).__name__


def type_invalid(path: str, value: Any, expected: str) -> FieldError:
    """field.TypeInvalid as kube-openapi's schema validator words it."""
    actual = _json_type(value)
    return FieldError("FieldValueTypeInvalid", path, f'{path} in body must be of type {expected}: "{actual}"',
                      actual, True)


def _string_map_errors(value: Any, path: str) -> list[FieldError]:
    """Errors when `value` is not a JSON object of strings (null counts as absent)."""
    if value is None:
        return []
    if not isinstance(value, dict):
        return [type_invalid(path, value, "object")]
    return [
        type_invalid(f"{path}.{key}", item, "string")
        for key, item in value.items()
        if not isinstance(item, str)
    ]


def _optional_string_errors(meta: Mapping[str, Any], key: str, path: str) -> list[FieldError]:
    value = meta.get(key)
    if value is None or isinstance(value, str):
        return []
    return [type_invalid(f"{path}.{key}", value, "string")]


def _string(meta: Mapping[str, Any], key: str) -> str:
    """A string field as Go sees it after decoding: absent or mistyped reads as ""."""
    value = meta.get(key)
    return value if isinstance(value, str) else ""


# --- labels, annotations, finalizers, owner references ---

TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024  # objectmeta.go TotalAnnotationSizeLimitB (256 kB)


def validate_label_key(key: str, path: str) -> list[FieldError]:
    """v1validation.ValidateLabelName: one Invalid per message, reported on `path`."""
    return [invalid(path, key, msg) for msg in is_qualified_name(key)]


def validate_labels(labels: Any, path: str = "metadata.labels") -> list[FieldError]:
    """v1validation.ValidateLabels: keys are qualified names, values label values."""
    errs = _string_map_errors(labels, path)
    if errs or not labels:
        return errs
    for key, value in labels.items():
        errs.extend(validate_label_key(key, path))
        errs.extend(invalid(path, value, msg) for msg in is_valid_label_value(value))
    return errs


def validate_annotations(annotations: Any, path: str = "metadata.annotations") -> list[FieldError]:
    """ValidateAnnotations: keys are qualified names in any case, 256 KiB in total."""
    errs = _string_map_errors(annotations, path)
    if errs or not annotations:
        return errs
    for key in annotations:
        errs.extend(invalid(path, key, msg) for msg in is_qualified_name(key.lower()))
    total = sum(_byte_len(key) + _byte_len(value) for key, value in annotations.items())
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        errs.append(too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT))
    return errs


FINALIZER_ORPHAN = "orphan"  # metav1.FinalizerOrphanDependents
FINALIZER_FOREGROUND = "foregroundDeletion"  # metav1.FinalizerDeleteDependents


def validate_finalizers(finalizers: Any, path: str = "metadata.finalizers") -> list[FieldError]:
    """ValidateFinalizers: qualified names, and not both orphan and foregroundDeletion."""
    if finalizers is None:
        return []
    if not isinstance(finalizers, list):
        return [type_invalid(path, finalizers, "array")]
    errs = [
        type_invalid(f"{path}[{i}]", item, "string")
        for i, item in enumerate(finalizers)
        if not isinstance(item, str)
    ]
    if errs:
        return errs
    for finalizer in finalizers:
        errs.extend(invalid(path, finalizer, msg) for msg in is_qualified_name(finalizer))
    if FINALIZER_ORPHAN in finalizers and FINALIZER_FOREGROUND in finalizers:
        errs.append(invalid(path, finalizers,
                            f"finalizer {FINALIZER_ORPHAN} and {FINALIZER_FOREGROUND} cannot be both set"))
    return errs


_BANNED_OWNERS = {("", "v1", "Event")}  # objectmeta.go BannedOwners


def _split_api_version(api_version: str) -> tuple[str, str]:
    """(group, version) as schema.FromAPIVersionAndKind reads it; unparseable gives no version."""
    parts = api_version.split("/")
    if len(parts) == 1:
        return "", parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    return "", ""


def _validate_owner_reference(ref: dict[str, Any], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for key in ("apiVersion", "kind", "name", "uid"):
        errs.extend(_optional_string_errors(ref, key, path))
    if errs:
        return errs
    api_version, kind = _string(ref, "apiVersion"), _string(ref, "kind")
    group, version = _split_api_version(api_version)
    if not version:
        errs.append(invalid(f"{path}.apiVersion", api_version, "version must not be empty"))
    if not kind:
        errs.append(invalid(f"{path}.kind", kind, "must not be empty"))
    for key in ("name", "uid"):
        if not _string(ref, key):
            errs.append(invalid(f"{path}.{key}", "", "must not be empty"))
    if (group, version, kind) in _BANNED_OWNERS:
        errs.append(invalid(path, ref, f"{group}/{version}, Kind={kind} is disallowed from being an owner"))
    return errs


def validate_owner_references(refs: Any, path: str = "metadata.ownerReferences") -> list[FieldError]:
    """ValidateOwnerReferences: each names its owner fully; at most one is the controller."""
    if refs is None:
        return []
    if not isinstance(refs, list):
        return [type_invalid(path, refs, "array")]
    errs: list[FieldError] = []
    first_controller = ""
    for i, ref in enumerate(refs):
        if not isinstance(ref, dict):
            errs.append(type_invalid(f"{path}[{i}]", ref, "object"))
            continue
        errs.extend(_validate_owner_reference(ref, path))
        if ref.get("controller") is True:
            current = f"{_string(ref, 'kind')}/{_string(ref, 'name')}"
            if first_controller:
                detail = ("Only one reference can have Controller set to true. "
                          f'Found "true" in references for {first_controller} and {current}')
                errs.append(invalid(path, refs, detail))
            else:
                first_controller = current
    return errs


# --- metadata on create ---

NAMESPACE_MISMATCH = "the namespace of the provided object does not match the namespace sent on the request"


def effective_namespace(meta: Mapping[str, Any], request_namespace: str) -> str:
    """The namespace an object is stored under, as rest.EnsureObjectNamespaceMatchesRequestNamespace.

    An empty body namespace takes the request's; a cluster-scoped request ("") clears the body's;
    any other difference is a 400.
    """
    body_namespace = _string(meta, "namespace")
    if body_namespace in ("", request_namespace):
        return request_namespace
    if request_namespace == "":
        return ""
    raise BadRequest(NAMESPACE_MISMATCH)


def _validate_names(meta: Mapping[str, Any], name_rule: str, path: str) -> list[FieldError]:
    name = meta.get("name")
    if type(name) is str and name and "generateName" not in meta:  # the usual metadata: a name only
        return [invalid(f"{path}.name", name, msg) for msg in validate_name(name, rule=name_rule)]
    name, generate_name = _string(meta, "name"), _string(meta, "generateName")
    errs = [invalid(f"{path}.generateName", generate_name, msg)
            for msg in (validate_name(generate_name, rule=name_rule, prefix=True) if generate_name else [])]
    if name:
        errs.extend(invalid(f"{path}.name", name, msg) for msg in validate_name(name, rule=name_rule))
    elif not generate_name:
        errs.append(required(f"{path}.name", "name or generateName is required"))
    return errs


def _validate_namespace(namespace: str, namespaced: bool, path: str) -> list[FieldError]:
    if not namespaced:
        return [forbidden(f"{path}.namespace", "not allowed on this type")] if namespace else []
    if not namespace:
        return [required(f"{path}.namespace")]
    errors = _namespace_errors(namespace) if len(namespace) <= DNS1123_LABEL_MAX_LENGTH else is_dns1123_label(namespace)
    return [invalid(f"{path}.namespace", namespace, msg) for msg in errors]


@functools.lru_cache(maxsize=1024)  # a few namespaces take most writes (only short ones are kept)
def _namespace_errors(namespace: str) -> tuple[str, ...]:
    return tuple(is_dns1123_label(namespace))


def _validate_generation(meta: Mapping[str, Any], path: str) -> list[FieldError]:
    generation = meta.get("generation")
    if generation is None:
        return []
    if isinstance(generation, bool) or not isinstance(generation, int):
        return [type_invalid(f"{path}.generation", generation, "integer")]
    if generation < 0:
        return [invalid(f"{path}.generation", generation, "must be greater than or equal to 0")]
    return []


def _shape_errors(meta: Any, path: str) -> list[FieldError]:
    """Mistyped scalar fields; when metadata itself is not an object, that one error."""
    if not isinstance(meta, dict):
        return [type_invalid(path, meta, "object")]
    return [type_invalid(f"{path}.{key}", value, "string")
            for key in ("name", "generateName", "namespace", "uid", "resourceVersion")
            if (value := meta.get(key)) is not None and not isinstance(value, str)]


def _validate_common(meta: Mapping[str, Any], path: str) -> list[FieldError]:
    """Labels, annotations, owner references: checked on create and update alike."""
    if "labels" not in meta and "annotations" not in meta and "ownerReferences" not in meta:
        return []
    return [
        *validate_labels(meta.get("labels"), f"{path}.labels"),
        *validate_annotations(meta.get("annotations"), f"{path}.annotations"),
        *validate_owner_references(meta.get("ownerReferences"), f"{path}.ownerReferences"),
    ]


def validate_object_meta(
    meta: Any,
    *,
    namespaced: bool,
    name_rule: str = "subdomain",
    namespace_from_url: str | None = None,
    path: str = "metadata",
) -> list[FieldError]:
    """ValidateObjectMetaAccessor for a create.

    A name is required unless generateName is set (the server then generates one). With
    `namespace_from_url` (use "" for cluster-scoped requests) the body's namespace is reconciled
    with the request's first, raising BadRequest on a mismatch, as kube does before validating;
    without it, the body's namespace is checked as sent.
    """
    errs = _shape_errors(meta, path)
    if not isinstance(meta, dict):
        return errs
    namespace = _string(meta, "namespace")
    if namespace_from_url is not None:
        namespace = effective_namespace(meta, namespace_from_url)
    return [
        *errs,
        *_validate_names(meta, name_rule, path),
        *_validate_namespace(namespace, namespaced, path),
        *_validate_generation(meta, path),
        *_validate_common(meta, path),
        *(validate_finalizers(meta["finalizers"], f"{path}.finalizers") if "finalizers" in meta else ()),
    ]


# --- metadata on update ---

FIELD_IMMUTABLE = "field is immutable"  # objectmeta.go FieldImmutableErrorMsg

# Fields ValidateObjectMetaAccessorUpdate keeps as they were, with their zero value when absent.
_IMMUTABLE_FIELDS: tuple[tuple[str, Any], ...] = (
    ("name", ""),
    ("namespace", ""),
    ("uid", ""),
    ("creationTimestamp", None),
    ("deletionTimestamp", None),
    ("deletionGracePeriodSeconds", None),
)


def _immutable_errors(new: Mapping[str, Any], old: Mapping[str, Any], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for key, zero in _IMMUTABLE_FIELDS:
        new_value, old_value = new.get(key, zero), old.get(key, zero)
        if (new_value if new_value is not None else zero) != (old_value if old_value is not None else zero):
            errs.append(invalid(f"{path}.{key}", new_value, FIELD_IMMUTABLE))
    return errs


def _go_string_list(values: list[str]) -> str:
    """Go's %#v of a []string, which kube prints in the no-new-finalizers message."""
    quoted = ('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return "[]string{" + ", ".join(quoted) + "}"


def _no_new_finalizers(new: Mapping[str, Any], old: Mapping[str, Any], path: str) -> list[FieldError]:
    """ValidateNoNewFinalizers: an object being deleted may only lose finalizers."""
    if old.get("deletionTimestamp") is None:
        return []
    new_list, old_list = new.get("finalizers") or [], old.get("finalizers") or []
    if not isinstance(new_list, list) or not isinstance(old_list, list):
        return []
    extra = sorted({f for f in new_list if isinstance(f, str)} - set(old_list))
    if not extra:
        return []
    return [forbidden(f"{path}.finalizers", "no new finalizers can be added if the object is being deleted, "
                                            f"found new finalizers {_go_string_list(extra)}")]


def _generation_not_decremented(
    new: Mapping[str, Any], old: Mapping[str, Any], path: str
) -> list[FieldError]:
    new_gen, old_gen = new.get("generation") or 0, old.get("generation") or 0
    if isinstance(new_gen, int) and isinstance(old_gen, int) and new_gen < old_gen:
        return [invalid(f"{path}.generation", new_gen, "must not be decremented")]
    return []


def validate_object_meta_update(
    new: Any, old: Mapping[str, Any], *, path: str = "metadata"
) -> list[FieldError]:
    """ValidateObjectMetaAccessorUpdate: identity fields are immutable, the rest is re-validated.

    The resourceVersion precondition is left to the update handler (it decides between an
    unconditional update and a conflict before validation runs).
    """
    errs = _shape_errors(new, path)
    if not isinstance(new, dict):
        return errs
    return [
        *errs,
        *_no_new_finalizers(new, old, path),
        *_generation_not_decremented(new, old, path),
        *_immutable_errors(new, old, path),
        *_validate_common(new, path),
    ]


_URL_FORM = "; desired format: https://host[/path]"


def validate_webhook_url(url: Any, path: str, *, allow_http: bool = False) -> list[FieldError]:
    """util/webhook.ValidateWebhookURL (admission webhooks and CRD conversion webhooks share it).

    kube forces https; `allow_http` lets admission webhooks be plain http:// too, for test webhooks.
    """
    if not isinstance(url, str):
        return [type_invalid(path, url, "string")]
    try:
        parts = urllib.parse.urlsplit(url)
        _ = parts.port  # reading the port is what raises on a malformed one
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
            raise ValueError("net/url: invalid control character in URL")
    except ValueError as err:
        return [required(path, f"url must be a valid URL: parse {url!r}: {err}{_URL_FORM}")]
    errs: list[FieldError] = []
    if parts.scheme != "https" and not (allow_http and parts.scheme == "http"):
        errs.append(invalid(path, parts.scheme, "'https' is the only allowed URL scheme" + _URL_FORM))
    userinfo, _, host = parts.netloc.rpartition("@")
    if not host:
        errs.append(invalid(path, host, "host must be provided" + _URL_FORM))
    if "@" in parts.netloc:
        errs.append(invalid(path, userinfo, "user information is not permitted in the URL"))
    if parts.fragment:
        errs.append(invalid(path, parts.fragment, "fragments are not permitted in the URL"))
    if parts.query:
        errs.append(invalid(path, parts.query, "query parameters are not permitted in the URL"))
    return errs
