"""A real PostgreSQL server for tests: Debian's postgresql, run as the ``postgres`` user (initdb refuses root) on a
private unix socket directory only (no TCP at all), one fresh database per test."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.netns import Host

PORT = 5432  # names the socket file in the private directory; nothing listens on TCP


def postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    assert found, "PostgreSQL is missing: 'make test' installs Debian's postgresql"
    return found[-1].parent


class PostgresServer:
    """``start()`` makes a cluster in a fresh directory and starts it; ``stop()`` stops it (by pg_ctl, with its
    pid file) and removes the directory."""

    def __init__(self, host: Host | None = None, *, settings: dict[str, str] | None = None) -> None:
        """On ``host`` (a test network's namespace) it also listens on that host's address, for other hosts.
        ``settings`` are more server settings (``-c name=value``), e.g. a benchmark's statement statistics."""
        self.host, self.settings = host, settings or {}
        self.root = Path(tempfile.mkdtemp(prefix="paperline-pg-", dir="/tmp"))
        self.root.chmod(0o755)
        self.data, self.socket = self.root / "data", self.root / "socket"
        self.log = self.root / "server.log"

    def _as_postgres(self, *command: str) -> subprocess.CompletedProcess[str]:
        argv = ["runuser", "-u", "postgres", "--", *command]
        if self.host is not None:
            argv = self.host.command(*argv)
        return subprocess.run(argv, capture_output=True, text=True, check=True)

    def start(self) -> PostgresServer:
        self.socket.mkdir()
        shutil.chown(self.root, "postgres", "postgres")
        shutil.chown(self.socket, "postgres", "postgres")
        binary = postgres_bin()
        self._as_postgres(str(binary / "initdb"), "-D", str(self.data), "--auth=trust", "-U", "postgres", "-E", "UTF8")
        listen = self.host.address if self.host is not None else ""
        if self.host is not None:  # the other test hosts, and only those, may connect over TCP
            with (self.data / "pg_hba.conf").open("a") as hba:
                hba.write(f"host all all {self.host.address.rsplit('.', 1)[0]}.0/24 trust\n")
        options = f"-k {self.socket} -p {PORT} -c listen_addresses='{listen}' -c max_connections=200 -c fsync=off"
        self.options = options + "".join(f" -c {name}={value}" for name, value in self.settings.items())
        self.resume()
        return self

    def halt(self, mode: str = "fast") -> None:
        """Stop the server and keep its data (a fault for chaos tests): ``fast`` ends every session at once."""
        self._as_postgres(str(postgres_bin() / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def resume(self) -> None:
        """Start the server on its existing data, waiting until it accepts connections."""
        pg_ctl = str(postgres_bin() / "pg_ctl")
        self._as_postgres(pg_ctl, "-D", str(self.data), "-o", self.options, "-l", str(self.log), "-w", "start")

    def url(self, database: str = "postgres") -> str:
        """Through the socket directory (reachable from any namespace of this machine)."""
        return f"postgresql://postgres@/{database}?host={self.socket}&port={PORT}"

    def tcp_url(self, database: str) -> str:
        """Over the test network, as another host reaches it."""
        assert self.host is not None
        return f"postgresql://postgres@{self.host.address}:{PORT}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; returns its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        try:
            self._as_postgres(str(postgres_bin() / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except subprocess.CalledProcessError:
            pass  # not running
        shutil.rmtree(self.root, ignore_errors=True)
