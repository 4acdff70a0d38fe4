"""Run what a ``Paperline`` queued in this process, in order, without a consumer: for fast unit tests.

The tasks are the very ones a worker runs (``Paperline.tasks``, bound once to the app's queue with a processor on
the app's own store); a task scheduled for later (a retry's backoff) runs at once.
"""

from __future__ import annotations

from pipeline.service.paperline import Paperline


def run_queued(app: Paperline, *, limit: int = 10_000) -> int:
    """Drain the app's queue, follow-ups included; returns how many tasks ran."""
    app.tasks  # bind before the first dequeue, so the queue knows the task names  # noqa: B018
    for ran in range(limit):
        task = app.queue.dequeue()
        if task is None:
            return ran
        task.execute()
    raise AssertionError("the queue did not drain")
