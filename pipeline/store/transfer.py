"""Moving up: copy a SQLite history into PostgreSQL, so a team keeps its jobs when it grows.

Every batch, job, chunk, event, API token, retrieval passage (with its vector), webhook subscription (with its
secret), callback secret, delivery, delivery attempt and day of answer costs is copied as it is (ids, times,
revisions), in one transaction on the target, which must be empty. Job files stay where they are
(``PAPERLINE_HOME/jobs``); hosts that share that directory see them.
"""

from __future__ import annotations

from pipeline.store.postgres import PostgresJobStore
from pipeline.store.sqlite import SqliteJobStore

# Each table in the order its rows are copied (a chunk's job first), with the order rows are read in. Every column
# is copied: after initialize_schema both databases are at the same migration, so their columns are the same
# (PostgreSQL's jobs.seq, numbering jobs as SQLite's rowid does, fills itself in copying order).
TABLES = (
    ("batches", "created_at"),
    ("jobs", "created_at"),
    ("chunks", "job_id, idx"),
    ("events", "id"),
    ("api_tokens", "created_at"),
    ("passages", "job_id, idx"),
    ("webhook_subscriptions", "created_at, id"),
    ("webhook_secrets", '"user"'),
    ("webhook_deliveries", "created_at, id"),
    ("webhook_attempts", "id"),
    ("ask_usage", 'day, "user"'),
)
BATCH = 1000


class TargetNotEmpty(Exception):
    pass


def copy_history(source: SqliteJobStore, target: PostgresJobStore) -> dict[str, int]:
    """Copy jobs, chunks and events from ``source`` into the empty ``target``; returns rows copied per table."""
    source.initialize_schema()  # an older history is brought to the newest version, as the target is
    target.initialize_schema()
    copied: dict[str, int] = {}
    with source.transaction(write=False) as read, target.transaction() as write:
        counted = write.execute("SELECT COUNT(*) AS n FROM jobs").fetchone()
        existing = counted["n"] if counted is not None else 0
        if existing:
            raise TargetNotEmpty(f"the target database already holds {existing} jobs; migrate into an empty one")
        for table, order in TABLES:
            rows = read.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
            if rows:
                names = rows[0].keys()
                columns = ", ".join(f'"{name}"' for name in names)  # quoted: "user" is reserved on PostgreSQL
                insert = f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' for _ in names)})"
                for start in range(0, len(rows), BATCH):
                    write.executemany(insert, [tuple(row) for row in rows[start : start + BATCH]])
            copied[table] = len(rows)
        revision = read.execute("SELECT value FROM revision WHERE id = 1").fetchone()["value"]
        write.execute("UPDATE revision SET value = ? WHERE id = 1", (revision,))
        # New events continue after the copied ones.
        for table in ("events", "webhook_attempts"):
            write.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT MAX(id) FROM {table}), 1))"
            )
    return copied
