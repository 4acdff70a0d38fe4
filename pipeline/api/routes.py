"""Where each API handler is served (Panel serves these beside the dashboard through ``dashboard.server``)."""

from __future__ import annotations

from pipeline.api.ask import AskHandler
from pipeline.api.batches import BatchActionHandler, BatchHandler, BatchResultsHandler, BatchStreamHandler
from pipeline.api.handlers import (
    ActionHandler,
    ChunksHandler,
    EventsHandler,
    HealthHandler,
    JobHandler,
    OpenApiHandler,
    ResultHandler,
    SearchHandler,
    SourceHandler,
)
from pipeline.api.pages import PageImageHandler
from pipeline.api.stream import EventStreamHandler
from pipeline.api.uploads import UploadHandler
from pipeline.api.webhooks import (
    CallbackSecretHandler,
    WebhookDeliveriesHandler,
    WebhookHandler,
    WebhooksHandler,
    WebhookTestHandler,
)

PREFIX = "/api/v1"
JOB = r"/jobs/([^/]+)"  # any id: one that names no job is a 404 problem, like an unknown one
WEBHOOK = r"/webhooks/([^/]+)"
BATCH = r"/batches/([^/]+)"


def api_routes(prefix: str = PREFIX) -> list[tuple]:
    return [
        (prefix + r"/health", HealthHandler, {}),
        (prefix + r"/openapi.json", OpenApiHandler, {}),
        (prefix + r"/jobs", UploadHandler, {}),
        (prefix + r"/search", SearchHandler, {}),
        (prefix + r"/ask", AskHandler, {}),
        (prefix + JOB, JobHandler, {}),
        (prefix + JOB + r"/chunks", ChunksHandler, {}),
        (prefix + JOB + r"/events", EventsHandler, {}),
        (prefix + JOB + r"/events/stream", EventStreamHandler, {}),
        (prefix + JOB + r"/(cancel|retry)", ActionHandler, {}),
        (prefix + JOB + r"/result", ResultHandler, {}),
        (prefix + JOB + r"/source", SourceHandler, {}),
        (prefix + JOB + r"/pages/([^/]+)/image", PageImageHandler, {}),  # (a page that is no number: 404)
        (prefix + r"/webhooks", WebhooksHandler, {}),
        (prefix + r"/webhooks/callback-secret", CallbackSecretHandler, {}),
        (prefix + WEBHOOK, WebhookHandler, {}),
        (prefix + WEBHOOK + r"/test", WebhookTestHandler, {}),
        (prefix + WEBHOOK + r"/deliveries", WebhookDeliveriesHandler, {}),
        (prefix + BATCH, BatchHandler, {}),
        (prefix + BATCH + r"/events/stream", BatchStreamHandler, {}),
        (prefix + BATCH + r"/(cancel|retry)", BatchActionHandler, {}),
        (prefix + BATCH + r"/results", BatchResultsHandler, {}),
    ]
