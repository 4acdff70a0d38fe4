"""The dashboard's views in Jupyter: watch a job with the same card the dashboard shows."""

from __future__ import annotations

import time

from pipeline import Job, Paperline

from .feed import JobFeed
from .live import JobCard
from .state import SessionState


def job_card(app: Paperline, job_id: str) -> tuple[JobCard, JobFeed]:
    """A live card for one job and the feed that updates it (call ``feed.refresh()`` to move it on)."""
    feed = JobFeed(app)
    feed.refresh()
    state = SessionState(feed=feed)
    card = JobCard(state=state, job=feed.jobs[job_id])
    state.param.watch(
        lambda e: card.show(feed.jobs[job_id]) if any(j.id == job_id for j in e.new.jobs) else None, "update"
    )
    state.connect()
    return card, feed


def watch(app: Paperline, job_id: str, *, timeout_s: float = 300.0, interval_s: float = 0.2) -> Job:
    """Show the job's card in the notebook and keep it moving until the job ends (or ``timeout_s``)."""
    from IPython.display import display

    card, feed = job_card(app, job_id)
    display(card)
    deadline = time.monotonic() + timeout_s
    while not feed.jobs[job_id].is_final and time.monotonic() < deadline:
        time.sleep(interval_s)
        feed.refresh()
    return feed.jobs[job_id]
