"""`paperline serve` accepts the dashboard's websocket only from the origins the operator names, answers only to
its own names (DNS rebinding), refuses to serve the network without sign-in unless told to, keeps its limits on
every way in, guards its cookies and its operator hooks, and sends its page with a Content-Security-Policy."""

from __future__ import annotations

import http.client
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.ioloop import IOLoop
from tornado.websocket import WebSocketClosedError, websocket_connect

from pipeline.service import Paperline
from tests.conftest import worker_env
from tests.docgen import known_text, make_text_pdf
from tests.helpers import free_port, stop_process, wait_until
from tests.sync_runner import run_queued


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


# -- the names the server answers to (DNS rebinding) ----------------------------------------------------------------
def answer(
    base: str, method: str, path: str, host: str | None = None, headers: dict[str, str] | None = None, body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    """One request to the server at ``base`` with any ``Host`` header (what a rebound name sends)."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    sent = dict(headers or {})
    if host is not None:
        sent["Host"] = host
    connection.request(method, path, body=body or None, headers=sent)
    response = connection.getresponse()
    result = response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    connection.close()
    return result


def socket_status(url: str, headers: dict[str, str]) -> int:
    async def probe() -> int:
        request = HTTPRequest(url, headers=headers, connect_timeout=10, request_timeout=10)
        try:
            connection = await websocket_connect(request)
        except HTTPClientError as exc:
            return exc.code
        connection.close()
        return 101

    return IOLoop(make_current=False).run_sync(probe, timeout=20)


def test_a_rebinding_host_is_refused_on_page_api_and_websocket(
    app: Paperline, serve_dashboard: Callable[..., str], tmp_path: Path
) -> None:
    job = app.submit(make_text_pdf(tmp_path / "kept.pdf", 2))
    run_queued(app)
    base = serve_dashboard().removesuffix("/app")
    port = urlsplit(base).port
    evil = f"evil.example:{port}"
    as_evil = {"Origin": f"http://{evil}"}
    for method, path in (
        ("GET", "/app"),
        ("GET", "/"),
        ("GET", "/static/js/bokeh.min.js"),
        ("GET", f"/api/v1/jobs/{job.id}"),
        ("GET", f"/api/v1/jobs/{job.id}/source"),
        ("DELETE", f"/api/v1/jobs/{job.id}"),
        ("POST", f"/api/v1/jobs/{job.id}/retry"),
        ("GET", "/metrics"),
        ("GET", "/paperline/feed-stats"),
        ("GET", "/liveness"),
    ):
        status, _, body = answer(base, method, path, evil, as_evil)
        assert status == 421, (method, path, status)
        assert "evil.example" in body.decode() and "PAPERLINE_PUBLIC_URL" in body.decode(), body
    assert app.result_bytes(job.id, "text") == known_text(2).encode(), "the job's files are intact"
    assert app.source_bytes(job.id, user=None) is not None
    socket_url = f"ws://127.0.0.1:{port}/app/ws"
    assert socket_status(socket_url, {"Host": evil, **as_evil}) == 421
    assert socket_status(socket_url, {"Origin": f"http://127.0.0.1:{port}"}) == 101

    # The names it does answer to: the address served and the loopback names, with any port.
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost", f"[::1]:{port}"):
        assert answer(base, "GET", f"/api/v1/jobs/{job.id}", host)[0] == 200, host
    assert answer(base, "GET", "/app", f"localhost:{port}")[0] == 200

    # The API's own Origin check compares with those names, not with whatever Host the request gives.
    own = {"Origin": f"http://127.0.0.1:{port}"}
    for origin in (f"http://evil.example:{port}", f"http://localhost:{port + 1}", "null"):
        status, _, body = answer(base, "DELETE", f"/api/v1/jobs/{job.id}", f"127.0.0.1:{port}", {"Origin": origin})
        assert status == 403 and b"another site" in body, origin
    assert app.result_bytes(job.id, "text") == known_text(2).encode()
    assert answer(base, "DELETE", f"/api/v1/jobs/{job.id}", f"127.0.0.1:{port}", own)[0] == 200
    assert app.source_bytes(job.id, user=None) is None, "the page's own origin may delete"


def test_behind_a_proxy_it_answers_to_the_public_name(serve_dashboard: Callable[..., str]) -> None:
    base = serve_dashboard(PAPERLINE_PUBLIC_URL="https://paperline.test").removesuffix("/app")
    for host in ("paperline.test", "paperline.test:443", "PAPERLINE.test.", "127.0.0.1"):
        assert answer(base, "GET", "/api/v1/jobs", host)[0] == 200, host
    for host in ("evil.example", "paperline.test.evil.example", "notpaperline.test"):
        assert answer(base, "GET", "/api/v1/jobs", host)[0] == 421, host
    origin = {"Origin": "https://paperline.test"}
    assert answer(base, "POST", "/api/v1/jobs/none/cancel", "paperline.test", origin)[0] == 404, "not refused"
    stranger = {"Origin": "https://evil.example"}
    assert answer(base, "POST", "/api/v1/jobs/none/cancel", "paperline.test", stranger)[0] == 403


# -- no anonymous network servers by accident -----------------------------------------------------------------------
def test_serving_the_network_without_sign_in_needs_allow_anonymous(app: Paperline, tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "pipeline", "serve", "--address", "0.0.0.0", "--port", str(port), "--workers", "0"]
    refused = subprocess.run(
        command, cwd=tmp_path, env=worker_env(app.settings), capture_output=True, text=True, timeout=120, check=False
    )
    assert refused.returncode == 2, refused.stderr
    for named in ("0.0.0.0 without sign-in", "--allow-anonymous", "--basic-auth", "--oauth-provider", "127.0.0.1"):
        assert named in refused.stderr, (named, refused.stderr)
    assert "Traceback" not in refused.stderr

    log_path = tmp_path / "anonymous.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [*command, "--allow-anonymous"],
            cwd=tmp_path,
            env=worker_env(app.settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until(
                lambda: server.poll() is not None or answer_status(f"http://127.0.0.1:{port}/api/v1/jobs") == 200,
                timeout=90,
                what="the anonymous network server",
            )
            assert server.poll() is None, log_path.read_text()[-3000:]
        finally:
            stop_process(server)
    assert "Warning: serving on 0.0.0.0 without sign-in (--allow-anonymous)" in log_path.read_text()


def answer_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


# -- limits on every way in -----------------------------------------------------------------------------------------
def test_the_page_channel_refuses_a_message_larger_than_one_upload_chunk(serve_dashboard: Callable[..., str]) -> None:
    """FileDropper sends a file in chunks, one websocket message each: Tornado refuses any message over one chunk
    (and the room around it) before buffering it, whatever the page was changed to send."""
    from bokeh.util.token import generate_jwt_token, generate_session_id

    from pipeline.serving import UPLOAD_CHUNK_BYTES, WEBSOCKET_MAX_MESSAGE_BYTES

    port = urlsplit(serve_dashboard()).port

    async def send(size: int) -> tuple[bool, int | None]:
        """(whether the whole message could be sent, the close code the server gave)."""
        token = generate_jwt_token(generate_session_id(), signed=False)  # sessions are unsigned without sign-in
        request = HTTPRequest(
            f"ws://127.0.0.1:{port}/app/ws",
            headers={"Origin": f"http://127.0.0.1:{port}"},
            connect_timeout=30,
            request_timeout=60,
        )
        connection = await websocket_connect(request, subprotocols=["bokeh", token])
        header = await connection.read_message()  # the session is made (the page built): Bokeh acknowledges
        assert header is not None and '"ACK"' in str(header), header
        sending = connection.write_message(b"\0" * size, binary=True)
        while await connection.read_message() is not None:  # read meanwhile: the close frame comes mid-message
            pass
        try:
            await sending
            sent = True
        except WebSocketClosedError:
            sent = False
        connection.close()
        return sent, connection.close_code

    def sent(size: int) -> tuple[bool, int | None]:
        return IOLoop(make_current=False).run_sync(lambda: send(size), timeout=90)

    whole, code = sent(WEBSOCKET_MAX_MESSAGE_BYTES + 1)
    # Refused unread: "message too big" (1009), or the connection cut before the close frame was read.
    assert code == 1009 or (not whole and code is None), (whole, code)
    # One chunk is read (and then refused by Bokeh's protocol, as a stray binary frame is): not for its size.
    whole, code = sent(UPLOAD_CHUNK_BYTES)
    assert whole and code not in (1009, None), (whole, code)
