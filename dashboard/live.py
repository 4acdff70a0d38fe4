"""Live jobs: a card per active job with progress, stage steps, chunk counts and the chunk map."""

from __future__ import annotations

import time
from collections.abc import Callable

import panel as pn
import param

from pipeline import Chunk, Job, JobStatus
from pipeline.eta import format_eta
from pipeline.exceptions import PaperlineError
from pipeline.stall import stall_reason

from .formatting import chunk_map_html, duration, elapsed, html_pane, stepper_html
from .safe_html import text
from .state import SessionState

# Finished jobs stay on the live list this long, so the analyst sees how they ended.
KEEP_FINISHED_S = 600
MAX_CARDS = 8


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


class JobCard(pn.viewable.Viewer):
    """One job's live view; ``show`` swaps in a newer snapshot without rebuilding the card."""

    state = param.ClassSelector(class_=SessionState)
    job = param.ClassSelector(class_=Job)

    def __init__(self, **params):  # type: ignore[no-untyped-def]
        super().__init__(**params)
        self._progress = pn.indicators.Progress(
            value=0, max=100, sizing_mode="stretch_width", height=18, css_classes=["pl-progress"]
        )
        self._percent = html_pane("", css_classes=["pl-percent"])
        self._steps = html_pane("", sizing_mode="stretch_width")
        self._line = html_pane("", sizing_mode="stretch_width", css_classes=["pl-line"])
        self._map = html_pane("", sizing_mode="stretch_width", css_classes=["pl-chunkmap-pane"])
        self._detail = html_pane("", sizing_mode="stretch_width")
        self._open = pn.widgets.Button(label="Open result", color="primary", visible=False, width=120)
        self._open.on_click(lambda _: setattr(self.state, "selected_job", self.job.id))
        self._retry = pn.widgets.Button(label="Retry failed chunks", color="warning", visible=False, width=170)
        self._retry.on_click(self._on_retry)
        self._cancel = pn.widgets.Button(label="Cancel", visible=False, width=90)
        self._confirm = pn.widgets.Button(label="Yes, cancel this job", color="danger", visible=False, width=170)
        self._keep = pn.widgets.Button(label="Keep it running", visible=False, width=140)
        self._cancel.on_click(lambda _: self._ask(True))
        self._keep.on_click(lambda _: self._ask(False))
        self._confirm.on_click(self._on_cancel)
        self._delete = pn.widgets.Button(label="Delete files", visible=False, width=110)
        self._confirm_delete = pn.widgets.Button(
            label="Yes, delete its files", color="danger", visible=False, width=170
        )
        self._keep_files = pn.widgets.Button(label="Keep them", visible=False, width=110)
        self._delete.on_click(lambda _: self._ask_delete(True))
        self._keep_files.on_click(lambda _: self._ask_delete(False))
        self._confirm_delete.on_click(self._on_delete)
        self._stalled = html_pane("", sizing_mode="stretch_width", css_classes=["pl-stalled"])
        self._card = pn.Card(
            pn.Row(self._progress, self._percent),
            self._steps,
            self._line,
            self._map,
            self._detail,
            self._stalled,
            pn.Row(
                self._open,
                self._retry,
                self._cancel,
                self._confirm,
                self._keep,
                self._delete,
                self._confirm_delete,
                self._keep_files,
            ),
            title=text(self.job.filename),
            collapsible=False,
            sizing_mode="stretch_width",
            css_classes=["pl-job-card"],
        )
        self.show(self.job)

    def show(self, job: Job) -> None:
        self.job = job
        chunks = self.state.feed.chunks_of(job.id)
        self._progress.value = int(job.progress)
        self._progress.bar_color = {"failed": "danger", "canceled": "secondary", "completed": "success"}.get(
            job.status.value, "primary"
        )
        self._percent.object = f'<span class="pl-meta">{job.progress:.0f}%</span>'
        self._steps.object = stepper_html(job)
        eta = format_eta(self.state.feed.remaining(job)) if not job.is_final else ""
        self._line.object = f'<div class="pl-meta">{text(progress_line(job, chunks, eta))}</div>'
        self._map.object = chunk_map_html(chunks) if chunks or not job.is_final else ""
        detail = []
        if job.error:
            detail.append(f'<div class="pl-error">{text(job.error)}</div>')
        elif not job.is_final:
            detail.append(f'<div class="pl-meta">{text(job.message)}</div>')
        detail.extend(f'<div class="pl-note">{text(n)}</div>' for n in job.notes)
        if job.meta.get("instruction"):
            detail.append(f'<div class="pl-meta pl-instruction">Instruction: {text(job.meta["instruction"])}</div>')
        self._detail.object = "".join(detail)
        self._open.visible = job.status in (JobStatus.COMPLETED, JobStatus.FAILED) and bool(job.pages_done)
        self._retry.visible = job.status is JobStatus.FAILED and job.chunks_failed > 0
        asking = self._confirm.visible and not job.is_final
        self._cancel.visible = not job.is_final and not asking
        self._confirm.visible = self._keep.visible = asking
        deleting = self._confirm_delete.visible and job.is_final and not job.purged_at
        self._delete.visible = job.is_final and not job.purged_at and not deleting
        self._confirm_delete.visible = self._keep_files.visible = deleting
        stalled = stall_reason(
            job,
            chunks,
            workers_alive=len(self.state.feed.health.workers),
            now=time.time(),
            stall_after_s=self.state.app.settings.stall_after_s,
            chunk_time_limit_s=self.state.app.settings.chunk_time_limit_s,
        )
        self._stalled.object = f'<div class="pl-error">{text(stalled)}</div>' if stalled else ""
        self._card.title = f"{text(job.filename)} — {job.status.value}"  # Panel renders a card title as HTML

    def _ask(self, asking: bool) -> None:
        self._confirm.visible = self._keep.visible = asking
        self._cancel.visible = not asking and not self.job.is_final

    def _act(self, action: Callable[..., Job]) -> bool:
        """Run a job action (cancel, retry, delete) as this user; a refusal becomes an error toast."""
        try:
            self.show(action(self.job.id, user=self.state.owner_filter))
        except PaperlineError as exc:
            if pn.state.notifications is not None:
                pn.state.notifications.error(f"{text(self.job.filename)}: {text(exc)}", duration=8000)
            return False
        return True

    def _on_cancel(self, _event: object) -> None:
        self._ask(False)
        self._act(self.state.app.cancel)

    def _on_retry(self, _event: object) -> None:
        self._act(self.state.app.retry)

    def _ask_delete(self, asking: bool) -> None:
        """Deleting cannot be undone: the first click only asks."""
        self._confirm_delete.visible = self._keep_files.visible = asking
        self._delete.visible = not asking and self.job.is_final and not self.job.purged_at

    def _on_delete(self, _event: object) -> None:
        self._ask_delete(False)
        if self._act(self.state.app.delete) and pn.state.notifications is not None:
            pn.state.notifications.info(f"Deleted the files of {text(self.job.filename)}; its history is kept.")

    def __panel__(self) -> pn.viewable.Viewable:
        return self._card


class LiveJobs(pn.viewable.Viewer):
    """Cards for active jobs, plus recently finished ones, updated from the feed as changes arrive."""

    state = param.ClassSelector(class_=SessionState)

    def __init__(self, **params):  # type: ignore[no-untyped-def]
        super().__init__(**params)
        self._cards: dict[str, JobCard] = {}
        self._column = pn.Column(sizing_mode="stretch_width")
        self._empty = html_pane('<div class="pl-meta">No jobs running. Drop documents to start.</div>')
        self.state.param.watch(self._on_update, "update")
        self.refresh()

    def _wanted(self, now: float) -> list[Job]:
        jobs = [
            j
            for j in self.state.jobs()
            if not j.is_final or (j.finished_at and now - j.finished_at < KEEP_FINISHED_S and j.started_at)
        ]
        return jobs[:MAX_CARDS]

    def refresh(self) -> None:
        """Bring the cards in line with the feed: add, update or drop cards as jobs come and go."""
        wanted = self._wanted(time.time())
        for job in wanted:
            card = self._cards.get(job.id)
            if card is None:
                self._cards[job.id] = JobCard(state=self.state, job=job)
            elif card.job != job or not job.is_final:
                card.show(job)
        keep = {j.id for j in wanted}
        for job_id in list(self._cards):
            if job_id not in keep:
                del self._cards[job_id]
        objects = [self._cards[j.id].__panel__() for j in wanted] or [self._empty]
        if [id(o) for o in self._column.objects] != [id(o) for o in objects]:
            self._column.objects = objects

    def _on_update(self, _event: param.parameterized.Event) -> None:
        self.refresh()

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column("### Live jobs", self._column, sizing_mode="stretch_width")
