"""Personal API tokens in SQL (``ApiTokens``): digests only; no revision moves, the feed does not show tokens."""

from __future__ import annotations

import time
from typing import Any

from pipeline.core.models import ApiToken
from pipeline.store.sql.base import SqlBase
from pipeline.store.sql.schema import columns_of

TOKEN_COLUMNS = columns_of(ApiToken)


def _token(row: Any) -> ApiToken:
    return ApiToken(**dict(row))


class SqlTokens(SqlBase):
    def add_token(self, token: ApiToken, digest: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                f"INSERT INTO api_tokens ({TOKEN_COLUMNS}, digest) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (token.id, token.user, token.name, token.created_at, token.revoked_at, token.expires_at, digest),
            )

    def token_for(self, digest: str) -> ApiToken | None:
        row = self.connection.execute(
            f"SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE digest = ? AND revoked_at IS NULL", (digest,)
        ).fetchone()
        return _token(row) if row else None

    def list_tokens(self, user: str | None = None) -> list[ApiToken]:
        where, params = ('WHERE "user" = ?', (user,)) if user is not None else ("", ())
        rows = self.connection.execute(
            f"SELECT {TOKEN_COLUMNS} FROM api_tokens {where} ORDER BY created_at DESC, id", params
        ).fetchall()
        return [_token(row) for row in rows]

    def revoke_token(self, token_id: str, user: str | None = None) -> bool:
        sql = "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"
        params: tuple[Any, ...] = (time.time(), token_id)
        if user is not None:
            sql, params = sql + ' AND "user" = ?', (*params, user)
        with self.transaction() as conn:
            return conn.execute(sql, params).rowcount == 1

    def revoke_user_tokens(self, user: str) -> int:
        with self.transaction() as conn:
            return conn.execute(
                'UPDATE api_tokens SET revoked_at = ? WHERE "user" = ? AND revoked_at IS NULL', (time.time(), user)
            ).rowcount
