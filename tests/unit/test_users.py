"""Users: who sees and acts on which jobs, admins, and per-user limits, through the Python API and the views."""

from __future__ import annotations

import csv
import io
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from dashboard.feed import JobFeed
from dashboard.history import HistoryTable
from dashboard.results import ResultViewer
from dashboard.state import SessionState
from pipeline import JobStatus, Paperline
from pipeline.core.errors import InvalidRequest, JobNotFound, TokenRefused, UserRefused
from pipeline.core.models import ApiToken, PageText
from pipeline.service import tokens
from pipeline.service.users import LOCAL_USER
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
    shown = {view: [field for field, _title, _align in view.grid.columns] for view in (root_history, ann_history)}
    assert sorted(root_history.rows["user"]) == ["ann", "bob"] and "user" in shown[root_history]
    assert list(ann_history.rows["user"]) == ["ann"] and "user" not in shown[ann_history]


def test_a_deep_link_to_another_users_job_shows_no_job(app: Paperline, pdf: Path) -> None:
    ann_job = app.submit(pdf, user="ann")
    run_queued(app)
    feed = JobFeed(app)
    feed.refresh()
    viewer = ResultViewer(state=SessionState(feed=feed, user="bob"))
    viewer.state.selected_job = ann_job.id
    shown = " ".join(str(getattr(o, "object", "")) for o in viewer._body.objects)
    assert f"No job &#39;{ann_job.id}&#39;" in shown  # escaped by markupsafe and not viewer._downloads.objects


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


# -- reserved names, tokens, cache keys, the cache across users, per-user retention, CSV formulas --------------------
RESERVED = [
    "local",
    "LOCAL",
    "None",
    "none",
    "null",
    "",
    "   ",
    " ann",
    "ann ",
    "a\x00b",
    "a\x1bb",
    "a\u200bb",
    "x" * 201,
]


@pytest.mark.parametrize("name", RESERVED)
def test_reserved_names_cannot_sign_in_or_hold_a_token(app: Paperline, name: str) -> None:
    with pytest.raises(UserRefused, match="This user name is reserved"):
        app.sign_in(name)
    with pytest.raises(UserRefused, match="This user name is reserved"):
        app.create_api_token(name)
    assert app.api_tokens() == []


def test_no_sign_in_name_gives_the_local_users_view_of_everything(app: Paperline) -> None:
    assert app.sign_in("Ada Lovelace") == "Ada Lovelace" and app.owner_scope("Ada Lovelace") == "Ada Lovelace"
    with pytest.raises(UserRefused):
        app.sign_in(None)  # "nobody signed in" is not a name either: only the page's no-sign-in path is local


def test_a_token_dies_with_its_user(app: Paperline) -> None:
    allowed = with_settings(app, users=("ann", "bob"), admins=("root",))
    _, ann = allowed.create_api_token("ann")
    _, bob = allowed.create_api_token("bob")
    assert allowed.api_token(ann).user == "ann" and allowed.create_api_token("root")[0].user == "root"
    with pytest.raises(UserRefused, match="not a user of this server"):
        allowed.create_api_token("carol")
    # ann is taken out of PAPERLINE_USERS: her token stops working at once, bob's keeps working
    without_ann = with_settings(app, users=("bob",))
    with pytest.raises(TokenRefused, match=r"'ann' is not a user of this server .* Its API tokens no longer work"):
        without_ann.api_token(ann)
    assert without_ann.api_token(bob).user == "bob"
    # a user who leaves has every token revoked
    assert allowed.revoke_user_api_tokens("bob") == 1
    with pytest.raises(TokenRefused, match="unknown or was revoked"):
        allowed.api_token(bob)


def test_a_token_made_for_local_before_this_release_no_longer_works(app: Paperline) -> None:
    token, secret = ApiToken("old", LOCAL_USER, "", 1.0), "pl_" + "x" * 43
    app.store.add_token(token, tokens.digest(secret))
    with pytest.raises(TokenRefused, match="This user name is reserved"):
        app.api_token(secret)


def test_an_expired_token_is_refused_with_when_it_expired(app: Paperline) -> None:
    token, secret = app.create_api_token("ann", expires_in_s=tokens.parse_expiry("30d"))
    assert token.expires_at == pytest.approx(token.created_at + 30 * 86400)
    assert tokens.authenticate(app.store, secret, app.settings, now=token.created_at + 29 * 86400).user == "ann"
    with pytest.raises(TokenRefused, match=r"This API token \(\w+\) expired on \d{4}-\d\d-\d\d .*create a new one"):
        tokens.authenticate(app.store, secret, app.settings, now=token.created_at + 30 * 86400)
    assert tokens.parse_expiry("never") is None and tokens.parse_expiry("12h") == 43200
    for bad in ("30", "3x", "-1d", "6y"):
        with pytest.raises(InvalidRequest, match="is not a duration"):
            tokens.parse_expiry(bad)


def test_a_user_named_none_does_not_share_the_admins_cached_job_list(app: Paperline, pdf: Path) -> None:
    admin_app = with_settings(app, admins=("root",))
    app.submit(pdf, user="ann")
    app.submit(pdf, user="None")  # the CLI's --user can record one; a sign-in cannot
    feed = JobFeed(admin_app)
    feed.refresh()
    root, none = SessionState(feed=feed, user="root"), SessionState(feed=feed, user="None")
    assert {j.user for j in root.jobs()} == {"ann", "None"}, "the admin's list is cached first, scope None"
    assert {j.user for j in none.jobs()} == {"None"}, "a user named None gets their own entry"
    assert {j.user for j in root.jobs()} == {"ann", "None"}


def test_a_cache_hit_across_users_names_nothing_and_gives_its_own_copy(app: Paperline, pdf: Path) -> None:
    ann = app.submit(pdf, "ann-secret-plans.pdf", user="ann")
    run_queued(app)
    bob = app.submit(pdf, "mine.pdf", user="bob")
    assert bob.status is JobStatus.COMPLETED and bob.message == "Served from the result cache"
    shown = json.dumps(bob.to_dict()) + json.dumps([e.message for e in app.events(bob.id, user="bob")])
    assert ann.id not in shown and "ann-secret-plans" not in shown and bob.cached_from == "cache"
    assert "user" not in shown.replace('"user": "bob"', ""), "nothing says another user uploaded it"
    with pytest.raises(JobNotFound):
        app.get(ann.id, user=app.owner_scope("bob"))
    again = app.submit(pdf, "again.pdf", user="ann")
    assert again.message == f"Served from cache: identical to job {ann.id} (ann-secret-plans.pdf)", "one's own is named"
    text = app.result(bob.id, user="bob")
    app.delete(ann.id)
    assert app.result(bob.id, user="bob") == text, "bob's job has its own copy of the result"


def test_a_cache_kept_per_user_answers_no_one_from_another_user_s_job(app: Paperline, pdf: Path) -> None:
    own_cache = with_settings(app, share_cache=False)
    own_cache.submit(pdf, user="ann")
    run_queued(own_cache)
    bob = own_cache.submit(pdf, user="bob")
    assert bob.status is JobStatus.QUEUED and bob.cached_from is None, "extracted again: a fast answer tells nothing"
    run_queued(own_cache)
    again = own_cache.submit(pdf, user="bob")
    assert again.status is JobStatus.COMPLETED and again.cached_from == bob.id, "one's own cache still answers"


def test_parallel_uploads_cannot_pass_the_per_user_limit(app: Paperline, pdf: Path) -> None:
    limited = with_settings(app, user_max_active_jobs=2)
    data = pdf.read_bytes()
    start = threading.Barrier(8)

    def upload(i: int) -> JobStatus:
        start.wait()
        return limited.submit(data, f"doc{i}.pdf", user="ann").status

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(upload, range(8)))
    assert statuses.count(JobStatus.QUEUED) == 2 and statuses.count(JobStatus.FAILED) == 6
    refused = [j for j in limited.jobs(user="ann") if j.status is JobStatus.FAILED]
    assert all(j.error.startswith("Limit reached: ann already has 2 jobs") for j in refused)
    assert all(not limited.files(j.id).names() for j in refused), "no refused upload keeps its bytes"


def test_one_users_uploads_purge_only_their_own_files(app: Paperline, tmp_path: Path) -> None:
    limited = with_settings(app, user_max_jobs=2)
    bob = finished(limited, tmp_path / "b.pdf", 1, "bob")
    ann = [finished(limited, tmp_path / f"a{i}.pdf", i + 2, "ann") for i in range(3)]
    jobs = {j.id: j for j in limited.jobs()}
    assert jobs[ann[0]].purged_at and not jobs[ann[1]].purged_at and not jobs[ann[2]].purged_at
    assert not jobs[bob].purged_at, "bob's older job is not ann's to purge"
    assert any("PAPERLINE_USER_MAX_JOBS=2" in note for note in jobs[ann[0]].notes)


def test_over_the_global_limit_the_heaviest_users_oldest_go_first(app: Paperline, tmp_path: Path) -> None:
    limited = with_settings(app, max_jobs=3)
    bob = finished(limited, tmp_path / "b.pdf", 1, "bob")  # the oldest job of all
    ann = [finished(limited, tmp_path / f"a{i}.pdf", i + 2, "ann") for i in range(2)]
    carol = finished(limited, tmp_path / "c.pdf", 5, "carol")  # four kept: ann keeps the most
    jobs = {j.id: j for j in limited.jobs()}
    assert jobs[ann[0]].purged_at and not jobs[ann[1]].purged_at
    assert not jobs[bob].purged_at and not jobs[carol].purged_at
    assert any("PAPERLINE_MAX_JOBS=3" in note for note in jobs[ann[0]].notes)


def finished(app: Paperline, path: Path, pages: int, user: str) -> str:
    job = app.submit(make_text_pdf(path, pages), user=user)
    run_queued(app)
    return job.id


def test_csv_export_and_results_defuse_formulas_but_keep_numbers(tmp_path: Path) -> None:
    import pandas as pd

    from pipeline.profiles.presets import rows_csv
    from pipeline.profiles.sentences import sentences_csv, split_sentences
    from pipeline.service.export import frame_bytes

    frame = pd.DataFrame(
        {
            "filename": ['=HYPERLINK("http://evil")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "plain"],
            "value": ["-3.5", "+1e3", "-", "12", "=1", "a=b"],
            "number": [-3.5, 1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    rows = list(csv.reader(io.StringIO(frame_bytes(frame, "csv").decode())))
    assert rows[1:] == [
        ['\'=HYPERLINK("http://evil")', "-3.5", "-3.5"],
        ["'+cmd|' /C calc'!A0", "+1e3", "1.0"],
        ["'-2+3", "'-", "2.0"],
        ["'@SUM(A1)", "12", "3.0"],
        ["'\tx", "'=1", "4.0"],
        ["plain", "a=b", "5.0"],
    ]
    assert pd.read_parquet(io.BytesIO(frame_bytes(frame, "parquet")))["filename"][0] == '=HYPERLINK("http://evil")'
    table = list(csv.reader(io.StringIO(rows_csv([{"page": 1, "=cmd": "@x", "amount": "-12.50"}]))))
    assert table == [["page", "'=cmd", "amount"], ["1", "'@x", "-12.50"]]
    sentences = split_sentences([PageText(1, "=1+2 is a formula. -5 degrees.", "text")])
    assert [row[2] for row in csv.reader(io.StringIO(sentences_csv(sentences)))][1:] == [
        "'=1+2 is a formula.",
        "'-5 degrees.",
    ]


def test_a_csv_result_and_the_cli_export_carry_no_live_formula(app: Paperline, tmp_path: Path) -> None:
    from fpdf import FPDF

    from tests.conftest import paperline

    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.text(15, 20, "=HYPERLINK(1) opens a page. @SUM(A1) adds. It was -3.5 degrees.")
    path = tmp_path / "formulas.pdf"
    pdf.output(str(path))
    job = app.submit(path, "=cmd|calc.pdf", profile="sentences")
    run_queued(app)
    cells = [row[2] for row in csv.reader(io.StringIO(app.result(job.id, "csv")))][1:]
    assert cells[:2] == ["'=HYPERLINK(1) opens a page.", "'@SUM(A1) adds."], cells
    assert all(not cell.startswith(("=", "+", "-", "@")) for cell in cells)
    done = paperline(app, "export", "jobs", "-o", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    [row] = list(csv.DictReader(io.StringIO((tmp_path / "out" / "paperline-jobs.csv").read_text())))
    assert row["filename"] == "'=cmd_calc.pdf" and row["pages"] == "1", "text defused, numbers kept"
