"""A real webhook receiver on 127.0.0.1 (``http.server`` in a thread) that verifies every request with
``standardwebhooks``' own ``Webhook(secret).verify``, records what it got, and answers as a test scripts it."""

from __future__ import annotations

import json
import threading
import time
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
