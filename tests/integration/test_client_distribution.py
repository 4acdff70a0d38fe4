"""paperline-client (clients/python) built and installed into a fresh virtual environment, with nothing but its
declared dependencies and its tables extra (from the package index, at the test lock's versions), then used from
there against the HTTP API, a completed job's tables read as DataFrames too: proof that ``pipeline.client`` works
without the rest of Paperline, not only that its imports look so."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.service.paperline import Paperline
from tests.docgen import make_text_pdf
from tests.helpers import ROOT
from tests.locks import locked_versions
from tests.sync_runner import run_queued
from tests.unit.test_tables import _table_pdf

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # builds and installs a distribution with pandas

INSTALL_TIMEOUT_S = 600
RUN_TIMEOUT_S = 120
# Run in the fresh environment: what a program on another machine would do, reported as JSON.
SCRIPT = textwrap.dedent(
    """
    import json, sys
    import pipeline.client
    from pipeline.client import Client, NotFound

    try:
        import pipeline.service
        engine = "importable"
    except ModuleNotFoundError:
        engine = "absent"
    with Client(sys.argv[1]) as paperline:
        job = paperline.submit(sys.argv[2], profile="markdown")
        seen = paperline.get(job)
        try:
            paperline.get("no-such-job")
            missing = "found"
        except NotFound:
            missing = "NotFound"
        [table] = paperline.tables(sys.argv[3])
    print(json.dumps({"client": pipeline.client.__file__, "engine": engine, "id": job.id,
                      "status": seen.status, "filename": seen.filename, "missing": missing,
                      "columns": list(table.columns), "revenue": [int(v) for v in table["Revenue"]]}))
    """
)


def environment_without_the_checkout() -> dict[str, str]:
    """This process's environment less what would let the fresh interpreter find this checkout's code."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


def test_the_client_distribution_installs_alone_and_talks_to_a_server(
    app: Paperline, serve_api: Callable[..., str], tmp_path: Path
) -> None:
    # A self-contained source tree (the link to pipeline/client followed), so building writes nothing into the checkout.
    source = tmp_path / "source"
    shutil.copytree(ROOT / "clients" / "python", source, symlinks=False)
    pins = locked_versions(ROOT / "requirements" / "test.txt")
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("".join(f"{name}=={versions[0]}\n" for name, versions in pins.items()), encoding="utf-8")
    venv = tmp_path / "venv"
    env = environment_without_the_checkout()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=RUN_TIMEOUT_S, env=env)
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--constraint", str(constraints), f"{source}[tables]"],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_S,
        env=env,
        cwd=tmp_path,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json"], capture_output=True, text=True, timeout=RUN_TIMEOUT_S
    )
    names = {package["name"].lower() for package in json.loads(listed.stdout)}
    assert {"paperline-client", "httpx", "httpx-sse", "pandas"} <= names and "paperline" not in names
    assert not names & {"panel", "bokeh", "pyarrow", "huey", "sqlalchemy", "pypdf"}, names

    tabled = app.submit(_table_pdf(tmp_path / "tables.pdf"), profile="markdown")
    run_queued(app)  # the table job done in this process: no worker needed
    pdf = make_text_pdf(tmp_path / "report.pdf", 2)
    base_url = str(serve_api()).removesuffix("/api/v1")
    ran = subprocess.run(
        [str(python), "-I", "-c", SCRIPT, base_url, str(pdf), tabled.id],  # -I: no checkout, no user site on sys.path
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        env=env,
        cwd=tmp_path,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    report = json.loads(ran.stdout)
    assert report["client"].startswith(str(venv)), report
    assert report["engine"] == "absent", "only pipeline.client is installed, not the engine"
    assert (report["status"], report["filename"], report["missing"]) == ("queued", "report.pdf", "NotFound")
    assert app.get(report["id"]).filename == "report.pdf", "the job the installed client submitted is in the store"
    assert (report["columns"], report["revenue"]) == (["Region", "Revenue", "Change"], [1234, 51544])
