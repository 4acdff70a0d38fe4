"""Semantic search over every indexed passage: exact cosine similarity on vectors kept in memory (queries in every
mode go through ``pipeline.profiles.retrieval.ranking``).

Vectors live in the job store (a BLOB per passage, on SQLite and PostgreSQL alike). Each process keeps one
matrix of the searchable jobs' vectors, loaded job by job on first use and changed only when the set of searchable
jobs (or a job's revision) changes; a query is one matrix-vector product over it, with rows of jobs the caller may
not see masked out. Exact search measured faster here than sqlite-vec's at 50,000 passages (benchmarks/retrieval.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from pipeline.profiles.retrieval.embedding import DIMENSIONS
from pipeline.store import JobStore


@dataclass(frozen=True)
class SearchHit:
    """A passage that answers a query: where it is (job, file, pages, offsets, headings), its text and score (what
    the score means depends on the search mode: ``ranking.SearchMode``)."""

    job_id: str
    filename: str
    user: str
    passage: int
    page: int | None
    pages: tuple[int, ...]
    headings: tuple[str, ...]
    start: int
    end: int
    text: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["pages"], out["headings"] = list(self.pages), list(self.headings)
        return out


class PassageIndex:
    """The searchable jobs' vectors as one matrix, for one process; thread-safe."""

    def __init__(self, store: JobStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._jobs: dict[str, tuple[int, Any, Any]] = {}  # job id -> (revision, passage indexes, vectors)
        self._key: tuple[tuple[str, int], ...] = ()
        self._matrix: Any = None
        self._row_job: Any = None  # per row: position of its job in self._order
        self._row_passage: Any = None
        self._order: list[str] = []
        #: rows loaded from the store so far (a test and benchmark hook)
        self.loaded_rows = 0

    def _refresh(self, searchable: dict[str, int]) -> None:
        import numpy as np

        key = tuple(sorted(searchable.items()))
        if key == self._key and self._matrix is not None:
            return
        for job_id in list(self._jobs):
            if searchable.get(job_id) != self._jobs[job_id][0]:
                del self._jobs[job_id]  # deleted, purged or changed: forgotten (reloaded if still searchable)
        for job_id, revision in searchable.items():
            if job_id not in self._jobs:
                rows = self.store.passage_vectors(job_id)
                self.loaded_rows += len(rows)
                indexes = np.array([index for index, _ in rows], dtype=np.int64)
                vectors = np.frombuffer(b"".join(v for _, v in rows), dtype=np.float32).reshape(-1, DIMENSIONS)
                self._jobs[job_id] = (revision, indexes, vectors)
        self._order = [job_id for job_id, _ in key]
        parts = [self._jobs[job_id] for job_id in self._order]
        self._matrix = np.concatenate([p[2] for p in parts]) if parts else np.zeros((0, DIMENSIONS), np.float32)
        self._row_passage = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int64)
        owners = [np.full(len(p[1]), n, np.int64) for n, p in enumerate(parts)]
        self._row_job = np.concatenate(owners) if owners else np.zeros(0, np.int64)
        self._key = key

    def nearest(
        self, query: Any, searchable: dict[str, int], allowed: Iterable[str], top_k: int
    ) -> list[tuple[str, int, float]]:
        """(job id, passage index, cosine score) of the ``top_k`` passages of ``allowed`` jobs nearest ``query``."""
        import numpy as np

        with self._lock:
            self._refresh(searchable)
            wanted = set(allowed)
            allowed_positions = [n for n, job_id in enumerate(self._order) if job_id in wanted]
            if not allowed_positions or not len(self._matrix):
                return []
            scores = self._matrix @ np.asarray(query, dtype=np.float32)
            if len(allowed_positions) < len(self._order):
                scores = np.where(np.isin(self._row_job, allowed_positions), scores, -np.inf)
            k = min(top_k, int(np.isfinite(scores).sum()))
            if k <= 0:
                return []
            best = np.argpartition(-scores, k - 1)[:k]
            best = best[np.argsort(-scores[best], kind="stable")]
            return [(self._order[self._row_job[row]], int(self._row_passage[row]), float(scores[row])) for row in best]
