"""Asking the documents: what each user's answers cost per day (UTC), so a daily budget can refuse the next one.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Money: sa.types.TypeEngine[float] = sa.REAL().with_variant(postgresql.DOUBLE_PRECISION(), "postgresql")
Big = sa.Integer().with_variant(sa.BigInteger(), "postgresql")
ZERO = sa.text("0")


def upgrade() -> None:
    # Only where missing: a database whose version was lost (or never kept) runs every step again.
    if sa.inspect(op.get_bind()).has_table("ask_usage"):
        return
    op.create_table(
        "ask_usage",
        sa.Column("user", sa.Text, nullable=False),
        sa.Column("day", sa.Text, nullable=False),  # YYYY-MM-DD, UTC
        sa.Column("questions", sa.Integer, nullable=False, server_default=ZERO),
        sa.Column("input_tokens", Big, nullable=False, server_default=ZERO),
        sa.Column("output_tokens", Big, nullable=False, server_default=ZERO),
        sa.Column("cost_usd", Money, nullable=False, server_default=ZERO),
        sa.PrimaryKeyConstraint("user", "day"),
    )


def downgrade() -> None:
    op.drop_table("ask_usage")
