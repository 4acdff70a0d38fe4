"""Benchmark a dashboard server's resident memory with search loaded.

A real ``paperline serve --workers 0`` (the dashboard, its plug-in and the HTTP API in one Panel process) on a
throwaway PAPERLINE_HOME holding one small completed retrieval job (a generated PDF, embedded by a real worker that
is stopped before the server starts). The server process's VmRSS (now) and VmHWM (peak) from /proc, in MB, after:

* ``started``: the server answers (no session, no search yet);
* ``api_search``: one ``GET /api/v1/search?q=...`` (the process loads the embedding model);
* ``page_search``: a page session in headless Chromium (the dashboard's feed starts) that searches too.

Run it on two checkouts (cwd and PYTHONPATH set to each) to compare them: it uses only what both offer.

Run: .venv/bin/python benchmarks/server_memory.py  (prints one JSON object to stdout, logs to stderr)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers import free_port, start_worker_process, stop_process, wait_until  # noqa: E402
from tests.retrieval_docs import make_documents, write_pdf  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
SETTLE_S = 3.0  # after each step, before reading memory: the server finishes what the step started


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (resident now) and VmHWM (resident at its peak) of a process, in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {key: round(int(fields[key].split()[0]) / 1024, 1) for key in ("VmRSS", "VmHWM")}


def panel_process(serve_pid: int) -> int:
    """The Panel server ``paperline serve`` started (its child whose command runs panel)."""
    children = Path(f"/proc/{serve_pid}/task/{serve_pid}/children").read_text().split()
    for pid in children:
        if b"panel" in Path(f"/proc/{pid}/cmdline").read_bytes():
            return int(pid)
    raise RuntimeError(f"no panel process among {children}")


def environment(home: Path) -> dict[str, str]:
    """The worker's and the server's: this home, and this checkout's code (the venv's editable install may point
    at another checkout)."""
    return {**os.environ, "PAPERLINE_HOME": str(home), "PYTHONPATH": str(ROOT)}


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def completed_retrieval_job(home: Path) -> tuple[int, str]:
    """One small generated PDF, submitted with the retrieval profile and embedded by a real worker (stopped after);
    returns its passages and a question they answer."""
    from pipeline import JobStatus, Paperline

    document = make_documents(1, seed=11)[0]
    app = Paperline()
    job = app.submit(write_pdf(document, home / "inputs"), profile="retrieval")
    worker, worker_log = start_worker_process(environment(home), home / "worker.log", workers=1, cwd=ROOT)
    try:
        [done] = app.wait([job.id], timeout_s=600)
    finally:
        stop_process(worker)
        worker_log.close()
    if done.status is not JobStatus.COMPLETED:
        raise RuntimeError(f"the retrieval job ended {done.status}: {done.error}")
    return len(app.store.list_passages(job.id)), document.questions[0].question


def page_search(url: str, question: str) -> bool:
    """Open the dashboard in headless Chromium and search from its Search tab; whether a hit showed."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context().new_page()
            page.goto(url, timeout=120_000)
            page.locator(".pl-job-card").first.wait_for(timeout=120_000)
            page.locator(".bk-tab").filter(has_text="Search").first.click()
            box = page.get_by_placeholder("e.g. when does the warranty expire?")
            box.fill(question)
            box.press("Enter")
            page.locator(".pl-hit").first.wait_for(timeout=120_000)
            time.sleep(SETTLE_S)  # the session stays open while memory is read
            return True
        finally:
            browser.close()


def run(home: Path) -> dict[str, Any]:
    (home / "inputs").mkdir()
    passages, question = completed_retrieval_job(home)
    port = free_port()
    command = [sys.executable, "-m", "pipeline", "serve", "--workers", "0", "--port", str(port)]
    command += ["--address", "127.0.0.1", "--", "--liveness"]
    server_log = (home / "serve.log").open("wb")
    serve = subprocess.Popen(
        command, cwd=ROOT, env=environment(home), stdout=server_log, stderr=subprocess.STDOUT, start_new_session=True
    )
    steps: dict[str, dict[str, float]] = {}
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: serve.poll() is not None or answers(f"{base}/liveness"), timeout=120, what="the server")
        if serve.poll() is not None:
            raise RuntimeError(f"paperline serve exited with {serve.returncode}: {(home / 'serve.log').read_text()}")
        pid = panel_process(serve.pid)
        time.sleep(SETTLE_S)
        steps["started"] = memory_mb(pid)
        log(f"started: {steps['started']}")

        with urllib.request.urlopen(f"{base}/api/v1/search?q={urllib.parse.quote(question)}", timeout=300) as r:
            hits = json.loads(r.read())["hits"]
        if not hits:
            raise RuntimeError("the API's search found nothing")
        time.sleep(SETTLE_S)
        steps["api_search"] = memory_mb(pid)
        log(f"api_search: {steps['api_search']}")

        page_search(f"{base}/app", question)
        steps["page_search"] = memory_mb(pid)
        log(f"page_search: {steps['page_search']}")
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        return {
            "checkout": str(ROOT),
            "commit": commit.stdout.strip(),
            "passages": passages,
            "server_memory_mb": steps,
        }
    finally:
        stop_process(serve)
        server_log.close()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="paperline-memory-", ignore_cleanup_errors=True) as home:
        os.environ["PAPERLINE_HOME"] = home
        print(json.dumps(run(Path(home)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
