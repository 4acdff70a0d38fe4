"""Alembic's entry point: runs the steps of ``versions/`` on the connection ``pipeline.store.migrations.upgrade``
hands over, inside the transaction (and lock) its store already holds."""

from __future__ import annotations

from alembic import context

context.configure(connection=context.config.attributes["connection"])
with context.begin_transaction():  # the store's own transaction: nothing is committed here
    context.run_migrations()
