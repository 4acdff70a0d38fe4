"""A real worker (``paperline worker``) delivering to receivers that attack it (issue 32): one answers every attempt
with a gzip bomb (600 MB of zeros gzipped twice, about a kilobyte, as ``HTTP/1.1 500`` with ``Content-Encoding:
gzip, gzip``), and a subscription an older release accepted holds a NUL in its URL. The worker process's peak
memory (``VmHWM`` in ``/proc/<pid>/status``) stays under 300 MB while the bomb is answered again and again (before,
one attempt took it to 1.87 GB), and every attempt of both is recorded and retried on the schedule (before, the
NUL URL's attempts raised, were never recorded and were claimed again at every lease). The unit tests
(``tests/unit/test_webhook_attacks.py``) show the rest with the dispatcher alone."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from pipeline.core.models import DeliveryStatus, WebhookSubscription
from pipeline.service.paperline import Paperline
from pipeline.webhooks.envelope import new_secret
from tests.helpers import started_by, wait_until
from tests.webhook_receiver import RawReceiver, gzip_bomb

pytestmark = pytest.mark.integration

PEAK_LIMIT_MB = 300


def peak_mb(pid: int) -> float:
    """A process's peak resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM for {pid}")


def test_a_gzip_bomb_receiver_and_a_nul_url_neither_take_the_worker_nor_escape_its_records(  # type: ignore[no-untyped-def]
    app: Paperline, start_worker
) -> None:
    bomb = gzip_bomb(600)
    head = f"HTTP/1.1 500 Internal Server Error\r\nContent-Encoding: gzip, gzip\r\nContent-Length: {len(bomb)}"

    def respond(conn: socket.socket) -> None:
        conn.sendall(head.encode() + b"\r\n\r\n" + bomb)

    receiver = RawReceiver(respond).start()
    try:
        for sub_id, url in (("bomb", receiver.url + "/hook"), ("nul", receiver.url + "/a\x00b")):
            app.store.add_subscription(
                WebhookSubscription(sub_id, "local", url, ("job.completed",), time.time()), new_secret()
            )
        worker = start_worker(
            workers=1,
            PAPERLINE_WEBHOOK_ALLOW_PRIVATE="1",
            PAPERLINE_WEBHOOK_POLL_S="0.1",
            PAPERLINE_WEBHOOK_RETRY_FIRST_S="0.3",
            PAPERLINE_WEBHOOK_RETRY_MAX_S="0.6",
            PAPERLINE_WEBHOOK_RETRY_FOR_S="600",
        )
        (pid,) = [beat.pid for beat in app.workers() if started_by(worker, beat.pid)]
        before = peak_mb(pid)
        deliveries = {
            sub: app.store.record_webhook_event("local", "webhook.test", {}, subscription_id=sub)[0].id
            for sub in ("bomb", "nul")
        }
        wait_until(
            lambda: all(len(app.store.list_attempts(d)) >= 3 for d in deliveries.values()),
            timeout=90,
            what="three recorded attempts of each delivery",
        )
        peak = peak_mb(pid)
        assert peak < PEAK_LIMIT_MB, f"the worker's peak memory went from {before:.0f} MB to {peak:.0f} MB"
        assert len(receiver.requests) >= 3, "the bomb was really sent and answered each time"
        for sub, delivery_id in deliveries.items():
            delivery = app.store.get_delivery(delivery_id)
            attempts = app.store.list_attempts(delivery_id)
            assert delivery is not None and delivery.status is DeliveryStatus.PENDING, "retried on the schedule"
            assert delivery.attempts >= len(attempts) >= 3, "every attempt recorded"
            expected = "encoding (gzip, gzip) that was not asked for" if sub == "bomb" else "U+0000"
            assert all(expected in attempt.error for attempt in attempts), attempts
        assert "Traceback" not in (Path(app.settings.home).parent / "worker-0.log").read_text()
    finally:
        receiver.stop()
