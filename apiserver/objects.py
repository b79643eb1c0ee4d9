"""Objects as stored and as served: the store keeps JSON without resourceVersion; reads stamp it."""

from __future__ import annotations

import copy
import os
import secrets
import time
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


_now_cache: tuple[int, str] = (-1, "")


def now() -> str:
    """RFC 3339 with second precision, as metav1.Time serialises (formatted once per second)."""
    global _now_cache
    second = int(time.time())
    if _now_cache[0] != second:
        _now_cache = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return _now_cache[1]


class _Random:
    """os.urandom drawn 4 KiB at a time. uuid.uuid4() calls os.urandom(16) per uid, and that syscall
    releases the GIL: with the store's writer thread busy, every uid then waited for the GIL again."""

    def __init__(self) -> None:
        self.pool, self.at = "", 0

    def hex16(self) -> str:
        """16 random bytes as 32 hex digits."""
        at = self.at
        if at + 32 > len(self.pool):
            self.pool, at = os.urandom(4096).hex(), 0
        self.at = at + 32
        return self.pool[at : at + 32]


_random = _Random()
os.register_at_fork(after_in_child=lambda: setattr(_random, "pool", ""))  # never share draws with a child


def new_uid() -> str:
    """A random (version 4, RFC 4122 variant) UUID, as kube's uuid.NewUUID."""
    h = _random.hex16()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


_VARIANT = {d: "89ab"[int(d, 16) & 3] for d in "0123456789abcdef"}  # RFC 4122: the top bits of byte 8 are 10


def generate_name(prefix: str) -> str:
    suffix = "".join(secrets.choice(_NAME_ALPHABET) for _ in range(_GENERATED_LENGTH))
    return prefix[:_MAX_GENERATED_PREFIX] + suffix


def meta(obj: Obj) -> Obj:
    """obj["metadata"], made a dict if it is missing (junk types are caught by validation first)."""
    m = obj.get("metadata")
    if m is None:
        m = obj["metadata"] = {}
    return m


def storable(obj: Obj) -> Obj:
    """`obj` as the store keeps it: without resourceVersion (a shallow copy when it has one)."""
    m = obj.get("metadata") or {}
    if "resourceVersion" in m:
        obj = {**obj, "metadata": {k: v for k, v in m.items() if k != "resourceVersion"}}
    return obj


def to_storage(obj: Obj) -> bytes:
    return orjson.dumps(storable(obj))


def from_storage(value: bytes, revision: int) -> Obj:
    obj: Obj = orjson.loads(value)
    obj.setdefault("metadata", {})["resourceVersion"] = str(revision)
    return obj


def at_revision(obj: Obj, revision: int) -> Obj:
    """A shallow copy of `obj` showing `revision` as its resourceVersion (its content shared, not copied)."""
    return {**obj, "metadata": {**(obj.get("metadata") or {}), "resourceVersion": str(revision)}}


def from_kv(kv: KeyValue) -> Obj:
    return from_storage(kv.value, kv.mod_revision)


def deep_copy(obj: Obj) -> Obj:
    return copy.deepcopy(obj)


def spec_changed(new: Obj, old: Obj) -> bool:
    """Whether anything but metadata and status differs: what bumps metadata.generation."""
    keys = (set(new) | set(old)) - {"metadata", "status"}
    return any(new.get(k) != old.get(k) for k in keys)
