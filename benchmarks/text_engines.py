"""Benchmark pypdf against pypdfium2 at extracting the text layer of PDF pages.

Paperline reads the embedded text of every PDF page, so the text engine's speed sets throughput on long
documents. This times both libraries on ../shared/corpus and on a generated 300-page PDF with known text and
compares the text they return, so we can choose the faster engine where the text is as good.
Run: .venv/bin/python benchmarks/text_engines.py  (prints one JSON object to stdout)
"""

from __future__ import annotations

import difflib
import json
import re
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pypdf
import pypdfium2

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
sys.path.insert(0, str(ROOT))  # so that main() can import tests.docgen

GENERATED_PAGES = 300
RUNS = 3
SEQUENCE_WORD_LIMIT = 5_000  # above this many words, skip the quadratic SequenceMatcher and use Jaccard only


def extract_pypdf(path: Path) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(path).pages]


def extract_pypdfium2(path: Path) -> list[str]:
    pdf = pypdfium2.PdfDocument(str(path))
    try:
        texts = []
        for i in range(len(pdf)):
            page = pdf[i]
            textpage = page.get_textpage()
            texts.append(textpage.get_text_bounded())
            textpage.close()
            page.close()
        return texts
    finally:
        pdf.close()


ENGINES: dict[str, Callable[[Path], list[str]]] = {"pypdf": extract_pypdf, "pypdfium2": extract_pypdfium2}


def lines_of(text: str) -> list[str]:
    """Lines split on CRLF, CR or LF, with runs of spaces collapsed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [re.sub(r"[^\S\n]+", " ", line).strip() for line in text.split("\n")]


def odd_chars(text: str) -> int:
    """Count control characters other than tab/CR/LF (e.g. pdfium's 0x02 soft hyphen) and private-use glyphs."""
    return sum(ch not in "\t\n\r" and unicodedata.category(ch) in ("Cc", "Co") for ch in text)


def timed(engine: Callable[[Path], list[str]], path: Path) -> tuple[float, list[str]]:
    """Best wall time of RUNS full-document extractions (open + every page), and the extracted pages."""
    best, pages = float("inf"), []
    for _ in range(RUNS):
        start = time.perf_counter()
        pages = engine(path)
        best = min(best, time.perf_counter() - start)
    return best, pages


def run_engines(path: Path) -> tuple[dict[str, Any], dict[str, list[str]]]:
    stats: dict[str, Any] = {}
    texts: dict[str, list[str]] = {}
    for name, engine in ENGINES.items():
        try:
            seconds, pages = timed(engine, path)
        except Exception as exc:  # report per-file errors and carry on
            stats[name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        texts[name] = pages
        stats[name] = {
            "pages": len(pages),
            "seconds": round(seconds, 4),
            "pages_per_second": round(len(pages) / seconds, 1) if seconds else None,
            "chars": sum(len(p) for p in pages),
            "words": len(" ".join(pages).split()),
            "odd_chars": odd_chars("".join(pages)),
        }
    return stats, texts


def generated_quality(pages: list[str], page_text: Callable[[int], list[str]]) -> dict[str, Any]:
    """Fraction of expected lines (tests.docgen.page_text) found as exact lines on their own page."""
    found = perfect = expected_total = 0
    for number, text in enumerate(pages, start=1):
        got, expected = set(lines_of(text)), page_text(number)
        hits = sum(line in got for line in expected)
        found, expected_total, perfect = found + hits, expected_total + len(expected), perfect + (hits == len(expected))
    return {"line_recall": round(found / expected_total, 4) if expected_total else 0.0, "pages_perfect": perfect}


def compare_texts(a: list[str], b: list[str]) -> dict[str, Any]:
    """Similarity of two engines' whole-document text, on whitespace-normalised word sequences."""
    wa, wb = " ".join(a).split(), " ".join(b).split()
    union = set(wa) | set(wb)
    result: dict[str, Any] = {"word_jaccard": round(len(set(wa) & set(wb)) / len(union), 4) if union else 1.0}
    if max(len(wa), len(wb)) <= SEQUENCE_WORD_LIMIT:
        result["sequence_ratio"] = round(difflib.SequenceMatcher(None, wa, wb, autojunk=False).ratio(), 4)
    return result


def bench_corpus_file(path: Path) -> dict[str, Any]:
    entry: dict[str, Any] = {"file": path.name}
    try:
        if pypdf.PdfReader(path).is_encrypted:
            return {**entry, "skipped": "encrypted (password-protected); not benchmarked"}
    except Exception as exc:  # unreadable file: report it, keep going
        return {**entry, "error": f"{type(exc).__name__}: {exc}"}
    stats, texts = run_engines(path)
    entry.update(stats)
    if len(texts) == 2:
        entry["comparison"] = compare_texts(texts["pypdf"], texts["pypdfium2"])
    return entry


def main() -> None:
    from tests.docgen import make_text_pdf, page_text

    corpus = [bench_corpus_file(p) for p in sorted(CORPUS.glob("*.pdf"))]
    with tempfile.TemporaryDirectory() as tmp:
        path = make_text_pdf(Path(tmp) / "generated.pdf", GENERATED_PAGES)
        stats, texts = run_engines(path)
    generated: dict[str, Any] = {"file": f"generated {GENERATED_PAGES}-page PDF (tests.docgen.make_text_pdf)", **stats}
    for name, pages in texts.items():
        generated[name]["quality"] = generated_quality(pages, page_text)
    if len(texts) == 2:
        generated["comparison"] = compare_texts(texts["pypdf"], texts["pypdfium2"])

    summary: dict[str, Any] = {"speedup_pypdfium2_over_pypdf_generated": None}
    if len(texts) == 2:
        ratio = generated["pypdfium2"]["pages_per_second"] / generated["pypdf"]["pages_per_second"]
        summary["speedup_pypdfium2_over_pypdf_generated"] = round(ratio, 2)
    # Only the generated PDF has ground truth; corpus files get a cross-engine similarity instead.
    summary["mean_quality_generated_line_recall"] = {
        n: generated[n].get("quality", {}).get("line_recall") for n in ENGINES
    }
    sims = [e["comparison"].get("sequence_ratio", e["comparison"]["word_jaccard"]) for e in corpus if "comparison" in e]
    summary["corpus_mean_similarity"] = round(sum(sims) / len(sims), 4) if sims else None
    report = {"runs_per_measurement": RUNS, "corpus": corpus, "generated": generated, "summary": summary}
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
