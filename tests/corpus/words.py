"""Seeded text for generated documents: sentences, titles, names, figures and table labels.

Sentences are drawn from a few hundred plain words (none hyphenated, so no line break can cut a word into two
spellings), so a six-word run almost never repeats inside one document: unit tests quote such runs."""

from __future__ import annotations

import random

WORDS = """
account action advance agency agreement amount analysis annual answer approach area argument article aspect
assessment asset attention audience balance basis behaviour benefit border branch budget building business
capacity capital career carbon case category centre chapter charge choice circuit claim climate coast collection
column comment committee community company comparison component concept condition conference contract control
council country course court cover credit culture current customer cycle damage data debate decade decision
degree delivery demand density deposit design detail device difference direction discount distance district
division document effect effort element energy engine entry estimate event evidence example exchange exercise
expense experience export factor failure family feature figure finance forest format fraction freight function
fund garden growth harbour heating history holder household image impact import income increase index industry
input instance interest interval inventory island journal judgement labour ladder language layer leader lease
letter level library licence limit liquid loan location machine majority manager margin market material measure
medium member memory method metric minister mission model moment motion network notice number object office
operator option orbit order output owner package panel parish partner passage pattern payment pension period
permit person phase pilot plant platform policy portion position pressure price process product profile profit
project property proposal purpose quality quarter question radius railway range rate ratio reader reason record
region register relation release report request research reserve resource result revenue review river route
salary sample schedule scheme school science season sector segment select series service session settlement
shadow share signal silver site sketch society source space speaker species spirit stage standard station status
storage strategy stream structure student subject summary supply surface survey system target tariff teacher
tension term territory theory threshold timber tissue topic total tower trade traffic transfer treaty trial
trust unit valley value vessel village volume voucher wage water weight window winter worker yield
""".split()
LINKS = "the of and to in for with on by from as at across within between over under after before during".split()
VERBS = """
affects allows builds changes checks covers creates defines describes drives enables follows gives holds
improves includes keeps limits links lowers marks meets moves names opens places raises reaches records reduces
returns shapes shows sets supports tracks turns uses
""".split()
FIRST = """Anna Boris Clara David Elena Farid Grace Hiro Ines Jonas Karin Luca Maya Nils Omar Petra Rosa Sven Tariq
Uma""".split()
LAST = "Adler Berg Costa Dahl Evans Fischer Garcia Hoffmann Ito Jensen Kowalski Lopez Moreau Novak Olsen Park".split()
MONTHS = "January February March April May June July August September October November December".split()


def words(rng: random.Random, count: int) -> list[str]:
    return [rng.choice(WORDS) for _ in range(count)]


def sentence(rng: random.Random, length: int | None = None) -> str:
    """A sentence of plain words: noun phrase, verb, noun phrase, ending with a full stop."""
    length = length or rng.randint(9, 18)
    parts = [rng.choice(WORDS), rng.choice(WORDS), rng.choice(VERBS)]
    while len(parts) < length:
        parts += [rng.choice(LINKS), rng.choice(WORDS)] if rng.random() < 0.4 else [rng.choice(WORDS)]
    text = " ".join(parts[:length])
    return text[0].upper() + text[1:] + "."


def paragraph(rng: random.Random, sentences: int | None = None) -> str:
    return " ".join(sentence(rng) for _ in range(sentences or rng.randint(2, 5)))


def title(rng: random.Random, length: int | None = None) -> str:
    return " ".join(w.capitalize() if i == 0 or w not in LINKS else w for i, w in enumerate(_phrase(rng, length)))


def _phrase(rng: random.Random, length: int | None) -> list[str]:
    count = length or rng.randint(3, 6)
    out = [rng.choice(WORDS)]
    while len(out) < count:
        out += (
            [rng.choice(LINKS), rng.choice(WORDS)]
            if rng.random() < 0.3 and len(out) < count - 1
            else [rng.choice(WORDS)]
        )
    return [w.capitalize() if w not in LINKS else w for w in out]


def label(rng: random.Random) -> str:
    """A short row or column label: one or two capitalised words."""
    return " ".join(w.capitalize() for w in words(rng, rng.choice((1, 1, 2))))


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def date(rng: random.Random, style: int | None = None) -> str:
    year, month, day = rng.randint(2009, 2025), rng.randint(1, 12), rng.randint(1, 28)
    style = rng.randint(0, 2) if style is None else style
    if style == 0:
        return f"{day} {MONTHS[month - 1]} {year}"
    if style == 1:
        return f"{MONTHS[month - 1]} {day}, {year}"
    return f"{year}-{month:02d}-{day:02d}"


def number(rng: random.Random, kind: str = "int") -> str:
    """A figure as tables print it: int (thousands separated), dec (one or two decimals), pct, or neg
    (parenthesised)."""
    if kind == "dec":
        return f"{rng.uniform(0, 999):,.{rng.choice((1, 2))}f}"
    if kind == "pct":
        return f"{rng.uniform(-20, 80):.1f}%"
    if kind == "neg":
        return f"({rng.randint(1, 9999):,})"
    return f"{rng.randint(1, 99999):,}"


def unique_labels(rng: random.Random, count: int, make=label) -> list[str]:
    """``count`` different labels (so a table cell test names one cell)."""
    seen: list[str] = []
    while len(seen) < count:
        candidate = make(rng)
        if candidate not in seen:
            seen.append(candidate)
    return seen
