"""`paperline serve --procs 2` behind the nginx configuration the docs ship (deploy/nginx-paperline.conf, described
in docs/operators/scale-out.md).

Each dashboard process has its own feed, and a page's websocket must reach the process that rendered the page:
the configuration's sticky cookie is what makes that so, and this test runs the file as shipped (ports changed).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pipeline import Paperline
from tests.conftest import _answers, worker_env
from tests.docgen import make_text_pdf
from tests.helpers import ROOT, free_port, stop_process, wait_until

pytestmark = pytest.mark.ui

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PAGES = 8
SERVE_OPTIONS = ("--workers", "0", "--", "--liveness")


def consecutive_free_ports() -> int:
    """A port whose next port is free too (``--procs 2`` listens on both)."""
    for _ in range(20):
        port = free_port()
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise AssertionError("no two consecutive free ports")


def nginx_config(tmp_path: Path, proxy_port: int, ports: list[int]) -> Path:
    """The shipped site configuration with this test's ports, inside a main file with private paths."""
    site = (ROOT / "deploy" / "nginx-paperline.conf").read_text()
    site = site.replace("127.0.0.1:5006", f"127.0.0.1:{ports[0]}").replace("127.0.0.1:5007", f"127.0.0.1:{ports[1]}")
    site = site.replace("listen 8080;", f"listen 127.0.0.1:{proxy_port};")
    temp = tmp_path / "nginx"
    temp.mkdir()
    main = f"""
daemon off;
master_process off;
worker_processes 1;
pid {temp}/nginx.pid;
error_log {temp}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {temp}/access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{site}
}}
"""
    path = temp / "nginx.conf"
    path.write_text(main)
    return path


def feed_sessions(port: int) -> int:
    """Sessions open in the process on ``port``, as its /metrics reports them."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    [sessions] = [
        s.value for f in text_string_to_metric_families(text) for s in f.samples if s.name == "paperline_sessions"
    ]
    return int(sessions)


def test_two_dashboard_processes_behind_nginx_with_sticky_sessions(  # type: ignore[no-untyped-def]
    app: Paperline, browser, tmp_path: Path
) -> None:
    assert Path(NGINX).exists(), "nginx is missing: 'make test' installs Debian's nginx-light"
    app.submit(make_text_pdf(tmp_path / "shared-report.pdf", 2))  # no worker: it stays queued, on every page
    port, proxy_port = consecutive_free_ports(), free_port()
    ports = [port, port + 1]
    env = worker_env(app.settings, PAPERLINE_PUBLIC_URL=f"http://127.0.0.1:{proxy_port}")
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "serve", "--procs", "2", "--port", str(port), *SERVE_OPTIONS],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    nginx_log = (tmp_path / "nginx.log").open("wb")
    nginx = subprocess.Popen(
        [NGINX, "-c", str(nginx_config(tmp_path, proxy_port, ports))],
        stdout=nginx_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    contexts = []
    try:
        for p in ports:
            wait_until(lambda p=p: _answers(f"http://127.0.0.1:{p}/liveness"), timeout=60, what=f"dashboard on {p}")
        url = f"http://127.0.0.1:{proxy_port}/app"
        # (the liveness route, not /app: a GET of the page would open a session that is never connected)
        probe = f"http://127.0.0.1:{proxy_port}/liveness"
        wait_until(lambda: _answers(probe), timeout=30, what="nginx in front of the dashboards")
        assert "Several dashboard processes" in (tmp_path / "serve.log").read_text()

        # Browsers with no cookie yet: nginx picks a process for each; every page works through its websocket,
        # and each page is one session on one process (a websocket sent elsewhere would open a second session).
        for _ in range(PAGES):
            context = browser.new_context()
            contexts.append(context)
            page = context.new_page()
            page.goto(url)
            page.locator(".pl-job-card").filter(has_text="shared-report.pdf").first.wait_for(timeout=60_000)
        counts = [feed_sessions(p) for p in ports]
        assert sum(counts) == PAGES, f"sessions per process {counts}: a websocket reached the wrong process"

        # Browsers carrying a backend cookie are spread over both processes by its value (deterministic).
        for n in range(6):
            context = browser.new_context()
            contexts.append(context)
            context.add_cookies([{"name": "paperline_backend", "value": f"analyst-{n}", "url": url}])
            page = context.new_page()
            page.goto(url)
            page.locator(".pl-job-card").filter(has_text="shared-report.pdf").first.wait_for(timeout=60_000)
        counts = [feed_sessions(p) for p in ports]
        assert sum(counts) == PAGES + 6 and min(counts) > 0, (
            f"each process serves its share, each its own feed: {counts}"
        )
    finally:
        for context in contexts:
            context.close()
        stop_process(nginx)
        stop_process(serve)
        log.close()
        nginx_log.close()
