"""Markdown from documents and models, rendered to HTML that can never run in the analyst's page.

A result's Markdown is written by whoever made the document, or by a model reading it: it is data, not markup.
Raw HTML in it is shown as text (markdown-it with ``html`` off), and the rendered HTML then goes through nh3
(the ammonia sanitizer) with an allow-list of formatting tags and ``http``, ``https`` and ``mailto`` links only:
no event handlers, no ``javascript:`` or ``data:`` URLs, no relative links into the app, no images that would
fetch from a third party on open.
"""

from __future__ import annotations

import html
import re
from functools import cache

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "del", "s", "code", "pre",
        "blockquote", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "a", "sup", "sub",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Claude's Markdown marks page borders with an HTML comment; shown as a small divider instead of being lost.
PAGE_MARKER = re.compile(r"^<!-- page (\d+) -->$", re.MULTILINE)


@cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])


def clean_html(fragment: str) -> str:
    """Only formatting tags and safe links survive; everything else is dropped (scripts with their content)."""
    return nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style", "iframe", "svg", "math", "object", "embed", "template"},
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        url_relative="deny",
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def markdown_html(text: str) -> str:
    """Markdown rendered for display: raw HTML in ``text`` stays visible text, links are checked twice."""
    parts = PAGE_MARKER.split(text)
    out = [clean_html(_parser().render(parts[0]))]
    for page, body in zip(parts[1::2], parts[2::2], strict=True):
        out.append(f'<div class="pl-page-marker">page {int(page)}</div>')
        out.append(clean_html(_parser().render(body)))
    return "".join(out)


def text(value: object) -> str:
    """Any value as HTML text: the one escaping helper every HTML-building view uses."""
    return html.escape("" if value is None else str(value), quote=True)


_WORD = re.compile(r"\w{3,}", re.UNICODE)


def marked(value: str, query: str) -> str:
    """``value`` as HTML text with the query's words (three letters or more, any case) in ``<mark>``: every piece
    is escaped on its own, so marking can never open a tag."""
    words = {w.casefold() for w in _WORD.findall(query)}
    if not words:
        return text(value)
    out, last = [], 0
    for match in _WORD.finditer(value):
        if match.group(0).casefold() in words:
            out.append(text(value[last : match.start()]))
            out.append(f"<mark>{text(match.group(0))}</mark>")
            last = match.end()
    out.append(text(value[last:]))
    return "".join(out)
