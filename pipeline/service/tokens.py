"""Personal API tokens: a secret shown once to its user, kept only as a SHA-256 digest.

The secrets are 256 random bits, so a plain digest is enough (a slow password hash protects guessable secrets;
these cannot be guessed). A program sends one as ``Authorization: Bearer pl_...``; it acts for its user, with
that user's scope and limits, until it is revoked or expires.

A token is always a signed-in user's: none is made for a reserved name (the local analyst's among them), and a
token dies with its user: it stops working as soon as its user could no longer sign in (a reserved name, or one
taken out of ``PAPERLINE_USERS``), and ``revoke_user`` revokes every token of a user who leaves.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time

from pipeline.core import messages
from pipeline.core.errors import InvalidRequest, TokenRefused
from pipeline.core.models import ApiToken
from pipeline.core.settings import Settings
from pipeline.service.users import sign_in_refusal, signed_in_user
from pipeline.store import JobStore

PREFIX = "pl_"  # lets secret scanners and people recognise a Paperline token
UNITS_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
MAX_EXPIRY_S = 5 * 365 * 86400


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def parse_expiry(text: str) -> float | None:
    """Seconds from a duration such as ``30d``, ``12h``, ``90m``, ``2w``, ``1y`` (None for "", ``never``)."""
    text = text.strip().lower()
    if text in ("", "never", "0"):
        return None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhdwy])", text)
    if match is None or not 0 < float(match[1]) * UNITS_S[match[2]] <= MAX_EXPIRY_S:
        raise InvalidRequest(messages.bad_token_expiry(text))
    return float(match[1]) * UNITS_S[match[2]]


def create_token(
    store: JobStore,
    user: str,
    name: str = "",
    *,
    expires_in_s: float | None = None,
    settings: Settings | None = None,
) -> tuple[ApiToken, str]:
    """A new token for ``user`` (``UserRefused`` for a name that cannot sign in: reserved names always, and names
    outside ``settings.users`` when given); returns it and its secret, which is never stored or shown again."""
    signed_in_user(settings or Settings(), user)
    secret = PREFIX + secrets.token_urlsafe(32)
    now = time.time()
    token = ApiToken(
        id=secrets.token_hex(4),
        user=user,
        name=name.strip()[:100],
        created_at=now,
        expires_at=now + expires_in_s if expires_in_s else None,
    )
    store.add_token(token, digest(secret))
    return token, secret


def authenticate(store: JobStore, secret: str, settings: Settings, now: float | None = None) -> ApiToken:
    """The live token a presented secret names, or ``TokenRefused`` saying why (unknown or revoked, expired, or
    its user may no longer act)."""
    token = store.token_for(digest(secret)) if secret.startswith(PREFIX) else None
    if token is None:
        raise TokenRefused(messages.TOKEN_UNKNOWN)
    if token.expired(time.time() if now is None else now):
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(token.expires_at))
        raise TokenRefused(messages.token_expired(token.id, when))
    reason = sign_in_refusal(settings, token.user)
    if reason:
        raise TokenRefused(f"{reason} {messages.TOKEN_DIES_WITH_USER}")
    return token


def revoke(store: JobStore, token_id: str, user: str | None = None) -> None:
    """Revoke a token (only ``user``'s own when given, as for a non-admin)."""
    if not store.revoke_token(token_id, user=user):
        raise InvalidRequest(f"No live token {token_id!r}" + (f" of {user}" if user else ""))


def revoke_user(store: JobStore, user: str) -> int:
    """Revoke every live token of ``user`` (who leaves, or whose tokens may have leaked); how many."""
    return store.revoke_user_tokens(user)
