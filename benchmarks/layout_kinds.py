"""Reading order, headings, furniture and figures on generated pages (``tests/page_docs.py``): journal articles
printed by Chromium in one to three columns and reports with alternating running heads, each scored against what
was drawn. Prints one JSON object: the mean of each kind's score, the CPU milliseconds of layout reading per page,
and the documents scoring lowest on each kind.

Run: .venv/bin/python benchmarks/layout_kinds.py [--journals 60] [--reports 10] [--seed 0] [--keep DIR]"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from statistics import mean

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.core.models import PageText  # noqa: E402
from pipeline.documents.layout.document import document_elements  # noqa: E402
from pipeline.documents.pdf import page_layouts, page_texts  # noqa: E402
from tests import page_docs  # noqa: E402


def read(path: Path) -> tuple[list, float, int]:
    import pypdfium2 as pdfium

    count = len(pdfium.PdfDocument(str(path)))
    start = time.process_time()
    layouts = dict(page_layouts(path, 1, count))
    pages = [PageText(n, layer.text, "text-layer", 0, layouts[n]) for n, layer in page_texts(path, 1, count)]
    elements = document_elements(pages)
    return elements, time.process_time() - start, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journals", type=int, default=60)
    parser.add_argument("--reports", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="write the PDFs here (and reuse those already there)")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="layout-kinds-"))
    folder.mkdir(parents=True, exist_ok=True)
    drawn: list[page_docs.Drawn] = []
    with page_docs.chromium() as browser:
        for n in range(args.journals):
            seed = args.seed + n
            drawn.append(page_docs.journal(browser, folder / f"journal-{seed}.pdf", seed))
    for n in range(args.reports):
        seed = args.seed + n
        drawn.append(page_docs.alternating_report(folder / f"report-{seed}.pdf", seed, pages=3 + seed % 4))
    scores: dict[str, list[tuple[float, str]]] = {}
    cpu = 0.0
    pages = 0
    for document in drawn:
        elements, seconds, count = read(document.path)
        cpu += seconds
        pages += count
        for kind, value in page_docs.score(elements, document).items():
            scores.setdefault(kind, []).append((value, document.path.name))
    print(
        json.dumps(
            {
                "documents": len(drawn),
                "pages": pages,
                "cpu_ms_per_page": round(1000 * cpu / max(1, pages), 1),
                "scores": {kind: round(mean(v for v, _ in values), 3) for kind, values in scores.items()},
                "lowest": {kind: sorted(values)[:5] for kind, values in scores.items()},
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
