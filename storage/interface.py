"""The store contract: an etcd-like, revisioned key-value store.

Keys are strings without NUL, values opaque bytes. One global revision numbers every write, strictly
increasing and never reused. Errors are storage-level; the API layer maps them to Status.

No key holds a NUL: PostgreSQL's text can't, so every backend alike refuses to write or watch one
(ValueError), a get of one finds nothing, a range or count under a prefix with one finds nothing, and a
start-after key ends at its first NUL (the keys after "a\0b" are those after "a"). The API server refuses
such names before they get here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol


# KeyValue and Event are values: never change one. They are not frozen dataclasses only because a frozen
# dataclass's __init__ costs four times as much (object.__setattr__ per field) and the store makes both for
# every write; unsafe_hash keeps the hash a frozen one would have.
@dataclass(slots=True, unsafe_hash=True)
class KeyValue:
    key: str
    value: bytes
    mod_revision: int  # the revision of the write that produced this value
    create_revision: int  # the revision of the create that started this key's current life


@dataclass(slots=True, unsafe_hash=True)
class Event:
    """A committed write. `kv.value` is empty for a delete; `prev` is the value it replaced."""

    type: str  # "PUT" or "DELETE"
    kv: KeyValue  # for DELETE: key, empty value, mod_revision = the delete's revision
    prev: KeyValue | None  # None for a create

    @property
    def revision(self) -> int:
        return self.kv.mod_revision


class StoreError(Exception):
    """Base of the store's errors."""


class KeyNotFound(StoreError):
    def __init__(self, key: str) -> None:
        super().__init__(f"key not found: {key}")
        self.key = key


class KeyExists(StoreError):
    def __init__(self, key: str) -> None:
        super().__init__(f"key exists: {key}")
        self.key = key


class RevisionConflict(StoreError):
    """The key's mod revision moved since the caller read it; `current` is what is stored now."""

    def __init__(self, key: str, current: KeyValue) -> None:
        super().__init__(f"revision conflict on {key}: now at {current.mod_revision}")
        self.key = key
        self.current = current


class Compacted(StoreError):
    """The requested revision is older than the compacted history."""

    def __init__(self, requested: int, compact_revision: int) -> None:
        super().__init__(f"revision {requested} is compacted (compacted up to {compact_revision})")
        self.requested = requested
        self.compact_revision = compact_revision


class FutureRevision(StoreError):
    """The requested revision has not been written yet."""

    def __init__(self, requested: int, current: int) -> None:
        super().__init__(f"revision {requested} is newer than the current revision {current}")
        self.requested = requested
        self.current = current


class WatchOverflow(StoreError):
    """A watcher fell too far behind the live stream and was cut off; re-watch from its last revision."""


class StoreUnavailable(StoreError):
    """The database could not complete the operation (disk full, read-only, locked elsewhere)."""


class Store(Protocol):
    """What every backend provides; `tests/storage/contract.py` checks any implementation."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    @property
    def revision(self) -> int:
        """The newest revision this process knows committed (cheap, no I/O)."""
        ...

    @property
    def compact_revision(self) -> int: ...

    async def current_revision(self) -> int:
        """The newest committed revision, read from the database."""
        ...

    async def get(self, key: str, *, revision: int | None = None) -> KeyValue:
        """The key's value at `revision` (default: now). KeyNotFound, Compacted, FutureRevision."""
        ...

    async def range(
        self, prefix: str, *, revision: int | None = None, limit: int = 0, after: str = ""
    ) -> tuple[list[KeyValue], int, bool]:
        """Live keys starting with `prefix` and sorting after `after`, in key order, at `revision`.

        Returns (items, the revision read at, whether more items follow). limit=0: no limit.
        """
        ...

    async def count(self, prefix: str, *, revision: int | None = None, after: str = "") -> int:
        """How many live keys `range` would return with no limit."""
        ...

    async def create(self, key: str, value: bytes) -> KeyValue:
        """KeyExists when the key is live."""
        ...

    async def update(self, key: str, value: bytes, *, revision: int) -> KeyValue:
        """Compare-and-swap on mod revision: KeyNotFound, RevisionConflict(current)."""
        ...

    async def delete(self, key: str, *, revision: int | None = None) -> KeyValue:
        """Delete (conditionally on mod revision): the deleted value at the delete's revision.

        KeyNotFound, RevisionConflict.
        """
        ...

    def watch(self, prefix: str, *, since: int) -> AsyncIterator[Event]:
        """Every event after revision `since` for keys under `prefix`, exactly once, in order.

        Raises Compacted (on first iteration) when `since` < compact revision; WatchOverflow when
        the consumer falls too far behind. Closing the iterator unsubscribes.
        """
        ...

    async def compact(self, revision: int) -> None:
        """Forget history at and before `revision` (latest values are kept)."""
        ...
