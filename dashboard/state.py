"""Per-session state: who is looking, what they selected, and the feed updates they receive."""

from __future__ import annotations

from typing import Any

import param
from param.parameters import NoNone

from pipeline import Job, Paperline
from pipeline.engines import ENGINES
from pipeline.profiles.registry import DEFAULT_PROFILE, engine_profiles, get_profile
from pipeline.service.users import LOCAL_USER

from .feed import JobFeed, Update


class SessionState(param.Parameterized):
    """State shared by one browser session's views; the feed's updates arrive here as ``update`` events."""

    # allow_None=NoNone: typed as never None (it is always given), the same parameter at run time as without it.
    # The views' ``state`` (and a card's ``job``) are declared so too.
    feed = param.ClassSelector(class_=JobFeed, allow_None=NoNone, doc="The process's shared feed.")
    user = param.String(default=LOCAL_USER, doc="The signed-in user, or 'local' where no one signs in.")
    engine: param.Selector[str] = param.Selector(
        objects=list(ENGINES), default="local", doc="Extraction engine for new uploads."
    )
    profile: param.Selector[str] = param.Selector(
        objects=[DEFAULT_PROFILE], default=DEFAULT_PROFILE, doc="Profile for uploads."
    )
    instruction = param.String(default="", doc="What to extract, for Claude's custom profile.")
    priority = param.Integer(default=0, bounds=(0, 10), doc="Queue priority of new uploads: higher goes first.")
    selected_job = param.String(default="", doc="Job shown in the result viewer.")
    selected_page = param.Integer(default=0, doc="Page of the selected job to show first (0: none).")
    selected_mark = param.String(default="", doc="Text to mark on that page (a cited passage; empty: none).")
    tab = param.String(default="", doc="Title of the tab on screen: hidden views may defer their work.")
    update = param.ClassSelector(class_=Update, default=Update(), doc="The latest batch of changes from the feed.")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._token: int | None = None
        self._profiles_for_engine()  # the registry's, plug-ins included, as they are when the session opens

    @param.depends("engine", watch=True)
    def _profiles_for_engine(self) -> None:
        offered = list(engine_profiles(self.engine))
        self.param.profile.objects = offered
        if self.profile not in offered:
            self.profile = offered[0]

    def open_result(self, job_id: str, page: int = 0, mark: str = "") -> None:
        """Show a job's result (at ``page`` when given, with ``mark`` marked on it) in the Result tab."""
        with param.parameterized.batch_call_watchers(self):
            self.selected_mark = mark
            self.selected_page = page
            self.selected_job = job_id

    @property
    def needs_instruction(self) -> bool:
        """Whether the chosen profile asks the analyst what to extract."""
        return get_profile(self.profile).needs_instruction

    @property
    def app(self) -> Paperline:
        return self.feed.app

    @property
    def owner_filter(self) -> str | None:
        """Only this user's jobs when signed in; every job for an admin and for the single local analyst."""
        return self.app.owner_scope(self.user)

    @property
    def is_admin(self) -> bool:
        return self.app.is_admin(self.user)

    def visible(self, job: Job) -> bool:
        return self.owner_filter is None or job.user == self.owner_filter

    def jobs(self) -> list[Job]:
        """This session's jobs, newest first: sorted once per store revision for every session of the scope."""
        owner = self.owner_filter
        return self.feed.shared(("jobs", owner), lambda: self.feed.jobs_for(owner))

    def connect(self) -> None:
        """Start receiving the feed's updates (call once the session's document exists)."""
        if self._token is None:
            self._token = self.feed.subscribe(self._receive)

    def disconnect(self) -> None:
        if self._token is not None:
            self.feed.unsubscribe(self._token)
            self._token = None

    def _receive(self, update: Update) -> None:
        visible = Update(
            jobs=[j for j in update.jobs if self.visible(j)],
            chunks=[
                c for c in update.chunks if c.job_id not in self.feed.jobs or self.visible(self.feed.jobs[c.job_id])
            ],
            health_changed=update.health_changed,
            analytics_changed=update.analytics_changed,
        )
        if visible:
            self.update = visible
