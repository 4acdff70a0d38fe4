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

from tests.conftest import MODELS_DIR
from tests.helpers import ROOT

SCRIPT = r"""
import asyncio, gc, json, threading
from dashboard.app import App
from pipeline.api.handlers import shared_app
from pipeline.api.stream import JobHub
from pipeline.server.context import server_context
from pipeline.live import ChangeFollower
from pipeline.profiles.retrieval.index import PassageIndex
from pipeline.service.paperline import Paperline

pages = [App(), App()]  # two sessions
api = shared_app()
loop, queue = asyncio.new_event_loop(), asyncio.Queue()
hub = server_context().part(JobHub)
assert server_context().part(JobHub) is hub, "one hub per process"
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
    env["PAPERLINE_MODELS_DIR"] = str(MODELS_DIR)
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


# The model's load is held at a gate, so what happens while it runs is seen, not raced: the server's start (the
# server plugin's import, then the context) returns while the load waits; a search that comes meanwhile waits for
# that load; once the gate opens both have the one model, made once.
LOAD_SCRIPT = r"""
import json, threading, time
from pipeline.profiles.retrieval import embedding

loads, gate = [], threading.Event()
Real = embedding.Embedder

class Gated(Real):
    def __init__(self, *args, **kwargs):
        loads.append(threading.current_thread().name)
        assert gate.wait(120)
        super().__init__(*args, **kwargs)

embedding.Embedder = Gated

def loading():  # until the background load is inside the model's construction (bounded: 120 s)
    for _ in range(1200):
        if loads:
            return
        time.sleep(0.1)

def start():
    import dashboard.server  # what `paperline serve` imports as it starts
    from pipeline.server.context import server_context
    loading()  # the context is made while the load holds the model's lock
    server_context()

starting = threading.Thread(target=start)
starting.start()
starting.join(120)
start_returned_during_load = not starting.is_alive() and not gate.is_set()
loading()
got = []
searching = threading.Thread(target=lambda: got.append(embedding.get_embedder()))  # what a search calls first
searching.start()
searching.join(1.0)
search_waited = searching.is_alive()
gate.set()
searching.join(120)
embedding._loading.join(120)
print(json.dumps({
    "start_returned_during_load": start_returned_during_load,
    "search_waited_for_the_load": search_waited,
    "loads": loads,
    "search_got_the_loaded_model": len(got) == 1 and got[0] is embedding._embedder and got[0] is not None,
}))
"""


def test_the_server_loads_the_model_once_in_the_background_and_a_first_search_waits_for_that_load(
    tmp_path: Path,
) -> None:
    env = {"PAPERLINE_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    env["PAPERLINE_MODELS_DIR"] = str(MODELS_DIR)
    done = subprocess.run(
        [sys.executable, "-c", LOAD_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "start_returned_during_load": True,
        "search_waited_for_the_load": True,
        "loads": ["paperline-embedder-load"],
        "search_got_the_loaded_model": True,
    }
