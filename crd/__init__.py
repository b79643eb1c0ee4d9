"""CustomResourceDefinitions and their OpenAPI v3 schemas, as kube's apiextensions-apiserver handles them.

- The CRD object: `default_crd` (kube's defaults, in place), `validate_crd` / `validate_crd_update`
  (field errors with kube's paths and messages), `served_versions`, `storage_version`.
- Custom resources: `validate` (schema, embedded resources, list types, a CEL hook), `prune` and
  `default`, pure functions on plain dicts.
- CEL is plugged in from outside: a `RulesValidator` for objects, a `RulesChecker` for CRD schemas.
"""

from crd.crdschema import RulesChecker
from crd.definition import default_crd, served_versions, storage_version, validate_crd, validate_crd_update
from crd.fieldpaths import valid_field_path
from crd.schema import RULES_NOT_CHECKED, RulesValidator, default, prune, validate

__all__ = [
    "RULES_NOT_CHECKED",
    "RulesChecker",
    "RulesValidator",
    "default",
    "default_crd",
    "prune",
    "served_versions",
    "storage_version",
    "valid_field_path",
    "validate",
    "validate_crd",
    "validate_crd_update",
]
