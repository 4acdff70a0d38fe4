"""A batch's card in the live jobs: its documents rolled up ("3 of 10 ready, 1 failed", one bar), opening to each
of them, with cancel all, retry failed and download all. Read from the shared feed's jobs, never from the store."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import panel as pn
import param
from param.parameters import NoNone

from pipeline import Job, JobStatus
from pipeline.core import messages
from pipeline.core.errors import PaperlineError
from pipeline.service.batches import rollup

from .formatting import html_pane, time_ago
from .safe_html import format_html, text
from .state import SessionState

#: a failed document's reason, cut to this many characters on its row (the whole reason is on its result)
REASON_CHARS = 90


def document_label(job: Job) -> str:
    """A batch's document on its row: "report.pdf — running (45%)", "— completed", "— failed: why" (a button's
    label, which Bokeh shows as text)."""
    if job.status is JobStatus.FAILED:
        why = " ".join((job.error or "no reason recorded").split())
        why = why if len(why) <= REASON_CHARS else why[: REASON_CHARS - 1] + "…"
        return f"{job.filename} — failed: {why}"
    if job.is_final:
        return f"{job.filename} — {job.status.value}"
    return f"{job.filename} — {job.status.value} ({job.progress:.0f}%)"


class BatchCard(pn.viewable.Viewer):
    """One batch: ``show_jobs`` swaps in its jobs' newer snapshots without rebuilding the card."""

    state = param.ClassSelector(class_=SessionState, allow_None=NoNone)
    batch_id = param.String()
    jobs = param.List(default=[], item_type=Job, doc="The batch's jobs as the feed has them, oldest first.")
    documents = param.Integer(default=0, doc="How many documents it was submitted with (some may not be jobs yet).")
    cancel_all = param.Event(label="Cancel all")
    retry_failed = param.Event(label="Retry failed")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._line = html_pane("", sizing_mode="stretch_width", css_classes=["pl-batch-line"])
        self._bar = pn.indicators.Progress(value=0, max=100, sizing_mode="stretch_width", height=14)
        self._cancel = pn.widgets.Button.from_param(self.param.cancel_all, width=110)
        self._retry = pn.widgets.Button.from_param(self.param.retry_failed, color="warning", width=120)
        self._download = pn.widgets.FileDownload(
            callback=self._zip, filename=f"paperline-batch-{self.batch_id}.zip", label="Download all", width=130
        )
        self._documents = pn.Column(sizing_mode="stretch_width")
        # The roll-up, bar and actions are always on show, as a job card's are; the list of documents opens on demand.
        self._card = pn.Card(
            self._line,
            self._bar,
            pn.Row(self._cancel, self._retry, self._download),
            pn.Card(
                self._documents,
                title="▸ Documents: click to list each one",
                collapsed=True,
                sizing_mode="stretch_width",
                css_classes=["pl-batch-documents"],
            ),
            title="",
            collapsible=False,
            sizing_mode="stretch_width",
            css_classes=["pl-batch-card"],
        )
        self._opens: dict[str, pn.widgets.Button] = {}
        #: the batch ended a while ago: one line (with its download) among the recently finished, as a job folds
        self._folded_line = html_pane("", sizing_mode="stretch_width", margin=(8, 5, 0, 5))
        self._folded = pn.Row(self._folded_line, sizing_mode="stretch_width", css_classes=["pl-finished-batch"])
        self.show_jobs(self.jobs)

    @property
    def finished_at(self) -> float | None:
        """When its last document ended (None while one is to come or still open)."""
        if len(self.jobs) < self.documents or any(not job.is_final for job in self.jobs):
            return None
        return max((job.finished_at or job.updated_at for job in self.jobs), default=None)

    def view(self, folded: bool, now: float) -> pn.viewable.Viewable:
        """The card, or (``folded``) its one line: "10 documents · 10 of 10 ready · ended 3 min ago"."""
        if not folded:
            return self._card
        documents = max(self.documents, len(self.jobs))
        counts, _ = rollup(self.jobs, documents)
        self._folded_line.object = format_html(
            '<span class="pl-finished"><b>{}</b> · {} · ended {}</span>',
            messages.batch_name(documents),
            messages.batch_rollup(documents, counts["completed"], counts["failed"], counts["canceled"]),
            time_ago(now - (self.finished_at or now)),
        )
        wanted = [self._folded_line, *([self._download] if counts["completed"] else [])]
        if [id(o) for o in self._folded.objects] != [id(o) for o in wanted]:
            self._folded.objects = wanted
        return self._folded

    def show_jobs(self, jobs: list[Job]) -> None:
        """Show ``jobs``, each unless the card holds a newer snapshot of it (the store read at Cancel all is newer
        than the feed's last tick, which must not bring the canceled jobs back as running for a moment)."""
        held = {job.id: job for job in self.jobs}
        jobs = [held[j.id] if j.id in held and held[j.id].updated_at > j.updated_at else j for j in jobs]
        self.jobs = jobs
        documents = max(self.documents, len(jobs))
        counts, progress = rollup(jobs, documents)
        line = messages.batch_rollup(documents, counts["completed"], counts["failed"], counts["canceled"])
        self._line.object = format_html('<div class="pl-meta">{}</div>', line)
        self._bar.value = round(progress)
        self._card.title = format_html("{} — {}", messages.batch_name(documents), line)
        self._cancel.visible = any(not job.is_final for job in jobs) or len(jobs) < documents  # (a drop arriving)
        self._retry.visible = any(job.can_retry for job in jobs)
        self._download.visible = counts["completed"] > 0
        rows = []
        for job in jobs:
            button = self._opens.get(job.id)
            if button is None:
                button = pn.widgets.Button(sizing_mode="stretch_width")
                button.on_click(self._opener(job.id))
                self._opens[job.id] = button
            button.name = document_label(job)
            rows.append(button)
        if [id(r) for r in self._documents.objects] != [id(r) for r in rows]:
            self._documents.objects = rows

    def _opener(self, job_id: str) -> Callable[[object], None]:
        return lambda _event: self.state.open_result(job_id)

    def _act(self, action: Any) -> None:
        try:
            action(self.batch_id, user=self.state.owner_filter)
        except PaperlineError as exc:
            if pn.state.notifications is not None:
                pn.state.notifications.warning(text(str(exc)), duration=5000)

    @param.depends("cancel_all", watch=True)
    def _on_cancel_all(self) -> None:
        self._act(self.state.app.cancel_batch)
        try:  # final on the card at once, not when the feed next reads the store
            self.show_jobs(self.state.app.batch_jobs(self.batch_id, user=self.state.owner_filter))
        except PaperlineError:
            pass

    @param.depends("retry_failed", watch=True)
    def _on_retry_failed(self) -> None:
        self._act(self.state.app.retry_batch)

    def _zip(self) -> io.BytesIO:
        """Every main result in one zip. In memory: Panel's FileDownload sends the whole file to the browser as one
        message anyway (the API's ``/batches/{id}/results`` is the way for large batches)."""
        buffer = io.BytesIO()
        self.state.app.write_batch_results(self.batch_id, buffer, user=self.state.owner_filter)
        buffer.seek(0)
        return buffer

    def __panel__(self) -> pn.viewable.Viewable:
        return self._card
