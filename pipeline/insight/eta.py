"""When will a running job finish? A model fitted on Paperline's own history, corrected by the job's progress.

Before a job has progress, its expected processing time comes from finished jobs like it: a least-squares fit of
seconds against pages and pages x jobs running at once (the load the workers shared), per engine and profile,
falling back to the engine and then to every job when a group has too little history. Once pages are done, the
job's own pace counts too: the time since its first chunk began, per share of its pages done. Where the history
knows jobs of its size, the larger of the two is said: both miss the time a job spends waiting behind other jobs'
tasks (its merge is queued behind their chunks), so each alone mostly says too little. For a size the history has
not seen (a fit stretched beyond its sizes is far off), the job's own pace alone; with no history at all and under
``ESTIMATING_BELOW`` of its pages done, there is nothing to go on yet: "estimating".

``evaluate`` measures this on a held-back, most recent part of the history, replaying each job's progress events
through the same ``EtaModel.estimate``; ``benchmarks/eta.py`` also measures it on sizes the history has not seen.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from pipeline.core.lifecycle import EventKind, extracted_share
from pipeline.core.models import Chunk, Event, Job, JobStatus

MIN_JOBS_PER_GROUP = 3
#: with no history, a job under this share of its pages done has no ETA yet ("estimating")
ESTIMATING_BELOW = 0.10
#: sizes the history knows: from a fifth under its smallest job to a quarter over its largest
SIZE_MARGIN = 1.25
ESTIMATING = "estimating"


@dataclass(frozen=True)
class _Fit:
    coefficients: tuple[float, float, float]  # seconds = a + b * pages + c * pages * (jobs running - 1)
    jobs: int
    #: the smallest and largest job (pages) it was fitted on
    pages_seen: tuple[int, int] = (0, 0)

    def predict(self, pages: int, load: int) -> float:
        a, b, c = self.coefficients
        return max(0.0, a + b * pages + c * pages * max(0, load - 1))

    def knows_size(self, pages: int) -> bool:
        low, high = self.pages_seen
        return low / SIZE_MARGIN <= pages <= high * SIZE_MARGIN


def _fit(samples: Sequence[tuple[int, int, float]]) -> _Fit | None:
    """Least squares on (pages, load, seconds); the load term only when the load varied, and never negative."""
    if len(samples) < MIN_JOBS_PER_GROUP:
        return None
    pages = np.array([s[0] for s in samples], dtype=float)
    extra_load = np.array([max(0, s[1] - 1) for s in samples], dtype=float)
    seconds = np.array([s[2] for s in samples], dtype=float)
    columns = [np.ones_like(pages), pages]
    if np.ptp(extra_load * pages) > 0 and len(samples) > MIN_JOBS_PER_GROUP:
        columns.append(pages * extra_load)
    solution, *_ = np.linalg.lstsq(np.column_stack(columns), seconds, rcond=None)
    coefficients = [float(x) for x in solution] + [0.0] * (3 - len(solution))
    if coefficients[1] < 0 or coefficients[2] < 0:  # too little spread in sizes: fall back to a pure rate
        rate = float(seconds.sum() / max(pages.sum(), 1.0))
        coefficients = [0.0, rate, 0.0]
    seen = (int(pages.min()), int(pages.max()))
    return _Fit((coefficients[0], coefficients[1], coefficients[2]), len(samples), seen)


def loads_at(jobs: Sequence[Job], moments: Sequence[float]) -> list[int]:
    """How many of ``jobs`` were running (started, not yet finished) at each moment; sorted searches, so fitting
    on a long history stays fast."""
    starts = np.sort([j.started_at for j in jobs if j.started_at is not None])
    ends = np.sort([j.finished_at for j in jobs if j.started_at is not None and j.finished_at is not None])
    at = np.asarray(moments, dtype=float)
    return [int(n) for n in np.searchsorted(starts, at, side="right") - np.searchsorted(ends, at, side="right")]


def _history(jobs: Sequence[Job]) -> list[Job]:
    return [
        j
        for j in jobs
        if j.status is JobStatus.COMPLETED and j.cached_from is None and j.duration_s is not None and j.pages > 0
    ]


@dataclass
class EtaModel:
    """Expected processing seconds for a job, and its remaining seconds while it runs."""

    groups: dict[tuple[str, ...], _Fit] = field(default_factory=dict)

    @classmethod
    def fit(cls, jobs: Sequence[Job]) -> EtaModel:
        history = _history(jobs)
        loads = loads_at(history, [(j.started_at or 0.0) + 1e-6 for j in history])
        samples: dict[tuple[str, ...], list[tuple[int, int, float]]] = {}
        for job, load in zip(history, loads, strict=True):
            assert job.duration_s is not None
            sample = (job.pages, load, job.duration_s)
            for key in ((job.engine, job.profile), (job.engine,), ()):
                samples.setdefault(key, []).append(sample)
        groups = {key: fit for key, group in samples.items() if (fit := _fit(group)) is not None}
        return cls(groups)

    @property
    def trained_on(self) -> int:
        overall = self.groups.get(())
        return overall.jobs if overall else 0

    def _fit_for(self, job: Job) -> _Fit | None:
        for key in ((job.engine, job.profile), (job.engine,), ()):
            fit = self.groups.get(key)
            if fit is not None:
                return fit
        return None

    def expected_seconds(self, job: Job, load: int = 1) -> float | None:
        """Processing seconds expected for this job from history alone (None without enough history)."""
        fit = self._fit_for(job)
        return fit.predict(job.pages, load) if fit is not None else None

    def overhead_seconds(self, job: Job) -> float:
        """The part of a job's time that does not grow with its pages (preparing, merging), from the fit's
        intercept; 0 without history."""
        fit = self._fit_for(job)
        return max(0.0, fit.coefficients[0]) if fit is not None else 0.0

    def remaining_seconds(
        self, job: Job, *, now: float | None = None, load: int = 1, extracting_since: float | None = None
    ) -> float | None:
        """Seconds until ``job`` ends, or None while there is nothing to go on yet ("estimating": no history for
        it and under ``ESTIMATING_BELOW`` of its pages done). ``extracting_since``: when its first chunk began (the
        job's own pace is measured from there; without it, from its start less the history's overhead)."""
        if job.is_final:
            return 0.0
        now = time.time() if now is None else now
        if job.started_at is None:
            return self.expected_seconds(job, load)
        share = job.pages_done / job.pages if job.pages else 0.0
        extracting_for = None if extracting_since is None else max(0.0, now - extracting_since)
        return self.estimate(
            job, elapsed=max(0.0, now - job.started_at), share=share, load=load, extracting_for=extracting_for
        )

    def estimate(
        self, job: Job, *, elapsed: float, share: float, load: int = 1, extracting_for: float | None = None
    ) -> float | None:
        """Remaining seconds of a running ``job`` ``elapsed`` seconds after it started, with ``share`` of its pages
        done (``extracting_for``: seconds since its first chunk began): what ``remaining_seconds`` says and what
        ``evaluate`` replays (the rules: the module's docstring). None: "estimating"."""
        fit = self._fit_for(job)
        from_history = max(0.0, fit.predict(job.pages, load) - elapsed) if fit is not None else None
        if share <= 0:
            return from_history
        if fit is None and share < ESTIMATING_BELOW:
            return None
        share = min(share, 1.0)
        extracting = extracting_for if extracting_for is not None else max(0.0, elapsed - self.overhead_seconds(job))
        own_pace = extracting * (1 - share) / share
        if fit is None or from_history is None or not fit.knows_size(job.pages):
            return own_pace
        return max(own_pace, from_history)


def batch_remaining_seconds(
    model: EtaModel,
    jobs: Sequence[Job],
    *,
    workers: int,
    now: float | None = None,
    extracting_since: Mapping[str, float] | None = None,
) -> float | None:
    """Seconds until every job of a batch has ended: the open jobs' remaining seconds (each as
    ``remaining_seconds`` has it, ``extracting_since`` by job id) shared out over ``workers``, and never less than
    the longest of them; None when no open job can be estimated."""
    open_jobs = [job for job in jobs if not job.is_final]
    if not open_jobs:
        return 0.0
    running = sum(1 for job in open_jobs if job.started_at is not None)
    since = extracting_since or {}
    known = [
        seconds
        for job in open_jobs
        if (seconds := model.remaining_seconds(job, now=now, load=max(1, running), extracting_since=since.get(job.id)))
        is not None
    ]
    if not known:
        return None
    return max(max(known), sum(known) / max(1, workers))


def first_chunk_start(chunks: Iterable[Chunk]) -> float | None:
    """When a job's extraction began: its first chunk's start (None before any began); ``extracting_since``."""
    return min((c.started_at for c in chunks if c.started_at is not None), default=None)


def blend(elapsed: float, share: float, expected: float | None) -> float | None:
    """Remaining seconds from the history's expectation and the job's rate since its start, weighted by
    ``share``: the ETA before the job's pace was measured from its first chunk (the benchmark's "before" and naive
    baseline)."""
    from_history = max(0.0, expected - elapsed) if expected is not None else None
    if share <= 0:
        return from_history
    share = min(share, 1.0)
    from_rate = elapsed * (1 - share) / share
    if from_history is None:
        return from_rate
    return share * from_rate + (1 - share) * from_history


def eta_text(seconds: float | None, *, running: bool) -> str:
    """What a running job's ETA says: "about 3 min left", or "estimating" while there is nothing to go on yet."""
    if seconds is None:
        return ESTIMATING if running else ""
    return format_eta(seconds)


def format_eta(seconds: float | None) -> str:
    """ "about 40 s left", "about 3 min left"; "" when unknown."""
    if seconds is None:
        return ""
    if seconds < 1:
        return "finishing"
    if seconds < 90:
        return f"about {seconds:.0f} s left"
    if seconds < 5400:
        return f"about {seconds / 60:.0f} min left"
    return f"about {seconds / 3600:.1f} h left"


@dataclass(frozen=True)
class EtaError:
    """How far the ETA was from the truth on held-back jobs, at their start and at 25, 50 and 75% of pages."""

    trained_on: int
    tested_on: int
    checkpoints: int
    median_abs_error_s: float
    median_abs_pct_error: float  # absolute error as a share of the job's whole processing time
    by_checkpoint: dict[str, float]  # median absolute error in seconds at each checkpoint
    #: median absolute error as a share of the time that really remained, at each checkpoint: how far off
    #: "about N s left" was (the goal at 25%: at most 0.30)
    pct_of_remaining_by_checkpoint: dict[str, float] = field(default_factory=dict)
    #: checkpoints at which the ETA said "estimating" (no figure yet): not in the errors
    estimating: int = 0


CHECKPOINTS = (0.0, 0.25, 0.5, 0.75)
CHECKPOINT_LABELS = tuple(f"{int(c * 100)}%" for c in CHECKPOINTS)


def progress_points(events: Iterable[Event]) -> dict[str, list[tuple[float, float]]]:
    """Per job, (time, share of pages extracted) from its events, in time order, before extraction ended.
    Progress writes are throttled, so a chunk's last pages often show only in its chunk_done event."""
    points: dict[str, list[tuple[float, float]]] = {}
    for event in events:
        share = extracted_share(event.progress)
        if event.kind in (EventKind.PROGRESS, EventKind.CHUNK_DONE) and share < 1.0:
            points.setdefault(event.job_id, []).append((event.at, share))
    return {job_id: sorted(found) for job_id, found in points.items()}


def checkpoints(job: Job, points: Sequence[tuple[float, float]]) -> Iterator[tuple[str, float, float]]:
    """(label, time, share) when the job started and when it first reached 25, 50 and 75% of its pages."""
    if job.started_at is None:
        return
    for label, checkpoint in zip(CHECKPOINT_LABELS, CHECKPOINTS, strict=True):
        if checkpoint == 0:
            yield label, job.started_at, 0.0
            continue
        reached = next(((at, share) for at, share in points if share >= checkpoint), None)
        if reached is not None:
            yield label, reached[0], reached[1]


def evaluate(jobs: Sequence[Job], events: Iterable[Event], *, held_back: float = 0.3) -> EtaError | None:
    """Fit on the oldest jobs, then replay the most recent ``held_back`` share: at each checkpoint of a job's
    progress, compare the predicted remaining time with the time it really took to finish.

    The split is by submission time; where jobs overlap the cut, a few training jobs may have ended after a test
    job started, which a strictly causal replay would not know yet."""
    history = sorted(_history(jobs), key=lambda j: j.created_at)
    cut = int(len(history) * (1 - held_back))
    train, test = history[:cut], history[cut:]
    if len(train) < MIN_JOBS_PER_GROUP or not test:
        return None
    return replay(EtaModel.fit(train), test, history, events, trained_on=len(train))


def extraction_starts(events: Iterable[Event]) -> dict[str, float]:
    """Per job, when its first chunk began (its first ``chunk_started`` event)."""
    starts: dict[str, float] = {}
    for event in events:
        if event.kind == EventKind.CHUNK_STARTED and event.at < starts.get(event.job_id, float("inf")):
            starts[event.job_id] = event.at
    return starts


def replay(
    model: EtaModel, test: Sequence[Job], history: Sequence[Job], events: Iterable[Event], *, trained_on: int = 0
) -> EtaError | None:
    """Replay ``test`` jobs' progress against ``model``: at each checkpoint, what ``EtaModel.estimate`` would have
    said (the job's snapshot at that moment, the load of ``history`` then) against the time that really remained."""
    events = list(events)
    progress, began = progress_points(events), extraction_starts(events)
    errors: list[float] = []
    percents: list[float] = []
    per_checkpoint: dict[str, list[float]] = {label: [] for label in CHECKPOINT_LABELS}
    of_remaining: dict[str, list[float]] = {label: [] for label in CHECKPOINT_LABELS}
    estimating = 0
    for job in test:
        assert job.finished_at is not None and job.duration_s is not None and job.started_at is not None
        for label, moment, share in checkpoints(job, progress.get(job.id, [])):
            [load] = loads_at(history, [moment + 1e-6])  # as the live ETA sees it: jobs running at that moment
            since = began.get(job.id)
            predicted = model.estimate(
                job,
                elapsed=moment - job.started_at,
                share=share,
                load=load,
                extracting_for=moment - since if since is not None and since <= moment else None,
            )
            if predicted is None:
                estimating += 1
                continue
            actual = job.finished_at - moment
            errors.append(abs(predicted - actual))
            percents.append(abs(predicted - actual) / max(job.duration_s, 1e-3))
            per_checkpoint[label].append(abs(predicted - actual))
            of_remaining[label].append(abs(predicted - actual) / max(actual, 1e-3))
    if not errors:
        return None
    return EtaError(
        trained_on=trained_on,
        tested_on=len(test),
        checkpoints=len(errors),
        median_abs_error_s=float(np.median(errors)),
        median_abs_pct_error=float(np.median(percents)),
        by_checkpoint={k: float(np.median(v)) for k, v in per_checkpoint.items() if v},
        pct_of_remaining_by_checkpoint={k: float(np.median(v)) for k, v in of_remaining.items() if v},
        estimating=estimating,
    )
