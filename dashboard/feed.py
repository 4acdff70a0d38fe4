"""One feed per server process, and every session watches it.

The feed listens to the process's one follower of the store (``pipeline.live.ChangeFollower``, shared with the
HTTP API's event streams; woken by the store's notifications where it has them, else polling). Each tick brings
only the rows written since the last revision; the feed keeps the latest snapshot of every job and chunk in memory
and hands each subscriber the batch of changes on that subscriber's own Bokeh document (scheduled on its event
loop), so ten open sessions cost the database what one does. ``refresh()`` runs one tick now (tests call it).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd
import panel as pn
import param
from panel.io.state import set_curdoc
from prometheus_client import Counter, Histogram

from pipeline import Chunk, Job, JobStatus, Paperline
from pipeline.core import messages
from pipeline.core.errors import PaperlineError
from pipeline.core.models import Batch, WorkerBeat
from pipeline.live import ChangeFollower, Changes
from pipeline.server.context import server_context

from .snapshots import AnalyticsSnapshot, EtaSnapshot

if TYPE_CHECKING:
    from bokeh.document import Document

log = logging.getLogger("paperline.dashboard.feed")
FEED_CACHE_KEY = "paperline-feed"
MAX_SHARED = 1000
#: this process's feeds' reads of the store (each is one short read), as /metrics reports them
REFRESHES = Counter("paperline_feed_refreshes", "Reads of the store by the dashboard's feed.")
#: how late sessions take store changes: from the feed's read of the store to the session's update
DELIVERY_SECONDS = Histogram(
    "paperline_feed_delivery_seconds",
    "Seconds from the feed reading a store change to a dashboard session taking it.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


@dataclass(frozen=True)
class Health:
    """Queue health as the dashboard shows it."""

    queued: int = 0
    running: int = 0
    workers: tuple[WorkerBeat, ...] = ()
    checked_at: float = 0.0
    #: why the job store cannot be read now ("" while it can): the page says so and keeps what it last read
    unreachable: str = ""

    @property
    def warning(self) -> str:
        if self.unreachable:
            return self.unreachable
        if self.queued and not self.workers:
            return messages.queued_without_worker(self.queued)
        return ""


@dataclass(frozen=True)
class Update:
    """What one refresh found: jobs and chunks written since the previous refresh."""

    jobs: list[Job] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    health_changed: bool = False
    analytics_changed: bool = False
    #: when the feed read these changes from the store (epoch seconds): how late a session takes them
    read_at: float = 0.0

    def __bool__(self) -> bool:
        return bool(self.jobs or self.chunks or self.health_changed or self.analytics_changed)

    def merged(self, later: Update) -> Update:
        """This update followed by ``later``, as one: the latest snapshot of each job and chunk."""
        jobs = {job.id: job for job in [*self.jobs, *later.jobs]}
        chunks = {(c.job_id, c.index): c for c in [*self.chunks, *later.chunks]}
        return Update(
            jobs=list(jobs.values()),
            chunks=list(chunks.values()),
            health_changed=self.health_changed or later.health_changed,
            analytics_changed=self.analytics_changed or later.analytics_changed,
            read_at=min(self.read_at, later.read_at) if self.read_at else later.read_at,
        )


Subscriber = Callable[[Update], None]
T = TypeVar("T")


class JobFeed(param.Parameterized):
    """The latest state of every job, refreshed from the store by one poller per process."""

    revision = param.Integer(default=0, doc="Store revision the feed has read up to.")
    health = param.ClassSelector(class_=Health, default=Health(), doc="Queue and worker health.")
    interval = param.Number(default=0.2, bounds=(0.05, 10), doc="Seconds between refreshes when polling.")
    health_interval = param.Number(default=1.0, doc="Seconds between worker heartbeat checks.")
    analytics_interval = param.Number(default=2.0, doc="Fewest seconds between two analytics snapshots.")

    def __init__(self, app: Paperline, follower: ChangeFollower | None = None, **params: Any) -> None:
        super().__init__(**params)
        self.app = app
        #: the process's follower of the store (a server's is shared with the API); a notebook's feed has its own
        self.follower = follower or ChangeFollower(app, interval=self.interval, slow_interval=self.health_interval)
        self._owns_follower = follower is None
        self.jobs: dict[str, Job] = {}
        self.chunks: dict[str, dict[int, Chunk]] = {}
        self._subscribers: dict[int, tuple[Subscriber, Document | None]] = {}
        self._pending: dict[int, Update] = {}  # per session: the update scheduled but not yet taken
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._health_checked = 0.0
        #: when the feed last read the store (epoch seconds): how far behind a page can be, for /metrics
        self.refreshed_at = 0.0
        self._shared: dict[Hashable, tuple[int, object, object]] = {}
        self._batches: dict[str, Batch | None] = {}  # batch records, which never change, read once per process
        self.eta = EtaSnapshot()
        self.analytics = AnalyticsSnapshot(self._read_all_chunks, interval=self.analytics_interval)
        self._listening = self.follower.listen(self, from_start=True)

    # -- reading -----------------------------------------------------------------------------------------
    def refresh(self, now: float | None = None) -> Update:
        """Have the follower read what changed now (every listener is told) and return this feed's update. While
        the job store is unreachable (a restart, a network fault), sessions keep what they last read and are told
        once that the store is unreachable; the next refresh that reads it clears that."""
        answer = self.follower.poll(now).get(self._listening)
        return answer if isinstance(answer, Update) else Update()

    def store_unreachable(self, now: float) -> Update:
        with self._lock:
            told = bool(self.health.unreachable)
            self.health = Health(
                queued=self.health.queued,
                running=self.health.running,
                workers=self.health.workers,
                checked_at=now,
                unreachable=messages.STORE_UNAVAILABLE,
            )
            subscribers = list(self._subscribers.items())
        update = Update(health_changed=not told, read_at=time.time())
        if update:
            for token, (callback, doc) in subscribers:
                self._deliver(token, callback, doc, update)
        return update

    def take_changes(self, changes: Changes, now: float) -> Update:
        """The follower's tick: keep the newest snapshots, refit what the history feeds, tell every session."""
        with self._lock:
            finished = False
            for job in changes.jobs:
                previous = self.jobs.get(job.id)
                finished |= job.is_final and (previous is None or not previous.is_final)
                self.jobs[job.id] = job
            if finished:  # the history grew
                self.eta.refit(self.jobs.values())
                self.analytics.history_grew()
            analytics_changed = self.analytics.take(self.jobs.values())
            for chunk in changes.chunks:
                self.chunks.setdefault(chunk.job_id, {})[chunk.index] = chunk
            health_changed = False
            if changes.jobs or self.health.unreachable or now - self._health_checked >= self.health_interval:
                health_changed = self._check_health(now)
            update = Update(
                jobs=list(changes.jobs),
                chunks=list(changes.chunks),
                health_changed=health_changed,
                analytics_changed=analytics_changed,
                read_at=time.time(),
            )
            self.revision = changes.revision
            REFRESHES.inc()
            self.refreshed_at = time.time()
            subscribers = list(self._subscribers.items())
        if update:
            for token, (callback, doc) in subscribers:
                self._deliver(token, callback, doc, update)
        return update

    def _read_all_chunks(self) -> list[Chunk]:
        return self.app.all_chunks()

    @property
    def analytics_frames(self) -> tuple[pd.DataFrame, pd.DataFrame] | None:
        """The latest analytics snapshot (jobs, chunks), shared by every session."""
        return self.analytics.frames

    def _check_health(self, now: float) -> bool:
        workers = tuple(self.app.workers())
        self._health_checked = now
        queued = sum(1 for j in self.jobs.values() if j.status is JobStatus.QUEUED)
        running = sum(1 for j in self.jobs.values() if j.status is JobStatus.RUNNING)
        health = Health(queued=queued, running=running, workers=workers, checked_at=now)
        changed = (health.queued, health.running, len(health.workers), health.unreachable) != (
            self.health.queued,
            self.health.running,
            len(self.health.workers),
            self.health.unreachable,
        )
        self.health = health
        # While jobs are active, sessions re-check them each health tick: elapsed time moves and a job that
        # stopped moving (no store change at all) must still be shown as stalled.
        return changed or bool(queued or running)

    def _deliver(self, token: int, callback: Subscriber, doc: Document | None, update: Update) -> None:
        """Hand ``update`` to a session on its own event loop. While a session has not yet taken its last update
        (a busy server), newer ones are merged into it: a session that falls behind catches up in one step
        instead of replaying every poll."""
        if doc is None or getattr(doc, "session_context", None) is None:
            callback(update)  # a notebook or a test: no event loop to schedule on
            return
        with self._lock:
            waiting = self._pending.get(token)
            self._pending[token] = update if waiting is None else waiting.merged(update)
            if waiting is not None:
                return

        def take() -> None:
            with self._lock:
                latest = self._pending.pop(token, None)
            if latest is not None and token in self._subscribers:
                if latest.jobs or latest.chunks:  # how late this session takes a store change
                    DELIVERY_SECONDS.observe(max(0.0, time.time() - latest.read_at))
                callback(latest)

        with set_curdoc(doc):
            pn.state.execute(take, schedule=True)

    def remaining(self, job: Job, now: float | None = None) -> float | None:
        """Seconds until ``job`` ends, from the shared ETA model and the job's progress so far."""
        return self.eta.remaining(job, now=now, load=max(1, self.health.running))

    def jobs_for(self, user: str | None) -> list[Job]:
        """Jobs newest first, only ``user``'s when a user is given."""
        with self._lock:
            jobs = [j for j in self.jobs.values() if user is None or j.user == user]
        return sorted(jobs, key=lambda j: j.created_at, reverse=True)

    def shared(self, key: Hashable, build: Callable[[], T], *, stamp: object = None) -> T:
        """What every session would otherwise derive from the feed's jobs on its own (History's table, say),
        built once per store revision (and ``stamp``, for what also depends on time) and handed to all of them:
        callers copy before changing it. One entry per key: a newer revision or stamp replaces it. A key that
        depends on a scope is a tuple such as ``("jobs", owner)``, never text built from it: a user named "None"
        must not share the admins' (scope None) entry."""
        with self._lock:
            hit = self._shared.get(key)
            if hit is None or hit[:2] != (self.revision, stamp):
                if len(self._shared) > MAX_SHARED:  # keys name jobs and users: forget what older revisions made
                    self._shared = {k: v for k, v in self._shared.items() if v[0] == self.revision}
                hit = self._shared[key] = (self.revision, stamp, build())
            # one cache for every key, each holding its own build's type: a dict cannot say which, the key does
            return hit[2]  # type: ignore[return-value]

    def batch(self, batch_id: str) -> Batch | None:
        """A batch's record (how many documents it was submitted with), read from the store once per process for
        every session: a record never changes, and its jobs' changes come with the feed's."""
        with self._lock:
            if batch_id not in self._batches:
                try:
                    self._batches[batch_id] = self.app.batch(batch_id, eta=False).totals.batch
                except PaperlineError:
                    self._batches[batch_id] = None
            return self._batches[batch_id]

    def chunks_of(self, job_id: str) -> list[Chunk]:
        with self._lock:
            return [c for _, c in sorted(self.chunks.get(job_id, {}).items())]

    # -- subscribing ---------------------------------------------------------------------------------------
    def subscribe(self, callback: Subscriber) -> int:
        """Call ``callback(update)`` after every refresh that found something, on the caller's session."""
        token = next(self._ids)
        with self._lock:
            self._subscribers[token] = (callback, pn.state.curdoc)
        return token

    def unsubscribe(self, token: int) -> None:
        with self._lock:
            self._subscribers.pop(token, None)
            self._pending.pop(token, None)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    # -- following ----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Follow the store on the follower's background thread (idempotent): reads stay off the event loop."""
        self.follower.start()

    def stop(self) -> None:
        """Stop listening; a follower of the feed's own also stops (a server's shared one follows on)."""
        self.follower.forget(self._listening)
        if self._owns_follower:
            self.follower.stop()


_feed_lock = threading.Lock()


def shared_feed() -> JobFeed:
    """The process's one feed, on the server context's Paperline and follower (shared with the HTTP API),
    created and started on first use and kept in ``pn.state.cache``."""
    with _feed_lock:
        feed = pn.state.cache.get(FEED_CACHE_KEY)
        if feed is None:
            context = server_context()
            feed = JobFeed(context.app.warm(), follower=context.follower)  # the first upload acknowledges at once
            feed.refresh()
            feed.start()
            pn.state.cache[FEED_CACHE_KEY] = feed
        return feed
