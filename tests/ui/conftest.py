"""The real `panel serve app.py` with a real worker, driven by headless Debian Chromium through Playwright."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline.service import Paperline
from tests.conftest import ROOT, worker_env
from tests.helpers import free_port, stop_process, wait_until

CHROMIUM = os.environ.get("PAPERLINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: 'make test' installs Debian's chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def serve_dashboard(app: Paperline, tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Start `panel serve app.py` on a free port of 127.0.0.1 with extra options and environment; returns the
    app's URL. Every server started is stopped by pid afterwards."""
    started: list[tuple[subprocess.Popen, object]] = []

    def serve(*panel_args: str, **env: str) -> str:
        port = free_port()
        log_path = tmp_path / f"panel-{len(started)}.log"
        log = log_path.open("wb")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "panel",
                "serve",
                str(ROOT / "app.py"),
                "--port",
                str(port),
                "--address",
                "127.0.0.1",
                "--check-unused-sessions",
                "1000",
                "--unused-session-lifetime",
                "2000",
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
        url = f"http://127.0.0.1:{port}/app"
        # The liveness endpoint answers without building a session (a page can take seconds on a busy machine).
        probe = f"http://127.0.0.1:{port}/liveness"
        wait_until(lambda: process.poll() is not None or _answers(probe), timeout=60, what="panel serve")
        assert process.poll() is None, log_path.read_text()
        return url

    yield serve
    for process, log in started:
        stop_process(process)
        log.close()  # type: ignore[attr-defined]


@pytest.fixture
def dashboard(serve_dashboard: Callable[..., str]) -> str:
    """The dashboard without authentication: one local analyst."""
    return serve_dashboard()


@pytest.fixture
def page(browser, tmp_path: Path) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()
