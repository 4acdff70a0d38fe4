"""A client generated from the live server's ``/api/v1/openapi.json`` by openapi-python-client works against that
server and a real worker: the document is one a real generator takes whole (no warning, every operation), and what
the generated code sends and parses is what the server does (a multipart upload with its options, typed answers,
downloads as bytes, problems with their status)."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.docgen import known_text, make_text_pdf
from tests.helpers import wait_until

pytestmark = pytest.mark.integration

PACKAGE = "paperline_client"  # openapi-python-client's name for the document's title, "Paperline"
#: post_hooks: none (the generated code is imported, not committed, so it need not be formatted);
#: content_type_overrides: the generator reads bytes only from application/octet-stream, and the batch zip and the
#: page images are bytes too
GENERATOR_CONFIG = "post_hooks: []\ncontent_type_overrides:\n" + "".join(
    f"  {media}: application/octet-stream\n" for media in ("application/zip", "image/png", "image/webp")
)


@pytest.fixture
def generated(tmp_path: Path) -> Iterator[Any]:
    """Import the package generated into ``tmp_path``; forgotten again afterwards."""
    yield lambda: importlib.import_module(PACKAGE)
    if str(tmp_path / "generated") in sys.path:
        sys.path.remove(str(tmp_path / "generated"))
    for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
        del sys.modules[name]


class Operations:
    """The generated ``api.default`` package: one module per operation, named by its operationId."""

    def __getattr__(self, name: str) -> Any:
        return importlib.import_module(f"{PACKAGE}.api.default.{name}")


def generate(api: str, folder: Path) -> str:
    """Generate the client from the live document into ``folder / PACKAGE``; the generator's output."""
    document = folder / "openapi.json"
    document.write_bytes(httpx.get(f"{api}/openapi.json", timeout=30).raise_for_status().content)
    config = folder / "generator.yaml"
    config.write_text(GENERATOR_CONFIG)
    generator = Path(sys.executable).parent / "openapi-python-client"
    command = [str(generator), "generate", "--path", str(document), "--meta", "none", "--config", str(config)]
    command += ["--output-path", str(folder / "generated" / PACKAGE)]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=120, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Warning" not in output and "Unable to" not in output, f"the generator left something out:\n{output}"
    return output


def test_a_client_generated_from_the_live_document_uploads_follows_and_reads_results(  # type: ignore[no-untyped-def]
    serve_api, start_worker, generated, tmp_path: Path
) -> None:
    start_worker(workers=1)
    api = serve_api()
    generate(api, tmp_path)
    sys.path.insert(0, str(tmp_path / "generated"))
    client_package = generated()
    default = Operations()
    models = importlib.import_module(f"{PACKAGE}.models")
    types = importlib.import_module(f"{PACKAGE}.types")
    operations = {path.stem for path in (tmp_path / "generated" / PACKAGE / "api" / "default").glob("*.py")}
    assert operations >= {"submit", "get_job", "job_result", "job_source", "delete_job", "stream_job", "get_batch"}

    with client_package.Client(base_url=api, timeout=httpx.Timeout(30.0)) as client:
        pdf = make_text_pdf(tmp_path / "report.pdf", 3).read_bytes()
        upload = types.File(payload=BytesIO(pdf), file_name="report.pdf", mime_type="application/pdf")
        answer = default.submit.sync(
            client=client, body=models.SubmitFilesBody(file=[upload]), profile=models.SubmitProfile("text")
        )
        assert isinstance(answer, models.SubmitResponse201), answer
        (job,) = answer.jobs
        assert job.filename == "report.pdf" and job.pages == 3 and job.profile == "text"

        def finished() -> Any:
            current = default.get_job.sync(job.id, client=client)
            assert isinstance(current, models.Job), current
            return current if current.status.value in ("completed", "failed", "canceled") else None

        done = wait_until(finished, timeout=60, interval=0.2, what="the job to end, read through the generated client")
        assert done.status == models.JobStatus.COMPLETED and done.pages_done == 3, done.error

        text = default.job_result.sync(job.id, client=client, format_=models.JobResultFormat("text"))
        assert text == known_text(3)
        source = default.job_source.sync(job.id, client=client)
        assert isinstance(source, types.File) and source.payload.read() == pdf

        # The answers a caller must handle come typed, with their status, as the document declares them.
        missing = default.get_job.sync("nope", client=client)
        assert isinstance(missing, models.Problem) and missing.status == 404
        deleted = default.delete_job.sync(job.id, client=client)
        assert isinstance(deleted, models.Job) and deleted.purged_at is not None, "its history stays"
        gone = default.job_result.sync(job.id, client=client)
        assert isinstance(gone, models.Problem) and gone.status == 410 and "Files deleted by" in gone.detail
