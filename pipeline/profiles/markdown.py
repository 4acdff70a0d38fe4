"""Markdown: a heading per page and lines reflowed into paragraphs (the local engine); Claude's own Markdown kept
as written."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pipeline.core.models import PageText
from pipeline.profiles.base import Profile, as_json, pages_payload
from pipeline.profiles.structured import tables, tables_csv, to_markdown, tree
from pipeline.profiles.text import BULLET, escape_markdown_text, paragraphs, render_text


def _escape_markdown_line(block: str) -> str:
    block = escape_markdown_text(block)
    if BULLET.match(block):
        marker = BULLET.match(block)
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


def _render(pages: Sequence[PageText], title: str, document: dict[str, Any]) -> dict[str, str]:
    # The layout reader is imported when a document is written, not when the registry is read (every command)
    from pipeline.documents.layout.document import document_elements, has_layout
    from pipeline.documents.layout.markdown import markdown_elements

    by_model = bool(pages) and all(page.method == "claude" for page in pages)
    if not has_layout(pages) and not by_model:  # scans only: paragraphs as before
        return {
            "text": render_text(pages),
            "markdown": render_markdown(pages, title),
            "json": as_json(pages_payload(pages, "markdown", document)),
        }
    elements = markdown_elements(pages) if by_model else document_elements(pages)
    payload = pages_payload(pages, "markdown", document, elements=tree(elements))
    if by_model:  # Claude's Markdown is kept as it wrote it; its tree and tables are read from it
        written = {"text": render_text(pages), "markdown": render_markdown(pages, title), "json": as_json(payload)}
    else:  # ``text`` stays the pages' text as read, the same for every profile
        written = {"text": render_text(pages), "markdown": to_markdown(elements), "json": as_json(payload)}
    found = tables(elements)
    if found:  # the tables as data, for a spreadsheet: only where there are tables
        written.update(tables=as_json({"document": document, "tables": found}), csv=tables_csv(elements))
    return written


MARKDOWN = Profile(
    name="markdown",
    description="Markdown with headings, lists, tables and reading order (Claude: its own Markdown)",
    engines=("local", "claude"),
    formats=("markdown", "text", "json", "tables", "csv"),
    render=_render,
    structure=True,
)
