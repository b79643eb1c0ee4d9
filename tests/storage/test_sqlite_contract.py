"""The store contract against SQLite: a database file, a throw-away `sqlite://` store, and a file store whose
commits all go through its writer thread."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.storage.contract")

from storage.interface import Store  # noqa: E402
from storage.sql import SQLStore  # noqa: E402
from tests.storage.contract import Backend, StoreContract  # noqa: E402


class TestSqliteFileStore(StoreContract):
    @pytest.fixture
    async def backend(self, tmp_path: Path) -> AsyncIterator[Backend]:
        async with Backend(f"sqlite:///{tmp_path / 'store.db'}", reopenable=True) as backend:
            yield backend


class TestThrowawaySqliteStore(StoreContract):
    @pytest.fixture
    async def backend(self) -> AsyncIterator[Backend]:
        async with Backend("sqlite://", reopenable=False) as backend:
            yield backend


class TestSqliteStoreCommittingOnItsWriterThreadOnly(StoreContract):
    """The path every write takes on other databases, and on SQLite when the write lock is held elsewhere."""

    @pytest.fixture
    async def backend(self, tmp_path: Path) -> AsyncIterator[Backend]:
        def opener(url: str) -> Store:
            return SQLStore(url, inline_commits=False)

        async with Backend(f"sqlite:///{tmp_path / 'store.db'}", reopenable=True, opener=opener) as backend:
            yield backend
