"""``POST /jobs``: documents streamed to disk as they arrive, then handed to ``Paperline.submit`` one by one.

Two shapes, as HTTP clients send files: ``multipart/form-data`` (one or more files, plus ``profile``, ``engine``,
``instruction`` and ``priority`` fields; what ``curl -F`` and ``httpx``'s ``files=`` send), or the raw document as the
body with ``?filename=``. With either, the options may be query arguments too (a form field wins). Nothing is held whole
in memory: the multipart parser (python-multipart's streaming one) writes each file to a private temporary folder, which
is removed after the request. Several files make one batch (the answer names it beside the jobs), as does one file sent
with ``batch=true``. A body announced larger than the upload limit is refused with 413 before any of it is read; more
files than ``PAPERLINE_MAX_FILES_PER_UPLOAD``, more than ``MAX_FIELDS`` other fields or a field over ``MAX_FIELD_BYTES``
are refused (413/400) as soon as they appear, and nothing more of the body is kept.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header
from tornado.http1connection import HTTP1Connection
from tornado.web import HTTPError, stream_request_body

from pipeline.api.handlers import JobsHandler
from pipeline.api.openapi import FLAGS
from pipeline.api.problems import Problem, refusal_status
from pipeline.core import messages
from pipeline.core.models import Job

MULTIPART_OVERHEAD = 1024 * 1024  # part headers and boundaries around the files themselves
OPTIONS = ("profile", "engine", "instruction", "callback_url", "priority", "batch")
MAX_FIELDS = 16  # parts besides the files: the options, and room for what clients add
MAX_FIELD_BYTES = 64 * 1024  # an instruction is a paragraph, not a document


@dataclass
class Upload:
    """One file received: where it was written and the name the client gave it."""

    path: Path
    filename: str


@dataclass
class ReceivedBody:
    files: list[Upload] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)


class _Refused(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


class MultipartReceiver:
    """A ``multipart/form-data`` body read as it streams in: each file part straight into its own file in
    ``folder``, each other field into memory, within the caps. Past a cap (or a malformed part) it keeps nothing
    more of the body; ``finish`` then raises the answer."""

    def __init__(self, boundary: str, folder: Path, max_files: int) -> None:
        self.body = ReceivedBody()
        self.folder, self.max_files = folder, max_files
        self.refusal: Problem | None = None
        self.broken = False
        self._fields = 0
        self._headers: dict[bytes, bytes] = {}
        self._header: tuple[list[bytes], list[bytes]] = ([], [])
        self._name, self._filename = "", ""
        self._file: BinaryIO | None = None
        self._field: bytearray | None = None
        self._parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": self._headers.clear,
                "on_header_field": lambda data, start, end: self._header[0].append(data[start:end]),
                "on_header_value": lambda data, start, end: self._header[1].append(data[start:end]),
                "on_header_end": self._header_end,
                "on_headers_finished": self._part_start,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
            },
        )

    def write(self, chunk: bytes) -> None:
        if self.refusal is not None or self.broken:
            return  # the rest of the body is read and dropped
        try:
            self._parser.write(chunk)
        except _Refused as refused:
            self.refusal = refused.problem
            self._drop_part()
        except FormParserError:
            self.broken = True
            self._drop_part()

    def finish(self) -> ReceivedBody:
        self._drop_part()  # a part the body ended in the middle of is not a file
        if self.refusal is not None:
            raise self.refusal
        if self.broken:
            raise Problem(400, "The multipart body could not be read.")
        return self.body

    def _header_end(self) -> None:
        names, values = self._header
        self._headers[b"".join(names).lower()] = b"".join(values).strip(b" \t")
        names.clear()
        values.clear()

    def _part_start(self) -> None:
        _disposition, options = parse_options_header(self._headers.get(b"content-disposition"))
        if b"name" not in options:
            raise FormParserError("a part without a name")
        self._name = options[b"name"].decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename is not None:
            if len(self.body.files) >= self.max_files:
                raise _Refused(Problem(413, messages.too_many_files(self.max_files)))
            self._filename = filename.decode("utf-8", "replace") or "document"
            self._file = (self.folder / f"part-{len(self.body.files)}").open("wb")
        else:
            self._fields += 1
            if self._fields > MAX_FIELDS:
                raise _Refused(Problem(400, messages.too_many_fields(MAX_FIELDS)))
            self._field = bytearray()

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._file is not None:
            self._file.write(data[start:end])
        elif self._field is not None:
            if len(self._field) + end - start > MAX_FIELD_BYTES:
                raise _Refused(Problem(413, messages.field_too_large(self._name, MAX_FIELD_BYTES // 1024)))
            self._field += data[start:end]

    def _part_end(self) -> None:
        if self._file is not None:
            self._file.close()
            self.body.files.append(Upload(Path(self._file.name), self._filename))
            self._file = None
        elif self._field is not None:
            if self._name in OPTIONS:
                self.body.options[self._name] = self._field.decode("utf-8", "replace")
            self._field = None

    def _drop_part(self) -> None:
        if self._file is not None:
            self._file.close()
            Path(self._file.name).unlink(missing_ok=True)
            self._file = None
        self._field = None


def _flag(name: str, value: str) -> bool:
    try:
        return FLAGS[value]
    except KeyError:
        raise Problem(400, f"{name} is true or false") from None


def _priority(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise Problem(400, "priority must be a whole number") from None


@stream_request_body
class UploadHandler(JobsHandler):
    """``POST /jobs``; ``GET /jobs`` (the list) is JobsHandler's, as both share the route."""

    async def prepare(self) -> None:
        self.raw: BinaryIO | None = None
        self.parser: MultipartReceiver | None = None
        await super().prepare()
        if self.request.method != "POST":
            if self.request.method not in ("GET", "HEAD"):  # answer before a streamed body is read
                raise HTTPError(405)
            return
        limit = self.app.settings.max_upload_bytes + MULTIPART_OVERHEAD
        announced = self.request.headers.get("Content-Length")
        if announced is not None and announced.isdigit() and int(announced) > limit:
            raise Problem(413, messages.too_large("The upload", int(announced), self.app.settings.max_upload_mb))
        connection = self.request.connection
        assert isinstance(connection, HTTP1Connection)  # Tornado serves HTTP/1.x only
        connection.set_max_body_size(limit)
        self.folder = Path(tempfile.mkdtemp(prefix="paperline-upload-"))
        self.body = ReceivedBody()
        # options as query arguments, with either shape (a multipart field says it instead); one sent empty is sent,
        # as a form field is: an empty engine or profile is refused, not taken for the default
        given = {name: self.get_query_argument(name, None) for name in OPTIONS}
        self.query_options = {name: value for name, value in given.items() if value is not None}
        content_type = self.request.headers.get("Content-Type", "")
        if content_type.lower().startswith("multipart/form-data"):
            boundary = content_type.split("boundary=", 1)[1].strip('"') if "boundary=" in content_type else ""
            if not boundary:
                raise Problem(400, "A multipart upload needs a boundary in its Content-Type.")
            try:
                self.parser = MultipartReceiver(boundary, self.folder, self.app.settings.max_files_per_upload)
            except (FormParserError, ValueError):
                raise Problem(400, "This multipart boundary cannot be used.") from None
        else:
            filename = self.get_query_argument("filename", "")
            if not filename:
                raise Problem(400, "Name the document: ?filename=report.pdf (or send multipart/form-data).")
            self.body.files.append(Upload(self.folder / "body", filename))
            self.raw = (self.folder / "body").open("wb")

    def data_received(self, chunk: bytes) -> None:
        if self.raw is not None:
            self.raw.write(chunk)
        elif self.parser is not None:
            self.parser.write(chunk)  # a refusal is answered once the body has been read

    async def post(self) -> None:
        if self.raw is not None:
            self.raw.close()
        elif self.parser is None:
            raise Problem(400, "The multipart body could not be read.")
        else:
            self.body = self.parser.finish()
        self.charge(max(0, len(self.body.files) - 1))  # each file is a job: one request each
        if not self.body.files:
            raise Problem(400, "No file in the request: send one or more files (multipart field 'file').")
        options: dict[str, Any] = {**self.query_options, **self.body.options}
        as_batch = _flag("batch", options.pop("batch", ""))
        if "priority" in options:
            options["priority"] = _priority(options["priority"])
        if "callback_url" in options and not options["callback_url"].strip():  # as the document says: a URL or none
            raise Problem(400, "callback_url must be an http(s) URL; leave it out for none.")
        jobs: list[Job] = []
        batch = None
        # an unknown profile or engine answers 400 (the request, not a document, is wrong), as every InvalidRequest;
        # a callback_url no receiver may have 422, as POST /webhooks answers it (STATUS_BY_CODE)
        if len(self.body.files) > 1 or as_batch:  # several documents at once: one batch to follow
            sources = [(upload.path, upload.filename) for upload in self.body.files]
            batch, jobs = await self.run(self.app.submit_batch, sources, user=self.user, **options)
        else:
            for upload in self.body.files:
                jobs.append(await self.run(self.app.submit, upload.path, upload.filename, user=self.user, **options))
        accepted = [job for job in jobs if not job.meta.get("refusal")]
        if not accepted:  # every document was refused: say why, as the page does (each refusal is recorded)
            first = jobs[0]
            code = str(first.meta.get("refusal", ""))
            raise Problem(refusal_status(code), first.error, {"code": code, "jobs": [job.to_dict() for job in jobs]})
        for job in accepted:
            self.add_header("Location", f"{self.request.path.rstrip('/')}/{job.id}")
        answer: dict[str, Any] = {"jobs": [job.to_dict() for job in jobs]}
        if batch is not None:
            answer = {"batch": (await self.run(self.app.batch, batch.id, eta=False)).to_dict(), **answer}
        self.send_json(answer, status=201)

    def on_finish(self) -> None:
        raw = getattr(self, "raw", None)
        if raw is not None and not raw.closed:
            raw.close()
        folder = getattr(self, "folder", None)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def on_connection_close(self) -> None:
        self.on_finish()
