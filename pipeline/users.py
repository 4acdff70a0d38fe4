"""Users: who may see and act on which jobs, and the per-user limits on uploads.

Without authentication everything belongs to the one local analyst. With it (Panel's basic auth or OAuth, or the
CLI's ``--user``), a user sees only their own jobs; users in ``PAPERLINE_ADMINS`` see every job.
"""

from __future__ import annotations

import time

from . import messages
from .config import Settings
from .exceptions import LimitReached
from .store import JobStore

LOCAL_USER = "local"
# Stored on a job refused for a limit, so that refusal does not count as an upload against the hourly limit.
REFUSED_FOR_LIMIT = {"refused": "limit"}


def is_admin(settings: Settings, user: str) -> bool:
    return user in settings.admins


def owner_scope(settings: Settings, user: str) -> str | None:
    """Whose jobs ``user`` may see and act on: their own, or everyone's (None) for an admin and for the single
    local analyst (no authentication)."""
    return None if user == LOCAL_USER or is_admin(settings, user) else user


def check_limits(settings: Settings, store: JobStore, user: str, now: float | None = None) -> None:
    """Refuse an upload over the user's limits (``LimitReached``), saying which and when it will pass."""
    per_hour, max_active = settings.user_uploads_per_hour, settings.user_max_active_jobs
    if not per_hour and not max_active:
        return
    now = time.time() if now is None else now
    active, uploads = store.user_usage(user, since=now - 3600)
    if max_active and active >= max_active:
        raise LimitReached(messages.too_many_active(user, active, max_active))
    if per_hour and len(uploads) >= per_hour:
        wait_s = uploads[len(uploads) - per_hour] + 3600 - now
        raise LimitReached(messages.too_many_uploads(user, len(uploads), per_hour, wait_s))
