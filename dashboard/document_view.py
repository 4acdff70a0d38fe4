"""The Result tab's document view: the extracted document beside the page it came from, with the result's boxes
drawn on the page image, so an analyst checks a heading or a table against the page without opening the PDF.

Clicking an element (a heading, a paragraph, a table or one of its cells) lights up its region on the page;
clicking a region scrolls the document to its element (both in the browser, ``assets/document_view.js``). Choosing
an element on another page, or turning the page, brings that page's image: drawn on a thread (in a subprocess,
``Paperline.page_image``), never on the event loop every session shares. OCR'd pages say so, and elements OCR was
unsure of are marked on the page and in the text.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import panel as pn
import param
from panel.custom import JSComponent
from panel.io.state import set_curdoc
from param.parameters import NoNone

from pipeline import Job
from pipeline.core.errors import PaperlineError
from pipeline.documents.page_images import PageImage

from .page_layout import DocumentLayout, boxes, document_html, marked_elements, window
from .safe_html import format_html
from .state import SessionState

log = logging.getLogger("paperline.dashboard")
#: what the view says of a page whose drawing failed for a reason no error of Paperline's names
NOT_DRAWN = "the page could not be drawn (the server's log says why)"

#: pixels of the page image sent to the browser: sharp on a high-density screen at the width the view has
IMAGE_WIDTH = 1000
IMAGE_FORMAT = "webp"

DOCUMENT_CSS = """
:host { display:block; width:100%; }
.pl-docview { display:grid; grid-template-columns:minmax(0, 1fr) minmax(0, 1fr); gap:16px; align-items:start;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
.pl-doc { max-height:80vh; overflow:auto; padding:0 8px 0 2px; font-size:14px; line-height:1.45; color:#102a43; }
.pl-page-side { position:sticky; top:0; }
.pl-page-status { font-size:12px; color:#52606d; min-height:18px; margin-bottom:4px; }
.pl-page-figure { position:relative; border:1px solid #d9e2ec; background:#f5f7fa; max-height:80vh;
  overflow:auto; }
.pl-page-figure.pl-page-missing { min-height:200px; }
.pl-page-image { display:block; width:100%; height:auto; }
.pl-box-layer { position:absolute; inset:0; }
.pl-box { position:absolute; box-sizing:border-box; border:1px solid rgba(47,128,237,.55);
  background:rgba(47,128,237,.06); cursor:pointer; }
.pl-box:hover { background:rgba(47,128,237,.16); }
.pl-box-table { border-color:rgba(39,174,96,.8); background:rgba(39,174,96,.06); }
.pl-box-title, .pl-box-heading { border-color:rgba(155,81,224,.8); }
.pl-box-furniture, .pl-box-figure { border-style:dashed; border-color:rgba(130,130,130,.6); background:transparent; }
.pl-box-low { border:2px dashed #e67e22; background:rgba(230,126,34,.12); }
.pl-box.pl-marked { background:rgba(255,214,0,.35); border:2px solid #d4a000; }
.pl-box.pl-chosen { background:rgba(235,87,87,.18); border:3px solid #eb5757; z-index:2; }
.pl-el { cursor:pointer; border-radius:3px; margin:4px 0; padding:1px 3px; }
.pl-el:hover { background:#f0f4f8; }
.pl-el.pl-marked { background:#fff1a8; }
.pl-el.pl-chosen { outline:2px solid #eb5757; background:#fdecec; }
.pl-el.pl-low { border-left:3px dashed #e67e22; padding-left:6px; }
.pl-el-furniture, .pl-el-figure { color:#829ab1; font-size:12px; }
.pl-depth-1 { margin-left:1.2em; } .pl-depth-2 { margin-left:2.4em; } .pl-depth-3 { margin-left:3.6em; }
.pl-depth-4, .pl-depth-5, .pl-depth-6 { margin-left:4.8em; }
.pl-text { white-space:pre-wrap; font-family:inherit; margin:4px 0; }
.pl-page-marker { display:flex; gap:6px; align-items:center; margin:14px 0 6px; padding-top:4px;
  border-top:1px solid #d9e2ec; font-size:11px; font-weight:600; color:#829ab1; text-transform:uppercase;
  letter-spacing:.04em; }
.pl-badge { font-size:10px; font-weight:600; text-transform:none; letter-spacing:0; padding:1px 6px;
  border-radius:8px; background:#e4e7eb; color:#3e4c59; }
.pl-badge-ocr { background:#e3f0ff; color:#1f5fbf; }
.pl-badge-low { background:#ffe8d1; color:#a34d00; }
.pl-table-wrap { overflow:auto; max-height:60vh; margin:6px 0 10px; border:1px solid #bcccdc; }
.pl-table { border-collapse:collapse; font-size:13px; min-width:100%; margin:0; padding:0; }
.pl-table th, .pl-table td { border:1px solid #d9e2ec; padding:3px 8px; vertical-align:top; text-align:left; }
.pl-table thead th { position:sticky; top:0; background:#f0f4f8; font-weight:600; }
.pl-table thead tr:nth-child(2) th { top:1.9em; } .pl-table thead tr:nth-child(3) th { top:3.8em; }
.pl-table td.pl-num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
.pl-table .pl-cell-chosen { outline:2px solid #eb5757; background:#fdecec; }
mark.pl-cited { background:#fff1a8; }
.pl-meta { font-size:12px; color:#52606d; }
.pl-note { color:#8a6d00; font-size:12px; }
@media (max-width: 900px) { .pl-docview { grid-template-columns:1fr; } .pl-page-side { position:static; } }
"""


class DocumentCanvas(JSComponent):
    """The browser's half: the document, the page image and its boxes, and what the analyst chose."""

    content = param.String(default="", doc="The shown pages' blocks as HTML (escaped by its template).")
    image = param.String(default="", doc="The page image as a data: URL ('' while it is drawn).")
    image_label = param.String(default="", doc="The image's alternative text.")
    status = param.String(default="", doc="A line above the image: the page, how it was read, or why it is missing.")
    boxes = param.List(default=[], doc="The page's boxes: el, kind, left, top, width, height (%), low, label.")
    page = param.Integer(default=1, doc="The page shown.")
    selected = param.Integer(default=0, doc="The element chosen (0: none), by either side.")
    marked = param.List(default=[], doc="Elements a passage covers (a search hit, a cited text).")
    reveal = param.Integer(default=0, doc="Counts requests to bring the view and ``reveal_el`` on screen.")
    reveal_el = param.Integer(default=0, doc="The element to scroll to on reveal (0: the page's first).")

    # Served as a file by Panel's component route (the browser caches it; no module text in every page)
    _bundle = Path(__file__).parent / "assets" / "document_view.js"
    _stylesheets = [DOCUMENT_CSS]


class DocumentView(pn.viewable.Viewer):
    """One job's document and pages. ``show_page`` turns to a page (with a passage marked, brought on screen)."""

    state = param.ClassSelector(class_=SessionState, allow_None=NoNone)
    job = param.ClassSelector(class_=Job, allow_None=NoNone)
    page = param.Integer(default=1, bounds=(1, None), doc="The page on show.")
    previous_page = param.Event(label="◀ Previous")
    next_page = param.Event(label="Next ▶")

    def __init__(self, layout: DocumentLayout, **params: Any) -> None:
        super().__init__(**params)
        self.layout = layout
        self.pages = max(self.job.pages, max((p.number for p in layout.pages), default=1))
        self.param.page.bounds = (1, self.pages)
        self.floor = self.state.app.settings.ocr_confidence
        self.canvas = DocumentCanvas(sizing_mode="stretch_width", css_classes=["pl-document-view"])
        self._shown: tuple[int, ...] = ()  # the pages whose blocks the document holds
        self._mark = ""
        self._drawing = 0  # the latest page asked for: an older drawing that ends later is dropped
        self._previous = pn.widgets.Button.from_param(self.param.previous_page, width=100)
        self._next = pn.widgets.Button.from_param(self.param.next_page, width=90)
        self._number = pn.widgets.IntInput.from_param(self.param.page, name="", width=80, margin=(5, 4))
        self._of = pn.pane.HTML(format_html('<span class="pl-meta">of {}</span>', self.pages), margin=(12, 4))
        self.canvas.param.watch(self._on_selected, "selected")
        self.show_page(self.page)

    def show_page(self, page: int, *, mark: str = "", reveal: bool = False) -> None:
        """Turn to ``page``, mark the passage ``mark`` on it, and (``reveal``) bring it on screen."""
        page = max(1, min(self.pages, page))
        self._mark = mark
        with param.parameterized.discard_events(self):
            self.page = page
        self._fill_document(page)
        info = self.layout.page(page)
        marked = marked_elements(info, mark) if info is not None and mark else []
        self.canvas.param.update(marked=marked, page=page)
        if reveal:
            first = marked[0] if marked else 0
            self.canvas.param.update(reveal_el=first, reveal=self.canvas.reveal + 1)
        if page != self._drawing:  # (drawn, or being drawn, already)
            self._draw(page)

    def _fill_document(self, page: int) -> None:
        shown = window(self.layout, page)
        numbers = tuple(p.number for p in shown)
        if numbers == self._shown and not self._mark:
            return
        self._shown = numbers
        self.canvas.content = document_html(
            shown, floor=self.floor, total_pages=len(self.layout.pages), mark_page=page, mark=self._mark
        )

    def _draw(self, page: int) -> None:
        """Bring the page's image and boxes: at once outside a server; on a thread in one."""
        self._drawing = page
        info = self.layout.page(page)
        how = {"ocr": " · read by OCR", "claude": " · read by Claude", "empty": " · no text found"}
        method = how.get(info.method, "") if info is not None else ""
        low = sum(1 for b in info.blocks if b.low(self.floor)) if info is not None else 0
        unsure = f" · {low} region{'s' if low != 1 else ''} OCR was unsure of (dashed)" if low else ""
        line = f"Page {page} of {self.pages}{method}{unsure}"
        self.canvas.param.update(status=f"{line} · drawing the page…", image="", boxes=[])

        def drawn(outcome: PageImage | PaperlineError) -> None:
            if self._drawing != page:
                return  # the analyst turned on meanwhile
            if isinstance(outcome, PaperlineError):
                self._drawing = 0  # asking again tries again
                self.canvas.param.update(status=f"{line} · {outcome}", image="", boxes=[])
                return
            encoded = base64.b64encode(outcome.data).decode("ascii")
            found = boxes(info, outcome.page_width, outcome.page_height, floor=self.floor) if info else []
            self.canvas.param.update(
                image=f"data:{outcome.media_type};base64,{encoded}",
                image_label=f"Page {page} of {self.job.filename}",
                boxes=found,
                status=line + ("" if found or not self.layout.structured else " · no regions on this page"),
            )

        job_id, scope = self.job.id, self.state.owner_filter

        def draw() -> PageImage | PaperlineError:
            try:
                return self.state.app.page_image(job_id, page, width=IMAGE_WIDTH, fmt=IMAGE_FORMAT, user=scope)
            except PaperlineError as exc:
                return exc
            except Exception:  # (on a thread: anything else would end it silently, the view "drawing" for ever)
                log.exception("could not draw page %s of job %s", page, job_id)
                return PaperlineError(NOT_DRAWN)

        _off_the_loop(draw, drawn)

    def _on_selected(self, event: param.parameterized.Event) -> None:
        """An element was chosen in the browser: turn to its page if it is on another one."""
        block = self.layout.block(event.new)
        if block is not None and block.page != self.page:
            self.show_page(block.page)

    @param.depends("page", watch=True)
    def _on_page(self) -> None:
        if self.page != self.canvas.page:
            self.show_page(self.page)

    @param.depends("previous_page", watch=True)
    def _on_previous(self) -> None:
        if self.page > 1:
            self.page -= 1

    @param.depends("next_page", watch=True)
    def _on_next(self) -> None:
        if self.page < self.pages:
            self.page += 1

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            pn.Row(self._previous, self._number, self._of, self._next, css_classes=["pl-page-nav"]),
            self.canvas,
            sizing_mode="stretch_width",
        )


def _off_the_loop(work: Callable[[], Any], then: Callable[[Any], None]) -> None:
    """``then(work())``: here outside a server (a test, a notebook cell); in one, ``work`` on a thread and ``then``
    back on the session's event loop."""
    doc = pn.state.curdoc
    if doc is None or doc.session_context is None:
        then(work())
        return

    def run() -> None:
        outcome = work()
        with set_curdoc(doc):
            pn.state.execute(lambda: then(outcome), schedule=True)

    threading.Thread(target=run, name="paperline-page", daemon=True).start()
