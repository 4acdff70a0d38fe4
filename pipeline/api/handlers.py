"""The API's Tornado handlers: each reads or changes jobs through ``Paperline``, off the server's event loop.

One ``Paperline`` per server process answers every request. A call acts for the user of
its personal token (``Authorization: Bearer``), with that user's scope: another user's job is not found, admins
see all. Without a token it acts for the local user, but only where the dashboard itself asks no one to sign in;
a server with sign-in answers 401.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import asdict
from functools import partial
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

from tornado.web import RequestHandler

from pipeline.api.limits import MAX_QUERY_CHARS, PAGE_LIMIT, SEARCH_TOP, WholeNumber
from pipeline.api.problems import MEDIA_TYPE, RETRY_AFTER_S, Problem, problem_for
from pipeline.api.ratelimit import RateLimiter
from pipeline.core import messages, transient
from pipeline.core.errors import TokenRefused
from pipeline.core.models import ApiToken, Event, JobStatus
from pipeline.files.jobfiles import FORMAT_FILES
from pipeline.profiles.retrieval.embedding import unavailable_reason as retrieval_unavailable
from pipeline.profiles.retrieval.ranking import SearchMode
from pipeline.server.context import ServerContext, server_context
from pipeline.server.edge import is_loopback, policy_for
from pipeline.service.paperline import Paperline
from pipeline.service.users import LOCAL_USER

log = logging.getLogger("paperline.api")
T = TypeVar("T")


def shared_app() -> Paperline:
    """This server process's Paperline (its server context's: the dashboard shares it)."""
    return server_context().app


def shared_limiter() -> RateLimiter:
    """This server process's request buckets (``PAPERLINE_API_RATE_PER_MINUTE``), on its server context."""
    return server_context().part(_new_limiter)


def _new_limiter(context: ServerContext) -> RateLimiter:
    return RateLimiter(context.app.settings.api_rate_per_minute)


def shared_health() -> HealthCheck:
    """What this server process's ``/health`` has seen (when the job store last failed), on its server context."""
    return server_context().part(_new_health)


def _new_health(context: ServerContext) -> HealthCheck:
    return HealthCheck()


def sign_in_required(application: object) -> bool:
    """Whether the server's dashboard asks users to sign in (Panel's basic auth or OAuth)."""
    provider = getattr(application, "auth_provider", None)
    return provider is not None and bool(provider.get_user or provider.get_user_async)


def event_dict(event: Event) -> dict[str, Any]:
    data = asdict(event)
    data["kind"] = event.kind.value
    return data


class ApiHandler(RequestHandler):
    """JSON in and out, errors as problem details, blocking work on a thread."""

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        for name, value in getattr(self, "kept_headers", {}).items():  # an error answer starts afresh: keep these
            self.set_header(name, value)

    def keep_header(self, name: str, value: str) -> None:
        """A header that stays on the answer even when it becomes an error (Tornado clears headers then)."""
        self.kept_headers = {**getattr(self, "kept_headers", {}), name: value}
        self.set_header(name, value)

    async def prepare(self) -> None:
        """Who is calling: a personal token's user, or the local user where the server has no sign-in; within
        the request rate of their address and their own."""
        self.user = ""
        self.charge()  # the address first: a flood of unknown tokens must not cost a store read each
        self.user, self.scope = await self.run(self._caller)
        self.charge(address=False)
        if self.request.method not in ("GET", "HEAD") and self._cross_site():
            raise Problem(403, "Requests from another site's page are refused.")

    def charge(self, cost: float = 1.0, *, address: bool = True) -> None:
        """Count ``cost`` requests against the caller's address (not a loopback one) and, once known, the caller
        (not the local user, who exists only where no one signs in: their address counts); 429 when over."""
        if cost <= 0:
            return
        remote = self.request.remote_ip or ""
        if address and remote and not is_loopback(remote):
            self._spend(f"address:{remote}", cost)
        if self.user and self.user != LOCAL_USER:
            self._spend(f"user:{self.user}", cost)

    def _spend(self, key: str, cost: float) -> None:
        wait_s = shared_limiter().take(key, cost)
        if wait_s:
            self.keep_header("Retry-After", str(max(1, round(wait_s + 0.5))))
            raise Problem(429, messages.too_many_requests(wait_s))

    def _caller(self) -> tuple[str, str | None]:
        """The acting user and the owner scope of what they may see (None: everything, for an admin). A token
        must be live and its user one who may sign in; the local user is only ever the caller without sign-in."""
        header = self.request.headers.get("Authorization", "")
        scheme, _, secret = header.partition(" ")
        self.token: ApiToken | None = None
        if header and scheme.lower() == "bearer" and secret.strip():
            self.secret = secret.strip()
            try:
                self.token = self.app.api_token(self.secret)
            except TokenRefused as exc:
                raise self._unauthorized(str(exc)) from None
            user = self.token.user
        elif self._sign_in_required():
            raise self._unauthorized(
                "This server asks users to sign in: send a personal API token (Authorization: Bearer ...); "
                "create one with: paperline token create --user YOU"
            )
        else:
            user = LOCAL_USER
        return user, self.app.owner_scope(user)

    def token_refusal(self) -> str:
        """Why the caller's token stopped working since the request began ("" while it works, or without one)."""
        if self.token is None:
            return ""
        try:
            self.app.api_token(self.secret)
        except TokenRefused as exc:
            return str(exc)
        return ""

    def _sign_in_required(self) -> bool:
        return sign_in_required(self.application)

    def _unauthorized(self, detail: str) -> Problem:
        self.keep_header("WWW-Authenticate", 'Bearer realm="paperline"')  # kept on the error answer
        return Problem(401, detail)

    def _cross_site(self) -> bool:
        """A browser sends Origin with a cross-site POST; a program sends none. Refuse another site's page, so a
        page the analyst happens to open cannot cancel or delete jobs through the local API. The Origin must be
        one the server names (``PAPERLINE_PUBLIC_URL`` or the address served), or this very server under a name
        it answers to: never just whatever the request says its Host is (DNS rebinding makes both the
        attacker's)."""
        origin = self.request.headers.get("Origin")
        if not origin:
            return False
        policy = policy_for(self.application)
        return not policy.allows_origin(origin, self.request.host, self.request.protocol)

    @property
    def app(self) -> Paperline:
        return shared_app()

    async def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(None, partial(function, *args, **kwargs))

    def whole_number(self, name: str, bound: WholeNumber) -> int:
        """A query argument that must be a whole number within ``bound`` (a 400 problem otherwise)."""
        try:
            value = int(self.get_query_argument(name, str(bound.default)))
        except ValueError:
            raise Problem(400, f"{name} must be a whole number") from None
        if not bound.low <= value <= bound.high:
            raise Problem(400, f"{name} must be between {bound.low} and {bound.high}")
        return value

    def send_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        if status_code == 405:  # RFC 9110: say which methods this resource has
            own = [
                m
                for m in self.SUPPORTED_METHODS
                if getattr(type(self), m.lower()) is not getattr(RequestHandler, m.lower())
            ]
            self.set_header("Allow", ", ".join(own))
        error = kwargs.get("exc_info", (None, None, None))[1]
        problem = problem_for(error) if error is not None else None
        if problem is None:
            if status_code >= 500 and error is not None:
                log.error("API %s %s failed", self.request.method, self.request.path, exc_info=kwargs["exc_info"])
            problem = Problem(status_code)
        self.set_status(problem.status)
        self.set_header("Content-Type", MEDIA_TYPE)
        if problem.retry_after is not None:
            self.set_header("Retry-After", str(problem.retry_after))
        self.finish(json.dumps(problem.to_dict()))

    def log_exception(
        self, typ: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        problem = problem_for(value) if value is not None else None
        if problem is None or value is None:
            super().log_exception(typ, value, tb)
        elif problem.status == 503 and value is not problem:  # a fault of a service, not of the request
            log.warning("API %s %s: answered 503, %s", self.request.method, self.request.path, value)
            if transient.service_of(value) == transient.JOB_STORE:
                shared_health().store_failed_at = time.monotonic()


class OpenApiHandler(ApiHandler):
    """``GET /openapi.json``: what this API serves, as OpenAPI 3.1."""

    def get(self) -> None:
        from pipeline.api.openapi import openapi_document

        self.send_json(openapi_document(self.request.path.rsplit("/", 1)[0]))


class HealthCheck:
    """What ``/health`` reports, shared by this server's requests: the job store (read on every call), the object
    store (checked at most every ``STORAGE_EVERY_S``: a bucket request per probe would be a load of its own), and
    when the job store last failed (workers cannot beat while it is down, so "no workers" right after it comes back
    would be a false alarm until they have had time to beat again)."""

    STORAGE_EVERY_S = 5.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._storage: tuple[float, str] | None = None  # checked at (monotonic), reason ("" when usable)
        self.store_failed_at = float("-inf")

    def storage_problem(self, app: Paperline) -> str:
        """A plain sentence saying the object store cannot be used now ("" when it can), from a check at most a few
        seconds old."""
        with self._lock:
            cached = self._storage
        if cached is not None and time.monotonic() - cached[0] < self.STORAGE_EVERY_S:
            return cached[1]
        try:
            app.storage.check()
            reason = ""
        except Exception as exc:  # the detail (endpoint, bucket) goes to the log, not to whoever asks
            log.warning("health check: the object store cannot be used: %s", exc)
            reason = messages.OBJECT_STORE_UNAVAILABLE
        with self._lock:
            self._storage = (time.monotonic(), reason)
        return reason

    def report(self, app: Paperline) -> tuple[int, dict[str, Any]]:
        """The HTTP status and the body of ``/health``."""
        try:
            jobs, _chunks = app.status_counts()
            workers = len(app.workers())
        except Exception as exc:
            self.store_failed_at = time.monotonic()
            log.warning("health check: the store cannot be read: %s", exc)
            return 503, {"status": "unavailable", "store": "unreachable", "reason": messages.STORE_UNAVAILABLE}
        body: dict[str, Any] = {
            "status": "ok",
            "store": "ok",
            "storage": "ok",
            "workers": workers,
            "queued": jobs.get("queued", 0),
            "running": jobs.get("running", 0),
        }
        if not workers:
            grace = max(10.0, 3 * app.settings.heartbeat_interval_s)  # the age after which a worker counts as gone
            body["status"] = "recovering" if time.monotonic() - self.store_failed_at < grace else "no_workers"
        reason = self.storage_problem(app)
        if reason:
            body.update(status="degraded", storage="unreachable", reason=reason)
        return 200, body


class HealthHandler(ApiHandler):
    """``GET /health``: can this server reach the job store and the object store, and are workers alive (for load
    balancers). 503 with ``Retry-After`` while the job store is unreachable; "degraded" while the object store is."""

    async def get(self) -> None:
        status, body = await self.run(shared_health().report, self.app)
        if status == 503:
            self.set_header("Retry-After", str(RETRY_AFTER_S))
        self.send_json(body, status=status)


class JobsHandler(ApiHandler):
    """``GET /jobs``: newest first; filters ``status``, ``name`` (part of the file name, any case) and, for
    admins, ``user``; at most ``limit`` (default 50, at most 500) a page, the next page from ``next_cursor``."""

    async def get(self) -> None:
        status = self.get_query_argument("status", None)
        if status is not None and status not in {s.value for s in JobStatus}:
            raise Problem(400, f"Unknown status {status!r}")
        limit = self.whole_number("limit", PAGE_LIMIT)
        owner = self.get_query_argument("user", None)
        if owner is not None and self.scope is not None and owner != self.user:
            raise Problem(403, "Only an admin can list another user's jobs.")
        cursor = self.get_query_argument("cursor", None)
        if cursor is not None:
            await self.run(self.app.get, cursor, user=self.scope)  # a cursor must name a job this caller sees
        jobs = await self.run(
            self.app.jobs,
            status=status,
            user=owner if owner is not None else self.scope,
            limit=limit + 1,
            name=self.get_query_argument("name", None),
            after=cursor,
        )
        more = len(jobs) > limit
        jobs = jobs[:limit]
        self.send_json({"jobs": [job.to_dict() for job in jobs], "next_cursor": jobs[-1].id if more else None})


class JobHandler(ApiHandler):
    """``GET /jobs/{id}``; ``DELETE /jobs/{id}`` deletes an ended job's files and keeps its history."""

    async def get(self, job_id: str) -> None:
        self.send_json((await self.run(self.app.get, job_id, user=self.scope)).to_dict())

    async def delete(self, job_id: str) -> None:
        self.send_json((await self.run(self.app.delete, job_id, user=self.scope)).to_dict())


class ChunksHandler(ApiHandler):
    async def get(self, job_id: str) -> None:
        self.send_json({"chunks": [c.to_dict() for c in await self.run(self.app.chunks, job_id, user=self.scope)]})


class EventsHandler(ApiHandler):
    async def get(self, job_id: str) -> None:
        await self.run(self.app.get, job_id, user=self.scope)  # an unknown job is a 404, not an empty list
        self.send_json({"events": [event_dict(e) for e in await self.run(self.app.events, job_id)]})


class ActionHandler(ApiHandler):
    """``POST /jobs/{id}/cancel`` and ``POST /jobs/{id}/retry``."""

    async def post(self, job_id: str, action: str) -> None:
        act = self.app.cancel if action == "cancel" else self.app.retry
        self.send_json((await self.run(act, job_id, user=self.scope)).to_dict())


def content_disposition(filename: str, fallback: str = "download") -> str:
    """An attachment header naming ``filename`` twice (RFC 6266): ``filename=`` in plain ASCII for clients that read
    only that one (``curl -OJ``), and the exact name, percent-encoded UTF-8, in ``filename*=`` for the rest."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    ascii_name = "".join("_" if ch in '"\\' or not ch.isprintable() else ch for ch in ascii_name).strip()
    stem, dot, suffixes = ascii_name.partition(".")
    if not stem.strip("_ "):  # a name in another script keeps its suffixes after a plain stem
        ascii_name = fallback + dot + suffixes
    ascii_name = ascii_name.rstrip(". ")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


class DownloadHandler(ApiHandler):
    """A file as an attachment, with its media type and a file name derived from the document's."""

    def send_file(self, data: bytes, filename: str, media_type: str, *, fallback: str = "download") -> None:
        self.set_header("Content-Type", media_type)
        self.set_header("Content-Disposition", content_disposition(filename, fallback))
        self.finish(data)


class ResultHandler(DownloadHandler):
    """``GET /jobs/{id}/result?format=...`` (default: the profile's main format), saved as ``NAME.<format's
    suffix>``: ``report.md``, ``report.tables.json``, ``report.xlsx``."""

    async def get(self, job_id: str) -> None:
        fmt = self.get_query_argument("format", None)
        if fmt is not None and fmt not in FORMAT_FILES:
            raise Problem(400, f"Unknown format {fmt!r}; one of: {', '.join(FORMAT_FILES)}")
        download = await self.run(self.app.result_download, job_id, fmt, user=self.scope)
        charset = "; charset=utf-8" if download.media_type.startswith("text/") else ""
        self.send_file(download.data, download.name, download.media_type + charset, fallback=job_id)


class SourceHandler(DownloadHandler):
    """``GET /jobs/{id}/source``: the original upload as stored."""

    async def get(self, job_id: str) -> None:
        job = await self.run(self.app.get, job_id, user=self.scope)
        data = await self.run(self.app.source_bytes, job_id, user=self.scope)
        if data is None:
            raise Problem(410, f"The original of job {job_id} is no longer kept.")
        self.send_file(data, job.filename, "application/octet-stream", fallback=job_id)


class SearchHandler(ApiHandler):
    """``GET /search?q=...``: the passages that best answer the query, over the caller's retrieval jobs (an admin
    searches everyone's); ``top`` (1-50, default 5) and ``job`` (repeatable) narrow it, ``mode`` (hybrid, semantic,
    keyword) says how they are found."""

    async def get(self) -> None:
        sent = self.get_query_argument("q", "", strip=False)  # as long as sent: control characters become spaces
        query = sent.strip()
        if not query or len(sent) > MAX_QUERY_CHARS:
            raise Problem(400, f"q must be a query of 1 to {MAX_QUERY_CHARS} characters, not only spaces")
        top = self.whole_number("top", SEARCH_TOP)
        try:
            mode = SearchMode(self.get_query_argument("mode", SearchMode.HYBRID.value))
        except ValueError:
            raise Problem(400, f"mode must be one of {', '.join(m.value for m in SearchMode)}") from None
        reason = retrieval_unavailable() if mode is not SearchMode.KEYWORD else None
        if reason:
            raise Problem(503, reason)
        jobs = self.get_query_arguments("job") or None
        hits = await self.run(self.app.search, query, top_k=top, jobs=jobs, user=self.scope, mode=mode)
        self.send_json({"query": query, "mode": mode.value, "hits": [hit.to_dict() for hit in hits]})
