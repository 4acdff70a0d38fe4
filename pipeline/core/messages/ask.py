"""Asking the documents: answers, citations, budgets, questions."""

from __future__ import annotations

from pipeline.core.messages.words import plural

# -- asking the documents ---------------------------------------------------------------------------------------
ASK_EXTRACTIVE_LABEL = (
    "Extractive answer (no model): the sentences of your documents that best match the question, quoted as they are."
)
ASK_NO_PASSAGES = (
    "None of your indexed documents has a passage about this question, so there is nothing to answer from. "
    "Documents are searchable once extracted with the retrieval profile."
)
ASK_NO_KEY = "No ANTHROPIC_API_KEY is set, so this answer is extractive."
ASK_CITATION_NOT_SENT = "A citation to a passage that was not among this question's passages was dropped."
ASK_CITATION_KIND = "A citation of a kind Paperline did not ask for ({kind}) was dropped."


def usd(amount: float) -> str:
    """ "$0.52"; a small amount keeps its first digits ("$0.0031") rather than reading as nothing."""
    return f"${amount:.2f}" if amount >= 0.01 or amount == 0 else f"${amount:.2g}"


def ask_budget_reached(user: str, spent: float, budget: float, under_way: float = 0.0) -> str:
    held = f" (and answers under way may cost up to {usd(under_way)})" if under_way > 0 else ""
    return (
        f"{user} has spent about {usd(spent)}{held} of the {usd(budget)} daily budget for answers "
        "(PAPERLINE_ASK_BUDGET_USD); it renews at midnight UTC. An extractive answer, without the model, is still "
        "available."
    )


def ask_busy(user: str, under_way: int) -> str:
    return (
        f"{user} already has {plural(under_way, 'answer')} under way (PAPERLINE_ASK_CONCURRENCY_PER_USER); "
        "ask again when one has ended."
    )


_NOT_TEXT = "must be text: it holds a lone UTF-16 surrogate, which no character encoding carries."
ASK_QUESTION_NOT_TEXT = f"A question {_NOT_TEXT}"
QUERY_NOT_TEXT = f"A query {_NOT_TEXT}"


def ask_citation_gone(filename: str, passage: int) -> str:
    return f"A citation to passage {passage} of {filename} was dropped: that passage is no longer there to show."


def ask_citation_out_of_range(filename: str, passage: int) -> str:
    return f"A citation to a part of passage {passage} of {filename} that the passage does not have was dropped."


def ask_question_size(limit: int) -> str:
    return f"A question is 1 to {limit:,} characters."


def ask_failed(error: str) -> str:
    return f"Claude could not answer: {error}"
