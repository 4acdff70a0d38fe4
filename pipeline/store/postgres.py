"""The job store on PostgreSQL: the SQL shared with SQLite (``pipeline.store.sql``) over psycopg 3.

Each process opens its own ``psycopg_pool`` pool on first use, after any fork (Huey's process workers, ``panel
serve --num-procs``), at most ``max_size`` connections. Write transactions first lock the one revision row, so they
are serialized as SQLite's ``BEGIN IMMEDIATE`` serializes them: that keeps the claim, attempt fencing, exactly one
finisher and monotonic progress atomic across processes and hosts, and revisions in commit order for the feed.
Reads that must agree with each other (``changes_since``) run in one REPEATABLE READ snapshot.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.rows import DictRow, dict_row, tuple_row
from psycopg_pool import ConnectionPool, PoolTimeout

from pipeline.core import transient
from pipeline.store.interface import JobStore
from pipeline.store.retries import retried_per_call
from pipeline.store.sql import SqlStore


def named_conninfo(url: str, role: str, *, connect_timeout_s: float = 5.0, statement_timeout_s: float = 0.0) -> str:
    """``url`` with an ``application_name`` saying what holds the connection and where (``pg_stat_activity``
    then shows an operator each host's and process's share of ``max_connections``), a connect timeout (a server
    that is down or unreachable is an error within seconds, never a hang) and, if given, a statement timeout."""
    extra: dict[str, Any] = {"connect_timeout": max(1, round(connect_timeout_s))}
    if statement_timeout_s > 0:
        extra["options"] = f"-c statement_timeout={round(statement_timeout_s * 1000)}"
    name = f"paperline-{role} {socket.gethostname()}:{os.getpid()}"[:63]
    return make_conninfo(url, application_name=name, **extra)


@contextmanager
def schema_lock(url: str) -> Iterator[None]:
    """Held while tables are made: ``CREATE TABLE IF NOT EXISTS`` fails (a duplicate type) when another process
    makes the same table at the same moment, as hosts started together do. Released when the connection closes."""
    with psycopg.connect(named_conninfo(url, "schema"), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        yield


# Writes NOTIFY this channel at commit (no payload: readers re-read what changed since the revision they saw).
CHANNEL = "paperline_changes"
# Taken while creating tables, so processes starting together do not race on the DDL.
SCHEMA_LOCK = 0x5A9E211E
# The text search configuration passages.text_search is made with (migration 0004); queries must use the same.
TEXT_SEARCH_CONFIG = "simple"
# First key of the per-user advisory locks (the second is the user's hashtext), apart from SCHEMA_LOCK's space.
USER_LOCK_CLASS = 0x5A9E
# First key of the lock that serializes webhook delivery claims.
CLAIM_LOCK_CLASS = 0x5A9F


class _Result:
    """What a statement returned, read before its connection went back to the pool."""

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self.rowcount = cursor.rowcount
        self._rows = cursor.fetchall() if cursor.description else []

    def fetchone(self) -> DictRow | None:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[DictRow]:
        return self._rows

    def __iter__(self) -> Iterator[DictRow]:
        return iter(self._rows)


class _Connection:
    """The calls the shared SQL makes (``execute`` with ``?`` placeholders, ``executemany``), on one connection.

    The shared SQL keeps ``?``: sqlite3 takes only ``?`` and ``:name``, psycopg only ``%s`` and ``%(name)s``, so no
    one style runs on both, and the SQL holds no literal ``?`` or ``%`` (LIKE patterns are parameters)."""

    def __init__(self, conn: psycopg.Connection[Any], store: PostgresJobStore) -> None:
        self._conn, self._store = conn, store
        #: whether this transaction moved the revision (readers are then notified at commit)
        self.changed = False

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[DictRow]:
        self._store.count_statement()
        self.changed |= sql.startswith("UPDATE revision")
        return self._conn.execute(sql.replace("?", "%s"), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._store.count_statement()
        with self._conn.cursor() as cursor:
            cursor.executemany(sql.replace("?", "%s"), [tuple(row) for row in rows])


class _PooledReads:
    """Single statements outside a transaction: each borrows a pooled connection for just that statement."""

    def __init__(self, store: PostgresJobStore) -> None:
        self._store = store

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Result:
        # After a restart every pooled connection may be dead (the pool discards each one that fails): a read alone
        # is safe to send again, on each of them in turn and then on a fresh one.
        for attempts_left in range(self._store.max_size, -1, -1):
            try:
                with self._store._connected() as conn:
                    return _Result(_Connection(conn, self._store).execute(sql, params))
            except PoolTimeout:
                raise  # no connection within the timeout: the server is down, and waiting again would double it
            except psycopg.OperationalError:
                if not attempts_left:
                    raise
        raise AssertionError("unreachable")


def _connection_trouble(exc: BaseException) -> bool:
    """Connection refused or reset, an administrator's shutdown, a statement or pool timeout, a serialization
    failure or a deadlock (``PoolTimeout`` is one too): psycopg's ``OperationalError`` family."""
    return isinstance(exc, psycopg.OperationalError)


transient.register(transient.JOB_STORE, _connection_trouble)


@retried_per_call
class PostgresJobStore(SqlStore, JobStore):
    """``JobStore`` on a PostgreSQL database, shared by every process and host that names it."""

    INSERTION_ORDER = "seq"

    def __init__(
        self,
        url: str,
        *,
        max_size: int = 4,
        timeout_s: float = 5.0,
        statement_timeout_s: float = 30.0,
        count_statements: bool = True,
    ) -> None:
        """``timeout_s`` bounds connecting and waiting for a pooled connection (the server is down: an error, not
        a hang); ``statement_timeout_s`` bounds each statement on the server (0: none); ``count_statements``: in
        the Prometheus counter (off for a short command: no one scrapes it, and prometheus_client is heavy)."""
        self.url, self.max_size, self.timeout_s = url, max_size, timeout_s
        self.statement_timeout_s = statement_timeout_s
        self._pool: ConnectionPool | None = None
        self._pool_pid = 0
        self._listener: psycopg.Connection[Any] | None = None
        self._listener_pid = 0
        self._beats: psycopg.Connection[Any] | None = None
        self._beats_pid = 0
        self._beats_lock = threading.Lock()
        self._lock = threading.Lock()
        #: counts the SQL statements this process runs: what readers such as the dashboard cost
        self.count_statement: Callable[[], None] = lambda: None
        if count_statements:
            # imported here, not at the top: a worker chooses prometheus_client's multiprocess mode before it opens
            # a store
            from pipeline.core.metrics import STORE_STATEMENTS

            self.count_statement = STORE_STATEMENTS.inc

    @property
    def pool(self) -> ConnectionPool:
        """This process's pool, opened on first use (a forked child opens its own, never its parent's)."""
        with self._lock:
            if self._pool is None or self._pool_pid != os.getpid():
                conninfo = named_conninfo(
                    self.url, "store", connect_timeout_s=self.timeout_s, statement_timeout_s=self.statement_timeout_s
                )
                self._pool = ConnectionPool(
                    conninfo,
                    min_size=1,
                    max_size=self.max_size,
                    kwargs={"row_factory": dict_row},  # rows read by name, as sqlite3.Row's are
                    timeout=self.timeout_s,
                    # psycopg_pool retries a lost connection with a doubling delay for up to five minutes, so the
                    # pool could come back half a minute after the server did; a short give-up lets the next
                    # request start a fresh attempt at once instead.
                    reconnect_timeout=max(2 * self.timeout_s, 1.0),
                    name=f"paperline-{os.getpid()}",
                    open=True,
                )
                self._pool_pid = os.getpid()
            return self._pool

    @property
    def connection(self) -> _PooledReads:
        return _PooledReads(self)

    @contextmanager
    def _connected(self, first: str = "") -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection that answered (``first``, if given, run on it), within ``timeout_s``. A connection
        the server dropped (a restart) fails its first statement: it is discarded and another one tried, so the
        first call after a restart is not an error. Past the timeout the last error is raised (the API answers 503;
        workers wait longer: ``pipeline.store.retries``)."""
        deadline = time.monotonic() + self.timeout_s
        while True:
            stack = ExitStack()
            try:
                remaining = max(0.1, deadline - time.monotonic())
                conn = stack.enter_context(self.pool.connection(timeout=remaining))  # commits, or rolls back
                if first:
                    conn.execute(first)
            except psycopg.OperationalError:
                stack.__exit__(*sys.exc_info())  # a broken connection goes back to the pool to be replaced
                if time.monotonic() >= deadline:
                    raise
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
                continue
            with stack:
                yield conn
            return

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[_Connection]:
        first = (
            "SELECT value FROM revision WHERE id = 1 FOR UPDATE"
            if write
            else "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"
        )
        with self._connected(first) as conn:  # commits on success, rolls back on an exception
            adapted = _Connection(conn, self)
            self.count_statement()
            yield adapted
            if adapted.changed:  # delivered to listeners when the transaction commits, never before
                adapted.execute(f"NOTIFY {CHANNEL}")

    @contextmanager
    def beat_transaction(self) -> Iterator[_Connection]:
        """Heartbeats on this process's own autocommit connection: they neither wait for a pooled connection nor
        queue behind the revision lock (a beat moves no revision), so a slow transaction never starves them. A
        broken connection is opened again on the next beat."""
        with self._beats_lock:
            if self._beats is None or self._beats.closed or self._beats_pid != os.getpid():
                self._beats = psycopg.connect(
                    named_conninfo(self.url, "heartbeat"),
                    autocommit=True,
                    row_factory=dict_row,
                    connect_timeout=max(1, int(self.timeout_s)),
                )
                self._beats_pid = os.getpid()
            try:
                yield _Connection(self._beats, self)
            except psycopg.OperationalError:
                self._beats.close()
                raise

    SKIP_LOCKED = " FOR UPDATE SKIP LOCKED"

    @contextmanager
    def claim_transaction(self) -> Iterator[_Connection]:
        """Claims of webhook deliveries lock only the rows they take (skipping rows another worker holds), not the
        revision row every job write queues for: a busy delivery loop never slows the jobs."""
        with self._connected() as conn:
            yield _Connection(conn, self)

    notifies_changes = True

    def wait_for_change(self, timeout_s: float) -> bool:
        """LISTEN on a connection of this process's own: True as soon as a write commits, False after
        ``timeout_s`` without one. A broken connection is reopened on the next call, and meanwhile this answers
        True, so the reader re-reads whatever changed while it was away."""
        try:
            listener = self._listening()
            for _notify in listener.notifies(timeout=timeout_s, stop_after=1):
                return True
            return False
        except psycopg.Error:
            self._close_listener()
            time.sleep(min(timeout_s, 1.0))
            return True

    def _listening(self) -> psycopg.Connection[Any]:
        with self._lock:
            if self._listener is None or self._listener_pid != os.getpid() or self._listener.closed:
                conninfo = named_conninfo(self.url, "feed", connect_timeout_s=self.timeout_s)
                self._listener = psycopg.connect(conninfo, autocommit=True)
                self._listener.execute(f"LISTEN {CHANNEL}")
                self._listener_pid = os.getpid()
            return self._listener

    def _close_listener(self) -> None:
        with self._lock:
            if self._listener is not None and self._listener_pid == os.getpid():
                self._listener.close()
            self._listener = None

    def _lock_claims(self, conn: Any) -> None:
        # Claims skip rows another holds, but the per-user cap counts every claimer's leases: claims take turns.
        conn.execute("SELECT pg_advisory_xact_lock(CAST(? AS INTEGER), 0)", (CLAIM_LOCK_CLASS,))

    def _lock_user(self, conn: Any, user: str) -> None:
        # Writes are already serialized by the revision row; the per-user lock keeps the limit atomic even if
        # that ever changes, and is released with the transaction.
        conn.execute(
            "SELECT pg_advisory_xact_lock(CAST(? AS INTEGER), hashtext(CAST(? AS TEXT)))", (USER_LOCK_CLASS, user)
        )

    def _keyword_match(self, phrases: Sequence[str]) -> tuple[str, str, str, list[Any]]:
        # phraseto_tsquery takes any text as words in order (never tsquery syntax); the phrases are alternatives.
        config = TEXT_SEARCH_CONFIG
        query = " || ".join(f"phraseto_tsquery('{config}', CAST(? AS TEXT))" for _ in phrases)
        source = f"(SELECT {query} AS query) q JOIN passages p ON p.text_search @@ q.query"
        return source, "TRUE", "ts_rank_cd(p.text_search, q.query)", list(phrases)

    def initialize_schema(self) -> None:
        """Bring the database to the newest schema (``pipeline.store.migrations``): one query on this process's pool
        when it is already there; else on a connection of its own, in one transaction holding the schema advisory
        lock, so hosts and processes starting together on a new or older database upgrade it one after the other
        (``CREATE TABLE`` fails, a duplicate type, when two make one table at the same moment)."""
        from pipeline.store import migrations

        if migrations.is_current(self._schema_versions()):  # the usual case, one query: alembic is not imported
            return
        import sqlalchemy as sa

        from pipeline.store.migrations.upgrade import upgrade

        conninfo = named_conninfo(self.url, "schema", connect_timeout_s=self.timeout_s)
        engine = sa.create_engine(
            "postgresql+psycopg://", creator=lambda: psycopg.connect(conninfo), poolclass=sa.NullPool
        )
        upgrade(engine, lock=f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})")
        self.pool.wait(timeout=self.timeout_s)  # and this process's own connections are ready, as before

    def _schema_versions(self) -> list[str]:
        """The database's schema version, read on this process's pool (which it opens): none for a new database."""
        from pipeline.store import migrations

        with self.pool.connection() as conn, conn.cursor(row_factory=tuple_row) as cursor:
            try:
                return [str(row[0]) for row in cursor.execute(migrations.VERSION_QUERY).fetchall()]
            except psycopg.errors.UndefinedTable:
                conn.rollback()
                return []

    def close(self) -> None:
        self._close_listener()
        with self._beats_lock:
            if self._beats is not None and self._beats_pid == os.getpid():
                self._beats.close()
            self._beats = None
        with self._lock:
            if self._pool is not None and self._pool_pid == os.getpid():
                self._pool.close()
            self._pool = None
