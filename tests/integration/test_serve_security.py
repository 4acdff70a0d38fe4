"""`paperline serve` accepts the dashboard's websocket only from the origins the operator names, answers only to
its own names (DNS rebinding), refuses to serve the network without sign-in unless told to, keeps its limits on
every way in, guards its cookies and its operator hooks, and sends its page with a Content-Security-Policy."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.ioloop import IOLoop
from tornado.websocket import WebSocketClosedError, websocket_connect

from pipeline.service.paperline import Paperline
from tests.conftest import worker_env
from tests.docgen import known_text, make_text_pdf
from tests.helpers import free_port, stop_process, wait_until
from tests.sync_runner import run_queued


def socket_status(url: str, headers: dict[str, str]) -> int:
    """The status of a websocket handshake to ``url`` sent with ``headers`` (101: opened)."""

    async def probe() -> int:
        request = HTTPRequest(url, headers=headers, connect_timeout=10, request_timeout=10)
        try:
            connection = await websocket_connect(request)
        except HTTPClientError as exc:
            return exc.code
        connection.close()
        return 101

    return IOLoop(make_current=False).run_sync(probe, timeout=20)


def handshake_status(url: str, origin: str) -> int:
    return socket_status(url, {"Origin": origin})


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

    from pipeline.server.edge import UPLOAD_CHUNK_BYTES, WEBSOCKET_MAX_MESSAGE_BYTES

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


def test_the_api_caps_files_fields_and_field_sizes_and_keeps_nothing_refused(
    app: Paperline, serve_dashboard: Callable[..., str], tmp_path: Path
) -> None:
    from tests.integration.test_api import multipart, post

    spool = tmp_path / "server-tmp"
    spool.mkdir()
    api = serve_dashboard(PAPERLINE_MAX_FILES_PER_UPLOAD="2", TMPDIR=str(spool)).removesuffix("/app") + "/api/v1"
    pdf = make_text_pdf(tmp_path / "one.pdf", 1).read_bytes()
    refusals = (
        (multipart([("a.pdf", pdf), ("b.pdf", pdf), ("c.pdf", pdf)]), 413, "At most 2 files in one upload"),
        (multipart([("a.pdf", pdf)], {"instruction": "x" * 70_000}), 413, "'instruction' is over 64 KB"),
        (multipart([("a.pdf", pdf)], {f"f{n}": "1" for n in range(17)}), 400, "At most 16 fields"),
    )
    for (body, content_type), status, detail in refusals:
        got, headers, problem = post(f"{api}/jobs", body, content_type)
        assert (got, headers["Content-Type"]) == (status, "application/problem+json"), (got, problem)
        assert detail in problem["detail"], problem
    assert app.jobs() == [], "a refused request makes no job"
    # ... and keeps none of its bytes (the folder goes once the answer is sent)
    # (only the upload folders count: the server's libraries may keep files of their own in its temporary folder,
    # such as a 51-byte ".ses" id file one of them writes at start, not yet traced)
    uploads = lambda: [p for p in spool.iterdir() if p.name.startswith("paperline-upload-")]  # noqa: E731
    wait_until(lambda: uploads() == [], timeout=10, what="the refused uploads' folders to go")
    status, _, body = post(f"{api}/jobs", *multipart([("a.pdf", pdf), ("b.pdf", pdf)], {"profile": "text"}))
    assert status == 201 and [job["profile"] for job in body["jobs"]] == ["text", "text"]


def test_the_api_limits_requests_per_user_with_retry_after(
    app: Paperline, serve_dashboard: Callable[..., str], tmp_path: Path
) -> None:
    from pipeline.service import tokens
    from tests.integration.test_api import multipart, post

    # Two a minute: a bucket refills one request in 30 s, far longer than the test's few requests take.
    base = serve_dashboard(PAPERLINE_API_RATE_PER_MINUTE="2").removesuffix("/app")
    _, secret = tokens.create_token(app.store, "ana", "script")
    as_ana = {"Authorization": f"Bearer {secret}"}
    statuses = [answer(base, "GET", "/api/v1/jobs", headers=as_ana)[0] for _ in range(2)]
    assert statuses == [200] * 2, "a minute's worth at once"
    status, headers, body = answer(base, "GET", "/api/v1/jobs", headers=as_ana)
    assert status == 429 and headers["content-type"] == "application/problem+json", (status, body)
    assert 1 <= int(headers["retry-after"]) <= 60 and b"Too many requests; try again in" in body
    _, other = tokens.create_token(app.store, "bob", "script")
    as_bob = {"Authorization": f"Bearer {other}"}
    assert answer(base, "GET", "/api/v1/jobs", headers=as_bob)[0] == 200, "each user has their own bucket"
    # Each file of an upload is a request of its own: three files are more than bob's one left.
    pdf = make_text_pdf(tmp_path / "one.pdf", 1).read_bytes()
    files = multipart([(f"{name}.pdf", pdf) for name in "abc"])
    status, headers, body = post(f"{base}/api/v1/jobs", *files, headers=as_bob)
    assert status == 429 and "retry-after" in {k.lower() for k in headers}, body
    assert app.jobs() == [], "refused before any job was made"
    # The local user (no sign-in, on loopback) is not counted.
    assert [answer(base, "GET", "/api/v1/jobs")[0] for _ in range(8)] == [200] * 8


# -- cookies and the operator's hooks -------------------------------------------------------------------------------
def sign_in(
    base: str, user: str, password: str, host: str | None = None, headers: dict[str, str] | None = None
) -> list[str]:
    """Panel's basic-auth form posted as a browser does; the Set-Cookie headers of the answer."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    body = urlencode({"username": user, "password": password})
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        **({"Host": host} if host else {}),
        **(headers or {}),
    }
    connection.request("POST", "/login", body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 302, response.status
    return response.headers.get_all("Set-Cookie") or []


def test_cookies_are_secure_and_same_site_over_https(serve_dashboard: Callable[..., str], tmp_path: Path) -> None:
    users = tmp_path / "users.json"
    users.write_text(json.dumps({"ann": "pw"}))
    auth = ("--basic-auth", str(users), "--cookie-secret", "paperline-test-secret")
    https = serve_dashboard(*auth, PAPERLINE_PUBLIC_URL="https://paperline.test").removesuffix("/app")
    cookies = sign_in(https, "ann", "pw", host="paperline.test")
    [user] = [c for c in cookies if c.startswith("user=")]
    flags = {flag.strip().lower() for flag in user.split(";")}
    assert {"secure", "samesite=lax", "httponly"} <= flags, user
    # Plain HTTP on loopback (no https public URL, no forwarded https): Lax, but not Secure (it would not be sent).
    plain = serve_dashboard(*auth).removesuffix("/app")
    [user] = [c for c in sign_in(plain, "ann", "pw") if c.startswith("user=")]
    flags = {flag.strip().lower() for flag in user.split(";")}
    assert "samesite=lax" in flags and "secure" not in flags, user
    # Behind a TLS proxy the operator trusts (Panel's --use-xheaders): the proxy's X-Forwarded-Proto says https.
    proxied = serve_dashboard(*auth, "--use-xheaders").removesuffix("/app")
    forwarded = sign_in(proxied, "ann", "pw", headers={"X-Forwarded-Proto": "https"})
    [user] = [c for c in forwarded if c.startswith("user=")]
    assert {"secure", "samesite=lax"} <= {flag.strip().lower() for flag in user.split(";")}, user


def test_metrics_are_for_admins_where_users_sign_in(
    app: Paperline, serve_dashboard: Callable[..., str], tmp_path: Path
) -> None:
    from pipeline.service import tokens

    users = tmp_path / "users.json"
    users.write_text(json.dumps({"ann": "pw", "root": "pw"}))
    url = serve_dashboard("--basic-auth", str(users), "--cookie-secret", "s", PAPERLINE_ADMINS="root")
    base = url.removesuffix("/app")
    _, admin = tokens.create_token(app.store, "root", "prometheus")
    _, analyst = tokens.create_token(app.store, "ann", "script")
    status, headers, body = answer(base, "GET", "/metrics")
    assert status == 401 and "admins" in body.decode() and "www-authenticate" in headers, status
    assert answer(base, "GET", "/metrics", headers={"Authorization": f"Bearer {analyst}"})[0] == 403
    status, headers, _ = answer(base, "GET", "/api/v1/jobs")
    assert status == 401 and headers["www-authenticate"] == 'Bearer realm="paperline"', "kept on the error answer"
    status, _, body = answer(base, "GET", "/metrics", headers={"Authorization": f"Bearer {admin}"})
    assert status == 200 and "paperline_sessions " in body.decode()
    # A signed-in admin's browser may open them too (the cookie Panel set at sign-in).
    [cookie] = [c.split(";")[0] for c in sign_in(base, "root", "pw") if c.startswith("user=")]
    assert answer(base, "GET", "/metrics", headers={"Cookie": cookie})[0] == 200
    [cookie] = [c.split(";")[0] for c in sign_in(base, "ann", "pw") if c.startswith("user=")]
    assert answer(base, "GET", "/metrics", headers={"Cookie": cookie})[0] == 403
    app.submit(make_text_pdf(tmp_path / "q.pdf", 1))
    [cookie] = [c.split(";")[0] for c in sign_in(base, "root", "pw") if c.startswith("user=")]
    answer(base, "GET", "/app", headers={"Cookie": cookie})  # a session starts the feed
    as_admin = {"Authorization": f"Bearer {admin}"}
    text = wait_until(
        lambda: (a := answer(base, "GET", "/metrics", headers=as_admin))[0] == 200 and a[2].decode(),
        timeout=30,
        what="metrics",
    )
    assert 'paperline_jobs{status="queued"} 1.0' in text
