"""The operator's commands: the queue's health, run a worker, serve the dashboard, move a history to PostgreSQL."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipeline.core import messages
from pipeline.core.errors import InvalidRequest, PaperlineError
from pipeline.service.paperline import Paperline

if TYPE_CHECKING:  # (the serving commands import these when they run: every other command starts without them)
    import subprocess


def cmd_queue(app: Paperline, args: argparse.Namespace) -> int:
    """``paperline status`` without a job: the queue's health (what waits, what runs, who works, the longest wait)."""
    health = app.queue_health()
    now = time.time()
    if args.json:
        print(json.dumps(health.to_dict(now), indent=2))
        return 0
    oldest = health.oldest_queued
    hosts = sorted({f"{w.host}" for w in health.workers})
    rows = [
        (
            "queued",
            messages.queue_line(
                health.queued,
                "job",
                messages.queue_line(health.chunks_queued, "chunk") + " waiting" if health.chunks_queued else "",
            ),
        ),
        ("running", messages.queue_line(health.running, "job")),
        ("workers", messages.queue_line(len(health.workers), "process", ", ".join(hosts), many="processes") + " alive"),
        (
            "oldest waiting",
            "-" if oldest is None else f"{oldest.filename} ({oldest.id}), {_duration(now - oldest.created_at)}",
        ),
    ]
    for label, value in rows:
        print(f"{label:>14}: {value}")
    if (health.queued or health.chunks_queued) and not health.workers:
        print(messages.NO_WORKER_RUNNING, file=sys.stderr)
    return 0


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def cmd_migrate(app: Paperline, args: argparse.Namespace) -> int:
    """Copy this home's SQLite history into the PostgreSQL database named by --to."""
    from pipeline.store.postgres import PostgresJobStore
    from pipeline.store.sqlite import SqliteJobStore
    from pipeline.store.transfer import TargetNotEmpty, copy_history

    if not app.settings.store_path.exists():
        raise PaperlineError(f"No SQLite history to copy: {app.settings.store_path} does not exist")
    source, target = SqliteJobStore(app.settings.store_path), PostgresJobStore(args.to)
    try:
        copied = copy_history(source, target)
    except TargetNotEmpty as exc:
        raise PaperlineError(str(exc)) from exc
    finally:
        source.close()
        target.close()
    hooks = {table: copied.pop(table) for table in list(copied) if table.startswith("webhook_")}
    names = {"api_tokens": "API tokens", "ask_usage": "days of answer costs"}
    counts = ", ".join(f"{count} {names.get(table, table)}" for table, count in copied.items())
    print(f"{counts} copied", file=sys.stderr)
    if any(hooks.values()):
        counts = ", ".join(f"{count} {table.removeprefix('webhook_')}" for table, count in hooks.items())
        print(f"webhooks: {counts} copied", file=sys.stderr)
    print(f"Now set PAPERLINE_DATABASE_URL to that database on every host (files stay in {app.settings.jobs_dir}).")
    return 0


def cmd_worker(app: Paperline, args: argparse.Namespace) -> int:
    import logging

    from pipeline.worker.life import run_consumer

    app.storage.check()  # a bucket that cannot be used is a plain message now, not a stack trace at the first job
    # (with a metrics port, main() chose prometheus_client's multiprocess mode before it opened the store)
    metrics = (args.metrics_address, args.metrics_port) if args.metrics_port else None
    from pipeline.worker.tasks import huey

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")
    print(f"Paperline worker: {args.workers} {args.worker_type} workers on {app.settings.home}", file=sys.stderr)
    run_consumer(huey, app.settings, app.store, workers=args.workers, worker_type=args.worker_type, metrics=metrics)
    return 0


#: how long `paperline serve` waits, beyond the worker's shutdown grace, for its children before it ends them
SERVE_STOP_MARGIN_S = 1.0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@dataclass
class Child:
    """A process `paperline serve` started: what to call it when waiting for it, and the port a dashboard serves."""

    what: str
    process: subprocess.Popen
    port: int | None = None

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stopped_serving(self, address: str) -> bool:
        """A dashboard whose port no longer takes connections has closed its server: what it still does is only its
        interpreter's teardown (seconds of collecting objects on a loaded machine), with nothing left to lose."""
        if self.port is None:
            return False
        import socket

        host = "127.0.0.1" if address in ("0.0.0.0", "", "*") else "::1" if address == "::" else address
        try:
            with socket.create_connection((host, self.port), timeout=0.2):
                return False
        except OSError:
            return True


def stop_children(children: list[Child], *, address: str, grace_s: float) -> None:
    """Ask every child to stop (SIGINT: a worker hands its running chunk back within ``grace_s``), say what is
    awaited, and end what is still running ``SERVE_STOP_MARGIN_S`` after the grace."""
    import signal

    for child in children:
        if child.alive:
            child.process.send_signal(signal.SIGINT)
    limit = grace_s + SERVE_STOP_MARGIN_S
    waiting = [child.what for child in children if child.alive]
    if waiting:
        print(messages.stopping(waiting, limit), file=sys.stderr, flush=True)
    deadline = time.monotonic() + limit
    while any(child.alive for child in children) and time.monotonic() < deadline:
        for child in children:
            if child.alive and child.stopped_serving(address):
                child.process.kill()
        time.sleep(0.05)
    for child in children:
        if child.alive:
            print(messages.ended_after(child.what, limit), file=sys.stderr, flush=True)
            child.process.kill()
        child.process.wait()


def cmd_serve(app: Paperline, args: argparse.Namespace) -> int:
    """Run the dashboard (``panel serve app.py``) and a worker together until Ctrl-C or either one exits."""
    import importlib.util
    import signal
    import subprocess

    from pipeline.server.edge import is_loopback, panel_command, panel_environment, served_address, signs_in

    app.storage.check()
    spec = importlib.util.find_spec("app")
    if spec is None or spec.origin is None:
        raise PaperlineError("app.py (the dashboard) is not importable; run from the project or install it")
    panel_args = args.panel_args[1:] if args.panel_args[:1] == ["--"] else args.panel_args
    env = {**os.environ, "PAPERLINE_HOME": str(app.settings.home)}
    if args.procs < 1:
        raise InvalidRequest(f"--procs must be 1 or more, not {args.procs}")
    address = served_address(args.address, panel_args)
    if not is_loopback(address) and not signs_in(panel_args, env):
        if not args.allow_anonymous:
            raise PaperlineError(messages.anonymous_network(address))
        print(messages.anonymous_network_warning(address), file=sys.stderr)
    # One environment for every dashboard process: with authentication they share the key that signs sessions.
    panel_env = panel_environment(env, panel_args)
    ports = [args.port + n for n in range(args.procs)]
    children: list[Child] = []
    if args.workers > 0:
        worker_cmd = [sys.executable, "-m", "pipeline", "worker", "-w", str(args.workers)]
        children.append(Child(messages.serve_worker(args.workers), subprocess.Popen(worker_cmd, env=env)))
    for port in ports:  # each process has its own feed: one store reader per process, whatever the sessions
        command = panel_command(
            spec.origin,
            address=args.address,
            port=port,
            public_url=app.settings.public_url,
            panel_args=panel_args,
            env=env,
        )
        children.append(Child(messages.serve_dashboard(port), subprocess.Popen(command, env=panel_env), port))
    processes = [child.process for child in children]
    # SIGTERM (a service manager, `docker stop`, `kill`) stops the children as Ctrl-C does, instead of ending this
    # process alone and leaving the dashboard and the worker running.
    signal.signal(signal.SIGTERM, _interrupt)
    urls = "  ".join(f"http://{args.address}:{port}/app" for port in ports)
    print(f"Paperline dashboard: {urls}  (data in {app.settings.home})", file=sys.stderr)
    if len(ports) > 1:
        print(
            "Several dashboard processes: put a reverse proxy with sticky sessions in front of them and set "
            "PAPERLINE_PUBLIC_URL to its address (docs/operators/scale-out.md, 'Many analysts').",
            file=sys.stderr,
        )
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(0.1)
    except KeyboardInterrupt:
        pass
    finally:
        # A second signal meanwhile must not leave the children running, so none is taken until they are gone.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_children(children, address=address, grace_s=app.settings.shutdown_grace_s)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # Ctrl-C (SIGINT: -2 or 130) is a normal stop; any other failure of a child is the command's exit status.
    return max(((p.returncode or 0) for p in processes if p.returncode not in (-2, 130)), default=0)


def cmd_token(app: Paperline, args: argparse.Namespace) -> int:
    """``paperline token create|list|revoke``: personal API tokens of ``--user`` (an admin's ``list`` shows all).

    A token is always a signed-in user's: ``create`` needs ``--user NAME`` (never the local user, who needs no
    token), and ``revoke --user NAME --all`` revokes every token of a user who leaves."""
    from pipeline.service.tokens import parse_expiry
    from pipeline.service.users import LOCAL_USER

    if args.action == "create":
        if args.user == LOCAL_USER:
            raise InvalidRequest(messages.TOKEN_NEEDS_USER)
        token, secret = app.create_api_token(args.user, args.name, expires_in_s=parse_expiry(args.expires_in))
        until = f", valid until {_when(token.expires_at)}" if token.expires_at else ""
        print(f"Token {token.id} for {token.user}{until}; the secret is shown only now:", file=sys.stderr)
        print(secret)
    elif args.action == "list":
        now = time.time()
        for token in app.store.list_tokens(args.owner_filter):
            state = "revoked" if token.revoked_at else "expired" if token.expired(now) else "live"
            expires = _when(token.expires_at) if token.expires_at else "never"
            created = _when(token.created_at)
            print(f"{token.id}  {token.user:<12.12}  {state:<7}  {created}  {expires:<16}  {token.name}".rstrip())
    elif args.all:
        if args.user == LOCAL_USER:
            raise InvalidRequest("Name whose tokens to revoke: paperline token revoke --user NAME --all")
        count = app.revoke_user_api_tokens(args.user)
        print(f"Revoked {count} token{'s' if count != 1 else ''} of {args.user}", file=sys.stderr)
    else:
        if not args.token_id:
            raise InvalidRequest("Name the token to revoke: paperline token revoke TOKEN_ID (or --user NAME --all)")
        app.revoke_api_token(args.token_id, user=args.owner_filter)
        print(f"Revoked token {args.token_id}", file=sys.stderr)
    return 0


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else "-"
