"""A job's tables on every surface: the API's ``xlsx`` result (declared in its OpenAPI document, saved under the
document's name), ``Client.tables`` and ``AsyncClient.tables`` as DataFrames, and ``paperline result --format xlsx``.
The API is served in process; the job runs in the test's process (``run_queued``)."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from pipeline.client import AsyncClient, Client, Conflict
from pipeline.service.paperline import Paperline
from tests.conftest import paperline, worker_env
from tests.docgen import make_text_pdf
from tests.integration.test_api import call, problem
from tests.sync_runner import run_queued
from tests.unit.test_tables import _table_pdf

pytestmark = pytest.mark.integration
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_tables_over_http_as_a_workbook_and_as_frames(app: Paperline, serve_api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    api = serve_api()
    job = app.submit(_table_pdf(tmp_path / "Q3 report.pdf"), profile="markdown")
    plain = app.submit(make_text_pdf(tmp_path / "plain.pdf", 1), profile="markdown")
    with Client(api) as client, pytest.raises(Conflict, match="no result yet"):
        client.tables(job.id)
    run_queued(app)

    doc = json.loads(call(f"{api}/openapi.json")[2])
    result = doc["paths"]["/jobs/{job_id}/result"]["get"]
    assert "xlsx" in result["parameters"][0]["schema"]["enum"]
    assert result["responses"]["200"]["content"][XLSX]["schema"]["format"] == "binary"
    status, headers, body = call(f"{api}/jobs/{job.id}/result?format=xlsx")
    assert status == 200 and headers["Content-Type"] == XLSX
    assert headers["Content-Disposition"] == (
        "attachment; filename=\"Q3 report.xlsx\"; filename*=UTF-8''Q3%20report.xlsx"
    )
    book = openpyxl.load_workbook(io.BytesIO(body))
    assert book.sheetnames == ["Tables", "Table 1"]
    assert [c.value for c in book["Table 1"][3]] == ["South", 51544, 0.045]
    tables = call(f"{api}/jobs/{job.id}/result?format=tables")
    assert 'filename="Q3 report.tables.json"' in tables[1]["Content-Disposition"], "not the json result's name"
    assert json.loads(tables[2])["tables"][0]["caption"] == "Table 1: Revenue by region"
    assert problem(call(f"{api}/jobs/{plain.id}/result?format=xlsx"))["status"] == 409

    with Client(api) as client:
        [frame] = client.tables(job.id)
        assert client.tables(plain.id) == []
    assert frame["Revenue"].tolist() == [1234, 51544] and frame.attrs["caption"] == "Table 1: Revenue by region"

    async def read_async() -> list:
        async with AsyncClient(api) as client:
            return await client.tables(job.id, raw=True)

    [raw] = asyncio.run(read_async())
    assert raw["Revenue"].tolist() == ["1,234", "51,544"]


def test_paperline_result_saves_the_workbook(app: Paperline, tmp_path: Path) -> None:
    job = app.submit(_table_pdf(tmp_path / "Q3 report.pdf"), profile="markdown")
    run_queued(app)
    out = tmp_path / "out.xlsx"
    done = paperline(app, "result", job.id, "--format", "xlsx", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert openpyxl.load_workbook(out)["Table 1"]["B2"].value == 1234
    piped = subprocess.run(
        [sys.executable, "-m", "pipeline", "result", job.id, "--format", "xlsx"],
        env=worker_env(app.settings),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert piped.returncode == 0 and openpyxl.load_workbook(io.BytesIO(piped.stdout)).sheetnames[1] == "Table 1", (
        "a pipe gets the file's bytes"
    )
    listed = paperline(app, "status", job.id)
    assert "markdown, text, json, tables, csv, xlsx" in listed.stdout
