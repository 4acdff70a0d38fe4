"""Benchmark table extractors (and the headings of whole-layout converters) against ground truth and docling.

Issue 24 wants documents with their structure; before writing Paperline's own table and heading finder this
measures the open peers on the same machine in one run, so we know the bar and the cost of reaching it:
- tables: ../shared/structure/icdar2013-eu (27 PDFs with cell-level ground truth), scored by the ICDAR 2013
  adjacency-relation measure (benchmarks/structure_score.py): F1, precision and recall per document, then
  averaged over documents; tables found against the ground truth's count; wall time per page; peak RSS.
- headings: ../shared/structure/docling, for the candidates that give a whole layout in Markdown, the headings
  and tables found beside what docling's Markdown for the same file shows (docling is a peer, not the truth).
Each candidate runs in its own subprocess (one at a time), so its peak RSS is its own and one crash is one error.
A candidate is `extract(pdf_path) -> list[Table]`, registered in CANDIDATES; Paperline's own is its local engine's
layout reading and the markdown profile's document assembly.
Run: .venv/bin/python benchmarks/structure.py [--only NAME,NAME]  (prints one JSON object to stdout; needs the
`bench` extra: pip install -e '.[bench]', and a Java runtime for opendataloader-pdf)
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import Any

import pypdfium2
from markdown_it import MarkdownIt
from markdown_it.token import Token

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks.structure_score, and pipeline/ for Paperline's own extractor

from benchmarks.structure_score import Score, Table, read_ground_truth, score_document  # noqa: E402

SHARED = ROOT.parent / "shared" / "structure"
ICDAR = SHARED / "icdar2013-eu"
DOCLING = SHARED / "docling"
CHILD_TIMEOUT_S = 1800


# --- Markdown, as whole-layout converters give it ---------------------------------------------------------------

_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


def _cell_text(inline: Token) -> str:
    """A table cell's text with Markdown escapes undone and `<br>` (opendataloader's line breaks) as spaces."""
    parts = [
        child.content if child.type in ("text", "code_inline") else " "
        for child in inline.children or []
        if child.type in ("text", "code_inline", "softbreak", "hardbreak")
    ]
    return _BREAK.sub(" ", "".join(parts))


def markdown_tables(markdown: str) -> list[Table]:
    """The pipe tables of a Markdown text (header row first) as rows of cell strings."""
    tables: list[Table] = []
    table: Table = []
    row: list[str] = []
    tokens = _MARKDOWN.parse(markdown)
    for previous, token in zip([None, *tokens], tokens, strict=False):
        if token.type == "table_open":
            table = []
        elif token.type == "tr_open":
            row = []
        elif token.type == "inline" and previous is not None and previous.type in ("th_open", "td_open"):
            row.append(_cell_text(token))
        elif token.type == "tr_close":
            table.append(row)
        elif token.type == "table_close":
            tables.append(table)
    return tables


def markdown_heading_count(markdown: str) -> int:
    return sum(token.type == "heading_open" for token in _MARKDOWN.parse(markdown))


# --- Candidates ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """One extractor under test: how to get tables from a PDF, and what it is.

    `modules` are imported before the clock starts (so import time is not charged per page); `prepare` runs once
    over all the files before `extract` (for a tool that is run in one batch); `markdown` is the whole-layout
    Markdown of a candidate that also finds headings.
    """

    extract: Callable[[Path], list[Table]]
    package: str  # its distribution, for the version and licence read from the installed metadata
    modules: tuple[str, ...] = ()
    prepare: Callable[[list[Path]], None] | None = None
    markdown: Callable[[Path], str] | None = None


def page_count(path: Path) -> int:
    pdf = pypdfium2.PdfDocument(str(path))
    try:
        return len(pdf)
    finally:
        pdf.close()


PDFPLUMBER_TEXT = {"vertical_strategy": "text", "horizontal_strategy": "text"}


def pdfplumber_tables(path: Path, settings: dict[str, Any] | None = None) -> list[Table]:
    import pdfplumber

    tables: list[Table] = []
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            for found in page.extract_tables(settings):
                tables.append([[cell or "" for cell in row] for row in found])
            page.close()
    return tables


def pdfplumber_text_tables(path: Path) -> list[Table]:
    return pdfplumber_tables(path, PDFPLUMBER_TEXT)


def camelot_tables(path: Path) -> list[Table]:
    """Lattice (ruled tables) on every page, then stream (whitespace) on the pages where lattice finds none.

    camelot renders pages for lattice with its default `pdfium` backend (pypdfium2), so no ghostscript is needed.
    """
    import camelot

    lattice = list(camelot.read_pdf(str(path), pages="all", flavor="lattice", suppress_stdout=True))
    ruled = {int(table.page) for table in lattice}
    bare = [str(page) for page in range(1, page_count(path) + 1) if page not in ruled]
    stream = (
        list(camelot.read_pdf(str(path), pages=",".join(bare), flavor="stream", suppress_stdout=True)) if bare else []
    )
    ordered = sorted([*lattice, *stream], key=lambda table: (int(table.page), table.order or 0))
    return [[[str(cell) for cell in row] for row in table.df.values.tolist()] for table in ordered]


def edgeparse_markdown(path: Path) -> str:
    import edgeparse

    return edgeparse.convert(path, format="markdown")


def edgeparse_tables(path: Path) -> list[Table]:
    return markdown_tables(edgeparse_markdown(path))


def edgeparse_tables_without_ocr(path: Path) -> list[Table]:
    """edgeparse without its default raster-table OCR, which runs poppler's pdfimages and tesseract as
    subprocesses on pages with images (most of its time on these born-digital files)."""
    import edgeparse

    return markdown_tables(edgeparse.convert(path, format="markdown", raster_table_ocr=False))


class OpenDataLoader:
    """opendataloader-pdf runs a Java CLI: one batch over all the files (a JVM start per file would dominate the
    time), then each file's Markdown is read from the batch's output folder."""

    def __init__(self) -> None:
        self.output: Path | None = None

    def prepare(self, paths: list[Path]) -> None:
        import opendataloader_pdf

        self.output = Path(tempfile.mkdtemp(prefix="odl-"))
        opendataloader_pdf.convert(
            input_path=[str(path) for path in paths],
            output_dir=str(self.output),
            format="markdown",
            image_output="off",
            quiet=True,
        )

    def markdown(self, path: Path) -> str:
        if self.output is None:
            raise RuntimeError("opendataloader-pdf: prepare() was not run")
        return (self.output / f"{path.stem}.md").read_text(encoding="utf-8")

    def tables(self, path: Path) -> list[Table]:
        return markdown_tables(self.markdown(path))


def tablers_tables(path: Path) -> list[Table]:
    from tablers import Document, find_tables

    doc = Document(str(path))
    try:
        return [
            [[cell.text or "" for cell in row] for row in table.to_list()]
            for page in doc.pages()
            for table in find_tables(page, extract_text=True)
        ]
    finally:
        doc.close()


_odl = OpenDataLoader()
CANDIDATES: dict[str, Candidate] = {
    "pdfplumber": Candidate(pdfplumber_tables, "pdfplumber", ("pdfplumber",)),
    "pdfplumber-text": Candidate(pdfplumber_text_tables, "pdfplumber", ("pdfplumber",)),
    "camelot": Candidate(camelot_tables, "camelot-py", ("camelot",)),
    "edgeparse": Candidate(edgeparse_tables, "edgeparse", ("edgeparse",), markdown=edgeparse_markdown),
    "edgeparse-no-ocr": Candidate(edgeparse_tables_without_ocr, "edgeparse", ("edgeparse",)),
    "opendataloader": Candidate(
        _odl.tables, "opendataloader-pdf", ("opendataloader_pdf",), prepare=_odl.prepare, markdown=_odl.markdown
    ),
    "tablers": Candidate(tablers_tables, "tablers", ("tablers",)),
}


def paperline_pages(path: Path) -> list[Any]:
    """Paperline's local engine as a chunk task runs it for the markdown profile: each page's text layer and
    layout."""
    from pipeline.core.models import PageText
    from pipeline.documents.pdf import page_layouts, page_texts

    count = page_count(path)
    layouts = dict(page_layouts(path, 1, count))
    return [PageText(n, layer.text, "text-layer", 0, layouts[n]) for n, layer in page_texts(path, 1, count)]


def paperline_tables(path: Path) -> list[Table]:
    from pipeline.core.elements import Kind
    from pipeline.documents.layout.document import document_elements

    return [e.rows() for e in document_elements(paperline_pages(path)) if e.kind is Kind.TABLE]


def paperline_markdown(path: Path) -> str:
    from pipeline.documents.layout.document import document_elements
    from pipeline.profiles.structured import to_markdown

    return to_markdown(document_elements(paperline_pages(path)))


# Paperline's own structure step (issue 24), measured beside the peers.
CANDIDATES["paperline"] = Candidate(paperline_tables, "paperline", ("pypdfium2",), markdown=paperline_markdown)


# --- One candidate, in a child process ----------------------------------------------------------------------------


def truth_files(pdf: Path) -> list[Path]:
    """NAME-str.xml, and for eu-009a its alternative reading eu-009b (the competition scores the better one)."""
    files = [pdf.with_name(f"{pdf.stem}-str.xml")]
    if pdf.stem.endswith("a"):
        files += sorted(pdf.parent.glob(f"{pdf.stem[:-1]}[b-z]-str.xml"))
    return files


def peak_rss_mb() -> dict[str, float]:
    """This process's peak RSS, and its children's (opendataloader's JVM), in MB (Linux reports KB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "peak_rss_mb": round(max(own, children), 1),
        "python_rss_mb": round(own, 1),
        "child_rss_mb": round(children, 1),
    }


def run_all(
    candidate: Candidate, paths: list[Path], function: Callable[[Path], Any]
) -> tuple[float, dict[Path, Any], dict[str, str]]:
    """Wall seconds for `function` over all the files (the candidate's batch step included), each file's output,
    and each file's error."""
    for module in candidate.modules:
        importlib.import_module(module)
    outputs: dict[Path, Any] = {}
    errors: dict[str, str] = {}
    start = time.perf_counter()
    if candidate.prepare is not None:
        try:
            candidate.prepare(paths)
        except Exception as exc:
            errors["(batch)"] = f"{type(exc).__name__}: {exc}"[:300]
    for path in paths:
        try:
            outputs[path] = function(path)
        except Exception as exc:
            errors[path.stem] = f"{type(exc).__name__}: {exc}"[:300]
    return time.perf_counter() - start, outputs, errors


def measure_tables(candidate: Candidate) -> dict[str, Any]:
    pdfs = sorted(ICDAR.glob("*.pdf"))
    truths = {pdf: [read_ground_truth(path) for path in truth_files(pdf)] for pdf in pdfs}
    pages = sum(page_count(pdf) for pdf in pdfs)
    wall, outputs, errors = run_all(candidate, pdfs, candidate.extract)
    scores: dict[str, Score] = {}
    for pdf in pdfs:
        extracted = outputs.get(pdf, [])
        scores[pdf.stem] = max((score_document(extracted, truth) for truth in truths[pdf]), key=lambda s: s.f1)
    return {
        "f1": round(mean(s.f1 for s in scores.values()), 3),
        "precision": round(mean(s.precision for s in scores.values()), 3),
        "recall": round(mean(s.recall for s in scores.values()), 3),
        "tables_found": sum(len(outputs.get(pdf, [])) for pdf in pdfs),
        "tables_expected": sum(len(truths[pdf][0]) for pdf in pdfs),
        "documents": len(pdfs),
        "pages": pages,
        "ms_per_page": round(wall * 1000 / pages, 1),
        **peak_rss_mb(),
        "errors": errors,
        "f1_per_document": {name: round(s.f1, 3) for name, s in scores.items()},
    }


def measure_headings(candidate: Candidate) -> dict[str, Any]:
    markdown = candidate.markdown
    assert markdown is not None
    pdfs = sorted(DOCLING.glob("*.pdf"))
    _, outputs, errors = run_all(candidate, pdfs, markdown)
    per_document = {}
    for pdf in pdfs:
        docling = pdf.with_name(f"{pdf.stem}.docling.md").read_text(encoding="utf-8")
        text = outputs.get(pdf, "")
        ours, theirs = table_shapes(text), table_shapes(docling)
        per_document[pdf.stem] = {
            "headings": markdown_heading_count(text),
            "docling_headings": markdown_heading_count(docling),
            "tables": len(ours),
            "docling_tables": len(theirs),
            "cells": sum(rows * cols for rows, cols in ours),
            "docling_cells": sum(rows * cols for rows, cols in theirs),
            "table_shapes": [f"{rows}x{cols}" for rows, cols in ours],
            "docling_table_shapes": [f"{rows}x{cols}" for rows, cols in theirs],
        }
    counted = ("headings", "docling_headings", "tables", "docling_tables", "cells", "docling_cells")
    totals = {key: sum(int(counts[key]) for counts in per_document.values()) for key in counted}
    return {**totals, "errors": errors, "per_document": per_document}


_HTML_TABLE = re.compile(r"<table\b.*?</table>", re.IGNORECASE | re.DOTALL)
_HTML_ROW = re.compile(r"<tr\b.*?</tr>", re.IGNORECASE | re.DOTALL)
_HTML_CELL = re.compile(r"<t[dh]\b([^>]*)>", re.IGNORECASE)
_COLSPAN = re.compile(r"colspan\s*=\s*\"?(\d+)", re.IGNORECASE)


def table_shapes(markdown: str) -> list[tuple[int, int]]:
    """(rows, columns) of every table in a converter's Markdown: GFM pipe tables and HTML ``<table>`` blocks (what
    Paperline, docling and others write where cells span), a spanning cell counting the columns it spans."""
    shapes = [(len(table), max((len(row) for row in table), default=0)) for table in markdown_tables(markdown)]
    for table in _HTML_TABLE.findall(markdown):
        rows = _HTML_ROW.findall(table)
        widths = [
            sum(int(m.group(1)) if (m := _COLSPAN.search(attrs)) else 1 for attrs in _HTML_CELL.findall(row))
            for row in rows
        ]
        shapes.append((len(rows), max(widths, default=0)))
    return shapes


SECTIONS: dict[str, Callable[[Candidate], dict[str, Any]]] = {"tables": measure_tables, "headings": measure_headings}


def child(name: str, section: str, out: Path) -> None:
    out.write_text(json.dumps(SECTIONS[section](CANDIDATES[name])), encoding="utf-8")


# --- The run: every candidate in turn, each in a subprocess -------------------------------------------------------


def in_subprocess(name: str, section: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "result.json"
        command = [sys.executable, __file__, "--child", name, "--section", section, "--out", str(out)]
        try:
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return {"errors": {"(run)": f"timed out after {CHILD_TIMEOUT_S} s"}}
        if done.returncode != 0 or not out.exists():
            return {"errors": {"(run)": f"exit {done.returncode}: {done.stderr[-600:]}"}}
        return json.loads(out.read_text(encoding="utf-8"))


def about(package: str) -> dict[str, str]:
    """Installed version and licence, from the package's own metadata."""
    try:
        meta = importlib.metadata.metadata(package)
    except importlib.metadata.PackageNotFoundError:
        return {"version": "not installed"}
    classifiers = [c.rsplit(" :: ", 1)[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    licence = meta.get("License-Expression") or (meta.get("License") or "").split("\n")[0] or ", ".join(classifiers)
    return {"version": meta["Version"], "licence": licence}


def profile_job_times(pages: int = 120) -> dict[str, Any]:
    """Seconds a whole job takes with the ``text`` and the ``markdown`` profile on one generated born-digital PDF of
    ``pages`` pages (headings, paragraphs, a ruled table and a running header on every page), each run twice in
    this process through the real steps (the queue drained in process), the best of two: the cost of structure. Also
    the CPU seconds each took, which other work on the machine does not inflate as much."""
    import tempfile

    from fpdf import FPDF

    from pipeline.core.settings import Settings
    from pipeline.service.paperline import Paperline
    from tests.sync_runner import run_queued

    work = Path(tempfile.mkdtemp(prefix="paperline-structure-"))
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    for page in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("Helvetica", size=8)
        pdf.set_xy(20, 10)
        pdf.cell(0, 5, "Benchmark Report - running header")
        pdf.set_xy(20, 25)
        pdf.set_font("Helvetica", "B", 15)
        pdf.multi_cell(170, 8, f"{page} Section {page}")
        pdf.set_font("Helvetica", size=10)
        for n in range(6):
            pdf.multi_cell(170, 5, f"Paragraph {n} of section {page}: " + "the ledger was reviewed and approved " * 6)
            pdf.ln(2)
        for row in range(5):
            pdf.set_x(20)
            for col in range(4):
                pdf.cell(40, 7, f"r{row}c{col} {page * 10 + row}.{col}", border=1)
            pdf.ln(7)
        pdf.set_xy(100, 285)
        pdf.cell(10, 5, str(page))
    path = work / "long.pdf"
    pdf.output(str(path))
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for profile in ("text", "markdown") * 2:
        app = Paperline(Settings(home=work / f"home-{profile}-{time.monotonic_ns()}"))
        started = time.process_time()
        job = app.submit(path, profile=profile)
        run_queued(app)
        used = time.process_time() - started
        done = app.get(job.id)
        assert done.status.value == "completed", done.error
        took = (done.finished_at or 0) - (done.created_at or 0)
        seconds[profile] = min(seconds.get(profile, float("inf")), took)
        cpu[profile] = min(cpu.get(profile, float("inf")), used)
        app.close()
    # The job's own times are wall-clock: on a machine shared with other work they swing; the CPU seconds this
    # process spent on each job (the queue is drained in process) compare the two profiles' work alone.
    workers = _worker_job_times(path, work)
    return {
        "pages": pages,
        "text_s": round(seconds["text"], 2),
        "markdown_s": round(seconds["markdown"], 2),
        "markdown_over_text": round(seconds["markdown"] / seconds["text"], 2),
        "text_cpu_s": round(cpu["text"], 2),
        "markdown_cpu_s": round(cpu["markdown"], 2),
        "markdown_over_text_cpu": round(cpu["markdown"] / cpu["text"], 2),
        "with_workers": workers,
    }


def _worker_job_times(path: Path, work: Path, runs: int = 3, processes: int = 2) -> dict[str, Any]:
    """The same document's job time as an analyst sees it with ``make run``'s worker (``processes`` worker
    processes, the real queue): submit to completed, each profile ``runs`` times alternately, the median. Each run
    gets a copy with one byte changed, so no run is answered from the cache of an earlier one."""
    from statistics import median

    from pipeline.core.settings import Settings
    from pipeline.service.local_worker import LocalWorker
    from pipeline.service.paperline import Paperline

    settings = Settings(home=work / "home-workers")
    times: dict[str, list[float]] = {"text": [], "markdown": []}
    with LocalWorker(settings, workers=processes).start():
        app = Paperline(settings)
        for run in range(runs):
            for profile in ("text", "markdown"):
                copy = work / f"long-{profile}-{run}.pdf"
                copy.write_bytes(path.read_bytes() + f"\n% run {run} {profile}\n".encode())
                job = app.submit(copy, profile=profile)
                [done] = app.wait([job.id], timeout_s=600)
                assert done.status.value == "completed", done.error
                times[profile].append((done.finished_at or 0) - done.created_at)
        app.close()
    text, markdown = median(times["text"]), median(times["markdown"])
    return {
        "worker_processes": processes,
        "runs": runs,
        "text_s": round(text, 2),
        "markdown_s": round(markdown, 2),
        "markdown_over_text": round(markdown / text, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated candidate names (default: all)")
    parser.add_argument("--job-times", action="store_true", help="only the text vs markdown job times")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--section", choices=sorted(SECTIONS), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.section, args.out)
        return
    if args.job_times:
        print(json.dumps({"job_times": profile_job_times()}, indent=2))
        return
    names = args.only.split(",") if args.only else list(CANDIDATES)
    result: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
        "candidates": {name: about(CANDIDATES[name].package) for name in names},
        "tables": {},
        "headings": {},
    }
    for name in names:
        print(f"tables: {name}", file=sys.stderr)
        result["tables"][name] = in_subprocess(name, "tables")
    for name in names:
        if CANDIDATES[name].markdown is not None:
            print(f"headings: {name}", file=sys.stderr)
            result["headings"][name] = in_subprocess(name, "headings")
    result["job_times"] = profile_job_times()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
