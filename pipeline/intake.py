"""What a document is, judged from its bytes, and a safe name to show and store it under."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .models import DocumentKind

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
    """A display and storage name with no directories, control characters or reserved characters.

    Only the last path component survives (``../../etc/passwd`` becomes ``passwd``), whichever separator the
    client used; the result is never empty, ``.`` or ``..``.
    """
    name = unicodedata.normalize("NFC", name or "")
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
