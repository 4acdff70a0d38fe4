"""Fuzzing intake and processing: whatever the bytes, a job ends with a status and a message, nothing escapes,
and the store stays consistent (counters match chunks, no chunk left open)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from pipeline import ChunkStatus, JobStatus, Paperline
from pipeline.core.settings import Settings
from tests.docgen import make_text_pdf
from tests.sync_runner import run_queued


def seed_documents(tmp: Path) -> list[bytes]:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "white").save(buffer, format="PNG")
    return [make_text_pdf(tmp / "seed.pdf", 3).read_bytes(), buffer.getvalue()]


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Paperline:
    home = tmp_path_factory.mktemp("fuzz")
    app = Paperline(Settings(home=home / "home", chunk_retries=0, ocr_dpi=72))
    app.seeds = seed_documents(home)  # type: ignore[attr-defined]
    return app


@st.composite
def mangled(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 6))):
        action = draw(st.sampled_from(["truncate", "flip", "insert", "delete"]))
        position = draw(st.integers(0, max(0, len(data) - 1)))
        if action == "truncate":
            del data[position:]
        elif action == "flip" and data:
            data[position] ^= draw(st.integers(1, 255))
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=64))
        elif data:
            del data[position : position + draw(st.integers(1, 64))]
    return bytes(data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mangled_documents_always_end_with_a_status_and_a_message(fuzz_app: Paperline, data: st.DataObject) -> None:
    content = data.draw(mangled(fuzz_app.seeds))  # type: ignore[attr-defined]
    name = data.draw(st.sampled_from(["doc.pdf", "scan.png", "x", "../evil.pdf"]))
    job = fuzz_app.submit(content, name)
    run_queued(fuzz_app)
    job = fuzz_app.get(job.id)
    assert job.status in (JobStatus.COMPLETED, JobStatus.FAILED), job
    if job.status is JobStatus.FAILED:
        assert job.error.strip() and job.message == job.error, "a failed job must say why, in its message too"
    elif job.cached_from:
        assert job.message.startswith(f"Served from cache: identical to job {job.cached_from} (") and not job.error
    else:
        assert job.message == f"Completed: {job.pages} page{'s' if job.pages != 1 else ''} extracted", job.message
        assert not job.error and job.pages_done == job.pages > 0
    # A job answered from cache has no chunks of its own: its figures are those of the job it reuses.
    chunks = fuzz_app.chunks(job.cached_from or job.id)
    assert not [c for c in chunks if not c.status.is_final], "a chunk was left open"
    assert job.chunks_done == sum(c.status is ChunkStatus.DONE for c in chunks)
    assert job.chunks_failed == sum(c.status is ChunkStatus.FAILED for c in chunks)
    assert "/" not in job.filename
