"""What the command line prints: queue lines, serve and stop, results on a terminal."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.core.messages.words import plural


def queue_line(count: int, what: str, detail: str = "", *, many: str | None = None) -> str:
    """A line of the queue's health: "3 jobs (12 chunks waiting)"."""
    return plural(count, what, many) + (f" ({detail})" if detail else "")


def serve_worker(processes: int) -> str:
    return f"the worker ({plural(processes, 'process', 'processes')}; a running chunk is handed back to the queue)"


def serve_dashboard(port: int) -> str:
    return f"the dashboard on port {port}"


def stopping(waiting: Sequence[str], limit_s: float) -> str:
    return f"Stopping Paperline: waiting for {' and '.join(waiting)}, at most {limit_s:.0f} s"


def ended_after(what: str, limit_s: float) -> str:
    return f"Ended {what}: it had not stopped after {limit_s:.0f} s"


def binary_result_on_terminal(name: str) -> str:
    return f"This result is a binary file, not for a terminal: save it with -o {name} (or -O), or redirect the output."
