"""The house's floor plan, checked: each room of ``pipeline/`` imports only the rooms below it, no import circle
of any kind (type-only and function-level imports count), and the dashboard and the API reach the job store
only through the service. Module size is a soft notice, not a rule: a module is split when a second concept
moves in, not when it passes a line count.
"""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import pytest

from tests.helpers import ROOT

PACKAGES = ("pipeline", "dashboard")
# The rooms of pipeline/, lowest first. A room may import its own modules and any room of an earlier layer; rooms
# of one layer do not import each other. ``pipeline`` itself (its lazy exports) and ``pipeline.__main__`` sit on
# top, the dashboard above everything.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("tables",),  # a document's tables as data (numbers, frames, workbooks): pure, so the HTTP client uses it too
    ("core", "client"),  # vocabulary: snapshots, lifecycle, messages, errors, settings; the HTTP client stands alone
    ("store",),  # the job database
    ("files",),  # blobs: storage, a job's files, retention
    ("documents",),  # reading bytes
    ("engines",),  # a chunk's page text
    ("profiles",),  # what each profile adds
    ("jobs",),  # a job's steps, no Huey
    ("webhooks",),  # signed deliveries to receivers, from the store's outbox
    ("worker",),  # running the steps
    ("insight",),  # what the history tells
    ("service",),  # the Python API
    ("live",),  # the store's changes, one follower per process
    ("server",),  # the web server's edge and its one context
    ("api", "cli"),  # programs and people at a terminal
)
LAYER_OF = {room: depth for depth, rooms in enumerate(LAYERS) for room in rooms}
TOP = ("pipeline", "__main__")
# Reaching the job store's data is the service's job: these never import the store, nor call a store's methods.
THROUGH_THE_SERVICE = ("dashboard", "pipeline.api")
SIZE_NOTICE_LINES = 450


class SizeNotice(UserWarning):
    """A module has grown long: worth a look whether a second concept moved in."""


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(name: str, path: Path) -> set[str]:
    """Absolute names of everything a module imports anywhere: at the top, in functions and under
    ``TYPE_CHECKING`` (a type-only import is still a dependency a reader has to follow)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def room(name: str) -> str:
    parts = name.split(".")
    if parts[0] == "dashboard":
        return "dashboard"
    return parts[1] if len(parts) > 1 else "pipeline"


def internal_imports() -> dict[str, set[str]]:
    found = modules()
    return {name: {m for m in imports(name, path) if m in found and m != name} for name, path in found.items()}


def test_pipeline_never_imports_the_dashboard_libraries() -> None:
    for name, path in modules().items():
        if name.startswith("pipeline"):
            roots = {imported.split(".")[0] for imported in imports(name, path)}
            assert not roots & {"panel", "param", "bokeh", "dashboard"}, name


def test_every_room_of_pipeline_is_on_the_floor_plan() -> None:
    rooms = {room(name) for name in modules() if name.startswith("pipeline.")}
    assert rooms - set(LAYER_OF) - set(TOP) == set(), "a new folder in pipeline/: give it its layer in LAYERS"


def test_rooms_import_only_the_rooms_below_them() -> None:
    wrong = []
    for name, deps in internal_imports().items():
        here = room(name)
        if here in TOP or here == "dashboard":
            continue
        for dep in deps:
            there = room(dep)
            if there == "dashboard" or (there != here and (there in TOP or LAYER_OF[there] >= LAYER_OF[here])):
                wrong.append(f"{name} -> {dep}")
    assert sorted(wrong) == []


def test_the_dashboard_and_the_api_reach_the_store_only_through_the_service() -> None:
    for name, path in modules().items():
        if not name.startswith(THROUGH_THE_SERVICE):
            continue
        roots = {imported.split(".")[0] for imported in imports(name, path)}
        assert not roots & {"sqlite3", "psycopg", "psycopg_pool"}, name
        assert not any(m == "pipeline.store" or m.startswith("pipeline.store.") for m in imports(name, path)), name
        # A call through a ``.store`` attribute (``app.store.list_events(...)``, ``feed.app.store``) is the store
        # reached around the service, whatever the import lines say.
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "store":
                pytest.fail(f"{name}:{node.lineno} reaches a store directly: {ast.unparse(node)}")


def test_the_dashboard_touches_no_file() -> None:
    for name, path in modules().items():
        if name.startswith("dashboard"):
            assert "shutil" not in {imported.split(".")[0] for imported in imports(name, path)}, name
            source = path.read_text()
            for call in ("open(", ".read_text(", ".read_bytes(", ".write_text(", ".write_bytes(", ".unlink("):
                assert call not in source, f"{name} calls {call}"


def test_no_import_circle_of_any_kind() -> None:
    # A package's __init__ importing its own submodules is how packages work; any other cycle is a circle.
    graph = {name: {m for m in deps if not m.startswith(name + ".")} for name, deps in internal_imports().items()}
    state: dict[str, int] = {}
    circles: list[list[str]] = []

    def walk(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                circles.append([*trail[trail.index(nxt) :], nxt])
            elif nxt not in state:
                walk(nxt, [*trail, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            walk(name, [name])
    assert circles == []


def test_the_circle_check_sees_type_only_and_function_level_imports(tmp_path: Path) -> None:
    module = tmp_path / "mod.py"
    module.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pipeline.jobs import steps\n"
        "def late():\n    from pipeline.worker import tasks\n"
    )
    assert {"pipeline.jobs.steps", "pipeline.worker.tasks"} <= imports("pipeline.x.mod", module)


@pytest.mark.filterwarnings("default::tests.unit.test_layout.SizeNotice")
def test_long_modules_get_a_notice() -> None:
    for name, path in modules().items():
        lines = len(path.read_text().splitlines())
        if lines > SIZE_NOTICE_LINES:
            warnings.warn(f"{name} has {lines} lines: has a second concept moved in?", SizeNotice, stacklevel=1)
