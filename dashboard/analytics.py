"""The Analytics tab: where processing time goes, throughput, queue wait, failures, cost and a chunk timeline.

The frames come from the feed's shared snapshot (one read per process when jobs end); this view only filters them
to the session's user and date range and refills its charts' sources, so sessions never query the store here.
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import panel as pn
import param
from param.parameters import NoNone

from pipeline.insight import timings as analytics
from pipeline.service.export import FORMATS, TABLES, frame_bytes, history_frames

from .analytics_charts import AnalyticsCharts, chart_data
from .formatting import html_pane
from .safe_html import format_html
from .state import SessionState

LATEST = "latest job"
TAB = "Analytics"


class AnalyticsView(pn.viewable.Viewer):
    """Charts over the visible history, refreshed when the feed has a new analytics snapshot."""

    state = param.ClassSelector(class_=SessionState, allow_None=NoNone)
    dates = param.DateRange(default=None, doc="Only jobs submitted on these days (UTC); empty for all.")
    gantt_job: param.Selector[str] = param.Selector(
        objects=[LATEST], default=LATEST, doc="Job whose chunks the timeline shows."
    )
    export_table: param.Selector[str] = param.Selector(objects=list(TABLES), default="jobs")
    export_format: param.Selector[str] = param.Selector(objects=list(FORMATS), default="csv")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.charts = AnalyticsCharts()
        self._summary = html_pane("", sizing_mode="stretch_width")
        self._download = pn.widgets.FileDownload(
            callback=self._export, filename=self._export_name(), label="Export", color="primary", width=140
        )
        self._stale = False
        self.refresh()
        self.state.param.watch(self._on_update, "update")
        self.state.param.watch(self._on_tab, "tab")

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The jobs and chunks this session may see, within the date range."""
        snapshot = self.state.feed.analytics_frames
        if snapshot is None:
            from pipeline.insight.frames import chunks_frame, jobs_frame

            return jobs_frame([]), chunks_frame([])
        jobs, chunks = snapshot
        if self.state.owner_filter is not None:
            jobs = jobs[jobs["user"] == self.state.owner_filter]
        if self.dates:
            start, end = self.dates
            jobs = analytics.in_range(jobs, start, pd.Timestamp(end) + pd.Timedelta(days=1) - pd.Timedelta(1))
        return jobs, chunks[chunks["job_id"].isin(set(jobs["id"]))]

    def _gantt_options(self, jobs: pd.DataFrame, chunks: pd.DataFrame) -> dict[str, str]:
        ran = jobs[jobs["id"].isin(set(chunks.loc[chunks["started_at"].notna(), "job_id"]))]
        ran = ran.sort_values("created_at", ascending=False).head(200)
        return {LATEST: LATEST, **{f"{row.filename} · {row.id}": str(row.id) for row in ran.itertuples()}}

    @param.depends("dates", "gantt_job", watch=True)
    def refresh(self) -> None:
        self._stale = False
        jobs, chunks = self.frames()
        options = self._gantt_options(jobs, chunks)
        self.param.gantt_job.objects = options  # labels shown, job ids kept
        self._gantt_labels = {v: k for k, v in options.items()}
        job_id = self.gantt_job if self.gantt_job in options.values() else LATEST
        if job_id == LATEST:
            job_id = next(iter(list(options.values())[1:]), "")
        self.charts.update(chart_data(jobs, chunks, job_id))
        done = analytics.processed_jobs(jobs)
        pages = int(done["pages"].sum()) if not done.empty else 0
        self._summary.object = format_html(
            '<div class="pl-meta">{} jobs in range · {} processed · {:,} pages · timeline: {}</div>',
            len(jobs),
            len(done),
            pages,
            self._gantt_labels.get(job_id, "no job yet"),
        )

    def _on_update(self, event: param.parameterized.Event) -> None:
        if not event.new.analytics_changed:
            return
        if self.state.tab in ("", TAB):  # on screen (or not in tabs at all, as in a notebook)
            self.refresh()
        else:
            self._stale = True  # no work while hidden: refreshed when shown

    def _on_tab(self, event: param.parameterized.Event) -> None:
        if event.new == TAB and self._stale:
            self.refresh()

    def _export_name(self) -> str:
        return f"paperline-{self.export_table}.{self.export_format}"

    @param.depends("export_table", "export_format", watch=True)
    def _rename_export(self) -> None:
        self._download.filename = self._export_name()

    def _export(self) -> io.BytesIO:
        frame = history_frames(self.state.app, user=self.state.owner_filter, tables=[self.export_table])
        return io.BytesIO(frame_bytes(frame[self.export_table], self.export_format))

    def __panel__(self) -> pn.viewable.Viewable:
        controls = pn.Row(
            pn.widgets.DateRangePicker.from_param(self.param.dates, name="Submitted between", width=260),
            pn.widgets.Select.from_param(self.param.gantt_job, name="Timeline of", width=320),
            sizing_mode="stretch_width",
        )
        export = pn.Row(
            pn.widgets.Select.from_param(self.param.export_table, name="Export", width=120),
            pn.widgets.Select.from_param(self.param.export_format, name="as", width=110),
            pn.Column(pn.Spacer(height=18), self._download),
        )
        figures = self.charts.figures
        grid = pn.GridBox(
            *[pn.pane.Bokeh(figures[name], sizing_mode="stretch_width") for name in figures],
            ncols=2,
            sizing_mode="stretch_width",
        )
        return pn.Column(controls, self._summary, grid, export, sizing_mode="stretch_width")
