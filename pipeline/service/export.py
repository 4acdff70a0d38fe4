"""Job, chunk and event history as CSV or Parquet files, for the CLI (``paperline export``) and the dashboard."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.core.errors import InvalidRequest
from pipeline.core.spreadsheet import defuse

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.service.paperline import Paperline

TABLES = ("jobs", "chunks", "events")
FORMATS = {"csv": "csv", "parquet": "parquet"}


def history_frames(
    app: Paperline, *, user: str | None = None, tables: Iterable[str] = TABLES
) -> dict[str, pd.DataFrame]:
    """The history a user may see (everything for ``user=None``), one frame per table."""
    jobs = app.jobs_frame(user=user)
    ids = set(jobs["id"])
    frames: dict[str, pd.DataFrame] = {}
    for table in tables:
        if table == "jobs":
            frames[table] = jobs
        elif table == "chunks":
            chunks = app.chunks_frame()
            frames[table] = chunks[chunks["job_id"].isin(ids)].reset_index(drop=True)
        elif table == "events":
            events = app.events_frame()
            frames[table] = events[events["job_id"].isin(ids)].reset_index(drop=True)
        else:
            raise InvalidRequest(f"Unknown table {table!r}; choose from {', '.join(TABLES)}")
    return frames


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """Dict and list cells (job metadata) as JSON text, so every format can hold them."""
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = frame[column].map(
                lambda v: json.dumps(v, default=str) if isinstance(v, (dict, list, tuple)) else v
            )
    return frame


def frame_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """One table in ``fmt`` ("csv" or "parquet"); CSV times are ISO 8601 in UTC, and CSV text cells that would
    start a spreadsheet formula are defused (``pipeline.core.spreadsheet``); Parquet keeps every value as it is."""
    if fmt not in FORMATS:
        raise InvalidRequest(f"Unknown export format {fmt!r}; choose csv or parquet")
    frame = _flat(frame)
    if fmt == "csv":
        from pandas.api.types import is_object_dtype, is_string_dtype

        for column in frame.columns:
            if is_object_dtype(frame[column]) or is_string_dtype(frame[column]):
                frame[column] = frame[column].map(defuse)
        frame.columns = [defuse(str(column)) for column in frame.columns]
        return frame.to_csv(index=False).encode("utf-8")
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def write_export(frames: dict[str, pd.DataFrame], directory: Path, fmt: str) -> list[Path]:
    """Write ``paperline-<table>.<fmt>`` files into ``directory``; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for table, frame in frames.items():
        path = directory / f"paperline-{table}.{FORMATS[fmt]}"
        path.write_bytes(frame_bytes(frame, fmt))
        written.append(path)
    return written
