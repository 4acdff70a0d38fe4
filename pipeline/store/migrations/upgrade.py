"""Applying the steps of ``versions/`` with alembic, on a connection the store hands over: imported only when a
database's version is not the newest (``pipeline.store.migrations``), as alembic and SQLAlchemy are heavy to load."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from pipeline.store.migrations import HERE


def _config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: sa.Engine, *, lock: str = "") -> None:
    """Apply every step ``engine``'s database lacks, in one transaction that first runs ``lock`` (the backend's
    schema lock, if its transaction begin is not one already), then close the engine's connections. A database
    without a version (made before migrations) is at base: the baseline completes it. Errors are the driver's own
    (``sqlite3``'s, ``psycopg``'s), as every other store call raises them."""
    try:
        with engine.begin() as connection:
            if lock:
                connection.exec_driver_sql(lock)
            command.upgrade(_config(connection), "head")
    except sa.exc.DBAPIError as exc:
        if exc.orig is None:
            raise
        raise exc.orig from exc
    finally:
        engine.dispose()


def alembic_head() -> str:
    """The newest revision as alembic reads the steps (what ``migrations.head`` must agree with)."""
    return ScriptDirectory.from_config(_config()).get_current_head() or ""
