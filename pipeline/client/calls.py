"""What the sync and the async client share: how each call is asked (method, path, parameters, files) and how
its answer is read, and how an event stream is followed to a job's end. Only the sending differs between them."""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

import httpx
from httpx_sse import ServerSentEvent

from pipeline.client.errors import StreamLost, Unauthorized, raise_for_problem
from pipeline.client.models import RemoteJob, SearchHit

if TYPE_CHECKING:
    import pandas as pd

API_PREFIX = "/api/v1"
#: a path, raw bytes (named "document"), or a (file name, bytes or open binary file) pair
Document = str | os.PathLike[str] | bytes | tuple[str, bytes | IO[bytes]]
JobRef = str | RemoteJob
#: how long a stream may stay silent before it counts as lost (the server sends a comment every 15 s)
STREAM_READ_TIMEOUT_S = 60.0
#: consecutive failed reconnections after which ``wait`` gives up
RECONNECTS = 12


def api_root(base_url: str) -> str:
    """``http://host:5006`` or ``http://host:5006/api/v1``: the API's root either way."""
    root = base_url.rstrip("/")
    return root if root.endswith(API_PREFIX) else root + API_PREFIX


def headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def job_id(job: JobRef) -> str:
    return job.id if isinstance(job, RemoteJob) else str(job)


@dataclass
class Upload:
    """A ``POST /jobs`` request's multipart fields and files; files a path names are opened on ``open`` and closed
    with the stack."""

    documents: Sequence[Document]
    fields: dict[str, str] = field(default_factory=dict)

    def open(self, stack: ExitStack) -> dict[str, Any]:
        files: list[tuple[str, tuple[str, bytes | IO[bytes]]]] = []
        for document in self.documents:
            if isinstance(document, bytes):
                files.append(("file", ("document", document)))
            elif isinstance(document, tuple):
                files.append(("file", document))
            else:
                path = Path(document)
                files.append(("file", (path.name, stack.enter_context(path.open("rb")))))
        return {"files": files, "data": self.fields}


def upload(documents: Document | Sequence[Document], options: dict[str, Any]) -> tuple[Upload, bool]:
    """The request for ``submit``, and whether one document (not a list) was given."""
    single = not isinstance(documents, list | tuple) or (
        isinstance(documents, tuple) and len(documents) == 2 and isinstance(documents[0], str)
    )
    listed = cast("list[Document]", [documents] if single else list(documents))  # type: ignore[arg-type]
    if not listed:
        raise ValueError("submit needs at least one document")
    fields = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in options.items() if v is not None}
    return Upload(listed, fields), single


def jobs_of(response: httpx.Response) -> list[RemoteJob]:
    raise_for_problem(response)
    return [RemoteJob.from_dict(job) for job in response.json()["jobs"]]


def job_of(response: httpx.Response) -> RemoteJob:
    raise_for_problem(response)
    return RemoteJob.from_dict(response.json())


def hits_of(response: httpx.Response) -> list[SearchHit]:
    raise_for_problem(response)
    return [SearchHit.from_dict(hit) for hit in response.json()["hits"]]


def json_of(response: httpx.Response) -> Any:
    raise_for_problem(response)
    return response.json()


def health_of(response: httpx.Response) -> dict[str, Any]:
    """``/health``'s report: also a 503's (the server's store is down, and it says so in JSON); any other answer
    that is not 2xx raises."""
    if response.status_code == 503:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            return body
    return dict(json_of(response))


def search_params(
    query: str, top: int, jobs: Sequence[JobRef] | None, mode: str = "hybrid"
) -> list[tuple[str, str | int | float | bool | None]]:
    params: list[tuple[str, str | int | float | bool | None]] = [("q", query), ("top", top), ("mode", mode)]
    params += [("job", job_id(job)) for job in jobs or ()]
    return params


def progress_bar(description: str) -> Any:
    """A bar of pages from ``tqdm.auto``: in Jupyter one widget updated in place (ipywidgets, the ``notebook``
    extra), in a terminal a line of text. Jupyter without ipywidgets gets the text bar, without tqdm's warning
    about the missing widgets ("IProgress not found") on every first use."""
    import warnings

    from tqdm import TqdmWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TqdmWarning)  # tqdm.auto warns as it is first imported
        from tqdm.auto import tqdm

    return tqdm(total=None, unit="page", desc=description, leave=True)


class Follower:
    """Reads one job's event stream: remembers the last event id (to reconnect with ``Last-Event-ID``), moves a
    progress bar when asked, and gives the final job at ``event: end``."""

    def __init__(self, job: str, *, progress: bool, description: str = "") -> None:
        self.job = job
        self.last_event_id = ""
        self.failures = 0
        self.latest: RemoteJob | None = None
        self._bar: Any = progress_bar(description or job) if progress else None

    def request_headers(self) -> dict[str, str]:
        return {"Last-Event-ID": self.last_event_id} if self.last_event_id else {}

    def feed(self, event: ServerSentEvent) -> RemoteJob | None:
        """The final job when the stream says the job ended, else None."""
        self.failures = 0
        if event.id:
            self.last_event_id = event.id
        if event.event == "progress":
            self._show(RemoteJob.from_dict(event.json()))
        elif event.event == "end":
            data = event.json()
            if isinstance(data.get("status"), int):  # the stream's token stopped working: a problem, not a job
                raise Unauthorized(int(data["status"]), str(data.get("detail", "")), data)
            final = RemoteJob.from_dict(data)
            self._show(final)
            self.close()
            return final
        return None

    def lost(self, reason: str) -> None:
        """The stream broke off (or ended without saying the job ended): count it, give up after too many."""
        self.failures += 1
        if self.failures > RECONNECTS:
            self.close()
            raise StreamLost(f"the event stream of job {self.job} kept breaking off: {reason}")

    def backoff_s(self) -> float:
        return min(10.0, 0.25 * 2 ** max(0, self.failures - 1))

    def _show(self, job: RemoteJob) -> None:
        self.latest = job
        if self._bar is not None:
            if job.pages and self._bar.total != job.pages:
                self._bar.reset(total=job.pages)  # (a widget's length changes only through reset)
            self._bar.n = job.pages_done
            self._bar.set_postfix_str(job.stage or job.status, refresh=False)
            self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def text_of(response: httpx.Response) -> str:
    raise_for_problem(response)
    return response.content.decode("utf-8")


def tables_need_tree(tables: bytes) -> bool:
    """Whether some table's caption must be read from the JSON tree (tables written before they carried one)."""
    import json

    return any(not table.get("caption") for table in json.loads(tables).get("tables", []))


def frames_of(stored: dict[str, bytes | None], *, raw: bool) -> list[pd.DataFrame]:
    """The tables of a job's results (``stored``: bytes by format) as DataFrames (``pipeline.tables.frames``)."""
    from pipeline.tables.frames import table_frames
    from pipeline.tables.results import tables_of

    found, captions, _ = tables_of(stored.get)
    return table_frames(found, raw=raw, captions=captions)
