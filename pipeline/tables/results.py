"""Tables read from a job's stored results: its ``tables`` result, with captions from its JSON tree. What the
service's ``tables()`` and the ``xlsx`` format (``pipeline.files.jobfiles.MADE_FORMATS``) read."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pipeline.tables.captions import table_captions


def tables_of(read: Callable[[str], bytes | None]) -> tuple[list[dict[str, Any]], list[str], str]:
    """The tables of a job's stored results (``read`` gives a format's bytes, or None), the caption of each ("" for
    none) and the document's name."""
    stored = read("tables")
    payload = json.loads(stored) if stored else {}
    tables = list(payload.get("tables", []))
    captions = [str(t.get("caption", "") or "") for t in tables]
    if tables and not all(captions):
        tree = read("json")
        elements = (json.loads(tree) if tree else {}).get("elements") or []
        from_tree = table_captions(elements) if len(elements) else []
        if len(from_tree) == len(tables):  # the tree's tables are the same tables, in the same order
            captions = [own or found for own, found in zip(captions, from_tree, strict=True)]
    document = payload.get("document", {})
    return tables, captions, str(document.get("filename", "") if isinstance(document, dict) else "")


def workbook_of(read: Callable[[str], bytes | None]) -> bytes:
    """The ``xlsx`` format: every table in one workbook (``pipeline.tables.workbook``)."""
    from pipeline.tables.workbook import workbook_bytes

    tables, captions, document = tables_of(read)
    return workbook_bytes(tables, captions, document=document)
