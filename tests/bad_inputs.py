"""The bad-input matrix: files an analyst may hand Paperline by mistake, and what they must be told.

Shared by the CLI and browser tests, so every entry is checked through both doors against a real worker.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pypdf
from PIL import Image

from tests.docgen import page_text

#: PAPERLINE_MAX_UPLOAD_MB for these tests, so the over-size file stays small
UPLOAD_LIMIT_MB = 1


@dataclass(frozen=True)
class BadInput:
    name: str
    content: bytes
    message: str  # part of the message the analyst must see
    stored_name: str = ""  # the name the job keeps, when it differs from ``name``

    @property
    def shown_name(self) -> str:
        return self.stored_name or self.name


def _pdf(pages: int, *, password: str = "") -> bytes:
    writer = pypdf.PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    if password:
        writer.encrypt(password)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _text_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    for line in page_text(1):
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _bomb() -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(buffer, format="PNG")  # 144 MP in a few kB
    return buffer.getvalue()


def bad_inputs() -> list[BadInput]:
    good = _text_pdf()
    return [
        BadInput("empty.pdf", b"", "is empty"),
        BadInput("data.bin", bytes(range(256)) * 4, "is not a PDF, PNG, JPEG, WebP or TIFF file"),
        BadInput("notes.pdf", b"meeting notes, not a PDF at all\n" * 20, "it looks like plain text"),
        BadInput("truncated.pdf", good[: len(good) // 3], "could not be read as a PDF"),
        BadInput("corrupt.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 8, "could not be read as a PDF"),
        BadInput("locked.pdf", _pdf(2, password="s3cret"), "password-protected"),
        BadInput("nothing.pdf", _pdf(0), "no pages"),
        BadInput("bomb.png", _bomb(), "too large to process safely"),
        BadInput("huge.pdf", b"%PDF-1.4\n" + b"0" * (UPLOAD_LIMIT_MB * 2**20 + 10), "MB upload limit"),
    ]


def awkward_name() -> BadInput:
    """A good PDF whose name carries control characters: processed normally, under a clean name."""
    return BadInput("q3\x07re\x1bport\x7f.pdf", _text_pdf(), "", stored_name="q3_re_port_.pdf")
