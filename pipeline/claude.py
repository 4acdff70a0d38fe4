"""The ``claude`` engine: each chunk goes to the Messages API (streamed) as a PDF of its pages, or as images.

The chunk's PDF carries its context pages too; the prompt names the pages to extract and asks for one
``<page number="N">`` block per page, so the usual merge keeps each page once. Retries of HTTP failures are the
SDK's (``max_retries``, exponential backoff honouring ``retry-after``); Paperline only retries what the SDK
cannot: an ``error`` event in the middle of a stream, and a JSON answer that does not parse (once, with the
parse error). ``PAPERLINE_LLM_CONCURRENCY`` bounds requests in flight across all workers of the machine.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
from dataclasses import dataclass
from functools import cache

import anthropic

from .chunking import PageText
from .config import Settings
from .exceptions import ExtractionFailed
from .extractors import ChunkOutput, ChunkWork, Extractor, PageDone
from .images import iter_pages
from .llm_slots import LlmSlots
from .models import DocumentKind
from .pdf import write_page_range

MAX_REQUEST_PAGES = 100
MAX_REQUEST_BYTES = 32 * 1024 * 1024
JSON_PRESETS = ("tables", "timetable")
TASKS = {
    "markdown": "Transcribe each page as faithful Markdown: keep headings, paragraphs, lists and tables (as Markdown "
    "tables) in reading order. Add no commentary.",
    "tables": "Find every table on each page. Inside each page block put only a JSON array with one object per table "
    'row, keyed by the table\'s column headers, plus a "table" key naming the table. Use [] for a page with no table.',
    "timetable": "Read the timetable on each page. Inside each page block put only a JSON array with one object per "
    'entry, with the keys "day", "start", "end", "subject", "place" and any other column found (snake_case). Use '
    "[] for a page with no timetable.",
}
PAGE_BLOCK = re.compile(r'<page number="(\d+)">\s*(.*?)\s*</page>', re.DOTALL)
FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


def build_prompt(work: ChunkWork, preset: str, instruction: str = "") -> str:
    """The instruction for one chunk: which pages are attached, which to extract, what to extract, in what form."""
    if work.kind is DocumentKind.PDF:
        holds = (
            f"The attached PDF holds pages {work.context_first}-{work.context_last} of the whole document, in order."
        )
    else:
        holds = (
            f"The attached images are pages {work.context_first}-{work.context_last} of the whole document, in order."
        )
    task = instruction.strip() if preset == "custom" else TASKS[preset]
    return (
        f"{holds}\nExtract only pages {work.first_page}-{work.last_page}; any other page is there for context, so do "
        f"not repeat its content.\n\n{task}\n\nAnswer with one block per extracted page, in order, exactly like:\n"
        '<page number="N">\n...\n</page>\nwhere N is the page number in the whole document. Write nothing outside '
        "the blocks."
    )


class AnswerInvalid(ValueError):
    pass


def parse_pages(answer: str, first: int, last: int, *, as_json: bool) -> list[PageText]:
    """The owned pages from an answer; raises ``AnswerInvalid`` saying what is wrong."""
    found: dict[int, str] = {}
    for number, body in PAGE_BLOCK.findall(answer):
        page = int(number)
        if first <= page <= last and page not in found:
            found[page] = body
    missing = [p for p in range(first, last + 1) if p not in found]
    if missing:
        raise AnswerInvalid(f"the answer has no block for pages {missing[:10]}")
    pages = []
    for page in range(first, last + 1):
        body = found[page]
        if as_json:
            body = FENCE.sub("", body.strip())
            try:
                rows = json.loads(body)
            except json.JSONDecodeError as exc:
                raise AnswerInvalid(f"page {page} is not valid JSON: {exc}") from exc
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise AnswerInvalid(f"page {page} is not a JSON array of objects")
            body = json.dumps(rows, ensure_ascii=False)
        pages.append(PageText(page, body, "claude"))
    return pages


@cache
def _cached_client(
    pid: int, api_key: str, base_url: str | None, max_retries: int, timeout_s: float
) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=timeout_s)


def client_for(settings: Settings) -> anthropic.Anthropic:
    """One client per worker process and configuration, made on first use (never at import time)."""
    return _cached_client(
        os.getpid(),
        os.environ.get("ANTHROPIC_API_KEY", ""),
        os.environ.get("ANTHROPIC_BASE_URL") or None,
        settings.llm_max_retries,
        settings.llm_timeout_s,
    )


@dataclass
class _Usage:
    input_tokens: int = 0
    output_tokens: int = 0


def _plain_api_error(exc: anthropic.APIError, settings: Settings) -> str:
    message = getattr(exc, "message", str(exc))
    if isinstance(exc, anthropic.AuthenticationError):
        return f"The Claude API rejected the API key (401): {message}. Check ANTHROPIC_API_KEY."
    if isinstance(exc, anthropic.PermissionDeniedError):
        return f"The API key may not use this model or feature (403): {message}"
    if isinstance(exc, anthropic.NotFoundError):
        return f"The Claude API did not find model {settings.model!r} (404): {message}. Check PAPERLINE_MODEL."
    if isinstance(exc, anthropic.BadRequestError):
        return f"The Claude API refused this chunk as invalid (400): {message}"
    if isinstance(exc, anthropic.APIStatusError):
        return f"The Claude API kept failing after {settings.llm_max_retries} retries ({exc.status_code}): {message}"
    return f"Could not reach the Claude API after {settings.llm_max_retries} retries: {message}"


class ClaudeExtractor(Extractor):
    """Sends a chunk to Claude and turns the streamed answer into page texts."""

    name = "claude"

    def __init__(self, settings: Settings):
        self.settings = settings
        self.slots = LlmSlots(settings.llm_slots_dir, settings.llm_concurrency)

    def _blocks(self, work: ChunkWork, notes: list[str]) -> list[dict]:
        if work.kind is DocumentKind.PDF:
            pages = work.context_last - work.context_first + 1
            data = write_page_range(work.source, work.context_first, work.context_last)
            if pages > MAX_REQUEST_PAGES or len(data) > MAX_REQUEST_BYTES:
                raise ExtractionFailed(
                    f"Chunk {work.index + 1} is {pages} pages and {len(data) / 2**20:.1f} MB as a PDF, over the API's "
                    f"{MAX_REQUEST_PAGES} pages / 32 MB per request; lower PAPERLINE_LARGE_CHUNK_PAGES."
                )
            encoded = base64.standard_b64encode(data).decode()
            return [
                {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": encoded}}
            ]
        blocks = []
        for _, image in iter_pages(work.source, self.settings.max_image_pixels, work.context_first, work.context_last):
            original = image.size
            image = image.copy()
            image.thumbnail((self.settings.llm_image_max_side, self.settings.llm_image_max_side))
            buffer = io.BytesIO()
            image.save(buffer, format="WEBP", quality=85)
            sent = buffer.getvalue()
            uploaded = work.source.stat().st_size
            notes.append(
                f"Image sent to Claude at {image.width}x{image.height} (from {original[0]}x{original[1]}): "
                f"{len(sent) / 1024:.0f} kB, {max(0, uploaded - len(sent)) / 1024:.0f} kB less than the upload."
            )
            blocks.append(
                {
                    "type": "image",
                    "source": {
                        "type": "base64",
                        "media_type": "image/webp",
                        "data": base64.standard_b64encode(sent).decode(),
                    },
                }
            )
        return blocks

    def extract(self, work: ChunkWork, page_done: PageDone) -> ChunkOutput:
        preset = work.profile if work.profile in (*TASKS, "custom") else "markdown"
        as_json = preset in JSON_PRESETS
        notes: list[str] = []
        blocks = self._blocks(work, notes)
        prompt = build_prompt(work, preset, work.instruction)
        messages: list[dict] = [{"role": "user", "content": [*blocks, {"type": "text", "text": prompt}]}]
        client = client_for(self.settings)
        usage = _Usage()
        reported = [0]

        def on_pages(closed: int) -> None:  # progress never goes back, even when a stream is retried
            owned = work.last_page - work.first_page + 1
            closed = min(closed, owned)
            if closed > reported[0]:
                page_done(closed - reported[0])
                reported[0] = closed

        answer = ""
        with self.slots.acquire():
            for json_attempt in range(2 if as_json else 1):
                answer = self._stream(client, messages, usage, on_pages)
                try:
                    pages = parse_pages(answer, work.first_page, work.last_page, as_json=as_json)
                    break
                except AnswerInvalid as exc:
                    if json_attempt == 0 and as_json:
                        messages = [
                            *messages,
                            {"role": "assistant", "content": answer},
                            {
                                "role": "user",
                                "content": f"That answer cannot be used: {exc}. Answer again, "
                                "in the same page blocks, with valid JSON only.",
                            },
                        ]
                        continue
                    raise ExtractionFailed(
                        f"Claude's answer for pages {work.first_page}-{work.last_page} could not be used: {exc}",
                        input_tokens=usage.input_tokens,
                        output_tokens=usage.output_tokens,
                        raw_answer=answer,
                    ) from exc
        on_pages(len(pages))
        return ChunkOutput(pages=pages, notes=notes, input_tokens=usage.input_tokens, output_tokens=usage.output_tokens)

    def _stream(self, client: anthropic.Anthropic, messages: list[dict], usage: _Usage, on_pages) -> str:  # type: ignore[no-untyped-def]
        """One answer, streamed; an error event mid-stream restarts the request and drops the partial text."""
        last_error: Exception | None = None
        for _attempt in range(self.settings.llm_stream_retries + 1):
            opened = False
            parts: list[str] = []
            closed, tail = 0, ""
            try:
                with client.messages.stream(
                    model=self.settings.model, max_tokens=self.settings.llm_max_tokens, messages=messages
                ) as stream:
                    opened = True
                    for text in stream.text_stream:
                        parts.append(text)
                        window = tail + text
                        closed += window.count("</page>")
                        tail = window[-7:] if "</page>" not in window[-7:] else ""
                        on_pages(closed)
                    final = stream.get_final_message()
            except anthropic.APIError as exc:
                if not opened:  # the SDK already retried what can be retried: this is final
                    raise ExtractionFailed(
                        _plain_api_error(exc, self.settings),
                        input_tokens=usage.input_tokens,
                        output_tokens=usage.output_tokens,
                    ) from exc
                last_error = exc
                continue
            usage.input_tokens += final.usage.input_tokens
            usage.output_tokens += final.usage.output_tokens
            return "".join(parts)
        raise ExtractionFailed(
            f"The Claude API stream broke off {self.settings.llm_stream_retries + 1} times: {last_error}",
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
        )
