"""Charts (Bokeh): jobs over time by status, and processing time against page count.

Both update in place: new jobs are streamed into the ColumnDataSources and changed ones patched, so the
figures are never rebuilt while an analyst is looking at them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import panel as pn
import param
from bokeh.models import ColumnDataSource, DataRange1d, DatetimeTickFormatter, FactorRange, HoverTool
from bokeh.models.annotations import Label
from bokeh.plotting import figure
from param.parameters import NoNone

from pipeline import Job, JobStatus

from .formatting import STATUS_COLORS
from .state import SessionState

if TYPE_CHECKING:
    from bokeh.models.sources import DataDict

STATUSES = [s.value for s in JobStatus]
TIMELINE_KEYS = ["id", "filename", "created", "status", "color", "pages", "size"]
TIMING_KEYS = ["id", "filename", "pages", "duration", "profile", "engine"]


#: tick labels a person reads at every zoom: clock time for a day's jobs, dates for weeks, never "200ms" alone
#: (a formatter is a model of its figure's document: each figure gets its own)
TIME_TICKS: dict[str, Any] = dict(
    milliseconds="%H:%M:%S.%3N",
    seconds="%H:%M:%S",
    minsec="%H:%M:%S",
    minutes="%H:%M",
    hourmin="%H:%M",
    hours="%H:%M",
    days="%d %b",
    months="%b %Y",
    years="%Y",
)


def readable_time_axis(fig: figure, default_span_ms: float) -> None:
    """Clock or calendar ticks, and a span of ``default_span_ms`` around a lone point (Bokeh's default span is 2 ms,
    which labels the axis "0ms 200ms ... 0ms")."""
    fig.xaxis.formatter = DatetimeTickFormatter(**TIME_TICKS)
    if isinstance(fig.x_range, DataRange1d):
        fig.x_range.default_span = default_span_ms


def empty_note(fig: figure, reason: str) -> Label:
    """A line inside the figure saying why it is empty; shown while its data is empty (``show_when_empty``)."""
    note = Label(
        x=12,
        y=12,
        x_units="screen",
        y_units="screen",
        text=reason,
        text_font_size="12px",
        text_color="#52606d",
        text_font_style="italic",
        visible=False,
    )
    fig.add_layout(note)
    return note


def show_when_empty(note: Label, source: ColumnDataSource) -> None:
    columns: dict[str, Any] = dict(source.data)
    empty = not next(iter(columns.values()), [])
    if note.visible != empty:
        note.visible = empty


def _marker_size(pages: int) -> float:
    return 7 + 3 * math.log2(max(1, pages))


def timeline_row(job: Job) -> dict[str, list]:
    return {
        "id": [job.id],
        "filename": [job.filename],
        "created": [job.created_at * 1000],
        "status": [job.status.value],
        "color": [STATUS_COLORS[job.status.value]],
        "pages": [job.pages],
        "size": [_marker_size(job.pages)],
    }


def timing_row(job: Job) -> dict[str, list]:
    return {
        "id": [job.id],
        "filename": [job.filename],
        "pages": [job.pages],
        "duration": [job.duration_s or 0.0],
        "profile": [job.profile],
        "engine": [job.engine],
    }


def _concat(rows: list[dict[str, list]], keys: list[str]) -> DataDict:
    return {key: [value for row in rows for value in row[key]] for key in keys}


def is_timed(job: Job) -> bool:
    """A job the timing chart shows: completed by processing (not answered from cache)."""
    return job.status is JobStatus.COMPLETED and job.duration_s is not None and job.cached_from is None


def chart_columns(jobs: list[Job]) -> tuple[DataDict, DataDict]:
    """Both charts' columns for these jobs, oldest first (so streamed rows keep positions stable)."""
    ordered = sorted(jobs, key=lambda j: j.created_at)
    timeline = _concat([timeline_row(j) for j in ordered], TIMELINE_KEYS)
    return timeline, _concat([timing_row(j) for j in ordered if is_timed(j)], TIMING_KEYS)


class ChartsView(pn.viewable.Viewer):
    """Two Bokeh figures fed by streaming and patching their data sources."""

    state = param.ClassSelector(class_=SessionState, allow_None=NoNone)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        # The columns are built once per server and revision for every session of the same scope (the feed's
        # shared data); each session copies the lists, since streaming extends a source's lists in place.
        state = self.state
        timeline, timing = state.feed.shared(("charts", state.owner_filter), lambda: chart_columns(state.jobs()))
        self._timeline_rows = {job_id: i for i, job_id in enumerate(timeline["id"])}
        self.timeline_source = ColumnDataSource({key: list(values) for key, values in timeline.items()})
        self._timed = set(timing["id"])
        self.timing_source = ColumnDataSource({key: list(values) for key, values in timing.items()})
        self.timeline = self._timeline_figure()
        self.timing = self._timing_figure()
        self._empty = {
            "timeline": empty_note(self.timeline, "No jobs yet: drop documents to start."),
            "timing": empty_note(
                self.timing, "No job processed yet (a job answered from cache took no processing time)."
            ),
        }
        self._show_empty()
        self.state.param.watch(self._on_update, "update")

    def _show_empty(self) -> None:
        show_when_empty(self._empty["timeline"], self.timeline_source)
        show_when_empty(self._empty["timing"], self.timing_source)

    def _timeline_figure(self) -> figure:
        fig = figure(
            title="Jobs over time by status",
            x_axis_type="datetime",
            y_range=FactorRange(factors=STATUSES),  # what Bokeh makes of a list of factors
            height=300,
            sizing_mode="stretch_width",
            tools="pan,wheel_zoom,box_zoom,reset,save",
            name="jobs_over_time",
        )
        fig.scatter("created", "status", size="size", color="color", alpha=0.75, source=self.timeline_source)
        fig.add_tools(
            HoverTool(
                tooltips=[
                    ("file", "@filename"),
                    ("status", "@status"),
                    ("pages", "@pages"),
                    ("submitted", "@created{%F %T}"),
                ],
                formatters={"@created": "datetime"},
            )
        )
        fig.xaxis.axis_label = "submitted (UTC)"
        readable_time_axis(fig, 3_600_000)
        return fig

    def _timing_figure(self) -> figure:
        fig = figure(
            title="Processing time against page count",
            height=300,
            sizing_mode="stretch_width",
            tools="pan,wheel_zoom,box_zoom,reset,save",
            name="time_vs_pages",
        )
        fig.scatter("pages", "duration", size=9, color="#2f80ed", alpha=0.7, source=self.timing_source)
        fig.add_tools(
            HoverTool(
                tooltips=[
                    ("file", "@filename"),
                    ("pages", "@pages"),
                    ("seconds", "@duration{0.00}"),
                    ("profile", "@profile"),
                    ("engine", "@engine"),
                ]
            )
        )
        fig.xaxis.axis_label = "pages"
        fig.yaxis.axis_label = "processing time (s)"
        return fig

    def apply(self, jobs: list[Job]) -> None:
        """Stream new jobs, patch changed ones; add finished jobs to the timing chart once."""
        new = [j for j in jobs if j.id not in self._timeline_rows]
        patches: dict[str, list[tuple[int, object]]] = {"status": [], "color": [], "pages": [], "size": []}
        for job in jobs:
            row = self._timeline_rows.get(job.id)
            if row is not None:
                patches["status"].append((row, job.status.value))
                patches["color"].append((row, STATUS_COLORS[job.status.value]))
                patches["pages"].append((row, job.pages))
                patches["size"].append((row, _marker_size(job.pages)))
        if patches["status"]:
            self.timeline_source.patch(patches)
        if new:
            start = len(self.timeline_source.data["id"])
            for offset, job in enumerate(sorted(new, key=lambda j: j.created_at)):
                self._timeline_rows[job.id] = start + offset
            self.timeline_source.stream(
                _concat([timeline_row(j) for j in sorted(new, key=lambda j: j.created_at)], TIMELINE_KEYS)
            )
        finished = [j for j in jobs if is_timed(j) and j.id not in self._timed]
        if finished:
            self._timed.update(j.id for j in finished)
            self.timing_source.stream(_concat([timing_row(j) for j in finished], TIMING_KEYS))
        self._show_empty()

    def _on_update(self, event: param.parameterized.Event) -> None:
        if event.new.jobs:
            self.apply(event.new.jobs)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            pn.pane.Bokeh(self.timeline, sizing_mode="stretch_width"),
            pn.pane.Bokeh(self.timing, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )
