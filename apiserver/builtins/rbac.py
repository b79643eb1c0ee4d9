"""rbac.authorization.k8s.io/v1: roles, cluster roles and their bindings.

Defaults follow pkg/apis/rbac/v1/defaults.go and validation pkg/apis/rbac/validation. RBAC names
only need to be safe as a URL path segment (the registry's "path" rule), so `system:admin` is fine.
"""

from __future__ import annotations

from apiserver.builtins.core import child, get_dict, get_dicts, get_str, get_strs, peek
from apiserver.registry import Obj, ResourceType, Strategy
from machinery import (
    FieldError,
    invalid,
    is_dns1123_subdomain,
    is_path_segment_name,
    not_supported,
    required,
    validate_label_selector,
)

GROUP = "rbac.authorization.k8s.io"
SUBJECT_KINDS = ["ServiceAccount", "User", "Group"]  # in validateRoleBindingSubject's order
AGGREGATION_NEEDS_SELECTORS = "at least one clusterRoleSelector required if aggregationRule is non-nil"


def _rules_errors(obj: Obj, *, namespaced: bool, errs: list[FieldError]) -> list[FieldError]:
    """ValidatePolicyRule for each rule."""
    out: list[FieldError] = []
    for path, rule in get_dicts(obj, "rules", "rules", errs):
        verbs = get_strs(rule, "verbs", f"{path}.verbs", errs)
        groups = get_strs(rule, "apiGroups", f"{path}.apiGroups", errs)
        resources = get_strs(rule, "resources", f"{path}.resources", errs)
        names = get_strs(rule, "resourceNames", f"{path}.resourceNames", errs)
        urls = get_strs(rule, "nonResourceURLs", f"{path}.nonResourceURLs", errs)
        if not verbs:
            out.append(required(f"{path}.verbs", "verbs must contain at least one value"))
        if urls:
            if namespaced:
                out.append(invalid(f"{path}.nonResourceURLs", urls,
                                   "namespaced rules cannot apply to non-resource URLs"))
            if groups or resources or names:
                out.append(invalid(f"{path}.nonResourceURLs", urls,
                                   "rules cannot apply to both regular resources and non-resource URLs"))
            continue
        if not groups:
            out.append(required(f"{path}.apiGroups", "resource rules must supply at least one api group"))
        if not resources:
            out.append(required(f"{path}.resources", "resource rules must supply at least one resource"))
    return out


def _role_ref_errors(obj: Obj, kinds: list[str], errs: list[FieldError]) -> list[FieldError]:
    ref = get_dict(obj, "roleRef", "roleRef", errs)
    out: list[FieldError] = []
    group = get_str(ref, "apiGroup", "roleRef.apiGroup", errs)
    if group != GROUP:
        out.append(not_supported("roleRef.apiGroup", group, [GROUP]))
    kind = get_str(ref, "kind", "roleRef.kind", errs)
    if kind not in kinds:
        out.append(not_supported("roleRef.kind", kind, kinds))
    name = get_str(ref, "name", "roleRef.name", errs)
    if not name:
        out.append(required("roleRef.name"))
    out.extend(invalid("roleRef.name", name, msg) for msg in is_path_segment_name(name) if name)
    return out


def _subject_errors(obj: Obj, *, namespaced: bool, errs: list[FieldError]) -> list[FieldError]:
    """ValidateRoleBindingSubject for each subject."""
    out: list[FieldError] = []
    for path, subject in get_dicts(obj, "subjects", "subjects", errs):
        name = get_str(subject, "name", f"{path}.name", errs)
        group = get_str(subject, "apiGroup", f"{path}.apiGroup", errs)
        kind = get_str(subject, "kind", f"{path}.kind", errs)
        if not name:
            out.append(required(f"{path}.name"))
        if kind == "ServiceAccount":
            if name:
                out.extend(invalid(f"{path}.name", name, msg) for msg in is_dns1123_subdomain(name))
            if group:
                out.append(not_supported(f"{path}.apiGroup", group, [""]))
            if not namespaced and not get_str(subject, "namespace", f"{path}.namespace", errs):
                out.append(required(f"{path}.namespace"))
        elif kind in ("User", "Group"):
            if group != GROUP:
                out.append(not_supported(f"{path}.apiGroup", group, [GROUP]))
        else:
            out.append(not_supported(f"{path}.kind", kind, SUBJECT_KINDS))
    return out


class RoleStrategy(Strategy):
    name_rule = "path"
    namespaced = True

    def validate(self, obj: Obj) -> list[FieldError]:
        errs: list[FieldError] = []
        return _rules_errors(obj, namespaced=self.namespaced, errs=errs) + errs


class ClusterRoleStrategy(RoleStrategy):
    namespaced = False

    def validate(self, obj: Obj) -> list[FieldError]:
        errs = super().validate(obj)
        rule = obj.get("aggregationRule")
        if rule is None:
            return errs
        path = "aggregationRule.clusterRoleSelectors"
        aggregation = get_dict(obj, "aggregationRule", "aggregationRule", errs)
        selectors = get_dicts(aggregation, "clusterRoleSelectors", path, errs)
        if isinstance(rule, dict) and not selectors:
            errs.append(required(path, AGGREGATION_NEEDS_SELECTORS))
        for selector_path, selector in selectors:
            errs.extend(validate_label_selector(selector, selector_path))
        return errs


class RoleBindingStrategy(Strategy):
    name_rule = "path"
    namespaced = True
    role_kinds = ["Role", "ClusterRole"]

    def default(self, obj: Obj) -> None:
        ref = child(obj, "roleRef")  # a struct in Go, so defaulted even when absent
        if ref is not None and not ref.get("apiGroup"):
            ref["apiGroup"] = GROUP
        subjects = obj.get("subjects")
        for subject in subjects if isinstance(subjects, list) else []:
            # SetDefaults_Subject: users and groups live in the RBAC group, service accounts in core
            if not isinstance(subject, dict) or subject.get("apiGroup"):
                continue
            if subject.get("kind") in ("User", "Group"):
                subject["apiGroup"] = GROUP

    def validate(self, obj: Obj) -> list[FieldError]:
        errs: list[FieldError] = []
        out = _role_ref_errors(obj, self.role_kinds, errs)
        out.extend(_subject_errors(obj, namespaced=self.namespaced, errs=errs))
        return out + errs

    def validate_update(self, obj: Obj, old: Obj) -> list[FieldError]:
        ref = obj.get("roleRef")
        if ref != peek(old, "roleRef"):
            return [invalid("roleRef", ref, "cannot change roleRef")]
        return []


class ClusterRoleBindingStrategy(RoleBindingStrategy):
    namespaced = False
    role_kinds = ["ClusterRole"]


TYPES: list[ResourceType] = [
    ResourceType(GROUP, "v1", "Role", "roles", "role", True, strategy=RoleStrategy()),
    ResourceType(GROUP, "v1", "RoleBinding", "rolebindings", "rolebinding", True,
                 strategy=RoleBindingStrategy()),
    ResourceType(GROUP, "v1", "ClusterRole", "clusterroles", "clusterrole", False,
                 strategy=ClusterRoleStrategy()),
    ResourceType(GROUP, "v1", "ClusterRoleBinding", "clusterrolebindings", "clusterrolebinding", False,
                 strategy=ClusterRoleBindingStrategy()),
]
