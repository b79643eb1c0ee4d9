"""Child process for test_crash.py: write to a file store until killed with SIGKILL.

    python -m tests.storage.crash_writer DB_PATH SEED [--compact]

Prints `ready <revision>` once the store is open, then one line per ACKNOWLEDGED write,
`<op> <key> <revision> <value>` (op is create, update or delete; a delete's value is `-`),
flushed as one write() so a kill never leaves a torn line behind an acknowledged one.
With --compact it also compacts the history every so often, so kills land mid-compaction too.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys

from storage import open_store
from storage.interface import KeyExists, KeyNotFound, RevisionConflict, Store

WRITERS = 16
SHARED_KEYS = 40  # few enough that writers collide (conflicts, recreates after deletes)
KEEP = 300  # revisions the --compact task leaves uncompacted


def emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def writer(store: Store, w: int, rng: random.Random) -> None:
    n = 0
    while True:
        n += 1
        value = f"{os.getpid()}.{w}.{n}." + "x" * rng.randrange(300)
        if rng.random() < 0.1:  # a fresh key nobody else writes
            key = f"/crash/own/{os.getpid()}/{w}/{n}"
            kv = await store.create(key, value.encode())
            emit(f"create {key} {kv.mod_revision} {value}")
            continue
        key = f"/crash/shared/{rng.randrange(SHARED_KEYS)}"
        try:
            current = await store.get(key)
        except KeyNotFound:
            try:
                kv = await store.create(key, value.encode())
            except KeyExists:
                continue
            emit(f"create {key} {kv.mod_revision} {value}")
            continue
        roll = rng.random()
        try:
            if roll < 0.75:
                kv = await store.update(key, value.encode(), revision=current.mod_revision)
                emit(f"update {key} {kv.mod_revision} {value}")
            else:
                conditional = current.mod_revision if roll < 0.9 else None
                deleted = await store.delete(key, revision=conditional)
                emit(f"delete {key} {deleted.mod_revision} -")
        except (RevisionConflict, KeyNotFound):
            continue


async def compactor(store: Store) -> None:
    while True:
        await asyncio.sleep(0.1)
        target = store.revision - KEEP
        if target > store.compact_revision:
            await store.compact(target)


async def main(path: str, seed: int, compact: bool) -> None:
    store = open_store(f"sqlite:///{path}")
    await store.start()
    emit(f"ready {store.revision} {store.compact_revision}")
    tasks = [writer(store, w, random.Random(seed * 1000 + w)) for w in range(WRITERS)]
    if compact:
        tasks.append(compactor(store))
    await asyncio.gather(*tasks)  # until SIGKILL


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), "--compact" in sys.argv[3:]))
