"""The Webhooks tab on the real dashboard: an analyst adds a receiver (its secret shown once), and its delivery log
shows each attempt with the receiver's answer as text, never as markup."""

from __future__ import annotations

import time

from pipeline.core.models import DeliveryStatus
from pipeline.service.paperline import Paperline
from pipeline.store.interface import AttemptOutcome
from tests.ui.test_dashboard import open_tab

FIND_SECRET_JS = """() => {
  const walk = (root) => {
    for (const el of root.querySelectorAll("input")) if ((el.value || "").startsWith("whsec_")) return el.value;
    for (const el of root.querySelectorAll("*")) if (el.shadowRoot) { const v = walk(el.shadowRoot); if (v) return v; }
    return null;
  };
  return walk(document);
}"""


def test_an_analyst_adds_a_webhook_and_reads_its_log_as_text(app: Paperline, serve_dashboard, page) -> None:  # type: ignore[no-untyped-def]
    url = serve_dashboard(PAPERLINE_WEBHOOK_ALLOW_PRIVATE="1")
    page.goto(url)
    open_tab(page, "Webhooks")
    page.get_by_placeholder("https://example.com/hooks").fill("http://127.0.0.1:9999/hook")
    page.get_by_role("button", name="Add webhook").click()
    page.wait_for_function(FIND_SECRET_JS)
    assert page.evaluate(FIND_SECRET_JS).startswith("whsec_")
    (subscription,) = app.webhooks()
    assert subscription.url == "http://127.0.0.1:9999/hook" and subscription.events == ("job.completed", "job.failed")

    # An attempt whose receiver answered markup (as a worker records it), then the log on the page.
    (delivery,) = app.store.record_webhook_event(subscription.user, "job.completed", {"id": "j"})
    app.store.claim_deliveries(time.time() + 1, limit=1, lease_s=60, claim="ui")
    outcome = AttemptOutcome(500, "The receiver answered HTTP 500", "<b>boom</b><img src=x onerror=alert(1)>", 0.1,
                             DeliveryStatus.PENDING, time.time() + 600)  # fmt: skip
    assert app.store.record_attempt(delivery.id, "ui", outcome)
    page.get_by_role("button", name="Refresh").click()
    page.get_by_text("<b>boom</b><img src=x onerror=alert(1)>").first.wait_for()  # shown as text
    assert page.locator(".pl-webhook-log img").count() == 0 and page.locator(".pl-webhook-log b").count() == 0
    page.get_by_role("button", name="Send test").click()
    page.get_by_text("webhook.test").first.wait_for()
    page.get_by_role("button", name="Remove", exact=True).click()
    page.get_by_text("No webhooks yet.").wait_for()
    assert app.webhooks() == []
