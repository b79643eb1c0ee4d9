"""An acknowledged write survives kill -9, and a restart never reuses or skips a revision.

A child process (`crash_writer.py`) writes as fast as it can and prints every acknowledged
write; we SIGKILL it at random moments, over and over on the same database, and after each
kill reopen the store and check the log against everything ever acknowledged.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from storage import open_store
from storage.interface import Event, KeyValue, Store

ROOT = Path(__file__).resolve().parents[2]
CYCLES = 12
COMPACTING_FROM = 7  # cycles before this one run without compaction, so history is checked from 0
STARTUP_TIMEOUT = 30.0  # seconds for the child to import and open the store (slow CI machines)


@dataclass(frozen=True)
class Ack:
    op: str
    key: str
    revision: int
    value: bytes | None  # None for a delete
    cycle: int


@dataclass
class Child:
    acks: list[Ack]
    ready: tuple[int, int] | None  # (revision, compact revision) the child opened the store at


async def run_child(db: Path, cycle: int, seed: int, rng: random.Random, log: Path) -> Child:
    args = [sys.executable, "-m", "tests.storage.crash_writer", str(db), str(seed)]
    if cycle >= COMPACTING_FROM:
        args.append("--compact")
    with log.open("wb") as stderr:
        proc = await asyncio.create_subprocess_exec(*args, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=stderr)
    assert proc.stdout is not None
    lines: list[str] = []
    ready = asyncio.Event()

    async def read() -> None:
        assert proc.stdout is not None
        while line := await proc.stdout.readline():
            if line.endswith(b"\n"):  # a torn last line was never acknowledged
                lines.append(line.decode())
                ready.set()

    reader = asyncio.create_task(read())
    try:
        if cycle % 4 == 3:  # now and then, kill it anywhere: while starting, recovering, or writing
            await asyncio.sleep(rng.uniform(0.05, 0.8))
        else:
            await asyncio.wait_for(ready.wait(), STARTUP_TIMEOUT)
            await asyncio.sleep(rng.uniform(0.2, 1.0))
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
        await reader
    assert proc.returncode == -signal.SIGKILL, f"child exited by itself:\n{log.read_text()}"
    child = Child([], None)
    for line in lines:
        fields = line.split()
        if fields[0] == "ready":
            child.ready = (int(fields[1]), int(fields[2]))
            continue
        op, key, revision, value = fields
        child.acks.append(Ack(op, key, int(revision), None if op == "delete" else value.encode(), cycle))
    return child


async def replay(store: Store, since: int, until: int) -> list[Event]:
    events: list[Event] = []
    if until == since:
        return events
    watcher = aiter(store.watch("/crash/", since=since))
    try:
        while not events or events[-1].revision < until:
            events.append(await asyncio.wait_for(anext(watcher), 30))
    finally:
        await watcher.aclose()  # type: ignore[attr-defined]
    return events


async def check(store: Store, acks: list[Ack], fresh: list[Ack]) -> None:
    current = await store.current_revision()
    compacted = store.compact_revision
    assert store.revision == current

    # Nothing duplicated: no revision acknowledged twice, in this process or any earlier one.
    revisions = [a.revision for a in acks]
    assert len(revisions) == len(set(revisions))
    assert max(revisions, default=0) <= current

    # No gaps: every revision after the compacted prefix is in the log, once, in order (every
    # write the children make is under /crash/).
    events = await replay(store, compacted, current)
    assert [e.revision for e in events] == list(range(compacted + 1, current + 1))

    # The log is one consistent history: each event's prev is the state just before it, and
    # folding the events over the state at the compact revision gives the state now.
    state: dict[str, KeyValue] = {}
    if compacted:
        state = {kv.key: kv for kv in (await store.range("/crash/", revision=compacted))[0]}
    for e in events:
        assert e.prev == state.get(e.kv.key), e
        if e.type == "DELETE":
            del state[e.kv.key]
        else:
            assert e.kv.create_revision == (e.prev.create_revision if e.prev else e.revision)
            state[e.kv.key] = e.kv
    items, at, _ = await store.range("/crash/")
    assert at == current
    assert items == [state[k] for k in sorted(state)]

    # Every acknowledged write is in the log exactly as acknowledged (unless compacted away).
    by_revision = {e.revision: e for e in events}
    for a in acks:
        if a.revision <= compacted:
            continue
        e = by_revision[a.revision]
        assert e.kv.key == a.key, a
        if a.op == "delete":
            assert e.type == "DELETE", a
        else:
            assert (e.type, e.kv.value) == ("PUT", a.value), a
            assert (e.prev is None) == (a.op == "create"), a
    for a in fresh:  # and readable at its revision, through get()
        if a.revision >= compacted and a.value is not None:
            assert (await store.get(a.key, revision=a.revision)).value == a.value


@pytest.mark.slow
async def test_acknowledged_writes_survive_kill_9_and_revisions_are_never_reused(tmp_path: Path) -> None:
    seed = int(os.environ.get("CRASH_SEED", random.randrange(1 << 30)))
    print(f"CRASH_SEED={seed}")  # shown with a failure, to replay it
    rng = random.Random(seed)
    db = tmp_path / "crash.db"
    url = f"sqlite:///{db}"
    acks: list[Ack] = []
    newest_seen = 0  # the newest revision the database held after the previous kill
    compacted_seen = 0
    for cycle in range(CYCLES):
        child = await run_child(db, cycle, seed + cycle, rng, tmp_path / f"child-{cycle}.log")
        if child.ready is not None:  # a restart resumes exactly where the killed process stopped
            assert child.ready == (newest_seen, compacted_seen), f"seed {seed}, cycle {cycle}"
        if child.acks:  # the new process's first revision is past everything committed before
            assert min(a.revision for a in child.acks) > newest_seen, f"seed {seed}, cycle {cycle}"
        acks += child.acks
        store = open_store(url)
        await store.start()
        try:
            await check(store, acks, child.acks)
            newest_seen = await store.current_revision()
            compacted_seen = store.compact_revision
            print(f"cycle {cycle}: {len(child.acks)} acks, at {newest_seen}, compacted {compacted_seen}")
        finally:
            await store.close()
    assert len(acks) > 1000, "the children wrote too little for this test to mean much"
    assert compacted_seen > 0, "the compacting cycles never compacted"
