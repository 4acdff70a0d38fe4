"""A fake Anthropic Messages API on 127.0.0.1 for tests driven by the real ``anthropic`` SDK.

Why a wire-level fake rather than mocking the client: Paperline's retry, streaming, usage accounting and
error handling all live in (or lean on) the SDK, so only real HTTP with the real JSON/SSE shapes exercises
them. The wire format mirrors ``anthropic/_streaming.py`` (``event:``/``data:`` SSE, ``event: error``) and
``anthropic/_base_client.py`` (status-based retries, ``retry-after``, ``request-id``).

A responder answers with a string (one text block), or with content blocks: ``{"type": "text", "text": ...,
"citations": [...]}`` as the Messages API returns them when citations are on (``cite`` makes a
``search_result_location``). Streamed, a block with citations is sent as the API documents it: ``content_block_start``
with an empty text block, a ``citations_delta`` per citation, then its ``text_delta``s and ``content_block_stop``.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image
from pypdf import PdfReader

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
CONTEXT_RE = re.compile(r"The attached PDF holds pages (\d+)\s*-\s*(\d+) of the whole document")
OWNED_RE = re.compile(r"Extract only pages (\d+)\s*-\s*(\d+)")
DELTA_CHARS = 40


@dataclass(frozen=True)
class Recorded:
    """One request as the fake saw it, and what it answered (so tests can check usage accounting)."""

    index: int
    model: str
    stream: bool
    max_tokens: int
    system: str
    prompt: str
    pdf_pages: list[str]
    image_sizes: list[tuple[int, int]]
    status: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    #: the ``search_result`` blocks sent, in order: {"source", "title", "content": [text of each block], "citations"}
    search_results: list[dict[str, Any]] = field(default_factory=list)


Block = dict[str, Any]
Responder = Callable[[Recorded], "str | list[Block]"]
Predicate = Callable[[Recorded], bool]


@dataclass
class _Rule:
    """A failure to inject; ``times`` None means forever. ``status`` None means "fail the stream midway"."""

    status: int | None
    times: int | None
    when: Predicate | None
    retry_after: str | None
    message: str | None


def default_responder(req: Recorded) -> str:
    """Echo the owned pages' PDF text in Paperline's ``<page number="N">`` format, so output order is checkable."""
    if not req.pdf_pages:
        return '<page number="1">\nimage text\n</page>\n'
    context, owned = CONTEXT_RE.search(req.prompt), OWNED_RE.search(req.prompt)
    first = int(context.group(1)) if context else 1
    start, end = (int(owned.group(1)), int(owned.group(2))) if owned else (first, first + len(req.pdf_pages) - 1)
    out = []
    for number in range(start, end + 1):
        offset = number - first
        text = req.pdf_pages[offset] if 0 <= offset < len(req.pdf_pages) else ""
        out.append(f'<page number="{number}">\n{text}\n</page>\n')
    return "".join(out)


def _text(value: Any) -> str:
    """Text of a ``str`` or a list of content blocks (the two shapes the API accepts for system and content)."""
    if isinstance(value, str):
        return value
    return "\n".join(b.get("text", "") for b in value or [] if isinstance(b, dict) and b.get("type") == "text")


def parse_request(index: int, body: dict[str, Any]) -> Recorded:
    """Turn a /v1/messages body into a Recorded (status and tokens still unset)."""
    texts: list[str] = []
    pages: list[str] = []
    sizes: list[tuple[int, int]] = []
    results: list[dict[str, Any]] = []
    for message in body.get("messages", []):
        content = message.get("content", "")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        for block in blocks:
            source = block.get("source") or {}
            if block.get("type") == "text":
                texts.append(block.get("text", ""))
            elif block.get("type") == "search_result":
                if not block.get("content") or any(not part.get("text") for part in block["content"]):
                    raise ValueError("a search_result's content must be non-empty text blocks")
                results.append(
                    {
                        "source": block["source"],
                        "title": block["title"],
                        "content": [part["text"] for part in block["content"]],
                        "citations": bool((block.get("citations") or {}).get("enabled")),
                    }
                )
            elif source.get("type") != "base64":
                continue
            elif block.get("type") == "document" and source.get("media_type") == "application/pdf":
                reader = PdfReader(io.BytesIO(base64.b64decode(source["data"])))
                pages.extend((page.extract_text() or "").strip() for page in reader.pages)
            elif block.get("type") == "image":
                with Image.open(io.BytesIO(base64.b64decode(source["data"]))) as image:
                    sizes.append(image.size)
    return Recorded(
        index=index,
        model=str(body.get("model", "")),
        stream=bool(body.get("stream", False)),
        max_tokens=int(body.get("max_tokens", 0)),
        system=_text(body.get("system", "")),
        prompt="\n".join(texts),
        pdf_pages=pages,
        image_sizes=sizes,
        search_results=results,
    )


def cite(req: Recorded, index: int, first: int = 0, last: int | None = None, *, source: str | None = None) -> Block:
    """A ``search_result_location`` citing blocks ``first``..``last`` (exclusive; one block by default) of the
    ``index``-th search result sent, as the API returns it (``source`` overrides the one sent)."""
    last = first + 1 if last is None else last
    sent = req.search_results[index] if 0 <= index < len(req.search_results) else {"title": "", "content": []}
    return {
        "type": "search_result_location",
        "source": source if source is not None else sent.get("source", ""),
        "title": sent["title"],
        "search_result_index": index,
        "start_block_index": first,
        "end_block_index": last,
        "cited_text": "".join(sent["content"][first:last]),
    }


class FakeAnthropic:
    """The fake server: ``with FakeAnthropic() as server: Anthropic(api_key="test", base_url=server.base_url)``."""

    def __init__(self, responder: Responder | None = None, *, delay_s: float = 0.0, delta_delay_s: float = 0.0) -> None:
        """``delay_s`` is the latency of every answer counted from the request's arrival; ``delta_delay_s`` a pause
        between streamed text deltas."""
        self.responder: Responder = responder or default_responder
        self.delay_s = delay_s
        self.delta_delay_s = delta_delay_s
        #: when set to an Event, a stream holds after its first text delta until the test sets it (bounded): proof
        #: that a caller shows the answer while it is still being written
        self.gate: threading.Event | None = None
        #: request index -> when (``time.monotonic()``) its first text delta was written: a caller's latency from
        #: the model's first token
        self.first_text_at: dict[int, float] = {}
        self.requests: list[Recorded] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        self._count = 0
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.fake = self  # type: ignore[attr-defined]
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def __enter__(self) -> FakeAnthropic:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting requests and join the serving thread (bounded; handler threads are daemons)."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout)

    def fail(
        self,
        status: int,
        times: int | None = 1,
        when: Predicate | None = None,
        retry_after: float | str | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with an API error (``when`` picks e.g. one chunk)."""
        after = None if retry_after is None else str(retry_after)
        with self._lock:
            self._rules.append(_Rule(status, times, when, after, message))

    def clear_failures(self) -> None:
        """Forget every failure rule: the API is healthy again."""
        with self._lock:
            self._rules.clear()

    def fail_stream_midway(self, times: int | None = 1, when: Predicate | None = None) -> None:
        """Break the next ``times`` matching *streaming* requests with an SSE ``error`` after one delta."""
        with self._lock:
            self._rules.append(_Rule(None, times, when, None, None))

    def _next_index(self) -> int:
        with self._lock:
            self._count += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return self._count

    def _done(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _match(self, req: Recorded) -> _Rule | None:
        """First live rule that applies, consuming one of its ``times``; evaluated in the order rules were added."""
        with self._lock:
            for rule in self._rules:
                if rule.times == 0 or (rule.status is None and not req.stream):
                    continue
                if rule.when is None or rule.when(req):
                    if rule.times is not None:
                        rule.times -= 1
                    return rule
        return None

    def _record(self, req: Recorded) -> None:
        with self._lock:
            self.requests.append(req)


class _Handler(BaseHTTPRequestHandler):
    """Serves POST /v1/messages; every response closes its connection so no idle keep-alive threads linger."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass

    def do_POST(self) -> None:
        fake: FakeAnthropic = self.server.fake  # type: ignore[attr-defined]
        index = fake._next_index()
        try:
            self._serve(fake, index)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout, closed stream)
            pass
        finally:
            fake._done()

    def _serve(self, fake: FakeAnthropic, index: int) -> None:
        arrived = time.monotonic()
        try:
            req = parse_request(index, json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0))))
        except Exception as exc:  # a malformed request is a bug in the caller: say so like the API would
            fake._record(Recorded(index, "", False, 0, "", "", [], [], status=400))
            return self._error(index, 400, f"Fake could not parse the request: {exc!r}", None)
        if self.path.split("?")[0] != "/v1/messages":
            fake._record(dataclasses.replace(req, status=404))
            return self._error(index, 404, f"Not found: {self.path}", None)
        rule = fake._match(req)
        if fake.delay_s:  # a fixed latency from arrival: the fake's own parsing is not the API's time
            time.sleep(max(0.0, fake.delay_s - (time.monotonic() - arrived)))
        if rule is not None and rule.status is not None:
            fake._record(dataclasses.replace(req, status=rule.status))
            return self._error(index, rule.status, rule.message, rule.retry_after)
        try:
            answer = fake.responder(req)
        except Exception as exc:  # surface a broken test responder in the client's error message
            fake._record(dataclasses.replace(req, status=500))
            return self._error(index, 500, f"Fake responder failed: {exc!r}", None)
        blocks: list[Block] = [{"type": "text", "text": answer}] if isinstance(answer, str) else answer
        searched = sum(len(part) for result in req.search_results for part in result["content"])
        usage_in = 100 + 50 * len(req.pdf_pages) + len(req.prompt) // 4 + 200 * len(req.image_sizes) + searched // 4
        usage_out = max(1, sum(len(block["text"]) for block in blocks) // 4)
        if rule is not None:  # mid-stream failure: the caller never gets a final message, so no usage counted
            fake._record(dataclasses.replace(req, status=200))
            return self._stream(fake, index, req, blocks, (usage_in, None))
        fake._record(dataclasses.replace(req, status=200, input_tokens=usage_in, output_tokens=usage_out))
        if req.stream:
            return self._stream(fake, index, req, blocks, (usage_in, usage_out))
        message = _message(index, req.model, blocks, usage_in, usage_out)
        message["stop_reason"] = "end_turn"
        self._send(200, "application/json", index, json.dumps(message).encode())

    def _send(
        self, status: int, content_type: str, index: int, data: bytes | None, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("request-id", f"req_fake_{index}")
        self.send_header("Connection", "close")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        if data is not None:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data is not None:
            self.wfile.write(data)
        self.close_connection = True

    def _error(self, index: int, status: int, message: str | None, retry_after: str | None) -> None:
        kind = ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
        error = {"type": "error", "error": {"type": kind, "message": message or f"Fake {kind} ({status})"}}
        headers = {"retry-after": retry_after} if retry_after is not None else None
        self._send(status, "application/json", index, json.dumps(error).encode(), headers)

    def _stream(
        self, fake: FakeAnthropic, index: int, req: Recorded, blocks: list[Block], usage: tuple[int, int | None]
    ) -> None:
        """The real event order; a ``None`` usage[1] means break after one delta with ``event: error``."""
        self._send(200, "text/event-stream", index, None, {"Cache-Control": "no-cache"})
        self._event("message_start", message=_message(index, req.model, [], usage[0], 1))
        held = False
        for number, block in enumerate(blocks):
            self._event("content_block_start", index=number, content_block={"type": "text", "text": ""})
            for citation in block.get("citations") or []:
                self._event(
                    "content_block_delta", index=number, delta={"type": "citations_delta", "citation": citation}
                )
            text = block["text"]
            pieces = [text[i : i + DELTA_CHARS] for i in range(0, len(text), DELTA_CHARS)] or [""]
            for piece in pieces[:1] if usage[1] is None else pieces:
                self._event("content_block_delta", index=number, delta={"type": "text_delta", "text": piece})
                fake.first_text_at.setdefault(index, time.monotonic())
                if fake.gate is not None and not held:
                    fake.gate.wait(30)
                    held = True
                if fake.delta_delay_s:
                    time.sleep(fake.delta_delay_s)
            if usage[1] is None:
                self._event("error", error={"type": "overloaded_error", "message": "Overloaded"})
                return
            self._event("content_block_stop", index=number)
        self._event(
            "message_delta", delta={"stop_reason": "end_turn", "stop_sequence": None}, usage={"output_tokens": usage[1]}
        )
        self._event("message_stop")

    def _event(self, name: str, **fields: Any) -> None:
        """One SSE event as the API sends it: the ``data`` JSON repeats the event name as ``type``."""
        self.wfile.write(f"event: {name}\ndata: {json.dumps({'type': name, **fields})}\n\n".encode())
        self.wfile.flush()


def _message(index: int, model: str, content: list[dict[str, Any]], usage_in: int, usage_out: int) -> dict[str, Any]:
    """A Message object as the API returns it (also the ``message_start`` payload, with empty content)."""
    usage = {"input_tokens": usage_in, "output_tokens": usage_out, "cache_creation_input_tokens": 0}
    usage["cache_read_input_tokens"] = 0
    head = {"id": f"msg_fake_{index}", "type": "message", "role": "assistant", "model": model, "content": content}
    return {**head, "stop_reason": None, "stop_sequence": None, "usage": usage}
