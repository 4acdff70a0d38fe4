"""How faithful is Paperline's text layer reading, and what does it cost? One JSON object per document.

Documents: generated PDFs whose exact text is known (plain pages; lecture notes as pdfTeX writes them, with no
Unicode maps, ligatures and math symbols) and the real ones in ``../shared/corpus``.
Readers, each over the whole document:

* ``paperline``: a real job (local engine, ``text`` profile) through the job store and the chunk tasks, in process;
  its per-page text from ``result.json``; ``paperline_extraction``: the same page reading without a job;
* ``previous_rule``: Paperline's page rule before this benchmark existed (PDFium, and pypdf again for any page
  with right-to-left script *or control characters*), uncleaned, as the job wrote it;
* ``pdfium``, ``pypdf``: single passes of each library; ``pdftotext``: poppler, an independent reader.

Per reader: word-level similarity (whitespace tokens, per page, weighted by the reference's words) to the known
text where there is one, else to ``pdftotext``; control characters (CRLF line ends aside) and ligature characters
found; seconds (best of 3). For right-to-left pages, whether each reader keeps the logical order (pdftotext, the
reference elsewhere, returns them in visual order). The lecture notes (117 pages, the size seen in the field) give
Paperline's job and its page reading against a PDFium-only pass.

Run: .venv/bin/python benchmarks/fidelity.py  (needs pdftotext: Debian's poppler-utils, which `make test` installs)
"""

from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pypdf

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
sys.path.insert(0, str(ROOT))  # tests.docgen and tests.sync_runner
from text_engines import extract_pypdf as pypdf_pages  # noqa: E402  (the single passes text_engines.py times)
from text_engines import extract_pypdfium2 as pdfium_pages  # noqa: E402

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
LIGATURE = re.compile("[\ufb00-\ufb06]")
RIGHT_TO_LEFT = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
RUNS = 3
# The Arabic word of habibi-rotated.pdf as written (logical order); a reader that reverses it gives "يبيبَح".
LOGICAL_ARABIC = "حَبيبي"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def pdftotext_pages(path: Path) -> list[str]:
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    return done.stdout.decode("utf-8", "replace").split("\f")[:-1] or [""]


def previous_rule_pages(path: Path) -> list[str]:
    """The rule Paperline had: PDFium, and pypdf again for right-to-left pages or any control character."""
    reader = None
    pages = []
    for number, text in enumerate(pdfium_pages(path)):
        text = re.sub("\x02\n?", "", text.replace("\r\n", "\n").replace("\r", "\n")).replace("\ufffe", "")
        if RIGHT_TO_LEFT.search(text) or re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", text):
            reader = reader or pypdf.PdfReader(str(path))
            again = reader.pages[number].extract_text() or ""
            text = again if again.strip() else text
        pages.append(text)
    return pages


def extraction_pages(path: Path) -> list[str]:
    """Paperline's per-page reading alone (PDFium, pypdf for right-to-left pages, cleaning), without a job."""
    from pipeline.documents.pdf import page_texts

    count = len(pypdf.PdfReader(str(path)).pages)
    return [layer.text for _, layer in page_texts(path, 1, count)]


def paperline_pages(path: Path) -> list[str]:
    """A real job through the store and the chunk tasks (in process, no queue consumer): its pages' text."""
    from pipeline import Paperline, Settings
    from tests.sync_runner import run_queued

    with tempfile.TemporaryDirectory(prefix="paperline-fidelity-") as home:
        app = Paperline(Settings(home=Path(home)))
        try:
            job = app.submit(path)
            run_queued(app)
            job = app.get(job.id)
            if job.status.value != "completed":
                raise RuntimeError(f"{path.name}: {job.error}")
            return [page["text"] for page in json.loads(app.result(job.id, "json"))["pages"]]
        finally:
            app.close()


READERS: dict[str, Callable[[Path], list[str]]] = {
    "paperline": paperline_pages,
    "paperline_extraction": extraction_pages,
    "previous_rule": previous_rule_pages,
    "pdfium": pdfium_pages,
    "pypdf": pypdf_pages,
    "pdftotext": pdftotext_pages,
}


def similarity(pages: list[str], reference: list[str]) -> float:
    """Word-level similarity, page by page, weighted by the reference page's word count (1.0: the same words)."""
    total = matched = 0.0
    for number, expected in enumerate(reference):
        want = expected.split()
        got = pages[number].split() if number < len(pages) else []
        if not want:
            continue
        matcher = difflib.SequenceMatcher(a=want, b=got, autojunk=False)
        matched += sum(block.size for block in matcher.get_matching_blocks())
        total += max(len(want), len(got))
    return round(matched / total, 4) if total else 1.0


def timed(reader: Callable[[Path], list[str]], path: Path) -> tuple[list[str], float]:
    best, pages = float("inf"), []
    for _ in range(RUNS):
        start = time.perf_counter()
        pages = reader(path)
        best = min(best, time.perf_counter() - start)
    return pages, best


def measure(name: str, path: Path, known: list[str] | None) -> dict[str, Any]:
    log(f"{name}: {path.name}")
    outputs = {reader: timed(function, path) for reader, function in READERS.items()}
    reference = known if known is not None else outputs["pdftotext"][0]
    result: dict[str, Any] = {
        "document": name,
        "pages": len(outputs["pdfium"][0]),
        "reference": "known text" if known is not None else "pdftotext",
        "readers": {},
    }
    for reader, (pages, seconds) in outputs.items():
        text = "\n".join(pages)
        result["readers"][reader] = {
            "similarity": similarity(pages, reference),
            "control_characters": len(CONTROL.findall(text.replace("\r\n", "\n").replace("\n", "").replace("\t", ""))),
            "ligature_characters": len(LIGATURE.findall(text)),
            "seconds": round(seconds, 4),
        }
    scores = result["readers"]
    best_single = max(scores[r]["similarity"] for r in ("pdfium", "pypdf") if r in scores)
    result["paperline_at_least_best_single_reader"] = scores["paperline"]["similarity"] >= best_single
    result["paperline_vs_pdfium_time"] = round(scores["paperline"]["seconds"] / scores["pdfium"]["seconds"], 2)
    result["extraction_vs_pdfium_time"] = round(
        scores["paperline_extraction"]["seconds"] / scores["pdfium"]["seconds"], 2
    )
    if RIGHT_TO_LEFT.search("".join(reference)):  # pdftotext gives such scripts in visual order: check the order
        result["right_to_left_in_logical_order"] = {
            reader: LOGICAL_ARABIC in "".join(pages) for reader, (pages, _) in outputs.items()
        }
    return result


def generated(work: Path) -> list[tuple[str, Path, list[str]]]:
    from tests.docgen import lecture_page_lines, make_lecture_pdf, make_text_pdf, page_text

    docs = [
        ("generated-plain-40", make_text_pdf(work / "plain.pdf", 40), ["\n".join(page_text(p)) for p in range(1, 41)]),
        (
            "generated-lecture-117",
            make_lecture_pdf(work / "lecture.pdf", 117),
            ["\n".join(lecture_page_lines(p)) for p in range(1, 118)],
        ),
    ]
    return docs


def main() -> None:
    results = []
    with tempfile.TemporaryDirectory(prefix="paperline-fidelity-docs-") as tmp:
        for name, path, known in generated(Path(tmp)):
            results.append(measure(name, path, known))
        if CORPUS.is_dir():
            for path in sorted(CORPUS.glob("*.pdf")):
                if "password" in path.name:
                    continue
                results.append(measure(path.name, path, None))
    lecture = next(r for r in results if r["document"] == "generated-lecture-117")
    summary = {
        "documents": len(results),
        "paperline_at_least_best_single_reader_everywhere": all(
            r["paperline_at_least_best_single_reader"] for r in results
        ),
        "paperline_control_characters": sum(r["readers"]["paperline"]["control_characters"] for r in results),
        "paperline_ligature_characters": sum(r["readers"]["paperline"]["ligature_characters"] for r in results),
        "lecture_paperline_job_vs_pdfium_time": lecture["paperline_vs_pdfium_time"],
        "lecture_extraction_vs_pdfium_time": lecture["extraction_vs_pdfium_time"],
        "lecture_previous_rule_vs_pdfium_time": round(
            lecture["readers"]["previous_rule"]["seconds"] / lecture["readers"]["pdfium"]["seconds"], 2
        ),
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps({"summary": summary, "documents": results}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
