"""Fixtures: a private PAPERLINE_HOME per test, the Python API on it, and real worker processes."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from pipeline.core.settings import Settings
from pipeline.service.paperline import Paperline
from tests.helpers import ROOT, free_port, start_worker_process, stop_process, wait_for_worker, wait_until

# No wall-clock deadline per example: a shared 2-core machine can stall any call for a while (house rule: tests
# never assert timings).
hypothesis_settings.register_profile("paperline", deadline=None)
hypothesis_settings.load_profile("paperline")

SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
# The embedding model's int8 copy is made once (a few seconds) and shared by every test and process of the run,
# and by later runs: its cache checks name and hash, so sharing cannot hand anyone a stale or damaged copy.
MODELS_DIR = Path(tempfile.gettempdir()) / f"paperline-test-models-{os.getuid()}"
os.environ.setdefault("PAPERLINE_MODELS_DIR", str(MODELS_DIR))
# Tests reach only loopback: a developer's or a CI runner's own Claude key or endpoint must not make the claude
# engine (and ask's model) real in this process and every process it starts. A test that wants Claude points the SDK
# at the fake Messages API itself (tests/fake_anthropic.py).
for _name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
    os.environ.pop(_name, None)


# Markers by folder, so that `-m 'not integration'` or `-m 'not ui'` never starts a server or a browser; a test
# elsewhere that starts worker processes or a dashboard (by these fixtures) is an integration test too.
FOLDER_MARKERS = {"integration": "integration", "hostile": "integration", "chaos": "integration", "ui": "ui"}
PROCESS_FIXTURES = {"start_worker", "serve_dashboard"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        folder = item.path.relative_to(ROOT / "tests").parts[0]
        fixtures = set(getattr(item, "fixturenames", ()))
        if folder in FOLDER_MARKERS:
            item.add_marker(FOLDER_MARKERS[folder])
        if PROCESS_FIXTURES & fixtures:
            item.add_marker("integration")
    # The longest tests first: a parallel run then ends with short ones on both processes, not one long one alone.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def shared_folder(name: str) -> Path:
    """A folder of the shared material beside the project (``../shared/NAME``, found from this checkout's root,
    wherever it is). Only tests about those very documents use it; without it they fail with the reason rather than
    skip or pass with less (CI lays shared/ beside its clone)."""
    folder = SHARED / name
    assert folder.is_dir(), f"{folder} is missing: these tests read the shared documents beside the project"
    return folder


@pytest.fixture
def corpus() -> Path:
    """The real sample documents beside the project (../shared/corpus)."""
    return shared_folder("corpus")


@pytest.fixture
def structure_corpus() -> Path:
    """The structure benchmarks' documents beside the project (../shared/structure)."""
    return shared_folder("structure")


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
        PAPERLINE_MODELS_DIR=os.environ["PAPERLINE_MODELS_DIR"],
        PYTHONUNBUFFERED="1",
        # this checkout's pipeline/, whatever the process's working directory (the dashboard runs in tmp_path)
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
    )
    if settings.queue_url:
        env["PAPERLINE_QUEUE_URL"] = settings.queue_url
    if settings.database_url:
        env["PAPERLINE_DATABASE_URL"] = settings.database_url
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


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def serve_dashboard(app: Paperline, tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Start the dashboard (`paperline serve --workers 0`, which runs `panel serve app.py`) on a free port of
    127.0.0.1 with extra panel options and environment; returns the app's URL. Every server started is stopped by
    its process group afterwards."""
    started: list[tuple[subprocess.Popen, object]] = []

    def start(port: int, panel_args: tuple[str, ...], env: dict[str, str]) -> tuple[subprocess.Popen, Path]:
        log_path = tmp_path / f"panel-{len(started)}.log"
        log = log_path.open("wb")
        # `paperline serve` without workers: the dashboard exactly as an operator starts it (server plugin,
        # websocket origins, signed sessions with authentication), with the test's own options last.
        process = subprocess.Popen(
            [
                *[sys.executable, "-m", "pipeline", "serve", "--port", str(port), "--address", "127.0.0.1"],
                *["--workers", "0", "--", "--check-unused-sessions", "1000", "--unused-session-lifetime", "2000"],
                "--liveness",
                *panel_args,
            ],
            cwd=tmp_path,
            env=worker_env(app.settings, **env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append((process, log))
        return process, log_path

    def serve(*panel_args: str, **env: str) -> str:
        # A free port can be taken between choosing and binding it: a server that could not bind is started again
        # on another port (bounded); any other failure to start fails the test with the server's log.
        for _attempt in range(3):
            port = free_port()
            process, log_path = start(port, panel_args, env)
            # Up once *this* server says it listens and its liveness endpoint (no session needed) answers.
            probe = f"http://127.0.0.1:{port}/liveness"

            def up(process: subprocess.Popen = process, log_path: Path = log_path, probe: str = probe) -> bool:
                return process.poll() is not None or ("running at" in log_path.read_text() and _answers(probe))

            wait_until(up, timeout=60, what="the dashboard server")
            if process.poll() is None:
                return f"http://127.0.0.1:{port}/app"
            if "Address already in use" not in log_path.read_text():
                break
        raise AssertionError(f"the dashboard did not start:\n{log_path.read_text()[-3000:]}")

    yield serve
    for process, log in started:
        stop_process(process)
        log.close()  # type: ignore[attr-defined]


@pytest.fixture
def serve_api(app: Paperline, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., str]]:
    """The HTTP API in this process (``tests/api_server.py``: the handlers ``paperline serve`` serves, on a thread),
    on the test's home with extra environment; returns the API's base URL (``.../api/v1``). ``sign_in=True``: a
    server where users sign in, so every call needs a personal token. One server at a time, as the API keeps its
    state per process: a second call stops the first. Stopped after the test."""
    from tests.api_server import ApiServer, close_server_state, fresh_server_state

    running: list[tuple[ApiServer, object]] = []

    def stop() -> None:
        while running:
            server, state = running.pop()
            server.stop()
            close_server_state(state)  # type: ignore[arg-type]

    def serve(*, sign_in: bool = False, **env: str) -> str:
        stop()
        state = fresh_server_state(monkeypatch, worker_env(app.settings, **env))
        server = ApiServer(sign_in=sign_in)
        running.append((server, state))
        return server.start()

    yield serve
    stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object]:
    """One PostgreSQL server for the test session (started on first use, stopped at the end)."""
    from tests.postgres_server import PostgresServer

    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server) -> str:  # type: ignore[no-untyped-def]
    """A fresh database on the session's PostgreSQL server."""
    return postgres_server.new_database()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[object]:
    """One SeaweedFS S3 server for the test session, on 127.0.0.1 (started on first use)."""
    from tests.s3_server import S3Server

    server = S3Server().start()
    yield server
    server.stop()


@pytest.fixture
def s3_storage(s3_server, monkeypatch: pytest.MonkeyPatch) -> str:  # type: ignore[no-untyped-def]
    """A fresh prefix in the test bucket as PAPERLINE_STORAGE_URL, with the AWS variables set for this process."""
    import uuid

    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    return f"s3://paperline/t-{uuid.uuid4().hex[:12]}"
