"""The built-in resource types kube-apiserver serves, as data plus strategy hooks."""

from apiserver.builtins import apps, authorization, batch, core, misc, networking, pods, rbac
from apiserver.registry import ResourceType

# Registration order is discovery order: core first, then groups as kube lists them.
TYPES: list[ResourceType] = [
    *core.TYPES,
    *pods.TYPES,
    *apps.TYPES,
    *batch.TYPES,
    *misc.TYPES,
    *networking.TYPES,
    *rbac.TYPES,
    *authorization.TYPES,
]

__all__ = ["TYPES"]
