"""The store contract against SQLite: a database file, and a throw-away `sqlite://` store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.storage.contract")

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
