"""What the UI tests share about the Result's page view."""

from __future__ import annotations

import pytest


def wait_for_page_image(page, media: str = "data:", timeout_ms: int = 60_000) -> None:  # type: ignore[no-untyped-def]
    """Wait for the Result's page view to show its page; when it does not, fail saying what its status line says
    (drawing, or why the page could not be drawn), not only that a locator timed out."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.locator(f".pl-page-image[src^='{media}']").wait_for(timeout=timeout_ms)
    except PlaywrightTimeout:
        status = page.locator(".pl-page-status")
        said = status.first.inner_text() if status.count() else "(no page view on the page)"
        pytest.fail(f"the page image did not show within {timeout_ms / 1000:.0f} s; the page view says: {said!r}")
