"""Webhooks against receivers and users that attack the service (issue 32), each attack reproduced first: a receiver
answering a gzip bomb, URLs no request can carry, a receiver dripping its headers a byte at a time beside another
user's quick one, a user subscribing 150 times, names that say where they resolve, a port scan read from the
delivery log. The dispatcher sends from a real SQLite outbox to real receivers on 127.0.0.1; the worker's own
memory under the bomb is in ``tests/integration/test_webhook_attacks.py``."""

from __future__ import annotations

import itertools
import logging
import re
import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from pipeline.core import messages
from pipeline.core.errors import WebhookDuplicate, WebhookLimitReached, WebhookRefused
from pipeline.core.models import DeliveryStatus, JobStatus, SubscriptionState, WebhookSubscription
from pipeline.core.settings import Settings
from pipeline.service import webhooks as hooks
from pipeline.store.sqlite import SqliteJobStore
from pipeline.webhooks.addresses import AddressRefused, check_receiver
from pipeline.webhooks.dispatcher import Dispatcher, lease_s
from pipeline.webhooks.envelope import new_secret
from tests.helpers import free_port, wait_until
from tests.store_contract import new_job
from tests.webhook_receiver import RawReceiver, Receiver, drip, gzip_bomb


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteJobStore]:
    store = SqliteJobStore(tmp_path / "jobs.db")
    store.initialize_schema()
    yield store
    store.close()


def quick(**overrides: object) -> Settings:
    values: dict = dict(
        webhook_allow_private=True, webhook_retry_first_s=0.2, webhook_retry_max_s=0.4, webhook_retry_for_s=30.0
    )
    values.update(overrides)
    return Settings(**values)


def add(store: SqliteJobStore, sub_id: str, url: str, user: str = "ann") -> None:
    """A subscription written as it is (as an older release accepted it, without today's checks)."""
    store.add_subscription(WebhookSubscription(sub_id, user, url, ("job.completed",), time.time()), new_secret())


def one_delivery(store: SqliteJobStore, sub_id: str, user: str = "ann") -> str:
    (delivery,) = store.record_webhook_event(user, "webhook.test", {"n": 1}, subscription_id=sub_id)
    return delivery.id


def answer_with(head: bytes, body: bytes = b"") -> RawReceiver:
    def respond(conn: socket.socket) -> None:
        conn.sendall(head + b"\r\n\r\n" + body)

    return RawReceiver(respond).start()


# -- 1. a receiver's answer never takes the worker's memory --------------------------------------------------------
def test_a_gzip_bomb_answer_is_never_decoded_and_fails_its_attempt_as_recorded(store: SqliteJobStore) -> None:
    bomb = gzip_bomb(64)  # 64 MB of zeros gzipped twice: a few hundred bytes
    assert len(bomb) < 2000
    head = f"HTTP/1.1 500 Oops\r\nContent-Encoding: gzip, gzip\r\nContent-Length: {len(bomb)}".encode()
    receiver = answer_with(head, bomb)
    try:
        add(store, "bomb", receiver.url + "/hook")
        delivery = one_delivery(store, "bomb")
        dispatcher = Dispatcher(quick(), store)
        tracemalloc.start()
        try:
            dispatcher.run_once()
            assert dispatcher.wait_idle(30)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        dispatcher.close()
        assert peak < 8 * 1024 * 1024, f"{peak / 1e6:.0f} MB allocated: the bomb was decoded"
        (attempt,) = store.list_attempts(delivery)
        assert attempt.status_code == 500 and "encoding (gzip, gzip) that was not asked for" in attempt.error
        assert attempt.response == "", "none of it kept"
        assert receiver.requests and b"accept-encoding: identity" in receiver.requests[0][1].lower()
        assert store.get_delivery(delivery).status is DeliveryStatus.PENDING, "retried on the schedule"  # type: ignore[union-attr]
    finally:
        receiver.stop()


def test_an_answer_longer_than_the_cap_fails_the_attempt_even_with_a_2xx(store: SqliteJobStore) -> None:
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
    body = b"".join(b"4000\r\n" + b"x" * 0x4000 + b"\r\n" for _ in range(4)) + b"0\r\n\r\n"
    receivers = [answer_with(chunked, body), answer_with(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999")]
    try:
        for n, receiver in enumerate(receivers):
            add(store, f"long{n}", receiver.url + "/hook")
        deliveries = [one_delivery(store, f"long{n}") for n in range(2)]
        dispatcher = Dispatcher(quick(), store)
        dispatcher.run_once()
        assert dispatcher.wait_idle(30)
        dispatcher.close()
        for delivery in deliveries:
            (attempt,) = store.list_attempts(delivery)
            assert attempt.status_code == 200 and "longer than 16 KB" in attempt.error
            assert store.get_delivery(delivery).status is DeliveryStatus.PENDING  # type: ignore[union-attr]
    finally:
        for receiver in receivers:
            receiver.stop()


# -- 2. whatever an attempt raises is recorded, and retried on the schedule -----------------------------------------
@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://hooks.example/a\x00b", "U+0000"),
        ("https://hooks.example/a\r\nX-Injected: 1", "U+000D"),
        ("https://hooks.example/\u202egpj.exe", "U+202E"),
        ("https://hooks.example/a b", "U+0020"),
        ("https://user:pw@hooks.example/", "credentials"),
        ("https://@hooks.example/", "credentials"),
        ("https://hooks.example:25/", "port 25"),
        ("http://hooks.example:0/", "port 0"),
        ("https://hooks.example:99999/", "out of range"),
        ("https://\u2488.example/", "Invalid IDNA hostname"),
    ],
)
def test_a_url_no_request_could_carry_is_refused_at_subscribe_and_submit(url: str, why: str) -> None:
    settings = quick()  # the URL is refused before any name is looked up
    with pytest.raises(WebhookRefused, match=re.escape(why)):
        hooks.check_url(settings, url)


def test_an_operator_may_allow_another_port() -> None:
    allowed = replace(quick(), webhook_allow_ports=(25,))
    assert hooks.check_url(allowed, "http://127.0.0.1:25/x") == "http://127.0.0.1:25/x"
    with pytest.raises(WebhookRefused, match="port 25"):
        hooks.check_url(quick(), "http://127.0.0.1:25/x")


def test_an_old_subscription_with_a_nul_in_its_url_has_every_attempt_recorded_and_ends_failing(
    store: SqliteJobStore,
) -> None:
    port = free_port()
    add(store, "nul", f"http://127.0.0.1:{port}/a\x00b")
    add(store, "crlf", f"http://127.0.0.1:{port}/a\r\nb")
    deliveries = [one_delivery(store, sub) for sub in ("nul", "crlf")]
    dispatcher = Dispatcher(quick(webhook_retry_for_s=1.0), store)

    def ended() -> bool:
        dispatcher.run_once()
        dispatcher.wait_idle(5)
        return all(store.get_delivery(d).status is DeliveryStatus.FAILED for d in deliveries)  # type: ignore[union-attr]

    wait_until(ended, timeout=30, what="both deliveries to fail for good")
    dispatcher.close()
    for delivery, sub in zip(deliveries, ("nul", "crlf"), strict=True):
        attempts = store.list_attempts(delivery)
        assert len(attempts) >= 2 and store.get_delivery(delivery).attempts == len(attempts)  # type: ignore[union-attr]
        assert all("a control, invisible or space character" in a.error for a in attempts)
        gap = [b.at - a.at for a, b in itertools.pairwise(attempts)]
        assert min(gap) >= 0.1, "retried on the backoff schedule, not claimed again at once"
        failing = store.get_subscription(sub)
        assert failing is not None and failing.state is SubscriptionState.FAILING


def test_an_exception_of_any_kind_in_an_attempt_is_a_recorded_failure(store: SqliteJobStore) -> None:
    """What escaped ``send`` before (``MemoryError`` under the worker's ceiling, ``httpx.InvalidURL``) was never
    recorded, and the delivery was claimed again at every lease, forever."""

    def explode(request: httpx.Request) -> httpx.Response:
        raise MemoryError

    add(store, "boom", "http://127.0.0.1:8080/hook")
    delivery = one_delivery(store, "boom")
    dispatcher = Dispatcher(quick(), store, client=httpx.Client(transport=httpx.MockTransport(explode)))
    dispatcher.run_once()
    assert dispatcher.wait_idle(10)
    (attempt,) = store.list_attempts(delivery)
    assert attempt.error == messages.WEBHOOK_FAILED and attempt.status_code is None
    found = store.get_delivery(delivery)
    assert found is not None and found.status is DeliveryStatus.PENDING and found.claim == ""
    assert found.next_attempt_at is not None and found.next_attempt_at > found.created_at, "on the schedule"
    dispatcher.close()


# -- 3. a slow receiver is cut off at the timeout and never holds another user's delivery ---------------------------
def test_receivers_dripping_headers_are_cut_off_at_the_timeout_and_another_user_s_delivery_goes_on_time(
    store: SqliteJobStore,
) -> None:
    """Eight subscriptions of one user whose receiver sends a header byte every 2 s (which httpx's per-read
    timeouts never trip), and another user's receiver answering at once; two workers' dispatchers share the outbox.
    Each slow attempt ends within the timeout (+2 s); the other user's delivery is sent while the slow ones are
    still held; no message is POSTed twice."""
    timeout = 3.0
    slow = RawReceiver(lambda conn: drip(conn, b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200, 2.0)).start()
    fast = Receiver().start()
    settings = quick(
        webhook_timeout_s=timeout, webhook_concurrency=4, webhook_user_concurrency=2, webhook_retry_for_s=0.5
    )
    dispatchers = [Dispatcher(settings, store) for _ in range(2)]
    stopped = threading.Event()
    try:
        for n in range(8):
            add(store, f"slow{n}", f"{slow.url}/{n}", user="mallory")
        fast.default_secret = new_secret()
        store.add_subscription(
            WebhookSubscription("fast", "ann", fast.url + "/ann", ("job.completed",), time.time()), fast.default_secret
        )
        store.create(new_job("m1", user="mallory"))
        store.finish("m1", JobStatus.COMPLETED, "done")
        store.create(new_job("a1", user="ann"))
        store.finish("a1", JobStatus.COMPLETED, "done")
        for dispatcher in dispatchers:
            threading.Thread(target=dispatcher.run, args=(stopped,), daemon=True).start()
        (ann,) = store.list_deliveries(subscription_id="fast")
        wait_until(lambda: fast.verified(), timeout=30, what="the other user's delivery")
        slow_ids = [d.id for n in range(8) for d in store.list_deliveries(subscription_id=f"slow{n}")]
        first_slow_end = min(
            (a.at for d in slow_ids for a in store.list_attempts(d)), default=float("inf")
        )  # no slow attempt has ended yet: they hold only their user's two places
        assert store.get_delivery(ann.id).delivered_at < first_slow_end  # type: ignore[operator,union-attr]
        wait_until(
            lambda: all(store.get_delivery(d).status is DeliveryStatus.FAILED for d in slow_ids),  # type: ignore[union-attr]
            timeout=90,
            what="every slow delivery to be tried and given up",
        )
        attempts = [a for d in slow_ids for a in store.list_attempts(d)]
        assert len(attempts) == 8 and {a.error for a in attempts} == {messages.WEBHOOK_UNREACHABLE}
        assert max(a.duration_s for a in attempts) <= timeout + 2, [a.duration_s for a in attempts]
        assert all(0 < hung_up - at <= timeout + 2 for at, _, hung_up in slow.requests), "cut off by the sender"
        assert sorted(slow.ids()) == sorted(slow_ids), "each message POSTed once: no attempt outlived its lease"
        assert lease_s(settings) > timeout + 2
    finally:
        stopped.set()
        for dispatcher in dispatchers:
            dispatcher.wait_idle(10)
            dispatcher.close()
        slow.stop()
        fast.stop()


# -- 4. one user cannot turn one event into hundreds of POSTs -------------------------------------------------------
def test_150_subscriptions_stop_at_the_cap_and_one_event_is_at_most_that_many_posts(store: SqliteJobStore) -> None:
    settings = quick(webhook_allow_private=False)
    accepted, refused = [], []
    for n in range(150):
        try:
            accepted.append(hooks.subscribe(store, settings, "mallory", f"https://1.1.1.1/hook/{n}")[0])
        except WebhookLimitReached as exc:
            refused.append(str(exc))
    assert len(accepted) == settings.webhook_max_per_user == 25 and len(refused) == 125
    assert refused[0] == messages.webhook_too_many("mallory", 25)
    same = [hooks.subscribe(store, settings, "eve", "https://1.1.1.1/same", "job.completed,job.failed")[0]]
    for events in ("job.completed,job.failed", "job.failed,job.completed"):
        with pytest.raises(WebhookDuplicate, match=same[0].id):
            hooks.subscribe(store, settings, "eve", "https://1.1.1.1/same", events)
    hooks.subscribe(store, settings, "eve", "https://1.1.1.1/same", "job.failed")  # other events: another one
    store.create(new_job("j", user="mallory"))
    store.finish("j", JobStatus.COMPLETED, "done")
    assert len(store.list_deliveries(job_id="j")) == 25


def test_a_user_s_pending_deliveries_are_capped(store: SqliteJobStore) -> None:
    store.max_pending_deliveries = 10
    settings = quick(webhook_allow_private=False)
    for n in range(3):
        hooks.subscribe(store, settings, "mallory", f"https://1.1.1.1/hook/{n}")
    for n in range(5):
        store.create(new_job(f"j{n}", user="mallory"))
        store.finish(f"j{n}", JobStatus.COMPLETED, "done")
    deliveries = store.list_deliveries()
    pending = [d for d in deliveries if d.status is DeliveryStatus.PENDING]
    assert len(deliveries) == 15 and len(pending) == 10
    assert {d.last_error for d in deliveries if d not in pending} == {messages.webhook_not_sent(10)}


# -- 7. refusals and the delivery log tell an attacker nothing about the network ------------------------------------
def test_a_refused_name_never_says_what_it_resolves_to(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.webhooks import addresses

    answers = {"intranet.corp": "10.20.30.40", "localhost": "127.0.0.1"}

    def resolve(host: str, port: int, **_: object) -> list[tuple]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(2, 1, 6, "", (answers[host], port))]

    monkeypatch.setattr(addresses.socket, "getaddrinfo", resolve)
    said = {}
    for host in ("intranet.corp", "localhost", "nothing.corp"):
        with pytest.raises(AddressRefused) as refused:
            check_receiver(f"https://{host}/hook", allow_private=False)
        said[host] = str(refused.value)
    assert not any(a in text for text in said.values() for a in ("10.20.30.40", "127.0.0.1", "private", "loopback"))
    assert said["intranet.corp"].replace("intranet.corp", "X") == said["nothing.corp"].replace("nothing.corp", "X"), (
        "a name that resolves inside and one that does not resolve are refused alike"
    )
    with pytest.raises(AddressRefused, match=re.escape("127.0.0.1 is a loopback address")):
        check_receiver("https://127.0.0.1/hook", allow_private=False)  # an address written out is no secret


def test_the_delivery_log_tells_a_closed_port_from_a_silent_one_in_the_same_words_and_logs_no_query(
    store: SqliteJobStore, caplog: pytest.LogCaptureFixture
) -> None:
    silent = RawReceiver(lambda conn: drip(conn, b"", 0)).start()  # reads the request, never answers
    closed = free_port()
    try:
        add(store, "closed", f"http://127.0.0.1:{closed}/hook?token=s3cret-closed")
        add(store, "silent", f"{silent.url}/hook?token=s3cret-silent")
        deliveries = [one_delivery(store, sub) for sub in ("closed", "silent")]
        dispatcher = Dispatcher(quick(webhook_timeout_s=1.0), store)
        with caplog.at_level(logging.INFO):
            dispatcher.run_once()
            assert dispatcher.wait_idle(15)
        dispatcher.close()
        errors = [store.list_attempts(d)[0].error for d in deliveries]
        assert errors == [messages.WEBHOOK_UNREACHABLE] * 2
        logged = "\n".join(record.getMessage() for record in caplog.records)
        assert "s3cret" not in logged and f"127.0.0.1:{closed}/hook" in logged and "/hook" in logged
        assert "ConnectError" in logged and "no whole answer within 1 s" in logged, "the operator's log says which"
    finally:
        silent.stop()


def test_httpx_logs_no_receiver_url_at_info(store: SqliteJobStore, caplog: pytest.LogCaptureFixture) -> None:
    receiver = Receiver().start()
    try:
        receiver.default_secret = new_secret()
        store.add_subscription(
            WebhookSubscription("t", "ann", receiver.url + "/in?token=s3cret", ("job.completed",), time.time()),
            receiver.default_secret,
        )
        delivery = one_delivery(store, "t")
        with caplog.at_level(logging.INFO):
            dispatcher = Dispatcher(quick(), store)
            dispatcher.run_once()
            assert dispatcher.wait_idle(10)
            dispatcher.close()
        assert store.get_delivery(delivery).status is DeliveryStatus.DELIVERED  # type: ignore[union-attr]
        assert "s3cret" not in caplog.text
    finally:
        receiver.stop()
