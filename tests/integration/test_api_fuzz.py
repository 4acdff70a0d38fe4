"""Property-based HTTP fuzzing of the live API from its own OpenAPI document (Schemathesis).

Every operation gets generated valid and invalid requests, and chains (POST /jobs, then the operations its links
lead to): no answer may be a 5xx, and every answer must match the document (status codes, media types, bodies,
headers, SSE events, Allow on 405, answers within 10 s). Every check runs (what ``--checks all`` turns on, set in the
config file: a check named on the command line would override an operation's own setting); two of them are narrowed
on a few operations, each for a behaviour the document declares in that operation's description:

- ``positive_data_acceptance`` on ``POST /jobs`` also takes its declared refusals (400, 413, 415, 422): schema-valid
  bytes can still be no document, and whether an engine runs here or offers a profile is no property of one field,
  so no schema can say it; on ``POST /webhooks`` also 422 (a schema-valid URL must resolve to a public address); on
  a job's result, source and page images also 410 (a deleted job's files are gone).
- ``use_after_free`` is off for reading a job, its chunks, events and stream: ``DELETE /jobs/{job_id}`` deletes a
  job's files and keeps its history, so those stay 200 by design (its result and source do answer 410 Gone).

No worker runs here, so a stream is read only as far as it goes at once (its job never ends): one event, since a
generated ``Last-Event-ID`` may skip the backlog and leave only the job's progress. A stream that still waits is cut
by the request timeout: keepalives come less often than it, so they cannot hold a connection open. The run's whole
bound (``RUN_S``) is well under the test's own timeout, so a run that overruns fails with Schemathesis' output.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.api.openapi import openapi_document

pytestmark = pytest.mark.integration

DEFAULT_ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # Schemathesis' own, kept


def accepting(*statuses: str) -> str:
    """Schema-valid requests may also get these declared answers (``positive_data_acceptance``)."""
    return f"checks.positive_data_acceptance.expected-statuses = {DEFAULT_ACCEPTED + list(statuses)!r}"


HISTORY_KEPT = "checks.use_after_free.enabled = false"
#: a stream lasts to its job's (or batch's) end, and no worker runs here: the event it sends at once is read (a job's
#: progress, after the backlog a generated Last-Event-ID may have skipped; a batch's progress), then it is closed
JOB_STREAM_START = "max-stream-events = 1"
BATCH_STREAM_START = "max-stream-events = 1"
#: seconds: one request's bound, the server's keepalive interval (longer, so a waiting stream is cut, not held open),
#: and the whole run's bound, under the test's own timeout (pytest's ``timeout`` in pyproject.toml, 300 s)
REQUEST_S = 20
KEEPALIVE_S = 3 * REQUEST_S
RUN_S = 240
#: per operation, the settings narrowing a check, each for a behaviour the document declares (module docstring)
NARROWED = {
    "POST /jobs": [accepting("400", "413", "415", "422")],
    "POST /webhooks": [accepting("422")],
    "GET /jobs/{job_id}/result": [accepting("410")],
    "GET /jobs/{job_id}/source": [accepting("410")],
    "GET /jobs/{job_id}/pages/{page}/image": [accepting("410")],
    "GET /jobs/{job_id}": [HISTORY_KEPT],
    "GET /jobs/{job_id}/chunks": [HISTORY_KEPT],
    "GET /jobs/{job_id}/events": [HISTORY_KEPT],
    "GET /jobs/{job_id}/events/stream": [HISTORY_KEPT, JOB_STREAM_START],
    "GET /batches/{batch_id}/events/stream": [BATCH_STREAM_START],
}


#: every check (what ``--checks all`` turns on, answers within 10 s included), in the file rather than on the command
#: line: Schemathesis lets a check named on the command line override an operation's own setting
EVERY_CHECK = "[checks]\nenabled = true\nmax_response_time = 10\n"


def schemathesis_config() -> str:
    operations = (
        "\n".join(["[[operations]]", f'include-name = "{name}"', *lines, ""]) for name, lines in NARROWED.items()
    )
    return "\n".join([EVERY_CHECK, *operations])


def test_schemathesis_finds_no_server_error_and_no_answer_off_the_document(serve_dashboard, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    api = serve_dashboard(PAPERLINE_API_HEARTBEAT_S=str(KEEPALIVE_S)).removesuffix("/app") + "/api/v1"
    document = openapi_document("/api/v1")
    described = {
        f"{method.upper()} {path}": op for path, item in document["paths"].items() for method, op in item.items()
    }
    assert "410 Gone" in described["DELETE /jobs/{job_id}"]["description"], "the exclusions rest on what it declares"
    assert "(415, 422)" in described["POST /jobs"]["description"]
    assert "public address" in described["POST /webhooks"]["description"]
    config = tmp_path / "schemathesis.toml"
    config.write_text(schemathesis_config())
    st = Path(sys.executable).parent / "st"
    command = [
        str(st), "--config-file", str(config), "run", f"{api}/openapi.json",
        "--max-examples", "40", "--generation-database", "none", "--request-timeout", str(REQUEST_S), "--seed", "1",
    ]  # fmt: skip
    try:
        done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_S, check=False)
    except subprocess.TimeoutExpired as overrun:
        output = overrun.stdout.decode() if isinstance(overrun.stdout, bytes) else (overrun.stdout or "")
        pytest.fail(f"Schemathesis ran over {RUN_S} s; its last output:\n{output[-6000:]}")
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    operations = sum(1 for item in document["paths"].values() for method in item if method != "parameters")
    assert "passed" in done.stdout and f"{operations}/{operations}" in done.stdout, done.stdout[-2000:]
