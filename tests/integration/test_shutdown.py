"""Stopping a busy worker or server: SIGINT (Ctrl-C) or SIGTERM ends it within its shutdown grace plus the page it
is on, and the running chunk goes back to the queue without costing an attempt, for the next worker to finish.

The waits below are bounds generous for a loaded machine, not performance figures: a stop measured by hand takes
about 1 s (worker) to 3 s (server with a 3 s page); before, a stop waited for the whole running chunk."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from pipeline import ChunkStatus, JobStatus, Paperline
from tests.docgen import SLOW_JOB_SETTINGS, known_text, make_slow_pdf, slow_blank_pages
from tests.helpers import _group_alive, free_port, slow_tesseract, wait_until

pytestmark = pytest.mark.integration

#: generous for a noisy 2-core machine: 2 s of grace, one 1 s page, the interpreter's exit
GONE_WITHIN_S = 15


def running_chunk(app: Paperline, job_id: str) -> bool:
    return any(c.status is ChunkStatus.RUNNING and c.pages_done for c in app.chunks(job_id))


def assert_handed_back(app: Paperline, job_id: str) -> None:
    [chunk] = app.chunks(job_id)
    assert chunk.status is ChunkStatus.QUEUED, chunk
    assert chunk.attempts_used == 0, "a stop is not a failed attempt"
    assert any("its worker is stopping" in e.message for e in app.events(job_id))


@pytest.mark.parametrize(
    "how, whom",
    [(signal.SIGINT, "group"), (signal.SIGINT, "consumer"), (signal.SIGTERM, "consumer")],
    ids=["ctrl-c", "sigint-to-consumer", "sigterm-to-consumer"],
)
def test_a_busy_worker_stops_at_its_next_page_and_hands_its_chunk_back(
    app: Paperline, start_worker, tmp_path: Path, how: signal.Signals, whom: str
) -> None:
    slow = str(slow_tesseract(tmp_path, 1.0))
    settings = {**SLOW_JOB_SETTINGS, "PAPERLINE_SINGLE_CHUNK_MAX_PAGES": "30"}  # one chunk of 20 pages
    consumer = start_worker(workers=2, **settings, PAPERLINE_TESSERACT=slow)
    job = app.submit(make_slow_pdf(tmp_path / "slow.pdf", 20))
    wait_until(lambda: running_chunk(app, job.id), timeout=60, what="the chunk under way")
    if whom == "group":  # Ctrl-C in a terminal signals the whole foreground group
        os.killpg(consumer.pid, how)
    else:  # a service manager or `kill` signals the consumer alone
        consumer.send_signal(how)
    wait_until(lambda: not _group_alive(consumer.pid), timeout=GONE_WITHIN_S, what="the worker to stop")
    assert consumer.wait(timeout=10) == 0
    assert_handed_back(app, job.id)

    start_worker(workers=1, **settings, PAPERLINE_TESSERACT=slow)
    [done] = app.wait([job.id], timeout_s=120)
    assert done.status is JobStatus.COMPLETED, done.error
    assert app.result(job.id, "text") == known_text(20, blank_pages=slow_blank_pages(20))


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_paperline_serve_stops_its_dashboard_and_busy_worker(
    app: Paperline, start_worker, tmp_path: Path, how: signal.Signals
) -> None:
    slow = str(slow_tesseract(tmp_path, 1.0))
    settings = {**SLOW_JOB_SETTINGS, "PAPERLINE_SINGLE_CHUNK_MAX_PAGES": "30"}
    command = [sys.executable, "-m", "pipeline", "serve", "--port", str(free_port()), "--address", "127.0.0.1"]
    server = start_worker(command=[*command, "--workers", "1"], **settings, PAPERLINE_TESSERACT=slow)
    log = tmp_path / "worker-0.log"
    wait_until(lambda: "running at" in log.read_text(), timeout=60, what="the dashboard to listen")
    job = app.submit(make_slow_pdf(tmp_path / "slow.pdf", 20))
    wait_until(lambda: running_chunk(app, job.id), timeout=60, what="the chunk under way")
    server.send_signal(how)  # the `paperline serve` process alone: it stops its children itself
    wait_until(lambda: not _group_alive(server.pid), timeout=GONE_WITHIN_S, what="the server and its worker to stop")
    assert server.wait(timeout=10) == 0
    assert_handed_back(app, job.id)
    said = log.read_text()
    assert "Stopping Paperline: waiting for the worker (1 process; a running chunk is handed back" in said, said[-2000:]
    assert "and the dashboard on port" in said
    # The worker stops by itself (its chunk handed back, above); a dashboard still starting up when the signal came
    # may not answer it in time, and is ended then ("Ended the dashboard ..."): it holds nothing to lose.
    assert "Ended the worker" not in said
