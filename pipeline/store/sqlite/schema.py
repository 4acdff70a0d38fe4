"""The SQLite job store's tables, and how its rows become ``Job``, ``Chunk`` and ``Event`` snapshots."""

from __future__ import annotations

import json
import sqlite3

from ...lifecycle import EventKind
from ...models import Chunk, ChunkStatus, Event, Job, JobStatus, Stage

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


def job_from_row(row: sqlite3.Row) -> Job:
    data = dict(row)
    data["status"] = JobStatus(data["status"])
    data["stage"] = Stage(data["stage"])
    data["notes"] = tuple(json.loads(data["notes"]))
    data["meta"] = json.loads(data["meta"])
    return Job(**data)


def chunk_from_row(row: sqlite3.Row) -> Chunk:
    data = dict(row)
    data["index"] = data.pop("idx")
    data["status"] = ChunkStatus(data["status"])
    return Chunk(**data)


def event_from_row(row: sqlite3.Row) -> Event:
    data = dict(row)
    data["kind"] = EventKind(data["kind"])
    return Event(**data)
