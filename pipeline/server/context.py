"""What one server process shares among every session, request and stream: one ``Paperline`` (one pool of store
connections, one in-memory passage index) and one follower of the store's changes.

The dashboard's feed and the HTTP API both take theirs from ``server_context()``, so a process never holds two
pools, loads the search vectors twice or reads the store's changes on two threads.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from pipeline.core.settings import Settings
from pipeline.live import ChangeFollower
from pipeline.service.paperline import Paperline


@dataclass(frozen=True)
class ServerContext:
    app: Paperline
    follower: ChangeFollower


_context: ServerContext | None = None
_lock = threading.Lock()


def server_context() -> ServerContext:
    """This process's context, made on first use (the first page or the first API request)."""
    global _context
    with _lock:
        if _context is None:
            app = Paperline(Settings.from_env())
            _context = ServerContext(app=app, follower=ChangeFollower(app))
        return _context
