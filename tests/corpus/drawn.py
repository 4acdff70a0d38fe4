"""Documents drawn with fpdf2 (a second PDF engine beside Chromium): long reports with running footers that
alternate left and right and carry the page number, tables in fpdf2's border layouts with spanning headers, and a
table drawn sideways with a rotated text matrix. Fonts are the installed TrueType files (fc-match)."""

from __future__ import annotations

import random
import subprocess
from functools import cache
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from tests.corpus import truth as t
from tests.corpus import words as w
from tests.corpus.truth import DocTruth, TableTruth

FAMILIES = ["Liberation Serif", "Liberation Sans", "DejaVu Serif", "DejaVu Sans", "FreeSerif", "FreeSans", "Carlito"]
LAYOUTS = {
    "ALL": "grid",
    "INTERNAL": "grid",
    "NO_HORIZONTAL_LINES": "grid",
    "HORIZONTAL_LINES": "booktabs",
    "SINGLE_TOP_LINE": "booktabs",
    "MINIMAL": "booktabs",
    "NONE": "ruleless",
}


@cache
def font_file(family: str, style: str) -> str | None:
    """The TrueType file fontconfig gives for the family and style ("" regular, "B", "I", "BI"), if it is that
    family (fc-match falls back to another family when one is missing)."""
    name = {"": "Regular", "B": "Bold", "I": "Italic", "BI": "Bold Italic"}[style]
    try:
        found = subprocess.run(
            ["fc-match", "-f", "%{family}\n%{file}", f"{family}:style={name}"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        return None
    if len(found) < 2 or family.lower() not in found[0].lower() or not found[1].endswith(".ttf"):
        return None
    return found[1]


class Drawn(FPDF):
    """A page with optional running header and footer (alternating sides), in one drawn TrueType family."""

    def __init__(self, rng: random.Random, paper: str, family: str):
        super().__init__(format=paper)
        self.family = "Helvetica"
        files = {style: font_file(family, style) for style in ("", "B", "I")}
        if all(files.values()):
            for style, path in files.items():
                self.add_font("body", style, str(path))
            self.family = "body"
        self.running_header = ""
        self.journal = ""
        self.short_title = ""
        self.footers: list[str] = []
        self.margin = rng.uniform(15, 25)
        self.set_margins(self.margin, self.margin + 5, self.margin)
        self.set_auto_page_break(True, self.margin + 8)

    def header(self) -> None:
        if self.running_header:
            self.set_font(self.family, "I", 8)
            self.set_y(self.margin * 0.5)
            self.cell(0, 4, self.running_header, align="C")
            self.set_y(self.t_margin)

    def footer(self) -> None:
        if not self.journal:
            return
        number = self.page_no()
        self.set_font(self.family, "", 8)
        self.set_y(-self.margin * 0.8)
        if number % 2 == 0:
            text = f"{number}   {self.journal}"
            self.cell(0, 4, text, align="L")
        else:
            text = f"{self.short_title}   {number}"
            self.cell(0, 4, text, align="R")
        self.footers.append(" ".join(text.split()))


def _new(rng: random.Random, kind: str) -> tuple[Drawn, DocTruth]:
    paper = rng.choice(["A4", "Letter"])
    family = rng.choice(FAMILIES)
    pdf = Drawn(rng, paper, family)
    size = round(rng.uniform(9.5, 11.5), 1)
    doc = DocTruth(
        id="", kind=kind, engine="fpdf2", file="", pages=0, notes={"paper": paper, "font": family, "size": size}
    )
    pdf.set_font(pdf.family, "", size)
    return pdf, doc


def _paragraph(pdf: Drawn, doc: DocTruth, text: str, size: float) -> None:
    pdf.set_font(pdf.family, "", size)
    pdf.multi_cell(0, size * 0.48, text, align=pdf_align(doc), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(size * 0.3)
    doc.blocks.append(text)


def pdf_align(doc: DocTruth) -> str:
    return "J" if doc.notes.get("justify") else "L"


def footers_doc(rng: random.Random, path: Path) -> DocTruth:
    """A report of three to five pages: headings on three levels, paragraphs, a footnote, a running header, and
    footers that alternate sides with the page number (the journal's name on even pages, a short title on odd)."""
    pdf, doc = _new(rng, "footers")
    doc.notes["justify"] = rng.random() < 0.5
    size = doc.notes["size"]
    pdf.journal = f"{w.title(rng, 2)} Review"
    pdf.short_title = f"{w.person(rng).split()[1]} et al."
    pdf.running_header = f"{w.title(rng, 3)} Quarterly" if rng.random() < 0.5 else ""
    doc.tests += [t.absent(pdf.journal)]
    if pdf.running_header:
        doc.furniture.append(pdf.running_header)
        doc.tests.append(t.absent(pdf.running_header))
    pdf.add_page()
    title_text = w.title(rng, rng.randint(4, 7))
    pdf.set_font(pdf.family, "B", size * 1.8)
    pdf.multi_cell(0, size * 0.8, title_text, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    doc.headings.append((title_text, 1))
    doc.blocks.append(title_text)
    parents = {1: title_text}
    for s in range(rng.randint(4, 6)):
        for level in [2] + ([3] if rng.random() < 0.4 else []):
            name = (f"{s + 1}{'.1' if level == 3 else ''} " if rng.random() < 0.6 else "") + w.title(
                rng, rng.randint(1, 4)
            )
            pdf.ln(2)
            pdf.set_font(pdf.family, "B", size * (1.35 if level == 2 else 1.12))
            pdf.multi_cell(0, size * 0.6, name, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
            doc.headings.append((name, level))
            doc.blocks.append(name)
            doc.tests.append(t.heading(name, under=parents[level - 1]))
            parents[level] = name
            for _ in range(rng.randint(2, 4)):
                _paragraph(pdf, doc, w.paragraph(rng, rng.randint(3, 6)), size)
    if rng.random() < 0.6:  # a footnote: a short rule and small text above the footer of the last page
        note = f"1 {w.sentence(rng)}"
        pdf.set_font(pdf.family, "", size * 0.75)
        y = pdf.h - pdf.margin * 0.8 - 14
        if pdf.get_y() < y - 4:
            pdf.line(pdf.l_margin, y - 1.5, pdf.l_margin + 40, y - 1.5)
            pdf.set_xy(pdf.l_margin, y)
            pdf.multi_cell(0, size * 0.35, note, new_x="LMARGIN", new_y="NEXT")
            doc.blocks.append(note)
            doc.notes["footnote"] = True
    pdf.output(str(path))
    doc.pages = pdf.page_no()
    doc.furniture += pdf.footers
    doc.tests += [t.absent(text) for text in pdf.footers]
    doc.tests += t.block_tests(doc.blocks, rng, presence=4)
    return doc


def _fpdf_table(pdf: Drawn, rng: random.Random, table: TableTruth, layout: str, size: float) -> None:
    spans = {(r, c): (rs, cs) for r, c, rs, cs in table.spans}
    covered = {(r + dr, c + dc) for r, c, rs, cs in table.spans for dr in range(rs) for dc in range(cs) if dr or dc}
    n_cols = len(table.rows[0])
    width = pdf.epw * rng.uniform(0.7, 1.0)
    first = rng.uniform(1.5, 2.5)
    widths = [first] + [1.0] * (n_cols - 1)
    pdf.set_font(pdf.family, "", size * 0.9)
    with pdf.table(
        borders_layout=layout,
        num_heading_rows=table.header_rows,
        col_widths=widths,
        width=width,
        text_align=["LEFT"] + ["RIGHT"] * (n_cols - 1),
        headings_style=FontFace(emphasis="BOLD"),
        align="LEFT",
        line_height=size * 0.5,
        first_row_as_headings=table.header_rows > 0,
        cell_fill_color=230 if rng.random() < 0.2 else None,
        cell_fill_mode="ROWS" if rng.random() < 0.2 else "NONE",
    ) as drawn:
        for r, row in enumerate(table.rows):
            line = drawn.row()
            for c, text in enumerate(row):
                if (r, c) in covered:
                    continue
                rs, cs = spans.get((r, c), (1, 1))
                line.cell(text, rowspan=rs, colspan=cs, align="CENTER" if cs > 1 else None)


def table_doc(rng: random.Random, path: Path) -> DocTruth:
    """A table in one of fpdf2's border layouts (all rules, rows only, none...), one or two header rows (a group
    header over its sub-columns), with a caption and paragraphs."""
    pdf, doc = _new(rng, "fpdf-table")
    size = doc.notes["size"]
    layout = rng.choice(list(LAYOUTS))
    doc.notes["layout"] = layout
    n_groups = rng.randint(0, 2)
    stub = w.label(rng)
    if n_groups:
        groups = w.unique_labels(rng, n_groups)
        subs = [s for _ in groups for s in w.unique_labels(rng, 2)]
        header: list[list[t.CellSpec]] = [[(stub, 2, 1), *((g, 1, 2) for g in groups)], list(subs)]
        n_values = len(subs)
    else:
        n_values = rng.randint(2, 5)
        header = [[stub, *w.unique_labels(rng, n_values)]]
    kinds = [rng.choice(["int", "dec", "pct"]) for _ in range(n_values)]
    body = [[label, *(w.number(rng, k) for k in kinds)] for label in w.unique_labels(rng, rng.randint(4, 10))]
    table = TableTruth.from_rows([*header, *body], len(header), LAYOUTS[layout], caption=f"Table 1: {w.title(rng)}")
    pdf.add_page()
    heading_text = w.title(rng, 3)
    pdf.set_font(pdf.family, "B", size * 1.4)
    pdf.multi_cell(0, size * 0.6, heading_text, new_x="LMARGIN", new_y="NEXT")
    doc.headings.append((heading_text, 1))
    doc.blocks.append(heading_text)
    _paragraph(pdf, doc, w.paragraph(rng, 3), size)
    pdf.set_font(pdf.family, "B", size)
    pdf.multi_cell(0, size * 0.5, table.caption, new_x="LMARGIN", new_y="NEXT")
    doc.blocks.append(table.caption)
    pdf.ln(1)
    _fpdf_table(pdf, rng, table, layout, size)
    pdf.ln(3)
    _paragraph(pdf, doc, w.paragraph(rng, 2), size)
    pdf.output(str(path))
    doc.pages = pdf.page_no()
    doc.tables.append(table)
    doc.tests += (
        t.table_tests(table, rng, count=5) + t.caption_tests(table) + t.block_tests(doc.blocks, rng, presence=1)
    )
    return doc


def sideways_doc(rng: random.Random, path: Path) -> DocTruth:
    """A portrait page whose table is drawn turned 90 degrees (a rotated text matrix), caption and all."""
    pdf, doc = _new(rng, "fpdf-sideways")
    size = doc.notes["size"]
    layout = rng.choice(["ALL", "HORIZONTAL_LINES", "NONE"])
    doc.rotation = 90
    n_values = rng.randint(4, 7)
    header = [w.label(rng), *w.unique_labels(rng, n_values)]
    kinds = [rng.choice(["int", "dec", "pct"]) for _ in range(n_values)]
    body = [[label, *(w.number(rng, k) for k in kinds)] for label in w.unique_labels(rng, rng.randint(4, 8))]
    table = TableTruth.from_rows(
        [header, *body], 1, LAYOUTS[layout], caption=f"Table {rng.randint(1, 9)}: {w.title(rng)}"
    )
    pdf.add_page()
    pdf.set_auto_page_break(False)  # the rows are drawn below the page's bottom, then turned up onto it
    # Turned about the page's bottom-left content corner: the table's rows run up the page from there.
    with pdf.rotation(90, pdf.l_margin, pdf.h - pdf.b_margin):
        pdf.set_xy(pdf.l_margin, pdf.h - pdf.b_margin)
        saved = pdf.epw
        pdf.l_margin, pdf.r_margin = pdf.l_margin, pdf.w - pdf.l_margin - (pdf.h - pdf.t_margin - pdf.b_margin)
        pdf.set_font(pdf.family, "B", size)
        pdf.cell(0, size * 0.5, table.caption, new_x="LMARGIN", new_y="NEXT")
        _fpdf_table(pdf, rng, table, layout, size)
        pdf.r_margin = pdf.w - pdf.l_margin - saved
    pdf.output(str(path))
    doc.pages = pdf.page_no()
    doc.tables.append(table)
    doc.blocks.append(table.caption)
    doc.tests += t.table_tests(table, rng, count=5) + t.caption_tests(table)
    doc.notes["layout"] = layout
    return doc


BUILDERS = {"footers": footers_doc, "fpdf-table": table_doc, "fpdf-sideways": sideways_doc}
