"""The Search tab in a real browser: ask a question, see the passage that answers it, open it at its page."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import JobStatus, Paperline
from tests.docgen import HOSTILE, make_hostile_pdf
from tests.retrieval_docs import make_documents, write_pdf
from tests.ui.page_view import wait_for_page_image
from tests.ui.test_dashboard import open_tab
from tests.ui.test_hostile_content import LIVE_PAYLOADS

pytestmark = pytest.mark.ui


def test_search_finds_the_answer_and_opens_it_at_its_page_marked(  # type: ignore[no-untyped-def]
    app: Paperline, start_worker, dashboard: str, page, tmp_path: Path, artifacts: Path
) -> None:
    start_worker(workers=2)
    documents = make_documents(3, seed=21)
    jobs = [app.submit(write_pdf(doc, tmp_path), profile="retrieval") for doc in documents]
    jobs.append(app.submit(make_hostile_pdf(tmp_path / "hostile.pdf"), profile="retrieval"))
    done = app.wait([job.id for job in jobs], timeout_s=180)
    assert {job.status for job in done} == {JobStatus.COMPLETED}, [job.error for job in done]
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(dashboard)
    open_tab(page, "Search")
    question = documents[1].questions[0]
    box = page.get_by_placeholder("e.g. when does the warranty expire?")
    box.fill(question.question)
    box.press("Enter")
    first = page.locator(".pl-hit").first
    first.wait_for(timeout=60_000)
    assert question.filename in first.inner_text(), first.inner_text()
    answer_words = [w for w in question.answer.split() if len(w) > 3][:3]
    assert all(w.strip(".,") in first.locator(".pl-passage").inner_text() for w in answer_words)
    assert first.locator("mark").count() >= 1, "the query's words are marked"

    hit = app.search(question.question, top_k=1)[0]
    page.get_by_role("button", name=f"Open at page {hit.page}").first.click()
    # The Result tab, scrolled to the hit's page: the passage's elements marked in the text and on the page image.
    wait_for_page_image(page)
    assert page.locator(".bk-tab.bk-active").inner_text().strip() == "Result"
    assert page.locator(".pl-page-status").inner_text().startswith(f"Page {hit.page} of ")
    marked = page.locator(".pl-doc .pl-marked")
    marked.first.wait_for(timeout=30_000)
    assert any(question.answer.split()[0] in text for text in marked.all_inner_texts())
    assert page.locator(".pl-box.pl-marked").count() == marked.count(), "each marked element marked on the page too"
    assert marked.first.is_visible() and marked.first.evaluate(
        "(n) => { const r = n.getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight }"
    ), "scrolled to the passage"
    page.screenshot(path=str(artifacts / "search-hit-opened-marked.png"), full_page=False)

    # A document's markup found by search is shown as text, never run.
    open_tab(page, "Search")
    box.fill("onerror alert img script")
    box.press("Enter")
    page.locator(".pl-hit").filter(has_text="hostile.pdf").first.wait_for(timeout=60_000)
    page.get_by_text(HOSTILE[0], exact=False).first.wait_for()
    assert page.evaluate(LIVE_PAYLOADS) == [] and dialogs == []
