"""Reading a PDF's text layer: clean text (no control characters, ligatures spelt out, unreadable glyphs counted)
in every output, and the per-page choice between PDFium and pypdf."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipeline import JobStatus, Paperline
from pipeline.core.text import has_controls, strip_controls
from pipeline.documents.intake import sanitize_filename
from pipeline.documents.pdf import needs_pypdf, page_texts
from pipeline.documents.textclean import clean_text
from tests.docgen import lecture_page_lines, make_lecture_pdf
from tests.sync_runner import run_queued

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
LIGATURE = re.compile("[\ufb00-\ufb06]")


@pytest.mark.parametrize(
    ("raw", "clean", "dropped", "marked"),
    [
        ("De\x0cnition", "De\ufffdnition", 0, 1),  # a letter of the word is certainly missing
        ("Sei x \x00\x01 gegeben", "Sei x gegeben", 2, 0),  # a symbol between words: dropped, one space kept
        ("x\x01", "x", 1, 0),
        ("Zeile\r\nneu\rund\tTab", "Zeile\nneu\nund\tTab", 0, 0),
        ("Stra\x85e", "Stra\ufffde", 0, 1),  # C1 controls too
        ("Deﬁnition eﬀektiv ﬂach oﬃziell ﬄ ﬆ", "Definition effektiv flach offiziell ffl st", 0, 0),
        ("x² ½ ℝ ∑ ﬁ", "x² ½ ℝ ∑ fi", 0, 0),  # no blanket NFKC: superscripts, fractions and math stay
        ("\ufffe\uffffa", "a", 2, 0),
        ("x = \ud835\udc65 + 1", "x = \U0001d465 + 1", 0, 0),  # UTF-16 halves read one by one: one letter again
        ("a \udc54 b", "a b", 1, 0),  # half a letter alone is unreadable
    ],
)
def test_clean_text(raw: str, clean: str, dropped: int, marked: int) -> None:
    result = clean_text(raw)
    assert (result.text, result.dropped, result.marked) == (clean, dropped, marked)
    assert not has_controls(result.text)


def test_messages_and_names_lose_their_control_characters() -> None:
    assert strip_controls("Chunk 2 failed: bad glyph \x00\x1b[31m here\x9b") == "Chunk 2 failed: bad glyph [31m here"
    assert sanitize_filename("re\x85port\x00.pdf") == "re_port_.pdf"


def test_only_right_to_left_pages_are_read_again_with_pypdf() -> None:
    assert needs_pypdf("مرحبا بالعالم") and needs_pypdf("שלום")
    assert not needs_pypdf("Sei x \x00\x01 gegeben"), "unmapped glyphs are cleaned, not a reason to re-read"


def test_a_pdf_without_unicode_maps_reads_as_clean_known_text(tmp_path: Path) -> None:
    pdf = make_lecture_pdf(tmp_path / "skript.pdf", 3)
    for number, layer in page_texts(pdf, 1, 3):
        assert not CONTROL.search(layer.text) and not LIGATURE.search(layer.text)
        # PDFium returns one of the two math symbols as its raw code (the other, code 0, it drops unasked, and the
        # "ff" drawn from the math font comes back as a space): what it returns is what can be counted.
        assert layer.unreadable == 1
        expected = lecture_page_lines(number)
        assert layer.text.splitlines()[0] == expected[0] and layer.text.splitlines()[2] == expected[2]
        assert "Sei x gegeben mit" in layer.text


@pytest.mark.parametrize("profile", ["text", "markdown", "sentences"])
def test_no_output_of_a_job_carries_control_characters(app: Paperline, tmp_path: Path, profile: str) -> None:
    job = app.submit(make_lecture_pdf(tmp_path / "skript.pdf", 3), profile=profile)
    run_queued(app)
    job = app.get(job.id)
    assert job.status is JobStatus.COMPLETED, job.error
    files = app.files(job.id)
    outputs = [name for name in files.names() if name.startswith(("result.", "chunks/"))]
    assert len(outputs) >= 3
    for name in outputs:
        text = (files.read(name) or b"").decode("utf-8")
        if name.endswith(".json"):
            text = json.dumps(json.loads(text), ensure_ascii=False)  # escaped \u0000 counts too
        assert not CONTROL.search(text.replace("\n", "").replace("\t", "")), name
        assert not LIGATURE.search(text), name
    assert "Definition 1.1: Eine effektive Abbildung fließt offiziell" in app.result(job.id, "text")
    note = next(n for n in job.notes if "could not be read from the PDF's fonts" in n)
    assert note.startswith("3 characters on pages 1-3")
    said = [job.message, *job.notes, *(e.message for e in app.events(job.id))]
    assert not [s for s in said if CONTROL.search(s.replace("\n", ""))]
