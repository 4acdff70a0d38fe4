"""Per-user limits and retention with job files in S3-compatible object storage (a real SeaweedFS server):
parallel uploads refused for a limit leave no object behind, and one user's retention deletes only their objects."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pipeline import JobStatus, Paperline, Settings
from tests.docgen import make_text_pdf
from tests.sync_runner import run_queued

pytestmark = pytest.mark.integration


def test_parallel_uploads_refused_for_a_limit_leave_no_objects(tmp_path: Path, s3_storage: str) -> None:
    app = Paperline(Settings(home=tmp_path / "home", storage_url=s3_storage, user_max_active_jobs=2))
    data = make_text_pdf(tmp_path / "a.pdf", 2).read_bytes()
    start = threading.Barrier(6)

    def upload(i: int) -> str:
        start.wait()
        return app.submit(data, f"doc{i}.pdf", user="ann").id

    with ThreadPoolExecutor(6) as pool:
        ids = list(pool.map(upload, range(6)))
    jobs = [app.get(job_id) for job_id in ids]
    queued = [j for j in jobs if j.status is JobStatus.QUEUED]
    refused = [j for j in jobs if j.status is JobStatus.FAILED]
    assert len(queued) == 2 and len(refused) == 4
    assert all(app.storage.sizes(f"{j.id}/") == {} for j in refused), "no refused upload keeps an object"
    assert all("source.pdf" in app.files(j.id).names() for j in queued)
    assert not any((app.settings.cache_dir / j.id).exists() for j in refused), "nor a local copy"


def test_one_users_retention_deletes_only_their_objects(tmp_path: Path, s3_storage: str) -> None:
    app = Paperline(Settings(home=tmp_path / "home", storage_url=s3_storage, user_max_jobs=1))
    bob = app.submit(make_text_pdf(tmp_path / "b.pdf", 1), user="bob")
    run_queued(app)
    ann = [app.submit(make_text_pdf(tmp_path / f"a{i}.pdf", i + 2), user="ann") for i in range(2)]
    run_queued(app)
    assert app.get(ann[0].id).purged_at and app.storage.sizes(f"{ann[0].id}/") == {}
    assert not app.get(bob.id).purged_at and "result.txt" in app.files(bob.id).names()
    assert "result.txt" in app.files(ann[1].id).names()
