"""The API's OpenAPI 3.1 document, built from the same models the handlers answer with, so it cannot drift.

The Job, Chunk, Event, SearchHit, Answer and Citation schemas (and the enums they use) are pydantic's JSON Schema of
those dataclasses' type hints, plus the extra members their ``to_dict`` adds; the paths list what ``routes.py``
serves, with every status each handler can answer (``ANY_REQUEST`` and ``ANY_CHANGE``: what every handler's
``prepare`` can), and the engines, profiles and formats a request may name come from their registries (plug-ins
included). The document is meant for generators too: each operation has an ``operationId``, files are ``format:
binary``, and links lead from an answer to the operations on what it names (Schemathesis follows them).

One module per resource: ``jobs``, ``batches``, ``search`` (and ask), ``webhooks``; ``common`` holds what they share
(the Problem answer, the answers every handler can give, the models' schemas, links).
"""

from __future__ import annotations

import copy
from typing import Any

from pipeline.api.openapi.batches import BATCH, batch_paths
from pipeline.api.openapi.common import PROBLEM, RETRY_AFTER, declare_every_answer, model_schemas
from pipeline.api.openapi.jobs import FLAGS, job_paths
from pipeline.api.openapi.search import ask_path, search_path
from pipeline.api.openapi.webhooks import webhook_messages, webhook_paths, webhook_schemas
from pipeline.core.models import Chunk, Event, Job
from pipeline.profiles.retrieval.index import SearchHit
from pipeline.service.ask import Answer, Citation

__all__ = ["FLAGS", "openapi_document"]

HEALTH: dict[str, Any] = {
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
                "headers": {"Retry-After": RETRY_AFTER},
                "content": {"application/json": {"schema": {"type": "object"}}, **PROBLEM},
            },
        },
    }
}


def openapi_document(prefix: str) -> dict[str, Any]:
    job = "#/components/schemas/Job"
    paths: dict[str, Any] = {"/health": copy.deepcopy(HEALTH), **job_paths()}
    paths |= {"/search": search_path(), "/ask": ask_path()}
    paths |= webhook_paths()
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
