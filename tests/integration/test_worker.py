"""End to end through real consumer processes on a temporary PAPERLINE_HOME."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from pipeline.core.models import JobStatus
from pipeline.service.paperline import Paperline
from tests.conftest import ROOT, worker_env
from tests.docgen import known_text, make_text_pdf
from tests.helpers import stop_process, wait_for_worker, wait_until

pytestmark = pytest.mark.integration


def test_a_long_pdf_is_split_across_workers_and_merges_to_single_pass(app: Paperline, start_worker, tmp_path: Path):
    start_worker(workers=2, PAPERLINE_LARGE_CHUNK_PAGES="10")
    pdf = make_text_pdf(tmp_path / "long.pdf", 200)
    job = app.submit(pdf)
    [job] = app.wait([job.id], timeout_s=120)
    assert job.status is JobStatus.COMPLETED, job.error
    chunks = app.chunks(job.id)
    assert len(chunks) == 20 and job.chunks_done == 20
    assert len({c.worker for c in chunks}) >= 2, "every chunk ran on the same worker"
    assert app.result(job.id, "text") == known_text(200)


def test_the_sample_corpus_runs_through_the_worker(app: Paperline, start_worker, corpus: Path) -> None:
    start_worker(workers=2)
    jobs = {p.name: app.submit(p) for p in sorted(corpus.iterdir()) if p.suffix in (".pdf", ".png", ".jpg")}
    final = {j.filename: j for j in app.wait([j.id for j in jobs.values()], timeout_s=180)}
    assert final["libreoffice-writer-password.pdf"].status is JobStatus.FAILED
    assert "password-protected" in final["libreoffice-writer-password.pdf"].error
    others = {name: job for name, job in final.items() if name != "libreoffice-writer-password.pdf"}
    assert all(job.status is JobStatus.COMPLETED for job in others.values()), {n: j.error for n, j in others.items()}
    ocr_text = " ".join(app.result(final["page-0-QuickPDFImd32aa1ab.png"].id).split())
    assert "When you open a ticket, assign it to yourself, fix the issue and close it" in ocr_text
    photo = final["image.jpg"]
    assert photo.compressed_bytes and photo.meta["compression_ratio"] == pytest.approx(
        photo.size_bytes / photo.compressed_bytes, rel=0.01
    )
    assert any("No text found" in note for note in final["grayscale-image.pdf"].notes)
    arabic = app.result(final["habibi-rotated.pdf"].id)
    assert "habibi" in arabic and "حَبيبي" in arabic
    assert "Lorem ipsum" in app.result(final["multicolumn.pdf"].id)
    # Text-layer documents against an independent reader (poppler's pdftotext): the same words, whatever the order.
    for name in ("pdflatex-4-pages.pdf", "pdflatex-outline.pdf", "google-doc-document.pdf", "multicolumn.pdf"):
        reference = words(
            subprocess.run(
                ["pdftotext", "-enc", "UTF-8", str(corpus / name), "-"], capture_output=True, check=True
            ).stdout.decode()
        )
        got = words(app.result(final[name].id))
        common = sum((reference & got).values())
        assert common / sum(reference.values()) >= 0.98 and common / sum(got.values()) >= 0.98, name


def words(text: str) -> Counter[str]:
    return Counter(word.lower() for word in re.findall(r"\w+", text))


def test_huey_consumer_runs_paperline_tasks(app: Paperline, start_worker, tmp_path: Path) -> None:
    consumer = shutil.which("huey_consumer", path=str(Path(sys.executable).parent))
    assert consumer, "huey_consumer is installed with huey"
    start_worker(command=[consumer, "pipeline.worker.tasks.huey", "-w", "2", "-k", "process", "-m", "0.1"])
    job = app.submit(make_text_pdf(tmp_path / "a.pdf", 40), profile="markdown")
    [job] = app.wait([job.id], timeout_s=60)
    assert job.status is JobStatus.COMPLETED
    assert "<!-- page 40 -->" in app.result(job.id)


def test_the_same_job_runs_through_redis(tmp_path: Path) -> None:
    redis_server = shutil.which("redis-server")
    assert redis_server, "redis-server is missing: 'make test' installs it"
    from pipeline.core.settings import Settings

    # A unix socket in the test's own directory: no port to race another process for, nothing on the network.
    socket_path = tmp_path / "redis.sock"
    redis_log = tmp_path / "redis.log"
    with redis_log.open("wb") as redis_out:
        redis = subprocess.Popen(
            [redis_server, "--port", "0", "--unixsocket", str(socket_path), "--save", "", "--appendonly", "no"],
            stdout=redis_out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker = None
    log_path = tmp_path / "worker.log"
    log = log_path.open("wb")
    try:
        settings = Settings(home=tmp_path / "home", queue_url=f"unix://{socket_path}?db=0", progress_interval_s=0.05)
        app = Paperline(settings)
        wait_until(lambda: redis.poll() is not None or _redis_answers(app), timeout=20, what="redis-server")
        assert redis.poll() is None, redis_log.read_text()
        worker = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "worker", "-w", "2"],
            cwd=ROOT,
            env=worker_env(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_worker(app, worker, log_path, timeout=30)
        job = app.submit(make_text_pdf(tmp_path / "r.pdf", 60))
        [job] = app.wait([job.id], timeout_s=60)
        assert job.status is JobStatus.COMPLETED, log_path.read_text()
        assert job.chunks_total == 3 and app.result(job.id, "text") == known_text(60)
        assert not settings.queue_path.exists(), "the SQLite queue must not be used when a Redis URL is set"
    finally:
        if worker is not None:
            stop_process(worker)
        stop_process(redis)
        log.close()


def _redis_answers(app: Paperline) -> bool:
    try:
        app.queue.storage.conn.ping()
    except Exception:
        return False
    return True


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_stopped_worker_says_goodbye_at_once(app: Paperline, start_worker, how: signal.Signals) -> None:
    consumer = start_worker(workers=2)
    wait_until(lambda: len(app.workers()) == 2, timeout=30, what="both worker processes' heartbeats")
    os.kill(consumer.pid, how)
    consumer.wait(timeout=30)
    # The store itself knows (not just this host's process table): no worker is alive, whatever the last beat.
    assert app.store.list_workers(max_age_s=3600) == []
    assert app.workers() == []
