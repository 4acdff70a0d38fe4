"""Hardening: a batch remembers it was canceled (``batches.canceled_at``: no job joins it after), and answers under
way hold a reservation of the most they may cost (``ask_reservations``), so parallel questions cannot all pass a
daily budget and a user's answers in flight can be counted; a user's pending deliveries are counted by an index
(their backlog is capped).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Time: sa.types.TypeEngine[float] = sa.REAL().with_variant(postgresql.DOUBLE_PRECISION(), "postgresql")
Money: sa.types.TypeEngine[float] = sa.REAL().with_variant(postgresql.DOUBLE_PRECISION(), "postgresql")


def upgrade() -> None:
    # Each part only where missing: a database whose version was lost (or never kept) runs every step again.
    found = sa.inspect(op.get_bind())
    if "canceled_at" not in {column["name"] for column in found.get_columns("batches")}:
        op.add_column("batches", sa.Column("canceled_at", Time))
    if "webhook_deliveries_user" not in {index["name"] for index in found.get_indexes("webhook_deliveries")}:
        op.create_index("webhook_deliveries_user", "webhook_deliveries", ["user", "status"])  # a user's backlog
    if not found.has_table("ask_reservations"):
        op.create_table(
            "ask_reservations",
            sa.Column("id", sa.Text, primary_key=True),
            sa.Column("user", sa.Text, nullable=False),
            sa.Column("day", sa.Text, nullable=False),  # YYYY-MM-DD, UTC: the day its cost is recorded on
            sa.Column("amount_usd", Money, nullable=False),
            sa.Column("created_at", Time, nullable=False),
            sa.Column("expires_at", Time, nullable=False),
            sa.Index("ask_reservations_user", "user", "expires_at"),
        )


def downgrade() -> None:
    op.drop_table("ask_reservations")
    op.drop_index("webhook_deliveries_user", "webhook_deliveries")
    with op.batch_alter_table("batches") as batch:
        batch.drop_column("canceled_at")
