"""Pages with a known structure printed by real engines, varied at random from a seed: journal articles printed by
headless Chromium from HTML and CSS (one to three columns, a title and abstract over the columns or an abstract set
in bold in the first column, run-in bold openings, footnotes, charts and diagrams drawn in SVG with their axis
labels, a financial statement's dated header, a banner, a download stamp, a revision code and page numbers at the
page's edges), and reports drawn with fpdf2 whose running header and footer alternate between left and right
pages. Each comes with what was drawn, in reading order (``Drawn``), and ``score`` compares what the layout reader
made of it with that, kind by kind.

Every document is made from a ``random.Random(seed)``: the same seed, the same document."""

from __future__ import annotations

import html
import itertools
import random
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fpdf import FPDF

CHROMIUM = "/usr/bin/chromium"
#: fonts Debian installs with the project's packages (fonts-dejavu, fonts-liberation, fonts-freefont, fonts-crosextra)
FONTS = ["DejaVu Serif", "DejaVu Sans", "Liberation Serif", "Liberation Sans", "FreeSerif", "Carlito", "Caladea"]
WORDS = (
    "analysis patient cohort sample measure effect trial dose response group baseline outcome survey region model "
    "estimate variance growth income market price demand supply policy reform budget ledger invoice contract audit "
    "review method result signal noise layer sensor network protocol channel latency storage index query record "
    "harvest rainfall soil yield crop season river basin coast forest species habitat climate winter summer "
    "factory output worker shift wage union energy grid solar turbine battery charge voltage current circuit"
).split()
RUN_IN = ["Background.", "Setting.", "Participants.", "Procedure.", "Data.", "Limitations.", "Scope.", "Design."]
SECTIONS = ["Introduction", "Related Work", "Methods", "Study Area", "Data Collection", "Results", "Discussion"]
SUBSECTIONS = ["Sampling", "Measures", "Analysis", "Validation", "Sensitivity", "Costs", "Outcomes"]
JOURNALS = ["Journal of Applied Field Studies", "Annals of Regional Economics", "Review of Sensor Networks"]


@dataclass(frozen=True)
class Block:
    """One thing drawn: ``kind`` is title, heading, paragraph, footnote, caption, furniture, figure or table."""

    kind: str
    text: str
    page: int = 0  # furniture: the page it is on (0: every page)


@dataclass
class Drawn:
    """A generated document: where it is, what it holds in reading order, and the style it was drawn in."""

    path: Path
    blocks: list[Block]
    #: texts inside figures (tick labels, axis titles, a diagram's labels): never body text, never a table
    labels: list[str] = field(default_factory=list)
    #: lines of a table's head that must not become headings (a statement's "Year Ended" and its dates)
    not_headings: list[str] = field(default_factory=list)
    style: dict[str, Any] = field(default_factory=dict)


# -- text ---------------------------------------------------------------------------------------------------------
def sentence(rng: random.Random, words: int | None = None) -> str:
    picked = [rng.choice(WORDS) for _ in range(words or rng.randint(7, 15))]
    return " ".join(picked).capitalize() + "."


def paragraph_text(rng: random.Random, sentences: int | None = None) -> str:
    return " ".join(sentence(rng) for _ in range(sentences or rng.randint(3, 6)))


# -- figures in SVG -----------------------------------------------------------------------------------------------
def chart_svg(rng: random.Random, width: int) -> tuple[str, list[str]]:
    """A bar or line chart: axes, evenly spaced tick labels on both, a rotated y-axis title, an x-axis title."""
    height = rng.randint(150, 220)
    left, bottom = 46, height - 34
    years = rng.random() < 0.5
    n = rng.randint(4, 7)
    first = rng.randint(2010, 2018)
    xs = [str(first + i) for i in range(n)] if years else [str(10 * i) for i in range(n)]
    step_y = rng.choice([5, 10, 20, 25, 50, 100])
    ys = [str(step_y * i) for i in range(5)]
    title_y = rng.choice(["Share of cases (%)", "Revenue (millions)", "Rainfall (mm)", "Latency (ms)"])
    title_x = "Year" if years else rng.choice(["Dose (mg)", "Distance (km)", "Load (kN)"])
    parts = [f'<svg width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg" font-size="9">']
    parts.append(f'<line x1="{left}" y1="{bottom}" x2="{width - 8}" y2="{bottom}" stroke="black"/>')
    parts.append(f'<line x1="{left}" y1="8" x2="{left}" y2="{bottom}" stroke="black"/>')
    span_x = (width - left - 20) / max(1, n - 1)
    for i, label in enumerate(xs):
        x = left + 6 + i * span_x
        parts.append(f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 4}" stroke="black"/>')
        parts.append(f'<text x="{x:.1f}" y="{bottom + 14}" text-anchor="middle">{label}</text>')
    span_y = (bottom - 16) / 4
    for i, label in enumerate(ys):
        y = bottom - i * span_y
        parts.append(f'<line x1="{left - 4}" y1="{y:.1f}" x2="{left}" y2="{y:.1f}" stroke="black"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 3:.1f}" text-anchor="end">{label}</text>')
    values = [rng.uniform(0.1, 0.95) for _ in xs]
    if rng.random() < 0.5:
        for i, v in enumerate(values):
            x = left + 6 + i * span_x
            top = bottom - v * 4 * span_y
            parts.append(f'<rect x="{x - 6:.1f}" y="{top:.1f}" width="12" height="{bottom - top:.1f}" fill="#69c"/>')
    else:
        points = " ".join(f"{left + 6 + i * span_x:.1f},{bottom - v * 4 * span_y:.1f}" for i, v in enumerate(values))
        parts.append(f'<polyline points="{points}" fill="none" stroke="#c33" stroke-width="1.5"/>')
    parts.append(f'<text x="{-(bottom / 2):.1f}" y="12" transform="rotate(-90)" text-anchor="middle">{title_y}</text>')
    parts.append(f'<text x="{(left + width) / 2:.1f}" y="{height - 4}" text-anchor="middle">{title_x}</text>')
    parts.append("</svg>")
    return "".join(parts), [*xs, *ys, title_y, title_x]


def diagram_svg(rng: random.Random, width: int) -> tuple[str, list[str]]:
    """Boxes with short labels scattered over the drawing, joined by lines."""
    height = rng.randint(140, 200)
    names = rng.sample(["Sensor", "Gateway", "Broker", "Store", "Model", "Dashboard", "Alerts", "Archive"], 5)
    parts = [f'<svg width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg" font-size="9">']
    spots = []
    box = min(70, (width - 30) // 3)
    for i, name in enumerate(names):  # on a loose grid of three by two, never touching
        x = 6 + (i % 3) * (width - box - 12) / 2 + rng.randint(0, 4)
        y = 10 + (i // 3) * (height - 50) + rng.randint(0, 12)
        spots.append((x, y))
        parts.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="{box}" height="26" fill="none" stroke="black"/>')
        parts.append(f'<text x="{x + box / 2:.0f}" y="{y + 16:.0f}" text-anchor="middle">{name}</text>')
    for (ax, ay), (bx, by) in itertools.pairwise(spots):
        parts.append(f'<line x1="{ax + box:.0f}" y1="{ay + 13:.0f}" x2="{bx:.0f}" y2="{by + 13:.0f}" stroke="#555"/>')
    parts.append("</svg>")
    return "".join(parts), names


# -- journal articles, printed by Chromium -------------------------------------------------------------------------
@contextmanager
def chromium() -> Iterator[Any]:
    """One headless Chromium for many documents."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield browser
        finally:
            browser.close()


def journal(browser: Any, path: Path, seed: int, **choose: Any) -> Drawn:
    """A journal article printed by Chromium (``choose`` fixes any of the style's random choices by name)."""
    rng = random.Random(seed)

    def pick(name: str, value: Any) -> Any:
        return choose.get(name, value)

    style = {
        "columns": pick("columns", rng.choice([1, 2, 2, 2, 3])),
        "font": pick("font", rng.choice(FONTS)),
        "size": pick("size", round(rng.uniform(8.5, 11.0), 1)),
        "gutter_mm": pick("gutter_mm", round(rng.uniform(4.0, 9.0), 1)),
        "margin_mm": pick("margin_mm", round(rng.uniform(14.0, 24.0), 1)),
        "abstract": pick("abstract", rng.choice(["spanning", "bold-column", "none"])),
        "figure": pick("figure", rng.choice(["chart", "diagram", "none", "chart"])),
        "figure_spans": pick("figure_spans", rng.random() < 0.5),
        "statement": pick("statement", rng.random() < 0.25),
        "footnotes": pick("footnotes", rng.random() < 0.5),
        "sections": pick("sections", rng.randint(3, 6)),
        "header": pick("header", rng.choice(["banner", "running", "none"])),
        "footer": pick("footer", rng.choice(["downloaded", "page-of", "revision", "none"])),
        "numbered": pick("numbered", rng.random() < 0.6),
        "heading_scale": pick("heading_scale", round(rng.uniform(1.0, 1.4), 2)),
    }
    columns = style["columns"]
    blocks: list[Block] = []
    labels: list[str] = []
    not_headings: list[str] = []
    body: list[str] = []

    def add(kind: str, text: str, markup: str) -> None:
        blocks.append(Block(kind, text))
        body.append(markup)

    title = " ".join(w.capitalize() for w in [rng.choice(WORDS) for _ in range(rng.randint(4, 9))])
    add("title", title, f'<h1 class="span">{html.escape(title)}</h1>')
    authors = ", ".join(f"{chr(65 + rng.randint(0, 25))}. {rng.choice(WORDS).capitalize()}" for _ in range(3))
    add("paragraph", authors, f'<p class="span authors">{html.escape(authors)}</p>')
    if style["abstract"] == "spanning":
        text = paragraph_text(rng, rng.randint(4, 7))
        add("paragraph", f"Abstract {text}", f'<p class="span abstract"><b>Abstract</b> {html.escape(text)}</p>')
    elif style["abstract"] == "bold-column":
        text = paragraph_text(rng, rng.randint(6, 10))
        add("paragraph", text, f'<p class="boldall">{html.escape(text)}</p>')
    figure_at = rng.randint(1, style["sections"] - 1) if style["figure"] != "none" else -1
    statement_at = rng.randint(1, style["sections"] - 1) if style["statement"] else -1
    for number, name in enumerate(rng.sample(SECTIONS, style["sections"]), start=1):
        heading = f"{number}. {name}" if style["numbered"] else name
        add("heading", heading, f"<h2>{html.escape(heading)}</h2>")
        for p in range(rng.randint(1, 3)):
            text = paragraph_text(rng)
            if p == 0 and rng.random() < 0.35:
                lead = rng.choice(RUN_IN)
                add("paragraph", f"{lead} {text}", f"<p><b>{lead}</b> {html.escape(text)}</p>")
            else:
                add("paragraph", text, f"<p>{html.escape(text)}</p>")
        if rng.random() < 0.3:
            sub = f"{number}.1 {rng.choice(SUBSECTIONS)}" if style["numbered"] else rng.choice(SUBSECTIONS)
            add("heading", sub, f"<h3>{html.escape(sub)}</h3>")
            text = paragraph_text(rng)
            add("paragraph", text, f"<p>{html.escape(text)}</p>")
        if number == figure_at:
            spans = style["figure_spans"] and columns > 1
            width = 420 if spans or columns == 1 else int(560 / columns)
            svg, drawn = chart_svg(rng, width) if style["figure"] == "chart" else diagram_svg(rng, width)
            labels += drawn
            caption = f"Figure 1. {sentence(rng, 8)}"
            blocks.append(Block("figure", " ".join(drawn)))
            blocks.append(Block("caption", caption))
            body.append(
                f'<figure class="{"span" if spans else ""}">{svg}<figcaption>{html.escape(caption)}</figcaption>'
                "</figure>"
            )
        if number == statement_at:
            statement, head = statement_html(rng)
            not_headings += head
            blocks.append(Block("table", " ".join(head)))
            body.append(statement)
    if style["footnotes"]:
        for n in range(1, rng.randint(2, 3)):
            text = f"{n} {sentence(rng, 10)}"
            add("footnote", text, f'<p class="note">{html.escape(text)}</p>')
    furniture, header, footer = _edges(rng, style)
    blocks += furniture
    css = _journal_css(style)
    document = f"<html><head><style>{css}</style></head><body><div class='cols'>{''.join(body)}</div></body></html>"
    page = browser.new_page()
    try:
        page.set_content(document)
        margin = f"{style['margin_mm']}mm"
        page.pdf(
            path=str(path),
            format="A4",
            display_header_footer=bool(header or footer),
            header_template=header or "<span></span>",
            footer_template=footer or "<span></span>",
            margin={"top": margin, "bottom": margin, "left": margin, "right": margin},
        )
    finally:
        page.close()
    return Drawn(path, blocks, labels, not_headings, style)


def statement_html(rng: random.Random) -> tuple[str, list[str]]:
    """A financial statement: "Year Ended December 31" over three dates and "(In millions)", in bold, over rows of
    amounts with the currency sign in a column of its own."""
    years = [str(2023 - i) for i in range(3)]
    head = ["Year Ended December 31,", " ".join(years), "(In millions)"]
    rows = []
    for name in rng.sample(["Revenue", "Cost of revenue", "Gross margin", "Operating expenses", "Net income"], 4):
        amounts = "".join(f'<td class="cur">$</td><td class="num">{rng.randint(10, 9999):,}</td>' for _ in years)
        rows.append(f"<tr><td>{name}</td>{amounts}</tr>")
    head_html = (
        '<tr><th></th><th colspan="6" class="c">Year Ended December 31,</th></tr>'
        "<tr><th></th>" + "".join(f'<th colspan="2" class="c">{y}</th>' for y in years) + "</tr>"
        '<tr><th class="l">(In millions)</th><th colspan="6"></th></tr>'
    )
    widths = '<colgroup><col style="width:28%">' + '<col style="width:5%"><col style="width:19%">' * 3 + "</colgroup>"
    return f'<table class="statement">{widths}{head_html}{"".join(rows)}</table>', head


def _edges(rng: random.Random, style: dict[str, Any]) -> tuple[list[Block], str, str]:
    """What stands at the page's top and bottom edges: Chromium's header and footer templates (as small text)."""
    journal = rng.choice(JOURNALS)
    blocks: list[Block] = []
    small = f"font-size:{rng.choice([6.5, 7, 7.5, 8])}pt; font-family:'{style['font']}'; width:100%; margin:0 12mm;"
    header = footer = ""
    if style["header"] == "banner":
        text = f"{journal} {rng.randint(2015, 2024)}, {rng.randint(1, 40)}, {rng.randint(100, 999)}"
        doi = f"https://doi.org/10.{rng.randint(1000, 9999)}/jafs.{rng.randint(10000, 99999)}"
        header = (
            f'<div style="{small} display:flex; justify-content:space-between">'
            f"<span>{text}</span><span>{doi}</span></div>"
        )
        blocks += [Block("furniture", text), Block("furniture", doi)]
    elif style["header"] == "running":
        text = f"{journal} · Vol. {rng.randint(1, 60)}, No. {rng.randint(1, 12)}"
        header = f'<div style="{small} text-align:right"><span>{text}</span></div>'
        blocks.append(Block("furniture", text))
    if style["footer"] == "downloaded":
        where = f"https://www.example.org/journal/{rng.randint(100, 999)}"
        text = f"Downloaded from {where} on {rng.randint(1, 28)} March 2024"
        footer = f'<div style="{small} text-align:center"><span>{text}</span></div>'
        blocks.append(Block("furniture", text))
    elif style["footer"] == "page-of":
        footer = (
            f'<div style="{small} text-align:right">Page <span class="pageNumber"></span> of '
            '<span class="totalPages"></span></div>'
        )
        blocks.append(Block("furniture", "Page # of #"))
    elif style["footer"] == "revision":
        day = f"{rng.randint(2019, 2024)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
        text = f"DOC-{rng.randint(1000, 9999)} Rev. {rng.choice('ABCDE')} {day}"
        footer = f'<div style="{small} text-align:left"><span>{text}</span></div>'
        blocks.append(Block("furniture", text))
    return blocks, header, footer


def _journal_css(style: dict[str, Any]) -> str:
    size = style["size"]
    return f"""
body {{ font-family: '{style["font"]}'; font-size: {size}pt; line-height: 1.25; margin: 0; }}
.cols {{ column-count: {style["columns"]}; column-gap: {style["gutter_mm"]}mm; }}
.span {{ column-span: all; }}
h1 {{ font-size: {size * 1.8:.1f}pt; text-align: center; margin: 0 0 6pt; }}
h2 {{ font-size: {size * style["heading_scale"]:.1f}pt; margin: 9pt 0 3pt; break-after: avoid; }}
h3 {{ font-size: {size:.1f}pt; font-style: italic; margin: 6pt 0 2pt; break-after: avoid; }}
p {{ margin: 0 0 {size * 0.6:.1f}pt; text-align: justify; }}
.authors {{ text-align: center; margin-bottom: 10pt; }}
.abstract {{ margin: 0 8mm 12pt; }}
.boldall {{ font-weight: bold; }}
.note {{ font-size: {size * 0.8:.1f}pt; }}
figure {{ margin: 6pt 0; break-inside: avoid; }}
figcaption {{ font-size: {size * 0.9:.1f}pt; margin-top: 3pt; }}
table.statement {{ border-collapse: collapse; margin: 6pt 0; font-size: {size * 0.75:.1f}pt; break-inside: avoid;
  width: 100%; table-layout: fixed; }}
table.statement th {{ font-weight: bold; padding: 1pt 3pt; }}
table.statement td {{ padding: 1pt 3pt; }}
.c {{ text-align: center; }} .l {{ text-align: left; font-weight: normal; }}
.num {{ text-align: right; }} .cur {{ padding-right: 0; }}
"""


# -- reports with alternating running heads, drawn by fpdf2 --------------------------------------------------------
class _Alternating(FPDF):
    """Running header and footer set at the outer edge: left on even pages, right on odd ones, with the number."""

    title_text = ""
    author_text = ""

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font("Helvetica", "I", 8)
        self.set_xy(20, 10)
        text = self.title_text if self.page_no() % 2 else self.author_text
        self.cell(170, 5, text, align="R" if self.page_no() % 2 else "L")
        self.set_xy(self.l_margin, self.t_margin)

    def footer(self) -> None:
        self.set_font("Helvetica", size=8)
        self.set_xy(20, 284)
        odd = self.page_no() % 2
        text = f"{self.title_text} {self.page_no()}" if odd else f"{self.page_no()} {self.author_text}"
        self.cell(170, 5, text, align="R" if odd else "L")


def alternating_report(path: Path, seed: int, pages: int = 5) -> Drawn:
    """A report of ``pages`` pages of headings and paragraphs whose running header and footer (with the page
    number) alternate between the outer edges of left and right pages."""
    rng = random.Random(seed)
    pdf = _Alternating(format="A4")
    pdf.title_text = " ".join(w.capitalize() for w in rng.sample(WORDS, 4))
    pdf.author_text = f"{rng.choice(WORDS).capitalize()} et al."
    pdf.set_margins(20, 22, 20)
    pdf.set_auto_page_break(True, margin=25)
    blocks: list[Block] = []
    pdf.add_page()
    number = 0
    while pdf.page_no() <= pages:
        number += 1
        heading = f"{number} {rng.choice(SECTIONS)}"
        if pdf.get_y() > 230:
            if pdf.page_no() == pages:
                break
            pdf.add_page()
        pdf.set_font("Helvetica", "B", 13)
        pdf.multi_cell(170, 7, heading)
        pdf.ln(2)
        blocks.append(Block("heading", heading))
        for _ in range(rng.randint(1, 3)):
            text = paragraph_text(rng)
            if pdf.get_y() > 240 and pdf.page_no() == pages:
                break
            pdf.set_font("Times", size=11)
            pdf.multi_cell(170, 5.5, text)
            pdf.ln(3)
            blocks.append(Block("paragraph", text))
        if pdf.page_no() == pages and pdf.get_y() > 200:
            break
    for page in range(1, pdf.page_no() + 1):
        odd = page % 2
        blocks.append(Block("furniture", f"{pdf.title_text} {page}" if odd else f"{page} {pdf.author_text}", page))
        if page > 1:
            blocks.append(Block("furniture", pdf.title_text if odd else pdf.author_text, page))
    pdf.output(str(path))
    return Drawn(path, blocks, style={"pages": pdf.page_no()})


# -- scoring ------------------------------------------------------------------------------------------------------
def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w%#]+", " ", text.casefold()).split())


def score(elements: Sequence[Any], drawn: Drawn) -> dict[str, float]:
    """What the reader made of a drawn document, kind by kind, each from 0 to 1 (1: as drawn):
    ``order``: consecutive body blocks found in the order drawn; ``intact``: body blocks found whole, in one run of
    the text; ``headings``: F1 of the headings (and title) found against those drawn; ``furniture``: the share of
    furniture kept out of the body, times the share of what was marked furniture that is furniture; ``figures``:
    the share of figure labels kept out of paragraphs, lists, headings and tables."""
    from pipeline.core.elements import Kind

    def text_of(element: Any) -> str:
        if element.kind is Kind.TABLE:
            return " ".join(cell.text for cell in element.cells)
        return str(element.text)

    body = [e for e in elements if e.kind not in (Kind.FURNITURE, getattr(Kind, "FIGURE", None))]
    stream = " " + " ".join(_norm(text_of(e)) for e in body) + " "
    text_blocks = [b for b in drawn.blocks if b.kind in ("title", "heading", "paragraph", "footnote", "caption")]
    positions = []
    intact = 0
    for block in text_blocks:
        words = _norm(block.text).split()
        intact += f" {' '.join(words)} " in stream
        positions.append(stream.find(f" {' '.join(words[:8])} "))
    found = [p for p in positions if p >= 0]
    in_order = sum(a < b for a, b in itertools.pairwise(found))
    out: dict[str, float] = {
        "order": in_order / max(1, len(found) - 1) * len(found) / max(1, len(positions)),
        "intact": intact / max(1, len(text_blocks)),
    }
    drawn_headings = {_norm(b.text) for b in drawn.blocks if b.kind in ("title", "heading")}
    made = [_norm(e.text) for e in elements if e.kind in (Kind.TITLE, Kind.HEADING)]
    hits = sum(1 for h in made if h in drawn_headings)
    precision = hits / len(made) if made else 1.0
    recall = len(drawn_headings & set(made)) / len(drawn_headings) if drawn_headings else 1.0
    out["headings"] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    furniture = [b for b in drawn.blocks if b.kind == "furniture"]
    if furniture:
        pattern = [re.compile(r"\b" + re.escape(_norm(b.text)).replace("\\#", r"\d+") + r"\b") for b in furniture]
        kept_out = sum(1 for p in pattern if not p.search(stream))
        marked = [_norm(e.text) for e in elements if e.kind is Kind.FURNITURE]
        right = sum(1 for m in marked if any(p.search(m) for p in pattern))
        out["furniture"] = kept_out / len(pattern) * (right / len(marked) if marked else 0.0)
    if drawn.labels:
        labelled = {_norm(label) for label in drawn.labels}
        leaked = 0
        for element in body:
            parts = [_norm(c.text) for c in element.cells] if element.kind is Kind.TABLE else [_norm(element.text)]
            words = [p for p in parts if p]
            if words and sum(p in labelled or all(w in labelled for w in p.split()) for p in words) >= 0.5 * len(words):
                leaked += len(words)
        out["figures"] = max(0.0, 1 - leaked / len(labelled))
    return out
