"""Cancel and crash recovery with real consumer processes."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest

from pipeline import ChunkStatus, JobStatus, Paperline
from tests.docgen import SLOW_JOB_SETTINGS, known_text, make_slow_pdf, slow_blank_pages
from tests.helpers import slow_tesseract, wait_until

pytestmark = pytest.mark.integration


STOPPED = re.compile(r"stopped: canceled or reassigned \(seen after (\d+) pages, stopped after (\d+)\)")


def test_cancel_stops_the_running_chunk_at_its_next_page(app: Paperline, start_worker, tmp_path: Path) -> None:
    slow = slow_tesseract(tmp_path, 0.3)  # every OCR page takes a while on any machine: a chunk is mid-way for long
    start_worker(workers=1, **SLOW_JOB_SETTINGS, PAPERLINE_TESSERACT=str(slow))
    job = app.submit(make_slow_pdf(tmp_path / "slow.pdf", 40))
    wait_until(
        lambda: any(c.status is ChunkStatus.RUNNING and c.pages_done for c in app.chunks(job.id)),
        timeout=60,
        what="a chunk under way",
    )
    asked = time.time()
    assert app.cancel(job.id).status is JobStatus.CANCELED

    # The worker's own record: when it saw the cancel, and how many pages it had done when it let go.
    log = tmp_path / "worker-0.log"
    found = wait_until(lambda: STOPPED.search(log.read_text()), timeout=30, what="the worker stopping the chunk")
    seen_after, stopped_after = int(found.group(1)), int(found.group(2))
    assert stopped_after <= seen_after + 1, f"the chunk went on for {stopped_after - seen_after} pages after the cancel"

    wait_until(lambda: app.queue.pending_count() == 0, timeout=30, what="the worker to drain the queued chunk tasks")
    chunks = app.chunks(job.id)
    assert {c.status for c in chunks} == {ChunkStatus.CANCELED}
    assert all(c.started_at is None or c.started_at < asked for c in chunks), "a chunk started after the cancel"
    assert app.get(job.id).status is JobStatus.CANCELED
    late = [e for e in app.events(job.id) if e.at > asked and e.kind in ("chunk_started", "progress", "stage")]
    assert late == []


def test_kill_9_mid_job_then_restart_completes_identically(app: Paperline, start_worker, tmp_path: Path) -> None:
    pdf = make_slow_pdf(tmp_path / "slow.pdf", 30)
    slow = str(slow_tesseract(tmp_path, 0.3))
    consumer = start_worker(workers=2, **SLOW_JOB_SETTINGS, PAPERLINE_TESSERACT=slow)
    job = app.submit(pdf)

    def two_done_one_running() -> bool:
        chunks = app.chunks(job.id)
        done = sum(c.status is ChunkStatus.DONE for c in chunks)
        return done >= 2 and any(c.status is ChunkStatus.RUNNING for c in chunks)

    wait_until(two_done_one_running, timeout=90, what="two chunks done and one running")
    os.killpg(consumer.pid, signal.SIGKILL)
    consumer.wait(timeout=10)
    at_kill = app.chunks(job.id)
    before = {c.index: c for c in at_kill if c.status is ChunkStatus.DONE}
    lost = {c.index for c in at_kill if c.status is ChunkStatus.RUNNING}
    assert lost, "no chunk was running at the kill, so nothing would need recovering"
    assert app.get(job.id).status is JobStatus.RUNNING

    # The restart is ready only once the new worker beats (the killed one's last beat does not count).
    start_worker(workers=2, **SLOW_JOB_SETTINGS, PAPERLINE_TESSERACT=slow)
    [job] = app.wait([job.id], timeout_s=120)
    assert job.status is JobStatus.COMPLETED, job.error
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
    slow = str(slow_tesseract(tmp_path, 0.3))  # two OCR pages a chunk: over 0.6 s however fast the machine
    start_worker(
        workers=2,
        # the sweeper takes back a chunk over its limit only after this grace: the chunk's own check, between its
        # pages, acts first however long one page takes on a busy machine
        **{**SLOW_JOB_SETTINGS, "PAPERLINE_STALE_AFTER_S": "30"},
        PAPERLINE_TESSERACT=slow,
        PAPERLINE_CHUNK_TIME_LIMIT_S="0.4",
        PAPERLINE_CHUNK_RETRIES="1",
    )
    job = app.submit(make_slow_pdf(tmp_path / "slow.pdf", 10))
    [job] = app.wait([job.id], timeout_s=60)
    assert job.status is JobStatus.FAILED
    over = [c for c in app.chunks(job.id) if c.status is ChunkStatus.FAILED]
    assert len(over) == 2, "both 5-page chunks have two OCR pages or more, so each takes over 0.6 s"
    for chunk in over:
        assert chunk.error == f"Chunk {chunk.index + 1} ran over its 0.4 s time limit"
        assert chunk.attempts == 2, "retried once, then failed"
    assert "time limit" in job.error
    retries = [e for e in app.events(job.id) if e.kind == "chunk_retry"]
    assert {e.chunk_index for e in retries} >= {c.index for c in over}
