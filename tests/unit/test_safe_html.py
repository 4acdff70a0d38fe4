"""Text from documents and models never becomes markup: the sanitizer's allow-list, escaping in every helper that
builds HTML, the page's Content-Security-Policy and the websocket origins ``paperline serve`` accepts."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from dashboard.formatting import chunk_map_html, stepper_html
from dashboard.history import job_row
from dashboard.live import progress_line
from dashboard.results import result_header
from dashboard.safe_html import clean_html, format_html, markdown_html, marked, text
from dashboard.server import content_security_policy
from dashboard.upload import render_acknowledgements
from pipeline.core.elements import Cell, Element, Kind
from pipeline.core.errors import InvalidRequest
from pipeline.core.models import ChunkStatus, JobStatus, PageText
from pipeline.profiles.markdown import render_markdown
from pipeline.profiles.structured import table_html
from pipeline.profiles.text import escape_markdown_text
from pipeline.server.edge import panel_command, panel_environment, websocket_origins
from tests.docgen import HOSTILE
from tests.factories import chunk, job


class _LiveMarkup(HTMLParser):
    """Collects what a browser would run or fetch in a fragment: such tags, ``on*`` handlers, script URLs."""

    RUNS = {"script", "svg", "img", "iframe", "style", "object", "embed", "math"}

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.RUNS:
            self.found.append(tag)
        for name, value in attrs:
            url = (value or "").strip().lower()
            if name.startswith("on") or (name in ("href", "src") and url.startswith(("javascript:", "data:"))):
                self.found.append(f"{tag} {name}={value}")


def live_markup(fragment: str) -> list[str]:
    """Payload markup that is live in ``fragment``; escaped text (``&lt;img onerror=...&gt;``), also inside a quoted
    attribute such as a hover title, is fine."""
    parser = _LiveMarkup()
    parser.feed(fragment)
    parser.close()
    return parser.found


@pytest.mark.parametrize("payload", HOSTILE)
def test_markdown_html_shows_payloads_as_text(payload: str) -> None:
    rendered = markdown_html(f"Intro\n\n{payload}\n\n**bold** and [a site](https://example.org)")
    assert live_markup(rendered) == []
    assert "<strong>bold</strong>" in rendered
    assert '<a href="https://example.org" rel="noopener noreferrer nofollow">a site</a>' in rendered


def test_the_sanitizer_keeps_formatting_and_safe_links_only() -> None:
    dirty = (
        '<h2 onclick="x()">Head</h2><p style="color:red">para <em>em</em> <code>c</code></p>'
        '<table><tr><th align="left">a</th><td onmouseover="x()">b</td></tr></table>'
        '<a href="https://ok.example/">ok</a> <a href="mailto:a@b.example">mail</a> <a href="http://ok.example">h</a>'
        '<a href="javascript:alert(1)">js</a> <a href="JaVaScRiPt:alert(1)">js2</a> <a href="data:text/html,x">d</a>'
        '<a href="/logout">relative</a> <a href="vbscript:x">vb</a> <img src="https://tracker.example/p.png">'
        "<script>alert(1)</script><style>p{}</style><iframe src=https://x.example></iframe>"
        "<svg><script>alert(2)</script></svg><svg onload=alert(3)></svg><object data=x></object>"
    )
    clean = clean_html(dirty)
    assert live_markup(clean) == []
    for kept in ("<h2>Head</h2>", "<em>em</em>", "<code>c</code>", '<th align="left">a</th>', "<td>b</td>"):
        assert kept in clean
    hrefs = re.findall(r'href="([^"]*)"', clean)
    assert hrefs == ["https://ok.example/", "mailto:a@b.example", "http://ok.example"]
    assert "alert" not in clean and "style" not in clean and "tracker" not in clean


def test_claude_page_markers_become_dividers_not_html() -> None:
    rendered = markdown_html("<!-- page 2 -->\nFirst\n\n<!-- page 3 -->\n<b>x</b>")
    assert rendered.count('class="pl-page-marker"') == 2 and "page 3</div>" in rendered
    assert "&lt;b&gt;x&lt;/b&gt;" in rendered


def test_local_markdown_escapes_a_documents_markup() -> None:
    markdown = render_markdown([PageText(1, "\n".join(HOSTILE) + "\nA & B &amp; `tick` back\\slash", "text-layer")])
    rendered = markdown_html(markdown)
    assert live_markup(rendered) == []
    assert "[markdown link](javascript:alert('md'))" in rendered.replace("&#x27;", "'")
    # The rendered text is exactly the page's text: escaping changes nothing a reader sees.
    assert "A &amp; B &amp;amp; `tick` back\\slash" in rendered
    assert escape_markdown_text("x <y> [z] &lt; \\ `") == "x \\<y> \\[z\\] \\&lt; \\\\ \\`"


def test_every_html_helper_escapes_what_it_is_given() -> None:
    payload = HOSTILE[1]
    hostile = job(
        "j1",
        100.0,
        101.0,
        None,
        filename=payload,
        status=JobStatus.FAILED,
        error=HOSTILE[0],
        message=HOSTILE[2],
        notes=(HOSTILE[3],),
        meta={"title": payload, "author": HOSTILE[0], "instruction": HOSTILE[2]},
    )
    failed_chunk = chunk("j1", 0, 100.0, 101.0, status=ChunkStatus.FAILED, error=payload, worker=HOSTILE[3])
    fragments = {
        "result header": result_header(hostile),
        "chunk map": chunk_map_html([failed_chunk]),
        "stepper": stepper_html(hostile),
        "acknowledgements": render_acknowledgements([hostile, replace(hostile, status=JobStatus.QUEUED)]),
        "text": text(payload),
        "one-line fragment": format_html('<div class="pl-error">{}: {}</div>', payload, HOSTILE[0]),
        "marked passage": marked(f"{payload} around {HOSTILE[0]}", "img onerror alert around"),
    }
    for name, fragment in fragments.items():
        assert live_markup(fragment) == [], name
    # The templates escape with markupsafe, which spells quotes &#39; and &#34;.
    assert "Title: &lt;img src=x onerror=alert(&#39;img&#39;)&gt;" in fragments["result header"]
    assert "Instruction: &lt;a href=&#34;javascript" in fragments["result header"]
    assert "<mark>around</mark>" in fragments["marked passage"] and "<mark>img</mark>" in fragments["marked passage"]
    assert 'title="Chunk 1: pages 1-5, failed' in fragments["chunk map"]
    # Plain-text helpers return text the views escape; a History cell is plain text for Tabulator.
    assert job_row(hostile)["error"] == HOSTILE[0] and payload not in progress_line(hostile, [])


def test_the_page_policy_allows_the_pages_own_scripts_by_hash_only() -> None:
    page = (
        '<html><head><script type="text/javascript">Bokeh.set_log_level("info");</script>'
        '<script type="application/json" id="d">{"a": 1}</script><script src="static/js/bokeh.min.js"></script>'
        "</head><body><span onclick=\"closeNav()\">=</span><fast-switch onChange='toggle(&quot;x&quot;)'></fast-switch>"
        "<script>embed()</script></body></html>"
    )
    policy = dict(part.split(" ", 1) for part in content_security_policy(page).split("; "))
    scripts = policy["script-src"].split()
    assert "'unsafe-inline'" not in scripts and "'self'" in scripts
    hashes = [s for s in scripts if s.startswith("'sha256-")]
    assert len(hashes) == 4, "two inline scripts and two inline handlers; the JSON block and src= scripts need none"
    assert "'unsafe-hashes'" in scripts
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'self'"
    # A handler that is not the template's own (an injected onerror=) gets no hash of its own.
    assert content_security_policy(page.replace("closeNav()", "alert(1)")) != content_security_policy(page)


def test_websocket_origins_are_named_never_a_wildcard() -> None:
    assert websocket_origins("", "127.0.0.1", 5006) == ["127.0.0.1:5006", "localhost:5006"]
    assert websocket_origins("https://paperline.example.org, http://10.0.0.5:8080", "0.0.0.0", 5006) == [
        "10.0.0.5:8080",
        "paperline.example.org:443",
    ]
    anywhere = websocket_origins("", "0.0.0.0", 5006)
    assert "localhost:5006" in anywhere and not any("*" in origin for origin in anywhere)
    assert websocket_origins("", "192.168.1.20", 80) == ["192.168.1.20:80"]
    with pytest.raises(InvalidRequest, match="PAPERLINE_PUBLIC_URL"):
        websocket_origins("ftp://files.example", "0.0.0.0", 5006)


def test_serve_signs_sessions_only_with_authentication() -> None:
    plain = panel_command("app.py", address="0.0.0.0", port=5006, public_url="https://p.example", panel_args=[])
    assert "--session-ids" not in plain and "*:5006" not in " ".join(plain)
    assert plain[plain.index("--allow-websocket-origin") + 1] == "p.example:443"
    assert plain[plain.index("--plugins") + 1] == "dashboard.server"
    auth = ["--basic-auth", "users.json", "--cookie-secret", "s"]
    assert "signed" in panel_command("app.py", address="127.0.0.1", port=1, public_url="", panel_args=auth)
    env = panel_environment({}, auth)
    assert len(env["BOKEH_SECRET_KEY"]) >= 32 and panel_environment({}, []) == {}
    assert panel_environment({"BOKEH_SECRET_KEY": "mine"}, auth)["BOKEH_SECRET_KEY"] == "mine"


def test_a_table_with_spanning_cells_is_shown_as_a_table_and_its_text_stays_text() -> None:
    """The structured Markdown writes a table whose cells span as HTML; the page shows it as a table through the
    sanitizer (spans kept, handlers dropped), while any other raw HTML, and hostile cell text, stays text."""
    table = Element(
        Kind.TABLE,
        "",
        1,
        (0.0, 0.0, 1.0, 1.0),
        cells=[
            Cell(0, 0, "Region", row_span=2, header=True),
            Cell(0, 1, "<script>alert(1)</script>", header=True),
            Cell(1, 1, "[x](javascript:alert(2))"),
        ],
        header_rows=1,
    )
    written = table_html(table)
    shown = markdown_html(f"Before\n\n{written}\n\n<b>bold?</b>")
    assert '<th rowspan="2">Region</th>' in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown and "<script" not in shown
    assert "javascript:" not in shown.replace("[x](javascript:alert(2))", "") and "<a " not in shown
    assert "&lt;b&gt;bold?&lt;/b&gt;" in shown, "raw HTML other than a written table stays visible text"
    forged = markdown_html('<table>\n<tr><td onclick="steal()">1</td></tr>\n</table>')
    assert "onclick" not in forged and '<td class="pl-num">1</td>' in forged


def test_a_passage_reads_as_markdown_with_the_querys_words_marked_but_not_its_stop_words() -> None:
    from dashboard.safe_html import passage_html

    passage = "### Warranty & terms\n\nThe warranty of eine Firma expires in **2027**."
    html = passage_html(passage, "warranty eine expires")
    assert "###" not in html and "<h3><mark>Warranty</mark> &amp; terms</h3>" in html
    assert "<mark>expires</mark>" in html and "<mark>eine</mark>" not in html and "<strong>2027</strong>" in html
    for payload in HOSTILE:
        assert live_markup(passage_html(f"## {payload}\n\n{payload}", "img script onerror alert")) == [], payload


def test_the_module_shims_probe_is_allowed_by_this_responses_nonce_only() -> None:
    from dashboard.server import MODULE_SHIM

    page = (
        '<html><head><script type="text/javascript" src="static/extensions/panel/bundled/reactiveesm/'
        'es-module-shims@^1.10.0/dist/es-module-shims.min.js"></script><script src="static/js/bokeh.min.js">'
        "</script></head></html>"
    )
    tagged, found = MODULE_SHIM.subn('<script nonce="abc"', page, count=1)
    assert found == 1 and tagged.count('nonce="abc"') == 1
    assert '<script nonce="abc" type="text/javascript" src' in tagged
    policy = dict(part.split(" ", 1) for part in content_security_policy(tagged, "abc").split("; "))
    assert "'nonce-abc'" in policy["script-src"].split() and "'unsafe-inline'" not in policy["script-src"]
    assert "'nonce-" not in content_security_policy(page), "no nonce where no script was given one"
    assert "googleapis" not in content_security_policy(page) and "gstatic" not in content_security_policy(page)
