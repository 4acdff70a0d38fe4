"""Webhooks without a worker: which addresses a receiver may have, the retry schedule, and the dispatcher sending
signed deliveries from a SQLite outbox to a real receiver on 127.0.0.1."""

from __future__ import annotations

import ipaddress
import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from pipeline.core import messages
from pipeline.core.errors import WebhookRefused
from pipeline.core.models import DeliveryStatus, JobStatus, SubscriptionState, WebhookSubscription
from pipeline.core.settings import Settings
from pipeline.store.sqlite import SqliteJobStore
from pipeline.webhooks.addresses import AddressRefused, check_receiver, why_not_public
from pipeline.webhooks.dispatcher import Dispatcher
from pipeline.webhooks.envelope import new_secret
from pipeline.webhooks.retries import backoff_s, next_attempt_at, retry_after_s
from tests.helpers import wait_until
from tests.store_contract import new_job
from tests.webhook_receiver import Receiver


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("10.1.2.3", "private"),
        ("172.16.0.9", "private"),
        ("192.168.1.1", "private"),
        ("fd00::5", "private"),
        ("0.0.0.0", "unspecified"),
        ("::ffff:127.0.0.1", "loopback"),
        ("100.64.0.1", "shared (carrier-grade NAT)"),
        ("224.0.0.1", "multicast"),
    ],
)
def test_addresses_that_are_not_public_are_named_as_such(address: str, why: str) -> None:
    assert why_not_public(ipaddress.ip_address(address)) == why


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700:4700::1111", "8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert why_not_public(ipaddress.ip_address(address)) == ""
    check_receiver(f"https://[{address}]/hook" if ":" in address else f"https://{address}/hook", allow_private=False)


def test_a_host_resolving_to_loopback_is_refused_unless_allowed() -> None:
    with pytest.raises(AddressRefused, match=r"localhost does not resolve to public addresses only"):
        check_receiver("http://localhost:9999/hook", allow_private=False)
    with pytest.raises(AddressRefused, match="private"):
        check_receiver("http://10.0.0.1/hook", allow_private=False)
    check_receiver("http://localhost:9999/hook", allow_private=True)


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "file:///etc/passwd", "https://", "https://u:p@example.com/", "https://x:99999/"]
)
def test_urls_that_are_not_http_receivers_are_refused(url: str) -> None:
    with pytest.raises(WebhookRefused):
        check_receiver(url, allow_private=True)


def test_backoff_doubles_with_jitter_up_to_its_cap() -> None:
    settings = Settings(webhook_retry_first_s=10, webhook_retry_max_s=100)
    rng = random.Random(1)
    for attempts, ceiling in [(1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (9, 100)]:
        waits = [backoff_s(attempts, settings, rng) for _ in range(200)]
        assert ceiling / 2 <= min(waits) and max(waits) <= ceiling
        assert max(waits) - min(waits) > ceiling / 4, "jittered, so receivers failing together spread out"


def test_retries_stop_after_the_window_and_honour_retry_after() -> None:
    settings = Settings(webhook_retry_first_s=60, webhook_retry_max_s=3 * 3600, webhook_retry_for_s=86400)
    rng = random.Random(7)
    created = now = 1_000_000.0
    attempts = 0
    while (due := next_attempt_at(created, attempts + 1, now, settings, rng=rng)) is not None:
        attempts, now = attempts + 1, due
    assert 10 <= attempts <= 20 and created + 86400 - 3 * 3600 <= now <= created + 86400, "about a day of tries"
    asked = next_attempt_at(created, 1, created, settings, retry_after=600, rng=rng)
    assert asked is not None and asked >= created + 600
    assert next_attempt_at(created, 1, created, settings, retry_after=2 * 86400) is None, "past the window"
    assert retry_after_s("120") == 120
    assert retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10)
    assert retry_after_s("soon") is None and retry_after_s(None) is None


# -- the dispatcher against a real receiver ---------------------------------------------------------------------
@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteJobStore]:
    store = SqliteJobStore(tmp_path / "jobs.db")
    store.initialize_schema()
    yield store
    store.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def quick(**overrides: object) -> Settings:
    values: dict = dict(
        webhook_allow_private=True, webhook_retry_first_s=0.2, webhook_retry_max_s=0.4, webhook_retry_for_s=30.0
    )
    values.update(overrides)
    return Settings(**values)


def subscribe(store: SqliteJobStore, receiver: Receiver, path: str = "/a") -> str:
    secret = new_secret()
    receiver.secrets[path] = secret
    store.add_subscription(
        WebhookSubscription(path.strip("/"), "ann", receiver.url + path, ("job.completed",), time.time()), secret
    )
    return path.strip("/")


def drain(dispatcher: Dispatcher, store: SqliteJobStore, until: object, timeout: float = 20) -> None:
    def step() -> object:
        dispatcher.run_once()
        dispatcher.wait_idle(5)
        return until() if callable(until) else until

    wait_until(step, timeout=timeout, interval=0.05)


def test_a_signed_delivery_verifies_with_standardwebhooks_and_links_the_results(
    store: SqliteJobStore, receiver: Receiver
) -> None:
    sub = subscribe(store, receiver)
    store.create(new_job("j1", profile="markdown"))
    store.finish("j1", JobStatus.COMPLETED, "done")
    dispatcher = Dispatcher(quick(public_url="https://paperline.example"), store)
    drain(dispatcher, store, lambda: receiver.verified())
    (got,) = receiver.verified()
    (delivery,) = store.list_deliveries(subscription_id=sub)
    assert got.id == delivery.id and got.body is not None and got.body["type"] == "job.completed"
    data = got.body["data"]
    assert data["id"] == "j1" and data["status"] == "completed" and got.body["timestamp"].endswith("Z")
    assert data["links"]["job"] == "https://paperline.example/api/v1/jobs/j1"
    assert data["links"]["results"]["markdown"] == "https://paperline.example/api/v1/jobs/j1/result?format=markdown"
    assert store.get_delivery(delivery.id).status is DeliveryStatus.DELIVERED  # type: ignore[union-attr]
    dispatcher.close()


def test_a_500_is_retried_with_the_same_id_and_retry_after_is_honoured(
    store: SqliteJobStore, receiver: Receiver
) -> None:
    sub = subscribe(store, receiver)
    receiver.answer = lambda n, _p: (500, {"retry-after": "1"}, b"<script>x</script>") if n == 0 else (200, {}, b"ok")
    (delivery,) = store.record_webhook_event("ann", "job.completed", {"id": "j"})
    dispatcher = Dispatcher(quick(), store)
    drain(dispatcher, store, lambda: store.get_delivery(delivery.id).status is DeliveryStatus.DELIVERED)
    first, second = receiver.got
    assert first.id == second.id == delivery.id and second.verified
    assert second.at - first.at >= 1.0, "Retry-After: 1 was waited out (the schedule alone says 0.1-0.2 s)"
    attempts = store.list_attempts(delivery.id)
    assert [(a.attempt, a.status_code) for a in attempts] == [(1, 500), (2, 200)]
    assert attempts[0].response == "<script>x</script>", "kept as text; whoever shows it escapes it"
    assert store.get_subscription(sub).last_status == "200"  # type: ignore[union-attr]
    dispatcher.close()


def test_a_redirect_is_not_followed_and_the_last_failure_marks_the_subscription_failing(
    store: SqliteJobStore, receiver: Receiver
) -> None:
    sub = subscribe(store, receiver)
    receiver.answer = lambda _n, path: (302, {"location": receiver.url + "/elsewhere"}, b"")
    (delivery,) = store.record_webhook_event("ann", "job.completed", {"id": "j"})
    dispatcher = Dispatcher(quick(webhook_retry_for_s=1.0), store)
    drain(dispatcher, store, lambda: store.get_delivery(delivery.id).status is DeliveryStatus.FAILED)
    assert {r.path for r in receiver.got} == {"/a"}, "never followed to /elsewhere"
    attempts = store.list_attempts(delivery.id)
    assert len(attempts) >= 2 and all("redirect" in a.error and a.status_code == 302 for a in attempts)
    failing = store.get_subscription(sub)
    assert failing is not None and failing.state is SubscriptionState.FAILING
    assert failing.reason.startswith("Gave up after") and "redirects are not followed" in failing.reason
    dispatcher.close()


def test_a_private_receiver_is_refused_at_delivery_time_without_the_allow_setting(
    store: SqliteJobStore, receiver: Receiver
) -> None:
    subscribe(store, receiver)
    (delivery,) = store.record_webhook_event("ann", "job.completed", {"id": "j"})
    dispatcher = Dispatcher(quick(webhook_allow_private=False), store)
    drain(dispatcher, store, lambda: store.list_attempts(delivery.id))
    assert receiver.got == [], "nothing was sent"
    assert "loopback" in store.list_attempts(delivery.id)[0].error
    dispatcher.close()


def test_a_slow_receiver_times_out_and_holds_only_its_own_slot(store: SqliteJobStore, receiver: Receiver) -> None:
    slow, fast = Receiver().start(), receiver
    try:
        slow.answer = lambda _n, _p: (time.sleep(3), (200, {}, b""))[1]  # type: ignore[func-returns-value]
        for name, where in (("slow", slow), ("fast", fast)):
            secret = new_secret()
            where.default_secret = secret
            store.add_subscription(
                WebhookSubscription(name, "ann", where.url + "/" + name, ("job.completed",), time.time()), secret
            )
        store.record_webhook_event("ann", "job.completed", {"id": "j"})
        dispatcher = Dispatcher(quick(webhook_timeout_s=1.0, webhook_concurrency=2), store)
        dispatcher.run_once()
        wait_until(lambda: fast.verified(), timeout=5, what="the fast receiver, while the slow one holds a slot")
        dispatcher.wait_idle(10)
        (attempt,) = store.list_attempts(store.list_deliveries(subscription_id="slow")[0].id)
        assert attempt.error == messages.WEBHOOK_UNREACHABLE and attempt.duration_s < 2.5
        dispatcher.close()
    finally:
        slow.stop()


def test_a_callback_is_signed_with_the_user_s_callback_secret_even_before_they_asked_for_it(
    store: SqliteJobStore, receiver: Receiver
) -> None:
    store.create(new_job("j1", meta={"callback_url": receiver.url + "/cb"}))
    store.finish("j1", JobStatus.FAILED, "broke", error="broke")
    dispatcher = Dispatcher(quick(), store)
    drain(dispatcher, store, lambda: receiver.got)
    secret = store.signing_secret(None, "ann")
    assert secret is not None and store.callback_secret("ann", new_secret()) == secret, "made once, readable later"
    (got,) = receiver.got
    body = Webhook(secret).verify(got.raw, got.headers)
    assert body["type"] == "job.failed" and body["data"]["id"] == "j1" and "results" not in body["data"]["links"]
    dispatcher.close()


def test_a_delivery_connects_to_the_address_checked_not_to_what_the_name_says_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DNS rebinding: the name resolves to a public address for the check and to loopback right after. The
    attempt must go to the address checked, with the name kept in Host and in TLS's SNI (the certificate is
    checked against the name)."""
    import httpx

    from pipeline.core.models import WebhookDelivery
    from pipeline.webhooks import addresses
    from pipeline.webhooks.sender import send

    answers = iter(["93.184.216.34", "127.0.0.1", "127.0.0.1"])
    resolved: list[str] = []

    def rebinding(host: str, port: int, **_: object) -> list[tuple]:
        resolved.append(host)
        return [(2, 1, 6, "", (next(answers), port))]

    monkeypatch.setattr(addresses.socket, "getaddrinfo", rebinding)
    seen: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    now = time.time()
    delivery = WebhookDelivery(
        "msg_1", None, "job1", "ann", "https://hooks.example.com:8443/in?x=1", "job.completed", {"id": "job1"},
        DeliveryStatus.PENDING, 0, now, None, "", now, now,
    )  # fmt: skip
    with httpx.Client(transport=httpx.MockTransport(receiver)) as client:
        sent = send(client, delivery, new_secret(), Settings(home=Path("/nonexistent")))
    assert sent.delivered, sent
    (request,) = seen
    assert (request.url.host, request.url.port, request.url.path, request.url.query) == (
        "93.184.216.34", 8443, "/in", b"x=1",
    )  # fmt: skip
    assert request.headers["host"] == "hooks.example.com:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.com"
    assert resolved == ["hooks.example.com"], "the name is resolved once, by the check"
    with pytest.raises(AddressRefused):
        check_receiver("https://hooks.example.com/in", allow_private=False)  # what it says now is refused
