"""Signed webhooks end to end: the HTTP API (served in process) takes subscriptions and callback URLs, a real worker
delivers from the store's outbox to a real receiver on 127.0.0.1, which verifies each message with
``standardwebhooks``' own ``Webhook(secret).verify``.

The server runs without ``PAPERLINE_WEBHOOK_ALLOW_PRIVATE``, so it refuses the receiver's loopback address; the
receivers are subscribed through the Python API with the setting on, and the worker runs with it on to reach them.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

from pipeline.core.models import DeliveryStatus, SubscriptionState
from pipeline.service import webhooks as hooks
from pipeline.service.paperline import Paperline
from pipeline.service.users import LOCAL_USER
from pipeline.store import NewJob
from tests.docgen import make_text_pdf
from tests.helpers import stop_process, wait_until
from tests.integration.test_api import call, conforms, multipart, post, problem
from tests.webhook_receiver import Receiver

FAST_RETRIES = {
    "PAPERLINE_WEBHOOK_ALLOW_PRIVATE": "1",
    "PAPERLINE_WEBHOOK_RETRY_FIRST_S": "0.3",
    "PAPERLINE_WEBHOOK_RETRY_MAX_S": "1",
    "PAPERLINE_WEBHOOK_RETRY_FOR_S": "3",
    "PAPERLINE_WEBHOOK_POLL_S": "0.1",
}


def subscribe(app: Paperline, receiver: Receiver, path: str, events: str = "") -> str:
    """Subscribe ``receiver`` at ``path`` (loopback: allowed here, as an operator of a closed network would)."""
    allowed = replace(app.settings, webhook_allow_private=True)
    subscription, secret = hooks.subscribe(app.store, allowed, LOCAL_USER, receiver.url + path, events)
    receiver.secrets[path] = secret
    return subscription.id


def test_events_reach_receivers_signed_once_each_with_retries_and_refusals(  # type: ignore[no-untyped-def]
    app: Paperline, serve_api, start_worker, tmp_path: Path
) -> None:
    receiver = Receiver().start()
    try:
        flaky_answers: Counter[str] = Counter()

        def answer(_n: int, path: str) -> tuple[int, dict[str, str], bytes]:
            if path == "/redirect":
                return 302, {"location": receiver.url + "/elsewhere"}, b""
            if path == "/flaky":
                flaky_answers[path] += 1
                if flaky_answers[path] == 1:
                    return 500, {}, b"<h1>down for a moment</h1>"
            return 204, {}, b""

        receiver.answer = answer
        everything = subscribe(app, receiver, "/all")
        flaky = subscribe(app, receiver, "/flaky", "job.completed")
        redirect = subscribe(app, receiver, "/redirect", "job.completed")
        api = serve_api()
        start_worker(workers=1, **FAST_RETRIES)
        doc = json.loads(call(f"{api}/openapi.json")[2])

        # The server, without the allow setting, refuses loopback and private receivers, and bad events.
        status, _, body = post(f"{api}/webhooks", json.dumps({"url": receiver.url + "/x"}).encode(), "application/json")
        assert status == 422 and "loopback" in body["detail"] and "PAPERLINE_WEBHOOK_ALLOW_PRIVATE" in body["detail"]
        status, _, body = post(f"{api}/webhooks", json.dumps({"url": "http://10.0.0.7/x"}).encode(), "application/json")
        assert status == 422 and "private" in body["detail"]
        status, _, body = post(
            f"{api}/webhooks",
            json.dumps({"url": "https://1.1.1.1/x", "events": ["job.done"]}).encode(),
            "application/json",
        )
        assert status == 422 and "Unknown webhook events: job.done" in body["detail"]
        status, _, body = post(
            f"{api}/jobs", *multipart([("a.pdf", b"%PDF")], {"callback_url": "http://127.0.0.1:8080/"})
        )
        assert status == 422 and "loopback" in body["detail"], "refused as POST /webhooks refuses it"
        listed = conforms(doc, "/webhooks", "get", call(f"{api}/webhooks"))
        assert {w["id"] for w in listed["webhooks"]} == {everything, flaky, redirect}
        assert "secret" not in json.dumps(listed), "a listing never shows a secret"

        # A job's own callback URL is signed with the user's callback secret.
        secret = conforms(doc, "/webhooks/callback-secret", "get", call(f"{api}/webhooks/callback-secret"))["secret"]
        assert secret.startswith("whsec_")
        receiver.secrets["/callback"] = secret
        allowed = Paperline(replace(app.settings, webhook_allow_private=True), store=app.store, queue=app.queue)
        done = allowed.submit(make_text_pdf(tmp_path / "cb.pdf", 2), callback_url=receiver.url + "/callback")
        (tmp_path / "empty.pdf").write_bytes(b"")
        refused = allowed.submit(tmp_path / "empty.pdf")
        never_run = app.store.create(NewJob("c0ffee", "later.pdf", "pdf", "text", "local", "x", 1, LOCAL_USER))
        canceled = conforms(doc, "/jobs/{job_id}/cancel", "post", call(f"{api}/jobs/{never_run.id}/cancel", "POST"))
        assert canceled["status"] == "canceled"
        wait_until(lambda: app.get(done.id).is_final, timeout=60, what="the worker to finish the job")
        assert app.get(done.id).status.value == "completed" and refused.status.value == "failed"

        expected = {
            ("/all", "job.completed", done.id),
            ("/all", "job.failed", refused.id),
            ("/all", "job.canceled", never_run.id),
            ("/flaky", "job.completed", done.id),
            ("/callback", "job.completed", done.id),
        }

        def got() -> set[tuple[str, str, str]]:
            accepted = [r for r in receiver.verified() if r.body and 200 <= r.answered < 300]
            return {(r.path, r.body["type"], r.body["data"]["id"]) for r in accepted}  # type: ignore[index]

        wait_until(lambda: expected <= got(), timeout=60, what=f"every event at its receiver: {expected}")
        assert all(r.verified for r in receiver.got if r.path != "/redirect"), "every message verifies"
        once = receiver.accepted()
        assert len(once) == len(expected) and set(once.values()) == {1}, "each delivery id accepted once"
        (flaky_delivery,) = app.store.list_deliveries(subscription_id=flaky)
        flaky_ids = [r.id for r in receiver.got if r.path == "/flaky"]
        assert flaky_ids == [flaky_delivery.id] * 2, "the retry carries the same webhook-id"
        body = next(r.body for r in receiver.got if r.path == "/callback")
        assert body is not None and body["data"]["links"]["results"]["text"].endswith(
            f"/jobs/{done.id}/result?format=text"
        )

        # The delivery log shows each attempt: the 500 (its answer as text) and then the success, once the worker
        # has recorded the answer its receiver already has.
        wait_until(lambda: delivered(app, flaky_delivery.id), timeout=30, what="the flaky delivery's record")
        log = conforms(doc, "/webhooks/{subscription_id}/deliveries", "get", call(f"{api}/webhooks/{flaky}/deliveries"))
        (entry,) = log["deliveries"]
        assert [(a["attempt"], a["status_code"]) for a in entry["attempt_log"]] == [(1, 500), (2, 204)]
        assert entry["attempt_log"][0]["response"] == "<h1>down for a moment</h1>" and entry["status"] == "delivered"

        # A redirect is never followed: every attempt fails, then the subscription is failing and says why.
        wait_until(
            lambda: app.webhook(redirect).state is SubscriptionState.FAILING, timeout=30, what="the redirect to fail"
        )
        assert "/elsewhere" not in {r.path for r in receiver.got}
        log = json.loads(call(f"{api}/webhooks/{redirect}/deliveries")[2])["deliveries"]
        assert all("redirects are not followed" in a["error"] for d in log for a in d["attempt_log"])
        assert "redirects are not followed" in app.webhook(redirect).reason

        # A test delivery; removing a subscription; another user's is not found.
        queued = conforms(
            doc, "/webhooks/{subscription_id}/test", "post", call(f"{api}/webhooks/{everything}/test", "POST")
        )
        test_id = queued["delivery"]["id"]
        wait_until(lambda: test_id in receiver.accepted(), timeout=30, what="the test delivery")
        assert call(f"{api}/webhooks/{redirect}", "DELETE")[0] == 204
        assert problem(call(f"{api}/webhooks/{redirect}", "DELETE"))["status"] == 404
        assert problem(call(f"{api}/webhooks/nope/deliveries"))["status"] == 404
    finally:
        receiver.stop()


def delivered(app: Paperline, delivery_id: str) -> bool:
    found = app.store.get_delivery(delivery_id)
    return found is not None and found.status is DeliveryStatus.DELIVERED


def test_a_receiver_down_while_the_worker_restarts_still_gets_the_event(  # type: ignore[no-untyped-def]
    app: Paperline, start_worker, tmp_path: Path
) -> None:
    receiver = Receiver()  # not started: its port refuses connections
    sub = subscribe(app, receiver, "/hook")
    worker = start_worker(workers=1, **{**FAST_RETRIES, "PAPERLINE_WEBHOOK_RETRY_FOR_S": "120"})
    job = app.submit(make_text_pdf(tmp_path / "doc.pdf", 1))
    wait_until(lambda: app.get(job.id).is_final, timeout=60, what="the job to end")
    (delivery,) = app.store.list_deliveries(subscription_id=sub)
    wait_until(lambda: app.store.list_attempts(delivery.id), timeout=30, what="a first attempt, refused")
    stop_process(worker)
    assert app.store.get_delivery(delivery.id).status is DeliveryStatus.PENDING  # type: ignore[union-attr]
    receiver.start()
    try:
        start_worker(workers=1, **{**FAST_RETRIES, "PAPERLINE_WEBHOOK_RETRY_FOR_S": "120"})
        wait_until(lambda: receiver.verified(), timeout=60, what="the event after the restart")
        (got,) = receiver.verified()
        assert got.id == delivery.id and got.body is not None and got.body["data"]["id"] == job.id
        # the receiver has the event before the worker has recorded its answer (one transaction writes the attempt
        # and the delivery's status): wait for that record before reading the attempts
        wait_until(lambda: delivered(app, delivery.id), timeout=30, what="the delivering attempt to be recorded")
        attempts = app.store.list_attempts(delivery.id)
        assert attempts[0].status_code is None and "Could not reach" in attempts[0].error
        assert attempts[-1].status_code == 204 and len(receiver.got) == 1
    finally:
        receiver.stop()


def test_the_command_line_adds_lists_tests_logs_and_removes_webhooks(app: Paperline) -> None:
    from tests.conftest import paperline

    refused = paperline(app, "webhook", "add", "http://127.0.0.1:9999/x")
    assert (
        refused.returncode == 2 and "loopback" in refused.stderr and "PAPERLINE_WEBHOOK_ALLOW_PRIVATE" in refused.stderr
    )
    bad = paperline(app, "webhook", "add", "https://1.1.1.1/x", "--events", "job.completed,job.done")
    assert bad.returncode == 2 and "Unknown webhook events: job.done" in bad.stderr
    added = paperline(
        app, "webhook", "add", "http://127.0.0.1:9999/x", "--events", "job.failed", PAPERLINE_WEBHOOK_ALLOW_PRIVATE="1"
    )
    assert added.returncode == 0 and added.stdout.strip().startswith("whsec_") and "shown only now" in added.stderr
    (subscription,) = app.webhooks()
    assert subscription.events == ("job.failed",)
    listed = paperline(app, "webhook", "list")
    assert subscription.id in listed.stdout and "active" in listed.stdout and "whsec_" not in listed.stdout
    queued = paperline(app, "webhook", "test", subscription.id)
    assert queued.returncode == 0 and "Queued test delivery msg_" in queued.stdout
    log = paperline(app, "webhook", "log", subscription.id, "--json")
    (entry,) = json.loads(log.stdout)
    assert entry["event"] == "webhook.test" and entry["status"] == "pending" and entry["attempt_log"] == []
    secret = paperline(app, "webhook", "secret")
    assert secret.stdout.strip() == app.webhook_callback_secret(LOCAL_USER)
    assert paperline(app, "webhook", "remove", subscription.id).returncode == 0
    again = paperline(app, "webhook", "remove", subscription.id)
    assert again.returncode == 2 and "No webhook" in again.stderr
