"""Transient faults of the services Paperline leans on (the job store, the object store, the queue) and how long
to wait them out.

A transient error (connection refused or reset, a timeout, a server restarting, a 5xx or a throttling answer, a
serialization failure, SQLite's ``database is locked`` beyond its busy timeout, a full disk) says "try again
shortly"; a
permanent one (a missing object, access denied, a bad request) never gets better by waiting. ``retrying`` calls an
operation again with exponential backoff and jitter until it succeeds, fails permanently, or the budget runs out
(``PAPERLINE_TRANSIENT_RETRY_S``); whoever runs a job's step can listen to the waits (``reporting_waits``) and
write them on the job, so an analyst sees "waiting for the object store" rather than a silent pause.

``Patient`` wraps a job store or the queue so that every call a worker makes waits out an outage the same way.
"""

from __future__ import annotations

import errno
import functools
import logging
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

log = logging.getLogger("paperline.transient")
T = TypeVar("T")

#: What a listener hears before each retry: which service (``OBJECT_STORE``, ...), the error, seconds waited.
WaitListener = Callable[[str, BaseException, float], None]

OBJECT_STORE = "object store"
JOB_STORE = "job store"
QUEUE = "job queue"
LOCAL_DISK = "worker's disk"

# S3 error codes that mean "slow down" or "the server had a problem": the request itself was fine.
TRANSIENT_S3_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestThrottled",
        "RequestLimitExceeded",
        "TooManyRequests",
        "RequestTimeout",
        "RequestTimeoutException",
        "ServiceUnavailable",
        "InternalError",
        "InternalServerError",
        "503",
        "500",
        "502",
        "504",
    }
)
# SQLite's words for a lock held longer than the busy timeout, or a full disk.
SQLITE_BUSY = ("database is locked", "database is busy", "database table is locked", "database or disk is full")
# A full disk (or quota) on this host: space comes back as the cache is trimmed, other jobs end or an operator acts.
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
# A wait is logged (and written on a job) at its first retry, then again at most this often (seconds).
REPORT_EVERY_S = 30.0

_listener: ContextVar[WaitListener | None] = ContextVar("paperline_wait_listener", default=None)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The error and what it was raised from (boto3's transfer manager wraps the client's error)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _transient_one(exc: BaseException) -> bool:
    try:
        import botocore.exceptions as boto
    except ImportError:  # pragma: no cover - botocore is a dependency
        boto = None
    if boto is not None:
        if isinstance(exc, (boto.ConnectionError, boto.HTTPClientError)):
            return True  # EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError
        if isinstance(exc, boto.ClientError):
            error = exc.response.get("Error", {})
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            return str(error.get("Code", "")) in TRANSIENT_S3_CODES or status >= 500 or status == 429
    try:
        import psycopg
    except ImportError:  # pragma: no cover - only with PostgreSQL
        pass
    else:
        if isinstance(exc, psycopg.OperationalError):
            # connection refused/reset, admin shutdown, statement or pool timeout, serialization failure, deadlock
            return True
    if isinstance(exc, sqlite3.OperationalError):
        return any(words in str(exc).lower() for words in SQLITE_BUSY)
    if isinstance(exc, OSError) and exc.errno in DISK_FULL:
        return True
    return isinstance(exc, (ConnectionError, TimeoutError))


def is_transient(exc: BaseException) -> bool:
    """Whether waiting may make this error go away (see the module's docstring for what counts)."""
    return any(_transient_one(cause) for cause in _causes(exc))


def service_of(exc: BaseException) -> str:
    """Which service a transient error came from: this host's disk (full), the object store (botocore's errors),
    else the job store."""
    causes = list(_causes(exc))
    if any(isinstance(cause, OSError) and cause.errno in DISK_FULL for cause in causes):
        return LOCAL_DISK
    if any(type(cause).__module__.startswith(("botocore", "boto3", "s3transfer")) for cause in causes):
        return OBJECT_STORE
    return JOB_STORE


def backoff(attempt: int, *, base: float = 0.25, cap: float = 2.0) -> float:
    """Seconds before retry number ``attempt`` (1, 2, ...): exponential with jitter (so processes that lost the
    same server do not come back in step), capped low so a worker is back within a couple of seconds of its server
    (its chunks' heartbeats resume before a sweeper would think them lost)."""
    return random.uniform(base / 2, min(cap, base * 2 ** (attempt - 1)))


@contextmanager
def reporting_waits(listener: WaitListener) -> Iterator[None]:
    """Within this block (in this thread or task), every retry after a transient fault is told to ``listener``."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


def _report(service: str, exc: BaseException, waited: float) -> None:
    listener = _listener.get()
    if listener is None:
        return
    token = _listener.set(None)  # what the listener does (writing an event) must not report waits of its own
    try:
        listener(service, exc, waited)
    except Exception:
        log.warning("could not record a wait for the %s", service, exc_info=True)
    finally:
        _listener.reset(token)


def retrying(
    operation: Callable[[], T],
    *,
    budget_s: float,
    service: str,
    what: str = "",
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``operation()``, called again after each transient error until it succeeds or ``budget_s`` seconds have
    passed (then the last error is raised). A permanent error is raised at once."""
    started = time.monotonic()
    attempt = 0
    reported_at: float | None = None
    while True:
        try:
            return operation()
        except Exception as exc:
            waited = time.monotonic() - started
            if not is_transient(exc) or waited >= budget_s:
                raise
            attempt += 1
            pause = min(backoff(attempt), max(0.0, budget_s - waited))
            if service_of(exc) == LOCAL_DISK:  # an object-store download that could not be written here
                service = LOCAL_DISK
            if reported_at is None or waited - reported_at >= REPORT_EVERY_S:
                log.warning("the %s failed (%s%s); retrying for up to %.0f s", service, what and f"{what}: ", exc,
                            budget_s - waited)  # fmt: skip
                reported_at = waited
            _report(service, exc, waited)
            sleep(pause)


class Patient:
    """A job store (or the queue's ``BoundTasks``) whose every call waits out a transient outage of its service for
    up to ``budget_s`` seconds: a worker's step pauses while PostgreSQL restarts instead of failing. Each store call
    is one transaction that either committed or rolled back, and enqueueing is one insert, so calling again is what
    a client would do anyway. Only the worker uses it; the server fails fast and answers 503."""

    PASSED_THROUGH = frozenset({"close", "wait_for_change", "transaction", "processor"})

    def __init__(self, target: Any, budget_s: float, service: str = JOB_STORE) -> None:
        self.inner, self.budget_s, self.service = target, budget_s, service

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.inner, name)
        if name.startswith("_") or not callable(value) or name in self.PASSED_THROUGH:
            return value

        @functools.wraps(value)
        def call(*args: Any, **kwargs: Any) -> Any:
            return retrying(lambda: value(*args, **kwargs), budget_s=self.budget_s, service=self.service, what=name)

        return call
