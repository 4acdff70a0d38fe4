"""Control characters out of every text Paperline keeps: the store's messages, names and metadata, and results.

PDFium returns raw glyph codes for fonts without a Unicode map, and they land in C0/C1 control characters (NUL
among them): PostgreSQL text columns refuse them and ``grep`` calls a file holding them binary.
"""

from __future__ import annotations

import re

# C0 and C1 controls except tab and newline, DEL, and the noncharacters U+FFFE/U+FFFF.
CONTROLS = r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]+"
_CONTROL_RUN = re.compile(CONTROLS)


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def strip_controls(text: str) -> str:
    """``text`` without control characters (tab and newline kept): for messages, names and metadata."""
    return _CONTROL_RUN.sub("", _newlines(text))


def has_controls(text: str) -> bool:
    return _CONTROL_RUN.search(_newlines(text)) is not None


_QUERY_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_query(text: str) -> str:
    """A query or question as search takes it: every control character (NUL, tabs and newlines too) a space, as
    the HTTP API's query arguments already arrive."""
    return _QUERY_CONTROLS.sub(" ", text)


def has_lone_surrogate(text: str) -> bool:
    """Whether ``text`` holds a UTF-16 surrogate on its own (JSON's ``"\\ud800"``): not text any encoding carries."""
    return _LONE_SURROGATE.search(text) is not None
