"""Markdown from documents and models, rendered to HTML that can never run in the analyst's page.

A result's Markdown is written by whoever made the document, or by a model reading it: it is data, not markup.
Raw HTML in it is shown as text (markdown-it with ``html`` off), and the rendered HTML then goes through nh3
(the ammonia sanitizer) with an allow-list of formatting tags and ``http``, ``https`` and ``mailto`` links only:
no event handlers, no ``javascript:`` or ``data:`` URLs, no relative links into the app, no images that would
fetch from a third party on open.

The dashboard's own HTML fragments are Jinja templates (``templates/``) with autoescape on: every value put in one
is escaped by the engine unless it is ``Markup`` (HTML this module made safe, or another fragment). One-line
fragments use ``format_html``, which escapes its values the same way (markupsafe, the engine's escaping).
"""

from __future__ import annotations

import re
from functools import cache

import jinja2
import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "del", "s", "code", "pre",
        "blockquote", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "a", "sup", "sub",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "th": {"align", "rowspan", "colspan"},
    "td": {"align", "rowspan", "colspan"},
    "ol": {"start"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Claude's Markdown marks page borders with an HTML comment; shown as a small divider instead of being lost.
PAGE_MARKER = re.compile(r"^<!-- page (\d+) -->$", re.MULTILINE)
# A table whose cells span rows or columns is written as an HTML table (GFM tables cannot span): a block of only
# table rows is shown as a table, through the same sanitizer; any other raw HTML stays visible text.
TABLE_BLOCK = re.compile(
    r"^<table>\n(?:(?:</?thead>|</?tbody>|<tr>.*</tr>)\n)+(?:</tbody>)?</table>$", re.MULTILINE
)  # rows, in a head and a body when the table has header rows (``table_html``)
#: a table cell that reads as a number (thousands separators, decimals, a sign or parentheses, a currency or %):
#: shown right-aligned so its digits line up
NUMBER = re.compile(r"^[(\[]?[-+\u2212\u2013]?\s?[$€£¥]?\s?\d[\d.,'\u00a0\u202f ]*(?:%|[kKmMbB]n?)?[)\]]?$")
_TEXT_CELL = re.compile(r"<td>([^<]*)</td>")


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


def _rendered(markdown: str) -> str:
    out, last = [], 0
    for table in TABLE_BLOCK.finditer(markdown):
        out += [_parser().render(markdown[last : table.start()]), table.group(0)]
        last = table.end()
    return "".join([*out, _parser().render(markdown[last:])])


def markdown_html(text: str) -> str:
    """Markdown rendered for display: raw HTML in ``text`` stays visible text, links are checked twice."""
    parts = PAGE_MARKER.split(text)
    pages = [None, *(int(page) for page in parts[1::2])]
    # The one place sanitized HTML is marked safe: it has just been through nh3.
    bodies = [Markup(_numbers_right(clean_html(_rendered(body)))) for body in parts[0::2]]
    return render("markdown.html", sections=list(zip(pages, bodies, strict=True)))


def _numbers_right(sanitized: str) -> str:
    """Table cells of sanitized HTML that hold only a number, classed to be right-aligned (the cell's text is
    untouched: only a class is added to a tag nh3 let through)."""

    def classed(cell: re.Match[str]) -> str:
        return f'<td class="pl-num">{cell.group(1)}</td>' if NUMBER.match(cell.group(1).strip()) else cell.group(0)

    return _TEXT_CELL.sub(classed, sanitized)


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("dashboard", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a misspelt name fails loudly instead of showing nothing
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["marked"] = marked
    environment.filters["passage"] = passage_filter
    return environment


def render(name: str, /, **values: object) -> str:
    """The fragment ``templates/<name>`` filled in with ``values``, each escaped unless it is ``Markup``.

    A plain ``str``, ready for a pane: Panel escapes an HTML pane's object for transport with ``html.escape``, which
    on a ``Markup`` would escape the fragment's own tags as well. A fragment put into another one goes in as
    ``Markup(render(...))``."""
    return _environment().get_template(name).render(**values)


def format_html(pattern: str, /, *values: object) -> str:
    """A one-line fragment: ``pattern`` is trusted markup with ``{}`` fields, every value is escaped (as Django's
    ``format_html``); a plain ``str`` like ``render``'s."""
    return str(Markup(pattern).format(*("" if v is None else v for v in values)))


def text(value: object) -> str:
    """Any value as HTML text, for plain-text messages Panel shows as HTML (a toast, a card's title)."""
    return str(escape("" if value is None else str(value)))


_WORD = re.compile(r"\w{3,}", re.UNICODE)
#: words too common to be worth marking in a passage (a query's "the" or "eine" would light up every line)
STOP_WORDS = frozenset(
    """
    the and for are but not you all any can had her was one our out has him his how its may new now old see two way
    who did get let put say she too use with from that this have were what when where which will would there their
    they them then than into onto over under about after before been being does each also just more most much must
    only other some such very your yours these those while whom whose why
    der die das den dem des ein eine einer eines einem einen und oder aber mit von vom zum zur bei aus auf für über
    unter nach vor wie wer was wann ist sind war waren wird werden hat haben dass nicht auch noch nur sich sie
    les des une est sont dans pour par sur avec que qui quoi mais ont aux ces cet cette son ses leur leurs pas
    los las una uno unos unas del por con para que como sus
    """.split()
)
_TAG_OR_ENTITY = re.compile(r"(<[^>]*>|&[#\w]+;)")


def marked(value: str, query: str) -> Markup:
    """``value`` as HTML text with the query's words (three letters or more, any case) in ``<mark>``: every piece
    is escaped on its own, so marking can never open a tag. A template filter: ``{{ passage | marked(query) }}``."""
    words = query_words(query)
    out, last = [], 0
    for match in _WORD.finditer(value):
        if match.group(0).casefold() in words:
            out.append(escape(value[last : match.start()]))
            out.append(Markup("<mark>{}</mark>").format(match.group(0)))
            last = match.end()
    out.append(escape(value[last:]))
    return Markup("").join(out)


def query_words(query: str) -> set[str]:
    """The words of a query worth marking: three letters or more, not a stop word, any case."""
    return {w.casefold() for w in _WORD.findall(query)} - STOP_WORDS


def passage_html(text: str, query: str = "") -> str:
    """A passage (a search hit, a cited text) as sanitized Markdown, the query's words marked: a heading reads as a
    heading, not as ``###``. Marking touches only the text between the sanitized tags, each word escaped already."""
    words = query_words(query)

    def mark(word: re.Match[str]) -> str:
        return f"<mark>{word.group(0)}</mark>" if word.group(0).casefold() in words else word.group(0)

    parts = _TAG_OR_ENTITY.split(clean_html(_rendered(text)))
    for index in range(0, len(parts), 2):  # the text between tags and entities; quotes spelt as the templates do
        parts[index] = parts[index].replace('"', "&#34;").replace("'", "&#39;")
        if words:
            parts[index] = _WORD.sub(mark, parts[index])
    return "".join(parts)


def passage_filter(value: str, query: str = "") -> Markup:
    """``passage_html`` as a template filter: ``{{ hit.text | passage(query) }}``."""
    return Markup(passage_html(value, query))  # sanitized by nh3, then only <mark> added around escaped words
