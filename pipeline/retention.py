"""Retention: keep at most ``PAPERLINE_MAX_JOBS`` jobs' files and ``PAPERLINE_MAX_STORAGE_MB`` of them on disk.

Over a limit, the files of the least recently used finished jobs are deleted (a result read or download counts
as use); their history rows stay, marked purged, so analytics and the audit trail keep every job.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from . import messages
from .config import Settings
from .models import JobStatus
from .store import JobStore

log = logging.getLogger("paperline.retention")


def directory_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


def enforce_limits(settings: Settings, store: JobStore) -> list[str]:
    """Purge least recently used finished jobs until both limits hold; returns the purged job ids."""
    if not settings.max_jobs and not settings.max_storage_mb:
        return []
    candidates = store.purge_candidates()
    active = len(store.list_recent(status=JobStatus.QUEUED)) + len(store.list_recent(status=JobStatus.RUNNING))
    kept = len(candidates) + active
    used = directory_bytes(settings.jobs_dir) if settings.max_storage_mb else 0
    limit_bytes = settings.max_storage_mb * 1024 * 1024
    purged: list[str] = []
    for job in candidates:
        over_count = settings.max_jobs and kept > settings.max_jobs
        over_size = settings.max_storage_mb and used > limit_bytes
        if not (over_count or over_size):
            break
        folder = settings.job_dir(job.id)
        size = directory_bytes(folder)
        shutil.rmtree(folder, ignore_errors=True)
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
