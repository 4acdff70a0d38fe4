"""Which faults are waited out, for how long, and who hears about the wait (pipeline.core.transient)."""

from __future__ import annotations

import errno
import sqlite3
import threading
from pathlib import Path

import psycopg
import pytest
from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from psycopg_pool import PoolTimeout

from pipeline.core import transient
from pipeline.files.storage import StorageUnavailable
from pipeline.store.postgres import PostgresJobStore  # noqa: F401  (registers psycopg's transient errors)
from pipeline.store.sqlite import SqliteJobStore


def client_error(code: str, status: int) -> ClientError:
    response = {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "PutObject")  # type: ignore[arg-type]


def wrapped(inner: Exception) -> Exception:
    """An error raised from another, as boto3's transfer manager wraps the client's."""
    try:
        try:
            raise inner
        except Exception as exc:
            raise S3UploadFailedError("Failed to upload") from exc
    except S3UploadFailedError as outer:
        return outer


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="http://127.0.0.1:8333/"),
        ConnectTimeoutError(endpoint_url="http://127.0.0.1:8333/"),
        ReadTimeoutError(endpoint_url="http://127.0.0.1:8333/"),
        client_error("SlowDown", 503),
        client_error("InternalError", 500),
        client_error("Whatever", 502),
        wrapped(client_error("SlowDown", 503)),
        psycopg.OperationalError("connection refused"),
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.errors.SerializationFailure("could not serialize access"),
        psycopg.errors.DeadlockDetected("deadlock detected"),
        PoolTimeout("couldn't get a connection after 5.00 sec"),
        sqlite3.OperationalError("database is locked"),
        ConnectionResetError(104, "Connection reset by peer"),
        TimeoutError("timed out"),
        OSError(errno.ENOSPC, "No space left on device"),
    ],
    ids=repr,
)
def test_faults_of_a_service_are_transient(error: Exception) -> None:
    assert transient.is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        client_error("NoSuchKey", 404),
        client_error("AccessDenied", 403),
        client_error("InvalidRequest", 400),
        wrapped(client_error("AccessDenied", 403)),
        psycopg.errors.UndefinedTable('relation "jobs" does not exist'),
        psycopg.errors.UniqueViolation("duplicate key"),
        sqlite3.OperationalError("no such table: jobs"),
        ValueError("bad"),
        FileNotFoundError("gone"),
    ],
    ids=repr,
)
def test_permanent_errors_are_not_retried(error: Exception) -> None:
    assert not transient.is_transient(error)
    calls: list[int] = []

    def operation() -> None:
        calls.append(1)
        raise error

    with pytest.raises(type(error)):
        transient.retrying(operation, budget_s=60, service=transient.OBJECT_STORE, sleep=lambda s: None)
    assert len(calls) == 1, "a permanent error fails at once"


def test_a_transient_error_is_retried_until_it_passes_and_the_wait_is_reported() -> None:
    outcomes: list[Exception | str] = [EndpointConnectionError(endpoint_url="http://s3/")] * 3 + ["stored"]
    pauses: list[float] = []
    heard: list[tuple[str, str]] = []

    def operation() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    with transient.reporting_waits(lambda service, error, waited: heard.append((service, str(error)))):
        result = transient.retrying(operation, budget_s=60, service=transient.OBJECT_STORE, sleep=pauses.append)
    assert result == "stored"
    assert len(pauses) == 3 and all(0 < pause <= 2.0 for pause in pauses)
    assert heard == [("object store", 'Could not connect to the endpoint URL: "http://s3/"')] * 3, "told each retry"


def test_a_transient_error_past_the_budget_is_raised() -> None:
    def operation() -> None:
        raise psycopg.OperationalError("connection refused")

    with pytest.raises(psycopg.OperationalError):
        transient.retrying(operation, budget_s=0.3, service=transient.JOB_STORE)


def test_backoff_grows_and_stays_under_its_cap() -> None:
    firsts = [transient.backoff(1) for _ in range(50)]
    lates = [transient.backoff(9) for _ in range(50)]
    assert max(firsts) <= 0.25 and max(lates) <= 2.0 and sum(lates) > sum(firsts)
    assert len(set(lates)) > 1, "jittered"


def test_a_patient_store_waits_out_a_locked_sqlite_database(tmp_path: Path) -> None:
    """A real SQLite store whose database another process holds locked past its busy timeout: a worker's call
    waits until the lock goes, instead of failing its step."""
    store = SqliteJobStore(tmp_path / "jobs.db", timeout_s=0.1)
    store.initialize_schema()
    holder = sqlite3.connect(tmp_path / "jobs.db", isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        store.beat_worker("h:1", "h", 1)

    release = threading.Timer(0.8, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        store.retry_s = 30  # a worker's store (pipeline.worker.tasks); the server's stays at 0 and fails fast
        store.beat_worker("h:1", "h", 1)
    finally:
        release.join()
        holder.close()
    assert [w.id for w in store.list_workers()] == ["h:1"]
    store.close()


def test_the_service_a_fault_came_from_is_named() -> None:
    assert transient.service_of(wrapped(client_error("SlowDown", 503))) == "object store"
    assert transient.service_of(psycopg.OperationalError("connection refused")) == "job store"
    assert transient.service_of(OSError(errno.ENOSPC, "No space left on device")) == "worker's disk"


def test_the_api_answers_a_fault_of_a_service_with_503_and_retry_after() -> None:
    from pipeline.api.problems import RETRY_AFTER_S, problem_for

    store_down = problem_for(PoolTimeout("couldn't get a connection after 3.00 sec"))
    assert store_down is not None and store_down.status == 503 and store_down.retry_after == RETRY_AFTER_S
    assert store_down.detail == "The job store is unreachable at the moment; retrying. Try again in a few seconds."
    bucket_down = problem_for(wrapped(EndpointConnectionError(endpoint_url="http://10.0.0.1:8333/secret-bucket")))
    assert bucket_down is not None and bucket_down.status == 503 and "file storage" in bucket_down.detail
    assert "10.0.0.1" not in bucket_down.detail, "no address or path leaves the server"
    assert problem_for(client_error("AccessDenied", 403)) is None, "a permanent fault stays a bare 500"
    unusable = problem_for(StorageUnavailable("The file storage s3://secret-bucket at http://10.0.0.1 cannot be used"))
    assert unusable is not None and unusable.status == 503 and "secret-bucket" not in unusable.detail


def test_a_full_disk_is_reported_as_the_disk_whatever_the_operation() -> None:
    outcomes: list[Exception | str] = [OSError(errno.ENOSPC, "No space left on device"), "downloaded"]
    heard: list[str] = []

    def download() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    with transient.reporting_waits(lambda service, error, waited: heard.append(service)):
        transient.retrying(download, budget_s=60, service=transient.OBJECT_STORE, sleep=lambda s: None)
    assert heard == ["worker's disk"]
