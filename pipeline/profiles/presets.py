"""Claude's instruction presets as profiles: ``tables`` and ``timetable`` (rows of JSON objects per page, as JSON
and CSV) and ``custom`` (the analyst's own instruction, answered as text). Each says what the model is asked
(``Profile.model_task``) and how its answer reads (``model_rows``): the engine asks the profile, never its name."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from pipeline.core.models import PageText
from pipeline.core.spreadsheet import defuse
from pipeline.profiles.base import Profile, as_json, pages_payload
from pipeline.profiles.text import render_text


def page_rows(pages: Sequence[PageText]) -> list[dict[str, Any]]:
    """Rows from pages whose text is a JSON array of objects (Claude's table presets), each tagged with its page."""
    rows = []
    for page in pages:
        for row in json.loads(page.text or "[]"):
            rows.append({"page": page.page, **row})
    return rows


def rows_csv(rows: Sequence[dict[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([defuse(column) for column in columns or ["page"]])  # column names come from the model too
    for row in rows:
        cells = (row.get(column, "") for column in columns)
        writer.writerow(
            [defuse(json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v) for v in cells]
        )
    return buffer.getvalue()


def _render_rows(profile: str) -> Any:
    def render(pages: Sequence[PageText], title: str, document: dict[str, Any]) -> dict[str, str]:
        rows = page_rows(pages)
        payload = pages_payload(pages, profile, document, rows=rows)
        payload["pages"] = [{"page": p.page, "method": p.method} for p in pages]
        return {"json": as_json(payload), "csv": rows_csv(rows)}

    return render


def _render_custom(pages: Sequence[PageText], title: str, document: dict[str, Any]) -> dict[str, str]:
    return {"text": render_text(pages), "json": as_json(pages_payload(pages, "custom", document))}


TABLES = Profile(
    name="tables",
    description="every table on each page, as rows (Claude)",
    engines=("claude",),
    formats=("json", "csv"),
    render=_render_rows("tables"),
    model_task="Find every table on each page. Inside each page block put only a JSON array with one object per "
    'table row, keyed by the table\'s column headers, plus a "table" key naming the table. Use [] for a page with no '
    "table.",
    model_rows=True,
)
TIMETABLE = Profile(
    name="timetable",
    description="the timetable on each page, as rows (Claude)",
    engines=("claude",),
    formats=("json", "csv"),
    render=_render_rows("timetable"),
    model_task="Read the timetable on each page. Inside each page block put only a JSON array with one object per "
    'entry, with the keys "day", "start", "end", "subject", "place" and any other column found (snake_case). Use '
    "[] for a page with no timetable.",
    model_rows=True,
)
CUSTOM = Profile(
    name="custom",
    description="what your instruction asks for (Claude)",
    engines=("claude",),
    formats=("text", "json"),
    render=_render_custom,
    cacheable=False,  # the instruction is part of the request
    needs_instruction=True,
)
