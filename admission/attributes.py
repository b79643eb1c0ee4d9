"""What admission knows about one request (kube's admission.Attributes), as the server hands it over."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CONFIGURATION_GROUP = "admissionregistration.k8s.io"
# rules.IsExemptAdmissionConfigurationResource: admission never intercepts its own configuration, so a
# broken webhook can always be removed.
EXEMPT_KINDS = frozenset({
    "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
    "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding",
})


@dataclass
class Attributes:
    """One write as admission sees it: the operation, the resource, the objects and who asked.

    `object` is None for DELETE, `old_object` None for CREATE. `namespace_object` is the object's
    Namespace (its labels feed namespaceSelector), the namespace itself for a Namespace, None for
    cluster-scoped kinds or when the namespace does not exist.
    """

    operation: str  # "CREATE" | "UPDATE" | "DELETE"
    group: str
    version: str
    kind: str
    resource: str  # "pods"
    subresource: str  # "" | "status" | "scale"...
    name: str
    namespace: str  # "" for cluster-scoped objects
    object: dict[str, Any] | None
    old_object: dict[str, Any] | None
    dry_run: bool
    options: dict[str, Any]  # CreateOptions / UpdateOptions / DeleteOptions, as kube sends them
    user_info: dict[str, Any]  # {"username": ..., "groups": [...]}
    namespace_object: dict[str, Any] | None
    namespaced: bool

    @property
    def exempt(self) -> bool:
        """A webhook configuration or admission policy: never sent to webhooks."""
        return self.group == CONFIGURATION_GROUP and self.kind in EXEMPT_KINDS

    @property
    def is_namespace(self) -> bool:
        """A request about a Namespace object itself (cluster-scoped, but matched as its own namespace)."""
        return self.group == "" and self.resource == "namespaces"
