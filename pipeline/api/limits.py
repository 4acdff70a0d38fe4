"""The bounds of the API's query arguments, said once: the handlers check them and the OpenAPI document declares
them from here, so the two can never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.documents.page_images import DEFAULT_WIDTH, MAX_WIDTH, MIN_WIDTH


@dataclass(frozen=True)
class WholeNumber:
    """A query argument that is a whole number from ``low`` to ``high``, ``default`` when left out."""

    default: int
    low: int
    high: int

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.low, "maximum": self.high, "default": self.default}


#: jobs, or webhook deliveries, a page
PAGE_LIMIT = WholeNumber(default=50, low=1, high=500)
#: search hits asked for
SEARCH_TOP = WholeNumber(default=5, low=1, high=50)
#: a search query's length in characters
MAX_QUERY_CHARS = 1000
#: a page image's width in pixels
PAGE_WIDTH = WholeNumber(default=DEFAULT_WIDTH, low=MIN_WIDTH, high=MAX_WIDTH)
