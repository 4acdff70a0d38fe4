"""Several hosts share one Paperline on PostgreSQL and object storage, as a team's deployment would.

The hosts are network namespaces on a private bridge (``tests/netns.py``): a database-and-storage host (PostgreSQL,
SeaweedFS), two worker hosts and a dashboard host, each with its own empty PAPERLINE_HOME and host name, so nothing
can pass between them but the network. Twenty documents are submitted with the CLI on the dashboard host; the
consumer of one worker host is killed with -9 mid-run; every job must complete with the text it was made from,
no chunk finished before the kill may run again, and the dashboard (Chromium inside the dashboard host) must show
the end.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from pipeline.core.models import Chunk, ChunkStatus, Job, JobStatus
from pipeline.store.postgres import PostgresJobStore
from tests.docgen import SLOW_JOB_SETTINGS, known_text, make_slow_pdf, slow_blank_pages
from tests.helpers import ROOT, slow_tesseract, stop_process, wait_until
from tests.netns import Host, PrivateNetwork
from tests.postgres_server import PostgresServer
from tests.s3_server import S3Server
from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.integration, pytest.mark.ui, pytest.mark.slow]

DOCUMENTS = 10  # (two chunks or more each: enough to kill one host mid-chunk with work done and left)
PAGES = 6


@pytest.fixture
def network() -> Iterator[PrivateNetwork]:
    net = PrivateNetwork()
    try:
        yield net
    finally:
        net.teardown()


def host_env(home: Path, database_url: str, s3: S3Server, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERLINE_", "AWS_"))}
    env.update(
        PAPERLINE_HOME=str(home),
        PAPERLINE_DATABASE_URL=database_url,
        PAPERLINE_STORAGE_URL="s3://paperline/multi-host",
        PAPERLINE_PROGRESS_INTERVAL_S="0.05",
        PAPERLINE_HEARTBEAT_INTERVAL_S="0.5",
        PYTHONUNBUFFERED="1",
        **s3.env(),
        **extra,
    )
    return env


def cli(host: Host, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The paperline command, run on ``host``."""
    argv = host.command(sys.executable, "-m", "pipeline", *args)
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


def start(host: Host, env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            host.command(sys.executable, "-m", "pipeline", *args),
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@pytest.mark.timeout(600)  # its waits add up past the default 300 s (every job to end: 300 s)
def test_two_worker_hosts_and_a_dashboard_host_share_postgresql_and_a_bucket(  # type: ignore[no-untyped-def]
    network: PrivateNetwork, tmp_path: Path
) -> None:
    db_host = network.add_host("db", 10)
    workers = {name: network.add_host(name, octet) for name, octet in (("w1", 11), ("w2", 12))}
    dash = network.add_host("dash", 13)
    database, s3 = PostgresServer(db_host), S3Server(db_host)
    processes: list[subprocess.Popen[bytes]] = []
    watcher: PostgresJobStore | None = None
    try:
        database.start()
        s3.start()
        database_name = urlsplit(database.new_database()).path.lstrip("/")
        url = database.tcp_url(database_name)
        slow = str(slow_tesseract(tmp_path, 0.3))
        consumers = {}
        for name, host in workers.items():
            env = host_env(tmp_path / f"{name}-home", url, s3, PAPERLINE_TESSERACT=slow, **SLOW_JOB_SETTINGS)
            consumers[name] = start(host, env, tmp_path / f"{name}.log", "worker", "-w", "2")
            processes.append(consumers[name])
        dash_env = host_env(tmp_path / "dash-home", url, s3)
        # A network of the test's own: no one else can reach the dashboard, so it may serve without sign-in.
        serve = ("serve", "--workers", "0", "--address", dash.address, "--allow-anonymous")
        server = start(dash, dash_env, tmp_path / "dash.log", *serve)
        processes.append(server)

        # The test watches the database the way an operator would (psql through the server's socket); everything
        # a user does goes through the dashboard host.
        watcher = PostgresJobStore(database.url(database_name))
        watcher.initialize_schema()  # whoever comes first makes the tables

        def on_dash(code: str) -> str:
            done = subprocess.run(dash.command(sys.executable, "-c", code), cwd=ROOT, env=dash_env,
                                  capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
            assert done.returncode == 0, done.stderr[-3000:]
            return done.stdout

        wait_until(
            lambda: len(watcher.list_workers(max_age_s=5)) == 4, timeout=90, interval=0.5, what="4 worker processes"
        )
        assert {w.host for w in watcher.list_workers(max_age_s=5)} == {"w1", "w2"}

        pdfs = [make_slow_pdf(tmp_path / f"doc-{i:02d}-{PAGES + i}p.pdf", PAGES + i) for i in range(DOCUMENTS)]
        submitted = cli(dash, dash_env, "submit", *map(str, pdfs), "--json")
        assert submitted.returncode == 0, submitted.stderr
        jobs = {job["filename"]: job["id"] for job in json.loads(submitted.stdout)}
        assert len(jobs) == DOCUMENTS

        def chunks() -> list[Chunk]:
            return [chunk for job_id in jobs.values() for chunk in watcher.list_chunks(job_id)]

        def w1_busy_and_some_done() -> list[Chunk] | None:
            seen = chunks()
            done = [c for c in seen if c.status is ChunkStatus.DONE]
            running_on_w1 = [c for c in seen if c.status is ChunkStatus.RUNNING and c.worker.startswith("w1:")]
            return seen if len(done) >= 4 and running_on_w1 else None

        at_kill = wait_until(w1_busy_and_some_done, timeout=120, interval=0.2, what="w1 mid-chunk")
        os.killpg(consumers["w1"].pid, signal.SIGKILL)
        consumers["w1"].wait(timeout=10)
        done_before = {(c.job_id, c.index): c for c in at_kill if c.status is ChunkStatus.DONE}

        def all_ended() -> list[Job] | None:
            listed = [watcher.get(job_id) for job_id in jobs.values()]
            return listed if all(j is not None and j.status.is_final for j in listed) else None

        final = wait_until(all_ended, timeout=300, interval=1.0, what="every job to end")
        assert {j.status for j in final} == {JobStatus.COMPLETED}, [j.error for j in final if j.error]
        texts = json.loads(
            on_dash(
                "import json, sys\nfrom pipeline import Paperline\napp = Paperline()\n"
                f"print(json.dumps({{i: app.result(i, 'text') for i in {list(jobs.values())!r}}}))"
            )
        )
        for pdf in pdfs:
            pages = int(pdf.stem.rsplit("-", 1)[1].rstrip("p"))
            assert texts[jobs[pdf.name]] == known_text(pages, blank_pages=slow_blank_pages(pages)), pdf.name
        after = {(c.job_id, c.index): c for c in chunks()}
        for key, chunk in done_before.items():
            assert after[key].attempts == chunk.attempts, f"chunk {key} was done before the kill and redone"
        hosts = {c.worker.split(":")[0] for c in after.values()}
        assert hosts == {"w1", "w2"}, f"chunks ran on {hosts}"
        for name in ("w1-home", "w2-home", "dash-home"):
            assert not (tmp_path / name / "jobs").exists(), f"{name}: files went to the bucket, not a local folder"

        # The dashboard host's page, opened by a browser on that host, shows the end.
        wrapper = tmp_path / "chromium-on-dash"
        wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {dash.namespace} {CHROMIUM} "$@"\n')
        wrapper.chmod(0o755)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(wrapper), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.goto(f"http://{dash.address}:5006/app", timeout=60_000)
                page.get_by_text("0 queued · 0 running").first.wait_for(timeout=60_000)
                # the documents were submitted together: one batch, one card rolling them up
                done = f"{DOCUMENTS} of {DOCUMENTS} ready"
                page.locator(".pl-batch-card").filter(has_text=done).first.wait_for(timeout=60_000)
            finally:
                browser.close()
    finally:
        if watcher is not None:
            watcher.close()
        for process in processes:
            stop_process(process)
        s3.stop()
        database.stop()
