"""Where a job's files live under ``PAPERLINE_HOME/jobs/<job_id>/`` and how they are written and read.

Files are written to a temporary name and renamed, so a reader (or a crash) never sees half a result.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .chunking import PageText

# Result formats, the file each is written to, and its media type for downloads.
FORMAT_FILES = {
    "text": ("result.txt", "text/plain"),
    "markdown": ("result.md", "text/markdown"),
    "json": ("result.json", "application/json"),
    "csv": ("result.csv", "text/csv"),
}


@dataclass(frozen=True)
class JobFiles:
    """The file layout of one job."""

    root: Path

    def source(self, extension: str) -> Path:
        return self.root / f"source.{extension}"

    def find_source(self) -> Path | None:
        found = sorted(self.root.glob("source.*"))
        return found[0] if found else None

    @property
    def chunks_dir(self) -> Path:
        return self.root / "chunks"

    def chunk_result(self, index: int) -> Path:
        return self.chunks_dir / f"{index:05d}.json"

    @property
    def compressed_image(self) -> Path:
        return self.root / "compressed.webp"

    def result(self, fmt: str) -> Path:
        return self.root / FORMAT_FILES[fmt][0]

    def available_formats(self) -> list[str]:
        return [fmt for fmt in FORMAT_FILES if self.result(fmt).exists()]


def write_atomic(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
        os.chmod(tmp, 0o644)  # mkstemp makes files private; results are shared like any other job file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_chunk_result(path: Path, pages: list[PageText]) -> None:
    payload = [{"page": p.page, "text": p.text, "method": p.method, "unreadable": p.unreadable} for p in pages]
    write_atomic(path, json.dumps({"pages": payload}, ensure_ascii=False))


def read_chunk_result(path: Path) -> list[PageText]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        PageText(
            page=p["page"], text=p["text"], method=p.get("method", "text-layer"), unreadable=p.get("unreadable", 0)
        )
        for p in data["pages"]
    ]


def copy_results(source: JobFiles, dest: JobFiles) -> None:
    """Give a cache-served job its own copy of another job's results (hard links where the disk allows)."""
    dest.root.mkdir(parents=True, exist_ok=True)
    names = [FORMAT_FILES[fmt][0] for fmt in source.available_formats()] + ["compressed.webp"]
    for name in names:
        src = source.root / name
        if not src.exists():
            continue
        target = dest.root / name
        try:
            os.link(src, target)
        except OSError:
            shutil.copy2(src, target)
