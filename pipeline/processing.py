"""The work behind each Huey task, as plain functions over a store and settings.

``tasks.py`` only wires these to Huey; keeping them here lets tests and notebooks run a job's steps directly.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from .chunking import IncompleteMerge, PageText, merge_pages, plan_for
from .config import Settings
from .exceptions import DocumentRejected, ExtractionFailed
from .extractors import ChunkWork, get_extractor
from .images import compress_image, inspect_image
from .models import ChunkStatus, DocumentKind, Job, JobStatus, Stage
from .pdf import inspect_pdf
from .pricing import estimate_cost, price_table
from .profiles import render_results
from .progress import ChunkAbandoned, ChunkOverTime, ChunkProgress
from .results import JobFiles, read_chunk_result, write_atomic, write_chunk_result
from .retention import enforce_limits
from .store import ChunkSpan, JobStore
from .textclean import clean_text, strip_controls

log = logging.getLogger("paperline.processing")

EnqueueChunk = Callable[[str, int, float], None]  # job_id, chunk index, delay in seconds
EnqueueMerge = Callable[[str], None]


def worker_name() -> str:
    thread = threading.current_thread().name
    suffix = "" if thread == "MainThread" else f"/{thread}"
    return f"{socket.gethostname()}:{os.getpid()}{suffix}"


def format_pages(pages: list[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``"1-3, 5"``."""
    runs: list[str] = []
    start = prev = None
    for page in sorted(pages):
        if start is None:
            start = prev = page
        elif page == prev + 1:
            prev = page
        else:
            runs.append(f"{start}-{prev}" if start != prev else str(start))
            start = prev = page
    if start is not None:
        runs.append(f"{start}-{prev}" if start != prev else str(start))
    return ", ".join(runs)


@dataclass
class Processor:
    """Runs a job's steps against a store; follow-up tasks go through the two enqueue callbacks."""

    settings: Settings
    store: JobStore
    enqueue_chunk: EnqueueChunk
    enqueue_merge: EnqueueMerge
    enqueue_document: EnqueueMerge
    #: the (job_id, chunk index) and job ids that have a task waiting in the queue; None where unknown
    queued_tasks: Callable[[], tuple[set[tuple[str, int]], set[str]]] | None = None

    def files(self, job_id: str) -> JobFiles:
        return JobFiles(self.settings.job_dir(job_id))

    # -- process_document -----------------------------------------------------------------------------------
    def prepare(self, job_id: str) -> None:
        """Inspect the document, plan its chunks and enqueue one task per chunk."""
        if not self.store.start(job_id):
            return  # canceled or already taken
        job = self.store.get(job_id)
        assert job is not None
        try:
            spans = self._prepare(job)
        except DocumentRejected as exc:
            self.store.finish(job_id, JobStatus.FAILED, str(exc), error=str(exc))
            return
        except Exception as exc:
            log.exception("preparing job %s failed", job_id)
            message = f"Could not prepare this document: {exc}"
            self.store.finish(job_id, JobStatus.FAILED, message, error=message)
            return
        for span in spans:
            self.enqueue_chunk(job_id, span.index, 0.0)

    def _prepare(self, job: Job) -> list[ChunkSpan]:
        files = self.files(job.id)
        source = files.find_source()
        if source is None:
            raise DocumentRejected("The uploaded file is missing from storage; please upload it again.")
        if job.kind == DocumentKind.PDF.value:
            info = inspect_pdf(source)
            meta = {"title": info.title, "author": info.author, "producer": info.producer}
            self.store.record_document(job.id, pages=info.pages, meta={k: v for k, v in meta.items() if v})
            pages = info.pages
        else:
            image = inspect_image(source, self.settings.max_image_pixels)
            compression = compress_image(
                source,
                files.compressed_image,
                max_side=self.settings.image_max_side,
                quality=self.settings.webp_quality,
                max_pixels=self.settings.max_image_pixels,
            )
            meta = {"format": image.format, **compression.as_meta()}
            self.store.record_document(
                job.id, pages=image.pages, compressed_bytes=compression.compressed_bytes, meta=meta
            )
            pages = image.pages
        spans = plan_for(pages, self.settings)
        self.store.set_stage(job.id, Stage.SPLITTING, f"Splitting {pages} pages into {len(spans)} chunks", 3.0)
        self.store.plan_chunks(job.id, spans)
        return spans

    # -- process_chunk ----------------------------------------------------------------------------------------
    def run_chunk(self, job_id: str, index: int) -> None:
        """Extract one chunk; on the job's last chunk, enqueue the merge."""
        chunk = self.store.claim_chunk(job_id, index, worker_name())
        if chunk is None:
            return  # the job ended (canceled/failed) or another worker has it
        job = self.store.get(job_id)
        assert job is not None
        files = self.files(job_id)
        source = files.find_source()
        work = ChunkWork(
            job_id=job_id,
            index=index,
            kind=DocumentKind(job.kind),
            profile=job.profile,
            source=source if source is not None else files.source("missing"),
            first_page=chunk.first_page,
            last_page=chunk.last_page,
            context_first=chunk.context_first,
            context_last=chunk.context_last,
            instruction=str(job.meta.get("instruction", "")),
        )
        try:
            with ChunkProgress(
                self.store,
                job_id,
                index,
                interval=self.settings.progress_interval_s,
                attempt=chunk.attempts,
                time_limit_s=self.settings.chunk_time_limit_s,
            ) as progress:
                output = get_extractor(job.engine, self.settings).extract(work, progress.advance)
            if progress.abandoned:
                raise ChunkAbandoned(f"chunk {index + 1} of job {job_id} was canceled or reassigned")
            if output.raw_answer:
                write_atomic(files.chunk_result(index).with_suffix(".raw.txt"), strip_controls(output.raw_answer))
            write_chunk_result(files.chunk_result(index), clean_pages(output.pages))
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
        except DocumentRejected as exc:
            self._end_chunk(job_id, index, ChunkStatus.FAILED, str(exc), chunk.attempts)
            return
        except ExtractionFailed as exc:
            # Final by nature (the API refused it, or the SDK's retries ran out): no second retry loop here.
            self._record_usage(job, index, exc.input_tokens, exc.output_tokens)
            if exc.raw_answer:
                write_atomic(files.chunk_result(index).with_suffix(".raw.txt"), strip_controls(exc.raw_answer))
            self._end_chunk(job_id, index, ChunkStatus.FAILED, str(exc), chunk.attempts)
            return
        except Exception as exc:
            log.warning("chunk %s of job %s failed (attempt %s): %s", index + 1, job_id, chunk.attempts, exc)
            error = str(exc) if isinstance(exc, ChunkOverTime) else f"{type(exc).__name__}: {exc}"
            if chunk.attempts <= self.settings.chunk_retries:
                self.store.requeue_chunk(job_id, index, error, attempt=chunk.attempts)
                delay = self.settings.retry_backoff_s * 2 ** (chunk.attempts - 1)
                self.enqueue_chunk(job_id, index, delay)
            else:
                self._end_chunk(job_id, index, ChunkStatus.FAILED, error, chunk.attempts)
            return
        self._record_usage(job, index, output.input_tokens, output.output_tokens)
        for note in output.notes:
            self.store.add_note(job_id, note)
        self._end_chunk(job_id, index, ChunkStatus.DONE, "", chunk.attempts)

    def _record_usage(self, job: Job, index: int, input_tokens: int, output_tokens: int) -> None:
        if input_tokens or output_tokens:
            cost = estimate_cost(
                self.settings.model, input_tokens, output_tokens, price_table(self.settings.prices_json)
            )
            self.store.record_chunk_usage(job.id, index, input_tokens, output_tokens, cost)

    def _end_chunk(self, job_id: str, index: int, status: ChunkStatus, error: str, attempt: int) -> None:
        if self.store.finish_chunk(job_id, index, status, error=error, attempt=attempt):
            self.enqueue_merge(job_id)

    # -- recovery ---------------------------------------------------------------------------------------------
    def recover(self, now: float | None = None) -> int:
        """Requeue what dead workers left behind (stale chunks, lost preparations and merges); returns the count."""
        now = time.time() if now is None else now
        chunks, preparing, merging = self.store.recover_stale(now - self.settings.stale_after_s)
        for job_id, index in chunks:
            self.enqueue_chunk(job_id, index, 0.0)
        for job_id in preparing:
            self.enqueue_document(job_id)
        for job_id in merging:
            self.enqueue_merge(job_id)
        overdue = self._expire_overdue(now)
        # A worker killed after taking a task off the queue but before claiming its chunk (or starting its job)
        # leaves the chunk queued with no message left to run it. Requeue such work once its job has gone quiet
        # and the queue holds nothing for it; a duplicate would be harmless, as a claim only takes what is queued.
        lost_chunks: list[tuple[str, int]] = []
        lost_jobs: list[str] = []
        if self.queued_tasks is not None:
            stranded_chunks, stranded_jobs = self.store.stranded(now - self.settings.stale_after_s)
            if stranded_chunks or stranded_jobs:
                pending_chunks, pending_jobs = self.queued_tasks()
                lost_chunks = [c for c in stranded_chunks if c not in pending_chunks]
                lost_jobs = [j for j in stranded_jobs if j not in pending_jobs]
        for job_id, index in lost_chunks:
            self.enqueue_chunk(job_id, index, 0.0)
        for job_id in lost_jobs:
            self.enqueue_document(job_id)
        found = len(chunks) + len(preparing) + len(merging) + len(lost_chunks) + len(lost_jobs) + overdue
        if found:
            log.warning(
                "recovered %d running chunks, %d unclaimed chunks, %d queued jobs, %d preparations, %d merges",
                len(chunks),
                len(lost_chunks),
                len(lost_jobs),
                len(preparing),
                len(merging),
            )
        return found

    def _expire_overdue(self, now: float) -> int:
        """Take back chunks stuck past their time limit (a hung page never reaches the chunk's own check): the
        store fences the old attempt out, so whatever it writes later is ignored."""
        limit = self.settings.chunk_time_limit_s
        if not limit:
            return 0
        grace = self.settings.stale_after_s  # let the chunk's own check, which retries with backoff, act first
        requeued, merge = self.store.expire_overdue(
            now - limit - grace,
            max_attempts=self.settings.chunk_retries + 1,
            reason=f"ran over its {limit:g} s time limit (stuck)",
        )
        for job_id, index in requeued:
            self.enqueue_chunk(job_id, index, 0.0)
        for job_id in merge:
            self.enqueue_merge(job_id)
        if requeued or merge:
            log.warning("took back %d chunks over their time limit", len(requeued) + len(merge))
        return len(requeued) + len(merge)

    # -- merge ----------------------------------------------------------------------------------------------
    def merge(self, job_id: str) -> None:
        """Merge chunk results into the profile's files and end the job (failed, with a partial result, if
        any chunk failed)."""
        job = self.store.get(job_id)
        if job is None or job.status is not JobStatus.RUNNING or job.stage is not Stage.MERGING:
            return
        files = self.files(job_id)
        chunks = self.store.list_chunks(job_id)
        spans = [ChunkSpan(c.index, c.first_page, c.last_page, c.context_first, c.context_last) for c in chunks]
        failed = [c for c in chunks if c.status is not ChunkStatus.DONE]
        try:
            results = [
                read_chunk_result(files.chunk_result(c.index)) if c.status is ChunkStatus.DONE else [] for c in chunks
            ]
            pages = merge_pages(spans, results, allow_missing=bool(failed))
            document = {"id": job.id, "filename": job.filename, "pages": job.pages, **job.meta}
            outputs = render_results(pages, job.profile, title=job.filename, document=document)
            for fmt, content in outputs.items():
                write_atomic(files.result(fmt), content)
        except (IncompleteMerge, OSError, ValueError) as exc:
            log.exception("merging job %s failed", job_id)
            message = f"Could not merge the chunk results: {exc}"
            self.store.finish(job_id, JobStatus.FAILED, message, error=message)
            return
        for note in page_notes(pages, job.pages, is_image=job.kind == DocumentKind.IMAGE.value):
            self.store.add_note(job_id, note)
        if failed:
            first_error = failed[0].error or failed[0].status.value
            message = (
                f"{len(failed)} of {len(chunks)} chunks failed; a partial result with {len(pages)} of "
                f"{job.pages} pages was written. First error (chunk {failed[0].index + 1}, pages "
                f"{failed[0].first_page}-{failed[0].last_page}): {first_error}"
            )
            self.store.finish(job_id, JobStatus.FAILED, message, error=message)
        else:
            self.store.finish(
                job_id, JobStatus.COMPLETED, f"Completed: {job.pages} page{'s' if job.pages != 1 else ''} extracted"
            )
        enforce_limits(self.settings, self.store)


def clean_pages(pages: list[PageText]) -> list[PageText]:
    """Every engine's pages as they are stored: no control characters, ligatures spelt out, unreadable glyphs
    counted (the PDF reader already cleaned and counted its own; this catches OCR and model text)."""
    cleaned = []
    for page in pages:
        result = clean_text(page.text)
        cleaned.append(replace(page, text=result.text, unreadable=page.unreadable + result.unreadable))
    return cleaned


def page_notes(pages: list[PageText], total_pages: int, *, is_image: bool = False) -> list[str]:
    """Notes an analyst should read about how the pages were read."""
    notes = []
    unreadable = {p.page: p.unreadable for p in pages if p.unreadable}
    if unreadable:
        count = sum(unreadable.values())
        notes.append(
            f"{count} character{'s' if count != 1 else ''} on page{'s' if len(unreadable) != 1 else ''} "
            f"{format_pages(list(unreadable))} could not be read from the PDF's fonts (they have no text mapping): "
            "dropped, or shown as \ufffd where a letter of a word is missing."
        )
    empty = [p.page for p in pages if p.method == "empty"]
    ocr = [p.page for p in pages if p.method == "ocr"]
    if pages and len(empty) == len(pages) == total_pages:
        if is_image:
            notes.append("No text found: OCR read no text in this image.")
        else:
            notes.append("No text found: the document has no text layer and OCR read no text in it.")
    elif empty:
        notes.append(f"No text found on pages {format_pages(empty)} (no text layer, and OCR read nothing).")
    if ocr:
        notes.append(f"Text on pages {format_pages(ocr)} was read by OCR.")
    return notes
