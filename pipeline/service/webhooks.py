"""Webhook subscriptions as users see them: subscribe (the secret shown once), list, remove, send a test, read
the delivery log; and the callback secret that signs a job's own ``callback_url``.

A ``callback_url`` given at submit is a one-off receiver of that job's end. As Standard Webhooks senders that
take a per-request URL do (Replicate's default webhook secret, for one), it is signed with a secret of the user's
own, made on first use and readable again by that user (``paperline webhook secret``, ``GET
/api/v1/webhooks/callback-secret``), since no subscription creation shows it once.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from typing import Any

from pipeline.core import messages
from pipeline.core.errors import WebhookDuplicate, WebhookLimitReached, WebhookNotFound, WebhookRefused
from pipeline.core.models import SUBSCRIBABLE_EVENTS, WebhookDelivery, WebhookEvent, WebhookSubscription
from pipeline.core.settings import Settings
from pipeline.store import JobStore
from pipeline.webhooks.addresses import check_receiver
from pipeline.webhooks.envelope import new_secret

#: sent by ``test``: enough for a receiver to check its verification end to end
TEST_DATA = {"message": "A test delivery from Paperline: your receiver verified its signature if it reads this."}


def parse_events(events: Iterable[str] | str | None) -> tuple[str, ...]:
    """The events asked for (a list, or comma-separated), checked; every job event when none are named."""
    if isinstance(events, str):
        events = events.split(",")
    wanted = tuple(dict.fromkeys(e.strip() for e in (events or ()) if e and e.strip()))
    unknown = [e for e in wanted if e not in SUBSCRIBABLE_EVENTS]
    if unknown:
        raise WebhookRefused(messages.webhook_unknown_events(unknown, SUBSCRIBABLE_EVENTS))
    return wanted or tuple(e.value for e in WebhookEvent if e.value.startswith("job."))


def check_url(settings: Settings, url: str) -> str:
    """A receiver URL fit to be sent to (``WebhookRefused`` saying why not), stripped."""
    url = (url or "").strip()
    check_receiver(url, allow_private=settings.webhook_allow_private, ports=settings.webhook_allow_ports)
    return url


def subscribe(
    store: JobStore, settings: Settings, user: str, url: str, events: Iterable[str] | str | None = None
) -> tuple[WebhookSubscription, str]:
    """A new subscription of ``user`` and its signing secret (``whsec_...``), which is never shown again. Refused
    past ``PAPERLINE_WEBHOOK_MAX_PER_USER`` subscriptions (``WebhookLimitReached``) and for a URL and events the
    user already subscribed (``WebhookDuplicate``): no user turns one event into many POSTs to one place."""
    subscription = WebhookSubscription(
        id="wh_" + secrets.token_hex(6),
        user=user,
        url=check_url(settings, url),
        events=parse_events(events),
        created_at=time.time(),
    )

    def check(existing: list[WebhookSubscription]) -> None:
        for other in existing:
            if other.url == subscription.url and set(other.events) == set(subscription.events):
                raise WebhookDuplicate(messages.webhook_duplicate(other.id))
        if len(existing) >= settings.webhook_max_per_user:
            raise WebhookLimitReached(messages.webhook_too_many(user, settings.webhook_max_per_user))

    secret = new_secret()
    store.add_subscription(subscription, secret, check=check)
    return subscription, secret


def find(store: JobStore, subscription_id: str, user: str | None) -> WebhookSubscription:
    """A subscription ``user`` may act on (any, for None: an admin)."""
    found = store.get_subscription(subscription_id)
    if found is None or (user is not None and found.user != user):
        raise WebhookNotFound(messages.no_webhook(subscription_id))
    return found


def remove(store: JobStore, subscription_id: str, user: str | None) -> None:
    find(store, subscription_id, user)
    if not store.remove_subscription(subscription_id, user):
        raise WebhookNotFound(messages.no_webhook(subscription_id))


def send_test(store: JobStore, subscription_id: str, user: str | None) -> WebhookDelivery:
    """Queue a ``webhook.test`` delivery to one subscription (a failing one too: one that gets through makes it
    active again); a worker sends it."""
    found = find(store, subscription_id, user)
    data = {**TEST_DATA, "subscription": found.id}
    (delivery,) = store.record_webhook_event(found.user, WebhookEvent.TEST.value, data, subscription_id=found.id)
    return delivery


def delivery_log(store: JobStore, subscription_id: str, user: str | None, limit: int = 50) -> list[dict[str, Any]]:
    """The subscription's deliveries, newest first, each with every attempt (status code, error, the receiver's
    answer as text)."""
    find(store, subscription_id, user)
    return [
        {**delivery.to_dict(), "attempt_log": [a.to_dict() for a in store.list_attempts(delivery.id)]}
        for delivery in store.list_deliveries(subscription_id=subscription_id, limit=limit)
    ]


def callback_secret(store: JobStore, user: str) -> str:
    """The secret that signs ``user``'s ``callback_url`` deliveries (made on first use)."""
    return store.callback_secret(user, new_secret())
