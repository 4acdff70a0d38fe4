"""The Ask tab: a question answered from the documents this user may see, streamed in, each source a chip that opens
the Result at its page with the cited passage marked."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable
from typing import Any

import panel as pn
import param
from panel.io.state import set_curdoc
from param.parameters import NoNone

from pipeline.core.errors import PaperlineError
from pipeline.profiles.retrieval.embedding import unavailable_reason
from pipeline.service.ask import Answer, AskEvent, Citation, distinct, page_label

from .formatting import html_pane
from .page_layout import split_mark
from .safe_html import format_html, render
from .state import SessionState

MAX_CHIP_CHARS = 40


def answer_html(text: str, answer: Answer | None = None) -> str:
    """The answer so far (``text``), and once it is whole its method, sources and notes; all of it escaped."""
    cost = ""
    if answer is not None and answer.method == "model" and (answer.input_tokens or answer.output_tokens):
        cost = f"{answer.model}: {answer.input_tokens} tokens in, {answer.output_tokens} out, ~${answer.cost_usd:.4f}"
    return render(
        "ask_answer.html",
        text=text,
        method=answer.method if answer is not None else "",
        citations=distinct(answer.citations) if answer is not None else [],
        notes=answer.notes if answer is not None else [],
        cost=cost,
        where=lambda citation: page_label(citation.pages),
    )


def chip_label(citation: Citation) -> str:
    """ "[2] report.pdf, p. 4": a button's label, which Bokeh shows as text."""
    name = citation.filename
    name = name if len(name) <= MAX_CHIP_CHARS else name[: MAX_CHIP_CHARS - 1] + "…"
    return f"[{citation.number}] {name}, {page_label(citation.pages)}"


class AskView(pn.viewable.Viewer):
    """A question box; the answer streams in below it, then one chip per source."""

    state = param.ClassSelector(class_=SessionState, allow_None=NoNone)
    question = param.String(default="", doc="What the analyst asks of their documents.")
    no_model = param.Boolean(default=False, label="Extractive answer only (no model)")
    ask = param.Event(label="Ask")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.answer: Answer | None = None
        self._text = ""
        self._box = pn.widgets.TextAreaInput.from_param(
            self.param.question,
            name="Ask your documents",
            placeholder="e.g. which contracts renew in 2027, and at what price?",
            auto_grow=True,
            max_rows=6,
            sizing_mode="stretch_width",
        )
        self._button = pn.widgets.Button.from_param(self.param.ask, color="primary", width=120)
        self._no_model = pn.widgets.Checkbox.from_param(self.param.no_model)
        self._answer = html_pane("", sizing_mode="stretch_width", css_classes=["pl-ask-answer"])
        self._chips = pn.FlexBox(sizing_mode="stretch_width", css_classes=["pl-ask-chips"])
        reason = unavailable_reason()
        if reason:
            self._answer.object = format_html('<div class="pl-error">{}</div>', reason)
            self._button.disabled = True

    @param.depends("ask", watch=True)
    def _on_ask(self) -> None:
        """Answer on a thread, showing each piece as it comes: the server's event loop, shared by every session,
        never waits for the model. Outside a server (tests, a notebook cell) the answer is made here."""
        question = self.question.strip()
        if not question or self._button.loading:
            return
        self.answer, self._text, self._chips.objects = None, "", []
        self._answer.object = '<div class="pl-meta">Looking for passages…</div>'
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None:
            self._follow(question, self.no_model, lambda show: show())
            return
        self._button.loading = True

        def schedule(show: Callable[[], None]) -> None:
            with set_curdoc(doc):
                pn.state.execute(show, schedule=True)

        args = (question, self.no_model, schedule)
        threading.Thread(target=self._follow, args=args, name="paperline-ask", daemon=True).start()

    def _follow(self, question: str, no_model: bool, schedule: Callable[[Callable[[], None]], None]) -> None:
        """Ask, and hand each step to ``schedule`` to be shown; a refusal (the budget, a question too long) or a
        model that fails is shown as the error it is."""
        try:
            for event in self.state.app.ask_stream(question, user=self.state.user, no_model=no_model):
                schedule(functools.partial(self.take, event))
        except PaperlineError as exc:
            schedule(functools.partial(self._failed, exc))
        finally:
            schedule(self._done)

    def take(self, event: AskEvent) -> None:
        """Show one step of the answer: text as it comes; the sources and their chips once it is whole."""
        if event.kind == "text":
            self._text += event.text
            self._answer.object = answer_html(self._text)
        elif event.kind == "end" and event.answer is not None:
            self.answer = event.answer
            self._answer.object = answer_html(event.answer.text, event.answer)
            self._chips.objects = [self._chip(citation) for citation in distinct(event.answer.citations)]

    def _chip(self, citation: Citation) -> pn.widgets.Button:
        chip = pn.widgets.Button(label=chip_label(citation), color="light", css_classes=["pl-chip"])
        chip.on_click(lambda _event: self.open_citation(citation))
        return chip

    def open_citation(self, citation: Citation) -> None:
        """Show the cited job in the Result tab, at the page that holds the cited text (of the passage's pages, the
        first with the most of it) with that text marked."""
        self.state.open_result(citation.job_id, self.cited_page(citation), citation.cited_text)

    def cited_page(self, citation: Citation) -> int:
        try:
            result = self.state.app.result(citation.job_id, "json", user=self.state.owner_filter)
        except PaperlineError:
            return citation.page or 0
        pages = [p for p in json.loads(result).get("pages", []) if p.get("page") in citation.pages]
        marked = {p["page"]: len(split_mark(p.get("text", ""), citation.cited_text)[1]) for p in pages}
        best = max(marked.values(), default=0)
        return next((page for page, size in marked.items() if size == best and size), citation.page or 0)

    def _failed(self, exc: PaperlineError) -> None:
        self._answer.object = answer_html(self._text) + format_html('<div class="pl-error">{}</div>', exc)

    def _done(self) -> None:
        self._button.loading = False

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            self._box, pn.Row(self._button, self._no_model), self._answer, self._chips, sizing_mode="stretch_width"
        )
