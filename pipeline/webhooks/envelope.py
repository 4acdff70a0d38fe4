"""What a delivery sends: the Standard Webhooks envelope ``{"type", "timestamp", "data"}`` and its signed headers.

``data`` is the job (or the batch) as the API returns it, plus ``links`` to it and, once a job completed, to each
result format its profile writes (a batch: to all its results as one zip); absolute when ``PAPERLINE_PUBLIC_URL``
names where the server is reached, else paths.
The body of a delivery is the same on every attempt; only ``webhook-timestamp`` (and so the signature) is the
attempt's own, since receivers refuse timestamps older than a few minutes.
"""

from __future__ import annotations

import base64
import json
import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from standardwebhooks.webhooks import Webhook

from pipeline.core.models import WebhookDelivery
from pipeline.profiles.registry import find_profile

API = "/api/v1"
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A signing secret in the usual form: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def job_links(job: dict[str, Any], base_url: str = "") -> dict[str, Any]:
    """Where a receiver reads the job and its results (each needs the user's API token)."""
    root = f"{base_url.rstrip('/')}{API}/jobs/{quote(str(job.get('id', '')), safe='')}"
    links: dict[str, Any] = {"job": root, "events": f"{root}/events"}
    profile = find_profile(str(job.get("profile", "")))
    if job.get("status") == "completed" and profile is not None:
        links["results"] = {fmt: f"{root}/result?format={fmt}" for fmt in profile.formats}
    return links


def batch_links(batch: dict[str, Any], base_url: str = "") -> dict[str, Any]:
    """Where a receiver reads the batch, and all its results as one zip."""
    root = f"{base_url.rstrip('/')}{API}/batches/{quote(str(batch.get('id', '')), safe='')}"
    return {"batch": root, "results": f"{root}/results"}


def body(delivery: WebhookDelivery, base_url: str = "") -> bytes:
    """The envelope of a delivery, as bytes (signed as sent)."""
    data = dict(delivery.payload)
    if delivery.event.startswith("job.") and "id" in data:
        data["links"] = job_links(data, base_url)
    elif delivery.event.startswith("batch.") and "id" in data:
        data["links"] = batch_links(data, base_url)
    envelope = {
        "type": delivery.event,
        "timestamp": datetime.fromtimestamp(delivery.created_at, UTC).isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode("utf-8")


def signed_headers(delivery_id: str, payload: bytes, secret: str, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt, signed with ``standardwebhooks``' own signer."""
    return {
        "content-type": "application/json",
        "webhook-id": delivery_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(delivery_id, at, payload),
        "user-agent": "Paperline-Webhooks/1",
    }
