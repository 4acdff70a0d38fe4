"""The client's progress bar in a real Jupyter kernel: one ipywidgets bar updated in place (tqdm.auto's notebook
bar), its length the job's pages once they are known, and no "IProgress not found" warning or text bar repeated in
the cell's output. Outside Jupyter it is tqdm's text bar, without a warning."""

from __future__ import annotations

import json

import nbformat
import pytest
from httpx_sse import ServerSentEvent
from nbclient import NotebookClient

from pipeline.client.calls import Follower
from tests.helpers import ROOT

pytestmark = pytest.mark.integration

#: a job's stream as the API sends it: progress with its pages known, then the end
CELL = """
import json
from httpx_sse import ServerSentEvent
from tqdm.notebook import tqdm as notebook_bar
from pipeline.client.calls import Follower

job = {"id": "j1", "filename": "report.pdf", "status": "running", "stage": "extracting", "pages": 40}
follower = Follower("j1", progress=True, description="report.pdf")
bar = follower._bar
follower.feed(ServerSentEvent(event="progress", data=json.dumps({**job, "pages_done": 10}), id="1"))
follower.feed(ServerSentEvent(event="progress", data=json.dumps({**job, "pages_done": 25}), id="2"))
seen = (isinstance(bar, notebook_bar), bar.total, bar.n, bar.container.children[1].max)
end = {**job, "status": "completed", "pages_done": 40}
final = follower.feed(ServerSentEvent(event="end", data=json.dumps(end), id="3"))
print(seen, final.status)
"""


def test_in_a_notebook_the_bar_is_one_widget_of_the_jobs_pages(tmp_path) -> None:  # type: ignore[no-untyped-def]
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL)])
    client = NotebookClient(book, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    outputs = book.cells[0].outputs
    widgets = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert len(widgets) == 1, outputs
    assert "IProgress" not in text and "it/s" not in text and "page/s" not in text, "no text bar beside the widget"
    assert "(True, 40, 25, 40.0) completed" in text, text


def test_outside_a_notebook_the_bar_is_text_and_warns_of_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    job = {"id": "j1", "filename": "a.pdf", "status": "running", "stage": "extracting", "pages": 12}
    follower = Follower("j1", progress=True, description="a.pdf")
    from tqdm.notebook import tqdm as notebook_bar
    from tqdm.std import tqdm as text_bar

    assert isinstance(follower._bar, text_bar) and not isinstance(follower._bar, notebook_bar)
    follower.feed(ServerSentEvent(event="progress", data=json.dumps({**job, "pages_done": 6}), id="1"))
    assert (follower._bar.total, follower._bar.n) == (12, 6)
    follower.close()
    assert "6/12" in capsys.readouterr().err
