"""Keyword search over passages' text, kept by the database itself so it can never drift from the passages.

SQLite: an FTS5 table over ``passages.text`` (external content: the text is stored once, in ``passages``), kept in
step by triggers, so every write or delete of passages (``start_embedding``, ``mark_purged``) changes it in the same
transaction. Its tokenizer is unicode61 with diacritics folded; an identifier such as ``INV-2027-0042`` or
``2.3.5`` becomes adjacent tokens, which a phrase query matches exactly. It is keyed by the passages' rowid, which
SQLite keeps unless a ``VACUUM`` renumbers the rows (Paperline never runs one; after a manual one,
``INSERT INTO passages_fts(passages_fts) VALUES ('rebuild')`` re-reads the text).

PostgreSQL: a generated ``tsvector`` column with a GIN index, also written with the row. Its configuration is
'simple' (no stemming, no stop words): Paperline records no document language to choose a stemmer by, and
'simple' keeps names and identifiers as written.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: the PostgreSQL text search configuration of ``passages.text_search`` (queries use the same: postgres.py's)
TEXT_SEARCH_CONFIG = "simple"

SQLITE_TRIGGERS = (
    """CREATE TRIGGER IF NOT EXISTS passages_fts_insert AFTER INSERT ON passages BEGIN
        INSERT INTO passages_fts (rowid, text) VALUES (new.rowid, new.text);
    END""",
    """CREATE TRIGGER IF NOT EXISTS passages_fts_delete AFTER DELETE ON passages BEGIN
        INSERT INTO passages_fts (passages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
    END""",
    """CREATE TRIGGER IF NOT EXISTS passages_fts_update AFTER UPDATE OF text ON passages BEGIN
        INSERT INTO passages_fts (passages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
        INSERT INTO passages_fts (rowid, text) VALUES (new.rowid, new.text);
    END""",
)


def upgrade() -> None:
    # Each part only where missing, as the steps before: a database whose version was lost runs every step again.
    bind = op.get_bind()
    found = sa.inspect(bind)
    if bind.dialect.name == "sqlite":
        if not found.has_table("passages_fts"):
            op.execute(
                "CREATE VIRTUAL TABLE passages_fts USING fts5(text, content='passages', content_rowid='rowid', "
                "tokenize='unicode61 remove_diacritics 2')"
            )
            op.execute("INSERT INTO passages_fts (passages_fts) VALUES ('rebuild')")  # passages already kept
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
        return
    if "text_search" not in {column["name"] for column in found.get_columns("passages")}:
        op.execute(
            "ALTER TABLE passages ADD COLUMN text_search tsvector "
            f"GENERATED ALWAYS AS (to_tsvector('{TEXT_SEARCH_CONFIG}'::regconfig, text)) STORED"
        )
    op.execute("CREATE INDEX IF NOT EXISTS passages_text_search ON passages USING GIN (text_search)")
