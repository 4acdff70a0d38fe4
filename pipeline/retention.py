"""Retention: keep at most ``PAPERLINE_MAX_JOBS`` jobs' files and ``PAPERLINE_MAX_STORAGE_MB`` of them on disk.

Over a limit, the files of the least recently used finished jobs are deleted (a result read or download counts
as use); their history rows stay, marked purged, so analytics and the audit trail keep every job.
"""

from __future__ import annotations

import logging

from . import messages
from .config import Settings
from .models import JobStatus
from .results import job_files
from .storage import FileStorage
from .store import JobStore

log = logging.getLogger("paperline.retention")


def enforce_limits(settings: Settings, store: JobStore, storage: FileStorage) -> list[str]:
    """Purge least recently used finished jobs until both limits hold; returns the purged job ids."""
    if not settings.max_jobs and not settings.max_storage_mb:
        return []
    candidates = store.purge_candidates()
    active = len(store.list_recent(status=JobStatus.QUEUED)) + len(store.list_recent(status=JobStatus.RUNNING))
    kept = len(candidates) + active
    used = sum(storage.sizes("").values()) if settings.max_storage_mb else 0
    limit_bytes = settings.max_storage_mb * 1024 * 1024
    purged: list[str] = []
    for job in candidates:
        over_count = settings.max_jobs and kept > settings.max_jobs
        over_size = settings.max_storage_mb and used > limit_bytes
        if not (over_count or over_size):
            break
        files = job_files(settings, storage, job.id)
        size = files.size()
        files.delete()
        reason = (
            f"PAPERLINE_MAX_JOBS={settings.max_jobs}"
            if over_count
            else f"PAPERLINE_MAX_STORAGE_MB={settings.max_storage_mb}"
        )
        store.mark_purged(job.id, messages.files_purged(reason))
        kept -= 1
        used -= size
        purged.append(job.id)
    if purged:
        log.info("purged the files of %d jobs: %s", len(purged), ", ".join(purged))
    return purged
