"""No silent moment on the real dashboard: three dropped files are on screen every moment from the drop until their
batch's card shows (received, inspecting, then their jobs); the finished batch folds to a line; the profile chosen
survives a reload."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from pipeline import JobStatus, Paperline
from tests.docgen import make_text_pdf
from tests.helpers import wait_until
from tests.ui.test_dashboard import upload

pytestmark = pytest.mark.ui

# every file name shown somewhere on the page (FilePond's chip while it uploads, the upload list, a card), looked up
# through Panel's shadow roots
SHOWN_JS = """(names) => {
  const text = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll("*")) {
      if (el.shadowRoot) walk(el.shadowRoot);
    }
    text.push(root.textContent || "");
  };
  walk(document);
  const all = text.join(" ");
  return names.filter((name) => all.includes(name));
}"""
UPLOAD_LIST = ".pl-acks-pane li"


def test_three_dropped_files_are_on_screen_every_moment_until_their_cards_show_then_fold(  # type: ignore[no-untyped-def]
    app: Paperline, start_worker, dashboard: str, page, tmp_path: Path, artifacts: Path
) -> None:
    start_worker(workers=1)
    page.goto(dashboard)
    page.get_by_text("No jobs running").wait_for()
    names = [f"drop-{k}.pdf" for k in range(3)]
    pdfs = [make_text_pdf(tmp_path / name, 2 + 3 * k) for k, name in enumerate(names)]
    upload(page, *pdfs)
    dropped = time.monotonic()
    card = page.locator(".pl-batch-card").filter(has_text="3 documents")
    samples: list[tuple[float, list[str], str]] = []
    shots = 0
    while time.monotonic() - dropped < 120:
        shown = page.evaluate(SHOWN_JS, names)
        listing = " ".join(page.locator(UPLOAD_LIST).all_inner_texts())
        samples.append((round(time.monotonic() - dropped, 2), shown, listing))
        if time.monotonic() - dropped >= shots:  # a picture a second
            page.screenshot(path=str(artifacts / f"drop-{shots:02d}s.png"))
            shots += 1
        if card.count() and all(card.first.get_by_text(name).count() for name in names):
            break
        time.sleep(0.2)
    (artifacts / "samples.json").write_text(json.dumps(samples, indent=1))
    assert card.count(), f"the batch's card did not show: {samples[-3:]}"
    # From a second after the drop (the drop area's own chips take a moment to draw), every file, every sample.
    missing = [
        (at, sorted(set(names) - set(shown))) for at, shown, _ in samples if at >= 1.0 and set(shown) != set(names)
    ]
    assert not missing, f"a dropped file was nowhere on screen: {missing}"
    said = " ".join(listing for _, _, listing in samples)
    assert "received" in said, "each file said it was received before it became a job"
    assert re.search(r"drop-\d\.pdf: (queued|running|completed)", said), "then its job, in the same list"
    page.screenshot(path=str(artifacts / "cards-shown.png"), full_page=True)

    # The batch ends; its card stays a while, then folds to one line among the recently finished.
    wait_until(lambda: {job.status for job in app.jobs()} == {JobStatus.COMPLETED}, timeout=120, what="the three jobs")
    card.get_by_text("3 of 3 ready").first.wait_for(timeout=30_000)
    page.screenshot(path=str(artifacts / "batch-ended.png"), full_page=True)
    folded = page.locator(".pl-finished-batch").filter(has_text="3 documents")
    folded.first.wait_for(timeout=120_000)  # FOLD_AFTER_S (45 s) after its last job ended
    line = folded.first.locator(".pl-finished").inner_text()  # the pane's text is in its shadow root
    assert "3 of 3 ready" in line and "ended" in line, line
    assert page.locator(".pl-batch-card").count() == 0, "the card folded: no card left open"
    assert folded.first.get_by_role("button", name="Download all").count() == 1
    page.screenshot(path=str(artifacts / "batch-folded.png"), full_page=True)


def test_the_chosen_profile_survives_a_reload(dashboard: str, page, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto(dashboard)
    profile = page.locator("select").nth(1)  # engine, then profile
    profile.wait_for()
    assert profile.input_value() == "text"
    profile.select_option("markdown")
    page.wait_for_url(re.compile(r"profile=markdown"), timeout=30_000)  # the choice kept in the page's address
    page.reload()
    page.locator("select").nth(1).wait_for()
    wait_until(lambda: page.locator("select").nth(1).input_value() == "markdown", timeout=30, what="markdown again")
    page.screenshot(path=str(artifacts / "profile-after-reload.png"))
