"""A canceled job runs again where it stopped, and the queue's health says what waits: through the service on a real
store and queue (``run_queued`` runs the very tasks a worker runs), and through the ``paperline`` command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.core.errors import InvalidRequest
from pipeline.core.models import ChunkStatus, JobStatus
from pipeline.core.settings import Settings
from pipeline.service.paperline import Paperline
from tests.conftest import paperline
from tests.docgen import known_text, make_text_pdf
from tests.sync_runner import run_queued


def run_one(app: Paperline) -> None:
    app.tasks  # noqa: B018 -- bound before the first dequeue, so the queue knows the task names
    task = app.queue.dequeue()
    assert task is not None
    task.execute()


def test_a_job_canceled_while_queued_runs_again_from_the_start(app: Paperline, tmp_path: Path) -> None:
    job = app.submit(make_text_pdf(tmp_path / "a.pdf", 2))
    app.cancel(job.id)
    again = app.retry(job.id)
    assert again.status is JobStatus.QUEUED and again.message == "Queued again after it was canceled"
    run_queued(app)  # the task queued before the cancel and the new one: the job is prepared once
    done = app.get(job.id)
    assert done.status is JobStatus.COMPLETED and app.result(job.id) == known_text(2)
    assert [e.kind for e in app.events(job.id)].count("retry") == 1


@pytest.fixture
def small_chunks(settings: Settings) -> Iterator[Paperline]:
    paperline = Paperline(replace(settings, single_chunk_max_pages=2, medium_chunk_pages=2))
    yield paperline
    paperline.close()


def test_a_job_canceled_while_extracting_keeps_its_done_chunks(small_chunks: Paperline, tmp_path: Path) -> None:
    app = small_chunks
    job = app.submit(make_text_pdf(tmp_path / "b.pdf", 6))
    run_one(app)  # prepared and split: three chunks queued
    run_one(app)  # the first chunk done
    app.cancel(job.id)
    assert [c.status for c in app.chunks(job.id)] == [ChunkStatus.DONE, ChunkStatus.CANCELED, ChunkStatus.CANCELED]
    first_done_at = app.chunks(job.id)[0].finished_at
    assert app.retry(job.id).status is JobStatus.RUNNING
    run_queued(app)
    done = app.get(job.id)
    assert done.status is JobStatus.COMPLETED and app.result(job.id) == known_text(6)
    assert app.chunks(job.id)[0].finished_at == first_done_at, "the chunk done before the cancel was not redone"
    with pytest.raises(InvalidRequest, match="only a failed or canceled job can be retried"):
        app.retry(job.id)


def test_a_canceled_job_whose_files_are_gone_cannot_run_again(app: Paperline, tmp_path: Path) -> None:
    job = app.submit(make_text_pdf(tmp_path / "c.pdf", 1))
    app.cancel(job.id)
    app.delete(job.id)
    assert not app.get(job.id).can_run_again
    with pytest.raises(InvalidRequest, match="cannot run again: its files were deleted"):
        app.retry(job.id)
    batch, [kept] = app.submit_batch([(make_text_pdf(tmp_path / "d.pdf", 1), None)])
    app.cancel_batch(batch.id)
    dropped = app.submit(make_text_pdf(tmp_path / "e.pdf", 1), batch_id=batch.id)  # arrived after "cancel all"
    assert dropped.status is JobStatus.CANCELED and not dropped.can_run_again
    with pytest.raises(InvalidRequest, match="its upload was not kept"):
        app.retry(dropped.id)
    assert app.retry(kept.id).status is JobStatus.QUEUED, "its batch's other job was kept: it runs again"


def test_paperline_status_alone_prints_the_queues_health(app: Paperline, tmp_path: Path) -> None:
    empty = paperline(app, "status")
    assert empty.returncode == 0, empty.stderr
    assert "queued: 0 jobs" in empty.stdout and "oldest waiting: -" in empty.stdout
    first = app.submit(make_text_pdf(tmp_path / "first.pdf", 1))
    app.submit(make_text_pdf(tmp_path / "second.pdf", 1))
    shown = paperline(app, "status")
    assert shown.returncode == 0, shown.stderr
    lines = {line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip() for line in shown.stdout.splitlines()}
    assert lines["queued"] == "2 jobs" and lines["running"] == "0 jobs" and lines["workers"] == "0 processes alive"
    assert lines["oldest waiting"].startswith(f"first.pdf ({first.id}), ")
    assert "No Paperline worker is running" in shown.stderr
    health = json.loads(paperline(app, "status", "--json").stdout)
    assert health["queued"] == 2 and health["workers"] == 0 and health["oldest_queued"]["id"] == first.id
    canceled = paperline(app, "cancel", first.id)
    assert canceled.returncode == 0
    again = paperline(app, "retry", first.id)
    assert again.returncode == 0 and "Running first.pdf again from the start" in again.stderr
