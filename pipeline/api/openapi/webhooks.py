"""Webhooks in the OpenAPI document: the subscription routes and the messages a receiver gets."""

from __future__ import annotations

import copy
from typing import Any

from pipeline.api.limits import PAGE_LIMIT
from pipeline.api.openapi.common import REF, WEBHOOK_OPERATIONS, answer_list, links, model_schemas, problems
from pipeline.core.models import (
    SUBSCRIBABLE_EVENTS,
    DeliveryAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)


# -- webhooks ----------------------------------------------------------------------------------------------------
def webhook_schemas() -> dict[str, Any]:
    """Subscriptions, deliveries (each with its attempts in the log) and the payload a receiver gets."""
    schemas = model_schemas(WebhookSubscription, WebhookDelivery, DeliveryAttempt, extra={})
    delivery = schemas["WebhookDelivery"]  # to_dict leaves out the worker's claim
    delivery["properties"].pop("claim")
    delivery["required"].remove("claim")
    logged = copy.deepcopy(delivery)  # a delivery in the log, with its attempts (no allOf: both are closed)
    logged["title"] = "WebhookDeliveryLog"
    logged["properties"]["attempt_log"] = {"type": "array", "items": {"$ref": REF + "DeliveryAttempt"}}
    logged["required"].append("attempt_log")
    schemas["WebhookDeliveryLog"] = logged
    schemas["WebhookPayload"] = {
        "description": "The Standard Webhooks envelope; signed in the webhook-id, webhook-timestamp and "
        "webhook-signature headers (verify with any Standard Webhooks library and the whsec_ secret)",
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": [e.value for e in WebhookEvent]},
            "timestamp": {"type": "string", "format": "date-time"},
            "data": {
                "description": "For job events, the job as GET /jobs/{job_id} answers it; for batch.completed, the "
                "batch as GET /batches/{batch_id} answers it; with links (a job: job, events and, once completed, "
                "results by format; a batch: batch and results, its zip)",
                "type": "object",
                "properties": {
                    "links": {
                        "type": "object",
                        "properties": {
                            "job": {"type": "string"},
                            "batch": {"type": "string"},
                            "events": {"type": "string"},
                            "results": {
                                "oneOf": [
                                    {"type": "object", "additionalProperties": {"type": "string"}},
                                    {"type": "string"},
                                ]
                            },
                        },
                    }
                },
            },
        },
        "required": ["type", "timestamp", "data"],
    }
    return schemas


def webhook_messages() -> dict[str, Any]:
    """OpenAPI 3.1's ``webhooks``: what Paperline POSTs to a receiver for each event."""
    body = {"required": True, "content": {"application/json": {"schema": {"$ref": REF + "WebhookPayload"}}}}
    return {
        event.value: {
            "post": {
                "summary": f"Sent on {event.value}",
                "requestBody": body,
                "responses": {"2XX": {"description": "Received; any other answer is retried"}},
            }
        }
        for event in WebhookEvent
    }


def webhook_paths() -> dict[str, Any]:
    subscription_id = {"name": "subscription_id", "in": "path", "required": True, "schema": {"type": "string"}}
    subscription = REF + "WebhookSubscription"
    created = {
        "type": "object",
        "properties": {
            "webhook": {"$ref": subscription},
            "secret": {"type": "string", "description": "whsec_...: shown this once"},
        },
        "required": ["webhook", "secret"],
    }
    request = {
        "type": "object",
        "properties": {
            "url": {"type": "string", "format": "uri"},
            "events": {"type": "array", "items": {"type": "string", "enum": list(SUBSCRIBABLE_EVENTS)}},
        },
        "required": ["url"],
    }
    secret = {"type": "object", "properties": {"secret": {"type": "string"}}, "required": ["secret"]}
    queued = {"type": "object", "properties": {"delivery": {"$ref": REF + "WebhookDelivery"}}, "required": ["delivery"]}
    return {
        "/webhooks": {
            "get": {
                "operationId": "list_webhooks",
                "summary": "Your webhook subscriptions (an admin's: everyone's)",
                "responses": {"200": answer_list("webhooks", subscription, "Newest first")},
            },
            "post": {
                "operationId": "add_webhook",
                "summary": "Subscribe a receiver to events (every job event when none are named)",
                "description": "A URL the schema allows can still be refused (422): it must resolve to a public "
                "address (or a private one where the operator allows it: PAPERLINE_WEBHOOK_ALLOW_PRIVATE), hold no "
                "control, invisible or space character and no credentials, and use port 80, 443 or 1024-65535 "
                "(PAPERLINE_WEBHOOK_ALLOW_PORTS); a user has at most PAPERLINE_WEBHOOK_MAX_PER_USER subscriptions "
                "(code webhook_limit_reached), and one per URL and events (code webhook_duplicate).",
                "requestBody": {"required": True, "content": {"application/json": {"schema": request}}},
                "responses": {
                    "201": {
                        "description": "The subscription, and its signing secret (never shown again)",
                        "content": {"application/json": {"schema": created}},
                        "links": links("subscription_id", "$response.body#/webhook/id", WEBHOOK_OPERATIONS),
                    },
                    **problems(400, 403, 413, 422),
                },
            },
        },
        "/webhooks/callback-secret": {
            "get": {
                "operationId": "callback_secret",
                "summary": "The secret signing your jobs' callback_url deliveries (made on first use)",
                "responses": {"200": {"description": "whsec_...", "content": {"application/json": {"schema": secret}}}},
            }
        },
        "/webhooks/{subscription_id}": {
            "parameters": [subscription_id],
            "delete": {
                "operationId": "remove_webhook",
                "summary": "Remove a subscription (deliveries not yet sent are dropped)",
                "responses": {"204": {"description": "Removed"}, **problems(403, 404)},
            },
        },
        "/webhooks/{subscription_id}/test": {
            "parameters": [subscription_id],
            "post": {
                "operationId": "test_webhook",
                "summary": "Queue a signed webhook.test delivery (one that gets through makes a failing one active)",
                "responses": {
                    "202": {"description": "Queued", "content": {"application/json": {"schema": queued}}},
                    **problems(403, 404),
                },
            },
        },
        "/webhooks/{subscription_id}/deliveries": {
            "parameters": [subscription_id],
            "get": {
                "operationId": "webhook_deliveries",
                "summary": "The delivery log, newest first, with every attempt",
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": PAGE_LIMIT.schema(),
                    }
                ],
                "responses": {
                    "200": answer_list("deliveries", REF + "WebhookDeliveryLog", "Newest first"),
                    **problems(400, 404, 422),
                },
            },
        },
    }
