"""Paperline's engine: job store, chunk planning, PDF/image extraction, Huey tasks and the Python API.

Never imports Panel, so it runs unchanged in the worker, notebooks and tests. The names below load on first use
(PEP 562), so a light entry point such as the intake inspector (``pipeline.documents.inspection``, a subprocess
per upload) does not pay for the service, the store and the queue it never uses.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.core.models import Chunk, ChunkStatus, Event, Job, JobStatus, Stage
    from pipeline.core.settings import Settings
    from pipeline.service.paperline import Paperline

__all__ = ["Chunk", "ChunkStatus", "Event", "Job", "JobStatus", "Paperline", "Settings", "Stage"]
_HOMES = {
    "Settings": ".core.settings",
    "Paperline": ".service.paperline",
    **dict.fromkeys(("Chunk", "ChunkStatus", "Event", "Job", "JobStatus", "Stage"), ".core.models"),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home, __name__), name)
    globals()[name] = value
    return value
