"""Job files in S3-compatible object storage (a real SeaweedFS server): uploads, results, retention, and a bucket
that cannot be reached."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline import JobStatus, Paperline, Settings
from pipeline.files.storage import S3Storage, StorageUnavailable, open_storage
from tests.docgen import known_text, make_photo, make_text_pdf
from tests.sync_runner import run_queued

pytestmark = pytest.mark.integration


def test_uploads_and_results_live_in_the_bucket(tmp_path: Path, s3_storage: str) -> None:
    app = Paperline(Settings(home=tmp_path / "home", storage_url=s3_storage))
    pdf = make_text_pdf(tmp_path / "bucket.pdf", 45)
    job = app.submit(pdf, profile="markdown")
    photo = app.submit(make_photo((1600, 1200)), "photo.jpg")
    run_queued(app)
    assert app.get(job.id).status is app.get(photo.id).status is JobStatus.COMPLETED
    assert app.result(job.id, "text") == known_text(45)
    assert app.files(job.id).read("source.pdf") == pdf.read_bytes()
    assert app.compressed_image_bytes(photo.id)[:4] == b"RIFF"  # type: ignore[index]
    names = set(app.files(job.id).names())
    assert {"source.pdf", "chunks/00000.json", "result.md", "result.txt", "result.json"} <= names
    assert not app.settings.jobs_dir.exists(), "nothing under PAPERLINE_HOME/jobs: the bucket holds the files"
    cached = list(app.settings.cache_dir.rglob("source.*"))
    assert {path.parent.name for path in cached} <= {job.id, photo.id}, "only sources are copied locally"
    again = app.submit(pdf, profile="markdown")  # answered from cache: results copied inside the bucket
    assert again.status is JobStatus.COMPLETED and app.result(again.id, "text") == known_text(45)


def test_retention_purges_objects(tmp_path: Path, s3_storage: str) -> None:
    app = Paperline(Settings(home=tmp_path / "home", storage_url=s3_storage, max_jobs=1))
    first = app.submit(make_text_pdf(tmp_path / "a.pdf", 2))
    run_queued(app)
    assert app.files(first.id).names()
    app.submit(make_text_pdf(tmp_path / "b.pdf", 3))
    run_queued(app)
    assert app.get(first.id).purged_at and app.files(first.id).names() == {}
    storage = open_storage(app.settings)
    assert isinstance(storage, S3Storage) and storage.sizes(f"{first.id}/") == {}


def test_a_bucket_that_cannot_be_reached_is_a_plain_message(tmp_path: Path, s3_storage: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import paperline

    settings = Settings(home=tmp_path / "home", storage_url="s3://no-such-bucket-here/x")
    with pytest.raises(StorageUnavailable, match=r"s3://no-such-bucket-here/x .* cannot be used"):
        open_storage(settings).check()
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(StorageUnavailable, match=re.escape("at http://127.0.0.1:9 cannot be used")):
        open_storage(replace(settings, storage_url=s3_storage)).check()
    app = Paperline(settings)
    started = paperline(app, "worker", "-w", "1", timeout=60, PAPERLINE_STORAGE_URL="s3://no-such-bucket-here/x")
    assert started.returncode == 2 and "paperline: The file storage s3://no-such-bucket-here/x" in started.stderr
    assert "Traceback" not in started.stderr


def test_a_worker_with_its_own_home_runs_a_job_through_postgresql_and_the_bucket(
    tmp_path: Path, s3_storage: str, postgres_url: str
) -> None:
    """What a second host sees: its own empty PAPERLINE_HOME, the store and queue in PostgreSQL, the files in the
    bucket. Nothing can pass between the submitter and the worker through a local directory."""
    from tests.conftest import worker_env
    from tests.helpers import start_worker_process, stop_process, wait_for_worker

    here = Settings(home=tmp_path / "dashboard-host", database_url=postgres_url, storage_url=s3_storage)
    there = replace(here, home=tmp_path / "worker-host")
    app = Paperline(here)
    log_path = tmp_path / "worker.log"
    worker, log = start_worker_process(worker_env(there, PAPERLINE_STORAGE_URL=s3_storage), log_path, workers=2)
    try:
        wait_for_worker(app, worker, log_path, timeout=60)
        job = app.submit(make_text_pdf(tmp_path / "far.pdf", 45), profile="markdown")
        [job] = app.wait([job.id], timeout_s=60, poll_s=0.05)
        assert job.status is JobStatus.COMPLETED, log_path.read_text()[-3000:]
        assert app.result(job.id, "text") == known_text(45)
        assert {c.worker.split(":")[0] for c in app.chunks(job.id)}, "run by the worker"
        assert not (there.home / "jobs").exists() and not (here.home / "jobs").exists()
        assert list((there.home / "cache").rglob("source.pdf")), "the worker read its own copy from the bucket"
    finally:
        stop_process(worker)
        log.close()
        app.close()
