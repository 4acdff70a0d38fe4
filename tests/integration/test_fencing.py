"""Attempt fencing with real processes: a worker frozen mid-chunk (SIGSTOP, as a paused VM or a stalled host) is
presumed dead, its chunk is redone by another worker, and when it wakes (SIGCONT) it lets go at its next page and
overwrites nothing: the stored chunk, its files and the job's result stay those of the attempt that redid it."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from pipeline import ChunkStatus, JobStatus, Paperline
from tests.docgen import SLOW_JOB_SETTINGS, known_text, make_slow_pdf, slow_blank_pages
from tests.helpers import slow_tesseract, started_by, wait_until

pytestmark = pytest.mark.integration


def job_files(app: Paperline, job_id: str) -> dict[str, tuple[int, bytes]]:
    """Every file of the job with its modification time and bytes: anything rewritten shows."""
    root = app.settings.job_dir(job_id)
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, p.read_bytes()) for p in root.rglob("*") if p.is_file()}


def test_a_frozen_worker_that_wakes_cannot_overwrite_the_chunk_another_worker_redid(
    app: Paperline, start_worker, tmp_path: Path
) -> None:
    slow = str(slow_tesseract(tmp_path, 1.0))
    settings = {**SLOW_JOB_SETTINGS, "PAPERLINE_SINGLE_CHUNK_MAX_PAGES": "30", "PAPERLINE_STALE_AFTER_S": "1.5"}
    frozen = start_worker(workers=1, **settings, PAPERLINE_TESSERACT=slow)
    job = app.submit(make_slow_pdf(tmp_path / "slow.pdf", 8))  # one chunk of 8 pages, 4 of them OCR
    wait_until(
        lambda: any(c.status is ChunkStatus.RUNNING and c.pages_done for c in app.chunks(job.id)),
        timeout=60,
        what="the chunk under way",
    )
    [first] = app.chunks(job.id)
    assert started_by(frozen, int(first.worker.rsplit(":", 1)[1]))
    os.killpg(frozen.pid, signal.SIGSTOP)  # the whole worker host freezes: no beats, no sweeps
    try:
        redoer = start_worker(workers=1, **settings, PAPERLINE_TESSERACT=slow)
        [done] = app.wait([job.id], timeout_s=120)
        assert done.status is JobStatus.COMPLETED, done.error
        [redone] = app.chunks(job.id)
        assert redone.attempts == first.attempts + 1 and redone.worker != first.worker
        assert started_by(redoer, int(redone.worker.rsplit(":", 1)[1]))
        files_before, events_before = job_files(app, job.id), app.events(job.id)
    finally:
        os.killpg(frozen.pid, signal.SIGCONT)

    # The woken worker sees at its next write that the chunk is no longer its attempt's, and stops.
    log = tmp_path / "worker-0.log"
    wait_until(lambda: "stopped: canceled or reassigned" in log.read_text(), timeout=60, what="the woken worker")
    assert app.chunks(job.id) == [redone], "the chunk row is the redone attempt's"
    assert job_files(app, job.id) == files_before, "no file of the job was written again"
    assert app.events(job.id) == events_before, "the woken attempt recorded nothing"
    assert app.get(job.id).status is JobStatus.COMPLETED
    assert app.result(job.id, "text") == known_text(8, blank_pages=slow_blank_pages(8))
    ended = [e for e in app.events(job.id) if e.kind in ("chunk_done", "chunk_failed")]
    assert len(ended) == 1, "the chunk was done once"
