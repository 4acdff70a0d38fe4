"""Both notebooks run top to bottom on a fresh PAPERLINE_HOME (local engine, no network), as an analyst runs them."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.helpers import ROOT

pytestmark = pytest.mark.integration

NOTEBOOKS = ROOT / "notebooks"


def run_notebook(name: str, home: Path, out: Path) -> nbformat.NotebookNode:
    """Execute every cell in a fresh kernel; any error fails (nbclient raises CellExecutionError)."""
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(book, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}})
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


def test_inspect_jobs_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERLINE_HOME", str(tmp_path / "home"))
    book = run_notebook("inspect_jobs.ipynb", tmp_path / "home", tmp_path)
    text = outputs(book)
    assert "ended: completed" in text and "formats: ['markdown', 'text', 'json']" in text
    assert any(
        "application/vnd.holoviews_load.v0+json" in o.get("data", {})
        or "application/vnd.holoviews_exec.v0+json" in o.get("data", {})
        for cell in book.cells
        for o in cell.get("outputs", [])
    ), "the progress card was displayed as a live Panel view"
    assert not (tmp_path / "home" / "local-worker.log").read_text().count("Traceback")


def test_processing_analytics_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERLINE_HOME", str(tmp_path / "home"))
    book = run_notebook("processing_analytics.ipynb", tmp_path / "home", tmp_path)
    text = outputs(book)
    assert "{'completed': 18}" in text
    assert "median absolute error" in text
