"""A query's passages in one of three modes: by meaning (the vectors), by words (the store's full-text index), or
both fused by reciprocal rank fusion, the default.

Sentence embeddings find a paraphrase but blur an exact identifier, number or name ("INV-2027-0042", "Satz 2.3.5");
keyword search is the other way round. Reciprocal rank fusion (Cormack, Clarke and Buettcher, SIGIR 2009) adds
``1 / (k + rank)`` over the rankings a passage is in: it needs no score calibration between BM25 and cosine, and a
passage near the top of either ranking stays near the top. A query that names something exactly (a quoted phrase,
an identifier: ``keywords.exact_phrases``) adds a third ranking, the keyword ranking's passages that hold all of it,
so they rank first. Keyword search needs no model, so ``keyword`` mode works where the embedding model is not
installed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import Enum

from pipeline.profiles.retrieval.embedding import get_embedder
from pipeline.profiles.retrieval.index import PassageIndex, SearchHit
from pipeline.profiles.retrieval.keywords import exact_phrases, keyword_phrases
from pipeline.store import JobStore

#: reciprocal rank fusion's constant: the value its authors found best, and what Elasticsearch and others default to
RRF_K = 60
#: how deep each ranking is read before fusing (a passage ranked lower in both would not reach the top anyway)
CANDIDATES = 50

#: a passage in a ranking: (job id, passage index, that ranking's score)
Ranked = tuple[str, int, float]


class SearchMode(str, Enum):
    """How passages are found for a query."""

    #: both rankings fused by reciprocal rank fusion; score: the fused score as a share of the best possible
    HYBRID = "hybrid"
    #: nearest in meaning; score: cosine similarity
    SEMANTIC = "semantic"
    #: holding the query's words and quoted phrases; score: the store's relevance (BM25, or PostgreSQL's ts_rank_cd)
    KEYWORD = "keyword"


def reciprocal_rank_fusion(rankings: Sequence[Sequence[Ranked]], *, k: int = RRF_K) -> list[Ranked]:
    """The passages of every ranking, best fused first; each score is ``sum(1 / (k + rank))`` divided by its
    largest possible value (first in every ranking), so 1.0 means first everywhere. Ties keep the order in which
    the rankings (then their passages) came."""
    fused: dict[tuple[str, int], float] = {}
    for ranking in rankings:
        for rank, (job_id, passage, _) in enumerate(ranking, 1):
            fused[job_id, passage] = fused.get((job_id, passage), 0.0) + 1 / (k + rank)
    best = len(rankings) / (k + 1)
    ordered = sorted(fused.items(), key=lambda item: -item[1])  # stable: ties in order of appearance
    return [(job_id, passage, score / best) for (job_id, passage), score in ordered]


def search(
    store: JobStore,
    index: PassageIndex,
    query: str,
    *,
    top_k: int = 5,
    jobs: Iterable[str] | None = None,
    user: str | None = None,
    mode: SearchMode | str = SearchMode.HYBRID,
) -> list[SearchHit]:
    """The ``top_k`` passages that best answer ``query`` in ``mode``, among the searchable jobs ``user`` may see (all
    for None), best first; ``jobs`` narrows the search to those jobs."""
    mode = SearchMode(mode)
    query = query.strip()
    if not query or top_k <= 0:
        return []
    searchable = store.searchable_jobs()
    visible = store.searchable_jobs(user) if user is not None else searchable
    allowed = set(visible) if jobs is None else set(visible) & set(jobs)
    if not allowed:
        return []
    depth = top_k if mode is not SearchMode.HYBRID else max(CANDIDATES, top_k)
    rankings: list[list[Ranked]] = []
    if mode is not SearchMode.KEYWORD:
        rankings.append(index.nearest(get_embedder().embed([query])[0], searchable, allowed, depth))
    if mode is not SearchMode.SEMANTIC:
        narrowed = None if jobs is None else sorted(allowed)
        keyword = store.keyword_passages(keyword_phrases(query), limit=depth, user=user, jobs=narrowed)
        rankings.append(keyword)
        if mode is SearchMode.HYBRID and (exact := exact_phrases(query)):
            holding = [
                {
                    (job_id, passage)
                    for job_id, passage, _ in store.keyword_passages([p], limit=depth, user=user, jobs=narrowed)
                }
                for p in exact
            ]
            named = set.intersection(*holding)
            if named:
                rankings.append([hit for hit in keyword if (hit[0], hit[1]) in named])
    ranked = reciprocal_rank_fusion(rankings) if mode is SearchMode.HYBRID else rankings[0]
    return _hits(store, ranked[:top_k])


def _hits(store: JobStore, ranked: list[Ranked]) -> list[SearchHit]:
    """The ranked passages as hits, read from the store (one read per job); a job deleted meanwhile is skipped."""
    by_job: dict[str, list[int]] = {}
    for job_id, passage, _ in ranked:
        by_job.setdefault(job_id, []).append(passage)
    records = {(p.job_id, p.index): p for job_id, idx in by_job.items() for p in store.passages_at(job_id, sorted(idx))}
    owners = {job_id: store.get(job_id) for job_id in by_job}
    hits = []
    for job_id, passage, score in ranked:
        record, job = records.get((job_id, passage)), owners.get(job_id)
        if record is None or job is None:
            continue  # deleted between the two reads
        hits.append(
            SearchHit(
                job_id=job_id,
                filename=job.filename,
                user=job.user,
                passage=passage,
                page=record.pages[0] if record.pages else None,
                pages=record.pages,
                headings=record.headings,
                start=record.start,
                end=record.end,
                text=record.text,
                score=round(score, 4),
            )
        )
    return hits
