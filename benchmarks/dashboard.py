"""Benchmark the Paperline dashboard: how soon a store write shows on the page, and what sessions cost the store.

The dashboard promises that one poller per server process (``JobFeed``, refreshing every 0.2 s) serves every
open session, so a job's progress reaches the browser within a poll or two and ten open sessions cost the
database what one does. This measures both against a real ``panel serve app.py`` in a throwaway PAPERLINE_HOME,
with no worker: the benchmark writes a 400-page job's progress straight into the store, as a worker would.

* update latency: 20 ``update_chunk_progress`` writes ~0.6 s apart, each timed until headless Chromium shows
  "k of 400 pages" on the job card (median and worst, ms);
* database cost: the server process's SQL statements per second (``paperline_store_statements_total`` on its
  ``/metrics``) with 1 and then 10 sessions open while the job keeps updating every 0.25 s, and their ratio (about 1
  if sessions share reads), with the server process's CPU use over the same waits and how long each extra session
  took to show the job.

``--page-cost`` measures instead what opening a page costs the server with 30 finished jobs in history (made by a
real worker): server CPU seconds per page opened in headless Chromium, ``/app`` and ``/app?job=ID`` (the Result
tab with its page view), from the GET until the page shows what it opened for plus a second for what the browser
asks after, the server's idle CPU subtracted; and how many Bokeh models the page holds.

Run: .venv/bin/python benchmarks/dashboard.py [--page-cost]  (prints one JSON object to stdout, logs to stderr)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

ROOT = Path(__file__).resolve().parents[1]
PAGES = 400
UPDATES = 20
UPDATE_SPACING_S = 0.6
BACKGROUND_UPDATE_S = 0.25
SETTLE_S = 12.0
EXTRA_SESSIONS = 9
SERVER_START_TIMEOUT_S = 60.0
PAGE_OPEN_TIMEOUT_S = 90.0
CHROMIUM_ARGS = "--no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync"
# document.body.innerText stops at shadow roots and Panel renders inside them, so walk every open shadow root.
SHOWS_TEXT_JS = """([pattern]) => {
  const re = new RegExp(pattern);
  const walk = (root) => {
    if (re.test(root.textContent || "")) return true;
    for (const el of root.querySelectorAll("*")) if (el.shadowRoot && walk(el.shadowRoot)) return true;
    return false;
  };
  return walk(document);
}"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(home: str, port: int) -> subprocess.Popen[bytes]:
    """``panel serve app.py`` as ``paperline serve`` runs it (its server plugin, whose /metrics counts the store
    statements, and its session options)."""
    sys.path.insert(0, str(ROOT))
    from pipeline.server.edge import panel_command

    cmd = panel_command(ROOT / "app.py", address="127.0.0.1", port=port, public_url="", panel_args=[])
    env = {**os.environ, "PAPERLINE_HOME": home}
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=sys.stderr, stderr=sys.stderr, start_new_session=True)


def wait_for_http(url: str, server: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"panel serve exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"{url} did not answer 200 within {timeout_s:.0f} s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    try:
        os.killpg(server.pid, signal.SIGINT)
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    except ProcessLookupError:
        pass


def open_page(browser: Browser, url: str) -> Page:
    """A fresh browser context (its own session) on the dashboard, returned once the job card is shown."""
    page = browser.new_context().new_page()
    page.goto(url, timeout=60_000)
    page.locator(".pl-job-card").first.wait_for(timeout=PAGE_OPEN_TIMEOUT_S * 1000)
    return page


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux), to show what the sessions cost the server."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metric_samples(base: str, name: str, timeout_s: float = 10) -> list[Sample]:
    """The server process's samples of one Prometheus metric (its ``/metrics``), e.g. a histogram's buckets."""
    with urllib.request.urlopen(f"{base}/metrics", timeout=timeout_s) as response:
        text = response.read().decode()
    return [s for family in text_string_to_metric_families(text) for s in family.samples if s.name == name]


def store_statements(base: str) -> int:
    """SQL statements the server process has run so far."""
    return int(sum(s.value for s in metric_samples(base, "paperline_store_statements_total")))


def statements_per_s(base: str, server_pid: int) -> tuple[float, float]:
    """Store statements per second and server CPU (cores) over SETTLE_S with the job updating."""
    count0, cpu0, t0 = store_statements(base), cpu_seconds(server_pid), time.monotonic()
    time.sleep(SETTLE_S)
    elapsed = time.monotonic() - t0
    rate = (store_statements(base) - count0) / elapsed
    return round(rate, 1), round((cpu_seconds(server_pid) - cpu0) / elapsed, 2)


def measure_latency(store: Any, job_id: str, page: Page) -> list[float]:
    latencies = []
    for k in range(10, 10 * UPDATES + 1, 10):
        pattern = rf"(^|\D){k} of {PAGES} pages"
        t0 = time.perf_counter()
        store.update_chunk_progress(job_id, 0, k)
        page.wait_for_function(SHOWS_TEXT_JS, arg=[pattern], polling="raf", timeout=10_000)
        latencies.append((time.perf_counter() - t0) * 1000)
        log(f"update {k:>3}: {latencies[-1]:.1f} ms")
        time.sleep(UPDATE_SPACING_S)
    return latencies


def keep_updating(store: Any, job_id: str, stop: threading.Event) -> None:
    """Simulate a running job: progress every 0.25 s, cycling through the chunk's pages."""
    k = 10 * UPDATES
    while not stop.wait(BACKGROUND_UPDATE_S):
        k = k % (PAGES - 1) + 1
        store.update_chunk_progress(job_id, 0, k)


def run(home: str) -> dict[str, Any]:
    os.environ["PAPERLINE_HOME"] = home
    from pipeline.core.settings import Settings
    from pipeline.jobs.chunking import plan_chunks
    from pipeline.store import NewJob, open_store

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    url = f"{base}/app"
    store = open_store(Settings.from_env())
    server = start_server(home, port)
    stop = threading.Event()
    updater: threading.Thread | None = None
    try:
        wait_for_http(url, server, SERVER_START_TIMEOUT_S)
        log(f"server up on {url}")
        job_id = f"bench-{uuid.uuid4().hex[:12]}"
        store.create(NewJob(job_id, "bench.pdf", "pdf", "text", "local", "x", size_bytes=1, user="local", pages=PAGES))
        store.start(job_id)
        store.plan_chunks(job_id, plan_chunks(PAGES, PAGES, 0))
        store.claim_chunk(job_id, 0, "bench")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS.split())
            try:
                first = open_page(browser, url)
                latencies = measure_latency(store, job_id, first)
                updater = threading.Thread(target=keep_updating, args=(store, job_id, stop), daemon=True)
                updater.start()
                log(f"1 session, job updating: waiting {SETTLE_S:.0f} s")
                one, cpu_one = statements_per_s(base, server.pid)
                open_s = []
                for _ in range(EXTRA_SESSIONS):
                    t0 = time.perf_counter()
                    open_page(browser, url)
                    open_s.append(round(time.perf_counter() - t0, 1))
                    log(f"session {len(open_s) + 1} showed the job card after {open_s[-1]} s")
                log(f"{EXTRA_SESSIONS + 1} sessions, job updating: waiting {SETTLE_S:.0f} s")
                ten, cpu_ten = statements_per_s(base, server.pid)
            finally:
                browser.close()
    finally:
        stop.set()
        if updater is not None:
            updater.join(timeout=5)
        stop_server(server)
        store.close()
    return {
        "update_latency_ms": {
            "updates": len(latencies),
            "median": round(statistics.median(latencies), 1),
            "p95": round(statistics.quantiles(latencies, n=20)[18], 1),
            "worst": round(max(latencies), 1),
            "feed": "LISTEN/NOTIFY + 1 s poll" if os.environ.get("PAPERLINE_DATABASE_URL") else "poll 0.2 s",
        },
        "store_statements_per_s": {
            "sessions_1": one,
            f"sessions_{EXTRA_SESSIONS + 1}": ten,
            "ratio": round(ten / one, 2) if one else None,
            "background_update_interval_s": BACKGROUND_UPDATE_S,
        },
        "server_cpu_cores": {"sessions_1": cpu_one, f"sessions_{EXTRA_SESSIONS + 1}": cpu_ten},
        "extra_session_open_s": open_s,
    }


HISTORY_JOBS = 30
OPEN_SAMPLES = 5
# The page is open once its history shows rows (``/app``) or its result shows (``/app?job=ID``).
HISTORY_READY = ".pl-history-row"
RESULT_READY = ".pl-result h3"
MODELS_JS = "() => (window.Bokeh && Bokeh.documents.length) ? Bokeh.documents[0].all_models.size : null"


def fill_history(home: str) -> list[str]:
    """HISTORY_JOBS finished jobs made by a real worker (text and markdown profiles, 1 to 4 pages, one table in
    each markdown one: tests/structure_docs.py's headings and lists); returns their ids, newest first."""
    sys.path.insert(0, str(ROOT))
    from pipeline import Paperline
    from tests.docgen import make_text_pdf
    from tests.helpers import start_worker_process, stop_process
    from tests.structure_docs import headings_and_lists

    inputs = Path(home) / "inputs"
    inputs.mkdir()
    worker, worker_log = start_worker_process({**os.environ, "PAPERLINE_HOME": home}, Path(home) / "worker.log")
    app = Paperline()
    try:
        t0 = time.monotonic()
        jobs = []
        for i in range(HISTORY_JOBS):
            if i % 2:
                path = make_text_pdf(inputs / f"history-{i:02}.pdf", 1 + i % 4)
                jobs.append(app.submit(path.read_bytes(), path.name, profile="text"))
            else:
                path = headings_and_lists(inputs / f"report-{i:02}.pdf")
                jobs.append(app.submit(path.read_bytes(), path.name, profile="markdown"))
        app.wait([job.id for job in jobs], timeout_s=600)
        log(f"{HISTORY_JOBS} history jobs done in {time.monotonic() - t0:.0f} s")
        return [job.id for job in reversed(jobs)]
    finally:
        stop_process(worker)
        worker_log.close()
        app.close()


def group_cpu_seconds(pgid: int) -> float:
    """CPU of every process in a process group: the server and anything it forks."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def page_costs(browser: Browser, url: str, ready: str, pgid: int, idle: float) -> dict[str, Any]:
    """Median server CPU of OPEN_SAMPLES page opens of ``url`` (each its own session), and the page's models."""
    costs, models, ready_ms = [], [], []
    for _ in range(OPEN_SAMPLES):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        cpu0, t0 = group_cpu_seconds(pgid), time.monotonic()
        page.goto(url, timeout=120_000)
        page.locator(ready).first.wait_for(timeout=120_000)
        ready_ms.append(round((time.monotonic() - t0) * 1000))
        time.sleep(1.0)  # what the browser asks after it shows the page
        costs.append(group_cpu_seconds(pgid) - cpu0 - idle * (time.monotonic() - t0))
        models.append(page.evaluate(MODELS_JS))
        context.close()
        time.sleep(1.0)
    return {
        "server_cpu_s_per_page": round(statistics.median(costs), 3),
        "server_cpu_s_all": [round(c, 3) for c in costs],
        "bokeh_models": models[-1],
        "ready_ms_median": round(statistics.median(ready_ms)),
    }


def run_page_cost(home: str) -> dict[str, Any]:
    os.environ["PAPERLINE_HOME"] = home
    jobs = fill_history(home)
    port = free_port()
    url = f"http://127.0.0.1:{port}/app"
    server = start_server(home, port)
    try:
        wait_for_http(url, server, 4 * SERVER_START_TIMEOUT_S)  # the first page waits for the model's int8 copy
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS.split())
            try:
                for warm in (url, f"{url}?job={jobs[0]}"):  # the first pages import Panel's lazy parts: not counted
                    context = browser.new_context()
                    context.new_page().goto(warm, timeout=120_000)
                    time.sleep(3.0)
                    context.close()
                time.sleep(3.0)
                cpu0, t0 = group_cpu_seconds(server.pid), time.monotonic()
                time.sleep(5.0)
                idle = (group_cpu_seconds(server.pid) - cpu0) / (time.monotonic() - t0)
                log(f"idle server: {idle:.3f} cores")
                out = {"app": page_costs(browser, url, HISTORY_READY, server.pid, idle)}
                log(json.dumps(out))
                out["app_with_job"] = page_costs(browser, f"{url}?job={jobs[0]}", RESULT_READY, server.pid, idle)
                log(json.dumps(out))
            finally:
                browser.close()
    finally:
        stop_server(server)
    setup = {"history_jobs": HISTORY_JOBS, "samples": OPEN_SAMPLES, "idle_server_cores": round(idle, 3)}
    return {**out, "setup": setup}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--page-cost", action="store_true", help="server CPU per opened page, 30 jobs in history")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="paperline-bench-", ignore_cleanup_errors=True) as home:
        print(json.dumps(run_page_cost(home) if args.page_cost else run(home), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
