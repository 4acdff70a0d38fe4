"""Baseline: the job store as the last release without migrations made it, on SQLite and on PostgreSQL.

A database that release (or an older one) made has these tables but no version yet: it is at base too, and this
step completes it, adding whatever table, column or index it lacks (earlier releases added columns at start), so
every later step starts from the same schema.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateColumn

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Where the dialects differ, SQLAlchemy's types say how: times are REAL on SQLite, DOUBLE PRECISION on PostgreSQL;
# counters that grow past 2**31 BIGINT there (SQLite's INTEGER is 64-bit already); bytes BLOB or BYTEA.
Time: sa.types.TypeEngine[float] = sa.REAL().with_variant(postgresql.DOUBLE_PRECISION(), "postgresql")
Big = sa.Integer().with_variant(sa.BigInteger(), "postgresql")
ZERO, EMPTY = sa.text("0"), sa.text("''")

metadata = sa.MetaData()

sa.Table(
    "revision",
    metadata,
    sa.Column("id", sa.Integer, sa.CheckConstraint("id = 1"), primary_key=True, autoincrement=False),
    sa.Column("value", Big, nullable=False),
)
sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("profile", sa.Text, nullable=False),
    sa.Column("engine", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("stage", sa.Text, nullable=False),
    sa.Column("progress", Time, nullable=False, server_default=ZERO),
    sa.Column("message", sa.Text, nullable=False, server_default=EMPTY),
    sa.Column("pages", sa.Integer, nullable=False, server_default=ZERO),
    sa.Column("pages_done", sa.Integer, nullable=False, server_default=ZERO),
    sa.Column("chunks_total", sa.Integer, nullable=False, server_default=ZERO),
    sa.Column("chunks_done", sa.Integer, nullable=False, server_default=ZERO),
    sa.Column("chunks_failed", sa.Integer, nullable=False, server_default=ZERO),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("started_at", Time),
    sa.Column("finished_at", Time),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("error", sa.Text, nullable=False, server_default=EMPTY),
    sa.Column("sha256", sa.Text, nullable=False, server_default=EMPTY),
    sa.Column("size_bytes", Big, nullable=False, server_default=ZERO),
    sa.Column("user", sa.Text, nullable=False, server_default=EMPTY),
    sa.Column("cached_from", sa.Text),
    sa.Column("compressed_bytes", Big),
    sa.Column("notes", sa.Text, nullable=False, server_default=sa.text("'[]'")),
    sa.Column("meta", sa.Text, nullable=False, server_default=sa.text("'{}'")),
    sa.Column("input_tokens", sa.Integer, nullable=False, server_default=ZERO),
    sa.Column("output_tokens", sa.Integer, nullable=False, server_default=ZERO),
    sa.Column("cost_usd", Time, nullable=False, server_default=ZERO),
    sa.Column("last_used_at", Time),
    sa.Column("purged_at", Time),
    sa.Column("step_recoveries", sa.Integer, nullable=False, server_default=ZERO),
    sa.Column("step_runs", sa.Integer, nullable=False, server_default=ZERO),
    sa.Column("rev", Big, nullable=False),
    sa.Index("jobs_rev", "rev"),
    sa.Index("jobs_created", "created_at"),
    sa.Index("jobs_user", "user", "created_at"),
    sa.Index("jobs_cache", "sha256", "profile", "engine", "status"),
)
sa.Table(
    "chunks",
    metadata,
    sa.Column("job_id", sa.Text, sa.ForeignKey("jobs.id"), primary_key=True),
    sa.Column("idx", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("first_page", sa.Integer, nullable=False),
    sa.Column("last_page", sa.Integer, nullable=False),
    sa.Column("context_first", sa.Integer, nullable=False),
    sa.Column("context_last", sa.Integer, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default=ZERO),
    sa.Column("worker", sa.Text, nullable=False, server_default=EMPTY),
    sa.Column("pages_done", sa.Integer, nullable=False, server_default=ZERO),
    sa.Column("started_at", Time),
    sa.Column("finished_at", Time),
    sa.Column("heartbeat_at", Time),
    sa.Column("error", sa.Text, nullable=False, server_default=EMPTY),
    sa.Column("input_tokens", sa.Integer, nullable=False, server_default=ZERO),
    sa.Column("output_tokens", sa.Integer, nullable=False, server_default=ZERO),
    sa.Column("cost_usd", Time, nullable=False, server_default=ZERO),
    sa.Column("attempt_base", sa.Integer, nullable=False, server_default=ZERO),
    sa.Column("rev", Big, nullable=False),
    sa.Index("chunks_rev", "rev"),
)
sa.Table(
    "events",
    metadata,
    # Ids only ever grow, also past a deleted last event (SQLite's AUTOINCREMENT, PostgreSQL's BIGSERIAL).
    sa.Column("id", Big, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.Text, nullable=False),
    sa.Column("at", Time, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("stage", sa.Text, nullable=False),
    sa.Column("progress", Time, nullable=False),
    sa.Column("chunk_index", sa.Integer),
    sa.Column("message", sa.Text, nullable=False, server_default=EMPTY),
    sa.Index("events_job", "job_id", "id"),
    sqlite_autoincrement=True,
)
sa.Table(
    "workers",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("host", sa.Text, nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at", Time, nullable=False),
    sa.Column("heartbeat_at", Time, nullable=False),
    sa.Column("stopped_at", Time),
)
sa.Table(
    "passages",
    metadata,
    sa.Column("job_id", sa.Text, sa.ForeignKey("jobs.id"), primary_key=True),
    sa.Column("idx", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("start_offset", sa.Integer, nullable=False),
    sa.Column("end_offset", sa.Integer, nullable=False),
    sa.Column("pages", sa.Text, nullable=False),
    sa.Column("headings", sa.Text, nullable=False),
    sa.Column("tokens", sa.Integer, nullable=False),
    sa.Column("vector", sa.LargeBinary),
)
sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("digest", sa.Text, nullable=False, unique=True),
    sa.Column("user", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False, server_default=EMPTY),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("revoked_at", Time),
    sa.Column("expires_at", Time),
)


def upgrade() -> None:
    bind = op.get_bind()
    found = sa.inspect(bind)
    for table in metadata.sorted_tables:
        if found.has_table(table.name):
            present = {column["name"] for column in found.get_columns(table.name)}
            for column in table.columns:
                if column.name not in present:
                    spec = CreateColumn(column).compile(dialect=bind.dialect)
                    op.execute(f"ALTER TABLE {table.name} ADD COLUMN {spec}")
    metadata.create_all(bind)  # the tables it lacks, with their indexes
    for table in metadata.sorted_tables:
        for index in table.indexes:
            index.create(bind, checkfirst=True)
    if bind.dialect.name == "postgresql" and "seq" not in {c["name"] for c in sa.inspect(bind).get_columns("jobs")}:
        # Jobs in insertion order, a tie-break for equal creation times (SQLite numbers rows itself: rowid).
        op.execute("ALTER TABLE jobs ADD COLUMN seq BIGSERIAL UNIQUE")
    op.execute("INSERT INTO revision (id, value) VALUES (1, 0) ON CONFLICT DO NOTHING")
