"""The Analytics tab and the history export, on jobs run in this process."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from dashboard.analytics import AnalyticsView
from dashboard.feed import JobFeed
from dashboard.state import SessionState
from pipeline import Paperline
from pipeline.core.errors import InvalidRequest
from pipeline.core.settings import Settings
from pipeline.service.export import frame_bytes, history_frames, write_export
from tests.docgen import make_text_pdf
from tests.sync_runner import run_queued


@pytest.fixture
def small_chunks(tmp_path: Path) -> Paperline:
    app = Paperline(Settings(home=tmp_path / "home", single_chunk_max_pages=5, medium_chunk_pages=5))
    for pages, user in ((3, "ann"), (12, "ann"), (30, "bob")):
        app.submit(make_text_pdf(tmp_path / f"{user}{pages}.pdf", pages), user=user)
    run_queued(app)
    return app


def sources(view: AnalyticsView) -> dict[str, int]:
    return {
        name: len(src.data["color" if "color" in src.data else next(iter(src.data))])
        for name, src in view.charts.sources.items()
    }


def test_every_chart_has_data_after_jobs_ran(small_chunks: Paperline) -> None:
    feed = JobFeed(small_chunks)
    feed.refresh()
    view = AnalyticsView(state=SessionState(feed=feed))
    counts = sources(view)
    assert counts["stage_breakdown"] == 4 and counts["throughput"] == 3 and counts["queue_wait"] == 3
    assert counts["failure_rate"] == 1 and counts["cost_per_day"] == 0, "local jobs cost nothing"
    assert counts["chunk_gantt"] == 6, "the latest job (30 pages in 5-page chunks) is on the timeline"
    assert "3 jobs in range" in view._summary.object


def test_a_user_sees_only_their_jobs_and_the_date_range_filters(small_chunks: Paperline) -> None:
    feed = JobFeed(small_chunks)
    feed.refresh()
    ann = AnalyticsView(state=SessionState(feed=feed, user="ann"))
    assert sources(ann)["queue_wait"] == 2
    ann.dates = (pd.Timestamp("2000-01-01").date(), pd.Timestamp("2000-01-02").date())
    assert sources(ann)["queue_wait"] == 0 and "0 jobs in range" in ann._summary.object
    ann.dates = None
    assert sources(ann)["queue_wait"] == 2


def test_charts_follow_new_snapshots_from_the_feed(small_chunks: Paperline, tmp_path: Path) -> None:
    feed = JobFeed(small_chunks, analytics_interval=0)
    feed.refresh()
    state = SessionState(feed=feed)
    state.connect()
    view = AnalyticsView(state=state)
    small_chunks.submit(make_text_pdf(tmp_path / "new.pdf", 7))
    run_queued(small_chunks)
    feed.refresh()
    assert sources(view)["queue_wait"] == 4


def test_a_hidden_analytics_tab_does_no_work_until_shown_then_is_current(
    small_chunks: Paperline, tmp_path: Path
) -> None:
    feed = JobFeed(small_chunks, analytics_interval=0)
    feed.refresh()
    state = SessionState(feed=feed, tab="Analytics")
    state.connect()
    view = AnalyticsView(state=state)
    state.tab = "History"
    small_chunks.submit(make_text_pdf(tmp_path / "new.pdf", 7))
    run_queued(small_chunks)
    feed.refresh()
    assert feed.analytics_frames is not None and len(feed.analytics_frames[0]) == 4, "the feed has the new job"
    assert sources(view)["queue_wait"] == 3 and "3 jobs in range" in view._summary.object, "hidden: not redrawn"
    state.tab = "Analytics"
    assert sources(view)["queue_wait"] == 4 and "4 jobs in range" in view._summary.object


def test_export_writes_what_the_user_may_see_as_csv_and_parquet(small_chunks: Paperline, tmp_path: Path) -> None:
    frames = history_frames(small_chunks, user="ann")
    assert set(frames["jobs"]["user"]) == {"ann"} and len(frames["jobs"]) == 2
    assert set(frames["chunks"]["job_id"]) == set(frames["jobs"]["id"])
    assert set(frames["events"]["job_id"]) == set(frames["jobs"]["id"])
    paths = write_export(frames, tmp_path / "out", "parquet")
    jobs = pd.read_parquet(paths[0])
    assert list(jobs["id"]) == list(frames["jobs"]["id"]) and str(jobs["created_at"].dt.tz) == "UTC"
    csv = pd.read_csv(io.BytesIO(frame_bytes(frames["chunks"], "csv")))
    assert len(csv) == len(frames["chunks"]) and "duration_s" in csv
    with pytest.raises(InvalidRequest, match="csv or parquet"):
        frame_bytes(frames["jobs"], "xlsx")


def test_the_export_button_downloads_the_chosen_table(small_chunks: Paperline) -> None:
    feed = JobFeed(small_chunks)
    feed.refresh()
    view = AnalyticsView(state=SessionState(feed=feed, user="bob"))
    view.export_table, view.export_format = "events", "parquet"
    assert view._download.filename == "paperline-events.parquet"
    events = pd.read_parquet(view._export())
    assert len(events) > 0 and set(events["job_id"]) == {j.id for j in small_chunks.jobs(user="bob")}
