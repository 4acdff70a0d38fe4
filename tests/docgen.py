"""Generated documents for tests and benchmarks: long PDFs with known text on every page, and images."""

from __future__ import annotations

import io
from pathlib import Path

from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

WORDS = (
    "ledger invoice quarterly revenue analyst extraction chunk worker summary appendix figure table "
    "policy contract clause schedule deadline budget forecast audit review"
).split()


def page_text(page: int, lines: int = 12) -> list[str]:
    """Deterministic sentences for a page, each naming the page so order and duplicates are visible."""
    out = []
    for line in range(lines):
        words = [WORDS[(page * 7 + line * 3 + k) % len(WORDS)] for k in range(8)]
        out.append(f"Page {page} line {line + 1}: " + " ".join(words) + ".")
    return out


def make_text_pdf(path: Path, pages: int, *, lines: int = 12, blank_pages: tuple[int, ...] = ()) -> Path:
    """A PDF of ``pages`` pages with a text layer; pages listed in ``blank_pages`` (1-based) carry no text."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_font("Helvetica", size=11)
    for page in range(1, pages + 1):
        pdf.add_page()
        if page in blank_pages:
            continue
        y = 20
        for text in page_text(page, lines):
            pdf.text(15, y, text)
            y += 8
    path = Path(path)
    pdf.output(str(path))
    return path


def known_text(pages: int, *, lines: int = 12, blank_pages: tuple[int, ...] = ()) -> str:
    """The exact ``text`` result of ``make_text_pdf`` with the same arguments, from the words it was made of (not
    from any reader): pages apart by a blank line, blank pages empty."""
    bodies = ["" if page in blank_pages else "\n".join(page_text(page, lines)) for page in range(1, pages + 1)]
    return "\n\n".join(bodies) + "\n"


def make_text_image(text: str, *, size: tuple[int, int] = (1600, 300), fmt: str = "PNG") -> bytes:
    """A white image with large black text, readable by OCR."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    try:
        font = ImageFont.load_default(size=48)
    except TypeError:  # Pillow < 10.1
        font = ImageFont.load_default()
    draw.text((40, 100), text, fill="black", font=font)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def make_photo(size: tuple[int, int] = (3000, 2000), fmt: str = "JPEG", exif_orientation: int | None = None) -> bytes:
    """A large gradient image (no text), optionally with an EXIF orientation tag."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    buffer = io.BytesIO()
    kwargs = {}
    if exif_orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        kwargs["exif"] = exif
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def make_large_pdf(path: Path, min_bytes: int) -> Path:
    """A one-page PDF of at least ``min_bytes``: incompressible noise as an image, under a text layer."""
    import os

    side = int((min_bytes / 3) ** 0.5) + 64
    noise = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.image(noise, x=0, y=0, w=210, h=297)
    pdf.set_font("Helvetica", size=14)
    pdf.text(20, 20, "Large scanned appendix with a text layer.")
    pdf.output(str(path))
    return Path(path)


# Settings that make a job slow enough to interrupt (small chunks, OCR on every blank page) and recover fast.
SLOW_JOB_SETTINGS = {
    "PAPERLINE_SINGLE_CHUNK_MAX_PAGES": "5",
    "PAPERLINE_MEDIUM_CHUNK_PAGES": "5",
    "PAPERLINE_OCR_DPI": "150",
    "PAPERLINE_STALE_AFTER_S": "2",
    "PAPERLINE_SWEEP_INTERVAL_S": "0.5",
}


def slow_blank_pages(pages: int) -> tuple[int, ...]:
    return tuple(range(2, pages + 1, 2))


def make_slow_pdf(path: Path, pages: int = 30, *, lines: int = 12) -> Path:
    """Every second page has no text layer, so it goes through OCR (about 0.3 s a page at 150 dpi)."""
    return make_text_pdf(path, pages, lines=lines, blank_pages=slow_blank_pages(pages))


# Markup a document or a model may carry; each calls alert() with its own label, so a dialog names the surface.
HOSTILE = (
    "<script>alert('script')</script>",
    "<img src=x onerror=alert('img')>",
    "<a href=\"javascript:alert('anchor')\">anchor link</a>",
    "<svg onload=alert('svg')>",
    "[markdown link](javascript:alert('md'))",
)


def make_hostile_pdf(path: Path, *, title: str = HOSTILE[1]) -> Path:
    """A one-page PDF whose text layer (one payload a line) and metadata title hold HTML and Markdown markup."""
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_author(HOSTILE[0])
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line, text in enumerate(HOSTILE):
        pdf.text(15, 20 + 10 * line, text)
    pdf.output(str(path))
    return Path(path)


# A font with no Unicode map, as TeX writes them: ligatures at OT1's codes 11-14, named so readers that know glyph
# names can spell them, and math symbols under private names nobody can map (PDFium returns their raw codes).
_TEXT_FONT = (
    b"<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman /Encoding << /Type /Encoding "
    b"/BaseEncoding /WinAnsiEncoding /Differences [11 /ff /fi /fl /ffi] >> >>"
)
_MATH_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /CMSY10 >>"
_OT1 = {"ffi": b"\\016", "ff": b"\\013", "fi": b"\\014", "fl": b"\\015"}


def _pdf_string(text: str) -> bytes:
    """A PDF literal string in the text font's encoding: ligatures as their OT1 codes, the rest as cp1252."""
    out = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("cp1252")
    for letters, code in _OT1.items():
        out = out.replace(letters.encode(), code)
    return out


def _raw_pdf(page_streams: list[bytes], fonts: dict[str, bytes]) -> bytes:
    """A minimal PDF: the given fonts, one content stream a page."""
    objects: list[bytes] = [b"", b""]  # 1: catalog, 2: page tree, filled in last
    font_refs = []
    for name, definition in fonts.items():
        objects.append(definition)
        font_refs.append(b"/%s %d 0 R" % (name.encode(), len(objects)))
    resources = b"<< /Font << " + b" ".join(font_refs) + b" >> >>"
    kids = []
    for stream in page_streams:
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        contents = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources %s /Contents %d 0 R >>"
            % (resources, contents)
        )
        kids.append(b"%d 0 R" % len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def lecture_page_lines(page: int) -> list[str]:
    """The readable text of a page of ``make_lecture_pdf``: German prose with ligatures (math symbols omitted)."""
    return [
        f"Definition {page}.1: Eine effektive Abbildung fließt offiziell über den Raum.",
        f"Sei x gegeben mit U{page}, U{page + 1} und einem Treffer in der Menge aller Pfade.",
        f"Satz {page}.2: Die Differenz ist flach, affin und definiert für jede Umgebung.",
    ]


def _tex_words(text: str) -> bytes:
    """Words as pdfTeX sets them: no space characters, only gaps between words in a TJ array."""
    return b" -333 ".join(b"(%s)" % _pdf_string(word) for word in text.split(" "))


def make_lecture_pdf(path: Path, pages: int = 1) -> Path:
    """Lecture notes as pdfTeX writes them without ToUnicode maps: words set apart by gaps (no space glyphs),
    ligature glyphs in every line, two math symbols after "Sei x" and, in "Treffer", an "ff" drawn from the math
    font: glyphs no reader can map to text. The readable text of each page is ``lecture_page_lines(page)`` joined
    by newlines (symbols omitted, "Treffer" whole)."""
    streams = []
    for page in range(1, pages + 1):
        first, second, third = lecture_page_lines(page)
        head, tail = second.split("Treffer")
        before, between = head.split(" gegeben", 1)
        parts = [
            b"BT /T 12 Tf 72 760 Td [%s] TJ ET" % _tex_words(first),
            b"BT /T 12 Tf 72 740 Td [%s] TJ /M 12 Tf [-333 (\\000\\001) -333] TJ /T 12 Tf [%s -333 %s -333 (Tre)] TJ "
            b"/M 12 Tf (\\004) Tj /T 12 Tf [(er) %s] TJ ET"
            % (_tex_words(before), _tex_words("gegeben"), _tex_words(between.strip()), _tex_words(tail).lstrip()),
            b"BT /T 12 Tf 72 720 Td [%s] TJ ET" % _tex_words(third),
        ]
        streams.append(b"\n".join(parts))
    Path(path).write_bytes(_raw_pdf(streams, {"T": _TEXT_FONT, "M": _MATH_FONT}))
    return Path(path)


def make_encrypted_pdf(path: Path, password: str = "secret") -> Path:
    """A one-page PDF that opens only with a password (AES-256), as an office suite's "protect" writes it."""
    import pypdf

    source = make_text_pdf(Path(path).with_suffix(".plain.pdf"), 1)
    writer = pypdf.PdfWriter(clone_from=str(source))
    writer.encrypt(user_password=password, owner_password=password, algorithm="AES-256")
    writer.write(str(path))
    source.unlink()
    return Path(path)
