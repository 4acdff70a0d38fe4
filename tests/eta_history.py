"""A generated job history with the shape of a real one, for the ETA's tests: jobs submitted in waves of one to three
to two workers, each prepared (a task of its own), split into chunks of ten pages that the workers take first come
first served, and merged; OCR'd pages (every second or third) take ten times a text page, each job and each page a
little faster or slower than the next (seeded), and progress written as a worker does (throttled, and at each
chunk's end). The same events a store records: ``created``, ``chunk_started``, ``progress`` and ``chunk_done``."""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field

from pipeline.core.lifecycle import EventKind, extraction_progress
from pipeline.core.models import Event, Job
from tests.factories import DAY1, job

#: (pages, every n-th page is OCR'd) per job; a wave is submitted at once and waited for (benchmarks/eta.py runs these)
WAVES: tuple[tuple[tuple[int, int], ...], ...] = (
    ((4, 2),),
    ((20, 3),),
    ((12, 2), (40, 3), (8, 2)),
    ((60, 3),),
    ((16, 2), (30, 2)),
    ((6, 3),),
    ((24, 3), (10, 2), (50, 2)),
    ((36, 2),),
    ((14, 3), (45, 3)),
    ((5, 2), (28, 2), (18, 3)),
    ((55, 3),),
    ((9, 2),),
    ((32, 2), (22, 3)),
    ((48, 2),),
    ((7, 3), (26, 2), (42, 3)),
    ((15, 2),),
    ((34, 3), (11, 2)),
    ((58, 2),),
    ((19, 3), (38, 2)),
)
OCR_PAGE_S = 0.35
TEXT_PAGE_S = 0.035
CHUNK_PAGES = 10
WORKERS = 2
PROGRESS_EVERY_S = 0.2


@dataclass(order=True)
class _Task:
    ready: float
    order: int
    kind: str = field(compare=False)
    job: int = field(compare=False)
    pages: list[float] = field(default_factory=list, compare=False)


@dataclass
class _Run:
    pages: int
    started: float | None = None
    finished: float | None = None
    chunks_left: int = 0
    page_done_at: list[float] = field(default_factory=list)
    chunk_events: list[tuple[float, str]] = field(default_factory=list)


def simulated_history(
    seed: int = 7, waves: tuple[tuple[tuple[int, int], ...], ...] = WAVES
) -> tuple[list[Job], list[Event]]:
    rng = random.Random(seed)
    now, jobs, events = DAY1, [], []
    order = 0
    for wave in waves:
        runs = [_Run(pages) for pages, _ in wave]
        queue: list[_Task] = []
        for number, (pages, every) in enumerate(wave):
            speed = rng.uniform(0.85, 1.2)  # this document is a little harder or easier than the next
            page_s = [
                speed * rng.uniform(0.8, 1.25) * (OCR_PAGE_S if page % every == 0 else TEXT_PAGE_S)
                for page in range(1, pages + 1)
            ]
            order += 1
            prep = _Task(now, order, "prepare", number, page_s)
            heapq.heappush(queue, prep)
        free = [now] * WORKERS
        while queue:
            worker = min(range(WORKERS), key=lambda w: free[w])
            task = heapq.heappop(queue)
            start = max(free[worker], task.ready)
            run = runs[task.job]
            if task.kind == "prepare":
                run.started = start
                end = start + 0.4 + 0.004 * run.pages
                chunks = [task.pages[i : i + CHUNK_PAGES] for i in range(0, run.pages, CHUNK_PAGES)]
                run.chunks_left = len(chunks)
                for chunk in chunks:
                    order += 1
                    heapq.heappush(queue, _Task(end, order, "chunk", task.job, chunk))
            elif task.kind == "chunk":
                run.chunk_events.append((start, "chunk_started"))
                end = start
                for seconds in task.pages:
                    end += seconds
                    run.page_done_at.append(end)
                run.chunk_events.append((end, "chunk_done"))
                run.chunks_left -= 1
                if run.chunks_left == 0:
                    order += 1
                    heapq.heappush(queue, _Task(end, order, "merge", task.job))
            else:
                end = start + 0.15 + 0.003 * run.pages
                run.finished = end
            free[worker] = end
        for run in runs:
            job_id = f"j{len(jobs)}"
            assert run.started is not None and run.finished is not None
            jobs.append(job(job_id, now, run.started, run.finished, pages=run.pages, pages_done=run.pages))
            events += _events(job_id, run)
        now = max(run.finished or now for run in runs) + 1.0
    return jobs, events


def _events(job_id: str, run: _Run) -> list[Event]:
    """What the store would hold: progress at most every ``PROGRESS_EVERY_S`` and at each chunk's end."""
    done_at = sorted(run.page_done_at)
    found = []
    last_written = -math.inf
    ends = {at for at, kind in run.chunk_events if kind == "chunk_done"}
    for count, at in enumerate(done_at, start=1):
        if at - last_written >= PROGRESS_EVERY_S or at in ends:
            kind = EventKind.CHUNK_DONE if at in ends else EventKind.PROGRESS
            found.append(
                Event(0, job_id, at, kind, "running", "extracting", extraction_progress(count, run.pages), 0, "")
            )
            last_written = at
    found += [
        Event(0, job_id, at, EventKind.CHUNK_STARTED, "running", "extracting", 0.0, 0, "")
        for at, kind in run.chunk_events
        if kind == "chunk_started"
    ]
    return sorted(found, key=lambda e: e.at)
