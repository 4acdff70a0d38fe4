"""The Analytics tab in a real browser after a few jobs (local and Claude, against a fake Messages API)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pipeline import JobStatus, Paperline
from tests.docgen import make_text_pdf
from tests.fake_anthropic import FakeAnthropic
from tests.helpers import wait_until
from tests.ui.test_dashboard import open_tab

pytestmark = pytest.mark.ui

CHARTS = ("stage_breakdown", "throughput", "queue_wait", "failure_rate", "cost_per_day", "chunk_gantt")


def chart_rows(page, name: str) -> int:  # type: ignore[no-untyped-def]
    """Rows in the data source of the Bokeh figure called ``name`` in the browser (-1: no such figure)."""
    return page.evaluate(
        """(name) => {
            for (const doc of window.Bokeh.documents) {
                const fig = doc.get_model_by_name(name);
                if (fig) {
                    const data = fig.renderers[0].data_source.data;
                    const first = Object.keys(data)[0];
                    return first === undefined ? 0 : data[first].length;
                }
            }
            return -1;
        }""",
        name,
    )


def test_every_analytics_chart_renders_with_data(  # type: ignore[no-untyped-def]
    app: Paperline, start_worker, serve_dashboard, page, tmp_path: Path
) -> None:
    with FakeAnthropic() as server:
        env = {
            "ANTHROPIC_API_KEY": "test-key",
            "ANTHROPIC_BASE_URL": server.base_url,
            "PAPERLINE_MEDIUM_CHUNK_PAGES": "5",
            "PAPERLINE_SINGLE_CHUNK_MAX_PAGES": "5",
        }
        start_worker(workers=2, **env)
        url = serve_dashboard(**env)
        with_claude = Paperline(replace(app.settings, anthropic_api_key_set=True), store=app.store, queue=app.queue)
        jobs = [
            app.submit(make_text_pdf(tmp_path / "short.pdf", 4)),
            app.submit(make_text_pdf(tmp_path / "long.pdf", 25)),
            with_claude.submit(make_text_pdf(tmp_path / "claude.pdf", 6), engine="claude"),
        ]
        done = app.wait([j.id for j in jobs], timeout_s=120)
        assert {j.status for j in done} == {JobStatus.COMPLETED}, [j.error for j in done]

        page.goto(url)
        open_tab(page, "Analytics")
        for name in CHARTS:
            wait_until(lambda name=name: chart_rows(page, name) > 0, timeout=20, what=f"data in the {name} chart")
        assert chart_rows(page, "throughput") == 3 and chart_rows(page, "cost_per_day") == 1
        assert chart_rows(page, "chunk_gantt") == 2, "the latest job (6 pages in 5-page chunks) on the timeline"
        page.get_by_text("3 jobs in range").first.wait_for()

        # A job that ends while the page is open reaches the charts without a reload.
        app.wait([app.submit(make_text_pdf(tmp_path / "later.pdf", 9)).id], timeout_s=60)
        wait_until(lambda: chart_rows(page, "throughput") == 4, timeout=20, what="the new job in the charts")
        page.screenshot(path=str(tmp_path / "analytics.png"), full_page=True)


def test_a_tab_hidden_while_jobs_end_is_current_when_shown_again(  # type: ignore[no-untyped-def]
    app: Paperline, start_worker, dashboard: str, page, tmp_path: Path
) -> None:
    start_worker(workers=2)
    first = app.submit(make_text_pdf(tmp_path / "first.pdf", 3))
    app.wait([first.id], timeout_s=60)
    page.goto(dashboard)
    page.locator(".pl-history-row").first.wait_for()
    assert chart_rows(page, "jobs_over_time") == -1, "Charts is built only when first shown"
    open_tab(page, "Charts")
    wait_until(lambda: chart_rows(page, "jobs_over_time") == 1, timeout=20, what="the first job in the chart")
    open_tab(page, "Analytics")
    page.get_by_text("1 jobs in range").first.wait_for()
    open_tab(page, "History")  # both built tabs are hidden now
    later = [app.submit(make_text_pdf(tmp_path / f"later-{n}.pdf", 2 + n)) for n in range(2)]
    app.wait([job.id for job in later], timeout_s=60)
    page.locator(".pl-history-row").nth(2).wait_for(timeout=20_000)
    open_tab(page, "Charts")
    wait_until(lambda: chart_rows(page, "jobs_over_time") == 3, timeout=20, what="the hidden chart caught up")
    open_tab(page, "Analytics")
    page.get_by_text("3 jobs in range").first.wait_for(timeout=20_000)
    wait_until(lambda: chart_rows(page, "throughput") == 3, timeout=20, what="analytics refreshed when shown")
