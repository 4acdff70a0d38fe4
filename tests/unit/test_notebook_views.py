"""The dashboard's views in a notebook stay live: a periodic callback reads the store and moves the view between
two reads, on the event loop (never blocking a cell), and stops once what it shows has ended; ``wait()`` blocks
only when asked."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from dashboard.notebook import live_batch, live_job, live_jobs
from pipeline import JobStatus, Paperline
from tests.docgen import make_text_pdf
from tests.sync_runner import run_queued


def test_a_live_card_is_moved_by_its_periodic_callback_between_two_reads_of_the_store(
    app: Paperline, tmp_path: Path
) -> None:
    job = app.submit(make_text_pdf(tmp_path / "a.pdf", 2))
    view = live_job(app, job.id)
    callback = view.callback
    assert callback is not None and callback.running and callback.callback == view.tick
    assert callback.period == 500
    card = view.view
    assert "queued" in card._card.title
    run_queued(app)  # the store moves on: the job ends
    assert "queued" in card._card.title, "nothing moves the view but its callback"
    callback.callback()  # the callback's next run: one read of the store
    assert "completed" in card._card.title and "100%" in card._body.object
    assert view.callback is None and not callback.running, "what it shows has ended: it stops reading"


def test_the_callback_runs_on_the_event_loop_while_the_cell_awaits(app: Paperline, tmp_path: Path) -> None:
    """As in a kernel: the view moves while other work runs on the loop, without blocking it."""

    async def cell() -> list[str]:
        job = app.submit(make_text_pdf(tmp_path / "b.pdf", 2))
        view = live_job(app, job.id, interval_s=0.05)
        assert view.callback is not None and isinstance(view.callback._cb, asyncio.Task)
        titles = [view.view._card.title]
        run_queued(app)
        deadline = time.monotonic() + 30
        while "completed" not in titles[-1] and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # another cell's work, awaiting
            titles.append(view.view._card.title)
        return titles

    titles = asyncio.run(cell())
    assert "queued" in titles[0] and "completed" in titles[-1], titles


def test_a_live_batch_card_and_the_live_list_follow_the_store(app: Paperline, tmp_path: Path) -> None:
    sources = [(make_text_pdf(tmp_path / f"d{i}.pdf", 3 + i).read_bytes(), f"d{i}.pdf") for i in range(2)]
    batch, _jobs = app.submit_batch(sources)
    batch_view = live_batch(app, batch.id)
    listing = live_jobs(app)
    assert "0 of 2 ready" in batch_view.view._line.object
    assert set(listing.view._batch_cards) == {batch.id}
    run_queued(app)
    batch_view.callback.callback()  # type: ignore[union-attr]
    listing.callback.callback()  # type: ignore[union-attr]
    assert "2 of 2 ready" in batch_view.view._line.object and batch_view.callback is None
    assert "2 of 2 ready" in listing.view._batch_cards[batch.id]._line.object
    assert listing.callback is not None and listing.callback.running, "the live list runs until stopped"
    listing.stop()
    assert listing.callback is None


def test_wait_blocks_until_the_job_ends_and_moves_the_view_meanwhile(app: Paperline, tmp_path: Path) -> None:
    job = app.submit(make_text_pdf(tmp_path / "c.pdf", 2))
    view = live_job(app, job.id, interval_s=0.05)
    worker = threading.Timer(0.3, run_queued, args=(app,))
    worker.start()
    try:
        [ended] = view.wait(timeout_s=60)
    finally:
        worker.join(timeout=60)
    assert ended.status is JobStatus.COMPLETED and "completed" in view.view._card.title
    with pytest.raises(ValueError, match="no end to wait for"):
        live_jobs(app).wait(timeout_s=1)
