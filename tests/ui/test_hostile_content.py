"""Text from documents, models and other users is shown as text: no payload runs in the page, on any surface.

The documents and the fake Messages API carry HTML and Markdown payloads that each call ``alert()``; a dialog
listener records any that fire, and a scan of the whole page (shadow roots included) finds any payload that became
a live attribute or script. Both must stay empty while an admin opens every surface: the live cards, the result of
every profile, History, Analytics, a failure toast, another user's custom instruction.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline import JobStatus, Paperline
from tests.docgen import HOSTILE, make_hostile_pdf
from tests.fake_anthropic import OWNED_RE, FakeAnthropic, Recorded
from tests.helpers import wait_until
from tests.ui.test_dashboard import open_tab, toast
from tests.ui.test_users import sign_in

pytestmark = pytest.mark.ui

USERS = {"ann": "ann-secret-1", "root": "root-secret-3"}
INSTRUCTION = "List every amount <img src=x onerror=alert('instruction')>"
API_ERROR = "Refused <img src=x onerror=alert('api-error')> [why](javascript:alert('api-md'))"
HOSTILE_NAME = "report <img src=x onerror=alert('name')>.pdf"

# Every payload that became live markup, in the document and in every shadow root: a handler attribute, a script
# URL (a raster image's data: URL, such as the page view's page, runs nothing), or a script, image, frame or SVG
# element carrying a payload. Payload text in a plain attribute (a hover title) or in a text node is data, and fine.
LIVE_PAYLOADS = """() => {
    const found = [];
    const runs = new Set(['SCRIPT', 'IMG', 'SVG', 'IFRAME', 'OBJECT', 'EMBED', 'svg']);
    const visit = (root) => {
        for (const el of root.querySelectorAll('*')) {
            for (const attr of el.attributes) {
                const raster = el.tagName === 'IMG' && attr.name === 'src'
                    && /^data:image\\/(png|jpeg|webp|gif);base64,/i.test(attr.value);
                const url = /^(href|src|action|formaction|xlink:href)$/.test(attr.name)
                    && /^\\s*(javascript|data):/i.test(attr.value) && !raster;
                if ((attr.name.startsWith('on') && /alert\\(/.test(attr.value)) || url) {
                    found.push(`${el.tagName} ${attr.name}=${attr.value}`);
                }
            }
            if (runs.has(el.tagName)) {
                const bare = el.cloneNode(true);  // its text attributes (alt, title, a label) hold data, not markup
                for (const name of ['alt', 'title', 'aria-label']) bare.removeAttribute(name);
                if (/alert\\(/.test(bare.outerHTML)) found.push(el.outerHTML.slice(0, 120));
            }
            if (el.shadowRoot) visit(el.shadowRoot);
        }
    };
    visit(document);
    return found;
}"""


def hostile_answer(request: Recorded) -> str:
    """Claude's answer, made of payloads: Markdown for the Markdown and custom presets, rows for the table ones."""
    owned = OWNED_RE.search(request.prompt)
    first, last = (int(owned.group(1)), int(owned.group(2))) if owned else (1, 1)
    if "JSON array" in request.prompt:
        body = json.dumps([{"table": HOSTILE[0], "amount": HOSTILE[1], "note": HOSTILE[4]}])
    else:
        body = "\n\n".join(HOSTILE)
    return "".join(f'<page number="{page}">\n{body}\n</page>\n' for page in range(first, last + 1))


def test_no_payload_runs_on_any_surface(  # type: ignore[no-untyped-def]
    app: Paperline, start_worker, serve_dashboard, browser, tmp_path: Path
) -> None:
    credentials = tmp_path / "users.json"
    credentials.write_text(json.dumps(USERS))
    with FakeAnthropic(responder=hostile_answer) as api:
        api.fail(400, times=None, when=lambda r: "FAIL-THIS-ONE" in r.prompt, message=API_ERROR)
        env = {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": api.base_url}
        start_worker(workers=2, **env)
        url = serve_dashboard(
            "--basic-auth", str(credentials), "--cookie-secret", "paperline-test-secret", PAPERLINE_ADMINS="root", **env
        )
        context, page = sign_in(browser, url, "root")
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

        pdf = make_hostile_pdf(tmp_path / "hostile.pdf")
        claude = Paperline(replace(app.settings, anthropic_api_key_set=True), store=app.store, queue=app.queue)
        jobs = {
            profile: app.submit(pdf, HOSTILE_NAME, profile=profile, user="ann") for profile in ("text", "sentences")
        }
        jobs["markdown"] = app.submit(pdf, "markdown.pdf", profile="markdown", user="ann")
        for profile in ("markdown", "tables"):
            jobs[f"claude-{profile}"] = claude.submit(pdf, f"claude-{profile}.pdf", engine="claude", profile=profile)
        jobs["custom"] = claude.submit(
            pdf, "custom.pdf", engine="claude", profile="custom", instruction=INSTRUCTION, user="ann"
        )
        done = app.wait([job.id for job in jobs.values()], timeout_s=120)
        assert {job.status for job in done} == {JobStatus.COMPLETED}, [job.error for job in done]

        # A job that fails while the page is open: its toast, card and History row quote the API's message. The page
        # has taken in the batch first, so this job's end arrives alone and gets a toast of its own.
        # Every finished job is on the page: the newest three as cards, the others folded to a line.
        wait_until(
            lambda: (
                page.locator(".pl-job-card").filter(has_text="— completed").count()
                + page.locator(".pl-finished").count()
                == len(jobs)
            ),
            timeout=30,
            what="every finished job's card or line",
        )
        failed = claude.submit(pdf, "refused.pdf", engine="claude", profile="custom", instruction="FAIL-THIS-ONE")
        [failed] = app.wait([failed.id], timeout_s=60)
        assert failed.status is JobStatus.FAILED and API_ERROR in failed.error
        toast(page, "refused.pdf failed").wait_for()
        page.locator(".pl-job-card").filter(has_text="refused.pdf").get_by_text(API_ERROR).first.wait_for()

        # A card shows the job's instruction (as text); the admin sees ann's hostile one in the result's header below.
        page.locator(".pl-job-card").filter(has_text="refused.pdf").get_by_text("Instruction: FAIL-THIS-ONE").wait_for()
        for key, job in jobs.items():
            page.goto(f"{url}?job={job.id}")
            page.get_by_role("button", name=re.compile("^Download ")).first.wait_for()
            if key in ("text", "markdown", "claude-markdown", "custom"):
                for payload in HOSTILE:
                    page.get_by_text(payload, exact=False).first.wait_for()
            if key == "sentences":
                page.locator(".pl-sentences").get_by_text("alert('img')", exact=False).first.wait_for()
            if key == "claude-tables":
                page.locator(".pl-text").get_by_text("onerror=alert", exact=False).first.wait_for()
            if key == "markdown":  # the PDF's own title and author, shown in the header
                page.get_by_text(f"Title: {HOSTILE[1]}").wait_for()
                page.get_by_text(f"Author: {HOSTILE[0]}").wait_for()
            if key == "custom":
                page.locator(".pl-result").get_by_text(f"Instruction: {INSTRUCTION}").wait_for()
            assert page.locator("a[href^='javascript:']").count() == 0
            assert page.evaluate(LIVE_PAYLOADS) == [], key

        open_tab(page, "History")
        page.locator(".pl-history").get_by_text("onerror=alert('name')", exact=False).first.wait_for()
        page.locator(".pl-history").get_by_text("Refused <img", exact=False).first.wait_for()
        open_tab(page, "Analytics")
        page.get_by_text("jobs in range").first.wait_for()
        wait_until(lambda: not page.evaluate(LIVE_PAYLOADS), timeout=5, what="no live payload")
        page.wait_for_timeout(500)  # a payload that got in would fire its dialog by now
        assert dialogs == []
        assert page.evaluate(LIVE_PAYLOADS) == []
        context.close()
