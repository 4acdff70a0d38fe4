"""Retrieval through real worker processes, the ``paperline`` command and the HTTP API, for two users."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import pytest

from pipeline import JobStatus, Paperline
from tests.conftest import paperline
from tests.integration.test_api import call, conforms, problem
from tests.retrieval_docs import make_documents, write_pdf

pytestmark = pytest.mark.integration

DOCUMENTS = make_documents(4, seed=5)


def test_embedding_is_spread_over_workers_and_search_answers_the_cli(  # type: ignore[no-untyped-def]
    app: Paperline, start_worker, tmp_path: Path
) -> None:
    # small batches: a document's passages become several embedding tasks, taken by both worker processes
    start_worker(workers=2, PAPERLINE_EMBED_BATCH_PASSAGES="1", PAPERLINE_PASSAGE_TOKENS="48")
    jobs = [app.submit(write_pdf(doc, tmp_path), profile="retrieval") for doc in DOCUMENTS]
    done = app.wait([job.id for job in jobs], timeout_s=240)
    assert {job.status for job in done} == {JobStatus.COMPLETED}, [job.error for job in done]
    passages = sum(len(app.store.list_passages(job.id)) for job in done)
    assert passages >= 4 * 6, "a 48-token target cuts each section into passages of its own"
    log = "".join(p.read_text() for p in tmp_path.glob("worker-*.log"))
    embedding_pids = {line.split()[2] for line in log.splitlines() if "embed_passages" in line and "Executing" in line}
    assert len(embedding_pids) >= 2, f"embedding tasks ran in {embedding_pids}: one process only"

    question = DOCUMENTS[3].questions[1]
    answer = paperline(app, "search", question.question, "--top", "3", "--json")
    assert answer.returncode == 0, answer.stderr
    hits = json.loads(answer.stdout)
    assert hits[0]["filename"] == question.filename and question.answer in " ".join(hits[0]["text"].split())
    assert set(hits[0]) >= {"job_id", "page", "pages", "headings", "start", "end", "text", "score"}
    shown = paperline(app, "search", question.question, "--top", "1")
    assert f"{question.filename}  p. {hits[0]['page']}" in shown.stdout
    exported = paperline(app, "passages", hits[0]["job_id"], "--vectors")
    rows = [json.loads(line) for line in exported.stdout.splitlines()]
    assert rows and all(len(row["embedding"]) == 384 for row in rows)
    assert paperline(app, "search", "anything", PAPERLINE_USER="nobody").stderr.startswith("No passages found")
    org = DOCUMENTS[3].title.removesuffix(" annual report")
    words = paperline(app, "search", f'"{org}"', "--mode", "keyword", "--top", "50", "--json")
    assert words.returncode == 0, words.stderr
    assert {hit["filename"] for hit in json.loads(words.stdout)} == {question.filename}, "a quoted name, as written"


def test_the_api_searches_only_what_the_token_may_see(  # type: ignore[no-untyped-def]
    app: Paperline, start_worker, serve_dashboard, tmp_path: Path
) -> None:
    from pipeline.service import tokens

    start_worker(workers=2)
    users = tmp_path / "users.json"
    users.write_text(json.dumps({"ann": "pw", "bob": "pw"}))
    url = serve_dashboard("--basic-auth", str(users), "--cookie-secret", "s")
    api = url.removesuffix("/app") + "/api/v1"
    owners = {"ann": DOCUMENTS[:2], "bob": DOCUMENTS[2:]}
    jobs = {
        user: [app.submit(write_pdf(doc, tmp_path), profile="retrieval", user=user).id for doc in docs]
        for user, docs in owners.items()
    }
    done = app.wait([job for ids in jobs.values() for job in ids], timeout_s=240)
    assert {job.status for job in done} == {JobStatus.COMPLETED}
    headers = {user: {"Authorization": f"Bearer {tokens.create_token(app.store, user)[1]}"} for user in owners}
    spec = json.loads(call(f"{api}/openapi.json", headers=headers["ann"])[2])
    for user, docs in owners.items():
        for doc in (*owners["ann"], *owners["bob"]):
            query = urllib.parse.quote(doc.questions[0].question)
            answer = call(f"{api}/search?q={query}&top=10", headers=headers[user])
            body = conforms(spec, "/search", "get", answer)
            assert {hit["job_id"] for hit in body["hits"]} <= set(jobs[user]), "never another user's passages"
            if doc in docs:
                assert body["hits"][0]["filename"] == doc.filename
    name = urllib.parse.quote(f'"{owners["bob"][0].title.removesuffix(" annual report")}"')
    for user in owners:
        answer = call(f"{api}/search?q={name}&mode=keyword&top=50", headers=headers[user])
        body = conforms(spec, "/search", "get", answer)
        assert body["mode"] == "keyword" and {hit["job_id"] for hit in body["hits"]} <= set(jobs[user])
        assert bool(body["hits"]) == (user == "bob"), "only bob's document names bob's organisation"
    assert problem(call(f"{api}/search?q=x&mode=fuzzy", headers=headers["ann"]))["status"] == 400
    assert problem(call(f"{api}/search?q=", headers=headers["ann"]))["status"] == 400
    assert problem(call(f"{api}/search?q=x&top=500", headers=headers["ann"]))["status"] == 400
    assert problem(call(f"{api}/search?q=x"))["status"] == 401
