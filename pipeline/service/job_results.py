"""A job's results: the formats written (and those made from them), downloads named after the document, its tables
as DataFrames or CSV, its page images and its original upload."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pipeline.core import messages
from pipeline.core.errors import (
    FilesGone,
    InvalidRequest,
    WrongState,
)
from pipeline.documents.page_images import DEFAULT_WIDTH, PageImage
from pipeline.files.jobfiles import (
    COMPRESSED_IMAGE,
    FORMAT_FILES,
    MADE_FORMATS,
    Download,
    download_name,
    result_name,
)
from pipeline.profiles.registry import find_profile

if TYPE_CHECKING:  # pandas costs ~0.6 s to import; only notebooks and analytics need it
    import pandas as pd


from pipeline.service.job_reading import JobReading


class JobResults(JobReading):
    """What a job wrote, read in each format, scoped to a user where one is named."""

    def result_formats(self, job_id: str, *, user: str | None = None) -> list[str]:
        """Formats of this job's result: those written, the profile's main format first, then those made from them
        when asked for (``xlsx`` wherever there are ``tables``)."""
        job = self.get(job_id, user=user)
        written = set(self.files(job_id).available_formats())
        known = find_profile(job.profile)  # a job of a plug-in no longer installed still shows its files
        formats = [fmt for fmt in (known.formats if known else tuple(FORMAT_FILES)) if fmt in written]
        return formats + [fmt for fmt, made in MADE_FORMATS.items() if made.source in formats]

    def result_format(self, job_id: str, fmt: str | None = None, *, user: str | None = None) -> str:
        """The format to read (the profile's main one when ``fmt`` is None), or why there is none."""
        formats = self.result_formats(job_id, user=user)
        if not formats:
            job = self.get(job_id)
            if job.purged_at:
                why = next((note for note in reversed(job.notes) if note.startswith("Files ")), "")
                raise FilesGone(messages.files_gone(job_id, why))
            raise WrongState(f"Job {job_id} has no result yet (status: {job.status.value}).")
        fmt = fmt or formats[0]
        if fmt not in formats:
            raise WrongState(f"Job {job_id} has no {fmt} result; available: {', '.join(formats)}")
        return fmt

    def result_bytes(self, job_id: str, fmt: str | None = None, *, user: str | None = None) -> bytes:
        """The result in ``fmt`` (the profile's main format when None): a stored file, or one made from them."""
        fmt = self.result_format(job_id, fmt, user=user)
        files = self.files(job_id)
        made = MADE_FORMATS.get(fmt)
        data = (
            files.read(result_name(fmt)) if made is None else made.make(lambda stored: files.read(result_name(stored)))
        )
        if data is None:
            raise FilesGone(f"The result of job {job_id} is no longer in storage.")
        self.store.touch(job_id)
        return data

    def result_download(self, job_id: str, fmt: str | None = None, *, user: str | None = None) -> Download:
        """The result in ``fmt`` as a file to save, named after the document and the format (``report.md``,
        ``report.tables.json``, ``report.xlsx``): what every download (API, CLI, page) sends."""
        job = self.get(job_id, user=user)
        fmt = self.result_format(job_id, fmt, user=user)
        data = self.result_bytes(job_id, fmt, user=user)
        return Download(download_name(job.filename, fmt, fallback=job.id), FORMAT_FILES[fmt][1], data)

    def result(self, job_id: str, fmt: str | None = None, *, user: str | None = None) -> str:
        return self.result_bytes(job_id, fmt, user=user).decode("utf-8")

    def result_tables(self, job_id: str, *, user: str | None = None) -> list[dict[str, Any]]:
        """The tables found in the job's document (its ``tables`` result: ``index``, ``pages``, ``rows``, ...); none
        where the job has no such result."""
        if "tables" not in self.result_formats(job_id, user=user):
            return []
        return list(json.loads(self.result(job_id, "tables", user=user)).get("tables", []))

    def tables(self, job_id: str, *, raw: bool = False, user: str | None = None) -> list[pd.DataFrame]:
        """The document's tables as pandas DataFrames, in its order: every header row kept (several make a column
        MultiIndex), columns of numbers read as numbers ("1,234" is 1234, "(12)" is -12, "12.5%" is 0.125; a dash
        is missing); ``raw=True`` keeps every cell's text as printed. Each frame's ``attrs`` name the table:
        ``index``, ``pages``, ``caption``, ``header_rows`` (``pipeline.tables.frames``). An empty list where the job
        ended with no tables; ``InvalidRequest`` while it has no result yet."""
        from pipeline.tables.frames import table_frames
        from pipeline.tables.results import tables_of

        formats = self.result_formats(job_id, user=user)
        if not formats:
            self.result_format(job_id, user=user)  # raises: no result yet, or its files are gone
        if "tables" not in formats:
            return []
        files = self.files(job_id)
        found, captions, _ = tables_of(
            lambda fmt: files.read(result_name(fmt)) if fmt in formats and fmt not in MADE_FORMATS else None
        )
        return table_frames(found, raw=raw, captions=captions)

    def table_csv(self, job_id: str, index: int, *, user: str | None = None) -> bytes:
        """One table of the job's document (``index`` as in ``result_tables``, from 1) as CSV."""
        from pipeline.profiles.structured import table_csv

        found = next((t for t in self.result_tables(job_id, user=user) if t.get("index") == index), None)
        if found is None:
            raise InvalidRequest(f"Job {job_id} has no table {index}.")
        return table_csv(found.get("rows", [])).encode("utf-8")

    def compressed_image_bytes(self, job_id: str, *, user: str | None = None) -> bytes | None:
        self.get(job_id, user=user)
        return self.files(job_id).read(COMPRESSED_IMAGE)

    def page_image(
        self, job_id: str, page: int, *, width: int = DEFAULT_WIDTH, fmt: str = "png", user: str | None = None
    ) -> PageImage:
        """Page ``page`` (1-based) of the job's document as an image ``width`` pixels wide (600-2000), PNG or WebP,
        drawn from the stored source in a subprocess and kept for the next viewer (``service.page_images``)."""
        job = self.get(job_id, user=user)
        from pipeline.service.page_images import PageImageCache, page_image

        if self._page_images is None:
            self._page_images = PageImageCache()
        return page_image(self._page_images, self.settings, job, self.files(job_id), page, width, fmt)

    def source_bytes(self, job_id: str, *, user: str | None = None) -> bytes | None:
        """The uploaded file as stored (None once it is gone)."""
        self.get(job_id, user=user)
        files = self.files(job_id)
        name = files.find_source()
        return files.read(name) if name else None
