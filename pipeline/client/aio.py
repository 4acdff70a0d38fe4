"""``AsyncClient``: the same API as ``Client`` for asyncio programs (a web service, many jobs followed at once)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import httpx
from httpx_sse import SSEError, aconnect_sse

from pipeline.client import calls
from pipeline.client.calls import Document, JobRef, job_id
from pipeline.client.errors import Conflict, StreamLost, raise_for_problem
from pipeline.client.models import RemoteJob, SearchHit

if TYPE_CHECKING:
    import pandas as pd


class AsyncClient:
    """One Paperline server's API, awaited; see ``Client`` for what each call does."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.http = httpx.AsyncClient(
            base_url=calls.api_root(base_url), headers=calls.headers(token), timeout=timeout, transport=transport
        )

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    @overload
    async def submit(self, documents: Document, **options: Any) -> RemoteJob: ...
    @overload
    async def submit(self, documents: list[Document], **options: Any) -> list[RemoteJob]: ...

    async def submit(self, documents: Document | list[Document], **options: Any) -> RemoteJob | list[RemoteJob]:
        request, single = calls.upload(documents, options)
        with ExitStack() as stack:  # (files are read as the request is sent)
            jobs = calls.jobs_of(await self.http.post("/jobs", **request.open(stack)))
        return jobs[0] if single else jobs

    async def get(self, job: JobRef) -> RemoteJob:
        return calls.job_of(await self.http.get(f"/jobs/{job_id(job)}"))

    async def jobs(
        self, *, status: str | None = None, name: str | None = None, page_size: int = 100
    ) -> AsyncIterator[RemoteJob]:
        params: dict[str, Any] = {"limit": page_size, "status": status, "name": name}
        while True:
            response = await self.http.get("/jobs", params={k: v for k, v in params.items() if v is not None})
            page = calls.json_of(response)
            for job in page["jobs"]:
                yield RemoteJob.from_dict(job)
            if not page.get("next_cursor"):
                return
            params["cursor"] = page["next_cursor"]

    async def cancel(self, job: JobRef) -> RemoteJob:
        return calls.job_of(await self.http.post(f"/jobs/{job_id(job)}/cancel"))

    async def retry(self, job: JobRef) -> RemoteJob:
        return calls.job_of(await self.http.post(f"/jobs/{job_id(job)}/retry"))

    async def delete(self, job: JobRef) -> RemoteJob:
        return calls.job_of(await self.http.delete(f"/jobs/{job_id(job)}"))

    async def chunks(self, job: JobRef) -> list[dict[str, Any]]:
        return list(calls.json_of(await self.http.get(f"/jobs/{job_id(job)}/chunks"))["chunks"])

    async def events(self, job: JobRef) -> list[dict[str, Any]]:
        return list(calls.json_of(await self.http.get(f"/jobs/{job_id(job)}/events"))["events"])

    async def result_bytes(self, job: JobRef, format: str | None = None) -> bytes:
        params = {"format": format} if format else {}
        response = await self.http.get(f"/jobs/{job_id(job)}/result", params=params)
        raise_for_problem(response)
        return response.content

    async def result(self, job: JobRef, format: str | None = None) -> str:
        return (await self.result_bytes(job, format)).decode("utf-8")

    async def tables(self, job: JobRef, *, raw: bool = False) -> list[pd.DataFrame]:
        """The document's tables as pandas DataFrames, in its order: every header row kept (several make a column
        MultiIndex), columns of numbers read as numbers ("1,234" is 1234, "(12)" is -12, "12.5%" is 0.125, a dash is
        missing); ``raw=True`` keeps every cell's text as printed. Each frame's ``attrs`` name the table (``index``,
        ``pages``, ``caption``, ``header_rows``). An empty list for a completed job without tables; ``Conflict``
        while the job has no result yet."""
        try:
            stored: dict[str, bytes | None] = {"tables": await self.result_bytes(job, "tables")}
        except Conflict:
            if (await self.get(job)).status == "completed":
                return []
            raise
        if calls.tables_need_tree(stored["tables"] or b"{}"):
            try:
                stored["json"] = await self.result_bytes(job, "json")
            except Conflict:
                pass
        return calls.frames_of(stored, raw=raw)

    async def download(self, job: JobRef, path: str | Path, format: str | None = None) -> Path:
        target = Path(path)
        target.write_bytes(await self.result_bytes(job, format))
        return target

    async def source(self, job: JobRef) -> bytes:
        response = await self.http.get(f"/jobs/{job_id(job)}/source")
        raise_for_problem(response)
        return response.content

    async def search(
        self, query: str, *, top: int = 5, jobs: Sequence[JobRef] | None = None, mode: str = "hybrid"
    ) -> list[SearchHit]:
        """Passages that best answer ``query``; ``mode``: "hybrid" (meaning and words), "semantic" or "keyword"."""
        return calls.hits_of(await self.http.get("/search", params=calls.search_params(query, top, jobs, mode)))

    async def health(self) -> dict[str, Any]:
        return calls.health_of(await self.http.get("/health"))

    async def wait(self, job: JobRef, *, timeout: float | None = None, progress: bool = False) -> RemoteJob:
        follower = calls.Follower(job_id(job), progress=progress, description=getattr(job, "filename", ""))
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise StreamLost(f"job {follower.job} did not end within {timeout} s")
                read_timeout = calls.STREAM_READ_TIMEOUT_S if left is None else min(left, calls.STREAM_READ_TIMEOUT_S)
                try:
                    async with aconnect_sse(
                        self.http,
                        "GET",
                        f"/jobs/{follower.job}/events/stream",
                        headers=follower.request_headers(),
                        timeout=httpx.Timeout(self.http.timeout.connect, read=read_timeout),
                    ) as source:
                        if not source.response.is_success:
                            await source.response.aread()
                            raise_for_problem(source.response)
                        async for event in source.aiter_sse():
                            final = follower.feed(event)
                            if final is not None:
                                return final
                    follower.lost("the stream ended before the job did")
                except (httpx.TransportError, SSEError) as exc:
                    follower.lost(str(exc) or type(exc).__name__)
                pause = follower.backoff_s()
                await asyncio.sleep(pause if deadline is None else max(0.0, min(pause, deadline - time.monotonic())))
        finally:
            follower.close()
