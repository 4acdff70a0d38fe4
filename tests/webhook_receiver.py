"""A real webhook receiver on 127.0.0.1 (``http.server`` in a thread) that verifies every request with
``standardwebhooks``' own ``Webhook(secret).verify``, records what it got, and answers as a test scripts it."""

from __future__ import annotations

import json
import re
import select
import socket
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.helpers import free_port


@dataclass
class Received:
    """One request as the receiver saw it."""

    id: str
    body: dict[str, Any] | None
    verified: bool
    at: float
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    #: the status the receiver answered
    answered: int = 0
    #: the body as received (what was signed)
    raw: bytes = b""


#: what to answer: (status, headers, body)
Answer = tuple[int, dict[str, str], bytes]


class Receiver:
    """Start with ``start()``; ``answer`` decides each answer from the request number (0-based) and path."""

    def __init__(self, secrets: dict[str, str] | None = None, port: int = 0) -> None:
        #: path -> the secret its requests are verified with ("/" + anything not listed: ``default_secret``)
        self.secrets = dict(secrets or {})
        self.default_secret = ""
        self.port = port or free_port()
        self.got: list[Received] = []
        self.answer: Callable[[int, str], Answer] = lambda _n, _path: (204, {}, b"")
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                secret = receiver.secrets.get(self.path, receiver.default_secret)
                try:
                    body = Webhook(secret).verify(raw, headers) if secret else None
                    verified = bool(secret)
                except WebhookVerificationError:
                    body, verified = json.loads(raw or b"null"), False
                received = Received(
                    headers.get("webhook-id", ""), body, verified, time.time(), self.path, headers, raw=raw
                )
                with receiver._lock:
                    number = len(receiver.got)
                    receiver.got.append(received)
                status, extra, content = receiver.answer(number, self.path)
                received.answered = status
                try:
                    self.send_response(status)
                    for name, value in extra.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(content)))
                    self.end_headers()
                    self.wfile.write(content)
                except (BrokenPipeError, ConnectionResetError):
                    received.answered = 0  # the sender gave up (timed out) before the answer

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def ids(self) -> list[str]:
        with self._lock:
            return [r.id for r in self.got]

    def accepted(self) -> dict[str, int]:
        """How many times each message id was verified and answered 2xx (after idempotency: once)."""
        counts: dict[str, int] = {}
        with self._lock:
            for r in self.got:
                if r.verified and 200 <= r.answered < 300:
                    counts[r.id] = counts.get(r.id, 0) + 1
        return counts

    def verified(self) -> list[Received]:
        with self._lock:
            return [r for r in self.got if r.verified]


class RawReceiver:
    """A receiver that answers as no HTTP library would let a test answer: ``respond(sock)`` writes whatever bytes
    it likes, as slowly as it likes, after the request was read (a decompression bomb, headers a byte at a time).
    A TCP server on 127.0.0.1, a thread per connection; records when each request came and when the sender hung up."""

    def __init__(self, respond: Callable[[socket.socket], None]) -> None:
        self.respond = respond
        self.port = 0
        #: per request: (when it was read, its head, when the sender closed the connection or 0.0 while open)
        self.requests: list[list[Any]] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> RawReceiver:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            for conn in self._open:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._open.clear()

    def ids(self) -> list[str]:
        with self._lock:
            return [re.search(r"(?im)^webhook-id: *(\S+)", head.decode("latin-1"))[1] for _, head, _ in self.requests]  # type: ignore[index]

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with self._lock:
            self._open.add(conn)
        record: list[Any] = [0.0, b"", 0.0]
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                piece = conn.recv(65536)
                if not piece:
                    return
                head += piece
            head, _, rest = head.partition(b"\r\n\r\n")
            length = int(re.search(rb"(?im)^content-length: *(\d+)", head)[1])  # type: ignore[index]
            while len(rest) < length:
                piece = conn.recv(65536)
                if not piece:
                    return
                rest += piece
            record[:2] = [time.time(), head]
            with self._lock:
                self.requests.append(record)
            try:
                self.respond(conn)
            except OSError:
                pass  # the sender hung up while the answer was being written
            conn.settimeout(120)
            try:
                while conn.recv(65536):  # until the sender hangs up
                    pass
            except OSError:
                pass
        finally:
            record[2] = time.time()
            with self._lock:
                self._open.discard(conn)
            conn.close()


def drip(conn: socket.socket, data: bytes, every_s: float) -> None:
    """Send ``data`` one byte every ``every_s`` seconds, until it is all sent or the sender hangs up."""
    for byte in data:
        conn.sendall(bytes([byte]))
        if select.select([conn], [], [], every_s)[0] and not conn.recv(1):
            return  # the sender hung up


def gzip_bomb(megabytes: int) -> bytes:
    """``megabytes`` MB of zeros gzipped twice: about a kilobyte (600 MB gives 1,1xx bytes), made without holding
    the zeros."""
    inner = zlib.compressobj(9, zlib.DEFLATED, 31)
    outer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    out = [outer.compress(inner.compress(zeros)) for _ in range(megabytes)]
    out.append(outer.compress(inner.flush()))
    out.append(outer.flush())
    return b"".join(out)
