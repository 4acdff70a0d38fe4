"""History: every job in a Tabulator table, newest first, filterable, growing and updating in place.

The table paginates on the server: the browser holds one page, so a patch or a new row costs one page, however
long the history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
import panel as pn
import param
from param.parameters import NoNone

from pipeline import Job, JobStatus

from .state import SessionState

if TYPE_CHECKING:  # only for annotations: nothing more is imported at run time
    from panel.models.tabulator import CellClickEvent

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


class HistoryTable(pn.viewable.Viewer):
    """A table of all visible jobs; new jobs are appended and changed ones patched in place."""

    state = param.ClassSelector(class_=SessionState, allow_None=NoNone)
    status: param.Selector[str] = param.Selector(
        objects=[STATUS_ANY, *[s.value for s in JobStatus]], default=STATUS_ANY
    )
    search = param.String(default="", doc="Part of a file name.")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        # The rows are built once per server for every session (the feed's shared frame); a user's own copy
        # is cut from it, since patches change the table's frame in place.
        frame = self.state.feed.shared("history", lambda: history_frame(self.state.feed.jobs_for(None)))
        owner = self.state.owner_filter
        frame = (frame if owner is None else frame[frame["user"] == owner]).reset_index(drop=True).copy()
        self._rows: dict[str, int] = {job_id: i for i, job_id in enumerate(frame["id"])}
        self.table = pn.widgets.Tabulator(
            frame,
            show_index=False,
            disabled=True,
            selectable=1,
            pagination="remote",
            page_size=15,
            sizing_mode="stretch_width",
            height=480,
            sorters=[{"field": "created", "dir": "desc"}],
            titles={"duration_s": "duration (s)", "filename": "file", "cost_usd": "cost ($)"},
            formatters={"created": {"type": "datetime", "outputFormat": "yyyy-MM-dd HH:mm:ss"}},
            hidden_columns=["id"] if self.state.owner_filter is None else ["id", "user"],
            css_classes=["pl-history"],
        )
        self.table.add_filter(pn.bind(filter_jobs, status=self.param.status, search=self.param.search))
        self.table.on_click(self._on_click)
        self.state.param.watch(self._on_update, "update")

    def _on_click(self, event: CellClickEvent) -> None:
        job_id = self.table.value.iloc[event.row]["id"] if event.row is not None else None
        if job_id:
            self.state.open_result(job_id)

    def apply(self, jobs: list[Job]) -> None:
        """Append jobs not yet in the table and patch the rows of jobs that changed."""
        new = [j for j in jobs if j.id not in self._rows]
        patches: dict[str, list[tuple[int, object]]] = {}
        current = self.table.value
        for job in jobs:
            if job.id in self._rows:
                row, index = job_row(job), self._rows[job.id]
                for column in PATCHED:  # only cells that changed: a page count moving sends nothing
                    if not _same(current.at[index, column], row[column]):
                        patches.setdefault(column, []).append((index, row[column]))
        if patches:
            self.table.patch(patches, as_index=False)
        if new:
            new.sort(key=lambda j: j.created_at)
            start = len(self.table.value)
            for offset, job in enumerate(new):
                self._rows[job.id] = start + offset
            frame = pd.DataFrame([job_row(j) for j in new], columns=COLUMNS, index=range(start, start + len(new)))
            # Not Tabulator.stream: with remote pagination (Panel 1.9) it never sends streamed rows to the browser.
            # A new value sends only the page on screen, which is what remote pagination is for.
            self.table.value = pd.concat([self.table.value, frame]) if start else frame

    def _on_update(self, event: param.parameterized.Event) -> None:
        if event.new.jobs:
            self.apply(event.new.jobs)

    def __panel__(self) -> pn.viewable.Viewable:
        filters = pn.Row(
            pn.widgets.Select.from_param(self.param.status, label="Status", width=140),
            pn.widgets.TextInput.from_param(self.param.search, label="Search by name", placeholder="report", width=240),
        )
        return pn.Column(filters, self.table, sizing_mode="stretch_width")
