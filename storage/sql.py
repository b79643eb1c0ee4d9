"""SQLStore: the revisioned store on SQLAlchemy Core.

Writes are group-committed: the writes that arrive while the one before is committed go in one
transaction, and each caller is acknowledged only after the commit. On SQLite they are committed
on the event loop itself, once per loop iteration, while the writer thread is idle: a commit there
costs its CPU time alone, where the writer thread paid a wait for the GIL at each of its calls
into SQLite (the loop holds it while it serves requests), and the thread's commits, not the loop,
set the pace. When the write lock is held elsewhere (a compaction job, another process), the
writes go to the writer thread, which waits for the lock (the busy timeout) off the loop; so does
every write on other databases, whose commits are network round trips. Reads run in a thread pool
on their own connections (WAL: readers never wait for the writer). Committed events are fanned
out to watchers on the loop; a watch replays history from the log first and drops the live events
it has already replayed (kine's subscribe-replay-deduplicate order).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from storage.interface import (
    Compacted,
    Event,
    FutureRevision,
    KeyExists,
    KeyNotFound,
    KeyValue,
    RevisionConflict,
    StoreError,
    StoreUnavailable,
    WatchOverflow,
)
from storage.schema import COMPACT_KEY, PROGRESS_KEY, Database, WriterSql, connect, create_schema, kv, kv_meta

log = logging.getLogger("storage")

MAX_BATCH = 500  # writes per transaction; kine polls in batches of 500 too
HISTORY_PAGE = 1000  # rows per replay query, so a long replay never holds one read open for long
# Events a watcher may have queued before it is cut off. The apiserver's watch cache is the
# usual (and prompt) consumer; one group commit alone can publish MAX_BATCH events at once.
WATCH_BUFFER = 20 * MAX_BATCH
COMPACT_BATCH = 1000  # revisions per compaction transaction (kine's --compact-batch-size)
COMPACT_WINDOW = 300.0  # seconds of history kept: kube-apiserver compacts every 5 minutes
COMPACT_INTERVAL = 60.0  # how often the compactor samples the revision and runs


# A queued write, a plain tuple (the hot path makes one per write): (op, key, value, expected
# revision or None, the caller's future).
_CREATE, _UPDATE, _DELETE = 0, 1, 2
_Write = tuple[int, str, bytes, int | None, "asyncio.Future[KeyValue]"]


@dataclass(slots=True)
class _Job:
    """Any other work that must hold the write lock (compaction batches)."""

    fn: Callable[[Connection], Any]
    future: asyncio.Future[Any]


# A key's newest row as the writer sees it: (its revision, its create revision, its value), the
# value None for a tombstone.
_Latest = tuple[int, int, bytes | None]
# What the writer returns for a committed write: (its revision, the key's create revision, the
# key's row it replaced or None). The loop makes the KeyValues and Events from it.
_Committed = tuple[int, int, _Latest | None]


_STOP = object()


class _Finish:
    """The writer thread finishes a WAL checkpoint (see SQLStore._finish_checkpoint)."""


_FINISH = _Finish()


_Get = tuple[str, int | None, "asyncio.Future[KeyValue]"]  # key, revision, the caller's future


@dataclass(eq=False)
class _Subscriber:
    prefix: str
    events: deque[Event] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    overflowed: bool = False


class SQLStore:
    """See storage.interface.Store for the contract."""

    def __init__(
        self,
        url: str,
        *,
        compact_window: float = COMPACT_WINDOW,
        compact_interval: float = COMPACT_INTERVAL,
        watch_buffer: int = WATCH_BUFFER,
        busy_timeout: float = 30.0,
        inline_commits: bool = True,
    ) -> None:
        self.url = url
        self.compact_window = compact_window
        self.compact_interval = compact_interval
        self.watch_buffer = watch_buffer
        self.busy_timeout = busy_timeout  # seconds a write waits for a lock held by another process
        self._db: Database | None = None
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subs: set[_Subscriber] = set()
        self._revision = 0
        self._compact_revision = 0
        self._compactor: asyncio.Task[None] | None = None
        self._unfinished_compaction = False
        self._wconn: Any = None  # the writer thread's own DBAPI connection
        self.inline_commits = inline_commits  # SQLite: commit on the loop while the writer thread is idle
        self._inline = False  # whether this store does (set by start: SQLite only)
        self._iconn: Any = None  # the loop's DBAPI connection for those commits (busy timeout 0)
        self._pending: list[_Write] = []  # writes waiting for the loop's next commit (_flush)
        self._in_thread = 0  # writes and jobs handed to the writer thread and not yet answered
        self._finishing = False  # a checkpoint's finish is handed to the writer thread
        self._gets: list[_Get] = []  # gets waiting for the next batch (see get)
        self._getting = False  # a batch of gets is being read

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._db = await asyncio.to_thread(self._open)
        self._inline = self.inline_commits and self._db.dialect == "sqlite"
        self._thread = threading.Thread(target=self._writer_loop, name="store-writer", daemon=True)
        self._thread.start()
        if self.compact_interval > 0:
            self._compactor = asyncio.create_task(self._compact_periodically())

    def _open(self) -> Database:
        db = connect(self.url, busy_timeout_ms=int(self.busy_timeout * 1000))
        create_schema(db.writer)
        with db.reader.begin() as conn:
            self._revision = self._head(conn)
            self._compact_revision = self._read_compact_revision(conn)
            self._unfinished_compaction = _get_meta(conn, PROGRESS_KEY) < self._compact_revision
        return db

    async def close(self) -> None:
        if self._compactor:
            self._compactor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._compactor
        if self._thread:
            while self._pending:  # writes accepted before the close still commit
                self._flush()
            thread, self._thread = self._thread, None  # new writes fail from here on
            self._queue.put(_STOP)  # writes queued before it still commit
            await asyncio.to_thread(thread.join)
            while True:  # anything that slipped in behind the stop is refused, not left waiting
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if isinstance(item, _Job):
                    _resolve(item.future, None, StoreUnavailable("store is closed"))
                elif isinstance(item, tuple):
                    _resolve(item[4], None, StoreUnavailable("store is closed"))
        if self._iconn is not None:
            with contextlib.suppress(Exception):
                self._iconn.invalidate()
            self._iconn = None
        for sub in list(self._subs):
            sub.overflowed = True  # ends their iterators
            sub.wake.set()
        if self._db:
            self._db.dispose()
            self._db = None

    @property
    def revision(self) -> int:
        return self._revision

    @property
    def compact_revision(self) -> int:
        return self._compact_revision

    # ---- reads -----------------------------------------------------------------------------

    async def _read(self, fn: Callable[[Connection], Any]) -> Any:
        assert self._db is not None, "store not started"
        db = self._db

        def run() -> Any:
            try:
                with db.reader.begin() as conn:
                    return fn(conn)
            except SQLAlchemyError as err:
                raise _unavailable(err) from err

        return await asyncio.to_thread(run)

    @staticmethod
    def _head(conn: Connection) -> int:
        return int(conn.execute(_HEAD).scalar() or 0)

    @staticmethod
    def _read_compact_revision(conn: Connection) -> int:
        return _get_meta(conn, COMPACT_KEY)

    def _read_revision(self, conn: Connection, revision: int | None) -> int:
        """The revision to read at, checked against compaction in the same snapshot."""
        head = self._head(conn)
        if revision is None or revision == 0:
            return head
        if revision > head:
            raise FutureRevision(revision, head)
        compacted = self._read_compact_revision(conn)
        if revision < compacted:
            raise Compacted(revision, compacted)
        return revision

    async def current_revision(self) -> int:
        return int(await self._read(self._head))

    async def get(self, key: str, *, revision: int | None = None) -> KeyValue:
        """Gets are read in batches, as writes are committed: the gets that arrive while one batch is being
        read make the next, read in one transaction on one trip to a reader thread. Per get, the thread
        hop and the transaction cost several times the query itself."""
        assert self._loop is not None, "store not started"
        fut: asyncio.Future[KeyValue] = self._loop.create_future()
        self._gets.append((key, revision, fut))
        if not self._getting:
            self._getting = True
            self._read_gets()
        return await fut

    def _read_gets(self) -> None:
        gets, self._gets = self._gets, []
        if self._db is None:
            for _, _, fut in gets:
                _resolve(fut, None, StoreUnavailable("store is closed"))
            self._getting = False
            return
        assert self._loop is not None
        db = self._db

        def run() -> list[KeyValue | StoreError]:
            try:
                with db.reader.begin() as conn:
                    return self._get_batch(gets, conn)
            except SQLAlchemyError as err:
                raise _unavailable(err) from err

        try:
            future = self._loop.run_in_executor(None, run)
        except RuntimeError as err:  # the executor is shut down: the loop is closing
            future = self._loop.create_future()
            future.set_exception(StoreUnavailable(f"store is closing: {err}"))
        future.add_done_callback(lambda done: self._got(gets, done))

    def _get_batch(self, gets: list[_Get], conn: Connection) -> list[KeyValue | StoreError]:
        """Each get of the batch, or the store error it gets; all at one snapshot."""
        head = self._head(conn)
        compacted: int | None = None
        out: list[KeyValue | StoreError] = []
        for key, revision, _ in gets:
            at = head
            if revision:
                if compacted is None:
                    compacted = self._read_compact_revision(conn)
                if revision > head:
                    out.append(FutureRevision(revision, head))
                    continue
                if revision < compacted:
                    out.append(Compacted(revision, compacted))
                    continue
                at = revision
            if "\x00" in key:  # no key holds one (storage.interface)
                out.append(KeyNotFound(key))
                continue
            row = conn.execute(_GET, {"name": key, "at": at}).first()
            out.append(KeyNotFound(key) if row is None or row.deleted
                       else KeyValue(key, row.value, row.id, row.create_revision))
        return out

    def _got(self, gets: list[_Get], done: asyncio.Future[list[KeyValue | StoreError]]) -> None:
        error = StoreUnavailable("store is closed") if done.cancelled() else done.exception()
        results: list[KeyValue | BaseException] = [error] * len(gets) if error is not None else [*done.result()]
        for (_, _, fut), result in zip(gets, results, strict=True):
            if isinstance(result, BaseException):
                _resolve(fut, None, result)
            else:
                _resolve(fut, result, None)
        if self._gets:
            self._read_gets()  # those that arrived meanwhile
        else:
            self._getting = False

    def _latest_in_range(self, prefix: str, after: str, at: int) -> Any:
        conds = [*_under(prefix), kv.c.id <= at]
        if after:
            conds.append(kv.c.name > after)
        return select(func.max(kv.c.id).label("mid")).where(*conds).group_by(kv.c.name).subquery()

    async def range(
        self, prefix: str, *, revision: int | None = None, limit: int = 0, after: str = ""
    ) -> tuple[list[KeyValue], int, bool]:
        after = _cut_at_nul(after)

        def run(conn: Connection) -> tuple[list[KeyValue], int, bool]:
            at = self._read_revision(conn, revision)
            if "\x00" in prefix:  # no key holds one (storage.interface)
                return [], at, False
            latest = self._latest_in_range(prefix, after, at)
            query = (
                select(kv.c.name, kv.c.id, kv.c.create_revision, kv.c.value)
                .join(latest, kv.c.id == latest.c.mid)
                .where(kv.c.deleted.is_(False))
                .order_by(kv.c.name)
            )
            if limit > 0:
                query = query.limit(limit + 1)
            rows = conn.execute(query).all()
            more = limit > 0 and len(rows) > limit
            items = [KeyValue(r.name, r.value, r.id, r.create_revision) for r in rows[: limit or None]]
            return items, at, more

        result: tuple[list[KeyValue], int, bool] = await self._read(run)
        return result

    async def count(self, prefix: str, *, revision: int | None = None, after: str = "") -> int:
        after = _cut_at_nul(after)

        def run(conn: Connection) -> int:
            at = self._read_revision(conn, revision)
            if "\x00" in prefix:
                return 0
            latest = self._latest_in_range(prefix, after, at)
            query = (
                select(func.count())
                .select_from(kv)
                .join(latest, kv.c.id == latest.c.mid)
                .where(kv.c.deleted.is_(False))
            )
            return int(conn.execute(query).scalar() or 0)

        result: int = await self._read(run)
        return result

    # ---- writes ----------------------------------------------------------------------------

    def _submit(self, item: _Write | _Job | _Finish) -> None:
        """Hand a write or a job to the writer thread (on the loop: _in_thread counts it)."""
        if self._thread is None:
            raise StoreUnavailable("store is closed")
        self._queue.put(item)
        self._in_thread += 1

    def _write(self, op: int, key: str, value: bytes, expected: int | None) -> asyncio.Future[KeyValue]:
        _check_key(key)
        assert self._loop is not None, "store not started"
        fut: asyncio.Future[KeyValue] = self._loop.create_future()
        if not self._inline:
            self._submit((op, key, value, expected, fut))
        elif self._thread is None:
            raise StoreUnavailable("store is closed")
        else:
            self._pending.append((op, key, value, expected, fut))
            if len(self._pending) == 1:  # the first since the last commit: commit after what is ready to run
                self._loop.call_soon(self._flush)
        return fut

    def _flush(self) -> None:
        """On the loop: commit the pending writes here, or behind what the writer thread has (its order is
        the revisions' order), or there when the write lock is held elsewhere (it waits; the loop must not)."""
        writes, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        if self._pending:  # the rest in the next turn (a watcher's buffer is sized for batches of MAX_BATCH)
            assert self._loop is not None
            self._loop.call_soon(self._flush)
        if not writes:
            return
        if not self._in_thread:
            outcome = self._commit_writes(writes, inline=True)
            if outcome is not None:
                self._deliver(writes, outcome)
                self._after_commit(None, _pages(writes))
                self._finish_checkpoint()
                return
        for w in writes:
            try:
                self._submit(w)
            except StoreUnavailable as err:
                _resolve(w[4], None, err)

    def _finish_checkpoint(self) -> None:
        """A long WAL is copied by the writer thread, not here: copying the rest of it and syncing took the loop
        1-9 ms. Writes arriving meanwhile queue behind it there (_in_thread), so no commit lands beside it."""
        assert self._db is not None
        if self._finishing or not self._db.unfinished_checkpoint:
            return
        try:
            self._submit(_FINISH)
        except StoreUnavailable:
            return
        self._finishing = True

    def _finished(self) -> None:
        self._in_thread -= 1
        self._finishing = False

    def _from_thread(self, writes: list[_Write], outcome: list[_Committed | StoreError] | StoreError) -> None:
        self._in_thread -= len(writes)
        self._deliver(writes, outcome)

    def _job_done(self, future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
        self._in_thread -= 1
        _resolve(future, result, error)

    async def create(self, key: str, value: bytes) -> KeyValue:
        return await self._write(_CREATE, key, value, None)

    async def update(self, key: str, value: bytes, *, revision: int) -> KeyValue:
        return await self._write(_UPDATE, key, value, revision)

    async def delete(self, key: str, *, revision: int | None = None) -> KeyValue:
        return await self._write(_DELETE, key, b"", revision)

    def _writer_loop(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)
            writes: list[_Write] = [b for b in batch if type(b) is tuple]
            if writes:
                outcome = self._commit_writes(writes)
                assert outcome is not None  # only an inline commit defers
                self._call_in_loop(self._from_thread, writes, outcome)
                self._after_commit(self._wconn, _pages(writes))
            if len(writes) < len(batch):
                for job in batch:
                    if isinstance(job, _Job):
                        self._run_job(job)
                    elif job is _FINISH:
                        self._run_finish()
        if self._wconn is not None:
            self._wconn.close()
            self._wconn = None

    def _after_commit(self, conn: Any, pages: int) -> None:
        """The database's upkeep after a commit on `conn` of about `pages` pages."""
        try:
            if self._db is not None:
                self._db.committed(conn, pages)
        except Exception as err:  # the writer thread must survive it
            log.warning("after a commit: %s", err)

    def _call_in_loop(self, fn: Callable[..., None], *args: Any) -> None:
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the loop closed under us: nobody is waiting
            self._loop.call_soon_threadsafe(fn, *args)

    def _commit_writes(self, writes: list[_Write], *, inline: bool = False
                       ) -> list[_Committed | StoreError] | StoreError | None:
        """Apply a batch in one transaction: per-write results, or one error for the whole batch. Inline (on
        the loop, SQLite): None, nothing done, when another connection holds the write lock."""
        assert self._db is not None
        sql = self._db.sql
        try:
            conn = (self._iconn if inline else self._wconn) or self._writer_connection(inline=inline)
            cursor = conn.cursor()
            try:
                for statement in sql.begin:
                    cursor.execute(statement)
            except sqlite3.OperationalError as err:
                if inline and err.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY:  # and its extended codes
                    cursor.close()
                    return None
                raise
            cursor.execute(sql.head)
            rev = int(cursor.fetchone()[0] or 0)
            latest = _load_latest(cursor, sql, {w[1] for w in writes})
            results: list[_Committed | StoreError] = []
            rows: list[tuple[Any, ...]] = []
            for op, key, value, expected, _ in writes:
                current = latest.get(key)
                if current is not None and current[2] is None:
                    current = None  # a tombstone: the key is absent
                if op == _CREATE:
                    if current is not None:
                        results.append(KeyExists(key))
                        continue
                    rev += 1
                    create = rev
                elif current is None:
                    results.append(KeyNotFound(key))
                    continue
                elif expected is not None and expected != current[0]:
                    results.append(RevisionConflict(key, _kv(key, current)))
                    continue
                else:
                    rev += 1
                    create = current[1]
                deleted = op == _DELETE
                # A re-create points at the tombstone, so (name, prev_revision) stays unique.
                prev_id = latest[key][0] if key in latest else 0
                rows.append((rev, key, create, prev_id, deleted, value))  # a delete's value is b""
                results.append((rev, create, current))
                latest[key] = (rev, create, None if deleted else value)
            if rows:
                cursor.executemany(sql.insert, rows)
            cursor.close()
            conn.commit()
            return results
        except Exception as err:  # the writer thread (and the loop) must survive anything the database throws
            log.error("write batch of %d failed: %s", len(writes), err)
            self._drop_writer_connection(inline=inline)
            return _unavailable(err)

    def _writer_connection(self, *, inline: bool) -> Any:
        assert self._db is not None
        conn = self._db.writer.raw_connection()
        if inline:
            self._iconn = conn  # first: a failing pragma drops it (_drop_writer_connection), not leaks it
            cursor = conn.cursor()
            cursor.execute("PRAGMA busy_timeout=0")  # busy: the writer thread waits instead
            cursor.close()
        else:
            self._wconn = conn
        return conn

    def _drop_writer_connection(self, *, inline: bool = False) -> None:
        """After a failure: roll back and start the next batch on a fresh connection."""
        if inline:
            conn, self._iconn = self._iconn, None
        else:
            conn, self._wconn = self._wconn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.rollback()
            with contextlib.suppress(Exception):  # the loop's (busy timeout 0) is closed, not pooled for a job
                conn.invalidate() if inline else conn.close()

    def _deliver(self, writes: list[_Write], outcome: list[_Committed | StoreError] | StoreError) -> None:
        """On the event loop: publish the committed events, then acknowledge the callers.

        Both happen in this one callback, so no caller resumes before the events are published.
        Events are made only when someone is subscribed: a watcher that subscribes later reads
        these writes from the log (they are committed) instead.
        """
        if isinstance(outcome, StoreError):
            for w in writes:
                _resolve(w[4], None, outcome)
            return
        events: list[Event] | None = [] if self._subs else None
        acks: list[tuple[asyncio.Future[KeyValue], KeyValue]] = []
        for (op, key, value, _, fut), result in zip(writes, outcome, strict=True):
            if isinstance(result, StoreError):
                _resolve(fut, None, result)
                continue
            rev, create, prev = result
            if op == _DELETE:
                assert prev is not None
                replaced = _kv(key, prev)
                ack = KeyValue(key, replaced.value, rev, create)  # the deleted value at the delete's revision
                if events is not None:
                    events.append(Event("DELETE", KeyValue(key, b"", rev, create), replaced))
            else:
                ack = KeyValue(key, value, rev, create)
                if events is not None:
                    events.append(Event("PUT", ack, None if prev is None else _kv(key, prev)))
            acks.append((fut, ack))
            if rev > self._revision:
                self._revision = rev
        if events:
            self._publish(events)
        # After publishing: the watchers' wake-ups are queued first, so a subscriber such as the apiserver's
        # watch cache has applied the batch before any writer resumes (its wait for the cache is then free).
        for fut, ack in acks:
            _resolve(fut, ack, None)

    def _publish(self, events: list[Event]) -> None:
        for sub in self._subs:
            if sub.overflowed:
                continue
            matched = [e for e in events if e.kv.key.startswith(sub.prefix)]
            if not matched:
                continue
            if len(sub.events) + len(matched) > self.watch_buffer:
                sub.overflowed = True
                sub.events.clear()
            else:
                sub.events.extend(matched)
            sub.wake.set()

    # ---- watch -----------------------------------------------------------------------------

    async def watch(self, prefix: str, *, since: int) -> AsyncIterator[Event]:
        _check_key(prefix)
        sub = _Subscriber(prefix)
        self._subs.add(sub)  # live events from now on are buffered
        try:
            last = since
            while True:  # replay what is already committed, page by page
                page: list[Event] = await self._read(partial(self._history, prefix=prefix, since=since, after=last))
                for event in page:
                    yield event
                    last = event.revision
                if len(page) < HISTORY_PAGE:
                    break
            while True:
                while sub.events:
                    event = sub.events.popleft()
                    if event.revision > last:
                        last = event.revision
                        yield event
                if sub.overflowed:
                    raise WatchOverflow(f"watcher on {prefix} fell more than {self.watch_buffer} events behind")
                sub.wake.clear()
                await sub.wake.wait()
        finally:
            self._subs.discard(sub)

    def _history(self, conn: Connection, *, prefix: str, since: int, after: int) -> list[Event]:
        compacted = self._read_compact_revision(conn)
        if since < compacted:
            raise Compacted(since, compacted)
        prev = kv.alias("prev")
        rows = conn.execute(
            select(
                kv.c.id, kv.c.name, kv.c.create_revision, kv.c.deleted, kv.c.value,
                prev.c.id.label("p_id"), prev.c.create_revision.label("p_create"),
                prev.c.deleted.label("p_deleted"), prev.c.value.label("p_value"),
            )
            .outerjoin(prev, prev.c.id == kv.c.prev_revision)
            .where(kv.c.id > after, *_under(prefix))
            .order_by(kv.c.id)
            .limit(HISTORY_PAGE)
        ).all()
        return [_event(r) for r in rows]

    # ---- compaction ------------------------------------------------------------------------

    async def _job(self, fn: Callable[[Connection], Any]) -> Any:
        assert self._loop is not None
        fut: asyncio.Future[Any] = self._loop.create_future()
        self._submit(_Job(fn, fut))
        return await fut

    def _run_finish(self) -> None:
        assert self._db is not None
        try:
            self._db.finish_checkpoint(self._wconn or self._writer_connection(inline=False))
        except Exception as err:  # the writer thread must survive it; the next commit tries again
            log.warning("finishing a checkpoint: %s", err)
        self._call_in_loop(self._finished)

    def _run_job(self, job: _Job) -> None:
        assert self._db is not None
        try:
            with self._db.writer.begin() as conn:
                result = job.fn(conn)
            self._db.committed()
            self._call_in_loop(self._job_done, job.future, result, None)
        except (SQLAlchemyError, StoreError) as err:
            error = err if isinstance(err, StoreError) else _unavailable(err)
            self._call_in_loop(self._job_done, job.future, None, error)

    async def compact(self, revision: int) -> None:
        """Mark `revision` compacted first (reads below it fail from now on), then delete in batches.

        Each batch records how far it got, so a compaction cut short by a crash is finished by the
        next one instead of leaving superseded rows that would reappear as live values.
        """

        def mark(conn: Connection) -> tuple[int, int]:
            head = self._head(conn)
            if revision > head:
                raise FutureRevision(revision, head)
            target = max(revision, self._read_compact_revision(conn))
            _set_meta(conn, COMPACT_KEY, target)
            return _get_meta(conn, PROGRESS_KEY), target

        done, target = await self._job(mark)
        self._compact_revision = max(self._compact_revision, target)
        for lo in range(done, target, COMPACT_BATCH):
            await self._job(partial(_compact_batch, lo=lo, hi=min(lo + COMPACT_BATCH, target)))

    async def _compact_periodically(self) -> None:
        if self._unfinished_compaction:  # a crash cut the last one short
            await self.compact(self._compact_revision)
        samples: deque[tuple[float, int]] = deque()
        while True:
            await asyncio.sleep(self.compact_interval)
            now = time.monotonic()
            samples.append((now, self._revision))
            target = 0
            while samples and samples[0][0] <= now - self.compact_window:
                target = samples.popleft()[1]
            if target > self._compact_revision:
                try:
                    await self.compact(target)
                except StoreError as err:
                    log.warning("compaction to %d failed: %s", target, err)


def _check_key(key: str) -> None:
    if "\x00" in key:
        raise ValueError(f"store keys may not contain NUL: {key!r}")


def _cut_at_nul(after: str) -> str:
    """A start-after key up to its first NUL: as no key holds one, the keys after both are the same."""
    nul = after.find("\x00")
    return after if nul < 0 else after[:nul]


def _pages(writes: list[_Write]) -> int:
    """About how many pages a batch writes: an index leaf per row, and the values."""
    return len(writes) + sum(len(w[2]) for w in writes) // 4096


def _kv(key: str, row: _Latest) -> KeyValue:
    """The live value of a key's newest row (not a tombstone)."""
    assert row[2] is not None
    return KeyValue(key, row[2], row[0], row[1])


def _load_latest(cursor: Any, sql: WriterSql, keys: set[str]) -> dict[str, _Latest]:
    found: dict[str, _Latest] = {}
    names = list(keys)
    for i in range(0, len(names), 500):  # stay well under SQLite's bound-parameter limit
        chunk = names[i : i + 500]
        cursor.execute(sql.latest(len(chunk)), chunk)
        for name, rev, create_revision, deleted, value in cursor.fetchall():
            found[name] = (rev, create_revision, None if deleted else bytes(value))
    return found


def _event(r: Any) -> Event:  # a result Row
    prev = None
    if r.p_id is not None and not r.p_deleted and r.create_revision != r.id:
        prev = KeyValue(r.name, r.p_value, r.p_id, r.p_create)
    kvp = KeyValue(r.name, r.value, r.id, r.create_revision)
    return Event("DELETE" if r.deleted else "PUT", kvp, prev)


def _compact_batch(conn: Connection, *, lo: int, hi: int) -> None:
    """Delete rows superseded by a write in (lo, hi], and tombstones there; never the newest row."""
    superseded = select(kv.c.prev_revision).where(kv.c.id > lo, kv.c.id <= hi, kv.c.prev_revision > 0)
    conn.execute(delete(kv).where(kv.c.id.in_(superseded)))
    newest = select(func.max(kv.c.id)).scalar_subquery()
    conn.execute(delete(kv).where(and_(kv.c.deleted.is_(True), kv.c.id > lo, kv.c.id <= hi, kv.c.id < newest)))
    _set_meta(conn, PROGRESS_KEY, hi)


# The hot reads, built once (building a statement cost more than running it).
_HEAD = select(func.max(kv.c.id))
# A key's newest id from the name index alone, then that one row.
_GET = select(kv.c.id, kv.c.create_revision, kv.c.deleted, kv.c.value).where(
    kv.c.id == select(func.max(kv.c.id)).where(kv.c.name == bindparam("name"), kv.c.id <= bindparam("at"))
    .scalar_subquery()
)
_META = select(kv_meta.c.value).where(kv_meta.c.name == bindparam("name"))


def _get_meta(conn: Connection, name: str) -> int:
    return int(conn.execute(_META, {"name": name}).scalar() or 0)


def _set_meta(conn: Connection, name: str, value: int) -> None:
    if conn.execute(update(kv_meta).where(kv_meta.c.name == name).values(value=value)).rowcount == 0:
        conn.execute(insert(kv_meta).values(name=name, value=value))


def _resolve(fut: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if fut.done():
        return
    if error is not None:
        fut.set_exception(error)
    else:
        fut.set_result(result)


def _under(prefix: str) -> list[Any]:
    """Conditions for `name` starting with `prefix`, as an index-friendly range."""
    conds: list[Any] = [kv.c.name >= prefix]
    stem = prefix.rstrip("\U0010ffff")
    if stem:  # the smallest string above every string that starts with the prefix
        conds.append(kv.c.name < stem[:-1] + chr(ord(stem[-1]) + 1))
    return conds


def _unavailable(err: Exception) -> StoreUnavailable:
    orig = err.orig if isinstance(err, DBAPIError) else err
    return StoreUnavailable(f"database error: {orig}")
