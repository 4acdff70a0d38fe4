"""``POST /jobs``: documents streamed to disk as they arrive, then handed to ``Paperline.submit`` one by one.

Two shapes, as HTTP clients send files: ``multipart/form-data`` (one or more files, plus ``profile``, ``engine``
and ``instruction`` fields; what ``curl -F`` and ``httpx``'s ``files=`` send), or the raw document as the body
with ``?filename=`` (and the same options as query arguments). Nothing is held whole in memory: the multipart
parser (python-multipart) writes each file to a private temporary folder, which is removed after the request. A
body announced larger than the upload limit is refused with 413 before any of it is read.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from python_multipart import FormParser
from python_multipart.exceptions import FormParserError
from tornado.web import HTTPError, stream_request_body

from .. import messages
from ..exceptions import InvalidRequest
from .handlers import JobsHandler
from .problems import Problem, refusal_status

MULTIPART_OVERHEAD = 1024 * 1024  # part headers and boundaries around the files themselves
OPTIONS = ("profile", "engine", "instruction")


@dataclass
class Upload:
    """One file received: where it was written and the name the client gave it."""

    path: Path
    filename: str


@dataclass
class ReceivedBody:
    files: list[Upload] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)


@stream_request_body
class UploadHandler(JobsHandler):
    """``POST /jobs``; ``GET /jobs`` (the list) is JobsHandler's, as both share the route."""

    async def prepare(self) -> None:
        self.raw: BinaryIO | None = None
        self.parser: FormParser | None = None
        await super().prepare()
        if self.request.method != "POST":
            if self.request.method not in ("GET", "HEAD"):  # answer before a streamed body is read
                raise HTTPError(405)
            return
        limit = self.app.settings.max_upload_bytes + MULTIPART_OVERHEAD
        announced = self.request.headers.get("Content-Length")
        if announced is not None and announced.isdigit() and int(announced) > limit:
            raise Problem(413, messages.too_large("The upload", int(announced), self.app.settings.max_upload_mb))
        self.request.connection.set_max_body_size(limit)
        self.folder = Path(tempfile.mkdtemp(prefix="paperline-upload-"))
        self.body = ReceivedBody()
        content_type = self.request.headers.get("Content-Type", "")
        if content_type.lower().startswith("multipart/form-data"):
            boundary = content_type.split("boundary=", 1)[1].strip('"') if "boundary=" in content_type else ""
            if not boundary:
                raise Problem(400, "A multipart upload needs a boundary in its Content-Type.")
            self.parser = FormParser(
                "multipart/form-data",
                self._on_field,
                self._on_file,
                boundary=boundary,
                config={"UPLOAD_DIR": str(self.folder), "MAX_MEMORY_FILE_SIZE": 0, "UPLOAD_DELETE_TMP": False},
            )
        else:
            filename = self.get_query_argument("filename", "")
            if not filename:
                raise Problem(400, "Name the document: ?filename=report.pdf (or send multipart/form-data).")
            self.body.files.append(Upload(self.folder / "body", filename))
            self.body.options = {k: self.get_query_argument(k) for k in OPTIONS if self.get_query_argument(k, "")}
            self.raw = (self.folder / "body").open("wb")

    def _on_field(self, item: Any) -> None:
        name = (item.field_name or b"").decode("utf-8", "replace")
        if name in OPTIONS and item.value is not None:
            self.body.options[name] = item.value.decode("utf-8", "replace")

    def _on_file(self, item: Any) -> None:
        item.flush_to_disk()
        item.close()
        filename = (item.file_name or b"document").decode("utf-8", "replace")
        self.body.files.append(Upload(Path(item.actual_file_name.decode()), filename))

    def data_received(self, chunk: bytes) -> None:
        if self.raw is not None:
            self.raw.write(chunk)
        elif self.parser is not None:
            try:
                self.parser.write(chunk)
            except FormParserError:
                self.parser = None  # the answer says so once the body has been read

    async def post(self) -> None:
        if self.raw is not None:
            self.raw.close()
        elif self.parser is None:
            raise Problem(400, "The multipart body could not be read.")
        else:
            try:
                self.parser.finalize()
            except FormParserError:
                raise Problem(400, "The multipart body could not be read.") from None
        if not self.body.files:
            raise Problem(400, "No file in the request: send one or more files (multipart field 'file').")
        options = dict(self.body.options)
        jobs = []
        for upload in self.body.files:
            try:
                jobs.append(await self.run(self.app.submit, upload.path, upload.filename, user=self.user, **options))
            except InvalidRequest as error:  # an unknown profile or engine: the request, not a document, is wrong
                raise Problem(400, str(error)) from None
        accepted = [job for job in jobs if not job.meta.get("refusal")]
        if not accepted:  # every document was refused: say why, as the page does (each refusal is recorded)
            first = jobs[0]
            raise Problem(
                refusal_status(str(first.meta.get("refusal", ""))),
                first.error,
                {"jobs": [job.to_dict() for job in jobs]},
            )
        for job in accepted:
            self.add_header("Location", f"{self.request.path.rstrip('/')}/{job.id}")
        self.send_json({"jobs": [job.to_dict() for job in jobs]}, status=201)

    def on_finish(self) -> None:
        raw = getattr(self, "raw", None)
        if raw is not None and not raw.closed:
            raw.close()
        folder = getattr(self, "folder", None)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def on_connection_close(self) -> None:
        self.on_finish()
