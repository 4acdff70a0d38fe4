"""The HTTP API, served in process (``tests/api_server.py``), and with sign-in on the real ``paperline serve`` (the
jobs are run by the in-process task runner or a real worker)."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pipeline.service.paperline import Paperline
from tests.docgen import known_text, make_text_pdf
from tests.sync_runner import run_queued


def call(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def problem(answer: tuple[int, dict[str, str], bytes]) -> dict[str, Any]:
    status, headers, body = answer
    assert headers["Content-Type"] == "application/problem+json", headers
    data = json.loads(body)
    assert data["status"] == status and data["title"]
    assert "Traceback" not in body.decode() and "/tmp" not in body.decode(), "no internals reach a client"
    return data


def conforms(doc: dict, template: str, method: str, answer: tuple[int, dict[str, str], bytes]) -> Any:
    """The answer's JSON, after checking it against what the OpenAPI document says of this operation."""
    from jsonschema import Draft202012Validator

    status, headers, body = answer
    response = doc["paths"][template][method]["responses"][str(status)]
    media = headers["Content-Type"].split(";")[0]
    schema = response["content"][media]["schema"]
    data = json.loads(body)
    Draft202012Validator({**schema, "components": doc["components"]}).validate(data)
    return data


def test_read_download_cancel_retry_and_delete_jobs_over_http(app: Paperline, serve_api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    api = serve_api()
    pdf = make_text_pdf(tmp_path / "report.pdf", 3)
    done = app.submit(pdf, "rapport d'été 2026.pdf")
    waiting = app.submit(make_text_pdf(tmp_path / "waiting.pdf", 2))
    app.cancel(waiting.id)
    run_queued(app)
    queued = app.submit(make_text_pdf(tmp_path / "queued.pdf", 1))  # no worker here: it stays queued

    status, _, body = call(f"{api}/health")
    assert status == 200 and json.loads(body)["store"] == "ok"
    doc = json.loads(call(f"{api}/openapi.json")[2])
    assert doc["openapi"] == "3.1.0" and doc["servers"] == [{"url": "/api/v1"}]
    conforms(doc, "/jobs", "get", call(f"{api}/jobs"))
    conforms(doc, "/jobs/{job_id}", "get", call(f"{api}/jobs/{done.id}"))
    conforms(doc, "/jobs/{job_id}/chunks", "get", call(f"{api}/jobs/{done.id}/chunks"))
    conforms(doc, "/jobs/{job_id}/events", "get", call(f"{api}/jobs/{done.id}/events"))
    conforms(doc, "/jobs/{job_id}", "get", call(f"{api}/jobs/nope"))
    conforms(doc, "/jobs", "get", call(f"{api}/jobs?limit=0"))
    conforms(doc, "/jobs/{job_id}/cancel", "post", call(f"{api}/jobs/{done.id}/cancel", "POST"))
    status, headers, body = call(f"{api}/jobs")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert [j["id"] for j in json.loads(body)["jobs"]] == [queued.id, waiting.id, done.id], "newest first"
    listed = json.loads(call(f"{api}/jobs?status=completed&limit=5")[2])["jobs"]
    assert [j["id"] for j in listed] == [done.id]
    assert problem(call(f"{api}/jobs?status=lost"))["detail"] == "Unknown status 'lost'"
    assert problem(call(f"{api}/jobs?limit=0"))["status"] == 400
    page = json.loads(call(f"{api}/jobs?limit=2")[2])
    assert [j["id"] for j in page["jobs"]] == [queued.id, waiting.id] and page["next_cursor"] == waiting.id
    last = json.loads(call(f"{api}/jobs?limit=2&cursor={page['next_cursor']}")[2])
    assert [j["id"] for j in last["jobs"]] == [done.id] and last["next_cursor"] is None
    assert [j["id"] for j in json.loads(call(f"{api}/jobs?name=RAPPORT")[2])["jobs"]] == [done.id]
    assert problem(call(f"{api}/jobs?cursor=nope"))["status"] == 404

    job = json.loads(call(f"{api}/jobs/{done.id}")[2])
    assert job["status"] == "completed" and job["filename"] == "rapport d'été 2026.pdf" and job["pages"] == 3
    chunks = json.loads(call(f"{api}/jobs/{done.id}/chunks")[2])["chunks"]
    assert chunks and all(c["status"] == "done" for c in chunks)
    events = json.loads(call(f"{api}/jobs/{done.id}/events")[2])["events"]
    assert events[0]["kind"] == "created" and events[-1]["status"] == "completed"

    status, headers, body = call(f"{api}/jobs/{done.id}/result?format=text")
    assert status == 200 and body.decode() == known_text(3)
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert headers["Content-Disposition"] == (
        "attachment; filename=\"rapport d'ete 2026.txt\"; filename*=UTF-8''rapport%20d%27%C3%A9t%C3%A9%202026.txt"
    ), "an ASCII name for clients that read only filename= (curl -OJ), the exact one beside it"
    assert json.loads(call(f"{api}/jobs/{done.id}/result?format=json")[2])["pages"][0]["page"] == 1
    assert "Unknown format 'exe'" in problem(call(f"{api}/jobs/{done.id}/result?format=exe"))["detail"]
    status, _, body = call(f"{api}/jobs/{done.id}/source")
    assert status == 200 and body == pdf.read_bytes()

    missing = problem(call(f"{api}/jobs/nope"))
    assert missing["status"] == 404 and missing["detail"] == "No job 'nope'"
    ended = problem(call(f"{api}/jobs/{waiting.id}/cancel", "POST"))
    assert ended["status"] == 409 and "already ended (canceled)" in ended["detail"]
    not_failed = problem(call(f"{api}/jobs/{done.id}/retry", "POST"))
    assert not_failed["status"] == 409 and "only a failed or canceled job can be retried" in not_failed["detail"]
    again = conforms(doc, "/jobs/{job_id}/retry", "post", call(f"{api}/jobs/{waiting.id}/retry", "POST"))
    assert again["status"] == "queued", "a canceled job runs again"
    assert json.loads(call(f"{api}/jobs/{waiting.id}/cancel", "POST")[2])["status"] == "canceled"
    unfinished = problem(call(f"{api}/jobs/{queued.id}", "DELETE"))
    assert unfinished["status"] == 409 and "cancel it first" in unfinished["detail"]
    forged = call(f"{api}/jobs/{queued.id}/cancel", "POST", {"Origin": "http://evil.example"})
    assert problem(forged)["status"] == 403 and app.get(queued.id).status.value == "queued"
    assert json.loads(call(f"{api}/jobs/{queued.id}/cancel", "POST")[2])["status"] == "canceled"

    deleted = json.loads(call(f"{api}/jobs/{done.id}", "DELETE")[2])
    assert deleted["status"] == "completed" and deleted["purged_at"], "the history stays, marked"
    gone = problem(call(f"{api}/jobs/{done.id}/result"))
    assert gone["status"] == 410 and "Files deleted by" in gone["detail"] and gone["code"] == "files_gone"
    assert problem(call(f"{api}/jobs/{done.id}/source"))["status"] == 410


def test_on_a_server_with_sign_in_each_token_acts_for_its_user_only(  # type: ignore[no-untyped-def]
    app: Paperline, serve_dashboard, tmp_path: Path
) -> None:
    from pipeline.service import tokens

    users = tmp_path / "users.json"
    users.write_text(json.dumps({"ann": "pw", "bob": "pw", "carol": "pw"}))
    url = serve_dashboard("--basic-auth", str(users), "--cookie-secret", "s", PAPERLINE_ADMINS="carol")
    api = url.removesuffix("/app") + "/api/v1"
    (_, ann), (bob_token, bob), (_, carol) = (tokens.create_token(app.store, u) for u in ("ann", "bob", "carol"))
    as_ann, as_bob, as_carol = ({"Authorization": f"Bearer {secret}"} for secret in (ann, bob, carol))
    pdf = make_text_pdf(tmp_path / "a.pdf", 1).read_bytes()

    nobody = problem(call(f"{api}/jobs"))
    assert nobody["status"] == 401 and "send a personal API token" in nobody["detail"]
    assert problem(call(f"{api}/jobs", headers={"Authorization": "Bearer pl_forged"}))["status"] == 401
    status, _, body = post(f"{api}/jobs?filename=ann.pdf", pdf, headers=as_ann)
    assert status == 201 and body["jobs"][0]["user"] == "ann", "an upload belongs to the token's user"
    job_id = body["jobs"][0]["id"]
    assert post(f"{api}/jobs?filename=bob.pdf", pdf, headers=as_bob)[0] == 201

    assert [j["filename"] for j in json.loads(call(f"{api}/jobs", headers=as_ann)[2])["jobs"]] == ["ann.pdf"]
    assert [j["filename"] for j in json.loads(call(f"{api}/jobs", headers=as_bob)[2])["jobs"]] == ["bob.pdf"]
    every = json.loads(call(f"{api}/jobs", headers=as_carol)[2])["jobs"]
    assert sorted(j["filename"] for j in every) == ["ann.pdf", "bob.pdf"], "an admin sees all"
    only_bob = json.loads(call(f"{api}/jobs?user=bob", headers=as_carol)[2])["jobs"]
    assert [j["filename"] for j in only_bob] == ["bob.pdf"], "an admin filters by user"
    assert problem(call(f"{api}/jobs?user=bob", headers=as_ann))["status"] == 403
    for method, path in (("GET", ""), ("GET", "/events"), ("GET", "/events/stream"), ("POST", "/cancel"),
                         ("DELETE", ""), ("GET", "/source")):  # fmt: skip
        answer = problem(call(f"{api}/jobs/{job_id}{path}", method, headers=as_bob))
        assert answer["status"] == 404 and answer["detail"] == f"No job {job_id!r}", (method, path)
    assert app.get(job_id).status.value == "queued", "bob touched nothing"
    assert json.loads(call(f"{api}/jobs/{job_id}/cancel", "POST", headers=as_carol)[2])["status"] == "canceled"

    tokens.revoke(app.store, bob_token.id, user="bob")
    revoked = problem(call(f"{api}/jobs", headers=as_bob))
    assert revoked["status"] == 401 and "revoked" in revoked["detail"]


def multipart(files: list[tuple[str, bytes]], fields: dict[str, str] | None = None) -> tuple[bytes, str]:
    """A multipart/form-data body, as ``curl -F file=@...`` sends it, and its Content-Type."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in (fields or {}).items()
    ]
    for name, content in files:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        parts.append(head.encode() + b"Content-Type: application/octet-stream\r\n\r\n" + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def post(
    url: str, body: bytes, content_type: str = "application/octet-stream", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any], Any]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": content_type, **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


def test_documents_are_uploaded_over_http_and_bad_ones_are_told_why(  # type: ignore[no-untyped-def]
    app: Paperline, serve_api, tmp_path: Path
) -> None:
    from tests.bad_inputs import UPLOAD_LIMIT_MB, bad_inputs

    api = serve_api(PAPERLINE_MAX_UPLOAD_MB=str(UPLOAD_LIMIT_MB))
    one, two = make_text_pdf(tmp_path / "one.pdf", 2).read_bytes(), make_text_pdf(tmp_path / "two.pdf", 3).read_bytes()
    status, headers, body = post(f"{api}/jobs", *multipart([("one.pdf", one), ("two.pdf", two)], {"profile": "text"}))
    assert status == 201, body
    jobs = body["jobs"]
    assert [(j["filename"], j["status"], j["pages"]) for j in jobs] == [
        ("one.pdf", "queued", 2),
        ("two.pdf", "queued", 3),
    ]
    assert headers.get_all("Location") == [f"/api/v1/jobs/{j['id']}" for j in jobs]
    status, _, body = post(f"{api}/jobs?filename=raw%20body.pdf", one)
    assert status == 201 and body["jobs"][0]["filename"] == "raw body.pdf"
    run_queued(app)
    assert call(f"{api}/jobs/{jobs[1]['id']}/result?format=text")[2].decode() == known_text(3)

    for bad in bad_inputs():
        status, headers, body = post(f"{api}/jobs", *multipart([(bad.name, bad.content)]))
        assert headers["Content-Type"] == "application/problem+json", bad.name
        assert status in (413, 415, 422) and body["status"] == status, (bad.name, status)
        assert bad.message in body["detail"], (bad.name, body)
        assert body["jobs"][0]["status"] == "failed", "the refusal is recorded on a job, as on the page"
    assert post(f"{api}/jobs", *multipart([("data.bin", bytes(range(256)))]))[0] == 415

    before = len(app.jobs())
    # As curl sends a large body: headers first, asking whether to go on (Expect: 100-continue); the answer
    # comes before any of the body is sent.
    host = urlsplit(api)
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
    connection.putrequest("POST", f"{host.path}/jobs?filename=big.pdf")
    connection.putheader("Content-Length", str(3 * 2**20))
    connection.putheader("Expect", "100-continue")
    connection.endheaders()
    answer = connection.getresponse()
    status, body = answer.status, json.loads(answer.read())
    connection.close()
    assert status == 413 and "over the 1 MB upload limit" in body["detail"]
    assert len(app.jobs()) == before, "refused before reading: no job"
    status, _, body = post(f"{api}/jobs", one)
    assert status == 400 and "?filename=" in body["detail"]
    assert post(f"{api}/jobs", *multipart([], {"profile": "text"}))[0] == 400
    status, _, body = post(f"{api}/jobs", *multipart([("a.pdf", one)], {"profile": "poems"}))
    assert status == 400 and "poems" in body["detail"]
    assert post(f"{api}/jobs", b"--x\r\nnonsense", "multipart/form-data; boundary=x")[0] == 400
    # An option sent empty is refused, naming the choices, whether a form field or a query argument; never the default.
    before = (len(app.jobs()), len(app.store.list_batches()))
    for field, choices in (("engine", "local, claude"), ("profile", "text, markdown")):
        for status, _, body in (
            post(f"{api}/jobs", *multipart([("a.pdf", one)], {field: ""})),
            post(f"{api}/jobs?filename=a.pdf&{field}=", one),
            post(f"{api}/jobs", *multipart([("a.pdf", one), ("b.pdf", two)], {field: ""})),
        ):
            assert status == 400 and f"Unknown {field} ''" in body["detail"] and choices in body["detail"], body
    status, _, body = post(f"{api}/jobs", *multipart([("a.pdf", one)], {"callback_url": ""}))
    assert status == 400 and "callback_url" in body["detail"]
    assert post(f"{api}/jobs?filename=a.pdf&batch=maybe", one)[0] == 400
    assert (len(app.jobs()), len(app.store.list_batches())) == before, "nothing recorded for a refused request"
    # Options as query arguments apply to a multipart upload too (as the document says), a form field winning.
    status, _, body = post(f"{api}/jobs?profile=markdown&priority=3", *multipart([("c.pdf", one)], {"priority": "5"}))
    assert status == 201 and body["jobs"][0]["profile"] == "markdown" and body["jobs"][0]["priority"] == 5


def read_stream(
    api: str, job_id: str, *, last_event_id: int | None = None, until: str = "end", within_s: float = 120.0
) -> list[dict]:
    """The job's event stream as messages ({"event", "id", "data"} or {"comment"}), read up to an ``until``
    message within ``within_s`` (keepalives would hold a read open forever: each read is bounded by the socket
    timeout, the whole by the deadline)."""
    deadline = time.monotonic() + within_s
    host = urlsplit(api)
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
    headers = {"Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    connection.request("GET", f"{host.path}/jobs/{job_id}/events/stream", headers=headers)
    response = connection.getresponse()
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/event-stream")
    messages: list[dict] = []
    current: dict = {}
    try:
        while time.monotonic() < deadline:
            line = response.readline().decode("utf-8")
            if not line:
                break
            line = line.rstrip("\n")
            if line.startswith(":"):
                messages.append({"comment": line[1:].strip()})
                if until == "comment":
                    break
            elif line:
                key, _, value = line.partition(": ")
                current[key] = json.loads(value) if key == "data" else value
            elif current:
                messages.append(current)
                if current.get("event") == until:
                    break
                current = {}
    finally:
        connection.close()
    return messages


def test_a_running_jobs_event_stream_is_seen_to_the_end_and_resumed(  # type: ignore[no-untyped-def]
    app: Paperline, serve_api, start_worker, tmp_path: Path
) -> None:
    from tests.docgen import SLOW_JOB_SETTINGS, make_slow_pdf, slow_blank_pages
    from tests.helpers import slow_tesseract

    api = serve_api(PAPERLINE_API_HEARTBEAT_S="0.3")
    idle = app.submit(make_text_pdf(tmp_path / "idle.pdf", 1))  # no worker yet: nothing happens to it
    quiet = read_stream(api, idle.id, until="comment")
    assert [m["data"]["kind"] for m in quiet if m.get("event") == "job-event"] == ["created"], "its history first"
    assert [m["data"]["status"] for m in quiet if m.get("event") == "progress"] == ["queued"]
    assert quiet[-1] == {"comment": "keepalive"}, "an idle stream is kept alive"
    app.cancel(idle.id)

    start_worker(workers=2, PAPERLINE_TESSERACT=str(slow_tesseract(tmp_path, 0.3)), **SLOW_JOB_SETTINGS)
    job = app.submit(make_slow_pdf(tmp_path / "slow.pdf", 12))
    seen = read_stream(api, job.id)
    assert seen[-1]["event"] == "end" and seen[-1]["data"]["status"] == "completed"
    streamed = [m for m in seen if m.get("event") == "job-event"]
    recorded = app.events(job.id)
    assert [int(m["id"]) for m in streamed] == [e.id for e in recorded], "every event once, in order"
    assert {m["data"]["kind"] for m in streamed} >= {"created", "chunk_done", "status"}
    progress = [m["data"]["progress"] for m in seen if m.get("event") == "progress"]
    assert len(progress) >= 2 and progress == sorted(progress), "progress is seen moving, never back"
    pages = {}
    for message in seen:
        if message.get("event") == "chunk":
            chunk = message["data"]
            assert chunk["pages_done"] >= pages.get(chunk["index"], 0), "a chunk's pages never go back"
            pages[chunk["index"]] = chunk["pages_done"]
    assert sum(pages.values()) == 12 and len(pages) >= 2, "every chunk seen page by page to its end"
    assert app.result(job.id, "text") == known_text(12, blank_pages=slow_blank_pages(12))

    middle = recorded[len(recorded) // 2].id
    resumed = [m for m in read_stream(api, job.id, last_event_id=middle) if m.get("event") == "job-event"]
    assert [int(m["id"]) for m in resumed] == [e.id for e in recorded if e.id > middle], "nothing lost or repeated"
    assert problem(call(f"{api}/jobs/nope/events/stream"))["status"] == 404


def test_per_user_limits_apply_to_api_uploads(app: Paperline, serve_api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    api = serve_api(PAPERLINE_USER_MAX_ACTIVE_JOBS="1")
    pdf = make_text_pdf(tmp_path / "a.pdf", 1).read_bytes()
    assert post(f"{api}/jobs?filename=first.pdf", pdf)[0] == 201
    status, _, body = post(f"{api}/jobs?filename=second.pdf", pdf)
    assert status == 429 and "Limit reached" in body["detail"] and body["jobs"][0]["status"] == "failed"
