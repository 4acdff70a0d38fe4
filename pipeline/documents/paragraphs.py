"""A page's plain lines reflowed into paragraphs: what every local profile reads a page without a layout as."""

from __future__ import annotations

import re

_HYPHEN_BREAK = re.compile(r"(\w)-\n(\w)")
BULLET = re.compile(r"^\s*([-*•●▪◦]|\d{1,3}[.)]|[a-z][.)])\s+")
_PARAGRAPH_END = re.compile(r"[.!?:;\"”'’)\]。！？؟]$")


def paragraphs(text: str) -> list[str]:
    """Reflow a page's lines into paragraphs.

    Blank lines always split; a line that ends a sentence and is clearly shorter than the page's full lines
    also ends its paragraph (text layers rarely keep blank lines between paragraphs). List items stay separate.
    """
    lines = [line.rstrip() for line in text.replace("\r", "").split("\n")]
    widths = sorted(len(line) for line in lines if line.strip())
    full_width = widths[int(len(widths) * 0.9) - 1] if len(widths) >= 5 else 0
    blocks: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            joined = "\n".join(current)
            joined = _HYPHEN_BREAK.sub(r"\1\2", joined)
            blocks.append(re.sub(r"\s*\n\s*", " ", joined).strip())
            current.clear()

    for line in lines:
        if not line.strip():
            flush()
            continue
        if BULLET.match(line):
            flush()
            blocks.append(line.strip())
            continue
        current.append(line.strip())
        if full_width and len(line) < 0.8 * full_width and _PARAGRAPH_END.search(line):
            flush()
    flush()
    return [block for block in blocks if block]
