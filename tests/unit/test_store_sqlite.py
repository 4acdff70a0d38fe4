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


def test_the_newest_step_is_read_from_the_step_files_as_alembic_reads_it() -> None:
    from pipeline.store import migrations
    from pipeline.store.migrations.upgrade import alembic_head

    assert migrations.head() == alembic_head() != ""
    assert all(migrations.STEP_FILE.match(p.name) for p in migrations.VERSIONS.glob("*.py")), (
        "every step file is named NNNN_what.py, NNNN its revision"
    )


def test_a_current_store_opens_with_one_query_and_without_alembic(tmp_path: Path) -> None:
    """Every command opens the store: when its schema is current, neither alembic nor SQLAlchemy is imported and the
    version is read with one statement; an older one is still upgraded (above)."""
    import subprocess
    import sys

    path = tmp_path / "jobs.db"
    SqliteJobStore(path).initialize_schema()  # made and upgraded here
    probe = (
        "import sys\n"
        "from pipeline.store.sqlite import SqliteJobStore\n"
        "statements = []\n"
        f"store = SqliteJobStore({str(path)!r})\n"
        "store._count_statement = statements.append\n"
        "store.initialize_schema()\n"
        "print(sorted({'alembic', 'sqlalchemy'} & set(sys.modules)), [s for s in statements if 'alembic' in s])\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[] ['SELECT version_num FROM alembic_version']"
