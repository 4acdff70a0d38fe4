"""Tabs that build a view the first time it is shown, and tell the session which tab is on screen.

A page opens with only the visible tab built (its Python objects and its Bokeh models), so opening the dashboard
costs the server what one tab costs, not four. A view built earlier keeps receiving the feed's updates while
hidden (it is current when shown again); a view whose updates are expensive (Analytics) reads ``state.tab`` and
defers its work until it is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import panel as pn
import param
from param.parameters import NoNone

from .state import SessionState

#: a tab's view: a Panel component or a Viewer (which Panel renders through its ``__panel__``)
View = pn.viewable.Viewable | pn.viewable.Viewer
ViewFactory = Callable[[], View]


class LazyTabs(pn.viewable.Viewer):
    """``pn.Tabs(dynamic=True)`` over placeholders that are filled by their factory on first show."""

    state = param.ClassSelector(class_=SessionState, allow_None=NoNone)

    def __init__(self, tabs: list[tuple[str, ViewFactory]], *, first: str = "", **params: Any) -> None:
        """``first``: the title of the tab to open with (the first tab when empty); no other tab is built."""
        super().__init__(**params)
        self._factories: dict[str, ViewFactory] = {}
        self._holders: dict[str, pn.Column] = {}
        #: views built so far, by tab title
        self.views: dict[str, View] = {}
        self.tabs = pn.Tabs(dynamic=True, sizing_mode="stretch_width")
        for title, factory in tabs:
            self.add(title, factory)
        if first:
            self.tabs.active = list(self._holders).index(first)
        self.tabs.param.watch(self._on_active, "active")
        self._show(self.tabs.active)

    def add(self, title: str, factory: ViewFactory) -> None:
        self._factories[title] = factory
        self._holders[title] = pn.Column(sizing_mode="stretch_width")
        self.tabs.append((title, self._holders[title]))

    def select(self, title: str) -> None:
        """Show the tab called ``title`` (building it if needed)."""
        self.tabs.active = list(self._holders).index(title)

    def view(self, title: str) -> View:
        """The tab's view, built now if it has not been shown yet."""
        if title not in self.views:
            self.views[title] = view = self._factories[title]()
            self._holders[title].objects = [view]
        return self.views[title]

    def _show(self, index: int) -> None:
        title = list(self._holders)[index]
        self.view(title)
        self.state.tab = title

    def _on_active(self, event: param.parameterized.Event) -> None:
        self._show(event.new)

    def __panel__(self) -> pn.viewable.Viewable:
        return self.tabs
