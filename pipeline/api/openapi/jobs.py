"""The job routes of the OpenAPI document."""

from __future__ import annotations

import copy
from typing import Any

from pipeline.api.limits import PAGE_LIMIT, PAGE_WIDTH
from pipeline.api.openapi.common import (
    BATCH_OPERATIONS,
    BINARY,
    JOB_OPERATIONS,
    PROBLEM,
    REF,
    answer_json,
    answer_list,
    choices,
    links,
    problems,
)
from pipeline.documents.page_images import IMAGE_FORMATS
from pipeline.files.jobfiles import FORMAT_FILES, is_text_format

SSE_EVENT = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "enum": ["job-event", "chunk", "progress", "end"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
        "id": {"type": "string"},
    },
}

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
                **problems(400, 404, 422),
            },
        },
    }


def job_paths() -> dict[str, Any]:
    """The job routes: list, submit, one job, its chunks, events, stream, result, source, page images, cancel
    and retry (``pipeline.api.handlers``, ``uploads``, ``stream``, ``pages``)."""
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
                "responses": {"200": JOB_PAGE, **problems(400, 403, 404)},
            },
            "post": {
                "operationId": "submit",
                "summary": "Submit documents (multipart files, or a raw body with ?filename=)",
                "description": "A request the schema allows can still be refused: bytes that are no document "
                "(415, 422), too large (413), over the user's limits (429), an engine that cannot run here or a "
                "profile it does not offer, or the custom profile without an instruction (400), a callback_url "
                "no receiver may have (422, as POST /webhooks answers it). A refusal of documents answers the jobs "
                "recorded for them.",
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
                    **problems(400, 409, 413, 415, 422, 429),  # 409: its batch was canceled meanwhile
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
                "responses": {"200": answer_json(job, "The job"), **problems(404)},
            },
            "delete": {
                "operationId": "delete_job",
                "summary": "Delete an ended job's files; its history stays",
                "description": "By design only the files go: the job, its chunks and its events still answer 200 "
                "(marked with purged_at); its result and source answer 410 Gone. Deleting again answers the job.",
                "responses": {"200": answer_json(job, "The job, marked"), **problems(404, 409)},
            },
        },
        "/jobs/{job_id}/chunks": {
            "parameters": [job_id],
            "get": {
                "operationId": "job_chunks",
                "summary": "The job's chunks (kept after its files are deleted)",
                "responses": {
                    "200": answer_list("chunks", "#/components/schemas/Chunk", "Its chunks"),
                    **problems(404),
                },
            },
        },
        "/jobs/{job_id}/events": {
            "parameters": [job_id],
            "get": {
                "operationId": "job_events",
                "summary": "The job's audit trail (kept after its files are deleted)",
                "responses": {
                    "200": answer_list("events", "#/components/schemas/Event", "Its events, in order"),
                    **problems(404),
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
                    **problems(404),
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
                    **problems(400, 404, 422),
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
                    **problems(404),
                },
            },
        },
        "/jobs/{job_id}/pages/{page}/image": page_image_path(job_id),
    }
    for action, summary in (
        ("cancel", "Stop a queued or running job"),
        ("retry", "Rerun a failed job's failed chunks, or a canceled job from where it stopped"),
    ):
        paths[f"/jobs/{{job_id}}/{action}"] = {
            "parameters": [job_id],
            "post": {
                "operationId": f"{action}_job",
                "summary": summary,
                "responses": {"200": answer_json(job, "The job"), **problems(403, 404, 409)},
            },
        }
    return paths
