"""Results: the selected job's result rendered for reading, image before/after, a download per format, and the
document's tables listed with a CSV download each."""

from __future__ import annotations

import io
import json
from functools import partial
from typing import Any

import pandas as pd
import panel as pn
import param
from param.parameters import NoNone

from pipeline import Job
from pipeline.core.errors import PaperlineError
from pipeline.files.jobfiles import FORMAT_FILES
from pipeline.profiles.registry import find_profile

from .document_view import DocumentView
from .formatting import has_result, html_pane, size
from .page_layout import read_layout
from .safe_html import format_html, markdown_html, render
from .state import SessionState

# Longer results are shown cut, with the full text in the downloads.
MAX_SHOWN_CHARS = 200_000
#: a table in the list is named by the first cells of its header (or first row), cut to this many characters
TABLE_HEAD_CHARS = 80
BROWSER_IMAGES = {"png": pn.pane.PNG, "jpg": pn.pane.JPG, "webp": pn.pane.WebP}
#: main formats whose result is a document, shown beside its pages (``DocumentView``)
DOCUMENT_FORMATS = ("markdown", "text")


class ResultViewer(pn.viewable.Viewer):
    """Shows ``state.selected_job``: its result in the profile's main format, and downloads of every format."""

    state = param.ClassSelector(class_=SessionState, allow_None=NoNone)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._picker = pn.widgets.Select(label="Job", options=self._options(), width=420)
        self._picker.param.watch(self._on_pick, "value")
        self._body = pn.Column(sizing_mode="stretch_width", css_classes=["pl-result"])
        self._downloads = pn.Row(css_classes=["pl-downloads"])
        self.state.param.watch(self._on_selected, "selected_job")
        self.state.param.watch(lambda *_e: self._render(self.state.selected_job), ["selected_page", "selected_mark"])
        self.state.param.watch(self._on_update, "update")
        self._document: DocumentView | None = None
        self._render(self.state.selected_job)

    def _options(self) -> dict[str, str]:
        jobs = [j for j in self.state.jobs() if has_result(j)]
        options = {"(choose a finished job)": ""}
        options.update({f"{j.filename} · {j.status.value} · {j.id}": j.id for j in jobs})
        return options

    def _on_update(self, event: param.parameterized.Event) -> None:
        if any(j.is_final for j in event.new.jobs):
            current = self._picker.value
            self._picker.options = self._options()
            self._picker.value = current if current in self._picker.options.values() else ""

    def _on_pick(self, event: param.parameterized.Event) -> None:
        if event.new and event.new != self.state.selected_job:
            self.state.open_result(event.new)

    def _on_selected(self, event: param.parameterized.Event) -> None:
        self._document = None  # another job: built afresh
        self._render(event.new)

    def _render(self, job_id: str) -> None:
        if not job_id:
            self._body.objects = [html_pane('<div class="pl-meta">Select a finished job to see its result.</div>')]
            self._downloads.objects = []
            self._document = None
            return
        if self._document is not None and self._document.job.id == job_id:
            # the same job at another page (a search hit, a citation): turn to it, nothing else changes
            self._document.show_page(self.state.selected_page or 1, mark=self.state.selected_mark, reveal=True)
            return
        try:
            job = self.state.app.get(job_id, user=self.state.owner_filter)
            formats = self.state.app.result_formats(job_id, user=self.state.owner_filter)
        except PaperlineError as exc:
            self._body.objects = [html_pane(format_html('<div class="pl-error">{}</div>', exc))]
            self._downloads.objects = []
            self._document = None
            return
        if job.id not in self._picker.options.values():
            self._picker.options = {**self._picker.options, f"{job.filename} · {job.status.value} · {job.id}": job.id}
        self._picker.value = job.id
        parts: list[pn.viewable.Viewable | pn.viewable.Viewer] = [
            html_pane(result_header(job), sizing_mode="stretch_width")
        ]
        if job.kind == "image":
            parts.append(self._images(job))
        if "tables" in formats:
            parts.append(self._tables(job))
        self._document = self._document_view(job, formats)
        if self._document is not None:
            parts.append(self._document)
        elif formats:
            parts.append(self._content(job, formats[0]))
        elif not job.is_final:
            parts.append(html_pane('<div class="pl-meta">The result appears here when the job finishes.</div>'))
        self._body.objects = parts
        stem = job.filename.rsplit(".", 1)[0] or "result"
        self._downloads.objects = [
            pn.widgets.FileDownload(
                callback=partial(self._download, job.id, fmt),
                filename=f"{stem}.{FORMAT_FILES[fmt][0].rpartition('.')[2]}",  # result.md -> md
                label=f"Download {fmt}",
                color="success",
                width=170,
            )
            for fmt in formats
        ]

    def _document_view(self, job: Job, formats: list[str]) -> DocumentView | None:
        """The document beside its pages, for results that are a document (markdown or text, with the JSON that
        says where each page's text came from); None for the others (rows, sentences), shown as before."""
        if "json" not in formats or formats[0] not in DOCUMENT_FORMATS:
            return None
        layout = read_layout(self.state.app.result(job.id, "json", user=self.state.owner_filter))
        if not layout.pages:
            return None
        page, mark = self.state.selected_page, self.state.selected_mark
        view = DocumentView(layout, state=self.state, job=job, page=max(1, page or 1))
        if page:
            view.show_page(page, mark=mark, reveal=True)
        return view

    def _download(self, job_id: str, fmt: str) -> io.BytesIO:
        return io.BytesIO(self.state.app.result_bytes(job_id, fmt, user=self.state.owner_filter))

    def _tables(self, job: Job) -> pn.viewable.Viewable:
        """The document's tables, one line each (number, pages, rows x columns, its first header cells as text)
        with a CSV download of that table alone."""
        found = self.state.app.result_tables(job.id, user=self.state.owner_filter)
        stem = job.filename.rsplit(".", 1)[0] or "result"
        rows: list[pn.viewable.Viewable] = [html_pane(format_html("<h4>Tables ({})</h4>", len(found)))]
        for table in found:
            index = int(table["index"])
            cells = table.get("rows", [])
            head = " | ".join(c for c in (cells[0] if cells else []) if c)
            head = head if len(head) <= TABLE_HEAD_CHARS else head[: TABLE_HEAD_CHARS - 1] + "…"
            pages = ", ".join(str(p) for p in table.get("pages", []))
            line = format_html(
                '<div class="pl-table-line"><b>Table {}</b> · page {} · {} × {} · {}</div>',
                index,
                pages,
                len(cells),
                max((len(r) for r in cells), default=0),
                head,
            )
            download = pn.widgets.FileDownload(
                callback=partial(self._table_download, job.id, index),
                filename=f"{stem}-table-{index}.csv",
                label=f"CSV of table {index}",
                width=170,
            )
            rows.append(pn.Row(download, html_pane(line), css_classes=["pl-table-item"]))
        return pn.Column(*rows, sizing_mode="stretch_width", css_classes=["pl-tables"])

    def _table_download(self, job_id: str, index: int) -> io.BytesIO:
        return io.BytesIO(self.state.app.table_csv(job_id, index, user=self.state.owner_filter))

    def _content(self, job: Job, fmt: str) -> pn.viewable.Viewable:
        content = self.state.app.result(job.id, fmt, user=self.state.owner_filter)
        cut = len(content) > MAX_SHOWN_CHARS
        note = (
            html_pane(
                f'<div class="pl-note">Showing the first {MAX_SHOWN_CHARS:,} characters; '
                "download for the whole result.</div>"
            )
            if cut
            else None
        )
        shown = content[:MAX_SHOWN_CHARS]
        table = profile.table if (profile := find_profile(job.profile)) is not None else None
        if table is not None and fmt == "json":
            key, columns = table
            rows = json.loads(self.state.app.result(job.id, "json", user=self.state.owner_filter)).get(key, [])
            view: pn.viewable.Viewable = pn.widgets.Tabulator(
                pd.DataFrame(rows, columns=list(columns)),
                show_index=False,
                disabled=True,
                pagination="local",
                page_size=20,
                sizing_mode="stretch_width",
                css_classes=["pl-sentences"],
            )
        elif fmt == "markdown":
            view = html_pane(markdown_html(shown), sizing_mode="stretch_width", css_classes=["pl-markdown"])
        else:
            view = html_pane(
                format_html('<pre class="pl-text" style="white-space:pre-wrap">{}</pre>', shown),
                sizing_mode="stretch_width",
            )
        return pn.Column(*(p for p in (note, view) if p is not None), sizing_mode="stretch_width")

    def _images(self, job: Job) -> pn.viewable.Viewable:
        compressed = self.state.app.compressed_image_bytes(job.id, user=self.state.owner_filter)
        original = self.state.app.source_bytes(job.id, user=self.state.owner_filter)
        ext = (job.meta.get("format") or "").lower().replace("jpeg", "jpg")
        before: pn.viewable.Viewable
        if original and ext in BROWSER_IMAGES:
            before = BROWSER_IMAGES[ext](original, width=360, alt_text="original")
        else:
            before = html_pane('<div class="pl-meta">(the browser cannot show this format)</div>')
        after = pn.pane.WebP(compressed, width=360, alt_text="compressed") if compressed else html_pane("-")
        meta = job.meta
        original_caption = format_html(
            "<b>Original</b> · {} · {}x{}", size(job.size_bytes), meta.get("width"), meta.get("height")
        )
        compressed_caption = format_html(
            "<b>Compressed (WebP)</b> · {} · {}x{} · {}x smaller",
            size(job.compressed_bytes),
            meta.get("out_width"),
            meta.get("out_height"),
            meta.get("compression_ratio"),
        )
        return pn.Row(
            pn.Column(html_pane(original_caption), before),
            pn.Column(html_pane(compressed_caption), after),
            css_classes=["pl-images"],
        )

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self._picker, self._downloads, self._body, sizing_mode="stretch_width")


def result_header(job: Job) -> str:
    """The result's heading: file, status, profile; the document's own title and author, and the instruction
    Claude was given, all shown as text (they come from the document or from another user)."""
    return render("result_header.html", job=job)
