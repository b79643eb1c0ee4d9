"""Review kinds that are answered, not stored: what `kubectl auth can-i` and `auth whoami` ask.

No authentication or authorization is configured, so every request is allowed (kube's
AlwaysAllow authorizer) and every client is the same anonymous admin.
"""

from __future__ import annotations

from apiserver.registry import Obj, ResourceType, Strategy

# Who every client is while no authentication is configured.
USER = {"username": "system:admin", "groups": ["system:masters", "system:authenticated"]}


class ReviewStrategy(Strategy):
    ephemeral = True


class AccessReviewStrategy(ReviewStrategy):
    def prepare_for_create(self, obj: Obj) -> None:
        obj["status"] = {"allowed": True, "reason": "no authorization is configured: everything is allowed"}


class RulesReviewStrategy(ReviewStrategy):
    def prepare_for_create(self, obj: Obj) -> None:
        obj["status"] = {
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
            "incomplete": False,
        }


class SubjectReviewStrategy(ReviewStrategy):
    def prepare_for_create(self, obj: Obj) -> None:
        obj["status"] = {"userInfo": dict(USER)}


def _review(group: str, kind: str, plural: str, strategy: Strategy, *, namespaced: bool = False) -> ResourceType:
    return ResourceType(group=group, version="v1", kind=kind, plural=plural, singular=kind.lower(),
                        namespaced=namespaced, verbs=("create",), strategy=strategy)


TYPES: list[ResourceType] = [
    _review("authorization.k8s.io", "SelfSubjectAccessReview", "selfsubjectaccessreviews", AccessReviewStrategy()),
    _review("authorization.k8s.io", "SelfSubjectRulesReview", "selfsubjectrulesreviews", RulesReviewStrategy()),
    _review("authorization.k8s.io", "SubjectAccessReview", "subjectaccessreviews", AccessReviewStrategy()),
    _review("authorization.k8s.io", "LocalSubjectAccessReview", "localsubjectaccessreviews",
            AccessReviewStrategy(), namespaced=True),
    _review("authentication.k8s.io", "SelfSubjectReview", "selfsubjectreviews", SubjectReviewStrategy()),
]
