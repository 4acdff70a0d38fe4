"""The claude engine on real worker processes: chunks in parallel, never more requests in flight than allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import JobStatus, Paperline
from pipeline.core.settings import Settings
from tests.docgen import make_text_pdf
from tests.fake_anthropic import FakeAnthropic

pytestmark = pytest.mark.integration


def test_chunks_run_in_parallel_up_to_the_concurrency_limit(start_worker, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with FakeAnthropic(delay_s=0.4) as server:
        env = {
            "ANTHROPIC_API_KEY": "test-key",
            "ANTHROPIC_BASE_URL": server.base_url,
            "PAPERLINE_LLM_CONCURRENCY": "2",
            "PAPERLINE_LARGE_CHUNK_PAGES": "10",
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        start_worker(workers=4, **env)
        app = Paperline(Settings.from_env().with_home(tmp_path / "home"))
        job = app.submit(make_text_pdf(tmp_path / "long.pdf", 120), engine="claude")
        [job] = app.wait([job.id], timeout_s=120)
        assert job.status is JobStatus.COMPLETED, job.error
        assert job.chunks_total == 12 and len(server.requests) == 12
        assert server.max_in_flight == 2, f"limit 2, saw {server.max_in_flight} requests at once"
        workers = {c.worker for c in app.chunks(job.id)}
        assert len(workers) >= 2, "chunks did not spread over the worker processes"
        text = app.result(job.id)
        assert all(text.count(f"Page {p} line 1:") == 1 for p in range(1, 121))
