"""ChunkProgress: throttled progress writes, a ticker that notices a cancel between pages, and the time limit."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pipeline import Paperline
from pipeline.core.models import ChunkSpan
from pipeline.jobs.progress import ChunkAbandoned, ChunkOverTime, ChunkProgress
from tests.docgen import make_text_pdf
from tests.helpers import wait_until


def running_chunk(app: Paperline, tmp_path: Path) -> str:
    job = app.submit(make_text_pdf(tmp_path / "a.pdf", 10))
    app.store.start(job.id)
    app.store.plan_chunks(job.id, [ChunkSpan(0, 1, 10, 1, 10)])
    assert app.store.claim_chunk(job.id, 0, "w") is not None
    return job.id


def test_pages_reach_the_store_and_a_cancel_stops_the_chunk_at_its_next_page(app: Paperline, tmp_path: Path) -> None:
    job_id = running_chunk(app, tmp_path)
    with ChunkProgress(app.store, job_id, 0, interval=0.01, attempt=1) as progress:
        for _ in range(3):
            time.sleep(0.015)
            progress.advance()
        wait_until(lambda: app.chunks(job_id)[0].pages_done == 3, timeout=5, what="three pages in the store")
        app.cancel(job_id)
        # Between pages (one slow page, say OCR) the ticker is the one that learns of the cancel.
        wait_until(lambda: progress.abandoned, timeout=5, what="the ticker to see the cancel")
        assert progress.abandoned_after == 3
        with pytest.raises(ChunkAbandoned):
            progress.advance()  # the page under way ends, and the extractor stops there
    assert progress.pages_done == 4 and app.chunks(job_id)[0].pages_done == 3, "nothing written after the cancel"


def test_an_attempt_that_was_handed_to_another_worker_is_abandoned(app: Paperline, tmp_path: Path) -> None:
    job_id = running_chunk(app, tmp_path)
    with ChunkProgress(app.store, job_id, 0, interval=0.01, attempt=2) as progress:  # the store says attempt 1
        wait_until(lambda: progress.abandoned, timeout=5, what="the ticker's first write to be refused")
        with pytest.raises(ChunkAbandoned):
            progress.advance()
    assert progress.abandoned_after == 0 and app.chunks(job_id)[0].pages_done == 0


def test_a_chunk_past_its_time_limit_stops_at_its_next_page(
    app: Paperline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.jobs import progress as chunk_progress

    job_id = running_chunk(app, tmp_path)
    clock = [1000.0]  # the chunk's own clock, moved by the test: a loaded machine's pauses do not count
    monkeypatch.setattr(chunk_progress.time, "monotonic", lambda: clock[0])
    with ChunkProgress(app.store, job_id, 0, interval=0.01, attempt=1, time_limit_s=0.05) as progress:
        clock[0] += 0.02
        progress.advance()
        clock[0] += 0.06
        with pytest.raises(ChunkOverTime, match=r"Chunk 1 ran over its 0\.05 s time limit"):
            progress.advance()
    assert not progress.abandoned
