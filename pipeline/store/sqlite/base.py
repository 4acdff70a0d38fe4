"""What every part of the SQLite store shares: connections, transactions, revisions, events, and the chunk rules
each write re-applies (recounting a job from its chunks, the fan-in to merging).

Follows huey's ``SqliteStorage`` recipe: connections open lazily, one per thread and process (the worker
forks), DDL lives together in ``initialize_schema``, and writes take the lock up front with
``BEGIN IMMEDIATE`` so two writers never deadlock upgrading a read lock into a write lock.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Any

from ... import messages
from ...documents.textclean import strip_controls
from ...lifecycle import PROGRESS_BEFORE_MERGING, EventKind, extraction_progress
from ...models import Stage
from .schema import ADDED_COLUMNS, SCHEMA


class SqliteBase:
    """One SQLite file in WAL mode, shared safely by threads and forked worker processes."""

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
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA busy_timeout={int(self.timeout_s * 1000)}")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn, self._local.pid = conn, os.getpid()
            with self._lock:
                self._connections.append(conn)
        return conn

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
        conn = self.connection
        conn.executescript(SCHEMA)
        for table, columns in ADDED_COLUMNS.items():
            present = {row["name"] for row in conn.execute(f"PRAGMA table_info({table})")}
            for column in columns:
                if column.split()[0] not in present:
                    try:
                        conn.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
                    except sqlite3.OperationalError as exc:  # another process added it first
                        if "duplicate column" not in str(exc):
                            raise

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                try:
                    conn.close()
                except sqlite3.ProgrammingError:
                    pass  # closed from its own thread already
            self._connections.clear()
        self._local = threading.local()

    @staticmethod
    def _bump(conn: sqlite3.Connection) -> int:
        return conn.execute("UPDATE revision SET value = value + 1 WHERE id = 1 RETURNING value").fetchone()[0]

    @staticmethod
    def _event(
        conn: sqlite3.Connection, job_id: str, kind: EventKind, message: str = "", chunk_index: int | None = None
    ) -> None:
        conn.execute(
            "INSERT INTO events (job_id, at, kind, status, stage, progress, chunk_index, message) "
            "SELECT id, ?, ?, status, stage, progress, ?, ? FROM jobs WHERE id = ?",
            (time.time(), kind.value, chunk_index, strip_controls(message), job_id),
        )

    def _update_job(self, conn: sqlite3.Connection, job_id: str, where: str = "", **fields: Any) -> bool:
        fields["updated_at"] = time.time()
        fields["rev"] = self._bump(conn)
        assignments = ", ".join(f"{name} = ?" for name in fields)
        # Messages and errors can quote a document or an API: no control characters reach the database.
        values = [
            v.value if isinstance(v, Enum) else strip_controls(v) if isinstance(v, str) else v for v in fields.values()
        ]
        cursor = conn.execute(f"UPDATE jobs SET {assignments} WHERE id = ? {where}", (*values, job_id))
        return cursor.rowcount == 1

    # -- rules every chunk write re-applies --------------------------------------------------------------------
    @staticmethod
    def _chunk_message(conn: sqlite3.Connection, job_id: str) -> str:
        row = conn.execute(
            "SELECT COUNT(*) AS total, SUM(status = 'done') AS done, SUM(status = 'running') AS running, "
            "SUM(status = 'failed') AS failed FROM chunks WHERE job_id = ?",
            (job_id,),
        ).fetchone()
        return messages.extracting(row["done"] or 0, row["total"], row["running"] or 0, row["failed"] or 0)

    def _recount(self, conn: sqlite3.Connection, job_id: str) -> None:
        """Derive the job's counters from its chunks, so they can never drift from the unit of truth."""
        row = conn.execute(
            "SELECT COALESCE(SUM(CASE WHEN status = 'done' THEN last_page - first_page + 1 ELSE pages_done END), 0) "
            "AS pages_done, SUM(status = 'done') AS done, SUM(status = 'failed') AS failed "
            "FROM chunks WHERE job_id = ?",
            (job_id,),
        ).fetchone()
        pages = conn.execute("SELECT pages FROM jobs WHERE id = ?", (job_id,)).fetchone()["pages"]
        self._update_job(
            conn,
            job_id,
            "AND status = 'running'",
            pages_done=row["pages_done"],
            chunks_done=row["done"] or 0,
            chunks_failed=row["failed"] or 0,
            progress=extraction_progress(row["pages_done"], pages),
            message=self._chunk_message(conn, job_id),
        )

    def _fan_in(self, conn: sqlite3.Connection, job_id: str) -> bool:
        """Move the job to merging once no chunk is open; True for the one caller that did it."""
        open_chunks = conn.execute(
            "SELECT COUNT(*) FROM chunks WHERE job_id = ? AND status IN ('queued', 'running')", (job_id,)
        ).fetchone()[0]
        if open_chunks:
            return False
        # The conditional stage change is the fan-in: only one finisher can move extracting -> merging.
        last = self._update_job(
            conn,
            job_id,
            "AND status = 'running' AND stage = 'extracting'",
            stage=Stage.MERGING,
            message=messages.MERGING,
            progress=PROGRESS_BEFORE_MERGING,
        )
        if last:
            self._event(conn, job_id, EventKind.STAGE, messages.MERGING)
        return last
