"""Admission: webhook configurations, matching, and calling webhooks out over HTTP(S).

    dispatcher = Dispatcher(resolve_service=..., served_versions=...)
    dispatcher.configure(mutating_configurations, validating_configurations)   # whenever they change
    obj, warnings = await dispatcher.mutate(attrs)     # after defaulting, before validation
    warnings += await dispatcher.validate(attrs)       # after validation, before the write

Both raise machinery ApiErrors with kube's Status: a webhook's denial (its code, 400 by default), 500 for a
failed call under failurePolicy Fail, 403 for a failing matchCondition, 400 for a dry run a webhook cannot
honour.
"""

from admission.attributes import Attributes
from admission.configuration import (
    MUTATING_KIND,
    VALIDATING_KIND,
    configuration_warnings,
    default_webhook_configuration,
    validate_mutating_configuration,
    validate_validating_configuration,
)
from admission.dispatcher import Dispatcher
from admission.errors import WebhookRejection
from admission.policy import (
    BINDING_KIND,
    POLICY_KIND,
    Policies,
    PolicyRejection,
    default_binding,
    default_policy,
    validate_binding,
    validate_policy,
)

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
