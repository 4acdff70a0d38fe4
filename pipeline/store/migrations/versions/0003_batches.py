"""Batches: documents submitted together (a ``batches`` row each, named by ``jobs.batch_id``), and a job's queue
``priority``.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Time: sa.types.TypeEngine[float] = sa.REAL().with_variant(postgresql.DOUBLE_PRECISION(), "postgresql")


def upgrade() -> None:
    # Each part only where missing: a database whose version was lost (or never kept) runs every step again.
    found = sa.inspect(op.get_bind())
    if not found.has_table("batches"):
        _create_batches()
    columns = {column["name"] for column in found.get_columns("jobs")}
    # Plain columns (no foreign key): SQLite adds a column with ALTER TABLE only without one, and a batch is never
    # deleted before its jobs.
    if "batch_id" not in columns:
        op.add_column("jobs", sa.Column("batch_id", sa.Text))
    if "priority" not in columns:
        op.add_column("jobs", sa.Column("priority", sa.Integer, nullable=False, server_default=sa.text("0")))
    if "jobs_batch" not in {index["name"] for index in found.get_indexes("jobs")}:
        op.create_index("jobs_batch", "jobs", ["batch_id"])


def _create_batches() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("user", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False, server_default=sa.text("''")),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("jobs", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Index("batches_user", "user", "created_at"),
    )
