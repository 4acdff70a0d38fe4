"""``paperline submit a.pdf b.pdf`` (one batch, one progress bar with ``--wait``) and ``paperline batch
show|cancel|retry|download ID``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core import messages
from pipeline.core.batches import BatchView
from pipeline.core.models import Job

if TYPE_CHECKING:
    from pipeline.service.paperline import Paperline


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, default=str))


def _line(job: Job) -> str:
    return f"{job.id}  {job.status.value:<9}  {job.filename}  {job.error or job.message}"


def _print_batch(view: BatchView, as_json: bool) -> None:
    if as_json:
        _print_json(view.to_dict())
        return
    totals = view.totals
    eta = ""
    if not view.is_final:
        from pipeline.insight.eta import format_eta

        eta = format_eta(view.eta_s)
    print(
        f"{view.id}  {view.status.value:<9}  {totals.batch.name}: {view.message}; "
        f"pages {totals.pages_done}/{totals.pages}{f', {eta}' if eta else ''}"
    )


def submit_batch(app: Paperline, args: argparse.Namespace) -> int:
    """Submit the files as one batch; with ``--wait``, follow it with one bar until every job ends."""
    missing = [name for name in args.files if not Path(name).is_file()]
    if missing:
        print(f"{missing[0]}: No such file", file=sys.stderr)
        return 2
    options: dict[str, Any] = dict(
        profile=args.profile, engine=args.engine, instruction=args.instruction, priority=args.priority
    )
    batch, jobs = app.submit_batch([(Path(name), None) for name in args.files], user=args.user, **options)
    for job in jobs:
        if job.error:
            print(f"{job.filename}: {job.error}", file=sys.stderr)
    print(f"Batch {batch.id}: {len(jobs)} documents", file=sys.stderr)
    view = app.batch(batch.id, eta=False)
    if args.wait:
        view = wait_for_batch(app, batch.id, timeout_s=args.timeout)
        jobs = app.batch_jobs(batch.id)
    if args.json:  # the jobs, as for one file (scripts read a list); each names its batch: `batch show ID --json`
        _print_json([job.to_dict() for job in jobs])
        print(view.message, file=sys.stderr)
    else:
        for job in jobs:
            print(_line(job))
        _print_batch(view, False)
    counts = view.totals.counts
    if args.wait:
        return 0 if counts["completed"] == view.totals.total else 1
    return 0 if not counts["failed"] else 1


def wait_for_batch(app: Paperline, batch_id: str, *, timeout_s: float | None, poll_s: float = 0.3) -> BatchView:
    """One bar for the whole batch ("3 of 10 ready, 1 failed") on a terminal; elsewhere a line whenever it moves.
    Gives up saying why when no worker is alive to finish it."""
    from tqdm import tqdm

    from pipeline.insight.eta import format_eta

    terminal = sys.stderr.isatty()
    bar = tqdm(total=100, file=sys.stderr, disable=not terminal, bar_format="{percentage:3.0f}%|{bar}| {postfix}")
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    last = ""
    alive_at = time.monotonic()
    try:
        while True:
            view = app.batch(batch_id)
            line = f"{view.message}{f', {format_eta(view.eta_s)}' if not view.is_final and view.eta_s else ''}"
            if terminal:
                bar.n = round(max(bar.n, view.totals.progress), 1)
                bar.set_postfix_str(line, refresh=True)
            elif view.message != last:
                print(f"{view.totals.progress:3.0f}% {view.message}", file=sys.stderr)
            last = view.message
            if view.is_final or (deadline is not None and time.monotonic() >= deadline):
                return view
            if app.workers():
                alive_at = time.monotonic()
            elif time.monotonic() - alive_at >= app.settings.stall_after_s:
                waiting = view.totals.documents - view.totals.ended
                print(f"paperline: {messages.no_worker_to_finish(waiting)}", file=sys.stderr)
                return view
            time.sleep(poll_s)
    finally:
        bar.close()


def cmd_batch(app: Paperline, args: argparse.Namespace) -> int:
    if args.action == "show":
        _print_batch(app.batch(args.batch, user=args.owner_filter), args.json)
        if not args.json:
            for job in app.batch_jobs(args.batch):
                print(f"  {_line(job)}")
        return 0
    if args.action == "cancel":
        _print_batch(app.cancel_batch(args.batch, user=args.owner_filter), args.json)
        return 0
    if args.action == "retry":
        view = app.retry_batch(args.batch, user=args.owner_filter)
        if args.wait:
            view = wait_for_batch(app, args.batch, timeout_s=args.timeout)
        _print_batch(view, args.json)
        return 0 if not args.wait or view.totals.counts["completed"] == view.totals.total else 1
    output = Path(args.output or f"paperline-batch-{args.batch}.zip")
    with output.open("wb") as out:
        manifest = app.write_batch_results(args.batch, out, user=args.owner_filter)
    missing = [entry for entry in manifest if not entry["file"]]
    print(f"Wrote {output} ({len(manifest) - len(missing)} results, {len(missing)} without)", file=sys.stderr)
    return 0


def add_commands(sub: Any) -> None:
    batch = sub.add_parser("batch", help="a batch of documents: show, cancel all, retry the failed, download all")
    batch.add_argument("action", choices=["show", "cancel", "retry", "download"])
    batch.add_argument("batch", metavar="ID")
    batch.add_argument("-o", "--output", help="download: the zip to write (default paperline-batch-ID.zip)")
    batch.add_argument("--wait", action="store_true", help="retry: follow the batch until every job ends")
    batch.add_argument("--timeout", type=float, default=None)
    batch.add_argument("--json", action="store_true")
    batch.set_defaults(func=cmd_batch)
