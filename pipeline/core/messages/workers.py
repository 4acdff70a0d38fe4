"""Workers and chunks: stalls, lost workers, faults of the services a job needs, a chunk's life."""

from __future__ import annotations

from pipeline.core.messages.words import plural

# -- workers ---------------------------------------------------------------------------------------------------
START_A_WORKER = "Start one with 'paperline worker' (or 'make run')"
#: the CLI's warning when it queues work and no worker is alive
NO_WORKER_RUNNING = (
    "No Paperline worker is running, so queued jobs will wait. Start one with 'paperline worker' "
    "(or 'make run', which starts the dashboard and a worker)."
)


def queued_without_worker(queued: int) -> str:
    """The dashboard's warning: jobs are queued and no worker is running."""
    return f"{plural(queued, 'job')} queued and no worker is running. {START_A_WORKER}."


def no_worker_to_finish(waiting: int) -> str:
    """Why waiting on jobs stopped (``Paperline.wait``): no worker has been alive for a while."""
    return (
        f"No Paperline worker is running, so {plural(waiting, 'job')} cannot finish. {START_A_WORKER}, then wait again."
    )


def stalled_queued(waited_s: float) -> str:
    return f"Stalled: queued for {waited_s:.0f} s and no worker is running (start one with 'paperline worker')."


def stalled_over_time(index: int, ran_s: float, limit_s: float) -> str:
    return (
        f"Stalled: chunk {index + 1} has run {ran_s:.0f} s, over its {limit_s:g} s time limit; it will be stopped "
        "and retried."
    )


def stalled_without_worker(quiet_s: float) -> str:
    return f"Stalled: no progress for {quiet_s:.0f} s and no worker is alive; it resumes when a worker starts."


def stalled_with_worker(quiet_s: float) -> str:
    return f"Stalled: no progress for {quiet_s:.0f} s although a worker is alive; its chunk may be stuck."


# -- faults of the services a job needs (pipeline.core.transient) ----------------------------------------------------
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


def chunk_handed_back(index: int) -> str:
    return f"Chunk {index + 1} handed back to the queue: its worker is stopping"


def chunk_kept_dying(first_page: int, last_page: int, times: int) -> str:
    """A poison pill: every worker that read these pages died (a crash, or the kernel's out-of-memory killer)."""
    pages = f"page {first_page}" if first_page == last_page else f"pages {first_page}-{last_page}"
    return f"The worker stopped while reading {pages} (crash or out of memory), {plural(times, 'time')}"


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
