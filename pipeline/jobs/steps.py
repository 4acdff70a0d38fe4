"""The work behind each Huey task, as plain functions over a store and settings.

``tasks.py`` only wires these to Huey; keeping them here lets tests and notebooks run a job's steps directly.
Recovery of lost work lives in ``recovery.py``; the wording of every message in ``pipeline.core.messages``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.core import messages, transient
from pipeline.core.errors import DocumentRejected, ExtractionFailed, PaperlineError
from pipeline.core.lifecycle import INDEXING_STAGES, PROGRESS_PREPARING, PROGRESS_SPLITTING
from pipeline.core.models import Chunk, ChunkSpan, ChunkStatus, DocumentKind, Job, JobStatus, PageText, Stage
from pipeline.core.settings import Settings
from pipeline.core.text import strip_controls
from pipeline.documents.images import compress_image, inspect_image
from pipeline.documents.pdf import inspect_pdf
from pipeline.documents.textclean import clean_text
from pipeline.engines import ChunkWork, get_extractor
from pipeline.engines.pricing import estimate_cost, price_table
from pipeline.files.jobfiles import (
    COMPRESSED_IMAGE,
    JobFiles,
    job_files,
    raw_answer_name,
    read_chunk_result,
    result_name,
    write_chunk_result,
)
from pipeline.files.retention import enforce_limits
from pipeline.files.storage import FileStorage, open_storage
from pipeline.jobs.chunking import IncompleteMerge, merge_pages, plan_for
from pipeline.jobs.ports import Scheduler, Stopping, worker_name
from pipeline.jobs.progress import ChunkAbandoned, ChunkOverTime, ChunkProgress, StepHeartbeat, WorkerStopping
from pipeline.profiles.registry import find_profile, render_results
from pipeline.profiles.retrieval import steps as retrieval
from pipeline.store import JobStore

log = logging.getLogger("paperline.processing")


class PreparedElsewhere(PaperlineError, code="prepared_elsewhere"):
    """Recovery handed this preparation's job to another worker while it waited out a fault."""


@dataclass
class Processor:
    """Runs a job's steps against a store; follow-up tasks go through ``tasks``."""

    settings: Settings
    store: JobStore
    tasks: Scheduler
    storage: FileStorage | None = None

    def __post_init__(self) -> None:
        if self.storage is None:
            self.storage = open_storage(self.settings)

    def files(self, job_id: str) -> JobFiles:
        assert self.storage is not None
        return job_files(self.settings, self.storage, job_id)

    def _waits(self, job_id: str, chunk_index: int | None = None) -> AbstractContextManager[None]:
        """While a step runs: a wait for the object store, the queue or the disk is written on the job's trail
        (at first, then every ``REPORT_EVERY_S``), and the job is kept alive meanwhile, so recovery does not take a
        waiting preparation or merge for a lost one. A wait for the job store itself can only be logged."""
        budget = self.settings.transient_retry_s
        store = getattr(self.store, "inner", self.store)  # the report itself must not wait out a fault
        reported: list[float] = []

        def written(service: str, error: BaseException, waited: float) -> None:
            if service == transient.JOB_STORE:
                return
            store.beat_job(job_id)
            if not reported or time.monotonic() - reported[-1] >= transient.REPORT_EVERY_S:
                reported.append(time.monotonic())
                store.record_wait(job_id, messages.waiting_for(service, error, waited, budget), chunk_index)

        return transient.reporting_waits(written)

    def _failure(self, exc: BaseException, otherwise: Callable[[BaseException], str]) -> str:
        """What a step that failed says: that a service stayed away past the wait, or ``otherwise(exc)``."""
        if transient.is_transient(exc):
            return messages.gave_up_waiting(transient.service_of(exc), self.settings.transient_retry_s, exc)
        return otherwise(exc)

    # -- process_document -----------------------------------------------------------------------------------
    def prepare(self, job_id: str) -> None:
        """Inspect the document, plan its chunks and enqueue one task per chunk."""
        if not self.store.start(job_id):
            return  # canceled or already taken
        job = self.store.get(job_id)
        assert job is not None
        try:
            with self._step(job_id, Stage.PREPARING), self._waits(job_id):
                spans = self._prepare(job)
        except DocumentRejected as exc:
            self.store.finish(job_id, JobStatus.FAILED, str(exc), error=str(exc))
            return
        except MemoryError:  # over PAPERLINE_WORKER_MEMORY_MB: this document fails, the worker lives on
            message = messages.out_of_memory_preparing(self.settings.worker_memory_mb)
            self.store.finish(job_id, JobStatus.FAILED, message, error=message)
            return
        except Exception as exc:
            if self._prepared_elsewhere(job_id):
                # This preparation waited out a fault long enough for recovery to hand the job to another worker,
                # which planned it (its plan_chunks then refused this one's): the job is fine, this copy stops.
                log.warning("job %s was prepared by another worker meanwhile: %s", job_id, exc)
                return
            log.exception("preparing job %s failed", job_id)
            message = self._failure(exc, messages.could_not_prepare)
            self.store.finish(job_id, JobStatus.FAILED, message, error=message)
            return
        for span in spans:
            self.tasks.enqueue_chunk(job_id, span.index, priority=job.priority)

    def _prepared_elsewhere(self, job_id: str) -> bool:
        job = self.store.get(job_id)
        return job is not None and (job.chunks_total > 0 or job.status is JobStatus.QUEUED)

    def _prepare(self, job: Job) -> list[ChunkSpan]:
        files = self.files(job.id)
        source = files.local_source()
        if source is None:
            raise DocumentRejected("The uploaded file is missing from storage; please upload it again.")
        if job.kind == DocumentKind.PDF.value:
            info = inspect_pdf(source, self.settings.max_pages)
            meta: dict[str, object] = {"title": info.title, "author": info.author, "producer": info.producer}
            self.store.record_document(job.id, pages=info.pages, meta={k: v for k, v in meta.items() if v})
            pages = info.pages
        else:
            image = inspect_image(source, self.settings.max_image_pixels, self.settings.max_pages)
            compressed = files.cache / job.id / COMPRESSED_IMAGE
            compression = compress_image(
                source,
                compressed,
                max_side=self.settings.image_max_side,
                quality=self.settings.webp_quality,
                max_pixels=self.settings.max_image_pixels,
                max_pages=self.settings.max_pages,
                on_page=self._preparing_beat(job.id),
            )
            if compression.lowered:
                note = messages.preview_lowered(
                    compression.pages, compression.side, self.settings.image_max_side, self.settings.max_image_pixels
                )
                self.store.add_note(job.id, note)
            files.write(COMPRESSED_IMAGE, compressed.read_bytes())
            compressed.unlink()
            meta = {"format": image.format, **compression.as_meta()}
            self.store.record_document(
                job.id, pages=image.pages, compressed_bytes=compression.compressed_bytes, meta=meta
            )
            pages = image.pages
        spans = plan_for(pages, self.settings)
        if self._prepared_elsewhere(job.id):  # while this one waited (see prepare): leave the job as it is now
            raise PreparedElsewhere(job.id)
        self.store.set_stage(job.id, Stage.SPLITTING, messages.splitting(pages, len(spans)), PROGRESS_SPLITTING)
        self.store.plan_chunks(job.id, spans)
        return spans

    def _preparing_beat(self, job_id: str) -> Callable[[int, int], None]:
        """Say how far compressing a many-page image has come, every third of ``stale_after_s``: a preparation
        that moves is not taken for one lost with its worker (and prepared twice)."""
        every_s = self.settings.stale_after_s / 3
        last = [time.monotonic()]

        def beat(done: int, total: int) -> None:
            if time.monotonic() - last[0] >= every_s:
                last[0] = time.monotonic()
                self.store.set_stage(job_id, Stage.PREPARING, messages.compressing(done, total), PROGRESS_PREPARING)

        return beat

    # -- process_chunk ----------------------------------------------------------------------------------------
    def run_chunk(self, job_id: str, index: int) -> None:
        """Extract one chunk; on the job's last chunk, enqueue the merge."""
        chunk = self.store.claim_chunk(job_id, index, worker_name())
        if chunk is None:
            return  # the job ended (canceled/failed) or another worker has it
        job = self.store.get(job_id)
        assert job is not None
        files = self.files(job_id)
        # The chunk beats from its claim on to its last write, so a download or an upload that waits for a slow or
        # restarting object store is not taken for a dead worker.
        progress = ChunkProgress(
            self.store,
            job_id,
            index,
            interval=self.settings.progress_interval_s,
            attempt=chunk.attempts,
            time_limit_s=self.settings.chunk_time_limit_s,
            stopping=Stopping.asked,
        )
        try:
            with progress, self._waits(job_id, index):
                source = files.local_source()
                work = self._chunk_work(job, chunk, files, source)
                output = get_extractor(job.engine, self.settings).extract(work, progress.advance)
                if progress.abandoned:
                    raise ChunkAbandoned(messages.chunk_abandoned(index, job_id))
                if output.raw_answer:
                    files.write(raw_answer_name(index), strip_controls(output.raw_answer))
                write_chunk_result(files, index, clean_pages(output.pages))
        except ChunkAbandoned:
            # The worker's own record of how fast it let go: pages done when the store first refused it, and when
            # the extractor stopped (at most the page it was on).
            log.info(
                "chunk %s of job %s stopped: canceled or reassigned (seen after %s pages, stopped after %s)",
                index + 1,
                job_id,
                progress.abandoned_after,
                progress.pages_done,
            )
            return
        except WorkerStopping:
            self._hand_back(chunk, job.priority)
            return
        except KeyboardInterrupt:  # the consumer interrupts a page still running after its shutdown grace
            self._hand_back(chunk, job.priority)
            raise
        except DocumentRejected as exc:
            self._end_chunk(job, chunk, ChunkStatus.FAILED, str(exc))
            return
        except MemoryError:
            # Over PAPERLINE_WORKER_MEMORY_MB (the pixel budgets keep ordinary pages far below it): this chunk fails
            # for good, since it would again; the process freed what the chunk held and takes the next task.
            error = messages.out_of_memory(chunk.first_page, chunk.last_page, self.settings.worker_memory_mb)
            log.warning("chunk %s of job %s: %s", index + 1, job_id, error)
            self._end_chunk(job, chunk, ChunkStatus.FAILED, error)
            return
        except ExtractionFailed as exc:
            # Final by nature (the API refused it, or the SDK's retries ran out): no second retry loop here.
            self._record_usage(job, index, exc.input_tokens, exc.output_tokens)
            if exc.raw_answer:
                files.write(raw_answer_name(index), strip_controls(exc.raw_answer))
            self._end_chunk(job, chunk, ChunkStatus.FAILED, str(exc))
            return
        except Exception as exc:
            log.warning("chunk %s of job %s failed (attempt %s): %s", index + 1, job_id, chunk.attempts, exc)
            error = str(exc) if isinstance(exc, ChunkOverTime) else f"{type(exc).__name__}: {exc}"
            if transient.is_transient(exc):
                error = self._failure(exc, str)
            if chunk.attempts_used <= self.settings.chunk_retries:  # the budget is shared with lost workers
                self.store.requeue_chunk(job_id, index, error, attempt=chunk.attempts)
                delay = self.settings.retry_backoff_s * 2 ** (chunk.attempts_used - 1)
                self.tasks.enqueue_chunk(job_id, index, delay, priority=job.priority)
            else:
                self._end_chunk(job, chunk, ChunkStatus.FAILED, error)
            return
        self._record_usage(job, index, output.input_tokens, output.output_tokens)
        for note in output.notes:
            self.store.add_note(job_id, note)
        self._end_chunk(job, chunk, ChunkStatus.DONE, "")

    def _hand_back(self, chunk: Chunk, priority: int) -> None:
        """This worker is stopping: the chunk goes back to the queue for another worker, attempt not counted."""
        if self.store.release_chunk(chunk.job_id, chunk.index, attempt=chunk.attempts):
            self.tasks.enqueue_chunk(chunk.job_id, chunk.index, priority=priority)

    @staticmethod
    def _chunk_work(job: Job, chunk: Chunk, files: JobFiles, source: Path | None) -> ChunkWork:
        profile = find_profile(job.profile)
        instruction = str(job.meta.get("instruction", ""))
        task = profile.model_task if profile is not None else ""
        return ChunkWork(
            job_id=job.id,
            index=chunk.index,
            kind=DocumentKind(job.kind),
            profile=job.profile,
            source=source if source is not None else files.cache / job.id / "missing",
            first_page=chunk.first_page,
            last_page=chunk.last_page,
            context_first=chunk.context_first,
            context_last=chunk.context_last,
            instruction=instruction,
            task=instruction.strip() if profile is not None and profile.needs_instruction else task,
            rows=profile is not None and profile.model_rows,
            structure=profile is not None and profile.structure,
        )

    def _step(self, job_id: str, stage: Stage) -> StepHeartbeat:
        """Heartbeats for a job's step while this worker runs it (recovery counts a step whose beats stop)."""
        return StepHeartbeat(self.store, job_id, stage, interval=self.settings.heartbeat_interval_s)

    def _record_usage(self, job: Job, index: int, input_tokens: int, output_tokens: int) -> None:
        if input_tokens or output_tokens:
            cost = estimate_cost(
                self.settings.model, input_tokens, output_tokens, price_table(self.settings.prices_json)
            )
            self.store.record_chunk_usage(job.id, index, input_tokens, output_tokens, cost)
            from pipeline.core.metrics import (
                observe_usage,  # loaded late: a worker with metrics set multiprocess mode first
            )

            observe_usage(input_tokens, output_tokens, cost)

    def _end_chunk(self, job: Job, chunk: Chunk, status: ChunkStatus, error: str) -> None:
        from pipeline.core.metrics import observe_chunk

        observe_chunk(job.engine, status.value, chunk.started_at)
        if self.store.finish_chunk(job.id, chunk.index, status, error=error, attempt=chunk.attempts):
            self.tasks.enqueue_merge(job.id, priority=job.priority)

    # -- merge ----------------------------------------------------------------------------------------------
    def merge(self, job_id: str) -> None:
        """Merge chunk results into the profile's files and end the job (failed, with a partial result, if
        any chunk failed)."""
        job = self.store.get(job_id)
        profile = find_profile(job.profile) if job is not None else None
        if (
            job is not None
            and job.status is JobStatus.RUNNING
            and job.stage in INDEXING_STAGES
            and profile
            and profile.resume
        ):
            with self._step(job_id, job.stage):
                profile.resume(self, job)  # the recovery sweep found it stale after merging
            return
        if job is None or job.status is not JobStatus.RUNNING or job.stage is not Stage.MERGING:
            return
        with self._step(job_id, Stage.MERGING):
            self._merge(job)

    def _merge(self, job: Job) -> None:
        job_id = job.id
        files = self.files(job_id)
        chunks = self.store.list_chunks(job_id)
        spans = [ChunkSpan(c.index, c.first_page, c.last_page, c.context_first, c.context_last) for c in chunks]
        failed = [c for c in chunks if c.status is not ChunkStatus.DONE]
        try:
            with self._waits(job_id):
                results = [read_chunk_result(files, c.index) if c.status is ChunkStatus.DONE else [] for c in chunks]
                pages = merge_pages(spans, results, allow_missing=bool(failed))
                document = {"id": job.id, "filename": job.filename, "pages": job.pages, **job.meta}
                outputs = render_results(pages, job.profile, title=job.filename, document=document)
                for fmt, content in outputs.items():
                    files.write(result_name(fmt), content)
        except Exception as exc:
            if not isinstance(exc, (IncompleteMerge, OSError, ValueError)) and not transient.is_transient(exc):
                raise
            log.exception("merging job %s failed", job_id)
            message = self._failure(exc, messages.could_not_merge)
            self.store.finish(job_id, JobStatus.FAILED, message, error=message)
            return
        structured = (profile := find_profile(job.profile)) is not None and profile.structure
        is_image = job.kind == DocumentKind.IMAGE.value
        for note in page_notes(pages, job.pages, is_image=is_image, structured=structured and job.engine == "local"):
            self.store.add_note(job_id, note)
        if failed:
            first = failed[0]
            message = messages.partial_result(
                len(failed),
                len(chunks),
                len(pages),
                job.pages,
                first.index,
                first.first_page,
                first.last_page,
                first.error or first.status.value,
            )
            self.store.finish(job_id, JobStatus.FAILED, message, error=message)
        elif (profile := find_profile(job.profile)) is not None and profile.after_merge is not None:
            self._after_merge(profile.after_merge, job, pages)
        else:
            self.store.finish(job_id, JobStatus.COMPLETED, messages.completed(job.pages))
        enforce_limits(self.settings, self.store, files.storage)

    def _after_merge(
        self, step: Callable[[Processor, Job, list[PageText]], None], job: Job, pages: list[PageText]
    ) -> None:
        """The profile's own step after a clean merge (retrieval: cut and queue passages); it ends the job."""
        try:
            step(self, job, pages)
        except Exception as exc:  # e.g. the model missing or broken: the extracted text stays downloadable
            log.exception("the step after merging job %s failed", job.id)
            message = messages.could_not_index(exc)
            self.store.finish(job.id, JobStatus.FAILED, message, error=message)

    # -- embedding (retrieval profile) ------------------------------------------------------------------------
    def embed(self, job_id: str, first: int) -> None:
        """Embed one batch of a retrieval job's passages (the last batch also indexes the job)."""
        try:
            with self._step(job_id, Stage.EMBEDDING), self._waits(job_id):
                retrieval.embed_batch(self, job_id, first)
        except Exception as exc:
            log.exception("embedding passages %d+ of job %s failed", first, job_id)
            message = self._failure(exc, messages.could_not_index)
            self.store.finish(job_id, JobStatus.FAILED, message, error=message)


def clean_pages(pages: list[PageText]) -> list[PageText]:
    """Every engine's pages as they are stored: no control characters, ligatures spelt out, unreadable glyphs
    counted (the PDF reader already cleaned and counted its own; this catches OCR and model text)."""
    cleaned = []
    for page in pages:
        result = clean_text(page.text)
        cleaned.append(replace(page, text=result.text, unreadable=page.unreadable + result.unreadable))
    return cleaned


def page_notes(
    pages: list[PageText], total_pages: int, *, is_image: bool = False, structured: bool = False
) -> list[str]:
    """Notes an analyst should read about how the pages were read."""
    notes = []
    unreadable = {p.page: p.unreadable for p in pages if p.unreadable}
    if unreadable:
        notes.append(messages.unreadable_glyphs(sum(unreadable.values()), list(unreadable)))
    empty = [p.page for p in pages if p.method == "empty"]
    ocr = [p.page for p in pages if p.method == "ocr"]
    if pages and len(empty) == len(pages) == total_pages:
        notes.append(messages.NO_TEXT_IN_IMAGE if is_image else messages.NO_TEXT_IN_DOCUMENT)
    elif empty:
        notes.append(messages.no_text_on(empty))
    if ocr:
        notes.append(messages.read_by_ocr(ocr))
    unstructured = [p.page for p in pages if structured and p.layout is None and p.method != "empty"]
    if unstructured:  # the profile asked for structure: say where it could not be read
        notes.append(messages.no_structure_on(unstructured))
    scanned = [p.page for p in pages if structured and p.layout is not None and p.layout.get("scanned")]
    if scanned:  # read from Tesseract's layout and the rules found on the image
        notes.append(messages.read_from_scans(scanned))
    return notes
