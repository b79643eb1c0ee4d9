"""Rules match requests as kube's predicates/rules matcher does."""

from __future__ import annotations

from typing import Any

import pytest

from admission import Attributes
from admission.hooks import rule_matches

POD = dict(group="", version="v1", kind="Pod", resource="pods", namespace="default")
NAMESPACE = dict(group="", version="v1", kind="Namespace", resource="namespaces", namespace="")
NODE = dict(group="", version="v1", kind="Node", resource="nodes", namespace="")
DEPLOYMENT = dict(group="apps", version="v1", kind="Deployment", resource="deployments", namespace="default")


def attrs(target: dict[str, str], operation: str = "CREATE", subresource: str = "") -> Attributes:
    return Attributes(operation=operation, subresource=subresource, name="x", object={}, old_object=None,
                      dry_run=False, options={}, user_info={}, namespace_object=None,
                      namespaced=bool(target["namespace"]), **target)


def rule(operations: Any = ("*",), groups: Any = ("*",), versions: Any = ("*",), resources: Any = ("*",),
         scope: str | None = None) -> dict[str, Any]:
    r: dict[str, Any] = {"operations": list(operations), "apiGroups": list(groups), "apiVersions": list(versions),
                         "resources": list(resources)}
    if scope is not None:
        r["scope"] = scope
    return r


CASES = [
    ("everything", rule(), attrs(POD), True),
    ("operation listed", rule(operations=["CREATE"]), attrs(POD), True),
    ("operation not listed", rule(operations=["UPDATE", "DELETE"]), attrs(POD), False),
    ("core group is the empty string", rule(groups=[""]), attrs(POD), True),
    ("other group", rule(groups=["apps"]), attrs(POD), False),
    ("group listed", rule(groups=["apps"]), attrs(DEPLOYMENT), True),
    ("version not listed", rule(versions=["v1beta1"]), attrs(DEPLOYMENT), False),
    ("resource listed", rule(resources=["pods"]), attrs(POD), True),
    ("* is every resource", rule(resources=["*"]), attrs(POD), True),
    ("* is no subresource", rule(resources=["*"]), attrs(POD, "UPDATE", "status"), False),
    ("*/* is every subresource", rule(resources=["*/*"]), attrs(POD, "UPDATE", "status"), True),
    ("*/* is every resource", rule(resources=["*/*"]), attrs(POD), True),
    ("pods/status", rule(resources=["pods/status"]), attrs(POD, "UPDATE", "status"), True),
    ("pods/status is not pods", rule(resources=["pods/status"]), attrs(POD), False),
    ("pods is not pods/status", rule(resources=["pods"]), attrs(POD, "UPDATE", "status"), False),
    ("pods/* is any pod subresource", rule(resources=["pods/*"]), attrs(POD, "UPDATE", "scale"), True),
    ("*/status", rule(resources=["*/status"]), attrs(DEPLOYMENT, "UPDATE", "status"), True),
    ("*/status is not scale", rule(resources=["*/status"]), attrs(DEPLOYMENT, "UPDATE", "scale"), False),
    ("namespaced scope: a pod", rule(scope="Namespaced"), attrs(POD), True),
    ("namespaced scope: a node", rule(scope="Namespaced"), attrs(NODE), False),
    ("namespaced scope: a namespace is cluster-scoped",
     rule(scope="Namespaced"), attrs({**NAMESPACE, "namespace": "web"}), False),
    ("cluster scope: a node", rule(scope="Cluster"), attrs(NODE), True),
    ("cluster scope: a namespace", rule(scope="Cluster"), attrs({**NAMESPACE, "namespace": "web"}), True),
    ("cluster scope: a pod", rule(scope="Cluster"), attrs(POD), False),
    ("* scope", rule(scope="*"), attrs(NODE), True),
]


@pytest.mark.parametrize(("r", "a", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rules_match_like_kube(r: dict[str, Any], a: Attributes, expected: bool) -> None:
    assert rule_matches(r, a, a.version) is expected
