"""The batch routes of the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pipeline.api.openapi.common import BINARY, REF, answer_json, problems
from pipeline.core.models import (
    JobStatus,
)

BATCH_SSE_EVENT = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "enum": ["progress", "end"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
}

_NUMBER_OR_NULL = {"type": ["number", "null"]}

BATCH = {
    "type": "object",
    "description": "Documents submitted together, their jobs summed up",
    "properties": {
        "id": {"type": "string"},
        "user": {"type": "string"},
        "name": {"type": "string"},
        "created_at": {"type": "number"},
        "jobs": {"type": "integer", "description": "documents submitted"},
        "canceled_at": {**_NUMBER_OR_NULL, "description": "when 'cancel all' was asked: no job joins it after"},
        "status": {"$ref": REF + "JobStatus"},
        "message": {"type": "string", "description": "e.g. '3 of 10 ready, 1 failed'"},
        "counts": {
            "type": "object",
            "properties": {status.value: {"type": "integer"} for status in JobStatus},
            "required": [status.value for status in JobStatus],
            "additionalProperties": False,
        },
        "pages": {"type": "integer"},
        "pages_done": {"type": "integer"},
        "progress": {"type": "number", "minimum": 0, "maximum": 100},
        "started_at": _NUMBER_OR_NULL,
        "finished_at": _NUMBER_OR_NULL,
        "eta_s": {**_NUMBER_OR_NULL, "description": "seconds until every job has ended (null: unknown yet)"},
    },
    "additionalProperties": False,
}

BATCH["required"] = list(BATCH["properties"])  # type: ignore[call-overload]


def batch_paths() -> dict[str, Any]:
    """The batch routes (``pipeline.api.batches``)."""
    batch_id = {"name": "batch_id", "in": "path", "required": True, "schema": {"type": "string"}}
    batch = REF + "Batch"
    paths: dict[str, Any] = {
        "/batches/{batch_id}": {
            "parameters": [batch_id],
            "get": {"operationId": "get_batch", "summary": "One batch: counts by status, pages, progress, ETA",
                    "responses": {"200": answer_json(batch, "The batch"), **problems(404)}},
        },
        "/batches/{batch_id}/events/stream": {
            "parameters": [batch_id],
            "get": {
                "operationId": "stream_batch",
                "summary": "Server-Sent Events: progress (the batch; its progress never goes down), end",
                "responses": {
                    "200": {
                        "description": "The stream, to the end of the batch's last job",
                        "content": {"text/event-stream": {"schema": BATCH_SSE_EVENT}},
                    },
                    **problems(404),
                },
            },
        },
        "/batches/{batch_id}/results": {
            "parameters": [batch_id],
            "get": {
                "operationId": "batch_results",
                "summary": "Each job's main result in one zip, with manifest.json listing every job",
                "responses": {
                    "200": {"description": "The zip", "content": {"application/zip": {"schema": BINARY}}},
                    **problems(404),
                },
            },
        },
    }  # fmt: skip
    for action, summary in (
        ("cancel", "Cancel every job of the batch not yet ended"),
        ("retry", "Rerun the failed chunks of each failed job of the batch"),
    ):
        paths[f"/batches/{{batch_id}}/{action}"] = {
            "parameters": [batch_id],
            "post": {
                "operationId": f"{action}_batch",
                "summary": summary,
                "responses": {"200": answer_json(batch, "The batch"), **problems(403, 404, 409)},
            },
        }
    return paths
