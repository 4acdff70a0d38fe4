"""One server context per process: the dashboard's feed and the HTTP API share one ``Paperline`` (one pool, one
passage index) and one follower of the store's changes.

Counted in a fresh interpreter, so nothing another test made can hide a second copy or stand in for the first:
the page (``dashboard.app.App``, as ``panel serve`` builds it per session), the API's handlers and an open event
stream each take what they need the way the server does, both search once, then every live ``Paperline``,
``ChangeFollower`` and ``PassageIndex`` object and every following thread in the process is counted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT

SCRIPT = r"""
import asyncio, gc, json, threading
from dashboard.app import App
from pipeline.api.handlers import shared_app
from pipeline.api.stream import shared_hub
from pipeline.live import ChangeFollower
from pipeline.profiles.retrieval.index import PassageIndex
from pipeline.service.paperline import Paperline

pages = [App(), App()]  # two sessions
api = shared_app()
loop, queue = asyncio.new_event_loop(), asyncio.Queue()
hub = shared_hub()
hub.subscribe("no-such-job", loop, queue)  # an open event stream
api.search("anything")  # the API's search
pages[0].feed.app.search("anything")  # the page's search
pages[0].feed.refresh()
gc.collect()
count = lambda kind: sum(1 for o in gc.get_objects() if isinstance(o, kind))
print(json.dumps({
    "paperlines": count(Paperline),
    "followers": count(ChangeFollower),
    "passage_indexes": count(PassageIndex),
    "following_threads": sum(t.name == "paperline-follower" for t in threading.enumerate()),
    "same_app": pages[0].feed.app is api and pages[1].feed.app is api,
    "same_follower": pages[0].feed.follower is hub.follower,
    "hub_told": hub._listening is not None,
}))
"""


def test_the_page_and_the_api_share_one_paperline_one_follower_and_one_passage_index(tmp_path: Path) -> None:
    env = {"PAPERLINE_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts == {
        "paperlines": 1,
        "followers": 1,
        "passage_indexes": 1,
        "following_threads": 1,
        "same_app": True,
        "same_follower": True,
        "hub_told": True,
    }
