"""Every sentence Paperline writes on a job for a person to read, built by plain functions.

Store backends, the processing steps, recovery and the Python API all word a job's messages, errors, notes and
events through here, so a second backend says exactly what the first does, and wording changes in one place.
Chunks are numbered from 1 for people (their index is 0-based).
"""

from __future__ import annotations

from collections.abc import Sequence


def plural(count: int, word: str, words: str | None = None) -> str:
    """ "1 page", "3 pages"."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


def format_pages(pages: Sequence[int]) -> str:
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


# -- a job's stages -----------------------------------------------------------------------------------------------
QUEUED = "Queued"
PREPARING = "Preparing"
MERGING = "Merging chunk results"
MERGING_AGAIN = "Merging again after a lost worker"
INDEXING_AGAIN = "Embedding and indexing again after a lost worker"
REQUEUED_WHILE_PREPARING = "Requeued: its worker stopped while preparing"
CANCELED = "Canceled"


def splitting(pages: int, chunks: int) -> str:
    return f"Splitting {pages} pages into {chunks} chunks"


def extracting(done: int, total: int, running: int = 0, failed: int = 0) -> str:
    """ "Extracting: 3 of 9 chunks done, 2 running, 1 failed"."""
    message = f"Extracting: {done} of {total} chunks done"
    if running:
        message += f", {running} running"
    if failed:
        message += f", {failed} failed"
    return message


def retrying(chunks: Sequence[int]) -> str:
    return f"Retrying {len(chunks)} failed chunks"


def retrying_event(chunks: Sequence[int]) -> str:
    return f"Retrying chunks {', '.join(str(index + 1) for index in chunks)}"


def completed(pages: int) -> str:
    return f"Completed: {plural(pages, 'page')} extracted"


def embedding(done: int, total: int) -> str:
    """ "Embedding: 64 of 310 passages"."""
    return f"Embedding: {done} of {plural(total, 'passage')}"


INDEXING = "Indexing: writing the passages and making them searchable"


def indexed(pages: int, passages: int) -> str:
    return f"Completed: {plural(pages, 'page')} extracted, {plural(passages, 'passage')} searchable"


def could_not_index(exc: BaseException) -> str:
    return f"Could not index the passages for search: {exc}"


NOTHING_TO_INDEX = (
    "Nothing to index: no text was read from this document (an image-only PDF needs OCR: install tesseract-ocr, "
    "or use the Claude engine), so search will not find it"
)


def served_from_cache(job_id: str, filename: str) -> str:
    return f"Served from cache: identical to job {job_id} ({filename})"


def canceled_by(user: str) -> str:
    return f"Canceled by {user}"


def not_queued(error: object) -> str:
    return f"Could not reach the job queue, so the document was not queued: {error}"


def could_not_prepare(error: object) -> str:
    return f"Could not prepare this document: {error}"


def could_not_merge(error: object) -> str:
    return f"Could not merge the chunk results: {error}"


# -- faults of the services a job needs (pipeline.transient) ---------------------------------------------------------
def waiting_for(service: str, error: object, waited_s: float, budget_s: float) -> str:
    """A step pauses for a transient fault (``service`` is "object store", "job store" or "job queue")."""
    left = max(0, round(budget_s - waited_s))
    return f"Waiting for the {service}: {error}; retrying (for up to {left} s more)"


def gave_up_waiting(service: str, budget_s: float, error: object) -> str:
    return (
        f"Waited {round(budget_s)} s for the {service}, which still fails ({error}). Retry the job once it is back "
        "(PAPERLINE_TRANSIENT_RETRY_S sets how long workers wait)."
    )


STORE_UNAVAILABLE = "The job store is unreachable at the moment; retrying. Try again in a few seconds."
OBJECT_STORE_UNAVAILABLE = "The file storage is unreachable at the moment; retrying. Try again in a few seconds."
DISK_FULL = "The server's disk is full at the moment. Try again later."


def partial_result(
    failed: int, chunks: int, pages_written: int, pages: int, index: int, first_page: int, last_page: int, error: str
) -> str:
    """Why a job ended failed although some chunks were extracted."""
    return (
        f"{failed} of {chunks} chunks failed; a partial result with {pages_written} of {pages} pages was written. "
        f"First error (chunk {index + 1}, pages {first_page}-{last_page}): {error}"
    )


# -- a chunk's life -------------------------------------------------------------------------------------------------
WORKER_LOST = "worker lost (no heartbeat); requeued"


def chunk_started(index: int, worker: str) -> str:
    return f"Chunk {index + 1} started on {worker}"


def chunk_progress(index: int, pages_done: int) -> str:
    return f"Chunk {index + 1}: {pages_done} pages"


def chunk_retry(index: int, error: str) -> str:
    return f"Chunk {index + 1} will be retried: {error}"


def chunk_ended(index: int, status: str, error: str = "") -> str:
    """ "Chunk 3 done", "Chunk 3 failed: <why>"."""
    return f"Chunk {index + 1} done" if status == "done" else f"Chunk {index + 1} {status}: {error}"


def chunk_recovered(index: int) -> str:
    return f"Chunk {index + 1} requeued after its worker stopped sending heartbeats"


def chunk_over_time(index: int, limit_s: float) -> str:
    """A chunk that noticed, at a page boundary, that it ran past its limit."""
    return f"Chunk {index + 1} ran over its {limit_s:g} s time limit"


def chunk_stuck(index: int, limit_s: float) -> str:
    """A chunk taken back by the sweep: still running past its limit and the grace after it."""
    return f"Chunk {index + 1} ran over its {limit_s:g} s time limit (stuck)"


def chunk_taken_back(error: str, retried: bool) -> str:
    return f"{error}; {'retried' if retried else 'failed'}"


def chunk_abandoned(index: int, job_id: str) -> str:
    return f"chunk {index + 1} of job {job_id} was canceled or reassigned"


# -- notes ----------------------------------------------------------------------------------------------------------
def unreadable_glyphs(count: int, pages: Sequence[int]) -> str:
    return (
        f"{plural(count, 'character')} on {'page' if len(pages) == 1 else 'pages'} {format_pages(pages)} could not "
        "be read from the PDF's fonts (they have no text mapping): dropped, or shown as \ufffd where a letter of a "
        "word is missing."
    )


NO_TEXT_IN_IMAGE = "No text found: OCR read no text in this image."
NO_TEXT_IN_DOCUMENT = "No text found: the document has no text layer and OCR read no text in it."


def no_text_on(pages: Sequence[int]) -> str:
    return f"No text found on pages {format_pages(pages)} (no text layer, and OCR read nothing)."


def read_by_ocr(pages: Sequence[int]) -> str:
    return f"Text on pages {format_pages(pages)} was read by OCR."


def files_purged(reason: str) -> str:
    return f"Files purged to stay within {reason} (least recently used); submit it again to redo it."


def too_large(name: str, size: int, limit_mb: int) -> str:
    shown = f"{size / 2**20:.1f} MB"
    if float(shown.split()[0]) <= limit_mb:
        shown = f"{size:,} bytes"  # just over the limit: "1.0 MB, over the 1 MB limit" would puzzle
    return f"{name} is {shown}, over the {limit_mb} MB upload limit."


def files_deleted(user: str) -> str:
    return f"Files deleted by {user}; the history is kept. Submit the document again to redo it."


def files_gone(job_id: str, why: str) -> str:
    """Why a job has no result to give any more (``why``: the note written when its files went)."""
    return f"The files of job {job_id} are no longer kept. {why}".strip()


def delete_unfinished(job_id: str, status: str) -> str:
    return f"Job {job_id} has not ended ({status}); cancel it first, then delete it."


# -- users' limits --------------------------------------------------------------------------------------------------
def too_many_active(user: str, active: int, limit: int) -> str:
    return (
        f"Limit reached: {user} already has {active} jobs queued or running (at most {limit} per user). "
        "Upload again when one has finished, or cancel one."
    )


def too_many_uploads(user: str, uploads: int, limit: int, wait_s: float) -> str:
    return (
        f"Limit reached: {user} uploaded {uploads} files in the last hour (at most {limit} per user). "
        f"The next upload is possible in {max(1, round(wait_s / 60))} min."
    )
