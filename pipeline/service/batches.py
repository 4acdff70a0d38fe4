"""Batches as the service shows them: a batch's status (its jobs summed up, with an ETA) and all its results as
one zip.

The store sums a batch's jobs in one query (``JobStore.batch_totals``); what the sums mean (a status, a line a
person reads, the time left) is decided here, the same for every backend.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pipeline.core import messages
from pipeline.core.models import BatchTotals, Job, JobStatus
from pipeline.files.jobfiles import FORMAT_FILES

MANIFEST = "manifest.json"


def rollup(jobs: Sequence[Job]) -> tuple[dict[str, int], float]:
    """A batch's jobs summed up as the store's ``batch_totals`` does, from snapshots already in hand (the page's
    feed): jobs in each status, and progress (0-100, an ended job counting whole)."""
    counts = {status.value: 0 for status in JobStatus}
    for job in jobs:
        counts[job.status.value] += 1
    progress = sum(100.0 if job.is_final else job.progress for job in jobs) / len(jobs) if jobs else 0.0
    return counts, min(100.0, progress)


def batch_status(totals: BatchTotals) -> JobStatus:
    """One status for the batch: queued until a job starts, running while any is open; once all ended, completed
    when every job completed, failed when any failed, canceled otherwise."""
    counts = totals.counts
    if not totals.is_final:
        started = totals.started_at is not None or totals.ended > 0
        return JobStatus.RUNNING if started else JobStatus.QUEUED
    if counts[JobStatus.FAILED.value]:
        return JobStatus.FAILED
    if counts[JobStatus.CANCELED.value]:
        return JobStatus.CANCELED
    return JobStatus.COMPLETED


@dataclass(frozen=True)
class BatchView:
    """A batch as the API, CLI and page show it: the store's totals, a status, a line, and the seconds left."""

    totals: BatchTotals
    #: seconds until every job has ended (None: nothing to estimate from yet)
    eta_s: float | None = None

    @property
    def id(self) -> str:
        return self.totals.batch.id

    @property
    def status(self) -> JobStatus:
        return batch_status(self.totals)

    @property
    def is_final(self) -> bool:
        return self.totals.is_final

    @property
    def message(self) -> str:
        counts = self.totals.counts
        return messages.batch_rollup(self.totals.total, counts["completed"], counts["failed"], counts["canceled"])

    def to_dict(self) -> dict[str, Any]:
        totals = self.totals
        return {
            **totals.batch.to_dict(),
            "status": self.status.value,
            "message": self.message,
            "counts": dict(totals.counts),
            "pages": totals.pages,
            "pages_done": totals.pages_done,
            "progress": round(totals.progress, 2),
            "started_at": totals.started_at,
            "finished_at": totals.finished_at,
            "eta_s": None if self.eta_s is None else round(self.eta_s, 1),
        }


def archive_name(job: Job, fmt: str, taken: set[str]) -> str:
    """The file name of a job's result in the zip: the document's name with the format's suffix, numbered when
    another document of the batch has the same name."""
    stem, suffix = Path(job.filename).stem or job.id, Path(FORMAT_FILES[fmt][0]).suffix
    name, n = f"{stem}{suffix}", 1
    while name in taken:
        n += 1
        name = f"{stem} ({n}){suffix}"
    taken.add(name)
    return name


def write_results_zip(
    out: IO[bytes], jobs: Sequence[Job], read_result: Callable[[Job], tuple[str, bytes] | None]
) -> list[dict[str, Any]]:
    """Write each job's main result into a zip on ``out`` (one result in memory at a time), and a manifest listing
    every job: the file it became, or why there is none. ``read_result`` gives a job's (format, bytes), or None
    when it has no result. Returns the manifest's entries."""
    manifest: list[dict[str, Any]] = []
    taken = {MANIFEST}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for job in sorted(jobs, key=lambda j: (j.created_at, j.id)):
            entry: dict[str, Any] = {"job": job.id, "document": job.filename, "status": job.status.value}
            found = read_result(job)
            if found is None:
                entry.update(file=None, why=messages.no_result_because(job.status.value, job.error))
            else:
                fmt, data = found
                entry.update(file=archive_name(job, fmt, taken), format=fmt)
                archive.writestr(entry["file"], data)
            manifest.append(entry)
        archive.writestr(MANIFEST, json.dumps({"jobs": manifest}, indent=2))
    return manifest
