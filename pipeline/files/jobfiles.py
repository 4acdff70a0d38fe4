"""A job's files: the upload, its chunks' outputs and its results, by name, in whatever storage holds them.

Names are ``source.<ext>``, ``compressed.webp``, ``chunks/NNNNN.json`` (and ``.raw.txt`` for a model's answers)
and ``result.<ext>``; ``pipeline.files.storage`` keeps them in ``PAPERLINE_HOME/jobs/<job_id>/`` or in a bucket. Readers
that need a file on disk (PDFium, Pillow) get the source through ``local_source``: the file itself on local
storage, or a copy in this host's bounded cache for a bucket.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import IO

from pipeline.core.models import PageText
from pipeline.core.settings import Settings
from pipeline.files.storage import FileStorage

# Result formats, the file each is written to, and its media type for downloads.
FORMAT_FILES = {
    "text": ("result.txt", "text/plain"),
    "markdown": ("result.md", "text/markdown"),
    "json": ("result.json", "application/json"),
    "csv": ("result.csv", "text/csv"),
    "tables": ("tables.json", "application/json"),
    "passages": ("passages.jsonl", "application/x-ndjson"),
    "xlsx": ("result.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
COMPRESSED_IMAGE = "compressed.webp"
#: a made format's maker: reads the job's stored results by format (None where one is missing) -> the file's bytes
Maker = Callable[[Callable[[str], bytes | None]], bytes]


@dataclass(frozen=True)
class MadeFormat:
    """A result format made when asked for, from a stored one, and never stored: a job that ended before the format
    existed has it too, and the worker never pays for it."""

    #: the stored format it is made from: offered wherever the job has that one
    source: str
    #: ``module:function`` of its ``Maker``, imported when first asked (what makes it may be heavy to import)
    maker: str

    def make(self, read: Callable[[str], bytes | None]) -> bytes:
        module, _, function = self.maker.partition(":")
        made: Maker = getattr(import_module(module), function)
        return made(read)


MADE_FORMATS: dict[str, MadeFormat] = {"xlsx": MadeFormat("tables", "pipeline.tables.results:workbook_of")}


def register_format(name: str, filename: str, media_type: str, *, made_from: MadeFormat | None = None) -> None:
    """A result format a profile writes: the file it is kept in and the media type it is downloaded as; with
    ``made_from``, one made from a stored format when asked for instead (its file name then only names downloads)."""
    FORMAT_FILES[name] = (filename, media_type)
    if made_from is not None:
        MADE_FORMATS[name] = made_from


def download_suffix(fmt: str) -> str:
    """What a download of ``fmt`` adds to the document's name: the suffix of a ``result.*`` file (".md", ".json"),
    the whole name of any other (".tables.json", ".passages.jsonl"), so no two formats save under one name."""
    filename = FORMAT_FILES[fmt][0]
    stem, _, suffix = filename.partition(".")
    return f".{suffix}" if stem == "result" else f".{filename}"


def download_name(document: str, fmt: str, fallback: str = "result") -> str:
    """The file name a download of ``fmt`` of ``document`` gets: ``report.pdf`` -> ``report.tables.json``."""
    return f"{Path(document).stem or fallback}{download_suffix(fmt)}"


@dataclass(frozen=True)
class Download:
    """A result as a file to save: the name it is saved under, its media type and its bytes."""

    name: str
    media_type: str
    data: bytes


def is_text_format(fmt: str) -> bool:
    """Whether ``fmt`` is text (UTF-8) rather than a binary file such as a workbook."""
    media_type = FORMAT_FILES[fmt][1]
    return media_type.startswith("text/") or media_type.endswith(("json", "ndjson"))


def chunk_name(index: int) -> str:
    return f"chunks/{index:05d}.json"


def raw_answer_name(index: int) -> str:
    return f"chunks/{index:05d}.raw.txt"


def result_name(fmt: str) -> str:
    return FORMAT_FILES[fmt][0]


@dataclass(frozen=True)
class JobFiles:
    """The files of one job in ``storage``; ``cache`` is this host's directory for local copies of remote files,
    kept under ``cache_bytes`` (least recently used jobs go first)."""

    storage: FileStorage
    job_id: str
    cache: Path
    cache_bytes: int = 1024 * 1024 * 1024

    def key(self, name: str) -> str:
        return f"{self.job_id}/{name}"

    def names(self) -> dict[str, int]:
        """Every file of the job and its size."""
        return {key.split("/", 1)[1]: size for key, size in self.storage.sizes(f"{self.job_id}/").items()}

    def read(self, name: str) -> bytes | None:
        return self.storage.get_bytes(self.key(name))

    def write(self, name: str, data: bytes | str) -> None:
        self.storage.put_bytes(self.key(name), data.encode("utf-8") if isinstance(data, str) else data)

    def exists(self, name: str) -> bool:
        return name in self.names()

    def receive(self, source: Path | str | bytes | IO[bytes], extension: str) -> str:
        """Store the upload as ``source.<extension>`` without holding it whole in memory; returns its sha256."""
        key = self.key(f"source.{extension}")
        if isinstance(source, (bytes, bytearray, memoryview)):
            import hashlib

            self.storage.put_bytes(key, bytes(source))
            return hashlib.sha256(source).hexdigest()
        if isinstance(source, (str, Path)):
            with Path(source).open("rb") as handle:
                return self.storage.put_stream(key, handle)[1]
        return self.storage.put_stream(key, source)[1]

    def find_source(self) -> str | None:
        found = sorted(name for name in self.names() if name.startswith("source."))
        return found[0] if found else None

    def local_source(self) -> Path | None:
        """The upload as a file on this host (downloaded into the cache from a bucket), or None if it is gone."""
        name = self.find_source()
        if name is None:
            return None
        local = self.storage.local_path(self.key(name))
        if local is not None:
            return local
        copy = self.cache / self.job_id / name
        if not copy.exists():
            if not self.storage.download(self.key(name), copy):
                return None
            trim_cache(self.cache, self.cache_bytes, keep=self.job_id)
        os.utime(copy.parent)  # most recently used
        return copy

    def available_formats(self) -> list[str]:
        """The formats stored for the job (a made format never is: see ``MADE_FORMATS``)."""
        names = self.names()
        return [fmt for fmt in FORMAT_FILES if fmt not in MADE_FORMATS and result_name(fmt) in names]

    def size(self) -> int:
        return sum(self.names().values())

    def delete(self) -> None:
        """Delete every file of the job, here and in the storage."""
        self.storage.delete_prefix(f"{self.job_id}/")
        shutil.rmtree(self.cache / self.job_id, ignore_errors=True)


def job_files(settings: Settings, storage: FileStorage, job_id: str) -> JobFiles:
    """The files of ``job_id`` in ``storage``, with this host's cache from ``settings``."""
    return JobFiles(storage, job_id, settings.cache_dir, settings.cache_mb * 1024 * 1024)


def trim_cache(cache: Path, max_bytes: int, *, keep: str = "") -> None:
    """Delete the least recently used jobs' local copies until the cache holds at most ``max_bytes``."""
    if not cache.exists():
        return
    folders = [(folder.stat().st_mtime, folder) for folder in cache.iterdir() if folder.is_dir()]
    sizes = {folder: sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) for _, folder in folders}
    used = sum(sizes.values())
    for _, folder in sorted(folders):
        if used <= max_bytes:
            break
        if folder.name != keep:
            shutil.rmtree(folder, ignore_errors=True)
            used -= sizes[folder]


def write_chunk_result(files: JobFiles, index: int, pages: list[PageText]) -> None:
    payload = [
        {"page": p.page, "text": p.text, "method": p.method, "unreadable": p.unreadable}
        | ({"layout": p.layout} if p.layout is not None else {})
        for p in pages
    ]
    files.write(chunk_name(index), json.dumps({"pages": payload}, ensure_ascii=False))


def read_chunk_result(files: JobFiles, index: int) -> list[PageText]:
    raw = files.read(chunk_name(index))
    if raw is None:
        raise OSError(f"the output of chunk {index + 1} is missing from storage")
    data = json.loads(raw.decode("utf-8"))
    return [
        PageText(
            page=p["page"],
            text=p["text"],
            method=p.get("method", "text-layer"),
            unreadable=p.get("unreadable", 0),
            layout=p.get("layout"),
        )
        for p in data["pages"]
    ]


def copy_results(source: JobFiles, dest: JobFiles) -> None:
    """Give a cache-served job its own copy of another job's results (and compressed image)."""
    for name in [*(result_name(fmt) for fmt in source.available_formats()), COMPRESSED_IMAGE]:
        data = source.read(name)
        if data is not None:
            dest.write(name, data)
