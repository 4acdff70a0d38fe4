"""PDFium and Pillow never run in the server: intake inspects each upload in a short-lived subprocess with limits,
so a file that crashes a reader, or keeps it busy for ever, refuses that upload alone while the server answers."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path

import pypdf
import pytest

from pipeline import JobStatus, Paperline
from pipeline.core.errors import PasswordProtected, ReaderFailed
from pipeline.documents.inspection import Limits, inspect_document
from tests.docgen import known_text, make_text_pdf
from tests.helpers import ROOT
from tests.hostile.bystanders import assert_bystander_unaffected, assert_pool_alive, submit_bystander
from tests.hostile.files import inflating_pdf
from tests.integration.test_api import call, post

pytestmark = pytest.mark.integration

ADVICE = "it may be damaged or crafted. Open it in a PDF viewer and save or print it to a new PDF, then upload that."


def test_a_pdf_that_crashes_pdfium_is_refused_and_the_server_keeps_answering(
    app: Paperline, serve_dashboard, start_worker, tmp_path: Path
) -> None:
    # The server starts in the test's folder: PYTHONPATH makes it run this checkout (not where an editable
    # install points).
    api = serve_dashboard(PYTHONPATH=str(ROOT)).removesuffix("/app") + "/api/v1"
    worker = start_worker(workers=2)
    # 1.5 MB that inflate to 1.5 GB when PDFium opens the page: over the inspector's 1024 MB, PDFium aborts.
    bomb = inflating_pdf(1500)
    assert len(bomb) < 2 * 2**20

    answers: list[tuple[int, dict]] = []
    upload = threading.Thread(target=lambda: answers.append(post(f"{api}/jobs?filename=bomb.pdf", bomb)[::2]))
    upload.start()
    bob = submit_bystander(app, tmp_path)  # while the inspector of mallory's upload runs
    upload.join(timeout=120)
    [(status, body)] = answers

    assert status == 422 and body["code"] == "reader_failed"
    assert body["detail"].startswith("This file made the PDF reader fail (it crashed with SIG")
    assert body["detail"].endswith(ADVICE), body["detail"]
    [refused] = body["jobs"]
    assert refused["status"] == "failed" and refused["error"] == body["detail"]
    assert app.get(refused["id"]).meta["refusal"] == "reader_failed"
    assert not app.files(refused["id"]).names(), "a refused file is not kept"

    health = call(f"{api}/health")
    assert health[0] == 200 and json.loads(health[2])["store"] == "ok", "the same server answers"
    status, _, after = post(f"{api}/jobs?filename=after.pdf", make_text_pdf(tmp_path / "after-api.pdf", 2).read_bytes())
    assert status == 201, after
    [done] = app.wait([after["jobs"][0]["id"]], timeout_s=120)
    assert done.status is JobStatus.COMPLETED and app.result(done.id, "text") == known_text(2)

    assert_bystander_unaffected(app, bob)
    assert_pool_alive(app, worker, tmp_path)


def test_an_inspection_over_its_time_is_stopped_and_leaves_no_process(tmp_path: Path) -> None:
    # No reader starts, let alone reads a file, in a millisecond: the timeout fires on every machine.
    pdf = make_text_pdf(tmp_path / "fine.pdf", 2)
    limits = Limits(timeout_s=0.001, memory_mb=1024, max_pixels=50_000_000, max_pages=5000)

    with pytest.raises(ReaderFailed) as refused:
        inspect_document(True, pdf, limits)
    assert str(refused.value) == f"This file made the PDF reader fail (it took longer than 0.001 s); {ADVICE}"

    def inspectors() -> list[int]:
        found = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                if str(pdf).encode() in cmdline.read_bytes():
                    found.append(int(cmdline.parent.name))
            except OSError:
                continue
        return found

    assert not inspectors(), "the inspector that ran over its time was killed and reaped"
    assert inspect_document(True, pdf, replace(limits, timeout_s=30)).pages == 2, "given time, the file is fine"


def test_the_inspector_refuses_with_the_readers_own_words_and_its_limits(tmp_path: Path) -> None:
    locked = tmp_path / "locked.pdf"
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt("s3cret")
    with locked.open("wb") as handle:
        writer.write(handle)
    limits = Limits(timeout_s=30, memory_mb=1024, max_pixels=50_000_000, max_pages=5000)
    with pytest.raises(PasswordProtected, match=r"^This PDF is password-protected\. Remove the password"):
        inspect_document(True, locked, limits)
    # The same inflating page, with more memory than it needs, opens: the limit, not the file alone, decides.
    small = tmp_path / "small-bomb.pdf"
    small.write_bytes(inflating_pdf(200))
    assert inspect_document(True, small, limits).pages == 1
    with pytest.raises(ReaderFailed, match=r"^This file made the PDF reader fail \(it crashed with SIG"):
        inspect_document(True, small, Limits(timeout_s=30, memory_mb=150, max_pixels=50_000_000, max_pages=5000))
