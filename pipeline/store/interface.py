"""The job store's interface: the one seam between Paperline and the database that holds its jobs.

Every reader and writer (worker, dashboard, CLI, notebooks) goes through ``JobStore``. It is made of small
protocols (job records, chunk records, recovery queries, the event log, the worker registry, retention); a
backend implements each with the SQL of its database and nothing else: wording comes from ``pipeline.core.messages``,
event kinds and progress milestones from ``pipeline.core.lifecycle``, and what is written once lives on ``JobStore``.

What a backend must make atomic in its database, and every method that relies on it says so:

- **claim**: a queued chunk of a running job is taken by exactly one caller;
- **attempt fencing**: a chunk write naming an attempt is ignored once that attempt no longer owns the chunk (the
  job was canceled, or the chunk was requeued after its worker was presumed dead);
- **exactly one finisher**: of the callers that end a job's chunks, exactly one learns it ended the last one;
- **monotonic progress**: a chunk's pages done never decrease while it runs; a smaller count is a heartbeat;
- **revisions**: every write bumps one store revision, and ``changes_since`` reads a consistent snapshot;
- **limits at creation**: a user's usage is counted in the same transaction as the job's insert, so parallel
  uploads of one user cannot all pass a per-user limit;
- **webhook outbox**: the deliveries an ended job owes its owner's subscriptions (and its own ``callback_url``) are
  written in the transaction that ends it, and a due delivery is claimed by one caller at a time (a lease).

``tests/store_contract.py`` holds the contract every backend must pass (``StoreContract``), run by one test class per
backend: ``tests/unit/test_store_sqlite.py`` and ``tests/integration/test_store_postgres.py``.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.core.models import (
    ApiToken,
    AskReservation,
    AskUsage,
    Batch,
    BatchTotals,
    Chunk,
    ChunkSpan,
    ChunkStatus,
    DeliveryAttempt,
    DeliveryStatus,
    Event,
    Job,
    JobStatus,
    PassageRecord,
    Stage,
    WebhookDelivery,
    WebhookSubscription,
    WorkerBeat,
)


@dataclass(frozen=True)
class NewJob:
    """What intake knows about a document when it records the job."""

    id: str
    filename: str
    kind: str
    profile: str
    engine: str
    sha256: str
    size_bytes: int
    user: str
    pages: int = 0
    status: JobStatus = JobStatus.QUEUED
    stage: Stage = Stage.QUEUED
    message: str = "Queued"
    error: str = ""
    cached_from: str | None = None
    meta: dict[str, Any] | None = None
    batch_id: str | None = None
    priority: int = 0


@dataclass(frozen=True)
class Changes:
    """What changed in the store after a revision: the feed's unit of work."""

    revision: int
    jobs: list[Job]
    chunks: list[Chunk]


class JobRecords(abc.ABC):
    """Jobs: recorded at intake, moved through their stages by the steps, ended once."""

    @abc.abstractmethod
    def create(self, new: NewJob) -> Job:
        """Record a job (queued, answered from cache, or already failed when intake refused it) with its first
        event, and a status event too when it is recorded already ended. A job that has not ended cannot join a
        canceled batch (``BatchCanceled``, nothing recorded)."""

    @abc.abstractmethod
    def create_within_limits(self, new: NewJob, *, since: float, check: Callable[[int, list[float]], None]) -> Job:
        """Record ``new`` as ``create`` does, after calling ``check(active, uploads)`` with ``new.user``'s usage
        (as ``user_usage(new.user, since)`` answers it) read in the same transaction, serialized with every other
        creation for that user: atomic, so of parallel callers no more pass a limit than it allows. When
        ``check`` raises, nothing is recorded and the exception propagates."""

    @abc.abstractmethod
    def get(self, job_id: str) -> Job | None:
        """The job as it is now, or None."""

    @abc.abstractmethod
    def list_recent(
        self,
        *,
        status: JobStatus | None = None,
        user: str | None = None,
        limit: int | None = None,
        name: str | None = None,
        after: str | None = None,
        batch: str | None = None,
    ) -> list[Job]:
        """Jobs newest first, optionally only those with ``status``, of ``user``, whose file name contains
        ``name`` (any case), of the batch ``batch``, at most ``limit``; with ``after`` (a job id), only those listed
        after that job, so a client pages through with the last id it saw (new jobs arriving meanwhile shift
        nothing)."""

    @abc.abstractmethod
    def user_usage(self, user: str, since: float) -> tuple[int, list[float]]:
        """What counts against a user's limits: jobs queued or running now, and the creation times of uploads
        since ``since``, oldest first (uploads refused for a limit, ``meta.refused``, do not count)."""

    @abc.abstractmethod
    def status_counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """How many jobs, and how many chunks, are in each status now (statuses with none are left out)."""

    @abc.abstractmethod
    def oldest_queued(self) -> Job | None:
        """The queued job that has waited longest (the queue's health: ``paperline status``), or None."""

    @abc.abstractmethod
    def find_completed(self, sha256: str, profile: str, engine: str, *, user: str | None = None) -> Job | None:
        """The most recently finished completed job for the same bytes and settings that was itself extracted
        (not answered from cache), only ``user``'s when given, for answering a new upload from cache."""

    @abc.abstractmethod
    def start(self, job_id: str) -> bool:
        """Move a queued job to running/preparing; False (and no change) when it is no longer queued, e.g.
        canceled or taken by another worker: atomic, so exactly one caller prepares a job."""

    @abc.abstractmethod
    def set_stage(self, job_id: str, stage: Stage, message: str, progress: float | None = None) -> None:
        """Move a running job to ``stage`` with a message (and progress) and record it as an event; no change
        once the job has ended."""

    @abc.abstractmethod
    def record_document(
        self, job_id: str, *, pages: int, compressed_bytes: int | None = None, meta: dict[str, Any] | None = None
    ) -> None:
        """Store what preparing learnt about the document (page count, compressed size); ``meta`` is merged into
        the job's existing metadata."""

    @abc.abstractmethod
    def copy_outcome(self, job_id: str, source: Job) -> None:
        """Give a job answered from cache the page, chunk, size, notes and metadata figures of the job it reuses."""

    @abc.abstractmethod
    def add_note(self, job_id: str, note: str) -> None:
        """Attach a note the analyst should read (e.g. OCR unavailable) and record it as an event; a note the
        job already has is ignored."""

    @abc.abstractmethod
    def finish(self, job_id: str, status: JobStatus, message: str, *, error: str = "") -> bool:
        """End a queued or running job with ``status``; False (and no change) when it had already ended. A job
        ended other than completed has its open chunks canceled in the same transaction, so no reader ever sees
        an ended job with chunks still open."""

    def cancel(self, job_id: str, message: str = "Canceled") -> bool:
        """Cancel a queued or running job; False when it had already ended. Canceled is final: its queued chunks
        never run, and running ones find their next write refused (attempt fencing)."""
        return self.finish(job_id, JobStatus.CANCELED, message)


class BatchRecords(abc.ABC):
    """Batches: documents submitted together; their jobs name them (``Job.batch_id``)."""

    @abc.abstractmethod
    def create_batch(self, batch: Batch) -> Batch:
        """Record a batch, before its jobs are created with its id."""

    @abc.abstractmethod
    def cancel_batch(self, batch_id: str, at: float) -> None:
        """Remember that "cancel all" was asked of the batch at ``at`` (the first time counts). From then on
        creating a job of it that has not ended raises ``BatchCanceled``, decided in the transaction that would
        insert it: a job made while the batch is canceled either exists before this returns (and is canceled with
        the others) or is never made."""

    @abc.abstractmethod
    def get_batch(self, batch_id: str) -> Batch | None:
        """The batch, or None."""

    @abc.abstractmethod
    def list_batches(self, *, user: str | None = None, limit: int | None = None) -> list[Batch]:
        """Batches newest first, of ``user`` when given, at most ``limit``."""

    @abc.abstractmethod
    def batch_totals(self, batch_id: str) -> BatchTotals | None:
        """The batch with its jobs summed up (counts by status, pages done of pages, progress, first start and,
        once every job ended, last end), read in one query however many jobs it has; None for no such batch."""


class ChunkRecords(abc.ABC):
    """Chunks: the unit of truth for a job's progress, retries and recovery."""

    @abc.abstractmethod
    def plan_chunks(self, job_id: str, spans: Iterable[ChunkSpan]) -> list[Chunk]:
        """Insert the job's chunks as queued and move the job to extracting; returns them in page order."""

    @abc.abstractmethod
    def list_chunks(self, job_id: str) -> list[Chunk]:
        """A job's chunks in page order."""

    @abc.abstractmethod
    def list_all_chunks(self) -> list[Chunk]:
        """Every chunk of every job, by job then page order (for analytics)."""

    @abc.abstractmethod
    def claim_chunk(self, job_id: str, index: int, worker: str) -> Chunk | None:
        """Take a queued chunk of a running job for ``worker`` as a new attempt; None when it is not there to take.
        Atomic: of two callers racing for one chunk, exactly one gets it."""

    @abc.abstractmethod
    def update_chunk_progress(self, job_id: str, index: int, pages_done: int, *, attempt: int | None = None) -> bool:
        """Record pages done (and a heartbeat) for a running chunk and recompute the job's progress. A count not
        above the recorded one is only a heartbeat, so progress never steps back (atomic compare in the database).
        False when the chunk is no longer ``attempt``'s (attempt fencing)."""

    @abc.abstractmethod
    def requeue_chunk(self, job_id: str, index: int, error: str, *, attempt: int | None = None) -> None:
        """Put ``attempt``'s running chunk back in the queue after a transient error, keeping the error on it."""

    @abc.abstractmethod
    def release_chunk(self, job_id: str, index: int, *, attempt: int) -> bool:
        """Put ``attempt``'s running chunk back in the queue because its worker is stopping: not counted against the
        chunk's attempt budget (``attempts`` still grows, so the attempt stays fenced out). False if the chunk is no
        longer that attempt's."""

    @abc.abstractmethod
    def record_chunk_usage(
        self, job_id: str, index: int, input_tokens: int, output_tokens: int, cost_usd: float
    ) -> None:
        """Add an API call's token counts and estimated cost to a chunk, and re-total the job from its chunks."""

    @abc.abstractmethod
    def retry_failed(self, job_id: str) -> list[int]:
        """Reopen a failed job's failed chunks (as queued) and the job (as extracting); returns their indexes, or
        nothing when the job is not failed or has no failed chunk."""

    @abc.abstractmethod
    def run_canceled_again(self, job_id: str) -> tuple[str, list[int]]:
        """Reopen a canceled job whose files are kept, where it stopped: one canceled before it was split goes
        back to the queue as new (``"document"``); one with chunks not done has them queued again, each with its
        whole attempt budget (``"chunks"`` and their indexes); one with every chunk done goes back to merging
        (``"merge"``). ``("", [])`` when the job is not canceled or its files are gone. The caller enqueues."""

    @abc.abstractmethod
    def retry_step(self, job_id: str) -> bool:
        """Reopen a failed job whose chunks are all done but whose merge (embedding, indexing) failed: back to
        merging, with that step's attempt budget whole again. True if reopened (the caller enqueues the merge)."""

    @abc.abstractmethod
    def finish_chunk(
        self, job_id: str, index: int, status: ChunkStatus, *, error: str = "", attempt: int | None = None
    ) -> bool:
        """End ``attempt``'s running chunk (done, failed or canceled). True for exactly one caller: the one whose
        chunk was the job's last open one, which moves the job to merging (exactly one finisher)."""


class RecoveryQueries(abc.ABC):
    """The store's side of recovery: find lost work and hand each item to exactly one sweeper. What counts as lost
    (ages, limits) is decided by ``pipeline.worker.recovery``."""

    @abc.abstractmethod
    def recover_stale(
        self, older_than: float, *, max_attempts: int
    ) -> tuple[list[tuple[str, int]], list[str], list[str]]:
        """Requeue work lost with dead workers: running chunks of running jobs whose heartbeat is older than
        ``older_than`` (epoch seconds), jobs stuck preparing before their chunks were planned, and jobs whose
        merge (embedding, indexing) has gone quiet. Returns (chunks, jobs to prepare again, jobs to merge again);
        atomic, so each item goes to exactly one caller. A chunk whose ``max_attempts``-th attempt (since the last
        retry) was lost fails instead (the job goes on to merge if it was the last open chunk, and is returned
        with the merges); a step lost for the ``max_attempts``-th time fails its job."""

    @abc.abstractmethod
    def begin_step(self, job_id: str, stage: Stage) -> bool:
        """A worker starts a running job's step (preparing, merging, embedding): counted until ``end_step``, so
        that recovery tells a step lost with its worker (counted against its attempts) from one whose task is still
        waiting in the queue (queued again, at no cost). False once the job left ``stage``."""

    @abc.abstractmethod
    def end_step(self, job_id: str) -> None:
        """The worker that began a step is done with it (whatever the outcome)."""

    @abc.abstractmethod
    def beat_step(self, job_id: str, stage: Stage) -> bool:
        """Record that a running job's step (preparing, merging, embedding) is still being worked on, so recovery
        does not take it back while it runs long; no revision, no event. False once the job left ``stage``."""

    @abc.abstractmethod
    def expire_overdue(
        self, started_before: float, *, max_attempts: int, limit_s: float
    ) -> tuple[list[tuple[str, int]], list[str]]:
        """Take back running chunks started before ``started_before`` (over their time limit, maybe hung):
        requeued while they have had fewer than ``max_attempts`` attempts, failed after. Returns the chunks to
        enqueue and the jobs whose last chunk this ended, to merge (exactly one finisher)."""

    @abc.abstractmethod
    def stranded(self, older_than: float) -> tuple[list[tuple[str, int]], list[str]]:
        """Queued chunks of running jobs, and queued jobs, unchanged since ``older_than``: candidates for work whose
        queue message was lost with a worker (the caller checks the queue before queueing them again)."""


class EventLog(abc.ABC):
    """What happened, in order: the audit trail and the changes feed the dashboard follows."""

    @abc.abstractmethod
    def list_events(self, job_id: str | None = None, *, after_id: int = 0, limit: int | None = None) -> list[Event]:
        """Events in the order they happened, of one job or all, after event ``after_id``, at most ``limit``."""

    @abc.abstractmethod
    def changes_since(self, revision: int) -> Changes:
        """Jobs and chunks written after ``revision``, read in one consistent snapshot, with the revision read up
        to. Idle polls must be cheap: one indexed read when nothing changed."""

    @abc.abstractmethod
    def record_wait(self, job_id: str, message: str, chunk_index: int | None = None) -> None:
        """Write on the job's trail that a step waits out a fault of a service it needs (``EventKind.WAITING``)."""

    #: whether ``wait_for_change`` returns as soon as a write commits (so readers need not poll fast)
    notifies_changes = False

    def wait_for_change(self, timeout_s: float) -> bool:
        """Block until the store may have changed, or ``timeout_s`` passed; True means "read now". A backend that
        can say so (PostgreSQL's LISTEN/NOTIFY) returns as soon as a write commits; by default this just waits,
        so readers poll every ``timeout_s``."""
        time.sleep(timeout_s)
        return True


class WorkerRegistry(abc.ABC):
    """Which worker processes are alive: heartbeats, and goodbyes when they stop."""

    @abc.abstractmethod
    def beat_worker(self, worker_id: str, host: str, pid: int) -> None:
        """Record that a worker process is alive now (a beat after a goodbye brings it back)."""

    @abc.abstractmethod
    def beat_job(self, job_id: str) -> None:
        """A step of this running job is alive though it writes nothing (it waits out a fault): recovery, which
        takes back preparations and merges that stopped moving, must leave it alone."""

    @abc.abstractmethod
    def worker_stopped(self, worker_ids: Iterable[str]) -> None:
        """Record that these worker processes stopped: they are no longer alive, whatever their last beat says."""

    @abc.abstractmethod
    def list_workers(self, *, max_age_s: float | None = None) -> list[WorkerBeat]:
        """Workers that have not said goodbye and beat within ``max_age_s`` (any age when None), most recent beat
        first."""


class RetentionRecords(abc.ABC):
    """What retention needs: when a job's result was last used, and which jobs' files are gone."""

    @abc.abstractmethod
    def touch(self, job_id: str) -> None:
        """Record that a job's result was used now (read or downloaded), for least-recently-used retention."""

    @abc.abstractmethod
    def purge_candidates(self, user: str | None = None) -> list[Job]:
        """Finished jobs whose files are still kept (only ``user``'s when given), least recently used (or
        finished) first."""

    @abc.abstractmethod
    def mark_purged(self, job_id: str, note: str) -> None:
        """Record that a job's files were deleted, with a note and an event, and forget its passages (search no
        longer finds them); the job stays in history."""


class PassageRecords(abc.ABC):
    """Retrieval jobs' passages and their vectors; embedding fans in to indexing as extraction fans in to merging."""

    @abc.abstractmethod
    def start_embedding(self, job_id: str, passages: Sequence[PassageRecord]) -> bool:
        """Record a merging job's passages (replacing earlier ones) and move it to embedding; False if it is no
        longer merging."""

    @abc.abstractmethod
    def passages_to_embed(self, job_id: str, first: int, count: int) -> list[PassageRecord]:
        """Passages ``first`` to ``first + count - 1`` that have no vector yet."""

    @abc.abstractmethod
    def unembedded_passages(self, job_id: str) -> list[int]:
        """Indexes of the job's passages without a vector."""

    @abc.abstractmethod
    def save_vectors(self, job_id: str, vectors: Sequence[tuple[int, bytes]]) -> bool:
        """Store vectors (first write wins) and the job's progress; True for the one caller that completed the
        job's embedding and moved it to indexing."""

    @abc.abstractmethod
    def list_passages(self, job_id: str, *, vectors: bool = False) -> list[PassageRecord]:
        """A job's passages in order (with their vectors when asked)."""

    @abc.abstractmethod
    def passage_vectors(self, job_id: str) -> list[tuple[int, bytes]]:
        """(index, vector) of the job's embedded passages."""

    @abc.abstractmethod
    def passages_at(self, job_id: str, indexes: Sequence[int]) -> list[PassageRecord]:
        """The job's passages with these indexes."""

    @abc.abstractmethod
    def searchable_jobs(self, user: str | None = None) -> dict[str, int]:
        """Completed retrieval jobs with files kept (only ``user``'s when given), with their revision."""

    @abc.abstractmethod
    def keyword_passages(
        self,
        phrases: Sequence[str],
        *,
        limit: int,
        user: str | None = None,
        jobs: Sequence[str] | None = None,
    ) -> list[tuple[str, int, float]]:
        """(job id, passage index, relevance) of the ``limit`` passages of searchable jobs (only ``user``'s when
        given, only ``jobs`` when given) that hold any of ``phrases``, most relevant first (BM25 on SQLite,
        ts_rank_cd on PostgreSQL). Each phrase is plain text, matched as its words in order, never query syntax.
        The index is written in the transactions that write and forget passages."""


class ApiTokens(abc.ABC):
    """Personal API tokens, kept as digests: a token found by its digest acts for its user until revoked."""

    @abc.abstractmethod
    def add_token(self, token: ApiToken, digest: str) -> None:
        """Record a new token under the digest of its secret."""

    @abc.abstractmethod
    def token_for(self, digest: str) -> ApiToken | None:
        """The token with this digest, unless it was revoked (an expired one is returned: the caller says so)."""

    @abc.abstractmethod
    def list_tokens(self, user: str | None = None) -> list[ApiToken]:
        """Tokens (revoked ones too), of one user or all, newest first."""

    @abc.abstractmethod
    def revoke_token(self, token_id: str, user: str | None = None) -> bool:
        """Revoke a token (only ``user``'s when given); False when there is no such live token."""

    @abc.abstractmethod
    def revoke_user_tokens(self, user: str) -> int:
        """Revoke every live token of ``user``; how many were revoked."""


class AskUsageRecords(abc.ABC):
    """What each user's answers to questions cost per day: summed as they are recorded, read for the daily budget."""

    @abc.abstractmethod
    def record_ask_usage(self, user: str, day: str, input_tokens: int, output_tokens: int, cost_usd: float) -> None:
        """Add one answer's tokens and cost to ``user``'s row for ``day`` (made on the first answer of the day)."""

    @abc.abstractmethod
    def list_ask_usage(self, user: str | None = None, day: str | None = None) -> list[AskUsage]:
        """Rows per user and day (only ``user``'s, only ``day``'s when given), newest day first."""

    @abc.abstractmethod
    def reserve_ask(self, reservation: AskReservation, *, check: Callable[[float, float, int], None]) -> None:
        """Record ``reservation`` (an answer under way and the most it may cost) after calling ``check(spent,
        reserved, under_way)`` with its user's recorded cost that day, the sum of their live reservations and how
        many those are, read in the same transaction and serialized with every other reservation: atomic, so
        parallel questions cannot all pass a budget or a count. When ``check`` raises, nothing is recorded.
        Reservations past their ``expires_at`` (a process that died mid-answer) count for nothing and are
        dropped."""

    @abc.abstractmethod
    def settle_ask(self, reservation: AskReservation, input_tokens: int, output_tokens: int, cost_usd: float) -> None:
        """End an answer's reservation and add what the answer cost to its user's row for the reservation's day
        (as ``record_ask_usage`` does; nothing when it used no tokens), in one transaction. The cost is recorded
        even when the reservation was dropped meanwhile (it expired)."""


@dataclass(frozen=True)
class AttemptOutcome:
    """What one POST of a delivery came to, and what follows (decided above the store: ``pipeline.webhooks``)."""

    status_code: int | None
    error: str
    response: str
    duration_s: float
    #: delivered, failed for good, or pending again at ``next_attempt_at``
    status: DeliveryStatus
    next_attempt_at: float | None = None
    #: when ``status`` is failed and the message came from a subscription: why it is now failing
    failing_reason: str = ""


class WebhookRecords(abc.ABC):
    """Webhook subscriptions and the deliveries outbox. Every job's end (``finish``, ``cancel``, a job recorded
    already ended, recovery failing it) writes, in its own transaction, one pending delivery per active
    subscription of the job's owner that listens to that event, plus one to the job's ``meta.callback_url``."""

    #: a user's pending deliveries past which an event's new delivery is recorded as failed, not sent ("Not sent:
    #: ..."), so a user's backlog stays bounded; ``open_store`` sets it from ``PAPERLINE_WEBHOOK_MAX_PENDING_PER_USER``
    max_pending_deliveries: int = 10_000

    @abc.abstractmethod
    def add_subscription(
        self,
        subscription: WebhookSubscription,
        secret: str,
        *,
        check: Callable[[list[WebhookSubscription]], None] | None = None,
    ) -> None:
        """Record a subscription with its signing secret (kept server-side, never read back by a listing), after
        calling ``check`` with the user's subscriptions read in the same transaction, serialized with every other
        subscription of theirs: atomic, so parallel requests cannot pass a cap or make a duplicate. When ``check``
        raises, nothing is recorded."""

    @abc.abstractmethod
    def list_subscriptions(self, user: str | None = None) -> list[WebhookSubscription]:
        """Subscriptions, of one user or all, newest first."""

    @abc.abstractmethod
    def get_subscription(self, subscription_id: str) -> WebhookSubscription | None:
        """One subscription, or None."""

    @abc.abstractmethod
    def remove_subscription(self, subscription_id: str, user: str | None = None) -> bool:
        """Delete a subscription (only ``user``'s when given) and its deliveries not yet sent; False if none."""

    @abc.abstractmethod
    def signing_secret(self, subscription_id: str | None, user: str) -> str | None:
        """The secret that signs a delivery: its subscription's, or (``subscription_id`` None, a job's
        ``callback_url``) ``user``'s callback secret; None when there is none (the subscription was removed)."""

    @abc.abstractmethod
    def callback_secret(self, user: str, new_secret: str) -> str:
        """The secret signing ``user``'s ``callback_url`` deliveries: the one recorded, or ``new_secret`` recorded
        now if there was none (atomic: concurrent first calls agree on one)."""

    @abc.abstractmethod
    def record_webhook_event(
        self,
        user: str,
        event: str,
        data: dict[str, Any],
        *,
        job_id: str | None = None,
        callback_url: str = "",
        subscription_id: str | None = None,
    ) -> list[WebhookDelivery]:
        """Write one pending delivery of ``event`` with ``data`` per active subscription of ``user`` listening to
        it (only ``subscription_id``, active or not, when given), and one to ``callback_url`` if given; returns
        them. The hook for events other than a job's end (``batch.completed``), in its own transaction."""

    @abc.abstractmethod
    def claim_deliveries(
        self, now: float, *, limit: int, lease_s: float, claim: str, per_user: int = 0
    ) -> list[WebhookDelivery]:
        """Take up to ``limit`` pending deliveries due at ``now`` (oldest due first) whose lease, if any, ran out,
        leasing them to ``claim`` for ``lease_s``: atomic, so of racing callers each delivery goes to one. A
        claimer that dies leaves its deliveries to be taken again when the lease ends (at least once). With
        ``per_user``, no user ends up with more than that many deliveries leased at once (counting every
        claimer's live leases; claims are serialized, so racing claimers cannot pass it together): a user at the
        cap is skipped, and others' deliveries are taken instead."""

    @abc.abstractmethod
    def record_attempt(self, delivery_id: str, claim: str, outcome: AttemptOutcome) -> bool:
        """Record one attempt of a delivery claimed by ``claim`` and what follows (delivered, pending again, or
        failed; the subscription's last status, and failing with ``outcome.failing_reason`` when it failed, active
        again when delivered). False, and nothing recorded, when the claim no longer holds the delivery."""

    @abc.abstractmethod
    def get_delivery(self, delivery_id: str) -> WebhookDelivery | None:
        """One delivery, or None."""

    @abc.abstractmethod
    def list_deliveries(
        self, *, subscription_id: str | None = None, job_id: str | None = None, limit: int | None = None
    ) -> list[WebhookDelivery]:
        """Deliveries of one subscription (or of one job, or all), newest first, at most ``limit``."""

    @abc.abstractmethod
    def list_attempts(self, delivery_id: str) -> list[DeliveryAttempt]:
        """Every attempt of a delivery, first first."""


class JobStore(
    JobRecords,
    BatchRecords,
    ChunkRecords,
    RecoveryQueries,
    EventLog,
    WorkerRegistry,
    RetentionRecords,
    ApiTokens,
    PassageRecords,
    WebhookRecords,
    AskUsageRecords,
):
    """Jobs, their chunks, their events and the workers: every write is one transaction and bumps the revision."""

    #: Seconds each call waits out a transient outage of the database (``pipeline.store.retries``): 0, failing
    #: fast, for the server (which answers 503); ``PAPERLINE_TRANSIENT_RETRY_S`` for a worker.
    retry_s: float = 0.0

    @abc.abstractmethod
    def initialize_schema(self) -> None:
        """Create tables and indexes if missing (and add columns newer releases need); safe from every process."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release this process's connections."""
