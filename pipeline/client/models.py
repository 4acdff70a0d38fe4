"""What the API answers, typed: a job, a search hit. Each keeps the whole answer in ``data`` too, so a field a
newer server adds is there before this client names it."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

FINAL_STATUSES = frozenset({"completed", "failed", "canceled"})


def _known(cls: Any, data: dict[str, Any]) -> Any:
    """The dataclass ``cls`` from an answer: the fields it names, and the whole answer as ``data``."""
    names = {f.name for f in fields(cls)} - {"data"}
    return cls(**{k: v for k, v in data.items() if k in names}, data=data)


@dataclass(frozen=True)
class RemoteJob:
    """A job as the server last told it (``GET /jobs/{id}``)."""

    id: str
    filename: str = ""
    status: str = "queued"
    stage: str = ""
    progress: float = 0.0
    message: str = ""
    profile: str = ""
    engine: str = ""
    pages: int = 0
    pages_done: int = 0
    chunks_total: int = 0
    chunks_done: int = 0
    chunks_failed: int = 0
    created_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    error: str = ""
    notes: list[str] = field(default_factory=list)
    cost_usd: float = 0.0
    duration_s: float | None = None
    data: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RemoteJob:
        return _known(cls, data)

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def ok(self) -> bool:
        return self.status == "completed"


@dataclass(frozen=True)
class SearchHit:
    """A passage that answers a query: its job, file, pages, the headings above it, its text and score."""

    job_id: str
    filename: str = ""
    passage: int = 0
    page: int | None = None
    pages: list[int] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    start: int = 0
    end: int = 0
    text: str = ""
    score: float = 0.0
    data: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchHit:
        return _known(cls, data)
