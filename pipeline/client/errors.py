"""The API's answers that are not what was asked for, as exceptions: one class per status a program acts on
differently, each carrying the problem details the server sent (RFC 9457: ``status``, ``title``, ``detail``, and
members such as ``code`` for a refused document)."""

from __future__ import annotations

from typing import Any

import httpx


class ApiError(Exception):
    """An answer with an error status; ``detail`` is the server's sentence, meant for people."""

    def __init__(self, status: int, detail: str, problem: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status}: {detail}")
        self.status, self.detail = status, detail
        self.problem = problem or {}
        self.retry_after: float | None = None

    @property
    def code(self) -> str:
        """A refused document's reason as a stable code (``too_large``, ``unsupported_type``, ...), or ""."""
        return str(self.problem.get("code", ""))


class Redirected(ApiError):
    """3xx: the server (or something in front of it) sent the request elsewhere; redirects are not followed, as a
    token must not go where it was not sent. ``location`` says where."""

    @property
    def location(self) -> str:
        return str(self.problem.get("location", ""))


class Unauthorized(ApiError):
    """401: no token where the server asks users to sign in, or one revoked or expired."""


class Forbidden(ApiError):
    """403: not this caller's to do (another user's list, a request from another site's page)."""


class NotFound(ApiError):
    """404: no such job (or one the caller may not see)."""


class Conflict(ApiError):
    """409: not in this state (cancel an ended job, a result before the job completed)."""


class Gone(ApiError):
    """410: it existed and is no longer kept (a deleted job's result, a purged source)."""


class Refused(ApiError):
    """413, 415 or 422: the document was refused (too large, not a supported type, unreadable); ``code`` says why
    and the failed job is recorded on the server."""


class RateLimited(ApiError):
    """429: over a rate or a per-user limit; ``retry_after`` (seconds) when the server said."""


class Unavailable(ApiError):
    """503: the server cannot reach its job store or a service now; ``retry_after`` when it said."""


class StreamLost(Exception):
    """An event stream kept failing to reconnect, or the wait ran out of time, before the job ended."""


_BY_STATUS: dict[int, type[ApiError]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    413: Refused,
    415: Refused,
    422: Refused,
    429: RateLimited,
    503: Unavailable,
}


def raise_for_problem(response: httpx.Response) -> None:
    """Raise the answer's error, if it is one (any status but 2xx, redirects included), with the problem details
    it carries; an answer that is not a problem (an HTML error page, a redirect) still raises, naming its status."""
    status = response.status_code
    if 200 <= status < 300:
        return
    problem: dict[str, Any] = {}
    try:
        body = response.json()
        if isinstance(body, dict):
            problem = body
    except ValueError:
        pass
    if 300 <= status < 400:
        location = response.headers.get("location", "")
        problem = {**problem, "location": location}
        detail = f"the server answered {status} {response.reason_phrase}, a redirect to {location or '(nowhere)'}"
        raise Redirected(status, detail, problem)
    detail = str(problem.get("detail") or problem.get("title") or response.reason_phrase or "error")
    error = _BY_STATUS.get(status, ApiError)(status, detail, problem)
    retry_after = response.headers.get("Retry-After", "")
    if retry_after.replace(".", "", 1).isdigit():
        error.retry_after = float(retry_after)
    raise error
