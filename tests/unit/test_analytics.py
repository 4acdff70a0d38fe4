"""Analytics functions on a history with known timings (built by hand, so every expected number is exact)."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.core.models import ChunkStatus, JobStatus, Stage
from pipeline.insight import timings as analytics
from pipeline.insight.frames import chunks_frame, jobs_frame
from tests.factories import DAY1, DAY2, chunk, job


@pytest.fixture
def history() -> tuple[pd.DataFrame, pd.DataFrame]:
    jobs = [
        # a: waits 2 s, prepares 1 s, extracts 6 s over two chunks, merges 1 s; 10 pages in 8 s.
        job("a", DAY1, DAY1 + 2, DAY1 + 10),
        # b: claude, 20 pages in 4 s, with tokens; one chunk retried.
        job(
            "b",
            DAY1 + 100,
            DAY1 + 100,
            DAY1 + 104,
            engine="claude",
            profile="markdown",
            pages=20,
            user="bob",
            input_tokens=1000,
            output_tokens=500,
            cost_usd=0.25,
        ),
        # c: failed on day 2, with a failed chunk.
        job(
            "c",
            DAY2,
            DAY2 + 1,
            DAY2 + 3,
            status=JobStatus.FAILED,
            stage=Stage.MERGING,
            cost_usd=0.5,
            input_tokens=10,
            output_tokens=10,
            engine="claude",
            profile="markdown",
            user="bob",
        ),
        # d: served from the cache, e: still running: neither counts in timings.
        job("d", DAY2 + 5, DAY2 + 5, DAY2 + 5, cached_from="a"),
        job("e", DAY2 + 10, DAY2 + 11, None, status=JobStatus.RUNNING, stage=Stage.EXTRACTING),
    ]
    chunks = [
        chunk("a", 0, DAY1 + 3, DAY1 + 6, "w1"),
        chunk("a", 1, DAY1 + 4, DAY1 + 9, "w2"),
        chunk("b", 0, DAY1 + 100.5, DAY1 + 103.5, "w1", attempts=2),
        chunk("c", 0, DAY2 + 1.5, DAY2 + 2.5, "w2", status=ChunkStatus.FAILED, attempts=3),
    ]
    return jobs_frame(jobs), chunks_frame(chunks)


def test_stage_durations_split_each_job_into_its_stages(history) -> None:  # type: ignore[no-untyped-def]
    jobs, chunks = history
    stages = analytics.stage_durations(jobs, chunks).set_index("job_id")
    assert list(stages.index) == ["a", "b", "c"], "cached and running jobs did no complete processing"
    assert stages.loc["a", list(analytics.STAGES)].tolist() == [2.0, 1.0, 6.0, 1.0]
    assert stages.loc["b", list(analytics.STAGES)].tolist() == [0.0, 0.5, 3.0, 0.5]
    summary = analytics.stage_summary(stages.reset_index()).set_index("stage")
    assert summary.loc["extracting", "total_s"] == 10.0
    assert summary["share"].sum() == pytest.approx(1.0)


def test_queue_wait_and_processing_time_per_job(history) -> None:  # type: ignore[no-untyped-def]
    jobs, _ = history
    waits = analytics.queue_wait(jobs)
    assert waits["job_id"].tolist() == ["a", "b", "c"]
    assert waits["queue_wait_s"].tolist() == [2.0, 0.0, 1.0]
    assert waits["processing_s"].tolist() == [8.0, 4.0, 2.0]


def test_throughput_by_engine_and_profile_counts_completed_jobs(history) -> None:  # type: ignore[no-untyped-def]
    jobs, _ = history
    rates = analytics.throughput(jobs).set_index(["engine", "profile"])
    assert rates.loc[("local", "text"), "pages_per_s"] == pytest.approx(10 / 8)
    assert rates.loc[("claude", "markdown"), "pages_per_s"] == pytest.approx(20 / 4)
    assert rates.loc[("claude", "markdown"), "jobs"] == 1, "the failed job is not a throughput sample"


def test_chunk_failure_and_retry_rates_per_engine(history) -> None:  # type: ignore[no-untyped-def]
    jobs, chunks = history
    rates = analytics.chunk_reliability(jobs, chunks).set_index("engine")
    assert rates.loc["claude", ["chunks", "failed", "retried"]].tolist() == [2, 1, 2]
    assert rates.loc["claude", "failure_rate"] == 0.5 and rates.loc["local", "retry_rate"] == 0.0


def test_failure_rate_and_cost_per_day_and_user(history) -> None:  # type: ignore[no-untyped-def]
    jobs, _ = history
    failures = analytics.failure_rate_by_day(jobs)
    assert failures["failure_rate"].tolist() == [0.0, 0.5], "day 2: c failed, d (cached) completed"
    per_day = analytics.cost_by(jobs, "day")
    assert per_day["cost_usd"].tolist() == [0.25, 0.5]
    assert per_day["day"].tolist() == [pd.Timestamp("2026-01-01", tz="UTC"), pd.Timestamp("2026-01-02", tz="UTC")]
    per_user = analytics.cost_by(jobs, "user").set_index("user")
    assert per_user.loc["bob", ["jobs", "input_tokens", "output_tokens"]].tolist() == [2, 1010, 510]
    with pytest.raises(ValueError, match="day"):
        analytics.cost_by(jobs, "engine")


def test_worker_utilisation_per_time_bucket(history) -> None:  # type: ignore[no-untyped-def]
    _, chunks = history
    day1 = chunks[chunks["job_id"] != "c"]
    busy = analytics.worker_utilisation(day1, freq="10s").set_index(["bucket", "worker"])
    first = pd.Timestamp(DAY1, unit="s", tz="UTC")
    assert busy.loc[(first, "w1"), "busy_s"] == 3.0 and busy.loc[(first, "w1"), "utilisation"] == 0.3
    assert busy.loc[(first, "w2"), "busy_s"] == 5.0
    later = pd.Timestamp(DAY1 + 100, unit="s", tz="UTC")
    assert busy.loc[(later, "w1"), "busy_s"] == 3.0 and busy.loc[(later, "w2"), "busy_s"] == 0.0


def test_chunk_timeline_for_a_gantt_chart(history) -> None:  # type: ignore[no-untyped-def]
    _, chunks = history
    bars = analytics.chunk_timeline(chunks, "a")
    assert bars[["chunk", "worker", "pages"]].values.tolist() == [[1, "w1", 5], [2, "w2", 5]]
    assert (bars["end"] - bars["start"]).dt.total_seconds().tolist() == [3.0, 5.0]


def test_date_range_filter(history) -> None:  # type: ignore[no-untyped-def]
    jobs, _ = history
    assert analytics.in_range(jobs, start="2026-01-02").id.tolist() == ["c", "d", "e"]
    assert analytics.in_range(jobs, end="2026-01-01 23:59").id.tolist() == ["a", "b"]


def test_empty_history_gives_empty_frames() -> None:
    jobs, chunks = jobs_frame([]), chunks_frame([])
    assert analytics.stage_durations(jobs, chunks).empty and analytics.throughput(jobs).empty
    assert analytics.chunk_reliability(jobs, chunks).empty and analytics.worker_utilisation(chunks).empty
    assert analytics.cost_by(jobs).empty and analytics.failure_rate_by_day(jobs).empty
    assert analytics.queue_wait(jobs).empty
