"""History: every job in a table, newest first, filterable and sortable, growing and updating in place.

The table paginates on the server: the browser holds one page (``HistoryGrid``, one component: filters, rows and
pager), so a patch or a new row costs at most one page, however long the history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import panel as pn
import param
from panel.custom import JSComponent
from param.parameters import NoNone

from pipeline import Job, JobStatus

from .state import SessionState

COLUMNS = [
    "id",
    "filename",
    "user",
    "engine",
    "profile",
    "status",
    "pages",
    "chunks",
    "duration_s",
    "cost_usd",
    "created",
    "files",
    "error",
]
STATUS_ANY = "any"
#: the columns a job's row can change in after it was added
PATCHED = ("status", "pages", "chunks", "duration_s", "cost_usd", "files", "error")


def job_row(job: Job) -> dict[str, object]:
    return {
        "id": job.id,
        "filename": job.filename,
        "user": job.user,
        "engine": job.engine,
        "profile": job.profile,
        "status": job.status.value,
        "pages": job.pages,
        "chunks": f"{job.chunks_done}/{job.chunks_total}"
        + (f" ({job.chunks_failed} failed)" if job.chunks_failed else ""),
        "duration_s": round(job.duration_s, 2) if job.duration_s is not None and job.is_final else None,
        "cost_usd": round(job.cost_usd, 4) if job.cost_usd else None,
        "created": pd.Timestamp(job.created_at, unit="s", tz="UTC").tz_convert(None),
        "error": job.error,
        "files": "purged" if job.purged_at else ("kept" if job.is_final else ""),
    }


def history_frame(jobs: list[Job]) -> pd.DataFrame:
    """Every job as a row, oldest first (so appended rows keep positions stable)."""
    return pd.DataFrame([job_row(j) for j in sorted(jobs, key=lambda j: j.created_at)], columns=COLUMNS)


def _same(a: Any, b: Any) -> bool:
    """Equal cell values, counting a missing value (None, NaN) equal to another missing one."""
    return bool(a == b) or bool(pd.isna(a) and pd.isna(b))


def filter_jobs(df: pd.DataFrame, status: str = STATUS_ANY, search: str = "") -> pd.DataFrame:
    """Rows with the chosen status whose file name contains the search text (case-insensitive)."""
    if df.empty:
        return df
    mask = pd.Series(True, index=df.index)
    if status and status != STATUS_ANY:
        mask &= df["status"] == status
    if search:
        mask &= df["filename"].str.contains(search, case=False, regex=False)
    return df[mask]


#: the columns shown, with their titles and alignment (the job's id is each row's, never a column)
TITLES = {"filename": "file", "duration_s": "duration (s)", "cost_usd": "cost ($)", "created": "created (UTC)"}
RIGHT = {"pages", "duration_s", "cost_usd"}
PAGE_SIZE = 15
HISTORY_CSS = """
:host { display:block; width:100%; }
.pl-history-grid { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size:13px; color:#102a43; }
.pl-history-bar { display:flex; gap:16px; align-items:center; margin:4px 0 8px; }
.pl-history-bar label { font-size:13px; color:#334e68; }
.pl-history-bar select, .pl-history-bar input { font:inherit; padding:3px 6px; border:1px solid #bcccdc;
  border-radius:4px; }
.pl-history-wrap { overflow:auto; max-height:480px; border:1px solid #d9e2ec; }
.pl-history-table { border-collapse:collapse; width:100%; }
.pl-history-table th { position:sticky; top:0; background:#f0f4f8; cursor:pointer; white-space:nowrap; }
.pl-history-table th, .pl-history-table td { border-bottom:1px solid #e4e7eb; padding:4px 8px; }
.pl-history-table td { max-width:360px; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
.pl-history-row { cursor:pointer; }
.pl-history-row:hover { background:#f0f4f8; }
.pl-history-pager { display:flex; gap:8px; align-items:center; justify-content:flex-end; margin-top:6px;
  color:#52606d; }
.pl-history-pager button { font:inherit; border:1px solid #bcccdc; background:white; border-radius:4px;
  cursor:pointer; }
.pl-history-pager button:disabled { opacity:.4; cursor:default; }
"""


class HistoryGrid(JSComponent):
    """The browser's half of History: filters, a page of rows, sorting and paging, in one component."""

    columns = param.List(default=[], doc="[field, title, alignment] of each column shown.")
    rows = param.List(default=[], doc="The page's rows: the job's id, then each column's text.")
    statuses = param.List(default=[], doc="The statuses to filter by.")
    status = param.String(default=STATUS_ANY)
    search = param.String(default="", doc="Part of a file name.")
    sort = param.String(default="created", doc="The column rows are sorted by.")
    descending = param.Boolean(default=True)
    page = param.Integer(default=1)
    pages = param.Integer(default=1)
    total = param.Integer(default=0, doc="Rows that pass the filters.")
    page_size = param.Integer(default=PAGE_SIZE)
    clicked = param.String(default="", doc="The job of the row last clicked.")
    clicks = param.Integer(default=0, doc="Counts clicks on rows (a second click on one row counts).")

    _bundle = Path(__file__).parent / "assets" / "history_grid.js"
    _stylesheets = [HISTORY_CSS]


def cell_text(column: str, value: object) -> str:
    """A cell as the table shows it: empty for a missing value, times to the second (UTC), seconds to 0.01."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[call-overload]
        return ""
    if column == "created":
        return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M:%S")  # type: ignore[arg-type]
    if column == "duration_s":
        return f"{float(value):.2f}"  # type: ignore[arg-type]
    if column == "cost_usd":
        return f"{float(value):.4f}"  # type: ignore[arg-type]
    return str(value)


class HistoryTable(pn.viewable.Viewer):
    """A table of all visible jobs; new jobs are appended and changed ones patched in place, and the page on show
    (filtered, sorted, 15 rows) is sent again only when what it shows changed."""

    state = param.ClassSelector(class_=SessionState, allow_None=NoNone)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        # The rows are built once per server for every session (the feed's shared frame); a user's own copy
        # is cut from it, since patches change it in place.
        frame = self.state.feed.shared("history", lambda: history_frame(self.state.feed.jobs_for(None)))
        owner = self.state.owner_filter
        #: every visible job's row, oldest first
        self.rows = (frame if owner is None else frame[frame["user"] == owner]).reset_index(drop=True).copy()
        self._index: dict[str, int] = {job_id: i for i, job_id in enumerate(self.rows["id"])}
        shown = [c for c in COLUMNS if c != "id" and (c != "user" or owner is None)]
        self.grid = HistoryGrid(
            columns=[[c, TITLES.get(c, c), "right" if c in RIGHT else "left"] for c in shown],
            statuses=[STATUS_ANY, *[s.value for s in JobStatus]],
            sizing_mode="stretch_width",
            css_classes=["pl-history"],
        )
        self.grid.param.watch(lambda *_events: self.show_page(), ["status", "search", "sort", "descending", "page"])
        self.grid.param.watch(self._on_click, "clicks")
        self.state.param.watch(self._on_update, "update")
        self.show_page()

    def show_page(self) -> None:
        """The rows passing the filters, sorted, cut to the page on show; sent only when they changed."""
        grid = self.grid
        found = filter_jobs(self.rows, grid.status, grid.search)
        if grid.sort in found.columns and not found.empty:
            found = found.sort_values(grid.sort, ascending=not grid.descending, na_position="last", kind="stable")
        pages = max(1, -(-len(found) // grid.page_size))
        page = min(max(1, grid.page), pages)
        cut = found.iloc[(page - 1) * grid.page_size : page * grid.page_size]
        fields = [field for field, _title, _align in grid.columns]
        rows = [[row["id"], *(cell_text(f, row[f]) for f in fields)] for _, row in cut.iterrows()]
        changed = {
            name: value
            for name, value in (("rows", rows), ("total", len(found)), ("pages", pages), ("page", page))
            if getattr(grid, name) != value
        }
        if changed:  # (a page clamped here comes back through the watcher once, and changes nothing more)
            grid.param.update(**changed)

    def _on_click(self, _event: param.parameterized.Event) -> None:
        if self.grid.clicked in self._index:
            self.state.open_result(self.grid.clicked)

    def apply(self, jobs: list[Job]) -> None:
        """Append jobs not yet in the table, patch the rows of jobs that changed, and show the page again."""
        rows = self.rows
        new = [j for j in jobs if j.id not in self._index]
        for job in jobs:
            index = self._index.get(job.id)
            if index is not None:
                row = job_row(job)
                for column in PATCHED:  # only cells that changed
                    if not _same(rows.at[index, column], row[column]):
                        rows.at[index, column] = row[column]  # type: ignore[assignment]
        if new:
            new.sort(key=lambda j: j.created_at)
            start = len(rows)
            for offset, job in enumerate(new):
                self._index[job.id] = start + offset
            frame = pd.DataFrame([job_row(j) for j in new], columns=COLUMNS, index=range(start, start + len(new)))
            self.rows = pd.concat([rows, frame]) if start else frame
        self.show_page()

    def _on_update(self, event: param.parameterized.Event) -> None:
        if event.new.jobs:
            self.apply(event.new.jobs)

    def __panel__(self) -> pn.viewable.Viewable:
        return self.grid
