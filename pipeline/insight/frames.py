"""pandas DataFrames of jobs, chunks and events, for notebooks and analytics (times as UTC timestamps)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict

import pandas as pd

from pipeline.core.models import Chunk, Event, Job

JOB_TIME_COLUMNS = ("created_at", "started_at", "finished_at", "updated_at")
CHUNK_TIME_COLUMNS = ("started_at", "finished_at", "heartbeat_at")


def _times(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    for column in columns:
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], unit="s", utc=True)
    return frame


def jobs_frame(jobs: Iterable[Job]) -> pd.DataFrame:
    rows = []
    for job in jobs:
        row = job.to_dict()
        row["notes"] = "\n".join(job.notes)
        row["queue_wait_s"] = job.queue_wait_s
        rows.append(row)
    columns = [*Job.__dataclass_fields__, "duration_s", "queue_wait_s"]
    frame = pd.DataFrame(rows, columns=columns)
    return _times(frame, JOB_TIME_COLUMNS)


def chunks_frame(chunks: Iterable[Chunk]) -> pd.DataFrame:
    rows = [{**chunk.to_dict(), "pages": chunk.pages, "duration_s": chunk.duration_s} for chunk in chunks]
    frame = pd.DataFrame(rows, columns=[*Chunk.__dataclass_fields__, "pages", "duration_s"])
    return _times(frame, CHUNK_TIME_COLUMNS)


def events_frame(events: Iterable[Event]) -> pd.DataFrame:
    frame = pd.DataFrame([asdict(e) for e in events], columns=list(Event.__dataclass_fields__))
    return _times(frame, ("at",))
