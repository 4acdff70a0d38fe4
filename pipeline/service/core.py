"""What every part of ``Paperline`` stands on: settings, the job store, file storage, the queue and the job's steps
bound to it (bound on first use), and whose jobs a user may see."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Self

from pipeline.core.settings import Settings
from pipeline.files.storage import open_storage
from pipeline.service.users import (
    is_admin,
    owner_scope,
    signed_in_user,
)
from pipeline.store import JobStore, open_store

if TYPE_CHECKING:  # (for types only: each is imported where first used, so a short command stays fast)
    from huey import Huey

    from pipeline.service.page_images import PageImageCache
    from pipeline.service.search import PassageSearch
    from pipeline.worker.tasks import BoundTasks


def new_job_id() -> str:
    return os.urandom(6).hex()  # 48 random bits, as the first 12 hex digits of a uuid4 (without importing uuid)


class ServiceCore:
    """The service's parts and who may see what; ``Paperline`` is this and its concepts (``pipeline.service``)."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        store: JobStore | None = None,
        queue: Huey | None = None,
        count_statements: bool = True,
    ) -> None:
        """``count_statements``: the store's statements in this process's Prometheus counter (a short command,
        which no one scrapes, leaves it off)."""
        self.settings = settings or Settings.from_env()
        self.settings.home.mkdir(parents=True, exist_ok=True)
        self.store = store or open_store(self.settings, count_statements=count_statements)
        self.storage = open_storage(self.settings)
        self._passage_search: PassageSearch | None = None
        self._passage_search_lock = threading.Lock()
        self._queue = queue
        self._tasks: BoundTasks | None = None
        self._page_images: PageImageCache | None = None

    @property
    def tasks(self) -> BoundTasks:
        """The job's steps bound to this queue; bound on first use, so commands that only read (``paperline
        status``) never import Huey or the extraction engines. ``warm()`` binds them ahead of the first upload."""
        if self._tasks is None:
            from pipeline.jobs.steps import Processor
            from pipeline.worker.tasks import bind_tasks

            self._tasks = bind_tasks(self.queue, lambda bound: Processor(self.settings, self.store, bound))
        return self._tasks

    def warm(self) -> Self:
        """Load what submitting needs (queue, tasks, document readers) now, so the first upload acknowledges as
        fast as the rest: for long-running processes such as the dashboard. Documents are opened by the intake
        inspector's subprocess, never here; Pillow's bomb limit is still set from the pixel budget, for any image
        this process decodes."""
        from pipeline.documents import inspection  # noqa: F401
        from pipeline.documents.images import apply_pixel_budget

        apply_pixel_budget(self.settings.max_image_pixels)
        _ = self.tasks
        return self

    @property
    def queue(self) -> Huey:
        if self._queue is None:
            from huey_config import make_huey

            self._queue = make_huey(self.settings)
        return self._queue

    def close(self) -> None:
        self.store.close()

    def is_admin(self, user: str) -> bool:
        return is_admin(self.settings, user)

    def owner_scope(self, user: str) -> str | None:
        """Whose jobs ``user`` may see and act on (see ``pipeline.service.users``)."""
        return owner_scope(self.settings, user)

    def sign_in(self, name: str | None) -> str:
        """The user a sign-in names, checked (``UserRefused`` for a reserved or no longer allowed name)."""
        return signed_in_user(self.settings, name)
