"""Every profile by name: the built-in ones, and plug-ins that register their own.

A plug-in is a module that calls ``register(Profile(...))`` when imported, named in ``PAPERLINE_PLUGINS``
(comma-separated modules) or published by an installed package under the ``paperline.plugins`` entry-point group
(datasette's way). Every process that loads the registry (worker, server, CLI, notebook) loads the same plug-ins,
so a profile submitted on the page is rendered by the worker the same way.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Sequence
from typing import Any

from pipeline.core.errors import InvalidRequest
from pipeline.core.models import PageText
from pipeline.core.settings import Settings
from pipeline.profiles.base import Profile
from pipeline.profiles.markdown import MARKDOWN
from pipeline.profiles.presets import CUSTOM, TABLES, TIMETABLE
from pipeline.profiles.retrieval.profile import RETRIEVAL
from pipeline.profiles.sentences import SENTENCES
from pipeline.profiles.text import TEXT

BUILT_IN = (TEXT, MARKDOWN, SENTENCES, TABLES, TIMETABLE, CUSTOM, RETRIEVAL)
DEFAULT_PROFILE = TEXT.name
ENTRY_POINT_GROUP = "paperline.plugins"

_profiles: dict[str, Profile] = {profile.name: profile for profile in BUILT_IN}
_plugins_loaded = False
_lock = threading.RLock()


def register(profile: Profile) -> Profile:
    """Add (or replace, by name) a profile; returns it, so a plug-in can write ``TOY = register(Profile(...))``."""
    from pipeline.files.jobfiles import FORMAT_FILES

    unknown = [fmt for fmt in profile.formats if fmt not in FORMAT_FILES]
    if unknown:
        raise ValueError(f"profile {profile.name!r} writes unregistered formats {unknown}: register_format first")
    with _lock:
        _profiles[profile.name] = profile
    return profile


def load_plugins(settings: Settings | None = None) -> None:
    """Import the plug-ins this installation names (once per process)."""
    global _plugins_loaded
    with _lock:
        if _plugins_loaded:
            return
        _plugins_loaded = True
        for module in (settings or Settings.from_env()).plugins:
            importlib.import_module(module)
        from importlib.metadata import entry_points  # ~0.1 s to import and scan: only when plug-ins are asked for

        for point in entry_points(group=ENTRY_POINT_GROUP):
            point.load()


def profiles() -> dict[str, Profile]:
    """Every profile by name, built-in ones first, in the order engines offer them."""
    load_plugins()
    with _lock:
        return dict(_profiles)


def get_profile(name: str) -> Profile:
    """The profile called ``name`` (``InvalidRequest`` naming the known ones when there is none)."""
    found = profiles().get(name)
    if found is None:
        raise InvalidRequest(f"Unknown profile {name!r}; choose one of: {', '.join(profiles())}")
    return found


def find_profile(name: str) -> Profile | None:
    """The profile called ``name``, or None: for reading jobs made by a profile no longer installed. A name already
    registered is answered without looking for plug-ins (a short command reading a job of a built-in profile skips
    the scan); a worker loads every plug-in when it starts, and listing profiles loads them, so a plug-in that
    replaces a built-in profile is the one used wherever jobs are made and rendered."""
    with _lock:
        found = _profiles.get(name)
    return found if found is not None else profiles().get(name)


def engine_profiles(engine: str) -> tuple[str, ...]:
    """The profiles an engine offers, its default first."""
    return tuple(name for name, profile in profiles().items() if engine in profile.engines)


def is_indexed(name: str) -> bool:
    """Whether jobs of this profile go on to embedding and indexing after merging (False for an unknown one)."""
    found = find_profile(name)
    return found is not None and found.indexed


def default_profile(engine: str) -> str:
    offered = engine_profiles(engine)
    return offered[0] if offered else DEFAULT_PROFILE


def render_results(pages: Sequence[PageText], profile: str, *, title: str, document: dict[str, Any]) -> dict[str, str]:
    """Every file the profile writes, keyed by format name."""
    found = find_profile(profile)
    if found is None:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(profiles())}")
    return found.render(pages, title, document)
