"""An air-gapped install: loading the page (and a deep link to a job's result) asks nothing of any host but the
server's own (no web fonts, no CDN), and the browser reports no violation of the page's Content-Security-Policy."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from pipeline import JobStatus, Paperline
from tests.structure_docs import headings_and_lists
from tests.ui.page_view import wait_for_page_image

pytestmark = pytest.mark.ui


def test_the_page_and_a_deep_link_ask_only_the_server_and_break_no_policy(  # type: ignore[no-untyped-def]
    app: Paperline, start_worker, dashboard: str, page, tmp_path: Path, artifacts: Path
) -> None:
    start_worker(workers=1)
    job = app.submit(headings_and_lists(tmp_path / "report.pdf"), profile="markdown")
    [done] = app.wait([job.id], timeout_s=180)
    assert done.status is JobStatus.COMPLETED, done.error
    own = urlsplit(dashboard).netloc
    requests: list[str] = []
    console: list[dict[str, str]] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: console.append({"type": message.type, "text": message.text}))
    page.on("pageerror", lambda error: console.append({"type": "pageerror", "text": str(error)}))

    page.goto(dashboard)
    page.locator(".pl-history-row").first.wait_for(timeout=60_000)
    page.screenshot(path=str(artifacts / "app.png"), full_page=True)
    for tab in ("Charts", "Analytics", "Search", "Ask", "Webhooks", "History"):
        page.locator(".bk-tab").filter(has_text=tab).first.click()
    page.wait_for_timeout(2_000)
    page.goto(f"{dashboard}?job={job.id}")
    wait_for_page_image(page)
    page.locator(".pl-box").first.wait_for()
    page.wait_for_timeout(2_000)
    (artifacts / "requests.json").write_text(json.dumps({"requests": requests, "console": console}, indent=1))
    page.screenshot(path=str(artifacts / "deep-link.png"), full_page=True)

    elsewhere = sorted(
        {
            url
            for url in requests
            if urlsplit(url).scheme in ("http", "https", "ws", "wss") and urlsplit(url).netloc != own
        }
    )
    assert elsewhere == [], f"requests to other hosts: {elsewhere}"
    assert any(urlsplit(url).netloc == own for url in requests)
    violations = [m["text"] for m in console if "Content Security Policy" in m["text"]]
    assert violations == [], violations
    errors = [m["text"] for m in console if m["type"] in ("error", "pageerror")]
    assert errors == [], errors
