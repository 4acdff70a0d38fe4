"""The structure benchmark: every kind of document, every peer, one run (issues 24 and 31).

Candidates (each in its own subprocess, one at a time, so its peak RSS is its own and one crash is one error):
Paperline (its local engine's layout reading, OCR on scans, and the markdown profile's document assembly),
pdfplumber, camelot, tablers, edgeparse, opendataloader-pdf, and plain ``pdftotext`` as a text baseline. A
candidate converts a file to tables (grids with header rows and spans, where it says) and, when it writes whole
pages, text (Markdown or plain).

Sections:
- ``corpus``: the generated development corpus (tests/corpus: hundreds of documents printed by Chromium and fpdf2
  with known structure, and scans of them). Tables are scored per document by the ICDAR 2013 adjacency-relation F1
  and by a header-aware F1 (each body cell with its column's header path: benchmarks/structure_score.py), grouped
  by how the tables were drawn; the page-level unit tests (text present, furniture absent, order, table cell
  neighbours, headings, figure labels not tables or lists: benchmarks/page_tests.py) are counted per category, and
  for rotated pages and scans as a whole. Tools with no page output (camelot, tablers) get table scores only.
- ``icdar``: ../shared/structure/icdar2013-eu (27 PDFs with cell ground truth), the adjacency-relation F1.
- ``shared``: a few page tests on ../shared/corpus, from its README.
- ``docling``: ../shared/structure/docling, headings and tables found beside docling's Markdown (a peer, not truth).
Each reports ms per page and peak RSS. The JSON object printed holds everything; ``--table`` prints the summary as
Markdown tables instead (rows = candidates, columns = kinds).

Run: .venv/bin/python benchmarks/structure.py [--quick] [--table] [--only NAME,NAME] [--sections corpus,icdar]
(needs the `bench` extra: pip install -e '.[bench]', a Java runtime for opendataloader-pdf, Chromium and the fonts
of `make bench`). The generated corpus is cached under var/bench-corpus/ by generator version and seed; --quick
takes its first two documents of every kind and four scans (`--quick --only paperline --table`: a minute or two,
to run after every change; every peer: five to ten), the full run twenty of every kind and forty scans.
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
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean
from typing import Any

import pypdfium2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks.*, tests.corpus, and pipeline/ for Paperline's own extractor

from benchmarks.page_tests import Reading, markdown_tables, normalize, read_markdown, read_text, run_test  # noqa: E402
from benchmarks.structure_score import Grid, Score, read_ground_truth, score_document, score_headers  # noqa: E402

SHARED = ROOT.parent / "shared"
ICDAR = SHARED / "structure" / "icdar2013-eu"
DOCLING = SHARED / "structure" / "docling"
CORPUS_CACHE = ROOT / "var" / "bench-corpus"
CHILD_TIMEOUT_S = 3600
FULL = {"per_kind": 20, "scans": 40}
QUICK = {"per_kind": 2, "scans": 4}
#: allowed edit distance, as a share of the quoted text, when a scan's output is tested (OCR misreads a little)
SCAN_FUZZ = 0.1


# --- Candidates ---------------------------------------------------------------------------------------------------


@dataclass
class Output:
    """What a candidate made of one file: its tables, and (for tools that write whole pages) its text."""

    tables: list[Grid] = field(default_factory=list)
    text: str | None = None
    markdown: bool = True  # the text is Markdown (else plain text)


@dataclass(frozen=True)
class Candidate:
    """One tool under test.

    `modules` are imported before the clock starts (so import time is not charged per page); `prepare` runs once
    over all the files before `convert` (for a tool that is run in one batch); `pages` says it writes whole pages
    (scored by the page tests); `images` that it reads PNG files too; `tables` that it finds tables.
    """

    convert: Callable[[Path], Output]
    package: str  # its distribution, for the version and licence read from the installed metadata
    modules: tuple[str, ...] = ()
    prepare: Callable[[list[Path]], None] | None = None
    pages: bool = False
    images: bool = False
    tables: bool = True


def page_count(path: Path) -> int:
    if path.suffix.lower() != ".pdf":
        return 1
    pdf = pypdfium2.PdfDocument(str(path))
    try:
        return len(pdf)
    finally:
        pdf.close()


def plain(tables: list[list[list[str]]]) -> list[Grid]:
    """Grids from a tool that says nothing of header rows or spans: the first row is taken as the header."""
    return [Grid([[cell or "" for cell in row] for row in table], 1) for table in tables if table]


PDFPLUMBER_TEXT = {"vertical_strategy": "text", "horizontal_strategy": "text"}


def pdfplumber_convert(path: Path, settings: dict[str, Any] | None = None, text: bool = True) -> Output:
    import pdfplumber

    tables: list[list[list[str]]] = []
    texts: list[str] = []
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            tables += [[[cell or "" for cell in row] for row in found] for found in page.extract_tables(settings)]
            if text:
                texts.append(page.extract_text() or "")
            page.close()
    return Output(plain(tables), "\n\n".join(texts) if text else None, markdown=False)


def pdfplumber_text_tables(path: Path) -> Output:
    return pdfplumber_convert(path, PDFPLUMBER_TEXT, text=False)


def camelot_convert(path: Path) -> Output:
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
    return Output(plain([[[str(cell) for cell in row] for row in table.df.values.tolist()] for table in ordered]))


def edgeparse_convert(path: Path, **options: Any) -> Output:
    import edgeparse

    markdown = edgeparse.convert(path, format="markdown", **options)
    return Output(markdown_tables(markdown), markdown)


def edgeparse_without_ocr(path: Path) -> Output:
    """edgeparse without its default raster-table OCR, which runs poppler's pdfimages and tesseract as
    subprocesses on pages with images: about 195 s for one scanned page of the corpus (0.4-1 s for a born-digital
    one), so the default run uses this and `--only edgeparse-ocr` runs the other."""
    return edgeparse_convert(path, raster_table_ocr=False)


class OpenDataLoader:
    """opendataloader-pdf runs a Java CLI: one batch over all the files (a JVM start per file would dominate the
    time), then each file's Markdown is read from the batch's output folder."""

    def __init__(self) -> None:
        self.output: Path | None = None

    def prepare(self, paths: list[Path]) -> None:
        import opendataloader_pdf

        self.output = Path(tempfile.mkdtemp(prefix="odl-"))
        opendataloader_pdf.convert(
            input_path=[str(path) for path in paths if path.suffix.lower() == ".pdf"],
            output_dir=str(self.output),
            format="markdown",
            image_output="off",
            quiet=True,
        )

    def convert(self, path: Path) -> Output:
        if self.output is None:
            raise RuntimeError("opendataloader-pdf: prepare() was not run")
        markdown = (self.output / f"{path.stem}.md").read_text(encoding="utf-8")
        return Output(markdown_tables(markdown), markdown)


def tablers_convert(path: Path) -> Output:
    from tablers import Document, find_tables

    doc = Document(str(path))
    try:
        return Output(
            plain(
                [
                    [[cell.text or "" for cell in row] for row in table.to_list()]
                    for page in doc.pages()
                    for table in find_tables(page, extract_text=True)
                ]
            )
        )
    finally:
        doc.close()


def pdftotext_convert(path: Path) -> Output:
    """poppler's pdftotext in its default reading mode: the plain-text baseline of the page tests."""
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, timeout=120, check=True)
    return Output(text=done.stdout, markdown=False)


def paperline_convert(path: Path) -> Output:
    """Paperline as a job of the markdown profile runs it: the local engine reads each page's text layer and
    layout (or OCRs a page without text, and images, with Tesseract's layout), then the profile assembles the
    document (furniture, headings ranked, tables joined) and writes Markdown."""
    from pipeline.core.elements import Kind
    from pipeline.core.models import DocumentKind
    from pipeline.core.settings import Settings
    from pipeline.documents.layout.document import document_elements
    from pipeline.engines.base import ChunkWork
    from pipeline.engines.local import LocalExtractor
    from pipeline.profiles.structured import to_markdown

    count = page_count(path)
    kind = DocumentKind.PDF if path.suffix.lower() == ".pdf" else DocumentKind.IMAGE
    work = ChunkWork("bench", 0, kind, "markdown", path, 1, count, 1, count, structure=True)
    pages = LocalExtractor(Settings(home=Path(tempfile.gettempdir()))).extract(work, lambda _n: None).pages
    elements = document_elements(pages)
    tables = [
        Grid(
            e.rows(),
            e.header_rows,
            tuple((c.row, c.col, c.row_span, c.col_span) for c in e.cells if c.row_span > 1 or c.col_span > 1),
        )
        for e in elements
        if e.kind is Kind.TABLE
    ]
    return Output(tables, to_markdown(elements))


_odl = OpenDataLoader()
CANDIDATES: dict[str, Candidate] = {
    "paperline": Candidate(
        paperline_convert, "paperline", ("pypdfium2", "pipeline.engines.local"), pages=True, images=True
    ),
    "pdfplumber": Candidate(pdfplumber_convert, "pdfplumber", ("pdfplumber",), pages=True),
    "camelot": Candidate(camelot_convert, "camelot-py", ("camelot",)),
    "tablers": Candidate(tablers_convert, "tablers", ("tablers",)),
    "edgeparse": Candidate(edgeparse_without_ocr, "edgeparse", ("edgeparse",), pages=True),
    "opendataloader": Candidate(
        _odl.convert, "opendataloader-pdf", ("opendataloader_pdf",), prepare=_odl.prepare, pages=True
    ),
    "pdftotext": Candidate(pdftotext_convert, "poppler-utils", pages=True, tables=False),
    # variants, run only when named with --only
    "pdfplumber-text": Candidate(pdfplumber_text_tables, "pdfplumber", ("pdfplumber",)),
    "edgeparse-ocr": Candidate(edgeparse_convert, "edgeparse", ("edgeparse",), pages=True),
}
DEFAULT = ("paperline", "pdfplumber", "camelot", "tablers", "edgeparse", "opendataloader", "pdftotext")


# --- Running a candidate over files -------------------------------------------------------------------------------


def peak_rss_mb() -> dict[str, float]:
    """This process's peak RSS, and its children's (opendataloader's JVM, tesseract), in MB (Linux reports KB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "peak_rss_mb": round(max(own, children), 1),
        "python_rss_mb": round(own, 1),
        "child_rss_mb": round(children, 1),
    }


def run_all(
    candidate: Candidate, paths: list[Path], seconds: dict[Path, float] | None = None
) -> tuple[float, float, dict[Path, Output], dict[str, str]]:
    """Wall and CPU seconds (this process and its children) for all the files, the candidate's batch step
    included; each file's output; each file's error; each file's own wall seconds into ``seconds``."""
    for module in candidate.modules:
        importlib.import_module(module)
    outputs: dict[Path, Output] = {}
    errors: dict[str, str] = {}
    start, cpu = time.perf_counter(), _cpu()
    if candidate.prepare is not None:
        try:
            candidate.prepare(paths)
        except Exception as exc:
            errors["(batch)"] = f"{type(exc).__name__}: {exc}"[:300]
    for path in paths:
        began = time.perf_counter()
        try:
            outputs[path] = candidate.convert(path)
        except Exception as exc:
            errors[path.name] = f"{type(exc).__name__}: {exc}"[:300]
        if seconds is not None:
            seconds[path] = time.perf_counter() - began
    return time.perf_counter() - start, _cpu() - cpu, outputs, errors


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def cost(wall: float, cpu: float, pages: int) -> dict[str, Any]:
    return {
        "pages": pages,
        "ms_per_page": round(wall * 1000 / max(pages, 1), 1),
        "cpu_ms_per_page": round(cpu * 1000 / max(pages, 1), 1),
        **peak_rss_mb(),
    }


def reading_of(output: Output) -> Reading:
    if output.text is None:
        return Reading("")
    return read_markdown(output.text) if output.markdown else read_text(output.text)


# --- Section: the generated corpus --------------------------------------------------------------------------------


def corpus_docs(size: dict[str, int]) -> list[Any]:
    from tests.corpus import build

    return build(CORPUS_CACHE, per_kind=size["per_kind"], scans=size["scans"])


def table_group(doc: Any) -> str:
    """What a document's tables are reported under: scans and turned pages apart, else how they were drawn."""
    if doc.scan:
        return f"scanned-{doc.scan['format']}"
    if doc.rotation:
        return "rotated"
    return doc.tables[0].style


def test_group(doc: Any, test: dict[str, Any]) -> str:
    if doc.scan:
        return f"scans-{doc.scan['format']}"
    if doc.rotation:
        return "rotation"
    return test["category"]


def measure_corpus(candidate: Candidate, size: dict[str, int]) -> dict[str, Any]:
    from tests.corpus import corpus_folder

    docs = [d for d in corpus_docs(size) if candidate.images or d.file.endswith(".pdf")]
    folder = corpus_folder(CORPUS_CACHE)
    paths = [folder / d.file for d in docs]
    seconds: dict[Path, float] = {}
    wall, cpu, outputs, errors = run_all(candidate, paths, seconds)
    adjacency: dict[str, list[float]] = defaultdict(list)
    headers: dict[str, list[float]] = defaultdict(list)
    passed: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    failed: dict[str, list[str]] = {}
    for doc, path in zip(docs, paths, strict=True):
        output = outputs.get(path, Output())
        if doc.tables and candidate.tables:
            truth = [Grid(t.rows, t.header_rows, tuple(tuple(s) for s in t.spans)) for t in doc.tables]
            group = table_group(doc)
            adjacency[group].append(
                score_document([g.rows for g in output.tables], [g.rows for g in truth], normalize).f1
            )
            headers[group].append(score_headers(output.tables, truth, normalize).f1)
        if not candidate.pages:
            continue
        reading = reading_of(output)
        fuzz = SCAN_FUZZ if doc.scan else 0.0
        for test in doc.tests:
            ok = run_test(test, reading, fuzz)
            for tally in (passed[test_group(doc, test)], by_kind[doc.kind]):
                tally[0] += ok
                tally[1] += 1
            if not ok:
                failed.setdefault(doc.id, []).append(test["type"])
    pdf_docs = [d for d in docs if d.file.endswith(".pdf")]
    tables_pdf = [score for group, scores in adjacency.items() if group != "scanned-png" for score in scores]
    headers_pdf = [score for group, scores in headers.items() if group != "scanned-png" for score in scores]
    result: dict[str, Any] = {
        "documents": len(docs),
        "tables_f1": round(mean(tables_pdf), 3) if tables_pdf else None,
        "header_f1": round(mean(headers_pdf), 3) if headers_pdf else None,
        "tables_f1_by_group": {g: round(mean(v), 3) for g, v in sorted(adjacency.items())},
        "header_f1_by_group": {g: round(mean(v), 3) for g, v in sorted(headers.items())},
        "documents_by_group": {g: len(v) for g, v in sorted(adjacency.items())},
        **cost(wall, cpu, sum(page_count(p) for p in paths)),
        # (a batch tool's time is its batch's, not any one file's)
        "ms_per_page_by_source": _split_times(docs, paths, seconds) if candidate.prepare is None else {},
        "errors": errors,
    }
    if candidate.pages:
        pdf_tests = [v for g, v in passed.items() if g != "scans-png"]
        result |= {
            "page_tests": round(sum(v[0] for v in pdf_tests) / max(1, sum(v[1] for v in pdf_tests)), 3),
            "page_tests_by_group": {g: round(v[0] / v[1], 3) for g, v in sorted(passed.items())},
            "page_tests_counts": {g: v for g, v in sorted(passed.items())},
            "page_tests_by_kind": {k: round(v[0] / v[1], 3) for k, v in sorted(by_kind.items())},
            "failed_tests": failed,
        }
    result["pdf_documents"] = len(pdf_docs)
    return result


def _split_times(docs: list[Any], paths: list[Path], seconds: dict[Path, float]) -> dict[str, float]:
    """ms per page on born-digital files and on scans apart (a batch tool's shared start is not in either)."""
    split: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    for doc, path in zip(docs, paths, strict=True):
        tally = split["scans" if doc.scan else "born_digital"]
        tally[0] += seconds.get(path, 0.0)
        tally[1] += doc.pages
    return {name: round(s * 1000 / max(n, 1), 1) for name, (s, n) in split.items()}


# --- Section: ICDAR 2013 (EU half) ----------------------------------------------------------------------------------


def truth_files(pdf: Path) -> list[Path]:
    """NAME-str.xml, and for eu-009a its alternative reading eu-009b (the competition scores the better one)."""
    files = [pdf.with_name(f"{pdf.stem}-str.xml")]
    if pdf.stem.endswith("a"):
        files += sorted(pdf.parent.glob(f"{pdf.stem[:-1]}[b-z]-str.xml"))
    return files


def measure_icdar(candidate: Candidate, size: dict[str, int]) -> dict[str, Any]:
    pdfs = sorted(ICDAR.glob("*.pdf"))
    truths = {pdf: [read_ground_truth(path) for path in truth_files(pdf)] for pdf in pdfs}
    wall, cpu, outputs, errors = run_all(candidate, pdfs)
    scores: dict[str, Score] = {}
    for pdf in pdfs:
        extracted = [grid.rows for grid in outputs.get(pdf, Output()).tables]
        scores[pdf.stem] = max((score_document(extracted, truth) for truth in truths[pdf]), key=lambda s: s.f1)
    return {
        "f1": round(mean(s.f1 for s in scores.values()), 3),
        "precision": round(mean(s.precision for s in scores.values()), 3),
        "recall": round(mean(s.recall for s in scores.values()), 3),
        "tables_found": sum(len(outputs[pdf].tables) for pdf in pdfs if pdf in outputs),
        "tables_expected": sum(len(truths[pdf][0]) for pdf in pdfs),
        "documents": len(pdfs),
        **cost(wall, cpu, sum(page_count(pdf) for pdf in pdfs)),
        "errors": errors,
        "f1_per_document": {name: round(s.f1, 3) for name, s in scores.items()},
    }


# --- Section: the shared sample documents -------------------------------------------------------------------------

#: page tests on ../shared/corpus, from what its README says a good extraction does
SHARED_TESTS: dict[str, list[dict[str, Any]]] = {
    "multicolumn.pdf": [
        {"type": "present", "text": "Two-Column Document with Lorem Ipsum"},
        {"type": "heading", "text": "Abstract"},
        {
            "type": "order",
            "before": "Abstract",
            "after": "This is a sample document with two columns filled with Lorem Ipsum text.",
        },
        {"type": "table", "cell": "Austria", "right": "8.9", "down": "Belgium", "top_heading": "Country"},
    ],
    "pdflatex-4-pages.pdf": [{"type": "present", "text": "Hello, here is some text without a meaning."}],
    "pdflatex-outline.pdf": [
        {"type": "heading", "text": "1 Foo"},
        {"type": "order", "before": "1 Foo", "after": "2 Bar"},
        {"type": "order", "before": "2 Bar", "after": "3 Baz"},
    ],
    "google-doc-document.pdf": [
        {"type": "present", "text": "Example document"},
        {"type": "order", "before": "Beautiful is better than ugly.", "after": "Explicit is better than implicit."},
        {"type": "order", "before": "Explicit is better than implicit.", "after": "Simple is better than complex."},
    ],
    "habibi-rotated.pdf": [{"type": "present", "text": "habibi"}],
    "page-0-QuickPDFImd32aa1ab.png": [
        {"type": "present", "text": "When you open a ticket, assign it to yourself, fix the issue and close it"}
    ],
}


def measure_shared(candidate: Candidate, size: dict[str, int]) -> dict[str, Any]:
    paths = [SHARED / "corpus" / name for name in SHARED_TESTS if candidate.images or name.endswith(".pdf")]
    wall, cpu, outputs, errors = run_all(candidate, paths)
    passed = total = 0
    failed: dict[str, list[str]] = {}
    for path in paths:
        reading = reading_of(outputs.get(path, Output()))
        fuzz = SCAN_FUZZ if path.suffix == ".png" else 0.0
        for test in SHARED_TESTS[path.name]:
            ok = run_test(test, reading, fuzz)
            passed, total = passed + ok, total + 1
            if not ok:
                failed.setdefault(path.name, []).append(test["type"])
    return {
        "page_tests": round(passed / total, 3),
        "passed": passed,
        "tests": total,
        **cost(wall, cpu, sum(page_count(p) for p in paths)),
        "errors": errors,
        "failed_tests": failed,
    }


# --- Section: docling's nine documents ------------------------------------------------------------------------------

_HTML_TABLE = re.compile(r"<table\b.*?</table>", re.IGNORECASE | re.DOTALL)


def table_shapes(markdown: str) -> list[tuple[int, int]]:
    """(rows, columns) of every table in a converter's Markdown: GFM pipe tables and HTML ``<table>`` blocks, a
    spanning cell counting the columns it spans."""
    return [(len(g.rows), max((len(row) for row in g.filled()), default=0)) for g in markdown_tables(markdown)]


def markdown_heading_count(markdown: str) -> int:
    return len(read_markdown(markdown).headings)


def measure_docling(candidate: Candidate, size: dict[str, int]) -> dict[str, Any]:
    pdfs = sorted(DOCLING.glob("*.pdf"))
    _, _, outputs, errors = run_all(candidate, pdfs)
    per_document = {}
    for pdf in pdfs:
        docling = pdf.with_name(f"{pdf.stem}.docling.md").read_text(encoding="utf-8")
        text = outputs[pdf].text or "" if pdf in outputs else ""
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


SECTIONS: dict[str, Callable[[Candidate, dict[str, int]], dict[str, Any]]] = {
    "corpus": measure_corpus,
    "icdar": measure_icdar,
    "shared": measure_shared,
    "docling": measure_docling,
}


def child(name: str, section: str, size: dict[str, int], out: Path) -> None:
    out.write_text(json.dumps(SECTIONS[section](CANDIDATES[name], size)), encoding="utf-8")


# --- The run: every candidate in turn, each in a subprocess -------------------------------------------------------


def in_subprocess(name: str, section: str, size: dict[str, int]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "result.json"
        command = [sys.executable, __file__, "--child", name, "--section", section, "--size", json.dumps(size)]
        command += ["--out", str(out)]
        try:
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return {"errors": {"(run)": f"timed out after {CHILD_TIMEOUT_S} s"}}
        if done.returncode != 0 or not out.exists():
            return {"errors": {"(run)": f"exit {done.returncode}: {done.stderr[-600:]}"}}
        return json.loads(out.read_text(encoding="utf-8"))


def about(package: str) -> dict[str, str]:
    """Installed version and licence, from the package's own metadata (pdftotext: the Debian package's version)."""
    if package == "poppler-utils":
        done = subprocess.run(["pdftotext", "-v"], capture_output=True, text=True)
        return {"version": (done.stderr or done.stdout).split("\n")[0], "licence": "GPL-2.0 (a separate program)"}
    try:
        meta = importlib.metadata.metadata(package)
    except importlib.metadata.PackageNotFoundError:
        return {"version": "not installed"}
    classifiers = [c.rsplit(" :: ", 1)[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    licence = meta.get("License-Expression") or (meta.get("License") or "").split("\n")[0] or ", ".join(classifiers)
    return {"version": meta["Version"], "licence": licence}


# --- The summary tables -------------------------------------------------------------------------------------------

TABLE_GROUPS = (
    "grid", "booktabs", "ruleless", "shaded", "headers", "stacked", "financial", "multiline", "lists", "leaders",
    "rotated", "scanned-pdf", "scanned-png",
)  # fmt: skip
TEST_GROUPS = ("text", "order", "furniture", "headings", "tables", "figures", "rotation", "scans-pdf", "scans-png")


def _fmt(value: Any, name: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.0f}" if name.startswith(("ms", "peak")) else f"{value:.3f}"
    return str(value)


def summary(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per candidate: every kind's score, the overall ones, and the costs."""
    rows: dict[str, dict[str, Any]] = {}
    for name in result["candidates"]:
        corpus = result.get("corpus", {}).get(name, {})
        icdar = result.get("icdar", {}).get(name, {})
        shared = result.get("shared", {}).get(name, {})
        row: dict[str, Any] = {}
        for group in TABLE_GROUPS:
            row[f"table:{group}"] = corpus.get("tables_f1_by_group", {}).get(group)
        row["table:headers-aware"] = corpus.get("header_f1")
        row["table:icdar-eu"] = icdar.get("f1") if CANDIDATES[name].tables else None
        for group in TEST_GROUPS:
            row[f"tests:{group}"] = corpus.get("page_tests_by_group", {}).get(group)
        row["tests:shared-corpus"] = shared.get("page_tests")
        row["tables overall"] = corpus.get("tables_f1")
        row["tests overall"] = corpus.get("page_tests")
        parts = [v for v in (row["tables overall"], row["tests overall"]) if v is not None]
        row["overall"] = round(mean(parts), 3) if len(parts) == 2 else None
        pages = sum(
            section.get(name, {}).get("pages", 0) for section in (result.get("corpus", {}), result.get("icdar", {}))
        )
        if pages:
            wall = sum(
                section.get(name, {}).get("ms_per_page", 0) * section.get(name, {}).get("pages", 0)
                for section in (result.get("corpus", {}), result.get("icdar", {}))
            )
            row["ms/page"] = round(wall / pages, 1)
        split = corpus.get("ms_per_page_by_source", {})
        row["ms/page digital"] = split.get("born_digital")
        row["ms/page scans"] = split.get("scans")
        row["peak MB"] = max(
            (
                section.get(name, {}).get("peak_rss_mb", 0)
                for section in (result.get("corpus", {}), result.get("icdar", {}))
            ),
            default=None,
        )
        rows[name] = row
    return rows


def markdown_summary(result: dict[str, Any]) -> str:
    rows = summary(result)
    columns = list(next(iter(rows.values())).keys()) if rows else []
    tables = [
        (
            "Tables (adjacency F1 per document, mean; headers-aware: header-path F1)",
            [c for c in columns if c.startswith("table:")],
        ),
        ("Page tests (share passed)", [c for c in columns if c.startswith("tests:")]),
        ("Overall and cost", [c for c in columns if not c.startswith(("table:", "tests:"))]),
    ]
    out = []
    for title, names in tables:
        out.append(f"**{title}**\n")
        out.append("| candidate | " + " | ".join(n.split(":", 1)[-1] for n in names) + " |")
        out.append("|---|" + "---:|" * len(names))
        for name, row in rows.items():
            out.append(f"| {name} | " + " | ".join(_fmt(row.get(n), n) for n in names) + " |")
        out.append("")
    counts = result.get("corpus_counts")
    if counts:
        out.append("Documents per kind: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return "\n".join(out)


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
    parser.add_argument("--only", help=f"comma-separated candidate names (default: {','.join(DEFAULT)})")
    parser.add_argument("--quick", action="store_true", help="the first documents of every kind; no docling section")
    parser.add_argument("--sections", help=f"comma-separated sections (default: {','.join(SECTIONS)})")
    parser.add_argument("--table", action="store_true", help="print Markdown tables (the JSON goes to var/)")
    parser.add_argument("--from-json", type=Path, help="print the Markdown tables of an earlier run's JSON")
    parser.add_argument("--job-times", action="store_true", help="only the text vs markdown job times")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--section", choices=sorted(SECTIONS), help=argparse.SUPPRESS)
    parser.add_argument("--size", type=json.loads, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.section, args.size, args.out)
        return
    if args.from_json:
        print(markdown_summary(json.loads(args.from_json.read_text(encoding="utf-8"))))
        return
    if args.job_times:
        print(json.dumps({"job_times": profile_job_times()}, indent=2))
        return
    size = QUICK if args.quick else FULL
    names = args.only.split(",") if args.only else list(DEFAULT)
    sections = (
        args.sections.split(",") if args.sections else [s for s in SECTIONS if not (args.quick and s == "docling")]
    )
    started = time.perf_counter()
    result: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "machine": {"cpus": os.cpu_count(), "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
        "candidates": {name: about(CANDIDATES[name].package) for name in names},
    }
    if "corpus" in sections:
        from tests.corpus import DEFAULT_SEED, GENERATOR_VERSION

        print("building the corpus (cached after the first run)", file=sys.stderr)
        docs = corpus_docs(size)
        counts: dict[str, int] = defaultdict(int)
        for doc in docs:
            counts[f"{doc.kind}-{doc.scan['format']}" if doc.scan else doc.kind] += 1
        result["generator"] = {"version": GENERATOR_VERSION, "seed": DEFAULT_SEED, **size, "documents": len(docs)}
        result["corpus_counts"] = dict(counts)
        result["corpus_tests"] = sum(len(doc.tests) for doc in docs)
    for section in sections:
        result[section] = {}
        for name in names:
            if (section in ("docling", "shared") and not CANDIDATES[name].pages) or (
                section == "icdar" and not CANDIDATES[name].tables
            ):
                continue
            print(f"{section}: {name}", file=sys.stderr)
            result[section][name] = in_subprocess(name, section, size)
    result["summary"] = summary(result)
    result["run_s"] = round(time.perf_counter() - started, 1)
    text = json.dumps(result, indent=2)
    if args.table:
        saved = ROOT / "var" / f"bench-structure-{result['mode']}.json"
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(text, encoding="utf-8")
        print(f"(the whole result: {saved.relative_to(ROOT)}; run {result['run_s']} s)\n", file=sys.stderr)
        print(markdown_summary(result))
    else:
        print(text)


if __name__ == "__main__":
    main()
