"""Storage faults: a full disk, a read-only filesystem and a lock held by another process.

Each gives clients a 503 `Status` (never a 500 or a hang), loses nothing acknowledged, and the
server recovers by itself once the fault is gone. The disk faults use a small tmpfs this test
mounts (root only: skipped elsewhere, but CI runs as root and must run them).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import event

from apiserver.app import create_app
from apiserver.server import Server
from apiserver.settings import Settings
from storage import open_store

CM = "/api/v1/namespaces/default/configmaps"


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "fs"
    mount.mkdir()
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], check=True,
                       capture_output=True)
    except (subprocess.CalledProcessError, FileNotFoundError) as err:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"cannot mount a tmpfs here: {err}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False, capture_output=True)


def remount(mount: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(mount)], check=True, capture_output=True)


@contextlib.asynccontextmanager
async def api_on(db: Path, *, busy_timeout: float = 30.0) -> AsyncIterator[tuple[httpx.AsyncClient, Server]]:
    settings = Settings(database=f"sqlite:///{db}", compact_interval=0)
    server = Server(settings, store=open_store(settings.database, compact_interval=0, busy_timeout=busy_timeout))
    app = create_app(settings, server)
    await server.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            yield client, server
    finally:
        await server.stop()


def configmap(name: str, size: int = 0) -> dict[str, object]:
    return {"metadata": {"name": name}, "data": {"blob": "x" * size}}


def assert_unavailable(resp: httpx.Response) -> None:
    assert resp.status_code == 503, resp.text
    body = resp.json()
    assert body["kind"] == "Status" and body["reason"] == "ServiceUnavailable" and body["code"] == 503
    assert "storage is unavailable" in body["message"]


async def test_a_full_disk_is_503_loses_nothing_and_recovers(tmpfs: Path) -> None:
    async with api_on(tmpfs / "store.db") as (client, _):
        acknowledged: list[str] = []
        failure = None
        for i in range(100):  # 3 MiB of tmpfs fills after a few dozen 100 KiB objects
            resp = await client.post(CM, json=configmap(f"c{i}", 100_000))
            if resp.status_code != 201:
                failure = resp
                break
            acknowledged.append(f"c{i}")
        assert failure is not None, "the disk never filled"
        assert_unavailable(failure)
        for name in acknowledged:  # nothing acknowledged is lost or corrupted
            assert (await client.get(f"{CM}/{name}")).status_code == 200
        remount(tmpfs, "size=64m")
        resp = await client.post(CM, json=configmap("after", 100_000))
        assert resp.status_code == 201, resp.text
    # and the database is intact on reopening
    conn = sqlite3.connect(tmpfs / "store.db")
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()


async def test_a_read_only_database_is_503_for_writes_reads_go_on_and_it_recovers(tmp_path: Path) -> None:
    # As root, file modes don't stop writes and a busy filesystem can't be remounted read-only,
    # so SQLite itself is made read-only (query_only): the same SQLITE_READONLY error path.
    async with api_on(tmp_path / "store.db") as (client, server):
        assert (await client.post(CM, json=configmap("before"))).status_code == 201
        engine = server.store._db.writer  # type: ignore[attr-defined]

        def read_only(dbapi_conn: object, _record: object) -> None:
            dbapi_conn.execute("PRAGMA query_only = ON")  # type: ignore[attr-defined]

        event.listen(engine, "connect", read_only)
        engine.dispose()  # every writer connection from now on is read-only
        server.store._drop_writer_connection()  # type: ignore[attr-defined]
        server.store._drop_writer_connection(inline=True)  # type: ignore[attr-defined]  # the loop's own
        try:
            assert_unavailable(await client.post(CM, json=configmap("refused")))
            assert_unavailable(await client.post(CM, json=configmap("refused-again")))
            assert (await client.get(f"{CM}/before")).status_code == 200
            assert (await client.get(f"{CM}/refused")).status_code == 404
        finally:
            event.remove(engine, "connect", read_only)
            engine.dispose()
        resp = await client.post(CM, json=configmap("after"))
        assert resp.status_code == 201, resp.text


async def test_a_lock_held_by_another_process_is_503_then_recovers(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    async with api_on(db, busy_timeout=0.3) as (client, _):
        assert (await client.post(CM, json=configmap("before"))).status_code == 201
        holder = subprocess.Popen(
            ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1], isolation_level=None); "
             "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); sys.stdin.read()", str(db)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
            assert_unavailable(await client.post(CM, json=configmap(f"x{uuid.uuid4().hex[:6]}")))
            assert (await client.get(f"{CM}/before")).status_code == 200, "reads are served meanwhile"
        finally:
            holder.communicate("", timeout=10)
        resp = await client.post(CM, json=configmap("after"))
        assert resp.status_code == 201, resp.text


async def test_a_store_that_is_down_at_start_answers_requests_with_a_status_not_a_hang(tmp_path: Path) -> None:
    """A request that cannot finish gets kube's 504 after the server-side request timeout."""
    settings = Settings(database="sqlite://", compact_interval=0, request_timeout=0.2)
    app = create_app(settings)
    server = app.state.server
    await server.start()
    try:
        async def stuck(*_args: object, **_kwargs: object) -> object:
            import asyncio

            await asyncio.sleep(5)
            raise AssertionError("not reached")

        server.resources.create = stuck  # type: ignore[method-assign]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            resp = await client.post(CM, json=configmap("slow"))
        assert resp.status_code == 504
        body = resp.json()
        assert body["reason"] == "Timeout"
        assert body["message"] == "Timeout: request did not complete within requested timeout - context deadline exceeded"
    finally:
        await server.stop()
