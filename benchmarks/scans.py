"""Scans, measured: ruled tables on generated scans (cells right, against Tesseract's own CPU for the page) and OCR
engines on generated letters in print and handwriting faces (character error rate and CPU of Tesseract, RapidOCR,
and RapidOCR only where Tesseract is unsure).

The scans are drawn here (``tests/scan_docs.py``): a page with a 6 x 4 ruled table rendered at 150-300 dpi,
roughened (skew, speckle, blur); a five-line letter set in Helvetica and in the handwriting faces of Debian's
fonts-dkg-handwriting, fonts-breip, fonts-humor-sans and fonts-dancingscript (those missing are skipped).
Run: .venv/bin/python benchmarks/scans.py  (prints one JSON object; RapidOCR needs the ``ocr`` extra)
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
from pathlib import Path
from statistics import fmean

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.core.elements import Element, Kind  # noqa: E402
from pipeline.documents import ocr, rapid  # noqa: E402
from pipeline.documents.pdf import render_page  # noqa: E402
from tests import scan_docs  # noqa: E402

TABLE_SCANS = {
    "clean-200": {"dpi": 200},
    "clean-150": {"dpi": 150},
    "light-speckle-skew-0.4": {"dpi": 200, "skew": 0.4, "noise": 0.002, "blur": 0.5},
    "speckled-skew-0.8-blur": {"dpi": 200, "skew": 0.8, "noise": 0.01, "blur": 0.6},
    "blurred-skew-minus-1.2": {"dpi": 200, "skew": -1.2, "blur": 1.0},
    "skew-2.5": {"dpi": 300, "skew": 2.5},
}


def cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def tables(folder: Path) -> dict[str, object]:
    results: dict[str, object] = {}
    for name, options in TABLE_SCANS.items():
        path = scan_docs.scanned(scan_docs.table_page(), folder / f"{name}.pdf", **options)  # type: ignore[arg-type]
        image = render_page(path, 1, 300, 0).image
        start = cpu()
        ocr.ocr_image(image)
        tesseract_s = cpu() - start
        start = cpu()
        page = ocr.ocr_page(image, dpi=300)
        layout = ocr.scanned_layout(page, 1, 595.3, 841.9)
        structure_s = cpu() - start
        found = [Element.from_record(e) for e in layout["elements"] if e["kind"] == Kind.TABLE.value]
        truth = [cell for row in scan_docs.GRID for cell in row]
        got = found[0].rows() if found else []
        right = sum(
            1
            for r, row in enumerate(scan_docs.GRID)
            for c, cell in enumerate(row)
            if r < len(got) and c < len(got[r]) and got[r][c] == cell
        )
        results[name] = {
            "tables": len(found),
            "cells_right": f"{right}/{len(truth)}",
            "skew_found": page.skew,
            "tesseract_cpu_s": round(tesseract_s, 2),
            "structure_cpu_s": round(structure_s, 2),
            "ratio": round(structure_s / tesseract_s, 2),
        }
    return results


def letters(folder: Path) -> dict[str, object]:
    truth = "\n".join(scan_docs.LETTER)
    faces: dict[str, str | None] = {"print": None}
    faces |= {name: font for name, font in scan_docs.HANDWRITING_FONTS.items() if Path(font).exists()}
    cases: dict[str, dict[str, float | str]] = {}
    for face, font in faces.items():
        for rough, options in (("clean", {}), ("rough", {"skew": 0.7, "noise": 0.003, "blur": 0.7})):
            image = scan_docs.roughened(scan_docs.render(scan_docs.letter_page(font), 200), **options)  # type: ignore[arg-type]
            start = cpu()
            tesseract = ocr.ocr_image(image, better="off")
            case: dict[str, float | str] = {
                "tesseract_cer": round(scan_docs.cer(tesseract.text, truth), 3),
                "tesseract_confidence": round(tesseract.confidence, 1),
                "tesseract_cpu_s": round(cpu() - start, 2),
            }
            if rapid.available():
                start = cpu()
                better = ocr.ocr_image(image, better="always")
                case |= {
                    "rapidocr_cer": round(scan_docs.cer(better.text, truth), 3),
                    "rapidocr_cpu_s": round(cpu() - start, 2),
                }
                auto = better if tesseract.confidence < 88 else tesseract
                case |= {"auto_cer": round(scan_docs.cer(auto.text, truth), 3), "auto_engine": auto.engine}
            cases[f"{face}-{rough}"] = case
    summary = {
        key: round(fmean(float(c[key]) for c in cases.values()), 3)
        for key in ("tesseract_cer", "rapidocr_cer", "auto_cer", "tesseract_cpu_s", "rapidocr_cpu_s")
        if all(key in c for c in cases.values())
    }
    return {"mean": summary, "cases": cases}


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        print(json.dumps({"scanned_tables": tables(Path(folder)), "ocr_engines": letters(Path(folder))}, indent=1))


if __name__ == "__main__":
    main()
