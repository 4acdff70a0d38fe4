"""The ``paperline`` command as a user runs it, against a real worker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.service import Paperline
from tests.conftest import paperline
from tests.docgen import make_text_pdf

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


def test_cli_explains_refusals_and_missing_workers(app: Paperline, tmp_path: Path, corpus: Path) -> None:
    encrypted = paperline(app, "submit", str(corpus / "libreoffice-writer-password.pdf"))
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


def test_serve_passes_panel_options_such_as_basic_auth(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys
    import urllib.error
    import urllib.request

    from tests.conftest import worker_env
    from tests.helpers import ROOT, free_port, stop_process, wait_until

    users = tmp_path / "users.json"
    users.write_text(json.dumps({"ann": "pw"}))
    port = free_port()
    argv = [sys.executable, "-m", "pipeline", "serve", "--workers", "0", "--port", str(port), "--"]
    argv += ["--basic-auth", str(users), "--cookie-secret", "test-secret"]
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            argv, cwd=ROOT, env=worker_env(app.settings), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:

        def login_redirect() -> str:
            class NoRedirect(urllib.request.HTTPRedirectHandler):
                def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
                    return None

            try:
                urllib.request.build_opener(NoRedirect).open(f"http://127.0.0.1:{port}/app", timeout=10)
            except urllib.error.HTTPError as exc:
                return exc.headers.get("Location", "") if exc.code == 302 else ""
            except OSError:
                return ""
            return "served without asking who you are"

        location = wait_until(login_redirect, timeout=60, interval=0.5, what="the dashboard")
        assert location.startswith("/login") or "/login" in location, location
    finally:
        stop_process(server)
