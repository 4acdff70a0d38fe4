"""Personal API tokens: a secret shown once to its user, kept only as a SHA-256 digest.

The secrets are 256 random bits, so a plain digest is enough (a slow password hash protects guessable secrets;
these cannot be guessed). A program sends one as ``Authorization: Bearer pl_...``; it acts for its user, with
that user's scope and limits, until revoked.
"""

from __future__ import annotations

import hashlib
import secrets
import time

from .exceptions import InvalidRequest
from .models import ApiToken
from .store import JobStore

PREFIX = "pl_"  # lets secret scanners and people recognise a Paperline token


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(store: JobStore, user: str, name: str = "") -> tuple[ApiToken, str]:
    """A new token for ``user``; returns it and its secret, which is never stored or shown again."""
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(id=secrets.token_hex(4), user=user, name=name.strip()[:100], created_at=time.time())
    store.add_token(token, digest(secret))
    return token, secret


def user_for(store: JobStore, secret: str) -> str | None:
    """The user a presented secret acts for, or None (unknown or revoked)."""
    if not secret.startswith(PREFIX):
        return None
    token = store.token_for(digest(secret))
    return token.user if token else None


def revoke(store: JobStore, token_id: str, user: str | None = None) -> None:
    """Revoke a token (only ``user``'s own when given, as for a non-admin)."""
    if not store.revoke_token(token_id, user=user):
        raise InvalidRequest(f"No live token {token_id!r}" + (f" of {user}" if user else ""))
