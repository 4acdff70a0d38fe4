"""Moving up: copy a SQLite history into PostgreSQL, so a team keeps its jobs when it grows.

Every job, chunk, event, API token and retrieval passage (with its vector) is copied as it is (ids, times,
revisions), in one transaction on the target, which must be empty. Job files stay where they are
(``PAPERLINE_HOME/jobs``); hosts that share that directory see them.
"""

from __future__ import annotations

from pipeline.store.postgres import PostgresJobStore
from pipeline.store.sql.passages import PASSAGE_COLUMNS
from pipeline.store.sql.schema import CHUNK_COLUMNS, EVENT_COLUMNS, JOB_COLUMNS
from pipeline.store.sql.tokens import TOKEN_COLUMNS
from pipeline.store.sqlite import SqliteJobStore

TABLES = (
    ("jobs", JOB_COLUMNS + ", rev", "created_at"),
    ("chunks", CHUNK_COLUMNS + ", rev", "job_id, idx"),
    ("events", EVENT_COLUMNS, "id"),
    ("api_tokens", TOKEN_COLUMNS + ", digest", "created_at"),
    ("passages", PASSAGE_COLUMNS + ", vector", "job_id, idx"),
)
BATCH = 1000


class TargetNotEmpty(Exception):
    pass


def copy_history(source: SqliteJobStore, target: PostgresJobStore) -> dict[str, int]:
    """Copy jobs, chunks and events from ``source`` into the empty ``target``; returns rows copied per table."""
    source.initialize_schema()  # an older history gains the columns added since, so every column can be read
    target.initialize_schema()
    copied: dict[str, int] = {}
    with source.transaction(write=False) as read, target.transaction() as write:
        counted = write.execute("SELECT COUNT(*) FROM jobs").fetchone()
        existing = counted[0] if counted is not None else 0
        if existing:
            raise TargetNotEmpty(f"the target database already holds {existing} jobs; migrate into an empty one")
        for table, columns, order in TABLES:
            marks = ", ".join("?" for _ in columns.split(","))
            rows = read.execute(f"SELECT {columns} FROM {table} ORDER BY {order}").fetchall()
            for start in range(0, len(rows), BATCH):
                batch = [tuple(row) for row in rows[start : start + BATCH]]
                write.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", batch)
            copied[table] = len(rows)
        revision = read.execute("SELECT value FROM revision WHERE id = 1").fetchone()[0]
        write.execute("UPDATE revision SET value = ? WHERE id = 1", (revision,))
        # New events continue after the copied ones.
        write.execute(
            "SELECT setval(pg_get_serial_sequence('events', 'id'), GREATEST((SELECT MAX(id) FROM events), 1))"
        )
    return copied
