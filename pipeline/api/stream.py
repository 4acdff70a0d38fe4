"""``GET /jobs/{id}/events/stream``: a job's progress as Server-Sent Events, to its end.

The process's ``JobHub`` (``pipeline.api.sse``) reads the new events of the watched jobs that changed, once per
tick however many clients watch them. Each stream reads the store itself only when it opens (the job, and the
events a ``Last-Event-ID`` missed) and ends.

Messages: ``event: job-event`` (an audit event; its SSE id is the event's, so a client that reconnects with
``Last-Event-ID`` gets exactly what it missed), ``event: chunk`` (a chunk's state, pages done, whenever it moves)
and ``event: progress`` (the job's state whenever it changes), neither replayed (the next one says it all),
and ``event: end`` (the final job) before the server closes the stream; heartbeats and token checks as every
stream of the API (``pipeline.api.sse``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pipeline.api.handlers import event_dict
from pipeline.api.sse import StreamHandler, StreamHub, sse
from pipeline.core.metrics import API_STREAM_READS
from pipeline.core.models import Chunk, Event, Job
from pipeline.live import Changes
from pipeline.server.context import ServerContext


class JobHub(StreamHub):
    """Keyed by job: a changed job's new events, its chunks that moved, and the job itself."""

    def __init__(self, context: ServerContext) -> None:
        super().__init__(context)
        self._last_event: dict[str, int] = {}

    def first_watcher(self, job_id: str) -> None:  # start after the job's latest event
        events = self.app.events(job_id)
        self._last_event[job_id] = events[-1].id if events else 0
        API_STREAM_READS.inc()

    def last_watcher_gone(self, job_id: str) -> None:
        self._last_event.pop(job_id, None)

    def touched(self, changes: Changes) -> set[str]:
        return {job.id for job in changes.jobs} | {chunk.job_id for chunk in changes.chunks}

    def items(self, job_id: str, changes: Changes) -> list[Any]:
        with self._lock:
            after = self._last_event.get(job_id, 0)
        events = self.app.events(job_id, after_id=after)
        with self._lock:
            if events and job_id in self._last_event:
                self._last_event[job_id] = events[-1].id
        chunks: dict[str, list[Chunk]] = defaultdict(list)
        for chunk in changes.chunks:
            chunks[chunk.job_id].append(chunk)
        jobs = [job for job in changes.jobs if job.id == job_id]
        return [*events, *chunks.get(job_id, []), *jobs[-1:]]


class EventStreamHandler(StreamHandler):
    """The stream of one job (see the module's docstring)."""

    hub = JobHub

    async def get(self, job_id: str) -> None:
        self.job = await self.run(self.app.get, job_id, user=self.scope)  # 404 for an unknown or another's job
        try:
            self.sent = int(self.request.headers.get("Last-Event-ID", "0") or 0)
        except ValueError:
            self.sent = 0
        await self.follow(job_id)

    async def opening(self, job_id: str) -> bool:
        for event in await self.run(self.app.events, job_id, after_id=self.sent):
            self._event(event)
        self.job = await self.run(self.app.get, job_id)
        self.write(sse("progress", self.job.to_dict()))
        return self.job.is_final

    async def take(self, item: Any) -> tuple[bool, bool]:
        if isinstance(item, Event):
            if item.id <= self.sent:
                return False, False
            self._event(item)
        elif isinstance(item, Chunk):
            self.write(sse("chunk", item.to_dict()))
        elif isinstance(item, Job):
            self.job = item
            self.write(sse("progress", item.to_dict()))
        return True, self.job.is_final

    async def closing(self, job_id: str) -> None:
        # The final job's last events may come in the same tick or just after: read what is left, then end.
        for event in await self.run(self.app.events, job_id, after_id=self.sent):
            self._event(event)
        self.write(sse("end", (await self.run(self.app.get, job_id)).to_dict()))

    def _event(self, event: Event) -> None:
        self.write(sse("job-event", event_dict(event), event.id))
        self.sent = event.id
