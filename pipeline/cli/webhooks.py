"""``paperline webhook add URL --events job.completed,job.failed | list | remove ID | test ID | log ID | secret``:
the acting user's webhook subscriptions (an admin's list shows all)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING, Any

from pipeline.core.errors import InvalidRequest
from pipeline.core.models import SUBSCRIBABLE_EVENTS

if TYPE_CHECKING:
    from pipeline.service.paperline import Paperline

ACTIONS = ("add", "list", "remove", "test", "log", "secret")


def add_commands(sub: Any) -> None:
    """Register ``paperline webhook`` on the CLI's subparsers."""
    hook = sub.add_parser("webhook", help="webhooks of --user: add, list, remove, test, log, secret")
    hook.add_argument("action", choices=ACTIONS)
    hook.add_argument("target", nargs="?", help="add: the receiver's URL; remove, test, log: the webhook's id")
    hook.add_argument(
        "--events", default="", help=f"add: comma-separated, of {', '.join(SUBSCRIBABLE_EVENTS)} (default: job.*)"
    )
    hook.add_argument("--limit", type=int, default=20, help="log: how many deliveries (newest first)")
    hook.add_argument("--json", action="store_true")
    hook.set_defaults(func=cmd_webhook)


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


def cmd_webhook(app: Paperline, args: argparse.Namespace) -> int:
    if args.action in ("add", "remove", "test", "log") and not args.target:
        what = "the receiver's URL" if args.action == "add" else "the webhook's id"
        raise InvalidRequest(f"Name {what}: paperline webhook {args.action} {'URL' if args.action == 'add' else 'ID'}")
    scope = args.owner_filter
    if args.action == "add":
        subscription, secret = app.add_webhook(args.user, args.target, args.events or None)
        if args.json:
            print(json.dumps({"webhook": subscription.to_dict(), "secret": secret}, indent=2))
            return 0
        events = ", ".join(subscription.events)
        print(
            f"Webhook {subscription.id} to {subscription.url} for {events}; its secret is shown only now:",
            file=sys.stderr,
        )
        print(secret)
    elif args.action == "list":
        found = app.webhooks(scope)
        if args.json:
            print(json.dumps([s.to_dict() for s in found], indent=2))
            return 0
        for s in found:
            why = f"  ({s.reason})" if s.reason else ""
            last = f"last {s.last_status} at {_when(s.last_attempt_at)}" if s.last_status else "nothing sent yet"
            print(f"{s.id}  {s.user:<12.12}  {s.state.value:<7}  {s.url}  {','.join(s.events)}  {last}{why}")
    elif args.action == "remove":
        app.remove_webhook(args.target, user=scope)
        print(f"Removed webhook {args.target}", file=sys.stderr)
    elif args.action == "test":
        delivery = app.test_webhook(args.target, user=scope)
        print(f"Queued test delivery {delivery.id}; a worker sends it (see: paperline webhook log {args.target})")
    elif args.action == "log":
        log = app.webhook_log(args.target, user=scope, limit=max(1, args.limit))
        if args.json:
            print(json.dumps(log, indent=2))
            return 0
        for d in log:
            code = d["last_status_code"] if d["last_status_code"] is not None else "-"
            tried = f"{d['attempts']} attempt(s)"
            print(f"{d['id']}  {d['event']:<13}  {d['status']:<9}  {tried}  last {code}  {_when(d['updated_at'])}")
            for a in d["attempt_log"]:
                status = a["status_code"] if a["status_code"] is not None else "-"
                print(f"    #{a['attempt']}  {_when(a['at'])}  {status}  {a['duration_s']:.2f}s  {a['error']}".rstrip())
    else:
        print(app.webhook_callback_secret(args.user))
    return 0
