"""Two basic-auth users in two browser contexts cannot see or touch each other's jobs; an admin sees both."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline import JobStatus, Paperline
from tests.conftest import paperline
from tests.docgen import make_text_pdf
from tests.ui.test_dashboard import open_tab, toast, upload

pytestmark = pytest.mark.ui

PASSWORDS = {"ann": "ann-secret-1", "bob": "bob-secret-2", "root": "root-secret-3"}


def sign_in(browser, url: str, user: str):  # type: ignore[no-untyped-def]
    """A fresh browser context (its own cookies), signed in through Panel's login form."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(url)
    page.locator("input[name=username]").fill(user)
    page.locator("input[name=password]").fill(PASSWORDS[user])
    page.locator("button[type=submit]").click()
    page.get_by_text(f"Signed in as {user}").wait_for()
    return context, page


def history_files(page) -> list[str]:  # type: ignore[no-untyped-def]
    """File names in the History table, once it has rows (every user here has at least one job)."""
    open_tab(page, "History")
    cells = page.locator(".pl-history td[data-field=filename]")
    cells.first.wait_for()
    return sorted(cells.all_inner_texts())


def test_two_users_cannot_see_or_touch_each_others_jobs(  # type: ignore[no-untyped-def]
    app: Paperline, start_worker, serve_dashboard, browser, tmp_path: Path
) -> None:
    credentials = tmp_path / "users.json"
    credentials.write_text(json.dumps(PASSWORDS))
    url = serve_dashboard(
        "--basic-auth", str(credentials), "--cookie-secret", "paperline-test-secret", PAPERLINE_ADMINS="root"
    )
    start_worker(workers=2)

    anonymous = browser.new_context()
    page = anonymous.new_page()
    page.goto(url)
    assert "/login" in page.url, "without signing in, the dashboard is not shown"
    anonymous.close()

    ann_context, ann = sign_in(browser, url, "ann")
    upload(ann, make_text_pdf(tmp_path / "ann-contract.pdf", 3))
    toast(ann, "ann-contract.pdf is ready").wait_for(timeout=60_000)
    [ann_job] = app.jobs()
    assert ann_job.user == "ann", "an upload belongs to the signed-in user"

    # bob works from the CLI as himself, and cannot reach ann's job there either.
    bob_pdf = make_text_pdf(tmp_path / "bob-invoice.pdf", 2)
    submitted = paperline(app, "--user", "bob", "submit", str(bob_pdf), "--wait", "--json")
    assert submitted.returncode == 0, submitted.stderr
    bob_job = app.get(json.loads(submitted.stdout)[0]["id"])
    assert bob_job.user == "bob"
    listed = json.loads(paperline(app, "--user", "bob", "jobs", "--json").stdout)
    assert [j["id"] for j in listed] == [bob_job.id]
    for command in ("status", "result", "cancel", "retry"):
        refused = paperline(app, "--user", "bob", command, ann_job.id)
        assert refused.returncode == 2 and f"No job '{ann_job.id}'" in refused.stderr, (command, refused.stderr)

    bob_context, bob = sign_in(browser, url, "bob")
    assert history_files(bob) == ["bob-invoice.pdf"]
    bob.goto(f"{url}?job={ann_job.id}")  # a guessed or shared link to ann's result
    bob.get_by_text(f"No job '{ann_job.id}'").wait_for()
    assert bob.get_by_role("button", name="Download text").count() == 0
    bob.goto(f"{url}?job={bob_job.id}")
    bob.get_by_text("Page 2 line 12").first.wait_for()

    # ann's page, open all along on History, got her own job live and never learns of bob's.
    assert history_files(ann) == ["ann-contract.pdf"]
    assert ann.locator(".pl-job-card").filter(has_text="bob-invoice.pdf").count() == 0

    root_context, root = sign_in(browser, url, "root")
    root.get_by_text("admin: all users' jobs").wait_for()
    assert history_files(root) == ["ann-contract.pdf", "bob-invoice.pdf"]
    assert "ann" in root.locator(".pl-history td[data-field=user]").all_inner_texts()
    root.goto(f"{url}?job={ann_job.id}")
    root.get_by_text("Page 3 line 12").first.wait_for()

    assert app.get(ann_job.id).status is app.get(bob_job.id).status is JobStatus.COMPLETED
    for context in (ann_context, bob_context, root_context):
        context.close()


# The new token's secret, from the (shadow-DOM) text input that shows it once.
FIND_SECRET_JS = """() => {
  const walk = (root) => {
    for (const el of root.querySelectorAll("input")) if ((el.value || "").startsWith("pl_")) return el.value;
    for (const el of root.querySelectorAll("*")) if (el.shadowRoot) { const v = walk(el.shadowRoot); if (v) return v; }
    return null;
  };
  return walk(document);
}"""


def test_a_signed_in_analyst_creates_uses_and_revokes_an_api_token_on_the_page(  # type: ignore[no-untyped-def]
    app: Paperline, serve_dashboard, browser, tmp_path: Path
) -> None:
    import urllib.error
    import urllib.request

    from pipeline.service.tokens import digest

    credentials = tmp_path / "users.json"
    credentials.write_text(json.dumps(PASSWORDS))
    url = serve_dashboard("--basic-auth", str(credentials), "--cookie-secret", "paperline-test-secret")
    api = url.removesuffix("/app") + "/api/v1/jobs"

    def status_with(secret: str) -> int:
        request = urllib.request.Request(api, headers={"Authorization": f"Bearer {secret}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    context, ann = sign_in(browser, url, "ann")
    open_tab(ann, "API tokens")
    ann.get_by_placeholder("e.g. nightly ETL").fill("etl <b>job</b>")
    ann.get_by_role("button", name="Create token").click()
    ann.wait_for_function(FIND_SECRET_JS)
    secret = ann.evaluate(FIND_SECRET_JS)
    assert secret and secret.startswith("pl_")
    [token] = app.api_tokens("ann")
    assert token.name == "etl <b>job</b>" and app.store.token_for(digest(secret)) == token
    ann.get_by_text("etl <b>job</b>").first.wait_for()  # shown as text, not markup
    assert status_with(secret) == 200, "the token works for the API"
    ann.get_by_role("button", name="Revoke").click()
    ann.get_by_text("revoked").first.wait_for()
    assert status_with(secret) == 401, "a revoked token no longer works"
    context.close()
