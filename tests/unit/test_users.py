"""Users: who sees and acts on which jobs, admins, and per-user limits, through the Python API and the views."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from dashboard.feed import JobFeed
from dashboard.history import HistoryTable
from dashboard.results import ResultViewer
from dashboard.state import SessionState
from pipeline import JobStatus, Paperline
from pipeline.exceptions import JobNotFound
from pipeline.users import LOCAL_USER
from tests.docgen import make_text_pdf
from tests.sync_runner import run_queued


@pytest.fixture
def pdf(tmp_path: Path) -> Path:
    return make_text_pdf(tmp_path / "a.pdf", 2)


def with_settings(app: Paperline, **changes) -> Paperline:  # type: ignore[no-untyped-def]
    return Paperline(replace(app.settings, **changes), store=app.store, queue=app.queue)


def test_a_user_cannot_read_or_touch_another_users_job(app: Paperline, pdf: Path) -> None:
    ann = app.submit(pdf, user="ann")
    run_queued(app)
    bob = app.owner_scope("bob")
    for attempt in (
        lambda: app.get(ann.id, user=bob),
        lambda: app.result(ann.id, user=bob),
        lambda: app.result_bytes(ann.id, "text", user=bob),
        lambda: app.result_formats(ann.id, user=bob),
        lambda: app.source_bytes(ann.id, user=bob),
        lambda: app.chunks(ann.id, user=bob),
        lambda: app.events(ann.id, user=bob),
        lambda: app.cancel(ann.id, user=bob),
        lambda: app.retry(ann.id, user=bob),
    ):
        with pytest.raises(JobNotFound, match="No job"):
            attempt()
    assert app.jobs(user=bob) == []
    own = app.result(ann.id, user=app.owner_scope("ann"))
    assert own and own == app.result(ann.id), "the owner reads their own result"


def test_admins_and_the_local_user_see_everyone(app: Paperline, pdf: Path) -> None:
    admin_app = with_settings(app, admins=("root",))
    assert admin_app.owner_scope("root") is None and admin_app.is_admin("root")
    assert admin_app.owner_scope(LOCAL_USER) is None
    assert admin_app.owner_scope("ann") == "ann" and not admin_app.is_admin("ann")
    app.submit(pdf, user="ann")
    app.submit(pdf, user="bob")
    assert {j.user for j in admin_app.jobs(user=admin_app.owner_scope("root"))} == {"ann", "bob"}


def test_the_admin_list_shows_every_user_with_a_user_column(app: Paperline, pdf: Path) -> None:
    admin_app = with_settings(app, admins=("root",))
    app.submit(pdf, user="ann")
    app.submit(pdf, user="bob")
    feed = JobFeed(admin_app)
    feed.refresh()
    root = SessionState(feed=feed, user="root")
    ann = SessionState(feed=feed, user="ann")
    root_history, ann_history = HistoryTable(state=root), HistoryTable(state=ann)
    assert (
        sorted(root_history.table.value["user"]) == ["ann", "bob"] and "user" not in root_history.table.hidden_columns
    )
    assert list(ann_history.table.value["user"]) == ["ann"] and "user" in ann_history.table.hidden_columns


def test_a_deep_link_to_another_users_job_shows_no_job(app: Paperline, pdf: Path) -> None:
    ann_job = app.submit(pdf, user="ann")
    run_queued(app)
    feed = JobFeed(app)
    feed.refresh()
    viewer = ResultViewer(state=SessionState(feed=feed, user="bob"))
    viewer.state.selected_job = ann_job.id
    shown = " ".join(str(getattr(o, "object", "")) for o in viewer._body.objects)
    assert f"No job &#x27;{ann_job.id}&#x27;" in shown and not viewer._downloads.objects


def test_too_many_jobs_at_once_is_refused_with_a_reason(app: Paperline, pdf: Path) -> None:
    limited = with_settings(app, user_max_active_jobs=2)
    first, second = limited.submit(pdf, user="ann"), limited.submit(pdf, user="ann")
    third = limited.submit(pdf, user="ann")
    assert first.status is second.status is JobStatus.QUEUED
    assert third.status is JobStatus.FAILED
    assert third.error == (
        "Limit reached: ann already has 2 jobs queued or running (at most 2 per user). "
        "Upload again when one has finished, or cancel one."
    )
    assert not limited.files(third.id).names(), "a refused upload is not kept"
    assert limited.submit(pdf, user="bob").status is JobStatus.QUEUED, "limits are per user"
    run_queued(limited)
    again = limited.submit(pdf, user="ann")
    # Free again once the jobs ended (answered at once from the identical document just extracted).
    assert again.status is JobStatus.COMPLETED and again.cached_from is not None and not again.error


def test_uploads_per_hour_are_limited_and_refusals_do_not_count(app: Paperline, pdf: Path) -> None:
    limited = with_settings(app, user_uploads_per_hour=3)
    for _ in range(3):
        assert limited.submit(pdf, user="ann").status is JobStatus.QUEUED
    refused = [limited.submit(pdf, user="ann") for _ in range(2)]
    assert all(j.status is JobStatus.FAILED for j in refused)
    assert refused[0].error.startswith("Limit reached: ann uploaded 3 files in the last hour (at most 3 per user).")
    assert "The next upload is possible in 60 min." in refused[0].error
    active, uploads = limited.store.user_usage("ann", since=0)
    assert (active, len(uploads)) == (3, 3), "refused uploads do not use up the allowance"
