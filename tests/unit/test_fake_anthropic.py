"""The fake Anthropic server speaks the wire format the real SDK expects: answers, streams, retries, errors."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import pytest

from tests.docgen import make_text_image, make_text_pdf
from tests.fake_anthropic import FakeAnthropic, Recorded
from tests.helpers import wait_until

PROMPT = "The attached PDF holds pages 5-7 of the whole document. Extract only pages 5-7."
MODEL = "claude-test"


@pytest.fixture
def server() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        yield fake


def client_for(server: FakeAnthropic, max_retries: int = 0) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="test", base_url=server.base_url, max_retries=max_retries, timeout=20)


def pdf_messages(path: Path, prompt: str = PROMPT) -> list[dict[str, Any]]:
    data = base64.b64encode(path.read_bytes()).decode()
    document = {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": data}}
    return [{"role": "user", "content": [document, {"type": "text", "text": prompt}]}]


@pytest.fixture
def messages(tmp_path: Path) -> list[dict[str, Any]]:
    return pdf_messages(make_text_pdf(tmp_path / "x.pdf", 3))


def test_create_returns_the_owned_pages_with_usage(server: FakeAnthropic, messages: list[dict[str, Any]]) -> None:
    client = client_for(server)
    try:
        message = client.messages.create(model=MODEL, max_tokens=1000, system="be exact", messages=messages)
    finally:
        client.close()
    text = message.content[0].text
    assert '<page number="6">' in text and "Page 2 line 1" in text
    assert text.index('<page number="5">') < text.index("Page 1 line 1") < text.index('<page number="6">')
    assert message.id == "msg_fake_1" and message.stop_reason == "end_turn" and message.model == MODEL
    [req] = server.requests
    assert (req.index, req.stream, req.max_tokens, req.system, req.status) == (1, False, 1000, "be exact", 200)
    assert len(req.pdf_pages) == 3 and req.prompt == PROMPT
    assert req.input_tokens == message.usage.input_tokens == 100 + 50 * 3 + len(PROMPT) // 4
    assert req.output_tokens == message.usage.output_tokens == len(text) // 4


def test_stream_yields_the_same_text_and_usage(server: FakeAnthropic, messages: list[dict[str, Any]]) -> None:
    client = client_for(server)
    try:
        plain = client.messages.create(model=MODEL, max_tokens=1000, messages=messages).content[0].text
        with client.messages.stream(model=MODEL, max_tokens=1000, messages=messages) as stream:
            pieces = list(stream.text_stream)
            final = stream.get_final_message()
    finally:
        client.close()
    assert len(pieces) > 3 and "".join(pieces) == plain == final.content[0].text
    last = server.requests[-1]
    assert last.stream and last.status == 200 and final.stop_reason == "end_turn"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (last.input_tokens, last.output_tokens)


def test_image_request_is_recorded_with_its_size(server: FakeAnthropic) -> None:
    data = base64.b64encode(make_text_image("hello", size=(640, 120))).decode()
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}}
    client = client_for(server)
    try:
        message = client.messages.create(
            model=MODEL,
            max_tokens=100,
            messages=[{"role": "user", "content": [image, {"type": "text", "text": "Read"}]}],
        )
    finally:
        client.close()
    assert message.content[0].text == '<page number="1">\nimage text\n</page>\n'
    [req] = server.requests
    assert req.image_sizes == [(640, 120)] and req.pdf_pages == [] and req.input_tokens == 100 + 200 + 1


def test_overloaded_once_is_retried_by_the_sdk(server: FakeAnthropic, messages: list[dict[str, Any]]) -> None:
    server.fail(529, retry_after="0")
    client = client_for(server, max_retries=2)
    try:
        message = client.messages.create(model=MODEL, max_tokens=1000, messages=messages)
    finally:
        client.close()
    assert "Page 3 line 1" in message.content[0].text
    assert [r.status for r in server.requests] == [529, 200]
    assert (server.requests[0].input_tokens, server.requests[0].output_tokens) == (0, 0)


def test_authentication_error_is_not_retried(server: FakeAnthropic, messages: list[dict[str, Any]]) -> None:
    server.fail(401, times=None, message="invalid x-api-key")
    client = client_for(server, max_retries=3)
    try:
        with pytest.raises(anthropic.AuthenticationError) as caught:
            client.messages.create(model=MODEL, max_tokens=1000, messages=messages)
    finally:
        client.close()
    assert len(server.requests) == 1 and server.requests[0].status == 401
    assert caught.value.type == "authentication_error" and caught.value.api_message == "invalid x-api-key"
    assert caught.value.request_id == "req_fake_1"


def test_when_predicate_fails_only_the_matching_chunk(server: FakeAnthropic, tmp_path: Path) -> None:
    server.fail(400, times=None, when=lambda r: any("Page 2 line 1" in p for p in r.pdf_pages))
    good, bad = make_text_pdf(tmp_path / "a.pdf", 1), make_text_pdf(tmp_path / "b.pdf", 2)
    prompt = "The attached PDF holds pages 1-2 of the whole document. Extract only pages 1-1."
    client = client_for(server, max_retries=2)
    try:
        for _ in range(2):
            with pytest.raises(anthropic.BadRequestError):
                client.messages.create(model=MODEL, max_tokens=100, messages=pdf_messages(bad, prompt))
        ok = client.messages.create(model=MODEL, max_tokens=100, messages=pdf_messages(good, prompt))
    finally:
        client.close()
    assert ok.content[0].text.startswith('<page number="1">\nPage 1 line 1')
    assert [r.status for r in server.requests] == [400, 400, 200]


def test_midstream_error_raises_during_iteration(server: FakeAnthropic, messages: list[dict[str, Any]]) -> None:
    server.fail_stream_midway()
    client = client_for(server, max_retries=2)
    received: list[str] = []
    try:
        with (
            pytest.raises(anthropic.APIStatusError) as caught,
            client.messages.stream(model=MODEL, max_tokens=1000, messages=messages) as stream,
        ):
            received.extend(stream.text_stream)
        again = client.messages.create(model=MODEL, max_tokens=1000, messages=messages)
    finally:
        client.close()
    assert len(received) == 1 and caught.value.type == "overloaded_error"
    assert "Page 3 line 1" in again.content[0].text
    first, second = server.requests
    assert (first.stream, first.status, first.output_tokens) == (True, 200, 0) and second.status == 200


def test_delay_lets_requests_overlap(messages: list[dict[str, Any]]) -> None:
    seen: list[Recorded] = []
    # Every request waits here for the other two, so they overlap however loaded the machine is.
    all_arrived = threading.Barrier(3, timeout=10)

    def respond(request: Recorded) -> str:
        seen.append(request)
        all_arrived.wait()
        return "ok"

    with FakeAnthropic(delay_s=0.5, responder=respond) as server:
        client = client_for(server)
        errors: list[BaseException] = []

        def call() -> None:
            try:
                client.messages.create(model=MODEL, max_tokens=10, messages=messages)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=call) for _ in range(3)]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(10)
        finally:
            client.close()
        assert not errors and server.max_in_flight == 3
        # The handler counts a request done after the client has its answer: wait for the count, bounded.
        wait_until(lambda: server.in_flight == 0, timeout=5, what="the fake to finish its handlers")
        assert sorted(r.index for r in server.requests) == [1, 2, 3] and len(seen) == 3
