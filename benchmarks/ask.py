"""Benchmark asking: how soon the model's first words reach a client of ``POST /api/v1/ask``, and what a question
costs the server in CPU.

Against a real ``paperline serve --workers 0`` on a throwaway PAPERLINE_HOME whose ``--documents`` (4) generated
reports are indexed first (retrieval profile, in this process), and the fake Messages API (tests/fake_anthropic.py)
answering every question with three cited text blocks, streamed in 40-character deltas 10 ms apart:

* first text: from the moment the fake writes its first text delta to the moment the client reads the first
  ``event: text`` (both clocks are this process's ``time.monotonic``), over ``--questions`` (20) questions asked one
  after another (median, p95, max; goal < 300 ms);
* server CPU per question: user + system CPU of the server and its children over those questions, divided by their
  number; the same for extractive answers (``no_model``), which call no model.

Run: .venv/bin/python benchmarks/ask.py [--questions 20] [--documents 4]  (one JSON object on stdout)
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORDS = "The reports state this in plain words, and the passages below are where it is written down. "


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def answering(req: Any) -> list[dict[str, Any]]:
    from tests.fake_anthropic import cite

    blocks: list[dict[str, Any]] = [{"type": "text", "text": WORDS * 2}]
    for n in range(min(3, len(req.search_results))):
        blocks.append({"type": "text", "text": f" Fact {n + 1} as the report gives it.", "citations": [cite(req, n)]})
    return blocks


def ask(port: int, question: str, no_model: bool = False) -> tuple[float | None, int]:
    """Post one question and read its stream to the end: when the first text arrived, and how many events came."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        body = json.dumps({"question": question, "no_model": no_model})
        connection.request("POST", "/api/v1/ask", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        assert response.status == 200, response.read()
        first, seen = None, b""
        while piece := response.read1(65536):
            if first is None and b"event: text" in seen + piece:
                first = time.monotonic()
            seen += piece
        assert b"event: end" in seen, seen[-300:]
        return first, seen.count(b"\nevent: ") + seen.startswith(b"event: ")
    finally:
        connection.close()


def cpu_seconds(pid: int) -> float:
    import psutil

    process = psutil.Process(pid)
    total = 0.0
    for member in [process, *process.children(recursive=True)]:
        try:
            times = member.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--documents", type=int, default=4)
    args = parser.parse_args()

    from tests.fake_anthropic import FakeAnthropic
    from tests.helpers import free_port, stop_process, wait_until
    from tests.retrieval_docs import make_documents, write_pdf
    from tests.sync_runner import run_queued

    with (
        tempfile.TemporaryDirectory(prefix="paperline-ask-bench-") as home,
        FakeAnthropic(answering, delta_delay_s=0.01) as fake,
    ):
        os.environ["PAPERLINE_HOME"] = home
        from pipeline import Paperline

        log(f"indexing {args.documents} documents ...")
        documents = make_documents(args.documents, seed=7)
        app = Paperline()
        for document in documents:
            app.submit(write_pdf(document, Path(home)), profile="retrieval")
        run_queued(app)
        questions = [q.question for d in documents for q in d.questions]
        port = free_port()
        env = {**os.environ, "ANTHROPIC_API_KEY": "bench", "ANTHROPIC_BASE_URL": fake.base_url}
        command = [sys.executable, "-m", "pipeline", "serve", "--workers", "0", "--port", str(port)]
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=sys.stderr, stderr=sys.stderr, start_new_session=True
        )
        try:

            def up() -> bool:
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    connection.request("GET", "/api/v1/health")
                    return connection.getresponse().status in (200, 503)
                except OSError:
                    return False

            wait_until(up, timeout=60, interval=0.25, what="paperline serve")
            for question in questions[:2]:  # the embedding model and the SDK client load on the first questions
                ask(port, question)
            log(f"{args.questions} questions to the model ...")
            latencies: list[float] = []
            before = cpu_seconds(server.pid)
            for n in range(args.questions):
                asked = len(fake.requests)
                first, _ = ask(port, questions[n % len(questions)])
                index = fake.requests[asked].index
                assert first is not None and index in fake.first_text_at
                latencies.append((first - fake.first_text_at[index]) * 1000)
            model_cpu = (cpu_seconds(server.pid) - before) / args.questions
            log(f"{args.questions} extractive answers ...")
            before = cpu_seconds(server.pid)
            for n in range(args.questions):
                ask(port, questions[n % len(questions)], no_model=True)
            extractive_cpu = (cpu_seconds(server.pid) - before) / args.questions
        finally:
            stop_process(server)
            app.close()
    report = {
        "questions": args.questions,
        "documents": args.documents,
        "first_text_after_first_token_ms": {
            "median": round(statistics.median(latencies), 1),
            "p95": round(percentile(latencies, 0.95), 1),
            "max": round(max(latencies), 1),
            "goal": 300,
        },
        "server_cpu_ms_per_question": {
            "model": round(model_cpu * 1000, 1),
            "extractive": round(extractive_cpu * 1000, 1),
        },
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
