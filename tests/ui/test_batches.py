"""A batch on the real dashboard: ten PDFs dropped at once become one card whose roll-up and bar only rise, to
"10 of 10 ready"; each document opens from it, "Download all" gives one zip; "Cancel all" stops another batch."""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from pathlib import Path

import pytest

from pipeline import JobStatus, Paperline
from tests.docgen import make_text_pdf
from tests.helpers import slow_tesseract, wait_until
from tests.ui.test_dashboard import upload

pytestmark = pytest.mark.ui

DOCUMENTS = 10


def batch_card(page, documents: int):  # type: ignore[no-untyped-def]
    return page.locator(".pl-batch-card").filter(has_text=f"{documents} documents")


def sample(card) -> tuple[int, int, int] | None:  # type: ignore[no-untyped-def]
    """(documents ready, documents, bar value) as the card shows them without being opened, or None before it is
    there."""
    line = card.locator(".pl-batch-line .pl-meta")  # the pane's text is in its shadow root
    if line.count() == 0:
        return None
    found = re.search(r"(\d+) of (\d+) ready", line.first.inner_text())
    value = card.locator("progress").first.get_attribute("value")
    if found is None or value in (None, ""):
        return None
    return int(found.group(1)), int(found.group(2)), int(float(value))


def test_a_dropped_batch_rolls_up_opens_each_document_downloads_all_and_cancels_all(  # type: ignore[no-untyped-def]
    app: Paperline, start_worker, dashboard: str, page, tmp_path: Path
) -> None:
    # Document k has k pages of text and a blank page, read by a Tesseract that takes at least 0.3 s: ten jobs on two
    # workers last a few seconds, long enough to watch the roll-up move on any machine.
    slow = slow_tesseract(tmp_path, 0.3)
    start_worker(workers=2, PAPERLINE_OCR_DPI="100", PAPERLINE_TESSERACT=str(slow))
    page.goto(dashboard)
    page.get_by_text("No jobs running").wait_for()
    pdfs = [make_text_pdf(tmp_path / f"doc{k:02d}.pdf", k + 1, blank_pages=(k + 1,)) for k in range(1, 11)]
    upload(page, *pdfs)

    # The card from the moment it shows (its documents' jobs are still being created one by one).
    card = page.locator(".pl-batch-card").first
    seen: list[tuple[int, int, int]] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not seen or seen[-1] != (DOCUMENTS, DOCUMENTS, 100)):
        now = sample(card)
        if now is not None and (not seen or now != seen[-1]):
            seen.append(now)
        time.sleep(0.05)
    assert seen and seen[-1] == (DOCUMENTS, DOCUMENTS, 100), seen
    ready, bar = [s[0] for s in seen], [s[2] for s in seen]
    assert {s[1] for s in seen} == {DOCUMENTS}, f"the card counted the documents submitted so far: {seen}"
    assert ready == sorted(ready) and bar == sorted(bar), f"the roll-up went backwards: {seen}"
    assert len({r for r in ready if 0 < r < DOCUMENTS}) >= 2, f"the roll-up did not move document by document: {seen}"
    assert len({b for b in bar if 0 < b < 100}) >= 3, f"the bar did not rise gradually: {seen}"
    card = batch_card(page, DOCUMENTS)
    jobs = app.jobs()
    assert len(jobs) == DOCUMENTS and len({job.batch_id for job in jobs}) == 1 and jobs[0].batch_id
    assert {job.status for job in jobs} == {JobStatus.COMPLETED}
    card.get_by_text(f"{DOCUMENTS} of {DOCUMENTS} ready").first.wait_for()

    with page.expect_download() as download:
        card.get_by_role("button", name="Download all").click()
    assert download.value.suggested_filename == f"paperline-batch-{jobs[0].batch_id}.zip"
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    for k in range(1, 11):
        assert f"Page {k} line 12" in archive.read(f"doc{k:02d}.txt").decode()
    manifest = json.loads(archive.read("manifest.json"))["jobs"]
    assert sorted(entry["document"] for entry in manifest) == [pdf.name for pdf in pdfs]

    card.locator(".pl-batch-documents .card-header").first.click()  # opens the list of documents
    for k in range(1, 11):
        card.get_by_role("button", name=re.compile(rf"^doc{k:02d}\.pdf — completed")).click()
        result = page.locator(".pl-result")
        result.get_by_text(f"Page {k} line 12").first.wait_for()
        assert result.get_by_text(f"Page {k + 1} line 1:").count() == 0, f"doc{k:02d}.pdf opened another document"

    # A second batch of long documents (every page read by the slow Tesseract): cancel all while they run.
    long = [make_text_pdf(tmp_path / f"long{k}.pdf", 30, blank_pages=tuple(range(1, 31))) for k in range(3)]
    upload(page, *long)
    second = batch_card(page, 3)

    def started() -> bool:  # all three are jobs (a drop's jobs are made one by one), and one runs
        jobs = [job for job in app.jobs() if job.filename.startswith("long")]
        return len(jobs) == 3 and any(job.status is JobStatus.RUNNING for job in jobs)

    wait_until(started, timeout=60, what="the second batch's three jobs, one of them running")
    second.get_by_role("button", name="Cancel all").click()
    canceled = wait_until(
        lambda: {j.status for j in app.jobs() if j.filename.startswith("long")} == {JobStatus.CANCELED},
        timeout=30,
        what="every job of the second batch to be canceled",
    )
    assert canceled
    second.get_by_text("0 of 3 ready, 3 canceled").first.wait_for(timeout=60_000)  # (the feed ticks slower under load)
    assert second.get_by_role("button", name="Cancel all").count() == 0, "nothing left to cancel"
