"""The real `panel serve app.py` with a real worker, driven by headless Debian Chromium through Playwright."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("PAPERLINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One Chromium per test module, never per session: while Playwright's sync API is open it holds an asyncio
    loop running on the main thread, and a later module on the same xdist process (``asyncio.run``, another
    ``sync_playwright``) would fail with "cannot be called from a running event loop"."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: 'make test' installs Debian's chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def dashboard(serve_dashboard: Callable[..., str]) -> str:
    """The dashboard without authentication: one local analyst."""
    return serve_dashboard()


@pytest.fixture
def page(browser, tmp_path: Path) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """Where a test keeps what it saw (screenshots, request logs) after it ends: ``PAPERLINE_TEST_ARTIFACTS`` or
    ``tmp/artifacts`` in this checkout, one folder per test."""
    root = Path(os.environ.get("PAPERLINE_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / "tmp" / "artifacts")
    folder = root / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder
