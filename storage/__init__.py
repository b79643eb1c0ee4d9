"""An etcd-like revisioned key-value store (kine's design) on SQLAlchemy Core."""

from storage.interface import (
    Compacted,
    Event,
    FutureRevision,
    KeyExists,
    KeyNotFound,
    KeyValue,
    RevisionConflict,
    Store,
    StoreError,
    StoreUnavailable,
    WatchOverflow,
)

__all__ = [
    "Compacted",
    "Event",
    "FutureRevision",
    "KeyExists",
    "KeyNotFound",
    "KeyValue",
    "RevisionConflict",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "WatchOverflow",
    "open_store",
]


def open_store(url: str, **options: object) -> Store:
    """A store for an SQLAlchemy URL (`sqlite:///path.db`, `sqlite://` for a throw-away file)."""
    from storage.sql import SQLStore

    return SQLStore(url, **options)  # type: ignore[arg-type]
