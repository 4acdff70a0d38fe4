"""Both notebooks run top to bottom on a fresh PAPERLINE_HOME (local engine, no network), as an analyst runs them."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from pipeline.store.sqlite import SqliteJobStore
from tests.helpers import ROOT

pytestmark = pytest.mark.integration

NOTEBOOKS = ROOT / "notebooks"
CELL_TIMEOUT_S = 120


def run_notebook(name: str, home: Path, out: Path) -> nbformat.NotebookNode:
    """Execute every cell in a fresh kernel; any error fails (nbclient raises CellExecutionError)."""
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    # a cell's bound, well under the test's: a hung cell fails with its notebook kept
    resources = {"metadata": {"path": str(NOTEBOOKS)}}
    client = NotebookClient(book, timeout=CELL_TIMEOUT_S, kernel_name="python3", resources=resources)
    try:
        client.execute()
    finally:
        nbformat.write(book, out / name)  # kept for a look at what the analyst would see
    return book


def outputs(book: nbformat.NotebookNode) -> str:
    texts = []
    for cell in book.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", "") or str(output.get("data", {}).get("text/plain", "")))
    return "\n".join(texts)


@pytest.fixture
def notebook_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh PAPERLINE_HOME for notebooks; any worker a notebook started and left running (a failing cell skips
    the notebook's own stop) is stopped by its process group afterwards."""
    home = tmp_path / "home"
    monkeypatch.setenv("PAPERLINE_HOME", str(home))
    yield home
    if (home / "jobs.db").exists():
        store = SqliteJobStore(home / "jobs.db")
        for worker in store.list_workers():
            try:
                os.killpg(os.getpgid(worker.pid), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        store.close()


@pytest.mark.timeout(600)  # two notebooks, each cell bounded by CELL_TIMEOUT_S
def test_both_notebooks_in_sequence_on_one_home(
    notebook_home: Path,
    tmp_path: Path,
    serve_dashboard,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What an analyst does: inspect_jobs, then processing_analytics, on the same data directory. The first stops
    the worker it started; the second must see that no worker is left and start its own, not wait for ever. A
    server on the same home answers the first notebook's HTTP client cell."""
    url = serve_dashboard(PAPERLINE_HOME=str(notebook_home)).removesuffix("/app")
    monkeypatch.setenv("PAPERLINE_URL", url)
    book = run_notebook("inspect_jobs.ipynb", notebook_home, tmp_path)
    text = outputs(book)
    assert "over HTTP: completed 12 pages;" in text, "the client cell followed its job over the API"
    assert "ended: completed" in text and "formats: ['markdown', 'text', 'json', 'tables', 'csv', 'xlsx']" in text
    assert any(
        "application/vnd.holoviews_load.v0+json" in o.get("data", {})
        or "application/vnd.holoviews_exec.v0+json" in o.get("data", {})
        for cell in book.cells
        for o in cell.get("outputs", [])
    ), "the progress card was displayed as a live Panel view"
    assert not (notebook_home / "local-worker.log").read_text().count("Traceback")

    book = run_notebook("processing_analytics.ipynb", notebook_home, tmp_path)
    text = outputs(book)
    started = (notebook_home / "local-worker.log").read_text().count("Paperline worker:")
    assert started == 2, "the second notebook saw the first one's worker had stopped and started its own"
    assert "{'completed': 18}" in text
    assert "median absolute error" in text
