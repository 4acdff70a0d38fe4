"""Immutable snapshots of jobs, chunks and events as read from the store.

Another process (the worker) writes these rows, so readers get frozen copies rather than live objects.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from pipeline.core.lifecycle import EventKind, Stage


class JobStatus(str, Enum):
    """Where a job is in its life; the values are stored verbatim."""

    #: acknowledged, waiting for a worker
    QUEUED = "queued"
    #: a worker is preparing, splitting, extracting or merging it
    RUNNING = "running"
    #: every page was extracted and the results are written
    COMPLETED = "completed"
    #: refused at intake, or one or more chunks failed (a partial result may exist)
    FAILED = "failed"
    #: stopped by a user
    CANCELED = "canceled"

    @property
    def is_final(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED)


class ChunkStatus(str, Enum):
    """A chunk's state: per-chunk status is the unit of truth for progress, retry and recovery."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_final(self) -> bool:
        return self in (ChunkStatus.DONE, ChunkStatus.FAILED, ChunkStatus.CANCELED)


class DocumentKind(str, Enum):
    PDF = "pdf"
    IMAGE = "image"


@dataclass(frozen=True)
class Job:
    """One submitted document and everything known about its processing."""

    id: str
    filename: str
    kind: str
    profile: str
    engine: str
    status: JobStatus
    stage: Stage
    progress: float
    message: str
    pages: int
    pages_done: int
    chunks_total: int
    chunks_done: int
    chunks_failed: int
    created_at: float
    started_at: float | None
    finished_at: float | None
    updated_at: float
    error: str
    sha256: str
    size_bytes: int
    user: str
    cached_from: str | None
    compressed_bytes: int | None
    notes: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    last_used_at: float | None = None
    purged_at: float | None = None
    #: times recovery took back the job's current step (preparing, merging, embedding, indexing) after its worker
    #: went quiet; reset when the job enters its next step
    step_recoveries: int = 0
    #: the batch it was submitted in (several files at once), or None for a job of its own
    batch_id: str | None = None
    #: the queue's order: tasks of a higher priority are taken first (on queues that honour priority)
    priority: int = 0

    @property
    def is_final(self) -> bool:
        return self.status.is_final

    @property
    def can_run_again(self) -> bool:
        """What "Retry" may act on: a failed job that ``can_retry``, or a canceled one whose upload was kept (one of
        a batch canceled before its upload was stored has none)."""
        if self.status is JobStatus.CANCELED:
            return self.size_bytes > 0 and not self.purged_at
        return self.can_retry

    @property
    def can_retry(self) -> bool:
        """Failed with chunks to run again, or with every chunk done and a step after them (merge, embedding,
        indexing) to run again."""
        if self.status is not JobStatus.FAILED:
            return False
        after_chunks = self.stage in (Stage.MERGING, Stage.EMBEDDING, Stage.INDEXING)
        return self.chunks_failed > 0 or (after_chunks and 0 < self.chunks_total == self.chunks_done)

    @property
    def duration_s(self) -> float | None:
        """Processing time on workers, from first pick-up to the end (or now, while running)."""
        if self.started_at is None:
            return None
        end = self.finished_at if self.finished_at is not None else self.updated_at
        return max(0.0, end - self.started_at)

    @property
    def queue_wait_s(self) -> float | None:
        if self.started_at is None:
            return None
        return max(0.0, self.started_at - self.created_at)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        data["stage"] = self.stage.value
        data["notes"] = list(self.notes)
        data["duration_s"] = self.duration_s
        return data


@dataclass(frozen=True)
class Batch:
    """Documents submitted together: one unit to follow, cancel, retry and download."""

    id: str
    user: str
    name: str
    created_at: float
    #: how many documents it was submitted with
    jobs: int
    #: when "cancel all" was asked (None: never); no job joins it after that
    canceled_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BatchTotals:
    """A batch's jobs summed up as the store reads them, in one query: counts by status, pages, progress."""

    batch: Batch
    #: jobs in each status (every status present, zero when none)
    counts: dict[str, int]
    pages: int
    pages_done: int
    #: the sum of the jobs' progress (0-100 each), an ended job counting as 100
    progress_sum: float
    started_at: float | None
    finished_at: float | None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def documents(self) -> int:
        """How many documents the batch was submitted with. Its jobs are created one by one, each through intake,
        so the first may end before the last exists: the batch is not over, nor further along, for that."""
        return max(self.batch.jobs, self.total)

    @property
    def ended(self) -> int:
        return sum(self.counts.get(status.value, 0) for status in JobStatus if status.is_final)

    @property
    def is_final(self) -> bool:
        """Every job of the batch exists and has ended (completed, failed or canceled)."""
        return self.total > 0 and self.ended == self.documents

    @property
    def progress(self) -> float:
        """How far the batch is, 0-100: its documents' progress averaged, an ended job counting as whole and a job
        not yet created as nothing."""
        return min(100.0, self.progress_sum / self.documents) if self.total else 0.0


@dataclass(frozen=True)
class Chunk:
    """A run of pages extracted as one task; ``first_page``..``last_page`` (1-based) are the pages it owns."""

    job_id: str
    index: int
    first_page: int
    last_page: int
    context_first: int
    context_last: int
    status: ChunkStatus
    attempts: int
    worker: str
    pages_done: int
    started_at: float | None
    finished_at: float | None
    heartbeat_at: float | None
    error: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    #: ``attempts`` when the job was last retried: ``attempts`` only grows (it fences out stale attempts), and the
    #: attempt budget counts the attempts above this
    attempt_base: int = 0

    @property
    def pages(self) -> int:
        return self.last_page - self.first_page + 1

    @property
    def attempts_used(self) -> int:
        """Attempts counted against the chunk's budget: those since the job's last Retry."""
        return self.attempts - self.attempt_base

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return max(0.0, self.finished_at - self.started_at)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        return data


@dataclass(frozen=True)
class Event:
    """One line of a job's audit trail: a status or stage change, a progress step, a chunk outcome."""

    id: int
    job_id: str
    at: float
    kind: EventKind
    status: str
    stage: str
    progress: float
    chunk_index: int | None
    message: str


@dataclass(frozen=True)
class WorkerBeat:
    """The last sign of life of one consumer process."""

    id: str
    host: str
    pid: int
    started_at: float
    heartbeat_at: float


@dataclass(frozen=True)
class ApiToken:
    """A personal token for the HTTP API: who it acts for and whether it still works (the secret is never kept,
    only its digest)."""

    id: str
    user: str
    name: str
    created_at: float
    revoked_at: float | None = None
    #: when it stops working (epoch seconds); None: until revoked
    expires_at: float | None = None

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PassageRecord:
    """A passage of a retrieval job's merged text as stored: ``text`` is ``merged[start:end]``; ``vector`` is
    the embedding (float32 bytes, unit length) once a worker has made it."""

    job_id: str
    index: int
    text: str
    start: int
    end: int
    pages: tuple[int, ...]
    headings: tuple[str, ...]
    tokens: int
    vector: bytes | None = None


@dataclass(frozen=True)
class AskUsage:
    """What one user's questions to Claude cost on one day (UTC): answers, tokens and the estimated dollars."""

    user: str
    #: the UTC day, ``YYYY-MM-DD``
    day: str
    questions: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AskReservation:
    """An answer under way: the most it may cost, held against its user's daily budget until the answer ends."""

    id: str
    user: str
    #: the UTC day its cost is recorded on
    day: str
    amount_usd: float
    created_at: float
    #: past this it counts for nothing (its process died mid-answer)
    expires_at: float


@dataclass(frozen=True)
class ChunkSpan:
    """A planned chunk: the pages it owns and the wider page range it may read for context (1-based)."""

    index: int
    first_page: int
    last_page: int
    context_first: int
    context_last: int


@dataclass(frozen=True)
class PageText:
    """The extracted text of one page (1-based) and how it was obtained."""

    page: int
    text: str
    method: str = "text-layer"  # or "ocr", "claude", "empty"
    #: glyphs the PDF's fonts could not map to text (dropped, or U+FFFD inside a word)
    unreadable: int = 0
    #: the page's layout where a profile asked for structure (a scan's from OCR, marked ``scanned``): its ``width`` and
    #: ``height`` (points) and its ``elements`` in reading order (``Element.to_record`` dicts)
    layout: dict[str, Any] | None = None


class WebhookEvent(str, Enum):
    """What a webhook tells a receiver; the values are the Standard Webhooks ``type`` sent and stored verbatim."""

    #: a job ended with every page extracted (also one answered from cache)
    JOB_COMPLETED = "job.completed"
    #: a job ended failed (refused at intake, chunks failed, a step kept dying)
    JOB_FAILED = "job.failed"
    #: a job was canceled
    JOB_CANCELED = "job.canceled"
    #: every job of a batch ended
    BATCH_COMPLETED = "batch.completed"
    #: sent only by ``paperline webhook test``, to the one subscription tested
    TEST = "webhook.test"

    @classmethod
    def for_job(cls, status: JobStatus) -> WebhookEvent:
        return cls(f"job.{JobStatus(status).value}")


#: the events a subscriber may ask for (a test is sent on demand, never subscribed to)
SUBSCRIBABLE_EVENTS = tuple(event.value for event in WebhookEvent if event is not WebhookEvent.TEST)


class SubscriptionState(str, Enum):
    """Whether a subscription is sent new events."""

    #: new events are delivered to it
    ACTIVE = "active"
    #: a delivery ran out of attempts: no new events until a test delivery gets through (``reason`` says why)
    FAILING = "failing"


class DeliveryStatus(str, Enum):
    """Where one webhook message is in its life; the values are stored verbatim."""

    #: waiting for its next attempt (the first, or a retry after a failed one)
    PENDING = "pending"
    #: a receiver answered 2xx
    DELIVERED = "delivered"
    #: every attempt of its retry window failed
    FAILED = "failed"


@dataclass(frozen=True)
class WebhookSubscription:
    """A user's receiver of webhook events (its secret stays in the store and is shown once, at creation)."""

    id: str
    user: str
    url: str
    events: tuple[str, ...]
    created_at: float
    state: SubscriptionState = SubscriptionState.ACTIVE
    #: why it is failing ("" while active)
    reason: str = ""
    #: the outcome of its last attempt, as text ("200", "timed out", ...)
    last_status: str = ""
    last_attempt_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["events"] = list(self.events)
        data["state"] = self.state.value
        return data


@dataclass(frozen=True)
class WebhookDelivery:
    """One message for one receiver: its id is the Standard Webhooks ``webhook-id`` (``msg_...``), the same on
    every attempt, so a receiver drops duplicates by it."""

    id: str
    subscription_id: str | None
    job_id: str | None
    user: str
    url: str
    event: str
    payload: dict[str, Any]
    status: DeliveryStatus
    attempts: int
    next_attempt_at: float | None
    last_status_code: int | None
    last_error: str
    created_at: float
    updated_at: float
    delivered_at: float | None = None
    #: the claim of the worker sending it now ("" when none): its outcome is recorded only under this claim
    claim: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        data.pop("claim")
        return data


@dataclass(frozen=True)
class DeliveryAttempt:
    """One POST of a delivery and what came of it (the receiver's answer kept as text, truncated)."""

    delivery_id: str
    attempt: int
    at: float
    status_code: int | None
    error: str
    response: str
    duration_s: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
