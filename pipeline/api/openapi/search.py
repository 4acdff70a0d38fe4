"""Search and ask in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pipeline.api.limits import MAX_QUERY_CHARS, SEARCH_TOP
from pipeline.api.openapi.common import NOT_BLANK, PROBLEM, RETRY_AFTER, problems
from pipeline.profiles.retrieval.ranking import SearchMode
from pipeline.service.ask import MAX_QUESTION_CHARS

ASK_SSE_EVENT = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "enum": ["text", "citation", "note", "end", "error"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
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
                **problems(400, 413, 503),
                "429": {
                    "description": "The daily budget is spent (code ask_budget_reached), or too many of your answers "
                    "are under way (code ask_busy, with Retry-After)",
                    "headers": {"Retry-After": RETRY_AFTER},
                    "content": PROBLEM,
                },
            },
        }
    }


def search_path() -> dict[str, Any]:
    """``GET /search``: passages of retrieval jobs by meaning and words."""
    return {
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
                **problems(400),
                "503": {
                    "description": "Search cannot run here (no embedding model installed), or a store is down",
                    "content": PROBLEM,
                },
            },
        }
    }
