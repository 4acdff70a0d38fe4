"""Search over the retrieval jobs' passages (``pipeline.service.search``) and answers to questions from them, with
citations (``pipeline.service.ask``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from pipeline.core import messages
from pipeline.core.errors import (
    InvalidRequest,
    JobNotFound,
)
from pipeline.core.text import clean_query, has_lone_surrogate
from pipeline.service.users import (
    LOCAL_USER,
)

if TYPE_CHECKING:  # pandas costs ~0.6 s to import; only notebooks and analytics need it
    import pandas as pd

    from pipeline.profiles.retrieval.index import PassageIndex, SearchHit
    from pipeline.profiles.retrieval.ranking import SearchMode
    from pipeline.service.ask import Answer, AskEvent, SentPassage
    from pipeline.service.search import PassageSearch


from pipeline.service.job_reading import JobReading


class Answers(JobReading):
    """Search the passages and ask the documents."""

    @property
    def passage_search(self) -> PassageSearch:
        """Search over the retrieval jobs' passages: made on first use (its index loads passages from the store)."""
        with self._passage_search_lock:
            if self._passage_search is None:
                from pipeline.service.search import PassageSearch

                self._passage_search = PassageSearch(self.store)
            return self._passage_search

    @property
    def passage_index(self) -> PassageIndex:
        return self.passage_search.index

    def search(
        self,
        query: str,
        *,
        top_k: int = 5,
        jobs: Iterable[str] | None = None,
        user: str | None = None,
        mode: SearchMode | str = "hybrid",
    ) -> list[SearchHit]:
        """The ``top_k`` passages that best answer ``query``, best first (``user``'s jobs only when given): by
        ``mode`` "hybrid" (meaning and words fused), "semantic" (meaning) or "keyword" (words; needs no model).
        Control characters in the query are spaces; a lone surrogate is no query (``InvalidRequest``)."""
        if has_lone_surrogate(query):
            raise InvalidRequest(messages.QUERY_NOT_TEXT)
        return self.passage_search.hits(clean_query(query), top_k=top_k, jobs=jobs, user=user, mode=mode)

    def search_frame(self, query: str, **options: Any) -> pd.DataFrame:
        return self.passage_search.frame(query, **options)

    def passages(self, job_id: str, *, user: str | None = None, vectors: bool = False) -> list[dict[str, Any]]:
        return self.passage_search.passages(self.get(job_id, user=user), vectors=vectors)

    def ask_stream(
        self,
        question: str,
        *,
        jobs: Iterable[str] | None = None,
        user: str = LOCAL_USER,
        no_model: bool = False,
    ) -> Iterator[AskEvent]:
        """The answer to ``question`` from ``user``'s passages (only ``jobs``' when given), as events: text as it
        comes, then the checked citations, notes, and the whole answer. Claude answers when an API key is set and
        ``no_model`` is False, else the answer is extractive. Refuses at once (before any event) a question that is
        empty, too long or not text (``InvalidRequest``), one over the user's daily budget (``AskBudgetReached``)
        and one beyond the answers a user may have under way (``AskBusy``). The answer's reservation is settled
        when its events end."""
        from pipeline.service import ask

        question = ask.check_question(question)
        use_model = self.settings.anthropic_api_key_set and not no_model
        if use_model:
            ask.check_budget(self.settings, self.store, user)
        scope = self.owner_scope(user)
        hits = self.search(question, top_k=self.settings.ask_passages, jobs=jobs, user=scope)
        client = None
        most = 0.0
        if use_model and hits:
            from pipeline.engines.claude import client_for

            client = client_for(self.settings)
            most = ask.max_cost(self.settings, question, [ask.sent_passage(hit) for hit in hits])
        reservation = ask.reserve(self.settings, self.store, user, most)

        def still_visible(sent: SentPassage) -> bool:
            try:
                self.get(sent.hit.job_id, user=scope)
            except JobNotFound:
                return False
            found = self.store.passages_at(sent.hit.job_id, [sent.hit.passage])
            return bool(found) and found[0].text == sent.hit.text

        def record(answer: Answer) -> None:
            self.store.settle_ask(reservation, answer.input_tokens, answer.output_tokens, answer.cost_usd)

        return ask.answer_events(
            question, hits, settings=self.settings, client=client, still_visible=still_visible, record=record
        )

    def ask(
        self,
        question: str,
        jobs: Iterable[str] | None = None,
        *,
        user: str = LOCAL_USER,
        no_model: bool = False,
        on_text: Callable[[str], None] | None = None,
    ) -> Answer:
        """``ask_stream`` to its end: the whole answer; ``on_text`` gets each piece of text as it comes."""
        for event in self.ask_stream(question, jobs=jobs, user=user, no_model=no_model):
            if event.kind == "text" and on_text is not None:
                on_text(event.text)
            elif event.kind == "end" and event.answer is not None:
                return event.answer
        raise AssertionError("an answer's events always end with the answer")
