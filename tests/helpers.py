"""Bounded waiting and process handling shared by the tests."""

from __future__ import annotations

import os
import shutil
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


def _group_alive(pgid: int) -> bool:
    """Whether any live (not zombie) process is in group ``pgid``, read from /proc: a zombie left for a non-reaping
    init to collect still answers signals, so ``killpg(pgid, 0)`` alone would wait on the dead."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def stop_process(process: subprocess.Popen, *, grace: float = 10.0) -> None:
    """Stop a process and every process of its group (it was started with ``start_new_session``) by pid: SIGINT,
    then SIGKILL for whatever is left after ``grace`` seconds, even when the leader itself has already exited."""
    try:
        os.killpg(process.pid, signal.SIGINT)
    except ProcessLookupError:
        process.poll()
        return
    deadline = time.monotonic() + grace
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    while _group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _group_alive(process.pid):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=10)


def slow_tesseract(directory: Path, seconds: float) -> Path:
    """A Tesseract that takes at least ``seconds`` a page: a floor on how long OCR pages take on any machine, so
    a test that must see a job while it runs does not depend on how fast this machine is."""
    real = shutil.which("tesseract")
    assert real, "tesseract is missing: 'make test' installs tesseract-ocr"
    script = directory / "slow-tesseract"
    script.write_text(f'#!/bin/sh\nsleep {seconds}\nexec {real} "$@"\n')
    script.chmod(0o755)
    return script


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


def started_by(process: subprocess.Popen, pid: int) -> bool:
    """Whether ``pid`` runs in ``process``'s process group (it was started with ``start_new_session``)."""
    try:
        return os.getpgid(pid) == process.pid
    except ProcessLookupError:
        return False


def wait_for_worker(app, process: subprocess.Popen, log_path: Path, *, timeout: float = 60.0) -> float:  # type: ignore[no-untyped-def]
    """Seconds until a heartbeat of *this* worker (one of its processes) shows in the store; fails if it exits or
    stays silent. Another worker's beat, such as one killed a moment ago, does not count."""
    start = time.monotonic()
    wait_until(
        lambda: process.poll() is not None or any(started_by(process, w.pid) for w in app.workers()),
        timeout=timeout,
        what="a heartbeat from the worker just started",
    )
    if process.poll() is not None:
        raise RuntimeError(f"worker exited with {process.returncode}: {log_path.read_text()[-2000:]}")
    return time.monotonic() - start
