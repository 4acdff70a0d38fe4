"""The job store in SQL, shared by the SQLite and PostgreSQL backends: one room per protocol of
``pipeline.store.interface`` (``jobs``, ``chunks``, ``recovery``, ``log``: events, changes, workers, retention;
``batches``: documents submitted together; ``tokens``: API tokens; ``passages``: retrieval passages and their
vectors; ``webhooks``: subscriptions and the deliveries outbox; ``usage``: what answers cost per user and day)
over the shared rules of ``base`` and the columns of ``schema``. A backend adds connections, transactions and DDL.
"""

from __future__ import annotations

from pipeline.store.sql.batches import SqlBatches
from pipeline.store.sql.chunks import SqlChunks
from pipeline.store.sql.jobs import SqlJobs
from pipeline.store.sql.log import SqlLog
from pipeline.store.sql.passages import SqlPassages
from pipeline.store.sql.recovery import SqlRecovery
from pipeline.store.sql.tokens import SqlTokens
from pipeline.store.sql.usage import SqlAskUsage
from pipeline.store.sql.webhooks import SqlWebhooks


class SqlStore(SqlJobs, SqlBatches, SqlChunks, SqlRecovery, SqlLog, SqlTokens, SqlPassages, SqlWebhooks, SqlAskUsage):
    """Every protocol's SQL; a backend subclasses this and ``JobStore``."""


__all__ = ["SqlStore"]
