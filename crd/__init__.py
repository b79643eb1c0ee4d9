"""CustomResourceDefinitions and their OpenAPI v3 schemas, as kube's apiextensions-apiserver handles them.

- The CRD object: `default_crd` (kube's defaults, in place), `validate_crd` / `validate_crd_update`
  (field errors with kube's paths and messages), `served_versions`, `storage_version`.
- Custom resources: `validate` (schema, embedded resources, list types, a CEL hook), `prune` and
  `default`, pure functions on plain dicts.
- CEL is plugged in from outside: a `RulesValidator` for objects, a `RulesChecker` for CRD schemas.
"""

from typing import TYPE_CHECKING

from machinery.lazy import lazy_attributes

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

# The schema machinery (OpenAPI formats, CRD validation, conversion reviews) costs tens of milliseconds
# to import: each name is loaded on first use, so a server that never meets a CRD starts without it.
_LAZY = {
    "ClientConfig": "crd.conversion",
    "ConversionError": "crd.conversion",
    "check_versions": "crd.conversion",
    "client_config": "crd.conversion",
    "convert_none": "crd.conversion",
    "parse_review_response": "crd.conversion",
    "review_request": "crd.conversion",
    "review_version": "crd.conversion",
    "strategy": "crd.conversion",
    "webhook_failed": "crd.conversion",
    "RulesChecker": "crd.crdschema",
    "default_crd": "crd.definition",
    "served_versions": "crd.definition",
    "storage_version": "crd.definition",
    "validate_crd": "crd.definition",
    "validate_crd_update": "crd.definition",
    "valid_field_path": "crd.fieldpaths",
    "RULES_NOT_CHECKED": "crd.schema",
    "RulesValidator": "crd.schema",
    "default": "crd.schema",
    "prune": "crd.schema",
    "validate": "crd.schema",
}

if TYPE_CHECKING:
    from crd.conversion import (
        ClientConfig,
        ConversionError,
        check_versions,
        client_config,
        convert_none,
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


__getattr__ = lazy_attributes("crd", _LAZY, globals())
