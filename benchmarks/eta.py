"""Benchmark Paperline's ETA: how far "about N s left" is from the truth on real jobs, against a naive rate.

``Paperline.eta_error`` fits the ETA model (``pipeline.insight.eta``: seconds against pages and pages x jobs running at
once) on the oldest 70% of finished jobs and replays the most recent 30%: at each job's start and at 25, 50 and
75% of its pages, the predicted remaining time against the time it really took. This runs that on a real
``paperline worker -w 2`` in a throwaway PAPERLINE_HOME, over generated PDFs of 4 to 60 pages whose every second
or third page has no text layer, so it goes through Tesseract (about 0.35 s a page at 150 dpi): jobs take
seconds, and the worker's throttled progress writes (every 0.2 s here) leave events at each checkpoint. Chunks
are 10 pages, so the larger jobs run as several chunks over both worker processes.

The jobs go in as waves, one to three at once, each wave waited for, so the load (jobs running at once) varies
in both the training and the held-back part. Every file is distinct, so none is answered from the cache.

For comparison, the same held-back checkpoints are replayed with a baseline that knows no sizes or load: at the
start, the mean duration of the training jobs; after that, the job's own rate so far
(``blend(elapsed, share, None)``).

``error_of_remaining`` is the goal's measure: the median absolute error as a share of the time that really
remained, per checkpoint (at 25% done: at most 0.30), now and before (the ETA before a job's pace was measured from
its first chunk, replayed on the same history), on the held-back jobs and on a cold start: the model fitted on the
jobs of up to 20 pages and tried on those of 30 and more, sizes its history has not seen.

Run: .venv/bin/python benchmarks/eta.py  (prints one JSON object to stdout, logs to stderr; about 2-3 minutes on a
quiet machine). ``--save FILE`` keeps the history, ``--replay FILE`` measures a kept one again without running
jobs, ``--waves N`` runs the first N waves only and ``--wave-timeout`` waits longer (a busy machine).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # so that tests.docgen imports

# (pages, every n-th page without a text layer) per job; a wave is submitted at once and waited for. Sizes are
# mixed along the way so that the held-back (most recent) jobs span the same range as the training ones. The unit
# tests build a history of the same shape from them (tests/eta_history.py).
from tests.eta_history import WAVES  # noqa: E402

WORKERS = 2
HELD_BACK = 0.3
WAVE_TIMEOUT_S = 180.0
# Read by the worker too: it inherits os.environ, so these are set before it starts.
SETTINGS = {
    "PAPERLINE_OCR_DPI": "150",
    "PAPERLINE_PROGRESS_INTERVAL_S": "0.2",
    "PAPERLINE_SINGLE_CHUNK_MAX_PAGES": "10",
    "PAPERLINE_MEDIUM_CHUNK_PAGES": "10",
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def make_documents(work: Path) -> list[list[Path]]:
    """One PDF per planned job, grouped by wave; page counts are all different, so every sha256 is too."""
    from tests.docgen import make_text_pdf

    waves, number = [], 0
    for wave in WAVES:
        paths = []
        for pages, every in wave:
            blank = tuple(range(every, pages + 1, every))
            paths.append(make_text_pdf(work / f"eta-{number:02d}.pdf", pages, lines=6 + number % 10, blank_pages=blank))
            number += 1
        waves.append(paths)
    return waves


def check_alive(worker: Any) -> None:
    """Fail at once when the worker is gone, rather than waiting out the wave's timeout."""
    if worker.process is None or worker.process.poll() is not None:
        raise RuntimeError(f"the worker exited; see {worker.log_path}")


def run_waves(app: Any, worker: Any, waves: Sequence[Sequence[Path]], timeout_s: float = WAVE_TIMEOUT_S) -> None:
    """Submit each wave at once and wait for it, so that the held-back jobs are the most recently created."""
    for number, paths in enumerate(waves, start=1):
        ids = []
        for path in paths:
            job = app.submit(path)
            if job.status.value != "queued":  # a cache hit or a refusal would not measure anything
                raise RuntimeError(f"{path.name}: expected a queued job, got {job.status.value}: {job.message}")
            ids.append(job.id)
        jobs = app.wait(ids, timeout_s=timeout_s, poll_s=0.1, on_update=lambda _: check_alive(worker))
        for job in jobs:
            if job.status.value != "completed":
                raise RuntimeError(f"job {job.id} is {job.status.value} ({job.stage.value}): {job.message}")
        sizes = ", ".join(f"{j.pages} p in {j.duration_s:.1f} s" for j in jobs)
        log(f"wave {number}/{len(waves)}: {sizes}")


def fresh_history(jobs: Sequence[Any]) -> list[Any]:
    """Completed, worker-processed jobs, oldest first: the same set ``pipeline.insight.eta.evaluate`` splits."""
    done = [
        j
        for j in jobs
        if j.status.value == "completed" and j.cached_from is None and j.duration_s is not None and j.pages > 0
    ]
    return sorted(done, key=lambda j: j.created_at)


def baseline_errors(jobs: Sequence[Any], events: Sequence[Any], held_back: float) -> dict[str, list[float]]:
    """Absolute errors (s) of the naive ETA per checkpoint, replayed exactly as ``evaluate`` replays the model:
    same split, same progress events, same first event at or past each checkpoint."""
    from pipeline.insight.eta import CHECKPOINT_LABELS, blend, checkpoints, progress_points

    history = fresh_history(jobs)
    cut = int(len(history) * (1 - held_back))
    train, test = history[:cut], history[cut:]
    mean_s = statistics.fmean(j.duration_s for j in train)
    progress = progress_points(events)
    errors: dict[str, list[float]] = {label: [] for label in CHECKPOINT_LABELS}
    for job in test:
        for label, moment, share in checkpoints(job, progress.get(job.id, [])):
            rate = blend(moment - job.started_at, share, None)
            predicted = mean_s if rate is None else rate
            errors[label].append(abs(predicted - (job.finished_at - moment)))
    return errors


#: the cold start: the model fitted on jobs up to this size, tried on jobs from that size (none seen in its history)
COLD_TRAIN_MAX_PAGES = 20
COLD_TEST_MIN_PAGES = 30


def previous_model(model: Any) -> Any:
    """The ETA before its pace was measured from the job's first chunk: the history blended with the job's rate
    since its start, weighted by its share of pages done (for the before/after on the same history)."""
    from pipeline.insight.eta import EtaModel, blend

    class PreviousEta(EtaModel):
        def estimate(self, job: Any, *, elapsed: float, share: float, load: int = 1, extracting_for: Any = None) -> Any:
            return blend(elapsed, share, self.expected_seconds(job, load))

    return PreviousEta(model.groups)


def of_remaining(jobs: Sequence[Any], events: Sequence[Any]) -> dict[str, Any]:
    """Median absolute error as a share of the time that really remained, per checkpoint, now and before: on the
    held-back most recent jobs, and on a cold start (fitted on small jobs, tried on large ones)."""
    from pipeline.insight.eta import EtaModel, replay

    history = fresh_history(jobs)
    cut = int(len(history) * (1 - HELD_BACK))
    small = [j for j in history if j.pages <= COLD_TRAIN_MAX_PAGES]
    large = [j for j in history if j.pages >= COLD_TEST_MIN_PAGES]
    found: dict[str, Any] = {}
    for name, train, test in (("held_back", history[:cut], history[cut:]), ("cold_start", small, large)):
        model = EtaModel.fit(train)
        for which, used in (("now", model), ("before", previous_model(model))):
            error = replay(used, test, history, events, trained_on=len(train))
            found[f"{name}_{which}"] = (
                None
                if error is None
                else {
                    "trained_on": len(train),
                    "tested_on": len(test),
                    "pct_of_remaining": {k: round(v, 3) for k, v in error.pct_of_remaining_by_checkpoint.items()},
                    "estimating": error.estimating,
                }
            )
    return found


def median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def measure(jobs: Sequence[Any], events: Sequence[Any]) -> dict[str, Any]:
    """The model's error (``Paperline.eta_error``'s) and the baseline's on the same checkpoints."""
    from pipeline.insight.eta import evaluate

    error = evaluate(jobs, events, held_back=HELD_BACK)
    if error is None:
        raise RuntimeError("eta_error returned None: too little history or no checkpoint reached")
    baseline = baseline_errors(jobs, events, HELD_BACK)
    everything = [e for values in baseline.values() for e in values]
    history = fresh_history(jobs)
    return {
        "jobs": len(jobs),
        "pages_total": sum(j.pages for j in jobs),
        "trained_on": error.trained_on,
        "tested_on": error.tested_on,
        "checkpoints": error.checkpoints,
        "median_abs_error_s": round(error.median_abs_error_s, 3),
        "median_abs_pct_error": round(error.median_abs_pct_error, 3),  # of the job's whole duration
        "by_checkpoint": {k: round(v, 3) for k, v in error.by_checkpoint.items()},
        "baseline_checkpoints": len(everything),  # equals "checkpoints" when both replayed the same moments
        "baseline_median_abs_error_s": median(everything),
        "baseline_by_checkpoint": {k: median(v) for k, v in baseline.items() if v},
        "checkpoints_reached": {k: len(v) for k, v in baseline.items()},
        "median_job_duration_s": median([j.duration_s for j in history]),
        "test_job_pages": [j.pages for j in history[error.trained_on :]],
        # the goal: at 25% done, at most 0.30 of the time that remained, held back and on a cold start
        "error_of_remaining": of_remaining(jobs, events),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--save", type=Path, help="keep the history (jobs and events, pickled) in this file")
    parser.add_argument("--replay", type=Path, help="measure a history kept with --save instead of running jobs")
    parser.add_argument("--waves", type=int, default=len(WAVES), help="run only the first N waves (a busy machine)")
    parser.add_argument("--wave-timeout", type=float, default=WAVE_TIMEOUT_S, help="longest wait for one wave, s")
    args = parser.parse_args()
    if args.replay:
        with args.replay.open("rb") as kept:
            jobs, events = pickle.load(kept)
        print(json.dumps({"replayed": str(args.replay), **measure(jobs, events)}, indent=2))
        return
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    home = tempfile.mkdtemp(prefix="paperline-eta-")
    os.environ.update(PAPERLINE_HOME=home, **SETTINGS)
    from pipeline.core.settings import Settings
    from pipeline.service.local_worker import LocalWorker
    from pipeline.service.paperline import Paperline

    settings = Settings.from_env()
    work = Path(home) / "bench-inputs"
    work.mkdir()
    waves = make_documents(work)[: args.waves]
    log(f"{sum(map(len, waves))} jobs in {len(waves)} waves; worker -w {WORKERS} on {home}")
    app = Paperline(settings)
    worker = LocalWorker(settings, workers=WORKERS)
    try:
        worker.start()
        run_waves(app, worker, waves, args.wave_timeout)
        jobs, events = app.jobs(), app.events()
        if args.save:
            with args.save.open("wb") as out:
                pickle.dump((jobs, events), out)
        report = measure(jobs, events)
    except BaseException:
        log(f"kept {home} to look into (worker log: {worker.log_path})")
        raise
    finally:
        worker.stop()
        app.close()
    shutil.rmtree(home, ignore_errors=True)
    report.update(
        wall_s=round(time.perf_counter() - started, 1),
        settings={**SETTINGS, "workers": WORKERS, "held_back": HELD_BACK, "waves": len(WAVES)},
        cpu_count=os.cpu_count(),
        # Other processes on the machine stretch OCR and so every duration; these say how busy it was.
        loadavg_1m={"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
    )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
