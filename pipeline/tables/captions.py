"""Which caption names which table: a caption element ("Table 3: Revenue by region") next to the table in reading
order, on its page. Read from the JSON tree's elements, so a job finished before tables carried their caption has
them too."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

#: how many elements away from a table its caption may be (a note or a unit line may sit between)
REACH = 2
_NAMES_A_TABLE = re.compile(r"^(table|tab\.)\s*[\dIVXivx]+", re.IGNORECASE)


def table_captions(elements: Sequence[dict[str, Any]]) -> list[str]:
    """One caption per table element of the tree, in their order ("" where none is near): the nearest caption on
    the table's first page within ``REACH`` elements, one that says "Table N" before any other, above before below
    (captions of tables are mostly set above them). A caption goes to one table at most."""
    taken: set[int] = set()
    found = []
    for position, element in enumerate(elements):
        if element.get("type") != "table":
            continue
        page = (element.get("pages") or [element.get("page")])[0]
        near = []
        for distance in range(1, REACH + 1):
            for at in (position - distance, position + distance):
                if 0 <= at < len(elements) and at not in taken:
                    other = elements[at]
                    if other.get("type") == "caption" and other.get("page") == page:
                        near.append(at)
        near.sort(key=lambda at: not _NAMES_A_TABLE.match(str(elements[at].get("text", ""))))  # stable: nearest first
        if near:
            taken.add(near[0])
            found.append(" ".join(str(elements[near[0]].get("text", "")).split()))
        else:
            found.append("")
    return found
