"""Webhooks on the page, beside API tokens: the analyst subscribes a receiver (its secret shown once), sees each
subscription's state and delivery log, sends a test, removes one. A receiver's answers are shown as text only
(the template escapes them)."""

from __future__ import annotations

import time
from typing import Any

import panel as pn

from pipeline.core.errors import PaperlineError
from pipeline.core.models import SUBSCRIBABLE_EVENTS

from .safe_html import format_html, render, text
from .state import SessionState


class WebhooksView(pn.viewable.Viewer):
    """Add a subscription, list them with their state, and for the chosen one: its log, a test, removal."""

    def __init__(self, state: SessionState, **params: Any) -> None:
        super().__init__(**params)
        self.state = state
        self._url = pn.widgets.TextInput(name="Receiver URL", placeholder="https://example.com/hooks", width=360)
        self._events = pn.widgets.MultiChoice(
            name="Events", options=list(SUBSCRIBABLE_EVENTS), value=["job.completed", "job.failed"], width=360
        )
        self._add = pn.widgets.Button(label="Add webhook", color="primary", width=130)
        self._add.on_click(self._on_add)
        self._secret = pn.widgets.TextInput(name="Its signing secret (copy it now: it is not shown again)",
                                            disabled=True, visible=False, sizing_mode="stretch_width")  # fmt: skip
        self._choice = pn.widgets.Select(name="Webhook", options=[], width=260)
        self._choice.param.watch(lambda _e: self._refresh(), "value")
        self._test = pn.widgets.Button(label="Send test", width=100)
        self._test.on_click(self._on_test)
        self._remove = pn.widgets.Button(label="Remove", color="danger", width=100)
        self._remove.on_click(self._on_remove)
        self._reload = pn.widgets.Button(label="Refresh", width=90)
        self._reload.on_click(lambda _e: self._refresh())
        self._list = pn.pane.HTML("", sizing_mode="stretch_width")
        self._refresh()

    def _refresh(self) -> None:
        mine = self.state.app.webhooks(self.state.user)
        options = {f"{s.id} {s.url}": s.id for s in mine}
        if self._choice.options != options:
            self._choice.options = options
        chosen = self._choice.value if self._choice.value in options.values() else None
        log = self.state.app.webhook_log(chosen, user=self.state.user, limit=20) if chosen else None
        self._list.object = render("webhooks.html", subscriptions=mine, log=log, chosen=chosen, when=_when)
        self._test.disabled = self._remove.disabled = chosen is None

    def _notify_error(self, exc: Exception) -> None:
        if pn.state.notifications is not None:
            pn.state.notifications.error(text(exc), duration=8000)

    def _on_add(self, _event: object) -> None:
        try:
            subscription, secret = self.state.app.add_webhook(
                self.state.user, self._url.value or "", self._events.value
            )
        except PaperlineError as exc:
            self._notify_error(exc)
            return
        self._secret.value, self._secret.visible = secret, True
        self._url.value = ""
        self._refresh()
        self._choice.value = subscription.id
        if pn.state.notifications is not None:
            pn.state.notifications.info(format_html("Webhook {} added: copy its secret now.", subscription.id))

    def _on_test(self, _event: object) -> None:
        try:
            self.state.app.test_webhook(self._choice.value, user=self.state.user)
        except PaperlineError as exc:
            self._notify_error(exc)
        self._refresh()

    def _on_remove(self, _event: object) -> None:
        try:
            self.state.app.remove_webhook(self._choice.value, user=self.state.user)
        except PaperlineError as exc:
            self._notify_error(exc)
        self._secret.visible = False
        self._refresh()

    def __panel__(self) -> pn.viewable.Viewable:
        intro = pn.pane.HTML(
            "<p>Paperline POSTs a signed message (Standard Webhooks: <code>webhook-id</code>, "
            "<code>webhook-timestamp</code>, <code>webhook-signature</code>) to your receiver when a job ends. "
            "Verify it with any Standard Webhooks library and the secret shown when you add it.</p>",
            sizing_mode="stretch_width",
        )
        return pn.Column(
            intro,
            pn.Row(self._url, self._events, self._add),
            self._secret,
            pn.Row(self._choice, self._test, self._remove, self._reload),
            self._list,
            sizing_mode="stretch_width",
        )


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))
