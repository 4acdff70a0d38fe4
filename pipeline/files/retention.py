"""Retention: bound the files kept, per user and in all, by deleting the least recently used finished jobs' files.

Two layers, each off by default (0):

- **per user** (``PAPERLINE_USER_MAX_JOBS``, ``PAPERLINE_USER_MAX_STORAGE_MB``): a user over their own limit loses
  their own least recently used finished jobs' files, never another user's;
- **in all** (``PAPERLINE_MAX_JOBS``, ``PAPERLINE_MAX_STORAGE_MB``), the operator's last resort: while over it, the
  user keeping the most (bytes when over the storage limit, jobs when over the count) loses their least recently
  used finished job's files first, so one heavy user's uploads purge their own files before anyone else's.

A result read or download counts as use. Jobs queued or running count toward the limits but are never purged. The
history rows stay, marked purged, so analytics and the audit trail keep every job.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable

from pipeline.core import messages
from pipeline.core.models import Job, JobStatus
from pipeline.core.settings import Settings
from pipeline.files.jobfiles import job_files
from pipeline.files.storage import FileStorage
from pipeline.store import JobStore

log = logging.getLogger("paperline.retention")
MB = 1024 * 1024


class _Kept:
    """What is kept now: jobs and bytes per user and in all, and the purge candidates (least recently used first)."""

    def __init__(self, candidates: list[Job], active: Iterable[Job], job_bytes: dict[str, int], total: int) -> None:
        self.candidates = candidates
        self.job_bytes = job_bytes
        self.jobs: Counter[str] = Counter()
        self.bytes: Counter[str] = Counter()
        for job in [*candidates, *active]:
            self.jobs[job.user] += 1
            self.bytes[job.user] += job_bytes.get(job.id, 0)
        self.total_jobs = sum(self.jobs.values())
        self.total_bytes = total

    def remove(self, job: Job) -> None:
        self.candidates.remove(job)
        size = self.job_bytes.get(job.id, 0)
        self.jobs[job.user] -= 1
        self.bytes[job.user] -= size
        self.total_jobs -= 1
        self.total_bytes -= size


def _measure(store: JobStore, storage: FileStorage, settings: Settings, user: str | None) -> _Kept:
    candidates = store.purge_candidates(user)
    active = [
        *store.list_recent(status=JobStatus.QUEUED, user=user),
        *store.list_recent(status=JobStatus.RUNNING, user=user),
    ]
    job_bytes: dict[str, int] = defaultdict(int)
    total = 0
    if settings.max_storage_mb or settings.user_max_storage_mb:
        for key, size in storage.sizes("").items():
            job_bytes[key.split("/", 1)[0]] += size
            total += size
    return _Kept(candidates, active, job_bytes, total)


def _purge(settings: Settings, store: JobStore, storage: FileStorage, kept: _Kept, job: Job, reason: str) -> None:
    job_files(settings, storage, job.id).delete()
    store.mark_purged(job.id, messages.files_purged(reason))
    kept.remove(job)


def _over_user_limit(settings: Settings, kept: _Kept, user: str) -> str:
    if settings.user_max_jobs and kept.jobs[user] > settings.user_max_jobs:
        return f"PAPERLINE_USER_MAX_JOBS={settings.user_max_jobs}"
    if settings.user_max_storage_mb and kept.bytes[user] > settings.user_max_storage_mb * MB:
        return f"PAPERLINE_USER_MAX_STORAGE_MB={settings.user_max_storage_mb}"
    return ""


def _over_global_limit(settings: Settings, kept: _Kept) -> str:
    if settings.max_jobs and kept.total_jobs > settings.max_jobs:
        return f"PAPERLINE_MAX_JOBS={settings.max_jobs}"
    if settings.max_storage_mb and kept.total_bytes > settings.max_storage_mb * MB:
        return f"PAPERLINE_MAX_STORAGE_MB={settings.max_storage_mb}"
    return ""


def enforce_limits(settings: Settings, store: JobStore, storage: FileStorage, *, user: str | None = None) -> list[str]:
    """Purge finished jobs' files until every limit holds: ``user``'s own limits (every user's when None), then
    the global ones; returns the purged job ids."""
    per_user = bool(settings.user_max_jobs or settings.user_max_storage_mb)
    overall = bool(settings.max_jobs or settings.max_storage_mb)
    if not per_user and not overall:
        return []
    kept = _measure(store, storage, settings, None if overall or user is None else user)
    purged: list[str] = []
    if per_user:
        for owner in [user] if user is not None else sorted({job.user for job in kept.candidates}):
            for job in [job for job in kept.candidates if job.user == owner]:
                reason = _over_user_limit(settings, kept, owner)
                if not reason:
                    break
                _purge(settings, store, storage, kept, job, reason)
                purged.append(job.id)
    while overall and kept.candidates and (reason := _over_global_limit(settings, kept)):
        by_bytes = reason.startswith("PAPERLINE_MAX_STORAGE_MB")
        # The heaviest user with something to purge pays first; between equals, the least recently used job.
        first: dict[str, tuple[int, Job]] = {}
        for position, job in enumerate(kept.candidates):
            first.setdefault(job.user, (position, job))
        heaviest = max(first, key=lambda u: ((kept.bytes if by_bytes else kept.jobs)[u], -first[u][0]))
        job = first[heaviest][1]
        _purge(settings, store, storage, kept, job, reason)
        purged.append(job.id)
    if purged:
        log.info("purged the files of %d jobs: %s", len(purged), ", ".join(purged))
    return purged
