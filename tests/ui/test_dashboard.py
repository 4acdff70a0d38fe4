"""What an analyst does in the dashboard, in a real browser against `panel serve app.py` and a real worker."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pipeline import JobStatus, Paperline
from tests.docgen import make_encrypted_pdf, make_large_pdf, make_photo, make_text_pdf
from tests.helpers import slow_tesseract, wait_until

pytestmark = pytest.mark.ui


def upload(page, *files: Path) -> None:  # type: ignore[no-untyped-def]
    """Choose files the way an analyst does: the drop area's Browse link and the file chooser."""
    with page.expect_file_chooser() as chooser:
        page.locator(".filepond--label-action").first.click()
    chooser.value.set_files([str(f) for f in files])


def toast(page, text: str):  # type: ignore[no-untyped-def]
    """A notification toast (notyf also echoes each one into a hidden aria-live announcer)."""
    return page.locator(".notyf__message").filter(has_text=text).first


def open_tab(page, label: str) -> None:  # type: ignore[no-untyped-def]
    page.locator(".bk-tab").filter(has_text=label).first.click()


def progress_value(page) -> int | None:  # type: ignore[no-untyped-def]
    bar = page.locator(".pl-job-card progress")
    if bar.count() == 0:
        return None
    value = bar.first.get_attribute("value")
    return int(float(value)) if value not in (None, "") else None


def test_upload_watch_progress_and_open_the_result(  # type: ignore[no-untyped-def]
    app: Paperline, start_worker, dashboard: str, page, tmp_path: Path
) -> None:
    # Small chunks and OCR on every third page, each OCR page at least 0.5 s on any machine, make the job last long
    # enough (over 3 s) to watch it move.
    slow = slow_tesseract(tmp_path, 0.5)
    start_worker(workers=2, PAPERLINE_MEDIUM_CHUNK_PAGES="4", PAPERLINE_OCR_DPI="150", PAPERLINE_TESSERACT=str(slow))
    page.goto(dashboard)
    page.get_by_text("No jobs running").wait_for()
    pdf = make_text_pdf(tmp_path / "quarterly.pdf", 40, blank_pages=tuple(range(3, 41, 3)))
    upload(page, pdf)

    seen_progress: list[int] = []
    seen_done: list[int] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        value = progress_value(page)
        if value is not None and (not seen_progress or value != seen_progress[-1]):
            seen_progress.append(value)
        done = page.locator(".pl-chunk-done").count()
        if not seen_done or done != seen_done[-1]:
            seen_done.append(done)
        if value == 100 and done == 10:
            break
        time.sleep(0.1)
    assert seen_progress[-1] == 100 and seen_done[-1] == 10, (seen_progress, seen_done)
    assert seen_progress == sorted(seen_progress), "progress went backwards"
    assert len([v for v in seen_progress if 0 < v < 100]) >= 3, f"the bar did not move smoothly: {seen_progress}"
    assert len([d for d in seen_done if 0 < d < 10]) >= 2, f"the chunk map did not fill gradually: {seen_done}"
    assert page.locator(".pl-chunk").first.get_attribute("title").startswith("Chunk 1: pages 1-4, done")

    toast(page, "quarterly.pdf is ready").wait_for()
    job = app.jobs()[0]
    assert job.status is JobStatus.COMPLETED

    page.get_by_role("button", name="Open result").first.click()
    page.get_by_text("Page 40 line 12").first.wait_for()
    assert page.get_by_role("button", name="Download text").count() == 1

    open_tab(page, "History")
    page.locator(".pl-history").get_by_text("quarterly.pdf").wait_for()
    open_tab(page, "Charts")
    wait_until(lambda: chart_points(page, "jobs_over_time") >= 1, timeout=10, what="the jobs-over-time chart")
    wait_until(lambda: chart_points(page, "time_vs_pages") >= 1, timeout=10, what="the time-vs-pages chart")

    photo = tmp_path / "image.jpg"
    photo.write_bytes(make_photo((3000, 2000)))
    upload(page, photo)
    toast(page, "image.jpg is ready").wait_for()
    page.locator(".pl-job-card").filter(has_text="image.jpg").get_by_role("button", name="Open result").click()
    page.get_by_text("Compressed (WebP)").wait_for()
    assert page.get_by_role("img", name="compressed").count() == 1

    upload(page, make_encrypted_pdf(tmp_path / "protected.pdf"))
    page.get_by_text("This PDF is password-protected").first.wait_for()
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000


def chart_points(page, name: str) -> int:  # type: ignore[no-untyped-def]
    return page.evaluate(
        """(name) => {
            for (const doc of window.Bokeh.documents) {
                const fig = doc.get_model_by_name(name);
                if (fig) return fig.renderers[0].data_source.data.id.length;
            }
            return -1;
        }""",
        name,
    )


def test_a_result_link_opens_the_result_and_bad_files_are_explained(  # type: ignore[no-untyped-def]
    app: Paperline, start_worker, dashboard: str, page, tmp_path: Path
) -> None:
    start_worker(workers=1)
    job = app.submit(make_text_pdf(tmp_path / "memo.pdf", 3), profile="markdown")
    [job] = app.wait([job.id], timeout_s=60)
    page.goto(f"{dashboard}?job={job.id}")
    page.get_by_text("Page 3 line 12").first.wait_for()
    assert page.get_by_role("button", name="Download markdown").count() == 1

    fake = tmp_path / "notes.pdf"
    fake.write_text("meeting notes, not a PDF")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    upload(page, fake, empty)
    page.get_by_text("notes.pdf is not a PDF, PNG, JPEG, WebP or TIFF file").first.wait_for()
    page.get_by_text("empty.png is empty").first.wait_for()


def test_a_50_mb_pdf_uploads_through_the_browser(  # type: ignore[no-untyped-def]
    app: Paperline, start_worker, dashboard: str, page, tmp_path: Path
) -> None:
    start_worker(workers=1)
    big = make_large_pdf(tmp_path / "scan-50mb.pdf", 50 * 1024 * 1024)
    page.goto(dashboard)
    page.get_by_text("No jobs running").wait_for()
    upload(page, big)
    toast(page, "scan-50mb.pdf is ready").wait_for(timeout=120_000)
    [job] = app.jobs()
    assert job.size_bytes == big.stat().st_size and job.status is JobStatus.COMPLETED


def test_a_finished_jobs_files_are_deleted_from_its_card_after_a_confirm(  # type: ignore[no-untyped-def]
    app: Paperline, dashboard: str, page, tmp_path: Path
) -> None:
    from tests.sync_runner import run_queued

    job = app.submit(make_text_pdf(tmp_path / "old.pdf", 2))
    run_queued(app)
    page.goto(dashboard)
    card = page.locator(".pl-job-card").filter(has_text="old.pdf — completed").first
    card.get_by_role("button", name="Delete files").click()
    assert app.files(job.id).size() > 0, "the first click only asks"
    card.get_by_role("button", name="Keep them").click()
    card.get_by_role("button", name="Delete files").click()
    card.get_by_role("button", name="Yes, delete its files").click()
    toast(page, "Deleted the files of old.pdf; its history is kept.").wait_for()
    card.get_by_text("Files deleted by local; the history is kept.").wait_for()
    assert app.files(job.id).size() == 0 and app.get(job.id).purged_at
    assert card.get_by_role("button", name="Delete files").count() == 0, "nothing left to delete"
