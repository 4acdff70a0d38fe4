"""A query as keyword phrases for the job store's full-text index: what a person typed, never query syntax.

Text in double quotes (straight or typographic) is one phrase, its words in order; every other word is a phrase of
its own, with the punctuation around it trimmed (``2.3.5?`` is ``2.3.5``; the dots inside stay, so the index,
which cuts an identifier into adjacent tokens, matches it only whole). The store matches any of the phrases and
ranks passages holding more and rarer ones first.

The exact phrases of a query are what it names rather than describes: its quoted phrases, its identifiers
(words holding a digit, ``INV-2027-0042``, ``2.3.5``, or joined by inner punctuation, or in capitals, ``ACME``)
and its names (capitalised words that do not start a sentence).
Hybrid search ranks the passages that hold all of them by a ranking of their own.
"""

from __future__ import annotations

import re

#: at most this many phrases per query (a pasted page is not a keyword query)
MAX_PHRASES = 32
_QUOTED = re.compile(r"[\"“”„«»]([^\"“”„«»]+)[\"“”„«»]")
_EDGE_PUNCTUATION = "\"'“”„«»‘’`.,;:!?()[]{}<>"
_JOINED = re.compile(r"\w[-._/]\w")
_POSSESSIVE = re.compile(r"['’]s$")
_SENTENCE_END = re.compile(r"[.!?]\s+")


def keyword_phrases(query: str) -> list[str]:
    """The phrases of ``query`` (quoted ones first, each once, case aside), those with no letter or digit dropped."""
    phrases = [" ".join(quoted.split()) for quoted in _QUOTED.findall(query)]
    phrases += [_POSSESSIVE.sub("", word.strip(_EDGE_PUNCTUATION)) for word in _QUOTED.sub(" ", query).split()]
    seen: set[str] = set()
    kept = []
    for phrase in phrases:
        if any(c.isalnum() for c in phrase) and phrase.casefold() not in seen:
            seen.add(phrase.casefold())
            kept.append(phrase)
    return kept[:MAX_PHRASES]


def exact_phrases(query: str) -> list[str]:
    """The phrases ``query`` names exactly: its quoted phrases, its identifiers and its names (capitalised words
    that do not start a sentence)."""
    quoted = {" ".join(q.split()).casefold() for q in _QUOTED.findall(query)}
    firsts = {s.split()[0].strip(_EDGE_PUNCTUATION) for s in _SENTENCE_END.split(_QUOTED.sub(" ", query)) if s.split()}
    return [
        phrase
        for phrase in keyword_phrases(query)
        if phrase.casefold() in quoted or _is_identifier(phrase) or (phrase[0].isupper() and phrase not in firsts)
    ]


def _is_identifier(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    capitals = len(letters) >= 2 and all(c.isupper() for c in letters)
    return any(c.isdigit() for c in word) or bool(_JOINED.search(word)) or capitals
