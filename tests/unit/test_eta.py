"""The ETA model on histories with known timings."""

from __future__ import annotations

import math

import pytest

from pipeline.core.lifecycle import extraction_progress
from pipeline.core.models import Event, JobStatus, Stage
from pipeline.insight.eta import EtaModel, blend, evaluate, format_eta, loads_at
from tests.factories import DAY1, job


def linear_history(n: int = 12, *, seconds_per_page: float = 0.5, overhead: float = 1.0):  # type: ignore[no-untyped-def]
    """Jobs one after another (no overlap), each taking overhead + pages x rate."""
    jobs, start = [], DAY1
    for i in range(n):
        pages = 5 + 10 * i
        duration = overhead + seconds_per_page * pages
        jobs.append(job(f"j{i}", start, start, start + duration, pages=pages, pages_done=pages))
        start += duration + 1
    return jobs


def test_the_fit_recovers_overhead_and_rate_per_engine_and_profile() -> None:
    model = EtaModel.fit(linear_history())
    new = job("new", DAY1, None, None, pages=40, status=JobStatus.QUEUED, stage=Stage.QUEUED)
    assert model.expected_seconds(new) == pytest.approx(1.0 + 0.5 * 40)
    assert model.trained_on == 12
    other = job("x", DAY1, None, None, pages=40, engine="claude", profile="markdown", status=JobStatus.QUEUED)
    assert model.expected_seconds(other) == pytest.approx(21.0), "an engine without history falls back to all jobs"


def test_busy_workers_make_the_expectation_longer() -> None:
    history = linear_history()
    # Three more jobs that ran together, each at a third of the speed.
    for i in range(3):
        history.append(job(f"busy{i}", DAY1 - 1000, DAY1 - 1000, DAY1 - 1000 + 1 + 1.5 * 20, pages=20))
    model = EtaModel.fit(history)
    new = job("new", DAY1, None, None, pages=20, status=JobStatus.QUEUED)
    assert model.expected_seconds(new, load=3) > model.expected_seconds(new, load=1)  # type: ignore[operator]


def test_remaining_time_blends_history_with_the_jobs_own_rate() -> None:
    model = EtaModel.fit(linear_history())
    running = job("r", DAY1, DAY1, None, pages=40, pages_done=10, status=JobStatus.RUNNING, stage=Stage.EXTRACTING)
    # History expects 21 s in all; 10 s in with a quarter done, its own rate says 30 s more.
    remaining = model.remaining_seconds(running, now=DAY1 + 10)
    assert remaining == pytest.approx(0.25 * 30 + 0.75 * 11)
    assert blend(10, 0.0, None) is None, "no history and no progress: no guess"
    assert blend(10, 0.5, None) == 10.0
    assert model.remaining_seconds(job("done", DAY1, DAY1, DAY1 + 1)) == 0.0


def test_loads_count_jobs_running_at_each_moment() -> None:
    jobs = [job("a", 0, 0, 10), job("b", 0, 5, 15), job("c", 0, 20, 30)]
    assert loads_at(jobs, [1, 6, 12, 16, 25]) == [1, 2, 1, 0, 1]


def test_evaluation_on_held_back_jobs_replays_their_progress() -> None:
    history = linear_history(20)
    events = []
    for j in history:
        for share in (0.25, 0.5, 0.75, 1.0):
            at = j.started_at + 0.5 + (j.duration_s - 1.0) * share  # type: ignore[operator]
            progress = extraction_progress(math.ceil(j.pages * share), j.pages)
            events.append(Event(0, j.id, at, "progress", "running", "extracting", progress, 0, ""))
    error = evaluate(history, events, held_back=0.3)
    assert error is not None
    assert (error.trained_on, error.tested_on, error.checkpoints) == (14, 6, 24)
    assert error.median_abs_error_s < 1.0, "an exactly linear history is predicted almost exactly"
    assert set(error.by_checkpoint) == {"0%", "25%", "50%", "75%"}
    assert evaluate(history[:2], events) is None, "too little history to say"


def test_eta_is_phrased_for_people() -> None:
    assert format_eta(None) == "" and format_eta(0.2) == "finishing"
    assert format_eta(42) == "about 42 s left" and format_eta(600) == "about 10 min left"


def test_a_live_card_shows_the_eta_once_there_is_history(app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from dashboard.feed import JobFeed
    from dashboard.live import JobCard
    from dashboard.state import SessionState
    from pipeline.core.models import ChunkSpan
    from pipeline.insight.eta import EtaModel
    from tests.docgen import make_text_pdf
    from tests.factories import job as factory_job
    from tests.sync_runner import run_queued

    for pages in (3, 8, 13, 21):
        app.submit(make_text_pdf(tmp_path / f"h{pages}.pdf", pages))
    run_queued(app)
    feed = JobFeed(app)
    feed.refresh()
    assert feed.eta.model.trained_on == 4
    job = app.submit(make_text_pdf(tmp_path / "live.pdf", 40))
    app.store.start(job.id)
    app.store.plan_chunks(job.id, [ChunkSpan(0, 1, 40, 1, 40)])
    app.store.claim_chunk(job.id, 0, "w")
    app.store.update_chunk_progress(job.id, 0, 10)
    feed.refresh()
    # A history whose jobs took exactly one second a page, one at a time: 40 pages are expected to take 40 s. A
    # quarter done, history says 30 s are left and the job's own rate is blended in by the same quarter, whatever
    # the few milliseconds it has run: 0.25 * 3e + 0.75 * (40 - e) = 30 s.
    history = [
        factory_job(f"h{n}", 1000.0 * n, 1000.0 * n, 1000.0 * n + pages, pages=pages)
        for n, pages in enumerate((5, 10, 20, 30), start=1)
    ]
    feed.eta.model = EtaModel.fit(history)
    card = JobCard(state=SessionState(feed=feed), job=feed.jobs[job.id])
    assert "10 of 40 pages" in card._body.object and "about 30 s left" in card._body.object, card._body.object
