"""A toy profile, ``shout``: every page's text upper-cased, in a format of its own. It lives in the test suite and
reaches Paperline only through ``PAPERLINE_PLUGINS=tests.plugins.toy_profile``, as a team's plug-in would."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pipeline.core.models import PageText
from pipeline.files.jobfiles import register_format
from pipeline.profiles.base import Profile
from pipeline.profiles.registry import register


def render(pages: Sequence[PageText], title: str, document: dict[str, Any]) -> dict[str, str]:
    shouted = "\n\n".join(page.text.strip().upper() for page in pages) + "\n"
    return {"shout": shouted, "json": json.dumps({"document": document, "profile": "shout", "shouted": shouted})}


register_format("shout", "result.shout.txt", "text/plain")
SHOUT = register(
    Profile(
        name="shout",
        description="every page in capitals (a plug-in of the tests)",
        engines=("local",),
        formats=("shout", "json"),
        render=render,
    )
)
