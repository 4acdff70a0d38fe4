"""What answers to questions cost, per user and day, in SQL (``AskUsageRecords``); no revision moves: the feed does
not show it."""

from __future__ import annotations

from typing import Any

from pipeline.core.models import AskUsage
from pipeline.store.sql.base import SqlBase
from pipeline.store.sql.schema import columns_of

USAGE_COLUMNS = columns_of(AskUsage)


class SqlAskUsage(SqlBase):
    def record_ask_usage(self, user: str, day: str, input_tokens: int, output_tokens: int, cost_usd: float) -> None:
        with self.transaction() as conn:
            conn.execute(
                'INSERT INTO ask_usage ("user", day, questions, input_tokens, output_tokens, cost_usd) '
                'VALUES (?, ?, 1, ?, ?, ?) ON CONFLICT ("user", day) DO UPDATE SET '
                "questions = ask_usage.questions + 1, input_tokens = ask_usage.input_tokens + excluded.input_tokens, "
                "output_tokens = ask_usage.output_tokens + excluded.output_tokens, "
                "cost_usd = ask_usage.cost_usd + excluded.cost_usd",
                (user, day, input_tokens, output_tokens, cost_usd),
            )

    def list_ask_usage(self, user: str | None = None, day: str | None = None) -> list[AskUsage]:
        where, params = [], []
        if user is not None:
            where.append('"user" = ?')
            params.append(user)
        if day is not None:
            where.append("day = ?")
            params.append(day)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self.connection.execute(
            f'SELECT {USAGE_COLUMNS} FROM ask_usage {clause} ORDER BY day DESC, "user"', tuple(params)
        ).fetchall()
        return [_usage(row) for row in rows]


def _usage(row: Any) -> AskUsage:
    return AskUsage(**dict(row))
