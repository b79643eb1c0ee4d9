"""field.Path rendering, on plain strings: "" is the nil path, which kube prints as `<nil>`."""

from __future__ import annotations

NIL = "<nil>"  # field.Path.String() of a nil path


def child(base: str, name: str) -> str:
    """Path.Child: `spec.replicas`."""
    return f"{base}.{name}" if base else name


def key(base: str, name: str) -> str:
    """Path.Key: `spec.selector[app]`, as kube addresses map entries."""
    return f"{base}[{name}]"


def index(base: str, i: int) -> str:
    """Path.Index: `spec.items[2]`."""
    return f"{base}[{i}]"


def shown(path: str) -> str:
    """The path as a field error carries it."""
    return path or NIL


def at(base: str, *steps: str | int) -> str:
    """A path below `base`: strings are children, ints are indexes."""
    for step in steps:
        base = index(base, step) if isinstance(step, int) else child(base, step)
    return base


def prop(base: str, name: str) -> str:
    """A schema's property: `...properties[name]`, as kube addresses schema nodes."""
    return key(child(base, "properties"), name)
