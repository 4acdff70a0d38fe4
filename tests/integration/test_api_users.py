"""Users on the API of a server with sign-in: reserved names get nothing, a token's open event stream
ends when the token is revoked or expires, and parallel uploads cannot pass a per-user limit."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from pipeline import JobStatus, Paperline
from pipeline.core.models import ApiToken
from pipeline.service import tokens
from tests.conftest import paperline
from tests.docgen import make_text_pdf
from tests.helpers import wait_until
from tests.integration.test_api import call, post, problem


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_reserved_names_hold_no_working_token_and_the_local_user_needs_no_sign_in_only(  # type: ignore[no-untyped-def]
    app: Paperline, serve_api, tmp_path: Path
) -> None:
    api = serve_api(sign_in=True)
    app.submit(make_text_pdf(tmp_path / "ann-private.pdf", 1), user="ann")
    # a token recorded for a reserved name (made before this release, or written into the store by hand)
    for name in ("local", "None", ""):
        secret = f"pl_reserved_{name or 'empty'}_" + "x" * 30
        app.store.add_token(ApiToken(f"t-{name or 'empty'}", name, "", time.time()), tokens.digest(secret))
        refused = problem(call(f"{api}/jobs", headers=bearer(secret)))
        assert refused["status"] == 401 and "This user name is reserved" in refused["detail"], name
    assert problem(call(f"{api}/jobs"))["status"] == 401, "with sign-in, no request is the local user"
    for argv in (("token", "create"), ("token", "create", "--user", "None"), ("--user", "local", "token", "create")):
        made = paperline(app, *argv)
        assert made.returncode == 2 and "pl_" not in made.stdout, (argv, made.stdout)
        assert "A token acts for a signed-in user" in made.stderr or "This user name is reserved" in made.stderr
    made = paperline(app, "token", "create", "--user", "ann", "--expires-in", "30d")
    assert made.returncode == 0 and "valid until" in made.stderr, made.stderr
    listed = json.loads(call(f"{api}/jobs", headers=bearer(made.stdout.strip()))[2])["jobs"]
    assert [j["filename"] for j in listed] == ["ann-private.pdf"]


def stream_messages(api: str, job_id: str, headers: dict[str, str]) -> Iterator[dict]:
    """A job's event stream, message by message ({"event", "data"} or {"comment"}); each read is bounded."""
    host = urlsplit(api)
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
    try:
        connection.request("GET", f"{host.path}/jobs/{job_id}/events/stream", headers=headers)
        response = connection.getresponse()
        assert response.status == 200, response.read()
        current: dict = {}
        while line := response.readline().decode("utf-8"):
            line = line.rstrip("\n")
            if line.startswith(":"):
                yield {"comment": line[1:].strip()}
            elif line:
                key, _, value = line.partition(": ")
                current[key] = json.loads(value) if key == "data" else value
            elif current:
                yield current
                current = {}
        yield {"closed": True}
    finally:
        connection.close()


def read_until_closed(messages: Iterator[dict], seen: list[dict]) -> None:
    for message in messages:
        seen.append(message)


def expire_now(app: Paperline, token_id: str) -> None:
    """The token's expiry moved to a second ago in the store (where the server reads it), as time passing would."""
    with app.store.transaction() as conn:
        conn.execute("UPDATE api_tokens SET expires_at = ? WHERE id = ?", (time.time() - 1, token_id))


def test_an_open_stream_ends_when_its_token_is_revoked_or_expires(  # type: ignore[no-untyped-def]
    app: Paperline, serve_api, tmp_path: Path
) -> None:
    api = serve_api(sign_in=True, PAPERLINE_API_HEARTBEAT_S="0.3")
    job = app.submit(make_text_pdf(tmp_path / "a.pdf", 1), user="ann")  # no worker: it stays queued
    revoked_token, revoked = app.create_api_token("ann", "revoked")
    # Its hour is long enough for any cold server to open its stream; once open, its end is brought to now, as the
    # clock reaching it would (the expiry is not counted from a start that a slow machine may not make in time).
    expiring_token, expiring = app.create_api_token("ann", "expiring", expires_in_s=3600)
    _, kept = app.create_api_token("ann", "kept")
    seen: dict[str, list[dict]] = {"revoked": [], "expiring": [], "kept": []}
    readers = {
        name: threading.Thread(
            target=read_until_closed, args=(stream_messages(api, job.id, bearer(secret)), seen[name]), daemon=True
        )
        for name, secret in (("revoked", revoked), ("expiring", expiring), ("kept", kept))
    }
    for reader in readers.values():
        reader.start()
    wait_until(lambda: all({"comment": "keepalive"} in s for s in seen.values()), timeout=30, what="keepalives")
    assert all(reader.is_alive() for reader in readers.values()), "every token still lets its stream run"
    app.revoke_api_token(revoked_token.id)
    expire_now(app, expiring_token.id)
    wait_until(lambda: not readers["revoked"].is_alive(), timeout=20, what="the revoked token's stream to close")
    end = [m for m in seen["revoked"] if m.get("event") == "end"]
    assert end and end[0]["data"]["status"] == 401 and "unknown or was revoked" in end[0]["data"]["detail"]
    assert seen["revoked"][-1] == {"closed": True}
    wait_until(lambda: not readers["expiring"].is_alive(), timeout=20, what="the expired token's stream to close")
    end = [m for m in seen["expiring"] if m.get("event") == "end"]
    assert end and end[0]["data"]["status"] == 401 and "expired on" in end[0]["data"]["detail"]
    assert readers["kept"].is_alive() and not any(m.get("event") == "end" for m in seen["kept"]), "a live token's"
    app.cancel(job.id)  # the last stream ends with the job
    wait_until(lambda: not readers["kept"].is_alive(), timeout=20, what="the live token's stream to end")
    assert next(m for m in seen["kept"] if m.get("event") == "end")["data"]["status"] == "canceled"
    assert problem(call(f"{api}/jobs/{job.id}/events/stream", headers=bearer(revoked)))["status"] == 401


def test_parallel_api_uploads_cannot_pass_the_per_user_limit(  # type: ignore[no-untyped-def]
    app: Paperline, serve_api, tmp_path: Path
) -> None:
    api = serve_api(sign_in=True, PAPERLINE_USER_MAX_ACTIVE_JOBS="2")
    pdf = make_text_pdf(tmp_path / "a.pdf", 2).read_bytes()
    _, ann = app.create_api_token("ann")
    _, bob = app.create_api_token("bob")
    start = threading.Barrier(10)

    def upload(i: int) -> int:
        start.wait()
        return post(f"{api}/jobs?filename=doc{i}.pdf", pdf, headers=bearer(ann))[0]

    with ThreadPoolExecutor(10) as pool:
        statuses = sorted(pool.map(upload, range(10)))
    assert statuses == [201] * 2 + [429] * 8
    jobs = app.jobs(user="ann")
    assert len([j for j in jobs if j.status is JobStatus.QUEUED]) == 2 and len(jobs) == 10
    refused = [j for j in jobs if j.status is JobStatus.FAILED]
    assert all("Limit reached: ann already has 2 jobs" in j.error for j in refused)
    assert all(not app.files(j.id).names() for j in refused), "refused uploads keep no bytes"
    assert post(f"{api}/jobs?filename=bob.pdf", pdf, headers=bearer(bob))[0] == 201, "limits are per user"
