"""Property-based HTTP fuzzing of the live API from its own OpenAPI document (Schemathesis).

Every operation gets generated valid and invalid requests, and chains (POST /jobs, then its links): no answer may
be a 5xx, and every answer must match the document (status codes, media types, bodies, SSE events, Allow on 405).
Two checks are left out on purpose: ``positive_data_acceptance`` (a schema-valid upload can still be bytes that
are no document, which must be refused) and ``use_after_free`` (DELETE removes a job's files, not its history,
which stays readable by design).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.api.openapi import openapi_document

pytestmark = pytest.mark.integration


def test_schemathesis_finds_no_server_error_and_no_answer_off_the_document(serve_dashboard, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    api = serve_dashboard().removesuffix("/app") + "/api/v1"
    st = Path(sys.executable).parent / "st"
    command = [
        str(st), "run", f"{api}/openapi.json", "--checks", "all",
        "--exclude-checks", "positive_data_acceptance,use_after_free",
        "--max-examples", "40", "--generation-database", "none", "--request-timeout", "20", "--seed", "1",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    paths = openapi_document("/api/v1")["paths"].values()
    operations = sum(1 for methods in paths for method in methods if method in ("get", "post", "put", "delete"))
    assert "passed" in done.stdout and f"{operations}/{operations}" in done.stdout, done.stdout[-2000:]
