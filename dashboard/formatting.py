"""Small text and HTML helpers shared by the views: durations, sizes, the stage stepper, the chunk map."""

from __future__ import annotations

import time

import panel as pn

from pipeline import Chunk, Job, JobStatus
from pipeline.core import messages
from pipeline.core.lifecycle import stages_of
from pipeline.core.models import ChunkStatus
from pipeline.profiles.registry import is_indexed

from .safe_html import render

STATUS_COLORS = {
    "queued": "#9aa5b1",
    "running": "#2f80ed",
    "done": "#27ae60",
    "completed": "#27ae60",
    "failed": "#eb5757",
    "canceled": "#828282",
}


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def size(num_bytes: int | None) -> str:
    if not num_bytes:
        return "-"
    value = float(num_bytes)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def elapsed(job: Job, now: float | None = None) -> float | None:
    if job.started_at is None:
        return None
    end = job.finished_at or (time.time() if now is None else now)
    return max(0.0, end - job.started_at)


def time_ago(seconds: float) -> str:
    """ "just now", "4 min ago", "2 h ago": coarse, so a folded line's text (and every page showing it) changes at
    most once a minute."""
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    return f"{int(seconds // 3600)} h ago"


def stepper_html(job: Job) -> str:
    """The stages as a row of steps: done ones ticked, the current one highlighted (red if it failed there)."""
    stages = stages_of(indexed=is_indexed(job.profile))
    keys = [stage.value for stage in stages]
    current = keys.index(job.stage.value) if job.stage.value in keys else len(keys) - 1
    failed = job.status in (JobStatus.FAILED, JobStatus.CANCELED)
    steps = []
    for position, stage in enumerate(stages):
        if position < current or job.status is JobStatus.COMPLETED:
            state = "done"
        elif position == current:
            state = "failed" if failed else "current"
        else:
            state = "todo"
        steps.append((stage.value, messages.stage_label(stage), state))
    return render("stepper.html", steps=steps)


def chunk_cell_title(chunk: Chunk) -> str:
    text = f"Chunk {chunk.index + 1}: pages {chunk.first_page}-{chunk.last_page}, {chunk.status.value}"
    if chunk.status is ChunkStatus.RUNNING:
        text += f", {chunk.pages_done}/{chunk.pages} pages"
    if chunk.duration_s is not None:
        text += f", {duration(chunk.duration_s)}"
    if chunk.attempts > 1:
        text += f", attempt {chunk.attempts}"
    if chunk.worker:
        text += f", on {chunk.worker}"
    if chunk.error:
        text += f"\nError: {chunk.error}"
    return text


def chunk_map_html(chunks: list[Chunk]) -> str:
    """One cell per chunk coloured by status; hovering shows its pages, duration and error."""
    return render("chunk_map.html", chunks=chunks, title=chunk_cell_title)


CSS = """
.pl-stepper { display:flex; gap:4px; list-style:none; padding:0; margin:4px 0; font-size:12px; }
.pl-stepper .step { padding:2px 8px; border-radius:10px; background:#eef1f4; color:#7b8794; }
.pl-stepper .step-done { background:#d4f3e0; color:#1e7a46; }
.pl-stepper .step-current { background:#2f80ed; color:white; font-weight:600; }
.pl-stepper .step-failed { background:#eb5757; color:white; font-weight:600; }
.pl-chunkmap { display:flex; flex-wrap:wrap; gap:3px; margin:4px 0; }
.pl-chunk { width:26px; height:22px; border-radius:4px; font-size:10px; line-height:22px; text-align:center;
  color:white; cursor:default; }
.pl-chunk-queued { background:#c3cad2; color:#4a5560; }
.pl-chunk-running { background:linear-gradient(90deg, #2f80ed var(--fill, 0%), #8fb8f5 var(--fill, 0%)); }
.pl-chunk-done { background:#27ae60; }
.pl-chunk-failed { background:#eb5757; }
.pl-chunk-canceled { background:#828282; }
.pl-meta { font-size:12px; color:#52606d; }
.pl-error { color:#c0392b; font-size:13px; }
.pl-note { color:#8a6d00; font-size:12px; }
.pl-bar-row { display:flex; align-items:center; gap:8px; }
.pl-progress { flex:1; height:14px; accent-color:#2f80ed; }
.pl-progress-success { accent-color:#27ae60; }
.pl-progress-danger { accent-color:#eb5757; }
.pl-progress-secondary { accent-color:#828282; }
.pl-finished { font-size:13px; color:#334e68; }
.pl-warning { background:#fff3cd; color:#664d03; border:1px solid #ffecb5; border-radius:6px; padding:8px 10px;
  font-size:13px; }
.pl-hit { margin:6px 0; font-size:13px; }
.pl-passage { white-space:pre-wrap; color:#243b53; margin-top:2px; }
.pl-passage mark { background:#fff1a8; padding:0 1px; }
.pl-passage-md { white-space:normal; }
.pl-passage-md h1, .pl-passage-md h2, .pl-passage-md h3, .pl-passage-md h4, .pl-passage-md h5, .pl-passage-md h6 {
  font-size:13px; margin:4px 0 2px; }
.pl-passage-md p, .pl-passage-md ul, .pl-passage-md ol { margin:2px 0; }
.pl-finished-failed b { color:#c0392b; }
.pl-answer-text { white-space:pre-wrap; font-size:14px; color:#102a43; margin:6px 0; }
.pl-sources { font-size:12px; padding-left:22px; }
.pl-sources li { margin:4px 0; }
.pl-markdown table { border-collapse:collapse; font-size:13px; display:block; overflow:auto; max-height:60vh; }
.pl-markdown th, .pl-markdown td { border:1px solid #d9e2ec; padding:3px 8px; vertical-align:top; }
.pl-markdown thead th { position:sticky; top:0; background:#f0f4f8; }
.pl-markdown td.pl-num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
.pl-page-marker { margin:14px 0 6px; padding-top:4px; border-top:1px solid #d9e2ec; font-size:11px; font-weight:600;
  color:#829ab1; text-transform:uppercase; letter-spacing:.04em; }
"""


def html_pane(obj: str = "", **params: object) -> pn.pane.HTML:
    """An HTML pane carrying Paperline's stylesheet: Panel renders panes in shadow DOM, out of reach of page CSS."""
    return pn.pane.HTML(obj, stylesheets=[CSS], **params)


def has_result(job: Job) -> bool:
    """Whether a job has a result to open: it ended completed, or failed after some pages (a partial result)."""
    return job.status in (JobStatus.COMPLETED, JobStatus.FAILED) and bool(job.pages_done)


def heading(title: str) -> pn.pane.HTML:
    """A section heading as plain HTML: a Markdown pane would render Markdown on every page open."""
    return pn.pane.HTML(f"<h3>{title}</h3>", margin=(5, 10, 0, 10))
