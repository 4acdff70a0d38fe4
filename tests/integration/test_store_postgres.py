"""The store contract on PostgreSQL (a real server), and its atomic rules with processes racing on one database."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator

import pytest

from pipeline.core.models import ChunkStatus, JobStatus, Stage
from pipeline.jobs.chunking import plan_chunks
from pipeline.store.postgres import PostgresJobStore
from tests.store_contract import StoreContract, new_job

pytestmark = pytest.mark.integration


class TestPostgresJobStore(StoreContract):
    @pytest.fixture
    def store(self, postgres_url: str) -> Iterator[PostgresJobStore]:
        store = PostgresJobStore(postgres_url)
        store.initialize_schema()
        yield store
        store.close()


def _race(url: str, worker: str, chunks: int, barrier, results) -> None:  # type: ignore[no-untyped-def]
    """One process: claim whatever chunks it can, then finish each; report claims and who ended the last one."""
    store = PostgresJobStore(url)
    barrier.wait(timeout=30)
    claimed = [i for i in range(chunks) if store.claim_chunk("job1", i, worker) is not None]
    lasts = [store.finish_chunk("job1", i, ChunkStatus.DONE) for i in claimed]
    results.put((worker, claimed, lasts.count(True)))
    store.close()


def test_processes_racing_on_one_database_claim_each_chunk_once_and_one_finishes(postgres_url: str) -> None:
    store = PostgresJobStore(postgres_url)
    store.initialize_schema()
    store.create(new_job(pages=200))
    store.start("job1")
    store.plan_chunks("job1", plan_chunks(200, 5, 0))  # 40 chunks
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(4), context.Queue()
    racers = [context.Process(target=_race, args=(postgres_url, f"host{n}", 40, barrier, results)) for n in range(4)]
    for racer in racers:
        racer.start()
    outcomes = [results.get(timeout=60) for _ in racers]
    for racer in racers:
        racer.join(timeout=30)
    claimed = sorted(i for _, chunks, _ in outcomes for i in chunks)
    assert claimed == list(range(40)), "every chunk claimed exactly once"
    assert sum(last for _, _, last in outcomes) == 1, "exactly one process ended the last chunk"
    job = store.get("job1")
    assert job and job.status is JobStatus.RUNNING and job.stage is Stage.MERGING and job.pages_done == 200
    revisions = store.changes_since(0)
    assert revisions.revision > 80 and {c.status for c in revisions.chunks} == {ChunkStatus.DONE}
    store.close()


def test_a_job_runs_through_a_worker_on_postgresql_store_and_queue(tmp_path, postgres_url: str) -> None:  # type: ignore[no-untyped-def]
    from pipeline import Paperline, Settings
    from tests.conftest import worker_env
    from tests.docgen import known_text, make_text_pdf
    from tests.helpers import start_worker_process, stop_process, wait_for_worker

    settings = Settings(home=tmp_path / "home", database_url=postgres_url, progress_interval_s=0.05)
    app = Paperline(settings)
    log_path = tmp_path / "worker.log"
    worker, log = start_worker_process(worker_env(settings), log_path, workers=2)
    try:
        wait_for_worker(app, worker, log_path, timeout=60)
        job = app.submit(make_text_pdf(tmp_path / "pg.pdf", 45))
        [job] = app.wait([job.id], timeout_s=60, poll_s=0.05)
        assert job.status is JobStatus.COMPLETED, log_path.read_text()[-3000:]
        assert job.chunks_total == 3 and app.result(job.id, "text") == known_text(45)
        assert not settings.queue_path.exists() and not settings.store_path.exists(), "nothing in SQLite"
    finally:
        stop_process(worker)
        log.close()
        app.close()


def test_llm_slots_on_postgresql_bound_requests_in_flight_across_connections(postgres_url: str) -> None:
    import threading
    import time

    from pipeline.engines.llm_slots import PostgresSlots

    slots = PostgresSlots(postgres_url, 2, poll_s=0.01)
    holding, peak, lock = [0], [0], threading.Lock()

    def call() -> None:
        with slots.acquire(timeout_s=30):
            with lock:
                holding[0] += 1
                peak[0] = max(peak[0], holding[0])
            time.sleep(0.1)
            with lock:
                holding[0] -= 1

    threads = [threading.Thread(target=call) for _ in range(6)]  # six "hosts", each its own connection
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert peak[0] == 2 and holding[0] == 0


def test_a_slot_held_by_a_killed_worker_comes_free(postgres_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import signal
    import subprocess
    import sys

    from pipeline.engines.llm_slots import PostgresSlots
    from tests.helpers import ROOT, wait_until

    held = tmp_path / "held"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, pathlib\nfrom pipeline.engines.llm_slots import PostgresSlots\n"
            "with PostgresSlots(sys.argv[1], 1).acquire():\n    pathlib.Path(sys.argv[2]).touch()\n    time.sleep(120)",
            postgres_url,
            str(held),
        ],
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        wait_until(held.exists, timeout=30, what="the holder to take the only slot")
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
        with PostgresSlots(postgres_url, 1, poll_s=0.05).acquire(timeout_s=30) as slot:
            assert slot == 0, "the server released the dead session's lock"
    finally:
        if holder.poll() is None:
            os.killpg(holder.pid, signal.SIGKILL)
            holder.wait(timeout=10)


def test_a_listening_reader_is_woken_by_a_commit_not_by_its_timeout(postgres_url: str) -> None:
    import threading

    reader, writer = PostgresJobStore(postgres_url), PostgresJobStore(postgres_url)
    reader.initialize_schema()
    assert reader.wait_for_change(0.2) is False, "nothing written: the wait runs out"
    woken: list[bool] = []
    waiting = threading.Thread(target=lambda: woken.append(reader.wait_for_change(60)))
    waiting.start()
    writer.beat_worker("h:1", "h", 1)  # a heartbeat moves no revision: no notification
    writer.create(new_job())
    waiting.join(timeout=60)
    assert woken == [True], "notified at the commit (a timeout would have answered False)"
    reader.close()
    writer.close()


def test_migrate_copies_a_sqlite_history_into_postgresql(app, tmp_path, postgres_url: str) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import paperline
    from tests.docgen import make_text_pdf
    from tests.sync_runner import run_queued

    hook, _secret = app.add_webhook("local", "https://93.184.216.34/hook")
    done = app.submit(make_text_pdf(tmp_path / "a.pdf", 45), profile="markdown")
    refused = app.submit(b"not a pdf", "notes.pdf")
    indexed = app.submit(make_text_pdf(tmp_path / "b.pdf", 2), profile="retrieval")
    run_queued(app)
    moved = paperline(app, "migrate", "--to", postgres_url)
    assert moved.returncode == 0, moved.stderr
    passages = app.store.list_passages(indexed.id, vectors=True)
    events = len(app.store.list_events())  # (progress events are written by time: their number varies)
    copied = f"0 batches, 3 jobs, 4 chunks, {events} events, 0 API tokens, {len(passages)} passages, 0 days of answer"
    assert f"{copied} costs copied" in moved.stderr, moved.stderr
    target = PostgresJobStore(postgres_url)
    assert target.list_recent() == app.store.list_recent()
    assert target.list_chunks(done.id) == app.store.list_chunks(done.id)
    assert target.list_events() == app.store.list_events()
    assert target.get(refused.id).error == app.get(refused.id).error  # type: ignore[union-attr]
    assert target.list_passages(indexed.id, vectors=True) == passages and target.searchable_jobs() == {
        indexed.id: app.store.searchable_jobs()[indexed.id]
    }, "searchable at once after the move, vectors and all"
    assert target.list_subscriptions() == app.store.list_subscriptions() and hook in target.list_subscriptions()
    assert target.signing_secret(hook.id, "local") == app.store.signing_secret(hook.id, "local")
    assert len(target.list_deliveries()) == 3 and target.list_deliveries() == app.store.list_deliveries()
    assert "webhooks: 1 subscriptions, 0 secrets, 3 deliveries, 0 attempts copied" in moved.stderr
    # The copy goes on as a live store: new events follow the copied ones, the feed's revision moves on.
    mark = target.changes_since(0).revision
    target.create(new_job("after-move"))
    assert target.list_events("after-move")[0].id > max(e.id for e in app.store.list_events())
    assert target.changes_since(mark).jobs[0].id == "after-move"
    again = paperline(app, "migrate", "--to", postgres_url)
    assert again.returncode == 2 and "already holds 4 jobs" in again.stderr
    target.close()


def test_connections_name_their_role_host_and_process_for_operators(postgres_url: str) -> None:
    import os
    import socket

    import psycopg

    store = PostgresJobStore(postgres_url)
    store.initialize_schema()
    store.wait_for_change(0.05)  # opens the feed's listening connection
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        names = {row[0] for row in conn.execute("SELECT application_name FROM pg_stat_activity").fetchall()}
    me = f"{socket.gethostname()}:{os.getpid()}"
    assert {f"paperline-store {me}", f"paperline-feed {me}"} <= names, names
    store.close()


def _open_queue(url: str, barrier, errors) -> None:  # type: ignore[no-untyped-def]
    import huey_config

    barrier.wait(timeout=30)
    try:
        huey_config._make_huey("", url, "")
    except Exception as error:  # reported to the parent, which fails the test with it
        errors.put(repr(error))


def test_consumers_started_together_on_a_new_database_all_get_the_queue(postgres_url: str) -> None:
    """Hosts started at once must not race on the queue's tables (a duplicate-type error killed one consumer)."""
    context = multiprocessing.get_context("fork")
    barrier, errors = context.Barrier(6), context.Queue()
    processes = [context.Process(target=_open_queue, args=(postgres_url, barrier, errors)) for _ in range(6)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert all(p.exitcode == 0 for p in processes), [p.exitcode for p in processes]
    found = []
    while not errors.empty():
        found.append(errors.get(timeout=1))
    assert found == []


def test_heartbeats_land_while_another_writer_holds_the_store(postgres_url: str) -> None:
    """A long write transaction (another host's big plan, a slow statement) holds the revision lock every write
    queues for; the heartbeats of a running chunk, its worker and a job's step still land meanwhile, so nothing
    alive is mistaken for lost."""
    import threading
    import time

    store, other = PostgresJobStore(postgres_url), PostgresJobStore(postgres_url)
    store.initialize_schema()
    store.create(new_job(pages=15))
    store.start("job1")
    store.plan_chunks("job1", plan_chunks(15, 15, 0))
    chunk = store.claim_chunk("job1", 0, "w")
    assert chunk is not None and store.update_chunk_progress("job1", 0, 3, attempt=chunk.attempts)
    store.create(new_job("job2", pages=15))
    store.start("job2")
    store.create(new_job("busy", pages=15))
    before = store.list_chunks("job1")[0].heartbeat_at or 0.0
    holding, beaten = threading.Event(), threading.Event()
    released_after_beats: list[bool] = []

    def hold_the_store() -> None:
        with other.transaction() as conn:  # takes the revision lock, as every write does
            conn.execute("UPDATE jobs SET message = 'busy' WHERE id = 'busy'")
            holding.set()
            released_after_beats.append(beaten.wait(timeout=20))

    holder = threading.Thread(target=hold_the_store)
    holder.start()
    try:
        assert holding.wait(timeout=20)
        time.sleep(0.01)  # the beat below is certainly later than the one before
        assert store.update_chunk_progress("job1", 0, 3, attempt=chunk.attempts), "a bare heartbeat"
        store.beat_worker("h:1", "h", 1)
        assert store.beat_step("job2", Stage.PREPARING)
        beaten.set()
    finally:
        beaten.set()
        holder.join(timeout=30)
    assert released_after_beats == [True], "the beats landed while the other writer still held the store"
    assert (store.list_chunks("job1")[0].heartbeat_at or 0.0) > before
    assert [w.id for w in store.list_workers(max_age_s=60)] == ["h:1"]
    assert not store.update_chunk_progress("job1", 0, 3, attempt=chunk.attempts + 1), "fencing holds on this path"
    store.close()
    other.close()


def test_an_older_database_gains_the_attempt_columns(postgres_url: str) -> None:
    """A PostgreSQL job store from before attempt budgets opens with new code: the columns are added at start."""
    import psycopg

    store = PostgresJobStore(postgres_url)
    store.initialize_schema()
    store.create(new_job())
    store.close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE jobs DROP COLUMN step_recoveries")
        conn.execute("ALTER TABLE chunks DROP COLUMN attempt_base")
        conn.execute("DROP TABLE alembic_version")  # releases before migrations kept no version
    store = PostgresJobStore(postgres_url)
    store.initialize_schema()
    job = store.get("job1")
    assert job is not None and job.step_recoveries == 0
    store.close()
