"""Objects as stored and as served: the store keeps JSON without resourceVersion; reads stamp it."""

from __future__ import annotations

import copy
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson

from storage import KeyValue

Obj = dict[str, Any]

# Fields of metadata only the server sets (kube ignores them in client bodies on create).
SERVER_OWNED = ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                "generation", "selfLink")
# names.SimpleNameGenerator: 5 characters from an alphabet without vowels or confusable digits.
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_GENERATED_LENGTH = 5
_MAX_GENERATED_PREFIX = 63 - _GENERATED_LENGTH  # maxNameLength 63 minus the random suffix


def now() -> str:
    """RFC 3339 with second precision, as metav1.Time serialises."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_uid() -> str:
    return str(uuid.uuid4())


def generate_name(prefix: str) -> str:
    suffix = "".join(secrets.choice(_NAME_ALPHABET) for _ in range(_GENERATED_LENGTH))
    return prefix[:_MAX_GENERATED_PREFIX] + suffix


def meta(obj: Obj) -> Obj:
    """obj["metadata"], made a dict if it is missing (junk types are caught by validation first)."""
    m = obj.get("metadata")
    if m is None:
        m = obj["metadata"] = {}
    return m


def to_storage(obj: Obj) -> bytes:
    m = obj.get("metadata") or {}
    if "resourceVersion" in m:
        obj = {**obj, "metadata": {k: v for k, v in m.items() if k != "resourceVersion"}}
    return orjson.dumps(obj)


def from_storage(value: bytes, revision: int) -> Obj:
    obj: Obj = orjson.loads(value)
    obj.setdefault("metadata", {})["resourceVersion"] = str(revision)
    return obj


def from_kv(kv: KeyValue) -> Obj:
    return from_storage(kv.value, kv.mod_revision)


def deep_copy(obj: Obj) -> Obj:
    return copy.deepcopy(obj)


def spec_changed(new: Obj, old: Obj) -> bool:
    """Whether anything but metadata and status differs: what bumps metadata.generation."""
    keys = (set(new) | set(old)) - {"metadata", "status"}
    return any(new.get(k) != old.get(k) for k in keys)
