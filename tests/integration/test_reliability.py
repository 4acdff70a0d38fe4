"""Cancel and crash recovery with real consumer processes."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from pipeline import ChunkStatus, JobStatus, Paperline
from tests.docgen import SLOW_JOB_SETTINGS, known_text, make_slow_pdf, slow_blank_pages
from tests.helpers import wait_until

pytestmark = pytest.mark.integration


def test_cancel_during_a_running_chunk_stops_it_and_nothing_runs_after(
    app: Paperline, start_worker, tmp_path: Path
) -> None:
    start_worker(workers=1, **SLOW_JOB_SETTINGS)
    job = app.submit(make_slow_pdf(tmp_path / "slow.pdf", 40))
    wait_until(lambda: any(c.pages_done for c in app.chunks(job.id)), timeout=60, what="a chunk under way")
    asked = time.time()
    canceled = app.cancel(job.id)
    took = time.time() - asked
    assert canceled.status is JobStatus.CANCELED and took < 1.0
    time.sleep(2.0)  # long enough for the running chunk to notice (it checks every 0.05 s here) and for a next one
    chunks = app.chunks(job.id)
    assert {c.status for c in chunks} == {ChunkStatus.CANCELED}
    assert all(c.started_at is None or c.started_at < asked for c in chunks), "a chunk started after the cancel"
    pages_then = {c.index: c.pages_done for c in chunks}
    time.sleep(1.0)
    assert {c.index: c.pages_done for c in app.chunks(job.id)} == pages_then, "a canceled chunk kept working"
    assert app.get(job.id).status is JobStatus.CANCELED
    late = [e for e in app.events(job.id) if e.at > asked and e.kind in ("chunk_started", "progress", "stage")]
    assert late == []


def test_kill_9_mid_job_then_restart_completes_identically(app: Paperline, start_worker, tmp_path: Path) -> None:
    pdf = make_slow_pdf(tmp_path / "slow.pdf", 30)
    consumer = start_worker(workers=2, **SLOW_JOB_SETTINGS)
    job = app.submit(pdf)
    wait_until(lambda: app.get(job.id).chunks_done >= 2, timeout=90, what="two chunks done")
    os.killpg(consumer.pid, signal.SIGKILL)
    consumer.wait(timeout=10)
    killed_at = time.time()
    at_kill = app.chunks(job.id)
    before = {c.index: c for c in at_kill if c.status is ChunkStatus.DONE}
    lost = {c.index for c in at_kill if c.status is ChunkStatus.RUNNING}
    assert app.get(job.id).status is JobStatus.RUNNING

    start_worker(workers=2, **SLOW_JOB_SETTINGS)
    [job] = app.wait([job.id], timeout_s=120)
    assert job.status is JobStatus.COMPLETED, job.error
    recovered_in = job.finished_at - killed_at
    assert recovered_in < 60
    assert app.result(job.id, "text") == known_text(30, blank_pages=slow_blank_pages(30))
    after = {c.index: c for c in app.chunks(job.id)}
    for index, chunk in before.items():
        assert after[index].attempts == chunk.attempts and after[index].finished_at == chunk.finished_at, (
            f"chunk {index + 1} was done before the kill and was redone"
        )
    recovered = {e.chunk_index for e in app.events(job.id) if e.kind == "chunk_recovered"}
    assert lost <= recovered, f"chunks {lost - recovered} were running at the kill and not recovered"


def test_a_chunk_over_its_time_limit_is_failed_and_retried_by_the_worker(
    app: Paperline, start_worker, tmp_path: Path
) -> None:
    start_worker(workers=2, **SLOW_JOB_SETTINGS, PAPERLINE_CHUNK_TIME_LIMIT_S="0.4", PAPERLINE_CHUNK_RETRIES="1")
    job = app.submit(make_slow_pdf(tmp_path / "slow.pdf", 10))
    [job] = app.wait([job.id], timeout_s=60)
    assert job.status is JobStatus.FAILED
    over = [c for c in app.chunks(job.id) if c.status is ChunkStatus.FAILED]
    assert over, "every 5-page chunk with OCR pages takes over 0.4 s"
    for chunk in over:
        assert chunk.error == f"Chunk {chunk.index + 1} ran over its 0.4 s time limit"
        assert chunk.attempts == 2, "retried once, then failed"
    assert "time limit" in job.error
    retries = [e for e in app.events(job.id) if e.kind == "chunk_retry"]
    assert {e.chunk_index for e in retries} >= {c.index for c in over}
