"""Admission: webhook configurations, matching, and calling webhooks out over HTTP(S).

    dispatcher = Dispatcher(resolve_service=..., served_versions=...)
    dispatcher.configure(mutating_configurations, validating_configurations)   # whenever they change
    obj, warnings = await dispatcher.mutate(attrs)     # after defaulting, before validation
    warnings += await dispatcher.validate(attrs)       # after validation, before the write

Both raise machinery ApiErrors with kube's Status: a webhook's denial (its code, 400 by default), 500 for a
failed call under failurePolicy Fail, 403 for a failing matchCondition, 400 for a dry run a webhook cannot
honour.
"""

from typing import TYPE_CHECKING

from admission.attributes import Attributes
from admission.kinds import BINDING_KIND, MUTATING_KIND, POLICY_KIND, VALIDATING_KIND
from machinery.lazy import lazy_attributes

__all__ = [
    "BINDING_KIND",
    "MUTATING_KIND",
    "POLICY_KIND",
    "VALIDATING_KIND",
    "Attributes",
    "Dispatcher",
    "Policies",
    "PolicyRejection",
    "WebhookRejection",
    "configuration_warnings",
    "default_binding",
    "default_policy",
    "default_webhook_configuration",
    "validate_binding",
    "validate_mutating_configuration",
    "validate_policy",
    "validate_validating_configuration",
]

# Webhooks and policies are loaded on first use (the first stored configuration, policy or binding),
# so a server without any starts without their validation, matching and calling code (httpx included).
_LAZY = {
    "configuration_warnings": "admission.configuration",
    "default_webhook_configuration": "admission.configuration",
    "validate_mutating_configuration": "admission.configuration",
    "validate_validating_configuration": "admission.configuration",
    "Dispatcher": "admission.dispatcher",
    "WebhookRejection": "admission.errors",
    "Policies": "admission.policy",
    "PolicyRejection": "admission.policy",
    "default_binding": "admission.policy",
    "default_policy": "admission.policy",
    "validate_binding": "admission.policy",
    "validate_policy": "admission.policy",
}

if TYPE_CHECKING:
    from admission.configuration import (
        configuration_warnings,
        default_webhook_configuration,
        validate_mutating_configuration,
        validate_validating_configuration,
    )
    from admission.dispatcher import Dispatcher
    from admission.errors import WebhookRejection
    from admission.policy import (
        Policies,
        PolicyRejection,
        default_binding,
        default_policy,
        validate_binding,
        validate_policy,
    )


__getattr__ = lazy_attributes("admission", _LAZY, globals())
