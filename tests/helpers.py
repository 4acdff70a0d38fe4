"""Bounded waiting and process handling shared by the tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, TypeVar

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]


def wait_until(condition: Callable[[], T], *, timeout: float = 30.0, interval: float = 0.05, what: str = "") -> T:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or condition}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(process: subprocess.Popen, *, grace: float = 10.0) -> None:
    """Stop a process (and its children, which share its process group) by pid: SIGINT, then SIGKILL."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGINT)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def start_worker_process(
    env: dict[str, str], log_path: Path, *, workers: int = 2, command: list[str] | None = None, cwd: Path | None = None
) -> tuple[subprocess.Popen, IO[bytes]]:
    """Start `paperline worker -w N` (or ``command``) in its own process group, output to ``log_path``."""
    log = log_path.open("wb")
    argv = command or [sys.executable, "-m", "pipeline", "worker", "-w", str(workers)]
    process = subprocess.Popen(
        argv, cwd=cwd or ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    return process, log


def wait_for_worker(app, process: subprocess.Popen, log_path: Path, *, timeout: float = 60.0) -> float:  # type: ignore[no-untyped-def]
    """Seconds until the worker's heartbeat shows in the store; fails if it exits or stays silent."""
    start = time.monotonic()
    wait_until(lambda: process.poll() is not None or app.workers(), timeout=timeout, what="a worker heartbeat")
    if process.poll() is not None:
        raise RuntimeError(f"worker exited with {process.returncode}: {log_path.read_text()[-2000:]}")
    return time.monotonic() - start
