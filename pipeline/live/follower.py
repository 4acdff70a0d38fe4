"""One reader of the store's changes per process, telling every listener what changed.

A server process has two audiences for the same changes: the dashboard's feed (every session) and the HTTP API's
event streams (every open stream). Each used to follow the store on its own thread; now one ``ChangeFollower``
reads ``changes_since`` once per tick, woken by PostgreSQL's NOTIFY or every ``interval`` on SQLite, and hands the
same ``Changes`` to each listener. The listeners do their own follow-up reads (the feed's health and analytics,
the streams' new events of watched jobs), each through the service.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from typing import Any, Protocol

from pipeline.core import transient
from pipeline.service.paperline import Paperline
from pipeline.store import Changes

log = logging.getLogger("paperline.live")


class ChangeListener(Protocol):
    """What a follower tells: the changes of each tick, or that the store cannot be read now (a transient fault:
    a restart, a network cut). Each call's answer is handed back by ``ChangeFollower.poll``."""

    def take_changes(self, changes: Changes, now: float) -> Any: ...

    def store_unreachable(self, now: float) -> Any: ...


class ChangeFollower:
    """Follows the store's revisions for the whole process; listeners join and leave at any time."""

    def __init__(self, app: Paperline, *, interval: float = 0.2, slow_interval: float = 1.0) -> None:
        self.app = app
        #: seconds between reads when the store cannot announce its commits, and the safety-net period when it can
        self.interval, self.slow_interval = interval, slow_interval
        self.revision = 0
        #: reads of ``changes_since`` so far: what following costs the store, whoever listens
        self.reads = 0
        self._listeners: dict[int, ChangeListener] = {}
        self._ids = itertools.count(1)
        self._lock = threading.RLock()  # one tick at a time, listeners told in the order the store changed
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def listen(self, listener: ChangeListener, *, from_start: bool = False) -> int:
        """Tell ``listener`` of every tick from now on; returns the key to ``forget`` it by.

        ``from_start``: a listener that keeps the whole picture (the dashboard's feed) first gets every job and
        chunk, also when it joins a follower that is already past them. Otherwise only what changes from now on:
        the first such listener of a follower that has read nothing yet moves it to the store's present."""
        key = next(self._ids)
        with self._lock:
            if from_start and self.revision > 0:
                listener.take_changes(self.app.changes_since(0), time.time())
            elif not from_start and self.revision == 0 and not self._listeners:
                self.revision = self.app.changes_since(2**62).revision
                self.reads += 1
            self._listeners[key] = listener
        return key

    def forget(self, key: int) -> None:
        with self._lock:
            self._listeners.pop(key, None)

    def poll(self, now: float | None = None) -> dict[int, Any]:
        """Read what changed since the last tick and tell every listener; returns each listener's answer by key.
        A transient fault of the store is told as ``store_unreachable``; any other error is raised."""
        now = time.time() if now is None else now
        with self._lock:
            listeners = list(self._listeners.items())
            try:
                changes = self.app.changes_since(self.revision)
            except Exception as exc:
                if not transient.is_transient(exc):
                    raise
                log.warning("the job store cannot be read: %s", exc)
                return {key: listener.store_unreachable(now) for key, listener in listeners}
            self.reads += 1
            self.revision = changes.revision
            return {key: listener.take_changes(changes, now) for key, listener in listeners}

    # -- the thread ------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Follow on a background thread (idempotent): store reads stay off the server's event loop."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="paperline-follower", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        # A store that announces its commits (PostgreSQL LISTEN/NOTIFY) wakes the follower at once, and a slow poll
        # stays as the safety net; otherwise the follower polls every ``interval``.
        wait_s = self.slow_interval if self.app.notifies_changes else self.interval
        while not self._stop.is_set():
            try:
                self.app.wait_for_change(wait_s)
                if not self._stop.is_set():
                    self.poll()
            except Exception:  # a locked or missing database must not end following for every listener
                log.exception("following the store's changes failed; trying again")
                self._stop.wait(self.interval)
