"""SQLite commits on the event loop (SQLStore._flush), and their way around a write lock held elsewhere."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from storage.interface import Event, KeyValue
from storage.sql import SQLStore


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


async def test_writes_commit_on_the_loop_without_the_writer_thread(store: SQLStore) -> None:
    kvs = await asyncio.gather(*(store.create(f"/k/{i}", b"v") for i in range(20)))
    assert sorted(kv.mod_revision for kv in kvs) == list(range(1, 21))
    assert store._wconn is None, "the writer thread never opened its connection"


async def test_a_write_waits_for_a_lock_held_elsewhere_without_stalling_the_loop(store: SQLStore, db: Path) -> None:
    await store.create("/before", b"1")
    release, held = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(db, release, held))
    holder.start()
    try:
        assert await asyncio.to_thread(held.wait, 10)
        write = asyncio.ensure_future(store.create("/during", b"2"))
        started = time.perf_counter()
        await asyncio.sleep(0.05)
        assert time.perf_counter() - started < 1.0, "the loop waited for the lock (the busy timeout is 10 s)"
        assert not write.done(), "the write waits for the lock"
    finally:
        release.set()
        await asyncio.to_thread(holder.join)
    kv = await asyncio.wait_for(write, 10)
    assert kv.mod_revision == 2
    assert (await store.get("/during")).value == b"2"
    after = await store.create("/after", b"3")  # the thread is idle again: back on the loop
    assert after.mod_revision == 3


async def test_writes_around_a_lock_taken_again_and_again_keep_revision_order(store: SQLStore, db: Path) -> None:
    """Writes that reach the writer thread (the lock was held) and later ones committed on the loop: every
    watcher sees each write once, in revision order, and each caller's revision is its write's event."""
    events: list[Event] = []
    stream = store.watch("/w/", since=store.revision)  # every event after it
    handed = 0  # writes handed to the writer thread
    submit = store._submit

    def counting(item: object) -> None:
        nonlocal handed
        handed += isinstance(item, tuple)
        submit(item)  # type: ignore[arg-type]

    store._submit = counting  # type: ignore[method-assign]
    acks: list[KeyValue] = []
    done = False

    async def writer(w: int) -> None:
        i = 0
        while not done:
            acks.append(await store.create(f"/w/{w}/{i}", f"{w}-{i}".encode()))
            i += 1

    async def wait_until(condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(10):
            while not condition():
                await asyncio.sleep(0.001)

    writers = [asyncio.ensure_future(writer(w)) for w in range(20)]
    try:
        for _ in range(3):  # the lock is taken elsewhere while writes keep coming, then let go
            seen = handed
            release, held = threading.Event(), threading.Event()
            holder = threading.Thread(target=_hold_lock, args=(db, release, held))
            holder.start()
            assert await asyncio.to_thread(held.wait, 10)
            await wait_until(lambda seen=seen: handed > seen)  # writes went to the waiting thread
            release.set()
            await asyncio.to_thread(holder.join)
            inline = len(acks) - handed
            await wait_until(lambda inline=inline: len(acks) - handed > inline)  # and then on the loop again
    finally:
        done = True
        await asyncio.wait_for(asyncio.gather(*writers), 30)

    async for ev in stream:
        events.append(ev)
        if len(events) == len(acks):
            break
    revisions = [ev.kv.mod_revision for ev in events]
    assert revisions == sorted(revisions) and len(set(revisions)) == len(revisions)
    assert {(kv.key, kv.mod_revision) for kv in acks} == {(ev.kv.key, ev.kv.mod_revision) for ev in events}
