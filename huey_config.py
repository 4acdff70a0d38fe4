"""The one Huey instance: SQLite under PAPERLINE_HOME by default; Redis when PAPERLINE_QUEUE_URL is set; PostgreSQL
(PostgresHuey: FOR UPDATE SKIP LOCKED, LISTEN/NOTIFY wake-ups) when PAPERLINE_DATABASE_URL is set without a queue URL.

No task code lives here; tasks are in ``pipeline.worker.tasks`` (run a consumer with ``paperline worker`` or
``huey_consumer pipeline.worker.tasks.huey``).
"""

from __future__ import annotations

from functools import cache

from huey import Huey, PostgresHuey, RedisHuey, SqliteHuey

from pipeline.core.settings import Settings

QUEUE_NAME = "paperline"


@cache
def _make_huey(queue_url: str, database_url: str, queue_path: str) -> Huey:
    # Results are never read (job state lives in the job store), so Huey stores none.
    options = {"results": False, "store_intermediate_errors": False, "utc": True}
    if queue_url:
        if not queue_url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"PAPERLINE_QUEUE_URL must be a redis:// URL, got {queue_url!r}")
        return RedisHuey(QUEUE_NAME, url=queue_url, **options)
    if database_url:
        from pipeline.store.postgres import named_conninfo, schema_lock  # psycopg is there with a database URL

        queue = PostgresHuey(QUEUE_NAME, dsn=named_conninfo(database_url, "queue"), create_tables=False, **options)
        with schema_lock(database_url):  # consumers started together on a new database would race on its tables
            queue.storage.initialize_schema()
        return queue
    return SqliteHuey(QUEUE_NAME, filename=queue_path, **options)


def make_huey(settings: Settings) -> Huey:
    """The queue for these settings; the same object for the same queue, so tasks enqueue where they run."""
    if not settings.queue_url and not settings.database_url:
        settings.home.mkdir(parents=True, exist_ok=True)
    return _make_huey(settings.queue_url, settings.database_url, str(settings.queue_path))


huey = make_huey(Settings.from_env())
