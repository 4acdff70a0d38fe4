"""Retention: over PAPERLINE_MAX_JOBS or PAPERLINE_MAX_STORAGE_MB, the least recently used finished jobs lose
their files and keep their history rows, marked purged."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from pipeline import JobStatus, Paperline
from pipeline.core.errors import InvalidRequest
from pipeline.core.settings import Settings
from tests.docgen import known_text, make_text_pdf
from tests.sync_runner import run_queued


def noise_png(side: int) -> bytes:
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, format="PNG")
    return buffer.getvalue()


def finished_job(app: Paperline, path: Path, pages: int = 1) -> str:
    job = app.submit(make_text_pdf(path, pages))
    run_queued(app)
    return job.id


def test_over_max_jobs_the_least_recently_used_lose_their_files(tmp_path: Path) -> None:
    app = Paperline(Settings(home=tmp_path / "home", max_jobs=2))
    first = finished_job(app, tmp_path / "a.pdf", 1)
    second = finished_job(app, tmp_path / "b.pdf", 2)
    app.result(first)  # reading a result counts as use: the second job is now the least recently used
    third = finished_job(app, tmp_path / "c.pdf", 3)
    jobs = {j.id: j for j in app.jobs()}
    assert jobs[second].purged_at and not jobs[first].purged_at and not jobs[third].purged_at
    assert jobs[second].status is JobStatus.COMPLETED, "history keeps the job as it ended"
    assert any("Files purged to stay within PAPERLINE_MAX_JOBS=2" in n for n in jobs[second].notes)
    assert not app.files(second).names() and not app.settings.job_dir(second).exists()
    with pytest.raises(InvalidRequest, match=r"no longer kept\. Files purged to stay within PAPERLINE_MAX_JOBS=2"):
        app.result(second)
    assert app.result(first) == known_text(1) and app.result(third) == known_text(3)
    assert len(app.jobs()) == 3


def test_over_max_storage_files_are_purged_until_it_fits(tmp_path: Path) -> None:
    app = Paperline(Settings(home=tmp_path / "home", max_storage_mb=1))
    ids = []
    for i in range(4):
        job = app.submit(noise_png(400 + i), f"photo{i}.png")  # ~0.5 MB each, incompressible
        run_queued(app)
        ids.append(job.id)
    assert sum(app.storage.sizes("").values()) <= 1024 * 1024
    purged = [j.id for j in app.jobs() if j.purged_at]
    assert purged and ids[-1] not in purged
    assert set(purged) == set(ids[: len(purged)]), "the oldest go first"
