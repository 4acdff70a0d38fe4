"""What every hostile test checks besides the hostile file: another user's job in flight at the same time ends
as it would have anyway, and the worker pool is still alive and takes new work afterwards."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pipeline import Job, JobStatus, Paperline
from tests.docgen import known_text, make_text_pdf


def submit_bystander(app: Paperline, tmp_path: Path, pages: int = 3) -> Job:
    """Bob's ordinary document, submitted while the hostile one is handled."""
    return app.submit(make_text_pdf(tmp_path / f"bob-{pages}.pdf", pages), "bob.pdf", user="bob")


def assert_bystander_unaffected(app: Paperline, job: Job, pages: int = 3, timeout_s: float = 120) -> None:
    [done] = app.wait([job.id], timeout_s=timeout_s)
    assert done.status is JobStatus.COMPLETED, done.error
    assert app.result(done.id, "text", user="bob") == known_text(pages), "bob's text is exactly what it would be"
    assert not done.notes, done.notes


def assert_pool_alive(app: Paperline, worker: subprocess.Popen, tmp_path: Path, pages: int = 4) -> None:
    """The consumer still runs, and a new document (never seen before, so not from cache) completes."""
    assert worker.poll() is None, "the worker pool is still running"
    job = app.submit(make_text_pdf(tmp_path / f"after-{pages}.pdf", pages), "after.pdf", user="carol")
    [done] = app.wait([job.id], timeout_s=120)
    assert done.status is JobStatus.COMPLETED and not done.cached_from, done.error
    assert app.result(done.id, "text", user="carol") == known_text(pages)
