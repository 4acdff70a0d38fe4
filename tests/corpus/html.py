"""Documents written as HTML and CSS, to be printed to PDF by headless Chromium: each builder returns the page's
HTML and its ground truth (tests/corpus/truth.py), drawn from a seeded random generator.

Every page is one ``.sheet`` of the paper's size (``@page`` margin 0, the margins as padding), so furniture can
stand in the margins and a document meant to be one page can be checked to be one (the builder is called again
with ``shrink`` raised when it ran over)."""

from __future__ import annotations

import html
import random
from dataclasses import dataclass, field
from typing import Any

from tests.corpus import truth as t
from tests.corpus import words as w
from tests.corpus.truth import DocTruth, TableTruth

SERIF = ["Liberation Serif", "DejaVu Serif", "FreeSerif", "Caladea"]
SANS = ["Liberation Sans", "DejaVu Sans", "FreeSans", "Carlito", "Liberation Sans Narrow"]
PAPER = {"A4": (210.0, 297.0), "Letter": (215.9, 279.4)}
TABLE_STYLES = ("grid", "booktabs", "ruleless", "shaded")


@dataclass
class Theme:
    """What a document's look was drawn from: paper, margins, fonts, sizes."""

    paper: str
    width: float  # mm
    height: float
    margin: float
    side: float
    font: str
    heading_font: str
    size: float  # pt
    leading: float
    justify: bool
    extra: dict[str, Any] = field(default_factory=dict)

    def notes(self) -> dict[str, Any]:
        return {
            "paper": self.paper,
            "font": self.font,
            "heading_font": self.heading_font,
            "size": self.size,
            "margin_mm": self.margin,
        }


def theme(rng: random.Random, *, landscape: bool = False) -> Theme:
    paper = rng.choice(list(PAPER))
    width, height = PAPER[paper]
    if landscape:
        width, height = height, width
    font = rng.choice(SERIF + SANS)
    return Theme(
        paper=paper + (" landscape" if landscape else ""),
        width=width,
        height=height,
        margin=rng.uniform(12, 24),
        side=rng.uniform(12, 24),
        font=font,
        heading_font=rng.choice([font, *SANS]) if rng.random() < 0.5 else font,
        size=round(rng.uniform(9, 11.5), 1),
        leading=round(rng.uniform(1.15, 1.45), 2),
        justify=rng.random() < 0.5,
    )


def css(th: Theme) -> str:
    return f"""
@page {{ size: {th.width}mm {th.height}mm; margin: 0; }}
* {{ box-sizing: border-box; }}
html, body {{ margin: 0; padding: 0; }}
body {{ font-family: '{th.font}'; font-size: {th.size}pt; line-height: {th.leading}; color: #000; }}
.sheet {{ position: relative; width: {th.width}mm; height: {th.height}mm; overflow: hidden;
  padding: {th.margin}mm {th.side}mm; page-break-after: always; }}
.flow {{ padding: {th.margin}mm {th.side}mm; }}
p {{ margin: 0 0 0.55em 0; text-align: {"justify" if th.justify else "left"}; orphans: 1; widows: 1; }}
h1, h2, h3, h4 {{ font-family: '{th.heading_font}'; margin: 0.7em 0 0.35em 0; line-height: 1.2; }}
h1 {{ font-size: {th.size * 1.9:.1f}pt; }}
h2 {{ font-size: {th.size * 1.45:.1f}pt; }}
h3 {{ font-size: {th.size * 1.2:.1f}pt; }}
h4 {{ font-size: {th.size * 1.05:.1f}pt; font-style: italic; }}
table {{ border-collapse: collapse; margin: 4pt 0 10pt 0; }}
th, td {{ padding: 2pt 6pt; vertical-align: top; text-align: left; }}
td.n, th.n {{ text-align: right; }}
th.c {{ text-align: center; }}
table.grid td, table.grid th {{ border: 0.6pt solid #000; }}
table.booktabs {{ border-top: 1.2pt solid #000; border-bottom: 1.2pt solid #000; }}
table.booktabs thead tr:last-child th {{ border-bottom: 0.6pt solid #000; }}
table.booktabs th.group {{ border-bottom: 0.5pt solid #000; }}
table.ruleless td, table.ruleless th {{ padding: 1.5pt 10pt 1.5pt 0; }}
table.shaded tbody tr:nth-child(even) td {{ background: #e4e4e4; }}
table.shaded thead th {{ background: #c8c8c8; }}
.caption {{ font-weight: bold; margin: 8pt 0 2pt 0; text-align: left; }}
td ul {{ margin: 0; padding-left: 1.1em; }}
.small {{ font-size: {th.size * 0.8:.1f}pt; }}
"""


def page(th: Theme, body: str, extra_css: str = "") -> str:
    head = f"<meta charset='utf-8'><style>{css(th)}{extra_css}</style>"
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>"


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def is_number(text: str) -> bool:
    stripped = text.replace(",", "").replace(".", "").replace("%", "").replace("$", "").strip("()-+ ")
    return bool(stripped) and stripped.isdigit()


def render_table(table: TableTruth, css_class: str, shown: dict[tuple[int, int], str] | None = None) -> str:
    """The table as HTML, cell for cell as the truth has it (``shown`` replaces a cell's HTML: line breaks in a
    header cell, a list in a body cell); header rows in ``<thead>`` as ``<th>``."""
    shown = shown or {}
    spans = {(r, c): (rs, cs) for r, c, rs, cs in table.spans}
    covered = {(r + dr, c + dc) for r, c, rs, cs in table.spans for dr in range(rs) for dc in range(cs) if dr or dc}
    out = [f"<table class='{css_class}'>"]
    for r, row in enumerate(table.rows):
        if r == 0 and table.header_rows:
            out.append("<thead>")
        if r == table.header_rows:
            out.append("<tbody>")
        tag = "th" if r < table.header_rows else "td"
        cells = []
        for c, text in enumerate(row):
            if (r, c) in covered:
                continue
            rs, cs = spans.get((r, c), (1, 1))
            attrs = (f" rowspan='{rs}'" if rs > 1 else "") + (f" colspan='{cs}'" if cs > 1 else "")
            classes = []
            if cs > 1 and tag == "th":
                classes.append("group c")
            elif is_number(text) or (tag == "th" and c > 0 and table.style == "financial"):
                classes.append("n")
            if classes:
                attrs += f" class='{' '.join(classes)}'"
            cells.append(f"<{tag}{attrs}>{shown.get((r, c), esc(text))}</{tag}>")
        out.append("<tr>" + "".join(cells) + "</tr>")
        if r == table.header_rows - 1:
            out.append("</thead>")
    out.append("</tbody></table>" if table.header_rows < len(table.rows) else "</table>")
    return "\n".join(out)


# --- tables ---------------------------------------------------------------------------------------------------------


def simple_table(rng: random.Random, style: str, *, rows: int | None = None, cols: int | None = None) -> TableTruth:
    """A header row of labels, a stub column of labels, figures of one kind per column."""
    n_cols = cols or rng.randint(3, 6)
    n_rows = rows or rng.randint(4, 10)
    header = [rng.choice(["", w.label(rng)]), *w.unique_labels(rng, n_cols - 1)]
    kinds = [rng.choice(["int", "dec", "pct", "int", "dec"]) for _ in range(n_cols - 1)]
    body = [[stub, *(w.number(rng, k) for k in kinds)] for stub in w.unique_labels(rng, n_rows)]
    return TableTruth.from_rows([header, *body], 1, style)


def multiline_table(rng: random.Random, style: str, *, lists: bool) -> tuple[TableTruth, dict[tuple[int, int], str]]:
    """Cells of several lines: a description column of sentences, and (``lists``) a column of bullet lists."""
    n_rows = rng.randint(3, 5)
    header = [w.label(rng), "Description", "Items" if lists else w.label(rng), w.label(rng)]
    rows: list[list[t.CellSpec]] = [header]
    shown: dict[tuple[int, int], str] = {}
    for r in range(1, n_rows + 1):
        items = [" ".join(w.words(rng, rng.randint(1, 3))) for _ in range(rng.randint(2, 3))]
        third = " ".join(items) if lists else w.sentence(rng, rng.randint(4, 7))
        if lists:
            shown[r, 2] = "<ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>"
        rows.append([w.label(rng), w.sentence(rng, rng.randint(10, 22)), third, w.number(rng, "dec")])
    return TableTruth.from_rows(rows, 1, "lists" if lists else "multiline"), shown


def spanning_table(rng: random.Random, style: str) -> tuple[TableTruth, dict[tuple[int, int], str]]:
    """Two or three header rows: a stub header spanning them, group headers over their sub-columns, some header
    cells of several lines; some empty body cells."""
    groups = rng.randint(2, 3)
    per = rng.randint(2, 3)
    stub = rng.choice(["Race/ethnicity", "Region", "Sector", "Category", "Item"])
    group_names = w.unique_labels(rng, groups)
    sub_names = w.unique_labels(rng, per, lambda r: str(r.randint(2005, 2024)) if per < 4 else w.label(r))
    three = rng.random() < 0.35
    shown: dict[tuple[int, int], str] = {}
    if three:
        top = [(stub, 3, 1), (w.title(rng, 2), 1, groups * per)]
        mid = [(g, 1, per) for g in group_names]
        header = [top, mid, [s for _ in group_names for s in sub_names]]
    else:
        header = [[(stub, 2, 1), *((g, 1, per) for g in group_names)], [s for _ in group_names for s in sub_names]]
    if rng.random() < 0.6:  # a header cell of several lines, on the sub-column row
        parts = [w.WORDS[rng.randrange(len(w.WORDS))].capitalize() + "/" for _ in range(2)] + [w.label(rng)]
        col = rng.randrange(len(header[-1]))
        header[-1][col] = " ".join(parts)
        shown_row, shown_col = len(header) - 1, col + 1
        shown[shown_row, shown_col] = "<br>".join(esc(p) for p in parts)
    kind = rng.choice(["int", "dec", "pct"])
    body = []
    for label in w.unique_labels(rng, rng.randint(4, 9)):
        values = [w.number(rng, kind) if rng.random() > 0.08 else "" for _ in range(groups * per)]
        body.append([label, *values])
    table = TableTruth.from_rows([*header, *body], len(header), "headers")
    return table, shown


def financial_table(rng: random.Random, years: list[str], unit: str) -> tuple[TableTruth, list[list[tuple[str, str]]]]:
    """A statement of operations: "Year Ended" over the years, the unit in the stub header, section rows, dollar
    signs on the first and total rows, parenthesised negatives. Also each value row as (sign, figure) pairs as
    printed (the sign in its own column)."""
    header = [["", (f"Year Ended {rng.choice(w.MONTHS)} {rng.choice((30, 31))},", 1, len(years))], [unit, *years]]
    rows: list[list[str]] = []
    printed: list[list[tuple[str, str]]] = []
    sections = rng.sample(["Revenues:", "Costs and expenses:", "Other income (expense):", "Operating activities:"], 2)
    first = True
    for section in sections:
        rows.append([section, *([""] * len(years))])
        printed.append([("", "")] * len(years))
        for item in w.unique_labels(rng, rng.randint(3, 5), lambda r: w.title(r, r.randint(1, 3))):
            values = [w.number(rng, "neg" if rng.random() < 0.2 else "int") for _ in years]
            sign = "$" if first else ""
            rows.append([item, *(f"{sign}{v}" for v in values)])
            printed.append([(sign, v) for v in values])
            first = False
        values = [w.number(rng, "int") for _ in years]
        rows.append([f"Total {section.rstrip(':').lower()}", *(f"${v}" for v in values)])
        printed.append([("$", v) for v in values])
    rows.append(["Net income (loss)", *(f"${w.number(rng, rng.choice(['int', 'neg']))}" for _ in years)])
    printed.append([("$", v[1:]) for v in rows[-1][1:]])
    table = TableTruth.from_rows([*header, *rows], 2, "financial")
    return table, printed


def financial_html(table: TableTruth, printed: list[list[tuple[str, str]]], leaders: bool, years: int) -> str:
    """The statement as 10-K filings print it: each year two columns (the sign, the figure), a rule under the
    header and above totals, leader dots after the labels."""
    out = ["<table class='fin'>"]
    head0, head1 = table.rows[0], table.rows[1]
    out.append(f"<tr><th></th><th colspan='{2 * years}' class='c under'>{esc(head0[1])}</th></tr>")
    out.append(
        f"<tr><th class='unit'>{esc(head1[0])}</th>"
        + "".join(f"<th colspan='2' class='n under'>{esc(y)}</th>" for y in head1[1:])
        + "</tr>"
    )
    for row, signs in zip(table.rows[2:], printed, strict=True):
        total = row[0].startswith(("Total", "Net income"))
        label = esc(row[0])
        if leaders and any(v for _, v in signs):
            label = f"<span class='lead'>{label}</span>"
        cells = [f"<td class='label{' ind' if not total and any(v for _, v in signs) else ''}'>{label}</td>"]
        for sign, value in signs:
            cls = " tot" if total else ""
            cells.append(f"<td class='cur{cls}'>{esc(sign)}</td><td class='n{cls}'>{esc(value)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


FIN_CSS = """
table.fin { width: 100%; }
table.fin td, table.fin th { padding: 1pt 2pt; }
table.fin th.under { border-bottom: 0.8pt solid #000; }
table.fin th.unit { text-align: left; font-weight: normal; font-style: italic; }
table.fin td.cur { text-align: left; width: 1.2em; padding-left: 10pt; }
table.fin td.tot { border-top: 0.6pt solid #000; }
table.fin td.ind { padding-left: 12pt; }
.lead { display: inline-block; width: 100%; overflow: hidden; white-space: nowrap; }
.lead::after { content: " . . . . . . . . . . . . . . . . . . . . . . . . . . . . . . . . . . . . . . . . ."; }
table.fin td.label { max-width: 60mm; width: 55%; }
"""


# --- documents ------------------------------------------------------------------------------------------------------


@dataclass
class Built:
    html: str
    truth: DocTruth
    one_page: bool = True


def _doc(kind: str, th: Theme, **notes: Any) -> DocTruth:
    return DocTruth(id="", kind=kind, engine="chromium", file="", pages=0, notes=th.notes() | notes)


def article(rng: random.Random, shrink: int = 0) -> Built:
    """A journal article: a spanning title and authors, an abstract (bold in its column, or set apart), sections in
    one to three columns with run-in bold openings, headings at two levels, footnotes at the end."""
    th = theme(rng)
    columns = rng.choice([1, 2, 2, 3])
    doc = _doc("article", th, columns=columns)
    title_text = w.title(rng, rng.randint(4, 8))
    authors = ", ".join(w.person(rng) for _ in range(rng.randint(1, 4)))
    parts = [f"<div class='span'><h1>{esc(title_text)}</h1><p class='authors'>{esc(authors)}</p></div>"]
    doc.headings.append((title_text, 1))
    doc.blocks += [title_text, authors]
    bold_abstract = columns >= 2 and rng.random() < 0.5
    abstract = w.paragraph(rng, max(2, 5 - shrink))
    if bold_abstract:
        body = [f"<p class='abstract-bold'><b>Abstract</b> {esc(abstract)}</p>"]
        doc.blocks.append("Abstract " + abstract)
        doc.notes["bold_abstract"] = True
    else:
        parts.append(f"<div class='span abstract'><p><b>Abstract.</b> {esc(abstract)}</p></div>")
        doc.blocks.append("Abstract. " + abstract)
        body = []
    sections = max(2, rng.randint(3, 5) - shrink)
    per = max(1, rng.randint(1, 3) - shrink // 2)
    for s in range(sections):
        name = (f"{s + 1} " if rng.random() < 0.6 else "") + w.title(rng, rng.randint(1, 4))
        body.append(f"<h2>{esc(name)}</h2>")
        doc.headings.append((name, 2))
        doc.blocks.append(name)
        doc.tests.append(t.heading(name, under=title_text))
        subs = [None] + ([w.title(rng, rng.randint(2, 4))] if rng.random() < 0.35 else [])
        for sub in subs:
            if sub:
                body.append(f"<h3>{esc(sub)}</h3>")
                doc.headings.append((sub, 3))
                doc.blocks.append(sub)
                doc.tests.append(t.heading(sub, under=name))
            for _ in range(per):
                text = w.paragraph(rng, rng.randint(3, 6 - min(shrink, 2)))
                if rng.random() < 0.3:
                    opening = w.title(rng, rng.randint(1, 3)) + "."
                    body.append(f"<p><b>{esc(opening)}</b> {esc(text)}</p>")
                    doc.blocks.append(f"{opening} {text}")
                    doc.tests.append(t.not_heading(opening))
                else:
                    body.append(f"<p>{esc(text)}</p>")
                    doc.blocks.append(text)
    footnotes = []
    if rng.random() < 0.4:
        for n in range(1, rng.randint(1, 2) + 1):
            note = f"{n} {w.sentence(rng)}"
            footnotes.append(note)
        doc.notes["footnotes"] = len(footnotes)
    parts.append(f"<div class='cols'>{''.join(body)}</div>")
    if footnotes:
        parts.append(
            "<div class='notes'><hr>" + "".join(f"<p class='small'>{esc(n)}</p>" for n in footnotes) + "</div>"
        )
        doc.blocks += footnotes
    extra = f"""
.cols {{ column-count: {columns}; column-gap: {rng.uniform(5, 9):.1f}mm; }}
.cols h2, .cols h3 {{ break-after: avoid; }}
.span {{ text-align: center; }} .span h1 {{ margin-top: 0; }}
.authors {{ text-align: center; font-style: italic; }}
.abstract {{ margin: 0 {rng.uniform(0, 12):.0f}mm 1em; }}
.abstract-bold {{ font-weight: bold; }}
.notes hr {{ width: 30%; margin: 0.8em 0 0.3em 0; border: 0; border-top: 0.5pt solid #000; }}
"""
    doc.tests += t.block_tests(doc.blocks, rng)
    return Built(page(th, f"<div class='flow'>{''.join(parts)}</div>", extra), doc, one_page=False)


def report(rng: random.Random, shrink: int = 0) -> Built:
    """A report with headings on up to four levels (numbered or not, their sizes and styles drawn), paragraphs
    between them, a bold run-in line or two that are not headings."""
    th = theme(rng)
    doc = _doc("headings", th)
    numbered = rng.random() < 0.6
    caps = rng.random() < 0.3
    title_text = w.title(rng, rng.randint(3, 7))
    parts = [f"<h1>{esc(title_text)}</h1>"]
    doc.headings.append((title_text, 1))
    doc.blocks.append(title_text)
    counters = [0, 0, 0]
    parents: dict[int, str] = {1: title_text}
    level = 2
    for _ in range(max(3, rng.randint(5, 9) - 2 * shrink)):
        level = min(4, max(2, level + rng.choice([-1, 0, 1, 1])))
        counters[level - 2] += 1
        for deeper in range(level - 1, 3):
            counters[deeper] = 0
        number = ".".join(str(n) for n in counters[: level - 1] if n) + " " if numbered else ""
        name = number + w.title(rng, rng.randint(1, 4))
        if caps and level == 2:
            name = name.upper()
        tag = f"h{level}"
        parts.append(f"<{tag}>{esc(name)}</{tag}>")
        doc.headings.append((name, level))
        doc.blocks.append(name)
        doc.tests.append(t.heading(name, under=parents.get(level - 1)))
        parents[level] = name
        for _ in range(rng.randint(1, 2)):
            text = w.paragraph(rng, rng.randint(2, 4))
            if rng.random() < 0.2:
                opening = w.title(rng, 2) + ":"
                parts.append(f"<p><b>{esc(opening)}</b> {esc(text)}</p>")
                doc.blocks.append(f"{opening} {text}")
                doc.tests.append(t.not_heading(opening))
            else:
                parts.append(f"<p>{esc(text)}</p>")
                doc.blocks.append(text)
    rule = "border-bottom: 0.6pt solid #000;" if rng.random() < 0.3 else ""
    extra = f"""
h2 {{ font-size: {th.size * rng.uniform(1.3, 1.6):.1f}pt; {rule} }}
h3 {{ font-size: {th.size * rng.uniform(1.1, 1.25):.1f}pt; }}
h4 {{ font-size: {th.size:.1f}pt; font-weight: {rng.choice(["bold", "normal"])}; font-style: italic; }}
"""
    doc.tests += t.block_tests(doc.blocks, rng)
    return Built(page(th, f"<div class='flow'>{''.join(parts)}</div>", extra), doc, one_page=False)


def _table_page(
    rng: random.Random, th: Theme, doc: DocTruth, tables: list[tuple[TableTruth, str]], *, intro: bool = True
) -> str:
    """Paragraphs around tables, each table after its caption (or under it)."""
    parts = []
    heading_text = w.title(rng, rng.randint(2, 5))
    parts.append(f"<h2>{esc(heading_text)}</h2>")
    doc.headings.append((heading_text, 1))
    doc.blocks.append(heading_text)
    if intro:
        text = w.paragraph(rng, rng.randint(2, 3))
        parts.append(f"<p>{esc(text)}</p>")
        doc.blocks.append(text)
    for table, table_html in tables:
        below = rng.random() < 0.25
        caption = f"<p class='caption'>{esc(table.caption)}</p>" if table.caption else ""
        parts.append(table_html + caption if below else caption + table_html)
        if table.caption and not below:
            doc.blocks.append(table.caption)
        doc.tables.append(table)
        doc.tests += t.table_tests(table, rng) + t.caption_tests(table)
        if table.caption and below:
            doc.blocks.append(table.caption)
    if rng.random() < 0.6:
        text = w.paragraph(rng, 2)
        parts.append(f"<p>{esc(text)}</p>")
        doc.blocks.append(text)
    doc.tests += t.block_tests(doc.blocks, rng, presence=1)
    return f"<div class='sheet'>{''.join(parts)}</div>"


def caption(rng: random.Random, n: int) -> str:
    return f"{rng.choice(['Table', 'Table', 'TABLE', 'Exhibit'])} {n}{rng.choice([':', '.', ' –'])} {w.title(rng)}"


def table_doc(rng: random.Random, shrink: int = 0) -> Built:
    """One table in a drawn style (full grid, booktabs rules, no rules, shaded rows) with paragraphs around."""
    th = theme(rng)
    style = rng.choice(TABLE_STYLES)
    doc = _doc("table", th, style=style)
    table = simple_table(rng, style, rows=max(3, rng.randint(4, 14) - 3 * shrink))
    table.caption = caption(rng, 1) if rng.random() < 0.7 else ""
    return Built(page(th, _table_page(rng, th, doc, [(table, render_table(table, style))])), doc)


def multiline_doc(rng: random.Random, shrink: int = 0) -> Built:
    """A table whose cells hold several lines of text or a bullet list."""
    th = theme(rng)
    style = rng.choice(TABLE_STYLES)
    lists = rng.random() < 0.5
    doc = _doc("multiline", th, style=style, lists=lists)
    table, shown = multiline_table(rng, style, lists=lists)
    table.caption = caption(rng, 1)
    extra = "table { width: 100%; } td:nth-child(2) { width: 45%; }"
    return Built(page(th, _table_page(rng, th, doc, [(table, render_table(table, style, shown))]), extra), doc)


def headers_doc(rng: random.Random, shrink: int = 0) -> Built:
    """A table with two or three header rows: group headers over sub-columns, a stub header spanning them, a header
    cell of several lines."""
    th = theme(rng)
    style = rng.choice(TABLE_STYLES)
    doc = _doc("headers", th, style=style)
    table, shown = spanning_table(rng, style)
    table.caption = caption(rng, rng.randint(1, 9))
    extra = "th.group { text-align: center; }"
    return Built(page(th, _table_page(rng, th, doc, [(table, render_table(table, style, shown))]), extra), doc)


def stacked_doc(rng: random.Random, shrink: int = 0) -> Built:
    """Two or three tables on one page, each with its caption, different in size."""
    th = theme(rng)
    style = rng.choice(TABLE_STYLES)
    doc = _doc("stacked", th, style=style)
    count = max(2, rng.randint(2, 3) - shrink)
    tables = []
    for n in range(1, count + 1):
        table = simple_table(rng, "stacked", rows=rng.randint(3, 7 - shrink), cols=rng.randint(2, 5))
        table.caption = caption(rng, n)
        tables.append((table, render_table(table, style)))
    return Built(page(th, _table_page(rng, th, doc, tables, intro=rng.random() < 0.5)), doc)


def financial_doc(rng: random.Random, shrink: int = 0) -> Built:
    """A 10-K style statement of operations."""
    th = theme(rng)
    th.font = rng.choice(["Liberation Serif", "Liberation Sans", "DejaVu Serif", "Carlito", "Caladea"])
    n_years = rng.choice([2, 3, 3])
    years = [str(y) for y in range(2024 - rng.randint(0, 8), 0, -1)][:n_years]
    unit = rng.choice(["(In millions)", "(In millions, except per share amounts)", "(In thousands)"])
    leaders = rng.random() < 0.5
    doc = _doc("financial", th, leaders=leaders, years=n_years)
    company = f"{w.title(rng, 2).upper()} {rng.choice(['INC.', 'CORPORATION', 'HOLDINGS'])}"
    statement = rng.choice(
        ["CONSOLIDATED STATEMENTS OF OPERATIONS", "CONSOLIDATED STATEMENTS OF INCOME", "SEGMENT RESULTS"]
    )
    table, printed = financial_table(rng, years, unit)
    doc.tables.append(table)
    doc.blocks += [company, statement]
    doc.tests += t.table_tests(table, rng, count=6) + [t.not_heading(y) for y in years[:1]]
    doc.tests.append({"type": "table", "category": "tables", "cell": years[0], "top_heading": table.rows[0][1]})
    note = "See accompanying notes to the consolidated financial statements."
    doc.blocks.append(note)
    doc.tests += [t.order(company, statement), t.order(statement, note), t.present(note)]
    body = (
        f"<div class='sheet'><p class='co'>{esc(company)}</p><p class='co'>{esc(statement)}</p>"
        f"{financial_html(table, printed, leaders, n_years)}<p class='small'>{esc(note)}</p></div>"
    )
    return Built(page(th, body, FIN_CSS + ".co { text-align: center; font-weight: bold; margin: 0; }"), doc)


def price_list_doc(rng: random.Random, shrink: int = 0) -> Built:
    """A rule-less list of items and prices joined by leader dots, in two or three columns (item, unit, price)."""
    th = theme(rng)
    doc = _doc("leaders", th)
    three = rng.random() < 0.5
    header = ["Item", "Unit", "Price"] if three else ["Item", "Price"]
    rows: list[list[t.CellSpec]] = [header]
    for item in w.unique_labels(rng, rng.randint(6, 14 - 3 * shrink), lambda r: w.title(r, r.randint(1, 3))):
        price = f"${rng.uniform(1, 500):,.2f}"
        rows.append([item, rng.choice(["each", "box", "kg", "hour", "set"]), price] if three else [item, price])
    table = TableTruth.from_rows(rows, 1, "leaders", caption=w.title(rng, 3))
    shown = {(r, 0): f"<span class='lead'>{esc(str(rows[r][0]))}</span>" for r in range(1, len(rows))}
    extra = (
        ".lead { display: inline-block; width: 100%; overflow: hidden; white-space: nowrap; }"
        ".lead::after { content: ' . . . . . . . . . . . . . . . . . . . . . . . . . . . . . . . . . . . . .'; }"
        "table.ruleless td:first-child { width: 70mm; max-width: 70mm; }"
    )
    return Built(page(th, _table_page(rng, th, doc, [(table, render_table(table, "ruleless", shown))]), extra), doc)


def furniture_doc(rng: random.Random, shrink: int = 0) -> Built:
    """A one-page document with a journal banner, a doi line, "Downloaded from ...", a revision code and a date at
    the page's edges (some set vertically in the margin): all furniture, none of it body text."""
    th = theme(rng)
    th.margin = max(th.margin, 20)
    doc = _doc("furniture", th)
    journal = f"Journal of {w.title(rng, 2)}"
    pages = f"pp. {rng.randint(1, 400)}–{rng.randint(401, 900)}"
    volume = f"Vol. {rng.randint(1, 80)}, No. {rng.randint(1, 12)} ({rng.randint(1995, 2024)}), {pages}"
    stamps = {
        "banner": f"{journal} · {volume}",
        "doi": f"https://doi.org/10.{rng.randint(1000, 9999)}/{w.words(rng, 1)[0]}.{rng.randint(100000, 999999)}",
        "downloaded": f"Downloaded from https://www.{w.words(rng, 1)[0]}{rng.randint(1, 99)}.org/ on {w.date(rng, 0)}",
        "revision": f"Rev. {rng.choice('ABCDEFG')}{rng.randint(1, 9)} – {w.date(rng, 2)}",
        "date": w.date(rng, 1),
        "page": rng.choice(["Page 1 of 1", "1", "— 1 —"]),
    }
    chosen = rng.sample(list(stamps), rng.randint(3, 6))
    placed = []
    spots = {
        "banner": f"top: {th.margin * 0.35:.1f}mm; left: {th.side:.1f}mm;",
        "doi": f"top: {th.margin * 0.35:.1f}mm; right: {th.side:.1f}mm;",
        "downloaded": f"bottom: {th.margin * 0.3:.1f}mm; left: {th.side:.1f}mm;",
        "revision": f"bottom: {th.margin * 0.3:.1f}mm; right: {th.side:.1f}mm;",
        "date": f"top: {th.margin * 0.35 + 4:.1f}mm; right: {th.side:.1f}mm;",
        "page": f"bottom: {th.margin * 0.3 + 4:.1f}mm; left: 48%;",
    }
    vertical = rng.random() < 0.4 and "downloaded" in chosen
    for name in chosen:
        text = stamps[name]
        if name == "downloaded" and vertical:
            style = (
                f"left: {th.side * 0.35:.1f}mm; top: 60%; transform: rotate(-90deg); transform-origin: 0 0; "
                "white-space: nowrap;"
            )
        else:
            style = spots[name]
        placed.append(f"<div class='stamp' style='{style}'>{esc(text)}</div>")
        doc.furniture.append(text)
        if name != "page" or text != "1":
            doc.tests.append(t.absent(text))
    doc.notes["furniture"] = chosen
    title_text = w.title(rng, rng.randint(3, 6))
    parts = [f"<h1>{esc(title_text)}</h1>"]
    doc.headings.append((title_text, 1))
    doc.blocks.append(title_text)
    for _ in range(max(2, rng.randint(3, 6) - shrink)):
        text = w.paragraph(rng, rng.randint(3, 5))
        parts.append(f"<p>{esc(text)}</p>")
        doc.blocks.append(text)
    doc.tests += t.block_tests(doc.blocks, rng)
    extra = f".stamp {{ position: absolute; font-size: {rng.uniform(6.5, 8.5):.1f}pt; white-space: nowrap; }}"
    return Built(page(th, f"<div class='sheet'>{''.join(placed)}{''.join(parts)}</div>", extra), doc)


def chart_svg(rng: random.Random, labels: list[str], ticks: list[str], x_title: str, y_title: str) -> str:
    """A bar chart drawn in SVG: axes, tick labels, axis titles, a legend."""
    width, height = 420, 240
    left, bottom = 60, 200
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' font-size='10'>"]
    out.append(f"<line x1='{left}' y1='20' x2='{left}' y2='{bottom}' stroke='black'/>")
    out.append(f"<line x1='{left}' y1='{bottom}' x2='{width - 10}' y2='{bottom}' stroke='black'/>")
    for i, tick in enumerate(ticks):
        y = bottom - i * (bottom - 30) / (len(ticks) - 1)
        out.append(f"<text x='{left - 6}' y='{y + 3:.0f}' text-anchor='end'>{esc(tick)}</text>")
        out.append(f"<line x1='{left - 3}' y1='{y:.0f}' x2='{left}' y2='{y:.0f}' stroke='black'/>")
    step = (width - left - 20) / len(labels)
    for i, label in enumerate(labels):
        x = left + 10 + i * step
        bar = rng.uniform(20, bottom - 40)
        out.append(
            f"<rect x='{x:.0f}' y='{bottom - bar:.0f}' width='{step * 0.55:.0f}' height='{bar:.0f}' fill='#777'/>"
        )
        out.append(f"<text x='{x + step * 0.27:.0f}' y='{bottom + 14}' text-anchor='middle'>{esc(label)}</text>")
    out.append(f"<text x='{(left + width) / 2:.0f}' y='{height - 8}' text-anchor='middle'>{esc(x_title)}</text>")
    out.append(
        f"<text x='14' y='{bottom / 2:.0f}' transform='rotate(-90 14 {bottom / 2:.0f})' text-anchor='middle'>"
        f"{esc(y_title)}</text>"
    )
    out.append("</svg>")
    return "".join(out)


def diagram_svg(labels: list[str]) -> str:
    """Boxes with labels joined by arrows, in a row: a process diagram."""
    out = ["<svg xmlns='http://www.w3.org/2000/svg' width='460' height='90' font-size='10'>"]
    out.append(
        "<defs><marker id='a' markerWidth='8' markerHeight='8' refX='6' refY='3' orient='auto'>"
        "<path d='M0,0 L6,3 L0,6 z'/></marker></defs>"
    )
    for i, label in enumerate(labels):
        x = 10 + i * 112
        out.append(f"<rect x='{x}' y='{20 + (i % 2) * 20}' width='90' height='30' fill='none' stroke='black'/>")
        out.append(f"<text x='{x + 45}' y='{40 + (i % 2) * 20}' text-anchor='middle'>{esc(label)}</text>")
        if i:
            out.append(
                f"<line x1='{x - 22}' y1='{35 + ((i - 1) % 2) * 20}' x2='{x - 2}' y2='{35 + (i % 2) * 20}' "
                "stroke='black' marker-end='url(#a)'/>"
            )
    out.append("</svg>")
    return "".join(out)


def figures_doc(rng: random.Random, shrink: int = 0) -> Built:
    """Paragraphs around a bar chart with tick and axis labels and a labelled process diagram, each captioned:
    none of their labels is a table or a list."""
    th = theme(rng)
    doc = _doc("figures", th)
    title_text = w.title(rng, rng.randint(3, 6))
    parts = [f"<h2>{esc(title_text)}</h2>"]
    doc.headings.append((title_text, 1))
    doc.blocks.append(title_text)
    before = w.paragraph(rng, 3)
    parts.append(f"<p>{esc(before)}</p>")
    doc.blocks.append(before)
    labels = w.unique_labels(rng, rng.randint(3, 6), lambda r: r.choice(w.WORDS).capitalize())
    top = rng.choice([50, 100, 200, 1000])
    ticks = [f"{top * i // 4:,}" for i in range(5)]
    x_title, y_title = w.title(rng, 2), w.title(rng, 2)
    parts.append(chart_svg(rng, labels, ticks, x_title, y_title))
    cap1 = f"Figure 1: {w.title(rng)}"
    parts.append(f"<p class='caption'>{esc(cap1)}</p>")
    doc.blocks.append(cap1)
    doc.tests += [t.no_table(label) for label in labels[:3]] + [t.no_table(ticks[2]), t.no_table(x_title)]
    middle = w.paragraph(rng, 2)
    parts.append(f"<p>{esc(middle)}</p>")
    doc.blocks.append(middle)
    if shrink < 2:
        steps = w.unique_labels(rng, 4, lambda r: r.choice(w.WORDS).capitalize())
        parts.append(diagram_svg(steps))
        cap2 = f"Figure 2: {w.title(rng)}"
        parts.append(f"<p class='caption'>{esc(cap2)}</p>")
        doc.blocks.append(cap2)
        doc.tests += [t.no_list(s) for s in steps] + [t.no_table(s) for s in steps[:2]]
    after = w.paragraph(rng, 2)
    parts.append(f"<p>{esc(after)}</p>")
    doc.blocks.append(after)
    doc.tests += t.block_tests(doc.blocks, rng, presence=2)
    return Built(page(th, f"<div class='sheet'>{''.join(parts)}</div>", "svg { display: block; margin: 6pt 0; }"), doc)


def form_doc(rng: random.Random, shrink: int = 0) -> Built:
    """A form: labelled fields with underlines (some filled in), check boxes, a signature and date line."""
    th = theme(rng)
    doc = _doc("forms", th)
    title_text = f"{w.title(rng, 2)} {rng.choice(['Application Form', 'Registration Form', 'Request Form'])}"
    parts = [f"<h2>{esc(title_text)}</h2>"]
    doc.headings.append((title_text, 1))
    doc.blocks.append(title_text)
    intro = w.sentence(rng) + " " + w.sentence(rng)
    parts.append(f"<p>{esc(intro)}</p>")
    doc.blocks.append(intro)
    fields = ["Full name", "Address", "Postcode", "Telephone", "Email", "Date of birth", "Reference number"]
    fields = [*rng.sample(fields, rng.randint(4, 7 - shrink)), f"{w.label(rng)} code"]
    rows = []
    for name in fields:
        value = (
            w.person(rng)
            if name == "Full name"
            else w.date(rng)
            if "Date" in name
            else f"{rng.randint(10, 999)} {w.title(rng, 2)} Street"
            if name == "Address"
            else f"{rng.randint(100000, 999999)}"
        )
        filled = rng.random() < 0.7
        rows.append(
            f"<div class='field'><span class='label'>{esc(name)}:</span><span class='line'>"
            f"{esc(value) if filled else '&nbsp;'}</span></div>"
        )
        doc.tests.append(t.present(f"{name}:"))
        doc.blocks.append(f"{name}: {value}" if filled else f"{name}:")
        if filled:
            doc.tests += [t.present(value), t.order(f"{name}:", value)]
    parts.append("".join(rows))
    question = f"{w.sentence(rng, 7)[:-1]}?"
    options = rng.sample(["Yes", "No", "Not sure", "Other"], 3)
    parts.append(
        f"<p class='q'>{esc(question)} " + " ".join(f"<span class='box'>☐</span> {esc(o)}" for o in options) + "</p>"
    )
    doc.tests += [t.present(question), t.order(fields[-1] + ":", question)]
    doc.blocks += [question + " " + " ".join(options), "Signature Date"]
    parts.append("<div class='sign'><span>Signature</span><span>Date</span></div>")
    doc.tests.append(t.order(question, "Signature"))
    extra = f"""
.field {{ display: flex; margin: {rng.uniform(6, 12):.0f}pt 0; align-items: baseline; }}
.label {{ width: {rng.uniform(30, 50):.0f}mm; }}
.line {{ flex: 1; border-bottom: 0.6pt solid #000; padding-left: 4pt; }}
.sign {{ display: flex; gap: 30mm; margin-top: 24pt; }}
.sign span {{ border-top: 0.6pt solid #000; width: 60mm; padding-top: 2pt; }}
.box {{ font-family: 'DejaVu Sans'; }}
"""
    return Built(page(th, f"<div class='sheet'>{''.join(parts)}</div>", extra), doc)


def sideways_doc(rng: random.Random, shrink: int = 0) -> Built:
    """A portrait page with a wide table (and its caption) set sideways: the text runs up or down the page."""
    th = theme(rng)
    angle = rng.choice([-90, 90])
    style = rng.choice(TABLE_STYLES)
    doc = _doc("sideways", th, style=style, angle=angle)
    doc.rotation = 90
    table = simple_table(rng, style, rows=max(3, rng.randint(4, 9) - shrink), cols=rng.randint(6, 9))
    table.caption = caption(rng, rng.randint(1, 9))
    doc.tables.append(table)
    doc.blocks.append(table.caption)
    doc.tests += t.table_tests(table, rng, count=5) + t.caption_tests(table)
    length = th.height - 2 * th.margin
    if angle == -90:
        place = f"left: {th.side}mm; top: {th.height - th.margin}mm;"
    else:
        place = f"left: {th.width - th.side}mm; top: {th.margin}mm;"
    inner = f"<p class='caption'>{esc(table.caption)}</p>{render_table(table, style)}"
    box = (
        f"<div style='position: absolute; {place} width: {length:.1f}mm; transform-origin: 0 0; "
        f"transform: rotate({angle}deg);'>{inner}</div>"
    )
    return Built(page(th, f"<div class='sheet'>{box}</div>", "table { width: 100%; }"), doc)


BUILDERS = {
    "article": article,
    "headings": report,
    "table": table_doc,
    "multiline": multiline_doc,
    "headers": headers_doc,
    "stacked": stacked_doc,
    "financial": financial_doc,
    "leaders": price_list_doc,
    "furniture": furniture_doc,
    "figures": figures_doc,
    "forms": form_doc,
    "sideways": sideways_doc,
}
