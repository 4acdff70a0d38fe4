"""The corpus as a whole: a seeded plan of documents per kind, built into a cache folder (PDFs, PNGs and one JSON
truth file each) and read back. A document's content depends only on the seed, its kind and its index, so the
quick set is the first documents of every kind of the full one, and a second build reuses what is there."""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path

from tests.corpus import drawn, html, printing
from tests.corpus.truth import DocTruth

#: bump when what a document holds or how it is drawn changes: the cache folder is named by it
GENERATOR_VERSION = "2"
DEFAULT_SEED = 31
ROTATED_FROM = ("table", "headers", "article", "stacked", "financial", "multiline")
KINDS = (*html.BUILDERS, *drawn.BUILDERS, "rotated")
#: kinds whose documents are one page and are also rasterised as scans
SCANNED_FROM = ("table", "headers", "financial", "stacked", "multiline", "forms", "furniture", "figures", "leaders")


def corpus_folder(root: Path, seed: int = DEFAULT_SEED) -> Path:
    return root / f"v{GENERATOR_VERSION}-seed{seed}"


def build(
    root: Path,
    *,
    seed: int = DEFAULT_SEED,
    per_kind: int = 3,
    scans: int = 6,
    kinds: tuple[str, ...] = KINDS,
    log: Callable[[str], None] | None = None,
) -> list[DocTruth]:
    """``per_kind`` documents of each kind and ``scans`` scanned copies (each a PNG and an image-only PDF) of
    one-page documents, under ``corpus_folder(root, seed)``; documents already there are read, not made again."""
    folder = corpus_folder(root, seed)
    folder.mkdir(parents=True, exist_ok=True)
    docs: list[DocTruth] = []
    printer: printing.Printer | None = None
    try:
        for kind in kinds:
            for index in range(per_kind):
                doc_id = f"{kind}-{index:03d}"
                truth_path = folder / f"{doc_id}.json"
                if truth_path.exists():
                    docs.append(DocTruth.from_json(json.loads(truth_path.read_text(encoding="utf-8"))))
                    continue
                if printer is None and kind not in drawn.BUILDERS:
                    printer = printing.Printer()
                doc = _make(kind, f"{seed}:{kind}:{index}", folder / f"{doc_id}.pdf", printer)
                doc.id, doc.file = doc_id, f"{doc_id}.pdf"
                truth_path.write_text(json.dumps(doc.to_json()), encoding="utf-8")
                docs.append(doc)
                if log:
                    log(f"made {doc_id} ({doc.pages} pages)")
    finally:
        if printer is not None:
            printer.close()
    docs += _scans(folder, docs, seed, scans, log)
    return docs


def _make(kind: str, seed: str, path: Path, printer: printing.Printer | None) -> DocTruth:
    if kind in drawn.BUILDERS:
        return drawn.BUILDERS[kind](random.Random(seed), path)
    assert printer is not None
    if kind == "rotated":
        rng = random.Random(seed)
        inner = rng.choice(ROTATED_FROM)
        angle = rng.choice([90, 180, 270])
        flat = path.with_suffix(".upright.pdf")
        doc = _print(inner, f"{seed}:inner", flat, printer)
        printing.rotate_upright(flat, path, angle)
        flat.unlink()
        doc.kind, doc.rotation = "rotated", angle
        doc.notes["from"] = inner
        return doc
    return _print(kind, seed, path, printer)


def _print(kind: str, seed: str, path: Path, printer: printing.Printer) -> DocTruth:
    """Build and print, made smaller until a one-page document fits its page (at most four tries)."""
    for shrink in range(4):
        built = html.BUILDERS[kind](random.Random(f"{seed}:{shrink}"), shrink)
        pages, over = printer.print(built.html, path)
        if not over:
            break
    else:
        raise RuntimeError(f"{kind} {seed}: still runs over its page after four tries")
    built.truth.pages = pages
    built.truth.notes["shrink"] = shrink
    return built.truth


def _scans(
    folder: Path, docs: list[DocTruth], seed: int, count: int, log: Callable[[str], None] | None
) -> list[DocTruth]:
    """Scanned copies of one-page documents, taken in turn from each kind that has them."""
    by_kind = {kind: [d for d in docs if d.kind == kind and d.pages == 1] for kind in SCANNED_FROM}
    sources = []
    for index in range(max((len(v) for v in by_kind.values()), default=0)):
        sources += [found[index] for found in by_kind.values() if index < len(found)]
    out = []
    for source in sources[:count]:
        for fmt in ("pdf", "png"):
            doc_id = f"scan-{fmt}-{source.id}"
            truth_path = folder / f"{doc_id}.json"
            if truth_path.exists():
                out.append(DocTruth.from_json(json.loads(truth_path.read_text(encoding="utf-8"))))
                continue
            rng = random.Random(f"{seed}:scan:{source.id}")  # the same scan for the PNG and the PDF
            images, how = printing.scan_pages(folder / source.file, rng)
            target = folder / f"{doc_id}.{fmt}"
            if fmt == "pdf":
                printing.save_image_pdf(images, target, how["dpi"])
            else:
                printing.save_png(images[0], target, how["dpi"])
            doc = DocTruth.from_json(source.to_json())
            doc.id, doc.file, doc.kind = doc_id, target.name, "scan"
            doc.scan = how | {"format": fmt, "source": source.id, "source_kind": source.kind}
            truth_path.write_text(json.dumps(doc.to_json()), encoding="utf-8")
            out.append(doc)
            if log:
                log(f"made {doc_id}")
    return out


def clear(root: Path, seed: int = DEFAULT_SEED) -> None:
    shutil.rmtree(corpus_folder(root, seed), ignore_errors=True)
