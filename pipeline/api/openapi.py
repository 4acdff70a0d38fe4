"""The API's OpenAPI 3.1 document, built from the same models the handlers answer with, so it cannot drift.

The Job, Chunk, Event, SearchHit, Answer and Citation schemas (and the enums they use) are pydantic's JSON Schema of
those dataclasses' type hints, plus the extra members their ``to_dict`` adds; the paths list what ``routes.py`` serves.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import core_schema

from pipeline.core.models import (
    SUBSCRIBABLE_EVENTS,
    Chunk,
    DeliveryAttempt,
    Event,
    Job,
    JobStatus,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from pipeline.files.jobfiles import FORMAT_FILES
from pipeline.profiles.retrieval.index import SearchHit
from pipeline.service.ask import MAX_QUESTION_CHARS, Answer, Citation

SSE_EVENT = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "enum": ["job-event", "chunk", "progress", "end"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
        "id": {"type": "string"},
    },
}
BATCH_SSE_EVENT = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "enum": ["progress", "end"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
}
ASK_SSE_EVENT = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "enum": ["text", "citation", "note", "end", "error"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
}
REF = "#/components/schemas/"
PROBLEM = {"application/problem+json": {"schema": {"$ref": REF + "Problem"}}}


class AnswerSchema(GenerateJsonSchema):
    """JSON Schema of an answer: a ``to_dict`` is ``asdict``, so every field is in it (a default too) and
    nothing else."""

    def field_is_required(self, field: Any, total: bool) -> bool:
        return True

    def dataclass_schema(self, schema: core_schema.DataclassSchema) -> dict[str, Any]:
        return {**super().dataclass_schema(schema), "additionalProperties": False}


def model_schemas(*models: type, extra: dict[type, dict[str, Any]]) -> dict[str, Any]:
    """Components for ``models`` and the enums their fields use, referred to as ``#/components/schemas/Name``;
    ``extra`` adds, per model, the members its ``to_dict`` puts beside the fields."""
    _, found = TypeAdapter.json_schemas(
        [(model, "serialization", TypeAdapter(model)) for model in models],
        ref_template=REF + "{model}",
        schema_generator=AnswerSchema,
    )
    schemas: dict[str, Any] = found["$defs"]
    for model, members in extra.items():
        schema = schemas[model.__name__]
        schema["properties"] |= members
        schema["required"] += list(members)
    return schemas


def _json(ref: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}


def _list_of(name: str, ref: str, description: str) -> dict[str, Any]:
    schema = {"type": "object", "properties": {name: {"type": "array", "items": {"$ref": ref}}}, "required": [name]}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _problems(*statuses: int) -> dict[str, Any]:
    return {str(status): {"description": "A problem (RFC 9457)", "content": PROBLEM} for status in statuses}


JOB_PAGE = {
    "description": "A page of jobs, newest first; next_cursor asks for the next page (null: this was the last)",
    "content": {"application/json": {"schema": {
        "type": "object",
        "properties": {
            "jobs": {"type": "array", "items": {"$ref": "#/components/schemas/Job"}},
            "next_cursor": {"type": ["string", "null"]},
        },
        "required": ["jobs", "next_cursor"],
    }}},
}  # fmt: skip


SUBMITTED = {
    "description": "The jobs recorded (refused ones failed, with why); with several files (or batch=true), the batch "
    "they make",
    "content": {"application/json": {"schema": {
        "type": "object",
        "properties": {
            "jobs": {"type": "array", "items": {"$ref": REF + "Job"}},
            "batch": {"$ref": REF + "Batch"},
        },
        "required": ["jobs"],
    }}},
}  # fmt: skip
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
            "get": {"summary": "One batch: counts by status, pages, progress, ETA",
                    "responses": {"200": _json(batch, "The batch"), **_problems(404)}},
        },
        "/batches/{batch_id}/events/stream": {
            "parameters": [batch_id],
            "get": {
                "summary": "Server-Sent Events: progress (the batch; its progress never goes down), end",
                "responses": {
                    "200": {
                        "description": "The stream, to the end of the batch's last job",
                        "content": {"text/event-stream": {"schema": BATCH_SSE_EVENT}},
                    },
                    **_problems(404),
                },
            },
        },
        "/batches/{batch_id}/results": {
            "parameters": [batch_id],
            "get": {
                "summary": "Each job's main result in one zip, with manifest.json listing every job",
                "responses": {
                    "200": {"description": "The zip",
                            "content": {"application/zip": {"schema": {"type": "string"}}}},
                    **_problems(404),
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
            "post": {"summary": summary, "responses": {"200": _json(batch, "The batch"), **_problems(403, 404, 409)}},
        }
    return paths


def openapi_document(prefix: str) -> dict[str, Any]:
    job_id = {
        "name": "job_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    job = "#/components/schemas/Job"
    upload_form = {
        "type": "object",
        "properties": {
            "file": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "string", "contentMediaType": "application/octet-stream"},
            },
            "profile": {"type": "string"},
            "engine": {"type": "string"},
            "instruction": {"type": "string"},
            "callback_url": {"type": "string", "format": "uri"},
            "priority": {"type": "integer", "minimum": 0, "maximum": 10, "default": 0},
            "batch": {"type": "string", "enum": ["true", "false"], "description": "one file as a batch too"},
        },
        "required": ["file"],
    }
    paths: dict[str, Any] = {
        "/health": {
            "get": {
                "summary": "Store, workers and queue, for load balancers",
                "responses": {
                    "200": {
                        "description": "The store answers",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "503": {
                        "description": "The store cannot be read",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                },
            }
        },
        "/jobs": {
            "get": {
                "summary": "Jobs, newest first",
                "parameters": [
                    {"name": "status", "in": "query", "schema": {"$ref": REF + "JobStatus"}},
                    {"name": "name", "in": "query", "schema": {"type": "string"}},
                    {"name": "user", "in": "query", "schema": {"type": "string"}},
                    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
                    },
                ],
                "responses": {"200": JOB_PAGE, **_problems(400, 403, 404)},
            },
            "post": {
                "summary": "Submit documents (multipart files, or a raw body with ?filename=)",
                "parameters": [
                    {"name": name, "in": "query", "schema": {"type": "string"}}
                    for name in ("filename", "profile", "engine", "instruction", "callback_url", "batch")
                ]
                + [{"name": "priority", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 10}}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {"schema": upload_form},
                        "application/octet-stream": {
                            "schema": {"type": "string", "contentMediaType": "application/octet-stream"}
                        },
                    },
                },
                "responses": {
                    "201": SUBMITTED,
                    **_problems(400, 413, 415, 422, 429),
                },
            },
        },
        "/jobs/{job_id}": {
            "parameters": [job_id],
            "get": {"summary": "One job", "responses": {"200": _json(job, "The job"), **_problems(404)}},
            "delete": {
                "summary": "Delete an ended job's files; its history stays",
                "responses": {"200": _json(job, "The job, marked"), **_problems(404, 409)},
            },
        },
        "/jobs/{job_id}/chunks": {
            "parameters": [job_id],
            "get": {
                "summary": "The job's chunks",
                "responses": {"200": _list_of("chunks", "#/components/schemas/Chunk", "Its chunks"), **_problems(404)},
            },
        },
        "/jobs/{job_id}/events": {
            "parameters": [job_id],
            "get": {
                "summary": "The job's audit trail",
                "responses": {
                    "200": _list_of("events", "#/components/schemas/Event", "Its events, in order"),
                    **_problems(404),
                },
            },
        },
        "/jobs/{job_id}/events/stream": {
            "parameters": [job_id],
            "get": {
                "summary": "Server-Sent Events: job-event (id = event id), chunk, progress, end",
                "parameters": [{"name": "Last-Event-ID", "in": "header", "schema": {"type": "string"}}],
                "responses": {
                    "200": {
                        "description": "The stream, to the job's end; with a token, until the token is revoked or "
                        "expires (then a last `end` whose data is a 401 problem)",
                        "content": {"text/event-stream": {"schema": SSE_EVENT}},
                    },
                    **_problems(404),
                },
            },
        },
        "/jobs/{job_id}/result": {
            "parameters": [job_id],
            "get": {
                "summary": "The result, as a download",
                "parameters": [
                    {"name": "format", "in": "query", "schema": {"type": "string", "enum": list(FORMAT_FILES)}}
                ],
                "responses": {
                    "200": {
                        "description": "The result file",
                        "content": {media: {"schema": {"type": "string"}} for _, media in FORMAT_FILES.values()},
                    },
                    **_problems(400, 404, 409),
                },
            },
        },
        "/jobs/{job_id}/source": {
            "parameters": [job_id],
            "get": {
                "summary": "The original upload",
                "responses": {
                    "200": {
                        "description": "The file",
                        "content": {"application/octet-stream": {"schema": {"type": "string"}}},
                    },
                    **_problems(404, 410),
                },
            },
        },
    }
    paths["/search"] = {
        "get": {
            "summary": "Passages nearest a query in meaning, over your retrieval jobs",
            "parameters": [
                {"name": "q", "in": "query", "required": True, "schema": {"type": "string", "minLength": 1}},
                {"name": "top", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 50}},
                {"name": "job", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}},
            ],
            "responses": {
                "200": {
                    "description": "The hits, best first",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "query": {"type": "string"},
                                    "hits": {"type": "array", "items": {"$ref": "#/components/schemas/SearchHit"}},
                                },
                                "required": ["query", "hits"],
                            }
                        }
                    },
                },
                **_problems(400, 503),
            },
        }
    }
    paths["/ask"] = ask_path()
    for action, summary in (
        ("cancel", "Stop a queued or running job"),
        ("retry", "Rerun a failed job's failed chunks"),
    ):
        paths[f"/jobs/{{job_id}}/{action}"] = {
            "parameters": [job_id],
            "post": {"summary": summary, "responses": {"200": _json(job, "The job"), **_problems(403, 404, 409)}},
        }
    paths.update(webhook_paths())
    paths |= batch_paths()
    return {
        "openapi": "3.1.0",
        "info": {"title": "Paperline", "version": "1", "description": "Documents in, text out: jobs over HTTP."},
        "servers": [{"url": prefix}],
        "paths": paths,
        "webhooks": webhook_messages(),
        "components": {
            "schemas": {
                **model_schemas(
                    Job,
                    Chunk,
                    Event,
                    SearchHit,
                    Answer,
                    Citation,
                    extra={Job: {"duration_s": {"type": ["number", "null"]}}},
                ),
                **webhook_schemas(),
                "Batch": BATCH,
                "Problem": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "jobs": {"type": "array", "items": {"$ref": job}},
                    },
                    "required": ["type", "title", "status"],
                },
            }
        },
    }


def ask_path() -> dict[str, Any]:
    """``POST /ask``: the question in, the answer out as Server-Sent Events."""
    body = {
        "type": "object",
        "properties": {
            "question": {"type": "string", "minLength": 1, "maxLength": MAX_QUESTION_CHARS},
            "jobs": {"type": "array", "items": {"type": "string"}, "description": "answer only from these jobs"},
            "no_model": {"type": "boolean", "description": "an extractive answer: quoted sentences, no model"},
        },
        "required": ["question"],
    }
    return {
        "post": {
            "summary": "Answer a question from your retrieval jobs' passages, with checked citations",
            "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
            "responses": {
                "200": {
                    "description": "Server-Sent Events: text (data {text}) as the answer is written, then citation "
                    "(a Citation) for each source, note (data {note}), and end (the Answer); error (a Problem) if "
                    "the model fails once the stream is open",
                    "content": {"text/event-stream": {"schema": ASK_SSE_EVENT}},
                },
                **_problems(400, 413, 429, 503),
            },
        }
    }


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
                "summary": "Your webhook subscriptions (an admin's: everyone's)",
                "responses": {"200": _list_of("webhooks", subscription, "Newest first")},
            },
            "post": {
                "summary": "Subscribe a receiver to events (every job event when none are named)",
                "requestBody": {"required": True, "content": {"application/json": {"schema": request}}},
                "responses": {
                    "201": {
                        "description": "The subscription, and its signing secret (never shown again)",
                        "content": {"application/json": {"schema": created}},
                    },
                    **_problems(400, 403, 413, 422),
                },
            },
        },
        "/webhooks/callback-secret": {
            "get": {
                "summary": "The secret signing your jobs' callback_url deliveries (made on first use)",
                "responses": {"200": {"description": "whsec_...", "content": {"application/json": {"schema": secret}}}},
            }
        },
        "/webhooks/{subscription_id}": {
            "parameters": [subscription_id],
            "delete": {
                "summary": "Remove a subscription (deliveries not yet sent are dropped)",
                "responses": {"204": {"description": "Removed"}, **_problems(403, 404)},
            },
        },
        "/webhooks/{subscription_id}/test": {
            "parameters": [subscription_id],
            "post": {
                "summary": "Queue a signed webhook.test delivery (one that gets through makes a failing one active)",
                "responses": {
                    "202": {"description": "Queued", "content": {"application/json": {"schema": queued}}},
                    **_problems(403, 404),
                },
            },
        },
        "/webhooks/{subscription_id}/deliveries": {
            "parameters": [subscription_id],
            "get": {
                "summary": "The delivery log, newest first, with every attempt",
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
                    }
                ],
                "responses": {
                    "200": _list_of("deliveries", REF + "WebhookDeliveryLog", "Newest first"),
                    **_problems(400, 404),
                },
            },
        },
    }
