"""One attempt of a delivery: POST the signed envelope with httpx and say what came of it.

What a receiver sends back is never trusted with the worker's memory or time:

- the answer is asked for as it is (``Accept-Encoding: identity``) and read raw, never decoded: an answer in any
  other encoding (a gzip bomb among them) ends the attempt as failed, and so does one longer than ``READ_AT_MOST``
  (announced or sent); only the first ``RESPONSE_KEPT`` characters are kept, as text, for the delivery log;
- the whole attempt (connect, headers, body) has one wall-clock limit, ``webhook_timeout_s``: httpx's timeouts
  bound each read, so a receiver dripping a byte a second would never trip them; a ``Deadline`` shuts the
  attempt's connection down when the limit passes, which ends any read at once. Connections are not kept alive
  between attempts, so every attempt's connection is one the deadline holds;
- redirects are not followed (a 3xx is a failed attempt: following one would let a receiver point deliveries at
  an address the check refused).

Every network failure is told to the delivery log in the same words (``WEBHOOK_UNREACHABLE``), so the log cannot
tell a closed port from a silent one; the operator's log has the detail, with the URL's query left out.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from pipeline.core import messages
from pipeline.core.errors import WebhookRefused
from pipeline.core.models import WebhookDelivery
from pipeline.core.settings import Settings
from pipeline.core.text import strip_controls
from pipeline.webhooks.addresses import check_receiver, pinned, without_query
from pipeline.webhooks.envelope import body, signed_headers

RESPONSE_KEPT = 500
READ_AT_MOST = 16 * 1024

log = logging.getLogger("paperline.webhooks")


@dataclass(frozen=True)
class Sent:
    """What one attempt came to: delivered (a 2xx), or why not."""

    delivered: bool
    status_code: int | None
    error: str
    response: str
    duration_s: float
    retry_after: str | None = None


class Deadline:
    """A wall-clock limit on one attempt, kept by shutting its connection down: a read blocked on the socket
    returns at once. It learns the connection from httpcore's ``trace`` extension (the TCP stream, as soon as it
    is connected) and keeps a duplicate of its socket, so the shutdown reaches that connection and no other."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        with self._lock:
            held, self._sockets = self._sockets, []
        for sock in held:
            sock.close()

    def trace(self, name: str, info: dict[str, Any]) -> None:
        """httpcore's trace callback: hold on to each connection the attempt opens."""
        if name != "connection.connect_tcp.complete" or info.get("return_value") is None:
            return
        raw = info["return_value"].get_extra_info("socket")
        if raw is None:
            return
        sock = raw.dup()  # TLS wraps (and detaches) the original; the duplicate stays this connection's
        with self._lock:
            self._sockets.append(sock)
            late = self.expired
        if late:
            _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            held = list(self._sockets)
        for sock in held:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by the attempt itself


def new_client(settings: Settings) -> httpx.Client:
    """One client per worker process: no redirects, no proxies from the environment, no kept-alive connections
    (each attempt's connection is its own, under its deadline)."""
    # httpx logs every request's URL at INFO, query string and all (receivers put tokens there); the attempt's own
    # log line leaves the query out.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return httpx.Client(
        timeout=httpx.Timeout(settings.webhook_timeout_s),
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_connections=settings.webhook_concurrency, max_keepalive_connections=0),
    )


def send(client: httpx.Client, delivery: WebhookDelivery, secret: str, settings: Settings) -> Sent:
    """POST one attempt of ``delivery`` signed with ``secret``; whatever goes wrong is a failed attempt saying so."""
    started = time.monotonic()

    def took() -> float:
        return round(time.monotonic() - started, 4)

    try:
        address = check_receiver(
            delivery.url, allow_private=settings.webhook_allow_private, ports=settings.webhook_allow_ports
        )
    except WebhookRefused as exc:
        return Sent(False, None, str(exc), "", took())
    payload = body(delivery, settings.public_urls[0] if settings.public_urls else "")
    headers = signed_headers(delivery.id, payload, secret, datetime.now(UTC))
    headers["accept-encoding"] = "identity"
    url = delivery.url
    deadline = Deadline(settings.webhook_timeout_s)
    extensions: dict[str, Any] = {"trace": deadline.trace}
    if address is not None:  # connect to the address checked, not to what the name says now
        url, headers["host"] = pinned(delivery.url, address)
        extensions["sni_hostname"] = urlsplit(delivery.url).hostname or ""
    try:
        with deadline, client.stream("POST", url, content=payload, headers=headers, extensions=extensions) as answer:
            return _read(answer, took)
    except httpx.HTTPError as exc:
        why = f"no whole answer within {settings.webhook_timeout_s:g} s" if deadline.expired else _describe(exc)
        log.warning("webhook delivery %s to %s: %s", delivery.id, without_query(delivery.url), why)
        return Sent(False, None, messages.WEBHOOK_UNREACHABLE, "", took())


def _read(answer: httpx.Response, took: Any) -> Sent:
    """The attempt's outcome from the answer's status and its raw body (read up to ``READ_AT_MOST``)."""
    code = answer.status_code
    retry_after = answer.headers.get("retry-after")
    encoding = answer.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        return Sent(False, code, messages.webhook_encoded_answer(encoding), "", took(), retry_after)
    announced = answer.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > READ_AT_MOST:
        return Sent(False, code, messages.webhook_answer_too_long(READ_AT_MOST), "", took(), retry_after)
    kept = bytearray()
    # (an answer made in memory, by a test's transport, was read whole already; one from a socket never is)
    for piece in [answer.content] if answer.is_stream_consumed else answer.iter_raw():
        kept.extend(piece)
        if len(kept) > READ_AT_MOST:
            return Sent(False, code, messages.webhook_answer_too_long(READ_AT_MOST), "", took(), retry_after)
    text = strip_controls(kept.decode("utf-8", errors="replace"))[:RESPONSE_KEPT]
    if 200 <= code < 300:
        return Sent(True, code, "", text, took())
    if answer.is_redirect:
        error = messages.webhook_redirect_refused(code, answer.headers.get("location", "")[:200])
    else:
        error = messages.webhook_http_error(code)
    return Sent(False, code, error, text, took(), retry_after)


def _describe(exc: BaseException) -> str:
    """An httpx error in a line, for the operator: its kind and what it says (no URL: httpx's messages hold
    none, and the log line names the receiver without its query)."""
    return f"{type(exc).__name__}: {strip_controls(str(exc))[:300]}"
