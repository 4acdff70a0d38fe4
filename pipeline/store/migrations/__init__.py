"""The job store's schema, one versioned step at a time (alembic): ``versions/`` holds the steps, each a module
with its ``revision`` and the ``down_revision`` it follows; ``0001_baseline`` makes every table. Each store applies
the steps it has not yet had at start (``initialize_schema``), under its lock, so processes starting together on a
new or older database upgrade it once. The version applied is kept in the table ``alembic_version``.

Opening a store happens in every command, so it costs one query when nothing is due: the newest step's revision is
read from the step files' names (``NNNN_name.py`` holds revision ``NNNN``; a test holds the names to it) and the
database's from ``alembic_version``. Alembic and SQLAlchemy (most of a second to import) are imported only when an
upgrade is due (``pipeline.store.migrations.upgrade``).
"""

from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).parent
VERSIONS = HERE / "versions"
#: the step files' names: the revision, an underscore, what the step does
STEP_FILE = re.compile(r"^(\d{4})_\w+\.py$")
#: the database's version, in one query (a database made before migrations has no such table: an upgrade is due)
VERSION_QUERY = "SELECT version_num FROM alembic_version"


def head() -> str:
    """The newest step's revision: the version every database has after ``upgrade``."""
    return max((m.group(1) for p in VERSIONS.iterdir() if (m := STEP_FILE.match(p.name))), default="")


def is_current(versions: list[str]) -> bool:
    """Whether a database whose ``alembic_version`` holds ``versions`` needs no step (exactly the head)."""
    return versions == [head()]
