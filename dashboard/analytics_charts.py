"""The analytics charts (Bokeh), shared by the dashboard's Analytics tab and ``processing_analytics.ipynb``.

``chart_data`` turns the jobs and chunks frames into one dict of columns per chart; ``AnalyticsCharts`` holds
one figure per chart over a ColumnDataSource, and ``update`` swaps in new columns, so figures are built once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
from bokeh.models import ColumnDataSource, FactorRange, HoverTool
from bokeh.palettes import Category10_10
from bokeh.plotting import figure

from pipeline.insight import timings as analytics

from .charts import empty_note, readable_time_axis, show_when_empty
from .formatting import STATUS_COLORS

if TYPE_CHECKING:
    from bokeh.models.sources import DataDict

TOOLS = "pan,wheel_zoom,box_zoom,reset,save"
#: a colour per stage timed (queued, preparing, extracting, merging), in that order
STAGE_COLORS = dict(zip(analytics.STAGES, ("#9aa5b1", "#f2c94c", "#2f80ed", "#27ae60"), strict=True))

#: chart name -> its columns (every chart's source always has exactly these)
CHART_COLUMNS: dict[str, list[str]] = {
    "stage_breakdown": ["stage", "median_s", "mean_s", "total_s", "share", "color"],
    "throughput": ["job_id", "engine", "profile", "pages", "pages_per_s", "color"],
    "queue_wait": ["job_id", "created", "queue_wait_s", "processing_s", "engine"],
    "failure_rate": ["day", "jobs", "failed", "failure_rate"],
    "cost_per_day": ["day", "jobs", "input_tokens", "output_tokens", "cost_usd"],
    "chunk_gantt": ["chunk", "worker", "start", "end", "pages", "status", "attempts", "color"],
}
DAY_MS = 86_400_000


def _ms(times: pd.Series) -> list[float]:
    """Datetimes as epoch milliseconds, what Bokeh's datetime axes take."""
    return [(t - pd.Timestamp(0, tz="UTC")).total_seconds() * 1000 for t in times]


def _engine_colors(engines: pd.Series) -> list[str]:
    order = sorted(set(engines))
    return [Category10_10[order.index(e) % 10] for e in engines]


def chart_data(jobs: pd.DataFrame, chunks: pd.DataFrame, gantt_job: str = "") -> dict[str, DataDict]:
    """Columns for every chart from the jobs and chunks frames (already filtered to a user and a date range)."""
    stages = analytics.stage_summary(analytics.stage_durations(jobs, chunks))
    waits = analytics.queue_wait(jobs)
    completed = waits.merge(jobs[["id", "profile", "status"]], left_on="job_id", right_on="id")
    completed = completed[completed["status"] == "completed"]
    rate = completed["pages"] / completed["processing_s"].where(completed["processing_s"] > 0)
    failures = analytics.failure_rate_by_day(jobs)
    cost = analytics.cost_by(jobs, "day")
    gantt = analytics.chunk_timeline(chunks, gantt_job)
    return {
        "stage_breakdown": {
            "stage": list(stages["stage"]),
            "median_s": list(stages["median_s"]),
            "mean_s": list(stages["mean_s"]),
            "total_s": list(stages["total_s"]),
            "share": list(stages["share"]),
            "color": [STAGE_COLORS[s] for s in stages["stage"]],
        },
        "throughput": {
            "job_id": list(completed["job_id"]),
            "engine": list(completed["engine"]),
            "profile": list(completed["profile"]),
            "pages": list(completed["pages"]),
            "pages_per_s": list(rate.fillna(0.0)),
            "color": _engine_colors(completed["engine"]),
        },
        "queue_wait": {
            "job_id": list(waits["job_id"]),
            "created": _ms(waits["created_at"]),
            "queue_wait_s": list(waits["queue_wait_s"]),
            "processing_s": list(waits["processing_s"]),
            "engine": list(waits["engine"]),
        },
        "failure_rate": {
            "day": _ms(failures["day"]),
            "jobs": list(failures["jobs"]),
            "failed": [int(x) for x in failures["failed"]],
            "failure_rate": list(failures["failure_rate"]),
        },
        "cost_per_day": {
            "day": _ms(cost["day"]),
            "jobs": list(cost["jobs"]),
            "input_tokens": list(cost["input_tokens"]),
            "output_tokens": list(cost["output_tokens"]),
            "cost_usd": list(cost["cost_usd"]),
        },
        "chunk_gantt": {
            "chunk": [str(c) for c in gantt["chunk"]],
            "worker": list(gantt["worker"]),
            "start": _ms(gantt["start"]),
            "end": _ms(gantt["end"]),
            "pages": list(gantt["pages"]),
            "status": list(gantt["status"]),
            "attempts": list(gantt["attempts"]),
            "color": [STATUS_COLORS.get(s, "#2f80ed") for s in gantt["status"]],
        },
    }


#: why each chart can be empty, said inside it while it is
EMPTY_REASONS = {
    "stage_breakdown": "No job processed in this range yet: stages show once a job has run on a worker.",
    "throughput": "No job processed in this range yet.",
    "queue_wait": "No job in this range yet.",
    "failure_rate": "No job ended in this range yet.",
    "cost_per_day": "No Claude job in this range: only the claude engine costs money; local jobs cost nothing.",
    "chunk_gantt": "No chunks to show: choose a job that ran on workers (answered from cache, it ran none).",
}


class AnalyticsCharts:
    """One Bokeh figure per analytics chart, each over a named source that ``update`` refills in place."""

    def __init__(self, data: dict[str, DataDict] | None = None) -> None:
        self.sources = {name: ColumnDataSource({c: [] for c in columns}) for name, columns in CHART_COLUMNS.items()}
        self.figures = {
            "stage_breakdown": self._stage_breakdown(),
            "throughput": self._throughput(),
            "queue_wait": self._queue_wait(),
            "failure_rate": self._failure_rate(),
            "cost_per_day": self._cost_per_day(),
            "chunk_gantt": self._chunk_gantt(),
        }
        self.empty = {name: empty_note(self.figures[name], reason) for name, reason in EMPTY_REASONS.items()}
        for name in self.figures:
            show_when_empty(self.empty[name], self.sources[name])
        if data is not None:
            self.update(data)

    def update(self, data: dict[str, DataDict]) -> None:
        for name, columns in data.items():
            if columns != dict(self.sources[name].data):
                self.sources[name].data = columns
            show_when_empty(self.empty[name], self.sources[name])
        workers = sorted(set(data["chunk_gantt"]["worker"]))
        rows = self.figures["chunk_gantt"].y_range
        assert isinstance(rows, FactorRange)  # made so by _chunk_gantt: one factor per worker
        rows.factors = workers or ["(no chunks)"]

    @staticmethod
    def _figure(name: str, title: str, **options: Any) -> figure:
        return figure(name=name, title=title, height=280, sizing_mode="stretch_width", tools=TOOLS, **options)

    def _stage_breakdown(self) -> figure:
        fig = self._figure("stage_breakdown", "Where time goes: median seconds per stage", x_range=list(STAGE_COLORS))
        fig.vbar(x="stage", top="median_s", width=0.7, color="color", source=self.sources["stage_breakdown"])
        fig.add_tools(
            HoverTool(
                tooltips=[
                    ("stage", "@stage"),
                    ("median", "@median_s{0.00} s"),
                    ("mean", "@mean_s{0.00} s"),
                    ("share of all time", "@share{0%}"),
                ]
            )
        )
        fig.yaxis.axis_label = "seconds (median job)"
        return fig

    def _throughput(self) -> figure:
        fig = self._figure("throughput", "Throughput against page count, by engine", x_axis_type="log")
        fig.scatter(
            "pages", "pages_per_s", size=9, color="color", legend_field="engine", source=self.sources["throughput"]
        )
        fig.add_tools(HoverTool(tooltips=[("job", "@job_id"), ("pages", "@pages"), ("pages/s", "@pages_per_s{0.0}")]))
        fig.xaxis.axis_label = "pages"
        fig.yaxis.axis_label = "pages per second"
        fig.legend.location = "top_left"
        return fig

    def _queue_wait(self) -> figure:
        fig = self._figure("queue_wait", "Queue wait over time", x_axis_type="datetime")
        fig.scatter("created", "queue_wait_s", size=7, color="#9aa5b1", source=self.sources["queue_wait"])
        fig.add_tools(
            HoverTool(
                tooltips=[("job", "@job_id"), ("waited", "@queue_wait_s{0.00} s"), ("ran", "@processing_s{0.00} s")]
            )
        )
        fig.xaxis.axis_label = "submitted (UTC)"
        fig.yaxis.axis_label = "seconds waiting for a worker"
        readable_time_axis(fig, 3_600_000)
        return fig

    def _failure_rate(self) -> figure:
        fig = self._figure("failure_rate", "Failure rate per day", x_axis_type="datetime", y_range=(0, 1))
        fig.vbar(x="day", top="failure_rate", width=DAY_MS * 0.8, color="#eb5757", source=self.sources["failure_rate"])
        fig.add_tools(
            HoverTool(
                tooltips=[("day", "@day{%F}"), ("failed", "@failed of @jobs"), ("rate", "@failure_rate{0%}")],
                formatters={"@day": "datetime"},
            )
        )
        fig.yaxis.axis_label = "share of jobs failed"
        readable_time_axis(fig, 7 * DAY_MS)
        return fig

    def _cost_per_day(self) -> figure:
        fig = self._figure("cost_per_day", "Claude cost per day (estimated)", x_axis_type="datetime")
        fig.vbar(x="day", top="cost_usd", width=DAY_MS * 0.8, color="#bb6bd9", source=self.sources["cost_per_day"])
        fig.add_tools(
            HoverTool(
                tooltips=[
                    ("day", "@day{%F}"),
                    ("cost", "$@cost_usd{0.0000}"),
                    ("tokens", "@input_tokens in, @output_tokens out"),
                ],
                formatters={"@day": "datetime"},
            )
        )
        fig.yaxis.axis_label = "USD"
        readable_time_axis(fig, 7 * DAY_MS)
        return fig

    def _chunk_gantt(self) -> figure:
        fig = self._figure(
            "chunk_gantt", "Chunks across workers (selected job)", x_axis_type="datetime", y_range=FactorRange()
        )
        fig.hbar(y="worker", left="start", right="end", height=0.6, color="color", source=self.sources["chunk_gantt"])
        fig.add_tools(
            HoverTool(
                tooltips=[
                    ("chunk", "@chunk"),
                    ("pages", "@pages"),
                    ("status", "@status"),
                    ("attempts", "@attempts"),
                    ("worker", "@worker"),
                ]
            )
        )
        fig.xaxis.axis_label = "time (UTC)"
        readable_time_axis(fig, 60_000)
        return fig
