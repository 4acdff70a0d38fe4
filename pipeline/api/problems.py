"""RFC 9457 problem details: the same plain messages the page and the CLI show, with the HTTP status that fits.

Only Paperline's own errors carry their message to a client; a transient fault of the job store or the object store
(``pipeline.core.transient``) is a 503 with ``Retry-After`` and a plain sentence; anything else is a bare 500 (the
server logs it), so no stack trace, query or storage path ever leaves the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from pipeline.core import messages, transient
from pipeline.core.errors import (
    AskBudgetReached,
    AskBusy,
    AskFailed,
    DocumentRejected,
    DocumentTooLarge,
    FilesGone,
    ImageTooLarge,
    InvalidRequest,
    JobNotFound,
    LimitReached,
    NoWorkerRunning,
    PaperlineError,
    TooManyPages,
    UnsupportedType,
    WebhookNotFound,
    WebhookRefused,
    WrongState,
    error_of_code,
)
from pipeline.files.storage import StorageUnavailable

MEDIA_TYPE = "application/problem+json"
# How long a client is asked to wait (Retry-After, seconds) while a service the server needs is unreachable.
RETRY_AFTER_S = 5

#: error code -> the HTTP status of that error and of its subclasses that have no status of their own (the nearest
#: listed class wins: a LimitReached is a DocumentRejected too, and answers 429, not 422)
STATUS_BY_CODE: dict[str, HTTPStatus] = {
    JobNotFound.code: HTTPStatus.NOT_FOUND,
    WebhookNotFound.code: HTTPStatus.NOT_FOUND,
    WebhookRefused.code: HTTPStatus.UNPROCESSABLE_ENTITY,
    LimitReached.code: HTTPStatus.TOO_MANY_REQUESTS,
    AskBudgetReached.code: HTTPStatus.TOO_MANY_REQUESTS,
    AskBusy.code: HTTPStatus.TOO_MANY_REQUESTS,
    AskFailed.code: HTTPStatus.BAD_GATEWAY,
    DocumentTooLarge.code: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    ImageTooLarge.code: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    TooManyPages.code: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    UnsupportedType.code: HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    DocumentRejected.code: HTTPStatus.UNPROCESSABLE_ENTITY,
    InvalidRequest.code: HTTPStatus.BAD_REQUEST,
    WrongState.code: HTTPStatus.CONFLICT,
    FilesGone.code: HTTPStatus.GONE,
    NoWorkerRunning.code: HTTPStatus.SERVICE_UNAVAILABLE,
}


@dataclass
class Problem(Exception):
    """An answer that is an error: raise it from a handler, or get one from ``problem_for``. ``extensions`` are
    more members of the answer (RFC 9457 section 3.2), such as the jobs recorded for refused uploads."""

    status: int
    detail: str = ""
    extensions: dict[str, Any] = field(default_factory=dict)
    #: seconds for the ``Retry-After`` header (a 503 while a service is down, a 429 saying when), or None for none
    retry_after: int | None = None

    @property
    def title(self) -> str:
        return HTTPStatus(self.status).phrase

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": "about:blank", "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        return {**self.extensions, **body}


def status_for(kind: type[BaseException]) -> int | None:
    """The HTTP status for an error of this kind (its own code's, or its nearest base's); None if none is listed."""
    codes = (base.code for base in kind.__mro__ if isinstance(base, type) and issubclass(base, PaperlineError))
    return next((int(STATUS_BY_CODE[code]) for code in codes if code in STATUS_BY_CODE), None)


def refusal_status(stored: str) -> int:
    """The status for a document refused at intake, from the error code recorded on its job (or the class name
    an older Paperline recorded there)."""
    kind = error_of_code(stored)
    status = status_for(kind) if kind is not None and issubclass(kind, DocumentRejected) else None
    return status or int(HTTPStatus.UNPROCESSABLE_ENTITY)


def problem_for(error: BaseException) -> Problem | None:
    """The problem a Paperline error stands for; None for anything else (a server fault, never described)."""
    if isinstance(error, Problem):
        return error
    status = status_for(type(error))
    if status is not None:
        extensions = {"code": error.code} if isinstance(error, PaperlineError) else {}
        wait = RETRY_AFTER_S if status == 503 else getattr(error, "retry_after_s", None)  # e.g. AskBusy's
        return Problem(status, str(error), extensions, retry_after=wait)
    if isinstance(error, StorageUnavailable):  # its message names the endpoint and bucket: for the log only
        return Problem(503, messages.OBJECT_STORE_UNAVAILABLE, retry_after=RETRY_AFTER_S)
    if transient.is_transient(error):
        detail = {
            transient.OBJECT_STORE: messages.OBJECT_STORE_UNAVAILABLE,
            transient.LOCAL_DISK: messages.DISK_FULL,
        }.get(transient.service_of(error), messages.STORE_UNAVAILABLE)
        return Problem(503, detail, retry_after=RETRY_AFTER_S)
    return None
