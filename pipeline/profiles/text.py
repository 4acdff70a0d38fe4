"""Plain text: the text of every page, pages apart by a blank line; and the escaping that keeps a page's text from
acting as Markdown."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pipeline.core.models import PageText
from pipeline.documents.paragraphs import BULLET, paragraphs
from pipeline.profiles.base import Profile, as_json, pages_payload

__all__ = ["BULLET", "PAGE_SEPARATOR", "escape_markdown_text", "paragraphs", "render_text"]

PAGE_SEPARATOR = "\n\n"


def render_text(pages: Sequence[PageText]) -> str:
    return PAGE_SEPARATOR.join(page.text.strip("\n") for page in pages) + "\n"


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
