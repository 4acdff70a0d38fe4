"""The HTTP API served in the test's own process: the Tornado application of ``pipeline.api.api_routes`` (the very
handlers ``paperline serve`` serves beside the dashboard) on a thread with its own event loop, on a port of
127.0.0.1 the kernel chose, stopped after the test.

What it leaves out is what only the real server has, and the tests of those keep starting ``paperline serve``
(``serve_dashboard``): Panel's sign-in pages and cookies (a server here either asks no one to sign in, as
``paperline serve`` on loopback without ``--basic-auth``, or, with ``sign_in=True``, has a Bokeh auth provider by
which no request is signed in, so every call needs a personal token, as with ``--basic-auth`` for a program that
sends no cookie), the Host check and cookie rules of ``dashboard.server``, ``/metrics``, the page and its websocket,
process limits and shutdown. The API's per-process state (the server context, the rate limiter, the
stream hubs, the health check, the keepalive interval) is made afresh for each server from the environment the
test gives it, as a new ``paperline serve`` process would read it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from bokeh.server.auth_provider import AuthProvider
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application

from pipeline.api import api_routes, sse
from pipeline.core.settings import Settings
from pipeline.live import ChangeFollower
from pipeline.server import context
from pipeline.server.edge import websocket_origins
from pipeline.service.paperline import Paperline

STOP_TIMEOUT_S = 30


class NobodySignedIn(AuthProvider):
    """A server where users sign in (what the API asks of ``auth_provider``), reached by a program without a
    sign-in cookie: no request is anyone's but by its token."""

    @property
    def get_user(self) -> Callable[[Any], None]:
        return lambda _handler: None

    @property
    def login_url(self) -> str:
        return "/login"


class ApiServer:
    """One API server on a thread: ``start()`` returns its base URL (``http://127.0.0.1:PORT/api/v1``)."""

    def __init__(self, *, sign_in: bool = False) -> None:
        self.sockets = bind_sockets(0, "127.0.0.1")  # bound here: no other process can take the port meanwhile
        self.port = self.sockets[0].getsockname()[1]
        self.application = Application(api_routes())
        # What Bokeh's application carries in `paperline serve --address 127.0.0.1`: the origins a page may come
        # from, which the API's cross-site check reads.
        self.application.websocket_origins = set(websocket_origins("", "127.0.0.1", self.port))  # type: ignore[attr-defined]
        if sign_in:
            self.application.auth_provider = NobodySignedIn()  # type: ignore[attr-defined]
        self.ready = threading.Event()
        self.failure: BaseException | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stopping: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._run, name=f"api-server-{self.port}", daemon=True)

    def start(self) -> str:
        self.thread.start()
        if not self.ready.wait(STOP_TIMEOUT_S) or self.failure is not None:
            raise AssertionError(f"the in-process API server did not start: {self.failure!r}")
        return f"http://127.0.0.1:{self.port}/api/v1"

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported by start() or stop(), on the test's thread
            self.failure = exc
            self.ready.set()

    async def _serve(self) -> None:
        server = HTTPServer(self.application)
        server.add_sockets(self.sockets)
        self.loop, self.stopping = asyncio.get_running_loop(), asyncio.Event()
        self.ready.set()
        await self.stopping.wait()
        server.stop()
        # An open event stream notices its closed connection at its next write (a keepalive at the latest).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.close_all_connections(), STOP_TIMEOUT_S / 2)

    def stop(self) -> None:
        if self.loop is not None and self.stopping is not None:
            self.loop.call_soon_threadsafe(self.stopping.set)
        self.thread.join(STOP_TIMEOUT_S)
        assert not self.thread.is_alive(), "the in-process API server did not stop"
        if self.failure is not None:
            raise AssertionError("the in-process API server failed") from self.failure


def fresh_server_state(monkeypatch: pytest.MonkeyPatch, env: Mapping[str, str]) -> context.ServerContext:
    """The environment ``env`` for this process (Paperline's own variables replaced whole), and the API's
    per-process state made from it, as a fresh server process would; all undone by ``monkeypatch`` afterwards."""
    import os

    for name in [name for name in os.environ if name.startswith("PAPERLINE_")]:
        if name not in env:
            monkeypatch.delenv(name)
    for name, value in env.items():
        if os.environ.get(name) != value:
            monkeypatch.setenv(name, value)
    settings = Settings.from_env()
    app = Paperline(settings)
    server = context.ServerContext(app=app, follower=ChangeFollower(app))
    monkeypatch.setattr(context, "_context", server)
    monkeypatch.setattr(sse, "HEARTBEAT_S", settings.api_heartbeat_s)
    return server


def close_server_state(server: context.ServerContext) -> None:
    server.follower.stop()
    server.app.close()
