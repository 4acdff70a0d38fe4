"""A 331-byte PDF with one 8880 x 8880 pt page and no text took 14 GB to OCR at 300 dpi (issue 22). Rendered
within the pixel budget it costs a worker a few hundred MB and says so; over the worker's memory ceiling, the chunk
fails alone with a plain message and its process takes the next job."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pipeline import JobStatus, Paperline
from tests.helpers import wait_until
from tests.hostile.bystanders import assert_bystander_unaffected, assert_pool_alive, submit_bystander
from tests.hostile.files import huge_page_pdf, peak_memory_mb, worker_processes

pytestmark = pytest.mark.integration

#: what a worker process may reach at its peak while it OCRs the huge page (the render alone is ~350 MB)
PEAK_CEILING_MB = 1536


def address_limits(consumer: subprocess.Popen) -> dict[int, int]:
    """The address-space limit (bytes) of each of the consumer's processes that has one (the workers)."""
    limits = {}
    for pid in worker_processes(consumer):
        for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
            if line.startswith("Max address space") and line.split()[3] != "unlimited":
                limits[pid] = int(line.split()[3])
    return limits


def test_a_huge_page_is_rendered_within_the_pixel_budget_and_the_worker_stays_small(
    app: Paperline, start_worker, tmp_path: Path
) -> None:
    worker = start_worker(workers=2)
    poster = huge_page_pdf()
    assert len(poster) == 331, "the very file of issue 22"
    bob = submit_bystander(app, tmp_path)
    job = app.submit(poster, "poster.pdf", user="mallory")

    [job] = app.wait([job.id], timeout_s=180)
    assert job.status is JobStatus.COMPLETED, job.error
    assert job.notes == (
        "Page 1 was rendered for OCR at a lower resolution (57 dpi instead of 300 dpi) to stay within the 50-megapixel "
        "image budget (PAPERLINE_MAX_IMAGE_PIXELS): the page is very large, and small text may be missed.",
        "No text found: the document has no text layer and OCR read no text in it.",
    )
    peaks = {pid: peak_memory_mb(pid) for pid in worker_processes(worker)}
    assert len(peaks) >= 2, peaks  # the workers, and the scheduler process
    assert max(peaks.values()) < PEAK_CEILING_MB, f"worker peaks (MB): {peaks}"

    assert_bystander_unaffected(app, bob)
    assert_pool_alive(app, worker, tmp_path)


def test_a_render_over_the_worker_memory_ceiling_fails_its_chunk_alone(
    app: Paperline, start_worker, tmp_path: Path
) -> None:
    # A pixel budget of 2 gigapixels lets the 300 dpi render ask for 4 GB, over a 1 GB ceiling per process.
    worker = start_worker(workers=2, PAPERLINE_WORKER_MEMORY_MB="1024", PAPERLINE_MAX_IMAGE_PIXELS="2000000000")
    wait_until(lambda: len(address_limits(worker)) >= 2, timeout=30, what="both workers' start hooks")
    assert set(address_limits(worker).values()) == {2**30}, "each worker process took the ceiling"
    before = set(worker_processes(worker))
    bob = submit_bystander(app, tmp_path)
    job = app.submit(huge_page_pdf(), "poster.pdf", user="mallory")

    [job] = app.wait([job.id], timeout_s=120)
    assert job.status is JobStatus.FAILED
    [chunk] = app.chunks(job.id)
    assert chunk.error == (
        "ran out of memory while reading page 1 (each worker process may use 1024 MB: PAPERLINE_WORKER_MEMORY_MB)"
    )
    assert chunk.attempts == 1, "a chunk that ran out of memory is not retried: it would again"
    assert "ran out of memory while reading page 1" in job.error
    assert set(worker_processes(worker)) == before, "no worker process died: the MemoryError was caught"

    assert_bystander_unaffected(app, bob)
    assert_pool_alive(app, worker, tmp_path)
