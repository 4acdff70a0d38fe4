"""``pipeline.client`` against the HTTP API (served in process) and a real worker: upload, follow to the end (also
across a stream that breaks off), read results, act on jobs, and the API's errors as typed exceptions."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipeline.client import AsyncClient, Client, NotFound, Refused, RemoteJob
from pipeline.service.paperline import Paperline
from tests.docgen import known_text, make_text_pdf

pytestmark = pytest.mark.integration


@pytest.fixture
def base_url(serve_api, start_worker) -> str:  # type: ignore[no-untyped-def]
    start_worker(workers=2)
    return str(serve_api()).removesuffix("/api/v1")


class BreakingStream(httpx.HTTPTransport):
    """A real connection whose first event stream is cut after ``keep`` events (a proxy that drops it), and
    which remembers each stream request's ``Last-Event-ID``."""

    def __init__(self, keep: int) -> None:
        super().__init__()
        self.keep = keep
        self.resumed_from: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if not request.url.path.endswith("/events/stream"):
            return response
        self.resumed_from.append(request.headers.get("Last-Event-ID"))
        if len(self.resumed_from) > 1:
            return response
        return httpx.Response(
            response.status_code, headers=response.headers, stream=_Cut(response, self.keep), request=request
        )


class _Cut(httpx.SyncByteStream):
    def __init__(self, response: httpx.Response, keep: int) -> None:
        self.response, self.keep = response, keep

    def __iter__(self) -> Iterator[bytes]:
        events = 0
        for chunk in self.response.stream:  # type: ignore[union-attr]
            yield chunk
            events += chunk.count(b"\n\n")
            if events >= self.keep:
                break
        self.response.close()
        raise httpx.ReadError("connection dropped by the test's proxy")


def test_the_client_submits_follows_reads_and_acts(app: Paperline, base_url: str, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    pdf = make_text_pdf(tmp_path / "report.pdf", 6)
    with Client(base_url) as paperline:
        job = paperline.submit(pdf, profile="markdown")
        assert isinstance(job, RemoteJob) and job.filename == "report.pdf" and job.profile == "markdown"
        final = paperline.wait(job, timeout=120, progress=True)
        assert final.ok and final.pages == final.pages_done == 6, final
        assert "6/6" in capsys.readouterr().err, "a tqdm bar of pages"
        assert known_text(1).split()[0] in paperline.result(job, "markdown")
        assert paperline.result(job) == paperline.result(job, "markdown"), "the profile's main format by default"
        assert [j.id for j in paperline.jobs(status="completed")] == [job.id]
        assert len(paperline.chunks(job)) >= 1 and paperline.events(job)
        assert paperline.source(job) == pdf.read_bytes()
        out = paperline.download(job, tmp_path / "out.md", "markdown")
        assert out.read_text() == paperline.result(job, "markdown")

        jobs = paperline.submit([pdf, ("notes.txt", b"not a document")])
        assert [j.status for j in jobs] == ["queued", "failed"], "a refused file is a failed job beside the others"
        with pytest.raises(Refused) as refused:
            paperline.submit(("payload.exe", b"MZ\x90\x00"))
        assert refused.value.status == 415 and refused.value.code
        with pytest.raises(NotFound):
            paperline.get("no-such-job")
        canceled = paperline.cancel(jobs[0]) if not paperline.get(jobs[0]).is_final else paperline.get(jobs[0])
        assert paperline.wait(canceled, timeout=60).is_final
        assert paperline.delete(job).id == job.id


def test_wait_resumes_a_broken_stream_from_the_last_event(app: Paperline, base_url: str, tmp_path: Path) -> None:
    transport = BreakingStream(keep=3)
    with Client(base_url, transport=transport) as paperline:
        job = paperline.submit(make_text_pdf(tmp_path / "long.pdf", 30), profile="markdown")
        final = paperline.wait(job, timeout=120)
    assert final.ok, final
    assert len(transport.resumed_from) >= 2, "the stream was opened again"
    assert transport.resumed_from[0] is None and transport.resumed_from[1], "from the last event it had seen"
    seen = [event.id for event in app.events(job.id)]
    assert int(transport.resumed_from[1]) in seen


def test_the_async_client_does_the_same(app: Paperline, base_url: str, tmp_path: Path) -> None:
    pdf = make_text_pdf(tmp_path / "a.pdf", 2)

    async def run() -> tuple[Any, ...]:
        async with AsyncClient(base_url) as paperline:
            jobs = await paperline.submit([pdf, pdf.read_bytes()], profile="text")
            finals = await asyncio.gather(*(paperline.wait(job, timeout=120) for job in jobs))
            texts = [await paperline.result(job) for job in jobs]
            listed = [job.id async for job in paperline.jobs()]
            return finals, texts, listed, jobs

    finals, texts, listed, jobs = asyncio.run(run())
    assert all(final.ok for final in finals), finals
    assert texts[0] == texts[1] and known_text(1).split()[0] in texts[0]
    assert set(listed) == {job.id for job in jobs}
