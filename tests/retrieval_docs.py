"""Generated documents for retrieval: sections of facts about made-up organisations, and questions whose answering
sentence is known, so a test or a benchmark can tell whether search found the passage a question was written from.

Every document is about its own organisation (names do not repeat), its facts fill slots from word lists with a
seeded random generator, and each question paraphrases one fact without quoting it whole.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF

FIRST = "Ver Mor Tal Quen Bram Sol Dun Kest Lor Nim Ober Pax Rhun Sev Tor Ulm Wex Yar Zel Arn Cal Fen Gor Hal".split()
LAST = "ora ith ex ant ova ion ara eth ulus idor an ex ix ory aven ost elle ium ond ar ick ast ena oth".split()
KINDS = ("Dynamics", "Foods", "Shipping", "Textiles", "Robotics", "Energy", "Pharma", "Mining", "Software", "Glass")
CITIES = "Lisbon Oslo Tallinn Porto Valencia Gdansk Turku Bergen Ghent Leeds Lyon Graz Brno Cork Split Malmo".split()
PEOPLE = "Ada Quist,Bruno Feld,Carla Mendes,Dmitri Volk,Elena Sato,Farid Haddad,Greta Lind,Hugo Marsh".split(",")
ROLES = ("financial", "technology", "operating", "marketing", "legal", "safety")
PRODUCTS = ("pump", "drone", "loom", "turbine", "scanner", "boiler", "press", "crane", "kiln", "mixer")
FILLER = (
    "The board reviewed the quarterly figures at its regular meeting.",
    "Staff received the usual briefing on procedures and schedules.",
    "Several routine matters were recorded in the minutes without discussion.",
    "The auditors found the accounts to be in order for the period.",
    "Further details are kept in the appendix of the annual report.",
    "Meetings continued to be held on the first Monday of each month.",
)
# (fact, question) templates: the question asks for what the fact states, in other words
FACTS = (
    ("{org} moved its headquarters to {city} in {year}.", "Which city did {org} relocate its head office to?"),
    (
        "The {product} built by {org} weighs {n} kilograms when fully assembled.",
        "How heavy is the {product} that {org} makes?",
    ),
    ("{person} was appointed chief {role} officer of {org} last spring.", "Who became {org}'s chief {role} officer?"),
    (
        "{org} signed a supply agreement with {org2} worth {n} million euros.",
        "What deal did {org} make with {org2} and how much was it worth?",
    ),
    (
        "Rainfall near the {org} plant in {city} averages {n} millimetres a year.",
        "How much rain falls each year at the {org} factory?",
    ),
    (
        "A fire in the {org} warehouse destroyed {n} pallets of {product} parts.",
        "What was lost when the {org} warehouse burned?",
    ),
    (
        "{org} employs {n} engineers at its research centre in {city}.",
        "How many engineers work in {org}'s research lab?",
    ),
    (
        "The {org} pension fund invested heavily in {city} harbour bonds.",
        "Where did the {org} pension fund put its money?",
    ),
)
SECTIONS = ("Overview", "Operations", "People", "Finance", "Outlook")


@dataclass(frozen=True)
class Question:
    """A question and the sentence (in the document called ``filename``) that answers it."""

    filename: str
    question: str
    answer: str


@dataclass(frozen=True)
class Document:
    filename: str
    title: str
    pages: list[list[str]]  # each page: its lines (a line may be a heading); blank line = paragraph break
    questions: list[Question]


def _org(rng: random.Random, used: set[str]) -> str:
    while True:
        name = f"{rng.choice(FIRST)}{rng.choice(LAST)} {rng.choice(KINDS)}"
        if name not in used:
            used.add(name)
            return name


def make_documents(count: int, *, seed: int = 7, facts_per_doc: int = 6) -> list[Document]:
    """``count`` documents, each about its own organisation, with ``facts_per_doc`` answerable questions each."""
    rng = random.Random(seed)
    used: set[str] = set()
    documents = []
    for number in range(count):
        org = _org(rng, used)
        partner = _org(rng, used)
        facts = rng.sample(FACTS, facts_per_doc)
        questions, blocks = [], []
        for fact, question in facts:
            slots = dict(
                org=org,
                org2=partner,
                city=rng.choice(CITIES),
                year=rng.randint(1950, 2024),
                n=rng.randint(12, 980),
                person=rng.choice(PEOPLE),
                role=rng.choice(ROLES),
                product=rng.choice(PRODUCTS),
            )
            sentence = fact.format(**slots)
            paragraph = [*rng.sample(FILLER, 2), sentence, rng.choice(FILLER)]
            rng.shuffle(paragraph)
            blocks.append(" ".join(paragraph))
            questions.append(Question(f"report-{number:03d}.pdf", question.format(**slots), sentence))
        pages: list[list[str]] = [[f"{org.upper()} ANNUAL REPORT", ""]]
        for index, block in enumerate(blocks):
            if index % 2 == 0 and index:
                pages.append([])
            section = f"{index // 2 + 1} {SECTIONS[index // 2 % len(SECTIONS)]}"
            if index % 2 == 0:
                pages[-1] += [section, ""]
            pages[-1] += [block, ""]
        documents.append(Document(f"report-{number:03d}.pdf", f"{org} annual report", pages, questions))
    return documents


def write_pdf(document: Document, directory: Path) -> Path:
    """The document as a PDF with a text layer: one page per page, wrapped lines, a blank line between paragraphs."""
    pdf = FPDF(format="A4")
    pdf.set_title(document.title)
    pdf.set_auto_page_break(False)
    for lines in document.pages:
        pdf.add_page()
        pdf.set_font("helvetica", size=11)
        for line in lines:
            if line:
                pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
            else:
                pdf.ln(6)
    path = directory / document.filename
    pdf.output(str(path))
    return path


# Registers whose entries differ only in what they name (a contract number, a clause, a part code, a person): a
# question that names one entry is where sentence embeddings blur and keyword search is exact.
GIVEN = "Imogen Tobias Wanda Casimir Odile Rufus Linnea Anselm Petra Jonas Mireille Oskar".split()
FAMILY = "Krastev Halloran Vasquez Lindqvist Okafor Brandt Moreau Nakamura Petrov Ashdown Quiroga Falk".split()
ID_FACTS = (
    (
        "Contract {contract} with {org} renews on 1 {month} at {n} euros a month.",
        "At what price does contract {contract} renew?",
    ),
    (
        "Under clause {clause} the supplier repairs any fault within {n} hours.",
        "What does clause {clause} require of the supplier?",
    ),
    ("Spare part {part} is stocked in the {city} depot, {n} units on hand.", "Where is spare part {part} kept?"),
    ("Maintenance order {n} for the {product} was signed by {person}.", "Which order did {person} sign?"),
    ("Invoice {invoice} of {n} euros was settled by {org} in {month}.", "Who settled invoice {invoice}?"),
)
MONTHS = "January February March April May June July August September October November December".split()


def make_identifier_documents(count: int, *, seed: int = 13) -> list[Document]:
    """``count`` registers (``register-NNN.pdf``), each with one entry per ``ID_FACTS`` template among filler, and a
    question per entry that names its identifier, number or person."""
    rng = random.Random(seed)
    used: set[str] = set()
    people = [f"{given} {family}" for given in GIVEN for family in FAMILY]
    rng.shuffle(people)
    documents = []
    for number in range(count):
        filename = f"register-{number:03d}.pdf"
        questions, blocks = [], []
        for fact, question in ID_FACTS:
            slots = dict(
                org=_org(rng, used),
                contract=f"CT-{rng.randint(2024, 2029)}-{rng.randint(1, 9999):04d}",
                invoice=f"INV-{rng.randint(2024, 2029)}-{rng.randint(1, 9999):04d}",
                clause=f"{rng.randint(1, 9)}.{rng.randint(1, 9)}.{rng.randint(1, 9)}",
                part=f"{rng.choice('ABKMRXZ')}{rng.choice('ABKMRXZ')}-{rng.randint(1000, 9999)}",
                person=people[(number * len(ID_FACTS) + len(blocks)) % len(people)],
                month=rng.choice(MONTHS),
                city=rng.choice(CITIES),
                n=rng.randint(12, 980),
                product=rng.choice(PRODUCTS),
            )
            sentence = fact.format(**slots)
            paragraph = [*rng.sample(FILLER, 2), sentence, rng.choice(FILLER)]
            rng.shuffle(paragraph)
            blocks.append(" ".join(paragraph))
            questions.append(Question(filename, question.format(**slots), sentence))
        pages: list[list[str]] = [["REGISTER OF CONTRACTS AND PARTS", ""]]
        for index, block in enumerate(blocks):
            pages[-1] += [f"{index + 1} Entry", "", block, ""]
            if index % 2:
                pages.append([])
        documents.append(Document(filename, f"Register {number}", [page for page in pages if page], questions))
    return documents
