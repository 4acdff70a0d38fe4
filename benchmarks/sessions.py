"""Benchmark what dashboard sessions cost the server: opening a page, and keeping 1 to 50 of them open.

Everything runs in one go against a real ``panel serve app.py`` (Paperline's plugin, as ``paperline serve`` runs
it) and a real worker, in a throwaway PAPERLINE_HOME with 100 finished jobs in history:

* ``page_open``: server CPU seconds per page opened in headless Chromium (the GET, then the document the browser
  pulls over the websocket), with the server's idle CPU (its feed polling) subtracted; and the GET alone;
* ``first_paint``: first contentful paint and "ready" (the history table shows rows) for 1 page, then for 10
  pages opened at once;
* ``sessions``: with a 200-page OCR job running (a Tesseract slowed to a floor per page, so the job outlasts the
  measurement on any machine), server CPU in cores with 1, 10, 25 and 50 sessions open, and how far the slowest
  session lags the store: for every page count the store reached, the time until every watching page showed it.
  Five sessions are Chromium pages that render and time what they show; the others are held over Bokeh's
  websocket protocol (the server builds, updates and pushes them as for a browser; the client reads the patches),
  so 50 renderers do not take the server's 2 cores. The feed's own delivery lag (store read to session update, for
  every session) is reported beside it.

Run: .venv/bin/python benchmarks/sessions.py [--panel-arg=--num-procs=2 ...]  (JSON to stdout, logs to stderr)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, async_playwright
from playwright.async_api import Error as PlaywrightError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.dashboard import CHROMIUM_ARGS, free_port, log, metric_samples, stop_server, wait_for_http
from tests.docgen import SLOW_JOB_SETTINGS, make_slow_pdf, make_text_pdf
from tests.helpers import slow_tesseract, start_worker_process, stop_process

ROOT = Path(__file__).resolve().parents[1]
HISTORY_JOBS = 100
LONG_JOB_PAGES = 200
OCR_FLOOR_S = 1.0  # every second page of the long job is OCR'd, each taking at least this long
SESSION_STEPS = (1, 10, 25, 50)
# At most this many sessions are Chromium pages (which render and time what they show); the others are held over
# Bokeh's websocket protocol: 50 rendering pages would take the 2 cores from the server they are meant to measure.
OBSERVERS = 5
WINDOW_S = 15.0
SETTLE_S = 3.0
OPEN_SAMPLES = 5
READY = ".pl-history-row"
PAGES_RE = rf"(\d+) of {LONG_JOB_PAGES} pages"
# Installed in every page: records when each page count of the long job first shows, with the page's clock
# (Date.now(), the same clock as the benchmark's on one machine). Panel renders inside shadow roots, so every
# open shadow root is observed as it appears.
WATCH_JS = """
(() => {
  window.__seen = [];
  let best = -1;
  let re = new RegExp(__PATTERN__);
  const check = (root) => {
    const m = re.exec(root.textContent || "");
    if (m && +m[1] > best) { best = +m[1]; window.__seen.push([Date.now(), best]); }
  };
  const observer = new MutationObserver((records) => {
    for (const r of records) check(r.target.getRootNode());
  });
  const observed = new WeakSet();
  const attach = (root) => {
    if (!observed.has(root)) {
      observed.add(root);
      observer.observe(root, {subtree: true, childList: true, characterData: true});
      check(root);
    }
    for (const el of root.querySelectorAll("*")) if (el.shadowRoot) attach(el.shadowRoot);
  };
  window.__reset = (pattern) => { window.__seen = []; best = -1; re = new RegExp(pattern); };
  const start = () => { attach(document); setInterval(() => attach(document), 1000); };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
""".replace("__PATTERN__", json.dumps(PAGES_RE))


def cpu_seconds_of(matches: Callable[[str, list[str]], bool]) -> float:
    """User + system CPU so far of every live process whose (name, /proc/PID/stat fields after it) match."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, rest = stat.read_text().rsplit(")", 1)
        except (OSError, ValueError):
            continue
        fields = rest.split()
        if matches(name, fields):
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid: int) -> float:
    """CPU of every process in a process group (field 5 of /proc/PID/stat): the server and anything it forks."""
    return cpu_seconds_of(lambda _name, fields: int(fields[2]) == pgid)


def browser_cpu_seconds() -> float:
    """CPU of every Chromium process (the browser shares the machine's cores with the server)."""
    return cpu_seconds_of(lambda name, _fields: "(chrom" in name)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def start_panel(home: str, port: int, panel_args: list[str]) -> subprocess.Popen[bytes]:
    from pipeline.server.edge import panel_command

    cmd = panel_command(ROOT / "app.py", address="127.0.0.1", port=port, public_url="", panel_args=panel_args)
    env = {**os.environ, "PAPERLINE_HOME": home}
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=sys.stderr, stderr=sys.stderr, start_new_session=True)


def fill_history(app: Any, directory: Path) -> None:
    """100 small documents through the real worker, so history, charts and analytics have something to show."""
    t0 = time.monotonic()
    jobs = []
    for i in range(HISTORY_JOBS):
        path = make_text_pdf(directory / f"history-{i:03}.pdf", 1 + i % 4)
        jobs.append(app.submit(path.read_bytes(), path.name, profile="text"))
    app.wait([job.id for job in jobs], timeout_s=300)
    log(f"{HISTORY_JOBS} history jobs done in {time.monotonic() - t0:.0f} s")


class StoreWatch(threading.Thread):
    """Records when the store first reached each page count of the long job (polled every 20 ms)."""

    def __init__(self, app: Any, job_id: str) -> None:
        super().__init__(daemon=True)
        self.app, self.job_id = app, job_id
        self.reached: dict[int, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        best = -1
        while not self.stop.wait(0.02):
            job = self.app.get(self.job_id)
            if job.pages_done > best:
                best = job.pages_done
                self.reached[best] = time.time() * 1000
            if job.is_final:
                return


async def open_session(browser: Browser, url: str) -> tuple[BrowserContext, dict[str, float]]:
    """A new context (its own session) on the dashboard; returns it with paint and ready times in ms."""
    context = await browser.new_context()
    await context.add_init_script(WATCH_JS)
    page = await context.new_page()
    t0 = time.perf_counter()
    await page.goto(url, timeout=120_000)
    await page.locator(READY).first.wait_for(timeout=120_000)
    ready = (time.perf_counter() - t0) * 1000
    fcp = await page.evaluate(
        "() => (performance.getEntriesByName('first-contentful-paint')[0] || {startTime: null}).startTime"
    )
    return context, {"ready_ms": round(ready), "first_contentful_paint_ms": round(fcp) if fcp else None}


def open_wire_session(url: str) -> Any:
    """A session held open over Bokeh's websocket protocol as a browser tab holds it (tests/integration/
    test_load.py): the server builds, updates and pushes the page; the client only reads the patches."""
    from tests.integration.test_load import DashboardSession

    session = DashboardSession(url)
    session.wait_open(timeout=120)
    return session


async def seen(context: BrowserContext) -> list[tuple[float, int]]:
    return [tuple(x) for x in await context.pages[0].evaluate("() => window.__seen")]


def slowest_lag(reached: dict[int, float], since: float, until: float, sessions: list[list[tuple[float, int]]]):
    """For each page count the store reached in [since, until), ms until the slowest session showed it (or more)."""
    lags = []
    for value, at in sorted(reached.items()):
        if not since <= at < until:
            continue
        shown = []
        for events in sessions:
            first = next((t for t, v in events if v >= value), None)
            shown.append(first)
        if any(t is None for t in shown):
            lags.append(float("inf"))
        else:
            lags.append(max(0.0, max(shown) - at))
    return lags


async def measure(
    url: str, base: str, server: subprocess.Popen[bytes], app: Any, directory: Path, *, steps: tuple[int, ...]
) -> dict[str, Any]:
    pgid = server.pid
    out: dict[str, Any] = {}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS.split()
        )
        try:
            warm, _ = await open_session(browser, url)  # the first page imports Panel's lazy parts: not counted
            await warm.close()
            await asyncio.sleep(SETTLE_S)
            cpu0, t0 = group_cpu_seconds(pgid), time.monotonic()
            await asyncio.sleep(5)
            idle = (group_cpu_seconds(pgid) - cpu0) / (time.monotonic() - t0)
            log(f"idle server: {idle:.3f} cores")

            def get_cost() -> float:
                cpu0, t0 = group_cpu_seconds(pgid), time.monotonic()
                for _ in range(OPEN_SAMPLES):
                    with urllib.request.urlopen(url, timeout=60) as response:
                        response.read()
                return (group_cpu_seconds(pgid) - cpu0 - idle * (time.monotonic() - t0)) / OPEN_SAMPLES

            get_s = await asyncio.to_thread(get_cost)
            await asyncio.sleep(SETTLE_S)  # GET-only sessions are discarded unused after a few seconds
            costs, readies = [], []
            for _ in range(OPEN_SAMPLES):
                cpu0, t0 = group_cpu_seconds(pgid), time.monotonic()
                context, times = await open_session(browser, url)
                await asyncio.sleep(1.0)  # what the browser asks after "ready" (other tabs' models, fonts)
                costs.append(group_cpu_seconds(pgid) - cpu0 - idle * (time.monotonic() - t0))
                readies.append(times)
                await context.close()
                await asyncio.sleep(1.0)
            out["page_open"] = {
                "server_cpu_s_per_page": round(statistics.median(costs), 3),
                "server_cpu_s_per_get": round(get_s, 3),
                "samples": OPEN_SAMPLES,
                "idle_server_cores": round(idle, 3),
            }
            out["first_paint"] = {"one_page": readies[len(readies) // 2]}
            log(json.dumps(out))
            await asyncio.sleep(SETTLE_S)
            t0 = time.perf_counter()
            opened = await asyncio.gather(*[open_session(browser, url) for _ in range(10)])
            wall = (time.perf_counter() - t0) * 1000
            ready = [t["ready_ms"] for _, t in opened]
            fcp = [t["first_contentful_paint_ms"] for _, t in opened if t["first_contentful_paint_ms"] is not None]
            out["first_paint"]["ten_at_once"] = {
                "ready_ms_median": round(statistics.median(ready)),
                "ready_ms_slowest": max(ready),
                "first_contentful_paint_ms_median": round(statistics.median(fcp)) if fcp else None,
                "all_ready_ms": round(wall),
            }
            log(json.dumps(out["first_paint"]))
            for context, _ in opened:
                await context.close()
            await asyncio.sleep(SETTLE_S)

            contexts: list[BrowserContext] = []
            wire: list[Any] = []
            windows: list[dict[str, Any]] = []
            for count in steps:
                try:
                    while len(contexts) < min(count, OBSERVERS):
                        contexts.append((await open_session(browser, url))[0])
                    while len(contexts) + len(wire) < count:
                        wire.append(await asyncio.to_thread(open_wire_session, url))
                except (PlaywrightError, TimeoutError) as exc:  # the server could not serve that many: say so
                    opened = len(contexts) + len(wire)
                    windows.append({"sessions": count, "opened": opened, "error": str(exc).splitlines()[0]})
                    log(json.dumps(windows[-1]))
                    break
                windows.append(await measure_window(app, base, pgid, contexts, directory, count))
                windows[-1]["wire_sessions"] = len(wire)
                log(json.dumps(windows[-1]))
            out["sessions"] = windows
            for context in contexts:
                await context.close()
            for session in wire:
                await asyncio.to_thread(session.close)
        finally:
            await browser.close()
    return out


async def measure_window(
    app: Any, base: str, pgid: int, contexts: list[BrowserContext], directory: Path, count: int
) -> dict[str, Any]:
    """A fresh 200-page job runs while ``count`` sessions are open: server CPU, and how far the slowest session
    (in the browser) and the server's deliveries (its feed) lag the store."""
    # Each window's job has its own page count (200, 201, ...), so its card is told apart from the last window's,
    # and new bytes (the same document would be answered from the result cache).
    pages = LONG_JOB_PAGES + SESSION_STEPS.index(count)
    pattern = rf"(\d+) of {pages} pages"
    watching = contexts
    await asyncio.gather(*[c.pages[0].evaluate("(p) => window.__reset(p)", pattern) for c in watching])
    long_pdf = make_slow_pdf(directory / f"long-report-{count}.pdf", pages)
    job = app.submit(long_pdf.read_bytes(), long_pdf.name, profile="text")
    watch = StoreWatch(app, job.id)
    watch.start()
    started = time.monotonic()
    while app.get(job.id).pages_done == 0 and time.monotonic() - started < 60:
        await asyncio.sleep(0.2)
    await asyncio.sleep(SETTLE_S)
    since = time.time() * 1000
    deliveries0 = delivery_buckets(base)
    cpu0, browser0, t0 = group_cpu_seconds(pgid), browser_cpu_seconds(), time.monotonic()
    await asyncio.sleep(WINDOW_S)
    elapsed = time.monotonic() - t0
    cores = (group_cpu_seconds(pgid) - cpu0) / elapsed
    browser_cores = (browser_cpu_seconds() - browser0) / elapsed
    until = time.time() * 1000
    deliveries = delivery_buckets(base)
    await asyncio.sleep(2.0)  # let the last updates of the window arrive before reading the pages
    events = await asyncio.gather(*[seen(c) for c in watching])
    lags = slowest_lag(watch.reached, since, until, events)
    delivered = {le: count - deliveries0.get(le, 0) for le, count in deliveries.items()} if deliveries0 else {}
    finished = app.get(job.id).is_final
    watch.stop.set()
    if not finished:
        app.cancel(job.id)
    return {
        "sessions": count,
        "pages_rendering": len(watching),
        "server_cores": round(cores, 3),
        "browser_cores": round(browser_cores, 2),
        "store_values_in_window": len(lags),
        "slowest_session_lag_ms_p50": lag_ms(lags, 0.5),
        "slowest_session_lag_ms_p95": lag_ms(lags, 0.95),
        "store_values_some_session_never_showed": sum(1 for lag in lags if lag == float("inf")),
        "server_delivery_lag_ms_p95": bucket_quantile_ms(delivered, 0.95),
        "server_deliveries": round(delivered.get(float("inf"), 0)),
        "long_job_ran_through_window": not finished,
    }


def lag_ms(lags: list[float], q: float) -> int | str | None:
    """A percentile of the lags; a value some session never showed (within 2 s of the window) is past any bound."""
    if not lags:
        return None
    value = percentile(lags, q)
    return "never shown" if value == float("inf") else round(value)


def delivery_buckets(base: str) -> dict[float, float]:
    """The server's deliveries of store changes to sessions so far, by bucket of lag (``le`` seconds: how many took
    at most that long), from ``paperline_feed_delivery_seconds`` on its /metrics; {} if it did not answer."""
    try:
        samples = metric_samples(base, "paperline_feed_delivery_seconds_bucket", timeout_s=60)
    except OSError as exc:  # a server too busy to answer within a minute: no figure rather than no benchmark
        log(f"/metrics did not answer: {exc}")
        return {}
    return {float(s.labels["le"]): s.value for s in samples}


def bucket_quantile_ms(buckets: dict[float, float], q: float) -> int | None:
    """The ``q`` quantile of a histogram's cumulative buckets, interpolated within its bucket (as Prometheus's
    ``histogram_quantile`` does), in ms; None without observations."""
    total = buckets.get(float("inf"), 0)
    if not total:
        return None
    rank, lower, below = q * total, 0.0, 0.0
    for le, count in sorted(buckets.items()):
        if count >= rank:
            if le == float("inf"):
                return round(lower * 1000)  # past the last finite bound: that bound is all one can say
            share = (rank - below) / (count - below) if count > below else 1.0
            return round((lower + (le - lower) * share) * 1000)
        lower, below = le, count
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--panel-arg", action="append", default=[], help="passed to panel serve (repeatable)")
    parser.add_argument("--quick", action="store_true", help="page opening and first paint only (no session steps)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="paperline-sessions-", ignore_cleanup_errors=True) as home:
        os.environ["PAPERLINE_HOME"] = home
        for key, value in SLOW_JOB_SETTINGS.items():
            os.environ.setdefault(key, value)
        os.environ["PAPERLINE_STALE_AFTER_S"] = "60"  # a 3 s OCR page must not look stale
        from pipeline import Paperline

        tmp = Path(home) / "inputs"
        tmp.mkdir()
        env = {**os.environ, "PAPERLINE_TESSERACT": str(slow_tesseract(tmp, OCR_FLOOR_S))}
        worker, worker_log = start_worker_process(env, Path(home) / "worker.log", workers=2)
        server = None
        app = Paperline()
        try:
            fill_history(app, tmp)
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            server = start_panel(home, port, args.panel_arg)
            wait_for_http(f"{base}/app", server, 90)
            steps = () if args.quick else SESSION_STEPS
            result = asyncio.run(measure(f"{base}/app", base, server, app, tmp, steps=steps))
            result["setup"] = {
                "history_jobs": HISTORY_JOBS,
                "long_job_pages": LONG_JOB_PAGES,
                "panel_args": args.panel_arg,
                "cores": os.cpu_count(),
            }
        finally:
            if server is not None:
                stop_server(server)
            stop_process(worker)
            worker_log.close()
            app.close()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
