"""What one server process shares among every session, request and stream: one ``Paperline`` (one pool of store
connections, one in-memory passage index), one follower of the store's changes, and the parts the API's requests
share (``part``: the stream hubs, the rate limiter, the health check).

The dashboard's feed and the HTTP API both take theirs from ``server_context()``, so a process never holds two
pools, loads the search vectors twice or reads the store's changes on two threads. The embedding model is loaded on
a daemon thread from the server's start (``warm_up``), so the first search does not wait for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pipeline.core.settings import Settings
from pipeline.live import ChangeFollower
from pipeline.profiles.retrieval.embedding import load_in_background
from pipeline.service.paperline import Paperline

T = TypeVar("T")


@dataclass(frozen=True)
class ServerContext:
    app: Paperline
    follower: ChangeFollower
    _parts: dict[Callable[..., Any], Any] = field(default_factory=dict, compare=False, repr=False)
    _parts_lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def part(self, make: Callable[[ServerContext], T]) -> T:
        """This process's one ``make(context)`` (a stream hub, the rate limiter, the health check), made on first
        use: what every request of the process shares lives here, not in module globals."""
        with self._parts_lock:
            if make not in self._parts:
                self._parts[make] = make(self)
            return self._parts[make]


_context: ServerContext | None = None
_lock = threading.Lock()


def warm_up() -> None:
    """At the server's start: load the embedding model in the background when retrieval is installed (once per
    process; a search that comes first waits for that load, never starts a second)."""
    load_in_background()


def server_context() -> ServerContext:
    """This process's context, made on first use (the first page or the first API request)."""
    global _context
    with _lock:
        if _context is None:
            warm_up()
            app = Paperline(Settings.from_env())
            _context = ServerContext(app=app, follower=ChangeFollower(app))
        return _context
