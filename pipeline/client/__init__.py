"""A Python client for a Paperline server's HTTP API (``/api/v1``), sync and async, on httpx and httpx-sse.

    from pipeline.client import Client
    with Client("http://localhost:5006", token="pl_...") as paperline:
        job = paperline.submit("report.pdf", profile="markdown")
        paperline.wait(job, progress=True)
        print(paperline.result(job, "markdown"))

It talks only HTTP: it imports nothing else of Paperline but ``pipeline.tables`` (reading a result's tables into
DataFrames, pure functions), so a notebook or an ETL job on another machine needs the package, not a job store.
Errors are the API's problem details as exceptions (``pipeline.client.errors``); results are typed
(``pipeline.client.models``).
"""

from __future__ import annotations

from pipeline.client.aio import AsyncClient
from pipeline.client.errors import (
    ApiError,
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    RateLimited,
    Redirected,
    Refused,
    StreamLost,
    Unauthorized,
    Unavailable,
)
from pipeline.client.models import RemoteJob, SearchHit
from pipeline.client.sync import Client

__all__ = [
    "ApiError",
    "AsyncClient",
    "Client",
    "Conflict",
    "Forbidden",
    "Gone",
    "NotFound",
    "RateLimited",
    "Redirected",
    "Refused",
    "RemoteJob",
    "SearchHit",
    "StreamLost",
    "Unauthorized",
    "Unavailable",
]
