"""`paperline serve` accepts the dashboard's websocket only from the origins the operator names, and sends its
page with a Content-Security-Policy."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable

from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.ioloop import IOLoop
from tornado.websocket import websocket_connect


def handshake_status(url: str, origin: str) -> int:
    """The status of a websocket handshake to ``url`` sent with ``origin`` (101: opened)."""

    async def probe() -> int:
        request = HTTPRequest(url, headers={"Origin": origin}, connect_timeout=10, request_timeout=10)
        try:
            connection = await websocket_connect(request)
        except HTTPClientError as exc:
            return exc.code
        connection.close()
        return 101

    return IOLoop(make_current=False).run_sync(probe, timeout=20)


def test_a_websocket_from_an_origin_not_named_is_refused(serve_dashboard: Callable[..., str]) -> None:
    url = serve_dashboard(PAPERLINE_PUBLIC_URL="http://paperline.test")  # e.g. behind a proxy on port 80
    port = url.split(":")[2].split("/")[0]
    socket_url = url.replace("http://", "ws://") + "/ws"
    assert handshake_status(socket_url, "http://paperline.test") == 101
    # A page on any other host (same port or not) must not reach the analyst's session. (Bokeh also accepts the
    # address the server itself listens on, which is the dashboard's own origin.)
    for stranger in (f"http://evil.example:{port}", "http://evil.example", f"http://paperline.test:{port}"):
        assert handshake_status(socket_url, stranger) == 403, stranger


def test_the_page_carries_a_script_policy(serve_dashboard: Callable[..., str]) -> None:
    url = serve_dashboard()
    with urllib.request.urlopen(url, timeout=60) as response:
        policy = response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    script_src = next(part for part in policy.split("; ") if part.startswith("script-src ")).split()
    assert "'unsafe-inline'" not in script_src and "'self'" in script_src
    assert any(source.startswith("'sha256-") for source in script_src)
    port = url.split(":")[2].split("/")[0]
    assert handshake_status(url.replace("http://", "ws://") + "/ws", f"http://127.0.0.1:{port}") == 101
