"""The ETA model on histories with known timings."""

from __future__ import annotations

import math

import pytest

from pipeline.core.lifecycle import extraction_progress
from pipeline.core.models import Event, JobStatus, Stage
from pipeline.insight.eta import EtaModel, blend, eta_text, evaluate, format_eta, loads_at, replay
from tests.eta_history import simulated_history
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


def test_remaining_time_takes_the_larger_of_history_and_the_jobs_own_pace() -> None:
    model = EtaModel.fit(linear_history())
    running = job("r", DAY1, DAY1, None, pages=40, pages_done=10, status=JobStatus.RUNNING, stage=Stage.EXTRACTING)
    # History expects 21 s in all (1 s of it overhead): 10 s in, 11 s to go. A quarter done: its first chunk began
    # 2 s after the start, so its own pace says 8 s x 3 = 24 s to go, more than history: that is said.
    assert model.remaining_seconds(running, now=DAY1 + 10, extracting_since=DAY1 + 2) == pytest.approx(24)
    # Without the chunk's start, the pace is counted from the start less the history's overhead: 9 s x 3.
    assert model.remaining_seconds(running, now=DAY1 + 10) == pytest.approx(27)
    fast = job("f", DAY1, DAY1, None, pages=40, pages_done=20, status=JobStatus.RUNNING, stage=Stage.EXTRACTING)
    assert model.remaining_seconds(fast, now=DAY1 + 4, extracting_since=DAY1 + 1) == pytest.approx(17), (
        "a job ahead of its own pace still has what history expects"
    )
    huge = job("h", DAY1, DAY1, None, pages=400, pages_done=100, status=JobStatus.RUNNING, stage=Stage.EXTRACTING)
    assert model.remaining_seconds(huge, now=DAY1 + 30, extracting_since=DAY1 + 10) == pytest.approx(60), (
        "a size the history has not seen (at most 115 pages): the job's own pace alone"
    )
    assert blend(10, 0.0, None) is None, "no history and no progress: no guess"
    assert blend(10, 0.5, None) == 10.0
    assert model.remaining_seconds(job("done", DAY1, DAY1, DAY1 + 1)) == 0.0


def test_with_no_history_a_job_under_a_tenth_done_says_estimating() -> None:
    cold = EtaModel()
    early = job("e", DAY1, DAY1, None, pages=100, pages_done=9, status=JobStatus.RUNNING, stage=Stage.EXTRACTING)
    assert cold.remaining_seconds(early, now=DAY1 + 5) is None
    assert eta_text(cold.remaining_seconds(early, now=DAY1 + 5), running=True) == "estimating"
    later = job("l", DAY1, DAY1, None, pages=100, pages_done=25, status=JobStatus.RUNNING, stage=Stage.EXTRACTING)
    assert cold.remaining_seconds(later, now=DAY1 + 12, extracting_since=DAY1 + 2) == pytest.approx(30)
    assert eta_text(30, running=True) == "about 30 s left" and eta_text(None, running=False) == ""
    queued = job("q", DAY1, None, None, pages=100, status=JobStatus.QUEUED, stage=Stage.QUEUED)
    assert cold.remaining_seconds(queued) is None


def test_the_eta_error_on_a_generated_history_is_within_30_percent_of_what_remains_at_a_quarter() -> None:
    """On a history with the shape of the benchmark's (waves of jobs sharing two workers, OCR'd pages ten times a
    text page, progress throttled), at 25% of pages done the ETA is off by at most 30% of the time that really
    remained (median): on the most recent jobs, and on a cold start, fitted on jobs up to 20 pages and tried on
    jobs of 30 and more."""
    jobs, events = simulated_history(seed=7)
    held_back = evaluate(jobs, events, held_back=0.3)
    assert held_back is not None and held_back.tested_on == 10
    assert held_back.pct_of_remaining_by_checkpoint["25%"] <= 0.30
    history = sorted((j for j in jobs if j.duration_s), key=lambda j: j.created_at)
    small, large = [j for j in history if j.pages <= 20], [j for j in history if j.pages >= 30]
    cold = replay(EtaModel.fit(small), large, history, events, trained_on=len(small))
    assert cold is not None and cold.tested_on == len(large) >= 10
    assert cold.pct_of_remaining_by_checkpoint["25%"] <= 0.30
    alone = replay(EtaModel(), history[-10:], history, events)
    assert alone is not None and alone.estimating == 10, "no history: every job's start says estimating"


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
    job = app.submit(make_text_pdf(tmp_path / "live.pdf", 36))
    app.store.start(job.id)
    app.store.plan_chunks(job.id, [ChunkSpan(0, 1, 36, 1, 36)])
    app.store.claim_chunk(job.id, 0, "w")
    app.store.update_chunk_progress(job.id, 0, 9)
    feed.refresh()
    # A history whose jobs took exactly one second a page, one at a time: 36 pages are expected to take 36 s. A
    # quarter done a few milliseconds in, the job's own pace says almost nothing is left, history says 36 s: the
    # larger is said.
    history = [
        factory_job(f"h{n}", 1000.0 * n, 1000.0 * n, 1000.0 * n + pages, pages=pages)
        for n, pages in enumerate((5, 10, 20, 30), start=1)
    ]
    feed.eta.model = EtaModel.fit(history)
    card = JobCard(state=SessionState(feed=feed), job=feed.jobs[job.id])
    assert "9 of 36 pages" in card._body.object and "about 36 s left" in card._body.object, card._body.object
