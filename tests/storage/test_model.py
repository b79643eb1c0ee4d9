"""The store against a plain in-memory model, driven by hypothesis's stateful testing.

The model is the list of every write ever made (revision i is `history[i - 1]`); the state at
any revision is folded from it. Each rule runs one store operation on the machine's own event
loop (the machine is synchronous, the store asyncio-native) and checks it against the model.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Coroutine
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from storage import open_store
from storage.interface import (
    Compacted,
    Event,
    FutureRevision,
    KeyExists,
    KeyNotFound,
    KeyValue,
    RevisionConflict,
)

T = TypeVar("T")

KEYS = st.sampled_from(["/a", "/a/1", "/a/2", "/ab/1", "/b/1", "/a_/1"])  # few: keys get rewritten often
PREFIXES = st.sampled_from(["", "/", "/a", "/a/", "/ab/", "/b/", "/a_/", "/c/"])
AFTERS = st.sampled_from(["", "/a", "/a/", "/a/1", "/a/15", "/ab/1", "/b/", "/b/1", "/z"])
VALUES = st.binary(max_size=12)
NO_MORE_EVENTS = 0.02  # seconds to wait for an event that must not come


class StoreMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.dir = tempfile.mkdtemp(prefix="store-model-")
        self.url = f"sqlite:///{self.dir}/store.db"
        self.store = open_store(self.url)
        self.run(self.store.start())
        self.history: list[tuple[str, bytes | None]] = []  # (key, value); None is a delete
        self.compacted = 0

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        try:
            self.run(self.store.close())
            self.run(self.loop.shutdown_default_executor())
        finally:
            self.loop.close()
            shutil.rmtree(self.dir, ignore_errors=True)

    # ---- the model -------------------------------------------------------------------------

    @property
    def head(self) -> int:
        return len(self.history)

    def state_at(self, revision: int) -> dict[str, KeyValue]:
        state: dict[str, KeyValue] = {}
        for rev, (key, value) in enumerate(self.history[:revision], start=1):
            if value is None:
                del state[key]
            else:
                create = state[key].create_revision if key in state else rev
                state[key] = KeyValue(key, value, rev, create)
        return state

    def expect_error(self, coro: Coroutine[Any, Any, Any], error: type[Exception]) -> Any:
        try:
            result = self.run(coro)
        except error as err:
            return err
        raise AssertionError(f"expected {error.__name__}, got {result!r}")

    def read_error(self, revision: int | None) -> type[Exception] | None:
        if revision is not None and revision > self.head:
            return FutureRevision
        if revision is not None and revision < self.compacted:
            return Compacted
        return None

    # ---- writes ----------------------------------------------------------------------------

    @rule(key=KEYS, value=VALUES)
    def create(self, key: str, value: bytes) -> None:
        current = self.state_at(self.head)
        if key in current:
            self.expect_error(self.store.create(key, value), KeyExists)
            return
        kv = self.run(self.store.create(key, value))
        self.history.append((key, value))
        assert kv == KeyValue(key, value, self.head, self.head)

    @rule(key=KEYS, value=VALUES)
    def put(self, key: str, value: bytes) -> None:
        """A write that always lands (create or update), so histories grow long enough to compact."""
        current = self.state_at(self.head).get(key)
        if current is None:
            kv = self.run(self.store.create(key, value))
        else:
            kv = self.run(self.store.update(key, value, revision=current.mod_revision))
        self.history.append((key, value))
        assert kv == KeyValue(key, value, self.head, current.create_revision if current else self.head)

    @rule(key=KEYS, value=VALUES, stale=st.booleans())
    def update(self, key: str, value: bytes, stale: bool) -> None:
        current = self.state_at(self.head).get(key)
        if current is None:
            self.expect_error(self.store.update(key, value, revision=max(self.head, 1)), KeyNotFound)
            return
        if stale:
            err = self.expect_error(self.store.update(key, value, revision=current.mod_revision - 1), RevisionConflict)
            assert err.current == current
            return
        kv = self.run(self.store.update(key, value, revision=current.mod_revision))
        self.history.append((key, value))
        assert kv == KeyValue(key, value, self.head, current.create_revision)

    @rule(key=KEYS, mode=st.sampled_from(["unconditional", "current", "stale"]))
    def delete(self, key: str, mode: str) -> None:
        current = self.state_at(self.head).get(key)
        if current is None:
            self.expect_error(self.store.delete(key), KeyNotFound)
            return
        if mode == "stale":
            stale = self.store.delete(key, revision=current.mod_revision + 1)
            err = self.expect_error(stale, RevisionConflict)
            assert err.current == current
            return
        revision = current.mod_revision if mode == "current" else None
        deleted = self.run(self.store.delete(key, revision=revision))
        self.history.append((key, None))
        assert deleted == KeyValue(key, current.value, self.head, current.create_revision)

    @rule(data=st.data())
    def compact(self, data: st.DataObject) -> None:
        revision = data.draw(st.integers(max(0, self.compacted - 1), self.head + 1), label="compact to")
        if revision > self.head:
            self.expect_error(self.store.compact(revision), FutureRevision)
            return
        try:
            self.run(self.store.compact(revision))
        except Compacted:  # allowed below the compact revision (etcd's answer), as is a no-op
            assert revision < self.compacted
        self.compacted = max(self.compacted, revision)
        assert self.store.compact_revision == self.compacted
        self.check_retained_history()

    @rule()
    def reopen(self) -> None:
        self.run(self.store.close())
        self.store = open_store(self.url)
        self.run(self.store.start())
        assert self.store.compact_revision == self.compacted
        self.check_retained_history()

    def check_retained_history(self) -> None:
        """Every revision from the compact revision on still lists exactly the model's state."""
        for revision in range(max(self.compacted, 1), self.head + 1):
            state = self.state_at(revision)
            expected = ([state[k] for k in sorted(state)], revision, False)
            assert self.run(self.store.range("", revision=revision)) == expected, revision

    # ---- reads -----------------------------------------------------------------------------

    def draw_revision(self, data: st.DataObject) -> int | None:
        return data.draw(st.none() | st.integers(max(1, self.compacted - 1), self.head + 1), label="revision")

    @rule(key=KEYS, data=st.data())
    def get(self, key: str, data: st.DataObject) -> None:
        revision = self.draw_revision(data)
        error = self.read_error(revision)
        if error:
            self.expect_error(self.store.get(key, revision=revision), error)
            return
        expected = self.state_at(self.head if revision is None else revision).get(key)
        if expected is None:
            self.expect_error(self.store.get(key, revision=revision), KeyNotFound)
        else:
            assert self.run(self.store.get(key, revision=revision)) == expected

    @rule(prefix=PREFIXES, after=AFTERS, limit=st.integers(0, 4), data=st.data())
    def range(self, prefix: str, after: str, limit: int, data: st.DataObject) -> None:
        revision = self.draw_revision(data)
        error = self.read_error(revision)
        if error:
            self.expect_error(self.store.range(prefix, revision=revision, limit=limit, after=after), error)
            self.expect_error(self.store.count(prefix, revision=revision, after=after), error)
            return
        at = self.head if revision is None else revision
        state = self.state_at(at)
        matching = [state[k] for k in sorted(state) if k.startswith(prefix) and k > after]
        expected = matching[:limit] if limit else matching
        more = bool(limit) and len(matching) > limit
        assert self.run(self.store.range(prefix, revision=revision, limit=limit, after=after)) == (
            expected,
            at,
            more,
        )
        assert self.run(self.store.count(prefix, revision=revision, after=after)) == len(matching)

    @rule(prefix=PREFIXES, data=st.data())
    def watch_replay(self, prefix: str, data: st.DataObject) -> None:
        since = data.draw(st.integers(max(0, self.compacted - 1), self.head), label="since")
        if since < self.compacted:
            err = self.expect_error(self._watch(prefix, since, 1), Compacted)
            assert (err.requested, err.compact_revision) == (since, self.compacted)
            return
        expected: list[tuple[str, str, bytes, int, int | None, KeyValue | None]] = []
        for rev in range(since + 1, self.head + 1):
            key, value = self.history[rev - 1]
            if key.startswith(prefix):
                prev = self.state_at(rev - 1).get(key)
                if value is None:
                    expected.append(("DELETE", key, b"", rev, None, prev))
                else:
                    expected.append(("PUT", key, value, rev, self.state_at(rev)[key].create_revision, prev))
        events = self.run(self._watch(prefix, since, len(expected)))
        assert [_shape(e) for e in events] == expected

    async def _watch(self, prefix: str, since: int, n: int) -> list[Event]:
        watcher = aiter(self.store.watch(prefix, since=since))
        try:
            events = [await asyncio.wait_for(anext(watcher), 10) for _ in range(n)]
            try:
                extra = await asyncio.wait_for(anext(watcher), NO_MORE_EVENTS)
            except TimeoutError:
                return events
            raise AssertionError(f"unexpected event {extra}")
        finally:
            await watcher.aclose()  # type: ignore[attr-defined]

    # ---- invariants ------------------------------------------------------------------------

    @invariant()
    def revisions_agree(self) -> None:
        assert self.store.revision == self.head
        assert self.run(self.store.current_revision()) == self.head

    @precondition(lambda self: self.head > 0)
    @invariant()
    def the_newest_state_is_the_listed_state(self) -> None:
        items, at, more = self.run(self.store.range(""))
        assert at == self.head and not more
        state = self.state_at(self.head)
        assert items == [state[k] for k in sorted(state)]


def _shape(e: Event) -> tuple[str, str, bytes, int, int | None, KeyValue | None]:
    create = e.kv.create_revision if e.type == "PUT" else None  # a delete's create revision is unspecified
    return (e.type, e.kv.key, e.kv.value, e.revision, create, e.prev)


StoreMachine.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestStoreModel = StoreMachine.TestCase
