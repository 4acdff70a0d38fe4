"""Page counts are numbers in a file: a PDF claiming pages it does not have, or more real pages than
PAPERLINE_MAX_PAGES, is refused at intake with a plain message, and nothing is planned or queued for it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline import JobStatus, Paperline
from pipeline.core.errors import TooManyPages
from pipeline.core.models import DocumentKind
from pipeline.documents.intake import page_count
from tests.conftest import paperline
from tests.hostile.bystanders import assert_bystander_unaffected, assert_pool_alive, submit_bystander
from tests.hostile.files import many_page_pdf, million_page_claim, one_page_pdf, raw_pdf

pytestmark = pytest.mark.integration


def assert_refused_at_intake(app: Paperline, job_id: str, message: str) -> None:
    job = app.get(job_id)
    assert job.status is JobStatus.FAILED and message in job.error and job.message == job.error, job.error
    assert app.chunks(job_id) == [], "no chunk is planned"
    assert job_id not in app.tasks.queued()[1], "nothing is queued"
    assert not app.files(job_id).names(), "a refused file is not kept"


def test_a_million_page_claim_is_refused_at_intake_and_plans_nothing(
    app: Paperline, start_worker, tmp_path: Path
) -> None:
    worker = start_worker(workers=2)
    bob = submit_bystander(app, tmp_path)
    claim = million_page_claim()
    assert len(claim) == 335, "the very file of issue 22"

    job = app.submit(claim, "claim.pdf", user="mallory")
    assert_refused_at_intake(
        app, job.id, "This PDF says it has 1,000,000 pages, but page 1,000,000 cannot be opened: its list of pages"
    )
    # Under the page cap too: a claim of 4,000 pages with one real page is not planned as 267 chunks.
    under_cap = app.submit(one_page_pdf(count=4000), "claim-4000.pdf", user="mallory")
    assert_refused_at_intake(app, under_cap.id, "says it has 4,000 pages, but page 4,000 cannot be opened")
    # A page tree torn in the middle: 40 kids listed, the 21st not a page. Every page is looked up, not a sample.
    kids = " ".join(f"{3 + index} 0 R" for index in range(40))
    pages = [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"] * 40
    pages[20] = b"(not a page)"
    tree = f"<< /Type /Pages /Kids [{kids}] /Count 40 >>".encode()
    torn = app.submit(raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", tree, *pages]), "torn.pdf", user="mallory")
    assert_refused_at_intake(app, torn.id, "says it has 40 pages, but page 21 cannot be opened")

    assert_bystander_unaffected(app, bob)
    assert_pool_alive(app, worker, tmp_path)


def test_more_real_pages_than_the_cap_are_refused_in_the_cli_and_the_api_status(
    app: Paperline, start_worker, tmp_path: Path
) -> None:
    worker = start_worker(workers=2)
    big = tmp_path / "big.pdf"
    big.write_bytes(many_page_pdf(5001))
    bob = submit_bystander(app, tmp_path)

    done = paperline(app, "submit", str(big), "--wait", "--json")
    [job] = json.loads(done.stdout)
    assert done.returncode == 1 and job["status"] == "failed"
    assert job["error"] == (
        "This document has 5,001 pages, over the limit of 5,000 pages per document (PAPERLINE_MAX_PAGES). "
        "Split it into smaller files and upload those."
    )
    assert_refused_at_intake(app, job["id"], "over the limit of 5,000 pages")
    assert app.get(job["id"]).meta["refusal"] == "too_many_pages"
    from pipeline.api.problems import refusal_status

    assert refusal_status("too_many_pages") == 413

    # The cap is a setting: 5,000 real pages pass it, and a lower cap refuses fewer.
    assert page_count(DocumentKind.PDF, _write(tmp_path / "5000.pdf", many_page_pdf(5000)), app.settings) == 5000
    low = paperline(app, "submit", str(tmp_path / "5000.pdf"), "--json", PAPERLINE_MAX_PAGES="10")
    assert "This document has 5,000 pages, over the limit of 10 pages" in json.loads(low.stdout)[0]["error"]
    with pytest.raises(TooManyPages):
        page_count(DocumentKind.PDF, big, app.settings)

    assert_bystander_unaffected(app, bob)
    assert_pool_alive(app, worker, tmp_path)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
