"""Plain text: the text of every page, pages apart by a blank line; and the reading of lines into paragraphs that
the other local profiles share."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pipeline.core.models import PageText
from pipeline.profiles.base import Profile, as_json, pages_payload

PAGE_SEPARATOR = "\n\n"


def render_text(pages: Sequence[PageText]) -> str:
    return PAGE_SEPARATOR.join(page.text.strip("\n") for page in pages) + "\n"


_HYPHEN_BREAK = re.compile(r"(\w)-\n(\w)")
BULLET = re.compile(r"^\s*([-*•●▪◦]|\d{1,3}[.)]|[a-z][.)])\s+")
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
        if BULLET.match(line):
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


def _render(pages: Sequence[PageText], title: str, document: dict[str, Any]) -> dict[str, str]:
    return {"text": render_text(pages), "json": as_json(pages_payload(pages, "text", document))}


TEXT = Profile(
    name="text",
    description="the plain text of every page",
    engines=("local",),
    formats=("text", "json"),
    render=_render,
)
