"""CustomResourceDefinitions and their OpenAPI v3 schemas, as kube's apiextensions-apiserver handles them.

- The CRD object: `default_crd` (kube's defaults, in place), `validate_crd` / `validate_crd_update`
  (field errors with kube's paths and messages), `served_versions`, `storage_version`.
- Custom resources: `validate` (schema, embedded resources, list types, a CEL hook), `prune` and
  `default`, pure functions on plain dicts.
- CEL is plugged in from outside: a `RulesValidator` for objects, a `RulesChecker` for CRD schemas.
"""

from crd.conversion import (
    ClientConfig,
    ConversionError,
    check_versions,
    client_config,
    convert_none,
    http_error_message,
    parse_review_response,
    review_request,
    review_version,
    strategy,
    webhook_failed,
)
from crd.crdschema import RulesChecker
from crd.definition import default_crd, served_versions, storage_version, validate_crd, validate_crd_update
from crd.fieldpaths import valid_field_path
from crd.schema import RULES_NOT_CHECKED, RulesValidator, default, prune, validate

__all__ = [
    "RULES_NOT_CHECKED",
    "ClientConfig",
    "ConversionError",
    "RulesChecker",
    "RulesValidator",
    "check_versions",
    "client_config",
    "convert_none",
    "default",
    "default_crd",
    "http_error_message",
    "parse_review_response",
    "prune",
    "review_request",
    "review_version",
    "served_versions",
    "storage_version",
    "strategy",
    "valid_field_path",
    "validate",
    "validate_crd",
    "validate_crd_update",
    "webhook_failed",
]
