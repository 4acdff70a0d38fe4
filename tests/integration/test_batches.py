"""Batches against the HTTP API (served in process: ``tests/api_server.py``) and real workers: a batch's stream to
its end, retry of its failed chunks, its results as one zip, cancel all; and a job's priority in the queue."""

from __future__ import annotations

import http.client
import io
import json
import time
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.core.models import ChunkStatus, JobStatus
from pipeline.service.paperline import Paperline
from tests.docgen import SLOW_JOB_SETTINGS, make_slow_pdf, make_text_pdf
from tests.helpers import slow_tesseract, wait_until
from tests.integration.test_api import call, conforms, multipart, post, problem


def read_batch_stream(api: str, batch_id: str, within_s: float = 180.0) -> list[dict]:
    """The batch's event stream as messages ({"event", "data"}), read to its ``end`` within ``within_s`` (each read
    bounded by the socket timeout, the whole by the deadline: keepalives would hold it open)."""
    deadline = time.monotonic() + within_s
    host = urlsplit(api)
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=120)
    connection.request("GET", f"{host.path}/batches/{batch_id}/events/stream")
    response = connection.getresponse()
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/event-stream")
    messages: list[dict] = []
    current: dict = {}
    try:
        while time.monotonic() < deadline and (line := response.readline().decode("utf-8")):
            line = line.rstrip("\n")
            if line.startswith(":"):
                continue
            if line:
                key, _, value = line.partition(": ")
                current[key] = json.loads(value) if key == "data" else value
            elif current:
                messages.append(current)
                if current.get("event") == "end":
                    break
                current = {}
    finally:
        connection.close()
    return messages


def progress_of(messages: list[dict]) -> list[float]:
    return [m["data"]["progress"] for m in messages]


def test_a_batch_streams_to_its_end_retries_only_failed_chunks_and_downloads_as_one_zip(  # type: ignore[no-untyped-def]
    app: Paperline, serve_api, start_worker, tmp_path: Path
) -> None:
    from tests.fake_anthropic import FakeAnthropic

    with FakeAnthropic() as fake:
        # Of the ten documents only the long one has pages 21-40 (its second chunk): that chunk meets an outage.
        fake.fail(500, times=None, when=lambda r: "Extract only pages 21-40" in r.prompt, message="outage")
        env = {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": fake.base_url, "PAPERLINE_LLM_MAX_RETRIES": "0"}
        api = serve_api(**env)
        doc = json.loads(call(f"{api}/openapi.json")[2])
        files = [(f"doc {i}.pdf", make_text_pdf(tmp_path / f"{i}.pdf", 1 + i % 3).read_bytes()) for i in range(9)]
        files.append(("long.pdf", make_text_pdf(tmp_path / "long.pdf", 45).read_bytes()))
        answer = post(f"{api}/jobs", *multipart(files, {"engine": "claude"}))
        assert answer[0] == 201, answer[2]
        body = conforms(doc, "/jobs", "post", (answer[0], dict(answer[1]), json.dumps(answer[2]).encode()))
        batch, jobs = body["batch"], body["jobs"]
        assert batch["jobs"] == 10 and batch["counts"]["queued"] == 10 and batch["message"] == "0 of 10 ready"
        assert {job["batch_id"] for job in jobs} == {batch["id"]}
        start_worker(workers=2, **env)

        seen = read_batch_stream(api, batch["id"])
        assert seen[-1]["event"] == "end"
        assert len(seen) >= 3 and progress_of(seen) == sorted(progress_of(seen)), "it rises and never goes back"
        assert progress_of(seen)[-1] == 100
        ended = seen[-1]["data"]
        assert ended["status"] == "failed" and ended["message"] == "9 of 10 ready, 1 failed"
        assert ended["counts"] == {"queued": 0, "running": 0, "completed": 9, "failed": 1, "canceled": 0}
        read = conforms(doc, "/batches/{batch_id}", "get", call(f"{api}/batches/{batch['id']}"))
        assert read["pages_done"] < read["pages"] == 18 + 45 and read["finished_at"] is not None

        long = next(j for j in app.batch_jobs(batch["id"]) if j.filename == "long.pdf")
        before = {c.index: c for c in app.chunks(long.id)}
        assert [c.status for c in before.values()] == [ChunkStatus.DONE, ChunkStatus.FAILED, ChunkStatus.DONE]
        fake.clear_failures()
        retried = conforms(doc, "/batches/{batch_id}/retry", "post", call(f"{api}/batches/{batch['id']}/retry", "POST"))
        assert retried["status"] == "running"
        again = read_batch_stream(api, batch["id"])
        assert progress_of(again) == sorted(progress_of(again)) and again[-1]["data"]["status"] == "completed"
        after = {c.index: c for c in app.chunks(long.id)}
        assert after[1].status is ChunkStatus.DONE and after[1].attempts > before[1].attempts
        assert [after[i].attempts for i in (0, 2)] == [before[i].attempts for i in (0, 2)], "only the failed one ran"
        assert problem(call(f"{api}/batches/{batch['id']}/retry", "POST"))["status"] == 409, "nothing left to retry"

        status, headers, data = call(f"{api}/batches/{batch['id']}/results")
        assert status == 200 and headers["Content-Type"] == "application/zip"
        archive = zipfile.ZipFile(io.BytesIO(data))
        manifest = json.loads(archive.read("manifest.json"))["jobs"]
        assert len(manifest) == 10 and all(entry["file"] for entry in manifest)
        for entry in manifest:
            assert archive.read(entry["file"]) == app.result_bytes(entry["job"]), entry
        assert {Path(entry["file"]).stem for entry in manifest} == {Path(name).stem for name, _ in files}
        assert problem(call(f"{api}/batches/nope"))["status"] == 404


def test_cancel_all_stops_every_job_of_a_batch(app: Paperline, serve_api, start_worker, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    api = serve_api()
    start_worker(workers=2, PAPERLINE_TESSERACT=str(slow_tesseract(tmp_path, 0.3)), **SLOW_JOB_SETTINGS)
    files = [(f"slow {i}.pdf", make_slow_pdf(tmp_path / f"s{i}.pdf", 10).read_bytes()) for i in range(4)]
    status, _, body = post(f"{api}/jobs", *multipart(files))
    assert status == 201
    batch_id = body["batch"]["id"]
    wait_until(lambda: app.batch(batch_id, eta=False).totals.pages_done > 0, timeout=60, what="the batch to run")
    canceled = call(f"{api}/batches/{batch_id}/cancel", "POST")
    assert canceled[0] == 200 and json.loads(canceled[2])["status"] == "canceled"
    jobs = app.batch_jobs(batch_id)
    assert [job.status for job in jobs] == [JobStatus.CANCELED] * 4
    assert all(chunk.status.is_final for job in jobs for chunk in app.chunks(job.id)), "no chunk left to run"
    assert read_batch_stream(api, batch_id)[-1]["data"]["status"] == "canceled", "an ended batch's stream ends"
    assert problem(call(f"{api}/batches/{batch_id}/cancel", "POST"))["status"] == 409
    status, _, data = call(f"{api}/batches/{batch_id}/results")
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"))["jobs"]
    assert [entry["file"] for entry in manifest] == [None] * 4 and "canceled" in manifest[0]["why"]


def test_an_urgent_job_goes_ahead_of_a_long_batch(app: Paperline, start_worker, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """One worker busy on a batch: a job submitted later with a higher priority starts (and ends) before the
    batch's chunks still waiting in the queue."""
    start_worker(workers=1, PAPERLINE_TESSERACT=str(slow_tesseract(tmp_path, 0.2)), **SLOW_JOB_SETTINGS)
    sources = [(make_slow_pdf(tmp_path / f"b{i}.pdf", 10), None) for i in range(3)]
    batch, _jobs = app.submit_batch(sources)
    wait_until(lambda: app.batch(batch.id, eta=False).totals.pages_done > 0, timeout=60, what="the batch to run")
    urgent = app.submit(make_text_pdf(tmp_path / "urgent.pdf", 1), priority=9)
    submitted = time.time()
    done = wait_until(lambda: (j := app.get(urgent.id)).is_final and j, timeout=120, what="the urgent job")
    assert done.status is JobStatus.COMPLETED and done.priority == 9
    jobs = app.batch_jobs(batch.id)
    # The batch's steps not yet begun when the urgent job came: preparing a document, or a chunk.
    later = [job.started_at for job in jobs] + [chunk.started_at for job in jobs for chunk in app.chunks(job.id)]
    waiting = [started for started in later if started is None or started > submitted]
    assert len(waiting) >= 3, "the batch still had work waiting when the urgent job came"
    assert all(started is None or started >= done.finished_at for started in waiting)  # type: ignore[operator]
    app.cancel_batch(batch.id)


def test_the_cli_submits_files_as_one_batch_follows_it_and_downloads_it(
    app: Paperline, start_worker, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import paperline
    from tests.docgen import known_text

    files = [str(make_text_pdf(tmp_path / f"part {i}.pdf", i + 1)) for i in range(3)]
    start_worker(workers=2)
    submitted = paperline(app, "submit", *files, "--wait", "--priority", "3", "--json")
    assert submitted.returncode == 0, submitted.stderr
    jobs = json.loads(submitted.stdout)  # the jobs, a list as for one file, each naming its batch
    assert [job["priority"] for job in jobs] == [3, 3, 3] and [job["status"] for job in jobs] == ["completed"] * 3
    assert len({job["batch_id"] for job in jobs}) == 1
    assert "3 of 3 ready" in submitted.stderr, "the batch's progress is shown as it moves"
    batch_id = jobs[0]["batch_id"]
    batch = json.loads(paperline(app, "batch", "show", batch_id, "--json").stdout)
    assert batch["message"] == "3 of 3 ready" and batch["status"] == "completed"
    shown = paperline(app, "batch", "show", batch_id)
    assert shown.returncode == 0 and "3 of 3 ready" in shown.stdout and "part 2.pdf" in shown.stdout
    zipped = tmp_path / "all.zip"
    assert paperline(app, "batch", "download", batch_id, "-o", str(zipped)).returncode == 0
    archive = zipfile.ZipFile(zipped)
    assert archive.read("part 2.txt").decode() == known_text(3)
    refused = paperline(app, "batch", "retry", batch_id)
    assert refused.returncode == 2 and "no failed job" in refused.stderr
    assert paperline(app, "--user", "bob", "batch", "show", batch_id).returncode == 2, "another user's batch"
