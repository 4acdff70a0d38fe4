"""The store contract on the embedded SQLite backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.store.sqlite import SqliteJobStore
from tests.store_contract import StoreContract, test_the_contract_covers_the_whole_interface  # noqa: F401


class TestSqliteJobStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path):  # type: ignore[no-untyped-def]
        store = SqliteJobStore(tmp_path / "jobs.db")
        store.initialize_schema()
        yield store
        store.close()

    def test_the_database_is_in_wal_mode(self, store: SqliteJobStore) -> None:
        assert store.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
