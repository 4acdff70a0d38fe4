"""The chaos rig, shared by ``tests/chaos`` and ``benchmarks/chaos.py``: PostgreSQL and SeaweedFS on this machine,
two worker processes and a real ``paperline serve``, a small batch of multi-page jobs, and faults injected
mid-batch while a client polls the API.

Every fault lands once a few chunks of the batch are done, lasts a fixed time, and is then undone; the rig waits
(bounded) for every job to end and reports what a person would check: jobs completed with the text they were made
from (``tests.docgen.known_text``, what a fault-free run gives), chunks finished more than once, and every answer
the client got (only 2xx, or 503 with ``Retry-After``, none slower than ``CLIENT_BOUND_S``).

Faults: the object store down 20 s (its process stopped and started again), PostgreSQL down 30 s (``pg_ctl stop -m
fast``, then started), a worker frozen (SIGSTOP to its process group, SIGCONT after 60 s: past the stale timeout,
so its chunk is redone elsewhere), and a worker's disk full for 20 s (its cache directory is a 1 MiB tmpfs, filled
with a file and emptied again). Every process is started in its own session and stopped by its pid.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipeline.core import transient
from pipeline.core.models import ChunkStatus, Job
from pipeline.store.postgres import PostgresJobStore
from tests.docgen import known_text, make_slow_pdf, slow_blank_pages
from tests.helpers import ROOT, free_port, slow_tesseract, started_by, stop_process, wait_until
from tests.postgres_server import PostgresServer
from tests.s3_server import S3Server

DOCUMENTS = 4
PAGES = 12
#: the server gives up on the job store after this long and answers 503 (PAPERLINE_STORE_TIMEOUT_S)
STORE_TIMEOUT_S = 3.0
#: the slowest answer a client may get: the store timeout, once more for a second store call, and a busy machine
CLIENT_BOUND_S = 2 * STORE_TIMEOUT_S + 3.0
STALE_AFTER_S = 8.0
FAULT_SECONDS = {"object_store_down": 20.0, "database_down": 30.0, "worker_frozen": 60.0, "disk_full": 20.0}
DISK_BYTES = 1024 * 1024


@dataclass
class Outcome:
    """What one fault did to one batch."""

    fault: str
    jobs: int = 0
    completed: int = 0
    failed: int = 0
    stuck: int = 0
    #: seconds from the end of the fault until a chunk was done again (work resumed)
    recovery_s: float | None = None
    #: seconds from the end of the fault until every job had ended (negative: they ended during the fault)
    batch_end_s: float | None = None
    #: seconds from the start of the fault until a chunk was first taken back from its worker (recovered)
    taken_back_s: float | None = None
    #: client answers by status ("200", "503", "timeout", ...)
    answers: dict[str, int] = field(default_factory=dict)
    slowest_answer_s: float = 0.0
    #: answers that were neither 2xx nor 503 with Retry-After, or slower than CLIENT_BOUND_S
    bad_answers: list[str] = field(default_factory=list)
    #: jobs whose text differs from the fault-free text, and their errors
    wrong_text: list[str] = field(default_factory=list)
    #: chunks with more than one "done" event
    done_twice: list[str] = field(default_factory=list)
    #: event kinds the batch's jobs recorded (waiting, chunk_recovered, chunk_retry, ...)
    events: dict[str, int] = field(default_factory=dict)
    #: what the jobs' waiting events said (first few)
    waits: list[str] = field(default_factory=list)
    #: what /health said when it answered 200 (two workers are alive throughout: "no_workers" is a false alarm)
    health: dict[str, int] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        """The benchmark's row: the headline numbers."""
        keys = ("fault", "jobs", "completed", "failed", "stuck", "recovery_s", "batch_end_s", "taken_back_s", "answers",
                "health")  # fmt: skip
        data = asdict(self)
        row = {key: data[key] for key in keys}
        row.update(
            slowest_answer_s=round(self.slowest_answer_s, 2),
            bad_answers=len(self.bad_answers),
            wrong_text=len(self.wrong_text),
            done_twice=len(self.done_twice),
            waiting_events=self.events.get("waiting", 0),
            chunks_recovered=self.events.get("chunk_recovered", 0),
            chunk_retries=self.events.get("chunk_retry", 0),
        )
        return row


class Poller:
    """A client polling ``GET /api/v1/jobs`` and ``/api/v1/health`` on the server, recording every answer."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.answers: list[tuple[str, int | str, bool, float]] = []  # path, status, Retry-After, seconds
        #: what each 200 from /health said ("ok", "degraded", "recovering", "no_workers")
        self.health: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chaos-client", daemon=True)

    def _ask(self, path: str) -> None:
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=CLIENT_BOUND_S + 10)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
            status: int | str = response.status
            retry_after = response.getheader("Retry-After") is not None
            if path.endswith("/health") and response.status == 200:
                self.health[json.loads(body)["status"]] += 1
        except OSError as exc:
            status, retry_after = type(exc).__name__, False
        finally:
            connection.close()
        self.answers.append((path, status, retry_after, time.monotonic() - started))

    def _run(self) -> None:
        paths = ("/api/v1/jobs?limit=5", "/api/v1/health")
        turn = 0
        while not self._stop.wait(0.25):
            self._ask(paths[turn % 2])
            turn += 1

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=CLIENT_BOUND_S + 15)


class Rig:
    """The services, two workers and a server; ``run(fault)`` submits a batch and injects ``fault`` mid-batch."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.database = PostgresServer()
        self.s3 = S3Server()
        self.prefix = f"s3://paperline/chaos-{uuid.uuid4().hex[:8]}"
        self.workers: dict[str, subprocess.Popen[bytes]] = {}
        self.server: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.url = ""
        self.watcher: PostgresJobStore | None = None
        self.mounted: Path | None = None
        self.batches = 0
        #: lines per page of each job's document: every document differs, so none is answered from the cache
        self.lines: dict[str, int] = {}

    # -- setting up ----------------------------------------------------------------------------------------
    def env(self, home: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERLINE_", "AWS_"))}
        env.update(
            PAPERLINE_HOME=str(home),
            PAPERLINE_DATABASE_URL=self.url,
            PAPERLINE_STORAGE_URL=self.prefix,
            PAPERLINE_PROGRESS_INTERVAL_S="0.1",
            PAPERLINE_HEARTBEAT_INTERVAL_S="0.5",
            PAPERLINE_STALE_AFTER_S=str(STALE_AFTER_S),
            PAPERLINE_SWEEP_INTERVAL_S="1",
            PAPERLINE_RETRY_BACKOFF_S="0.5",
            PAPERLINE_SINGLE_CHUNK_MAX_PAGES="4",
            PAPERLINE_MEDIUM_CHUNK_PAGES="4",
            PAPERLINE_OCR_DPI="150",
            PAPERLINE_TESSERACT=str(self.root / "slow-tesseract"),
            PAPERLINE_STORE_TIMEOUT_S=str(STORE_TIMEOUT_S),
            PAPERLINE_TRANSIENT_RETRY_S="120",
            PYTHONUNBUFFERED="1",
            **self.s3.env(),
        )
        return env

    def _start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        with (self.root / f"{name}.log").open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "pipeline", *args],
                cwd=ROOT,
                env=self.env(self.root / f"{name}-home"),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start(self) -> Rig:
        self.database.start()
        self.s3.start()
        self.url = self.database.new_database()
        slow_tesseract(self.root, 0.3)  # OCR pages take at least this long, so a fault lands mid-batch
        self.watcher = PostgresJobStore(self.url, timeout_s=2.0)
        self.watcher.initialize_schema()
        cache = self.root / "w1-home" / "cache"  # the first worker's cache is a tiny disk of its own
        cache.mkdir(parents=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "chaos-disk", str(cache)], check=True)
        self.mounted = cache
        for name in ("w1", "w2"):
            self.workers[name] = self._start(name, "worker", "-w", "1")
        self.port = free_port()
        self.server = self._start("server", "serve", "--workers", "0", "--port", str(self.port))
        wait_until(lambda: len(self.watcher.list_workers(max_age_s=5)) == 2, timeout=90, interval=0.5,  # type: ignore[union-attr]
                   what="two worker processes")  # fmt: skip
        wait_until(self._serving, timeout=120, interval=0.5, what="paperline serve's API")
        return self

    def _serving(self) -> bool:
        assert self.server is not None
        if self.server.poll() is not None:
            raise AssertionError(f"paperline serve exited:\n{(self.root / 'server.log').read_text()[-3000:]}")
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            connection.request("GET", "/api/v1/health")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def stop(self) -> None:
        for process in [*self.workers.values(), *([self.server] if self.server else [])]:
            try:
                os.killpg(process.pid, signal.SIGCONT)  # a frozen worker must be able to stop
            except ProcessLookupError:
                pass
            stop_process(process)
        if self.watcher is not None:
            self.watcher.close()
        if self.mounted is not None:
            subprocess.run(["umount", str(self.mounted)], check=False)
        self.s3.stop()
        self.database.stop()

    # -- reading the store (the watcher waits out the faults it is watching) -------------------------------
    def _read(self, read: Callable[[PostgresJobStore], Any], default: Any = None) -> Any:
        assert self.watcher is not None
        try:
            return read(self.watcher)
        except Exception as exc:
            if transient.is_transient(exc):
                return default
            raise

    def _jobs(self, ids: list[str]) -> list[Job | None]:
        return self._read(lambda store: [store.get(i) for i in ids], default=[None] * len(ids))

    def _done_chunks(self, ids: list[str]) -> int:
        return self._read(
            lambda store: sum(c.status is ChunkStatus.DONE for i in ids for c in store.list_chunks(i)), default=0
        )

    def _submit(self) -> list[str]:
        self.batches += 1
        lines = [6 + self.batches * DOCUMENTS + i for i in range(DOCUMENTS)]
        pdfs = [make_slow_pdf(self.root / f"b{self.batches}-{n}.pdf", PAGES, lines=n) for n in lines]
        done = subprocess.run(
            [sys.executable, "-m", "pipeline", "submit", *map(str, pdfs), "--json"],
            cwd=ROOT,
            env=self.env(self.root / "client-home"),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        ids = [job["id"] for job in json.loads(done.stdout)]
        self.lines.update(zip(ids, lines, strict=True))
        return ids

    # -- the faults ----------------------------------------------------------------------------------------
    def _hold(self, seconds: float) -> None:
        time.sleep(seconds)  # the fault lasts this long: nothing to wait for but time

    def _object_store_down(self, seconds: float, ids: list[str]) -> None:
        self.s3.halt()
        self._hold(seconds)
        self.s3.resume()
        # The fault ends when the store serves objects again, not when its port answers: a restarted SeaweedFS can
        # answer InternalError until its volume server is back, and that is still the fault, not Paperline's.
        import boto3

        env = self.s3.env()
        client = boto3.client(
            "s3",
            endpoint_url=env["AWS_ENDPOINT_URL"],
            region_name=env["AWS_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )

        def serves() -> bool:
            try:
                client.put_object(Bucket="paperline", Key="chaos-probe", Body=b"probe")
                return client.get_object(Bucket="paperline", Key="chaos-probe")["Body"].read() == b"probe"
            except Exception:
                return False

        try:
            wait_until(serves, timeout=90, interval=0.5, what="SeaweedFS to serve objects again after its restart")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.s3.log.read_text()[-3000:]}") from None

    def _database_down(self, seconds: float, ids: list[str]) -> None:
        self.database.halt("fast")
        self._hold(seconds)
        self.database.resume()

    def _worker_frozen(self, seconds: float, ids: list[str]) -> None:
        def busy_worker() -> tuple[str, subprocess.Popen[bytes]] | None:
            running = self._read(lambda s: [c for i in ids for c in s.list_chunks(i)], default=[])
            for chunk in running:
                if chunk.status is ChunkStatus.RUNNING:
                    pid = int(chunk.worker.split(":")[1].split("/")[0])
                    for process in self.workers.values():
                        if started_by(process, pid):
                            return chunk.job_id, process
            return None

        _job, process = wait_until(busy_worker, timeout=60, interval=0.1, what="a worker mid-chunk")
        os.killpg(process.pid, signal.SIGSTOP)
        try:
            self._hold(seconds)
        finally:
            os.killpg(process.pid, signal.SIGCONT)

    def _disk_full(self, seconds: float, ids: list[str]) -> None:
        assert self.mounted is not None
        filler = self.mounted / "filler"
        with filler.open("wb") as out:  # fill the worker's disk to the last byte
            try:
                while True:
                    out.write(b"\0" * 65536)
                    out.flush()
            except OSError:
                pass
        try:
            self._hold(seconds)
        finally:
            filler.unlink()

    def run(self, fault: str, *, landed: Callable[[list[str]], bool] | None = None) -> Outcome:
        """Submit a batch, inject ``fault`` once two chunks are done, undo it, and wait (bounded) for the end."""
        inject = {
            "object_store_down": self._object_store_down,
            "database_down": self._database_down,
            "worker_frozen": self._worker_frozen,
            "disk_full": self._disk_full,
        }[fault]
        ids = self._submit()
        outcome = Outcome(fault, jobs=len(ids))
        with Poller(self.port) as poller:
            wait_until(lambda: self._done_chunks(ids) >= 2, timeout=180, interval=0.1, what="two chunks done")
            started_fault = time.time()
            inject(FAULT_SECONDS[fault], ids)
            ended_fault = time.time()
            try:
                wait_until(lambda: all(j is not None and j.is_final for j in self._jobs(ids)), timeout=240,
                           interval=0.5, what="every job of the batch to end")  # fmt: skip
            except AssertionError:
                pass  # counted as stuck below
            time.sleep(1.0)  # a last poll or two after the end
        self._judge(outcome, ids, (started_fault, ended_fault), poller)
        return outcome

    # -- judging -------------------------------------------------------------------------------------------
    def _result_text(self, job_id: str) -> str | None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("GET", f"/api/v1/jobs/{job_id}/result?format=text")
            response = connection.getresponse()
            body = response.read().decode("utf-8")
            return body if response.status == 200 else None
        finally:
            connection.close()

    def _judge(self, outcome: Outcome, ids: list[str], fault: tuple[float, float], poller: Poller) -> None:
        started_fault, ended_fault = fault
        jobs = [j for j in self._jobs(ids) if j is not None]
        outcome.completed = sum(j.status.value == "completed" for j in jobs)
        outcome.failed = sum(j.status.value == "failed" for j in jobs)
        outcome.stuck = len(ids) - outcome.completed - outcome.failed
        events = [e for i in ids for e in self._read(lambda s, i=i: s.list_events(i), default=[])]
        kinds = Counter(e.kind.value for e in events)
        outcome.events = dict(kinds)
        outcome.waits = [e.message for e in events if e.kind.value == "waiting"][:5]
        done = Counter((e.job_id, e.chunk_index) for e in events if e.kind.value == "chunk_done")
        outcome.done_twice = [f"{job}#{index}" for (job, index), count in done.items() if count > 1]
        for job in jobs:
            if job.status.value != "completed":
                outcome.wrong_text.append(f"{job.id} {job.status.value}: {job.error}")
            elif self._result_text(job.id) != known_text(
                PAGES, lines=self.lines[job.id], blank_pages=slow_blank_pages(PAGES)
            ):
                outcome.wrong_text.append(f"{job.id}: its text differs from the fault-free text")
        after = sorted(e.at for e in events if e.kind.value == "chunk_done" and e.at >= ended_fault)
        outcome.recovery_s = round(after[0] - ended_fault, 2) if after else None
        taken = sorted(e.at for e in events if e.kind.value == "chunk_recovered" and e.at >= started_fault)
        outcome.taken_back_s = round(taken[0] - started_fault, 2) if taken else None
        last = max((j.finished_at or 0.0 for j in jobs), default=0.0)
        outcome.batch_end_s = round(last - ended_fault, 2) if outcome.stuck == 0 and last else None
        statuses: Counter[str] = Counter()
        for path, status, retry_after, seconds in poller.answers:
            statuses[str(status)] += 1
            outcome.slowest_answer_s = max(outcome.slowest_answer_s, seconds)
            good = isinstance(status, int) and (200 <= status < 300 or (status == 503 and retry_after))
            if not good or seconds > CLIENT_BOUND_S:
                outcome.bad_answers.append(f"{path}: {status} after {seconds:.1f} s")
        outcome.answers = dict(sorted(statuses.items()))
        outcome.health = dict(sorted(poller.health.items()))
