"""The bad-input matrix through the CLI against a real worker: each file gets its plain answer, nothing is lost,
and the worker keeps running."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline import JobStatus, Paperline
from tests.bad_inputs import UPLOAD_LIMIT_MB, awkward_name, bad_inputs
from tests.conftest import paperline
from tests.docgen import make_text_pdf

pytestmark = pytest.mark.integration


def test_every_bad_file_is_explained_and_harms_nothing(app: Paperline, start_worker, tmp_path: Path) -> None:
    limit = {"PAPERLINE_MAX_UPLOAD_MB": str(UPLOAD_LIMIT_MB)}
    worker = start_worker(workers=2, **limit)
    folder = tmp_path / "inbox"
    folder.mkdir()
    matrix = [*bad_inputs(), awkward_name()]
    for item in matrix:
        (folder / item.name).write_bytes(item.content)

    done = paperline(app, "submit", *[str(folder / i.name) for i in matrix], "--wait", "--json", **limit)
    assert done.returncode == 1, "some jobs failed, so the exit status says so"
    jobs = {job["filename"]: job for job in json.loads(done.stdout)}
    assert len(jobs) == len(matrix)
    for item in matrix[:-1]:
        job = jobs[item.shown_name]
        assert job["status"] == "failed" and item.message in job["error"], (item.name, job["error"])
        assert not app.files(job["id"]).names(), f"{item.name}: a refused file is not kept"
    good = jobs[awkward_name().shown_name]
    assert good["status"] == "completed", good["error"]
    assert "Page 1 line 12" in app.result(good["id"])

    assert worker.poll() is None, "the worker survived every bad file"
    status = paperline(app, "status", jobs["locked.pdf"]["id"])
    assert "password-protected" in status.stdout
    after = app.wait([app.submit(make_text_pdf(tmp_path / "after.pdf", 3)).id], timeout_s=60)
    assert after[0].status is JobStatus.COMPLETED and not after[0].cached_from, "and still takes new work"
    assert "EOF marker" not in done.stderr, "library warnings do not leak into the CLI"
