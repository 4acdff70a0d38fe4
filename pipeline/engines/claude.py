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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache

import anthropic
from anthropic.types import ContentBlockParam, MessageParam

from pipeline.core.errors import ExtractionFailed
from pipeline.core.models import DocumentKind, PageText
from pipeline.core.settings import Settings
from pipeline.documents.images import iter_pages
from pipeline.documents.pdf import write_page_range
from pipeline.engines.base import ChunkOutput, ChunkWork, Extractor, PageDone
from pipeline.engines.llm_slots import llm_slots

MAX_REQUEST_PAGES = 100
MAX_REQUEST_BYTES = 32 * 1024 * 1024
#: what Claude is asked when the profile asks nothing of its own (``ChunkWork.task``)
TRANSCRIBE = (
    "Transcribe each page as faithful Markdown: keep headings, paragraphs, lists and tables (as Markdown tables) in "
    "reading order. Add no commentary."
)
PAGE_BLOCK = re.compile(r'<page number="(\d+)">\s*(.*?)\s*</page>', re.DOTALL)
# Between the answers of one chunk in its raw-answer file (the first answer, then the one asked for again).
RAW_SEPARATOR = "\n\n----- asked again -----\n\n"
FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


def build_prompt(work: ChunkWork) -> str:
    """The instruction for one chunk: which pages are attached, which to extract, what to extract, in what form."""
    if work.kind is DocumentKind.PDF:
        holds = (
            f"The attached PDF holds pages {work.context_first}-{work.context_last} of the whole document, in order."
        )
    else:
        holds = (
            f"The attached images are pages {work.context_first}-{work.context_last} of the whole document, in order."
        )
    task = work.task or TRANSCRIBE
    return (
        f"{holds}\nExtract only pages {work.first_page}-{work.last_page}; any other page is there for context, so do "
        f"not repeat its content.\n\n{task}\n\nAnswer with one block per extracted page, in order, exactly like:\n"
        '<page number="N">\n...\n</page>\nwhere N is the page number in the whole document. Write nothing outside '
        "the blocks."
    )


@dataclass
class Reading:
    """What one answer gave for the pages a chunk owns: each page's body, and what was wrong with the rest."""

    pages: dict[int, str] = field(default_factory=dict)
    #: owned pages with no block, or (JSON presets) whose block is not a JSON array of objects, and why
    unusable: dict[int, str] = field(default_factory=dict)
    #: page blocks in the answer at all, owned or not
    blocks: int = 0


def read_answer(answer: str, pages: Sequence[int], *, as_json: bool) -> Reading:
    """The bodies of ``pages`` in an answer (the first block of each page counts), JSON checked for table presets."""
    reading = Reading()
    found: dict[int, str] = {}
    for number, body in PAGE_BLOCK.findall(answer):
        reading.blocks += 1
        found.setdefault(int(number), body)
    for page in pages:
        if page not in found:
            reading.unusable[page] = "no block"
        elif not as_json:
            reading.pages[page] = found[page]
        else:
            try:
                reading.pages[page] = json_rows(found[page])
            except ValueError as exc:
                reading.unusable[page] = f"not valid JSON ({exc})"
    return reading


def json_rows(body: str) -> str:
    """A page's JSON rows, normalized; raises ``ValueError`` unless the body is a JSON array of objects."""
    rows = json.loads(FENCE.sub("", body.strip()))
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ValueError("not a JSON array of objects")
    return json.dumps(rows, ensure_ascii=False)


def describe_unusable(unusable: dict[int, str]) -> str:
    """ "no block for pages 3, 4; page 5 not valid JSON (...)" for a follow-up prompt and for notes."""
    missing = [page for page, why in unusable.items() if why == "no block"]
    parts = [f"no block for page{'s' if len(missing) != 1 else ''} {', '.join(map(str, missing))}"] if missing else []
    parts.extend(f"page {page} {why}" for page, why in unusable.items() if why != "no block")
    return "; ".join(parts)


def follow_up_prompt(unusable: dict[int, str]) -> str:
    """Asks again, once, for exactly the pages that could not be used."""
    pages = ", ".join(map(str, unusable))
    return (
        f"That answer cannot be used as it is: {describe_unusable(unusable)}. Answer again with one "
        f'<page number="N"> block for each of pages {pages} only, in the same form, and nothing outside the blocks.'
    )


def keep_what_came_back(
    first: Reading, second: Reading | None, answers: Sequence[str], owned: Sequence[int], *, as_json: bool
) -> tuple[list[PageText], list[str]]:
    """Pages from whatever the answers gave, and notes on what is missing or approximate.

    Pages with blocks are kept as they are. An answer with no blocks at all is kept whole under the chunk's first
    page (its page borders are unknown). A page still missing is left empty. Raises ``ValueError`` when nothing
    usable came back."""
    bodies = {**first.pages, **(second.pages if second else {})}
    unusable = {**first.unusable, **(second.unusable if second else {})}
    missing = {page: unusable[page] for page in owned if page not in bodies}
    span = f"{owned[0]}-{owned[-1]}" if len(owned) > 1 else str(owned[0])
    notes: list[str] = []
    if first.blocks == 0 and (second is None or second.blocks == 0):
        for answer in sorted((a.strip() for a in answers), key=len, reverse=True):
            try:
                body = json_rows(answer) if as_json else answer
            except ValueError:
                continue
            if body:
                bodies, missing = {owned[0]: body}, {}
                notes.append(
                    f"Claude answered pages {span} without page blocks: its answer is kept whole under page "
                    f"{owned[0]} (page borders unknown; context pages may repeat)."
                )
                break
    if not bodies:
        raise ValueError(describe_unusable(missing) if any(a.strip() for a in answers) else "the answer was empty")
    if missing:
        notes.append(
            f"Claude's answer for pages {span} left page{'s' if len(missing) != 1 else ''} "
            f"{', '.join(map(str, missing))} empty after asking again ({describe_unusable(missing)}); the raw answer "
            "is kept with the chunk."
        )
    empty = "[]" if as_json else ""
    return [PageText(page, bodies.get(page, empty), "claude") for page in owned], notes


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
        self.slots = llm_slots(settings)

    def _blocks(self, work: ChunkWork, notes: list[str]) -> list[ContentBlockParam]:
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
        blocks: list[ContentBlockParam] = []
        frames = iter_pages(
            work.source,
            self.settings.max_image_pixels,
            work.context_first,
            work.context_last,
            max_pages=self.settings.max_pages,
        )
        for _, image in frames:  # decoded one at a time, each within the pixel budget (larger uploads are refused)
            original = image.size
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
        as_json = work.rows
        notes: list[str] = []
        blocks = self._blocks(work, notes)
        prompt = build_prompt(work)
        messages: list[MessageParam] = [{"role": "user", "content": [*blocks, {"type": "text", "text": prompt}]}]
        client = client_for(self.settings)
        usage = _Usage()
        reported = [0]

        def on_pages(closed: int) -> None:  # progress never goes back, even when a stream is retried
            owned = work.last_page - work.first_page + 1
            closed = min(closed, owned)
            if closed > reported[0]:
                page_done(closed - reported[0])
                reported[0] = closed

        owned = list(range(work.first_page, work.last_page + 1))
        from pipeline.core.metrics import LLM_IN_FLIGHT

        with self.slots.acquire(), LLM_IN_FLIGHT.track_inprogress():
            answers = [self._stream(client, messages, usage, on_pages)]
            first = read_answer(answers[0], owned, as_json=as_json)
            second = None
            if first.unusable:  # models skip the page blocks, above all for custom instructions: ask once more
                messages = [
                    *messages,
                    {"role": "assistant", "content": answers[0] or "(no answer)"},
                    {"role": "user", "content": follow_up_prompt(first.unusable)},
                ]
                answers.append(self._stream(client, messages, usage, on_pages))
                second = read_answer(answers[1], list(first.unusable), as_json=as_json)
        raw = RAW_SEPARATOR.join(answers)
        try:
            pages, answer_notes = keep_what_came_back(first, second, answers, owned, as_json=as_json)
        except ValueError as exc:
            raise ExtractionFailed(
                f"Claude's answer for pages {work.first_page}-{work.last_page} could not be used: {exc}",
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                raw_answer=raw,
            ) from exc
        on_pages(len(pages))
        return ChunkOutput(
            pages=pages,
            notes=[*notes, *answer_notes],
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            raw_answer=raw,
        )

    def _stream(
        self, client: anthropic.Anthropic, messages: list[MessageParam], usage: _Usage, on_pages: Callable[[int], None]
    ) -> str:
        """One answer, streamed; an error event mid-stream restarts the request and drops the partial text.

        Reads the raw stream events rather than the SDK's accumulating ``MessageStream``: the same text and usage
        at half the CPU per event, which on a busy worker host is time on every chunk's critical path."""
        last_error: Exception | None = None
        for _attempt in range(self.settings.llm_stream_retries + 1):
            opened = False
            parts: list[str] = []
            closed, tail = 0, ""
            tokens_in = tokens_out = 0
            try:
                with client.messages.create(
                    model=self.settings.model, max_tokens=self.settings.llm_max_tokens, messages=messages, stream=True
                ) as stream:
                    opened = True
                    for event in stream:
                        if event.type == "content_block_delta" and event.delta.type == "text_delta":
                            text = event.delta.text
                            parts.append(text)
                            window = tail + text
                            closed += window.count("</page>")
                            tail = window[-7:] if "</page>" not in window[-7:] else ""
                            on_pages(closed)
                        elif event.type == "message_start":
                            tokens_in = event.message.usage.input_tokens
                        elif event.type == "message_delta":
                            tokens_in = event.usage.input_tokens or tokens_in
                            tokens_out = event.usage.output_tokens
            except anthropic.APIError as exc:
                if not opened:  # the SDK already retried what can be retried: this is final
                    raise ExtractionFailed(
                        _plain_api_error(exc, self.settings),
                        input_tokens=usage.input_tokens,
                        output_tokens=usage.output_tokens,
                    ) from exc
                last_error = exc
                continue
            usage.input_tokens += tokens_in
            usage.output_tokens += tokens_out
            return "".join(parts)
        raise ExtractionFailed(
            f"The Claude API stream broke off {self.settings.llm_stream_retries + 1} times: {last_error}",
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
        )
