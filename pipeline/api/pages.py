"""``GET /jobs/{id}/pages/{n}/image``: one page of a job's document as an image, to check a result against.

Drawn from the stored source on demand (``Paperline.page_image``) and scoped like the job: another user's job is
404. The page's size in the result's box coordinates comes with it (``X-Page-Width``, ``X-Page-Height``: PDF points
with the origin at the bottom left; an image's pixels), so a client can draw the JSON result's ``bbox`` on it.
"""

from __future__ import annotations

from pipeline.api.handlers import ApiHandler
from pipeline.api.limits import PAGE_WIDTH
from pipeline.api.problems import Problem
from pipeline.documents.page_images import IMAGE_FORMATS

#: how long the caller's browser may keep a page image (its own copy only: the image is the caller's to see)
MAX_AGE_S = 300
#: a page number's digits at most (no document has a million pages)
PAGE_DIGITS = 6


class PageImageHandler(ApiHandler):
    """``?width=`` pixels (600-2000, default 1000), ``?format=png|webp`` (default png)."""

    async def get(self, job_id: str, number: str) -> None:
        width = self.whole_number("width", PAGE_WIDTH)
        fmt = self.get_query_argument("format", "png")
        if fmt not in IMAGE_FORMATS:
            raise Problem(400, f"format must be one of {', '.join(IMAGE_FORMATS)}")
        if not (number.isascii() and number.isdigit() and 0 < len(number) <= PAGE_DIGITS):
            raise Problem(404, f"No page {number[:20]!r}: a page is a number, counted from 1.")
        image = await self.run(self.app.page_image, job_id, int(number), width=width, fmt=fmt, user=self.scope)
        self.set_header("Content-Type", image.media_type)
        self.set_header("Cache-Control", f"private, max-age={MAX_AGE_S}")
        self.set_header("X-Page-Width", f"{image.page_width:g}")
        self.set_header("X-Page-Height", f"{image.page_height:g}")
        self.set_header("X-Page-Count", str(image.pages))
        self.finish(image.data)
