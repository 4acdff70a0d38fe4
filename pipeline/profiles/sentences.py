"""Sentences: one row per sentence of the whole document (JSON and CSV), each with the page it starts on; a sentence
cut by a page or chunk border comes out whole, since rendering runs on the merged pages."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from pipeline.core.models import PageText
from pipeline.core.spreadsheet import defuse
from pipeline.profiles.base import Profile, as_json, pages_payload
from pipeline.profiles.text import paragraphs, render_text


@dataclass(frozen=True)
class Sentence:
    index: int
    page: int
    text: str


_ABBREVIATIONS = {
    "e.g",
    "i.e",
    "etc",
    "vs",
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "fig",
    "figs",
    "no",
    "nos",
    "vol",
    "pp",
    "p",
    "st",
    "jr",
    "sr",
    "inc",
    "ltd",
    "co",
    "corp",
    "eq",
    "ref",
    "sec",
    "ch",
    "approx",
    "dept",
    "est",
    "al",
    "cf",
}
_SENTENCE_END = re.compile(r"([.!?…。！？؟]+[\"”’')\]]*)(\s+)")


def _ends_with_abbreviation(text: str) -> bool:
    word = re.search(r"([\w.]+)\.$", text)
    if not word:
        return False
    token = word.group(1).lower()
    return token in _ABBREVIATIONS or len(token) == 1 or bool(re.fullmatch(r"(\w\.)+\w", token))


def split_sentences(pages: Sequence[PageText]) -> list[Sentence]:
    """One row per sentence of the whole document, each tagged with the page it starts on."""
    pieces: list[tuple[int, str]] = []
    for page in pages:
        for block in paragraphs(page.text):
            pieces.append((page.page, block))
    sentences: list[Sentence] = []
    pending = ""
    pending_page = 0

    def emit(text: str, page: int) -> None:
        text = text.strip()
        if text:
            sentences.append(Sentence(index=len(sentences) + 1, page=page, text=text))

    for page_number, block in pieces:
        text = block
        start = 0
        for match in _SENTENCE_END.finditer(text):
            candidate = text[start : match.end(1)]
            if _ends_with_abbreviation(candidate):
                continue
            following = text[match.end() : match.end() + 1]
            if following and following.islower():
                continue
            if pending:
                emit(pending + " " + candidate, pending_page)
                pending = ""
            else:
                emit(candidate, page_number)
            start = match.end()
        rest = text[start:].strip()
        if rest:
            if rest[-1:] in ".!?…。！？؟" or (not pending and rest[-1:] in "\"”’')"):
                emit((pending + " " + rest) if pending else rest, pending_page if pending else page_number)
                pending = ""
            elif pending:
                pending = pending + " " + rest
            else:
                pending, pending_page = rest, page_number
    if pending:
        emit(pending, pending_page)
    return sentences


def sentences_csv(sentences: Sequence[Sentence]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")  # no \r: outputs carry no control characters
    writer.writerow(["index", "page", "sentence"])
    for sentence in sentences:
        writer.writerow([sentence.index, sentence.page, defuse(sentence.text)])
    return buffer.getvalue()


def _render(pages: Sequence[PageText], title: str, document: dict[str, Any]) -> dict[str, str]:
    sentences = split_sentences(pages)
    payload = pages_payload(pages, "sentences", document, sentences=[asdict(s) for s in sentences])
    return {"text": render_text(pages), "csv": sentences_csv(sentences), "json": as_json(payload)}


SENTENCES = Profile(
    name="sentences",
    description="one sentence per row, with its page (JSON and CSV)",
    engines=("local",),
    formats=("json", "csv", "text"),
    render=_render,
    table=("sentences", ("index", "page", "text")),
)
