"""The dashboard on a PostgreSQL store: woken by LISTEN/NOTIFY, it follows a job a worker runs to the end."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pipeline import JobStatus, Paperline
from tests.conftest import worker_env
from tests.docgen import make_text_pdf
from tests.helpers import start_worker_process, stop_process, wait_for_worker

pytestmark = pytest.mark.ui


def test_the_page_follows_a_job_on_postgresql(  # type: ignore[no-untyped-def]
    app: Paperline, serve_dashboard, page, postgres_url: str, tmp_path: Path
) -> None:
    settings = replace(app.settings, database_url=postgres_url)
    on_postgres = Paperline(settings)
    log_path = tmp_path / "pg-worker.log"
    worker, log = start_worker_process(worker_env(settings), log_path, workers=2)
    try:
        wait_for_worker(on_postgres, worker, log_path, timeout=60)
        page.goto(serve_dashboard(PAPERLINE_DATABASE_URL=postgres_url))
        page.get_by_text("No jobs running").wait_for()
        job = on_postgres.submit(make_text_pdf(tmp_path / "on-postgres.pdf", 45))
        page.locator(".pl-job-card").filter(has_text="on-postgres.pdf — completed").wait_for(timeout=60_000)
        assert on_postgres.get(job.id).status is JobStatus.COMPLETED
        assert page.locator(".pl-chunk-done").count() == 3
    finally:
        stop_process(worker)
        log.close()
        on_postgres.close()
