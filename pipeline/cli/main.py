"""The ``paperline`` command: submit documents, follow them, read results, run the worker."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from pipeline.core import messages
from pipeline.core.errors import InvalidRequest, NoWorkerRunning, PaperlineError
from pipeline.core.models import Job, JobStatus, Stage
from pipeline.core.settings import Settings
from pipeline.engines import ENGINES
from pipeline.files.jobfiles import FORMAT_FILES
from pipeline.profiles.registry import engine_profiles, profiles
from pipeline.service.paperline import Paperline
from pipeline.service.users import LOCAL_USER


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, default=str))


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


def _line(job: Job) -> str:
    detail = job.error or job.message
    return f"{job.id}  {job.status.value:<9}  {job.filename}  {detail}"


def _warn_if_no_worker(app: Paperline, jobs: Sequence[Job]) -> None:
    if any(not j.is_final for j in jobs) and not app.workers():
        print(messages.NO_WORKER_RUNNING, file=sys.stderr)


def cmd_submit(app: Paperline, args: argparse.Namespace) -> int:
    if len(args.files) > 1 or args.batch:
        from pipeline.cli.batches import submit_batch

        return submit_batch(app, args)
    jobs = []
    for name in args.files:
        try:
            jobs.append(
                app.submit(
                    Path(name),
                    profile=args.profile,
                    engine=args.engine,
                    user=args.user,
                    instruction=args.instruction,
                    callback_url=args.callback_url,
                    priority=args.priority,
                )
            )
        except PaperlineError as exc:
            print(f"{name}: {exc}", file=sys.stderr)
            return 2
    for job in jobs:
        if job.status is JobStatus.FAILED:
            print(f"{job.filename}: {job.error}", file=sys.stderr)
    if args.wait:
        jobs = _wait_or_explain(app, jobs, timeout_s=args.timeout)
    if args.json:
        _print_json([job.to_dict() for job in jobs])
    else:
        for job in jobs:
            print(_line(job))
    if args.wait:
        return 0 if all(job.status is JobStatus.COMPLETED for job in jobs) else 1
    return 0 if all(job.status is not JobStatus.FAILED for job in jobs) else 1


def _wait_or_explain(app: Paperline, jobs: list[Job], *, timeout_s: float | None) -> list[Job]:
    """Wait with progress; if no worker is (or stays) alive, say so and return the jobs as they are."""
    _warn_if_no_worker(app, jobs)
    try:
        return _wait_with_bars(app, jobs, timeout_s=timeout_s)
    except NoWorkerRunning as exc:
        print(f"paperline: {exc}", file=sys.stderr)
        return [app.get(job.id) for job in jobs]


def _wait_with_bars(app: Paperline, jobs: list[Job], *, timeout_s: float | None) -> list[Job]:
    """tqdm bars on a terminal; elsewhere (logs, CI) one line per status or stage change."""
    if not sys.stderr.isatty():
        return _wait_with_lines(app, jobs, timeout_s=timeout_s)
    from tqdm import tqdm

    from pipeline.insight.eta import eta_text

    bars = {
        job.id: tqdm(
            total=100,
            desc=job.filename[:30],
            position=i,
            file=sys.stderr,
            leave=True,
            bar_format="{desc:<30} {percentage:3.0f}%|{bar}| {elapsed} {postfix}",
        )
        for i, job in enumerate(jobs)
    }

    model = app.eta_model()
    extracting_since: dict[str, float] = {}  # each job's first chunk start, read once it is extracting

    def update(snapshots: list[Job]) -> None:
        running = sum(1 for job in snapshots if job.status is JobStatus.RUNNING)
        unknown = [j for j in snapshots if j.stage is Stage.EXTRACTING and j.id not in extracting_since]
        extracting_since.update(app.extraction_starts(unknown))
        for job in snapshots:
            bar = bars[job.id]
            bar.n = round(job.progress, 1)
            status = job.status.value if job.is_final else job.stage.value
            since = extracting_since.get(job.id)
            remaining = model.remaining_seconds(job, load=max(1, running), extracting_since=since)
            eta = "" if job.is_final else eta_text(remaining, running=job.status is JobStatus.RUNNING)
            bar.set_postfix_str(f"{status}{f', {eta}' if eta else ''}: {job.message}"[:90], refresh=False)
            bar.refresh()

    try:
        return app.wait([j.id for j in jobs], timeout_s=timeout_s, on_update=update)
    finally:
        for bar in bars.values():
            bar.close()


def _wait_with_lines(app: Paperline, jobs: list[Job], *, timeout_s: float | None) -> list[Job]:
    seen: dict[str, tuple[str, str]] = {}

    def update(snapshots: list[Job]) -> None:
        for job in snapshots:
            state = (job.status.value, job.stage.value)
            if seen.get(job.id) != state:
                seen[job.id] = state
                print(f"{job.filename}: {job.progress:3.0f}% {state[0]}/{state[1]} {job.message}", file=sys.stderr)

    return app.wait([j.id for j in jobs], timeout_s=timeout_s, on_update=update)


def cmd_status(app: Paperline, args: argparse.Namespace) -> int:
    if args.job is None:
        from pipeline.cli.operations import cmd_queue

        return cmd_queue(app, args)
    job = app.get(args.job, user=args.owner_filter)
    chunks = app.chunks(job.id)
    if args.json:
        _print_json(
            {
                **job.to_dict(),
                "chunks": [c.to_dict() for c in chunks],
                "formats": app.result_formats(job.id),
                "stalled": app.stall_reason(job, chunks),
            }
        )
        return 0
    duration = f"{job.duration_s:.1f} s" if job.duration_s is not None else "-"
    rows = [
        ("job", job.id),
        ("file", job.filename),
        ("status", job.status.value),
        ("stage", job.stage.value),
        ("progress", f"{job.progress:.0f}%"),
        ("message", job.message),
        ("pages", f"{job.pages_done}/{job.pages}"),
        ("chunks", f"{job.chunks_done} done, {job.chunks_failed} failed, {job.chunks_total} total"),
        ("profile", job.profile),
        ("engine", job.engine),
        ("user", job.user),
        ("created", _when(job.created_at)),
        ("duration", duration),
        ("size", f"{job.size_bytes} bytes"),
    ]
    if job.compressed_bytes:
        rows.append(("compressed", f"{job.compressed_bytes} bytes"))
    if job.input_tokens or job.output_tokens:
        rows.append(("tokens", f"{job.input_tokens} in, {job.output_tokens} out (~${job.cost_usd:.4f})"))
    if job.cached_from:
        rows.append(("cached from", job.cached_from))
    if job.error:
        rows.append(("error", job.error))
    stalled = app.stall_reason(job, chunks)
    if stalled:
        rows.append(("stalled", stalled))
    rows.extend(("note", note) for note in job.notes)
    for label, value in rows:
        print(f"{label:>12}: {value}")
    for chunk in chunks:
        took = f"{chunk.duration_s:.2f} s" if chunk.duration_s is not None else ""
        print(
            f"{'chunk':>12}: {chunk.index + 1:>3} pages {chunk.first_page}-{chunk.last_page} "
            f"{chunk.status.value:<8} {took} {chunk.worker} {chunk.error}".rstrip()
        )
    formats = app.result_formats(job.id)
    if formats:
        print(f"{'results':>12}: {', '.join(formats)}  (paperline result {job.id} --format FORMAT)")
    return 0


def cmd_jobs(app: Paperline, args: argparse.Namespace) -> int:
    jobs = app.jobs(status=args.status, user=args.owner_filter, limit=args.limit)
    if args.json:
        _print_json([job.to_dict() for job in jobs])
        return 0
    for job in jobs:
        duration = f"{job.duration_s:6.1f}s" if job.duration_s is not None else "      -"
        owner = f"{job.user:<12.12} " if args.owner_filter is None else ""
        status = f"{job.status.value:<9} {job.pages:>5}p {duration}"
        print(f"{job.id}  {_when(job.created_at)}  {owner}{status}  {job.filename}")
    if not jobs:
        print("No jobs yet. Submit one with 'paperline submit FILE'.", file=sys.stderr)
    return 0


def cmd_result(app: Paperline, args: argparse.Namespace) -> int:
    """Print the result, or save it: to ``-o FILE``, or with ``-O`` under the name a download gets (``report.xlsx``).
    A binary format (xlsx) is never printed on a terminal."""
    download = app.result_download(args.job, args.format, user=args.owner_filter)
    output = download.name if args.remote_name else args.output
    if output:
        Path(output).write_bytes(download.data)
        print(f"Wrote {output}", file=sys.stderr)
    elif not download.media_type.startswith("text/") and not download.media_type.endswith("json"):
        if sys.stdout.isatty():
            raise InvalidRequest(messages.binary_result_on_terminal(download.name))
        sys.stdout.buffer.write(download.data)
    else:
        sys.stdout.write(download.data.decode("utf-8"))
    return 0


def cmd_cancel(app: Paperline, args: argparse.Namespace) -> int:
    job = app.cancel(args.job, user=args.owner_filter)
    if args.json:
        _print_json(job.to_dict())
    else:
        print(_line(job))
    return 0


def cmd_delete(app: Paperline, args: argparse.Namespace) -> int:
    job = app.delete(args.job, user=args.owner_filter)
    if args.json:
        _print_json(job.to_dict())
    else:
        print(messages.deleted_files_of(job.filename, job.id))
    return 0


def cmd_export(app: Paperline, args: argparse.Namespace) -> int:
    """Write the job, chunk and event history (what ``--user`` may see) as CSV or Parquet files."""
    from pipeline.service.export import history_frames, write_export

    frames = history_frames(app, user=args.owner_filter, tables=args.tables or ("jobs", "chunks", "events"))
    for path in write_export(frames, Path(args.output), args.format):
        rows = len(frames[path.stem.removeprefix("paperline-")])
        print(f"Wrote {path} ({rows} rows)", file=sys.stderr)
    return 0


def cmd_retry(app: Paperline, args: argparse.Namespace) -> int:
    job = app.retry(args.job, user=args.owner_filter)
    again = job.chunks_total - job.chunks_done
    if job.status is JobStatus.QUEUED:
        print(f"Running {job.filename} again from the start", file=sys.stderr)
    else:
        print(
            f"Retrying {again} chunk(s) of {job.filename}" if again else f"Merging {job.filename} again",
            file=sys.stderr,
        )
    if args.wait:
        [job] = _wait_or_explain(app, [job], timeout_s=args.timeout)
    if args.json:
        _print_json(job.to_dict())
    else:
        print(_line(job))
    return 0 if not args.wait or job.status is JobStatus.COMPLETED else 1


class ProfileNames:
    """``--profile``'s choices, read from the registry (and its plug-ins) only when a profile is named or listed:
    every other command starts without loading it."""

    def __contains__(self, name: object) -> bool:
        return name in profiles()

    def __iter__(self) -> Iterator[str]:
        return iter(profiles())


def build_parser(*, asked_for_help: bool = True) -> argparse.ArgumentParser:
    """The command line; ``asked_for_help`` writes help texts that need the profile registry (``--help``)."""
    from pipeline.cli.ask import add_commands as add_ask_commands
    from pipeline.cli.batches import add_commands as add_batch_commands
    from pipeline.cli.operations import cmd_migrate, cmd_serve, cmd_token, cmd_worker
    from pipeline.cli.search import add_commands as add_retrieval_commands
    from pipeline.cli.webhooks import add_commands as add_webhook_commands

    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="paperline", description="Chunked document extraction with live progress.")
    parser.add_argument("--home", help="data directory (default: $PAPERLINE_HOME or ./var)")
    parser.add_argument("--user", default=settings.user or LOCAL_USER, help="act as this user")
    sub = parser.add_subparsers(dest="command", required=True)

    submit = sub.add_parser("submit", help="submit documents for extraction")
    submit.add_argument("files", nargs="+", metavar="FILE")
    submit.add_argument(
        "--profile",
        choices=ProfileNames(),
        default=None,
        metavar="PROFILE",
        help=(
            "; ".join(f"{engine}: {', '.join(engine_profiles(engine))}" for engine in ENGINES)
            + " (each engine's first is its default)"
            if asked_for_help
            else "how to render the document (see --help)"
        ),
    )
    submit.add_argument("--engine", choices=ENGINES, default="local", help="local (default) or claude")
    submit.add_argument("--instruction", default="", help="what to extract, with --engine claude --profile custom")
    submit.add_argument(
        "--callback-url", default="", help="POST each job's end here, signed (see: paperline webhook secret)"
    )
    submit.add_argument("--wait", action="store_true", help="show progress and wait until every job ends")
    submit.add_argument(
        "--priority", type=int, default=0, help="0 (default) to 10: higher is taken from the queue first"
    )
    submit.add_argument("--batch", action="store_true", help="make one file a batch too (several files always are)")
    submit.add_argument("--timeout", type=float, default=None, help="with --wait, give up after this many seconds")
    submit.add_argument("--json", action="store_true")
    submit.set_defaults(func=cmd_submit)

    status = sub.add_parser("status", help="one job's status, chunks and notes; without a job, the queue's health")
    status.add_argument("job", nargs="?", help="the job (left out: jobs queued and running, workers, longest wait)")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)

    jobs = sub.add_parser("jobs", help="list jobs, newest first")
    jobs.add_argument("--status", choices=[s.value for s in JobStatus])
    jobs.add_argument("--limit", type=int, default=50)
    jobs.add_argument("--json", action="store_true")
    jobs.set_defaults(func=cmd_jobs)

    result = sub.add_parser("result", help="print or save a job's result")
    result.add_argument("job")
    result.add_argument("--format", choices=list(FORMAT_FILES))
    result.add_argument("-o", "--output", help="write to this file instead of standard output")
    result.add_argument(
        "-O", "--remote-name", action="store_true", help="save as a download is named (report.md, report.xlsx)"
    )
    result.set_defaults(func=cmd_result)

    add_retrieval_commands(sub)
    add_ask_commands(sub)
    add_webhook_commands(sub)
    add_batch_commands(sub)

    cancel = sub.add_parser("cancel", help="stop a queued or running job")
    cancel.add_argument("job")
    cancel.add_argument("--json", action="store_true")
    cancel.set_defaults(func=cmd_cancel)

    delete = sub.add_parser("delete", help="delete an ended job's files (its history is kept)")
    delete.add_argument("job")
    delete.add_argument("--json", action="store_true")
    delete.set_defaults(func=cmd_delete)

    export = sub.add_parser("export", help="write job, chunk and event history as CSV or Parquet")
    export.add_argument("tables", nargs="*", metavar="TABLE", help="jobs, chunks and/or events (default: all three)")
    export.add_argument("-o", "--output", default=".", help="directory to write paperline-<table>.<format> into")
    export.add_argument("--format", choices=["csv", "parquet"], default="csv")
    export.set_defaults(func=cmd_export)

    retry = sub.add_parser(
        "retry", help="run a failed job's failed chunks again and merge afresh, or a canceled job from where it stopped"
    )
    retry.add_argument("job")
    retry.add_argument("--wait", action="store_true")
    retry.add_argument("--timeout", type=float, default=None)
    retry.add_argument("--json", action="store_true")
    retry.set_defaults(func=cmd_retry)

    worker = sub.add_parser("worker", help="run the Huey consumer that processes jobs")
    worker.add_argument("-w", "--workers", type=int, default=max(2, os.cpu_count() or 2))
    worker.add_argument("-k", "--worker-type", choices=["process", "thread"], default="process")
    worker.add_argument(
        "--metrics-port",
        type=int,
        default=settings.metrics_port,
        help="serve Prometheus /metrics for this host on this port (default: $PAPERLINE_METRICS_PORT, or none)",
    )
    worker.add_argument("--metrics-address", default="127.0.0.1", help="interface for /metrics (0.0.0.0: all)")
    worker.set_defaults(func=cmd_worker)

    migrate = sub.add_parser("migrate", help="copy this home's SQLite history into an empty PostgreSQL database")
    migrate.add_argument("--to", required=True, metavar="POSTGRESQL_URL", help="postgresql://user:pass@host/db")
    migrate.set_defaults(func=cmd_migrate)

    token = sub.add_parser("token", help="personal API tokens of --user: create, list, revoke")
    token.add_argument("action", choices=["create", "list", "revoke"])
    token.add_argument("token_id", nargs="?", help="the token to revoke")
    # Also accepted here (token create --user NAME); SUPPRESS keeps the global --user when it is not repeated.
    token.add_argument("--user", default=argparse.SUPPRESS, help="the signed-in user the token acts for")
    token.add_argument("--name", default="", help="what the token is for (create)")
    token.add_argument("--expires-in", default="", help="create: stop working after e.g. 30d, 12h, 2w (default never)")
    token.add_argument("--all", action="store_true", help="revoke: every live token of --user")
    token.set_defaults(func=cmd_token)

    serve = sub.add_parser("serve", help="run the dashboard and a worker together (Ctrl-C stops both)")
    serve.add_argument("--port", type=int, default=5006)
    serve.add_argument("--address", default="127.0.0.1", help="interface to listen on (0.0.0.0 for the network)")
    serve.add_argument(
        "--allow-anonymous",
        action="store_true",
        help="serve a non-loopback address without sign-in (everyone who can reach it is the local user)",
    )
    serve.add_argument("-w", "--workers", type=int, default=2, help="worker processes to start (0: none)")
    serve.add_argument(
        "--procs",
        type=int,
        default=1,
        help="dashboard server processes, on --port and the ports after it, each with its own feed "
        "(behind a reverse proxy with sticky sessions; see docs/operators/scale-out.md)",
    )
    serve.add_argument("panel_args", nargs=argparse.REMAINDER, help="extra 'panel serve' options after --")
    serve.set_defaults(func=cmd_serve)
    return parser


#: commands that run until stopped: their store statements are counted for /metrics (the others are not scraped)
LONG_RUNNING = ("worker", "serve")


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(asked_for_help=bool({"-h", "--help"} & set(argv))).parse_args(argv)
    if args.home:
        os.environ["PAPERLINE_HOME"] = str(Path(args.home).absolute())
    try:
        settings = Settings.from_env()
        if getattr(args, "metrics_port", None):  # a worker host's /metrics sums its processes' counters
            from pipeline.worker.life import prepare_metrics

            # before the store opens: it counts its statements with prometheus_client, whose first import
            # chooses between one process's counters and multiprocess mode
            prepare_metrics(settings)
        app = Paperline(settings, count_statements=args.command in LONG_RUNNING)
        try:
            args.owner_filter = app.owner_scope(args.user)
            status = args.func(app, args)
        finally:
            app.close()
        sys.stdout.flush()  # here, where a closed pipe is caught, rather than at the interpreter's exit
        return status
    except PaperlineError as exc:
        print(f"paperline: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return closed_pipe()


def closed_pipe() -> int:
    """The reader of our output went away (``paperline jobs | head``): stop quietly, as Unix tools do. Python's
    docs (``signal``, "Note on SIGPIPE"): point stdout at devnull so the final flush at exit cannot raise again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + 13  # 141, as a shell reports a command ended by SIGPIPE


def run() -> None:
    """The ``paperline`` program (and ``python -m pipeline``): ``main``, then out at once. Whatever a command must
    finish is finished when ``main`` returns (store closed, a worker's goodbye recorded, children stopped); what is
    skipped is the interpreter's own teardown, which collects every object of the process: seconds for a worker or
    ``serve`` on a loaded machine, after its work is done."""
    status = main()
    logging = sys.modules.get("logging")  # flushed if the command logged (not imported for those that did not)
    if logging is not None:
        logging.shutdown()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass
    os._exit(status)


if __name__ == "__main__":
    run()
