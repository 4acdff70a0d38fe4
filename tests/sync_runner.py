"""Run queued Paperline tasks in this process, in order, without a consumer: for fast unit tests."""

from __future__ import annotations

from pipeline.processing import Processor
from pipeline.service import Paperline


def run_queued(app: Paperline, *, limit: int = 10_000) -> int:
    """Drain the job queue by running each task's step here; follow-ups are queued and run too."""
    pending: list[tuple[str, tuple]] = []
    processor = Processor(
        app.settings,
        app.store,
        lambda job_id, index, delay: pending.append(("process_chunk", (job_id, index))),
        lambda job_id: pending.append(("merge_document", (job_id,))),
        lambda job_id: pending.append(("process_document", (job_id,))),
    )
    steps = {
        "process_document": processor.prepare,
        "process_chunk": processor.run_chunk,
        "merge_document": processor.merge,
    }
    ran = 0
    while ran < limit:
        task = app.queue.dequeue()
        if task is not None:
            pending.append((type(task).__name__, task.args))
        if not pending:
            return ran
        name, args = pending.pop(0)
        steps[name](*args)
        ran += 1
    raise AssertionError("the queue did not drain")
