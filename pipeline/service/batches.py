"""Batches in the service: a batch's jobs rolled up from snapshots in hand, and all its results as one zip. What a
batch's sums mean (its status, its line, ``BatchView``) is ``pipeline.core.batches``'s, shared with the store,
which sends a batch's end to its webhooks."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from pipeline.core import messages
from pipeline.core.models import Job, JobStatus
from pipeline.documents.intake import sanitize_filename
from pipeline.files.jobfiles import download_suffix

MANIFEST = "manifest.json"


def rollup(jobs: Sequence[Job], documents: int = 0) -> tuple[dict[str, int], float]:
    """A batch's jobs summed up as the store's ``batch_totals`` does, from snapshots already in hand (the page's
    feed): jobs in each status, and progress (0-100, an ended job counting whole) over the ``documents`` the batch
    was submitted with (its jobs still to be created counting as nothing)."""
    counts = {status.value: 0 for status in JobStatus}
    for job in jobs:
        counts[job.status.value] += 1
    documents = max(documents, len(jobs))
    progress = sum(100.0 if job.is_final else job.progress for job in jobs) / documents if jobs else 0.0
    return counts, min(100.0, progress)


def archive_name(job: Job, fmt: str, taken: set[str]) -> str:
    """The file name of a job's result in the zip: the document's name with the format's suffix, numbered when
    another document of the batch has the same name (cleaned again: a job recorded before names lost their format
    characters may still hold a bidi override)."""
    stem, suffix = Path(sanitize_filename(job.filename)).stem or job.id, download_suffix(fmt)
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
