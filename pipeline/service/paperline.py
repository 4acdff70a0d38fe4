"""``Paperline``: the Python API the CLI, the dashboard, the HTTP API and notebooks share.

It acknowledges a document at once (validate, store, enqueue) and reads jobs, chunks, events and results back. Each
concept is a module of its own, and ``Paperline`` is all of them on one store:

- ``core``: settings, store, storage, queue and the job's steps; whose jobs a user may see
- ``job_reading``: jobs, chunks, events, changes, workers, queue health, waiting
- ``job_results``: results in each format, tables, page images, the original upload
- ``job_actions``: submit, cancel, delete, retry
- ``insight``: ETA, notebooks' frames, costs
- ``batch_actions``: batches submitted, followed, canceled, retried and downloaded as one
- ``access``: API tokens and webhooks
- ``answers``: search and ask
"""

from __future__ import annotations

from pipeline.service.access import Access
from pipeline.service.answers import Answers
from pipeline.service.batch_actions import BatchActions
from pipeline.service.job_reading import QueueHealth
from pipeline.service.users import LOCAL_USER

__all__ = ["LOCAL_USER", "Paperline", "QueueHealth"]


class Paperline(BatchActions, Access, Answers):
    """Submit documents and read their jobs; one instance per process is enough."""
