"""``Paperline``: the Python API the CLI, the dashboard and notebooks share.

It acknowledges a document at once (validate, store, enqueue) and reads jobs, chunks, events and results back.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pipeline.core import messages
from pipeline.core.batches import BatchView
from pipeline.core.errors import (
    BatchCanceled,
    BatchNotFound,
    EngineUnavailable,
    FilesGone,
    InvalidRequest,
    JobNotFound,
    LimitReached,
    NoWorkerRunning,
    WrongState,
)
from pipeline.core.models import (
    ApiToken,
    AskUsage,
    Batch,
    Chunk,
    Event,
    Job,
    JobStatus,
    Stage,
    WebhookDelivery,
    WebhookSubscription,
    WorkerBeat,
)
from pipeline.core.settings import Settings
from pipeline.core.text import clean_query, has_lone_surrogate
from pipeline.documents.page_images import DEFAULT_WIDTH, PageImage
from pipeline.engines import ENGINES, engine_unavailable_reason
from pipeline.files.jobfiles import (
    COMPRESSED_IMAGE,
    FORMAT_FILES,
    MADE_FORMATS,
    Download,
    JobFiles,
    copy_results,
    download_name,
    job_files,
    result_name,
)
from pipeline.files.storage import open_storage
from pipeline.profiles.registry import default_profile, engine_profiles, find_profile, get_profile
from pipeline.service.users import (
    LOCAL_USER,
    REFUSED_FOR_LIMIT,
    check_limits,
    create_within_limits,
    is_admin,
    owner_scope,
    signed_in_user,
)
from pipeline.store import Changes, JobStore, NewJob, open_store

if TYPE_CHECKING:  # pandas costs ~0.6 s to import; only notebooks and analytics need it
    import pandas as pd
    from huey import Huey
    from prometheus_client import CollectorRegistry

    from pipeline.documents.intake import Received, Source
    from pipeline.insight.eta import EtaError, EtaModel
    from pipeline.profiles.retrieval.index import PassageIndex, SearchHit
    from pipeline.profiles.retrieval.ranking import SearchMode
    from pipeline.service.ask import Answer, AskEvent, SentPassage
    from pipeline.service.page_images import PageImageCache
    from pipeline.service.search import PassageSearch
    from pipeline.worker.tasks import BoundTasks

__all__ = ["LOCAL_USER", "Paperline"]


@dataclass(frozen=True)
class QueueHealth:
    """The queue at one moment: what waits, what runs, who works on it."""

    queued: int
    running: int
    #: chunks waiting for a worker (of running jobs as well as queued ones)
    chunks_queued: int
    workers: list[WorkerBeat]
    #: the queued job that has waited longest (None when nothing waits)
    oldest_queued: Job | None

    def to_dict(self, now: float) -> dict[str, Any]:
        oldest = self.oldest_queued
        return {
            "queued": self.queued,
            "running": self.running,
            "chunks_queued": self.chunks_queued,
            "workers": len(self.workers),
            "oldest_queued": None
            if oldest is None
            else {"id": oldest.id, "filename": oldest.filename, "waiting_s": round(now - oldest.created_at, 1)},
        }


def new_job_id() -> str:
    return os.urandom(6).hex()  # 48 random bits, as the first 12 hex digits of a uuid4 (without importing uuid)


#: the queue priorities a submission may ask for: a higher one is taken first (0, the default, is the lowest)
PRIORITIES = range(0, 11)


def check_priority(priority: int) -> None:
    if priority not in PRIORITIES:
        raise InvalidRequest(f"priority must be a whole number from {PRIORITIES[0]} to {PRIORITIES[-1]}")


class Paperline:
    """Submit documents and read their jobs; one instance per process is enough."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        store: JobStore | None = None,
        queue: Huey | None = None,
        count_statements: bool = True,
    ) -> None:
        """``count_statements``: the store's statements in this process's Prometheus counter (a short command,
        which no one scrapes, leaves it off)."""
        self.settings = settings or Settings.from_env()
        self.settings.home.mkdir(parents=True, exist_ok=True)
        self.store = store or open_store(self.settings, count_statements=count_statements)
        self.storage = open_storage(self.settings)
        self._passage_search: PassageSearch | None = None
        self._passage_search_lock = threading.Lock()
        self._queue = queue
        self._tasks: BoundTasks | None = None
        self._page_images: PageImageCache | None = None

    @property
    def tasks(self) -> BoundTasks:
        """The job's steps bound to this queue; bound on first use, so commands that only read (``paperline
        status``) never import Huey or the extraction engines. ``warm()`` binds them ahead of the first upload."""
        if self._tasks is None:
            from pipeline.jobs.steps import Processor
            from pipeline.worker.tasks import bind_tasks

            self._tasks = bind_tasks(self.queue, lambda bound: Processor(self.settings, self.store, bound))
        return self._tasks

    def warm(self) -> Paperline:
        """Load what submitting needs (queue, tasks, document readers) now, so the first upload acknowledges as
        fast as the rest: for long-running processes such as the dashboard. Documents are opened by the intake
        inspector's subprocess, never here; Pillow's bomb limit is still set from the pixel budget, for any image
        this process decodes."""
        from pipeline.documents import inspection  # noqa: F401
        from pipeline.documents.images import apply_pixel_budget

        apply_pixel_budget(self.settings.max_image_pixels)
        _ = self.tasks
        return self

    @property
    def queue(self) -> Huey:
        if self._queue is None:
            from huey_config import make_huey

            self._queue = make_huey(self.settings)
        return self._queue

    def close(self) -> None:
        self.store.close()

    # -- submission -----------------------------------------------------------------------------------------
    def submit(
        self,
        source: Source,
        filename: str | None = None,
        *,
        profile: str | None = None,
        engine: str = "local",
        user: str = LOCAL_USER,
        instruction: str = "",
        callback_url: str = "",
        priority: int = 0,
        batch_id: str | None = None,
    ) -> Job:
        """Acknowledge a document: a queued job, a completed job served from cache, or a failed job saying
        why the document was refused. A request that cannot run (bad profile, engine unavailable, a priority out
        of range, a ``callback_url`` that is no public http(s) receiver) raises ``InvalidRequest``. A higher
        ``priority`` is taken from the queue first. The job's end is posted to ``callback_url``, signed with the
        user's callback secret (``webhook_callback_secret``)."""
        from pipeline.documents.intake import receive, sanitize_filename
        from pipeline.files.retention import enforce_limits
        from pipeline.service import webhooks as hooks

        profile = default_profile(engine) if profile is None else profile  # "" names no profile: refused
        self.check_request(engine, profile, instruction)
        check_priority(priority)
        hook = {"callback_url": hooks.check_url(self.settings, callback_url)} if callback_url.strip() else {}
        if isinstance(source, (str, Path)):
            filename = filename or Path(source).name
            if not Path(source).is_file():
                raise InvalidRequest(f"No such file: {source}")
        name = sanitize_filename(filename or "document")
        job: dict[str, Any] = dict(
            id=new_job_id(), filename=name, profile=profile, engine=engine, user=user, batch_id=batch_id
        )
        job["priority"] = priority
        meta = {"instruction": instruction.strip()} if get_profile(profile).needs_instruction else {}
        if batch_id is not None and self._batch_canceled(batch_id):  # "cancel all" came during the drop
            return self._canceled_with_batch(job, meta={**meta, **hook})
        try:
            check_limits(self.settings, self.store, user)  # before the bytes are stored: most refusals end here
        except LimitReached as exc:
            from pipeline.documents.intake import Received

            return self._refused(job, Received(name, refused=exc), meta={**REFUSED_FOR_LIMIT, **hook})
        received = receive(source, name, self.files(job["id"]), self.settings)
        if received.refused is not None:
            return self._refused(job, received, meta={**meta, **hook})
        job.update(kind=received.kind, sha256=received.sha256, size_bytes=received.size, pages=received.pages)
        try:
            cached = self._answer_from_cache(job, hook) if get_profile(profile).cacheable and not meta else None
            if cached is not None:
                return cached
            created = create_within_limits(self.settings, self.store, NewJob(**job, meta={**meta, **hook}))
        except LimitReached as exc:  # a parallel upload of the same user took the last place: keep no bytes
            self.files(job["id"]).delete()
            received.refused = exc
            return self._refused(job, received, meta={**REFUSED_FOR_LIMIT, **hook})
        except BatchCanceled:  # canceled between the check above and the insert: no job joins it
            self.files(job["id"]).delete()
            return self._canceled_with_batch(job, meta={**meta, **hook})
        enforce_limits(self.settings, self.store, self.storage, user=user)
        try:
            self.tasks.enqueue_document(created.id, priority=created.priority)
        except Exception as exc:
            self.store.finish(created.id, JobStatus.FAILED, messages.not_queued(exc), error=messages.not_queued(exc))
        return self.get(created.id)

    def _refused(self, job: dict, received: Received, *, meta: dict) -> Job:
        """Record a refused upload as a failed job saying why (its bytes are not kept)."""
        assert received.refused is not None  # every caller passes a refused upload
        why = str(received.refused)
        meta = {**meta, "refusal": received.refused.code}  # its error's code: the HTTP API's status comes from it
        new = NewJob(
            **{**job, "kind": received.kind, "sha256": received.sha256, "size_bytes": received.size},
            status=JobStatus.FAILED,
            message=why,
            error=why,
            meta=meta,
        )
        return self.store.create(new)

    def _batch_canceled(self, batch_id: str) -> bool:
        batch = self.store.get_batch(batch_id)
        return batch is not None and batch.canceled_at is not None

    def _canceled_with_batch(self, job: dict, *, meta: dict) -> Job:
        """Record a document of a drop that was canceled before it became a job: canceled, its bytes not kept."""
        new = NewJob(
            **{**job, "kind": job.get("kind", "unknown"), "sha256": job.get("sha256", ""), "size_bytes": 0},
            status=JobStatus.CANCELED,
            message=messages.CANCELED_WITH_BATCH,
            meta=meta or None,
        )
        return self.store.create(new)

    def _answer_from_cache(self, job: dict, hook: dict[str, str]) -> Job | None:
        """A completed job for the same bytes and settings whose results are still there: copied, not redone.
        The new job has its own copy of the results; another user's job is neither named nor opened to them."""
        mine = None if self.settings.share_cache else job["user"]
        cached = self.store.find_completed(job["sha256"], job["profile"], job["engine"], user=mine)
        if cached is None or not self.files(cached.id).available_formats():
            return None
        own = cached.user == job["user"]
        copy_results(self.files(cached.id), self.files(job["id"]))
        created = create_within_limits(
            self.settings,
            self.store,
            NewJob(
                **job,
                status=JobStatus.COMPLETED,
                stage=Stage.COMPLETED,
                message=(
                    messages.served_from_cache(cached.id, cached.filename)
                    if own
                    else messages.SERVED_FROM_CACHE_ANONYMOUS
                ),
                cached_from=cached.id if own else messages.CACHED_FROM_SHARED,
                meta=hook or None,
            ),
        )
        self.store.copy_outcome(created.id, cached)
        return self.get(created.id)

    def is_admin(self, user: str) -> bool:
        return is_admin(self.settings, user)

    def owner_scope(self, user: str) -> str | None:
        """Whose jobs ``user`` may see and act on (see ``pipeline.service.users``)."""
        return owner_scope(self.settings, user)

    def check_request(self, engine: str, profile: str, instruction: str = "") -> None:
        """Refuse, with a plain reason, a request that cannot run: unknown or unavailable engine, a profile the
        engine does not offer, a custom instruction left empty."""
        if engine not in ENGINES:
            raise InvalidRequest(f"Unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}")
        reason = engine_unavailable_reason(engine, self.settings)
        if reason:
            raise EngineUnavailable(reason)
        if profile not in engine_profiles(engine):
            offered = ", ".join(engine_profiles(engine))
            raise InvalidRequest(f"Unknown profile {profile!r} for the {engine} engine; choose one of: {offered}")
        chosen = get_profile(profile)
        if chosen.needs_instruction and not instruction.strip():
            raise InvalidRequest(f"The {profile} profile needs an instruction saying what to extract.")
        if reason := chosen.unavailable():
            raise EngineUnavailable(reason)

    def engines(self) -> dict[str, str]:
        """Each engine and why it is unavailable ("" when it can be used)."""
        return {engine: engine_unavailable_reason(engine, self.settings) for engine in ENGINES}

    def stall_reason(self, job: Job, chunks: list[Chunk] | None = None) -> str:
        """Why a queued or running job is not moving ("" when it is)."""
        from pipeline.insight.stall import stall_reason

        chunks = self.chunks(job.id) if chunks is None else chunks
        return stall_reason(
            job,
            chunks,
            workers_alive=len(self.workers()),
            now=time.time(),
            stall_after_s=self.settings.stall_after_s,
            chunk_time_limit_s=self.settings.chunk_time_limit_s,
        )

    def cancel(self, job_id: str, *, user: str | None = None) -> Job:
        """Stop a job: queued chunks never run, running ones stop at their next page; canceled is final."""
        job = self.get(job_id, user=user)
        if job.is_final:
            raise WrongState(f"Job {job_id} has already ended ({job.status.value}); there is nothing to cancel.")
        self.store.cancel(job_id, messages.canceled_by(user or job.user))
        return self.get(job_id)

    def delete(self, job_id: str, *, user: str | None = None) -> Job:
        """Delete an ended job's files (upload, pages, results); its history row stays, marked with who deleted
        them, as retention's purge does, so analytics and the audit trail keep every job."""
        job = self.get(job_id, user=user)
        if not job.is_final:
            raise WrongState(messages.delete_unfinished(job_id, job.status.value))
        if not job.purged_at:
            self.files(job_id).delete()
            self.store.mark_purged(job_id, messages.files_deleted(user or job.user))
        return self.get(job_id)

    def retry(self, job_id: str, *, user: str | None = None) -> Job:
        """Run a failed job's failed chunks again, then merge afresh; chunks that were done are kept. A job whose
        chunks are all done but whose merge (embedding) failed runs that step again. A canceled job runs again
        from where it stopped (``run_canceled_again``)."""
        job = self.get(job_id, user=user)
        if job.status is JobStatus.CANCELED:
            return self.run_canceled_again(job)
        if job.status is not JobStatus.FAILED:
            raise WrongState(messages.only_failed_or_canceled_retry(job_id, job.status.value))
        if not job.can_retry:
            raise WrongState(f"Job {job_id} has no failed chunks to retry ({job.error or 'refused at intake'}).")
        self.check_request(job.engine, job.profile, str(job.meta.get("instruction", "")))
        if not job.chunks_failed:  # every chunk is done: its merge (or embedding) failed, and runs again
            if self.store.retry_step(job_id):
                self.tasks.enqueue_merge(job_id, priority=job.priority)
            return self.get(job_id)
        for index in self.store.retry_failed(job_id):
            self.tasks.enqueue_chunk(job_id, index, priority=job.priority)
        return self.get(job_id)

    def run_canceled_again(self, job: Job) -> Job:
        """Run a canceled job again where it stopped: its chunks done are kept, the others queued again (or, when
        it was canceled before it was split, the document is prepared afresh); its upload must still be kept."""
        if not job.can_run_again or self.files(job.id).find_source() is None:
            why = "its files were deleted" if job.purged_at else "its upload was not kept"
            raise InvalidRequest(messages.cannot_run_again(job.id, why))
        self.check_request(job.engine, job.profile, str(job.meta.get("instruction", "")))
        step, chunks = self.store.run_canceled_again(job.id)
        if step == "document":
            self.tasks.enqueue_document(job.id, priority=job.priority)
        elif step == "merge":
            self.tasks.enqueue_merge(job.id, priority=job.priority)
        for index in chunks:
            self.tasks.enqueue_chunk(job.id, index, priority=job.priority)
        if not step:  # run again, or its files deleted, by someone else at this very moment
            raise InvalidRequest(messages.only_failed_or_canceled_retry(job.id, self.get(job.id).status.value))
        return self.get(job.id)

    def queue_health(self) -> QueueHealth:
        """The queue at a glance (``paperline status`` without a job): jobs queued and running, chunks waiting,
        live workers, and the job waiting longest."""
        jobs, chunks = self.status_counts()
        return QueueHealth(
            queued=jobs.get(JobStatus.QUEUED.value, 0),
            running=jobs.get(JobStatus.RUNNING.value, 0),
            chunks_queued=chunks.get(JobStatus.QUEUED.value, 0),
            workers=self.workers(),
            oldest_queued=self.store.oldest_queued(),
        )

    # -- batches (pipeline.service.batches) ----------------------------------------------------------------------
    def submit_batch(
        self,
        sources: Sequence[tuple[Source, str | None]],
        *,
        name: str = "",
        user: str = LOCAL_USER,
        on_job: Callable[[Job], None] | None = None,
        **options: Any,
    ) -> tuple[Batch, list[Job]]:
        """Submit documents together as one batch: each (source, filename) becomes a job of it, as ``submit``
        makes one (``options``: profile, engine, instruction, priority), ``on_job`` told of each as it is made
        (intake reads each document in turn: a caller shows them arrive). A request that cannot run is refused
        before anything is recorded."""
        if not sources:
            raise InvalidRequest("A batch needs at least one document.")
        engine = options.get("engine", "local")
        profile = options.get("profile")
        self.check_request(
            engine, default_profile(engine) if profile is None else profile, options.get("instruction", "")
        )
        check_priority(options.get("priority", 0))
        batch = self.store.create_batch(
            Batch(new_job_id(), user, name or messages.batch_name(len(sources)), time.time(), len(sources))
        )
        jobs = []
        for source, filename in sources:
            jobs.append(self.submit(source, filename, user=user, batch_id=batch.id, **options))
            if on_job is not None:
                on_job(jobs[-1])
        return batch, jobs

    def batch(self, batch_id: str, *, user: str | None = None, eta: bool = True) -> BatchView:
        """The batch's status: its jobs summed up in one store query, and (``eta``) the seconds left, from the ETA
        model as each job's own."""
        totals = self.store.batch_totals(batch_id)
        if totals is None or (user is not None and totals.batch.user != user):
            raise BatchNotFound(f"No batch {batch_id!r}")
        if not eta or totals.is_final:
            return BatchView(totals, 0.0 if totals.is_final else None)
        from pipeline.insight.eta import batch_remaining_seconds

        jobs = self.batch_jobs(batch_id)
        seconds = batch_remaining_seconds(
            self.eta_model(),
            jobs,
            workers=len(self.workers()),
            extracting_since=self.extraction_starts([job for job in jobs if job.stage is Stage.EXTRACTING]),
        )
        return BatchView(totals, seconds)

    def batch_jobs(self, batch_id: str, *, user: str | None = None) -> list[Job]:
        """The batch's jobs, in the order they were submitted."""
        if user is not None:
            self.batch(batch_id, user=user, eta=False)
        return list(reversed(self.store.list_recent(batch=batch_id)))

    def batches(self, *, user: str | None = None, limit: int | None = None) -> list[Batch]:
        return self.store.list_batches(user=user, limit=limit)

    def cancel_batch(self, batch_id: str, *, user: str | None = None) -> BatchView:
        """Cancel every job of the batch that has not ended, and every document of it still to become a job (a drop
        still arriving): from now on none joins it."""
        view = self.batch(batch_id, user=user, eta=False)
        still_to_come = view.totals.total < view.totals.batch.jobs
        if still_to_come or any(not job.is_final for job in self.batch_jobs(batch_id)):
            self.store.cancel_batch(batch_id, time.time())  # first: a job made from here on is refused
        open_jobs = [job for job in self.batch_jobs(batch_id) if not job.is_final]
        if not open_jobs and not still_to_come:
            raise WrongState(messages.nothing_to_cancel_in(batch_id))
        for job in open_jobs:
            self.store.cancel(job.id, messages.canceled_by(user or view.totals.batch.user))
        return self.batch(batch_id, eta=False)

    def retry_batch(self, batch_id: str, *, user: str | None = None) -> BatchView:
        """Run the failed chunks of each failed job of the batch again (``retry`` per job); jobs refused at intake
        have none and are left as they are."""
        self.batch(batch_id, user=user, eta=False)
        again = [job for job in self.batch_jobs(batch_id) if job.can_retry]
        if not again:
            raise WrongState(messages.nothing_to_retry_in(batch_id))
        for job in again:
            self.retry(job.id)
        return self.batch(batch_id)

    def write_batch_results(self, batch_id: str, out: IO[bytes], *, user: str | None = None) -> list[dict[str, Any]]:
        """Every job's main result as one zip written to ``out`` (one result in memory at a time), with a manifest
        naming the jobs that have none and why; returns the manifest's entries."""
        from pipeline.service.batches import write_results_zip

        jobs = self.batch_jobs(batch_id, user=user)

        def read(job: Job) -> tuple[str, bytes] | None:
            try:
                fmt = self.result_format(job.id)
                return fmt, self.result_bytes(job.id, fmt)
            except InvalidRequest:
                return None

        return write_results_zip(out, jobs, read)

    # -- personal API tokens (pipeline.service.tokens) ----------------------------------------------------------------
    def create_api_token(self, user: str, name: str = "", *, expires_in_s: float | None = None) -> tuple[ApiToken, str]:
        """A token for a signed-in user (``UserRefused`` for a reserved or no longer allowed name)."""
        from pipeline.service import tokens

        return tokens.create_token(self.store, user, name, expires_in_s=expires_in_s, settings=self.settings)

    def api_token(self, secret: str) -> ApiToken:
        """The live token a program presents (``TokenRefused`` saying why when it does not work)."""
        from pipeline.service import tokens

        return tokens.authenticate(self.store, secret, self.settings)

    def api_tokens(self, user: str | None = None) -> list[ApiToken]:
        return self.store.list_tokens(user)

    def revoke_api_token(self, token_id: str, *, user: str | None = None) -> None:
        from pipeline.service import tokens

        tokens.revoke(self.store, token_id, user=user)

    def revoke_user_api_tokens(self, user: str) -> int:
        """Revoke every live token of ``user`` (who leaves); how many."""
        from pipeline.service import tokens

        return tokens.revoke_user(self.store, user)

    # -- webhooks (pipeline.service.webhooks; sent by the workers) ------------------------------------------------
    def add_webhook(
        self, user: str, url: str, events: Iterable[str] | str | None = None
    ) -> tuple[WebhookSubscription, str]:
        """Subscribe ``user``'s receiver at ``url`` to ``events`` (every job event when None); returns it and its
        signing secret, shown this once (``WebhookRefused`` for a URL or events that cannot be accepted)."""
        from pipeline.service import webhooks as hooks

        return hooks.subscribe(self.store, self.settings, user, url, events)

    def webhooks(self, user: str | None = None) -> list[WebhookSubscription]:
        """Subscriptions, of one user or (None) all."""
        return self.store.list_subscriptions(user)

    def webhook(self, subscription_id: str, *, user: str | None = None) -> WebhookSubscription:
        from pipeline.service import webhooks as hooks

        return hooks.find(self.store, subscription_id, user)

    def remove_webhook(self, subscription_id: str, *, user: str | None = None) -> None:
        from pipeline.service import webhooks as hooks

        hooks.remove(self.store, subscription_id, user)

    def test_webhook(self, subscription_id: str, *, user: str | None = None) -> WebhookDelivery:
        """Queue a signed ``webhook.test`` delivery to the subscription; a worker sends it."""
        from pipeline.service import webhooks as hooks

        return hooks.send_test(self.store, subscription_id, user)

    def webhook_log(self, subscription_id: str, *, user: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """The subscription's deliveries, newest first, with every attempt."""
        from pipeline.service import webhooks as hooks

        return hooks.delivery_log(self.store, subscription_id, user, limit)

    def webhook_callback_secret(self, user: str) -> str:
        """The secret signing ``user``'s ``callback_url`` deliveries (made on first use)."""
        from pipeline.service import webhooks as hooks

        return hooks.callback_secret(self.store, user)

    def sign_in(self, name: str | None) -> str:
        """The user a sign-in names, checked (``UserRefused`` for a reserved or no longer allowed name)."""
        return signed_in_user(self.settings, name)

    # -- reading --------------------------------------------------------------------------------------------
    def get(self, job_id: str, *, user: str | None = None) -> Job:
        job = self.store.get(job_id)
        if job is None or (user is not None and job.user != user):
            raise JobNotFound(f"No job {job_id!r}")
        return job

    def jobs(
        self,
        *,
        status: JobStatus | str | None = None,
        user: str | None = None,
        limit: int | None = None,
        name: str | None = None,
        after: str | None = None,
    ) -> list[Job]:
        status = JobStatus(status) if status else None
        return self.store.list_recent(status=status, user=user, limit=limit, name=name, after=after)

    def chunks(self, job_id: str, *, user: str | None = None) -> list[Chunk]:
        if user is not None:
            self.get(job_id, user=user)
        return self.store.list_chunks(job_id)

    def events(self, job_id: str | None = None, *, after_id: int = 0, user: str | None = None) -> list[Event]:
        """Events in the order they happened, of one job or all, after event ``after_id``."""
        if user is not None:
            if job_id is None:
                raise InvalidRequest("Name a job to read its events as a user.")
            self.get(job_id, user=user)
        return self.store.list_events(job_id, after_id=after_id)

    def all_chunks(self) -> list[Chunk]:
        """Every job's chunks, for analytics over the whole history."""
        return self.store.list_all_chunks()

    def status_counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """Jobs and chunks by status: what health checks and metrics report."""
        return self.store.status_counts()

    # -- following changes (``pipeline.live``: one follower per process) --------------------------------------
    def changes_since(self, revision: int) -> Changes:
        """Jobs and chunks written after ``revision``, and the revision read up to."""
        return self.store.changes_since(revision)

    def wait_for_change(self, timeout_s: float) -> bool:
        """Block until the store may have changed (at once on PostgreSQL's NOTIFY), or ``timeout_s`` passed."""
        return self.store.wait_for_change(timeout_s)

    @property
    def notifies_changes(self) -> bool:
        return self.store.notifies_changes

    def store_metrics(self) -> CollectorRegistry:
        """Prometheus metrics read from the store when scraped: jobs by status, queue depth, live workers."""
        from pipeline.worker.metrics import store_registry

        return store_registry(self.store)

    def workers(self, *, max_age_s: float | None = None) -> list[WorkerBeat]:
        """Worker processes alive now: they beat recently and have not said goodbye; on this host, their process
        must also still exist (a worker killed with -9 cannot say goodbye, but its pid is gone)."""
        age = max_age_s if max_age_s is not None else max(10.0, 3 * self.settings.heartbeat_interval_s)
        import socket

        here = socket.gethostname()
        return [w for w in self.store.list_workers(max_age_s=age) if w.host != here or _process_exists(w.pid)]

    def files(self, job_id: str) -> JobFiles:
        return job_files(self.settings, self.storage, job_id)

    def result_formats(self, job_id: str, *, user: str | None = None) -> list[str]:
        """Formats of this job's result: those written, the profile's main format first, then those made from them
        when asked for (``xlsx`` wherever there are ``tables``)."""
        job = self.get(job_id, user=user)
        written = set(self.files(job_id).available_formats())
        known = find_profile(job.profile)  # a job of a plug-in no longer installed still shows its files
        formats = [fmt for fmt in (known.formats if known else tuple(FORMAT_FILES)) if fmt in written]
        return formats + [fmt for fmt, made in MADE_FORMATS.items() if made.source in formats]

    def result_format(self, job_id: str, fmt: str | None = None, *, user: str | None = None) -> str:
        """The format to read (the profile's main one when ``fmt`` is None), or why there is none."""
        formats = self.result_formats(job_id, user=user)
        if not formats:
            job = self.get(job_id)
            if job.purged_at:
                why = next((note for note in reversed(job.notes) if note.startswith("Files ")), "")
                raise FilesGone(messages.files_gone(job_id, why))
            raise WrongState(f"Job {job_id} has no result yet (status: {job.status.value}).")
        fmt = fmt or formats[0]
        if fmt not in formats:
            raise WrongState(f"Job {job_id} has no {fmt} result; available: {', '.join(formats)}")
        return fmt

    def result_bytes(self, job_id: str, fmt: str | None = None, *, user: str | None = None) -> bytes:
        """The result in ``fmt`` (the profile's main format when None): a stored file, or one made from them."""
        fmt = self.result_format(job_id, fmt, user=user)
        files = self.files(job_id)
        made = MADE_FORMATS.get(fmt)
        data = (
            files.read(result_name(fmt)) if made is None else made.make(lambda stored: files.read(result_name(stored)))
        )
        if data is None:
            raise FilesGone(f"The result of job {job_id} is no longer in storage.")
        self.store.touch(job_id)
        return data

    def result_download(self, job_id: str, fmt: str | None = None, *, user: str | None = None) -> Download:
        """The result in ``fmt`` as a file to save, named after the document and the format (``report.md``,
        ``report.tables.json``, ``report.xlsx``): what every download (API, CLI, page) sends."""
        job = self.get(job_id, user=user)
        fmt = self.result_format(job_id, fmt, user=user)
        data = self.result_bytes(job_id, fmt, user=user)
        return Download(download_name(job.filename, fmt, fallback=job.id), FORMAT_FILES[fmt][1], data)

    def result(self, job_id: str, fmt: str | None = None, *, user: str | None = None) -> str:
        return self.result_bytes(job_id, fmt, user=user).decode("utf-8")

    def result_tables(self, job_id: str, *, user: str | None = None) -> list[dict[str, Any]]:
        """The tables found in the job's document (its ``tables`` result: ``index``, ``pages``, ``rows``, ...); none
        where the job has no such result."""
        if "tables" not in self.result_formats(job_id, user=user):
            return []
        return list(json.loads(self.result(job_id, "tables", user=user)).get("tables", []))

    def tables(self, job_id: str, *, raw: bool = False, user: str | None = None) -> list[pd.DataFrame]:
        """The document's tables as pandas DataFrames, in its order: every header row kept (several make a column
        MultiIndex), columns of numbers read as numbers ("1,234" is 1234, "(12)" is -12, "12.5%" is 0.125; a dash
        is missing); ``raw=True`` keeps every cell's text as printed. Each frame's ``attrs`` name the table:
        ``index``, ``pages``, ``caption``, ``header_rows`` (``pipeline.tables.frames``). An empty list where the job
        ended with no tables; ``InvalidRequest`` while it has no result yet."""
        from pipeline.tables.frames import table_frames
        from pipeline.tables.results import tables_of

        formats = self.result_formats(job_id, user=user)
        if not formats:
            self.result_format(job_id, user=user)  # raises: no result yet, or its files are gone
        if "tables" not in formats:
            return []
        files = self.files(job_id)
        found, captions, _ = tables_of(
            lambda fmt: files.read(result_name(fmt)) if fmt in formats and fmt not in MADE_FORMATS else None
        )
        return table_frames(found, raw=raw, captions=captions)

    def table_csv(self, job_id: str, index: int, *, user: str | None = None) -> bytes:
        """One table of the job's document (``index`` as in ``result_tables``, from 1) as CSV."""
        from pipeline.profiles.structured import table_csv

        found = next((t for t in self.result_tables(job_id, user=user) if t.get("index") == index), None)
        if found is None:
            raise InvalidRequest(f"Job {job_id} has no table {index}.")
        return table_csv(found.get("rows", [])).encode("utf-8")

    def compressed_image_bytes(self, job_id: str, *, user: str | None = None) -> bytes | None:
        self.get(job_id, user=user)
        return self.files(job_id).read(COMPRESSED_IMAGE)

    def page_image(
        self, job_id: str, page: int, *, width: int = DEFAULT_WIDTH, fmt: str = "png", user: str | None = None
    ) -> PageImage:
        """Page ``page`` (1-based) of the job's document as an image ``width`` pixels wide (600-2000), PNG or WebP,
        drawn from the stored source in a subprocess and kept for the next viewer (``service.page_images``)."""
        job = self.get(job_id, user=user)
        from pipeline.service.page_images import PageImageCache, page_image

        if self._page_images is None:
            self._page_images = PageImageCache()
        return page_image(self._page_images, self.settings, job, self.files(job_id), page, width, fmt)

    def source_bytes(self, job_id: str, *, user: str | None = None) -> bytes | None:
        """The uploaded file as stored (None once it is gone)."""
        self.get(job_id, user=user)
        files = self.files(job_id)
        name = files.find_source()
        return files.read(name) if name else None

    def wait(
        self,
        job_ids: Iterable[str],
        *,
        timeout_s: float | None = None,
        poll_s: float = 0.2,
        on_update: Callable[[list[Job]], None] | None = None,
    ) -> list[Job]:
        """Block until every job has ended (or ``timeout_s`` passes); returns the latest snapshots.

        Never waits on nothing: when no worker has been alive for ``settings.stall_after_s`` while jobs are still
        queued or running, raises ``NoWorkerRunning`` saying how to start one."""
        ids = list(job_ids)
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        alive_at = time.monotonic()
        checked_at = 0.0
        while True:
            jobs = [self.get(job_id) for job_id in ids]
            if on_update is not None:
                on_update(jobs)
            now = time.monotonic()
            if all(job.is_final for job in jobs) or (deadline is not None and now >= deadline):
                return jobs
            if now - checked_at >= 1.0:
                checked_at = now
                if self.workers():
                    alive_at = now
                elif now - alive_at >= self.settings.stall_after_s:
                    waiting = sum(1 for job in jobs if not job.is_final)
                    raise NoWorkerRunning(messages.no_worker_to_finish(waiting))
            time.sleep(poll_s)

    # -- time ------------------------------------------------------------------------------------------------
    def eta_model(self) -> EtaModel:
        """The ETA model fitted on this store's finished jobs."""
        from pipeline.insight.eta import EtaModel

        return EtaModel.fit(self.jobs())

    def extraction_starts(self, jobs: Iterable[Job]) -> dict[str, float]:
        """When each job's first chunk began (jobs not yet extracting are left out): what the ETA measures a job's
        own pace from (``EtaModel.remaining_seconds(extracting_since=...)``)."""
        from pipeline.insight.eta import first_chunk_start

        starts = {job.id: first_chunk_start(self.store.list_chunks(job.id)) for job in jobs}
        return {job_id: at for job_id, at in starts.items() if at is not None}

    def eta_error(self, *, held_back: float = 0.3) -> EtaError | None:
        """How far the ETA was from the truth on the most recent ``held_back`` share of finished jobs."""
        from pipeline.insight.eta import evaluate

        return evaluate(self.jobs(), self.events(), held_back=held_back)

    # -- notebooks ------------------------------------------------------------------------------------------
    def jobs_frame(self, **filters: Any) -> pd.DataFrame:
        from pipeline.insight.frames import jobs_frame

        return jobs_frame(self.jobs(**filters))

    def chunks_frame(self, job_id: str | None = None) -> pd.DataFrame:
        from pipeline.insight.frames import chunks_frame

        return chunks_frame(self.chunks(job_id) if job_id else self.store.list_all_chunks())

    def events_frame(self, job_id: str | None = None) -> pd.DataFrame:
        from pipeline.insight.frames import events_frame

        return events_frame(self.events(job_id))

    # -- passages of retrieval jobs (pipeline.service.search) ----------------------------------------------------
    @property
    def passage_search(self) -> PassageSearch:
        """Search over the retrieval jobs' passages: made on first use (its index loads passages from the store)."""
        with self._passage_search_lock:
            if self._passage_search is None:
                from pipeline.service.search import PassageSearch

                self._passage_search = PassageSearch(self.store)
            return self._passage_search

    @property
    def passage_index(self) -> PassageIndex:
        return self.passage_search.index

    def search(
        self,
        query: str,
        *,
        top_k: int = 5,
        jobs: Iterable[str] | None = None,
        user: str | None = None,
        mode: SearchMode | str = "hybrid",
    ) -> list[SearchHit]:
        """The ``top_k`` passages that best answer ``query``, best first (``user``'s jobs only when given): by
        ``mode`` "hybrid" (meaning and words fused), "semantic" (meaning) or "keyword" (words; needs no model).
        Control characters in the query are spaces; a lone surrogate is no query (``InvalidRequest``)."""
        if has_lone_surrogate(query):
            raise InvalidRequest(messages.QUERY_NOT_TEXT)
        return self.passage_search.hits(clean_query(query), top_k=top_k, jobs=jobs, user=user, mode=mode)

    def search_frame(self, query: str, **options: Any) -> pd.DataFrame:
        return self.passage_search.frame(query, **options)

    def passages(self, job_id: str, *, user: str | None = None, vectors: bool = False) -> list[dict[str, Any]]:
        return self.passage_search.passages(self.get(job_id, user=user), vectors=vectors)

    # -- asking the documents (pipeline.service.ask) --------------------------------------------------------------
    def ask_stream(
        self,
        question: str,
        *,
        jobs: Iterable[str] | None = None,
        user: str = LOCAL_USER,
        no_model: bool = False,
    ) -> Iterator[AskEvent]:
        """The answer to ``question`` from ``user``'s passages (only ``jobs``' when given), as events: text as it
        comes, then the checked citations, notes, and the whole answer. Claude answers when an API key is set and
        ``no_model`` is False, else the answer is extractive. Refuses at once (before any event) a question that is
        empty, too long or not text (``InvalidRequest``), one over the user's daily budget (``AskBudgetReached``)
        and one beyond the answers a user may have under way (``AskBusy``). The answer's reservation is settled
        when its events end."""
        from pipeline.service import ask

        question = ask.check_question(question)
        use_model = self.settings.anthropic_api_key_set and not no_model
        if use_model:
            ask.check_budget(self.settings, self.store, user)
        scope = self.owner_scope(user)
        hits = self.search(question, top_k=self.settings.ask_passages, jobs=jobs, user=scope)
        client = None
        most = 0.0
        if use_model and hits:
            from pipeline.engines.claude import client_for

            client = client_for(self.settings)
            most = ask.max_cost(self.settings, question, [ask.sent_passage(hit) for hit in hits])
        reservation = ask.reserve(self.settings, self.store, user, most)

        def still_visible(sent: SentPassage) -> bool:
            try:
                self.get(sent.hit.job_id, user=scope)
            except JobNotFound:
                return False
            found = self.store.passages_at(sent.hit.job_id, [sent.hit.passage])
            return bool(found) and found[0].text == sent.hit.text

        def record(answer: Answer) -> None:
            self.store.settle_ask(reservation, answer.input_tokens, answer.output_tokens, answer.cost_usd)

        return ask.answer_events(
            question, hits, settings=self.settings, client=client, still_visible=still_visible, record=record
        )

    def ask(
        self,
        question: str,
        jobs: Iterable[str] | None = None,
        *,
        user: str = LOCAL_USER,
        no_model: bool = False,
        on_text: Callable[[str], None] | None = None,
    ) -> Answer:
        """``ask_stream`` to its end: the whole answer; ``on_text`` gets each piece of text as it comes."""
        for event in self.ask_stream(question, jobs=jobs, user=user, no_model=no_model):
            if event.kind == "text" and on_text is not None:
                on_text(event.text)
            elif event.kind == "end" and event.answer is not None:
                return event.answer
        raise AssertionError("an answer's events always end with the answer")

    def ask_usage(self, user: str | None = None, day: str | None = None) -> list[AskUsage]:
        """What answers cost per user and day (one user's, one day's when given), newest day first."""
        return self.store.list_ask_usage(user, day)

    def costs_by_day(self, user: str | None = None) -> list[dict[str, Any]]:
        """Per user and UTC day, extraction and answers side by side: tokens and estimated USD of each."""
        from pipeline.service.ask import costs_by_day

        return costs_by_day(self.jobs(user=user), self.ask_usage(user))


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
