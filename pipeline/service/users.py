"""Users: who may see and act on which jobs, who may sign in, and the per-user limits on uploads.

Without sign-in everything belongs to the one local analyst (``LOCAL_USER``). With it (Panel's basic auth or
OAuth, or the CLI's ``--user``), a user sees only their own jobs; users in ``PAPERLINE_ADMINS`` see every job.
The local analyst's name is reserved: no sign-in and no API token can act as it, so seeing everything without
being an admin is only possible where no one signs in.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable

from pipeline.core import messages
from pipeline.core.errors import LimitReached, UserRefused
from pipeline.core.models import Job
from pipeline.core.settings import Settings
from pipeline.store import JobStore, NewJob

LOCAL_USER = "local"
#: Names no one may sign in as (compared without case): the local analyst's, and what a program writes for
#: "nobody", which a cache key or a log line could confuse with no user at all.
RESERVED_NAMES = frozenset({LOCAL_USER, "none", "null", "nil", "undefined", "anonymous", "nobody"})
MAX_NAME_CHARS = 200
# Stored on a job refused for a limit, so that refusal does not count as an upload against the hourly limit.
REFUSED_FOR_LIMIT = {"refused": "limit"}


def is_admin(settings: Settings, user: str) -> bool:
    return user in settings.admins


def owner_scope(settings: Settings, user: str) -> str | None:
    """Whose jobs ``user`` may see and act on: their own, or everyone's (None) for an admin and for the single
    local analyst (no sign-in; ``signed_in_user`` never answers that name)."""
    return None if user == LOCAL_USER or is_admin(settings, user) else user


def sign_in_refusal(settings: Settings, name: str | None) -> str:
    """Why ``name`` may not sign in or hold an API token ("" when it may)."""
    if name is None or not name.strip():
        return messages.user_name_reserved("")
    if (
        name != name.strip()
        or len(name) > MAX_NAME_CHARS
        or name.casefold() in RESERVED_NAMES
        or any(unicodedata.category(char).startswith("C") for char in name)  # control, format, unassigned
    ):
        return messages.user_name_reserved(name)
    if settings.users and name not in settings.users and not is_admin(settings, name):
        return messages.user_not_allowed(name)
    return ""


def signed_in_user(settings: Settings, name: str | None) -> str:
    """The user a sign-in (or a token) names, checked: a reserved or no longer allowed name is ``UserRefused``."""
    reason = sign_in_refusal(settings, name)
    if reason:
        raise UserRefused(reason)
    assert name is not None
    return name


def _judge(settings: Settings, user: str, active: int, uploads: list[float], now: float) -> None:
    per_hour, max_active = settings.user_uploads_per_hour, settings.user_max_active_jobs
    if max_active and active >= max_active:
        raise LimitReached(messages.too_many_active(user, active, max_active))
    if per_hour and len(uploads) >= per_hour:
        wait_s = uploads[len(uploads) - per_hour] + 3600 - now
        raise LimitReached(messages.too_many_uploads(user, len(uploads), per_hour, wait_s))


def _limited(settings: Settings) -> bool:
    return bool(settings.user_uploads_per_hour or settings.user_max_active_jobs)


def check_limits(settings: Settings, store: JobStore, user: str, now: float | None = None) -> None:
    """Refuse an upload over the user's limits (``LimitReached``), saying which and when it will pass: a quick
    look before the upload's bytes are stored; ``create_within_limits`` decides for good."""
    if not _limited(settings):
        return
    now = time.time() if now is None else now
    active, uploads = store.user_usage(user, since=now - 3600)
    _judge(settings, user, active, uploads, now)


def create_within_limits(settings: Settings, store: JobStore, new: NewJob, now: float | None = None) -> Job:
    """Record ``new`` only if its user is within their limits, counted in the same transaction as the insert, so
    parallel uploads cannot all pass (``LimitReached`` otherwise, and nothing is recorded)."""
    if not _limited(settings):
        return store.create(new)
    now = time.time() if now is None else now
    check: Callable[[int, list[float]], None] = lambda active, uploads: _judge(  # noqa: E731
        settings, new.user, active, uploads, now
    )
    return store.create_within_limits(new, since=now - 3600, check=check)
