"""Asking through the ``paperline`` command and the HTTP API (served in process), against the fake Messages
API: the answer reaches the reader while the model is still writing it (the fake holds its stream after the first
words until the test has seen them), with its citations, and the daily budget refuses with its message."""

from __future__ import annotations

import http.client
import json
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from pipeline import Paperline
from pipeline.core import messages
from tests.conftest import ROOT, paperline, worker_env
from tests.fake_anthropic import FakeAnthropic, Recorded, cite
from tests.integration.test_api import call, conforms, problem
from tests.retrieval_docs import make_documents, write_pdf
from tests.sync_runner import run_queued

pytestmark = pytest.mark.integration

DOCUMENTS = make_documents(2, seed=3)
WORDS = "The documents answer this question at some length, sentence by sentence, so the answer streams. " * 3


def answering(req: Recorded) -> list[dict[str, Any]]:
    return [
        {"type": "text", "text": WORDS},
        {"type": "text", "text": "The cited fact.", "citations": [cite(req, 0, 0, 2)]},
    ]


@pytest.fixture
def fake() -> Any:
    with FakeAnthropic(answering) as server:
        server.gate = threading.Event()
        yield server


def index(app: Paperline, tmp_path: Path) -> dict[str, str]:
    jobs = {doc.filename: app.submit(write_pdf(doc, tmp_path), profile="retrieval").id for doc in DOCUMENTS}
    run_queued(app)
    return jobs


def read_until(read: Callable[[], bytes], wanted: bytes, timeout: float = 30) -> bytes:
    """Bytes from ``read`` (each call returns what has come, blocking a bounded time) until ``wanted`` is among
    them."""
    seen, deadline = b"", time.monotonic() + timeout
    while wanted not in seen:
        assert time.monotonic() < deadline, f"{wanted!r} never came; got {seen[-500:]!r}"
        piece = read()
        assert piece, f"the stream ended before {wanted!r}; got {seen[-500:]!r}"
        seen += piece
    return seen


def pipe_reader(pipe: Any) -> Callable[[], bytes]:
    def read() -> bytes:
        ready = select.select([pipe.fileno()], [], [], 30)[0]
        assert ready, "nothing came for 30 s"
        return os.read(pipe.fileno(), 65536)

    return read


def test_the_cli_streams_the_answer_then_its_sources_and_answers_as_json(app: Paperline, fake, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    jobs = index(app, tmp_path)
    env = worker_env(app.settings, ANTHROPIC_API_KEY="test", ANTHROPIC_BASE_URL=fake.base_url)
    question = DOCUMENTS[0].questions[0].question
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "ask", question], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        first = read_until(pipe_reader(process.stdout), b"The documents answer")
        assert b"Sources:" not in first, "the first words are shown while the model is still writing"
        fake.gate.set()
        rest, errors = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    out = (first + rest).decode()
    assert process.returncode == 0, errors
    assert out.startswith(WORDS + "The cited fact.[1]")
    [source] = [line for line in out.splitlines() if line.startswith("[1] ")]
    assert source.startswith(f"[1] {DOCUMENTS[0].filename}, p") and f"job {jobs[DOCUMENTS[0].filename]}" in source

    as_json = paperline(app, "ask", question, "--json", ANTHROPIC_API_KEY="test", ANTHROPIC_BASE_URL=fake.base_url)
    answer = json.loads(as_json.stdout)
    assert answer["method"] == "model" and answer["text"] == WORDS + "The cited fact.[1]"
    [citation] = answer["citations"]
    assert citation["filename"] == DOCUMENTS[0].filename and citation["job_id"] == jobs[DOCUMENTS[0].filename]
    assert app.result(citation["job_id"], "text")[citation["start"] : citation["end"]] == citation["cited_text"]
    assert {"pages", "passage", "page"} <= set(citation)
    extractive = json.loads(paperline(app, "ask", question, "--json", "--no-model").stdout)
    assert extractive["method"] == "extractive" and extractive["citations"] and len(fake.requests) == 2


@contextmanager
def post_ask(api: str, body: dict[str, Any]) -> Iterator[http.client.HTTPResponse]:
    parts = urlsplit(api)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("POST", parts.path + "/ask", json.dumps(body), {"Content-Type": "application/json"})
        yield connection.getresponse()
    finally:
        connection.close()


def sse_messages(raw: bytes) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for block in raw.decode().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "event" in fields:
            out.append((fields["event"], json.loads(fields["data"])))
    return out


def test_the_api_streams_the_answer_as_events_and_the_budget_refuses_with_a_problem(  # type: ignore[no-untyped-def]
    app: Paperline, fake, serve_api, tmp_path: Path
) -> None:
    jobs = index(app, tmp_path)
    api = serve_api(
        ANTHROPIC_API_KEY="test",
        ANTHROPIC_BASE_URL=fake.base_url,
        PAPERLINE_ASK_BUDGET_USD="0.0001",
        PAPERLINE_ASK_CONCURRENCY_PER_USER="1",
    )
    question = DOCUMENTS[1].questions[0].question
    with post_ask(api, {"question": question}) as response:
        assert response.status == 200 and response.headers["Content-Type"].startswith("text/event-stream")
        first = read_until(lambda: response.read1(65536), b"event: text")
        assert b"event: citation" not in first and b"event: end" not in first
        with post_ask(api, {"question": question, "no_model": True}) as busy:  # one answer under way at most
            busy_problem = problem((busy.status, dict(busy.headers), busy.read()))
        assert busy.status == 429 and busy_problem["code"] == "ask_busy" and int(busy.headers["Retry-After"]) > 0
        fake.gate.set()
        events = sse_messages(first + response.read())
    kinds = [kind for kind, _ in events]
    assert kinds[-2:] == ["citation", "end"] and set(kinds[:-2]) == {"text"}
    assert "".join(data["text"] for kind, data in events if kind == "text") == WORDS + "The cited fact.[1]"
    citation, answer = events[-2][1], events[-1][1]
    assert citation["job_id"] in jobs.values() and answer["citations"] == [citation] and answer["method"] == "model"
    assert app.result(citation["job_id"], "text")[citation["start"] : citation["end"]] == citation["cited_text"]

    with post_ask(api, {"question": question}) as refused:
        answer_problem = problem((refused.status, dict(refused.headers), refused.read()))
    assert refused.status == 429 and answer_problem["code"] == "ask_budget_reached"
    spent = app.ask_usage()[0].cost_usd
    assert answer_problem["detail"] == messages.ask_budget_reached("local", spent, 0.0001)
    assert len(fake.requests) == 1, "refused before the model"
    bodies = ({}, {"question": ""}, {"question": "x", "jobs": "one"}, {"question": "x", "no_model": "yes"})
    for bad in (*bodies, {"question": "what \ud800 is", "no_model": True}):
        with post_ask(api, bad) as bad_answer:
            assert bad_answer.status == 400 and problem((400, dict(bad_answer.headers), bad_answer.read())), bad
    with post_ask(api, {"question": '"the\x00 fact', "no_model": True}) as cleaned:  # NUL: FTS5's bare 500 before
        assert cleaned.status == 200 and sse_messages(cleaned.read())[-1][0] == "end"
    doc = json.loads(call(f"{api}/openapi.json")[2])
    assert doc["paths"]["/ask"]["post"]["responses"]["429"] and "Answer" in doc["components"]["schemas"]
    conforms(doc, "/search", "get", call(f"{api}/search?q=fact"))
