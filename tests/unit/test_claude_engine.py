"""The claude engine through the real anthropic SDK against the fake Messages API on 127.0.0.1 (in process)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline import ChunkStatus, JobStatus, Paperline
from pipeline.core.errors import EngineUnavailable, InvalidRequest
from pipeline.core.settings import Settings
from pipeline.engines.pricing import DEFAULT_PRICES, estimate_cost
from tests.docgen import make_photo, make_text_pdf
from tests.fake_anthropic import FakeAnthropic, Recorded
from tests.sync_runner import run_queued


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
        yield fake


@pytest.fixture
def claude_app(tmp_path: Path, server: FakeAnthropic) -> Iterator[Paperline]:
    settings = Settings(
        home=tmp_path / "home",
        anthropic_api_key_set=True,
        llm_max_retries=2,
        progress_interval_s=0.05,
        large_chunk_pages=15,
        overlap_pages=1,
    )
    app = Paperline(settings)
    yield app
    app.close()


def pages_owned(request: Recorded) -> tuple[int, int]:
    first, last = re.search(r"Extract only pages (\d+)-(\d+)", request.prompt).groups()  # type: ignore[union-attr]
    return int(first), int(last)


def has_page(request: Recorded, page: int) -> bool:
    return any(f"Page {page} line 1:" in text for text in request.pdf_pages)


def test_every_chunk_reaches_the_api_once_and_merges_in_page_order(
    claude_app: Paperline, server: FakeAnthropic, tmp_path: Path
) -> None:
    job = claude_app.submit(make_text_pdf(tmp_path / "long.pdf", 120), engine="claude", profile="markdown")
    run_queued(claude_app)
    job = claude_app.get(job.id)
    assert job.status is JobStatus.COMPLETED, job.error
    assert job.chunks_total == 8 and len(server.requests) == 8
    owned = sorted(pages_owned(r) for r in server.requests)
    assert owned == [(1 + 15 * i, min(120, 15 * (i + 1))) for i in range(8)]
    for request in server.requests:
        first, last = pages_owned(request)
        assert request.stream and len(request.pdf_pages) == (last - first + 1) + (first > 1) + (last < 120)
        assert all(has_page(request, p) for p in range(first, last + 1))
    text = claude_app.result(job.id, "markdown")
    positions = [text.index(f"Page {p} line 1:") for p in range(1, 121)]
    assert positions == sorted(positions), "pages out of order"
    assert all(text.count(f"Page {p} line 1:") == 1 for p in range(1, 121)), "a page repeated at a chunk border"


def test_overloaded_then_success_is_retried_by_the_sdk(claude_app: Paperline, server: FakeAnthropic, tmp_path: Path):
    server.fail(529, times=1, retry_after="0")
    job = claude_app.submit(make_text_pdf(tmp_path / "a.pdf", 5), engine="claude")
    run_queued(claude_app)
    assert claude_app.get(job.id).status is JobStatus.COMPLETED
    assert [r.status for r in server.requests] == [529, 200]


def test_a_permanent_500_leaves_a_partial_result_and_retry_completes_it(
    claude_app: Paperline, server: FakeAnthropic, tmp_path: Path
) -> None:
    server.fail(500, times=None, when=lambda r: has_page(r, 20), retry_after="0", message="upstream exploded")
    pdf = make_text_pdf(tmp_path / "b.pdf", 45)  # 20-page chunks: 1-20, 21-40, 41-45 (overlap puts 20 in chunk 2 too)
    job = claude_app.submit(pdf, engine="claude")
    run_queued(claude_app)
    job = claude_app.get(job.id)
    assert job.status is JobStatus.FAILED and job.chunks_failed == 2 and job.chunks_done == 1
    assert "upstream exploded" in job.error and "500" in job.error
    partial = json.loads(claude_app.result(job.id, "json"))["pages"]
    assert [p["page"] for p in partial] == list(range(41, 46))
    done_before = [r for r in server.requests if r.status == 200]
    assert len(done_before) == 1 and all(r.status == 500 for r in server.requests if r.status != 200)
    assert len([r for r in server.requests if r.status == 500]) == 2 * 3  # SDK: 1 try + 2 retries per chunk

    server.clear_failures()
    claude_app.retry(job.id)
    run_queued(claude_app)
    job = claude_app.get(job.id)
    assert job.status is JobStatus.COMPLETED and job.chunks_failed == 0
    retried = [pages_owned(r) for r in server.requests[len(done_before) + 6 :]]
    assert sorted(retried) == [(1, 20), (21, 40)], "only the failed chunks are sent again"
    assert "Page 45 line 1:" in claude_app.result(job.id, "markdown")


def test_a_bad_key_fails_fast_with_a_plain_message(claude_app: Paperline, server: FakeAnthropic, tmp_path: Path):
    server.fail(401, times=None, message="invalid x-api-key")
    job = claude_app.submit(make_text_pdf(tmp_path / "c.pdf", 3), engine="claude")
    run_queued(claude_app)
    job = claude_app.get(job.id)
    assert job.status is JobStatus.FAILED
    assert "rejected the API key (401)" in job.error and "ANTHROPIC_API_KEY" in job.error
    assert len(server.requests) == 1, "a bad key must not be retried"
    assert claude_app.chunks(job.id)[0].attempts == 1


def test_token_totals_and_cost_match_what_the_server_reported(
    claude_app: Paperline, server: FakeAnthropic, tmp_path: Path
) -> None:
    job = claude_app.submit(make_text_pdf(tmp_path / "d.pdf", 70), engine="claude")
    run_queued(claude_app)
    job = claude_app.get(job.id)
    assert job.input_tokens == sum(r.input_tokens for r in server.requests) > 0
    assert job.output_tokens == sum(r.output_tokens for r in server.requests) > 0
    chunks = claude_app.chunks(job.id)
    assert sum(c.input_tokens for c in chunks) == job.input_tokens
    expected = sum(estimate_cost("claude-sonnet-4-6", c.input_tokens, c.output_tokens, DEFAULT_PRICES) for c in chunks)
    assert job.cost_usd == pytest.approx(expected) and job.cost_usd > 0
    frame = claude_app.jobs_frame()
    assert frame.loc[frame["id"] == job.id, "cost_usd"].item() == pytest.approx(job.cost_usd)


def test_an_error_in_the_middle_of_a_stream_retries_the_whole_chunk(
    claude_app: Paperline, server: FakeAnthropic, tmp_path: Path
) -> None:
    server.fail_stream_midway(times=1)
    job = claude_app.submit(make_text_pdf(tmp_path / "e.pdf", 4), engine="claude")
    run_queued(claude_app)
    job = claude_app.get(job.id)
    assert job.status is JobStatus.COMPLETED and len(server.requests) == 2
    text = claude_app.result(job.id, "markdown")
    assert text.count("Page 1 line 1:") == 1, "the partial answer was kept"


def table_answer(valid: bool):  # type: ignore[no-untyped-def]
    def respond(request: Recorded) -> str:
        first, last = pages_owned(request)
        body = '[{"table": "fees", "item": "audit", "amount": "1200"}]' if valid else "[{'not': json"
        return "".join(f'<page number="{p}">\n{body}\n</page>\n' for p in range(first, last + 1))

    return respond


def test_tables_preset_gives_rows_as_json_and_csv(claude_app: Paperline, server: FakeAnthropic, tmp_path: Path):
    server.responder = table_answer(valid=True)
    job = claude_app.submit(make_text_pdf(tmp_path / "t.pdf", 2), engine="claude", profile="tables")
    run_queued(claude_app)
    assert claude_app.get(job.id).status is JobStatus.COMPLETED
    rows = json.loads(claude_app.result(job.id, "json"))["rows"]
    assert rows == [
        {"page": 1, "table": "fees", "item": "audit", "amount": "1200"},
        {"page": 2, "table": "fees", "item": "audit", "amount": "1200"},
    ]
    assert claude_app.result(job.id, "csv").splitlines()[0] == "page,table,item,amount"


def test_a_registered_profile_says_what_claude_is_asked_and_how_its_answer_reads(
    claude_app: Paperline, server: FakeAnthropic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine asks the profile (``model_task``, ``model_rows``), never compares preset names: a plug-in's
    profile of rows gets its own instruction sent and its answers checked as rows."""
    from dataclasses import replace

    from pipeline.profiles import registry
    from pipeline.profiles.presets import TABLES

    monkeypatch.setattr(registry, "_profiles", dict(registry._profiles))
    registry.register(replace(TABLES, name="invoices", model_task="List every invoice line as a JSON array."))
    server.responder = table_answer(valid=True)
    job = claude_app.submit(make_text_pdf(tmp_path / "i.pdf", 2), engine="claude", profile="invoices")
    run_queued(claude_app)
    assert claude_app.get(job.id).status is JobStatus.COMPLETED
    assert "List every invoice line as a JSON array." in server.requests[0].prompt
    assert "Transcribe" not in server.requests[0].prompt
    server.responder = table_answer(valid=False)
    # (three pages: the same two pages made in the same second would be the same bytes, answered from the cache)
    failed = claude_app.submit(make_text_pdf(tmp_path / "j.pdf", 3), engine="claude", profile="invoices")
    run_queued(claude_app)
    assert "not valid JSON" in claude_app.get(failed.id).error, "a profile of rows has its answers checked as rows"


def test_invalid_json_is_retried_once_then_failed_with_the_raw_answer_kept(
    claude_app: Paperline, server: FakeAnthropic, tmp_path: Path
) -> None:
    server.responder = table_answer(valid=False)
    job = claude_app.submit(make_text_pdf(tmp_path / "t.pdf", 2), engine="claude", profile="timetable")
    run_queued(claude_app)
    job = claude_app.get(job.id)
    assert job.status is JobStatus.FAILED and "not valid JSON" in job.error
    assert len(server.requests) == 2
    assert "That answer cannot be used" in server.requests[1].prompt
    raw = claude_app.files(job.id).read("chunks/00000.raw.txt")
    assert raw and "{'not': json" in raw.decode()
    assert claude_app.chunks(job.id)[0].status is ChunkStatus.FAILED


def test_images_are_sent_at_most_1568_px(claude_app: Paperline, server: FakeAnthropic) -> None:
    job = claude_app.submit(make_photo((3000, 2000)), "photo.jpg", engine="claude")
    run_queued(claude_app)
    job = claude_app.get(job.id)
    assert job.status is JobStatus.COMPLETED, job.error
    assert server.requests[0].image_sizes == [(1568, 1045)]
    assert any("Image sent to Claude at 1568x1045" in note for note in job.notes)


def test_custom_instruction_reaches_the_prompt(claude_app: Paperline, server: FakeAnthropic, tmp_path: Path) -> None:
    pdf = make_text_pdf(tmp_path / "f.pdf", 1)
    with pytest.raises(InvalidRequest, match="needs an instruction"):
        claude_app.submit(pdf, engine="claude", profile="custom")
    job = claude_app.submit(pdf, engine="claude", profile="custom", instruction="List every budget figure.")
    run_queued(claude_app)
    assert claude_app.get(job.id).status is JobStatus.COMPLETED
    assert "List every budget figure." in server.requests[0].prompt


def test_without_a_key_claude_is_refused_with_the_reason(tmp_path: Path) -> None:
    app = Paperline(Settings(home=tmp_path / "home"))
    assert "ANTHROPIC_API_KEY" in app.engines()["claude"] and app.engines()["local"] == ""
    with pytest.raises(EngineUnavailable, match="ANTHROPIC_API_KEY"):
        app.submit(make_text_pdf(tmp_path / "g.pdf", 1), engine="claude")
    with pytest.raises(InvalidRequest, match="for the local engine"):
        app.submit(make_text_pdf(tmp_path / "g.pdf", 1), profile="tables")


def blocks(pages: range | list[int], text: str = "Text of page {page}.") -> str:
    return "".join(f'<page number="{page}">\n{text.format(page=page)}\n</page>\n' for page in pages)


def test_an_answer_without_page_blocks_is_asked_again_then_kept_whole(
    claude_app: Paperline, server: FakeAnthropic, tmp_path: Path
) -> None:
    server.responder = lambda request: "# Budget\n\nThe figures of every page, in one answer."
    job = claude_app.submit(
        make_text_pdf(tmp_path / "b.pdf", 3), engine="claude", profile="custom", instruction="List the figures."
    )
    run_queued(claude_app)
    job = claude_app.get(job.id)
    assert job.status is JobStatus.COMPLETED, job.error
    assert len(server.requests) == 2 and "no block for pages 1, 2, 3" in server.requests[1].prompt
    pages = json.loads(claude_app.result(job.id, "json"))["pages"]
    assert [p["text"] for p in pages] == ["# Budget\n\nThe figures of every page, in one answer.", "", ""]
    assert any("without page blocks" in note and "kept whole under page 1" in note for note in job.notes)
    raw = (claude_app.files(job.id).read("chunks/00000.raw.txt") or b"").decode()
    assert raw.count("The figures of every page") == 2 and "asked again" in raw


def test_missing_pages_are_asked_for_once_and_what_came_back_is_kept(
    claude_app: Paperline, server: FakeAnthropic, tmp_path: Path
) -> None:
    def respond(request: Recorded) -> str:
        if "That answer cannot be used" in request.prompt:
            return blocks([2], "Page two, asked for again.")
        return blocks([1, 3, 4])  # no block for page 2

    server.responder = respond
    job = claude_app.submit(make_text_pdf(tmp_path / "m.pdf", 4), engine="claude")
    run_queued(claude_app)
    job = claude_app.get(job.id)
    assert job.status is JobStatus.COMPLETED, job.error
    assert "no block for page 2" in server.requests[1].prompt and "pages 2 only" in server.requests[1].prompt
    texts = [p["text"] for p in json.loads(claude_app.result(job.id, "json"))["pages"]]
    assert texts == ["Text of page 1.", "Page two, asked for again.", "Text of page 3.", "Text of page 4."]
    assert not [n for n in job.notes if "Claude" in n], "nothing is missing, so nothing to note"

    server.responder = lambda request: blocks([1, 3])  # page 2 never comes back
    job = claude_app.submit(make_text_pdf(tmp_path / "n.pdf", 3), engine="claude")
    run_queued(claude_app)
    job = claude_app.get(job.id)
    assert job.status is JobStatus.COMPLETED, job.error
    texts = [p["text"] for p in json.loads(claude_app.result(job.id, "json"))["pages"]]
    assert texts == ["Text of page 1.", "", "Text of page 3."]
    assert any("left page 2 empty after asking again" in note for note in job.notes)


def test_an_empty_answer_fails_with_the_raw_answer_kept(
    claude_app: Paperline, server: FakeAnthropic, tmp_path: Path
) -> None:
    server.responder = lambda request: "   "
    job = claude_app.submit(make_text_pdf(tmp_path / "e.pdf", 2), engine="claude")
    run_queued(claude_app)
    job = claude_app.get(job.id)
    assert job.status is JobStatus.FAILED and "could not be used: the answer was empty" in job.error
    assert len(server.requests) == 2 and job.input_tokens > 0, "the tokens paid are recorded"
    assert claude_app.files(job.id).exists("chunks/00000.raw.txt")


def test_the_timetable_preset_gives_rows_with_its_columns(
    claude_app: Paperline, server: FakeAnthropic, tmp_path: Path
) -> None:
    entry = {"day": "Mon", "start": "09:00", "end": "10:30", "subject": "Statistics", "place": "Room 4", "teacher": "N"}
    rows_json = json.dumps([entry])
    server.responder = lambda request: "".join(f'<page number="{p}">{rows_json}</page>' for p in (1, 2))
    job = claude_app.submit(make_text_pdf(tmp_path / "week.pdf", 2), engine="claude", profile="timetable")
    run_queued(claude_app)
    assert claude_app.get(job.id).status is JobStatus.COMPLETED
    assert (
        "timetable on each page" in server.requests[0].prompt and '"day", "start", "end"' in server.requests[0].prompt
    )
    rows = json.loads(claude_app.result(job.id, "json"))["rows"]
    assert rows == [{"page": 1, **entry}, {"page": 2, **entry}]
    csv_lines = claude_app.result(job.id, "csv").splitlines()
    assert csv_lines[0] == "page,day,start,end,subject,place,teacher"
    assert csv_lines[1] == "1,Mon,09:00,10:30,Statistics,Room 4,N"


def test_a_refused_request_fails_at_once_without_retries(
    claude_app: Paperline, server: FakeAnthropic, tmp_path: Path
) -> None:
    server.fail(400, times=None, message="messages: too many images")
    job = claude_app.submit(make_text_pdf(tmp_path / "r.pdf", 3), engine="claude")
    run_queued(claude_app)
    job = claude_app.get(job.id)
    assert job.status is JobStatus.FAILED and len(server.requests) == 1, "a 400 is not retried"
    assert "The Claude API refused this chunk as invalid (400)" in job.error and "too many images" in job.error


def test_a_chunk_over_the_request_caps_is_refused_before_sending(tmp_path: Path, server: FakeAnthropic) -> None:
    settings = Settings(home=tmp_path / "home", anthropic_api_key_set=True, medium_max_pages=100, large_chunk_pages=110)
    app = Paperline(settings)
    job = app.submit(make_text_pdf(tmp_path / "big.pdf", 120), engine="claude")  # pages 1-110 (+1), 111-120
    run_queued(app)
    job = app.get(job.id)
    assert job.status is JobStatus.FAILED and job.chunks_failed == 1 and job.chunks_done == 1
    assert [pages_owned(r) for r in server.requests] == [(111, 120)], "the oversized chunk was never sent"
    assert "is 111 pages" in job.error and "over the API's 100 pages / 32 MB per request" in job.error
    assert "lower PAPERLINE_LARGE_CHUNK_PAGES" in job.error
    app.close()


def test_progress_moves_within_a_streamed_chunk(tmp_path: Path, server: FakeAnthropic) -> None:
    import threading

    from tests.helpers import wait_until

    server.responder = lambda request: blocks(range(1, 21), "p{page}")
    server.delta_delay_s = 0.05  # an answer that streams for about a second, on any machine
    app = Paperline(Settings(home=tmp_path / "home", anthropic_api_key_set=True, progress_interval_s=0.02))
    job = app.submit(make_text_pdf(tmp_path / "one-chunk.pdf", 20), engine="claude")
    runner = threading.Thread(target=run_queued, args=(app,))
    runner.start()
    seen: set[int] = set()

    def finished() -> bool:
        seen.update(c.pages_done for c in app.chunks(job.id) if c.status is ChunkStatus.RUNNING)
        return app.get(job.id).is_final

    wait_until(finished, timeout=60, interval=0.01, what="the job to end")
    runner.join(timeout=30)
    assert app.get(job.id).status is JobStatus.COMPLETED
    assert len({n for n in seen if 0 < n < 20}) >= 3, f"pages done seen while the answer streamed: {sorted(seen)}"
    app.close()
