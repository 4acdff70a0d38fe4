"""Asking the documents: Claude's answers through the real SDK against the fake Messages API, with citations as the
API returns them (``search_result_location``), checked and mapped back to job, page, passage and characters."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pipeline import Paperline
from pipeline.api.problems import problem_for
from pipeline.core import messages
from pipeline.core.errors import AskBudgetReached, AskBusy, InvalidRequest
from pipeline.core.settings import Settings
from pipeline.service.ask import SYSTEM_PROMPT, Answer, max_cost, sent_passage
from tests.fake_anthropic import FakeAnthropic, Recorded, cite
from tests.helpers import wait_until
from tests.retrieval_docs import make_documents, write_pdf
from tests.sync_runner import run_queued

DOCUMENTS = make_documents(4, seed=11)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, dict[str, str]]]:
    """One home whose four documents are indexed once for the module: ann owns two, bob two."""
    directory = tmp_path_factory.mktemp("ask")
    settings = Settings(home=directory / "home", progress_interval_s=0.05)
    app = Paperline(settings)
    jobs = {}
    for n, doc in enumerate(DOCUMENTS):
        jobs[doc.filename] = app.submit(
            write_pdf(doc, directory), profile="retrieval", user="ann" if n < 2 else "bob"
        ).id
    run_queued(app)
    app.close()
    yield settings, jobs


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
        yield server


def open_app(indexed: tuple[Settings, dict[str, str]], **changes: object) -> Paperline:
    settings, _ = indexed
    return Paperline(dataclasses.replace(settings, anthropic_api_key_set=True, **changes))


def answering(req: Recorded) -> list[dict]:
    """An answer citing the first sentence of the first passage, then the first two of the second."""
    return [
        {"type": "text", "text": "Here is what the documents say. "},
        {"type": "text", "text": "The first fact", "citations": [cite(req, 0)]},
        {"type": "text", "text": " and the second.", "citations": [cite(req, 1, 0, 2)]},
    ]


def test_an_answer_streams_and_every_citation_maps_to_its_page_passage_and_characters(indexed, fake) -> None:  # type: ignore[no-untyped-def]
    fake.responder = answering
    app = open_app(indexed)
    question = DOCUMENTS[0].questions[0]
    events = list(app.ask_stream(question.question, user="ann"))
    kinds = [e.kind for e in events]
    assert kinds.index("citation") > max(i for i, k in enumerate(kinds) if k == "text"), "text first, then citations"
    assert kinds[-1] == "end" and "note" not in kinds
    answer = events[-1].answer
    assert answer is not None and answer.method == "model" and answer.model == app.settings.model
    assert "".join(e.text for e in events if e.kind == "text") == answer.text
    assert answer.text == "Here is what the documents say. The first fact[1] and the second.[2]"
    [req] = fake.requests
    assert req.system == SYSTEM_PROMPT and "language" in req.system and "do not hold the answer" in req.system
    hits = app.search(question.question, top_k=app.settings.ask_passages, user="ann")
    assert {h.user for h in hits} == {"ann"}, "the model sees only the asker's passages"
    assert req.prompt == question.question and len(req.search_results) == len(hits) > 2
    assert all(result["citations"] for result in req.search_results)
    assert [r["source"] for r in req.search_results] == [
        f"{h.job_id}/{h.filename}#pages={'-'.join(map(str, sorted({h.pages[0], h.pages[-1]})))}&passage={h.passage}"
        for h in hits
    ]
    first, second = (c for c in answer.citations)
    for citation, hit, blocks in ((first, hits[0], 1), (second, hits[1], 2)):
        assert (citation.job_id, citation.filename, citation.passage) == (hit.job_id, hit.filename, hit.passage)
        assert citation.pages == hit.pages and citation.page == hit.page
        text = app.result(hit.job_id, "text")
        assert text[citation.start : citation.end] == citation.cited_text, "the range is exact in the document"
        sent = req.search_results[hits.index(hit)]["content"]
        assert " ".join(citation.cited_text.split()) == " ".join(" ".join(sent[:blocks]).split())
    assert answer.text[first.answer_start : first.answer_end] == "The first fact"
    assert [e.citation for e in events if e.kind == "citation"] == [first, second]
    assert answer.input_tokens == req.input_tokens and answer.output_tokens == req.output_tokens
    assert answer.cost_usd > 0
    [usage] = app.ask_usage("ann")
    assert (usage.questions, usage.input_tokens, usage.output_tokens) == (1, req.input_tokens, req.output_tokens)
    assert json.loads(json.dumps(answer.to_dict()))["citations"][0]["pages"] == list(hits[0].pages)
    [day] = app.costs_by_day("ann")
    assert day["questions"] == 1 and day["ask_usd"] == usage.cost_usd and day["extraction_usd"] == 0


def test_citations_to_passages_not_sent_not_the_askers_or_gone_are_dropped_with_a_note(indexed, fake) -> None:  # type: ignore[no-untyped-def]
    app = open_app(indexed)
    _, jobs = indexed
    bob_job = jobs[DOCUMENTS[3].filename]
    bob_source = f"{bob_job}/{DOCUMENTS[3].filename}#pages=1&passage=0"

    def hostile_citations(req: Recorded) -> list[dict]:
        return [
            {"type": "text", "text": "Claim one.", "citations": [cite(req, 0)]},
            {"type": "text", "text": " Bob's secret.", "citations": [cite(req, 0, source=bob_source)]},
            {"type": "text", "text": " Out of range.", "citations": [cite(req, 99)]},
            {"type": "text", "text": " No such sentence.", "citations": [cite(req, 1, 0, 999)]},
            {
                "type": "text",
                "text": " A web page.",
                "citations": [
                    {
                        **cite(req, 2),
                        "type": "char_location",
                        "document_index": 0,
                        "start_char_index": 0,
                        "end_char_index": 1,
                    }
                ],
            },
        ]

    fake.responder = hostile_citations
    answer = app.ask(DOCUMENTS[1].questions[0].question, user="ann")
    assert [c.number for c in answer.citations] == [1] and answer.citations[0].job_id in jobs.values()
    assert answer.citations[0].job_id != bob_job
    assert answer.text == "Claim one.[1] Bob's secret. Out of range. No such sentence. A web page."
    assert messages.ASK_CITATION_NOT_SENT in answer.notes and len(answer.notes) == 3, "each reason noted once"
    assert any("does not have" in note for note in answer.notes)
    assert any("char_location" in note for note in answer.notes)
    assert bob_job not in json.dumps(answer.to_dict())

    # a passage whose job is deleted while Claude answers is no longer there to show
    def delete_then_cite(req: Recorded) -> list[dict]:
        job_id = req.search_results[0]["source"].split("/", 1)[0]
        app.delete(job_id, user="ann")
        return [{"type": "text", "text": "Gone.", "citations": [cite(req, 0)]}]

    fake.responder = delete_then_cite
    answer = app.ask(DOCUMENTS[1].questions[0].question, user="ann")
    assert answer.citations == [] and len(answer.notes) == 1 and "no longer there" in answer.notes[0]


def test_without_a_key_or_with_no_model_the_answer_is_extractive_and_cited(indexed, fake) -> None:  # type: ignore[no-untyped-def]
    settings, _ = indexed
    question = DOCUMENTS[2].questions[1]
    for app, note in ((Paperline(settings), [messages.ASK_NO_KEY]), (open_app(indexed), [])):
        answer = app.ask(question.question, user="bob", no_model=app.settings.anthropic_api_key_set)
        assert answer.method == "extractive" and answer.text.startswith(messages.ASK_EXTRACTIVE_LABEL)
        assert answer.notes == note and answer.input_tokens == answer.cost_usd == 0
        assert (
            1 <= len(answer.citations) <= 3
            and [c.number for c in answer.citations] == [1, 2, 3][: len(answer.citations)]
        )
        assert any(question.answer in " ".join(c.cited_text.split()) for c in answer.citations)
        for citation in answer.citations:
            assert app.result(citation.job_id, "text")[citation.start : citation.end] == citation.cited_text
            assert app.get(citation.job_id).user == "bob"
            assert f"[{citation.number}]" in answer.text
    assert fake.requests == [], "no question went to the model"
    nothing = Paperline(settings).ask("anything at all", user="carol")
    assert nothing.text == messages.ASK_NO_PASSAGES and nothing.citations == []


def test_the_daily_budget_refuses_before_the_model_is_called(indexed, fake) -> None:  # type: ignore[no-untyped-def]
    fake.responder = answering
    spent = sum(day.cost_usd for day in open_app(indexed).ask_usage("ann"))  # by the tests before this one
    budget = spent + 0.0001
    app = open_app(indexed, ask_budget_usd=budget)
    app.ask(DOCUMENTS[0].questions[0].question, user="dora")  # sees no passages: extractive, costs nothing
    assert fake.requests == [] and app.ask_usage("dora") == []
    first = app.ask(DOCUMENTS[0].questions[0].question, user="ann")
    assert first.cost_usd > 0.0001 and len(fake.requests) == 1
    with pytest.raises(AskBudgetReached) as refused:
        app.ask_stream(DOCUMENTS[0].questions[1].question, user="ann")
    assert str(refused.value) == messages.ask_budget_reached("ann", app.ask_usage("ann")[0].cost_usd, budget)
    assert "PAPERLINE_ASK_BUDGET_USD" in str(refused.value) and len(fake.requests) == 1
    assert app.ask(DOCUMENTS[0].questions[1].question, user="ann", no_model=True).method == "extractive"
    assert len(fake.requests) == 1
    with pytest.raises(InvalidRequest):
        app.ask("   ", user="ann")


def test_a_hostile_passage_is_sent_and_answered_as_plain_text(tmp_path: Path, fake) -> None:  # type: ignore[no-untyped-def]
    from tests.docgen import HOSTILE, make_hostile_pdf

    settings = Settings(home=tmp_path / "home", anthropic_api_key_set=True)
    app = Paperline(settings)
    app.submit(make_hostile_pdf(tmp_path / "hostile.pdf"), profile="retrieval")
    run_queued(app)
    fake.responder = lambda req: [
        {
            "type": "text",
            "text": "It says <b>this</b>",
            "citations": [cite(req, 0, 0, len(req.search_results[0]["content"]))],
        }
    ]
    answer = app.ask("Which script or link does the page hold?")
    assert answer.text == "It says <b>this</b>[1]", "the model's markup is kept as the text it is"
    [citation] = answer.citations
    assert all(payload in citation.cited_text for payload in HOSTILE), "the passage is sent and cited verbatim"


def test_the_ask_tab_streams_in_and_a_chip_opens_the_result_at_the_cited_passage(indexed, fake) -> None:  # type: ignore[no-untyped-def]
    from dashboard.ask import AskView, chip_label
    from dashboard.feed import JobFeed
    from dashboard.results import ResultViewer
    from dashboard.state import SessionState

    fake.responder = answering
    app = open_app(indexed)
    state = SessionState(feed=JobFeed(app), user="ann")
    view = AskView(state=state)
    shown: list[str] = []
    view._answer.param.watch(lambda event: shown.append(event.new), "object")
    view.question = DOCUMENTS[0].questions[0].question
    view.param.trigger("ask")
    answer = view.answer
    assert answer is not None and answer.method == "model" and len(answer.citations) == 2
    assert any("Here is what" in html and "Sources" not in html for html in shown[:-1]), "the text streamed in"
    assert [chip.label for chip in view._chips.objects] == [chip_label(c) for c in answer.citations]
    result = ResultViewer(state=state)
    view._chips.objects[1].clicks += 1
    second = answer.citations[1]
    assert (state.selected_job, state.selected_mark) == (second.job_id, second.cited_text)
    assert state.selected_page in second.pages
    # The Result opens at the cited page, the paragraphs holding the cited text marked (on the page too).
    document = result._document
    assert document is not None and document.page == document.canvas.page == state.selected_page
    marked = [document.layout.block(el) for el in document.canvas.marked]
    assert marked and all(block is not None and block.page == state.selected_page for block in marked)
    assert all(shares_a_run(block.text, second.cited_text) for block in marked if block is not None)
    first = answer.citations[0]  # one sentence: on one page, within one paragraph
    view._chips.objects[0].clicks += 1
    marked = [document.layout.block(el) for el in result._document.canvas.marked]
    flat = " ".join(first.cited_text.split())
    assert any(block is not None and flat in " ".join(block.text.split()) for block in marked)


def shares_a_run(text: str, cited: str, run: int = 4) -> bool:
    words, cited_words = text.split(), " ".join(cited.split())
    return any(" ".join(words[i : i + run]) in cited_words for i in range(max(1, len(words) - run + 1)))


def test_hostile_text_from_documents_and_the_model_stays_text_in_the_answer_chips_and_marks() -> None:
    from dashboard.ask import answer_html, chip_label
    from dashboard.page_layout import document_html, read_layout, split_mark
    from pipeline.service.ask import Answer, Citation
    from tests.docgen import HOSTILE

    cited = " ".join(HOSTILE)
    citation = Citation(1, "j1", "<img src=x onerror=alert('file')>.pdf", 0, (2,), 2, 0, len(cited), cited)
    answer = Answer(
        question="q",
        text="<script>alert('model')</script> [see](javascript:alert('md'))[1]",
        citations=[citation],
        notes=["<b onmouseover=alert('note')>note</b>"],
    )
    for html in (answer_html(answer.text), answer_html(answer.text, answer)):
        assert "<script" not in html and "<img" not in html and "<svg" not in html and "<b onmouseover" not in html
        assert "<a " not in html and 'href="javascript' not in html, (
            "no link is made of a document's or the model's text"
        )
        assert "&lt;script&gt;alert(&#39;model&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(&#39;file&#39;)&gt;.pdf" in answer_html(answer.text, answer)
    assert chip_label(citation) == "[1] <img src=x onerror=alert('file')>.pdf, p. 2", "a button label is shown as text"
    page_text = f"Before.\n{cited}\nAfter."
    before, marked, _after = split_mark(page_text, cited)
    assert marked == cited and before == "Before.\n"
    layout = read_layout(json.dumps({"pages": [{"page": 2, "text": page_text}]}))
    page = document_html(layout.pages, floor=88, total_pages=1, mark_page=2, mark=cited)
    assert "<script" not in page and "<img" not in page and '<mark class="pl-cited">&lt;script&gt;' in page


def _ask_together(app: Paperline, question: str, user: str, fake: FakeAnthropic, n: int = 8) -> list[object]:
    """``n`` questions asked at once, each held by the fake after its first words until every one has either
    reached the model or been refused; each one's answer or refusal."""
    start = threading.Barrier(n)

    def one() -> object:
        start.wait()
        try:
            return app.ask(question, user=user)
        except (AskBudgetReached, AskBusy) as refused:
            return refused

    fake.gate = threading.Event()
    try:
        with ThreadPoolExecutor(n) as pool:
            futures = [pool.submit(one) for _ in range(n)]
            wait_until(lambda: len(fake.requests) + sum(f.done() for f in futures) >= n, timeout=60)
            fake.gate.set()
            return [f.result(timeout=60) for f in futures]
    finally:
        fake.gate = None


def test_parallel_questions_cannot_all_pass_a_tiny_budget(indexed, fake) -> None:  # type: ignore[no-untyped-def]
    """Eight questions at once against a $0.001 budget: before, all eight were answered (148 times the budget);
    now the first reserves the most its answer may cost and the others are refused before the model."""
    fake.responder = answering
    spent = sum(day.cost_usd for day in open_app(indexed).ask_usage("bob"))
    budget = spent + 0.001
    app = open_app(indexed, ask_budget_usd=budget, ask_concurrency_per_user=8)
    outcomes = _ask_together(app, DOCUMENTS[2].questions[0].question, "bob", fake)
    answered = [o for o in outcomes if isinstance(o, Answer)]
    assert len(answered) == 1 and len(fake.requests) == 1, "one answer crossed the budget; no other was asked"
    assert all(isinstance(o, AskBudgetReached) for o in outcomes if o not in answered)
    recorded = sum(day.cost_usd for day in app.ask_usage("bob"))
    assert recorded <= budget + answered[0].cost_usd, "never above the budget plus one answer"
    hits = app.search(answered[0].question, top_k=app.settings.ask_passages, user="bob")
    reserved = max_cost(app.settings, answered[0].question, [sent_passage(hit) for hit in hits])
    assert 0.001 < answered[0].cost_usd <= reserved, "what was reserved covers what the answer cost"


def test_at_most_two_answers_of_one_user_are_under_way(indexed, fake) -> None:  # type: ignore[no-untyped-def]
    fake.responder = answering
    app = open_app(indexed)
    outcomes = _ask_together(app, DOCUMENTS[3].questions[0].question, "bob", fake)
    busy = [o for o in outcomes if isinstance(o, AskBusy)]
    assert sum(isinstance(o, Answer) for o in outcomes) == 2 and len(busy) == 6 and len(fake.requests) == 2
    assert busy[0].retry_after_s > 0 and str(busy[0]) == messages.ask_busy("bob", 2)
    assert app.ask(DOCUMENTS[3].questions[0].question, user="bob").method == "model", "both places freed at the end"


def test_a_question_holding_control_characters_is_cleaned_and_a_lone_surrogate_is_refused(indexed, fake) -> None:  # type: ignore[no-untyped-def]
    app = open_app(indexed)
    question = DOCUMENTS[0].questions[0].question
    answer = app.ask('"' + question.replace(" ", "\x00", 2) + "\x00", user="ann", no_model=True)
    assert answer.method == "extractive" and answer.citations, "NUL broke the keyword index's query (FTS5)"
    assert app.search("warranty\x00 \x1b[31m", user="ann", mode="keyword") is not None
    for bad in ("what is \ud800 this", "\udfff"):
        with pytest.raises(InvalidRequest, match="lone UTF-16 surrogate"):
            app.ask(bad, user="ann", no_model=True)
        with pytest.raises(InvalidRequest, match="lone UTF-16 surrogate"):
            app.search(bad, user="ann", mode="keyword")
    problem = problem_for(AskBusy(messages.ask_busy("ann", 2)))
    assert problem is not None and (problem.status, problem.retry_after) == (429, AskBusy.retry_after_s)
