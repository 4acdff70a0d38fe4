"""A job's steps run in this process (no consumer): chunking, merging, OCR notes, images, retries."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
from PIL import Image

from pipeline.core.models import ChunkSpan, ChunkStatus, JobStatus, Stage
from pipeline.core.settings import Settings
from pipeline.engines.local import LocalExtractor
from pipeline.service.paperline import Paperline
from pipeline.worker.recovery import Sweeper
from tests.docgen import known_text, make_photo, make_text_image, make_text_pdf, page_text
from tests.sync_runner import run_queued


class RecordingTasks:
    """A scheduler that records what the steps queue and runs nothing; its queue holds what was recorded."""

    def __init__(self) -> None:
        self.documents: list[str] = []
        self.chunks: list[tuple[str, int]] = []
        self.merges: list[str] = []
        self.embeddings: list[tuple[str, int]] = []
        self.priorities: dict[tuple[str, int], int] = {}

    def enqueue_document(self, job_id: str, *, priority: int = 0) -> None:
        self.documents.append(job_id)

    def enqueue_chunk(self, job_id: str, index: int, delay: float = 0.0, *, priority: int = 0) -> None:
        self.chunks.append((job_id, index))
        self.priorities[(job_id, index)] = priority

    def enqueue_merge(self, job_id: str, *, priority: int = 0) -> None:
        self.merges.append(job_id)

    def enqueue_embedding(self, job_id: str, first: int) -> None:
        self.embeddings.append((job_id, first))

    def queued(self) -> tuple[set[tuple[str, int]], set[str]]:
        return set(self.chunks), set(self.documents)


def test_multi_chunk_pdf_merges_to_the_text_it_was_made_from(app: Paperline, tmp_path: Path) -> None:
    pdf = make_text_pdf(tmp_path / "long.pdf", 130)
    job = app.submit(pdf)
    run_queued(app)
    job = app.get(job.id)
    assert job.status is JobStatus.COMPLETED and job.stage is Stage.COMPLETED and job.progress == 100
    assert job.chunks_total == 9 and job.chunks_done == 9 and job.pages_done == 130
    assert app.result(job.id, "text") == known_text(130)
    assert all(line in app.result(job.id) for line in page_text(77))
    chunks = app.chunks(job.id)
    assert [(c.first_page, c.last_page) for c in chunks][:2] == [(1, 15), (16, 30)]
    assert all(c.status is ChunkStatus.DONE and c.attempts == 1 and c.started_at and c.finished_at for c in chunks)


def test_progress_only_moves_forward_and_follows_the_stages(app: Paperline, tmp_path: Path) -> None:
    job = app.submit(make_text_pdf(tmp_path / "p.pdf", 60))
    run_queued(app)
    events = app.events(job.id)
    progress = [e.progress for e in events]
    assert progress == sorted(progress) and progress[-1] == 100
    stages = list(dict.fromkeys(e.stage for e in events))
    assert stages == ["queued", "preparing", "splitting", "extracting", "merging", "completed"]


@pytest.mark.parametrize(
    ("profile", "formats"), [("markdown", ["markdown", "text", "json"]), ("sentences", ["json", "csv", "text"])]
)
def test_profiles_write_their_result_files(app: Paperline, tmp_path: Path, profile: str, formats: list[str]) -> None:
    job = app.submit(make_text_pdf(tmp_path / "p.pdf", 3), profile=profile)
    run_queued(app)
    assert app.result_formats(job.id) == formats
    if profile == "markdown":
        assert "<!-- page 2 -->" in app.result(job.id), "page breaks are comments, not headings"
    else:
        rows = json.loads(app.result(job.id, "json"))["sentences"]
        assert rows[0]["page"] == 1 and rows[0]["text"].startswith("Page 1 line 1:")


def test_scanned_pages_are_read_by_ocr(app: Paperline) -> None:
    job = app.submit(make_text_image("Quarterly invoice total"), "scan.png")
    run_queued(app)
    job = app.get(job.id)
    assert job.status is JobStatus.COMPLETED
    assert "Quarterly invoice total" in app.result(job.id)
    assert any("read by OCR" in note for note in job.notes)


def test_without_tesseract_the_job_completes_with_an_install_note(
    app: Paperline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERLINE_TESSERACT", str(tmp_path / "no-such-tesseract"))
    job = app.submit(make_text_pdf(tmp_path / "p.pdf", 3, blank_pages=(2,)))
    run_queued(app)
    job = app.get(job.id)
    assert job.status is JobStatus.COMPLETED
    assert any("OCR is unavailable" in n and "apt-get install tesseract-ocr" in n for n in job.notes)
    assert any("No text found on pages 2" in n for n in job.notes)


def test_images_are_compressed_upright_with_sizes_recorded(app: Paperline, tmp_path: Path) -> None:
    # EXIF orientation 6 means "rotate 90 degrees clockwise to display": 3000x2000 displays as 2000x3000.
    job = app.submit(make_photo((3000, 2000), "JPEG", exif_orientation=6), "photo.jpg")
    run_queued(app)
    job = app.get(job.id)
    assert job.status is JobStatus.COMPLETED and job.kind == "image"
    assert job.meta["original_bytes"] == job.size_bytes and job.compressed_bytes == job.meta["compressed_bytes"]
    assert job.meta["compression_ratio"] > 1
    with Image.open(io.BytesIO(app.compressed_image_bytes(job.id))) as image:
        assert image.format == "WEBP" and image.size == (1365, 2048)
    assert any("No text found" in n for n in job.notes)


def test_a_transient_chunk_error_is_retried(app: Paperline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = LocalExtractor.extract
    calls = {"n": 0}

    def flaky(self, work, page_done):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if work.index == 1 and calls["n"] <= 3:
            raise OSError("disk hiccup")
        return real(self, work, page_done)

    monkeypatch.setattr(LocalExtractor, "extract", flaky)
    job = app.submit(make_text_pdf(tmp_path / "p.pdf", 45))
    run_queued(app)
    assert app.get(job.id).status is JobStatus.COMPLETED
    chunk = app.chunks(job.id)[1]
    assert chunk.attempts == 2 and chunk.status is ChunkStatus.DONE
    assert any(e.kind == "chunk_retry" for e in app.events(job.id))


def test_a_chunk_that_keeps_failing_leaves_a_partial_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = Paperline(Settings(home=tmp_path / "home", chunk_retries=1, retry_backoff_s=0))
    real = LocalExtractor.extract

    def broken_middle(self, work, page_done):  # type: ignore[no-untyped-def]
        if work.index == 1:
            raise RuntimeError("page tree is corrupt")
        return real(self, work, page_done)

    monkeypatch.setattr(LocalExtractor, "extract", broken_middle)
    pdf = make_text_pdf(tmp_path / "p.pdf", 45)
    job = app.submit(pdf)
    run_queued(app)
    job = app.get(job.id)
    assert job.status is JobStatus.FAILED and job.chunks_failed == 1 and job.chunks_done == 2
    assert "1 of 3 chunks failed" in job.error and "page tree is corrupt" in job.error
    partial = json.loads(app.result(job.id, "json"))["pages"]
    assert [p["page"] for p in partial] == [*range(1, 21), *range(41, 46)]  # 20-page chunks; chunk 2 lost
    assert app.chunks(job.id)[1].attempts == 2


def test_queued_tasks_reads_what_a_real_queue_holds(app: Paperline) -> None:
    """The recovery sweep's view of the queue: waiting and scheduled chunk and document tasks, nothing else."""
    from pipeline.worker.tasks import queued_tasks

    tasks = app.tasks
    app.queue.enqueue(tasks.process_chunk.s("job-a", 0))
    app.queue.add_schedule(tasks.process_chunk.s("job-a", 1, delay=3600))  # a retry waiting out its backoff
    app.queue.enqueue(tasks.process_document.s("job-b"))
    app.queue.enqueue(tasks.merge_document.s("job-c"))
    assert queued_tasks(app.queue) == ({("job-a", 0), ("job-a", 1)}, {"job-b"}) == tasks.queued()
    app.queue.dequeue()  # a worker takes the first task off the queue
    assert queued_tasks(app.queue) == ({("job-a", 1)}, {"job-b"})


def test_a_chunk_whose_queue_message_was_lost_is_queued_again(app: Paperline, tmp_path: Path) -> None:
    """A worker killed between taking a chunk's task off the queue and claiming the chunk leaves the chunk queued
    with no message to run it; the recovery sweep finds it (reading the real queue) once the job has gone quiet."""
    import time

    tasks = app.tasks
    sweeper = Sweeper(app.settings, app.store, tasks)
    job = app.submit(make_text_pdf(tmp_path / "a.pdf", 45))
    app.queue.dequeue().execute()  # process_document, run here
    assert tasks.queued()[0] == {(job.id, 0), (job.id, 1), (job.id, 2)}
    app.queue.dequeue()  # a worker takes chunk 1's task... and is killed before claiming it
    assert sweeper.sweep() == 0, "the job is not quiet yet"
    assert sweeper.sweep(now=time.time() + 60) == 1
    assert tasks.queued()[0] == {(job.id, 0), (job.id, 1), (job.id, 2)}
    assert sweeper.sweep(now=time.time() + 60) == 0, "work with a message in the queue is left alone"


def test_a_chunk_over_its_time_limit_is_stopped_retried_then_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = Paperline(Settings(home=tmp_path / "home", chunk_retries=1, retry_backoff_s=0, chunk_time_limit_s=0.2))
    real = LocalExtractor.extract

    def slow_middle(self, work, page_done):  # type: ignore[no-untyped-def]
        if work.index == 1:
            for _ in range(work.last_page - work.first_page + 1):
                time.sleep(0.05)
                page_done(1)
        return real(self, work, page_done)

    monkeypatch.setattr(LocalExtractor, "extract", slow_middle)
    job = app.submit(make_text_pdf(tmp_path / "p.pdf", 45))
    run_queued(app)
    job = app.get(job.id)
    slow = app.chunks(job.id)[1]
    assert job.status is JobStatus.FAILED and job.chunks_done == 2
    assert slow.status is ChunkStatus.FAILED and slow.attempts == 2
    assert slow.error == "Chunk 2 ran over its 0.2 s time limit"
    assert slow.pages_done < slow.pages, "the chunk was stopped before its last page"
    assert [e.kind for e in app.events(job.id) if e.chunk_index == 1].count("chunk_retry") == 1


def test_stall_reason_names_a_chunk_over_its_time_limit(app: Paperline, tmp_path: Path) -> None:
    from pipeline.insight.stall import stall_reason

    job = app.submit(make_text_pdf(tmp_path / "p.pdf", 45))
    app.store.start(job.id)
    app.store.plan_chunks(job.id, [ChunkSpan(0, 1, 45, 1, 45)])
    app.store.claim_chunk(job.id, 0, "w")
    job, chunks = app.get(job.id), app.chunks(job.id)
    started = chunks[0].started_at
    assert started
    kwargs = dict(workers_alive=1, stall_after_s=30, chunk_time_limit_s=60)
    assert stall_reason(job, chunks, now=started + 10, **kwargs) == ""  # type: ignore[arg-type]
    reason = stall_reason(job, chunks, now=started + 70, **kwargs)  # type: ignore[arg-type]
    assert reason.startswith("Stalled: chunk 1 has run 70 s, over its 60 s time limit")


def test_the_sweep_takes_back_a_chunk_hung_inside_one_page(tmp_path: Path) -> None:
    """A page that never returns never reaches the chunk's own time check; the sweep fences it out instead."""
    from pipeline.jobs.steps import Processor

    settings = Settings(home=tmp_path / "home", chunk_time_limit_s=0.2, stale_after_s=0.3, chunk_retries=0)
    app = Paperline(settings)
    tasks = RecordingTasks()
    processor, sweeper = Processor(settings, app.store, tasks), Sweeper(settings, app.store, tasks)
    job = app.submit(make_text_pdf(tmp_path / "p.pdf", 10))
    app.queue.dequeue()
    processor.prepare(job.id)
    app.store.claim_chunk(job.id, 0, "hung-worker")
    assert sweeper.sweep() == 0, "within its limit plus grace"
    time.sleep(0.6)
    app.store.update_chunk_progress(job.id, 0, 1)  # it still sends heartbeats: not a dead worker
    assert sweeper.sweep() == 1
    chunk = app.chunks(job.id)[0]
    assert chunk.status is ChunkStatus.FAILED and chunk.error == "Chunk 1 ran over its 0.2 s time limit (stuck)"
    assert tasks.merges == [job.id], "the job goes on to merge and fail with the reason"


def test_a_merge_lost_with_its_worker_is_run_again(app: Paperline, tmp_path: Path) -> None:
    """The last chunk enqueued the merge and the worker that took it died: the job sits in merging until the
    sweep sees it has gone quiet, merges it again, and the result is the whole document."""
    import time

    from pipeline.jobs.steps import Processor

    tasks = RecordingTasks()
    processor, sweeper = Processor(app.settings, app.store, tasks), Sweeper(app.settings, app.store, tasks)
    job = app.submit(make_text_pdf(tmp_path / "a.pdf", 45))
    app.queue.dequeue()
    processor.prepare(job.id)
    for chunk in app.chunks(job.id):
        processor.run_chunk(job.id, chunk.index)
    assert tasks.merges == [job.id] and app.get(job.id).stage is Stage.MERGING
    tasks.merges.clear()  # ...and that merge task was lost with its worker
    assert sweeper.sweep() == 0, "a merge under way is left alone while the job is not quiet"
    assert sweeper.sweep(now=time.time() + 60) == 1 and tasks.merges == [job.id]
    processor.merge(job.id)
    job = app.get(job.id)
    assert job.status is JobStatus.COMPLETED and app.result(job.id, "text") == known_text(45)


def merging_job(app: Paperline, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A 10-page job whose one chunk is done, in merging, with its processor, sweeper and recorded tasks."""
    from pipeline.jobs.steps import Processor

    tasks = RecordingTasks()
    processor, sweeper = Processor(app.settings, app.store, tasks), Sweeper(app.settings, app.store, tasks)
    job = app.submit(make_text_pdf(tmp_path / "a.pdf", 10))
    app.queue.dequeue()
    processor.prepare(job.id)
    processor.run_chunk(job.id, 0)
    return job, processor, sweeper, tasks


def test_a_merge_waiting_in_a_long_queue_is_never_counted_as_lost(app: Paperline, tmp_path: Path) -> None:
    """A merge task that waits behind other documents' chunks longer than the stale timeout, many times over, was
    begun by no worker: the sweep queues it again at no cost (it was failing whole batches as "lost 3 times")."""
    import time

    job, processor, sweeper, _tasks = merging_job(app, tmp_path)
    later = time.time()
    for waited in range(1, 3 * app.settings.chunk_attempts):
        later += 60
        assert sweeper.sweep(now=later) == 1, f"sweep {waited}: queued again"
        quiet = app.get(job.id)
        assert quiet.status is JobStatus.RUNNING and quiet.step_recoveries == 0, "no attempt spent"
    processor.merge(job.id)
    done = app.get(job.id)
    assert done.status is JobStatus.COMPLETED and app.result(job.id, "text") == known_text(10)


def test_a_merge_that_kills_its_worker_every_time_fails_after_its_attempts_and_can_be_retried(
    app: Paperline, tmp_path: Path
) -> None:
    """Each merge task taken is lost with its worker (never run here): after PAPERLINE_CHUNK_ATTEMPTS losses the job
    fails saying so instead of being merged again forever; Retry runs the merge again and the job completes."""
    import time

    job, processor, sweeper, tasks = merging_job(app, tmp_path)
    later = time.time() + 60
    for lost in range(1, app.settings.chunk_attempts):
        assert app.store.begin_step(job.id, Stage.MERGING), "a worker takes the merge task, and dies"
        later += 60
        assert sweeper.sweep(now=later) == 1 and len(tasks.merges) == 1 + lost, f"merge lost {lost} time(s)"
    assert app.store.begin_step(job.id, Stage.MERGING)
    later += 60
    assert sweeper.sweep(now=later) == 0, "out of attempts: not queued again"
    failed = app.get(job.id)
    assert failed.status is JobStatus.FAILED and failed.stage is Stage.MERGING and failed.can_retry
    assert failed.error.startswith(
        "The worker stopped while merging the chunk results (crash or out of memory), 3 times"
    )
    assert app.queue.pending_count() == 0
    assert app.retry(job.id).status is JobStatus.RUNNING
    assert app.queue.pending_count() == 1, "the merge task, queued again"
    processor.merge(job.id)
    done = app.get(job.id)
    assert done.status is JobStatus.COMPLETED and app.result(job.id, "text") == known_text(10)


def test_a_preparation_recovery_gave_to_another_worker_does_not_fail_the_job(app: Paperline, tmp_path: Path) -> None:
    """A preparation that waited out a fault so long that recovery requeued its job, and another worker prepared
    it meanwhile, finds the chunks planned when it resumes: it stops quietly instead of failing a healthy job."""
    from pipeline.jobs.steps import Processor

    job = app.submit(make_text_pdf(tmp_path / "a.pdf", 3))
    other_tasks, late_tasks = RecordingTasks(), RecordingTasks()
    other = Processor(app.settings, app.store, other_tasks, storage=app.storage)

    class Late(Processor):
        def _prepare(self, job):  # type: ignore[no-untyped-def]
            # ...while this one waits: recovery takes the job back and the other worker prepares it
            assert Sweeper(self.settings, self.store, RecordingTasks()).stale(time.time() + 60) == 1
            other.prepare(job.id)
            return super()._prepare(job)

    Late(app.settings, app.store, late_tasks, storage=app.storage).prepare(job.id)
    after = app.get(job.id)
    assert after.status is JobStatus.RUNNING and after.stage is Stage.EXTRACTING and not after.error
    assert other_tasks.chunks == [(job.id, 0)] and late_tasks.chunks == [], "its chunks are queued once"


def test_after_the_store_was_unreachable_running_work_gets_time_to_beat_again(app: Paperline, tmp_path: Path) -> None:
    """A sweep that waited out a locked database (as a worker's sweep waits out PostgreSQL restarting) does not
    take chunks from live workers whose heartbeats could not land meanwhile: it gives them one stale timeout."""
    import sqlite3
    import threading
    from dataclasses import replace

    from pipeline.jobs.steps import Processor
    from pipeline.store.sqlite import SqliteJobStore

    settings = replace(app.settings, stale_after_s=0.5)
    store = SqliteJobStore(settings.store_path, timeout_s=0.05)
    store.retry_s = 30  # a worker's store (pipeline.worker.tasks)
    tasks = RecordingTasks()
    job = app.submit(make_text_pdf(tmp_path / "a.pdf", 3))
    Processor(settings, app.store, tasks).prepare(job.id)
    assert app.store.claim_chunk(job.id, 0, "w1") is not None
    sweeper = Sweeper(settings, store, tasks)  # type: ignore[arg-type]
    holder = sqlite3.connect(settings.store_path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")  # the store is unreachable for a second: nobody can beat
    release = threading.Timer(1.0, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        assert sweeper.sweep() == 0
    finally:
        release.join()
        holder.close()
    assert sweeper.sweep() == 0, "the chunk's heartbeat is old, but it had no chance to beat"
    time.sleep(0.6)
    assert sweeper.sweep() == 1 and tasks.chunks[-1] == (job.id, 0), "still silent a stale timeout later: lost"
    store.close()
