"""A brand-new PAPERLINE_HOME opened by several processes at the same moment (a worker, the dashboard and a
``paperline submit`` started together): each opens the job store and the queue, switches them to WAL and submits,
and none fails with "database is locked" (SQLite does not wait for the lock that switch takes)."""

from __future__ import annotations

import multiprocessing
import traceback
from pathlib import Path

import pytest

from pipeline.core.settings import Settings
from pipeline.service.paperline import Paperline
from tests.docgen import make_text_pdf

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PROCESSES = 10
HOMES = 60  # the race is narrow: many new homes, each opened by every process at the same moment


def open_and_submit(homes: list[str], pdf: str, barrier, results) -> None:  # type: ignore[no-untyped-def]
    """In its own process, for each new home: wait for the others, then open the home and submit one document."""
    for home in homes:
        try:
            barrier.wait(timeout=60)
            app = Paperline(Settings(home=Path(home)))
            job = app.submit(Path(pdf))
            app.close()
            results.put((home, "ok", job.id))
        except BaseException:  # the failure itself is what the test reports
            results.put((home, "error", traceback.format_exc()))


def test_several_processes_opening_a_new_home_at_once_all_submit(tmp_path: Path) -> None:
    pdf = make_text_pdf(tmp_path / "doc.pdf", 1)
    homes = [str(tmp_path / f"new-home-{n}") for n in range(HOMES)]
    # Forked after the imports, so the processes reach each open together (a spawned one spends seconds importing).
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(PROCESSES), context.Queue()
    processes = [
        context.Process(target=open_and_submit, args=(homes, str(pdf), barrier, results)) for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    try:
        outcomes = [results.get(timeout=120) for _ in range(PROCESSES * HOMES)]
    finally:
        barrier.abort()  # a process that failed early leaves the others waiting: let them go
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join(timeout=10)
    errors = [detail for _, status, detail in outcomes if status == "error"]
    assert errors == [], f"{len(errors)} of {len(outcomes)} opens failed, the first:\n{errors[0]}"
    for home in homes:
        app = Paperline(Settings(home=Path(home)))
        try:
            assert {job.id for job in app.jobs()} == {job for h, _, job in outcomes if h == home}
            assert app.queue.pending_count() == PROCESSES
        finally:
            app.close()
