"""A worker process started from Python: for notebooks and scripts that have no ``paperline worker`` running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from pipeline.core.errors import PaperlineError
from pipeline.core.settings import Settings


class LocalWorker:
    """``paperline worker -w N`` on ``settings.home`` as a child process; a context manager that stops it."""

    def __init__(self, settings: Settings, *, workers: int = 2, log_path: Path | None = None) -> None:
        self.settings, self.workers = settings, workers
        self.log_path = log_path or settings.home / "local-worker.log"
        self.process: subprocess.Popen | None = None

    def start(self, *, timeout_s: float = 60.0) -> LocalWorker:
        """Start the worker and wait for its first heartbeat in the store."""
        from pipeline.service.paperline import Paperline

        self.settings.home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PAPERLINE_HOME": str(self.settings.home)}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "pipeline", "worker", "-w", str(self.workers)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        app = Paperline(self.settings)
        try:
            deadline = time.monotonic() + timeout_s
            while not app.workers():
                if self.process.poll() is not None:
                    raise PaperlineError(f"The worker exited at start; see {self.log_path}")
                if time.monotonic() > deadline:
                    self.stop()
                    raise PaperlineError(f"The worker sent no heartbeat in {timeout_s:.0f} s; see {self.log_path}")
                time.sleep(0.2)
        finally:
            app.close()
        return self

    def stop(self, *, grace_s: float = 10.0) -> None:
        """Stop the worker (and its worker processes) by its process group: SIGINT, then SIGKILL."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def __enter__(self) -> LocalWorker:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
