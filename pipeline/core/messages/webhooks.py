"""Webhook deliveries and subscriptions."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.core.messages.words import plural


# -- webhooks ---------------------------------------------------------------------------------------------------
def webhook_gave_up(attempts: int, hours: float, error: str) -> str:
    return f"Gave up after {plural(attempts, 'attempt')} over {hours:.1f} h; the last: {error}"


def webhook_http_error(code: int) -> str:
    return f"The receiver answered HTTP {code}"


def webhook_redirect_refused(code: int, location: str) -> str:
    return f"The receiver answered HTTP {code}, a redirect to {location or '(nowhere)'}: redirects are not followed"


#: every network failure of an attempt alike (refused, reset, timed out, TLS): which one is for the operator's log,
#: since telling them apart would make deliveries a port scanner
WEBHOOK_UNREACHABLE = "Could not reach the receiver (no connection, or no whole answer in time)"
WEBHOOK_NO_SECRET = "Its subscription was removed: nothing signs it any more"
WEBHOOK_FAILED = "The delivery could not be sent (the operator's log says why)"


def webhook_encoded_answer(encoding: str) -> str:
    return (
        f"The receiver answered in an encoding ({encoding[:40]}) that was not asked for: "
        "deliveries ask for a plain answer (Accept-Encoding: identity)"
    )


def webhook_answer_too_long(limit: int) -> str:
    return f"The receiver's answer was longer than {limit // 1024} KB; a receiver answers a delivery briefly"


def webhook_address_refused(host: str, why: str) -> str:
    return (
        f"Refused: {host} is a {why} address; webhooks go only to public addresses unless the "
        "operator sets PAPERLINE_WEBHOOK_ALLOW_PRIVATE=1"
    )


def webhook_name_refused(host: str) -> str:
    return (
        f"Refused: {host} does not resolve to public addresses only; webhooks go only to public addresses unless "
        "the operator sets PAPERLINE_WEBHOOK_ALLOW_PRIVATE=1"
    )


def webhook_url_character(character: str) -> str:
    return f"it holds {character}, a control, invisible or space character; encode it (e.g. %20)"


def webhook_port_refused(url: str, port: int) -> str:
    return (
        f"Not a webhook URL: {url!r} (port {port}: webhooks use 80, 443 or 1024-65535 unless the operator allows "
        "others with PAPERLINE_WEBHOOK_ALLOW_PORTS)"
    )


def webhook_too_many(user: str, limit: int) -> str:
    return (
        f"Limit reached: {user} has {limit} webhooks, the most one user may have (PAPERLINE_WEBHOOK_MAX_PER_USER); "
        "remove one first."
    )


def webhook_duplicate(existing: str) -> str:
    return f"You already have this webhook ({existing}): the same URL for the same events."


def webhook_not_sent(limit: int) -> str:
    return (
        f"Not sent: {limit} deliveries of yours were already waiting (PAPERLINE_WEBHOOK_MAX_PENDING_PER_USER); "
        "check your receivers"
    )


def webhook_bad_url(url: str, why: str) -> str:
    return f"Not a webhook URL: {url!r} ({why})"


def webhook_unknown_events(unknown: Sequence[str], known: Sequence[str]) -> str:
    return f"Unknown webhook events: {', '.join(unknown)}; choose from {', '.join(known)}"


def no_webhook(subscription_id: str) -> str:
    return f"No webhook {subscription_id!r}"
