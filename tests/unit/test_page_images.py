"""Page images: drawn from the stored source at the width asked (within bounds), kept for the next viewer, scoped like
the job (another user's job is 404), over the Python API and ``GET /jobs/{id}/pages/{n}/image``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from pipeline import Paperline
from pipeline.core.errors import FilesGone, JobNotFound, PageNotFound
from tests.docgen import make_text_image
from tests.integration.test_api import call, problem
from tests.structure_docs import headings_and_lists, scanned_report
from tests.sync_runner import run_queued

A4 = (595.28, 841.89)


@pytest.fixture
def report(app: Paperline, tmp_path: Path) -> str:
    """A finished markdown job of a one-page A4 report, ann's."""
    job = app.submit(headings_and_lists(tmp_path / "report.pdf"), profile="markdown", user="ann")
    run_queued(app)
    return job.id


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_a_page_is_drawn_as_wide_as_asked_within_bounds_with_the_page_size_of_its_boxes(
    app: Paperline, report: str
) -> None:
    drawn = app.page_image(report, 1, width=800, fmt="png")
    image = decoded(drawn.data)
    assert (image.format, image.width) == ("PNG", 800)
    assert abs(image.height - 800 * A4[1] / A4[0]) <= 1, "the page's proportions (PDFium rounds its side up)"
    assert (drawn.width, drawn.height) == image.size and drawn.media_type == "image/png"
    assert (drawn.page_width, drawn.page_height) == pytest.approx(A4, abs=0.01) and drawn.pages == 1
    webp = decoded(app.page_image(report, 1, width=1200, fmt="webp").data)
    assert (webp.format, webp.width) == ("WEBP", 1200)
    assert decoded(app.page_image(report, 1, width=50).data).width == 600, "never narrower than 600 px"
    assert decoded(app.page_image(report, 1, width=9000).data).width == 2000, "never wider than 2000 px"
    with pytest.raises(PageNotFound, match="no page 2"):
        app.page_image(report, 2)
    # The boxes of the JSON result fall on the page drawn: every element's box inside the page's size.
    elements = json.loads(app.result(report, "json"))["elements"]
    assert elements and all(0 <= e["bbox"][0] < e["bbox"][2] <= A4[0] for e in elements)
    assert all(0 <= e["bbox"][1] < e["bbox"][3] <= A4[1] for e in elements)


def test_a_drawn_page_is_kept_for_the_next_viewer_until_the_files_go(app: Paperline, report: str) -> None:
    first = app.page_image(report, 1, width=700)
    assert app.page_image(report, 1, width=700) is first
    cache = app._page_images
    assert cache is not None and cache.drawn == 1
    app.delete(report)
    with pytest.raises(FilesGone):
        app.page_image(report, 1, width=700)


def test_a_very_tall_page_comes_narrower_and_an_image_is_drawn_in_its_own_pixels(
    app: Paperline, tmp_path: Path
) -> None:
    receipt = make_text_image("TOTAL 12.40", size=(400, 3000))
    job = app.submit(receipt, "receipt.png", profile="markdown")
    run_queued(app)
    drawn = app.page_image(job.id, 1, width=1000)
    assert (drawn.page_width, drawn.page_height) == (400, 3000), "an image's boxes are in its pixels"
    assert drawn.height == 3000 and drawn.width == 400, "at most three widths high: 3000 px tall, so 400 wide"


def test_another_users_page_is_not_found_by_the_python_api_and_over_http(
    app: Paperline, report: str, serve_api
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(JobNotFound):
        app.page_image(report, 1, user=app.owner_scope("bob"))
    assert app.page_image(report, 1, user=app.owner_scope("ann")).pages == 1
    api = serve_api(sign_in=True)
    _, ann = app.create_api_token("ann")
    _, bob = app.create_api_token("bob")
    status, headers, body = call(f"{api}/jobs/{report}/pages/1/image?width=640&format=webp", headers=bearer(ann))
    assert status == 200 and headers["Content-Type"] == "image/webp", body[:200]
    assert decoded(body).width == 640
    assert float(headers["X-Page-Width"]) == pytest.approx(A4[0], abs=0.01) and headers["X-Page-Count"] == "1"
    assert headers["Cache-Control"].startswith("private"), "a page is the caller's to see: no shared cache keeps it"
    assert problem(call(f"{api}/jobs/{report}/pages/1/image", headers=bearer(bob)))["status"] == 404
    assert problem(call(f"{api}/jobs/{report}/pages/2/image", headers=bearer(ann)))["status"] == 404
    assert problem(call(f"{api}/jobs/{report}/pages/1/image?width=599", headers=bearer(ann)))["status"] == 400
    assert problem(call(f"{api}/jobs/{report}/pages/1/image?format=gif", headers=bearer(ann)))["status"] == 400
    assert problem(call(f"{api}/jobs/{report}/pages/1/image"))["status"] == 401
    document = json.loads(call(f"{api}/openapi.json", headers=bearer(ann))[2])
    operation = document["paths"]["/jobs/{job_id}/pages/{page}/image"]["get"]
    assert set(operation["responses"]["200"]["content"]) == {"image/png", "image/webp"}
    width = next(p for p in operation["parameters"] if p["name"] == "width")["schema"]
    assert (width["minimum"], width["maximum"]) == (600, 2000)


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_a_scans_elements_say_how_sure_ocr_was_and_born_digital_ones_do_not(
    app: Paperline, report: str, tmp_path: Path
) -> None:
    scan = app.submit(scanned_report(tmp_path / "scan.pdf"), profile="markdown")
    run_queued(app)
    result = json.loads(app.result(scan.id, "json"))
    assert result["pages"][0]["method"] == "ocr"
    read = [e for e in result["elements"] if e["type"] in ("heading", "paragraph")]
    assert read and all(0 <= e["confidence"] <= 100 for e in read)
    assert max(e["confidence"] for e in read) > 80, "a clean 200 dpi scan reads with confidence"
    assert all("confidence" not in e for e in json.loads(app.result(report, "json"))["elements"])
