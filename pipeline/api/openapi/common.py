"""What every part of the document shares: the Problem answer, the answers every handler can give, schemas of
the models the handlers answer with (pydantic's JSON Schema of their dataclasses), links between operations."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import core_schema

from pipeline.engines import ENGINES
from pipeline.files.jobfiles import FORMAT_FILES
from pipeline.profiles.registry import profiles

REF = "#/components/schemas/"

PROBLEM = {"application/problem+json": {"schema": {"$ref": REF + "Problem"}}}

#: bytes of a file, as OpenAPI 3.1 says it (contentMediaType) and as generators read it (format: binary)
BINARY = {"type": "string", "format": "binary", "contentMediaType": "application/octet-stream"}

RETRY_AFTER = {"description": "Seconds to wait before trying again", "schema": {"type": "integer", "minimum": 1}}

#: what any operation can answer besides its own (``ApiHandler.prepare``, ``problems.problem_for``)
ANY_REQUEST: dict[str, Any] = {
    "401": {
        "description": "No working token: unknown, revoked or expired, or none where the server asks users to sign in",
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
        "content": PROBLEM,
    },
    "429": {"description": "Over the request rate", "headers": {"Retry-After": RETRY_AFTER}, "content": PROBLEM},
    "503": {
        "description": "The job store or the object store cannot be reached now",
        "headers": {"Retry-After": RETRY_AFTER},
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


def answer_json(ref: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}


def answer_list(name: str, ref: str, description: str) -> dict[str, Any]:
    schema = {"type": "object", "properties": {name: {"type": "array", "items": {"$ref": ref}}}, "required": [name]}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def problems(*statuses: int) -> dict[str, Any]:
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
