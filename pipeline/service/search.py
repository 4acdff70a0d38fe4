"""``Paperline``'s retrieval methods: search every indexed passage, and read a job's passages.

A mixin so the service stays one readable class; everything here goes through the store and the user scoping
``Paperline.get`` applies, so search results obey the same isolation as jobs.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pipeline.profiles.retrieval.index import PassageIndex, SearchHit, search

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.core.models import Job
    from pipeline.store import JobStore

SEARCH_COLUMNS = ["score", "filename", "page", "text", "headings", "job_id", "passage", "pages", "user"]


class RetrievalMethods:
    """Search and passages, for a class with a ``store`` and a user-scoped ``get``."""

    store: JobStore
    _passage_index: PassageIndex | None = None
    _index_lock = threading.Lock()

    def get(self, job_id: str, *, user: str | None = None) -> Job:
        raise NotImplementedError

    @property
    def passage_index(self) -> PassageIndex:
        """This process's in-memory vectors of the searchable jobs (loaded on the first search)."""
        with self._index_lock:
            if self._passage_index is None:
                self._passage_index = PassageIndex(self.store)
            return self._passage_index

    def search(
        self, query: str, *, top_k: int = 5, jobs: Iterable[str] | None = None, user: str | None = None
    ) -> list[SearchHit]:
        """The ``top_k`` passages nearest ``query`` in meaning, best first, among completed retrieval jobs (only
        ``user``'s when given; only ``jobs`` when given)."""
        return search(self.store, self.passage_index, query, top_k=top_k, jobs=jobs, user=user)

    def search_frame(self, query: str, **options: Any) -> pd.DataFrame:
        """``search`` as a DataFrame (score, filename, page, text, ...), for notebooks."""
        import pandas as pd

        return pd.DataFrame([hit.to_dict() for hit in self.search(query, **options)], columns=SEARCH_COLUMNS)

    def passages(self, job_id: str, *, user: str | None = None, vectors: bool = False) -> list[dict[str, Any]]:
        """A retrieval job's passages as ``passages.jsonl`` lines (with each ``embedding`` when ``vectors``)."""
        from pipeline.profiles.retrieval.steps import passage_dict

        job = self.get(job_id, user=user)
        return [passage_dict(job, p, vector=vectors) for p in self.store.list_passages(job_id, vectors=vectors)]
