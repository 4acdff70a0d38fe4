"""Webhook subscriptions and the deliveries outbox in SQL (``WebhookRecords``).

A job's end writes its deliveries in the transaction that ends it (``_job_ended``), so no event is lost between a
job ending and a worker sending it. Workers claim due deliveries under a lease (``claim_transaction``: SQLite's
``BEGIN IMMEDIATE``; PostgreSQL's ``FOR UPDATE SKIP LOCKED``, so workers on other hosts skip rows another holds).
No revision moves: the dashboard's feed does not follow deliveries.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from pipeline.core import messages
from pipeline.core.batches import BatchView
from pipeline.core.models import (
    DeliveryAttempt,
    DeliveryStatus,
    JobStatus,
    SubscriptionState,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from pipeline.core.text import strip_controls
from pipeline.store.interface import AttemptOutcome
from pipeline.store.sql.base import SqlBase
from pipeline.store.sql.schema import JOB_COLUMNS, columns_of, job_from_row

SUBSCRIPTION_COLUMNS = columns_of(WebhookSubscription)
DELIVERY_COLUMNS = columns_of(WebhookDelivery)
ATTEMPT_COLUMNS = columns_of(DeliveryAttempt)


def new_message_id() -> str:
    """A Standard Webhooks message id: ``msg_`` and 128 random bits."""
    return "msg_" + secrets.token_hex(16)


def _subscription(row: Any) -> WebhookSubscription:
    data = dict(row)
    data["events"] = tuple(json.loads(data["events"]))
    data["state"] = SubscriptionState(data["state"])
    return WebhookSubscription(**data)


def _delivery(row: Any) -> WebhookDelivery:
    data = dict(row)
    data["payload"] = json.loads(data["payload"])
    data["status"] = DeliveryStatus(data["status"])
    return WebhookDelivery(**data)


class SqlWebhooks(SqlBase):
    """``WebhookRecords`` in SQL."""

    #: appended to the claim's SELECT where the database can skip rows another transaction holds
    SKIP_LOCKED = ""
    #: the interface's (``WebhookRecords.max_pending_deliveries``)
    max_pending_deliveries: int

    def claim_transaction(self) -> AbstractContextManager[Any]:
        """Where deliveries are claimed and their attempts recorded: a write transaction, by default the usual
        one. PostgreSQL's does not take the revision lock: rows are locked one by one and skipped when held."""
        return self.transaction()

    # -- subscriptions -----------------------------------------------------------------------------------------
    def add_subscription(
        self,
        subscription: WebhookSubscription,
        secret: str,
        *,
        check: Callable[[list[WebhookSubscription]], None] | None = None,
    ) -> None:
        with self.transaction() as conn:  # a write transaction from its first statement: serialized
            if check is not None:
                rows = conn.execute(
                    f"SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions "
                    'WHERE "user" = ? ORDER BY created_at, id',
                    (subscription.user,),
                ).fetchall()
                check([_subscription(row) for row in rows])
            conn.execute(
                f"INSERT INTO webhook_subscriptions ({SUBSCRIPTION_COLUMNS}, secret) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    subscription.id,
                    subscription.user,
                    subscription.url,
                    json.dumps(list(subscription.events)),
                    subscription.created_at,
                    subscription.state.value,
                    subscription.reason,
                    subscription.last_status,
                    subscription.last_attempt_at,
                    secret,
                ),
            )

    def list_subscriptions(self, user: str | None = None) -> list[WebhookSubscription]:
        where, params = ('WHERE "user" = ?', (user,)) if user is not None else ("", ())
        rows = self.connection.execute(
            f"SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions {where} ORDER BY created_at DESC, id", params
        ).fetchall()
        return [_subscription(row) for row in rows]

    def get_subscription(self, subscription_id: str) -> WebhookSubscription | None:
        row = self.connection.execute(
            f"SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE id = ?", (subscription_id,)
        ).fetchone()
        return _subscription(row) if row else None

    def signing_secret(self, subscription_id: str | None, user: str) -> str | None:
        if subscription_id is not None:
            row = self.connection.execute(
                "SELECT secret FROM webhook_subscriptions WHERE id = ?", (subscription_id,)
            ).fetchone()
        else:
            row = self.connection.execute('SELECT secret FROM webhook_secrets WHERE "user" = ?', (user,)).fetchone()
        return row["secret"] if row else None

    def remove_subscription(self, subscription_id: str, user: str | None = None) -> bool:
        mine, params = ('AND "user" = ?', (subscription_id, user)) if user is not None else ("", (subscription_id,))
        with self.transaction() as conn:
            found = conn.execute(f"SELECT id FROM webhook_subscriptions WHERE id = ? {mine}", params).fetchone()
            if found is None:
                return False
            # Deliveries before the subscription: the order record_attempt locks them in.
            conn.execute(
                "DELETE FROM webhook_deliveries WHERE subscription_id = ? AND status = 'pending'", (subscription_id,)
            )
            conn.execute("DELETE FROM webhook_subscriptions WHERE id = ?", (subscription_id,))
            return True

    def callback_secret(self, user: str, new_secret: str) -> str:
        with self.transaction() as conn:
            conn.execute(
                'INSERT INTO webhook_secrets ("user", secret, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
                (user, new_secret, time.time()),
            )
            return conn.execute('SELECT secret FROM webhook_secrets WHERE "user" = ?', (user,)).fetchone()["secret"]

    # -- the outbox ------------------------------------------------------------------------------------------
    def record_webhook_event(
        self,
        user: str,
        event: str,
        data: dict[str, Any],
        *,
        job_id: str | None = None,
        callback_url: str = "",
        subscription_id: str | None = None,
    ) -> list[WebhookDelivery]:
        with self.transaction() as conn:
            ids = self._webhook_event(
                conn, user, event, data, job_id=job_id, callback_url=callback_url, subscription_id=subscription_id
            )
        return [d for d in (self.get_delivery(i) for i in ids) if d is not None]

    def _webhook_event(
        self,
        conn: Any,
        user: str,
        event: str,
        data: dict[str, Any],
        *,
        job_id: str | None = None,
        callback_url: str = "",
        subscription_id: str | None = None,
    ) -> list[str]:
        """Write the deliveries an event owes, in the caller's transaction; their ids."""
        if subscription_id is not None:
            rows = conn.execute(
                "SELECT id, url, events FROM webhook_subscriptions WHERE id = ?", (subscription_id,)
            ).fetchall()
            targets = [(row["id"], row["url"]) for row in rows]
        else:
            rows = conn.execute(
                "SELECT id, url, events FROM webhook_subscriptions WHERE \"user\" = ? AND state = 'active' "
                "ORDER BY created_at, id",
                (user,),
            ).fetchall()
            targets = [(row["id"], row["url"]) for row in rows if event in json.loads(row["events"])]
        if callback_url:
            targets.append((None, callback_url))
        if not targets:
            return []
        now, payload, ids = time.time(), json.dumps(data), []
        pending = conn.execute(
            "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE \"user\" = ? AND status = 'pending'", (user,)
        ).fetchone()["n"]
        for target, url in targets:
            message = new_message_id()
            if pending < self.max_pending_deliveries:
                status, due, error = DeliveryStatus.PENDING.value, now, ""
                pending += 1
            else:  # the user's backlog is full: recorded, never sent
                status, due, error = DeliveryStatus.FAILED.value, None, messages.webhook_not_sent(pending)
            conn.execute(
                f"INSERT INTO webhook_deliveries ({DELIVERY_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, NULL, ?, ?, ?, NULL, '')",
                (message, target, job_id, user, url, event, payload, status, due, error, now, now),
            )
            ids.append(message)
        return ids

    def _job_ended(self, conn: Any, job_id: str) -> None:
        """The deliveries a job's end owes (its owner's subscriptions, its callback), in the ending transaction."""
        row = conn.execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            return
        job = job_from_row(row)
        if not JobStatus(job.status).is_final:
            return
        callback = job.meta.get("callback_url")
        self._webhook_event(
            conn,
            job.user,
            WebhookEvent.for_job(job.status).value,
            job.to_dict(),
            job_id=job.id,
            callback_url=callback if isinstance(callback, str) else "",
        )
        if job.batch_id:
            self._batch_maybe_ended(conn, job.batch_id)

    def _batch_maybe_ended(self, conn: Any, batch_id: str) -> None:
        """The job that ended was its batch's last open one: the batch's end is owed to its owner's subscriptions,
        with the batch as the API answers it (a retried batch that ends again says so again)."""
        totals = self._batch_totals(conn, batch_id)
        if totals is not None and totals.is_final:
            data = BatchView(totals, 0.0).to_dict()
            self._webhook_event(conn, totals.batch.user, WebhookEvent.BATCH_COMPLETED.value, data)

    def _job_outcome_changed(self, conn: Any, job_id: str) -> None:
        """A job recorded already ended got its figures later (answered from cache): its unsent deliveries carry
        the job as it is now."""
        row = conn.execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is not None:
            conn.execute(
                "UPDATE webhook_deliveries SET payload = ? WHERE job_id = ? AND status = 'pending' AND attempts = 0 "
                "AND event LIKE ?",
                (json.dumps(job_from_row(row).to_dict()), job_id, "job.%"),
            )

    def _lock_claims(self, conn: Any) -> None:
        """Serialize delivery claims within the claim transaction (the per-user cap counts live leases); SQLite's
        ``BEGIN IMMEDIATE`` already does."""

    def claim_deliveries(
        self, now: float, *, limit: int, lease_s: float, claim: str, per_user: int = 0
    ) -> list[WebhookDelivery]:
        due = (
            "status = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)",
            (now, now),
        )
        # An idle poll is one indexed read, without the write lock.
        if (
            self.connection.execute(
                f"SELECT 1 AS one FROM webhook_deliveries WHERE {due[0]} LIMIT 1", due[1]
            ).fetchone()
            is None
        ):
            return []
        with self.claim_transaction() as conn:
            self._lock_claims(conn)
            if per_user > 0:
                # Each user's due deliveries numbered oldest first, beside how many that user has leased now: a
                # user gets only the places left under the cap, so others' deliveries fill the rest.
                rows = conn.execute(
                    'SELECT d.id FROM (SELECT id, "user", next_attempt_at, ROW_NUMBER() OVER '
                    '(PARTITION BY "user" ORDER BY next_attempt_at, id) AS place '
                    f"FROM webhook_deliveries WHERE {due[0]}) d "
                    'LEFT JOIN (SELECT "user", COUNT(*) AS busy FROM webhook_deliveries '
                    'WHERE status = \'pending\' AND lease_until >= ? GROUP BY "user") b ON b."user" = d."user" '
                    f"WHERE d.place + COALESCE(b.busy, 0) <= ? ORDER BY d.next_attempt_at, d.id LIMIT {int(limit)}",
                    (*due[1], now, per_user),
                ).fetchall()
                ids = [row["id"] for row in rows]
                if ids:  # the rows themselves, locked where the database can (and still due)
                    marks = ", ".join("?" * len(ids))
                    rows = conn.execute(
                        f"SELECT id FROM webhook_deliveries WHERE id IN ({marks}) AND {due[0]} "
                        f"ORDER BY next_attempt_at, id{self.SKIP_LOCKED}",
                        (*ids, *due[1]),
                    ).fetchall()
            else:
                rows = conn.execute(
                    f"SELECT id FROM webhook_deliveries WHERE {due[0]} ORDER BY next_attempt_at, id "
                    f"LIMIT {int(limit)}{self.SKIP_LOCKED}",
                    due[1],
                ).fetchall()
            ids = [row["id"] for row in rows]
            for delivery_id in ids:
                conn.execute(
                    "UPDATE webhook_deliveries SET claim = ?, lease_until = ? WHERE id = ?",
                    (claim, now + lease_s, delivery_id),
                )
            found = [
                _delivery(row)
                for row in (
                    conn.execute(f"SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = ?", (i,)).fetchone()
                    for i in ids
                )
                if row is not None
            ]
        return sorted(found, key=lambda d: (d.next_attempt_at or 0, d.id))

    def record_attempt(self, delivery_id: str, claim: str, outcome: AttemptOutcome) -> bool:
        now = time.time()
        status = DeliveryStatus(outcome.status)
        error, response = strip_controls(outcome.error), strip_controls(outcome.response)
        with self.claim_transaction() as conn:
            row = conn.execute(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, status = ?, next_attempt_at = ?, "
                "last_status_code = ?, last_error = ?, updated_at = ?, delivered_at = ?, claim = '', "
                "lease_until = NULL "
                "WHERE id = ? AND claim = ? AND status = 'pending' RETURNING attempts, subscription_id",
                (
                    status.value,
                    outcome.next_attempt_at if status is DeliveryStatus.PENDING else None,
                    outcome.status_code,
                    error,
                    now,
                    now if status is DeliveryStatus.DELIVERED else None,
                    delivery_id,
                    claim,
                ),
            ).fetchone()
            if row is None:
                return False
            conn.execute(
                f"INSERT INTO webhook_attempts ({ATTEMPT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (delivery_id, row["attempts"], now, outcome.status_code, error, response, outcome.duration_s),
            )
            if row["subscription_id"] is not None:
                last = str(outcome.status_code) if outcome.status_code is not None else error
                fields: dict[str, Any] = {"last_status": last[:200], "last_attempt_at": now}
                if status is DeliveryStatus.DELIVERED:
                    fields.update(state=SubscriptionState.ACTIVE.value, reason="")
                elif status is DeliveryStatus.FAILED:
                    fields.update(state=SubscriptionState.FAILING.value, reason=strip_controls(outcome.failing_reason))
                assignments = ", ".join(f"{name} = ?" for name in fields)
                conn.execute(
                    f"UPDATE webhook_subscriptions SET {assignments} WHERE id = ?",
                    (*fields.values(), row["subscription_id"]),
                )
        return True

    def get_delivery(self, delivery_id: str) -> WebhookDelivery | None:
        row = self.connection.execute(
            f"SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = ?", (delivery_id,)
        ).fetchone()
        return _delivery(row) if row else None

    def list_deliveries(
        self, *, subscription_id: str | None = None, job_id: str | None = None, limit: int | None = None
    ) -> list[WebhookDelivery]:
        clauses, params = [], []
        if subscription_id is not None:
            clauses.append("subscription_id = ?")
            params.append(subscription_id)
        if job_id is not None:
            clauses.append("job_id = ?")
            params.append(job_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        limit_sql = f"LIMIT {int(limit)}" if limit else ""
        rows = self.connection.execute(
            f"SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries {where} ORDER BY created_at DESC, id {limit_sql}",
            params,
        ).fetchall()
        return [_delivery(row) for row in rows]

    def list_attempts(self, delivery_id: str) -> list[DeliveryAttempt]:
        rows = self.connection.execute(
            f"SELECT {ATTEMPT_COLUMNS} FROM webhook_attempts WHERE delivery_id = ? ORDER BY attempt, id",
            (delivery_id,),
        ).fetchall()
        return [DeliveryAttempt(**dict(row)) for row in rows]
