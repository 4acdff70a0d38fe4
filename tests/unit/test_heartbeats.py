"""A heartbeat is never starved by slow I/O: while a chunk downloads its source from a slow bucket, or a merge
writes its results to one, the beats keep landing in the store, so the recovery sweep leaves live work alone."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

from pipeline.core.models import ChunkStatus, JobStatus, Stage
from pipeline.core.settings import Settings
from pipeline.files.storage import LocalStorage
from pipeline.jobs.steps import Processor
from pipeline.service.paperline import Paperline
from pipeline.worker.recovery import Sweeper
from tests.docgen import known_text, make_text_pdf
from tests.helpers import wait_until
from tests.unit.test_processing import RecordingTasks

STALE_AFTER_S = 0.5


class SlowBucket(LocalStorage):
    """Files under a directory, reached as a far bucket is: no local path, and, once armed, every download or
    write waits until the test lets it go (a real delay, however long the test needs)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.armed, self.waiting, self.release = False, threading.Event(), threading.Event()

    def _slow(self) -> None:
        if self.armed:
            self.waiting.set()
            assert self.release.wait(timeout=30)

    def local_path(self, key: str) -> Path | None:
        return None

    def download(self, key: str, dest: Path) -> bool:
        self._slow()
        return super().download(key, dest)

    def put_bytes(self, key: str, data: bytes) -> None:
        self._slow()
        super().put_bytes(key, data)


def quiet_for_longer_than_stale(since: float) -> bool:
    return time.time() - since > 2 * STALE_AFTER_S


def test_a_chunk_beats_while_its_source_downloads_slowly(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", progress_interval_s=0.05, stale_after_s=STALE_AFTER_S)
    app = Paperline(settings)
    tasks, bucket = RecordingTasks(), SlowBucket(settings.jobs_dir)
    processor, sweeper = Processor(settings, app.store, tasks, bucket), Sweeper(settings, app.store, tasks)
    job = app.submit(make_text_pdf(tmp_path / "doc.pdf", 3))
    app.queue.dequeue()
    processor.prepare(job.id)
    bucket.armed = True
    shutil.rmtree(settings.cache_dir / job.id, ignore_errors=True)  # preparing cached the source: fetch it again
    runner = threading.Thread(target=processor.run_chunk, args=(job.id, 0))
    runner.start()
    try:
        assert bucket.waiting.wait(timeout=30), "the chunk never asked for its source"
        claimed = app.chunks(job.id)[0].started_at or 0.0
        wait_until(lambda: quiet_for_longer_than_stale(claimed), timeout=10)
        chunk = app.chunks(job.id)[0]
        assert chunk.status is ChunkStatus.RUNNING and (chunk.heartbeat_at or 0) > claimed + STALE_AFTER_S
        assert sweeper.stale(time.time()) == 0, "a chunk waiting on its bucket is alive, not lost"
    finally:
        bucket.release.set()
        runner.join(timeout=30)
    chunk = app.chunks(job.id)[0]
    assert chunk.status is ChunkStatus.DONE and chunk.attempts == 1
    assert tasks.merges == [job.id]
    app.close()


def test_a_merge_beats_while_its_results_are_written_slowly(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path / "home", progress_interval_s=0.05, heartbeat_interval_s=0.05, stale_after_s=STALE_AFTER_S
    )
    app = Paperline(settings)
    tasks, bucket = RecordingTasks(), SlowBucket(settings.jobs_dir)
    processor, sweeper = Processor(settings, app.store, tasks, bucket), Sweeper(settings, app.store, tasks)
    job = app.submit(make_text_pdf(tmp_path / "doc.pdf", 3))
    app.queue.dequeue()
    processor.prepare(job.id)
    processor.run_chunk(job.id, 0)
    assert app.get(job.id).stage is Stage.MERGING
    bucket.armed = True
    merging_since = time.time()
    runner = threading.Thread(target=processor.merge, args=(job.id,))
    runner.start()
    try:
        assert bucket.waiting.wait(timeout=30), "the merge never wrote its results"
        wait_until(lambda: quiet_for_longer_than_stale(merging_since), timeout=10)
        assert app.get(job.id).updated_at > merging_since + STALE_AFTER_S, "the merge's beats landed"
        assert sweeper.stale(time.time()) == 0, "a merge waiting on its bucket is alive, not lost"
    finally:
        bucket.release.set()
        runner.join(timeout=30)
    done = app.get(job.id)
    assert done.status is JobStatus.COMPLETED and done.step_recoveries == 0
    assert app.result(job.id, "text") == known_text(3)
    app.close()
