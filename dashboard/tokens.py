"""API tokens on the page: a signed-in analyst creates, sees and revokes their own personal tokens."""

from __future__ import annotations

import time
from typing import Any

import panel as pn

from pipeline.core.errors import PaperlineError
from pipeline.service.tokens import parse_expiry

from .safe_html import format_html, render, text
from .state import SessionState

#: how long a new token works: label -> duration for ``parse_expiry``
EXPIRY_CHOICES = {"never": "never", "1 day": "1d", "7 days": "7d", "30 days": "30d", "90 days": "90d", "1 year": "1y"}


class ApiTokensView(pn.viewable.Viewer):
    """Create a token (its secret shown once, here only), list one's tokens, revoke one."""

    def __init__(self, state: SessionState, **params: Any) -> None:
        super().__init__(**params)
        self.state = state
        self._name = pn.widgets.TextInput(name="What is it for?", placeholder="e.g. nightly ETL", width=260)
        self._expiry = pn.widgets.Select(name="Expires after", options=EXPIRY_CHOICES, value="30d", width=130)
        self._create = pn.widgets.Button(label="Create token", color="primary", width=130)
        self._create.on_click(self._on_create)
        self._secret = pn.widgets.TextInput(name="Your new token (copy it now: it is not shown again)",
                                            disabled=True, visible=False, sizing_mode="stretch_width")  # fmt: skip
        self._list = pn.pane.HTML("", sizing_mode="stretch_width")
        self._choice = pn.widgets.Select(name="Token", options=[], width=260)
        self._revoke = pn.widgets.Button(label="Revoke", color="danger", width=100)
        self._revoke.on_click(self._on_revoke)
        self._refresh()

    def _refresh(self) -> None:
        mine = self.state.app.api_tokens(self.state.user)
        now = time.time()
        self._list.object = render("api_tokens.html", tokens=mine, now=now, when=_when)
        live = {f"{t.id} {t.name}".strip(): t.id for t in mine if not t.revoked_at and not t.expired(now)}
        self._choice.options = live
        self._revoke.disabled = not live

    def _on_create(self, _event: object) -> None:
        try:
            token, secret = self.state.app.create_api_token(
                self.state.user, self._name.value or "", expires_in_s=parse_expiry(self._expiry.value)
            )
        except PaperlineError as exc:
            if pn.state.notifications is not None:
                pn.state.notifications.error(text(exc), duration=8000)
            return
        self._secret.value, self._secret.visible = secret, True
        self._name.value = ""
        self._refresh()
        if pn.state.notifications is not None:
            pn.state.notifications.info(format_html("Token {} created: copy it now.", token.id))

    def _on_revoke(self, _event: object) -> None:
        if not self._choice.value:
            return
        try:
            self.state.app.revoke_api_token(self._choice.value, user=self.state.user)
        except PaperlineError as exc:
            if pn.state.notifications is not None:
                pn.state.notifications.error(text(exc), duration=8000)
        self._secret.visible = False
        self._refresh()

    def __panel__(self) -> pn.viewable.Viewable:
        intro = pn.pane.HTML(
            "<p>Programs use the HTTP API (<code>/api/v1</code>) with a personal token: "
            "<code>Authorization: Bearer pl_...</code>. A token acts as you until it expires; revoke it when it "
            "is no longer needed.</p>",
            sizing_mode="stretch_width",
        )
        return pn.Column(
            intro,
            pn.Row(self._name, self._expiry, self._create),
            self._secret,
            self._list,
            pn.Row(self._choice, self._revoke),
            sizing_mode="stretch_width",
        )


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))
