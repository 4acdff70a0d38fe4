"""Load: 20 documents submitted at once, 4 workers and 10 open dashboard sessions on one SQLite store.

The sessions are real server-side Panel sessions held open over Bokeh's websocket protocol (ten Chromium pages
would swamp a two-core machine): the server builds, updates and pushes every page as it would for a browser.
"""

from __future__ import annotations

import html
import json
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from concurrent.futures import Future
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pipeline.core.models import ChunkStatus, Job, JobStatus, Stage
from pipeline.core.settings import Settings
from pipeline.jobs.chunking import plan_for
from pipeline.service.paperline import Paperline
from tests.conftest import ROOT, worker_env
from tests.docgen import known_text, make_text_pdf
from tests.helpers import stop_process, wait_until

if TYPE_CHECKING:
    from bokeh.client import ClientSession

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LOCKED = "database is locked"
SESSIONS = 10
WORKERS = 4
# Small chunks, so ~140 chunk tasks compete for the store; OCR at 150 dpi keeps blank pages cheap (~0.3 s).
LOAD_ENV = {
    "PAPERLINE_SINGLE_CHUNK_MAX_PAGES": "5",
    "PAPERLINE_MEDIUM_CHUNK_PAGES": "5",
    "PAPERLINE_LARGE_CHUNK_PAGES": "10",
    "PAPERLINE_OCR_DPI": "150",
}
# (pages, blank pages read by OCR): distinct page counts make every document's bytes unique (no cache hits).
DOCUMENTS: tuple[tuple[int, tuple[int, ...]], ...] = (
    (1, ()),
    (2, (2,)),
    (3, ()),
    (4, ()),
    (6, (3,)),
    (8, ()),
    (11, ()),
    (14, (7, 14)),
    (18, ()),
    (23, ()),
    (27, (5,)),
    (33, ()),
    (41, ()),
    (48, (12, 36)),
    (57, ()),
    (66, ()),
    (79, (40,)),
    (95, ()),
    (108, ()),
    (120, (60, 119)),
)
# Four CLI processes submit four documents each while four threads, each with its own Paperline, submit one.
CLI_BATCHES = 4
CLI_BATCH_SIZE = 4
HISTORY_PAGE_SIZE = 15  # dashboard/history.py: the browser holds one page of the table
# A bounded wait for every page to show the end, generous on any machine: how far pages lag the store is measured
# by benchmarks/dashboard.py, not asserted here.
PAGE_CATCH_UP_S = 60.0


@pytest.fixture
def dashboard(serve_dashboard) -> str:  # type: ignore[no-untyped-def]
    """`panel serve app.py` as tests/ui serves it, plus /rest/session_info (the sessions the server holds);
    returns the base URL."""
    return serve_dashboard("--rest-session-info", "--session-history", "100").removesuffix("/app")


class DashboardSession:
    """One dashboard session held open over Bokeh's websocket protocol, on its own thread, as a browser tab.

    It pulls the page and sends ``document_ready`` as BokehJS does once the page is drawn (until then Panel
    drops model changes, since the page is serialized whole on connect), then reads every patch the server
    pushes. The page stays JSON and only the queue health line and the history table are followed: building
    Bokeh models in Python takes seconds a page, which made this process, not the server, fall minutes behind.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.health = ""
        self.statuses: list[str] = []
        self.patches = 0
        self.table_changes = 0
        self.problems: list[str] = []
        self._health_id = self._history_id = ""
        self._status_at = 0
        self._session: ClientSession | None = None
        self._opened: Future[None] = Future()
        self._thread = threading.Thread(target=self._run, name="dashboard-session", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from bokeh.client import ClientSession
        from bokeh.client.util import websocket_url_for_server_url
        from bokeh.document import Document
        from bokeh.document.events import MessageSentEvent
        from bokeh.events import DocumentReady

        try:
            session = ClientSession(websocket_url=websocket_url_for_server_url(self.url))
            session.connect()
            # Private parts of the client: its public pull() builds every model of the page in Python.
            connection = session._connection
            reply = connection._send_message_wait_for_reply(connection._protocol.create("PULL-DOC-REQ"))
            assert reply is not None and reply.msgtype == "PULL-DOC-REPLY", reply
            self._read_page(reply.content["doc"])
            session._handle_patch = self._on_patch  # type: ignore[method-assign]
            ready = MessageSentEvent(Document(), "bokeh_event", DocumentReady())
            connection._send_patch_document(session.id, ready)
        except BaseException as exc:
            self._opened.set_exception(exc)
            return
        self._session = session
        self._opened.set_result(None)
        connection.loop_until_closed()

    def _read_page(self, doc: dict[str, Any]) -> None:
        objects: dict[str, dict[str, Any]] = {}
        _collect_objects(doc, objects)
        [health] = [o for o in objects.values() if "pl-health" in o["attributes"].get("css_classes", ())]
        [grid] = [o for o in objects.values() if "pl-history" in o["attributes"].get("css_classes", ())]
        # History is one component (dashboard.history.HistoryGrid): its page of rows is on its data model, each
        # row the job's id and then a cell per column
        shown = objects[grid["attributes"]["data"]["id"]]["attributes"]
        self._health_id, self._history_id = health["id"], grid["attributes"]["data"]["id"]
        self._status_at = 1 + [field for field, _title, _align in shown["columns"]].index("status")
        self.health = html.unescape(health["attributes"]["text"])
        self.statuses = [row[self._status_at] for row in shown.get("rows", [])]

    def _on_patch(self, message) -> None:  # type: ignore[no-untyped-def]
        self.patches += 1
        try:
            events = message.content["events"]
            if LOCKED in json.dumps(events, default=str).lower():
                self.problems.append(f"{LOCKED!r} pushed to the page: {events}")
            for event in events:
                target = event.get("model", {}).get("id")
                if target == self._health_id and event.get("attr") == "text":
                    self.health = html.unescape(event["new"])
                elif target == self._history_id and event.get("attr") == "rows":
                    self.statuses = [row[self._status_at] for row in event["new"]]
                    self.table_changes += 1
        except Exception as exc:  # the client's loop must go on; the test reports it
            self.problems.append(f"{type(exc).__name__}: {exc}")

    def wait_open(self, timeout: float) -> None:
        self._opened.result(timeout=timeout)

    def shows_all_done(self, rows: int) -> bool:
        """Nothing queued or running, and a history page of ``rows`` completed jobs."""
        return "<b>0</b> queued · <b>0</b> running" in self.health and self.statuses == ["completed"] * rows

    def close(self) -> None:
        if self._session is not None:
            self._session._connection.io_loop.add_callback(self._session.close)
        self._thread.join(timeout=10)


def _collect_objects(node: object, into: dict[str, dict[str, Any]]) -> None:
    """Every Bokeh object of a serialized document, by id."""
    if isinstance(node, dict):
        if node.get("type") == "object" and "id" in node and "attributes" in node:
            into[node["id"]] = node
        for value in node.values():
            _collect_objects(value, into)
    elif isinstance(node, list):
        for value in node:
            _collect_objects(value, into)


def _session_info(base: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base}/rest/session_info", timeout=10) as response:
        return json.load(response)["session_info"]


def _open_sessions(info: dict[str, Any]) -> int:
    return sum(1 for session in info["sessions"].values() if session["ended"] is None)


def _submit_in_thread(settings: Settings, pdf: Path, out: dict[Path, object], barrier: threading.Barrier) -> None:
    paperline = Paperline(settings)
    try:
        barrier.wait(timeout=30)
        out[pdf] = paperline.submit(pdf)
    except Exception as exc:  # reported by the test, with the document it concerns
        out[pdf] = exc
    finally:
        paperline.close()


def test_twenty_documents_four_workers_ten_sessions_complete_without_lock_errors(  # type: ignore[no-untyped-def]
    app: Paperline, start_worker, dashboard: str, tmp_path: Path
) -> None:
    start = time.monotonic()
    start_worker(workers=WORKERS, **LOAD_ENV)
    sessions = [DashboardSession(f"{dashboard}/app") for _ in range(SESSIONS)]
    submitters: list[subprocess.Popen[str]] = []
    try:
        pdfs = [
            make_text_pdf(tmp_path / f"load-{i:02d}-{pages}p.pdf", pages, blank_pages=blank)
            for i, (pages, blank) in enumerate(DOCUMENTS)
        ]
        for session in sessions:
            session.wait_open(timeout=90)
        # document_ready marks a session rendered: the server counts it live, as it would a browser tab.
        wait_until(lambda: _session_info(dashboard)["live"] == SESSIONS, timeout=20, what="ten live sessions")
        assert _open_sessions(_session_info(dashboard)) == SESSIONS, _session_info(dashboard)
        opened = time.monotonic()

        # All at once: the CLI processes start, and the threads go together on a barrier.
        cli_pdfs = [pdfs[i : i + CLI_BATCH_SIZE] for i in range(0, CLI_BATCHES * CLI_BATCH_SIZE, CLI_BATCH_SIZE)]
        thread_pdfs = pdfs[CLI_BATCHES * CLI_BATCH_SIZE :]
        submitters += [
            subprocess.Popen(
                [sys.executable, "-m", "pipeline", "submit", *map(str, batch), "--json"],
                cwd=ROOT,
                env=worker_env(app.settings, **LOAD_ENV),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
            for batch in cli_pdfs
        ]
        submitted: dict[Path, object] = {}
        barrier = threading.Barrier(len(thread_pdfs))
        threads = [
            threading.Thread(target=_submit_in_thread, args=(app.settings, pdf, submitted, barrier))
            for pdf in thread_pdfs
        ]
        for thread in threads:
            thread.start()
        outputs = [process.communicate(timeout=60) for process in submitters]
        for thread in threads:
            thread.join(timeout=60)

        cli_output = "\n".join(out + err for out, err in outputs)
        assert LOCKED not in cli_output.lower(), cli_output
        for process, (_out, err) in zip(submitters, outputs, strict=True):
            assert process.returncode == 0, err
        for pdf, job in submitted.items():
            assert isinstance(job, Job), f"{pdf.name}: {job!r}"
        ids = [job["id"] for out, _ in outputs for job in json.loads(out)]
        ids += [job.id for job in submitted.values()]  # type: ignore[attr-defined]
        assert len(set(ids)) == len(DOCUMENTS)

        final = app.wait(ids, timeout_s=300, poll_s=0.5)
        done = time.monotonic()
        assert [job.status for job in final] == [JobStatus.COMPLETED] * len(DOCUMENTS), {
            job.filename: (job.status.value, job.error or job.message)
            for job in final
            if job.status is not JobStatus.COMPLETED
        }
        chunk_total = _assert_store_consistent(app, pdfs)
        for log in [*sorted(tmp_path.glob("worker-*.log")), tmp_path / "panel-0.log"]:
            text = log.read_text(errors="replace")
            assert LOCKED not in text.lower(), f"{log.name}:\n{text[-3000:]}"
            assert "feed refresh failed" not in text, f"{log.name}:\n{text[-3000:]}"

        # The sessions stayed open and followed the run; no page was shown a lock error.
        info = _session_info(dashboard)
        assert _open_sessions(info) == info["live"] == SESSIONS, "a session ended during the run"
        for session in sessions:
            assert not session.problems, session.problems
        rows = min(len(DOCUMENTS), HISTORY_PAGE_SIZE)
        behind = _pages_behind(sessions, rows, deadline=done + PAGE_CATCH_UP_S)
        # Checked once the pages caught up: on a loaded machine a page may take its first table change late.
        for session in sessions:
            assert session.table_changes, "a page's history table never changed during the run"
        patches = [session.patches for session in sessions]
    finally:
        for process in submitters:
            stop_process(process)
        for session in sessions:
            session.close()

    print(
        f"\nload: {len(DOCUMENTS)} jobs, {sum(p for p, _ in DOCUMENTS)} pages, {chunk_total} chunks, {WORKERS} "
        f"workers, {SESSIONS} sessions ({min(patches)}-{max(patches)} patches each); sessions open after "
        f"{opened - start:.1f} s, all jobs completed {done - opened:.1f} s after submitting; "
        f"{len(behind)} of {SESSIONS} pages still behind {PAGE_CATCH_UP_S:.0f} s after that; "
        f"{time.monotonic() - start:.1f} s in all"
    )
    # A busy server merges the updates a session has not taken yet (dashboard/feed.py), so pages catch up in
    # seconds; before that, each of ~200 polls was replayed on every page and they fell ~50 s behind.
    assert not behind, f"{len(behind)} dashboard pages still behind the store {PAGE_CATCH_UP_S:.0f} s on: {behind[0]}"


def _pages_behind(sessions: list[DashboardSession], rows: int, *, deadline: float) -> list[str]:
    """The pages that do not show every job done by ``deadline`` (monotonic), each as what it shows."""
    while not all(session.shows_all_done(rows) for session in sessions) and time.monotonic() < deadline:
        time.sleep(0.2)
    return [f"{s.health!r} {s.statuses}" for s in sessions if not s.shows_all_done(rows)]


def _assert_store_consistent(app: Paperline, pdfs: list[Path]) -> int:
    """Every job, chunk and event agrees with the others and with the documents; returns the chunk count."""
    settings = Settings.from_env(worker_env(app.settings, **LOAD_ENV))
    jobs = {job.filename: job for job in app.jobs()}
    assert sorted(jobs) == sorted(pdf.name for pdf in pdfs)
    assert not app.jobs(status=JobStatus.QUEUED) and not app.jobs(status=JobStatus.RUNNING)
    assert len({job.sha256 for job in jobs.values()}) == len(pdfs)
    chunk_total = 0
    for pdf, (pages, blank) in zip(pdfs, DOCUMENTS, strict=True):
        job = jobs[pdf.name]
        where = f"{pdf.name} ({job.id})"
        assert job.status is JobStatus.COMPLETED and job.stage is Stage.COMPLETED, where
        assert job.cached_from is None, f"{where} was served from cache"
        assert job.pages == job.pages_done == pages, (where, job.pages, job.pages_done)
        assert job.progress == 100, (where, job.progress)
        chunks = app.chunks(job.id)
        plan = plan_for(pages, settings)
        assert job.chunks_total == job.chunks_done == len(chunks) == len(plan), (where, job.chunks_done, len(plan))
        assert job.chunks_failed == 0, where
        assert [(c.first_page, c.last_page) for c in chunks] == [(s.first_page, s.last_page) for s in plan], where
        assert all(c.status is ChunkStatus.DONE and c.pages_done == c.pages for c in chunks), where
        # A retry would mean a chunk hit an error (a lock timeout, say) and the product hid it by running it again.
        assert [c.attempts for c in chunks] == [1] * len(chunks), (where, [(c.index, c.attempts) for c in chunks])
        chunk_total += len(chunks)

        events = app.events(job.id)
        done_events = Counter(e.chunk_index for e in events if e.kind == "chunk_done")
        assert done_events == Counter(range(len(chunks))), (where, done_events)
        progress = [e.progress for e in events]
        assert progress == sorted(progress), f"{where}: progress went backwards: {progress}"
        assert events[-1].status == JobStatus.COMPLETED.value, (where, events[-1])
        said = [job.error, job.message, *job.notes, *(e.message for e in events), *(c.error for c in chunks)]
        assert not [s for s in said if LOCKED in s.lower()], (where, said)

        # The text the document was generated from: pages with a text layer word for word, blank ones empty.
        assert app.result(job.id, "text") == known_text(pages, blank_pages=blank), where

    conn = app.store.connection
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    revision = conn.execute("SELECT value FROM revision").fetchone()[0]
    newest = conn.execute("SELECT MAX(rev) FROM (SELECT rev FROM jobs UNION ALL SELECT rev FROM chunks)").fetchone()[0]
    assert newest <= revision, "a row carries a revision the dashboard feed was never told about"
    with closing(sqlite3.connect(app.settings.queue_path)) as queue:
        assert queue.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    return chunk_total
