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

    def test_an_older_database_gains_the_attempt_columns(self, tmp_path: Path) -> None:
        """A job store from before attempt budgets (no ``step_recoveries``, no ``attempt_base``) opens with new
        code: the columns are added at start, zero for every existing row."""
        import sqlite3

        from tests.store_contract import new_job

        path = tmp_path / "old.db"
        old = SqliteJobStore(path)
        old.initialize_schema()
        old.create(new_job())
        old.close()
        with sqlite3.connect(path) as conn:
            conn.execute("ALTER TABLE jobs DROP COLUMN step_recoveries")
            conn.execute("ALTER TABLE chunks DROP COLUMN attempt_base")
        conn.execute("DROP TABLE alembic_version")  # releases before migrations kept no version
        store = SqliteJobStore(path)
        store.initialize_schema()
        job = store.get("job1")
        assert job is not None and job.step_recoveries == 0
        store.close()
