"""The Search tab: ask a question of every indexed document (retrieval profile) and open a hit at its page."""

from __future__ import annotations

from typing import Any

import panel as pn
import param
from param.parameters import NoNone

from pipeline.core.errors import PaperlineError
from pipeline.profiles.retrieval.embedding import unavailable_reason
from pipeline.profiles.retrieval.index import SearchHit
from pipeline.profiles.retrieval.ranking import SearchMode

from .formatting import html_pane
from .safe_html import format_html, render
from .state import SessionState

MAX_SHOWN_CHARS = 700


def hit_html(hit: SearchHit, query: str) -> str:
    """One hit: file, page and section over the passage, the query's words marked; all of it escaped."""
    where = f"page {hit.page}" if hit.page is not None else "no page"
    if len(hit.pages) > 1:
        where = f"pages {hit.pages[0]}-{hit.pages[-1]}"
    passage = hit.text if len(hit.text) <= MAX_SHOWN_CHARS else hit.text[: MAX_SHOWN_CHARS - 1] + "…"
    return render("search_hit.html", hit=hit, where=where, passage=passage, query=query)


class SearchView(pn.viewable.Viewer):
    """A query box and the passages that answer it, best first, among the jobs this user may see."""

    state = param.ClassSelector(class_=SessionState, allow_None=NoNone)
    query = param.String(default="", doc="What the analyst is looking for.")
    mode: param.Selector[str] = param.Selector(
        default=SearchMode.HYBRID.value,
        objects=[m.value for m in SearchMode],
        doc="hybrid: meaning and words; semantic: meaning; keyword: words and quoted phrases.",
    )
    top_k = param.Integer(default=8, bounds=(1, 50))

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.hits: list[SearchHit] = []
        self._box = pn.widgets.TextInput.from_param(
            self.param.query,
            name="Search your documents",
            placeholder="e.g. when does the warranty expire?",
            sizing_mode="stretch_width",
        )
        self._summary = html_pane("", sizing_mode="stretch_width", css_classes=["pl-search-summary"])
        self._results = pn.Column(sizing_mode="stretch_width", css_classes=["pl-search-results"])
        reason = unavailable_reason()
        if reason:  # keyword search needs no model: it stays, alone
            self.param.mode.objects = [SearchMode.KEYWORD.value]
            self.mode = SearchMode.KEYWORD.value
            self._summary.object = format_html('<div class="pl-error">{} Searching by words only.</div>', reason)
        self._mode = pn.widgets.RadioButtonGroup.from_param(self.param.mode, name="Match", button_type="light")

    @param.depends("query", "mode", watch=True)
    def run(self) -> None:
        query = self.query.strip()
        if not query:
            self.hits, self._results.objects, self._summary.object = [], [], ""
            return
        try:
            self.hits = self.state.app.search(query, top_k=self.top_k, user=self.state.owner_filter, mode=self.mode)
        except PaperlineError as exc:
            self._summary.object = format_html('<div class="pl-error">{}</div>', exc)
            return
        if not self.hits:
            self._summary.object = (
                '<div class="pl-meta">No passages yet: documents are searchable once extracted with the '
                "<b>retrieval</b> profile.</div>"
            )
            self._results.objects = []
            return
        self._summary.object = f'<div class="pl-meta">{len(self.hits)} passages, best first</div>'
        self._results.objects = [self._row(hit, query) for hit in self.hits]

    def _row(self, hit: SearchHit, query: str) -> pn.viewable.Viewable:
        label = f"Open at page {hit.page}" if hit.page is not None else "Open result"
        button = pn.widgets.Button(label=label, width=150, color="primary")
        button.on_click(lambda _e: self.show_hit(hit))
        return pn.Row(html_pane(hit_html(hit, query), sizing_mode="stretch_width"), button, sizing_mode="stretch_width")

    def show_hit(self, hit: SearchHit) -> None:
        """Show the hit's job in the Result tab, at the hit's page, with the passage's elements marked."""
        self.state.open_result(hit.job_id, hit.page or 0, hit.text)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            pn.Row(self._box, self._mode, sizing_mode="stretch_width"),
            self._summary,
            self._results,
            sizing_mode="stretch_width",
        )
