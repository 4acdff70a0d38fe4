"""How long do everyday CLI commands take, as a whole process, idle and while workers are busy?

``paperline status JOB``, ``status`` (the queue's health), ``jobs``, ``result JOB`` and ``cancel`` read (or write) a
few rows; what they cost is mostly starting Python and importing. Each is run ``--runs`` times on a home with one
finished job, first on an idle home, then (unless ``--idle-only``) while a worker with two processes extracts a long
OCR-heavy document. Median and worst wall time and median CPU time (user + system) per command, beside a bare
``python -c pass`` (the floor no command can go under on this machine), and the modules ``status`` and ``result``
import that they should not need (extraction libraries, Huey, pandas, the migration tooling).

Run: .venv/bin/python benchmarks/cli.py [--runs 15] [--idle-only]  (one JSON object on stdout)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.docgen, tests.helpers

HEAVY = (
    "pypdf",
    "pypdfium2",
    "PIL",
    "huey",
    "redis",
    "pandas",
    "anthropic",
    "panel",
    "bokeh",
    "alembic",
    "sqlalchemy",
    "httpx",
    "numpy",
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_command(env: dict[str, str], *args: str) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, of the child alone) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *args], env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 2):
        raise RuntimeError(done.stderr.decode())
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def timings(env: dict[str, str], job_id: str, runs: int) -> dict[str, dict[str, float]]:
    paperline = ("-m", "pipeline")
    commands = {
        "python -c pass": ("-c", "pass"),
        "status": (*paperline, "status", job_id),
        "status (queue)": (*paperline, "status"),
        "jobs": (*paperline, "jobs"),
        "result": (*paperline, "result", job_id),
        "cancel": (*paperline, "cancel", job_id),
    }
    out = {}
    for name, args in commands.items():
        run_command(env, *args)  # once first, so its bytecode is cached and its files are in the page cache
        measured = [run_command(env, *args) for _ in range(runs)]
        walls, cpus = [m[0] for m in measured], [m[1] for m in measured]
        out[name] = {
            "median_s": round(statistics.median(walls), 3),
            "max_s": round(max(walls), 3),
            "cpu_median_s": round(statistics.median(cpus), 3),
        }
    return out


def imported_by(env: dict[str, str], *argv: str) -> list[str]:
    probe = "\n".join(
        [
            f"import sys, runpy; sys.argv = ['paperline', *{list(argv)!r}]",
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
    parser.add_argument("--idle-only", action="store_true", help="skip the run beside a busy worker")
    args = parser.parse_args()
    from pipeline import Paperline, Settings
    from tests.docgen import make_text_pdf
    from tests.sync_runner import run_queued

    with tempfile.TemporaryDirectory(prefix="paperline-cli-") as home:
        # As a user runs it: bytecode cached (an environment that turns the cache off would time the compiler)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(PAPERLINE_HOME=home, PAPERLINE_OCR_DPI="150")
        app = Paperline(Settings(home=Path(home)))
        try:
            done = app.submit(make_text_pdf(Path(home) / "done.pdf", 3))
            run_queued(app)
            idle = timings(env, done.id, args.runs)
            log(f"idle: {idle}")
            heavy = {command: imported_by(env, command, done.id) for command in ("status", "result")}
            busy, still_running = ({}, None) if args.idle_only else busy_timings(app, env, done.id, args.runs)
        finally:
            app.close()
    result: dict[str, Any] = {
        "runs": args.runs,
        "idle": idle,
        "busy_two_workers": busy,
        "busy_job_still_running_at_the_end": still_running,
        "heavy_modules_imported": heavy,
        "goal_status_jobs_result_idle_median_at_most_0_2_s": all(
            idle[name]["median_s"] <= 0.2 for name in ("status", "jobs", "result")
        ),
        "cpu_count": os.cpu_count(),
        "load_average_1_min": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result, indent=2))


def busy_timings(app: Any, env: dict[str, str], job_id: str, runs: int) -> tuple[dict[str, Any], bool]:
    """The same commands while a worker with two processes extracts a long OCR-heavy document."""
    from tests.docgen import make_slow_pdf
    from tests.helpers import start_worker_process, stop_process, wait_for_worker

    home = app.settings.home
    log_path = home / "worker.log"
    process, log_file = start_worker_process(env, log_path, workers=2)
    try:
        wait_for_worker(app, process, log_path, timeout=60)
        busy_job = app.submit(make_slow_pdf(home / "busy.pdf", 200))
        time.sleep(2)  # the workers are at full speed
        busy = timings(env, job_id, runs)
        still_running = not app.get(busy_job.id).is_final
        log(f"busy: {busy} (job still running: {still_running})")
    finally:
        stop_process(process)
        log_file.close()
    return busy, still_running


if __name__ == "__main__":
    main()
