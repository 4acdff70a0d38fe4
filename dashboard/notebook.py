"""The dashboard's views in Jupyter: watch a job with the same card the dashboard shows."""

from __future__ import annotations

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
        lambda e: card.show_job(feed.jobs[job_id]) if any(j.id == job_id for j in e.new.jobs) else None, "update"
    )
    state.connect()
    return card, feed


def watch(app: Paperline, job_id: str, *, timeout_s: float = 300.0, interval_s: float = 0.2) -> Job:
    """Show the job's card in the notebook and keep it moving until the job ends (or ``timeout_s``).

    Like ``Paperline.wait``, raises ``NoWorkerRunning`` when no worker is alive to finish the job."""
    from IPython.display import display

    card, feed = job_card(app, job_id)
    display(card)

    def refresh(_jobs: list[Job]) -> None:
        feed.refresh()

    [job] = app.wait([job_id], timeout_s=timeout_s, poll_s=interval_s, on_update=refresh)
    return job
