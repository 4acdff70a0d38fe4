"""A sign-in with a reserved name (``local``, ``None``) gets a plain refusal and no data, however the password
file names it: the all-seeing local analyst exists only where no one signs in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline import Paperline
from tests.docgen import make_text_pdf

pytestmark = pytest.mark.ui

PASSWORDS = {"local": "pw-local-1", "None": "pw-none-2", "ann": "pw-ann-3"}


def test_reserved_names_are_refused_on_the_page_and_see_no_job(  # type: ignore[no-untyped-def]
    app: Paperline, serve_dashboard, browser, tmp_path: Path
) -> None:
    app.submit(make_text_pdf(tmp_path / "ann-board-minutes.pdf", 1), "ann-board-minutes.pdf", user="ann")
    credentials = tmp_path / "users.json"
    credentials.write_text(json.dumps(PASSWORDS))
    url = serve_dashboard("--basic-auth", str(credentials), "--cookie-secret", "paperline-test-secret")
    for name in ("local", "None", "ann"):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(url)
        page.locator("input[name=username]").fill(name)
        page.locator("input[name=password]").fill(PASSWORDS[name])
        page.locator("button[type=submit]").click()
        if name == "ann":  # the same server lets a real name in, and she sees her job
            page.get_by_text("Signed in as ann").wait_for()
            page.get_by_text("ann-board-minutes.pdf").first.wait_for()
            page.get_by_text("Queue health").first.wait_for()  # what the refused pages below must not show
        else:
            refusal = f"This user name is reserved: no one can sign in or use an API token as {name!r}"
            page.get_by_text(refusal).wait_for()
            page.get_by_text("Log out").wait_for()
            for absent in ("ann-board-minutes", "Signed in as", "History", "Queue health"):
                assert page.get_by_text(absent).count() == 0, absent
            assert page.locator("input[type=file]").count() == 0, "no upload either"
        context.close()
