"""The embedded SQLite job store (WAL, busy timeout, one write transaction per call).

Follows huey's ``SqliteStorage`` recipe: connections open lazily, one per thread and process (the worker
forks), DDL lives together in ``initialize_schema``, and writes take the lock up front with
``BEGIN IMMEDIATE`` so two writers never deadlock upgrading a read lock into a write lock.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Any

from .models import (
    PROGRESS_AFTER_SPLITTING,
    PROGRESS_BEFORE_MERGING,
    Chunk,
    ChunkStatus,
    Event,
    Job,
    JobStatus,
    Stage,
    WorkerBeat,
    extraction_progress,
)
from .store import Changes, ChunkSpan, JobStore, NewJob
from .textclean import strip_controls

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
"""

JOB_COLUMNS = (
    "id, filename, kind, profile, engine, status, stage, progress, message, pages, pages_done, chunks_total, "
    "chunks_done, chunks_failed, created_at, started_at, finished_at, updated_at, error, sha256, size_bytes, "
    "user, cached_from, compressed_bytes, notes, meta, input_tokens, output_tokens, cost_usd, last_used_at, purged_at"
)
CHUNK_COLUMNS = (
    "job_id, idx, first_page, last_page, context_first, context_last, status, attempts, worker, pages_done, "
    "started_at, finished_at, heartbeat_at, error, input_tokens, output_tokens, cost_usd"
)
# Columns added after the first release: added to older databases by initialize_schema.
ADDED_COLUMNS = {
    "jobs": (
        "last_used_at REAL",
        "purged_at REAL",
        "input_tokens INTEGER NOT NULL DEFAULT 0",
        "output_tokens INTEGER NOT NULL DEFAULT 0",
        "cost_usd REAL NOT NULL DEFAULT 0",
    ),
    "chunks": (
        "input_tokens INTEGER NOT NULL DEFAULT 0",
        "output_tokens INTEGER NOT NULL DEFAULT 0",
        "cost_usd REAL NOT NULL DEFAULT 0",
    ),
    "workers": ("stopped_at REAL",),
}
EVENT_COLUMNS = "id, job_id, at, kind, status, stage, progress, chunk_index, message"


# Share of the progress bar given to the stages around extraction; extraction fills the rest by pages done.
def _job(row: sqlite3.Row) -> Job:
    data = dict(row)
    data["status"] = JobStatus(data["status"])
    data["stage"] = Stage(data["stage"])
    data["notes"] = tuple(json.loads(data["notes"]))
    data["meta"] = json.loads(data["meta"])
    return Job(**data)


def _chunk(row: sqlite3.Row) -> Chunk:
    data = dict(row)
    data["index"] = data.pop("idx")
    data["status"] = ChunkStatus(data["status"])
    return Chunk(**data)


def _event(row: sqlite3.Row) -> Event:
    return Event(**dict(row))


class SqliteJobStore(JobStore):
    """``JobStore`` on one SQLite file in WAL mode, shared safely by threads and forked worker processes."""

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
        conn: sqlite3.Connection, job_id: str, kind: str, message: str = "", chunk_index: int | None = None
    ) -> None:
        conn.execute(
            "INSERT INTO events (job_id, at, kind, status, stage, progress, chunk_index, message) "
            "SELECT id, ?, ?, status, stage, progress, ?, ? FROM jobs WHERE id = ?",
            (time.time(), kind, chunk_index, strip_controls(message), job_id),
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

    # -- jobs ---------------------------------------------------------------------------------------------
    def create(self, new: NewJob) -> Job:
        now = time.time()
        final = new.status.is_final
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO jobs (id, filename, kind, profile, engine, status, stage, progress, message, pages, "
                "created_at, started_at, finished_at, updated_at, error, sha256, size_bytes, user, cached_from, "
                "meta, rev) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    new.id,
                    new.filename,
                    new.kind,
                    new.profile,
                    new.engine,
                    new.status.value,
                    new.stage.value,
                    100.0 if new.status is JobStatus.COMPLETED else 0.0,
                    strip_controls(new.message),
                    new.pages,
                    now,
                    now if final else None,
                    now if final else None,
                    now,
                    strip_controls(new.error),
                    new.sha256,
                    new.size_bytes,
                    new.user,
                    new.cached_from,
                    json.dumps(new.meta or {}),
                    self._bump(conn),
                ),
            )
            self._event(conn, new.id, "created", new.message)
            if final:
                self._event(conn, new.id, "status", new.error or new.message)
        job = self.get(new.id)
        assert job is not None
        return job

    def copy_outcome(self, job_id: str, source: Job) -> None:
        """Fill a cache-served job with the figures of the job it was answered from."""
        with self.transaction() as conn:
            self._update_job(
                conn,
                job_id,
                pages=source.pages,
                pages_done=source.pages,
                chunks_total=source.chunks_total,
                chunks_done=source.chunks_done,
                compressed_bytes=source.compressed_bytes,
                notes=json.dumps(list(source.notes)),
                meta=json.dumps(source.meta),
            )

    def get(self, job_id: str) -> Job | None:
        row = self.connection.execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if row else None

    def list_recent(
        self, *, status: JobStatus | None = None, user: str | None = None, limit: int | None = None
    ) -> list[Job]:
        clauses, params = [], []
        if status is not None:
            clauses.append("status = ?")
            params.append(JobStatus(status).value)
        if user is not None:
            clauses.append("user = ?")
            params.append(user)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        limit_sql = f"LIMIT {int(limit)}" if limit else ""
        rows = self.connection.execute(
            f"SELECT {JOB_COLUMNS} FROM jobs {where} ORDER BY created_at DESC, rowid DESC {limit_sql}", params
        ).fetchall()
        return [_job(r) for r in rows]

    def user_usage(self, user: str, since: float) -> tuple[int, list[float]]:
        with self.transaction(write=False) as conn:
            active = conn.execute(
                "SELECT COUNT(*) FROM jobs WHERE user = ? AND status IN ('queued', 'running')", (user,)
            ).fetchone()[0]
            uploads = conn.execute(
                "SELECT created_at FROM jobs WHERE user = ? AND created_at >= ? "
                "AND json_extract(meta, '$.refused') IS NULL ORDER BY created_at",
                (user, since),
            ).fetchall()
        return active, [row[0] for row in uploads]

    def find_completed(self, sha256: str, profile: str, engine: str) -> Job | None:
        row = self.connection.execute(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE sha256 = ? AND profile = ? AND engine = ? AND status = ? "
            "AND cached_from IS NULL ORDER BY finished_at DESC LIMIT 1",
            (sha256, profile, engine, JobStatus.COMPLETED.value),
        ).fetchone()
        return _job(row) if row else None

    def start(self, job_id: str) -> bool:
        with self.transaction() as conn:
            started = self._update_job(
                conn,
                job_id,
                "AND status = 'queued'",
                status=JobStatus.RUNNING,
                stage=Stage.PREPARING,
                started_at=time.time(),
                message="Preparing",
                progress=1.0,
            )
            if started:
                self._event(conn, job_id, "stage", "Preparing")
        return started

    def set_stage(self, job_id: str, stage: Stage, message: str, progress: float | None = None) -> None:
        fields: dict[str, Any] = {"stage": stage, "message": message}
        if progress is not None:
            fields["progress"] = progress
        with self.transaction() as conn:
            if self._update_job(conn, job_id, "AND status = 'running'", **fields):
                self._event(conn, job_id, "stage", message)

    def record_document(
        self, job_id: str, *, pages: int, compressed_bytes: int | None = None, meta: dict[str, Any] | None = None
    ) -> None:
        with self.transaction() as conn:
            current = conn.execute("SELECT meta FROM jobs WHERE id = ?", (job_id,)).fetchone()
            merged = {**json.loads(current["meta"]), **(meta or {})} if current else dict(meta or {})
            self._update_job(conn, job_id, pages=pages, compressed_bytes=compressed_bytes, meta=json.dumps(merged))

    def add_note(self, job_id: str, note: str) -> None:
        note = strip_controls(note)
        with self.transaction() as conn:
            row = conn.execute("SELECT notes FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return
            notes = json.loads(row["notes"])
            if note in notes:
                return
            self._update_job(conn, job_id, notes=json.dumps([*notes, note]))
            self._event(conn, job_id, "note", note)

    def finish(self, job_id: str, status: JobStatus, message: str, *, error: str = "") -> bool:
        status = JobStatus(status)
        fields: dict[str, Any] = {"status": status, "message": message, "error": error, "finished_at": time.time()}
        if status is JobStatus.COMPLETED:
            fields.update(stage=Stage.COMPLETED, progress=100.0)
        with self.transaction() as conn:
            ended = self._update_job(conn, job_id, "AND status IN ('queued', 'running')", **fields)
            if ended:
                if status is not JobStatus.COMPLETED:
                    # In the same transaction, so no reader sees an ended job with chunks still open.
                    conn.execute(
                        "UPDATE chunks SET status = 'canceled', finished_at = ?, rev = ? "
                        "WHERE job_id = ? AND status IN ('queued', 'running')",
                        (fields["finished_at"], self._bump(conn), job_id),
                    )
                self._event(conn, job_id, "status", error or message)
        return ended

    # -- chunks -------------------------------------------------------------------------------------------
    def plan_chunks(self, job_id: str, spans: Iterable[ChunkSpan]) -> list[Chunk]:
        spans = list(spans)
        with self.transaction() as conn:
            rev = self._bump(conn)
            conn.executemany(
                "INSERT INTO chunks (job_id, idx, first_page, last_page, context_first, context_last, status, rev) "
                "VALUES (?, ?, ?, ?, ?, ?, 'queued', ?)",
                [(job_id, s.index, s.first_page, s.last_page, s.context_first, s.context_last, rev) for s in spans],
            )
            message = f"Extracting: 0 of {len(spans)} chunks done"
            self._update_job(
                conn,
                job_id,
                chunks_total=len(spans),
                stage=Stage.EXTRACTING,
                message=message,
                progress=PROGRESS_AFTER_SPLITTING,
            )
            self._event(conn, job_id, "stage", message)
        return self.list_chunks(job_id)

    def list_chunks(self, job_id: str) -> list[Chunk]:
        rows = self.connection.execute(
            f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE job_id = ? ORDER BY idx", (job_id,)
        ).fetchall()
        return [_chunk(r) for r in rows]

    def list_all_chunks(self) -> list[Chunk]:
        rows = self.connection.execute(f"SELECT {CHUNK_COLUMNS} FROM chunks ORDER BY job_id, idx").fetchall()
        return [_chunk(r) for r in rows]

    def _chunk_message(self, conn: sqlite3.Connection, job_id: str) -> str:
        row = conn.execute(
            "SELECT COUNT(*) AS total, SUM(status = 'done') AS done, SUM(status = 'running') AS running, "
            "SUM(status = 'failed') AS failed FROM chunks WHERE job_id = ?",
            (job_id,),
        ).fetchone()
        message = f"Extracting: {row['done'] or 0} of {row['total']} chunks done"
        if row["running"]:
            message += f", {row['running']} running"
        if row["failed"]:
            message += f", {row['failed']} failed"
        return message

    def claim_chunk(self, job_id: str, index: int, worker: str) -> Chunk | None:
        now = time.time()
        with self.transaction() as conn:
            running = conn.execute("SELECT 1 FROM jobs WHERE id = ? AND status = 'running'", (job_id,)).fetchone()
            if not running:
                return None
            cursor = conn.execute(
                "UPDATE chunks SET status = 'running', attempts = attempts + 1, worker = ?, started_at = ?, "
                "heartbeat_at = ?, finished_at = NULL, pages_done = 0, rev = ? "
                "WHERE job_id = ? AND idx = ? AND status = 'queued'",
                (worker, now, now, self._bump(conn), job_id, index),
            )
            if cursor.rowcount != 1:
                return None
            self._recount(conn, job_id)
            self._event(conn, job_id, "chunk_started", f"Chunk {index + 1} started on {worker}", index)
            row = conn.execute(
                f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE job_id = ? AND idx = ?", (job_id, index)
            ).fetchone()
        return _chunk(row)

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

    def update_chunk_progress(self, job_id: str, index: int, pages_done: int, *, attempt: int | None = None) -> bool:
        owner = "job_id = ? AND idx = ? AND status = 'running' AND (? IS NULL OR attempts = ?)"
        with self.transaction() as conn:
            row = conn.execute(
                f"SELECT pages_done FROM chunks WHERE {owner}", (job_id, index, attempt, attempt)
            ).fetchone()
            if row is None:
                return False
            # A heartbeat (or a late, smaller count): no new revision, no event, and progress never steps back.
            if row["pages_done"] >= pages_done:
                conn.execute(
                    f"UPDATE chunks SET heartbeat_at = ? WHERE {owner}", (time.time(), job_id, index, attempt, attempt)
                )
                return True
            conn.execute(
                f"UPDATE chunks SET pages_done = ?, heartbeat_at = ?, rev = ? WHERE {owner}",
                (pages_done, time.time(), self._bump(conn), job_id, index, attempt, attempt),
            )
            self._recount(conn, job_id)
            self._event(conn, job_id, "progress", f"Chunk {index + 1}: {pages_done} pages", index)
        return True

    def requeue_chunk(self, job_id: str, index: int, error: str, *, attempt: int | None = None) -> None:
        error = strip_controls(error)
        with self.transaction() as conn:
            conn.execute(
                "UPDATE chunks SET status = 'queued', error = ?, pages_done = 0, rev = ? "
                "WHERE job_id = ? AND idx = ? AND status = 'running' AND (? IS NULL OR attempts = ?)",
                (error, self._bump(conn), job_id, index, attempt, attempt),
            )
            self._recount(conn, job_id)
            self._event(conn, job_id, "chunk_retry", f"Chunk {index + 1} will be retried: {error}", index)

    def record_chunk_usage(
        self, job_id: str, index: int, input_tokens: int, output_tokens: int, cost_usd: float
    ) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE chunks SET input_tokens = input_tokens + ?, output_tokens = output_tokens + ?, "
                "cost_usd = cost_usd + ?, rev = ? WHERE job_id = ? AND idx = ?",
                (input_tokens, output_tokens, cost_usd, self._bump(conn), job_id, index),
            )
            totals = conn.execute(
                "SELECT SUM(input_tokens) AS i, SUM(output_tokens) AS o, SUM(cost_usd) AS c "
                "FROM chunks WHERE job_id = ?",
                (job_id,),
            ).fetchone()
            self._update_job(
                conn,
                job_id,
                input_tokens=totals["i"] or 0,
                output_tokens=totals["o"] or 0,
                cost_usd=round(totals["c"] or 0.0, 6),
            )

    def retry_failed(self, job_id: str) -> list[int]:
        with self.transaction() as conn:
            failed = [
                row["idx"]
                for row in conn.execute(
                    "SELECT idx FROM chunks WHERE job_id = ? AND status = 'failed' ORDER BY idx", (job_id,)
                )
            ]
            if not failed:
                return []
            reopened = self._update_job(
                conn,
                job_id,
                "AND status = 'failed'",
                status=JobStatus.RUNNING,
                stage=Stage.EXTRACTING,
                finished_at=None,
                error="",
                message=f"Retrying {len(failed)} failed chunks",
            )
            if not reopened:
                return []
            conn.execute(
                "UPDATE chunks SET status = 'queued', finished_at = NULL, rev = ? "
                "WHERE job_id = ? AND status = 'failed'",
                (self._bump(conn), job_id),
            )
            self._recount(conn, job_id)
            self._event(conn, job_id, "retry", f"Retrying chunks {', '.join(str(i + 1) for i in failed)}")
        return failed

    def finish_chunk(
        self, job_id: str, index: int, status: ChunkStatus, *, error: str = "", attempt: int | None = None
    ) -> bool:
        status, error = ChunkStatus(status), strip_controls(error)
        with self.transaction() as conn:
            cursor = conn.execute(
                "UPDATE chunks SET status = ?, error = ?, finished_at = ?, heartbeat_at = ?, "
                "pages_done = CASE WHEN ? = 'done' THEN last_page - first_page + 1 ELSE pages_done END, rev = ? "
                "WHERE job_id = ? AND idx = ? AND status = 'running' AND (? IS NULL OR attempts = ?)",
                (
                    status.value,
                    error,
                    time.time(),
                    time.time(),
                    status.value,
                    self._bump(conn),
                    job_id,
                    index,
                    attempt,
                    attempt,
                ),
            )
            if cursor.rowcount != 1:
                return False
            self._recount(conn, job_id)
            label = "done" if status is ChunkStatus.DONE else f"{status.value}: {error}"
            self._event(conn, job_id, "chunk_" + status.value, f"Chunk {index + 1} {label}", index)
            return self._fan_in(conn, job_id)

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
            message="Merging chunk results",
            progress=PROGRESS_BEFORE_MERGING,
        )
        if last:
            self._event(conn, job_id, "stage", "Merging chunk results")
        return last

    def expire_overdue(
        self, started_before: float, *, max_attempts: int, reason: str
    ) -> tuple[list[tuple[str, int]], list[str]]:
        """Take back running chunks started before ``started_before`` (over their time limit, maybe hung):
        requeued while attempts remain, failed after. Returns the chunks to enqueue and the jobs to merge."""
        requeued: list[tuple[str, int]] = []
        merge: list[str] = []
        with self.transaction() as conn:
            rows = conn.execute(
                "SELECT c.job_id, c.idx, c.attempts FROM chunks c JOIN jobs j ON j.id = c.job_id "
                "WHERE c.status = 'running' AND j.status = 'running' AND c.started_at < ?",
                (started_before,),
            ).fetchall()
            for row in rows:
                job_id, index = row["job_id"], row["idx"]
                error = f"Chunk {index + 1} {reason}"
                retry = row["attempts"] < max_attempts
                conn.execute(
                    "UPDATE chunks SET status = ?, error = ?, pages_done = CASE WHEN ? THEN 0 ELSE pages_done END, "
                    "finished_at = ?, rev = ? WHERE job_id = ? AND idx = ?",
                    (
                        "queued" if retry else "failed",
                        error,
                        retry,
                        None if retry else time.time(),
                        self._bump(conn),
                        job_id,
                        index,
                    ),
                )
                self._recount(conn, job_id)
                verdict = "retried" if retry else "failed"
                self._event(conn, job_id, "chunk_overtime", f"{error}; {verdict}", index)
                if retry:
                    requeued.append((job_id, index))
                elif self._fan_in(conn, job_id):
                    merge.append(job_id)
        return requeued, merge

    def stranded(self, older_than: float) -> tuple[list[tuple[str, int]], list[str]]:
        rows = self.connection.execute(
            "SELECT c.job_id, c.idx FROM chunks c JOIN jobs j ON j.id = c.job_id "
            "WHERE c.status = 'queued' AND j.status = 'running' AND j.updated_at < ? ORDER BY c.job_id, c.idx",
            (older_than,),
        ).fetchall()
        queued = self.connection.execute(
            "SELECT id FROM jobs WHERE status = 'queued' AND updated_at < ? ORDER BY created_at", (older_than,)
        ).fetchall()
        return [(r["job_id"], r["idx"]) for r in rows], [r["id"] for r in queued]

    def touch(self, job_id: str) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE jobs SET last_used_at = ? WHERE id = ?", (time.time(), job_id))

    def purge_candidates(self) -> list[Job]:
        rows = self.connection.execute(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE status IN ('completed', 'failed', 'canceled') AND purged_at IS NULL "
            "ORDER BY COALESCE(last_used_at, finished_at, created_at)"
        ).fetchall()
        return [_job(r) for r in rows]

    def mark_purged(self, job_id: str, note: str) -> None:
        with self.transaction() as conn:
            self._update_job(conn, job_id, purged_at=time.time())
            self._event(conn, job_id, "purged", note)
        self.add_note(job_id, note)

    def cancel(self, job_id: str, message: str = "Canceled") -> bool:
        """End a queued or running job as canceled; its queued chunks are canceled and running ones stop."""
        return self.finish(job_id, JobStatus.CANCELED, message)

    def recover_stale(self, older_than: float) -> tuple[list[tuple[str, int]], list[str], list[str]]:
        """Requeue work lost with a dead worker: running chunks of running jobs whose heartbeat is older than
        ``older_than`` (epoch seconds), jobs stuck before their chunks were planned, and jobs whose merge was lost.
        Each item is returned to exactly one caller, which enqueues it again."""
        with self.transaction() as conn:
            chunks = conn.execute(
                "SELECT c.job_id, c.idx FROM chunks c JOIN jobs j ON j.id = c.job_id WHERE c.status = 'running' "
                "AND j.status = 'running' AND COALESCE(c.heartbeat_at, c.started_at, 0) < ?",
                (older_than,),
            ).fetchall()
            rev = self._bump(conn) if chunks else 0
            for row in chunks:
                conn.execute(
                    "UPDATE chunks SET status = 'queued', pages_done = 0, rev = ?, "
                    "error = 'worker lost (no heartbeat); requeued' WHERE job_id = ? AND idx = ?",
                    (rev, row["job_id"], row["idx"]),
                )
                self._recount(conn, row["job_id"])
                self._event(
                    conn,
                    row["job_id"],
                    "chunk_recovered",
                    f"Chunk {row['idx'] + 1} requeued after its worker stopped sending heartbeats",
                    row["idx"],
                )
            preparing = [
                r["id"]
                for r in conn.execute(
                    "SELECT id FROM jobs WHERE status = 'running' AND stage IN ('preparing', 'splitting') "
                    "AND updated_at < ? AND NOT EXISTS (SELECT 1 FROM chunks WHERE job_id = jobs.id)",
                    (older_than,),
                )
            ]
            for job_id in preparing:
                self._update_job(
                    conn,
                    job_id,
                    "AND status = 'running'",
                    status=JobStatus.QUEUED,
                    stage=Stage.QUEUED,
                    message="Requeued: its worker stopped while preparing",
                )
                self._event(conn, job_id, "recovered", "Requeued: its worker stopped while preparing")
            merging = [
                r["id"]
                for r in conn.execute(
                    "SELECT id FROM jobs WHERE status = 'running' AND stage = 'merging' AND updated_at < ?",
                    (older_than,),
                )
            ]
            for job_id in merging:
                self._update_job(conn, job_id, "AND status = 'running'", message="Merging again after a lost worker")
        return [(r["job_id"], r["idx"]) for r in chunks], preparing, merging

    # -- events, changes, workers --------------------------------------------------------------------------
    def list_events(self, job_id: str | None = None, *, after_id: int = 0, limit: int | None = None) -> list[Event]:
        params: list[Any] = [after_id]
        where = "WHERE id > ?"
        if job_id is not None:
            where += " AND job_id = ?"
            params.append(job_id)
        limit_sql = f"LIMIT {int(limit)}" if limit else ""
        rows = self.connection.execute(
            f"SELECT {EVENT_COLUMNS} FROM events {where} ORDER BY id {limit_sql}", params
        ).fetchall()
        return [_event(r) for r in rows]

    def changes_since(self, revision: int) -> Changes:
        # An idle poll is one indexed read; only when the revision moved is a snapshot transaction opened.
        conn = self.connection
        if conn.execute("SELECT value FROM revision WHERE id = 1").fetchone()[0] == revision:
            return Changes(revision, [], [])
        with self.transaction(write=False) as conn:
            current = conn.execute("SELECT value FROM revision WHERE id = 1").fetchone()[0]
            jobs = conn.execute(
                f"SELECT {JOB_COLUMNS} FROM jobs WHERE rev > ? ORDER BY created_at", (revision,)
            ).fetchall()
            chunks = conn.execute(
                f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE rev > ? ORDER BY job_id, idx", (revision,)
            ).fetchall()
        return Changes(current, [_job(r) for r in jobs], [_chunk(r) for r in chunks])

    def beat_worker(self, worker_id: str, host: str, pid: int) -> None:
        now = time.time()
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO workers (id, host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, "
                "started_at = CASE WHEN workers.stopped_at IS NULL THEN workers.started_at "
                "ELSE excluded.started_at END, stopped_at = NULL",
                (worker_id, host, pid, now, now),
            )

    def worker_stopped(self, worker_ids: Iterable[str]) -> None:
        now = time.time()
        with self.transaction() as conn:
            conn.executemany(
                "UPDATE workers SET stopped_at = ? WHERE id = ? AND stopped_at IS NULL", [(now, w) for w in worker_ids]
            )

    def list_workers(self, *, max_age_s: float | None = None) -> list[WorkerBeat]:
        since = time.time() - max_age_s if max_age_s is not None else 0.0
        rows = self.connection.execute(
            "SELECT id, host, pid, started_at, heartbeat_at FROM workers "
            "WHERE heartbeat_at >= ? AND stopped_at IS NULL ORDER BY heartbeat_at DESC",
            (since,),
        ).fetchall()
        return [WorkerBeat(**dict(r)) for r in rows]
