"""Extraction profiles: how merged page texts become the files an analyst downloads.

``text`` is the plain text of every page; ``markdown`` adds a heading per page and reflows lines into
paragraphs; ``sentences`` has one sentence per row (JSON and CSV). Rendering runs once on the merged pages, so
a paragraph or sentence cut by a chunk border comes out whole.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from pipeline.core.models import PageText
from pipeline.core.spreadsheet import defuse

PROFILES = ("text", "markdown", "sentences", "tables", "timetable", "custom", "retrieval")
DEFAULT_PROFILE = "text"
# Profiles each engine offers: Claude's are its instruction presets (``custom`` takes the analyst's instruction).
ENGINE_PROFILES = {
    "local": ("text", "markdown", "sentences", "retrieval"),
    "claude": ("markdown", "tables", "timetable", "custom", "retrieval"),
}
ROW_PROFILES = ("tables", "timetable")
# The formats each profile writes, its main format first.
PROFILE_FORMATS = {
    "text": ("text", "json"),
    "markdown": ("markdown", "text", "json"),
    "sentences": ("json", "csv", "text"),
    "tables": ("json", "csv"),
    "timetable": ("json", "csv"),
    "custom": ("text", "json"),
    # passages.jsonl is written once the passages are embedded (see pipeline.profiles.retrieval)
    "retrieval": ("text", "passages", "json"),
}
PAGE_SEPARATOR = "\n\n"


def render_text(pages: Sequence[PageText]) -> str:
    return PAGE_SEPARATOR.join(page.text.strip("\n") for page in pages) + "\n"


_HYPHEN_BREAK = re.compile(r"(\w)-\n(\w)")
_BULLET = re.compile(r"^\s*([-*•●▪◦]|\d{1,3}[.)]|[a-z][.)])\s+")
_PARAGRAPH_END = re.compile(r"[.!?:;\"”'’)\]。！？؟]$")


def paragraphs(text: str) -> list[str]:
    """Reflow a page's lines into paragraphs.

    Blank lines always split; a line that ends a sentence and is clearly shorter than the page's full lines
    also ends its paragraph (text layers rarely keep blank lines between paragraphs). List items stay separate.
    """
    lines = [line.rstrip() for line in text.replace("\r", "").split("\n")]
    widths = sorted(len(line) for line in lines if line.strip())
    full_width = widths[int(len(widths) * 0.9) - 1] if len(widths) >= 5 else 0
    blocks: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            joined = "\n".join(current)
            joined = _HYPHEN_BREAK.sub(r"\1\2", joined)
            blocks.append(re.sub(r"\s*\n\s*", " ", joined).strip())
            current.clear()

    for line in lines:
        if not line.strip():
            flush()
            continue
        if _BULLET.match(line):
            flush()
            blocks.append(line.strip())
            continue
        current.append(line.strip())
        if full_width and len(line) < 0.8 * full_width and _PARAGRAPH_END.search(line):
            flush()
    flush()
    return [block for block in blocks if block]


# Characters that would make a document's plain text act as Markdown markup or raw HTML: backslash, code spans,
# links, HTML tags and entities. Escaped with a backslash (CommonMark), so the text reads the same once rendered.
_MARKDOWN_ACTIVE = re.compile(r"[\\`<\[\]]|&(?=#?\w+;)")


def escape_markdown_text(text: str) -> str:
    """Page text as Markdown that renders to exactly that text: a literal ``<script>`` or ``[x](javascript:...)``
    in a PDF shows as written, never as a tag or a link."""
    return _MARKDOWN_ACTIVE.sub(lambda match: "\\" + match.group(0), text)


def _escape_markdown_line(block: str) -> str:
    block = escape_markdown_text(block)
    if _BULLET.match(block):
        marker = _BULLET.match(block)
        assert marker is not None
        return "- " + block[marker.end() :] if marker.group(1) in "-*•●▪◦" else block
    return re.sub(r"^([#>|=+]|-{3,})", r"\\\1", block)


def render_markdown(pages: Sequence[PageText], title: str = "") -> str:
    if pages and all(page.method == "claude" for page in pages):
        # Claude already wrote Markdown: keep it as written, marking page borders without adding headings.
        return "\n\n".join(f"<!-- page {page.page} -->\n{page.text.strip()}" for page in pages) + "\n"
    parts = [f"# {escape_markdown_text(title)}"] if title else []
    for page in pages:
        parts.append(f"## Page {page.page}")
        body = [_escape_markdown_line(block) for block in paragraphs(page.text)]
        parts.append("\n\n".join(body) if body else "_No text on this page._")
    return "\n\n".join(parts) + "\n"


@dataclass(frozen=True)
class Sentence:
    index: int
    page: int
    text: str


_ABBREVIATIONS = {
    "e.g",
    "i.e",
    "etc",
    "vs",
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "fig",
    "figs",
    "no",
    "nos",
    "vol",
    "pp",
    "p",
    "st",
    "jr",
    "sr",
    "inc",
    "ltd",
    "co",
    "corp",
    "eq",
    "ref",
    "sec",
    "ch",
    "approx",
    "dept",
    "est",
    "al",
    "cf",
}
_SENTENCE_END = re.compile(r"([.!?…。！？؟]+[\"”’')\]]*)(\s+)")


def _ends_with_abbreviation(text: str) -> bool:
    word = re.search(r"([\w.]+)\.$", text)
    if not word:
        return False
    token = word.group(1).lower()
    return token in _ABBREVIATIONS or len(token) == 1 or bool(re.fullmatch(r"(\w\.)+\w", token))


def split_sentences(pages: Sequence[PageText]) -> list[Sentence]:
    """One row per sentence of the whole document, each tagged with the page it starts on."""
    pieces: list[tuple[int, str]] = []
    for page in pages:
        for block in paragraphs(page.text):
            pieces.append((page.page, block))
    sentences: list[Sentence] = []
    pending = ""
    pending_page = 0

    def emit(text: str, page: int) -> None:
        text = text.strip()
        if text:
            sentences.append(Sentence(index=len(sentences) + 1, page=page, text=text))

    for page_number, block in pieces:
        text = block
        start = 0
        for match in _SENTENCE_END.finditer(text):
            candidate = text[start : match.end(1)]
            if _ends_with_abbreviation(candidate):
                continue
            following = text[match.end() : match.end() + 1]
            if following and following.islower():
                continue
            if pending:
                emit(pending + " " + candidate, pending_page)
                pending = ""
            else:
                emit(candidate, page_number)
            start = match.end()
        rest = text[start:].strip()
        if rest:
            if rest[-1:] in ".!?…。！？؟" or (not pending and rest[-1:] in "\"”’')"):
                emit((pending + " " + rest) if pending else rest, pending_page if pending else page_number)
                pending = ""
            elif pending:
                pending = pending + " " + rest
            else:
                pending, pending_page = rest, page_number
    if pending:
        emit(pending, pending_page)
    return sentences


def sentences_csv(sentences: Sequence[Sentence]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")  # no \r: outputs carry no control characters
    writer.writerow(["index", "page", "sentence"])
    for sentence in sentences:
        writer.writerow([sentence.index, sentence.page, defuse(sentence.text)])
    return buffer.getvalue()


def page_rows(pages: Sequence[PageText]) -> list[dict[str, Any]]:
    """Rows from pages whose text is a JSON array of objects (Claude's table presets), each tagged with its page."""
    rows = []
    for page in pages:
        for row in json.loads(page.text or "[]"):
            rows.append({"page": page.page, **row})
    return rows


def rows_csv(rows: Sequence[dict[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([defuse(column) for column in columns or ["page"]])  # column names come from the model too
    for row in rows:
        cells = (row.get(column, "") for column in columns)
        writer.writerow(
            [defuse(json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v) for v in cells]
        )
    return buffer.getvalue()


def render_results(pages: Sequence[PageText], profile: str, *, title: str, document: dict[str, Any]) -> dict[str, str]:
    """Every file the profile writes, keyed by format name."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    payload: dict[str, Any] = {
        "document": document,
        "profile": profile,
        "pages": [{"page": p.page, "method": p.method, "text": p.text} for p in pages],
    }
    if profile in ROW_PROFILES:
        rows = page_rows(pages)
        payload["rows"] = rows
        payload["pages"] = [{"page": p.page, "method": p.method} for p in pages]
        return {"json": json.dumps(payload, ensure_ascii=False, indent=2), "csv": rows_csv(rows)}
    out: dict[str, str] = {"text": render_text(pages)}
    if profile == "markdown":
        out["markdown"] = render_markdown(pages, title)
    if profile == "sentences":
        sentences = split_sentences(pages)
        payload["sentences"] = [asdict(s) for s in sentences]
        out["csv"] = sentences_csv(sentences)
    out["json"] = json.dumps(payload, ensure_ascii=False, indent=2)
    return out
