"""The API's OpenAPI 3.1 document, built from the same models the handlers answer with, so it cannot drift.

The Job, Chunk, Event, SearchHit, Answer and Citation schemas (and the enums they use) are pydantic's JSON Schema of
those dataclasses' type hints, plus the extra members their ``to_dict`` adds; the paths list what ``routes.py``
serves, with every status each handler can answer (``ANY_REQUEST`` and ``ANY_CHANGE``: what every handler's
``prepare`` can), and the engines, profiles and formats a request may name come from their registries (plug-ins
included). The document is meant for generators too: each operation has an ``operationId``, files are ``format:
binary``, and links lead from an answer to the operations on what it names (Schemathesis follows them).
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import core_schema

from pipeline.api.limits import MAX_QUERY_CHARS, PAGE_LIMIT, PAGE_WIDTH, SEARCH_TOP
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
from pipeline.documents.page_images import IMAGE_FORMATS
from pipeline.engines import ENGINES
from pipeline.files.jobfiles import FORMAT_FILES, is_text_format
from pipeline.profiles.registry import profiles
from pipeline.profiles.retrieval.index import SearchHit
from pipeline.profiles.retrieval.ranking import SearchMode
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
#: bytes of a file, as OpenAPI 3.1 says it (contentMediaType) and as generators read it (format: binary)
BINARY = {"type": "string", "format": "binary", "contentMediaType": "application/octet-stream"}
_RETRY_AFTER = {"description": "Seconds to wait before trying again", "schema": {"type": "integer", "minimum": 1}}
#: what any operation can answer besides its own (``ApiHandler.prepare``, ``problems.problem_for``)
ANY_REQUEST: dict[str, Any] = {
    "401": {
        "description": "No working token: unknown, revoked or expired, or none where the server asks users to sign in",
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
        "content": PROBLEM,
    },
    "429": {"description": "Over the request rate", "headers": {"Retry-After": _RETRY_AFTER}, "content": PROBLEM},
    "503": {
        "description": "The job store or the object store cannot be reached now",
        "headers": {"Retry-After": _RETRY_AFTER},
        "content": PROBLEM,
    },
}
#: and what any operation that changes something can: a request from another site's page (its Origin) is refused
ANY_CHANGE: dict[str, Any] = {"403": {"description": "Refused: not allowed to this caller", "content": PROBLEM}}
CHANGING_METHODS = ("post", "put", "patch", "delete")


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


def declare_every_answer(paths: dict[str, Any]) -> dict[str, Any]:
    """Add to each operation the answers every handler can give (``ANY_REQUEST``; ``ANY_CHANGE`` where it changes
    something), beside its own."""
    for item in paths.values():
        for method, operation in item.items():
            if method == "parameters":
                continue
            common = {**ANY_REQUEST, **(ANY_CHANGE if method in CHANGING_METHODS else {})}
            for status, answer in common.items():
                operation["responses"].setdefault(status, answer)
    return paths


def choices() -> tuple[list[str], list[str], list[str]]:
    """The engines, profiles (plug-ins loaded) and result formats a request may name, from their registries."""
    named_profiles = list(profiles())  # loads the plug-ins, which may register formats too
    return list(ENGINES), named_profiles, list(FORMAT_FILES)


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
                    "responses": {"200": _json(batch, "The batch"), **_problems(404)}},
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
                    **_problems(404),
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
            "post": {
                "operationId": f"{action}_batch",
                "summary": summary,
                "responses": {"200": _json(batch, "The batch"), **_problems(403, 404, 409)},
            },
        }
    return paths


#: a form or query flag's values, and what each says (``uploads`` refuses anything else)
FLAGS = {
    "true": True,
    "1": True,
    "yes": True,
    "on": True,
    "false": False,
    "0": False,
    "no": False,
    "off": False,
    "": False,
}
#: a query that is not only spaces or control characters (Python's whitespace, and what Tornado turns into spaces)
NOT_BLANK = r"[^\x00-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
JOB_OPERATIONS = (
    "get_job",
    "delete_job",
    "job_chunks",
    "job_events",
    "job_result",
    "job_source",
    "cancel_job",
    "retry_job",
)
BATCH_OPERATIONS = ("get_batch", "batch_results", "cancel_batch", "retry_batch")
WEBHOOK_OPERATIONS = ("test_webhook", "webhook_deliveries", "remove_webhook")


def links(parameter: str, expression: str, operations: tuple[str, ...]) -> dict[str, Any]:
    """OpenAPI links from an answer to the operations on the thing it names (``expression``: where its id is)."""
    return {operation: {"operationId": operation, "parameters": {parameter: expression}} for operation in operations}


def submit_options() -> dict[str, Any]:
    """What a submit may say besides its files, as multipart fields (the same names are query arguments)."""
    engines, named_profiles, _ = choices()
    return {
        "profile": {
            "type": "string",
            "enum": named_profiles,
            "description": "A profile the engine offers (its default when left out; an empty one is refused)",
        },
        "engine": {"type": "string", "enum": engines, "default": "local", "description": "An empty one is refused"},
        "instruction": {"type": "string", "description": "What to extract: the custom profile needs one"},
        "callback_url": {"type": "string", "format": "uri", "description": "POSTed the job's end, signed"},
        "priority": {"type": "integer", "minimum": 0, "maximum": 10, "default": 0},
        "batch": {"type": "string", "enum": list(FLAGS), "description": "true: one file makes a batch too"},
    }


def page_image_path(job_id: dict[str, Any]) -> dict[str, Any]:
    """``GET /jobs/{id}/pages/{n}/image`` (``pipeline.api.pages``)."""
    image = {"type": "string", "format": "binary"}
    size = {"schema": {"type": "number"}}
    return {
        "parameters": [
            job_id,
            {"name": "page", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}},
        ],
        "get": {
            "operationId": "job_page_image",
            "summary": "One page of the job's document as an image, to draw the JSON result's boxes on",
            "parameters": [
                {
                    "name": "width",
                    "in": "query",
                    "description": "Pixels (a very tall page comes narrower: at most 3 widths high)",
                    "schema": PAGE_WIDTH.schema(),
                },
                {
                    "name": "format",
                    "in": "query",
                    "schema": {"type": "string", "enum": list(IMAGE_FORMATS), "default": "png"},
                },
            ],
            "responses": {
                "200": {
                    "description": "The page drawn from the stored original",
                    "headers": {
                        "X-Page-Width": {
                            "description": "The page's width in the boxes' units (PDF points; an image's pixels)",
                            **size,
                        },
                        "X-Page-Height": {"description": "Its height, the boxes' y rising from the bottom", **size},
                        "X-Page-Count": {"description": "The document's pages", "schema": {"type": "integer"}},
                    },
                    "content": {media: {"schema": image} for media in IMAGE_FORMATS.values()},
                },
                "410": {"description": "Gone: the job's files were deleted (or none was kept)", "content": PROBLEM},
                **_problems(400, 404, 422),
            },
        },
    }


def openapi_document(prefix: str) -> dict[str, Any]:
    job_id = {
        "name": "job_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    job = "#/components/schemas/Job"
    _, _, formats = choices()
    options = submit_options()
    upload_form = {
        "type": "object",
        "properties": {"file": {"type": "array", "minItems": 1, "items": BINARY}, **options},
        "required": ["file"],
    }
    submitted = copy.deepcopy(SUBMITTED)
    submitted["links"] = {
        **links("job_id", "$response.body#/jobs/0/id", JOB_OPERATIONS),
        **links("batch_id", "$response.body#/batch/id", BATCH_OPERATIONS),
    }
    paths: dict[str, Any] = {
        "/health": {
            "get": {
                "operationId": "health",
                "summary": "Store, workers and queue, for load balancers",
                "responses": {
                    "200": {
                        "description": "The store answers",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "503": {
                        "description": "The store cannot be read (or, a problem, the store cannot check the token)",
                        "headers": {"Retry-After": _RETRY_AFTER},
                        "content": {"application/json": {"schema": {"type": "object"}}, **PROBLEM},
                    },
                },
            }
        },
        "/jobs": {
            "get": {
                "operationId": "list_jobs",
                "summary": "Jobs, newest first",
                "parameters": [
                    {"name": "status", "in": "query", "schema": {"$ref": REF + "JobStatus"}},
                    {"name": "name", "in": "query", "schema": {"type": "string"}},
                    {"name": "user", "in": "query", "schema": {"type": "string"}},
                    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": PAGE_LIMIT.schema(),
                    },
                ],
                "responses": {"200": JOB_PAGE, **_problems(400, 403, 404)},
            },
            "post": {
                "operationId": "submit",
                "summary": "Submit documents (multipart files, or a raw body with ?filename=)",
                "description": "A request the schema allows can still be refused: bytes that are no document "
                "(415, 422), too large (413), over the user's limits (429), an engine that cannot run here or a "
                "profile it does not offer, or the custom profile without an instruction (400). A refusal answers "
                "the jobs recorded for the documents refused.",
                "parameters": [
                    {
                        "name": "filename",
                        "in": "query",
                        "schema": {"type": "string"},
                        "description": "The document's name: needed with a raw body",
                    },
                ]
                + [{"name": name, "in": "query", "schema": schema} for name, schema in options.items()],
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {"schema": upload_form},
                        "application/octet-stream": {"schema": BINARY},
                    },
                },
                "responses": {
                    "201": submitted,
                    **_problems(400, 409, 413, 415, 422, 429),  # 409: its batch was canceled meanwhile
                },
            },
        },
        "/jobs/{job_id}": {
            "parameters": [job_id],
            "get": {
                "operationId": "get_job",
                "summary": "One job",
                "description": "A job whose files were deleted is still here (its history is kept; purged_at says "
                "when the files went).",
                "responses": {"200": _json(job, "The job"), **_problems(404)},
            },
            "delete": {
                "operationId": "delete_job",
                "summary": "Delete an ended job's files; its history stays",
                "description": "By design only the files go: the job, its chunks and its events still answer 200 "
                "(marked with purged_at); its result and source answer 410 Gone. Deleting again answers the job.",
                "responses": {"200": _json(job, "The job, marked"), **_problems(404, 409)},
            },
        },
        "/jobs/{job_id}/chunks": {
            "parameters": [job_id],
            "get": {
                "operationId": "job_chunks",
                "summary": "The job's chunks (kept after its files are deleted)",
                "responses": {"200": _list_of("chunks", "#/components/schemas/Chunk", "Its chunks"), **_problems(404)},
            },
        },
        "/jobs/{job_id}/events": {
            "parameters": [job_id],
            "get": {
                "operationId": "job_events",
                "summary": "The job's audit trail (kept after its files are deleted)",
                "responses": {
                    "200": _list_of("events", "#/components/schemas/Event", "Its events, in order"),
                    **_problems(404),
                },
            },
        },
        "/jobs/{job_id}/events/stream": {
            "parameters": [job_id],
            "get": {
                "operationId": "stream_job",
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
                "operationId": "job_result",
                "summary": "The result, as a download",
                "parameters": [
                    {
                        "name": "format",
                        "in": "query",
                        "schema": {"type": "string", "enum": formats},
                        "description": "One the job's profile wrote (its main one when left out), or one made "
                        "from them: xlsx (every table in one Excel workbook, a first sheet naming each table's page "
                        "and caption) wherever it wrote tables",
                    }
                ],
                "responses": {
                    "200": {
                        "description": "The result file, named after the document and the format (report.md, "
                        "report.tables.json, report.xlsx)",
                        "headers": {
                            "Content-Disposition": {
                                "description": "attachment with an ASCII filename= and the exact UTF-8 filename*=",
                                "schema": {"type": "string"},
                            }
                        },
                        "content": {
                            media: {
                                "schema": {"type": "string"}
                                if is_text_format(fmt)
                                else {**BINARY, "contentMediaType": media}
                            }
                            for fmt, (_, media) in FORMAT_FILES.items()
                        },
                    },
                    "409": {"description": "No such result yet (or not for this job's profile)", "content": PROBLEM},
                    "410": {"description": "Gone: the job's files were deleted", "content": PROBLEM},
                    **_problems(400, 404, 422),
                },
            },
        },
        "/jobs/{job_id}/source": {
            "parameters": [job_id],
            "get": {
                "operationId": "job_source",
                "summary": "The original upload",
                "responses": {
                    "200": {
                        "description": "The file",
                        "content": {"application/octet-stream": {"schema": BINARY}},
                    },
                    "410": {"description": "Gone: the job's files were deleted (or none was kept)", "content": PROBLEM},
                    **_problems(404),
                },
            },
        },
        "/jobs/{job_id}/pages/{page}/image": page_image_path(job_id),
    }
    paths["/search"] = {
        "get": {
            "operationId": "search",
            "summary": "Passages that best answer a query (by meaning and words), over your retrieval jobs",
            "parameters": [
                {
                    "name": "q",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_CHARS, "pattern": NOT_BLANK},
                    "description": "Not only spaces",
                },
                {"name": "top", "in": "query", "schema": SEARCH_TOP.schema()},
                {"name": "job", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}},
                {
                    "name": "mode",
                    "in": "query",
                    "description": "hybrid: meaning and words fused by reciprocal rank fusion; semantic: meaning; "
                    "keyword: words and quoted phrases (works without the embedding model)",
                    "schema": {"type": "string", "enum": [m.value for m in SearchMode], "default": "hybrid"},
                },
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
                                    "mode": {"type": "string", "enum": [m.value for m in SearchMode]},
                                    "hits": {"type": "array", "items": {"$ref": "#/components/schemas/SearchHit"}},
                                },
                                "required": ["query", "mode", "hits"],
                            }
                        }
                    },
                },
                **_problems(400),
                "503": {
                    "description": "Search cannot run here (no embedding model installed), or a store is down",
                    "content": PROBLEM,
                },
            },
        }
    }
    paths["/ask"] = ask_path()
    for action, summary in (
        ("cancel", "Stop a queued or running job"),
        ("retry", "Rerun a failed job's failed chunks, or a canceled job from where it stopped"),
    ):
        paths[f"/jobs/{{job_id}}/{action}"] = {
            "parameters": [job_id],
            "post": {
                "operationId": f"{action}_job",
                "summary": summary,
                "responses": {"200": _json(job, "The job"), **_problems(403, 404, 409)},
            },
        }
    paths.update(webhook_paths())
    paths |= batch_paths()
    return {
        "openapi": "3.1.0",
        "info": {"title": "Paperline", "version": "1", "description": "Documents in, text out: jobs over HTTP."},
        "servers": [{"url": prefix}],
        "paths": declare_every_answer(paths),
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
                        "code": {"type": "string", "description": "Paperline's error code (a refusal's reason)"},
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
            "jobs": {
                "type": ["array", "null"],
                "items": {"type": "string"},
                "description": "answer only from these jobs (null or absent: from all the caller's)",
            },
            "no_model": {"type": "boolean", "description": "an extractive answer: quoted sentences, no model"},
        },
        "required": ["question"],
    }
    return {
        "post": {
            "operationId": "ask",
            "summary": "Answer a question from your retrieval jobs' passages, with checked citations",
            "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
            "responses": {
                "200": {
                    "description": "Server-Sent Events: text (data {text}) as the answer is written, then citation "
                    "(a Citation) for each source, note (data {note}), and end (the Answer); error (a Problem) if "
                    "the model fails once the stream is open",
                    "content": {"text/event-stream": {"schema": ASK_SSE_EVENT}},
                },
                **_problems(400, 413, 503),
                "429": {
                    "description": "The daily budget is spent (code ask_budget_reached), or too many of your answers "
                    "are under way (code ask_busy, with Retry-After)",
                    "headers": {"Retry-After": _RETRY_AFTER},
                    "content": PROBLEM,
                },
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
                "operationId": "list_webhooks",
                "summary": "Your webhook subscriptions (an admin's: everyone's)",
                "responses": {"200": _list_of("webhooks", subscription, "Newest first")},
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
                    **_problems(400, 403, 413, 422),
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
                "responses": {"204": {"description": "Removed"}, **_problems(403, 404)},
            },
        },
        "/webhooks/{subscription_id}/test": {
            "parameters": [subscription_id],
            "post": {
                "operationId": "test_webhook",
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
                    "200": _list_of("deliveries", REF + "WebhookDeliveryLog", "Newest first"),
                    **_problems(400, 404, 422),
                },
            },
        },
    }
