"""Toasts when a job this session saw running ends: "report.pdf is ready" with a link, or why it failed."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import panel as pn
import param
from param.parameters import NoNone

from pipeline import Job, JobStatus, Stage

from .safe_html import render
from .state import SessionState

if TYPE_CHECKING:  # only for annotations: nothing more is imported at run time
    from panel.io.notifications import Notification

MAX_TOASTS_AT_ONCE = 3
# A success toast stays this long; a job that ends while it shows joins it instead of stacking a new box.
TOAST_S = 10.0


class Notifier(param.Parameterized):
    """Toasts each job that ends while the session is open, once, and only one toast at a time.

    A job is judged by its finish time, not by whether this session saw it running: a short job can be
    queued, run and finished between two feed polls. Jobs refused at intake are left to the upload panel. Jobs
    that end seconds apart share one toast: the one on screen is replaced by one that names them all (or counts
    them, past ``MAX_TOASTS_AT_ONCE``), so a batch never stacks a wall of boxes over the cards.
    """

    state = param.ClassSelector(class_=SessionState, allow_None=NoNone)
    sent = param.List(default=[], doc="Messages shown, newest last (for tests and the notebook).")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._since = time.time()
        self._notified: set[str] = set()
        self._on_screen: list[Job] = []  # the jobs the current toast names
        self._toast: Notification | None = None
        self._toast_at = 0.0
        self.state.param.watch(self._on_update, "update")

    def _on_update(self, event: param.parameterized.Event) -> None:
        ended = []
        for job in event.new.jobs:
            ended_now = job.is_final and (job.finished_at or 0) >= self._since
            refused_at_intake = job.status is JobStatus.FAILED and job.stage is Stage.QUEUED
            if ended_now and not refused_at_intake and job.id not in self._notified:
                self._notified.add(job.id)
                ended.append(job)
        if not ended:
            return
        now = time.monotonic()
        if self._on_screen and now - self._toast_at < TOAST_S:
            ended = [*self._on_screen, *ended]  # joins the toast on screen
            self._withdraw()
        self._on_screen, self._toast_at = ended, now
        if len(ended) == 1:
            self.notify(ended[0])
        elif len(ended) > MAX_TOASTS_AT_ONCE:
            self.summarize(ended)
        else:
            self._send("<br>".join(self._message(job)[0] for job in ended), self._kind(ended))

    @staticmethod
    def _kind(jobs: list[Job]) -> str:
        if any(j.status is JobStatus.FAILED for j in jobs):
            return "error"
        return "success" if any(j.status is JobStatus.COMPLETED for j in jobs) else "info"

    def summarize(self, jobs: list[Job]) -> None:
        done = sum(1 for j in jobs if j.status is JobStatus.COMPLETED)
        failed = sum(1 for j in jobs if j.status is JobStatus.FAILED)
        parts = [f"{done} documents are ready"] if done else []
        if failed:
            parts.append(f"{failed} failed")
        others = len(jobs) - done - failed
        if others:
            parts.append(f"{others} canceled")
        # a failure is named with its reason even in a batch: it needs the analyst's attention
        failures = [self._message(j)[0] for j in jobs if j.status is JobStatus.FAILED][:MAX_TOASTS_AT_ONCE]
        self._send("<br>".join([", ".join(parts) + " (see History).", *failures]), self._kind(jobs))

    def notify(self, job: Job) -> None:
        self._send(*self._message(job))

    @staticmethod
    def _message(job: Job) -> tuple[str, str]:
        kind = {JobStatus.COMPLETED: "success", JobStatus.FAILED: "error"}.get(job.status, "info")
        return render("job_toast.html", job=job), kind

    def _withdraw(self) -> None:
        if self._toast is not None:
            self._toast.destroy()
            self._toast = None

    def _send(self, message: str, kind: str) -> None:
        self.sent = [*self.sent, message]
        notifications = pn.state.notifications
        if notifications is not None:
            self._toast = getattr(notifications, kind)(message, duration=0 if kind == "error" else int(TOAST_S * 1000))
