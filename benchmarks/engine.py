"""Benchmark the Paperline engine: how fast a document is acknowledged, and what chunking costs end to end.

Paperline promises two things: ``submit`` answers at once (validate, store, enqueue; no extraction), and a long
document split into chunks over several worker processes comes back with exactly the text of a single pass.
This measures both on generated PDFs in a throwaway PAPERLINE_HOME:

* acknowledgement latency of ``Paperline.submit`` for 50 distinct small PDFs with no worker running;
* a single in-process pass over a 300-page PDF (``page_texts`` + ``render_text``) as the baseline, against the
  same document submitted to a real ``paperline worker -w 2`` and waited for (3 distinct PDFs, median), with the
  job's own processing time and queue wait, and whether the merged text equals the single pass.

The ratio end-to-end / single pass shows what the queue, planning, per-chunk bookkeeping and merging add to
raw extraction. Run: .venv/bin/python benchmarks/engine.py  (prints one JSON object to stdout, logs to stderr)
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # so that tests.docgen imports

ACK_SUBMISSIONS = 50
PAGES = 300
WORKERS = 2
E2E_RUNS = 3
WORKER_START_TIMEOUT_S = 30.0
JOB_TIMEOUT_S = 120.0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def open_app(home: str) -> Any:
    """A ``Paperline`` on ``home``; PAPERLINE_HOME is set first so every module that reads it agrees."""
    os.environ["PAPERLINE_HOME"] = home
    from pipeline.core.settings import Settings
    from pipeline.service.paperline import Paperline

    return Paperline(Settings.from_env())


def measure_ack(home: str, work: Path) -> dict[str, Any]:
    """Time ``submit`` on distinct small PDFs (so the sha256 cache never answers) with no worker running."""
    from tests.docgen import make_text_pdf

    paths = [
        make_text_pdf(work / f"ack-{i}.pdf", 1 + i % 5, lines=4 + i // 5)  # 50 distinct (pages, lines) pairs
        for i in range(ACK_SUBMISSIONS)
    ]
    app = open_app(home)
    try:
        timings_ms = []
        for path in paths:
            start = time.perf_counter()
            job = app.submit(path)
            timings_ms.append((time.perf_counter() - start) * 1000)
            if job.status.value != "queued":
                raise RuntimeError(f"expected a queued job, got {job.status.value}: {job.error or job.message}")
    finally:
        app.close()
    return {
        "median": round(statistics.median(timings_ms), 2),
        "p95": round(percentile(timings_ms, 0.95), 2),
        "max": round(max(timings_ms), 2),
        "first": round(timings_ms[0], 2),  # includes this process's lazy imports and queue creation
        "n": len(timings_ms),
    }


def single_pass(path: Path) -> tuple[float, str]:
    """Seconds for one in-process pass over every page, and the text it renders."""
    from pipeline.core.models import PageText
    from pipeline.documents.pdf import page_texts
    from pipeline.profiles.text import render_text

    start = time.perf_counter()
    text = render_text([PageText(n, t) for n, t in page_texts(path, 1, PAGES)])
    return time.perf_counter() - start, text


def measure_throughput(home: str, work: Path) -> dict[str, Any]:
    """Single pass vs. a real 2-process worker on ``E2E_RUNS`` distinct 300-page PDFs."""
    from tests.docgen import make_text_pdf
    from tests.helpers import start_worker_process, stop_process, wait_for_worker

    paths = [make_text_pdf(work / f"long-{run}.pdf", PAGES, lines=12 + run) for run in range(E2E_RUNS)]
    baselines = [single_pass(path) for path in paths]
    log(f"single pass: {', '.join(f'{s:.3f} s' for s, _ in baselines)}")
    app = open_app(home)
    log_path = work / "worker.log"
    process, log_file = start_worker_process({**os.environ, "PAPERLINE_HOME": home}, log_path, workers=WORKERS)
    runs: list[dict[str, Any]] = []
    try:
        log(f"worker up after {wait_for_worker(app, process, log_path, timeout=WORKER_START_TIMEOUT_S):.2f} s")
        for path, (_, expected) in zip(paths, baselines, strict=True):
            start = time.perf_counter()
            job = app.submit(path)
            (job,) = app.wait([job.id], timeout_s=JOB_TIMEOUT_S, poll_s=0.02)
            elapsed = time.perf_counter() - start
            if job.status.value != "completed":
                raise RuntimeError(f"job {job.id} ended {job.status.value}: {job.error or job.message}")
            chunks = app.chunks(job.id)
            run = {
                "end_to_end_s": elapsed,
                "job_duration_s": job.duration_s,
                "queue_wait_s": job.queue_wait_s,
                "chunks": len(chunks),
                "chunk_work_s": sum(c.duration_s or 0.0 for c in chunks),  # summed over both worker processes
                "plan_s": min(c.started_at or 0.0 for c in chunks) - (job.started_at or 0.0),
                "merge_s": (job.finished_at or 0.0) - max(c.finished_at or 0.0 for c in chunks),
                "identical": app.result(job.id, "text") == expected,
            }
            log(f"{path.name}: {json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in run.items()})}")
            runs.append(run)
    finally:
        stop_process(process)
        log_file.close()
        app.close()
    single_s = statistics.median(s for s, _ in baselines)
    end_to_end_s = statistics.median(r["end_to_end_s"] for r in runs)
    return {
        "single_pass_s": round(single_s, 4),
        "end_to_end_s": round(end_to_end_s, 4),
        "end_to_end_runs_s": [round(r["end_to_end_s"], 4) for r in runs],
        "job_duration_s": round(statistics.median(r["job_duration_s"] for r in runs), 4),
        "queue_wait_s": round(statistics.median(r["queue_wait_s"] for r in runs), 4),
        **{key: round(statistics.median(r[key] for r in runs), 4) for key in ("chunk_work_s", "plan_s", "merge_s")},
        "ratio_end_to_end_vs_single_pass": round(end_to_end_s / single_s, 2),
        "pages_per_second_end_to_end": round(PAGES / end_to_end_s, 1),
        "pages_per_second_single_pass": round(PAGES / single_s, 1),
        "pages": PAGES,
        "chunks": runs[0]["chunks"],
        "identical": all(r["identical"] for r in runs),
    }


def main() -> None:
    with (
        tempfile.TemporaryDirectory(prefix="paperline-bench-") as work,
        tempfile.TemporaryDirectory(prefix="paperline-ack-") as ack_home,
        tempfile.TemporaryDirectory(prefix="paperline-e2e-") as e2e_home,
    ):
        log("measuring acknowledgement latency (no worker)")
        ack = measure_ack(ack_home, Path(work))
        log(f"ack latency: {ack}")
        log(f"measuring throughput: {PAGES} pages, {WORKERS} workers, {E2E_RUNS} runs")
        throughput = measure_throughput(e2e_home, Path(work))
    report = {"ack_latency_ms": ack, **throughput, "workers": WORKERS, "cpu_count": os.cpu_count()}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
