"""The embedded SQLite job store: one file in WAL mode, one write transaction per call.

One room per protocol of ``pipeline.store.interface``: ``jobs``, ``chunks``, ``recovery`` and ``log`` (events,
changes, workers, retention), over the connections and shared rules of ``base`` and the tables of ``schema``.
"""

from __future__ import annotations

from ..interface import JobStore
from .chunks import SqliteChunks
from .jobs import SqliteJobs
from .log import SqliteLog
from .recovery import SqliteRecovery


class SqliteJobStore(SqliteJobs, SqliteChunks, SqliteRecovery, SqliteLog, JobStore):
    """``JobStore`` on one SQLite file, shared safely by threads and forked worker processes."""


__all__ = ["SqliteJobStore"]
