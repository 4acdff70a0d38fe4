"""Intake through the Python API: acknowledgement, refusals recorded on the job, and answers from cache."""

from __future__ import annotations

import io
import threading
from dataclasses import replace
from pathlib import Path

import pypdf
import pytest
from PIL import Image

from pipeline.core import messages
from pipeline.core.errors import InvalidRequest, NoWorkerRunning
from pipeline.core.models import JobStatus
from pipeline.core.settings import Settings
from pipeline.service.paperline import Paperline
from tests.docgen import make_encrypted_pdf, make_photo, make_text_pdf
from tests.sync_runner import run_queued


def test_a_pdf_is_acknowledged_queued_and_enqueued(app: Paperline, tmp_path: Path) -> None:
    pdf = make_text_pdf(tmp_path / "report.pdf", 3)
    job = app.submit(pdf)
    assert job.status is JobStatus.QUEUED and job.pages == 3 and job.kind == "pdf"
    assert job.size_bytes == pdf.stat().st_size and len(job.sha256) == 64
    assert app.queue.pending_count() == 1
    assert app.files(job.id).read("source.pdf") == pdf.read_bytes()


def test_bytes_and_file_objects_are_accepted(app: Paperline, tmp_path: Path) -> None:
    data = make_text_pdf(tmp_path / "r.pdf", 1).read_bytes()
    assert app.submit(data, "from-bytes.pdf").status is JobStatus.QUEUED
    assert app.submit(io.BytesIO(data), "from-stream.pdf").status is JobStatus.QUEUED


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.pdf", "is empty"),
        (b"this is not a pdf at all", "fake.pdf", "not a PDF, PNG, JPEG, WebP or TIFF file: it looks like plain text"),
        (b"PK\x03\x04" + b"\x00" * 40, "sheet.xlsx", "ZIP archive or an Office document"),
        (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog", "truncated.pdf", "could not be read as a PDF"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, "broken.png", "could not be read"),
    ],
)
def test_bad_files_become_failed_jobs_with_a_plain_message(
    app: Paperline, content: bytes, name: str, message: str
) -> None:
    job = app.submit(content, name)
    assert job.status is JobStatus.FAILED
    assert message in job.error and message in job.message
    assert app.queue.pending_count() == 0
    assert not app.files(job.id).names()


def test_password_protected_pdf_fails_at_once(app: Paperline, tmp_path: Path, corpus: Path) -> None:
    for path in (make_encrypted_pdf(tmp_path / "protected.pdf"), corpus / "libreoffice-writer-password.pdf"):
        job = app.submit(path)
        assert job.status is JobStatus.FAILED and "password-protected" in job.error, path.name


def test_pdf_with_no_pages_is_refused(app: Paperline) -> None:
    buffer = io.BytesIO()
    pypdf.PdfWriter().write(buffer)
    job = app.submit(buffer.getvalue(), "nothing.pdf")
    assert job.status is JobStatus.FAILED and "no pages" in job.error


def test_oversize_upload_is_refused_before_it_is_read(tmp_path: Path) -> None:
    app = Paperline(Settings(home=tmp_path / "home", max_upload_mb=1))
    job = app.submit(b"%PDF-1.4\n" + b"0" * (2 * 1024 * 1024), "big.pdf")
    assert job.status is JobStatus.FAILED and "over the 1 MB upload limit" in job.error
    assert job.size_bytes == 2 * 1024 * 1024 + 9


def test_decompression_bomb_is_refused(app: Paperline) -> None:
    buffer = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(buffer, format="PNG")  # 144 MP, a few kB on disk
    job = app.submit(buffer.getvalue(), "bomb.png")
    assert job.status is JobStatus.FAILED and "too large to process safely" in job.error


def test_path_traversal_in_the_name_is_neutralised(app: Paperline, tmp_path: Path) -> None:
    job = app.submit(make_text_pdf(tmp_path / "x.pdf", 1).read_bytes(), "../../../etc/cron.d/evil.pdf")
    assert job.filename == "evil.pdf"
    assert app.files(job.id).exists("source.pdf")
    assert not (app.settings.home.parent / "etc").exists()


def test_unknown_profile_or_engine_is_a_request_error(app: Paperline, tmp_path: Path) -> None:
    pdf = make_text_pdf(tmp_path / "x.pdf", 1)
    with pytest.raises(InvalidRequest, match="profile"):
        app.submit(pdf, profile="poems")
    with pytest.raises(InvalidRequest, match="engine"):
        app.submit(pdf, engine="magic")


def test_an_identical_document_is_answered_from_cache(app: Paperline, tmp_path: Path) -> None:
    pdf = make_text_pdf(tmp_path / "a.pdf", 4)
    first = app.submit(pdf)
    run_queued(app)
    assert app.get(first.id).status is JobStatus.COMPLETED
    again = app.submit(pdf, "renamed.pdf")
    assert again.status is JobStatus.COMPLETED and again.cached_from == first.id
    assert "Served from cache" in again.message and again.pages == 4 and again.chunks_total == 1
    assert app.result(again.id) == app.result(first.id)
    assert app.queue.pending_count() == 0
    other_profile = app.submit(pdf, profile="markdown")
    assert other_profile.status is JobStatus.QUEUED


def test_images_are_accepted_from_their_bytes(app: Paperline) -> None:
    job = app.submit(make_photo((400, 300), "WEBP"), "photo.bin")
    assert job.status is JobStatus.QUEUED and job.kind == "image"


def test_waiting_with_no_worker_alive_ends_with_the_reason(tmp_path: Path) -> None:
    app = Paperline(Settings(home=tmp_path / "home", stall_after_s=0.5))
    job = app.submit(make_text_pdf(tmp_path / "a.pdf", 1))
    with pytest.raises(NoWorkerRunning, match="No Paperline worker is running, so 1 job cannot finish"):
        app.wait([job.id], timeout_s=60, poll_s=0.05)
    app.close()


def test_the_default_upload_limit_is_200_mb(app: Paperline, tmp_path: Path) -> None:
    assert Settings.from_env({}).max_upload_mb == app.settings.max_upload_mb == 200
    huge = tmp_path / "huge.pdf"
    with huge.open("wb") as handle:  # sparse: 200 MB and one byte on disk in no time
        handle.write(b"%PDF-1.4\n")
        handle.truncate(200 * 1024 * 1024 + 1)
    job = app.submit(huge)
    assert job.status is JobStatus.FAILED
    assert job.error == "huge.pdf is 209,715,201 bytes, over the 200 MB upload limit."
    # At the limit a file is not refused for its size (but is not a readable PDF): the same comparison as above,
    # checked on a 1 MB limit, as copying 200 MB in would take half a minute and prove nothing more.
    small = Paperline(Settings(home=tmp_path / "small", max_upload_mb=1))
    with huge.open("r+b") as handle:
        handle.truncate(1024 * 1024)
    at_limit = small.submit(huge)
    assert at_limit.size_bytes == 1024 * 1024 and "upload limit" not in at_limit.error
    small.close()


def test_a_bidi_override_in_a_name_is_dropped_wherever_the_name_is_shown(app: Paperline, tmp_path: Path) -> None:
    data = make_text_pdf(tmp_path / "r.pdf", 1).read_bytes()
    job = app.submit(data, "inv\u202efdp.txt")
    assert job.filename == "invfdp.txt", "shown as 'invtxt.pdf' while the override stays"
    older = app.store.get(job.id)
    assert older is not None
    from pipeline.service.batches import archive_name

    named = archive_name(replace(older, filename="inv\u202efdp.pdf"), "text", set())  # a name recorded before
    assert named == "invfdp.txt"


class _HeldFile(io.BytesIO):
    """An upload whose bytes arrive only when the test lets them (a drop's file still on its way)."""

    def __init__(self, data: bytes, arrived: threading.Event) -> None:
        super().__init__(data)
        self.arrived, self.reading = arrived, threading.Event()

    def read(self, size: int | None = -1) -> bytes:
        self.reading.set()
        assert self.arrived.wait(30)
        return super().read(size)


def test_cancel_all_during_a_drop_cancels_the_files_still_to_become_jobs(app: Paperline, tmp_path: Path) -> None:
    """The page makes a drop's jobs one by one; "Cancel all" (here from the command line, another process) came
    after the first: the second was being read, the third not yet. Before, both later jobs were queued and ran."""
    from tests.conftest import paperline

    data = [make_text_pdf(tmp_path / f"d{i}.pdf", i + 1).read_bytes() for i in range(3)]
    arrived = threading.Event()
    held = _HeldFile(data[1], arrived)
    made: list = []
    drop = threading.Thread(
        target=lambda: made.append(app.submit_batch([(data[0], "a.pdf"), (held, "b.pdf"), (data[2], "c.pdf")]))
    )
    drop.start()
    try:
        assert held.reading.wait(30), "the second file is being read"
        (first,) = app.jobs()
        assert first.status is JobStatus.QUEUED and first.batch_id is not None
        canceled = paperline(app, "batch", "cancel", first.batch_id)
        assert canceled.returncode == 0, canceled.stderr
    finally:
        arrived.set()
        drop.join(60)
    (batch, made_jobs) = made[0]
    jobs = [app.get(job.id) for job in made_jobs]
    assert [job.status for job in jobs] == [JobStatus.CANCELED] * 3
    assert jobs[1].message == jobs[2].message == messages.CANCELED_WITH_BATCH
    assert app.queue.pending_count() == 1, "only the first was ever queued (its task finds it canceled)"
    assert not any(app.files(job.id).exists("source.pdf") for job in jobs[1:]), "their bytes are not kept"
    view = app.batch(batch.id, eta=False)
    assert view.totals.counts["canceled"] == 3 and view.totals.batch.canceled_at is not None and view.totals.is_final
