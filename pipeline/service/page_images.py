"""Page images of jobs' documents, drawn on demand from the stored source and kept for the next viewer.

An analyst checking a result flips through a few pages and back, and the page view and the API ask for the same
pages: each drawing is a subprocess (``pipeline.documents.page_images``), so the newest drawings are kept in this
process, within a byte budget. A job's source never changes once stored; the cache is asked only after the job has
been read for the caller (its scope) and is known to still have its files.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from pipeline.core.errors import FilesGone
from pipeline.core.models import DocumentKind, Job
from pipeline.core.settings import Settings
from pipeline.documents.intake import inspection_limits
from pipeline.documents.page_images import DEFAULT_WIDTH, IMAGE_FORMATS, PageImage, clamp_width, render_page_image
from pipeline.files.jobfiles import JobFiles

#: how many bytes of drawn pages one process keeps
CACHE_BYTES = 64 * 2**20


class PageImageCache:
    """The newest drawn pages, least recently used dropped first once over ``max_bytes``."""

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._images: OrderedDict[Hashable, PageImage] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        #: drawings made (cache misses), for tests and benchmarks
        self.drawn = 0

    def get(self, key: Hashable, draw: Callable[[], PageImage]) -> PageImage:
        with self._lock:
            found = self._images.get(key)
            if found is not None:
                self._images.move_to_end(key)
                return found
        image = draw()  # outside the lock: two viewers of different pages draw at once
        with self._lock:
            self.drawn += 1
            if key not in self._images:
                self._images[key] = image
                self._bytes += len(image.data)
            while self._bytes > self.max_bytes and len(self._images) > 1:
                _, dropped = self._images.popitem(last=False)
                self._bytes -= len(dropped.data)
        return image


def page_image(
    cache: PageImageCache, settings: Settings, job: Job, files: JobFiles, page: int, width: int, fmt: str
) -> PageImage:
    """Page ``page`` of ``job``'s document (a job the caller may see), ``width`` pixels wide, as ``fmt``."""
    if fmt not in IMAGE_FORMATS:
        raise ValueError(f"format must be one of {', '.join(IMAGE_FORMATS)}")
    width = clamp_width(width or DEFAULT_WIDTH)

    def draw() -> PageImage:
        source = files.local_source()
        if source is None:
            raise FilesGone(f"The original of job {job.id} is no longer kept: its pages cannot be shown.")
        pdf = job.kind != DocumentKind.IMAGE.value
        return render_page_image(source, pdf, page, width=width, fmt=fmt, limits=inspection_limits(settings))

    if job.purged_at:
        raise FilesGone(f"The original of job {job.id} is no longer kept: its pages cannot be shown.")
    return cache.get((job.id, page, width, fmt), draw)
