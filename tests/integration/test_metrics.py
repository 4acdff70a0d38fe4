"""Prometheus /metrics on a worker host and on a dashboard server."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline import JobStatus, Paperline
from tests.docgen import make_text_pdf
from tests.helpers import free_port, wait_until

pytestmark = pytest.mark.integration


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        return response.read().decode()


def value(text: str, sample: str) -> float:
    match = re.search(rf"^{re.escape(sample)} ([0-9.e+-]+)$", text, re.MULTILINE)
    assert match, f"{sample} not in:\n{text}"
    return float(match.group(1))


def test_a_worker_host_counts_its_chunks_across_its_processes(app: Paperline, start_worker, tmp_path: Path) -> None:
    port = free_port()
    start_worker(workers=2, PAPERLINE_METRICS_PORT=str(port))
    job = app.submit(make_text_pdf(tmp_path / "m.pdf", 45))  # three chunks, spread over two processes
    [job] = app.wait([job.id], timeout_s=60)
    assert job.status is JobStatus.COMPLETED
    text = scrape(f"http://127.0.0.1:{port}/metrics")
    assert value(text, 'paperline_chunk_seconds_count{engine="local",status="done"}') == 3
    assert value(text, 'paperline_jobs{status="completed"}') == 1
    assert value(text, 'paperline_chunks{status="done"}') == 3
    assert value(text, "paperline_queue_depth") == 0
    assert value(text, "paperline_workers_alive") == 2
    assert value(text, "paperline_store_statements_total") > 0, "the processes' statements, summed"


def test_a_dashboard_server_reports_the_store_and_its_feed(app: Paperline, serve_dashboard: Callable[..., str]) -> None:
    url = serve_dashboard()
    base = url.removesuffix("/app")
    app.submit(make_text_pdf(Path(app.settings.home) / "q.pdf", 2))  # no worker: it stays queued
    urllib.request.urlopen(url, timeout=60).read()  # a session starts the feed
    text = wait_until(lambda: (t := scrape(f"{base}/metrics")) and "paperline_jobs{" in t and t, timeout=30)
    assert value(text, 'paperline_jobs{status="queued"}') == 1 and value(text, "paperline_queue_depth") == 1
    assert value(text, "paperline_feed_lag_seconds") < 60 and value(text, "paperline_sessions") >= 0
    assert value(text, "paperline_feed_refreshes_total") >= 1 and value(text, "paperline_store_statements_total") > 0
    assert value(text, "paperline_feed_delivery_seconds_count") >= 0 and "process_resident_memory_bytes" in text
