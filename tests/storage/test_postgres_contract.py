"""The store contract against PostgreSQL: the same code as on SQLite, the dialect's differences behind it.

Each test gets a schema of its own in the database at $MINI_APISERVER_TEST_POSTGRES (default: the local
server with trust auth, database `test`). Without a reachable server the tests are skipped, except in CI
(`CI` set), where they must run.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import sqlalchemy
from sqlalchemy.exc import OperationalError

pytest.register_assert_rewrite("tests.storage.contract")

from storage.schema import create_schema  # noqa: E402
from tests.storage.contract import Backend, StoreContract  # noqa: E402

URL = os.environ.get("MINI_APISERVER_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="module")
def admin() -> Iterator[sqlalchemy.Engine]:
    engine = sqlalchemy.create_engine(URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            pass
    except OperationalError as err:
        if os.environ.get("CI"):
            raise  # never skipped in CI
        pytest.skip(f"no PostgreSQL at {URL}: {err}")
    yield engine
    engine.dispose()


@contextlib.contextmanager
def _scratch_schema(admin: sqlalchemy.Engine, prefix: str) -> Iterator[str]:
    """A new, empty schema of its own, dropped with all it holds afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield schema
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")


class TestPostgresStore(StoreContract):
    @pytest.fixture
    async def backend(self, admin: sqlalchemy.Engine) -> AsyncIterator[Backend]:
        with _scratch_schema(admin, "contract") as schema:
            async with Backend(f"{URL}?options=-csearch_path%3D{schema}", reopenable=True) as backend:
                yield backend


def test_the_name_index_includes_the_id(admin: sqlalchemy.Engine) -> None:
    """By-name reads find a key's newest id from the index alone (schema.py); the INCLUDE is added only
    when the schema is created on PostgreSQL."""
    with _scratch_schema(admin, "index") as schema:
        engine = sqlalchemy.create_engine(URL, connect_args={"options": f"-csearch_path={schema}"})
        try:
            create_schema(engine)
            with engine.connect() as conn:
                (indexdef,) = conn.exec_driver_sql(
                    "SELECT indexdef FROM pg_indexes WHERE indexname = 'kv_name_prev' AND schemaname = %(s)s",
                    {"s": schema}).one()
        finally:
            engine.dispose()
    assert indexdef.endswith("(name, prev_revision) INCLUDE (id)"), indexdef
