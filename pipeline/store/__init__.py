"""The job store: the interface every backend implements, and the backend these settings ask for."""

from __future__ import annotations

from pipeline.core.settings import Settings
from pipeline.store.interface import Changes, JobStore, NewJob

__all__ = ["Changes", "JobStore", "NewJob", "open_store"]


def open_store(settings: Settings, *, count_statements: bool = True) -> JobStore:
    """The store for these settings: PostgreSQL at ``PAPERLINE_DATABASE_URL`` when set, else SQLite under
    ``PAPERLINE_HOME`` (the embedded default, no service needed). ``count_statements``: in the process's Prometheus
    counter (a short command turns it off: no one scrapes it)."""
    store: JobStore
    if settings.database_url:
        from pipeline.store.postgres import PostgresJobStore

        store = PostgresJobStore(
            settings.database_url,
            timeout_s=settings.store_timeout_s,
            statement_timeout_s=settings.statement_timeout_s,
            count_statements=count_statements,
        )
    else:
        from pipeline.store.sqlite import SqliteJobStore

        store = SqliteJobStore(settings.store_path, count_statements=count_statements)
    store.max_pending_deliveries = settings.webhook_max_pending_per_user
    store.initialize_schema()
    return store
