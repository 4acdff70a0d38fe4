"""Every code example of README.md and docs/ runs against a real home, page by page, in the order a reader meets
them (``tests/doc_examples.py`` finds and runs them).

A page gets a home of its own: a private PAPERLINE_HOME with a real worker process, the HTTP API served in this
process on a free port (``serve_api``) where a page writes ``localhost:5006`` (the port ``make run`` serves), a
webhook receiver on 127.0.0.1 where it writes ``https://etl.example``, and a working folder holding the reader's
files: ``report.pdf``, ``q3.pdf``, ``urgent.pdf``, ``long.pdf``, ``contract.pdf`` (a contract whose warranty the
search and ask examples look for) and ``scan.png``. Before each example ``$JOB``, ``$BATCH``, ``$WEBHOOK`` and
``$TOKEN_ID`` name the newest job, batch, webhook and token (what the last command printed), and ``$TOKEN`` is a
live API token of the user ``ann``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.service.paperline import Paperline
from tests.conftest import worker_env
from tests.doc_examples import Home, documentation_pages, find_examples, run_page
from tests.docgen import make_slow_pdf, make_text_image, make_text_pdf
from tests.helpers import ROOT, slow_tesseract
from tests.webhook_receiver import Receiver

PAGES = [page for page in documentation_pages() if any(example.runs for example in find_examples(page))]
#: what every process of the home reads: webhooks may reach the receiver on loopback
ENV = {"PAPERLINE_WEBHOOK_ALLOW_PRIVATE": "1"}

CONTRACT = [
    "Service agreement INV-2027-0042 between Northwind Traders and Contoso Ltd.",
    "1. Warranty",
    "The warranty expires on 31 March 2027, two years after delivery of the equipment.",
    "Repairs under warranty are free of charge; the customer pays shipping to the service centre.",
    "2. Renewal",
    "The contract renews every year on 1 April unless either party cancels three months before.",
    "The renewal price is 12,400 EUR a year, adjusted by the consumer price index.",
]


def write_contract(path: Path) -> Path:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in CONTRACT:
        pdf.multi_cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def readers_files(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    make_text_pdf(folder / "report.pdf", 3)
    make_text_pdf(folder / "q3.pdf", 2)
    make_text_pdf(folder / "urgent.pdf", 1)
    make_slow_pdf(folder / "long.pdf", 200)  # 100 pages to read by OCR, each a moment: time to cancel it
    write_contract(folder / "contract.pdf")
    (folder / "scan.png").write_bytes(make_text_image("Quarterly revenue rose by four percent"))


def newest(app: Paperline, keep_token: str) -> dict[str, str]:
    """The ids the last commands printed, as a reader copies them."""
    names: dict[str, str] = {}
    if jobs := app.jobs(limit=1):
        names["JOB"] = jobs[0].id
    if batches := app.batches(limit=1):
        names["BATCH"] = batches[0].id
    if webhooks := app.webhooks():
        names["WEBHOOK"] = max(webhooks, key=lambda hook: hook.created_at).id
    tokens = [token for token in app.api_tokens() if token.id != keep_token]
    if tokens:
        names["TOKEN_ID"] = max(tokens, key=lambda token: token.created_at).id
    return names


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hooks = Receiver().start()
    yield hooks
    hooks.stop()


@pytest.mark.timeout(600)  # a page is a reader's whole walk: a dozen commands, each a new process
@pytest.mark.parametrize("page", PAGES, ids=[str(page.relative_to(ROOT)) for page in PAGES])
def test_every_example_on_the_page_runs(
    page: Path, app: Paperline, start_worker, serve_api, receiver: Receiver, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # Tesseract a moment slower per page, so that a long document is still running when a page cancels it.
    start_worker(workers=1, PAPERLINE_TESSERACT=str(slow_tesseract(tmp_path, 0.5)), **ENV)
    api = serve_api(**ENV)
    port = api.split(":")[2].split("/")[0]
    ann, token = app.create_api_token("ann", "docs examples")
    work = tmp_path / "work"
    readers_files(work)
    home = Home(
        cwd=work,
        env={**worker_env(app.settings, **ENV), "TOKEN": token},
        substitutions={"localhost:5006": f"127.0.0.1:{port}", "https://etl.example": receiver.url},
        variables=lambda: newest(app, keep_token=ann.id),
    )
    ran = run_page(page, home)
    assert ran, f"{page} has no example that runs"
