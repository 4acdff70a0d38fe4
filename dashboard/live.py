"""Live jobs: a card per active job with progress, stage steps, chunk counts and the chunk map."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import panel as pn
import param
from markupsafe import Markup
from param.parameters import NoNone

from pipeline import Chunk, Job, JobStatus
from pipeline.core import messages
from pipeline.core.errors import PaperlineError
from pipeline.insight.eta import format_eta
from pipeline.insight.stall import stall_reason

from .batches import BatchCard
from .formatting import (
    chunk_map_html,
    duration,
    elapsed,
    has_result,
    heading,
    html_pane,
    stepper_html,
    time_ago,
)
from .safe_html import format_html, render, text
from .state import SessionState

# A job that ended keeps its card this long, so the analyst sees how it ended; then it folds to one line.
FOLD_AFTER_S = 45
# Folded lines ("Recently finished") stay this long; History keeps everything.
KEEP_FINISHED_S = 600
MAX_CARDS = 8
# Of the jobs that just ended, only the newest few keep a card; the rest of a finished batch folds at once.
MAX_FINISHED_CARDS = 3
MAX_FINISHED_LINES = 6


def progress_line(job: Job, chunks: list[Chunk], eta: str = "") -> str:
    """ "Chunk 3 of 9 · 45 of 130 pages · 4.2 s elapsed" (with failures and queue position as they apply)."""
    parts = []
    if job.chunks_total:
        running = [c for c in chunks if c.status.value == "running"]
        current = min((c.index for c in running), default=None)
        if current is not None and not job.is_final:
            parts.append(f"chunk {current + 1} of {job.chunks_total} ({len(running)} running)")
        parts.append(f"{job.chunks_done} of {job.chunks_total} chunks done")
        if job.chunks_failed:
            parts.append(f"{job.chunks_failed} failed")
    if job.pages:
        parts.append(f"{job.pages_done} of {job.pages} pages")
    if job.input_tokens or job.output_tokens:
        parts.append(f"{job.input_tokens:,} in / {job.output_tokens:,} out tokens, ~${job.cost_usd:.4f}")
    if job.status is JobStatus.QUEUED:
        parts.append("waiting for a worker")
    elif job.chunks_total or not job.is_final:
        parts.append(f"{duration(elapsed(job))} elapsed")
    if eta and not job.is_final:
        parts.append(eta)
    return " · ".join(parts)


def card_body_html(job: Job, chunks: list[Chunk], *, eta: str = "", stalled: str = "") -> str:
    """Everything a card shows above its buttons as one piece of HTML (progress bar, stage steps, progress line,
    chunk map, message, notes, instruction, stall warning): one model to update instead of one per part."""
    return render(
        "card_body.html",
        job=job,
        color={"failed": "danger", "canceled": "secondary", "completed": "success"}.get(job.status.value, "primary"),
        stepper=Markup(stepper_html(job)),
        line=progress_line(job, chunks, eta),
        chunk_map=Markup(chunk_map_html(chunks)) if chunks or not job.is_final else "",
        stalled=stalled,
    )


#: the confirmation a card is asking for -> (confirm label, keep label)
CONFIRMATIONS = {
    "cancel": ("Yes, cancel this job", "Keep it running"),
    "delete": ("Yes, delete its files", "Keep them"),
}


class JobCard(pn.viewable.Viewer):
    """One job's live view; ``show_job`` swaps in a newer snapshot without rebuilding the card.

    A card is one HTML pane and a row of buttons (the confirm and keep buttons serve both cancel and delete), so a
    page with eight live jobs stays a few dozen models."""

    state = param.ClassSelector(class_=SessionState, allow_None=NoNone)
    job = param.ClassSelector(class_=Job, allow_None=NoNone)
    asking: param.Selector[str] = param.Selector(
        objects=["", *CONFIRMATIONS], default="", doc="The confirmation on show, if any."
    )

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._body = html_pane("", sizing_mode="stretch_width", css_classes=["pl-card-body"])
        self._open = pn.widgets.Button(label="Open result", color="primary", visible=False, width=120)
        self._open.on_click(lambda _: self.state.open_result(self.job.id))
        self._retry = pn.widgets.Button(label="Retry failed chunks", color="warning", visible=False, width=170)
        self._retry.on_click(self._on_retry)
        self._cancel = pn.widgets.Button(label="Cancel", visible=False, width=90)
        self._cancel.on_click(lambda _: setattr(self, "asking", "cancel"))
        self._delete = pn.widgets.Button(label="Delete files", visible=False, width=110)
        self._delete.on_click(lambda _: setattr(self, "asking", "delete"))
        self._confirm = pn.widgets.Button(label="", color="danger", visible=False, width=170)
        self._confirm.on_click(self._on_confirm)
        self._keep = pn.widgets.Button(label="", visible=False, width=140)
        self._keep.on_click(lambda _: setattr(self, "asking", ""))
        self._buttons = (self._open, self._retry, self._cancel, self._delete, self._confirm, self._keep)
        self._actions = pn.Row()  # only the buttons on show: a hidden button would still cost the page a model
        self._card = pn.Card(
            self._body,
            self._actions,
            title=text(self.job.filename),
            collapsible=False,
            sizing_mode="stretch_width",
            css_classes=["pl-job-card"],
        )
        self.show_job(self.job)

    def show_job(self, job: Job) -> None:
        if job.id == self.job.id and job.updated_at < self.job.updated_at:
            return  # an older snapshot than the one shown (the feed has not read a cancel made here yet)
        self.job = job
        # The same card for every session: rendered once per store revision and health tick (elapsed time and the
        # ETA move with the clock) per job snapshot; a snapshot newer than the feed's (a cancel made here) is its
        # own entry, so the card is final at once.
        feed = self.state.feed
        self._body.object = feed.shared(
            f"card:{job.id}", lambda: self._render_body(job), stamp=(feed.health.checked_at, job.updated_at)
        )
        self._card.title = format_html("{} — {}", job.filename, job.status.value)  # Panel renders it as HTML
        self._show_buttons()

    def _render_body(self, job: Job) -> str:
        feed = self.state.feed
        chunks = feed.chunks_of(job.id)
        eta = format_eta(feed.remaining(job)) if not job.is_final else ""
        stalled = stall_reason(
            job,
            chunks,
            workers_alive=len(feed.health.workers),
            now=time.time(),
            stall_after_s=self.state.app.settings.stall_after_s,
            chunk_time_limit_s=self.state.app.settings.chunk_time_limit_s,
        )
        return card_body_html(job, chunks, eta=eta, stalled=stalled or "")

    @param.depends("asking", watch=True)
    def _show_buttons(self) -> None:
        job = self.job
        if (self.asking == "cancel" and job.is_final) or (self.asking == "delete" and job.purged_at):
            self.asking = ""  # the job ended (or its files went) while the analyst was deciding
            return
        self._open.visible = has_result(job)
        self._retry.visible = job.can_retry
        self._cancel.visible = not job.is_final and not self.asking
        self._delete.visible = job.is_final and not job.purged_at and not self.asking
        if self.asking:
            self._confirm.label, self._keep.label = CONFIRMATIONS[self.asking]
        self._confirm.visible = self._keep.visible = bool(self.asking)
        _replace(self._actions, [button for button in self._buttons if button.visible])

    def _act(self, action: Callable[..., Job]) -> bool:
        """Run a job action (cancel, retry, delete) as this user; a refusal becomes an error toast."""
        try:
            self.show_job(action(self.job.id, user=self.state.owner_filter))
        except PaperlineError as exc:
            if pn.state.notifications is not None:
                pn.state.notifications.error(format_html("{}: {}", self.job.filename, exc), duration=8000)
            return False
        return True

    def _on_retry(self, _event: object) -> None:
        self._act(self.state.app.retry)

    def _on_confirm(self, _event: object) -> None:
        asked, self.asking = self.asking, ""
        if asked == "cancel":
            self._act(self.state.app.cancel)
        elif asked == "delete" and self._act(self.state.app.delete) and pn.state.notifications is not None:
            pn.state.notifications.info(text(messages.deleted_files_of(self.job.filename)))

    def __panel__(self) -> pn.viewable.Viewable:
        return self._card


def finished_line_html(job: Job, now: float) -> str:
    """ "report.pdf · completed 3 min ago · 12 pages in 4.1 s": a folded card."""
    ago = time_ago(now - (job.finished_at or now))
    took = duration(job.duration_s) if job.duration_s is not None else ""
    return render("finished_line.html", job=job, ago=ago, took=took)


class FinishedLine(pn.viewable.Viewer):
    """A finished job folded to one line, with Open result where there is one."""

    state = param.ClassSelector(class_=SessionState, allow_None=NoNone)
    job = param.ClassSelector(class_=Job, allow_None=NoNone)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._line = html_pane("", sizing_mode="stretch_width", margin=(8, 5, 0, 5))
        self._open = pn.widgets.Button(label="Open result", color="light", width=110, visible=False)
        self._open.on_click(lambda _: self.state.open_result(self.job.id))
        self._row = pn.Row(self._line, self._open, sizing_mode="stretch_width", css_classes=["pl-finished-row"])
        self.show_job(self.job, time.time())

    def show_job(self, job: Job, now: float) -> None:
        self.job = job
        self._line.object = finished_line_html(job, now)
        self._open.visible = has_result(job)

    def __panel__(self) -> pn.viewable.Viewable:
        return self._row


class LiveJobs(pn.viewable.Viewer):
    """Cards for active jobs; a job that ended keeps its card for ``FOLD_AFTER_S`` (the newest
    ``MAX_FINISHED_CARDS`` of them), then folds to a line under "Recently finished" (for ``KEEP_FINISHED_S``), so a
    batch that ended does not push the tabs below the fold."""

    state = param.ClassSelector(class_=SessionState, allow_None=NoNone)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._cards: dict[str, JobCard] = {}
        self._lines: dict[str, FinishedLine] = {}
        self._column = pn.Column(sizing_mode="stretch_width")
        self._batch_cards: dict[str, BatchCard] = {}
        self._batch_column = pn.Column(sizing_mode="stretch_width")
        self._finished = pn.Column(sizing_mode="stretch_width", css_classes=["pl-recently-finished"])
        self._finished_title = html_pane('<div class="pl-meta"><b>Recently finished</b></div>', visible=False)
        self._empty = html_pane('<div class="pl-meta">No jobs running. Drop documents to start.</div>')
        self._fold_timer: object | None = None
        self.state.param.watch(self._on_update, "update")
        self.refresh()

    def _split(self, now: float) -> tuple[list[Job], list[Job]]:
        """(jobs shown as cards, jobs folded to a line), newest first; a batch's jobs are its card's instead."""
        cards: list[Job] = []
        lines: list[Job] = []
        expanded = 0
        for job in self.state.jobs():
            if job.batch_id:
                continue
            if not job.is_final:
                cards.append(job)
            elif job.finished_at and job.started_at and now - job.finished_at < KEEP_FINISHED_S:
                recent = now - job.finished_at < FOLD_AFTER_S and expanded < MAX_FINISHED_CARDS
                expanded += recent
                (cards if recent else lines).append(job)
        return cards[:MAX_CARDS], lines[:MAX_FINISHED_LINES]

    def _batches(self, now: float) -> dict[str, list[Job]]:
        """Batches to show as one card each, newest first: any job still open, or the last ended lately."""
        found: dict[str, list[Job]] = {}
        for job in self.state.jobs():
            if job.batch_id:
                found.setdefault(job.batch_id, []).append(job)
        return {
            batch_id: list(reversed(jobs))
            for batch_id, jobs in found.items()
            if any(not j.is_final or (j.finished_at or 0) > now - KEEP_FINISHED_S for j in jobs)
        }

    def refresh(self) -> None:
        """Bring the cards and lines in line with the feed: add, update, fold or drop them as jobs come and go."""
        now = time.time()
        batches = self._batches(now)
        for batch_id, jobs in batches.items():
            batch_card = self._batch_cards.get(batch_id)
            if batch_card is None:
                batch = self.state.feed.batch(batch_id)
                documents = batch.jobs if batch is not None else 0
                self._batch_cards[batch_id] = BatchCard(
                    state=self.state, batch_id=batch_id, jobs=jobs, documents=documents
                )
            elif batch_card.jobs != jobs:
                batch_card.show_jobs(jobs)
        self._batch_cards = {batch_id: self._batch_cards[batch_id] for batch_id in batches}
        # A batch that ended a while ago folds to a line among the recently finished, as a job's card does.
        folded = {b for b, card in self._batch_cards.items() if (card.finished_at or now) <= now - FOLD_AFTER_S}
        _replace(self._batch_column, [self._batch_cards[b].view(False, now) for b in batches if b not in folded])
        folded_lines = [self._batch_cards[b].view(True, now) for b in batches if b in folded]
        cards, lines = self._split(now)
        for job in cards:
            card = self._cards.get(job.id)
            if card is None:
                self._cards[job.id] = JobCard(state=self.state, job=job)
            elif card.job != job or not job.is_final:
                card.show_job(job)
        for job in lines:
            line = self._lines.get(job.id)
            if line is None:
                self._lines[job.id] = FinishedLine(state=self.state, job=job)
            else:
                line.show_job(job, now)
        self._cards = {j.id: self._cards[j.id] for j in cards}
        self._lines = {j.id: self._lines[j.id] for j in lines}
        _replace(self._column, [self._cards[j.id].__panel__() for j in cards] or ([] if batches else [self._empty]))
        _replace(self._finished, [*folded_lines, *(self._lines[j.id].__panel__() for j in lines)])
        self._finished_title.visible = bool(lines or folded_lines)
        self._schedule_fold(now)

    def _schedule_fold(self, now: float) -> None:
        """Come back when the next finished card is due to fold (the feed is quiet when nothing runs)."""
        due = [
            job.finished_at + FOLD_AFTER_S
            for job in (card.job for card in self._cards.values())
            if job.is_final and job.finished_at
        ]
        due += [
            ended + FOLD_AFTER_S
            for card in self._batch_cards.values()
            if (ended := card.finished_at) is not None and ended + FOLD_AFTER_S > now
        ]
        if not due or self._fold_timer is not None:
            return
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None:
            return  # a notebook or a test: folding happens on the next refresh

        def fold() -> None:
            self._fold_timer = None
            self.refresh()

        self._fold_timer = doc.add_timeout_callback(fold, int(max(0.0, min(due) - now) * 1000) + 100)

    def _on_update(self, _event: param.parameterized.Event) -> None:
        self.refresh()

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            heading("Live jobs"),
            self._batch_column,
            self._column,
            self._finished_title,
            self._finished,
            sizing_mode="stretch_width",
        )


def _replace(column: pn.layout.ListPanel, objects: list[pn.viewable.Viewable]) -> None:
    """Set a column's children only when they changed, so an unchanged list sends nothing to the browser."""
    if [id(o) for o in column.objects] != [id(o) for o in objects]:
        column.objects = objects
