"""Passage search: hybrid, semantic or keyword search over this process's passage index and the store's keyword
index, and a job's passages as their JSON lines.

One ``PassageSearch`` per ``Paperline`` (so one in-memory index per process that shares one); ``Paperline`` scopes
it to a user as it scopes jobs (``search(user=...)``, ``passages`` of a job ``get`` found), so search results obey
the same isolation as jobs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pipeline.profiles.retrieval.index import PassageIndex, SearchHit
from pipeline.profiles.retrieval.ranking import SearchMode, search

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.core.models import Job
    from pipeline.store import JobStore

SEARCH_COLUMNS = ["score", "filename", "page", "text", "headings", "job_id", "passage", "pages", "user"]


class PassageSearch:
    """Search the passages of completed retrieval jobs, and read a job's passages, from one store."""

    def __init__(self, store: JobStore) -> None:
        self.store = store
        #: this process's in-memory vectors of the searchable jobs (loaded on the first search)
        self.index = PassageIndex(store)

    def hits(
        self,
        query: str,
        *,
        top_k: int = 5,
        jobs: Iterable[str] | None = None,
        user: str | None = None,
        mode: SearchMode | str = SearchMode.HYBRID,
    ) -> list[SearchHit]:
        """The ``top_k`` passages that best answer ``query`` in ``mode`` (hybrid: meaning and words fused), best
        first, among completed retrieval jobs (only ``user``'s when given; only ``jobs`` when given)."""
        return search(self.store, self.index, query, top_k=top_k, jobs=jobs, user=user, mode=mode)

    def frame(self, query: str, **options: Any) -> pd.DataFrame:
        """``hits`` as a DataFrame (score, filename, page, text, ...), for notebooks."""
        import pandas as pd

        return pd.DataFrame([hit.to_dict() for hit in self.hits(query, **options)], columns=SEARCH_COLUMNS)

    def passages(self, job: Job, *, vectors: bool = False) -> list[dict[str, Any]]:
        """A retrieval job's passages as ``passages.jsonl`` lines (with each ``embedding`` when ``vectors``)."""
        from pipeline.profiles.retrieval.steps import passage_dict

        return [passage_dict(job, p, vector=vectors) for p in self.store.list_passages(job.id, vectors=vectors)]
