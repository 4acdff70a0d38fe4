"""A chunk that kills its worker every time it runs (as the out-of-memory killer would) ends, and nothing else does.

The test itself plays the kernel: each time the chunk is seen running, it sends SIGKILL to the worker process that
holds it (the store names it ``host:pid``). The chunk must fail after ``PAPERLINE_CHUNK_ATTEMPTS`` attempts with a
message saying which pages killed their worker, its job must fail saying so, and the consumer's pool must go on
serving: a job submitted alongside and a job submitted afterwards complete.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from pipeline import ChunkStatus, JobStatus, Paperline
from tests.docgen import SLOW_JOB_SETTINGS, known_text, make_slow_pdf, make_text_pdf
from tests.helpers import slow_tesseract, started_by, wait_until

pytestmark = pytest.mark.integration

POISON = "The worker stopped while reading pages 1-4 (crash or out of memory), 3 times"


def worker_pid(worker: str) -> int:
    """The process in a chunk's ``host:pid`` (``host:pid/thread`` for thread workers)."""
    return int(worker.rsplit(":", 1)[1].split("/")[0])


def test_a_chunk_that_kills_its_worker_every_time_fails_after_three_attempts(
    app: Paperline, start_worker, tmp_path: Path
) -> None:
    slow = slow_tesseract(tmp_path, 1.0)  # the chunk runs for seconds on any machine: the test sees it running
    consumer = start_worker(
        workers=2,
        # a killed worker's chunk is taken back after this; a live one's heartbeat, late on a busy machine, must not be
        **{**SLOW_JOB_SETTINGS, "PAPERLINE_STALE_AFTER_S": "5"},
        PAPERLINE_TESSERACT=str(slow),
        PAPERLINE_CHUNK_ATTEMPTS="3",
    )
    poison = app.submit(make_slow_pdf(tmp_path / "poison.pdf", 4))  # one chunk, pages 1-4
    alongside = app.submit(make_text_pdf(tmp_path / "alongside.pdf", 3))
    killed: list[int] = []

    def kill_each_attempt() -> bool:
        """SIGKILL the process holding the poison chunk, once per attempt; True once the job has ended."""
        chunk = next(iter(app.chunks(poison.id)), None)  # none until the job is planned
        if chunk and chunk.status is ChunkStatus.RUNNING and chunk.attempts > len(killed) and chunk.worker:
            pid = worker_pid(chunk.worker)
            assert started_by(consumer, pid), f"chunk held by {chunk.worker}, not a process of this test's worker"
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        return app.get(poison.id).is_final

    wait_until(kill_each_attempt, timeout=180, interval=0.1, what="the poison chunk to end")
    assert len(killed) == 3, f"killed {len(killed)} workers: the chunk ran {len(killed)} times"
    [chunk] = app.chunks(poison.id)
    assert chunk.status is ChunkStatus.FAILED and chunk.attempts == 3
    assert chunk.error == POISON
    job = app.get(poison.id)
    assert job.status is JobStatus.FAILED and POISON in job.error, job.error
    assert [e.chunk_index for e in app.events(poison.id) if e.kind == "chunk_recovered"] == [0, 0]
    assert any(e.kind == "chunk_failed" and POISON in e.message for e in app.events(poison.id))

    # The pool still serves: the job submitted alongside and one submitted now complete.
    after = app.submit(make_text_pdf(tmp_path / "after.pdf", 2))
    done = app.wait([alongside.id, after.id], timeout_s=90)
    assert [j.status for j in done] == [JobStatus.COMPLETED, JobStatus.COMPLETED], [j.error for j in done]
    assert app.result(alongside.id, "text") == known_text(3)
    assert consumer.poll() is None, "the consumer itself kept running"

    # Retry stays possible, with the whole attempt budget again (this time nothing kills the worker).
    assert app.retry(poison.id).status is JobStatus.RUNNING
    [retried] = app.wait([poison.id], timeout_s=90)
    assert retried.status is JobStatus.COMPLETED, retried.error
    [chunk] = app.chunks(poison.id)
    assert chunk.attempts == 4 and chunk.attempts_used == 1
