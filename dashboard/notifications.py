"""Toasts when a job this session saw running ends: "report.pdf is ready" with a link, or why it failed."""

from __future__ import annotations

import time

import panel as pn
import param

from pipeline import Job, JobStatus, Stage

from .safe_html import text
from .state import SessionState

MAX_TOASTS_AT_ONCE = 3


class Notifier(param.Parameterized):
    """Toasts each job that ends while the session is open, once.

    A job is judged by its finish time, not by whether this session saw it running: a short job can be
    queued, run and finished between two feed polls. Jobs refused at intake are left to the upload panel.
    """

    state = param.ClassSelector(class_=SessionState)
    sent = param.List(default=[], doc="Messages shown, newest last (for tests and the notebook).")

    def __init__(self, **params):  # type: ignore[no-untyped-def]
        super().__init__(**params)
        self._since = time.time()
        self._notified: set[str] = set()
        self.state.param.watch(self._on_update, "update")

    def _on_update(self, event: param.parameterized.Event) -> None:
        ended = []
        for job in event.new.jobs:
            ended_now = job.is_final and (job.finished_at or 0) >= self._since
            refused_at_intake = job.status is JobStatus.FAILED and job.stage is Stage.QUEUED
            if ended_now and not refused_at_intake and job.id not in self._notified:
                self._notified.add(job.id)
                ended.append(job)
        if len(ended) > MAX_TOASTS_AT_ONCE:  # a batch ended together: one toast, not a wall of them
            self.summarize(ended)
        else:
            for job in ended:
                self.notify(job)

    def summarize(self, jobs: list[Job]) -> None:
        done = sum(1 for j in jobs if j.status is JobStatus.COMPLETED)
        failed = sum(1 for j in jobs if j.status is JobStatus.FAILED)
        parts = [f"{done} documents are ready"] if done else []
        if failed:
            parts.append(f"{failed} failed")
        others = len(jobs) - done - failed
        if others:
            parts.append(f"{others} canceled")
        self._send(", ".join(parts) + " (see History).", "error" if failed else "success")

    def notify(self, job: Job) -> None:
        name = text(job.filename)
        link = f'<a href="?job={job.id}" class="pl-toast-link">open the result</a>'
        if job.status is JobStatus.COMPLETED:
            message, kind = f"{name} is ready: {link}", "success"
        elif job.status is JobStatus.FAILED:
            message, kind = f"{name} failed: {text(job.error)}", "error"
            if job.pages_done:
                message += f" ({link}: partial)"
        else:
            message, kind = f"{name} was {job.status.value}.", "info"
        self._send(message, kind)

    def _send(self, message: str, kind: str) -> None:
        self.sent = [*self.sent, message]
        notifications = pn.state.notifications
        if notifications is not None:
            getattr(notifications, kind)(message, duration=0 if kind == "error" else 10000)
