"""Acting on jobs: submitting a document (acknowledged at once: validated, stored, enqueued; or answered from the
cache; or refused with a reason recorded), cancelling, deleting its files, and running it again."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core import messages
from pipeline.core.errors import (
    BatchCanceled,
    EngineUnavailable,
    InvalidRequest,
    LimitReached,
    WrongState,
)
from pipeline.core.models import (
    Job,
    JobStatus,
    Stage,
)
from pipeline.engines import ENGINES, engine_unavailable_reason
from pipeline.files.jobfiles import (
    copy_results,
)
from pipeline.profiles.registry import default_profile, engine_profiles, get_profile
from pipeline.service.users import (
    LOCAL_USER,
    REFUSED_FOR_LIMIT,
    check_limits,
    create_within_limits,
)
from pipeline.store import NewJob

if TYPE_CHECKING:  # (for types only: each is imported where first used, so a short command stays fast)
    from pipeline.documents.intake import Received, Source


from pipeline.service.core import new_job_id
from pipeline.service.job_reading import JobReading

#: the queue priorities a submission may ask for: a higher one is taken first (0, the default, is the lowest)
PRIORITIES = range(0, 11)


def check_priority(priority: int) -> None:
    if priority not in PRIORITIES:
        raise InvalidRequest(f"priority must be a whole number from {PRIORITIES[0]} to {PRIORITIES[-1]}")


class JobActions(JobReading):
    """Submit, cancel, delete and retry jobs."""

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
