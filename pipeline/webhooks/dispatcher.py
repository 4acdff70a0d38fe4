"""The delivery loop every worker process runs: claim due deliveries from the store's outbox under a lease, send
each on a small thread pool (at most ``webhook_concurrency`` in flight, so a slow receiver holds one slot, never
the worker), and record each attempt with what follows (delivered, retried later, or failed for good, the
subscription then marked failing with why).

One user's deliveries hold at most ``webhook_user_concurrency`` slots across every worker (the claim counts them),
so one user's slow receivers never hold another user's deliveries back. Whatever an attempt raises is recorded as
a failed attempt, so backoff and the retry window apply to it like to any other failure; and the lease is always
longer than an attempt can take (``webhook_timeout_s``, kept by the sender's deadline), so no attempt outlives its
claim and no other worker sends the same message meanwhile.

Delivery is at least once: a worker that dies mid-send leaves its claim to lapse, and another worker sends the
message again with the same ``webhook-id``, by which receivers drop the duplicate.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from pipeline.core import messages
from pipeline.core.models import DeliveryStatus, WebhookDelivery
from pipeline.core.settings import Settings
from pipeline.store import JobStore
from pipeline.store.interface import AttemptOutcome
from pipeline.webhooks.addresses import without_query
from pipeline.webhooks.envelope import new_secret
from pipeline.webhooks.retries import next_attempt_at, retry_after_s
from pipeline.webhooks.sender import Sent, new_client, send

log = logging.getLogger("paperline.webhooks")


def lease_s(settings: Settings) -> float:
    """How long a claim holds a delivery: well past the longest an attempt can take (its deadline), and the
    recording after it."""
    return 2 * settings.webhook_timeout_s + 30


class Dispatcher:
    """Sends this process's share of due deliveries; ``run_once`` is one poll (tests call it directly)."""

    def __init__(self, settings: Settings, store: JobStore, *, client: httpx.Client | None = None) -> None:
        self.settings, self.store = settings, store
        self.client = client or new_client(settings)
        self.claim = f"{uuid.uuid4().hex[:12]}"
        self.lease_s = lease_s(settings)
        self._pool = ThreadPoolExecutor(settings.webhook_concurrency, thread_name_prefix="paperline-webhook")
        self._in_flight = 0
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._rng = random.Random()

    def run_once(self, now: float | None = None) -> int:
        """Claim as many due deliveries as there are free slots and start sending them; how many were claimed."""
        with self._lock:
            free = self.settings.webhook_concurrency - self._in_flight
        if free <= 0:
            return 0
        claimed = self.store.claim_deliveries(
            time.time() if now is None else now,
            limit=free,
            lease_s=self.lease_s,
            claim=self.claim,
            per_user=self.settings.webhook_user_concurrency,
        )
        for delivery in claimed:
            with self._lock:
                self._in_flight += 1
            self._pool.submit(self._deliver_and_release, delivery)
        return len(claimed)

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until nothing is in flight (tests, shutdown); False after ``timeout_s``."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout=timeout_s)

    def run(self, stopped: threading.Event) -> None:
        """Poll until ``stopped``: straight on while deliveries are due, every ``webhook_poll_s`` when idle."""
        while not stopped.is_set():
            try:
                busy = self.run_once()
            except Exception:
                log.exception("webhook delivery poll failed")
                busy = 0
            if not busy:
                stopped.wait(self.settings.webhook_poll_s)
            else:
                with self._idle:  # a slot frees up, or a short while passes
                    self._idle.wait(self.settings.webhook_poll_s)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()

    # -- one delivery ---------------------------------------------------------------------------------------
    def _deliver_and_release(self, delivery: WebhookDelivery) -> None:
        try:
            self.deliver(delivery)
        except Exception:
            log.exception("webhook delivery %s failed unexpectedly", delivery.id)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def deliver(self, delivery: WebhookDelivery) -> AttemptOutcome:
        """Send one attempt of a claimed delivery and record it; the outcome recorded."""
        secret = self.store.signing_secret(delivery.subscription_id, delivery.user)
        if secret is None and delivery.subscription_id is None:
            # A job's callback_url, from a user who never asked for their callback secret: made now (it is theirs to
            # read whenever they like), never sent unsigned.
            secret = self.store.callback_secret(delivery.user, new_secret())
        if secret is None:
            sent = Sent(False, None, messages.WEBHOOK_NO_SECRET, "", 0.0)
            outcome = AttemptOutcome(None, sent.error, "", 0.0, DeliveryStatus.FAILED)
        else:
            try:
                sent = send(self.client, delivery, secret, self.settings)
            except Exception:  # recorded like any failure, so it is retried on the schedule, never claimed in a loop
                log.exception("webhook delivery %s to %s failed", delivery.id, without_query(delivery.url))
                sent = Sent(False, None, messages.WEBHOOK_FAILED, "", 0.0)
            outcome = self.outcome(delivery, sent)
        if not self.store.record_attempt(delivery.id, self.claim, outcome):
            log.warning("webhook delivery %s: the claim lapsed before its attempt was recorded", delivery.id)
        return outcome

    def outcome(self, delivery: WebhookDelivery, sent: Sent, now: float | None = None) -> AttemptOutcome:
        """What follows an attempt: delivered; pending again at the next time of its schedule; or failed, with
        the reason its subscription is now failing."""
        if sent.delivered:
            return AttemptOutcome(sent.status_code, "", sent.response, sent.duration_s, DeliveryStatus.DELIVERED)
        now = time.time() if now is None else now
        attempts = delivery.attempts + 1
        due = next_attempt_at(
            delivery.created_at,
            attempts,
            now,
            self.settings,
            retry_after=retry_after_s(sent.retry_after, now),
            rng=self._rng,
        )
        if due is not None:
            return AttemptOutcome(
                sent.status_code, sent.error, sent.response, sent.duration_s, DeliveryStatus.PENDING, due
            )
        hours = (now - delivery.created_at) / 3600
        return AttemptOutcome(
            sent.status_code,
            sent.error,
            sent.response,
            sent.duration_s,
            DeliveryStatus.FAILED,
            failing_reason=messages.webhook_gave_up(attempts, hours, sent.error),
        )
