"""The scale subresource: an autoscaling/v1 Scale view of a scalable object, and its write-back."""

from __future__ import annotations

from typing import Any

from apiserver.objects import Obj
from apiserver.registry import ResourceType, ScalePaths
from machinery import BadRequest, Invalid, invalid


def _path(path: str) -> list[str]:
    return [p for p in path.split(".") if p]


def read_path(obj: Obj, path: str) -> Any:
    cur: Any = obj
    for part in _path(path):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def write_path(obj: Obj, path: str, value: Any) -> None:
    parts = _path(path)
    cur = obj
    for part in parts[:-1]:
        nxt = cur.get(part)
        if not isinstance(nxt, dict):
            nxt = cur[part] = {}
        cur = nxt
    cur[parts[-1]] = value


def format_selector(selector: Any) -> str:
    """metav1.FormatLabelSelector: matchLabels as k=v, expressions as `k in (a,b)` and friends."""
    if not isinstance(selector, dict):
        return ""
    terms = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In":
            terms.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            terms.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            terms.append(str(key))
        elif op == "DoesNotExist":
            terms.append(f"!{key}")
    return ",".join(terms)


def to_scale(rt: ResourceType, obj: Obj) -> Obj:
    paths = rt.scale or ScalePaths()
    meta = obj.get("metadata") or {}
    selector = read_path(obj, ".spec.selector")
    selector_text: Any = format_selector(selector) if isinstance(selector, dict) else None
    if selector_text is None and paths.label_selector:
        selector_text = read_path(obj, paths.label_selector)
    status: Obj = {"replicas": read_path(obj, paths.status_replicas) or 0}
    if selector_text:
        status["selector"] = selector_text
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                     if k in meta},
        "spec": {"replicas": read_path(obj, paths.spec_replicas) or 0},
        "status": status,
    }


def apply_scale(rt: ResourceType, obj: Obj, scale: Obj) -> Obj:
    """The object with the Scale's spec.replicas written back (and its resourceVersion as a precondition)."""
    paths = rt.scale or ScalePaths()
    spec = scale.get("spec")
    # ScaleSpec.replicas is omitempty in Go: a Scale to 0 arrives without it
    replicas = spec.get("replicas", 0) if isinstance(spec, dict) else 0
    if not isinstance(replicas, int) or isinstance(replicas, bool):
        raise BadRequest("spec.replicas: the Scale must carry an integer spec.replicas")
    if replicas < 0:
        name = (obj.get("metadata") or {}).get("name", "")
        raise Invalid.of("autoscaling", "Scale", name,
                         [invalid("spec.replicas", replicas, "must be greater than or equal to 0")])
    write_path(obj, paths.spec_replicas, replicas)
    rv = (scale.get("metadata") or {}).get("resourceVersion") if isinstance(scale.get("metadata"), dict) else None
    if rv:
        obj["metadata"]["resourceVersion"] = rv
    return obj
