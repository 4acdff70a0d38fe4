"""``Client``: the API from ordinary (blocking) Python: scripts, ETL jobs, notebooks."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import httpx
from httpx_sse import SSEError, connect_sse

from pipeline.client import calls
from pipeline.client.calls import Document, JobRef, job_id
from pipeline.client.errors import Conflict, StreamLost, raise_for_problem
from pipeline.client.models import RemoteJob, SearchHit

if TYPE_CHECKING:
    import pandas as pd


class Client:
    """One Paperline server's API. ``token`` is a personal API token (``paperline token create``); a server
    without sign-in needs none. ``transport`` is httpx's (tests, proxies); ``timeout`` is per request."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.http = httpx.Client(
            base_url=calls.api_root(base_url), headers=calls.headers(token), timeout=timeout, transport=transport
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    # -- jobs ----------------------------------------------------------------------------------------------------
    @overload
    def submit(self, documents: Document, **options: Any) -> RemoteJob: ...
    @overload
    def submit(self, documents: list[Document], **options: Any) -> list[RemoteJob]: ...

    def submit(self, documents: Document | list[Document], **options: Any) -> RemoteJob | list[RemoteJob]:
        """Upload one document (a path, bytes, or a ``(name, bytes or file)`` pair) or a list of them. Options are
        the form's fields: ``profile``, ``engine``, ``instruction`` and whatever else the server takes. One
        document gives its job; a list gives every job (a refused document's is a failed job with ``error``)."""
        request, single = calls.upload(documents, options)
        with ExitStack() as stack:
            jobs = calls.jobs_of(self.http.post("/jobs", **request.open(stack)))
        return jobs[0] if single else jobs

    def get(self, job: JobRef) -> RemoteJob:
        return calls.job_of(self.http.get(f"/jobs/{job_id(job)}"))

    def jobs(self, *, status: str | None = None, name: str | None = None, page_size: int = 100) -> Iterator[RemoteJob]:
        """Every job the caller sees, newest first, page by page as they are read."""
        params: dict[str, Any] = {"limit": page_size, "status": status, "name": name}
        while True:
            page = calls.json_of(self.http.get("/jobs", params={k: v for k, v in params.items() if v is not None}))
            yield from (RemoteJob.from_dict(job) for job in page["jobs"])
            if not page.get("next_cursor"):
                return
            params["cursor"] = page["next_cursor"]

    def cancel(self, job: JobRef) -> RemoteJob:
        return calls.job_of(self.http.post(f"/jobs/{job_id(job)}/cancel"))

    def retry(self, job: JobRef) -> RemoteJob:
        """Run a failed job's failed chunks (or its last step) again, or a canceled job from where it stopped."""
        return calls.job_of(self.http.post(f"/jobs/{job_id(job)}/retry"))

    def delete(self, job: JobRef) -> RemoteJob:
        """Delete an ended job's files; its history stays."""
        return calls.job_of(self.http.delete(f"/jobs/{job_id(job)}"))

    def chunks(self, job: JobRef) -> list[dict[str, Any]]:
        return list(calls.json_of(self.http.get(f"/jobs/{job_id(job)}/chunks"))["chunks"])

    def events(self, job: JobRef) -> list[dict[str, Any]]:
        return list(calls.json_of(self.http.get(f"/jobs/{job_id(job)}/events"))["events"])

    # -- results -------------------------------------------------------------------------------------------------
    def result_bytes(self, job: JobRef, format: str | None = None) -> bytes:
        params = {"format": format} if format else {}
        response = self.http.get(f"/jobs/{job_id(job)}/result", params=params)
        raise_for_problem(response)
        return response.content

    def result(self, job: JobRef, format: str | None = None) -> str:
        """A completed job's result in ``format`` (text, markdown, json, csv, tables, ...; default: its profile's
        main one) as text."""
        return self.result_bytes(job, format).decode("utf-8")

    def tables(self, job: JobRef, *, raw: bool = False) -> list[pd.DataFrame]:
        """The document's tables as pandas DataFrames, in its order: every header row kept (several make a column
        MultiIndex), columns of numbers read as numbers ("1,234" is 1234, "(12)" is -12, "12.5%" is 0.125, a dash is
        missing); ``raw=True`` keeps every cell's text as printed. Each frame's ``attrs`` name the table (``index``,
        ``pages``, ``caption``, ``header_rows``). An empty list for a completed job without tables; ``Conflict``
        while the job has no result yet."""
        try:
            stored: dict[str, bytes | None] = {"tables": self.result_bytes(job, "tables")}
        except Conflict:
            if self.get(job).status == "completed":
                return []
            raise
        if calls.tables_need_tree(stored["tables"] or b"{}"):
            try:
                stored["json"] = self.result_bytes(job, "json")
            except Conflict:
                pass
        return calls.frames_of(stored, raw=raw)

    def download(self, job: JobRef, path: str | Path, format: str | None = None) -> Path:
        target = Path(path)
        target.write_bytes(self.result_bytes(job, format))
        return target

    def source(self, job: JobRef) -> bytes:
        response = self.http.get(f"/jobs/{job_id(job)}/source")
        raise_for_problem(response)
        return response.content

    def search(
        self, query: str, *, top: int = 5, jobs: Sequence[JobRef] | None = None, mode: str = "hybrid"
    ) -> list[SearchHit]:
        """Passages that best answer ``query``; ``mode``: "hybrid" (meaning and words), "semantic" or "keyword"."""
        return calls.hits_of(self.http.get("/search", params=calls.search_params(query, top, jobs, mode)))

    def health(self) -> dict[str, Any]:
        return calls.health_of(self.http.get("/health"))

    # -- following a job -----------------------------------------------------------------------------------------
    def wait(self, job: JobRef, *, timeout: float | None = None, progress: bool = False) -> RemoteJob:
        """Follow the job's event stream to its end and give the final job. A stream that breaks off is opened
        again with ``Last-Event-ID`` (nothing missed, nothing twice); ``progress`` shows a tqdm bar of pages.
        Raises ``StreamLost`` after ``timeout`` seconds or when the server stays unreachable."""
        follower = calls.Follower(job_id(job), progress=progress, description=getattr(job, "filename", ""))
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise StreamLost(f"job {follower.job} did not end within {timeout} s")
                read_timeout = calls.STREAM_READ_TIMEOUT_S if left is None else min(left, calls.STREAM_READ_TIMEOUT_S)
                try:
                    with connect_sse(
                        self.http,
                        "GET",
                        f"/jobs/{follower.job}/events/stream",
                        headers=follower.request_headers(),
                        timeout=httpx.Timeout(self.http.timeout.connect, read=read_timeout),
                    ) as source:
                        if not source.response.is_success:
                            source.response.read()
                            raise_for_problem(source.response)
                        for event in source.iter_sse():
                            final = follower.feed(event)
                            if final is not None:
                                return final
                    follower.lost("the stream ended before the job did")
                except (httpx.TransportError, SSEError) as exc:
                    follower.lost(str(exc) or type(exc).__name__)
                pause = follower.backoff_s()
                time.sleep(pause if deadline is None else max(0.0, min(pause, deadline - time.monotonic())))
        finally:
            follower.close()
