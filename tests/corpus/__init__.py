"""A development corpus of generated documents with known structure (issue 31): articles in one to three columns,
reports with headings on several levels, tables in every style (ruled grids, booktabs rules, none, shaded; spanning
and multi-row headers; cells of several lines and lists; stacked with captions; 10-K statements; price lists with
leader dots), one-page documents with furniture at their edges, reports with alternating running footers, charts
and diagrams, forms, pages turned by /Rotate and tables set sideways; and the same pages as scans.

Printed by real engines (headless Chromium from HTML and CSS; fpdf2), varied at random (seeded) in fonts, sizes,
margins, columns and styles. Each document comes with its ground truth (``truth.DocTruth``): tables as cell grids
with header rows and spans, headings with levels, reading-order blocks, furniture strings and olmOCR-bench-style
unit tests. ``build(root, per_kind=..., scans=...)`` makes (or reads back) the corpus under ``root``;
benchmarks/structure.py scores tools on it and tests use single builders."""

from tests.corpus.build import DEFAULT_SEED, GENERATOR_VERSION, KINDS, build, corpus_folder
from tests.corpus.truth import DocTruth, TableTruth

__all__ = ["DEFAULT_SEED", "GENERATOR_VERSION", "KINDS", "DocTruth", "TableTruth", "build", "corpus_folder"]
