"""The store contract as a reusable test suite (kube's `pkg/storage/testing`, which kine reuses).

A backend's test module subclasses `StoreContract` and provides one fixture, `backend`: a
`Backend` that opens started stores on one database (see `tests/storage/test_sqlite_contract.py`)::

    class TestMyStore(StoreContract):
        @pytest.fixture
        async def backend(self, tmp_path):
            async with Backend("sqlite:///...", reopenable=True) as b:
                yield b

Everything here goes through `storage.interface.Store` only. Tests that reopen the same database
are skipped for throw-away backends.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from storage import open_store
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
    WatchOverflow,
)

EVENT_TIMEOUT = 10.0  # seconds to wait for one watch event before the test fails (CI machines are slow)


class Backend:
    """Opens started stores on one database and closes whatever is still open at the end."""

    def __init__(
        self,
        url: str,
        *,
        reopenable: bool,
        opener: Callable[[str], Store] = open_store,
    ) -> None:
        self.url = url
        self.reopenable = reopenable  # False: every open() is a fresh, empty database
        self._opener = opener
        self._open: list[Store] = []

    async def open(self) -> Store:
        store = self._opener(self.url)
        await store.start()
        self._open.append(store)
        return store

    async def reopen(self, store: Store) -> Store:
        """Close `store` and open the same database again (a restart of the server)."""
        if not self.reopenable:
            pytest.skip("this backend's database does not outlive its store")
        await self.close(store)
        return await self.open()

    async def close(self, store: Store) -> None:
        self._open.remove(store)
        await store.close()

    async def __aenter__(self) -> Backend:
        return self

    async def __aexit__(self, *exc: object) -> None:
        while self._open:
            await self._open.pop().close()


# ---- helpers -------------------------------------------------------------------------------


async def aclose(iterator: AsyncIterator[Any]) -> None:
    close = getattr(iterator, "aclose", None)
    if close is not None:
        await close()


@contextlib.asynccontextmanager
async def watching(store: Store, prefix: str, since: int) -> AsyncIterator[AsyncIterator[Event]]:
    """A watch that is closed (unsubscribed) when the block ends."""
    watcher = aiter(store.watch(prefix, since=since))
    try:
        yield watcher
    finally:
        await aclose(watcher)


async def take(watcher: AsyncIterator[Event], n: int, timeout: float = EVENT_TIMEOUT) -> list[Event]:
    """The next `n` events, failing the test if one takes longer than `timeout`."""
    events = []
    for _ in range(n):
        events.append(await asyncio.wait_for(anext(watcher), timeout))
    return events


async def take_until(watcher: AsyncIterator[Event], key: str, timeout: float = EVENT_TIMEOUT) -> list[Event]:
    """Events up to and including the first one for `key` (a sentinel written after the rest)."""
    events = []
    while True:
        event = await asyncio.wait_for(anext(watcher), timeout)
        events.append(event)
        if event.kv.key == key:
            return events


def revisions(events: list[Event]) -> list[int]:
    return [e.revision for e in events]


def keys(items: list[KeyValue]) -> list[str]:
    return [kv.key for kv in items]


async def fill(store: Store, *names: str, value: bytes = b"v") -> list[KeyValue]:
    return [await store.create(name, value) for name in names]


async def _settle(task: asyncio.Task[Any]) -> None:
    """Let `task` finish (cancelling it if it hangs) and swallow its outcome."""
    done, _ = await asyncio.wait([task], timeout=EVENT_TIMEOUT)
    if not done:
        task.cancel()
    await asyncio.gather(task, return_exceptions=True)


# ---- the suite -----------------------------------------------------------------------------


class StoreContract:
    """Every backend passes these. Subclass with a `backend` fixture yielding a `Backend`."""

    @pytest.fixture
    async def backend(self) -> AsyncIterator[Backend]:
        raise NotImplementedError("a backend's test class provides the `backend` fixture")
        yield  # pragma: no cover  (makes this an async generator fixture like the real ones)

    @pytest.fixture
    async def store(self, backend: Backend) -> Store:
        return await backend.open()

    # -- an empty store ----------------------------------------------------------------------

    async def test_an_empty_store_is_at_revision_zero(self, store: Store) -> None:
        assert store.revision == 0
        assert store.compact_revision == 0
        assert await store.current_revision() == 0
        assert await store.range("") == ([], 0, False)
        assert await store.count("") == 0
        with pytest.raises(KeyNotFound):
            await store.get("/a")

    # -- create and get ----------------------------------------------------------------------

    async def test_the_first_write_is_revision_one(self, store: Store) -> None:
        kv = await store.create("/a/1", b"one")
        assert kv == KeyValue("/a/1", b"one", 1, 1)
        assert await store.get("/a/1") == kv
        assert store.revision == 1
        assert await store.current_revision() == 1

    async def test_creating_a_live_key_raises_key_exists_and_takes_no_revision(self, store: Store) -> None:
        first = await store.create("/a", b"first")
        with pytest.raises(KeyExists) as err:
            await store.create("/a", b"second")
        assert err.value.key == "/a"
        assert await store.get("/a") == first
        assert await store.current_revision() == 1
        assert (await store.create("/b", b"x")).mod_revision == 2

    async def test_getting_a_missing_key_raises_key_not_found(self, store: Store) -> None:
        await store.create("/a/1", b"x")
        for missing in ("/a", "/a/", "/a/10", "/a/1/", ""):
            with pytest.raises(KeyNotFound) as err:
                await store.get(missing)
            assert err.value.key == missing

    async def test_values_are_opaque_bytes(self, store: Store) -> None:
        values = {
            "/v/all-bytes": bytes(range(256)),
            "/v/nul": b"\x00",
            "/v/empty": b"",
            "/v/big": bytes(range(256)) * 4096,  # 1 MiB
            "/v/utf8": "héllo wörld ☃".encode(),
        }
        for key, value in values.items():
            assert (await store.create(key, value)).value == value
        for key, value in values.items():
            assert (await store.get(key)).value == value
        items, _, _ = await store.range("/v/")
        assert {kv.key: kv.value for kv in items} == values
        async with watching(store, "/v/", 0) as w:
            assert {e.kv.key: e.kv.value for e in await take(w, len(values))} == values

    async def test_an_empty_value_is_a_live_key_not_a_deletion(self, store: Store) -> None:
        kv = await store.create("/e", b"")
        assert await store.get("/e") == kv
        assert await store.count("") == 1
        updated = await store.update("/e", b"", revision=kv.mod_revision)
        assert updated.create_revision == kv.create_revision
        async with watching(store, "/e", 0) as w:
            assert [e.type for e in await take(w, 2)] == ["PUT", "PUT"]

    async def test_keys_are_arbitrary_strings_in_code_point_order(self, store: Store) -> None:
        names = ["/k/ü", "/k/名前", "/k/a b", "/k/%", "/k/_", "/k/\\", "/k/'", '/k/"', "/k/\t", "/k/A"]
        names += ["/k/a", "/k/\U0001f600", "/k/\x7f", "/k/\u00ff", "/k/\uffff"]
        for name in names:
            await store.create(name, name.encode())
        for name in names:
            assert (await store.get(name)).value == name.encode()
        items, _, _ = await store.range("/k/")
        assert keys(items) == sorted(names)

    # -- update ------------------------------------------------------------------------------

    async def test_update_at_the_current_revision_replaces_the_value(self, store: Store) -> None:
        created = await store.create("/a", b"v1")
        updated = await store.update("/a", b"v2", revision=created.mod_revision)
        assert updated == KeyValue("/a", b"v2", 2, 1)
        assert await store.get("/a") == updated
        again = await store.update("/a", b"v3", revision=updated.mod_revision)
        assert again == KeyValue("/a", b"v3", 3, 1)

    async def test_update_at_a_stale_revision_raises_conflict_carrying_the_current_value(self, store: Store) -> None:
        created = await store.create("/a", b"v1")
        updated = await store.update("/a", b"v2", revision=created.mod_revision)
        for stale in (created.mod_revision, updated.mod_revision + 1, 0, -1):
            with pytest.raises(RevisionConflict) as err:
                await store.update("/a", b"lost", revision=stale)
            assert err.value.key == "/a"
            assert err.value.current == updated
        assert await store.get("/a") == updated
        assert await store.current_revision() == 2

    async def test_update_of_a_missing_or_deleted_key_raises_key_not_found(self, store: Store) -> None:
        with pytest.raises(KeyNotFound):
            await store.update("/nope", b"x", revision=1)
        kv = await store.create("/a", b"x")
        await store.delete("/a")
        with pytest.raises(KeyNotFound) as err:
            await store.update("/a", b"y", revision=kv.mod_revision)
        assert err.value.key == "/a"
        assert await store.current_revision() == 2

    # -- delete ------------------------------------------------------------------------------

    async def test_unconditional_delete_returns_the_deleted_value(self, store: Store) -> None:
        created = await store.create("/a", b"v1")
        updated = await store.update("/a", b"v2", revision=created.mod_revision)
        deleted = await store.delete("/a")
        assert deleted.key == "/a"
        assert deleted.value == b"v2"
        assert deleted.create_revision == created.create_revision
        # The deleted value stamped with the delete's revision (kube answers a DELETE with it).
        assert deleted.mod_revision == updated.mod_revision + 1 == await store.current_revision()
        with pytest.raises(KeyNotFound):
            await store.get("/a")
        assert await store.range("") == ([], 3, False)

    async def test_conditional_delete_checks_the_mod_revision(self, store: Store) -> None:
        created = await store.create("/a", b"v1")
        updated = await store.update("/a", b"v2", revision=created.mod_revision)
        with pytest.raises(RevisionConflict) as err:
            await store.delete("/a", revision=created.mod_revision)
        assert err.value.current == updated
        assert await store.get("/a") == updated
        deleted = await store.delete("/a", revision=updated.mod_revision)
        assert deleted.value == b"v2"
        assert deleted.mod_revision == 3

    async def test_deleting_a_missing_or_deleted_key_raises_key_not_found(self, store: Store) -> None:
        for revision in (None, 1):
            with pytest.raises(KeyNotFound):
                await store.delete("/nope", revision=revision)
        kv = await store.create("/a", b"x")
        await store.delete("/a")
        for revision in (None, kv.mod_revision, 2):
            with pytest.raises(KeyNotFound) as err:
                await store.delete("/a", revision=revision)
            assert err.value.key == "/a"
        assert await store.current_revision() == 2

    async def test_a_key_recreated_after_delete_starts_a_new_life(self, store: Store) -> None:
        lives = []
        for life in range(3):
            kv = await store.create("/a", f"life {life}".encode())
            assert kv.create_revision == kv.mod_revision == await store.current_revision()
            lives.append(kv)
            kv = await store.update("/a", f"life {life} updated".encode(), revision=kv.mod_revision)
            assert kv.create_revision == lives[-1].create_revision
            await store.delete("/a", revision=kv.mod_revision)
        assert [kv.create_revision for kv in lives] == [1, 4, 7]
        recreated = await store.create("/a", b"last")
        with pytest.raises(RevisionConflict) as err:  # a revision from an earlier life never matches
            await store.update("/a", b"x", revision=lives[0].mod_revision)
        assert err.value.current == recreated

    async def test_writes_to_other_keys_in_a_failing_writes_company_still_commit(self, store: Store) -> None:
        await store.create("/taken", b"x")
        results = await asyncio.gather(
            *(store.create(f"/ok/{i}", b"v") for i in range(20)),
            *(store.create("/taken", b"y") for _ in range(5)),
            *(store.update("/missing", b"y", revision=1) for _ in range(5)),
            return_exceptions=True,
        )
        oks = [r for r in results if isinstance(r, KeyValue)]
        assert len(oks) == 20
        assert sorted(kv.mod_revision for kv in oks) == list(range(2, 22))
        assert [type(r) for r in results[20:]] == [KeyExists] * 5 + [KeyNotFound] * 5
        assert await store.count("/ok/") == 20

    # -- revisions ---------------------------------------------------------------------------

    async def test_revisions_are_strictly_increasing_and_continuous(self, store: Store) -> None:
        await store.create("/r/taken", b"")
        expected = 1
        live: dict[str, KeyValue] = {}
        for i in range(60):
            key = f"/r/{i % 7}"
            if key not in live:
                kv = live[key] = await store.create(key, b"c")
            elif i % 3 == 0:
                kv = await store.delete(key, revision=live.pop(key).mod_revision)
            else:
                kv = live[key] = await store.update(key, b"u", revision=live[key].mod_revision)
            expected += 1
            assert kv.mod_revision == expected == store.revision
            with pytest.raises(KeyExists):  # failed writes in between take no revision
                await store.create("/r/taken", b"")
        assert await store.current_revision() == expected
        async with watching(store, "", 0) as w:
            assert revisions(await take(w, expected)) == list(range(1, expected + 1))

    async def test_the_revision_property_follows_acknowledged_writes(self, store: Store) -> None:
        results = await asyncio.gather(*(store.create(f"/p/{i}", b"v") for i in range(50)))
        newest = max(kv.mod_revision for kv in results)
        assert newest == 50
        assert store.revision == newest == await store.current_revision()

    # -- reads at a revision -----------------------------------------------------------------

    async def test_get_at_an_old_revision_returns_the_value_then(self, store: Store) -> None:
        await store.create("/other", b"o")  # 1
        v1 = await store.create("/a", b"v1")  # 2
        v2 = await store.update("/a", b"v2", revision=2)  # 3
        await store.delete("/a")  # 4
        v3 = await store.create("/a", b"v3")  # 5
        await store.create("/later", b"l")  # 6
        with pytest.raises(KeyNotFound):
            await store.get("/a", revision=1)
        assert await store.get("/a", revision=2) == v1
        assert await store.get("/a", revision=3) == v2
        with pytest.raises(KeyNotFound):
            await store.get("/a", revision=4)
        assert await store.get("/a", revision=5) == v3
        assert await store.get("/a", revision=6) == v3
        with pytest.raises(KeyNotFound):
            await store.get("/later", revision=5)

    async def test_concurrent_gets_each_get_their_own_answer(self, store: Store) -> None:
        """Gets issued together (a store may read them in one batch) answer each as it would alone:
        values at their revisions, and each its own error for a missing key or a revision out of reach."""
        for i in range(20):
            await store.create(f"/k/{i}", b"v1")  # revisions 1..20
        for i in range(0, 20, 2):
            await store.update(f"/k/{i}", b"v2", revision=i + 1)  # revisions 21..30
        await store.delete("/k/1")  # 31
        await store.compact(5)
        reads: list[tuple[str, int | None]] = [(f"/k/{i}", rev) for i in range(20) for rev in (None, 20, 25)]
        reads += [("/k/missing", None), ("/k/3", 4), ("/k/3", 32), ("/k/1", 30), ("/k/1", None)]

        async def outcome(key: str, rev: int | None) -> Any:
            try:
                kv = await store.get(key, revision=rev)
            except StoreError as err:
                return type(err).__name__, getattr(err, "requested", None)
            return kv

        alone = [await outcome(key, rev) for key, rev in reads]
        together = await asyncio.gather(*(outcome(key, rev) for key, rev in reads))
        assert together == alone
        assert {type(x) if isinstance(x, KeyValue) else x[0] for x in alone} == {
            KeyValue, "KeyNotFound", "Compacted", "FutureRevision"}
        assert alone[reads.index(("/k/0", None))].value == b"v2"
        assert alone[reads.index(("/k/0", 20))].value == b"v1"

    async def test_reads_at_a_future_revision_raise_future_revision(self, store: Store) -> None:
        await fill(store, "/a", "/b")
        for read in (
            lambda: store.get("/a", revision=3),
            lambda: store.range("", revision=3),
            lambda: store.count("", revision=100),
        ):
            with pytest.raises(FutureRevision) as err:
                await read()
            assert err.value.current == 2
            assert err.value.requested in (3, 100)

    async def test_range_at_an_old_revision_is_a_snapshot(self, store: Store) -> None:
        a, b, _ = await fill(store, "/s/a", "/s/b", "/s/c")  # 1..3
        await store.update("/s/a", b"new", revision=a.mod_revision)  # 4
        await store.delete("/s/b")  # 5
        await store.create("/s/d", b"v")  # 6
        items, at, more = await store.range("/s/", revision=3)
        assert (keys(items), at, more) == (["/s/a", "/s/b", "/s/c"], 3, False)
        assert items[0] == a and items[1] == b
        items, at, _ = await store.range("/s/", revision=4)
        assert items[0] == KeyValue("/s/a", b"new", 4, 1)
        assert keys((await store.range("/s/", revision=5))[0]) == ["/s/a", "/s/c"]
        items, at, _ = await store.range("/s/")
        assert (keys(items), at) == (["/s/a", "/s/c", "/s/d"], 6)
        assert await store.count("/s/", revision=3) == 3
        assert await store.count("/s/", revision=5) == 2
        assert await store.count("/s/") == 3

    async def test_range_without_a_revision_reads_at_the_current_revision(self, store: Store) -> None:
        await fill(store, "/a", "/b", "/c")
        assert (await store.range("/zzz"))[1] == 3  # even when nothing matches
        assert (await store.range("/", limit=1))[1:] == (3, True)

    # -- range -------------------------------------------------------------------------------

    async def test_range_returns_live_keys_under_the_prefix_in_key_order(self, store: Store) -> None:
        await fill(store, "/a/2", "/ab/1", "/a", "/a/x/y", "/a0", "/b/1", "/a/", "/a/1", "/", "/a.")
        items, _, more = await store.range("/a/")
        assert keys(items) == ["/a/", "/a/1", "/a/2", "/a/x/y"]
        assert not more
        assert keys((await store.range("/ab/"))[0]) == ["/ab/1"]
        everything_under_a = ["/a", "/a.", "/a/", "/a/1", "/a/2", "/a/x/y", "/a0", "/ab/1"]
        assert keys((await store.range("/a"))[0]) == everything_under_a
        assert keys((await store.range("/b/1"))[0]) == ["/b/1"]
        assert keys((await store.range("/c/"))[0]) == []
        assert await store.count("/a/") == 4
        assert await store.count("/ab/") == 1

    async def test_no_key_holds_a_nul_writes_of_one_are_refused_and_reads_find_none(self, store: Store) -> None:
        await fill(store, "/a", "/a/1", "/b")
        for write in (lambda: store.create("/b\x00", b"v"), lambda: store.update("/a\x00", b"v", revision=1),
                      lambda: store.delete("/a\x00")):
            with pytest.raises(ValueError, match="NUL"):
                await write()
        with pytest.raises(KeyNotFound):
            await store.get("/a\x00")
        with pytest.raises(KeyNotFound):
            await store.get("/a\x00", revision=1)
        assert await store.range("/a\x00") == ([], 3, False)
        assert await store.count("/a\x00/") == 0
        # the keys after "/a\x00x" are those after "/a" (no key lies between them)
        assert keys((await store.range("/", after="/a\x00x"))[0]) == ["/a/1", "/b"]
        assert await store.count("/", after="/a\x00x") == 2
        with pytest.raises(FutureRevision):
            await store.range("/\x00", revision=9)
        with pytest.raises(ValueError, match="NUL"):
            await anext(aiter(store.watch("/\x00", since=0)))
        assert await store.current_revision() == 3

    async def test_the_empty_prefix_matches_every_key(self, store: Store) -> None:
        names = ["/", "a", "\x01", "~", "\U0010fffe", "/\U0010ffff"]
        await fill(store, *names)
        items, _, _ = await store.range("")
        assert keys(items) == sorted(names)
        assert await store.count("") == len(names)

    async def test_a_key_starting_with_the_highest_code_point_is_still_under_the_empty_prefix(
        self, store: Store
    ) -> None:
        await fill(store, "\U0010ffff", "\U0010ffff/x")
        assert keys((await store.range(""))[0]) == ["\U0010ffff", "\U0010ffff/x"]
        assert keys((await store.range("\U0010ffff"))[0]) == ["\U0010ffff", "\U0010ffff/x"]

    async def test_prefixes_are_literal_strings_not_patterns(self, store: Store) -> None:
        await fill(store, "/a_/1", "/ab/1", "/a%/1", "/a%b/1", "/a\\/1", "/a\\x/1", "/A_/1", "/a[/1", "/a*/1")
        for prefix in ("/a_/", "/a%/", "/a\\/", "/a[/", "/a*/"):
            assert keys((await store.range(prefix))[0]) == [prefix + "1"], prefix
            assert await store.count(prefix) == 1
        assert keys((await store.range("/a%"))[0]) == ["/a%/1", "/a%b/1"]
        assert keys((await store.range("/A"))[0]) == ["/A_/1"]  # case-sensitive

    async def test_range_skips_deleted_keys(self, store: Store) -> None:
        await fill(store, "/d/1", "/d/2", "/d/3")
        await store.delete("/d/2")
        items, _, _ = await store.range("/d/")
        assert keys(items) == ["/d/1", "/d/3"]
        items, _, more = await store.range("/d/", limit=1, after="/d/1")
        assert (keys(items), more) == (["/d/3"], False)
        assert await store.count("/d/") == 2

    async def test_range_limit_sets_the_more_flag(self, store: Store) -> None:
        await fill(store, *(f"/l/{i}" for i in range(5)))
        for limit, expected, more in [
            (1, 1, True),
            (2, 2, True),
            (4, 4, True),
            (5, 5, False),
            (6, 5, False),
            (1000, 5, False),
            (0, 5, False),
        ]:
            items, at, flag = await store.range("/l/", limit=limit)
            assert (keys(items), at, flag) == ([f"/l/{i}" for i in range(expected)], 5, more), limit

    async def test_range_after_continues_strictly_past_the_given_key(self, store: Store) -> None:
        await fill(store, "/l/1", "/l/3", "/l/5", "/m/1")
        cases = {
            "": ["/l/1", "/l/3", "/l/5"],
            "/a": ["/l/1", "/l/3", "/l/5"],  # before the prefix
            "/l/": ["/l/1", "/l/3", "/l/5"],
            "/l/1": ["/l/3", "/l/5"],  # strictly after a present key
            "/l/2": ["/l/3", "/l/5"],  # after an absent key
            "/l/3\x01": ["/l/5"],
            "/l/5": [],
            "/l/9": [],
            "/m/0": [],  # past the prefix
        }
        for after, expected in cases.items():
            items, _, more = await store.range("/l/", after=after)
            assert (keys(items), more) == (expected, False), after
            assert await store.count("/l/", after=after) == len(expected), after
        items, _, more = await store.range("/l/", after="/l/1", limit=1)
        assert (keys(items), more) == (["/l/3"], True)

    async def test_paginating_at_a_fixed_revision_sees_one_snapshot(self, store: Store) -> None:
        await fill(store, *(f"/p/{i:02}" for i in range(10)))
        first, at, more = await store.range("/p/", limit=4)
        assert more and at == 10
        # The world moves on between pages...
        await store.delete("/p/05")
        await store.create("/p/055", b"new")
        current = await store.get("/p/07")
        await store.update("/p/07", b"changed", revision=current.mod_revision)
        pages = list(first)
        while more:
            page, read_at, more = await store.range("/p/", revision=at, limit=4, after=pages[-1].key)
            assert read_at == at
            pages += page
        # ...but the pages read at `at` are the list as it was then.
        assert keys(pages) == [f"/p/{i:02}" for i in range(10)]
        assert all(kv.value == b"v" for kv in pages)
        assert await store.count("/p/", revision=at, after=first[-1].key) == 6
        assert await store.count("/p/", after=first[-1].key) == 6  # 05 gone, 055 new

    # -- watch -------------------------------------------------------------------------------

    async def test_watch_from_zero_replays_every_event_with_previous_values(self, store: Store) -> None:
        c = await store.create("/w/a", b"v1")  # 1
        u = await store.update("/w/a", b"v2", revision=1)  # 2
        await store.delete("/w/a")  # 3
        r = await store.create("/w/a", b"v3")  # 4
        async with watching(store, "/w/", 0) as w:
            events = await take(w, 4)
        assert events[0] == Event("PUT", c, None)
        assert events[1] == Event("PUT", u, c)
        assert events[2].type == "DELETE"
        assert events[2].kv.key == "/w/a"
        assert events[2].kv.value == b""
        assert events[2].kv.mod_revision == events[2].revision == 3
        assert events[2].prev == u
        assert events[3] == Event("PUT", r, None)  # a new life: no previous value

    async def test_live_events_carry_the_same_shape_as_replayed_ones(self, store: Store) -> None:
        await store.create("/w/before", b"x")
        async with watching(store, "/w/", 1) as live:
            c = await store.create("/w/a", b"v1")
            u = await store.update("/w/a", b"v2", revision=c.mod_revision)
            d = await store.delete("/w/a")
            r = await store.create("/w/a", b"v3")
            live_events = await take(live, 4)
        async with watching(store, "/w/", 1) as replay:
            replayed = await take(replay, 4)
        assert live_events == replayed
        assert live_events[:2] == [Event("PUT", c, None), Event("PUT", u, c)]
        deleted = live_events[2]
        assert (deleted.type, deleted.revision, deleted.prev) == ("DELETE", d.mod_revision, u)
        assert live_events[3] == Event("PUT", r, None)

    async def test_watch_from_a_middle_revision_starts_right_after_it(self, store: Store) -> None:
        await fill(store, *(f"/m/{i}" for i in range(10)))
        for since in (0, 1, 5, 9):
            async with watching(store, "/m/", since) as w:
                events = await take_until(w, "/m/9")
            assert revisions(events) == list(range(since + 1, 11))

    async def test_watch_from_the_current_revision_sees_only_new_events(self, store: Store) -> None:
        await fill(store, "/n/1", "/n/2")
        async with watching(store, "/n/", await store.current_revision()) as w:
            new = await store.create("/n/3", b"v")
            assert await take(w, 1) == [Event("PUT", new, None)]

    async def test_watch_beyond_the_current_revision_starts_there(self, store: Store) -> None:
        await fill(store, "/n/1")
        async with watching(store, "/n/", 3) as w:
            await fill(store, "/n/2", "/n/3", "/n/4", "/n/5")
            assert revisions(await take(w, 2)) == [4, 5]

    async def test_watch_filters_by_prefix(self, store: Store) -> None:
        await fill(store, "/a/1", "/ab/1", "/b/1", "/a", "/a/2", "/a_/1")
        async with watching(store, "/a/", 0) as w:
            assert keys([e.kv for e in await take(w, 2)]) == ["/a/1", "/a/2"]
            await fill(store, "/ab/2", "/b/2", "/A/1", "/a_/2")
            await store.delete("/a")
            sentinel = await store.create("/a/3", b"v")
            assert await take(w, 1) == [Event("PUT", sentinel, None)]

    async def test_the_empty_prefix_watches_everything(self, store: Store) -> None:
        await fill(store, "/a", "b", "\U0010fffe")
        async with watching(store, "", 0) as w:
            await fill(store, "c")
            assert keys([e.kv for e in await take(w, 4)]) == ["/a", "b", "\U0010fffe", "c"]

    async def test_a_watch_on_a_single_key_prefix_sees_that_key(self, store: Store) -> None:
        async with watching(store, "/x/key", 0) as w:
            kv = await store.create("/x/key", b"1")
            await store.create("/x/ke", b"no")
            await store.update("/x/key", b"2", revision=kv.mod_revision)
            assert [e.kv.value for e in await take(w, 2)] == [b"1", b"2"]

    async def test_live_events_arrive_in_revision_order(self, store: Store) -> None:
        async with watching(store, "/o/", 0) as w:
            results = await asyncio.gather(*(store.create(f"/o/{i}", b"v") for i in range(200)))
            events = await take(w, 200)
        assert revisions(events) == list(range(1, 201))
        assert {e.kv for e in events} == set(results)

    async def test_many_watchers_see_the_same_stream(self, store: Store) -> None:
        await fill(store, "/s/0")
        watchers = [aiter(store.watch("/s/", since=0)) for _ in range(10)]
        try:
            firsts = await asyncio.gather(*(take(w, 1) for w in watchers))  # all subscribed
            assert all(revisions(f) == [1] for f in firsts)
            await asyncio.gather(*(store.create(f"/s/{i}", b"v") for i in range(1, 50)))
            streams = await asyncio.gather(*(take(w, 49) for w in watchers))
        finally:
            for w in watchers:
                await aclose(w)
        assert all(revisions(s) == list(range(2, 51)) for s in streams)

    async def test_watches_racing_writers_lose_and_duplicate_nothing(self, store: Store) -> None:
        """Watches opened (replay + live) while writers commit see every revision after `since` once."""
        writers, per_writer = 8, 60
        await fill(store, *(f"/race/pre/{i}" for i in range(20)))
        sentinel = "/race/zz-end"

        async def writer(w: int) -> None:
            for i in range(per_writer):
                kv = await store.create(f"/race/{w}/{i}", b"v")
                if i % 3 == 0:
                    await store.update(kv.key, b"u", revision=kv.mod_revision)
                if i % 7 == 0:
                    await asyncio.sleep(0.001)

        async def watcher(since: int) -> list[int]:
            seen: list[int] = []
            resume = since
            while True:
                try:
                    async with watching(store, "/race/", resume) as w:
                        async for event in w:
                            seen.append(event.revision)
                            resume = event.revision
                            if event.kv.key == sentinel:
                                return seen
                except WatchOverflow:  # allowed by the contract: re-watch from the last revision
                    continue

        writer_tasks = [asyncio.create_task(writer(w)) for w in range(writers)]
        watch_tasks: list[tuple[int, asyncio.Task[list[int]]]] = []
        for step in range(12):  # subscribe at staggered moments: from 0, now, and a bit in the past
            now = store.revision
            for since in {0, now, max(0, now - 7)}:
                watch_tasks.append((since, asyncio.create_task(watcher(since))))
            await asyncio.sleep(0.002 * step)
        await asyncio.gather(*writer_tasks)
        end = await store.create(sentinel, b"end")
        for since, task in watch_tasks:
            seen = await asyncio.wait_for(task, 30)
            assert seen == list(range(since + 1, end.mod_revision + 1)), f"watch since {since}"

    async def test_a_closed_watch_does_not_hold_back_writers(self, store: Store) -> None:
        await fill(store, "/c/0")
        watcher = aiter(store.watch("/c/", since=0))
        assert revisions(await take(watcher, 1)) == [1]
        await aclose(watcher)
        await asyncio.wait_for(asyncio.gather(*(store.create(f"/c/{i}", b"v") for i in range(1, 2001))), 60)
        assert await store.count("/c/") == 2001

    async def test_a_stalled_watcher_never_blocks_writers(self, store: Store) -> None:
        """A consumer that stops reading may be cut off (WatchOverflow) but never slows writes down."""
        await fill(store, "/st/0")
        async with watching(store, "/st/", 0) as w:
            assert revisions(await take(w, 1)) == [1]
            total = 3000
            for chunk in range(0, total, 500):
                batch = (store.create(f"/st/{i}", b"x" * 100) for i in range(chunk + 1, chunk + 501))
                await asyncio.wait_for(asyncio.gather(*batch), 60)
            seen = [1]
            with contextlib.suppress(WatchOverflow):
                while seen[-1] < total + 1:
                    seen.append((await asyncio.wait_for(anext(w), EVENT_TIMEOUT)).revision)
            assert seen == list(range(1, len(seen) + 1))  # whatever arrived before a cut-off is in order

    # -- compaction --------------------------------------------------------------------------

    async def _history(self, store: Store) -> dict[str, KeyValue]:
        """a: 1 create, 2 update, 6 update; b: 3 create, 4 delete; c: 5 create; d: 7 create, 8 delete."""
        kvs = {}
        a = await store.create("/h/a", b"a1")
        kvs["a2"] = await store.update("/h/a", b"a2", revision=a.mod_revision)
        await store.create("/h/b", b"b1")
        await store.delete("/h/b")
        kvs["c"] = await store.create("/h/c", b"c1")
        kvs["a6"] = await store.update("/h/a", b"a6", revision=2)
        await store.create("/h/d", b"d1")
        await store.delete("/h/d")
        return kvs

    async def test_compaction_forgets_old_revisions_and_keeps_the_latest_values(self, store: Store) -> None:
        kvs = await self._history(store)
        await store.compact(4)
        assert store.compact_revision == 4
        for revision in (1, 2, 3):
            for read in (
                lambda r=revision: store.get("/h/a", revision=r),
                lambda r=revision: store.range("/h/", revision=r),
                lambda r=revision: store.count("/h/", revision=r),
            ):
                with pytest.raises(Compacted) as err:
                    await read()
                assert (err.value.requested, err.value.compact_revision) == (revision, 4)
        # The compact revision itself and everything after it stay readable.
        assert keys((await store.range("/h/", revision=4))[0]) == ["/h/a"]
        assert await store.get("/h/a", revision=4) == kvs["a2"]
        assert await store.get("/h/a", revision=5) == kvs["a2"]
        assert await store.get("/h/c", revision=5) == kvs["c"]
        assert await store.get("/h/a", revision=7) == kvs["a6"]
        assert keys((await store.range("/h/", revision=7))[0]) == ["/h/a", "/h/c", "/h/d"]
        with pytest.raises(KeyNotFound):
            await store.get("/h/b", revision=4)
        items, at, _ = await store.range("/h/")
        assert (items, at) == ([kvs["a6"], kvs["c"]], 8)
        assert await store.count("/h/", revision=4) == 1

    async def test_watch_from_before_the_compact_revision_raises_compacted(self, store: Store) -> None:
        kvs = await self._history(store)
        await store.compact(4)
        for since in (0, 3):
            with pytest.raises(Compacted) as err:
                async with watching(store, "/h/", since) as w:
                    await anext(w)
            assert (err.value.requested, err.value.compact_revision) == (since, 4)
        async with watching(store, "/h/", 4) as w:  # the history after the compact revision is whole
            events = await take(w, 4)
        assert revisions(events) == [5, 6, 7, 8]
        assert events[1] == Event("PUT", kvs["a6"], kvs["a2"])
        assert events[3].type == "DELETE"
        assert events[3].prev == KeyValue("/h/d", b"d1", 7, 7)

    async def test_compacting_to_the_current_revision_keeps_every_live_key(self, store: Store) -> None:
        kvs = await self._history(store)
        before = await store.range("")
        await store.compact(8)
        assert await store.range("") == before
        assert await store.get("/h/a", revision=8) == kvs["a6"]
        async with watching(store, "", 8) as w:
            new = await store.create("/h/e", b"e")
            assert await take(w, 1) == [Event("PUT", new, None)]

    async def test_keys_whose_history_was_compacted_can_still_be_written(self, store: Store) -> None:
        kvs = await self._history(store)
        await store.compact(8)
        a = await store.update("/h/a", b"a9", revision=kvs["a6"].mod_revision)
        assert a == KeyValue("/h/a", b"a9", 9, 1)
        with pytest.raises(RevisionConflict):
            await store.update("/h/a", b"x", revision=2)
        assert (await store.delete("/h/c", revision=kvs["c"].mod_revision)).mod_revision == 10
        for name in ("/h/b", "/h/d", "/h/c"):
            kv = await store.create(name, b"again")
            assert kv.create_revision == kv.mod_revision
        async with watching(store, "/h/", 8) as w:
            events = await take(w, 5)
        assert events[0].prev == kvs["a6"]
        assert [e.type for e in events] == ["PUT", "DELETE", "PUT", "PUT", "PUT"]

    async def test_revision_numbering_continues_after_compaction(self, store: Store) -> None:
        await self._history(store)
        await store.compact(5)
        await store.compact(8)
        assert (await store.create("/h/next", b"n")).mod_revision == 9
        assert await store.current_revision() == 9

    async def test_revisions_are_never_reused_when_the_newest_keys_were_deleted_and_compacted(
        self, store: Store
    ) -> None:
        await fill(store, "/x/1", "/x/2", "/x/3")
        for name in ("/x/3", "/x/2", "/x/1"):  # the newest writes are all deletes
            await store.delete(name)
        await store.compact(6)
        assert await store.current_revision() == 6
        assert await store.range("") == ([], 6, False)
        assert (await store.create("/x/1", b"again")).mod_revision == 7

    async def test_compaction_never_moves_backwards(self, store: Store) -> None:
        await self._history(store)
        await store.compact(5)
        for older in (5, 3, 0):
            with contextlib.suppress(Compacted):  # a no-op or Compacted, as etcd answers
                await store.compact(older)
            assert store.compact_revision == 5
        with pytest.raises(Compacted):
            await store.get("/h/a", revision=4)
        assert (await store.get("/h/a", revision=5)).value == b"a2"

    async def test_compacting_past_the_current_revision_is_refused(self, store: Store) -> None:
        await self._history(store)
        with pytest.raises(FutureRevision):
            await store.compact(9)
        assert store.compact_revision == 0
        assert (await store.get("/h/a", revision=1)).value == b"a1"

    async def test_compaction_in_many_batches_keeps_exactly_the_live_keys(self, store: Store) -> None:
        # Far more revisions than one compaction batch (kine's is 1000), written concurrently.
        created = await asyncio.gather(*(store.create(f"/big/{i:04}", b"v") for i in range(1500)))
        updated = await asyncio.gather(*(store.update(kv.key, b"u", revision=kv.mod_revision) for kv in created[::2]))
        await asyncio.gather(*(store.delete(kv.key) for kv in created[1::4]))
        await asyncio.gather(*(store.delete(kv.key) for kv in updated[::3]))
        before = await store.range("/big/")
        head = await store.current_revision()
        assert head == 1500 + 750 + 375 + 250
        await store.compact(head - 1)
        assert await store.range("/big/") == before
        assert await store.count("/big/") == 1500 - 375 - 250
        async with watching(store, "/big/", head - 1) as w:
            assert revisions(await take(w, 1)) == [head]

    # -- reopening (file backends) -----------------------------------------------------------

    async def test_reopening_keeps_all_data_and_history(self, backend: Backend, store: Store) -> None:
        kvs = await self._history(store)
        before_range = await store.range("")
        async with watching(store, "", 0) as w:
            before_events = await take(w, 8)
        store = await backend.reopen(store)
        assert store.revision == await store.current_revision() == 8
        assert await store.range("") == before_range
        assert await store.get("/h/a", revision=2) == kvs["a2"]
        async with watching(store, "", 0) as w:
            assert await take(w, 8) == before_events
            new = await store.create("/h/new", b"n")
            assert new.mod_revision == 9
            assert await take(w, 1) == [Event("PUT", new, None)]

    async def test_reopening_keeps_the_compact_revision(self, backend: Backend, store: Store) -> None:
        kvs = await self._history(store)
        await store.compact(4)
        store = await backend.reopen(store)
        assert store.compact_revision == 4
        with pytest.raises(Compacted):
            await store.get("/h/a", revision=3)
        assert await store.get("/h/a", revision=4) == kvs["a2"]
        assert (await store.create("/h/new", b"n")).mod_revision == 9

    async def test_reopening_never_reuses_revisions_of_deleted_and_compacted_keys(
        self, backend: Backend, store: Store
    ) -> None:
        await fill(store, "/x/1", "/x/2")
        await store.delete("/x/2")
        await store.delete("/x/1")
        await store.compact(4)
        store = await backend.reopen(store)
        assert await store.current_revision() == 4
        assert store.revision == 4
        assert (await store.create("/x/2", b"again")).mod_revision == 5
        store = await backend.reopen(store)
        assert (await store.get("/x/2")).mod_revision == 5
        await store.delete("/x/2")
        await store.compact(6)
        store = await backend.reopen(store)
        assert (await store.create("/y", b"y")).mod_revision == 7

    async def test_writes_acknowledged_before_close_survive_it(self, backend: Backend, store: Store) -> None:
        results = await asyncio.gather(*(store.create(f"/ack/{i}", b"v%d" % i) for i in range(300)))
        store = await backend.reopen(store)
        assert await store.count("/ack/") == 300
        for kv in results[::37]:
            assert await store.get(kv.key) == kv

    async def test_work_pending_at_close_ends_instead_of_waiting_forever(self, backend: Backend, store: Store) -> None:
        """Writes and compactions racing close() succeed or fail (StoreError), but never hang."""
        await asyncio.gather(*(store.create(f"/q/{i}", b"v") for i in range(1500)))
        work: list[asyncio.Task[Any]] = [asyncio.create_task(store.compact(1400))]
        closing = asyncio.create_task(backend.close(store))
        for i in range(50):  # some land before close begins, some during it, some after
            work.append(asyncio.create_task(store.create(f"/late/{i}", b"v")))
            work.append(asyncio.create_task(store.delete(f"/q/{i}")))
            await asyncio.sleep(0.0005 * (i % 3))
        await asyncio.wait_for(closing, EVENT_TIMEOUT)
        done, pending = await asyncio.wait(work, timeout=EVENT_TIMEOUT)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        errors = [task.exception() for task in done]
        unexpected = [repr(e) for e in errors if e is not None and not isinstance(e, StoreError)]
        if pending:
            pytest.fail(f"{len(pending)} of {len(work)} calls were still waiting {EVENT_TIMEOUT} s after close()")
        assert not unexpected

    async def test_a_compaction_cut_short_by_close_leaves_no_deleted_key_alive(
        self, backend: Backend, store: Store
    ) -> None:
        """A long compaction interrupted midway (close, crash) must not let a later one resurrect keys."""
        if not backend.reopenable:
            pytest.skip("needs the same database after close")
        # Rows spread over several compaction batches (kine's batches are 1000 revisions).
        ic = await asyncio.gather(*(store.create(f"/ic/{j:03}", b"0") for j in range(500)))  # 1..500
        ic = await asyncio.gather(*(store.update(kv.key, b"1", revision=kv.mod_revision) for kv in ic))
        ic = await asyncio.gather(*(store.update(kv.key, b"2", revision=kv.mod_revision) for kv in ic))
        await asyncio.gather(*(store.create(f"/pad/{j:04}", b"p") for j in range(1500)))  # ..3000
        head = await store.current_revision()
        assert head == 3000
        compaction = asyncio.create_task(store.compact(2500))
        while store.compact_revision < 2500 and not compaction.done():
            await asyncio.sleep(0)
        store = await backend.reopen(store)  # closes while the compaction may still be deleting
        await _settle(compaction)  # (that it ends at all is test_work_pending_at_close_ends_...)
        assert store.compact_revision in (0, 2500)
        await asyncio.gather(*(store.delete(kv.key) for kv in ic))  # 3001..3500
        await store.compact(await store.current_revision())
        assert await store.range("/ic/") == ([], 3500, False)
        assert await store.count("") == 1500
        for j in (0, 250, 499):
            with pytest.raises(KeyNotFound):
                await store.get(f"/ic/{j:03}")
