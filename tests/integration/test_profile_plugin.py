"""A profile is a plug-in: one module, named in ``PAPERLINE_PLUGINS``, that registers itself. The toy profile of
``tests/plugins/toy_profile.py`` runs end to end with no product code edited: offered to the page's picker, taken by
the HTTP API, rendered by a real worker in its own format, listed and served among the job's results."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.service.paperline import Paperline
from tests.docgen import known_text, make_text_pdf
from tests.helpers import ROOT, wait_until
from tests.integration.test_api import call, multipart, post

pytestmark = pytest.mark.integration
PLUGIN = {"PAPERLINE_PLUGINS": "tests.plugins.toy_profile"}


def test_a_profile_registered_by_a_plugin_of_the_tests_runs_end_to_end(  # type: ignore[no-untyped-def]
    app: Paperline, serve_dashboard, start_worker, tmp_path: Path
) -> None:
    api = serve_dashboard(PYTHONPATH=str(ROOT), **PLUGIN).removesuffix("/app") + "/api/v1"
    start_worker(workers=1, PYTHONPATH=str(ROOT), **PLUGIN)
    pdf = make_text_pdf(tmp_path / "toy.pdf", 2)

    status, _, answer = post(f"{api}/jobs", *multipart([("toy.pdf", pdf.read_bytes())], {"profile": "shout"}))
    assert status == 201, answer
    job_id = answer["jobs"][0]["id"]

    def finished() -> dict | None:
        job = json.loads(call(f"{api}/jobs/{job_id}")[2])
        return job if job["status"] in ("completed", "failed") else None

    job = wait_until(finished, timeout=120, interval=0.3, what="the toy profile's job")
    assert (job["status"], job["profile"]) == ("completed", "shout"), job

    status, headers, shouted = call(f"{api}/jobs/{job_id}/result?format=shout")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert shouted.decode() == known_text(2).upper()
    assert call(f"{api}/jobs/{job_id}/result")[2] == shouted, "the profile's main format is the default"
    assert json.loads(call(f"{api}/jobs/{job_id}/result?format=json")[2])["shouted"] == shouted.decode()
    # Without the plug-in (this test's own process) the job still reads: its files are there, its profile unknown.
    assert "json" in app.result_formats(job_id)


def test_the_page_and_the_command_line_offer_the_plugins_profile(tmp_path: Path) -> None:
    """The page's picker (the session state it is built from) and ``--profile`` take their choices from the
    registry, so the plug-in's profile appears beside the built-in ones for its engine only."""
    code = (
        "from dashboard.state import SessionState\n"
        "state = SessionState()\n"
        "local = list(state.param.profile.objects)\n"
        "state.engine = 'claude'\n"
        "print(local, list(state.param.profile.objects))\n"
    )
    env = {"PAPERLINE_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin", **PLUGIN}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "'shout'" in done.stdout.split("] [")[0] and "'shout'" not in done.stdout.split("] [")[1]
    helped = subprocess.run(
        [sys.executable, "-m", "pipeline", "submit", "--help"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert "shout" in helped.stdout
