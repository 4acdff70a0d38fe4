"""Benchmark webhook delivery: 1,000 job completions delivered by the real delivery loop of real worker processes
to a local receiver, with one receiver outage in the middle.

The completions are written straight through the job store (create, then finish: the transaction that ends each job
writes its delivery to the outbox), so no extraction is measured; ``paperline worker -w 2`` processes (one delivery
loop each) claim and POST them to a receiver on 127.0.0.1 that verifies every message with ``standardwebhooks``
and, as a receiver should, processes each ``webhook-id`` once. After half the completions the receiver goes away for
``OUTAGE_S`` (connections refused), then comes back on the same port. Jobs end at ``RATE_PER_S``; a next phase
writes ``JOBS`` more completions at once to measure how fast a backlog drains.

A last phase puts a hostile user beside the normal one (issue 32): ``SLOW_SUBSCRIPTIONS`` subscriptions whose
receiver sends one header byte every 2 s (which no per-read timeout trips), owed ``SLOW_JOBS`` completions' worth
of deliveries, while the normal user's jobs end at ``SLOW_PHASE_RATE_PER_S``; attempts are bounded by
``PAPERLINE_WEBHOOK_TIMEOUT_S`` (5 s here, as in the issue's probe). It reports the normal deliveries' rate, latency,
losses and duplicates then, and the longest slow attempt and any slow message POSTed twice (an attempt that
outlived its lease).

Prints one JSON object: deliveries per second (from the first job end to the last acceptance), the latency from a
job's end to its acceptance (p50, p95, p99, and p95 of the deliveries the outage did not touch), messages
the receiver saw more than once (retries of a message whose answer was lost) and duplicates after idempotency (0),
lost messages (0), the attempts the outage cost, and the slow-receiver phase's figures.

Run: .venv/bin/python benchmarks/webhooks.py  (logs to stderr)
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # so that tests.* imports

from pipeline.core.models import JobStatus  # noqa: E402
from pipeline.core.settings import Settings  # noqa: E402
from pipeline.service import webhooks as hooks  # noqa: E402
from pipeline.store import NewJob, open_store  # noqa: E402
from tests.helpers import start_worker_process, stop_process, wait_until  # noqa: E402
from tests.webhook_receiver import RawReceiver, Receiver, drip  # noqa: E402

JOBS = 1000
WORKERS = 2
RATE_PER_S = 100  # completions a second, as a busy deployment ends jobs (10 s for 1,000)
OUTAGE_S = 2.0
SLOW_SUBSCRIPTIONS = 8
SLOW_JOBS = 3  # 24 slow deliveries, each held to the timeout
SLOW_PHASE_JOBS = 300
SLOW_PHASE_RATE_PER_S = 50
#: how long the slow phase waits for the normal deliveries before counting the rest lost
SLOW_PHASE_WAIT_S = 120
SETTINGS = {
    "PAPERLINE_WEBHOOK_ALLOW_PRIVATE": "1",  # the receiver is on 127.0.0.1
    "PAPERLINE_WEBHOOK_RETRY_FIRST_S": "0.25",  # a day's schedule, compressed: a retry within seconds
    "PAPERLINE_WEBHOOK_RETRY_MAX_S": "1",
    "PAPERLINE_WEBHOOK_RETRY_FOR_S": "600",
    "PAPERLINE_WEBHOOK_TIMEOUT_S": "5",
}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def drain_a_backlog(store: Any, receiver: Receiver) -> float:
    """Deliveries a second while ``JOBS`` completions written at once are sent (the delivery loops' throughput)."""
    before = len(receiver.accepted())
    started = time.time()
    for n in range(JOBS):
        job_id = f"burst{n:05d}"
        store.create(NewJob(job_id, f"doc{n}.pdf", "pdf", "text", "local", "x", 1, "bench", pages=1))
        store.finish(job_id, JobStatus.COMPLETED, "done")
    wait_until(lambda: len(receiver.accepted()) >= before + JOBS, timeout=300, interval=0.1)
    return round(JOBS / (time.time() - started), 1)


def complete(store: Any, job_id: str, user: str) -> float:
    """A job of ``user`` written and ended (its deliveries go to the outbox in that transaction); when it ended."""
    store.create(NewJob(job_id, f"{job_id}.pdf", "pdf", "text", "local", "x", 1, user, pages=1))
    store.finish(job_id, JobStatus.COMPLETED, "done")
    return time.time()


def slow_receivers_beside_normal_ones(store: Any, settings: Settings, receiver: Receiver) -> dict[str, Any]:
    """The hostile user's dripping receivers and the normal user's jobs together (see the module's docstring)."""
    slow = RawReceiver(lambda conn: drip(conn, b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000, 2.0)).start()
    try:
        for n in range(SLOW_SUBSCRIPTIONS):
            hooks.subscribe(store, settings, "mallory", f"{slow.url}/{n}", "job.completed")
        for n in range(SLOW_JOBS):
            complete(store, f"mallory{n:03d}", "mallory")
        before = set(receiver.accepted())
        ended: dict[str, float] = {}
        started = time.time()
        for n in range(SLOW_PHASE_JOBS):
            time.sleep(max(0.0, started + n / SLOW_PHASE_RATE_PER_S - time.time()))
            ended[f"normal{n:05d}"] = complete(store, f"normal{n:05d}", "bench")
        deliveries = {d.id: d for job in ended for d in store.list_deliveries(job_id=job)}
        try:
            wait_until(lambda: set(deliveries) <= set(receiver.accepted()), timeout=SLOW_PHASE_WAIT_S, interval=0.2)
        except AssertionError:
            print(f"normal deliveries still missing after {SLOW_PHASE_WAIT_S} s", file=sys.stderr)
        accepted_at: dict[str, float] = {}
        for request in receiver.got:
            if request.id in deliveries and request.verified and 200 <= request.answered < 300:
                accepted_at.setdefault(request.id, request.at)
        latency = [accepted_at[i] - ended[d.job_id] for i, d in deliveries.items() if i in accepted_at]  # type: ignore[index]
        slow_deliveries = [d for d in store.list_deliveries() if d.user == "mallory"]
        slow_attempts = [a for d in slow_deliveries for a in store.list_attempts(d.id)]
        ids = slow.ids()
        accepted = receiver.accepted()
        return {
            "slow_subscriptions": SLOW_SUBSCRIPTIONS,
            "slow_deliveries": len(slow_deliveries),
            "normal_jobs": SLOW_PHASE_JOBS,
            "normal_deliveries_per_s": round(
                len(accepted_at) / (max(accepted_at.values(), default=started + 1.0) - started), 1
            ),
            "normal_latency_s": {
                "p50": round(statistics.median(latency), 3) if latency else None,
                "p95": round(percentile(latency, 0.95), 3) if latency else None,
                "max": round(max(latency), 3) if latency else None,
            },
            "normal_lost": sum(1 for i in deliveries if i not in accepted_at),
            "normal_duplicates_after_idempotency": sum(1 for i in deliveries if accepted.get(i, 0) > 1),
            "normal_accepted_before_the_phase": len(before & set(deliveries)),
            "slow_attempts_recorded": len(slow_attempts),
            "slow_attempt_max_s": round(max((a.duration_s for a in slow_attempts), default=0.0), 2),
            "slow_posts": len(ids),
            "slow_messages_posted_while_an_attempt_held_them": _overlapping(slow),
        }
    finally:
        slow.stop()


def _overlapping(slow: RawReceiver) -> int:
    """Slow messages POSTed again while an earlier POST of the same message was still open (an attempt that outlived
    its lease, so another worker sent it meanwhile)."""
    spans: dict[str, list[tuple[float, float]]] = {}
    for (at, _head, hung_up), message in zip(slow.requests, slow.ids(), strict=True):
        spans.setdefault(message, []).append((at, hung_up or time.time()))
    return sum(
        1
        for held in spans.values()
        for n, (at, _) in enumerate(held)
        if any(start < at < end for start, end in held[:n])
    )


def main() -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="paperline-bench-webhooks-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERLINE_")}
    env.update(PAPERLINE_HOME=str(home), PYTHONUNBUFFERED="1", **SETTINGS)
    settings = replace(Settings.from_env(env), home=home.absolute())
    store = open_store(settings)
    receiver = Receiver().start()
    _subscription, secret = hooks.subscribe(store, settings, "bench", receiver.url + "/hook", "job.completed")
    receiver.secrets["/hook"] = secret
    worker, log = start_worker_process(env, home / "worker.log", workers=WORKERS, cwd=ROOT)
    try:
        wait_until(lambda: store.list_workers(max_age_s=10), timeout=60, what="the worker's heartbeat")
        ended: dict[str, float] = {}
        outage: dict[str, float] = {}

        def outage_in_the_middle() -> None:
            wait_until(lambda: len(ended) >= JOBS // 2, timeout=120, interval=0.005)
            outage["from"] = time.time()
            receiver.stop()
            print(f"receiver down at {len(ended)} completions", file=sys.stderr)
            time.sleep(OUTAGE_S)
            receiver.start()  # the same port
            outage["to"] = time.time()
            print("receiver back", file=sys.stderr)

        breaker = threading.Thread(target=outage_in_the_middle, daemon=True)
        breaker.start()
        started = time.time()
        for n in range(JOBS):
            time.sleep(max(0.0, started + n / RATE_PER_S - time.time()))
            job_id = f"bench{n:05d}"
            store.create(NewJob(job_id, f"doc{n}.pdf", "pdf", "text", "local", "x", 1, "bench", pages=1))
            store.finish(job_id, JobStatus.COMPLETED, "done")
            ended[job_id] = time.time()
        completions_s = time.time() - started
        breaker.join(timeout=120)
        print(f"{JOBS} completions written in {completions_s:.1f} s", file=sys.stderr)
        deliveries = {d.id: d for d in store.list_deliveries()}
        wait_until(lambda: len(receiver.accepted()) >= len(deliveries), timeout=300, interval=0.2)
        accepted_at: dict[str, float] = {}
        seen: dict[str, int] = {}
        for request in receiver.got:
            seen[request.id] = seen.get(request.id, 0) + 1
            if request.verified and 200 <= request.answered < 300 and request.id not in accepted_at:
                accepted_at[request.id] = request.at  # the receiver processes each webhook-id once
        latency = {d.job_id: accepted_at[d.id] - ended[d.job_id] for d in deliveries.values() if d.id in accepted_at}
        tries = {d.job_id: len(store.list_attempts(d.id)) for d in deliveries.values()}
        first_try = [v for job, v in latency.items() if tries[job] == 1]
        attempts = sum(tries.values())
        last = max(accepted_at.values())
        burst = drain_a_backlog(store, receiver)
        beside_slow = slow_receivers_beside_normal_ones(store, settings, receiver)
        return {
            "jobs": JOBS,
            "workers": WORKERS,
            "delivery_concurrency_per_worker": settings.webhook_concurrency,
            "completions_per_s": round(JOBS / completions_s, 1),
            "deliveries_per_s": round(len(accepted_at) / (last - started), 1),
            "backlog_deliveries_per_s": burst,
            "latency_s": {
                "p50": round(statistics.median(latency.values()), 3),
                "p95": round(percentile(list(latency.values()), 0.95), 3),
                "p99": round(percentile(list(latency.values()), 0.99), 3),
                "max": round(max(latency.values()), 3),
                "p95_delivered_at_first_try": round(percentile(first_try, 0.95), 3),
            },
            "outage": {
                "seconds": round(outage["to"] - outage["from"], 2),
                "deliveries_retried": sum(1 for n in tries.values() if n > 1),
                "failed_attempts": attempts - len(accepted_at),
            },
            "received_more_than_once": sum(1 for n in seen.values() if n > 1),
            "duplicates_after_idempotency": sum(1 for d in deliveries if receiver.accepted().get(d, 0) > 1),
            "lost": sum(1 for d in deliveries if d not in accepted_at),
            "deliveries": len(deliveries),
            "beside_slow_receivers": beside_slow,
        }
    finally:
        stop_process(worker)
        log.close()
        receiver.stop()
        store.close()


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
