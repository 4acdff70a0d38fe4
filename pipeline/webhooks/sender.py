"""One attempt of a delivery: POST the signed envelope with httpx and say what came of it.

Redirects are not followed (a 3xx is a failed attempt: following one would let a receiver point deliveries at
an address the check refused), every attempt is bounded by ``webhook_timeout_s`` as a whole (connect, send and
the answer, however slowly it drips), and only the first ``RESPONSE_KEPT`` characters of the answer are kept, as
text, for the delivery log.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from pipeline.core import messages
from pipeline.core.errors import WebhookRefused
from pipeline.core.models import WebhookDelivery
from pipeline.core.settings import Settings
from pipeline.core.text import strip_controls
from pipeline.webhooks.addresses import check_receiver, pinned
from pipeline.webhooks.envelope import body, signed_headers

RESPONSE_KEPT = 500
_READ_AT_MOST = 16 * 1024


@dataclass(frozen=True)
class Sent:
    """What one attempt came to: delivered (a 2xx), or why not."""

    delivered: bool
    status_code: int | None
    error: str
    response: str
    duration_s: float
    retry_after: str | None = None


def new_client(settings: Settings) -> httpx.Client:
    """One client per worker process: pooled connections, no redirects, no proxies from the environment."""
    limit = settings.webhook_concurrency
    return httpx.Client(
        timeout=httpx.Timeout(settings.webhook_timeout_s),
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_connections=limit, max_keepalive_connections=limit),
    )


def send(client: httpx.Client, delivery: WebhookDelivery, secret: str, settings: Settings) -> Sent:
    """POST one attempt of ``delivery`` signed with ``secret``."""
    started = time.monotonic()

    def took() -> float:
        return round(time.monotonic() - started, 4)

    try:
        address = check_receiver(delivery.url, allow_private=settings.webhook_allow_private)
    except WebhookRefused as exc:
        return Sent(False, None, str(exc), "", took())
    payload = body(delivery, settings.public_urls[0] if settings.public_urls else "")
    headers = signed_headers(delivery.id, payload, secret, datetime.now(UTC))
    url, extensions = delivery.url, {}
    if address is not None:  # connect to the address checked, not to what the name says now
        url, headers["host"] = pinned(delivery.url, address)
        extensions = {"sni_hostname": urlsplit(delivery.url).hostname or ""}
    deadline = started + settings.webhook_timeout_s
    try:
        with client.stream("POST", url, content=payload, headers=headers, extensions=extensions) as answer:
            kept = bytearray()
            for piece in answer.iter_bytes():
                kept.extend(piece)
                if len(kept) >= _READ_AT_MOST or time.monotonic() > deadline:
                    break
            code = answer.status_code
            text = strip_controls(kept.decode("utf-8", errors="replace"))[:RESPONSE_KEPT]
            if 200 <= code < 300:
                return Sent(True, code, "", text, took())
            if answer.is_redirect:
                error = messages.webhook_redirect_refused(code, answer.headers.get("location", "")[:200])
            else:
                error = messages.webhook_http_error(code)
            return Sent(False, code, error, text, took(), answer.headers.get("retry-after"))
    except httpx.TimeoutException:
        return Sent(False, None, messages.WEBHOOK_TIMED_OUT, "", took())
    except httpx.HTTPError as exc:
        return Sent(
            False, None, messages.webhook_unreachable(strip_controls(str(exc))[:300] or type(exc).__name__), "", took()
        )
