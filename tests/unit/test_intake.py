from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.documents.intake import JPEG, PDF, PNG, TIFF, WEBP, describe_bytes, detect_type, sanitize_filename


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"%PDF-1.7\n...", PDF),
        (b"\xef\xbb\xbfjunk before header %PDF-1.4", PDF),
        (b"\x89PNG\r\n\x1a\n\x00\x00", PNG),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", JPEG),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", WEBP),
        (b"II*\x00\x08\x00", TIFF),
        (b"MM\x00*\x00\x00", TIFF),
    ],
)
def test_type_comes_from_the_bytes(head: bytes, expected) -> None:  # type: ignore[no-untyped-def]
    assert detect_type(head) == expected


@pytest.mark.parametrize(
    "head", [b"", b"hello, I am text named report.pdf", b"PK\x03\x04zip", b"GIF89a", b"RIFF....WAVE"]
)
def test_unknown_bytes_are_not_a_type(head: bytes) -> None:
    assert detect_type(head) is None


def test_refused_bytes_are_described_plainly() -> None:
    assert "ZIP" in describe_bytes(b"PK\x03\x04")
    assert "plain text" in describe_bytes(b"just words")
    assert "HTML" in describe_bytes(b"<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system.ini", "system.ini"),
        ("report\x00.pdf", "report_.pdf"),
        ("a\nb\r.pdf", "a_b_.pdf"),
        ("..", "document"),
        ("", "document"),
        ("   ", "document"),
        ("Quarterly report (final).pdf", "Quarterly report (final).pdf"),
        ("résumé.pdf", "résumé.pdf"),
        ("inv\u202efdp.txt", "invfdp.txt"),  # shown as "invtxt.pdf" while the override stays
        ("a\u200bb\u2066c\u2069\ufeff\u200d.pdf", "abc.pdf"),  # zero-width, isolates, BOM, joiner
    ],
)
def test_filenames_are_sanitized(raw: str, clean: str) -> None:
    assert sanitize_filename(raw) == clean


def test_long_filenames_keep_their_extension() -> None:
    name = sanitize_filename("x" * 500 + ".pdf")
    assert len(name) <= 180
    assert name.endswith(".pdf")


@given(st.text())
def test_any_filename_becomes_a_safe_single_component(raw: str) -> None:
    name = sanitize_filename(raw)
    assert name and name not in (".", "..")
    assert "/" not in name and "\\" not in name
    assert not any(ord(c) < 32 or ord(c) == 127 for c in name)
    assert not any(unicodedata.category(c) == "Cf" for c in name), "no bidi override or invisible character"
    assert len(name) <= 180
