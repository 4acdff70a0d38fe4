"""The object store restarting under a real S3Storage (a SeaweedFS server of this test's own, stopped and started):
reads and writes wait it out, and a missing object is an answer at once (no retries)."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest

from pipeline.core import transient
from pipeline.files.storage import S3Storage, StorageUnavailable
from tests.helpers import wait_until
from tests.s3_server import S3Server

pytestmark = pytest.mark.integration


@pytest.fixture
def server(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """The session's SeaweedFS (weed mini's ports are fixed: a second one on loopback would not be the one that
    answers), running again after the test whatever it did to it."""
    own = s3_server
    for name, value in own.env().items():
        monkeypatch.setenv(name, value)
    probe = S3Storage("paperline", retry_s=0)

    def bucket_made() -> bool:  # weed makes the bucket just after its endpoint answers
        try:
            probe.check()
        except StorageUnavailable:
            return False
        return True

    wait_until(bucket_made, timeout=30, interval=0.2, what="the test bucket")
    yield own  # type: ignore[misc]
    if own.process is None:
        own.resume()


def test_writes_and_reads_wait_while_the_object_store_restarts(server: S3Server) -> None:
    # boto3's own retries (three attempts) can span a quick restart on their own; with one attempt each refused
    # connection reaches Paperline's wait, which is what is under test.
    import boto3
    from botocore.config import Config

    client = boto3.client("s3", config=Config(retries={"mode": "standard", "max_attempts": 1}))
    storage = S3Storage("paperline", "faults", client, retry_s=60)
    storage.put_bytes("job/source.pdf", b"%PDF-1.4 before")
    heard: list[str] = []
    server.halt()
    restart = threading.Timer(2.0, server.resume)
    restart.start()
    try:
        with transient.reporting_waits(lambda service, error, waited: heard.append(service)):
            storage.put_bytes("job/chunks/00000.json", b"[]")
            size, _digest = storage.put_stream("job/result.txt", io.BytesIO(b"text"))
    finally:
        restart.join()
    assert heard and set(heard) == {"object store"}, "the waits were told to whoever runs the step"
    assert size == 4 and storage.get_bytes("job/chunks/00000.json") == b"[]"
    assert storage.sizes("job/") == {"job/source.pdf": 15, "job/chunks/00000.json": 2, "job/result.txt": 4}


def test_a_missing_object_is_an_answer_at_once(server: S3Server, tmp_path: Path) -> None:
    storage = S3Storage("paperline", "faults", retry_s=60)
    heard: list[str] = []
    with transient.reporting_waits(lambda service, error, waited: heard.append(service)):
        assert storage.get_bytes("job/nothing.json") is None
        assert not storage.download("job/nothing.pdf", tmp_path / "nothing.pdf")
    assert heard == [], "nothing was retried"
