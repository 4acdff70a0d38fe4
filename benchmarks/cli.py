"""How long do everyday CLI commands take, as a whole process, idle and while workers are busy?

``paperline status JOB``, ``jobs`` and ``cancel`` read (or write) a few rows; what they cost is mostly starting
Python and importing. Each is run ``--runs`` times on a home with one finished job, first on an idle machine, then
while a worker with two processes extracts a long OCR-heavy document. Median and worst wall time per command, and
the modules a ``status`` imports that it should not need (extraction libraries, Huey, pandas).

Run: .venv/bin/python benchmarks/cli.py [--runs 15]  (one JSON object on stdout)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.docgen, tests.helpers

HEAVY = ("pypdf", "pypdfium2", "PIL", "huey", "redis", "pandas", "anthropic", "panel", "bokeh")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_command(env: dict[str, str], *args: str) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pipeline", *args], env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 2):
        raise RuntimeError(done.stderr.decode())
    return elapsed


def timings(env: dict[str, str], job_id: str, runs: int) -> dict[str, dict[str, float]]:
    commands = {"status": ("status", job_id), "jobs": ("jobs",), "cancel": ("cancel", job_id)}
    out = {}
    for name, args in commands.items():
        seconds = [run_command(env, *args) for _ in range(runs)]
        out[name] = {"median_s": round(statistics.median(seconds), 3), "max_s": round(max(seconds), 3)}
    return out


def imported_by_status(env: dict[str, str], job_id: str) -> list[str]:
    probe = "\n".join(
        [
            f"import sys, runpy; sys.argv = ['paperline', 'status', {job_id!r}]",
            "try:\n    runpy.run_module('pipeline', run_name='__main__')\nexcept SystemExit:\n    pass",
            "print(','.join(sorted({m.split('.')[0] for m in sys.modules})))",
        ]
    )
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    loaded = set(done.stdout.strip().splitlines()[-1].split(","))
    return sorted(loaded & set(HEAVY))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    from pipeline import Paperline, Settings
    from tests.docgen import make_slow_pdf, make_text_pdf
    from tests.helpers import start_worker_process, stop_process, wait_for_worker
    from tests.sync_runner import run_queued

    with tempfile.TemporaryDirectory(prefix="paperline-cli-") as home:
        env = {**os.environ, "PAPERLINE_HOME": home, "PAPERLINE_OCR_DPI": "150"}
        app = Paperline(Settings(home=Path(home)))
        done = app.submit(make_text_pdf(Path(home) / "done.pdf", 3))
        run_queued(app)
        idle = timings(env, done.id, args.runs)
        log(f"idle: {idle}")
        heavy = imported_by_status(env, done.id)

        log_path = Path(home) / "worker.log"
        process, log_file = start_worker_process(env, log_path, workers=2)
        try:
            wait_for_worker(app, process, log_path, timeout=60)
            busy_job = app.submit(make_slow_pdf(Path(home) / "busy.pdf", 200))
            time.sleep(2)  # the workers are at full speed
            busy = timings(env, done.id, args.runs)
            still_running = not app.get(busy_job.id).is_final
            log(f"busy: {busy} (job still running: {still_running})")
        finally:
            stop_process(process)
            log_file.close()
            app.close()
    result: dict[str, Any] = {
        "runs": args.runs,
        "idle": idle,
        "busy_two_workers": busy,
        "busy_job_still_running_at_the_end": still_running,
        "heavy_modules_imported_by_status": heavy,
        "goal_status_idle_median_below_0_15_s": idle["status"]["median_s"] < 0.15,
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
