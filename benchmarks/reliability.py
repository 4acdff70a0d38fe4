"""Benchmark Paperline's reliability: what a kill -9 of the consumer costs, and how fast a cancel stops work.

Paperline promises that per-chunk state is the unit of truth: a consumer killed mid-job loses only the chunks it
was running (requeued once their heartbeat goes stale), never redoes or duplicates a chunk already done, and the
merged text is still exactly a single pass; and that a cancel stops a running chunk at its next page while no
new chunk starts. This measures both with real ``paperline worker -w 2`` processes in a throwaway PAPERLINE_HOME,
on generated PDFs whose every second page has no text layer, so it goes through OCR (slow enough to interrupt):

* crash: 6 distinct 20-page documents at once; SIGKILL to the consumer's process group once 3 chunks are done;
  a fresh consumer; then jobs lost, chunks done twice or redone, chunks recovered, times from the kill (to work
  resuming, to the lost chunks running again, to the last job finished), and text identical to a single pass;
* cancel: a 40-page document canceled mid-chunk; time until the job reads canceled, until no chunk runs and
  pages_done holds still, until the worker's log says the chunk stopped; and any chunk started after the cancel.

Run: .venv/bin/python benchmarks/reliability.py  (prints one JSON object to stdout, logs to stderr)
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # so that tests.* imports

DOCS = 6
PAGES = 20
CANCEL_PAGES = 40
WORKERS = 2
DONE_BEFORE_KILL = 3
WORKER_START_TIMEOUT_S = 30.0
RECOVERY_TIMEOUT_S = 180.0
CANCEL_STOP_TIMEOUT_S = 10.0
STOPPED = "stopped: canceled or reassigned"
STEADY_S = 0.5  # pages_done must hold this long to count as stopped


# tests/integration/test_reliability.py's, plus its fixture's intervals (live chunks beat well within 2 s).
def slow_settings() -> dict[str, str]:
    from tests.docgen import SLOW_JOB_SETTINGS

    # The test fixture's intervals too: live chunks must beat well within the 2 s staleness window.
    return {**SLOW_JOB_SETTINGS, "PAPERLINE_PROGRESS_INTERVAL_S": "0.05", "PAPERLINE_HEARTBEAT_INTERVAL_S": "0.5"}


def stamp(line: str) -> float:
    """Epoch seconds of a worker log line (``%(asctime)s`` is local time with milliseconds)."""
    return datetime.strptime(" ".join(line.split()[:2]), "%Y-%m-%d %H:%M:%S,%f").timestamp()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def slow_pdf(path: Path, pages: int, lines: int) -> Path:
    from tests.docgen import make_slow_pdf

    return make_slow_pdf(path, pages, lines=lines)


def single_pass(path: Path, pages: int) -> str:
    from pipeline.core.models import PageText
    from pipeline.documents.pdf import page_texts
    from pipeline.profiles.text import render_text

    return render_text([PageText(n, t) for n, t in page_texts(path, 1, pages)])


def since(start: float, times: list[float], *, last: bool = False) -> float | None:
    return round((max(times) if last else min(times)) - start, 3) if times else None


@contextmanager
def session(home: str) -> Iterator[tuple[Any, Callable[[Path], Any]]]:
    """A ``Paperline`` on ``home`` (SLOW settings, inherited by workers through os.environ) and a function that
    starts a ``paperline worker -w WORKERS`` logging to a path; every worker is stopped by pid on the way out."""
    from tests.helpers import start_worker_process, stop_process, wait_for_worker

    os.environ.update(PAPERLINE_HOME=home, PYTHONUNBUFFERED="1", **slow_settings())
    from pipeline.core.settings import Settings
    from pipeline.service.paperline import Paperline

    app = Paperline(Settings.from_env())
    started: list[tuple[Any, Any]] = []

    def start(log_path: Path) -> Any:
        process, log_file = start_worker_process(dict(os.environ), log_path, workers=WORKERS)
        started.append((process, log_file))
        wait_for_worker(app, process, log_path, timeout=WORKER_START_TIMEOUT_S)
        return process

    try:
        yield app, start
    finally:
        for process, log_file in started:
            stop_process(process)
            log_file.close()
        app.close()


def crash_run(home: str, work: Path) -> dict[str, Any]:
    from tests.helpers import wait_until

    paths = [slow_pdf(work / f"crash-{i}.pdf", PAGES, lines=6 + i) for i in range(DOCS)]  # distinct sha256
    with session(home) as (app, start):
        first = start(work / "crash-0.log")
        ids = [app.submit(path).id for path in paths]
        wait_until(lambda: sum(app.get(i).chunks_done for i in ids) >= DONE_BEFORE_KILL, timeout=120, interval=0.02)
        os.killpg(first.pid, signal.SIGKILL)
        killed_at = time.time()
        first.wait(timeout=10)
        at_kill = {(c.job_id, c.index): c for i in ids for c in app.chunks(i)}
        before = {key: c for key, c in at_kill.items() if c.status.value == "done"}
        running = sum(c.status.value == "running" for c in at_kill.values())
        log(f"killed with {len(before)} chunks done, {running} running")
        start(work / "crash-1.log")
        wait_until(lambda: any(w.started_at > killed_at for w in app.workers()), timeout=WORKER_START_TIMEOUT_S)
        restart_s = time.time() - killed_at  # (the dead consumer's last beat still counts as alive for a while)
        log(f"new worker beating {restart_s:.2f} s after the kill")
        jobs = app.wait(ids, timeout_s=RECOVERY_TIMEOUT_S, poll_s=0.1)
        events = [e for i in ids for e in app.events(i)]
        after = {(c.job_id, c.index): c for i in ids for c in app.chunks(i)}
        results = {j.id: app.result(j.id, "text") if j.status.value == "completed" else None for j in jobs}
    done_counts = Counter((e.job_id, e.chunk_index) for e in events if e.kind == "chunk_done")
    redone = [k for k, c in before.items() if (after[k].attempts, after[k].finished_at) != (c.attempts, c.finished_at)]
    lost = {k for k, c in at_kill.items() if c.status.value == "running"}
    restarted = [
        (e.at, (e.job_id, e.chunk_index) in lost) for e in events if e.kind == "chunk_started" and e.at > killed_at
    ]
    recovered = [e.at for e in events if e.kind == "chunk_recovered"]
    finished = [j.finished_at for j in jobs if j.finished_at]
    completed = [j for j in jobs if j.status.value == "completed"]
    identical = [results[i] == single_pass(p, PAGES) for i, p in zip(ids, paths, strict=True)]
    return {
        "jobs_submitted": len(ids),
        "jobs_completed": len(completed),
        "jobs_lost": len(ids) - len(completed),
        "lost_jobs": [
            {
                "status": j.status.value,
                "stage": j.stage.value,
                "message": j.message,
                "open_chunks": [  # what the kill left each unfinished chunk as, and what it is now
                    f"chunk {k[1] + 1}: {at_kill[k].status.value} at kill, now {c.status.value}, attempts {c.attempts}"
                    for k, c in after.items()
                    if k[0] == j.id and c.status.value != "done"
                ],
            }
            for j in jobs
            if j not in completed
        ],
        "chunks_total": len(after),
        "chunks_done_at_kill": len(before),
        "chunks_running_at_kill": running,
        "duplicated_chunks": sum(n > 1 for n in done_counts.values()),
        "chunks_redone_after_done": len(redone),
        "chunks_recovered": len(recovered),
        "recovery_s": {
            "kill_to_new_worker_beat": round(restart_s, 3),
            "kill_to_first_chunk_started": since(killed_at, [at for at, _ in restarted]),  # work resumes
            "kill_to_first_chunk_recovered": since(killed_at, recovered),  # stale heartbeat noticed, requeued
            "kill_to_lost_chunks_restarted": since(killed_at, [at for at, was in restarted if was], last=True),
            "kill_to_last_job_finished": since(killed_at, finished, last=True),
        },
        "identical_to_single_pass": all(identical),
        "identical_jobs": sum(identical),
    }


def cancel_run(home: str, work: Path) -> dict[str, Any]:
    from tests.helpers import wait_until

    path = slow_pdf(work / "cancel.pdf", CANCEL_PAGES, lines=5)
    with session(home) as (app, start_worker):
        start_worker(work / "cancel.log")
        job = app.submit(path)
        wait_until(lambda: any(c.pages_done for c in app.chunks(job.id)), timeout=60, interval=0.02)
        asked, start = time.time(), time.perf_counter()
        app.cancel(job.id)
        call_s = time.perf_counter() - start
        wait_until(lambda: app.get(job.id).status.value == "canceled", timeout=CANCEL_STOP_TIMEOUT_S, interval=0.005)
        status_s = time.perf_counter() - start
        stopped_s: float | None = None
        last: list[tuple[bool, int]] = []
        steady_since = start  # when the chunks' state (running?, pages_done) last changed
        while stopped_s is None and time.perf_counter() - start < CANCEL_STOP_TIMEOUT_S:
            chunks, now = app.chunks(job.id), time.perf_counter()
            state = [(c.status.value == "running", c.pages_done) for c in chunks]
            if any(running for running, _ in state) or state != last:
                last, steady_since = state, now
            elif now - steady_since >= STEADY_S:
                stopped_s = steady_since - start
            time.sleep(0.02)
        time.sleep(1.0)  # room for a queued chunk task to (wrongly) start
        late = [e for e in app.events(job.id) if e.kind == "chunk_started" and e.at > asked]
        statuses = Counter(c.status.value for c in app.chunks(job.id))
        stops = [stamp(line) for line in (work / "cancel.log").read_text().splitlines() if STOPPED in line]
    return {
        "pages": CANCEL_PAGES,
        "cancel_call_s": round(call_s, 4),
        "cancel_to_status_canceled_s": round(status_s, 4),
        "cancel_to_chunk_stopped_s": round(stopped_s, 4) if stopped_s is not None else None,
        "cancel_to_worker_stopped_s": since(asked, stops, last=True),  # worker log: the chunk's extraction ended
        "chunks_stopped_in_worker": len(stops),
        "chunks_started_after_cancel": len(late),
        "chunk_statuses": dict(statuses),
    }


def main() -> None:
    with (
        tempfile.TemporaryDirectory(prefix="paperline-bench-") as work,
        tempfile.TemporaryDirectory(prefix="paperline-crash-") as crash_home,
        tempfile.TemporaryDirectory(prefix="paperline-cancel-") as cancel_home,
    ):
        log(f"crash run: {DOCS} x {PAGES} pages, kill -9 after {DONE_BEFORE_KILL} chunks done")
        crash = crash_run(crash_home, Path(work))
        log(f"cancel run: {CANCEL_PAGES} pages")
        cancel = cancel_run(cancel_home, Path(work))
    report = {
        "crash": crash,
        "cancel": cancel,
        "workers": WORKERS,
        "settings": slow_settings(),
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
