"""RFC 9457 problem details: the same plain messages the page and the CLI show, with the HTTP status that fits.

Only Paperline's own errors carry their message to a client; anything else is a bare 500 (the server logs it), so
no stack trace, query or storage path ever leaves the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from ..exceptions import (
    DocumentRejected,
    DocumentTooLarge,
    ImageTooLarge,
    InvalidRequest,
    JobNotFound,
    LimitReached,
    NoWorkerRunning,
    UnsupportedType,
)

MEDIA_TYPE = "application/problem+json"

# Most specific first: LimitReached and DocumentTooLarge are DocumentRejected too.
STATUS_BY_ERROR: tuple[tuple[type[Exception], HTTPStatus], ...] = (
    (JobNotFound, HTTPStatus.NOT_FOUND),
    (LimitReached, HTTPStatus.TOO_MANY_REQUESTS),
    (DocumentTooLarge, HTTPStatus.REQUEST_ENTITY_TOO_LARGE),
    (ImageTooLarge, HTTPStatus.REQUEST_ENTITY_TOO_LARGE),
    (UnsupportedType, HTTPStatus.UNSUPPORTED_MEDIA_TYPE),
    (DocumentRejected, HTTPStatus.UNPROCESSABLE_ENTITY),
    (InvalidRequest, HTTPStatus.CONFLICT),
    (NoWorkerRunning, HTTPStatus.SERVICE_UNAVAILABLE),
)


@dataclass
class Problem(Exception):
    """An answer that is an error: raise it from a handler, or get one from ``problem_for``. ``extensions`` are
    more members of the answer (RFC 9457 section 3.2), such as the jobs recorded for refused uploads."""

    status: int
    detail: str = ""
    extensions: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return HTTPStatus(self.status).phrase

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": "about:blank", "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        return {**self.extensions, **body}


def problem_for(error: BaseException) -> Problem | None:
    """The problem a Paperline error stands for; None for anything else (a server fault, never described)."""
    if isinstance(error, Problem):
        return error
    for kind, status in STATUS_BY_ERROR:
        if isinstance(error, kind):
            return Problem(int(status), str(error))
    return None
