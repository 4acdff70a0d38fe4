"""Fixtures: a private PAPERLINE_HOME per test, the Python API on it, and real worker processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.service import Paperline
from tests.helpers import ROOT, start_worker_process, stop_process, wait_for_worker

CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not beside the project")
    return CORPUS


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", progress_interval_s=0.05, heartbeat_interval_s=0.5, retry_backoff_s=0.05)


@pytest.fixture
def app(settings: Settings) -> Iterator[Paperline]:
    paperline = Paperline(settings)
    yield paperline
    paperline.close()


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERLINE_")}
    env.update(
        PAPERLINE_HOME=str(settings.home),
        PAPERLINE_PROGRESS_INTERVAL_S=str(settings.progress_interval_s),
        PAPERLINE_HEARTBEAT_INTERVAL_S=str(settings.heartbeat_interval_s),
        PAPERLINE_RETRY_BACKOFF_S=str(settings.retry_backoff_s),
        PYTHONUNBUFFERED="1",
    )
    if settings.queue_url:
        env["PAPERLINE_QUEUE_URL"] = settings.queue_url
    env.update(extra)
    return env


def paperline(app: Paperline, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the ``paperline`` command on the test's home, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=ROOT,
        env=worker_env(app.settings, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def start_worker(app: Paperline, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start real consumer processes on the test's home; every one is stopped by pid afterwards."""
    started: list[subprocess.Popen] = []
    logs: list = []

    def start(*, workers: int = 2, command: list[str] | None = None, **env: str) -> subprocess.Popen:
        log_path = tmp_path / f"worker-{len(started)}.log"
        process, log = start_worker_process(worker_env(app.settings, **env), log_path, workers=workers, command=command)
        started.append(process)
        logs.append(log)
        wait_for_worker(app, process, log_path, timeout=30)
        return process

    yield start
    for process in started:
        stop_process(process)
    for log in logs:
        log.close()
