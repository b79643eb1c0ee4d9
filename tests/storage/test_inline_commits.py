"""SQLite commits on the event loop (SQLStore._flush), and their way around a write lock held elsewhere."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from storage import schema
from storage.interface import Event
from storage.sql import MAX_BATCH, SQLStore


@pytest.fixture
async def db(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


@pytest.fixture
async def store(db: Path) -> AsyncIterator[SQLStore]:
    s = SQLStore(f"sqlite:///{db}", busy_timeout=10.0, compact_interval=0)
    await s.start()
    try:
        yield s
    finally:
        await s.close()


def _hold_lock(db: Path, release: threading.Event, held: threading.Event) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    held.set()
    release.wait(30)
    conn.execute("COMMIT")
    conn.close()


@contextlib.asynccontextmanager
async def _lock_held_elsewhere(db: Path) -> AsyncIterator[None]:
    """SQLite's write lock, held by another connection (on a thread of its own) until the block ends."""
    release, held = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(db, release, held))
    holder.start()
    try:
        assert await asyncio.to_thread(held.wait, 10)
        yield
    finally:
        release.set()
        await asyncio.to_thread(holder.join)


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.001)


async def test_writes_commit_on_the_loop_without_the_writer_thread(store: SQLStore) -> None:
    kvs = await asyncio.gather(*(store.create(f"/k/{i}", b"v") for i in range(20)))
    assert sorted(kv.mod_revision for kv in kvs) == list(range(1, 21))
    assert store._wconn is None, "the writer thread never opened its connection"


async def test_a_write_waits_for_a_lock_held_elsewhere_without_stalling_the_loop(store: SQLStore, db: Path) -> None:
    await store.create("/before", b"1")
    async with _lock_held_elsewhere(db):
        write = asyncio.ensure_future(store.create("/during", b"2"))
        started = time.perf_counter()
        await asyncio.sleep(0.05)
        assert time.perf_counter() - started < 1.0, "the loop waited for the lock (the busy timeout is 10 s)"
        assert not write.done(), "the write waits for the lock"
    kv = await asyncio.wait_for(write, 10)
    assert kv.mod_revision == 2
    assert (await store.get("/during")).value == b"2"
    after = await store.create("/after", b"3")  # the thread is idle again: back on the loop
    assert after.mod_revision == 3


async def test_writes_around_a_lock_taken_again_and_again_keep_revision_order(store: SQLStore, db: Path) -> None:
    """Writes that reach the writer thread (the lock was held) and later ones committed on the loop again: a
    watcher subscribed before them all sees every revision live, once, in order."""
    events: list[Event] = []
    stream = store.watch("/w/", since=0)

    async def consume() -> None:
        async for ev in stream:
            events.append(ev)

    consumer = asyncio.ensure_future(consume())
    handed = inline_commits = 0  # writes handed to the writer thread; commits made on the loop
    submit, commit = store._submit, store._commit_writes

    def counting_submit(item: object) -> None:
        nonlocal handed
        handed += isinstance(item, tuple)
        submit(item)  # type: ignore[arg-type]

    def counting_commit(writes: list[Any], *, inline: bool = False) -> Any:
        nonlocal inline_commits
        outcome = commit(writes, inline=inline)
        inline_commits += inline and outcome is not None
        return outcome

    store._submit = counting_submit  # type: ignore[method-assign]
    store._commit_writes = counting_commit  # type: ignore[method-assign]
    done = False

    async def writer(w: int) -> None:  # a client: one write at a time
        i = 0
        while not done:
            await store.create(f"/w/{w}/{i}", b"x")
            i += 1

    async def producer() -> None:  # writes that don't wait for the ones before (up to 100 in flight)
        in_flight = asyncio.Semaphore(100)

        async def one(i: int) -> None:
            async with in_flight:
                await store.create(f"/w/p/{i}", b"y")

        tasks, i = [], 0
        while not done:
            await in_flight.acquire()
            in_flight.release()
            tasks.append(asyncio.ensure_future(one(i)))
            i += 1
            await asyncio.sleep(0)
        await asyncio.gather(*tasks)

    await _until(lambda: bool(store._subs))  # subscribed before the first write
    writers = [asyncio.ensure_future(writer(w)) for w in range(20)] + [asyncio.ensure_future(producer())]
    try:
        for _ in range(3):  # the lock is taken elsewhere while writes keep coming, then let go
            seen = handed
            async with _lock_held_elsewhere(db):
                await _until(lambda seen=seen: handed > seen)  # writes went to the waiting thread
            committed = inline_commits
            await _until(lambda committed=committed: inline_commits > committed)  # then the loop again
    finally:
        done = True
        await asyncio.wait_for(asyncio.gather(*writers), 30)
    head = store.revision
    await _until(lambda: len(events) >= head)
    consumer.cancel()
    assert [ev.kv.mod_revision for ev in events] == list(range(1, head + 1))


async def test_a_flush_commits_at_most_a_batch_at_a_time(store: SQLStore) -> None:
    """Many writes in one turn of the loop commit in transactions of at most MAX_BATCH: a watcher's buffer is
    sized for batches that size."""
    sizes: list[int] = []
    commit = store._commit_writes

    def recording(writes: list[Any], *, inline: bool = False) -> Any:
        sizes.append(len(writes))
        return commit(writes, inline=inline)

    store._commit_writes = recording  # type: ignore[method-assign]
    kvs = await asyncio.gather(*(store.create(f"/b/{i}", b"v") for i in range(2 * MAX_BATCH + 7)))
    assert sorted(kv.mod_revision for kv in kvs) == list(range(1, 2 * MAX_BATCH + 8))
    assert sizes == [MAX_BATCH, MAX_BATCH, 7]


async def test_a_long_wal_is_finished_by_the_writer_thread_while_writes_queue_behind_it(
        db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Copying the rest of a long WAL (and syncing) took the loop 1-9 ms: the loop hands it to the writer
    thread, and the writes that arrive meanwhile commit there after it, in order."""
    monkeypatch.setattr(schema, "CHECKPOINT_PAGES", 8)  # small thresholds: a few batches make the WAL "long"
    monkeypatch.setattr(schema, "WAL_RESTART_PAGES", 16)
    finished_on: list[int] = []
    finish = schema.Checkpointer.finish

    def spy(self: schema.Checkpointer, writer: Any) -> None:
        finished_on.append(threading.get_ident())
        finish(self, writer)

    monkeypatch.setattr(schema.Checkpointer, "finish", spy)
    s = SQLStore(f"sqlite:///{db}", busy_timeout=10.0, compact_interval=0)
    await s.start()
    try:
        value = b"x" * 3000
        for batch in range(40):
            kvs = await asyncio.gather(*(s.create(f"/k/{batch:02}/{i:02}", value) for i in range(20)))
            assert sorted(kv.mod_revision for kv in kvs) == list(range(batch * 20 + 1, batch * 20 + 21))
        await _until(lambda: not s._in_thread)
        assert finished_on, "the WAL never grew long enough to be finished"
        assert threading.get_ident() not in finished_on, "a checkpoint was finished on the event loop"
        assert s._iconn is not None, "the loop committed too"
        items, _, _ = await s.range("/k/")
        assert len(items) == 800
    finally:
        await s.close()
