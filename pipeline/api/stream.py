"""``GET /jobs/{id}/events/stream``: a job's progress as Server-Sent Events, to its end.

One ``ChangeHub`` per server process serves every open stream together: while any stream is open it listens to
the process's one follower of the store (``pipeline.live``, shared with the dashboard's feed) and reads the new
events of the watched jobs that changed, however many clients watch them. Each
stream reads the store itself only when it opens (the job, and the events a ``Last-Event-ID`` missed) and ends.

Messages: ``event: job-event`` (an audit event; its SSE id is the event's, so a client that reconnects with
``Last-Event-ID`` gets exactly what it missed), ``event: chunk`` (a chunk's state, pages done, whenever it moves)
and ``event: progress`` (the job's state whenever it changes), neither replayed (the next one says it all),
and ``event: end`` (the final job) before the server closes the stream. A comment line every ``HEARTBEAT_S``
keeps proxies from closing an idle stream.

A stream opened with a token lasts only as long as the token: it is checked again at least every
``TOKEN_RECHECK_S``, and once revoked or expired (or its user may no longer sign in) the stream ends with
``event: end`` whose data is a 401 problem (``status``, ``detail``) instead of a job, and closes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import defaultdict
from typing import Any

from tornado.iostream import StreamClosedError

from pipeline.api.handlers import ApiHandler, event_dict
from pipeline.api.problems import Problem
from pipeline.core.metrics import API_STREAM_READS
from pipeline.core.models import Chunk, Event, Job
from pipeline.core.settings import Settings
from pipeline.live import ChangeFollower, Changes
from pipeline.server.context import server_context
from pipeline.service.paperline import Paperline

log = logging.getLogger("paperline.api.stream")
HEARTBEAT_S = Settings.from_env().api_heartbeat_s
TOKEN_RECHECK_S = min(HEARTBEAT_S, 5.0)


class ChangeHub:
    """Fans the process's store changes (``pipeline.live.ChangeFollower``) out to subscribed streams; listens to the
    follower only while someone watches.

    For each watched job that changed in a tick, the hub reads its new events once: the cost follows the jobs
    watched and changing, never the number of clients watching them."""

    def __init__(self, app: Paperline, follower: ChangeFollower) -> None:
        self.app, self.follower = app, follower
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue]]] = defaultdict(set)
        self._last_event: dict[str, int] = {}
        self._listening: int | None = None

    def subscribe(self, job_id: str, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue) -> None:
        with self._lock:
            if job_id not in self._subscribers:  # the first watcher: start after the job's latest event
                events = self.app.events(job_id)
                self._last_event[job_id] = events[-1].id if events else 0
                API_STREAM_READS.inc()
            self._subscribers[job_id].add((loop, queue))
            if self._listening is None:
                self._listening = self.follower.listen(self)
                self.follower.start()

    def unsubscribe(self, job_id: str, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue) -> None:
        with self._lock:
            self._subscribers[job_id].discard((loop, queue))
            if not self._subscribers[job_id]:
                del self._subscribers[job_id]
                self._last_event.pop(job_id, None)
            if not self._subscribers and self._listening is not None:
                self.follower.forget(self._listening)
                self._listening = None

    def take_changes(self, changes: Changes, now: float) -> None:
        changed = {job.id for job in changes.jobs} | {chunk.job_id for chunk in changes.chunks}
        jobs = {job.id: job for job in changes.jobs}
        chunks: dict[str, list[Chunk]] = defaultdict(list)
        for chunk in changes.chunks:
            chunks[chunk.job_id].append(chunk)
        with self._lock:
            watched = {job_id: set(subs) for job_id, subs in self._subscribers.items() if job_id in changed}
            after = {job_id: self._last_event.get(job_id, 0) for job_id in watched}
        for job_id, subscribers in watched.items():
            events = self.app.events(job_id, after_id=after[job_id])
            API_STREAM_READS.inc()  # once per changed job, however many watch it
            items: list[Any] = [*events, *chunks.get(job_id, []), *([jobs[job_id]] if job_id in jobs else [])]
            with self._lock:
                if events and job_id in self._last_event:
                    self._last_event[job_id] = events[-1].id
            for loop, queue in subscribers:
                for item in items:
                    loop.call_soon_threadsafe(queue.put_nowait, item)

    def store_unreachable(self, now: float) -> None:
        """Streams keep waiting: the follower tries again, and a stream's own heartbeat keeps it open."""


_hub: ChangeHub | None = None
_hub_lock = threading.Lock()


def shared_hub() -> ChangeHub:
    """This process's hub, on the server context's Paperline and follower."""
    global _hub
    with _hub_lock:
        if _hub is None:
            context = server_context()
            _hub = ChangeHub(context.app, context.follower)
        return _hub


def sse(kind: str, data: dict[str, Any], event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data)}\n\n"


class EventStreamHandler(ApiHandler):
    """The stream of one job (see the module's docstring)."""

    async def get(self, job_id: str) -> None:
        app = self.app
        job = await self.run(app.get, job_id, user=self.scope)  # 404 for an unknown or another's job
        try:
            after = int(self.request.headers.get("Last-Event-ID", "0") or 0)
        except ValueError:
            after = 0
        hub = shared_hub()
        queue: asyncio.Queue[Event | Chunk | Job]
        loop, queue = asyncio.get_running_loop(), asyncio.Queue()
        await self.run(hub.subscribe, job_id, loop, queue)  # before reading the backlog, so nothing falls between
        try:
            self.set_header("Content-Type", "text/event-stream; charset=utf-8")
            self.set_header("X-Accel-Buffering", "no")  # nginx: pass each message on at once
            backlog: list[Event] = await self.run(app.events, job_id, after_id=after)
            sent = after
            for event in backlog:
                self.write(sse("job-event", event_dict(event), event.id))
                sent = event.id
            job = await self.run(app.get, job_id)
            self.write(sse("progress", job.to_dict()))
            await self.flush()
            checked = wrote = loop.time()
            while not job.is_final:
                try:
                    item = await asyncio.wait_for(queue.get(), timeout=TOKEN_RECHECK_S)
                except TimeoutError:
                    item = None
                now = loop.time()
                if self.token is not None and (item is None or now - checked >= TOKEN_RECHECK_S):
                    checked = now
                    refusal = await self.run(self.token_refusal)
                    if refusal:
                        self.write(sse("end", Problem(401, refusal).to_dict()))
                        await self.flush()
                        return
                if item is None:
                    if now - wrote >= HEARTBEAT_S:
                        self.write(": keepalive\n\n")
                        await self.flush()
                        wrote = now
                    continue
                if isinstance(item, Event):
                    if item.id > sent:
                        self.write(sse("job-event", event_dict(item), item.id))
                        sent = item.id
                elif isinstance(item, Chunk):
                    self.write(sse("chunk", item.to_dict()))
                elif isinstance(item, Job):
                    job = item
                    self.write(sse("progress", job.to_dict()))
                await self.flush()
                wrote = now
            # The final job's last events may come in the same tick or just after: read what is left, then end.
            for event in await self.run(app.events, job_id, after_id=sent):
                self.write(sse("job-event", event_dict(event), event.id))
            self.write(sse("end", (await self.run(app.get, job_id)).to_dict()))
            await self.flush()
        except StreamClosedError:
            pass  # the client went away; it may come back with Last-Event-ID
        finally:
            hub.unsubscribe(job_id, loop, queue)
