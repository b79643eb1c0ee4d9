"""The log table and the per-dialect pieces: everything database-specific lives here.

One append-only table, as kine keeps it: every create, update and delete is a row whose `id`
is the global revision. Unlike kine, ids are assigned by the (single, locked) writer as
MAX(id)+1, so the log has no gaps and a watcher never has to wait for or skip a hole.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import tempfile
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    make_url,
)
from sqlalchemy.pool import QueuePool

log = logging.getLogger("storage")

metadata = MetaData()

# BigInteger on PostgreSQL; plain INTEGER on SQLite so `id` is the rowid (fast primary key).
_Revision = BigInteger().with_variant(Integer(), "sqlite")
# Byte-wise key order everywhere (prefix ranges rely on it): SQLite's default is BINARY already.
_Key = String().with_variant(String(collation="C"), "postgresql")

kv = Table(
    "kv",
    metadata,
    Column("id", _Revision, primary_key=True, autoincrement=False),
    Column("name", _Key, nullable=False),
    Column("create_revision", _Revision, nullable=False),
    Column("prev_revision", _Revision, nullable=False),  # 0 for a key's first create
    Column("deleted", Boolean, nullable=False),
    Column("value", LargeBinary, nullable=False),
)
# One index on the name serves both the guard and every by-name read: two writers replacing the
# same predecessor can't both commit (kine's optimistic guard), and a key's rows are found, newest
# id included, from the index alone (SQLite keeps the rowid `id` in every index entry; PostgreSQL is
# told to include it). A second index on (name, id) cost as much again per write: with keys spread
# over the name space, each commit rewrites one index leaf page per written key per index.
# (PostgreSQL's INCLUDE is added by create_schema: naming it here would import SQLAlchemy's PostgreSQL
# dialect into every SQLite server, ~20 ms of a ~0.3 s cold start.)
kv_name_prev = Index("kv_name_prev", kv.c.name, kv.c.prev_revision, unique=True)

kv_meta = Table(
    "kv_meta",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", _Revision, nullable=False),
)
COMPACT_KEY = "compact_revision"  # reads below it fail
PROGRESS_KEY = "compacted_through"  # deletions are done up to here (may lag after a crash)


def create_schema(engine: Engine) -> None:
    """The tables and index, where they are not yet."""
    if engine.dialect.name == "postgresql":
        kv_name_prev.dialect_kwargs["postgresql_include"] = ["id"]
    metadata.create_all(engine)


@dataclass(frozen=True)
class WriterSql:
    """The writer's hot statements as plain SQL for the dialect's DBAPI paramstyle.

    Run on the raw DBAPI cursor: SQLAlchemy's per-row parameter processing costs more than
    SQLite's insert itself, and these few statements are portable SQL.
    """

    begin: tuple[str, ...]  # what opens a write transaction holding the one write lock
    head: str
    insert: str  # (id, name, create_revision, prev_revision, deleted, value)
    marker: str
    seek_each: bool = False  # latest(): one index seek per name (SQLite) rather than IN ... GROUP BY

    def latest(self, count: int) -> str:
        """The newest row of each of `count` names. On SQLite one index seek per name: `name IN (...) GROUP BY
        name` took 4x as long there. Not on PostgreSQL, which may plan the correlated max(id) as a backward
        scan of the primary key filtered on the name: the whole table for a name with no rows (a create)."""
        if self.seek_each:
            names = ", ".join([f"({self.marker})"] * count)
            return ("SELECT name, id, create_revision, deleted, value FROM kv WHERE id IN (SELECT "
                    f"(SELECT max(id) FROM kv AS k WHERE k.name = n.column1) FROM (VALUES {names}) AS n)")
        marks = ", ".join([self.marker] * count)
        return ("SELECT name, id, create_revision, deleted, value FROM kv WHERE id IN "
                f"(SELECT max(id) FROM kv WHERE name IN ({marks}) GROUP BY name)")


def writer_sql(engine: Engine) -> WriterSql:
    marker = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    cols = "id, name, create_revision, prev_revision, deleted, value"
    if engine.dialect.name == "sqlite":
        begin: tuple[str, ...] = ("BEGIN IMMEDIATE",)  # take the write lock up front
    elif engine.dialect.name == "postgresql":
        begin = ("SELECT pg_advisory_xact_lock(7236)",)  # one writer across server replicas (any fixed key)
    else:
        begin = ()
    return WriterSql(
        begin=begin,
        head="SELECT max(id) FROM kv",
        insert=f"INSERT INTO kv ({cols}) VALUES ({', '.join([marker] * 6)})",
        marker=marker,
        seek_each=engine.dialect.name == "sqlite",
    )


# SQLite: how many pages (estimated) the writer writes between two checkpoints (SQLite's own
# default), the WAL size past which the WAL is made to start over, and past which a commit
# checkpoints inline after all (only if the checkpointer falls that far behind).
CHECKPOINT_PAGES = 1000
WAL_RESTART_PAGES = 4000
WAL_INLINE_CHECKPOINT_PAGES = 20000


class Checkpointer:
    """SQLite: WAL checkpoints beside the writer instead of inside its commits.

    A checkpoint copies the WAL into the database file and fsyncs both. SQLite runs one inside
    every commit that takes the WAL past 1000 pages, and the group commit waits for it (several
    times as long as the commit itself). Here a thread of its own copies what the commits added
    (PASSIVE: it takes no lock, so neither the writer nor readers wait for it). The WAL starts
    over only once a checkpoint has copied all of it, which a checkpoint running beside a busy
    writer seldom manages; so past WAL_RESTART_PAGES the writer itself, between two batches (its
    callers are being acknowledged meanwhile), copies the little that is left and the next commit
    starts the WAL from the beginning again. A commit survives kill -9 once it is in the WAL, so
    none of this changes durability.
    """

    def __init__(self, path: str, *, busy_timeout_ms: int) -> None:
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._wake = threading.Event()
        self._stopping = False
        self._finish = False  # the WAL is long: the writer should finish a checkpoint
        self._pending = 0  # pages written since the checkpointer was last woken
        self._thread = threading.Thread(target=self._run, name="store-checkpointer", daemon=True)
        self._thread.start()

    @property
    def unfinished(self) -> bool:
        """Whether the WAL has grown long: the committer should `finish` a checkpoint between two commits."""
        return self._finish

    def finish(self, writer: Any) -> None:
        """Copy the rest of the WAL on `writer`, the DBAPI connection that commits, between two of its commits
        (none can land beside it, so the copy can complete and the next commit starts the WAL over)."""
        try:
            cursor = writer.cursor()
            busy, _, _ = cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            cursor.close()
            self._finish = bool(busy)  # busy: the thread is copying; try again after the next batch
        except sqlite3.Error as err:
            log.debug("checkpoint: %s", err)

    def committed(self, writer: Any, pages: int) -> None:
        """After a commit of about `pages` pages, with the DBAPI connection that made it if the checkpoint is to
        be finished on it now (the writer thread's; the event loop hands that to the thread, see SQLStore)."""
        if self._finish and writer is not None:
            self.finish(writer)
            return
        self._pending += pages
        if self._pending >= CHECKPOINT_PAGES:
            self._pending = 0
            self._wake.set()

    def close(self) -> None:
        self._stopping = True
        self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False,
                                   timeout=self._busy_timeout_ms / 1000)
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=0")
        except sqlite3.Error as err:
            log.warning("no checkpointer (commits checkpoint past %d pages): %s", WAL_INLINE_CHECKPOINT_PAGES, err)
            return
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stopping:
                    break
                try:
                    _, pages, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    self._finish = pages >= WAL_RESTART_PAGES
                except sqlite3.Error as err:  # busy, or the disk: the next commit tries again
                    log.debug("checkpoint: %s", err)
        finally:
            conn.close()


@dataclass
class Database:
    """The engines for one URL: one connection for the writer, a pool for readers."""

    writer: Engine
    reader: Engine
    cleanup_dir: str | None = None
    checkpointer: Checkpointer | None = None
    dialect: str = field(init=False)
    sql: WriterSql = field(init=False)

    def __post_init__(self) -> None:
        self.dialect = self.writer.dialect.name
        self.sql = writer_sql(self.writer)

    def committed(self, writer: Any = None, pages: int = CHECKPOINT_PAGES) -> None:
        """Called by the writer thread after each commit of about `pages` pages, with its DBAPI
        connection if it has one (SQLite: checkpoints, see Checkpointer)."""
        if self.checkpointer is not None:
            self.checkpointer.committed(writer, pages)

    @property
    def unfinished_checkpoint(self) -> bool:
        return self.checkpointer is not None and self.checkpointer.unfinished

    def finish_checkpoint(self, writer: Any) -> None:
        if self.checkpointer is not None:
            self.checkpointer.finish(writer)

    def dispose(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.close()
            self.checkpointer = None
        self.writer.dispose()
        self.reader.dispose()
        if self.cleanup_dir:
            shutil.rmtree(self.cleanup_dir, ignore_errors=True)


def connect(url: str, *, busy_timeout_ms: int = 30_000) -> Database:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return Database(_engine(url, pool_size=2, begin=None), _engine(url, pool_size=8, begin=None))
    cleanup = None
    if parsed.database in (None, "", ":memory:"):
        # A throw-away store is a temporary file, not :memory:, so the writer and the readers
        # share it through WAL without shared-cache table locks.
        base = "/dev/shm" if os.path.isdir("/dev/shm") else None
        cleanup = tempfile.mkdtemp(prefix="mini-apiserver-", dir=base)
        parsed = parsed.set(database=os.path.join(cleanup, "store.db"))
    url = parsed.render_as_string(hide_password=False)
    # Three writer connections: the writer thread's raw one for group commits and one through SQLAlchemy
    # for its compaction jobs, and the event loop's raw one for the commits it makes itself (SQLStore).
    writer = _sqlite_engine(url, pool_size=3, begin="BEGIN IMMEDIATE", busy_timeout_ms=busy_timeout_ms)
    reader = _sqlite_engine(url, pool_size=8, begin="BEGIN", busy_timeout_ms=busy_timeout_ms)
    db = Database(writer, reader, cleanup)
    with writer.connect():  # creates the file (in WAL mode) before the checkpointer opens it
        pass
    db.checkpointer = Checkpointer(str(parsed.database), busy_timeout_ms=busy_timeout_ms)
    return db


def _engine(url: str, *, pool_size: int, begin: str | None) -> Engine:
    return create_engine(url, poolclass=QueuePool, pool_size=pool_size, max_overflow=0, pool_pre_ping=False)


def _sqlite_engine(url: str, *, pool_size: int, begin: str, busy_timeout_ms: int) -> Engine:
    engine = create_engine(
        url,
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=0,
        connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (SQLAlchemy's pysqlite recipe)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a commit survives kill -9 (only power loss can drop the last ones).
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")  # kine's default is 30 s
        cur.execute(f"PRAGMA wal_autocheckpoint={WAL_INLINE_CHECKPOINT_PAGES}")  # see Checkpointer
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # The writer takes the write lock up front, so its reads and writes see one state.
        conn.exec_driver_sql(begin)

    return engine
