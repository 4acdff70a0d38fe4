"""The API's webhook handlers: a user's subscriptions (the secret shown once, at creation), their tests and
delivery logs, and the secret signing the user's ``callback_url`` deliveries. Scoped as jobs are: a user sees and
acts on their own, an admin on all."""

from __future__ import annotations

import json
from typing import Any

from pipeline.api.handlers import ApiHandler
from pipeline.api.limits import PAGE_LIMIT
from pipeline.api.problems import Problem

MAX_BODY_BYTES = 16 * 1024


class WebhooksHandler(ApiHandler):
    """``POST /webhooks`` (``{"url", "events"}``) subscribes; ``GET /webhooks`` lists."""

    async def get(self) -> None:
        found = await self.run(self.app.webhooks, self.scope)
        self.send_json({"webhooks": [s.to_dict() for s in found]})

    async def post(self) -> None:
        body = self.json_body()
        url, events = body.get("url"), body.get("events")
        if not isinstance(url, str) or not url.strip():
            raise Problem(400, 'Send the receiver\'s URL: {"url": "https://...", "events": ["job.completed"]}')
        if events is not None and not (isinstance(events, list) and all(isinstance(e, str) for e in events)):
            raise Problem(400, '"events" is a list of event names, e.g. ["job.completed", "job.failed"]')
        subscription, secret = await self.run(self.app.add_webhook, self.user, url, events)
        self.add_header("Location", f"{self.request.path.rstrip('/')}/{subscription.id}")
        self.send_json({"webhook": subscription.to_dict(), "secret": secret}, status=201)

    def json_body(self) -> dict[str, Any]:
        raw = self.request.body or b""
        if len(raw) > MAX_BODY_BYTES:
            raise Problem(413, f"A webhook request body is at most {MAX_BODY_BYTES // 1024} KB.")
        try:
            body = json.loads(raw or b"{}")
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise Problem(400, "The body must be a JSON object.") from None
        if not isinstance(body, dict):
            raise Problem(400, "The body must be a JSON object.")
        return body


class WebhookHandler(ApiHandler):
    """``DELETE /webhooks/{id}``: no more deliveries to it (those not yet sent are dropped)."""

    async def delete(self, subscription_id: str) -> None:
        await self.run(self.app.remove_webhook, subscription_id, user=self.scope)
        self.set_status(204)
        self.finish()


class WebhookTestHandler(ApiHandler):
    """``POST /webhooks/{id}/test``: a signed ``webhook.test`` delivery, queued for the workers (202)."""

    async def post(self, subscription_id: str) -> None:
        delivery = await self.run(self.app.test_webhook, subscription_id, user=self.scope)
        self.send_json({"delivery": delivery.to_dict()}, status=202)


class WebhookDeliveriesHandler(ApiHandler):
    """``GET /webhooks/{id}/deliveries?limit=N``: the delivery log, newest first, each with its attempts."""

    async def get(self, subscription_id: str) -> None:
        limit = self.whole_number("limit", PAGE_LIMIT)
        log = await self.run(self.app.webhook_log, subscription_id, user=self.scope, limit=limit)
        self.send_json({"deliveries": log})


class CallbackSecretHandler(ApiHandler):
    """``GET /webhooks/callback-secret``: the secret that signs the caller's ``callback_url`` deliveries."""

    async def get(self) -> None:
        self.send_json({"secret": await self.run(self.app.webhook_callback_secret, self.user)})
