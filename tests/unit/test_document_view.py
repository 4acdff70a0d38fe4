"""The Result's page view outside a browser: what its status line says when a page cannot be drawn."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.document_view import NOT_DRAWN, DocumentView
from dashboard.feed import JobFeed
from dashboard.page_layout import read_layout
from dashboard.state import SessionState
from pipeline import Paperline
from tests.docgen import make_text_pdf
from tests.sync_runner import run_queued


def test_a_page_that_fails_to_draw_for_any_reason_says_so_instead_of_drawing_for_ever(
    app: Paperline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = app.submit(make_text_pdf(tmp_path / "report.pdf", 2), profile="markdown")
    run_queued(app)
    layout = read_layout(app.result(job.id, "json"))
    state = SessionState(feed=JobFeed(app))
    view = DocumentView(layout, state=state, job=app.get(job.id))
    assert view.canvas.image.startswith("data:image/") and "drawing" not in view.canvas.status

    def broken(*_args: object, **_kwargs: object) -> None:
        raise OSError("the renderer's pipe broke")

    monkeypatch.setattr(app, "page_image", broken)
    view.show_page(2)
    assert view.canvas.image == "" and view.canvas.status.endswith(NOT_DRAWN), view.canvas.status
