"""``paperline ask``: a question answered from the indexed documents, streamed, with its sources."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from pipeline.core.errors import EngineUnavailable

if TYPE_CHECKING:
    from pipeline.service.ask import Answer

QUOTED_CHARS = 200


def add_commands(sub: Any) -> None:
    """Register ``ask`` on the CLI's subparsers."""
    ask = sub.add_parser("ask", help="answer a question from the indexed documents (retrieval profile), with sources")
    ask.add_argument("question")
    ask.add_argument("--job", action="append", default=None, help="only this job's passages (repeatable)")
    ask.add_argument("--json", action="store_true", help="the answer, how it was made and its citations as JSON")
    ask.add_argument("--no-model", action="store_true", help="an extractive answer: quoted sentences, no Claude")
    ask.set_defaults(func=cmd_ask)


def cmd_ask(app: Any, args: argparse.Namespace) -> int:
    from pipeline.profiles.retrieval.embedding import unavailable_reason

    reason = unavailable_reason()
    if reason:
        raise EngineUnavailable(reason)
    if args.json:
        answer = app.ask(args.question, args.job, user=args.user, no_model=args.no_model)
        print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
        return 0

    def show(text: str) -> None:  # each piece as it comes
        sys.stdout.write(text)
        sys.stdout.flush()

    answer = app.ask(args.question, args.job, user=args.user, no_model=args.no_model, on_text=show)
    print()
    print_sources(answer)
    return 0


def print_sources(answer: Answer) -> None:
    from pipeline.service.ask import distinct, page_label

    shown = distinct(answer.citations)
    if shown:
        print("\nSources:")
    for citation in shown:
        quote = " ".join(citation.cited_text.split())
        quote = quote if len(quote) <= QUOTED_CHARS else quote[: QUOTED_CHARS - 1] + "…"
        print(
            f"[{citation.number}] {citation.filename}, {page_label(citation.pages)} "
            f"(job {citation.job_id}, passage {citation.passage}, characters {citation.start}-{citation.end}): "
            f"“{quote}”"
        )
    for note in answer.notes:
        print(f"Note: {note}", file=sys.stderr)
    if answer.method == "model" and (answer.input_tokens or answer.output_tokens):
        print(
            f"({answer.model}: {answer.input_tokens} tokens in, {answer.output_tokens} out, ~${answer.cost_usd:.4f})",
            file=sys.stderr,
        )
