"""rbac.authorization.k8s.io/v1 strategies: defaults, kube's messages, and no exceptions on junk."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from apiserver.builtins import rbac
from apiserver.registry import Obj

TYPES = {t.plural: t for t in rbac.TYPES}
GROUP = "rbac.authorization.k8s.io"


def messages(errors: list[Any]) -> list[str]:
    return [e.message() for e in errors]


def validated(plural: str, obj: Obj) -> list[str]:
    obj = copy.deepcopy(obj)
    strategy = TYPES[plural].strategy
    strategy.default(obj)
    return messages(strategy.validate(obj))


@pytest.mark.parametrize(
    ("plural", "kind", "namespaced"),
    [
        ("roles", "Role", True),
        ("rolebindings", "RoleBinding", True),
        ("clusterroles", "ClusterRole", False),
        ("clusterrolebindings", "ClusterRoleBinding", False),
    ],
)
def test_rbac_types_are_registered_with_path_segment_names(plural: str, kind: str, namespaced: bool) -> None:
    t = TYPES[plural]
    assert (t.group, t.version, t.kind, t.singular, t.namespaced) == (
        GROUP,
        "v1",
        kind,
        kind.lower(),
        namespaced,
    )
    assert (t.short_names, t.categories, t.subresources) == ((), (), ())
    assert t.strategy.name_rule == "path"


def test_bindings_default_the_role_ref_group_and_user_and_group_subject_groups() -> None:
    binding = {
        "roleRef": {"kind": "ClusterRole", "name": "view"},
        "subjects": [
            {"kind": "User", "name": "alice"},
            {"kind": "Group", "name": "devs"},
            {"kind": "ServiceAccount", "name": "bot", "namespace": "ci"},
        ],
    }
    TYPES["clusterrolebindings"].strategy.default(binding)
    assert binding == {
        "roleRef": {"kind": "ClusterRole", "name": "view", "apiGroup": GROUP},
        "subjects": [
            {"kind": "User", "name": "alice", "apiGroup": GROUP},
            {"kind": "Group", "name": "devs", "apiGroup": GROUP},
            {"kind": "ServiceAccount", "name": "bot", "namespace": "ci"},
        ],
    }
    assert validated("clusterrolebindings", binding) == []


@pytest.mark.parametrize(
    ("plural", "rules", "expected"),
    [
        (
            "roles",
            [{"apiGroups": [""], "resources": ["pods"]}],
            ["rules[0].verbs: Required value: verbs must contain at least one value"],
        ),
        (
            "roles",
            [{"verbs": ["get"]}],
            [
                "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
                "rules[0].resources: Required value: resource rules must supply at least one resource",
            ],
        ),
        (
            "roles",
            [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}],
            [
                'rules[0].nonResourceURLs: Invalid value: ["/healthz"]: namespaced rules cannot apply to '
                'non-resource '
                "URLs"
            ],
        ),
        ("clusterroles", [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}], []),
        (
            "clusterroles",
            [{"verbs": ["get"], "nonResourceURLs": ["/healthz"], "resources": ["pods"]}],
            [
                'rules[0].nonResourceURLs: Invalid value: ["/healthz"]: rules cannot apply to both regular '
                'resources and '
                "non-resource URLs"
            ],
        ),
        ("roles", [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}], []),
    ],
)
def test_policy_rules_need_verbs_and_either_resources_or_urls(
    plural: str, rules: list[Obj], expected: list[str]
) -> None:
    assert validated(plural, {"rules": rules}) == expected


def test_an_aggregating_cluster_role_needs_selectors() -> None:
    assert validated("clusterroles", {"aggregationRule": {}}) == [
        "aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if "
        "aggregationRule is non-nil"
    ]
    assert (
        validated(
            "clusterroles",
            {
                "aggregationRule": {
                    "clusterRoleSelectors": [{"matchLabels": {"rbac.example.com/aggregate-to-view": "true"}}]
                }
            },
        )
        == []
    )


@pytest.mark.parametrize(
    ("plural", "binding", "expected"),
    [
        (
            "rolebindings",
            {},
            [
                'roleRef.kind: Unsupported value: "": supported values: "Role", "ClusterRole"',
                "roleRef.name: Required value",
            ],
        ),
        (
            "clusterrolebindings",
            {"roleRef": {"kind": "Role", "name": "r"}},
            ['roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"'],
        ),
        (
            "rolebindings",
            {"roleRef": {"apiGroup": "example.com", "kind": "Role", "name": "a/b"}},
            [
                'roleRef.apiGroup: Unsupported value: "example.com": supported values: '
                '"rbac.authorization.k8s.io"',
                "roleRef.name: Invalid value: \"a/b\": may not contain '/'",
            ],
        ),
        (
            "rolebindings",
            {"roleRef": {"kind": "Role", "name": "r"}, "subjects": [{"kind": "Robot", "name": "x"}]},
            [
                'subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", '
                '"Group"'
            ],
        ),
        (
            "rolebindings",
            {"roleRef": {"kind": "Role", "name": "r"}, "subjects": [{"kind": "User"}]},
            ["subjects[0].name: Required value"],
        ),
        (
            "rolebindings",
            {
                "roleRef": {"kind": "Role", "name": "r"},
                "subjects": [{"kind": "ServiceAccount", "name": "sa", "apiGroup": GROUP}],
            },
            ['subjects[0].apiGroup: Unsupported value: "rbac.authorization.k8s.io": supported values: ""'],
        ),
        (
            "rolebindings",
            {
                "roleRef": {"kind": "Role", "name": "r"},
                "subjects": [{"kind": "ServiceAccount", "name": "sa"}],
            },
            [],
        ),
        (
            "clusterrolebindings",
            {
                "roleRef": {"kind": "ClusterRole", "name": "r"},
                "subjects": [{"kind": "ServiceAccount", "name": "sa"}],
            },
            ["subjects[0].namespace: Required value"],
        ),
        (
            "rolebindings",
            {
                "roleRef": {"kind": "Role", "name": "r"},
                "subjects": [{"kind": "User", "name": "u", "apiGroup": "example.com"}],
            },
            [
                'subjects[0].apiGroup: Unsupported value: "example.com": supported values: '
                '"rbac.authorization.k8s.io"'
            ],
        ),
    ],
)
def test_bindings_need_a_role_ref_and_supported_subjects(
    plural: str, binding: Obj, expected: list[str]
) -> None:
    assert validated(plural, binding) == expected


@pytest.mark.parametrize("plural", ["rolebindings", "clusterrolebindings"])
def test_a_binding_cannot_change_its_role_ref(plural: str) -> None:
    strategy = TYPES[plural].strategy
    old = {"roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": "view"}}
    new = {"roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": "edit"}}
    assert messages(strategy.validate_update(new, old)) == [
        'roleRef: Invalid value: '
        '{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"edit"}: '
        "cannot change roleRef"
    ]
    assert strategy.validate_update(copy.deepcopy(old), old) == []


JUNK: list[Any] = [None, 5, "x", [], [1], {"a": 1}, True]


@pytest.mark.parametrize("plural", sorted(TYPES))
@pytest.mark.parametrize("junk", JUNK, ids=repr)
def test_junk_in_any_field_gives_errors_never_exceptions(plural: str, junk: Any) -> None:
    strategy = TYPES[plural].strategy
    keys = ("rules", "roleRef", "subjects", "aggregationRule")
    obj = {key: copy.deepcopy(junk) for key in keys}
    strategy.default(obj)
    strategy.validate(obj)
    strategy.validate_update(obj, {key: copy.deepcopy(junk) for key in keys})


def test_mistyped_rule_fields_are_type_errors() -> None:
    assert validated("roles", {"rules": [{"verbs": "get", "apiGroups": [""], "resources": ["pods"]}]}) == [
        "rules[0].verbs: Required value: verbs must contain at least one value",
        'rules[0].verbs: Invalid value: "string": rules[0].verbs in body must be of type array: "string"',
    ]
