"""The embedded SQLite job store: one file in WAL mode, one write transaction per call.

Follows huey's ``SqliteStorage`` recipe: connections open lazily, one per thread and process (the worker
forks), the schema is made and upgraded in one place (``initialize_schema``, by ``pipeline.store.migrations``),
and writes take the lock up front with ``BEGIN IMMEDIATE`` so two writers never deadlock upgrading a read lock
into a write lock. The SQL itself is shared with PostgreSQL (``pipeline.store.sql``).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipeline.core import transient
from pipeline.store.interface import JobStore
from pipeline.store.retries import retried_per_call
from pipeline.store.sql import SqlStore

# SQLite's words for a lock held longer than the busy timeout, or a full disk: waiting may clear them.
SQLITE_BUSY = ("database is locked", "database is busy", "database table is locked", "database or disk is full")


def _busy(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and any(words in str(exc).lower() for words in SQLITE_BUSY)


transient.register(transient.JOB_STORE, _busy)


@retried_per_call
class SqliteJobStore(SqlStore, JobStore):
    """``JobStore`` on one SQLite file, shared safely by threads and forked worker processes."""

    INSERTION_ORDER = "rowid"

    def __init__(self, path: Path | str, *, timeout_s: float = 30.0, count_statements: bool = True) -> None:
        """``count_statements``: in the Prometheus counter, what readers such as the dashboard cost (off for a
        short command: no one scrapes it, and prometheus_client is heavy to import)."""
        self.path = Path(path)
        self.timeout_s = timeout_s
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._count_statement: Callable[[str], None] | None = None
        if count_statements:
            # imported here, not at the top: a worker chooses prometheus_client's multiprocess mode before it opens
            # a store
            from pipeline.core.metrics import STORE_STATEMENTS

            self._count_statement = lambda _sql: STORE_STATEMENTS.inc()

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

    def _keyword_match(self, phrases: Sequence[str]) -> tuple[str, str, str, list[Any]]:
        # Each phrase becomes an FTS5 string ("..." with quotes doubled): the user's text is never FTS5 syntax, and
        # its tokens must appear in order (an identifier, cut into tokens by the tokenizer, matches only whole).
        query = " OR ".join('"' + phrase.replace('"', '""') + '"' for phrase in phrases)
        source = "passages_fts JOIN passages p ON p.rowid = passages_fts.rowid"
        return source, "passages_fts MATCH ?", "-bm25(passages_fts)", [query]  # bm25(): lower is better

    def initialize_schema(self) -> None:
        """Bring the file to the newest schema (``pipeline.store.migrations``): one query when it is already there;
        else on a connection of its own, in one write transaction taken up front (``BEGIN IMMEDIATE`` waits for the
        busy timeout): processes starting together on a new or older home upgrade it one after the other, never
        upgrading a read lock mid-step (alembic checks the version again inside it)."""
        from pipeline.store import migrations

        conn = self.connection  # switches a new file to WAL first, retrying as only that switch needs
        try:
            versions = [row[0] for row in conn.execute(migrations.VERSION_QUERY)]
        except sqlite3.OperationalError:  # no version table: a new file, or one made before migrations
            versions = []
        if migrations.is_current(versions):  # the usual case, one query: alembic is not even imported
            return
        import sqlalchemy as sa

        from pipeline.store.migrations.upgrade import upgrade

        engine = sa.create_engine(
            f"sqlite:///{self.path}",
            poolclass=sa.NullPool,
            connect_args={"timeout": self.timeout_s, "isolation_level": None},
        )
        sa.event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        upgrade(engine)

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                try:
                    conn.close()
                except sqlite3.ProgrammingError:
                    pass  # closed from its own thread already
            self._connections.clear()
        self._local = threading.local()
