from __future__ import annotations

import csv
import io
import json

import pytest

from pipeline.core.models import PageText
from pipeline.profiles.markdown import render_markdown
from pipeline.profiles.registry import render_results
from pipeline.profiles.sentences import split_sentences
from pipeline.profiles.text import paragraphs, render_text


def test_text_joins_pages_in_order() -> None:
    assert render_text([PageText(1, "one\n"), PageText(2, "two")]) == "one\n\ntwo\n"


def test_paragraphs_reflow_lines_and_join_hyphenated_words() -> None:
    text = (
        "This is a long line of a paragraph that goes on and on until the\n"
        "right margin, and then it con-\n"
        "tinues on the next line until the paragraph is finally ended here.\n"
        "Short end.\n"
        "\n"
        "A second paragraph after a blank line that is also fairly long to read.\n"
    )
    assert paragraphs(text) == [
        "This is a long line of a paragraph that goes on and on until the right margin, and then it continues on "
        "the next line until the paragraph is finally ended here. Short end.",
        "A second paragraph after a blank line that is also fairly long to read.",
    ]


def test_markdown_has_a_heading_per_page_and_escapes_stray_markup() -> None:
    md = render_markdown([PageText(1, "# not a heading\n- item one\n- item two"), PageText(2, "")], title="r.pdf")
    assert md.startswith("# r.pdf\n\n## Page 1\n\n")
    assert "\\# not a heading" in md
    assert "- item one\n\n- item two" in md
    assert "## Page 2\n\n_No text on this page._" in md


def test_sentences_cross_page_borders_and_respect_abbreviations() -> None:
    pages = [
        PageText(1, "Dr. Smith wrote the report, e.g. the audit. It ends on the next"),
        PageText(2, "page here. Is it done? Yes!"),
    ]
    sentences = split_sentences(pages)
    assert [(s.page, s.text) for s in sentences] == [
        (1, "Dr. Smith wrote the report, e.g. the audit."),
        (1, "It ends on the next page here."),
        (2, "Is it done?"),
        (2, "Yes!"),
    ]
    assert [s.index for s in sentences] == [1, 2, 3, 4]


def test_sentences_profile_writes_json_and_csv() -> None:
    outputs = render_results(
        [PageText(1, "First sentence. Second, with a comma.")], "sentences", title="t", document={"id": "x"}
    )
    rows = list(csv.DictReader(io.StringIO(outputs["csv"])))
    assert rows == [
        {"index": "1", "page": "1", "sentence": "First sentence."},
        {"index": "2", "page": "1", "sentence": "Second, with a comma."},
    ]
    payload = json.loads(outputs["json"])
    assert [s["text"] for s in payload["sentences"]] == ["First sentence.", "Second, with a comma."]
    assert payload["pages"][0]["page"] == 1


@pytest.mark.parametrize(
    ("profile", "formats"), [("text", {"text", "json"}), ("markdown", {"markdown", "text", "json"})]
)
def test_each_profile_writes_its_formats(profile: str, formats: set[str]) -> None:
    assert set(render_results([PageText(1, "x")], profile, title="t", document={})) == formats


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown profile"):
        render_results([], "poetry", title="t", document={})
