"""Passages of retrieval jobs in SQL: cut at merge, embedded in batches by any worker, searched by their vectors
and by their words.

Embedding fans in like extraction: each batch writes its vectors, and the one write that leaves no passage without
a vector moves the job from embedding to indexing (a conditional stage change, so exactly one caller does it).
The keyword index is the database's own full-text search (migration 0004), written with the passages; a backend
says how its index is matched and ranked (``_keyword_match``), the scoping here is shared.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pipeline.core import messages
from pipeline.core.lifecycle import PROGRESS_EMBEDDING, PROGRESS_INDEXING, EventKind, embedding_progress
from pipeline.core.models import PassageRecord, Stage
from pipeline.store.sql.base import SqlBase

PASSAGE_COLUMNS = "job_id, idx, text, start_offset, end_offset, pages, headings, tokens"
#: jobs (as ``j``) whose passages can be searched: completed retrieval jobs whose files are kept
SEARCHABLE = "j.profile = 'retrieval' AND j.status = 'completed' AND j.purged_at IS NULL"


def _passage(row: Any, vector: bool = False) -> PassageRecord:
    return PassageRecord(
        job_id=row["job_id"],
        index=row["idx"],
        text=row["text"],
        start=row["start_offset"],
        end=row["end_offset"],
        pages=tuple(json.loads(row["pages"])),
        headings=tuple(json.loads(row["headings"])),
        tokens=row["tokens"],
        vector=bytes(row["vector"]) if vector and row["vector"] is not None else None,
    )


class SqlPassages(SqlBase):
    """``PassageRecords`` in SQL."""

    def start_embedding(self, job_id: str, passages: Sequence[PassageRecord]) -> bool:
        """Record a merged job's passages (replacing any from an earlier attempt) and move it from merging to
        embedding; False if the job is no longer merging (canceled, or another worker got there)."""
        with self.transaction() as conn:
            moved = self._update_job(
                conn,
                job_id,
                "AND status = 'running' AND stage = 'merging'",
                stage=Stage.EMBEDDING,
                progress=PROGRESS_EMBEDDING,
                message=messages.embedding(0, len(passages)),
            )
            if not moved:
                return False
            conn.execute("DELETE FROM passages WHERE job_id = ?", (job_id,))
            conn.executemany(
                f"INSERT INTO passages ({PASSAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (job_id, p.index, p.text, p.start, p.end, json.dumps(p.pages), json.dumps(p.headings), p.tokens)
                    for p in passages
                ],
            )
            self._event(conn, job_id, EventKind.STAGE, messages.embedding(0, len(passages)))
        return True

    def passages_to_embed(self, job_id: str, first: int, count: int) -> list[PassageRecord]:
        """Passages ``first`` to ``first + count - 1`` of a job that have no vector yet."""
        rows = self.connection.execute(
            f"SELECT {PASSAGE_COLUMNS} FROM passages WHERE job_id = ? AND idx >= ? AND idx < ? AND vector IS NULL "
            "ORDER BY idx",
            (job_id, first, first + count),
        ).fetchall()
        return [_passage(r) for r in rows]

    def unembedded_passages(self, job_id: str) -> list[int]:
        """Indexes of a job's passages still without a vector (what a recovered job still has to embed)."""
        rows = self.connection.execute(
            "SELECT idx FROM passages WHERE job_id = ? AND vector IS NULL ORDER BY idx", (job_id,)
        ).fetchall()
        return [r["idx"] for r in rows]

    def save_vectors(self, job_id: str, vectors: Sequence[tuple[int, bytes]]) -> bool:
        """Store a batch's vectors (a passage keeps the first vector written) and the job's progress; True for the
        one caller whose batch completed the job's embedding (it then indexes the job)."""
        with self.transaction() as conn:
            conn.executemany(
                "UPDATE passages SET vector = ? WHERE job_id = ? AND idx = ? AND vector IS NULL",
                [(vector, job_id, index) for index, vector in vectors],
            )
            row = conn.execute(
                "SELECT COUNT(*) AS total, SUM(CASE WHEN vector IS NULL THEN 0 ELSE 1 END) AS done "
                "FROM passages WHERE job_id = ?",
                (job_id,),
            ).fetchone()
            total, done = row["total"], row["done"] or 0
            if done < total:
                self._update_job(
                    conn,
                    job_id,
                    "AND status = 'running' AND stage = 'embedding'",
                    progress=embedding_progress(done, total),
                    message=messages.embedding(done, total),
                )
                return False
            last = self._update_job(
                conn,
                job_id,
                "AND status = 'running' AND stage = 'embedding'",
                stage=Stage.INDEXING,
                progress=PROGRESS_INDEXING,
                message=messages.INDEXING,
            )
            if last:
                self._event(conn, job_id, EventKind.STAGE, messages.INDEXING)
            return last

    def list_passages(self, job_id: str, *, vectors: bool = False) -> list[PassageRecord]:
        columns = PASSAGE_COLUMNS + (", vector" if vectors else "")
        rows = self.connection.execute(
            f"SELECT {columns} FROM passages WHERE job_id = ? ORDER BY idx", (job_id,)
        ).fetchall()
        return [_passage(r, vectors) for r in rows]

    def passage_vectors(self, job_id: str) -> list[tuple[int, bytes]]:
        """(index, vector) of every embedded passage of a job, for the search index."""
        rows = self.connection.execute(
            "SELECT idx, vector FROM passages WHERE job_id = ? AND vector IS NOT NULL ORDER BY idx", (job_id,)
        ).fetchall()
        return [(r["idx"], bytes(r["vector"])) for r in rows]

    def passages_at(self, job_id: str, indexes: Sequence[int]) -> list[PassageRecord]:
        """The passages of a job with these indexes (search hits), in index order."""
        if not indexes:
            return []
        marks = ", ".join("?" for _ in indexes)
        rows = self.connection.execute(
            f"SELECT {PASSAGE_COLUMNS} FROM passages WHERE job_id = ? AND idx IN ({marks}) ORDER BY idx",
            (job_id, *indexes),
        ).fetchall()
        return [_passage(r) for r in rows]

    def searchable_jobs(self, user: str | None = None) -> dict[str, int]:
        """Jobs whose passages can be searched (retrieval jobs that completed, files not deleted), with their
        revision: a job's passages change only while its revision moves."""
        sql = f"SELECT j.id, j.rev FROM jobs j WHERE {SEARCHABLE}"
        params: tuple[Any, ...] = ()
        if user is not None:
            sql += ' AND j."user" = ?'
            params = (user,)
        return {r["id"]: r["rev"] for r in self.connection.execute(sql, params).fetchall()}

    def _keyword_match(self, phrases: Sequence[str]) -> tuple[str, str, str, list[Any]]:
        """How this backend finds passages (as ``p``) holding any of ``phrases``: the FROM clause, the condition,
        the relevance expression (higher is better) and the parameters of the first two, in order."""
        raise NotImplementedError

    def keyword_passages(
        self,
        phrases: Sequence[str],
        *,
        limit: int,
        user: str | None = None,
        jobs: Sequence[str] | None = None,
    ) -> list[tuple[str, int, float]]:
        """(job id, passage index, relevance) of searchable jobs' passages holding any of ``phrases``, most
        relevant first; only ``user``'s jobs when given, only ``jobs`` when given."""
        phrases = [phrase for phrase in phrases if phrase.strip()]
        if not phrases or limit <= 0 or (jobs is not None and not jobs):
            return []
        source, match, relevance, params = self._keyword_match(phrases)
        sql = (
            f"SELECT p.job_id, p.idx, {relevance} AS relevance FROM {source} JOIN jobs j ON j.id = p.job_id "
            f"WHERE {match} AND {SEARCHABLE}"
        )
        if user is not None:
            sql += ' AND j."user" = ?'
            params.append(user)
        if jobs is not None:
            sql += f" AND p.job_id IN ({', '.join('?' for _ in jobs)})"
            params += list(jobs)
        sql += " ORDER BY relevance DESC, p.job_id, p.idx LIMIT ?"
        rows = self.connection.execute(sql, (*params, limit)).fetchall()
        return [(r["job_id"], r["idx"], float(r["relevance"])) for r in rows]
