"""What every Kubernetes-aware layer shares, as pure functions (kube's apimachinery)."""

from typing import TYPE_CHECKING, Any

from machinery.errors import (
    AlreadyExists,
    ApiError,
    BadRequest,
    Conflict,
    Expired,
    FieldError,
    Forbidden,
    Gone,
    InternalError,
    Invalid,
    MethodNotAllowed,
    NotAcceptable,
    NotFound,
    RequestEntityTooLarge,
    ServiceUnavailable,
    Timeout,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
    duplicate,
    forbidden,
    invalid,
    not_supported,
    required,
    status_success,
    too_long,
)
from machinery.patch import apply_json_patch, apply_merge_patch
from machinery.schemas import KUBERNETES_VERSION, SchemaNode, definition_for, definitions, node, node_for
from machinery.selectors import (
    EVERYTHING,
    NOTHING,
    FieldRequirement,
    FieldSelector,
    LabelSelector,
    Requirement,
    escape_field_value,
    label_selector_from_dict,
    label_selector_from_set,
    new_requirement,
    parse_field_selector,
    parse_label_selector,
    unescape_field_value,
    validate_label_selector,
)
from machinery.strategic import apply_strategic_merge_patch
from machinery.validation import (
    DNS1123_LABEL_MAX_LENGTH,
    DNS1123_SUBDOMAIN_MAX_LENGTH,
    FIELD_IMMUTABLE,
    LABEL_KEY_MAX_LENGTH,
    LABEL_VALUE_MAX_LENGTH,
    NAMESPACE_MISMATCH,
    TOTAL_ANNOTATION_SIZE_LIMIT,
    effective_namespace,
    is_c_identifier,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_path_segment_name,
    is_qualified_name,
    is_valid_label_value,
    type_invalid,
    validate_annotations,
    validate_finalizers,
    validate_label_key,
    validate_labels,
    validate_name,
    validate_object_meta,
    validate_object_meta_update,
    validate_owner_references,
)

__all__ = [
    "DNS1123_LABEL_MAX_LENGTH",
    "DNS1123_SUBDOMAIN_MAX_LENGTH",
    "EVERYTHING",
    "FIELD_IMMUTABLE",
    "KUBERNETES_VERSION",
    "LABEL_KEY_MAX_LENGTH",
    "LABEL_VALUE_MAX_LENGTH",
    "NAMESPACE_MISMATCH",
    "NOTHING",
    "TOTAL_ANNOTATION_SIZE_LIMIT",
    "AlreadyExists",
    "ApiError",
    "ApplyConflict",
    "BadRequest",
    "CELError",
    "CompileError",
    "Conflict",
    "CostLimitExceeded",
    "EvaluationError",
    "Expired",
    "FieldError",
    "FieldRequirement",
    "FieldSelector",
    "Forbidden",
    "Gone",
    "InternalError",
    "Invalid",
    "LabelSelector",
    "MethodNotAllowed",
    "NotAcceptable",
    "NotFound",
    "Program",
    "RequestEntityTooLarge",
    "Requirement",
    "SchemaNode",
    "ServiceUnavailable",
    "Timeout",
    "TooManyRequests",
    "Unauthorized",
    "UnsupportedMediaType",
    "apply_json_patch",
    "apply_merge_patch",
    "apply_strategic_merge_patch",
    "check_rules",
    "compile_rule",
    "default_manager",
    "definition_for",
    "definitions",
    "duplicate",
    "effective_namespace",
    "escape_field_value",
    "evaluate",
    "forbidden",
    "invalid",
    "is_c_identifier",
    "is_dns1123_label",
    "is_dns1123_subdomain",
    "is_path_segment_name",
    "is_qualified_name",
    "is_valid_label_value",
    "label_selector_from_dict",
    "label_selector_from_set",
    "managed_update",
    "new_requirement",
    "node",
    "node_for",
    "not_supported",
    "parse_field_selector",
    "parse_label_selector",
    "required",
    "server_side_apply",
    "status_success",
    "too_long",
    "type_invalid",
    "unescape_field_value",
    "validate_annotations",
    "validate_finalizers",
    "validate_label_key",
    "validate_label_selector",
    "validate_labels",
    "validate_name",
    "validate_object_meta",
    "validate_object_meta_update",
    "validate_owner_references",
    "validate_rules",
]

# CEL (cel-python and its parser) and server-side apply cost a tenth of a second to import: loaded
# on first use, so a server that never meets a CEL rule or an apply starts without them.
_LAZY = {
    "ApplyConflict": "machinery.apply",
    "default_manager": "machinery.apply",
    "managed_update": "machinery.apply:update",
    "server_side_apply": "machinery.apply:apply",
    "CELError": "machinery.cel",
    "CompileError": "machinery.cel",
    "CostLimitExceeded": "machinery.cel",
    "EvaluationError": "machinery.cel",
    "Program": "machinery.cel",
    "compile_rule": "machinery.cel",
    "evaluate": "machinery.cel",
    "check_rules": "machinery.celrules",
    "validate_rules": "machinery.celrules",
}

if TYPE_CHECKING:
    from machinery.apply import ApplyConflict, default_manager
    from machinery.apply import apply as server_side_apply
    from machinery.apply import update as managed_update
    from machinery.cel import (
        CELError,
        CompileError,
        CostLimitExceeded,
        EvaluationError,
        Program,
        compile_rule,
        evaluate,
    )
    from machinery.celrules import check_rules, validate_rules


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'machinery' has no attribute {name!r}")
    import importlib

    module, _, attribute = module.partition(":")
    value = getattr(importlib.import_module(module), attribute or name)
    globals()[name] = value  # found once: later lookups don't come back here
    return value
