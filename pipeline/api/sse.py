"""Server-Sent Events for every stream of the API: one hub per kind of stream and process, one handler loop.

A ``StreamHub`` fans the process's store changes (the server context's one ``pipeline.live.ChangeFollower``,
shared with the dashboard's feed) out to the streams that watch what changed, and listens to the follower only
while someone watches; what it reads for a change, it reads once however many clients watch it. A
``StreamHandler`` writes a stream: its opening messages, then each item the hub hands it, a comment line every
``HEARTBEAT_S`` so proxies keep an idle stream open, and its closing message. A stream opened with a token lasts
only as long as the token: checked again at least every ``TOKEN_RECHECK_S``, and once revoked or expired (or its
user may no longer sign in) the stream ends with ``event: end`` whose data is a 401 problem, and closes.
"""

from __future__ import annotations

import abc
import asyncio
import json
import threading
from collections import defaultdict
from typing import Any

from tornado.iostream import StreamClosedError

from pipeline.api.handlers import ApiHandler
from pipeline.api.problems import Problem
from pipeline.core.metrics import API_STREAM_READS
from pipeline.core.settings import Settings
from pipeline.live import Changes
from pipeline.server.context import ServerContext, server_context

HEARTBEAT_S = Settings.from_env().api_heartbeat_s
TOKEN_RECHECK_S = min(HEARTBEAT_S, 5.0)

Subscriber = tuple[asyncio.AbstractEventLoop, asyncio.Queue]


def sse(kind: str, data: dict[str, Any], event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data)}\n\n"


class StreamHub(abc.ABC):
    """Streams subscribed by key (a job's id, a batch's id); see the module's docstring."""

    def __init__(self, context: ServerContext) -> None:
        self.app, self.follower = context.app, context.follower
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[Subscriber]] = defaultdict(set)
        self._listening: int | None = None

    @abc.abstractmethod
    def touched(self, changes: Changes) -> set[str]:
        """The keys a tick's changes concern."""

    @abc.abstractmethod
    def items(self, key: str, changes: Changes) -> list[Any]:
        """What the streams of ``key`` are told about a tick that touched it (read once for all of them)."""

    def first_watcher(self, key: str) -> None:
        """Called (under the hub's lock) when ``key`` gets its first stream."""
        return None

    def last_watcher_gone(self, key: str) -> None:
        """Called (under the hub's lock) when ``key``'s last stream closed."""
        return None

    def subscribe(self, key: str, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue) -> None:
        with self._lock:
            if key not in self._subscribers:
                self.first_watcher(key)
            self._subscribers[key].add((loop, queue))
            if self._listening is None:
                self._listening = self.follower.listen(self)
                self.follower.start()

    def unsubscribe(self, key: str, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue) -> None:
        with self._lock:
            self._subscribers[key].discard((loop, queue))
            if not self._subscribers[key]:
                del self._subscribers[key]
                self.last_watcher_gone(key)
            if not self._subscribers and self._listening is not None:
                self.follower.forget(self._listening)
                self._listening = None

    def take_changes(self, changes: Changes, now: float) -> None:
        touched = self.touched(changes)
        with self._lock:
            watched = {key: set(subs) for key, subs in self._subscribers.items() if key in touched}
        for key, subscribers in watched.items():
            items = self.items(key, changes)
            API_STREAM_READS.inc()  # once per changed key, however many watch it
            for loop, queue in subscribers:
                for item in items:
                    loop.call_soon_threadsafe(queue.put_nowait, item)

    def store_unreachable(self, now: float) -> None:
        """Streams keep waiting: the follower tries again, and a stream's own heartbeat keeps it open."""
        return None


class StreamHandler(ApiHandler):
    """One stream of ``hub`` (a ``StreamHub`` class: its one instance per process is the server context's)."""

    hub: type[StreamHub]

    @abc.abstractmethod
    async def opening(self, key: str) -> bool:
        """Write the stream's first messages; whether what it follows has already ended."""

    @abc.abstractmethod
    async def take(self, item: Any) -> tuple[bool, bool]:
        """Write what ``item`` says, if anything: (whether anything was written, whether it has ended)."""

    @abc.abstractmethod
    async def closing(self, key: str) -> None:
        """Write the stream's last messages (``event: end``)."""

    async def follow(self, key: str) -> None:
        """The stream of ``key``, from subscribing (before anything is read, so nothing falls between) to its end,
        the token's, or the client's going away."""
        hub = server_context().part(self.hub)
        loop, queue = asyncio.get_running_loop(), asyncio.Queue[Any]()
        await self.run(hub.subscribe, key, loop, queue)
        try:
            self.set_header("Content-Type", "text/event-stream; charset=utf-8")
            self.set_header("X-Accel-Buffering", "no")  # nginx: pass each message on at once
            ended = await self.opening(key)
            await self.flush()
            checked = wrote = loop.time()
            while not ended:
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
                written, ended = await self.take(item)
                if written:
                    await self.flush()
                    wrote = now
            await self.closing(key)
            await self.flush()
        except StreamClosedError:
            pass  # the client went away; it may come back (a job's stream with Last-Event-ID)
        finally:
            hub.unsubscribe(key, loop, queue)
