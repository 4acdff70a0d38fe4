"""Webhooks: users' subscriptions, their per-user callback secret, and the deliveries outbox with each attempt.

Deliveries are written in the transaction that ends a job (the outbox pattern), so a message is never lost with
a worker; workers claim due ones with a lease and record every attempt.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Time: sa.types.TypeEngine[float] = sa.REAL().with_variant(postgresql.DOUBLE_PRECISION(), "postgresql")
Big = sa.Integer().with_variant(sa.BigInteger(), "postgresql")
ZERO, EMPTY = sa.text("0"), sa.text("''")

metadata = sa.MetaData()

sa.Table(
    "webhook_subscriptions",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("user", sa.Text, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("events", sa.Text, nullable=False),  # a JSON list of event types
    sa.Column("secret", sa.Text, nullable=False),  # whsec_...: signs, so kept as is (never shown again)
    sa.Column("created_at", Time, nullable=False),
    sa.Column("state", sa.Text, nullable=False, server_default=sa.text("'active'")),
    sa.Column("reason", sa.Text, nullable=False, server_default=EMPTY),
    sa.Column("last_status", sa.Text, nullable=False, server_default=EMPTY),
    sa.Column("last_attempt_at", Time),
    sa.Index("webhook_subscriptions_user", "user"),
)
# each user's secret for one-off callback_url deliveries
sa.Table(
    "webhook_secrets",
    metadata,  # each user's secret for one-off callback_url deliveries
    sa.Column("user", sa.Text, primary_key=True),
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("created_at", Time, nullable=False),
)
sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),  # msg_...: the webhook-id header, the same on every attempt
    sa.Column("subscription_id", sa.Text),  # NULL for a job's own callback_url
    sa.Column("job_id", sa.Text),
    sa.Column("user", sa.Text, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default=ZERO),
    sa.Column("next_attempt_at", Time),
    sa.Column("last_status_code", sa.Integer),
    sa.Column("last_error", sa.Text, nullable=False, server_default=EMPTY),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("delivered_at", Time),
    sa.Column("claim", sa.Text, nullable=False, server_default=EMPTY),
    sa.Column("lease_until", Time),
    sa.Index("webhook_deliveries_due", "status", "next_attempt_at"),
    sa.Index("webhook_deliveries_subscription", "subscription_id", "created_at"),
    sa.Index("webhook_deliveries_job", "job_id"),
)
sa.Table(
    "webhook_attempts",
    metadata,
    sa.Column("id", Big, primary_key=True, autoincrement=True),
    sa.Column("delivery_id", sa.Text, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("at", Time, nullable=False),
    sa.Column("status_code", sa.Integer),
    sa.Column("error", sa.Text, nullable=False, server_default=EMPTY),
    sa.Column("response", sa.Text, nullable=False, server_default=EMPTY),
    sa.Column("duration_s", Time, nullable=False, server_default=ZERO),
    sa.Index("webhook_attempts_delivery", "delivery_id", "attempt"),
    sqlite_autoincrement=True,
)


def upgrade() -> None:
    # Idempotent, as the baseline is: a database whose version was lost is upgraded from base again.
    bind = op.get_bind()
    metadata.create_all(bind)
    for table in metadata.sorted_tables:
        for index in table.indexes:
            index.create(bind, checkfirst=True)


def downgrade() -> None:
    for table in ("webhook_attempts", "webhook_deliveries", "webhook_secrets", "webhook_subscriptions"):
        op.drop_table(table)
