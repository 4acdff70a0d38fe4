"""What the budgets for every document cost and save: intake latency of the inspector subprocess against opening
the file in-process, and the peak memory of a process rendering the 8880 pt page of issue 22 within the pixel
budget and compressing a 36-frame TIFF one frame at a time.

Run: .venv/bin/python benchmarks/budgets.py  (prints one JSON object to stdout)
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
sys.path.insert(0, str(ROOT))

RUNS = 5


def _median_ms(function) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1)


def intake_latency(folder: Path) -> list[dict]:
    from pipeline.core.settings import Settings
    from pipeline.documents.inspection import inspect_document
    from pipeline.documents.intake import inspection_limits
    from pipeline.documents.pdf import inspect_pdf
    from tests.docgen import make_text_pdf

    limits = inspection_limits(Settings())
    files = [*sorted(CORPUS.glob("*.pdf"))[:3], make_text_pdf(folder / "generated-300.pdf", 300)]
    rows = []
    for path in files:
        rows.append(
            {
                "file": path.name,
                "in_process_ms": _median_ms(lambda path=path: inspect_pdf(path, limits.max_pages)),
                "subprocess_ms": _median_ms(lambda path=path: inspect_document(True, path, limits)),
            }
        )
    return rows


PEAK_SCRIPT = """
import sys
from pathlib import Path
kind, path = sys.argv[1], Path(sys.argv[2])
if kind == "render":
    from pipeline.documents.pdf import render_page
    rendered = render_page(path, 1, 300, 50_000_000)
    print(rendered.image.size, round(rendered.dpi), file=sys.stderr)
else:
    from pipeline.documents.images import compress_image
    compress_image(path, path.with_suffix(".webp"), max_side=2048, quality=85, max_pixels=50_000_000, max_pages=5000)
for line in Path("/proc/self/status").read_text().splitlines():
    if line.startswith("VmHWM:"):
        print(int(line.split()[1]) // 1024)
"""


def peak_mb(kind: str, path: Path) -> int:
    done = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, kind, str(path)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return int(done.stdout.strip().splitlines()[-1])


def main() -> None:
    from tests.hostile.files import huge_page_pdf, tiff

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        poster, scans = folder / "poster.pdf", folder / "scans.tiff"
        poster.write_bytes(huge_page_pdf())
        scans.write_bytes(tiff(36, (3500, 3500)))
        result = {
            "intake_latency": intake_latency(folder),
            "peak_mb": {
                "render_8880pt_page_at_300dpi_within_50MP": peak_mb("render", poster),
                "compress_36_frames_3500px": peak_mb("compress", scans),
            },
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
