"""Benchmark the claude engine against the API concurrency limit: is PAPERLINE_LLM_CONCURRENCY what binds?

With a real API, a long document's wall time is dominated by request latency, and Paperline caps requests in
flight across every worker process (``PAPERLINE_LLM_CONCURRENCY``). So the best a job of ``chunks`` chunks can
do is ``ceil(chunks / concurrency)`` rounds of one request latency each. This measures how close Paperline gets:

* a fake Anthropic Messages API (tests/fake_anthropic.py) on 127.0.0.1 answers every request after a fixed
  delay (``--delay``, default 2.0 s), echoing the pages' text, so latency is known and extraction is free;
* a real ``paperline worker`` with concurrency + 1 processes (so the API limit, not the worker count, binds)
  extracts a generated 117-page PDF with ``engine="claude", profile="markdown"`` (8 chunks of 15 pages);
* elapsed submit -> final is compared with the ideal ``ceil(chunks / concurrency) * delay`` as a ratio, and the
  server's peak in-flight count shows the limit was never exceeded; every page must appear exactly once.
  ``first_chunk_done_s`` separates the one-off cold start (each worker process imports the SDK on its first
  claude chunk, CPU-bound) from the steady state.

Run: .venv/bin/python benchmarks/claude.py [--concurrency 5] [--delay 2.0]  (one JSON object on stdout)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # so that tests.* imports

PAGES = 117  # the size seen in the field: 8 chunks of 15 pages, two waves at concurrency 5
WORKER_START_TIMEOUT_S = 60.0
JOB_TIMEOUT_S = 300.0
FIRST_LINE = re.compile(r"Page (\d+) line 1:")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def pages_once(markdown: str) -> bool:
    """Whether every page 1..PAGES has its first line in the result exactly once (and no other page does)."""
    counts = Counter(int(n) for n in FIRST_LINE.findall(markdown))
    return set(counts) == set(range(1, PAGES + 1)) and all(c == 1 for c in counts.values())


def timeline(job, chunks, events, submitted: float) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Where the time between submit and the end went: pick-up, preparing, each wave of chunks, merging."""
    starts = sorted(c.started_at for c in chunks if c.started_at)
    ends = sorted(c.finished_at for c in chunks if c.finished_at)
    merging = next((e.at for e in events if e.kind == "stage" and e.stage == "merging"), None)
    return {
        "picked_up": round((job.started_at or submitted) - submitted, 3),
        "first_chunk_started": round(starts[0] - submitted, 3) if starts else None,
        "chunk_starts": [round(t - submitted, 3) for t in starts],
        "chunk_ends": [round(t - submitted, 3) for t in ends],
        "merging": round(merging - submitted, 3) if merging else None,
        "finished": round((job.finished_at or submitted) - submitted, 3),
    }


def run(concurrency: int, delay: float, processes: int) -> dict[str, Any]:
    from tests.docgen import make_text_pdf
    from tests.fake_anthropic import FakeAnthropic
    from tests.helpers import start_worker_process, stop_process, wait_for_worker

    server = FakeAnthropic(delay_s=delay)
    try:
        with tempfile.TemporaryDirectory(prefix="paperline-claude-") as home:
            os.environ.update(
                PAPERLINE_HOME=home,
                ANTHROPIC_API_KEY="bench",
                ANTHROPIC_BASE_URL=server.base_url,
                PAPERLINE_LLM_CONCURRENCY=str(concurrency),
                PAPERLINE_LLM_MAX_RETRIES="0",
            )
            from pipeline.core.settings import Settings
            from pipeline.service.paperline import Paperline

            work = Path(home) / "bench"
            work.mkdir()
            path = make_text_pdf(work / "long.pdf", PAGES)
            app = Paperline(Settings.from_env()).warm()  # as the dashboard: ready before the first upload
            log_path = work / "worker.log"
            process, log_file = start_worker_process(dict(os.environ), log_path, workers=processes)
            try:
                waited = wait_for_worker(app, process, log_path, timeout=WORKER_START_TIMEOUT_S)
                log(f"worker ({processes} processes) up after {waited:.2f} s")
                start, wall = time.perf_counter(), time.time()
                job = app.submit(path, engine="claude", profile="markdown")
                (job,) = app.wait([job.id], timeout_s=JOB_TIMEOUT_S, poll_s=0.05)
                elapsed = time.perf_counter() - start
                log(f"job {job.id} {job.status.value} after {elapsed:.2f} s: {job.error or job.message}")
                chunks = app.chunks(job.id)
                events = app.events(job.id)
                done = [c.finished_at for c in chunks if c.finished_at]
                first_done = round(min(done) - wall, 3) if done else None
                complete = job.status.value == "completed" and pages_once(app.result(job.id, "markdown"))
            finally:
                stop_process(process)
                log_file.close()
                app.close()
    finally:
        server.stop()
    ideal = math.ceil(job.chunks_total / concurrency) * delay
    return {
        "pages": PAGES,
        "chunks": job.chunks_total,
        "concurrency": concurrency,
        "worker_processes": processes,
        "delay_s": delay,
        "elapsed_s": round(elapsed, 3),
        "ideal_s": round(ideal, 3),
        "ratio": round(elapsed / ideal, 3) if ideal else None,
        "first_chunk_done_s": first_done,  # one delay + cold start (worker processes' first API call)
        "max_in_flight": server.max_in_flight,
        "within_limit": server.max_in_flight <= concurrency,
        "requests": len(server.requests),
        "status": job.status.value,
        "input_tokens": job.input_tokens,
        "output_tokens": job.output_tokens,
        "cost_usd": job.cost_usd,
        "every_page_once": complete,
        "cpu_count": os.cpu_count(),
        "timeline_s": timeline(job, chunks, events, wall),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--concurrency", type=int, default=5, help="PAPERLINE_LLM_CONCURRENCY (default 5)")
    parser.add_argument("--delay", type=float, default=2.0, help="fake API delay per request, s (default 2.0)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default concurrency + 1)")
    args = parser.parse_args()
    processes = args.workers or args.concurrency + 1
    log(f"claude engine: {PAGES} pages, concurrency {args.concurrency}, delay {args.delay} s")
    print(json.dumps(run(args.concurrency, args.delay, processes), indent=2))


if __name__ == "__main__":
    main()
