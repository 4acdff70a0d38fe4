"""``Paperline``: the Python API the CLI, the dashboard and notebooks share.

It acknowledges a document at once (validate, store, enqueue) and reads jobs, chunks, events and results back.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING

from .config import Settings
from .exceptions import (
    DocumentRejected,
    DocumentTooLarge,
    EmptyDocument,
    EngineUnavailable,
    InvalidRequest,
    JobNotFound,
    LimitReached,
    NoWorkerRunning,
    UnsupportedType,
)
from .intake import SNIFF_BYTES, SUPPORTED_LABEL, describe_bytes, detect_type, sanitize_filename
from .models import Chunk, DocumentKind, Event, Job, JobStatus, Stage, WorkerBeat
from .profiles import DEFAULT_PROFILE, ENGINE_PROFILES, ENGINES, PROFILE_FORMATS, engine_unavailable_reason
from .results import FORMAT_FILES, JobFiles, copy_results
from .retention import enforce_limits
from .store import JobStore, NewJob, open_store

if TYPE_CHECKING:  # pandas costs ~0.6 s to import; only notebooks and analytics need it
    import pandas as pd

    from .eta import EtaError, EtaModel

LOCAL_USER = "local"
COPY_BLOCK = 1024 * 1024


def new_job_id() -> str:
    return uuid.uuid4().hex[:12]


class Paperline:
    """Submit documents and read their jobs; one instance per process is enough."""

    def __init__(self, settings: Settings | None = None, *, store: JobStore | None = None, queue=None):  # type: ignore[no-untyped-def]
        self.settings = settings or Settings.from_env()
        self.settings.home.mkdir(parents=True, exist_ok=True)
        self.store = store or open_store(self.settings)
        self._queue = queue
        self._bound: dict | None = None

    @property
    def _tasks(self):  # type: ignore[no-untyped-def]
        """The Huey tasks bound to this queue; bound on first use, so commands that only read (``paperline status``)
        never import Huey or the extraction engines. ``warm()`` binds them ahead of the first upload."""
        if self._bound is None:
            from .tasks import tasks_for

            self._bound = tasks_for(self.queue)
        return self._bound

    def warm(self) -> Paperline:
        """Load what submitting needs (queue, tasks, document readers) now, so the first upload acknowledges as
        fast as the rest: for long-running processes such as the dashboard."""
        from . import images, pdf  # noqa: F401

        _ = self._tasks
        return self

    @property
    def queue(self):  # type: ignore[no-untyped-def]
        if self._queue is None:
            from huey_config import make_huey

            self._queue = make_huey(self.settings)
        return self._queue

    def close(self) -> None:
        self.store.close()

    # -- submission -----------------------------------------------------------------------------------------
    def submit(
        self,
        source: Path | str | bytes | IO[bytes],
        filename: str | None = None,
        *,
        profile: str | None = None,
        engine: str = "local",
        user: str = LOCAL_USER,
        instruction: str = "",
    ) -> Job:
        """Acknowledge a document: a queued job, a completed job served from cache, or a failed job saying
        why the document was refused. A request that cannot run (bad profile, engine unavailable) raises
        ``InvalidRequest``."""
        profile = profile or ENGINE_PROFILES.get(engine, (DEFAULT_PROFILE,))[0]
        self.check_request(engine, profile, instruction)
        if isinstance(source, (str, Path)):
            path = Path(source)
            filename = filename or path.name
            if not path.is_file():
                raise InvalidRequest(f"No such file: {path}")
        name = sanitize_filename(filename or "document")
        job_id = new_job_id()
        files = JobFiles(self.settings.job_dir(job_id))
        base = dict(id=job_id, filename=name, profile=profile, engine=engine, user=user)
        meta = {"instruction": instruction.strip()} if profile == "custom" else {}
        try:
            self._check_limits(user)
            size, head = _size_and_head(source)
            base["size_bytes"] = size
            if size == 0:
                raise EmptyDocument(f"{name} is empty (0 bytes); there is nothing to extract.")
            if size > self.settings.max_upload_bytes:
                shown = f"{size / 2**20:.1f} MB"
                if float(shown.split()[0]) <= self.settings.max_upload_mb:
                    shown = f"{size:,} bytes"  # just over the limit: "1.0 MB, over the 1 MB limit" would puzzle
                raise DocumentTooLarge(f"{name} is {shown}, over the {self.settings.max_upload_mb} MB upload limit.")
            file_type = detect_type(head)
            if file_type is None:
                raise UnsupportedType(
                    f"{name} is not a {SUPPORTED_LABEL} file: {describe_bytes(head)}. "
                    "Paperline reads the file's content, not its name, to decide."
                )
            stored = files.source(file_type.extension)
            sha256 = _store_copy(source, stored)
            base.update(kind=file_type.kind.value, sha256=sha256, size_bytes=size)
            pages = self._inspect(file_type.kind, stored)
        except DocumentRejected as exc:
            shutil.rmtree(files.root, ignore_errors=True)
            if isinstance(exc, LimitReached):
                meta = {"refused": "limit"}  # not counted as an upload against the hourly limit
            base.setdefault("kind", "unknown")
            base.setdefault("sha256", "")
            base.setdefault("size_bytes", 0)
            return self.store.create(
                NewJob(**base, status=JobStatus.FAILED, message=str(exc), error=str(exc), meta=meta)  # type: ignore[arg-type]
            )
        cached = None if meta else self.store.find_completed(sha256, profile, engine)
        if cached is not None and JobFiles(self.settings.job_dir(cached.id)).available_formats():
            copy_results(JobFiles(self.settings.job_dir(cached.id)), files)
            job = self.store.create(
                NewJob(
                    **base,
                    pages=pages,
                    status=JobStatus.COMPLETED,
                    stage=Stage.COMPLETED,  # type: ignore[arg-type]
                    message=f"Served from cache: identical to job {cached.id} ({cached.filename})",
                    cached_from=cached.id,
                )
            )
            self.store.copy_outcome(job.id, cached)
            return self.get(job.id)
        job = self.store.create(NewJob(**base, pages=pages, meta=meta))  # type: ignore[arg-type]
        enforce_limits(self.settings, self.store)
        try:
            self.queue.enqueue(self._tasks["process_document"].s(job.id))
        except Exception as exc:
            message = f"Could not reach the job queue, so the document was not queued: {exc}"
            self.store.finish(job.id, JobStatus.FAILED, message, error=message)
        return self.get(job.id)

    def _check_limits(self, user: str) -> None:
        """Refuse an upload over the user's limits, saying which and when it will pass."""
        per_hour, max_active = self.settings.user_uploads_per_hour, self.settings.user_max_active_jobs
        if not per_hour and not max_active:
            return
        now = time.time()
        active, uploads = self.store.user_usage(user, since=now - 3600)
        if max_active and active >= max_active:
            raise LimitReached(
                f"Limit reached: {user} already has {active} jobs queued or running (at most {max_active} per user). "
                "Upload again when one has finished, or cancel one."
            )
        if per_hour and len(uploads) >= per_hour:
            wait_s = uploads[len(uploads) - per_hour] + 3600 - now
            raise LimitReached(
                f"Limit reached: {user} uploaded {len(uploads)} files in the last hour (at most {per_hour} per user). "
                f"The next upload is possible in {max(1, round(wait_s / 60))} min."
            )

    def is_admin(self, user: str) -> bool:
        return user in self.settings.admins

    def owner_scope(self, user: str) -> str | None:
        """Whose jobs ``user`` may see and act on: their own, or everyone's for an admin and for the single
        local analyst (no authentication)."""
        return None if user == LOCAL_USER or self.is_admin(user) else user

    def check_request(self, engine: str, profile: str, instruction: str = "") -> None:
        """Refuse, with a plain reason, a request that cannot run: unknown or unavailable engine, a profile the
        engine does not offer, a custom instruction left empty."""
        if engine not in ENGINES:
            raise InvalidRequest(f"Unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}")
        reason = engine_unavailable_reason(engine, self.settings)
        if reason:
            raise EngineUnavailable(reason)
        if profile not in ENGINE_PROFILES[engine]:
            offered = ", ".join(ENGINE_PROFILES[engine])
            raise InvalidRequest(f"Unknown profile {profile!r} for the {engine} engine; choose one of: {offered}")
        if profile == "custom" and not instruction.strip():
            raise InvalidRequest("The custom profile needs an instruction saying what to extract.")

    def engines(self) -> dict[str, str]:
        """Each engine and why it is unavailable ("" when it can be used)."""
        return {engine: engine_unavailable_reason(engine, self.settings) for engine in ENGINES}

    def stall_reason(self, job: Job, chunks: list[Chunk] | None = None) -> str:
        """Why a queued or running job is not moving ("" when it is)."""
        from .stall import stall_reason

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
            raise InvalidRequest(f"Job {job_id} has already ended ({job.status.value}); there is nothing to cancel.")
        self.store.cancel(job_id, f"Canceled by {user or job.user}")
        return self.get(job_id)

    def retry(self, job_id: str, *, user: str | None = None) -> Job:
        """Run a failed job's failed chunks again, then merge afresh; chunks that were done are kept."""
        job = self.get(job_id, user=user)
        if job.status is not JobStatus.FAILED:
            raise InvalidRequest(f"Job {job_id} is {job.status.value}; only a failed job can be retried.")
        if not job.chunks_failed:
            raise InvalidRequest(f"Job {job_id} has no failed chunks to retry ({job.error or 'refused at intake'}).")
        self.check_request(job.engine, job.profile, str(job.meta.get("instruction", "")))
        for index in self.store.retry_failed(job_id):
            self.queue.enqueue(self._tasks["process_chunk"].s(job_id, index))
        return self.get(job_id)

    def _inspect(self, kind: DocumentKind, path: Path) -> int:
        """Open the document enough to refuse it now if it is encrypted, corrupt or a decompression bomb."""
        if kind is DocumentKind.PDF:
            from .pdf import inspect_pdf

            return inspect_pdf(path).pages
        from .images import inspect_image

        return inspect_image(path, self.settings.max_image_pixels).pages

    # -- reading --------------------------------------------------------------------------------------------
    def get(self, job_id: str, *, user: str | None = None) -> Job:
        job = self.store.get(job_id)
        if job is None or (user is not None and job.user != user):
            raise JobNotFound(f"No job {job_id!r}")
        return job

    def jobs(
        self, *, status: JobStatus | str | None = None, user: str | None = None, limit: int | None = None
    ) -> list[Job]:
        return self.store.list_recent(status=JobStatus(status) if status else None, user=user, limit=limit)

    def chunks(self, job_id: str, *, user: str | None = None) -> list[Chunk]:
        if user is not None:
            self.get(job_id, user=user)
        return self.store.list_chunks(job_id)

    def events(self, job_id: str | None = None, *, user: str | None = None) -> list[Event]:
        if user is not None:
            if job_id is None:
                raise InvalidRequest("Name a job to read its events as a user.")
            self.get(job_id, user=user)
        return self.store.list_events(job_id)

    def workers(self, *, max_age_s: float | None = None) -> list[WorkerBeat]:
        """Worker processes alive now: they beat recently and have not said goodbye; on this host, their process
        must also still exist (a worker killed with -9 cannot say goodbye, but its pid is gone)."""
        age = max_age_s if max_age_s is not None else max(10.0, 3 * self.settings.heartbeat_interval_s)
        here = socket.gethostname()
        return [w for w in self.store.list_workers(max_age_s=age) if w.host != here or _process_exists(w.pid)]

    def files(self, job_id: str) -> JobFiles:
        return JobFiles(self.settings.job_dir(job_id))

    def result_formats(self, job_id: str, *, user: str | None = None) -> list[str]:
        """Formats written for this job, the profile's main format first."""
        job = self.get(job_id, user=user)
        written = set(self.files(job_id).available_formats())
        return [fmt for fmt in PROFILE_FORMATS.get(job.profile, tuple(FORMAT_FILES)) if fmt in written]

    def result_path(self, job_id: str, fmt: str | None = None, *, user: str | None = None) -> Path:
        formats = self.result_formats(job_id, user=user)
        if not formats:
            job = self.get(job_id)
            if job.purged_at:
                raise InvalidRequest(
                    f"The files of job {job_id} were purged to stay within the storage limits; submit it again."
                )
            raise InvalidRequest(f"Job {job_id} has no result yet (status: {job.status.value}).")
        fmt = fmt or formats[0]
        if fmt not in formats:
            raise InvalidRequest(f"Job {job_id} has no {fmt} result; available: {', '.join(formats)}")
        return self.files(job_id).result(fmt)

    def result(self, job_id: str, fmt: str | None = None, *, user: str | None = None) -> str:
        text = self.result_path(job_id, fmt, user=user).read_text(encoding="utf-8")
        self.store.touch(job_id)
        return text

    def result_bytes(self, job_id: str, fmt: str | None = None, *, user: str | None = None) -> bytes:
        data = self.result_path(job_id, fmt, user=user).read_bytes()
        self.store.touch(job_id)
        return data

    def compressed_image(self, job_id: str) -> Path | None:
        path = self.files(job_id).compressed_image
        return path if path.exists() else None

    def compressed_image_bytes(self, job_id: str, *, user: str | None = None) -> bytes | None:
        self.get(job_id, user=user)
        path = self.compressed_image(job_id)
        return path.read_bytes() if path else None

    def source_bytes(self, job_id: str, *, user: str | None = None) -> bytes | None:
        """The uploaded file as stored (None once it is gone)."""
        self.get(job_id, user=user)
        path = self.files(job_id).find_source()
        return path.read_bytes() if path else None

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
                    raise NoWorkerRunning(
                        f"No Paperline worker is running, so {waiting} job{'s' if waiting != 1 else ''} cannot "
                        "finish. Start one with 'paperline worker' (or 'make run'), then wait again."
                    )
            time.sleep(poll_s)

    # -- time ------------------------------------------------------------------------------------------------
    def eta_model(self) -> EtaModel:
        """The ETA model fitted on this store's finished jobs."""
        from .eta import EtaModel

        return EtaModel.fit(self.jobs())

    def eta_error(self, *, held_back: float = 0.3) -> EtaError | None:
        """How far the ETA was from the truth on the most recent ``held_back`` share of finished jobs."""
        from .eta import evaluate

        return evaluate(self.jobs(), self.events(), held_back=held_back)

    # -- notebooks ------------------------------------------------------------------------------------------
    def jobs_frame(self, **filters) -> pd.DataFrame:  # type: ignore[no-untyped-def]
        from .frames import jobs_frame

        return jobs_frame(self.jobs(**filters))

    def chunks_frame(self, job_id: str | None = None) -> pd.DataFrame:
        from .frames import chunks_frame

        return chunks_frame(self.chunks(job_id) if job_id else self.store.list_all_chunks())

    def events_frame(self, job_id: str | None = None) -> pd.DataFrame:
        from .frames import events_frame

        return events_frame(self.events(job_id))


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _size_and_head(source: Path | str | bytes | IO[bytes]) -> tuple[int, bytes]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source[:SNIFF_BYTES])
        return len(source), data
    if isinstance(source, (str, Path)):
        path = Path(source)
        with path.open("rb") as handle:
            return path.stat().st_size, handle.read(SNIFF_BYTES)
    position = source.tell()
    source.seek(0, 2)
    size = source.tell() - position
    source.seek(position)
    head = source.read(SNIFF_BYTES)
    source.seek(position)
    return size, head


def _store_copy(source: Path | str | bytes | IO[bytes], dest: Path) -> str:
    """Write the upload into the job's folder and return its sha256, in one pass over the bytes."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    if isinstance(source, (bytes, bytearray, memoryview)):
        digest.update(source)
        dest.write_bytes(source)
        return digest.hexdigest()
    handle = Path(source).open("rb") if isinstance(source, (str, Path)) else source
    try:
        with dest.open("wb") as out:
            while block := handle.read(COPY_BLOCK):
                digest.update(block)
                out.write(block)
    finally:
        if isinstance(source, (str, Path)):
            handle.close()
    return digest.hexdigest()
