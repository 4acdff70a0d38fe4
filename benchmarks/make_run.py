"""How long does ``make run`` take to start Paperline again when nothing changed, and Ctrl-C to stop it?

``make run`` is run ``--runs`` times on the same checkout and venv (the first may install; the later ones should
find their install stamps newer than pyproject.toml and go straight to ``paperline serve``), each on a free port and
a throwaway ``PAPERLINE_HOME``. Per run: seconds until ``paperline serve`` announced the dashboard (what make's own
steps cost), until the page answered (``/app`` 200), and, after Ctrl-C (SIGINT to the whole process group, as a
terminal sends it), until every process was gone, with the line ``serve`` printed while it waited.

Run: .venv/bin/python benchmarks/make_run.py [--runs 3] [--venv .venv]  (one JSON object on stdout)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers import _group_alive, free_port, wait_until  # noqa: E402


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def one_run(venv: str, timeout_s: float) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="paperline-make-run-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERLINE_")}
    env["PAPERLINE_HOME"] = str(home / "home")
    out = home / "make.log"
    start = time.monotonic()
    with out.open("wb") as sink:
        process = subprocess.Popen(
            ["make", "run", f"VENV={venv}", f"PORT={port}"],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until(lambda: "Paperline dashboard:" in out.read_text(), timeout=timeout_s, interval=0.05)
        announced = time.monotonic() - start
        wait_until(lambda: answers(f"http://127.0.0.1:{port}/app"), timeout=timeout_s, interval=0.2)
        page = time.monotonic() - start
        before = len(out.read_text())
        stop = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)
        wait_until(lambda: not _group_alive(process.pid), timeout=60, interval=0.02)
        stopped = time.monotonic() - stop
    finally:
        if _group_alive(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    said = [line for line in out.read_text()[before:].splitlines() if line.startswith(("Stopping", "Ended"))]
    installed = "pip install" in out.read_text()
    return {
        "pip_ran": installed,
        "serve_started_s": round(announced, 2),
        "page_answered_s": round(page, 2),
        "ctrl_c_stopped_s": round(stopped, 2),
        "said_on_ctrl_c": said,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--venv", default=".venv", help="the venv make run uses (VENV=)")
    parser.add_argument("--timeout", type=float, default=600.0, help="longest wait for one start")
    args = parser.parse_args()
    runs = []
    for n in range(args.runs):
        runs.append(one_run(args.venv, args.timeout))
        log(f"run {n + 1}: {runs[-1]}")
    again = [run for run in runs if not run["pip_ran"]]
    result: dict[str, Any] = {
        "runs": runs,
        "goal_restart_serve_started_at_most_10_s": bool(again) and all(r["serve_started_s"] <= 10 for r in again),
        "goal_ctrl_c_at_most_3_s": all(r["ctrl_c_stopped_s"] <= 3 for r in runs),
        "cpu_count": os.cpu_count(),
        "load_average_1_min": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
