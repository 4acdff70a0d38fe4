"""PostgreSQL restarting under the job store and the queue (a server of this test's own, stopped with ``pg_ctl stop
-m fast`` and started again): the server's calls fail fast, a worker's calls and enqueueing wait it out, and a
connection the restart dropped is replaced without an error."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest

from huey_config import make_huey
from pipeline.core import transient
from pipeline.core.settings import Settings
from pipeline.store.postgres import PostgresJobStore
from pipeline.worker.tasks import bind_tasks
from tests.postgres_server import PostgresServer

pytestmark = pytest.mark.integration


@pytest.fixture
def server() -> Iterator[PostgresServer]:
    own = PostgresServer().start()
    yield own
    own.stop()


def test_the_store_fails_fast_while_down_and_reconnects_silently(server: PostgresServer) -> None:
    store = PostgresJobStore(server.new_database(), timeout_s=1.0)
    store.initialize_schema()
    store.beat_worker("h:1", "h", 1)
    server.halt()
    started = time.monotonic()
    with pytest.raises(psycopg.OperationalError) as failed:
        store.list_workers()
    assert time.monotonic() - started < 10, "an error, not a hang"
    assert transient.is_transient(failed.value)
    server.resume()
    assert [w.id for w in store.list_workers()] == ["h:1"], "the dropped connection was replaced"
    store.close()


def test_a_workers_calls_and_enqueueing_wait_out_a_restart(server: PostgresServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = server.new_database()
    store = PostgresJobStore(url, timeout_s=1.0)
    store.initialize_schema()
    queue = make_huey(Settings(home=tmp_path, database_url=url))
    bound = bind_tasks(queue, lambda bound: None)  # type: ignore[arg-type, return-value]
    store.retry_s = bound.retry_s = 60  # what a worker's processor sets (pipeline.worker.tasks)
    server.halt()
    restart = threading.Timer(3.0, server.resume)
    restart.start()
    try:
        store.beat_worker("h:2", "h", 2)
        bound.enqueue_merge("job-1")  # what a worker does right after marking a job's last chunk done
    finally:
        restart.join()
    assert [w.id for w in store.list_workers()] == ["h:2"]
    assert [(t.name, t.args) for t in queue.pending()] == [("merge_document", ("job-1",))]
    queue.storage.close()
    store.close()
