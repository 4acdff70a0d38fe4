"""Benchmark the HTTP API: how fast an upload is acknowledged, how soon progress reaches a stream, and a burst.

Against a real ``paperline serve --workers 0`` in a throwaway PAPERLINE_HOME (no worker: nothing competes with the
server, and jobs stay queued so every one can be counted):

* acknowledgement: ``POST /api/v1/jobs`` of a 1 MB PDF (raw body), 40 times one after another, client-side time
  to the 201 (median, p95; goal median < 20 ms);
* stream latency: a job's chunk progress written straight into the store (as a worker would), 20 times ~0.5 s
  apart, each timed until the ``event: chunk`` with those pages arrives on ``/events/stream`` (median, p95;
  goal p95 < 300 ms);
* stream fan-out: store reads by the server's stream hub during 10 progress writes, with 1 and then 20 clients
  on the same job (their ratio is about 1 when streams share the reads);
* burst: ``--uploads`` (100) distinct ``--size-mb`` (50) MB PDFs uploaded at once over multipart, one client
  thread each: all acknowledged, jobs lost or duplicated (by the file names in the store), seconds, and the
  server process's peak resident memory (VmHWM), to show bodies are streamed rather than held.

Run: .venv/bin/python benchmarks/api.py [--uploads 100] [--size-mb 50]  (one JSON object on stdout)
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ACKS = 40
UPDATES = 20


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def pdf_of_size(megabytes: float) -> bytes:
    """A valid one-page PDF padded to about ``megabytes`` with an attachment of random bytes."""
    import pypdf

    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_attachment("padding.bin", os.urandom(int(megabytes * 2**20)))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def post(port: int, path: str, body: bytes, content_type: str = "application/octet-stream") -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": content_type})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def multipart(name: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n\r\n'.encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def acknowledgement(port: int) -> dict[str, Any]:
    body = pdf_of_size(1)
    times = []
    for i in range(ACKS):
        started = time.perf_counter()
        status, _ = post(port, f"/api/v1/jobs?filename=ack-{i}.pdf", body)
        times.append((time.perf_counter() - started) * 1000)
        assert status == 201, status
    return {"uploads": ACKS, "size_bytes": len(body), "median_ms": round(statistics.median(times), 1),
            "p95_ms": round(percentile(times, 95), 1), "goal_median_below_ms": 20}  # fmt: skip


def stream_latency(port: int, store: Any) -> dict[str, Any]:
    from pipeline.jobs.chunking import plan_chunks
    from pipeline.store import NewJob

    job_id = f"bench-{uuid.uuid4().hex[:12]}"
    store.create(NewJob(job_id, "bench.pdf", "pdf", "text", "local", "x", size_bytes=1, user="local", pages=400))
    store.start(job_id)
    store.plan_chunks(job_id, plan_chunks(400, 400, 0))
    store.claim_chunk(job_id, 0, "bench")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", f"/api/v1/jobs/{job_id}/events/stream", headers={"Last-Event-ID": "999999999"})
    response = connection.getresponse()
    seen: dict[int, float] = {}
    done = threading.Event()

    def read() -> None:
        kind = ""
        while not done.is_set():
            try:
                line = response.readline().decode()
            except (OSError, AttributeError, ValueError):
                return  # closed by the benchmark
            if not line:
                return
            if line.startswith("event: "):
                kind = line[7:].strip()
            elif line.startswith("data: ") and kind == "chunk":
                data = json.loads(line[6:])
                seen.setdefault(int(data["pages_done"]), time.perf_counter())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(1.0)  # the stream is open and its hub is following the store
    latencies = []
    for k in range(10, 10 * UPDATES + 1, 10):
        started = time.perf_counter()
        store.update_chunk_progress(job_id, 0, k)
        deadline = started + 10
        while k not in seen and time.perf_counter() < deadline:
            time.sleep(0.001)
        assert k in seen, f"progress {k} never reached the stream"
        latencies.append((seen[k] - started) * 1000)
        time.sleep(0.5)
    done.set()
    connection.close()
    return {"updates": len(latencies), "median_ms": round(statistics.median(latencies), 1),
            "p95_ms": round(percentile(latencies, 95), 1), "worst_ms": round(max(latencies), 1),
            "goal_p95_below_ms": 300}  # fmt: skip


def hub_reads(port: int) -> int:
    """Reads of jobs' events by the server's event streams so far (``paperline_api_stream_reads_total``)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/metrics")
    text = connection.getresponse().read().decode()
    families = text_string_to_metric_families(text)
    return int(sum(s.value for f in families for s in f.samples if s.name == "paperline_api_stream_reads_total"))


def drain(response: http.client.HTTPResponse) -> None:
    """Read a stream until the benchmark closes it (closing makes the read fail: that is the end)."""
    try:
        while response.readline():
            pass
    except (OSError, AttributeError, ValueError):
        pass


def open_streams(port: int, job_id: str, count: int) -> list[http.client.HTTPConnection]:
    """``count`` clients following the job's stream, each read by a thread that drops what it gets."""
    connections = []
    for _ in range(count):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("GET", f"/api/v1/jobs/{job_id}/events/stream", headers={"Last-Event-ID": "999999999"})
        response = connection.getresponse()
        threading.Thread(target=drain, args=(response,), daemon=True).start()
        connections.append(connection)
    return connections


def stream_fanout(port: int, store: Any, clients: int = 20, updates: int = 10) -> dict[str, Any]:
    """Store reads by the server's stream hub while a job moves, with one client and then ``clients``."""
    from pipeline.jobs.chunking import plan_chunks
    from pipeline.store import NewJob

    job_id = f"fan-{uuid.uuid4().hex[:12]}"
    store.create(NewJob(job_id, "fan.pdf", "pdf", "text", "local", "x", size_bytes=1, user="local", pages=400))
    store.start(job_id)
    store.plan_chunks(job_id, plan_chunks(400, 400, 0))
    store.claim_chunk(job_id, 0, "bench")
    result: dict[str, Any] = {"updates": updates, "update_interval_s": 0.3}
    pages = 0
    for count in (1, clients):
        connections = open_streams(port, job_id, count)
        time.sleep(1.0)
        before = hub_reads(port)
        for _ in range(updates):
            pages += 1
            store.update_chunk_progress(job_id, 0, pages)
            time.sleep(0.3)
        result[f"reads_with_{count}_clients"] = hub_reads(port) - before
        for connection in connections:
            connection.close()
        time.sleep(1.0)
    result["ratio"] = round(result[f"reads_with_{clients}_clients"] / max(1, result["reads_with_1_clients"]), 2)
    return result


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def burst(port: int, store: Any, server_pid: int, uploads: int, size_mb: float) -> dict[str, Any]:
    base = pdf_of_size(size_mb)
    names = [f"burst-{i:03d}.pdf" for i in range(uploads)]
    memory_before = peak_memory_mb(server_pid)

    def upload(i: int) -> int:
        body, content_type = multipart(names[i], base + f"%{i}\n".encode())  # distinct files
        return post(port, "/api/v1/jobs", body, content_type)[0]

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=uploads) as pool:
        statuses = list(pool.map(upload, range(uploads)))
    seconds = time.perf_counter() - started
    stored = [job.filename for job in store.list_recent(limit=10_000) if job.filename.startswith("burst-")]
    return {
        "uploads": uploads,
        "size_mb": size_mb,
        "acknowledged": statuses.count(201),
        "lost": len(set(names) - set(stored)),
        "duplicated": len(stored) - len(set(stored)),
        "seconds": round(seconds, 1),
        "server_peak_rss_mb_before": memory_before,
        "server_peak_rss_mb_after": peak_memory_mb(server_pid),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uploads", type=int, default=100)
    parser.add_argument("--size-mb", type=float, default=50)
    args = parser.parse_args()
    import subprocess

    from tests.helpers import free_port, stop_process, wait_until

    with tempfile.TemporaryDirectory(prefix="paperline-api-bench-") as home:
        os.environ["PAPERLINE_HOME"] = home
        os.environ["PAPERLINE_MAX_UPLOAD_MB"] = str(int(args.size_mb) + 10)
        from pipeline.core.settings import Settings
        from pipeline.store import open_store

        store = open_store(Settings.from_env())
        port = free_port()
        command = [sys.executable, "-m", "pipeline", "serve", "--workers", "0", "--port", str(port)]
        server = subprocess.Popen(command, cwd=ROOT, stdout=sys.stderr, stderr=sys.stderr, start_new_session=True)
        try:

            def up() -> bool:
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    connection.request("GET", "/api/v1/health")
                    return connection.getresponse().status in (200, 503)
                except OSError:
                    return False

            wait_until(up, timeout=60, interval=0.25, what="paperline serve")
            panel_pid = int(
                subprocess.run(["pgrep", "-f", "-n", "panel serve"], capture_output=True, text=True).stdout.split()[0]
            )
            log("acknowledgement ...")
            report: dict[str, Any] = {"acknowledgement": acknowledgement(port)}
            log("stream latency ...")
            report["stream_latency"] = stream_latency(port, store)
            log("stream fan-out ...")
            report["stream_store_reads"] = stream_fanout(port, store)
            log(f"burst of {args.uploads} x {args.size_mb} MB ...")
            report["burst"] = burst(port, store, panel_pid, args.uploads, args.size_mb)
        finally:
            stop_process(server)
            store.close()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
