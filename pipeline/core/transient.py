"""Transient faults of the services Paperline leans on (the job store, the object store, the queue) and how long
to wait them out.

A transient error (connection refused or reset, a timeout, a server restarting, a 5xx or a throttling answer, a
serialization failure, SQLite's ``database is locked`` beyond its busy timeout, a full disk) says "try again
shortly"; a permanent one (a missing object, access denied, a bad request) never gets better by waiting. Each
backend says which of its own errors are transient (``register``: the SQLite and PostgreSQL stores, the S3 storage),
so this module imports no driver. ``retrying`` calls an operation again (tenacity: exponential backoff with jitter)
until it succeeds, fails permanently, or the budget runs out (``PAPERLINE_TRANSIENT_RETRY_S``); whoever runs a job's
step can listen to the waits (``reporting_waits``) and write them on the job, so an analyst sees "waiting for the
object store" rather than a silent pause. A worker's store retries each call, one transaction, this way
(``pipeline.store.retries``); the server's fails fast and answers 503.
"""

from __future__ import annotations

import errno
import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import tenacity

log = logging.getLogger("paperline.transient")
T = TypeVar("T")

#: What a listener hears before each retry: which service (``OBJECT_STORE``, ...), the error, seconds waited.
WaitListener = Callable[[str, BaseException, float], None]

OBJECT_STORE = "object store"
JOB_STORE = "job store"
QUEUE = "job queue"
LOCAL_DISK = "worker's disk"

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


#: Which errors of a backend are transient, by the service they come from: each backend registers its own.
_classifiers: list[tuple[str, Callable[[BaseException], bool]]] = []


def register(service: str, is_transient_error: Callable[[BaseException], bool]) -> None:
    """Teach this module a backend's transient errors (a driver's connection errors, a throttling answer): called
    once by the backend's module, which is imported before it can raise any."""
    if (service, is_transient_error) not in _classifiers:
        _classifiers.append((service, is_transient_error))


def _classified(exc: BaseException) -> str | None:
    """The service whose backend calls ``exc`` transient, if one does."""
    return next((service for service, test in _classifiers if test(exc)), None)


def _transient_one(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in DISK_FULL:
        return True
    return _classified(exc) is not None or isinstance(exc, (ConnectionError, TimeoutError))


def is_transient(exc: BaseException) -> bool:
    """Whether waiting may make this error go away (see the module's docstring for what counts)."""
    return any(_transient_one(cause) for cause in _causes(exc))


def service_of(exc: BaseException) -> str:
    """Which service a transient error came from: this host's disk (full), else the backend that calls it
    transient, else the job store."""
    causes = list(_causes(exc))
    if any(isinstance(cause, OSError) and cause.errno in DISK_FULL for cause in causes):
        return LOCAL_DISK
    return next((service for cause in causes if (service := _classified(cause))), JOB_STORE)


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


_retrying_here: ContextVar[bool] = ContextVar("paperline_retrying_here", default=False)


@contextmanager
def without_retries() -> Iterator[None]:
    """Within this block, calls fail at their first transient error (a worker's goodbye does not wait for a
    database that is down; a call made inside another's retry does not multiply its budget)."""
    token = _retrying_here.set(True)
    try:
        yield
    finally:
        _retrying_here.reset(token)


def retrying(
    operation: Callable[[], T],
    *,
    budget_s: float,
    service: str,
    what: str = "",
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``operation()``, called again after each transient error until it succeeds or ``budget_s`` seconds have
    passed (then the last error is raised). A permanent error is raised at once, and so is any error inside
    ``without_retries`` or inside another ``retrying`` (the outer one waits)."""
    if budget_s <= 0 or _retrying_here.get():
        return operation()
    import tenacity  # (here: it imports Tornado and asyncio with it, which a short command that never retries skips)

    started = time.monotonic()
    reported_at: list[float] = []

    def waiting(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        assert exc is not None
        waited = time.monotonic() - started
        heard = LOCAL_DISK if service_of(exc) == LOCAL_DISK else service  # a download that could not be written
        if not reported_at or waited - reported_at[-1] >= REPORT_EVERY_S:
            log.warning("the %s failed (%s%s); retrying for up to %.0f s", heard, what and f"{what}: ", exc,
                        budget_s - waited)  # fmt: skip
            reported_at.append(waited)
        _report(heard, exc, waited)

    def pause(state: tenacity.RetryCallState) -> float:
        return min(backoff(state.attempt_number), max(0.0, budget_s - (time.monotonic() - started)))

    retry = tenacity.Retrying(
        retry=tenacity.retry_if_exception(is_transient),
        stop=tenacity.stop_after_delay(budget_s),
        wait=pause,
        before_sleep=waiting,
        sleep=sleep,
        reraise=True,
    )
    token = _retrying_here.set(True)
    try:
        return retry(operation)
    finally:
        _retrying_here.reset(token)
