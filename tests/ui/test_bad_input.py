"""Bad files and a 50-file drop in the browser: every file gets its answer on the page, and the worker lives on."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from pipeline import JobStatus, Paperline
from tests.bad_inputs import UPLOAD_LIMIT_MB, awkward_name, bad_inputs
from tests.docgen import make_text_pdf
from tests.helpers import wait_until

pytestmark = pytest.mark.ui

#: what a file's line says once its job exists
FINAL_STATUS = r": (queued|running|completed|failed|canceled)"
MIME = {".pdf": "application/pdf", ".png": "image/png"}


def choose(page, payloads: list[dict]) -> None:  # type: ignore[no-untyped-def]
    """Pick files in the drop area's file chooser, as an analyst would (several at once)."""
    with page.expect_file_chooser() as chooser:
        page.locator(".filepond--label-action").first.click()
    chooser.value.set_files(payloads)


def payload(name: str, content: bytes) -> dict:
    return {"name": name, "mimeType": MIME.get(Path(name).suffix, "application/octet-stream"), "buffer": content}


def answered(line, message: str) -> str:  # type: ignore[no-untyped-def]
    """A dropped file's line once it answers (it is listed from the drop on, "received"): its refusal, or its job's
    status; empty before."""
    said = line.inner_text()
    return said if (message and message in said) or re.search(FINAL_STATUS, said) else ""


def test_each_bad_file_gets_its_message_on_the_page(  # type: ignore[no-untyped-def]
    app: Paperline, start_worker, serve_dashboard, page
) -> None:
    limit = {"PAPERLINE_MAX_UPLOAD_MB": str(UPLOAD_LIMIT_MB)}
    worker = start_worker(workers=1, **limit)
    page.goto(serve_dashboard(**limit))
    page.get_by_text("No jobs running").wait_for()
    matrix = [*bad_inputs(), awkward_name()]
    # The over-size file is refused by the drop area itself, before any byte is sent; the rest in one drop.
    oversize = [i for i in matrix if i.name == "huge.pdf"]
    choose(page, [payload(i.name, i.content) for i in matrix if i not in oversize])
    for item in matrix:
        if item in oversize:
            continue
        answer = page.locator("li.pl-ack").filter(has_text=item.shown_name).first
        answer.wait_for(timeout=60_000)
        said = wait_until(
            lambda line=answer, message=item.message: answered(line, message),
            timeout=60,
            what=f"{item.shown_name}'s answer on the page",
        )
        accepted = re.search(r": (queued|running|completed)", said)
        assert item.message in said if item.message else accepted, said
    jobs = {j.filename: j for j in app.jobs()}
    for item in matrix:
        if item not in oversize and item.message:
            assert item.message in jobs[item.shown_name].error
    [good] = app.wait([jobs[awkward_name().shown_name].id], timeout_s=60)
    assert good.status is JobStatus.COMPLETED
    # the acknowledgement follows the job: it does not keep saying "queued" once the job is done
    page.locator("li.pl-ack").filter(has_text=good.filename).filter(has_text="completed").first.wait_for()

    choose(page, [payload(i.name, i.content) for i in oversize])
    page.get_by_text("File is too large").first.wait_for()
    assert "huge.pdf" not in {j.filename for j in app.jobs()}, "never uploaded"
    assert worker.poll() is None


def test_fifty_files_dropped_at_once_are_all_acknowledged_and_done(  # type: ignore[no-untyped-def]
    app: Paperline, start_worker, dashboard: str, page, tmp_path: Path
) -> None:
    start_worker(workers=2)
    page.goto(dashboard)
    page.get_by_text("No jobs running").wait_for()
    files = [make_text_pdf(tmp_path / f"batch-{n:02d}.pdf", 1 + n % 4, lines=4 + n % 7) for n in range(50)]
    started = time.monotonic()
    choose(page, [payload(f.name, f.read_bytes()) for f in files])
    wait_until(lambda: len(app.jobs()) == 50, timeout=180, interval=0.5, what="50 acknowledgements")
    acknowledged_s = time.monotonic() - started
    jobs = app.wait([j.id for j in app.jobs()], timeout_s=180)
    assert sorted(j.filename for j in jobs) == sorted(f.name for f in files), "each file once, none lost"
    assert {j.status for j in jobs} == {JobStatus.COMPLETED}
    rows = page.locator(".pl-history-row")
    wait_until(lambda: rows.count() == 15, timeout=30, what="a full first page of History")
    assert page.locator(".notyf__toast--error").count() == 0, "no upload was refused"
    print(f"50 files acknowledged in {acknowledged_s:.1f} s")


def test_a_per_user_limit_is_explained_on_the_page(app: Paperline, serve_dashboard, page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto(serve_dashboard(PAPERLINE_USER_UPLOADS_PER_HOUR="1"))
    page.get_by_text("No jobs running").wait_for()
    first, second = make_text_pdf(tmp_path / "first.pdf", 1), make_text_pdf(tmp_path / "second.pdf", 2)
    choose(page, [payload(path.name, path.read_bytes()) for path in (first, second)])
    refused = page.locator("li.pl-ack-failed").first
    refused.wait_for(timeout=60_000)
    assert "Limit reached: local uploaded 1 files in the last hour (at most 1 per user)" in refused.inner_text()
    page.locator("li.pl-ack-ok").filter(has_text="queued").first.wait_for()
    statuses = sorted(j.status.value for j in app.jobs())
    assert statuses == ["failed", "queued"]
