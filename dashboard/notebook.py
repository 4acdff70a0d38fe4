"""The dashboard's views in Jupyter, live: a job's card, a batch's card and the live jobs list keep moving while the
analyst runs other cells, and ``wait()`` blocks only when asked.

Each view has a feed of its own over the store and a Panel periodic callback that reads what changed
(``JobFeed.refresh``, one short read) and hands it to the view, whose changes reach the page over the notebook's
comm. The callback runs on the kernel's event loop between cells and while a cell awaits, so displaying a view
never blocks its cell, and nothing moves a view from another thread. It stops once what it shows has ended (a
job's or a batch's card), or when ``stop()`` is called (the live list runs until then).

    view = live_job(app, job.id)   # displayed as a cell's value; moves on by itself
    view.wait(timeout_s=120)       # the same view, blocking this cell until the job ends
"""

from __future__ import annotations

from typing import Any

import panel as pn
import param
from panel.io.callbacks import PeriodicCallback

from pipeline import Job, Paperline
from pipeline.core.errors import JobNotFound

from .batches import BatchCard
from .feed import JobFeed
from .live import JobCard, LiveJobs
from .state import SessionState

#: seconds between two reads of the store by a live view
INTERVAL_S = 0.5


class LiveView(pn.viewable.Viewer):
    """A dashboard view in a notebook, kept current by its own feed and a periodic callback."""

    interval_s = param.Number(default=INTERVAL_S, bounds=(0.05, 60), doc="Seconds between two reads of the store.")

    def __init__(self, app: Paperline, *, job_ids: tuple[str, ...] = (), batch_id: str = "", **params: Any) -> None:
        super().__init__(**params)
        self.app = app
        self.feed = JobFeed(app)
        self.feed.refresh()
        self.state = SessionState(feed=self.feed)
        self.state.connect()
        self.job_ids, self.batch_id = job_ids, batch_id
        self.view: pn.viewable.Viewable | pn.viewable.Viewer = pn.Column()
        #: the periodic callback that moves the view (None once stopped)
        self.callback: PeriodicCallback | None = None

    def start(self) -> LiveView:
        """Read the store every ``interval_s`` on the kernel's event loop until ``stop()`` or the view's end."""
        if self.callback is None:
            self.callback = pn.state.add_periodic_callback(self.tick, period=int(self.interval_s * 1000))
        return self

    def tick(self) -> None:
        """One read of the store: what changed reaches the view; a view whose jobs have all ended stops."""
        self.feed.refresh()
        if self.ended():
            self.stop()

    def jobs(self) -> list[Job]:
        """The jobs the view shows, as the feed has them (all of them for the live list)."""
        if self.batch_id:
            return [job for job in self.feed.jobs.values() if job.batch_id == self.batch_id]
        if self.job_ids:
            return [self.feed.jobs[job_id] for job_id in self.job_ids if job_id in self.feed.jobs]
        return list(self.feed.jobs.values())

    def ended(self) -> bool:
        """Whether what the view shows can no longer change (never, for the live list)."""
        if not (self.job_ids or self.batch_id):
            return False
        jobs = self.jobs()
        batch = self.feed.batch(self.batch_id) if self.batch_id else None
        expected = batch.jobs if batch is not None else len(self.job_ids)
        return len(jobs) >= expected and all(job.is_final for job in jobs)

    def wait(self, timeout_s: float | None = None) -> list[Job]:
        """Block this cell until the view's jobs have ended (or ``timeout_s``), moving the view meanwhile; the jobs
        as they ended. Like ``Paperline.wait``, raises ``NoWorkerRunning`` when no worker is alive to end them."""
        ids = [job.id for job in self.jobs()] if self.batch_id else list(self.job_ids)
        if not ids:
            raise ValueError("the live jobs list has no end to wait for: wait on a job's or a batch's view")
        done = self.app.wait(ids, timeout_s=timeout_s, poll_s=self.interval_s, on_update=lambda _jobs: self.tick())
        self.tick()
        return done

    def stop(self) -> None:
        """Stop reading the store (the view keeps what it shows)."""
        if self.callback is not None:
            self.callback.stop()
            self.callback = None

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self.view, sizing_mode="stretch_width")


def live_job(app: Paperline, job_id: str, *, interval_s: float = INTERVAL_S) -> LiveView:
    """The dashboard's card for one job, moving until the job ends."""
    live = LiveView(app, job_ids=(job_id,), interval_s=interval_s)
    if job_id not in live.feed.jobs:
        raise JobNotFound(f"No job {job_id!r}")
    card = JobCard(state=live.state, job=live.feed.jobs[job_id])
    live.state.param.watch(
        lambda event: card.show_job(live.feed.jobs[job_id]) if any(j.id == job_id for j in event.new.jobs) else None,
        "update",
    )
    live.view = card
    return live.start()


def live_batch(app: Paperline, batch_id: str, *, interval_s: float = INTERVAL_S) -> LiveView:
    """The dashboard's card for a batch (its roll-up, bar and documents), moving until its last document ends."""
    live = LiveView(app, batch_id=batch_id, interval_s=interval_s)
    batch = live.feed.batch(batch_id)
    if batch is None:
        raise JobNotFound(f"No batch {batch_id!r}")
    card = BatchCard(state=live.state, batch_id=batch_id, jobs=_oldest_first(live.jobs()), documents=batch.jobs)

    def follow(event: param.parameterized.Event) -> None:
        if any(job.batch_id == batch_id for job in event.new.jobs):
            card.show_jobs(_oldest_first(live.jobs()))

    live.state.param.watch(follow, "update")
    live.view = card
    return live.start()


def live_jobs(app: Paperline, *, interval_s: float = INTERVAL_S) -> LiveView:
    """The dashboard's live jobs list (cards, batches, recently finished), moving until ``stop()``."""
    live = LiveView(app, interval_s=interval_s)
    live.view = LiveJobs(state=live.state)
    return live.start()


def watch(app: Paperline, job_id: str, *, timeout_s: float = 300.0, interval_s: float = 0.2) -> Job:
    """Show the job's live card and block until the job ends (or ``timeout_s``): ``live_job(...).wait()``.

    Like ``Paperline.wait``, raises ``NoWorkerRunning`` when no worker is alive to finish the job."""
    from IPython.display import display

    view = live_job(app, job_id, interval_s=interval_s)
    display(view)
    [job] = view.wait(timeout_s=timeout_s)
    return job


def _oldest_first(jobs: list[Job]) -> list[Job]:
    return sorted(jobs, key=lambda job: (job.created_at, job.id))
