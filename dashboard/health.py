"""Queue health: queued and running counts, whether a worker is alive, and a warning when nothing will run."""

from __future__ import annotations

from typing import Any

import panel as pn
import param
from param.parameters import NoNone

from .formatting import heading, html_pane
from .safe_html import format_html, render
from .state import SessionState


class QueueHealth(pn.viewable.Viewer):
    """Reads the feed's health snapshot; the feed, not the session, asks the store for worker heartbeats."""

    state = param.ClassSelector(class_=SessionState, allow_None=NoNone)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._summary = html_pane("", sizing_mode="stretch_width", css_classes=["pl-health"])
        # an HTML pane styled as a warning (a Markdown Alert pane costs every page open a Markdown render)
        self._warning = html_pane("", visible=False, sizing_mode="stretch_width", css_classes=["pl-no-worker"])
        self.state.param.watch(self.refresh, "update")
        self.refresh()

    def refresh(self, *_: object) -> None:
        health = self.state.feed.health
        self._summary.object = render("queue_health.html", health=health)
        self._warning.object = format_html('<div class="pl-warning">{}</div>', health.warning) if health.warning else ""
        self._warning.visible = bool(health.warning)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(heading("Queue health"), self._summary, self._warning, sizing_mode="stretch_width")
