"""The shared feed and the views, without a server: refresh() is called directly and updates arrive at once."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from dashboard.charts import ChartsView
from dashboard.feed import JobFeed
from dashboard.health import QueueHealth
from dashboard.history import HistoryTable, filter_jobs
from dashboard.live import LiveJobs
from dashboard.notifications import Notifier
from dashboard.results import ResultViewer
from dashboard.state import SessionState
from dashboard.upload import UploadPanel
from pipeline import JobStatus, Paperline, Settings
from tests.docgen import make_photo, make_text_pdf
from tests.sync_runner import run_queued


def store_statements() -> float:
    """SQL statements this process has run on the job store so far (the counter /metrics reports)."""
    return REGISTRY.get_sample_value("paperline_store_statements_total") or 0.0


@pytest.fixture
def feed(app: Paperline) -> JobFeed:
    return JobFeed(app)


def session(feed: JobFeed, user: str = "local") -> SessionState:
    state = SessionState(feed=feed, user=user)
    state.connect()
    return state


def test_refresh_reads_only_what_changed(app: Paperline, feed: JobFeed, tmp_path: Path) -> None:
    job = app.submit(make_text_pdf(tmp_path / "a.pdf", 2))
    first = feed.refresh()
    assert [j.id for j in first.jobs] == [job.id]
    assert not feed.refresh().jobs
    run_queued(app)
    update = feed.refresh()
    assert [j.status for j in update.jobs] == [JobStatus.COMPLETED]
    assert [c.index for c in update.chunks] == [0]
    assert feed.jobs[job.id].status is JobStatus.COMPLETED


def test_ten_sessions_cost_the_store_what_one_does(app: Paperline, feed: JobFeed, tmp_path: Path) -> None:
    submitted: list[str] = []

    def statements_per_refresh() -> float:
        submitted.append(app.submit(make_text_pdf(tmp_path / f"x{len(submitted)}.pdf", 1)).id)
        before = store_statements()
        feed.refresh(now=0)
        return store_statements() - before

    feed.refresh(now=0)  # the first refresh also takes the first analytics snapshot
    one = session(feed)
    with_one = statements_per_refresh()
    assert [j.id for j in one.update.jobs] == [submitted[0]]
    others = [session(feed) for _ in range(9)]
    assert feed.subscriber_count == 10
    assert statements_per_refresh() == with_one
    assert all([j.id for j in s.update.jobs] == [submitted[1]] for s in [one, *others]), "each got the new job"


def test_an_idle_refresh_is_one_cheap_read(app: Paperline, feed: JobFeed) -> None:
    feed.refresh(now=0)
    before = store_statements()
    assert not feed.refresh(now=0)
    assert store_statements() - before == 1


def test_closed_sessions_stop_receiving(feed: JobFeed) -> None:
    state = session(feed)
    state.disconnect()
    assert feed.subscriber_count == 0


def test_a_signed_in_user_sees_only_their_jobs(app: Paperline, feed: JobFeed, tmp_path: Path) -> None:
    pdf = make_text_pdf(tmp_path / "a.pdf", 1)
    app.submit(pdf, user="ann")
    app.submit(pdf, user="bob")
    ann = session(feed, "ann")
    feed.refresh()
    assert [j.user for j in ann.update.jobs] == ["ann"]
    assert [j.user for j in ann.jobs()] == ["ann"]


def test_live_cards_follow_jobs_and_fill_the_chunk_map(app: Paperline, feed: JobFeed, tmp_path: Path) -> None:
    state = session(feed)
    live = LiveJobs(state=state)
    job = app.submit(make_text_pdf(tmp_path / "long.pdf", 45))
    feed.refresh()
    card = live._cards[job.id]
    assert "waiting for a worker" in card._body.object
    run_queued(app)
    feed.refresh()
    assert 'max="100" value="100"' in card._body.object
    assert card._body.object.count("pl-chunk-done") == 3
    assert "pages 21-40" in card._body.object
    assert 'data-stage="completed"' in card._body.object and "step-current" not in card._body.object
    assert card._open.visible


def test_history_appends_new_jobs_and_patches_changed_ones(app: Paperline, feed: JobFeed, tmp_path: Path) -> None:
    state = session(feed)
    history = HistoryTable(state=state)
    job = app.submit(make_text_pdf(tmp_path / "report.pdf", 2))
    feed.refresh()
    assert list(history.rows["filename"]) == ["report.pdf"]
    assert history.rows.iloc[0]["status"] == "queued"
    grid = history.grid
    fields = [field for field, _title, _align in grid.columns]
    assert "id" not in fields and grid.rows[0][0] == job.id, "each row carries its job, not as a column"
    assert grid.rows[0][1 + fields.index("status")] == "queued" and grid.total == 1
    run_queued(app)
    feed.refresh()
    assert len(history.rows) == 1 and history.rows.iloc[0]["status"] == "completed"
    assert history.rows.iloc[0]["id"] == job.id and grid.rows[0][1 + fields.index("status")] == "completed"
    assert len(filter_jobs(history.rows, "failed", "")) == 0
    assert len(filter_jobs(history.rows, "any", "REPORT")) == 1
    grid.status = "failed"
    assert grid.rows == [] and grid.total == 0
    grid.param.update(status="any", search="REPORT")
    assert grid.total == 1
    grid.param.update(clicked=job.id, clicks=grid.clicks + 1)
    assert state.selected_job == job.id, "a row's click opens its result"


def test_history_pages_and_sorts_on_the_server(app: Paperline, feed: JobFeed, tmp_path: Path) -> None:
    for k in range(1, 19):
        app.submit(make_text_pdf(tmp_path / f"doc{k:02d}.pdf", 1 + k % 5))
    feed.refresh()
    history = HistoryTable(state=session(feed))
    grid = history.grid
    fields = [field for field, _title, _align in grid.columns]
    name = 1 + fields.index("filename")
    assert (grid.total, grid.pages, len(grid.rows)) == (18, 2, 15)
    assert grid.rows[0][name] == "doc18.pdf", "newest first"
    grid.page = 2
    assert [row[name] for row in grid.rows] == ["doc03.pdf", "doc02.pdf", "doc01.pdf"]
    grid.param.update(sort="filename", descending=False, page=1)
    assert grid.rows[0][name] == "doc01.pdf"


def test_history_rows_are_built_once_per_server_and_patched_only_where_they_change(
    app: Paperline, feed: JobFeed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard import history as history_module

    for name, user in (("a.pdf", "ann"), ("b.pdf", "bob"), ("c.pdf", "ann")):
        app.submit(make_text_pdf(tmp_path / name, 1), user=user)
    feed.refresh()
    built = []
    real = history_module.history_frame
    monkeypatch.setattr(history_module, "history_frame", lambda jobs: built.append(len(jobs)) or real(jobs))
    everyone = HistoryTable(state=session(feed))
    ann = HistoryTable(state=session(feed, user="ann"))
    assert built == [3], "one frame for every session of the revision"
    assert list(ann.rows["filename"]) == ["a.pdf", "c.pdf"] and len(everyone.rows) == 3
    sent = []
    ann.grid.param.watch(lambda event: sent.append(event.new), "rows")
    job = app.jobs(user="ann")[0]
    ann.apply([job])
    assert sent == [], "nothing the table shows changed: nothing is sent"
    run_queued(app)
    feed.refresh()
    assert len(sent) == 1, "the page is sent once when its rows changed"
    assert list(everyone.rows["status"]) == ["completed"] * 3, "a copy per session: each one patched"


def test_charts_stream_and_patch_their_sources(app: Paperline, feed: JobFeed, tmp_path: Path) -> None:
    state = session(feed)
    charts = ChartsView(state=state)
    assert charts._empty["timeline"].visible and "No jobs yet" in charts._empty["timeline"].text, "empty says why"
    app.submit(make_text_pdf(tmp_path / "a.pdf", 3))
    feed.refresh()
    timeline = charts.timeline_source
    assert timeline.data["status"] == ["queued"]
    assert charts.timing_source.data["pages"] == []
    assert not charts._empty["timeline"].visible and charts._empty["timing"].visible
    run_queued(app)
    feed.refresh()
    assert timeline.data["status"] == ["completed"]
    assert charts.timing_source.data["pages"] == [3]
    assert not charts._empty["timing"].visible
    # One job is a lone point: an hour around it, read as clock time (not "0ms 200ms ... 0ms").
    axis = charts.timeline.xaxis[0].formatter
    assert charts.timeline.x_range.default_span == 3_600_000 and axis.milliseconds == "%H:%M:%S.%3N"
    assert axis.minutes == "%H:%M" and axis.days == "%d %b"
    assert charts.__panel__().objects[0].object is charts.timeline  # the same figure, updated in place


def test_toast_once_when_a_job_ends_while_the_session_is_open(app: Paperline, feed: JobFeed, tmp_path: Path) -> None:
    earlier = app.submit(make_text_pdf(tmp_path / "old.pdf", 1))
    run_queued(app)
    state = session(feed)
    notifier = Notifier(state=state)
    job = app.submit(make_text_pdf(tmp_path / "report.pdf", 1))
    run_queued(app)  # queued, run and finished before the feed looks: still toasted
    feed.refresh()
    feed.refresh()
    assert len(notifier.sent) == 1, "finished before the session opened, or toasted twice"
    assert earlier.id not in notifier.sent[0]
    assert "report.pdf is ready" in notifier.sent[0] and f"?job={job.id}" in notifier.sent[0]
    bad = app.submit(b"nope", "bad.pdf")
    feed.refresh()
    assert not any("bad.pdf" in m for m in notifier.sent[1:]), "refused at intake: the upload panel says why"
    assert bad.status is JobStatus.FAILED


def test_a_batch_that_ends_together_gets_one_toast(app: Paperline, feed: JobFeed, tmp_path: Path) -> None:
    notifier = Notifier(state=session(feed))
    for n in range(5):
        app.submit(make_text_pdf(tmp_path / f"batch{n}.pdf", 1 + n))
    run_queued(app)
    feed.refresh()
    assert notifier.sent == ["5 documents are ready (see History)."]


def test_jobs_ending_seconds_apart_share_one_toast(
    app: Paperline, feed: JobFeed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard import notifications

    # "seconds apart" is the toast's life; a loaded machine may take longer than that to run these jobs here
    monkeypatch.setattr(notifications, "TOAST_S", 3600.0)
    notifier = Notifier(state=session(feed))
    for n in range(2):
        app.submit(make_text_pdf(tmp_path / f"part{n}.pdf", 1))
        run_queued(app)
        feed.refresh()
    first, second = notifier.sent
    assert "part0.pdf is ready" in first and "part1.pdf" not in first
    assert "part0.pdf is ready" in second and "part1.pdf is ready" in second, "the toast on screen is replaced"
    for n in range(2, 4):
        app.submit(make_text_pdf(tmp_path / f"part{n}.pdf", 1))
    app.submit(b"%PDF-1.4 broken", "broken.pdf")  # refused at intake: left to the upload panel
    run_queued(app)
    feed.refresh()
    assert notifier.sent[-1].startswith("4 documents are ready (see History).")


def test_updates_a_busy_session_has_not_taken_yet_are_merged(app: Paperline, feed: JobFeed, tmp_path: Path) -> None:
    first = app.submit(make_text_pdf(tmp_path / "a.pdf", 1))
    older = feed.refresh()
    run_queued(app)
    second = app.submit(make_text_pdf(tmp_path / "b.pdf", 1))
    newer = feed.refresh()
    merged = older.merged(newer)
    assert [j.id for j in merged.jobs] == [first.id, second.id]
    assert merged.jobs[0].status is JobStatus.COMPLETED, "the latest snapshot of a job wins"
    assert {(c.job_id, c.index) for c in merged.chunks} == {(first.id, 0)}
    assert merged.health_changed == (older.health_changed or newer.health_changed)


def test_health_warns_when_jobs_wait_and_no_worker_runs(app: Paperline, feed: JobFeed, tmp_path: Path) -> None:
    state = session(feed)
    health = QueueHealth(state=state)
    app.submit(make_text_pdf(tmp_path / "a.pdf", 1))
    feed.refresh(now=10**10)
    assert health._warning.visible and "no worker is running" in health._warning.object
    app.store.beat_worker("host:1", "host", 1)
    feed.refresh(now=10**10 + 5)
    assert not health._warning.visible and 'title="host:1">1 alive</span>' in health._summary.object
    assert "ⓘ" not in health._summary.object, "no icon glyph the page font may lack"


def test_upload_hands_files_over_and_lets_go_of_the_bytes(app: Paperline, feed: JobFeed, tmp_path: Path) -> None:
    state = session(feed)
    upload = UploadPanel(state=state)
    state.profile = "markdown"
    pdf = make_text_pdf(tmp_path / "a.pdf", 2).read_bytes()
    upload._dropper.value = {"a.pdf": pdf, "notes.pdf": "plain text"}
    assert upload._dropper.value == {}
    ok, bad = sorted(upload.acknowledgements, key=lambda j: j.filename)
    assert ok.status is JobStatus.QUEUED and ok.profile == "markdown"
    assert bad.status is JobStatus.FAILED and "not a PDF" in bad.error
    assert "not a PDF" in upload._acks.object
    assert "a.pdf</b>: queued" in upload._acks.object
    state.connect()
    run_queued(app)
    feed.refresh()
    assert "a.pdf</b>: completed" in upload._acks.object, "the list follows the job, not the moment it was queued"
    assert [j.status for j in sorted(upload.acknowledgements, key=lambda j: j.filename)] == [
        JobStatus.COMPLETED,
        JobStatus.FAILED,
    ]


def test_result_viewer_renders_and_offers_each_format(app: Paperline, feed: JobFeed, tmp_path: Path) -> None:
    state = session(feed)
    viewer = ResultViewer(state=state)
    job = app.submit(make_text_pdf(tmp_path / "a.pdf", 2), profile="markdown")
    photo = app.submit(make_photo((800, 600)), "photo.jpg")
    run_queued(app)
    feed.refresh()
    state.selected_job = job.id
    # The document beside its pages: every page's elements (escaped by their template), page 1's image and boxes.
    document = viewer._document
    assert document is not None and document.canvas.page == 1 and document.pages == 2
    assert '<div class="pl-page-marker" data-page="2"><span>Page 2</span></div>' in document.canvas.content
    assert "Page 2 line 12" in document.canvas.content
    assert document.canvas.image.startswith("data:image/webp;base64,") and document.canvas.boxes
    document.page = 2
    assert document.canvas.page == 2 and document.canvas.status.startswith("Page 2 of 2")
    assert all(document.layout.block(box["el"]).page == 2 for box in document.canvas.boxes)
    labels = [d.label for d in viewer._downloads.objects]
    assert labels == ["Download markdown", "Download text", "Download json"]
    data = viewer._download(job.id, "text")
    assert isinstance(data, io.BytesIO) and b"Page 1 line 1" in data.getvalue()
    state.selected_job = photo.id
    images = [o for o in viewer._body.objects if "pl-images" in o.css_classes]
    assert images and "Compressed (WebP)" in str(images[0].objects[1].objects[0].object)


def test_claude_is_offered_only_with_a_key_and_brings_its_own_profiles(tmp_path: Path) -> None:
    from pipeline.core.settings import Settings

    without_key = UploadPanel(state=session(JobFeed(Paperline(Settings(home=tmp_path / "a")))))
    assert without_key._engine.disabled_options == ["claude"]
    assert "ANTHROPIC_API_KEY" in without_key._engine_note.object

    state = session(JobFeed(Paperline(Settings(home=tmp_path / "b", anthropic_api_key_set=True))))
    upload = UploadPanel(state=state)
    assert upload._engine.disabled_options == []
    state.engine = "claude"
    assert state.profile == "markdown"
    assert list(state.param.profile.objects) == ["markdown", "tables", "timetable", "custom", "retrieval"]
    state.profile = "custom"
    assert upload._instruction.visible
    upload._dropper.value = {"a.pdf": make_text_pdf(tmp_path / "a.pdf", 1).read_bytes()}
    assert upload.acknowledgements == [] and "needs an instruction" in upload.rejections[0]
    assert "needs an instruction" in upload._acks.object


def test_a_failed_card_offers_retry_of_its_failed_chunks(app: Paperline, feed: JobFeed, tmp_path: Path, monkeypatch):  # type: ignore[no-untyped-def]
    from pipeline.engines import local as extractors

    real = extractors.LocalExtractor.extract
    broken = {"on": True}

    def flaky(self, work, page_done):  # type: ignore[no-untyped-def]
        if broken["on"] and work.index == 1:
            raise RuntimeError("disk unplugged")
        return real(self, work, page_done)

    monkeypatch.setattr(extractors.LocalExtractor, "extract", flaky)
    state = session(feed)
    live = LiveJobs(state=state)
    job = app.submit(make_text_pdf(tmp_path / "a.pdf", 45))
    run_queued(app)
    feed.refresh()
    card = live._cards[job.id]
    assert card._retry.visible and "1 failed" in card._body.object
    broken["on"] = False
    card._retry.clicks += 1
    run_queued(app)
    feed.refresh()
    assert app.get(job.id).status is JobStatus.COMPLETED and not card._retry.visible


def test_cancel_on_a_card_asks_first_then_stops_the_job(app: Paperline, feed: JobFeed, tmp_path: Path) -> None:
    state = session(feed)
    live = LiveJobs(state=state)
    job = app.submit(make_text_pdf(tmp_path / "a.pdf", 2))
    feed.refresh()
    card = live._cards[job.id]
    assert card._cancel.visible and not card._confirm.visible
    card._cancel.clicks += 1
    assert card._confirm.visible and card._keep.visible and not card._cancel.visible
    assert (card._confirm.label, card._keep.label) == ("Yes, cancel this job", "Keep it running")
    card._keep.clicks += 1
    assert app.get(job.id).status is JobStatus.QUEUED and card._cancel.visible
    card._cancel.clicks += 1
    card._confirm.clicks += 1
    assert app.get(job.id).status is JobStatus.CANCELED
    # Final on the card at once, before the feed reads the store again: no "running" left on it.
    assert not card._cancel.visible and not card._confirm.visible
    assert "canceled" in card._card.title and "waiting for a worker" not in card._body.object
    assert 'value="0"' in card._body.object or "pl-progress-secondary" in card._body.object
    live.refresh()  # a tick with the feed's older snapshot does not bring "queued" back
    assert "canceled" in card._card.title
    feed.refresh()
    assert not card._cancel.visible and not card._confirm.visible
    run_queued(app)  # the queued task finds the job canceled and does nothing
    assert app.get(job.id).status is JobStatus.CANCELED and app.chunks(job.id) == []


def test_a_job_that_stops_moving_is_shown_stalled_with_the_reason(app: Paperline, tmp_path: Path) -> None:
    from pipeline.insight.stall import stall_reason

    job = app.submit(make_text_pdf(tmp_path / "a.pdf", 1))
    assert stall_reason(job, [], workers_alive=0, now=job.created_at + 5, stall_after_s=30) == ""
    assert "no worker is running" in stall_reason(job, [], workers_alive=0, now=job.created_at + 60, stall_after_s=30)
    app.store.start(job.id)
    running = app.get(job.id)
    late = running.updated_at + 60
    assert "no worker is alive" in stall_reason(running, [], workers_alive=0, now=late, stall_after_s=30)
    assert "may be stuck" in stall_reason(running, [], workers_alive=1, now=late, stall_after_s=30)
    assert stall_reason(running, [], workers_alive=1, now=running.updated_at + 1, stall_after_s=30) == ""


def test_history_says_when_a_jobs_files_were_purged(tmp_path: Path) -> None:
    app = Paperline(Settings(home=tmp_path / "home", max_jobs=1))
    feed = JobFeed(app)
    history = HistoryTable(state=session(feed))
    first = app.submit(make_text_pdf(tmp_path / "a.pdf", 1))
    run_queued(app)
    feed.refresh()
    assert history.rows.set_index("id").loc[first.id, "files"] == "kept"
    app.submit(make_text_pdf(tmp_path / "b.pdf", 2))
    run_queued(app)  # over PAPERLINE_MAX_JOBS=1: the first job's files go
    feed.refresh()
    rows = history.rows.set_index("id")
    assert rows.loc[first.id, "files"] == "purged" and rows.loc[first.id, "status"] == "completed"
    app.close()


def test_a_finished_job_folds_to_a_line_with_open_result(
    app: Paperline, feed: JobFeed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard import live as live_module

    state = session(feed)
    live = LiveJobs(state=state)
    running = app.submit(make_text_pdf(tmp_path / "running.pdf", 2))
    done = app.submit(make_text_pdf(tmp_path / "done.pdf", 3))
    app.store.cancel(running.id)  # ends at once, before it started: never a card, never a line
    run_queued(app)
    feed.refresh()
    assert done.id in live._cards and not live._lines, "a job that just ended keeps its card"
    monkeypatch.setattr(live_module, "FOLD_AFTER_S", 0)
    live.refresh()
    assert done.id not in live._cards and list(live._lines) == [done.id]
    line = live._lines[done.id]
    assert "done.pdf</b> · completed just now · 3 pages" in line._line.object
    assert live._finished_title.visible and live._empty in live._column.objects
    line._open.clicks += 1
    assert state.selected_job == done.id


def test_shared_keeps_one_entry_per_key_as_revisions_and_stamps_move(feed: JobFeed) -> None:
    built = []
    for stamp in (1.0, 1.0, 2.0, 3.0):
        assert feed.shared("card:x", lambda stamp=stamp: built.append(stamp) or stamp, stamp=stamp) == stamp
    assert built == [1.0, 2.0, 3.0], "built once per stamp, shared in between"
    assert [key for key in feed._shared if key.startswith("card:")] == ["card:x"], "a stalled job's ticks add nothing"


def test_the_page_says_the_job_store_is_unreachable_and_recovers(tmp_path: Path) -> None:
    """A real PostgreSQL server stopped under the feed: refresh does not raise, the open session keeps what it read
    and says the store is unreachable (once), and the first refresh after the restart clears it."""
    from tests.postgres_server import PostgresServer

    server = PostgresServer().start()
    paperline = None
    try:
        settings = Settings(home=tmp_path / "home", database_url=server.new_database(), store_timeout_s=1.0)
        paperline = Paperline(settings)
        job = paperline.submit(make_text_pdf(tmp_path / "a.pdf", 1))
        feed = JobFeed(paperline)
        feed.refresh()
        state = session(feed)
        health = QueueHealth(state=state)
        server.halt()
        assert feed.refresh().health_changed, "sessions are told"
        assert state.update.health_changed and health._warning.visible
        assert "job store is unreachable" in health._warning.object
        assert not feed.refresh(), "and told once"
        assert feed.jobs[job.id].status is JobStatus.QUEUED, "what the feed last read stays"
        server.resume()
        assert feed.refresh().health_changed and not feed.health.unreachable
        assert "unreachable" not in health._warning.object and "no worker is running" in health._warning.object
    finally:
        if paperline is not None:
            paperline.close()
        server.stop()


def test_result_viewer_lists_the_tables_each_with_its_own_csv(app: Paperline, feed: JobFeed, tmp_path: Path) -> None:
    """A markdown job's tables are listed (number, pages, rows x columns, first header cells as text, never markup)
    with a CSV of that table alone; a job without tables lists none."""
    from fpdf import FPDF

    from pipeline.core.errors import InvalidRequest
    from tests import structure_docs

    pdf = FPDF(format="A4")
    pdf.add_page()
    rows = [["<b>Region</b>", "=SUM(A1)", "Change"], ["North", "1,234.50", "+4.2%"], ["South", "987.00", "-1.5%"]]
    structure_docs._grid_table(pdf, rows, 40)
    pdf.set_xy(20, 120)
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(170, 5.5, structure_docs.BODY)
    structure_docs._grid_table(pdf, structure_docs.TABLE, 160)
    pdf.output(str(tmp_path / "two.pdf"))
    state = session(feed)
    viewer = ResultViewer(state=state)
    job = app.submit(tmp_path / "two.pdf", profile="markdown")
    plain = app.submit(make_text_pdf(tmp_path / "plain.pdf", 1), profile="markdown")
    run_queued(app)
    feed.refresh()
    state.selected_job = job.id
    listed = next(o for o in viewer._body.objects if "pl-tables" in o.css_classes)
    items = [o for o in listed.objects if "pl-table-item" in o.css_classes]
    assert len(items) == 2
    first_line = items[0].objects[1].object
    assert "<b>Table 1</b> · page 1 · 3 × 3 · &lt;b&gt;Region&lt;/b&gt; | =SUM(A1) | Change" in first_line
    assert "<b>Region</b>" not in first_line, "cell text is shown as text"
    assert "<b>Table 2</b> · page 1 · 4 × 3 · Region | Revenue (EUR) | Change" in items[1].objects[1].object
    downloads = [item.objects[0] for item in items]
    assert [d.label for d in downloads] == ["CSV of table 1", "CSV of table 2"]
    assert [d.filename for d in downloads] == ["two-table-1.csv", "two-table-2.csv"]
    second = viewer._table_download(job.id, 2).getvalue().decode()
    assert (
        second
        == 'Region,Revenue (EUR),Change\nNorth,"1,234.50",\'+4.2%\nSouth,987.00,\'-1.5%\nEast,"12,000.75",\'+0.3%\n'
    )
    first = viewer._table_download(job.id, 1).getvalue().decode()
    assert first.splitlines()[0] == "<b>Region</b>,'=SUM(A1),Change", "a cell that would start a formula is defused"
    with pytest.raises(InvalidRequest, match="has no table 3"):
        app.table_csv(job.id, 3)
    state.selected_job = plain.id
    assert not any("pl-tables" in o.css_classes for o in viewer._body.objects)
    assert app.result_tables(plain.id) == []
