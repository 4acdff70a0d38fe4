"""``paperline search`` and ``paperline passages``: hybrid, semantic or keyword search and a job's passages from the
command line."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

from pipeline.core.errors import EngineUnavailable

#: ``pipeline.profiles.retrieval.ranking.SearchMode``'s values, named here so building the command line does not
#: import the ranking (and the index and embedding with it); a test holds the two together
SEARCH_MODES = ("hybrid", "semantic", "keyword")

SHOWN_CHARS = 320


def add_commands(sub: Any) -> None:
    """Register the retrieval subcommands on the CLI's subparsers."""
    search = sub.add_parser("search", help="search every indexed passage (retrieval profile) by meaning and words")
    search.add_argument("query", help='what to find; "quoted words" must appear as written')
    search.add_argument("--job", action="append", default=None, help="only this job (repeatable)")
    search.add_argument("--top", type=int, default=5, help="how many passages (default 5)")
    search.add_argument(
        "--mode",
        choices=SEARCH_MODES,
        default=SEARCH_MODES[0],
        help="hybrid: meaning and words fused (default); semantic: meaning; keyword: words (needs no model)",
    )
    search.add_argument("--json", action="store_true")
    search.set_defaults(func=cmd_search)

    passages = sub.add_parser("passages", help="a retrieval job's passages as JSON lines")
    passages.add_argument("job")
    passages.add_argument("--vectors", action="store_true", help="include each passage's embedding")
    passages.add_argument("-o", "--output", help="write to this file instead of standard output")
    passages.set_defaults(func=cmd_passages)


def cmd_search(app: Any, args: argparse.Namespace) -> int:
    from pipeline.profiles.retrieval.embedding import unavailable_reason
    from pipeline.profiles.retrieval.ranking import SearchMode

    reason = unavailable_reason() if args.mode != SearchMode.KEYWORD else None
    if reason:
        raise EngineUnavailable(reason)
    hits = app.search(args.query, top_k=args.top, jobs=args.job, user=args.owner_filter, mode=args.mode)
    if args.json:
        print(json.dumps([hit.to_dict() for hit in hits], indent=2, ensure_ascii=False))
        return 0
    for hit in hits:
        where = f"p. {hit.page}" if hit.page is not None else "no page"
        path = " > ".join(hit.headings)
        print(f"{hit.score:.3f}  {hit.filename}  {where}  (job {hit.job_id}, passage {hit.passage})  {path}".rstrip())
        excerpt = " ".join(hit.text.split())
        excerpt = excerpt if len(excerpt) <= SHOWN_CHARS else excerpt[: SHOWN_CHARS - 1] + "…"
        print(textwrap.indent(textwrap.fill(excerpt, width=100), "    "))
    if not hits:
        print("No passages found. Index documents with 'paperline submit FILE --profile retrieval'.", file=sys.stderr)
    return 0


def cmd_passages(app: Any, args: argparse.Namespace) -> int:
    lines = "".join(
        json.dumps(row, ensure_ascii=False) + "\n"
        for row in app.passages(args.job, user=args.owner_filter, vectors=args.vectors)
    )
    if args.output:
        Path(args.output).write_text(lines, encoding="utf-8")
        print(f"Wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(lines)
    return 0
