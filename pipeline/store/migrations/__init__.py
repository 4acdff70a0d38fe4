"""The job store's schema, one versioned step at a time (alembic): ``versions/`` holds the steps, each a module
with its ``revision`` and the ``down_revision`` it follows; ``0001_baseline`` makes every table. Each store applies
the steps it has not yet had at start (``initialize_schema``), under its lock, so processes starting together on a
new or older database upgrade it once. The version applied is kept in the table ``alembic_version``.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

HERE = Path(__file__).parent


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


def head() -> str:
    """The newest step's revision: the version every database has after ``upgrade``."""
    return ScriptDirectory.from_config(_config()).get_current_head() or ""
