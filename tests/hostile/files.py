"""Hostile files, generated in the tests: tiny documents that ask for huge resources, and how much a worker took.

Each is written byte by byte (raw PDF objects) or with Pillow, so what makes it hostile is visible here: a page
that claims 8880 x 8880 points, a page tree that claims a million pages, a content stream that inflates to
gigabytes, a TIFF with thousands of frames or with many large ones.
"""

from __future__ import annotations

import io
import struct
import subprocess
import zlib
from pathlib import Path

from PIL import Image


def raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF of these objects (numbered from 1; object 1 is the catalog), with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def one_page_pdf(*, count: int = 1, mediabox: str = "0 0 200 200", contents: bytes = b"") -> bytes:
    """One real page, under a page tree whose /Count says ``count``; ``contents`` is the page's content stream
    object (e.g. a compressed one), none when empty."""
    page = f"<< /Type /Page /Parent 2 0 R /MediaBox [{mediabox}]".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [3 0 R] /Count {count} >>".encode(),
        page + (b" /Contents 4 0 R >>" if contents else b" >>"),
    ]
    return raw_pdf([*objects, contents] if contents else objects)


def huge_page_pdf() -> bytes:
    """A page of 8880 x 8880 points with no text (a few hundred bytes): OCR at 300 dpi would render 37,000 x
    37,000 pixels, 14 GB of memory, without a pixel budget."""
    return one_page_pdf(mediabox="0 0 8880 8880")


def million_page_claim() -> bytes:
    """The 335-byte PDF of issue 22: one page, under a page tree that claims 1,000,000."""
    return one_page_pdf(count=1_000_000)


def inflating_pdf(megabytes: int) -> bytes:
    """A page whose content stream inflates to ``megabytes`` MB of spaces from about a thousandth of that: PDFium
    inflates it whole when it opens the page, and aborts the process when memory runs out."""
    compressor = zlib.compressobj(9)
    block = b" " * 2**20
    data = b"".join(compressor.compress(block) for _ in range(megabytes)) + compressor.flush()
    stream = f"<< /Length {len(data)} /Filter /FlateDecode >>\nstream\n".encode() + data + b"\nendstream"
    return one_page_pdf(contents=stream)


def many_page_pdf(pages: int) -> bytes:
    """A valid PDF of ``pages`` real, blank pages (one shared page object would do, but each is its own here)."""
    kids = " ".join(f"{3 + index} 0 R" for index in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode()]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"] * pages
    return raw_pdf(objects)


def tiff(frames: int, size: tuple[int, int]) -> bytes:
    """A multi-page TIFF of ``frames`` blank bilevel frames of ``size`` pixels, Group 4 compressed (a 3000 x 3000
    frame is a few hundred bytes; decoded for OCR it is 36 MB)."""
    frame = Image.new("1", size, 1)
    buffer = io.BytesIO()
    frame.save(buffer, format="TIFF", compression="group4", save_all=True, append_images=[frame] * (frames - 1))
    return buffer.getvalue()


def frame_bomb_tiff(frames: int) -> bytes:
    """A TIFF of ``frames`` 1 x 1 frames written directly (Pillow takes minutes to save thousands): each frame is
    one 102-byte directory, all pointing at the same byte of pixels."""
    entries = [  # (tag, type SHORT=3 / LONG=4, value): width, height, bits, no compression, black is zero, ...
        (256, 3, 1),
        (257, 3, 1),
        (258, 3, 1),
        (259, 3, 1),
        (262, 3, 1),
        (273, 4, 8),  # the strip: the byte right after the header
        (278, 3, 1),
        (279, 4, 1),
    ]
    first_ifd = 9 + 1  # header (8) + the pixel byte, word-aligned
    out = bytearray(b"II*\x00" + struct.pack("<I", first_ifd) + b"\xff\x00")
    ifd_size = 2 + 12 * len(entries) + 4
    for index in range(frames):
        following = first_ifd + (index + 1) * ifd_size if index + 1 < frames else 0
        out += struct.pack("<H", len(entries))
        for tag, kind, value in entries:
            out += struct.pack("<HHI", tag, kind, 1) + (
                struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
            )
        out += struct.pack("<I", following)
    return bytes(out)


def worker_processes(consumer: subprocess.Popen) -> list[int]:
    """The pids of the worker processes a consumer started (its children), read from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == consumer.pid:
            children.append(int(stat.parent.name))
    return children


def peak_memory_mb(pid: int) -> float:
    """A process's peak resident memory so far (VmHWM in /proc/PID/status), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM for process {pid}")
