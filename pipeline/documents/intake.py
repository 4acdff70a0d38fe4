"""Intake: what a document is, judged from its bytes, a safe name for it, and receiving it into a job's folder."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pipeline.core import messages
from pipeline.core.errors import DocumentRejected, DocumentTooLarge, EmptyDocument, UnreadableDocument, UnsupportedType
from pipeline.core.models import DocumentKind
from pipeline.core.settings import Settings
from pipeline.documents.inspection import Limits, inspect_document
from pipeline.files.jobfiles import JobFiles

# How far into a file the PDF header may start: the spec allows leading bytes, and real files have them.
PDF_HEADER_WINDOW = 1024
SNIFF_BYTES = 2048


@dataclass(frozen=True)
class FileType:
    kind: DocumentKind
    label: str
    extension: str


PDF = FileType(DocumentKind.PDF, "PDF", "pdf")
PNG = FileType(DocumentKind.IMAGE, "PNG image", "png")
JPEG = FileType(DocumentKind.IMAGE, "JPEG image", "jpg")
WEBP = FileType(DocumentKind.IMAGE, "WebP image", "webp")
TIFF = FileType(DocumentKind.IMAGE, "TIFF image", "tiff")
SUPPORTED_LABEL = "PDF, PNG, JPEG, WebP or TIFF"


def detect_type(head: bytes) -> FileType | None:
    """The supported type the leading bytes announce, or None; the file name plays no part."""
    if b"%PDF-" in head[:PDF_HEADER_WINDOW]:
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return TIFF
    return None


_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f<>:\"|?*]+")


def sanitize_filename(name: str, *, max_length: int = 180) -> str:
    """A display and storage name with no directories, control characters, format characters or reserved
    characters.

    Only the last path component survives (``../../etc/passwd`` becomes ``passwd``), whichever separator the
    client used; the result is never empty, ``.`` or ``..``. Unicode format characters (category Cf: bidi
    overrides and isolates, zero-width spaces and joiners) are dropped, so ``inv\u202efdp.txt`` is shown as the
    ``invfdp.txt`` it is and never as "invtxt.pdf", on the page, in a zip or in a terminal.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = "".join(char for char in name if unicodedata.category(char) != "Cf")
    name = re.split(r"[\\/]", name)[-1]
    name = _UNSAFE.sub("_", name).strip().strip(".").strip()
    if len(name) > max_length:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: max_length - len(ext) - 1] + "." + ext
        else:
            name = name[:max_length]
    return name or "document"


def describe_bytes(head: bytes) -> str:
    """A short, printable hint of what a refused file starts with, to help the analyst see what it is."""
    if head[:5].lower() in (b"<!doc", b"<html"):
        return "it looks like a web page (HTML)"
    if head.startswith(b"PK\x03\x04"):
        return "it looks like a ZIP archive or an Office document"
    if head.startswith(b"GIF8"):
        return "it is a GIF image, which is not supported"
    try:
        head[:256].decode("utf-8")
        return "it looks like plain text"
    except UnicodeDecodeError:
        return "its content is not a known document type"


Source = Path | str | bytes | IO[bytes]


@dataclass
class Received:
    """What intake learnt of an upload: its safe name, and its size, kind, digest and pages as far as it got; a
    refused upload carries why (the job is recorded failed with that message)."""

    name: str
    size: int = 0
    kind: str = "unknown"
    sha256: str = ""
    pages: int = 0
    refused: DocumentRejected | None = None


def receive(source: Source, name: str, files: JobFiles, settings: Settings) -> Received:
    """Check an upload and keep it: size limits and type from its bytes (never its name), a copy in the job's
    folder (hashed on the way, never held whole in memory), then opened just enough to refuse it now if it is
    encrypted, damaged or a decompression bomb. A refused upload leaves no files behind."""
    received = Received(name)
    try:
        received.size, head = size_and_head(source)
        if received.size == 0:
            raise EmptyDocument(f"{name} is empty (0 bytes); there is nothing to extract.")
        if received.size > settings.max_upload_bytes:
            raise DocumentTooLarge(messages.too_large(name, received.size, settings.max_upload_mb))
        file_type = detect_type(head)
        if file_type is None:
            raise UnsupportedType(
                f"{name} is not a {SUPPORTED_LABEL} file: {describe_bytes(head)}. "
                "Paperline reads the file's content, not its name, to decide."
            )
        received.sha256 = files.receive(source, file_type.extension)
        received.kind = file_type.kind.value
        stored = files.local_source()
        if stored is None:
            raise UnreadableDocument("The upload could not be stored; please upload it again.")
        received.pages = page_count(file_type.kind, stored, settings)
    except DocumentRejected as exc:
        files.delete()
        received.refused = exc
    return received


def page_count(kind: DocumentKind, path: Path, settings: Settings) -> int:
    """Open a stored document enough to count its pages, or refuse it (encrypted, corrupt, a decompression bomb,
    over the page limit, pages that do not open, or a reader that crashed on it). The readers run in a subprocess
    with limits (``inspection``), never in this process: this is the server's side of an upload."""
    return inspect_document(kind is DocumentKind.PDF, path, inspection_limits(settings)).pages


def inspection_limits(settings: Settings) -> Limits:
    return Limits(
        timeout_s=settings.intake_timeout_s,
        memory_mb=settings.intake_memory_mb,
        max_pixels=settings.max_image_pixels,
        max_pages=settings.max_pages,
    )


def size_and_head(source: Source) -> tuple[int, bytes]:
    """The upload's size and first bytes, without reading the rest."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return len(source), bytes(source[:SNIFF_BYTES])
    if isinstance(source, (str, Path)):
        path = Path(source)
        with path.open("rb") as handle:
            return path.stat().st_size, handle.read(SNIFF_BYTES)
    position = source.tell()
    source.seek(0, 2)
    size = source.tell() - position
    source.seek(position)
    head = source.read(SNIFF_BYTES)
    source.seek(position)
    return size, head
