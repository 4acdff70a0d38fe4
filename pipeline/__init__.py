"""Paperline's engine: job store, chunk planning, PDF/image extraction, Huey tasks and the Python API.

Never imports Panel, so it runs unchanged in the worker, notebooks and tests.
"""

from .config import Settings
from .models import Chunk, ChunkStatus, Event, Job, JobStatus, Stage
from .service import Paperline

__all__ = ["Chunk", "ChunkStatus", "Event", "Job", "JobStatus", "Paperline", "Settings", "Stage"]
