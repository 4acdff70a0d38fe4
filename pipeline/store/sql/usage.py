"""What answers to questions cost, per user and day, and what answers under way have reserved, in SQL
(``AskUsageRecords``); no revision moves: the feed does not show them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipeline.core.models import AskReservation, AskUsage
from pipeline.store.sql.base import SqlBase
from pipeline.store.sql.schema import columns_of

USAGE_COLUMNS = columns_of(AskUsage)
RESERVATION_COLUMNS = columns_of(AskReservation)


class SqlAskUsage(SqlBase):
    def record_ask_usage(self, user: str, day: str, input_tokens: int, output_tokens: int, cost_usd: float) -> None:
        with self.transaction() as conn:
            self._add_usage(conn, user, day, input_tokens, output_tokens, cost_usd)

    @staticmethod
    def _add_usage(conn: Any, user: str, day: str, input_tokens: int, output_tokens: int, cost_usd: float) -> None:
        conn.execute(
            'INSERT INTO ask_usage ("user", day, questions, input_tokens, output_tokens, cost_usd) '
            'VALUES (?, ?, 1, ?, ?, ?) ON CONFLICT ("user", day) DO UPDATE SET '
            "questions = ask_usage.questions + 1, input_tokens = ask_usage.input_tokens + excluded.input_tokens, "
            "output_tokens = ask_usage.output_tokens + excluded.output_tokens, "
            "cost_usd = ask_usage.cost_usd + excluded.cost_usd",
            (user, day, input_tokens, output_tokens, cost_usd),
        )

    def reserve_ask(self, reservation: AskReservation, *, check: Callable[[float, float, int], None]) -> None:
        # A write transaction from its first statement (SQLite's BEGIN IMMEDIATE, PostgreSQL's revision row): the
        # reservations of racing questions are read and made one after the other.
        with self.transaction() as conn:
            conn.execute("DELETE FROM ask_reservations WHERE expires_at < ?", (reservation.created_at,))
            spent = conn.execute(
                'SELECT COALESCE(SUM(cost_usd), 0) AS spent FROM ask_usage WHERE "user" = ? AND day = ?',
                (reservation.user, reservation.day),
            ).fetchone()["spent"]
            held = conn.execute(
                'SELECT COALESCE(SUM(amount_usd), 0) AS reserved, COUNT(*) AS n FROM ask_reservations WHERE "user" = ?',
                (reservation.user,),
            ).fetchone()
            check(float(spent), float(held["reserved"]), int(held["n"]))
            conn.execute(
                f"INSERT INTO ask_reservations ({RESERVATION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    reservation.id,
                    reservation.user,
                    reservation.day,
                    reservation.amount_usd,
                    reservation.created_at,
                    reservation.expires_at,
                ),
            )

    def settle_ask(self, reservation: AskReservation, input_tokens: int, output_tokens: int, cost_usd: float) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM ask_reservations WHERE id = ?", (reservation.id,))
            if input_tokens or output_tokens:
                self._add_usage(conn, reservation.user, reservation.day, input_tokens, output_tokens, cost_usd)

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
