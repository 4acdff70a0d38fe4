"""A real PostgreSQL server for tests: Debian's postgresql, run as the ``postgres`` user (initdb refuses root) on a
private unix socket directory only (no TCP at all), one fresh database per test."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

PORT = 5432  # names the socket file in the private directory; nothing listens on TCP


def postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    assert found, "PostgreSQL is missing: 'make test' installs Debian's postgresql"
    return found[-1].parent


class PostgresServer:
    """``start()`` makes a cluster in a fresh directory and starts it; ``stop()`` stops it (by pg_ctl, with its
    pid file) and removes the directory."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="paperline-pg-", dir="/tmp"))
        self.root.chmod(0o755)
        self.data, self.socket = self.root / "data", self.root / "socket"
        self.log = self.root / "server.log"

    def _as_postgres(self, *command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["runuser", "-u", "postgres", "--", *command], capture_output=True, text=True, check=True)

    def start(self) -> PostgresServer:
        self.socket.mkdir()
        shutil.chown(self.root, "postgres", "postgres")
        shutil.chown(self.socket, "postgres", "postgres")
        binary = postgres_bin()
        self._as_postgres(str(binary / "initdb"), "-D", str(self.data), "--auth=trust", "-U", "postgres", "-E", "UTF8")
        options = f"-k {self.socket} -p {PORT} -c listen_addresses='' -c max_connections=200 -c fsync=off"
        pg_ctl = str(binary / "pg_ctl")
        self._as_postgres(pg_ctl, "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.socket}&port={PORT}"

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
