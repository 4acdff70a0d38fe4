"""Queue health: queued and running counts, whether a worker is alive, and a warning when nothing will run."""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from .formatting import heading, html_pane
from .safe_html import text
from .state import SessionState


class QueueHealth(pn.viewable.Viewer):
    """Reads the feed's health snapshot; the feed, not the session, asks the store for worker heartbeats."""

    state = param.ClassSelector(class_=SessionState)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._summary = html_pane("", sizing_mode="stretch_width", css_classes=["pl-health"])
        # an HTML pane styled as a warning (a Markdown Alert pane costs every page open a Markdown render)
        self._warning = html_pane("", visible=False, sizing_mode="stretch_width", css_classes=["pl-no-worker"])
        self.state.param.watch(self.refresh, "update")
        self.refresh()

    def refresh(self, *_: object) -> None:
        health = self.state.feed.health
        # Worker names are a hover title on the count: plain text, no icon glyph the page font may lack.
        workers = ", ".join(text(w.id) for w in health.workers)
        alive = (
            f'<span class="pl-workers" title="{workers}">{len(health.workers)} alive</span>'
            if health.workers
            else "<b>none alive</b>"
        )
        self._summary.object = (
            f'<div class="pl-meta"><b>{health.queued}</b> queued · <b>{health.running}</b> running<br>'
            f"Workers: {alive}</div>"
        )
        self._warning.object = f'<div class="pl-warning">{text(health.warning)}</div>' if health.warning else ""
        self._warning.visible = bool(health.warning)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(heading("Queue health"), self._summary, self._warning, sizing_mode="stretch_width")
