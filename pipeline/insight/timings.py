"""Where processing time goes, as pandas DataFrames: for the dashboard's analytics page and for notebooks.

Every function takes the frames of ``pipeline.insight.frames`` (``Paperline.jobs_frame()``, ``chunks_frame()``) and
returns a new frame, so they are as easy to call on a store's whole history as on a hand-made frame in a test. Jobs
answered from the cache did no processing and are left out of timing figures.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from pipeline.core.lifecycle import Stage

#: the stages timed, in the order a job passes through them (splitting counts as preparing; a retrieval job's
#: embedding and indexing as merging: both run after its last chunk)
STAGES = tuple(stage.value for stage in (Stage.QUEUED, Stage.PREPARING, Stage.EXTRACTING, Stage.MERGING))
#: an instant ``pd.Timestamp`` reads: a date or datetime (a Timestamp is one), an ISO string, epoch seconds
Moment = date | str | float | np.datetime64


def processed_jobs(jobs: pd.DataFrame) -> pd.DataFrame:
    """Jobs that ran on a worker and ended (completed or failed), not served from the cache."""
    if jobs.empty:
        return jobs
    ran = jobs["started_at"].notna() & jobs["finished_at"].notna() & jobs["cached_from"].isna()
    return jobs[ran & jobs["status"].isin(["completed", "failed"])]


def in_range(jobs: pd.DataFrame, start: Moment | None = None, end: Moment | None = None) -> pd.DataFrame:
    """Jobs created between ``start`` and ``end`` (anything ``pd.Timestamp`` takes; naive means UTC)."""
    mask = pd.Series(True, index=jobs.index)
    if start is not None:
        mask &= jobs["created_at"] >= _utc(start)
    if end is not None:
        mask &= jobs["created_at"] <= _utc(end)
    return jobs[mask]


def _utc(value: Moment) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _epoch(times: pd.Series) -> np.ndarray:
    return (times - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()


def _seconds(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (later - earlier).dt.total_seconds().clip(lower=0)


def stage_durations(jobs: pd.DataFrame, chunks: pd.DataFrame) -> pd.DataFrame:
    """Seconds each processed job spent per stage: queued (waiting for a worker), preparing (inspecting and
    planning, up to its first chunk), extracting (first chunk start to last chunk end) and merging (to the end).
    One row per job, a column per stage."""
    done = processed_jobs(jobs)
    columns = ["job_id", "engine", "profile", "pages", *STAGES]
    if done.empty:
        return pd.DataFrame(columns=columns)
    spans = (
        chunks.dropna(subset=["started_at"])
        .groupby("job_id")
        .agg(first_start=("started_at", "min"), last_end=("finished_at", "max"))
    )
    frame = done.set_index("id").join(spans, how="left")
    first_start = frame["first_start"].fillna(frame["finished_at"])
    last_end = frame["last_end"].fillna(first_start).clip(lower=first_start, upper=frame["finished_at"])
    result = pd.DataFrame(
        {
            "job_id": frame.index,
            "engine": frame["engine"].to_numpy(),
            "profile": frame["profile"].to_numpy(),
            "pages": frame["pages"].to_numpy(),
            Stage.QUEUED.value: _seconds(frame["started_at"], frame["created_at"]).to_numpy(),
            Stage.PREPARING.value: _seconds(first_start, frame["started_at"]).to_numpy(),
            Stage.EXTRACTING.value: _seconds(last_end, first_start).to_numpy(),
            Stage.MERGING.value: _seconds(frame["finished_at"], last_end).to_numpy(),
        }
    )
    return result.reset_index(drop=True)


def stage_summary(stages: pd.DataFrame) -> pd.DataFrame:
    """Per stage: median and mean seconds, total seconds, and the share of all time spent in it."""
    if stages.empty:
        return pd.DataFrame(columns=["stage", "median_s", "mean_s", "total_s", "share"])
    totals = stages[list(STAGES)].sum()
    overall = totals.sum() or 1.0
    return pd.DataFrame(
        {
            "stage": list(STAGES),
            "median_s": stages[list(STAGES)].median().to_numpy(),
            "mean_s": stages[list(STAGES)].mean().to_numpy(),
            "total_s": totals.to_numpy(),
            "share": (totals / overall).to_numpy(),
        }
    )


def queue_wait(jobs: pd.DataFrame) -> pd.DataFrame:
    """Per processed job: when it was created, how long it waited for a worker and how long it then ran."""
    done = processed_jobs(jobs)
    frame = pd.DataFrame(
        {
            "job_id": done["id"],
            "created_at": done["created_at"],
            "engine": done["engine"],
            "pages": done["pages"],
            "queue_wait_s": _seconds(done["started_at"], done["created_at"]) if not done.empty else [],
            "processing_s": _seconds(done["finished_at"], done["started_at"]) if not done.empty else [],
        }
    )
    return frame.sort_values("created_at").reset_index(drop=True)


def throughput(jobs: pd.DataFrame) -> pd.DataFrame:
    """Pages per second of processing by engine and profile: over all their pages, and the median job's."""
    done = processed_jobs(jobs)
    done = done[done["status"] == "completed"]
    columns = ["engine", "profile", "jobs", "pages", "processing_s", "pages_per_s", "median_job_pages_per_s"]
    if done.empty:
        return pd.DataFrame(columns=columns)
    seconds = _seconds(done["finished_at"], done["started_at"])
    frame = done.assign(processing_s=seconds, rate=done["pages"] / seconds.where(seconds > 0))
    grouped = frame.groupby(["engine", "profile"], as_index=False).agg(
        jobs=("id", "count"),
        pages=("pages", "sum"),
        processing_s=("processing_s", "sum"),
        median_job_pages_per_s=("rate", "median"),
    )
    grouped["pages_per_s"] = grouped["pages"] / grouped["processing_s"].where(grouped["processing_s"] > 0)
    return grouped[columns]


def chunk_reliability(jobs: pd.DataFrame, chunks: pd.DataFrame) -> pd.DataFrame:
    """Per engine: chunks run, how many failed for good and how many needed more than one attempt."""
    columns = ["engine", "chunks", "failed", "retried", "failure_rate", "retry_rate"]
    started = chunks[chunks["attempts"] > 0]
    if started.empty:
        return pd.DataFrame(columns=columns)
    frame = started.merge(jobs[["id", "engine"]], left_on="job_id", right_on="id", how="left")
    grouped = frame.groupby("engine", as_index=False).agg(
        chunks=("index", "count"),
        failed=("status", lambda s: int((s == "failed").sum())),
        retried=("attempts", lambda a: int((a > 1).sum())),
    )
    grouped["failure_rate"] = grouped["failed"] / grouped["chunks"]
    grouped["retry_rate"] = grouped["retried"] / grouped["chunks"]
    return grouped[columns]


def failure_rate_by_day(jobs: pd.DataFrame) -> pd.DataFrame:
    """Per day (UTC): jobs that ended, how many failed, and the failure rate."""
    ended = jobs[jobs["status"].isin(["completed", "failed"])]
    if ended.empty:
        return pd.DataFrame(columns=["day", "jobs", "failed", "failure_rate"])
    frame = ended.assign(day=ended["created_at"].dt.floor("D"), failed=ended["status"] == "failed")
    grouped = frame.groupby("day", as_index=False).agg(jobs=("id", "count"), failed=("failed", "sum"))
    grouped["failure_rate"] = grouped["failed"] / grouped["jobs"]
    return grouped


def cost_by(jobs: pd.DataFrame, by: str = "day") -> pd.DataFrame:
    """Tokens and estimated cost (USD) per ``"day"`` (UTC) or per ``"user"``."""
    columns = [by, "jobs", "input_tokens", "output_tokens", "cost_usd"]
    used = jobs[(jobs["input_tokens"] > 0) | (jobs["output_tokens"] > 0)]
    if used.empty:
        return pd.DataFrame(columns=columns)
    if by == "day":
        used = used.assign(day=used["created_at"].dt.floor("D"))
    elif by != "user":
        raise ValueError(f"cost_by groups by 'day' or 'user', not {by!r}")
    grouped = used.groupby(by, as_index=False).agg(
        jobs=("id", "count"),
        input_tokens=("input_tokens", "sum"),
        output_tokens=("output_tokens", "sum"),
        cost_usd=("cost_usd", "sum"),
    )
    return grouped[columns]


def worker_utilisation(chunks: pd.DataFrame, freq: str = "1min") -> pd.DataFrame:
    """Share of each time bucket every worker spent running chunks (1.0 = busy the whole bucket)."""
    ran = chunks.dropna(subset=["started_at", "finished_at"])
    ran = ran[ran["worker"] != ""]
    if ran.empty:
        return pd.DataFrame(columns=["bucket", "worker", "busy_s", "utilisation"])
    width = pd.Timedelta(freq)
    buckets = pd.date_range(ran["started_at"].min().floor(freq), ran["finished_at"].max(), freq=freq)
    rows = []
    edges = _epoch(pd.Series(buckets))
    for worker, runs in ran.groupby("worker"):
        starts, ends = _epoch(runs["started_at"]), _epoch(runs["finished_at"])
        for bucket, lo in zip(buckets, edges, strict=True):
            overlap = np.clip(np.minimum(ends, lo + width.total_seconds()) - np.maximum(starts, lo), 0, None)
            rows.append({"bucket": bucket, "worker": worker, "busy_s": float(overlap.sum())})
    frame = pd.DataFrame(rows)
    frame["utilisation"] = (frame["busy_s"] / width.total_seconds()).clip(upper=1.0)
    return frame


def chunk_timeline(chunks: pd.DataFrame, job_id: str) -> pd.DataFrame:
    """One job's chunks as bars on their workers, for a Gantt chart: worker, start, end, pages, status."""
    mine = chunks[(chunks["job_id"] == job_id) & chunks["started_at"].notna()].copy()
    end = mine["finished_at"].fillna(mine["heartbeat_at"]).fillna(mine["started_at"])
    return pd.DataFrame(
        {
            "chunk": mine["index"] + 1,
            "worker": mine["worker"],
            "start": mine["started_at"],
            "end": end,
            "pages": mine["last_page"] - mine["first_page"] + 1,
            "status": mine["status"],
            "attempts": mine["attempts"],
        }
    ).reset_index(drop=True)
