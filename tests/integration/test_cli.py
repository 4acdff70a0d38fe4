"""The ``paperline`` command as a user runs it, against a real worker."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from pipeline.service.paperline import Paperline
from tests.conftest import paperline
from tests.docgen import make_encrypted_pdf, make_text_pdf
from tests.helpers import wait_until

pytestmark = pytest.mark.integration


def test_submit_wait_succeeds_only_when_every_job_completes(app: Paperline, start_worker, tmp_path: Path) -> None:
    start_worker(workers=2)
    good = make_text_pdf(tmp_path / "good.pdf", 35)
    done = paperline(app, "submit", str(good), "--wait", "--json")
    assert done.returncode == 0, done.stderr
    [job] = json.loads(done.stdout)
    assert job["status"] == "completed" and job["pages"] == 35 and job["chunks_total"] == 2
    for field in (
        "id",
        "filename",
        "kind",
        "profile",
        "stage",
        "progress",
        "message",
        "chunks_done",
        "chunks_failed",
        "created_at",
        "started_at",
        "finished_at",
        "error",
        "sha256",
        "size_bytes",
        "user",
    ):
        assert field in job

    bad = tmp_path / "notes.pdf"
    bad.write_text("not a pdf")
    mixed = paperline(app, "submit", str(good), str(bad), "--wait")
    assert mixed.returncode == 1
    assert "notes.pdf is not a PDF" in mixed.stderr

    status = paperline(app, "status", job["id"])
    assert status.returncode == 0 and "completed" in status.stdout and "pages 1-20" in status.stdout
    listing = json.loads(paperline(app, "jobs", "--json", "--status", "completed").stdout)
    assert job["id"] in [j["id"] for j in listing]
    text = paperline(app, "result", job["id"], "--format", "text")
    assert "Page 35 line 12" in text.stdout
    out = tmp_path / "out.json"
    assert paperline(app, "result", job["id"], "--format", "json", "-o", str(out)).returncode == 0
    assert json.loads(out.read_text())["pages"][0]["page"] == 1


def test_cli_explains_refusals_and_missing_workers(app: Paperline, tmp_path: Path) -> None:
    encrypted = paperline(app, "submit", str(make_encrypted_pdf(tmp_path / "protected.pdf")))
    assert encrypted.returncode == 1 and "password-protected" in encrypted.stderr
    pdf = make_text_pdf(tmp_path / "q.pdf", 1)
    waited = paperline(app, "submit", str(pdf), "--wait", "--timeout", "1")
    assert waited.returncode == 1
    assert "No Paperline worker is running" in waited.stderr
    claude = paperline(app, "submit", str(pdf), "--engine", "claude", ANTHROPIC_API_KEY="")
    assert claude.returncode == 2 and "Claude needs an API key: set ANTHROPIC_API_KEY" in claude.stderr
    queued = json.loads(paperline(app, "submit", str(pdf), "--json").stdout)[0]
    canceled = paperline(app, "cancel", queued["id"], "--json")
    assert canceled.returncode == 0 and json.loads(canceled.stdout)["status"] == "canceled"
    again = paperline(app, "cancel", queued["id"])
    assert again.returncode == 2 and "already ended (canceled)" in again.stderr
    missing = paperline(app, "status", "nope")
    assert missing.returncode == 2 and "No job 'nope'" in missing.stderr
    no_result = paperline(app, "result", json.loads(paperline(app, "jobs", "--json").stdout)[0]["id"])
    assert no_result.returncode == 2 and "has no result yet" in no_result.stderr


def test_export_writes_csv_and_parquet_history(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    from tests.sync_runner import run_queued

    app.submit(make_text_pdf(tmp_path / "a.pdf", 3), user="ann")
    app.submit(make_text_pdf(tmp_path / "b.pdf", 4), user="bob")
    run_queued(app)
    done = paperline(app, "export", "-o", str(tmp_path / "all"), "--format", "parquet")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == [
        "paperline-chunks.parquet",
        "paperline-events.parquet",
        "paperline-jobs.parquet",
    ]
    assert len(pd.read_parquet(tmp_path / "all" / "paperline-jobs.parquet")) == 2
    mine = paperline(app, "--user", "ann", "export", "jobs", "chunks", "-o", str(tmp_path / "ann"))
    assert mine.returncode == 0 and "paperline-jobs.csv (1 rows)" in mine.stderr
    assert list(pd.read_csv(tmp_path / "ann" / "paperline-jobs.csv")["user"]) == ["ann"]
    wrong = paperline(app, "export", "bogus")
    assert wrong.returncode == 2 and "Unknown table 'bogus'" in wrong.stderr


def test_serve_passes_panel_options_such_as_basic_auth(app, serve_dashboard, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`paperline serve -- --basic-auth ...` (what serve_dashboard runs) hands the options to panel serve: the
    dashboard asks who you are."""
    import urllib.error
    import urllib.request

    users = tmp_path / "users.json"
    users.write_text(json.dumps({"ann": "pw"}))
    url = serve_dashboard("--basic-auth", str(users), "--cookie-secret", "test-secret")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            return None

    try:
        urllib.request.build_opener(NoRedirect).open(url, timeout=30)
        location = "served without asking who you are"
    except urllib.error.HTTPError as exc:
        location = exc.headers.get("Location", "") if exc.code == 302 else f"HTTP {exc.code}"
    assert "/login" in location, location


def test_retry_wait_reruns_the_failed_chunks_through_a_worker(app: Paperline, start_worker, tmp_path: Path) -> None:
    from tests.fake_anthropic import FakeAnthropic

    with FakeAnthropic() as api:
        # Chunk 2 (pages 21-40, context 20-41) meets a permanent outage; chunk 1 and 3 go through.
        api.fail(500, times=None, when=lambda r: "Extract only pages 21-40" in r.prompt, message="outage")
        env = {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": api.base_url, "PAPERLINE_LLM_MAX_RETRIES": "0"}
        start_worker(workers=2, **env)
        submitted = paperline(
            app, "submit", str(make_text_pdf(tmp_path / "c.pdf", 45)), "--engine", "claude", "--wait", "--json", **env
        )
        assert submitted.returncode == 1, submitted.stderr
        [job] = json.loads(submitted.stdout)
        assert job["status"] == "failed" and job["chunks_failed"] == 1 and "outage" in job["error"]

        api.clear_failures()
        retried = paperline(app, "retry", job["id"], "--wait", "--json", **env)
        assert retried.returncode == 0, retried.stderr
        assert "Retrying 1 chunk(s) of c.pdf" in retried.stderr
        again = json.loads(retried.stdout)
        assert again["status"] == "completed" and again["chunks_done"] == 3 and again["chunks_failed"] == 0
        assert "Page 45 line 1" in paperline(app, "result", job["id"], **env).stdout


def test_status_says_when_a_job_is_stalled(app: Paperline, tmp_path: Path) -> None:
    job = app.submit(make_text_pdf(tmp_path / "waiting.pdf", 2))  # no worker runs
    env = {"PAPERLINE_STALL_AFTER_S": "0.5"}
    wait_until(lambda: time.time() - job.created_at > 0.6, timeout=5, what="the job to wait a moment")
    status = paperline(app, "status", job.id, **env)
    assert status.returncode == 0
    assert re.search(r"stalled: Stalled: queued for \d+ s and no worker is running", status.stdout), status.stdout
    as_json = json.loads(paperline(app, "status", job.id, "--json", **env).stdout)
    assert as_json["stalled"].startswith("Stalled: queued for")
    assert paperline(app, "status", job.id).stdout.count("stalled") == 0, "not stalled under the 30 s default"


def test_paperline_user_and_per_user_limits_apply_to_the_cli(app: Paperline, tmp_path: Path) -> None:
    limits = {"PAPERLINE_USER_MAX_ACTIVE_JOBS": "1"}
    first = paperline(
        app, "submit", str(make_text_pdf(tmp_path / "a.pdf", 1)), "--json", PAPERLINE_USER="ann", **limits
    )
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)[0]["user"] == "ann", "PAPERLINE_USER names who submits"
    second = paperline(app, "submit", str(make_text_pdf(tmp_path / "b.pdf", 2)), PAPERLINE_USER="ann", **limits)
    assert second.returncode == 1
    assert "Limit reached: ann already has 1 jobs queued or running (at most 1 per user)" in second.stderr
    bob = paperline(app, "--user", "bob", "submit", str(make_text_pdf(tmp_path / "c.pdf", 3)), **limits)
    assert bob.returncode == 0, "limits are per user"
    listed = json.loads(paperline(app, "jobs", "--json", PAPERLINE_USER="ann").stdout)
    assert [(j["filename"], j["status"]) for j in listed] == [("b.pdf", "failed"), ("a.pdf", "queued")]


def test_delete_removes_an_ended_jobs_files_and_keeps_its_history(app: Paperline, tmp_path: Path) -> None:
    from tests.sync_runner import run_queued

    pdf = make_text_pdf(tmp_path / "d.pdf", 2)
    job = json.loads(paperline(app, "submit", str(pdf), "--json", PAPERLINE_USER="ann").stdout)[0]
    refused = paperline(app, "delete", job["id"], PAPERLINE_USER="ann")
    assert refused.returncode == 2 and "has not ended (queued); cancel it first" in refused.stderr
    run_queued(app)
    assert app.get(job["id"]).status.value == "completed" and app.files(job["id"]).available_formats()
    other = paperline(app, "delete", job["id"], PAPERLINE_USER="bob")
    assert other.returncode == 2 and f"No job '{job['id']}'" in other.stderr, "another user's job is not found"
    deleted = paperline(app, "delete", job["id"], "--json", PAPERLINE_USER="ann")
    assert deleted.returncode == 0, deleted.stderr
    kept = json.loads(deleted.stdout)
    assert kept["status"] == "completed" and kept["purged_at"], "the history row stays, marked"
    assert "Files deleted by ann; the history is kept." in kept["notes"][-1]
    assert app.files(job["id"]).size() == 0 and app.source_bytes(job["id"]) is None
    result = paperline(app, "result", job["id"], PAPERLINE_USER="ann")
    assert result.returncode == 2 and "are no longer kept. Files deleted by ann" in result.stderr
    again = paperline(app, "delete", job["id"], PAPERLINE_USER="ann")
    assert again.returncode == 0, "deleting twice is harmless"
    assert [j["id"] for j in json.loads(paperline(app, "jobs", "--json").stdout)] == [job["id"]]


def test_a_reader_that_closes_the_pipe_early_ends_the_command_quietly(app: Paperline, tmp_path: Path) -> None:
    """`paperline jobs | head`: the reader goes away before the listing is written; the command stops without a
    traceback, with the status a shell gives a command ended by a closed pipe."""
    import os
    import subprocess
    import sys

    from tests.conftest import worker_env
    from tests.helpers import ROOT

    for n in range(3):
        app.submit(make_text_pdf(tmp_path / f"p{n}.pdf", 1))
    read, write = os.pipe()
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "jobs"],
        cwd=ROOT,
        env=worker_env(app.settings),
        stdout=write,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(write)
    os.close(read)  # closed before the command (still importing) writes a line
    try:
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    assert process.returncode == 141
