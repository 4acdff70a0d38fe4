"""The embedded SQLite job store: one file in WAL mode, one write transaction per call.

Follows huey's ``SqliteStorage`` recipe: connections open lazily, one per thread and process (the worker
forks), DDL lives together in ``initialize_schema``, and writes take the lock up front with
``BEGIN IMMEDIATE`` so two writers never deadlock upgrading a read lock into a write lock. The SQL itself is
shared with PostgreSQL (``pipeline.store.sql``).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.store.interface import JobStore
from pipeline.store.sql import SqlStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS revision (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
INSERT OR IGNORE INTO revision (id, value) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    filename TEXT NOT NULL,
    kind TEXT NOT NULL,
    profile TEXT NOT NULL,
    engine TEXT NOT NULL,
    status TEXT NOT NULL,
    stage TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '',
    pages INTEGER NOT NULL DEFAULT 0,
    pages_done INTEGER NOT NULL DEFAULT 0,
    chunks_total INTEGER NOT NULL DEFAULT 0,
    chunks_done INTEGER NOT NULL DEFAULT 0,
    chunks_failed INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    updated_at REAL NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    sha256 TEXT NOT NULL DEFAULT '',
    size_bytes INTEGER NOT NULL DEFAULT 0,
    user TEXT NOT NULL DEFAULT '',
    cached_from TEXT,
    compressed_bytes INTEGER,
    notes TEXT NOT NULL DEFAULT '[]',
    meta TEXT NOT NULL DEFAULT '{}',
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0,
    last_used_at REAL,
    purged_at REAL,
    step_recoveries INTEGER NOT NULL DEFAULT 0,
    step_runs INTEGER NOT NULL DEFAULT 0,
    rev INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_rev ON jobs (rev);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at);
CREATE INDEX IF NOT EXISTS jobs_user ON jobs (user, created_at);
CREATE INDEX IF NOT EXISTS jobs_cache ON jobs (sha256, profile, engine, status);
CREATE TABLE IF NOT EXISTS chunks (
    job_id TEXT NOT NULL REFERENCES jobs (id),
    idx INTEGER NOT NULL,
    first_page INTEGER NOT NULL,
    last_page INTEGER NOT NULL,
    context_first INTEGER NOT NULL,
    context_last INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    worker TEXT NOT NULL DEFAULT '',
    pages_done INTEGER NOT NULL DEFAULT 0,
    started_at REAL,
    finished_at REAL,
    heartbeat_at REAL,
    error TEXT NOT NULL DEFAULT '',
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0,
    attempt_base INTEGER NOT NULL DEFAULT 0,
    rev INTEGER NOT NULL,
    PRIMARY KEY (job_id, idx)
);
CREATE INDEX IF NOT EXISTS chunks_rev ON chunks (rev);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    stage TEXT NOT NULL,
    progress REAL NOT NULL,
    chunk_index INTEGER,
    message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS events_job ON events (job_id, id);
CREATE TABLE IF NOT EXISTS workers (
    id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at REAL NOT NULL,
    heartbeat_at REAL NOT NULL,
    stopped_at REAL
);
CREATE TABLE IF NOT EXISTS passages (
    job_id TEXT NOT NULL REFERENCES jobs (id),
    idx INTEGER NOT NULL,
    text TEXT NOT NULL,
    start_offset INTEGER NOT NULL,
    end_offset INTEGER NOT NULL,
    pages TEXT NOT NULL,
    headings TEXT NOT NULL,
    tokens INTEGER NOT NULL,
    vector BLOB,
    PRIMARY KEY (job_id, idx)
);
CREATE TABLE IF NOT EXISTS api_tokens (
    id TEXT PRIMARY KEY,
    digest TEXT NOT NULL UNIQUE,
    "user" TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    revoked_at REAL,
    expires_at REAL
);
"""


# Columns added after the first release: added to older databases by initialize_schema.
ADDED_COLUMNS = {
    "jobs": (
        "last_used_at REAL",
        "purged_at REAL",
        "input_tokens INTEGER NOT NULL DEFAULT 0",
        "output_tokens INTEGER NOT NULL DEFAULT 0",
        "cost_usd REAL NOT NULL DEFAULT 0",
        "step_recoveries INTEGER NOT NULL DEFAULT 0",
        "step_runs INTEGER NOT NULL DEFAULT 0",
    ),
    "chunks": (
        "input_tokens INTEGER NOT NULL DEFAULT 0",
        "output_tokens INTEGER NOT NULL DEFAULT 0",
        "cost_usd REAL NOT NULL DEFAULT 0",
        "attempt_base INTEGER NOT NULL DEFAULT 0",
    ),
    "workers": ("stopped_at REAL",),
    "api_tokens": ("expires_at REAL",),
}


class SqliteJobStore(SqlStore, JobStore):
    """``JobStore`` on one SQLite file, shared safely by threads and forked worker processes."""

    INSERTION_ORDER = "rowid"

    def __init__(self, path: Path | str, *, timeout_s: float = 30.0) -> None:
        self.path = Path(path)
        self.timeout_s = timeout_s
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        #: SQL statements this process has run, for measuring what readers such as the dashboard cost
        self.statements = 0

    # -- plumbing -----------------------------------------------------------------------------------------
    @property
    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.set_trace_callback(self._count_statement)
            conn.execute(f"PRAGMA busy_timeout={int(self.timeout_s * 1000)}")
            self._use_wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn, self._local.pid = conn, os.getpid()
            with self._lock:
                self._connections.append(conn)
        return conn

    def _use_wal(self, conn: sqlite3.Connection) -> None:
        """Switch the file to WAL. Switching a new file needs an exclusive lock that SQLite does not wait for (the
        busy timeout does not apply), so processes opening a new home at once retry here, as huey's
        ``SqliteStorage`` does, until the timeout."""
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)

    def _count_statement(self, _sql: str) -> None:
        self.statements += 1

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        conn = self.connection
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    def initialize_schema(self) -> None:
        # One write transaction taken up front (BEGIN IMMEDIATE waits for the busy timeout): processes starting
        # together on a new home make the tables one after the other, never upgrading a read lock mid-script.
        with self.transaction() as conn:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            for table, columns in ADDED_COLUMNS.items():
                present = {row["name"] for row in conn.execute(f"PRAGMA table_info({table})")}
                for column in columns:
                    if column.split()[0] not in present:
                        conn.execute(f"ALTER TABLE {table} ADD COLUMN {column}")

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                try:
                    conn.close()
                except sqlite3.ProgrammingError:
                    pass  # closed from its own thread already
            self._connections.clear()
        self._local = threading.local()
