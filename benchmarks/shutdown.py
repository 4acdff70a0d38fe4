"""Benchmark stopping a busy worker and server: seconds from the signal until every process is gone.

In a throwaway PAPERLINE_HOME, a 20-page document whose every second page takes ``--page-s`` (3) seconds of OCR
runs as one chunk; once it is under way the command under test is signalled:

* ``worker``: `paperline worker -w 2`, SIGINT to its process group (Ctrl-C), SIGINT and SIGTERM to the consumer;
* ``serve``: `paperline serve --workers 2` (dashboard and worker), SIGINT and SIGTERM to the serve process.

For each: seconds until the whole process group is gone, the exit status, and whether the running chunk was handed
back to the queue without costing an attempt. The goal is PAPERLINE_SHUTDOWN_GRACE_S (2 s) plus at most one page.

Run: .venv/bin/python benchmarks/shutdown.py [--page-s 3]  (one JSON object on stdout)
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline import ChunkStatus  # noqa: E402
from pipeline.core.settings import Settings  # noqa: E402
from pipeline.service.paperline import Paperline  # noqa: E402
from tests.docgen import make_slow_pdf  # noqa: E402
from tests.helpers import _group_alive, free_port, slow_tesseract, wait_until  # noqa: E402

CASES = (
    ("worker", signal.SIGINT, "group"),
    ("worker", signal.SIGINT, "leader"),
    ("worker", signal.SIGTERM, "leader"),
    ("serve", signal.SIGINT, "leader"),
    ("serve", signal.SIGTERM, "leader"),
)


def measure(command: str, how: signal.Signals, whom: str, page_s: float) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="paperline-shutdown-"))
    app = Paperline(Settings(home=tmp / "home"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERLINE_")}
    env.update(
        PAPERLINE_HOME=str(app.settings.home),
        PAPERLINE_TESSERACT=str(slow_tesseract(tmp, page_s)),
        PAPERLINE_OCR_DPI="150",
        PAPERLINE_HEARTBEAT_INTERVAL_S="0.5",
    )
    argv = [sys.executable, "-m", "pipeline", "worker", "-w", "2"]
    if command == "serve":
        argv = [sys.executable, "-m", "pipeline", "serve", "--port", str(free_port()), "--address", "127.0.0.1"]
        argv += ["--workers", "2"]
    log = tmp / "log.txt"
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        job = app.submit(make_slow_pdf(tmp / "slow.pdf", 20))
        listening = (lambda: "running at" in log.read_text()) if command == "serve" else (lambda: True)
        wait_until(
            lambda: listening() and any(c.status is ChunkStatus.RUNNING and c.pages_done for c in app.chunks(job.id)),
            timeout=120,
        )
        start = time.monotonic()
        if whom == "group":  # Ctrl-C in a terminal signals the whole foreground group
            os.killpg(process.pid, how)
        else:
            process.send_signal(how)
        wait_until(lambda: not _group_alive(process.pid), timeout=120, interval=0.02)
        seconds = time.monotonic() - start
        [chunk] = app.chunks(job.id)
        return {
            "command": command,
            "signal": how.name,
            "to": whom,
            "seconds": round(seconds, 2),
            "exit": process.wait(timeout=10),
            "chunk_handed_back": chunk.status is ChunkStatus.QUEUED and chunk.attempts_used == 0,
        }
    finally:
        if _group_alive(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page-s", type=float, default=3.0, help="seconds each OCR page takes")
    args = parser.parse_args()
    results = [measure(command, how, whom, args.page_s) for command, how, whom in CASES]
    print(json.dumps({"page_s": args.page_s, "grace_s": Settings().shutdown_grace_s, "stops": results}, indent=2))


if __name__ == "__main__":
    main()
