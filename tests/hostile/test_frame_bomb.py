"""TIFF frame bombs: thousands of frames are refused at intake by the page cap (counted from the frame directories,
never decoded); many large frames are decoded one at a time, so the worker holds one frame, not all of them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from pipeline import JobStatus, Paperline
from pipeline.core.models import DocumentKind
from pipeline.documents.intake import page_count
from tests.hostile.bystanders import assert_bystander_unaffected, assert_pool_alive, submit_bystander
from tests.hostile.files import frame_bomb_tiff, peak_memory_mb, tiff, worker_processes

pytestmark = pytest.mark.integration

PEAK_CEILING_MB = 1536
#: 36 frames of 3500 x 3500: 49 MB each once decoded for OCR, 1.76 GB if all were held at once
FRAMES, SIDE = 36, 3500


def test_thousands_of_frames_are_refused_at_intake(app: Paperline, start_worker, tmp_path: Path) -> None:
    worker = start_worker(workers=2)
    bob = submit_bystander(app, tmp_path)
    bomb = frame_bomb_tiff(6000)
    assert len(bomb) < 700_000

    job = app.submit(bomb, "frames.tiff", user="mallory")
    assert job.status is JobStatus.FAILED
    assert job.error == (
        "This document has more than 5,000 pages, over the limit of 5,000 pages per document (PAPERLINE_MAX_PAGES). "
        "Split it into smaller files and upload those."
    )
    assert app.chunks(job.id) == [] and not app.files(job.id).names()
    # 5,000 frames are within the cap: the frame bomb is a page count, like any other.
    within = tmp_path / "5000.tiff"
    within.write_bytes(frame_bomb_tiff(5000))
    assert page_count(DocumentKind.IMAGE, within, app.settings) == 5000

    assert_bystander_unaffected(app, bob)
    assert_pool_alive(app, worker, tmp_path)


@pytest.mark.slow
def test_many_large_frames_are_decoded_one_at_a_time(app: Paperline, start_worker, tmp_path: Path) -> None:
    worker = start_worker(workers=2)
    bob = submit_bystander(app, tmp_path)
    job = app.submit(tiff(FRAMES, (SIDE, SIDE)), "scans.tiff", user="mallory")
    assert job.pages == FRAMES

    [job] = app.wait([job.id], timeout_s=600)
    assert job.status is JobStatus.COMPLETED, job.error
    assert job.pages_done == FRAMES
    # The preview of all frames shares the pixel budget: 36 frames of at most 1178 px, not 36 of 2048 px.
    assert (
        "The compressed preview shows each of the 36 pages at most 1178 px across (instead of 2048 px) to stay within "
        "the 50-megapixel image budget (PAPERLINE_MAX_IMAGE_PIXELS)." in job.notes
    )
    preview = Image.open(io.BytesIO(app.compressed_image_bytes(job.id, user="mallory")))
    assert max(preview.size) == 1178, "(identical blank frames are merged into one by the WebP encoder)"
    peaks = {pid: peak_memory_mb(pid) for pid in worker_processes(worker)}
    assert max(peaks.values()) < PEAK_CEILING_MB, f"worker peaks (MB): {peaks}"

    assert_bystander_unaffected(app, bob)
    assert_pool_alive(app, worker, tmp_path)
