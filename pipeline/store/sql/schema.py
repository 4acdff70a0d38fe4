"""The columns each snapshot is read from, and how rows become ``Job``, ``Chunk`` and ``Event`` snapshots (every
SQL backend)."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from pipeline.core.lifecycle import EventKind
from pipeline.core.models import Chunk, ChunkStatus, Event, Job, JobStatus, Stage


def columns_of(snapshot: type, **renamed: str) -> str:
    """The columns a snapshot is read from: one per field, named as the field unless ``renamed`` (field=column);
    quoted, as ``user`` is reserved on PostgreSQL. The tables themselves are made by ``pipeline.store.migrations``."""
    return ", ".join(f'"{renamed.get(field.name, field.name)}"' for field in fields(snapshot))


JOB_COLUMNS = columns_of(Job)
CHUNK_COLUMNS = columns_of(Chunk, index="idx")
EVENT_COLUMNS = columns_of(Event)


def job_from_row(row: Any) -> Job:
    data = dict(row)
    data["status"] = JobStatus(data["status"])
    data["stage"] = Stage(data["stage"])
    data["notes"] = tuple(json.loads(data["notes"]))
    data["meta"] = json.loads(data["meta"])
    return Job(**data)


def chunk_from_row(row: Any) -> Chunk:
    data = dict(row)
    data["index"] = data.pop("idx")
    data["status"] = ChunkStatus(data["status"])
    return Chunk(**data)


def event_from_row(row: Any) -> Event:
    data = dict(row)
    data["kind"] = EventKind(data["kind"])
    return Event(**data)
