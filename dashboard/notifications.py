"""Toasts when a job this session saw running ends: "report.pdf is ready" with a link, or why it failed."""

from __future__ import annotations

import html

import panel as pn
import param

from pipeline import Job, JobStatus

from .state import SessionState


class Notifier(param.Parameterized):
    """Remembers which jobs were unfinished when first seen, and toasts each one once when it ends."""

    state = param.ClassSelector(class_=SessionState)
    sent = param.List(default=[], doc="Messages shown, newest last (for tests and the notebook).")

    def __init__(self, **params):  # type: ignore[no-untyped-def]
        super().__init__(**params)
        self._open = {job.id for job in self.state.jobs() if not job.is_final}
        self.state.param.watch(self._on_update, "update")

    def _on_update(self, event: param.parameterized.Event) -> None:
        for job in event.new.jobs:
            if not job.is_final:
                self._open.add(job.id)
            elif job.id in self._open:
                self._open.discard(job.id)
                self.notify(job)

    def notify(self, job: Job) -> None:
        name = html.escape(job.filename)
        link = f'<a href="?job={job.id}" class="pl-toast-link">open the result</a>'
        if job.status is JobStatus.COMPLETED:
            message, kind = f"{name} is ready: {link}", "success"
        elif job.status is JobStatus.FAILED:
            message, kind = f"{name} failed: {html.escape(job.error)}", "error"
            if job.pages_done:
                message += f" ({link}: partial)"
        else:
            message, kind = f"{name} was {job.status.value}.", "info"
        self.sent = [*self.sent, message]
        notifications = pn.state.notifications
        if notifications is not None:
            getattr(notifications, kind)(message, duration=0 if kind == "error" else 10000)
