"""The everyday commands start light: ``status``, ``jobs`` and ``result`` import none of the heavy libraries (the
migration tooling, the extraction engines, HTTP and metrics clients, pandas) on a home whose schema is current.
How long they take is measured by ``benchmarks/cli.py``; this holds the imports that made them slow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.service.paperline import Paperline
from tests.conftest import worker_env
from tests.docgen import make_text_pdf
from tests.sync_runner import run_queued

HEAVY = (
    "alembic",
    "sqlalchemy",
    "httpx",
    "prometheus_client",
    "pypdfium2",
    "pypdf",
    "PIL",
    "pandas",
    "numpy",
    "huey",
    "redis",
    "anthropic",
    "onnxruntime",
    "tokenizers",
    "openpyxl",
    "importlib.metadata",
    "tenacity",  # (and with it Tornado and asyncio: imported once a retry budget is in play)
    "tornado",
)


def imported_by(app: Paperline, *argv: str) -> list[str]:
    probe = (
        "import contextlib, io, json, sys\n"
        "from pipeline.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    status = main({list(argv)!r})\n"
        f"print(json.dumps([status, [m for m in {list(HEAVY)!r} if m in sys.modules]]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env=worker_env(app.settings), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    status, heavy = json.loads(done.stdout.strip().splitlines()[-1])
    assert status == 0
    return list(heavy)


@pytest.mark.parametrize("command", ["status JOB", "status", "jobs", "result JOB"])
def test_everyday_commands_import_no_heavy_library(app: Paperline, tmp_path: Path, command: str) -> None:
    job = app.submit(make_text_pdf(tmp_path / "a.pdf", 1), profile="markdown")
    run_queued(app)
    assert imported_by(app, *command.replace("JOB", job.id).split()) == []


def test_the_search_modes_named_by_the_cli_are_the_rankings() -> None:
    from pipeline.cli.search import SEARCH_MODES
    from pipeline.profiles.retrieval.ranking import SearchMode

    assert tuple(mode.value for mode in SearchMode) == SEARCH_MODES
