"""A job's life as its user reads it: stages, progress, cache, cancel, retry, run again; and a batch's."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.core.lifecycle import Stage
from pipeline.core.messages.words import plural

# -- a job's stages -----------------------------------------------------------------------------------------------
QUEUED = "Queued"
PREPARING = "Preparing"
MERGING = "Merging chunk results"
MERGING_AGAIN = "Merging again after a lost worker"
MERGING_RETRIED = "Retrying: merging the chunk results again"
INDEXING_AGAIN = "Embedding and indexing again after a lost worker"
REQUEUED_WHILE_PREPARING = "Requeued: its worker stopped while preparing"
#: what a job's step is called in "The worker stopped while ..." (a step whose worker keeps dying)
STEP_DOING: dict[str, str] = {
    Stage.PREPARING: "preparing this document",
    Stage.SPLITTING: "preparing this document",
    Stage.MERGING: "merging the chunk results",
    Stage.EMBEDDING: "embedding the passages",
    Stage.INDEXING: "indexing the passages",
}


def stage_label(stage: Stage) -> str:
    """A stage's name on the page's stepper: "Preparing", ..., "Done"."""
    return "Done" if stage is Stage.COMPLETED else stage.value.capitalize()


def step_kept_dying(stage: str, times: int) -> str:
    """A job failed because every worker that ran its step (preparing, merging, embedding) died."""
    doing = STEP_DOING.get(stage, stage)
    return (
        f"The worker stopped while {doing} (crash or out of memory), {plural(times, 'time')}; "
        "it was not tried again. Retry the job once the cause is fixed."
    )


CANCELED = "Canceled"


def compressing(done: int, total: int) -> str:
    """A long preparation's progress: a many-page image compressed page by page."""
    return f"Preparing: {done} of {total} pages compressed"


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


#: a canceled job run again from the start (it was canceled before it was split into chunks)
RUN_AGAIN = "Queued again after it was canceled"


def running_again(chunks: Sequence[int]) -> str:
    return f"Running again after it was canceled: {plural(len(chunks), 'chunk')} to do"


def cannot_run_again(job_id: str, why: str) -> str:
    return f"Job {job_id} cannot run again: {why}."


def only_failed_or_canceled_retry(job_id: str, status: str) -> str:
    return f"Job {job_id} is {status}; only a failed or canceled job can be retried."


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


#: a cache hit on another user's job: that the result came from the cache, never that someone uploaded the file,
#: who, or what they called it (PAPERLINE_SHARE_CACHE=0 keys the cache per user)
SERVED_FROM_CACHE_ANONYMOUS = "Served from the result cache"
#: what a job served from another user's job records as its source (never that job's id)
CACHED_FROM_SHARED = "cache"


def canceled_by(user: str) -> str:
    return f"Canceled by {user}"


def not_queued(error: object) -> str:
    return f"Could not reach the job queue, so the document was not queued: {error}"


def could_not_prepare(error: object) -> str:
    return f"Could not prepare this document: {error}"


def could_not_merge(error: object) -> str:
    return f"Could not merge the chunk results: {error}"


# -- batches ------------------------------------------------------------------------------------------------------
def batch_rollup(total: int, ready: int, failed: int = 0, canceled: int = 0) -> str:
    """A batch in one line: "3 of 10 ready, 1 failed"."""
    parts = [f"{ready} of {total} ready"]
    if failed:
        parts.append(f"{failed} failed")
    if canceled:
        parts.append(f"{canceled} canceled")
    return ", ".join(parts)


def batch_name(documents: int) -> str:
    return plural(documents, "document")


def nothing_to_retry_in(batch_id: str) -> str:
    return f"Batch {batch_id} has no failed job whose chunks can run again."


#: a document of a drop whose batch was canceled ("cancel all") before it became a job
CANCELED_WITH_BATCH = "Not started: its batch was canceled before this document was queued"


def nothing_to_cancel_in(batch_id: str) -> str:
    return f"Every job of batch {batch_id} has already ended; there is nothing to cancel."


def no_result_because(status: str, error: str) -> str:
    return f"no result ({status}{': ' + error if error else ''})"
