"""When a failed delivery is tried again: exponential backoff with jitter, honouring ``Retry-After``, until its
retry window (a day by default) after the event has passed.

The wait before retry ``n`` is drawn between half and all of ``first * 2**(n-1)`` (capped at ``max``): the
"equal jitter" of AWS's backoff study, so receivers that failed together are not all retried at one instant.
"""

from __future__ import annotations

import email.utils
import random
import time

from pipeline.core.settings import Settings


def backoff_s(attempts: int, settings: Settings, rng: random.Random | None = None) -> float:
    """The wait after the ``attempts``-th failed attempt (1 for the first)."""
    ceiling = min(settings.webhook_retry_max_s, settings.webhook_retry_first_s * 2 ** max(0, attempts - 1))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def retry_after_s(header: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (a number of seconds or an HTTP date), or None."""
    if not header:
        return None
    header = header.strip()
    if header.isdigit():
        return float(header)
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def next_attempt_at(
    created_at: float,
    attempts: int,
    now: float,
    settings: Settings,
    *,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float | None:
    """When to try a delivery again after its ``attempts``-th failure, or None when that is past its retry
    window (``webhook_retry_for_s`` after its event): it has then failed. A receiver's ``Retry-After`` is honoured
    (waited at least) within the window."""
    wait = backoff_s(attempts, settings, rng)
    if retry_after is not None:
        wait = max(wait, retry_after)
    due = now + wait
    return due if due <= created_at + settings.webhook_retry_for_s else None
