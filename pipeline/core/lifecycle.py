"""The vocabulary of a job's life that every store backend and every reader shares: stages, event kinds, progress.

A job's progress runs 0-100: preparing and splitting take it to 5, extraction (weighted by pages done) to 95,
merging to 100. Backends write these values; the ETA, the dashboard and analytics read them back, so they are named
here once rather than written as numbers where they are used.
"""

from __future__ import annotations

from enum import Enum


class Stage(str, Enum):
    """The step a job is at; a failed or canceled job keeps the stage it stopped in. In order of a job's life."""

    QUEUED = "queued"
    PREPARING = "preparing"
    SPLITTING = "splitting"
    EXTRACTING = "extracting"
    MERGING = "merging"
    #: retrieval profile: passages being embedded, then written out and made searchable
    EMBEDDING = "embedding"
    INDEXING = "indexing"
    COMPLETED = "completed"


#: whole-job steps before its chunks exist: a job lost in one is requeued from the start
PREPARATION_STAGES: tuple[Stage, ...] = (Stage.PREPARING, Stage.SPLITTING)
#: the steps only a retrieval job takes, after merging
INDEXING_STAGES: tuple[Stage, ...] = (Stage.EMBEDDING, Stage.INDEXING)
#: whole-job steps after its chunks: the merge task carries on from whichever of them the job is in
FINISHING_STAGES: tuple[Stage, ...] = (Stage.MERGING, *INDEXING_STAGES)
#: stages that start a step of their own: entering one resets the count of the job's lost steps (preparing keeps
#: its count across the requeues that send it back to queued)
STEPS_COUNTED_AFRESH: tuple[Stage, ...] = (Stage.EXTRACTING, *FINISHING_STAGES)


def stages_of(indexed: bool) -> tuple[Stage, ...]:
    """The stages a job passes through, in order; only an indexed (retrieval) job embeds and indexes."""
    return tuple(stage for stage in Stage if indexed or stage not in INDEXING_STAGES)


class EventKind(str, Enum):
    """What a line of a job's audit trail records; the values are stored verbatim."""

    #: the job was recorded (queued, answered from cache, or refused at intake)
    CREATED = "created"
    #: the job reached a new stage (preparing, splitting, extracting, merging, embedding, indexing)
    STAGE = "stage"
    #: the job ended: completed, failed or canceled
    STATUS = "status"
    #: a note for the analyst (OCR unavailable, unreadable glyphs, ...)
    NOTE = "note"
    #: a chunk's pages done moved on
    PROGRESS = "progress"
    #: a worker claimed a chunk
    CHUNK_STARTED = "chunk_started"
    CHUNK_DONE = "chunk_done"
    CHUNK_FAILED = "chunk_failed"
    CHUNK_CANCELED = "chunk_canceled"
    #: a chunk hit a transient error and waits for another attempt
    CHUNK_RETRY = "chunk_retry"
    #: a step waits out a fault of the job store, the object store or the queue (it retries, bounded)
    WAITING = "waiting"
    #: a chunk ran past its time limit and was taken back (retried or failed)
    CHUNK_OVERTIME = "chunk_overtime"
    #: a chunk whose worker stopped sending heartbeats was put back in the queue
    CHUNK_RECOVERED = "chunk_recovered"
    #: a job lost while preparing was put back in the queue
    RECOVERED = "recovered"
    #: a failed job's failed chunks were reopened
    RETRY = "retry"
    #: the job's files were deleted (retention or a user); its history stays
    PURGED = "purged"

    @classmethod
    def chunk_ended(cls, status: str) -> EventKind:
        """The event for a chunk that ended with ``status`` (done, failed, canceled)."""
        return cls(f"chunk_{status}")


# Progress milestones (percent of the job).
PROGRESS_QUEUED = 0.0
PROGRESS_PREPARING = 1.0
PROGRESS_SPLITTING = 3.0
PROGRESS_AFTER_SPLITTING = 5.0
PROGRESS_BEFORE_MERGING = 95.0
# retrieval profile: embedding the passages takes 96 -> 99, indexing 99 -> 100
PROGRESS_EMBEDDING = 96.0
PROGRESS_INDEXING = 99.0
PROGRESS_DONE = 100.0


def embedding_progress(done: int, total: int) -> float:
    """The job's progress while embedding, in proportion to passages done."""
    share = min(1.0, done / total) if total > 0 else 1.0
    return round(PROGRESS_EMBEDDING + (PROGRESS_INDEXING - PROGRESS_EMBEDDING) * share, 2)


def extraction_progress(pages_done: int, pages: int) -> float:
    """The job's progress while extracting: between the two milestones, in proportion to pages done."""
    if pages <= 0:
        return PROGRESS_AFTER_SPLITTING
    share = min(1.0, pages_done / pages)
    return round(PROGRESS_AFTER_SPLITTING + (PROGRESS_BEFORE_MERGING - PROGRESS_AFTER_SPLITTING) * share, 2)


def extracted_share(progress: float) -> float:
    """The share of pages extracted (0-1) that a job's progress value stands for."""
    span = PROGRESS_BEFORE_MERGING - PROGRESS_AFTER_SPLITTING
    return min(1.0, max(0.0, (progress - PROGRESS_AFTER_SPLITTING) / span))
